// SPDX-License-Identifier: MIT
/*
 * Flush, sync and free ordering, checked on the harness's event log.
 *
 * What the walker may hold (a leaf, a cached table pointer) must be flushed
 * before the table memory under it is freed (lpae.md "Rules that bite"); each
 * operation flushes once per coalesced range, with leaf_only false whenever a
 * table was unlinked or a block split; a walker that does not snoop the CPU
 * caches gets one sync per changed run of descriptors and one per new table,
 * before that table is linked, and ends every operation seeing exactly what
 * the CPU wrote.
 *
 * Random operations are checked against rules that hold for any operation;
 * table-driven cases pin the exact flushes and syncs of known operations.
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

#include "pt-test.h"

#define RANDOM_SEED 0x666c7573ull
#define RANDOM_OPS 400u
/* A table gets at most this many syncs in one operation. */
#define MAX_SYNCS_PER_TABLE 2u

#define K(n) ((uint64_t)(n) << 10)
#define M(n) ((uint64_t)(n) << 20)
#define G(n) ((uint64_t)(n) << 30)

static const struct pt_test_cfg cfg_mali_4k = {
	"mali-aarch64-4k", PT_FMT_MALI_AARCH64, 12, 48, 48, true
};
static const struct pt_test_cfg cfg_s1_4k_nc = {
	"s1-4k-noncoherent", PT_FMT_ARM64_S1, 12, 48, 48, false
};
static const struct pt_test_cfg cfg_s1_64k_nc = {
	"s1-64k-noncoherent", PT_FMT_ARM64_S1, 16, 48, 48, false
};
static const struct pt_test_cfg cfg_lpae_nc = {
	"mali-lpae-noncoherent", PT_FMT_MALI_LPAE, 12, 48, 40, false
};
static const struct pt_test_cfg cfg_s2_4k_nc = {
	"s2-4k-concat-noncoherent", PT_FMT_ARM64_S2, 12, 40, 40, false
};

/* A table reachable from the root, found by following descriptors by PA. */
struct tinfo {
	uint64_t pa, va, span;
	uint64_t parent_item; /* PA of the item pointing here; 0 for the root */
	size_t bytes;
	unsigned int level;
	uint64_t *copy; /* its items when the tree was read */
};

struct leafinfo {
	uint64_t va, size;
};

struct tree {
	struct tinfo *t;
	size_t nt, capt;
	struct leafinfo *l;
	size_t nl, capl;
};

struct fctx {
	const struct pt_test_cfg *c;
	struct pt_test_env env;
	struct pt_test_shadow shadow;
	struct pt *pt;
	struct pt_geometry geo;
	uint64_t g, big, x;
	struct rng rng;
	char op[192];
};

static void ffail(const struct fctx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ffail(const struct fctx *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s] %s: %s\n", f->c->name, f->op, msg);
	pt_test_log_print(&f->env, 0, 64, true);
	fail_msg("%s", msg);
}

static void *xrealloc(void *p, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return p;
	*cap = *cap ? 2 * *cap : 64;
	p = realloc(p, *cap * elem);
	assert_non_null(p);
	return p;
}

static void tree_add_table(struct tree *tr, const struct tinfo *ti, const uint64_t *items)
{
	struct tinfo *t;

	tr->t = xrealloc(tr->t, &tr->capt, tr->nt, sizeof(*tr->t));
	t = &tr->t[tr->nt++];
	*t = *ti;
	t->copy = malloc(ti->bytes);
	assert_non_null(t->copy);
	memcpy(t->copy, items, ti->bytes);
}

static void tree_visit(struct fctx *f, struct tree *tr, struct tinfo ti)
{
	unsigned int lvl = ti.level, shift = f->geo.level_shift[lvl];
	unsigned int bits = lvl == f->geo.start_level ? f->geo.top_index_bits :
							f->geo.bits_per_level;
	const uint64_t *items = pt_pool_pa_to_cpu(f->env.pool, ti.pa);
	size_t n = (size_t)1 << bits;

	if (!items)
		ffail(f, "a descriptor points at 0x%" PRIx64 ", not table memory", ti.pa);
	ti.bytes = n * sizeof(uint64_t);
	ti.span = (uint64_t)n << shift;
	tree_add_table(tr, &ti, items);
	for (size_t i = 0; i < n; i++) {
		uint64_t va = ti.va + ((uint64_t)i << shift);
		struct pt_entry e;

		if (pt_decode_entry(f->pt, lvl, items[i], &e))
			ffail(f, "malformed descriptor 0x%" PRIx64 " at level %u", items[i], lvl);
		if (e.type == PT_ENTRY_TABLE) {
			tree_visit(f, tr,
				   (struct tinfo){ .pa = e.addr,
						   .va = va,
						   .level = lvl + 1,
						   .parent_item = ti.pa + 8 * i });
		} else if (e.type == PT_ENTRY_LEAF) {
			tr->l = xrealloc(tr->l, &tr->capl, tr->nl, sizeof(*tr->l));
			tr->l[tr->nl++] = (struct leafinfo){ va, 1ull << shift };
		}
	}
}

static void tree_read(struct fctx *f, struct tree *tr)
{
	memset(tr, 0, sizeof(*tr));
	tree_visit(f, tr,
		   (struct tinfo){ .pa = pt_test_root_pa(f->pt), .level = f->geo.start_level });
}

static void tree_free(struct tree *tr)
{
	for (size_t i = 0; i < tr->nt; i++)
		free(tr->t[i].copy);
	free(tr->t);
	free(tr->l);
}

static const struct tinfo *tree_find(const struct tree *tr, uint64_t pa)
{
	for (size_t i = 0; i < tr->nt; i++)
		if (tr->t[i].pa == pa)
			return &tr->t[i];
	return NULL;
}

/* The table of @tr that holds [@pa, @pa + @len), or NULL. */
static const struct tinfo *tree_holding(const struct tree *tr, uint64_t pa, uint64_t len)
{
	for (size_t i = 0; i < tr->nt; i++)
		if (pa >= tr->t[i].pa && pa + len <= tr->t[i].pa + tr->t[i].bytes)
			return &tr->t[i];
	return NULL;
}

/* The level-@lvl table whose span holds @va, or NULL. */
static const struct tinfo *tree_table_at(const struct tree *tr, unsigned int lvl, uint64_t va)
{
	for (size_t i = 0; i < tr->nt; i++)
		if (tr->t[i].level == lvl && va >= tr->t[i].va && va - tr->t[i].va < tr->t[i].span)
			return &tr->t[i];
	return NULL;
}

static void fctx_init(struct fctx *f, const struct pt_test_cfg *c)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	snprintf(f->op, sizeof(f->op), "setup");
	pt_test_env_init(&f->env, c->fmt, c->granule_lg2, c->ias, c->oas, c->coherent);
	/* A coherent walker gets a sync op too, so that a call to it is seen. */
	pt_test_shadow_attach(&f->shadow, &f->env);
	f->pt = pt_test_create(&f->env);
	pt_get_geometry(f->pt, &f->geo);
	f->g = 1ull << c->granule_lg2;
	f->big = 1ull << (63 - __builtin_clzll(f->geo.leaf_sizes));
	f->x = 4ull << f->geo.level_shift[f->geo.start_level];
	f->env.record = true;
}

static void fctx_fini(struct fctx *f)
{
	pt_destroy(f->pt);
	if (pt_test_pages_in_use(&f->env))
		ffail(f, "%" PRIu64 " pages in use after pt_destroy",
		      pt_test_pages_in_use(&f->env));
	pt_test_shadow_fini(&f->shadow);
	pt_test_env_fini(&f->env);
}

/* --- Rules every operation follows ------------------------------------------------ */

static bool is_flush(const struct pt_test_ev *e)
{
	return e->type == PT_EV_FLUSH_RANGE || e->type == PT_EV_FLUSH_ALL;
}

/* Syncs happen before the first flush; frees after the last one. */
static void check_order(const struct fctx *f)
{
	size_t n = f->env.nr_log, first_flush = n, last_flush = 0, first_free = n;

	for (size_t i = 0; i < n; i++) {
		const struct pt_test_ev *e = &f->env.log[i];

		if (is_flush(e)) {
			first_flush = first_flush < i ? first_flush : i;
			last_flush = i;
		}
		if (e->type == PT_EV_FREE && first_free == n)
			first_free = i;
		if (e->type == PT_EV_SYNC && i > first_flush)
			ffail(f, "event %zu: a sync after the flush", i);
	}
	if (first_flush < n && first_free < last_flush)
		ffail(f, "event %zu frees a table before the flush at event %zu", first_free,
		      last_flush);
}

/* Frees are exactly the tables that left the tree; allocations the ones that joined. */
static void check_alloc_free(const struct fctx *f, const struct tree *t0, const struct tree *t1)
{
	size_t allocs = 0, frees = 0, gone = 0, added = 0;

	for (size_t i = 0; i < f->env.nr_log; i++) {
		const struct pt_test_ev *e = &f->env.log[i];

		if (e->type == PT_EV_FREE && (!tree_find(t0, e->a) || tree_find(t1, e->a)))
			ffail(f, "event %zu frees 0x%" PRIx64 ", not a table that left the tree", i,
			      e->a);
		if (e->type == PT_EV_ALLOC && (tree_find(t0, e->a) || !tree_find(t1, e->a)))
			ffail(f, "event %zu allocates 0x%" PRIx64 ", not a table that joined", i,
			      e->a);
		frees += e->type == PT_EV_FREE;
		allocs += e->type == PT_EV_ALLOC;
	}
	for (size_t i = 0; i < t0->nt; i++)
		gone += !tree_find(t1, t0->t[i].pa);
	for (size_t i = 0; i < t1->nt; i++)
		added += !tree_find(t0, t1->t[i].pa);
	if (frees != gone || allocs != added)
		ffail(f, "%zu frees for %zu tables gone, %zu allocations for %zu new tables", frees,
		      gone, allocs, added);
}

/* Every freed table's span was flushed, walk caches included, before the free. */
static void check_frees_flushed(const struct fctx *f, const struct tree *t0)
{
	for (size_t i = 0; i < f->env.nr_log; i++) {
		const struct pt_test_ev *e = &f->env.log[i];
		const struct tinfo *t;

		if (e->type != PT_EV_FREE)
			continue;
		t = tree_find(t0, e->a);
		if (!pt_test_flushed(&f->env, NULL, i, t->va, t->va + t->span, true))
			ffail(f,
			      "event %zu frees the level-%u table of [0x%" PRIx64 ", 0x%" PRIx64
			      ") before a non-leaf flush of it",
			      i, t->level, t->va, t->va + t->span);
	}
}

/*
 * Every VA the unmap took away is flushed; a leaf that it cut (a block that was
 * split) is flushed whole, walk caches included. Return the bytes unmapped.
 */
static uint64_t check_unmap_flushed(const struct fctx *f, const struct tree *t0, uint64_t va,
				    uint64_t end)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < t0->nl; i++) {
		const struct leafinfo *l = &t0->l[i];
		uint64_t lo = l->va > va ? l->va : va;
		uint64_t hi = l->va + l->size < end ? l->va + l->size : end;

		if (lo >= hi)
			continue;
		bytes += hi - lo;
		if (!pt_test_flushed(&f->env, NULL, f->env.nr_log, lo, hi, false))
			ffail(f, "[0x%" PRIx64 ", 0x%" PRIx64 ") was unmapped without a flush", lo,
			      hi);
		if ((lo != l->va || hi != l->va + l->size) &&
		    !pt_test_flushed(&f->env, NULL, f->env.nr_log, l->va, l->va + l->size, true))
			ffail(f,
			      "the block [0x%" PRIx64 ", 0x%" PRIx64 ") was split without a "
			      "non-leaf flush of it",
			      l->va, l->va + l->size);
	}
	return bytes;
}

static size_t count_type(const struct fctx *f, enum pt_test_ev_type type)
{
	size_t n = 0;

	for (size_t i = 0; i < f->env.nr_log; i++)
		n += f->env.log[i].type == type;
	return n;
}

static bool sync_covers(const struct pt_test_ev *e, uint64_t pa, uint64_t len)
{
	return e->type == PT_EV_SYNC && e->a <= pa && pa + len <= e->a + e->b;
}

/* Index of the first sync covering [@pa, @pa + @len), or nr_log. */
static size_t find_sync(const struct fctx *f, uint64_t pa, uint64_t len)
{
	size_t i;

	for (i = 0; i < f->env.nr_log; i++)
		if (sync_covers(&f->env.log[i], pa, len))
			break;
	return i;
}

/* A new table is synced whole, before the sync of the item that links it. */
static void check_new_table_synced(const struct fctx *f, const struct tinfo *t)
{
	size_t whole = find_sync(f, t->pa, t->bytes), link;

	if (whole == f->env.nr_log)
		ffail(f, "the new level-%u table at 0x%" PRIx64 " was never synced whole", t->level,
		      t->pa);
	link = find_sync(f, t->parent_item, 8);
	if (link <= whole)
		ffail(f,
		      "the item linking the table at 0x%" PRIx64 " was synced at event %zu, "
		      "the table itself at %zu",
		      t->pa, link, whole);
}

/* Changed descriptors of an existing table are synced; the sync counts are small. */
static void check_table_synced(const struct fctx *f, const struct tinfo *t0, const struct tinfo *t1)
{
	const uint64_t *now = pt_pool_pa_to_cpu(f->env.pool, t1->pa);

	for (size_t i = 0; i < t1->bytes / 8; i++)
		if (t0->copy[i] != now[i] && find_sync(f, t1->pa + 8 * i, 8) == f->env.nr_log)
			ffail(f,
			      "item %zu of the level-%u table at 0x%" PRIx64 " changed without a "
			      "sync",
			      i, t1->level, t1->pa);
}

/* A sync covers a changed descriptor (or a whole new table), and no table gets many. */
static void check_syncs_needed(const struct fctx *f, const struct tree *t0, const struct tree *t1)
{
	for (size_t i = 0; i < f->env.nr_log; i++) {
		const struct pt_test_ev *e = &f->env.log[i];
		const struct tinfo *t = e->type == PT_EV_SYNC ? tree_holding(t1, e->a, e->b) : NULL;
		const struct tinfo *old;
		bool changed = false;
		size_t n = 0;

		if (e->type != PT_EV_SYNC || (!t && tree_holding(t0, e->a, e->b)))
			continue; /* a table about to be freed may be synced too */
		if (!t)
			ffail(f, "event %zu syncs 0x%" PRIx64 " +0x%" PRIx64 ", no table", i, e->a,
			      e->b);
		old = tree_find(t0, t->pa);
		for (uint64_t pa = e->a; pa < e->a + e->b && old; pa += 8)
			changed |= old->copy[(pa - t->pa) / 8] != t->copy[(pa - t->pa) / 8];
		if (old && !changed)
			ffail(f,
			      "event %zu syncs 0x%" PRIx64 " +0x%" PRIx64 ": nothing there changed",
			      i, e->a, e->b);
		for (size_t j = 0; j < f->env.nr_log; j++)
			n += f->env.log[j].type == PT_EV_SYNC &&
			     tree_holding(t1, f->env.log[j].a, 8) == t;
		if (n > MAX_SYNCS_PER_TABLE)
			ffail(f, "%zu syncs of the level-%u table at 0x%" PRIx64, n, t->level,
			      t->pa);
	}
}

/* Non-coherent walker: syncs cover every change, and the walker sees what the CPU wrote. */
static void check_syncs(struct fctx *f, const struct tree *t0, const struct tree *t1)
{
	if (f->c->coherent) {
		if (f->shadow.calls)
			ffail(f, "%" PRIu64 " sync calls for a coherent walker", f->shadow.calls);
		return;
	}
	for (size_t i = 0; i < t1->nt; i++) {
		const struct tinfo *t = &t1->t[i], *old = tree_find(t0, t->pa);

		if (old)
			check_table_synced(f, old, t);
		else
			check_new_table_synced(f, t);
		if (!pt_test_shadow_matches(&f->shadow, t->pa, t->copy, t->bytes))
			ffail(f,
			      "the walker sees the level-%u table at 0x%" PRIx64
			      " differently from "
			      "the CPU",
			      t->level, t->pa);
	}
	check_syncs_needed(f, t0, t1);
}

static void check_map_events(const struct fctx *f, int rc, uint64_t va, uint64_t size)
{
	size_t flushes = count_type(f, PT_EV_FLUSH_RANGE) + count_type(f, PT_EV_FLUSH_ALL);
	const struct pt_test_ev *e = NULL;

	if (rc) {
		if (f->env.nr_log)
			ffail(f, "a failed map logged %zu events", f->env.nr_log);
		return;
	}
	for (size_t i = 0; i < f->env.nr_log; i++)
		e = f->env.log[i].type == PT_EV_FLUSH_RANGE ? &f->env.log[i] : e;
	if (flushes != 1 || !e || e->a != va || e->b != size || !e->leaf_only)
		ffail(f,
		      "a map of [0x%" PRIx64 ", 0x%" PRIx64 ") flushed %zu times, last 0x%" PRIx64
		      " +0x%" PRIx64 " leaf_only %d; want once, leaf only",
		      va, va + size, flushes, e ? e->a : 0, e ? e->b : 0, e ? e->leaf_only : -1);
}

/* Run one operation with the log recording, and check every rule on it. */
static int checked_op(struct fctx *f, bool map, uint64_t va, uint64_t size, uint64_t pa)
{
	struct tree t0, t1;
	uint64_t unmapped = 0, want;
	int rc;

	snprintf(f->op, sizeof(f->op), "%s(0x%" PRIx64 ", size 0x%" PRIx64 ")",
		 map ? "pt_map" : "pt_unmap", va, size);
	tree_read(f, &t0);
	pt_test_log_clear(&f->env);
	f->shadow.calls = 0;
	rc = map ? pt_map(f->pt, va, pa, size, PT_PROT_READ) : pt_unmap(f->pt, va, size, &unmapped);
	tree_read(f, &t1);
	check_order(f);
	check_alloc_free(f, &t0, &t1);
	check_frees_flushed(f, &t0);
	check_syncs(f, &t0, &t1);
	if (map) {
		check_map_events(f, rc, va, size);
	} else {
		want = check_unmap_flushed(f, &t0, va, va + size);
		if (rc || unmapped != want)
			ffail(f, "%s, unmapped 0x%" PRIx64 ", want 0x%" PRIx64, errname(rc),
			      unmapped, want);
		if (!want && f->env.nr_log)
			ffail(f, "an unmap of nothing logged %zu events", f->env.nr_log);
	}
	tree_free(&t0);
	tree_free(&t1);
	return rc;
}

/* --- Random operations ------------------------------------------------------------- */

/* A random granule-aligned range in [x - 2 big, x + 2 big), often block aligned. */
static void random_range(struct fctx *f, uint64_t *va, uint64_t *size)
{
	uint64_t lo = f->x - 2 * f->big, span = 4 * f->big, g = f->g;
	uint64_t unit = rng_below(&f->rng, 2) ? f->big : g;
	uint64_t max = rng_below(&f->rng, 3) ? 64 * g : span / 2;

	*size = g + (rng_below(&f->rng, max) & ~(g - 1));
	*va = lo + (rng_below(&f->rng, span - *size) & ~(unit - 1));
	if (!rng_below(&f->rng, 3))
		*va += g * rng_below(&f->rng, 3);
	if (*va + *size > lo + span)
		*size = lo + span - *va;
}

static void random_ops(const struct pt_test_cfg *c, unsigned int count)
{
	struct fctx f;
	uint64_t va, size;
	unsigned int unmaps = 0, splits = 0, frees = 0;

	fctx_init(&f, c);
	f.rng.s = RANDOM_SEED;
	for (unsigned int i = 0; i < count; i++) {
		bool map = rng_below(&f.rng, 2);

		random_range(&f, &va, &size);
		/* Congruent modulo the largest block: blocks wherever aligned. */
		checked_op(&f, map, va, size, G(64) + (va & (f.big - 1)));
		unmaps += !map;
		splits += !map && count_type(&f, PT_EV_ALLOC);
		frees += !map && count_type(&f, PT_EV_FREE);
	}
	printf("  %s: %u random operations, %u unmaps: %u split blocks, %u freed tables\n", c->name,
	       count, unmaps, splits, frees);
	if (!splits || !frees)
		ffail(&f, "the random operations neither split nor freed");
	snprintf(f.op, sizeof(f.op), "pt_unmap(everything)");
	checked_op(&f, false, 0, 1ull << c->ias, 0);
	fctx_fini(&f);
}

static void test_random_coherent(void **state)
{
	(void)state;
	random_ops(&cfg_mali_4k, RANDOM_OPS);
}

static void test_random_noncoherent(void **state)
{
	(void)state;
	random_ops(&cfg_s1_4k_nc, RANDOM_OPS);
	random_ops(&cfg_s1_64k_nc, RANDOM_OPS);
	random_ops(&cfg_lpae_nc, RANDOM_OPS);
	random_ops(&cfg_s2_4k_nc, RANDOM_OPS);
}

/* --- Exact flushes of known operations (4K granule, V = a 1G-aligned base) ----------- */

#define MAX_SPECS 10

/* [V + off, V + off + size), @n times, @stride apart (n 0 means once). */
struct range_spec {
	int64_t off;
	uint64_t size;
	unsigned int n;
	uint64_t stride;
};

struct flush_spec {
	int64_t off;
	uint64_t size;
	bool leaf_only;
};

/*
 * struct flush_case - one operation and the flushes it must issue.
 * @setup: mapped first (PA congruent to the VA, so blocks wherever aligned).
 * @map: the request is a map (else an unmap).
 * @want_rc: what the request returns.
 * @want: the flush_range calls, in VA order; @want_all: flush_all calls.
 */
struct flush_case {
	const char *name;
	struct range_spec setup[MAX_SPECS];
	bool map;
	struct range_spec req;
	int want_rc;
	struct flush_spec want[MAX_SPECS];
	unsigned int want_all;
};

#define V (G(4 << 10) + G(3)) /* inside the top-level item [4T, 4T + 512G) */
/* A page that keeps V's first leaf table (and the tables above it) linked. */
#define ANCHOR                    \
	{                         \
		M(2) - K(4), K(4) \
	}
/* A page that keeps the tables above V's leaf tables linked. */
#define ANCHOR_FAR            \
	{                     \
		M(1022), K(4) \
	}
#define LEAF true
#define WALK false

static const struct flush_case flush_cases[] = {
	{ .name = "unmap pages in a leaf table",
	  .setup = { { 0, K(64) }, ANCHOR },
	  .req = { K(8), K(32) },
	  .want = { { K(8), K(32), LEAF } } },
	{ .name = "unmap more than is mapped",
	  .setup = { { K(8), K(32) }, ANCHOR },
	  .req = { 0, M(1) },
	  .want = { { K(8), K(32), LEAF } } },
	{ .name = "unmap nothing", .setup = { ANCHOR }, .req = { M(1), K(64) } },
	{ .name = "unmap in an empty table", .req = { 0, G(1) } },
	{ .name = "unmap a whole 2M block",
	  .setup = { { M(2), M(2) }, ANCHOR },
	  .req = { M(2), M(2) },
	  .want = { { M(2), M(2), LEAF } } },
	{ .name = "split a 2M block",
	  .setup = { { M(2), M(2) }, ANCHOR },
	  .req = { M(2) + K(8), K(4) },
	  .want = { { M(2), M(2), WALK } } },
	{ .name = "split a 1G block down to 4K",
	  .setup = { { G(1), G(1) }, ANCHOR },
	  .req = { G(1) + K(8), K(4) },
	  .want = { { G(1), G(1), WALK } } },
	{ .name = "split 2M blocks at both ends",
	  .setup = { { M(2), M(6) }, ANCHOR },
	  .req = { M(2) + K(8), M(4) },
	  .want = { { M(2), M(6), WALK } } },
	{ .name = "runs in two leaf tables coalesce",
	  .setup = { { M(4) - K(32), K(64) }, ANCHOR },
	  .req = { M(4) - K(16), K(32) },
	  .want = { { M(4) - K(16), K(32), LEAF } } },
	{ .name = "an emptied leaf table is flushed whole",
	  .setup = { { M(4), K(16) }, ANCHOR },
	  .req = { M(4), K(16) },
	  .want = { { M(4), M(2), WALK } } },
	{ .name = "separate runs, separate flushes",
	  .setup = { { M(4), K(4) }, { M(5), K(4) }, { M(8), K(4), 2, K(8) } },
	  .req = { M(5), M(3) + K(4) },
	  .want = { { M(5), K(4), LEAF }, { M(8), K(4), LEAF } } },
	{ .name = "the last page takes the whole path",
	  .setup = { { 0, K(16) } },
	  .req = { 0, K(16) },
	  .want = { { -(int64_t)G(3), G(512), WALK } } },
	{ .name = "map pages",
	  .map = true,
	  .req = { K(8), K(32) },
	  .want = { { K(8), K(32), LEAF } } },
	{ .name = "map pages and blocks",
	  .map = true,
	  .req = { M(2) - K(8), M(4) + K(16) },
	  .want = { { M(2) - K(8), M(4) + K(16), LEAF } } },
	{ .name = "map over a live page",
	  .setup = { { 0, K(64) } },
	  .map = true,
	  .req = { K(32), K(64) },
	  .want_rc = -EEXIST },
	{ .name = "8 separate ranges: 8 flushes",
	  .setup = { { 0, K(4), 8, M(4) }, ANCHOR_FAR },
	  .req = { 0, M(28) + K(4) },
	  .want = { { M(0), M(2), WALK },
		    { M(4), M(2), WALK },
		    { M(8), M(2), WALK },
		    { M(12), M(2), WALK },
		    { M(16), M(2), WALK },
		    { M(20), M(2), WALK },
		    { M(24), M(2), WALK },
		    { M(28), M(2), WALK } } },
	{ .name = "9 separate ranges: flush all",
	  .setup = { { 0, K(4), 9, M(4) }, ANCHOR_FAR },
	  .req = { 0, M(32) + K(4) },
	  .want_all = 1 },
};

static void setup_specs(struct fctx *f, const struct range_spec *specs)
{
	for (const struct range_spec *s = specs; s < specs + MAX_SPECS && s->size; s++) {
		for (unsigned int i = 0; i < (s->n ? s->n : 1); i++) {
			uint64_t va = V + s->off + i * s->stride;
			int rc = pt_map(f->pt, va, va - V + G(8), s->size, PT_PROT_READ);

			if (rc)
				ffail(f, "setup map 0x%" PRIx64 ": %s", va, errname(rc));
		}
	}
}

static void check_flush_list(const struct fctx *f, const struct flush_case *fc)
{
	size_t n = 0, all = count_type(f, PT_EV_FLUSH_ALL);

	for (size_t i = 0; i < f->env.nr_log; i++) {
		const struct pt_test_ev *e = &f->env.log[i];
		static const struct flush_spec none;
		const struct flush_spec *w = n < MAX_SPECS ? &fc->want[n] : &none;

		if (e->type != PT_EV_FLUSH_RANGE)
			continue;
		if (!w->size || e->a != V + w->off || e->b != w->size ||
		    e->leaf_only != w->leaf_only)
			ffail(f,
			      "flush %zu: 0x%" PRIx64 " +0x%" PRIx64
			      " leaf_only %d; want V%+" PRId64 " = 0x%" PRIx64 " +0x%" PRIx64
			      " leaf_only %d",
			      n, e->a, e->b, e->leaf_only, w->off, V + w->off, w->size,
			      w->leaf_only);
		n++;
	}
	if (n < MAX_SPECS && fc->want[n].size)
		ffail(f, "%zu flush_range calls; want more, next V%+" PRId64 " +0x%" PRIx64, n,
		      fc->want[n].off, fc->want[n].size);
	if (all != fc->want_all)
		ffail(f, "%zu flush_all calls, want %u", all, fc->want_all);
}

static void test_flush_case(void **state)
{
	const struct flush_case *fc = *state;
	struct fctx f;
	uint64_t va = V + fc->req.off;
	int rc;

	fctx_init(&f, &cfg_mali_4k);
	setup_specs(&f, fc->setup);
	rc = checked_op(&f, fc->map, va, fc->req.size, va - V + G(8));
	if (rc != fc->want_rc)
		ffail(&f, "%s returned %s", fc->name, errname(rc));
	check_flush_list(&f, fc);
	fctx_fini(&f);
}

/* --- Exact syncs of known operations (4K, non-coherent, 4 levels from level 0) -------- */

/* Items [va, va + n items) of the level-@level table holding @va; n 0 = the whole table. */
struct sync_spec {
	unsigned int level;
	int64_t off;
	unsigned int n;
};

struct sync_case {
	const char *name;
	struct range_spec setup[MAX_SPECS];
	bool map;
	struct range_spec req;
	struct sync_spec want[MAX_SPECS];
};

static const struct sync_case sync_cases[] = {
	{ .name = "map 16 pages into a leaf table",
	  .setup = { { 0, K(4) } },
	  .map = true,
	  .req = { K(64), K(64) },
	  .want = { { 3, K(64), 16 } } },
	{ .name = "map into an empty table",
	  .map = true,
	  .req = { K(8), K(32) },
	  .want = { { 3, 0, 0 }, { 2, 0, 0 }, { 1, 0, 0 }, { 0, 0, 1 } } },
	{ .name = "unmap pages from a leaf table",
	  .setup = { { 0, K(64) } },
	  .req = { K(8), K(32) },
	  .want = { { 3, K(8), 8 } } },
	{ .name = "split a 2M block",
	  .setup = { { M(2), M(2) }, { 0, K(4) } },
	  .req = { M(2) + K(8), K(4) },
	  .want = { { 3, M(2), 0 }, { 2, M(2), 1 } } },
	{ .name = "map blocks next to a table",
	  .setup = { { 0, K(4) } },
	  .map = true,
	  .req = { M(2), M(4) },
	  .want = { { 2, M(2), 2 } } },
	{ .name = "unmap nothing", .setup = { { 0, K(4) } }, .req = { M(1), K(64) } },
	{ .name = "map over a live page",
	  .setup = { { 0, K(64) } },
	  .map = true,
	  .req = { K(32), K(64) } },
};

static bool sync_matches(const struct fctx *f, const struct tree *tr, const struct pt_test_ev *e,
			 const struct sync_spec *w)
{
	const struct tinfo *t = tree_table_at(tr, w->level, V + w->off);
	uint64_t first, len;

	if (!t)
		return false;
	first = w->n ? t->pa + 8 * ((V + w->off - t->va) >> f->geo.level_shift[w->level]) : t->pa;
	len = w->n ? 8ull * w->n : t->bytes;
	return e->a == first && e->b == len;
}

static void check_sync_list(struct fctx *f, const struct sync_case *sc)
{
	struct tree tr;
	size_t syncs = count_type(f, PT_EV_SYNC), want = 0;

	tree_read(f, &tr);
	for (const struct sync_spec *w = sc->want; w < sc->want + MAX_SPECS; w++) {
		bool found = false;

		if (!w->n && !w->level && !w->off)
			break;
		want++;
		for (size_t i = 0; i < f->env.nr_log && !found; i++)
			found = f->env.log[i].type == PT_EV_SYNC &&
				sync_matches(f, &tr, &f->env.log[i], w);
		if (!found)
			ffail(f, "no sync of %s of the level-%u table at V%+" PRId64,
			      w->n ? "items" : "the whole", w->level, w->off);
	}
	tree_free(&tr);
	if (syncs != want)
		ffail(f, "%zu syncs, want %zu", syncs, want);
}

static void test_sync_case(void **state)
{
	const struct sync_case *sc = *state;
	struct fctx f;
	uint64_t va = V + sc->req.off;

	fctx_init(&f, &cfg_s1_4k_nc);
	assert_int_equal(f.geo.start_level, 0);
	setup_specs(&f, sc->setup);
	checked_op(&f, sc->map, va, sc->req.size, va - V + G(8));
	check_sync_list(&f, sc);
	fctx_fini(&f);
}

#define NR(a) (sizeof(a) / sizeof((a)[0]))

int main(void)
{
	struct CMUnitTest tests[2 + NR(flush_cases) + NR(sync_cases)];
	size_t n = 0;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_random_coherent);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_random_noncoherent);
	for (size_t i = 0; i < NR(flush_cases); i++)
		tests[n++] = (struct CMUnitTest){ flush_cases[i].name, test_flush_case, NULL, NULL,
						  (void *)&flush_cases[i] };
	for (size_t i = 0; i < NR(sync_cases); i++)
		tests[n++] = (struct CMUnitTest){ sync_cases[i].name, test_sync_case, NULL, NULL,
						  (void *)&sync_cases[i] };
	return _cmocka_run_group_tests("test-flush", tests, n, NULL, NULL);
}
