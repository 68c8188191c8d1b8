// SPDX-License-Identifier: MIT
/*
 * Default table allocator (see <gpuvm/pt_pool.h>).
 *
 * DOC: pool layout
 *
 * - A "chunk" is memory obtained from the C library. A regular chunk holds
 *   POOL_CHUNK_PAGES pages; its CPU address and its simulated PA are both
 *   aligned to the chunk size, so every page in it is page aligned on both
 *   sides. A multi-page chunk holds exactly one multi-page block and is aligned
 *   to its own size.
 * - PAs come from a bump counter, so chunks are appended to the chunk table in
 *   increasing PA order and a PA is looked up by binary search. A freed
 *   multi-page chunk keeps its table slot without memory ("retired"), and the
 *   next multi-page block of the same size reuses its PA range: otherwise
 *   creating and destroying stage-2 tables would walk the bump counter into
 *   pa_limit.
 * - Free whole pages are kept as (cpu, pa) pairs: in the pool's free array
 *   (under the lock) and in each thread's cache (owner thread only). The free
 *   array has room for every regular page, so returning pages never allocates.
 * - A page carved into sub-page blocks has one size class. Its metadata (used
 *   count, free-block list head) lives in a side table per chunk, never in a
 *   block that is handed out; the link of the free-block list is stored in the
 *   free blocks themselves. The page goes back to the free array when its last
 *   block is freed.
 *
 * DOC: pool locking
 *
 * pool->lock protects everything but the thread caches. A thread cache is
 * touched only by its owner (and by its destructor on the owner's way out, or by
 * pt_pool_destroy() once no thread uses the pool), except its count, which
 * pt_pool_get_stats() reads under the lock; the count is therefore atomic, and
 * every change of it that moves pages to or from the pool is made under the
 * lock, so that the stats never count a page twice.
 *
 * DOC: thread caches and teardown
 *
 * A thread's caches are found and handed back at thread exit by the OS layer
 * (os_tcache_*, <gpuvm/os.h>), which keeps the core free of thread-local
 * storage: in userspace each thread attaches one cache per pool, and its exit
 * gives the cache back through pool_tcache_release() unless the pool was
 * destroyed first; an environment without thread caches (the kernel) finds
 * none, and every page then goes through the pool lock.
 * Lock order: the OS layer's registry lock, then pool->lock.
 */
#include <stdbool.h>

#include <gpuvm/os.h>
#include <gpuvm/pt_pool.h>

/* Pages per regular chunk: 256 KiB with 4K pages, 4 MiB with 64K pages. */
#define POOL_CHUNK_PAGES 64u
/* Smallest sub-page block: a top table of 8 items. */
#define POOL_MIN_BLOCK_LG2 6u
/* Sub-page classes 64 B .. 32 KiB (half of the largest page). */
#define POOL_MAX_CLASSES (16u - POOL_MIN_BLOCK_LG2)
/* Multi-page blocks of 2..16 pages: stage 2 concatenates at most 16 tables. */
#define POOL_MAX_MULTI_LG2 4u
#define POOL_NO_CLASS 0xffu
/*
 * Written into what the pool holds free: a whole page's first word, a sub-page
 * block's second (its first holds the free-block link). A free that finds it
 * may be a double free; a cold path confirms it on the free lists, since a
 * caller's data may hold the same value.
 */
#define POOL_PAGE_POISON 0x9e3779b97f4a7c15ull
#define POOL_BLOCK_POISON 0xc2b2ae3d27d4eb4full
#define POOL_BLOCK_POISON_OFF 8u

/* Defaults of struct pt_pool_cfg. */
#define POOL_DEFAULT_PA_BASE (1ull << 30)
#define POOL_DEFAULT_PA_LIMIT (1ull << 32)
#define POOL_PA_BASE_ALIGN (1ull << 16)
#define POOL_DEFAULT_CACHE_PAGES 64u
#define POOL_DEFAULT_BATCH_PAGES 32u

/* A node of a circular doubly linked list; a list head is a bare node. */
struct pool_link {
	struct pool_link *next, *prev;
};

/*
 * struct pt_pool_page - side-table metadata of one page of a regular chunk.
 * @link: in the class's list of pages with a free block.
 * @cpu, @pa: the page.
 * @free_head: 1 + offset of the first freed block, 0 when none.
 * @used: blocks handed out.
 * @carved: blocks [0, carved) have been handed out at least once; blocks past
 *	it are free without being on the free-block list.
 * @cls: size class, or POOL_NO_CLASS when the page is not carved.
 */
struct pt_pool_page {
	struct pool_link link;
	char *cpu;
	uint64_t pa;
	uint32_t free_head;
	uint16_t used;
	uint16_t carved;
	uint8_t cls;
};

/*
 * struct pt_pool_chunk - one entry of the chunk table.
 * @pa: first PA.
 * @cpu: first byte, or NULL for a retired multi-page range.
 * @npages: POOL_CHUNK_PAGES, or the page count of a multi-page block.
 * @next_retired: next retired range of the same size.
 * @pages: page metadata (regular chunks only).
 */
struct pt_pool_chunk {
	uint64_t pa;
	char *cpu;
	unsigned int npages;
	struct pt_pool_chunk *next_retired;
	struct pt_pool_page pages[];
};

/*
 * struct pt_pool_class - pages carved into blocks of one size.
 * @partial: pages with at least one free block.
 * @pages: pages carved for this class.
 * @used: blocks of this class handed out.
 */
struct pt_pool_class {
	struct pool_link partial;
	uint64_t pages;
	uint64_t used;
};

/*
 * struct pt_pool_cache - free pages of one thread.
 * @pool: owner pool, for the thread-exit destructor.
 * @link: in pool->caches.
 * @count: pages held, in @pages[0, count); the top is the most recently freed.
 * @pages: room for pool->cache_pages pages.
 */
struct pt_pool_cache {
	struct pt_pool *pool;
	struct pool_link link;
	size_t count;
	struct pt_mem pages[];
};

struct pt_pool {
	/* Constant after creation. */
	size_t page_size;
	unsigned int page_lg2;
	size_t chunk_bytes;
	uint64_t pa_base;
	uint64_t pa_limit;
	size_t cache_pages;
	size_t batch_pages;
	bool abort_in_signalling;
	struct os_tcache_owner tcache; /* DOC: thread caches and teardown */

	os_mutex lock;
	/* Counted outside the lock (a waiter counts before it holds it). */
	struct os_counter lock_taken, lock_contended;
	/* Everything below is protected by @lock; @pa_next only grows, read without it too. */
	uint64_t pa_next;
	struct pt_pool_chunk **chunks;
	size_t nchunks, chunks_cap;
	struct pt_pool_chunk *retired[POOL_MAX_MULTI_LG2];
	struct pt_mem *free_pages;
	size_t nfree, free_cap;
	struct pt_pool_class classes[POOL_MAX_CLASSES];
	struct pool_link caches;
	uint64_t regular_pages; /* pages of regular chunks */
	uint64_t multi_pages;   /* pages of live multi-page blocks */
	uint64_t sub_pages;     /* pages carved into sub-page blocks */
	uint64_t sub_bytes;     /* bytes of sub-page blocks handed out */
	uint64_t live_chunks;
	uint64_t refills;
};

/* What a request is served from (pool_classify()). */
enum pool_kind {
	POOL_SUB,
	POOL_PAGE,
	POOL_MULTI,
};

static void link_init(struct pool_link *head)
{
	head->next = head;
	head->prev = head;
}

static void link_add(struct pool_link *head, struct pool_link *node)
{
	node->next = head->next;
	node->prev = head;
	head->next->prev = node;
	head->next = node;
}

static void link_del(struct pool_link *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
}

static struct pt_pool_page *page_of_link(struct pool_link *l)
{
	return (struct pt_pool_page *)((char *)l - offsetof(struct pt_pool_page, link));
}

static struct pt_pool_cache *cache_of_link(struct pool_link *l)
{
	return (struct pt_pool_cache *)((char *)l - offsetof(struct pt_pool_cache, link));
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static unsigned int lg2(uint64_t pow2)
{
	return (unsigned int)os_ctz64(pow2);
}

static void pool_lock(struct pt_pool *pool)
{
	os_counter_add(&pool->lock_taken, 1);
	if (os_mutex_trylock(&pool->lock))
		return;
	os_counter_add(&pool->lock_contended, 1);
	os_mutex_lock(&pool->lock);
}

static void pool_unlock(struct pt_pool *pool)
{
	os_mutex_unlock(&pool->lock);
}

static size_t cache_count(struct pt_pool_cache *cache)
{
	return os_load_relaxed(&cache->count);
}

static void cache_set_count(struct pt_pool_cache *cache, size_t count)
{
	os_store_relaxed(&cache->count, count);
}

static uint64_t word_at(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static void word_set(char *p, uint64_t w)
{
	memcpy(p, &w, sizeof(w));
}

/* Chunk table entry that contains @pa (possibly retired), or NULL. */
static struct pt_pool_chunk *pool_find_chunk_locked(struct pt_pool *pool, uint64_t pa)
{
	size_t lo = 0, hi = pool->nchunks;
	struct pt_pool_chunk *c;

	/* Find the first chunk that starts after @pa; the one before may hold it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pool->chunks[mid]->pa <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	c = pool->chunks[lo - 1];
	if (pa - c->pa >= (uint64_t)c->npages << pool->page_lg2)
		return NULL;
	return c;
}

/* Metadata of the page of a regular chunk that holds @pa, or NULL. */
static struct pt_pool_page *pool_page_of_locked(struct pt_pool *pool, uint64_t pa)
{
	struct pt_pool_chunk *c = pool_find_chunk_locked(pool, pa);

	if (!c || c->npages != POOL_CHUNK_PAGES)
		return NULL;
	return &c->pages[(pa - c->pa) >> pool->page_lg2];
}

/*
 * @arr (of capacity *@cap elements of @elem bytes) with room for @need, or
 * NULL when that fails; @arr is then still valid and unchanged.
 */
static void *array_reserve(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t new_cap = *cap ? *cap : 16, bytes;

	if (need <= *cap)
		return arr;
	while (new_cap < need) {
		if (__builtin_mul_overflow(new_cap, 2, &new_cap))
			return NULL;
	}
	if (__builtin_mul_overflow(new_cap, elem, &bytes))
		return NULL;
	arr = os_realloc(arr, bytes);
	if (arr)
		*cap = new_cap;
	return arr;
}

static int pool_reserve_chunks_locked(struct pt_pool *pool, size_t n)
{
	void *p = array_reserve(pool->chunks, &pool->chunks_cap, pool->nchunks + n,
				sizeof(pool->chunks[0]));

	if (!p)
		return -ENOMEM;
	pool->chunks = p;
	return 0;
}

/* The free array has room for every regular page, so returning pages cannot fail. */
static int pool_reserve_free_locked(struct pt_pool *pool, size_t n)
{
	void *p = array_reserve(pool->free_pages, &pool->free_cap, pool->regular_pages + n,
				sizeof(pool->free_pages[0]));

	if (!p)
		return -ENOMEM;
	pool->free_pages = p;
	return 0;
}

/*
 * First PA of @count ranges of @bytes, each aligned to @bytes, placed after the
 * bump counter; -ENOMEM when they would pass pa_limit.
 */
static int pool_pa_room_locked(struct pt_pool *pool, uint64_t bytes, size_t count, uint64_t *pa)
{
	uint64_t first, len, end;

	if (__builtin_add_overflow(pool->pa_next, bytes - 1, &first))
		return -ENOMEM;
	first &= ~(bytes - 1);
	if (__builtin_mul_overflow(bytes, (uint64_t)count, &len) ||
	    __builtin_add_overflow(first, len, &end) || end > pool->pa_limit)
		return -ENOMEM;
	*pa = first;
	return 0;
}

static void chunk_free(struct pt_pool_chunk *c)
{
	os_free(c->cpu);
	os_free(c);
}

static struct pt_pool_chunk *chunk_new_regular(struct pt_pool *pool, uint64_t pa)
{
	struct pt_pool_chunk *c;

	c = os_malloc(sizeof(*c) + POOL_CHUNK_PAGES * sizeof(c->pages[0]));
	if (!c)
		return NULL;
	c->cpu = os_aligned_alloc(pool->chunk_bytes, pool->chunk_bytes);
	if (!c->cpu) {
		os_free(c);
		return NULL;
	}
	c->pa = pa;
	c->npages = POOL_CHUNK_PAGES;
	c->next_retired = NULL;
	for (unsigned int i = 0; i < POOL_CHUNK_PAGES; i++) {
		c->pages[i] = (struct pt_pool_page){
			.cpu = c->cpu + ((size_t)i << pool->page_lg2),
			.pa = pa + ((uint64_t)i << pool->page_lg2),
			.cls = POOL_NO_CLASS,
		};
	}
	return c;
}

/* Append a new regular chunk (room reserved) and put its pages on the free array. */
static void pool_add_chunk_locked(struct pt_pool *pool, struct pt_pool_chunk *c)
{
	pool->chunks[pool->nchunks++] = c;
	/* Pushed last page first, so that pages are handed out in address order. */
	for (unsigned int i = POOL_CHUNK_PAGES; i--;) {
		word_set(c->pages[i].cpu, POOL_PAGE_POISON);
		pool->free_pages[pool->nfree++] =
			(struct pt_mem){ c->pages[i].cpu, c->pages[i].pa };
	}
	pool->regular_pages += POOL_CHUNK_PAGES;
	pool->live_chunks++;
	os_store_relaxed(&pool->pa_next, c->pa + pool->chunk_bytes);
}

/* Add @n regular chunks, all or nothing. */
static int pool_grow_locked(struct pt_pool *pool, size_t n)
{
	size_t i;
	uint64_t pa;

	if (pool_pa_room_locked(pool, pool->chunk_bytes, n, &pa) ||
	    pool_reserve_chunks_locked(pool, n) ||
	    pool_reserve_free_locked(pool, n * POOL_CHUNK_PAGES))
		return -ENOMEM;
	/* Build the chunks in the reserved tail of the table, then commit them all. */
	for (i = 0; i < n; i++) {
		pool->chunks[pool->nchunks + i] =
			chunk_new_regular(pool, pa + i * pool->chunk_bytes);
		if (!pool->chunks[pool->nchunks + i])
			goto err_free_chunks;
	}
	for (i = 0; i < n; i++)
		pool_add_chunk_locked(pool, pool->chunks[pool->nchunks]);
	return 0;

err_free_chunks:
	while (i--)
		chunk_free(pool->chunks[pool->nchunks + i]);
	return -ENOMEM;
}

static size_t chunks_for(size_t pages)
{
	return (pages + POOL_CHUNK_PAGES - 1) / POOL_CHUNK_PAGES;
}

/*
 * Move up to @want free pages, at least @min, from the free array to @out,
 * growing the pool for what is missing. Sets *@got; -ENOMEM changes nothing.
 */
static int pool_take_locked(struct pt_pool *pool, size_t want, size_t min, struct pt_mem *out,
			    size_t *got)
{
	size_t n;

	/* Grow for @want; when that does not fit below pa_limit, growing for @min may. */
	if (pool->nfree < want && pool_grow_locked(pool, chunks_for(want - pool->nfree)) &&
	    pool->nfree < min && pool_grow_locked(pool, chunks_for(min - pool->nfree)))
		return -ENOMEM;
	n = want < pool->nfree ? want : pool->nfree;
	pool->nfree -= n;
	memcpy(out, pool->free_pages + pool->nfree, n * sizeof(*out));
	*got = n;
	return 0;
}

/* A whole page coming back must be one: catches frees with a wrong size or pa. */
static void pool_check_page_locked(struct pt_pool *pool, const struct pt_mem *mem)
{
#ifndef NDEBUG
	struct pt_pool_page *pg = pool_page_of_locked(pool, mem->pa);

	os_assert(pg && pg->pa == mem->pa && pg->cpu == mem->cpu && pg->cls == POOL_NO_CLASS);
#else
	(void)pool;
	(void)mem;
#endif
}

/* Return @n whole free pages to the free array. */
static void pool_put_locked(struct pt_pool *pool, const struct pt_mem *pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pool_check_page_locked(pool, &pages[i]);
	os_assert(pool->nfree + n <= pool->regular_pages);
	memcpy(pool->free_pages + pool->nfree, pages, n * sizeof(*pages));
	pool->nfree += n;
}

/* Thread exit (DOC: thread caches and teardown): the cache's pages go back to the pool. */
static void pool_tcache_release(struct os_tcache_owner *owner, void *arg)
{
	struct pt_pool *pool = (struct pt_pool *)((char *)owner - offsetof(struct pt_pool, tcache));
	struct pt_pool_cache *cache = arg;

	pool_lock(pool);
	pool_put_locked(pool, cache->pages, cache_count(cache));
	link_del(&cache->link);
	pool_unlock(pool);
	os_free(cache);
}

/* The calling thread's cache in @pool, or NULL: the fast path, no lock. */
static struct pt_pool_cache *cache_find(const struct pt_pool *pool)
{
	return os_tcache_find(&pool->tcache);
}

/* A new cache of the calling thread in @pool, attached to its thread; NULL if that fails. */
static struct pt_pool_cache *cache_new(struct pt_pool *pool)
{
	struct pt_pool_cache *cache;

	cache = os_malloc(sizeof(*cache) + pool->cache_pages * sizeof(cache->pages[0]));
	if (!cache)
		return NULL;
	cache->pool = pool;
	cache->count = 0;
	if (os_tcache_attach(&pool->tcache, cache)) {
		os_free(cache);
		return NULL;
	}
	pool_lock(pool);
	link_add(&pool->caches, &cache->link);
	pool_unlock(pool);
	return cache;
}

/* The calling thread's cache, created on first use; NULL if that fails. */
static struct pt_pool_cache *cache_get(struct pt_pool *pool)
{
	struct pt_pool_cache *cache = cache_find(pool);

	return cache ? cache : cache_new(pool);
}

/* Refill an empty cache with one batch: one lock round trip per batch. */
static int cache_refill(struct pt_pool *pool, struct pt_pool_cache *cache)
{
	size_t got;
	int err;

	pool_lock(pool);
	err = pool_take_locked(pool, pool->batch_pages, 1, cache->pages, &got);
	if (!err) {
		cache_set_count(cache, got);
		pool->refills++;
	}
	pool_unlock(pool);
	return err;
}

/* Return the oldest batch of a full cache to the pool; the hot pages stay. */
static void cache_drain(struct pt_pool *pool, struct pt_pool_cache *cache)
{
	size_t count = cache_count(cache), batch = pool->batch_pages;

	pool_lock(pool);
	pool_put_locked(pool, cache->pages, batch);
	memmove(cache->pages, cache->pages + batch, (count - batch) * sizeof(cache->pages[0]));
	cache_set_count(cache, count - batch);
	pool_unlock(pool);
}

/* Give @n pages of the calling thread's @cache to the free array. */
static void cache_spill_locked(struct pt_pool *pool, struct pt_pool_cache *cache, size_t n)
{
	size_t count = cache_count(cache);

	os_assert(n <= count);
	pool_put_locked(pool, cache->pages + count - n, n);
	cache_set_count(cache, count - n);
}

static int pool_alloc_page(struct pt_pool *pool, struct pt_mem *out)
{
	struct pt_pool_cache *cache = cache_get(pool);
	size_t count, got;
	int err;

	if (!cache) {
		pool_lock(pool);
		err = pool_take_locked(pool, 1, 1, out, &got);
		pool_unlock(pool);
		return err;
	}
	if (!cache_count(cache)) {
		err = cache_refill(pool, cache);
		if (err)
			return err;
	}
	count = cache_count(cache) - 1;
	*out = cache->pages[count];
	cache_set_count(cache, count);
	return 0;
}

/* @mem is among the @n pages of @pages. */
static bool pages_hold(const struct pt_mem *pages, size_t n, const struct pt_mem *mem)
{
	for (size_t i = 0; i < n; i++) {
		if (pages[i].pa == mem->pa)
			return true;
	}
	return false;
}

/*
 * A page to free carries the poison of a free page: refuse it when it is free
 * indeed (in the free array or the calling thread's cache; the caches of other
 * threads are theirs) or carved into blocks; otherwise the poison was the
 * caller's data.
 */
static os_noinline os_cold bool page_free_refused(struct pt_pool *pool, struct pt_pool_cache *cache,
						  const struct pt_mem *mem)
{
	const struct pt_pool_page *pg;
	bool is_free, carved;

	pool_lock(pool);
	pg = pool_page_of_locked(pool, mem->pa);
	carved = !pg || pg->cpu != mem->cpu || pg->cls != POOL_NO_CLASS;
	is_free = pages_hold(pool->free_pages, pool->nfree, mem) ||
		  (cache && pages_hold(cache->pages, cache_count(cache), mem));
	pool_unlock(pool);
	if (os_misuse(carved && "pt_pool: free of a page it did not hand out whole"))
		return true;
	return os_misuse(is_free && "pt_pool: double free of a page");
}

/*
 * A whole page of a regular chunk: aligned, at the same offset of its chunk on
 * both sides, inside the PAs the pool handed out. One branch; the chunk table
 * is not searched, it needs the lock.
 */
static bool page_is_foreign(struct pt_pool *pool, const struct pt_mem *mem)
{
	uintptr_t cpu = (uintptr_t)mem->cpu;
	uint64_t span = os_load_relaxed(&pool->pa_next) - pool->pa_base;
	uint64_t shape = ((mem->pa | cpu) & (pool->page_size - 1)) |
			 ((mem->pa ^ cpu) & (pool->chunk_bytes - 1));

	return (shape != 0) | (mem->pa - pool->pa_base >= span);
}

static void pool_free_page(struct pt_pool *pool, const struct pt_mem *mem)
{
	struct pt_pool_cache *cache = cache_get(pool);
	size_t count;

	if (os_misuse(page_is_foreign(pool, mem) && "pt_pool: free of a page it never handed out"))
		return;
	if (word_at(mem->cpu) == POOL_PAGE_POISON && page_free_refused(pool, cache, mem))
		return;
	word_set(mem->cpu, POOL_PAGE_POISON);
	if (!cache) {
		pool_lock(pool);
		pool_put_locked(pool, mem, 1);
		pool_unlock(pool);
		return;
	}
	if (cache_count(cache) == pool->cache_pages)
		cache_drain(pool, cache);
	count = cache_count(cache);
	cache->pages[count] = *mem;
	cache_set_count(cache, count + 1);
}

/*
 * @n whole pages, all or nothing: first from the cache, then the rest in one
 * lock round trip, which also refills the cache that was just emptied.
 */
static int pool_bulk_pages(struct pt_pool *pool, size_t n, struct pt_mem *out)
{
	struct pt_pool_cache *cache = cache_get(pool);
	size_t count = cache ? cache_count(cache) : 0;
	size_t from_cache = n < count ? n : count, got;
	int err;

	if (from_cache)
		memcpy(out, cache->pages + count - from_cache, from_cache * sizeof(*out));
	if (from_cache == n) {
		if (cache)
			cache_set_count(cache, count - n);
		return 0;
	}
	pool_lock(pool);
	err = pool_take_locked(pool, n - from_cache, n - from_cache, out + from_cache, &got);
	if (!err && cache) {
		cache_set_count(cache, 0);
		if (!pool_take_locked(pool, pool->batch_pages, 0, cache->pages, &got) && got) {
			cache_set_count(cache, got);
			pool->refills++;
		}
	}
	pool_unlock(pool);
	return err;
}

static size_t class_blocks(const struct pt_pool *pool, unsigned int cls)
{
	return pool->page_size >> (POOL_MIN_BLOCK_LG2 + cls);
}

/* Carve a page off the free array (the caller made sure there is one). */
static void class_take_page_locked(struct pt_pool *pool, unsigned int cls)
{
	struct pt_pool_page *pg;

	os_assert(pool->nfree);
	pg = pool_page_of_locked(pool, pool->free_pages[--pool->nfree].pa);
	os_assert(pg && pg->cls == POOL_NO_CLASS);
	pg->cls = (uint8_t)cls;
	pg->used = 0;
	pg->carved = 0;
	pg->free_head = 0;
	link_add(&pool->classes[cls].partial, &pg->link);
	pool->classes[cls].pages++;
	pool->sub_pages++;
}

/* The last block of @pg was freed: the page goes back to the free array. */
static void class_release_page_locked(struct pt_pool *pool, struct pt_pool_page *pg)
{
	struct pt_mem mem = { pg->cpu, pg->pa };

	link_del(&pg->link);
	pool->classes[pg->cls].pages--;
	pool->sub_pages--;
	pg->cls = POOL_NO_CLASS;
	word_set(pg->cpu, POOL_PAGE_POISON);
	pool_put_locked(pool, &mem, 1);
}

static void class_alloc_block_locked(struct pt_pool *pool, unsigned int cls, struct pt_mem *out)
{
	struct pt_pool_class *k = &pool->classes[cls];
	size_t bsize = (size_t)1 << (POOL_MIN_BLOCK_LG2 + cls);
	struct pt_pool_page *pg;
	uint32_t off;

	if (k->partial.next == &k->partial)
		class_take_page_locked(pool, cls);
	pg = page_of_link(k->partial.next);
	if (pg->free_head) {
		/* A freed block holds the link to the next one; it is not handed out. */
		off = pg->free_head - 1;
		memcpy(&pg->free_head, pg->cpu + off, sizeof(pg->free_head));
	} else {
		off = (uint32_t)(pg->carved++ * bsize);
	}
	word_set(pg->cpu + off + POOL_BLOCK_POISON_OFF, 0);
	if (++pg->used == class_blocks(pool, cls))
		link_del(&pg->link);
	k->used++;
	pool->sub_bytes += bsize;
	out->cpu = pg->cpu + off;
	out->pa = pg->pa + off;
}

/*
 * The block at @off of @pg, which carries the poison of a free block: on the
 * page's free-block list indeed, or the poison was the caller's data.
 */
static os_noinline os_cold bool block_on_free_list(const struct pt_pool_page *pg, uint32_t off)
{
	uint32_t at = pg->free_head;

	for (uint16_t n = pg->carved - pg->used; at && n; n--) {
		if (at - 1 == off)
			return true;
		memcpy(&at, pg->cpu + at - 1, sizeof(at));
	}
	return false;
}

/* @mem is a block of class @cls that @pg handed out once: the offset, when it is one. */
static bool block_is_foreign(const struct pt_pool_page *pg, unsigned int cls, size_t bsize,
			     const struct pt_mem *mem, uint32_t *off)
{
	if (!pg || pg->cls != cls)
		return true;
	*off = (uint32_t)(mem->pa - pg->pa);
	return (*off & (bsize - 1)) | (mem->cpu != pg->cpu + *off) | (*off >= pg->carved * bsize);
}

static void class_free_block_locked(struct pt_pool *pool, unsigned int cls,
				    const struct pt_mem *mem)
{
	struct pt_pool_page *pg = pool_page_of_locked(pool, mem->pa);
	size_t bsize = (size_t)1 << (POOL_MIN_BLOCK_LG2 + cls);
	uint32_t off = 0;
	bool was_full;

	if (os_misuse(block_is_foreign(pg, cls, bsize, mem, &off) &&
		      "pt_pool: free of a block it never handed out"))
		return;
	if (word_at(pg->cpu + off + POOL_BLOCK_POISON_OFF) == POOL_BLOCK_POISON &&
	    os_misuse(block_on_free_list(pg, off) && "pt_pool: double free of a block"))
		return;
	was_full = pg->used == class_blocks(pool, cls);
	word_set(pg->cpu + off + POOL_BLOCK_POISON_OFF, POOL_BLOCK_POISON);
	memcpy(pg->cpu + off, &pg->free_head, sizeof(pg->free_head));
	pg->free_head = off + 1;
	pg->used--;
	pool->classes[cls].used--;
	pool->sub_bytes -= bsize;
	if (!pg->used)
		class_release_page_locked(pool, pg);
	else if (was_full)
		link_add(&pool->classes[cls].partial, &pg->link);
}

/*
 * Make @need pages available on the free array, all or nothing. Pages of the
 * calling thread's @own cache are used before the pool grows: they are free,
 * and pa_limit may leave no room to grow.
 */
static int pool_ensure_free_locked(struct pt_pool *pool, struct pt_pool_cache *own, size_t need)
{
	size_t cached = own ? cache_count(own) : 0;

	if (pool->nfree >= need)
		return 0;
	if (pool->nfree + cached < need &&
	    pool_grow_locked(pool, chunks_for(need - pool->nfree - cached)))
		return -ENOMEM;
	if (pool->nfree < need)
		cache_spill_locked(pool, own, need - pool->nfree);
	return 0;
}

/* @n blocks of class @cls, all or nothing. */
static int class_alloc_locked(struct pt_pool *pool, unsigned int cls, size_t n, struct pt_mem *out)
{
	struct pt_pool_class *k = &pool->classes[cls];
	size_t per_page = class_blocks(pool, cls);
	uint64_t avail = k->pages * per_page - k->used;
	size_t need = n > avail ? (size_t)os_div_u64(n - avail + per_page - 1, per_page) : 0;
	int err;

	err = pool_ensure_free_locked(pool, cache_find(pool), need);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		class_alloc_block_locked(pool, cls, &out[i]);
	return 0;
}

/* Table slot for a multi-page block of 2^@npages_lg2 pages at a new PA range. */
static struct pt_pool_chunk *multi_new_slot_locked(struct pt_pool *pool, unsigned int npages_lg2)
{
	uint64_t bytes = (uint64_t)pool->page_size << npages_lg2;
	struct pt_pool_chunk *c;
	uint64_t pa;

	if (pool_pa_room_locked(pool, bytes, 1, &pa) || pool_reserve_chunks_locked(pool, 1))
		return NULL;
	c = os_malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct pt_pool_chunk){ .pa = pa, .npages = 1u << npages_lg2 };
	pool->chunks[pool->nchunks++] = c;
	os_store_relaxed(&pool->pa_next, pa + bytes);
	return c;
}

static int multi_alloc_locked(struct pt_pool *pool, unsigned int npages_lg2, struct pt_mem *out)
{
	size_t bytes = pool->page_size << npages_lg2;
	struct pt_pool_chunk **retired = &pool->retired[npages_lg2 - 1];
	struct pt_pool_chunk *c;
	void *cpu;

	cpu = os_aligned_alloc(bytes, bytes);
	if (!cpu)
		return -ENOMEM;
	c = *retired ? *retired : multi_new_slot_locked(pool, npages_lg2);
	if (!c) {
		os_free(cpu);
		return -ENOMEM;
	}
	if (c == *retired)
		*retired = c->next_retired;
	c->cpu = cpu;
	pool->multi_pages += c->npages;
	pool->live_chunks++;
	*out = (struct pt_mem){ c->cpu, c->pa };
	return 0;
}

/* The block's memory goes back to the C library, its PA range to the retired list. */
static void multi_free_locked(struct pt_pool *pool, unsigned int npages_lg2,
			      const struct pt_mem *mem)
{
	struct pt_pool_chunk *c = pool_find_chunk_locked(pool, mem->pa);

	/* A retired range has no memory: a second free finds c->cpu NULL. */
	if (os_misuse((!c || c->npages != 1u << npages_lg2 || c->pa != mem->pa || !c->cpu ||
		       c->cpu != mem->cpu) &&
		      "pt_pool: free of a multi-page block it did not hand out, or twice"))
		return;
	os_free(c->cpu);
	c->cpu = NULL;
	c->next_retired = pool->retired[npages_lg2 - 1];
	pool->retired[npages_lg2 - 1] = c;
	pool->multi_pages -= c->npages;
	pool->live_chunks--;
}

/* @n multi-page blocks, all or nothing. */
static int multi_alloc_bulk_locked(struct pt_pool *pool, unsigned int npages_lg2, size_t n,
				   struct pt_mem *out)
{
	for (size_t i = 0; i < n; i++) {
		if (multi_alloc_locked(pool, npages_lg2, &out[i])) {
			while (i--)
				multi_free_locked(pool, npages_lg2, &out[i]);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Classify a request: sub-page class (*@idx = class), whole page, or
 * multi-page block (*@idx = log2 of the page count).
 */
/*
 * A request is served by a block of max(size, align, 64) bytes rounded up to a
 * power of two: blocks are aligned to their own size, so a small table with a
 * large alignment (a Mali root) takes a block of its alignment. Free computes
 * the same block from the same size and align.
 */
static size_t block_bytes(size_t size, size_t align)
{
	size_t b = size > align ? size : align;

	if (b < ((size_t)1 << POOL_MIN_BLOCK_LG2))
		b = (size_t)1 << POOL_MIN_BLOCK_LG2;
	return is_pow2(b) ? b : (size_t)1 << (64 - os_clz64((unsigned long long)b));
}

static int pool_classify(const struct pt_pool *pool, size_t size, size_t align,
			 enum pool_kind *kind, unsigned int *idx)
{
	if (!size || !is_pow2(align) || size > (pool->page_size << POOL_MAX_MULTI_LG2) ||
	    align > (pool->page_size << POOL_MAX_MULTI_LG2))
		return -EINVAL;
	size = block_bytes(size, align);
	if (size < pool->page_size) {
		*kind = POOL_SUB;
		*idx = lg2(size) - POOL_MIN_BLOCK_LG2;
	} else if (size == pool->page_size) {
		*kind = POOL_PAGE;
		*idx = 0;
	} else {
		*kind = POOL_MULTI;
		*idx = lg2(size) - pool->page_lg2;
	}
	return 0;
}

static int pool_op_alloc_bulk(void *ctx, size_t size, size_t align, unsigned int n,
			      struct pt_mem *out)
{
	struct pt_pool *pool = ctx;
	enum pool_kind kind;
	unsigned int idx;
	int err;

	if (pool->abort_in_signalling && pt_in_signalling())
		os_fatal("gpuvm: pt_pool: %u table block(s) of %zu bytes allocated inside a "
			 "fence-signalling section (a commit)\n",
			 n, size);
	err = pool_classify(pool, size, align, &kind, &idx);
	if (err || !n)
		return err;
	if (kind == POOL_PAGE)
		return n == 1 ? pool_alloc_page(pool, out) : pool_bulk_pages(pool, n, out);
	pool_lock(pool);
	if (kind == POOL_SUB)
		err = class_alloc_locked(pool, idx, n, out);
	else
		err = multi_alloc_bulk_locked(pool, idx, n, out);
	pool_unlock(pool);
	return err;
}

static int pool_op_alloc(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	return pool_op_alloc_bulk(ctx, size, align, 1, out);
}

static void pool_op_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct pt_pool *pool = ctx;
	enum pool_kind kind;
	unsigned int idx;
	int err;

	err = pool_classify(pool, size, align, &kind, &idx);
	/* The pool hands out nothing of this shape: keep it, corrupt no class. */
	if (os_misuse(err && "pt_pool: free of a size and alignment it never allocates"))
		return;
	if (kind == POOL_PAGE) {
		pool_free_page(pool, mem);
		return;
	}
	pool_lock(pool);
	if (kind == POOL_SUB)
		class_free_block_locked(pool, idx, mem);
	else
		multi_free_locked(pool, idx, mem);
	pool_unlock(pool);
}

const struct pt_alloc_ops pt_pool_ops = {
	.alloc = pool_op_alloc,
	.free = pool_op_free,
	.alloc_bulk = pool_op_alloc_bulk,
};

/* Apply the defaults of struct pt_pool_cfg and check the result. */
static int pool_cfg_resolve(const struct pt_pool_cfg *cfg, struct pt_pool_cfg *c)
{
	size_t bytes;

	if (!cfg)
		return -EINVAL;
	*c = *cfg;
	if (!c->pa_base)
		c->pa_base = POOL_DEFAULT_PA_BASE;
	if (!c->pa_limit)
		c->pa_limit = POOL_DEFAULT_PA_LIMIT;
	if (!c->thread_cache_pages)
		c->thread_cache_pages = POOL_DEFAULT_CACHE_PAGES;
	if (!c->batch_pages)
		c->batch_pages = c->thread_cache_pages < POOL_DEFAULT_BATCH_PAGES ?
					 c->thread_cache_pages :
					 POOL_DEFAULT_BATCH_PAGES;
	if (c->page_size != 4096 && c->page_size != 16384 && c->page_size != 65536)
		return -EINVAL;
	if (c->pa_base & (POOL_PA_BASE_ALIGN - 1) || c->pa_limit <= c->pa_base)
		return -EINVAL;
	/* A thread cache must fit in size_t (it could not with 32-bit size_t). */
	if (c->batch_pages > c->thread_cache_pages ||
	    __builtin_mul_overflow(c->thread_cache_pages, sizeof(struct pt_mem), &bytes) ||
	    __builtin_add_overflow(bytes, sizeof(struct pt_pool_cache), &bytes))
		return -EINVAL;
	return 0;
}

int pt_pool_create(const struct pt_pool_cfg *cfg, struct pt_pool **out)
{
	struct pt_pool_cfg c;
	struct pt_pool *pool;
	int err;

	err = pool_cfg_resolve(cfg, &c);
	if (err)
		return err;
	pool = os_zalloc(sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->page_size = c.page_size;
	pool->page_lg2 = lg2(c.page_size);
	pool->chunk_bytes = c.page_size * POOL_CHUNK_PAGES;
	pool->pa_base = c.pa_base;
	pool->pa_next = c.pa_base;
	pool->pa_limit = c.pa_limit;
	pool->cache_pages = c.thread_cache_pages;
	pool->batch_pages = c.batch_pages;
	pool->abort_in_signalling = c.abort_in_signalling;
	link_init(&pool->caches);
	for (unsigned int i = 0; i < POOL_MAX_CLASSES; i++)
		link_init(&pool->classes[i].partial);
	if (os_mutex_init(&pool->lock))
		goto err_free_pool;
	os_tcache_register(&pool->tcache, pool_tcache_release);
	*out = pool;
	return 0;

err_free_pool:
	os_free(pool);
	return -ENOMEM;
}

void pt_pool_destroy(struct pt_pool *pool)
{
	if (!pool)
		return;
	/* After this, no exiting thread touches the pool: its caches are ours to free. */
	os_tcache_unregister(&pool->tcache);
	while (pool->caches.next != &pool->caches) {
		struct pool_link *node = pool->caches.next;

		link_del(node);
		os_free(cache_of_link(node));
	}
	for (size_t i = 0; i < pool->nchunks; i++)
		chunk_free(pool->chunks[i]);
	os_free(pool->chunks);
	os_free(pool->free_pages);
	os_mutex_destroy(&pool->lock);
	os_free(pool);
}

void pt_pool_get_stats(struct pt_pool *pool, struct pt_pool_stats *st)
{
	uint64_t free_pages, whole;

	pool_lock(pool);
	free_pages = pool->nfree;
	for (struct pool_link *l = pool->caches.next; l != &pool->caches; l = l->next)
		free_pages += cache_count(cache_of_link(l));
	/*
	 * Counts of threads that are allocating right now are sampled one after
	 * the other; keep such a sample within what the pool holds.
	 */
	if (free_pages > pool->regular_pages - pool->sub_pages)
		free_pages = pool->regular_pages - pool->sub_pages;
	whole = pool->regular_pages - pool->sub_pages - free_pages;
	st->pages_in_use = whole + pool->sub_pages + pool->multi_pages;
	st->bytes_in_use = ((whole + pool->multi_pages) << pool->page_lg2) + pool->sub_bytes;
	st->pages_free = free_pages;
	st->chunks = pool->live_chunks;
	st->refills = pool->refills;
	pool_unlock(pool);
	st->lock_taken = os_counter_read(&pool->lock_taken);
	st->lock_contended = os_counter_read(&pool->lock_contended);
}

void *pt_pool_pa_to_cpu(struct pt_pool *pool, uint64_t pa)
{
	struct pt_pool_chunk *c;
	void *cpu = NULL;

	pool_lock(pool);
	c = pool_find_chunk_locked(pool, pa);
	if (c && c->cpu)
		cpu = c->cpu + (pa - c->pa);
	pool_unlock(pool);
	return cpu;
}

void pt_pool_flush_thread_cache(struct pt_pool *pool)
{
	struct pt_pool_cache *cache = cache_find(pool);

	if (!cache)
		return;
	pool_lock(pool);
	cache_spill_locked(pool, cache, cache_count(cache));
	pool_unlock(pool);
}

void pt_pool_fork_prepare(struct pt_pool *pool)
{
	pool_lock(pool);
}

void pt_pool_fork_parent(struct pt_pool *pool)
{
	pool_unlock(pool);
}

/*
 * The child's only thread is the one that took the lock: it may release it.
 * The thread caches' registry lock is held only inside pool calls, which the
 * forking thread is not in; another thread of the parent may have held it:
 * start the child's anew.
 */
void pt_pool_fork_child(struct pt_pool *pool)
{
	os_tcache_fork_child();
	pool_unlock(pool);
}
