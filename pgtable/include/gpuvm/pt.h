/* SPDX-License-Identifier: MIT */
/*
 * gpuvm page tables: ARM LPAE / VMSAv8-64 translation tables built by the CPU in
 * ordinary memory, for UMA GPUs (Mali-class) and IOMMUs that walk them.
 *
 * DOC: vocabulary
 *
 * - VA is the input address of the translation (GPU virtual address, or IPA at
 *   stage 2); PA is the output address. Ranges are half-open [start, end); an
 *   inclusive last address is called "last".
 * - Levels use the Arm ARM numbering: level 0 is the root side, level 3 is the
 *   leaf level of the smallest granule-sized pages. A configuration with fewer
 *   levels starts at a higher number (start_level = 4 - levels); stage-2
 *   concatenation starts one level further down.
 * - An "item" is a slot in a table; an "entry" is what is written in it: a
 *   table pointer, a leaf (a "block" at levels 1-2, a "page" at level 3) or
 *   invalid. A table's "span" is the VA range its items cover together.
 * - Values that are log2 carry an _lg2 suffix.
 *
 * DOC: concurrency
 *
 * One writer per page table (map, unmap, destroy are serialized by the caller).
 * pt_walk() may run concurrently with that writer: a new table is filled
 * completely before one 64-bit release store publishes it, and a table (and its
 * CPU-side metadata) that an operation unlinks is released only after the
 * flush op that makes the walker forget it has returned. A flush op that waits
 * for concurrent readers (an RCU grace period) therefore makes pt_walk() safe
 * against use-after-free, exactly as for the hardware walker.
 */
#ifndef GPUVM_PT_H
#define GPUVM_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** PT_LEAF_LEVEL - the level whose leaves are granule-sized pages. */
#define PT_LEAF_LEVEL 3
/** PT_MAX_LEVELS - number of levels of the deepest configuration (0..3). */
#define PT_MAX_LEVELS 4

/**
 * enum pt_format - descriptor and register format of a page table.
 * @PT_FMT_ARM64_S1: VMSAv8-64 stage 1 (TTBR/TCR/MAIR), 4K/16K/64K granules.
 * @PT_FMT_ARM64_S2: VMSAv8-64 stage 2 (VTTBR/VTCR), with top-level concatenation.
 * @PT_FMT_MALI_LPAE: Mali Midgard/Bifrost legacy LPAE mode: 4K only, always four
 *	levels, every leaf written as 01, RD/WR permission bits, no access flag.
 * @PT_FMT_MALI_AARCH64: Mali AArch64 mode (panthor/CSF): stage-1 descriptors,
 *	registers TRANSTAB/MEMATTR/TRANSCFG.
 */
enum pt_format {
	PT_FMT_ARM64_S1 = 1,
	PT_FMT_ARM64_S2,
	PT_FMT_MALI_LPAE,
	PT_FMT_MALI_AARCH64,
};

/*
 * Protections of a mapping (@prot arguments). READ or WRITE must be set. A
 * format rejects with -EINVAL what it cannot express (pt_format_prot_mask()):
 * stage 1 cannot express write-only, and has no separate read bit; stage 2 and
 * the Mali legacy format have no privilege bit.
 */
#define PT_PROT_READ (1u << 0)  /* readable */
#define PT_PROT_WRITE (1u << 1) /* writable */
#define PT_PROT_EXEC (1u << 2)  /* executable; clear = execute-never */
#define PT_PROT_CACHE (1u << 3) /* normal write-back; clear = normal non-cacheable */
#define PT_PROT_MMIO (1u << 4)  /* device memory; excludes PT_PROT_CACHE */
#define PT_PROT_PRIV (1u << 5)  /* privileged access only */
#define PT_PROT_ALL 0x3fu

/* Quirks (struct pt_cfg.quirks). */
/* Set NS in leaves and NSTable in table entries (stage 1 only). */
#define PT_QUIRK_ARM_NS (1u << 0)
/* Stage 2: do not concatenate where concatenation is only allowed, not required. */
#define PT_QUIRK_S2_NO_CONCAT (1u << 1)
#define PT_QUIRK_ALL 0x3u

/*
 * Debug flags (struct pt_cfg.debug). PT_DEBUG_ABORT_ALLOC_IN_COMMIT: any
 * allocation this table makes (tables or metadata) inside a fence-signalling
 * section aborts the program with a message (DOC: fence-signalling annotations).
 */
#define PT_DEBUG_ABORT_ALLOC_IN_COMMIT (1u << 0)
/*
 * PT_DEBUG_CHECK_RESERVE: pt_reserve() counts an op on an empty queue straight
 * on the tables; with this flag it also simulates the op on the projection and
 * aborts with a message if the two disagree (for property tests).
 */
#define PT_DEBUG_CHECK_RESERVE (1u << 1)
#define PT_DEBUG_ALL 0x3u

/**
 * struct pt_mem - a piece of memory the walker can read.
 * @cpu: CPU address of the first byte.
 * @pa: physical (DMA) address the walker uses for the same byte.
 */
struct pt_mem {
	void *cpu;
	uint64_t pa;
};

/**
 * struct pt_alloc_ops - where table memory comes from.
 * @alloc: mandatory. Allocate @size bytes aligned (both @cpu and @pa) to @align,
 *	a power of two that may exceed @size (a small root the walker wants
 *	page-aligned). Contents need not be zeroed. Return 0, -ENOMEM, or
 *	-EINVAL for a size or alignment the allocator does not serve.
 * @free: mandatory. Release memory returned by @alloc, with the same @size
 *	and @align.
 * @alloc_bulk: optional. Allocate @n blocks of the same @size/@align into @out
 *	in one batch; all or nothing (0 or an error as for @alloc). Defaults to
 *	calling @alloc @n times and undoing on failure.
 *
 * Context: called with the caller's locks held, never from a commit (a commit
 * only uses memory reserved beforehand).
 */
struct pt_alloc_ops {
	int (*alloc)(void *ctx, size_t size, size_t align, struct pt_mem *out);
	void (*free)(void *ctx, const struct pt_mem *mem, size_t size, size_t align);
	int (*alloc_bulk)(void *ctx, size_t size, size_t align, unsigned int n, struct pt_mem *out);
};

/**
 * struct pt_flush_ops - how the walker is told to forget cached translations.
 * @flush_range: mandatory. Translations (and, unless @leaf_only, cached table
 *	entries) for [@va, @va + @size) changed; invalidate them and return only
 *	when the walker can no longer use them. @leaf_only is true when only leaf
 *	entries changed, so walk caches that hold table entries may be kept.
 * @flush_all: mandatory. Same for the whole address space; used when an
 *	operation touched more separate ranges than a gather tracks.
 *
 * Flushes are issued once per coalesced range at the end of each operation,
 * after every descriptor write (and sync) and before any table is freed.
 */
struct pt_flush_ops {
	void (*flush_range)(void *ctx, uint64_t va, uint64_t size, bool leaf_only);
	void (*flush_all)(void *ctx);
};

/**
 * struct pt_sync_ops - cache maintenance for walkers that do not snoop CPU caches.
 * @sync: mandatory when the walker is not coherent. Clean [@cpu, @cpu + @len)
 *	(PA @pa) to the point of coherency. Called once per contiguous run of
 *	changed descriptors of one table, and for a whole new table before it is
 *	linked.
 */
struct pt_sync_ops {
	void (*sync)(void *ctx, uint64_t pa, const void *cpu, size_t len);
};

/**
 * struct pt_host_ops - CPU-side metadata memory (optional as a whole).
 * @zalloc: allocate @size zeroed bytes or return NULL.
 * @free: release them.
 * @alloc: optional: allocate @size bytes of any content or return NULL, for
 *	memory its user initializes anyway (gvm's VA slabs: each VA is cleared
 *	when it is handed out); without it @zalloc serves.
 *
 * Defaults to calloc()/free()/malloc(). Metadata is allocated with the table it
 * describes, so reservation covers it too. Tests use this hook to make every
 * allocation site fail once.
 */
struct pt_host_ops {
	void *(*zalloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr);
	void *(*alloc)(void *ctx, size_t size);
};

/* calloc(), free() and malloc(): the default when a configuration names no host ops. */
extern const struct pt_host_ops pt_host_malloc_ops;

/**
 * struct pt_cfg - configuration of a page table.
 * @fmt: descriptor and register format.
 * @granule_lg2: 12 (4K), 14 (16K) or 16 (64K).
 * @ias: input address bits, 25..48.
 * @oas: output address bits: 32, 36, 40, 42, 44 or 48 (Mali legacy: <= 40).
 * @coherent_walk: the walker snoops CPU caches; otherwise @sync is mandatory.
 * @quirks: PT_QUIRK_* bits.
 * @leaf_sizes: optional bitmap of allowed leaf sizes (bit n = 2^n bytes); 0 =
 *	every size the format allows. Must contain the granule and, with a block
 *	size, every smaller leaf size of the format.
 * @alloc/@alloc_ctx: table memory (mandatory).
 * @flush/@flush_ctx: TLB maintenance (mandatory).
 * @sync/@sync_ctx: cache maintenance (mandatory unless @coherent_walk).
 * @host/@host_ctx: metadata memory (optional).
 * @debug: PT_DEBUG_* bits.
 */
struct pt_cfg {
	enum pt_format fmt;
	unsigned int granule_lg2;
	unsigned int ias;
	unsigned int oas;
	bool coherent_walk;
	uint32_t quirks;
	uint64_t leaf_sizes;
	const struct pt_alloc_ops *alloc;
	void *alloc_ctx;
	const struct pt_flush_ops *flush;
	void *flush_ctx;
	const struct pt_sync_ops *sync;
	void *sync_ctx;
	const struct pt_host_ops *host;
	void *host_ctx;
	uint32_t debug;
};

/**
 * struct pt_geometry - shape of the tables a configuration produces.
 * @granule_lg2: log2 of the granule.
 * @bits_per_level: index bits of a granule-sized table (granule_lg2 - 3).
 * @levels: number of levels walked.
 * @start_level: level of the top table (after concatenation).
 * @top_index_bits: index bits resolved by the top table.
 * @top_entries: items in the top table.
 * @top_concat: number of granule-sized tables concatenated in the top (stage 2),
 *	1 when not concatenated (the top may then be smaller than a granule).
 * @top_bytes: size of the top table, exactly top_entries * 8.
 * @top_align: alignment of the top table's physical address.
 * @leaf_sizes: bitmap of the leaf sizes the table uses.
 * @level_shift: log2 of the span of one item at each level (index by level).
 */
struct pt_geometry {
	unsigned int granule_lg2;
	unsigned int bits_per_level;
	unsigned int levels;
	unsigned int start_level;
	unsigned int top_index_bits;
	uint64_t top_entries;
	unsigned int top_concat;
	size_t top_bytes;
	size_t top_align;
	uint64_t leaf_sizes;
	unsigned int level_shift[PT_MAX_LEVELS];
};

/**
 * struct pt_hw_regs - register values that point a walker at this table.
 * @fmt: which member of the union is valid.
 * @s1: TTBR0 (root PA), TCR (TTBR0 fields, EPD1 set), MAIR.
 * @s2: VTTBR (root PA), VTCR (T0SZ, SL0, IRGN0, ORGN0, SH0, TG0, PS).
 * @mali: TRANSTAB, MEMATTR, TRANSCFG (legacy LPAE: TRANSCFG is 0, the mode is
 *	in TRANSTAB's low bits).
 */
struct pt_hw_regs {
	enum pt_format fmt;
	union {
		struct {
			uint64_t ttbr, tcr, mair;
		} s1;
		struct {
			uint64_t vttbr, vtcr;
		} s2;
		struct {
			uint64_t transtab, memattr, transcfg;
		} mali;
	};
};

/**
 * enum pt_entry_type - what an entry holds.
 * @PT_ENTRY_INVALID: nothing; the walker faults.
 * @PT_ENTRY_TABLE: pointer to the next level's table.
 * @PT_ENTRY_LEAF: a block (levels 1-2) or page (level 3).
 */
enum pt_entry_type {
	PT_ENTRY_INVALID = 0,
	PT_ENTRY_TABLE,
	PT_ENTRY_LEAF,
};

/**
 * struct pt_entry - a decoded descriptor.
 * @type: see enum pt_entry_type.
 * @addr: table PA or output address of the leaf.
 * @prot: PT_PROT_* of a leaf (0 otherwise).
 */
struct pt_entry {
	enum pt_entry_type type;
	uint64_t addr;
	uint32_t prot;
};

/**
 * struct pt_walk_result - what a walk of one VA found.
 * @pa: output address of the VA (valid when the walk returned 0).
 * @prot: PT_PROT_* of the leaf.
 * @level: level of the leaf, or of the invalid entry that ended the walk.
 * @leaf_size: bytes mapped by the leaf.
 * @desc: the leaf descriptor (or the invalid one) as stored.
 */
struct pt_walk_result {
	uint64_t pa;
	uint32_t prot;
	unsigned int level;
	uint64_t leaf_size;
	uint64_t desc;
};

/**
 * struct pt_stats - table memory owned by one page table.
 * @tables: tables owned: linked (including the top table), held for an
 *	operation in progress, or unlinked and waiting for their flush.
 * @table_bytes: bytes of table memory owned.
 * @tables_by_level: tables per level.
 * @meta_bytes: CPU-side memory pgtable holds beside the tables, as asked of the
 *	host ops: each table's record and child links, and the scratch memory
 *	reservations simulate ops in. Allocator overheads are not included.
 */
struct pt_stats {
	uint64_t tables;
	uint64_t table_bytes;
	uint64_t tables_by_level[PT_MAX_LEVELS];
	uint64_t meta_bytes;
};

struct pt;

/**
 * pt_geometry() - compute the geometry of a configuration without creating it.
 * @cfg: the configuration (ops are not inspected).
 * @geo: filled on success.
 *
 * Context: any thread; pure: no allocation, no lock, no op called.
 * Return: 0, or -EINVAL for an unsupported format/granule/ias/oas/leaf_sizes.
 */
int pt_geometry(const struct pt_cfg *cfg, struct pt_geometry *geo);

/**
 * pt_create() - create an empty page table.
 * @cfg: configuration; copied.
 * @out: the new table on success.
 *
 * Allocates the top table (exactly its size, aligned as the walker needs).
 * Context: outside fence-signalling sections; allocates through the alloc and
 * host ops; calls the sync op for the new top table (non-coherent walkers).
 * Return: 0; -EINVAL for an unsupported configuration or a missing mandatory
 * op; the alloc op's errno as it returned it (-EINVAL for a size it does not
 * serve, -ENOMEM); -ENOMEM when the host ops return NULL.
 */
int pt_create(const struct pt_cfg *cfg, struct pt **out);

/**
 * pt_destroy() - unmap everything, flush all, free every table.
 * @pt: page table, or NULL.
 *
 * Reservations should be released first. With some alive (a contract broken:
 * a one-time warning), a commit in progress is completed (pt_commit_end()),
 * the outstanding ones are given up newest first and the committed ones
 * released; the callers' struct pt_resv must not be used afterwards.
 *
 * Context: one writer at a time, outside fence-signalling sections; never
 * allocates, cannot fail; calls the flush ops (all) before it frees tables
 * through the alloc and host ops.
 * Return: nothing.
 */
void pt_destroy(struct pt *pt);

/**
 * pt_map() - map [@va, @va + @size) to [@pa, @pa + @size).
 * @pt: page table.
 * @va: input address, granule aligned.
 * @pa: output address, granule aligned.
 * @size: bytes, granule aligned, non-zero.
 * @prot: PT_PROT_* bits.
 *
 * Uses the largest leaf each aligned chunk allows. Tables are counted first
 * and allocated in one batch, so a failure changes nothing. Issues one
 * leaf-only flush of the range (walkers such as Mali's may cache faults).
 *
 * Context: one writer at a time, outside fence-signalling sections (a one-op
 * reservation and commit); may allocate through the alloc and host ops; calls
 * the sync ops for new tables and written descriptors, then the flush op.
 * Return: 0; -EINVAL for misalignment, size 0 or bad @prot; -ERANGE when the
 * range overflows or leaves the input or output address space; -EEXIST when any
 * item in the range is live; -EBUSY while reservations are outstanding; the
 * alloc op's errno as it returned it; -ENOMEM.
 */
int pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot);

/**
 * pt_unmap() - unmap whatever is mapped in [@va, @va + @size).
 * @pt: page table.
 * @va: granule aligned.
 * @size: granule aligned, non-zero.
 * @unmapped: optional; bytes that were mapped in the range.
 *
 * A block that the range cuts is split in place into a table that keeps the
 * rest mapped (with the same attributes); tables that become empty are
 * unlinked, flushed, then freed.
 *
 * Context: one writer at a time, outside fence-signalling sections (a one-op
 * reservation and commit); may allocate (split tables only); calls the sync
 * ops for the descriptors it writes, the flush ops once per coalesced range,
 * then frees unlinked tables.
 * Return: 0; -EINVAL for misalignment or size 0; -ERANGE outside the input
 * address space; -EBUSY while reservations are outstanding; the alloc op's
 * errno as it returned it, or -ENOMEM, when a split table cannot be allocated
 * (nothing changed).
 */
int pt_unmap(struct pt *pt, uint64_t va, uint64_t size, uint64_t *unmapped);

/**
 * struct pt_pattern - physical pages repeated over a VA range.
 * @pa: first byte of the pattern, granule aligned.
 * @period: pattern length in bytes, a non-zero multiple of the granule:
 *	VA va + i maps @pa + (i mod @period).
 */
struct pt_pattern {
	uint64_t pa;
	uint64_t period;
};

/**
 * pt_map_repeat() - map [@va, @va + @size) to a repeated physical pattern.
 * @pt: page table.
 * @va: input address, granule aligned.
 * @size: bytes, a non-zero multiple of the granule.
 * @pattern: the physical pages repeated; [pa, pa + period) must fit in oas.
 * @prot: PT_PROT_* bits.
 *
 * Where the period divides the span of a table's items (one dummy page: every
 * level), each distinct table is built once and every parent item points at
 * the shared copy: 1 TiB of one dummy page takes one leaf table, one table per
 * level above it, and the tables at the unaligned ends. Shared tables are
 * never written while shared: a later change under one of their aliases
 * copies the path first.
 *
 * Context: as pt_map().
 * Return: as pt_map(); -EINVAL also for a bad period.
 */
int pt_map_repeat(struct pt *pt, uint64_t va, uint64_t size, const struct pt_pattern *pattern,
		  uint32_t prot);

/*
 * DOC: reservation and commit
 *
 * Drivers apply page-table changes where they may neither allocate nor fail
 * (the fence-signalling path), so a change runs in three steps:
 *
 * prepare  pt_resv_init(), then pt_reserve() for each op of an array, in order.
 *          Each call checks the op against the state that every op reserved
 *          before it will leave (in this reservation and in every earlier
 *          outstanding one), computes exactly how many tables the op will
 *          consume (new tables, split blocks, copies of shared tables), takes
 *          them from the allocator in one batch, and pins the existing tables
 *          on the op's paths. A failure leaves the table, the reservation and
 *          the allocator as they were.
 * commit   pt_commit_begin(), pt_commit() for each reserved op in the same
 *          order, pt_commit_end(). Nothing is allocated and nothing can fail.
 *          A pinned table that empties stays linked until its pins drop;
 *          pt_commit_end() drops this reservation's pins, unlinks what they
 *          kept, and issues the gathered flushes once per coalesced range.
 * cleanup  pt_unreserve() returns the tables not used, and frees the tables
 *          the commit unlinked (flushed by pt_commit_end() already).
 *
 * Reservations queue: a reservation may be prepared while earlier ones are
 * outstanding and sees their projected result; they commit in the order they
 * were reserved. Only the newest outstanding reservation may be given up
 * without committing (pt_unreserve() straight after a failed prepare).
 * pt_map(), pt_unmap() and pt_map_repeat() are a one-op reservation and
 * commit; they return -EBUSY while other reservations are outstanding.
 *
 * Where the driver's ops run: the alloc (and host) ops in pt_reserve() only,
 * outside the fence-signalling section; the sync ops inside the commit, in
 * pt_commit() for each run of written descriptors and in pt_commit_end() for
 * tables it unlinks; the flush ops inside the commit, in pt_commit_end(), once
 * per coalesced range; the free ops in pt_unreserve(), after the flush. Giving
 * up a reservation (pt_unreserve() before its commit) may unlink tables its
 * pins kept: then pt_unreserve() calls the sync and flush ops too.
 *
 * Order is a contract that holds in release builds: a commit that is not the
 * oldest, an op that is not the next reserved, an unreserve of an older
 * outstanding reservation or of one being committed is refused with -EINVAL
 * (-EBUSY mid-commit) and a one-time warning, and changes nothing.
 */

/**
 * enum pt_op_type - what a struct pt_op does.
 * @PT_OP_MAP: map [va, va + size) to [pa, pa + size).
 * @PT_OP_UNMAP: unmap [va, va + size), splitting blocks it cuts.
 * @PT_OP_MAP_REPEAT: map [va, va + size) to the pattern (pa, period).
 * @PT_OP_REPLACE: map [va, va + size) to [pa, pa + size) replacing whatever is
 *	mapped there: by definition exactly a @PT_OP_UNMAP of the range followed
 *	by a @PT_OP_MAP of it, in one op and one invalidation (what a driver gets
 *	for a VM_BIND map over existing mappings). Its arguments are checked like
 *	a map's; it never fails with -EEXIST. It reserves and consumes what the
 *	two ops would, and its commit's @unmapped is the unmap's.
 */
enum pt_op_type {
	PT_OP_MAP = 1,
	PT_OP_UNMAP,
	PT_OP_MAP_REPEAT,
	PT_OP_REPLACE,
};

/**
 * struct pt_op - one change of a page table.
 * @type: see enum pt_op_type.
 * @va: input address.
 * @size: bytes.
 * @pa: output address (MAP, REPLACE), start of the pattern (MAP_REPEAT).
 * @period: MAP_REPEAT only: pattern length; 0 otherwise.
 * @prot: PT_PROT_* (maps and REPLACE only).
 */
struct pt_op {
	enum pt_op_type type;
	uint64_t va;
	uint64_t size;
	uint64_t pa;
	uint64_t period;
	uint32_t prot;
};

/**
 * struct pt_resv - tables taken ahead of a commit. Caller-owned; pt_resv_init().
 * @reserved: tables taken from the allocator by pt_reserve() (read-only).
 * @consumed: tables the commits used so far (read-only).
 * @priv: private to pgtable.
 */
struct pt_resv {
	uint64_t reserved;
	uint64_t consumed;
	void *priv;
};

/**
 * pt_resv_init() - make @resv an empty reservation.
 * @resv: the reservation.
 *
 * Context: any thread; writes @resv only; no allocation.
 * Return: nothing.
 */
void pt_resv_init(struct pt_resv *resv);

/**
 * pt_reserve() - check one op and take what its commit will need.
 * @pt: page table.
 * @op: the op; copied.
 * @resv: the reservation it is added to.
 *
 * Context: one writer at a time, outside fence-signalling sections; may
 * allocate (tables through the alloc ops, bookkeeping through the host ops);
 * changes no descriptor and calls no sync or flush op.
 * Return: 0; the errors of pt_map(), pt_unmap() or pt_map_repeat() for @op
 * (-EEXIST against the projected state), those of pt_map() but -EEXIST for a
 * REPLACE; -EINVAL for an unknown op type;
 * -EBUSY when @resv already committed, is not the newest outstanding
 * reservation (both with a one-time warning), or another one is being
 * committed; the alloc op's errno as it
 * returned it; -ENOMEM.
 */
int pt_reserve(struct pt *pt, const struct pt_op *op, struct pt_resv *resv);

/**
 * pt_commit_begin() - enter the commit of @resv.
 * @pt: page table.
 * @resv: the oldest outstanding reservation (or an empty one).
 *
 * Marks the calling thread as being in a fence-signalling section
 * (pt_signalling_begin()) until pt_commit_end().
 *
 * Context: one writer at a time; never allocates, never sleeps; starts a
 * fence-signalling section. Calls no op.
 * Return: 0; -EINVAL, with a one-time warning, when @resv is not the oldest
 * outstanding reservation or its commit has begun already (a contract broken:
 * nothing changed, no section entered).
 */
int pt_commit_begin(struct pt *pt, struct pt_resv *resv);

/**
 * pt_commit() - apply the next reserved op.
 * @pt: page table.
 * @resv: the reservation being committed.
 * @op: the op, equal to the next one reserved.
 * @unmapped: optional; bytes that were mapped in an UNMAP's or a REPLACE's
 *	range.
 *
 * Context: inside the fence-signalling section of pt_commit_begin(); never
 * allocates, never sleeps; calls the sync op (non-coherent walkers) for the
 * descriptors it writes; flushes wait for pt_commit_end().
 * Return: 0; -EINVAL, with a one-time warning, when @resv's commit has not
 * begun or has no op left, or @op differs from the next op reserved (a
 * contract broken: nothing changed).
 */
int pt_commit(struct pt *pt, struct pt_resv *resv, const struct pt_op *op, uint64_t *unmapped);

/**
 * pt_commit_end() - finish the commit: unpin, flush.
 * @pt: page table.
 * @resv: the reservation being committed.
 *
 * Context: inside the fence-signalling section, which it ends; never
 * allocates, never sleeps unless the flush ops do; calls the sync ops (tables
 * unlinked) and the flush ops, once per coalesced range.
 * Return: 0; -EINVAL, with a one-time warning, when @resv's commit has not
 * begun (nothing changed, the section not ended), or when ops of @resv were
 * not committed: those are applied here as reserved, and the commit ends.
 */
int pt_commit_end(struct pt *pt, struct pt_resv *resv);

/**
 * pt_unreserve() - return what @resv did not use and release it.
 * @pt: page table.
 * @resv: a committed reservation, or the newest outstanding one.
 *
 * Frees the tables its commit unlinked, returns unused tables to the
 * allocator, and leaves @resv empty (ready for pt_resv_init()-like reuse).
 *
 * Context: one writer at a time; outside fence-signalling sections: frees
 * through the alloc and host ops; giving up an outstanding reservation calls
 * the sync and flush ops (tables left empty by a queue of reservations are
 * unlinked when the last pin drops). Never allocates.
 * Return: 0; -EBUSY, with a one-time warning, when @resv is being committed;
 * -EINVAL, with a one-time warning, when @resv is outstanding and not the
 * newest. Either way nothing changed.
 */
int pt_unreserve(struct pt *pt, struct pt_resv *resv);

/*
 * DOC: fence-signalling annotations
 *
 * The userspace counterpart of the kernel's dma_fence_begin_signalling(): a
 * thread between pt_signalling_begin() and pt_signalling_end() must not
 * allocate. pt_commit_begin()/pt_commit_end() set it; allocators that check it
 * (pt_pool with abort_in_signalling, and pgtable's own metadata allocations
 * when the table has PT_DEBUG_ABORT_ALLOC_IN_COMMIT) abort the program with a
 * message naming the allocation. Sections nest.
 */

/**
 * pt_signalling_begin() / pt_signalling_end() - enter and leave a
 * fence-signalling section of the calling thread.
 *
 * Context: any thread; never allocate, never sleep. Userspace keeps the depth
 * per thread in the OS layer; in the kernel they do nothing (lockdep's
 * dma_fence_begin_signalling() is the kernel's check).
 * Return: nothing.
 */
void pt_signalling_begin(void);
void pt_signalling_end(void);

/**
 * pt_in_signalling() - is the calling thread inside a fence-signalling
 * section?
 *
 * Context: any thread; for allocators that refuse to allocate inside one.
 * Return: true inside a section (always false in the kernel).
 */
bool pt_in_signalling(void);

/**
 * pt_walk() - translate one VA as the walker would.
 * @pt: page table.
 * @va: any address.
 * @res: filled (level and desc also when not mapped).
 *
 * Context: lock-free, safe against one concurrent writer (see DOC: concurrency).
 * Return: 0 when mapped; -ENOENT when not mapped; -ERANGE outside the input
 * address space.
 */
int pt_walk(const struct pt *pt, uint64_t va, struct pt_walk_result *res);

/**
 * pt_prefetch() - start loading what a change at @va will touch.
 * @pt: page table.
 * @va: any address.
 *
 * A hint, with no effect on the table: it follows the existing tables towards
 * @va and asks the CPU for the deepest one's metadata and descriptor without
 * waiting for them, so that a caller can overlap those cache misses with its
 * own (a VA manager looking up @va) before it reserves or maps.
 *
 * Context: lock-free, like pt_walk(); never allocates.
 * Return: nothing.
 */
void pt_prefetch(const struct pt *pt, uint64_t va);

/**
 * pt_seek() - pt_prefetch() for the writer, remembering the way down.
 * @pt: page table.
 * @va: any address.
 *
 * Starts loading what pt_prefetch() does, and also goes down, as a change at
 * @va would, to the table that holds @va's item and remembers it: the next
 * reservation (or map, unmap) of an op there starts at that table instead
 * of going down from the root again. A writer that knows where its next
 * change will be (a VA manager about to look up @va) calls this instead of
 * pt_prefetch(). No effect on the tables, the reservations or what any call
 * returns: only on the instructions the next one takes.
 *
 * Context: the writer's, serialized with pt_reserve() and the commit calls
 * (not lock-free: it updates the table's cache of the last descent); never
 * allocates.
 * Return: nothing.
 */
void pt_seek(struct pt *pt, uint64_t va);

/**
 * pt_get_geometry() - geometry of an existing table.
 * @pt: page table.
 * @geo: filled.
 *
 * Context: any thread, concurrently with the writer (the geometry is fixed
 * at creation); no allocation.
 * Return: nothing.
 */
void pt_get_geometry(const struct pt *pt, struct pt_geometry *geo);

/**
 * pt_get_regs() - register values for this table's format.
 * @pt: page table.
 * @regs: filled.
 *
 * Context: any thread, concurrently with the writer (the root never moves);
 * no allocation.
 * Return: nothing.
 */
void pt_get_regs(const struct pt *pt, struct pt_hw_regs *regs);

/**
 * pt_get_stats() - table memory linked into this table.
 * @pt: page table.
 * @st: filled.
 *
 * Context: serialized with the writer (a copy of its counters); no
 * allocation.
 * Return: nothing.
 */
void pt_get_stats(const struct pt *pt, struct pt_stats *st);

/**
 * pt_format_prot_mask() - protections the table's format can express.
 * @pt: page table.
 *
 * Context: any thread; pure.
 * Return: PT_PROT_* bits; a mapping may use any combination of them that has
 * READ or WRITE, except CACHE with MMIO (and, at stage 1, WRITE without READ).
 */
uint32_t pt_format_prot_mask(const struct pt *pt);

/**
 * pt_encode_entry() - encode a descriptor as this table would write it.
 * @pt: page table.
 * @level: level of the item.
 * @e: entry to encode.
 * @desc: the descriptor.
 *
 * Context: any thread; pure: reads the table's format, not its tables.
 * Return: 0; -EINVAL if the entry is not valid at @level (a table at the leaf
 * level, a block where the format has none, a misaligned address, bad prot).
 */
int pt_encode_entry(const struct pt *pt, unsigned int level, const struct pt_entry *e,
		    uint64_t *desc);

/**
 * pt_decode_entry() - decode a descriptor of this table's format.
 * @pt: page table.
 * @level: level of the item.
 * @desc: the descriptor.
 * @e: filled.
 *
 * Context: any thread; pure: reads the table's format, not its tables.
 * Return: 0; -EINVAL for a descriptor that is malformed at @level (bad type
 * bits, reserved bits set, address outside oas or misaligned).
 */
int pt_decode_entry(const struct pt *pt, unsigned int level, uint64_t desc, struct pt_entry *e);

/**
 * typedef pt_print_fn - where a debug report goes (pt_validate(), pt_dump(),
 * gvm_validate(), gvm_kva_validate()).
 * @ctx: the caller's context, passed through.
 * @fmt: printf format of a piece of text; lines end with "\n".
 *
 * The core formats nothing itself: in userspace gpuvm_print_file()
 * (<gpuvm/print_file.h>) prints to a FILE, in the kernel a wrapper of vprintk()
 * does.
 */
typedef void pt_print_fn(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * pt_validate() - check every invariant of the tree.
 * @pt: page table.
 * @print: where to describe the first problem found, or NULL for silence.
 * @ctx: passed to @print.
 *
 * Checks well-formed descriptors, metadata matching descriptors, live-entry
 * counts, table sizes and alignment, reference counts (a table reachable from
 * more than one item only when shared on purpose), and the stats counters.
 * Context: may allocate; not concurrently with a writer.
 * Return: 0, -EUCLEAN on a broken invariant, -ENOMEM.
 */
int pt_validate(const struct pt *pt, pt_print_fn *print, void *ctx);

/**
 * pt_dump() - print the tree, one line per run of similar entries.
 * @pt: page table.
 * @print: receives the text.
 * @ctx: passed to @print.
 *
 * Context: may allocate (without memory, shared tables print under every
 * alias); not concurrently with a writer; calls @print only.
 * Return: nothing.
 */
void pt_dump(const struct pt *pt, pt_print_fn *print, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_PT_H */
