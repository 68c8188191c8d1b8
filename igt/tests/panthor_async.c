// SPDX-License-Identifier: MIT
/*
 * Asynchronous VM_BIND: ops queued behind wait syncobjs (binary and timeline
 * points), run in submission order, signalling their syncobjs when the GPU
 * sees the change; SYNC_ONLY ops; a job whose input fence fails makes the VM
 * unusable (maps refused, unmaps still work); and the refusals of the sync
 * arrays. The inputs are mock fences the test signals by hand.
 */
#include <errno.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor asynchronous VM_BIND with syncobjs and timelines";

#define VA 0x3000000ull
#define SIGNAL DRM_PANTHOR_SYNC_OP_SIGNAL
#define WAIT DRM_PANTHOR_SYNC_OP_WAIT
#define TIMELINE DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ

static int fd = -1;
static uint32_t bo, vm;

static struct drm_panthor_sync_op sync_op(uint32_t flags, uint32_t handle, uint64_t point)
{
	return (struct drm_panthor_sync_op){ .flags = flags,
					     .handle = handle,
					     .timeline_value = point };
}

static int bind_async(struct drm_panthor_vm_bind_op op, struct drm_panthor_sync_op *syncs,
		      uint32_t nr_syncs)
{
	op.syncs = (struct drm_panthor_obj_array){ .stride = sizeof(*syncs),
						   .count = nr_syncs,
						   .array = (uintptr_t)syncs };
	return __panthor_vm_bind(fd, vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, sizeof(op), 1);
}

/* Is the (binary) syncobj signalled right now? */
static bool signalled(uint32_t syncobj)
{
	return syncobj_wait(fd, &syncobj, 1, 0, 0, NULL);
}

static bool point_signalled(uint32_t syncobj, uint64_t point)
{
	return syncobj_timeline_wait(fd, &syncobj, &point, 1, 0, 0, NULL);
}

static void wait_signalled(uint32_t syncobj)
{
	igt_assert(syncobj_wait(fd, &syncobj, 1, INT64_MAX, 0, NULL));
}

static const struct panthor_va_expect *whole_bo(void)
{
	static struct panthor_va_expect e;

	e = (struct panthor_va_expect){ .va = VA, .size = 4 * SZ_4K, .tag_bo = bo };
	return &e;
}

static void check(const struct panthor_va_expect *expect, unsigned int count)
{
	panthor_check_layout(fd, vm, VA - SZ_4K, VA + 5 * SZ_4K, expect, count);
}

/* Nothing happens before the input fence signals; then the map, then the output. */
static void test_wait_signal(void)
{
	uint32_t in = syncobj_create(fd, 0), out = syncobj_create(fd, 0), fence;
	struct drm_panthor_sync_op syncs[] = { sync_op(WAIT, in, 0), sync_op(SIGNAL, out, 0) };

	vm = panthor_vm_create(fd, NULL);
	fence = panthor_fence_attach(fd, in, 0);
	igt_assert_eq(bind_async(panthor_map_op(bo, 0, VA, 4 * SZ_4K, 0), syncs, 2), 0);
	usleep(10000);
	igt_assert(!signalled(out));
	check(NULL, 0);
	panthor_fence_signal(fd, fence, 0);
	wait_signalled(out);
	check(whole_bo(), 1);
	igt_assert_eq_u32(panthor_vm_state(fd, vm), DRM_PANTHOR_VM_STATE_USABLE);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	panthor_vm_destroy(fd, vm);
	panthor_check_mmu_clean(fd);
}

/* Jobs of one VM run in order: an unmap queued behind a blocked map waits too. */
static void test_in_order(void)
{
	uint32_t in = syncobj_create(fd, 0), out = syncobj_create(fd, 0), fence;
	struct drm_panthor_sync_op first[] = { sync_op(WAIT, in, 0) };
	struct drm_panthor_sync_op second[] = { sync_op(SIGNAL, out, 0) };
	struct panthor_va_expect after[] = {
		{ .va = VA, .size = SZ_4K, .tag_bo = bo },
		{ .va = VA + 3 * SZ_4K, .size = SZ_4K, .tag_bo = bo, .bo_offset = 3 * SZ_4K },
	};

	vm = panthor_vm_create(fd, NULL);
	fence = panthor_fence_attach(fd, in, 0);
	igt_assert_eq(bind_async(panthor_map_op(bo, 0, VA, 4 * SZ_4K, 0), first, 1), 0);
	igt_assert_eq(bind_async(panthor_unmap_op(VA + SZ_4K, 2 * SZ_4K), second, 1), 0);
	usleep(10000);
	igt_assert(!signalled(out));
	check(NULL, 0);
	panthor_fence_signal(fd, fence, 0);
	wait_signalled(out);
	check(after, 2);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	panthor_vm_destroy(fd, vm);
}

/* A chain on one timeline: map waits on point 1 and signals 2; unmap waits on 2, signals 3. */
static void test_timeline(void)
{
	uint32_t tl = syncobj_create(fd, 0), fence;
	struct drm_panthor_sync_op map_syncs[] = { sync_op(WAIT | TIMELINE, tl, 1),
						   sync_op(SIGNAL | TIMELINE, tl, 2) };
	struct drm_panthor_sync_op unmap_syncs[] = { sync_op(WAIT | TIMELINE, tl, 2),
						     sync_op(SIGNAL | TIMELINE, tl, 3) };
	struct panthor_va_expect last_page = {
		.va = VA + 3 * SZ_4K, .size = SZ_4K, .tag_bo = bo, .bo_offset = 3 * SZ_4K
	};
	uint64_t point = 0;

	vm = panthor_vm_create(fd, NULL);
	fence = panthor_fence_attach(fd, tl, 1);
	igt_assert_eq(bind_async(panthor_map_op(bo, 0, VA, 4 * SZ_4K, 0), map_syncs, 2), 0);
	igt_assert_eq(bind_async(panthor_unmap_op(VA, 3 * SZ_4K), unmap_syncs, 2), 0);
	usleep(10000);
	igt_assert(!point_signalled(tl, 1));
	igt_assert(!point_signalled(tl, 3));
	check(NULL, 0);
	panthor_fence_signal(fd, fence, 0);
	igt_assert(syncobj_timeline_wait(fd, &tl, &(uint64_t){ 3 }, 1, INT64_MAX, 0, NULL));
	check(&last_page, 1);
	syncobj_timeline_query(fd, &tl, &point, 1);
	igt_assert_eq_u64(point, 3);
	syncobj_destroy(fd, tl);
	panthor_vm_destroy(fd, vm);
}

/*
 * In-array chaining (1.8): the second op waits on a timeline point that the
 * first op of the same array signals; it waits for that op, not for a fence
 * the syncobj does not have yet.
 */
static void test_in_array_chain(void)
{
	uint32_t in = syncobj_create(fd, 0), tl = syncobj_create(fd, 0), fence;
	struct drm_panthor_sync_op map_syncs[] = { sync_op(WAIT, in, 0),
						   sync_op(SIGNAL | TIMELINE, tl, 1) };
	struct drm_panthor_sync_op unmap_syncs[] = { sync_op(WAIT | TIMELINE, tl, 1),
						     sync_op(SIGNAL | TIMELINE, tl, 2) };
	struct drm_panthor_vm_bind_op ops[] = {
		panthor_map_op(bo, 0, VA, 4 * SZ_4K, 0),
		panthor_unmap_op(VA + SZ_4K, 2 * SZ_4K),
	};
	struct panthor_va_expect after[] = {
		{ .va = VA, .size = SZ_4K, .tag_bo = bo },
		{ .va = VA + 3 * SZ_4K, .size = SZ_4K, .tag_bo = bo, .bo_offset = 3 * SZ_4K },
	};

	vm = panthor_vm_create(fd, NULL);
	fence = panthor_fence_attach(fd, in, 0);
	ops[0].syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, map_syncs);
	ops[1].syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, unmap_syncs);
	igt_assert_eq(__panthor_vm_bind(fd, vm, DRM_PANTHOR_VM_BIND_ASYNC, ops, sizeof(ops[0]), 2),
		      0);
	usleep(10000);
	igt_assert(!point_signalled(tl, 1));
	check(NULL, 0);
	panthor_fence_signal(fd, fence, 0);
	igt_assert(syncobj_timeline_wait(fd, &tl, &(uint64_t){ 2 }, 1, INT64_MAX, 0, NULL));
	check(after, 2);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, tl);
	panthor_vm_destroy(fd, vm);
}

/* SYNC_ONLY: no mapping change, only the wait and the signal. */
static void test_sync_only(void)
{
	uint32_t in = syncobj_create(fd, 0), out = syncobj_create(fd, 0), fence;
	struct drm_panthor_sync_op syncs[] = { sync_op(WAIT, in, 0), sync_op(SIGNAL, out, 0) };
	struct drm_panthor_vm_bind_op op = { .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY };

	vm = panthor_vm_create(fd, NULL);
	panthor_map(fd, vm, bo, 0, VA, 4 * SZ_4K, 0);
	fence = panthor_fence_attach(fd, in, 0);
	igt_assert_eq(bind_async(op, syncs, 2), 0);
	usleep(10000);
	igt_assert(!signalled(out));
	panthor_fence_signal(fd, fence, 0);
	wait_signalled(out);
	check(whole_bo(), 1);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	panthor_vm_destroy(fd, vm);
}

/*
 * The input fence of a queued map fails: the VM is unusable, that job and the
 * one behind it are dropped (their signals come, the layout is unchanged),
 * maps are refused and unmaps still work.
 */
static void test_unusable(void)
{
	uint32_t in = syncobj_create(fd, 0), out = syncobj_create(fd, 0), fence;
	struct drm_panthor_sync_op first[] = { sync_op(WAIT, in, 0) };
	struct drm_panthor_sync_op second[] = { sync_op(SIGNAL, out, 0) };
	struct drm_panthor_vm_bind_op map = panthor_map_op(bo, 0, VA + 2 * SZ_4K, SZ_4K, 0);
	struct panthor_va_expect first_page = { .va = VA, .size = SZ_4K, .tag_bo = bo };

	vm = panthor_vm_create(fd, NULL);
	panthor_map(fd, vm, bo, 0, VA, 2 * SZ_4K, 0);
	fence = panthor_fence_attach(fd, in, 0);
	igt_assert_eq(bind_async(panthor_map_op(bo, 0, VA, 4 * SZ_4K, 0), first, 1), 0);
	igt_assert_eq(bind_async(panthor_unmap_op(VA, 4 * SZ_4K), second, 1), 0);
	panthor_fence_signal(fd, fence, -EIO);
	wait_signalled(out);
	igt_assert_eq_u32(panthor_vm_state(fd, vm), DRM_PANTHOR_VM_STATE_UNUSABLE);
	check((struct panthor_va_expect[]){ { .va = VA, .size = 2 * SZ_4K, .tag_bo = bo } }, 1);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &map, sizeof(map), 1), -EINVAL);
	check((struct panthor_va_expect[]){ { .va = VA, .size = 2 * SZ_4K, .tag_bo = bo } }, 1);
	panthor_unmap(fd, vm, VA + SZ_4K, SZ_4K);
	check(&first_page, 1);
	igt_assert_eq_u32(panthor_vm_state(fd, vm), DRM_PANTHOR_VM_STATE_UNUSABLE);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	panthor_vm_destroy(fd, vm);
}

/* Refused sync arrays: nothing queued, no fence put in the output syncobj. */
static void test_invalid(void)
{
	uint32_t out = syncobj_create(fd, 0);
	struct drm_syncobj_wait no_fence = { .handles = (uintptr_t)&out, .count_handles = 1 };
	const struct {
		struct drm_panthor_sync_op op;
		int err;
	} rows[] = {
		{ sync_op(SIGNAL, out + 100, 0), -EINVAL },     /* unknown syncobj to signal */
		{ sync_op(SIGNAL, out, 5), -EINVAL },           /* a point on a binary */
		{ sync_op(SIGNAL | 2, out, 0), -EINVAL },       /* unknown handle type */
		{ sync_op(SIGNAL | 1u << 8, out, 0), -EINVAL }, /* unknown flag */
	};
	struct drm_panthor_sync_op good = sync_op(SIGNAL, out, 0);
	struct drm_panthor_vm_bind_op op = panthor_map_op(bo, 0, VA, SZ_4K, 0);

	vm = panthor_vm_create(fd, NULL);
	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct drm_panthor_sync_op syncs[] = { good, rows[i].op };

		igt_assert_eq(bind_async(op, syncs, 2), rows[i].err);
	}
	op.syncs = (struct drm_panthor_obj_array){ .stride = 8,
						   .count = 1,
						   .array = (uintptr_t)&good };
	igt_assert_eq(__panthor_vm_bind(fd, vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, sizeof(op), 1),
		      -EINVAL);
	do_ioctl_err(fd, DRM_IOCTL_SYNCOBJ_WAIT, &no_fence, EINVAL);
	check(NULL, 0);
	syncobj_destroy(fd, out);
	panthor_vm_destroy(fd, vm);
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
		bo = panthor_bo_create_tagged(fd, 4);
	}

	igt_describe("an async map waits for its input fence, then maps, then signals");
	igt_subtest("async-wait-signal") {
		test_wait_signal();
	}
	igt_describe("async jobs of a VM run in order behind a blocked one");
	igt_subtest("async-in-order") {
		test_in_order();
	}
	igt_describe("a map and an unmap chained on the points of one timeline syncobj");
	igt_subtest("async-timeline") {
		test_timeline();
	}
	igt_describe("1.8: an op waits on a point an earlier op of its array signals");
	igt_subtest("async-in-array-chain") {
		test_in_array_chain();
	}
	igt_describe("SYNC_ONLY: signal after wait, mappings untouched");
	igt_subtest("async-sync-only") {
		test_sync_only();
	}
	igt_describe("a failed input fence: VM unusable, queued jobs dropped, unmaps still work");
	igt_subtest("async-unusable-vm") {
		test_unusable();
	}
	igt_describe("unknown syncobj, point on a binary, bad type/flags/stride: refused");
	igt_subtest("async-invalid") {
		test_invalid();
	}

	igt_fixture {
		gem_close(fd, bo);
		panthor_close(fd);
	}
}
