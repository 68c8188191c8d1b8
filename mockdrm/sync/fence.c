// SPDX-License-Identifier: MIT
/*
 * Fences: references, signaling, settling timeline points, waits.
 */
#include <stdlib.h>

#include "sync_private.h"

/* Fences */

struct mock_fence *mock_fence_alloc(struct mock_sync *sync, bool signaled)
{
	struct mock_fence *f = mock_calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->sync = sync->root;
	atomic_init(&f->refs, 1);
	f->signaled = signaled;
	f->driver = "mockdrm";
	if (signaled)
		f->timestamp_ns = mock_sync_now_ns();
	return f;
}

/**
 * mock_fence_create() - a new pending fence.
 * @sync: the domain whose lock and condition variable it uses.
 *
 * Context: allocates.
 * Return: the fence with one reference for the caller, or NULL without memory.
 */
struct mock_fence *mock_fence_create(struct mock_sync *sync)
{
	return mock_fence_alloc(sync, false);
}

/**
 * mock_fence_get() - take a reference.
 * @f: the fence.
 */
void mock_fence_get(struct mock_fence *f)
{
	atomic_fetch_add(&f->refs, 1);
}

/* An array fence's references to its fences. */
static void fence_put_deps(struct mock_fence *f)
{
	if (!f->deps)
		return;
	for (unsigned int i = 0; i < f->nr_deps; i++)
		mock_fence_put(f->deps[i]);
	free(f->deps);
	f->deps = NULL;
}

/**
 * mock_fence_put() - drop a reference; the last one frees the fence.
 * @f: the fence, or NULL.
 *
 * Context: any; does not take the lock, so it may be called with it held.
 */
void mock_fence_put(struct mock_fence *f)
{
	/* A timeline's chain can be long: free down @prev in a loop, not recursively. */
	while (f && atomic_fetch_sub(&f->refs, 1) == 1) {
		struct mock_fence *prev = f->prev;

		mock_fence_put(f->link);
		fence_put_deps(f);
		free(f);
		f = prev;
	}
}

/**
 * mock_fence_signal() - signal a pending fence and wake every waiter.
 * @f: a fence from mock_fence_create() (not a timeline point).
 * @error: 0, or the negative errno the work failed with.
 *
 * A fence signals once: a second signal is ignored and the first error kept.
 *
 * Context: takes the domain's lock.
 */
void mock_fence_signal(struct mock_fence *f, int error)
{
	struct mock_sync *sync = f->sync;

	pthread_mutex_lock(sync->lock);
	if (!f->chain && !f->nr_deps && !f->signaled) {
		f->signaled = true;
		f->error = error;
		f->timestamp_ns = mock_sync_now_ns();
		mock_sync_wake_locked(sync);
	}
	pthread_mutex_unlock(sync->lock);
}

/* A point is done: keep the result, drop the chain it no longer needs. */
static void point_settle(struct mock_fence *f, int error)
{
	f->signaled = true;
	f->error = error;
	f->timestamp_ns = mock_sync_now_ns();
	mock_fence_put(f->link);
	mock_fence_put(f->prev);
	f->link = NULL;
	f->prev = NULL;
}

/* An array fence is signaled when all its fences are; its error is the first found. */
static bool array_settle(struct mock_fence *f)
{
	int error = 0;

	for (unsigned int i = 0; i < f->nr_deps; i++) {
		if (!mock_fence_settle(f->deps[i]))
			return false;
		if (!error)
			error = f->deps[i]->error;
	}
	f->signaled = true;
	f->error = error;
	f->timestamp_ns = mock_sync_now_ns();
	return true; /* the fences stay: SYNC_IOC_FILE_INFO lists them */
}

/*
 * Whether @f is signaled; a point is when its link and everything below it
 * are, and is then settled. Recursion goes through links only (transfers of
 * points), never down a chain. Lock held.
 */
bool mock_fence_settle(struct mock_fence *f)
{
	struct mock_fence *n;
	int error = 0;

	if (f->signaled || (!f->chain && !f->nr_deps))
		return f->signaled;
	if (f->nr_deps)
		return array_settle(f);
	for (n = f; n && !n->signaled; n = n->prev) {
		if (!n->chain || !mock_fence_settle(n->link))
			return false;
		if (!error)
			error = n->link->error;
	}
	if (!error && n)
		error = n->error;
	point_settle(f, error);
	return true;
}

/**
 * mock_fence_status() - whether a fence is signaled.
 * @f: the fence (for a timeline point: it and every point below it).
 * @error: set to the error when signaled (a point's is the first error
 *	found from its own fence down); may be NULL.
 *
 * Context: takes the domain's lock.
 * Return: 1 signaled, 0 pending.
 */
int mock_fence_status(struct mock_fence *f, int *error)
{
	bool done;

	pthread_mutex_lock(f->sync->lock);
	done = mock_fence_settle(f);
	if (done && error)
		*error = f->error;
	pthread_mutex_unlock(f->sync->lock);
	return done;
}

/**
 * mock_fence_wait() - wait for a fence.
 * @f: the fence.
 * @deadline_ns: absolute CLOCK_MONOTONIC time; one already passed polls,
 *	INT64_MAX waits forever.
 *
 * A fence signaled with an error still ends the wait with 0.
 *
 * Context: sleeps with the domain's lock dropped.
 * Return: 0 signaled, -ETIME when the deadline passed first.
 */
int mock_fence_wait(struct mock_fence *f, int64_t deadline_ns)
{
	struct mock_sync *sync = f->sync;
	int ret = 0;

	pthread_mutex_lock(sync->lock);
	while (!mock_fence_settle(f)) {
		ret = mock_sync_sleep(sync, deadline_ns);
		if (ret)
			break;
	}
	pthread_mutex_unlock(sync->lock);
	return ret;
}
