// SPDX-License-Identifier: MIT
/*
 * The synchronization domain: its lock and clock, set-up, fork and tear-down of a
 * device's view of it and of a file's handle table.
 *
 * DOC: one domain per process
 *
 * Fences cross devices: a sync file exported by one device is imported into a
 * syncobj of another, sw_sync timelines belong to no device, a dma-buf's
 * reservation is shared by every importer. So there is one domain per process
 * (the kernel has one dma_fence world): one lock, one condition variable, the
 * registry of exported fds (export.c) and the watches (watch.c). A device's
 * struct mock_sync points to them; fences and syncobjs point to the process's
 * domain itself, so they outlive the device that made them. The lock is a
 * leaf below every device lock (DOC: locking in dev/mock_internal.h); fork()
 * is handled by the device that holds it across fork (one device per process
 * when forking, as the shim has).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "sync_private.h"

static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t root_cond;
static pthread_once_t root_once = PTHREAD_ONCE_INIT;
static struct mock_sync root = { &root_lock, &root_cond, &root };

int64_t mock_sync_now_ns(void)
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
int mock_sync_sleep(struct mock_sync *sync, int64_t deadline_ns)
{
	struct timespec ts;

	if (deadline_ns == INT64_MAX) {
		pthread_cond_wait(sync->cond, sync->lock);
		return 0;
	}
	if (mock_sync_now_ns() >= deadline_ns)
		return -ETIME;
	ts.tv_sec = deadline_ns / NSEC_PER_SEC;
	ts.tv_nsec = deadline_ns % NSEC_PER_SEC;
	pthread_cond_timedwait(sync->cond, sync->lock, &ts);
	return 0;
}

/**
 * mock_sync_wake_locked() - something changed: wake the waiters, fire the
 * watches that are done.
 * @sync: any view of the domain.
 *
 * Context: domain lock held.
 */
void mock_sync_wake_locked(struct mock_sync *sync)
{
	pthread_cond_broadcast(sync->cond);
	mock_watch_kick_locked();
}

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

static void root_init(void)
{
	if (cond_init_monotonic(&root_cond))
		abort(); /* glibc's pthread_cond_init does not fail */
}

/**
 * mock_sync_root() - the process's domain, set up on first use.
 *
 * Context: any.
 * Return: the domain (never freed).
 */
struct mock_sync *mock_sync_root(void)
{
	pthread_once(&root_once, root_init);
	return &root;
}

/**
 * mock_sync_init() - a device's view of the process's synchronization domain.
 * @sync: the view.
 *
 * Context: any.
 * Return: 0.
 */
int mock_sync_init(struct mock_sync *sync)
{
	*sync = *mock_sync_root();
	return 0;
}

/**
 * mock_sync_fork_child() - the domain in a child process, after fork().
 * @sync: a view of the domain, whose lock the forking thread holds (see
 *	mockdrm_fork_prepare()).
 *
 * Releases the lock and gives the condition variable a fresh start: the
 * copy may record waiters that are threads of the parent, which the child
 * does not have and which would never acknowledge a broadcast.
 */
void mock_sync_fork_child(struct mock_sync *sync)
{
	(void)sync;
	if (cond_init_monotonic(&root_cond))
		abort();
	pthread_mutex_unlock(&root_lock);
}

/**
 * mock_sync_fini() - a device is done with the domain.
 * @sync: its view; every table on it must be finished. What exported fds and
 *	watches hold lives on: it belongs to the process's domain.
 */
void mock_sync_fini(struct mock_sync *sync)
{
	sync->lock = NULL;
	sync->cond = NULL;
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

	pthread_mutex_lock(t->sync->lock);
	slots = t->slots;
	nr = t->nr_slots;
	t->slots = NULL;
	t->nr_slots = 0;
	pthread_mutex_unlock(t->sync->lock);
	for (i = 0; i < nr; i++)
		if (slots[i])
			mock_syncobj_put(slots[i]);
	free(slots);
}
