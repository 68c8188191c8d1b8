/* SPDX-License-Identifier: MIT */
/*
 * Shared harness of the pgtable tests: a page table over the default pool with
 * ops that record what the library does (allocations, frees, flushes, syncs,
 * in order), inject allocation failures, and a walker that follows
 * descriptors by physical address as the hardware does.
 */
#ifndef GPUVM_TESTS_PT_TEST_H
#define GPUVM_TESTS_PT_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/pt.h>
#include <gpuvm/pt_pool.h>

#include "extent-model.h"
#include "test-util.h"

/**
 * struct pt_test_cfg - a configuration a test runs its page tables in.
 * @name: for messages ("s1-16k-ias47").
 * @fmt: the format.
 * @granule_lg2: log2 of the granule.
 * @ias: input address bits.
 * @oas: output address bits.
 * @coherent: the walker snoops CPU caches (the page table gets no sync op).
 * @concat: the geometry must concatenate the top level (stage 2), for the
 *	tests that check it.
 *
 * @fmt to @coherent are pt_test_env_init()'s arguments.
 */
struct pt_test_cfg {
	const char *name;
	enum pt_format fmt;
	unsigned int granule_lg2, ias, oas;
	bool coherent;
	bool concat;
};

enum pt_test_ev_type {
	PT_EV_ALLOC,       /* a = pa, b = size */
	PT_EV_FREE,        /* a = pa, b = size */
	PT_EV_FLUSH_RANGE, /* a = va, b = size, leaf_only */
	PT_EV_FLUSH_ALL,
	PT_EV_SYNC, /* a = pa, b = len */
};

struct pt_test_ev {
	enum pt_test_ev_type type;
	uint64_t a, b;
	bool leaf_only;
};

/**
 * struct pt_test_env - a page table's environment under test.
 * @pool: the default allocator the recording ops forward to.
 * @cfg: configuration pt_test_create() uses; tests may edit it first.
 * @fail_at: fail the @fail_at-th allocation attempt (table or metadata,
 *	counting from 1); 0 never fails.
 * @attempts: allocation attempts so far (tables counted one by one, bulk or not).
 * @log: every event, in order, when @record is set.
 * @record: append events to @log.
 * @flush_ranges/@flush_alls/@syncs: counters (always kept).
 */
struct pt_test_env {
	struct pt_pool *pool;
	struct pt_cfg cfg;
	uint64_t fail_at;
	uint64_t attempts;
	struct pt_test_ev *log;
	size_t nr_log, cap_log;
	bool record;
	uint64_t flush_ranges, flush_alls, syncs;
};

/* Set up @env for the format; coherent walkers get no sync op. */
void pt_test_env_init(struct pt_test_env *env, enum pt_format fmt, unsigned int granule_lg2,
		      unsigned int ias, unsigned int oas, bool coherent);
void pt_test_env_fini(struct pt_test_env *env);

/* Create a page table from env->cfg; aborts the test on failure. */
struct pt *pt_test_create(struct pt_test_env *env);

/* Pages and bytes the pool has handed out (thread cache flushed first). */
uint64_t pt_test_pages_in_use(struct pt_test_env *env);
uint64_t pt_test_bytes_in_use(struct pt_test_env *env);

void pt_test_log_clear(struct pt_test_env *env);

/*
 * For a failure message: print events @from onwards of @env's log to stderr
 * ("  ev 3: FLUSH_RANGE 0x200000 +0x1000 leaf_only"), at most @max of them,
 * the SYNC events only when @syncs.
 */
void pt_test_log_print(const struct pt_test_env *env, size_t from, size_t max, bool syncs);

/**
 * pt_test_flushed() - do logged flushes cover the VAs [@lo, @hi)?
 * @env: the environment whose log is read.
 * @ev: the events to look at, as indices into @env->log (of any type); NULL
 *	for events 0 to @n - 1.
 * @n: how many events.
 * @lo: the range's first byte.
 * @hi: the byte after its last.
 * @walk: count only flushes that drop walk caches too (not leaf_only), for
 *	a range where the walker may hold pointers to tables.
 *
 * Return: true when a PT_EV_FLUSH_ALL is among the events, or their
 * PT_EV_FLUSH_RANGE ranges together cover [@lo, @hi).
 */
bool pt_test_flushed(const struct pt_test_env *env, const size_t *ev, size_t n, uint64_t lo,
		     uint64_t hi, bool walk);

/*
 * Walk @va by physical address from the root register value, decoding each
 * descriptor with pt_decode_entry() and reading tables through the pool's
 * PA-to-CPU map, as hardware would. Returns 0 and fills @pa, @prot, @level for
 * a mapped VA, -ENOENT when not mapped, -EUCLEAN when a descriptor is
 * malformed or points outside table memory.
 */
int pt_test_hw_walk(struct pt_test_env *env, const struct pt *pt, uint64_t va, uint64_t *pa,
		    uint32_t *prot, unsigned int *level);

/* Physical address of the root, from the format's register values. */
uint64_t pt_test_root_pa(const struct pt *pt);

/**
 * struct pt_test_shadow - table memory as a walker that does not snoop CPU
 * caches sees it: what the sync op cleaned, page by page (never-synced bytes
 * read as 0xff).
 * @inner/@inner_ctx: the sync op it stands in front of (NULL for none); calls
 *	are forwarded so that the harness still logs them.
 * @page_lg2: log2 of the bytes of @page's pages (the granule).
 * @page: one lazily allocated copy per page of the pool's physical range.
 * @npages: entries in @page.
 * @calls: sync calls so far; tests may reset it.
 */
struct pt_test_shadow {
	const struct pt_sync_ops *inner;
	void *inner_ctx;
	unsigned int page_lg2;
	uint8_t **page;
	size_t npages;
	uint64_t calls;
};

/*
 * Put @sh in front of @env's sync op (a coherent environment gets one too, so
 * that a call is seen); call before pt_test_create(). Fails the test on ENOMEM.
 */
void pt_test_shadow_attach(struct pt_test_shadow *sh, struct pt_test_env *env);
/* Does the walker see [@cpu, @cpu + @len) at @pa as the CPU wrote it? */
bool pt_test_shadow_matches(struct pt_test_shadow *sh, uint64_t pa, const void *cpu, size_t len);
/* Free the copies; a zeroed, never attached @sh is fine. */
void pt_test_shadow_fini(struct pt_test_shadow *sh);

/**
 * pt_test_call_op() - make the one-op call (pt_map(), pt_map_repeat(), pt_unmap()) for @op,
 * or for a PT_OP_REPLACE a reservation of it alone, committed at once; after
 * pt_test_seek().
 * @pt: the page table.
 * @op: the op; its fields as the call takes them.
 * @unmapped: pt_unmap()'s.
 *
 * Return: the call's; -EINVAL for an unknown op type.
 */
int pt_test_call_op(struct pt *pt, const struct pt_op *op, uint64_t *unmapped);

/**
 * pt_test_seek() - what a VM manager does before it reserves @op: pt_seek() at
 * @op's first page, at its last (another table when @op crosses one), at a VA
 * of another table, or nowhere, as @op's bits choose (the random tests reach
 * every reservation path after it without threading their generators here).
 * @pt: page table.
 * @op: the op about to be reserved or made.
 */
void pt_test_seek(struct pt *pt, const struct pt_op *op);

/**
 * pt_test_exact_prots() - the protections of @cand that @pt expresses exactly.
 * @pt: the page table.
 * @cand: candidates.
 * @n: entries in @cand.
 * @out: receives those kept, in @cand's order (room for @n).
 *
 * What a leaf decodes back to: the format has every bit, and on stage 1 (no
 * write-only descriptor) read is set.
 *
 * Return: how many were kept.
 */
unsigned int pt_test_exact_prots(const struct pt *pt, const uint32_t *cand, size_t n,
				 uint32_t *out);

/**
 * pt_test_model_apply() - apply @op to the extent model @m as the page table does.
 * @m: the model.
 * @op: a PT_OP_MAP, PT_OP_MAP_REPEAT, PT_OP_UNMAP or PT_OP_REPLACE with valid
 *	arguments.
 * @unmapped: NULL, or set to the bytes an unmap or a replace removed (0 for a map).
 *
 * A map over any mapped byte is refused whole, as pt_map() refuses it.
 *
 * Return: 0, or -EEXIST (and @m unchanged) for a map that overlaps an extent.
 */
int pt_test_model_apply(struct model *m, const struct pt_op *op, uint64_t *unmapped);

#endif /* GPUVM_TESTS_PT_TEST_H */
