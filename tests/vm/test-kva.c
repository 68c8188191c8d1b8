// SPDX-License-Identifier: MIT
/*
 * Tests of the kernel VA allocator (vm/gvm_kva.c).
 *
 * Unit tests pin the configuration rules, the layout, alignment, exhaustion
 * and recovery, refused frees, the large pool and the fallback between pools.
 * The model test replays random requests against a naive model (a byte per
 * page, searched page by page) that predicts the exact address of every
 * allocation, next-fit hints included, and every error. The thread test runs
 * four threads that claim each page they are given in an atomic owner array,
 * so that any overlap between live allocations is caught, and reads the lock
 * counters to show that the threads used different pools.
 *
 * Usage: test-kva [--seed N] [--count N] [--filter PATTERN]; a model failure
 * prints the arguments that replay it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <gpuvm/gvm_kva.h>
#include <gpuvm/print_file.h>

#include "test-util.h"

#define DEFAULT_SEED 0x6b7661ull
#define DEFAULT_COUNT 3000u
/* Coverage of the model test is asserted only for runs at least this long. */
#define COVERAGE_MIN_COUNT 1000u
#define PAGE_4K ((uint64_t)4096)
#define NR_THREADS 4u
#define THREAD_OPS 100000u
#define THREAD_LIVE 32u

static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;

static struct gvm_kva *kva_new(const struct gvm_kva_cfg *cfg)
{
	struct gvm_kva *kva = NULL;

	CHECK_ERR("create", gvm_kva_create(cfg, &kva), 0);
	return kva;
}

/* Pool index of @va (nr_pools for the large pool), or -1 outside the range. */
static int pool_of(const struct gvm_kva_stats *st, uint64_t va)
{
	for (unsigned int i = 0; i <= st->nr_pools; i++)
		if (va >= st->pool[i].start && va < st->pool[i].end)
			return (int)i;
	return -1;
}

static uint64_t allocated_pages(const struct gvm_kva_stats *st)
{
	return st->total_pages - st->free_pages;
}

static void check_valid(const char *ctx, struct gvm_kva *kva)
{
	CHECK_ERR(ctx, gvm_kva_validate(kva, gpuvm_print_file, stderr), 0);
}

/* Allocated pages of every pool and the free total are those of @before. */
static void check_unchanged(const char *ctx, struct gvm_kva *kva,
			    const struct gvm_kva_stats *before)
{
	struct gvm_kva_stats st;

	gvm_kva_stats(kva, &st);
	for (unsigned int i = 0; i <= st.nr_pools; i++)
		CHECK_EQ(ctx, st.pool[i].allocated_pages, before->pool[i].allocated_pages);
	CHECK_EQ(ctx, st.free_pages, before->free_pages);
	check_valid(ctx, kva);
}

/*
 * A reference set of live allocations: which allocation owns each page of
 * the range. Adding an allocation checks that it is inside the range, inside
 * one pool, aligned, and on pages no other live allocation holds.
 */
struct refset {
	uint64_t start, end, page;
	uint32_t *owner; /* per page: 0 free, else index in @va + 1 */
	uint64_t va[4096], size[4096];
	unsigned int n;
};

static void ref_init(struct refset *r, const struct gvm_kva_stats *st, uint64_t page)
{
	memset(r, 0, sizeof(*r));
	r->start = st->pool[0].start;
	r->end = st->pool[st->nr_pools].end;
	r->page = page;
	r->owner = calloc(st->total_pages, sizeof(*r->owner));
	assert_non_null(r->owner);
}

static void ref_add(struct refset *r, const struct gvm_kva_stats *st, const char *ctx, uint64_t va,
		    uint64_t size, uint64_t align)
{
	uint64_t pages = (size + r->page - 1) / r->page, first = (va - r->start) / r->page;
	int pool = pool_of(st, va);

	if (va < r->start || va >= r->end || r->end - va < pages * r->page)
		fail_msg("%s: [0x%" PRIx64 ", +%" PRIu64 " pages) outside the range", ctx, va,
			 pages);
	CHECK_EQ(ctx, va % align, 0);
	CHECK_EQ(ctx, pool_of(st, va + (pages - 1) * r->page), pool);
	for (uint64_t i = first; i < first + pages; i++)
		if (r->owner[i])
			fail_msg("%s: page 0x%" PRIx64 " of 0x%" PRIx64 " already in 0x%" PRIx64,
				 ctx, r->start + i * r->page, va, r->va[r->owner[i] - 1]);
	assert_true(r->n < sizeof(r->va) / sizeof(r->va[0]));
	for (uint64_t i = first; i < first + pages; i++)
		r->owner[i] = r->n + 1;
	r->va[r->n] = va;
	r->size[r->n++] = size;
}

/* Free every allocation of @r through @kva, in reverse order, and forget them. */
static void ref_free_all(struct refset *r, struct gvm_kva *kva, const char *ctx)
{
	while (r->n) {
		r->n--;
		CHECK_ERR(ctx, gvm_kva_free(kva, r->va[r->n], r->size[r->n]), 0);
	}
	memset(r->owner, 0, (r->end - r->start) / r->page * sizeof(*r->owner));
}

/* Allocate and record; return the error. */
static int ref_alloc(struct refset *r, struct gvm_kva *kva, const char *ctx, uint64_t size,
		     uint64_t align, uint64_t *va)
{
	struct gvm_kva_stats st;
	int err = gvm_kva_alloc(kva, size, align, va);

	if (!err) {
		gvm_kva_stats(kva, &st);
		ref_add(r, &st, ctx, *va, size, align);
	}
	return err;
}

/* ---- configuration and layout ---- */

/* 1024 pages of 4 KiB at an address aligned to 4 KiB only. */
#define BASE_START 0x100001000ull
#define BASE_END (BASE_START + 1024 * PAGE_4K)

struct create_case {
	const char *name;
	struct gvm_kva_cfg cfg;
	int want;
};

static const struct create_case create_cases[] = {
	{ "defaults", { BASE_START, BASE_END, 12 }, 0 },
	{ "16k-pages", { 0x40000000, 0x40000000 + 1024 * 16384ull, 14 }, 0 },
	{ "page_lg2-0", { BASE_START, BASE_END, 0 }, -EINVAL },
	{ "page_lg2-11", { BASE_START, BASE_END, 11 }, -EINVAL },
	{ "page_lg2-22", { 0, 1024ull << 22, 22 }, -EINVAL },
	{ "start-misaligned", { BASE_START + 0x800, BASE_END, 12 }, -EINVAL },
	{ "end-misaligned", { BASE_START, BASE_END - 1, 12 }, -EINVAL },
	{ "16k-start-on-4k", { BASE_START, BASE_START + 1024 * 16384ull, 14 }, -EINVAL },
	{ "empty", { BASE_START, BASE_START, 12 }, -EINVAL },
	{ "reversed", { BASE_END, BASE_START, 12 }, -EINVAL },
	{ "pools-64", { BASE_START, BASE_END, 12, 64, PAGE_4K }, 0 },
	{ "pools-65", { BASE_START, BASE_END, 12, 65, PAGE_4K }, -EINVAL },
	{ "threshold-misaligned", { BASE_START, BASE_END, 12, 4, 0x1800 }, -EINVAL },
	{ "large-misaligned", { BASE_START, BASE_END, 12, 4, 0, 0x10800 }, -EINVAL },
	{ "large-is-range", { BASE_START, BASE_END, 12, 4, 0, 1024 * PAGE_4K }, -EINVAL },
	{ "large-above-range", { BASE_START, BASE_END, 12, 4, 0, 2048 * PAGE_4K }, -EINVAL },
	/* 768 pages / 4 pools = 192 < 256: a small request could fit no pool. */
	{ "pool-below-threshold", { BASE_START, BASE_END, 12, 4, 256 * PAGE_4K }, -EINVAL },
	/* 64-page pools, a large pool of exactly the threshold, then one page more. */
	{ "large-pool-is-threshold",
	  { BASE_START, BASE_START + 320 * PAGE_4K, 12, 4, 64 * PAGE_4K, 64 * PAGE_4K },
	  -EINVAL },
	{ "large-pool-above-threshold",
	  { BASE_START, BASE_START + 321 * PAGE_4K, 12, 4, 64 * PAGE_4K, 65 * PAGE_4K },
	  0 },
	{ "default-range-too-small", { BASE_START, BASE_START + 300 * PAGE_4K, 12 }, -EINVAL },
	{ "too-many-pages", { 0, (GVM_KVA_MAX_PAGES + 1) * PAGE_4K, 12, 4, 0, 0 }, -ERANGE },
	{ "top-of-address-space", { 0ull - 1025 * PAGE_4K, 0ull - PAGE_4K, 12 }, 0 },
};

/* One page, then the whole large pool (up to the end of the range); both freed. */
static void smoke(const char *ctx, struct gvm_kva *kva)
{
	struct gvm_kva_stats st;
	struct gvm_kva_pool_stats large;
	uint64_t small_va, large_va, page;

	gvm_kva_stats(kva, &st);
	large = st.pool[st.nr_pools];
	page = (large.end - st.pool[0].start) / st.total_pages;
	CHECK_ERR(ctx, gvm_kva_alloc(kva, 1, page, &small_va), 0);
	CHECK_EQ(ctx, pool_of(&st, small_va) < (int)st.nr_pools, true);
	CHECK_ERR(ctx, gvm_kva_alloc(kva, large.end - large.start, page, &large_va), 0);
	CHECK_EQ(ctx, large_va, large.start);
	gvm_kva_stats(kva, &st);
	CHECK_EQ(ctx, st.free_pages, st.total_pages - 1 - (large.end - large.start) / page);
	check_valid(ctx, kva);
	/* One page past the end of the range (of the bitmaps, for 64-page multiples). */
	CHECK_ERR(ctx, gvm_kva_free(kva, large_va, large.end - large.start + page), -EINVAL);
	CHECK_ERR(ctx, gvm_kva_free(kva, large_va, large.end - large.start), 0);
	CHECK_ERR(ctx, gvm_kva_free(kva, small_va, 1), 0);
	gvm_kva_stats(kva, &st);
	CHECK_EQ(ctx, st.free_pages, st.total_pages);
}

static void test_create_invalid(void **state)
{
	struct gvm_kva *kva;

	(void)state;
	for (size_t i = 0; i < sizeof(create_cases) / sizeof(create_cases[0]); i++) {
		const struct create_case *c = &create_cases[i];

		kva = (struct gvm_kva *)&kva;
		CHECK_ERR(c->name, gvm_kva_create(&c->cfg, &kva), c->want);
		if (c->want) {
			/* A failed constructor leaves the out-parameter alone. */
			CHECK_EQ(c->name, (uintptr_t)kva, (uintptr_t)&kva);
			continue;
		}
		smoke(c->name, kva);
		gvm_kva_destroy(kva);
	}
	CHECK_ERR("NULL cfg", gvm_kva_create(NULL, &kva), -EINVAL);
	CHECK_ERR("NULL out", gvm_kva_create(&create_cases[0].cfg, NULL), -EINVAL);
	gvm_kva_destroy(NULL);
}

struct layout_case {
	const char *name;
	struct gvm_kva_cfg cfg;
	unsigned int pools;
	uint64_t pool_pages, large_pages;
};

static const struct layout_case layout_cases[] = {
	/* Defaults: a quarter (250 pages) large, 750 / 4 = 187; the large pool takes 2 more. */
	{ "defaults-1000", { 0x80000000, 0x80000000 + 1000 * PAGE_4K, 12 }, 4, 187, 252 },
	{ "3-pools", { BASE_START, BASE_END, 12, 3, 8 * PAGE_4K, 100 * PAGE_4K }, 3, 308, 100 },
	{ "1-pool-64k", { 0, 512ull << 16, 16, 1, 0, 0 }, 1, 384, 128 },
};

static void check_layout(const struct layout_case *c)
{
	struct gvm_kva *kva = kva_new(&c->cfg);
	struct gvm_kva_stats st;
	uint64_t page = 1ull << c->cfg.page_lg2, va = c->cfg.start;

	gvm_kva_stats(kva, &st);
	CHECK_EQ(c->name, st.nr_pools, c->pools);
	CHECK_EQ(c->name, st.total_pages, (c->cfg.end - c->cfg.start) / page);
	CHECK_EQ(c->name, st.free_pages, st.total_pages);
	for (unsigned int i = 0; i <= st.nr_pools; i++) {
		uint64_t want = i < st.nr_pools ? c->pool_pages : c->large_pages;

		/* Contiguous, in address order, the large pool last. */
		CHECK_EQ(c->name, st.pool[i].start, va);
		CHECK_EQ(c->name, (st.pool[i].end - st.pool[i].start) / page, want);
		CHECK_EQ(c->name, st.pool[i].allocated_pages, 0);
		CHECK_EQ(c->name, st.pool[i].acquisitions, 0);
		va = st.pool[i].end;
	}
	CHECK_EQ(c->name, va, c->cfg.end);
	gvm_kva_destroy(kva);
}

static void test_layout(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(layout_cases) / sizeof(layout_cases[0]); i++)
		check_layout(&layout_cases[i]);
}

/* ---- allocation and free ---- */

/* 4096 pages at an address aligned to 4 KiB only: defaults, 768-page pools. */
static const struct gvm_kva_cfg roundtrip_cfg = {
	.start = 0x200001000ull,
	.end = 0x200001000ull + 4096 * PAGE_4K,
	.page_lg2 = 12,
};

struct roundtrip_case {
	const char *name;
	uint64_t size, align;
	bool large;
};

static const struct roundtrip_case roundtrip_cases[] = {
	{ "1-byte", 1, PAGE_4K, false },
	{ "1-page", PAGE_4K, PAGE_4K, false },
	{ "page-plus-1", PAGE_4K + 1, PAGE_4K, false },
	{ "3-pages-align-16k", 3 * PAGE_4K, 16384, false },
	{ "1-page-align-64k", PAGE_4K, 65536, false },
	{ "2-pages-align-1m", 2 * PAGE_4K, 1 << 20, false },
	{ "threshold", 64 * PAGE_4K, PAGE_4K, false },
	{ "threshold-plus-1", 64 * PAGE_4K + 1, PAGE_4K, true },
	{ "80-pages-align-256k", 80 * PAGE_4K, 256 << 10, true },
};

#define ROUNDTRIP_REPS 6u

static void roundtrip_one(struct gvm_kva *kva, struct refset *ref, const struct roundtrip_case *c)
{
	struct gvm_kva_stats st;
	uint64_t va, pages = (c->size + PAGE_4K - 1) / PAGE_4K;

	for (unsigned int k = 0; k < ROUNDTRIP_REPS; k++) {
		CHECK_ERR(c->name, ref_alloc(ref, kva, c->name, c->size, c->align, &va), 0);
		gvm_kva_stats(kva, &st);
		CHECK_EQ(c->name, pool_of(&st, va) == (int)st.nr_pools, c->large);
	}
	CHECK_EQ(c->name, allocated_pages(&st), ROUNDTRIP_REPS * pages);
	check_valid(c->name, kva);
	/* Freed with the size given to the allocation, unrounded. */
	ref_free_all(ref, kva, c->name);
	gvm_kva_stats(kva, &st);
	CHECK_EQ(c->name, st.free_pages, st.total_pages);
	check_valid(c->name, kva);
}

static void test_roundtrip(void **state)
{
	struct gvm_kva *kva = kva_new(&roundtrip_cfg);
	struct gvm_kva_stats st;
	static struct refset ref;
	uint64_t va;

	(void)state;
	gvm_kva_stats(kva, &st);
	ref_init(&ref, &st, PAGE_4K);
	for (size_t i = 0; i < sizeof(roundtrip_cases) / sizeof(roundtrip_cases[0]); i++)
		roundtrip_one(kva, &ref, &roundtrip_cases[i]);
	/* All cases live at once, then freed together. */
	for (size_t i = 0; i < sizeof(roundtrip_cases) / sizeof(roundtrip_cases[0]); i++)
		CHECK_ERR(roundtrip_cases[i].name,
			  ref_alloc(&ref, kva, roundtrip_cases[i].name, roundtrip_cases[i].size,
				    roundtrip_cases[i].align, &va),
			  0);
	check_valid("all live", kva);
	ref_free_all(&ref, kva, "all live");
	gvm_kva_stats(kva, &st);
	CHECK_EQ("all freed", st.free_pages, st.total_pages);
	free(ref.owner);
	gvm_kva_destroy(kva);
}

struct bad_alloc_case {
	const char *name;
	uint64_t size, align;
	bool null_va;
	int want;
};

static const struct bad_alloc_case bad_alloc_cases[] = {
	{ "size-0", 0, PAGE_4K, false, -EINVAL },
	{ "align-0", PAGE_4K, 0, false, -EINVAL },
	{ "align-3-pages", PAGE_4K, 3 * PAGE_4K, false, -EINVAL },
	{ "align-half-page", PAGE_4K, PAGE_4K / 2, false, -EINVAL },
	{ "align-1", PAGE_4K, 1, false, -EINVAL },
	{ "align-page-plus-1", PAGE_4K, PAGE_4K + 1, false, -EINVAL },
	{ "null-va", PAGE_4K, PAGE_4K, true, -EINVAL },
	{ "size-overflows", UINT64_MAX, PAGE_4K, false, -EOVERFLOW },
	{ "size-huge", UINT64_MAX - PAGE_4K + 1, PAGE_4K, false, -ENOSPC },
	{ "larger-than-large-pool", 1025 * PAGE_4K, PAGE_4K, false, -ENOSPC },
	{ "align-2^63", PAGE_4K, 1ull << 63, false, -ENOSPC },
	{ "align-2^40-large", 65 * PAGE_4K, 1ull << 40, false, -ENOSPC },
};

static void test_alloc_invalid(void **state)
{
	struct gvm_kva *kva = kva_new(&roundtrip_cfg);
	struct gvm_kva_stats before;
	uint64_t keep, va;

	(void)state;
	/* Something live, so that "unchanged" is not just "empty". */
	CHECK_ERR("keep", gvm_kva_alloc(kva, 3 * PAGE_4K, PAGE_4K, &keep), 0);
	gvm_kva_stats(kva, &before);
	for (size_t i = 0; i < sizeof(bad_alloc_cases) / sizeof(bad_alloc_cases[0]); i++) {
		const struct bad_alloc_case *c = &bad_alloc_cases[i];

		va = 0xdeadull;
		CHECK_ERR(c->name, gvm_kva_alloc(kva, c->size, c->align, c->null_va ? NULL : &va),
			  c->want);
		CHECK_EQ(c->name, va, 0xdeadull);
		check_unchanged(c->name, kva, &before);
	}
	CHECK_ERR("keep", gvm_kva_free(kva, keep, 3 * PAGE_4K), 0);
	gvm_kva_destroy(kva);
}

/* Four 32-page pools and a 32-page large pool; requests above 4 pages are large. */
static const struct gvm_kva_cfg small_cfg = {
	.start = 0x10000000,
	.end = 0x10000000 + 160 * PAGE_4K,
	.page_lg2 = 12,
	.pools = 4,
	.large_threshold = 4 * PAGE_4K,
	.large_bytes = 32 * PAGE_4K,
};

struct bad_free_case {
	const char *name;
	int64_t va_pages; /* from A, in pages */
	int64_t va_bytes; /* added */
	uint64_t size;
	int want;
};

/* A = 4 pages, B = 4 pages right after A, then C = 1 page, in one pool. */
static const struct bad_free_case bad_free_cases[] = {
	{ "head-of-A", 0, 0, 2 * PAGE_4K, -EINVAL },
	{ "tail-of-A", 2, 0, 2 * PAGE_4K, -EINVAL },
	{ "middle-of-A", 1, 0, 2 * PAGE_4K, -EINVAL },
	{ "A-and-1-page-of-B", 0, 0, 5 * PAGE_4K, -EINVAL },
	{ "A-and-B", 0, 0, 8 * PAGE_4K, -EINVAL },
	{ "end-of-A-start-of-B", 2, 0, 4 * PAGE_4K, -EINVAL },
	{ "A-misaligned", 0, 1, 4 * PAGE_4K, -EINVAL },
	{ "A-size-0", 0, 0, 0, -EINVAL },
	{ "A-size-overflows", 0, 0, UINT64_MAX, -EOVERFLOW },
	{ "free-page-after-C", 9, 0, PAGE_4K, -EINVAL },
	{ "C-and-free-page", 8, 0, 2 * PAGE_4K, -EINVAL },
};

static void bad_free_cases_run(struct gvm_kva *kva, uint64_t a)
{
	struct gvm_kva_stats before;

	gvm_kva_stats(kva, &before);
	for (size_t i = 0; i < sizeof(bad_free_cases) / sizeof(bad_free_cases[0]); i++) {
		const struct bad_free_case *c = &bad_free_cases[i];
		uint64_t va = a + (uint64_t)(c->va_pages * (int64_t)PAGE_4K + c->va_bytes);

		CHECK_ERR(c->name, gvm_kva_free(kva, va, c->size), c->want);
		check_unchanged(c->name, kva, &before);
	}
}

/* Ranges outside the allocator or across the boundary of two pools. */
static void bad_free_edges(struct gvm_kva *kva)
{
	struct gvm_kva_stats st;

	gvm_kva_stats(kva, &st);
	CHECK_ERR("before-start", gvm_kva_free(kva, small_cfg.start - PAGE_4K, PAGE_4K), -EINVAL);
	CHECK_ERR("at-end", gvm_kva_free(kva, small_cfg.end, PAGE_4K), -EINVAL);
	CHECK_ERR("zero", gvm_kva_free(kva, 0, PAGE_4K), -EINVAL);
	CHECK_ERR("top", gvm_kva_free(kva, 0ull - PAGE_4K, PAGE_4K), -EINVAL);
	CHECK_ERR("past-end", gvm_kva_free(kva, small_cfg.end - PAGE_4K, 2 * PAGE_4K), -EINVAL);
	/* The last page of pool 0 and the first of pool 1, even if both are allocated. */
	CHECK_ERR("straddle", gvm_kva_free(kva, st.pool[0].end - PAGE_4K, 2 * PAGE_4K), -EINVAL);
	check_unchanged("edges", kva, &st);
}

static void test_free_invalid(void **state)
{
	struct gvm_kva *kva = kva_new(&small_cfg);
	struct gvm_kva_stats st;
	uint64_t a, b, c;

	(void)state;
	CHECK_ERR("A", gvm_kva_alloc(kva, 4 * PAGE_4K, PAGE_4K, &a), 0);
	CHECK_ERR("B", gvm_kva_alloc(kva, 4 * PAGE_4K, PAGE_4K, &b), 0);
	CHECK_ERR("C", gvm_kva_alloc(kva, PAGE_4K, PAGE_4K, &c), 0);
	/* Next fit in one pool: B right after A, C right after B. */
	CHECK_EQ("B after A", b, a + 4 * PAGE_4K);
	CHECK_EQ("C after B", c, b + 4 * PAGE_4K);
	bad_free_cases_run(kva, a);
	bad_free_edges(kva);
	CHECK_ERR("free A", gvm_kva_free(kva, a, 4 * PAGE_4K), 0);
	gvm_kva_stats(kva, &st);
	CHECK_EQ("after A", allocated_pages(&st), 5);
	CHECK_ERR("double free A", gvm_kva_free(kva, a, 4 * PAGE_4K), -EINVAL);
	/* The start of B, now preceded by free pages, is still one allocation only. */
	CHECK_ERR("B-and-C", gvm_kva_free(kva, b, 5 * PAGE_4K), -EINVAL);
	check_unchanged("double free A", kva, &st);
	CHECK_ERR("free B", gvm_kva_free(kva, b, 4 * PAGE_4K), 0);
	CHECK_ERR("free C", gvm_kva_free(kva, c, 1), 0);
	CHECK_ERR("double free C", gvm_kva_free(kva, c, PAGE_4K), -EINVAL);
	gvm_kva_stats(kva, &st);
	CHECK_EQ("all freed", st.free_pages, st.total_pages);
	check_valid("all freed", kva);
	gvm_kva_destroy(kva);
}

/* Fill the small pools page by page; return the pages allocated. */
static unsigned int fill_small(struct gvm_kva *kva, struct refset *ref, const char *ctx)
{
	unsigned int n = 0;
	uint64_t va;
	int err;

	while (!(err = ref_alloc(ref, kva, ctx, PAGE_4K, PAGE_4K, &va)))
		n++;
	CHECK_ERR(ctx, err, -ENOSPC);
	return n;
}

/*
 * In full small pools, free 4 single pages at a VA aligned to 16 KiB: an
 * aligned 4-page request lands there. Then fill them again page by page.
 */
static void refill_aligned(struct gvm_kva *kva)
{
	uint64_t hole = small_cfg.start + 40 * PAGE_4K, va;

	for (unsigned int i = 0; i < 4; i++)
		CHECK_ERR("free 4", gvm_kva_free(kva, hole + i * PAGE_4K, PAGE_4K), 0);
	CHECK_ERR("aligned refill", gvm_kva_alloc(kva, 4 * PAGE_4K, 4 * PAGE_4K, &va), 0);
	CHECK_EQ("aligned refill", va, hole);
	CHECK_ERR("aligned refill", gvm_kva_free(kva, va, 4 * PAGE_4K), 0);
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_ERR("restore", gvm_kva_alloc(kva, PAGE_4K, PAGE_4K, &va), 0);
		CHECK_EQ("restore", va, hole + i * PAGE_4K);
	}
}

static void test_exhaustion(void **state)
{
	struct gvm_kva *kva = kva_new(&small_cfg);
	struct gvm_kva_stats st, full;
	static struct refset ref;
	uint64_t va, hole;

	(void)state;
	gvm_kva_stats(kva, &st);
	ref_init(&ref, &st, PAGE_4K);
	CHECK_EQ("fill", fill_small(kva, &ref, "fill"), 128);
	gvm_kva_stats(kva, &full);
	CHECK_EQ("fill", full.pool[4].allocated_pages, 0);
	CHECK_EQ("fill", full.free_pages, 32);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_ERR("full", gvm_kva_alloc(kva, PAGE_4K, PAGE_4K, &va), -ENOSPC);
	check_unchanged("full", kva, &full);
	/* One freed page anywhere is found, by any thread's pool order. */
	hole = ref.va[77];
	CHECK_ERR("hole", gvm_kva_free(kva, hole, PAGE_4K), 0);
	CHECK_ERR("refill", gvm_kva_alloc(kva, PAGE_4K, PAGE_4K, &va), 0);
	CHECK_EQ("refill", va, hole);
	CHECK_ERR("2 pages", gvm_kva_alloc(kva, 2 * PAGE_4K, PAGE_4K, &va), -ENOSPC);
	refill_aligned(kva);
	check_unchanged("restored", kva, &full);
	/* Free everything: the whole range is usable again. */
	ref_free_all(&ref, kva, "free all");
	gvm_kva_stats(kva, &st);
	CHECK_EQ("free all", st.free_pages, st.total_pages);
	CHECK_EQ("fill again", fill_small(kva, &ref, "fill again"), 128);
	ref_free_all(&ref, kva, "free all again");
	check_valid("end", kva);
	free(ref.owner);
	gvm_kva_destroy(kva);
}

/*
 * Two allocators get the same successful calls; one of them also gets calls
 * that fail (searched and found nothing, or refused). The addresses stay the
 * same: a failed call moved no hint and changed no page.
 */
static void test_failed_calls_change_nothing(void **state)
{
	struct gvm_kva *a = kva_new(&small_cfg), *b = kva_new(&small_cfg);
	struct rng rng = { opt_seed };
	uint64_t live[64], va_a, va_b, junk;
	unsigned int nlive = 0;

	(void)state;
	for (unsigned int i = 0; i < 400; i++) {
		if (nlive < 64 && (rng_below(&rng, 3) || !nlive)) {
			int ea = gvm_kva_alloc(a, PAGE_4K, PAGE_4K, &va_a);

			CHECK_ERR("twin alloc", gvm_kva_alloc(b, PAGE_4K, PAGE_4K, &va_b), ea);
			if (!ea) {
				CHECK_EQ("twin alloc", va_a, va_b);
				live[nlive++] = va_a;
			}
		} else {
			unsigned int k = (unsigned int)rng_below(&rng, nlive);

			CHECK_ERR("twin free", gvm_kva_free(a, live[k], PAGE_4K), 0);
			CHECK_ERR("twin free", gvm_kva_free(b, live[k], PAGE_4K), 0);
			live[k] = live[--nlive];
		}
		/* Failing calls on a only: a full search, a large miss, a bad free. */
		CHECK_ERR("miss", gvm_kva_alloc(a, PAGE_4K, 1ull << 40, &junk), -ENOSPC);
		CHECK_ERR("miss", gvm_kva_alloc(a, 5 * PAGE_4K, 1ull << 40, &junk), -ENOSPC);
		CHECK_ERR("bad free", gvm_kva_free(a, small_cfg.start, 3 * PAGE_4K), -EINVAL);
	}
	gvm_kva_destroy(a);
	gvm_kva_destroy(b);
}

/* 1024 pages: four 192-page pools and a 256-page large pool; 16-page threshold. */
static const struct gvm_kva_cfg large_cfg = {
	.start = 0x300001000ull,
	.end = 0x300001000ull + 1024 * PAGE_4K,
	.page_lg2 = 12,
	.pools = 4,
	.large_threshold = 16 * PAGE_4K,
	.large_bytes = 256 * PAGE_4K,
};

/*
 * Allocate @size bytes until -ENOSPC; each in pool @pool, or in a small pool
 * when @pool is -1. Return the count.
 */
static unsigned int alloc_until_full(struct refset *ref, struct gvm_kva *kva, const char *ctx,
				     uint64_t size, int pool)
{
	struct gvm_kva_stats st;
	unsigned int n = 0;
	uint64_t va;
	int err;

	gvm_kva_stats(kva, &st);
	while (!(err = ref_alloc(ref, kva, ctx, size, PAGE_4K, &va))) {
		if (pool >= 0)
			CHECK_EQ(ctx, pool_of(&st, va), pool);
		else
			CHECK_EQ(ctx, pool_of(&st, va) < (int)st.nr_pools, true);
		n++;
	}
	CHECK_ERR(ctx, err, -ENOSPC);
	return n;
}

static void test_large_pool(void **state)
{
	struct gvm_kva *kva = kva_new(&large_cfg);
	struct gvm_kva_stats st;
	static struct refset ref;
	uint64_t va;

	(void)state;
	gvm_kva_stats(kva, &st);
	ref_init(&ref, &st, PAGE_4K);
	CHECK_EQ("large pool start", st.pool[4].start, large_cfg.start + 768 * PAGE_4K);
	CHECK_ERR("threshold", ref_alloc(&ref, kva, "threshold", 16 * PAGE_4K, PAGE_4K, &va), 0);
	CHECK_EQ("threshold", pool_of(&st, va) < 4, true);
	/* 17 pages, 15 times fill 255 of the 256 large pages; the small pools do not help. */
	CHECK_EQ("large", alloc_until_full(&ref, kva, "large", 17 * PAGE_4K, 4), 15);
	gvm_kva_stats(kva, &st);
	CHECK_EQ("large pool full", st.pool[4].allocated_pages, 255);
	CHECK_EQ("large pool full", st.free_pages, 1024 - 255 - 16);
	/* Fill the small pools with 16-page requests; the large pool's last page stays free. */
	CHECK_EQ("small", alloc_until_full(&ref, kva, "small", 16 * PAGE_4K, -1), 47);
	CHECK_ERR("one page", ref_alloc(&ref, kva, "one page", PAGE_4K, PAGE_4K, &va), -ENOSPC);
	gvm_kva_stats(kva, &st);
	CHECK_EQ("small pools full", st.free_pages, 1);
	ref_free_all(&ref, kva, "free all");
	/* Aligned large request: the VA, not the offset in the pool, is aligned. */
	CHECK_ERR("aligned", ref_alloc(&ref, kva, "aligned", 20 * PAGE_4K, 256 << 10, &va), 0);
	CHECK_EQ("aligned", pool_of(&st, va), 4);
	CHECK_EQ("aligned offset", (va - st.pool[4].start) % (256 << 10) != 0, true);
	ref_free_all(&ref, kva, "aligned");
	check_valid("end", kva);
	free(ref.owner);
	gvm_kva_destroy(kva);
}

/* The small pool this thread starts at (a probe on a fresh allocator). */
static int home_pool(const struct gvm_kva_cfg *cfg)
{
	struct gvm_kva *kva = kva_new(cfg);
	struct gvm_kva_stats st;
	uint64_t va;

	CHECK_ERR("probe", gvm_kva_alloc(kva, 1, 1ull << cfg->page_lg2, &va), 0);
	gvm_kva_stats(kva, &st);
	gvm_kva_destroy(kva);
	return pool_of(&st, va);
}

static void test_fallback(void **state)
{
	struct gvm_kva *kva = kva_new(&small_cfg);
	int home = home_pool(&small_cfg), next = (home + 1) % 4;
	struct gvm_kva_stats st;
	uint64_t va, first;

	(void)state;
	gvm_kva_stats(kva, &st);
	CHECK_ERR("first", gvm_kva_alloc(kva, PAGE_4K, PAGE_4K, &first), 0);
	CHECK_EQ("first", first, st.pool[home].start);
	for (unsigned int i = 1; i < 32; i++) {
		CHECK_ERR("fill home", gvm_kva_alloc(kva, PAGE_4K, PAGE_4K, &va), 0);
		CHECK_EQ("fill home", va, st.pool[home].start + i * PAGE_4K);
	}
	/* Home pool full: the next pool in address order, wrapping. */
	CHECK_ERR("fallback", gvm_kva_alloc(kva, 2 * PAGE_4K, PAGE_4K, &va), 0);
	CHECK_EQ("fallback", va, st.pool[next].start);
	/* A free page at home: back home, even though the next pool has room. */
	CHECK_ERR("free home", gvm_kva_free(kva, first, PAGE_4K), 0);
	CHECK_ERR("home again", gvm_kva_alloc(kva, PAGE_4K, PAGE_4K, &va), 0);
	CHECK_EQ("home again", va, first);
	/* Two free pages at home, but not adjacent: a 2-page request falls back. */
	CHECK_ERR("hole 1", gvm_kva_free(kva, st.pool[home].start + 3 * PAGE_4K, PAGE_4K), 0);
	CHECK_ERR("hole 2", gvm_kva_free(kva, st.pool[home].start + 5 * PAGE_4K, PAGE_4K), 0);
	CHECK_ERR("fragmented", gvm_kva_alloc(kva, 2 * PAGE_4K, PAGE_4K, &va), 0);
	CHECK_EQ("fragmented", va, st.pool[next].start + 2 * PAGE_4K);
	gvm_kva_stats(kva, &st);
	CHECK_EQ("counts", st.pool[home].allocated_pages, 30);
	CHECK_EQ("counts", st.pool[next].allocated_pages, 4);
	CHECK_EQ("counts", allocated_pages(&st), 34);
	check_valid("end", kva);
	gvm_kva_destroy(kva);
}

/* ---- model-based random test ---- */

struct model_case {
	const char *name;
	struct gvm_kva_cfg cfg;
};

static const struct model_case model_cases[] = {
	/* 125-page pools, a 100-page large pool, 8-page threshold; start aligned to 4K only. */
	{ "4k-4-pools",
	  { 0x100003000ull, 0x100003000ull + 600 * PAGE_4K, 12, 4, 8 * PAGE_4K, 100 * PAGE_4K } },
	/* 83-page pools, and the large pool takes the remainder: 52 pages. */
	{ "16k-3-pools",
	  { 0x7fff0000c000ull, 0x7fff0000c000ull + 301 * 16384ull, 14, 3, 4 * 16384ull,
	    50 * 16384ull } },
	{ "4k-1-pool", { 0x5000, 0x5000 + 256 * PAGE_4K, 12, 1, 16 * PAGE_4K, 64 * PAGE_4K } },
	{ "64k-defaults", { 0x10000, 0x10000 + 512 * 65536ull, 16 } },
	{ "4k-7-pools", { 0x1000, 0x1000 + 400 * PAGE_4K, 12, 7, 2 * PAGE_4K, 30 * PAGE_4K } },
};

struct live {
	uint64_t va, size;
};

struct model_counters {
	unsigned int allocs, large, fallbacks, wraps, enospc, frees, bad_frees, bad_allocs;
};

/*
 * The model: a byte per page, the next-fit hint of each pool (in pages from
 * its start) and the list of live allocations.
 */
struct model {
	const struct model_case *c;
	struct gvm_kva *kva;
	struct gvm_kva_stats geo;
	uint64_t page, threshold, first_page;
	unsigned int home;
	uint8_t *used;
	uint64_t hint[GVM_KVA_MAX_POOLS + 1];
	uint64_t pool_pages[GVM_KVA_MAX_POOLS + 1];
	struct live *live;
	size_t nlive, cap;
	struct live last_freed;
	struct rng rng;
	unsigned int op;
	char what[160];
	struct model_counters n;
};

static void model_fail(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void model_fail(struct model *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s] op %u: %s\n  %s\n", m->c->name, m->op, m->what, msg);
	tu_print_replay(opt_seed, m->op + 1);
	fail_msg("%s", msg);
}

static void model_check_rc(struct model *m, int got, int want)
{
	if (got != want)
		model_fail(m, "returned %s, want %s", errname(got), errname(want));
}

static uint64_t pool_npages(const struct model *m, unsigned int p)
{
	return (m->geo.pool[p].end - m->geo.pool[p].start) / m->page;
}

/* Range page index of page @i of pool @p. */
static uint64_t pool_page(const struct model *m, unsigned int p, uint64_t i)
{
	return (m->geo.pool[p].start - m->geo.pool[0].start) / m->page + i;
}

/* First free run of @n pages at a VA aligned to @ap pages, from @from; page by page. */
static bool model_fit(const struct model *m, unsigned int p, uint64_t from, uint64_t n, uint64_t ap,
		      uint64_t *out)
{
	uint64_t np = pool_npages(m, p);

	for (uint64_t i = from; i + n <= np; i++) {
		uint64_t g = pool_page(m, p, i), k = 0;

		if ((m->first_page + g) % ap)
			continue;
		while (k < n && !m->used[g + k])
			k++;
		if (k == n) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* Where the allocator must put the request: the pool and page, or false. */
static bool model_place(struct model *m, uint64_t n, uint64_t ap, unsigned int *pool, uint64_t *idx)
{
	unsigned int nr = m->geo.nr_pools, tries = n > m->threshold ? 1 : nr;

	for (unsigned int k = 0; k < tries; k++) {
		unsigned int p = n > m->threshold ? nr : (m->home + k) % nr;

		*pool = p;
		if (model_fit(m, p, m->hint[p], n, ap, idx))
			return true;
		if (m->hint[p] && model_fit(m, p, 0, n, ap, idx)) {
			m->n.wraps++;
			return true;
		}
	}
	return false;
}

static void model_mark(struct model *m, unsigned int p, uint64_t idx, uint64_t n, uint8_t v)
{
	memset(&m->used[pool_page(m, p, idx)], v, n);
	m->pool_pages[p] = v ? m->pool_pages[p] + n : m->pool_pages[p] - n;
}

static void model_add_live(struct model *m, uint64_t va, uint64_t size)
{
	if (m->nlive == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->live = realloc(m->live, m->cap * sizeof(*m->live));
		assert_non_null(m->live);
	}
	m->live[m->nlive++] = (struct live){ va, size };
}

static void op_alloc(struct model *m, uint64_t size, uint64_t align)
{
	uint64_t n = (size + m->page - 1) / m->page, idx = 0, va = 0, want;
	unsigned int pool = 0;
	bool fits = model_place(m, n, align / m->page, &pool, &idx);
	int err;

	snprintf(m->what, sizeof(m->what), "alloc(size 0x%" PRIx64 ", align 0x%" PRIx64 ")", size,
		 align);
	err = gvm_kva_alloc(m->kva, size, align, &va);
	model_check_rc(m, err, fits ? 0 : -ENOSPC);
	if (!fits) {
		m->n.enospc++;
		return;
	}
	want = m->geo.pool[pool].start + idx * m->page;
	if (va != want)
		model_fail(m, "VA 0x%" PRIx64 ", model 0x%" PRIx64 " (pool %u page %" PRIu64 ")",
			   va, want, pool, idx);
	model_mark(m, pool, idx, n, 1);
	m->hint[pool] = idx + n;
	model_add_live(m, va, size);
	m->n.allocs++;
	m->n.large += pool == m->geo.nr_pools;
	m->n.fallbacks += pool != m->geo.nr_pools && pool != m->home;
}

/* The live allocation that is exactly [va, va + pages), or -1. */
static long model_exact(const struct model *m, uint64_t va, uint64_t size)
{
	uint64_t n = (size + m->page - 1) / m->page;

	for (size_t i = 0; i < m->nlive; i++)
		if (m->live[i].va == va && (m->live[i].size + m->page - 1) / m->page == n)
			return (long)i;
	return -1;
}

static void op_free(struct model *m, uint64_t va, uint64_t size)
{
	long i = size ? model_exact(m, va, size) : -1;
	int p;

	snprintf(m->what, sizeof(m->what), "free(0x%" PRIx64 ", size 0x%" PRIx64 ")", va, size);
	model_check_rc(m, gvm_kva_free(m->kva, va, size), i < 0 ? -EINVAL : 0);
	if (i < 0) {
		m->n.bad_frees++;
		return;
	}
	p = pool_of(&m->geo, va);
	model_mark(m, (unsigned int)p, (va - m->geo.pool[p].start) / m->page,
		   (size + m->page - 1) / m->page, 0);
	m->last_freed = m->live[i];
	m->live[i] = m->live[--m->nlive];
	m->n.frees++;
}

/* Mostly small, a size in bytes that rounds up; sometimes large, sometimes too large. */
static uint64_t gen_size(struct model *m)
{
	uint64_t pages, large_pages = pool_npages(m, m->geo.nr_pools);

	switch (rng_below(&m->rng, 10)) {
	case 0:
		pages = m->threshold + 1 + rng_below(&m->rng, large_pages / 2);
		break;
	case 1:
		pages = m->threshold + 1 + rng_below(&m->rng, large_pages + 8);
		break;
	case 2:
	case 3:
		pages = 1 + rng_below(&m->rng, m->threshold);
		break;
	default:
		pages = 1 + rng_below(&m->rng, m->threshold < 4 ? m->threshold : 4);
	}
	return pages * m->page - rng_below(&m->rng, m->page);
}

static uint64_t gen_align(struct model *m)
{
	unsigned int lg2 = rng_below(&m->rng, 8) ? (unsigned int)rng_below(&m->rng, 3) :
						   (unsigned int)rng_below(&m->rng, 12);

	return m->page << lg2;
}

/* A free that may or may not be exactly a live allocation. */
static void op_free_odd(struct model *m)
{
	const struct live *l = m->nlive ? &m->live[rng_below(&m->rng, m->nlive)] : NULL;
	uint64_t start = m->geo.pool[0].start, span = m->geo.total_pages + 4;
	uint64_t pages = 1 + rng_below(&m->rng, 8);

	switch (l ? rng_below(&m->rng, 5) : 4) {
	case 0: /* double free, unless it was handed out again meanwhile */
		op_free(m, m->last_freed.va, m->last_freed.size ? m->last_freed.size : m->page);
		break;
	case 1: /* a page more */
		op_free(m, l->va, l->size + m->page);
		break;
	case 2: /* the tail */
		op_free(m, l->va + m->page, l->size);
		break;
	case 3: /* misaligned */
		op_free(m, l->va + m->page / 2, l->size);
		break;
	default: /* anywhere around the range */
		op_free(m, start - 2 * m->page + rng_below(&m->rng, span) * m->page,
			pages * m->page);
	}
}

static void op_alloc_bad(struct model *m)
{
	static const uint64_t align_pages_x2[] = { 0, 1, 6 }; /* align = page * x / 2 */
	uint64_t va = 0;
	unsigned int k = (unsigned int)rng_below(&m->rng, 4);
	uint64_t size = k == 3 ? 0 : m->page, align = k == 3 ? m->page : 0;

	if (k < 3)
		align = m->page * align_pages_x2[k] / 2;
	snprintf(m->what, sizeof(m->what), "bad alloc(size 0x%" PRIx64 ", align 0x%" PRIx64 ")",
		 size, align);
	model_check_rc(m, gvm_kva_alloc(m->kva, size, align, &va), -EINVAL);
	m->n.bad_allocs++;
}

/* After every call: the invariants hold and every pool's count is the model's. */
static void model_check_state(struct model *m)
{
	struct gvm_kva_stats st;
	uint64_t free_pages = m->geo.total_pages;

	if (gvm_kva_validate(m->kva, gpuvm_print_file, stderr))
		model_fail(m, "gvm_kva_validate() failed");
	gvm_kva_stats(m->kva, &st);
	for (unsigned int p = 0; p <= st.nr_pools; p++) {
		if (st.pool[p].allocated_pages != m->pool_pages[p])
			model_fail(m, "pool %u: %" PRIu64 " pages allocated, model %" PRIu64, p,
				   st.pool[p].allocated_pages, m->pool_pages[p]);
		free_pages -= m->pool_pages[p];
	}
	if (st.free_pages != free_pages)
		model_fail(m, "%" PRIu64 " free pages, model %" PRIu64, st.free_pages, free_pages);
}

static void model_step(struct model *m)
{
	uint64_t r = rng_below(&m->rng, 100);

	if (r < 50) {
		uint64_t size = gen_size(m);

		op_alloc(m, size, gen_align(m));
	} else if (r < 85 && m->nlive) {
		const struct live *l = &m->live[rng_below(&m->rng, m->nlive)];

		op_free(m, l->va, l->size);
	} else if (r < 96) {
		op_free_odd(m);
	} else {
		op_alloc_bad(m);
	}
	model_check_state(m);
}

static void model_init(struct model *m, const struct model_case *c, unsigned int index)
{
	memset(m, 0, sizeof(*m));
	m->c = c;
	m->rng.s = opt_seed * 0x100000001b3ull + index;
	m->kva = kva_new(&c->cfg);
	gvm_kva_stats(m->kva, &m->geo);
	m->page = 1ull << c->cfg.page_lg2;
	m->threshold = c->cfg.large_threshold ? c->cfg.large_threshold / m->page : 64;
	m->first_page = m->geo.pool[0].start / m->page;
	m->home = (unsigned int)home_pool(&c->cfg);
	m->used = calloc(m->geo.total_pages, 1);
	assert_non_null(m->used);
	snprintf(m->what, sizeof(m->what), "setup");
}

static void model_run(const struct model_case *c, unsigned int index)
{
	struct model m;

	model_init(&m, c, index);
	for (m.op = 0; m.op < opt_count; m.op++)
		model_step(&m);
	if (opt_count >= COVERAGE_MIN_COUNT) {
		/* The run went where it should: every path of the allocator. */
		assert_true(m.n.allocs > 100 && m.n.frees > 100);
		assert_true(m.n.large > 10 && m.n.enospc > 10 && m.n.wraps > 10);
		assert_true(m.n.bad_frees > 10 && m.n.bad_allocs > 10);
		assert_true(c->cfg.pools == 1 || m.n.fallbacks > 10);
	}
	printf("  %-12s allocs %u (large %u, fallback %u, wrapped %u) -ENOSPC %u frees %u "
	       "refused frees %u\n",
	       c->name, m.n.allocs, m.n.large, m.n.fallbacks, m.n.wraps, m.n.enospc, m.n.frees,
	       m.n.bad_frees);
	free(m.used);
	free(m.live);
	gvm_kva_destroy(m.kva);
}

static void test_model(void **state)
{
	(void)state;
	printf("  seed %" PRIu64 ", %u calls per configuration\n", opt_seed, opt_count);
	for (unsigned int i = 0; i < sizeof(model_cases) / sizeof(model_cases[0]); i++)
		model_run(&model_cases[i], i);
}

/* ---- threads ---- */

/* 8192 pages: four 1792-page pools and a 1024-page large pool; 8-page threshold. */
static const struct gvm_kva_cfg thread_cfg = {
	.start = 0x400000000ull,
	.end = 0x400000000ull + 8192 * PAGE_4K,
	.page_lg2 = 12,
	.pools = 4,
	.large_threshold = 8 * PAGE_4K,
	.large_bytes = 1024 * PAGE_4K,
};

struct thread_env {
	struct gvm_kva *kva;
	_Atomic uint32_t *owner; /* per page: 0 free, else the owning thread + 1 */
	pthread_barrier_t start; /* all threads begin together, so that they overlap */
	atomic_uint failures;
	char failure[256]; /* the first failure, written by the thread that counted it 1 */
};

struct thread_arg {
	struct thread_env *env;
	uint32_t id; /* 1-based */
	unsigned int ops;
	uint64_t seed;
};

static void thread_failed(struct thread_env *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void thread_failed(struct thread_env *env, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&env->failures, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(env->failure, sizeof(env->failure), fmt, ap);
	va_end(ap);
}

/* Move the pages of [va, +pages) from owner @from to owner @to; false on a clash. */
static bool pages_move(struct thread_env *env, uint64_t va, uint64_t pages, uint32_t from,
		       uint32_t to)
{
	uint64_t first = (va - thread_cfg.start) / PAGE_4K;

	for (uint64_t i = first; i < first + pages; i++) {
		uint32_t expect = from;

		if (!atomic_compare_exchange_strong(&env->owner[i], &expect, to)) {
			thread_failed(env, "page 0x%" PRIx64 " of 0x%" PRIx64 ": owner %u, want %u",
				      thread_cfg.start + i * PAGE_4K, va, expect, from);
			return false;
		}
	}
	return true;
}

static void thread_alloc(struct thread_arg *a, struct rng *rng, struct live *live,
			 unsigned int *nlive)
{
	uint64_t pages = rng_below(rng, 32) ? 1 + rng_below(rng, 8) : 9 + rng_below(rng, 24);
	uint64_t align = PAGE_4K << rng_below(rng, 3), va;
	int err = gvm_kva_alloc(a->env->kva, pages * PAGE_4K, align, &va);

	if (err) {
		thread_failed(a->env, "thread %u: alloc of %" PRIu64 " pages: %d", a->id, pages,
			      err);
		return;
	}
	if (va % align || va < thread_cfg.start || thread_cfg.end - va < pages * PAGE_4K)
		thread_failed(a->env, "thread %u: bad VA 0x%" PRIx64, a->id, va);
	else if (pages_move(a->env, va, pages, 0, a->id))
		live[(*nlive)++] = (struct live){ va, pages * PAGE_4K };
}

static void thread_free(struct thread_arg *a, struct live *l)
{
	int err;

	/* Give the pages back before the allocator may hand them out again. */
	if (!pages_move(a->env, l->va, l->size / PAGE_4K, a->id, 0))
		return;
	err = gvm_kva_free(a->env->kva, l->va, l->size);
	if (err)
		thread_failed(a->env, "thread %u: free 0x%" PRIx64 ": %d", a->id, l->va, err);
}

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	struct rng rng = { a->seed };
	struct live live[THREAD_LIVE];
	unsigned int nlive = 0;

	pthread_barrier_wait(&a->env->start);
	for (unsigned int i = 0; i < a->ops; i++) {
		if (nlive < THREAD_LIVE && (!nlive || rng_below(&rng, 2))) {
			thread_alloc(a, &rng, live, &nlive);
		} else {
			unsigned int k = (unsigned int)rng_below(&rng, nlive);

			thread_free(a, &live[k]);
			live[k] = live[--nlive];
		}
	}
	while (nlive)
		thread_free(a, &live[--nlive]);
	return NULL;
}

/* Run the threads on a fresh allocator; return its final stats. */
static void threads_run(const struct gvm_kva_cfg *cfg, unsigned int ops, struct gvm_kva_stats *st)
{
	struct thread_env env = { .kva = kva_new(cfg) };
	struct thread_arg args[NR_THREADS];
	pthread_t tid[NR_THREADS];

	env.owner = calloc((cfg->end - cfg->start) / PAGE_4K, sizeof(*env.owner));
	assert_non_null(env.owner);
	assert_int_equal(pthread_barrier_init(&env.start, NULL, NR_THREADS), 0);
	for (unsigned int i = 0; i < NR_THREADS; i++) {
		args[i] = (struct thread_arg){ &env, i + 1, ops, opt_seed + i };
		assert_int_equal(pthread_create(&tid[i], NULL, thread_main, &args[i]), 0);
	}
	for (unsigned int i = 0; i < NR_THREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	pthread_barrier_destroy(&env.start);
	if (atomic_load(&env.failures))
		fail_msg("%u failures; first: %s", atomic_load(&env.failures), env.failure);
	gvm_kva_stats(env.kva, st);
	CHECK_EQ("threads: all freed", st->free_pages, st->total_pages);
	check_valid("threads", env.kva);
	free(env.owner);
	gvm_kva_destroy(env.kva);
}

/*
 * For comparison, one small pool for every thread. How often the lock is found
 * held depends on the machine, but with two CPUs or more it happens, which
 * shows that the counter counts. On a loaded machine the scheduler may run the
 * threads of a short round one after the other, so rounds go on for up to
 * CONTENTION_WAIT_NS rather than a fixed number of times.
 */
#define CONTENTION_WAIT_NS (30 * 1000000000ll)

static void one_lock_contention(void)
{
	struct gvm_kva_cfg one_pool = thread_cfg;
	struct gvm_kva_stats st;
	uint64_t acq = 0, cont = 0;
	int64_t end = tu_now_ns() + CONTENTION_WAIT_NS;

	one_pool.pools = 1;
	one_pool.large_bytes = 4096 * PAGE_4K;
	for (unsigned int round = 0; !cont && (round < 20 || tu_now_ns() < end); round++) {
		threads_run(&one_pool, THREAD_OPS / 4, &st);
		acq = st.pool[0].acquisitions + st.pool[1].acquisitions;
		cont = st.pool[0].contended + st.pool[1].contended;
	}
	printf("  1 pool: %" PRIu64 " of %" PRIu64 " acquisitions contended\n", cont, acq);
	if (!cont && sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		fail_msg("one lock for %u threads on %ld CPUs, never contended", NR_THREADS,
			 sysconf(_SC_NPROCESSORS_ONLN));
}

static void test_threads(void **state)
{
	struct gvm_kva_stats st;
	uint64_t acq = 0, cont = 0;

	(void)state;
	threads_run(&thread_cfg, THREAD_OPS, &st);
	for (unsigned int p = 0; p <= st.nr_pools; p++) {
		printf("  pool %u: %" PRIu64 " acquisitions, %" PRIu64 " contended\n", p,
		       st.pool[p].acquisitions, st.pool[p].contended);
		acq += st.pool[p].acquisitions;
		cont += st.pool[p].contended;
	}
	/* Each small pool served one thread: about THREAD_OPS small calls each. */
	for (unsigned int p = 0; p < st.nr_pools; p++)
		if (st.pool[p].acquisitions < THREAD_OPS / 2)
			fail_msg("pool %u: %" PRIu64 " acquisitions, want >= %u", p,
				 st.pool[p].acquisitions, THREAD_OPS / 2);
	if (cont * 10 >= acq)
		fail_msg("%" PRIu64 " of %" PRIu64 " acquisitions contended", cont, acq);
	one_lock_contention();
}

static int set_filter(const char *pattern)
{
	cmocka_set_test_filter(pattern);
	return 0;
}

static const struct tu_opt filter_opt = { "--filter", "PATTERN", set_filter };

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_alloc_invalid),
		cmocka_unit_test(test_free_invalid),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_failed_calls_change_nothing),
		cmocka_unit_test(test_large_pool),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_threads),
	};
	const struct tu_args args = {
		.name = "test-kva",
		.seed = &opt_seed,
		.count = &opt_count,
		.extra = &filter_opt,
		.nr_extra = 1,
	};

	if (tu_parse_args(&args, argc, argv))
		return 2;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
