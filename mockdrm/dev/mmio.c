// SPDX-License-Identifier: MIT
/*
 * The user MMIO page of each open file (DOC: user MMIO in panthor_drm.h):
 * SET_USER_MMIO_OFFSET, and the rules of mmap at the file's flush-ID offset.
 * The page itself is the GPU's (mock_gpu.h: a sealed memfd showing
 * LATEST_FLUSH_ID); every file maps the same page, as every file maps the
 * same register page of a real GPU.
 */
#include <errno.h>
#include <sys/mman.h>

#include "mock_internal.h"

int mock_ioctl_set_user_mmio_offset(struct mockdrm_file *f, void *arg)
{
	const struct drm_panthor_set_user_mmio_offset *a = arg;

	if (a->offset != DRM_PANTHOR_USER_MMIO_OFFSET_32BIT &&
	    a->offset != DRM_PANTHOR_USER_MMIO_OFFSET_64BIT)
		return -EINVAL;
	pthread_mutex_lock(&f->dev->lock);
	f->user_mmio_offset = a->offset;
	pthread_mutex_unlock(&f->dev->lock);
	return 0;
}

static uint64_t mmio_offset(struct mockdrm_file *f)
{
	uint64_t offset;

	pthread_mutex_lock(&f->dev->lock);
	offset = f->user_mmio_offset;
	pthread_mutex_unlock(&f->dev->lock);
	return offset;
}

/*
 * mock_mmio_lookup() - is [offset, offset + length) the file's flush-ID page?
 * Return: 1 with *@fd and *@fd_offset set; 0 when @offset is not the page's
 * (the caller looks for a BO); -EINVAL for a length other than one page.
 */
int mock_mmio_lookup(struct mockdrm_file *f, uint64_t offset, uint64_t length, int *fd,
		     uint64_t *fd_offset)
{
	if (offset != mmio_offset(f))
		return 0;
	if (length != MOCK_GPU_USER_PAGE)
		return -EINVAL;
	*fd = f->dev->gpu.user_page_fd;
	*fd_offset = 0;
	return 1;
}

/**
 * mockdrm_mmap_check() - may the DRM fd be mapped so?
 * @file: the open file.
 * @offset: the file offset asked for.
 * @length: bytes.
 * @prot: the mmap() protection.
 * @flags: the mmap() flags.
 *
 * The flush-ID page is mapped exactly one page long, MAP_SHARED, neither
 * writable nor executable; BOs have no rule here beyond
 * mockdrm_mmap_lookup()'s.
 *
 * Context: any thread.
 * Return: 0, or -EINVAL.
 */
int mockdrm_mmap_check(struct mockdrm_file *file, uint64_t offset, uint64_t length, int prot,
		       int flags)
{
	int type = flags & MAP_TYPE;

	if (offset != mmio_offset(file))
		return 0;
	if (length != MOCK_GPU_USER_PAGE || (prot & (PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	return type == MAP_SHARED || type == MAP_SHARED_VALIDATE ? 0 : -EINVAL;
}
