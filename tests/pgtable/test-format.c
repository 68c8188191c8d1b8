// SPDX-License-Identifier: MIT
/*
 * Format tests: geometry (levels, top table, stage-2 concatenation), the
 * allocation of the top table, descriptor encode/decode at every level,
 * protections, register values and configuration errors, for every format,
 * granule, ias and oas.
 *
 * Expected values are computed here from shared/reference/lpae.md and mali.md
 * section 1, never from library internals; well-known configurations are also
 * pinned as literal numbers, which keeps the reference itself honest.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gpuvm/print_file.h>

#include "pt-test.h"

#define G(lg2) (1u << (lg2))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KIB(n) ((uint64_t)(n) << 10)
#define MIB(n) ((uint64_t)(n) << 20)
#define GIB(n) ((uint64_t)(n) << 30)

#define RW (PT_PROT_READ | PT_PROT_WRITE)

/* How a format writes leaves (lpae.md "Descriptor format", "Mali formats"). */
enum desc_kind {
	DESC_S1,   /* VMSAv8-64 stage 1 (also Mali AArch64 mode) */
	DESC_S2,   /* VMSAv8-64 stage 2 */
	DESC_LPAE, /* Mali legacy LPAE */
};

/* What lpae.md and mali.md say about each format. */
struct fmt_info {
	enum pt_format fmt;
	const char *name;
	uint32_t granules; /* bit g: granule 2^g supported */
	unsigned int max_oas;
	uint32_t prot_mask;   /* protections the format can express */
	uint32_t quirks;      /* quirks that apply to the format */
	size_t min_top_align; /* TTBR: 64 bytes; Mali TRANSTAB: 4 KiB */
	enum desc_kind desc;
};

static const struct fmt_info fmt_s1 = {
	.fmt = PT_FMT_ARM64_S1,
	.name = "s1",
	.granules = G(12) | G(14) | G(16),
	.max_oas = 48,
	.prot_mask = PT_PROT_ALL,
	.quirks = PT_QUIRK_ARM_NS,
	.min_top_align = 64,
	.desc = DESC_S1,
};

static const struct fmt_info fmt_s2 = {
	.fmt = PT_FMT_ARM64_S2,
	.name = "s2",
	.granules = G(12) | G(14) | G(16),
	.max_oas = 48,
	.prot_mask = PT_PROT_ALL & ~PT_PROT_PRIV, /* no EL distinction at stage 2 */
	.quirks = PT_QUIRK_S2_NO_CONCAT,
	.min_top_align = 64,
	.desc = DESC_S2,
};

static const struct fmt_info fmt_lpae = {
	.fmt = PT_FMT_MALI_LPAE,
	.name = "mali-lpae",
	.granules = G(12),
	.max_oas = 40,
	.prot_mask = PT_PROT_ALL & ~PT_PROT_PRIV, /* RD/WR bits, no privilege bit */
	.min_top_align = 4096,
	.desc = DESC_LPAE,
};

static const struct fmt_info fmt_mali64 = {
	.fmt = PT_FMT_MALI_AARCH64,
	.name = "mali-aarch64",
	.granules = G(12) | G(16), /* TRANSCFG ADRMODE 6 and 8 */
	.max_oas = 48,
	.prot_mask = PT_PROT_ALL,
	.min_top_align = 4096,
	.desc = DESC_S1,
};

static const struct fmt_info *const fmts[] = { &fmt_s1, &fmt_s2, &fmt_lpae, &fmt_mali64 };

static const unsigned int addr_sizes[] = { 32, 36, 40, 42, 44, 48 };
static const unsigned int granules[] = { 12, 14, 16 };

/* One configuration under test. */
struct fcase {
	const struct fmt_info *fi;
	unsigned int g, ias, oas;
	uint32_t quirks;
	bool coherent;
	char name[96];
};

static void fcase_name(struct fcase *c)
{
	snprintf(c->name, sizeof(c->name), "%s %uK ias %u oas %u%s%s%s", c->fi->name,
		 c->g >= 10 ? 1u << (c->g - 10) : 0, c->ias, c->oas,
		 c->quirks & PT_QUIRK_ARM_NS ? " ns" : "",
		 c->quirks & PT_QUIRK_S2_NO_CONCAT ? " no-concat" : "",
		 c->coherent ? " coherent" : "");
}

static void fcase_set(struct fcase *c, const struct fmt_info *fi, unsigned int g, unsigned int ias,
		      unsigned int oas, uint32_t quirks)
{
	memset(c, 0, sizeof(*c));
	c->fi = fi;
	c->g = g;
	c->ias = ias;
	c->oas = oas;
	c->quirks = quirks;
	/* Alternate, so that both walker kinds are covered across the sweep. */
	c->coherent = (ias / 4 + oas / 4 + g / 2) & 1;
	fcase_name(c);
}

typedef void case_fn(const struct fcase *c);

/* ias <= oas in {32..48}, with and without each of the format's quirks. */
static unsigned int for_each_size_case(const struct fmt_info *fi, unsigned int g, case_fn *fn)
{
	unsigned int n = 0;
	struct fcase c;

	for (unsigned int i = 0; i < ARRAY_SIZE(addr_sizes); i++) {
		for (unsigned int o = i; o < ARRAY_SIZE(addr_sizes); o++) {
			if (addr_sizes[o] > fi->max_oas)
				continue;
			for (uint32_t q = 0; q <= fi->quirks; q += fi->quirks ? fi->quirks : 1) {
				fcase_set(&c, fi, g, addr_sizes[i], addr_sizes[o], q);
				fn(&c);
				n++;
			}
		}
	}
	return n;
}

/* Every valid configuration of the acceptance set, for every format and granule. */
static unsigned int for_each_valid_case(case_fn *fn)
{
	unsigned int n = 0;

	for (unsigned int f = 0; f < ARRAY_SIZE(fmts); f++)
		for (unsigned int gi = 0; gi < ARRAY_SIZE(granules); gi++)
			if (fmts[f]->granules & G(granules[gi]))
				n += for_each_size_case(fmts[f], granules[gi], fn);
	return n;
}

/* ---- reference geometry (lpae.md "Geometry", "Stage-2 concatenation") ---- */

struct ref_geo {
	unsigned int levels, start, top_bits, concat;
	uint64_t entries;
	size_t bytes, align;
	uint64_t leaf_sizes;
	unsigned int shift[PT_MAX_LEVELS];
};

static bool oas_encodable(unsigned int oas)
{
	/* TCR.IPS / VTCR.PS values; 52 needs LPA and is out of scope. */
	return oas == 32 || oas == 36 || oas == 40 || oas == 42 || oas == 44 || oas == 48;
}

static int ref_check(const struct fcase *c)
{
	const struct fmt_info *fi = c->fi;

	if (c->g >= 32 || !(fi->granules & G(c->g)))
		return -EINVAL;
	if (c->ias < 25 || c->ias > 48)
		return -EINVAL;
	if (!oas_encodable(c->oas) || c->oas > fi->max_oas)
		return -EINVAL;
	if (fi->desc == DESC_S2 && c->ias > c->oas)
		return -EINVAL;
	if (c->quirks & ~fi->quirks)
		return -EINVAL;
	return 0;
}

/* Where the architecture forbids the plain start level at stage 2. */
static bool ref_concat_mandatory(const struct fcase *c, unsigned int start)
{
	if (c->g == 12)
		return start == 0 && (c->oas == 40 || c->oas == 42);
	if (c->g == 14)
		return (start == 0 && c->ias == 48) || (start == 1 && c->oas == 40);
	return false;
}

static int ref_concat(const struct fcase *c, struct ref_geo *r)
{
	/* The new start level must be encodable: SL0 = 2 - start (4K), 3 - start. */
	unsigned int deepest = c->g == 12 ? 2 : 3;
	bool mandatory = ref_concat_mandatory(c, r->start);
	bool possible = r->top_bits <= 4 && r->start + 1 <= deepest;

	if (mandatory && !possible)
		return -EINVAL;
	if (!possible || (!mandatory && (c->quirks & PT_QUIRK_S2_NO_CONCAT)))
		return 0;
	r->concat = 1u << r->top_bits;
	r->top_bits += c->g - 3;
	r->start++;
	r->levels--;
	return 0;
}

/* Blocks: 4K at levels 1 and 2; 16K and 64K at level 2 only (level 1 needs 52-bit OA). */
static bool ref_block_level(unsigned int g, unsigned int lvl)
{
	return g == 12 ? lvl == 1 || lvl == 2 : lvl == 2;
}

static int ref_geometry(const struct fcase *c, struct ref_geo *r)
{
	unsigned int bpl = c->g - 3, va_bits;
	int err = ref_check(c);

	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	va_bits = c->ias - c->g;
	r->levels = (va_bits + bpl - 1) / bpl;
	r->top_bits = va_bits - bpl * (r->levels - 1);
	if (c->fi->desc == DESC_LPAE) {
		/* Always four levels: the top resolves VA bits [ias-1:39], maybe none. */
		r->levels = 4;
		r->top_bits = c->ias > 39 ? c->ias - 39 : 0;
	}
	r->start = 4 - r->levels;
	r->concat = 1;
	if (c->fi->desc == DESC_S2) {
		err = ref_concat(c, r);
		if (err)
			return err;
	}
	r->leaf_sizes = 1ull << c->g;
	for (unsigned int l = r->start; l < PT_MAX_LEVELS; l++) {
		r->shift[l] = (4 - l) * bpl + 3;
		if (l < PT_LEAF_LEVEL && ref_block_level(c->g, l))
			r->leaf_sizes |= 1ull << r->shift[l];
	}
	r->entries = 1ull << r->top_bits;
	r->bytes = (size_t)r->entries * 8;
	r->align = r->bytes > c->fi->min_top_align ? r->bytes : c->fi->min_top_align;
	return 0;
}

static void fcase_cfg(const struct fcase *c, struct pt_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->fmt = c->fi->fmt;
	cfg->granule_lg2 = c->g;
	cfg->ias = c->ias;
	cfg->oas = c->oas;
	cfg->quirks = c->quirks;
	cfg->coherent_walk = c->coherent;
}

static void check_geometry(const char *ctx, const struct pt_geometry *geo, const struct ref_geo *r,
			   unsigned int g)
{
	CHECK_EQ(ctx, geo->granule_lg2, g);
	CHECK_EQ(ctx, geo->bits_per_level, g - 3);
	CHECK_EQ(ctx, geo->levels, r->levels);
	CHECK_EQ(ctx, geo->start_level, r->start);
	CHECK_EQ(ctx, geo->top_index_bits, r->top_bits);
	CHECK_EQ(ctx, geo->top_entries, r->entries);
	CHECK_EQ(ctx, geo->top_concat, r->concat);
	CHECK_EQ(ctx, geo->top_bytes, r->bytes);
	CHECK_EQ(ctx, geo->top_bytes, geo->top_entries * 8);
	CHECK_EQ(ctx, geo->top_align, r->align);
	CHECK_EQ(ctx, geo->leaf_sizes, r->leaf_sizes);
	for (unsigned int l = r->start; l < PT_MAX_LEVELS; l++)
		CHECK_EQ(ctx, geo->level_shift[l], r->shift[l]);
}

/* ---- geometry ---- */

static const struct fmt_info fmt_bogus = {
	.fmt = (enum pt_format)0,
	.name = "fmt-0",
};

/* pt_geometry() of one configuration agrees with the reference; 1 if valid. */
static unsigned int sweep_one(const struct fmt_info *fi, unsigned int g, unsigned int ias,
			      unsigned int oas, uint32_t quirks)
{
	struct fcase c;
	struct pt_cfg cfg;
	struct pt_geometry geo;
	struct ref_geo r;
	int want;

	fcase_set(&c, fi, g, ias, oas, quirks);
	want = fi == &fmt_bogus ? -EINVAL : ref_geometry(&c, &r);
	fcase_cfg(&c, &cfg);
	CHECK_ERR(c.name, pt_geometry(&cfg, &geo), want);
	if (want)
		return 0;
	check_geometry(c.name, &geo, &r, c.g);
	return 1;
}

/*
 * Sweep: every format (and an unknown one), granule (and an unsupported one),
 * ias 24..49, oas (and bad ones), quirk; pt_geometry() must agree with the
 * reference, errors included.
 */
static void test_geometry_sweep(void **state)
{
	static const unsigned int oases[] = { 0, 32, 33, 36, 40, 42, 44, 48, 52 };
	static const unsigned int gs[] = { 12, 13, 14, 16 };
	static const uint32_t quirks[] = { 0, PT_QUIRK_ARM_NS, PT_QUIRK_S2_NO_CONCAT, 1u << 2 };
	const struct fmt_info *all[] = { &fmt_s1, &fmt_s2, &fmt_lpae, &fmt_mali64, &fmt_bogus };
	const unsigned int nq = ARRAY_SIZE(quirks), no = ARRAY_SIZE(oases), nias = 49 - 24 + 1;
	const unsigned int ng = ARRAY_SIZE(gs), total = ARRAY_SIZE(all) * ng * nias * no * nq;
	unsigned int ok = 0;

	(void)state;
	for (unsigned int k = 0; k < total; k++) {
		unsigned int q = k % nq, o = k / nq % no, ias = 24 + k / nq / no % nias;
		unsigned int gi = k / nq / no / nias % ng, f = k / nq / no / nias / ng;

		ok += sweep_one(all[f], gs[gi], ias, oases[o], quirks[q]);
	}
	assert_true(ok > 1000);
}

struct geo_literal {
	const char *name;
	const struct fmt_info *fi;
	unsigned int g, ias, oas;
	uint32_t quirks;
	unsigned int levels, start, top_bits, concat;
	uint64_t entries;
	size_t bytes, align;
};

#define NOCAT PT_QUIRK_S2_NO_CONCAT

/* Well-known shapes, worked out by hand from lpae.md. */
static const struct geo_literal geo_literals[] = {
	{ "4K ias48 s1: full 4 levels", &fmt_s1, 12, 48, 48, 0, 4, 0, 9, 1, 512, 4096, 4096 },
	{ "4K ias39 s1: 3 levels", &fmt_s1, 12, 39, 40, 0, 3, 1, 9, 1, 512, 4096, 4096 },
	{ "4K ias40 s1: 16-byte top", &fmt_s1, 12, 40, 40, 0, 4, 0, 1, 1, 2, 16, 64 },
	{ "4K ias25 s1: smallest ias", &fmt_s1, 12, 25, 32, 0, 2, 2, 4, 1, 16, 128, 128 },
	{ "4K ias40 s2 oas40: mandatory concat", &fmt_s2, 12, 40, 40, 0, 3, 1, 10, 2, 1024, 8192,
	  8192 },
	{ "4K ias40 s2 oas40 no-concat: still mandatory", &fmt_s2, 12, 40, 40, NOCAT, 3, 1, 10, 2,
	  1024, 8192, 8192 },
	{ "4K ias42 s2 oas42: mandatory concat of 8", &fmt_s2, 12, 42, 42, 0, 3, 1, 12, 8, 4096,
	  32768, 32768 },
	{ "4K ias40 s2 oas44: allowed concat", &fmt_s2, 12, 40, 44, 0, 3, 1, 10, 2, 1024, 8192,
	  8192 },
	{ "4K ias40 s2 oas44 no-concat: 16-byte top", &fmt_s2, 12, 40, 44, NOCAT, 4, 0, 1, 1, 2, 16,
	  64 },
	{ "4K ias32 s2: concat to level 2", &fmt_s2, 12, 32, 32, 0, 2, 2, 11, 4, 2048, 16384,
	  16384 },
	{ "4K ias32 s2 no-concat", &fmt_s2, 12, 32, 32, NOCAT, 3, 1, 2, 1, 4, 32, 64 },
	{ "4K ias48 s2: 512 items, no concat", &fmt_s2, 12, 48, 48, 0, 4, 0, 9, 1, 512, 4096,
	  4096 },
	{ "16K ias48 s2: mandatory concat", &fmt_s2, 14, 48, 48, 0, 3, 1, 12, 2, 4096, 32768,
	  32768 },
	{ "16K ias40 s2 oas40: mandatory concat of 16", &fmt_s2, 14, 40, 40, 0, 2, 2, 15, 16, 32768,
	  262144, 262144 },
	{ "16K ias40 s1", &fmt_s1, 14, 40, 40, 0, 3, 1, 4, 1, 16, 128, 128 },
	{ "64K ias32 s2: concat to level 3", &fmt_s2, 16, 32, 32, 0, 1, 3, 16, 8, 65536, 524288,
	  524288 },
	{ "64K ias32 s2 no-concat", &fmt_s2, 16, 32, 32, NOCAT, 2, 2, 3, 1, 8, 64, 64 },
	{ "64K ias36 s2: 128 items, no concat", &fmt_s2, 16, 36, 36, 0, 2, 2, 7, 1, 128, 1024,
	  1024 },
	{ "64K ias48 s1", &fmt_s1, 16, 48, 48, 0, 3, 1, 6, 1, 64, 512, 512 },
	{ "64K ias42 s1: full top", &fmt_s1, 16, 42, 42, 0, 2, 2, 13, 1, 8192, 65536, 65536 },
	{ "mali-lpae ias32: one-item top", &fmt_lpae, 12, 32, 32, 0, 4, 0, 0, 1, 1, 8, 4096 },
	{ "mali-lpae ias40", &fmt_lpae, 12, 40, 40, 0, 4, 0, 1, 1, 2, 16, 4096 },
	{ "mali-lpae ias48", &fmt_lpae, 12, 48, 40, 0, 4, 0, 9, 1, 512, 4096, 4096 },
	{ "mali-aarch64 4K ias48", &fmt_mali64, 12, 48, 48, 0, 4, 0, 9, 1, 512, 4096, 4096 },
	{ "mali-aarch64 64K ias48", &fmt_mali64, 16, 48, 48, 0, 3, 1, 6, 1, 64, 512, 4096 },
};

static void test_geometry_literals(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(geo_literals); i++) {
		const struct geo_literal *t = &geo_literals[i];
		struct fcase c;
		struct pt_cfg cfg;
		struct pt_geometry geo;
		struct ref_geo r;

		fcase_set(&c, t->fi, t->g, t->ias, t->oas, t->quirks);
		fcase_cfg(&c, &cfg);
		CHECK_ERR(t->name, pt_geometry(&cfg, &geo), 0);
		CHECK_EQ(t->name, geo.levels, t->levels);
		CHECK_EQ(t->name, geo.start_level, t->start);
		CHECK_EQ(t->name, geo.top_index_bits, t->top_bits);
		CHECK_EQ(t->name, geo.top_concat, t->concat);
		CHECK_EQ(t->name, geo.top_entries, t->entries);
		CHECK_EQ(t->name, geo.top_bytes, t->bytes);
		CHECK_EQ(t->name, geo.top_align, t->align);
		/* The literal also pins the reference used by the sweep. */
		CHECK_ERR(t->name, ref_geometry(&c, &r), 0);
		check_geometry(t->name, &geo, &r, t->g);
	}
}

/* Classify a stage-2 configuration's concatenation for test_concat_rules. */
enum concat_kind {
	CONCAT_NONE,
	CONCAT_ALLOWED,
	CONCAT_MANDATORY,
	CONCAT_IMPOSSIBLE,
	NR_CONCAT
};

static enum concat_kind classify_concat(unsigned int g, unsigned int ias, unsigned int oas)
{
	struct fcase c;
	struct ref_geo r;
	unsigned int bpl = g - 3, va_bits = ias - g, levels = (va_bits + bpl - 1) / bpl;

	fcase_set(&c, &fmt_s2, g, ias, oas, 0);
	if (ref_geometry(&c, &r))
		return ref_check(&c) ? NR_CONCAT : CONCAT_IMPOSSIBLE;
	if (r.concat == 1)
		return CONCAT_NONE;
	return ref_concat_mandatory(&c, 4 - levels) ? CONCAT_MANDATORY : CONCAT_ALLOWED;
}

/* With and without PT_QUIRK_S2_NO_CONCAT, the top is concatenated as @k says. */
static void concat_one(unsigned int g, unsigned int ias, unsigned int oas, enum concat_kind k)
{
	int want = k == CONCAT_IMPOSSIBLE ? -EINVAL : 0;
	struct fcase plain, nocat;
	struct pt_geometry geo, geo_nc;
	struct pt_cfg cfg;

	fcase_set(&plain, &fmt_s2, g, ias, oas, 0);
	fcase_set(&nocat, &fmt_s2, g, ias, oas, NOCAT);
	fcase_cfg(&plain, &cfg);
	CHECK_ERR(plain.name, pt_geometry(&cfg, &geo), want);
	fcase_cfg(&nocat, &cfg);
	CHECK_ERR(nocat.name, pt_geometry(&cfg, &geo_nc), want);
	if (want)
		return;
	CHECK_EQ(plain.name, geo.top_concat > 1, k != CONCAT_NONE);
	CHECK_EQ(nocat.name, geo_nc.top_concat > 1, k == CONCAT_MANDATORY);
	/* A concatenated top is that many whole granule-sized tables. */
	if (geo.top_concat > 1)
		CHECK_EQ(plain.name, geo.top_bytes, (size_t)geo.top_concat << g);
}

/*
 * Stage 2, every granule, ias 25..48, every oas: mandatory concatenation
 * survives PT_QUIRK_S2_NO_CONCAT, allowed-only concatenation does not, and a
 * mandatory concatenation that cannot be done is -EINVAL. Each kind must occur.
 */
static void test_concat_rules(void **state)
{
	unsigned int seen[NR_CONCAT + 1] = { 0 };

	(void)state;
	for (unsigned int gi = 0; gi < ARRAY_SIZE(granules); gi++)
		for (unsigned int ias = 25; ias <= 48; ias++)
			for (unsigned int o = 0; o < ARRAY_SIZE(addr_sizes); o++) {
				unsigned int g = granules[gi], oas = addr_sizes[o];
				enum concat_kind k = classify_concat(g, ias, oas);

				seen[k]++;
				if (k != NR_CONCAT)
					concat_one(g, ias, oas, k);
			}
	/*
	 * A mandatory concatenation is always possible when ias <= oas (4K: start
	 * 0 needs ias >= 40, so oas 40/42 leaves at most 8 items; 16K: at most
	 * 16), so CONCAT_IMPOSSIBLE cannot be reached with a valid configuration.
	 */
	assert_int_equal(seen[CONCAT_IMPOSSIBLE], 0);
	assert_true(seen[CONCAT_MANDATORY] > 0);
	assert_true(seen[CONCAT_ALLOWED] > 0);
	assert_true(seen[CONCAT_NONE] > 0);
}

/* ---- allocation of the top table ---- */

/* Set up @env for @c; returns the pool's pages in use, for destroy_ok(). */
static uint64_t env_for(struct pt_test_env *env, const struct fcase *c)
{
	pt_test_env_init(env, c->fi->fmt, c->g, c->ias, c->oas, c->coherent);
	env->cfg.quirks = c->quirks;
	return pt_test_pages_in_use(env);
}

/* Index of the only event of @type in the log; fails if there is not exactly one. */
static size_t only_event(const char *ctx, const struct pt_test_env *env, enum pt_test_ev_type type)
{
	size_t found = env->nr_log, n = 0;

	for (size_t i = 0; i < env->nr_log; i++) {
		if (env->log[i].type == type) {
			found = i;
			n++;
		}
	}
	if (n != 1)
		fail_msg("%s: %zu events of type %d in the log, want 1", ctx, n, (int)type);
	return found;
}

static struct pt *create_ok(const char *ctx, struct pt_test_env *env)
{
	struct pt *pt = NULL;

	CHECK_ERR(ctx, pt_create(&env->cfg, &pt), 0);
	return pt;
}

/* Destroy, and the pool holds what it held before pt_create. */
static void destroy_ok(const char *ctx, struct pt_test_env *env, struct pt *pt, uint64_t pages0)
{
	pt_destroy(pt);
	CHECK_EQ(ctx, pt_test_pages_in_use(env), pages0);
	pt_test_env_fini(env);
}

static void check_top_is_empty(const char *ctx, struct pt_test_env *env, const struct pt *pt,
			       uint64_t pa, uint64_t entries)
{
	const uint64_t *items = pt_pool_pa_to_cpu(env->pool, pa);
	struct pt_geometry geo;

	if (!items)
		fail_msg("%s: root pa 0x%" PRIx64 " is not table memory", ctx, pa);
	pt_get_geometry(pt, &geo);
	for (uint64_t i = 0; i < entries; i++) {
		struct pt_entry e;

		CHECK_EQ(ctx, items[i], 0);
		CHECK_ERR(ctx, pt_decode_entry(pt, geo.start_level, items[i], &e), 0);
		CHECK_EQ(ctx, e.type, PT_ENTRY_INVALID);
	}
}

static void check_create_events(const char *ctx, struct pt_test_env *env, const struct pt *pt,
				const struct ref_geo *r, bool coherent)
{
	size_t a = only_event(ctx, env, PT_EV_ALLOC);
	uint64_t pa = env->log[a].a;
	struct pt_stats st;

	CHECK_EQ(ctx, env->log[a].b, r->bytes);
	CHECK_EQ(ctx, pa & (r->align - 1), 0);
	CHECK_EQ(ctx, pt_test_root_pa(pt), pa);
	if (!coherent) {
		size_t s = only_event(ctx, env, PT_EV_SYNC);

		CHECK_EQ(ctx, env->log[s].a, pa);
		CHECK_EQ(ctx, env->log[s].b, r->bytes);
	}
	check_top_is_empty(ctx, env, pt, pa, r->entries);
	pt_get_stats(pt, &st);
	CHECK_EQ(ctx, st.tables, 1);
	CHECK_EQ(ctx, st.table_bytes, r->bytes);
	CHECK_EQ(ctx, st.tables_by_level[r->start], 1);
}

/* pt_destroy flushes, then frees the top (exactly what was allocated). */
static void check_destroy_events(const char *ctx, struct pt_test_env *env, uint64_t pa,
				 size_t bytes)
{
	size_t f = only_event(ctx, env, PT_EV_FREE);
	bool flushed = false;

	CHECK_EQ(ctx, env->log[f].a, pa);
	CHECK_EQ(ctx, env->log[f].b, bytes);
	for (size_t i = 0; i < f; i++)
		flushed |= env->log[i].type == PT_EV_FLUSH_ALL ||
			   env->log[i].type == PT_EV_FLUSH_RANGE;
	if (!flushed)
		fail_msg("%s: the top was freed without a flush before it", ctx);
}

static unsigned int small_tops;

static void top_alloc_one(const struct fcase *c)
{
	struct pt_test_env env;
	struct pt_geometry geo;
	struct ref_geo r;
	struct pt *pt;
	uint64_t pages0, pa;

	CHECK_ERR(c->name, ref_geometry(c, &r), 0);
	pages0 = env_for(&env, c);
	env.record = true;
	pt = create_ok(c->name, &env);
	pt_get_geometry(pt, &geo);
	check_geometry(c->name, &geo, &r, c->g);
	check_create_events(c->name, &env, pt, &r, c->coherent);
	CHECK_ERR(c->name, pt_validate(pt, gpuvm_print_file, stderr), 0);
	small_tops += r.bytes == 16;
	pa = pt_test_root_pa(pt);
	pt_test_log_clear(&env);
	pt_destroy(pt);
	check_destroy_events(c->name, &env, pa, r.bytes);
	CHECK_EQ(c->name, pt_test_pages_in_use(&env), pages0);
	pt_test_env_fini(&env);
}

/* pt_create allocates exactly top_bytes at top_align, zeroed and synced. */
static void test_top_alloc(void **state)
{
	(void)state;
	small_tops = 0;
	assert_true(for_each_valid_case(top_alloc_one) > 200);
	/* lpae.md: the top "can be as small as 16 bytes"; it must exist here. */
	assert_true(small_tops > 0);
}

/* ---- index bits ---- */

static void index_bits_one(const struct fcase *c)
{
	struct pt_cfg cfg;
	struct pt_geometry geo;
	uint64_t covered = 0, want;
	unsigned int top_end = c->ias;

	fcase_cfg(c, &cfg);
	CHECK_ERR(c->name, pt_geometry(&cfg, &geo), 0);
	CHECK_EQ(c->name, geo.level_shift[PT_LEAF_LEVEL], c->g);
	for (unsigned int l = geo.start_level; l < PT_MAX_LEVELS; l++) {
		unsigned int bits = l == geo.start_level ? geo.top_index_bits : geo.bits_per_level;
		uint64_t mask = ((1ull << bits) - 1) << geo.level_shift[l];

		if (covered & mask)
			fail_msg("%s: level %u index bits 0x%" PRIx64 " overlap 0x%" PRIx64,
				 c->name, l, mask, covered);
		covered |= mask;
	}
	/*
	 * The legacy Mali walker always walks four levels, so below the top every
	 * level resolves a full table: with ias < 39 the VA bits between ias and
	 * 39 are resolved too (they are zero in any valid VA).
	 */
	if (c->fi->desc == DESC_LPAE && top_end < 39)
		top_end = 39;
	want = ((1ull << top_end) - 1) & ~((1ull << c->g) - 1);
	CHECK_EQ(c->name, covered, want);
}

/* The levels' index bits are disjoint and cover exactly [granule_lg2, ias). */
static void test_index_bits(void **state)
{
	(void)state;
	for_each_valid_case(index_bits_one);
}

/* ---- descriptors ---- */

static bool ref_prot_ok(const struct fmt_info *fi, uint32_t prot)
{
	if (prot & ~fi->prot_mask)
		return false;
	if (!(prot & RW))
		return false;
	if ((prot & PT_PROT_CACHE) && (prot & PT_PROT_MMIO))
		return false;
	/* Stage-1 AP has no read bit: a write-only mapping cannot be expressed. */
	if (fi->desc == DESC_S1 && !(prot & PT_PROT_READ))
		return false;
	return true;
}

/* MAIR index: device 2, write-back 1, non-cacheable 0 (io-pgtable-arm). */
static uint64_t ref_attr_index(uint32_t prot)
{
	if (prot & PT_PROT_MMIO)
		return 2;
	return prot & PT_PROT_CACHE ? 1 : 0;
}

/* SH [9:8]: inner shareable when cached, else outer. */
static uint64_t ref_sh(uint32_t prot)
{
	return (prot & PT_PROT_CACHE ? 3ull : 2ull) << 8;
}

static uint64_t ref_s1_leaf(const struct fcase *c, unsigned int lvl, uint64_t addr, uint32_t prot)
{
	uint64_t d = (lvl == PT_LEAF_LEVEL ? 3 : 1) | addr | ref_attr_index(prot) << 2 |
		     ref_sh(prot) | 1ull << 10 /* AF */ | 1ull << 11 /* nG */;

	if (c->quirks & PT_QUIRK_ARM_NS)
		d |= 1ull << 5;
	if (!(prot & PT_PROT_PRIV))
		d |= 1ull << 6; /* AP[1] */
	if (!(prot & PT_PROT_WRITE))
		d |= 1ull << 7; /* AP[2] */
	if (!(prot & PT_PROT_EXEC))
		d |= 3ull << 53; /* PXN, UXN */
	return d;
}

static uint64_t ref_s2_leaf(unsigned int lvl, uint64_t addr, uint32_t prot)
{
	uint64_t memattr = prot & PT_PROT_MMIO ? 0x1 : prot & PT_PROT_CACHE ? 0xf : 0x5;
	uint64_t d = (lvl == PT_LEAF_LEVEL ? 3 : 1) | addr | memattr << 2 | ref_sh(prot) |
		     1ull << 10 /* AF */;

	if (prot & PT_PROT_READ)
		d |= 1ull << 6; /* S2AP[0] */
	if (prot & PT_PROT_WRITE)
		d |= 1ull << 7; /* S2AP[1] */
	if (!(prot & PT_PROT_EXEC))
		d |= 1ull << 54; /* XN[1:0] = 0b10: execute-never at every EL */
	return d;
}

static uint64_t ref_lpae_leaf(uint64_t addr, uint32_t prot)
{
	/* Type 01 at every level, outer shareable, no AF. */
	uint64_t d = 1 | addr | ref_attr_index(prot) << 2 | 2ull << 8;

	if (prot & PT_PROT_READ)
		d |= 1ull << 6;
	if (prot & PT_PROT_WRITE)
		d |= 1ull << 7;
	if (!(prot & PT_PROT_EXEC))
		d |= 1ull << 54;
	return d;
}

static uint64_t ref_leaf(const struct fcase *c, unsigned int lvl, uint64_t addr, uint32_t prot)
{
	switch (c->fi->desc) {
	case DESC_S1:
		return ref_s1_leaf(c, lvl, addr, prot);
	case DESC_S2:
		return ref_s2_leaf(lvl, addr, prot);
	case DESC_LPAE:
		return ref_lpae_leaf(addr, prot);
	}
	return 0;
}

static uint64_t ref_table(const struct fcase *c, uint64_t addr)
{
	uint64_t d = 3 | addr;

	if (c->quirks & PT_QUIRK_ARM_NS)
		d |= 1ull << 63; /* NSTable */
	return d;
}

/* Output addresses of @size-aligned items to try: low, high, and a pattern. */
static void sample_addrs(unsigned int oas, uint64_t size, uint64_t out[4])
{
	uint64_t top = 1ull << oas;

	out[0] = 0;
	out[1] = size;
	out[2] = top - size;
	out[3] = 0x5a5a5a5a5a5a5a5aull & (top - 1) & ~(size - 1);
}

static void roundtrip_table(const char *ctx, const struct fcase *c, const struct pt *pt,
			    unsigned int lvl)
{
	uint64_t addrs[4], desc;
	struct pt_entry e;

	sample_addrs(c->oas, 1ull << c->g, addrs);
	for (unsigned int i = 0; i < 4; i++) {
		struct pt_entry in = { .type = PT_ENTRY_TABLE, .addr = addrs[i] };
		uint64_t ref = ref_table(c, addrs[i]);

		if (lvl == PT_LEAF_LEVEL) {
			CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc), -EINVAL);
			continue;
		}
		CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc), 0);
		CHECK_EQ(ctx, desc, ref);
		CHECK_ERR(ctx, pt_decode_entry(pt, lvl, ref, &e), 0);
		CHECK_EQ(ctx, e.type, PT_ENTRY_TABLE);
		CHECK_EQ(ctx, e.addr, addrs[i]);
		CHECK_EQ(ctx, e.prot, 0);
	}
}

static void roundtrip_invalid(const char *ctx, const struct pt *pt, unsigned int lvl)
{
	struct pt_entry in = { .type = PT_ENTRY_INVALID }, e;
	uint64_t desc = 1;

	CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc), 0);
	CHECK_EQ(ctx, desc, 0);
	CHECK_ERR(ctx, pt_decode_entry(pt, lvl, 0, &e), 0);
	CHECK_EQ(ctx, e.type, PT_ENTRY_INVALID);
	/* Bits [63:1] of an invalid descriptor are ignored by the walker. */
	CHECK_ERR(ctx, pt_decode_entry(pt, lvl, ~1ull, &e), 0);
	CHECK_EQ(ctx, e.type, PT_ENTRY_INVALID);
}

/* Every protection at one leaf level and address. */
static void roundtrip_leaf_prots(const char *ctx, const struct fcase *c, const struct pt *pt,
				 unsigned int lvl, uint64_t addr)
{
	for (uint32_t prot = 0; prot <= PT_PROT_ALL; prot++) {
		struct pt_entry in = { .type = PT_ENTRY_LEAF, .addr = addr, .prot = prot }, e;
		uint64_t desc, ref = ref_leaf(c, lvl, addr, prot);

		if (!ref_prot_ok(c->fi, prot)) {
			CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc), -EINVAL);
			continue;
		}
		CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc), 0);
		if (desc != ref)
			fail_msg("%s: level %u prot 0x%x: desc 0x%016" PRIx64
				 ", want 0x%016" PRIx64,
				 ctx, lvl, prot, desc, ref);
		CHECK_ERR(ctx, pt_decode_entry(pt, lvl, ref, &e), 0);
		CHECK_EQ(ctx, e.type, PT_ENTRY_LEAF);
		CHECK_EQ(ctx, e.addr, addr);
		CHECK_EQ(ctx, e.prot, prot);
		CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &e, &desc), 0);
		CHECK_EQ(ctx, desc, ref);
	}
}

static void roundtrip_leaf(const char *ctx, const struct fcase *c, const struct pt *pt,
			   const struct ref_geo *r, unsigned int lvl)
{
	uint64_t size = 1ull << r->shift[lvl], addrs[4], desc;
	struct pt_entry in = { .type = PT_ENTRY_LEAF, .prot = PT_PROT_READ }, e;

	sample_addrs(c->oas, size, addrs);
	if (!(r->leaf_sizes & size)) {
		/* No leaf at this level: neither written nor accepted. */
		in.addr = addrs[1];
		CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc), -EINVAL);
		CHECK_ERR(ctx,
			  pt_decode_entry(pt, lvl, ref_leaf(c, lvl, addrs[1], PT_PROT_READ), &e),
			  -EINVAL);
		return;
	}
	for (unsigned int i = 0; i < 4; i++)
		roundtrip_leaf_prots(ctx, c, pt, lvl, addrs[i]);
}

static void roundtrip_one(const struct fcase *c)
{
	struct pt_test_env env;
	uint64_t pages0;
	struct ref_geo r;
	struct pt_entry in = { .type = PT_ENTRY_INVALID }, e;
	struct pt *pt;
	uint64_t desc;
	char ctx[160];

	CHECK_ERR(c->name, ref_geometry(c, &r), 0);
	pages0 = env_for(&env, c);
	pt = create_ok(c->name, &env);
	for (unsigned int lvl = 0; lvl <= PT_MAX_LEVELS; lvl++) {
		snprintf(ctx, sizeof(ctx), "%s level %u", c->name, lvl);
		if (lvl < r.start || lvl == PT_MAX_LEVELS) {
			CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc), -EINVAL);
			CHECK_ERR(ctx, pt_decode_entry(pt, lvl, 0, &e), -EINVAL);
			continue;
		}
		roundtrip_invalid(ctx, pt, lvl);
		roundtrip_table(ctx, c, pt, lvl);
		roundtrip_leaf(ctx, c, pt, &r, lvl);
	}
	CHECK_EQ(c->name, pt_format_prot_mask(pt), c->fi->prot_mask);
	destroy_ok(c->name, &env, pt, pages0);
}

/*
 * Every level: invalid, table and leaf entries (every protection the format
 * accepts) encode to the reference bits, and decode(encode(x)) == x,
 * encode(decode(d)) == d.
 */
static void test_encode_decode(void **state)
{
	(void)state;
	for_each_valid_case(roundtrip_one);
}

struct desc_literal {
	const char *name;
	const struct fmt_info *fi;
	uint32_t quirks;
	unsigned int lvl;
	uint64_t addr;
	uint32_t prot;
	uint64_t desc;
};

/* Descriptors worked out by hand from lpae.md, 4K granule, ias/oas 40. */
static const struct desc_literal desc_literals[] = {
	/* type 11 | AttrIndx 1 | AP[1] | SH inner | AF | nG | PXN+UXN */
	{ "s1 page rw cached", &fmt_s1, 0, 3, 0x1000, RW | PT_PROT_CACHE, 0x0060000000001f47 },
	{ "s1 page rw cached ns", &fmt_s1, PT_QUIRK_ARM_NS, 3, 0x1000, RW | PT_PROT_CACHE,
	  0x0060000000001f67 },
	/* type 01 | AttrIndx 0 | AP[1] | AP[2] read-only | SH outer | AF | nG, executable */
	{ "s1 2M block ro exec", &fmt_s1, 0, 2, 0x200000, PT_PROT_READ | PT_PROT_EXEC,
	  0x0000000000200ec1 },
	/* AttrIndx 2, privileged (no AP[1]), writable (no AP[2]) */
	{ "s1 1G block rw mmio priv", &fmt_s1, 0, 1, 0x40000000, RW | PT_PROT_MMIO | PT_PROT_PRIV,
	  0x0060000040000e09 },
	{ "mali-aarch64 page rw cached", &fmt_mali64, 0, 3, 0x1000, RW | PT_PROT_CACHE,
	  0x0060000000001f47 },
	/* type 11 | MemAttr 0xF | S2AP rw | SH inner | AF */
	{ "s2 page rw cached exec", &fmt_s2, 0, 3, 0x1000, RW | PT_PROT_CACHE | PT_PROT_EXEC,
	  0x00000000000017ff },
	/* MemAttr 0x5 | S2AP write-only | SH outer | AF | XN */
	{ "s2 2M block wo", &fmt_s2, 0, 2, 0x200000, PT_PROT_WRITE, 0x0040000000200695 },
	/* MemAttr 0x1 device | S2AP read */
	{ "s2 2M block ro device", &fmt_s2, 0, 2, 0x200000, PT_PROT_READ | PT_PROT_MMIO,
	  0x0040000000200645 },
	/* type 01 even at level 3 | AttrIndx 1 | RD | WR | SH outer | no AF | XN */
	{ "mali-lpae page rw cached", &fmt_lpae, 0, 3, 0x1000, RW | PT_PROT_CACHE,
	  0x00400000000012c5 },
	{ "mali-lpae page ro exec", &fmt_lpae, 0, 3, 0x1000, PT_PROT_READ | PT_PROT_EXEC,
	  0x0000000000001241 },
	{ "mali-lpae page wo", &fmt_lpae, 0, 3, 0x1000, PT_PROT_WRITE, 0x0040000000001281 },
	{ "mali-lpae 2M block ro", &fmt_lpae, 0, 2, 0x200000, PT_PROT_READ, 0x0040000000200241 },
};

static void test_leaf_bits(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(desc_literals); i++) {
		const struct desc_literal *t = &desc_literals[i];
		struct pt_entry in = { .type = PT_ENTRY_LEAF, .addr = t->addr, .prot = t->prot };
		struct pt_test_env env;
		uint64_t pages0;
		struct fcase c;
		struct pt *pt;
		uint64_t desc;

		fcase_set(&c, t->fi, 12, 40, 40, t->quirks);
		pages0 = env_for(&env, &c);
		pt = create_ok(t->name, &env);
		CHECK_ERR(t->name, pt_encode_entry(pt, t->lvl, &in, &desc), 0);
		CHECK_EQ(t->name, desc, t->desc);
		CHECK_EQ(t->name, ref_leaf(&c, t->lvl, t->addr, t->prot), t->desc);
		/* The named bits, one by one, for the Mali legacy format. */
		if (t->fi == &fmt_lpae) {
			CHECK_EQ(t->name, desc & 3, 1);
			CHECK_EQ(t->name, (desc >> 6) & 1, !!(t->prot & PT_PROT_READ));
			CHECK_EQ(t->name, (desc >> 7) & 1, !!(t->prot & PT_PROT_WRITE));
			CHECK_EQ(t->name, (desc >> 10) & 1, 0);
		}
		destroy_ok(t->name, &env, pt, pages0);
	}
}

/* ---- malformed descriptors ---- */

static void expect_malformed(const char *ctx, const char *what, const struct pt *pt,
			     unsigned int lvl, uint64_t desc)
{
	struct pt_entry e;
	int err = pt_decode_entry(pt, lvl, desc, &e);

	if (err != -EINVAL)
		fail_msg("%s: %s: decode(level %u, 0x%016" PRIx64 ") returned %s, want -EINVAL",
			 ctx, what, lvl, desc, errname(err));
}

/* The first level above the leaf level without blocks, or PT_MAX_LEVELS. */
static unsigned int blockless_level(const struct ref_geo *r)
{
	for (unsigned int l = r->start; l < PT_LEAF_LEVEL; l++)
		if (!(r->leaf_sizes & (1ull << r->shift[l])))
			return l;
	return PT_MAX_LEVELS;
}

static void malformed_leaves(const struct fcase *c, const struct pt *pt, const struct ref_geo *r)
{
	uint64_t page = ref_leaf(c, 3, 1ull << c->g, PT_PROT_READ);
	unsigned int nb = blockless_level(r);
	static const unsigned int stray[] = { 49, 50, 51, 52, 55, 58 };

	/* Level 3: 01 is reserved in VMSAv8-64; 11 is not a page in Mali LPAE. */
	expect_malformed(c->name, "wrong page type", pt, 3, page ^ 2);
	if (nb != PT_MAX_LEVELS)
		expect_malformed(c->name, "block where the format has none", pt, nb,
				 ref_leaf(c, nb, 0, PT_PROT_READ));
	for (unsigned int l = r->start; l < PT_LEAF_LEVEL; l++) {
		if (r->leaf_sizes & (1ull << r->shift[l]))
			expect_malformed(c->name, "misaligned block OA", pt, l,
					 ref_leaf(c, l, 1ull << c->g, PT_PROT_READ));
	}
	if (c->oas < 48)
		expect_malformed(c->name, "page OA beyond oas", pt, 3, page | 1ull << c->oas);
	for (unsigned int i = 0; i < ARRAY_SIZE(stray); i++)
		expect_malformed(c->name, "stray leaf bit", pt, 3, page | 1ull << stray[i]);
	if (c->g == 16)
		expect_malformed(c->name, "OA[51:48] in bits [15:12]", pt, 3, page | 1ull << 12);
	if (c->fi->desc == DESC_LPAE)
		expect_malformed(c->name, "AF in Mali LPAE", pt, 3, page | 1ull << 10);
	if (c->fi->desc == DESC_S1 && !(c->quirks & PT_QUIRK_ARM_NS))
		expect_malformed(c->name, "NS without the quirk", pt, 3, page | 1ull << 5);
}

static void malformed_tables(const struct fcase *c, const struct pt *pt, const struct ref_geo *r)
{
	uint64_t table = ref_table(c, 1ull << c->g);
	static const unsigned int stray[] = { 2, 49, 52, 59, 60, 61, 62 };

	if (r->start == PT_LEAF_LEVEL)
		return;
	if (c->oas < 48)
		expect_malformed(c->name, "table beyond oas", pt, r->start, table | 1ull << c->oas);
	for (unsigned int i = 0; i < ARRAY_SIZE(stray); i++)
		expect_malformed(c->name, "stray table bit", pt, r->start,
				 table | 1ull << stray[i]);
	if (!(c->quirks & PT_QUIRK_ARM_NS))
		expect_malformed(c->name, "NSTable without the quirk", pt, r->start,
				 table | 1ull << 63);
	if (c->g > 12)
		expect_malformed(c->name, "table address below the granule", pt, r->start,
				 table | 1ull << 12);
}

static void malformed_one(const struct fcase *c)
{
	struct pt_test_env env;
	uint64_t pages0;
	struct ref_geo r;
	struct pt *pt;

	CHECK_ERR(c->name, ref_geometry(c, &r), 0);
	pages0 = env_for(&env, c);
	pt = create_ok(c->name, &env);
	malformed_leaves(c, pt, &r);
	malformed_tables(c, pt, &r);
	if (r.start > 0)
		expect_malformed(c->name, "level above the top", pt, r.start - 1, 3 | 1ull << c->g);
	expect_malformed(c->name, "level 4", pt, PT_MAX_LEVELS, 3 | 1ull << c->g);
	destroy_ok(c->name, &env, pt, pages0);
}

/* Descriptors that the format never writes decode as -EINVAL. */
static void test_decode_malformed(void **state)
{
	(void)state;
	for_each_valid_case(malformed_one);
}

/* ---- protections ---- */

struct prot_case {
	const char *name;
	uint32_t prot;
	bool s1_ok, s2_ok, lpae_ok; /* DESC_S1 covers Mali AArch64 too */
};

static const struct prot_case prot_cases[] = {
	{ "read-only", PT_PROT_READ, true, true, true },
	{ "read-write", RW, true, true, true },
	{ "write-only", PT_PROT_WRITE, false, true, true },
	{ "privileged", RW | PT_PROT_PRIV, true, false, false },
	{ "cached and mmio", RW | PT_PROT_CACHE | PT_PROT_MMIO, false, false, false },
	{ "no access", 0, false, false, false },
	{ "exec only", PT_PROT_EXEC, false, false, false },
	{ "cache only", PT_PROT_CACHE, false, false, false },
	{ "unknown bit 6", PT_PROT_READ | 1u << 6, false, false, false },
	{ "unknown bit 31", PT_PROT_READ | 1u << 31, false, false, false },
};

static bool prot_case_ok(const struct prot_case *p, const struct fmt_info *fi)
{
	switch (fi->desc) {
	case DESC_S1:
		return p->s1_ok;
	case DESC_S2:
		return p->s2_ok;
	case DESC_LPAE:
		return p->lpae_ok;
	}
	return false;
}

/* Protections a format cannot express are -EINVAL at encode, at every leaf level. */
static void test_encode_bad_prot(void **state)
{
	(void)state;
	for (unsigned int f = 0; f < ARRAY_SIZE(fmts); f++) {
		struct pt_test_env env;
		uint64_t pages0;
		struct fcase c;
		struct pt *pt;

		fcase_set(&c, fmts[f], 12, 40, 40, 0);
		pages0 = env_for(&env, &c);
		pt = create_ok(c.name, &env);
		for (unsigned int i = 0; i < ARRAY_SIZE(prot_cases); i++) {
			const struct prot_case *p = &prot_cases[i];
			char ctx[160];

			snprintf(ctx, sizeof(ctx), "%s: %s", c.name, p->name);
			for (unsigned int lvl = 1; lvl <= PT_LEAF_LEVEL; lvl++) {
				struct pt_entry in = { .type = PT_ENTRY_LEAF, .prot = p->prot };
				uint64_t desc;

				CHECK_ERR(ctx, pt_encode_entry(pt, lvl, &in, &desc),
					  prot_case_ok(p, c.fi) ? 0 : -EINVAL);
			}
		}
		destroy_ok(c.name, &env, pt, pages0);
	}
}

/* ---- registers ---- */

static uint64_t ref_ps(unsigned int oas)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(addr_sizes); i++)
		if (addr_sizes[i] == oas)
			return i;
	return ~0ull;
}

static uint64_t ref_tg0(unsigned int g)
{
	return g == 12 ? 0 : g == 16 ? 1 : 2;
}

/* IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12]: coherent inner WB, else outer NC. */
static uint64_t ref_walk_attrs(bool coherent)
{
	return coherent ? 1ull << 8 | 1ull << 10 | 3ull << 12 : 2ull << 12;
}

static void regs_s1(const struct fcase *c, const struct pt *pt, const struct pt_hw_regs *regs)
{
	uint64_t tcr = (64 - c->ias) | ref_walk_attrs(c->coherent) | ref_tg0(c->g) << 14 |
		       1ull << 23 /* EPD1 */ | ref_ps(c->oas) << 32;

	(void)pt;
	CHECK_EQ(c->name, regs->s1.tcr, tcr);
	/* attr0 0x44, attr1 0xFF, attr2 0x04, attr3 0xF4 */
	CHECK_EQ(c->name, regs->s1.mair, 0x00000000f404ff44ull);
}

static void regs_s2(const struct fcase *c, const struct pt *pt, const struct pt_hw_regs *regs)
{
	struct pt_geometry geo;
	uint64_t vtcr = regs->s2.vtcr;

	pt_get_geometry(pt, &geo);
	CHECK_EQ(c->name, vtcr & 0x3f, 64 - c->ias);
	CHECK_EQ(c->name, (vtcr >> 6) & 3, (c->g == 12 ? 2 : 3) - geo.start_level);
	CHECK_EQ(c->name, vtcr & 0x3f00, ref_walk_attrs(c->coherent));
	CHECK_EQ(c->name, (vtcr >> 14) & 3, ref_tg0(c->g));
	CHECK_EQ(c->name, (vtcr >> 16) & 7, ref_ps(c->oas));
	/* Nothing else, except possibly the RES1 bit 31. */
	CHECK_EQ(c->name, vtcr & ~(0x7ffffull | 1ull << 31), 0);
}

static void regs_mali64(const struct fcase *c, const struct pt *pt, const struct pt_hw_regs *regs)
{
	uint64_t transcfg = (c->g == 16 ? 8 : 6) | (uint64_t)(55 - c->ias) << 6 |
			    2ull << 24 /* PTW_MEMATTR_WB */ | 1ull << 30 /* PTW_RA */;

	(void)pt;
	if (c->coherent)
		transcfg |= 2ull << 28; /* PTW_SH outer */
	CHECK_EQ(c->name, regs->mali.transcfg, transcfg);
	CHECK_EQ(c->name, regs->mali.memattr,
		 c->coherent ? 0x4c4c4c4c9c4c9f4cull : 0x4c4c4c4c8c4c8f4cull);
	CHECK_EQ(c->name, regs->mali.transtab & 0xfff, 0);
}

static void regs_lpae(const struct fcase *c, const struct pt *pt, const struct pt_hw_regs *regs)
{
	/* ADRMODE_TABLE | READ_INNER | SHARE_OUTER when coherent */
	uint64_t low = 3 | 1u << 2 | (c->coherent ? 1u << 4 : 0);

	(void)pt;
	CHECK_EQ(c->name, regs->mali.transtab & 0xfff, low);
	CHECK_EQ(c->name, regs->mali.transcfg, 0);
}

static void regs_one_walker(const struct fcase *c)
{
	struct pt_test_env env;
	uint64_t pages0;
	struct pt_hw_regs regs;
	struct ref_geo r;
	struct pt *pt;

	CHECK_ERR(c->name, ref_geometry(c, &r), 0);
	pages0 = env_for(&env, c);
	env.record = true;
	pt = create_ok(c->name, &env);
	pt_get_regs(pt, &regs);
	CHECK_EQ(c->name, regs.fmt, c->fi->fmt);
	CHECK_EQ(c->name, pt_test_root_pa(pt), env.log[only_event(c->name, &env, PT_EV_ALLOC)].a);
	if (c->fi->fmt == PT_FMT_ARM64_S1)
		regs_s1(c, pt, &regs);
	else if (c->fi->fmt == PT_FMT_ARM64_S2)
		regs_s2(c, pt, &regs);
	else if (c->fi->fmt == PT_FMT_MALI_AARCH64)
		regs_mali64(c, pt, &regs);
	else
		regs_lpae(c, pt, &regs);
	destroy_ok(c->name, &env, pt, pages0);
}

/* Both walker kinds: the walk attributes differ. */
static void regs_one(const struct fcase *c)
{
	struct fcase other = *c;

	regs_one_walker(c);
	other.coherent = !c->coherent;
	fcase_name(&other);
	regs_one_walker(&other);
}

/* Register fields of every configuration, from lpae.md and mali.md section 1. */
static void test_regs(void **state)
{
	(void)state;
	for_each_valid_case(regs_one);
}

struct regs_literal {
	const char *name;
	const struct fmt_info *fi;
	unsigned int g, ias, oas;
	bool coherent;
	uint64_t a, b; /* TRANSCFG/MEMATTR, TCR/MAIR, or VTCR/0 */
};

static const struct regs_literal regs_literals[] = {
	{ "mali-aarch64 4K ias48", &fmt_mali64, 12, 48, 48, false, 0x420001c6, 0x4c4c4c4c8c4c8f4c },
	{ "mali-aarch64 4K ias48 coherent", &fmt_mali64, 12, 48, 48, true, 0x620001c6,
	  0x4c4c4c4c9c4c9f4c },
	{ "mali-aarch64 64K ias48", &fmt_mali64, 16, 48, 48, false, 0x420001c8,
	  0x4c4c4c4c8c4c8f4c },
	/* T0SZ 16 | SH0 outer | EPD1 | IPS 5 */
	{ "s1 4K ias48", &fmt_s1, 12, 48, 48, false, 0x0000000500802010, 0xf404ff44 },
	/* T0SZ 16 | IRGN0/ORGN0 WB | SH0 inner | EPD1 | IPS 5 */
	{ "s1 4K ias48 coherent", &fmt_s1, 12, 48, 48, true, 0x0000000500803510, 0xf404ff44 },
	/* T0SZ 24 | TG0 64K | SH0 outer | EPD1 | IPS 2 */
	{ "s1 64K ias40", &fmt_s1, 16, 40, 40, false, 0x0000000200806018, 0xf404ff44 },
	/* T0SZ 24 | SL0 1 (concatenated start level 1) | SH0 outer | PS 2 */
	{ "s2 4K ias40 oas40", &fmt_s2, 12, 40, 40, false, 0x22058, 0 },
	{ "s2 4K ias40 oas40 coherent", &fmt_s2, 12, 40, 40, true, 0x23558, 0 },
	/* T0SZ 32 | SL0 0 (start level 3) | TG0 64K | SH0 outer | PS 0 */
	{ "s2 64K ias32", &fmt_s2, 16, 32, 32, false, 0x6020, 0 },
	/* T0SZ 24 | SL0 1 (start level 2) | TG0 16K | SH0 outer | PS 2 */
	{ "s2 16K ias40 oas40", &fmt_s2, 14, 40, 40, false, 0x2a058, 0 },
};

static void test_regs_literals(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(regs_literals); i++) {
		const struct regs_literal *t = &regs_literals[i];
		struct pt_test_env env;
		uint64_t pages0;
		struct pt_hw_regs regs;
		struct fcase c;
		struct pt *pt;

		fcase_set(&c, t->fi, t->g, t->ias, t->oas, 0);
		c.coherent = t->coherent;
		pages0 = env_for(&env, &c);
		pt = create_ok(t->name, &env);
		pt_get_regs(pt, &regs);
		if (t->fi == &fmt_mali64) {
			CHECK_EQ(t->name, regs.mali.transcfg, t->a);
			CHECK_EQ(t->name, regs.mali.memattr, t->b);
		} else if (t->fi == &fmt_s1) {
			CHECK_EQ(t->name, regs.s1.tcr, t->a);
			CHECK_EQ(t->name, regs.s1.mair, t->b);
		} else {
			CHECK_EQ(t->name, regs.s2.vtcr, t->a);
		}
		destroy_ok(t->name, &env, pt, pages0);
	}
}

/* ---- configuration errors ---- */

/* Writable copies of the harness's ops, so that one member can be removed. */
struct ops_copy {
	struct pt_alloc_ops alloc;
	struct pt_flush_ops flush;
	struct pt_sync_ops sync;
	struct pt_host_ops host;
};

static void ops_copy_install(struct pt_cfg *cfg, struct ops_copy *o)
{
	o->alloc = *cfg->alloc;
	o->flush = *cfg->flush;
	o->sync = *cfg->sync;
	o->host = *cfg->host;
	cfg->alloc = &o->alloc;
	cfg->flush = &o->flush;
	cfg->sync = &o->sync;
	cfg->host = &o->host;
}

enum missing_op {
	NO_ALLOC_OPS,
	NO_ALLOC,
	NO_FREE,
	NO_FLUSH_OPS,
	NO_FLUSH_RANGE,
	NO_FLUSH_ALL,
	NO_SYNC_OPS,
	NO_SYNC,
	NO_HOST_ZALLOC,
	NO_HOST_FREE,
};

static void remove_op(struct pt_cfg *cfg, struct ops_copy *o, enum missing_op which)
{
	switch (which) {
	case NO_ALLOC_OPS:
		cfg->alloc = NULL;
		break;
	case NO_ALLOC:
		o->alloc.alloc = NULL;
		break;
	case NO_FREE:
		o->alloc.free = NULL;
		break;
	case NO_FLUSH_OPS:
		cfg->flush = NULL;
		break;
	case NO_FLUSH_RANGE:
		o->flush.flush_range = NULL;
		break;
	case NO_FLUSH_ALL:
		o->flush.flush_all = NULL;
		break;
	case NO_SYNC_OPS:
		cfg->sync = NULL;
		break;
	case NO_SYNC:
		o->sync.sync = NULL;
		break;
	case NO_HOST_ZALLOC:
		o->host.zalloc = NULL;
		break;
	case NO_HOST_FREE:
		o->host.free = NULL;
		break;
	}
}

static const struct {
	const char *name;
	enum missing_op which;
} missing_ops[] = {
	{ "no alloc ops", NO_ALLOC_OPS },
	{ "no alloc", NO_ALLOC },
	{ "no free", NO_FREE },
	{ "no flush ops", NO_FLUSH_OPS },
	{ "no flush_range", NO_FLUSH_RANGE },
	{ "no flush_all", NO_FLUSH_ALL },
	{ "no sync ops, walker not coherent", NO_SYNC_OPS },
	{ "no sync, walker not coherent", NO_SYNC },
	{ "host ops without zalloc", NO_HOST_ZALLOC },
	{ "host ops without free", NO_HOST_FREE },
};

/* Nothing was allocated, recorded or flushed. */
static void check_untouched(const char *ctx, struct pt_test_env *env, uint64_t pages0)
{
	CHECK_EQ(ctx, env->attempts, 0);
	CHECK_EQ(ctx, env->nr_log, 0);
	CHECK_EQ(ctx, env->flush_ranges + env->flush_alls + env->syncs, 0);
	CHECK_EQ(ctx, pt_test_pages_in_use(env), pages0);
}

/* Every missing mandatory op is -EINVAL from pt_create, before any allocation. */
static void test_cfg_missing_ops(void **state)
{
	(void)state;
	for (unsigned int f = 0; f < ARRAY_SIZE(fmts); f++) {
		for (unsigned int i = 0; i < ARRAY_SIZE(missing_ops); i++) {
			struct pt_test_env env;
			struct ops_copy o;
			struct pt *pt = NULL;
			char ctx[160];
			uint64_t pages0;

			snprintf(ctx, sizeof(ctx), "%s: %s", fmts[f]->name, missing_ops[i].name);
			pt_test_env_init(&env, fmts[f]->fmt, 12, 40, 40, false);
			pages0 = pt_test_pages_in_use(&env);
			env.record = true;
			/* The harness gives a non-coherent walker a sync op; copy it all. */
			ops_copy_install(&env.cfg, &o);
			remove_op(&env.cfg, &o, missing_ops[i].which);
			CHECK_ERR(ctx, pt_create(&env.cfg, &pt), -EINVAL);
			check_untouched(ctx, &env, pages0);
			pt_test_env_fini(&env);
		}
	}
}

/* Map and unmap something that needs tables at every level, then destroy. */
static void map_cycle(const char *ctx, struct pt_test_env *env)
{
	struct pt_walk_result w;
	uint64_t pages0 = pt_test_pages_in_use(env), unmapped = 0;
	struct pt *pt = create_ok(ctx, env);

	CHECK_ERR(ctx, pt_map(pt, GIB(3) + KIB(4), GIB(5) + KIB(4), MIB(4), RW), 0);
	CHECK_ERR(ctx, pt_validate(pt, gpuvm_print_file, stderr), 0);
	CHECK_ERR(ctx, pt_walk(pt, GIB(3) + MIB(3) + 42, &w), 0);
	CHECK_EQ(ctx, w.pa, GIB(5) + MIB(3) + 42);
	CHECK_ERR(ctx, pt_unmap(pt, GIB(3), MIB(8), &unmapped), 0);
	CHECK_EQ(ctx, unmapped, MIB(4));
	CHECK_ERR(ctx, pt_walk(pt, GIB(3) + MIB(3) + 42, &w), -ENOENT);
	pt_destroy(pt);
	CHECK_EQ(ctx, pt_test_pages_in_use(env), pages0);
}

/* Optional ops really are optional: the defaults work. */
static void test_cfg_optional_ops(void **state)
{
	struct pt_test_env env;
	struct ops_copy o;

	(void)state;
	pt_test_env_init(&env, PT_FMT_ARM64_S1, 12, 40, 40, true);
	CHECK_EQ("coherent walker", env.cfg.sync == NULL, 1);
	map_cycle("coherent walker without sync ops", &env);
	pt_test_env_fini(&env);

	pt_test_env_init(&env, PT_FMT_ARM64_S1, 12, 40, 40, false);
	ops_copy_install(&env.cfg, &o);
	o.alloc.alloc_bulk = NULL;
	map_cycle("no alloc_bulk", &env);
	env.cfg.host = NULL;
	map_cycle("no host ops", &env);
	pt_test_env_fini(&env);
}

struct cfg_error {
	const char *name;
	enum pt_format fmt;
	unsigned int g, ias, oas;
	uint32_t quirks;
	uint64_t leaf_sizes;
};

static const struct cfg_error cfg_errors[] = {
	{ "mali-lpae 16K", PT_FMT_MALI_LPAE, 14, 40, 40, 0, 0 },
	{ "mali-lpae 64K", PT_FMT_MALI_LPAE, 16, 40, 40, 0, 0 },
	{ "mali-aarch64 16K", PT_FMT_MALI_AARCH64, 14, 40, 40, 0, 0 },
	{ "s1 granule 8K", PT_FMT_ARM64_S1, 13, 40, 40, 0, 0 },
	{ "s1 granule 0", PT_FMT_ARM64_S1, 0, 40, 40, 0, 0 },
	{ "s1 granule 1M", PT_FMT_ARM64_S1, 20, 40, 40, 0, 0 },
	{ "s1 granule 2^40", PT_FMT_ARM64_S1, 40, 40, 40, 0, 0 },
	{ "s1 ias 24", PT_FMT_ARM64_S1, 12, 24, 40, 0, 0 },
	{ "s1 ias 0", PT_FMT_ARM64_S1, 12, 0, 40, 0, 0 },
	{ "s1 ias 49", PT_FMT_ARM64_S1, 12, 49, 48, 0, 0 },
	{ "s1 ias 64", PT_FMT_ARM64_S1, 12, 64, 48, 0, 0 },
	{ "s1 oas 52", PT_FMT_ARM64_S1, 16, 48, 52, 0, 0 },
	{ "s1 oas 33", PT_FMT_ARM64_S1, 12, 32, 33, 0, 0 },
	{ "s1 oas 0", PT_FMT_ARM64_S1, 12, 32, 0, 0, 0 },
	{ "s2 oas 52", PT_FMT_ARM64_S2, 16, 48, 52, 0, 0 },
	{ "mali-aarch64 oas 52", PT_FMT_MALI_AARCH64, 16, 48, 52, 0, 0 },
	{ "mali-lpae oas 44", PT_FMT_MALI_LPAE, 12, 40, 44, 0, 0 },
	{ "mali-lpae oas 48", PT_FMT_MALI_LPAE, 12, 48, 48, 0, 0 },
	{ "s2 ias 48 > oas 40", PT_FMT_ARM64_S2, 12, 48, 40, 0, 0 },
	{ "s2 ias 40 > oas 36", PT_FMT_ARM64_S2, 16, 40, 36, 0, 0 },
	{ "s2 ias 33 > oas 32", PT_FMT_ARM64_S2, 14, 33, 32, 0, 0 },
	{ "unknown quirk bit 2", PT_FMT_ARM64_S1, 12, 40, 40, 1u << 2, 0 },
	{ "unknown quirk bit 31", PT_FMT_ARM64_S2, 12, 40, 40, 1u << 31, 0 },
	{ "ARM_NS on s2", PT_FMT_ARM64_S2, 12, 40, 40, PT_QUIRK_ARM_NS, 0 },
	{ "ARM_NS on mali-lpae", PT_FMT_MALI_LPAE, 12, 40, 40, PT_QUIRK_ARM_NS, 0 },
	{ "ARM_NS on mali-aarch64", PT_FMT_MALI_AARCH64, 12, 40, 40, PT_QUIRK_ARM_NS, 0 },
	{ "S2_NO_CONCAT on s1", PT_FMT_ARM64_S1, 12, 40, 40, PT_QUIRK_S2_NO_CONCAT, 0 },
	{ "S2_NO_CONCAT on mali-lpae", PT_FMT_MALI_LPAE, 12, 40, 40, PT_QUIRK_S2_NO_CONCAT, 0 },
	{ "S2_NO_CONCAT on mali-aarch64", PT_FMT_MALI_AARCH64, 12, 40, 40, PT_QUIRK_S2_NO_CONCAT,
	  0 },
	{ "format 0", (enum pt_format)0, 12, 40, 40, 0, 0 },
	{ "format 5", (enum pt_format)5, 12, 40, 40, 0, 0 },
	/* leaf_sizes */
	{ "4K: granule missing", PT_FMT_ARM64_S1, 12, 48, 48, 0, MIB(2) | GIB(1) },
	{ "4K: 1G without 2M", PT_FMT_ARM64_S1, 12, 48, 48, 0, KIB(4) | GIB(1) },
	{ "4K: 512G level-0 block", PT_FMT_ARM64_S1, 12, 48, 48, 0,
	  KIB(4) | MIB(2) | GIB(1) | GIB(512) },
	{ "4K: 8K", PT_FMT_ARM64_S1, 12, 48, 48, 0, KIB(4) | KIB(8) },
	{ "4K: 64K", PT_FMT_ARM64_S1, 12, 48, 48, 0, KIB(4) | KIB(64) },
	{ "4K ias30: 1G above the top", PT_FMT_ARM64_S1, 12, 30, 32, 0, KIB(4) | MIB(2) | GIB(1) },
	{ "16K: 64G level-1 block", PT_FMT_ARM64_S1, 14, 48, 48, 0, KIB(16) | MIB(32) | GIB(64) },
	{ "16K: 4K", PT_FMT_ARM64_S1, 14, 48, 48, 0, KIB(4) | KIB(16) },
	{ "64K: 4T level-1 block", PT_FMT_ARM64_S1, 16, 48, 48, 0,
	  KIB(64) | MIB(512) | (GIB(1) << 12) },
	{ "64K: 2M", PT_FMT_ARM64_S1, 16, 48, 48, 0, KIB(64) | MIB(2) },
	{ "s2 64K ias32: 512M gone with concat", PT_FMT_ARM64_S2, 16, 32, 32, 0,
	  KIB(64) | MIB(512) },
	{ "mali-lpae: 2M without 4K", PT_FMT_MALI_LPAE, 12, 40, 40, 0, MIB(2) },
	{ "mali-aarch64: bit 63", PT_FMT_MALI_AARCH64, 12, 48, 48, 0, KIB(4) | 1ull << 63 },
};

/* Unsupported configurations: -EINVAL from pt_geometry and pt_create, nothing allocated. */
static void test_cfg_errors(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(cfg_errors); i++) {
		const struct cfg_error *t = &cfg_errors[i];
		struct pt_test_env env;
		struct pt_geometry geo;
		struct pt *pt = NULL;
		uint64_t pages0;

		/* The pool needs a valid page size; the granule under test goes in cfg. */
		pt_test_env_init(&env, t->fmt, 12, t->ias, t->oas, false);
		env.cfg.granule_lg2 = t->g;
		env.cfg.quirks = t->quirks;
		env.cfg.leaf_sizes = t->leaf_sizes;
		pages0 = pt_test_pages_in_use(&env);
		env.record = true;
		CHECK_ERR(t->name, pt_geometry(&env.cfg, &geo), -EINVAL);
		CHECK_ERR(t->name, pt_create(&env.cfg, &pt), -EINVAL);
		check_untouched(t->name, &env, pages0);
		pt_test_env_fini(&env);
	}
}

struct leaf_sizes_case {
	const char *name;
	enum pt_format fmt;
	unsigned int g, ias, oas;
	uint64_t leaf_sizes;
	uint64_t map_size; /* mapped at a VA and PA aligned to it */
	uint64_t want_leaf;
};

static const struct leaf_sizes_case leaf_sizes_cases[] = {
	{ "s1 4K only", PT_FMT_ARM64_S1, 12, 48, 48, KIB(4), MIB(4), KIB(4) },
	{ "s2 4K only", PT_FMT_ARM64_S2, 12, 40, 40, KIB(4), MIB(4), KIB(4) },
	{ "mali-lpae 4K only", PT_FMT_MALI_LPAE, 12, 40, 40, KIB(4), MIB(4), KIB(4) },
	{ "mali-aarch64 4K only", PT_FMT_MALI_AARCH64, 12, 48, 48, KIB(4), MIB(4), KIB(4) },
	{ "s1 4K and 2M", PT_FMT_ARM64_S1, 12, 48, 48, KIB(4) | MIB(2), GIB(1), MIB(2) },
	{ "s1 64K only", PT_FMT_ARM64_S1, 16, 48, 48, KIB(64), MIB(1024), KIB(64) },
};

static void leaf_sizes_one(const struct leaf_sizes_case *t)
{
	struct pt_test_env env;
	struct pt_geometry geo;
	struct pt_stats st;
	struct pt *pt;
	uint64_t va = GIB(4), pa = GIB(8), pages0, unmapped;

	pt_test_env_init(&env, t->fmt, t->g, t->ias, t->oas, false);
	env.cfg.leaf_sizes = t->leaf_sizes;
	pages0 = pt_test_pages_in_use(&env);
	pt = create_ok(t->name, &env);
	pt_get_geometry(pt, &geo);
	CHECK_EQ(t->name, geo.leaf_sizes, t->leaf_sizes);
	/*
	 * In halves, each after an unmap of nothing there: it goes down to the
	 * level-2 table (once there is one), where the map then starts; whole
	 * items of it take the one-op path of blocks (pt_resv.c) only where the
	 * restriction allows a leaf.
	 */
	for (uint64_t off = 0; off < t->map_size; off += t->map_size / 2) {
		CHECK_ERR(t->name, pt_unmap(pt, va + off, t->map_size / 2, &unmapped), 0);
		CHECK_EQ(t->name, unmapped, 0);
		CHECK_ERR(t->name, pt_map(pt, va + off, pa + off, t->map_size / 2, RW), 0);
	}
	CHECK_ERR(t->name, pt_validate(pt, gpuvm_print_file, stderr), 0);
	for (uint64_t off = 0; off < t->map_size; off += t->want_leaf) {
		struct pt_walk_result w;

		CHECK_ERR(t->name, pt_walk(pt, va + off + 42, &w), 0);
		CHECK_EQ(t->name, w.leaf_size, t->want_leaf);
		CHECK_EQ(t->name, w.pa, pa + off + 42);
	}
	pt_get_stats(pt, &st);
	CHECK_EQ(t->name, st.tables_by_level[PT_LEAF_LEVEL],
		 t->want_leaf == 1ull << t->g ? t->map_size >> (2 * t->g - 3) : 0);
	CHECK_ERR(t->name, pt_unmap(pt, va, t->map_size, &unmapped), 0);
	CHECK_EQ(t->name, unmapped, t->map_size);
	pt_destroy(pt);
	CHECK_EQ(t->name, pt_test_pages_in_use(&env), pages0);
	pt_test_env_fini(&env);
}

/* A valid leaf_sizes restriction is kept, and pt_map uses only those sizes. */
static void test_leaf_sizes_restrict(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(leaf_sizes_cases); i++)
		leaf_sizes_one(&leaf_sizes_cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_sweep),
		cmocka_unit_test(test_geometry_literals),
		cmocka_unit_test(test_concat_rules),
		cmocka_unit_test(test_top_alloc),
		cmocka_unit_test(test_index_bits),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_leaf_bits),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_encode_bad_prot),
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_regs_literals),
		cmocka_unit_test(test_cfg_missing_ops),
		cmocka_unit_test(test_cfg_optional_ops),
		cmocka_unit_test(test_cfg_errors),
		cmocka_unit_test(test_leaf_sizes_restrict),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
