/* SPDX-License-Identifier: MIT */
/*
 * gpuvm mock DRM device: a model Mali-G610 (panthor) device that runs in the
 * calling process. Its ioctls run gpuvm's VA manager and page tables; its MMU
 * walks those tables by physical address like the hardware.
 *
 * Programs normally reach it through the LD_PRELOAD shim (libgpuvm-mockdrm-
 * shim.so), which presents /dev/dri/card0 and /dev/dri/renderD128 and forwards
 * ioctl and mmap here. Tests may also call it directly.
 *
 * DOC: errors
 *
 * mockdrm_ioctl() returns 0 or a negative errno, like a kernel ioctl handler;
 * the shim turns that into -1 and errno. A failed ioctl leaves every object
 * as it was.
 */
#ifndef GPUVM_MOCKDRM_H
#define GPUVM_MOCKDRM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mockdrm_dev;
struct mockdrm_file;

/* DRM minor types, as the node's minor number >> 6. */
enum mockdrm_node {
	MOCKDRM_NODE_PRIMARY = 0,
	MOCKDRM_NODE_RENDER = 2,
};

/**
 * struct mockdrm_cfg - the device.
 * @phys_base/@phys_size: simulated physical memory for BOs (0: 4 GiB at 4 GiB).
 * @table_base: simulated physical base of page-table memory (0: 1 GiB); table
 *	memory comes from a pool above it, below @phys_base.
 * @as_present: address-space slots, as GPU_INFO's as_present (0: 0xff, eight
 *	slots; slot 0 is the firmware's, so VMs share the others).
 * @tlb_mode: MOCKDRM_TLB_STRICT (0, the default) re-walks the tables on every
 *	TLB hit and counts differences; MOCKDRM_TLB_FAST trusts the TLB.
 * @debug_skip_flush_every: tests only: drop every Nth page-table flush (0:
 *	none), as a driver with a missing flush would; strict mode must see it.
 * @job_timeout_ms: a job still running (a SYNC_WAIT not satisfied) after this
 *	long is stopped and its group marked TIMEDOUT (0: 5000). A synchronous
 *	VM_BIND waits at most this long for the async binds queued before it
 *	(then -ETIMEDOUT, nothing applied).
 * @debug: log unhandled ioctls to stderr.
 */
struct mockdrm_cfg {
	uint64_t phys_base, phys_size;
	uint64_t table_base;
	uint32_t as_present;
	unsigned int tlb_mode;
	unsigned int debug_skip_flush_every;
	unsigned int job_timeout_ms;
	bool debug;
};

enum {
	MOCKDRM_TLB_STRICT = 0,
	MOCKDRM_TLB_FAST = 1,
};

/**
 * mockdrm_dev_create() - create a device.
 * @cfg: configuration, or NULL for the defaults.
 * @out: the device.
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int mockdrm_dev_create(const struct mockdrm_cfg *cfg, struct mockdrm_dev **out);

/**
 * mockdrm_dev_destroy() - destroy a device; every file must be closed.
 * @dev: the device, or NULL.
 */
void mockdrm_dev_destroy(struct mockdrm_dev *dev);

/**
 * mockdrm_open() - open the device: one open file, with its own handles.
 * @dev: the device.
 * @node: which node was opened.
 * @out: the file.
 *
 * Return: 0, -ENOMEM.
 */
int mockdrm_open(struct mockdrm_dev *dev, enum mockdrm_node node, struct mockdrm_file **out);

/**
 * mockdrm_close() - close an open file: its handles, VMs and groups go.
 * @file: the file, or NULL.
 */
void mockdrm_close(struct mockdrm_file *file);

/**
 * mockdrm_ioctl() - run one ioctl.
 * @file: the open file.
 * @request: the ioctl request number (direction, size, type 'd', number).
 * @arg: the caller's argument; read and written with the size the request
 *	encodes. Smaller than the kernel's: zero-extended. Larger: the generic
 *	DRM ioctls ignore the excess, as drm_ioctl() does; driver ioctls
 *	(panthor's and the mock's) refuse a nonzero byte past their struct
 *	with -E2BIG.
 *
 * Context: may block (syncobj waits); safe from several threads.
 * Return: 0 or a negative errno.
 */
int mockdrm_ioctl(struct mockdrm_file *file, unsigned long request, void *arg);

/**
 * mockdrm_mmap_lookup() - what an mmap of the DRM fd at @offset maps.
 * @file: the open file.
 * @offset: the fake offset (from BO_MMAP_OFFSET).
 * @length: bytes to map.
 * @fd: a file descriptor to mmap instead (the BO's memory; owned by the device).
 * @fd_offset: the offset in it.
 *
 * The file's user MMIO offset (DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET, or what
 * SET_USER_MMIO_OFFSET chose) maps the GPU's LATEST_FLUSH_ID page: one page,
 * a memfd sealed against writable mappings; check the mapping's protection
 * with mockdrm_mmap_check() first.
 *
 * Return: 0; -EINVAL when the range is not inside one BO's mapping, or the BO
 * was created with NO_MMAP, or is not exactly the flush-ID page.
 */
int mockdrm_mmap_lookup(struct mockdrm_file *file, uint64_t offset, uint64_t length, int *fd,
			uint64_t *fd_offset);

/**
 * mockdrm_debugfs_show() - the contents of a file of the device's DRM debugfs
 * directory (dri/<minor>/ of either node: the kernel shows the same files).
 * @dev: the device.
 * @name: "name" (driver, device and unique names) or "clients" (a header
 *	line, then one line per open file, oldest first: command, tgid, minor,
 *	current master y/n, authenticated y/n, uid, magic, client name, id).
 * @out: where to write them.
 *
 * Context: takes the device's lock; reads /proc for the clients' commands.
 * Return: 0; -ENOENT for another name; -ENOMEM.
 */
int mockdrm_debugfs_show(struct mockdrm_dev *dev, const char *name, FILE *out);

/**
 * mockdrm_mmap_check() - the rules of mmap() on the DRM fd that depend on the
 * protection and flags: the flush-ID page only maps one page, MAP_SHARED,
 * without PROT_WRITE or PROT_EXEC.
 * @file: the open file.
 * @offset: the file offset.
 * @length: bytes.
 * @prot: mmap()'s prot.
 * @flags: mmap()'s flags.
 *
 * Context: any thread.
 * Return: 0 or -EINVAL.
 */
int mockdrm_mmap_check(struct mockdrm_file *file, uint64_t offset, uint64_t length, int prot,
		       int flags);

/**
 * mockdrm_dump() - write the device's state for a human: its BOs (physical
 * address, size, flags, references, imported or not, BO_SET_LABEL's label)
 * and LATEST_FLUSH_ID.
 * @dev: the device.
 * @out: the stream to write to.
 *
 * Context: takes the device's lock.
 */
void mockdrm_dump(struct mockdrm_dev *dev, FILE *out);

/**
 * mockdrm_fd_ioctl() - an ioctl on an fd the mock made that is not a DRM file.
 * @fd: the fd: a sync file (from SYNCOBJ_HANDLE_TO_FD with EXPORT_SYNC_FILE,
 *	SYNC_IOC_MERGE or sw_sync), or any other fd.
 * @request: the request (SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, ...).
 * @arg: the caller's argument.
 *
 * Such fds are real kernel objects (poll, dup, close and fork work on them
 * as usual), found again by their inode in any thread; only their ioctls
 * need the mock. The shim forwards ioctls of these types to it.
 *
 * Context: may block briefly; safe from several threads.
 * Return: 0 or a negative errno; -ENOTTY when @fd is not such an fd of the
 * mock (the caller should then make the real ioctl).
 */
int mockdrm_fd_ioctl(int fd, unsigned long request, void *arg);

struct mockdrm_sw_sync;

/**
 * mockdrm_sw_sync_open() - a sw_sync timeline, as an open of debugfs
 * sync/sw_sync gives: it starts at 0.
 * @out: the timeline.
 *
 * Its fences are sync files that every device of the process accepts.
 *
 * Return: 0, -ENOMEM.
 */
int mockdrm_sw_sync_open(struct mockdrm_sw_sync **out);

/**
 * mockdrm_sw_sync_ioctl() - SW_SYNC_IOC_CREATE_FENCE (_IOWR('W', 0,
 * {u32 value; char name[32]; s32 fence})) or SW_SYNC_IOC_INC (_IOW('W', 1, u32)).
 * @tl: the timeline.
 * @request: the request.
 * @arg: the caller's argument.
 *
 * Return: 0 or a negative errno (-ENOTTY for another request, -EFAULT).
 */
int mockdrm_sw_sync_ioctl(struct mockdrm_sw_sync *tl, unsigned long request, void *arg);

/**
 * mockdrm_sw_sync_close() - the last close of a timeline's fd: its pending
 * fences signal with -ENOENT.
 * @tl: the timeline, or NULL.
 */
void mockdrm_sw_sync_close(struct mockdrm_sw_sync *tl);

/**
 * mockdrm_fork_prepare() - hold the device still across fork().
 * @dev: the device.
 *
 * For pthread_atfork() handlers (the shim installs them): call this before
 * fork(), then mockdrm_fork_parent() in the parent and mockdrm_fork_child()
 * in the child. The child gets its own copy of the device, as it was, whose
 * queued binds run in the child; only BO memory stays shared.
 */
void mockdrm_fork_prepare(struct mockdrm_dev *dev);
void mockdrm_fork_parent(struct mockdrm_dev *dev);
void mockdrm_fork_child(struct mockdrm_dev *dev);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_MOCKDRM_H */
