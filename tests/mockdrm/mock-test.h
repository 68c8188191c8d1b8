/* SPDX-License-Identifier: MIT */
/*
 * Shared harness of the mock device's effect tests (test-effects.c,
 * test-async.c): a device driven through its direct C API
 * (<gpuvm/mockdrm.h>), BOs with a CPU mapping and a unique pattern per page,
 * VM_BIND ops, and the GPU's view of a VM through GPUVM_IOCTL_MOCK_GPU_ACCESS.
 *
 * Helpers that set a test up assert (fail_msg) on error; helpers that run the
 * operation under test return the ioctl's result so the test can check it.
 */
#ifndef GPUVM_TESTS_MOCK_TEST_H
#define GPUVM_TESTS_MOCK_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/mockdrm.h>
#include <gpuvm/panthor_drm.h>

#include "test-util.h"

#define MT_PAGE ((uint64_t)4096)
#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Access types of FAULTSTATUS[9:8] (mali.md section 1). */
#define MT_READ GPUVM_MOCK_FAULT_ACCESS_READ
#define MT_WRITE GPUVM_MOCK_FAULT_ACCESS_WRITE

/** struct mt_dev - a device with one open render node. */
struct mt_dev {
	struct mockdrm_dev *dev;
	struct mockdrm_file *file;
};

/**
 * struct mt_bo - a BO and its CPU view.
 * @handle: GEM handle.
 * @size: bytes.
 * @cpu: what mmap of the DRM fd at the BO's fake offset maps.
 * @tag: what mt_bo_pattern() wrote, so that mt_page_pattern() can recompute it.
 */
struct mt_bo {
	uint32_t handle;
	uint64_t size;
	uint8_t *cpu;
	uint32_t tag;
};

/**
 * struct mt_access - the outcome of one GPU access.
 * @status: FAULTSTATUS of the first fault (exception | access << 8), 0 if none.
 * @fault_addr: the faulting VA, 0 if none.
 * @done: bytes moved before the fault.
 */
struct mt_access {
	uint32_t status;
	uint64_t fault_addr;
	uint64_t done;
};

/* Device, file, VM. @cfg may be NULL for the defaults. */
void mt_open(struct mt_dev *d, const struct mockdrm_cfg *cfg);
void mt_close(struct mt_dev *d);
uint32_t mt_vm_create(struct mt_dev *d);
uint32_t mt_vm_state(struct mt_dev *d, uint32_t vm);

/* A BO of @size bytes, mapped for the CPU, filled with the pattern of @tag. */
void mt_bo_create(struct mt_dev *d, uint64_t size, uint32_t tag, struct mt_bo *bo);
void mt_bo_destroy(struct mt_dev *d, struct mt_bo *bo);
/* The pattern page @page of a BO tagged @tag holds: unique per (tag, page). */
void mt_page_pattern(uint32_t tag, uint64_t page, void *out);
/* Rewrite page @page of @bo through the CPU with a pattern no page had yet. */
void mt_cpu_scribble(struct mt_bo *bo, uint64_t page);

/* VM_BIND ops (always the 56-byte layout, so that repeat ops can mix in). */
struct gpuvm_vm_bind_op_repeat mt_op_map(const struct mt_bo *bo, uint64_t offset, uint64_t va,
					 uint64_t size, uint32_t flags);
struct gpuvm_vm_bind_op_repeat mt_op_repeat(const struct mt_bo *bo, uint64_t offset, uint64_t range,
					    uint64_t va, uint64_t size, uint32_t flags);
struct gpuvm_vm_bind_op_repeat mt_op_sparse(uint64_t va, uint64_t size, uint32_t flags);
struct gpuvm_vm_bind_op_repeat mt_op_unmap(uint64_t va, uint64_t size);
/* Attach @n sync ops to @op (the array must outlive the bind). */
void mt_op_syncs(struct gpuvm_vm_bind_op_repeat *op, const struct drm_panthor_sync_op *syncs,
		 unsigned int n);
/* One VM_BIND of @n ops; returns the ioctl's result. */
int mt_bind(struct mt_dev *d, uint32_t vm, uint32_t flags,
	    const struct gpuvm_vm_bind_op_repeat *ops, unsigned int n);

/* GPU accesses through the VM's MMU; return the ioctl's result. */
int mt_gpu_read(struct mt_dev *d, uint32_t vm, uint64_t va, void *buf, uint64_t size,
		struct mt_access *res);
int mt_gpu_write(struct mt_dev *d, uint32_t vm, uint64_t va, const void *buf, uint64_t size,
		 struct mt_access *res);
int mt_gpu_fill(struct mt_dev *d, uint32_t vm, uint64_t va, uint8_t byte, uint64_t size,
		struct mt_access *res);

/* FAULTSTATUS values (mali.md section 1). */
uint32_t mt_translation_fault(unsigned int level, unsigned int access);
uint32_t mt_permission_fault(unsigned int level, unsigned int access);

/*
 * Effects that do not need a model: [va, va + size) reads as @expect (page
 * by page, @size bytes), or every page of it faults with a translation fault
 * on READ at that page (at any level: with queued transactions an emptied
 * table may legitimately stay linked until they commit).
 */
void mt_expect_bytes(struct mt_dev *d, uint32_t vm, uint64_t va, const void *expect, uint64_t size,
		     const char *ctx);
void mt_expect_unmapped(struct mt_dev *d, uint32_t vm, uint64_t va, uint64_t size, const char *ctx);
/* Page @page of @bo, as the CPU sees it now, is what the GPU reads at @va. */
void mt_expect_bo_page(struct mt_dev *d, uint32_t vm, uint64_t va, const struct mt_bo *bo,
		       uint64_t page, const char *ctx);

/*
 * The device's MMU counters since the last call (they are reset): no TLB hit
 * may have disagreed with the tables (a missing flush) and no walk may have
 * read a freed table (strict TLB mode, the default).
 */
void mt_expect_no_stale(struct mt_dev *d, const char *ctx);

/* "translation fault L3 on READ" for messages. */
const char *mt_statusname(uint32_t status, char *buf, size_t len);

/* As CHECK_EQ (test-util.h), for a FAULTSTATUS: both values, decoded. */
#define CHECK_STATUS(ctx, got, want)                                                      \
	do {                                                                              \
		uint32_t got_ = (got), want_ = (want);                                    \
		char gbuf_[64], wbuf_[64];                                                \
		if (got_ != want_)                                                        \
			fail_msg("%s: %s = 0x%x (%s), want 0x%x (%s)", (ctx), #got, got_, \
				 mt_statusname(got_, gbuf_, sizeof(gbuf_)), want_,        \
				 mt_statusname(want_, wbuf_, sizeof(wbuf_)));             \
	} while (0)

#endif /* GPUVM_TESTS_MOCK_TEST_H */
