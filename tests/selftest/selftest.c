// SPDX-License-Identifier: MIT
/*
 * The core's self-tests (see selftest.h): table formats, map/unmap/split, walk,
 * exact reservation and an allocation-free commit, repeat mapping, bind
 * transactions of random requests against a page model, and tables freed only
 * after the flush that waits for readers (RCU-style deferred free).
 *
 * Tables come from a pt_pool (kmalloc'd chunks in the kernel) through counting
 * ops, flushes wait for a grace period of the OS layer, and descriptor writes
 * are seen through the sync op (coherent_walk is false), so every test can
 * check when tables are allocated and freed against what the walker saw.
 */
#include <gpuvm/gvm.h>
#include <gpuvm/os.h>
#include <gpuvm/pt_pool.h>

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

struct st_case {
	const char *name;
	void (*run)(struct st *st);
};

static const struct st_case st_cases[] = {
	{ "table_formats", st_table_formats },
	{ "map_unmap_split", st_map_unmap_split },
	{ "walk", st_walk },
	{ "reserve_exact_commit_alloc_free", st_reserve_commit },
	{ "repeat_mapping", st_repeat },
	{ "bind_txn_random_vs_model", st_bind_random },
	{ "tables_freed_after_flush_rcu", st_deferred_free },
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
