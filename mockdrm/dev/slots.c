// SPDX-License-Identifier: MIT
/*
 * Address-space slots, the driver side: what panthor_mmu.c does on a real
 * device (mali.md section 2), against the model's registers (gpu/as.c).
 *
 * DOC: slots
 *
 * A VM gets a slot when it becomes active (a job on it starts) and keeps it
 * when idle, in an LRU. Activation takes, in order: the VM's own slot; the
 * lowest free slot (never slot 0: the firmware's); the slot of the least
 * recently idle VM, which is evicted; else it waits for one of those. A slot
 * is programmed as panthor does: TRANSTAB, MEMATTR, TRANSCFG, then UPDATE.
 *
 * The VM's page table flush ops (pgtable calls them after every change, with
 * the exact ranges) issue the Mali protocol on the slot: LOCKADDR over the
 * range, LOCK, a cache flush, UNLOCK, which drops the region's translations.
 * A VM without a slot has nothing cached: its flushes are memory-only, and
 * the UPDATE that gives it a slot later starts from an empty TLB.
 *
 * A fault in a slot is handled as panthor's IRQ handler does: the status and
 * address are recorded in the VM, the slot is disabled (UNMAPPED, UPDATE)
 * while the VM keeps it, and the next activation re-enables it and clears the
 * fault. Groups on the VM see it (GROUP_GET_STATE: FATAL_FAULT).
 *
 * Lock order: vm->lock, dev->as_lock, as->lock (mock_internal.h).
 */
#include <stdlib.h>

#include "mock_vm.h"

static void lru_remove(struct mockdrm_dev *dev, struct mock_vm *vm)
{
	if (vm->lru_prev)
		vm->lru_prev->lru_next = vm->lru_next;
	else if (dev->lru_head == vm)
		dev->lru_head = vm->lru_next;
	if (vm->lru_next)
		vm->lru_next->lru_prev = vm->lru_prev;
	else if (dev->lru_tail == vm)
		dev->lru_tail = vm->lru_prev;
	vm->lru_prev = vm->lru_next = NULL;
}

static void lru_append(struct mockdrm_dev *dev, struct mock_vm *vm)
{
	vm->lru_prev = dev->lru_tail;
	vm->lru_next = NULL;
	if (dev->lru_tail)
		dev->lru_tail->lru_next = vm;
	else
		dev->lru_head = vm;
	dev->lru_tail = vm;
}

/* The whole VA space: what flush_all and a disable lock. */
#define FULL_VA (1ull << MOCK_VA_BITS)

static void region_flush(struct mockdrm_dev *dev, unsigned int slot, uint64_t va, uint64_t size)
{
	mock_as_write(&dev->gpu, slot, MOCK_AS_LOCKADDR, mock_as_lockaddr(va, size));
	mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_LOCK);
	mock_gpu_cache_flush(&dev->gpu); /* GPU_CMD: L2 and LSC clean+invalidate */
	mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_UNLOCK);
}

static void program_slot(struct mockdrm_dev *dev, unsigned int slot, struct mock_vm *vm)
{
	struct pt_regs regs;

	pt_get_regs(gvm_get_pt(vm->gvm), &regs);
	mock_as_write(&dev->gpu, slot, MOCK_AS_TRANSTAB, regs.mali.transtab);
	mock_as_write(&dev->gpu, slot, MOCK_AS_MEMATTR, regs.mali.memattr);
	mock_as_write(&dev->gpu, slot, MOCK_AS_TRANSCFG, regs.mali.transcfg);
	mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_UPDATE);
}

/* Flush everything, then make the slot translate nothing. */
static void disable_slot(struct mockdrm_dev *dev, unsigned int slot)
{
	mock_as_write(&dev->gpu, slot, MOCK_AS_LOCKADDR, mock_as_lockaddr(0, FULL_VA));
	mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_FLUSH_MEM);
	mock_as_write(&dev->gpu, slot, MOCK_AS_TRANSTAB, 0);
	mock_as_write(&dev->gpu, slot, MOCK_AS_MEMATTR, 0);
	mock_as_write(&dev->gpu, slot, MOCK_AS_TRANSCFG, MOCK_TRANSCFG_ADRMODE_UNMAPPED);
	mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_UPDATE);
}

/* Take @vm's slot away: disabled, detached, free (dev->as_lock held; @vm idle). */
static void take_slot(struct mockdrm_dev *dev, struct mock_vm *vm)
{
	unsigned int slot = (unsigned int)vm->as_slot;

	disable_slot(dev, slot);
	gvm_detach(vm->gvm);
	lru_remove(dev, vm);
	dev->gpu.as[slot].vm = NULL;
	vm->as_slot = -1;
}

static void evict(struct mockdrm_dev *dev, struct mock_vm *vm)
{
	take_slot(dev, vm);
	mock_stat_add(dev, evictions, 1);
}

/* A slot for @vm: a free one, or an idle VM's. -1 when every slot is busy. */
static int find_slot(struct mockdrm_dev *dev)
{
	for (unsigned int slot = 1; slot < dev->gpu.as_count; slot++)
		if (!dev->gpu.as[slot].vm)
			return (int)slot;
	if (dev->lru_head) {
		int slot = dev->lru_head->as_slot;

		evict(dev, dev->lru_head);
		return slot;
	}
	return -1;
}

static void assign_slot(struct mockdrm_dev *dev, struct mock_vm *vm, unsigned int slot)
{
	dev->gpu.as[slot].vm = vm;
	vm->as_slot = (int)slot;
	program_slot(dev, slot, vm);
	if (gvm_attach(vm->gvm, slot))
		abort(); /* the VM had no slot: the backend cannot refuse */
}

/**
 * mock_vm_activate() - a job starts using @vm: make sure it holds an enabled slot.
 * @vm: the VM.
 *
 * Context: may wait until a slot is free or idle.
 * Return: the slot.
 */
unsigned int mock_vm_activate(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;
	int slot = -1;

	pthread_mutex_lock(&dev->as_lock);
	while (vm->as_slot < 0 && (slot = find_slot(dev)) < 0)
		pthread_cond_wait(&dev->as_cond, &dev->as_lock);
	if (vm->as_slot < 0)
		assign_slot(dev, vm, (unsigned int)slot);
	else if (vm->faulted)
		program_slot(dev, (unsigned int)vm->as_slot, vm);
	vm->faulted = false;
	if (!vm->users++)
		lru_remove(dev, vm);
	slot = vm->as_slot;
	mock_stat_add(dev, activations, 1);
	pthread_mutex_unlock(&dev->as_lock);
	return (unsigned int)slot;
}

/** mock_vm_idle() - a job on @vm ended; the last one puts the VM in the LRU. */
void mock_vm_idle(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;

	pthread_mutex_lock(&dev->as_lock);
	if (!--vm->users) {
		lru_append(dev, vm);
		pthread_cond_broadcast(&dev->as_cond);
	}
	pthread_mutex_unlock(&dev->as_lock);
}

/**
 * mock_vm_fault() - the MMU interrupt for a fault of @vm's access in @slot:
 * record it in the VM and disable the slot, as panthor's handler does.
 */
void mock_vm_fault(struct mock_vm *vm, unsigned int slot)
{
	struct mockdrm_dev *dev = vm->dev;
	bool handled = false;

	pthread_mutex_lock(&dev->as_lock);
	if (vm->as_slot == (int)slot && !vm->faulted) {
		handled = true;
		vm->fault_status = (uint32_t)mock_as_read(&dev->gpu, slot, MOCK_AS_FAULTSTATUS);
		vm->fault_addr = mock_as_read(&dev->gpu, slot, MOCK_AS_FAULTADDRESS);
		vm->faulted = true;
		vm->fault_count++;
		disable_slot(dev, slot);
		mock_stat_add(dev, faults, 1);
	}
	pthread_mutex_unlock(&dev->as_lock);
	if (handled)
		mock_groups_vm_faulted(vm);
}

/** mock_vm_release_slot() - @vm goes away: its slot is free again. */
void mock_vm_release_slot(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;

	pthread_mutex_lock(&dev->as_lock);
	if (vm->as_slot >= 0) {
		take_slot(dev, vm);
		pthread_cond_broadcast(&dev->as_cond);
	}
	pthread_mutex_unlock(&dev->as_lock);
}

/*
 * The debug knob of struct mockdrm_cfg: drop every Nth flush, to show that
 * strict mode sees what a driver with a missing flush would break.
 */
static bool skip_flush(struct mockdrm_dev *dev)
{
	unsigned int every = dev->cfg.debug_skip_flush_every;
	uint64_t n = mock_stat_add(dev, flush_ops, 1);

	if (!every || n % every)
		return false;
	mock_stat_add(dev, skipped_flushes, 1);
	return true;
}

static void vm_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct mock_vm *vm = ctx;
	struct mockdrm_dev *dev = vm->dev;

	(void)leaf_only; /* a Mali region flush drops cached table entries too */
	if (skip_flush(dev))
		return;
	pthread_mutex_lock(&dev->as_lock);
	if (vm->as_slot >= 0)
		region_flush(dev, (unsigned int)vm->as_slot, va, size);
	pthread_mutex_unlock(&dev->as_lock);
}

static void vm_flush_all(void *ctx)
{
	vm_flush_range(ctx, 0, FULL_VA, false);
}

const struct pt_flush_ops mock_vm_flush_ops = {
	.flush_range = vm_flush_range,
	.flush_all = vm_flush_all,
};
