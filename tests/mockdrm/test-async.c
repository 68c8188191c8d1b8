// SPDX-License-Identifier: MIT
/*
 * Asynchronous VM_BIND on the mock device (mockdrm/dev/vm.c, DOC: bind queue): jobs
 * wait for their input fences, commit in submission order, signal their
 * output syncobjs in that order; an input fence signalled with an error makes
 * the VM unusable and gives up every job behind it.
 *
 * Inputs are mock fences (GPUVM_IOCTL_MOCK_FENCE_ATTACH/SIGNAL) that the test
 * signals in a chosen order, one at a time. After each signal the test waits
 * for the outputs that must signal, gives the device SETTLE_MS to do anything
 * it must not do (commit a job early, signal an output early), then checks the
 * state the GPU sees through its MMU (GPUVM_IOCTL_MOCK_GPU_ACCESS), the output
 * syncobjs (SYNCOBJ_WAIT, TIMELINE_WAIT, QUERY) and VM_GET_STATE.
 *
 * What a failed job's output shows through the generic ioctls: it is
 * signaled, and SYNCOBJ_WAIT returns 0 as for a success (drm_syncobj: a
 * fence's error does not fail a wait; the sync room keeps the error in the fence
 * only). The error is seen by what depends on the fence: a bind of another VM
 * waiting on it fails in turn, making that VM unusable too.
 *
 * Also: a synchronous bind issued behind queued jobs waits for them (and
 * fails when they are given up); a SYNC_ONLY op is a job of the queue like
 * the others; closing a file with jobs queued, and destroying the device
 * right after, neither hangs nor touches freed memory (run it under ASan).
 * Every GPU check reads the mapped pages first, while the TLB still holds the
 * translations of before the last commit, and the device's strict-mode
 * counters must show no stale translation (GPUVM_IOCTL_MOCK_STATS).
 *
 * Usage: test-async [--filter PATTERN]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <drm.h>

#include "mock-test.h"

#define MS_NS ((int64_t)1000000)
/* How long a wrong implementation gets to commit or signal early. */
#define SETTLE_MS 20
/* A deadline that a correct implementation never reaches. */
#define LONG_MS 5000
/* A test that hangs is killed after this. */
#define WATCHDOG_S 20

#define VA0 (16 * MiB)
#define V(n) (VA0 + (uint64_t)(n)*MT_PAGE)
#define PG(n) ((uint64_t)(n)*MT_PAGE)
#define ASYNC DRM_PANTHOR_VM_BIND_ASYNC

/* One device, one VM, two BOs of 16 pages with their patterns. */
struct env {
	struct mt_dev d;
	uint32_t vm;
	struct mt_bo a, b;
};

static void watchdog(int sig)
{
	static const char msg[] = "test-async: a test hung (watchdog)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(2);
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	mt_open(&e->d, NULL);
	e->vm = mt_vm_create(&e->d);
	mt_bo_create(&e->d, PG(16), 1, &e->a);
	mt_bo_create(&e->d, PG(16), 2, &e->b);
	*state = e;
	alarm(WATCHDOG_S);
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	alarm(0);
	mt_bo_destroy(&e->d, &e->a);
	mt_bo_destroy(&e->d, &e->b);
	mt_close(&e->d);
	free(e);
	return 0;
}

/* Time and syncobjs */

/* An absolute CLOCK_MONOTONIC deadline @ms from now; 0 polls. */
static int64_t deadline(int64_t ms)
{
	return ms ? tu_now_ns() + ms * MS_NS : 0;
}

static uint32_t syncobj_new(struct mt_dev *d)
{
	struct drm_syncobj_create a = { 0 };

	CHECK_ERR("setup: SYNCOBJ_CREATE", mockdrm_ioctl(d->file, DRM_IOCTL_SYNCOBJ_CREATE, &a), 0);
	return a.handle;
}

/* A pending mock fence in @handle (at @point of a timeline, or 0 for binary). */
static uint32_t fence_new(struct mt_dev *d, uint32_t handle, uint64_t point)
{
	struct gpuvm_mock_fence_attach a = { .handle = handle, .point = point };

	CHECK_ERR("setup: MOCK_FENCE_ATTACH",
		  mockdrm_ioctl(d->file, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &a), 0);
	return a.fence_id;
}

static void fence_signal(struct mt_dev *d, uint32_t id, int error)
{
	struct gpuvm_mock_fence_signal a = { .fence_id = id, .error = error };

	CHECK_ERR("MOCK_FENCE_SIGNAL", mockdrm_ioctl(d->file, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &a),
		  0);
}

/* SYNCOBJ_WAIT on one binary syncobj: 0 signaled, -ETIME past the deadline. */
static int syncobj_wait(struct mt_dev *d, uint32_t handle, int64_t deadline_ns)
{
	struct drm_syncobj_wait a = {
		.handles = (uint64_t)(uintptr_t)&handle,
		.timeout_nsec = deadline_ns,
		.count_handles = 1,
	};

	return mockdrm_ioctl(d->file, DRM_IOCTL_SYNCOBJ_WAIT, &a);
}

static int timeline_wait(struct mt_dev *d, uint32_t handle, uint64_t point, int64_t deadline_ns)
{
	struct drm_syncobj_timeline_wait a = {
		.handles = (uint64_t)(uintptr_t)&handle,
		.points = (uint64_t)(uintptr_t)&point,
		.timeout_nsec = deadline_ns,
		.count_handles = 1,
	};

	return mockdrm_ioctl(d->file, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &a);
}

/* SYNCOBJ_QUERY: the highest signaled point, or with LAST_SUBMITTED the highest point. */
static uint64_t timeline_query(struct mt_dev *d, uint32_t handle, uint32_t flags)
{
	struct drm_syncobj_timeline_array a = {
		.handles = (uint64_t)(uintptr_t)&handle,
		.count_handles = 1,
		.flags = flags,
	};
	uint64_t point = ~0ull;

	a.points = (uint64_t)(uintptr_t)&point;
	CHECK_ERR("SYNCOBJ_QUERY", mockdrm_ioctl(d->file, DRM_IOCTL_SYNCOBJ_QUERY, &a), 0);
	return point;
}

/* Binds */

/* A syncobj point a job waits on or signals; handle 0: none. */
struct sync {
	uint32_t handle;
	uint64_t point;
};

static struct sync binary(uint32_t handle)
{
	return (struct sync){ .handle = handle };
}

static struct sync timeline_point(uint32_t handle, uint64_t point)
{
	return (struct sync){ .handle = handle, .point = point };
}

static struct drm_panthor_sync_op sync_op(struct sync s, uint32_t dir)
{
	uint32_t type = s.point ? DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ :
				  DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ;

	return (struct drm_panthor_sync_op){ .flags = type | dir,
					     .handle = s.handle,
					     .timeline_value = s.point };
}

/* One ASYNC op that waits for @in and signals @out. */
static int bind_async(struct mt_dev *d, uint32_t vm, struct gpuvm_vm_bind_op_repeat op,
		      struct sync in, struct sync out)
{
	struct drm_panthor_sync_op syncs[2];
	unsigned int n = 0;

	if (in.handle)
		syncs[n++] = sync_op(in, DRM_PANTHOR_SYNC_OP_WAIT);
	if (out.handle)
		syncs[n++] = sync_op(out, (uint32_t)DRM_PANTHOR_SYNC_OP_SIGNAL);
	mt_op_syncs(&op, syncs, n);
	return mt_bind(d, vm, ASYNC, &op, 1);
}

/* The state the GPU must see */

/* Page n of the window at VA0: page @page of @bo, or unmapped (@bo NULL). */
struct expect {
	const struct mt_bo *bo;
	uint64_t page;
};

static void check_mapped(struct mt_dev *d, uint32_t vm, const struct expect *x, unsigned int n,
			 const char *ctx)
{
	char msg[256];

	for (unsigned int i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "%s: page %u of the window", ctx, i);
		if (x[i].bo)
			mt_expect_bo_page(d, vm, V(i), x[i].bo, x[i].page, msg);
	}
}

/*
 * Mapped pages first: a fault disables the VM's slot and empties its TLB, so
 * they are read while the TLB still holds what the last check left there,
 * before whatever committed since. Then the holes; then the mapped pages again,
 * to leave the TLB warm for the next commit. No cached translation may have
 * disagreed with the tables.
 */
static void check_pages(struct mt_dev *d, uint32_t vm, const struct expect *x, unsigned int n,
			const char *ctx)
{
	char msg[256];

	check_mapped(d, vm, x, n, ctx);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "%s: page %u of the window", ctx, i);
		if (!x[i].bo)
			mt_expect_unmapped(d, vm, V(i), MT_PAGE, msg);
	}
	check_mapped(d, vm, x, n, ctx);
	mt_expect_no_stale(d, ctx);
}

/* Binary syncobj @h is signaled exactly when @want says. */
static void check_signaled(struct mt_dev *d, uint32_t h, bool want, const char *ctx)
{
	CHECK_ERR(ctx, syncobj_wait(d, h, 0), want ? 0 : -ETIME);
}

/* Out-of-order signals */

/*
 * Three jobs; each prefix of them leaves a different window, so the state
 * tells which jobs committed:
 *
 *   job 1  map A[0..4) at page 0     |A0|A1|A2|A3|  |
 *   job 2  map B[0..2) at page 2     |A0|A1|B0|B1|  |
 *   job 3  unmap page 0              |  |A1|B0|B1|  |
 *
 * Job 1 is one VM_BIND; jobs 2 and 3 are the two ops of a second one (one job
 * per op, as in panthor).
 */
#define JOBS 3
#define WIN 5

static void expect_after(const struct env *e, unsigned int k, struct expect *x)
{
	memset(x, 0, WIN * sizeof(*x));
	for (unsigned int i = 0; k >= 1 && i < 4; i++)
		x[i] = (struct expect){ .bo = &e->a, .page = i };
	for (unsigned int i = 2; k >= 2 && i < 4; i++)
		x[i] = (struct expect){ .bo = &e->b, .page = i - 2 };
	if (k >= 3)
		x[0].bo = NULL;
}

static void submit_jobs(struct env *e, const uint32_t *in, const uint32_t *out)
{
	struct gpuvm_vm_bind_op_repeat ops[2] = { mt_op_map(&e->b, 0, V(2), PG(2), 0),
						  mt_op_unmap(V(0), PG(1)) };
	struct drm_panthor_sync_op s[2][2];

	CHECK_ERR("job 1",
		  bind_async(&e->d, e->vm, mt_op_map(&e->a, 0, V(0), PG(4), 0), binary(in[0]),
			     binary(out[0])),
		  0);
	for (unsigned int i = 0; i < 2; i++) {
		s[i][0] = sync_op(binary(in[i + 1]), DRM_PANTHOR_SYNC_OP_WAIT);
		s[i][1] = sync_op(binary(out[i + 1]), (uint32_t)DRM_PANTHOR_SYNC_OP_SIGNAL);
		mt_op_syncs(&ops[i], s[i], 2);
	}
	CHECK_ERR("jobs 2 and 3", mt_bind(&e->d, e->vm, ASYNC, ops, 2), 0);
}

/*
 * Wait for the output of job @k (1-based; 0: none) while watching them all:
 * read in reverse order, a signaled output means that every earlier one was
 * already signaled when it was read. Outputs signal in submission order.
 */
static void watch_outputs(struct env *e, const uint32_t *out, unsigned int k, const char *ctx)
{
	int64_t end = deadline(LONG_MS);
	bool done = !k;

	while (!done) {
		bool later = false;

		for (unsigned int i = JOBS; i-- > 0;) {
			bool now = syncobj_wait(&e->d, out[i], 0) == 0;

			if (later && !now)
				fail_msg(
					"%s: the output of job %u signaled before the output of job %u",
					ctx, i + 2, i + 1);
			later = now;
			done = done || (i == k - 1 && now);
		}
		if (!done && tu_now_ns() > end)
			fail_msg("%s: the output of job %u did not signal", ctx, k);
	}
}

/* How many jobs may have committed: the inputs signaled form a prefix of them. */
static unsigned int committed(const bool *signaled)
{
	unsigned int k = 0;

	while (k < JOBS && signaled[k])
		k++;
	return k;
}

/* After an input signal: the first @k jobs and their outputs are done, no others. */
static void check_prefix(struct env *e, const uint32_t *out, unsigned int k, const char *ctx)
{
	struct expect x[WIN];
	char msg[160];

	watch_outputs(e, out, k, ctx);
	tu_sleep_ms(SETTLE_MS);
	for (unsigned int j = 0; j < JOBS; j++) {
		snprintf(msg, sizeof(msg), "%s: output of job %u", ctx, j + 1);
		check_signaled(&e->d, out[j], j < k, msg);
	}
	expect_after(e, k, x);
	check_pages(&e->d, e->vm, x, WIN, ctx);
}

struct order_row {
	const char *name;
	unsigned int order[JOBS]; /* jobs whose input is signaled, first to last (1-based) */
};

static const struct order_row order_rows[] = {
	{ "inputs signaled 1 2 3", { 1, 2, 3 } }, { "inputs signaled 1 3 2", { 1, 3, 2 } },
	{ "inputs signaled 2 1 3", { 2, 1, 3 } }, { "inputs signaled 2 3 1", { 2, 3, 1 } },
	{ "inputs signaled 3 1 2", { 3, 1, 2 } }, { "inputs signaled 3 2 1", { 3, 2, 1 } },
};

static void run_order(struct env *e, const struct order_row *row)
{
	uint32_t in[JOBS], out[JOBS], fence[JOBS];
	bool signaled[JOBS] = { false };
	char ctx[160];

	for (unsigned int j = 0; j < JOBS; j++) {
		in[j] = syncobj_new(&e->d);
		out[j] = syncobj_new(&e->d);
		fence[j] = fence_new(&e->d, in[j], 0);
	}
	submit_jobs(e, in, out);
	snprintf(ctx, sizeof(ctx), "%s, before any signal", row->name);
	check_prefix(e, out, 0, ctx);
	for (unsigned int i = 0; i < JOBS; i++) {
		unsigned int j = row->order[i] - 1;

		fence_signal(&e->d, fence[j], 0);
		signaled[j] = true;
		snprintf(ctx, sizeof(ctx), "%s, after input %u", row->name, j + 1);
		check_prefix(e, out, committed(signaled), ctx);
	}
	CHECK_EQ(row->name, mt_vm_state(&e->d, e->vm), DRM_PANTHOR_VM_STATE_USABLE);
}

static void test_out_of_order(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < ARRAY_SIZE(order_rows); i++) {
		struct gpuvm_vm_bind_op_repeat reset = mt_op_unmap(VA0, PG(WIN));

		run_order(e, &order_rows[i]);
		CHECK_ERR("reset the window", mt_bind(&e->d, e->vm, 0, &reset, 1), 0);
	}
}

/* A chain of timeline points */

/*
 * Job k (1..N) maps page k - 1 of A at page k - 1 of the window, waiting for
 * point k of timeline IN and signaling point k of timeline OUT. Point k of a
 * timeline is signaled once every point up to k is, so OUT advances one
 * point per job, in order, whatever order the inputs come in.
 */
#define CHAIN 5

struct chain_row {
	const char *name;
	unsigned int order[CHAIN]; /* points of IN signaled, first to last */
};

static const struct chain_row chain_rows[] = {
	{ "points signaled in order", { 1, 2, 3, 4, 5 } },
	{ "points signaled in reverse", { 5, 4, 3, 2, 1 } },
	{ "points signaled pairwise swapped", { 2, 1, 4, 3, 5 } },
	{ "points signaled scattered", { 3, 5, 1, 4, 2 } },
};

/* After a signal: OUT is at point @k exactly, pages below k mapped, the rest not. */
static void check_chain(struct env *e, uint32_t out, unsigned int k, const char *ctx)
{
	struct expect x[CHAIN + 1] = { { .bo = NULL } };

	if (k)
		CHECK_ERR(ctx, timeline_wait(&e->d, out, k, deadline(LONG_MS)), 0);
	tu_sleep_ms(SETTLE_MS);
	CHECK_EQ(ctx, timeline_query(&e->d, out, 0), k);
	CHECK_EQ(ctx, timeline_query(&e->d, out, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED), CHAIN);
	if (k < CHAIN) {
		CHECK_ERR(ctx, timeline_wait(&e->d, out, k + 1, 0), -ETIME);
		CHECK_ERR(ctx, timeline_wait(&e->d, out, k + 1, deadline(SETTLE_MS)), -ETIME);
		CHECK_ERR(ctx, timeline_wait(&e->d, out, CHAIN, 0), -ETIME);
	}
	for (unsigned int i = 0; i < k; i++)
		x[i] = (struct expect){ .bo = &e->a, .page = i };
	check_pages(&e->d, e->vm, x, CHAIN + 1, ctx);
}

static void run_chain(struct env *e, const struct chain_row *row)
{
	uint32_t in = syncobj_new(&e->d), out = syncobj_new(&e->d), fence[CHAIN];
	bool signaled[CHAIN] = { false };
	char ctx[160];
	unsigned int k;

	for (unsigned int p = 1; p <= CHAIN; p++)
		fence[p - 1] = fence_new(&e->d, in, p);
	for (unsigned int p = 1; p <= CHAIN; p++)
		CHECK_ERR(row->name,
			  bind_async(&e->d, e->vm, mt_op_map(&e->a, PG(p - 1), V(p - 1), PG(1), 0),
				     timeline_point(in, p), timeline_point(out, p)),
			  0);
	snprintf(ctx, sizeof(ctx), "%s, before any signal", row->name);
	check_chain(e, out, 0, ctx);
	for (unsigned int i = 0; i < CHAIN; i++) {
		fence_signal(&e->d, fence[row->order[i] - 1], 0);
		signaled[row->order[i] - 1] = true;
		for (k = 0; k < CHAIN && signaled[k];)
			k++;
		snprintf(ctx, sizeof(ctx), "%s, after point %u", row->name, row->order[i]);
		check_chain(e, out, k, ctx);
	}
}

static void test_timeline_chain(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < ARRAY_SIZE(chain_rows); i++) {
		struct gpuvm_vm_bind_op_repeat reset = mt_op_unmap(VA0, PG(CHAIN));

		run_chain(e, &chain_rows[i]);
		CHECK_ERR("reset the window", mt_bind(&e->d, e->vm, 0, &reset, 1), 0);
	}
}

/* A failed input */

/*
 * Before: A0 at page 0 and A5 at page 5, mapped synchronously.
 *   job 1  map A1 at page 1    waits in1   -> out1
 *   job 2  map A2 at page 2    waits in2   -> point 7 of timeline out2
 *   job 3  unmap page 0                    -> out3
 *   VM 2: job 4  map A3 at page 3  waits out1 -> out4
 * in2 signals fine, then in1 with -EIO: job 1 fails, jobs 2 and 3 are given
 * up, job 4 fails on its input; both VMs become unusable; page 0 stays mapped
 * (job 3 never ran), pages 1-3 never appear.
 */
struct failed {
	uint32_t vm2, in[2], out[4], fence[2];
};

static void failed_submit(struct env *e, struct failed *f)
{
	struct gpuvm_vm_bind_op_repeat pre[2] = { mt_op_map(&e->a, 0, V(0), PG(1), 0),
						  mt_op_map(&e->a, PG(5), V(5), PG(1), 0) };

	CHECK_ERR("map pages 0 and 5", mt_bind(&e->d, e->vm, 0, pre, 2), 0);
	f->vm2 = mt_vm_create(&e->d);
	for (unsigned int i = 0; i < 2; i++) {
		f->in[i] = syncobj_new(&e->d);
		f->fence[i] = fence_new(&e->d, f->in[i], 0);
	}
	for (unsigned int i = 0; i < 4; i++)
		f->out[i] = syncobj_new(&e->d);
	CHECK_ERR("job 1",
		  bind_async(&e->d, e->vm, mt_op_map(&e->a, PG(1), V(1), PG(1), 0),
			     binary(f->in[0]), binary(f->out[0])),
		  0);
	CHECK_ERR("job 2",
		  bind_async(&e->d, e->vm, mt_op_map(&e->a, PG(2), V(2), PG(1), 0),
			     binary(f->in[1]), timeline_point(f->out[1], 7)),
		  0);
	CHECK_ERR("job 3",
		  bind_async(&e->d, e->vm, mt_op_unmap(V(0), PG(1)), binary(0), binary(f->out[2])),
		  0);
	CHECK_ERR("job 4",
		  bind_async(&e->d, f->vm2, mt_op_map(&e->a, PG(3), V(3), PG(1), 0),
			     binary(f->out[0]), binary(f->out[3])),
		  0);
}

static void failed_check_before(struct env *e, const struct failed *f)
{
	const struct expect x[6] = {
		[0] = { .bo = &e->a, .page = 0 }, [5] = { .bo = &e->a, .page = 5 }
	};

	fence_signal(&e->d, f->fence[1], 0);
	tu_sleep_ms(SETTLE_MS);
	for (unsigned int i = 0; i < 4; i++)
		check_signaled(&e->d, f->out[i], false, "before the failure: an output");
	CHECK_EQ("before the failure", mt_vm_state(&e->d, e->vm), DRM_PANTHOR_VM_STATE_USABLE);
	check_pages(&e->d, e->vm, x, 6, "before the failure");
}

static void failed_check_after(struct env *e, const struct failed *f)
{
	const struct expect x[6] = {
		[0] = { .bo = &e->a, .page = 0 }, [5] = { .bo = &e->a, .page = 5 }
	};
	char ctx[64];

	for (unsigned int i = 0; i < 4; i++) {
		snprintf(ctx, sizeof(ctx), "after the failure: output of job %u", i + 1);
		CHECK_ERR(ctx, syncobj_wait(&e->d, f->out[i], deadline(LONG_MS)), 0);
	}
	/* A given-up job's point counts as reached, like any signaled one. */
	CHECK_EQ("after the failure: output point of job 2", timeline_query(&e->d, f->out[1], 0),
		 7);
	CHECK_EQ("after the failure: VM", mt_vm_state(&e->d, e->vm), DRM_PANTHOR_VM_STATE_UNUSABLE);
	CHECK_EQ("after the failure: VM 2, whose job waited on the failed job",
		 mt_vm_state(&e->d, f->vm2), DRM_PANTHOR_VM_STATE_UNUSABLE);
	check_pages(&e->d, e->vm, x, 6, "after the failure");
	mt_expect_unmapped(&e->d, f->vm2, VA0, PG(6), "after the failure: VM 2");
}

/* An unusable VM refuses every kind of map, synchronous or not, and changes nothing. */
static void failed_check_maps(struct env *e)
{
	struct gpuvm_vm_bind_op_repeat maps[] = {
		mt_op_map(&e->a, PG(6), V(6), PG(1), 0),
		mt_op_sparse(V(6), PG(1), 0),
		mt_op_repeat(&e->a, 0, PG(1), V(6), PG(2), 0),
	};
	struct gpuvm_vm_bind_op_repeat mixed[2] = { mt_op_unmap(V(0), PG(1)), maps[0] };

	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		CHECK_ERR("unusable VM: a synchronous map", mt_bind(&e->d, e->vm, 0, &maps[i], 1),
			  -EINVAL);
		CHECK_ERR("unusable VM: an async map", mt_bind(&e->d, e->vm, ASYNC, &maps[i], 1),
			  -EINVAL);
	}
	CHECK_ERR("unusable VM: unmap + map in one array", mt_bind(&e->d, e->vm, 0, mixed, 2),
		  -EINVAL);
	mt_expect_bo_page(&e->d, e->vm, V(0), &e->a, 0, "unusable VM: the refused array's unmap");
	mt_expect_unmapped(&e->d, e->vm, V(6), PG(2), "unusable VM: the refused maps");
}

/* Unmaps still work on an unusable VM: synchronous, and async behind a fence. */
static void failed_check_unmaps(struct env *e)
{
	struct gpuvm_vm_bind_op_repeat unmap = mt_op_unmap(V(0), PG(1));
	uint32_t in = syncobj_new(&e->d), out = syncobj_new(&e->d);
	uint32_t fence = fence_new(&e->d, in, 0);

	CHECK_ERR("unusable VM: synchronous unmap", mt_bind(&e->d, e->vm, 0, &unmap, 1), 0);
	mt_expect_unmapped(&e->d, e->vm, V(0), PG(1), "unusable VM: synchronous unmap");
	CHECK_ERR("unusable VM: async unmap",
		  bind_async(&e->d, e->vm, mt_op_unmap(V(5), PG(1)), binary(in), binary(out)), 0);
	tu_sleep_ms(SETTLE_MS);
	check_signaled(&e->d, out, false, "unusable VM: async unmap before its input");
	mt_expect_bo_page(&e->d, e->vm, V(5), &e->a, 5,
			  "unusable VM: async unmap before its input");
	fence_signal(&e->d, fence, 0);
	CHECK_ERR("unusable VM: async unmap", syncobj_wait(&e->d, out, deadline(LONG_MS)), 0);
	mt_expect_unmapped(&e->d, e->vm, V(5), PG(1), "unusable VM: async unmap");
	CHECK_EQ("unusable VM stays so", mt_vm_state(&e->d, e->vm), DRM_PANTHOR_VM_STATE_UNUSABLE);
}

static void test_failed_input(void **state)
{
	struct env *e = *state;
	struct failed f;

	failed_submit(e, &f);
	failed_check_before(e, &f);
	fence_signal(&e->d, f.fence[0], -EIO);
	failed_check_after(e, &f);
	failed_check_maps(e);
	failed_check_unmaps(e);
}

/* A synchronous bind behind queued async jobs */

struct sync_bind {
	struct mt_dev *d;
	uint32_t vm;
	struct gpuvm_vm_bind_op_repeat op;
	int ret;
	atomic_bool returned;
};

static void *sync_bind_thread(void *arg)
{
	struct sync_bind *s = arg;

	s->ret = mt_bind(s->d, s->vm, 0, &s->op, 1);
	atomic_store(&s->returned, true);
	return NULL;
}

/* After job 1 ran (or failed): the synchronous bind's result and the window. */
static void run_sync_behind_after(struct env *e, const struct sync_bind *s, int input_error,
				  const char *ctx)
{
	if (input_error) {
		if (s->ret >= 0)
			fail_msg("%s: the synchronous bind returned %d, want an error", ctx,
				 s->ret);
		mt_expect_unmapped(&e->d, e->vm, VA0, PG(2), ctx);
		CHECK_EQ(ctx, mt_vm_state(&e->d, e->vm), DRM_PANTHOR_VM_STATE_UNUSABLE);
		return;
	}
	CHECK_ERR(ctx, s->ret, 0);
	mt_expect_bo_page(&e->d, e->vm, V(0), &e->a, 0, ctx);
	mt_expect_bo_page(&e->d, e->vm, V(1), &e->a, 1, ctx);
}

/* Does the GPU read @va without a fault? (No assertion: a thread is still blocked.) */
static bool gpu_reads(struct mt_dev *d, uint32_t vm, uint64_t va)
{
	struct mt_access res;
	uint64_t word = 0;

	return !mt_gpu_read(d, vm, va, &word, sizeof(word), &res) && !res.status;
}

/*
 * job 1 (async) maps A0 at page 0 behind a pending input; a synchronous map
 * of A1 at page 1 must not return, nor show, before job 1 ran. If job 1's
 * input fails, the synchronous bind behind it is given up: it fails.
 * Nothing is asserted before the blocked thread is joined.
 */
static void run_sync_behind(struct env *e, int input_error)
{
	uint32_t in = syncobj_new(&e->d), out = syncobj_new(&e->d);
	uint32_t fence = fence_new(&e->d, in, 0);
	struct sync_bind s = { .d = &e->d,
			       .vm = e->vm,
			       .op = mt_op_map(&e->a, PG(1), V(1), PG(1), 0) };
	const char *ctx = input_error ? "sync bind behind a failing job" : "sync bind behind a job";
	bool early, shown;
	pthread_t thread;

	CHECK_ERR(ctx,
		  bind_async(&e->d, e->vm, mt_op_map(&e->a, 0, V(0), PG(1), 0), binary(in),
			     binary(out)),
		  0);
	assert_int_equal(pthread_create(&thread, NULL, sync_bind_thread, &s), 0);
	tu_sleep_ms(5 * SETTLE_MS);
	early = atomic_load(&s.returned);
	shown = gpu_reads(&e->d, e->vm, V(0)) || gpu_reads(&e->d, e->vm, V(1));
	fence_signal(&e->d, fence, input_error);
	pthread_join(thread, NULL);
	if (early)
		fail_msg(
			"%s: the synchronous bind returned %d before the async job's input signaled",
			ctx, s.ret);
	if (shown)
		fail_msg("%s: a mapping showed before the async job's input signaled", ctx);
	CHECK_ERR(ctx, syncobj_wait(&e->d, out, 0), 0);
	run_sync_behind_after(e, &s, input_error, ctx);
}

static void test_sync_behind_async(void **state)
{
	run_sync_behind(*state, 0);
}

static void test_sync_behind_failing_async(void **state)
{
	run_sync_behind(*state, -EIO);
}

/* A SYNC_ONLY op is a job like the others: in order, after its input. */
static void test_sync_only_job(void **state)
{
	struct env *e = *state;
	uint32_t in[2] = { syncobj_new(&e->d), syncobj_new(&e->d) };
	uint32_t out[2] = { syncobj_new(&e->d), syncobj_new(&e->d) };
	uint32_t fence[2] = { fence_new(&e->d, in[0], 0), fence_new(&e->d, in[1], 0) };
	struct gpuvm_vm_bind_op_repeat sync_only = {
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY
	};

	CHECK_ERR("job 1",
		  bind_async(&e->d, e->vm, mt_op_map(&e->a, 0, V(0), PG(1), 0), binary(in[0]),
			     binary(out[0])),
		  0);
	CHECK_ERR("job 2 (SYNC_ONLY)",
		  bind_async(&e->d, e->vm, sync_only, binary(in[1]), binary(out[1])), 0);
	fence_signal(&e->d, fence[1], 0);
	tu_sleep_ms(SETTLE_MS);
	check_signaled(&e->d, out[1], false, "SYNC_ONLY job behind a pending job");
	fence_signal(&e->d, fence[0], 0);
	CHECK_ERR("SYNC_ONLY job", syncobj_wait(&e->d, out[1], deadline(LONG_MS)), 0);
	check_signaled(&e->d, out[0], true, "the job before the SYNC_ONLY job");
	mt_expect_bo_page(&e->d, e->vm, V(0), &e->a, 0, "the job before the SYNC_ONLY job");
	CHECK_EQ("SYNC_ONLY job", mt_vm_state(&e->d, e->vm), DRM_PANTHOR_VM_STATE_USABLE);
}

/* Closing with jobs pending */

/* Jobs of every kind queued behind a fence nobody signals, then the file closes. */
static void queue_pending(struct mt_dev *d, uint32_t vm, const struct mt_bo *bo)
{
	uint32_t in = syncobj_new(d), out = syncobj_new(d);

	fence_new(d, in, 0);
	CHECK_ERR("pending map",
		  bind_async(d, vm, mt_op_map(bo, 0, V(0), PG(4), 0), binary(in), binary(out)), 0);
	CHECK_ERR("pending repeat",
		  bind_async(d, vm, mt_op_repeat(bo, 0, PG(2), V(8), PG(8), 0), binary(in),
			     binary(0)),
		  0);
	CHECK_ERR("pending unmap",
		  bind_async(d, vm, mt_op_unmap(V(1), PG(1)), binary(0), binary(out)), 0);
	CHECK_ERR("pending sparse",
		  bind_async(d, vm, mt_op_sparse(V(32), PG(4), 0), binary(0), binary(0)), 0);
}

/*
 * mockdrm_close() must neither hang nor leak with jobs pending (their test
 * fences are signaled with -ENODEV at close), and the device must be
 * destroyable right after. Repeated, so that a worker still running after
 * close has its chance to touch freed memory (ASan) or leak (LSan).
 */
static void test_close_pending(void **state)
{
	(void)state;
	alarm(WATCHDOG_S);
	for (unsigned int i = 0; i < 50; i++) {
		struct mt_dev d;
		struct mt_bo bo;
		uint32_t vm;

		mt_open(&d, NULL);
		vm = mt_vm_create(&d);
		mt_bo_create(&d, PG(16), 1, &bo);
		queue_pending(&d, vm, &bo);
		munmap(bo.cpu, bo.size);
		mt_close(&d);
	}
	alarm(0);
}

/* @handle of @from, imported into @to (the same syncobj). */
static uint32_t syncobj_share(struct mt_dev *from, uint32_t handle, struct mt_dev *to)
{
	struct drm_syncobj_handle exp = { .handle = handle }, imp = { 0 };

	CHECK_ERR("setup: SYNCOBJ_HANDLE_TO_FD",
		  mockdrm_ioctl(from->file, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &exp), 0);
	imp.fd = exp.fd;
	CHECK_ERR("setup: SYNCOBJ_FD_TO_HANDLE",
		  mockdrm_ioctl(to->file, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &imp), 0);
	close(exp.fd);
	return imp.handle;
}

/*
 * The job of a closed file waits on a fence of another file: close must not
 * wait for that fence; the job is killed (its output signaled, as the
 * kernel's scheduler kills an entity's jobs with -ESRCH when its file goes),
 * and the fence signalling later touches nothing freed.
 */
static void test_close_pending_foreign_fence(void **state)
{
	(void)state;
	alarm(WATCHDOG_S);
	for (unsigned int i = 0; i < 20; i++) {
		struct mt_dev d1, d2 = { 0 };
		struct mt_bo bo;
		uint32_t vm, in2, out2, fence;

		mt_open(&d1, NULL);
		assert_int_equal(mockdrm_open(d1.dev, MOCKDRM_NODE_RENDER, &d2.file), 0);
		vm = mt_vm_create(&d1);
		mt_bo_create(&d1, PG(16), 1, &bo);
		in2 = syncobj_new(&d2);
		out2 = syncobj_new(&d2);
		fence = fence_new(&d2, in2, 0);
		CHECK_ERR("job waiting on another file's fence",
			  bind_async(&d1, vm, mt_op_map(&bo, 0, V(0), PG(4), 0),
				     binary(syncobj_share(&d2, in2, &d1)),
				     binary(syncobj_share(&d2, out2, &d1))),
			  0);
		munmap(bo.cpu, bo.size);
		mockdrm_close(d1.file);
		check_signaled(&d2, out2, true, "the closed file's job, killed");
		fence_signal(&d2, fence, i % 2 ? -EIO : 0);
		mockdrm_close(d2.file);
		mockdrm_dev_destroy(d1.dev);
	}
	alarm(0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_out_of_order, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_timeline_chain, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_failed_input, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_sync_behind_async, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_sync_behind_failing_async, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_sync_only_job, env_setup, env_teardown),
		/* Last: a use-after-free here must not hide the results above. */
		cmocka_unit_test(test_close_pending_foreign_fence),
		cmocka_unit_test(test_close_pending),
	};

	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--filter") || i + 1 >= argc) {
			fprintf(stderr, "usage: %s [--filter PATTERN]\n", argv[0]);
			return 2;
		}
		cmocka_set_test_filter(argv[i + 1]);
	}
	signal(SIGALRM, watchdog);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
