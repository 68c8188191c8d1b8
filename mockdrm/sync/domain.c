// SPDX-License-Identifier: MIT
/*
 * The synchronization domain: its lock and clock, set-up, fork and tear-down of a
 * device's domain and of a file's handle table.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "sync_private.h"

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
		pthread_cond_wait(&sync->cond, &sync->lock);
		return 0;
	}
	if (mock_sync_now_ns() >= deadline_ns)
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
		mock_sync_export_free(x);
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
