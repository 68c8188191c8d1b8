// SPDX-License-Identifier: MIT
/*
 * Ioctl dispatch, as drm_ioctl() does it: find the handler by number, copy the
 * caller's argument into kernel-sized storage (a shorter caller struct is
 * zero-extended; a longer one truncated, its extra bytes zero for a driver
 * ioctl), run the handler, copy back what the caller's struct has room for.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <drm.h>

#include "mock_internal.h"

/* May a render node use it? (The kernel's DRM_RENDER_ALLOW.) */
#define RENDER_OK (1u << 0)
/* Only the current master may use it (DRM_MASTER). */
#define MASTER_ONLY (1u << 1)

struct ioctl_desc {
	unsigned long request; /* the kernel's request: number and struct size */
	int (*fn)(struct mockdrm_file *f, void *arg);
	uint32_t flags;
};

#define CORE(req, handler, fl)   \
	{                        \
		req, handler, fl \
	}

static int sync_create(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_create_ioctl(&f->syncobjs, a);
}

static int sync_destroy(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_destroy_ioctl(&f->syncobjs, a);
}

static int sync_to_fd(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_handle_to_fd_ioctl(&f->syncobjs, a);
}

static int sync_from_fd(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_fd_to_handle_ioctl(&f->syncobjs, a);
}

static int sync_wait(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_wait_ioctl(&f->syncobjs, a);
}

static int sync_timeline_wait(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_timeline_wait_ioctl(&f->syncobjs, a);
}

static int sync_reset(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_reset_ioctl(&f->syncobjs, a);
}

static int sync_signal(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_signal_ioctl(&f->syncobjs, a);
}

static int sync_query(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_query_ioctl(&f->syncobjs, a);
}

static int sync_timeline_signal(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_timeline_signal_ioctl(&f->syncobjs, a);
}

static int sync_transfer(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_transfer_ioctl(&f->syncobjs, a);
}

static int sync_eventfd(struct mockdrm_file *f, void *a)
{
	return mock_syncobj_eventfd_ioctl(&f->syncobjs, a);
}

static const struct ioctl_desc core_ioctls[] = {
	CORE(DRM_IOCTL_VERSION, mock_ioctl_version, RENDER_OK),
	CORE(DRM_IOCTL_GET_UNIQUE, mock_ioctl_get_unique, 0),
	CORE(DRM_IOCTL_GET_MAGIC, mock_ioctl_get_magic, 0),
	CORE(DRM_IOCTL_GET_CLIENT, mock_ioctl_get_client, 0),
	CORE(DRM_IOCTL_GET_STATS, mock_ioctl_get_stats, 0),
	CORE(DRM_IOCTL_AUTH_MAGIC, mock_ioctl_auth_magic, MASTER_ONLY),
	CORE(DRM_IOCTL_SET_MASTER, mock_ioctl_set_master, 0),
	CORE(DRM_IOCTL_DROP_MASTER, mock_ioctl_drop_master, 0),
	CORE(DRM_IOCTL_MODE_CREATE_DUMB, mock_ioctl_no_dumb, 0),
	CORE(DRM_IOCTL_MODE_MAP_DUMB, mock_ioctl_no_dumb, 0),
	CORE(DRM_IOCTL_MODE_DESTROY_DUMB, mock_ioctl_no_dumb, 0),
	CORE(DRM_IOCTL_GEM_CLOSE, mock_ioctl_gem_close, RENDER_OK),
	CORE(DRM_IOCTL_GET_CAP, mock_ioctl_get_cap, RENDER_OK),
	CORE(DRM_IOCTL_SET_CLIENT_CAP, mock_ioctl_set_client_cap, RENDER_OK),
	CORE(DRM_IOCTL_PRIME_HANDLE_TO_FD, mock_ioctl_prime_handle_to_fd, RENDER_OK),
	CORE(DRM_IOCTL_PRIME_FD_TO_HANDLE, mock_ioctl_prime_fd_to_handle, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_CREATE, sync_create, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_DESTROY, sync_destroy, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, sync_to_fd, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, sync_from_fd, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_WAIT, sync_wait, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, sync_timeline_wait, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_RESET, sync_reset, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_SIGNAL, sync_signal, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_QUERY, sync_query, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, sync_timeline_signal, RENDER_OK),
	CORE(DRM_IOCTL_SYNCOBJ_TRANSFER, sync_transfer, RENDER_OK),
	CORE(MOCK_DRM_IOCTL_SYNCOBJ_EVENTFD, sync_eventfd, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_DEV_QUERY, mock_ioctl_dev_query, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_VM_CREATE, mock_ioctl_vm_create, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_VM_DESTROY, mock_ioctl_vm_destroy, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_VM_BIND, mock_ioctl_vm_bind, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_VM_GET_STATE, mock_ioctl_vm_get_state, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_BO_CREATE, mock_ioctl_bo_create, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, mock_ioctl_bo_mmap_offset, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_GROUP_CREATE, mock_ioctl_group_create, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_GROUP_DESTROY, mock_ioctl_group_destroy, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_GROUP_SUBMIT, mock_ioctl_group_submit, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_GROUP_GET_STATE, mock_ioctl_group_get_state, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, mock_ioctl_tiler_heap_create, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, mock_ioctl_tiler_heap_destroy, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_BO_SET_LABEL, mock_ioctl_bo_set_label, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, mock_ioctl_set_user_mmio_offset, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_BO_SYNC, mock_ioctl_bo_sync, RENDER_OK),
	CORE(DRM_IOCTL_PANTHOR_BO_QUERY_INFO, mock_ioctl_bo_query_info, RENDER_OK),
	CORE(GPUVM_IOCTL_MOCK_GPU_ACCESS, mock_ioctl_gpu_access, RENDER_OK),
	CORE(GPUVM_IOCTL_MOCK_FENCE_ATTACH, mock_ioctl_fence_attach, RENDER_OK),
	CORE(GPUVM_IOCTL_MOCK_FENCE_SIGNAL, mock_ioctl_fence_signal, RENDER_OK),
	CORE(GPUVM_IOCTL_MOCK_STATS, mock_ioctl_stats, RENDER_OK),
	CORE(GPUVM_IOCTL_MOCK_VM_STATE, mock_ioctl_vm_state, RENDER_OK),
	CORE(GPUVM_IOCTL_MOCK_PT_READ, mock_ioctl_pt_read, RENDER_OK),
};

unsigned long mock_ioctl_request(unsigned int i)
{
	return i < sizeof(core_ioctls) / sizeof(core_ioctls[0]) ? core_ioctls[i].request : 0;
}

/* The driver's own ioctls (panthor's, and the mock's after them). */
static bool is_driver(unsigned int nr)
{
	return nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END;
}

/* The mode-setting range: a render-only driver has none of it. */
static bool is_kms(unsigned int nr)
{
	return (nr >= 0xa0 && nr <= 0xbe) || (nr >= 0xc6 && nr <= 0xc9) || nr == 0xce;
}

static const struct ioctl_desc *find(unsigned int nr)
{
	for (size_t i = 0; i < sizeof(core_ioctls) / sizeof(core_ioctls[0]); i++)
		if (_IOC_NR(core_ioctls[i].request) == nr)
			return &core_ioctls[i];
	return NULL;
}

/*
 * A driver ioctl's struct from a caller newer than us: the bytes past ours
 * must be zero (-E2BIG), the usual drm rule for driver structs
 * (panthor-1.8.md), so that a field we do not know is never ignored. The
 * generic DRM ioctls are truncated instead, as drm_ioctl() does: their newer
 * fields (a syncobj wait's deadline) are hints an older kernel may drop.
 */
static int check_tail(const void *arg, size_t ksize, size_t usize)
{
	unsigned char tail[64];

	for (size_t at = ksize; at < usize; at += sizeof(tail)) {
		size_t n = usize - at < sizeof(tail) ? usize - at : sizeof(tail);

		if (mock_copy_from_user(tail, (uint64_t)(uintptr_t)arg + at, n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++)
			if (tail[i])
				return -E2BIG;
	}
	return 0;
}

/* Run @d with the caller's @arg of @usize bytes, copying as the direction says. */
static int run(struct mockdrm_file *f, const struct ioctl_desc *d, unsigned long request, void *arg)
{
	unsigned char kdata[256] = { 0 };
	size_t ksize = _IOC_SIZE(d->request), usize = _IOC_SIZE(request);
	size_t in = (_IOC_DIR(request) & _IOC_WRITE) ? (usize < ksize ? usize : ksize) : 0;
	size_t out = (_IOC_DIR(request) & _IOC_READ) ? (usize < ksize ? usize : ksize) : 0;
	int ret;

	_Static_assert(sizeof(kdata) >= 64, "argument storage too small");
	if (ksize > sizeof(kdata))
		return -EINVAL;
	if (mock_copy_from_user(kdata, (uint64_t)(uintptr_t)arg, in))
		return -EFAULT;
	if (is_driver(_IOC_NR(d->request)) && (_IOC_DIR(request) & _IOC_WRITE)) {
		ret = check_tail(arg, ksize, usize);
		if (ret)
			return ret;
	}
	ret = d->fn(f, kdata);
	/* Like drm_ioctl(), the argument is copied back whatever the result. */
	if (mock_copy_to_user((uint64_t)(uintptr_t)arg, kdata, out))
		return -EFAULT;
	return ret;
}

int mockdrm_ioctl(struct mockdrm_file *f, unsigned long request, void *arg)
{
	unsigned int nr = _IOC_NR(request);
	const struct ioctl_desc *d;

	if (_IOC_TYPE(request) != DRM_IOCTL_BASE)
		return -ENOTTY;
	d = find(nr);
	if (!d) {
		if (is_kms(nr))
			return f->node == MOCKDRM_NODE_RENDER ? -EACCES : -EOPNOTSUPP;
		if (f->dev->cfg.debug)
			fprintf(stderr, "mockdrm: unhandled ioctl 0x%lx (nr 0x%x)\n", request, nr);
		return -EINVAL;
	}
	/* drm_ioctl_permit(): every refusal is -EACCES, before the argument is read. */
	if ((d->flags & MASTER_ONLY) && !mock_client_is_master(f))
		return -EACCES;
	if (f->node == MOCKDRM_NODE_RENDER && !(d->flags & RENDER_OK))
		return -EACCES;
	return run(f, d, request, arg);
}
