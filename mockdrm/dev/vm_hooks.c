// SPDX-License-Identifier: MIT
/*
 * The VM's bookkeeping through gvm's driver hooks (gvm.h, DOC: driver hooks),
 * as panthor keeps its own through drm_gpuvm's:
 *
 * - object references: a VM-object link holds one on its BO (bo_init/
 *   bo_free), as panthor's drm_gpuvm_bo does, and each VA one more, taken
 *   when an op creates it (op_prepare) and dropped when the op that removed
 *   it is cleaned up, or when its own op is given up (op_cleanup);
 * - maps into an unusable VM fail at prepare (op_prepare), whatever asks for
 *   them: VM_BIND, a synchronous bind queued behind jobs that made the VM
 *   unusable, a kernel mapping (heap.c);
 * - each link counts the VAs of its BO committed in the VM (op_commit, inside
 *   the commit): implicit sync (dmabuf.c) walks the VM's external objects
 *   (gvm's extobj list: BOs not private to the VM, gvm_cfg.resv_id) and
 *   takes those mapped.
 *
 * Every callback runs under vm->lock (the gvm's writer) or inside gvm_destroy()
 * with the VM's last reference.
 */
#include <errno.h>

#include "mock_vm.h"

/* The driver's area of a link. */
struct mock_vm_bo {
	uint64_t mapped; /* committed VAs of the BO in the VM */
};

static struct mock_bo *bo_of(struct gvm_va *va)
{
	return (struct mock_bo *)va->bo->obj;
}

/* The VAs @top created: its MAP's, or its REMAP's pieces. */
static unsigned int new_vas(const struct gvm_txn_op *top, struct gvm_va *vas[2])
{
	unsigned int n = 0;

	if (top->map_va)
		vas[n++] = top->map_va;
	if (top->prev_va)
		vas[n++] = top->prev_va;
	if (top->next_va)
		vas[n++] = top->next_va;
	return n;
}

static int vm_op_prepare(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	struct mock_vm *vm = gvm_driver_ctx(gvm_txn_vm(txn));
	struct gvm_va *vas[2];

	/* The queue given up: an unusable VM refuses maps, not unmaps (vm.c). */
	if (top->op.type == GVM_OP_MAP && vm->unusable)
		return -EINVAL;
	for (unsigned int i = new_vas(top, vas); i--;)
		mock_bo_get(bo_of(vas[i]));
	return 0;
}

static void vm_op_cleanup(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	struct gvm_va *vas[2];

	if (gvm_txn_committed(txn)) {
		if (top->op.old)
			mock_bo_put(bo_of(top->op.old));
		return;
	}
	for (unsigned int i = new_vas(top, vas); i--;)
		mock_bo_put(bo_of(vas[i]));
}

static void count_mapped(struct gvm_va *va, int by)
{
	struct mock_vm_bo *vb = gvm_bo_priv(va->bo);

	vb->mapped += (uint64_t)(int64_t)by;
}

/* Inside the commit: counts only. */
static void vm_op_commit(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	struct gvm_va *vas[2];

	(void)txn;
	if (top->op.old)
		count_mapped(top->op.old, -1);
	for (unsigned int i = new_vas(top, vas); i--;)
		count_mapped(vas[i], 1);
}

static void vm_bo_init(struct gvm_bo *bo)
{
	mock_bo_get((struct mock_bo *)bo->obj);
}

static void vm_bo_free(struct gvm_bo *bo)
{
	mock_bo_put((struct mock_bo *)bo->obj);
}

const struct gvm_driver_ops mock_vm_driver_ops = {
	.bo_priv_size = sizeof(struct mock_vm_bo),
	.op_prepare = vm_op_prepare,
	.op_commit = vm_op_commit,
	.op_cleanup = vm_op_cleanup,
	.bo_init = vm_bo_init,
	.bo_free = vm_bo_free,
};

/**
 * mock_vm_bo_mapped() - is a link's BO mapped (committed VAs) in its VM?
 * @bo: a link of a mock VM.
 *
 * Context: vm->lock.
 * Return: true when at least one committed VA maps it.
 */
bool mock_vm_bo_mapped(struct gvm_bo *bo)
{
	return ((struct mock_vm_bo *)gvm_bo_priv(bo))->mapped != 0;
}
