// SPDX-License-Identifier: MIT
/*
 * Helpers of gpuvm's igt tests (panthor_igt.h): PRIME, dma-buf and sync-file
 * calls, made with the uapi headers (<linux/dma-buf.h>, <linux/sync_file.h>)
 * as any client makes them; libigt's own helpers for these are not part of
 * the ABI we declare (igt-abi.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

/* A failed ioctl on a non-DRM fd: -errno (errno reset), as panthor_ioctl(). */
static int fd_ioctl(int fd, unsigned long request, void *arg)
{
	int err = ioctl(fd, request, arg) ? -errno : 0;

	errno = 0;
	return err;
}

int __panthor_prime_export(int fd, uint32_t bo, uint32_t flags, int *dmabuf)
{
	struct drm_prime_handle a = { .handle = bo, .flags = flags, .fd = -1 };
	int err = panthor_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &a);

	*dmabuf = a.fd;
	return err;
}

int __panthor_prime_import(int fd, int dmabuf, uint32_t *bo)
{
	struct drm_prime_handle a = { .fd = dmabuf };
	int err = panthor_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &a);

	*bo = a.handle;
	return err;
}

int __panthor_dmabuf_export_sync_file(int dmabuf, uint32_t flags, int *sync_file)
{
	struct dma_buf_export_sync_file a = { .flags = flags, .fd = -1 };
	int err = fd_ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &a);

	*sync_file = a.fd;
	return err;
}

int __panthor_dmabuf_import_sync_file(int dmabuf, uint32_t flags, int sync_file)
{
	struct dma_buf_import_sync_file a = { .flags = flags, .fd = sync_file };

	return fd_ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &a);
}

int __panthor_dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync a = { .flags = flags };

	return fd_ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &a);
}

int panthor_sync_file_status(int sync_file, uint32_t *num_fences)
{
	struct sync_file_info info = { 0 };

	igt_assert_eq(fd_ioctl(sync_file, SYNC_IOC_FILE_INFO, &info), 0);
	if (num_fences)
		*num_fences = info.num_fences;
	return info.status;
}

int panthor_dmabuf_status(int dmabuf, uint32_t flags)
{
	int sync_file = -1, status;

	igt_assert_eq(__panthor_dmabuf_export_sync_file(dmabuf, flags, &sync_file), 0);
	igt_assert_fd(sync_file);
	status = panthor_sync_file_status(sync_file, NULL);
	close(sync_file);
	return status;
}

int __panthor_sync_merge(int a, int b, int *merged)
{
	struct sync_merge_data d = { .name = "igt-merge", .fd2 = b, .fence = -1 };
	int err = fd_ioctl(a, SYNC_IOC_MERGE, &d);

	*merged = d.fence;
	return err;
}

bool panthor_fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

int panthor_syncobj_export_sync_file(int fd, uint32_t syncobj)
{
	int sync_file =
		syncobj_handle_to_fd(fd, syncobj, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE);

	igt_assert_fd(sync_file);
	return sync_file;
}

int panthor_pending_sync_file(int fd, uint32_t *fence_id)
{
	uint32_t syncobj = syncobj_create(fd, 0);
	int sync_file;

	*fence_id = panthor_fence_attach(fd, syncobj, 0);
	sync_file = panthor_syncobj_export_sync_file(fd, syncobj);
	syncobj_destroy(fd, syncobj);
	return sync_file;
}

int panthor_count_open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}
