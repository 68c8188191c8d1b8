// SPDX-License-Identifier: MIT
/*
 * Address-space slots, the hardware side: registers, commands, the lock
 * region, and translation through the slot's TLB (mali.md sections 1 and 2).
 *
 * DOC: strict mode
 *
 * A real MMU serves a TLB hit without looking at the tables again; if the
 * driver changed the tables and did not flush, the GPU uses the old
 * translation and corrupts memory, silently. The model does the same - it
 * serves the cached entry - but in strict mode (the default) it also walks
 * the tables again on every hit and counts each difference as a stale
 * translation (struct mock_as_stats.stale). A walk that starts from a cached
 * table pointer is checked the same way, and every table a walk reads is
 * checked against the allocator's record: reading a freed table counts as a
 * freed walk. Tests assert both counts stay zero.
 */
#include <errno.h>

#include "gpu_private.h"

#define LOCK_MIN_LG2 15 /* a lock region is at least 32 KiB */

void mock_as_init(struct mock_as *as)
{
	pthread_mutex_init(&as->lock, NULL);
	pthread_cond_init(&as->unlocked, NULL);
	as->transcfg = as->cur_transcfg = MOCK_TRANSCFG_ADRMODE_UNMAPPED;
}

void mock_as_fini(struct mock_as *as)
{
	pthread_cond_destroy(&as->unlocked);
	pthread_mutex_destroy(&as->lock);
}

static unsigned int fls64(uint64_t x)
{
	return x ? 64 - (unsigned int)__builtin_clzll(x) : 0;
}

/*
 * The smallest aligned power-of-two block covering [va, va + size), at least
 * 32 KiB: W = max(fls64(va ^ last), 15) - 1, region 2^(W + 1).
 *
 *   (0x1000000, 4K) -> 0x100000E: 32 KiB at 0x1000000
 *   (0x1007000, 8K) -> 0x100000F: 64 KiB at 0x1000000 (crosses 0x1008000)
 */
uint64_t mock_as_lockaddr(uint64_t va, uint64_t size)
{
	unsigned int lg2 = fls64(va ^ (va + size - 1));
	unsigned int w = (lg2 > LOCK_MIN_LG2 ? lg2 : LOCK_MIN_LG2) - 1;

	return (va & ~((2ull << w) - 1)) | w;
}

/* What the hardware locks for a LOCKADDR: W clamped to the VA size. */
void mock_as_lock_region(uint64_t lockaddr, uint64_t *base, uint64_t *size)
{
	unsigned int w = (unsigned int)(lockaddr & 0x3f);

	if (w < LOCK_MIN_LG2 - 1)
		w = LOCK_MIN_LG2 - 1;
	if (w >= MOCK_VA_BITS)
		w = MOCK_VA_BITS - 1;
	*size = 2ull << w;
	*base = lockaddr & ~(*size - 1) & ((1ull << MOCK_VA_BITS) - 1);
}

/* UNLOCK, FLUSH_PT, FLUSH_MEM: forget the region's translations, release it. */
static void region_flush(struct mock_gpu *gpu, struct mock_as *as)
{
	uint64_t base, size;

	mock_as_lock_region(as->lockaddr, &base, &size);
	mock_tlb_invalidate(&as->tlb, base, size);
	as->locked = false;
	pthread_cond_broadcast(&as->unlocked);
	(void)gpu;
}

static void command(struct mock_gpu *gpu, struct mock_as *as, uint32_t cmd)
{
	switch (cmd) {
	case MOCK_AS_CMD_UPDATE:
		as->cur_transtab = as->transtab;
		as->cur_memattr = as->memattr;
		as->cur_transcfg = as->transcfg;
		mock_tlb_clear(&as->tlb);
		mock_gpu_stat_add(gpu, updates, 1);
		break;
	case MOCK_AS_CMD_LOCK:
		mock_as_lock_region(as->lockaddr, &as->lock_base, &as->lock_size);
		as->locked = true;
		mock_gpu_stat_add(gpu, locks, 1);
		break;
	case MOCK_AS_CMD_UNLOCK:
		region_flush(gpu, as);
		mock_gpu_stat_add(gpu, unlocks, 1);
		break;
	case MOCK_AS_CMD_FLUSH_PT:
		region_flush(gpu, as);
		mock_gpu_stat_add(gpu, flush_pt, 1);
		break;
	case MOCK_AS_CMD_FLUSH_MEM:
		region_flush(gpu, as);
		mock_gpu_stat_add(gpu, flush_mem, 1);
		break;
	}
}

/* A register write; commands run to completion at once (STATUS never reads busy). */
void mock_as_write(struct mock_gpu *gpu, unsigned int slot, enum mock_as_reg reg, uint64_t value)
{
	struct mock_as *as = &gpu->as[slot];

	pthread_mutex_lock(&as->lock);
	switch (reg) {
	case MOCK_AS_TRANSTAB:
		as->transtab = value;
		break;
	case MOCK_AS_MEMATTR:
		as->memattr = value;
		break;
	case MOCK_AS_LOCKADDR:
		as->lockaddr = value;
		break;
	case MOCK_AS_TRANSCFG:
		as->transcfg = value;
		break;
	case MOCK_AS_COMMAND:
		command(gpu, as, (uint32_t)value);
		break;
	default: /* read-only registers ignore writes */
		break;
	}
	pthread_mutex_unlock(&as->lock);
}

uint64_t mock_as_read(struct mock_gpu *gpu, unsigned int slot, enum mock_as_reg reg)
{
	struct mock_as *as = &gpu->as[slot];
	uint64_t value = 0;

	pthread_mutex_lock(&as->lock);
	switch (reg) {
	case MOCK_AS_TRANSTAB:
		value = as->transtab;
		break;
	case MOCK_AS_MEMATTR:
		value = as->memattr;
		break;
	case MOCK_AS_LOCKADDR:
		value = as->lockaddr;
		break;
	case MOCK_AS_TRANSCFG:
		value = as->transcfg;
		break;
	case MOCK_AS_FAULTSTATUS:
		value = as->faultstatus;
		break;
	case MOCK_AS_FAULTADDRESS:
		value = as->faultaddress;
		break;
	default: /* COMMAND is write-only; STATUS: never busy */
		break;
	}
	pthread_mutex_unlock(&as->lock);
	return value;
}

/* Accesses to the locked region stall until it is released (as->lock held). */
static void wait_unlocked(struct mock_gpu *gpu, struct mock_as *as, uint64_t va)
{
	while (as->locked && va - as->lock_base < as->lock_size) {
		mock_gpu_stat_add(gpu, lock_waits, 1);
		pthread_cond_wait(&as->unlocked, &as->lock);
	}
}

static void note_stale(struct mock_gpu *gpu, uint64_t va)
{
	if (mock_gpu_stat_add(gpu, stale, 1) == 1)
		__atomic_store_n(&gpu->stats.first_stale_va, va, __ATOMIC_RELAXED);
}

static void walk_from_root(struct mock_gpu *gpu, const struct mock_as *as, uint64_t va,
			   struct mock_walk *w)
{
	mock_mmu_walk(gpu, mock_mmu_table_pa(as->cur_transtab), 0, va, MOCK_ACCESS_READ, w);
	if (w->freed)
		mock_gpu_stat_add(gpu, freed_walks, 1);
}

/* Strict mode: do the tables still say what the cached leaf says? */
static void check_leaf(struct mock_gpu *gpu, const struct mock_as *as,
		       const struct mock_tlb_entry *e, uint64_t va)
{
	struct mock_walk w;

	walk_from_root(gpu, as, va, &w);
	if (!w.leaf || w.level != e->level || w.desc != e->value)
		note_stale(gpu, va);
}

/* Strict mode: does a walk from the root still reach the cached table? */
static void check_walk(struct mock_gpu *gpu, const struct mock_as *as,
		       const struct mock_tlb_entry *e, uint64_t va)
{
	struct mock_walk w;

	walk_from_root(gpu, as, va, &w);
	if (w.level < e->level || w.table[e->level] != e->value)
		note_stale(gpu, va);
}

static bool strict(const struct mock_gpu *gpu)
{
	return gpu->tlb_strict;
}

/* Did the walk read real tables (and stop at a descriptor), or fault before? */
static bool walked_tables(const struct mock_walk *w)
{
	return (w->fault & 0xff) >= MOCK_FAULT_TRANSLATION &&
	       (w->fault & 0xff) <= MOCK_FAULT_TRANSLATION + 3;
}

/* A TLB miss: walk (from the deepest cached table), then remember what was read. */
static void walk_and_fill(struct mock_gpu *gpu, struct mock_as *as, uint64_t va,
			  unsigned int access, struct mock_xlate *out)
{
	struct mock_tlb_entry *e = mock_tlb_find_walk(&as->tlb, va);
	uint64_t table = e ? e->value : mock_mmu_table_pa(as->cur_transtab);
	unsigned int level = e ? e->level : 0;
	struct mock_walk w;

	if (e && strict(gpu))
		check_walk(gpu, as, e, va);
	mock_mmu_walk(gpu, table, level, va, access, &w);
	if (w.freed)
		mock_gpu_stat_add(gpu, freed_walks, 1);
	/* The tables read are cached, even on the way to a missing entry. */
	for (unsigned int l = level + 1; l <= w.level && (w.leaf || walked_tables(&w)); l++)
		mock_tlb_add_walk(&as->tlb, va, l, w.table[l]);
	if (!w.leaf) {
		*out = (struct mock_xlate){ .fault = w.fault };
		return;
	}
	mock_tlb_add_leaf(&as->tlb, va, w.level, w.desc);
	mock_mmu_leaf(w.desc, w.level, va, access, out);
}

static void translate_locked(struct mock_gpu *gpu, struct mock_as *as, uint64_t va,
			     unsigned int access, struct mock_xlate *out)
{
	struct mock_tlb_entry *e;

	/*
	 * First wait out a lock of the region: the wait drops as->lock, and
	 * meanwhile the slot may be disabled or given other tables (a fault's
	 * handler, an eviction). A stalled access resumes with the slot as it
	 * is then, so everything below reads the slot after the wait.
	 */
	wait_unlocked(gpu, as, va);
	if ((as->cur_transcfg & MOCK_TRANSCFG_ADRMODE_MASK) != MOCK_TRANSCFG_ADRMODE_AARCH64_4K) {
		/* UNMAPPED (a disabled slot): nothing translates. */
		*out = (struct mock_xlate){ .fault = mock_fault(MOCK_FAULT_TRANSLATION, access) };
		return;
	}
	e = mock_tlb_find_leaf(&as->tlb, va);
	if (!e) {
		mock_gpu_stat_add(gpu, tlb_misses, 1);
		walk_and_fill(gpu, as, va, access, out);
		return;
	}
	mock_gpu_stat_add(gpu, tlb_hits, 1);
	if (strict(gpu))
		check_leaf(gpu, as, e, va);
	mock_mmu_leaf(e->value, e->level, va, access, out);
}

/*
 * Translate @va through slot @slot as the GPU does: TLB first, then a walk
 * from TRANSTAB. A fault is latched in FAULTSTATUS/FAULTADDRESS.
 */
void mock_as_translate(struct mock_gpu *gpu, unsigned int slot, uint64_t va, unsigned int access,
		       struct mock_xlate *out)
{
	struct mock_as *as = &gpu->as[slot];

	pthread_mutex_lock(&as->lock);
	translate_locked(gpu, as, va, access, out);
	if (out->fault) {
		as->faultstatus = out->fault;
		as->faultaddress = va;
	}
	pthread_mutex_unlock(&as->lock);
}
