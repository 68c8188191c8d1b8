// SPDX-License-Identifier: MIT
/*
 * Kernel VA allocator: pooled bitmaps with next-fit hints (see DOC: kernel VA
 * layout in gvm_kva.h).
 *
 * A pool keeps two bitmaps over its pages, both under the pool lock:
 *
 *     used: the page is in a live allocation
 *     head: the page is the first page of a live allocation
 *
 * used alone is all an allocator needs; head lets gvm_kva_free() tell one
 * allocation from a part of one or from two adjacent ones, so that a bad free
 * is refused instead of silently freeing pages another user still maps.
 * Every pool's bitmaps start on a word of their own: pools never share a
 * bitmap word, so pool locks are enough to order every access to it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/gvm_kva.h>
#include <gpuvm/os.h>

#define WORD_BITS 64u
#define DEFAULT_POOLS 4u
#define DEFAULT_THRESHOLD_PAGES 64u
/*
 * Each pool on cache lines of its own: threads working on different pools
 * would otherwise bounce the line that holds both locks.
 */
#define CACHE_LINE 64

struct kva_pool {
	_Alignas(CACHE_LINE) os_mutex lock;
	uint64_t base;      /* VA of page 0 */
	uint64_t base_page; /* base >> page_lg2: alignment is of the VA */
	uint64_t npages;
	uint64_t hint;      /* next-fit: where the next search starts */
	uint64_t allocated; /* pages in live allocations */
	uint64_t acquisitions, contended;
	uint64_t *used;
	uint64_t *head;
};

struct gvm_kva {
	struct gvm_kva_cfg cfg; /* defaults applied */
	uint64_t pool_bytes;
	uint64_t threshold_pages;
	unsigned int nr_pools;
	uint64_t *words;        /* every pool's bitmaps */
	struct kva_pool pool[]; /* nr_pools small pools, then the large pool */
};

static uint64_t words_for(uint64_t bits)
{
	return (bits + WORD_BITS - 1) / WORD_BITS;
}

static bool bit_test(const uint64_t *bm, uint64_t i)
{
	return bm[i / WORD_BITS] >> (i % WORD_BITS) & 1;
}

/* Set (@set) or clear bits [@from, @from + @n), a word at a time. */
static void bits_assign(uint64_t *bm, uint64_t from, uint64_t n, bool set)
{
	uint64_t end = from + n;

	while (from < end) {
		unsigned int shift = from % WORD_BITS;
		uint64_t len = end - from < WORD_BITS - shift ? end - from : WORD_BITS - shift;
		uint64_t mask = (len == WORD_BITS ? ~0ull : (1ull << len) - 1) << shift;

		if (set)
			bm[from / WORD_BITS] |= mask;
		else
			bm[from / WORD_BITS] &= ~mask;
		from += len;
	}
}

/* First index in [@from, @to) whose bit equals @set, or @to. */
static uint64_t bits_find(const uint64_t *bm, uint64_t from, uint64_t to, bool set)
{
	uint64_t i = from;

	while (i < to) {
		uint64_t w = set ? bm[i / WORD_BITS] : ~bm[i / WORD_BITS];

		w &= ~0ull << (i % WORD_BITS);
		if (w) {
			i = i / WORD_BITS * WORD_BITS + (uint64_t)os_ctz64(w);
			return i < to ? i : to;
		}
		i = (i / WORD_BITS + 1) * WORD_BITS;
	}
	return to;
}

/*
 * Take the pool lock, counting the acquisitions that had to wait: that count
 * is how a caller sees whether its threads spread over the pools.
 */
static void pool_lock(struct kva_pool *p)
{
	bool contended = !os_mutex_trylock(&p->lock);

	if (contended)
		os_mutex_lock(&p->lock);
	p->acquisitions++;
	p->contended += contended;
}

/* First index at or after @i whose VA is a multiple of @align_pages pages. */
static uint64_t align_index(const struct kva_pool *p, uint64_t i, uint64_t align_pages)
{
	uint64_t page = p->base_page + i;

	return ((page + align_pages - 1) & ~(align_pages - 1)) - p->base_page;
}

/* First free, aligned run of @n pages that starts at or after @from. */
static bool pool_find(const struct kva_pool *p, uint64_t from, uint64_t n, uint64_t align_pages,
		      uint64_t *out)
{
	uint64_t i = from, busy;

	while (i < p->npages) {
		i = align_index(p, bits_find(p->used, i, p->npages, false), align_pages);
		if (i >= p->npages || p->npages - i < n)
			return false;
		busy = bits_find(p->used, i, i + n, true);
		if (busy == i + n) {
			*out = i;
			return true;
		}
		i = busy + 1;
	}
	return false;
}

/*
 * Next fit: from the hint to the end of the pool, then once from the start,
 * which may find a run that crosses the hint. Only success moves the hint.
 */
static int pool_alloc(struct kva_pool *p, unsigned int page_lg2, uint64_t n, uint64_t align_pages,
		      uint64_t *va)
{
	uint64_t i = 0;
	bool found;

	/* npages never changes: no lock needed to rule out what cannot fit. */
	if (n > p->npages)
		return -ENOSPC;
	pool_lock(p);
	found = pool_find(p, p->hint, n, align_pages, &i) ||
		(p->hint && pool_find(p, 0, n, align_pages, &i));
	if (found) {
		bits_assign(p->used, i, n, true);
		bits_assign(p->head, i, 1, true);
		p->allocated += n;
		p->hint = i + n;
	}
	os_mutex_unlock(&p->lock);
	if (!found)
		return -ENOSPC;
	*va = p->base + (i << page_lg2);
	return 0;
}

/* Is [@i, @i + @n) exactly one live allocation of @p? */
static bool pool_is_allocation(const struct kva_pool *p, uint64_t i, uint64_t n)
{
	uint64_t end = i + n;

	if (!bit_test(p->head, i) || bits_find(p->used, i, end, false) != end)
		return false;
	/* Another head inside: the range covers the start of a second allocation. */
	if (bits_find(p->head, i + 1, end, true) != end)
		return false;
	/* A used page right after that starts nothing continues this allocation. */
	return end == p->npages || !bit_test(p->used, end) || bit_test(p->head, end);
}

static struct kva_pool *pool_of(struct gvm_kva *kva, uint64_t va)
{
	uint64_t idx = os_div_u64(va - kva->cfg.start, kva->pool_bytes);

	return &kva->pool[idx < kva->nr_pools ? idx : kva->nr_pools];
}

static int size_to_pages(const struct gvm_kva *kva, uint64_t size, uint64_t *n)
{
	uint64_t page_mask = (1ull << kva->cfg.page_lg2) - 1, rounded;

	if (!size)
		return -EINVAL;
	if (__builtin_add_overflow(size, page_mask, &rounded))
		return -EOVERFLOW;
	*n = rounded >> kva->cfg.page_lg2;
	return 0;
}

int gvm_kva_alloc(struct gvm_kva *kva, uint64_t size, uint64_t align, uint64_t *va)
{
	unsigned int first;
	uint64_t n;
	int err;

	if (!va || align < (1ull << kva->cfg.page_lg2) || (align & (align - 1)))
		return -EINVAL;
	err = size_to_pages(kva, size, &n);
	if (err)
		return err;
	align >>= kva->cfg.page_lg2;
	if (n > kva->threshold_pages)
		return pool_alloc(&kva->pool[kva->nr_pools], kva->cfg.page_lg2, n, align, va);
	first = os_thread_hint() % kva->nr_pools;
	for (unsigned int k = 0; k < kva->nr_pools; k++) {
		struct kva_pool *p = &kva->pool[(first + k) % kva->nr_pools];

		err = pool_alloc(p, kva->cfg.page_lg2, n, align, va);
		if (err != -ENOSPC)
			return err;
	}
	return -ENOSPC;
}

int gvm_kva_free(struct gvm_kva *kva, uint64_t va, uint64_t size)
{
	struct kva_pool *p;
	uint64_t n, i;
	bool ok;
	int err = size_to_pages(kva, size, &n);

	if (err)
		return err;
	if (va < kva->cfg.start || va >= kva->cfg.end || (va & ((1ull << kva->cfg.page_lg2) - 1)))
		return -EINVAL;
	p = pool_of(kva, va);
	i = (va - p->base) >> kva->cfg.page_lg2;
	/* Past the end of the pool: allocations never span pools. */
	if (n > p->npages - i)
		return -EINVAL;
	pool_lock(p);
	ok = pool_is_allocation(p, i, n);
	if (ok) {
		bits_assign(p->used, i, n, false);
		bits_assign(p->head, i, 1, false);
		p->allocated -= n;
	}
	os_mutex_unlock(&p->lock);
	return ok ? 0 : -EINVAL;
}

/* Apply the defaults to @c and check it; see struct gvm_kva_cfg. */
static int cfg_finish(struct gvm_kva_cfg *c, uint64_t *pool_bytes)
{
	uint64_t page, range, small;

	if (c->page_lg2 < GVM_KVA_MIN_PAGE_LG2 || c->page_lg2 > GVM_KVA_MAX_PAGE_LG2)
		return -EINVAL;
	page = 1ull << c->page_lg2;
	if (c->start >= c->end || ((c->start | c->end) & (page - 1)))
		return -EINVAL;
	range = c->end - c->start;
	if (range >> c->page_lg2 > GVM_KVA_MAX_PAGES)
		return -ERANGE;
	if (!c->pools)
		c->pools = DEFAULT_POOLS;
	if (!c->large_threshold)
		c->large_threshold = (uint64_t)DEFAULT_THRESHOLD_PAGES << c->page_lg2;
	if (!c->large_bytes)
		c->large_bytes = range / 4 & ~(page - 1);
	if (c->pools > GVM_KVA_MAX_POOLS || ((c->large_threshold | c->large_bytes) & (page - 1)) ||
	    c->large_bytes >= range)
		return -EINVAL;
	*pool_bytes = os_div_u64(range - c->large_bytes, c->pools) & ~(page - 1);
	small = *pool_bytes * c->pools;
	/* Every small request must fit a small pool, one large request the large pool. */
	if (*pool_bytes < c->large_threshold || range - small <= c->large_threshold)
		return -EINVAL;
	return 0;
}

/* Carve the pools out of the range and their bitmaps out of one array. */
static int pools_init(struct gvm_kva *kva)
{
	unsigned int lg2 = kva->cfg.page_lg2, nr = kva->nr_pools + 1, i;
	uint64_t total = 0, off = 0;
	int err;

	for (i = 0; i < nr; i++) {
		struct kva_pool *p = &kva->pool[i];

		p->base = kva->cfg.start + i * kva->pool_bytes;
		p->npages = (i < kva->nr_pools ? kva->pool_bytes : kva->cfg.end - p->base) >> lg2;
		p->base_page = p->base >> lg2;
		total += 2 * words_for(p->npages);
	}
	kva->words = os_calloc(total, sizeof(*kva->words));
	if (!kva->words)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		struct kva_pool *p = &kva->pool[i];

		p->used = kva->words + off;
		p->head = p->used + words_for(p->npages);
		off += 2 * words_for(p->npages);
		err = os_mutex_init(&p->lock);
		if (err)
			goto err_destroy;
	}
	return 0;

err_destroy:
	while (i--)
		os_mutex_destroy(&kva->pool[i].lock);
	os_free(kva->words);
	return err;
}

int gvm_kva_create(const struct gvm_kva_cfg *cfg, struct gvm_kva **out)
{
	struct gvm_kva_cfg c;
	struct gvm_kva *kva;
	uint64_t pool_bytes = 0;
	size_t bytes;
	int err;

	if (!cfg || !out)
		return -EINVAL;
	c = *cfg;
	err = cfg_finish(&c, &pool_bytes);
	if (err)
		return err;
	/* os_aligned_alloc() wants a multiple of the alignment. */
	bytes = sizeof(*kva) + (c.pools + 1) * sizeof(kva->pool[0]);
	bytes = (bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
	kva = os_aligned_alloc(CACHE_LINE, bytes);
	if (!kva)
		return -ENOMEM;
	memset(kva, 0, bytes);
	kva->cfg = c;
	kva->pool_bytes = pool_bytes;
	kva->threshold_pages = c.large_threshold >> c.page_lg2;
	kva->nr_pools = c.pools;
	err = pools_init(kva);
	if (err)
		goto err_free_kva;
	*out = kva;
	return 0;

err_free_kva:
	os_free(kva);
	return err;
}

void gvm_kva_destroy(struct gvm_kva *kva)
{
	if (!kva)
		return;
	for (unsigned int i = 0; i <= kva->nr_pools; i++)
		os_mutex_destroy(&kva->pool[i].lock);
	os_free(kva->words);
	os_free(kva);
}

void gvm_kva_stats(struct gvm_kva *kva, struct gvm_kva_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->nr_pools = kva->nr_pools;
	st->total_pages = (kva->cfg.end - kva->cfg.start) >> kva->cfg.page_lg2;
	for (unsigned int i = 0; i <= kva->nr_pools; i++) {
		struct kva_pool *p = &kva->pool[i];
		struct gvm_kva_pool_stats *ps = &st->pool[i];

		os_mutex_lock(&p->lock);
		ps->start = p->base;
		ps->end = p->base + (p->npages << kva->cfg.page_lg2);
		ps->allocated_pages = p->allocated;
		ps->acquisitions = p->acquisitions;
		ps->contended = p->contended;
		os_mutex_unlock(&p->lock);
		st->free_pages += p->npages - ps->allocated_pages;
	}
}

/*
 * One word of a pool's invariants. @carry is the used bit of the page before
 * the word: a page that is used while the one before is not starts a run, and
 * every run starts with a head (a run may hold several allocations).
 */
static const char *check_word(const struct kva_pool *p, uint64_t w, uint64_t *carry,
			      uint64_t *count)
{
	uint64_t used = p->used[w], head = p->head[w];
	uint64_t valid = p->npages - w * WORD_BITS;
	uint64_t run_starts = used & ~(used << 1 | *carry);

	*carry = used >> (WORD_BITS - 1);
	*count += os_popcount64(used);
	if (head & ~used)
		return "head bit on a free page";
	if (run_starts & ~head)
		return "allocated run without a head";
	if (valid < WORD_BITS && (used | head) >> valid)
		return "bit set past the end of the pool";
	return NULL;
}

static const char *check_pool(const struct kva_pool *p)
{
	uint64_t carry = 0, count = 0;
	const char *why = NULL;

	if (p->hint > p->npages)
		return "next-fit hint past the end of the pool";
	for (uint64_t w = 0; w < words_for(p->npages) && !why; w++)
		why = check_word(p, w, &carry, &count);
	if (!why && count != p->allocated)
		why = "allocated page count differs from the bitmap";
	return why;
}

int gvm_kva_validate(struct gvm_kva *kva, pt_print_fn *print, void *ctx)
{
	for (unsigned int i = 0; i <= kva->nr_pools; i++) {
		struct kva_pool *p = &kva->pool[i];
		const char *why;

		os_mutex_lock(&p->lock);
		why = check_pool(p);
		os_mutex_unlock(&p->lock);
		if (why) {
			if (print)
				print(ctx, "gvm_kva: pool %u [0x%llx, +%llu pages): %s\n", i,
				      (unsigned long long)p->base, (unsigned long long)p->npages,
				      why);
			return -EUCLEAN;
		}
	}
	return 0;
}
