// SPDX-License-Identifier: MIT
/*
 * The core's self-tests (see selftest.h): table formats, map/unmap/split, walk,
 * random maps and unmaps above 4 GiB against a page model, exact reservation
 * and an allocation-free commit, repeat mapping, bind transactions of random
 * requests against a page model, tables freed only after the flush that waits
 * for readers (RCU-style deferred free), and at scale against models: a VM of
 * ~23000 VAs over 2^40 and vm/'s B+ tree on its own. tools/kmod/run-m32 runs
 * them as 32-bit code.
 *
 * Tables come from a pt_pool (kmalloc'd chunks in the kernel) through counting
 * ops, flushes wait for a grace period of the OS layer, and descriptor writes
 * are seen through the sync op (coherent_walk is false), so every test can
 * check when tables are allocated and freed against what the walker saw.
 */
#include <gpuvm/gvm.h>
#include <gpuvm/os.h>
#include <gpuvm/pt_pool.h>

#include "gvm_btree.h" /* vm/'s private tree: the self-tests run it at scale */
#include "selftest.h"

#define ST_MAX_POOLS 3 /* one per granule */
#define ST_MAX_UNFLUSHED 1024

/* An object of the bind test: physically contiguous from @pa. */
struct st_obj {
	struct gvm_obj base;
	uint64_t pa;
};

/* What the table memory ops of a test see (the fixture's; outlives the test's frame). */
struct st_mem_ctx {
	struct st *st;
	struct pt_pool *pool;
};

/*
 * struct st - one test's fixture; the runner tears down what the test left.
 * @allocs, @frees: table blocks through st_alloc_ops.
 * @allocs_in_commit: allocations while @in_commit (must stay 0).
 * @unflushed/@nr_unflushed: PAs of descriptors written (synced) and not flushed
 *	since; @unflushed_lost counts those that did not fit.
 * @early_frees: tables freed with a write in them not flushed yet (must stay 0).
 * @grace_periods: flushes, each waiting for an RCU grace period.
 * @mem: the context of the test's table memory ops.
 * @objs: the bind test's objects (VAs of a VM left by a failed test point at them).
 * @bt: the tree test's tree (empty in the other tests).
 * @scratch: a test's model, os_kvcalloc'd (NULL: none).
 */
struct st {
	pt_print_fn *print;
	void *ctx;
	bool failed;
	struct pt_pool *pool[ST_MAX_POOLS];
	struct pt *pt;
	struct gvm *vm;
	uint64_t allocs, frees, allocs_in_commit, early_frees, grace_periods;
	bool in_commit;
	uint64_t unflushed[ST_MAX_UNFLUSHED];
	unsigned int nr_unflushed;
	uint64_t unflushed_lost;
	uint64_t rng;
	struct st_mem_ctx mem;
	struct st_obj objs[2];
	struct gvm_bt bt;
	void *scratch;
};

/* Record a failed check with its line; the test returns early on it. */
static bool st_check(struct st *st, bool ok, int line, const char *what)
{
	if (!ok) {
		st->print(st->ctx, "# selftest.c:%d: check failed: %s\n", line, what);
		st->failed = true;
	}
	return ok;
}

#define ST_CHECK(st, cond)                                    \
	do {                                                  \
		if (!st_check((st), (cond), __LINE__, #cond)) \
			return;                               \
	} while (0)

static uint64_t st_rand(struct st *st)
{
	/* splitmix64: no division, the same sequence in both environments */
	uint64_t z = (st->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static uint64_t st_below(struct st *st, uint64_t n)
{
	return os_mod_u64(st_rand(st), n);
}

static struct pt_pool *st_pool(struct st *st, unsigned int granule_lg2)
{
	unsigned int i = (granule_lg2 - 12) / 2;
	struct pt_pool_cfg cfg = { .page_size = (size_t)1 << granule_lg2 };

	if (!st->pool[i] && pt_pool_create(&cfg, &st->pool[i]))
		return NULL;
	return st->pool[i];
}

/* --- table memory, flushes and syncs, watched --- */

static int st_alloc(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	struct st_mem_ctx *m = ctx;

	m->st->allocs++;
	m->st->allocs_in_commit += m->st->in_commit;
	return pt_pool_ops.alloc(m->pool, size, align, out);
}

static void st_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct st_mem_ctx *m = ctx;

	m->st->frees++;
	/* A table the walker may have followed: it changed, and no flush since. */
	for (unsigned int i = 0; i < m->st->nr_unflushed; i++)
		m->st->early_frees += m->st->unflushed[i] - mem->pa < size;
	pt_pool_ops.free(m->pool, mem, size, align);
}

static const struct pt_alloc_ops st_alloc_ops = {
	.alloc = st_alloc,
	.free = st_free,
};

/* A walker may still hold what was unlinked: wait for it before anything is freed. */
static void st_flush_done(struct st *st)
{
	os_synchronize_rcu();
	st->grace_periods++;
	st->nr_unflushed = 0;
}

static void st_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	(void)va;
	(void)size;
	(void)leaf_only;
	st_flush_done(ctx);
}

static void st_flush_all(void *ctx)
{
	st_flush_done(ctx);
}

static const struct pt_flush_ops st_flush_ops = {
	.flush_range = st_flush_range,
	.flush_all = st_flush_all,
};

static void st_sync(void *ctx, uint64_t pa, const void *cpu, size_t len)
{
	struct st *st = ctx;

	(void)cpu;
	(void)len;
	if (st->nr_unflushed < ST_MAX_UNFLUSHED)
		st->unflushed[st->nr_unflushed++] = pa;
	else
		st->unflushed_lost++;
}

static const struct pt_sync_ops st_sync_ops = { .sync = st_sync };

/* A configuration whose memory, flushes and syncs go through @st. */
static bool st_cfg(struct st *st, struct pt_cfg *cfg, enum pt_format fmt, unsigned int granule_lg2,
		   unsigned int ias)
{
	struct st_mem_ctx *m = &st->mem;

	m->st = st;
	m->pool = st_pool(st, granule_lg2);
	*cfg = (struct pt_cfg){
		.fmt = fmt,
		.granule_lg2 = granule_lg2,
		.ias = ias,
		.oas = 40,
		.alloc = &st_alloc_ops,
		.alloc_ctx = m,
		.flush = &st_flush_ops,
		.flush_ctx = st,
		.sync = &st_sync_ops,
		.sync_ctx = st,
	};
	return m->pool != NULL;
}

/* Does @va translate to @pa with a leaf of @leaf_size (0: any)? */
static bool st_maps(struct st *st, uint64_t va, uint64_t pa, uint64_t leaf_size)
{
	struct pt_walk_result res;

	if (pt_walk(st->pt, va, &res))
		return false;
	return res.pa == pa && (!leaf_size || res.leaf_size == leaf_size);
}

static bool st_unmapped(struct st *st, uint64_t va)
{
	struct pt_walk_result res;

	return pt_walk(st->pt, va, &res) == -ENOENT;
}

static bool st_valid(struct st *st)
{
	return pt_validate(st->pt, st->print, st->ctx) == 0;
}

/* --- the tests --- */

struct st_format {
	enum pt_format fmt;
	unsigned int granule_lg2;
};

static const struct st_format st_formats[] = {
	{ PT_FMT_ARM64_S1, 12 },     { PT_FMT_ARM64_S1, 14 }, { PT_FMT_ARM64_S1, 16 },
	{ PT_FMT_ARM64_S2, 12 },     { PT_FMT_ARM64_S2, 16 }, { PT_FMT_MALI_LPAE, 12 },
	{ PT_FMT_MALI_AARCH64, 12 },
};

/* One format: a page maps and walks, an entry round-trips, the tree validates. */
static void st_one_format(struct st *st, const struct st_format *f)
{
	uint64_t granule = 1ull << f->granule_lg2, va = 5 * granule, pa = 0x40000000, desc;
	struct pt_entry e = { .type = PT_ENTRY_LEAF, .addr = pa, .prot = PT_PROT_READ };
	struct pt_hw_regs regs;
	struct pt_cfg cfg;

	ST_CHECK(st, st_cfg(st, &cfg, f->fmt, f->granule_lg2, 39));
	ST_CHECK(st, pt_create(&cfg, &st->pt) == 0);
	ST_CHECK(st, pt_map(st->pt, va, pa, granule, PT_PROT_READ | PT_PROT_WRITE) == 0);
	ST_CHECK(st, st_maps(st, va, pa, granule) && st_unmapped(st, va + granule));
	ST_CHECK(st, pt_encode_entry(st->pt, PT_LEAF_LEVEL, &e, &desc) == 0);
	e = (struct pt_entry){ 0 };
	ST_CHECK(st, pt_decode_entry(st->pt, PT_LEAF_LEVEL, desc, &e) == 0);
	ST_CHECK(st, e.type == PT_ENTRY_LEAF && e.addr == pa && e.prot == PT_PROT_READ);
	pt_get_regs(st->pt, &regs);
	ST_CHECK(st, regs.fmt == f->fmt);
	ST_CHECK(st, st_valid(st));
	pt_destroy(st->pt);
	st->pt = NULL;
}

static void st_table_formats(struct st *st)
{
	for (unsigned int i = 0; i < sizeof(st_formats) / sizeof(st_formats[0]) && !st->failed; i++)
		st_one_format(st, &st_formats[i]);
}

static bool st_new_pt(struct st *st)
{
	struct pt_cfg cfg;

	return st_cfg(st, &cfg, PT_FMT_ARM64_S1, 12, 39) && pt_create(&cfg, &st->pt) == 0;
}

/* A 2 MiB block cut by a 4 KiB unmap becomes a table that keeps the rest. */
static void st_map_unmap_split(struct st *st)
{
	const uint64_t va = 0x200000, pa = 0x40000000, block = 0x200000;
	uint64_t unmapped = 0;

	ST_CHECK(st, st_new_pt(st));
	ST_CHECK(st, pt_map(st->pt, va, pa, block, PT_PROT_READ) == 0);
	ST_CHECK(st, st_maps(st, va + 0x1000, pa + 0x1000, block));
	ST_CHECK(st, pt_map(st->pt, va + 0x1000, pa, 0x1000, PT_PROT_READ) == -EEXIST);
	ST_CHECK(st, pt_unmap(st->pt, va + 0x1000, 0x1000, &unmapped) == 0);
	ST_CHECK(st, unmapped == 0x1000 && st_unmapped(st, va + 0x1000));
	ST_CHECK(st, st_maps(st, va, pa, 0x1000) && st_maps(st, va + 0x2000, pa + 0x2000, 0x1000));
	ST_CHECK(st, st_maps(st, va + block - 0x1000, pa + block - 0x1000, 0x1000));
	ST_CHECK(st, pt_unmap(st->pt, va, block, &unmapped) == 0 && unmapped == block - 0x1000);
	ST_CHECK(st, st_unmapped(st, va) && st_valid(st));
	ST_CHECK(st, pt_map(st->pt, va, pa, 0x1000, PT_PROT_READ | PT_PROT_MMIO | PT_PROT_CACHE) ==
			     -EINVAL);
}

/* Every page of a window translates as mapped: leaves of three sizes, holes between. */
static void st_walk(struct st *st)
{
	const uint64_t base = 0x40000000, pa = 0x80000000;
	struct pt_walk_result res;

	ST_CHECK(st, st_new_pt(st));
	/* 4K pages, a 2M block, a 1G block: one range of 1G + 2M + 16K */
	ST_CHECK(st, pt_map(st->pt, base - 0x4000, pa - 0x4000, 0x40204000, PT_PROT_READ) == 0);
	for (uint64_t off = 0; off < 0x600000; off += 0x1000) {
		uint64_t va = base - 0x300000 + off;
		bool in = va >= base - 0x4000 && va < base + 0x40200000;

		ST_CHECK(st, in ? st_maps(st, va, va - base + pa, 0) : st_unmapped(st, va));
	}
	ST_CHECK(st, pt_walk(st->pt, base, &res) == 0 && res.leaf_size == 0x40000000);
	ST_CHECK(st, pt_walk(st->pt, base + 0x40000000, &res) == 0 && res.leaf_size == 0x200000);
	ST_CHECK(st, pt_walk(st->pt, base - 0x1000, &res) == 0 && res.leaf_size == 0x1000);
	ST_CHECK(st, pt_walk(st->pt, 1ull << 39, &res) != 0);
	ST_CHECK(st, st_valid(st));
}

/*
 * Reserve a map, a second map and an unmap that splits the first: the commit
 * consumes exactly what was reserved and allocates nothing.
 */
static void st_reserve_commit(struct st *st)
{
	const struct pt_op ops[] = {
		{ .type = PT_OP_MAP,
		  .va = 0x200000,
		  .size = 0x200000,
		  .pa = 0x40000000,
		  .prot = PT_PROT_READ },
		{ .type = PT_OP_MAP,
		  .va = 0x7f000000,
		  .size = 0x3000,
		  .pa = 0x50000000,
		  .prot = PT_PROT_READ | PT_PROT_WRITE },
		{ .type = PT_OP_UNMAP, .va = 0x201000, .size = 0x1000 },
	};
	unsigned int n = sizeof(ops) / sizeof(ops[0]);
	struct pt_resv resv;
	uint64_t allocs;

	ST_CHECK(st, st_new_pt(st));
	pt_resv_init(&resv);
	for (unsigned int i = 0; i < n; i++)
		ST_CHECK(st, pt_reserve(st->pt, &ops[i], &resv) == 0);
	ST_CHECK(st, st_unmapped(st, 0x200000) && resv.reserved > 0);
	allocs = st->allocs;
	st->in_commit = true;
	pt_commit_begin(st->pt, &resv);
	for (unsigned int i = 0; i < n; i++)
		pt_commit(st->pt, &resv, &ops[i], NULL);
	pt_commit_end(st->pt, &resv);
	st->in_commit = false;
	ST_CHECK(st, st->allocs_in_commit == 0 && st->allocs == allocs);
	ST_CHECK(st, resv.consumed == resv.reserved);
	pt_unreserve(st->pt, &resv);
	ST_CHECK(st, st_maps(st, 0x200000, 0x40000000, 0x1000) && st_unmapped(st, 0x201000));
	ST_CHECK(st, st_maps(st, 0x7f002000, 0x50002000, 0x1000) && st_valid(st));
}

/* 64 GiB of a 3-page pattern, and 256 GiB of one page in a handful of tables. */
static void st_repeat(struct st *st)
{
	const struct pt_pattern three = { .pa = 0x40000000, .period = 0x3000 };
	const struct pt_pattern one = { .pa = 0x50000000, .period = 0x1000 };
	struct pt_stats stats;

	ST_CHECK(st, st_new_pt(st));
	ST_CHECK(st, pt_map_repeat(st->pt, 0x1000, 0x6000000, &three, PT_PROT_READ) == 0);
	for (uint64_t i = 0; i < 64; i++) {
		uint64_t off = st_below(st, 0x6000000 >> 12) << 12;

		ST_CHECK(st, st_maps(st, 0x1000 + off, three.pa + os_mod_u64(off, three.period),
				     0x1000));
	}
	ST_CHECK(st, pt_map_repeat(st->pt, 1ull << 38, 1ull << 38, &one, PT_PROT_READ) == 0);
	ST_CHECK(st, st_maps(st, (1ull << 38) + 0x123456000, one.pa, 0));
	pt_get_stats(st->pt, &stats);
	ST_CHECK(st, stats.tables < 64);
	ST_CHECK(st, pt_unmap(st->pt, (1ull << 38) + 0x1000, 0x1000, NULL) == 0);
	ST_CHECK(st, st_unmapped(st, (1ull << 38) + 0x1000));
	ST_CHECK(st, st_maps(st, (1ull << 38) + 0x2000, one.pa, 0x1000));
	ST_CHECK(st, st_maps(st, (1ull << 39) - 0x1000, one.pa, 0));
	ST_CHECK(st, st_valid(st));
}

/* Map many pages over several leaf tables, unmap them: tables go only after a flush. */
static void st_deferred_free(struct st *st)
{
	struct pt_resv resv;
	const struct pt_op unmap = { .type = PT_OP_UNMAP, .va = 0, .size = 8ull << 30 };

	ST_CHECK(st, st_new_pt(st));
	for (uint64_t i = 0; i < 8; i++)
		ST_CHECK(st, pt_map(st->pt, i << 30, 0x40000000, 0x10000, PT_PROT_READ) == 0);
	ST_CHECK(st, pt_unmap(st->pt, 0, 4ull << 30, NULL) == 0);
	ST_CHECK(st, st->frees >= 4 && st->early_frees == 0 && st->unflushed_lost == 0 &&
			     st->grace_periods > 0);
	pt_resv_init(&resv);
	ST_CHECK(st, pt_reserve(st->pt, &unmap, &resv) == 0);
	pt_commit_begin(st->pt, &resv);
	pt_commit(st->pt, &resv, &unmap, NULL);
	pt_commit_end(st->pt, &resv);
	pt_unreserve(st->pt, &resv);
	ST_CHECK(st, st->frees >= 8 && st->early_frees == 0 && st->unflushed_lost == 0);
	ST_CHECK(st, st_unmapped(st, 5ull << 30) && st_valid(st));
}

/* --- page tables against a page model, above 4 GiB --- */

#define ST_PT_PAGES 1024u
/* 2 MiB aligned, above 4 GiB, across a 1 GiB boundary: two level-1 items, two blocks */
#define ST_PT_BASE 0x53fe00000ull
#define ST_PT_PA 0x7c0000000ull
#define ST_PT_OPS 400u

/* What each page of the window maps: 0 or the PA. */
struct st_pt_model {
	uint64_t pa[ST_PT_PAGES];
};

/* A random run of the window: often a whole aligned 2 MiB, mostly short, sometimes long. */
static void st_pt_run(struct st *st, uint64_t *first, uint64_t *len)
{
	if (!st_below(st, 4)) {
		*len = 512;
		*first = st_below(st, 2) * 512;
		return;
	}
	*len = 1 + st_below(st, st_below(st, 8) ? 16 : 600);
	*first = st_below(st, ST_PT_PAGES - *len + 1);
}

/* Map a run: -EEXIST when any page of it is mapped (the walks then find nothing changed). */
static void st_pt_map(struct st *st, struct st_pt_model *m, uint64_t first, uint64_t len)
{
	/* The PA keeps the VA's offset in 2 MiB: whole blocks map as blocks. */
	uint64_t va = ST_PT_BASE + (first << 12),
		 pa = ST_PT_PA + (st_below(st, 4) << 30) + (first << 12);
	bool busy = false;

	for (uint64_t i = first; i < first + len; i++)
		busy |= m->pa[i] != 0;
	ST_CHECK(st, pt_map(st->pt, va, pa, len << 12, PT_PROT_READ) == (busy ? -EEXIST : 0));
	if (busy)
		return;
	for (uint64_t i = 0; i < len; i++)
		m->pa[first + i] = pa + (i << 12);
	ST_CHECK(st, len != 512 || (first & 511) || st_maps(st, va, pa, 0x200000));
}

/* Unmap a run: the bytes reported are those the model had mapped. */
static void st_pt_unmap(struct st *st, struct st_pt_model *m, uint64_t first, uint64_t len)
{
	uint64_t mapped = 0, unmapped = ~0ull;

	for (uint64_t i = first; i < first + len; i++) {
		mapped += m->pa[i] ? 0x1000 : 0;
		m->pa[i] = 0;
	}
	ST_CHECK(st, pt_unmap(st->pt, ST_PT_BASE + (first << 12), len << 12, &unmapped) == 0);
	ST_CHECK(st, unmapped == mapped);
}

/* Every page of the window and one on each side walks as the model says. */
static bool st_pt_matches(struct st *st, const struct st_pt_model *m)
{
	for (uint64_t i = 0; i < ST_PT_PAGES; i++) {
		uint64_t va = ST_PT_BASE + (i << 12);

		if (m->pa[i] ? !st_maps(st, va, m->pa[i], 0) : !st_unmapped(st, va))
			return false;
	}
	return st_unmapped(st, ST_PT_BASE - 0x1000) &&
	       st_unmapped(st, ST_PT_BASE + ((uint64_t)ST_PT_PAGES << 12)) && st_valid(st);
}

/*
 * Random maps and unmaps of pages and blocks at VAs and PAs above 4 GiB,
 * walked page by page after each: on a 32-bit machine an address or a size
 * cut to a long or a size_t fails here.
 */
static void st_pt_random(struct st *st)
{
	struct st_pt_model *m = os_kvcalloc(1, sizeof(*m));
	uint64_t first, len;

	st->scratch = m;
	ST_CHECK(st, m != NULL && st_new_pt(st));
	for (unsigned int n = 0; n < ST_PT_OPS && !st->failed; n++) {
		st_pt_run(st, &first, &len);
		if (st_below(st, 2))
			st_pt_map(st, m, first, len);
		else
			st_pt_unmap(st, m, first, len);
		ST_CHECK(st, st_pt_matches(st, m));
	}
	st_pt_unmap(st, m, 0, ST_PT_PAGES);
	ST_CHECK(st, st_pt_matches(st, m));
}

/* --- bind transactions against a page model --- */

#define ST_VM_PAGES 64
#define ST_OBJ_PAGES 16
#define ST_VM_START 0x100000ull

static int st_obj_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	struct st_obj *o = (struct st_obj *)obj;

	*pa = o->pa + offset;
	*contig = obj->size - offset;
	return 0;
}

static const struct gvm_obj_ops st_obj_ops = { .phys = st_obj_phys };

/* What each page of the VM maps: 0 or the PA. */
struct st_model {
	uint64_t pa[ST_VM_PAGES];
};

static void st_model_apply(struct st_model *model, const struct gvm_req *req)
{
	uint64_t first = (req->va - ST_VM_START) >> 12, n = req->size >> 12;

	for (uint64_t i = 0; i < n; i++)
		model->pa[first + i] = req->type == GVM_REQ_MAP ? ((struct st_obj *)req->obj)->pa +
									  req->offset + (i << 12) :
								  0;
}

static void st_random_req(struct st *st, struct st_obj *objs, struct gvm_req *req)
{
	uint64_t len = 1 + st_below(st, 8), first = st_below(st, ST_VM_PAGES - len + 1);

	*req = (struct gvm_req){ .va = ST_VM_START + (first << 12), .size = len << 12 };
	if (st_below(st, 3)) {
		req->type = GVM_REQ_MAP;
		req->obj = &objs[st_below(st, 2)].base;
		req->offset = st_below(st, ST_OBJ_PAGES - len + 1) << 12;
		req->prot = PT_PROT_READ | PT_PROT_WRITE;
	} else {
		req->type = GVM_REQ_UNMAP;
	}
}

static bool st_matches(struct st *st, const struct st_model *model)
{
	for (uint64_t i = 0; i < ST_VM_PAGES; i++) {
		uint64_t va = ST_VM_START + (i << 12);

		if (model->pa[i] ? !st_maps(st, va, model->pa[i], 0) : !st_unmapped(st, va))
			return false;
	}
	return gvm_validate(st->vm, st->print, st->ctx) == 0 && st_valid(st);
}

/* One transaction of 1-3 random requests; a quarter are given up instead of committed. */
static void st_one_txn(struct st *st, struct st_obj *objs, struct st_model *model)
{
	struct gvm_req reqs[3];
	unsigned int n = 1 + (unsigned int)st_below(st, 3), failed;
	bool give_up = st_below(st, 4) == 0;
	struct gvm_txn *txn;

	for (unsigned int i = 0; i < n; i++)
		st_random_req(st, objs, &reqs[i]);
	ST_CHECK(st, gvm_bind_prepare(st->vm, reqs, n, &txn, &failed) == 0);
	if (!give_up) {
		st->in_commit = true;
		gvm_bind_commit(txn);
		st->in_commit = false;
		for (unsigned int i = 0; i < n; i++)
			st_model_apply(model, &reqs[i]);
	}
	gvm_bind_cleanup(txn);
	ST_CHECK(st, st->allocs_in_commit == 0);
	ST_CHECK(st, st->early_frees == 0 && st->unflushed_lost == 0);
	ST_CHECK(st, st_matches(st, model));
}

static void st_bind_random(struct st *st)
{
	struct st_obj *objs = st->objs;
	struct st_model model = { { 0 } };
	struct pt_cfg cfg;
	struct gvm_cfg vcfg = {
		.start = ST_VM_START,
		.end = ST_VM_START + ((uint64_t)ST_VM_PAGES << 12),
		.page_lg2 = 12,
		.backend = &gvm_backend_paging,
		.backend_cfg = &cfg,
	};

	ST_CHECK(st, st_cfg(st, &cfg, PT_FMT_MALI_AARCH64, 12, 39));
	for (unsigned int i = 0; i < 2; i++) {
		objs[i].pa = 0x40000000 + ((uint64_t)i << 27);
		ST_CHECK(st, gvm_obj_init(&objs[i].base, &st_obj_ops, ST_OBJ_PAGES << 12) == 0);
	}
	ST_CHECK(st, gvm_create(&vcfg, &st->vm) == 0);
	st->pt = gvm_get_pt(st->vm);
	for (unsigned int round = 0; round < 200 && !st->failed; round++)
		st_one_txn(st, objs, &model);
	ST_CHECK(st, !st->failed);
	gvm_destroy(st->vm);
	st->vm = NULL;
	st->pt = NULL;
	/* The teardown dropped every VA's link: the objects are free to go. */
	for (unsigned int i = 0; i < 2; i++)
		ST_CHECK(st, gvm_obj_fini(&objs[i].base) == 0);
	ST_CHECK(st, st->allocs == st->frees);
}

/* --- a VM of many VAs spread over 2^40, against a model of its VAs --- */

#define ST_VS_SLOTS 8192u
#define ST_VS_PAGES 16u            /* pages of a slot: every request stays in one */
#define ST_VS_SPACING (1ull << 27) /* ST_VS_SLOTS of them span 2^40 */
#define ST_VS_STEPS 40000u

/*
 * Slot s is ST_VS_PAGES pages from @base[s] (a random place in its 2^27);
 * @id[s * ST_VS_PAGES + k] names the VA that maps page k of it (0: none): a
 * VA is a maximal run of one id, as no two VAs share one.
 */
struct st_vs_model {
	uint64_t base[ST_VS_SLOTS];
	uint32_t id[ST_VS_SLOTS * ST_VS_PAGES];
	uint32_t last_id;
	uint64_t vas;
};

/*
 * Map (a new VA) or unmap pages [@a, @b) of the slot whose ids are @pg. A VA
 * over both ends loses its middle and leaves two: the right one a new id.
 */
static void st_vs_apply(struct st_vs_model *m, uint32_t *pg, unsigned int a, unsigned int b,
			bool map)
{
	uint32_t id = map ? ++m->last_id : 0;

	if (a > 0 && b < ST_VS_PAGES && pg[a - 1] && pg[a - 1] == pg[b]) {
		uint32_t old = pg[b], right = ++m->last_id;

		for (unsigned int k = b; k < ST_VS_PAGES && pg[k] == old; k++)
			pg[k] = right;
	}
	for (unsigned int k = a; k < b; k++)
		pg[k] = id;
}

/* The VAs over slot @s, in order, are the model's runs; identity: offset == VA. */
static bool st_vs_slot_matches(struct st *st, const struct st_vs_model *m, unsigned int s)
{
	uint64_t base = m->base[s], end = base + ((uint64_t)ST_VS_PAGES << 12);
	const uint32_t *pg = &m->id[s * ST_VS_PAGES];
	struct gvm_va *va = gvm_va_first(st->vm, base, end);

	for (unsigned int k = 0, e; k < ST_VS_PAGES; k = e) {
		for (e = k + 1; e < ST_VS_PAGES && pg[e] == pg[k]; e++)
			;
		if (!pg[k])
			continue;
		if (!va || va->va != base + ((uint64_t)k << 12) ||
		    va->size != (uint64_t)(e - k) << 12 || va->offset != va->va)
			return false;
		va = gvm_va_next(st->vm, va, end);
	}
	return va == NULL;
}

/* The VAs of the model, counted. */
static uint64_t st_vs_count(const struct st_vs_model *m)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < ST_VS_SLOTS * ST_VS_PAGES; i++)
		n += m->id[i] && (i % ST_VS_PAGES == 0 || m->id[i - 1] != m->id[i]);
	return n;
}

/* A request over pages of slot @s: a map (identity: offset == VA) or an unmap. */
static void st_vs_req(struct st *st, const struct st_vs_model *m, unsigned int s,
		      struct gvm_req *req, unsigned int *a, unsigned int *b)
{
	*a = (unsigned int)st_below(st, ST_VS_PAGES);
	*b = *a + 1 + (unsigned int)st_below(st, ST_VS_PAGES - *a);
	*req = (struct gvm_req){ .va = m->base[s] + ((uint64_t)*a << 12),
				 .size = (uint64_t)(*b - *a) << 12 };
	if (st_below(st, 3)) {
		req->type = GVM_REQ_MAP;
		req->obj = &st->objs[0].base;
		req->offset = req->va;
		req->prot = PT_PROT_READ;
	} else {
		req->type = GVM_REQ_UNMAP;
	}
}

/* One bind of one request, or two: the second in the same slot or the next. */
static void st_vs_step(struct st *st, struct st_vs_model *m)
{
	unsigned int s[2], a[2], b[2], n = 1 + (unsigned int)st_below(st, 2), failed;
	struct gvm_req reqs[2];

	s[0] = (unsigned int)st_below(st, ST_VS_SLOTS - 1);
	s[1] = s[0] + (unsigned int)st_below(st, 2);
	for (unsigned int r = 0; r < n; r++)
		st_vs_req(st, m, s[r], &reqs[r], &a[r], &b[r]);
	ST_CHECK(st, gvm_bind(st->vm, reqs, n, &failed) == 0);
	for (unsigned int r = 0; r < n; r++)
		st_vs_apply(m, &m->id[s[r] * ST_VS_PAGES], a[r], b[r], reqs[r].type == GVM_REQ_MAP);
	for (unsigned int r = 0; r < n; r++)
		ST_CHECK(st, st_vs_slot_matches(st, m, s[r]));
}

static bool st_vs_create(struct st *st, struct st_vs_model *m)
{
	struct gvm_cfg cfg = {
		.start = 0,
		.end = ST_VS_SPACING * ST_VS_SLOTS,
		.page_lg2 = 12,
		.backend = &gvm_backend_identity,
	};

	for (unsigned int s = 0; s < ST_VS_SLOTS; s++)
		m->base[s] = s * ST_VS_SPACING +
			     (st_below(st, (ST_VS_SPACING >> 12) - ST_VS_PAGES) << 12);
	st->objs[0].pa = 0;
	return gvm_obj_init(&st->objs[0].base, &st_obj_ops, cfg.end) == 0 &&
	       gvm_create(&cfg, &st->vm) == 0;
}

/*
 * The VA manager's own use of its tree at scale: ~30000 VAs at sparse starts,
 * maps over VAs and cuts through them (in place in the tree, or erase and
 * insert), checked against the model slot by slot after each bind and in
 * full with gvm_validate() every 4096 binds.
 */
static void st_vm_sparse(struct st *st)
{
	struct st_vs_model *m = os_kvcalloc(1, sizeof(*m));
	struct gvm_stats stats;

	st->scratch = m;
	ST_CHECK(st, m != NULL && st_vs_create(st, m));
	for (unsigned int n = 1; n <= ST_VS_STEPS && !st->failed; n++) {
		st_vs_step(st, m);
		if (n % 4096 == 0)
			ST_CHECK(st, gvm_validate(st->vm, st->print, st->ctx) == 0);
	}
	gvm_get_stats(st->vm, &stats);
	st->print(st->ctx, "# vm: %u VAs, %u replaced in place\n", (unsigned int)stats.vas,
		  (unsigned int)stats.replaced_in_place);
	ST_CHECK(st, stats.vas == st_vs_count(m) && stats.replaced_in_place > 0);
	for (unsigned int s = 0; s < ST_VS_SLOTS; s++)
		ST_CHECK(st, st_vs_slot_matches(st, m, s));
	gvm_destroy(st->vm);
	st->vm = NULL;
	ST_CHECK(st, gvm_obj_fini(&st->objs[0].base) == 0);
}

/* --- the B+ tree at scale: sparse starts, updates through paths, against a model --- */

#define ST_BT_KEYS 65536u /* the keys that may be in the tree */
#define ST_BT_STEPS 150000u
#define ST_BT_SPAN (1ull << 40) /* starts are drawn from it: few are shared */

/*
 * The model: key i of the universe starts at @start[i] (non-decreasing) and
 * is in the tree when @variant[i] is 1 or 2, with the tie of st_bt_key(m, i, variant).
 * Two variants give replace a new tie for the same start.
 */
struct st_bt_model {
	uint64_t start[ST_BT_KEYS];
	uint8_t variant[ST_BT_KEYS];
	uint64_t count;
	unsigned int by_path, not_by_path; /* updates done through a path, and without */
};

static void *st_bt_zalloc(void *ctx, size_t size)
{
	(void)ctx;
	return os_zalloc(size);
}

static void st_bt_free(void *ctx, void *ptr)
{
	(void)ctx;
	os_free(ptr);
}

static const struct gvm_bt_alloc st_bt_alloc = { .zalloc = st_bt_zalloc, .free = st_bt_free };

/*
 * Ties order the keys of one start by index (i < j: every tie of i below
 * every tie of j) and lie at the top of uintptr_t: their high bits are set,
 * so a tie cut to fewer bits or read from the wrong offset does not match.
 */
static struct gvm_bt_key st_bt_key(const struct st_bt_model *m, unsigned int i, unsigned int v)
{
	return (struct gvm_bt_key){ m->start[i],
				    UINTPTR_MAX - ((uintptr_t)(ST_BT_KEYS - i) << 2) + v };
}

static bool st_key_eq(struct gvm_bt_key a, struct gvm_bt_key b)
{
	return a.start == b.start && a.tie == b.tie;
}

/* Sorted starts with random gaps over ST_BT_SPAN; one in 16 repeats the previous start. */
static void st_bt_universe(struct st *st, struct st_bt_model *m)
{
	uint64_t at = st_below(st, 1000);

	for (unsigned int i = 0; i < ST_BT_KEYS; i++) {
		if (st_below(st, 16))
			at += 1 + st_below(st, 2 * (ST_BT_SPAN / ST_BT_KEYS));
		m->start[i] = at;
	}
}

/* The model's last key starting at or before @x, or -1. */
static int st_bt_model_le(const struct st_bt_model *m, uint64_t x)
{
	unsigned int lo = 0, hi = ST_BT_KEYS;
	int i;

	while (lo < hi) { /* the first start above @x */
		unsigned int mid = lo + (hi - lo) / 2;

		if (m->start[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = (int)lo - 1; i >= 0 && !m->variant[i]; i--)
		;
	return i;
}

/* The tree's answer for the last key starting at or before @x is the model's. */
static bool st_bt_find_matches(struct st *st, const struct st_bt_model *m, uint64_t x)
{
	struct gvm_bt_cur cur;
	bool found = gvm_bt_find_le(&st->bt, x, &cur);
	int i = st_bt_model_le(m, x);

	if (i < 0)
		return !found;
	return found && st_key_eq(gvm_bt_get(&cur), st_bt_key(m, (unsigned int)i, m->variant[i]));
}

/* Every key of the tree in order, the model's present keys, and every invariant. */
static bool st_bt_all_match(struct st *st, const struct st_bt_model *m)
{
	struct gvm_bt_cur cur;
	bool more = gvm_bt_first(&st->bt, &cur);

	for (unsigned int i = 0; i < ST_BT_KEYS; i++) {
		if (!m->variant[i])
			continue;
		if (!more || !st_key_eq(gvm_bt_get(&cur), st_bt_key(m, i, m->variant[i])))
			return false;
		more = gvm_bt_next(&cur);
	}
	return !more && st->bt.count == m->count && gvm_bt_validate(&st->bt) == 0;
}

#define ST_BT_COLLECT 8

/*
 * gvm_bt_collect() from @x over a few keys' span: the ties the model has
 * there (-ENOSPC past ST_BT_COLLECT); its path is left in @p.
 */
static bool st_bt_collect_matches(struct st *st, const struct st_bt_model *m, uint64_t x,
				  struct gvm_bt_path *p)
{
	uint64_t end = x + 1 + st_below(st, 8 * (ST_BT_SPAN / ST_BT_KEYS));
	uintptr_t ties[ST_BT_COLLECT];
	int n = gvm_bt_collect(&st->bt, x, end, p, ties, ST_BT_COLLECT), want = 0;
	int i = st_bt_model_le(m, x);

	for (unsigned int j = i < 0 ? 0 : (unsigned int)i; j < ST_BT_KEYS && m->start[j] < end;
	     j++) {
		if (!m->variant[j])
			continue;
		if (want < n && ties[want] != st_bt_key(m, j, m->variant[j]).tie)
			return false;
		want++;
	}
	return n == (want > ST_BT_COLLECT ? -ENOSPC : want);
}

static void st_bt_insert(struct st *st, struct st_bt_model *m, struct gvm_bt_path *p,
			 unsigned int i)
{
	unsigned int v = 1 + (unsigned int)st_below(st, 2);

	if (gvm_bt_insert_at(&st->bt, p, st_bt_key(m, i, v))) {
		m->by_path++;
	} else {
		gvm_bt_insert(&st->bt, st_bt_key(m, i, v));
		p->leaf = NULL; /* the tree changed under the path */
		m->not_by_path++;
	}
	m->variant[i] = (uint8_t)v;
	m->count++;
}

static void st_bt_erase(struct st *st, struct st_bt_model *m, struct gvm_bt_path *p, unsigned int i)
{
	if (gvm_bt_erase_at(&st->bt, p, st_bt_key(m, i, m->variant[i]))) {
		m->by_path++;
	} else {
		gvm_bt_erase(&st->bt, st_bt_key(m, i, m->variant[i]));
		p->leaf = NULL;
		m->not_by_path++;
	}
	m->variant[i] = 0;
	m->count--;
}

/* Is key i the last present key of its start (the key replace finds)? */
static bool st_bt_last_of_start(const struct st_bt_model *m, unsigned int i)
{
	for (unsigned int j = i + 1; j < ST_BT_KEYS && m->start[j] == m->start[i]; j++) {
		if (m->variant[j])
			return false;
	}
	return true;
}

/* Key i takes its other tie: through the path, else a descent, else erase and insert. */
static void st_bt_replace(struct st *st, struct st_bt_model *m, struct gvm_bt_path *p,
			  unsigned int i)
{
	struct gvm_bt_key old = st_bt_key(m, i, m->variant[i]);
	struct gvm_bt_key k = st_bt_key(m, i, 3u - m->variant[i]);
	uintptr_t was = gvm_bt_replace_at(&st->bt, p, k);

	m->by_path += was != 0;
	m->not_by_path += was == 0;
	if (!was)
		was = gvm_bt_replace(&st->bt, k);
	if (!was) { /* a separator holds the old key */
		gvm_bt_erase(&st->bt, old);
		gvm_bt_insert(&st->bt, k);
		p->leaf = NULL;
		was = old.tie;
	}
	ST_CHECK(st, was == old.tie);
	m->variant[i] = (uint8_t)(3u - m->variant[i]);
}

/*
 * Key i moves to an absent key a few places away, in place in the leaf of the
 * path when it fits between the neighbours there; else nothing changes.
 */
static void st_bt_swap(struct st *st, struct st_bt_model *m, struct gvm_bt_path *p, unsigned int i)
{
	unsigned int d = 1 + (unsigned int)st_below(st, 3);
	unsigned int j = st_below(st, 2) ? i + d : i - d, v = 1 + (unsigned int)st_below(st, 2);

	if (j >= ST_BT_KEYS || m->variant[j])
		return;
	if (gvm_bt_swap_at(&st->bt, p, st_bt_key(m, i, m->variant[i]), st_bt_key(m, j, v))) {
		m->variant[j] = (uint8_t)v;
		m->variant[i] = 0;
		m->by_path++;
	}
}

/* Insert key i when absent; else erase it, give it its other tie or move it. */
static void st_bt_update(struct st *st, struct st_bt_model *m, struct gvm_bt_path *p,
			 unsigned int i)
{
	uint64_t choice = st_below(st, 4);

	if (!m->variant[i])
		st_bt_insert(st, m, p, i);
	else if (choice < 2)
		st_bt_erase(st, m, p, i);
	else if (choice == 2 && st_bt_last_of_start(m, i))
		st_bt_replace(st, m, p, i);
	else
		st_bt_swap(st, m, p, i);
}

/*
 * One step: a path from a lookup (find_le, a quarter of the time collect;
 * mostly of the key's own start, sometimes of a neighbour's, whose leaf may
 * not be the key's; a quarter of the time with a stale slot guess), an update
 * through it, often a second one of the next key through what the first left
 * of the path; then lookups against the model.
 */
static void st_bt_step(struct st *st, struct st_bt_model *m)
{
	unsigned int i = (unsigned int)st_below(st, ST_BT_KEYS), near = i;
	struct gvm_bt_path p;
	struct gvm_bt_cur cur;

	if (!st_below(st, 8) && i >= 4 && i + 4 < ST_BT_KEYS)
		near = i + (unsigned int)st_below(st, 9) - 4;
	ST_CHECK(st, gvm_bt_reserve(&st->bt, 2, &st_bt_alloc) == 0);
	if (st_below(st, 4))
		gvm_bt_find_le_path(&st->bt, m->start[near], &cur, &p);
	else
		ST_CHECK(st, st_bt_collect_matches(st, m, m->start[near], &p));
	if (!st_below(st, 4))
		p.slot = st_below(st, 8) ? (unsigned int)st_below(st, GVM_BT_LEAF + 2) : ~0u;
	st_bt_update(st, m, &p, i);
	if (i + 1 < ST_BT_KEYS && st_below(st, 2))
		st_bt_update(st, m, &p, i + 1);
	ST_CHECK(st, st->bt.count == m->count);
	ST_CHECK(st, st_bt_find_matches(st, m, m->start[i]));
	ST_CHECK(st, st_bt_find_matches(st, m, st_below(st, ST_BT_SPAN + ST_BT_SPAN / 8)));
}

/* Erase every key, in order from a random one round to it, through paths. */
static void st_bt_drain(struct st *st, struct st_bt_model *m)
{
	unsigned int from = (unsigned int)st_below(st, ST_BT_KEYS);
	struct gvm_bt_path p = { .leaf = NULL };
	struct gvm_bt_cur cur;

	for (unsigned int n = 0; n < ST_BT_KEYS && !st->failed; n++) {
		unsigned int i = (from + n) % ST_BT_KEYS;

		if (!m->variant[i])
			continue;
		if (!p.leaf || !st_below(st, 8))
			gvm_bt_find_le_path(&st->bt, m->start[i], &cur, &p);
		st_bt_erase(st, m, &p, i);
		ST_CHECK(st, st->bt.count == m->count);
		if (n % 1024 == 0)
			ST_CHECK(st, st_bt_all_match(st, m));
	}
}

/*
 * The VA tree at scale, as vm/ uses it: sparse starts from 2^40 through the
 * updates by path, checked against the model and gvm_bt_validate(). On a
 * 32-bit machine (a child pointer narrower than a start) a descent or a leaf
 * shift sized for 64-bit pointers fails here.
 */
static void st_btree_sparse(struct st *st)
{
	struct st_bt_model *m = os_kvcalloc(1, sizeof(*m));

	st->scratch = m;
	ST_CHECK(st, m != NULL);
	st_bt_universe(st, m);
	for (unsigned int n = 1; n <= ST_BT_STEPS && !st->failed; n++) {
		st_bt_step(st, m);
		if (n % 4096 == 0) {
			ST_CHECK(st, st_bt_all_match(st, m));
			gvm_bt_trim(&st->bt, 0, &st_bt_alloc);
		}
	}
	ST_CHECK(st, !st->failed && st_bt_all_match(st, m));
	st->print(st->ctx, "# btree: %u keys, height %u\n", (unsigned int)m->count, st->bt.height);
	ST_CHECK(st, st->bt.height >= 3);
	st_bt_drain(st, m);
	ST_CHECK(st, !st->failed && st->bt.count == 0 && st_bt_all_match(st, m));
	st->print(st->ctx, "# btree: %u updates through a path, %u without\n", m->by_path,
		  m->not_by_path);
	/* Both ways ran: a path that is never used (or always) tests half the tree. */
	ST_CHECK(st, m->by_path > m->not_by_path && m->not_by_path > 0);
}

struct st_case {
	const char *name;
	void (*run)(struct st *st);
};

static const struct st_case st_cases[] = {
	{ "table_formats", st_table_formats },
	{ "map_unmap_split", st_map_unmap_split },
	{ "walk", st_walk },
	{ "map_unmap_walk_random_vs_model", st_pt_random },
	{ "reserve_exact_commit_alloc_free", st_reserve_commit },
	{ "repeat_mapping", st_repeat },
	{ "bind_txn_random_vs_model", st_bind_random },
	{ "tables_freed_after_flush_rcu", st_deferred_free },
	{ "btree_sparse_paths_vs_model", st_btree_sparse },
	{ "vm_sparse_vas_vs_model", st_vm_sparse },
};

/* Tear down what a test left, failed or not (a failed bind test may leak its objects). */
static void st_teardown(struct st *st)
{
	if (st->vm)
		gvm_destroy(st->vm);
	else
		pt_destroy(st->pt);
	for (unsigned int i = 0; i < ST_MAX_POOLS; i++)
		pt_pool_destroy(st->pool[i]);
	gvm_bt_fini(&st->bt, &st_bt_alloc);
	os_kvfree(st->scratch);
}

unsigned int gpuvm_selftest_run(pt_print_fn *print, void *ctx, uint64_t seed)
{
	unsigned int n = sizeof(st_cases) / sizeof(st_cases[0]), failures = 0;

	print(ctx, "KTAP version 1\n");
	print(ctx, "1..%u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		/* Allocated: the fixture is too large for a kernel stack. */
		struct st *st = os_zalloc(sizeof(*st));
		bool failed = true;

		if (st) {
			*st = (struct st){ .print = print, .ctx = ctx, .rng = seed };
			st_cases[i].run(st);
			st_teardown(st);
			failed = st->failed;
			os_free(st);
		}
		failures += failed;
		print(ctx, "%s %u %s\n", failed ? "not ok" : "ok", i + 1, st_cases[i].name);
	}
	return failures;
}
