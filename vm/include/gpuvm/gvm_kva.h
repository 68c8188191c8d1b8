/* SPDX-License-Identifier: MIT */
/*
 * gpuvm kernel VA allocator: hands out VA ranges inside a VM's kernel-reserved
 * range (struct gvm_cfg.reserved) for device-internal mappings such as ring
 * buffers and firmware interfaces. gvm_kva only manages addresses: the caller
 * maps and unmaps them through the VM.
 *
 * DOC: kernel VA layout
 *
 * The range [start, end) is cut into @pools small pools of equal size, then
 * one large pool that takes the rest (at least @large_bytes):
 *
 *     start                                                            end
 *     |                                                                  |
 *     +------------+------------+- ... -+------------+-------------------+
 *     |   pool 0   |   pool 1   |       |  pool n-1  |    large pool     |
 *     +------------+------------+- ... -+------------+-------------------+
 *      <pool_bytes> <pool_bytes>         <pool_bytes> <the rest, at least
 *                                                        large_bytes>
 *     <- requests of at most large_threshold bytes -> <- larger requests ->
 *
 * A request of at most @large_threshold bytes (after rounding up to pages) is
 * small: it goes to the pool of the calling thread, and when that one has no
 * room to the other small pools in address order after it, wrapping around.
 * A larger request goes to the large pool only. Small requests never enter the
 * large pool, so that one-page allocations cannot fragment the space the large
 * requests need; large ones never enter the small pools, which would fill them
 * (the design of Linux's lib/iommu-common.c).
 *
 * Each pool has its own lock, a bitmap of its pages and a next-fit hint (the
 * page after its last allocation): a search runs from the hint to the end of
 * the pool, then once from the start of the pool. Threads are numbered in the
 * order in which they first allocate, and thread k starts at small pool
 * k mod n: up to n threads allocating at once take n different locks. An
 * allocation never spans two pools, so the pool of an address is
 * (va - start) / pool_bytes, and the large pool for anything past the small
 * ones.
 */
#ifndef GPUVM_GVM_KVA_H
#define GPUVM_GVM_KVA_H

#include <stdint.h>

#include <gpuvm/pt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most small pools a range may have. */
#define GVM_KVA_MAX_POOLS 64
/* Most pages a range may have: the bitmaps take 2 bits a page (64 MiB here). */
#define GVM_KVA_MAX_PAGES (1ull << 28)
/* Page sizes accepted: from the 4 KiB granule to the 2 MiB block. */
#define GVM_KVA_MIN_PAGE_LG2 12
#define GVM_KVA_MAX_PAGE_LG2 21

struct gvm_kva;

/**
 * struct gvm_kva_cfg - a kernel VA range.
 * @start/@end: the range [start, end), page aligned, start < end.
 * @page_lg2: log2 of the page size, the unit of allocation (12 for 4 KiB);
 *	GVM_KVA_MIN_PAGE_LG2 to GVM_KVA_MAX_PAGE_LG2.
 * @pools: number of small pools, 1 to GVM_KVA_MAX_POOLS; 0 selects 4.
 * @large_threshold: bytes; a request above it is large. A page multiple;
 *	0 selects 64 pages. Each small pool must hold a request of this size.
 * @large_bytes: minimum size of the large pool in bytes, a page multiple;
 *	0 selects a quarter of the range (rounded down to pages). The large pool
 *	must hold a request one page above @large_threshold.
 */
struct gvm_kva_cfg {
	uint64_t start, end;
	unsigned int page_lg2;
	unsigned int pools;
	uint64_t large_threshold;
	uint64_t large_bytes;
};

/**
 * struct gvm_kva_pool_stats - counters of one pool.
 * @start/@end: the pool's VA range [start, end).
 * @allocated_pages: pages in live allocations.
 * @acquisitions: times gvm_kva_alloc() and gvm_kva_free() took the pool lock.
 * @contended: those of @acquisitions that found the lock held and waited.
 */
struct gvm_kva_pool_stats {
	uint64_t start, end;
	uint64_t allocated_pages;
	uint64_t acquisitions;
	uint64_t contended;
};

/**
 * struct gvm_kva_stats - counters of a kernel VA allocator.
 * @nr_pools: number of small pools.
 * @pool: pool[0] to pool[nr_pools - 1] are the small pools in address order,
 *	pool[nr_pools] is the large pool.
 * @total_pages: pages in the range.
 * @free_pages: pages in no allocation, over all pools.
 */
struct gvm_kva_stats {
	unsigned int nr_pools;
	struct gvm_kva_pool_stats pool[GVM_KVA_MAX_POOLS + 1];
	uint64_t total_pages;
	uint64_t free_pages;
};

/**
 * gvm_kva_create() - create a kernel VA allocator with every page free.
 * @cfg: configuration; copied, defaults applied.
 * @out: the allocator; the caller owns it and destroys it with gvm_kva_destroy().
 *
 * Context: allocates (the bitmaps: 2 bits a page).
 * Return: 0; -EINVAL for a NULL argument, a misaligned or empty range, a bad
 * @page_lg2, more than GVM_KVA_MAX_POOLS pools, a threshold or large pool size
 * that is not a page multiple, or a range too small for its pools (see
 * struct gvm_kva_cfg); -ERANGE for more than GVM_KVA_MAX_PAGES pages; -ENOMEM.
 */
int gvm_kva_create(const struct gvm_kva_cfg *cfg, struct gvm_kva **out);

/**
 * gvm_kva_destroy() - free an allocator; live allocations are forgotten.
 * @kva: the allocator, or NULL.
 *
 * Context: no other thread may use @kva any more; frees only.
 * Return: nothing.
 */
void gvm_kva_destroy(struct gvm_kva *kva);

/**
 * gvm_kva_alloc() - allocate a VA range.
 * @kva: the allocator.
 * @size: bytes, rounded up to a page multiple; not 0.
 * @align: alignment of the VA (not of its offset in the range): a power of
 *	two, at least the page size.
 * @va: set to the first byte of the range on success, untouched on failure.
 *
 * See DOC: kernel VA layout for the pools tried. A failed call changes no
 * allocation and no next-fit hint.
 *
 * Context: any thread, concurrently with other calls; takes pool locks one at
 * a time and may wait for them; does not allocate memory.
 * Return: 0; -EINVAL for a size of 0, a bad @align or a NULL @va;
 * -EOVERFLOW when rounding @size up overflows; -ENOSPC when no pool the
 * request may use has a free, aligned run of pages for it.
 */
int gvm_kva_alloc(struct gvm_kva *kva, uint64_t size, uint64_t align, uint64_t *va);

/**
 * gvm_kva_free() - free a VA range.
 * @kva: the allocator.
 * @va: what gvm_kva_alloc() returned.
 * @size: the size passed to gvm_kva_alloc() (rounded up to pages the same way).
 *
 * The range must be exactly one live allocation: a part of one, several
 * adjacent ones, or one already freed is refused and changes nothing.
 *
 * Context: any thread, concurrently with other calls; takes the lock of the
 * pool of @va. The caller has unmapped the range and flushed the GPU TLB
 * first: the VA may be handed out again before this call returns.
 * Return: 0; -EINVAL when [@va, @va + @size) is not one live allocation;
 * -EOVERFLOW when rounding @size up overflows.
 */
int gvm_kva_free(struct gvm_kva *kva, uint64_t va, uint64_t size);

/**
 * gvm_kva_stats() - read the counters.
 * @kva: the allocator.
 * @st: filled.
 *
 * Context: takes each pool lock in turn (not counted in @acquisitions): each
 * pool's counters are consistent, the totals are exact only when no other
 * thread allocates or frees meanwhile. No allocation.
 * Return: nothing.
 */
void gvm_kva_stats(struct gvm_kva *kva, struct gvm_kva_stats *st);

/**
 * gvm_kva_validate() - debug hook: check the internal invariants.
 * @kva: the allocator.
 * @print: where to describe the broken invariant, or NULL for silence.
 * @ctx: passed to @print.
 *
 * Checks in every pool that the page count matches the bitmap, that every
 * allocation start is an allocated page, that no bit is set past the pool's
 * end and that the next-fit hint is inside the pool. Property tests call it
 * after every operation.
 *
 * Context: takes each pool lock in turn.
 * Return: 0, or -EUCLEAN (and a message through @print) for a broken invariant.
 */
int gvm_kva_validate(struct gvm_kva *kva, pt_print_fn *print, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_GVM_KVA_H */
