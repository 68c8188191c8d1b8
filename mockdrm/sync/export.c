// SPDX-License-Identifier: MIT
/*
 * The registry of the fds the domain exported (syncobjs and sync files),
 * found again by the fd's inode; the HANDLE_TO_FD and FD_TO_HANDLE ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm.h>

#include "sync_private.h"

/* Protected by the domain's lock. */
static struct mock_export *exports;

static void export_free(struct mock_export *x)
{
	close(x->wfd);
	mock_syncobj_put(x->obj);
	if (x->file)
		mock_sync_file_free(x->file);
	free(x);
}

/* Has every copy of the fd been closed? Then our end of the pair hangs up. */
static bool export_orphaned(const struct mock_export *x)
{
	struct pollfd p = { .fd = x->wfd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* Forget the exports nobody can name any more (their fds were all closed). */
static void exports_collect(void)
{
	struct mock_export **pp = &exports, *x;

	while ((x = *pp)) {
		if (export_orphaned(x)) {
			*pp = x->next;
			export_free(x);
		} else {
			pp = &x->next;
		}
	}
}

void mock_sync_collect_exports(void)
{
	struct mock_sync *sync = mock_sync_root();

	pthread_mutex_lock(sync->lock);
	exports_collect();
	pthread_mutex_unlock(sync->lock);
}

/**
 * mock_export_fd() - a new fd carrying @obj or @file.
 * @obj: a syncobj (the export takes a reference), or NULL.
 * @file: a sync file (the export owns it, also on failure), or NULL.
 * @fd_out: the fd, O_CLOEXEC (DRM exports with it whatever the caller asks).
 *
 * Context: domain lock held; allocates; makes a socket pair.
 * Return: 0, -ENOMEM, -EMFILE, -ENFILE.
 */
int mock_export_fd(struct mock_syncobj *obj, struct mock_sync_file *file, int *fd_out)
{
	struct mock_export *x = mock_calloc(1, sizeof(*x));
	struct stat st;
	int p[2], ret;

	exports_collect();
	if (!x || mock_socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p)) {
		ret = x ? -errno : -ENOMEM;
		free(x);
		if (file)
			mock_sync_file_free(file);
		return ret;
	}
	fstat(p[0], &st); /* a socket we just made: cannot fail */
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	x->wfd = p[1];
	x->obj = obj;
	x->file = file;
	if (obj)
		mock_syncobj_get(obj);
	x->next = exports;
	exports = x;
	*fd_out = p[0];
	return 0;
}

/**
 * mock_export_lookup() - what @fd carries, if the domain exported it.
 * @fd: any fd.
 *
 * Context: domain lock held.
 * Return: the export, or NULL (not ours, not an fd).
 */
struct mock_export *mock_export_lookup(int fd)
{
	struct mock_export *x;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || !S_ISSOCK(st.st_mode))
		return NULL;
	for (x = exports; x; x = x->next)
		if (x->dev == st.st_dev && x->ino == st.st_ino)
			return x;
	return NULL;
}

/* HANDLE_TO_FD, FD_TO_HANDLE */

typedef int handle_locked_fn(struct mock_sync_table *t, struct drm_syncobj_handle *a);

/* HANDLE_TO_FD and FD_TO_HANDLE: pad and flags checked, then @locked under the lock. */
static int handle_ioctl(struct mock_sync_table *t, struct drm_syncobj_handle *a, uint32_t flags,
			handle_locked_fn *locked)
{
	int ret;

	if (a->pad || (a->flags & ~flags))
		return -EINVAL;
	pthread_mutex_lock(t->sync->lock);
	ret = locked(t, a);
	pthread_mutex_unlock(t->sync->lock);
	return ret;
}

static int handle_to_fd_locked(struct mock_sync_table *t, struct drm_syncobj_handle *a)
{
	struct mock_syncobj *s = mock_sync_table_lookup(t, a->handle);
	struct mock_fence *f;
	int ret;

	/*
	 * drm_syncobj_handle_to_fd() says -EINVAL for an unknown handle, but
	 * the sync-file path goes through drm_syncobj_find_fence(): -ENOENT.
	 */
	if (!(a->flags & DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE))
		return s ? mock_export_fd(s, NULL, &a->fd) : -EINVAL;
	if (!s)
		return -ENOENT;
	ret = mock_syncobj_fence_locked(s, 0, &f);
	if (ret)
		return ret;
	ret = mock_sync_file_export_locked(f, "dma_fence_chain", &a->fd);
	mock_fence_put(f);
	return ret;
}

/**
 * mock_syncobj_handle_to_fd_ioctl() - DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD.
 * @t: the file's table.
 * @a: handle; flags 0 (an fd for the syncobj) or EXPORT_SYNC_FILE (a sync
 *	file of its current fence, a snapshot); fd out (O_CLOEXEC); pad must be 0.
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
	struct mock_export *x = mock_export_lookup(a->fd);
	struct mock_syncobj *s;

	if (!(a->flags & DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE)) {
		/* Always a new handle: drm_syncobj_fd_to_handle() does not look for one. */
		if (!x || !x->obj)
			return -EINVAL;
		return mock_sync_table_insert(t, x->obj, &a->handle);
	}
	/* The fd is checked before the handle, as drm_syncobj_import_sync_file_fence(). */
	if (!x || !x->file)
		return -EINVAL;
	s = mock_sync_table_lookup(t, a->handle);
	if (!s)
		return -ENOENT;
	mock_syncobj_replace(s, x->file->fence);
	return 0;
}

/**
 * mock_syncobj_fd_to_handle_ioctl() - DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE.
 * @t: the file's table.
 * @a: fd; flags 0 (fd from a plain export: a new handle, out) or
 *	IMPORT_SYNC_FILE (a sync file, e.g. from sw_sync or a dma-buf: its fence
 *	replaces the fence of the existing handle); pad must be 0.
 *
 * Importing one fd twice gives two handles for one syncobj, as in the kernel.
 * Any device of the process may import what another exported.
 *
 * Context: takes the domain's lock; may allocate.
 * Return: 0; -EINVAL (pad, flags, an fd that is not a syncobj or sync file
 * export); -ENOENT (unknown handle for a sync file); -ENOMEM, -ENOSPC.
 */
int mock_syncobj_fd_to_handle_ioctl(struct mock_sync_table *t, struct drm_syncobj_handle *a)
{
	return handle_ioctl(t, a, DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
			    fd_to_handle_locked);
}
