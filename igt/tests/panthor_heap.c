// SPDX-License-Identifier: MIT
/*
 * Tiler heaps (shared/reference/panthor-1.8.md "Tiler heaps"), read through
 * the GPU: the context is zeroed, the chunks are mapped in the VM's kernel
 * range and linked as panthor links them (next chunk's VA with bits 11:0 =
 * chunk_size >> 12, 0 at the end); destroying the heap unmaps its chunks.
 */
#include <errno.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor TILER_HEAP_CREATE/DESTROY seen through the GPU";

#define CHUNK_SIZE (256u << 10)

static int fd = -1;
static uint32_t vm;
static uint64_t user_va_range;

static int heap_create(struct drm_panthor_tiler_heap_create *a)
{
	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, a);
}

static int heap_destroy(uint32_t handle, uint32_t pad)
{
	struct drm_panthor_tiler_heap_destroy a = { .handle = handle, .pad = pad };

	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, &a);
}

static struct drm_panthor_tiler_heap_create heap_args(uint32_t initial, uint32_t chunk_size)
{
	return (struct drm_panthor_tiler_heap_create){ .vm_id = vm,
						       .initial_chunk_count = initial,
						       .chunk_size = chunk_size,
						       .max_chunks = 8,
						       .target_in_flight = 4 };
}

static uint64_t gpu_read64(uint64_t va)
{
	uint64_t value = 0;

	igt_assert_eq_u32(panthor_gpu_read(fd, vm, va, &value, sizeof(value)), 0);
	return value;
}

/* The chunk list from @first: @count chunks in the kernel range, linked. */
static void check_chunks(uint64_t first, uint32_t count, uint32_t chunk_size)
{
	uint64_t va = first;

	for (uint32_t i = 0; i < count; i++) {
		uint64_t next = gpu_read64(va), last = 0;

		igt_assert_lte_u64(user_va_range, va);
		igt_assert_eq_u64(va & (SZ_4K - 1), 0);
		/* The whole chunk is mapped. */
		igt_assert_eq_u32(panthor_gpu_read(fd, vm, va + chunk_size - 8, &last, 8), 0);
		if (i + 1 == count) {
			igt_assert_eq_u64(next, 0);
			break;
		}
		igt_assert_eq_u64(next & 0xfff, chunk_size >> 12);
		igt_assert_neq_u64(next & ~0xfffull, va);
		va = next & ~0xfffull;
	}
}

static void check_context_zero(uint64_t ctx)
{
	uint64_t words[4] = { 1, 1, 1, 1 };

	igt_assert_lte_u64(user_va_range, ctx);
	igt_assert_eq_u32(panthor_gpu_read(fd, vm, ctx, words, sizeof(words)), 0);
	for (int i = 0; i < 4; i++)
		igt_assert_eq_u64(words[i], 0);
}

static void test_create(void)
{
	struct drm_panthor_tiler_heap_create a = heap_args(3, CHUNK_SIZE), b = heap_args(1, SZ_1M);

	igt_assert_eq(heap_create(&a), 0);
	igt_assert_eq(heap_create(&b), 0);
	igt_assert_eq_u32(a.handle >> 16, vm);
	igt_assert_neq_u32(a.handle, b.handle);
	check_context_zero(a.tiler_heap_ctx_gpu_va);
	check_context_zero(b.tiler_heap_ctx_gpu_va);
	/* Contexts share one BO, one cache-line-rounded slot per heap id. */
	igt_assert_eq_u64(b.tiler_heap_ctx_gpu_va - a.tiler_heap_ctx_gpu_va,
			  ((b.handle & 0xffff) - (a.handle & 0xffff)) * 64ull);
	check_chunks(a.first_heap_chunk_gpu_va, 3, CHUNK_SIZE);
	check_chunks(b.first_heap_chunk_gpu_va, 1, SZ_1M);
	igt_assert_eq(heap_destroy(b.handle, 0), 0);
	igt_assert_eq(heap_destroy(a.handle, 0), 0);
	panthor_check_mmu_clean(fd);
}

/* Destroyed: its chunks are gone for the GPU, the handle is unknown. */
static void test_destroy(void)
{
	struct drm_panthor_tiler_heap_create a = heap_args(2, CHUNK_SIZE);
	uint64_t second;

	igt_assert_eq(heap_create(&a), 0);
	second = gpu_read64(a.first_heap_chunk_gpu_va) & ~0xfffull;
	igt_assert_eq(heap_destroy(a.handle, 1), -EINVAL);
	igt_assert_eq(heap_destroy(a.handle, 0), 0);
	panthor_check_layout(fd, vm, a.first_heap_chunk_gpu_va, a.first_heap_chunk_gpu_va + SZ_4K,
			     NULL, 0);
	panthor_check_layout(fd, vm, second, second + SZ_4K, NULL, 0);
	igt_assert_eq(heap_destroy(a.handle, 0), -EINVAL);
	panthor_check_mmu_clean(fd);
}

static void test_invalid(void)
{
	struct drm_panthor_tiler_heap_create rows[] = {
		heap_args(0, CHUNK_SIZE),     /* no initial chunk */
		heap_args(9, CHUNK_SIZE),     /* more than max_chunks */
		heap_args(1, CHUNK_SIZE + 8), /* not page-aligned */
		heap_args(1, 64u << 10),      /* below 128 KiB */
		heap_args(1, 16u << 20),      /* above 8 MiB */
		heap_args(1, CHUNK_SIZE),     /* unknown VM, below */
	};
	uint32_t gone = panthor_vm_create(fd, NULL);

	rows[5].vm_id = vm + 100;
	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		igt_assert_eq(heap_create(&rows[i]), -EINVAL);
	panthor_vm_destroy(fd, gone);
	rows[0] = heap_args(1, CHUNK_SIZE);
	rows[0].vm_id = gone;
	igt_assert_eq(heap_create(&rows[0]), -EINVAL);
	igt_assert_eq(heap_destroy(vm << 16 | 127, 0), -EINVAL);
	igt_assert_eq(heap_destroy(0, 0), -EINVAL);
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
		vm = panthor_vm_create(fd, &user_va_range);
	}

	igt_describe("contexts zeroed, chunks mapped in the kernel range and linked");
	igt_subtest("heap-create") {
		test_create();
	}
	igt_describe("a destroyed heap's chunks fault; its handle is unknown");
	igt_subtest("heap-destroy") {
		test_destroy();
	}
	igt_describe("chunk count, chunk size bounds, unknown or destroyed VM: EINVAL");
	igt_subtest("heap-invalid") {
		test_invalid();
	}

	igt_fixture {
		panthor_vm_destroy(fd, vm);
		panthor_close(fd);
	}
}
