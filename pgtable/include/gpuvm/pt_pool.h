/* SPDX-License-Identifier: MIT */
/*
 * gpuvm default table allocator: a pool of table pages.
 *
 * Pages are carved from chunks obtained from the C library; each chunk gets a
 * range of simulated physical addresses, so descriptors hold addresses that fit
 * any oas. Each thread keeps a small cache of free pages that it refills from
 * and drains to the shared pool in batches, so page tables used from different
 * threads do not contend on the pool lock for every table. Allocations smaller
 * than a page (small top tables) are served from sub-page blocks; allocations
 * of several pages (concatenated stage-2 tops) from dedicated chunks.
 */
#ifndef GPUVM_PT_POOL_H
#define GPUVM_PT_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/pt.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct pt_pool_cfg - pool configuration.
 * @page_size: table page size (the granule): 4096, 16384 or 65536.
 * @pa_base: first simulated physical address handed out; multiple of 64 KiB.
 *	0 selects 1 GiB.
 * @pa_limit: end of the simulated physical range (exclusive); 0 selects
 *	4 GiB, so that tables fit a 32-bit oas.
 * @thread_cache_pages: capacity of each thread's cache; 0 selects 64.
 * @batch_pages: pages moved between a thread cache and the pool at once; 0
 *	selects min(32, @thread_cache_pages). Must not exceed @thread_cache_pages.
 * @abort_in_signalling: debug mode: an allocation by a thread inside a
 *	fence-signalling section (pt_in_signalling(), e.g. during a commit) aborts
 *	the program with a message instead of allocating.
 */
struct pt_pool_cfg {
	size_t page_size;
	uint64_t pa_base;
	uint64_t pa_limit;
	unsigned int thread_cache_pages;
	unsigned int batch_pages;
	bool abort_in_signalling;
};

/**
 * struct pt_pool_stats - pool counters.
 * @pages_in_use: pages handed out: whole pages, pages of multi-page blocks, and
 *	pages currently carved into sub-page blocks with at least one in use.
 * @bytes_in_use: exact bytes handed out.
 * @pages_free: pages held free by the pool and by thread caches.
 * @chunks: chunks currently held from the C library.
 * @refills: batch transfers from the pool to thread caches.
 * @lock_taken: times the pool lock was taken (the per-thread fast path of a
 *	page allocation or free takes none).
 * @lock_contended: times a thread found the pool lock held and had to wait.
 */
struct pt_pool_stats {
	uint64_t pages_in_use;
	uint64_t bytes_in_use;
	uint64_t pages_free;
	uint64_t chunks;
	uint64_t refills;
	uint64_t lock_taken;
	uint64_t lock_contended;
};

struct pt_pool;

/**
 * pt_pool_ops - allocator ops for struct pt_cfg; the context is a struct pt_pool.
 * A request takes a block of max(size, align, 64) bytes rounded up to a power
 * of two, aligned to its size: sub-page blocks carved from pages, whole pages,
 * or dedicated multi-page blocks of at most 16 pages. Larger requests and an
 * alignment that is not a power of two are -EINVAL.
 *
 * Frees that break the contract hold in release builds too: each is refused
 * with a one-time warning through the OS layer and leaves the pool as it was:
 * a size and alignment no allocation can have; a block or page the pool never
 * handed out (outside its PAs, misaligned, past what a page carved, of another
 * size class, or CPU and PA that do not belong together); a double free of a
 * block, of a multi-page block, or of a page that is in the pool's free array
 * or the calling thread's cache (a page freed first into another thread's
 * cache is not found there). Freeing writes a poison word into the block or
 * page (its second or first 64 bits): a free that finds it searches the free
 * lists, on a cold path, so that a caller's data that holds the same value is
 * never refused.
 *
 * Context: alloc and alloc_bulk may allocate (chunks) and take the pool lock;
 * free never allocates and takes the lock for sub-page and multi-page blocks,
 * whole pages through the calling thread's cache without it. Any thread.
 * Return: alloc and alloc_bulk return 0, -EINVAL for a size or alignment the
 * pool does not serve, -ENOMEM; free returns nothing.
 */
extern const struct pt_alloc_ops pt_pool_ops;

/**
 * pt_pool_create() - create a pool.
 * @cfg: configuration; copied.
 * @out: the pool.
 *
 * Context: any thread; allocates the pool (chunks come on demand, from the
 * alloc op).
 * Return: 0, -EINVAL for a bad configuration, -ENOMEM.
 */
int pt_pool_create(const struct pt_pool_cfg *cfg, struct pt_pool **out);

/**
 * pt_pool_destroy() - free every chunk. Pages still in use become invalid.
 * @pool: the pool, or NULL.
 *
 * Context: no other thread may use the pool any more, nor be exiting; frees.
 * Return: nothing.
 */
void pt_pool_destroy(struct pt_pool *pool);

/**
 * pt_pool_get_stats() - read the counters.
 * @pool: the pool.
 * @st: filled.
 *
 * Context: takes the pool lock; exact when no other thread allocates meanwhile.
 * Return: nothing.
 */
void pt_pool_get_stats(struct pt_pool *pool, struct pt_pool_stats *st);

/**
 * pt_pool_pa_to_cpu() - CPU address of a simulated physical address.
 * @pool: the pool.
 * @pa: a physical address inside a chunk of the pool.
 *
 * Lets a model walker follow descriptors by physical address, as hardware does.
 * Context: any thread; takes the pool lock; no allocation.
 * Return: the CPU address, or NULL when @pa is not in any chunk.
 */
void *pt_pool_pa_to_cpu(struct pt_pool *pool, uint64_t pa);

/**
 * pt_pool_flush_thread_cache() - return the calling thread's cached pages.
 * @pool: the pool.
 *
 * Happens automatically when a thread exits; useful before reading stats.
 * Context: any thread; takes the pool lock; no allocation.
 * Return: nothing.
 */
void pt_pool_flush_thread_cache(struct pt_pool *pool);

/**
 * pt_pool_fork_prepare() / pt_pool_fork_parent() / pt_pool_fork_child() -
 * hold the pool still across fork().
 * @pool: the pool.
 *
 * For a pthread_atfork() prepare handler: takes the pool's lock, so that the
 * child's copy of the pool is consistent. Follow with pt_pool_fork_parent()
 * in the parent and pt_pool_fork_child() in the child. Pages cached by
 * threads that the child does not have stay in their caches there.
 *
 * Context: the thread that calls fork(): prepare takes the pool lock, parent
 * releases it, child starts it anew (and the thread caches' registry lock);
 * no allocation.
 * Return: nothing.
 */
void pt_pool_fork_prepare(struct pt_pool *pool);
void pt_pool_fork_parent(struct pt_pool *pool);
void pt_pool_fork_child(struct pt_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_PT_POOL_H */
