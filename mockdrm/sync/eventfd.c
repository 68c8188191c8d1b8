// SPDX-License-Identifier: MIT
/*
 * DRM_IOCTL_SYNCOBJ_EVENTFD: an eventfd signalled when a syncobj point is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm.h>

#include "sync_private.h"

/* Is @fd an eventfd? The kernel's eventfd_ctx_fdget(): -EBADF, -EINVAL. */
static int check_eventfd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") ? -EINVAL : 0;
}

/**
 * mock_syncobj_eventfd_ioctl() - DRM_IOCTL_SYNCOBJ_EVENTFD.
 * @t: the file's table.
 * @a: handle; flags (WAIT_AVAILABLE only: signal once the point has a fence,
 *	signaled or not); point (0 for a binary syncobj); fd, an eventfd; pad 0.
 *
 * The eventfd gets a count of 1 when the point is signaled (or available),
 * at once if it already is; a point not submitted yet is waited for, as
 * WAIT_FOR_SUBMIT waits. The syncobj is held until then.
 *
 * Context: takes the domain's lock; allocates; duplicates @a->fd.
 * Return: 0; -EINVAL (flags, pad, not an eventfd); -ENOENT (unknown handle);
 * -EBADF (not an fd); -ENOMEM, -EMFILE.
 */
int mock_syncobj_eventfd_ioctl(struct mock_sync_table *t, struct mock_drm_syncobj_eventfd *a)
{
	struct mock_syncobj *s;
	struct mock_watch *w;
	int ret;

	if ((a->flags & ~DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE) || a->pad)
		return -EINVAL;
	s = mock_syncobj_find(t, a->handle);
	if (!s)
		return -ENOENT;
	ret = check_eventfd(a->fd);
	w = ret ? NULL : mock_calloc(1, sizeof(*w));
	if (!ret && !w)
		ret = -ENOMEM;
	if (ret) {
		mock_syncobj_put(s);
		return ret;
	}
	w->obj = s;
	w->point = a->point;
	w->available = a->flags & DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE;
	w->eventfd = true;
	w->fd = mock_dup_cloexec(a->fd);
	if (w->fd < 0) {
		ret = -errno;
		mock_syncobj_put(s);
		free(w);
		return ret;
	}
	pthread_mutex_lock(t->sync->lock);
	mock_watch_add_locked(w);
	pthread_mutex_unlock(t->sync->lock);
	return 0;
}
