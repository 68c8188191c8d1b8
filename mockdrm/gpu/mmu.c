// SPDX-License-Identifier: MIT
/*
 * The MMU model: walks a VM's tables by physical address from TRANSTAB, the
 * way the GPU does, and reports Mali fault status codes (mali.md section 1).
 *
 * It decodes descriptors itself, from the hardware's rules, rather than asking
 * pgtable: a builder bug must show up as a wrong translation or a fault, not be
 * decoded away by the same code that wrote it.
 *
 *   level   0        1        2        3
 *   VA bits 47:39    38:30    29:21    20:12    offset 11:0
 *   leaves  -        1G block 2M block 4K page
 */
#include <errno.h>
#include <string.h>

#include "gpu_private.h"

#define DESC_VALID 1ull
#define DESC_TABLE 3ull
#define DESC_AF (1ull << 10)
#define DESC_RDONLY (1ull << 7)
#define DESC_XN ((1ull << 53) | (1ull << 54))
#define DESC_OA 0x0000fffffffff000ull

static unsigned int level_shift(unsigned int level)
{
	return 39 - 9 * level;
}

/* A leaf at @level: check access flag and permissions, then translate. */
static void leaf(uint64_t desc, unsigned int level, uint64_t va, unsigned int access,
		 struct mock_xlate *out)
{
	uint64_t size = 1ull << level_shift(level);
	uint64_t pa = ((desc & DESC_OA) & ~(size - 1)) | (va & (size - 1));

	if (!(desc & DESC_AF))
		out->fault = mock_fault(MOCK_FAULT_ACCESS_FLAG + level, access);
	else if (access == MOCK_ACCESS_WRITE && (desc & DESC_RDONLY))
		out->fault = mock_fault(MOCK_FAULT_PERMISSION + level, access);
	else if (access == MOCK_ACCESS_EXEC && (desc & DESC_XN))
		out->fault = mock_fault(MOCK_FAULT_PERMISSION + level, access);
	else if (pa >> MOCK_PA_BITS)
		out->fault = mock_fault(MOCK_FAULT_ADDR_SIZE_OUT + level, access);
	else
		out->pa = pa;
}

/* Bits [1:0]: 11 table below level 3, 11 page at level 3, 01 block at levels 1-2. */
static bool is_table(uint64_t desc, unsigned int level)
{
	return level < 3 && (desc & 3) == DESC_TABLE;
}

static bool is_leaf(uint64_t desc, unsigned int level)
{
	if (level == 3)
		return (desc & 3) == DESC_TABLE;
	return level > 0 && (desc & 3) == DESC_VALID;
}

/*
 * Walk from @table (the table of @level) down to the descriptor that decides
 * @va, recording each table read, as the walker does. Leaf permission checks
 * are the caller's (mock_mmu_leaf()): a TLB keeps the descriptor, not the
 * verdict.
 */
void mock_mmu_walk(struct mock_gpu *gpu, uint64_t table, unsigned int level, uint64_t va,
		   unsigned int access, struct mock_walk *w)
{
	memset(w, 0, sizeof(*w));
	if (va >> MOCK_VA_BITS) {
		w->fault = mock_fault(MOCK_FAULT_ADDR_SIZE_IN, access);
		return;
	}
	for (;; level++) {
		const uint64_t *items = pt_pool_pa_to_cpu(gpu->tables, table);

		w->table[level] = table;
		w->level = level;
		if (!items) {
			w->fault = mock_fault(MOCK_FAULT_BUS, access);
			return;
		}
		if (!mock_table_live(gpu, table))
			w->freed = true;
		w->desc =
			__atomic_load_n(&items[(va >> level_shift(level)) & 511], __ATOMIC_ACQUIRE);
		if (!is_table(w->desc, level))
			break;
		table = w->desc & DESC_OA;
	}
	w->leaf = is_leaf(w->desc, level);
	if (!w->leaf)
		w->fault = mock_fault(MOCK_FAULT_TRANSLATION + level, access);
}

/* Finish a translation from a leaf descriptor: access flag, permissions, PA. */
void mock_mmu_leaf(uint64_t desc, unsigned int level, uint64_t va, unsigned int access,
		   struct mock_xlate *out)
{
	*out = (struct mock_xlate){ 0 };
	leaf(desc, level, va, access, out);
}

uint64_t mock_mmu_span(unsigned int level)
{
	return 1ull << level_shift(level);
}

uint64_t mock_mmu_table_pa(uint64_t desc)
{
	return desc & DESC_OA;
}

void mock_mmu_translate(struct mock_gpu *gpu, uint64_t transtab, uint64_t va, unsigned int access,
			struct mock_xlate *out)
{
	struct mock_walk w;

	mock_mmu_walk(gpu, transtab & DESC_OA, 0, va, access, &w);
	if (w.leaf)
		mock_mmu_leaf(w.desc, w.level, va, access, out);
	else
		*out = (struct mock_xlate){ .fault = w.fault };
}
