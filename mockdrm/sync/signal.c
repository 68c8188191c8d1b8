// SPDX-License-Identifier: MIT
/*
 * The ioctls that change syncobjs' fences: RESET, SIGNAL, QUERY,
 * TIMELINE_SIGNAL, TRANSFER.
 */
#include <errno.h>
#include <stdlib.h>

#include <drm.h>

#include "mock_user.h"
#include "sync_private.h"

/* RESET, SIGNAL */

/*
 * Replace the fence of every handle in @a with @f (NULL: reset), after
 * finding them all: nothing changes unless every handle exists.
 */
static int array_replace(struct mock_sync_table *t, const struct drm_syncobj_array *a,
			 struct mock_fence *f)
{
	struct mock_syncobj **objs = NULL;
	uint32_t i, *handles;
	void *copy;
	int ret;

	if (a->pad || !a->count_handles)
		return -EINVAL;
	ret = mock_copy_array_from_user(&copy, a->handles, a->count_handles, sizeof(*handles));
	handles = copy;
	if (!ret) {
		objs = mock_calloc(a->count_handles, sizeof(*objs));
		ret = objs ? 0 : -ENOMEM;
	}
	if (!ret) {
		pthread_mutex_lock(t->sync->lock);
		ret = mock_sync_table_find_array(t, handles, a->count_handles, objs);
		for (i = 0; !ret && i < a->count_handles; i++)
			mock_syncobj_replace(objs[i], f);
		pthread_mutex_unlock(t->sync->lock);
	}
	free(objs);
	free(handles);
	return ret;
}

/**
 * mock_syncobj_reset_ioctl() - DRM_IOCTL_SYNCOBJ_RESET: drop each fence.
 * @t: the file's table.
 * @a: handles (user pointer to u32[count_handles]); pad must be 0.
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0; -EINVAL (pad, count 0); -ENOENT (an unknown handle: nothing
 * changed); -EFAULT (handles unreadable), -ENOMEM (also for more than
 * MOCK_USER_ARRAY_MAX bytes of handles).
 */
int mock_syncobj_reset_ioctl(struct mock_sync_table *t, struct drm_syncobj_array *a)
{
	return array_replace(t, a, NULL);
}

/**
 * mock_syncobj_signal_ioctl() - DRM_IOCTL_SYNCOBJ_SIGNAL: a signaled fence
 * replaces each fence (of a timeline: the whole chain, as in the kernel).
 * @t: the file's table.
 * @a: handles (user pointer to u32[count_handles]); pad must be 0.
 *
 * Context: takes the domain's lock; allocates.
 * Return: as mock_syncobj_reset_ioctl().
 */
int mock_syncobj_signal_ioctl(struct mock_sync_table *t, struct drm_syncobj_array *a)
{
	struct mock_fence *f = mock_fence_alloc(t->sync, true);
	int ret;

	if (!f)
		return -ENOMEM;
	ret = array_replace(t, a, f);
	mock_fence_put(f);
	return ret;
}

/* QUERY, TIMELINE_SIGNAL */

/* Each syncobj's point as QUERY reports it (lock taken). */
static int query_points(struct mock_sync_table *t, const uint32_t *handles, uint32_t count,
			uint32_t flags, uint64_t *points)
{
	struct mock_syncobj **objs = mock_calloc(count, sizeof(*objs));
	uint32_t i;
	int ret;

	if (!objs)
		return -ENOMEM;
	pthread_mutex_lock(t->sync->lock);
	ret = mock_sync_table_find_array(t, handles, count, objs);
	for (i = 0; !ret && i < count; i++)
		points[i] = (flags & DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) ?
				    mock_syncobj_last_point(objs[i]) :
				    mock_syncobj_last_signaled(objs[i]);
	pthread_mutex_unlock(t->sync->lock);
	free(objs);
	return ret;
}

/**
 * mock_syncobj_query_ioctl() - DRM_IOCTL_SYNCOBJ_QUERY.
 * @t: the file's table.
 * @a: handles and points (user pointers to count_handles u32 and u64);
 *	each point gets the highest signaled point, or with LAST_SUBMITTED
 *	the highest point submitted; 0 for a syncobj without points.
 *
 * Handles are all looked up before @a->points is written, with copy_to_user
 * semantics (an unwritable array: -EFAULT, not a crash).
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0; -EINVAL (flags, count 0); -ENOENT (unknown handle: nothing
 * written); -EFAULT (handles unreadable, points unwritable); -ENOMEM.
 */
int mock_syncobj_query_ioctl(struct mock_sync_table *t, struct drm_syncobj_timeline_array *a)
{
	uint64_t *points = NULL;
	uint32_t *handles;
	void *copy;
	int ret;

	if ((a->flags & ~DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) || !a->count_handles)
		return -EINVAL;
	ret = mock_copy_array_from_user(&copy, a->handles, a->count_handles, sizeof(*handles));
	handles = copy;
	if (!ret) {
		points = mock_calloc(a->count_handles, sizeof(*points));
		ret = points ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = query_points(t, handles, a->count_handles, a->flags, points);
	/* Every handle was found: only now is the caller's points array touched. */
	if (!ret)
		ret = mock_copy_to_user(a->points, points, a->count_handles * sizeof(*points));
	free(points);
	free(handles);
	return ret;
}

/*
 * Whether each non-zero point is above the last one of its syncobj, counting
 * the earlier entries of the same call (a handle may appear twice).
 */
static bool points_ordered(struct mock_syncobj **objs, const uint64_t *points, uint32_t count)
{
	uint32_t i, j;

	for (i = 0; i < count; i++) {
		uint64_t last = mock_syncobj_last_point(objs[i]);

		if (!points[i])
			continue;
		for (j = 0; j < i; j++)
			if (objs[j] == objs[i])
				last = points[j];
		if (points[i] <= last)
			return false;
	}
	return true;
}

/* What TIMELINE_SIGNAL copies and allocates before it changes anything. */
struct signal_mem {
	uint32_t *handles;
	uint64_t *points; /* zeros when the caller passed none */
	int points_err;   /* the copy of the points failed: reported after the lookups */
	struct mock_syncobj **objs;
	struct mock_fence **nodes;
	struct mock_fence *fence;
};

/* Add a signaled point per entry (0: replace the fence); all checked first. */
static int timeline_signal_locked(struct mock_sync_table *t, uint32_t count, struct signal_mem *m)
{
	uint32_t i;
	int ret;

	ret = mock_sync_table_find_array(t, m->handles, count, m->objs);
	if (ret)
		return ret;
	if (m->points_err)
		return m->points_err;
	if (!points_ordered(m->objs, m->points, count))
		return -EINVAL;
	for (i = 0; i < count; i++) {
		if (m->points[i]) {
			mock_syncobj_add_point(m->objs[i], m->nodes[i], m->points[i], m->fence);
			m->nodes[i] = NULL;
		} else {
			mock_syncobj_replace(m->objs[i], m->fence);
		}
	}
	return 0;
}

static void signal_mem_free(struct signal_mem *m, uint32_t count)
{
	uint32_t i;

	for (i = 0; m->nodes && i < count; i++)
		mock_fence_put(m->nodes[i]);
	free(m->nodes);
	free(m->objs);
	free(m->handles);
	free(m->points);
	mock_fence_put(m->fence);
}

/* Copy the caller's arrays once (handles first, as the kernel), then allocate. */
static int signal_mem_alloc(struct mock_sync *sync, struct signal_mem *m,
			    const struct drm_syncobj_timeline_array *a)
{
	uint32_t i, count = a->count_handles;
	void *copy;
	int ret;

	ret = mock_copy_array_from_user(&copy, a->handles, count, sizeof(*m->handles));
	m->handles = copy;
	if (ret)
		return ret;
	if (a->points) {
		m->points_err =
			mock_copy_array_from_user(&copy, a->points, count, sizeof(*m->points));
		m->points = copy;
	}
	if (!m->points)
		m->points = mock_calloc(count, sizeof(*m->points));
	m->objs = mock_calloc(count, sizeof(*m->objs));
	m->nodes = mock_calloc(count, sizeof(*m->nodes));
	m->fence = mock_fence_alloc(sync, true);
	if (!m->points || !m->objs || !m->nodes || !m->fence)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		m->nodes[i] = mock_fence_alloc(sync, false);
		if (!m->nodes[i])
			return -ENOMEM;
	}
	return 0;
}

/**
 * mock_syncobj_timeline_signal_ioctl() - DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL.
 * @t: the file's table.
 * @a: handles and points (user pointers; points NULL: all 0); each entry
 *	adds a signaled point, or for point 0 replaces the fence with a
 *	signaled one; flags must be 0.
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0; -EINVAL (flags, count 0, a point not above its syncobj's last
 * point); -ENOENT (unknown handle); -EFAULT, -ENOMEM. Nothing changes on
 * failure.
 */
int mock_syncobj_timeline_signal_ioctl(struct mock_sync_table *t,
				       struct drm_syncobj_timeline_array *a)
{
	struct signal_mem m = { 0 };
	int ret;

	if (a->flags || !a->count_handles)
		return -EINVAL;
	ret = signal_mem_alloc(t->sync, &m, a);
	if (!ret) {
		pthread_mutex_lock(t->sync->lock);
		ret = timeline_signal_locked(t, a->count_handles, &m);
		pthread_mutex_unlock(t->sync->lock);
	}
	signal_mem_free(&m, a->count_handles);
	return ret;
}

/* TRANSFER */

/*
 * The source fence, waiting up to 5 s for it to be submitted with
 * WAIT_FOR_SUBMIT, as drm_syncobj_find_fence(). Lock held (dropped to sleep).
 */
static int transfer_src_fence(struct mock_syncobj *src, const struct drm_syncobj_transfer *a,
			      struct mock_fence **f)
{
	int64_t deadline = mock_sync_now_ns() + SUBMIT_TIMEOUT_NS;
	int ret;

	for (;;) {
		ret = mock_syncobj_fence_locked(src, a->src_point, f);
		if (!ret || !(a->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT))
			return ret;
		ret = mock_sync_sleep(src->sync, deadline);
		if (ret)
			return ret;
	}
}

static int transfer_locked(struct mock_sync_table *t, const struct drm_syncobj_transfer *a,
			   struct mock_fence *node)
{
	struct mock_syncobj *dst = mock_sync_table_lookup(t, a->dst_handle);
	struct mock_syncobj *src = mock_sync_table_lookup(t, a->src_handle);
	struct mock_fence *f;
	int ret;

	if (!dst || !src)
		return -ENOENT;
	/* A wait for submission drops the lock: hold both across it. */
	mock_syncobj_get(dst);
	mock_syncobj_get(src);
	ret = transfer_src_fence(src, a, &f);
	if (ret)
		goto out;
	if (!a->dst_point)
		mock_syncobj_replace(dst, f);
	else if (a->dst_point > mock_syncobj_last_point(dst))
		mock_syncobj_add_point(dst, node, a->dst_point, f);
	else
		ret = -EINVAL;
	mock_fence_put(f);
out:
	mock_syncobj_put(src);
	mock_syncobj_put(dst);
	return ret;
}

/**
 * mock_syncobj_transfer_ioctl() - DRM_IOCTL_SYNCOBJ_TRANSFER.
 * @t: the file's table.
 * @a: the fence of src_handle at src_point (0: its binary fence or head) goes
 *	to dst_handle: at dst_point as a new point, or for dst_point 0 as its
 *	fence; flags WAIT_FOR_SUBMIT waits up to 5 s for the source fence;
 *	pad must be 0.
 *
 * Context: may sleep with the domain's lock dropped; allocates.
 * Return: 0; -EINVAL (pad, flags, no source fence at that point, dst_point
 * not above the destination's last point); -ENOENT (unknown handle); -ETIME
 * (WAIT_FOR_SUBMIT timed out); -ENOMEM.
 */
int mock_syncobj_transfer_ioctl(struct mock_sync_table *t, struct drm_syncobj_transfer *a)
{
	struct mock_fence *node = NULL;
	int ret;

	if (a->pad || (a->flags & ~DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT))
		return -EINVAL;
	if (a->dst_point) {
		node = mock_fence_alloc(t->sync, false);
		if (!node)
			return -ENOMEM;
	}
	pthread_mutex_lock(t->sync->lock);
	ret = transfer_locked(t, a, node);
	pthread_mutex_unlock(t->sync->lock);
	if (ret)
		mock_fence_put(node);
	return ret;
}
