// SPDX-License-Identifier: MIT
/*
 * Contracts that hold in release builds (issue 13): each misuse of a public
 * entry point of pgtable/ and vm/ - out of order, twice, still in use - returns
 * its errno, fires its one-time warning through the OS layer exactly once, and
 * changes nothing. "Nothing" is checked by effects: a dump of the tables, the
 * table and pool counters, allocation attempts, flush and sync calls, the
 * fence-signalling state, the VM's VAs, stats, memory and object references.
 *
 * Warnings fire once per call site and process (WARN_ON_ONCE), so the cases
 * run in this order, in one process: a case that hits a site fired already
 * expects no new warning. Runs in every build, release included (NDEBUG: no
 * check here is an assert()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpuvm/os.h>

#include "vm-test.h"

#define MiB (1ull << 20)
#define B0 (1ull << 32) /* where the cases map: inside the VM, 1 GiB aligned */

/* Warnings the OS layer reported: how many, and the last one's condition. */
static struct {
	unsigned int n;
	char last[256];
} warns;

static void warn_hook(void *ctx, const char *file, int line, const char *cond)
{
	(void)ctx;
	(void)file;
	(void)line;
	warns.n++;
	snprintf(warns.last, sizeof(warns.last), "%s", cond);
}

/*
 * The call since @before warned @want times (0 or 1); with one, its condition
 * names @what.
 */
static void expect_warned(const char *ctx, unsigned int before, unsigned int want, const char *what)
{
	if (warns.n - before != want)
		fail_msg("%s: %u warnings, want %u (last: %s)", ctx, warns.n - before, want,
			 warns.last);
	if (want && !strstr(warns.last, what))
		fail_msg("%s: warned '%s', want one about '%s'", ctx, warns.last, what);
}

/* Text a print callback accumulated. */
struct text {
	char *s;
	size_t len;
};

static void text_print(void *ctx, const char *fmt, ...)
{
	struct text *t = ctx;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	t->s = realloc(t->s, t->len + (size_t)n + 1);
	assert_non_null(t->s);
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* Everything of a page table and its environment that a misuse must not change. */
struct pt_snap {
	struct text dump;
	struct pt_stats st;
	uint64_t pages_in_use, bytes_in_use;
	uint64_t attempts, flush_ranges, flush_alls, syncs;
	bool signalling;
};

static void pt_snap_take(struct pt_test_env *env, const struct pt *pt, struct pt_snap *s)
{
	memset(s, 0, sizeof(*s));
	CHECK_ERR("pt_validate", pt_validate(pt, text_print, &s->dump), 0);
	pt_dump(pt, text_print, &s->dump);
	pt_get_stats(pt, &s->st);
	s->pages_in_use = pt_test_pages_in_use(env);
	s->bytes_in_use = pt_test_bytes_in_use(env);
	s->attempts = env->attempts;
	s->flush_ranges = env->flush_ranges;
	s->flush_alls = env->flush_alls;
	s->syncs = env->syncs;
	s->signalling = pt_in_signalling();
}

static void pt_snap_free(struct pt_snap *s)
{
	free(s->dump.s);
}

static void pt_expect_unchanged(const char *ctx, struct pt_test_env *env, const struct pt *pt,
				struct pt_snap *before)
{
	struct pt_snap now;

	pt_snap_take(env, pt, &now);
	if (strcmp(now.dump.s, before->dump.s))
		fail_msg("%s: the tables changed:\n%s\nwere:\n%s", ctx, now.dump.s, before->dump.s);
	if (memcmp(&now.st, &before->st, sizeof(now.st)))
		fail_msg("%s: the table stats changed", ctx);
	CHECK_EQ(ctx, now.pages_in_use, before->pages_in_use);
	CHECK_EQ(ctx, now.bytes_in_use, before->bytes_in_use);
	CHECK_EQ(ctx, now.attempts, before->attempts);
	CHECK_EQ(ctx, now.flush_ranges, before->flush_ranges);
	CHECK_EQ(ctx, now.flush_alls, before->flush_alls);
	CHECK_EQ(ctx, now.syncs, before->syncs);
	CHECK_EQ(ctx, now.signalling, before->signalling);
	pt_snap_free(&now);
	pt_snap_free(before);
}

/*
 * @call, made on a snapshot of the tables (@env, @pt), returns @err, warns
 * @nwarn times (0 or 1) about @what and changes nothing.
 */
#define PT_EXPECT_REFUSED(env, pt, ctx, call, err, nwarn, what) \
	do {                                                    \
		struct pt_snap snap_;                           \
		unsigned int warns_;                            \
                                                                \
		pt_snap_take(env, pt, &snap_);                  \
		warns_ = warns.n;                               \
		CHECK_ERR(ctx, call, err);                      \
		expect_warned(ctx, warns_, nwarn, what);        \
		pt_expect_unchanged(ctx, env, pt, &snap_);      \
	} while (0)

static struct pt_op map_op(uint64_t va, uint64_t size, uint64_t pa)
{
	return (struct pt_op){ .type = PT_OP_MAP,
			       .va = va,
			       .size = size,
			       .pa = pa,
			       .prot = PT_PROT_READ | PT_PROT_WRITE };
}

/* A non-coherent walker: sync calls are counted too. */
static struct pt *pt_fx(struct pt_test_env *env)
{
	pt_test_env_init(env, PT_FMT_MALI_AARCH64, 12, 48, 40, false);
	return pt_test_create(env);
}

static void reserve_ok(struct pt *pt, struct pt_resv *r, const struct pt_op *ops, unsigned int n)
{
	pt_resv_init(r);
	for (unsigned int i = 0; i < n; i++)
		CHECK_ERR("pt_reserve", pt_reserve(pt, &ops[i], r), 0);
}

static void commit_ok(struct pt *pt, struct pt_resv *r, const struct pt_op *ops, unsigned int n)
{
	CHECK_ERR("pt_commit_begin", pt_commit_begin(pt, r), 0);
	for (unsigned int i = 0; i < n; i++)
		CHECK_ERR("pt_commit", pt_commit(pt, r, &ops[i], NULL), 0);
	CHECK_ERR("pt_commit_end", pt_commit_end(pt, r), 0);
}

/* Commits out of order, twice, with the wrong op, outside a commit. */
static void test_pt_commit_order(void **state)
{
	struct pt_op a[2] = { map_op(B0, 64 * 1024, 1ull << 30),
			      map_op(B0 + 2 * MiB, 2 * MiB, 1ull << 31) };
	struct pt_op b = map_op(B0 + 1024 * MiB, 4096, 3ull << 30);
	struct pt_test_env env;
	struct pt *pt = pt_fx(&env);
	struct pt_resv ra, rb;

	(void)state;
	reserve_ok(pt, &ra, a, 2);
	reserve_ok(pt, &rb, &b, 1);

	/* The newer one first. */
	for (int again = 0; again < 2; again++) {
		PT_EXPECT_REFUSED(&env, pt, "begin of the newer", pt_commit_begin(pt, &rb), -EINVAL,
				  !again, "not the oldest");
	}

	/* An op before the commit began. */
	PT_EXPECT_REFUSED(&env, pt, "commit before begin", pt_commit(pt, &ra, &a[0], NULL), -EINVAL,
			  1, "outside the commit");

	/* The end of a commit that has not begun. */
	PT_EXPECT_REFUSED(&env, pt, "end before begin", pt_commit_end(pt, &ra), -EINVAL, 1,
			  "has not begun");

	CHECK_ERR("begin", pt_commit_begin(pt, &ra), 0);
	/* Begun twice: the same site as out of order, which warned already. */
	PT_EXPECT_REFUSED(&env, pt, "begin twice", pt_commit_begin(pt, &ra), -EINVAL, 0, "");

	/* The ops out of their order, and an op never reserved. */
	for (int k = 0; k < 2; k++) {
		const struct pt_op *wrong = k ? &b : &a[1];

		PT_EXPECT_REFUSED(&env, pt, "wrong op", pt_commit(pt, &ra, wrong, NULL), -EINVAL,
				  !k, "not the next one reserved");
	}
	CHECK_ERR("commit a[0]", pt_commit(pt, &ra, &a[0], NULL), 0);
	CHECK_ERR("commit a[1]", pt_commit(pt, &ra, &a[1], NULL), 0);

	/* One op too many. */
	PT_EXPECT_REFUSED(&env, pt, "op too many", pt_commit(pt, &ra, &a[1], NULL), -EINVAL, 0, "");

	CHECK_ERR("end", pt_commit_end(pt, &ra), 0);
	commit_ok(pt, &rb, &b, 1);
	CHECK_ERR("unreserve a", pt_unreserve(pt, &ra), 0);
	CHECK_ERR("unreserve b", pt_unreserve(pt, &rb), 0);
	CHECK_EQ("pages mapped", pt_test_pages_in_use(&env) > 1, 1);
	CHECK_ERR("walk", pt_walk(pt, B0 + 1024 * MiB, &(struct pt_walk_result){ 0 }), 0);
	pt_destroy(pt);
	CHECK_EQ("pages after destroy", pt_test_pages_in_use(&env), 0);
	pt_test_env_fini(&env);
}

/*
 * The usual small bind - one page inside the leaf table the last map reached,
 * reserved and committed on a path of its own (pt_resv.c) - refuses the
 * wrong op as any other: another PA, protection or size, an unmap of it.
 * (Its warning site is the one test_pt_commit_order() fires first.)
 */
static void test_pt_commit_order_one_page(void **state)
{
	struct pt_op first = map_op(B0, 4096, 1ull << 30);
	struct pt_op c = map_op(B0 + 4096, 4096, (1ull << 30) + 4096);
	struct pt_op wrong[4] = { c, c, c, { .type = PT_OP_UNMAP, .va = c.va, .size = c.size } };
	struct pt_test_env env;
	struct pt *pt = pt_fx(&env);
	struct pt_resv r;
	struct pt_snap s;

	(void)state;
	wrong[0].pa += 4096;
	wrong[1].prot = PT_PROT_READ;
	wrong[2].size = 8192;
	reserve_ok(pt, &r, &first, 1);
	commit_ok(pt, &r, &first, 1);
	CHECK_ERR("unreserve first", pt_unreserve(pt, &r), 0);
	reserve_ok(pt, &r, &c, 1);
	CHECK_ERR("begin", pt_commit_begin(pt, &r), 0);
	for (unsigned int k = 0; k < 4; k++) {
		pt_snap_take(&env, pt, &s);
		CHECK_ERR("wrong op", pt_commit(pt, &r, &wrong[k], NULL), -EINVAL);
		pt_expect_unchanged("wrong op", &env, pt, &s);
	}
	CHECK_ERR("commit c", pt_commit(pt, &r, &c, NULL), 0);
	CHECK_ERR("end", pt_commit_end(pt, &r), 0);
	CHECK_ERR("unreserve c", pt_unreserve(pt, &r), 0);
	CHECK_ERR("walk c", pt_walk(pt, c.va, &(struct pt_walk_result){ 0 }), 0);
	pt_destroy(pt);
	CHECK_EQ("pages after destroy", pt_test_pages_in_use(&env), 0);
	pt_test_env_fini(&env);
}

/* Unreserve mid-commit, of an older outstanding one; the end before every op. */
static void test_pt_unreserve_order(void **state)
{
	struct pt_op a[3] = { map_op(B0, 4096, 1ull << 30),
			      map_op(B0 + 2 * MiB, 2 * MiB, 1ull << 31),
			      map_op(B0 + 8 * MiB, 8192, 3ull << 30) };
	struct pt_op b = map_op(B0 + 1024 * MiB, 4096, 3ull << 30);
	struct pt_test_env env;
	struct pt *pt = pt_fx(&env);
	struct pt_walk_result res;
	struct pt_resv ra, rb;
	unsigned int w;

	(void)state;
	reserve_ok(pt, &ra, a, 3);
	reserve_ok(pt, &rb, &b, 1);

	/* The older of two outstanding: only the newest may be given up. */
	PT_EXPECT_REFUSED(&env, pt, "unreserve the older", pt_unreserve(pt, &ra), -EINVAL, 1,
			  "not the newest");

	CHECK_ERR("begin", pt_commit_begin(pt, &ra), 0);
	CHECK_ERR("commit a[0]", pt_commit(pt, &ra, &a[0], NULL), 0);
	PT_EXPECT_REFUSED(&env, pt, "unreserve mid-commit", pt_unreserve(pt, &ra), -EBUSY, 1,
			  "being committed");

	/* Ended with two ops left: they are applied as reserved, flushed, and the section ends. */
	w = warns.n;
	CHECK_ERR("end before every op", pt_commit_end(pt, &ra), -EINVAL);
	expect_warned("end before every op", w, 1, "before every op");
	CHECK_EQ("signalling after the end", pt_in_signalling(), 0);
	CHECK_EQ("consumed", ra.consumed, ra.reserved);
	for (int i = 1; i < 3; i++) {
		CHECK_ERR("walk an op left", pt_walk(pt, a[i].va + a[i].size - 4096, &res), 0);
		CHECK_EQ("pa of an op left", res.pa, a[i].pa + a[i].size - 4096);
	}
	CHECK_ERR("validate", pt_validate(pt, NULL, NULL), 0);
	commit_ok(pt, &rb, &b, 1);
	CHECK_ERR("unreserve a", pt_unreserve(pt, &ra), 0);
	CHECK_ERR("unreserve b", pt_unreserve(pt, &rb), 0);
	pt_destroy(pt);
	CHECK_EQ("pages after destroy", pt_test_pages_in_use(&env), 0);
	pt_test_env_fini(&env);
}

/* pt_reserve() into a reservation committed already, or older than the newest. */
static void test_pt_reserve_refused(void **state)
{
	struct pt_op a = map_op(B0, 4096, 1ull << 30);
	struct pt_op b = map_op(B0 + 2 * MiB, 2 * MiB, 1ull << 31);
	struct pt_op c = map_op(B0 + 1024 * MiB, 4096, 3ull << 30);
	struct pt_op more = map_op(B0 + 8 * MiB, 4096, 5ull << 30);
	struct pt_test_env env;
	struct pt *pt = pt_fx(&env);
	struct pt_resv ra, rb, rc, copy;

	(void)state;
	reserve_ok(pt, &ra, &a, 1);
	commit_ok(pt, &ra, &a, 1);
	reserve_ok(pt, &rb, &b, 1);
	copy = ra;
	PT_EXPECT_REFUSED(&env, pt, "reserve into a committed one", pt_reserve(pt, &more, &ra),
			  -EBUSY, 1, "committed or not the newest");
	CHECK_EQ("committed one unchanged", memcmp(&copy, &ra, sizeof(ra)), 0);
	reserve_ok(pt, &rc, &c, 1);
	copy = rb;
	PT_EXPECT_REFUSED(&env, pt, "reserve into the older", pt_reserve(pt, &more, &rb), -EBUSY, 0,
			  "");
	CHECK_EQ("older one unchanged", memcmp(&copy, &rb, sizeof(rb)), 0);
	/* Both still commit as reserved. */
	commit_ok(pt, &rb, &b, 1);
	commit_ok(pt, &rc, &c, 1);
	CHECK_ERR("unreserve a", pt_unreserve(pt, &ra), 0);
	CHECK_ERR("unreserve b", pt_unreserve(pt, &rb), 0);
	CHECK_ERR("unreserve c", pt_unreserve(pt, &rc), 0);
	CHECK_ERR("walk b", pt_walk(pt, b.va + b.size - 4096, &(struct pt_walk_result){ 0 }), 0);
	CHECK_ERR("walk more", pt_walk(pt, more.va, &(struct pt_walk_result){ 0 }), -ENOENT);
	pt_destroy(pt);
	CHECK_EQ("pages after destroy", pt_test_pages_in_use(&env), 0);
	pt_test_env_fini(&env);
}

/*
 * pt_destroy() with reservations alive: one committed and not released, one
 * outstanding, or one mid-commit. Every table goes back, the section ends.
 */
static void test_pt_destroy_alive(void **state)
{
	struct pt_op a = map_op(B0, 2 * MiB + 4096, 1ull << 30);
	struct pt_op b = map_op(B0 + 1024 * MiB, 4096, 3ull << 30);

	(void)state;
	for (int mid_commit = 0; mid_commit < 2; mid_commit++) {
		struct pt_test_env env;
		struct pt *pt = pt_fx(&env);
		struct pt_resv ra, rb;
		unsigned int w;

		reserve_ok(pt, &ra, &a, 1);
		reserve_ok(pt, &rb, &b, 1);
		if (mid_commit) {
			CHECK_ERR("begin", pt_commit_begin(pt, &ra), 0);
		} else {
			commit_ok(pt, &ra, &a, 1);
		}
		w = warns.n;
		env.flush_alls = 0;
		pt_destroy(pt);
		expect_warned("destroy with reservations", w, !mid_commit, "reservations alive");
		CHECK_EQ("pages after destroy", pt_test_pages_in_use(&env), 0);
		CHECK_EQ("flush all", env.flush_alls > 0, 1);
		CHECK_EQ("signalling after destroy", pt_in_signalling(), 0);
		pt_test_env_fini(&env);
	}
}

/* A pool refuses to free what it can never have handed out. */
static void test_pool_free_shape(void **state)
{
	struct pt_pool_cfg pcfg = { .page_size = 4096 };
	struct pt_pool_stats before, after;
	struct pt_pool *pool;
	struct pt_mem mem;
	unsigned int w;

	(void)state;
	CHECK_ERR("pt_pool_create", pt_pool_create(&pcfg, &pool), 0);
	CHECK_ERR("alloc", pt_pool_ops.alloc(pool, 4096, 4096, &mem), 0);
	pt_pool_flush_thread_cache(pool);
	pt_pool_get_stats(pool, &before);
	for (int again = 0; again < 2; again++) {
		w = warns.n;
		pt_pool_ops.free(pool, &mem, 1u << 20, 4096); /* larger than any block */
		expect_warned("free of a bad size", w, !again, "never allocates");
		pt_pool_ops.free(pool, &mem, 4096, 3); /* an alignment not a power of two */
		expect_warned("free of a bad alignment", w, !again, "never allocates");
	}
	pt_pool_flush_thread_cache(pool);
	pt_pool_get_stats(pool, &after);
	CHECK_EQ("pages in use", after.pages_in_use, before.pages_in_use);
	CHECK_EQ("bytes in use", after.bytes_in_use, before.bytes_in_use);
	CHECK_EQ("pages free", after.pages_free, before.pages_free);
	pt_pool_ops.free(pool, &mem, 4096, 4096);
	pt_pool_get_stats(pool, &after);
	CHECK_EQ("pages in use after the free", after.pages_in_use, before.pages_in_use - 1);
	pt_pool_destroy(pool);
}

/* The pool's counters a refused free must leave as they were (the thread cache flushed). */
static void pool_stats_flushed(struct pt_pool *pool, struct pt_pool_stats *st)
{
	pt_pool_flush_thread_cache(pool);
	pt_pool_get_stats(pool, st);
}

static void pool_expect_same(const char *ctx, const struct pt_pool_stats *a,
			     const struct pt_pool_stats *b)
{
	CHECK_EQ(ctx, a->pages_in_use, b->pages_in_use);
	CHECK_EQ(ctx, a->bytes_in_use, b->bytes_in_use);
	CHECK_EQ(ctx, a->pages_free, b->pages_free);
	CHECK_EQ(ctx, a->chunks, b->chunks);
}

/*
 * pt_pool_ops.free(@mem, @size, @align), on a flushed snapshot of @pool: it
 * warns @nwarn times (0 or 1) about @what and leaves the pool's counters as
 * they were.
 */
static void pool_expect_refused(struct pt_pool *pool, const char *ctx, const struct pt_mem *mem,
				size_t size, size_t align, unsigned int nwarn, const char *what)
{
	struct pt_pool_stats before, after;
	unsigned int w;

	pool_stats_flushed(pool, &before);
	w = warns.n;
	pt_pool_ops.free(pool, mem, size, align);
	expect_warned(ctx, w, nwarn, what);
	pool_stats_flushed(pool, &after);
	pool_expect_same(ctx, &after, &before);
}

/*
 * The free lists are intact: @n allocations of @size are all distinct and
 * distinct from the @nlive blocks still handed out (a block freed twice would
 * be handed out twice). They are freed again.
 */
static void pool_expect_distinct(struct pt_pool *pool, size_t size, unsigned int n,
				 const struct pt_mem *live, unsigned int nlive)
{
	struct pt_mem got[80];
	struct pt_pool_stats before, after;

	assert_true(n <= 80);
	pool_stats_flushed(pool, &before);
	for (unsigned int i = 0; i < n; i++) {
		CHECK_ERR("alloc after a refused free",
			  pt_pool_ops.alloc(pool, size, size, &got[i]), 0);
		for (unsigned int j = 0; j < i; j++)
			CHECK_EQ("handed out twice", got[i].pa == got[j].pa, 0);
		for (unsigned int j = 0; j < nlive; j++)
			CHECK_EQ("handed out while in use", got[i].pa == live[j].pa, 0);
		CHECK_EQ("cpu of the pa", pt_pool_pa_to_cpu(pool, got[i].pa) == got[i].cpu, 1);
	}
	for (unsigned int i = 0; i < n; i++)
		pt_pool_ops.free(pool, &got[i], size, size);
	/* The pool may have grown for them: what is in use is what was. */
	pool_stats_flushed(pool, &after);
	CHECK_EQ("pages in use after", after.pages_in_use, before.pages_in_use);
	CHECK_EQ("bytes in use after", after.bytes_in_use, before.bytes_in_use);
}

/*
 * Whole pages freed twice (from the thread cache and from the free array), a
 * page of the pool never handed out, a page that is not the pool's at all.
 */
static void test_pool_free_page_twice(void **state)
{
	struct pt_pool_cfg pcfg = { .page_size = 4096 };
	struct pt_pool *pool;
	struct pt_mem a, b, never, foreign, blk;
	void *outside = aligned_alloc(4096, 4096);

	(void)state;
	assert_non_null(outside);
	CHECK_ERR("pt_pool_create", pt_pool_create(&pcfg, &pool), 0);
	CHECK_ERR("alloc a", pt_pool_ops.alloc(pool, 4096, 4096, &a), 0);
	CHECK_ERR("alloc b", pt_pool_ops.alloc(pool, 4096, 4096, &b), 0);
	memset(a.cpu, 0, 4096); /* used as a caller would: the pool's marks are gone */
	memset(b.cpu, 0, 4096);
	pt_pool_ops.free(pool, &a, 4096, 4096);
	/* In the thread cache: the first time this site warns. */
	pool_expect_refused(pool, "page freed twice", &a, 4096, 4096, 1, "double free of a page");
	/* Flushed to the free array (pool_expect_refused() flushes). */
	pool_expect_refused(pool, "page freed twice, flushed", &a, 4096, 4096, 0, "");
	/* A page of the pool's chunk that was never handed out: it is free. */
	never = (struct pt_mem){ (char *)b.cpu + 4096, b.pa + 4096 };
	CHECK_EQ("a and never differ", never.pa == a.pa, 0);
	pool_expect_refused(pool, "page never handed out", &never, 4096, 4096, 0, "");
	/* Not the pool's: outside its PAs, then misaligned, then CPU and PA apart. */
	foreign = (struct pt_mem){ outside, 1ull << 40 };
	pool_expect_refused(pool, "foreign page", &foreign, 4096, 4096, 1, "never handed out");
	foreign = (struct pt_mem){ b.cpu, b.pa + 64 };
	pool_expect_refused(pool, "misaligned page", &foreign, 4096, 4096, 0, "");
	foreign = (struct pt_mem){ (char *)b.cpu + 4096, b.pa };
	pool_expect_refused(pool, "cpu of another page", &foreign, 4096, 4096, 0, "");
	/* A block freed as the whole page it was carved from (the page's mark still there). */
	CHECK_ERR("alloc a block", pt_pool_ops.alloc(pool, 256, 256, &blk), 0);
	CHECK_EQ("block at the page's start", blk.pa & 4095, 0);
	pool_expect_refused(pool, "block freed as a page", &blk, 4096, 4096, 1,
			    "did not hand out whole");
	pt_pool_ops.free(pool, &blk, 256, 256);
	/* b is still in use, a was freed once: 64 pages, none twice, none b. */
	pool_expect_distinct(pool, 4096, 64, &b, 1);
	pt_pool_ops.free(pool, &b, 4096, 4096);
	pt_pool_destroy(pool);
	free(outside);
}

/*
 * Sub-page blocks freed twice, a block never carved, of another size class or
 * misaligned; a multi-page block freed twice.
 */
static void test_pool_free_block_twice(void **state)
{
	struct pt_pool_cfg pcfg = { .page_size = 4096 };
	struct pt_pool *pool;
	struct pt_mem blk[3], bad, multi;

	(void)state;
	CHECK_ERR("pt_pool_create", pt_pool_create(&pcfg, &pool), 0);
	for (int i = 0; i < 3; i++)
		CHECK_ERR("alloc block", pt_pool_ops.alloc(pool, 256, 256, &blk[i]), 0);
	for (int i = 0; i < 3; i++)
		memset(blk[i].cpu, 0, 256);
	pt_pool_ops.free(pool, &blk[1], 256, 256);
	pool_expect_refused(pool, "block freed twice", &blk[1], 256, 256, 1,
			    "double free of a block");
	/* The head of the free list, then one behind it. */
	pt_pool_ops.free(pool, &blk[0], 256, 256);
	pool_expect_refused(pool, "block behind the head", &blk[1], 256, 256, 0, "");
	pool_expect_refused(pool, "head freed twice", &blk[0], 256, 256, 0, "");

	/* Past what the page carved: never handed out. */
	bad = (struct pt_mem){ (char *)blk[2].cpu + 4 * 256, blk[2].pa + 4 * 256 };
	pool_expect_refused(pool, "block never carved", &bad, 256, 256, 1,
			    "block it never handed out");
	pool_expect_refused(pool, "block of another class", &blk[2], 512, 512, 0, "");
	bad = (struct pt_mem){ (char *)blk[2].cpu + 64, blk[2].pa + 64 };
	pool_expect_refused(pool, "misaligned block", &bad, 256, 256, 0, "");
	bad = (struct pt_mem){ blk[2].cpu, 1ull << 40 };
	pool_expect_refused(pool, "block outside the pool", &bad, 256, 256, 0, "");
	pool_expect_distinct(pool, 256, 40, &blk[2], 1);

	CHECK_ERR("alloc multi", pt_pool_ops.alloc(pool, 8192, 8192, &multi), 0);
	memset(multi.cpu, 0, 8192);
	pt_pool_ops.free(pool, &multi, 8192, 8192);
	pool_expect_refused(pool, "multi-page block freed twice", &multi, 8192, 8192, 1,
			    "multi-page block");
	pool_expect_distinct(pool, 8192, 4, &blk[2], 1);
	pt_pool_ops.free(pool, &blk[2], 256, 256);
	pt_pool_destroy(pool);
}

/* Everything of a VM that a misuse must not change, its tables included. */
struct vm_snap {
	struct text vas;
	struct gvm_stats st;
	uint64_t host_attempts;
	long host_live, refs[2];
	struct pt_snap pt;
};

static void vm_snap_take(struct vm_test_env *e, struct vm_test_obj *objs, struct vm_snap *s)
{
	memset(s, 0, sizeof(*s));
	CHECK_ERR("gvm_validate", gvm_validate(e->vm, text_print, &s->vas), 0);
	for (struct gvm_va *va = gvm_va_first(e->vm, VM_TEST_START, VM_TEST_END); va;
	     va = gvm_va_next(e->vm, va, VM_TEST_END))
		text_print(&s->vas, "%" PRIx64 "+%" PRIx64 " obj %d off %" PRIx64 " prot %x\n",
			   va->va, va->size, va->bo->obj == &objs[1].obj, va->offset, va->prot);
	gvm_get_stats(e->vm, &s->st);
	s->host_attempts = e->host_attempts;
	s->host_live = e->host_live;
	s->refs[0] = objs[0].refs;
	s->refs[1] = objs[1].refs;
	pt_snap_take(&e->pt, gvm_get_pt(e->vm), &s->pt);
}

static void vm_expect_unchanged(const char *ctx, struct vm_test_env *e, struct vm_test_obj *objs,
				struct vm_snap *before)
{
	struct vm_snap now;

	vm_snap_take(e, objs, &now);
	if (strcmp(now.vas.s ? now.vas.s : "", before->vas.s ? before->vas.s : ""))
		fail_msg("%s: the VAs changed:\n%s\nwere:\n%s", ctx, now.vas.s, before->vas.s);
	if (memcmp(&now.st, &before->st, sizeof(now.st)))
		fail_msg("%s: the VM's stats changed", ctx);
	CHECK_EQ(ctx, now.host_attempts, before->host_attempts);
	CHECK_EQ(ctx, now.host_live, before->host_live);
	CHECK_EQ(ctx, now.refs[0], before->refs[0]);
	CHECK_EQ(ctx, now.refs[1], before->refs[1]);
	pt_expect_unchanged(ctx, &e->pt, gvm_get_pt(e->vm), &before->pt);
	pt_snap_free(&now.pt);
	free(now.vas.s);
	free(before->vas.s);
}

/* As PT_EXPECT_REFUSED(), on a snapshot of the whole VM (@e, @objs). */
#define VM_EXPECT_REFUSED(e, objs, ctx, call, err, nwarn, what) \
	do {                                                    \
		struct vm_snap snap_;                           \
		unsigned int warns_;                            \
                                                                \
		vm_snap_take(e, objs, &snap_);                  \
		warns_ = warns.n;                               \
		CHECK_ERR(ctx, call, err);                      \
		expect_warned(ctx, warns_, nwarn, what);        \
		vm_expect_unchanged(ctx, e, objs, &snap_);      \
	} while (0)

static struct gvm_req map_req(struct vm_test_obj *o, uint64_t va, uint64_t size)
{
	return (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = va,
				 .size = size,
				 .obj = &o->obj,
				 .prot = PT_PROT_READ | PT_PROT_WRITE };
}

static struct gvm_req unmap_req(uint64_t va, uint64_t size)
{
	return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = va, .size = size };
}

static void vm_fx(struct vm_test_env *e, struct vm_test_obj objs[2])
{
	vm_test_init(e, NULL, 0);
	vm_test_obj_init(&objs[0], 4 * MiB, 1ull << 30, 0);
	vm_test_obj_init(&objs[1], 4 * MiB, 1ull << 31, 0);
}

static int bind_vm(struct gvm *vm, struct gvm_req req)
{
	return gvm_bind(vm, &req, 1, NULL);
}

static int bind_one(struct vm_test_env *e, struct gvm_req req)
{
	return bind_vm(e->vm, req);
}

static struct gvm_txn *prepare_ok(struct vm_test_env *e, struct gvm_req req)
{
	struct gvm_txn *txn = NULL;

	CHECK_ERR("gvm_bind_prepare", gvm_bind_prepare(e->vm, &req, 1, &txn, NULL), 0);
	return txn;
}

/* Commit and cleanup out of order, twice, of a transaction cleaned up already. */
static void test_vm_txn_order(void **state)
{
	struct vm_test_env e;
	struct vm_test_obj objs[2];
	struct gvm_txn *t1, *t2;

	(void)state;
	vm_fx(&e, objs);
	CHECK_ERR("bind", bind_one(&e, map_req(&objs[0], B0, 2 * MiB)), 0);
	t1 = prepare_ok(&e, unmap_req(B0 + MiB, 4096));
	t2 = prepare_ok(&e, map_req(&objs[1], B0 + 8 * MiB, 64 * 1024));

	VM_EXPECT_REFUSED(&e, objs, "commit the newer", gvm_bind_commit(t2), -EINVAL, 1,
			  "not the oldest prepared");

	/* A one-call bind behind the queue: its commit would not be the oldest. */
	VM_EXPECT_REFUSED(&e, objs, "bind behind a queue",
			  bind_one(&e, map_req(&objs[1], B0 + 16 * MiB, 4096)), -EINVAL, 1,
			  "transactions queued");

	VM_EXPECT_REFUSED(&e, objs, "cleanup the older", gvm_bind_cleanup(t1), -EINVAL, 1,
			  "not the newest");

	CHECK_ERR("commit t1", gvm_bind_commit(t1), 0);
	VM_EXPECT_REFUSED(&e, objs, "commit t1 again", gvm_bind_commit(t1), -EINVAL, 0, "");

	/* t1 becomes the VM's spare (none was left): a handle that must not be used. */
	CHECK_ERR("cleanup t1", gvm_bind_cleanup(t1), 0);
	VM_EXPECT_REFUSED(&e, objs, "cleanup t1 again", gvm_bind_cleanup(t1), -EINVAL, 1,
			  "cleaned up already");

	CHECK_ERR("commit t2", gvm_bind_commit(t2), 0);
	CHECK_ERR("cleanup t2", gvm_bind_cleanup(t2), 0);
	CHECK_EQ("VA split by t1", gvm_va_find(e.vm, B0 + MiB) == NULL, 1);
	CHECK_EQ("VA of t2", gvm_va_find(e.vm, B0 + 8 * MiB) != NULL, 1);
	CHECK_ERR("validate", gvm_validate(e.vm, NULL, NULL), 0);
	vm_test_fini(&e);
	CHECK_EQ("refs", objs[0].refs + objs[1].refs, 0);
	CHECK_ERR("fini", gvm_obj_fini(&objs[0].obj), 0);
	CHECK_ERR("fini", gvm_obj_fini(&objs[1].obj), 0);
}

/* An object mapped, or about to be, cannot be finished. */
static void test_vm_obj_fini_mapped(void **state)
{
	struct vm_test_env e;
	struct vm_test_obj objs[2];
	struct gvm_txn *txn;

	(void)state;
	vm_fx(&e, objs);
	CHECK_ERR("bind", bind_one(&e, map_req(&objs[0], B0, MiB)), 0);
	txn = prepare_ok(&e, map_req(&objs[1], B0 + 4 * MiB, MiB));
	for (int k = 0; k < 2; k++) {
		VM_EXPECT_REFUSED(&e, objs, "fini of a mapped object", gvm_obj_fini(&objs[k].obj),
				  -EBUSY, !k, "still mapped");
	}
	CHECK_ERR("give up", gvm_bind_cleanup(txn), 0);
	/* The refused object still works: its lock and links are intact. */
	CHECK_ERR("bind again", bind_one(&e, map_req(&objs[0], B0 + MiB, MiB)), 0);
	CHECK_ERR("unmap", bind_one(&e, unmap_req(B0, 2 * MiB)), 0);
	CHECK_ERR("fini", gvm_obj_fini(&objs[0].obj), 0);
	CHECK_ERR("fini", gvm_obj_fini(&objs[1].obj), 0);
	vm_test_fini(&e);
}

/* A link put more often than it was got is not freed under its VAs. */
static void test_vm_bo_overput(void **state)
{
	struct vm_test_env e;
	struct vm_test_obj objs[2];
	struct gvm_bo *bo;
	struct vm_snap s;
	unsigned int w;

	(void)state;
	vm_fx(&e, objs);
	CHECK_ERR("bind", bind_one(&e, map_req(&objs[0], B0, MiB)), 0);
	bo = gvm_bo_find(e.vm, &objs[0].obj);
	assert_non_null(bo);
	gvm_bo_get(bo);
	gvm_bo_put(bo); /* balanced: fine */
	for (int again = 0; again < 2; again++) {
		vm_snap_take(&e, objs, &s);
		w = warns.n;
		gvm_bo_put(bo); /* one too many: the VA's reference */
		expect_warned("put one too many", w, !again, "committed VAs still use");
		vm_expect_unchanged("put one too many", &e, objs, &s);
	}
	CHECK_EQ("link still found", gvm_bo_find(e.vm, &objs[0].obj) == bo, 1);
	CHECK_ERR("unmap", bind_one(&e, unmap_req(B0, MiB)), 0);
	CHECK_EQ("link gone with its last VA", gvm_bo_find(e.vm, &objs[0].obj) == NULL, 1);
	CHECK_ERR("fini", gvm_obj_fini(&objs[0].obj), 0);
	CHECK_ERR("fini", gvm_obj_fini(&objs[1].obj), 0);
	vm_test_fini(&e);
}

/*
 * gvm_destroy() with transactions not cleaned up: one committed, two
 * prepared. All memory, every table and every reference goes.
 */
static void test_vm_destroy_outstanding(void **state)
{
	(void)state;
	for (int round = 0; round < 2; round++) {
		struct vm_test_env e;
		struct vm_test_obj objs[2];
		struct gvm_txn *t1;
		unsigned int w;

		vm_fx(&e, objs);
		CHECK_ERR("bind", bind_one(&e, map_req(&objs[0], B0, 2 * MiB)), 0);
		t1 = prepare_ok(&e, unmap_req(B0, MiB));
		prepare_ok(&e, map_req(&objs[1], B0 + 4 * MiB, MiB));
		prepare_ok(&e, unmap_req(B0 + MiB, 4096));
		CHECK_ERR("commit t1", gvm_bind_commit(t1), 0);
		w = warns.n;
		gvm_destroy(e.vm);
		expect_warned("destroy with transactions", w, !round, "not cleaned up");
		CHECK_EQ("pages", pt_test_pages_in_use(&e.pt), 0);
		CHECK_EQ("VM memory", e.host_live, 0);
		CHECK_EQ("refs", objs[0].refs + objs[1].refs, 0);
		CHECK_ERR("fini", gvm_obj_fini(&objs[0].obj), 0);
		CHECK_ERR("fini", gvm_obj_fini(&objs[1].obj), 0);
		pt_test_env_fini(&e.pt);
	}
}

/*
 * An allocator that fails its @fail_at-th call with @err, over a pool; with
 * @bulk it also serves batches (pgtable's loop over @alloc otherwise).
 */
struct err_alloc {
	struct pt_pool *pool;
	uint64_t calls, fail_at;
	int err;
};

static int err_alloc_one(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	struct err_alloc *a = ctx;

	if (++a->calls == a->fail_at)
		return a->err;
	return pt_pool_ops.alloc(a->pool, size, align, out);
}

static void err_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct err_alloc *a = ctx;

	pt_pool_ops.free(a->pool, mem, size, align);
}

static int err_alloc_bulk(void *ctx, size_t size, size_t align, unsigned int n, struct pt_mem *out)
{
	struct err_alloc *a = ctx;

	if (++a->calls == a->fail_at)
		return a->err;
	return pt_pool_ops.alloc_bulk(a->pool, size, align, n, out);
}

static const struct pt_alloc_ops err_ops[2] = {
	{ .alloc = err_alloc_one, .free = err_free },
	{ .alloc = err_alloc_one, .free = err_free, .alloc_bulk = err_alloc_bulk },
};

static void noop_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	(void)ctx;
	(void)va;
	(void)size;
	(void)leaf_only;
}

static void noop_flush_all(void *ctx)
{
	(void)ctx;
}

static const struct pt_flush_ops noop_flush = { noop_flush_range, noop_flush_all };

/*
 * Every allocator error reaches the caller as the allocator returned it: the
 * root at pt_create() (and gvm_create()), tables at pt_map() and gvm_bind().
 */
static void test_alloc_errno_passes(void **state)
{
	static const int errs[] = { -EINVAL, -ENOMEM, -ENOSPC };
	struct pt_pool_cfg pcfg = { .page_size = 4096 };

	(void)state;
	for (int bulk = 0; bulk < 2; bulk++) {
		for (unsigned int k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
			struct err_alloc a = { .fail_at = 1, .err = errs[k] };
			struct pt_cfg cfg = { .fmt = PT_FMT_MALI_AARCH64,
					      .granule_lg2 = 12,
					      .ias = 48,
					      .oas = 40,
					      .coherent_walk = true,
					      .alloc = &err_ops[bulk],
					      .alloc_ctx = &a,
					      .flush = &noop_flush };
			struct gvm_cfg vcfg = { .start = B0,
						.end = 2 * B0,
						.page_lg2 = 12,
						.backend = &gvm_backend_paging,
						.backend_cfg = &cfg };
			struct vm_test_obj obj;
			struct gvm *vm;
			struct pt *pt;
			struct pt_stats st;

			CHECK_ERR("pt_pool_create", pt_pool_create(&pcfg, &a.pool), 0);
			CHECK_ERR("pt_create, root refused", pt_create(&cfg, &pt), errs[k]);
			a.calls = 0;
			CHECK_ERR("gvm_create, root refused", gvm_create(&vcfg, &vm), errs[k]);
			a.calls = 0;
			a.fail_at = 2; /* the root, then the first table of a map */
			CHECK_ERR("pt_create", pt_create(&cfg, &pt), 0);
			CHECK_ERR("pt_map, tables refused",
				  pt_map(pt, B0, 1ull << 30, 4096, PT_PROT_READ), errs[k]);
			pt_get_stats(pt, &st);
			CHECK_EQ("tables after a refused map", st.tables, 1);
			pt_destroy(pt);
			a.calls = 0;
			CHECK_ERR("gvm_create", gvm_create(&vcfg, &vm), 0);
			vm_test_obj_init(&obj, MiB, 1ull << 30, 0);
			CHECK_ERR("gvm_bind, tables refused", bind_vm(vm, map_req(&obj, B0, 4096)),
				  errs[k]);
			CHECK_EQ("refs after a refused bind", obj.refs, 0);
			gvm_destroy(vm);
			CHECK_ERR("fini", gvm_obj_fini(&obj.obj), 0);
			pt_pool_destroy(a.pool);
		}
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_pt_commit_order), /* */
	cmocka_unit_test(test_pt_commit_order_one_page),
	cmocka_unit_test(test_pt_unreserve_order), /* */
	cmocka_unit_test(test_pt_destroy_alive),   /* */
	cmocka_unit_test(test_vm_txn_order),       /* */
	cmocka_unit_test(test_vm_obj_fini_mapped), /* */
	cmocka_unit_test(test_vm_destroy_outstanding),
	cmocka_unit_test(test_vm_bo_overput),
	cmocka_unit_test(test_alloc_errno_passes),
	cmocka_unit_test(test_pool_free_shape), /* */
	cmocka_unit_test(test_pool_free_page_twice),
	cmocka_unit_test(test_pool_free_block_twice),
	cmocka_unit_test(test_pt_reserve_refused),
};

int main(void)
{
	os_set_warn_hook(warn_hook, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
