// SPDX-License-Identifier: MIT
/*
 * The WAIT and TIMELINE_WAIT ioctls.
 */
#include <errno.h>
#include <stdlib.h>

#include <drm.h>

#include "mock_user.h"
#include "sync_private.h"

/* WAIT, TIMELINE_WAIT */

/* A wait request, from either ioctl. */
struct wait_req {
	uint64_t user_handles, user_points; /* the caller's arrays (points 0: every point 0) */
	uint32_t *handles;                  /* our copies of them */
	uint64_t *points;
	int points_err; /* the copy of the points failed: reported after the lookups */
	uint32_t count;
	uint32_t flags;
	int64_t deadline_ns;
	uint32_t first; /* out: first signaled, when !WAIT_ALL */
};

/* One syncobj waited on, and the fence latched once it had one. */
struct wait_entry {
	struct mock_syncobj *obj;
	struct mock_fence *fence;
	uint64_t point;
};

/*
 * Find every handle (-ENOENT) and latch the fences there are. A missing
 * fence is -EINVAL without WAIT_FOR_SUBMIT or WAIT_AVAILABLE, checked for
 * every entry before any wait, as drm_syncobj_array_wait_timeout(). Lock held.
 */
static int wait_setup(struct mock_sync_table *t, const struct wait_req *req, struct wait_entry *e)
{
	const uint32_t submit = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT |
				DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE;
	uint32_t i;

	for (i = 0; i < req->count; i++)
		if (!mock_sync_table_lookup(t, req->handles[i]))
			return -ENOENT;
	if (req->points_err)
		return req->points_err;
	for (i = 0; i < req->count; i++) {
		e[i].obj = mock_sync_table_lookup(t, req->handles[i]);
		mock_syncobj_get(e[i].obj);
		e[i].point = req->points ? req->points[i] : 0;
		if (mock_syncobj_fence_locked(e[i].obj, e[i].point, &e[i].fence) &&
		    !(req->flags & submit))
			return -EINVAL;
	}
	return 0;
}

/*
 * Latch fences submitted since, then count the entries that are done: signaled,
 * or only present for WAIT_AVAILABLE. Returns the first done index or -1.
 */
static int wait_scan(const struct wait_req *req, struct wait_entry *e, uint32_t *done)
{
	int first = -1;
	uint32_t i;

	*done = 0;
	for (i = 0; i < req->count; i++) {
		if (!e[i].fence && mock_syncobj_fence_locked(e[i].obj, e[i].point, &e[i].fence))
			continue;
		if ((req->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE) ||
		    mock_fence_settle(e[i].fence)) {
			if (first < 0)
				first = (int)i;
			(*done)++;
		}
	}
	return first;
}

/* Sleep until the entries are done (all, or any) or the deadline. Lock held. */
static int wait_loop(struct mock_sync *sync, struct wait_req *req, struct wait_entry *e)
{
	bool all = req->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL;
	uint32_t done;
	int first, ret;

	for (;;) {
		first = wait_scan(req, e, &done);
		if (done == req->count || (!all && first >= 0)) {
			req->first = (uint32_t)first;
			return 0;
		}
		ret = mock_sync_sleep(sync, req->deadline_ns);
		if (ret)
			return ret;
	}
}

/*
 * Copy the caller's arrays once, as drm_syncobj_array_find() and
 * drm_syncobj_array_wait() do: everything after works on the copies.
 */
static int wait_copy_in(struct wait_req *req)
{
	void *handles, *points;
	int ret;

	ret = mock_copy_array_from_user(&handles, req->user_handles, req->count,
					sizeof(*req->handles));
	if (ret)
		return ret;
	req->handles = handles;
	if (req->user_points) {
		req->points_err = mock_copy_array_from_user(&points, req->user_points, req->count,
							    sizeof(*req->points));
		req->points = points;
	}
	return 0;
}

/* Both ioctls after their flags check, for count_handles > 0. */
static int sync_wait(struct mock_sync_table *t, struct wait_req *req)
{
	struct wait_entry *e = NULL;
	uint32_t i;
	int ret;

	ret = wait_copy_in(req);
	if (!ret) {
		e = mock_calloc(req->count, sizeof(*e));
		ret = e ? 0 : -ENOMEM;
	}
	if (!ret) {
		pthread_mutex_lock(t->sync->lock);
		ret = wait_setup(t, req, e);
		if (!ret)
			ret = wait_loop(t->sync, req, e);
		pthread_mutex_unlock(t->sync->lock);
	}
	for (i = 0; e && i < req->count; i++) {
		mock_fence_put(e[i].fence);
		mock_syncobj_put(e[i].obj);
	}
	free(e);
	free(req->handles);
	free(req->points);
	return ret;
}

/**
 * mock_syncobj_wait_ioctl() - DRM_IOCTL_SYNCOBJ_WAIT.
 * @t: the file's table.
 * @a: handles (user pointer to u32[count_handles]); timeout_nsec (absolute
 *	CLOCK_MONOTONIC; 0 or past: poll; INT64_MAX: forever); flags WAIT_ALL
 *	(else any), WAIT_FOR_SUBMIT (wait for a fence to appear, then for it);
 *	first_signaled out when !WAIT_ALL.
 *
 * Context: sleeps with the domain's lock dropped; allocates.
 * Return: 0 (also for count_handles 0, after the flags check); -EINVAL
 * (flags, a handle without a fence and no WAIT_FOR_SUBMIT); -ENOENT (unknown
 * handle); -ETIME (deadline passed); -EFAULT (handles unreadable); -ENOMEM
 * (more than MOCK_USER_ARRAY_MAX bytes of handles).
 */
int mock_syncobj_wait_ioctl(struct mock_sync_table *t, struct drm_syncobj_wait *a)
{
	struct wait_req req = {
		.user_handles = a->handles,
		.count = a->count_handles,
		.flags = a->flags,
		.deadline_ns = a->timeout_nsec,
	};
	int ret;

	if (a->flags & ~(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT))
		return -EINVAL;
	if (!a->count_handles)
		return 0; /* Linux returns before looking at anything else */
	ret = sync_wait(t, &req);
	if (!ret && !(a->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL))
		a->first_signaled = req.first;
	return ret;
}

/**
 * mock_syncobj_timeline_wait_ioctl() - DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT.
 * @t: the file's table.
 * @a: as for mock_syncobj_wait_ioctl(), plus points (user pointer to
 *	u64[count_handles], NULL for all 0; see DOC: timelines) and the flag
 *	WAIT_AVAILABLE (done once the point has a fence, signaled or not).
 *
 * Context: sleeps with the domain's lock dropped; allocates.
 * Return: as mock_syncobj_wait_ioctl(); a point above the last submitted
 * counts as no fence; -EFAULT also for unreadable points (after -ENOENT).
 */
int mock_syncobj_timeline_wait_ioctl(struct mock_sync_table *t, struct drm_syncobj_timeline_wait *a)
{
	struct wait_req req = {
		.user_handles = a->handles,
		.user_points = a->points,
		.count = a->count_handles,
		.flags = a->flags,
		.deadline_ns = a->timeout_nsec,
	};
	int ret;

	if (a->flags & ~(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT |
			 DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE))
		return -EINVAL;
	if (!a->count_handles)
		return 0; /* Linux returns before looking at anything else */
	ret = sync_wait(t, &req);
	if (!ret && !(a->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL))
		a->first_signaled = req.first;
	return ret;
}
