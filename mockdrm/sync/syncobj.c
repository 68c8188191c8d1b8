// SPDX-License-Identifier: MIT
/*
 * Syncobjs: the container and its timeline of points (see DOC: fences and
 * syncobjs in mock_sync.h). The room's other files: domain.c (the lock, the
 * clock, set-up and fork), fence.c, table.c (handles; CREATE, DESTROY),
 * export.c (HANDLE_TO_FD, FD_TO_HANDLE), wait.c, signal.c (RESET, SIGNAL,
 * QUERY, TIMELINE_SIGNAL, TRANSFER).
 *
 * DOC: timelines
 *
 * A syncobj holds one head fence, as the kernel's drm_syncobj does: NULL, a
 * plain fence, or a point. A point (a fence with @chain set, the kernel's
 * dma_fence_chain) adds a fence (@link) at a 64-bit value on top of the
 * previous head (@prev). A point is signaled when its link and everything
 * below it are: point p of a timeline means "all work up to p is done".
 *
 *     head -> [5: f5] -> [3: f3] -> [1: f1] -> plain fence (binary signal)
 *
 * Waiting for value v uses the lowest point >= v, as dma_fence_chain_find_seqno()
 * does: with points 1 and 5, value 3 is signaled only when point 5 is (the
 * Vulkan counter semantics). A value above the highest point was not
 * submitted yet. Value 0 is the head itself (the binary fence, or everything).
 *
 * Once a point is known to be signaled it is settled: it keeps its result
 * (signaled, first error found from its link down) and drops its link and the
 * chain below, which is what the kernel's chain walk garbage collects.
 *
 * DOC: differences from drm_syncobj.c
 *
 * - A timeline point must be above the syncobj's highest point (-EINVAL),
 *   checked before anything changes. The kernel accepts it with a debug
 *   message, after which QUERY and waits answer for the wrong points.
 * - TIMELINE_SIGNAL at point 0 replaces the fence with a signaled one, as
 *   SIGNAL does; TRANSFER refuses flags other than WAIT_FOR_SUBMIT.
 * - first_signaled is written only when WAIT_ALL is clear: only then is it
 *   defined (the kernel writes whatever its first scan found).
 * - Exported fds are sockets of ours, found again by their inode; what they
 *   carry is dropped at the first export after their last copy was closed
 *   (export.c), not at the close itself.
 * - A fence's error does not fail a wait (as in the kernel); it is reported
 *   by mock_fence_status().
 */
#include <errno.h>
#include <stdlib.h>

#include "sync_private.h"

/* Syncobjs */

struct mock_syncobj *mock_syncobj_alloc(struct mock_sync *sync)
{
	struct mock_syncobj *s = mock_calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sync = sync->root;
	atomic_init(&s->refs, 1);
	return s;
}

void mock_syncobj_get(struct mock_syncobj *s)
{
	atomic_fetch_add(&s->refs, 1);
}

/**
 * mock_syncobj_put() - drop a reference; the last one frees the syncobj.
 * @s: the syncobj, or NULL.
 *
 * Context: any; does not take the lock.
 */
void mock_syncobj_put(struct mock_syncobj *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		mock_fence_put(s->head);
		free(s);
	}
}

/**
 * mock_syncobj_is_timeline() - whether the syncobj has ever had a point.
 * @s: the syncobj.
 *
 * Context: takes the domain's lock.
 */
bool mock_syncobj_is_timeline(const struct mock_syncobj *s)
{
	bool timeline;

	pthread_mutex_lock(s->sync->lock);
	timeline = s->timeline;
	pthread_mutex_unlock(s->sync->lock);
	return timeline;
}

/* The highest point submitted: QUERY with LAST_SUBMITTED. Lock held. */
uint64_t mock_syncobj_last_point(const struct mock_syncobj *s)
{
	return s->head && s->head->chain ? s->head->point : 0;
}

/*
 * The highest point that is signaled, 0 when none is: the point below the
 * lowest unsignaled fence, as the kernel's QUERY finds it. Lock held.
 */
uint64_t mock_syncobj_last_signaled(struct mock_syncobj *s)
{
	struct mock_fence *n, *done = s->head;

	for (n = s->head; n && !n->signaled; n = n->prev) {
		if (!n->chain) {
			done = NULL; /* an unsignaled binary fence below every point */
			break;
		}
		if (!mock_fence_settle(n->link))
			done = n->prev;
	}
	if (!done || !done->chain)
		return 0;
	mock_fence_settle(done); /* it is signaled: prune what lies below it */
	return done->point;
}

/*
 * The fence for @point (see DOC: timelines), with a reference. Lock held.
 * -EINVAL when there is none or the point is above the last one submitted.
 */
int mock_syncobj_fence_locked(struct mock_syncobj *s, uint64_t point, struct mock_fence **out)
{
	struct mock_fence *n = s->head;

	if (!n)
		return -EINVAL;
	if (point) {
		if (!n->chain || n->point < point)
			return -EINVAL;
		while (n->prev && n->prev->chain && n->prev->point >= point)
			n = n->prev;
	}
	mock_fence_get(n);
	*out = n;
	return 0;
}

/* Replace the head (binary signal, reset, import): takes a reference to @f. */
void mock_syncobj_replace(struct mock_syncobj *s, struct mock_fence *f)
{
	if (f)
		mock_fence_get(f);
	mock_fence_put(s->head);
	s->head = f;
	mock_sync_wake_locked(s->sync);
}

/*
 * Push @node, a fresh point from mock_fence_alloc() (consumed), with @f (a new
 * reference) at @point, which the caller checked is above the last point.
 */
void mock_syncobj_add_point(struct mock_syncobj *s, struct mock_fence *node, uint64_t point,
			    struct mock_fence *f)
{
	struct mock_fence *prev = s->head;

	node->chain = true;
	node->point = point;
	mock_fence_get(f);
	node->link = f;
	node->prev = prev;
	s->head = node;
	s->timeline = true;
	/* Collect the signaled chain below now, as drm_syncobj_add_point() does. */
	if (prev && prev->chain)
		mock_fence_settle(prev);
	mock_sync_wake_locked(s->sync);
}

/**
 * mock_syncobj_fence() - the fence a wait on @point of @s waits for.
 * @s: the syncobj.
 * @point: the timeline value, or 0 for the binary fence (of a timeline: the
 *	head, signaled when every point is).
 * @out: set to the fence, with a reference for the caller.
 *
 * Context: takes the domain's lock.
 * Return: 0; -EINVAL when there is no fence, or @point is above the highest
 * point submitted (the kernel refuses to wait on what was not submitted).
 */
int mock_syncobj_fence(struct mock_syncobj *s, uint64_t point, struct mock_fence **out)
{
	int ret;

	pthread_mutex_lock(s->sync->lock);
	ret = mock_syncobj_fence_locked(s, point, out);
	pthread_mutex_unlock(s->sync->lock);
	return ret;
}

/**
 * mock_syncobj_install() - give a syncobj a fence, waking waiters for submission.
 * @s: the syncobj.
 * @point: 0 to replace the binary fence; else the timeline point to add,
 *	which must be above the highest point (the syncobj becomes a timeline).
 * @f: the fence; the syncobj takes its own reference.
 *
 * Context: takes the domain's lock; allocates for a point.
 * Return: 0, -EINVAL (point not above the last), -ENOMEM.
 */
int mock_syncobj_install(struct mock_syncobj *s, uint64_t point, struct mock_fence *f)
{
	struct mock_fence *node = NULL;
	int ret = 0;

	if (point) {
		node = mock_syncobj_point_alloc(s);
		if (!node)
			return -ENOMEM;
	}
	pthread_mutex_lock(s->sync->lock);
	if (!point)
		mock_syncobj_replace(s, f);
	else if (point > mock_syncobj_last_point(s))
		mock_syncobj_add_point(s, node, point, f);
	else
		ret = -EINVAL;
	pthread_mutex_unlock(s->sync->lock);
	if (ret)
		mock_fence_put(node);
	return ret;
}

/**
 * mock_syncobj_point_alloc() - the memory of a timeline point, allocated
 * while the caller can still fail (a submission being prepared).
 * @s: the syncobj the point is for.
 *
 * Return: the node for mock_syncobj_install_node(), or NULL without memory.
 */
struct mock_fence *mock_syncobj_point_alloc(struct mock_syncobj *s)
{
	return mock_fence_alloc(s->sync, false);
}

/**
 * mock_syncobj_point_ok() - would @point be accepted now?
 * @s: the syncobj.
 * @point: 0 (the binary fence) or a timeline point.
 *
 * Return: whether @point is 0 or above the syncobj's last point.
 */
bool mock_syncobj_point_ok(struct mock_syncobj *s, uint64_t point)
{
	bool ok;

	pthread_mutex_lock(s->sync->lock);
	ok = !point || point > mock_syncobj_last_point(s);
	pthread_mutex_unlock(s->sync->lock);
	return ok;
}

/**
 * mock_syncobj_install_node() - mock_syncobj_install() that cannot fail.
 * @s: the syncobj.
 * @point: 0 or the timeline point, checked by mock_syncobj_point_ok() when
 *	the submission was prepared.
 * @f: the fence; the syncobj takes its own reference.
 * @node: from mock_syncobj_point_alloc() for a point (consumed), else NULL.
 *
 * A point that is no longer above the last one (another thread added points
 * since the check) is added anyway, as the kernel's drm_syncobj_add_point()
 * does with its warning: a submission cannot fail after it was accepted.
 */
void mock_syncobj_install_node(struct mock_syncobj *s, uint64_t point, struct mock_fence *f,
			       struct mock_fence *node)
{
	pthread_mutex_lock(s->sync->lock);
	if (point)
		mock_syncobj_add_point(s, node, point, f);
	else
		mock_syncobj_replace(s, f);
	pthread_mutex_unlock(s->sync->lock);
	if (!point && node)
		mock_fence_put(node);
}
