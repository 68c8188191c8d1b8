// SPDX-License-Identifier: MIT
/*
 * VMSAv8-64 descriptor formats: stage 1, stage 2, and Mali's AArch64 mode
 * (stage-1 descriptors programmed through TRANSTAB/MEMATTR/TRANSCFG).
 *
 * Bit positions: Arm ARM DDI0487 D8.3 (descriptors), D19 (TCR_EL1, VTCR_EL2,
 * MAIR_EL1); protections mapped as Linux's io-pgtable-arm does; Mali registers
 * as panthor programs them (shared/reference/mali.md section 1).
 */
#include "pt_internal.h"

/* Stage-1 leaf attributes (D8.3.1). */
#define S1_ATTRIDX_SHIFT 2
#define S1_NS (1ull << 5)
#define S1_AP_UNPRIV (1ull << 6) /* AP[1]: EL0 may access */
#define S1_AP_RDONLY (1ull << 7) /* AP[2] */
#define S1_SH_SHIFT 8
#define S1_AF (1ull << 10)
#define S1_NG (1ull << 11)
#define S1_PXN (1ull << 53)
#define S1_UXN (1ull << 54)
#define S1_NSTABLE (1ull << 63)

/* Stage-2 leaf attributes. */
#define S2_MEMATTR_SHIFT 2
#define S2_AP_READ (1ull << 6)
#define S2_AP_WRITE (1ull << 7)
#define S2_XN (1ull << 54) /* XN[1:0] = 0b10: never executable */

/* Shareability field values (both stages). */
#define SH_OUTER 2ull
#define SH_INNER 3ull

/* MAIR indices, and stage-2 MemAttr values, for our three memory types. */
#define ATTR_IDX_NC 0ull
#define ATTR_IDX_CACHE 1ull
#define ATTR_IDX_DEV 2ull
#define S2_MEMATTR_DEV 0x1ull
#define S2_MEMATTR_NC 0x5ull
#define S2_MEMATTR_WB 0xfull

/*
 * MAIR: attr0 normal non-cacheable, attr1 normal write-back read/write-allocate,
 * attr2 device nGnRE, attr3 inner non-cacheable outer write-back (io-pgtable's
 * values, so that register dumps compare with a Linux driver's).
 */
#define S1_MAIR 0x00000000f404ff44ull

static uint64_t sh_for(uint32_t prot)
{
	/* Cacheable memory is coherent inside the inner domain; the rest outer. */
	return (prot & PT_PROT_CACHE ? SH_INNER : SH_OUTER) << S1_SH_SHIFT;
}

static uint64_t s1_attr_idx(uint32_t prot)
{
	if (prot & PT_PROT_MMIO)
		return ATTR_IDX_DEV;
	return prot & PT_PROT_CACHE ? ATTR_IDX_CACHE : ATTR_IDX_NC;
}

static uint64_t s1_leaf_attrs(const struct pt *pt, uint32_t prot)
{
	uint64_t a = S1_NG | S1_AF | sh_for(prot) | s1_attr_idx(prot) << S1_ATTRIDX_SHIFT;

	if (!(prot & PT_PROT_WRITE))
		a |= S1_AP_RDONLY;
	if (!(prot & PT_PROT_PRIV))
		a |= S1_AP_UNPRIV;
	if (!(prot & PT_PROT_EXEC))
		a |= S1_PXN | S1_UXN;
	if (pt->cfg.quirks & PT_QUIRK_ARM_NS)
		a |= S1_NS;
	return a;
}

/* Stage 1 has no read bit: every valid leaf is readable. */
/* clang-format off */
#define S1_PROT_RULES {								\
	{0, 0, PT_PROT_READ},							\
	{S1_AP_RDONLY, 0, PT_PROT_WRITE},					\
	{S1_AP_UNPRIV, 0, PT_PROT_PRIV},					\
	{S1_PXN | S1_UXN, 0, PT_PROT_EXEC},					\
	{7ull << S1_ATTRIDX_SHIFT, ATTR_IDX_CACHE << S1_ATTRIDX_SHIFT, PT_PROT_CACHE}, \
	{7ull << S1_ATTRIDX_SHIFT, ATTR_IDX_DEV << S1_ATTRIDX_SHIFT, PT_PROT_MMIO},	\
}
/* clang-format on */

static uint64_t s1_table_attrs(const struct pt *pt)
{
	return pt->cfg.quirks & PT_QUIRK_ARM_NS ? S1_NSTABLE : 0;
}

uint64_t pt_fmt_no_table_attrs(const struct pt *pt)
{
	(void)pt;
	return 0;
}

/* TCR.TG0 and VTCR.TG0 share this encoding. */
static uint64_t tg0(unsigned int granule_lg2)
{
	switch (granule_lg2) {
	case 16:
		return 1;
	case 14:
		return 2;
	default:
		return 0;
	}
}

/* TCR.IPS / VTCR.PS encoding of the output size. */
static uint64_t ps_bits(unsigned int oas)
{
	static const unsigned int sizes[] = { 32, 36, 40, 42, 44, 48 };

	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i] == oas)
			return i;
	os_assert(!"oas validated at creation");
	return 5;
}

/*
 * Walk attributes: a coherent walker reads tables through inner-shareable
 * write-back caches; otherwise it reads memory (outer non-cacheable), which is
 * why a non-coherent walker needs the sync op.
 */
static uint64_t walk_attrs(const struct pt *pt)
{
	uint64_t rgn = pt->cfg.coherent_walk ? 1 : 0;
	uint64_t sh = pt->cfg.coherent_walk ? SH_INNER : SH_OUTER;

	return rgn << 8 | rgn << 10 | sh << 12;
}

#define TCR_EPD1 (1ull << 23) /* we only provide TTBR0: TTBR1 walks fault */

static void s1_regs(const struct pt *pt, uint64_t root_pa, struct pt_hw_regs *r)
{
	r->s1.ttbr = root_pa;
	r->s1.tcr = (64 - pt->cfg.ias) | walk_attrs(pt) | tg0(pt->cfg.granule_lg2) << 14 |
		    TCR_EPD1 | ps_bits(pt->cfg.oas) << 32;
	r->s1.mair = S1_MAIR;
}

static uint64_t s2_leaf_attrs(const struct pt *pt, uint32_t prot)
{
	uint64_t memattr = S2_MEMATTR_NC;
	uint64_t a = S1_AF | sh_for(prot);

	(void)pt;
	if (prot & PT_PROT_MMIO)
		memattr = S2_MEMATTR_DEV;
	else if (prot & PT_PROT_CACHE)
		memattr = S2_MEMATTR_WB;
	a |= memattr << S2_MEMATTR_SHIFT;
	if (prot & PT_PROT_READ)
		a |= S2_AP_READ;
	if (prot & PT_PROT_WRITE)
		a |= S2_AP_WRITE;
	if (!(prot & PT_PROT_EXEC))
		a |= S2_XN;
	return a;
}

/* VTCR.SL0 names the start level: 4K counts from level 2 down, others from 3. */
static uint64_t s2_sl0(const struct pt *pt)
{
	unsigned int base = pt->cfg.granule_lg2 == 12 ? 2 : 3;

	return base - pt->geo.start_level;
}

static void s2_regs(const struct pt *pt, uint64_t root_pa, struct pt_hw_regs *r)
{
	r->s2.vttbr = root_pa;
	r->s2.vtcr = (64 - pt->cfg.ias) | s2_sl0(pt) << 6 | walk_attrs(pt) |
		     tg0(pt->cfg.granule_lg2) << 14 | ps_bits(pt->cfg.oas) << 16;
}

/* MEMATTR byte fields (mali.md section 1). */
#define MALI_MA_ALLOC_W 1u
#define MALI_MA_ALLOC_R 2u
#define MALI_MA_EXPLICIT (3u << 2)
#define MALI_MA_SH_CPU_INNER (1u << 4)
#define MALI_MA_TYPE_NC (1u << 6)
#define MALI_MA_TYPE_WB (2u << 6)

/*
 * Mali cannot take a MAIR: each MAIR byte becomes a MEMATTR byte. Write-back
 * (outer and inner allocating) stays write-back with the inner allocation
 * hints; everything else, device memory included, becomes non-cacheable. A
 * coherent GPU shares write-back lines with the CPU's inner domain.
 */
uint64_t pt_mair_to_mali_memattr(uint64_t mair, bool coherent)
{
	uint64_t memattr = 0;

	for (unsigned int i = 0; i < 8; i++) {
		unsigned int attr = (mair >> (8 * i)) & 0xff;
		unsigned int inner = attr & 0xf, outer = attr >> 4;
		unsigned int out = MALI_MA_TYPE_NC | MALI_MA_EXPLICIT;

		if ((outer & 3) && (outer & 4) && (inner & 4)) {
			out = MALI_MA_TYPE_WB | MALI_MA_EXPLICIT;
			out |= (inner & 1 ? MALI_MA_ALLOC_W : 0) |
			       (inner & 2 ? MALI_MA_ALLOC_R : 0);
			if (coherent)
				out |= MALI_MA_SH_CPU_INNER;
		}
		memattr |= (uint64_t)out << (8 * i);
	}
	return memattr;
}

/* TRANSCFG fields (mali.md section 1). */
#define TRANSCFG_ADRMODE_AARCH64_4K 6ull
#define TRANSCFG_ADRMODE_AARCH64_64K 8ull
#define TRANSCFG_INA_BITS_SHIFT 6
#define TRANSCFG_PTW_MEMATTR_WB (2ull << 24)
#define TRANSCFG_PTW_SH_OS (2ull << 28)
#define TRANSCFG_PTW_RA (1ull << 30)

static void mali_aarch64_regs(const struct pt *pt, uint64_t root_pa, struct pt_hw_regs *r)
{
	uint64_t cfg = pt->cfg.granule_lg2 == 16 ? TRANSCFG_ADRMODE_AARCH64_64K :
						   TRANSCFG_ADRMODE_AARCH64_4K;

	cfg |= (uint64_t)(55 - pt->cfg.ias) << TRANSCFG_INA_BITS_SHIFT;
	cfg |= TRANSCFG_PTW_MEMATTR_WB | TRANSCFG_PTW_RA;
	if (pt->cfg.coherent_walk)
		cfg |= TRANSCFG_PTW_SH_OS;
	r->mali.transtab = root_pa;
	r->mali.memattr = pt_mair_to_mali_memattr(S1_MAIR, pt->cfg.coherent_walk);
	r->mali.transcfg = cfg;
}

#define GRANULE(lg2) (1u << (lg2))

const struct pt_fmt pt_fmt_arm64_s1 = {
	.name = "arm64-s1",
	.fmt = PT_FMT_ARM64_S1,
	.granules = GRANULE(12) | GRANULE(14) | GRANULE(16),
	.max_oas = 48,
	.prot_mask = PT_PROT_ALL,
	.page_type = PT_DESC_TABLE,
	.min_top_align = 64, /* TTBR: BADDR below bit 6 is RES0 */
	.flags = PT_FMTF_WRITE_NEEDS_READ,
	.leaf_attrs = s1_leaf_attrs,
	.prot_rules = S1_PROT_RULES,
	.table_attrs = s1_table_attrs,
	.regs = s1_regs,
};

const struct pt_fmt pt_fmt_arm64_s2 = {
	.name = "arm64-s2",
	.fmt = PT_FMT_ARM64_S2,
	.granules = GRANULE(12) | GRANULE(14) | GRANULE(16),
	.max_oas = 48,
	.prot_mask = PT_PROT_ALL & ~PT_PROT_PRIV, /* stage 2 has no EL distinction */
	.page_type = PT_DESC_TABLE,
	.min_top_align = 64,
	.flags = PT_FMTF_S2_CONCAT,
	.leaf_attrs = s2_leaf_attrs,
	.prot_rules = {
		{S2_AP_READ, S2_AP_READ, PT_PROT_READ},
		{S2_AP_WRITE, S2_AP_WRITE, PT_PROT_WRITE},
		{S2_XN, 0, PT_PROT_EXEC},
		{0xfull << S2_MEMATTR_SHIFT, S2_MEMATTR_WB << S2_MEMATTR_SHIFT, PT_PROT_CACHE},
		{0xfull << S2_MEMATTR_SHIFT, S2_MEMATTR_DEV << S2_MEMATTR_SHIFT, PT_PROT_MMIO},
	},
	.table_attrs = pt_fmt_no_table_attrs,
	.regs = s2_regs,
};

const struct pt_fmt pt_fmt_mali_aarch64 = {
	.name = "mali-aarch64",
	.fmt = PT_FMT_MALI_AARCH64,
	.granules = GRANULE(12) | GRANULE(16), /* TRANSCFG ADRMODE 6 and 8 */
	.max_oas = 48,
	.prot_mask = PT_PROT_ALL,
	.page_type = PT_DESC_TABLE,
	.min_top_align = 4096, /* TRANSTAB takes a 4 KiB aligned root */
	.flags = PT_FMTF_WRITE_NEEDS_READ,
	.leaf_attrs = s1_leaf_attrs,
	.prot_rules = S1_PROT_RULES,
	.table_attrs = pt_fmt_no_table_attrs,
	.regs = mali_aarch64_regs,
};
