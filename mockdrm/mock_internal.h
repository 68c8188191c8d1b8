/* SPDX-License-Identifier: MIT */
/*
 * Private to mockdrm/: the model device.
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

#include "mock_as.h"
#include "mock_sync.h"

#define MOCK_PAGE 4096ull
#define MOCK_VA_BITS 48
#define MOCK_PA_BITS 40
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

/* Access types of FAULTSTATUS[9:8]. */
#define MOCK_ACCESS_ATOMIC 0u
#define MOCK_ACCESS_EXEC 1u
#define MOCK_ACCESS_READ 2u
#define MOCK_ACCESS_WRITE 3u
#define MOCK_ACCESS_CS_FETCH 4u /* ours: a read that faults as EXEC */

/* Exception types of FAULTSTATUS[7:0] (mali.md section 1). */
#define MOCK_FAULT_TRANSLATION 0xc0u /* + level */
#define MOCK_FAULT_PERMISSION 0xc8u  /* + level */
#define MOCK_FAULT_ACCESS_FLAG 0xd8u /* + level (1-3) */
#define MOCK_FAULT_ADDR_SIZE_IN 0xe0u
#define MOCK_FAULT_ADDR_SIZE_OUT 0xe4u /* + level */
#define MOCK_FAULT_BUS 0x80u

/*
 * FAULTSTATUS for an access of type @access (MOCK_ACCESS_*). A command-stream
 * fetch reports EXEC, though XN does not apply to it (the front end reads
 * the ring, a NOEXEC BO, as data).
 */
static inline uint32_t mock_fault(uint32_t exception, unsigned int access)
{
	return exception | (access == MOCK_ACCESS_CS_FETCH ? MOCK_ACCESS_EXEC : access) << 8;
}

/* The blocks of table memory that are allocated (mock_tables.c). */
struct mock_table_set {
	pthread_mutex_t lock;
	uint64_t *slots;
	size_t cap, n;
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
	uint64_t exclusive; /* serial of the only VM it may be mapped in, or 0 */
	ino_t ino;          /* of the memfd: what PRIME import recognizes */
	bool internal;      /* the device's own (the dummy page) */
};

struct mockdrm_dev {
	struct mockdrm_cfg cfg;
	pthread_mutex_t lock;
	struct pt_pool *tables;
	struct pt_cfg pt_cfg; /* every VM's page table: panthor's settings for a G610 */
	struct mock_bo **bos; /* by PA, for the MMU */
	unsigned int nr_bos, cap_bos;
	uint64_t next_offset; /* fake mmap offsets, never reused */
	struct mock_sync sync;
	struct mock_table_set live_tables;
	/* Address-space slots (mock_as.c, mock_slots.c). */
	struct mock_as as[MOCK_AS_MAX];
	unsigned int as_count;               /* from cfg.as_present */
	pthread_mutex_t as_lock;             /* slot ownership, the LRU, VM users */
	pthread_cond_t as_cond;              /* a slot may have become free */
	struct mock_vm *lru_head, *lru_tail; /* idle VMs holding a slot */
	struct mock_as_stats stats;          /* atomic adds */
	struct mock_group *groups;           /* every group, for VM faults (under @lock) */
	pthread_mutex_t workers_lock;        /* files' worker counts (a leaf lock) */
	pthread_cond_t workers_done;         /* a file's last worker thread ended */
	struct mockdrm_file *files_list;     /* open files, for fork() (under @lock) */
	pthread_mutex_t vms_lock; /* the live VMs, for fork(); taken before any VM's lock */
	struct mock_vm *vms;
	unsigned int files;
	uint64_t syncs; /* descriptor runs the table builder cleaned */
	uint64_t flushes;
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
};

/*
 * Sync ops of a submission (mock_syncops.c): fences to wait for, syncobjs
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
int mock_syncs_read(struct mock_sync_table *t, const struct drm_panthor_obj_array *arr,
		    struct mock_syncs *s);
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

/* Copies from and to the caller's memory: -EFAULT instead of a crash. */
int mock_copy_from_user(void *dst, uint64_t src, size_t len);
int mock_copy_to_user(uint64_t dst, const void *src, size_t len);

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

/* The MMU model: translate one VA of a VM's tables as the hardware would. */
struct mock_xlate {
	uint64_t pa;
	uint32_t fault; /* 0, or FAULTSTATUS: exception | access type << 8 */
};

/* What one walk read: the table at each level, and where it stopped. */
struct mock_walk {
	uint64_t table[4];
	uint64_t desc;      /* the last descriptor read */
	unsigned int level; /* its level */
	uint32_t fault;     /* a walk fault (translation, bus, address size) */
	bool leaf;          /* @desc is a leaf: mock_mmu_leaf() finishes */
	bool freed;         /* some table read was not allocated */
};

void mock_mmu_translate(struct mockdrm_dev *dev, uint64_t transtab, uint64_t va,
			unsigned int access, struct mock_xlate *out);
void mock_mmu_walk(struct mockdrm_dev *dev, uint64_t table, unsigned int level, uint64_t va,
		   unsigned int access, struct mock_walk *w);
void mock_mmu_leaf(uint64_t desc, unsigned int level, uint64_t va, unsigned int access,
		   struct mock_xlate *out);
/* VA bytes one entry of @level covers; the output address of a descriptor. */
uint64_t mock_mmu_span(unsigned int level);
uint64_t mock_mmu_table_pa(uint64_t desc);

/* Table memory: pt_pool behind a record of live blocks. */
extern const struct pt_alloc_ops mock_table_ops;
bool mock_table_live(struct mockdrm_dev *dev, uint64_t pa);
void mock_table_set_fini(struct mock_table_set *s);

#define mock_stat_add(dev, field, n) __atomic_add_fetch(&(dev)->stats.field, (n), __ATOMIC_RELAXED)

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

#endif /* GPUVM_MOCK_INTERNAL_H */
