// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <drm.h>

#include "mock-test.h"

#define WORDS_PER_PAGE (MT_PAGE / sizeof(uint64_t))
/* Tags of mt_cpu_scribble() patterns: above every tag a test gives a BO. */
#define SCRIBBLE_TAG 0x80000000u

static uint32_t scribbles;

static int ioctl_or_fail(struct mt_dev *d, unsigned long request, void *arg, const char *what)
{
	int err = mockdrm_ioctl(d->file, request, arg);

	if (err)
		fail_msg("setup: %s returned %s", what, errname(err));
	return err;
}

void mt_open(struct mt_dev *d, const struct mockdrm_cfg *cfg)
{
	int err = mockdrm_dev_create(cfg, &d->dev);

	if (err)
		fail_msg("mockdrm_dev_create: %s", errname(err));
	err = mockdrm_open(d->dev, MOCKDRM_NODE_RENDER, &d->file);
	if (err)
		fail_msg("mockdrm_open: %s", errname(err));
}

void mt_close(struct mt_dev *d)
{
	mockdrm_close(d->file);
	mockdrm_dev_destroy(d->dev);
	d->file = NULL;
	d->dev = NULL;
}

uint32_t mt_vm_create(struct mt_dev *d)
{
	struct drm_panthor_vm_create a = { 0 };

	ioctl_or_fail(d, DRM_IOCTL_PANTHOR_VM_CREATE, &a, "VM_CREATE");
	return a.id;
}

uint32_t mt_vm_state(struct mt_dev *d, uint32_t vm)
{
	struct drm_panthor_vm_get_state a = { .vm_id = vm };

	ioctl_or_fail(d, DRM_IOCTL_PANTHOR_VM_GET_STATE, &a, "VM_GET_STATE");
	return a.state;
}

/* Word 0 names the page outright, so that two pages never hold the same bytes. */
void mt_page_pattern(uint32_t tag, uint64_t page, void *out)
{
	uint64_t *w = out;

	w[0] = (uint64_t)tag << 40 | page;
	for (uint64_t i = 1; i < WORDS_PER_PAGE; i++)
		w[i] = splitmix64(w[0] * WORDS_PER_PAGE + i);
}

void mt_cpu_scribble(struct mt_bo *bo, uint64_t page)
{
	mt_page_pattern(SCRIBBLE_TAG | ++scribbles, page, bo->cpu + page * MT_PAGE);
}

void mt_bo_create(struct mt_dev *d, uint64_t size, uint32_t tag, struct mt_bo *bo)
{
	struct drm_panthor_bo_create c = { .size = size };
	struct drm_panthor_bo_mmap_offset o = { 0 };
	uint64_t fd_offset;
	void *cpu;
	int fd, err;

	ioctl_or_fail(d, DRM_IOCTL_PANTHOR_BO_CREATE, &c, "BO_CREATE");
	o.handle = c.handle;
	ioctl_or_fail(d, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &o, "BO_MMAP_OFFSET");
	err = mockdrm_mmap_lookup(d->file, o.offset, c.size, &fd, &fd_offset);
	if (err)
		fail_msg("setup: mockdrm_mmap_lookup: %s", errname(err));
	cpu = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)fd_offset);
	if (cpu == MAP_FAILED)
		fail_msg("setup: mmap of a BO: %s", strerror(errno));
	*bo = (struct mt_bo){ .handle = c.handle, .size = c.size, .cpu = cpu, .tag = tag };
	for (uint64_t p = 0; p < c.size / MT_PAGE; p++)
		mt_page_pattern(tag, p, bo->cpu + p * MT_PAGE);
}

void mt_bo_destroy(struct mt_dev *d, struct mt_bo *bo)
{
	struct drm_gem_close a = { .handle = bo->handle };

	munmap(bo->cpu, bo->size);
	ioctl_or_fail(d, DRM_IOCTL_GEM_CLOSE, &a, "GEM_CLOSE");
	*bo = (struct mt_bo){ 0 };
}

struct gpuvm_vm_bind_op_repeat mt_op_map(const struct mt_bo *bo, uint64_t offset, uint64_t va,
					 uint64_t size, uint32_t flags)
{
	return (struct gpuvm_vm_bind_op_repeat){
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | flags,
		.bo_handle = bo->handle,
		.bo_offset = offset,
		.va = va,
		.size = size,
	};
}

struct gpuvm_vm_bind_op_repeat mt_op_repeat(const struct mt_bo *bo, uint64_t offset, uint64_t range,
					    uint64_t va, uint64_t size, uint32_t flags)
{
	struct gpuvm_vm_bind_op_repeat op = mt_op_map(bo, offset, va, size, flags);

	op.flags |= GPUVM_VM_BIND_OP_MAP_REPEAT;
	op.bo_repeat_range = range;
	return op;
}

/* Sparse maps are never executable (panthor-uapi.md): NOEXEC is part of the op. */
struct gpuvm_vm_bind_op_repeat mt_op_sparse(uint64_t va, uint64_t size, uint32_t flags)
{
	return (struct gpuvm_vm_bind_op_repeat){
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE |
			 DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC | flags,
		.va = va,
		.size = size,
	};
}

struct gpuvm_vm_bind_op_repeat mt_op_unmap(uint64_t va, uint64_t size)
{
	return (struct gpuvm_vm_bind_op_repeat){
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
		.va = va,
		.size = size,
	};
}

void mt_op_syncs(struct gpuvm_vm_bind_op_repeat *op, const struct drm_panthor_sync_op *syncs,
		 unsigned int n)
{
	op->syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(n, syncs);
}

int mt_bind(struct mt_dev *d, uint32_t vm, uint32_t flags,
	    const struct gpuvm_vm_bind_op_repeat *ops, unsigned int n)
{
	struct drm_panthor_vm_bind a = {
		.vm_id = vm,
		.flags = flags,
		.ops = DRM_PANTHOR_OBJ_ARRAY(n, ops),
	};

	return mockdrm_ioctl(d->file, DRM_IOCTL_PANTHOR_VM_BIND, &a);
}

static int gpu_access(struct mt_dev *d, uint32_t vm, uint32_t op, uint64_t va, uint64_t data,
		      uint64_t size, struct mt_access *res)
{
	struct gpuvm_mock_gpu_access a = {
		.vm_id = vm,
		.op = op,
		.va = va,
		.size = size,
		.data = op == GPUVM_MOCK_GPU_ACCESS_FILL ? 0 : data,
		.fill = op == GPUVM_MOCK_GPU_ACCESS_FILL ? (uint32_t)data : 0,
	};
	int err = mockdrm_ioctl(d->file, GPUVM_IOCTL_MOCK_GPU_ACCESS, &a);

	*res = (struct mt_access){ .status = a.access, .fault_addr = a.fault_addr, .done = a.done };
	return err;
}

int mt_gpu_read(struct mt_dev *d, uint32_t vm, uint64_t va, void *buf, uint64_t size,
		struct mt_access *res)
{
	return gpu_access(d, vm, GPUVM_MOCK_GPU_ACCESS_READ, va, (uint64_t)(uintptr_t)buf, size,
			  res);
}

int mt_gpu_write(struct mt_dev *d, uint32_t vm, uint64_t va, const void *buf, uint64_t size,
		 struct mt_access *res)
{
	return gpu_access(d, vm, GPUVM_MOCK_GPU_ACCESS_WRITE, va, (uint64_t)(uintptr_t)buf, size,
			  res);
}

int mt_gpu_fill(struct mt_dev *d, uint32_t vm, uint64_t va, uint8_t byte, uint64_t size,
		struct mt_access *res)
{
	return gpu_access(d, vm, GPUVM_MOCK_GPU_ACCESS_FILL, va, byte, size, res);
}

uint32_t mt_translation_fault(unsigned int level, unsigned int access)
{
	return GPUVM_MOCK_FAULT_TRANSLATION(level) | access << 8;
}

uint32_t mt_permission_fault(unsigned int level, unsigned int access)
{
	return GPUVM_MOCK_FAULT_PERMISSION(level) | access << 8;
}

/* The first byte where @got and @want differ (they do). */
static uint64_t first_diff(const uint8_t *got, const uint8_t *want, uint64_t size)
{
	uint64_t i = 0;

	while (i < size && got[i] == want[i])
		i++;
	return i;
}

void mt_expect_bytes(struct mt_dev *d, uint32_t vm, uint64_t va, const void *expect, uint64_t size,
		     const char *ctx)
{
	uint8_t *buf = calloc(1, size); /* valgrind does not see process_vm_writev() fill it */
	struct mt_access r;
	uint64_t at;

	assert_non_null(buf);
	CHECK_ERR(ctx, mt_gpu_read(d, vm, va, buf, size, &r), 0);
	CHECK_STATUS(ctx, r.status, 0);
	CHECK_EQ(ctx, r.done, size);
	if (memcmp(buf, expect, size)) {
		at = first_diff(buf, expect, size);
		free(buf);
		fail_msg("%s: GPU read of VA 0x%" PRIx64 " differs from the expected bytes at "
			 "VA 0x%" PRIx64,
			 ctx, va, va + at);
	}
	free(buf);
}

void mt_expect_unmapped(struct mt_dev *d, uint32_t vm, uint64_t va, uint64_t size, const char *ctx)
{
	for (uint64_t p = va; p < va + size; p += MT_PAGE) {
		uint64_t word = 0;
		struct mt_access r;
		char msg[160];

		snprintf(msg, sizeof(msg), "%s: VA 0x%" PRIx64 " must fault", ctx, p);
		CHECK_ERR(msg, mt_gpu_read(d, vm, p, &word, sizeof(word), &r), 0);
		if ((r.status & 0xfc) != 0xc0 || GPUVM_MOCK_FAULT_ACCESS_TYPE(r.status) != MT_READ)
			CHECK_STATUS(msg, r.status, mt_translation_fault(3, MT_READ));
		CHECK_EQ(msg, r.fault_addr, p);
		CHECK_EQ(msg, r.done, 0);
	}
}

void mt_expect_bo_page(struct mt_dev *d, uint32_t vm, uint64_t va, const struct mt_bo *bo,
		       uint64_t page, const char *ctx)
{
	mt_expect_bytes(d, vm, va, bo->cpu + page * MT_PAGE, MT_PAGE, ctx);
}

void mt_expect_no_stale(struct mt_dev *d, const char *ctx)
{
	struct gpuvm_mock_stats st = { .flags = GPUVM_MOCK_STATS_RESET };
	char msg[256];

	CHECK_ERR(ctx, mockdrm_ioctl(d->file, GPUVM_IOCTL_MOCK_STATS, &st), 0);
	snprintf(msg, sizeof(msg), "%s: MMU counters (first stale VA 0x%" PRIx64 ")", ctx,
		 (uint64_t)st.first_stale_va);
	CHECK_EQ(msg, st.stale_translations, 0);
	CHECK_EQ(msg, st.freed_table_walks, 0);
}

static const char *exception_name(uint32_t exc, unsigned int *level)
{
	*level = exc & 3;
	if (exc >= 0xc0 && exc <= 0xc4) {
		*level = exc - 0xc0;
		return "translation fault";
	}
	if (exc >= 0xc8 && exc <= 0xcb)
		return "permission fault";
	if (exc >= 0xd9 && exc <= 0xdb)
		return "access flag fault";
	if (exc >= 0xe4 && exc <= 0xe7)
		return "address size fault (out)";
	if (exc >= 0xe8 && exc <= 0xeb)
		return "memory attribute fault";
	*level = 4; /* no level */
	if (exc == 0xe0)
		return "address size fault (in)";
	if (exc == 0x80)
		return "bus fault";
	return "unknown exception";
}

const char *mt_statusname(uint32_t status, char *buf, size_t len)
{
	static const char *const access[] = { "ATOMIC", "EXECUTE", "READ", "WRITE" };
	unsigned int level;
	const char *name;

	if (!status) {
		snprintf(buf, len, "no fault");
		return buf;
	}
	name = exception_name(GPUVM_MOCK_FAULT_EXCEPTION(status), &level);
	if (level < 4)
		snprintf(buf, len, "%s L%u on %s", name, level,
			 access[GPUVM_MOCK_FAULT_ACCESS_TYPE(status)]);
	else
		snprintf(buf, len, "%s on %s", name, access[GPUVM_MOCK_FAULT_ACCESS_TYPE(status)]);
	return buf;
}
