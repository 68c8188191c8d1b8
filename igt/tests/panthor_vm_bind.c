// SPDX-License-Identifier: MIT
/*
 * VM_BIND shapes: every numbered split/merge case of drm_gpuvm
 * (shared/reference/gpuvm-split-merge.md), the unmap shapes (hole punch,
 * overlap of the start and of the end, several VAs, nothing), op arrays
 * applied in order and all-or-nothing, and the refusals, each with the
 * translations the GPU sees afterwards.
 *
 * Ranges are in pages from BASE; BOs "a" and "b" have 8 tagged pages each, so
 * a GPU read says which page of which BO a VA reaches.
 */
#include <errno.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor VM_BIND split/merge shapes seen through the GPU";

#define BASE 0x4000000ull
#define WINDOW_PAGES 10
#define MAX_MAPS 4

enum bo_name {
	NONE,
	A,
	B
};

/* [first, first + pages) at BASE maps @bo from page @offset. */
struct range {
	unsigned int bo;
	unsigned int first, pages, offset;
};

struct shape {
	const char *name;
	struct range old[MAX_MAPS];
	struct range req; /* .bo NONE: an unmap */
	struct range new[MAX_MAPS];
};

/*
 * gpuvm-split-merge.md, "The numbered cases", with n = 0 (BO offsets in
 * pages). "same" = same BO and offsets continue, so the layout is unchanged.
 */
static const struct shape shapes[] = {
	{ "map-1-identical", { { A, 0, 2, 1 } }, { A, 0, 2, 1 }, { { A, 0, 2, 1 } } },
	{ "map-2-same-range-other-offset", { { A, 0, 2, 0 } }, { A, 0, 2, 2 }, { { A, 0, 2, 2 } } },
	{ "map-3-same-range-other-bo", { { A, 0, 2, 0 } }, { B, 0, 2, 0 }, { { B, 0, 2, 0 } } },
	{ "map-4-old-left-part-of-req", { { A, 0, 1, 0 } }, { A, 0, 2, 0 }, { { A, 0, 2, 0 } } },
	{ "map-5-req-left-part-other-bo",
	  { { A, 0, 2, 0 } },
	  { B, 0, 1, 0 },
	  { { B, 0, 1, 0 }, { A, 1, 1, 1 } } },
	{ "map-6-req-left-part-same", { { A, 0, 2, 0 } }, { A, 0, 1, 0 }, { { A, 0, 2, 0 } } },
	{ "map-7-req-right-part-other-bo",
	  { { A, 0, 2, 0 } },
	  { B, 1, 1, 0 },
	  { { A, 0, 1, 0 }, { B, 1, 1, 0 } } },
	{ "map-8-req-right-part-same", { { A, 0, 2, 0 } }, { A, 1, 1, 1 }, { { A, 0, 2, 0 } } },
	{ "map-9-overlap-end-other-bo",
	  { { A, 0, 2, 0 } },
	  { B, 1, 2, 0 },
	  { { A, 0, 1, 0 }, { B, 1, 2, 0 } } },
	{ "map-10-overlap-end-same", { { A, 0, 2, 0 } }, { A, 1, 2, 1 }, { { A, 0, 3, 0 } } },
	{ "map-11-inside-other-bo",
	  { { A, 0, 3, 0 } },
	  { B, 1, 1, 0 },
	  { { A, 0, 1, 0 }, { B, 1, 1, 0 }, { A, 2, 1, 2 } } },
	{ "map-12-inside-same", { { A, 0, 3, 0 } }, { A, 1, 1, 1 }, { { A, 0, 3, 0 } } },
	{ "map-13-covers-old-other-bo", { { A, 1, 1, 0 } }, { B, 0, 3, 0 }, { { B, 0, 3, 0 } } },
	{ "map-14-covers-old-same", { { A, 1, 1, 1 } }, { A, 0, 3, 0 }, { { A, 0, 3, 0 } } },
	/* Case 15: the piece left at page 2 is old's offset + 1 page. */
	{ "map-15-overlap-start",
	  { { A, 1, 2, 0 } },
	  { B, 0, 2, 0 },
	  { { B, 0, 2, 0 }, { A, 2, 1, 1 } } },
	{ "map-over-several",
	  { { A, 0, 1, 0 }, { B, 2, 1, 0 }, { A, 4, 2, 2 } },
	  { B, 1, 4, 1 },
	  { { A, 0, 1, 0 }, { B, 1, 4, 1 }, { A, 5, 1, 3 } } },
	{ "unmap-hole-punch",
	  { { A, 0, 4, 0 } },
	  { NONE, 1, 2, 0 },
	  { { A, 0, 1, 0 }, { A, 3, 1, 3 } } },
	{ "unmap-overlap-start", { { A, 1, 2, 0 } }, { NONE, 0, 2, 0 }, { { A, 2, 1, 1 } } },
	{ "unmap-overlap-end", { { A, 0, 2, 0 } }, { NONE, 1, 2, 0 }, { { A, 0, 1, 0 } } },
	{ "unmap-several",
	  { { A, 0, 1, 0 }, { B, 2, 1, 0 }, { A, 4, 2, 2 } },
	  { NONE, 0, 5, 0 },
	  { { A, 5, 1, 3 } } },
	{ "unmap-nothing", { { A, 0, 2, 0 } }, { NONE, 4, 3, 0 }, { { A, 0, 2, 0 } } },
	{ "unmap-exact", { { A, 2, 3, 1 } }, { NONE, 2, 3, 0 }, { { NONE } } },
};

static int fd = -1;
static uint32_t bos[3]; /* by enum bo_name */

static struct drm_panthor_vm_bind_op range_op(const struct range *r)
{
	if (r->bo == NONE)
		return panthor_unmap_op(BASE + r->first * SZ_4K, r->pages * SZ_4K);
	return panthor_map_op(bos[r->bo], r->offset * SZ_4K, BASE + r->first * SZ_4K,
			      r->pages * SZ_4K, 0);
}

/* The GPU sees exactly @ranges in the window (holes fault). */
static void check_ranges(uint32_t vm, const struct range *ranges)
{
	struct panthor_va_expect expect[MAX_MAPS] = { 0 };
	unsigned int n = 0;

	for (; n < MAX_MAPS && ranges[n].pages; n++)
		expect[n] = (struct panthor_va_expect){ .va = BASE + ranges[n].first * SZ_4K,
							.size = ranges[n].pages * SZ_4K,
							.tag_bo = bos[ranges[n].bo],
							.bo_offset = ranges[n].offset * SZ_4K };
	panthor_check_layout(fd, vm, BASE - SZ_4K, BASE + WINDOW_PAGES * SZ_4K, expect, n);
}

static uint32_t vm_with(const struct range *old)
{
	uint32_t vm = panthor_vm_create(fd, NULL);

	for (unsigned int i = 0; i < MAX_MAPS && old[i].pages; i++) {
		struct drm_panthor_vm_bind_op op = range_op(&old[i]);

		igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
	}
	check_ranges(vm, old);
	return vm;
}

static void test_shape(const struct shape *s)
{
	uint32_t vm = vm_with(s->old);
	struct drm_panthor_vm_bind_op op = range_op(&s->req);

	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
	check_ranges(vm, s->new);
	panthor_vm_destroy(fd, vm);
	panthor_check_mmu_clean(fd);
}

/* Ops of one array apply in order: each sees what the earlier ones did. */
static void test_array_in_order(void)
{
	static const struct range done[] = { { A, 0, 1, 0 }, { B, 1, 2, 4 }, { A, 3, 1, 3 } };
	struct drm_panthor_vm_bind_op ops[] = {
		panthor_map_op(bos[A], 0, BASE, 4 * SZ_4K, 0),
		panthor_unmap_op(BASE + SZ_4K, 2 * SZ_4K),
		panthor_map_op(bos[B], 4 * SZ_4K, BASE + SZ_4K, 2 * SZ_4K, 0),
		panthor_map_op(bos[B], 0, BASE + 6 * SZ_4K, SZ_4K, 0),
		panthor_unmap_op(BASE + 6 * SZ_4K, SZ_4K),
	};
	uint32_t vm = panthor_vm_create(fd, NULL);

	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, ops, sizeof(ops[0]), 5), 0);
	check_ranges(vm, (const struct range[MAX_MAPS]){ done[0], done[1], done[2] });
	panthor_vm_destroy(fd, vm);
}

/* A bad op anywhere in the array: nothing of it applies. */
static void test_array_all_or_nothing(void)
{
	static const struct range old[MAX_MAPS] = { { A, 0, 2, 0 } };
	struct drm_panthor_vm_bind_op ops[] = {
		panthor_unmap_op(BASE, 2 * SZ_4K),
		panthor_map_op(bos[B], 0, BASE + 2 * SZ_4K, 2 * SZ_4K, 0),
		panthor_map_op(bos[B], 0, BASE + 4 * SZ_4K, 9 * SZ_4K, 0), /* past the BO */
	};
	uint32_t vm = vm_with(old);

	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, ops, sizeof(ops[0]), 3), -EINVAL);
	check_ranges(vm, old);
	panthor_vm_destroy(fd, vm);
}

struct bad_op {
	const char *what;
	struct drm_panthor_vm_bind_op op;
	int err;
};

/* Each refused op leaves the VM as it was (A's pages 0-1 at BASE). */
static void test_invalid_ops(void)
{
	static const struct range old[MAX_MAPS] = { { A, 0, 2, 0 } };
	const uint32_t a = bos[A], map = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP;
	const uint32_t unmap = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP;
	const uint32_t sync_only = DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY;
	const struct bad_op rows[] = {
		{ "va misaligned", { map, a, 0, BASE + 8, SZ_4K, { 0 } }, EINVAL },
		{ "size misaligned", { map, a, 0, BASE, SZ_4K + 8, { 0 } }, EINVAL },
		{ "offset misaligned", { map, a, 8, BASE, SZ_4K, { 0 } }, EINVAL },
		{ "size 0", { map, a, 0, BASE, 0, { 0 } }, EINVAL },
		{ "past the BO", { map, a, 4 * SZ_4K, BASE, 5 * SZ_4K, { 0 } }, EINVAL },
		{ "offset past the BO", { map, a, 9 * SZ_4K, BASE, SZ_4K, { 0 } }, EINVAL },
		{ "offset + size overflows",
		  { map, a, ~0ull - SZ_4K + 1, BASE, 2 * SZ_4K, { 0 } },
		  EINVAL },
		{ "va + size overflows",
		  { map, a, 0, ~0ull - SZ_4K + 1, 2 * SZ_4K, { 0 } },
		  EINVAL },
		{ "unknown flag", { map | 1u << 5, a, 0, BASE, SZ_4K, { 0 } }, EINVAL },
		{ "unknown type", { 3u << 28, a, 0, BASE, SZ_4K, { 0 } }, EINVAL },
		{ "unknown handle", { map, a + 100, 0, BASE, SZ_4K, { 0 } }, ENOENT },
		{ "unmap with a handle", { unmap, a, 0, BASE, SZ_4K, { 0 } }, EINVAL },
		{ "unmap with an offset", { unmap, 0, SZ_4K, BASE, SZ_4K, { 0 } }, EINVAL },
		{ "unmap with a map flag", { unmap | 1, 0, 0, BASE, SZ_4K, { 0 } }, EINVAL },
		{ "unmap misaligned", { unmap, 0, 0, BASE + 8, SZ_4K, { 0 } }, EINVAL },
		{ "sync-only without syncs", { sync_only, 0, 0, 0, 0, { 0 } }, EINVAL },
		{ "sync-only with a range", { sync_only, 0, 0, BASE, SZ_4K, { 0 } }, EINVAL },
	};

	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t vm = vm_with(old);
		int err = __panthor_vm_bind(fd, vm, 0, &rows[i].op, sizeof(rows[i].op), 1);

		igt_assert_f(err == -rows[i].err, "%s: %d, expected %d\n", rows[i].what, err,
			     -rows[i].err);
		check_ranges(vm, old);
		panthor_vm_destroy(fd, vm);
	}
}

/* B's first page at BASE as a 64-byte op whose bytes 48..55 hold @extra. */
static int bind_wide(uint32_t vm, uint64_t extra)
{
	struct {
		struct drm_panthor_vm_bind_op op;
		uint64_t extra, more;
	} wide = { panthor_map_op(bos[B], 0, BASE, SZ_4K, 0), extra, 0 };

	return __panthor_vm_bind(fd, vm, 0, &wide, sizeof(wide), 1);
}

/* The array itself: stride, bind flags, syncs on a synchronous bind. */
static void test_invalid_array(void)
{
	static const struct range old[MAX_MAPS] = { { A, 0, 2, 0 } };
	uint32_t vm = vm_with(old), syncobj = syncobj_create(fd, 0);
	struct drm_panthor_sync_op sync = { .flags = DRM_PANTHOR_SYNC_OP_SIGNAL,
					    .handle = syncobj };
	struct drm_panthor_vm_bind_op op = panthor_map_op(bos[B], 0, BASE, SZ_4K, 0);

	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, 40, 1), -EINVAL);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 1u << 1, &op, sizeof(op), 1), -EINVAL);
	op.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(1, &sync);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &op, sizeof(op), 1), -EINVAL);
	check_ranges(vm, old);
	/* A longer (future) op: bytes past panthor's 48 must be zero, else E2BIG. */
	igt_assert_eq(bind_wide(vm, 1), -E2BIG);
	check_ranges(vm, old);
	/* No ops at all is a successful no-op. */
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, NULL, sizeof(op), 0), 0);
	check_ranges(vm, old);
	igt_assert_eq(bind_wide(vm, 0), 0);
	check_ranges(vm, (const struct range[MAX_MAPS]){ { B, 0, 1, 0 }, { A, 1, 1, 1 } });
	syncobj_destroy(fd, syncobj);
	panthor_vm_destroy(fd, vm);
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
		bos[A] = panthor_bo_create(fd, 8 * SZ_4K, 0, 0);
		bos[B] = panthor_bo_create(fd, 8 * SZ_4K, 0, 0);
		panthor_bo_tag(fd, bos[A], 8, bos[A]);
		panthor_bo_tag(fd, bos[B], 8, bos[B]);
	}

	for (volatile unsigned int i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		igt_describe("one split/merge shape: old layout, request, layout the GPU sees");
		igt_subtest_f("%s", shapes[i].name) {
			test_shape(&shapes[i]);
		}
	}
	igt_describe("ops of one array apply in order");
	igt_subtest("array-in-order") {
		test_array_in_order();
	}
	igt_describe("an invalid last op: no op of the array applies");
	igt_subtest("array-all-or-nothing") {
		test_array_all_or_nothing();
	}
	igt_describe("misaligned, out of the BO, overflowing, unknown flags/types/handles");
	igt_subtest("bind-invalid-ops") {
		test_invalid_ops();
	}
	igt_describe(
		"short stride, dirty long op, unknown bind flags, syncs on a synchronous bind");
	igt_subtest("bind-invalid-array") {
		test_invalid_array();
	}

	igt_fixture {
		gem_close(fd, bos[B]);
		gem_close(fd, bos[A]);
		panthor_close(fd);
	}
}
