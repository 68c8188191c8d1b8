/* SPDX-License-Identifier: MIT */
/*
 * Interface of mockdrm/gpu/: address-space slots as the hardware has them (mali.md
 * section 1) - registers, commands, a lock region, a TLB. The driver side that
 * panthor_mmu.c is on a real device (slot assignment, LRU, flush ops, fault
 * handling) is the device's (mockdrm/dev/slots.c).
 */
#ifndef GPUVM_MOCK_AS_H
#define GPUVM_MOCK_AS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define MOCK_AS_MAX 16

/* Per-AS registers, by offset in the AS block (0x2400 + (as << 6)). */
enum mock_as_reg {
	MOCK_AS_TRANSTAB = 0x00,
	MOCK_AS_MEMATTR = 0x08,
	MOCK_AS_LOCKADDR = 0x10,
	MOCK_AS_COMMAND = 0x18,
	MOCK_AS_FAULTSTATUS = 0x1c,
	MOCK_AS_FAULTADDRESS = 0x20,
	MOCK_AS_STATUS = 0x28,
	MOCK_AS_TRANSCFG = 0x30,
};

enum mock_as_command {
	MOCK_AS_CMD_NOP = 0,
	MOCK_AS_CMD_UPDATE = 1,
	MOCK_AS_CMD_LOCK = 2,
	MOCK_AS_CMD_UNLOCK = 3,
	MOCK_AS_CMD_FLUSH_PT = 4,
	MOCK_AS_CMD_FLUSH_MEM = 5,
};

#define MOCK_TRANSCFG_ADRMODE_MASK 0xfull
#define MOCK_TRANSCFG_ADRMODE_UNMAPPED 1ull
#define MOCK_TRANSCFG_ADRMODE_AARCH64_4K 6ull

/*
 * The TLB of one slot. Leaf entries hold a leaf descriptor for the VA range
 * it maps; walk entries hold the PA of a table reached during a walk, for the
 * VA range that table covers, so a later walk can start below the root. Both
 * are small and replaced least-recently-used first, as in a real MMU, so that
 * a stale entry can survive for a while and be used.
 */
#define MOCK_TLB_LEAVES 64
#define MOCK_TLB_WALKS 16

struct mock_tlb_entry {
	uint64_t va;    /* first VA covered */
	uint64_t value; /* leaf: the descriptor; walk: the table's PA */
	uint64_t used;  /* LRU clock */
	uint8_t level;  /* leaf: its level; walk: the level of the table */
	bool valid;
};

struct mock_tlb {
	struct mock_tlb_entry leaf[MOCK_TLB_LEAVES];
	struct mock_tlb_entry walk[MOCK_TLB_WALKS];
	uint64_t clock;
};

/* One slot: the hardware's registers and state. */
struct mock_as {
	pthread_mutex_t lock;
	pthread_cond_t unlocked;                          /* the lock region was released */
	uint64_t transtab, memattr, lockaddr, transcfg;   /* as written */
	uint64_t cur_transtab, cur_memattr, cur_transcfg; /* latched by UPDATE */
	bool locked;
	uint64_t lock_base, lock_size;
	uint32_t faultstatus;
	uint64_t faultaddress;
	struct mock_tlb tlb;
	struct mock_vm *vm; /* driver side: the device's VM holding it (under its as_lock) */
};

/* Device counters, read by tests through GPUVM_IOCTL_MOCK_STATS. */
struct mock_as_stats {
	uint64_t tlb_hits, tlb_misses;
	uint64_t stale;       /* strict mode: a cached translation the tables no longer say */
	uint64_t freed_walks; /* a walk read a table that had been freed */
	uint64_t updates, locks, unlocks, flush_pt, flush_mem;
	uint64_t flush_ops;       /* flush_range/flush_all calls from pgtable */
	uint64_t skipped_flushes; /* ... dropped on purpose (debug_skip_flush_every) */
	uint64_t cache_flushes;
	uint64_t cache_flushes_skipped; /* asked for with a flush ID already passed */
	uint64_t activations, evictions, faults, lock_waits;
	uint64_t first_stale_va;
};

struct mock_gpu;
struct mock_xlate;

void mock_as_write(struct mock_gpu *gpu, unsigned int slot, enum mock_as_reg reg, uint64_t value);
uint64_t mock_as_read(struct mock_gpu *gpu, unsigned int slot, enum mock_as_reg reg);
void mock_as_translate(struct mock_gpu *gpu, unsigned int slot, uint64_t va, unsigned int access,
		       struct mock_xlate *out);

/* LOCKADDR for [va, va + size), as panthor packs it; and the region it means. */
uint64_t mock_as_lockaddr(uint64_t va, uint64_t size);
void mock_as_lock_region(uint64_t lockaddr, uint64_t *base, uint64_t *size);

#endif /* GPUVM_MOCK_AS_H */
