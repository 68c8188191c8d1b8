// SPDX-License-Identifier: MIT
/*
 * Helpers of gpuvm's igt tests (panthor_igt.h): binds, and what the GPU sees
 * through the mock device's GPU-access ioctls.
 */
#include <errno.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

int __panthor_vm_bind(int fd, uint32_t vm, uint32_t flags, const void *ops, uint32_t stride,
		      uint32_t count)
{
	struct drm_panthor_vm_bind a = {
		.vm_id = vm,
		.flags = flags,
		.ops = { .stride = stride, .count = count, .array = (uintptr_t)ops },
	};

	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_VM_BIND, &a);
}

struct drm_panthor_vm_bind_op panthor_map_op(uint32_t bo, uint64_t bo_offset, uint64_t va,
					     uint64_t size, uint32_t flags)
{
	return (struct drm_panthor_vm_bind_op){ .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | flags,
						.bo_handle = bo,
						.bo_offset = bo_offset,
						.va = va,
						.size = size };
}

struct drm_panthor_vm_bind_op panthor_unmap_op(uint64_t va, uint64_t size)
{
	return (struct drm_panthor_vm_bind_op){ .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
						.va = va,
						.size = size };
}

void panthor_map(int fd, uint32_t vm, uint32_t bo, uint64_t bo_offset, uint64_t va, uint64_t size,
		 uint32_t flags)
{
	struct drm_panthor_vm_bind_op op = panthor_map_op(bo, bo_offset, va, size, flags);

	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
}

void panthor_unmap(int fd, uint32_t vm, uint64_t va, uint64_t size)
{
	struct drm_panthor_vm_bind_op op = panthor_unmap_op(va, size);

	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
}

uint32_t panthor_gpu_access(int fd, uint32_t vm, uint32_t op, uint64_t va, void *data,
			    uint64_t size, uint64_t *fault_addr)
{
	struct gpuvm_mock_gpu_access a = {
		.vm_id = vm, .op = op, .va = va, .size = size, .data = (uintptr_t)data
	};

	do_ioctl(fd, GPUVM_IOCTL_MOCK_GPU_ACCESS, &a);
	/* Without a fault every byte went through; with one, none past it. */
	igt_assert_eq_u64(a.done, a.access ? a.fault_addr - va : size);
	if (fault_addr)
		*fault_addr = a.fault_addr;
	return a.access;
}

uint32_t panthor_gpu_read(int fd, uint32_t vm, uint64_t va, void *data, uint64_t size)
{
	return panthor_gpu_access(fd, vm, GPUVM_MOCK_GPU_ACCESS_READ, va, data, size, NULL);
}

uint32_t panthor_gpu_write(int fd, uint32_t vm, uint64_t va, const void *data, uint64_t size)
{
	return panthor_gpu_access(fd, vm, GPUVM_MOCK_GPU_ACCESS_WRITE, va, (void *)data, size,
				  NULL);
}

static const struct panthor_va_expect *expect_at(const struct panthor_va_expect *expect,
						 unsigned int count, uint64_t va)
{
	for (unsigned int i = 0; i < count; i++)
		if (va >= expect[i].va && va - expect[i].va < expect[i].size)
			return &expect[i];
	return NULL;
}

/* The tag the GPU must read at @va, inside @e. */
static uint64_t expected_tag(const struct panthor_va_expect *e, uint64_t va)
{
	uint64_t delta = va - e->va;

	if (e->repeat)
		delta %= e->repeat;
	return panthor_tag(e->tag_bo, (e->bo_offset + delta) / SZ_4K);
}

static void check_page(int fd, uint32_t vm, uint64_t va, const struct panthor_va_expect *e)
{
	uint64_t value = 0, fault_addr = 0;
	uint32_t fault = panthor_gpu_access(fd, vm, GPUVM_MOCK_GPU_ACCESS_READ, va, &value,
					    sizeof(value), &fault_addr);

	if (e && e->tag_bo) {
		igt_assert_f(!fault,
			     "VA %#llx: GPU read faulted (status %#x), expected tag %#llx\n",
			     (unsigned long long)va, fault,
			     (unsigned long long)expected_tag(e, va));
		igt_assert_f(value == expected_tag(e, va),
			     "VA %#llx: GPU read %#llx, expected tag %#llx\n",
			     (unsigned long long)va, (unsigned long long)value,
			     (unsigned long long)expected_tag(e, va));
		return;
	}
	igt_assert_f((GPUVM_MOCK_FAULT_EXCEPTION(fault) & ~3u) == GPUVM_MOCK_FAULT_TRANSLATION(0),
		     "VA %#llx: expected a translation fault, got status %#x (read %#llx)\n",
		     (unsigned long long)va, fault, (unsigned long long)value);
	igt_assert_eq_u32(GPUVM_MOCK_FAULT_ACCESS_TYPE(fault), GPUVM_MOCK_FAULT_ACCESS_READ);
	igt_assert_eq_u64(fault_addr, va);
}

void panthor_check_layout(int fd, uint32_t vm, uint64_t start, uint64_t end,
			  const struct panthor_va_expect *expect, unsigned int count)
{
	for (uint64_t va = start; va < end; va += SZ_4K)
		check_page(fd, vm, va, expect_at(expect, count, va));
}

void panthor_check_mmu_clean(int fd)
{
	struct gpuvm_mock_stats stats = { 0 };

	do_ioctl(fd, GPUVM_IOCTL_MOCK_STATS, &stats);
	igt_assert_f(stats.stale_translations == 0, "stale TLB translation at VA %#llx\n",
		     (unsigned long long)stats.first_stale_va);
	igt_assert_eq_u64(stats.freed_table_walks, 0);
}

uint32_t panthor_fence_attach(int fd, uint32_t syncobj, uint64_t point)
{
	struct gpuvm_mock_fence_attach a = { .handle = syncobj, .point = point };

	do_ioctl(fd, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &a);
	return a.fence_id;
}

void panthor_fence_signal(int fd, uint32_t fence_id, int error)
{
	struct gpuvm_mock_fence_signal a = { .fence_id = fence_id, .error = error };

	do_ioctl(fd, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &a);
}

struct gpuvm_mock_vm_state panthor_mock_vm_state(int fd, uint32_t vm)
{
	struct gpuvm_mock_vm_state a = { .vm_id = vm };

	do_ioctl(fd, GPUVM_IOCTL_MOCK_VM_STATE, &a);
	return a;
}
