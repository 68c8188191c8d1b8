// SPDX-License-Identifier: MIT
/*
 * Helpers of gpuvm's igt tests (panthor_igt.h): groups and jobs.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "group-args.h"
#include "igt_core_abi.h"
#include "panthor_igt.h"

static const struct drm_panthor_queue_create one_queue = { .priority = 0, .ringbuf_size = 4096 };

/* The arguments tests/mockdrm's group tests start from too (group-args.h). */
struct drm_panthor_group_create panthor_group_args(uint32_t vm)
{
	return ga_group(&one_queue, vm);
}

uint32_t panthor_group_create(int fd, uint32_t vm)
{
	struct drm_panthor_group_create g = panthor_group_args(vm);

	do_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g);
	igt_assert_neq_u32(g.group_handle, 0);
	return g.group_handle;
}

int __panthor_group_destroy(int fd, uint32_t group)
{
	struct drm_panthor_group_destroy d = { .group_handle = group };

	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_DESTROY, &d);
}

struct drm_panthor_group_get_state panthor_group_state(int fd, uint32_t group)
{
	struct drm_panthor_group_get_state st = { .group_handle = group };

	do_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_GET_STATE, &st);
	return st;
}

int __panthor_submit_syncs(int fd, uint32_t group, struct drm_panthor_queue_submit *qs,
			   struct drm_panthor_sync_op *syncs, uint32_t count)
{
	struct drm_panthor_group_submit gs = { .group_handle = group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(1, qs) };

	qs->syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(count, syncs);
	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs);
}

int __panthor_submit(int fd, uint32_t group, struct drm_panthor_queue_submit *qs, uint32_t syncobj)
{
	struct drm_panthor_sync_op sync = { .flags = DRM_PANTHOR_SYNC_OP_SIGNAL,
					    .handle = syncobj };

	return __panthor_submit_syncs(fd, group, qs, &sync, 1);
}

void panthor_run(int fd, uint32_t group, uint64_t addr, uint32_t size, uint32_t latest_flush)
{
	struct drm_panthor_queue_submit qs = { .stream_addr = addr,
					       .stream_size = size,
					       .latest_flush = latest_flush };
	uint32_t syncobj = syncobj_create(fd, 0);

	igt_assert_eq(__panthor_submit(fd, group, &qs, syncobj), 0);
	igt_assert(syncobj_wait(fd, &syncobj, 1, INT64_MAX, 0, NULL));
	syncobj_destroy(fd, syncobj);
}

uint32_t panthor_store_stream(uint64_t *cmd, uint64_t va, uint32_t value, uint32_t flush_id)
{
	const uint64_t stream[] = {
		PANTHOR_CS_MOVE48(68, va),
		PANTHOR_CS_MOVE32(70, value),
		PANTHOR_CS_STORE1(70, 68),
		PANTHOR_CS_WAIT_ALL,
		PANTHOR_CS_MOVE32(70, flush_id),
		PANTHOR_CS_FLUSH_ALL(70),
		PANTHOR_CS_WAIT_ALL,
	};

	memcpy(cmd, stream, sizeof(stream));
	return sizeof(stream);
}

/*
 * Handles and ids come from lowest-free allocators (GEM handles, syncobjs,
 * panthor's VM and group pools, in Linux as in the mock): when a file has
 * freed everything it made, its next BO, VM, syncobj and group all get 1.
 */
void panthor_check_all_freed(int fd)
{
	uint32_t vm = panthor_vm_create(fd, NULL), bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	uint32_t syncobj = syncobj_create(fd, 0), group = panthor_group_create(fd, vm);

	igt_assert_f(bo == 1 && vm == 1 && syncobj == 1 && group == 1,
		     "objects left behind: next BO %u, VM %u, syncobj %u, group %u\n", bo, vm,
		     syncobj, group);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	syncobj_destroy(fd, syncobj);
	gem_close(fd, bo);
	panthor_vm_destroy(fd, vm);
}

void panthor_close(int fd)
{
	panthor_check_all_freed(fd);
	close(fd);
}
