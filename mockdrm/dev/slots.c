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
 * DOC: atomic updates
 *
 * A bind's commit is one page-table update, done with panthor's atomic
 * scheme (mali.md section 2): mock_vm_update_begin() locks the region
 * covering every op of the transaction (LOCKADDR, LOCK) before the commit
 * writes a descriptor; the flush ops pgtable calls during the commit only
 * flush the caches (GPU_CMD), without re-locking; mock_vm_update_end()
 * releases the region with UNLOCK, which drops its cached translations. GPU
 * accesses to the region stall from LOCK to UNLOCK (gpu/as.c), so no access
 * sees tables the TLB disagrees with. The region is widened at each edge to
 * the 2 MiB block (or the larger block mapped there) around it, as panthor
 * widens partial unmaps of huge pages: pgtable may split a block or unlink
 * an L3 table at an edge, and the TLB entries for those span the block.
 * A VM without a slot records the region anyway: an activation during the
 * update locks it right after the slot's UPDATE, as panthor's does.
 *
 * Flush ops outside an update (VM teardown) issue the original protocol on
 * the slot: LOCKADDR over the range, LOCK, a cache flush, UNLOCK. A VM
 * without a slot has nothing cached: its flushes are memory-only, and the
 * UPDATE that gives it a slot later starts from an empty TLB.
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

static void lock_region(struct mockdrm_dev *dev, unsigned int slot, uint64_t lockaddr)
{
	mock_as_write(&dev->gpu, slot, MOCK_AS_LOCKADDR, lockaddr);
	mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_LOCK);
}

/* Enable @slot for @vm; an update in progress gets its region locked at once. */
static void program_slot(struct mockdrm_dev *dev, unsigned int slot, struct mock_vm *vm)
{
	struct pt_hw_regs regs;

	pt_get_regs(gvm_get_pt(vm->gvm), &regs);
	mock_as_write(&dev->gpu, slot, MOCK_AS_TRANSTAB, regs.mali.transtab);
	mock_as_write(&dev->gpu, slot, MOCK_AS_MEMATTR, regs.mali.memattr);
	mock_as_write(&dev->gpu, slot, MOCK_AS_TRANSCFG, regs.mali.transcfg);
	mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_UPDATE);
	if (vm->update == MOCK_UPDATE_LOCKED)
		lock_region(dev, slot, vm->update_lockaddr);
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

/*
 * A flush op during an update: the region is locked already, so only the
 * caches are flushed. A range outside the region (pgtable flushing more
 * than the ops cover) widens the lock first.
 */
static void flush_in_update(struct mockdrm_dev *dev, struct mock_vm *vm, uint64_t va, uint64_t size)
{
	uint64_t base, region;

	mock_stat_add(dev, flush_ops, 1);
	if (vm->update != MOCK_UPDATE_LOCKED || vm->as_slot < 0)
		return;
	mock_as_lock_region(vm->update_lockaddr, &base, &region);
	if (va < base || va + size > base + region) {
		uint64_t start = va < base ? va : base;
		uint64_t end = va + size > base + region ? va + size : base + region;

		vm->update_lockaddr = mock_as_lockaddr(start, end - start);
		lock_region(dev, (unsigned int)vm->as_slot, vm->update_lockaddr);
	}
	mock_gpu_cache_flush(&dev->gpu); /* GPU_CMD: L2 and LSC clean+invalidate */
}

static void vm_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct mock_vm *vm = ctx;
	struct mockdrm_dev *dev = vm->dev;

	(void)leaf_only; /* a Mali region flush drops cached table entries too */
	pthread_mutex_lock(&dev->as_lock);
	if (vm->update != MOCK_UPDATE_NONE)
		flush_in_update(dev, vm, va, size);
	else if (!skip_flush(dev) && vm->as_slot >= 0)
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

/*
 * The debug knob in an update: every Nth locked update is done as a driver
 * that forgot its lock and flush would (no LOCK, no flush, no UNLOCK).
 */
static bool skip_update(struct mockdrm_dev *dev)
{
	unsigned int every = dev->cfg.debug_skip_flush_every;
	uint64_t n = __atomic_add_fetch(&dev->locked_updates, 1, __ATOMIC_RELAXED);

	if (!every || n % every)
		return false;
	mock_stat_add(dev, skipped_flushes, 1);
	return true;
}

#define BLOCK_2M (2ull << 20)

/* The block to lock around @va: 2 MiB, or the larger block mapped there. */
static uint64_t edge_block(struct mock_vm *vm, uint64_t va)
{
	struct pt_walk_result w;

	if (!pt_walk(gvm_get_pt(vm->gvm), va, &w) && w.leaf_size > BLOCK_2M)
		return w.leaf_size;
	return BLOCK_2M;
}

/**
 * mock_vm_update_begin() - a page-table update of [@va, @va + @size) starts:
 * lock its region on the VM's slot (DOC: atomic updates).
 * @vm: the VM (vm->lock held: the update is the commit of its one writer).
 * @va: first VA the update's ops cover.
 * @size: bytes from @va (at least one).
 *
 * Context: takes dev->as_lock.
 */
void mock_vm_update_begin(struct mock_vm *vm, uint64_t va, uint64_t size)
{
	struct mockdrm_dev *dev = vm->dev;
	uint64_t last = va + size - 1;
	uint64_t start = va & ~(edge_block(vm, va) - 1);
	uint64_t end = (last | (edge_block(vm, last) - 1)) + 1;

	pthread_mutex_lock(&dev->as_lock);
	vm->update_lockaddr = mock_as_lockaddr(start, end - start);
	vm->update = MOCK_UPDATE_LOCKED;
	if (vm->as_slot >= 0) {
		if (skip_update(dev))
			vm->update = MOCK_UPDATE_DROPPED;
		else
			lock_region(dev, (unsigned int)vm->as_slot, vm->update_lockaddr);
	}
	pthread_mutex_unlock(&dev->as_lock);
}

/**
 * mock_vm_update_end() - the update's descriptors are written and flushed:
 * UNLOCK drops the region's translations and lets stalled accesses go on.
 * @vm: the VM (vm->lock held).
 *
 * Context: takes dev->as_lock.
 */
void mock_vm_update_end(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;

	pthread_mutex_lock(&dev->as_lock);
	if (vm->update == MOCK_UPDATE_LOCKED && vm->as_slot >= 0) {
		unsigned int slot = (unsigned int)vm->as_slot;

		/* A fault's disable in between wrote LOCKADDR: say the region again. */
		mock_as_write(&dev->gpu, slot, MOCK_AS_LOCKADDR, vm->update_lockaddr);
		mock_as_write(&dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_UNLOCK);
	}
	vm->update = MOCK_UPDATE_NONE;
	pthread_mutex_unlock(&dev->as_lock);
}
