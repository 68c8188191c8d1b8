// SPDX-License-Identifier: MIT
/*
 * Tests of the mock device's fences and syncobjs (mockdrm/sync/),
 * through the ioctl entry points with libdrm's <drm.h> structs.
 *
 * Success paths check effects: after SIGNAL a polling WAIT succeeds, after
 * RESET it is -EINVAL, QUERY reports the points a wait would see. Every
 * error rule has a row in the error table, which also checks that the failed
 * call changed nothing (handles, fences, points, open fds). Waits that time
 * out must not return before their deadline; waits that succeed are released
 * by helper threads that install and signal fences after a delay.
 *
 * Usage: test-sync [--filter PATTERN]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
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

#include "mock_sync.h"
#include "test-util.h"

#define MS_NS 1000000ll
#define SEC_NS 1000000000ll
/* How long helper threads wait before they act, and short deadlines. */
#define DELAY_MS 30
#define SHORT_NS (30 * MS_NS)
/* A deadline that a correct implementation never reaches. */
#define LONG_NS (5 * SEC_NS)

#define WAIT_ALL DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL
#define FOR_SUBMIT DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT
#define AVAILABLE DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE
#define LAST_SUBMITTED DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED
#define SYNC_FILE_OUT DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE
#define SYNC_FILE_IN DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE

/* One device with two open files. */
struct env {
	struct mock_sync sync;
	struct mock_sync_table t1, t2;
};

static int env_setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));

	if (!env || mock_sync_init(&env->sync)) {
		free(env);
		return -1;
	}
	mock_sync_table_init(&env->t1, &env->sync);
	mock_sync_table_init(&env->t2, &env->sync);
	*state = env;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *env = *state;

	mock_sync_table_fini(&env->t1);
	mock_sync_table_fini(&env->t2);
	mock_sync_fini(&env->sync);
	free(env);
	return 0;
}

/* Ioctl wrappers: each returns the ioctl's result, asserting only setup. */

static uint32_t create(struct mock_sync_table *t, uint32_t flags)
{
	struct drm_syncobj_create a = { .flags = flags };

	CHECK_ERR("create", mock_syncobj_create_ioctl(t, &a), 0);
	return a.handle;
}

static int destroy(struct mock_sync_table *t, uint32_t handle)
{
	struct drm_syncobj_destroy a = { .handle = handle };

	return mock_syncobj_destroy_ioctl(t, &a);
}

static int wait_n(struct mock_sync_table *t, const uint32_t *handles, uint32_t count,
		  uint32_t flags, int64_t timeout, uint32_t *first)
{
	struct drm_syncobj_wait a = {
		.handles = (uintptr_t)handles,
		.timeout_nsec = timeout,
		.count_handles = count,
		.flags = flags,
		.first_signaled = first ? *first : 0,
	};
	int ret = mock_syncobj_wait_ioctl(t, &a);

	if (first)
		*first = a.first_signaled;
	return ret;
}

static int wait1(struct mock_sync_table *t, uint32_t handle, uint32_t flags, int64_t timeout)
{
	return wait_n(t, &handle, 1, flags, timeout, NULL);
}

static int tl_wait_n(struct mock_sync_table *t, const uint32_t *handles, const uint64_t *points,
		     uint32_t count, uint32_t flags, int64_t timeout, uint32_t *first)
{
	struct drm_syncobj_timeline_wait a = {
		.handles = (uintptr_t)handles,
		.points = (uintptr_t)points,
		.timeout_nsec = timeout,
		.count_handles = count,
		.flags = flags,
		.first_signaled = first ? *first : 0,
	};
	int ret = mock_syncobj_timeline_wait_ioctl(t, &a);

	if (first)
		*first = a.first_signaled;
	return ret;
}

static int tl_wait1(struct mock_sync_table *t, uint32_t handle, uint64_t point, uint32_t flags,
		    int64_t timeout)
{
	return tl_wait_n(t, &handle, &point, 1, flags, timeout, NULL);
}

static int signal1(struct mock_sync_table *t, uint32_t handle)
{
	struct drm_syncobj_array a = { .handles = (uintptr_t)&handle, .count_handles = 1 };

	return mock_syncobj_signal_ioctl(t, &a);
}

static int reset1(struct mock_sync_table *t, uint32_t handle)
{
	struct drm_syncobj_array a = { .handles = (uintptr_t)&handle, .count_handles = 1 };

	return mock_syncobj_reset_ioctl(t, &a);
}

static int tl_signal1(struct mock_sync_table *t, uint32_t handle, uint64_t point)
{
	struct drm_syncobj_timeline_array a = {
		.handles = (uintptr_t)&handle,
		.points = (uintptr_t)&point,
		.count_handles = 1,
	};

	return mock_syncobj_timeline_signal_ioctl(t, &a);
}

/* QUERY of one handle: the point, or UINT64_MAX when the ioctl failed. */
static uint64_t query1(struct mock_sync_table *t, uint32_t handle, uint32_t flags)
{
	uint64_t point = UINT64_MAX;
	struct drm_syncobj_timeline_array a = {
		.handles = (uintptr_t)&handle,
		.points = (uintptr_t)&point,
		.count_handles = 1,
		.flags = flags,
	};

	if (mock_syncobj_query_ioctl(t, &a))
		return UINT64_MAX;
	return point;
}

static int transfer(struct mock_sync_table *t, uint32_t src, uint64_t src_point, uint32_t dst,
		    uint64_t dst_point, uint32_t flags)
{
	struct drm_syncobj_transfer a = {
		.src_handle = src,
		.dst_handle = dst,
		.src_point = src_point,
		.dst_point = dst_point,
		.flags = flags,
	};

	return mock_syncobj_transfer_ioctl(t, &a);
}

static int export_fd(struct mock_sync_table *t, uint32_t handle, uint32_t flags, int *fd)
{
	struct drm_syncobj_handle a = { .handle = handle, .flags = flags, .fd = -1 };
	int ret = mock_syncobj_handle_to_fd_ioctl(t, &a);

	*fd = a.fd;
	return ret;
}

static int import_fd(struct mock_sync_table *t, int fd, uint32_t flags, uint32_t *handle)
{
	struct drm_syncobj_handle a = { .handle = *handle, .flags = flags, .fd = fd };
	int ret = mock_syncobj_fd_to_handle_ioctl(t, &a);

	*handle = a.handle;
	return ret;
}

/* The syncobj behind a handle, with a reference; fails the test when none. */
static struct mock_syncobj *find(struct mock_sync_table *t, uint32_t handle)
{
	struct mock_syncobj *s = mock_syncobj_find(t, handle);

	if (!s)
		fail_msg("handle %" PRIu32 " not found", handle);
	return s;
}

/* A new pending fence installed at @point of @handle; the caller's reference. */
static struct mock_fence *install_pending(struct mock_sync_table *t, uint32_t handle,
					  uint64_t point)
{
	struct mock_fence *f = mock_fence_create(t->sync);
	struct mock_syncobj *s = find(t, handle);

	assert_non_null(f);
	CHECK_ERR("install", mock_syncobj_install(s, point, f), 0);
	mock_syncobj_put(s);
	return f;
}

/* The fence at @point of @handle (no reference kept: only for identity), or NULL. */
static struct mock_fence *fence_id(struct mock_sync_table *t, uint32_t handle, uint64_t point)
{
	struct mock_syncobj *s = mock_syncobj_find(t, handle);
	struct mock_fence *f = NULL;

	if (s && !mock_syncobj_fence(s, point, &f))
		mock_fence_put(f);
	mock_syncobj_put(s);
	return f;
}

static bool is_timeline(struct mock_sync_table *t, uint32_t handle)
{
	struct mock_syncobj *s = find(t, handle);
	bool timeline = mock_syncobj_is_timeline(s);

	mock_syncobj_put(s);
	return timeline;
}

static bool fd_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags >= 0 && (flags & FD_CLOEXEC);
}

/*
 * A helper thread: after @install_ms it creates a pending fence and installs
 * it at @point of @handle (when @install_ms >= 0; else it uses @fence), then
 * after @signal_ms more it signals the fence with @error (when >= 0).
 */
struct helper {
	pthread_t thread;
	struct mock_sync_table *t;
	uint32_t handle;
	uint64_t point;
	int install_ms, signal_ms;
	int error;
	struct mock_fence *fence;
};

static void *helper_main(void *p)
{
	struct helper *h = p;

	if (h->install_ms >= 0) {
		struct mock_syncobj *s = mock_syncobj_find(h->t, h->handle);

		tu_sleep_ms(h->install_ms);
		h->fence = mock_fence_create(h->t->sync);
		if (!s || !h->fence || mock_syncobj_install(s, h->point, h->fence))
			abort();
		mock_syncobj_put(s);
	}
	if (h->signal_ms >= 0) {
		tu_sleep_ms(h->signal_ms);
		mock_fence_signal(h->fence, h->error);
	}
	return NULL;
}

static void helper_start(struct helper *h)
{
	assert_int_equal(pthread_create(&h->thread, NULL, helper_main, h), 0);
}

/* Join the helper and drop its fence reference. */
static void helper_join(struct helper *h)
{
	assert_int_equal(pthread_join(h->thread, NULL), 0);
	mock_fence_put(h->fence);
	h->fence = NULL;
}

/* The test owns @f: a helper that signals it after DELAY_MS. */
static void signal_later(struct helper *h, struct mock_fence *f)
{
	*h = (struct helper){ .install_ms = -1, .signal_ms = DELAY_MS, .fence = f };
	mock_fence_get(f);
	helper_start(h);
}

/* A wait that timed out must not have returned before its deadline. */
static void check_not_early(const char *ctx, int64_t deadline)
{
	int64_t end = tu_now_ns();

	if (end < deadline)
		fail_msg("%s: returned %" PRId64 " ns before its deadline", ctx, deadline - end);
}

static void check_status(const char *ctx, struct mock_fence *f, int want_status, int want_error)
{
	int error = 12345;

	CHECK_EQ(ctx, mock_fence_status(f, &error), want_status);
	if (want_status)
		CHECK_ERR(ctx, error, want_error);
}

/* CREATE, DESTROY: lowest free handles, SIGNALED, per-file handles. */
static void test_create_destroy(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;

	CHECK_EQ("first", create(t, 0), 1);
	CHECK_EQ("second", create(t, DRM_SYNCOBJ_CREATE_SIGNALED), 2);
	CHECK_EQ("third", create(t, 0), 3);
	CHECK_ERR("unsignaled: no fence", wait1(t, 1, 0, 0), -EINVAL);
	CHECK_ERR("signaled", wait1(t, 2, 0, 0), 0);
	CHECK_EQ("binary", is_timeline(t, 2), false);
	CHECK_EQ("query", query1(t, 2, 0), 0);

	CHECK_ERR("destroy 2", destroy(t, 2), 0);
	CHECK_ERR("gone", wait1(t, 2, 0, 0), -ENOENT);
	CHECK_ERR("destroy again", destroy(t, 2), -EINVAL);
	CHECK_EQ("lowest free reused", create(t, 0), 2);
	CHECK_ERR("new object has no fence", wait1(t, 2, 0, 0), -EINVAL);
	CHECK_EQ("next", create(t, 0), 4);
	/* Many handles: the table grows and keeps numbering densely. */
	for (uint32_t h = 5; h <= 40; h++)
		CHECK_EQ("grow", create(t, 0), h);
	CHECK_ERR("destroy 17", destroy(t, 17), 0);
	CHECK_EQ("hole filled", create(t, 0), 17);
	/* The other file has its own numbering. */
	CHECK_EQ("other file", create(&env->t2, 0), 1);
	CHECK_ERR("other file's handle 2", wait1(&env->t2, 2, 0, 0), -ENOENT);
}

/* SIGNAL and RESET, on several handles at once. */
static void test_signal_reset(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t h[3] = { create(t, 0), create(t, 0), create(t, DRM_SYNCOBJ_CREATE_SIGNALED) };
	struct drm_syncobj_array a = { .handles = (uintptr_t)h, .count_handles = 2 };
	struct mock_fence *pending = install_pending(t, h[1], 0);

	CHECK_ERR("signal", mock_syncobj_signal_ioctl(t, &a), 0);
	CHECK_ERR("wait all", wait_n(t, h, 3, WAIT_ALL, 0, NULL), 0);
	CHECK_EQ("replaced, not signaled", mock_fence_status(pending, NULL), 0);
	CHECK_EQ("query binary", query1(t, h[0], 0), 0);

	a.count_handles = 3;
	CHECK_ERR("reset", mock_syncobj_reset_ioctl(t, &a), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_ERR("reset: no fence", wait1(t, h[i], 0, 0), -EINVAL);
		CHECK_ERR("reset: for submit polls", wait1(t, h[i], FOR_SUBMIT, 0), -ETIME);
		assert_null(fence_id(t, h[i], 0));
	}
	/* A handle may appear twice. */
	h[1] = h[0];
	CHECK_ERR("signal twice", mock_syncobj_signal_ioctl(t, &a), 0);
	CHECK_ERR("signaled", wait1(t, h[0], 0, 0), 0);
	mock_fence_put(pending);
}

/* Waits that time out return -ETIME, and not before their deadline. */
static void test_wait_timeout(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t pend = create(t, 0), empty = create(t, 0), tl = create(t, 0);
	struct mock_fence *f1 = install_pending(t, pend, 0);
	struct mock_fence *f2 = install_pending(t, tl, 2);
	int64_t deadline;
	struct {
		const char *name;
		uint32_t handle;
		uint64_t point;
		uint32_t flags;
	} rows[] = {
		{ "binary pending", pend, 0, 0 },
		{ "binary for submit, none", empty, 0, FOR_SUBMIT },
		{ "timeline pending point", tl, 2, 0 },
		{ "timeline point not submitted", tl, 3, FOR_SUBMIT },
		{ "timeline available, none", tl, 5, AVAILABLE },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		deadline = tu_now_ns() + SHORT_NS;
		CHECK_ERR(rows[i].name,
			  tl_wait1(t, rows[i].handle, rows[i].point, rows[i].flags, deadline),
			  -ETIME);
		check_not_early(rows[i].name, deadline);
	}
	deadline = tu_now_ns() + SHORT_NS;
	CHECK_ERR("binary wait ioctl", wait1(t, pend, 0, deadline), -ETIME);
	check_not_early("binary wait ioctl", deadline);
	deadline = tu_now_ns() + SHORT_NS;
	CHECK_ERR("fence wait", mock_fence_wait(f1, deadline), -ETIME);
	check_not_early("fence wait", deadline);
	/* Deadlines in the past, and negative ones, poll. */
	CHECK_ERR("past deadline", wait1(t, pend, 0, tu_now_ns() - SEC_NS), -ETIME);
	CHECK_ERR("negative deadline", wait1(t, pend, 0, -1), -ETIME);
	CHECK_ERR("fence poll", mock_fence_wait(f2, 0), -ETIME);
	mock_fence_put(f1);
	mock_fence_put(f2);
}

/* Waits end when another thread signals the fence. */
static void test_wait_signaled_by_thread(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t bin = create(t, 0), tl = create(t, 0);
	struct helper h;
	struct {
		const char *name;
		uint32_t handle;
		uint64_t point;
		int64_t timeout; /* 0: INT64_MAX; else relative */
		bool timeline, fence_wait;
	} rows[] = {
		{ "wait, deadline", bin, 0, LONG_NS, false, false },
		{ "wait, forever", bin, 0, 0, false, false },
		{ "timeline wait, deadline", tl, 1, LONG_NS, true, false },
		{ "timeline wait, forever", tl, 1, 0, true, false },
		{ "fence wait", bin, 0, LONG_NS, false, true },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct mock_fence *f;
		int64_t start = tu_now_ns(), deadline;
		int ret;

		/* A fresh pending fence each round (a timeline point above the last). */
		f = install_pending(t, rows[i].handle, rows[i].timeline ? i + 1 : 0);
		deadline = rows[i].timeout ? start + rows[i].timeout : INT64_MAX;
		signal_later(&h, f);
		if (rows[i].fence_wait)
			ret = mock_fence_wait(f, deadline);
		else if (rows[i].timeline)
			ret = tl_wait1(t, rows[i].handle, i + 1, 0, deadline);
		else
			ret = wait1(t, rows[i].handle, 0, deadline);
		CHECK_ERR(rows[i].name, ret, 0);
		CHECK_EQ(rows[i].name, mock_fence_status(f, NULL), 1);
		if (tu_now_ns() - start < DELAY_MS * MS_NS)
			fail_msg("%s: returned before the signal", rows[i].name);
		helper_join(&h);
		mock_fence_put(f);
	}
}

/* WAIT_FOR_SUBMIT waits for a fence to appear, then for it; WAIT_AVAILABLE only for it to appear. */
static void test_wait_for_submit(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t bin = create(t, 0), tl = create(t, 0);
	struct helper h = { .t = t, .handle = bin, .install_ms = DELAY_MS, .signal_ms = DELAY_MS };
	int64_t start = tu_now_ns();

	helper_start(&h);
	CHECK_ERR("binary", wait1(t, bin, FOR_SUBMIT, start + LONG_NS), 0);
	if (tu_now_ns() - start < 2 * DELAY_MS * MS_NS)
		fail_msg("binary: returned before install + signal");
	helper_join(&h);

	/* A timeline point that is not submitted yet. */
	CHECK_ERR("point 1", tl_signal1(t, tl, 1), 0);
	h = (struct helper){
		.t = t, .handle = tl, .point = 3, .install_ms = DELAY_MS, .signal_ms = DELAY_MS
	};
	start = tu_now_ns();
	helper_start(&h);
	CHECK_ERR("timeline point 2", tl_wait1(t, tl, 2, FOR_SUBMIT, INT64_MAX), 0);
	if (tu_now_ns() - start < 2 * DELAY_MS * MS_NS)
		fail_msg("timeline: returned before install + signal");
	helper_join(&h);

	/* WAIT_AVAILABLE returns when the point has a fence, still pending. */
	h = (struct helper){
		.t = t, .handle = tl, .point = 4, .install_ms = DELAY_MS, .signal_ms = -1
	};
	start = tu_now_ns();
	helper_start(&h);
	CHECK_ERR("available", tl_wait1(t, tl, 4, AVAILABLE, start + LONG_NS), 0);
	assert_int_equal(pthread_join(h.thread, NULL), 0);
	CHECK_EQ("available: still pending", mock_fence_status(h.fence, NULL), 0);
	CHECK_ERR("available, signaled needed", tl_wait1(t, tl, 4, FOR_SUBMIT, 0), -ETIME);
	CHECK_ERR("available again: no wait", tl_wait1(t, tl, 4, AVAILABLE, 0), 0);
	mock_fence_signal(h.fence, 0);
	CHECK_ERR("signaled", tl_wait1(t, tl, 4, 0, 0), 0);
	mock_fence_put(h.fence);
}

/* WAIT_ALL against any, and first_signaled. */
static void test_wait_all_vs_any(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t h[4] = { create(t, 0), create(t, DRM_SYNCOBJ_CREATE_SIGNALED), create(t, 0),
			  create(t, DRM_SYNCOBJ_CREATE_SIGNALED) };
	struct mock_fence *f0 = install_pending(t, h[0], 0);
	struct mock_fence *f2 = install_pending(t, h[2], 0);
	uint64_t points[4] = { 0 };
	uint32_t first = 77;
	struct helper hp;

	CHECK_ERR("any", wait_n(t, h, 4, 0, 0, &first), 0);
	CHECK_EQ("any: first signaled", first, 1);
	first = 77;
	CHECK_ERR("timeline any", tl_wait_n(t, h, points, 4, 0, 0, &first), 0);
	CHECK_EQ("timeline any: first signaled", first, 1);
	first = 77;
	CHECK_ERR("all", wait_n(t, h, 4, WAIT_ALL, 0, &first), -ETIME);
	CHECK_EQ("all: first untouched", first, 77);

	mock_fence_signal(f0, 0);
	CHECK_ERR("any after signal", wait_n(t, h, 4, 0, 0, &first), 0);
	CHECK_EQ("lowest index wins", first, 0);

	/* WAIT_ALL sleeps until the last one is signaled by another thread. */
	signal_later(&hp, f2);
	first = 77;
	CHECK_ERR("all, signaled later", wait_n(t, h, 4, WAIT_ALL, tu_now_ns() + LONG_NS, &first),
		  0);
	CHECK_EQ("all: first untouched", first, 77);
	CHECK_EQ("all: really all", mock_fence_status(f2, NULL), 1);
	helper_join(&hp);
	mock_fence_put(f0);
	mock_fence_put(f2);
}

/* Any, with nothing signaled at first: the one another thread signals is reported. */
static void test_wait_any_signaled_later(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t h[2] = { create(t, 0), create(t, 0) };
	struct mock_fence *f0 = install_pending(t, h[0], 0);
	struct mock_fence *f1 = install_pending(t, h[1], 0);
	uint32_t first = 77;
	struct helper hp;

	signal_later(&hp, f1);
	CHECK_ERR("any, signaled later", wait_n(t, h, 2, 0, INT64_MAX, &first), 0);
	CHECK_EQ("first signaled", first, 1);
	CHECK_EQ("the other one still pending", mock_fence_status(f0, NULL), 0);
	helper_join(&hp);
	mock_fence_put(f0);
	mock_fence_put(f1);
}

/* Timeline points signaled out of order: a point waits for everything below it. */
static void test_timeline_out_of_order(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t tl = create(t, 0);
	struct mock_fence *f1 = install_pending(t, tl, 1);
	struct mock_fence *f2 = install_pending(t, tl, 2);
	struct mock_fence *f4 = install_pending(t, tl, 4);
	struct mock_fence *p4;
	struct mock_syncobj *s = find(t, tl);

	CHECK_EQ("timeline", mock_syncobj_is_timeline(s), true);
	CHECK_ERR("fence at 4", mock_syncobj_fence(s, 4, &p4), 0);
	CHECK_EQ("submitted", query1(t, tl, LAST_SUBMITTED), 4);
	CHECK_EQ("nothing signaled", query1(t, tl, 0), 0);

	mock_fence_signal(f4, 0);
	CHECK_EQ("4 alone does not count", query1(t, tl, 0), 0);
	CHECK_ERR("point 4 waits for 1 and 2", tl_wait1(t, tl, 4, 0, 0), -ETIME);
	CHECK_EQ("point fence pending", mock_fence_status(p4, NULL), 0);

	mock_fence_signal(f1, 0);
	CHECK_EQ("1 done", query1(t, tl, 0), 1);
	CHECK_ERR("point 1", tl_wait1(t, tl, 1, 0, 0), 0);
	CHECK_ERR("point 2", tl_wait1(t, tl, 2, 0, 0), -ETIME);
	/* Values between points wait for the point above them, as the kernel's chains. */
	CHECK_ERR("value 3 is point 4's", tl_wait1(t, tl, 3, 0, 0), -ETIME);
	CHECK_ERR("head: all points", tl_wait1(t, tl, 0, 0, 0), -ETIME);
	CHECK_ERR("binary wait: all points", wait1(t, tl, 0, 0), -ETIME);

	mock_fence_signal(f2, 0);
	CHECK_EQ("all done", query1(t, tl, 0), 4);
	CHECK_ERR("value 3", tl_wait1(t, tl, 3, 0, 0), 0);
	CHECK_ERR("head", wait1(t, tl, 0, 0), 0);
	CHECK_EQ("point fence signaled", mock_fence_status(p4, NULL), 1);
	CHECK_ERR("value 5: not submitted", tl_wait1(t, tl, 5, 0, 0), -EINVAL);
	mock_fence_put(p4);
	mock_syncobj_put(s);
	mock_fence_put(f1);
	mock_fence_put(f2);
	mock_fence_put(f4);
}

/* QUERY with and without LAST_SUBMITTED, over several handles. */
static void test_query(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t h[3] = { create(t, DRM_SYNCOBJ_CREATE_SIGNALED), create(t, 0), create(t, 0) };
	uint64_t points[3] = { 9, 9, 9 };
	struct drm_syncobj_timeline_array a = {
		.handles = (uintptr_t)h,
		.points = (uintptr_t)points,
		.count_handles = 3,
	};
	struct mock_fence *f7;

	CHECK_ERR("signal 3", tl_signal1(t, h[1], 3), 0);
	CHECK_ERR("signal 5", tl_signal1(t, h[1], 5), 0);
	f7 = install_pending(t, h[1], 7);
	CHECK_ERR("signal 2", tl_signal1(t, h[2], 2), 0);

	CHECK_ERR("query", mock_syncobj_query_ioctl(t, &a), 0);
	CHECK_EQ("binary", points[0], 0);
	CHECK_EQ("signaled", points[1], 5);
	CHECK_EQ("signaled", points[2], 2);
	a.flags = LAST_SUBMITTED;
	CHECK_ERR("query submitted", mock_syncobj_query_ioctl(t, &a), 0);
	CHECK_EQ("binary", points[0], 0);
	CHECK_EQ("submitted", points[1], 7);
	CHECK_EQ("submitted", points[2], 2);

	mock_fence_signal(f7, 0);
	CHECK_EQ("7 signaled", query1(t, h[1], 0), 7);
	/* SIGNAL replaces the whole chain with a binary fence, as in the kernel. */
	CHECK_ERR("binary signal", signal1(t, h[1]), 0);
	CHECK_EQ("binary again", query1(t, h[1], LAST_SUBMITTED), 0);
	CHECK_EQ("still a timeline", is_timeline(t, h[1]), true);
	CHECK_ERR("points restart", tl_signal1(t, h[1], 1), 0);
	CHECK_EQ("restarted", query1(t, h[1], 0), 1);
	CHECK_ERR("reset", reset1(t, h[1]), 0);
	CHECK_EQ("reset", query1(t, h[1], LAST_SUBMITTED), 0);
	mock_fence_put(f7);
}

/* TIMELINE_SIGNAL: several points, point 0, NULL points, a handle twice. */
static void test_timeline_signal(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t h[3] = { create(t, 0), create(t, 0), create(t, 0) };
	uint64_t points[3] = { 10, 0, 20 };
	struct drm_syncobj_timeline_array a = {
		.handles = (uintptr_t)h,
		.points = (uintptr_t)points,
		.count_handles = 3,
	};

	CHECK_ERR("signal", mock_syncobj_timeline_signal_ioctl(t, &a), 0);
	CHECK_EQ("10", query1(t, h[0], 0), 10);
	CHECK_EQ("point 0 is binary", query1(t, h[1], LAST_SUBMITTED), 0);
	CHECK_EQ("binary stays binary", is_timeline(t, h[1]), false);
	CHECK_ERR("point 0 signaled", wait1(t, h[1], 0, 0), 0);
	CHECK_EQ("timeline", is_timeline(t, h[2]), true);
	CHECK_ERR("wait 20", tl_wait1(t, h[2], 20, 0, 0), 0);
	CHECK_ERR("wait 15", tl_wait1(t, h[2], 15, 0, 0), 0);

	/* One handle twice, with increasing points. */
	h[1] = h[0];
	points[0] = 11;
	points[1] = 12;
	points[2] = 21;
	CHECK_ERR("twice", mock_syncobj_timeline_signal_ioctl(t, &a), 0);
	CHECK_EQ("12", query1(t, h[0], LAST_SUBMITTED), 12);

	/* NULL points: every point 0, a binary signal. */
	a.points = 0;
	CHECK_ERR("NULL points", mock_syncobj_timeline_signal_ioctl(t, &a), 0);
	CHECK_EQ("binary now", query1(t, h[2], LAST_SUBMITTED), 0);
	CHECK_ERR("signaled", wait1(t, h[2], 0, 0), 0);
}

/* TRANSFER between binary and timeline syncobjs. */
static void test_transfer(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t bin = create(t, 0), tl = create(t, 0), bin2 = create(t, 0), tl2 = create(t, 0);
	struct mock_fence *f = install_pending(t, bin, 0), *g;

	/* binary -> timeline point 5: the point is the binary fence. */
	CHECK_ERR("bin -> tl", transfer(t, bin, 0, tl, 5, 0), 0);
	CHECK_EQ("dst timeline", is_timeline(t, tl), true);
	CHECK_EQ("submitted", query1(t, tl, LAST_SUBMITTED), 5);
	CHECK_ERR("pending", tl_wait1(t, tl, 5, 0, 0), -ETIME);
	mock_fence_signal(f, 0);
	CHECK_ERR("signaled", tl_wait1(t, tl, 5, 0, 0), 0);
	CHECK_EQ("query", query1(t, tl, 0), 5);

	/* timeline point -> binary: the binary fence waits for everything up to it. */
	g = install_pending(t, tl, 6);
	CHECK_ERR("point 7", tl_signal1(t, tl, 7), 0);
	CHECK_ERR("tl -> bin", transfer(t, tl, 7, bin2, 0, 0), 0);
	CHECK_EQ("dst binary", is_timeline(t, bin2), false);
	CHECK_ERR("pending below", wait1(t, bin2, 0, 0), -ETIME);
	/* timeline -> timeline, then the source point signals. */
	CHECK_ERR("tl -> tl", transfer(t, tl, 6, tl2, 1, 0), 0);
	CHECK_ERR("tl2 pending", tl_wait1(t, tl2, 1, 0, 0), -ETIME);
	mock_fence_signal(g, 0);
	CHECK_ERR("bin2 signaled", wait1(t, bin2, 0, 0), 0);
	CHECK_ERR("tl2 signaled", tl_wait1(t, tl2, 1, 0, 0), 0);
	/* binary -> binary replaces; the same object as source and destination. */
	CHECK_ERR("reset", reset1(t, bin2), 0);
	CHECK_ERR("bin -> bin", transfer(t, bin, 0, bin2, 0, 0), 0);
	CHECK_EQ("same fence", (uintptr_t)fence_id(t, bin2, 0), (uintptr_t)f);
	CHECK_ERR("tl -> itself", transfer(t, tl, 6, tl, 8, 0), 0);
	CHECK_EQ("self", query1(t, tl, 0), 8);
	mock_fence_put(f);
	mock_fence_put(g);
}

/* TRANSFER with WAIT_FOR_SUBMIT: the source fence appears later. */
static void test_transfer_for_submit(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	uint32_t bin = create(t, 0), tl = create(t, 0);
	struct helper h = { .t = t, .handle = bin, .install_ms = DELAY_MS, .signal_ms = 0 };

	helper_start(&h);
	CHECK_ERR("for submit", transfer(t, bin, 0, tl, 2, FOR_SUBMIT), 0);
	helper_join(&h);
	CHECK_EQ("submitted", query1(t, tl, LAST_SUBMITTED), 2);
	CHECK_ERR("transferred", tl_wait1(t, tl, 2, 0, tu_now_ns() + LONG_NS), 0);
}

/* Plain export and import across two files. */
static void test_export_import_syncobj(void **state)
{
	struct env *env = *state;
	uint32_t h1 = create(&env->t1, 0), a = 0, b = 0;
	struct mock_syncobj *s1, *sa, *sb;
	int fd;

	CHECK_ERR("export", export_fd(&env->t1, h1, 0, &fd), 0);
	assert_true(fd >= 0);
	CHECK_EQ("cloexec", fd_cloexec(fd), true);
	CHECK_ERR("import", import_fd(&env->t2, fd, 0, &a), 0);
	CHECK_EQ("handle in file 2", a, 1);
	/* The kernel creates a new handle on every import (no lookup, unlike PRIME). */
	CHECK_ERR("import again", import_fd(&env->t2, fd, 0, &b), 0);
	CHECK_EQ("second handle", b, 2);
	s1 = find(&env->t1, h1);
	sa = find(&env->t2, a);
	sb = find(&env->t2, b);
	CHECK_EQ("same object", (uintptr_t)sa, (uintptr_t)s1);
	CHECK_EQ("same object", (uintptr_t)sb, (uintptr_t)s1);
	mock_syncobj_put(s1);
	mock_syncobj_put(sa);
	mock_syncobj_put(sb);

	/* A signal through one file is seen through the other. */
	CHECK_ERR("no fence yet", wait1(&env->t1, h1, 0, 0), -EINVAL);
	CHECK_ERR("signal in file 2", signal1(&env->t2, a), 0);
	CHECK_ERR("seen in file 1", wait1(&env->t1, h1, 0, 0), 0);
	CHECK_ERR("reset via the second handle", reset1(&env->t2, b), 0);
	CHECK_ERR("seen via the first", wait1(&env->t2, a, 0, 0), -EINVAL);

	/* Handles outlive the fd and the exporter's handle. */
	close(fd);
	CHECK_ERR("destroy original", destroy(&env->t1, h1), 0);
	CHECK_ERR("still there", signal1(&env->t2, a), 0);
	CHECK_ERR("still shared", wait1(&env->t2, b, 0, 0), 0);
	/* An export of the same syncobj again, from the other file. */
	CHECK_ERR("re-export", export_fd(&env->t2, b, 0, &fd), 0);
	a = 0;
	CHECK_ERR("import into file 1", import_fd(&env->t1, fd, 0, &a), 0);
	CHECK_EQ("lowest free", a, h1);
	CHECK_ERR("signaled", wait1(&env->t1, a, 0, 0), 0);
	close(fd);
}

/* Sync files: a snapshot of the fence, imported into an existing handle. */
static void test_export_import_sync_file(void **state)
{
	struct env *env = *state;
	uint32_t h1 = create(&env->t1, 0), h2 = create(&env->t2, 0), h3 = create(&env->t2, 0);
	struct mock_fence *f = install_pending(&env->t1, h1, 0);
	int fd, fd_tl;

	CHECK_ERR("export", export_fd(&env->t1, h1, SYNC_FILE_OUT, &fd), 0);
	CHECK_EQ("cloexec", fd_cloexec(fd), true);
	/* The file keeps the fence it was made from, whatever the syncobj does next. */
	CHECK_ERR("reset exporter", reset1(&env->t1, h1), 0);
	CHECK_ERR("import", import_fd(&env->t2, fd, SYNC_FILE_IN, &h2), 0);
	CHECK_EQ("handle unchanged", h2, 1);
	CHECK_EQ("the exported fence", (uintptr_t)fence_id(&env->t2, h2, 0), (uintptr_t)f);
	CHECK_ERR("pending", wait1(&env->t2, h2, 0, 0), -ETIME);
	mock_fence_signal(f, 0);
	CHECK_ERR("signaled", wait1(&env->t2, h2, 0, 0), 0);
	/* Importing replaces the handle's fence, of a timeline too. */
	CHECK_ERR("timeline", tl_signal1(&env->t2, h3, 4), 0);
	CHECK_ERR("import into timeline", import_fd(&env->t2, fd, SYNC_FILE_IN, &h3), 0);
	CHECK_EQ("replaced", query1(&env->t2, h3, LAST_SUBMITTED), 0);
	CHECK_EQ("the exported fence", (uintptr_t)fence_id(&env->t2, h3, 0), (uintptr_t)f);

	/* A timeline exports its head: signaled when every point is. */
	mock_fence_put(f);
	f = install_pending(&env->t2, h3, 5);
	CHECK_ERR("export timeline", export_fd(&env->t2, h3, SYNC_FILE_OUT, &fd_tl), 0);
	CHECK_ERR("import timeline head", import_fd(&env->t1, fd_tl, SYNC_FILE_IN, &h1), 0);
	CHECK_ERR("pending head", wait1(&env->t1, h1, 0, 0), -ETIME);
	mock_fence_signal(f, 0);
	CHECK_ERR("signaled head", wait1(&env->t1, h1, 0, 0), 0);
	close(fd);
	close(fd_tl);
	mock_fence_put(f);
}

/* Closing a file drops its handles; what others hold lives on (ASan checks for leaks). */
static void test_table_fini_drops_refs(void **state)
{
	struct env *env = *state;
	struct mock_sync_table t3;
	struct mock_syncobj *kept, *tl;
	struct mock_fence *f, *point;
	uint32_t h[4], imported = 0;
	int fd_obj, fd_file;

	mock_sync_table_init(&t3, &env->sync);
	h[0] = create(&t3, DRM_SYNCOBJ_CREATE_SIGNALED);
	h[1] = create(&t3, 0);
	h[2] = create(&t3, 0);
	h[3] = create(&t3, 0);
	f = install_pending(&t3, h[1], 3);
	CHECK_ERR("points", tl_signal1(&t3, h[1], 4), 0);
	CHECK_ERR("export", export_fd(&t3, h[1], 0, &fd_obj), 0);
	CHECK_ERR("sync file", export_fd(&t3, h[0], SYNC_FILE_OUT, &fd_file), 0);
	close(fd_file);
	kept = find(&t3, h[2]);
	tl = find(&t3, h[1]);
	CHECK_ERR("point fence", mock_syncobj_fence(tl, 4, &point), 0);
	mock_syncobj_put(tl);
	mock_sync_table_fini(&t3);

	/* The table is empty and usable again. */
	CHECK_EQ("gone", (uintptr_t)mock_syncobj_find(&t3, h[0]), 0);
	CHECK_EQ("numbering restarts", create(&t3, 0), 1);
	mock_sync_table_fini(&t3);
	/* Our references still work, and so does the export's. */
	CHECK_EQ("kept syncobj", mock_syncobj_is_timeline(kept), false);
	mock_syncobj_put(kept);
	CHECK_ERR("import after close", import_fd(&env->t1, fd_obj, 0, &imported), 0);
	CHECK_EQ("the closed file's timeline", query1(&env->t1, imported, LAST_SUBMITTED), 4);
	close(fd_obj);
	CHECK_EQ("point pending", mock_fence_status(point, NULL), 0);
	mock_fence_signal(f, 0);
	CHECK_EQ("point signaled", mock_fence_status(point, NULL), 1);
	CHECK_EQ("seen through the import", query1(&env->t1, imported, 0), 4);
	mock_fence_put(point);
	mock_fence_put(f);
}

/* Errors travel with fences; waits still succeed. */
static void test_fence_error(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	struct mock_fence *f = mock_fence_create(&env->sync);
	struct mock_fence *f1, *f2, *p2;
	uint32_t bin = create(t, 0), tl = create(t, 0);
	struct mock_syncobj *s;

	assert_non_null(f);
	check_status("new", f, 0, 0);
	mock_fence_signal(f, -EIO);
	check_status("failed", f, 1, -EIO);
	mock_fence_signal(f, -ECANCELED);
	check_status("signals once", f, 1, -EIO);
	CHECK_ERR("fence wait", mock_fence_wait(f, 0), 0);
	s = find(t, bin);
	CHECK_ERR("install", mock_syncobj_install(s, 0, f), 0);
	mock_syncobj_put(s);
	CHECK_ERR("syncobj wait succeeds", wait1(t, bin, 0, 0), 0);
	mock_fence_put(f);

	/* A point reports the first error from its own fence down. */
	f1 = install_pending(t, tl, 1);
	f2 = install_pending(t, tl, 2);
	s = find(t, tl);
	CHECK_ERR("point 2", mock_syncobj_fence(s, 2, &p2), 0);
	mock_fence_signal(f2, 0);
	check_status("point 2, 1 pending", p2, 0, 0);
	mock_fence_signal(f1, -ECANCELED);
	check_status("point 2", p2, 1, -ECANCELED);
	CHECK_ERR("timeline wait succeeds", tl_wait1(t, tl, 2, 0, 0), 0);
	mock_fence_put(p2);
	CHECK_ERR("point 1", mock_syncobj_fence(s, 1, &p2), 0);
	check_status("point 1", p2, 1, -ECANCELED);
	mock_fence_put(p2);
	mock_syncobj_put(s);
	mock_fence_put(f1);
	mock_fence_put(f2);
}

/* The device-facing calls: install, fence, is_timeline. */
static void test_install_api(void **state)
{
	struct env *env = *state;
	struct mock_sync_table *t = &env->t1;
	struct mock_fence *f = mock_fence_create(&env->sync), *got;
	struct mock_syncobj *s;

	s = find(t, create(t, 0));
	CHECK_ERR("no fence", mock_syncobj_fence(s, 0, &got), -EINVAL);
	CHECK_ERR("binary", mock_syncobj_install(s, 0, f), 0);
	CHECK_EQ("binary", mock_syncobj_is_timeline(s), false);
	CHECK_ERR("binary fence", mock_syncobj_fence(s, 0, &got), 0);
	CHECK_EQ("same fence", (uintptr_t)got, (uintptr_t)f);
	mock_fence_put(got);
	CHECK_ERR("binary has no point 1", mock_syncobj_fence(s, 1, &got), -EINVAL);
	CHECK_ERR("point 2", mock_syncobj_install(s, 2, f), 0);
	CHECK_EQ("timeline", mock_syncobj_is_timeline(s), true);
	CHECK_ERR("point 2 again", mock_syncobj_install(s, 2, f), -EINVAL);
	CHECK_ERR("point 1 after 2", mock_syncobj_install(s, 1, f), -EINVAL);
	CHECK_ERR("point 3", mock_syncobj_install(s, 3, f), 0);
	CHECK_ERR("point 1 is covered", mock_syncobj_fence(s, 1, &got), 0);
	mock_fence_put(got);
	CHECK_ERR("point 4 is not", mock_syncobj_fence(s, 4, &got), -EINVAL);
	/* Binary replacement of a timeline: no points left, still a timeline. */
	CHECK_ERR("replace", mock_syncobj_install(s, 0, f), 0);
	CHECK_ERR("points gone", mock_syncobj_fence(s, 3, &got), -EINVAL);
	CHECK_EQ("sticky", mock_syncobj_is_timeline(s), true);
	CHECK_ERR("point 1 again", mock_syncobj_install(s, 1, f), 0);
	mock_syncobj_put(s);
	mock_fence_put(f);
}

/*
 * Error table. The fixture, in file 1: 1 signaled binary, 2 binary with a
 * pending fence, 3 binary without a fence, 4 timeline with point 1 signaled
 * and point 3 pending; in file 2: 1 without a fence. fds: a syncobj export
 * of 1, a sync file of 2, a memfd nobody exported, a closed fd.
 */
enum {
	H_SIG = 1,
	H_PEND,
	H_EMPTY,
	H_TL,
	H_NONE = 99
};
enum fd_kind {
	FD_NONE,
	FD_OBJ,
	FD_FILE,
	FD_PLAIN,
	FD_CLOSED,
	FD_NEG
};
enum op {
	OP_CREATE,
	OP_DESTROY,
	OP_HANDLE_TO_FD,
	OP_FD_TO_HANDLE,
	OP_WAIT,
	OP_TIMELINE_WAIT,
	OP_RESET,
	OP_SIGNAL,
	OP_QUERY,
	OP_TIMELINE_SIGNAL,
	OP_TRANSFER,
};

struct err_row {
	const char *name;
	enum op op;
	uint32_t h[3];
	uint32_t count;
	uint64_t p[3];
	bool null_handles, null_points;
	bool bad_handles, bad_points; /* an address nothing is mapped at (issue 14) */
	uint32_t flags, pad;
	int64_t timeout;
	enum fd_kind fd;
	uint64_t src_point, dst_point; /* TRANSFER: h[0] -> h[1] */
	bool file2;
	int want;
};

struct err_fx {
	struct env *env;
	struct mock_fence *pending, *tl_pending;
	int fds[FD_NEG + 1];
};

static struct mock_sync_table *row_table(struct err_fx *fx, const struct err_row *r)
{
	return r->file2 ? &fx->env->t2 : &fx->env->t1;
}

/* Page 0 is never mapped: reading 0x10 faults in the kernel and in us. */
#define BAD_USER_PTR 0x10u

static uint64_t row_handles(const struct err_row *r)
{
	if (r->bad_handles)
		return BAD_USER_PTR;
	return r->null_handles ? 0 : (uintptr_t)r->h;
}

static uint64_t row_points(const struct err_row *r, const uint64_t *p)
{
	if (r->bad_points)
		return BAD_USER_PTR;
	return r->null_points ? 0 : (uintptr_t)p;
}

static int call_create(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_create a = { .handle = 0xdead, .flags = r->flags };
	int ret = mock_syncobj_create_ioctl(row_table(fx, r), &a);

	if (ret)
		CHECK_EQ(r->name, a.handle, 0xdead);
	return ret;
}

static int call_destroy(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_destroy a = { .handle = r->h[0], .pad = r->pad };

	return mock_syncobj_destroy_ioctl(row_table(fx, r), &a);
}

static int call_handle_to_fd(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_handle a = {
		.handle = r->h[0], .flags = r->flags, .fd = -7, .pad = r->pad
	};
	int ret = mock_syncobj_handle_to_fd_ioctl(row_table(fx, r), &a);

	if (ret)
		CHECK_EQ(r->name, a.fd, -7);
	return ret;
}

static int call_fd_to_handle(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_handle a = {
		.handle = r->h[0], .flags = r->flags, .fd = fx->fds[r->fd], .pad = r->pad
	};
	int ret = mock_syncobj_fd_to_handle_ioctl(row_table(fx, r), &a);

	if (ret)
		CHECK_EQ(r->name, a.handle, r->h[0]);
	return ret;
}

static int call_wait(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_wait a = { .handles = row_handles(r),
				      .timeout_nsec = r->timeout,
				      .count_handles = r->count,
				      .flags = r->flags,
				      .first_signaled = 0xdead };
	int ret = mock_syncobj_wait_ioctl(row_table(fx, r), &a);

	if (ret || !r->count)
		CHECK_EQ(r->name, a.first_signaled, 0xdead);
	return ret;
}

static int call_timeline_wait(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_timeline_wait a = { .handles = row_handles(r),
					       .points = row_points(r, r->p),
					       .timeout_nsec = r->timeout,
					       .count_handles = r->count,
					       .flags = r->flags,
					       .first_signaled = 0xdead };
	int ret = mock_syncobj_timeline_wait_ioctl(row_table(fx, r), &a);

	if (ret || !r->count)
		CHECK_EQ(r->name, a.first_signaled, 0xdead);
	return ret;
}

static int call_array(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_array a = { .handles = row_handles(r),
				       .count_handles = r->count,
				       .pad = r->pad };

	if (r->op == OP_RESET)
		return mock_syncobj_reset_ioctl(row_table(fx, r), &a);
	return mock_syncobj_signal_ioctl(row_table(fx, r), &a);
}

static int call_timeline_array(struct err_fx *fx, const struct err_row *r)
{
	uint64_t p[3];
	struct drm_syncobj_timeline_array a = { .handles = row_handles(r),
						.points = row_points(r, p),
						.count_handles = r->count,
						.flags = r->flags };
	int ret;

	memcpy(p, r->p, sizeof(p));
	if (r->op == OP_TIMELINE_SIGNAL)
		return mock_syncobj_timeline_signal_ioctl(row_table(fx, r), &a);
	ret = mock_syncobj_query_ioctl(row_table(fx, r), &a);
	if (ret && memcmp(p, r->p, sizeof(p)))
		fail_msg("%s: points written by a failed query", r->name);
	return ret;
}

static int call_transfer(struct err_fx *fx, const struct err_row *r)
{
	struct drm_syncobj_transfer a = { .src_handle = r->h[0],
					  .dst_handle = r->h[1],
					  .src_point = r->src_point,
					  .dst_point = r->dst_point,
					  .flags = r->flags,
					  .pad = r->pad };

	return mock_syncobj_transfer_ioctl(row_table(fx, r), &a);
}

static int (*const row_calls[])(struct err_fx *, const struct err_row *) = {
	[OP_CREATE] = call_create,
	[OP_DESTROY] = call_destroy,
	[OP_HANDLE_TO_FD] = call_handle_to_fd,
	[OP_FD_TO_HANDLE] = call_fd_to_handle,
	[OP_WAIT] = call_wait,
	[OP_TIMELINE_WAIT] = call_timeline_wait,
	[OP_RESET] = call_array,
	[OP_SIGNAL] = call_array,
	[OP_QUERY] = call_timeline_array,
	[OP_TIMELINE_SIGNAL] = call_timeline_array,
	[OP_TRANSFER] = call_transfer,
};

static const struct err_row err_rows[] = {
	{ "create: unknown flag", OP_CREATE, .flags = 2, .want = -EINVAL },
	{ "destroy: pad", OP_DESTROY, { H_SIG }, .pad = 1, .want = -EINVAL },
	{ "destroy: unknown handle", OP_DESTROY, { H_NONE }, .want = -EINVAL },
	{ "destroy: handle 0", OP_DESTROY, { 0 }, .want = -EINVAL },
	{ "destroy: other file's handle", OP_DESTROY, { H_PEND }, .file2 = true, .want = -EINVAL },
	{ "handle_to_fd: pad", OP_HANDLE_TO_FD, { H_SIG }, .pad = 1, .want = -EINVAL },
	{ "handle_to_fd: unknown flag", OP_HANDLE_TO_FD, { H_SIG }, .flags = 2, .want = -EINVAL },
	{ "handle_to_fd: unknown handle", OP_HANDLE_TO_FD, { H_NONE }, .want = -EINVAL },
	{ "handle_to_fd: sync file, unknown handle",
	  OP_HANDLE_TO_FD,
	  { H_NONE },
	  .flags = SYNC_FILE_OUT,
	  .want = -ENOENT },
	{ "handle_to_fd: sync file, no fence",
	  OP_HANDLE_TO_FD,
	  { H_EMPTY },
	  .flags = SYNC_FILE_OUT,
	  .want = -EINVAL },
	{ "fd_to_handle: pad", OP_FD_TO_HANDLE, .fd = FD_OBJ, .pad = 1, .want = -EINVAL },
	{ "fd_to_handle: unknown flag", OP_FD_TO_HANDLE, .fd = FD_OBJ, .flags = 2,
	  .want = -EINVAL },
	{ "fd_to_handle: fd -1", OP_FD_TO_HANDLE, .fd = FD_NEG, .want = -EINVAL },
	{ "fd_to_handle: closed fd", OP_FD_TO_HANDLE, .fd = FD_CLOSED, .want = -EINVAL },
	{ "fd_to_handle: not exported", OP_FD_TO_HANDLE, .fd = FD_PLAIN, .want = -EINVAL },
	{ "fd_to_handle: sync file as syncobj", OP_FD_TO_HANDLE, .fd = FD_FILE, .want = -EINVAL },
	{ "fd_to_handle: syncobj as sync file",
	  OP_FD_TO_HANDLE,
	  { H_SIG },
	  .fd = FD_OBJ,
	  .flags = SYNC_FILE_IN,
	  .want = -EINVAL },
	{ "fd_to_handle: sync file, unknown handle",
	  OP_FD_TO_HANDLE,
	  { H_NONE },
	  .fd = FD_FILE,
	  .flags = SYNC_FILE_IN,
	  .want = -ENOENT },
	{ "fd_to_handle: bad fd before unknown handle",
	  OP_FD_TO_HANDLE,
	  { H_NONE },
	  .fd = FD_PLAIN,
	  .flags = SYNC_FILE_IN,
	  .want = -EINVAL },
	{ "wait: WAIT_AVAILABLE", OP_WAIT, { H_SIG }, 1, .flags = AVAILABLE, .want = -EINVAL },
	{ "wait: unknown flag", OP_WAIT, { H_SIG }, 1, .flags = 8, .want = -EINVAL },
	/* Linux: count 0 succeeds after the flags check (issue 10). */
	{ "wait: count 0", OP_WAIT, { H_SIG }, 0, .want = 0 },
	{ "wait: count 0, NULL handles", OP_WAIT, { 0 }, 0, .null_handles = true, .want = 0 },
	{ "wait: count 0, bad flag", OP_WAIT, { H_SIG }, 0, .flags = 8, .want = -EINVAL },
	{ "wait: count 0, WAIT_AVAILABLE",
	  OP_WAIT,
	  { H_SIG },
	  0,
	  .flags = AVAILABLE,
	  .want = -EINVAL },
	/* Issue 14: unreadable arrays are -EFAULT, not a crash. */
	{ "wait: handles at 0x10", OP_WAIT, { H_SIG }, 1, .bad_handles = true, .want = -EFAULT },
	{ "wait: more handles than the kernel allocates",
	  OP_WAIT,
	  { H_SIG },
	  0x40000000u,
	  .want = -ENOMEM },
	{ "wait: unknown handle", OP_WAIT, { H_SIG, H_NONE }, 2, .want = -ENOENT },
	{ "wait: unknown before no fence", OP_WAIT, { H_EMPTY, H_NONE }, 2, .want = -ENOENT },
	{ "wait: no fence", OP_WAIT, { H_EMPTY }, 1, .want = -EINVAL },
	{ "wait: any, one without fence", OP_WAIT, { H_SIG, H_EMPTY }, 2, .want = -EINVAL },
	{ "wait: pending, poll", OP_WAIT, { H_PEND }, 1, .want = -ETIME },
	{ "wait: pending, negative timeout", OP_WAIT, { H_PEND }, 1, .timeout = -5, .want = -ETIME },
	{ "wait: all, one pending",
	  OP_WAIT,
	  { H_SIG, H_PEND },
	  2,
	  .flags = WAIT_ALL,
	  .want = -ETIME },
	{ "wait: timeline head pending", OP_WAIT, { H_TL }, 1, .want = -ETIME },
	{ "wait: NULL handles", OP_WAIT, { H_SIG }, 1, .null_handles = true, .want = -EFAULT },
	{ "timeline_wait: unknown flag",
	  OP_TIMELINE_WAIT,
	  { H_SIG },
	  1,
	  .flags = 8,
	  .want = -EINVAL },
	{ "timeline_wait: count 0", OP_TIMELINE_WAIT, { H_SIG }, 0, .want = 0 },
	{ "timeline_wait: count 0, bad flag",
	  OP_TIMELINE_WAIT,
	  { H_SIG },
	  0,
	  .flags = 8,
	  .want = -EINVAL },
	{ "timeline_wait: handles at 0x10",
	  OP_TIMELINE_WAIT,
	  { H_SIG },
	  1,
	  .bad_handles = true,
	  .want = -EFAULT },
	{ "timeline_wait: points at 0x10",
	  OP_TIMELINE_WAIT,
	  { H_TL },
	  1,
	  .bad_points = true,
	  .want = -EFAULT },
	{ "timeline_wait: unknown handle before bad points",
	  OP_TIMELINE_WAIT,
	  { H_NONE },
	  1,
	  .bad_points = true,
	  .want = -ENOENT },
	{ "timeline_wait: unknown handle", OP_TIMELINE_WAIT, { H_NONE }, 1, .want = -ENOENT },
	{ "timeline_wait: point not submitted",
	  OP_TIMELINE_WAIT,
	  { H_TL },
	  1,
	  { 4 },
	  .want = -EINVAL },
	{ "timeline_wait: binary at point 1",
	  OP_TIMELINE_WAIT,
	  { H_SIG },
	  1,
	  { 1 },
	  .want = -EINVAL },
	{ "timeline_wait: point pending", OP_TIMELINE_WAIT, { H_TL }, 1, { 3 }, .want = -ETIME },
	{ "timeline_wait: value below a pending point",
	  OP_TIMELINE_WAIT,
	  { H_TL },
	  1,
	  { 2 },
	  .want = -ETIME },
	{ "timeline_wait: NULL points: head",
	  OP_TIMELINE_WAIT,
	  { H_TL },
	  1,
	  .null_points = true,
	  .want = -ETIME },
	{ "timeline_wait: available, not submitted",
	  OP_TIMELINE_WAIT,
	  { H_TL },
	  1,
	  { 4 },
	  .flags = AVAILABLE,
	  .want = -ETIME },
	{ "reset: pad", OP_RESET, { H_SIG }, 1, .pad = 1, .want = -EINVAL },
	{ "reset: count 0", OP_RESET, { H_SIG }, 0, .want = -EINVAL },
	{ "reset: unknown handle", OP_RESET, { H_SIG, H_NONE }, 2, .want = -ENOENT },
	{ "reset: NULL handles", OP_RESET, { H_SIG }, 1, .null_handles = true, .want = -EFAULT },
	{ "reset: handles at 0x10", OP_RESET, { H_SIG }, 1, .bad_handles = true, .want = -EFAULT },
	{ "reset: count 0, handles at 0x10",
	  OP_RESET,
	  { H_SIG },
	  0,
	  .bad_handles = true,
	  .want = -EINVAL },
	{ "signal: pad", OP_SIGNAL, { H_EMPTY }, 1, .pad = 1, .want = -EINVAL },
	{ "signal: count 0", OP_SIGNAL, { H_EMPTY }, 0, .want = -EINVAL },
	{ "signal: unknown handle", OP_SIGNAL, { H_EMPTY, H_NONE }, 2, .want = -ENOENT },
	{ "signal: handles at 0x10",
	  OP_SIGNAL,
	  { H_EMPTY },
	  1,
	  .bad_handles = true,
	  .want = -EFAULT },
	{ "signal: NULL handles", OP_SIGNAL, { H_EMPTY }, 1, .null_handles = true, .want = -EFAULT },
	{ "query: unknown flag", OP_QUERY, { H_TL }, 1, .flags = 2, .want = -EINVAL },
	{ "query: count 0", OP_QUERY, { H_TL }, 0, .want = -EINVAL },
	{ "query: unknown handle", OP_QUERY, { H_TL, H_NONE }, 2, { 7, 7 }, .want = -ENOENT },
	{ "query: NULL points", OP_QUERY, { H_TL }, 1, .null_points = true, .want = -EFAULT },
	{ "query: handles at 0x10", OP_QUERY, { H_TL }, 1, .bad_handles = true, .want = -EFAULT },
	{ "query: points at 0x10", OP_QUERY, { H_TL }, 1, .bad_points = true, .want = -EFAULT },
	/* Linux looks every handle up before it touches points. */
	{ "query: unknown handle before NULL points",
	  OP_QUERY,
	  { H_TL, H_NONE },
	  2,
	  .null_points = true,
	  .want = -ENOENT },
	{ "query: unknown handle before bad points",
	  OP_QUERY,
	  { H_NONE },
	  1,
	  .bad_points = true,
	  .want = -ENOENT },
	{ "timeline_signal: flags",
	  OP_TIMELINE_SIGNAL,
	  { H_TL },
	  1,
	  { 5 },
	  .flags = 1,
	  .want = -EINVAL },
	{ "timeline_signal: count 0", OP_TIMELINE_SIGNAL, { H_TL }, 0, { 5 }, .want = -EINVAL },
	{ "timeline_signal: handles at 0x10",
	  OP_TIMELINE_SIGNAL,
	  { H_TL },
	  1,
	  { 5 },
	  .bad_handles = true,
	  .want = -EFAULT },
	{ "timeline_signal: points at 0x10",
	  OP_TIMELINE_SIGNAL,
	  { H_TL },
	  1,
	  .bad_points = true,
	  .want = -EFAULT },
	{ "timeline_signal: unknown handle before bad points",
	  OP_TIMELINE_SIGNAL,
	  { H_NONE },
	  1,
	  .bad_points = true,
	  .want = -ENOENT },
	{ "timeline_signal: unknown handle",
	  OP_TIMELINE_SIGNAL,
	  { H_TL, H_NONE },
	  2,
	  { 5, 5 },
	  .want = -ENOENT },
	{ "timeline_signal: point not above last",
	  OP_TIMELINE_SIGNAL,
	  { H_TL },
	  1,
	  { 3 },
	  .want = -EINVAL },
	{ "timeline_signal: point below last",
	  OP_TIMELINE_SIGNAL,
	  { H_TL },
	  1,
	  { 2 },
	  .want = -EINVAL },
	{ "timeline_signal: same handle, decreasing",
	  OP_TIMELINE_SIGNAL,
	  { H_TL, H_TL },
	  2,
	  { 6, 5 },
	  .want = -EINVAL },
	{ "timeline_signal: second entry bad",
	  OP_TIMELINE_SIGNAL,
	  { H_EMPTY, H_TL },
	  2,
	  { 1, 3 },
	  .want = -EINVAL },
	{ "transfer: pad", OP_TRANSFER, { H_SIG, H_EMPTY }, .pad = 1, .want = -EINVAL },
	{ "transfer: unknown flag",
	  OP_TRANSFER,
	  { H_SIG, H_EMPTY },
	  .flags = WAIT_ALL,
	  .want = -EINVAL },
	{ "transfer: unknown dst", OP_TRANSFER, { H_SIG, H_NONE }, .want = -ENOENT },
	{ "transfer: unknown src", OP_TRANSFER, { H_NONE, H_EMPTY }, .want = -ENOENT },
	{ "transfer: src without fence", OP_TRANSFER, { H_EMPTY, H_SIG }, .want = -EINVAL },
	{ "transfer: src point not submitted",
	  OP_TRANSFER,
	  { H_TL, H_EMPTY },
	  .src_point = 4,
	  .want = -EINVAL },
	{ "transfer: src binary at point 1",
	  OP_TRANSFER,
	  { H_SIG, H_EMPTY },
	  .src_point = 1,
	  .want = -EINVAL },
	{ "transfer: dst point not above last",
	  OP_TRANSFER,
	  { H_SIG, H_TL },
	  .dst_point = 3,
	  .want = -EINVAL },
};

#define SNAP_HANDLES 6

/* What a failed call must leave as it was. */
struct snap {
	int fds;
	struct {
		bool present, timeline;
		struct mock_fence *head;
		uint64_t done, last;
	} h[2][SNAP_HANDLES + 1];
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void snap_take(struct env *env, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->fds = count_fds();
	for (int i = 0; i < 2; i++) {
		struct mock_sync_table *t = i ? &env->t2 : &env->t1;

		for (uint32_t h = 1; h <= SNAP_HANDLES; h++) {
			struct mock_syncobj *obj = mock_syncobj_find(t, h);

			if (!obj)
				continue;
			s->h[i][h].present = true;
			s->h[i][h].timeline = mock_syncobj_is_timeline(obj);
			s->h[i][h].head = fence_id(t, h, 0);
			s->h[i][h].done = query1(t, h, 0);
			s->h[i][h].last = query1(t, h, LAST_SUBMITTED);
			mock_syncobj_put(obj);
		}
	}
}

static void snap_check(const char *ctx, const struct snap *a, const struct snap *b)
{
	char where[160];

	CHECK_EQ(ctx, b->fds, a->fds);
	for (int i = 0; i < 2; i++) {
		for (int h = 1; h <= SNAP_HANDLES; h++) {
			snprintf(where, sizeof(where), "%s: file %d handle %d", ctx, i + 1, h);
			CHECK_EQ(where, b->h[i][h].present, a->h[i][h].present);
			CHECK_EQ(where, b->h[i][h].timeline, a->h[i][h].timeline);
			CHECK_EQ(where, (uintptr_t)b->h[i][h].head, (uintptr_t)a->h[i][h].head);
			CHECK_EQ(where, b->h[i][h].done, a->h[i][h].done);
			CHECK_EQ(where, b->h[i][h].last, a->h[i][h].last);
		}
	}
}

static void err_fx_init(struct err_fx *fx, struct env *env)
{
	struct mock_sync_table *t = &env->t1;

	fx->env = env;
	CHECK_EQ("fixture", create(t, DRM_SYNCOBJ_CREATE_SIGNALED), H_SIG);
	CHECK_EQ("fixture", create(t, 0), H_PEND);
	CHECK_EQ("fixture", create(t, 0), H_EMPTY);
	CHECK_EQ("fixture", create(t, 0), H_TL);
	CHECK_EQ("fixture", create(&env->t2, 0), 1);
	fx->pending = install_pending(t, H_PEND, 0);
	CHECK_ERR("fixture", tl_signal1(t, H_TL, 1), 0);
	fx->tl_pending = install_pending(t, H_TL, 3);
	fx->fds[FD_NONE] = -1;
	fx->fds[FD_NEG] = -1;
	CHECK_ERR("fixture", export_fd(t, H_SIG, 0, &fx->fds[FD_OBJ]), 0);
	CHECK_ERR("fixture", export_fd(t, H_PEND, SYNC_FILE_OUT, &fx->fds[FD_FILE]), 0);
	fx->fds[FD_PLAIN] = memfd_create("not-a-syncobj", MFD_CLOEXEC);
	assert_true(fx->fds[FD_PLAIN] >= 0);
	fx->fds[FD_CLOSED] = dup(fx->fds[FD_PLAIN]);
	close(fx->fds[FD_CLOSED]);
}

static void test_error_table(void **state)
{
	struct err_fx fx;
	struct snap before, after;

	err_fx_init(&fx, *state);
	for (size_t i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
		const struct err_row *r = &err_rows[i];

		snap_take(fx.env, &before);
		CHECK_ERR(r->name, row_calls[r->op](&fx, r), r->want);
		snap_take(fx.env, &after);
		snap_check(r->name, &before, &after);
	}
	/* The fixture really was what the rows assume. */
	CHECK_ERR("sig", wait1(&fx.env->t1, H_SIG, 0, 0), 0);
	CHECK_EQ("tl", query1(&fx.env->t1, H_TL, 0), 1);
	CHECK_EQ("tl", query1(&fx.env->t1, H_TL, LAST_SUBMITTED), 3);
	close(fx.fds[FD_OBJ]);
	close(fx.fds[FD_FILE]);
	close(fx.fds[FD_PLAIN]);
	mock_fence_put(fx.pending);
	mock_fence_put(fx.tl_pending);
}

/*
 * A producer adds pending points and signals them, some out of order,
 * while consumers wait for points (WAIT_FOR_SUBMIT) and query: for the
 * thread sanitizer, and to check that waits see a consistent timeline.
 */
#define STRESS_POINTS 300u
#define STRESS_CONSUMERS 2

struct stress {
	struct env *env;
	uint32_t tl;
	int failures;
};

static void *producer_main(void *p)
{
	struct stress *st = p;
	struct mock_syncobj *s = mock_syncobj_find(&st->env->t1, st->tl);
	struct mock_fence *prev = NULL;

	for (uint64_t pt = 1; pt <= STRESS_POINTS; pt++) {
		struct mock_fence *f = mock_fence_create(&st->env->sync);

		if (!f || mock_syncobj_install(s, pt, f))
			abort();
		/* Signal in pairs, the newer first. */
		if (prev) {
			mock_fence_signal(f, 0);
			mock_fence_signal(prev, 0);
			mock_fence_put(prev);
			prev = NULL;
		} else {
			prev = f;
			continue;
		}
		mock_fence_put(f);
	}
	if (prev) {
		mock_fence_signal(prev, 0);
		mock_fence_put(prev);
	}
	mock_syncobj_put(s);
	return NULL;
}

static void *consumer_main(void *p)
{
	struct stress *st = p;

	for (uint64_t pt = 1; pt <= STRESS_POINTS; pt += 7) {
		uint64_t done;

		if (tl_wait1(&st->env->t1, st->tl, pt, FOR_SUBMIT, tu_now_ns() + LONG_NS))
			__atomic_add_fetch(&st->failures, 1, __ATOMIC_RELAXED);
		done = query1(&st->env->t1, st->tl, 0);
		if (done < pt || done == UINT64_MAX)
			__atomic_add_fetch(&st->failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct stress st = { .env = *state };
	pthread_t prod, cons[STRESS_CONSUMERS];

	st.tl = create(&st.env->t1, 0);
	for (int i = 0; i < STRESS_CONSUMERS; i++)
		assert_int_equal(pthread_create(&cons[i], NULL, consumer_main, &st), 0);
	assert_int_equal(pthread_create(&prod, NULL, producer_main, &st), 0);
	assert_int_equal(pthread_join(prod, NULL), 0);
	for (int i = 0; i < STRESS_CONSUMERS; i++)
		assert_int_equal(pthread_join(cons[i], NULL), 0);
	CHECK_EQ("failed waits or queries", st.failures, 0);
	CHECK_EQ("all signaled", query1(&st.env->t1, st.tl, 0), STRESS_POINTS);
}

/*
 * Issue 14: QUERY writes points as copy_to_user() does. A read-only page
 * gives -EFAULT (it used to crash the process on the write), after the
 * handles were all found; a writable one gets the points.
 */
static void test_query_readonly_points(void **state)
{
	struct env *env = *state;
	uint32_t h = create(&env->t1, 0);
	uint64_t *page =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct drm_syncobj_timeline_array a = {
		.handles = (uintptr_t)&h,
		.points = (uintptr_t)page,
		.count_handles = 1,
	};

	assert_true(page != MAP_FAILED);
	CHECK_ERR("point 4", tl_signal1(&env->t1, h, 4), 0);
	page[0] = 77;
	assert_int_equal(mprotect(page, 4096, PROT_READ), 0);
	CHECK_ERR("read-only points", mock_syncobj_query_ioctl(&env->t1, &a), -EFAULT);
	CHECK_EQ("untouched", page[0], 77);
	assert_int_equal(mprotect(page, 4096, PROT_READ | PROT_WRITE), 0);
	CHECK_ERR("writable points", mock_syncobj_query_ioctl(&env->t1, &a), 0);
	CHECK_EQ("point written", page[0], 4);
	munmap(page, 4096);
}

/*
 * Issue 14: a thread flips handles[0] between a valid handle and ones that
 * do not exist while another calls the ioctls. Each call must see one value
 * (0 or -ENOENT, never a crash): the array is copied in once, as the
 * kernel's copy_from_user() does, not validated in place and read again.
 */
#define RACE_MS 400
/* Many entries: a wide window between a check of handles[0] and a second read. */
#define RACE_HANDLES 4096

struct flipper {
	volatile uint32_t *handles;
	uint32_t good;
	atomic_bool stop;
};

static void *flipper_main(void *p)
{
	struct flipper *fl = p;
	static const uint32_t bad[] = { 0, 99, 1u << 31 };

	for (unsigned int i = 0; !atomic_load(&fl->stop); i++)
		fl->handles[0] = (i & 1) ? fl->good : bad[(i / 2) % 3];
	return NULL;
}

static int race_call(struct mock_sync_table *t, volatile uint32_t *handles, int i)
{
	static uint64_t points[RACE_HANDLES];
	struct drm_syncobj_wait w = { .handles = (uintptr_t)handles,
				      .count_handles = RACE_HANDLES,
				      .flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL };
	struct drm_syncobj_array arr = { .handles = (uintptr_t)handles,
					 .count_handles = RACE_HANDLES };
	struct drm_syncobj_timeline_array q = { .handles = (uintptr_t)handles,
						.points = (uintptr_t)points,
						.count_handles = RACE_HANDLES };

	switch (i % 3) {
	case 0:
		return mock_syncobj_wait_ioctl(t, &w);
	case 1:
		return mock_syncobj_signal_ioctl(t, &arr);
	default:
		return mock_syncobj_query_ioctl(t, &q);
	}
}

static void test_handles_changed_during_call(void **state)
{
	struct env *env = *state;
	static volatile uint32_t handles[RACE_HANDLES];
	struct flipper fl = { .handles = handles };
	int counts[2] = { 0, 0 };
	pthread_t thread;
	int64_t end;

	fl.good = create(&env->t1, DRM_SYNCOBJ_CREATE_SIGNALED);
	for (int i = 0; i < RACE_HANDLES; i++)
		handles[i] = fl.good;
	atomic_init(&fl.stop, false);
	assert_int_equal(pthread_create(&thread, NULL, flipper_main, &fl), 0);
	end = tu_now_ns() + RACE_MS * MS_NS;
	for (int i = 0; tu_now_ns() < end; i++) {
		int ret = race_call(&env->t1, handles, i);

		if (ret != 0 && ret != -ENOENT)
			fail_msg("call %d: %d", i, ret);
		counts[ret == 0]++;
	}
	atomic_store(&fl.stop, true);
	assert_int_equal(pthread_join(thread, NULL), 0);
	print_message("racing calls: %d found the handle, %d did not\n", counts[1], counts[0]);
	CHECK_ERR("still signaled", wait1(&env->t1, fl.good, 0, 0), 0);
}

#define SYNC_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		SYNC_TEST(test_create_destroy),
		SYNC_TEST(test_signal_reset),
		SYNC_TEST(test_wait_timeout),
		SYNC_TEST(test_wait_signaled_by_thread),
		SYNC_TEST(test_wait_for_submit),
		SYNC_TEST(test_wait_all_vs_any),
		SYNC_TEST(test_wait_any_signaled_later),
		SYNC_TEST(test_timeline_out_of_order),
		SYNC_TEST(test_query),
		SYNC_TEST(test_timeline_signal),
		SYNC_TEST(test_transfer),
		SYNC_TEST(test_transfer_for_submit),
		SYNC_TEST(test_export_import_syncobj),
		SYNC_TEST(test_export_import_sync_file),
		SYNC_TEST(test_table_fini_drops_refs),
		SYNC_TEST(test_fence_error),
		SYNC_TEST(test_install_api),
		SYNC_TEST(test_error_table),
		SYNC_TEST(test_threads),
		SYNC_TEST(test_query_readonly_points),
		SYNC_TEST(test_handles_changed_during_call),
	};

	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			cmocka_set_test_filter(argv[i + 1]);
		} else {
			fprintf(stderr, "usage: %s [--filter PATTERN]\n", argv[0]);
			return 2;
		}
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
