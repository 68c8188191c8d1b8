// SPDX-License-Identifier: MIT
/*
 * Geometry of a configuration: how many levels, where the walk starts, how big
 * and how aligned the top table is, and which leaf sizes exist.
 *
 * With pg = granule_lg2 and bpl = pg - 3 index bits per granule-sized table:
 *
 *   va_bits = ias - pg, levels = ceil(va_bits / bpl), start = 4 - levels,
 *   top index bits = va_bits - bpl * (levels - 1), shift(l) = (4 - l) * bpl + 3.
 *
 *   e.g. 4K granule, ias 39:     level:   1        2        3       page
 *        VA bit  38        30 29        21 20        12 11        0
 *               [ 9 bits idx ][ 9 bits idx ][ 9 bits idx ][ offset ]
 *
 * Stage 2 may replace the start level by up to 16 concatenated tables of the
 * next level (Arm ARM D8.2.7), which saves one level of walk.
 */

#include "pt_internal.h"

const struct pt_fmt *pt_fmt_find(enum pt_format fmt)
{
	switch (fmt) {
	case PT_FMT_ARM64_S1:
		return &pt_fmt_arm64_s1;
	case PT_FMT_ARM64_S2:
		return &pt_fmt_arm64_s2;
	case PT_FMT_MALI_LPAE:
		return &pt_fmt_mali_lpae;
	case PT_FMT_MALI_AARCH64:
		return &pt_fmt_mali_aarch64;
	}
	return NULL;
}

static bool oas_supported(unsigned int oas)
{
	/* The TCR.IPS / VTCR.PS encodings; 52 needs LPA and is not supported. */
	return oas == 32 || oas == 36 || oas == 40 || oas == 42 || oas == 44 || oas == 48;
}

static int check_sizes(const struct pt_cfg *cfg, const struct pt_fmt *fmt)
{
	/* T0SZ above 39 (ias below 25) needs ARMv8.4-TTST; none of our walkers. */
	if (cfg->ias < 25 || cfg->ias > 48)
		return -EINVAL;
	if (!oas_supported(cfg->oas) || cfg->oas > fmt->max_oas)
		return -EINVAL;
	/* An IPA larger than the PA size is a level-0 fault at stage 2 (VTCR.PS). */
	if ((fmt->flags & PT_FMTF_S2_CONCAT) && cfg->ias > cfg->oas)
		return -EINVAL;
	if (cfg->granule_lg2 >= 32 || !(fmt->granules & (1u << cfg->granule_lg2)))
		return -EINVAL;
	return 0;
}

static int check_quirks(const struct pt_cfg *cfg)
{
	if ((cfg->quirks & ~PT_QUIRK_ALL) || (cfg->debug & ~PT_DEBUG_ALL))
		return -EINVAL;
	if ((cfg->quirks & PT_QUIRK_ARM_NS) && cfg->fmt != PT_FMT_ARM64_S1)
		return -EINVAL;
	if ((cfg->quirks & PT_QUIRK_S2_NO_CONCAT) && cfg->fmt != PT_FMT_ARM64_S2)
		return -EINVAL;
	return 0;
}

/*
 * Concatenation is required where the architecture cannot start at the level
 * the plain computation gives (lpae.md): 4K at level 0 with a PA below 44 bits,
 * 16K at level 0, 16K at level 1 with a 40-bit PA.
 */
static bool concat_required(const struct pt_cfg *cfg, unsigned int start)
{
	if (cfg->granule_lg2 == 12)
		return start == 0 && cfg->oas < 44;
	if (cfg->granule_lg2 == 14)
		return start == 0 || (start == 1 && cfg->oas <= 40);
	return false;
}

/* At most 16 tables, and the new start level must be encodable in VTCR.SL0. */
static bool concat_possible(const struct pt_cfg *cfg, unsigned int start, unsigned int top_bits)
{
	unsigned int deepest = cfg->granule_lg2 == 12 ? 2 : 3;

	return top_bits <= 4 && start + 1 <= deepest;
}

static int apply_concat(const struct pt_cfg *cfg, struct pt_geometry *geo)
{
	bool need = concat_required(cfg, geo->start_level);
	bool can = concat_possible(cfg, geo->start_level, geo->top_index_bits);

	if (need && !can)
		return -EINVAL;
	if (!can || (!need && (cfg->quirks & PT_QUIRK_S2_NO_CONCAT)))
		return 0;
	geo->top_concat = 1u << geo->top_index_bits;
	geo->top_index_bits += geo->bits_per_level;
	geo->start_level++;
	geo->levels--;
	return 0;
}

/* Leaf levels: granule pages always; blocks where the granule has them. */
static uint64_t format_leaf_sizes(const struct pt_geometry *geo)
{
	uint64_t sizes = 1ull << geo->level_shift[PT_LEAF_LEVEL];
	unsigned int first_block = geo->granule_lg2 == 12 ? 1 : 2;

	for (unsigned int l = geo->start_level; l < PT_LEAF_LEVEL; l++)
		if (l >= first_block)
			sizes |= 1ull << geo->level_shift[l];
	return sizes;
}

/*
 * leaf_sizes must be the format's sizes up to some largest one: with a block
 * size, every smaller leaf size (so that splitting a block always has a next
 * size to split into), and always the granule.
 */
static int restrict_leaf_sizes(const struct pt_cfg *cfg, struct pt_geometry *geo)
{
	uint64_t want = cfg->leaf_sizes;
	uint64_t largest;

	if (!want)
		return 0;
	largest = 1ull << (63 - os_clz64(want));
	if ((geo->leaf_sizes & (largest | (largest - 1))) != want)
		return -EINVAL;
	geo->leaf_sizes = want;
	return 0;
}

static void plain_levels(const struct pt_cfg *cfg, const struct pt_fmt *fmt,
			 struct pt_geometry *geo)
{
	unsigned int bpl = cfg->granule_lg2 - 3;
	unsigned int va_bits = cfg->ias - cfg->granule_lg2;

	geo->granule_lg2 = cfg->granule_lg2;
	geo->bits_per_level = bpl;
	geo->levels = (va_bits + bpl - 1) / bpl;
	geo->top_index_bits = va_bits - bpl * (geo->levels - 1);
	if ((fmt->flags & PT_FMTF_FOUR_LEVELS) && geo->levels < 4) {
		/* Deeper than needed: the top table resolves no bits at all. */
		geo->levels = 4;
		geo->top_index_bits = va_bits > 3 * bpl ? va_bits - 3 * bpl : 0;
	}
	geo->start_level = 4 - geo->levels;
	geo->top_concat = 1;
}

int pt_geometry_check(const struct pt_cfg *cfg, const struct pt_fmt *fmt, struct pt_geometry *geo)
{
	int err = check_sizes(cfg, fmt);

	if (!err)
		err = check_quirks(cfg);
	if (err)
		return err;
	*geo = (struct pt_geometry){ 0 };
	plain_levels(cfg, fmt, geo);
	if (fmt->flags & PT_FMTF_S2_CONCAT) {
		err = apply_concat(cfg, geo);
		if (err)
			return err;
	}
	for (unsigned int l = geo->start_level; l <= PT_LEAF_LEVEL; l++)
		geo->level_shift[l] = (4 - l) * geo->bits_per_level + 3;
	geo->top_entries = 1ull << geo->top_index_bits;
	geo->top_bytes = (size_t)geo->top_entries * sizeof(uint64_t);
	geo->top_align = geo->top_bytes > fmt->min_top_align ? geo->top_bytes : fmt->min_top_align;
	geo->leaf_sizes = format_leaf_sizes(geo);
	return restrict_leaf_sizes(cfg, geo);
}

int pt_geometry(const struct pt_cfg *cfg, struct pt_geometry *geo)
{
	const struct pt_fmt *fmt;

	if (!cfg || !geo)
		return -EINVAL;
	fmt = pt_fmt_find(cfg->fmt);
	if (!fmt)
		return -EINVAL;
	return pt_geometry_check(cfg, fmt, geo);
}

int pt_prot_check_slow(const struct pt *pt, uint32_t prot)
{
	if (prot & ~pt->fmt->prot_mask)
		return -EINVAL;
	if (!(prot & (PT_PROT_READ | PT_PROT_WRITE)))
		return -EINVAL;
	if ((prot & PT_PROT_CACHE) && (prot & PT_PROT_MMIO))
		return -EINVAL;
	if ((pt->fmt->flags & PT_FMTF_WRITE_NEEDS_READ) && !(prot & PT_PROT_READ))
		return -EINVAL;
	return 0;
}

uint32_t pt_format_prot_mask(const struct pt *pt)
{
	return pt->fmt->prot_mask;
}
