/* SPDX-License-Identifier: MIT */
/*
 * Shared harness of the vm tests: a VM over the paging backend whose page
 * table uses the pgtable test harness (recording ops, failure injection,
 * allocation aborting inside commits), objects with fake physical pages, and
 * a check that the tables translate exactly what the VA tree says.
 */
#ifndef GPUVM_TESTS_VM_TEST_H
#define GPUVM_TESTS_VM_TEST_H

#include <gpuvm/gvm.h>
#include <stdio.h>

#include "pt-test.h"

#define VM_TEST_START (1ull << 24)
#define VM_TEST_END (1ull << 40)

/**
 * struct vm_test_obj - an object whose pages sit at fake physical addresses.
 * @obj: the gvm object.
 * @pa: physical address of offset 0.
 * @frag: 0 for physically contiguous; else the object is made of @frag-byte
 *	contiguous pieces, piece i at @pa + 2 * i * @frag (a gap between each).
 * @refs: references gvm holds (get minus put).
 */
struct vm_test_obj {
	struct gvm_obj obj;
	uint64_t pa;
	uint64_t frag;
	long refs;
};

/**
 * struct vm_test_env - a VM under test.
 * @pt: the page table's recording environment (allocations, flushes).
 * @vm: the VM (paging backend over @pt's configuration).
 * @host_fail_at/@host_attempts: fail the N-th allocation of the VM's own
 *	memory (VAs, links, transactions), counting from 1; 0 never.
 * @host_live: the VM's allocations still live.
 */
struct vm_test_env {
	struct pt_test_env pt;
	struct gvm *vm;
	uint64_t host_fail_at, host_attempts;
	long host_live;
};

/* A Mali AArch64 4K VM over [VM_TEST_START, VM_TEST_END) with @nr reserved ranges. */
void vm_test_init(struct vm_test_env *e, const struct gvm_range *reserved, unsigned int nr);
void vm_test_fini(struct vm_test_env *e);

void vm_test_obj_init(struct vm_test_obj *o, uint64_t size, uint64_t pa, uint64_t frag);
void vm_test_obj_fini(struct vm_test_obj *o);

/* The PA a VA object maps @addr to (pages of the object, repeated or not). */
uint64_t vm_test_expected_pa(const struct gvm_va *va, uint64_t addr);

/*
 * Check the tables against the VA tree over [@start, @end): the first, last
 * and @samples random pages of every VA translate to vm_test_expected_pa()
 * with the VA's protections, and the first and last page of every gap (and
 * @samples random ones) do not translate. Returns 0 or -EUCLEAN (reported).
 */
int vm_test_check_tables(struct vm_test_env *e, uint64_t start, uint64_t end, unsigned int samples,
			 uint64_t *seed, FILE *report);

/* Pool pages in use (for leak checks). */
uint64_t vm_test_pages(struct vm_test_env *e);

#endif /* GPUVM_TESTS_VM_TEST_H */
