/* SPDX-License-Identifier: MIT */
/*
 * An independent decoder of ARM LPAE / VMSAv8-64 descriptors, for tests.
 *
 * pt_walk() and pt_decode_entry() decode with the bit constants the encoder
 * uses, so a bit swapped in the library is swapped in both and every test
 * that reads protections back through them still passes. This decoder is
 * written from shared/reference/lpae.md's tables (and mali.md section 1 for
 * MEMATTR bytes), shares no constant with pgtable/, and is strict: besides
 * decoding it checks that a descriptor is well-formed (type bits allowed at
 * its level, no RES0 bit, an aligned output address inside oas) and that it
 * follows the conventions lpae.md lists for how Linux turns protections into
 * bits (AF and nG set, SH inner exactly for cached memory, XN in both bits,
 * AttrIndx 0/1/2 pointing at a MAIR or MEMATTR byte of the right kind).
 *
 * Levels use the Arm ARM numbering, as pgtable/ does: level 0 is the root
 * side, level 3 the granule-sized pages. Protections come out as pt.h's
 * PT_PROT_* meanings (the vocabulary, not the encoding).
 */
#ifndef GPUVM_TESTS_LPAE_DECODE_H
#define GPUVM_TESTS_LPAE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include <gpuvm/pt.h>

/**
 * enum lpae_kind - which descriptor format.
 * @LPAE_S1: VMSAv8-64 stage 1.
 * @LPAE_S2: VMSAv8-64 stage 2.
 * @LPAE_MALI_LEGACY: Mali Midgard/Bifrost LPAE mode (leaves 01, RD/WR bits).
 * @LPAE_MALI_AARCH64: Mali AArch64 mode (stage-1 descriptors, MEMATTR bytes).
 */
enum lpae_kind {
	LPAE_S1,
	LPAE_S2,
	LPAE_MALI_LEGACY,
	LPAE_MALI_AARCH64,
};

/**
 * struct lpae_fmt - what the decoder needs to know of a configuration.
 * @kind: the format.
 * @granule_lg2: 12, 14 or 16.
 * @oas: output address bits (at most 48).
 * @attrs: the MAIR (stage 1) or MEMATTR (Mali AArch64) register, whose byte
 *	AttrIndx selects; unused for stage 2 and the Mali legacy format.
 * @ns: stage 1: leaves must have NS and tables NSTable (a secure-world
 *	client's quirk); otherwise both must be clear.
 * @lenient: decode as a walker does, whatever was written: only the type
 *	bits must be valid at the level; no convention, RES0 or alignment rule
 *	is enforced (a block's low address bits are ignored, an address beyond
 *	oas is reported in struct lpae_desc.beyond_oas, AF in .af, and a leaf is
 *	executable only with neither PXN nor UXN). For checking a walker model.
 */
struct lpae_fmt {
	enum lpae_kind kind;
	unsigned int granule_lg2;
	unsigned int oas;
	uint64_t attrs;
	bool ns;
	bool lenient;
};

enum lpae_type {
	LPAE_INVALID,
	LPAE_TABLE,
	LPAE_BLOCK,
	LPAE_PAGE,
};

/**
 * struct lpae_desc - a decoded descriptor.
 * @type: what it is.
 * @addr: next-level table PA, or the leaf's output address.
 * @size: bytes a leaf maps (0 for tables and invalid entries).
 * @prot: PT_PROT_* of a leaf.
 * @attr_idx: stage-1 AttrIndx, or stage-2 MemAttr, of a leaf.
 * @sh: SH[1:0] of a leaf.
 * @af: the access flag of a leaf (always set when not lenient).
 * @beyond_oas: lenient: @addr does not fit in oas (an address size fault).
 */
struct lpae_desc {
	enum lpae_type type;
	uint64_t addr;
	uint64_t size;
	uint32_t prot;
	unsigned int attr_idx;
	unsigned int sh;
	bool af;
	bool beyond_oas;
};

/**
 * lpae_decode() - decode and check one descriptor.
 * @f: the configuration.
 * @level: the level of the item it was read from (0-3).
 * @desc: the descriptor.
 * @out: filled when the descriptor is acceptable.
 * @why: on -EINVAL, set to a sentence saying which rule it breaks (may be NULL).
 *
 * Context: any; pure.
 * Return: 0; -EINVAL for a descriptor that is malformed at @level or breaks
 * one of the conventions in this header's comment.
 */
int lpae_decode(const struct lpae_fmt *f, unsigned int level, uint64_t desc, struct lpae_desc *out,
		const char **why);

/**
 * lpae_fmt_of() - the decoder's configuration for a page table.
 * @cfg: the configuration it was created with (format, granule, oas, quirks).
 * @regs: its register values (pt_get_regs()), for MAIR/MEMATTR.
 * @f: filled.
 *
 * Context: any.
 * Return: 0; -EINVAL for a format the decoder does not know.
 */
int lpae_fmt_of(const struct pt_cfg *cfg, const struct pt_hw_regs *regs, struct lpae_fmt *f);

#endif /* GPUVM_TESTS_LPAE_DECODE_H */
