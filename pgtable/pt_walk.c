// SPDX-License-Identifier: MIT
/*
 * pt_walk(): translate one VA the way the walker does, lock-free.
 *
 * Each descriptor is read once with acquire semantics. A table entry is
 * published only after the table and its child[] metadata are complete, so a
 * walker that sees the entry sees both. A walker racing an unlink may find the
 * child pointer already cleared: it reports the VA unmapped, which is what it
 * would see a moment later anyway.
 */

#include "pt_internal.h"

static int not_mapped(unsigned int lvl, uint64_t desc, struct pt_walk_result *res, int err)
{
	res->pa = 0;
	res->prot = 0;
	res->leaf_size = 0;
	res->level = lvl;
	res->desc = desc;
	return err;
}

/* @desc, found at level @lvl for @va, is a leaf: its translation. */
static inline int found_leaf(const struct pt *pt, unsigned int lvl, uint64_t va, uint64_t desc,
			     struct pt_walk_result *res)
{
	uint64_t size = pt_size(pt, lvl);

	res->pa = (desc & pt->leaf_oa_mask[lvl]) | (va & (size - 1));
	res->prot = pt_leaf_prot(pt, desc);
	res->leaf_size = size;
	res->level = lvl;
	res->desc = desc;
	return 0;
}

/*
 * The loop body is kept minimal on purpose: a random walk is bound by the
 * latency of its last descriptor load, and a short body lets the CPU overlap
 * the loads of consecutive walks. The leaf level is walked after the loop:
 * bits [1:0] mean a page there, a block above (pt_desc_type()). The loop over
 * the levels above is unrolled: the level count and its test cost as much as
 * the body's loads.
 */
int pt_walk(const struct pt *pt, uint64_t va, struct pt_walk_result *res)
{
	const struct pt_table *t = pt->root;
	const uint64_t *items = t->items;
	unsigned int lvl = pt->geo.start_level;
	uint64_t desc;

	if (va >> pt->cfg.ias)
		return not_mapped(lvl, 0, res, -ERANGE);
#pragma GCC unroll 3
	for (; lvl < PT_LEAF_LEVEL; lvl++) {
		unsigned int idx = pt_index(pt, lvl, va);
		const struct pt_link *link;

		desc = pt_load(&items[idx]);
		if ((desc & PT_DESC_TYPE_MASK) != PT_DESC_TABLE) {
			if (!(desc & PT_DESC_VALID))
				return not_mapped(lvl, desc, res, -ENOENT);
			return found_leaf(pt, lvl, va, desc, res); /* a block */
		}
		/* Set before the entry was published: a table entry implies the array. */
		link = &os_load_relaxed(&t->child)[idx];
		items = os_load_relaxed(&link->items);
		t = os_load_relaxed(&link->table);
		if (!items | !t)
			return not_mapped(lvl, desc, res, -ENOENT); /* unlinked under us */
	}
	desc = pt_load(&items[pt_index(pt, lvl, va)]);
	if ((desc & PT_DESC_TYPE_MASK) != pt->page_type)
		return not_mapped(lvl, desc, res, -ENOENT);
	return found_leaf(pt, lvl, va, desc, res);
}

/*
 * The tables above the leaf level are few and stay cached; the leaf table's
 * descriptor and metadata are what a random bind misses on. Start loading
 * them and return: the caller has other misses (its VA index) to overlap.
 */
void pt_prefetch(const struct pt *pt, uint64_t va)
{
	const struct pt_table *t = pt->root;
	const uint64_t *items = t->items;
	unsigned int lvl = pt->geo.start_level;

	if (va >> pt->cfg.ias)
		return;
	for (; lvl < PT_LEAF_LEVEL; lvl++) {
		const struct pt_link *links = os_load_acquire(&t->child);
		const struct pt_link *link;
		const struct pt_table *c;
		const uint64_t *ci;

		if (!links)
			break; /* no child table ever: only leaves here */
		link = &links[pt_index(pt, lvl, va)];
		c = os_load_acquire(&link->table);
		ci = os_load_relaxed(&link->items);
		if (!c || !ci)
			break;
		t = c;
		items = ci; /* from the parent's link: reading t->items would wait for t */
	}
	__builtin_prefetch(t);
	__builtin_prefetch(&items[pt_index(pt, lvl, va)]);
}
