// SPDX-License-Identifier: MIT
/*
 * Watches: fds to write once a fence settles or a syncobj point is there -
 * what makes sync files readable and SYNCOBJ_EVENTFD's eventfds count.
 *
 * DOC: watches
 *
 * Every change that may complete a watch (a signal, an install, a reset, a
 * sw_sync advance) goes through mock_sync_wake_locked(), which checks every
 * watch and writes and closes the fds (our own duplicates) of those done,
 * before the change returns: as in the kernel, a sync file is readable as
 * soon as its fence is signaled. No thread is involved.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync_private.h"

/* Protected by the domain's lock. */
static struct mock_watch *watches;

static void watch_free(struct mock_watch *w)
{
	close(w->fd);
	mock_fence_put(w->fence);
	mock_syncobj_put(w->obj);
	free(w);
}

/* Is the watch done? Latches the syncobj's fence once there is one. Lock held. */
static bool watch_done(struct mock_watch *w)
{
	if (!w->fence && w->obj && mock_syncobj_fence_locked(w->obj, w->point, &w->fence))
		return false;
	return w->available || mock_fence_settle(w->fence);
}

/* Unlink the watches that are done. Lock held. */
static struct mock_watch *collect_done(void)
{
	struct mock_watch **pp = &watches, *w, *done = NULL;

	while ((w = *pp)) {
		if (watch_done(w)) {
			*pp = w->next;
			w->next = done;
			done = w;
		} else {
			pp = &w->next;
		}
	}
	return done;
}

static void fire(struct mock_watch *w)
{
	uint64_t one = 1;
	ssize_t n;

	/*
	 * Never blocks (eventfd counts do not overflow here, our socket end is
	 * non-blocking); a closed sync file gives EPIPE without a SIGPIPE.
	 */
	do
		n = w->eventfd ? write(w->fd, &one, sizeof(one)) :
				 send(w->fd, "s", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
}

/**
 * mock_watch_kick_locked() - fire every watch that is done.
 *
 * Called wherever the domain's condition variable is broadcast, so a sync
 * file is readable and an eventfd counts by the time the signal returns.
 *
 * Context: domain lock held; writes and closes fds.
 */
void mock_watch_kick_locked(void)
{
	struct mock_watch *done = collect_done(), *next;

	for (; done; done = next) {
		next = done->next;
		fire(done);
		watch_free(done);
	}
}

/**
 * mock_watch_add_locked() - watch: tell @w->fd once @w is done (at once if
 * it is already).
 * @w: a watch on a fence or on a syncobj point (consumed).
 *
 * Context: domain lock held.
 */
void mock_watch_add_locked(struct mock_watch *w)
{
	w->next = watches;
	watches = w;
	mock_watch_kick_locked();
}
