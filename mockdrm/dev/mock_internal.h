/* SPDX-License-Identifier: MIT */
/*
 * Private to mockdrm/dev/: the model device - the driver side (files, BOs, VMs,
 * binds, slot ownership, groups, ioctls) over the GPU of mockdrm/gpu/ and
 * the synchronization domain of mockdrm/sync/.
 *
 * DOC: memory model
 *
 * The device has a simulated physical address space:
 *
 *   table_base          phys_base                   phys_base + phys_size
 *   | page-table pool   | BO pages (one contiguous  |
 *   | (pt_pool)         |  range per BO)            |
 *
 * Page tables come from a pt_pool whose simulated PAs lie below phys_base, so
 * the MMU model reads a table by PA through pt_pool_pa_to_cpu(), exactly as
 * the hardware follows descriptors. A BO's pages live in a memfd that the
 * device maps once; the MMU turns a BO PA into a pointer into that mapping,
 * and mmap of the DRM fd maps the same memfd, so the CPU and the GPU see the
 * same bytes.
 *
 * DOC: locking
 *
 * dev->lock protects files' handle tables, the BO list and the allocators.
 * Each VM has its own lock (one writer for its gvm) and a bind-queue worker.
 * Syncobjs have their own domain (mock_sync.h). Slots have dev->as_lock (who
 * holds which) and a lock each (registers, TLB). Groups have a lock each.
 * Lock order: dev->vms_lock, vm->lock, dev->as_lock, as->lock, dev->lock,
 * group->lock, the sync lock, the live-table record's lock, dev->workers_lock,
 * the table pool's lock (mockdrm_fork_prepare() takes them all in this order).
 */
#ifndef GPUVM_MOCK_INTERNAL_H
#define GPUVM_MOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <gpuvm/gvm.h>
#include <gpuvm/mockdrm.h>
#include <gpuvm/panthor_drm.h>
#include <gpuvm/pt_pool.h>

#include "mock_alloc.h"
#include "mock_gpu.h"
#include "mock_sync.h"
#include "mock_user.h" /* copies from and to the caller's memory */

#define MOCK_PAGE 4096ull
#define MOCK_MMAP_OFFSET_BASE (1ull << 32) /* the kernel's vma manager starts at 4 GiB */

/* A table of objects by handle or id: non-zero, lowest free first. */
struct mock_idr {
	void **slot;
	uint32_t nr;
};

int mock_idr_alloc(struct mock_idr *idr, void *ptr, uint32_t *id);
void *mock_idr_find(const struct mock_idr *idr, uint32_t id);
void *mock_idr_remove(struct mock_idr *idr, uint32_t id);
void mock_idr_fini(struct mock_idr *idr);

struct mock_vm;
struct mock_group;
struct mock_master;

/*
 * What the DRM core keeps of an open file (core.c), under dev->lock: the
 * kernel's drm_file master, magic and authentication fields.
 */
struct mock_client {
	pid_t pid;                  /* the opener's process, as drm_file's pid */
	uint64_t id;                /* drm_file's client_id: 1, 2, ... in open order */
	uint32_t magic;             /* GET_MAGIC's answer, 0 until asked */
	bool magic_live;            /* @magic may still authenticate (once) */
	bool authenticated;         /* AUTH_MAGIC'd, master once, or CAP_SYS_ADMIN */
	bool is_master;             /* has had a master of its own (drm_file.is_master) */
	bool was_master;            /* has been the device's master (SET_MASTER by pid) */
	struct mock_master *master; /* primary nodes: its master; NULL on render nodes */
};

struct mock_bo {
	struct gvm_obj obj; /* first: the gvm object ops cast back */
	struct mockdrm_dev *dev;
	unsigned int refs; /* handles, VAs, exports; under dev->lock */
	int memfd;
	void *map; /* the device's own mapping of the pages */
	uint64_t size;
	uint64_t pa;
	uint64_t mmap_offset; /* 0 until BO_MMAP_OFFSET */
	uint32_t flags;
	uint64_t exclusive;         /* serial of the only VM it may be mapped in, or 0 */
	ino_t ino;                  /* of the memfd: what PRIME import recognizes */
	bool internal;              /* the device's own (the dummy page) */
	struct mock_dmabuf *dmabuf; /* its dma-buf's entry once exported, imported or used */
	/*
	 * Imported from a dma-buf this device did not export (BO_QUERY_INFO's
	 * IS_IMPORTED). Set where PRIME import wraps a foreign fd in a new BO
	 * (bo.c, mock_ioctl_prime_fd_to_handle()); dma-buf work that adds other
	 * import paths sets it there too.
	 */
	bool imported;
	char *label; /* BO_SET_LABEL's, or NULL (dev->lock) */
};

struct mockdrm_dev {
	struct mockdrm_cfg cfg;
	pthread_mutex_t lock;
	struct mock_gpu gpu;  /* the hardware: slots, table memory, counters */
	struct pt_cfg pt_cfg; /* every VM's page table: panthor's settings for a G610 */
	struct mock_bo **bos; /* by PA, for the MMU */
	unsigned int nr_bos, cap_bos;
	uint64_t next_offset; /* fake mmap offsets, never reused */
	struct mock_sync sync;
	/* Who holds which address-space slot (slots.c). */
	pthread_mutex_t as_lock;             /* slot ownership, the LRU, VM users */
	pthread_cond_t as_cond;              /* a slot may have become free */
	struct mock_vm *lru_head, *lru_tail; /* idle VMs holding a slot */
	uint64_t locked_updates;             /* atomic: what debug_skip_flush_every counts */
	struct mock_group *groups;           /* every group, for VM faults (under @lock) */
	pthread_mutex_t workers_lock;        /* files' worker counts (a leaf lock) */
	pthread_cond_t workers_done;         /* a file's last worker thread ended */
	struct mockdrm_file *files_list;     /* open files, for fork() (under @lock) */
	pthread_mutex_t vms_lock; /* the live VMs, for fork(); taken before any VM's lock */
	struct mock_vm *vms;
	/* VMs whose last reference went, off the live list, still tearing down. */
	unsigned int vms_dying;
	unsigned int files;
	struct mock_master *master; /* the current DRM master, or NULL (core.c; @lock) */
	uint64_t next_client_id;    /* under @lock */
	uint64_t syncs;             /* descriptor runs the table builder cleaned */
	uint64_t flushes;
	uint64_t bo_sync_ops, bo_sync_lines; /* BO_SYNC (atomic adds) */
};

struct mockdrm_file {
	struct mockdrm_dev *dev;
	enum mockdrm_node node;
	struct mock_idr bos;            /* GEM handles */
	struct mock_idr vms;            /* VM ids */
	struct mock_idr fences;         /* mock-only test fences */
	struct mock_idr groups;         /* group handles */
	unsigned int workers;           /* queue threads still running for it (dev->workers_lock) */
	struct mockdrm_file *next_file; /* dev->files_list */
	struct mock_sync_table syncobjs;
	struct mock_client client; /* DRM core state (core.c) */
	uint64_t user_mmio_offset; /* where its flush-ID page is mapped (dev->lock) */
};

/*
 * Sync ops of a submission (syncops.c): fences to wait for, syncobjs
 * to signal with the points' memory already allocated.
 */
struct mock_syncs {
	struct mock_fence **waits;
	unsigned int nr_waits;
	struct mock_syncobj **signals;
	uint64_t *points;
	struct mock_fence **nodes;
	unsigned int nr_signals;
};

int mock_read_elem(const struct drm_panthor_obj_array *arr, uint32_t i, void *dst, size_t ksize,
		   size_t min_size);
int mock_read_array(const struct drm_panthor_obj_array *arr, size_t ksize, size_t min_size,
		    int (*read)(const struct drm_panthor_obj_array *arr, uint32_t i, void *dst),
		    void **out);
/* The signals of the earlier jobs of one array (syncops.c, DOC: in-array chaining). */
struct mock_chain_link {
	struct mock_syncobj *obj;
	uint64_t point;
	struct mock_fence *done;
};

struct mock_chain {
	struct mock_chain_link *links;
	unsigned int n, cap;
};

int mock_chain_add(struct mock_chain *c, const struct mock_syncs *s, struct mock_fence *done);
void mock_chain_fini(struct mock_chain *c);
int mock_syncs_read(struct mock_sync_table *t, const struct drm_panthor_obj_array *arr,
		    struct mock_syncs *s, const struct mock_chain *chain);
void mock_syncs_install(struct mock_syncs *s, struct mock_fence *done);
struct mock_fence **mock_syncs_take_waits(struct mock_syncs *s, unsigned int *n);
void mock_syncs_release(struct mock_syncs *s);
int mock_fences_wait_all(struct mock_fence **fences, unsigned int n, int (*stop)(void *),
			 void *ctx);
/* Worker threads of a file (bind and group queues): counted, waited for at close. */
void mock_worker_start(struct mockdrm_file *f);
void mock_worker_done(struct mockdrm_file *f);
void mock_workers_wait(struct mockdrm_file *f);
void mock_fences_put_all(struct mock_fence **fences, unsigned int n);

/* dma-bufs (dmabuf.c, DOC: dma-bufs). BO memfds are named MOCK_BO_MEMFD_NAME. */
#define MOCK_BO_MEMFD_NAME "mock-bo"
struct stat;
struct mock_dmabuf;
int mock_dmabuf_check_fd(int fd, struct stat *st);
int mock_dmabuf_pages_fd(int fd);
int mock_dmabuf_export(struct mock_bo *bo, uint32_t flags, int *fd_out);
int mock_dmabuf_attach(struct mock_bo *bo);
void mock_dmabuf_put(struct mock_dmabuf *d);
int mock_dmabuf_ioctl(int fd, unsigned long request, void *arg);
int mock_dmabuf_prepare_job(struct mock_bo *bo, struct mock_resv_node **node);
void mock_dmabuf_add_job(struct mock_bo *bo, struct mock_resv_node *node, struct mock_fence *done);
void mock_dmabuf_name(struct mock_bo *bo, char *name);
/* Implicit sync of jobs that may touch every BO of a VM (GROUP_SUBMIT). */
struct mock_implicit {
	struct mock_bo **bos; /* the VM's shareable BOs, referenced */
	unsigned int nr_bos;
	struct mock_resv_node **nodes; /* jobs x nr_bos */
	unsigned int nr_nodes;
};
int mock_implicit_prepare(struct mock_vm *vm, unsigned int jobs, struct mock_implicit *im);
void mock_implicit_add(struct mock_implicit *im, unsigned int job, struct mock_fence *done);
void mock_implicit_release(struct mock_implicit *im);

/* BOs. */
int mock_bo_new(struct mockdrm_dev *dev, uint64_t size, uint32_t flags, struct mock_bo **out);
int mock_bo_new_dummy(struct mockdrm_dev *dev, struct mock_bo **out);
void mock_bo_get(struct mock_bo *bo);
void mock_bo_put(struct mock_bo *bo);
struct mock_bo *mock_bo_lookup(struct mockdrm_file *file, uint32_t handle);
void *mock_phys_to_host(struct mockdrm_dev *dev, uint64_t pa, uint64_t len);
void mock_file_drop_bos(struct mockdrm_file *file);

/* VMs. */
struct mock_vm *mock_vm_lookup(struct mockdrm_file *file, uint32_t id);
void mock_vm_put(struct mock_vm *vm);
struct gvm *mock_vm_gvm(struct mock_vm *vm);
uint64_t mock_vm_serial(const struct mock_vm *vm);
void mock_file_drop_vms(struct mockdrm_file *file);
void mock_file_drop_fences(struct mockdrm_file *file);
void mock_file_drop_groups(struct mockdrm_file *file);
void mock_groups_vm_faulted(struct mock_vm *vm);
void mock_groups_lock_all(struct mockdrm_dev *dev);
void mock_groups_unlock_all(struct mockdrm_dev *dev);
void mock_groups_fork_child(struct mockdrm_dev *dev);

/* DRM core state of a file (core.c): at open, before it is listed; at close. */
int mock_client_open(struct mockdrm_file *f);
void mock_client_close(struct mockdrm_file *f);
bool mock_client_is_master(struct mockdrm_file *f);
bool mock_capable(int cap);
uint32_t mock_group_priority_mask(struct mockdrm_file *f);

#define mock_stat_add(dev, field, n) mock_gpu_stat_add(&(dev)->gpu, field, n)

/* Ioctl handlers: @arg is kernel-sized, zero-extended. 0 or -errno. */
int mock_ioctl_version(struct mockdrm_file *f, void *arg);
int mock_ioctl_get_unique(struct mockdrm_file *f, void *arg);
int mock_ioctl_get_cap(struct mockdrm_file *f, void *arg);
int mock_ioctl_set_client_cap(struct mockdrm_file *f, void *arg);
int mock_ioctl_gem_close(struct mockdrm_file *f, void *arg);
int mock_ioctl_prime_handle_to_fd(struct mockdrm_file *f, void *arg);
int mock_ioctl_prime_fd_to_handle(struct mockdrm_file *f, void *arg);
int mock_ioctl_dev_query(struct mockdrm_file *f, void *arg);
int mock_ioctl_vm_create(struct mockdrm_file *f, void *arg);
int mock_ioctl_vm_destroy(struct mockdrm_file *f, void *arg);
int mock_ioctl_vm_bind(struct mockdrm_file *f, void *arg);
int mock_ioctl_vm_get_state(struct mockdrm_file *f, void *arg);
int mock_ioctl_bo_create(struct mockdrm_file *f, void *arg);
int mock_ioctl_bo_mmap_offset(struct mockdrm_file *f, void *arg);
int mock_ioctl_gpu_access(struct mockdrm_file *f, void *arg);
int mock_ioctl_fence_attach(struct mockdrm_file *f, void *arg);
int mock_ioctl_fence_signal(struct mockdrm_file *f, void *arg);
int mock_ioctl_stats(struct mockdrm_file *f, void *arg);
int mock_ioctl_group_create(struct mockdrm_file *f, void *arg);
int mock_ioctl_group_destroy(struct mockdrm_file *f, void *arg);
int mock_ioctl_group_submit(struct mockdrm_file *f, void *arg);
int mock_ioctl_group_get_state(struct mockdrm_file *f, void *arg);
int mock_ioctl_vm_state(struct mockdrm_file *f, void *arg);
int mock_ioctl_pt_read(struct mockdrm_file *f, void *arg);
/*
 * The request of the dispatch table's @i-th ioctl, 0 past the end: what
 * tests that must cover every ioctl (test-inject) enumerate.
 */
unsigned long mock_ioctl_request(unsigned int i);
/* Generic DRM core ioctls (core.c). */
int mock_ioctl_get_magic(struct mockdrm_file *f, void *arg);
int mock_ioctl_auth_magic(struct mockdrm_file *f, void *arg);
int mock_ioctl_get_client(struct mockdrm_file *f, void *arg);
int mock_ioctl_get_stats(struct mockdrm_file *f, void *arg);
int mock_ioctl_set_master(struct mockdrm_file *f, void *arg);
int mock_ioctl_drop_master(struct mockdrm_file *f, void *arg);
int mock_ioctl_no_dumb(struct mockdrm_file *f, void *arg);
int mock_ioctl_set_user_mmio_offset(struct mockdrm_file *f, void *arg);
int mock_ioctl_bo_set_label(struct mockdrm_file *f, void *arg);
int mock_ioctl_bo_sync(struct mockdrm_file *f, void *arg);
int mock_ioctl_bo_query_info(struct mockdrm_file *f, void *arg);
int mock_ioctl_tiler_heap_create(struct mockdrm_file *f, void *arg);
int mock_ioctl_tiler_heap_destroy(struct mockdrm_file *f, void *arg);

/* The user MMIO page (mmio.c): 1 when @offset is the file's flush-ID page. */
int mock_mmio_lookup(struct mockdrm_file *f, uint64_t offset, uint64_t length, int *fd,
		     uint64_t *fd_offset);

#endif /* GPUVM_MOCK_INTERNAL_H */
