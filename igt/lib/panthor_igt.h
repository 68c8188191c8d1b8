/* SPDX-License-Identifier: MIT */
/*
 * Helpers of gpuvm's igt tests for panthor devices: open the device the igt
 * way, create and map objects, and look at what the GPU sees through the mock
 * device's GPU-access ioctls (uapi/include/gpuvm/panthor_drm.h, "mock-only
 * ioctls"). Functions without a leading "__" assert success (an igt failure
 * otherwise); "__" forms return 0 or a negative errno.
 *
 * DOC: page tags
 *
 * panthor_bo_tag() writes, at the start of each page of a BO, the value
 * panthor_tag(bo, page). A GPU read of the first 8 bytes of a page at some VA
 * then says which BO page that VA translates to, so a layout check reads one
 * value per page (panthor_check_layout()).
 */
#ifndef GPUVM_IGT_PANTHOR_IGT_H
#define GPUVM_IGT_PANTHOR_IGT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/panthor_drm.h>

#define SZ_4K 0x1000ull
#define SZ_64K 0x10000ull
#define SZ_1M 0x100000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

/* Open the panthor device (render or primary node through drm_open_driver()). */
int panthor_open(void);
/* True on gpuvm's mock device (it answers the mock-only ioctls). */
bool panthor_is_mock(int fd);
/* Skip unless on the mock device: the test needs to see through the GPU. */
void panthor_require_mock(int fd);
/* panthor_open(), then panthor_require_mock(). */
int panthor_open_mock(void);
/* An ioctl: 0 or -errno (errno reset). */
int panthor_ioctl(int fd, unsigned long request, void *arg);

int __panthor_query(int fd, uint32_t type, void *info, uint32_t *size);

uint32_t panthor_vm_create(int fd, uint64_t *user_va_range);
int __panthor_vm_destroy(int fd, uint32_t vm);
void panthor_vm_destroy(int fd, uint32_t vm);
uint32_t panthor_vm_state(int fd, uint32_t vm);

int __panthor_bo_create(int fd, struct drm_panthor_bo_create *args);
uint32_t panthor_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t exclusive_vm);
uint64_t panthor_bo_mmap_offset(int fd, uint32_t bo);
void *panthor_bo_mmap(int fd, uint32_t bo, uint64_t size, int prot);
void panthor_bo_munmap(void *cpu, uint64_t size);

uint64_t panthor_tag(uint32_t bo, uint64_t page);
/* Write panthor_tag(@tag_bo, page) at the start of each of @pages pages of @bo. */
void panthor_bo_tag(int fd, uint32_t bo, uint64_t pages, uint32_t tag_bo);
/* A new BO of @pages pages, each tagged with its own handle. */
uint32_t panthor_bo_create_tagged(int fd, uint64_t pages);

/* VM_BIND of @count ops @stride bytes apart: 0 or -errno. */
int __panthor_vm_bind(int fd, uint32_t vm, uint32_t flags, const void *ops, uint32_t stride,
		      uint32_t count);
struct drm_panthor_vm_bind_op panthor_map_op(uint32_t bo, uint64_t bo_offset, uint64_t va,
					     uint64_t size, uint32_t flags);
struct drm_panthor_vm_bind_op panthor_unmap_op(uint64_t va, uint64_t size);
void panthor_map(int fd, uint32_t vm, uint32_t bo, uint64_t bo_offset, uint64_t va, uint64_t size,
		 uint32_t flags);
void panthor_unmap(int fd, uint32_t vm, uint64_t va, uint64_t size);

/* The GPU reads or writes a VM (mock only): 0, or the FAULTSTATUS of the fault. */
uint32_t panthor_gpu_read(int fd, uint32_t vm, uint64_t va, void *data, uint64_t size);
uint32_t panthor_gpu_write(int fd, uint32_t vm, uint64_t va, const void *data, uint64_t size);
/* As above; *@fault_addr gets FAULTADDRESS. */
uint32_t panthor_gpu_access(int fd, uint32_t vm, uint32_t op, uint64_t va, void *data,
			    uint64_t size, uint64_t *fault_addr);

/*
 * struct panthor_va_expect - what a VA range should translate to.
 * @va, @size: the range.
 * @tag_bo: the handle whose tags the pages carry (panthor_bo_tag()); 0: no
 *	mapping, every page must fault with a translation fault.
 * @bo_offset: the BO offset mapped at @va.
 * @repeat: 0, or the repeat range of a repeat mapping.
 */
struct panthor_va_expect {
	uint64_t va, size;
	uint32_t tag_bo;
	uint64_t bo_offset;
	uint64_t repeat;
};

/*
 * Read every page of [@start, @end) through the GPU and compare with @expect
 * (pages that no entry covers must fault with a translation fault).
 */
void panthor_check_layout(int fd, uint32_t vm, uint64_t start, uint64_t end,
			  const struct panthor_va_expect *expect, unsigned int count);
/* Strict mode saw no stale TLB translation and no walk through a freed table. */
void panthor_check_mmu_clean(int fd);

/* A pending mock fence in @syncobj (binary: @point 0): its id. */
uint32_t panthor_fence_attach(int fd, uint32_t syncobj, uint64_t point);
void panthor_fence_signal(int fd, uint32_t fence_id, int error);

/* CSF instructions (mali.md section 5): one u64 each, opcode in bits 63:56. */
#define PANTHOR_CS_MOVE48(reg, imm) \
	(1ull << 56 | (uint64_t)(reg) << 48 | ((uint64_t)(imm)&0xffffffffffffull))
#define PANTHOR_CS_MOVE32(reg, imm) (2ull << 56 | (uint64_t)(reg) << 48 | (uint32_t)(imm))
/* STORE_MULTIPLE: r[src] -> [d[addr] + 0] (mask 1). */
#define PANTHOR_CS_STORE1(src, addr) \
	(0x15ull << 56 | (uint64_t)(src) << 48 | (uint64_t)(addr) << 40 | 1u << 16)
#define PANTHOR_CS_WAIT_ALL (3ull << 56 | 0xffull << 16)
/* FLUSH_CACHE2: clean+invalidate L2 and LSC, invalidate the rest; flush ID in r@id; slot 1. */
#define PANTHOR_CS_FLUSH_ALL(id) (0x24ull << 56 | 1ull << 48 | (uint64_t)(id) << 40 | 0x233u)

/* igt's group: one queue (4 KiB ring), one core of each kind, MEDIUM priority. */
struct drm_panthor_group_create panthor_group_args(uint32_t vm);
uint32_t panthor_group_create(int fd, uint32_t vm);
int __panthor_group_destroy(int fd, uint32_t group);
struct drm_panthor_group_get_state panthor_group_state(int fd, uint32_t group);
/* GROUP_SUBMIT of @qs on @group, signalling binary @syncobj: 0 or -errno. */
int __panthor_submit(int fd, uint32_t group, struct drm_panthor_queue_submit *qs, uint32_t syncobj);
/* GROUP_SUBMIT of @qs (queue 0) on @group with @count sync ops: 0 or -errno. */
int __panthor_submit_syncs(int fd, uint32_t group, struct drm_panthor_queue_submit *qs,
			   struct drm_panthor_sync_op *syncs, uint32_t count);
/* Submit @size bytes at @addr (queue 0) and wait until the job is done. */
void panthor_run(int fd, uint32_t group, uint64_t addr, uint32_t size, uint32_t latest_flush);
/*
 * Write at @cmd a stream that stores @value at @va, then flushes the caches
 * with flush ID @flush_id (0: unconditionally); its size in bytes.
 */
uint32_t panthor_store_stream(uint64_t *cmd, uint64_t va, uint32_t value, uint32_t flush_id);

/*
 * PRIME, dma-bufs and sync files (panthor-1.8.md, "dma-buf and sync-file
 * behaviour"). "__" forms return 0 or -errno and leave -1 in an fd they did
 * not make; the others assert.
 */
int __panthor_prime_export(int fd, uint32_t bo, uint32_t flags, int *dmabuf);
int __panthor_prime_import(int fd, int dmabuf, uint32_t *bo);
int __panthor_dmabuf_export_sync_file(int dmabuf, uint32_t flags, int *sync_file);
int __panthor_dmabuf_import_sync_file(int dmabuf, uint32_t flags, int sync_file);
int __panthor_dmabuf_sync(int dmabuf, uint64_t flags);
int __panthor_sync_merge(int a, int b, int *merged);
/* SYNC_IOC_FILE_INFO's status: 1 signaled, 0 active, < 0 the error; its fence count. */
int panthor_sync_file_status(int sync_file, uint32_t *num_fences);
/* The status of the sync file @dmabuf exports for an access of @flags (DMA_BUF_SYNC_*). */
int panthor_dmabuf_status(int dmabuf, uint32_t flags);
/* poll() says readable (a sync file: signaled) within @timeout_ms. */
bool panthor_fd_readable(int fd, int timeout_ms);
/* A sync file of @syncobj's fence (SYNCOBJ_HANDLE_TO_FD, EXPORT_SYNC_FILE). */
int panthor_syncobj_export_sync_file(int fd, uint32_t syncobj);
/* A sync file of a new pending mock fence; *@fence_id signals it (mock only). */
int panthor_pending_sync_file(int fd, uint32_t *fence_id);

/* The file holds no BO, VM, syncobj or group any more (tests free what they make). */
void panthor_check_all_freed(int fd);
/* panthor_check_all_freed(), then close the file. */
void panthor_close(int fd);
/* How many fds the process has open (among the first 1024): calls that fail make none. */
int panthor_count_open_fds(void);
/*
 * No fd was made since panthor_count_open_fds() returned @before. The mock
 * device runs inside the process, and its own descriptors (the memory of BOs
 * a finished job let go, the ends of exports nobody holds any more) close
 * when it gets to them, so the count may go down meanwhile; a refused call
 * that made an fd would still raise it above @before.
 */
#define panthor_assert_no_fd_made(before) \
	igt_assert_cmpint(panthor_count_open_fds(), <=, >, (before))

/* The fault of @vm's last GPU fault (mock only). */
struct gpuvm_mock_vm_state panthor_mock_vm_state(int fd, uint32_t vm);

#endif
