// SPDX-License-Identifier: MIT
/*
 * Mali legacy LPAE format (Midgard, Bifrost in LPAE mode).
 *
 * It looks like VMSAv8-64 stage 1 with three differences that the hardware
 * insists on: every leaf, level-3 pages included, has type bits 01 (11 at level
 * 3 is not a page); permissions are separate read (bit 6) and write (bit 7)
 * bits; there is no access flag. The walker always starts at level 0.
 */
#include "pt_internal.h"

#define LPAE_ATTRIDX_SHIFT 2
#define LPAE_RD (1ull << 6)
#define LPAE_WR (1ull << 7)
#define LPAE_SH_OUTER (2ull << 8) /* the walker treats all memory as outer shareable */
#define LPAE_XN (1ull << 54)

#define LPAE_IDX_NC 0ull
#define LPAE_IDX_CACHE 1ull
#define LPAE_IDX_DEV 2ull

/* TRANSTAB low bits select the walk mode (kbase/panfrost AS_TRANSTAB_LPAE_*). */
#define TRANSTAB_ADRMODE_TABLE 3ull
#define TRANSTAB_READ_INNER (1ull << 2)
#define TRANSTAB_SHARE_OUTER (1ull << 4)

/*
 * MEMATTR bytes the Midgard driver programs: index 0 (non-cacheable) and 2
 * (device) implementation-defined (0x88), index 1 write-back write-allocate
 * (0x8d).
 */
#define LPAE_MEMATTR 0x888d88ull

static uint64_t lpae_leaf_attrs(const struct pt *pt, uint32_t prot)
{
	uint64_t idx = LPAE_IDX_NC;
	uint64_t a = LPAE_SH_OUTER;

	(void)pt;
	if (prot & PT_PROT_MMIO)
		idx = LPAE_IDX_DEV;
	else if (prot & PT_PROT_CACHE)
		idx = LPAE_IDX_CACHE;
	a |= idx << LPAE_ATTRIDX_SHIFT;
	if (prot & PT_PROT_READ)
		a |= LPAE_RD;
	if (prot & PT_PROT_WRITE)
		a |= LPAE_WR;
	if (!(prot & PT_PROT_EXEC))
		a |= LPAE_XN;
	return a;
}

static void lpae_regs(const struct pt *pt, uint64_t root_pa, struct pt_hw_regs *r)
{
	r->mali.transtab = root_pa | TRANSTAB_ADRMODE_TABLE | TRANSTAB_READ_INNER;
	if (pt->cfg.coherent_walk)
		r->mali.transtab |= TRANSTAB_SHARE_OUTER;
	r->mali.memattr = LPAE_MEMATTR;
	r->mali.transcfg = 0; /* no TRANSCFG in this mode */
}

const struct pt_fmt pt_fmt_mali_lpae = {
	.name = "mali-lpae",
	.fmt = PT_FMT_MALI_LPAE,
	.granules = 1u << 12,
	.max_oas = 40,
	.prot_mask = PT_PROT_ALL & ~PT_PROT_PRIV,
	.page_type = PT_DESC_BLOCK,
	.min_top_align = 4096, /* TRANSTAB's low 12 bits hold the mode */
	.flags = PT_FMTF_FOUR_LEVELS,
	.leaf_attrs = lpae_leaf_attrs,
	.prot_rules = {
		{LPAE_RD, LPAE_RD, PT_PROT_READ},
		{LPAE_WR, LPAE_WR, PT_PROT_WRITE},
		{LPAE_XN, 0, PT_PROT_EXEC},
		{7ull << LPAE_ATTRIDX_SHIFT, LPAE_IDX_CACHE << LPAE_ATTRIDX_SHIFT, PT_PROT_CACHE},
		{7ull << LPAE_ATTRIDX_SHIFT, LPAE_IDX_DEV << LPAE_ATTRIDX_SHIFT, PT_PROT_MMIO},
	},
	.table_attrs = pt_fmt_no_table_attrs,
	.regs = lpae_regs,
};
