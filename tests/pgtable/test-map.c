// SPDX-License-Identifier: MIT
/*
 * Map/unmap semantics and the acceptance checks of shared/reference/lpae.md:
 * every granule, ias/oas and stage (and both Mali formats); best page size
 * against a brute-force reference; unmapping inside blocks; the page-size
 * boundary case; crossing the tables of a concatenated stage-2 top; argument
 * errors that must change nothing.
 *
 * Every translation is checked twice: with pt_walk() and with the harness's
 * walker, which follows descriptors by physical address as the GPU does.
 * pt_validate() runs after every operation, and every test ends with the pool
 * holding exactly the pages it held before the page table was created.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gpuvm/print_file.h>

#include "pt-test.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KIB(n) ((uint64_t)(n) << 10)
#define MIB(n) ((uint64_t)(n) << 20)
#define GIB(n) ((uint64_t)(n) << 30)

#define RW (PT_PROT_READ | PT_PROT_WRITE)

/* Room for a configuration and case name plus what an assertion adds. */
#define CTX_LEN 320

static const unsigned int addr_sizes[] = { 32, 36, 40, 42, 44, 48 };
static const unsigned int granules[] = { 12, 14, 16 };

/* A configuration under test. */
struct mcfg {
	enum pt_format fmt;
	unsigned int g, ias, oas;
	bool coherent;
};

static const char *fmt_name(enum pt_format fmt)
{
	switch (fmt) {
	case PT_FMT_ARM64_S1:
		return "s1";
	case PT_FMT_ARM64_S2:
		return "s2";
	case PT_FMT_MALI_LPAE:
		return "mali-lpae";
	case PT_FMT_MALI_AARCH64:
		return "mali-aarch64";
	}
	return "?";
}

/* A page table under test, with what the checks need to know about it. */
struct mt {
	struct mcfg cfg;
	struct pt_test_env env;
	struct pt *pt;
	struct pt_geometry geo;
	uint64_t pages0;               /* pool pages before pt_create */
	uint64_t sizes[PT_MAX_LEVELS]; /* leaf sizes, ascending */
	unsigned int nsizes;
	uint64_t granule;
	uint32_t prot;  /* a protection the format keeps as is */
	char name[192]; /* configuration, and the random case being run */
};

static void mt_validate(struct mt *m, const char *after)
{
	int err = pt_validate(m->pt, gpuvm_print_file, stderr);

	if (err)
		fail_msg("%s: pt_validate after %s returned %s", m->name, after, errname(err));
}

static void mt_init(struct mt *m, const struct mcfg *c)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *c;
	snprintf(m->name, sizeof(m->name), "%s %uK ias %u oas %u%s", fmt_name(c->fmt),
		 1u << (c->g - 10), c->ias, c->oas, c->coherent ? " coherent" : "");
	pt_test_env_init(&m->env, c->fmt, c->g, c->ias, c->oas, c->coherent);
	m->pages0 = pt_test_pages_in_use(&m->env);
	CHECK_ERR(m->name, pt_create(&m->env.cfg, &m->pt), 0);
	pt_get_geometry(m->pt, &m->geo);
	for (unsigned int b = 0; b < 64; b++)
		if (m->geo.leaf_sizes & (1ull << b))
			m->sizes[m->nsizes++] = 1ull << b;
	m->granule = 1ull << c->g;
	/* Read-only, cached, not executable: no default bit pattern. */
	m->prot = PT_PROT_READ | PT_PROT_CACHE;
	mt_validate(m, "create");
}

static void mt_fini(struct mt *m)
{
	pt_destroy(m->pt);
	CHECK_EQ(m->name, pt_test_pages_in_use(&m->env), m->pages0);
	pt_test_env_fini(&m->env);
}

static unsigned int level_of(const struct mt *m, uint64_t size)
{
	for (unsigned int l = m->geo.start_level; l < PT_MAX_LEVELS; l++)
		if (1ull << m->geo.level_shift[l] == size)
			return l;
	return PT_MAX_LEVELS;
}

static uint64_t largest(const struct mt *m)
{
	return m->sizes[m->nsizes - 1];
}

static uint64_t ias_end(const struct mt *m)
{
	return 1ull << m->cfg.ias;
}

/*
 * A PA for [@va, @va + @size): moved by half the output space where the range
 * allows (so congruent modulo 2^(oas - 1), aligned as @va is up to 2 GiB),
 * else the same address (ias <= oas here).
 */
static uint64_t pa_for(const struct mt *m, uint64_t va, uint64_t size)
{
	uint64_t half = 1ull << (m->cfg.oas - 1);

	if (va + size <= half)
		return va + half;
	if (va >= half)
		return va - half;
	return va;
}

/* @va translates to @pa with @prot through a leaf of @size (0: any), for both walkers. */
static void expect_mapped(struct mt *m, uint64_t va, uint64_t pa, uint32_t prot, uint64_t size)
{
	struct pt_walk_result w;
	uint64_t hpa = 0;
	uint32_t hprot = 0;
	unsigned int hlvl = 0;
	char ctx[CTX_LEN];

	snprintf(ctx, sizeof(ctx), "%s va 0x%" PRIx64, m->name, va);
	CHECK_ERR(ctx, pt_walk(m->pt, va, &w), 0);
	CHECK_EQ(ctx, w.pa, pa);
	CHECK_EQ(ctx, w.prot, prot);
	CHECK_EQ(ctx, w.level, level_of(m, w.leaf_size));
	if (size)
		CHECK_EQ(ctx, w.leaf_size, size);
	CHECK_ERR(ctx, pt_test_hw_walk(&m->env, m->pt, va, &hpa, &hprot, &hlvl), 0);
	CHECK_EQ(ctx, hpa, pa);
	CHECK_EQ(ctx, hprot, prot);
	CHECK_EQ(ctx, hlvl, w.level);
}

static void expect_unmapped(struct mt *m, uint64_t va)
{
	struct pt_walk_result w;
	uint64_t hpa;
	uint32_t hprot;
	unsigned int hlvl;
	char ctx[CTX_LEN];

	snprintf(ctx, sizeof(ctx), "%s va 0x%" PRIx64, m->name, va);
	CHECK_ERR(ctx, pt_walk(m->pt, va, &w), -ENOENT);
	CHECK_ERR(ctx, pt_test_hw_walk(&m->env, m->pt, va, &hpa, &hprot, &hlvl), -ENOENT);
}

static void map_ok(struct mt *m, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	char ctx[CTX_LEN];

	snprintf(ctx, sizeof(ctx), "%s map va 0x%" PRIx64 " pa 0x%" PRIx64 " size 0x%" PRIx64,
		 m->name, va, pa, size);
	CHECK_ERR(ctx, pt_map(m->pt, va, pa, size, prot), 0);
	mt_validate(m, ctx);
}

static void unmap_ok(struct mt *m, uint64_t va, uint64_t size, uint64_t want_unmapped)
{
	uint64_t unmapped = ~0ull;
	char ctx[CTX_LEN];

	snprintf(ctx, sizeof(ctx), "%s unmap va 0x%" PRIx64 " size 0x%" PRIx64, m->name, va, size);
	CHECK_ERR(ctx, pt_unmap(m->pt, va, size, &unmapped), 0);
	CHECK_EQ(ctx, unmapped, want_unmapped);
	mt_validate(m, ctx);
}

/* Only the top table is left. */
static void expect_empty_tree(struct mt *m, const char *after)
{
	struct pt_stats st;
	char ctx[CTX_LEN];

	snprintf(ctx, sizeof(ctx), "%s after %s", m->name, after);
	pt_get_stats(m->pt, &st);
	CHECK_EQ(ctx, st.tables, 1);
	CHECK_EQ(ctx, st.table_bytes, m->geo.top_bytes);
}

/* ---- brute-force reference of the leaves a mapping uses ---- */

/* The largest leaf at @va -> @pa with @len left: both aligned, and fitting. */
static uint64_t ref_best_leaf(const struct mt *m, uint64_t va, uint64_t pa, uint64_t len)
{
	for (unsigned int i = m->nsizes; i--;) {
		uint64_t s = m->sizes[i];

		if (!(va & (s - 1)) && !(pa & (s - 1)) && len >= s)
			return s;
	}
	return 0;
}

/* Walk [@va, @va + @len) leaf by leaf: each is the greedy reference's choice. */
static void expect_leaves(struct mt *m, uint64_t va, uint64_t pa, uint64_t len, uint32_t prot)
{
	uint64_t end = va + len;

	while (va < end) {
		uint64_t want = ref_best_leaf(m, va, pa, end - va);

		if (!want)
			fail_msg("%s: no leaf fits va 0x%" PRIx64 " pa 0x%" PRIx64, m->name, va,
				 pa);
		expect_mapped(m, va, pa, prot, want);
		expect_mapped(m, va + want - 1, pa + want - 1, prot, want);
		va += want;
		pa += want;
	}
}

/* ---- "changes nothing" ---- */

struct snapshot {
	struct pt_stats st;
	uint64_t pages, attempts, flushes, syncs;
	char *dump;
	size_t dump_len;
};

static void snap_take(struct mt *m, struct snapshot *s)
{
	FILE *f = open_memstream(&s->dump, &s->dump_len);

	assert_non_null(f);
	pt_dump(m->pt, gpuvm_print_file, f);
	fclose(f);
	pt_get_stats(m->pt, &s->st);
	s->pages = pt_test_pages_in_use(&m->env);
	s->attempts = m->env.attempts;
	s->flushes = m->env.flush_ranges + m->env.flush_alls;
	s->syncs = m->env.syncs;
}

/* The table is exactly as in @before: same entries, memory, and no flush or sync. */
static void snap_expect_same(struct mt *m, struct snapshot *before, const char *ctx)
{
	struct snapshot now;

	mt_validate(m, ctx);
	snap_take(m, &now);
	CHECK_EQ(ctx, now.st.tables, before->st.tables);
	CHECK_EQ(ctx, now.st.table_bytes, before->st.table_bytes);
	CHECK_EQ(ctx, now.pages, before->pages);
	CHECK_EQ(ctx, now.attempts, before->attempts);
	CHECK_EQ(ctx, now.flushes, before->flushes);
	CHECK_EQ(ctx, now.syncs, before->syncs);
	if (strcmp(now.dump, before->dump))
		fail_msg("%s: the tree changed:\n--- before\n%s--- after\n%s", ctx, before->dump,
			 now.dump);
	free(now.dump);
}

/* ---- configurations ---- */

typedef void mcfg_fn(const struct mcfg *c);

/* Every granule x ias <= oas x stage, and both Mali formats; both walker kinds. */
static unsigned int for_each_mcfg(mcfg_fn *fn)
{
	static const enum pt_format fmts[] = { PT_FMT_ARM64_S1, PT_FMT_ARM64_S2, PT_FMT_MALI_LPAE,
					       PT_FMT_MALI_AARCH64 };
	unsigned int n = 0;

	for (unsigned int f = 0; f < ARRAY_SIZE(fmts); f++)
		for (unsigned int gi = 0; gi < ARRAY_SIZE(granules); gi++)
			for (unsigned int i = 0; i < ARRAY_SIZE(addr_sizes); i++)
				for (unsigned int o = i; o < ARRAY_SIZE(addr_sizes); o++) {
					struct mcfg c = { fmts[f], granules[gi], addr_sizes[i],
							  addr_sizes[o], n & 1 };

					if (c.fmt == PT_FMT_MALI_LPAE && (c.g != 12 || c.oas > 40))
						continue;
					if (c.fmt == PT_FMT_MALI_AARCH64 && c.g == 14)
						continue;
					fn(&c);
					n++;
				}
	return n;
}

/* ---- acceptance ---- */

static void accept_empty(struct mt *m)
{
	struct pt_walk_result w;
	const uint64_t probes[] = { 0, m->granule, GIB(1) + 42, ias_end(m) / 2, ias_end(m) - 1 };

	for (unsigned int i = 0; i < ARRAY_SIZE(probes); i++)
		expect_unmapped(m, probes[i]);
	CHECK_ERR(m->name, pt_walk(m->pt, ias_end(m), &w), -ERANGE);
	CHECK_ERR(m->name, pt_walk(m->pt, ~0ull, &w), -ERANGE);
}

/* The n-th leaf size at n GiB: all fit below 2^32. */
static uint64_t nth_va(unsigned int n)
{
	return GIB(n);
}

static void accept_map_each(struct mt *m)
{
	for (unsigned int n = 0; n < m->nsizes; n++) {
		uint64_t va = nth_va(n), size = m->sizes[n], pa = pa_for(m, va, size);

		map_ok(m, va, pa, size, m->prot);
		expect_mapped(m, va + 42, pa + 42, m->prot, size);
		expect_mapped(m, va + size - 1, pa + size - 1, m->prot, size);
		expect_unmapped(m, va + size);
		if (va)
			expect_unmapped(m, va - 1);
	}
}

static void try_overlap(struct mt *m, const char *what, uint64_t va, uint64_t size)
{
	struct snapshot before;
	char ctx[CTX_LEN];

	snprintf(ctx, sizeof(ctx), "%s: overlapping map %s [0x%" PRIx64 ", +0x%" PRIx64 ")",
		 m->name, what, va, size);
	snap_take(m, &before);
	CHECK_ERR(ctx, pt_map(m->pt, va, pa_for(m, va, size), size, RW), -EEXIST);
	snap_expect_same(m, &before, ctx);
	free(before.dump);
}

/* Every way of overlapping each mapping fails with -EEXIST and changes nothing. */
static void accept_overlap(struct mt *m)
{
	for (unsigned int n = 0; n < m->nsizes; n++) {
		uint64_t va = nth_va(n), size = m->sizes[n], g = m->granule;

		try_overlap(m, "same range", va, size);
		try_overlap(m, "first granule", va, g);
		try_overlap(m, "last granule and beyond", va + size - g, 2 * g);
		if (va)
			try_overlap(m, "granule before and first", va - g, 2 * g);
		if (n + 1 < m->nsizes)
			try_overlap(m, "enclosing larger leaf", va & ~(m->sizes[n + 1] - 1),
				    m->sizes[n + 1]);
	}
}

/* Maps that touch a mapping without overlapping it work, and unmap exactly. */
static void accept_adjacent(struct mt *m)
{
	for (unsigned int n = 0; n < m->nsizes; n++) {
		uint64_t va = nth_va(n), size = m->sizes[n], g = m->granule;
		uint64_t after = va + size, before = va - g;

		map_ok(m, after, pa_for(m, after, g), g, RW);
		expect_mapped(m, after, pa_for(m, after, g), RW, g);
		expect_mapped(m, after - 1, pa_for(m, va, size) + size - 1, m->prot, size);
		unmap_ok(m, after, g, g);
		if (!va)
			continue;
		map_ok(m, before, pa_for(m, before, g), g, RW);
		expect_mapped(m, before + g - 1, pa_for(m, before, g) + g - 1, RW, g);
		expect_mapped(m, va, pa_for(m, va, size), m->prot, size);
		unmap_ok(m, before, g, g);
	}
}

static void accept_unmap_each(struct mt *m)
{
	for (unsigned int n = 0; n < m->nsizes; n++) {
		uint64_t va = nth_va(n), size = m->sizes[n];

		unmap_ok(m, va, size, size);
		expect_unmapped(m, va + 42);
		expect_unmapped(m, va + size - 1);
		for (unsigned int k = n + 1; k < m->nsizes; k++)
			expect_mapped(m, nth_va(k) + 42, pa_for(m, nth_va(k), m->sizes[k]) + 42,
				      m->prot, m->sizes[k]);
		/* Nothing left there: unmapping again unmaps nothing. */
		unmap_ok(m, va, size, 0);
	}
	expect_empty_tree(m, "unmapping every size");
}

/* The largest leaf ending exactly at 2^ias. */
static void accept_top_end(struct mt *m)
{
	uint64_t size = largest(m), va = ias_end(m) - size, pa = pa_for(m, va, size);

	map_ok(m, va, pa, size, m->prot);
	expect_mapped(m, va + 42, pa + 42, m->prot, size);
	expect_mapped(m, ias_end(m) - 1, pa + size - 1, m->prot, size);
	expect_unmapped(m, va - 1);
	unmap_ok(m, va, size, size);
	expect_unmapped(m, va + 42);
	expect_unmapped(m, ias_end(m) - 1);
	expect_empty_tree(m, "unmapping the top end");
}

static void acceptance_one(const struct mcfg *c)
{
	struct mt m;

	mt_init(&m, c);
	accept_empty(&m);
	accept_map_each(&m);
	accept_overlap(&m);
	accept_adjacent(&m);
	accept_unmap_each(&m);
	accept_top_end(&m);
	mt_fini(&m);
}

/*
 * lpae.md acceptance: for each granule x ias/oas x stage (and the Mali
 * formats) an empty table translates nothing; one leaf of every size at n GiB
 * translates +42; overlapping maps fail; unmap returns the size; the largest
 * leaf ending at 2^ias maps and unmaps.
 */
static void test_acceptance(void **state)
{
	(void)state;
	assert_true(for_each_mcfg(acceptance_one) > 150);
}

/* ---- best page size against brute force ---- */

/* xorshift64*: fixed seed, so a failure replays; the case is printed. */
static uint64_t xorshift_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t xorshift_below(uint64_t *s, uint64_t n)
{
	return n ? xorshift_next(s) % n : 0;
}

/* A few of each leaf size below @x (at most 3), so that the range stays small. */
static uint64_t ragged(const struct mt *m, uint64_t *s, uint64_t x)
{
	uint64_t len = 0;

	for (unsigned int i = 0; i < m->nsizes && m->sizes[i] < x; i++)
		len += m->sizes[i] * xorshift_below(s, 4);
	return len;
}

struct range {
	uint64_t va, pa, len;
};

/*
 * A random range: VA and PA congruent modulo a random leaf size X, so leaves
 * up to X can be used, larger ones only where the PA happens to be aligned.
 * The range starts a ragged bit below a boundary of Y (X or the next size,
 * possibly more aligned), covers k times Y, and ends a ragged bit after:
 *
 *   va        body = n * Y                      body + k * Y
 *   | head < X |  Y  |  Y  | ... (leaves <= X unless the PA allows) | tail < X |
 */
static struct range random_range(const struct mt *m, uint64_t *s)
{
	unsigned int xi = (unsigned int)xorshift_below(s, m->nsizes);
	unsigned int yi = xi + 1 < m->nsizes ? xi + (unsigned int)xorshift_below(s, 2) : xi;
	uint64_t x = m->sizes[xi], y = m->sizes[yi];
	uint64_t head = ragged(m, s, x), tail = ragged(m, s, x), k = 1 + xorshift_below(s, 2);
	uint64_t body, pa_room;
	struct range r;

	while (k > 1 && (k + 1) * y + tail > ias_end(m))
		k--;
	body = y * (1 + xorshift_below(s, (ias_end(m) - k * y - tail) / y));
	r.va = body - head;
	r.len = head + k * y + tail;
	pa_room = ((1ull << m->cfg.oas) - r.len - x) / x;
	r.pa = xorshift_below(s, pa_room + 1) * x + (r.va & (x - 1));
	return r;
}

static void best_leaf_case(struct mt *m, uint64_t *s, unsigned int i)
{
	struct range r = random_range(m, s);
	size_t cfg_len = strlen(m->name);
	char what[16];

	/* Every message names the case, so that it can be replayed. */
	snprintf(m->name + cfg_len, sizeof(m->name) - cfg_len,
		 " case %u (va 0x%" PRIx64 " pa 0x%" PRIx64 " len 0x%" PRIx64 ")", i, r.va, r.pa,
		 r.len);
	snprintf(what, sizeof(what), "case %u", i);
	if (r.va + r.len > ias_end(m) || r.pa + r.len > 1ull << m->cfg.oas)
		fail_msg("%s: generator out of range", m->name);
	map_ok(m, r.va, r.pa, r.len, m->prot);
	expect_leaves(m, r.va, r.pa, r.len, m->prot);
	if (r.va)
		expect_unmapped(m, r.va - 1);
	if (r.va + r.len < ias_end(m))
		expect_unmapped(m, r.va + r.len);
	unmap_ok(m, r.va, r.len, r.len);
	expect_unmapped(m, r.va);
	expect_empty_tree(m, what);
	m->name[cfg_len] = 0;
}

static const struct mcfg best_leaf_cfgs[] = {
	{ PT_FMT_ARM64_S1, 12, 48, 48, false },     { PT_FMT_ARM64_S1, 14, 48, 48, true },
	{ PT_FMT_ARM64_S1, 16, 48, 48, false },     { PT_FMT_ARM64_S1, 12, 32, 32, true },
	{ PT_FMT_ARM64_S2, 12, 40, 40, false },     { PT_FMT_ARM64_S2, 14, 40, 40, true },
	{ PT_FMT_ARM64_S2, 16, 32, 32, false },     { PT_FMT_ARM64_S2, 12, 32, 32, true },
	{ PT_FMT_ARM64_S2, 16, 42, 44, false },     { PT_FMT_MALI_LPAE, 12, 40, 40, true },
	{ PT_FMT_MALI_LPAE, 12, 32, 36, false },    { PT_FMT_MALI_AARCH64, 12, 48, 48, true },
	{ PT_FMT_MALI_AARCH64, 16, 48, 48, false },
};

#define BEST_LEAF_CASES 150

/* The leaves a map uses are those a brute-force greedy choice gives. */
static void test_best_leaf(void **state)
{
	(void)state;
	for (unsigned int c = 0; c < ARRAY_SIZE(best_leaf_cfgs); c++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull + c;
		struct mt m;

		mt_init(&m, &best_leaf_cfgs[c]);
		for (unsigned int i = 0; i < BEST_LEAF_CASES; i++)
			best_leaf_case(&m, &seed, i);
		mt_fini(&m);
	}
}

/* ---- random map/unmap against an oracle ---- */

#define ORACLE_OPS 2000
#define ORACLE_FULL_CHECK_EVERY 250
#define ORACLE_SAMPLES 16
#define ORACLE_NONE (~0ull)

/*
 * A window of VA whose every granule the oracle knows: the PA it maps to (or
 * ORACLE_NONE) and the protection. It straddles the middle of the input
 * space, a boundary of top-level items (of concatenated tables at stage 2).
 */
struct oracle {
	struct mt *m;
	uint64_t base, npages;
	uint64_t *pa;
	uint32_t *prot;
	uint64_t seed;
};

static const uint32_t oracle_prots[] = {
	PT_PROT_READ, RW, RW | PT_PROT_CACHE, PT_PROT_READ | PT_PROT_EXEC, RW | PT_PROT_MMIO,
};

static void oracle_init(struct oracle *o, struct mt *m, uint64_t seed)
{
	uint64_t window = m->nsizes > 1 ? 4 * m->sizes[1] : 1024 * m->granule;

	if (window / m->granule > 16384)
		window = 16384 * m->granule;
	o->m = m;
	o->npages = window / m->granule;
	o->base = ias_end(m) / 2 - window / 2;
	o->pa = malloc(o->npages * sizeof(*o->pa));
	o->prot = calloc(o->npages, sizeof(*o->prot));
	assert_non_null(o->pa);
	assert_non_null(o->prot);
	for (uint64_t i = 0; i < o->npages; i++)
		o->pa[i] = ORACLE_NONE;
	o->seed = seed;
}

static void oracle_check_page(struct oracle *o, uint64_t i)
{
	struct mt *m = o->m;
	uint64_t off = (i % 7) * 8, va = o->base + i * m->granule + off;

	if (i >= o->npages)
		return;
	if (o->pa[i] == ORACLE_NONE)
		expect_unmapped(m, va);
	else
		expect_mapped(m, va, o->pa[i] + off, o->prot[i], 0);
}

/* The edges of [first, first + n) and a sample inside; or the whole window. */
static void oracle_check(struct oracle *o, uint64_t first, uint64_t n, bool full)
{
	if (full) {
		for (uint64_t i = 0; i < o->npages; i++)
			oracle_check_page(o, i);
		return;
	}
	oracle_check_page(o, first - 1);
	oracle_check_page(o, first);
	oracle_check_page(o, first + n - 1);
	oracle_check_page(o, first + n);
	for (unsigned int k = 0; k < ORACLE_SAMPLES; k++)
		oracle_check_page(o, first + xorshift_below(&o->seed, n));
}

/* A random range in the window: aligned to a random leaf size or not, small or long. */
static void oracle_range(struct oracle *o, uint64_t *first, uint64_t *n, uint64_t *align)
{
	struct mt *m = o->m;
	uint64_t s = m->sizes[xorshift_below(&o->seed, m->nsizes)], spg;

	if (s > o->npages * m->granule / 2)
		s = m->granule;
	spg = s / m->granule;
	*first = xorshift_below(&o->seed, o->npages / spg) * spg;
	switch (xorshift_below(&o->seed, 3)) {
	case 0:
		*n = 1 + xorshift_below(&o->seed, 8);
		break;
	case 1:
		*n = spg * (1 + xorshift_below(&o->seed, 2));
		break;
	default:
		*n = 1 + xorshift_below(&o->seed, o->npages / 4);
		break;
	}
	if (xorshift_below(&o->seed, 4) == 0)
		*first += xorshift_below(&o->seed, spg);
	if (*first + *n > o->npages)
		*n = o->npages - *first;
	*align = s;
}

static void oracle_map(struct oracle *o, uint64_t first, uint64_t n, uint64_t s)
{
	struct mt *m = o->m;
	uint64_t g = m->granule, va = o->base + first * g, len = n * g;
	uint64_t pa = xorshift_below(&o->seed, ((1ull << m->cfg.oas) - len - s) / s + 1) * s +
		      (va & (s - 1));
	uint32_t prot = oracle_prots[xorshift_below(&o->seed, ARRAY_SIZE(oracle_prots))];
	bool live = false;
	char ctx[CTX_LEN];

	for (uint64_t i = first; i < first + n; i++)
		live |= o->pa[i] != ORACLE_NONE;
	snprintf(ctx, sizeof(ctx), "%s: map va 0x%" PRIx64 " pa 0x%" PRIx64 " len 0x%" PRIx64,
		 m->name, va, pa, len);
	CHECK_ERR(ctx, pt_map(m->pt, va, pa, len, prot), live ? -EEXIST : 0);
	if (live)
		return;
	for (uint64_t i = 0; i < n; i++) {
		o->pa[first + i] = pa + i * g;
		o->prot[first + i] = prot;
	}
}

static void oracle_unmap(struct oracle *o, uint64_t first, uint64_t n)
{
	uint64_t mapped = 0;

	for (uint64_t i = first; i < first + n; i++) {
		mapped += o->pa[i] != ORACLE_NONE;
		o->pa[i] = ORACLE_NONE;
	}
	unmap_ok(o->m, o->base + first * o->m->granule, n * o->m->granule, mapped * o->m->granule);
}

/*
 * pt_prefetch() is a hint, and so is pt_seek(): at mapped, unmapped and
 * out-of-range addresses they call no op, take no page and change no
 * translation.
 */
static void prefetch_changes_nothing(struct oracle *o, uint64_t first, uint64_t n)
{
	struct mt *m = o->m;
	uint64_t vas[] = { o->base + first * m->granule, o->base + (first + n) * m->granule - 1,
			   o->base - 1, 1ull << m->cfg.ias, ~0ull };
	uint64_t log0 = m->env.nr_log, pages0 = pt_test_pages_in_use(&m->env);
	uint64_t calls0 = m->env.flush_ranges + m->env.flush_alls + m->env.syncs;
	struct pt_walk_result before, after;
	int rc;

	rc = pt_walk(m->pt, vas[0], &before);
	for (size_t i = 0; i < ARRAY_SIZE(vas); i++)
		pt_prefetch(m->pt, vas[i]);
	for (size_t i = 0; i < ARRAY_SIZE(vas); i++)
		pt_seek(m->pt, vas[i]);
	CHECK_ERR(m->name, pt_walk(m->pt, vas[0], &after), rc);
	CHECK_EQ(m->name, after.desc, before.desc);
	CHECK_EQ(m->name, m->env.nr_log, log0);
	CHECK_EQ(m->name, pt_test_pages_in_use(&m->env), pages0);
	CHECK_EQ(m->name, m->env.flush_ranges + m->env.flush_alls + m->env.syncs, calls0);
}

static void oracle_run(const struct mcfg *c, uint64_t seed)
{
	struct oracle o;
	struct mt m;
	size_t cfg_len;

	mt_init(&m, c);
	oracle_init(&o, &m, seed);
	cfg_len = strlen(m.name);
	for (unsigned int i = 0; i < ORACLE_OPS; i++) {
		uint64_t first, n, s;

		/* Every message names the seed and the operation, so that it can be replayed. */
		snprintf(m.name + cfg_len, sizeof(m.name) - cfg_len, " seed 0x%" PRIx64 " op %u",
			 seed, i);
		oracle_range(&o, &first, &n, &s);
		prefetch_changes_nothing(&o, first, n);
		if (xorshift_below(&o.seed, 2))
			oracle_map(&o, first, n, s);
		else
			oracle_unmap(&o, first, n);
		mt_validate(&m, "a random operation");
		oracle_check(&o, first, n, (i + 1) % ORACLE_FULL_CHECK_EVERY == 0);
	}
	oracle_unmap(&o, 0, o.npages);
	expect_empty_tree(&m, "unmapping the window");
	free(o.pa);
	free(o.prot);
	mt_fini(&m);
}

static const struct mcfg oracle_cfgs[] = {
	{ PT_FMT_ARM64_S1, 12, 48, 48, false },  { PT_FMT_ARM64_S2, 14, 40, 40, true },
	{ PT_FMT_ARM64_S1, 16, 48, 48, true },   { PT_FMT_ARM64_S2, 16, 32, 32, false },
	{ PT_FMT_MALI_LPAE, 12, 40, 40, false }, { PT_FMT_MALI_AARCH64, 12, 48, 48, true },
};

/*
 * lpae.md: random map/unmap against an oracle, thousands of operations;
 * overlapping maps fail. (test-model.c does the same at length, with --seed.)
 */
static void test_random_oracle(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(oracle_cfgs); i++)
		oracle_run(&oracle_cfgs[i], 0x5eed0000ull + i);
}

/* ---- unmapping inside a block ---- */

/* A hole [off, off + len) punched into a block of size B, granule g, next size S. */
struct split_case {
	const char *name;
	uint64_t (*off)(uint64_t B, uint64_t S, uint64_t g);
	uint64_t (*len)(uint64_t B, uint64_t S, uint64_t g);
};

static uint64_t zero(uint64_t B, uint64_t S, uint64_t g)
{
	(void)B, (void)S, (void)g;
	return 0;
}

static uint64_t one_granule(uint64_t B, uint64_t S, uint64_t g)
{
	(void)B, (void)S;
	return g;
}

static uint64_t last_granule(uint64_t B, uint64_t S, uint64_t g)
{
	(void)S;
	return B - g;
}

static uint64_t middle(uint64_t B, uint64_t S, uint64_t g)
{
	(void)S;
	return B / 2 + 3 * g;
}

static uint64_t all_but_two_granules(uint64_t B, uint64_t S, uint64_t g)
{
	(void)S;
	return B - 2 * g;
}

static uint64_t next_size(uint64_t B, uint64_t S, uint64_t g)
{
	(void)B, (void)g;
	return S;
}

static uint64_t next_size_minus_granule(uint64_t B, uint64_t S, uint64_t g)
{
	(void)B;
	return S - g;
}

static uint64_t two_granules(uint64_t B, uint64_t S, uint64_t g)
{
	(void)B, (void)S;
	return 2 * g;
}

static uint64_t whole(uint64_t B, uint64_t S, uint64_t g)
{
	(void)S, (void)g;
	return B;
}

static const struct split_case split_cases[] = {
	{ "first page", zero, one_granule },
	{ "last page", last_granule, one_granule },
	{ "middle page", middle, one_granule },
	{ "cut down to one page at both ends", one_granule, all_but_two_granules },
	{ "first next-size leaf", zero, next_size },
	{ "across two next-size leaves", next_size_minus_granule, two_granules },
	{ "whole block", zero, whole },
};

static void split_check_kept(struct mt *m, uint64_t va, uint64_t pa, uint64_t B, uint64_t off,
			     uint64_t len)
{
	expect_leaves(m, va, pa, off, m->prot);
	expect_leaves(m, va + off + len, pa + off + len, B - off - len, m->prot);
	expect_unmapped(m, va + off);
	expect_unmapped(m, va + off + len - 1);
	expect_unmapped(m, va + off + len / 2);
}

/* Punch the hole, check; unmap more around it, check the count; unmap the rest. */
static void split_one(struct mt *m, const struct split_case *t, uint64_t B, uint64_t S)
{
	uint64_t g = m->granule, va = 4 * largest(m), pa = pa_for(m, va, B);
	uint64_t off = t->off(B, S, g), len = t->len(B, S, g);
	uint64_t lo = off ? off - g : off, hi = off + len < B ? off + len + g : off + len;
	char ctx[CTX_LEN];

	snprintf(ctx, sizeof(ctx), "%s: block 0x%" PRIx64 ": %s", m->name, B, t->name);
	map_ok(m, va, pa, B, m->prot);
	expect_mapped(m, va, pa, m->prot, B);
	unmap_ok(m, va + off, len, len);
	split_check_kept(m, va, pa, B, off, len);
	/* Exactly the bytes still mapped in a range that overlaps the hole. */
	unmap_ok(m, va + lo, hi - lo, (hi - lo) - len);
	split_check_kept(m, va, pa, B, lo, hi - lo);
	unmap_ok(m, va - B, 3 * B, B - (hi - lo));
	expect_empty_tree(m, ctx);
}

static const struct mcfg split_cfgs[] = {
	{ PT_FMT_ARM64_S1, 12, 48, 48, false },    { PT_FMT_ARM64_S1, 14, 48, 48, true },
	{ PT_FMT_ARM64_S1, 16, 48, 48, false },    { PT_FMT_ARM64_S2, 12, 40, 40, true },
	{ PT_FMT_ARM64_S2, 16, 36, 36, false },    { PT_FMT_MALI_LPAE, 12, 40, 40, false },
	{ PT_FMT_MALI_AARCH64, 12, 48, 48, true }, { PT_FMT_MALI_AARCH64, 16, 48, 48, false },
};

/*
 * Unmapping part of a block (the largest leaf, then the next one) keeps the
 * rest mapped, to the same PAs and protections, as the largest leaves that
 * fit; the unmapped byte counts are exact.
 */
static void test_unmap_split(void **state)
{
	(void)state;
	for (unsigned int c = 0; c < ARRAY_SIZE(split_cfgs); c++) {
		struct mt m;

		mt_init(&m, &split_cfgs[c]);
		assert_true(m.nsizes >= 2);
		for (unsigned int b = m.nsizes - 1; b >= 1; b--)
			for (unsigned int i = 0; i < ARRAY_SIZE(split_cases); i++)
				split_one(&m, &split_cases[i], m.sizes[b], m.sizes[b - 1]);
		mt_fini(&m);
	}
}

/* ---- whole blocks, one call each ---- */

/*
 * Blocks of the smallest block size mapped and unmapped one call each, as a
 * driver binds 2M buffers: the second map goes down to their table, the ones
 * after it start there and take the one-op path of blocks (pt_resv.c), maps
 * and unmaps alike, until the last unmap, which empties the table: it must
 * take the general path and drop the tables.
 */
static void blocks_one_op(const struct mcfg *c)
{
	struct mt m;
	uint64_t b, span, va, pa;

	mt_init(&m, c);
	b = m.sizes[1];
	span = b << m.geo.bits_per_level; /* the table of blocks */
	va = 2 * span <= ias_end(&m) ? span : 0;
	pa = va + 8 * b;
	for (uint64_t i = 0; i < 3; i++)
		map_ok(&m, va + i * b, pa + i * b, b, m.prot);
	for (uint64_t i = 0; i < 3; i++)
		expect_mapped(&m, va + i * b + 42, pa + i * b + 42, m.prot, b);
	unmap_ok(&m, va + b, b, b);
	expect_unmapped(&m, va + b);
	expect_mapped(&m, va + 42, pa + 42, m.prot, b);
	expect_mapped(&m, va + 2 * b + 42, pa + 2 * b + 42, m.prot, b);
	unmap_ok(&m, va + 2 * b, b, b);
	expect_unmapped(&m, va + 2 * b);
	unmap_ok(&m, va, b, b);
	expect_unmapped(&m, va);
	expect_empty_tree(&m, "unmapping the last block");
	mt_fini(&m);
}

static void test_blocks_one_op(void **state)
{
	(void)state;
	for (unsigned int c = 0; c < ARRAY_SIZE(split_cfgs); c++)
		blocks_one_op(&split_cfgs[c]);
}

/* ---- the page-size boundary case ---- */

static void boundary_one(const struct mcfg *c)
{
	const uint64_t va = 0xfef80000, last = 0xfef9ffff, pa = 0x208b95d000;
	struct mt m;

	mt_init(&m, c);
	map_ok(&m, va, pa, last + 1 - va, RW);
	for (uint64_t off = 0; off <= last - va; off += KIB(4))
		expect_mapped(&m, va + off + 42, pa + off + 42, RW, KIB(4));
	expect_mapped(&m, last, pa + (last - va), RW, KIB(4));
	expect_unmapped(&m, va - 1);
	expect_unmapped(&m, last + 1);
	unmap_ok(&m, va, last + 1 - va, last + 1 - va);
	expect_unmapped(&m, va);
	expect_empty_tree(&m, "unmapping 0xfef80000..0xfef9ffff");
	mt_fini(&m);
}

static const struct mcfg boundary_cfgs[] = {
	{ PT_FMT_ARM64_S1, 12, 32, 40, false },    { PT_FMT_ARM64_S1, 12, 48, 48, true },
	{ PT_FMT_ARM64_S2, 12, 32, 40, true },     { PT_FMT_ARM64_S2, 12, 40, 40, false },
	{ PT_FMT_ARM64_S2, 12, 40, 44, true },     { PT_FMT_ARM64_S2, 12, 48, 48, false },
	{ PT_FMT_MALI_LPAE, 12, 32, 40, false },   { PT_FMT_MALI_LPAE, 12, 40, 40, true },
	{ PT_FMT_MALI_AARCH64, 12, 32, 40, true }, { PT_FMT_MALI_AARCH64, 12, 48, 48, false },
};

/* lpae.md: mapping 0xfef80000..0xfef9ffff to PA 0x208b95d000 works. */
static void test_page_size_boundary(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(boundary_cfgs); i++)
		boundary_one(&boundary_cfgs[i]);
}

/* ---- stage-2 concatenated top ---- */

static void concat_cross(struct mt *m, uint64_t boundary)
{
	uint64_t reach = 0, g = m->granule, va, pa;

	for (unsigned int i = 0; i < m->nsizes; i++)
		reach += 2 * m->sizes[i];
	va = boundary - reach;
	pa = pa_for(m, va, 2 * reach);
	map_ok(m, va, pa, 2 * reach, m->prot);
	expect_leaves(m, va, pa, 2 * reach, m->prot);
	expect_unmapped(m, va - 1);
	expect_unmapped(m, boundary + reach);
	/* Unmap across the boundary: the leaves on both sides are cut. */
	unmap_ok(m, boundary - g, 2 * g, 2 * g);
	expect_leaves(m, va, pa, reach - g, m->prot);
	expect_leaves(m, boundary + g, pa + reach + g, reach - g, m->prot);
	expect_unmapped(m, boundary - 1);
	expect_unmapped(m, boundary);
	unmap_ok(m, va, 2 * reach, 2 * reach - 2 * g);
	expect_empty_tree(m, "unmapping across the concatenated tables");
}

static const struct mcfg concat_cfgs[] = {
	{ PT_FMT_ARM64_S2, 12, 40, 40, false }, /* 2 tables at level 1 */
	{ PT_FMT_ARM64_S2, 12, 42, 42, true },  /* 8 tables at level 1 */
	{ PT_FMT_ARM64_S2, 12, 40, 44, false }, /* allowed, not mandatory */
	{ PT_FMT_ARM64_S2, 12, 32, 32, true },  /* 4 tables at level 2 */
	{ PT_FMT_ARM64_S2, 14, 40, 40, false }, /* 16 tables at level 2 */
	{ PT_FMT_ARM64_S2, 14, 48, 48, true },  /* 2 tables at level 1 */
	{ PT_FMT_ARM64_S2, 16, 32, 32, false }, /* 8 tables at level 3 */
};

/*
 * A map and an unmap crossing the boundary between two tables of a
 * concatenated top (the Linux pitfall of batching to the end of the whole top
 * instead of the current table).
 */
static void test_concat_boundary(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(concat_cfgs); i++) {
		struct mt m;
		uint64_t table_span;

		mt_init(&m, &concat_cfgs[i]);
		assert_true(m.geo.top_concat > 1);
		table_span = 1ull << (m.geo.level_shift[m.geo.start_level] + m.geo.bits_per_level);
		CHECK_EQ(m.name, table_span * m.geo.top_concat, ias_end(&m));
		concat_cross(&m, table_span);
		concat_cross(&m, table_span * (m.geo.top_concat / 2));
		concat_cross(&m, table_span * (m.geo.top_concat - 1));
		mt_fini(&m);
	}
}

/* ---- argument errors ---- */

enum arg_op {
	OP_MAP,
	OP_UNMAP
};

struct arg_case {
	char name[64];
	enum arg_op op;
	uint64_t va, pa, size;
	uint32_t prot;
	int err;
};

static struct arg_case *arg_add(struct arg_case *t, const char *name, enum arg_op op, uint64_t va,
				uint64_t pa, uint64_t size, uint32_t prot, int err)
{
	snprintf(t->name, sizeof(t->name), "%s %s", op == OP_MAP ? "map" : "unmap", name);
	t->op = op;
	t->va = va;
	t->pa = pa;
	t->size = size;
	t->prot = prot;
	t->err = err;
	return t + 1;
}

/* Map arguments around a free VA @v and PA @p. */
static struct arg_case *map_arg_cases(const struct mt *m, struct arg_case *t, uint64_t v,
				      uint64_t p)
{
	uint64_t g = m->granule, top = ias_end(m), otop = 1ull << m->cfg.oas;
	bool s1 = m->cfg.fmt == PT_FMT_ARM64_S1 || m->cfg.fmt == PT_FMT_MALI_AARCH64;

	t = arg_add(t, "va misaligned", OP_MAP, v + g / 2, p, g, RW, -EINVAL);
	t = arg_add(t, "va off by 8", OP_MAP, v + 8, p, g, RW, -EINVAL);
	t = arg_add(t, "pa misaligned", OP_MAP, v, p + g / 2, g, RW, -EINVAL);
	t = arg_add(t, "size misaligned", OP_MAP, v, p, g + g / 2, RW, -EINVAL);
	t = arg_add(t, "size 0", OP_MAP, v, p, 0, RW, -EINVAL);
	t = arg_add(t, "va + size overflows", OP_MAP, v, p, 0 - g, RW, -ERANGE);
	t = arg_add(t, "va at 2^ias", OP_MAP, top, p, g, RW, -ERANGE);
	t = arg_add(t, "range ends past 2^ias", OP_MAP, top - g, p, 2 * g, RW, -ERANGE);
	t = arg_add(t, "va far beyond", OP_MAP, 0 - g, p, g, RW, -ERANGE);
	t = arg_add(t, "pa at 2^oas", OP_MAP, v, otop, g, RW, -ERANGE);
	t = arg_add(t, "pa range ends past 2^oas", OP_MAP, v, otop - g, 2 * g, RW, -ERANGE);
	t = arg_add(t, "pa + size overflows", OP_MAP, v, 0 - g, 2 * g, RW, -ERANGE);
	t = arg_add(t, "prot 0", OP_MAP, v, p, g, 0, -EINVAL);
	t = arg_add(t, "prot exec only", OP_MAP, v, p, g, PT_PROT_EXEC, -EINVAL);
	t = arg_add(t, "prot unknown bit", OP_MAP, v, p, g, RW | 1u << 6, -EINVAL);
	t = arg_add(t, "prot cache and mmio", OP_MAP, v, p, g, RW | PT_PROT_CACHE | PT_PROT_MMIO,
		    -EINVAL);
	if (s1)
		t = arg_add(t, "prot write-only", OP_MAP, v, p, g, PT_PROT_WRITE, -EINVAL);
	else
		t = arg_add(t, "prot privileged", OP_MAP, v, p, g, RW | PT_PROT_PRIV, -EINVAL);
	return t;
}

static struct arg_case *unmap_arg_cases(const struct mt *m, struct arg_case *t, uint64_t v)
{
	uint64_t g = m->granule, top = ias_end(m);

	t = arg_add(t, "va misaligned", OP_UNMAP, v + g / 2, 0, g, 0, -EINVAL);
	t = arg_add(t, "size misaligned", OP_UNMAP, v, 0, g / 2, 0, -EINVAL);
	t = arg_add(t, "size 0", OP_UNMAP, v, 0, 0, 0, -EINVAL);
	t = arg_add(t, "va + size overflows", OP_UNMAP, v, 0, 0 - g, 0, -ERANGE);
	t = arg_add(t, "va at 2^ias", OP_UNMAP, top, 0, g, 0, -ERANGE);
	t = arg_add(t, "range ends past 2^ias", OP_UNMAP, top - g, 0, 2 * g, 0, -ERANGE);
	return t;
}

static int arg_run(struct mt *m, const struct arg_case *t)
{
	uint64_t unmapped = 0x5a5a;
	int err;

	if (t->op == OP_MAP)
		return pt_map(m->pt, t->va, t->pa, t->size, t->prot);
	err = pt_unmap(m->pt, t->va, t->size, &unmapped);
	if (err && unmapped != 0x5a5a)
		fail_msg("%s: %s: a failed unmap wrote *unmapped", m->name, t->name);
	return err;
}

/* Live mappings around which the errors are tried: a block, a page, the top end. */
static void arg_populate(struct mt *m, uint64_t *free_va, uint64_t *free_pa)
{
	uint64_t big = largest(m), g = m->granule, top_page = ias_end(m) - g;

	map_ok(m, big, pa_for(m, big, big), big, m->prot);
	map_ok(m, 2 * big + g, pa_for(m, 2 * big + g, g), g, RW);
	map_ok(m, top_page, pa_for(m, top_page, g), g, RW);
	/* Free, with room for two granules, below 2^ias - granule. */
	*free_va = 3 * big + 2 * g;
	*free_pa = pa_for(m, *free_va, 2 * g);
}

static void args_one(const struct mcfg *c)
{
	struct arg_case cases[40], *end;
	uint64_t v, p;
	struct mt m;

	mt_init(&m, c);
	arg_populate(&m, &v, &p);
	end = map_arg_cases(&m, cases, v, p);
	end = arg_add(end, "overlapping a block", OP_MAP, largest(&m) * 2 - m.granule, p,
		      2 * m.granule, RW, -EEXIST);
	end = unmap_arg_cases(&m, end, v);
	for (struct arg_case *t = cases; t < end; t++) {
		struct snapshot before;
		char ctx[CTX_LEN];

		snprintf(ctx, sizeof(ctx), "%s: %.63s", m.name, t->name);
		snap_take(&m, &before);
		CHECK_ERR(ctx, arg_run(&m, t), t->err);
		snap_expect_same(&m, &before, ctx);
		free(before.dump);
	}
	/* And the arguments that were good still work. */
	map_ok(&m, v, p, m.granule, RW);
	expect_mapped(&m, v + 42, p + 42, RW, m.granule);
	mt_fini(&m);
}

static const struct mcfg args_cfgs[] = {
	{ PT_FMT_ARM64_S1, 12, 48, 48, false },     { PT_FMT_ARM64_S1, 16, 36, 40, true },
	{ PT_FMT_ARM64_S1, 14, 32, 32, false },     { PT_FMT_ARM64_S2, 12, 40, 40, true },
	{ PT_FMT_ARM64_S2, 16, 32, 32, false },     { PT_FMT_MALI_LPAE, 12, 32, 36, true },
	{ PT_FMT_MALI_LPAE, 12, 40, 40, false },    { PT_FMT_MALI_AARCH64, 16, 48, 48, true },
	{ PT_FMT_MALI_AARCH64, 12, 36, 36, false },
};

/*
 * Misaligned va/pa/size, size 0, overflow, beyond 2^ias or 2^oas, bad prot:
 * the right errno, and the table, its memory and the walker are untouched.
 */
static void test_bad_args(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(args_cfgs); i++)
		args_one(&args_cfgs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acceptance),      cmocka_unit_test(test_best_leaf),
		cmocka_unit_test(test_random_oracle),   cmocka_unit_test(test_unmap_split),
		cmocka_unit_test(test_blocks_one_op),   cmocka_unit_test(test_page_size_boundary),
		cmocka_unit_test(test_concat_boundary), cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
