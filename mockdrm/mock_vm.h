/* SPDX-License-Identifier: MIT */
/* Private to mockdrm/: a VM and its bind queue (mock_vm.c, mock_bind.c). */
#ifndef GPUVM_MOCK_VM_H
#define GPUVM_MOCK_VM_H

#include "mock_internal.h"

/* One queued VM_BIND op (async) or array (sync): prepared, waiting to commit. */
struct mock_bind_job {
	struct mock_bind_job *next;
	struct gvm_txn *txn;
	struct mock_fence **waits;
	unsigned int nr_waits;
	struct mock_fence *done; /* in the output syncobjs already */
};

struct mock_vm {
	struct mockdrm_dev *dev;
	unsigned int refs;
	uint64_t serial; /* never reused: what an exclusive BO remembers */
	struct gvm *gvm;
	uint64_t user_range;
	pthread_mutex_t lock; /* the gvm's one writer, the queue, the state */
	pthread_cond_t cond;  /* a job finished */
	struct mock_bind_job *head, *tail;
	bool worker_running;
	bool unusable;
	struct mock_vm *live_prev, *live_next; /* dev->vms, under dev->vms_lock */
};

void mock_vm_get(struct mock_vm *vm);
void mock_vm_fork_child(struct mock_vm *vm);
int mock_vm_start_worker(struct mock_vm *vm);
void mock_vm_queue(struct mock_vm *vm, struct mock_bind_job *job);

#endif /* GPUVM_MOCK_VM_H */
