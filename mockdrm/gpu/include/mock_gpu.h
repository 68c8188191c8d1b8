/* SPDX-License-Identifier: MIT */
/*
 * Interface of mockdrm/gpu/: the model GPU's hardware side, as the device
 * (mockdrm/dev/) drives it. struct mock_gpu holds what a Mali-G610 has on the
 * GPU side of its registers - the address-space slots with their TLBs, the
 * page-table memory the MMU walks by physical address, and the hardware
 * counters - and nothing of the driver (files, BOs, VMs, slot ownership),
 * which is the device's.
 *
 * The other interface headers of the room: mock_as.h (a slot's registers,
 * commands and TLB) and mock_cs.h (the command-stream interpreter).
 */
#ifndef GPUVM_MOCK_GPU_H
#define GPUVM_MOCK_GPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/pt.h>
#include <gpuvm/pt_pool.h>

#include "mock_as.h"

/* What the G610's MMU translates (mmu_features 0x2830): 48-bit VAs, 40-bit PAs. */
#define MOCK_VA_BITS 48
#define MOCK_PA_BITS 40

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

/* The blocks of table memory that are allocated (tables.c). */
struct mock_table_set {
	pthread_mutex_t lock;
	uint64_t *slots;
	size_t cap, n;
};

/*
 * struct mock_gpu - the hardware side of the model device.
 * @as: the address-space slots (registers, lock region, TLB).
 * @as_count: slots present (AS_PRESENT has bits 0..as_count-1).
 * @tlb_strict: re-walk on every TLB hit and count stale translations
 *	(DOC: strict mode in as.c).
 * @tables: the page-table pool; its PAs are what TRANSTAB and table
 *	descriptors hold.
 * @live_tables: which table blocks are allocated, so that a walk through
 *	a freed table is seen.
 * @stats: the hardware counters (atomic adds, mock_gpu_stat_add()).
 * @flush_id: LATEST_FLUSH_ID (atomic): advances at every cache flush.
 * @user_page_fd: a memfd of one page, the GPU's user register page, that
 *	clients map read-only (sealed against writable mappings).
 * @user_page: the device's own writable mapping of it; LATEST_FLUSH_ID at
 *	byte 0. After fork() parent and child devices share the page (as a
 *	forked process shares a real GPU's register page) while each counts
 *	its own flushes: the page shows whichever flushed last. A flush ID from
 *	the other process can only make a job flush when it need not, or skip a
 *	flush the model does not need (it keeps no cache contents).
 */
struct mock_gpu {
	struct mock_as as[MOCK_AS_MAX];
	unsigned int as_count;
	bool tlb_strict;
	struct pt_pool *tables;
	struct mock_table_set live_tables;
	struct mock_as_stats stats;
	uint32_t flush_id;
	int user_page_fd;
	volatile uint32_t *user_page;
};

/* The size of the user register page (LATEST_FLUSH_ID). */
#define MOCK_GPU_USER_PAGE 4096u

/*
 * Cache flushes. LATEST_FLUSH_ID is a 24-bit counter that never reads 0 (a
 * flush ID of 0 asks for an unconditional flush). mock_gpu_cache_flush()
 * performs one (counted in stats.cache_flushes, the ID advanced and shown
 * in the user page); mock_gpu_flush_done_since() says whether one happened
 * after the GPU showed @flush_id, so that a flush asked for with that ID
 * may be skipped.
 */
#define MOCK_GPU_FLUSH_ID_MASK 0xffffffu
void mock_gpu_cache_flush(struct mock_gpu *gpu);
uint32_t mock_gpu_flush_id(struct mock_gpu *gpu);
bool mock_gpu_flush_done_since(struct mock_gpu *gpu, uint32_t flush_id);

#define mock_gpu_stat_add(gpu, field, n) \
	__atomic_add_fetch(&(gpu)->stats.field, (n), __ATOMIC_RELAXED)

/*
 * Set up @gpu: @as_count slots, strict TLB or not, a table pool from @pcfg.
 * 0 or the pool's negative errno; mock_gpu_fini() undoes it either way.
 */
int mock_gpu_init(struct mock_gpu *gpu, unsigned int as_count, bool tlb_strict,
		  const struct pt_pool_cfg *pcfg);
void mock_gpu_fini(struct mock_gpu *gpu);

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

void mock_mmu_translate(struct mock_gpu *gpu, uint64_t transtab, uint64_t va, unsigned int access,
			struct mock_xlate *out);
void mock_mmu_walk(struct mock_gpu *gpu, uint64_t table, unsigned int level, uint64_t va,
		   unsigned int access, struct mock_walk *w);
void mock_mmu_leaf(uint64_t desc, unsigned int level, uint64_t va, unsigned int access,
		   struct mock_xlate *out);
/* VA bytes one entry of @level covers; the output address of a descriptor. */
uint64_t mock_mmu_span(unsigned int level);
uint64_t mock_mmu_table_pa(uint64_t desc);

/*
 * Table memory: pt_pool behind a record of live blocks. A page table whose
 * tables the MMU walks uses these ops with the struct mock_gpu as alloc_ctx.
 */
extern const struct pt_alloc_ops mock_table_ops;
bool mock_table_live(struct mock_gpu *gpu, uint64_t pa);

/*
 * Metadata memory of pgtable and gvm (struct pt_host_ops, no context):
 * calloc() and free() through the device's allocation door (mock_alloc.h),
 * so that their allocations can be made to fail too.
 */
extern const struct pt_host_ops mock_host_ops;

#endif /* GPUVM_MOCK_GPU_H */
