/* SPDX-License-Identifier: MIT */
/* Private to mockdrm/dev/: a VM and its bind queue (vm.c, bind.c). */
#ifndef GPUVM_MOCK_VM_H
#define GPUVM_MOCK_VM_H

#include "mock_internal.h"

/* One queued VM_BIND op (async) or array (sync): prepared, waiting to commit. */
struct mock_bind_job {
	struct mock_bind_job *next;
	struct gvm_txn *txn;
	uint64_t va, size; /* what the txn's ops cover: the update's lock region */
	struct mock_fence **waits;
	unsigned int nr_waits;
	struct mock_fence *done; /* in the output syncobjs already */
};

/* What a VM's page-table update does on its slot (slots.c, under dev->as_lock). */
enum mock_vm_update {
	MOCK_UPDATE_NONE,    /* no update: flush ops lock, flush, unlock themselves */
	MOCK_UPDATE_LOCKED,  /* region locked (or to lock at activation) until the end */
	MOCK_UPDATE_DROPPED, /* debug_skip_flush_every: no lock, no flush, no UNLOCK */
};

struct mock_vm {
	struct mockdrm_dev *dev;
	struct mockdrm_file *file; /* the file that created it: its worker is counted there */
	unsigned int refs;
	bool closed;     /* destroyed or its file closed: queued jobs are given up */
	uint64_t serial; /* never reused: what an exclusive BO remembers */
	struct gvm *gvm;
	uint64_t user_range;
	pthread_mutex_t lock; /* the gvm's one writer, the queue, the state */
	pthread_cond_t cond;  /* a job finished */
	struct mock_bind_job *head, *tail;
	bool worker_running;
	bool unusable;
	/* Its page table's configuration: the device's, with this VM's flush ops. */
	struct pt_cfg pt_cfg;
	struct mock_bo *dummy; /* what MAP_SPARSE maps */
	/* Address-space slot (slots.c, under dev->as_lock). */
	int as_slot;        /* -1: none */
	unsigned int users; /* jobs running on it; 0: idle, in the LRU if it has a slot */
	struct mock_vm *lru_prev, *lru_next;
	bool faulted; /* an unhandled fault; cleared by the next activation */
	/* A page-table update in progress (DOC: atomic updates, slots.c). */
	enum mock_vm_update update;
	uint64_t update_lockaddr; /* its lock region, as LOCKADDR encodes it */
	uint32_t fault_status;
	uint64_t fault_addr;
	uint64_t fault_count;
	struct mock_vm *live_prev, *live_next; /* dev->vms, under dev->vms_lock */
	struct mock_heap_pool *heaps;          /* tiler heaps (heap.c), under @lock */
};

void mock_vm_get(struct mock_vm *vm);
void mock_vm_fork_child(struct mock_vm *vm);

/*
 * A GPU memory access (access.c): @size bytes at @va of type @type
 * (MOCK_ACCESS_*), each piece moved by @move between the device memory at
 * @host and the access's own buffer at offset @done. @done and @fault_va
 * are outputs.
 */
struct mock_access {
	uint64_t va, size;
	unsigned int type;
	int (*move)(void *ctx, void *host, uint64_t done, uint64_t n);
	void *ctx;
	uint64_t done, fault_va;
};

int mock_gpu_access(struct mock_vm *vm, unsigned int slot, struct mock_access *a);

/* Slots (slots.c). */
extern const struct pt_flush_ops mock_vm_flush_ops;
unsigned int mock_vm_activate(struct mock_vm *vm);
void mock_vm_idle(struct mock_vm *vm);
void mock_vm_fault(struct mock_vm *vm, unsigned int slot);
void mock_vm_release_slot(struct mock_vm *vm);
void mock_vm_update_begin(struct mock_vm *vm, uint64_t va, uint64_t size);
void mock_vm_update_end(struct mock_vm *vm);
void mock_vm_commit(struct mock_vm *vm, struct gvm_txn *txn, uint64_t va, uint64_t size);
int mock_vm_start_worker(struct mock_vm *vm);
int mock_vm_bind_now(struct mock_vm *vm, const struct gvm_req *reqs, unsigned int n);

/* gvm's driver hooks (vm_hooks.c). */
extern const struct gvm_driver_ops mock_vm_driver_ops;
bool mock_vm_bo_mapped(struct gvm_bo *bo);

/* Tiler heaps (heap.c): freed with the VM's last reference. */
void mock_heaps_fini(struct mock_vm *vm);
void mock_vm_queue(struct mock_vm *vm, struct mock_bind_job *job);

#endif /* GPUVM_MOCK_VM_H */
