// SPDX-License-Identifier: MIT
/*
 * GPU memory accesses: bytes moved between a VM's GPU VAs and the device's
 * memory through the slot's TLB and MMU, as a job's loads and stores are.
 * The mock-only GPU-access ioctl is one; the command-stream interpreter's
 * loads, stores and fetches are others.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mock_vm.h"

/*
 * One page (or less) of an access: translate, then move the bytes under
 * dev->lock (BO memory cannot go away meanwhile). A PA outside every BO is a
 * bus fault. Returns the fault status (0: moved), or -EFAULT from @x.
 */
static int access_chunk(struct mock_vm *vm, unsigned int slot, const struct mock_access *a,
			uint64_t done, uint64_t n)
{
	struct mockdrm_dev *dev = vm->dev;
	struct mock_xlate x;
	void *host;
	int err;

	mock_as_translate(&dev->gpu, slot, a->va + done, a->type, &x);
	if (x.fault)
		return (int)x.fault;
	pthread_mutex_lock(&dev->lock);
	host = mock_phys_to_host(dev, x.pa, n);
	err = host ? a->move(a->ctx, host, done, n) : 0;
	pthread_mutex_unlock(&dev->lock);
	if (!host)
		return (int)mock_fault(MOCK_FAULT_BUS, a->type);
	return err;
}

/**
 * mock_gpu_access() - the GPU accesses [a->va, a->va + a->size) of @vm in
 * @slot (the VM is active there), in address order, stopping at a fault.
 * @vm: the VM.
 * @slot: its slot, from mock_vm_activate().
 * @a: the access; a->done and a->fault_va are set.
 *
 * A fault is handled as the hardware's interrupt is (mock_vm_fault()).
 * Return: 0 or the FAULTSTATUS of the fault; -EFAULT when a->move failed.
 */
int mock_gpu_access(struct mock_vm *vm, unsigned int slot, struct mock_access *a)
{
	int ret = 0;

	a->done = 0;
	a->fault_va = 0;
	while (a->done < a->size && !ret) {
		uint64_t va = a->va + a->done;
		uint64_t room = MOCK_PAGE - (va & (MOCK_PAGE - 1));
		uint64_t n = room < a->size - a->done ? room : a->size - a->done;

		ret = access_chunk(vm, slot, a, a->done, n);
		if (!ret)
			a->done += n;
	}
	if (ret > 0) {
		a->fault_va = a->va + a->done;
		mock_vm_fault(vm, slot);
	}
	return ret;
}

/* The ioctl's access: its arguments, and a WRITE's bytes copied in. */
struct user_access {
	const struct gpuvm_mock_gpu_access *a;
	const unsigned char *in;
};

/* The ioctl's bytes: to the caller's buffer, from its copy, or a fill value. */
static int move_user(void *ctx, void *host, uint64_t done, uint64_t n)
{
	const struct user_access *u = ctx;

	switch (u->a->op) {
	case GPUVM_MOCK_GPU_ACCESS_READ:
		return mock_copy_to_user(u->a->data + done, host, n);
	case GPUVM_MOCK_GPU_ACCESS_WRITE:
		memcpy(host, u->in + done, n);
		return 0;
	default:
		memset(host, (int)u->a->fill, n);
		return 0;
	}
}

/*
 * A WRITE's bytes, copied in whole before the GPU stores any: a buffer that
 * becomes unreadable part-way fails the ioctl with -EFAULT and no byte of
 * memory changed, as a kernel ioctl copies its input before acting on it.
 */
static int copy_in(const struct gpuvm_mock_gpu_access *a, unsigned char **in)
{
	*in = NULL;
	if (a->op != GPUVM_MOCK_GPU_ACCESS_WRITE)
		return 0;
	if (a->size > SIZE_MAX || !(*in = mock_malloc(a->size)))
		return -ENOMEM;
	if (mock_copy_from_user(*in, a->data, a->size)) {
		free(*in);
		*in = NULL;
		return -EFAULT;
	}
	return 0;
}

static int check_access(const struct gpuvm_mock_gpu_access *a)
{
	uint64_t end;

	if (a->op < GPUVM_MOCK_GPU_ACCESS_READ || a->op > GPUVM_MOCK_GPU_ACCESS_FILL)
		return -EINVAL;
	if (!a->size || __builtin_add_overflow(a->va, a->size, &end))
		return -EINVAL;
	if (a->op == GPUVM_MOCK_GPU_ACCESS_FILL ? a->data != 0 || a->fill > 0xff : a->fill != 0)
		return -EINVAL;
	return 0;
}

/*
 * Mock-only: the GPU reads, writes or fills [va, va + size) of a VM as a job
 * would: the VM is made active (given a slot), the bytes go through the TLB,
 * a fault ends the access and is handled like any GPU fault. The ioctl
 * succeeds whether or not the access faulted: @access is the fault status,
 * @done the bytes moved before it.
 */
int mock_ioctl_gpu_access(struct mockdrm_file *f, void *arg)
{
	struct gpuvm_mock_gpu_access *a = arg;
	struct user_access u = { .a = a };
	struct mock_access acc;
	struct mock_vm *vm;
	unsigned int slot;
	int ret = check_access(a);

	if (ret)
		return ret;
	vm = mock_vm_lookup(f, a->vm_id);
	if (!vm)
		return -EINVAL;
	ret = copy_in(a, (unsigned char **)&u.in);
	if (ret) {
		mock_vm_put(vm);
		return ret;
	}
	acc = (struct mock_access){
		.va = a->va,
		.size = a->size,
		.type = a->op == GPUVM_MOCK_GPU_ACCESS_READ ? MOCK_ACCESS_READ : MOCK_ACCESS_WRITE,
		.move = move_user,
		.ctx = &u,
	};
	slot = mock_vm_activate(vm);
	ret = mock_gpu_access(vm, slot, &acc);
	mock_vm_idle(vm);
	mock_vm_put(vm);
	free((void *)u.in);
	if (ret < 0)
		return ret;
	a->access = (uint32_t)ret;
	a->fault_addr = acc.fault_va;
	a->done = acc.done;
	return 0;
}

/*
 * A counter as it is now, and zeroed with @reset: workers add to the counters
 * with atomic adds meanwhile, so each is read (and reset) with one atomic
 * access; an add is either in the value read or counted after the reset.
 */
static uint64_t take(uint64_t *counter, bool reset)
{
	if (reset)
		return __atomic_exchange_n(counter, 0, __ATOMIC_RELAXED);
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

int mock_ioctl_stats(struct mockdrm_file *f, void *arg)
{
	struct gpuvm_mock_stats *a = arg;
	struct mock_as_stats *s = &f->dev->gpu.stats;
	bool r = a->flags & GPUVM_MOCK_STATS_RESET;

	if (a->flags & ~GPUVM_MOCK_STATS_RESET || a->pad || a->pad2)
		return -EINVAL;
	/* first_stale_va first: it is set after the stale count becomes 1. */
	a->first_stale_va = take(&s->first_stale_va, r);
	a->tlb_hits = take(&s->tlb_hits, r);
	a->tlb_misses = take(&s->tlb_misses, r);
	a->stale_translations = take(&s->stale, r);
	a->freed_table_walks = take(&s->freed_walks, r);
	a->as_updates = take(&s->updates, r);
	a->as_locks = take(&s->locks, r);
	a->as_unlocks = take(&s->unlocks, r);
	a->as_flush_pt = take(&s->flush_pt, r);
	a->as_flush_mem = take(&s->flush_mem, r);
	a->pt_flushes = take(&s->flush_ops, r);
	a->skipped_flushes = take(&s->skipped_flushes, r);
	a->cache_flushes = take(&s->cache_flushes, r);
	a->cache_flushes_skipped = take(&s->cache_flushes_skipped, r);
	a->bo_sync_ops = __atomic_load_n(&f->dev->bo_sync_ops, __ATOMIC_RELAXED);
	a->bo_sync_lines = __atomic_load_n(&f->dev->bo_sync_lines, __ATOMIC_RELAXED);
	a->latest_flush_id = mock_gpu_flush_id(&f->dev->gpu);
	a->activations = take(&s->activations, r);
	a->evictions = take(&s->evictions, r);
	a->faults = take(&s->faults, r);
	a->lock_waits = take(&s->lock_waits, r);
	return 0;
}

int mock_ioctl_vm_state(struct mockdrm_file *f, void *arg)
{
	struct gpuvm_mock_vm_state *a = arg;
	struct mock_vm *vm;

	if (a->pad)
		return -EINVAL;
	vm = mock_vm_lookup(f, a->vm_id);
	if (!vm)
		return -EINVAL;
	pthread_mutex_lock(&f->dev->as_lock);
	a->as_slot = vm->as_slot;
	a->users = vm->users;
	a->faulted = vm->faulted;
	a->fault_status = vm->fault_status;
	a->fault_addr = vm->fault_addr;
	a->fault_count = vm->fault_count;
	pthread_mutex_unlock(&f->dev->as_lock);
	mock_vm_put(vm);
	return 0;
}

/*
 * Mock-only: a copy of one table of a VM's tree, and the tree's size, for
 * tools that draw it. Under the VM's lock, so that no bind of the VM is
 * half-applied in the copy.
 */
int mock_ioctl_pt_read(struct mockdrm_file *f, void *arg)
{
	struct gpuvm_mock_pt_read *a = arg;
	struct pt_geometry geo;
	struct pt_stats st;
	struct pt_hw_regs regs;
	struct mock_vm *vm;
	struct pt *pt;
	uint64_t pa;
	size_t size;
	int err = 0;

	if (a->flags || a->pad)
		return -EINVAL;
	vm = mock_vm_lookup(f, a->vm_id);
	if (!vm)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	pt = gvm_get_pt(vm->gvm);
	pt_get_regs(pt, &regs);
	pt_get_stats(pt, &st);
	pt_get_geometry(pt, &geo);
	pa = a->pa ? a->pa : regs.mali.transtab;
	size = pa == regs.mali.transtab ? geo.top_bytes : (size_t)1 << geo.granule_lg2;
	if (!mock_table_live(&f->dev->gpu, pa))
		err = -ENOENT;
	else if (a->data && a->size < size)
		err = -EINVAL;
	else if (a->data)
		err = mock_copy_to_user(a->data, pt_pool_pa_to_cpu(f->dev->gpu.tables, pa), size);
	pthread_mutex_unlock(&vm->lock);
	mock_vm_put(vm);
	if (err)
		return err;
	a->size = (uint32_t)size;
	a->root_pa = regs.mali.transtab;
	a->table_pages = st.tables;
	a->table_bytes = st.table_bytes;
	return 0;
}
