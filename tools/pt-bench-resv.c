// SPDX-License-Identifier: MIT
/*
 * pt-bench figures for sparse binding and reservations.
 *
 * Sparse: one dummy page over a huge range, mapped with shared tables in one
 * call, against the same range built page by page without sharing (what a
 * driver looping map_pages over a dummy page does).
 *
 * Reservations: a random mix of bind arrays (remap, unmap, sparse) reserved
 * with pt_reserve() and committed; the pages reserved, the pages the commits
 * used, and what panthor's worst-case formula would have reserved for the same
 * ops: one table per 512 GiB, 1 GiB and 2 MiB region each op's range touches.
 */
#include <errno.h>

#include "pt-bench.h"

#define SPARSE_VA (1ull << 40)
#define DUMMY_PA (1ull << 32)
#define MIXED_VA (1ull << 36)
#define MIXED_WINDOW (64ull << 30)

static uint64_t table_bytes(const struct pt *pt)
{
	struct pt_stats st;

	pt_get_stats(pt, &st);
	return st.table_bytes;
}

/*
 * Map @size of the dummy page with sharing; return ms, the table bytes it
 * added and the metadata the table holds after it.
 */
static double sparse_once(struct bench_env *env, uint64_t size, uint64_t *bytes, uint64_t *meta)
{
	struct pt_pattern dummy = { .pa = DUMMY_PA, .period = BENCH_GRANULE };
	struct pt *pt = bench_create_pt(env);
	uint64_t before = table_bytes(pt);
	double t0 = bench_now_ns();
	int err = pt_map_repeat(pt, SPARSE_VA, size, &dummy, PT_PROT_READ);
	double t1 = bench_now_ns();
	struct pt_stats st;

	if (err)
		bench_die("pt_map_repeat", err);
	pt_get_stats(pt, &st);
	*bytes = st.table_bytes - before;
	*meta = st.meta_bytes;
	pt_destroy(pt);
	return (t1 - t0) / 1e6;
}

static double sparse_median(struct bench_env *env, uint64_t size, unsigned int reps,
			    uint64_t *bytes, uint64_t *meta)
{
	double ms[BENCH_MAX_REPS];

	for (unsigned int i = 0; i < reps; i++)
		ms[i] = sparse_once(env, size, bytes, meta);
	return bench_median(ms, reps);
}

/* The same range, one pt_map() of the dummy page per page: no sharing. */
static double unshared_once(struct bench_env *env, uint64_t size, uint64_t *bytes)
{
	struct pt *pt = bench_create_pt(env);
	uint64_t before = table_bytes(pt);
	double t0 = bench_now_ns();

	for (uint64_t off = 0; off < size; off += BENCH_GRANULE) {
		int err = pt_map(pt, SPARSE_VA + off, DUMMY_PA, BENCH_GRANULE, PT_PROT_READ);

		if (err)
			bench_die("pt_map", err);
	}
	*bytes = table_bytes(pt) - before;
	t0 = bench_now_ns() - t0;
	pt_destroy(pt);
	return t0 / 1e6;
}

void bench_sparse(struct bench_env *env, uint64_t size, uint64_t big_size, unsigned int reps,
		  struct sparse_result *r)
{
	uint64_t meta;

	r->sparse_ms =
		sparse_median(env, size, reps, &r->sparse_table_bytes, &r->sparse_meta_bytes);
	r->sparse_big_ms = sparse_median(env, big_size, reps, &r->sparse_big_table_bytes, &meta);
	r->unshared_ms = unshared_once(env, size, &r->unshared_table_bytes);
}

/* Regions of 2^@shift bytes that [@va, @end) touches. */
static uint64_t regions(uint64_t va, uint64_t end, unsigned int shift)
{
	return ((end + (1ull << shift) - 1) >> shift) - (va >> shift);
}

/* Worst case for an unmap end at @x: splitting a 1G block, then a 2M block. */
static uint64_t split_pages(uint64_t x)
{
	return ((x & ((1ull << 30) - 1)) != 0) + ((x & ((1ull << 21) - 1)) != 0);
}

/*
 * Panthor's pre-allocation for one op, whatever the tree holds: for a map, one
 * table per 512 GiB, 1 GiB and 2 MiB region the range touches; for an unmap
 * (with partial unmaps of huge pages), the splits its two ends may need.
 */
static uint64_t panthor_pages(const struct pt_op *op)
{
	uint64_t end = op->va + op->size;

	if (op->type == PT_OP_UNMAP)
		return split_pages(op->va) + split_pages(end);
	return regions(op->va, end, 39) + regions(op->va, end, 30) + regions(op->va, end, 21);
}

/* A range in the window: 4K to 8M, 4K or 2M aligned, sometimes across a 1G boundary. */
static void random_range(uint64_t *seed, uint64_t *va, uint64_t *size)
{
	uint64_t r = bench_xorshift(seed);
	uint64_t align = r & 1 ? 2ull << 20 : BENCH_GRANULE;

	*size = (bench_below(bench_xorshift(seed), 2048) + 1) * BENCH_GRANULE;
	*va = MIXED_VA + bench_below(bench_xorshift(seed), MIXED_WINDOW - (8ull << 20));
	*va &= ~(align - 1);
}

/*
 * One bind array, as a VA manager emits them: unmap a range, then (mostly)
 * map it again, to real pages or to the dummy page.
 */
static unsigned int random_array(uint64_t *seed, struct pt_op ops[2])
{
	uint64_t va, size, kind = bench_below(bench_xorshift(seed), 10);

	random_range(seed, &va, &size);
	ops[0] = (struct pt_op){ .type = PT_OP_UNMAP, .va = va, .size = size };
	if (kind < 2)
		return 1;
	ops[1] = (struct pt_op){ .type = PT_OP_MAP,
				 .va = va,
				 .size = size,
				 .prot = PT_PROT_READ,
				 .pa = (va - MIXED_VA) % (1ull << 38) + (1ull << 38) };
	if (kind >= 8) {
		ops[1].type = PT_OP_MAP_REPEAT;
		ops[1].pa = DUMMY_PA;
		ops[1].period = BENCH_GRANULE;
	}
	return 2;
}

static void run_array(struct pt *pt, const struct pt_op *ops, unsigned int n, struct resv_result *r)
{
	struct pt_resv resv;

	pt_resv_init(&resv);
	for (unsigned int i = 0; i < n; i++) {
		int err = pt_reserve(pt, &ops[i], &resv);

		if (err)
			bench_die("pt_reserve", err);
		r->panthor += panthor_pages(&ops[i]);
	}
	pt_commit_begin(pt, &resv);
	for (unsigned int i = 0; i < n; i++)
		pt_commit(pt, &resv, &ops[i], NULL);
	pt_commit_end(pt, &resv);
	r->reserved += resv.reserved;
	r->consumed += resv.consumed;
	r->ops += n;
	r->arrays++;
	pt_unreserve(pt, &resv);
}

void bench_resv(struct bench_env *env, uint64_t arrays, struct resv_result *r)
{
	struct pt *pt = bench_create_pt(env);
	uint64_t seed = 0x243f6a8885a308d3ull;
	struct pt_op ops[2];

	for (uint64_t i = 0; i < arrays; i++)
		run_array(pt, ops, random_array(&seed, ops), r);
	pt_destroy(pt);
}
