// SPDX-License-Identifier: MIT
/*
 * uapi/include/gpuvm/panthor_drm.h from C++: the header compiles as C++17
 * (-Wall -Wextra -Werror -pedantic), its own static checks hold there, and a
 * subset of the ABI numbers of test-abi.c hold at compile time and at run
 * time: sizes, offsets, ioctl values, flags and the initializer macro.
 *
 * Exit status 0 when every runtime check passes, 1 otherwise (each failure is
 * printed).
 */
#include <gpuvm/panthor_drm.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace
{

/* Compile time: the literal numbers of the references. */
static_assert(sizeof(drm_panthor_vm_bind_op) == 48, "vm_bind_op");
static_assert(sizeof(drm_panthor_vm_bind) == 24, "vm_bind");
static_assert(sizeof(drm_panthor_gpu_info) == 112, "gpu_info");
static_assert(sizeof(drm_panthor_timestamp_info) == 56, "timestamp_info");
static_assert(offsetof(drm_panthor_timestamp_info, flags) == 24, "timestamp_info.flags");
static_assert(sizeof(drm_panthor_bo_sync_op) == 24, "bo_sync_op");
static_assert(DRM_IOCTL_PANTHOR_BO_QUERY_INFO == 0xC0106450u, "BO_QUERY_INFO");
static_assert(DRM_PANTHOR_USER_MMIO_OFFSET_64BIT == 1ull << 56, "USER_MMIO_OFFSET_64BIT");
static_assert(DRM_PANTHOR_USER_MMIO_OFFSET_32BIT == 1ull << 43, "USER_MMIO_OFFSET_32BIT");
static_assert(sizeof(drm_panthor_group_create) == 56, "group_create");
static_assert(sizeof(drm_panthor_queue_submit) == 40, "queue_submit");
static_assert(sizeof(drm_panthor_tiler_heap_create) == 40, "tiler_heap_create");
static_assert(sizeof(gpuvm_vm_bind_op_repeat) == 56, "vm_bind_op_repeat");
static_assert(sizeof(gpuvm_mock_gpu_access) == 56, "mock_gpu_access");
static_assert(offsetof(drm_panthor_gpu_info, shader_present) == 72, "gpu_info.shader_present");
static_assert(offsetof(drm_panthor_group_create, compute_core_mask) == 24,
	      "group_create.compute_core_mask");
static_assert(offsetof(drm_panthor_group_create, group_handle) == 52, "group_create.group_handle");
static_assert(offsetof(drm_panthor_queue_submit, syncs) == 24, "queue_submit.syncs");
static_assert(offsetof(gpuvm_vm_bind_op_repeat, bo_repeat_range) == 48,
	      "vm_bind_op_repeat.bo_repeat_range");
static_assert(DRM_IOCTL_PANTHOR_VM_BIND == 0xC0186443u, "VM_BIND");
static_assert(DRM_IOCTL_PANTHOR_GROUP_CREATE == 0xC0386447u, "GROUP_CREATE");
static_assert(DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE == 0xC028644Bu, "TILER_HEAP_CREATE");
static_assert(GPUVM_IOCTL_MOCK_GPU_ACCESS == 0xC0386470u, "MOCK_GPU_ACCESS");
static_assert(static_cast<std::uint32_t>(DRM_PANTHOR_SYNC_OP_SIGNAL) == 0x80000000u, "SIGNAL");
static_assert(static_cast<std::uint32_t>(DRM_PANTHOR_VM_BIND_OP_TYPE_MASK) == 0xf0000000u,
	      "TYPE_MASK");
static_assert((GPUVM_VM_BIND_OP_MAP_REPEAT &
	       static_cast<std::uint32_t>(DRM_PANTHOR_VM_BIND_OP_TYPE_MASK)) == 0,
	      "REPEAT outside the type field");

int failures;

void check(const char *what, unsigned long long got, unsigned long long want)
{
	if (got != want) {
		std::fprintf(stderr, "FAIL %s: got 0x%llx, want 0x%llx\n", what, got, want);
		failures++;
	}
}

#define CHECK(expr, want) check(#expr, static_cast<unsigned long long>(expr), want)

void check_ioctls()
{
	CHECK(DRM_IOCTL_PANTHOR_DEV_QUERY, 0xC0106440ull);
	CHECK(DRM_IOCTL_PANTHOR_VM_CREATE, 0xC0106441ull);
	CHECK(DRM_IOCTL_PANTHOR_VM_DESTROY, 0xC0086442ull);
	CHECK(DRM_IOCTL_PANTHOR_VM_BIND, 0xC0186443ull);
	CHECK(DRM_IOCTL_PANTHOR_VM_GET_STATE, 0xC0086444ull);
	CHECK(DRM_IOCTL_PANTHOR_BO_CREATE, 0xC0186445ull);
	CHECK(DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, 0xC0106446ull);
	CHECK(DRM_IOCTL_PANTHOR_GROUP_CREATE, 0xC0386447ull);
	CHECK(DRM_IOCTL_PANTHOR_GROUP_DESTROY, 0xC0086448ull);
	CHECK(DRM_IOCTL_PANTHOR_GROUP_SUBMIT, 0xC0186449ull);
	CHECK(DRM_IOCTL_PANTHOR_GROUP_GET_STATE, 0xC010644Aull);
	CHECK(DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, 0xC028644Bull);
	CHECK(DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, 0xC008644Cull);
	CHECK(DRM_IOCTL_PANTHOR_BO_SET_LABEL, 0xC010644Dull);
	CHECK(DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, 0xC008644Eull);
	CHECK(DRM_IOCTL_PANTHOR_BO_SYNC, 0xC010644Full);
	CHECK(DRM_IOCTL_PANTHOR_BO_QUERY_INFO, 0xC0106450ull);
	CHECK(GPUVM_IOCTL_MOCK_GPU_ACCESS, 0xC0386470ull);
	CHECK(GPUVM_IOCTL_MOCK_FENCE_ATTACH, 0xC0186471ull);
	CHECK(GPUVM_IOCTL_MOCK_FENCE_SIGNAL, 0xC0086472ull);
	CHECK(GPUVM_IOCTL_MOCK_STATS, 0xC0B06473ull);
	CHECK(GPUVM_IOCTL_MOCK_VM_STATE, 0xC0286474ull);
	CHECK(GPUVM_IOCTL_MOCK_PT_READ, 0xC0386475ull);
}

void check_layouts()
{
	CHECK(sizeof(drm_panthor_sync_op), 16);
	CHECK(sizeof(drm_panthor_queue_create), 8);
	CHECK(sizeof(drm_panthor_group_get_state), 16);
	CHECK(sizeof(gpuvm_mock_fence_attach), 24);
	CHECK(sizeof(gpuvm_mock_fence_signal), 8);
	CHECK(sizeof(gpuvm_mock_stats), 176);
	CHECK(sizeof(gpuvm_mock_vm_state), 40);
	CHECK(offsetof(drm_panthor_bo_create, handle), 16);
	CHECK(offsetof(drm_panthor_queue_create, ringbuf_size), 4);
	CHECK(offsetof(drm_panthor_tiler_heap_create, first_heap_chunk_gpu_va), 32);
	CHECK(offsetof(gpuvm_mock_gpu_access, fault_addr), 40);
	CHECK(offsetof(gpuvm_mock_fence_attach, fence_id), 16);
	CHECK(sizeof(drm_panthor_bo_set_label), 16);
	CHECK(offsetof(drm_panthor_bo_set_label, label), 8);
	CHECK(sizeof(drm_panthor_set_user_mmio_offset), 8);
	CHECK(sizeof(drm_panthor_bo_sync), 16);
	CHECK(offsetof(drm_panthor_bo_sync_op, size), 16);
	CHECK(sizeof(drm_panthor_bo_query_info), 16);
	CHECK(offsetof(drm_panthor_bo_query_info, create_flags), 8);
	CHECK(offsetof(drm_panthor_timestamp_info, cpu_timestamp_nsec), 48);
	CHECK(offsetof(drm_panthor_gpu_info, gpu_features), 104);
	/* The offset this process maps LATEST_FLUSH_ID at, by its word size. */
	CHECK(DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET,
	      sizeof(unsigned long) == 8 ? 1ull << 56 : 1ull << 43);
}

/*
 * The way C++ callers fill the structs: flags combined from enumerators into a
 * __u32 field, the positional initializer macro, value-initialization.
 */
void check_usage()
{
	gpuvm_vm_bind_op_repeat ops[2] = {};
	drm_panthor_vm_bind bind = {};
	drm_panthor_obj_array arr = DRM_PANTHOR_OBJ_ARRAY(2, ops);
	drm_panthor_sync_op sync = {};

	ops[0].flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC |
		       GPUVM_VM_BIND_OP_MAP_REPEAT;
	ops[0].bo_repeat_range = 0x10000;
	bind.vm_id = 1;
	bind.flags = DRM_PANTHOR_VM_BIND_ASYNC;
	bind.ops = arr;
	sync.flags = static_cast<__u32>(DRM_PANTHOR_SYNC_OP_SIGNAL) |
		     DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ;

	CHECK(bind.ops.stride, GPUVM_VM_BIND_OP_SIZE_V2);
	CHECK(bind.ops.count, 2);
	CHECK(bind.ops.array, reinterpret_cast<std::uintptr_t>(ops));
	CHECK(ops[0].flags, 0x01000002ull);
	CHECK(sync.flags, 0x80000001ull);

	/* The repeat range sits right after panthor's 48 bytes. */
	unsigned char bytes[sizeof(ops[0])];
	__u64 range;
	std::memcpy(bytes, &ops[0], sizeof(bytes));
	std::memcpy(&range, bytes + GPUVM_VM_BIND_OP_SIZE_V1, sizeof(range));
	CHECK(range, 0x10000);
}

} // namespace

int main()
{
	check_ioctls();
	check_layouts();
	check_usage();
	if (failures) {
		std::fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	std::printf("test-abi-cxx: all checks passed\n");
	return 0;
}
