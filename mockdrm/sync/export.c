// SPDX-License-Identifier: MIT
/*
 * Exported syncobjs and sync-file fences, found again by the fd's inode;
 * the HANDLE_TO_FD and FD_TO_HANDLE ioctls.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm.h>

#include "sync_private.h"

/* HANDLE_TO_FD, FD_TO_HANDLE */

void mock_sync_export_free(struct mock_export *x)
{
	mock_syncobj_put(x->obj);
	mock_fence_put(x->fence);
	free(x);
}

/* Drop a stale entry for an inode: its fd was closed and the inode reused. */
static void exports_forget(struct mock_sync *sync, dev_t dev, ino_t ino)
{
	struct mock_export **pp, *stale;

	for (pp = &sync->exports; *pp; pp = &(*pp)->next) {
		if ((*pp)->dev == dev && (*pp)->ino == ino) {
			stale = *pp;
			*pp = stale->next;
			mock_sync_export_free(stale);
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
		mock_syncobj_get(obj);
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
	struct mock_syncobj *s = mock_sync_table_lookup(t, a->handle);
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
	ret = mock_syncobj_fence_locked(s, 0, &f);
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
		return mock_sync_table_insert(t, x->obj, &a->handle);
	}
	/* The fd is checked before the handle, as drm_syncobj_import_sync_file_fence(). */
	if (!x || !x->fence)
		return -EINVAL;
	s = mock_sync_table_lookup(t, a->handle);
	if (!s)
		return -ENOENT;
	mock_syncobj_replace(s, x->fence);
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
