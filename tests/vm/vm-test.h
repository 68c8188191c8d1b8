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
#include <stdbool.h>
#include <stdio.h>

#include "extent-model.h"
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
/* The same with driver hooks (gvm_cfg.driver, .driver_ctx, .resv_id). */
void vm_test_init_driver(struct vm_test_env *e, const struct gvm_range *reserved, unsigned int nr,
			 const struct gvm_driver_ops *driver, void *driver_ctx, uint64_t resv_id);
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

/*
 * The oracle of the model tests (test-vm-model, fuzz-bind): drm_gpuvm's rules
 * (gvm.h: struct gvm_req, gvm_sm_ops()) applied to the extent model, with
 * the extents' @obj an index in the objects and @pa0 an offset in it.
 */

/**
 * struct vm_test_rules - what a VM of vm_test_init() accepts.
 * @objs: the objects requests may map.
 * @nr_objs: how many.
 * @reserved: the VM's reserved ranges.
 * @nr_reserved: how many.
 * @prots: the protections its paging backend maps; it refuses any other.
 * @nr_prots: how many.
 */
struct vm_test_rules {
	const struct vm_test_obj *objs;
	unsigned int nr_objs;
	const struct gvm_range *reserved;
	unsigned int nr_reserved;
	const uint32_t *prots;
	unsigned int nr_prots;
};

/* The index of @obj in @rules->objs, or -1. */
int vm_test_obj_index(const struct vm_test_rules *rules, const struct gvm_obj *obj);

/* The physical address of offset @off of @o, and the bytes contiguous from there. */
uint64_t vm_test_obj_pa(const struct vm_test_obj *o, uint64_t off, uint64_t *contig);

/* The physical address @va translates to in @x, an extent of vm_test_model_apply(). */
uint64_t vm_test_extent_pa(const struct vm_test_rules *rules, const struct extent *x, uint64_t va);

/*
 * May a request name [@va, @va + @size)? Page aligned, not empty, inside
 * [VM_TEST_START, VM_TEST_END), clear of the reserved ranges.
 */
bool vm_test_range_ok(const struct vm_test_rules *rules, uint64_t va, uint64_t size);

/* Does the VM accept @q on its own (its range, type, object range, protections)? */
bool vm_test_req_ok(const struct vm_test_rules *rules, const struct gvm_req *q);

/*
 * Apply @q to @m as the VM must: a map replaces what it overlaps, an unmap
 * removes it, cut pieces keep their pages. Return false, @m unchanged, when
 * the VM must refuse @q: vm_test_req_ok() says no, or it cuts a repeat VA
 * off its period.
 */
bool vm_test_model_apply(const struct vm_test_rules *rules, struct model *m,
			 const struct gvm_req *q);

#endif /* GPUVM_TESTS_VM_TEST_H */
