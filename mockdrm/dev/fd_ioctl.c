// SPDX-License-Identifier: MIT
/*
 * The public entry points for fds the mock makes that are not DRM files:
 * sync files and sw_sync timelines (of the sync room), dma-bufs (dmabuf.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "mock_internal.h"

struct mockdrm_sw_sync {
	struct mock_sw_timeline *tl;
};

int mockdrm_fd_ioctl(int fd, unsigned long request, void *arg)
{
	if (_IOC_TYPE(request) == SYNC_IOC_MAGIC)
		return mock_sync_file_ioctl(fd, request, arg);
	if (_IOC_TYPE(request) == DMA_BUF_BASE)
		return mock_dmabuf_ioctl(fd, request, arg);
	return -ENOTTY;
}

int mockdrm_sw_sync_open(struct mockdrm_sw_sync **out)
{
	struct mockdrm_sw_sync *s = mock_calloc(1, sizeof(*s));

	if (!s || mock_sw_timeline_create(&s->tl)) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

int mockdrm_sw_sync_ioctl(struct mockdrm_sw_sync *s, unsigned long request, void *arg)
{
	return mock_sw_timeline_ioctl(s->tl, request, arg);
}

void mockdrm_sw_sync_close(struct mockdrm_sw_sync *s)
{
	if (!s)
		return;
	mock_sw_timeline_destroy(s->tl);
	free(s);
}
