// SPDX-License-Identifier: MIT
/*
 * Every bit position below is read off shared/reference/lpae.md ("Descriptor
 * format", "How Linux turns protections into bits", "Mali formats") or mali.md
 * section 1 (MEMATTR bytes), never off pgtable/'s sources: this file is the
 * second opinion the property tests compare the library with.
 */
#include "lpae-decode.h"

#include <errno.h>

#define BIT(n) (1ull << (n))
/* Bits [hi:lo] of @v, shifted down. */
#define FIELD(v, hi, lo) (((v) >> (lo)) & (BIT((hi) - (lo) + 1) - 1))

/* Descriptor bits [1:0]. */
#define TYPE_TABLE_OR_PAGE 3u
#define TYPE_BLOCK 1u

/* Output addresses live in bits [47:pg_shift]. */
#define OA_TOP 48

/* Stage-1 leaf fields (and Mali AArch64, and Mali legacy where it agrees). */
#define S1_NS BIT(5)
#define S1_AP1_UNPRIV BIT(6) /* AP[1]: EL0 may access */
#define S1_AP2_RDONLY BIT(7) /* AP[2] */
#define LEAF_AF BIT(10)
#define S1_NG BIT(11)
#define S1_PXN BIT(53)
#define S1_UXN BIT(54)
#define S1_NSTABLE BIT(63)
/* Stage-2 leaf fields. */
#define S2_AP_READ BIT(6)
#define S2_AP_WRITE BIT(7)
/* Mali legacy leaf fields (kbase ENTRY_RD/ENTRY_WR; NX where stage 1 has UXN/XN). */
#define LEGACY_RD BIT(6)
#define LEGACY_WR BIT(7)
#define LEGACY_NX BIT(54)

/* SH[1:0] values. */
#define SH_OUTER 2u
#define SH_INNER 3u

/* io-pgtable's AttrIndx choices (lpae.md): device 2, cached 1, otherwise 0. */
#define IDX_NORMAL 0u
#define IDX_CACHED 1u
#define IDX_DEVICE 2u

/* Stage-2 MemAttr[3:0] values (lpae.md). */
#define S2_MEMATTR_WB 0xfu
#define S2_MEMATTR_NC 0x5u
#define S2_MEMATTR_DEVICE 0x1u

/* Stage-2 XN[1:0]: 00 executable, 10 never executable. */
#define S2_XN_NEVER 2u

/* MEMATTR byte [7:6] (mali.md section 1). */
#define MEMATTR_TYPE_NC 1u
#define MEMATTR_TYPE_WB 2u

static int reject(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

/* lpae.md "Geometry": shift(l) = (4 - l) * bpl + 3, bpl = pg_shift - 3. */
static unsigned int level_shift(unsigned int granule_lg2, unsigned int level)
{
	return (4 - level) * (granule_lg2 - 3) + 3;
}

/*
 * lpae.md "Leaf sizes": 4K blocks at levels 1 and 2, 16K and 64K only at
 * level 2 (their level-1 blocks need 52-bit output addresses); never level 0.
 */
static bool block_allowed(unsigned int granule_lg2, unsigned int level)
{
	return level == 2 || (level == 1 && granule_lg2 == 12);
}

static int decode_type(const struct lpae_fmt *f, unsigned int level, uint64_t desc,
		       enum lpae_type *type, const char **why)
{
	unsigned int bits = desc & 3;
	/* Mali legacy writes every leaf, level-3 pages included, as 01. */
	unsigned int page_bits = f->kind == LPAE_MALI_LEGACY ? TYPE_BLOCK : TYPE_TABLE_OR_PAGE;

	if (!(bits & 1)) {
		*type = LPAE_INVALID;
		return 0;
	}
	if (level == 3) {
		if (bits != page_bits)
			return reject(why, "level 3: type bits are not this format's page");
		*type = LPAE_PAGE;
		return 0;
	}
	if (bits == TYPE_TABLE_OR_PAGE) {
		*type = LPAE_TABLE;
		return 0;
	}
	if (!block_allowed(f->granule_lg2, level))
		return reject(why, "block at a level where this granule has none");
	*type = LPAE_BLOCK;
	return 0;
}

/*
 * The address field [47:pg_shift]: a block's must be aligned to the block
 * (the bits below are RES0), and every address must fit in oas (else the
 * walker raises an address size fault).
 */
static int decode_addr(const struct lpae_fmt *f, unsigned int level, enum lpae_type type,
		       uint64_t desc, struct lpae_desc *out, const char **why)
{
	uint64_t field = desc & (BIT(OA_TOP) - BIT(f->granule_lg2));
	unsigned int align = type == LPAE_BLOCK ? level_shift(f->granule_lg2, level) :
						  f->granule_lg2;

	if (f->lenient) {
		/* The walker ignores a block's low address bits (RES0). */
		field &= ~(BIT(align) - 1);
		out->beyond_oas = f->oas < OA_TOP && field >> f->oas;
	} else if (field & (BIT(align) - 1)) {
		return reject(why, "block address not aligned to the block size");
	} else if (f->oas < OA_TOP && field >> f->oas) {
		return reject(why, "address beyond the output address size");
	}
	out->addr = field;
	out->size = type == LPAE_TABLE ? 0 : BIT(align);
	return 0;
}

/*
 * Bits a conforming entry may have set besides its address and type: the
 * attribute bits lpae.md lists and io-pgtable's conventions use. RES0 bits,
 * DBM, Contiguous, software bits and (outside the NS quirk) NS never are.
 */
static uint64_t allowed_bits(const struct lpae_fmt *f, enum lpae_type type)
{
	uint64_t oa = BIT(OA_TOP) - BIT(f->granule_lg2);

	if (type == LPAE_TABLE)
		return 3 | oa | (f->kind == LPAE_S1 && f->ns ? S1_NSTABLE : 0);
	switch (f->kind) {
	case LPAE_S1:
	case LPAE_MALI_AARCH64:
		return 3 | oa | (BIT(12) - BIT(2)) | S1_PXN | S1_UXN;
	case LPAE_S2:
		return 3 | oa | (BIT(11) - BIT(2)) | BIT(54); /* XN[1:0] = 10 */
	case LPAE_MALI_LEGACY:
		return 3 | oa | (BIT(10) - BIT(2)) | LEGACY_NX; /* no AF */
	}
	return 0;
}

/* SH: inner-shareable for cached memory, outer otherwise (lpae.md, io-pgtable). */
static int check_sh(unsigned int sh, bool cached, const char **why)
{
	if (sh != (cached ? SH_INNER : SH_OUTER))
		return reject(why, "SH is not inner for cached memory and outer otherwise");
	return 0;
}

/* Classify a MAIR nibble pair as Arm D8.5.1 does: device, normal NC, normal write-back. */
static int check_mair_byte(unsigned int idx, unsigned int attr, const char **why)
{
	unsigned int outer = attr >> 4, inner = attr & 0xf;
	bool device = outer == 0;
	bool nc = outer == 4 && inner == 4;
	bool wb = (outer & 4) && (outer & 3) && (inner & 4) && (inner & 3);

	if ((idx == IDX_DEVICE && !device) || (idx == IDX_CACHED && !wb) ||
	    (idx == IDX_NORMAL && !nc))
		return reject(why, "the MAIR byte AttrIndx selects is not the memory type the "
				   "index stands for");
	return 0;
}

/* mali.md: device memory is non-cacheable on Mali; cached is write-back. */
static int check_memattr_byte(unsigned int idx, unsigned int attr, const char **why)
{
	unsigned int type = attr >> 6;

	if (type != (idx == IDX_CACHED ? MEMATTR_TYPE_WB : MEMATTR_TYPE_NC))
		return reject(why, "the MEMATTR byte AttrIndx selects is not the memory type the "
				   "index stands for");
	return 0;
}

static uint32_t idx_prot(unsigned int idx)
{
	if (idx == IDX_CACHED)
		return PT_PROT_CACHE;
	return idx == IDX_DEVICE ? PT_PROT_MMIO : 0;
}

/* Stage 1 and Mali AArch64: no read bit (every leaf is readable), AP[2], AP[1], XN. */
static int decode_s1_leaf(const struct lpae_fmt *f, uint64_t desc, struct lpae_desc *out,
			  const char **why)
{
	unsigned int idx = FIELD(desc, 4, 2), attr = (f->attrs >> (8 * idx)) & 0xff;
	int err;

	if (!(desc & LEAF_AF))
		return reject(why, "AF clear: the first access would fault");
	if (!(desc & S1_NG))
		return reject(why, "nG clear");
	if (!(desc & S1_NS) != !f->ns)
		return reject(why, "NS differs from the configuration");
	if (!(desc & S1_PXN) != !(desc & S1_UXN))
		return reject(why, "PXN and UXN differ (NOEXEC sets both)");
	if (idx > IDX_DEVICE)
		return reject(why, "AttrIndx is none of 0 (normal), 1 (cached), 2 (device)");
	err = f->kind == LPAE_S1 ? check_mair_byte(idx, attr, why) :
				   check_memattr_byte(idx, attr, why);
	if (err || (err = check_sh(FIELD(desc, 9, 8), idx == IDX_CACHED, why)))
		return err;
	out->prot = PT_PROT_READ | idx_prot(idx);
	out->prot |= desc & S1_AP2_RDONLY ? 0 : PT_PROT_WRITE;
	out->prot |= desc & S1_AP1_UNPRIV ? 0 : PT_PROT_PRIV;
	out->prot |= desc & S1_PXN ? 0 : PT_PROT_EXEC;
	out->attr_idx = idx;
	return 0;
}

/*
 * What a walker makes of any stage-1 leaf: AP[2] read-only, AP[1] EL0
 * access, executable only with neither PXN nor UXN, AttrIndx 1 cached and 2
 * device as the MAIR/MEMATTR this library's users program.
 */
static void decode_s1_leaf_lenient(uint64_t desc, struct lpae_desc *out)
{
	unsigned int idx = FIELD(desc, 4, 2);

	out->prot = PT_PROT_READ | (idx <= IDX_DEVICE ? idx_prot(idx) : 0);
	out->prot |= desc & S1_AP2_RDONLY ? 0 : PT_PROT_WRITE;
	out->prot |= desc & S1_AP1_UNPRIV ? 0 : PT_PROT_PRIV;
	out->prot |= desc & (S1_PXN | S1_UXN) ? 0 : PT_PROT_EXEC;
	out->attr_idx = idx;
}

/* Stage 2: MemAttr[3:0] is the memory type itself; S2AP read and write bits. */
static int decode_s2_leaf(uint64_t desc, struct lpae_desc *out, const char **why)
{
	unsigned int memattr = FIELD(desc, 5, 2);
	int err;

	if (!(desc & LEAF_AF))
		return reject(why, "AF clear: the first access would fault");
	if (memattr != S2_MEMATTR_WB && memattr != S2_MEMATTR_NC && memattr != S2_MEMATTR_DEVICE)
		return reject(why, "MemAttr is none of 0xF (write-back), 0x5 (non-cacheable), "
				   "0x1 (device)");
	err = check_sh(FIELD(desc, 9, 8), memattr == S2_MEMATTR_WB, why);
	if (err)
		return err;
	out->prot = memattr == S2_MEMATTR_WB ? PT_PROT_CACHE : 0;
	out->prot |= memattr == S2_MEMATTR_DEVICE ? PT_PROT_MMIO : 0;
	out->prot |= desc & S2_AP_READ ? PT_PROT_READ : 0;
	out->prot |= desc & S2_AP_WRITE ? PT_PROT_WRITE : 0;
	out->prot |= FIELD(desc, 54, 53) == S2_XN_NEVER ? 0 : PT_PROT_EXEC;
	out->attr_idx = memattr;
	return 0;
}

/* Mali legacy: RD and WR bits, no AF, always outer-shareable. */
static int decode_legacy_leaf(uint64_t desc, struct lpae_desc *out, const char **why)
{
	unsigned int idx = FIELD(desc, 4, 2);

	if (FIELD(desc, 9, 8) != SH_OUTER)
		return reject(why, "Mali legacy leaf not outer-shareable");
	if (idx > IDX_DEVICE)
		return reject(why, "AttrIndx is none of 0 (normal), 1 (cached), 2 (device)");
	out->prot = idx_prot(idx);
	out->prot |= desc & LEGACY_RD ? PT_PROT_READ : 0;
	out->prot |= desc & LEGACY_WR ? PT_PROT_WRITE : 0;
	out->prot |= desc & LEGACY_NX ? 0 : PT_PROT_EXEC;
	out->attr_idx = idx;
	return 0;
}

int lpae_decode(const struct lpae_fmt *f, unsigned int level, uint64_t desc, struct lpae_desc *out,
		const char **why)
{
	struct lpae_desc d = { 0 };
	int err;

	if (level > 3 || f->oas > OA_TOP ||
	    (f->granule_lg2 != 12 && f->granule_lg2 != 14 && f->granule_lg2 != 16))
		return reject(why, "level, oas or granule out of range");
	err = decode_type(f, level, desc, &d.type, why);
	if (err || d.type == LPAE_INVALID) {
		if (!err)
			*out = d;
		return err;
	}
	if (!f->lenient && (desc & ~allowed_bits(f, d.type)))
		return reject(why, "a RES0, ignored or unused attribute bit is set");
	err = decode_addr(f, level, d.type, desc, &d, why);
	if (err || d.type == LPAE_TABLE)
		goto out;
	d.sh = FIELD(desc, 9, 8);
	d.af = desc & LEAF_AF;
	if (f->lenient && (f->kind == LPAE_S1 || f->kind == LPAE_MALI_AARCH64))
		decode_s1_leaf_lenient(desc, &d);
	else if (f->lenient)
		err = reject(why, "lenient decoding is for stage-1 descriptors only");
	else if (f->kind == LPAE_S2)
		err = decode_s2_leaf(desc, &d, why);
	else if (f->kind == LPAE_MALI_LEGACY)
		err = decode_legacy_leaf(desc, &d, why);
	else
		err = decode_s1_leaf(f, desc, &d, why);
out:
	if (!err)
		*out = d;
	return err;
}

int lpae_fmt_of(const struct pt_cfg *cfg, const struct pt_hw_regs *regs, struct lpae_fmt *f)
{
	*f = (struct lpae_fmt){ .granule_lg2 = cfg->granule_lg2, .oas = cfg->oas };
	switch (cfg->fmt) {
	case PT_FMT_ARM64_S1:
		f->kind = LPAE_S1;
		f->attrs = regs->s1.mair;
		f->ns = cfg->quirks & PT_QUIRK_ARM_NS;
		return 0;
	case PT_FMT_ARM64_S2:
		f->kind = LPAE_S2;
		return 0;
	case PT_FMT_MALI_LPAE:
		f->kind = LPAE_MALI_LEGACY;
		return 0;
	case PT_FMT_MALI_AARCH64:
		f->kind = LPAE_MALI_AARCH64;
		f->attrs = regs->mali.memattr;
		return 0;
	}
	return -EINVAL;
}
