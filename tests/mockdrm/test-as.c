// SPDX-License-Identifier: MIT
/*
 * Address-space slots, the TLB and the flush protocol of the mock device
 * (mali.md sections 1 and 2): lock-region encoding, slot programming, accesses
 * stalling on a locked region, stale translations and freed-table walks that
 * strict mode must see when flushes are missing (and must not see when they
 * are there), LRU slot assignment, and faults.
 *
 * The device is driven through its C API and, where a test plays the driver
 * or the hardware, through its private headers.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock-test.h"
#include "mock_vm.h"

static struct mock_vm *vm_of(struct mt_dev *d, uint32_t id)
{
	struct mock_vm *vm = mock_vm_lookup(d->file, id);

	assert_non_null(vm);
	mock_vm_put(vm); /* the file keeps it alive */
	return vm;
}

static struct gpuvm_mock_stats stats_of(struct mt_dev *d)
{
	struct gpuvm_mock_stats s = { 0 };

	assert_int_equal(mockdrm_ioctl(d->file, GPUVM_IOCTL_MOCK_STATS, &s), 0);
	return s;
}

static struct gpuvm_mock_vm_state vm_state_of(struct mt_dev *d, uint32_t vm)
{
	struct gpuvm_mock_vm_state s = { .vm_id = vm };

	assert_int_equal(mockdrm_ioctl(d->file, GPUVM_IOCTL_MOCK_VM_STATE, &s), 0);
	return s;
}

/* The first 8 bytes the GPU reads at @va (faults fail the test). */
static uint64_t gpu_word(struct mt_dev *d, uint32_t vm, uint64_t va)
{
	struct mt_access res;
	uint64_t word = 0;

	assert_int_equal(mt_gpu_read(d, vm, va, &word, sizeof(word), &res), 0);
	CHECK_STATUS("gpu_word", res.status, 0);
	return word;
}

static uint64_t bo_word(const struct mt_bo *bo, uint64_t page)
{
	uint64_t word;

	memcpy(&word, bo->cpu + page * MT_PAGE, sizeof(word));
	return word;
}

static void map(struct mt_dev *d, uint32_t vm, const struct mt_bo *bo, uint64_t offset, uint64_t va,
		uint64_t size)
{
	struct gpuvm_vm_bind_op_repeat op = mt_op_map(bo, offset, va, size, 0);

	assert_int_equal(mt_bind(d, vm, 0, &op, 1), 0);
}

static void unmap(struct mt_dev *d, uint32_t vm, uint64_t va, uint64_t size)
{
	struct gpuvm_vm_bind_op_repeat op = mt_op_unmap(va, size);

	assert_int_equal(mt_bind(d, vm, 0, &op, 1), 0);
}

/* Lock regions */

struct lock_row {
	uint64_t va, size, lockaddr, base, region;
};

/*
 * LOCKADDR = base | W, region 2^(W + 1), the smallest aligned power of two
 * over the range and at least 32 KiB (mali.md section 1).
 */
static const struct lock_row lock_rows[] = {
	{ 0x1000000, 0x1000, 0x100000e, 0x1000000, 0x8000 },        /* mali.md's first example */
	{ 0x1007000, 0x2000, 0x100000f, 0x1000000, 0x10000 },       /* crosses 0x1008000 */
	{ 0x1000000, 0x8000, 0x100000e, 0x1000000, 0x8000 },        /* exactly 32 KiB */
	{ 0x1008000, 0x10000, 0x1000010, 0x1000000, 0x20000 },      /* 64 KiB, not 64K-aligned */
	{ 0x40000000, 0x200000, 0x40000014, 0x40000000, 0x200000 }, /* a 2 MiB block */
	{ 0, 1ull << 48, 0x2f, 0, 1ull << 48 },                     /* the whole AS */
};

static void test_lockaddr(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lock_rows); i++) {
		const struct lock_row *r = &lock_rows[i];
		uint64_t base, size;

		CHECK_EQ("encode", mock_as_lockaddr(r->va, r->size), r->lockaddr);
		mock_as_lock_region(r->lockaddr, &base, &size);
		CHECK_EQ("decode base", base, r->base);
		CHECK_EQ("decode size", size, r->region);
	}
	/* Old kernels lock "everything" with W = 63; too small a W means 32 KiB. */
	uint64_t base, size;

	mock_as_lock_region(0xffffffffffffffffull, &base, &size);
	CHECK_EQ("W 63 size", size, 1ull << 48);
	CHECK_EQ("W 63 base", base, 0);
	mock_as_lock_region(0x1004003, &base, &size);
	CHECK_EQ("W 3 size", size, 0x8000);
	CHECK_EQ("W 3 base", base, 0x1000000);
}

/* Slot programming: panthor's register values for a G610 VM. */
static void test_program_slot(void **state)
{
	struct mt_dev d;
	struct mt_bo bo;
	uint32_t vm;
	int slot;

	(void)state;
	mt_open(&d, NULL);
	vm = mt_vm_create(&d);
	CHECK_EQ("no slot before use", vm_state_of(&d, vm).as_slot, -1);
	mt_bo_create(&d, MT_PAGE, 1, &bo);
	map(&d, vm, &bo, 0, 1 * MiB, MT_PAGE);
	CHECK_EQ("read", gpu_word(&d, vm, 1 * MiB), bo_word(&bo, 0));
	slot = vm_state_of(&d, vm).as_slot;
	CHECK_EQ("lowest free slot, not the firmware's", slot, 1);
	CHECK_EQ("TRANSCFG", mock_as_read(&d.dev->gpu, 1, MOCK_AS_TRANSCFG), 0x420001c6);
	CHECK_EQ("MEMATTR", mock_as_read(&d.dev->gpu, 1, MOCK_AS_MEMATTR), 0x4c4c4c4c8c4c8f4cull);
	CHECK_EQ("TRANSTAB", mock_as_read(&d.dev->gpu, 1, MOCK_AS_TRANSTAB),
		 d.dev->gpu.as[1].cur_transtab);
	CHECK_EQ("idle after the access", vm_state_of(&d, vm).users, 0);
	mt_bo_destroy(&d, &bo);
	mt_close(&d);
}

/* Accesses stall on a locked region */

struct stalled_access {
	struct mt_dev *d;
	uint32_t vm;
	uint64_t va;
	volatile int done;
};

static void *access_thread(void *arg)
{
	struct stalled_access *s = arg;

	gpu_word(s->d, s->vm, s->va);
	s->done = 1;
	return NULL;
}

static void test_lock_stalls(void **state)
{
	struct mt_dev d;
	struct mt_bo bo;
	struct stalled_access s;
	pthread_t thread;
	uint32_t vm;
	unsigned int slot;

	(void)state;
	mt_open(&d, NULL);
	vm = mt_vm_create(&d);
	mt_bo_create(&d, 2 * MT_PAGE, 2, &bo);
	map(&d, vm, &bo, 0, 16 * MiB, MT_PAGE);
	map(&d, vm, &bo, MT_PAGE, 32 * MiB, MT_PAGE);
	/* Play the driver: keep the VM active and lock 32 KiB at 16 MiB. */
	slot = mock_vm_activate(vm_of(&d, vm));
	mock_as_write(&d.dev->gpu, slot, MOCK_AS_LOCKADDR, mock_as_lockaddr(16 * MiB, MT_PAGE));
	mock_as_write(&d.dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_LOCK);
	/* Outside the region: no stall. */
	CHECK_EQ("unlocked VA", gpu_word(&d, vm, 32 * MiB), bo_word(&bo, 1));
	s = (struct stalled_access){ .d = &d, .vm = vm, .va = 16 * MiB };
	assert_int_equal(pthread_create(&thread, NULL, access_thread, &s), 0);
	tu_sleep_ms(50);
	CHECK_EQ("stalled while locked", s.done, 0);
	CHECK_EQ("lock waits", stats_of(&d).lock_waits, 1);
	mock_as_write(&d.dev->gpu, slot, MOCK_AS_COMMAND, MOCK_AS_CMD_UNLOCK);
	assert_int_equal(pthread_join(thread, NULL), 0);
	CHECK_EQ("done after UNLOCK", s.done, 1);
	mock_vm_idle(vm_of(&d, vm));
	mt_bo_destroy(&d, &bo);
	mt_close(&d);
}

/* Strict mode: stale translations and freed tables */

/*
 * The GPU caches VA -> page 0, the VA is remapped to page 1. With the flush
 * the GPU reads page 1; without it, it keeps reading page 0 (a real GPU
 * would too) and strict mode counts the stale translation.
 */
static void remap_under_tlb(unsigned int skip_every, uint64_t want_page, uint64_t want_stale)
{
	struct mockdrm_cfg cfg = { .debug_skip_flush_every = skip_every };
	struct mt_dev d;
	struct mt_bo bo;
	uint32_t vm;

	mt_open(&d, &cfg);
	vm = mt_vm_create(&d);
	mt_bo_create(&d, 2 * MT_PAGE, 3, &bo);
	map(&d, vm, &bo, 0, 1 * MiB, MT_PAGE);
	CHECK_EQ("before", gpu_word(&d, vm, 1 * MiB), bo_word(&bo, 0));
	map(&d, vm, &bo, MT_PAGE, 1 * MiB, MT_PAGE);
	CHECK_EQ("after the remap", gpu_word(&d, vm, 1 * MiB), bo_word(&bo, want_page));
	CHECK_EQ("stale translations", stats_of(&d).stale_translations, want_stale);
	if (want_stale)
		CHECK_EQ("first stale VA", stats_of(&d).first_stale_va, 1 * MiB);
	mt_bo_destroy(&d, &bo);
	mt_close(&d);
}

static void test_stale_translation(void **state)
{
	(void)state;
	remap_under_tlb(0, 1, 0);
	remap_under_tlb(1, 0, 1); /* every flush dropped */
}

/*
 * A table freed without a flush: the walk cache still points at it, and a
 * walk for another VA under it reads freed memory.
 *
 *   2 MiB region at 64 MiB: one L3 table; pages 0 and 1 mapped.
 *   read page 0 (caches the L3 table), unmap both (the table is freed),
 *   read page 1: leaf miss, walk from the cached L3 table -> freed walk.
 */
static void test_freed_table_walk(void **state)
{
	struct mockdrm_cfg cfg = { .debug_skip_flush_every = 1 };
	struct mt_access res;
	struct mt_dev d;
	struct mt_bo bo;
	uint64_t word;
	uint32_t vm;

	(void)state;
	mt_open(&d, &cfg);
	vm = mt_vm_create(&d);
	mt_bo_create(&d, 2 * MT_PAGE, 4, &bo);
	map(&d, vm, &bo, 0, 64 * MiB, 2 * MT_PAGE);
	gpu_word(&d, vm, 64 * MiB);
	unmap(&d, vm, 64 * MiB, 2 * MT_PAGE);
	assert_int_equal(mt_gpu_read(&d, vm, 64 * MiB + MT_PAGE, &word, 8, &res), 0);
	assert_true(stats_of(&d).freed_table_walks >= 1);
	assert_true(stats_of(&d).stale_translations >= 1);
	mt_bo_destroy(&d, &bo);
	mt_close(&d);
}

/* The same steps with the flushes: nothing stale, the unmapped page faults. */
static void test_freed_table_flushed(void **state)
{
	struct gpuvm_mock_stats s;
	struct mt_access res;
	struct mt_dev d;
	struct mt_bo bo;
	uint64_t word;
	uint32_t vm;

	(void)state;
	mt_open(&d, NULL);
	vm = mt_vm_create(&d);
	mt_bo_create(&d, 2 * MT_PAGE, 4, &bo);
	map(&d, vm, &bo, 0, 64 * MiB, 2 * MT_PAGE);
	gpu_word(&d, vm, 64 * MiB);
	unmap(&d, vm, 64 * MiB, 2 * MT_PAGE);
	assert_int_equal(mt_gpu_read(&d, vm, 64 * MiB + MT_PAGE, &word, 8, &res), 0);
	assert_true(GPUVM_MOCK_FAULT_EXCEPTION(res.status) >= 0xc0 &&
		    GPUVM_MOCK_FAULT_EXCEPTION(res.status) <= 0xc3);
	s = stats_of(&d);
	CHECK_EQ("stale", s.stale_translations, 0);
	CHECK_EQ("freed walks", s.freed_table_walks, 0);
	/*
	 * The unmap is one atomic update: LOCK before its descriptors change,
	 * UNLOCK at the end. Unlinking the emptied tables flushes their whole
	 * span (512 GiB here), past the ops' region, which widens the held
	 * lock with a second LOCK (mali.md section 2: the kept region may be
	 * widened): more LOCKs than UNLOCKs, and no region left locked.
	 */
	assert_true(s.as_unlocks >= 1 && s.as_locks >= s.as_unlocks);
	assert_false(d.dev->gpu.as[vm_state_of(&d, vm).as_slot].locked);
	mt_bo_destroy(&d, &bo);
	mt_close(&d);
}

/* LRU slot assignment */

struct lru_world {
	struct mt_dev d;
	struct mt_bo bo[3];
	uint32_t vm[3];
};

/* Three VMs, two slots for VMs (slot 0 is the firmware's). */
static void lru_setup(struct lru_world *w)
{
	struct mockdrm_cfg cfg = { .as_present = 0x7 };

	mt_open(&w->d, &cfg);
	for (unsigned int i = 0; i < 3; i++) {
		w->vm[i] = mt_vm_create(&w->d);
		mt_bo_create(&w->d, MT_PAGE, 10 + i, &w->bo[i]);
		map(&w->d, w->vm[i], &w->bo[i], 0, 1 * MiB, MT_PAGE);
	}
}

static void lru_teardown(struct lru_world *w)
{
	CHECK_EQ("stale", stats_of(&w->d).stale_translations, 0);
	for (unsigned int i = 0; i < 3; i++)
		mt_bo_destroy(&w->d, &w->bo[i]);
	mt_close(&w->d);
}

/* The VM reads its own BO (translations right after every re-attach). */
static void lru_touch(struct lru_world *w, unsigned int i)
{
	CHECK_EQ("read after (re)attach", gpu_word(&w->d, w->vm[i], 1 * MiB),
		 bo_word(&w->bo[i], 0));
}

static int slot_of(struct lru_world *w, unsigned int i)
{
	return vm_state_of(&w->d, w->vm[i]).as_slot;
}

struct lru_waiter {
	struct lru_world *w;
	unsigned int i;
	volatile int done;
};

static void *lru_waiter_main(void *arg)
{
	struct lru_waiter *l = arg;

	lru_touch(l->w, l->i);
	l->done = 1;
	return NULL;
}

static void test_lru(void **state)
{
	struct lru_world w;
	struct lru_waiter waiter;
	pthread_t thread;

	(void)state;
	lru_setup(&w);
	lru_touch(&w, 0);
	lru_touch(&w, 1);
	CHECK_EQ("A", slot_of(&w, 0), 1);
	CHECK_EQ("B", slot_of(&w, 1), 2);
	lru_touch(&w, 2); /* A idled first: evicted */
	CHECK_EQ("A evicted", slot_of(&w, 0), -1);
	CHECK_EQ("C in A's slot", slot_of(&w, 2), 1);
	/* B busy: A must take idle C's slot, not B's. */
	mock_vm_activate(vm_of(&w.d, w.vm[1]));
	lru_touch(&w, 0);
	CHECK_EQ("busy B kept", slot_of(&w, 1), 2);
	CHECK_EQ("A in C's slot", slot_of(&w, 0), 1);
	/* Both slots busy: C waits until one is idle. */
	mock_vm_activate(vm_of(&w.d, w.vm[0]));
	waiter = (struct lru_waiter){ .w = &w, .i = 2 };
	assert_int_equal(pthread_create(&thread, NULL, lru_waiter_main, &waiter), 0);
	tu_sleep_ms(50);
	CHECK_EQ("C waits for a slot", waiter.done, 0);
	mock_vm_idle(vm_of(&w.d, w.vm[1]));
	assert_int_equal(pthread_join(thread, NULL), 0);
	CHECK_EQ("C took idle B's slot", slot_of(&w, 2), 2);
	CHECK_EQ("A still busy there", slot_of(&w, 0), 1);
	mock_vm_idle(vm_of(&w.d, w.vm[0]));
	CHECK_EQ("evictions", stats_of(&w.d).evictions, 3);
	lru_teardown(&w);
}

/* Faults */

struct fault_row {
	const char *what;
	uint32_t map_flags; /* of the mapping at 64 MiB (2 MiB) */
	bool write;
	uint64_t va;
	uint32_t status;
};

#define RO DRM_PANTHOR_VM_BIND_OP_MAP_READONLY
#define RD(exc) ((exc) | GPUVM_MOCK_FAULT_ACCESS_READ << 8)
#define WR(exc) ((exc) | GPUVM_MOCK_FAULT_ACCESS_WRITE << 8)

/*
 *   1 MiB: one page of the BO (an L3 table around it).
 *   64 MiB: the 2 MiB BO at a 2 MiB-aligned VA: one L2 block (when the BO's
 *   pages are 2 MiB-aligned) or 512 L3 pages. 1 TiB: nothing below the root.
 */
static const struct fault_row fault_rows[] = {
	{ "nothing under the root entry", 0, false, 1ull << 40, RD(0xc0) },
	{ "no L2 entry", 0, false, 64 * MiB + 2 * MiB, RD(0xc2) },
	{ "no L3 entry", 0, false, 1 * MiB + MT_PAGE, RD(0xc3) },
	{ "read-only mapping written", RO, true, 64 * MiB + 8 * MT_PAGE, 0 },
	{ "beyond the 48-bit VA", 0, false, 1ull << 48, RD(0xe0) },
};

static struct mock_vm *fault_setup(struct mt_dev *d, struct mt_bo *bo, uint32_t *vm, uint32_t flags)
{
	struct gpuvm_vm_bind_op_repeat op;

	*vm = mt_vm_create(d);
	mt_bo_create(d, 2 * MiB, 20, bo);
	op = mt_op_map(bo, 0, 64 * MiB, 2 * MiB, flags);
	assert_int_equal(mt_bind(d, *vm, 0, &op, 1), 0);
	op = mt_op_map(bo, 0, 1 * MiB, MT_PAGE, flags);
	assert_int_equal(mt_bind(d, *vm, 0, &op, 1), 0);
	return vm_of(d, *vm);
}

/*
 * The leaf level of the 2 MiB mapping decides the permission fault's level:
 * 2 for a block, 3 for pages.
 */
static uint32_t leaf_level(struct mt_dev *d, struct mock_vm *vm)
{
	struct pt_hw_regs regs;
	struct mock_walk w;

	pt_get_regs(gvm_get_pt(vm->gvm), &regs);
	mock_mmu_walk(&d->dev->gpu, regs.mali.transtab & ~0xfffull, 0, 64 * MiB, MOCK_ACCESS_READ,
		      &w);
	assert_true(w.leaf);
	return w.level;
}

static void check_fault_row(const struct fault_row *r)
{
	struct gpuvm_mock_vm_state st;
	struct mt_access res;
	struct mock_vm *v;
	struct mt_dev d;
	struct mt_bo bo;
	uint64_t word = 0;
	uint32_t vm, want = r->status;

	mt_open(&d, NULL);
	v = fault_setup(&d, &bo, &vm, r->map_flags);
	if (!want)
		want = WR(0xc8 + leaf_level(&d, v));
	if (r->write)
		assert_int_equal(mt_gpu_write(&d, vm, r->va, &word, 8, &res), 0);
	else
		assert_int_equal(mt_gpu_read(&d, vm, r->va, &word, 8, &res), 0);
	CHECK_STATUS(r->what, res.status, want);
	CHECK_EQ(r->what, res.fault_addr, r->va);
	st = vm_state_of(&d, vm);
	CHECK_EQ(r->what, st.faulted, 1);
	CHECK_STATUS(r->what, st.fault_status, want);
	CHECK_EQ(r->what, st.fault_addr, r->va);
	/* The VM keeps its slot, disabled; the next activation re-enables it. */
	CHECK_EQ(r->what, mock_as_read(&d.dev->gpu, (unsigned int)st.as_slot, MOCK_AS_TRANSCFG),
		 MOCK_TRANSCFG_ADRMODE_UNMAPPED);
	CHECK_EQ(r->what, gpu_word(&d, vm, 64 * MiB), bo_word(&bo, 0));
	st = vm_state_of(&d, vm);
	CHECK_EQ(r->what, st.faulted, 0);
	CHECK_EQ(r->what, st.fault_count, 1);
	CHECK_EQ(r->what, mock_as_read(&d.dev->gpu, (unsigned int)st.as_slot, MOCK_AS_TRANSCFG),
		 0x420001c6);
	CHECK_EQ(r->what, stats_of(&d).faults, 1);
	mt_bo_destroy(&d, &bo);
	mt_close(&d);
}

static void test_faults(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fault_rows); i++)
		check_fault_row(&fault_rows[i]);
}

/*
 * Random binds, unbinds and GPU reads and writes from several VMs sharing
 * fewer slots, against a page model. With the real flushes every read matches
 * the model and nothing is stale; with every 5th flush dropped, strict mode
 * must notice.
 */
#define RND_VMS 4
#define RND_PAGES 1024 /* a 4 MiB window per VM: two L3 tables */
#define RND_BO_PAGES 64
#define RND_BASE (2ull << 30)
#define RND_HOT 24 /* pages a burst works on */

struct rnd {
	struct mt_dev d;
	struct mt_bo bo;
	uint32_t vm[RND_VMS];
	int16_t page[RND_VMS][RND_PAGES]; /* BO page mapped there, or -1 */
	uint64_t seed;
	uint32_t hot; /* first page of the burst's hot pages */
	bool check_reads;
};

/* A page, or a run of @n pages, inside the burst's hot pages. */
static uint32_t rnd_hot(struct rnd *r, uint32_t n);

static uint32_t rnd_next(struct rnd *r, uint32_t n)
{
	r->seed = r->seed * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(r->seed >> 33) % n;
}

static uint32_t rnd_hot(struct rnd *r, uint32_t n)
{
	return r->hot + rnd_next(r, RND_HOT - n + 1);
}

static void rnd_map(struct rnd *r, unsigned int v)
{
	uint32_t n = 1 + rnd_next(r, 16), first = rnd_hot(r, n);
	uint32_t bo_page = rnd_next(r, RND_BO_PAGES - n);

	map(&r->d, r->vm[v], &r->bo, bo_page * MT_PAGE, RND_BASE + first * MT_PAGE, n * MT_PAGE);
	for (uint32_t i = 0; i < n; i++)
		r->page[v][first + i] = (int16_t)(bo_page + i);
}

static void rnd_unmap(struct rnd *r, unsigned int v)
{
	uint32_t n = 1 + rnd_next(r, 8), first = rnd_hot(r, n);

	unmap(&r->d, r->vm[v], RND_BASE + first * MT_PAGE, n * MT_PAGE);
	for (uint32_t i = 0; i < n; i++)
		r->page[v][first + i] = -1;
}

/* Read a page through the GPU; in checking mode it must be what the model says. */
/*
 * A hot page, mapped if one of a few tries finds one: a fault disables the
 * slot (and so empties its TLB), which the test wants now and then, not on
 * every other read.
 */
static uint32_t rnd_hot_mapped(struct rnd *r, unsigned int v)
{
	uint32_t p = rnd_hot(r, 1);

	for (unsigned int i = 0; i < 4 && r->page[v][p] < 0; i++)
		p = rnd_hot(r, 1);
	return p;
}

static void rnd_read(struct rnd *r, unsigned int v)
{
	uint32_t p = rnd_hot_mapped(r, v);
	struct mt_access res;
	uint64_t word = 0;

	assert_int_equal(mt_gpu_read(&r->d, r->vm[v], RND_BASE + p * MT_PAGE, &word, 8, &res), 0);
	if (!r->check_reads)
		return;
	if (r->page[v][p] < 0) {
		CHECK_EQ("unmapped page faults", res.status != 0, 1);
		return;
	}
	CHECK_STATUS("mapped page", res.status, 0);
	CHECK_EQ("mapped page", word, bo_word(&r->bo, (uint64_t)r->page[v][p]));
}

/* The GPU writes a fresh word; the CPU mapping of the BO must see it. */
static void rnd_write(struct rnd *r, unsigned int v)
{
	uint32_t p = rnd_hot_mapped(r, v);
	uint64_t word = r->seed;
	struct mt_access res;

	if (r->page[v][p] < 0 || !r->check_reads)
		return;
	assert_int_equal(mt_gpu_write(&r->d, r->vm[v], RND_BASE + p * MT_PAGE, &word, 8, &res), 0);
	CHECK_STATUS("write", res.status, 0);
	CHECK_EQ("CPU sees the GPU's write", bo_word(&r->bo, (uint64_t)r->page[v][p]), word);
}

/*
 * A burst of steps on one VM, around a few hot pages (as a job would touch
 * them), so that TLB entries get reused between binds; the next burst may
 * pick another VM and evict one.
 */
static void rnd_burst(struct rnd *r)
{
	unsigned int v = rnd_next(r, RND_VMS);

	r->hot = rnd_next(r, RND_PAGES - RND_HOT);
	for (unsigned int i = 0; i < 32; i++) {
		switch (rnd_next(r, 16)) {
		case 0:
			rnd_map(r, v);
			break;
		case 1:
			rnd_unmap(r, v);
			break;
		case 2:
		case 3:
			rnd_write(r, v);
			break;
		default:
			rnd_read(r, v);
		}
	}
}

static struct gpuvm_mock_stats rnd_run(uint64_t seed, unsigned int steps, unsigned int skip_every)
{
	struct mockdrm_cfg cfg = { .as_present = 0x7, .debug_skip_flush_every = skip_every };
	struct gpuvm_mock_stats s;
	static struct rnd r;

	memset(&r, 0, sizeof(r));
	memset(r.page, 0xff, sizeof(r.page));
	r.seed = seed;
	r.check_reads = !skip_every;
	mt_open(&r.d, &cfg);
	mt_bo_create(&r.d, RND_BO_PAGES * MT_PAGE, 30, &r.bo);
	for (unsigned int v = 0; v < RND_VMS; v++)
		r.vm[v] = mt_vm_create(&r.d);
	for (unsigned int i = 0; i < steps / 32; i++)
		rnd_burst(&r);
	s = stats_of(&r.d);
	print_message("seed %" PRIu64 ", %u steps, skip every %u: %llu hits, %llu misses, "
		      "%llu evictions, %llu stale, %llu freed\n",
		      seed, steps, skip_every, s.tlb_hits, s.tlb_misses, s.evictions,
		      s.stale_translations, s.freed_table_walks);
	mt_bo_destroy(&r.d, &r.bo);
	mt_close(&r.d);
	return s;
}

static void test_random_flushed(void **state)
{
	struct gpuvm_mock_stats s = rnd_run(1, 100000, 0);

	(void)state;
	CHECK_EQ("stale", s.stale_translations, 0);
	CHECK_EQ("freed walks", s.freed_table_walks, 0);
	assert_true(s.evictions > 100 && s.tlb_hits > 1000);
}

static void test_random_missing_flush(void **state)
{
	struct gpuvm_mock_stats s = rnd_run(1, 100000, 5);

	(void)state;
	assert_true(s.skipped_flushes > 0);
	assert_true(s.stale_translations > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lockaddr),
		cmocka_unit_test(test_program_slot),
		cmocka_unit_test(test_lock_stalls),
		cmocka_unit_test(test_stale_translation),
		cmocka_unit_test(test_freed_table_walk),
		cmocka_unit_test(test_freed_table_flushed),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_random_flushed),
		cmocka_unit_test(test_random_missing_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
