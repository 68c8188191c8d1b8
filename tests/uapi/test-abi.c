// SPDX-License-Identifier: MIT
/*
 * The ABI of uapi/include/gpuvm/panthor_drm.h against the literal numbers of
 * shared/reference/panthor-uapi.md and shared/reference/mali.md section 4:
 * every struct's size, every field's offset and size, every ioctl request
 * value, every flag and enum value; then the properties of our extensions
 * (repeat ops, mock-only ioctls) and coexistence with libdrm.
 *
 * The numbers here are typed in from the references, not derived from the
 * header, so a change that keeps the header consistent with itself (its own
 * static checks updated to match) still fails here. Each table row is named
 * and every mismatching row is printed before the test fails.
 *
 * libdrm's headers come first on purpose: the header must compile after them
 * (DRM_IOCTL_BASE and DRM_COMMAND_BASE already defined).
 */
#include <xf86drm.h>

#include <drm.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gpuvm/panthor_drm.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Report a mismatching row; the test fails after the whole table ran. */
#define ROW_CHECK(bad, row, what, got, want)                                                       \
	do {                                                                                       \
		unsigned long long got_ = (unsigned long long)(got);                               \
		unsigned long long want_ = (unsigned long long)(want);                             \
		if (got_ != want_) {                                                               \
			print_error("%s: %s = %llu (0x%llx), want %llu (0x%llx)\n", (row), (what), \
				    got_, got_, want_, want_);                                     \
			(bad)++;                                                                   \
		}                                                                                  \
	} while (0)

#define TABLE_DONE(bad, table)                                                               \
	do {                                                                                 \
		if ((bad) != 0)                                                              \
			fail_msg("%u mismatching row(s) in %s", (unsigned int)(bad), table); \
	} while (0)

/* Sizes, mali.md section 4 and panthor-uapi.md "Structs". */
struct size_row {
	const char *name;
	size_t size;
	size_t want;
};

#define SIZE_ROW(s, want)                  \
	{                                  \
#s, sizeof(struct s), want \
	}

static const struct size_row sizes[] = {
	SIZE_ROW(drm_panthor_obj_array, 16),
	SIZE_ROW(drm_panthor_sync_op, 16),
	SIZE_ROW(drm_panthor_gpu_info, 112),
	SIZE_ROW(drm_panthor_csif_info, 24),
	SIZE_ROW(drm_panthor_timestamp_info, 56),
	SIZE_ROW(drm_panthor_group_priorities_info, 4),
	SIZE_ROW(drm_panthor_dev_query, 16),
	SIZE_ROW(drm_panthor_vm_create, 16),
	SIZE_ROW(drm_panthor_vm_destroy, 8),
	SIZE_ROW(drm_panthor_vm_bind_op, 48),
	SIZE_ROW(drm_panthor_vm_bind, 24),
	SIZE_ROW(drm_panthor_vm_get_state, 8),
	SIZE_ROW(drm_panthor_bo_create, 24),
	SIZE_ROW(drm_panthor_bo_mmap_offset, 16),
	SIZE_ROW(drm_panthor_queue_create, 8),
	SIZE_ROW(drm_panthor_group_create, 56),
	SIZE_ROW(drm_panthor_group_destroy, 8),
	SIZE_ROW(drm_panthor_queue_submit, 40),
	SIZE_ROW(drm_panthor_group_submit, 24),
	SIZE_ROW(drm_panthor_group_get_state, 16),
	SIZE_ROW(drm_panthor_tiler_heap_create, 40),
	SIZE_ROW(drm_panthor_tiler_heap_destroy, 8),
	SIZE_ROW(drm_panthor_bo_set_label, 16),
	SIZE_ROW(drm_panthor_set_user_mmio_offset, 8),
	SIZE_ROW(drm_panthor_bo_sync_op, 24),
	SIZE_ROW(drm_panthor_bo_sync, 16),
	SIZE_ROW(drm_panthor_bo_query_info, 16),
	/* Ours: the brief's layouts. */
	SIZE_ROW(gpuvm_vm_bind_op_repeat, 56),
	SIZE_ROW(gpuvm_mock_gpu_access, 56),
	SIZE_ROW(gpuvm_mock_fence_attach, 24),
	SIZE_ROW(gpuvm_mock_fence_signal, 8),
	SIZE_ROW(gpuvm_mock_stats, 176),
	SIZE_ROW(gpuvm_mock_vm_state, 40),
};

/* Every field of every struct, in declaration order: offset and size. */
struct field_row {
	const char *strct, *field;
	size_t offset, size;
	size_t want_offset, want_size;
};

#define F(s, f, off, sz)                                                           \
	{                                                                          \
#s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f), off, sz \
	}

static const struct field_row fields[] = {
	F(drm_panthor_obj_array, stride, 0, 4),
	F(drm_panthor_obj_array, count, 4, 4),
	F(drm_panthor_obj_array, array, 8, 8),

	F(drm_panthor_sync_op, flags, 0, 4),
	F(drm_panthor_sync_op, handle, 4, 4),
	F(drm_panthor_sync_op, timeline_value, 8, 8),

	F(drm_panthor_gpu_info, gpu_id, 0, 4),
	F(drm_panthor_gpu_info, gpu_rev, 4, 4),
	F(drm_panthor_gpu_info, csf_id, 8, 4),
	F(drm_panthor_gpu_info, l2_features, 12, 4),
	F(drm_panthor_gpu_info, tiler_features, 16, 4),
	F(drm_panthor_gpu_info, mem_features, 20, 4),
	F(drm_panthor_gpu_info, mmu_features, 24, 4),
	F(drm_panthor_gpu_info, thread_features, 28, 4),
	F(drm_panthor_gpu_info, max_threads, 32, 4),
	F(drm_panthor_gpu_info, thread_max_workgroup_size, 36, 4),
	F(drm_panthor_gpu_info, thread_max_barrier_size, 40, 4),
	F(drm_panthor_gpu_info, coherency_features, 44, 4),
	F(drm_panthor_gpu_info, texture_features, 48, 16),
	F(drm_panthor_gpu_info, as_present, 64, 4),
	F(drm_panthor_gpu_info, selected_coherency, 68, 4),
	F(drm_panthor_gpu_info, shader_present, 72, 8),
	F(drm_panthor_gpu_info, l2_present, 80, 8),
	F(drm_panthor_gpu_info, tiler_present, 88, 8),
	F(drm_panthor_gpu_info, core_features, 96, 4),
	F(drm_panthor_gpu_info, pad, 100, 4),
	F(drm_panthor_gpu_info, gpu_features, 104, 8),

	F(drm_panthor_csif_info, csg_slot_count, 0, 4),
	F(drm_panthor_csif_info, cs_slot_count, 4, 4),
	F(drm_panthor_csif_info, cs_reg_count, 8, 4),
	F(drm_panthor_csif_info, scoreboard_slot_count, 12, 4),
	F(drm_panthor_csif_info, unpreserved_cs_reg_count, 16, 4),
	F(drm_panthor_csif_info, pad, 20, 4),

	F(drm_panthor_timestamp_info, timestamp_frequency, 0, 8),
	F(drm_panthor_timestamp_info, current_timestamp, 8, 8),
	F(drm_panthor_timestamp_info, timestamp_offset, 16, 8),
	F(drm_panthor_timestamp_info, flags, 24, 4),
	F(drm_panthor_timestamp_info, duration_nsec, 28, 4),
	F(drm_panthor_timestamp_info, cycle_count, 32, 8),
	F(drm_panthor_timestamp_info, cpu_timestamp_sec, 40, 8),
	F(drm_panthor_timestamp_info, cpu_timestamp_nsec, 48, 8),

	F(drm_panthor_group_priorities_info, allowed_mask, 0, 1),
	F(drm_panthor_group_priorities_info, pad, 1, 3),

	F(drm_panthor_dev_query, type, 0, 4),
	F(drm_panthor_dev_query, size, 4, 4),
	F(drm_panthor_dev_query, pointer, 8, 8),

	F(drm_panthor_vm_create, flags, 0, 4),
	F(drm_panthor_vm_create, id, 4, 4),
	F(drm_panthor_vm_create, user_va_range, 8, 8),

	F(drm_panthor_vm_destroy, id, 0, 4),
	F(drm_panthor_vm_destroy, pad, 4, 4),

	F(drm_panthor_vm_bind_op, flags, 0, 4),
	F(drm_panthor_vm_bind_op, bo_handle, 4, 4),
	F(drm_panthor_vm_bind_op, bo_offset, 8, 8),
	F(drm_panthor_vm_bind_op, va, 16, 8),
	F(drm_panthor_vm_bind_op, size, 24, 8),
	F(drm_panthor_vm_bind_op, syncs, 32, 16),

	F(drm_panthor_vm_bind, vm_id, 0, 4),
	F(drm_panthor_vm_bind, flags, 4, 4),
	F(drm_panthor_vm_bind, ops, 8, 16),

	F(drm_panthor_vm_get_state, vm_id, 0, 4),
	F(drm_panthor_vm_get_state, state, 4, 4),

	F(drm_panthor_bo_create, size, 0, 8),
	F(drm_panthor_bo_create, flags, 8, 4),
	F(drm_panthor_bo_create, exclusive_vm_id, 12, 4),
	F(drm_panthor_bo_create, handle, 16, 4),
	F(drm_panthor_bo_create, pad, 20, 4),

	F(drm_panthor_bo_mmap_offset, handle, 0, 4),
	F(drm_panthor_bo_mmap_offset, pad, 4, 4),
	F(drm_panthor_bo_mmap_offset, offset, 8, 8),

	F(drm_panthor_queue_create, priority, 0, 1),
	F(drm_panthor_queue_create, pad, 1, 3),
	F(drm_panthor_queue_create, ringbuf_size, 4, 4),

	F(drm_panthor_group_create, queues, 0, 16),
	F(drm_panthor_group_create, max_compute_cores, 16, 1),
	F(drm_panthor_group_create, max_fragment_cores, 17, 1),
	F(drm_panthor_group_create, max_tiler_cores, 18, 1),
	F(drm_panthor_group_create, priority, 19, 1),
	F(drm_panthor_group_create, pad, 20, 4),
	F(drm_panthor_group_create, compute_core_mask, 24, 8),
	F(drm_panthor_group_create, fragment_core_mask, 32, 8),
	F(drm_panthor_group_create, tiler_core_mask, 40, 8),
	F(drm_panthor_group_create, vm_id, 48, 4),
	F(drm_panthor_group_create, group_handle, 52, 4),

	F(drm_panthor_group_destroy, group_handle, 0, 4),
	F(drm_panthor_group_destroy, pad, 4, 4),

	F(drm_panthor_queue_submit, queue_index, 0, 4),
	F(drm_panthor_queue_submit, stream_size, 4, 4),
	F(drm_panthor_queue_submit, stream_addr, 8, 8),
	F(drm_panthor_queue_submit, latest_flush, 16, 4),
	F(drm_panthor_queue_submit, pad, 20, 4),
	F(drm_panthor_queue_submit, syncs, 24, 16),

	F(drm_panthor_group_submit, group_handle, 0, 4),
	F(drm_panthor_group_submit, pad, 4, 4),
	F(drm_panthor_group_submit, queue_submits, 8, 16),

	F(drm_panthor_group_get_state, group_handle, 0, 4),
	F(drm_panthor_group_get_state, state, 4, 4),
	F(drm_panthor_group_get_state, fatal_queues, 8, 4),
	F(drm_panthor_group_get_state, pad, 12, 4),

	F(drm_panthor_tiler_heap_create, vm_id, 0, 4),
	F(drm_panthor_tiler_heap_create, initial_chunk_count, 4, 4),
	F(drm_panthor_tiler_heap_create, chunk_size, 8, 4),
	F(drm_panthor_tiler_heap_create, max_chunks, 12, 4),
	F(drm_panthor_tiler_heap_create, target_in_flight, 16, 4),
	F(drm_panthor_tiler_heap_create, handle, 20, 4),
	F(drm_panthor_tiler_heap_create, tiler_heap_ctx_gpu_va, 24, 8),
	F(drm_panthor_tiler_heap_create, first_heap_chunk_gpu_va, 32, 8),

	F(drm_panthor_tiler_heap_destroy, handle, 0, 4),
	F(drm_panthor_tiler_heap_destroy, pad, 4, 4),

	F(drm_panthor_bo_set_label, handle, 0, 4),
	F(drm_panthor_bo_set_label, pad, 4, 4),
	F(drm_panthor_bo_set_label, label, 8, 8),

	F(drm_panthor_set_user_mmio_offset, offset, 0, 8),

	F(drm_panthor_bo_sync_op, handle, 0, 4),
	F(drm_panthor_bo_sync_op, type, 4, 4),
	F(drm_panthor_bo_sync_op, offset, 8, 8),
	F(drm_panthor_bo_sync_op, size, 16, 8),

	F(drm_panthor_bo_sync, ops, 0, 16),

	F(drm_panthor_bo_query_info, handle, 0, 4),
	F(drm_panthor_bo_query_info, extra_flags, 4, 4),
	F(drm_panthor_bo_query_info, create_flags, 8, 4),
	F(drm_panthor_bo_query_info, pad, 12, 4),

	F(gpuvm_vm_bind_op_repeat, flags, 0, 4),
	F(gpuvm_vm_bind_op_repeat, bo_handle, 4, 4),
	F(gpuvm_vm_bind_op_repeat, bo_offset, 8, 8),
	F(gpuvm_vm_bind_op_repeat, va, 16, 8),
	F(gpuvm_vm_bind_op_repeat, size, 24, 8),
	F(gpuvm_vm_bind_op_repeat, syncs, 32, 16),
	F(gpuvm_vm_bind_op_repeat, bo_repeat_range, 48, 8),

	F(gpuvm_mock_gpu_access, vm_id, 0, 4),
	F(gpuvm_mock_gpu_access, op, 4, 4),
	F(gpuvm_mock_gpu_access, va, 8, 8),
	F(gpuvm_mock_gpu_access, size, 16, 8),
	F(gpuvm_mock_gpu_access, data, 24, 8),
	F(gpuvm_mock_gpu_access, fill, 32, 4),
	F(gpuvm_mock_gpu_access, access, 36, 4),
	F(gpuvm_mock_gpu_access, fault_addr, 40, 8),
	F(gpuvm_mock_gpu_access, done, 48, 8),

	F(gpuvm_mock_fence_attach, handle, 0, 4),
	F(gpuvm_mock_fence_attach, flags, 4, 4),
	F(gpuvm_mock_fence_attach, point, 8, 8),
	F(gpuvm_mock_fence_attach, fence_id, 16, 4),
	F(gpuvm_mock_fence_attach, pad, 20, 4),

	F(gpuvm_mock_fence_signal, fence_id, 0, 4),
	F(gpuvm_mock_fence_signal, error, 4, 4),

	F(gpuvm_mock_stats, flags, 0, 4),
	F(gpuvm_mock_stats, pad, 4, 4),
	F(gpuvm_mock_stats, tlb_hits, 8, 8),
	F(gpuvm_mock_stats, tlb_misses, 16, 8),
	F(gpuvm_mock_stats, stale_translations, 24, 8),
	F(gpuvm_mock_stats, freed_table_walks, 32, 8),
	F(gpuvm_mock_stats, as_updates, 40, 8),
	F(gpuvm_mock_stats, as_locks, 48, 8),
	F(gpuvm_mock_stats, as_unlocks, 56, 8),
	F(gpuvm_mock_stats, as_flush_pt, 64, 8),
	F(gpuvm_mock_stats, as_flush_mem, 72, 8),
	F(gpuvm_mock_stats, pt_flushes, 80, 8),
	F(gpuvm_mock_stats, skipped_flushes, 88, 8),
	F(gpuvm_mock_stats, cache_flushes, 96, 8),
	F(gpuvm_mock_stats, activations, 104, 8),
	F(gpuvm_mock_stats, evictions, 112, 8),
	F(gpuvm_mock_stats, faults, 120, 8),
	F(gpuvm_mock_stats, lock_waits, 128, 8),
	F(gpuvm_mock_stats, first_stale_va, 136, 8),
	F(gpuvm_mock_stats, cache_flushes_skipped, 144, 8),
	F(gpuvm_mock_stats, bo_sync_ops, 152, 8),
	F(gpuvm_mock_stats, bo_sync_lines, 160, 8),
	F(gpuvm_mock_stats, latest_flush_id, 168, 4),
	F(gpuvm_mock_stats, pad2, 172, 4),

	F(gpuvm_mock_vm_state, vm_id, 0, 4),
	F(gpuvm_mock_vm_state, as_slot, 4, 4),
	F(gpuvm_mock_vm_state, users, 8, 4),
	F(gpuvm_mock_vm_state, faulted, 12, 4),
	F(gpuvm_mock_vm_state, fault_status, 16, 4),
	F(gpuvm_mock_vm_state, pad, 20, 4),
	F(gpuvm_mock_vm_state, fault_addr, 24, 8),
	F(gpuvm_mock_vm_state, fault_count, 32, 8),
};

/* Ioctl requests: panthor-uapi.md "Ioctl numbers", mali.md section 4, ours. */
struct ioctl_row {
	const char *name;
	unsigned long request;
	unsigned long want;
	unsigned int index;
	size_t arg_size;    /* literal */
	size_t struct_size; /* sizeof, from the header */
};

#define IOCTL_ROW(req, want, idx, sz, s)                   \
	{                                                  \
#req, req, want, idx, sz, sizeof(struct s) \
	}

static const struct ioctl_row ioctls[] = {
	IOCTL_ROW(DRM_IOCTL_PANTHOR_DEV_QUERY, 0xC0106440ul, 0, 16, drm_panthor_dev_query),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_VM_CREATE, 0xC0106441ul, 1, 16, drm_panthor_vm_create),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_VM_DESTROY, 0xC0086442ul, 2, 8, drm_panthor_vm_destroy),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_VM_BIND, 0xC0186443ul, 3, 24, drm_panthor_vm_bind),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_VM_GET_STATE, 0xC0086444ul, 4, 8, drm_panthor_vm_get_state),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_BO_CREATE, 0xC0186445ul, 5, 24, drm_panthor_bo_create),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, 0xC0106446ul, 6, 16,
		  drm_panthor_bo_mmap_offset),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_GROUP_CREATE, 0xC0386447ul, 7, 56, drm_panthor_group_create),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_GROUP_DESTROY, 0xC0086448ul, 8, 8, drm_panthor_group_destroy),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_GROUP_SUBMIT, 0xC0186449ul, 9, 24, drm_panthor_group_submit),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_GROUP_GET_STATE, 0xC010644Aul, 10, 16,
		  drm_panthor_group_get_state),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, 0xC028644Bul, 11, 40,
		  drm_panthor_tiler_heap_create),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, 0xC008644Cul, 12, 8,
		  drm_panthor_tiler_heap_destroy),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_BO_SET_LABEL, 0xC010644Dul, 13, 16, drm_panthor_bo_set_label),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, 0xC008644Eul, 14, 8,
		  drm_panthor_set_user_mmio_offset),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_BO_SYNC, 0xC010644Ful, 15, 16, drm_panthor_bo_sync),
	IOCTL_ROW(DRM_IOCTL_PANTHOR_BO_QUERY_INFO, 0xC0106450ul, 16, 16, drm_panthor_bo_query_info),
	IOCTL_ROW(GPUVM_IOCTL_MOCK_GPU_ACCESS, 0xC0386470ul, 0x30, 56, gpuvm_mock_gpu_access),
	IOCTL_ROW(GPUVM_IOCTL_MOCK_FENCE_ATTACH, 0xC0186471ul, 0x31, 24, gpuvm_mock_fence_attach),
	IOCTL_ROW(GPUVM_IOCTL_MOCK_FENCE_SIGNAL, 0xC0086472ul, 0x32, 8, gpuvm_mock_fence_signal),
	IOCTL_ROW(GPUVM_IOCTL_MOCK_STATS, 0xC0B06473ul, 0x33, 176, gpuvm_mock_stats),
	IOCTL_ROW(GPUVM_IOCTL_MOCK_VM_STATE, 0xC0286474ul, 0x34, 40, gpuvm_mock_vm_state),
	IOCTL_ROW(GPUVM_IOCTL_MOCK_PT_READ, 0xC0386475ul, 0x35, 56, gpuvm_mock_pt_read),
};

/* The index each ioctl id constant names (enumerator or macro). */
struct index_row {
	const char *name;
	unsigned int index;
	unsigned int want;
};

#define INDEX_ROW(id, want)   \
	{                     \
#id, id, want \
	}

static const struct index_row indices[] = {
	INDEX_ROW(DRM_PANTHOR_DEV_QUERY, 0),
	INDEX_ROW(DRM_PANTHOR_VM_CREATE, 1),
	INDEX_ROW(DRM_PANTHOR_VM_DESTROY, 2),
	INDEX_ROW(DRM_PANTHOR_VM_BIND, 3),
	INDEX_ROW(DRM_PANTHOR_VM_GET_STATE, 4),
	INDEX_ROW(DRM_PANTHOR_BO_CREATE, 5),
	INDEX_ROW(DRM_PANTHOR_BO_MMAP_OFFSET, 6),
	INDEX_ROW(DRM_PANTHOR_GROUP_CREATE, 7),
	INDEX_ROW(DRM_PANTHOR_GROUP_DESTROY, 8),
	INDEX_ROW(DRM_PANTHOR_GROUP_SUBMIT, 9),
	INDEX_ROW(DRM_PANTHOR_GROUP_GET_STATE, 10),
	INDEX_ROW(DRM_PANTHOR_TILER_HEAP_CREATE, 11),
	INDEX_ROW(DRM_PANTHOR_TILER_HEAP_DESTROY, 12),
	INDEX_ROW(DRM_PANTHOR_BO_SET_LABEL, 13),
	INDEX_ROW(DRM_PANTHOR_SET_USER_MMIO_OFFSET, 14),
	INDEX_ROW(DRM_PANTHOR_BO_SYNC, 15),
	INDEX_ROW(DRM_PANTHOR_BO_QUERY_INFO, 16),
	INDEX_ROW(GPUVM_MOCK_GPU_ACCESS, 0x30),
	INDEX_ROW(GPUVM_MOCK_FENCE_ATTACH, 0x31),
	INDEX_ROW(GPUVM_MOCK_FENCE_SIGNAL, 0x32),
	INDEX_ROW(GPUVM_MOCK_STATS, 0x33),
	INDEX_ROW(GPUVM_MOCK_VM_STATE, 0x34),
	INDEX_ROW(GPUVM_MOCK_PT_READ, 0x35),
};

/* Flag and enum values, as 32-bit patterns. */
struct value_row {
	const char *name;
	uint32_t value;
	uint32_t want;
};

#define VALUE_ROW(v, want)              \
	{                               \
#v, (uint32_t)(v), want \
	}

static const struct value_row values[] = {
	VALUE_ROW(DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK, 0xff),
	VALUE_ROW(DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ, 0),
	VALUE_ROW(DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ, 1),
	VALUE_ROW(DRM_PANTHOR_SYNC_OP_WAIT, 0),
	VALUE_ROW(DRM_PANTHOR_SYNC_OP_SIGNAL, 0x80000000u),

	VALUE_ROW(DRM_PANTHOR_DEV_QUERY_GPU_INFO, 0),
	VALUE_ROW(DRM_PANTHOR_DEV_QUERY_CSIF_INFO, 1),
	VALUE_ROW(DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, 2),
	VALUE_ROW(DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO, 3),

	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_MAP_READONLY, 1),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC, 2),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED, 4),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE, 8),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_TYPE_MASK, 0xf0000000u),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_TYPE_MAP, 0),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP, 0x10000000u),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY, 0x20000000u),
	VALUE_ROW(DRM_PANTHOR_VM_BIND_ASYNC, 1),

	VALUE_ROW(DRM_PANTHOR_VM_STATE_USABLE, 0),
	VALUE_ROW(DRM_PANTHOR_VM_STATE_UNUSABLE, 1),

	VALUE_ROW(DRM_PANTHOR_BO_NO_MMAP, 1),
	VALUE_ROW(DRM_PANTHOR_BO_WB_MMAP, 2),

	VALUE_ROW(PANTHOR_GROUP_PRIORITY_LOW, 0),
	VALUE_ROW(PANTHOR_GROUP_PRIORITY_MEDIUM, 1),
	VALUE_ROW(PANTHOR_GROUP_PRIORITY_HIGH, 2),
	VALUE_ROW(PANTHOR_GROUP_PRIORITY_REALTIME, 3),

	VALUE_ROW(DRM_PANTHOR_GROUP_STATE_TIMEDOUT, 1),
	VALUE_ROW(DRM_PANTHOR_GROUP_STATE_FATAL_FAULT, 2),
	VALUE_ROW(DRM_PANTHOR_GROUP_STATE_INNOCENT, 4),

	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_GPU, 0x01),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_CPU_NONE, 0x00),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC, 0x02),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC_RAW, 0x04),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK, 0x0e),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_GPU_OFFSET, 0x10),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_GPU_CYCLE_COUNT, 0x20),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_FREQ, 0x40),
	VALUE_ROW(DRM_PANTHOR_TIMESTAMP_DURATION, 0x80),

	VALUE_ROW(DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH, 0),
	VALUE_ROW(DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH_AND_INVALIDATE, 1),
	VALUE_ROW(DRM_PANTHOR_BO_IS_IMPORTED, 1),

	VALUE_ROW(DRM_PANTHOR_GPU_COHERENCY_ACE_LITE, 0),
	VALUE_ROW(DRM_PANTHOR_GPU_COHERENCY_ACE, 1),
	VALUE_ROW(DRM_PANTHOR_GPU_COHERENCY_NONE, 31),

	/* Ours. */
	VALUE_ROW(GPUVM_VM_BIND_OP_MAP_REPEAT, 0x01000000u),
	VALUE_ROW(GPUVM_VM_BIND_OP_SIZE_V1, 48),
	VALUE_ROW(GPUVM_VM_BIND_OP_SIZE_V2, 56),
	VALUE_ROW(GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1, 24),
	VALUE_ROW(GPUVM_MOCK_GPU_ACCESS_READ, 1),
	VALUE_ROW(GPUVM_MOCK_GPU_ACCESS_WRITE, 2),
	VALUE_ROW(GPUVM_MOCK_GPU_ACCESS_FILL, 3),
	VALUE_ROW(GPUVM_MOCK_FAULT_ACCESS_ATOMIC, 0),
	VALUE_ROW(GPUVM_MOCK_FAULT_ACCESS_EXECUTE, 1),
	VALUE_ROW(GPUVM_MOCK_FAULT_ACCESS_READ, 2),
	VALUE_ROW(GPUVM_MOCK_FAULT_ACCESS_WRITE, 3),
	VALUE_ROW(GPUVM_MOCK_FAULT_TRANSLATION(0), 0xc0),
	VALUE_ROW(GPUVM_MOCK_FAULT_TRANSLATION(3), 0xc3),
	VALUE_ROW(GPUVM_MOCK_FAULT_PERMISSION(0), 0xc8),
	VALUE_ROW(GPUVM_MOCK_FAULT_PERMISSION(3), 0xcb),
};

static void test_struct_sizes(void **state)
{
	unsigned int bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		ROW_CHECK(bad, sizes[i].name, "sizeof", sizes[i].size, sizes[i].want);
	TABLE_DONE(bad, "sizes");
}

static void test_field_offsets(void **state)
{
	unsigned int bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field_row *r = &fields[i];
		char row[96];

		snprintf(row, sizeof(row), "%s.%s", r->strct, r->field);
		ROW_CHECK(bad, row, "offsetof", r->offset, r->want_offset);
		ROW_CHECK(bad, row, "sizeof", r->size, r->want_size);
	}
	TABLE_DONE(bad, "fields");
}

/*
 * The fields of each struct, wherever the compiler put them, cover every byte
 * of it exactly once. A byte no field covers is padding the compiler chose:
 * another ABI (i386 aligns __u64 to 4) may lay it out differently, and no pad
 * rule makes userspace zero it. It also catches a field missing from the table.
 */
static unsigned int check_coverage(const struct size_row *s)
{
	unsigned char cover[256] = { 0 };
	unsigned int bad = 0;
	size_t b = 0;

	assert_true(s->size <= sizeof(cover));
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (strcmp(fields[i].strct, s->name) != 0)
			continue;
		for (size_t j = 0; j < fields[i].size; j++)
			cover[fields[i].offset + j]++;
	}
	while (b < s->size) {
		size_t e = b + 1;

		while (e < s->size && cover[e] == cover[b])
			e++;
		if (cover[b] != 1) {
			print_error("%s: bytes [%zu, %zu) covered by %u fields, want 1\n", s->name,
				    b, e, cover[b]);
			bad++;
		}
		b = e;
	}
	return bad;
}

static void test_no_implicit_padding(void **state)
{
	unsigned int bad = 0;

	(void)state;
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++)
		bad += check_coverage(&sizes[s]);
	TABLE_DONE(bad, "padding");
}

static void test_ioctl_requests(void **state)
{
	unsigned int bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ioctls); i++) {
		const struct ioctl_row *r = &ioctls[i];

		ROW_CHECK(bad, r->name, "value", r->request, r->want);
		ROW_CHECK(bad, r->name, "_IOC_SIZE", _IOC_SIZE(r->request), r->arg_size);
		ROW_CHECK(bad, r->name, "_IOC_SIZE vs sizeof", _IOC_SIZE(r->request),
			  r->struct_size);
		ROW_CHECK(bad, r->name, "_IOC_DIR", _IOC_DIR(r->request), _IOC_READ | _IOC_WRITE);
		ROW_CHECK(bad, r->name, "_IOC_TYPE", _IOC_TYPE(r->request), 'd');
		ROW_CHECK(bad, r->name, "_IOC_NR", _IOC_NR(r->request), 0x40 + r->index);
	}
	TABLE_DONE(bad, "ioctls");
}

static void test_ioctl_indices(void **state)
{
	unsigned int bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(indices); i++)
		ROW_CHECK(bad, indices[i].name, "index", indices[i].index, indices[i].want);
	TABLE_DONE(bad, "indices");
}

/*
 * Our ioctls reach the driver table (DRM's driver range is
 * [DRM_COMMAND_BASE, DRM_COMMAND_END)) and stay clear of every index panthor
 * has used, including the newer kernels' 13..16, with room to grow.
 */
static void test_mock_ioctls_clear_of_panthor(void **state)
{
	static const unsigned long ours[] = {
		GPUVM_IOCTL_MOCK_GPU_ACCESS,
		GPUVM_IOCTL_MOCK_FENCE_ATTACH,
		GPUVM_IOCTL_MOCK_FENCE_SIGNAL,
	};
	const unsigned int panthor_last_index = 16;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++) {
		unsigned int nr = _IOC_NR(ours[i]);

		assert_true(nr >= DRM_COMMAND_BASE);
		assert_true(nr < DRM_COMMAND_END);
		assert_true(nr - DRM_COMMAND_BASE > panthor_last_index + 16);
		for (size_t j = 0; j < ARRAY_SIZE(ioctls); j++) {
			if (ioctls[j].request != ours[i])
				assert_int_not_equal(_IOC_NR(ioctls[j].request), nr);
		}
	}
}

static void test_flag_values(void **state)
{
	unsigned int bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++)
		ROW_CHECK(bad, values[i].name, "value", values[i].value, values[i].want);
	TABLE_DONE(bad, "values");
}

/* MAP_REPEAT is one bit, clear of panthor's flags (0-3) and type field (31:28). */
static void test_repeat_flag_clear(void **state)
{
	const uint32_t repeat = GPUVM_VM_BIND_OP_MAP_REPEAT;
	const uint32_t panthor = (uint32_t)DRM_PANTHOR_VM_BIND_OP_MAP_READONLY |
				 (uint32_t)DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC |
				 (uint32_t)DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED |
				 (uint32_t)DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE;
	const uint32_t type_mask = (uint32_t)DRM_PANTHOR_VM_BIND_OP_TYPE_MASK;

	(void)state;
	assert_int_equal(__builtin_popcount(repeat), 1);
	assert_int_equal(repeat & panthor, 0);
	assert_int_equal(repeat & type_mask, 0);
	assert_true(repeat > panthor);
	assert_true(repeat < (1u << 28));
	/* The op types live in the type field only. */
	assert_int_equal((uint32_t)DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP & ~type_mask, 0);
	assert_int_equal((uint32_t)DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY & ~type_mask, 0);
}

/*
 * A repeat op is panthor's op, byte for byte, plus bo_repeat_range; the
 * stride DRM_PANTHOR_OBJ_ARRAY() takes from the element type selects it.
 */
static void test_repeat_layout(void **state)
{
	struct drm_panthor_vm_bind_op v1[2];
	struct gpuvm_vm_bind_op_repeat v2[3];
	struct drm_panthor_obj_array a1 = DRM_PANTHOR_OBJ_ARRAY(2, v1);
	struct drm_panthor_obj_array a2 = DRM_PANTHOR_OBJ_ARRAY(3, v2);
	struct drm_panthor_vm_bind_op op = {
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC,
		.bo_handle = 7,
		.bo_offset = 0x3000,
		.va = 0x1000000,
		.size = 0x40000,
		.syncs = { .stride = 16, .count = 1, .array = 0x1234 },
	};
	struct gpuvm_vm_bind_op_repeat rep;

	(void)state;
	assert_int_equal(a1.stride, GPUVM_VM_BIND_OP_SIZE_V1);
	assert_int_equal(a1.count, 2);
	assert_int_equal(a1.array, (uintptr_t)v1);
	assert_int_equal(a2.stride, GPUVM_VM_BIND_OP_SIZE_V2);
	assert_int_equal(a2.count, 3);
	assert_int_equal(a2.array, (uintptr_t)v2);

	/* A V1 op copied into a zeroed V2 op reads as V2 with no repeat range. */
	memset(&rep, 0, sizeof(rep));
	memcpy(&rep, &op, GPUVM_VM_BIND_OP_SIZE_V1);
	assert_int_equal(rep.flags, op.flags);
	assert_int_equal(rep.bo_handle, op.bo_handle);
	assert_int_equal(rep.bo_offset, op.bo_offset);
	assert_int_equal(rep.va, op.va);
	assert_int_equal(rep.size, op.size);
	assert_int_equal(rep.syncs.stride, op.syncs.stride);
	assert_int_equal(rep.syncs.count, op.syncs.count);
	assert_int_equal(rep.syncs.array, op.syncs.array);
	assert_int_equal(rep.bo_repeat_range, 0);
	assert_int_equal(offsetof(struct gpuvm_vm_bind_op_repeat, bo_repeat_range),
			 sizeof(struct drm_panthor_vm_bind_op));
}

/* Decoding a FAULTSTATUS the mock reports: exception | access type << 8. */
static void test_fault_decode(void **state)
{
	const uint32_t write_l3 = GPUVM_MOCK_FAULT_TRANSLATION(3) | GPUVM_MOCK_FAULT_ACCESS_WRITE
									    << 8;
	const uint32_t read_perm_l2 = GPUVM_MOCK_FAULT_PERMISSION(2) | GPUVM_MOCK_FAULT_ACCESS_READ
									       << 8;

	(void)state;
	assert_int_equal(write_l3, 0x3c3);
	assert_int_equal(GPUVM_MOCK_FAULT_EXCEPTION(write_l3), 0xc3);
	assert_int_equal(GPUVM_MOCK_FAULT_ACCESS_TYPE(write_l3), GPUVM_MOCK_FAULT_ACCESS_WRITE);
	assert_int_equal(read_perm_l2, 0x2ca);
	assert_int_equal(GPUVM_MOCK_FAULT_EXCEPTION(read_perm_l2), 0xca);
	assert_int_equal(GPUVM_MOCK_FAULT_ACCESS_TYPE(read_perm_l2), GPUVM_MOCK_FAULT_ACCESS_READ);
	/* Source id (31:16) and the decoder bit (10) do not leak into the fields. */
	assert_int_equal(GPUVM_MOCK_FAULT_EXCEPTION(0xabcd07c1u), 0xc1);
	assert_int_equal(GPUVM_MOCK_FAULT_ACCESS_TYPE(0xabcd07c1u), 3);
}

/*
 * The user MMIO offsets (panthor-1.8.md "User MMIO page"): two fixed values,
 * the process's own chosen by the width of unsigned long, the flush-ID page
 * at its start; both far above any BO offset (which start at 4 GiB).
 */
static void test_user_mmio_offsets(void **state)
{
	(void)state;
	assert_int_equal(DRM_PANTHOR_USER_MMIO_OFFSET_32BIT, 0x80000000000ull);
	assert_int_equal(DRM_PANTHOR_USER_MMIO_OFFSET_64BIT, 0x100000000000000ull);
	if (sizeof(unsigned long) == 8)
		assert_int_equal(DRM_PANTHOR_USER_MMIO_OFFSET, 1ull << 56);
	else
		assert_int_equal(DRM_PANTHOR_USER_MMIO_OFFSET, 1ull << 43);
	assert_int_equal(DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET, DRM_PANTHOR_USER_MMIO_OFFSET);
	/* Page-aligned for every page size up to 64 KiB. */
	assert_int_equal(DRM_PANTHOR_USER_MMIO_OFFSET_32BIT & 0xffff, 0);
}

/*
 * Structs that grew keep their old layout as a prefix: a caller compiled
 * with the older size passes that size and reads the same fields.
 */
static void test_grown_structs(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct drm_panthor_timestamp_info, flags),
			 GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1);
	assert_int_equal(offsetof(struct drm_panthor_gpu_info, gpu_features), 104);
	/* The 1.7 selected_coherency took the bytes that were a pad: no shift. */
	assert_int_equal(offsetof(struct drm_panthor_gpu_info, selected_coherency) + 4,
			 offsetof(struct drm_panthor_gpu_info, shader_present));
	/* The CPU clock field holds the three clocks and nothing else. */
	assert_int_equal((uint32_t)DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC_RAW &
				 ~(uint32_t)DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK,
			 0);
}

/*
 * With libdrm's <drm.h> included first, its definitions are the ones in
 * force; the requests built with libdrm's own DRM_IOWR() are ours.
 */
static void test_libdrm_coexistence(void **state)
{
	(void)state;
	assert_int_equal(DRM_IOCTL_BASE, 'd');
	assert_int_equal(DRM_COMMAND_BASE, 0x40);
	assert_int_equal(DRM_IOWR(DRM_COMMAND_BASE + DRM_PANTHOR_DEV_QUERY,
				  struct drm_panthor_dev_query),
			 DRM_IOCTL_PANTHOR_DEV_QUERY);
	assert_int_equal(DRM_IOWR(DRM_COMMAND_BASE + DRM_PANTHOR_VM_BIND,
				  struct drm_panthor_vm_bind),
			 DRM_IOCTL_PANTHOR_VM_BIND);
	assert_int_equal(DRM_IOWR(DRM_COMMAND_BASE + DRM_PANTHOR_GROUP_CREATE,
				  struct drm_panthor_group_create),
			 DRM_IOCTL_PANTHOR_GROUP_CREATE);
	assert_int_equal(DRM_IOWR(DRM_COMMAND_BASE + GPUVM_MOCK_GPU_ACCESS,
				  struct gpuvm_mock_gpu_access),
			 GPUVM_IOCTL_MOCK_GPU_ACCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_struct_sizes),
		cmocka_unit_test(test_field_offsets),
		cmocka_unit_test(test_no_implicit_padding),
		cmocka_unit_test(test_ioctl_requests),
		cmocka_unit_test(test_ioctl_indices),
		cmocka_unit_test(test_mock_ioctls_clear_of_panthor),
		cmocka_unit_test(test_flag_values),
		cmocka_unit_test(test_repeat_flag_clear),
		cmocka_unit_test(test_repeat_layout),
		cmocka_unit_test(test_fault_decode),
		cmocka_unit_test(test_user_mmio_offsets),
		cmocka_unit_test(test_grown_structs),
		cmocka_unit_test(test_libdrm_coexistence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
