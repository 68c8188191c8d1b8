// SPDX-License-Identifier: MIT
/*
 * Fences, syncobjs and the generic DRM syncobj ioctls (see DOC: fences and
 * syncobjs in mock_sync.h).
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
 * - WAIT and TIMELINE_WAIT with count_handles 0 fail with -EINVAL, as kernels
 *   before 6.x did; newer ones return 0.
 * - A timeline point must be above the syncobj's highest point (-EINVAL),
 *   checked before anything changes. The kernel accepts it with a debug
 *   message, after which QUERY and waits answer for the wrong points.
 * - TIMELINE_SIGNAL at point 0 replaces the fence with a signaled one, as
 *   SIGNAL does; TRANSFER refuses flags other than WAIT_FOR_SUBMIT.
 * - first_signaled is written only when WAIT_ALL is clear: only then is it
 *   defined (the kernel writes whatever its first scan found).
 * - The mock cannot see an exported fd being closed, so an exported syncobj
 *   or fence lives until mock_sync_fini(). Exports are found again by the
 *   fd's inode; an inode the kernel reuses replaces the stale entry.
 * - A fence's error does not fail a wait (as in the kernel); it is reported
 *   by mock_fence_status().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>

#include "mock_sync.h"

#define NSEC_PER_SEC 1000000000ll
/* drm_syncobj_find_fence() gives up a WAIT_FOR_SUBMIT after 5 s (-ETIME). */
#define SUBMIT_TIMEOUT_NS (5 * NSEC_PER_SEC)
#define MIN_SLOTS 8u

/*
 * struct mock_fence - a fence or a timeline point.
 * @sync: the domain whose lock protects @signaled, @error, @link and @prev.
 * @refs: references (atomic: mock_fence_put() runs with or without the lock).
 * @signaled: signaled (for a point: settled, see DOC: timelines).
 * @error: the error it was signaled with.
 * @chain: a timeline point: @link at @point over @prev.
 * @point: the timeline value (points only).
 * @link: the fence this point adds (a reference; NULL once settled).
 * @prev: the head below it (a reference; NULL at the bottom or once settled).
 */
struct mock_fence {
	struct mock_sync *sync;
	atomic_uint refs;
	bool signaled;
	int error;
	bool chain;
	uint64_t point;
	struct mock_fence *link;
	struct mock_fence *prev;
};

/*
 * struct mock_syncobj - a syncobj.
 * @sync: its domain; @head and @timeline are under its lock.
 * @refs: handles, exports and temporary users (atomic).
 * @timeline: has had a point (mock_syncobj_is_timeline()).
 * @head: NULL, a plain fence or a point (a reference).
 */
struct mock_syncobj {
	struct mock_sync *sync;
	atomic_uint refs;
	bool timeline;
	struct mock_fence *head;
};

/*
 * struct mock_export - what an exported fd carries: a syncobj (plain export)
 * or a fence (sync file), each with a reference, keyed by the fd's inode.
 */
struct mock_export {
	struct mock_export *next;
	dev_t dev;
	ino_t ino;
	struct mock_syncobj *obj;
	struct mock_fence *fence;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * Sleep on sync->cond (lock held) until woken or @deadline_ns. Returns -ETIME
 * without sleeping once the deadline has passed, so that callers check their
 * condition one last time after a timed-out sleep. INT64_MAX never expires.
 */
static int sync_sleep(struct mock_sync *sync, int64_t deadline_ns)
{
	struct timespec ts;

	if (deadline_ns == INT64_MAX) {
		pthread_cond_wait(&sync->cond, &sync->lock);
		return 0;
	}
	if (now_ns() >= deadline_ns)
		return -ETIME;
	ts.tv_sec = deadline_ns / NSEC_PER_SEC;
	ts.tv_nsec = deadline_ns % NSEC_PER_SEC;
	pthread_cond_timedwait(&sync->cond, &sync->lock, &ts);
	return 0;
}

/**
 * mock_sync_init() - set up a device's synchronization domain.
 * @sync: the domain.
 *
 * Context: may allocate.
 * Return: 0, or the negative errno of the pthread call that failed.
 */
/* Deadlines are CLOCK_MONOTONIC, as the ioctls' timeout_nsec. */
static int cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int ret = pthread_condattr_init(&attr);

	if (ret)
		return ret;
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return ret;
}

int mock_sync_init(struct mock_sync *sync)
{
	int ret = pthread_mutex_init(&sync->lock, NULL);

	if (ret)
		return -ret;
	ret = cond_init_monotonic(&sync->cond);
	if (ret) {
		pthread_mutex_destroy(&sync->lock);
		return -ret;
	}
	sync->exports = NULL;
	return 0;
}

/**
 * mock_sync_fork_child() - the domain in a child process, after fork().
 * @sync: the domain, whose lock the forking thread holds (see mockdrm_fork_prepare()).
 *
 * Releases the lock and gives the condition variable a fresh start: the
 * copy may record waiters that are threads of the parent, which the child
 * does not have and which would never acknowledge a broadcast.
 */
void mock_sync_fork_child(struct mock_sync *sync)
{
	pthread_mutex_unlock(&sync->lock);
	if (cond_init_monotonic(&sync->cond))
		abort(); /* glibc's pthread_cond_init does not fail */
}

static void export_free(struct mock_export *x)
{
	mock_syncobj_put(x->obj);
	mock_fence_put(x->fence);
	free(x);
}

/**
 * mock_sync_fini() - tear down a domain: drop what exported fds carried.
 * @sync: the domain; every table on it must be finished and no thread may
 *	still use its fences or syncobjs.
 */
void mock_sync_fini(struct mock_sync *sync)
{
	struct mock_export *x = sync->exports, *next;

	for (; x; x = next) {
		next = x->next;
		export_free(x);
	}
	sync->exports = NULL;
	pthread_cond_destroy(&sync->cond);
	pthread_mutex_destroy(&sync->lock);
}

/**
 * mock_sync_table_init() - an open file's empty handle table.
 * @t: the table.
 * @sync: the device's domain.
 */
void mock_sync_table_init(struct mock_sync_table *t, struct mock_sync *sync)
{
	t->sync = sync;
	t->slots = NULL;
	t->nr_slots = 0;
}

/**
 * mock_sync_table_fini() - close a file: drop the reference of every handle.
 * @t: the table; empty and reusable afterwards.
 *
 * Context: takes the domain's lock.
 */
void mock_sync_table_fini(struct mock_sync_table *t)
{
	struct mock_syncobj **slots;
	unsigned int nr, i;

	pthread_mutex_lock(&t->sync->lock);
	slots = t->slots;
	nr = t->nr_slots;
	t->slots = NULL;
	t->nr_slots = 0;
	pthread_mutex_unlock(&t->sync->lock);
	for (i = 0; i < nr; i++)
		if (slots[i])
			mock_syncobj_put(slots[i]);
	free(slots);
}

/* Fences */

static struct mock_fence *fence_alloc(struct mock_sync *sync, bool signaled)
{
	struct mock_fence *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->sync = sync;
	atomic_init(&f->refs, 1);
	f->signaled = signaled;
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
	return fence_alloc(sync, false);
}

/**
 * mock_fence_get() - take a reference.
 * @f: the fence.
 */
void mock_fence_get(struct mock_fence *f)
{
	atomic_fetch_add(&f->refs, 1);
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

	pthread_mutex_lock(&sync->lock);
	if (!f->chain && !f->signaled) {
		f->signaled = true;
		f->error = error;
		pthread_cond_broadcast(&sync->cond);
	}
	pthread_mutex_unlock(&sync->lock);
}

/* A point is done: keep the result, drop the chain it no longer needs. */
static void point_settle(struct mock_fence *f, int error)
{
	f->signaled = true;
	f->error = error;
	mock_fence_put(f->link);
	mock_fence_put(f->prev);
	f->link = NULL;
	f->prev = NULL;
}

/*
 * Whether @f is signaled; a point is when its link and everything below it
 * are, and is then settled. Recursion goes through links only (transfers of
 * points), never down a chain. Lock held.
 */
static bool fence_settle(struct mock_fence *f)
{
	struct mock_fence *n;
	int error = 0;

	if (f->signaled || !f->chain)
		return f->signaled;
	for (n = f; n && !n->signaled; n = n->prev) {
		if (!n->chain || !fence_settle(n->link))
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

	pthread_mutex_lock(&f->sync->lock);
	done = fence_settle(f);
	if (done && error)
		*error = f->error;
	pthread_mutex_unlock(&f->sync->lock);
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

	pthread_mutex_lock(&sync->lock);
	while (!fence_settle(f)) {
		ret = sync_sleep(sync, deadline_ns);
		if (ret)
			break;
	}
	pthread_mutex_unlock(&sync->lock);
	return ret;
}

/* Syncobjs */

static struct mock_syncobj *syncobj_alloc(struct mock_sync *sync)
{
	struct mock_syncobj *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sync = sync;
	atomic_init(&s->refs, 1);
	return s;
}

static void syncobj_get(struct mock_syncobj *s)
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

	pthread_mutex_lock(&s->sync->lock);
	timeline = s->timeline;
	pthread_mutex_unlock(&s->sync->lock);
	return timeline;
}

/* The highest point submitted: QUERY with LAST_SUBMITTED. Lock held. */
static uint64_t syncobj_last_point(const struct mock_syncobj *s)
{
	return s->head && s->head->chain ? s->head->point : 0;
}

/*
 * The highest point that is signaled, 0 when none is: the point below the
 * lowest unsignaled fence, as the kernel's QUERY finds it. Lock held.
 */
static uint64_t syncobj_last_signaled(struct mock_syncobj *s)
{
	struct mock_fence *n, *done = s->head;

	for (n = s->head; n && !n->signaled; n = n->prev) {
		if (!n->chain) {
			done = NULL; /* an unsignaled binary fence below every point */
			break;
		}
		if (!fence_settle(n->link))
			done = n->prev;
	}
	if (!done || !done->chain)
		return 0;
	fence_settle(done); /* it is signaled: prune what lies below it */
	return done->point;
}

/*
 * The fence for @point (see DOC: timelines), with a reference. Lock held.
 * -EINVAL when there is none or the point is above the last one submitted.
 */
static int syncobj_fence_locked(struct mock_syncobj *s, uint64_t point, struct mock_fence **out)
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
static void syncobj_replace(struct mock_syncobj *s, struct mock_fence *f)
{
	if (f)
		mock_fence_get(f);
	mock_fence_put(s->head);
	s->head = f;
	pthread_cond_broadcast(&s->sync->cond);
}

/*
 * Push @node, a fresh point from fence_alloc() (consumed), with @f (a new
 * reference) at @point, which the caller checked is above the last point.
 */
static void syncobj_add_point(struct mock_syncobj *s, struct mock_fence *node, uint64_t point,
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
		fence_settle(prev);
	pthread_cond_broadcast(&s->sync->cond);
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

	pthread_mutex_lock(&s->sync->lock);
	ret = syncobj_fence_locked(s, point, out);
	pthread_mutex_unlock(&s->sync->lock);
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
	pthread_mutex_lock(&s->sync->lock);
	if (!point)
		syncobj_replace(s, f);
	else if (point > syncobj_last_point(s))
		syncobj_add_point(s, node, point, f);
	else
		ret = -EINVAL;
	pthread_mutex_unlock(&s->sync->lock);
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
	return fence_alloc(s->sync, false);
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

	pthread_mutex_lock(&s->sync->lock);
	ok = !point || point > syncobj_last_point(s);
	pthread_mutex_unlock(&s->sync->lock);
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
	pthread_mutex_lock(&s->sync->lock);
	if (point)
		syncobj_add_point(s, node, point, f);
	else
		syncobj_replace(s, f);
	pthread_mutex_unlock(&s->sync->lock);
	if (!point && node)
		mock_fence_put(node);
}

/* Handle tables (lock held) */

static struct mock_syncobj *table_lookup(const struct mock_sync_table *t, uint32_t handle)
{
	if (handle == 0 || handle > t->nr_slots)
		return NULL;
	return t->slots[handle - 1];
}

/* Give @s the lowest free handle, with a new reference, as idr_alloc(1, 0). */
static int table_insert(struct mock_sync_table *t, struct mock_syncobj *s, uint32_t *handle)
{
	struct mock_syncobj **slots;
	unsigned int i, nr;

	for (i = 0; i < t->nr_slots && t->slots[i]; i++)
		;
	if (i == t->nr_slots) {
		if (t->nr_slots > UINT32_MAX / 2)
			return -ENOSPC;
		nr = t->nr_slots ? 2 * t->nr_slots : MIN_SLOTS;
		slots = realloc(t->slots, nr * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (i = t->nr_slots; i < nr; i++)
			slots[i] = NULL;
		i = t->nr_slots;
		t->slots = slots;
		t->nr_slots = nr;
	}
	syncobj_get(s);
	t->slots[i] = s;
	*handle = i + 1;
	return 0;
}

/* Every handle of a user array, or -ENOENT naming none (drm_syncobj_array_find). */
static int table_find_array(const struct mock_sync_table *t, const uint32_t *handles,
			    uint32_t count, struct mock_syncobj **objs)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		objs[i] = table_lookup(t, handles[i]);
		if (!objs[i])
			return -ENOENT;
	}
	return 0;
}

/**
 * mock_syncobj_find() - look up a handle.
 * @t: the file's table.
 * @handle: the handle.
 *
 * Context: takes the domain's lock.
 * Return: the syncobj with a reference for the caller, or NULL for an
 * unknown handle.
 */
struct mock_syncobj *mock_syncobj_find(struct mock_sync_table *t, uint32_t handle)
{
	struct mock_syncobj *s;

	pthread_mutex_lock(&t->sync->lock);
	s = table_lookup(t, handle);
	if (s)
		syncobj_get(s);
	pthread_mutex_unlock(&t->sync->lock);
	return s;
}

/* CREATE, DESTROY */

/**
 * mock_syncobj_create_ioctl() - DRM_IOCTL_SYNCOBJ_CREATE.
 * @t: the file's table.
 * @a: flags (SIGNALED: start with a signaled fence); handle out.
 *
 * Context: allocates; takes the domain's lock.
 * Return: 0, -EINVAL (unknown flags), -ENOMEM, -ENOSPC (no handle left).
 */
int mock_syncobj_create_ioctl(struct mock_sync_table *t, struct drm_syncobj_create *a)
{
	struct mock_syncobj *s;
	int ret;

	if (a->flags & ~DRM_SYNCOBJ_CREATE_SIGNALED)
		return -EINVAL;
	s = syncobj_alloc(t->sync);
	if (!s)
		return -ENOMEM;
	if (a->flags & DRM_SYNCOBJ_CREATE_SIGNALED) {
		s->head = fence_alloc(t->sync, true);
		if (!s->head) {
			mock_syncobj_put(s);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&t->sync->lock);
	ret = table_insert(t, s, &a->handle);
	pthread_mutex_unlock(&t->sync->lock);
	mock_syncobj_put(s);
	return ret;
}

/**
 * mock_syncobj_destroy_ioctl() - DRM_IOCTL_SYNCOBJ_DESTROY: drop a handle.
 * @t: the file's table.
 * @a: the handle; pad must be 0.
 *
 * The syncobj lives on while other handles, exports or waiters hold it.
 *
 * Context: takes the domain's lock.
 * Return: 0, -EINVAL (pad, unknown handle).
 */
int mock_syncobj_destroy_ioctl(struct mock_sync_table *t, struct drm_syncobj_destroy *a)
{
	struct mock_syncobj *s;

	if (a->pad)
		return -EINVAL;
	pthread_mutex_lock(&t->sync->lock);
	s = table_lookup(t, a->handle);
	if (s)
		t->slots[a->handle - 1] = NULL;
	pthread_mutex_unlock(&t->sync->lock);
	if (!s)
		return -EINVAL;
	mock_syncobj_put(s);
	return 0;
}

/* HANDLE_TO_FD, FD_TO_HANDLE */

/* Drop a stale entry for an inode: its fd was closed and the inode reused. */
static void exports_forget(struct mock_sync *sync, dev_t dev, ino_t ino)
{
	struct mock_export **pp, *stale;

	for (pp = &sync->exports; *pp; pp = &(*pp)->next) {
		if ((*pp)->dev == dev && (*pp)->ino == ino) {
			stale = *pp;
			*pp = stale->next;
			export_free(stale);
			return;
		}
	}
}

/*
 * A new CLOEXEC fd (DRM exports with O_CLOEXEC whatever the caller asks)
 * carrying @obj or @f, remembered by its inode with a reference. Lock held.
 */
static int export_fd(struct mock_sync *sync, const char *name, struct mock_syncobj *obj,
		     struct mock_fence *f, int *fd_out)
{
	struct mock_export *x;
	struct stat st;
	int fd, ret;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		free(x);
		return ret;
	}
	exports_forget(sync, st.st_dev, st.st_ino);
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	x->obj = obj;
	x->fence = f;
	if (obj)
		syncobj_get(obj);
	if (f)
		mock_fence_get(f);
	x->next = sync->exports;
	sync->exports = x;
	*fd_out = fd;
	return 0;
}

/* What @fd carries, if this domain exported it. Lock held. */
static struct mock_export *export_lookup(struct mock_sync *sync, int fd)
{
	struct mock_export *x;
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	for (x = sync->exports; x; x = x->next)
		if (x->dev == st.st_dev && x->ino == st.st_ino)
			return x;
	return NULL;
}

typedef int handle_locked_fn(struct mock_sync_table *t, struct drm_syncobj_handle *a);

/* HANDLE_TO_FD and FD_TO_HANDLE: pad and flags checked, then @locked under the lock. */
static int handle_ioctl(struct mock_sync_table *t, struct drm_syncobj_handle *a, uint32_t flags,
			handle_locked_fn *locked)
{
	int ret;

	if (a->pad || (a->flags & ~flags))
		return -EINVAL;
	pthread_mutex_lock(&t->sync->lock);
	ret = locked(t, a);
	pthread_mutex_unlock(&t->sync->lock);
	return ret;
}

static int handle_to_fd_locked(struct mock_sync_table *t, struct drm_syncobj_handle *a)
{
	struct mock_syncobj *s = table_lookup(t, a->handle);
	struct mock_fence *f;
	int ret;

	/*
	 * drm_syncobj_handle_to_fd() says -EINVAL for an unknown handle, but
	 * the sync-file path goes through drm_syncobj_find_fence(): -ENOENT.
	 */
	if (!(a->flags & DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE))
		return s ? export_fd(t->sync, "mock-syncobj", s, NULL, &a->fd) : -EINVAL;
	if (!s)
		return -ENOENT;
	ret = syncobj_fence_locked(s, 0, &f);
	if (ret)
		return ret;
	ret = export_fd(t->sync, "mock-sync-file", NULL, f, &a->fd);
	mock_fence_put(f);
	return ret;
}

/**
 * mock_syncobj_handle_to_fd_ioctl() - DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD.
 * @t: the file's table.
 * @a: handle; flags 0 (an fd for the syncobj) or EXPORT_SYNC_FILE (an fd for
 *	its current fence, a snapshot); fd out (O_CLOEXEC); pad must be 0.
 *
 * Context: takes the domain's lock; allocates; creates an fd.
 * Return: 0; -EINVAL (pad, flags, unknown handle for a plain export, no
 * fence for a sync file); -ENOENT (unknown handle for a sync file);
 * -ENOMEM, -EMFILE, -ENFILE.
 */
int mock_syncobj_handle_to_fd_ioctl(struct mock_sync_table *t, struct drm_syncobj_handle *a)
{
	return handle_ioctl(t, a, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
			    handle_to_fd_locked);
}

static int fd_to_handle_locked(struct mock_sync_table *t, struct drm_syncobj_handle *a)
{
	struct mock_export *x = export_lookup(t->sync, a->fd);
	struct mock_syncobj *s;

	if (!(a->flags & DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE)) {
		/* Always a new handle: drm_syncobj_fd_to_handle() does not look for one. */
		if (!x || !x->obj)
			return -EINVAL;
		return table_insert(t, x->obj, &a->handle);
	}
	/* The fd is checked before the handle, as drm_syncobj_import_sync_file_fence(). */
	if (!x || !x->fence)
		return -EINVAL;
	s = table_lookup(t, a->handle);
	if (!s)
		return -ENOENT;
	syncobj_replace(s, x->fence);
	return 0;
}

/**
 * mock_syncobj_fd_to_handle_ioctl() - DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE.
 * @t: the file's table.
 * @a: fd; flags 0 (fd from a plain export: a new handle, out) or
 *	IMPORT_SYNC_FILE (fd from a sync-file export: its fence replaces the
 *	fence of the existing handle); pad must be 0.
 *
 * Importing one fd twice gives two handles for one syncobj, as in the kernel.
 *
 * Context: takes the domain's lock; may allocate.
 * Return: 0; -EINVAL (pad, flags, an fd this domain did not export as that
 * kind); -ENOENT (unknown handle for a sync file); -ENOMEM, -ENOSPC.
 */
int mock_syncobj_fd_to_handle_ioctl(struct mock_sync_table *t, struct drm_syncobj_handle *a)
{
	return handle_ioctl(t, a, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
			    fd_to_handle_locked);
}

/* WAIT, TIMELINE_WAIT */

/* A wait request, from either ioctl. */
struct wait_req {
	const uint32_t *handles;
	const uint64_t *points; /* NULL: every point 0 */
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
		if (!table_lookup(t, req->handles[i]))
			return -ENOENT;
	for (i = 0; i < req->count; i++) {
		e[i].obj = table_lookup(t, req->handles[i]);
		syncobj_get(e[i].obj);
		e[i].point = req->points ? req->points[i] : 0;
		if (syncobj_fence_locked(e[i].obj, e[i].point, &e[i].fence) &&
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
		if (!e[i].fence && syncobj_fence_locked(e[i].obj, e[i].point, &e[i].fence))
			continue;
		if ((req->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE) ||
		    fence_settle(e[i].fence)) {
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
		ret = sync_sleep(sync, req->deadline_ns);
		if (ret)
			return ret;
	}
}

static int sync_wait(struct mock_sync_table *t, struct wait_req *req)
{
	struct wait_entry *e;
	uint32_t i;
	int ret;

	if (!req->count)
		return -EINVAL;
	if (!req->handles)
		return -EFAULT;
	e = calloc(req->count, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_lock(&t->sync->lock);
	ret = wait_setup(t, req, e);
	if (!ret)
		ret = wait_loop(t->sync, req, e);
	pthread_mutex_unlock(&t->sync->lock);
	for (i = 0; i < req->count; i++) {
		mock_fence_put(e[i].fence);
		mock_syncobj_put(e[i].obj);
	}
	free(e);
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
 * Return: 0; -EINVAL (flags, count 0, a handle without a fence and no
 * WAIT_FOR_SUBMIT); -ENOENT (unknown handle); -ETIME (deadline passed);
 * -EFAULT (NULL handles); -ENOMEM.
 */
int mock_syncobj_wait_ioctl(struct mock_sync_table *t, struct drm_syncobj_wait *a)
{
	struct wait_req req = {
		.handles = (const uint32_t *)(uintptr_t)a->handles,
		.count = a->count_handles,
		.flags = a->flags,
		.deadline_ns = a->timeout_nsec,
	};
	int ret;

	if (a->flags & ~(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT))
		return -EINVAL;
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
 * counts as no fence.
 */
int mock_syncobj_timeline_wait_ioctl(struct mock_sync_table *t, struct drm_syncobj_timeline_wait *a)
{
	struct wait_req req = {
		.handles = (const uint32_t *)(uintptr_t)a->handles,
		.points = (const uint64_t *)(uintptr_t)a->points,
		.count = a->count_handles,
		.flags = a->flags,
		.deadline_ns = a->timeout_nsec,
	};
	int ret;

	if (a->flags & ~(DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT |
			 DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE))
		return -EINVAL;
	ret = sync_wait(t, &req);
	if (!ret && !(a->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL))
		a->first_signaled = req.first;
	return ret;
}

/* RESET, SIGNAL */

/*
 * Replace the fence of every handle in @a with @f (NULL: reset), after
 * finding them all: nothing changes unless every handle exists.
 */
static int array_replace(struct mock_sync_table *t, const struct drm_syncobj_array *a,
			 struct mock_fence *f)
{
	const uint32_t *handles = (const uint32_t *)(uintptr_t)a->handles;
	struct mock_syncobj **objs;
	uint32_t i;
	int ret;

	if (a->pad || !a->count_handles)
		return -EINVAL;
	if (!handles)
		return -EFAULT;
	objs = calloc(a->count_handles, sizeof(*objs));
	if (!objs)
		return -ENOMEM;
	pthread_mutex_lock(&t->sync->lock);
	ret = table_find_array(t, handles, a->count_handles, objs);
	for (i = 0; !ret && i < a->count_handles; i++)
		syncobj_replace(objs[i], f);
	pthread_mutex_unlock(&t->sync->lock);
	free(objs);
	return ret;
}

/**
 * mock_syncobj_reset_ioctl() - DRM_IOCTL_SYNCOBJ_RESET: drop each fence.
 * @t: the file's table.
 * @a: handles (user pointer to u32[count_handles]); pad must be 0.
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0; -EINVAL (pad, count 0); -ENOENT (an unknown handle: nothing
 * changed); -EFAULT, -ENOMEM.
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
	struct mock_fence *f = fence_alloc(t->sync, true);
	int ret;

	if (!f)
		return -ENOMEM;
	ret = array_replace(t, a, f);
	mock_fence_put(f);
	return ret;
}

/* QUERY, TIMELINE_SIGNAL */

/**
 * mock_syncobj_query_ioctl() - DRM_IOCTL_SYNCOBJ_QUERY.
 * @t: the file's table.
 * @a: handles and points (user pointers to count_handles u32 and u64);
 *	each point gets the highest signaled point, or with LAST_SUBMITTED
 *	the highest point submitted; 0 for a syncobj without points.
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0; -EINVAL (flags, count 0); -ENOENT (unknown handle: nothing
 * written); -EFAULT (NULL pointers); -ENOMEM.
 */
int mock_syncobj_query_ioctl(struct mock_sync_table *t, struct drm_syncobj_timeline_array *a)
{
	const uint32_t *handles = (const uint32_t *)(uintptr_t)a->handles;
	uint64_t *points = (uint64_t *)(uintptr_t)a->points;
	struct mock_syncobj **objs;
	uint32_t i;
	int ret;

	if ((a->flags & ~DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) || !a->count_handles)
		return -EINVAL;
	if (!handles || !points)
		return -EFAULT;
	objs = calloc(a->count_handles, sizeof(*objs));
	if (!objs)
		return -ENOMEM;
	pthread_mutex_lock(&t->sync->lock);
	ret = table_find_array(t, handles, a->count_handles, objs);
	for (i = 0; !ret && i < a->count_handles; i++)
		points[i] = (a->flags & DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED) ?
				    syncobj_last_point(objs[i]) :
				    syncobj_last_signaled(objs[i]);
	pthread_mutex_unlock(&t->sync->lock);
	free(objs);
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
		uint64_t last = syncobj_last_point(objs[i]);

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

/* Add a signaled point per entry (0: replace the fence); all checked first. */
static int timeline_signal_locked(struct mock_sync_table *t,
				  const struct drm_syncobj_timeline_array *a,
				  const uint64_t *points, struct mock_syncobj **objs,
				  struct mock_fence **nodes, struct mock_fence *f)
{
	uint32_t i;
	int ret;

	ret = table_find_array(t, (const uint32_t *)(uintptr_t)a->handles, a->count_handles, objs);
	if (ret)
		return ret;
	if (!points_ordered(objs, points, a->count_handles))
		return -EINVAL;
	for (i = 0; i < a->count_handles; i++) {
		if (points[i]) {
			syncobj_add_point(objs[i], nodes[i], points[i], f);
			nodes[i] = NULL;
		} else {
			syncobj_replace(objs[i], f);
		}
	}
	return 0;
}

/* What TIMELINE_SIGNAL allocates before it changes anything. */
struct signal_mem {
	struct mock_syncobj **objs;
	struct mock_fence **nodes;
	struct mock_fence *fence;
	uint64_t *zero_points;
};

static void signal_mem_free(struct signal_mem *m, uint32_t count)
{
	uint32_t i;

	for (i = 0; m->nodes && i < count; i++)
		mock_fence_put(m->nodes[i]);
	free(m->nodes);
	free(m->objs);
	free(m->zero_points);
	mock_fence_put(m->fence);
}

static int signal_mem_alloc(struct mock_sync *sync, struct signal_mem *m, uint32_t count,
			    bool need_points)
{
	uint32_t i;

	m->objs = calloc(count, sizeof(*m->objs));
	m->nodes = calloc(count, sizeof(*m->nodes));
	m->fence = fence_alloc(sync, true);
	if (need_points)
		m->zero_points = calloc(count, sizeof(*m->zero_points));
	if (!m->objs || !m->nodes || !m->fence || (need_points && !m->zero_points))
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		m->nodes[i] = fence_alloc(sync, false);
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
	const uint64_t *points = (const uint64_t *)(uintptr_t)a->points;
	struct signal_mem m = { 0 };
	int ret;

	if (a->flags || !a->count_handles)
		return -EINVAL;
	if (!a->handles)
		return -EFAULT;
	ret = signal_mem_alloc(t->sync, &m, a->count_handles, !points);
	if (!ret) {
		pthread_mutex_lock(&t->sync->lock);
		ret = timeline_signal_locked(t, a, points ? points : m.zero_points, m.objs, m.nodes,
					     m.fence);
		pthread_mutex_unlock(&t->sync->lock);
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
	int64_t deadline = now_ns() + SUBMIT_TIMEOUT_NS;
	int ret;

	for (;;) {
		ret = syncobj_fence_locked(src, a->src_point, f);
		if (!ret || !(a->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT))
			return ret;
		ret = sync_sleep(src->sync, deadline);
		if (ret)
			return ret;
	}
}

static int transfer_locked(struct mock_sync_table *t, const struct drm_syncobj_transfer *a,
			   struct mock_fence *node)
{
	struct mock_syncobj *dst = table_lookup(t, a->dst_handle);
	struct mock_syncobj *src = table_lookup(t, a->src_handle);
	struct mock_fence *f;
	int ret;

	if (!dst || !src)
		return -ENOENT;
	/* A wait for submission drops the lock: hold both across it. */
	syncobj_get(dst);
	syncobj_get(src);
	ret = transfer_src_fence(src, a, &f);
	if (ret)
		goto out;
	if (!a->dst_point)
		syncobj_replace(dst, f);
	else if (a->dst_point > syncobj_last_point(dst))
		syncobj_add_point(dst, node, a->dst_point, f);
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
		node = fence_alloc(t->sync, false);
		if (!node)
			return -ENOMEM;
	}
	pthread_mutex_lock(&t->sync->lock);
	ret = transfer_locked(t, a, node);
	pthread_mutex_unlock(&t->sync->lock);
	if (ret)
		mock_fence_put(node);
	return ret;
}
