// SPDX-License-Identifier: MIT
/*
 * The BO ioctls of uapi 1.4-1.7 (shared/reference/panthor-1.8.md): labels
 * (BO_SET_LABEL), CPU cache maintenance (BO_SYNC) and BO_QUERY_INFO, with
 * their refusals. A BO_SYNC covers whole cache lines, which the mock counts.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor BO_SET_LABEL, BO_SYNC and BO_QUERY_INFO";

#define LABEL_MAX 4096 /* with the NUL */

static int fd = -1, other = -1;
static char long_label[LABEL_MAX + 1];

static int set_label(uint32_t bo, uint32_t pad, const char *label)
{
	struct drm_panthor_bo_set_label a = { .handle = bo, .pad = pad, .label = (uintptr_t)label };

	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &a);
}

/* Labels up to 4096 bytes with the NUL, replaced and cleared; longer ones refused. */
static void test_label(void)
{
	uint32_t bo = panthor_bo_create(fd, SZ_4K, 0, 0);

	igt_assert_eq(set_label(bo, 0, "vertex buffer"), 0);
	igt_assert_eq(set_label(bo, 0, "index buffer"), 0);
	memset(long_label, 'x', LABEL_MAX - 1);
	long_label[LABEL_MAX - 1] = '\0';
	igt_assert_eq(set_label(bo, 0, long_label), 0);
	long_label[LABEL_MAX - 1] = 'x';
	long_label[LABEL_MAX] = '\0';
	igt_assert_eq(set_label(bo, 0, long_label), -E2BIG);
	igt_assert_eq(set_label(bo, 0, NULL), 0);
	igt_assert_eq(set_label(bo + 100, 0, "x"), -ENOENT);
	igt_assert_eq(set_label(bo, 1, "x"), -EINVAL);
	igt_assert_eq(set_label(bo, 0, (const char *)8), -EFAULT);
	gem_close(fd, bo);
}

static int bo_sync(const struct drm_panthor_bo_sync_op *ops, uint32_t count, uint32_t stride)
{
	struct drm_panthor_bo_sync a = {
		.ops = { .stride = stride, .count = count, .array = (uintptr_t)ops },
	};

	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_BO_SYNC, &a);
}

static struct gpuvm_mock_stats stats(void)
{
	struct gpuvm_mock_stats s = { 0 };

	do_ioctl(fd, GPUVM_IOCTL_MOCK_STATS, &s);
	return s;
}

/* The line size GPU_INFO reports: log2 in L2_FEATURES bits 7:0. */
static uint64_t cache_line(void)
{
	struct drm_panthor_gpu_info gi = { 0 };
	uint32_t size = sizeof(gi);

	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_GPU_INFO, &gi, &size), 0);
	return 1ull << (gi.l2_features & 0xff);
}

/* Ranges round out to whole cache lines; an array is done whole or not at all. */
static void test_sync(void)
{
	uint32_t bo = panthor_bo_create(fd, 2 * SZ_4K, DRM_PANTHOR_BO_WB_MMAP, 0);
	const uint64_t line = cache_line();
	const struct drm_panthor_bo_sync_op ops[] = {
		{ bo, DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH, line - 1, 2 }, /* two lines */
		{ bo, DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH_AND_INVALIDATE, 0, 2 * SZ_4K },
	};
	const struct drm_panthor_bo_sync_op bad[] = {
		{ bo, DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH, 0, SZ_4K },
		{ bo, DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH, SZ_4K, SZ_4K + 1 }, /* past the BO */
	};
	struct gpuvm_mock_stats before, after;

	igt_info("cache line %llu bytes\n", (unsigned long long)line);
	before = stats();
	igt_assert_eq(bo_sync(ops, 2, sizeof(ops[0])), 0);
	after = stats();
	igt_assert_eq_u64(after.bo_sync_ops - before.bo_sync_ops, 2);
	igt_assert_eq_u64(after.bo_sync_lines - before.bo_sync_lines, 2 + 2 * SZ_4K / line);

	igt_assert_eq(bo_sync(bad, 2, sizeof(bad[0])), -EINVAL);
	before = stats();
	igt_assert_eq_u64(before.bo_sync_ops, after.bo_sync_ops);
	gem_close(fd, bo);
}

static void test_sync_invalid(void)
{
	uint32_t bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	const struct drm_panthor_bo_sync_op rows[] = {
		{ bo, 2, 0, SZ_4K },       /* unknown type */
		{ bo, 0, SZ_4K, 1 },       /* starts at the end */
		{ bo, 0, 8, ~0ull },       /* overflows */
		{ bo + 100, 0, 0, SZ_4K }, /* unknown BO */
	};
	const int errs[] = { -EINVAL, -EINVAL, -EINVAL, -ENOENT };
	struct {
		struct drm_panthor_bo_sync_op op;
		uint64_t extra;
	} wide = { { bo, 0, 0, SZ_4K }, 1 };
	struct gpuvm_mock_stats before = stats();

	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		igt_assert_eq(bo_sync(&rows[i], 1, sizeof(rows[i])), errs[i]);
	igt_assert_eq(bo_sync(&rows[0], 1, 16), -EINVAL); /* stride below the op */
	igt_assert_eq(bo_sync(&wide.op, 1, sizeof(wide)), -E2BIG);
	igt_assert_eq_u64(stats().bo_sync_ops, before.bo_sync_ops);
	gem_close(fd, bo);
}

static struct drm_panthor_bo_query_info query_info(int file, uint32_t bo)
{
	struct drm_panthor_bo_query_info q = { .handle = bo };

	do_ioctl(file, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q);
	return q;
}

/* The creation flags come back; panthor's own BOs are never "imported", even via PRIME. */
static void test_query_info(void)
{
	static const uint32_t flags[] = { 0, DRM_PANTHOR_BO_NO_MMAP, DRM_PANTHOR_BO_WB_MMAP };
	struct drm_panthor_bo_query_info q;

	for (unsigned int i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint32_t bo = panthor_bo_create(fd, SZ_4K, flags[i], 0), imported;
		int dmabuf = prime_handle_to_fd(fd, bo);

		q = query_info(fd, bo);
		igt_assert_eq_u32(q.create_flags, flags[i]);
		igt_assert_eq_u32(q.extra_flags, 0);
		imported = prime_fd_to_handle(other, dmabuf);
		igt_assert_eq_u32(query_info(other, imported).extra_flags, 0);
		close(dmabuf);
		gem_close(other, imported);
		gem_close(fd, bo);
	}
	q = (struct drm_panthor_bo_query_info){ .handle = 1000 };
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q, ENOENT);
	q = (struct drm_panthor_bo_query_info){ .handle = panthor_bo_create(fd, SZ_4K, 0, 0),
						.pad = 1 };
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q, EINVAL);
	gem_close(fd, q.handle);
}

igt_main
{
	igt_fixture {
		fd = panthor_open();
		other = panthor_open();
		panthor_require_mock(fd);
	}

	igt_describe("labels set, replaced, cleared; too long, unknown BO, pad, bad pointer");
	igt_subtest("bo-label") {
		test_label();
	}
	igt_describe("BO_SYNC covers whole cache lines; a bad op anywhere: nothing done");
	igt_subtest("bo-sync") {
		test_sync();
	}
	igt_describe("BO_SYNC refusals: type, range, overflow, handle, stride, extra bytes");
	igt_subtest("bo-sync-invalid") {
		test_sync_invalid();
	}
	igt_describe("BO_QUERY_INFO: creation flags back, own BOs not imported (PRIME too)");
	igt_subtest("bo-query-info") {
		test_query_info();
	}

	igt_fixture {
		panthor_close(other);
		panthor_close(fd);
	}
}
