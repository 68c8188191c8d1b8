// SPDX-License-Identifier: MIT
/*
 * Buffer objects: BO_CREATE (size rounding, flags, exclusive VMs),
 * BO_MMAP_OFFSET and CPU mappings, what the GPU sees of them, lifetime while
 * mapped, and the refusals with their errno (state unchanged).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor BO_CREATE, BO_MMAP_OFFSET and CPU/GPU views of BOs";

#define VA 0x1000000ull

static int fd = -1;

static int gem_close_err(uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return panthor_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static bool all_zero(const unsigned char *p, uint64_t size)
{
	for (uint64_t i = 0; i < size; i++)
		if (p[i])
			return false;
	return true;
}

/* Sizes round up to whole pages, written back; new BOs read as zeros. */
static void test_create(void)
{
	static const uint64_t sizes[] = { 1, 4095, 4096, 4097, 3 * SZ_4K + 1, SZ_2M + 1 };
	uint32_t handles[sizeof(sizes) / sizeof(sizes[0])];

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct drm_panthor_bo_create a = { .size = sizes[i] };
		uint64_t rounded = (sizes[i] + SZ_4K - 1) & ~(SZ_4K - 1);
		unsigned char *cpu;

		igt_assert_eq(__panthor_bo_create(fd, &a), 0);
		igt_assert_eq_u64(a.size, rounded);
		igt_assert_neq_u32(a.handle, 0);
		for (unsigned int j = 0; j < i; j++)
			igt_assert_neq_u32(a.handle, handles[j]);
		handles[i] = a.handle;
		cpu = panthor_bo_mmap(fd, a.handle, rounded, PROT_READ);
		igt_assert(all_zero(cpu, rounded));
		panthor_bo_munmap(cpu, rounded);
	}
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		gem_close(fd, handles[i]);
		igt_assert_eq(gem_close_err(handles[i]), -EINVAL);
	}
}

/* Each refused BO_CREATE takes no handle: the next good one gets the next number. */
static void test_create_invalid(void)
{
	static const struct drm_panthor_bo_create rows[] = {
		{ .size = 0 },
		{ .size = SZ_4K, .flags = 1u << 31 },
		{ .size = SZ_4K, .pad = 1 },
		{ .size = SZ_4K, .exclusive_vm_id = 0xdead },
		{ .size = ~0ull },
	};
	uint32_t first = panthor_bo_create(fd, SZ_4K, 0, 0), next;

	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct drm_panthor_bo_create a = rows[i];
		int err = __panthor_bo_create(fd, &a);

		igt_assert_f(err == -EINVAL || (i == 4 && err == -ENOMEM),
			     "row %u: %d, expected -EINVAL\n", i, err);
	}
	next = panthor_bo_create(fd, SZ_4K, 0, 0);
	igt_assert_eq_u32(next, first + 1);
	gem_close(fd, next);
	gem_close(fd, first);
}

/* Two CPU mappings and the GPU see the same bytes, both ways. */
static void test_mmap(void)
{
	uint32_t vm = panthor_vm_create(fd, NULL);
	uint32_t bo = panthor_bo_create(fd, 2 * SZ_4K, 0, 0);
	uint32_t other = panthor_bo_create(fd, SZ_4K, 0, 0);
	uint64_t offset = panthor_bo_mmap_offset(fd, bo), value = 0x1122334455667788ull;
	uint64_t *a = panthor_bo_mmap(fd, bo, 2 * SZ_4K, PROT_READ | PROT_WRITE);
	uint64_t *b = panthor_bo_mmap(fd, bo, 2 * SZ_4K, PROT_READ | PROT_WRITE);

	igt_assert_eq_u64(offset & (SZ_4K - 1), 0);
	igt_assert_eq_u64(panthor_bo_mmap_offset(fd, bo), offset);
	igt_assert_neq_u64(panthor_bo_mmap_offset(fd, other), offset);
	a[512] = 0xabcdef;
	igt_assert_eq_u64(b[512], 0xabcdef);

	if (panthor_is_mock(fd)) {
		panthor_map(fd, vm, bo, 0, VA, 2 * SZ_4K, 0);
		igt_assert_eq_u32(panthor_gpu_read(fd, vm, VA + SZ_4K, &value, sizeof(value)), 0);
		igt_assert_eq_u64(value, 0xabcdef);
		value = 0x5566;
		igt_assert_eq_u32(panthor_gpu_write(fd, vm, VA + 8, &value, sizeof(value)), 0);
		igt_assert_eq_u64(a[1], 0x5566);
		igt_assert_eq_u64(b[1], 0x5566);
	}

	panthor_bo_munmap(a, 2 * SZ_4K);
	panthor_bo_munmap(b, 2 * SZ_4K);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, other);
	gem_close(fd, bo);
}

static void test_mmap_invalid(void)
{
	uint32_t bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	uint32_t nommap = panthor_bo_create(fd, SZ_4K, DRM_PANTHOR_BO_NO_MMAP, 0);
	struct drm_panthor_bo_mmap_offset a = { .handle = bo + 100 };
	uint64_t offset = panthor_bo_mmap_offset(fd, bo);

	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &a, ENOENT);
	a = (struct drm_panthor_bo_mmap_offset){ .handle = bo, .pad = 1 };
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &a, EINVAL);
	/* Past the end of the BO, and where no BO is. */
	igt_assert(mmap(NULL, 2 * SZ_4K, PROT_READ, MAP_SHARED, fd, (off_t)offset) == MAP_FAILED);
	igt_assert(mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, fd, (off_t)(offset + SZ_1G)) ==
		   MAP_FAILED);
	/* NO_MMAP: an offset is handed out, but the CPU may not map it. */
	offset = panthor_bo_mmap_offset(fd, nommap);
	igt_assert(mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, fd, (off_t)offset) == MAP_FAILED);
	gem_close(fd, nommap);
	gem_close(fd, bo);
	igt_assert_eq(gem_close_err(0), -EINVAL);
}

/* A mapped BO outlives its handle: the GPU and the CPU mapping still see it. */
static void test_close_while_mapped(void)
{
	struct panthor_va_expect mapped = { .va = VA, .size = 4 * SZ_4K, .tag_bo = 1 };
	uint32_t vm, bo;
	uint64_t *cpu;

	panthor_require_mock(fd);
	vm = panthor_vm_create(fd, NULL);
	bo = panthor_bo_create_tagged(fd, 4);
	mapped.tag_bo = bo;
	cpu = panthor_bo_mmap(fd, bo, 4 * SZ_4K, PROT_READ | PROT_WRITE);
	panthor_map(fd, vm, bo, 0, VA, 4 * SZ_4K, 0);
	gem_close(fd, bo);
	panthor_check_layout(fd, vm, VA - SZ_4K, VA + 5 * SZ_4K, &mapped, 1);
	cpu[513] = 42;
	panthor_unmap(fd, vm, VA, 4 * SZ_4K);
	panthor_check_layout(fd, vm, VA, VA + 4 * SZ_4K, NULL, 0);
	igt_assert_eq_u64(cpu[512], panthor_tag(bo, 1));
	igt_assert_eq_u64(cpu[513], 42);
	panthor_bo_munmap(cpu, 4 * SZ_4K);
	panthor_vm_destroy(fd, vm);
	panthor_check_mmu_clean(fd);
}

/* A BO created for one VM maps there and nowhere else. */
static void test_exclusive_vm(void)
{
	uint32_t vm = panthor_vm_create(fd, NULL), other = panthor_vm_create(fd, NULL);
	uint32_t bo = panthor_bo_create(fd, SZ_4K, 0, vm);
	struct drm_panthor_vm_bind_op op = panthor_map_op(bo, 0, VA, SZ_4K, 0);
	struct panthor_va_expect mapped = { .va = VA, .size = SZ_4K, .tag_bo = bo };

	igt_assert_eq(__panthor_vm_bind(fd, other, 0, &op, sizeof(op), 1), -EINVAL);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
	if (panthor_is_mock(fd)) {
		panthor_bo_tag(fd, bo, 1, bo);
		panthor_check_layout(fd, vm, VA, VA + SZ_4K, &mapped, 1);
		panthor_check_layout(fd, other, VA, VA + SZ_4K, NULL, 0);
	}
	panthor_vm_destroy(fd, other);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
}

igt_main
{
	igt_fixture {
		fd = panthor_open();
	}

	igt_describe("sizes round up to pages and are written back; new BOs are zeroed");
	igt_subtest("bo-create") {
		test_create();
	}
	igt_describe("size 0, unknown flags, pad, unknown exclusive VM: refused, no handle taken");
	igt_subtest("bo-create-invalid") {
		test_create_invalid();
	}
	igt_describe("two CPU mappings and the GPU see the same bytes, both ways");
	igt_subtest("bo-mmap") {
		test_mmap();
	}
	igt_describe("unknown handle, pad, mmap past the BO or of a NO_MMAP BO: refused");
	igt_subtest("bo-mmap-invalid") {
		test_mmap_invalid();
	}
	igt_describe("a BO closed while mapped stays visible to the GPU until unmapped");
	igt_subtest("bo-close-while-mapped") {
		test_close_while_mapped();
	}
	igt_describe("a BO exclusive to a VM maps only in that VM");
	igt_subtest("bo-exclusive-vm") {
		test_exclusive_vm();
	}

	igt_fixture {
		panthor_close(fd);
	}
}
