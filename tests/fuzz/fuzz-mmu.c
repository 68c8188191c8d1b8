// SPDX-License-Identifier: MIT
/*
 * fuzz-mmu: the mock GPU's MMU model (mockdrm/gpu/mmu.c) decoding any
 * descriptors, against the independent decoder (libFuzzer target).
 *
 * The MMU model decodes descriptors itself so that a page-table builder bug
 * shows as a wrong translation; here it gets what no builder writes. Each
 * input gives a VA, an access type (read, write, execute) and the descriptor
 * at each level on that VA's path - raw 64-bit values, or table pointers to
 * the next level's table with raw attribute bits, or leaves with raw
 * attributes - in four tables of the model's table memory. The translation
 * the model returns (output address, or the Mali fault status: exception and
 * level) must be what a walk with tests/common/lpae-decode.h in lenient mode
 * (Mali AArch64, 4K, 40-bit output) gives:
 *
 * - a VA above 48 bits: address size fault (input);
 * - a table that is not table memory: bus fault at that level;
 * - invalid or reserved type bits (01 at level 0 or 3): translation fault;
 * - a leaf: with an output address beyond 40 bits an address size fault,
 *   else without AF an access flag fault, else a write to a read-only or an
 *   execution of an XN leaf a permission fault, else the output address.
 *
 * lpae.md gives no priority between an address size fault of a leaf and its
 * access flag or permission faults, nor says what a table address beyond
 * oas raises (the model reads table memory by address: a bus fault); where
 * those meet, either answer is accepted.
 */
#include <inttypes.h>
#include <string.h>

#include "fuzz-input.h"
#include "lpae-decode.h"
#include "mock_gpu.h"

#define LEVELS 4
#define PAGE 4096ull
#define OAS 40

static struct mock_gpu gpu;
static struct pt_mem tables[LEVELS];

struct outcome {
	uint32_t fault; /* exception | access << 8, or 0 */
	uint64_t pa;
	uint32_t alt_fault; /* also acceptable (see the head comment), or 0 */
};

static unsigned int shift(unsigned int level)
{
	return 39 - 9 * level;
}

static uint32_t status(uint32_t exception, unsigned int access)
{
	return mock_fault(exception, access);
}

/* A leaf's outcome (lenient decoding in @d). */
static void leaf_outcome(const struct lpae_desc *d, unsigned int level, uint64_t va,
			 unsigned int access, struct outcome *o)
{
	uint32_t other = 0;

	if (!d->af)
		other = status(MOCK_FAULT_ACCESS_FLAG + level, access);
	else if (access == MOCK_ACCESS_WRITE && !(d->prot & PT_PROT_WRITE))
		other = status(MOCK_FAULT_PERMISSION + level, access);
	else if (access == MOCK_ACCESS_EXEC && !(d->prot & PT_PROT_EXEC))
		other = status(MOCK_FAULT_PERMISSION + level, access);
	if (d->beyond_oas) {
		o->fault = status(MOCK_FAULT_ADDR_SIZE_OUT + level, access);
		o->alt_fault = other;
	} else if (other) {
		o->fault = other;
	} else {
		o->pa = d->addr | (va & (d->size - 1));
	}
}

/* What the hardware makes of the walk of @va from the table at @root. */
static void oracle(uint64_t root, uint64_t va, unsigned int access, struct outcome *o)
{
	const struct lpae_fmt fmt = {
		.kind = LPAE_MALI_AARCH64, .granule_lg2 = 12, .oas = OAS, .lenient = true
	};
	uint64_t table = root;

	memset(o, 0, sizeof(*o));
	if (va >> 48) {
		o->fault = status(MOCK_FAULT_ADDR_SIZE_IN, access);
		return;
	}
	for (unsigned int level = 0; level < LEVELS; level++) {
		const uint64_t *items = pt_pool_pa_to_cpu(gpu.tables, table);
		struct lpae_desc d;

		if (!items) {
			o->fault = status(MOCK_FAULT_BUS, access);
			if (table >> OAS) /* the architecture's answer */
				o->alt_fault = status(MOCK_FAULT_ADDR_SIZE_OUT + level, access);
			return;
		}
		if (lpae_decode(&fmt, level, items[(va >> shift(level)) & 511], &d, NULL) ||
		    d.type == LPAE_INVALID) {
			o->fault = status(MOCK_FAULT_TRANSLATION + level, access);
			return;
		}
		if (d.type != LPAE_TABLE) {
			leaf_outcome(&d, level, va, access, o);
			return;
		}
		table = d.addr;
	}
	fz_fail("a table descriptor at level 3 decoded");
}

/*
 * The descriptor at @level: raw; a table pointer to the next table (raw
 * attribute bits above the address); or a leaf of the right type bits with
 * raw attributes and (mostly) an address inside the output range.
 */
static uint64_t gen_desc(struct fz_in *in, unsigned int level)
{
	unsigned int mode = (unsigned int)fz_take(in, 1) % 4;
	uint64_t raw = fz_take(in, 8);

	if (mode == 0)
		return raw;
	if ((mode == 1 || mode == 2) && level < LEVELS - 1)
		return tables[level + 1].pa | 3 | (raw & (0x1full << 59));
	raw = (raw & ~3ull) | (level == 3 ? 3 : 1);
	return mode == 3 ? raw : raw & ~(0xfffull << 40);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned int access = (unsigned int)fz_take(&in, 1);
	uint64_t va = fz_take(&in, 6), desc[LEVELS];
	struct mock_xlate got;
	struct outcome want;

	static const unsigned int accesses[] = { MOCK_ACCESS_READ, MOCK_ACCESS_WRITE,
						 MOCK_ACCESS_EXEC };

	if (access & 0x80)
		va |= fz_take(&in, 2) << 48;
	access = accesses[access % 3];
	for (unsigned int l = 0; l < LEVELS; l++) {
		uint64_t *items = tables[l].cpu;

		desc[l] = gen_desc(&in, l);
		items[(va >> shift(l)) & 511] = desc[l];
	}
	mock_mmu_translate(&gpu, tables[0].pa, va, access, &got);
	oracle(tables[0].pa, va, access, &want);
	if (got.fault != want.fault && !(want.alt_fault && got.fault == want.alt_fault))
		fz_fail("VA 0x%" PRIx64 " access %u: the MMU faults 0x%x, the decoder says 0x%x "
			"(descriptors 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 ")",
			va, access, got.fault, want.fault, desc[0], desc[1], desc[2], desc[3]);
	if (!got.fault && got.pa != want.pa)
		fz_fail("VA 0x%" PRIx64 ": the MMU translates to 0x%" PRIx64 ", the decoder to "
			"0x%" PRIx64,
			va, got.pa, want.pa);
	for (unsigned int l = 0; l < LEVELS; l++)
		memset(tables[l].cpu, 0, PAGE);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct pt_pool_cfg pcfg = { .page_size = PAGE,
					  .pa_base = 1ull << 30,
					  .pa_limit = 4ull << 30 };

	(void)argc;
	(void)argv;
	if (mock_gpu_init(&gpu, 1, false, &pcfg))
		fz_fail("mock_gpu_init failed");
	for (unsigned int l = 0; l < LEVELS; l++) {
		if (mock_table_ops.alloc(&gpu, PAGE, PAGE, &tables[l]))
			fz_fail("no table memory");
		memset(tables[l].cpu, 0, PAGE);
	}
	return 0;
}
