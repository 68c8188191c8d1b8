// SPDX-License-Identifier: MIT
/*
 * Sync files (<linux/sync_file.h>): an fd carrying a fence, readable (poll,
 * select, epoll) once the fence is signaled, with SYNC_IOC_FILE_INFO and
 * SYNC_IOC_MERGE.
 *
 * DOC: sync files
 *
 * The fd is one end of a socket pair (export.c); a watch (watch.c) sends a
 * byte to it when the fence settles, so the kernel itself makes it
 * readable and any poll-like call works without the shim. The ioctls reach
 * us through mock_sync_file_ioctl(), which the device's mockdrm_fd_ioctl()
 * calls for fds that are not DRM files (the shim forwards them).
 *
 * A merge makes an array fence (the kernel's dma_fence_array) of the
 * distinct fences of both files; FILE_INFO lists an array's fences, any
 * other fence as one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sync_file.h>

#include "mock_user.h"
#include "sync_private.h"

void mock_sync_file_free(struct mock_sync_file *file)
{
	mock_fence_put(file->fence);
	free(file);
}

/* A watch that makes the sync file readable when @f settles. */
static int watch_file(struct mock_fence *f, int wfd)
{
	struct mock_watch *w = mock_calloc(1, sizeof(*w));
	int fd = mock_dup_cloexec(wfd);

	if (!w || fd < 0) {
		free(w);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	mock_fence_get(f);
	w->fence = f;
	w->fd = fd;
	mock_watch_add_locked(w);
	return 0;
}

/**
 * mock_sync_file_export_locked() - a new sync-file fd for @f.
 * @f: the fence (the file takes a reference).
 * @name: the file's name (truncated to 31 bytes).
 * @fd_out: the fd (O_CLOEXEC).
 *
 * Context: domain lock held; allocates; makes a pipe.
 * Return: 0, -ENOMEM, -EMFILE, -ENFILE.
 */
int mock_sync_file_export_locked(struct mock_fence *f, const char *name, int *fd_out)
{
	struct mock_sync_file *file = mock_calloc(1, sizeof(*file));
	struct mock_export *x;
	int fd, ret;

	if (!file)
		return -ENOMEM;
	strncpy(file->name, name, sizeof(file->name) - 1);
	mock_fence_get(f);
	file->fence = f;
	ret = mock_export_fd(NULL, file, &fd);
	if (ret)
		return ret;
	x = mock_export_lookup(fd);
	ret = watch_file(f, x->wfd);
	if (ret) {
		close(fd); /* the registry forgets it at its next collection */
		return ret;
	}
	*fd_out = fd;
	return 0;
}

/**
 * mock_sync_file_export() - mock_sync_file_export_locked() taking the lock.
 * @f: the fence.
 * @name: the file's name.
 * @fd_out: the fd.
 *
 * Context: takes the domain's lock.
 * Return: as mock_sync_file_export_locked().
 */
int mock_sync_file_export(struct mock_fence *f, const char *name, int *fd_out)
{
	struct mock_sync *sync = mock_sync_root();
	int ret;

	pthread_mutex_lock(sync->lock);
	ret = mock_sync_file_export_locked(f, name, fd_out);
	pthread_mutex_unlock(sync->lock);
	return ret;
}

/**
 * mock_sync_file_fence() - the fence a sync-file fd carries.
 * @fd: the fd.
 * @out: the fence, with a reference for the caller.
 *
 * Context: takes the domain's lock.
 * Return: 0, or -EINVAL when @fd is not a sync file.
 */
int mock_sync_file_fence(int fd, struct mock_fence **out)
{
	struct mock_sync *sync = mock_sync_root();
	struct mock_export *x;
	int ret = -EINVAL;

	pthread_mutex_lock(sync->lock);
	x = mock_export_lookup(fd);
	if (x && x->file) {
		mock_fence_get(x->file->fence);
		*out = x->file->fence;
		ret = 0;
	}
	pthread_mutex_unlock(sync->lock);
	return ret;
}

/* The fences an info or a merge sees in @f: an array's, or @f itself. */
static struct mock_fence *const *fence_parts(struct mock_fence *const *f, unsigned int *n)
{
	if ((*f)->nr_deps) {
		*n = (*f)->nr_deps;
		return (*f)->deps;
	}
	*n = 1;
	return f;
}

/* 1 signaled, 0 active, or the error it was signaled with. Lock held. */
static int fence_info_status(struct mock_fence *f)
{
	if (!mock_fence_settle(f))
		return 0;
	return f->error ? f->error : 1;
}

static void fill_fence_info(struct mock_fence *f, struct sync_fence_info *info)
{
	memset(info, 0, sizeof(*info));
	strncpy(info->obj_name, f->driver, sizeof(info->obj_name) - 1);
	strncpy(info->driver_name, f->driver, sizeof(info->driver_name) - 1);
	info->status = fence_info_status(f);
	if (info->status)
		info->timestamp_ns = (uint64_t)f->timestamp_ns;
}

/* FILE_INFO under the lock: fills @info and, when asked, @fences. */
static int file_info_locked(struct mock_sync_file *file, struct sync_file_info *info,
			    struct sync_fence_info **fences)
{
	unsigned int n;
	struct mock_fence *const *parts = fence_parts(&file->fence, &n);

	memcpy(info->name, file->name, sizeof(info->name));
	info->status = fence_info_status(file->fence);
	if (info->num_fences) {
		if (info->num_fences < n)
			return -EINVAL;
		*fences = mock_calloc(n, sizeof(**fences));
		if (!*fences)
			return -ENOMEM;
		for (unsigned int i = 0; i < n; i++)
			fill_fence_info(parts[i], &(*fences)[i]);
	}
	info->num_fences = n;
	return 0;
}

static int ioctl_file_info(struct mock_sync *sync, struct mock_sync_file *file, uint64_t arg)
{
	struct sync_fence_info *fences = NULL;
	struct sync_file_info info;
	int ret = mock_copy_from_user(&info, arg, sizeof(info));

	if (ret)
		return ret;
	if (info.flags || info.pad)
		return -EINVAL;
	pthread_mutex_lock(sync->lock);
	ret = file_info_locked(file, &info, &fences);
	pthread_mutex_unlock(sync->lock);
	if (!ret && fences)
		ret = mock_copy_to_user(info.sync_fence_info, fences,
					info.num_fences * sizeof(*fences));
	if (!ret)
		ret = mock_copy_to_user(arg, &info, sizeof(info));
	free(fences);
	return ret;
}

/* The distinct fences of @a and @b in one fence (an array unless only one). */
static struct mock_fence *merge_fences(struct mock_fence *a, struct mock_fence *b)
{
	unsigned int na, nb, n = 0;
	struct mock_fence *const *pa = fence_parts(&a, &na), *const *pb = fence_parts(&b, &nb);
	struct mock_fence **all = mock_calloc(na + nb, sizeof(*all)), *f;

	if (!all)
		return NULL;
	for (unsigned int i = 0; i < na + nb; i++) {
		struct mock_fence *c = i < na ? pa[i] : pb[i - na];
		unsigned int j = 0;

		while (j < n && all[j] != c)
			j++;
		if (j == n)
			all[n++] = c;
	}
	if (n == 1 || !(f = mock_fence_alloc(a->sync, false))) {
		f = n == 1 ? all[0] : NULL;
		if (f)
			mock_fence_get(f);
		free(all);
		return f;
	}
	for (unsigned int i = 0; i < n; i++)
		mock_fence_get(all[i]);
	f->deps = all;
	f->nr_deps = n;
	return f;
}

static int merge_locked(struct mock_sync_file *file, struct sync_merge_data *data)
{
	struct mock_export *other = mock_export_lookup(data->fd2);
	struct mock_fence *f;
	char name[sizeof(data->name) + 1] = { 0 };
	int ret;

	if (!other || !other->file)
		return -ENOENT;
	f = merge_fences(file->fence, other->file->fence);
	if (!f)
		return -ENOMEM;
	memcpy(name, data->name, sizeof(data->name));
	ret = mock_sync_file_export_locked(f, name, &data->fence);
	mock_fence_put(f);
	return ret;
}

static int ioctl_merge(struct mock_sync *sync, struct mock_sync_file *file, uint64_t arg)
{
	struct sync_merge_data data;
	int ret = mock_copy_from_user(&data, arg, sizeof(data));

	if (ret)
		return ret;
	if (data.flags || data.pad)
		return -EINVAL;
	pthread_mutex_lock(sync->lock);
	ret = merge_locked(file, &data);
	pthread_mutex_unlock(sync->lock);
	if (!ret && mock_copy_to_user(arg, &data, sizeof(data))) {
		close(data.fence);
		ret = -EFAULT;
	}
	return ret;
}

/**
 * mock_sync_file_ioctl() - an ioctl on an fd that may be one of our sync files.
 * @fd: the fd.
 * @request: SYNC_IOC_FILE_INFO or SYNC_IOC_MERGE.
 * @arg: the caller's argument (read and written as copy_from/to_user do).
 *
 * FILE_INFO: flags and pad must be 0; num_fences 0 asks for the count only,
 * else it must be at least the count and sync_fence_info gets one entry per
 * fence. MERGE: a new sync file (fence out, O_CLOEXEC) of both files' fences.
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0; -ENOTTY (@fd is not a sync file we made, or another request);
 * -EINVAL (flags, pad, num_fences too small); -ENOENT (MERGE: fd2 is not a
 * sync file); -EFAULT; -ENOMEM, -EMFILE.
 */
int mock_sync_file_ioctl(int fd, unsigned long request, void *arg)
{
	struct mock_sync *sync = mock_sync_root();
	struct mock_sync_file file = { .fence = NULL };
	struct mock_export *x;
	int ret = -ENOTTY;

	/* A copy with its own reference: another thread may close the fd meanwhile. */
	pthread_mutex_lock(sync->lock);
	x = mock_export_lookup(fd);
	if (x && x->file) {
		file = *x->file;
		mock_fence_get(file.fence);
	}
	pthread_mutex_unlock(sync->lock);
	if (!file.fence)
		return -ENOTTY;
	if (request == SYNC_IOC_FILE_INFO)
		ret = ioctl_file_info(sync, &file, (uintptr_t)arg);
	else if (request == SYNC_IOC_MERGE)
		ret = ioctl_merge(sync, &file, (uintptr_t)arg);
	mock_fence_put(file.fence);
	return ret;
}
