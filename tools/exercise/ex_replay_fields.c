// SPDX-License-Identifier: MIT
/*
 * Which fields of each replayed ioctl carry ids to translate (in), ids the
 * device hands out (out), or results that must match the recording (cmp).
 * Offsets are those of the uapi structs (panthor_drm.h, libdrm's drm.h).
 */
#include <stddef.h>

#include <drm.h>
#include <gpuvm/panthor_drm.h>

#include "ex_replay.h"

#define P(idx) (DRM_COMMAND_BASE + (idx))
#define F(nr, s, f, kind, how)                                                              \
	{                                                                                   \
		nr, offsetof(struct s, f), kind, how, sizeof(((struct s *)0)->f), #s "." #f \
	}

const struct rp_field rp_fields[] = {
	F(0x09, drm_gem_close, handle, RP_BO, RP_IN),
	F(0x2d, drm_prime_handle, handle, RP_BO, RP_IN),
	F(0x2d, drm_prime_handle, fd, RP_FD, RP_OUT),
	F(0x2e, drm_prime_handle, fd, RP_FD, RP_IN),
	F(0x2e, drm_prime_handle, handle, RP_BO, RP_OUT),
	F(0xbf, drm_syncobj_create, handle, RP_SYNCOBJ, RP_OUT),
	F(0xc0, drm_syncobj_destroy, handle, RP_SYNCOBJ, RP_IN),
	F(0xc1, drm_syncobj_handle, handle, RP_SYNCOBJ, RP_IN),
	F(0xc1, drm_syncobj_handle, fd, RP_FD, RP_OUT),
	F(0xc2, drm_syncobj_handle, fd, RP_FD, RP_IN),
	F(0xc3, drm_syncobj_wait, first_signaled, 0, RP_CMP),
	F(0xca, drm_syncobj_timeline_wait, first_signaled, 0, RP_CMP),
	F(0xcc, drm_syncobj_transfer, src_handle, RP_SYNCOBJ, RP_IN),
	F(0xcc, drm_syncobj_transfer, dst_handle, RP_SYNCOBJ, RP_IN),
	F(P(DRM_PANTHOR_VM_CREATE), drm_panthor_vm_create, id, RP_VM, RP_OUT),
	F(P(DRM_PANTHOR_VM_CREATE), drm_panthor_vm_create, user_va_range, 0, RP_CMP),
	F(P(DRM_PANTHOR_VM_DESTROY), drm_panthor_vm_destroy, id, RP_VM, RP_IN),
	F(P(DRM_PANTHOR_VM_BIND), drm_panthor_vm_bind, vm_id, RP_VM, RP_IN),
	F(P(DRM_PANTHOR_VM_GET_STATE), drm_panthor_vm_get_state, vm_id, RP_VM, RP_IN),
	F(P(DRM_PANTHOR_VM_GET_STATE), drm_panthor_vm_get_state, state, 0, RP_CMP),
	F(P(DRM_PANTHOR_BO_CREATE), drm_panthor_bo_create, exclusive_vm_id, RP_VM, RP_IN),
	F(P(DRM_PANTHOR_BO_CREATE), drm_panthor_bo_create, handle, RP_BO, RP_OUT),
	F(P(DRM_PANTHOR_BO_CREATE), drm_panthor_bo_create, size, 0, RP_CMP),
	F(P(DRM_PANTHOR_BO_MMAP_OFFSET), drm_panthor_bo_mmap_offset, handle, RP_BO, RP_IN),
	F(P(DRM_PANTHOR_GROUP_CREATE), drm_panthor_group_create, vm_id, RP_VM, RP_IN),
	F(P(DRM_PANTHOR_GROUP_CREATE), drm_panthor_group_create, group_handle, RP_GROUP, RP_OUT),
	F(P(DRM_PANTHOR_GROUP_DESTROY), drm_panthor_group_destroy, group_handle, RP_GROUP, RP_IN),
	F(P(DRM_PANTHOR_GROUP_SUBMIT), drm_panthor_group_submit, group_handle, RP_GROUP, RP_IN),
	F(P(DRM_PANTHOR_GROUP_GET_STATE), drm_panthor_group_get_state, group_handle, RP_GROUP,
	  RP_IN),
	F(P(DRM_PANTHOR_GROUP_GET_STATE), drm_panthor_group_get_state, state, 0, RP_CMP),
	F(P(DRM_PANTHOR_GROUP_GET_STATE), drm_panthor_group_get_state, fatal_queues, 0, RP_CMP),
	F(P(DRM_PANTHOR_TILER_HEAP_CREATE), drm_panthor_tiler_heap_create, vm_id, RP_VM, RP_IN),
	F(P(DRM_PANTHOR_TILER_HEAP_CREATE), drm_panthor_tiler_heap_create, handle, RP_HEAP, RP_OUT),
	F(P(DRM_PANTHOR_TILER_HEAP_DESTROY), drm_panthor_tiler_heap_destroy, handle, RP_HEAP,
	  RP_IN),
	F(P(DRM_PANTHOR_BO_SET_LABEL), drm_panthor_bo_set_label, handle, RP_BO, RP_IN),
	F(P(DRM_PANTHOR_BO_QUERY_INFO), drm_panthor_bo_query_info, handle, RP_BO, RP_IN),
	F(P(DRM_PANTHOR_BO_QUERY_INFO), drm_panthor_bo_query_info, extra_flags, 0, RP_CMP),
	F(P(DRM_PANTHOR_BO_QUERY_INFO), drm_panthor_bo_query_info, create_flags, 0, RP_CMP),
	F(P(GPUVM_MOCK_GPU_ACCESS), gpuvm_mock_gpu_access, vm_id, RP_VM, RP_IN),
	F(P(GPUVM_MOCK_GPU_ACCESS), gpuvm_mock_gpu_access, access, 0, RP_CMP),
	F(P(GPUVM_MOCK_GPU_ACCESS), gpuvm_mock_gpu_access, fault_addr, 0, RP_CMP),
	F(P(GPUVM_MOCK_GPU_ACCESS), gpuvm_mock_gpu_access, done, 0, RP_CMP),
	F(P(GPUVM_MOCK_FENCE_ATTACH), gpuvm_mock_fence_attach, handle, RP_SYNCOBJ, RP_IN),
	F(P(GPUVM_MOCK_FENCE_ATTACH), gpuvm_mock_fence_attach, fence_id, RP_FENCE, RP_OUT),
	F(P(GPUVM_MOCK_FENCE_SIGNAL), gpuvm_mock_fence_signal, fence_id, RP_FENCE, RP_IN),
	{ 0 },
};
