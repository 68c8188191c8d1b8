// SPDX-License-Identifier: MIT
/*
 * Model-based random test of pt_map(), pt_unmap() and PT_OP_REPLACE (reserved
 * alone and committed at once, as the one-op calls are).
 *
 * A flat reference model (a sorted list of extents VA -> PA, prot) receives the
 * same random requests as the page table. Requests mix granule-sized and
 * block-sized, block-aligned and unaligned ranges, over a few VA zones that
 * straddle top-level item boundaries (and the two ends of the input space), so
 * that blocks are created, cut down to granules, and whole tables come and go.
 * After every call: the return value and the unmapped byte count are the
 * model's, pt_validate() passes, a failed map changed nothing, and sampled
 * translations (pt_walk() and the walker that follows physical addresses) are
 * the model's; every FULL_CHECK_EVERY calls every zone is compared in full.
 *
 * Usage: test-model [--seed N] [--count N]; a failure prints the arguments that
 * replay it (the seed, and the count that stops right after the failing call).
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

#define DEFAULT_SEED 0x6770766dull
#define DEFAULT_COUNT 2000u
/* Coverage is asserted only for runs at least this long. */
#define COVERAGE_MIN_COUNT 1000u
#define FULL_CHECK_EVERY 64u
#define RANDOM_SAMPLES 6u
#define MAX_ZONES 4u
#define MAX_PROTS 12u
/* Ranges up to this many granules may get an output address aligned to the granule only. */
#define SMALL_PAGES 1024u

/* Command line; cmocka owns main()'s flow, so the test cases read these. */
static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;

static const struct pt_test_cfg cfg_cases[] = {
	{ "mali-aarch64-4k-ias48", PT_FMT_MALI_AARCH64, 12, 48, 48, true, false },
	{ "s1-16k-ias47", PT_FMT_ARM64_S1, 14, 47, 48, true, false },
	{ "s1-64k-ias48-noncoherent", PT_FMT_ARM64_S1, 16, 48, 48, false, false },
	{ "s2-4k-ias40-concat", PT_FMT_ARM64_S2, 12, 40, 40, true, true },
	{ "mali-lpae-4k-ias48-noncoherent", PT_FMT_MALI_LPAE, 12, 48, 40, false, false },
};

static uint64_t align_down(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}

struct zone {
	uint64_t lo, hi;
};

struct counters {
	unsigned int maps, map_eexist, unmaps, splits, empty_unmaps, replaces, replaces_over;
	uint64_t block_hits, page_hits;
	uint64_t max_tables;
};

/* One configuration's run. */
struct run {
	const struct pt_test_cfg *c;
	struct pt_test_env env;
	struct pt *pt;
	struct pt_geometry geo;
	struct model model;
	struct rng rng;
	struct zone zone[MAX_ZONES];
	unsigned int nzones;
	uint64_t leaf[PT_MAX_LEVELS]; /* leaf sizes, ascending */
	unsigned int nleaf;
	uint32_t prot[MAX_PROTS];
	unsigned int nprot;
	uint64_t granule;
	unsigned int op;
	uint64_t last_va, last_end; /* the previous request */
	char what[160];             /* the current call, for failure messages */
	struct counters n;
};

static void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void run_fail(struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s] op %u: %s\n  %s\n", r->c->name, r->op, r->what, msg);
	tu_print_replay(opt_seed, r->op + 1);
	fail_msg("%s", msg);
}

static void fail_rc(struct run *r, const char *what, int got, int want)
{
	run_fail(r, "%s returned %s, want %s", what, errname(got), errname(want));
}

/* What random maps pick from: the candidates the format expresses exactly. */
static void pick_prots(struct run *r)
{
	static const uint32_t candidates[] = {
		PT_PROT_READ,
		PT_PROT_READ | PT_PROT_WRITE,
		PT_PROT_READ | PT_PROT_EXEC,
		PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE,
		PT_PROT_READ | PT_PROT_MMIO,
		PT_PROT_READ | PT_PROT_WRITE | PT_PROT_EXEC | PT_PROT_CACHE,
		PT_PROT_READ | PT_PROT_PRIV,
		PT_PROT_READ | PT_PROT_WRITE | PT_PROT_PRIV | PT_PROT_MMIO,
		PT_PROT_WRITE,
		PT_PROT_WRITE | PT_PROT_CACHE,
	};

	r->nprot = pt_test_exact_prots(r->pt, candidates,
				       sizeof(candidates) / sizeof(candidates[0]), r->prot);
	assert_true(r->nprot >= 4);
}

/*
 * Zones: the bottom and the top of the input space, and two straddling a
 * boundary between top-level items, each wide enough for a few of the largest
 * leaves on both sides.
 */
static void pick_zones(struct run *r)
{
	uint64_t big = r->leaf[r->nleaf - 1];
	uint64_t half = 4 * big;
	uint64_t top_item = 1ull << r->geo.level_shift[r->geo.start_level];
	uint64_t spacing = max_u64(top_item, 4 * half);
	uint64_t ias_end = 1ull << r->c->ias;

	r->nzones = 0;
	r->zone[r->nzones++] = (struct zone){ 0, 2 * half };
	for (uint64_t k = 1; k <= 2; k++)
		r->zone[r->nzones++] = (struct zone){ k * spacing - half, k * spacing + half };
	r->zone[r->nzones++] = (struct zone){ ias_end - 2 * half, ias_end };
	for (unsigned int i = 1; i < r->nzones; i++)
		assert_true(r->zone[i].lo >= r->zone[i - 1].hi);
}

static void run_init(struct run *r, const struct pt_test_cfg *c, unsigned int index)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->rng.s = opt_seed * 0x100000001b3ull + index;
	pt_test_env_init(&r->env, c->fmt, c->granule_lg2, c->ias, c->oas, c->coherent);
	r->pt = pt_test_create(&r->env);
	pt_get_geometry(r->pt, &r->geo);
	if (c->concat && r->geo.top_concat < 2)
		run_fail(r, "geometry: top_concat %u, want concatenation", r->geo.top_concat);
	r->granule = 1ull << c->granule_lg2;
	for (unsigned int b = 0; b < 64; b++)
		if (r->geo.leaf_sizes & (1ull << b))
			r->leaf[r->nleaf++] = 1ull << b;
	assert_true(r->nleaf >= 2);
	pick_prots(r);
	pick_zones(r);
	snprintf(r->what, sizeof(r->what), "setup");
}

/*
 * Compare one VA with the model through both walkers; return where the answer
 * may change next (end of the leaf or invalid item, or of the model's segment).
 */
static uint64_t check_va(struct run *r, uint64_t va)
{
	uint64_t want_pa = 0, next, hw_pa = 0, item;
	uint32_t want_prot = 0, hw_prot = 0;
	unsigned int hw_level = 0;
	struct pt_walk_result res;
	bool mapped = model_lookup(&r->model, va, &want_pa, &want_prot, &next);
	int want = mapped ? 0 : -ENOENT;
	int rc = pt_walk(r->pt, va, &res);
	int hw = pt_test_hw_walk(&r->env, r->pt, va, &hw_pa, &hw_prot, &hw_level);

	if (rc != want || (mapped && (res.pa != want_pa || res.prot != want_prot)))
		run_fail(r,
			 "pt_walk(0x%" PRIx64 "): %s pa 0x%" PRIx64 " prot 0x%x level %u; "
			 "model: %s pa 0x%" PRIx64 " prot 0x%x",
			 va, errname(rc), res.pa, res.prot, res.level,
			 mapped ? "mapped" : "unmapped", want_pa, want_prot);
	if (hw != want || (mapped && (hw_pa != want_pa || hw_prot != want_prot)))
		run_fail(r,
			 "hw walk(0x%" PRIx64 "): %s pa 0x%" PRIx64 " prot 0x%x level %u; "
			 "model: %s pa 0x%" PRIx64 " prot 0x%x",
			 va, errname(hw), hw_pa, hw_prot, hw_level, mapped ? "mapped" : "unmapped",
			 want_pa, want_prot);
	if (hw_level != res.level)
		run_fail(r, "0x%" PRIx64 ": hw walk ends at level %u, pt_walk at %u", va, hw_level,
			 res.level);
	item = 1ull << r->geo.level_shift[res.level];
	if (!rc && (res.leaf_size != item || !(r->geo.leaf_sizes & item)))
		run_fail(r, "0x%" PRIx64 ": leaf size 0x%" PRIx64 " at level %u", va, res.leaf_size,
			 res.level);
	if (!rc && item > r->granule)
		r->n.block_hits++;
	else if (!rc)
		r->n.page_hits++;
	return min_u64(next, (va | (item - 1)) + 1);
}

/* Compare every zone in full, one walk per leaf, invalid item or model segment. */
static void check_all(struct run *r)
{
	for (unsigned int z = 0; z < r->nzones; z++) {
		for (uint64_t va = r->zone[z].lo; va < r->zone[z].hi;)
			va = check_va(r, va);
	}
}

static uint64_t random_va(struct run *r)
{
	const struct zone *z = &r->zone[rng_below(&r->rng, r->nzones)];

	return z->lo + align_down(rng_below(&r->rng, z->hi - z->lo), r->granule);
}

/* The edges of the request and its neighbours, a point inside, random points. */
static void check_samples(struct run *r, uint64_t va, uint64_t size)
{
	uint64_t g = r->granule, end = va + size;
	uint64_t pts[] = { va - g, va, end - g, end, va + align_down(size / 2, g) };

	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
		if (pts[i] < (1ull << r->c->ias))
			check_va(r, pts[i]);
	for (unsigned int i = 0; i < RANDOM_SAMPLES; i++)
		check_va(r, random_va(r));
}

struct req {
	uint64_t va, size;
};

/* A size made of whole @unit leaves, of granules, or of both. */
static uint64_t pick_size(struct run *r, uint64_t unit)
{
	uint64_t g = r->granule;

	switch (rng_below(&r->rng, 4)) {
	case 0:
		return unit * (1 + rng_below(&r->rng, 3));
	case 1:
		return g * (1 + rng_below(&r->rng, 16));
	case 2:
		return unit * (1 + rng_below(&r->rng, 2)) + g * (1 + rng_below(&r->rng, 8));
	default:
		return g * (1 + rng_below(&r->rng, 2 * unit / g));
	}
}

/* A random range inside one zone, aligned to a leaf size or only to the granule. */
static struct req pick_range(struct run *r)
{
	const struct zone *z = &r->zone[rng_below(&r->rng, r->nzones)];
	uint64_t unit = r->leaf[rng_below(&r->rng, r->nleaf)];
	uint64_t size = pick_size(r, unit);
	uint64_t align = rng_below(&r->rng, 2) ? unit : r->granule;
	uint64_t va = z->lo + align_down(rng_below(&r->rng, z->hi - z->lo - size + 1), align);

	if (!rng_below(&r->rng, 4)) {
		/* Shift by a few granules so that the range starts or ends inside a leaf. */
		uint64_t shift = r->granule * rng_below(&r->rng, 4);

		va = va - z->lo >= shift ? va - shift : va;
	}
	return (struct req){ va, size };
}

/*
 * A range next to the previous request's: the pages after it, or a leaf-sized
 * span around its start. Neighbouring binds start from the table the last one
 * went down to (pt_descend() remembers it), including when they cover that
 * table's span whole and must stop above it.
 */
static struct req pick_near(struct run *r)
{
	uint64_t unit = r->leaf[rng_below(&r->rng, r->nleaf)];
	uint64_t va = rng_below(&r->rng, 2) ? r->last_end : align_down(r->last_va, unit);
	uint64_t size = rng_below(&r->rng, 2) ? unit : r->granule * (1 + rng_below(&r->rng, 4));

	for (unsigned int z = 0; z < r->nzones; z++) {
		if (va >= r->zone[z].lo && va < r->zone[z].hi && size <= r->zone[z].hi - va)
			return (struct req){ va, size };
	}
	return pick_range(r);
}

/* A range that overlaps a live extent (or a random one when the model is empty). */
static struct req pick_overlap(struct run *r)
{
	const struct extent *x;
	uint64_t g = r->granule, va;

	if (!r->model.n)
		return pick_range(r);
	x = &r->model.e[rng_below(&r->rng, r->model.n)];
	va = x->va + align_down(rng_below(&r->rng, x->end - x->va), g);
	va -= min_u64(va, g * rng_below(&r->rng, 4));
	return (struct req){ va, g * (1 + rng_below(&r->rng, 64)) };
}

/*
 * An output address. Usually congruent to the VA modulo a block size, so that
 * blocks (of that size and below) can be used; for small ranges sometimes only
 * granule aligned (a large range of granule pages would only slow the checks).
 */
static uint64_t pick_pa(struct run *r, uint64_t va, uint64_t size)
{
	uint64_t space = 1ull << r->c->oas;
	uint64_t unit;

	if (size <= SMALL_PAGES * r->granule && !rng_below(&r->rng, 4))
		return align_down(rng_below(&r->rng, space - size), r->granule);
	unit = r->leaf[1 + rng_below(&r->rng, r->nleaf - 1)];
	return rng_below(&r->rng, (space - size) / unit - 1) * unit + (va & (unit - 1));
}

static void check_unchanged(struct run *r, const struct pt_stats *before, uint64_t pages)
{
	struct pt_stats after;
	uint64_t pages_after = pt_test_pages_in_use(&r->env);

	pt_get_stats(r->pt, &after);
	if (memcmp(before, &after, sizeof(after)))
		run_fail(r,
			 "a failed call changed the stats: tables %" PRIu64 " -> %" PRIu64
			 ", bytes %" PRIu64 " -> %" PRIu64,
			 before->tables, after.tables, before->table_bytes, after.table_bytes);
	if (pages_after != pages)
		run_fail(r, "a failed call changed pages in use: %" PRIu64 " -> %" PRIu64, pages,
			 pages_after);
}

static void do_map(struct run *r)
{
	unsigned int kind = (unsigned int)rng_below(&r->rng, 8);
	struct req q = kind < 2 ? pick_overlap(r) : kind < 3 ? pick_near(r) : pick_range(r);
	uint64_t pa, end;
	uint32_t prot = r->prot[rng_below(&r->rng, r->nprot)];
	struct pt_stats before;
	uint64_t pages = pt_test_pages_in_use(&r->env);
	int want, rc;

	if (q.va + q.size > (1ull << r->c->ias))
		q.size = (1ull << r->c->ias) - q.va;
	end = q.va + q.size;
	r->last_va = q.va;
	r->last_end = end;
	pa = pick_pa(r, q.va, q.size);
	want = model_overlaps(&r->model, q.va, end) ? -EEXIST : 0;
	snprintf(r->what, sizeof(r->what),
		 "pt_map(va 0x%" PRIx64 ", pa 0x%" PRIx64 ", size 0x%" PRIx64 ", prot 0x%x)", q.va,
		 pa, q.size, prot);
	pt_get_stats(r->pt, &before);
	pt_test_seek(r->pt, &(struct pt_op){ .type = PT_OP_MAP, .va = q.va, .size = q.size });
	rc = pt_map(r->pt, q.va, pa, q.size, prot);
	if (rc != want)
		fail_rc(r, "pt_map", rc, want);
	if (rc)
		check_unchanged(r, &before, pages);
	else
		model_insert(&r->model, (struct extent){ q.va, end, q.va, pa, 0, prot });
	r->n.maps += !rc;
	r->n.map_eexist += rc == -EEXIST;
	check_samples(r, q.va, q.size);
}

/* A granule-aligned piece of a live extent: cuts whatever blocks map it. */
static struct req pick_cut(struct run *r)
{
	const struct extent *x = &r->model.e[rng_below(&r->rng, r->model.n)];
	const struct extent *y = &r->model.e[rng_below(&r->rng, r->model.n)];
	uint64_t g = r->granule, len;

	/* The larger of two: large extents are where the blocks are. */
	x = y->end - y->va > x->end - x->va ? y : x;
	len = x->end - x->va;
	uint64_t off = align_down(rng_below(&r->rng, len), g);
	uint64_t size = rng_below(&r->rng, 2) ? g * (1 + rng_below(&r->rng, 4)) :
						g + align_down(rng_below(&r->rng, len - off), g);

	return (struct req){ x->va + off, min_u64(size, len - off) };
}

/* An unmap range: a whole zone, a live extent, a piece of one, or random. */
static struct req pick_unmap_range(struct run *r)
{
	unsigned int kind = (unsigned int)rng_below(&r->rng, 100);

	if (kind < 2) {
		const struct zone *z = &r->zone[rng_below(&r->rng, r->nzones)];

		return (struct req){ z->lo, z->hi - z->lo };
	}
	if (kind < 20 && r->model.n) {
		const struct extent *x = &r->model.e[rng_below(&r->rng, r->model.n)];

		return (struct req){ x->va, x->end - x->va };
	}
	if (kind < 60 && r->model.n)
		return pick_cut(r);
	if (kind < 75)
		return pick_near(r);
	return pick_range(r);
}

static void do_unmap(struct run *r)
{
	struct req q = pick_unmap_range(r);
	uint64_t unmapped = ~0ull, want;
	struct pt_stats before, after;
	int rc;

	r->last_va = q.va;
	r->last_end = q.va + q.size;
	snprintf(r->what, sizeof(r->what), "pt_unmap(va 0x%" PRIx64 ", size 0x%" PRIx64 ")", q.va,
		 q.size);
	pt_get_stats(r->pt, &before);
	pt_test_seek(r->pt, &(struct pt_op){ .type = PT_OP_UNMAP, .va = q.va, .size = q.size });
	rc = pt_unmap(r->pt, q.va, q.size, &unmapped);
	if (rc)
		fail_rc(r, "pt_unmap", rc, 0);
	want = model_unmap(&r->model, q.va, q.va + q.size);
	if (unmapped != want)
		run_fail(r, "unmapped 0x%" PRIx64 " bytes, model 0x%" PRIx64, unmapped, want);
	pt_get_stats(r->pt, &after);
	r->n.unmaps++;
	r->n.splits += after.tables > before.tables;
	r->n.empty_unmaps += !want;
	check_samples(r, q.va, q.size);
}

/* A replace over an unmap's range (pages, cut blocks, whole tables, holes): never refused. */
static void do_replace(struct run *r)
{
	struct req q = pick_unmap_range(r);
	struct pt_op op = { .type = PT_OP_REPLACE, .va = q.va, .size = q.size };
	uint64_t unmapped = ~0ull, want;
	int rc;

	op.pa = pick_pa(r, q.va, q.size);
	op.prot = r->prot[rng_below(&r->rng, r->nprot)];
	r->last_va = q.va;
	r->last_end = q.va + q.size;
	snprintf(r->what, sizeof(r->what),
		 "replace(va 0x%" PRIx64 ", pa 0x%" PRIx64 ", size 0x%" PRIx64 ", prot 0x%x)", q.va,
		 op.pa, q.size, op.prot);
	rc = pt_test_call_op(r->pt, &op, &unmapped);
	if (rc)
		fail_rc(r, "replace", rc, 0);
	want = model_unmap(&r->model, q.va, q.va + q.size);
	model_insert(&r->model, (struct extent){ q.va, q.va + q.size, q.va, op.pa, 0, op.prot });
	if (unmapped != want)
		run_fail(r, "replace unmapped 0x%" PRIx64 " bytes, model 0x%" PRIx64, unmapped,
			 want);
	r->n.replaces++;
	r->n.replaces_over += want != 0;
	check_samples(r, q.va, q.size);
}

static void run_op(struct run *r)
{
	struct pt_stats st;
	unsigned int k = (unsigned int)rng_below(&r->rng, 100);
	int err;

	if (k < 45)
		do_map(r);
	else if (k < 60)
		do_replace(r);
	else
		do_unmap(r);
	err = pt_validate(r->pt, gpuvm_print_file, stderr);
	if (err)
		run_fail(r, "pt_validate: %s", errname(err));
	if ((r->op + 1) % FULL_CHECK_EVERY == 0)
		check_all(r);
	pt_get_stats(r->pt, &st);
	r->n.max_tables = max_u64(r->n.max_tables, st.tables);
}

/* A long run must have made blocks, cut them, and been refused. */
static void check_coverage(struct run *r)
{
	const struct counters *n = &r->n;

	printf("[%s] %u maps, %u -EEXIST, %u unmaps (%u split, %u empty), %u replaces (%u over "
	       "mappings), %" PRIu64 " block and %" PRIu64 " page hits, up to %" PRIu64 " tables\n",
	       r->c->name, n->maps, n->map_eexist, n->unmaps, n->splits, n->empty_unmaps,
	       n->replaces, n->replaces_over, n->block_hits, n->page_hits, n->max_tables);
	if (opt_count < COVERAGE_MIN_COUNT)
		return;
	if (!n->maps || !n->map_eexist || !n->splits || !n->empty_unmaps || !n->block_hits ||
	    !n->page_hits || !n->replaces_over || n->replaces_over == n->replaces)
		run_fail(r, "the random run did not cover every kind of call");
}

static void test_model(void **state)
{
	const struct pt_test_cfg *c = *state;
	struct run *r = calloc(1, sizeof(*r));
	uint64_t pages0, bytes0;

	assert_non_null(r);
	run_init(r, c, (unsigned int)(c - cfg_cases));
	/* The pool holds nothing but this table: its top is the baseline's only page. */
	pages0 = pt_test_pages_in_use(&r->env);
	bytes0 = pt_test_bytes_in_use(&r->env);
	check_all(r);
	for (r->op = 0; r->op < opt_count; r->op++)
		run_op(r);
	snprintf(r->what, sizeof(r->what), "final check");
	check_all(r);
	check_coverage(r);
	pt_unmap(r->pt, 0, 1ull << c->ias, NULL);
	if (pt_test_pages_in_use(&r->env) != pages0 || pt_test_bytes_in_use(&r->env) != bytes0)
		run_fail(r,
			 "after unmapping everything: %" PRIu64 " pages, %" PRIu64
			 " bytes in use, want %" PRIu64 ", %" PRIu64,
			 pt_test_pages_in_use(&r->env), pt_test_bytes_in_use(&r->env), pages0,
			 bytes0);
	pt_destroy(r->pt);
	if (pt_test_pages_in_use(&r->env) != 0 || pt_test_bytes_in_use(&r->env) != 0)
		run_fail(r, "after pt_destroy: %" PRIu64 " pages, %" PRIu64 " bytes in use",
			 pt_test_pages_in_use(&r->env), pt_test_bytes_in_use(&r->env));
	pt_test_env_fini(&r->env);
	model_free(&r->model);
	free(r);
}

/* One cmocka test per configuration, named after it. */
#define CFG_TEST(i)                                                              \
	{                                                                        \
		cfg_cases[i].name, test_model, NULL, NULL, (void *)&cfg_cases[i] \
	}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		CFG_TEST(0), CFG_TEST(1), CFG_TEST(2), CFG_TEST(3), CFG_TEST(4),
	};
	const struct tu_args args = { "test-model", &opt_seed, &opt_count };

	_Static_assert(sizeof(tests) / sizeof(tests[0]) == sizeof(cfg_cases) / sizeof(cfg_cases[0]),
		       "one test per configuration");
	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
