// SPDX-License-Identifier: MIT
/*
 * Unit tests of the default table allocator, pgtable/pt_pool.c.
 *
 * Every test runs with 4K, 16K and 64K pages. Effects are checked, not only
 * return codes: blocks are filled with patterns that are checked later (so two
 * blocks that overlap are caught), physical addresses are mapped back with
 * pt_pool_pa_to_cpu(), and the stats are compared with a model of what is
 * outstanding.
 *
 * Options: --seed N (random model and thread test), --count N (operations of
 * the random model, iterations per thread of the thread test).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <gpuvm/pt_pool.h>

#include "test-util.h"

#define PA_BASE (1ull << 30)
#define CHUNK_PAGES 64u /* pages per chunk of pt_pool.c, seen through the stats */
#define MAX_BLOCK_PAGES 16u
#define NTHREADS 4

static uint64_t opt_seed = 0x5eed600d;
static unsigned int opt_count = 20000;

struct pool_param {
	size_t page_size;
};

static struct pool_param param_4k = { 4096 };
static struct pool_param param_16k = { 16384 };
static struct pool_param param_64k = { 65536 };

#define assert_err(expr, want)                                                               \
	do {                                                                                 \
		int got_ = (expr), want_ = (want);                                           \
		if (got_ != want_)                                                           \
			fail_msg("%s = %d (%s), want %d (%s)", #expr, got_, strerror(-got_), \
				 want_, strerror(-want_));                                   \
	} while (0)

#define assert_u64_eq(a, b)                                                               \
	do {                                                                              \
		uint64_t a_ = (a), b_ = (b);                                              \
		if (a_ != b_)                                                             \
			fail_msg("%s = %" PRIu64 ", want %s = %" PRIu64, #a, a_, #b, b_); \
	} while (0)

#define assert_stats_eq(a, b)                                      \
	do {                                                       \
		assert_u64_eq((a).pages_in_use, (b).pages_in_use); \
		assert_u64_eq((a).bytes_in_use, (b).bytes_in_use); \
		assert_u64_eq((a).pages_free, (b).pages_free);     \
		assert_u64_eq((a).chunks, (b).chunks);             \
		assert_u64_eq((a).refills, (b).refills);           \
	} while (0)

static size_t page_size_of(void **state)
{
	return ((const struct pool_param *)*state)->page_size;
}

static uint64_t chunk_bytes(size_t page_size)
{
	return (uint64_t)page_size * CHUNK_PAGES;
}

/* A pool whose PA range holds @pa_chunks chunks (0: the default range). */
static struct pt_pool *pool_new_cfg(size_t page_size, uint64_t pa_chunks, unsigned int cache_pages,
				    unsigned int batch_pages)
{
	struct pt_pool_cfg cfg = {
		.page_size = page_size,
		.pa_base = PA_BASE,
		.pa_limit = pa_chunks ? PA_BASE + pa_chunks * chunk_bytes(page_size) : 0,
		.thread_cache_pages = cache_pages,
		.batch_pages = batch_pages,
	};
	struct pt_pool *pool = NULL;

	assert_err(pt_pool_create(&cfg, &pool), 0);
	assert_non_null(pool);
	return pool;
}

static struct pt_pool *pool_new(size_t page_size, uint64_t pa_chunks)
{
	return pool_new_cfg(page_size, pa_chunks, 0, 0);
}

static struct pt_pool_stats stats_of(struct pt_pool *pool)
{
	struct pt_pool_stats st;

	memset(&st, 0xa5, sizeof(st));
	pt_pool_get_stats(pool, &st);
	return st;
}

static int pool_alloc(struct pt_pool *pool, size_t size, size_t align, struct pt_mem *m)
{
	return pt_pool_ops.alloc(pool, size, align, m);
}

static int pool_bulk(struct pt_pool *pool, size_t size, size_t align, unsigned int n,
		     struct pt_mem *m)
{
	return pt_pool_ops.alloc_bulk(pool, size, align, n, m);
}

static void pool_free(struct pt_pool *pool, const struct pt_mem *m, size_t size)
{
	pt_pool_ops.free(pool, m, size, size); /* tests allocate with align <= size */
}

/* Everything back: nothing in use, every page of every chunk free. */
static void assert_pool_idle(struct pt_pool *pool)
{
	struct pt_pool_stats st = stats_of(pool);

	assert_u64_eq(st.pages_in_use, 0);
	assert_u64_eq(st.bytes_in_use, 0);
	/* No multi-page chunk is live, so every chunk holds CHUNK_PAGES pages. */
	assert_u64_eq(st.pages_free, st.chunks * CHUNK_PAGES);
}

static uint64_t pattern(uint64_t tag, size_t word)
{
	return (tag + 1) * 0x9e3779b97f4a7c15ull ^ (word * 0xbf58476d1ce4e5b9ull);
}

static void fill(const struct pt_mem *m, size_t size, uint64_t tag)
{
	uint64_t *w = m->cpu;

	for (size_t i = 0; i < size / 8; i++)
		w[i] = pattern(tag, i);
}

static void assert_filled(const struct pt_mem *m, size_t size, uint64_t tag)
{
	const uint64_t *w = m->cpu;

	for (size_t i = 0; i < size / 8; i++) {
		if (w[i] != pattern(tag, i))
			fail_msg("block pa 0x%" PRIx64 " tag %" PRIu64 ": word %zu is 0x%" PRIx64
				 ", want 0x%" PRIx64,
				 m->pa, tag, i, w[i], pattern(tag, i));
	}
}

/* cpu and pa aligned to @align, pa inside the pool's range. */
static void assert_block_placed(const struct pt_mem *m, size_t size, size_t align,
				uint64_t pa_limit)
{
	if ((uintptr_t)m->cpu % align || m->pa % align)
		fail_msg("block cpu %p pa 0x%" PRIx64 " not aligned to %zu", m->cpu, m->pa, align);
	if (m->pa < PA_BASE || m->pa + size > pa_limit)
		fail_msg("block pa 0x%" PRIx64 " + %zu outside [0x%llx, 0x%" PRIx64 ")", m->pa,
			 size, PA_BASE, pa_limit);
}

/* pa_to_cpu() maps the first, a middle and the last byte of each block back. */
static void assert_pa_maps(struct pt_pool *pool, const struct pt_mem *m, size_t n, size_t size)
{
	const size_t offs[] = { 0, 8, size / 2, size - 1 };

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
			void *want = (char *)m[i].cpu + offs[k];
			void *got = pt_pool_pa_to_cpu(pool, m[i].pa + offs[k]);

			if (got != want)
				fail_msg("pa_to_cpu(0x%" PRIx64 ") = %p, want %p",
					 m[i].pa + offs[k], got, want);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* No two of the @n blocks of @size overlap, neither by cpu nor by pa. */
static void assert_disjoint(const struct pt_mem *m, size_t n, size_t size)
{
	uint64_t *pa = calloc(n + 1, sizeof(*pa)), *cpu = calloc(n + 1, sizeof(*cpu));

	assert_non_null(pa);
	assert_non_null(cpu);
	for (size_t i = 0; i < n; i++) {
		pa[i] = m[i].pa;
		cpu[i] = (uintptr_t)m[i].cpu;
	}
	qsort(pa, n, sizeof(*pa), cmp_u64);
	qsort(cpu, n, sizeof(*cpu), cmp_u64);
	for (size_t i = 1; i < n; i++) {
		if (pa[i - 1] + size > pa[i] || cpu[i - 1] + size > cpu[i])
			fail_msg("blocks of %zu bytes overlap: pa 0x%" PRIx64 "/0x%" PRIx64, size,
				 pa[i - 1], pa[i]);
	}
	free(pa);
	free(cpu);
}

/* Allocate, place, fill and map back @n blocks; then check them all again. */
static void alloc_checked(struct pt_pool *pool, size_t size, size_t align, size_t n,
			  struct pt_mem *m, uint64_t pa_limit)
{
	for (size_t i = 0; i < n; i++) {
		assert_err(pool_alloc(pool, size, align, &m[i]), 0);
		assert_block_placed(&m[i], size, align, pa_limit);
		fill(&m[i], size, i);
	}
	for (size_t i = 0; i < n; i++)
		assert_filled(&m[i], size, i);
	assert_disjoint(m, n, size);
	assert_pa_maps(pool, m, n, size);
}

static void test_page_roundtrip(void **state)
{
	size_t ps = page_size_of(state);
	const size_t n = 150; /* more than two chunks */
	struct pt_pool *pool = pool_new(ps, 0);
	struct pt_mem *m = calloc(n, sizeof(*m));
	struct pt_pool_stats st;

	assert_non_null(m);
	alloc_checked(pool, ps, ps, n, m, 1ull << 32);
	st = stats_of(pool);
	assert_u64_eq(st.pages_in_use, n);
	assert_u64_eq(st.bytes_in_use, n * ps);
	assert_u64_eq(st.pages_free + st.pages_in_use, st.chunks * CHUNK_PAGES);
	assert_true(st.chunks >= 3);
	for (size_t i = 0; i < n; i++)
		pool_free(pool, &m[i], ps);
	assert_pool_idle(pool);

	/* The freed pages are handed out again: the pool does not grow. */
	alloc_checked(pool, ps, ps, n, m, 1ull << 32);
	assert_u64_eq(stats_of(pool).chunks, st.chunks);
	for (size_t i = 0; i < n; i++)
		pool_free(pool, &m[i], ps);
	assert_pool_idle(pool);
	free(m);
	pt_pool_destroy(pool);
}

static void test_pa_to_cpu_unknown(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 0);
	struct pt_mem page, big;
	uint64_t end;

	assert_null(pt_pool_pa_to_cpu(pool, PA_BASE)); /* no chunk yet */
	assert_err(pool_alloc(pool, ps, ps, &page), 0);
	assert_err(pool_alloc(pool, 2 * ps, 2 * ps, &big), 0);
	assert_ptr_equal(pt_pool_pa_to_cpu(pool, page.pa), page.cpu);
	assert_ptr_equal(pt_pool_pa_to_cpu(pool, big.pa + ps + 1), (char *)big.cpu + ps + 1);
	end = big.pa + 2 * ps; /* the last PA handed out */
	assert_null(pt_pool_pa_to_cpu(pool, 0));
	assert_null(pt_pool_pa_to_cpu(pool, PA_BASE - 1));
	assert_null(pt_pool_pa_to_cpu(pool, end));
	assert_null(pt_pool_pa_to_cpu(pool, UINT64_MAX));
	/* A freed multi-page block is forgotten. */
	pool_free(pool, &big, 2 * ps);
	assert_null(pt_pool_pa_to_cpu(pool, big.pa));
	assert_null(pt_pool_pa_to_cpu(pool, big.pa + ps));
	assert_ptr_equal(pt_pool_pa_to_cpu(pool, page.pa + ps - 1), (char *)page.cpu + ps - 1);
	pool_free(pool, &page, ps);
	pt_pool_destroy(pool);
}

/* Sub-page blocks outstanding, by page, as the pool must count them. */
struct page_model {
	uint64_t page_pa[4];
	unsigned int blocks[4];
	unsigned int npages;
};

static void model_add(struct page_model *pm, uint64_t page_pa, int delta)
{
	unsigned int i;

	for (i = 0; i < pm->npages && pm->page_pa[i] != page_pa; i++)
		;
	if (i == pm->npages) {
		assert_true(pm->npages < 4);
		pm->page_pa[pm->npages++] = page_pa;
	}
	pm->blocks[i] += delta;
}

static uint64_t model_pages(const struct page_model *pm)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < pm->npages; i++)
		n += pm->blocks[i] != 0;
	return n;
}

/* Free @n blocks in a scrambled order, checking the page count after each. */
static void free_blocks_checked(struct pt_pool *pool, size_t ps, struct pt_mem *m, size_t n,
				size_t size, const struct pt_pool_stats *st0)
{
	uint64_t page_mask = ~(uint64_t)(ps - 1);
	struct page_model pm = { 0 };

	for (size_t i = 0; i < n; i++)
		model_add(&pm, m[i].pa & page_mask, 1);
	for (size_t k = 0; k < n; k++) {
		size_t i = (k * 7919) % n; /* a permutation: 7919 is prime, n < 7919 */
		struct pt_pool_stats st;

		assert_filled(&m[i], size, i);
		pool_free(pool, &m[i], size);
		model_add(&pm, m[i].pa & page_mask, -1);
		st = stats_of(pool);
		/* A page counts while one of its blocks is in use, and not after. */
		assert_u64_eq(st.pages_in_use, st0->pages_in_use + model_pages(&pm));
		assert_u64_eq(st.bytes_in_use, st0->bytes_in_use + (n - k - 1) * size);
	}
}

/* Every class 64 .. page/2: three pages' worth, aligned to the size, then freed. */
static void test_subpage_classes(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 0);
	struct pt_mem *m = calloc(2 * ps / 64 + 1, sizeof(*m));
	struct pt_pool_stats st0, st;

	assert_non_null(m);
	for (size_t size = 64; size < ps; size *= 2) {
		size_t n = 2 * (ps / size) + 1; /* two full pages and one block */

		st0 = stats_of(pool);
		alloc_checked(pool, size, size, n, m, 1ull << 32);
		st = stats_of(pool);
		assert_u64_eq(st.pages_in_use, st0.pages_in_use + 3);
		assert_u64_eq(st.bytes_in_use, st0.bytes_in_use + n * size);
		assert_u64_eq(st.pages_free + st.pages_in_use, st.chunks * CHUNK_PAGES);
		free_blocks_checked(pool, ps, m, n, size, &st0);
		assert_pool_idle(pool);
	}
	free(m);
	pt_pool_destroy(pool);
}

/* Blocks freed in the middle of a page are handed out again; the page is whole again. */
static void test_subpage_reuse(void **state)
{
	size_t ps = page_size_of(state), size = 256, per = ps / size;
	struct pt_pool *pool = pool_new(ps, 1);
	struct pt_mem m[256], again, page[CHUNK_PAGES];
	struct pt_pool_stats st;

	alloc_checked(pool, size, 64, per, m, PA_BASE + chunk_bytes(ps));
	assert_u64_eq(stats_of(pool).pages_in_use, 1);
	pool_free(pool, &m[3], size);
	assert_err(pool_alloc(pool, size, size, &again), 0);
	assert_u64_eq(again.pa, m[3].pa); /* the hole, not a new page */
	assert_ptr_equal(again.cpu, m[3].cpu);
	st = stats_of(pool);
	assert_u64_eq(st.pages_in_use, 1);
	assert_u64_eq(st.bytes_in_use, per * size);
	for (size_t i = 0; i < per; i++)
		pool_free(pool, &m[i], size);
	assert_pool_idle(pool);
	/* All 64 pages of the only chunk can be had whole: the carved page came back. */
	alloc_checked(pool, ps, ps, CHUNK_PAGES, page, PA_BASE + chunk_bytes(ps));
	for (size_t i = 0; i < CHUNK_PAGES; i++)
		pool_free(pool, &page[i], ps);
	assert_pool_idle(pool);
	pt_pool_destroy(pool);
}

/* 2..16 pages: own chunk, aligned to the size, freed back to the C library. */
static void test_multipage(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 0);
	struct pt_pool_stats st0, st;
	struct pt_mem m[3];

	for (size_t np = 2; np <= MAX_BLOCK_PAGES; np *= 2) {
		size_t size = np * ps;

		st0 = stats_of(pool);
		alloc_checked(pool, size, size, 3, m, 1ull << 32);
		/* pa_to_cpu() maps every page of a block, not only the first. */
		assert_pa_maps(pool, m, 3, ps);
		for (size_t i = 0; i < 3; i++)
			for (size_t k = 1; k < np; k++)
				assert_ptr_equal(pt_pool_pa_to_cpu(pool, m[i].pa + k * ps + 8),
						 (char *)m[i].cpu + k * ps + 8);
		st = stats_of(pool);
		assert_u64_eq(st.pages_in_use, st0.pages_in_use + 3 * np);
		assert_u64_eq(st.bytes_in_use, st0.bytes_in_use + 3 * size);
		assert_u64_eq(st.chunks, st0.chunks + 3);
		for (size_t i = 0; i < 3; i++)
			pool_free(pool, &m[i], size);
		assert_stats_eq(stats_of(pool), st0);
		/* A smaller alignment is served by the same kind of block. */
		assert_err(pool_alloc(pool, size, ps, &m[0]), 0);
		assert_block_placed(&m[0], size, size, 1ull << 32);
		pool_free(pool, &m[0], size);
	}
	assert_pool_idle(pool);
	pt_pool_destroy(pool);
}

/* Freed multi-page blocks give their PA range back: churn does not exhaust pa_limit. */
static void test_multipage_churn(void **state)
{
	size_t ps = page_size_of(state), size = MAX_BLOCK_PAGES * ps;
	struct pt_pool *pool = pool_new(ps, 1); /* room for 4 such blocks */
	struct pt_mem m[2];

	for (unsigned int i = 0; i < 1000; i++) {
		assert_err(pool_alloc(pool, size, size, &m[0]), 0);
		assert_err(pool_alloc(pool, size / 2, size / 2, &m[1]), 0);
		fill(&m[0], size, i);
		assert_filled(&m[0], size, i);
		pool_free(pool, &m[0], size);
		pool_free(pool, &m[1], size / 2);
	}
	assert_u64_eq(stats_of(pool).chunks, 0);
	assert_pool_idle(pool);
	pt_pool_destroy(pool);
}

/* Sizes and alignments in bytes plus pages, so that one row fits every page size. */
struct bad_request {
	const char *name;
	size_t size_bytes, size_pages;
	size_t align_bytes, align_pages;
};

static const struct bad_request bad_requests[] = {
	{ "size 0", 0, 0, 64, 0 },
	{ "32 pages (over 16)", 0, 32, 0, 1 },
	{ "17 pages (rounds to 32)", 0, 17, 0, 1 },
	{ "align 32 pages", 0, 1, 0, 32 },
	{ "align 0", 0, 1, 0, 0 },
	{ "align 192 (not a power of two)", 256, 0, 192, 0 },
};

static void test_bad_requests(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 0);
	struct pt_mem keep, m[4];
	struct pt_pool_stats st0;

	/* Something in use, so that "unchanged" is not trivially all zeroes. */
	assert_err(pool_alloc(pool, ps, ps, &keep), 0);
	st0 = stats_of(pool);
	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		const struct bad_request *r = &bad_requests[i];
		size_t size = r->size_bytes + r->size_pages * ps;
		size_t align = r->align_bytes + r->align_pages * ps;

		print_message("%s\n", r->name);
		memset(m, 0xa5, sizeof(m));
		assert_err(pool_alloc(pool, size, align, &m[0]), -EINVAL);
		assert_err(pool_bulk(pool, size, align, 4, m), -EINVAL);
		assert_int_equal(((unsigned char *)m)[0], 0xa5);
		assert_stats_eq(stats_of(pool), st0);
	}
	pool_free(pool, &keep, ps);
	pt_pool_destroy(pool);
}

/*
 * Requests the pool rounds: a block is max(size, align, 64) rounded up to a
 * power of two, aligned to its size (a 16-byte root aligned to a page takes a
 * page, a 3-page request a 4-page block).
 */
struct rounded_request {
	const char *name;
	size_t size_bytes, size_pages;
	size_t align_bytes, align_pages;
	size_t block_bytes, block_pages;
};

static const struct rounded_request rounded_requests[] = {
	{ "16 bytes align 64", 16, 0, 64, 0, 64, 0 },
	{ "32 bytes align 32", 32, 0, 32, 0, 64, 0 },
	{ "96 bytes align 32", 96, 0, 32, 0, 128, 0 },
	{ "64 bytes align 128", 64, 0, 128, 0, 128, 0 },
	{ "16 bytes align page", 16, 0, 0, 1, 0, 1 },
	{ "page + 64 bytes", 64, 1, 64, 0, 0, 2 },
	{ "3 pages", 0, 3, 0, 1, 0, 4 },
	{ "page align 2 pages", 0, 1, 0, 2, 0, 2 },
};

static void test_rounded_requests(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 0);

	for (size_t i = 0; i < sizeof(rounded_requests) / sizeof(rounded_requests[0]); i++) {
		const struct rounded_request *r = &rounded_requests[i];
		size_t size = r->size_bytes + r->size_pages * ps;
		size_t align = r->align_bytes + r->align_pages * ps;
		size_t block = r->block_bytes + r->block_pages * ps;
		struct pt_mem m;

		print_message("%s\n", r->name);
		assert_err(pool_alloc(pool, size, align, &m), 0);
		assert_int_equal((uintptr_t)m.cpu % block, 0);
		assert_int_equal(m.pa % block, 0);
		assert_int_equal(stats_of(pool).bytes_in_use, block);
		memset(m.cpu, 0x5a, block); /* the whole block is ours */
		assert_ptr_equal(pt_pool_pa_to_cpu(pool, m.pa + block - 1),
				 (char *)m.cpu + block - 1);
		pt_pool_ops.free(pool, &m, size, align);
		assert_int_equal(stats_of(pool).bytes_in_use, 0);
		assert_int_equal(stats_of(pool).pages_in_use, 0);
	}
	pt_pool_destroy(pool);
}

/* Every kind of request fails with -ENOMEM at pa_limit and changes nothing. */
static void assert_exhausted(struct pt_pool *pool, size_t ps)
{
	struct pt_pool_stats st0 = stats_of(pool);
	struct pt_mem m[2];

	assert_err(pool_alloc(pool, ps, ps, &m[0]), -ENOMEM);
	assert_err(pool_bulk(pool, ps, ps, 2, m), -ENOMEM);
	/* Classes that hold no partly used page in test_pa_limit(). */
	assert_err(pool_alloc(pool, 128, 128, &m[0]), -ENOMEM);
	assert_err(pool_alloc(pool, ps / 2, ps / 2, &m[0]), -ENOMEM);
	assert_err(pool_alloc(pool, 2 * ps, 2 * ps, &m[0]), -ENOMEM);
	assert_stats_eq(stats_of(pool), st0);
}

static void test_pa_limit(void **state)
{
	size_t ps = page_size_of(state);
	uint64_t limit = PA_BASE + chunk_bytes(ps);
	struct pt_pool *pool = pool_new(ps, 1);
	struct pt_mem m[CHUNK_PAGES], small;

	alloc_checked(pool, ps, ps, CHUNK_PAGES, m, limit);
	assert_exhausted(pool, ps);
	/* A freed page sits in this thread's cache; a sub-page block may use it. */
	pool_free(pool, &m[5], ps);
	assert_err(pool_alloc(pool, 64, 64, &small), 0);
	assert_block_placed(&small, 64, 64, limit);
	assert_u64_eq(small.pa & ~(uint64_t)(ps - 1), m[5].pa);
	assert_exhausted(pool, ps);
	pool_free(pool, &small, 64);
	assert_err(pool_alloc(pool, ps, ps, &m[5]), 0);
	assert_exhausted(pool, ps);
	for (size_t i = 0; i < CHUNK_PAGES; i++)
		pool_free(pool, &m[i], ps);
	assert_pool_idle(pool);
	assert_u64_eq(stats_of(pool).chunks, 1);
	pt_pool_destroy(pool);
}

/* Whole pages: the limit is hit in the middle of a batch. */
static void test_bulk_pages(void **state)
{
	size_t ps = page_size_of(state);
	uint64_t limit = PA_BASE + chunk_bytes(ps);
	struct pt_pool *pool = pool_new(ps, 1);
	struct pt_mem m[CHUNK_PAGES + 1];
	struct pt_pool_stats st0;

	assert_err(pool_bulk(pool, ps, ps, 0, m), 0);
	assert_err(pool_bulk(pool, ps, ps, 40, m), 0);
	for (size_t i = 0; i < 40; i++) {
		assert_block_placed(&m[i], ps, ps, limit);
		fill(&m[i], ps, i);
	}
	st0 = stats_of(pool);
	assert_u64_eq(st0.pages_in_use, 40);
	assert_err(pool_bulk(pool, ps, ps, 25, m + 40), -ENOMEM);
	assert_stats_eq(stats_of(pool), st0);
	assert_err(pool_bulk(pool, ps, ps, 24, m + 40), 0);
	for (size_t i = 40; i < CHUNK_PAGES; i++)
		fill(&m[i], ps, i);
	for (size_t i = 0; i < CHUNK_PAGES; i++)
		assert_filled(&m[i], ps, i);
	assert_disjoint(m, CHUNK_PAGES, ps);
	assert_pa_maps(pool, m, CHUNK_PAGES, ps);
	assert_u64_eq(stats_of(pool).pages_in_use, CHUNK_PAGES);
	for (size_t i = 0; i < CHUNK_PAGES; i++)
		pool_free(pool, &m[i], ps);
	assert_pool_idle(pool);
	pt_pool_destroy(pool);
}

/* Sub-page blocks: the batch needs one page more than there is. */
static void test_bulk_subpage(void **state)
{
	size_t ps = page_size_of(state), size = ps / 4;
	uint64_t limit = PA_BASE + chunk_bytes(ps);
	struct pt_pool *pool = pool_new(ps, 1);
	struct pt_mem pages[CHUNK_PAGES], m[9];
	struct pt_pool_stats st0;

	/* Keep all pages but two. */
	assert_err(pool_bulk(pool, ps, ps, CHUNK_PAGES - 2, pages), 0);
	st0 = stats_of(pool);
	assert_err(pool_bulk(pool, size, size, 9, m), -ENOMEM);
	assert_stats_eq(stats_of(pool), st0);
	assert_err(pool_bulk(pool, size, size, 8, m), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_block_placed(&m[i], size, size, limit);
		fill(&m[i], size, i);
	}
	assert_disjoint(m, 8, size);
	assert_pa_maps(pool, m, 8, size);
	assert_u64_eq(stats_of(pool).pages_in_use, CHUNK_PAGES);
	assert_u64_eq(stats_of(pool).bytes_in_use, (CHUNK_PAGES - 2) * ps + 8 * size);
	for (size_t i = 0; i < 8; i++)
		assert_filled(&m[i], size, i);
	for (size_t i = 0; i < 8; i++)
		pool_free(pool, &m[i], size);
	for (size_t i = 0; i < CHUNK_PAGES - 2; i++)
		pool_free(pool, &pages[i], ps);
	assert_pool_idle(pool);
	pt_pool_destroy(pool);
}

/* Multi-page blocks: four fit in the PA range, a batch of five does not. */
static void test_bulk_multipage(void **state)
{
	size_t ps = page_size_of(state), size = MAX_BLOCK_PAGES * ps;
	struct pt_pool *pool = pool_new(ps, 1);
	struct pt_mem m[5];
	struct pt_pool_stats st0 = stats_of(pool);

	assert_err(pool_bulk(pool, size, size, 5, m), -ENOMEM);
	assert_stats_eq(stats_of(pool), st0);
	for (int round = 0; round < 2; round++) {
		assert_err(pool_bulk(pool, size, size, 4, m), 0);
		for (size_t i = 0; i < 4; i++) {
			assert_block_placed(&m[i], size, size, PA_BASE + chunk_bytes(ps));
			fill(&m[i], size, i);
		}
		assert_disjoint(m, 4, size);
		assert_pa_maps(pool, m, 4, size);
		assert_u64_eq(stats_of(pool).pages_in_use, 4 * MAX_BLOCK_PAGES);
		assert_err(pool_alloc(pool, size, size, &m[4]), -ENOMEM);
		for (size_t i = 0; i < 4; i++) {
			assert_filled(&m[i], size, i);
			pool_free(pool, &m[i], size);
		}
		assert_stats_eq(stats_of(pool), st0);
	}
	pt_pool_destroy(pool);
}

/* One refill per batch of pages, not one per page. */
static void test_refill_batching(void **state)
{
	size_t ps = page_size_of(state);
	const struct {
		unsigned int cache, batch;
	} cfgs[] = { { 0, 0 }, { 16, 8 }, { 4, 4 }, { 1, 1 } };

	for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
		unsigned int batch = cfgs[c].batch ? cfgs[c].batch : 32;
		struct pt_pool *pool = pool_new_cfg(ps, 0, cfgs[c].cache, cfgs[c].batch);
		struct pt_mem m[300];
		uint64_t refills;

		alloc_checked(pool, ps, ps, 300, m, 1ull << 32);
		refills = stats_of(pool).refills;
		assert_u64_eq(refills, (300 + batch - 1) / batch);
		/* Churn on one page stays in the thread cache. */
		for (unsigned int i = 0; i < 10000; i++) {
			pool_free(pool, &m[0], ps);
			assert_err(pool_alloc(pool, ps, ps, &m[0]), 0);
		}
		assert_true(stats_of(pool).refills <= refills + 1);
		for (size_t i = 0; i < 300; i++)
			pool_free(pool, &m[i], ps);
		assert_pool_idle(pool);
		pt_pool_destroy(pool);
	}
}

static void test_bad_cfg(void **state)
{
	size_t ps = page_size_of(state);
	const struct pt_pool_cfg bad[] = {
		{ .page_size = 8192 },
		{ .page_size = 0 },
		{ .page_size = ps, .pa_base = PA_BASE + 4096 },
		{ .page_size = ps, .pa_base = 8ull << 30 }, /* above the default limit */
		{ .page_size = ps, .pa_base = PA_BASE, .pa_limit = PA_BASE },
		{ .page_size = ps, .thread_cache_pages = 8, .batch_pages = 9 },
	};
	struct pt_pool *pool = (struct pt_pool *)&pool;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_err(pt_pool_create(&bad[i], &pool), -EINVAL);
		assert_ptr_equal(pool, (struct pt_pool *)&pool);
	}
	assert_err(pt_pool_create(NULL, &pool), -EINVAL);
	pt_pool_destroy(NULL);
}

static uint64_t xorshift_next(uint64_t *s)
{
	/* xorshift64*: small, fast, and good enough to pick sizes and slots. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* A random request: mostly whole pages, some sub-page blocks, a few multi-page blocks. */
static size_t random_size(uint64_t *rng, size_t ps)
{
	unsigned int r = xorshift_next(rng) % 100, classes = __builtin_ctzll(ps) - 6;

	if (r < 65)
		return ps;
	if (r < 92)
		return (size_t)64 << (xorshift_next(rng) % classes);
	return ps << (1 + xorshift_next(rng) % 4);
}

struct thread_slot {
	struct pt_mem mem;
	size_t size;
	uint64_t tag;
};

/* Words at both ends of a block: enough to see blocks that overlap, cheap on big ones. */
static void fill_ends(const struct thread_slot *s)
{
	uint64_t *w = s->mem.cpu;
	size_t words = s->size / 8;

	for (size_t i = 0; i < 8; i++) {
		w[i] = pattern(s->tag, i);
		w[words - 1 - i] = pattern(s->tag, words - 1 - i);
	}
}

static bool ends_ok(const struct thread_slot *s)
{
	const uint64_t *w = s->mem.cpu;
	size_t words = s->size / 8;

	for (size_t i = 0; i < 8; i++) {
		if (w[i] != pattern(s->tag, i) ||
		    w[words - 1 - i] != pattern(s->tag, words - 1 - i))
			return false;
	}
	return true;
}

#define THREAD_SLOTS 48

/*
 * One worker of test_threads(). cmocka's asserts may not be used off the main
 * thread, so a worker records its first failure and stops.
 */
struct worker {
	pthread_t thread;
	struct pt_pool *pool;
	size_t page_size;
	unsigned int id;
	unsigned int iterations;
	uint64_t page_allocs;
	char failure[160];
	struct thread_slot slots[THREAD_SLOTS];
};

/* Free slot @s (checking its pattern first) or fill it; false on failure. */
static bool worker_step(struct worker *w, struct thread_slot *s, uint64_t *rng, uint64_t tag)
{
	int err;

	if (s->size) {
		if (!ends_ok(s)) {
			snprintf(w->failure, sizeof(w->failure),
				 "thread %u: block pa 0x%" PRIx64 " of %zu bytes was overwritten",
				 w->id, s->mem.pa, s->size);
			return false;
		}
		pool_free(w->pool, &s->mem, s->size);
		s->size = 0;
		return true;
	}
	s->size = random_size(rng, w->page_size);
	err = pool_alloc(w->pool, s->size, s->size, &s->mem);
	if (err || (s->mem.pa | (uintptr_t)s->mem.cpu) & (s->size - 1)) {
		snprintf(w->failure, sizeof(w->failure),
			 "thread %u: alloc of %zu: %d, pa 0x%" PRIx64, w->id, s->size, err,
			 s->mem.pa);
		s->size = 0;
		return false;
	}
	w->page_allocs += s->size == w->page_size;
	s->tag = tag;
	fill_ends(s);
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = opt_seed * 2654435761u + w->id + 1;
	bool ok = true;

	for (unsigned int i = 0; ok && i < w->iterations; i++) {
		struct thread_slot *s = &w->slots[xorshift_next(&rng) % THREAD_SLOTS];

		ok = worker_step(w, s, &rng, ((uint64_t)w->id << 32) | i);
	}
	for (unsigned int i = 0; ok && i < THREAD_SLOTS; i++) {
		if (w->slots[i].size)
			ok = worker_step(w, &w->slots[i], &rng, 0);
	}
	/* No flush: the thread-exit destructor must return the cached pages. */
	return NULL;
}

/* The main thread can take every free page without the pool growing. */
static void assert_all_free_reachable(struct pt_pool *pool, size_t ps)
{
	struct pt_pool_stats st0 = stats_of(pool);
	struct pt_mem *m = calloc(st0.pages_free + 1, sizeof(*m));

	assert_non_null(m);
	for (uint64_t i = 0; i < st0.pages_free; i++)
		assert_err(pool_alloc(pool, ps, ps, &m[i]), 0);
	assert_u64_eq(stats_of(pool).chunks, st0.chunks);
	assert_u64_eq(stats_of(pool).pages_free, 0);
	for (uint64_t i = 0; i < st0.pages_free; i++)
		pool_free(pool, &m[i], ps);
	free(m);
}

/*
 * @cache_pages/@batch_pages: the defaults keep most traffic inside the thread
 * caches; a small cache makes the threads refill and drain all the time.
 */
static void run_threads(size_t ps, unsigned int cache_pages, unsigned int batch_pages)
{
	struct pt_pool *pool = pool_new_cfg(ps, 0, cache_pages, batch_pages);
	struct worker *w = calloc(NTHREADS, sizeof(*w));
	uint64_t page_allocs = 0;
	struct pt_pool_stats st;

	assert_non_null(w);
	for (unsigned int t = 0; t < NTHREADS; t++) {
		w[t] = (struct worker){
			.pool = pool, .page_size = ps, .id = t, .iterations = opt_count
		};
		assert_int_equal(pthread_create(&w[t].thread, NULL, worker_main, &w[t]), 0);
	}
	for (unsigned int t = 0; t < NTHREADS; t++) {
		assert_int_equal(pthread_join(w[t].thread, NULL), 0);
		if (w[t].failure[0])
			fail_msg("%s (seed %" PRIu64 ")", w[t].failure, opt_seed);
		page_allocs += w[t].page_allocs;
	}
	assert_pool_idle(pool);
	st = stats_of(pool);
	print_message("threads, cache %u batch %u: %" PRIu64 " page allocations, %" PRIu64
		      " refills, %" PRIu64 " chunks\n",
		      cache_pages, batch_pages, page_allocs, st.refills, st.chunks);
	/* A refill serves at least one batch of allocations. */
	assert_true(st.refills * batch_pages <= page_allocs + NTHREADS * batch_pages);
	assert_all_free_reachable(pool, ps);
	assert_pool_idle(pool);
	free(w);
	pt_pool_destroy(pool);
}

static void test_threads(void **state)
{
	size_t ps = page_size_of(state);

	print_message("threads: seed=%" PRIu64 " count=%u\n", opt_seed, opt_count);
	run_threads(ps, 64, 32);
	run_threads(ps, 8, 4);
}

/* Helper thread of test_thread_exit_and_flush(): take @n pages, give them back, exit. */
struct taker {
	struct pt_pool *pool;
	size_t page_size;
	unsigned int n;
	int err;
};

static void *taker_main(void *arg)
{
	struct taker *t = arg;
	struct pt_mem m[CHUNK_PAGES];
	unsigned int got;

	for (got = 0; got < t->n; got++) {
		t->err = pool_alloc(t->pool, t->page_size, t->page_size, &m[got]);
		if (t->err)
			break;
	}
	while (got--)
		pool_free(t->pool, &m[got], t->page_size);
	return NULL;
}

static int run_taker(struct pt_pool *pool, size_t ps, unsigned int n)
{
	struct taker t = { .pool = pool, .page_size = ps, .n = n };
	pthread_t thread;

	assert_int_equal(pthread_create(&thread, NULL, taker_main, &t), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	return t.err;
}

/* Pages cached by a thread reach other threads after it exits or flushes. */
static void test_thread_exit_and_flush(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 1);
	struct pt_mem m[CHUNK_PAGES];

	/* Its cache held 32 pages when it exited. */
	assert_err(run_taker(pool, ps, 10), 0);
	assert_pool_idle(pool);
	/* All 64 pages are reachable, so the exit gave them back. */
	for (size_t i = 0; i < CHUNK_PAGES; i++)
		assert_err(pool_alloc(pool, ps, ps, &m[i]), 0);
	for (size_t i = 0; i < CHUNK_PAGES; i++)
		pool_free(pool, &m[i], ps);
	assert_pool_idle(pool);
	/* Now this thread's cache holds every free page... */
	assert_err(run_taker(pool, ps, 1), -ENOMEM);
	assert_u64_eq(stats_of(pool).pages_free, CHUNK_PAGES);
	/* ...until it flushes. */
	pt_pool_flush_thread_cache(pool);
	assert_err(run_taker(pool, ps, CHUNK_PAGES), 0);
	assert_pool_idle(pool);
	assert_u64_eq(stats_of(pool).chunks, 1);
	pt_pool_destroy(pool);
}

/* Destroying a pool frees what is still cached or in use (checked by ASan/valgrind). */
static void test_destroy_busy(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 0);
	struct pt_mem m[4];

	pt_pool_flush_thread_cache(pool); /* no cache yet: nothing to do */
	assert_err(run_taker(pool, ps, 3), 0);
	assert_err(pool_alloc(pool, ps, ps, &m[0]), 0);
	assert_err(pool_alloc(pool, 64, 64, &m[1]), 0);
	assert_err(pool_alloc(pool, 4 * ps, 4 * ps, &m[2]), 0);
	assert_err(pool_alloc(pool, ps, ps, &m[3]), 0);
	pool_free(pool, &m[3], ps);
	pt_pool_destroy(pool);
	/* A new pool (and key) in the same thread starts from an empty cache. */
	pool = pool_new(ps, 1);
	assert_u64_eq(stats_of(pool).pages_free, 0);
	assert_err(pool_alloc(pool, ps, ps, &m[0]), 0);
	assert_block_placed(&m[0], ps, ps, PA_BASE + chunk_bytes(ps));
	pool_free(pool, &m[0], ps);
	pt_pool_destroy(pool);
}

struct exiting {
	struct pt_pool *pool;
	size_t page_size;
	atomic_int done;
};

/* Take a page (the cache is made), say done, and exit: the cache's destructor runs now. */
static void *exiting_main(void *arg)
{
	struct exiting *e = arg;
	struct pt_mem m;

	if (!pool_alloc(e->pool, e->page_size, e->page_size, &m))
		pool_free(e->pool, &m, e->page_size);
	atomic_store(&e->done, 1);
	return NULL;
}

/*
 * Issue 14, defect 5: a worker that signals it is done before its thread
 * exits; the pool is destroyed at once, while the thread-exit destructor of
 * its cache may be running (pthread_key_delete() does not wait for it). The
 * destructor must neither touch a freed pool nor free a cache twice (ASan,
 * TSan and glibc's double-free check see it within a few thousand rounds).
 */
static void test_destroy_while_thread_exits(void **state)
{
	size_t ps = page_size_of(state);

	for (unsigned int round = 0; round < 400; round++) {
		struct exiting e = { .pool = pool_new(ps, 1), .page_size = ps };
		pthread_t thread;

		assert_int_equal(pthread_create(&thread, NULL, exiting_main, &e), 0);
		while (!atomic_load(&e.done))
			sched_yield();
		pt_pool_destroy(e.pool);
		assert_int_equal(pthread_join(thread, NULL), 0);
	}
}

struct pool_model {
	struct thread_slot *slots;
	size_t nslots;
	uint64_t bytes;
	uint64_t whole_pages; /* whole pages and pages of multi-page blocks */
};

/* Pages the pool must count as in use: whole ones plus distinct carved ones. */
static uint64_t model_pages_in_use(const struct pool_model *md, size_t ps, uint64_t *scratch)
{
	size_t n = 0;
	uint64_t pages = md->whole_pages;

	for (size_t i = 0; i < md->nslots; i++) {
		if (md->slots[i].size && md->slots[i].size < ps)
			scratch[n++] = md->slots[i].mem.pa / ps;
	}
	qsort(scratch, n, sizeof(*scratch), cmp_u64);
	for (size_t i = 0; i < n; i++)
		pages += !i || scratch[i] != scratch[i - 1];
	return pages;
}

static void model_step(struct pt_pool *pool, struct pool_model *md, size_t ps, uint64_t *rng,
		       uint64_t tag)
{
	struct thread_slot *s = &md->slots[xorshift_next(rng) % md->nslots];
	int sign = s->size ? -1 : 1;

	if (s->size) {
		assert_filled(&s->mem, s->size, s->tag);
		pool_free(pool, &s->mem, s->size);
	} else {
		s->size = random_size(rng, ps);
		s->tag = tag;
		assert_err(pool_alloc(pool, s->size, s->size, &s->mem), 0);
		assert_block_placed(&s->mem, s->size, s->size, 1ull << 32);
		assert_ptr_equal(pt_pool_pa_to_cpu(pool, s->mem.pa + s->size - 1),
				 (char *)s->mem.cpu + s->size - 1);
		fill(&s->mem, s->size, tag);
	}
	md->bytes += sign * (int64_t)s->size;
	if (s->size >= ps)
		md->whole_pages += sign * (int64_t)(s->size / ps);
	if (sign < 0)
		s->size = 0;
}

/* Random alloc/free against a model of bytes and pages in use. */
static void test_random_model(void **state)
{
	size_t ps = page_size_of(state);
	struct pt_pool *pool = pool_new(ps, 0);
	struct pool_model md = { .nslots = 128 };
	uint64_t rng = opt_seed | 1, scratch[128];
	struct pt_pool_stats st;

	print_message("random model: seed=%" PRIu64 " count=%u\n", opt_seed, opt_count);
	md.slots = calloc(md.nslots, sizeof(*md.slots));
	assert_non_null(md.slots);
	for (unsigned int i = 0; i < opt_count; i++) {
		model_step(pool, &md, ps, &rng, i);
		st = stats_of(pool);
		assert_u64_eq(st.bytes_in_use, md.bytes);
		assert_u64_eq(st.pages_in_use, model_pages_in_use(&md, ps, scratch));
	}
	for (size_t i = 0; i < md.nslots; i++) {
		if (md.slots[i].size) {
			assert_filled(&md.slots[i].mem, md.slots[i].size, md.slots[i].tag);
			pool_free(pool, &md.slots[i].mem, md.slots[i].size);
		}
	}
	assert_pool_idle(pool);
	free(md.slots);
	pt_pool_destroy(pool);
}

static const struct pool_test {
	const char *name;
	CMUnitTestFunction fn;
} pool_tests[] = {
	{ "page_roundtrip", test_page_roundtrip },
	{ "pa_to_cpu_unknown", test_pa_to_cpu_unknown },
	{ "subpage_classes", test_subpage_classes },
	{ "subpage_reuse", test_subpage_reuse },
	{ "multipage", test_multipage },
	{ "multipage_churn", test_multipage_churn },
	{ "bad_requests", test_bad_requests },
	{ "rounded_requests", test_rounded_requests },
	{ "pa_limit", test_pa_limit },
	{ "bulk_pages", test_bulk_pages },
	{ "bulk_subpage", test_bulk_subpage },
	{ "bulk_multipage", test_bulk_multipage },
	{ "refill_batching", test_refill_batching },
	{ "bad_cfg", test_bad_cfg },
	{ "thread_exit_and_flush", test_thread_exit_and_flush },
	{ "destroy_busy", test_destroy_busy },
	{ "destroy_while_thread_exits", test_destroy_while_thread_exits },
	{ "threads", test_threads },
	{ "random_model", test_random_model },
};

#define NUM_POOL_TESTS (sizeof(pool_tests) / sizeof(pool_tests[0]))

int main(int argc, char **argv)
{
	static struct pool_param *const params[] = { &param_4k, &param_16k, &param_64k };
	static char names[NUM_POOL_TESTS][3][48];
	struct CMUnitTest tests[NUM_POOL_TESTS * 3] = { 0 };
	const struct tu_args args = { "test-pool", &opt_seed, &opt_count };

	if (tu_parse_args(&args, argc, argv))
		return 2;
	/* Every test once per page size, named "test/4K" and so on. */
	for (size_t t = 0; t < NUM_POOL_TESTS; t++) {
		for (size_t p = 0; p < 3; p++) {
			snprintf(names[t][p], sizeof(names[t][p]), "%s/%zuK", pool_tests[t].name,
				 params[p]->page_size / 1024);
			tests[t * 3 + p] = (struct CMUnitTest){ .name = names[t][p],
								.test_func = pool_tests[t].fn,
								.initial_state = params[p] };
		}
	}
	return cmocka_run_group_tests_name("pt_pool", tests, NULL, NULL);
}
