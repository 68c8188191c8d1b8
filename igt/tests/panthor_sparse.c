// SPDX-License-Identifier: MIT
/*
 * Sparse binds (DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE: one dummy page over a whole
 * range) and our repeat binds (GPUVM_VM_BIND_OP_MAP_REPEAT: a BO range again
 * and again), what the GPU sees of them, how they split, and their refusals.
 */
#include <errno.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor sparse binds and gpuvm repeat binds";

#define VA 0x40000000ull
#define SPARSE_SIZE (2 * SZ_2M + 16 * SZ_4K)

static int fd = -1;
static uint32_t bo, vm;

static uint32_t sparse_flags(void)
{
	return DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE | DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC;
}

static int bind_repeat(uint64_t offset, uint64_t va, uint64_t size, uint64_t range, uint32_t flags)
{
	struct gpuvm_vm_bind_op_repeat op = { .flags = GPUVM_VM_BIND_OP_MAP_REPEAT | flags,
					      .bo_handle = bo,
					      .bo_offset = offset,
					      .va = va,
					      .size = size,
					      .bo_repeat_range = range };

	return __panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1);
}

static uint64_t gpu_read64(uint64_t va)
{
	uint64_t value = 0;

	igt_assert_eq_u32(panthor_gpu_read(fd, vm, va, &value, sizeof(value)), 0);
	return value;
}

/* Every page of a sparse range is the same page: what one write puts, all read. */
static void check_sparse(uint64_t va, uint64_t size, uint64_t value)
{
	uint64_t at = va + size / 2 + 24;

	igt_assert_eq_u32(panthor_gpu_write(fd, vm, at, &value, sizeof(value)), 0);
	for (uint64_t page = va; page < va + size; page += SZ_4K)
		igt_assert_eq_u64(gpu_read64(page + 24), value);
}

static void test_sparse_map(void)
{
	struct drm_panthor_vm_bind_op op = panthor_map_op(0, 0, VA, SPARSE_SIZE, sparse_flags());
	const struct panthor_va_expect none[] = { { 0 } };

	vm = panthor_vm_create(fd, NULL);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
	check_sparse(VA, SPARSE_SIZE, 0x5a5a0001);
	check_sparse(VA, SPARSE_SIZE, 0x5a5a0002);
	/* Outside the range: nothing. */
	panthor_check_layout(fd, vm, VA - SZ_4K, VA, none, 0);
	panthor_check_layout(fd, vm, VA + SPARSE_SIZE, VA + SPARSE_SIZE + SZ_4K, none, 0);
	panthor_vm_destroy(fd, vm);
	panthor_check_mmu_clean(fd);
}

/* A BO over the middle of a sparse range, then unmapped: a hole, not the dummy page. */
static void test_sparse_remap(void)
{
	struct drm_panthor_vm_bind_op op = panthor_map_op(0, 0, VA, SPARSE_SIZE, sparse_flags());
	const struct panthor_va_expect mapped = { .va = VA + SZ_2M,
						  .size = 4 * SZ_4K,
						  .tag_bo = bo };

	vm = panthor_vm_create(fd, NULL);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
	panthor_map(fd, vm, bo, 0, VA + SZ_2M, 4 * SZ_4K, 0);
	panthor_check_layout(fd, vm, VA + SZ_2M, VA + SZ_2M + 4 * SZ_4K, &mapped, 1);
	check_sparse(VA, SZ_2M, 0x77);
	check_sparse(VA + SZ_2M + 4 * SZ_4K, SPARSE_SIZE - SZ_2M - 4 * SZ_4K, 0x77);
	panthor_unmap(fd, vm, VA + SZ_2M, 4 * SZ_4K);
	panthor_check_layout(fd, vm, VA + SZ_2M, VA + SZ_2M + 4 * SZ_4K, NULL, 0);
	check_sparse(VA, SZ_2M, 0x78);
	panthor_vm_destroy(fd, vm);
	panthor_check_mmu_clean(fd);
}

static void test_sparse_invalid(void)
{
	const uint32_t sparse = DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE;
	struct drm_panthor_vm_bind_op rows[] = {
		panthor_map_op(0, 0, VA, SZ_4K, sparse), /* NOEXEC missing */
		panthor_map_op(bo, 0, VA, SZ_4K, sparse_flags()),
		panthor_map_op(0, SZ_4K, VA, SZ_4K, sparse_flags()),
		panthor_map_op(0, 0, VA + 8, SZ_4K, sparse_flags()),
		panthor_map_op(0, 0, VA, 0, sparse_flags()),
		/* va + size overflows; a size beyond the VM. */
		panthor_map_op(0, 0, ~0ull - SZ_4K + 1, 2 * SZ_4K, sparse_flags()),
		panthor_map_op(0, 0, VA, 1ull << 62, sparse_flags()),
	};

	vm = panthor_vm_create(fd, NULL);
	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &rows[i], sizeof(rows[i]), 1), -EINVAL);
		if (panthor_is_mock(fd))
			panthor_check_layout(fd, vm, VA, VA + SZ_4K, NULL, 0);
	}
	panthor_vm_destroy(fd, vm);
}

/* Two BO pages over 4 MiB + 16 pages: page k of the range reads BO page k % 2 (+ offset). */
static void test_repeat_map(void)
{
	const struct panthor_va_expect twice = {
		.va = VA, .size = SPARSE_SIZE, .tag_bo = bo, .bo_offset = SZ_4K, .repeat = 2 * SZ_4K
	};

	vm = panthor_vm_create(fd, NULL);
	igt_assert_eq(bind_repeat(SZ_4K, VA, SPARSE_SIZE, 2 * SZ_4K, 0), 0);
	panthor_check_layout(fd, vm, VA - SZ_4K, VA + SPARSE_SIZE + SZ_4K, &twice, 1);
	panthor_vm_destroy(fd, vm);
	panthor_check_mmu_clean(fd);
}

/* A repeat VA splits at multiples of its range only; the pieces keep offset and range. */
static void test_repeat_split(void)
{
	const uint64_t range = 4 * SZ_4K;
	struct drm_panthor_vm_bind_op cut = panthor_unmap_op(VA + 8 * SZ_4K, 8 * SZ_4K);
	struct drm_panthor_vm_bind_op bad = panthor_unmap_op(VA + 6 * SZ_4K, 4 * SZ_4K);
	const struct panthor_va_expect before = {
		.va = VA, .size = 32 * SZ_4K, .tag_bo = bo, .repeat = range
	};
	const struct panthor_va_expect after[] = {
		{ .va = VA, .size = 8 * SZ_4K, .tag_bo = bo, .repeat = range },
		{ .va = VA + 16 * SZ_4K, .size = 16 * SZ_4K, .tag_bo = bo, .repeat = range },
	};

	vm = panthor_vm_create(fd, NULL);
	igt_assert_eq(bind_repeat(0, VA, 32 * SZ_4K, range, 0), 0);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &bad, sizeof(bad), 1), -EINVAL);
	panthor_check_layout(fd, vm, VA, VA + 32 * SZ_4K, &before, 1);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &cut, sizeof(cut), 1), 0);
	panthor_check_layout(fd, vm, VA, VA + 32 * SZ_4K, after, 2);
	panthor_vm_destroy(fd, vm);
	panthor_check_mmu_clean(fd);
}

static void test_repeat_invalid(void)
{
	struct gpuvm_vm_bind_op_repeat plain = {
		.bo_handle = bo, .va = VA, .size = SZ_4K, .bo_repeat_range = SZ_4K
	};
	struct drm_panthor_vm_bind_op v1 =
		panthor_map_op(bo, 0, VA, 2 * SZ_4K, GPUVM_VM_BIND_OP_MAP_REPEAT);

	vm = panthor_vm_create(fd, NULL);
	igt_assert_eq(bind_repeat(0, VA, 3 * SZ_4K, 2 * SZ_4K, 0), -EINVAL); /* not a multiple */
	igt_assert_eq(bind_repeat(0, VA, 2 * SZ_4K, 0, 0), -EINVAL);         /* no range */
	igt_assert_eq(bind_repeat(0, VA, 2 * SZ_4K, SZ_4K + 8, 0), -EINVAL); /* misaligned */
	igt_assert_eq(bind_repeat(3 * SZ_4K, VA, 4 * SZ_4K, 2 * SZ_4K, 0), -EINVAL); /* past BO */
	igt_assert_eq(bind_repeat(0, VA, 2 * SZ_4K, 2 * SZ_4K, sparse_flags()), -EINVAL);
	/* va + size overflows; size beyond the VM. */
	igt_assert_eq(bind_repeat(0, ~0ull - SZ_4K + 1, 2 * SZ_4K, SZ_4K, 0), -EINVAL);
	igt_assert_eq(bind_repeat(0, VA, 1ull << 62, SZ_4K, 0), -EINVAL);
	/*
	 * A range without the flag is bytes past panthor's op: -E2BIG, as Linux
	 * 7.2 says (uapi DOC: decoding an op array); the flag in a 48-byte op.
	 */
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &plain, sizeof(plain), 1), -E2BIG);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &v1, sizeof(v1), 1), -EINVAL);
	panthor_check_layout(fd, vm, VA, VA + 4 * SZ_4K, NULL, 0);
	panthor_vm_destroy(fd, vm);
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
		bo = panthor_bo_create_tagged(fd, 4);
	}

	igt_describe("sparse over 4 MiB + 16 pages: every page is one dummy page");
	igt_subtest("sparse-map") {
		test_sparse_map();
	}
	igt_describe("a BO over a sparse range's middle, unmapped: a hole, dummy page around");
	igt_subtest("sparse-remap") {
		test_sparse_remap();
	}
	igt_describe(
		"sparse without NOEXEC, with a BO or offset, misaligned, empty, overflowing: EINVAL");
	igt_subtest("sparse-invalid") {
		test_sparse_invalid();
	}
	igt_describe("two BO pages repeated over 4 MiB + 16 pages, as the GPU reads them");
	igt_subtest("repeat-map") {
		test_repeat_map();
	}
	igt_describe("a repeat VA cut at a multiple of its range, refused elsewhere");
	igt_subtest("repeat-split") {
		test_repeat_split();
	}
	igt_describe("repeat: size not a multiple, bad range, past the BO, overflow, layouts");
	igt_subtest("repeat-invalid") {
		test_repeat_invalid();
	}

	igt_fixture {
		gem_close(fd, bo);
		panthor_close(fd);
	}
}
