/* SPDX-License-Identifier: MIT */
/*
 * gpuvm uapi: the ioctl ABI of Linux's panthor driver (Arm Mali CSF GPUs) as
 * of Linux 7.2, driver version 1.8, as Mesa's panvk and igt's panthor tests
 * speak it, plus the extensions the gpuvm mock device adds. Written from the
 * public ABI facts in shared/reference/panthor-1.8.md,
 * shared/reference/panthor-uapi.md and shared/reference/mali.md section 4.
 *
 * Everything named drm_panthor_* / DRM_PANTHOR_* / DRM_IOCTL_PANTHOR_* /
 * PANTHOR_GROUP_PRIORITY_* is panthor's and binary-compatible with it: the
 * same names, the same kinds of names (enumerators where panthor has
 * enumerators, so that code written against Linux's header compiles against
 * this one), the same layouts and ioctl values. Everything named gpuvm_* /
 * GPUVM_* is ours; our constants are macros, so that code can test for an
 * extension with #ifdef.
 *
 * The header is self-contained: it needs only the system's <linux/types.h>,
 * <linux/ioctl.h> and <stddef.h>, compiles as C11 and C++, and may be included
 * before or after libdrm's <drm.h>.
 *
 * DOC: ioctls
 *
 * Every ioctl is _IOWR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + index, struct):
 * value = 0xC0006400 | size << 16 | (0x40 + index).
 *
 *  index  name                 struct                             size  value       origin
 *  0x00   DEV_QUERY            drm_panthor_dev_query                16  0xC0106440  panthor
 *  0x01   VM_CREATE            drm_panthor_vm_create                16  0xC0106441  panthor
 *  0x02   VM_DESTROY           drm_panthor_vm_destroy                8  0xC0086442  panthor
 *  0x03   VM_BIND              drm_panthor_vm_bind                  24  0xC0186443  panthor (*)
 *  0x04   VM_GET_STATE         drm_panthor_vm_get_state              8  0xC0086444  panthor
 *  0x05   BO_CREATE            drm_panthor_bo_create                24  0xC0186445  panthor
 *  0x06   BO_MMAP_OFFSET       drm_panthor_bo_mmap_offset           16  0xC0106446  panthor
 *  0x07   GROUP_CREATE         drm_panthor_group_create             56  0xC0386447  panthor
 *  0x08   GROUP_DESTROY        drm_panthor_group_destroy             8  0xC0086448  panthor
 *  0x09   GROUP_SUBMIT         drm_panthor_group_submit             24  0xC0186449  panthor
 *  0x0A   GROUP_GET_STATE      drm_panthor_group_get_state          16  0xC010644A  panthor
 *  0x0B   TILER_HEAP_CREATE    drm_panthor_tiler_heap_create        40  0xC028644B  panthor
 *  0x0C   TILER_HEAP_DESTROY   drm_panthor_tiler_heap_destroy        8  0xC008644C  panthor
 *  0x0D   BO_SET_LABEL         drm_panthor_bo_set_label             16  0xC010644D  panthor 1.4
 *  0x0E   SET_USER_MMIO_OFFSET drm_panthor_set_user_mmio_offset      8  0xC008644E  panthor 1.5
 *  0x0F   BO_SYNC              drm_panthor_bo_sync                  16  0xC010644F  panthor 1.7
 *  0x10   BO_QUERY_INFO        drm_panthor_bo_query_info            16  0xC0106450  panthor 1.7
 *  0x11-0x2F                   left free for panthor to grow into
 *  0x30   MOCK_GPU_ACCESS      gpuvm_mock_gpu_access                56  0xC0386470  ours, mock only
 *  0x31   MOCK_FENCE_ATTACH    gpuvm_mock_fence_attach              24  0xC0186471  ours, mock only
 *  0x32   MOCK_FENCE_SIGNAL    gpuvm_mock_fence_signal               8  0xC0086472  ours, mock only
 *  0x33   MOCK_STATS           gpuvm_mock_stats                    176  0xC0B06473  ours, mock only
 *  0x34   MOCK_VM_STATE        gpuvm_mock_vm_state                  40  0xC0286474  ours, mock only
 *  0x35   MOCK_PT_READ         gpuvm_mock_pt_read                   56  0xC0386475  ours, mock only
 *
 * (*) VM_BIND also takes our repeat ops (GPUVM_VM_BIND_OP_MAP_REPEAT, struct
 * gpuvm_vm_bind_op_repeat), selected by the stride of its op array.
 *
 * DOC: ABI rules
 *
 * - Every field named pad (or pad[]) must be zero on input: -EINVAL otherwise.
 *   Fields marked "out" are ignored on input and written on success.
 * - Unknown flag bits, types and enum values are -EINVAL.
 * - Structs only grow at the end, and only by fields whose zero value means
 *   "the old behaviour". The size encoded in the ioctl request, or the stride
 *   of an object array, says which version the caller compiled with: a shorter
 *   struct reads as if its missing trailing fields were zero, a longer one must
 *   have zeros in the bytes the device does not know (-E2BIG or -EINVAL).
 * - User pointers travel as __u64 so that the layout does not depend on the
 *   width of a pointer.
 *
 * DOC: versions
 *
 * DRM_IOCTL_VERSION reports panthor's minor version; a device that reports
 * 1.N implements everything up to 1.N, and clients gate features on it:
 *
 *  1.0  the initial interface
 *  1.1  DEV_QUERY TIMESTAMP_INFO
 *  1.2  DEV_QUERY GROUP_PRIORITIES_INFO, PANTHOR_GROUP_PRIORITY_REALTIME
 *  1.3  DRM_PANTHOR_GROUP_STATE_INNOCENT
 *  1.4  BO_SET_LABEL
 *  1.5  SET_USER_MMIO_OFFSET (a client that sees >= 1.5 gives up if it fails)
 *  1.6  the firmware's global counter runs (timestamps advance)
 *  1.7  DRM_PANTHOR_BO_WB_MMAP, BO_SYNC, BO_QUERY_INFO,
 *       drm_panthor_gpu_info.selected_coherency
 *  1.8  TIMESTAMP_INFO takes flags saying what to sample (56-byte layout)
 *
 * DOC: user MMIO
 *
 * Part of the DRM file's mmap offset space is not BOs but the GPU's user
 * registers: DRM_PANTHOR_USER_MMIO_OFFSET onwards (1 << 56 for 64-bit
 * processes, 1 << 43 for 32-bit ones, whose mmap offsets are smaller). Its
 * first page, at DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET, shows the GPU's
 * LATEST_FLUSH_ID register as a __u32 at byte 0: a counter that advances at
 * each cache flush the GPU performs. A client reads it when it builds a
 * command stream and passes it as drm_panthor_queue_submit.latest_flush, so
 * that flushes done since need not be repeated.
 *
 * The mapping must be exactly one page, MAP_SHARED, without PROT_WRITE and
 * without PROT_EXEC (-EINVAL), and cannot be made writable later; any other
 * offset in the range is -EINVAL. Each file starts with the offset that fits
 * its process; SET_USER_MMIO_OFFSET moves it to the other one (a 32-bit
 * client on a 64-bit kernel, or the reverse).
 */
#ifndef GPUVM_PANTHOR_DRM_H
#define GPUVM_PANTHOR_DRM_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <stddef.h>

/*
 * The same definitions as libdrm's and Linux's <drm.h>, token for token, so
 * that either header may come first.
 */
#ifndef DRM_IOCTL_BASE
#define DRM_IOCTL_BASE 'd'
#endif
#ifndef DRM_COMMAND_BASE
#define DRM_COMMAND_BASE 0x40
#endif

/** DRM_PANTHOR_USER_MMIO_OFFSET_32BIT - user MMIO file offset of 32-bit processes. */
#define DRM_PANTHOR_USER_MMIO_OFFSET_32BIT (1ull << 43)
/** DRM_PANTHOR_USER_MMIO_OFFSET_64BIT - user MMIO file offset of 64-bit processes. */
#define DRM_PANTHOR_USER_MMIO_OFFSET_64BIT (1ull << 56)
/**
 * DRM_PANTHOR_USER_MMIO_OFFSET - the user MMIO file offset of this process
 * (DOC: user MMIO), chosen by the width of unsigned long.
 */
#define DRM_PANTHOR_USER_MMIO_OFFSET                                      \
	(sizeof(unsigned long) < 8 ? DRM_PANTHOR_USER_MMIO_OFFSET_32BIT : \
				     DRM_PANTHOR_USER_MMIO_OFFSET_64BIT)
/** DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET - the LATEST_FLUSH_ID page: mmap one page here. */
#define DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET (DRM_PANTHOR_USER_MMIO_OFFSET | 0)

/**
 * enum drm_panthor_ioctl_id - panthor's ioctl indices, relative to
 * DRM_COMMAND_BASE.
 * @DRM_PANTHOR_DEV_QUERY: query device information.
 * @DRM_PANTHOR_VM_CREATE: create a VM.
 * @DRM_PANTHOR_VM_DESTROY: destroy a VM.
 * @DRM_PANTHOR_VM_BIND: map, unmap or sync on a VM.
 * @DRM_PANTHOR_VM_GET_STATE: is a VM still usable.
 * @DRM_PANTHOR_BO_CREATE: create a buffer object.
 * @DRM_PANTHOR_BO_MMAP_OFFSET: get the fake offset to mmap a BO.
 * @DRM_PANTHOR_GROUP_CREATE: create a scheduling group of queues.
 * @DRM_PANTHOR_GROUP_DESTROY: destroy a group.
 * @DRM_PANTHOR_GROUP_SUBMIT: submit command streams to a group's queues.
 * @DRM_PANTHOR_GROUP_GET_STATE: has a group timed out or faulted.
 * @DRM_PANTHOR_TILER_HEAP_CREATE: create a tiler heap.
 * @DRM_PANTHOR_TILER_HEAP_DESTROY: destroy a tiler heap.
 * @DRM_PANTHOR_BO_SET_LABEL: (1.4) name a BO for debugging.
 * @DRM_PANTHOR_SET_USER_MMIO_OFFSET: (1.5) choose the file's user MMIO offset.
 * @DRM_PANTHOR_BO_SYNC: (1.7) CPU cache maintenance on BO ranges.
 * @DRM_PANTHOR_BO_QUERY_INFO: (1.7) how a BO was created or imported.
 */
enum drm_panthor_ioctl_id {
	DRM_PANTHOR_DEV_QUERY = 0,
	DRM_PANTHOR_VM_CREATE,
	DRM_PANTHOR_VM_DESTROY,
	DRM_PANTHOR_VM_BIND,
	DRM_PANTHOR_VM_GET_STATE,
	DRM_PANTHOR_BO_CREATE,
	DRM_PANTHOR_BO_MMAP_OFFSET,
	DRM_PANTHOR_GROUP_CREATE,
	DRM_PANTHOR_GROUP_DESTROY,
	DRM_PANTHOR_GROUP_SUBMIT,
	DRM_PANTHOR_GROUP_GET_STATE,
	DRM_PANTHOR_TILER_HEAP_CREATE,
	DRM_PANTHOR_TILER_HEAP_DESTROY,
	DRM_PANTHOR_BO_SET_LABEL,
	DRM_PANTHOR_SET_USER_MMIO_OFFSET,
	DRM_PANTHOR_BO_SYNC,
	DRM_PANTHOR_BO_QUERY_INFO,
};

/**
 * struct drm_panthor_obj_array - an array of structs in user memory.
 * @stride: in: the size in bytes of one element as the caller compiled it; it
 *	selects the element's version (DOC: ABI rules). Below the first
 *	version's size: -EINVAL.
 * @count: in: number of elements; 0 means an empty array (@array ignored).
 * @array: in: user pointer to @count elements, @stride bytes apart.
 */
struct drm_panthor_obj_array {
	__u32 stride;
	__u32 count;
	__u64 array;
};

/**
 * DRM_PANTHOR_OBJ_ARRAY() - initializer of a struct drm_panthor_obj_array.
 * @cnt: number of elements.
 * @ptr: pointer to the first element; its type gives the stride.
 *
 * Positional, so that C++ before C++20 accepts it as well.
 */
#define DRM_PANTHOR_OBJ_ARRAY(cnt, ptr)                                            \
	{                                                                          \
		(__u32)sizeof((ptr)[0]), (__u32)(cnt), (__u64)(unsigned long)(ptr) \
	}

/**
 * enum drm_panthor_sync_op_flags - struct drm_panthor_sync_op.flags.
 * @DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK: bits 7:0, the type of the handle.
 * @DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ: a binary syncobj.
 * @DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ: a point on a timeline
 *	syncobj.
 * @DRM_PANTHOR_SYNC_OP_WAIT: bit 31 clear: wait for the fence before the job.
 * @DRM_PANTHOR_SYNC_OP_SIGNAL: bit 31 set: attach the job's done fence.
 *
 * Bits 30:8 are unknown: -EINVAL. The casts keep 1 << 31 inside int, which
 * ISO C requires of an enumerator; the bit pattern is what counts.
 */
enum drm_panthor_sync_op_flags {
	DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK = 0xff,
	DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ = 0,
	DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ = 1,
	DRM_PANTHOR_SYNC_OP_WAIT = 0,
	DRM_PANTHOR_SYNC_OP_SIGNAL = (int)(1u << 31),
};

/**
 * struct drm_panthor_sync_op - wait on or signal a syncobj around a job.
 * @flags: in: handle type (bits 7:0) | direction (bit 31), enum
 *	drm_panthor_sync_op_flags. Unknown type or bits: -EINVAL.
 * @handle: in: the syncobj handle. Unknown: -ENOENT to wait for, -EINVAL to signal.
 * @timeline_value: in: the point on a TIMELINE_SYNCOBJ; must be 0 for a binary
 *	SYNCOBJ (-EINVAL).
 */
struct drm_panthor_sync_op {
	__u32 flags;
	__u32 handle;
	__u64 timeline_value;
};

/**
 * enum drm_panthor_dev_query_type - struct drm_panthor_dev_query.type.
 * @DRM_PANTHOR_DEV_QUERY_GPU_INFO: struct drm_panthor_gpu_info.
 * @DRM_PANTHOR_DEV_QUERY_CSIF_INFO: struct drm_panthor_csif_info.
 * @DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO: struct drm_panthor_timestamp_info.
 * @DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO: struct
 *	drm_panthor_group_priorities_info.
 */
enum drm_panthor_dev_query_type {
	DRM_PANTHOR_DEV_QUERY_GPU_INFO = 0,
	DRM_PANTHOR_DEV_QUERY_CSIF_INFO,
	DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO,
	DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO,
};

/**
 * struct drm_panthor_gpu_info - DEV_QUERY GPU_INFO: copies of GPU registers.
 * @gpu_id: GPU_ID (0x0): arch major/minor/rev in bits 31:20, product in
 *	19:16, version in 15:4, status in 3:0. Never 0.
 * @gpu_rev: GPU revision register (0x280).
 * @csf_id: CSF_ID (0x1C): command-stream hardware and MCU versions.
 * @l2_features: L2_FEATURES (0x4); log2 of the line size in bits 7:0.
 * @tiler_features: TILER_FEATURES (0xC).
 * @mem_features: MEM_FEATURES (0x10); bit 0 = L2 coherent.
 * @mmu_features: MMU_FEATURES (0x14): VA bits in bits 7:0, PA bits in 15:8.
 * @thread_features: THREAD_FEATURES (0xAC).
 * @max_threads: THREAD_MAX_THREADS (0xA0).
 * @thread_max_workgroup_size: THREAD_MAX_WORKGROUP_SIZE (0xA4).
 * @thread_max_barrier_size: THREAD_MAX_BARRIER_SIZE (0xA8).
 * @coherency_features: COHERENCY_FEATURES (0x300): supported protocols.
 * @texture_features: TEXTURE_FEATURES_0..3 (0xB0 + 4 * n).
 * @as_present: AS_PRESENT (0x18): bit n = address space n exists.
 * @selected_coherency: (1.7) the coherency protocol the driver selected,
 *	enum drm_panthor_gpu_coherency (older headers call these bytes a pad).
 * @shader_present: SHADER_PRESENT (0x100): bit n = shader core n exists.
 * @l2_present: L2_PRESENT (0x120).
 * @tiler_present: TILER_PRESENT (0x110).
 * @core_features: CORE_FEATURES (0x8).
 * @pad: zero.
 * @gpu_features: GPU_FEATURES (0x60), appended by newer kernels; 0 on GPUs
 *	without the register.
 *
 * All fields are out. DEV_QUERY copies min(size, ours) bytes, so callers
 * compiled with the 104-byte layout (no @gpu_features) keep working.
 */
struct drm_panthor_gpu_info {
	__u32 gpu_id;
	__u32 gpu_rev;
	__u32 csf_id;
	__u32 l2_features;
	__u32 tiler_features;
	__u32 mem_features;
	__u32 mmu_features;
	__u32 thread_features;
	__u32 max_threads;
	__u32 thread_max_workgroup_size;
	__u32 thread_max_barrier_size;
	__u32 coherency_features;
	__u32 texture_features[4];
	__u32 as_present;
	__u32 selected_coherency;
	__u64 shader_present;
	__u64 l2_present;
	__u64 tiler_present;
	__u32 core_features;
	__u32 pad;
	__u64 gpu_features;
};

/**
 * enum drm_panthor_gpu_coherency - struct drm_panthor_gpu_info.selected_coherency:
 * the GPU_COHERENCY_PROTOCOL value the driver programmed.
 * @DRM_PANTHOR_GPU_COHERENCY_ACE_LITE: ACE-Lite (IO-coherent).
 * @DRM_PANTHOR_GPU_COHERENCY_ACE: full ACE.
 * @DRM_PANTHOR_GPU_COHERENCY_NONE: no coherency: the CPU and the GPU each
 *	maintain their caches (BO_SYNC).
 */
enum drm_panthor_gpu_coherency {
	DRM_PANTHOR_GPU_COHERENCY_ACE_LITE = 0,
	DRM_PANTHOR_GPU_COHERENCY_ACE = 1,
	DRM_PANTHOR_GPU_COHERENCY_NONE = 31,
};

/**
 * struct drm_panthor_csif_info - DEV_QUERY CSIF_INFO: the command-stream
 * interface.
 * @csg_slot_count: out: command-stream group slots the firmware offers.
 * @cs_slot_count: out: command-stream (queue) slots per group.
 * @cs_reg_count: out: 32-bit registers per command stream.
 * @scoreboard_slot_count: out: scoreboard slots per command stream.
 * @unpreserved_cs_reg_count: out: registers at the top of the file that the
 *	kernel's ring wrapper clobbers; user streams must not rely on them.
 * @pad: zero.
 */
struct drm_panthor_csif_info {
	__u32 csg_slot_count;
	__u32 cs_slot_count;
	__u32 cs_reg_count;
	__u32 scoreboard_slot_count;
	__u32 unpreserved_cs_reg_count;
	__u32 pad;
};

/**
 * enum drm_panthor_timestamp_info_flags - struct
 * drm_panthor_timestamp_info.flags (1.8): what the query samples.
 * @DRM_PANTHOR_TIMESTAMP_GPU: current_timestamp.
 * @DRM_PANTHOR_TIMESTAMP_CPU_NONE: bits 3:1 = 0: no CPU clock.
 * @DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC: bits 3:1 = 1: cpu_timestamp_* from
 *	CLOCK_MONOTONIC.
 * @DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC_RAW: bits 3:1 = 2: from
 *	CLOCK_MONOTONIC_RAW.
 * @DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK: bits 3:1, the CPU clock; values
 *	other than the three above are -EINVAL.
 * @DRM_PANTHOR_TIMESTAMP_GPU_OFFSET: timestamp_offset.
 * @DRM_PANTHOR_TIMESTAMP_GPU_CYCLE_COUNT: cycle_count.
 * @DRM_PANTHOR_TIMESTAMP_FREQ: timestamp_frequency.
 * @DRM_PANTHOR_TIMESTAMP_DURATION: duration_nsec.
 *
 * 0 means GPU | GPU_OFFSET | FREQ, what the 24-byte query answers. Unknown
 * bits are -EINVAL. Only the fields asked for are written; the others keep
 * what the caller put there.
 */
enum drm_panthor_timestamp_info_flags {
	DRM_PANTHOR_TIMESTAMP_GPU = 1 << 0,
	DRM_PANTHOR_TIMESTAMP_CPU_NONE = 0 << 1,
	DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC = 1 << 1,
	DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC_RAW = 2 << 1,
	DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK = 7 << 1,
	DRM_PANTHOR_TIMESTAMP_GPU_OFFSET = 1 << 4,
	DRM_PANTHOR_TIMESTAMP_GPU_CYCLE_COUNT = 1 << 5,
	DRM_PANTHOR_TIMESTAMP_FREQ = 1 << 6,
	DRM_PANTHOR_TIMESTAMP_DURATION = 1 << 7,
};

/**
 * struct drm_panthor_timestamp_info - DEV_QUERY TIMESTAMP_INFO.
 * @timestamp_frequency: out: GPU timestamp counter frequency, in Hz.
 * @current_timestamp: out: the counter's value at the query, in ticks.
 * @timestamp_offset: out: the offset the GPU adds to the counter, in ticks.
 * @flags: in (1.8): enum drm_panthor_timestamp_info_flags.
 * @duration_nsec: out (1.8): how long sampling took, in nanoseconds.
 * @cycle_count: out (1.8): the GPU's cycle counter.
 * @cpu_timestamp_sec: out (1.8): the CPU clock chosen by @flags, seconds.
 * @cpu_timestamp_nsec: out (1.8): its nanoseconds.
 *
 * The query's size selects the layout: GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1
 * (24 bytes, up to @timestamp_offset; flags read as 0) or the whole struct.
 */
struct drm_panthor_timestamp_info {
	__u64 timestamp_frequency;
	__u64 current_timestamp;
	__u64 timestamp_offset;
	__u32 flags;
	__u32 duration_nsec;
	__u64 cycle_count;
	__u64 cpu_timestamp_sec;
	__u64 cpu_timestamp_nsec;
};

/** GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1 - size of the 1.1 timestamp info (no flags). */
#define GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1 24

/**
 * struct drm_panthor_group_priorities_info - DEV_QUERY GROUP_PRIORITIES_INFO.
 * @allowed_mask: out: bit n set = this file may create groups of priority n
 *	(enum drm_panthor_group_priority).
 * @pad: zero.
 */
struct drm_panthor_group_priorities_info {
	__u8 allowed_mask;
	__u8 pad[3];
};

/**
 * struct drm_panthor_dev_query - argument of DRM_IOCTL_PANTHOR_DEV_QUERY.
 * @type: in: what to query, enum drm_panthor_dev_query_type. Unknown: -EINVAL.
 * @size: in/out: with @pointer 0, out: the size of the info struct; else in:
 *	the size of the caller's buffer, at least the first version of the info
 *	struct (GPU_INFO: 96 bytes) else -EINVAL; newer kernels write back the
 *	size copied.
 * @pointer: in: user pointer to the info struct, or 0 to query its size. The
 *	device copies min(@size, its size) bytes and zero-fills the rest.
 */
struct drm_panthor_dev_query {
	__u32 type;
	__u32 size;
	__u64 pointer;
};

/**
 * struct drm_panthor_vm_create - argument of DRM_IOCTL_PANTHOR_VM_CREATE.
 * @flags: in: none defined; must be 0 (-EINVAL).
 * @id: out: the VM's id, >= 1, private to the open file.
 * @user_va_range: in/out: bytes of VA, starting at 0, that VM_BIND may use; 0
 *	lets the kernel choose. The kernel keeps the VA above it for itself.
 *	Written back with the range chosen.
 */
struct drm_panthor_vm_create {
	__u32 flags;
	__u32 id;
	__u64 user_va_range;
};

/**
 * struct drm_panthor_vm_destroy - argument of DRM_IOCTL_PANTHOR_VM_DESTROY.
 * @id: in: the VM to destroy. Unknown: -EINVAL.
 * @pad: zero.
 */
struct drm_panthor_vm_destroy {
	__u32 id;
	__u32 pad;
};

/**
 * enum drm_panthor_vm_bind_op_flags - struct drm_panthor_vm_bind_op.flags.
 * @DRM_PANTHOR_VM_BIND_OP_MAP_READONLY: MAP: the GPU may not write.
 * @DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC: MAP: the GPU may not execute.
 * @DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED: MAP: uncached memory attributes.
 * @DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE: MAP (uapi 1.9): map one dummy page again
 *	and again over [va, va + size); bo_handle and bo_offset must be 0 and
 *	NOEXEC must be set (-EINVAL otherwise).
 * @DRM_PANTHOR_VM_BIND_OP_TYPE_MASK: bits 31:28, the type of the op.
 * @DRM_PANTHOR_VM_BIND_OP_TYPE_MAP: map a BO range.
 * @DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP: unmap a VA range.
 * @DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY: no mapping change; only the op's
 *	sync operations.
 *
 * MAP_* flags are only valid with TYPE_MAP. Bits 23:4 and 27:25 are unknown
 * (-EINVAL); bit 24 is ours, GPUVM_VM_BIND_OP_MAP_REPEAT.
 */
enum drm_panthor_vm_bind_op_flags {
	DRM_PANTHOR_VM_BIND_OP_MAP_READONLY = 1 << 0,
	DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC = 1 << 1,
	DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED = 1 << 2,
	DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE = 1 << 3,
	DRM_PANTHOR_VM_BIND_OP_TYPE_MASK = (int)(0xfu << 28),
	DRM_PANTHOR_VM_BIND_OP_TYPE_MAP = 0 << 28,
	DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP = 1 << 28,
	DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY = 2 << 28,
};

/**
 * struct drm_panthor_vm_bind_op - one operation of a VM_BIND.
 * @flags: in: type (bits 31:28) | MAP_* flags, enum
 *	drm_panthor_vm_bind_op_flags. Unknown type or bits: -EINVAL.
 * @bo_handle: in: MAP: the BO to map (unknown: -ENOENT; created for another
 *	exclusive VM: -EINVAL). UNMAP, SYNC_ONLY and MAP_SPARSE: must be 0.
 * @bo_offset: in: MAP: byte offset in the BO, page-aligned, with
 *	bo_offset + size inside the BO and not overflowing. Otherwise 0.
 * @va: in: GPU VA of the range, page-aligned; [va, va + size) inside the VM's
 *	user VA range. SYNC_ONLY: 0.
 * @size: in: bytes, page-aligned; MAP: > 0. SYNC_ONLY: 0.
 * @syncs: in: struct drm_panthor_sync_op array, waited on before and signaled
 *	after the op. Must be empty unless the bind is ASYNC; SYNC_ONLY needs
 *	at least one.
 *
 * Any violation is -EINVAL and no op of the array is applied. Unmapping a
 * range where nothing is mapped succeeds.
 */
struct drm_panthor_vm_bind_op {
	__u32 flags;
	__u32 bo_handle;
	__u64 bo_offset;
	__u64 va;
	__u64 size;
	struct drm_panthor_obj_array syncs;
};

/**
 * enum drm_panthor_vm_bind_flags - struct drm_panthor_vm_bind.flags.
 * @DRM_PANTHOR_VM_BIND_ASYNC: queue the ops on the VM's bind queue behind
 *	their wait syncs and return; their signal syncs report completion. An
 *	op that fails after the ioctl returned marks the VM UNUSABLE. Without
 *	it the ops are applied before the ioctl returns, after the async ops
 *	queued before them (the mock orders them so; it waits for those at
 *	most its job timeout, then fails with -ETIMEDOUT, nothing applied).
 */
enum drm_panthor_vm_bind_flags {
	DRM_PANTHOR_VM_BIND_ASYNC = 1 << 0,
};

/**
 * struct drm_panthor_vm_bind - argument of DRM_IOCTL_PANTHOR_VM_BIND.
 * @vm_id: in: the VM. Unknown: -EINVAL.
 * @flags: in: enum drm_panthor_vm_bind_flags. Unknown bits: -EINVAL.
 * @ops: in: the ops, applied in order, all or none. Its stride is the
 *	element size: GPUVM_VM_BIND_OP_SIZE_V1 (48) for struct
 *	drm_panthor_vm_bind_op, GPUVM_VM_BIND_OP_SIZE_V2 (56) for struct
 *	gpuvm_vm_bind_op_repeat; each op's flags say how it is decoded (DOC:
 *	decoding an op array).
 */
struct drm_panthor_vm_bind {
	__u32 vm_id;
	__u32 flags;
	struct drm_panthor_obj_array ops;
};

/**
 * enum drm_panthor_vm_state - struct drm_panthor_vm_get_state.state.
 * @DRM_PANTHOR_VM_STATE_USABLE: binds and jobs work.
 * @DRM_PANTHOR_VM_STATE_UNUSABLE: an async bind failed after its ioctl
 *	returned, so the VM's contents are not what userspace asked for: MAP ops
 *	fail from now on, UNMAP ops still work.
 */
enum drm_panthor_vm_state {
	DRM_PANTHOR_VM_STATE_USABLE = 0,
	DRM_PANTHOR_VM_STATE_UNUSABLE,
};

/**
 * struct drm_panthor_vm_get_state - argument of
 * DRM_IOCTL_PANTHOR_VM_GET_STATE.
 * @vm_id: in: the VM. Unknown: -EINVAL.
 * @state: out: enum drm_panthor_vm_state.
 */
struct drm_panthor_vm_get_state {
	__u32 vm_id;
	__u32 state;
};

/**
 * enum drm_panthor_bo_flags - struct drm_panthor_bo_create.flags.
 * @DRM_PANTHOR_BO_NO_MMAP: the CPU may never map the BO (BO_MMAP_OFFSET still
 *	answers; the mmap fails).
 * @DRM_PANTHOR_BO_WB_MMAP: (newer kernels) map the BO write-back cached on the
 *	CPU instead of write-combined.
 */
enum drm_panthor_bo_flags {
	DRM_PANTHOR_BO_NO_MMAP = 1 << 0,
	DRM_PANTHOR_BO_WB_MMAP = 1 << 1,
};

/**
 * struct drm_panthor_bo_create - argument of DRM_IOCTL_PANTHOR_BO_CREATE.
 * @size: in/out: bytes; 0 is -EINVAL. Rounded up to the page size and written
 *	back.
 * @flags: in: enum drm_panthor_bo_flags. Unknown bits: -EINVAL.
 * @exclusive_vm_id: in: 0, or the only VM the BO may ever be mapped in
 *	(unknown: -EINVAL). Such a BO cannot be exported.
 * @handle: out: the BO's GEM handle, >= 1.
 * @pad: zero.
 */
struct drm_panthor_bo_create {
	__u64 size;
	__u32 flags;
	__u32 exclusive_vm_id;
	__u32 handle;
	__u32 pad;
};

/**
 * struct drm_panthor_bo_mmap_offset - argument of
 * DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET.
 * @handle: in: the BO. Unknown: -ENOENT.
 * @pad: zero.
 * @offset: out: a fake offset; mmap() the DRM fd at it to map the BO.
 */
struct drm_panthor_bo_mmap_offset {
	__u32 handle;
	__u32 pad;
	__u64 offset;
};

/**
 * struct drm_panthor_queue_create - one queue of a GROUP_CREATE.
 * @priority: in: priority among the group's queues, 0 (lowest) to 15.
 * @pad: zero.
 * @ringbuf_size: in: bytes of the queue's ring buffer: a power of two from
 *	4 KiB to 64 KiB.
 */
struct drm_panthor_queue_create {
	__u8 priority;
	__u8 pad[3];
	__u32 ringbuf_size;
};

/**
 * enum drm_panthor_group_priority - struct drm_panthor_group_create.priority.
 * @PANTHOR_GROUP_PRIORITY_LOW: background work.
 * @PANTHOR_GROUP_PRIORITY_MEDIUM: the default.
 * @PANTHOR_GROUP_PRIORITY_HIGH: needs CAP_SYS_NICE or DRM master (else
 *	-EACCES).
 * @PANTHOR_GROUP_PRIORITY_REALTIME: as HIGH.
 *
 * DEV_QUERY GROUP_PRIORITIES_INFO says which ones the caller may use.
 */
enum drm_panthor_group_priority {
	PANTHOR_GROUP_PRIORITY_LOW = 0,
	PANTHOR_GROUP_PRIORITY_MEDIUM,
	PANTHOR_GROUP_PRIORITY_HIGH,
	PANTHOR_GROUP_PRIORITY_REALTIME,
};

/**
 * struct drm_panthor_group_create - argument of
 * DRM_IOCTL_PANTHOR_GROUP_CREATE.
 * @queues: in: struct drm_panthor_queue_create array; count >= 1 (queue n is
 *	queue_index n of GROUP_SUBMIT).
 * @max_compute_cores: in: at most this many cores of @compute_core_mask run
 *	the group's compute work at once; <= popcount(@compute_core_mask).
 * @max_fragment_cores: in: likewise for fragment work and
 *	@fragment_core_mask.
 * @max_tiler_cores: in: likewise for tiling and @tiler_core_mask.
 * @priority: in: enum drm_panthor_group_priority; > REALTIME is -EINVAL.
 * @pad: zero.
 * @compute_core_mask: in: shader cores compute work may use; a subset of
 *	GPU_INFO.shader_present.
 * @fragment_core_mask: in: shader cores fragment work may use; a subset of
 *	GPU_INFO.shader_present.
 * @tiler_core_mask: in: tiler units; a subset of GPU_INFO.tiler_present.
 * @vm_id: in: the VM the group's jobs run in. Unknown: -EINVAL.
 * @group_handle: out: the group's handle, >= 1.
 *
 * Any violation, including one in a queue_create, is -EINVAL.
 */
struct drm_panthor_group_create {
	struct drm_panthor_obj_array queues;
	__u8 max_compute_cores;
	__u8 max_fragment_cores;
	__u8 max_tiler_cores;
	__u8 priority;
	__u32 pad;
	__u64 compute_core_mask;
	__u64 fragment_core_mask;
	__u64 tiler_core_mask;
	__u32 vm_id;
	__u32 group_handle;
};

/**
 * struct drm_panthor_group_destroy - argument of
 * DRM_IOCTL_PANTHOR_GROUP_DESTROY.
 * @group_handle: in: the group. Unknown: -EINVAL.
 * @pad: zero.
 */
struct drm_panthor_group_destroy {
	__u32 group_handle;
	__u32 pad;
};

/**
 * struct drm_panthor_queue_submit - one job of a GROUP_SUBMIT.
 * @queue_index: in: the queue, < the group's queue count.
 * @stream_size: in: bytes of command stream, a multiple of 8 (one
 *	instruction). 0, with @stream_addr 0, makes a sync-only job.
 * @stream_addr: in: GPU VA of the stream, 64-byte aligned; 0 exactly when
 *	@stream_size is 0.
 * @latest_flush: in: the cache flush ID the stream was built against; the
 *	kernel's pre-job cache flush is skipped if no flush is needed since. 0
 *	always flushes. Bits 30:24 must be 0.
 * @pad: zero.
 * @syncs: in: struct drm_panthor_sync_op array; SIGNAL ops get the job's done
 *	fence at submit time.
 *
 * Any violation, or a group that timed out or faulted, is -EINVAL.
 */
struct drm_panthor_queue_submit {
	__u32 queue_index;
	__u32 stream_size;
	__u64 stream_addr;
	__u32 latest_flush;
	__u32 pad;
	struct drm_panthor_obj_array syncs;
};

/**
 * struct drm_panthor_group_submit - argument of
 * DRM_IOCTL_PANTHOR_GROUP_SUBMIT.
 * @group_handle: in: the group. Unknown: -EINVAL.
 * @pad: zero.
 * @queue_submits: in: struct drm_panthor_queue_submit array; all jobs are
 *	queued or none.
 */
struct drm_panthor_group_submit {
	__u32 group_handle;
	__u32 pad;
	struct drm_panthor_obj_array queue_submits;
};

/**
 * enum drm_panthor_group_state_flags - struct drm_panthor_group_get_state.state.
 * @DRM_PANTHOR_GROUP_STATE_TIMEDOUT: a job of the group ran too long; the
 *	group was stopped.
 * @DRM_PANTHOR_GROUP_STATE_FATAL_FAULT: a queue hit a fatal error (e.g. a GPU
 *	fault in the group's VM); the group was stopped.
 * @DRM_PANTHOR_GROUP_STATE_INNOCENT: the group was stopped by another group's
 *	fault or a GPU reset, not by its own jobs.
 */
enum drm_panthor_group_state_flags {
	DRM_PANTHOR_GROUP_STATE_TIMEDOUT = 1 << 0,
	DRM_PANTHOR_GROUP_STATE_FATAL_FAULT = 1 << 1,
	DRM_PANTHOR_GROUP_STATE_INNOCENT = 1 << 2,
};

/**
 * struct drm_panthor_group_get_state - argument of
 * DRM_IOCTL_PANTHOR_GROUP_GET_STATE.
 * @group_handle: in: the group. Unknown: -EINVAL.
 * @state: out: enum drm_panthor_group_state_flags; 0 = running fine.
 * @fatal_queues: out: bit n set = queue n hit a fatal error.
 * @pad: zero.
 */
struct drm_panthor_group_get_state {
	__u32 group_handle;
	__u32 state;
	__u32 fatal_queues;
	__u32 pad;
};

/**
 * struct drm_panthor_tiler_heap_create - argument of
 * DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE.
 * @vm_id: in: the VM the heap lives in. Unknown: -EINVAL.
 * @initial_chunk_count: in: chunks allocated up front, >= 1.
 * @chunk_size: in: bytes per chunk: page-aligned, 128 KiB to 8 MiB.
 * @max_chunks: in: the heap never grows beyond this many chunks;
 *	>= @initial_chunk_count.
 * @target_in_flight: in: fragment jobs allowed in flight before the tiler
 *	waits for one to release memory.
 * @handle: out: vm_id << 16 | heap id.
 * @tiler_heap_ctx_gpu_va: out: GPU VA of the heap context the tiler uses.
 * @first_heap_chunk_gpu_va: out: GPU VA of the first chunk.
 */
struct drm_panthor_tiler_heap_create {
	__u32 vm_id;
	__u32 initial_chunk_count;
	__u32 chunk_size;
	__u32 max_chunks;
	__u32 target_in_flight;
	__u32 handle;
	__u64 tiler_heap_ctx_gpu_va;
	__u64 first_heap_chunk_gpu_va;
};

/**
 * struct drm_panthor_tiler_heap_destroy - argument of
 * DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY.
 * @handle: in: the heap, as TILER_HEAP_CREATE returned it. Unknown: -EINVAL.
 * @pad: zero.
 */
struct drm_panthor_tiler_heap_destroy {
	__u32 handle;
	__u32 pad;
};

/**
 * struct drm_panthor_bo_set_label - argument of DRM_IOCTL_PANTHOR_BO_SET_LABEL
 * (1.4): name a BO in debug output.
 * @handle: in: the BO. Unknown: -ENOENT.
 * @pad: zero (-EINVAL).
 * @label: in: user pointer to a NUL-terminated string of at most 4096 bytes
 *	with its NUL (longer: -E2BIG; unreadable: -EFAULT), or 0 to clear the
 *	label. It replaces the previous one.
 */
struct drm_panthor_bo_set_label {
	__u32 handle;
	__u32 pad;
	__u64 label;
};

/**
 * struct drm_panthor_set_user_mmio_offset - argument of
 * DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET (1.5): where this file's user MMIO
 * pages are (DOC: user MMIO).
 * @offset: in: DRM_PANTHOR_USER_MMIO_OFFSET_32BIT or _64BIT, nothing else
 *	(-EINVAL).
 */
struct drm_panthor_set_user_mmio_offset {
	__u64 offset;
};

/**
 * enum drm_panthor_bo_sync_op_type - struct drm_panthor_bo_sync_op.type.
 * @DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH: write the CPU caches' dirty lines of
 *	the range back to memory (before the GPU reads it).
 * @DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH_AND_INVALIDATE: also drop the lines
 *	(before the CPU reads what the GPU wrote).
 */
enum drm_panthor_bo_sync_op_type {
	DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH = 0,
	DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH_AND_INVALIDATE = 1,
};

/**
 * struct drm_panthor_bo_sync_op - one range of a BO_SYNC.
 * @handle: in: the BO. Unknown: -ENOENT.
 * @type: in: enum drm_panthor_bo_sync_op_type; other values -EINVAL.
 * @offset: in: first byte of the range in the BO.
 * @size: in: bytes; [offset, offset + size) must lie inside the BO without
 *	overflowing (-EINVAL). The range is rounded out to cache lines.
 */
struct drm_panthor_bo_sync_op {
	__u32 handle;
	__u32 type;
	__u64 offset;
	__u64 size;
};

/**
 * struct drm_panthor_bo_sync - argument of DRM_IOCTL_PANTHOR_BO_SYNC (1.7):
 * CPU cache maintenance on BO ranges, for CPU mappings that are cached
 * (DRM_PANTHOR_BO_WB_MMAP) on a GPU that does not snoop them.
 * @ops: in: struct drm_panthor_bo_sync_op array (stride rules: DOC: ABI
 *	rules).
 */
struct drm_panthor_bo_sync {
	struct drm_panthor_obj_array ops;
};

/**
 * enum drm_panthor_bo_extra_flags - struct drm_panthor_bo_query_info.extra_flags.
 * @DRM_PANTHOR_BO_IS_IMPORTED: the BO was imported from a dma-buf another
 *	driver exported (not one of panthor's own BOs coming back).
 */
enum drm_panthor_bo_extra_flags {
	DRM_PANTHOR_BO_IS_IMPORTED = 1 << 0,
};

/**
 * struct drm_panthor_bo_query_info - argument of
 * DRM_IOCTL_PANTHOR_BO_QUERY_INFO (1.7).
 * @handle: in: the BO. Unknown: -ENOENT.
 * @extra_flags: out: enum drm_panthor_bo_extra_flags.
 * @create_flags: out: the enum drm_panthor_bo_flags it was created with (0
 *	for an imported BO).
 * @pad: zero (-EINVAL).
 */
struct drm_panthor_bo_query_info {
	__u32 handle;
	__u32 extra_flags;
	__u32 create_flags;
	__u32 pad;
};

/* _IOWR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + @id, struct @type): DOC: ioctls. */
#define GPUVM_DRM_IOWR(id, type) _IOWR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + (id), struct type)

/* Panthor's ioctl requests. */
#define DRM_IOCTL_PANTHOR_DEV_QUERY GPUVM_DRM_IOWR(DRM_PANTHOR_DEV_QUERY, drm_panthor_dev_query)
#define DRM_IOCTL_PANTHOR_VM_CREATE GPUVM_DRM_IOWR(DRM_PANTHOR_VM_CREATE, drm_panthor_vm_create)
#define DRM_IOCTL_PANTHOR_VM_DESTROY GPUVM_DRM_IOWR(DRM_PANTHOR_VM_DESTROY, drm_panthor_vm_destroy)
#define DRM_IOCTL_PANTHOR_VM_BIND GPUVM_DRM_IOWR(DRM_PANTHOR_VM_BIND, drm_panthor_vm_bind)
#define DRM_IOCTL_PANTHOR_VM_GET_STATE \
	GPUVM_DRM_IOWR(DRM_PANTHOR_VM_GET_STATE, drm_panthor_vm_get_state)
#define DRM_IOCTL_PANTHOR_BO_CREATE GPUVM_DRM_IOWR(DRM_PANTHOR_BO_CREATE, drm_panthor_bo_create)
#define DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET \
	GPUVM_DRM_IOWR(DRM_PANTHOR_BO_MMAP_OFFSET, drm_panthor_bo_mmap_offset)
#define DRM_IOCTL_PANTHOR_GROUP_CREATE \
	GPUVM_DRM_IOWR(DRM_PANTHOR_GROUP_CREATE, drm_panthor_group_create)
#define DRM_IOCTL_PANTHOR_GROUP_DESTROY \
	GPUVM_DRM_IOWR(DRM_PANTHOR_GROUP_DESTROY, drm_panthor_group_destroy)
#define DRM_IOCTL_PANTHOR_GROUP_SUBMIT \
	GPUVM_DRM_IOWR(DRM_PANTHOR_GROUP_SUBMIT, drm_panthor_group_submit)
#define DRM_IOCTL_PANTHOR_GROUP_GET_STATE \
	GPUVM_DRM_IOWR(DRM_PANTHOR_GROUP_GET_STATE, drm_panthor_group_get_state)
#define DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE \
	GPUVM_DRM_IOWR(DRM_PANTHOR_TILER_HEAP_CREATE, drm_panthor_tiler_heap_create)
#define DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY \
	GPUVM_DRM_IOWR(DRM_PANTHOR_TILER_HEAP_DESTROY, drm_panthor_tiler_heap_destroy)
#define DRM_IOCTL_PANTHOR_BO_SET_LABEL \
	GPUVM_DRM_IOWR(DRM_PANTHOR_BO_SET_LABEL, drm_panthor_bo_set_label)
#define DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET \
	GPUVM_DRM_IOWR(DRM_PANTHOR_SET_USER_MMIO_OFFSET, drm_panthor_set_user_mmio_offset)
#define DRM_IOCTL_PANTHOR_BO_SYNC GPUVM_DRM_IOWR(DRM_PANTHOR_BO_SYNC, drm_panthor_bo_sync)
#define DRM_IOCTL_PANTHOR_BO_QUERY_INFO \
	GPUVM_DRM_IOWR(DRM_PANTHOR_BO_QUERY_INFO, drm_panthor_bo_query_info)

/*
 * DOC: repeat mapping (ours)
 *
 * A MAP op with GPUVM_VM_BIND_OP_MAP_REPEAT maps the BO range
 * [bo_offset, bo_offset + bo_repeat_range) again and again over
 * [va, va + size):
 *
 *	va + k * bo_repeat_range + x  ->  BO offset bo_offset + x,
 *	for 0 <= x < bo_repeat_range, 0 <= k < size / bo_repeat_range
 *
 * This follows a 2025 proposal for panthor that no released kernel carries.
 * The op needs the extra field, so it travels as struct
 * gpuvm_vm_bind_op_repeat: struct drm_panthor_vm_bind_op with a __u64 appended.
 * The stride of drm_panthor_vm_bind.ops is the element size
 * (GPUVM_VM_BIND_OP_SIZE_V1 = 48, panthor's; GPUVM_VM_BIND_OP_SIZE_V2 = 56,
 * ours), so callers that know nothing of repeat keep working and
 * DRM_PANTHOR_OBJ_ARRAY() picks the stride from the element type; only ops
 * that carry the flag read the appended field.
 *
 * The flag bit: the proposal used bit 3, which panthor has since given to
 * MAP_SPARSE. Panthor allocates op flags upwards from bit 0 (0-3 so far) and
 * keeps bits 31:28 for the op type, so we take bit 24: twenty free bits above
 * panthor's flags before a collision, and 27:25 left for our next extensions.
 * A real panthor kernel rejects bit 24 as unknown (-EINVAL), so an op meant
 * as a repeat can never be silently applied as a plain MAP.
 *
 * DOC: decoding an op array (exact rule)
 *
 * Each element is decoded on its own, by its flags word (bytes 0..3, which
 * every layout shares):
 *
 * - Without GPUVM_VM_BIND_OP_MAP_REPEAT, exactly as Linux 7.2 decodes it:
 *   stride < 48 is -EINVAL; stride == 48 is the op; stride > 48: every byte
 *   from 48 to stride - 1 must be zero, else -E2BIG - bytes 48..55 included,
 *   even with stride 56. Our extension gives those bytes no meaning here, so
 *   a standard op means the same on the mock and on Linux, and a longer op
 *   from a future panthor is refused the same way.
 * - With GPUVM_VM_BIND_OP_MAP_REPEAT: stride < 56 is -EINVAL (there is no
 *   bo_repeat_range); bytes 48..55 are bo_repeat_range; every byte from 56
 *   to stride - 1 must be zero, else -E2BIG.
 *
 * Why this stays safe when panthor grows drm_panthor_vm_bind_op: a newer
 * field lands at byte 48 or later, where a standard op is decoded as Linux
 * does (a kernel that does not know the field refuses a nonzero value with
 * -E2BIG; the mock, until it learns the field, does the same). Only an op
 * carrying our flag bit, which Linux refuses anyway, reads bytes 48..55 as
 * ours. If panthor ever takes bit 24, the static check below fails and the
 * extension moves to another free bit; if panthor grows the op to 56 bytes
 * or more, a future mock decodes a standard op with panthor's fields and a
 * repeat op keeps its own layout, because the flag selects it, not the
 * stride.
 */

/**
 * GPUVM_VM_BIND_OP_MAP_REPEAT - struct drm_panthor_vm_bind_op.flags bit 24:
 * a repeat MAP (DOC: repeat mapping). Only with TYPE_MAP, not with MAP_SPARSE.
 */
#define GPUVM_VM_BIND_OP_MAP_REPEAT (1u << 24)

/** GPUVM_VM_BIND_OP_SIZE_V1 - VM_BIND op stride: struct drm_panthor_vm_bind_op. */
#define GPUVM_VM_BIND_OP_SIZE_V1 48
/** GPUVM_VM_BIND_OP_SIZE_V2 - VM_BIND op stride: struct gpuvm_vm_bind_op_repeat. */
#define GPUVM_VM_BIND_OP_SIZE_V2 56

/**
 * struct gpuvm_vm_bind_op_repeat - a VM_BIND op with a repeat range (ours).
 * @flags: as struct drm_panthor_vm_bind_op, plus GPUVM_VM_BIND_OP_MAP_REPEAT.
 * @bo_handle: as struct drm_panthor_vm_bind_op.
 * @bo_offset: as struct drm_panthor_vm_bind_op; with REPEAT,
 *	bo_offset + @bo_repeat_range (not size) must lie inside the BO.
 * @va: as struct drm_panthor_vm_bind_op.
 * @size: as struct drm_panthor_vm_bind_op; with REPEAT a multiple of
 *	@bo_repeat_range.
 * @syncs: as struct drm_panthor_vm_bind_op.
 * @bo_repeat_range: in: with REPEAT: bytes of BO repeated, > 0 and
 *	page-aligned (-EINVAL). Without REPEAT these are bytes past panthor's
 *	op: nonzero is -E2BIG, as on Linux. REPEAT in an array whose stride is
 *	below GPUVM_VM_BIND_OP_SIZE_V2 is -EINVAL.
 *
 * The first GPUVM_VM_BIND_OP_SIZE_V1 bytes are struct drm_panthor_vm_bind_op,
 * field for field. Other violations are -EINVAL.
 */
struct gpuvm_vm_bind_op_repeat {
	__u32 flags;
	__u32 bo_handle;
	__u64 bo_offset;
	__u64 va;
	__u64 size;
	struct drm_panthor_obj_array syncs;
	__u64 bo_repeat_range;
};

/*
 * DOC: mock-only ioctls (ours)
 *
 * The gpuvm mock device answers ioctls that no Mali hardware has, for tests:
 * GPU memory access through the MMU (MOCK_GPU_ACCESS), fences that the test
 * signals by hand (MOCK_FENCE_ATTACH, MOCK_FENCE_SIGNAL, in the manner of
 * vgem's fence ioctls), the device's MMU counters (MOCK_STATS: TLB use,
 * stale translations, flushes) and a VM's slot and fault state
 * (MOCK_VM_STATE), a copy of one of a VM's page tables (MOCK_PT_READ).
 * Their indices, 0x30-0x35, lie in the DRM
 * driver range [DRM_COMMAND_BASE, 0xA0) so they reach the driver's table like
 * panthor's own, and far above panthor's last index (0x10 today) so that
 * panthor can grow without colliding. A real panthor kernel answers them with
 * -EINVAL (index beyond its table), so a test can tell it is not on the mock.
 */

/** GPUVM_MOCK_GPU_ACCESS - ioctl index: struct gpuvm_mock_gpu_access. */
#define GPUVM_MOCK_GPU_ACCESS 0x30
/** GPUVM_MOCK_FENCE_ATTACH - ioctl index: struct gpuvm_mock_fence_attach. */
#define GPUVM_MOCK_FENCE_ATTACH 0x31
/** GPUVM_MOCK_FENCE_SIGNAL - ioctl index: struct gpuvm_mock_fence_signal. */
#define GPUVM_MOCK_FENCE_SIGNAL 0x32
/** GPUVM_MOCK_STATS - ioctl index: struct gpuvm_mock_stats. */
#define GPUVM_MOCK_STATS 0x33
/** GPUVM_MOCK_VM_STATE - ioctl index: struct gpuvm_mock_vm_state. */
#define GPUVM_MOCK_VM_STATE 0x34
/** GPUVM_MOCK_PT_READ - ioctl index: struct gpuvm_mock_pt_read. */
#define GPUVM_MOCK_PT_READ 0x35

/*
 * struct gpuvm_mock_gpu_access.op values. 0 is not an op, so that a zeroed
 * struct is rejected.
 */
/** GPUVM_MOCK_GPU_ACCESS_READ - GPU reads [va, va + size) into @data. */
#define GPUVM_MOCK_GPU_ACCESS_READ 1
/** GPUVM_MOCK_GPU_ACCESS_WRITE - GPU writes @data to [va, va + size). */
#define GPUVM_MOCK_GPU_ACCESS_WRITE 2
/** GPUVM_MOCK_GPU_ACCESS_FILL - GPU writes the byte @fill over [va, va + size). */
#define GPUVM_MOCK_GPU_ACCESS_FILL 3

/*
 * Decoding struct gpuvm_mock_gpu_access.access, a Mali AS FAULTSTATUS value:
 * exception type in bits 7:0, access type in bits 9:8.
 */
/** GPUVM_MOCK_FAULT_EXCEPTION() - the exception type of a FAULTSTATUS value. */
#define GPUVM_MOCK_FAULT_EXCEPTION(status) ((status)&0xffu)
/** GPUVM_MOCK_FAULT_ACCESS_TYPE() - the access type of a FAULTSTATUS value. */
#define GPUVM_MOCK_FAULT_ACCESS_TYPE(status) (((status) >> 8) & 0x3u)
/** GPUVM_MOCK_FAULT_TRANSLATION() - exception: no valid entry at @level (0-3). */
#define GPUVM_MOCK_FAULT_TRANSLATION(level) (0xc0u + (level))
/** GPUVM_MOCK_FAULT_PERMISSION() - exception: the leaf at @level forbids it. */
#define GPUVM_MOCK_FAULT_PERMISSION(level) (0xc8u + (level))
/** GPUVM_MOCK_FAULT_ACCESS_ATOMIC - access type: atomic. */
#define GPUVM_MOCK_FAULT_ACCESS_ATOMIC 0u
/** GPUVM_MOCK_FAULT_ACCESS_EXECUTE - access type: instruction fetch. */
#define GPUVM_MOCK_FAULT_ACCESS_EXECUTE 1u
/** GPUVM_MOCK_FAULT_ACCESS_READ - access type: read (MOCK_GPU_ACCESS_READ). */
#define GPUVM_MOCK_FAULT_ACCESS_READ 2u
/** GPUVM_MOCK_FAULT_ACCESS_WRITE - access type: write (WRITE and FILL). */
#define GPUVM_MOCK_FAULT_ACCESS_WRITE 3u

/**
 * struct gpuvm_mock_gpu_access - argument of GPUVM_IOCTL_MOCK_GPU_ACCESS: the
 * GPU reads or writes a VM's memory, as a job's loads and stores would.
 * @vm_id: in: the VM. Unknown: -EINVAL.
 * @op: in: GPUVM_MOCK_GPU_ACCESS_READ, _WRITE or _FILL; else -EINVAL.
 * @va: in: GPU VA of the first byte; any alignment.
 * @size: in: bytes, > 0, with va + size not overflowing (-EINVAL).
 * @data: in: user pointer to @size bytes: the destination of a READ, the
 *	source of a WRITE; must be 0 for FILL (-EINVAL). Unreadable or
 *	unwritable: -EFAULT.
 * @fill: in: FILL: the byte value written, <= 0xff; must be 0 for READ and
 *	WRITE (-EINVAL).
 * @access: out: 0 when every byte was transferred; else the Mali FAULTSTATUS
 *	of the first fault: exception type | access type << 8 (see
 *	GPUVM_MOCK_FAULT_*).
 * @fault_addr: out: the faulting GPU VA (FAULTADDRESS); 0 without a fault.
 * @done: out: bytes transferred, in address order, before the fault; @size
 *	without one.
 *
 * The access goes through the VM's address space exactly as a job's would:
 * the VM is given an address space slot if it has none, and translations come
 * from the mock's TLB and page-table walks, so stale TLB entries are seen.
 * A fault ends the access and is handled as the device handles any GPU fault
 * on that VM. The ioctl returns 0 whether or not the access faulted; it fails
 * (with nothing accessed) only for the errors above.
 */
struct gpuvm_mock_gpu_access {
	__u32 vm_id;
	__u32 op;
	__u64 va;
	__u64 size;
	__u64 data;
	__u32 fill;
	__u32 access;
	__u64 fault_addr;
	__u64 done;
};

/**
 * struct gpuvm_mock_fence_attach - argument of GPUVM_IOCTL_MOCK_FENCE_ATTACH:
 * put a new pending fence in a syncobj.
 * @handle: in: the syncobj. Unknown: -ENOENT.
 * @flags: in: none defined; must be 0 (-EINVAL).
 * @point: in: 0: the fence replaces the syncobj's fence (binary use); else the
 *	fence is added at this timeline point, which must be above the
 *	syncobj's last point (-EINVAL).
 * @fence_id: out: the fence's id for MOCK_FENCE_SIGNAL, >= 1, private to the
 *	open file.
 * @pad: zero.
 *
 * The fence stays pending until MOCK_FENCE_SIGNAL; one still pending when the
 * file is closed is signaled with -ENODEV, so that no waiter hangs.
 */
struct gpuvm_mock_fence_attach {
	__u32 handle;
	__u32 flags;
	__u64 point;
	__u32 fence_id;
	__u32 pad;
};

/**
 * struct gpuvm_mock_fence_signal - argument of GPUVM_IOCTL_MOCK_FENCE_SIGNAL:
 * signal a fence of MOCK_FENCE_ATTACH.
 * @fence_id: in: the fence. Unknown or already signaled: -ENOENT (the id is
 *	released by the signal).
 * @error: in: 0 for success, or a negative errno in [-4095, -1] that waiters
 *	and the jobs depending on the fence see (-EINVAL otherwise).
 */
struct gpuvm_mock_fence_signal {
	__u32 fence_id;
	__s32 error;
};

/** GPUVM_MOCK_STATS_RESET - struct gpuvm_mock_stats.flags: zero the counters after reading. */
#define GPUVM_MOCK_STATS_RESET (1u << 0)

/**
 * struct gpuvm_mock_stats - argument of GPUVM_IOCTL_MOCK_STATS: the device's
 * MMU counters, since it was created or last reset (all out, but @flags).
 * @flags: in: 0 or GPUVM_MOCK_STATS_RESET; other bits -EINVAL.
 * @pad: zero.
 * @tlb_hits: translations served by a slot's TLB.
 * @tlb_misses: translations that walked the tables.
 * @stale_translations: strict mode: TLB hits (or cached table pointers) that
 *	differ from what the tables say now - a missing or misplaced flush.
 *	Correct drivers keep it 0.
 * @freed_table_walks: walks that read a table after it was freed.
 * @as_updates: UPDATE commands (a slot programmed or disabled).
 * @as_locks: LOCK commands.
 * @as_unlocks: UNLOCK commands.
 * @as_flush_pt: FLUSH_PT commands.
 * @as_flush_mem: FLUSH_MEM commands.
 * @pt_flushes: flushes the page-table builder asked for.
 * @skipped_flushes: of those, dropped by the device's debug setting.
 * @cache_flushes: GPU cache flushes (GPU_CMD, FLUSH_CACHE2).
 * @activations: VMs made active (a job or an access started on them).
 * @evictions: idle VMs whose slot was taken for another VM.
 * @faults: GPU faults handled (a slot disabled).
 * @lock_waits: accesses that stalled on a locked region.
 * @first_stale_va: the VA of the first stale translation (0: none).
 * @cache_flushes_skipped: cache flushes asked for with a flush ID that the
 *	GPU had already passed (queue_submit.latest_flush, FLUSH_CACHE2), so
 *	not done.
 * @bo_sync_ops: BO_SYNC ops done (not reset).
 * @bo_sync_lines: cache lines they covered, each range rounded out to
 *	64-byte lines (not reset).
 * @latest_flush_id: LATEST_FLUSH_ID now (not reset by GPUVM_MOCK_STATS_RESET).
 * @pad2: zero.
 *
 * Callers compiled with the 144-byte first version get the fields up to
 * @first_stale_va.
 */
struct gpuvm_mock_stats {
	__u32 flags;
	__u32 pad;
	__u64 tlb_hits;
	__u64 tlb_misses;
	__u64 stale_translations;
	__u64 freed_table_walks;
	__u64 as_updates;
	__u64 as_locks;
	__u64 as_unlocks;
	__u64 as_flush_pt;
	__u64 as_flush_mem;
	__u64 pt_flushes;
	__u64 skipped_flushes;
	__u64 cache_flushes;
	__u64 activations;
	__u64 evictions;
	__u64 faults;
	__u64 lock_waits;
	__u64 first_stale_va;
	__u64 cache_flushes_skipped;
	__u64 bo_sync_ops;
	__u64 bo_sync_lines;
	__u32 latest_flush_id;
	__u32 pad2;
};

/**
 * struct gpuvm_mock_vm_state - argument of GPUVM_IOCTL_MOCK_VM_STATE: where a
 * VM stands with the MMU.
 * @vm_id: in: the VM. Unknown: -EINVAL.
 * @as_slot: out: its address-space slot, or -1.
 * @users: out: jobs (and accesses) running on it now.
 * @faulted: out: 1 when its last fault has not been cleared by an activation.
 * @fault_status: out: FAULTSTATUS of its last fault (0: never faulted).
 * @pad: zero.
 * @fault_addr: out: FAULTADDRESS of its last fault.
 * @fault_count: out: faults handled on it.
 */
struct gpuvm_mock_vm_state {
	__u32 vm_id;
	__s32 as_slot;
	__u32 users;
	__u32 faulted;
	__u32 fault_status;
	__u32 pad;
	__u64 fault_addr;
	__u64 fault_count;
};

/**
 * struct gpuvm_mock_pt_read - argument of GPUVM_IOCTL_MOCK_PT_READ: a copy of
 * one table of a VM's page-table tree, as the MMU reads it, for tools that
 * draw the tree (gpuvm-ptdump). The format is panthor's (Mali AArch64 mode,
 * 4 KiB granule, 48-bit VA): follow table descriptors from the root by the
 * PA they hold.
 * @vm_id: in: the VM. Unknown: -EINVAL.
 * @flags: in: none defined; must be 0 (-EINVAL).
 * @pa: in: PA of the table to copy, or 0 for the VM's root table. Not the
 *	start of an allocated page table: -ENOENT.
 * @data: in: user pointer to @size bytes that receive the table, or 0 to
 *	copy nothing (only the out fields). Unwritable: -EFAULT.
 * @size: in: bytes at @data; smaller than the table: -EINVAL. out: the
 *	table's size in bytes.
 * @pad: zero.
 * @root_pa: out: PA of the VM's root table (its TRANSTAB).
 * @table_pages: out: tables the VM's page table owns (shared tables once).
 * @table_bytes: out: bytes of those tables.
 *
 * The copy is consistent for the VM's own tables (taken under the VM's
 * lock, so no bind of that VM is half-applied in it).
 */
struct gpuvm_mock_pt_read {
	__u32 vm_id;
	__u32 flags;
	__u64 pa;
	__u64 data;
	__u32 size;
	__u32 pad;
	__u64 root_pa;
	__u64 table_pages;
	__u64 table_bytes;
};

/* Our ioctl requests (mock device only). */
#define GPUVM_IOCTL_MOCK_GPU_ACCESS GPUVM_DRM_IOWR(GPUVM_MOCK_GPU_ACCESS, gpuvm_mock_gpu_access)
#define GPUVM_IOCTL_MOCK_FENCE_ATTACH \
	GPUVM_DRM_IOWR(GPUVM_MOCK_FENCE_ATTACH, gpuvm_mock_fence_attach)
#define GPUVM_IOCTL_MOCK_FENCE_SIGNAL \
	GPUVM_DRM_IOWR(GPUVM_MOCK_FENCE_SIGNAL, gpuvm_mock_fence_signal)
#define GPUVM_IOCTL_MOCK_STATS GPUVM_DRM_IOWR(GPUVM_MOCK_STATS, gpuvm_mock_stats)
#define GPUVM_IOCTL_MOCK_VM_STATE GPUVM_DRM_IOWR(GPUVM_MOCK_VM_STATE, gpuvm_mock_vm_state)
#define GPUVM_IOCTL_MOCK_PT_READ GPUVM_DRM_IOWR(GPUVM_MOCK_PT_READ, gpuvm_mock_pt_read)

/*
 * ABI checks: every ioctl value, struct size and field offset, as the
 * references give them (x86-64 gcc; the layouts have no implicit padding, so
 * they hold on every Linux ABI). A failure here is an ABI break.
 */
#ifdef __cplusplus
#define GPUVM_UAPI_ASSERT(expr, msg) static_assert(expr, msg)
#else
#define GPUVM_UAPI_ASSERT(expr, msg) _Static_assert(expr, msg)
#endif
#define GPUVM_UAPI_SIZE(s, size) GPUVM_UAPI_ASSERT(sizeof(struct s) == (size), "sizeof " #s)
#define GPUVM_UAPI_OFFSET(s, f, off) \
	GPUVM_UAPI_ASSERT(offsetof(struct s, f) == (off), "offsetof " #s "." #f)
#define GPUVM_UAPI_IOCTL(req, value) GPUVM_UAPI_ASSERT((req) == (value), #req)

GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_DEV_QUERY, 0xC0106440u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_VM_CREATE, 0xC0106441u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_VM_DESTROY, 0xC0086442u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_VM_BIND, 0xC0186443u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_VM_GET_STATE, 0xC0086444u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_BO_CREATE, 0xC0186445u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, 0xC0106446u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_GROUP_CREATE, 0xC0386447u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_GROUP_DESTROY, 0xC0086448u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_GROUP_SUBMIT, 0xC0186449u);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_GROUP_GET_STATE, 0xC010644Au);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, 0xC028644Bu);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, 0xC008644Cu);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_BO_SET_LABEL, 0xC010644Du);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, 0xC008644Eu);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_BO_SYNC, 0xC010644Fu);
GPUVM_UAPI_IOCTL(DRM_IOCTL_PANTHOR_BO_QUERY_INFO, 0xC0106450u);
GPUVM_UAPI_IOCTL(GPUVM_IOCTL_MOCK_GPU_ACCESS, 0xC0386470u);
GPUVM_UAPI_IOCTL(GPUVM_IOCTL_MOCK_FENCE_ATTACH, 0xC0186471u);
GPUVM_UAPI_IOCTL(GPUVM_IOCTL_MOCK_FENCE_SIGNAL, 0xC0086472u);
GPUVM_UAPI_IOCTL(GPUVM_IOCTL_MOCK_STATS, 0xC0B06473u);
GPUVM_UAPI_IOCTL(GPUVM_IOCTL_MOCK_VM_STATE, 0xC0286474u);
GPUVM_UAPI_IOCTL(GPUVM_IOCTL_MOCK_PT_READ, 0xC0386475u);

GPUVM_UAPI_SIZE(drm_panthor_obj_array, 16);
GPUVM_UAPI_OFFSET(drm_panthor_obj_array, stride, 0);
GPUVM_UAPI_OFFSET(drm_panthor_obj_array, count, 4);
GPUVM_UAPI_OFFSET(drm_panthor_obj_array, array, 8);

GPUVM_UAPI_SIZE(drm_panthor_sync_op, 16);
GPUVM_UAPI_OFFSET(drm_panthor_sync_op, flags, 0);
GPUVM_UAPI_OFFSET(drm_panthor_sync_op, handle, 4);
GPUVM_UAPI_OFFSET(drm_panthor_sync_op, timeline_value, 8);

GPUVM_UAPI_SIZE(drm_panthor_gpu_info, 112);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, gpu_id, 0);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, gpu_rev, 4);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, csf_id, 8);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, l2_features, 12);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, tiler_features, 16);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, mem_features, 20);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, mmu_features, 24);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, thread_features, 28);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, max_threads, 32);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, thread_max_workgroup_size, 36);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, thread_max_barrier_size, 40);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, coherency_features, 44);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, texture_features, 48);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, as_present, 64);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, selected_coherency, 68);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, shader_present, 72);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, l2_present, 80);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, tiler_present, 88);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, core_features, 96);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, pad, 100);
GPUVM_UAPI_OFFSET(drm_panthor_gpu_info, gpu_features, 104);

GPUVM_UAPI_SIZE(drm_panthor_csif_info, 24);
GPUVM_UAPI_OFFSET(drm_panthor_csif_info, csg_slot_count, 0);
GPUVM_UAPI_OFFSET(drm_panthor_csif_info, cs_slot_count, 4);
GPUVM_UAPI_OFFSET(drm_panthor_csif_info, cs_reg_count, 8);
GPUVM_UAPI_OFFSET(drm_panthor_csif_info, scoreboard_slot_count, 12);
GPUVM_UAPI_OFFSET(drm_panthor_csif_info, unpreserved_cs_reg_count, 16);
GPUVM_UAPI_OFFSET(drm_panthor_csif_info, pad, 20);

GPUVM_UAPI_SIZE(drm_panthor_timestamp_info, 56);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, timestamp_frequency, 0);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, current_timestamp, 8);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, timestamp_offset, 16);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, flags, GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, duration_nsec, 28);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, cycle_count, 32);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, cpu_timestamp_sec, 40);
GPUVM_UAPI_OFFSET(drm_panthor_timestamp_info, cpu_timestamp_nsec, 48);

GPUVM_UAPI_SIZE(drm_panthor_group_priorities_info, 4);
GPUVM_UAPI_OFFSET(drm_panthor_group_priorities_info, allowed_mask, 0);
GPUVM_UAPI_OFFSET(drm_panthor_group_priorities_info, pad, 1);

GPUVM_UAPI_SIZE(drm_panthor_dev_query, 16);
GPUVM_UAPI_OFFSET(drm_panthor_dev_query, type, 0);
GPUVM_UAPI_OFFSET(drm_panthor_dev_query, size, 4);
GPUVM_UAPI_OFFSET(drm_panthor_dev_query, pointer, 8);

GPUVM_UAPI_SIZE(drm_panthor_vm_create, 16);
GPUVM_UAPI_OFFSET(drm_panthor_vm_create, flags, 0);
GPUVM_UAPI_OFFSET(drm_panthor_vm_create, id, 4);
GPUVM_UAPI_OFFSET(drm_panthor_vm_create, user_va_range, 8);

GPUVM_UAPI_SIZE(drm_panthor_vm_destroy, 8);
GPUVM_UAPI_OFFSET(drm_panthor_vm_destroy, id, 0);
GPUVM_UAPI_OFFSET(drm_panthor_vm_destroy, pad, 4);

GPUVM_UAPI_SIZE(drm_panthor_vm_bind_op, GPUVM_VM_BIND_OP_SIZE_V1);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind_op, flags, 0);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind_op, bo_handle, 4);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind_op, bo_offset, 8);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind_op, va, 16);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind_op, size, 24);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind_op, syncs, 32);

GPUVM_UAPI_SIZE(drm_panthor_vm_bind, 24);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind, vm_id, 0);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind, flags, 4);
GPUVM_UAPI_OFFSET(drm_panthor_vm_bind, ops, 8);

GPUVM_UAPI_SIZE(drm_panthor_vm_get_state, 8);
GPUVM_UAPI_OFFSET(drm_panthor_vm_get_state, vm_id, 0);
GPUVM_UAPI_OFFSET(drm_panthor_vm_get_state, state, 4);

GPUVM_UAPI_SIZE(drm_panthor_bo_create, 24);
GPUVM_UAPI_OFFSET(drm_panthor_bo_create, size, 0);
GPUVM_UAPI_OFFSET(drm_panthor_bo_create, flags, 8);
GPUVM_UAPI_OFFSET(drm_panthor_bo_create, exclusive_vm_id, 12);
GPUVM_UAPI_OFFSET(drm_panthor_bo_create, handle, 16);
GPUVM_UAPI_OFFSET(drm_panthor_bo_create, pad, 20);

GPUVM_UAPI_SIZE(drm_panthor_bo_mmap_offset, 16);
GPUVM_UAPI_OFFSET(drm_panthor_bo_mmap_offset, handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_bo_mmap_offset, pad, 4);
GPUVM_UAPI_OFFSET(drm_panthor_bo_mmap_offset, offset, 8);

GPUVM_UAPI_SIZE(drm_panthor_queue_create, 8);
GPUVM_UAPI_OFFSET(drm_panthor_queue_create, priority, 0);
GPUVM_UAPI_OFFSET(drm_panthor_queue_create, pad, 1);
GPUVM_UAPI_OFFSET(drm_panthor_queue_create, ringbuf_size, 4);

GPUVM_UAPI_SIZE(drm_panthor_group_create, 56);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, queues, 0);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, max_compute_cores, 16);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, max_fragment_cores, 17);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, max_tiler_cores, 18);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, priority, 19);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, pad, 20);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, compute_core_mask, 24);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, fragment_core_mask, 32);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, tiler_core_mask, 40);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, vm_id, 48);
GPUVM_UAPI_OFFSET(drm_panthor_group_create, group_handle, 52);

GPUVM_UAPI_SIZE(drm_panthor_group_destroy, 8);
GPUVM_UAPI_OFFSET(drm_panthor_group_destroy, group_handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_group_destroy, pad, 4);

GPUVM_UAPI_SIZE(drm_panthor_queue_submit, 40);
GPUVM_UAPI_OFFSET(drm_panthor_queue_submit, queue_index, 0);
GPUVM_UAPI_OFFSET(drm_panthor_queue_submit, stream_size, 4);
GPUVM_UAPI_OFFSET(drm_panthor_queue_submit, stream_addr, 8);
GPUVM_UAPI_OFFSET(drm_panthor_queue_submit, latest_flush, 16);
GPUVM_UAPI_OFFSET(drm_panthor_queue_submit, pad, 20);
GPUVM_UAPI_OFFSET(drm_panthor_queue_submit, syncs, 24);

GPUVM_UAPI_SIZE(drm_panthor_group_submit, 24);
GPUVM_UAPI_OFFSET(drm_panthor_group_submit, group_handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_group_submit, pad, 4);
GPUVM_UAPI_OFFSET(drm_panthor_group_submit, queue_submits, 8);

GPUVM_UAPI_SIZE(drm_panthor_group_get_state, 16);
GPUVM_UAPI_OFFSET(drm_panthor_group_get_state, group_handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_group_get_state, state, 4);
GPUVM_UAPI_OFFSET(drm_panthor_group_get_state, fatal_queues, 8);
GPUVM_UAPI_OFFSET(drm_panthor_group_get_state, pad, 12);

GPUVM_UAPI_SIZE(drm_panthor_tiler_heap_create, 40);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, vm_id, 0);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, initial_chunk_count, 4);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, chunk_size, 8);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, max_chunks, 12);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, target_in_flight, 16);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, handle, 20);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, tiler_heap_ctx_gpu_va, 24);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_create, first_heap_chunk_gpu_va, 32);

GPUVM_UAPI_SIZE(drm_panthor_tiler_heap_destroy, 8);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_destroy, handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_tiler_heap_destroy, pad, 4);

GPUVM_UAPI_SIZE(drm_panthor_bo_set_label, 16);
GPUVM_UAPI_OFFSET(drm_panthor_bo_set_label, handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_bo_set_label, pad, 4);
GPUVM_UAPI_OFFSET(drm_panthor_bo_set_label, label, 8);

GPUVM_UAPI_SIZE(drm_panthor_set_user_mmio_offset, 8);
GPUVM_UAPI_OFFSET(drm_panthor_set_user_mmio_offset, offset, 0);

GPUVM_UAPI_SIZE(drm_panthor_bo_sync_op, 24);
GPUVM_UAPI_OFFSET(drm_panthor_bo_sync_op, handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_bo_sync_op, type, 4);
GPUVM_UAPI_OFFSET(drm_panthor_bo_sync_op, offset, 8);
GPUVM_UAPI_OFFSET(drm_panthor_bo_sync_op, size, 16);

GPUVM_UAPI_SIZE(drm_panthor_bo_sync, 16);
GPUVM_UAPI_OFFSET(drm_panthor_bo_sync, ops, 0);

GPUVM_UAPI_SIZE(drm_panthor_bo_query_info, 16);
GPUVM_UAPI_OFFSET(drm_panthor_bo_query_info, handle, 0);
GPUVM_UAPI_OFFSET(drm_panthor_bo_query_info, extra_flags, 4);
GPUVM_UAPI_OFFSET(drm_panthor_bo_query_info, create_flags, 8);
GPUVM_UAPI_OFFSET(drm_panthor_bo_query_info, pad, 12);

GPUVM_UAPI_ASSERT(DRM_PANTHOR_USER_MMIO_OFFSET_32BIT == 0x80000000000ull, "32-bit MMIO offset");
GPUVM_UAPI_ASSERT(DRM_PANTHOR_USER_MMIO_OFFSET_64BIT == 0x100000000000000ull, "64-bit MMIO offset");

GPUVM_UAPI_SIZE(gpuvm_vm_bind_op_repeat, GPUVM_VM_BIND_OP_SIZE_V2);
GPUVM_UAPI_OFFSET(gpuvm_vm_bind_op_repeat, flags, 0);
GPUVM_UAPI_OFFSET(gpuvm_vm_bind_op_repeat, bo_handle, 4);
GPUVM_UAPI_OFFSET(gpuvm_vm_bind_op_repeat, bo_offset, 8);
GPUVM_UAPI_OFFSET(gpuvm_vm_bind_op_repeat, va, 16);
GPUVM_UAPI_OFFSET(gpuvm_vm_bind_op_repeat, size, 24);
GPUVM_UAPI_OFFSET(gpuvm_vm_bind_op_repeat, syncs, 32);
GPUVM_UAPI_OFFSET(gpuvm_vm_bind_op_repeat, bo_repeat_range, GPUVM_VM_BIND_OP_SIZE_V1);

GPUVM_UAPI_SIZE(gpuvm_mock_gpu_access, 56);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, vm_id, 0);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, op, 4);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, va, 8);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, size, 16);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, data, 24);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, fill, 32);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, access, 36);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, fault_addr, 40);
GPUVM_UAPI_OFFSET(gpuvm_mock_gpu_access, done, 48);

GPUVM_UAPI_SIZE(gpuvm_mock_fence_attach, 24);
GPUVM_UAPI_OFFSET(gpuvm_mock_fence_attach, handle, 0);
GPUVM_UAPI_OFFSET(gpuvm_mock_fence_attach, flags, 4);
GPUVM_UAPI_OFFSET(gpuvm_mock_fence_attach, point, 8);
GPUVM_UAPI_OFFSET(gpuvm_mock_fence_attach, fence_id, 16);
GPUVM_UAPI_OFFSET(gpuvm_mock_fence_attach, pad, 20);

GPUVM_UAPI_SIZE(gpuvm_mock_fence_signal, 8);
GPUVM_UAPI_OFFSET(gpuvm_mock_fence_signal, fence_id, 0);
GPUVM_UAPI_OFFSET(gpuvm_mock_fence_signal, error, 4);
GPUVM_UAPI_SIZE(gpuvm_mock_stats, 176);
GPUVM_UAPI_OFFSET(gpuvm_mock_stats, tlb_hits, 8);
GPUVM_UAPI_OFFSET(gpuvm_mock_stats, stale_translations, 24);
GPUVM_UAPI_OFFSET(gpuvm_mock_stats, first_stale_va, 136);
GPUVM_UAPI_OFFSET(gpuvm_mock_stats, cache_flushes_skipped, 144);
GPUVM_UAPI_OFFSET(gpuvm_mock_stats, bo_sync_ops, 152);
GPUVM_UAPI_OFFSET(gpuvm_mock_stats, bo_sync_lines, 160);
GPUVM_UAPI_OFFSET(gpuvm_mock_stats, latest_flush_id, 168);
GPUVM_UAPI_SIZE(gpuvm_mock_vm_state, 40);
GPUVM_UAPI_OFFSET(gpuvm_mock_vm_state, as_slot, 4);
GPUVM_UAPI_OFFSET(gpuvm_mock_vm_state, fault_status, 16);
GPUVM_UAPI_OFFSET(gpuvm_mock_vm_state, fault_addr, 24);
GPUVM_UAPI_OFFSET(gpuvm_mock_vm_state, fault_count, 32);
GPUVM_UAPI_SIZE(gpuvm_mock_pt_read, 56);
GPUVM_UAPI_OFFSET(gpuvm_mock_pt_read, pa, 8);
GPUVM_UAPI_OFFSET(gpuvm_mock_pt_read, data, 16);
GPUVM_UAPI_OFFSET(gpuvm_mock_pt_read, size, 24);
GPUVM_UAPI_OFFSET(gpuvm_mock_pt_read, root_pa, 32);
GPUVM_UAPI_OFFSET(gpuvm_mock_pt_read, table_bytes, 48);

/* The repeat bit is clear of every panthor op flag and of the type field. */
GPUVM_UAPI_ASSERT((GPUVM_VM_BIND_OP_MAP_REPEAT &
		   ((unsigned int)DRM_PANTHOR_VM_BIND_OP_MAP_READONLY |
		    (unsigned int)DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC |
		    (unsigned int)DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED |
		    (unsigned int)DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE |
		    (unsigned int)DRM_PANTHOR_VM_BIND_OP_TYPE_MASK)) == 0,
		  "MAP_REPEAT collides with a panthor op flag");

#undef GPUVM_UAPI_IOCTL
#undef GPUVM_UAPI_OFFSET
#undef GPUVM_UAPI_SIZE
#undef GPUVM_UAPI_ASSERT

#endif /* GPUVM_PANTHOR_DRM_H */
