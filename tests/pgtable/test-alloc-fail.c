// SPDX-License-Identifier: MIT
/*
 * Allocation-failure sweeps: every allocation attempt that pt_create(),
 * pt_map() and pt_unmap() make is made to fail once, in turn.
 *
 * For each scenario (a state built by mapping, then one request), and for N =
 * 1, 2, ... the N-th allocation attempt of the request fails (table memory and
 * metadata are counted alike). The request must return -ENOMEM and leave
 * everything as it was: the translations of the affected range and its
 * neighbours through pt_walk() and through the walker that follows physical
 * addresses, pt_get_stats(), the pool's pages and bytes in use, the metadata
 * allocations, and no flush or sync was issued. The first N that the request
 * does not reach makes it succeed, with the expected effect; that N must be
 * one more than the attempts the successful call made, so that every attempt
 * was failed once.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gpuvm/print_file.h>

#include "pt-test.h"

/* Stop a sweep that does not end: no request here makes this many attempts. */
#define MAX_SWEEP 200u

static const struct pt_test_cfg cfg_cases[] = {
	{ "mali-aarch64-4k-ias48", PT_FMT_MALI_AARCH64, 12, 48, 48, true },
	{ "s1-16k-ias47", PT_FMT_ARM64_S1, 14, 47, 48, true },
	{ "s1-64k-ias48", PT_FMT_ARM64_S1, 16, 48, 48, true },
	{ "s2-4k-ias40-concat-noncoherent", PT_FMT_ARM64_S2, 12, 40, 40, false },
	{ "mali-lpae-4k-ias48-noncoherent", PT_FMT_MALI_LPAE, 12, 48, 40, false },
};

#define NR_CFGS (sizeof(cfg_cases) / sizeof(cfg_cases[0]))

/* Metadata allocations still live, counted around the harness's host ops. */
struct host_count {
	const struct pt_host_ops *inner;
	void *inner_ctx;
	long live;
};

static void *count_zalloc(void *ctx, size_t size)
{
	struct host_count *h = ctx;
	void *p = h->inner->zalloc(h->inner_ctx, size);

	h->live += p != NULL;
	return p;
}

static void count_free(void *ctx, void *ptr)
{
	struct host_count *h = ctx;

	h->live--;
	h->inner->free(h->inner_ctx, ptr);
}

static const struct pt_host_ops count_host_ops = {
	.zalloc = count_zalloc,
	.free = count_free,
};

/*
 * struct ctx - one scenario on one configuration.
 * @g/@leaf1/@big: the granule, the smallest and the largest block size.
 * @big_level: level of the largest block.
 * @x: a boundary between top-level items, far from both ends of the space.
 * @is_map/@va/@size/@pa/@prot: the request under test.
 * @want_tables: tables the request adds (exactly, or at least with @at_least).
 * @want_unmapped: bytes an unmap request unmaps.
 * @lo/@hi: the window compared: the request and its neighbours.
 */
struct ctx {
	const struct pt_test_cfg *c;
	const char *scenario;
	struct pt_test_env env;
	struct host_count host;
	struct pt *pt;
	struct pt_geometry geo;
	uint64_t g, leaf1, big, x;
	unsigned int big_level;
	bool is_map;
	uint64_t va, size, pa;
	uint32_t prot;
	unsigned int want_tables;
	bool at_least;
	uint64_t want_unmapped;
	uint64_t lo, hi;
};

static void ctx_fail(const struct ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ctx_fail(const struct ctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail_msg("[%s, %s] %s", x->scenario, x->c->name, msg);
}

static void env_setup(struct ctx *x, const struct pt_test_cfg *c, const char *scenario)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->scenario = scenario;
	pt_test_env_init(&x->env, c->fmt, c->granule_lg2, c->ias, c->oas, c->coherent);
	x->host.inner = x->env.cfg.host;
	x->host.inner_ctx = x->env.cfg.host_ctx;
	x->env.cfg.host = &count_host_ops;
	x->env.cfg.host_ctx = &x->host;
}

static void ctx_init(struct ctx *x, const struct pt_test_cfg *c, const char *scenario)
{
	uint64_t top_item;

	env_setup(x, c, scenario);
	x->pt = pt_test_create(&x->env);
	pt_get_geometry(x->pt, &x->geo);
	x->g = 1ull << c->granule_lg2;
	x->leaf1 = x->geo.leaf_sizes & ~x->g & -(x->geo.leaf_sizes & ~x->g);
	x->big = 1ull << (63 - __builtin_clzll(x->geo.leaf_sizes));
	for (unsigned int l = x->geo.start_level; l <= PT_LEAF_LEVEL; l++)
		if (x->geo.level_shift[l] == (unsigned int)__builtin_ctzll(x->big))
			x->big_level = l;
	top_item = 1ull << x->geo.level_shift[x->geo.start_level];
	x->x = 4 * top_item;
	assert_true(x->leaf1 > x->g);
	assert_true(x->geo.top_entries >= 8);
	x->prot = PT_PROT_READ | PT_PROT_WRITE;
}

static void ctx_fini(struct ctx *x)
{
	pt_destroy(x->pt);
	if (pt_test_pages_in_use(&x->env) || pt_test_bytes_in_use(&x->env) || x->host.live)
		ctx_fail(x, "after pt_destroy: %" PRIu64 " pages, %" PRIu64 " bytes, %ld metadata",
			 pt_test_pages_in_use(&x->env), pt_test_bytes_in_use(&x->env),
			 x->host.live);
	pt_test_env_fini(&x->env);
}

/* A PA congruent to @va modulo the largest block, so that any block fits. */
static uint64_t pa_for(const struct ctx *x, uint64_t va)
{
	return 8 * x->big + (va & (x->big - 1));
}

static void setup_map(struct ctx *x, uint64_t va, uint64_t size)
{
	int rc = pt_map(x->pt, va, pa_for(x, va), size, PT_PROT_READ);

	if (rc)
		ctx_fail(x, "setup pt_map(0x%" PRIx64 ", 0x%" PRIx64 "): %s", va, size,
			 errname(rc));
}

static void set_map_req(struct ctx *x, uint64_t va, uint64_t end)
{
	x->is_map = true;
	x->va = va;
	x->size = end - va;
	x->pa = pa_for(x, va);
}

static void set_unmap_req(struct ctx *x, uint64_t va, uint64_t end, uint64_t unmapped)
{
	x->is_map = false;
	x->va = va;
	x->size = end - va;
	x->want_unmapped = unmapped;
}

/* Tables a fresh path from below the top level to the leaf level needs. */
static unsigned int path_tables(const struct ctx *x)
{
	return PT_LEAF_LEVEL - x->geo.start_level;
}

/* Levels below the largest block: the tables cutting one down to a granule needs. */
static unsigned int cut_tables(const struct ctx *x)
{
	return PT_LEAF_LEVEL - x->big_level;
}

/* Pages on both sides of a top-level boundary, in an empty table. */
static void sc_map_fresh(struct ctx *x)
{
	set_map_req(x, x->x - 3 * x->g, x->x + 3 * x->g);
	x->want_tables = 2 * path_tables(x);
}

/* The same, with the path left of the boundary already there but for its leaf table. */
static void sc_map_existing(struct ctx *x)
{
	setup_map(x, x->x - 2 * x->leaf1, x->g);
	set_map_req(x, x->x - 3 * x->g, x->x + 3 * x->g);
	x->want_tables = 1 + path_tables(x);
}

/*
 * Pages, blocks, blocks, pages across the boundary, with the tables above the
 * leaf level on both sides there already (kept by pages further out): only the
 * two leaf tables at the ends are new.
 */
static void sc_map_mix(struct ctx *x)
{
	setup_map(x, x->x - 4 * x->leaf1, x->g);
	setup_map(x, x->x + 4 * x->leaf1, x->g);
	set_map_req(x, x->x - 2 * x->leaf1 - 3 * x->g, x->x + 2 * x->leaf1 + 3 * x->g);
	x->want_tables = 2;
}

/* A large fresh range: pages, every block size, pages. */
static void sc_map_large(struct ctx *x)
{
	set_map_req(x, x->x - x->big - 3 * x->g, x->x + x->big + 3 * x->g);
	x->want_tables = 2;
	x->at_least = true;
}

/* Two largest blocks; cut the first one at its start. */
static void sc_unmap_cut_start(struct ctx *x)
{
	setup_map(x, x->x, 2 * x->big);
	set_unmap_req(x, x->x + x->g, x->x + 2 * x->big, 2 * x->big - x->g);
	x->want_tables = cut_tables(x);
}

static void sc_unmap_cut_end(struct ctx *x)
{
	setup_map(x, x->x, 2 * x->big);
	set_unmap_req(x, x->x, x->x + 2 * x->big - x->g, 2 * x->big - x->g);
	x->want_tables = cut_tables(x);
}

static void sc_unmap_cut_both(struct ctx *x)
{
	setup_map(x, x->x, 2 * x->big);
	set_unmap_req(x, x->x + x->g, x->x + 2 * x->big - x->g, 2 * x->big - 2 * x->g);
	x->want_tables = 2 * cut_tables(x);
}

/* One granule out of the middle of a largest block: cut down level by level. */
static void sc_unmap_cut_middle(struct ctx *x)
{
	uint64_t mid = x->x + x->big / 2 + 3 * x->g;

	setup_map(x, x->x, x->big);
	set_unmap_req(x, mid, mid + x->g, x->g);
	x->want_tables = cut_tables(x);
}

/* Two granules across a top-level boundary between two largest blocks. */
static void sc_unmap_cut_boundary(struct ctx *x)
{
	setup_map(x, x->x - x->big, 2 * x->big);
	set_unmap_req(x, x->x - x->g, x->x + x->g, 2 * x->g);
	x->want_tables = 2 * cut_tables(x);
}

/* Pages left in split tables, then a range over them and whole blocks. */
static void sc_unmap_mix(struct ctx *x)
{
	uint64_t hole = x->x + x->leaf1 + x->g, end = x->x + 2 * x->big - x->leaf1 - x->g;

	setup_map(x, x->x, 2 * x->big);
	assert_int_equal(pt_unmap(x->pt, hole, x->g, NULL), 0);
	set_unmap_req(x, x->x + x->g, end, end - x->x - x->g - (hole < end ? x->g : 0));
	x->want_tables = cut_tables(x);
	x->at_least = true;
}

/* Whole blocks: nothing to allocate, so the first sweep step succeeds. */
static void sc_unmap_whole(struct ctx *x)
{
	setup_map(x, x->x, 2 * x->big);
	set_unmap_req(x, x->x, x->x + 2 * x->big, 2 * x->big);
	x->want_tables = 0;
}

struct scenario {
	const char *name;
	void (*setup)(struct ctx *x);
};

static const struct scenario scenarios[] = {
	{ "map-fresh", sc_map_fresh },
	{ "map-existing-tables", sc_map_existing },
	{ "map-mix", sc_map_mix },
	{ "map-large", sc_map_large },
	{ "unmap-cut-start", sc_unmap_cut_start },
	{ "unmap-cut-end", sc_unmap_cut_end },
	{ "unmap-cut-both", sc_unmap_cut_both },
	{ "unmap-cut-middle", sc_unmap_cut_middle },
	{ "unmap-cut-boundary", sc_unmap_cut_boundary },
	{ "unmap-mix", sc_unmap_mix },
	{ "unmap-whole", sc_unmap_whole },
};

/* One translation, through pt_walk(), checked against the walker by PA. */
struct seg {
	uint64_t va;
	int rc;
	uint64_t pa;
	uint32_t prot;
	unsigned int level;
};

/* Everything a failed request must leave as it was. */
struct snap {
	struct seg *seg;
	size_t n, cap;
	struct pt_stats st;
	uint64_t pages, bytes;
	long host_live;
	uint64_t flush_ranges, flush_alls, syncs;
};

/* Walk @va both ways; return the end of the leaf or invalid item. */
static uint64_t walk_seg(struct ctx *x, uint64_t va, struct seg *s)
{
	struct pt_walk_result res;
	uint64_t hw_pa = 0, item;
	uint32_t hw_prot = 0;
	unsigned int hw_level = 0;
	int hw;

	s->va = va;
	s->rc = pt_walk(x->pt, va, &res);
	s->pa = res.pa;
	s->prot = res.prot;
	s->level = res.level;
	hw = pt_test_hw_walk(&x->env, x->pt, va, &hw_pa, &hw_prot, &hw_level);
	if (hw != s->rc || hw_level != s->level || (!hw && (hw_pa != s->pa || hw_prot != s->prot)))
		ctx_fail(x,
			 "0x%" PRIx64 ": pt_walk %d pa 0x%" PRIx64
			 " level %u, hw walk %d pa 0x%" PRIx64 " level %u",
			 va, s->rc, s->pa, s->level, hw, hw_pa, hw_level);
	if (s->rc && s->rc != -ENOENT)
		ctx_fail(x, "pt_walk(0x%" PRIx64 "): %s", va, errname(s->rc));
	item = 1ull << x->geo.level_shift[s->level];
	return (va | (item - 1)) + 1;
}

static void snap_take(struct ctx *x, struct snap *s)
{
	s->n = 0;
	for (uint64_t va = x->lo; va < x->hi;) {
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 256;
			s->seg = realloc(s->seg, s->cap * sizeof(*s->seg));
			assert_non_null(s->seg);
		}
		va = walk_seg(x, va, &s->seg[s->n++]);
	}
	pt_get_stats(x->pt, &s->st);
	s->pages = pt_test_pages_in_use(&x->env);
	s->bytes = pt_test_bytes_in_use(&x->env);
	s->host_live = x->host.live;
	s->flush_ranges = x->env.flush_ranges;
	s->flush_alls = x->env.flush_alls;
	s->syncs = x->env.syncs;
}

static void snap_compare(struct ctx *x, const struct snap *a, const struct snap *b, unsigned int n)
{
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		const struct seg *p = &a->seg[i], *q = &b->seg[i];

		if (p->va != q->va || p->rc != q->rc || p->pa != q->pa || p->prot != q->prot ||
		    p->level != q->level)
			ctx_fail(x,
				 "N=%u: 0x%" PRIx64 " was %d pa 0x%" PRIx64
				 " level %u, now 0x%" PRIx64 " %d pa 0x%" PRIx64 " level %u",
				 n, p->va, p->rc, p->pa, p->level, q->va, q->rc, q->pa, q->level);
	}
	if (a->n != b->n)
		ctx_fail(x, "N=%u: %zu translations segments, was %zu", n, b->n, a->n);
	if (memcmp(&a->st, &b->st, sizeof(a->st)))
		ctx_fail(x,
			 "N=%u: stats: %" PRIu64 " tables, %" PRIu64 " bytes; was %" PRIu64
			 ", %" PRIu64,
			 n, b->st.tables, b->st.table_bytes, a->st.tables, a->st.table_bytes);
	if (a->pages != b->pages || a->bytes != b->bytes || a->host_live != b->host_live)
		ctx_fail(x,
			 "N=%u: %" PRIu64 " pages, %" PRIu64
			 " bytes, %ld metadata in use; was %" PRIu64 ", %" PRIu64 ", %ld",
			 n, b->pages, b->bytes, b->host_live, a->pages, a->bytes, a->host_live);
	if (a->flush_ranges != b->flush_ranges || a->flush_alls != b->flush_alls ||
	    a->syncs != b->syncs)
		ctx_fail(x,
			 "N=%u: a failed request flushed or synced (%" PRIu64 " flushes, %" PRIu64
			 " syncs; was %" PRIu64 ", %" PRIu64 ")",
			 n, b->flush_ranges + b->flush_alls, b->syncs,
			 a->flush_ranges + a->flush_alls, a->syncs);
}

static int run_req(struct ctx *x, uint64_t *unmapped)
{
	if (x->is_map)
		return pt_map(x->pt, x->va, x->pa, x->size, x->prot);
	return pt_unmap(x->pt, x->va, x->size, unmapped);
}

/* What the window translates to after the request succeeded: @before, changed in the range. */
static void check_after(struct ctx *x, const struct snap *before)
{
	uint64_t end = x->va + x->size;
	size_t i = 0;

	for (uint64_t va = x->lo; va < x->hi;) {
		const struct seg *old;
		struct seg now;
		bool in = va >= x->va && va < end;
		uint64_t next = walk_seg(x, va, &now);
		uint64_t want_pa;
		int want_rc;

		while (i + 1 < before->n && before->seg[i + 1].va <= va)
			i++;
		old = &before->seg[i];
		want_rc = in ? (x->is_map ? 0 : -ENOENT) : old->rc;
		want_pa = in ? x->pa + (va - x->va) : old->pa + (va - old->va);
		if (now.rc != want_rc ||
		    (!now.rc && (now.pa != want_pa || now.prot != (in ? x->prot : old->prot))))
			ctx_fail(x,
				 "after success: 0x%" PRIx64 ": %s pa 0x%" PRIx64
				 ", want %s pa 0x%" PRIx64,
				 va, now.rc ? "unmapped" : "mapped", now.pa,
				 want_rc ? "unmapped" : "mapped", want_pa);
		if (i + 1 < before->n && before->seg[i + 1].va < next)
			next = before->seg[i + 1].va;
		if (va < x->va && next > x->va)
			next = x->va;
		if (va < end && next > end)
			next = end;
		va = next;
	}
}

static void check_validate(struct ctx *x, unsigned int n)
{
	int err = pt_validate(x->pt, gpuvm_print_file, stderr);

	if (err)
		ctx_fail(x, "N=%u: pt_validate: %s", n, errname(err));
}

/* Fail attempt N = 1, 2, ... of the request until it no longer reaches N. */
static unsigned int sweep(struct ctx *x, const struct snap *before)
{
	struct snap now = { 0 };
	uint64_t unmapped = 0, start = 0;
	unsigned int n;
	int rc;

	for (n = 1; n < MAX_SWEEP; n++) {
		x->env.fail_at = x->env.attempts + n;
		start = x->env.attempts;
		pt_test_log_clear(&x->env);
		rc = run_req(x, &unmapped);
		if (!rc)
			break;
		if (rc != -ENOMEM)
			ctx_fail(x, "N=%u: %s, want -ENOMEM", n, errname(rc));
		if (x->env.attempts - start < n)
			ctx_fail(x, "N=%u: failed after %" PRIu64 " attempts without reaching N", n,
				 x->env.attempts - start);
		snap_take(x, &now);
		snap_compare(x, before, &now, n);
		check_validate(x, n);
	}
	x->env.fail_at = 0;
	free(now.seg);
	if (n == MAX_SWEEP)
		ctx_fail(x, "still failing after %u steps", n);
	if (x->env.attempts - start != n - 1)
		ctx_fail(x,
			 "succeeded at N=%u after %" PRIu64
			 " attempts: not every attempt failed once",
			 n, x->env.attempts - start);
	if (!x->is_map && unmapped != x->want_unmapped)
		ctx_fail(x, "unmapped 0x%" PRIx64 ", want 0x%" PRIx64, unmapped, x->want_unmapped);
	return n - 1;
}

static unsigned int count_events(const struct pt_test_env *env, enum pt_test_ev_type type)
{
	unsigned int n = 0;

	for (size_t i = 0; i < env->nr_log; i++)
		n += env->log[i].type == type;
	return n;
}

/* The successful request (in the log) allocated the tables it should, and only those. */
static void check_tables(struct ctx *x, const struct snap *before, unsigned int attempts)
{
	unsigned int allocs = count_events(&x->env, PT_EV_ALLOC);
	unsigned int frees = count_events(&x->env, PT_EV_FREE);
	struct pt_stats st;

	pt_get_stats(x->pt, &st);
	if (x->at_least ? allocs < x->want_tables : allocs != x->want_tables)
		ctx_fail(x, "the request allocated %u tables, want %s%u", allocs,
			 x->at_least ? "at least " : "", x->want_tables);
	if (st.tables + frees != before->st.tables + allocs)
		ctx_fail(x, "%" PRIu64 " tables, was %" PRIu64 ", with %u allocated and %u freed",
			 st.tables, before->st.tables, allocs, frees);
	/*
	 * Every table comes with a record, carved from a slab that may have
	 * room already (struct pt_host_ops: at most one slab per table), and at
	 * most one link array per new table (a table's first child table is
	 * new, or a copy of a shared one); the reservation adds at most its own
	 * record, op and pin arrays, and one chunk of projection memory.
	 */
	if (attempts < allocs || attempts > 3 * allocs + 4)
		ctx_fail(x, "%u allocation attempts for %u tables", attempts, allocs);
}

static void run_scenario(const struct scenario *sc, const struct pt_test_cfg *c)
{
	struct ctx x;
	struct snap before = { 0 };
	unsigned int attempts;

	ctx_init(&x, c, sc->name);
	sc->setup(&x);
	x.env.record = true;
	x.lo = x.va - 2 * x.big;
	x.hi = x.va + x.size + 2 * x.big;
	snap_take(&x, &before);
	check_validate(&x, 0);
	attempts = sweep(&x, &before);
	check_validate(&x, attempts + 1);
	check_after(&x, &before);
	check_tables(&x, &before, attempts);
	printf("  %-22s %-32s swept N = 1..%u, %u tables allocated\n", sc->name, c->name,
	       attempts + 1, attempts / 2);
	free(before.seg);
	ctx_fini(&x);
}

static void test_scenario(void **state)
{
	const struct scenario *sc = *state;

	for (size_t i = 0; i < NR_CFGS; i++)
		run_scenario(sc, &cfg_cases[i]);
}

/* Every attempt of pt_create() fails once; nothing is left allocated. */
static void create_sweep(const struct pt_test_cfg *c)
{
	struct ctx x;
	struct pt *pt = NULL;
	unsigned int n;
	uint64_t start = 0;
	int rc;

	env_setup(&x, c, "pt_create");
	for (n = 1; n < MAX_SWEEP; n++) {
		x.env.fail_at = x.env.attempts + n;
		start = x.env.attempts;
		rc = pt_create(&x.env.cfg, &pt);
		if (!rc)
			break;
		if (rc != -ENOMEM)
			ctx_fail(&x, "N=%u: %s, want -ENOMEM", n, errname(rc));
		if (pt_test_pages_in_use(&x.env) || pt_test_bytes_in_use(&x.env) || x.host.live)
			ctx_fail(&x,
				 "N=%u: failed, leaving %" PRIu64 " pages, %" PRIu64
				 " bytes, %ld metadata",
				 n, pt_test_pages_in_use(&x.env), pt_test_bytes_in_use(&x.env),
				 x.host.live);
	}
	x.env.fail_at = 0;
	/* The object, the top table and its metadata: at least three attempts. */
	if (n == MAX_SWEEP || x.env.attempts - start != n - 1 || n < 4)
		ctx_fail(&x, "pt_create succeeded at N=%u after %" PRIu64 " attempts", n,
			 x.env.attempts - start);
	printf("  %-22s %-32s swept N = 1..%u\n", "pt_create", c->name, n);
	x.pt = pt;
	ctx_fini(&x);
}

static void test_create(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		create_sweep(&cfg_cases[i]);
}

#define SCENARIO_TEST(i)                                                            \
	{                                                                           \
		scenarios[i].name, test_scenario, NULL, NULL, (void *)&scenarios[i] \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		SCENARIO_TEST(0),
		SCENARIO_TEST(1),
		SCENARIO_TEST(2),
		SCENARIO_TEST(3),
		SCENARIO_TEST(4),
		SCENARIO_TEST(5),
		SCENARIO_TEST(6),
		SCENARIO_TEST(7),
		SCENARIO_TEST(8),
		SCENARIO_TEST(9),
		SCENARIO_TEST(10),
	};

	_Static_assert(sizeof(tests) / sizeof(tests[0]) ==
			       1 + sizeof(scenarios) / sizeof(scenarios[0]),
		       "one test per scenario");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
