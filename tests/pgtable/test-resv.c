// SPDX-License-Identifier: MIT
/*
 * Reservations (pt.h "DOC: reservation and commit"): exact counts, queues,
 * misuse, allocation failures, pins, flushes, and the debug allocator mode.
 *
 * - random: random states (pt_map, pt_unmap, pt_map_repeat with blocks, dummy
 *   pages, small patterns, partial unmaps of repeat regions), then random
 *   arrays of 1-8 ops reserved op by op. A map that overlaps the projected
 *   state must get -EEXIST and change nothing; the array goes on. Every commit
 *   must consume exactly what was reserved (resv.consumed == resv.reserved),
 *   never allocate (the harness aborts on that), unmap what the model says,
 *   and leave translations (pt_walk() and the walker by PA) equal to a
 *   reference model that knows repeated patterns; pt_validate() after every
 *   array. Some rounds queue two or three reservations, or give the newest up.
 * - queue-*: table-driven queues: a reservation sees the projected result of
 *   the earlier ones; commits in order; giving up the newest restores.
 * - misuse-*: -EBUSY and bad arguments change nothing.
 * - sweep: every allocation attempt of a pt_reserve() fails once, with ops
 *   reserved before it (and another reservation queued).
 * - pins-*, flushes: emptied tables are reused by the same array, pruned at
 *   pt_commit_end(), freed at pt_unreserve() after the flush; one flush per
 *   coalesced range.
 * - debug-alloc-abort: allocation inside a fence-signalling section aborts
 *   (in forked children).
 *
 * Usage: test-resv [--seed N] [--count N]; --count is the number of random
 * rounds per configuration. A random failure prints the arguments that replay
 * it (the seed, and the count that stops right after the failing round).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <gpuvm/print_file.h>

#include "pt-test.h"

#define DEFAULT_SEED 0x72657376ull
#define DEFAULT_COUNT 300u
/* Coverage is asserted only for runs at least this long. */
#define COVERAGE_MIN_COUNT 200u
#define MAX_OPS 8u
#define MAX_PROTS 12u
#define MAX_PROBES 64u
#define RANDOM_SAMPLES 8u
/* No pt_reserve() here makes this many allocation attempts. */
#define MAX_SWEEP 200u
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Command line; cmocka owns main()'s flow, so the test cases read these. */
static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;

static const struct pt_test_cfg cfg_cases[] = {
	{ "mali-aarch64-4k-ias48", PT_FMT_MALI_AARCH64, 12, 48, 48, true, false },
	{ "s1-16k-ias47", PT_FMT_ARM64_S1, 14, 47, 48, true, false },
	{ "s1-64k-ias48-noncoherent", PT_FMT_ARM64_S1, 16, 48, 48, false, false },
	{ "s2-4k-ias40-concat", PT_FMT_ARM64_S2, 12, 40, 40, true, true },
};

#define NR_CFGS ARRAY_SIZE(cfg_cases)

static uint64_t align_down(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static struct pt_op op_map(uint64_t va, uint64_t size, uint64_t pa)
{
	return (struct pt_op){ .type = PT_OP_MAP, .va = va, .size = size, .pa = pa, .prot = RW };
}

static struct pt_op op_repeat(uint64_t va, uint64_t size, uint64_t pa, uint64_t period)
{
	return (struct pt_op){ .type = PT_OP_MAP_REPEAT,
			       .va = va,
			       .size = size,
			       .pa = pa,
			       .period = period,
			       .prot = RW };
}

static struct pt_op op_unmap(uint64_t va, uint64_t size)
{
	return (struct pt_op){ .type = PT_OP_UNMAP, .va = va, .size = size };
}

static struct pt_op op_replace_at(uint64_t va, uint64_t size, uint64_t pa)
{
	return (struct pt_op){ .type = PT_OP_REPLACE, .va = va, .size = size, .pa = pa, .prot = RW };
}

static bool op_is_map(const struct pt_op *op)
{
	return op->type == PT_OP_MAP || op->type == PT_OP_MAP_REPEAT;
}

static int op_str(char *buf, size_t len, const struct pt_op *op)
{
	static const char *const names[] = { "?", "MAP", "UNMAP", "REPEAT", "REPLACE" };
	const char *n = op->type >= PT_OP_MAP && op->type <= PT_OP_REPLACE ? names[op->type] : "?";

	if (op->type == PT_OP_UNMAP)
		return snprintf(buf, len, "%s(0x%" PRIx64 " +0x%" PRIx64 ")", n, op->va, op->size);
	return snprintf(buf, len,
			"%s(0x%" PRIx64 " +0x%" PRIx64 " -> 0x%" PRIx64 " period 0x%" PRIx64
			" prot 0x%x)",
			n, op->va, op->size, op->pa, op->period, op->prot);
}

/* A range to look at after changes: its edges, middle, and pattern wraps. */
struct probe {
	uint64_t va, size, period;
};

/**
 * struct tctx - one page table under test and what it should translate.
 * @g/@lt/@big/@top_item: granule, span of a leaf table, largest leaf, span of
 *	a top-level item.
 * @x: a boundary between top-level items, far from both ends of the space.
 * @dummy: PA of the dummy page of repeat maps.
 * @real: the model of what the committed ops left.
 * @skew: pool bytes in use minus stats.table_bytes (constant: the pool serves
 *	only this table, and every table it owns is counted, stock included).
 * @probes: ranges checked by check_probes().
 * @replay/@round: the random test prints how to replay a failure.
 * @what: the current action, for failure messages.
 */
struct tctx {
	const struct pt_test_cfg *c;
	const char *test;
	struct pt_test_env env;
	struct pt *pt;
	struct pt_geometry geo;
	uint64_t g, lt, big, top_item, x, ias_end, dummy;
	unsigned int big_level;
	uint32_t prot[MAX_PROTS];
	unsigned int nprot;
	struct model real;
	int64_t skew;
	struct probe probes[MAX_PROBES];
	unsigned int nprobes;
	bool replay;
	unsigned int round;
	char what[2048];
};

/* The context the SIGABRT handler describes (a commit that allocates aborts). */
static struct tctx *current;

static void tfail(struct tctx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tfail(struct tctx *t, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s] %s: %s\n  %s\n", t->c->name, t->test, t->what, msg);
	if (t->replay)
		tu_print_replay(opt_seed, t->round + 1);
	fail_msg("[%s] %s: %s", t->c->name, t->test, msg);
}

static void fail_rc(struct tctx *t, const char *call, int got, int want)
{
	tfail(t, "%s returned %s, want %s", call, errname(got), errname(want));
}

/* The model @m follows an op the page table took, which the model must find possible. */
static void model_apply(struct tctx *t, struct model *m, const struct pt_op *op, uint64_t *unmapped)
{
	if (pt_test_model_apply(m, op, unmapped))
		tfail(t, "the model refuses an op the page table took");
}

static void on_abort(int sig)
{
	struct tctx *t = current;

	if (t) {
		fprintf(stderr, "aborted in [%s] %s: %s\n", t->c->name, t->test, t->what);
		if (t->replay)
			tu_print_replay(opt_seed, t->round + 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void what(struct tctx *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void what(struct tctx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->what, sizeof(t->what), fmt, ap);
	va_end(ap);
}

/* Append a description of @n ops to t->what. */
static void what_ops(struct tctx *t, const char *label, const struct pt_op *op, unsigned int n)
{
	size_t len = strlen(t->what);

	len += (size_t)snprintf(t->what + len, sizeof(t->what) - len, " %s[", label);
	for (unsigned int i = 0; i < n && len < sizeof(t->what); i++) {
		len += (size_t)op_str(t->what + len, sizeof(t->what) - len, &op[i]);
		if (len < sizeof(t->what))
			len += (size_t)snprintf(t->what + len, sizeof(t->what) - len, "%s",
						i + 1 < n ? ", " : "");
	}
	if (len < sizeof(t->what))
		snprintf(t->what + len, sizeof(t->what) - len, "]");
}

/* What random maps pick from: the candidates the format expresses exactly. */
static void pick_prots(struct tctx *t)
{
	static const uint32_t candidates[] = {
		PT_PROT_READ,
		PT_PROT_READ | PT_PROT_WRITE,
		PT_PROT_READ | PT_PROT_EXEC,
		PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE,
		PT_PROT_READ | PT_PROT_MMIO,
		PT_PROT_READ | PT_PROT_PRIV,
		PT_PROT_WRITE | PT_PROT_CACHE,
	};

	t->nprot = pt_test_exact_prots(t->pt, candidates, ARRAY_SIZE(candidates), t->prot);
	assert_true(t->nprot >= 4);
}

static uint64_t pool_bytes_minus_stats(struct tctx *t)
{
	struct pt_stats st;

	pt_get_stats(t->pt, &st);
	return pt_test_bytes_in_use(&t->env) - st.table_bytes;
}

static void tctx_init(struct tctx *t, const struct pt_test_cfg *c, const char *test)
{
	memset(t, 0, sizeof(*t));
	t->c = c;
	t->test = test;
	current = t;
	/* A test that failed inside a commit left its fence-signalling section open. */
	while (pt_in_signalling())
		pt_signalling_end();
	what(t, "setup");
	pt_test_env_init(&t->env, c->fmt, c->granule_lg2, c->ias, c->oas, c->coherent);
	t->pt = pt_test_create(&t->env);
	pt_get_geometry(t->pt, &t->geo);
	t->g = 1ull << c->granule_lg2;
	t->lt = 1ull << t->geo.level_shift[PT_LEAF_LEVEL - 1];
	t->big = 1ull << (63 - __builtin_clzll(t->geo.leaf_sizes));
	for (unsigned int l = t->geo.start_level; l <= PT_LEAF_LEVEL; l++)
		if (t->geo.level_shift[l] == (unsigned int)__builtin_ctzll(t->big))
			t->big_level = l;
	t->top_item = 1ull << t->geo.level_shift[t->geo.start_level];
	t->x = 4 * t->top_item;
	t->ias_end = 1ull << c->ias;
	t->dummy = 3 * t->big + 5 * t->g;
	assert_true(t->lt > t->g && t->x + 8 * t->big < t->ias_end);
	if (c->concat && t->geo.top_concat < 2)
		tfail(t, "geometry: top_concat %u, want concatenation", t->geo.top_concat);
	pick_prots(t);
	t->skew = (int64_t)pool_bytes_minus_stats(t);
}

static void tctx_fini(struct tctx *t)
{
	what(t, "pt_destroy");
	pt_destroy(t->pt);
	if (pt_test_pages_in_use(&t->env) || pt_test_bytes_in_use(&t->env))
		tfail(t, "after pt_destroy: %" PRIu64 " pages, %" PRIu64 " bytes in use",
		      pt_test_pages_in_use(&t->env), pt_test_bytes_in_use(&t->env));
	pt_test_env_fini(&t->env);
	model_free(&t->real);
	current = NULL;
}

/* A PA congruent to @va modulo the largest leaf, so that any block fits. */
static uint64_t pa_for(const struct tctx *t, uint64_t va)
{
	return 8 * t->big + (va & (t->big - 1));
}

/* Compare one VA with the model through both walkers. */
static void check_va(struct tctx *t, uint64_t va)
{
	uint64_t want_pa = 0, hw_pa = 0;
	uint32_t want_prot = 0, hw_prot = 0;
	unsigned int hw_level = 0;
	struct pt_walk_result res;
	bool mapped = model_lookup(&t->real, va, &want_pa, &want_prot, NULL);
	int want = mapped ? 0 : -ENOENT;
	int rc = pt_walk(t->pt, va, &res);
	int hw = pt_test_hw_walk(&t->env, t->pt, va, &hw_pa, &hw_prot, &hw_level);

	if (rc != want || (mapped && (res.pa != want_pa || res.prot != want_prot)))
		tfail(t,
		      "pt_walk(0x%" PRIx64 "): %s pa 0x%" PRIx64 " prot 0x%x level %u; "
		      "model: %s pa 0x%" PRIx64 " prot 0x%x",
		      va, errname(rc), res.pa, res.prot, res.level, mapped ? "mapped" : "unmapped",
		      want_pa, want_prot);
	if (hw != want || (mapped && (hw_pa != want_pa || hw_prot != want_prot)))
		tfail(t,
		      "hw walk(0x%" PRIx64 "): %s pa 0x%" PRIx64 " prot 0x%x level %u; "
		      "model: %s pa 0x%" PRIx64 " prot 0x%x",
		      va, errname(hw), hw_pa, hw_prot, hw_level, mapped ? "mapped" : "unmapped",
		      want_pa, want_prot);
	if (hw_level != res.level)
		tfail(t, "0x%" PRIx64 ": hw walk ends at level %u, pt_walk at %u", va, hw_level,
		      res.level);
}

/* The edges of a range and their neighbours, its middle, its pattern's wrap. */
static void check_range(struct tctx *t, uint64_t va, uint64_t size, uint64_t period)
{
	uint64_t g = t->g, end = va + size;
	uint64_t pts[] = { va - g,      va,      va + g, va + align_down(size / 2, g),
			   end - 2 * g, end - g, end,    va + period - g,
			   va + period };
	size_t n = period && period < size ? ARRAY_SIZE(pts) : ARRAY_SIZE(pts) - 2;

	for (size_t i = 0; i < n; i++)
		if (pts[i] < t->ias_end)
			check_va(t, pts[i]);
}

static void add_probe(struct tctx *t, const struct pt_op *op)
{
	if (t->nprobes < MAX_PROBES)
		t->probes[t->nprobes++] =
			(struct probe){ op->va, op->size,
					op->type == PT_OP_MAP_REPEAT ? op->period : 0 };
}

static void check_probes(struct tctx *t)
{
	for (unsigned int i = 0; i < t->nprobes; i++)
		check_range(t, t->probes[i].va, t->probes[i].size, t->probes[i].period);
}

static void check_validate(struct tctx *t, const char *when)
{
	int err = pt_validate(t->pt, gpuvm_print_file, stderr);

	if (err)
		tfail(t, "pt_validate %s: %s", when, errname(err));
}

static void check_skew(struct tctx *t)
{
	int64_t skew = (int64_t)pool_bytes_minus_stats(t);

	if (skew != t->skew)
		tfail(t, "pool bytes in use minus stats.table_bytes: %" PRId64 ", was %" PRId64,
		      skew, t->skew);
}

/* Everything a refused or given-up call must leave as it was. */
struct snap {
	struct pt_stats st;
	uint64_t pages, bytes, flushes, syncs;
};

static void snap_take(struct tctx *t, struct snap *s)
{
	pt_get_stats(t->pt, &s->st);
	s->pages = pt_test_pages_in_use(&t->env);
	s->bytes = pt_test_bytes_in_use(&t->env);
	s->flushes = t->env.flush_ranges + t->env.flush_alls;
	s->syncs = t->env.syncs;
}

static void snap_expect(struct tctx *t, const struct snap *a, const char *when)
{
	struct snap b;

	snap_take(t, &b);
	if (memcmp(&a->st, &b.st, sizeof(a->st)))
		tfail(t,
		      "%s changed the stats: %" PRIu64 " tables, %" PRIu64 " bytes; was %" PRIu64
		      ", %" PRIu64,
		      when, b.st.tables, b.st.table_bytes, a->st.tables, a->st.table_bytes);
	if (a->pages != b.pages || a->bytes != b.bytes)
		tfail(t,
		      "%s changed the pool: %" PRIu64 " pages, %" PRIu64 " bytes; was %" PRIu64
		      ", %" PRIu64,
		      when, b.pages, b.bytes, a->pages, a->bytes);
	if (a->flushes != b.flushes || a->syncs != b.syncs)
		tfail(t,
		      "%s flushed or synced: %" PRIu64 " flushes, %" PRIu64 " syncs; was %" PRIu64
		      ", %" PRIu64,
		      when, b.flushes, b.syncs, a->flushes, a->syncs);
}

/* Change the state with a one-op call that must give @want; the model follows. */
static void state_op(struct tctx *t, struct pt_op opv, int want)
{
	const struct pt_op *op = &opv;
	uint64_t unmapped = 0, want_unmapped = 0;
	struct snap before;
	char buf[160];
	int rc;

	op_str(buf, sizeof(buf), op);
	snap_take(t, &before);
	rc = pt_test_call_op(t->pt, op, &unmapped);
	if (rc != want)
		fail_rc(t, buf, rc, want);
	if (rc) {
		snap_expect(t, &before, "a failed one-op call");
		return;
	}
	model_apply(t, &t->real, op, &want_unmapped);
	if (unmapped != want_unmapped)
		tfail(t, "%s unmapped 0x%" PRIx64 ", model 0x%" PRIx64, buf, unmapped,
		      want_unmapped);
	add_probe(t, op);
}

/**
 * struct arr - a reservation and the ops it holds.
 * @resv: the reservation.
 * @op/@n: the ops pt_reserve() accepted, in order.
 * @committed/@released: pt_commit_end() / pt_unreserve() done.
 */
struct arr {
	struct pt_resv resv;
	struct pt_op op[MAX_OPS];
	unsigned int n;
	bool committed, released;
};

static void arr_init(struct arr *a)
{
	memset(a, 0, sizeof(*a));
	pt_resv_init(&a->resv);
}

/* The stats and the pool grew by exactly what pt_reserve() says it reserved. */
static void check_reserved_taken(struct tctx *t, const struct snap *before, uint64_t delta,
				 const char *op)
{
	struct snap after;

	snap_take(t, &after);
	if (after.st.tables - before->st.tables != delta || after.pages - before->pages != delta)
		tfail(t,
		      "%s: resv.reserved grew by %" PRIu64 ", but the table has %" PRIu64
		      " more tables and the pool %" PRIu64 " more pages",
		      op, delta, after.st.tables - before->st.tables, after.pages - before->pages);
	if (after.flushes != before->flushes || after.syncs != before->syncs)
		tfail(t, "%s: pt_reserve() flushed or synced", op);
}

/*
 * Reserve @op into @a, expecting @want; on success the projected model @proj
 * (if any) follows. A refused op leaves the reservation, the table and the
 * pool as they were. Returns the tables the op reserved, or -1.
 */
static int64_t reserve_one(struct tctx *t, struct arr *a, struct model *proj, struct pt_op opv,
			   int want)
{
	const struct pt_op *op = &opv;
	uint64_t reserved = a->resv.reserved, consumed = a->resv.consumed;
	void *priv = a->resv.priv;
	struct snap before;
	char buf[160];
	int rc;

	op_str(buf, sizeof(buf), op);
	snap_take(t, &before);
	pt_test_seek(t->pt, op); /* changes nothing a refusal is checked for */
	rc = pt_reserve(t->pt, op, &a->resv);
	if (rc != want)
		fail_rc(t, buf, rc, want);
	if (rc) {
		snap_expect(t, &before, "a refused pt_reserve()");
		if (a->resv.reserved != reserved || a->resv.consumed != consumed ||
		    a->resv.priv != priv)
			tfail(t,
			      "refused %s changed the reservation: reserved %" PRIu64
			      " -> %" PRIu64,
			      buf, reserved, a->resv.reserved);
		return -1;
	}
	check_reserved_taken(t, &before, a->resv.reserved - reserved, buf);
	assert_true(a->n < MAX_OPS);
	a->op[a->n++] = *op;
	if (proj)
		model_apply(t, proj, op, NULL);
	add_probe(t, op);
	return (int64_t)(a->resv.reserved - reserved);
}

/*
 * Commit every op of @a: each UNMAP unmaps what the model says, nothing is
 * flushed before pt_commit_end(), and the commit consumes exactly what was
 * reserved. The model of committed state follows.
 */
static void commit_arr(struct tctx *t, struct arr *a)
{
	uint64_t flushes = t->env.flush_ranges + t->env.flush_alls;
	char buf[160];

	pt_commit_begin(t->pt, &a->resv);
	for (unsigned int i = 0; i < a->n; i++) {
		uint64_t unmapped = ~0ull, want = 0;

		pt_commit(t->pt, &a->resv, &a->op[i], &unmapped);
		model_apply(t, &t->real, &a->op[i], &want);
		op_str(buf, sizeof(buf), &a->op[i]);
		if (unmapped != want)
			tfail(t, "pt_commit(%s) unmapped 0x%" PRIx64 ", model 0x%" PRIx64, buf,
			      unmapped, want);
		if (t->env.flush_ranges + t->env.flush_alls != flushes)
			tfail(t, "pt_commit(%s) flushed before pt_commit_end()", buf);
	}
	pt_commit_end(t->pt, &a->resv);
	a->committed = true;
	if (a->resv.consumed != a->resv.reserved)
		tfail(t,
		      "resv.consumed %" PRIu64 " != resv.reserved %" PRIu64
		      " after pt_commit_end()",
		      a->resv.consumed, a->resv.reserved);
	check_validate(t, "after pt_commit_end()");
	check_skew(t);
}

/* Release @a; @validate: run pt_validate() (the random test does once per round). */
static void release_arr(struct tctx *t, struct arr *a, bool validate)
{
	pt_unreserve(t->pt, &a->resv);
	a->released = true;
	if (a->resv.reserved || a->resv.consumed || a->resv.priv)
		tfail(t, "pt_unreserve() left reserved %" PRIu64 ", consumed %" PRIu64 ", priv %p",
		      a->resv.reserved, a->resv.consumed, a->resv.priv);
	if (validate)
		check_validate(t, "after pt_unreserve()");
	check_skew(t);
}

static void unreserve_arr(struct tctx *t, struct arr *a)
{
	release_arr(t, a, true);
}

/* ---- random: reservation exactness as a property ---- */

struct zone {
	uint64_t lo, hi;
};

struct req {
	uint64_t va, size;
};

/* Kinds of calls and outcomes a long random run must have produced. */
struct counters {
	unsigned int arrays, direct, ops[5], eexist, cuts_reserving, related, related_prev;
	unsigned int shared_repeats, queued, give_ups, third, empty_arrays, next_blocks,
		last_blocks;
	uint64_t reserved, max_tables;
};

/**
 * struct rrun - one configuration's random run.
 * @t: the page table and the model of committed state.
 * @proj: the model of projected state (committed plus every reserved op).
 * @leaf: leaf sizes, ascending.
 * @last: the range of the op generated last.
 */
struct rrun {
	struct tctx t;
	struct rng rng;
	struct model proj;
	struct zone zone[4];
	unsigned int nzones;
	uint64_t leaf[PT_MAX_LEVELS];
	unsigned int nleaf;
	struct req last;
	struct counters n;
};

/*
 * Zones: the bottom and the top of the input space, and two straddling a
 * boundary between top-level items, each wide enough for a few of the largest
 * leaves and many leaf tables on both sides (so whole leaf tables and whole
 * tables above them can be shared by repeat maps).
 */
static void pick_zones(struct rrun *r)
{
	struct tctx *t = &r->t;
	uint64_t half = max_u64(4 * t->big, 8 * t->lt);
	uint64_t spacing = max_u64(t->top_item, 4 * half);

	r->zone[r->nzones++] = (struct zone){ 0, 2 * half };
	for (uint64_t k = 1; k <= 2; k++)
		r->zone[r->nzones++] = (struct zone){ k * spacing - half, k * spacing + half };
	r->zone[r->nzones++] = (struct zone){ t->ias_end - 2 * half, t->ias_end };
	for (unsigned int i = 1; i < r->nzones; i++)
		assert_true(r->zone[i].lo >= r->zone[i - 1].hi);
}

static const struct zone *random_zone(struct rrun *r)
{
	return &r->zone[rng_below(&r->rng, r->nzones)];
}

/* A size made of whole @unit leaves, of granules, or of both. */
static uint64_t pick_size(struct rrun *r, uint64_t unit)
{
	uint64_t g = r->t.g;

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
static struct req pick_range(struct rrun *r, uint64_t max_unit)
{
	const struct zone *z = random_zone(r);
	uint64_t unit = min_u64(r->leaf[rng_below(&r->rng, r->nleaf)], max_unit);
	uint64_t size = pick_size(r, unit);
	uint64_t align = rng_below(&r->rng, 2) ? unit : r->t.g;
	uint64_t va = z->lo + align_down(rng_below(&r->rng, z->hi - z->lo - size + 1), align);

	if (!rng_below(&r->rng, 4)) {
		/* Shift by a few granules so that the range starts or ends inside a leaf. */
		uint64_t shift = r->t.g * rng_below(&r->rng, 4);

		va = va - z->lo >= shift ? va - shift : va;
	}
	return (struct req){ va, size };
}

/* @q clipped to the free space of the projected state; size 0 when @q starts in none. */
static struct req clip_free(struct rrun *r, struct req q)
{
	const struct zone *z = &r->zone[0];
	size_t i;

	for (unsigned int k = 0; k < r->nzones; k++)
		if (q.va >= r->zone[k].lo && q.va < r->zone[k].hi)
			z = &r->zone[k];
	i = model_find(&r->proj, q.va);
	if (i < r->proj.n && r->proj.e[i].va <= q.va) {
		q.va = r->proj.e[i].end; /* past the extent that holds the pick */
		i = model_find(&r->proj, q.va);
		if (i < r->proj.n && r->proj.e[i].va <= q.va)
			return (struct req){ 0, 0 };
	}
	if (q.va >= z->hi)
		return (struct req){ 0, 0 };
	if (i < r->proj.n)
		q.size = min_u64(q.size, r->proj.e[i].va - q.va);
	q.size = min_u64(q.size, z->hi - q.va);
	return q;
}

/*
 * @count whole items of @unit bytes (a leaf table's span: blocks, or leaf
 * tables a repeat map can share), sometimes with a few granules more on
 * either side.
 */
static struct req pick_items(struct rrun *r, uint64_t unit, unsigned int count)
{
	const struct zone *z = random_zone(r);
	uint64_t g = r->t.g, size = unit * count;
	uint64_t va = z->lo + align_down(rng_below(&r->rng, z->hi - z->lo - size), unit);

	if (!rng_below(&r->rng, 3)) {
		uint64_t before = g * rng_below(&r->rng, 3);

		va = va - z->lo >= before ? va - before : va;
		size += before + g * rng_below(&r->rng, 3);
	}
	return (struct req){ va, size };
}

/*
 * An output address. Usually congruent to the VA modulo a block size, so that
 * blocks (of that size and below) can be used; for small ranges sometimes only
 * granule aligned.
 */
static uint64_t pick_pa(struct rrun *r, uint64_t va, uint64_t size)
{
	uint64_t space = 1ull << r->t.c->oas;
	uint64_t unit;

	if (size <= 1024 * r->t.g && !rng_below(&r->rng, 4))
		return align_down(rng_below(&r->rng, space - size), r->t.g);
	unit = r->leaf[1 + rng_below(&r->rng, r->nleaf - 1)];
	return rng_below(&r->rng, (space - size) / unit - 1) * unit + (va & (unit - 1));
}

static uint32_t pick_prot(struct rrun *r)
{
	return r->t.prot[rng_below(&r->rng, r->t.nprot)];
}

/*
 * A pattern: one dummy page (shareable at every level), a power-of-two number
 * of pages (shareable), an odd number of pages (never shareable), or one leaf
 * table's span at an aligned PA (blocks, shareable above them). Patterns that
 * cannot be shared are kept to small ranges: each of their leaf tables is new.
 */
static void pick_pattern(struct rrun *r, struct pt_op *op)
{
	struct tctx *t = &r->t;
	uint64_t space = 1ull << t->c->oas, align = t->g;
	unsigned int k = (unsigned int)rng_below(&r->rng, 6);

	if (k < 3)
		op->period = t->g;
	else if (k == 3)
		op->period = t->g << (1 + rng_below(&r->rng, 3));
	else if (k == 4)
		op->period = t->g * (3 + 2 * rng_below(&r->rng, 3));
	else
		op->period = align = t->lt;
	op->pa = align_down(rng_below(&r->rng, space - op->period), align);
	if (op->period % t->g == 0 && t->lt % op->period)
		op->size = min_u64(op->size, 4 * t->lt);
}

/*
 * One or two whole blocks (leaf table spans) from the first boundary at or
 * after the end of the op generated last: inside the table that op's commit
 * went down to, where a map on an empty queue takes the one-op path of whole
 * blocks (pt_resv.c). Size 0 past the end of the input space.
 */
static struct req next_blocks(struct rrun *r)
{
	uint64_t lt = r->t.lt, va = align_up(r->last.va + r->last.size, lt);
	uint64_t size = lt * (1 + rng_below(&r->rng, 2));

	if (va > r->t.ias_end || size > r->t.ias_end - va)
		return (struct req){ 0, 0 };
	r->n.next_blocks++;
	return (struct req){ va, size };
}

static void gen_map(struct rrun *r, struct pt_op *op, bool repeat)
{
	struct req q = { 0, 0 };
	unsigned int k = (unsigned int)rng_below(&r->rng, 11);

	if (k == 10 && !repeat)
		q = next_blocks(r);
	else if (k < 4)
		q = clip_free(r, pick_items(r, r->t.lt, 1 + (unsigned int)rng_below(&r->rng, 4)));
	else if (k < 5)
		q = clip_free(r, pick_items(r, r->t.big, 1 + (unsigned int)rng_below(&r->rng, 2)));
	else if (k < 9)
		q = clip_free(r, pick_range(r, r->t.big));
	if (!q.size)
		q = pick_range(r, r->t.big);
	*op = (struct pt_op){ .type = repeat ? PT_OP_MAP_REPEAT : PT_OP_MAP,
			      .va = q.va,
			      .size = q.size,
			      .prot = pick_prot(r) };
	if (repeat)
		pick_pattern(r, op);
	else
		op->pa = pick_pa(r, q.va, q.size);
}

/* A granule-aligned piece of a live extent (the larger of two): cuts its leaves. */
static struct req pick_cut(struct rrun *r, const struct extent *x)
{
	uint64_t g = r->t.g, len = x->end - x->va;
	uint64_t off = align_down(rng_below(&r->rng, len), g);
	uint64_t size = rng_below(&r->rng, 2) ? g * (1 + rng_below(&r->rng, 4)) :
						g + align_down(rng_below(&r->rng, len - off), g);

	return (struct req){ x->va + off, min_u64(size, len - off) };
}

static const struct extent *random_extent(struct rrun *r, bool larger)
{
	const struct extent *x = &r->proj.e[rng_below(&r->rng, r->proj.n)];
	const struct extent *y = &r->proj.e[rng_below(&r->rng, r->proj.n)];

	return larger && y->end - y->va > x->end - x->va ? y : x;
}

/* A repeat extent, if the pick finds one. */
static const struct extent *random_repeat(struct rrun *r)
{
	for (unsigned int i = 0; i < 4; i++) {
		const struct extent *x = random_extent(r, false);

		if (x->period)
			return x;
	}
	return NULL;
}

/*
 * Cut a repeat region around a boundary between leaf table spans: a few
 * granules or up to half a span on either side, so that the cut goes through
 * two items that share one leaf table.
 */
static struct req pick_cut_shared(struct rrun *r, const struct extent *x)
{
	uint64_t g = r->t.g, lt = r->t.lt;
	uint64_t first = align_up(x->va, lt), b, before, after, va, end;

	if (first >= x->end)
		return pick_cut(r, x);
	b = first + lt * rng_below(&r->rng, (x->end - first) / lt + 1);
	before = rng_below(&r->rng, 2) ? g * rng_below(&r->rng, 3) :
					 align_down(rng_below(&r->rng, lt / 2), g);
	after = g + (rng_below(&r->rng, 2) ? g * rng_below(&r->rng, 4) :
					     align_down(rng_below(&r->rng, lt / 2), g));
	va = b - x->va > before ? b - before : x->va;
	end = min_u64(b + after, x->end);
	if (va >= end)
		return (struct req){ x->end - g, g };
	return (struct req){ va, end - va };
}

/*
 * The last whole block (leaf table span) of the op generated last, when it
 * has one: after a map of the next blocks, an unmap on an empty queue that
 * takes the one-op path of blocks (pt_resv.c) where the table keeps others.
 */
static struct req last_block(struct rrun *r)
{
	uint64_t lt = r->t.lt, end = align_down(r->last.va + r->last.size, lt);

	if (end < lt || end - lt < r->last.va)
		return pick_range(r, r->t.big);
	r->n.last_blocks++;
	return (struct req){ end - lt, lt };
}

/*
 * An unmap range: a whole zone, a live extent, a piece of one, a cut of a
 * repeat region, the last block of the op generated last.
 */
static void gen_unmap(struct rrun *r, struct pt_op *op)
{
	unsigned int kind = (unsigned int)rng_below(&r->rng, 100);
	const struct extent *x = r->proj.n ? random_extent(r, true) : NULL;
	const struct extent *rep = r->proj.n ? random_repeat(r) : NULL;
	struct req q;

	if (kind < 2) {
		const struct zone *z = random_zone(r);

		q = (struct req){ z->lo, z->hi - z->lo };
	} else if (kind < 15 && x) {
		q = (struct req){ x->va, x->end - x->va };
	} else if (kind < 45 && x) {
		q = pick_cut(r, x);
	} else if (kind < 70 && rep) {
		q = pick_cut_shared(r, rep);
	} else if (kind < 80) {
		q = last_block(r);
	} else {
		q = pick_range(r, r->t.big);
	}
	*op = op_unmap(q.va, q.size);
}

/* A replace of [@q.va, @q.va + @q.size) with a fresh output range. */
static struct pt_op op_replace(struct rrun *r, struct req q)
{
	return (struct pt_op){ .type = PT_OP_REPLACE,
			       .va = q.va,
			       .size = q.size,
			       .pa = pick_pa(r, q.va, q.size),
			       .prot = pick_prot(r) };
}

/*
 * A replace: over a piece of a live extent (pages of a leaf table, a block it
 * cuts), over a whole one, over nothing, or over any range (tables it covers
 * whole).
 */
static void gen_replace(struct rrun *r, struct pt_op *op)
{
	unsigned int kind = (unsigned int)rng_below(&r->rng, 10);
	const struct extent *x = r->proj.n ? random_extent(r, true) : NULL;
	struct req q = { 0, 0 };

	if (kind < 4 && x)
		q = pick_cut(r, x);
	else if (kind < 6 && x)
		q = (struct req){ x->va, x->end - x->va };
	else if (kind < 8)
		q = clip_free(r, pick_range(r, r->t.big));
	if (!q.size)
		q = pick_range(r, r->t.big);
	*op = op_replace(r, q);
}

/* A granule-aligned piece of [@va, @va + @size). */
static struct req sub_range(struct rrun *r, uint64_t va, uint64_t size)
{
	uint64_t g = r->t.g;
	uint64_t off = align_down(rng_below(&r->rng, size), g);
	uint64_t left = size - off;
	uint64_t len = rng_below(&r->rng, 2) ? g * (1 + rng_below(&r->rng, min_u64(8, left / g))) :
					       g + align_down(rng_below(&r->rng, left), g);

	return (struct req){ va + off, min_u64(len, left) };
}

/*
 * The rest of the leaf table span around an unmapped range: after its end,
 * or else before its start. Unmapping it too empties the leaf table in pieces.
 */
static struct req rest_of_item(const struct rrun *r, const struct pt_op *p)
{
	uint64_t lt = r->t.lt, end = p->va + p->size;

	if (end & (lt - 1))
		return (struct req){ end, align_up(end, lt) - end };
	if (p->va & (lt - 1))
		return (struct req){ align_down(p->va, lt), p->va & (lt - 1) };
	return (struct req){ p->va, p->size };
}

/*
 * An op about the range of an earlier op @p of this array (or of the
 * reservation queued before it): map again what it unmapped (the whole range,
 * a piece into the tables it emptied, or a repeat), unmap the rest of the leaf
 * tables it cut, or unmap what it mapped (a piece: a split of a block it
 * creates, a copy of a table it shares; all of it; or across its end), or
 * replace what it unmapped or a piece of what it mapped.
 */
static void gen_related(struct rrun *r, const struct pt_op *p, struct pt_op *op)
{
	unsigned int k = (unsigned int)rng_below(&r->rng, 5);
	struct req q = { p->va, p->size };

	if (k == 4) {
		/* Over what it unmapped, or over a piece of what it mapped. */
		if (p->type != PT_OP_UNMAP)
			q = sub_range(r, p->va, p->size);
		*op = op_replace(r, q);
	} else if (p->type == PT_OP_UNMAP && k == 3) {
		q = rest_of_item(r, p);
		*op = op_unmap(q.va, q.size);
	} else if (p->type == PT_OP_UNMAP) {
		if (k == 1)
			q = sub_range(r, p->va, p->size);
		*op = (struct pt_op){ .type = k == 2 ? PT_OP_MAP_REPEAT : PT_OP_MAP,
				      .va = q.va,
				      .size = q.size,
				      .prot = pick_prot(r) };
		if (k == 2)
			pick_pattern(r, op);
		else
			op->pa = pick_pa(r, q.va, q.size);
	} else {
		if (k == 0)
			q = sub_range(r, p->va, p->size);
		else if (k >= 2)
			q = (struct req){ p->va + p->size - r->t.g,
					  min_u64(4 * r->t.g,
						  r->t.ias_end - (p->va + p->size - r->t.g)) };
		*op = op_unmap(q.va, q.size);
	}
}

/* The next op of array @a; @prev: the reservation queued before it, or NULL. */
static void gen_op(struct rrun *r, const struct arr *a, const struct arr *prev, struct pt_op *op)
{
	unsigned int k = (unsigned int)rng_below(&r->rng, 100);
	unsigned int pool = (a ? a->n : 0) + (prev ? prev->n : 0);

	if (k < 30 && pool) {
		unsigned int i = (unsigned int)rng_below(&r->rng, pool);
		bool from_prev = !a || i >= a->n;

		gen_related(r, from_prev ? &prev->op[i - (a ? a->n : 0)] : &a->op[i], op);
		r->n.related++;
		r->n.related_prev += from_prev;
	} else if (k < 50) {
		gen_map(r, op, false);
	} else if (k < 64) {
		gen_map(r, op, true);
	} else if (k < 76) {
		gen_replace(r, op);
	} else {
		gen_unmap(r, op);
	}
	r->last = (struct req){ op->va, op->size };
}

static int want_of(const struct model *proj, const struct pt_op *op)
{
	return op_is_map(op) && model_overlaps(proj, op->va, op->va + op->size) ? -EEXIST : 0;
}

static void count_op(struct rrun *r, const struct pt_op *op, int64_t tables)
{
	const struct tctx *t = &r->t;

	if (tables < 0) {
		r->n.eexist++;
		return;
	}
	r->n.ops[op->type]++;
	r->n.reserved += (uint64_t)tables;
	r->n.cuts_reserving += op->type == PT_OP_UNMAP && tables > 0;
	r->n.shared_repeats += op->type == PT_OP_MAP_REPEAT && t->lt % op->period == 0 &&
			       align_down(op->va + op->size, t->lt) >=
				       align_up(op->va, t->lt) + 2 * t->lt;
}

/* Reserve 1..@max random ops into @a; the projected model follows. */
static void fill_array(struct rrun *r, struct arr *a, const struct arr *prev, unsigned int max,
		       const char *label)
{
	unsigned int n = 1 + (unsigned int)rng_below(&r->rng, max);

	arr_init(a);
	for (unsigned int i = 0; i < n; i++) {
		struct pt_op op;
		int64_t tables;

		gen_op(r, a, prev, &op);
		what(&r->t, "round %u: reserving op %u of %s:", r->t.round, i, label);
		what_ops(&r->t, "op", &op, 1);
		tables = reserve_one(&r->t, a, &r->proj, op, want_of(&r->proj, &op));
		count_op(r, &op, tables);
	}
	r->n.arrays++;
	r->n.empty_arrays += !a->n;
}

static void commit_checked(struct rrun *r, struct arr *a, const char *label)
{
	what(&r->t, "round %u: committing", r->t.round);
	what_ops(&r->t, label, a->op, a->n);
	commit_arr(&r->t, a);
	check_probes(&r->t);
}

/* Random points of the zones, and the edges of a few random extents. */
static void check_random_points(struct rrun *r)
{
	for (unsigned int i = 0; i < RANDOM_SAMPLES; i++) {
		const struct zone *z = random_zone(r);

		check_va(&r->t, z->lo + align_down(rng_below(&r->rng, z->hi - z->lo), r->t.g));
	}
	for (unsigned int i = 0; i < 3 && r->t.real.n; i++) {
		const struct extent *x = &r->t.real.e[rng_below(&r->rng, r->t.real.n)];

		check_range(&r->t, x->va, x->end - x->va, x->period);
	}
}

/* A few one-op calls build the state the arrays start from. */
static void round_direct(struct rrun *r)
{
	unsigned int n = 1 + (unsigned int)rng_below(&r->rng, 3);

	for (unsigned int i = 0; i < n; i++) {
		struct pt_op op;

		gen_op(r, NULL, NULL, &op);
		what(&r->t, "round %u: one-op call", r->t.round);
		what_ops(&r->t, "op", &op, 1);
		state_op(&r->t, op, want_of(&r->t.real, &op));
		model_copy(&r->proj, &r->t.real);
		r->n.direct++;
	}
}

static void round_single(struct rrun *r)
{
	struct arr a;

	fill_array(r, &a, NULL, MAX_OPS, "A");
	commit_checked(r, &a, "A");
	release_arr(&r->t, &a, false);
}

/* Give the newest reservation @b up: everything is as before it was reserved. */
static void give_up(struct rrun *r, struct arr *b, const struct snap *before,
		    const struct model *proj_before)
{
	what(&r->t, "round %u: giving up", r->t.round);
	what_ops(&r->t, "B", b->op, b->n);
	pt_unreserve(r->t.pt, &b->resv);
	snap_expect(&r->t, before, "giving up the newest reservation");
	check_validate(&r->t, "after giving up the newest reservation");
	model_copy(&r->proj, proj_before);
	r->n.give_ups++;
}

/*
 * Queued reservations: A, then B (which sees A's projected result; maybe
 * given up and reserved again), commit A, maybe reserve C (after A committed,
 * before B), commit B, commit C.
 */
static void round_queued(struct rrun *r)
{
	struct arr a, b, c;
	struct model saved = { 0 };
	struct snap before_b;
	bool third = rng_below(&r->rng, 2);

	fill_array(r, &a, NULL, 4, "A");
	snap_take(&r->t, &before_b);
	model_copy(&saved, &r->proj);
	fill_array(r, &b, &a, 4, "B");
	if (!rng_below(&r->rng, 4)) {
		give_up(r, &b, &before_b, &saved);
		fill_array(r, &b, &a, 4, "B");
	}
	commit_checked(r, &a, "A");
	if (rng_below(&r->rng, 2))
		release_arr(&r->t, &a, false);
	if (third)
		fill_array(r, &c, &b, 4, "C");
	commit_checked(r, &b, "B");
	if (third)
		commit_checked(r, &c, "C");
	if (!a.released)
		release_arr(&r->t, &a, false);
	release_arr(&r->t, &b, false);
	if (third)
		release_arr(&r->t, &c, false);
	r->n.queued++;
	r->n.third += third;
	model_free(&saved);
}

static void random_round(struct rrun *r)
{
	struct pt_stats st;

	r->t.nprobes = 0;
	if (rng_below(&r->rng, 100) < 25)
		round_direct(r);
	if (rng_below(&r->rng, 100) < 65)
		round_single(r);
	else
		round_queued(r);
	what(&r->t, "round %u: after the round", r->t.round);
	check_validate(&r->t, "with every reservation released");
	check_random_points(r);
	pt_get_stats(r->t.pt, &st);
	r->n.max_tables = max_u64(r->n.max_tables, st.tables);
}

static void check_coverage(struct rrun *r)
{
	const struct counters *n = &r->n;

	printf("[%s] %u arrays (%u empty), %u one-op calls, %u maps, %u unmaps, %u repeats "
	       "(%u shared), %u replaces, %u -EEXIST, %u unmaps reserving tables, %u related ops "
	       "(%u on the previous reservation), %u queued rounds (%u with C, %u give-ups), %u maps "
	       "of the next blocks, %u unmaps of a last block, %" PRIu64 " tables reserved, up to "
	       "%" PRIu64 " tables\n",
	       r->t.c->name, n->arrays, n->empty_arrays, n->direct, n->ops[PT_OP_MAP],
	       n->ops[PT_OP_UNMAP], n->ops[PT_OP_MAP_REPEAT], n->shared_repeats,
	       n->ops[PT_OP_REPLACE], n->eexist, n->cuts_reserving, n->related, n->related_prev,
	       n->queued, n->third, n->give_ups, n->next_blocks, n->last_blocks, n->reserved,
	       n->max_tables);
	if (opt_count < COVERAGE_MIN_COUNT)
		return;
	if (!n->eexist || !n->cuts_reserving || !n->related_prev || !n->shared_repeats ||
	    !n->third || !n->give_ups || !n->direct || !n->next_blocks || !n->last_blocks ||
	    !n->ops[PT_OP_REPLACE])
		tfail(&r->t, "the random run did not cover every kind of call");
}

static void rrun_init(struct rrun *r, const struct pt_test_cfg *c, unsigned int index)
{
	memset(r, 0, sizeof(*r));
	tctx_init(&r->t, c, "random");
	r->t.replay = true;
	r->rng.s = opt_seed * 0x100000001b3ull + index;
	for (unsigned int b = 0; b < 64; b++)
		if (r->t.geo.leaf_sizes & (1ull << b))
			r->leaf[r->nleaf++] = 1ull << b;
	assert_true(r->nleaf >= 2);
	pick_zones(r);
}

static void test_random(void **state)
{
	const struct pt_test_cfg *c = *state;
	struct rrun *r = calloc(1, sizeof(*r));
	uint64_t pages0;

	assert_non_null(r);
	rrun_init(r, c, (unsigned int)(c - cfg_cases));
	pages0 = pt_test_pages_in_use(&r->t.env);
	for (r->t.round = 0; r->t.round < opt_count; r->t.round++)
		random_round(r);
	check_coverage(r);
	what(&r->t, "unmapping everything");
	r->t.nprobes = 0;
	state_op(&r->t, (struct pt_op){ .type = PT_OP_UNMAP, .size = r->t.ias_end }, 0);
	check_validate(&r->t, "after unmapping everything");
	if (pt_test_pages_in_use(&r->t.env) != pages0)
		tfail(&r->t, "after unmapping everything: %" PRIu64 " pages in use, want %" PRIu64,
		      pt_test_pages_in_use(&r->t.env), pages0);
	tctx_fini(&r->t);
	model_free(&r->proj);
	free(r);
}

/* ---- queue-*: reservations queued behind each other ---- */

/* An op of a plan and what pt_reserve() must return for it. */
struct pop {
	struct pt_op op;
	int want;
};

/**
 * struct plan - the ops of one reservation of a queue case.
 * @op/@n: ops in order.
 * @want_reserved: tables the reservation must take in total; -1: any.
 */
struct plan {
	struct pop op[MAX_OPS];
	unsigned int n;
	int64_t want_reserved;
};

enum qstep_kind {
	QS_END = 0,
	QS_RESERVE, /* reserve every op of the plan */
	QS_COMMIT,  /* commit it */
	QS_GIVE_UP, /* pt_unreserve() without commit (the newest) */
};

struct qstep {
	enum qstep_kind kind;
	unsigned int arr;
};

/**
 * struct qcase - a queue case.
 * @name: test name.
 * @setup: build the state (one-op calls) and fill the plans A, B, C.
 * @steps: what happens in order; every committed reservation is released at
 *	the end.
 * @after: optional extra check after step @step.
 */
struct qcase {
	const char *name;
	void (*setup)(struct tctx *t, struct plan p[3]);
	struct qstep steps[8];
	void (*after)(struct tctx *t, unsigned int step);
};

static void plan_add(struct plan *p, struct pt_op op, int want)
{
	assert_true(p->n < MAX_OPS);
	p->op[p->n++] = (struct pop){ op, want };
}

static void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->want_reserved = -1;
}

/* The level at which a walk of @va ends (of the leaf, or of the invalid item). */
static unsigned int walk_level(struct tctx *t, uint64_t va)
{
	struct pt_walk_result res;

	pt_walk(t->pt, va, &res);
	return res.level;
}

static void expect_level(struct tctx *t, uint64_t va, unsigned int want, const char *why)
{
	unsigned int level = walk_level(t, va);

	if (level != want)
		tfail(t, "walk(0x%" PRIx64 ") ends at level %u, want %u: %s", va, level, want, why);
}

/* 1: B splits a block that A creates. */
static void qc_split_a_block(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x;

	plan_add(&p[0], op_map(x, 2 * t->lt, pa_for(t, x)), 0);
	plan_add(&p[1], op_unmap(x + t->lt + t->g, t->g), 0);
	p[1].want_reserved = 1;
}

/* 2: B unmaps one granule out of the largest block A creates: cut level by level. */
static void qc_split_a_big_block(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, mid = x + t->big / 2 + 3 * t->g;

	plan_add(&p[0], op_map(x, t->big, pa_for(t, x)), 0);
	plan_add(&p[1], op_unmap(mid, t->g), 0);
	p[1].want_reserved = PT_LEAF_LEVEL - t->big_level;
}

/*
 * 3: B maps where A unmaps (refused against the real state, accepted against
 * the projection), and is refused where A or B itself maps.
 */
static void qc_map_where_a_unmaps(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, g = t->g;

	state_op(t, op_map(x, 4 * g, pa_for(t, x)), 0);
	plan_add(&p[0], op_unmap(x, 4 * g), 0);
	plan_add(&p[0], op_map(x + 16 * g, 4 * g, pa_for(t, x)), 0);
	plan_add(&p[1], op_map(x, 4 * g, 5 * t->big), 0);
	plan_add(&p[1], op_map(x + 2 * g, g, 6 * t->big), -EEXIST);
	plan_add(&p[1], op_map(x + 18 * g, 4 * g, 6 * t->big), -EEXIST);
	plan_add(&p[1], op_map(x + 8 * g, g, 6 * t->big), 0);
	p[1].want_reserved = 0;
}

/* 4: B cuts a repeat region A maps: one copy of the shared leaf table. */
static void qc_cut_a_repeat(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, lt = t->lt;

	plan_add(&p[0], op_repeat(x, 4 * lt, t->dummy, t->g), 0);
	plan_add(&p[1], op_unmap(x + lt + t->g, t->g), 0);
	plan_add(&p[1], op_unmap(x + 2 * lt, lt), 0);
	p[1].want_reserved = 1;
}

/* 5: A empties a leaf table, B maps into it: B needs no table (A's pin keeps it). */
static void qc_map_into_a_emptied(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, g = t->g;

	state_op(t, op_map(x, 3 * g, pa_for(t, x)), 0);
	plan_add(&p[0], op_unmap(x, 3 * g), 0);
	plan_add(&p[1], op_map(x + g, g, 5 * t->big), 0);
	p[1].want_reserved = 0;
}

static void qc_map_into_a_emptied_after(struct tctx *t, unsigned int step)
{
	if (step == 2) /* A committed: its leaf table stays for B, empty */
		expect_level(t, t->x, PT_LEAF_LEVEL, "B pins the leaf table A emptied");
}

/*
 * 6: C is reserved after A committed and before B: it maps into the table B's
 * split will create (no table), and splits a block A created (one table).
 */
static void qc_third_after_commit(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, g = t->g, lt = t->lt;

	plan_add(&p[0], op_map(x, 2 * lt, pa_for(t, x)), 0);
	plan_add(&p[1], op_unmap(x + g, lt - g), 0);
	p[1].want_reserved = 1;
	plan_add(&p[2], op_map(x + g, g, 5 * t->big), 0);
	plan_add(&p[2], op_map(x, g, 5 * t->big), -EEXIST);
	plan_add(&p[2], op_unmap(x + lt, g), 0);
	p[2].want_reserved = 1;
}

/* 7: B is given up; C then reserves against A alone. */
static void qc_give_up_newest(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, g = t->g, lt = t->lt;

	plan_add(&p[0], op_map(x, 2 * lt, pa_for(t, x)), 0);
	plan_add(&p[1], op_unmap(x + g, g), 0);
	plan_add(&p[1], op_map(x + 4 * lt, g, 5 * t->big), 0);
	plan_add(&p[2], op_unmap(x + lt + g, g), 0);
	plan_add(&p[2], op_map(x + g, g, 5 * t->big), -EEXIST);
	p[2].want_reserved = 1;
}

/*
 * 8: A empties a leaf table that B pins (B maps into it); A commits; B is
 * given up: the table goes with B's pin, and everything above it that held
 * only it. C then needs the whole path again.
 */
static void qc_give_up_after_commit(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, g = t->g;

	state_op(t, op_map(x, 3 * g, pa_for(t, x)), 0);
	plan_add(&p[0], op_unmap(x, 3 * g), 0);
	plan_add(&p[1], op_map(x + g, g, 5 * t->big), 0);
	p[1].want_reserved = 0;
	plan_add(&p[2], op_map(x + g, g, 5 * t->big), 0);
	p[2].want_reserved = PT_LEAF_LEVEL - t->geo.start_level;
}

static void qc_give_up_after_commit_after(struct tctx *t, unsigned int step)
{
	if (step == 2)
		expect_level(t, t->x, PT_LEAF_LEVEL, "B pins the leaf table A emptied");
	if (step == 3)
		expect_level(t, t->x, t->geo.start_level, "B given up: its pinned path goes");
}

/*
 * 9: three queued before any commit. A shares one leaf table between two
 * items; B copies it for the first; C maps into B's copy (no table) and cuts
 * the second item, where the original is private by then (no copy).
 */
static void qc_three_queued(struct tctx *t, struct plan p[3])
{
	uint64_t x = t->x, g = t->g, lt = t->lt;

	plan_add(&p[0], op_repeat(x, 2 * lt, t->dummy, g), 0);
	plan_add(&p[1], op_unmap(x + g, g), 0);
	p[1].want_reserved = 1;
	plan_add(&p[2], op_map(x + g, g, 5 * t->big), 0);
	plan_add(&p[2], op_unmap(x + lt + g, g), 0);
	p[2].want_reserved = 0;
}

#define R(i)                  \
	{                     \
		QS_RESERVE, i \
	}
#define C(i)                 \
	{                    \
		QS_COMMIT, i \
	}
#define GU(i)                 \
	{                     \
		QS_GIVE_UP, i \
	}

static const struct qcase qcases[] = {
	{ "queue-split-a-block", qc_split_a_block, { R(0), R(1), C(0), C(1) }, NULL },
	{ "queue-split-a-big-block", qc_split_a_big_block, { R(0), R(1), C(0), C(1) }, NULL },
	{ "queue-map-where-a-unmaps", qc_map_where_a_unmaps, { R(0), R(1), C(0), C(1) }, NULL },
	{ "queue-cut-a-repeat", qc_cut_a_repeat, { R(0), R(1), C(0), C(1) }, NULL },
	{ "queue-map-into-a-emptied",
	  qc_map_into_a_emptied,
	  { R(0), R(1), C(0), C(1) },
	  qc_map_into_a_emptied_after },
	{ "queue-third-after-commit",
	  qc_third_after_commit,
	  { R(0), R(1), C(0), R(2), C(1), C(2) },
	  NULL },
	{ "queue-give-up-newest", qc_give_up_newest, { R(0), R(1), GU(1), R(2), C(0), C(2) }, NULL },
	{ "queue-give-up-after-commit",
	  qc_give_up_after_commit,
	  { R(0), R(1), C(0), GU(1), R(2), C(2) },
	  qc_give_up_after_commit_after },
	{ "queue-three-queued", qc_three_queued, { R(0), R(1), R(2), C(0), C(1), C(2) }, NULL },
};

struct qrun {
	struct tctx t;
	struct plan plan[3];
	struct arr arr[3];
	struct model proj;
	struct model proj_before[3]; /* projected state before each reservation */
	struct snap snap_before[3];
	bool committed_since[3]; /* a commit happened after the reservation */
};

static void qs_reserve(struct qrun *q, unsigned int i)
{
	const struct plan *p = &q->plan[i];

	model_copy(&q->proj_before[i], &q->proj);
	snap_take(&q->t, &q->snap_before[i]);
	for (unsigned int k = 0; k < p->n; k++) {
		what(&q->t, "reserving %c, op %u", 'A' + i, k);
		reserve_one(&q->t, &q->arr[i], &q->proj, p->op[k].op, p->op[k].want);
	}
	if (p->want_reserved >= 0 && q->arr[i].resv.reserved != (uint64_t)p->want_reserved)
		tfail(&q->t, "%c reserved %" PRIu64 " tables, want %" PRId64, 'A' + i,
		      q->arr[i].resv.reserved, p->want_reserved);
}

static void qs_commit(struct qrun *q, unsigned int i)
{
	what(&q->t, "committing %c", 'A' + i);
	commit_arr(&q->t, &q->arr[i]);
	for (unsigned int k = 0; k < 3; k++)
		q->committed_since[k] = true;
}

/*
 * Give up the newest: with no commit since it was reserved, everything is
 * exactly as before it; the projection loses its ops either way.
 */
static void qs_give_up(struct qrun *q, unsigned int i)
{
	what(&q->t, "giving up %c", 'A' + i);
	pt_unreserve(q->t.pt, &q->arr[i].resv);
	q->arr[i].released = true;
	if (!q->committed_since[i])
		snap_expect(&q->t, &q->snap_before[i], "giving up the newest reservation");
	model_copy(&q->proj, &q->proj_before[i]);
	check_skew(&q->t);
}

static void qs_finish(struct qrun *q)
{
	for (unsigned int i = 0; i < 3; i++) {
		what(&q->t, "releasing %c", 'A' + i);
		if (q->arr[i].committed && !q->arr[i].released)
			unreserve_arr(&q->t, &q->arr[i]);
	}
	check_validate(&q->t, "with every reservation released");
	check_probes(&q->t);
}

static void run_qcase(const struct qcase *qc, const struct pt_test_cfg *c)
{
	struct qrun q = { 0 };

	tctx_init(&q.t, c, qc->name);
	for (unsigned int i = 0; i < 3; i++) {
		plan_init(&q.plan[i]);
		arr_init(&q.arr[i]);
	}
	qc->setup(&q.t, q.plan);
	model_copy(&q.proj, &q.t.real);
	for (unsigned int s = 0; s < ARRAY_SIZE(qc->steps) && qc->steps[s].kind != QS_END; s++) {
		const struct qstep *st = &qc->steps[s];

		if (st->kind == QS_RESERVE)
			qs_reserve(&q, st->arr);
		else if (st->kind == QS_COMMIT)
			qs_commit(&q, st->arr);
		else
			qs_give_up(&q, st->arr);
		what(&q.t, "after step %u", s);
		check_validate(&q.t, "after the step");
		check_probes(&q.t);
		if (qc->after)
			qc->after(&q.t, s);
	}
	qs_finish(&q);
	model_free(&q.proj);
	for (unsigned int i = 0; i < 3; i++)
		model_free(&q.proj_before[i]);
	tctx_fini(&q.t);
}

static void test_queue(void **state)
{
	const struct qcase *qc = *state;

	for (size_t i = 0; i < NR_CFGS; i++)
		run_qcase(qc, &cfg_cases[i]);
}

/* ---- misuse-*: -EBUSY, bad arguments ---- */

/* Every one-op call is -EBUSY while @t has an outstanding reservation, and changes nothing. */
static void expect_one_op_calls_busy(struct tctx *t)
{
	uint64_t x = t->x, g = t->g;
	const struct pt_op ops[] = {
		op_map(x + 64 * g, g, pa_for(t, x)),
		op_unmap(x, 64 * g),
		op_repeat(x + 64 * g, t->lt, t->dummy, g),
	};

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		struct snap before;
		char buf[160];
		int rc;

		op_str(buf, sizeof(buf), &ops[i]);
		snap_take(t, &before);
		rc = pt_test_call_op(t->pt, &ops[i], NULL);
		if (rc != -EBUSY)
			fail_rc(t, buf, rc, -EBUSY);
		snap_expect(t, &before, "a one-op call refused with -EBUSY");
		check_probes(t);
	}
}

static void test_misuse_busy(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++) {
		struct tctx t;
		struct arr a, b;
		uint64_t x;

		tctx_init(&t, &cfg_cases[i], "misuse-busy");
		x = t.x;
		arr_init(&a);
		arr_init(&b);
		state_op(&t, op_map(x, 4 * t.g, pa_for(&t, x)), 0);
		what(&t, "A outstanding");
		reserve_one(&t, &a, NULL, op_unmap(x + t.g, t.g), 0);
		expect_one_op_calls_busy(&t);
		what(&t, "A and B outstanding");
		reserve_one(&t, &b, NULL, op_map(x + t.lt, t.g, t.dummy), 0);
		reserve_one(&t, &a, NULL, op_unmap(x + 2 * t.g, t.g), -EBUSY);
		expect_one_op_calls_busy(&t);
		reserve_one(&t, &b, NULL, op_unmap(x + 3 * t.g, t.g), 0);
		what(&t, "A committed, B outstanding");
		commit_arr(&t, &a);
		reserve_one(&t, &a, NULL, op_unmap(x + 2 * t.g, t.g), -EBUSY);
		expect_one_op_calls_busy(&t);
		commit_arr(&t, &b);
		what(&t, "A and B committed");
		reserve_one(&t, &b, NULL, op_unmap(x, t.g), -EBUSY);
		unreserve_arr(&t, &a);
		unreserve_arr(&t, &b);
		state_op(&t, op_unmap(x, 4 * t.g), 0);
		check_probes(&t);
		tctx_fini(&t);
	}
}

/*
 * While A is in the middle of its commit, neither a new reservation nor B
 * (queued behind A, with a projection made stale by a refused op) may reserve:
 * the real tables are half way between two states the projection knows.
 */
static void misuse_mid_commit(const struct pt_test_cfg *c)
{
	struct tctx t;
	struct arr a, b, fresh;
	uint64_t x, g;

	tctx_init(&t, c, "misuse-mid-commit");
	x = t.x;
	g = t.g;
	arr_init(&a);
	arr_init(&b);
	arr_init(&fresh);
	reserve_one(&t, &a, NULL, op_map(x, g, pa_for(&t, x)), 0);
	reserve_one(&t, &b, NULL, op_map(x + g, g, pa_for(&t, x)), 0);
	reserve_one(&t, &b, NULL, op_map(x, g, pa_for(&t, x)), -EEXIST);
	pt_commit_begin(t.pt, &a.resv);
	pt_commit(t.pt, &a.resv, &a.op[0], NULL);
	what(&t, "A in the middle of its commit");
	reserve_one(&t, &fresh, NULL, op_map(x + 2 * g, g, pa_for(&t, x)), -EBUSY);
	reserve_one(&t, &b, NULL, op_map(x + 2 * g, g, pa_for(&t, x)), -EBUSY);
	pt_commit_end(t.pt, &a.resv);
	model_apply(&t, &t.real, &a.op[0], NULL);
	a.committed = true;
	if (a.resv.consumed != a.resv.reserved)
		tfail(&t, "A consumed %" PRIu64 ", reserved %" PRIu64, a.resv.consumed,
		      a.resv.reserved);
	what(&t, "B after A");
	commit_arr(&t, &b);
	unreserve_arr(&t, &a);
	unreserve_arr(&t, &b);
	check_probes(&t);
	tctx_fini(&t);
}

static void test_misuse_mid_commit(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		misuse_mid_commit(&cfg_cases[i]);
}

/* A bad op: built from a valid map at @x, and the errno it must get. */
struct bad_case {
	const char *name;
	void (*make)(const struct tctx *t, struct pt_op *op);
	int want;
};

static void bad_type0(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->type = 0;
}
static void bad_type5(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->type = 5;
}
static void bad_va(const struct tctx *t, struct pt_op *op)
{
	op->va += t->g / 2;
}
static void bad_size0(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->size = 0;
}
static void bad_size(const struct tctx *t, struct pt_op *op)
{
	op->size += t->g / 2;
}
static void bad_pa(const struct tctx *t, struct pt_op *op)
{
	op->pa += t->g / 2;
}
static void bad_map_period(const struct tctx *t, struct pt_op *op)
{
	op->period = t->g;
}
static void bad_prot0(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->prot = 0;
}
static void bad_prot_bit(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->prot |= 1u << 6;
}
static void bad_cache_mmio(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->prot |= PT_PROT_CACHE | PT_PROT_MMIO;
}

static void bad_period0(const struct tctx *t, struct pt_op *op)
{
	*op = op_repeat(op->va, op->size, t->dummy, 0);
}

static void bad_period_half(const struct tctx *t, struct pt_op *op)
{
	*op = op_repeat(op->va, op->size, t->dummy, t->g / 2);
}

static void bad_period_odd(const struct tctx *t, struct pt_op *op)
{
	*op = op_repeat(op->va, op->size, t->dummy, t->g + 512);
}

static void bad_unmap_pa(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->type = PT_OP_UNMAP;
	op->prot = 0;
}

static void bad_unmap_prot(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	*op = op_unmap(op->va, op->size);
	op->prot = PT_PROT_READ;
}

static void bad_unmap_period(const struct tctx *t, struct pt_op *op)
{
	*op = op_unmap(op->va, op->size);
	op->period = t->g;
}

static void bad_va_end(const struct tctx *t, struct pt_op *op)
{
	op->va = t->ias_end - t->g;
	op->size = 2 * t->g;
}

static void bad_va_wrap(const struct tctx *t, struct pt_op *op)
{
	op->va = t->ias_end - t->g;
	op->size = 0 - op->va + t->g;
}

static void bad_pa_end(const struct tctx *t, struct pt_op *op)
{
	op->pa = (1ull << t->c->oas) - t->g;
}

static void bad_pattern_end(const struct tctx *t, struct pt_op *op)
{
	*op = op_repeat(op->va, op->size, (1ull << t->c->oas) - t->g, 2 * t->g);
}

static void bad_unmap_end(const struct tctx *t, struct pt_op *op)
{
	*op = op_unmap(t->ias_end - t->g, 2 * t->g);
}

static void bad_replace_period(const struct tctx *t, struct pt_op *op)
{
	op->type = PT_OP_REPLACE;
	op->period = t->g;
}

static void bad_replace_pa(const struct tctx *t, struct pt_op *op)
{
	op->type = PT_OP_REPLACE;
	op->pa += t->g / 2;
}

static void bad_replace_prot0(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->type = PT_OP_REPLACE;
	op->prot = 0;
}

static void bad_replace_size0(const struct tctx *t, struct pt_op *op)
{
	(void)t;
	op->type = PT_OP_REPLACE;
	op->size = 0;
}

static void bad_replace_end(const struct tctx *t, struct pt_op *op)
{
	*op = op_replace_at(t->ias_end - t->g, 2 * t->g, op->pa);
}

static void bad_replace_pa_end(const struct tctx *t, struct pt_op *op)
{
	op->type = PT_OP_REPLACE;
	op->pa = (1ull << t->c->oas) - t->g;
}

static const struct bad_case bad_cases[] = {
	{ "type 0", bad_type0, -EINVAL },
	{ "type 5", bad_type5, -EINVAL },
	{ "va misaligned", bad_va, -EINVAL },
	{ "size 0", bad_size0, -EINVAL },
	{ "size misaligned", bad_size, -EINVAL },
	{ "pa misaligned", bad_pa, -EINVAL },
	{ "MAP with a period", bad_map_period, -EINVAL },
	{ "prot 0", bad_prot0, -EINVAL },
	{ "prot unknown bit", bad_prot_bit, -EINVAL },
	{ "prot cache and mmio", bad_cache_mmio, -EINVAL },
	{ "REPEAT period 0", bad_period0, -EINVAL },
	{ "REPEAT period half a granule", bad_period_half, -EINVAL },
	{ "REPEAT period not granule aligned", bad_period_odd, -EINVAL },
	{ "UNMAP with pa", bad_unmap_pa, -EINVAL },
	{ "UNMAP with prot", bad_unmap_prot, -EINVAL },
	{ "UNMAP with period", bad_unmap_period, -EINVAL },
	{ "va past the input space", bad_va_end, -ERANGE },
	{ "va + size wraps", bad_va_wrap, -ERANGE },
	{ "pa past the output space", bad_pa_end, -ERANGE },
	{ "pattern past the output space", bad_pattern_end, -ERANGE },
	{ "UNMAP past the input space", bad_unmap_end, -ERANGE },
	{ "REPLACE with a period", bad_replace_period, -EINVAL },
	{ "REPLACE pa misaligned", bad_replace_pa, -EINVAL },
	{ "REPLACE prot 0", bad_replace_prot0, -EINVAL },
	{ "REPLACE size 0", bad_replace_size0, -EINVAL },
	{ "REPLACE past the input space", bad_replace_end, -ERANGE },
	{ "REPLACE pa past the output space", bad_replace_pa_end, -ERANGE },
};

/* Every bad op is refused into an empty reservation and into one holding an op. */
static void misuse_args_cfg(const struct pt_test_cfg *c)
{
	struct tctx t;
	struct arr held;

	tctx_init(&t, c, "misuse-args");
	state_op(&t, op_map(t.x, 2 * t.lt, pa_for(&t, t.x)), 0);
	arr_init(&held);
	reserve_one(&t, &held, NULL, op_unmap(t.x + t.g, t.g), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct pt_op op = op_map(t.x + 4 * t.lt, 2 * t.g, pa_for(&t, t.x));
		struct arr empty;

		bad_cases[i].make(&t, &op);
		what(&t, "bad op: %s", bad_cases[i].name);
		what_ops(&t, "op", &op, 1);
		arr_init(&empty);
		reserve_one(&t, &empty, NULL, op, bad_cases[i].want);
		reserve_one(&t, &held, NULL, op, bad_cases[i].want);
		check_probes(&t);
	}
	what(&t, "committing the op held through the bad ones");
	commit_arr(&t, &held);
	unreserve_arr(&t, &held);
	check_probes(&t);
	tctx_fini(&t);
}

static void test_misuse_args(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		misuse_args_cfg(&cfg_cases[i]);
}

/* ---- sweep: every allocation attempt of a pt_reserve() fails once ---- */

/**
 * struct sweep_case - a pt_reserve() swept with allocation failures.
 * @setup: build the state, the ops of another reservation queued first (@z;
 *	left empty, a default one is used), the ops reserved before the target
 *	in the same reservation (@pre), and the target op.
 * @needs_z: the target depends on @z (run only behind it).
 */
struct sweep_case {
	const char *name;
	void (*setup)(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target);
	bool needs_z;
};

/* Pages on both sides of a top-level boundary: a new path on each side. */
static void sw_map_fresh(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target)
{
	(void)z;
	plan_add(pre, op_map(t->x + 8 * t->lt, 2 * t->g, pa_for(t, t->x)), 0);
	*target = op_map(t->x - 3 * t->g, 6 * t->g, pa_for(t, t->x - 3 * t->g));
}

/* A dummy page over whole leaf tables and two partial ones: shared template, ends. */
static void sw_repeat(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target)
{
	(void)z;
	plan_add(pre, op_unmap(t->x + 8 * t->lt, t->g), 0);
	plan_add(pre, op_map(t->x + 9 * t->lt, t->g, pa_for(t, t->x)), 0);
	*target = op_repeat(t->x + t->lt - t->g, 3 * t->lt + 2 * t->g, t->dummy, t->g);
}

/* One granule out of the middle of the largest block: a split per level. */
static void sw_split(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target)
{
	(void)z;
	state_op(t, op_map(t->x, 2 * t->big, pa_for(t, t->x)), 0);
	plan_add(pre, op_map(t->x + 4 * t->big, t->g, pa_for(t, t->x)), 0);
	*target = op_unmap(t->x + t->big / 2 + 3 * t->g, t->g);
}

/* A cut of a shared repeat region: a copy of the shared leaf table. */
static void sw_cow(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target)
{
	(void)z;
	state_op(t, op_repeat(t->x, 4 * t->lt, t->dummy, t->g), 0);
	plan_add(pre, op_unmap(t->x + 3 * t->lt, t->lt), 0);
	*target = op_unmap(t->x + t->lt + t->g, t->g);
}

/* The fifth op: the reservation's arrays of ops and pins grow. */
static void sw_fifth(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target)
{
	(void)z;
	for (uint64_t k = 0; k < 4; k++)
		plan_add(pre, op_map(t->x + k * t->lt, t->g, pa_for(t, t->x)), 0);
	*target = op_map(t->x + 5 * t->lt, t->g, pa_for(t, t->x));
}

/* Behind a reservation that maps blocks: split one of them, projected only. */
static void sw_behind(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target)
{
	plan_add(z, op_map(t->x, 2 * t->lt, pa_for(t, t->x)), 0);
	plan_add(pre, op_unmap(t->x + t->g, t->g), 0);
	*target = op_unmap(t->x + t->lt + t->g, t->g);
}

/* A replace of one granule in the middle of the largest block: a split per level. */
static void sw_replace_split(struct tctx *t, struct plan *z, struct plan *pre, struct pt_op *target)
{
	(void)z;
	state_op(t, op_map(t->x, 2 * t->big, pa_for(t, t->x)), 0);
	plan_add(pre, op_map(t->x + 4 * t->big, t->g, pa_for(t, t->x)), 0);
	*target = op_replace_at(t->x + t->big / 2 + 3 * t->g, t->g, t->dummy);
}

static const struct sweep_case sweep_cases[] = {
	{ "sweep-map-fresh", sw_map_fresh, false },
	{ "sweep-repeat-shared", sw_repeat, false },
	{ "sweep-unmap-split", sw_split, false },
	{ "sweep-unmap-copy-shared", sw_cow, false },
	{ "sweep-fifth-op", sw_fifth, false },
	{ "sweep-behind-a-queued-split", sw_behind, true },
	{ "sweep-replace-split", sw_replace_split, false },
};

/* Another reservation, in a top-level item of its own: a block map and a split. */
static void default_z(struct tctx *t, struct plan *z)
{
	uint64_t zx = t->x + 2 * t->top_item;

	plan_add(z, op_map(zx, 2 * t->lt, pa_for(t, zx)), 0);
	plan_add(z, op_unmap(zx + t->lt + t->g, t->g), 0);
}

struct sweep_run {
	struct tctx t;
	struct plan z, pre;
	struct pt_op target;
	struct arr az, aa;
};

static void sweep_setup(struct sweep_run *s, const struct pt_test_cfg *c,
			const struct sweep_case *sc, bool with_z)
{
	memset(s, 0, sizeof(*s));
	tctx_init(&s->t, c, sc->name);
	plan_init(&s->z);
	plan_init(&s->pre);
	sc->setup(&s->t, &s->z, &s->pre, &s->target);
	if (!with_z)
		s->z.n = 0;
	else if (!s->z.n)
		default_z(&s->t, &s->z);
	arr_init(&s->az);
	arr_init(&s->aa);
	for (unsigned int i = 0; i < s->z.n; i++)
		reserve_one(&s->t, &s->az, NULL, s->z.op[i].op, 0);
	for (unsigned int i = 0; i < s->pre.n; i++)
		reserve_one(&s->t, &s->aa, NULL, s->pre.op[i].op, 0);
}

/* After a failed attempt: nothing changed, and validate/translations are as before. */
static void sweep_check_failed(struct sweep_run *s, const struct snap *before, uint64_t z_reserved,
			       uint64_t a_reserved, unsigned int n)
{
	what(&s->t, "N=%u: after the failed pt_reserve()", n);
	snap_expect(&s->t, before, "a pt_reserve() that failed with -ENOMEM");
	if (s->az.resv.reserved != z_reserved || s->aa.resv.reserved != a_reserved)
		tfail(&s->t, "reserved %" PRIu64 "/%" PRIu64 ", was %" PRIu64 "/%" PRIu64,
		      s->az.resv.reserved, s->aa.resv.reserved, z_reserved, a_reserved);
	check_validate(&s->t, "after a failed pt_reserve()");
	check_probes(&s->t);
}

/* Commit what is reserved (the queued one first), exactly; release; compare. */
static void sweep_finish(struct sweep_run *s)
{
	what(&s->t, "committing");
	what_ops(&s->t, "Z", s->az.op, s->az.n);
	what_ops(&s->t, "A", s->aa.op, s->aa.n);
	if (s->az.n)
		commit_arr(&s->t, &s->az);
	commit_arr(&s->t, &s->aa);
	check_probes(&s->t);
	if (s->az.n)
		unreserve_arr(&s->t, &s->az);
	unreserve_arr(&s->t, &s->aa);
	check_probes(&s->t);
	tctx_fini(&s->t);
}

/*
 * One step N of a sweep, on a fresh table: the N-th allocation attempt of the
 * target's pt_reserve() fails. Then either the target is reserved again
 * without failure (@retry) or only the earlier ops commit. Return whether the
 * target succeeded at N (it made fewer than N attempts).
 */
static bool sweep_point(const struct pt_test_cfg *c, const struct sweep_case *sc, bool with_z,
			bool retry, unsigned int n)
{
	struct sweep_run *s = calloc(1, sizeof(*s));
	uint64_t z_reserved, a_reserved, start, made;
	struct snap before;
	bool ok;
	int rc;

	assert_non_null(s);
	sweep_setup(s, c, sc, with_z);
	z_reserved = s->az.resv.reserved;
	a_reserved = s->aa.resv.reserved;
	snap_take(&s->t, &before);
	what(&s->t, "N=%u (%s, %s)", n, with_z ? "behind another" : "alone",
	     retry ? "retry" : "earlier ops only");
	what_ops(&s->t, "target", &s->target, 1);
	start = s->t.env.attempts;
	s->t.env.fail_at = start + n;
	rc = pt_reserve(s->t.pt, &s->target, &s->aa.resv);
	made = s->t.env.attempts - start;
	s->t.env.fail_at = 0;
	ok = rc == 0;
	if (ok && made != n - 1)
		tfail(&s->t,
		      "succeeded at N=%u after %" PRIu64 " attempts: not every attempt failed once",
		      n, made);
	if (ok) {
		s->aa.op[s->aa.n++] = s->target;
		add_probe(&s->t, &s->target);
	} else if (rc != -ENOMEM) {
		fail_rc(&s->t, "pt_reserve", rc, -ENOMEM);
	} else if (made < n) {
		tfail(&s->t, "N=%u: failed after %" PRIu64 " attempts, without reaching N", n,
		      made);
	} else {
		sweep_check_failed(s, &before, z_reserved, a_reserved, n);
		if (retry)
			reserve_one(&s->t, &s->aa, NULL, s->target, 0);
	}
	sweep_finish(s);
	free(s);
	return ok;
}

static void test_sweep(void **state)
{
	const struct sweep_case *sc = *state;

	for (size_t i = 0; i < NR_CFGS; i++) {
		for (unsigned int v = sc->needs_z ? 1 : 0; v < 2; v++) {
			for (unsigned int retry = 0; retry < 2; retry++) {
				unsigned int n = 1;

				while (!sweep_point(&cfg_cases[i], sc, v, retry, n)) {
					if (++n == MAX_SWEEP)
						fail_msg("[%s] %s: still failing at N=%u",
							 cfg_cases[i].name, sc->name, n);
				}
				/*
				 * Every target takes a table: at least its memory and the
				 * reservation's record fail (the table's own record may come
				 * from a slab with room).
				 */
				if (n < 2)
					fail_msg("[%s] %s: succeeded at N=%u", cfg_cases[i].name,
						 sc->name, n);
				if (retry)
					printf("  %-30s %-26s %-15s swept N = 1..%u\n", sc->name,
					       cfg_cases[i].name, v ? "behind another" : "alone",
					       n);
			}
		}
	}
}

/* ---- pins-*, flushes ---- */

static unsigned int count_events(const struct pt_test_env *env, size_t from,
				 enum pt_test_ev_type type)
{
	unsigned int n = 0;

	for (size_t i = from; i < env->nr_log; i++)
		n += env->log[i].type == type;
	return n;
}

/**
 * struct reuse_case - an array that unmaps the pages of a leaf table and maps again.
 * @unmap_off/@unmap_len: the unmap, in granules from t->x.
 * @whole_item: the unmap covers the leaf table's item whole instead.
 * @map_off/@map_len: the map, in granules from t->x.
 * @want_tables: what the array reserves (and consumes).
 */
struct reuse_case {
	const char *name;
	unsigned int unmap_off, unmap_len;
	bool whole_item;
	unsigned int map_off, map_len;
	unsigned int want_tables;
};

static const struct reuse_case reuse_cases[] = {
	/* The leaf table empties, stays pinned, and takes the map: no table. */
	{ "same range", 0, 3, false, 0, 3, 0 },
	{ "a piece", 0, 3, false, 1, 1, 0 },
	{ "a wider range", 0, 3, false, 0, 9, 0 },
	/* Unmapping the item whole unlinks its table: the map needs a new one. */
	{ "item whole", 0, 0, true, 1, 1, 1 },
};

static void reuse_one(const struct pt_test_cfg *c, const struct reuse_case *rc)
{
	struct tctx t;
	struct arr a;
	struct pt_stats before, after;
	uint64_t g, unmap_len;

	tctx_init(&t, c, "pins-reuse");
	g = t.g;
	state_op(&t, op_map(t.x, 3 * g, pa_for(&t, t.x)), 0);
	pt_get_stats(t.pt, &before);
	t.env.record = true;
	pt_test_log_clear(&t.env);
	arr_init(&a);
	what(&t, "%s", rc->name);
	unmap_len = rc->whole_item ? t.lt : rc->unmap_len * g;
	reserve_one(&t, &a, NULL, op_unmap(t.x + rc->unmap_off * g, unmap_len), 0);
	reserve_one(&t, &a, NULL, op_map(t.x + rc->map_off * g, rc->map_len * g, 7 * t.big), 0);
	if (a.resv.reserved != rc->want_tables)
		tfail(&t, "reserved %" PRIu64 " tables, want %u", a.resv.reserved, rc->want_tables);
	commit_arr(&t, &a);
	unreserve_arr(&t, &a);
	pt_get_stats(t.pt, &after);
	if (after.tables != before.tables ||
	    count_events(&t.env, 0, PT_EV_ALLOC) != rc->want_tables ||
	    count_events(&t.env, 0, PT_EV_FREE) != rc->want_tables)
		tfail(&t, "%" PRIu64 " tables (was %" PRIu64 "), %u allocated, %u freed; want %u",
		      after.tables, before.tables, count_events(&t.env, 0, PT_EV_ALLOC),
		      count_events(&t.env, 0, PT_EV_FREE), rc->want_tables);
	check_probes(&t);
	tctx_fini(&t);
}

static void test_pins_reuse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		for (size_t k = 0; k < ARRAY_SIZE(reuse_cases); k++)
			reuse_one(&cfg_cases[i], &reuse_cases[k]);
}

/* No table is freed before @mark; every one freed after it comes after the last flush. */
static void check_free_after_flush(struct tctx *t, size_t mark)
{
	size_t last_flush = 0;

	for (size_t i = 0; i < t->env.nr_log; i++) {
		const struct pt_test_ev *e = &t->env.log[i];

		if (e->type == PT_EV_FLUSH_RANGE || e->type == PT_EV_FLUSH_ALL)
			last_flush = i;
		if (e->type == PT_EV_FREE && i < mark)
			tfail(t, "event %zu: a table freed before pt_unreserve()", i);
		if (e->type == PT_EV_FREE && i < last_flush)
			tfail(t, "event %zu: a table freed before the flush at event %zu", i,
			      last_flush);
	}
}

/*
 * An array unmaps every page under a fresh top-level item, in pieces: the
 * emptied tables are pruned at pt_commit_end() (nothing empty stays linked),
 * freed at pt_unreserve() after the flush, and the stats drop back.
 */
static void prune_one(const struct pt_test_cfg *c)
{
	struct tctx t;
	struct arr a;
	struct snap base;
	struct pt_stats now;
	unsigned int tables;
	size_t mark;

	tctx_init(&t, c, "pins-prune");
	snap_take(&t, &base);
	state_op(&t, op_map(t.x, 3 * t.g, pa_for(&t, t.x)), 0);
	state_op(&t, op_map(t.x + t.lt, t.g, pa_for(&t, t.x)), 0);
	tables = PT_LEAF_LEVEL - t.geo.start_level + 1;
	t.env.record = true;
	pt_test_log_clear(&t.env);
	arr_init(&a);
	reserve_one(&t, &a, NULL, op_unmap(t.x, t.g), 0);
	reserve_one(&t, &a, NULL, op_unmap(t.x + t.g, 2 * t.g), 0);
	reserve_one(&t, &a, NULL, op_unmap(t.x + t.lt, t.g), 0);
	what(&t, "unmapping every page in pieces");
	commit_arr(&t, &a);
	expect_level(&t, t.x, t.geo.start_level, "every table below the top item pruned");
	expect_level(&t, t.x + t.lt, t.geo.start_level, "every table below the top item pruned");
	mark = t.env.nr_log;
	unreserve_arr(&t, &a);
	check_free_after_flush(&t, mark);
	if (count_events(&t.env, mark, PT_EV_FREE) != tables)
		tfail(&t, "pt_unreserve() freed %u tables, want %u",
		      count_events(&t.env, mark, PT_EV_FREE), tables);
	base.flushes = t.env.flush_ranges + t.env.flush_alls;
	base.syncs = t.env.syncs;
	/* The freed tables' link arrays may stay cached for reuse: up to 64 KiB (pt_meta.c). */
	pt_get_stats(t.pt, &now);
	if (now.meta_bytes >= base.st.meta_bytes && now.meta_bytes - base.st.meta_bytes <= 65536)
		base.st.meta_bytes = now.meta_bytes;
	snap_expect(&t, &base, "unmapping everything");
	tctx_fini(&t);
}

static void test_pins_prune(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		prune_one(&cfg_cases[i]);
}

/*
 * A shared leaf table is pinned through the first item that shares it; the
 * array copies it for that item, then empties the original through the second
 * item. pt_commit_end() must still unlink it.
 */
static void second_alias_one(const struct pt_test_cfg *c)
{
	struct tctx t;
	struct arr a;
	uint64_t x, g, lt;

	tctx_init(&t, c, "pins-second-alias");
	x = t.x;
	g = t.g;
	lt = t.lt;
	state_op(&t, op_repeat(x, 2 * lt, t.dummy, g), 0);
	arr_init(&a);
	reserve_one(&t, &a, NULL, op_unmap(x + g, 2 * lt - 2 * g), 0);
	reserve_one(&t, &a, NULL, op_unmap(x + 2 * lt - g, g), 0);
	what(&t, "emptying a shared leaf table through its second item");
	what_ops(&t, "A", a.op, a.n);
	commit_arr(&t, &a);
	expect_level(&t, x + lt, PT_LEAF_LEVEL - 1, "the emptied leaf table unlinked");
	unreserve_arr(&t, &a);
	check_probes(&t);
	tctx_fini(&t);
}

static void test_pins_second_alias(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		second_alias_one(&cfg_cases[i]);
}

/* An expected flush: a range, or flush_all. */
struct fl {
	uint64_t va, size;
	bool leaf_only, all;
};

#define MAX_FLUSH_OPS 9u

struct flush_case {
	const char *name;
	/* State, then the array's ops and the flushes its commit must issue, in order. */
	void (*build)(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
		      unsigned int *nwant);
};

static void fl_adjacent_maps(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
			     unsigned int *nwant)
{
	ops[(*n)++] = op_map(t->x, 4 * t->g, pa_for(t, t->x));
	ops[(*n)++] = op_map(t->x + 4 * t->g, 4 * t->g, pa_for(t, t->x + 4 * t->g));
	want[(*nwant)++] = (struct fl){ t->x, 8 * t->g, true, false };
}

static void fl_separate_maps(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
			     unsigned int *nwant)
{
	ops[(*n)++] = op_map(t->x, 4 * t->g, pa_for(t, t->x));
	ops[(*n)++] = op_map(t->x + 16 * t->g, 4 * t->g, pa_for(t, t->x));
	want[(*nwant)++] = (struct fl){ t->x, 4 * t->g, true, false };
	want[(*nwant)++] = (struct fl){ t->x + 16 * t->g, 4 * t->g, true, false };
}

static void fl_adjacent_unmaps(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
			       unsigned int *nwant)
{
	state_op(t, op_map(t->x, 8 * t->g, pa_for(t, t->x)), 0);
	ops[(*n)++] = op_unmap(t->x, 2 * t->g);
	ops[(*n)++] = op_unmap(t->x + 2 * t->g, 2 * t->g);
	want[(*nwant)++] = (struct fl){ t->x, 4 * t->g, true, false };
}

/* Map and unmap in a fresh top-level item: every table goes, one flush of the item. */
static void fl_map_unmap(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
			 unsigned int *nwant)
{
	ops[(*n)++] = op_map(t->x, 4 * t->g, pa_for(t, t->x));
	ops[(*n)++] = op_unmap(t->x, 4 * t->g);
	want[(*nwant)++] = (struct fl){ t->x, t->top_item, false, false };
}

/* The pages of a fresh top-level item unmapped in pieces: pruned at the end, one flush. */
static void fl_prune(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
		     unsigned int *nwant)
{
	state_op(t, op_map(t->x, 3 * t->g, pa_for(t, t->x)), 0);
	ops[(*n)++] = op_unmap(t->x, t->g);
	ops[(*n)++] = op_unmap(t->x + t->g, 2 * t->g);
	want[(*nwant)++] = (struct fl){ t->x, t->top_item, false, false };
}

/* More separate ranges than a gather tracks: one flush_all. */
static void fl_nine(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
		    unsigned int *nwant)
{
	for (uint64_t k = 0; k < 9; k++)
		ops[(*n)++] = op_map(t->x + 2 * k * t->g, t->g, pa_for(t, t->x));
	want[(*nwant)++] = (struct fl){ 0, 0, false, true };
}

/* A replace of pages inside their leaf table, written over in place: the old ones flushed. */
static void fl_replace_pages(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
			     unsigned int *nwant)
{
	state_op(t, op_map(t->x, 8 * t->g, pa_for(t, t->x)), 0);
	ops[(*n)++] = op_replace_at(t->x + 2 * t->g, 3 * t->g, t->dummy);
	want[(*nwant)++] = (struct fl){ t->x + 2 * t->g, 3 * t->g, true, false };
}

/* A replace of a block's granule: the split flushes the block. */
static void fl_replace_cut(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
			   unsigned int *nwant)
{
	state_op(t, op_map(t->x, t->big, pa_for(t, t->x)), 0);
	ops[(*n)++] = op_replace_at(t->x + t->g, t->g, t->dummy);
	want[(*nwant)++] = (struct fl){ t->x, t->big, false, false };
}

/* A replace over a leaf table's span whole: the table goes, freed after the flush. */
static void fl_replace_table(struct tctx *t, struct pt_op *ops, unsigned int *n, struct fl *want,
			     unsigned int *nwant)
{
	state_op(t, op_map(t->x, 3 * t->g, pa_for(t, t->x)), 0);
	ops[(*n)++] = op_replace_at(t->x, t->lt, pa_for(t, t->x) + t->g);
	want[(*nwant)++] = (struct fl){ t->x, t->lt, false, false };
}

static const struct flush_case flush_cases[] = {
	{ "two adjacent maps", fl_adjacent_maps },
	{ "two separate maps", fl_separate_maps },
	{ "two adjacent unmaps", fl_adjacent_unmaps },
	{ "map then unmap", fl_map_unmap },
	{ "unmap in pieces", fl_prune },
	{ "nine separate maps", fl_nine },
	{ "replace pages", fl_replace_pages },
	{ "replace a block's granule", fl_replace_cut },
	{ "replace a leaf table whole", fl_replace_table },
};

static void check_flushes(struct tctx *t, size_t from, const struct fl *want, unsigned int nwant)
{
	unsigned int k = 0;

	for (size_t i = from; i < t->env.nr_log; i++) {
		const struct pt_test_ev *e = &t->env.log[i];
		bool all = e->type == PT_EV_FLUSH_ALL;

		if (e->type != PT_EV_FLUSH_RANGE && !all)
			continue;
		if (k == nwant)
			tfail(t,
			      "flush %u (0x%" PRIx64 " +0x%" PRIx64 "): more than the %u expected",
			      k, e->a, e->b, nwant);
		if (all != want[k].all || (!all && (e->a != want[k].va || e->b != want[k].size ||
						    e->leaf_only != want[k].leaf_only)))
			tfail(t,
			      "flush %u: %s 0x%" PRIx64 " +0x%" PRIx64
			      " leaf_only %d; want %s 0x%" PRIx64 " +0x%" PRIx64 " leaf_only %d",
			      k, all ? "all" : "range", e->a, e->b, e->leaf_only,
			      want[k].all ? "all" : "range", want[k].va, want[k].size,
			      want[k].leaf_only);
		k++;
	}
	if (k != nwant)
		tfail(t, "%u flushes, want %u", k, nwant);
}

static void flush_one(const struct pt_test_cfg *c, const struct flush_case *fc)
{
	struct pt_op ops[MAX_FLUSH_OPS];
	struct fl want[4];
	unsigned int n = 0, nwant = 0;
	struct tctx t;
	struct pt_resv resv;
	size_t mark;

	tctx_init(&t, c, "flushes");
	t.env.record = true;
	fc->build(&t, ops, &n, want, &nwant);
	what(&t, "%s", fc->name);
	what_ops(&t, "A", ops, n);
	pt_resv_init(&resv);
	for (unsigned int i = 0; i < n; i++)
		if (pt_reserve(t.pt, &ops[i], &resv))
			tfail(&t, "pt_reserve of op %u failed", i);
	mark = t.env.nr_log;
	pt_commit_begin(t.pt, &resv);
	for (unsigned int i = 0; i < n; i++) {
		pt_commit(t.pt, &resv, &ops[i], NULL);
		model_apply(&t, &t.real, &ops[i], NULL);
		add_probe(&t, &ops[i]);
	}
	pt_commit_end(t.pt, &resv);
	check_flushes(&t, mark, want, nwant);
	if (resv.consumed != resv.reserved)
		tfail(&t, "consumed %" PRIu64 ", reserved %" PRIu64, resv.consumed, resv.reserved);
	mark = t.env.nr_log;
	pt_unreserve(t.pt, &resv);
	check_free_after_flush(&t, mark);
	check_validate(&t, "after pt_unreserve()");
	check_probes(&t);
	tctx_fini(&t);
}

/* ---- replace: an unmap and then a map, in one op ---- */

/**
 * struct replace_case - a replace, alone in its reservation, over what @setup maps.
 * @setup: map the state; fill the replace; return the tables it must reserve
 *	(and consume), or -1 for a new path's (not checked).
 * @want_freed: tables pt_unreserve() frees, after the flush.
 */
struct replace_case {
	const char *name;
	int (*setup)(struct tctx *t, struct pt_op *op);
	unsigned int want_freed;
};

static int rp_nothing(struct tctx *t, struct pt_op *op)
{
	*op = op_replace_at(t->x + 5 * t->g, 2 * t->g, t->dummy);
	return -1;
}

/* Inside the leaf table: written over in place. */
static int rp_pages(struct tctx *t, struct pt_op *op)
{
	state_op(t, op_map(t->x, 8 * t->g, pa_for(t, t->x)), 0);
	*op = op_replace_at(t->x + t->g, 4 * t->g, t->dummy);
	return 0;
}

static int rp_pages_and_holes(struct tctx *t, struct pt_op *op)
{
	state_op(t, op_map(t->x, 2 * t->g, pa_for(t, t->x)), 0);
	state_op(t, op_map(t->x + 4 * t->g, 2 * t->g, pa_for(t, t->x + 4 * t->g)), 0);
	*op = op_replace_at(t->x + t->g, 6 * t->g, t->dummy);
	return 0;
}

/* Across two leaf tables: the projection counts it (nothing to take). */
static int rp_two_tables(struct tctx *t, struct pt_op *op)
{
	state_op(t, op_map(t->x + t->lt - 2 * t->g, 4 * t->g, pa_for(t, t->x)), 0);
	*op = op_replace_at(t->x + t->lt - 3 * t->g, 6 * t->g, t->dummy);
	return 0;
}

static int rp_block_whole(struct tctx *t, struct pt_op *op)
{
	state_op(t, op_map(t->x, t->big, pa_for(t, t->x)), 0);
	*op = op_replace_at(t->x, t->big, pa_for(t, t->x) + t->big);
	return 0;
}

/*
 * A block of a leaf table's span, then an unmap of nothing beside it that
 * remembers its table (pt_descend()): a replace there takes the one-op path
 * of blocks.
 */
static void map_remembered_block(struct tctx *t)
{
	state_op(t, op_map(t->x, t->lt, pa_for(t, t->x)), 0);
	state_op(t, op_unmap(t->x + 3 * t->lt, t->lt), 0);
}

/* Over the free item next to the block: a map of a block. */
static int rp_free_blocks(struct tctx *t, struct pt_op *op)
{
	map_remembered_block(t);
	*op = op_replace_at(t->x + t->lt, t->lt, pa_for(t, t->x) + 2 * t->lt);
	return t->geo.leaf_sizes & t->lt ? 0 : 1;
}

/* Over the block and the free item next to it: counted on the projection. */
static int rp_blocks(struct tctx *t, struct pt_op *op)
{
	map_remembered_block(t);
	*op = op_replace_at(t->x, 2 * t->lt, pa_for(t, t->x) + 2 * t->lt);
	return t->geo.leaf_sizes & t->lt ? 0 : 1;
}

/* One granule out of the largest block: a split per level below it. */
static int rp_block_cut(struct tctx *t, struct pt_op *op)
{
	state_op(t, op_map(t->x, 2 * t->big, pa_for(t, t->x)), 0);
	*op = op_replace_at(t->x + t->big / 2 + 3 * t->g, t->g, t->dummy);
	return (int)(PT_LEAF_LEVEL - t->big_level);
}

/* A leaf table's span whole, to a block: the table goes (a new one if no block fits). */
static int rp_table_to_block(struct tctx *t, struct pt_op *op)
{
	state_op(t, op_map(t->x, 3 * t->g, pa_for(t, t->x)), 0);
	*op = op_replace_at(t->x, t->lt, pa_for(t, t->x));
	return t->geo.leaf_sizes & t->lt ? 0 : 1;
}

/* The same to pages: the unmap drops the table, the map takes a new one. */
static int rp_table_to_pages(struct tctx *t, struct pt_op *op)
{
	state_op(t, op_map(t->x, 3 * t->g, pa_for(t, t->x)), 0);
	*op = op_replace_at(t->x, t->lt, pa_for(t, t->x) + t->g);
	return 1;
}

static const struct replace_case replace_cases[] = {
	{ "over nothing", rp_nothing, 0 },
	{ "over pages", rp_pages, 0 },
	{ "over pages and holes", rp_pages_and_holes, 0 },
	{ "over pages of two leaf tables", rp_two_tables, 0 },
	{ "over a block whole", rp_block_whole, 0 },
	{ "over a free item beside a block", rp_free_blocks, 0 },
	{ "over a block and a free item", rp_blocks, 0 },
	{ "cutting a block", rp_block_cut, 0 },
	{ "over a leaf table whole, to a block", rp_table_to_block, 1 },
	{ "over a leaf table whole, to pages", rp_table_to_pages, 1 },
};

static void replace_one(const struct pt_test_cfg *c, const struct replace_case *rc)
{
	struct tctx t;
	struct arr a;
	struct pt_op op;
	int64_t tables;
	int want;
	size_t mark;

	tctx_init(&t, c, "replace");
	what(&t, "%s", rc->name);
	want = rc->setup(&t, &op);
	t.env.record = true;
	pt_test_log_clear(&t.env);
	arr_init(&a);
	tables = reserve_one(&t, &a, NULL, op, 0);
	if (want >= 0 && tables != want)
		tfail(&t, "reserved %" PRId64 " tables, want %d", tables, want);
	commit_arr(&t, &a);
	mark = t.env.nr_log;
	unreserve_arr(&t, &a);
	if (count_events(&t.env, mark, PT_EV_FREE) != rc->want_freed)
		tfail(&t, "%u tables freed, want %u", count_events(&t.env, mark, PT_EV_FREE),
		      rc->want_freed);
	check_free_after_flush(&t, mark);
	check_probes(&t);
	tctx_fini(&t);
}

static void test_replace(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		for (size_t k = 0; k < ARRAY_SIZE(replace_cases); k++)
			replace_one(&cfg_cases[i], &replace_cases[k]);
}

static void test_flushes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_CFGS; i++)
		for (size_t k = 0; k < ARRAY_SIZE(flush_cases); k++)
			flush_one(&cfg_cases[i], &flush_cases[k]);
}

/* ---- debug-alloc-abort: allocation inside a fence-signalling section ---- */

static void nop_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	(void)ctx;
	(void)va;
	(void)size;
	(void)leaf_only;
}

static void nop_flush_all(void *ctx)
{
	(void)ctx;
}

static const struct pt_flush_ops nop_flush_ops = {
	.flush_range = nop_flush_range,
	.flush_all = nop_flush_all,
};

static struct pt_pool *child_pool(bool abort_in_signalling)
{
	struct pt_pool_cfg pcfg = { .page_size = 4096, .abort_in_signalling = abort_in_signalling };
	struct pt_pool *pool;

	if (pt_pool_create(&pcfg, &pool))
		_exit(10);
	return pool;
}

/* A table on the pool (which does not check), with the library's own check or not. */
static struct pt *child_pt(uint32_t debug)
{
	struct pt_cfg cfg = {
		.fmt = PT_FMT_MALI_AARCH64,
		.granule_lg2 = 12,
		.ias = 48,
		.oas = 48,
		.coherent_walk = true,
		.alloc = &pt_pool_ops,
		.alloc_ctx = child_pool(false),
		.flush = &nop_flush_ops,
		.debug = debug,
	};
	struct pt *pt;

	if (pt_create(&cfg, &pt))
		_exit(11);
	return pt;
}

static void child_pool_alloc(bool in_section)
{
	struct pt_pool *pool = child_pool(true);
	struct pt_mem mem;

	if (in_section)
		pt_signalling_begin();
	if (pt_pool_ops.alloc(pool, 4096, 4096, &mem))
		_exit(12);
	pt_pool_ops.free(pool, &mem, 4096, 4096);
	_exit(in_section ? 13 : 0); /* in a section, the allocation must not return */
}

static void child_pool_abort(void)
{
	child_pool_alloc(true);
}

static void child_pool_ok(void)
{
	child_pool_alloc(false);
}

static void child_pt_map(uint32_t debug, bool in_section)
{
	struct pt *pt = child_pt(debug);

	/* Outside a section the table allocates freely. */
	if (pt_map(pt, 1ull << 30, 1ull << 30, 4096, RW))
		_exit(14);
	if (in_section)
		pt_signalling_begin();
	if (pt_map(pt, 1ull << 40, 1ull << 30, 4096, RW))
		_exit(15);
	if (in_section)
		pt_signalling_end();
	_exit(in_section && debug ? 16 : 0);
}

static void child_pt_abort(void)
{
	child_pt_map(PT_DEBUG_ABORT_ALLOC_IN_COMMIT, true);
}

static void child_pt_ok(void)
{
	child_pt_map(PT_DEBUG_ABORT_ALLOC_IN_COMMIT, false);
}

static void child_pt_no_debug(void)
{
	child_pt_map(0, true);
}

/* Run @fn in a child whose stderr goes to @out; return 0 and its wait status, or -errno. */
static int run_child(void (*fn)(void), char *out, size_t len, int *status)
{
	int fds[2];
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		fn();
		_exit(20);
	}
	close(fds[1]);
	while (got + 1 < len && (r = read(fds[0], out + got, len - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fds[0]);
	return waitpid(pid, status, 0) == pid ? 0 : -errno;
}

struct child_case {
	const char *name;
	void (*fn)(void);
	bool aborts;
	const char *message; /* what stderr must contain when it aborts */
};

static const struct child_case child_cases[] = {
	{ "pool alloc in a section", child_pool_abort, true, "fence-signalling" },
	{ "pool alloc outside", child_pool_ok, false, NULL },
	{ "PT_DEBUG_ABORT_ALLOC_IN_COMMIT pt_map in a section", child_pt_abort, true,
	  "allocated inside a fence-signalling section" },
	{ "PT_DEBUG_ABORT_ALLOC_IN_COMMIT pt_map outside", child_pt_ok, false, NULL },
	{ "no debug flag: pt_map in a section", child_pt_no_debug, false, NULL },
};

static void test_debug_alloc_abort(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(child_cases); i++) {
		const struct child_case *cc = &child_cases[i];
		char out[1024];
		int status = 0, err = run_child(cc->fn, out, sizeof(out), &status);

		if (err == -ENOSYS) {
			skip(); /* no fork: exit code 77 semantics */
		}
		assert_int_equal(err, 0);
		if (cc->aborts && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT))
			fail_msg("%s: child status 0x%x, want SIGABRT; stderr: %s", cc->name,
				 status, out);
		if (cc->aborts && !strstr(out, cc->message))
			fail_msg("%s: stderr \"%s\" lacks \"%s\"", cc->name, out, cc->message);
		if (!cc->aborts && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			fail_msg("%s: child status 0x%x, want exit 0; stderr: %s", cc->name, status,
				 out);
		printf("  %-52s %s\n", cc->name, cc->aborts ? "aborted" : "ran");
	}
}

/* ---- main ---- */

#define RANDOM_TEST(i)                                                          \
	{                                                                       \
		random_names[i], test_random, NULL, NULL, (void *)&cfg_cases[i] \
	}
#define QUEUE_TEST(i)                                                      \
	{                                                                  \
		qcases[i].name, test_queue, NULL, NULL, (void *)&qcases[i] \
	}
#define NAMED_TEST(name, fn)               \
	{                                  \
		name, fn, NULL, NULL, NULL \
	}
#define SWEEP_TEST(i)                                                                \
	{                                                                            \
		sweep_cases[i].name, test_sweep, NULL, NULL, (void *)&sweep_cases[i] \
	}

static char random_names[NR_CFGS][64];

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		RANDOM_TEST(0),
		RANDOM_TEST(1),
		RANDOM_TEST(2),
		RANDOM_TEST(3),
		QUEUE_TEST(0),
		QUEUE_TEST(1),
		QUEUE_TEST(2),
		QUEUE_TEST(3),
		QUEUE_TEST(4),
		QUEUE_TEST(5),
		QUEUE_TEST(6),
		QUEUE_TEST(7),
		QUEUE_TEST(8),
		SWEEP_TEST(0),
		SWEEP_TEST(1),
		SWEEP_TEST(2),
		SWEEP_TEST(3),
		SWEEP_TEST(4),
		SWEEP_TEST(5),
		SWEEP_TEST(6),
		NAMED_TEST("misuse-busy", test_misuse_busy),
		NAMED_TEST("misuse-mid-commit", test_misuse_mid_commit),
		NAMED_TEST("misuse-args", test_misuse_args),
		NAMED_TEST("pins-reuse", test_pins_reuse),
		NAMED_TEST("pins-prune", test_pins_prune),
		NAMED_TEST("pins-second-alias", test_pins_second_alias),
		NAMED_TEST("flushes", test_flushes),
		NAMED_TEST("replace", test_replace),
		NAMED_TEST("debug-alloc-abort", test_debug_alloc_abort),
	};
	const struct tu_args args = { "test-resv", &opt_seed, &opt_count };
	struct sigaction sa = { .sa_handler = on_abort };

	_Static_assert(ARRAY_SIZE(cfg_cases) == 4, "one random test per configuration");
	_Static_assert(ARRAY_SIZE(qcases) == 9, "one test per queue case");
	_Static_assert(ARRAY_SIZE(sweep_cases) == 7, "one test per sweep case");
	if (tu_parse_args(&args, argc, argv))
		return 2;
	for (size_t i = 0; i < NR_CFGS; i++)
		snprintf(random_names[i], sizeof(random_names[i]), "random-%s", cfg_cases[i].name);
	sigaction(SIGABRT, &sa, NULL);
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
