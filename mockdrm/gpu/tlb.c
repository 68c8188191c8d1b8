// SPDX-License-Identifier: MIT
/*
 * The TLB of an address-space slot: what the walker remembers between
 * accesses. Entries stay until a command that covers them removes them
 * (UNLOCK, FLUSH_PT, FLUSH_MEM over a region; UPDATE for everything) or until
 * they are replaced, least recently used first.
 *
 *   leaf entry: [va, va + span(level))          -> leaf descriptor
 *   walk entry: [va, va + span(level - 1))      -> PA of the level-@level table
 *
 * (span(l) is what one entry at level l maps: 512 GiB, 1 GiB, 2 MiB, 4 KiB.)
 */
#include <string.h>

#include "gpu_private.h"

/* VA bytes covered by an entry of @level (leaf) or by the table at @level (walk). */
static uint64_t leaf_span(unsigned int level)
{
	return mock_mmu_span(level);
}

static uint64_t walk_span(unsigned int level)
{
	return mock_mmu_span(level - 1);
}

static bool covers(uint64_t start, uint64_t span, uint64_t va)
{
	return va - start < span;
}

static struct mock_tlb_entry *touch(struct mock_tlb *tlb, struct mock_tlb_entry *e)
{
	e->used = ++tlb->clock;
	return e;
}

struct mock_tlb_entry *mock_tlb_find_leaf(struct mock_tlb *tlb, uint64_t va)
{
	for (unsigned int i = 0; i < MOCK_TLB_LEAVES; i++) {
		struct mock_tlb_entry *e = &tlb->leaf[i];

		if (e->valid && covers(e->va, leaf_span(e->level), va))
			return touch(tlb, e);
	}
	return NULL;
}

/* The deepest cached table on @va's walk. */
struct mock_tlb_entry *mock_tlb_find_walk(struct mock_tlb *tlb, uint64_t va)
{
	struct mock_tlb_entry *best = NULL;

	for (unsigned int i = 0; i < MOCK_TLB_WALKS; i++) {
		struct mock_tlb_entry *e = &tlb->walk[i];

		if (e->valid && covers(e->va, walk_span(e->level), va) &&
		    (!best || e->level > best->level))
			best = e;
	}
	return best ? touch(tlb, best) : NULL;
}

/* The entry to fill: the one with the same key, else an empty one, else the LRU. */
static struct mock_tlb_entry *victim(struct mock_tlb_entry *set, unsigned int n, uint64_t va,
				     unsigned int level)
{
	struct mock_tlb_entry *empty = NULL, *lru = &set[0];

	for (unsigned int i = 0; i < n; i++) {
		if (!set[i].valid) {
			empty = empty ? empty : &set[i];
			continue;
		}
		if (set[i].va == va && set[i].level == level)
			return &set[i];
		if (set[i].used < lru->used || !lru->valid)
			lru = &set[i];
	}
	return empty ? empty : lru;
}

static void fill(struct mock_tlb *tlb, struct mock_tlb_entry *e, uint64_t va, unsigned int level,
		 uint64_t value)
{
	*e = (struct mock_tlb_entry){
		.va = va, .value = value, .level = (uint8_t)level, .valid = true
	};
	touch(tlb, e);
}

void mock_tlb_add_leaf(struct mock_tlb *tlb, uint64_t va, unsigned int level, uint64_t desc)
{
	va &= ~(leaf_span(level) - 1);
	fill(tlb, victim(tlb->leaf, MOCK_TLB_LEAVES, va, level), va, level, desc);
}

void mock_tlb_add_walk(struct mock_tlb *tlb, uint64_t va, unsigned int level, uint64_t table)
{
	va &= ~(walk_span(level) - 1);
	fill(tlb, victim(tlb->walk, MOCK_TLB_WALKS, va, level), va, level, table);
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* A region flush: every entry whose range meets [base, base + size). */
void mock_tlb_invalidate(struct mock_tlb *tlb, uint64_t base, uint64_t size)
{
	for (unsigned int i = 0; i < MOCK_TLB_LEAVES; i++) {
		struct mock_tlb_entry *e = &tlb->leaf[i];

		if (e->valid && overlaps(e->va, leaf_span(e->level), base, size))
			e->valid = false;
	}
	for (unsigned int i = 0; i < MOCK_TLB_WALKS; i++) {
		struct mock_tlb_entry *e = &tlb->walk[i];

		if (e->valid && overlaps(e->va, walk_span(e->level), base, size))
			e->valid = false;
	}
}

void mock_tlb_clear(struct mock_tlb *tlb)
{
	memset(tlb, 0, sizeof(*tlb));
}
