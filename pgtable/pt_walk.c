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
 * From @t at level @lvl, reached through @link (NULL: none, read @t->items),
 * follow the links towards @va and start loading the deepest table's
 * metadata and @va's item there. The loop follows table pointers only; the
 * items pointer is read once at the end, from the parent's link (reading
 * t->items would wait for t). A link being cleared may give a table without
 * items: nothing is loaded then. Unrolled, as pt_walk()'s loop.
 */
static inline void prefetch_from(const struct pt *pt, const struct pt_table *t,
				 const struct pt_link *link, unsigned int lvl, uint64_t va)
{
	const uint64_t *items;

#pragma GCC unroll 3
	for (; lvl < PT_LEAF_LEVEL; lvl++) {
		const struct pt_link *links = os_load_acquire(&t->child);
		const struct pt_table *c;

		if (!links)
			break; /* no child table ever: only leaves here */
		links += pt_index(pt, lvl, va);
		c = os_load_acquire(&links->table);
		if (!c)
			break;
		link = links;
		t = c;
	}
	__builtin_prefetch(t);
	items = link ? os_load_relaxed(&link->items) : t->items;
	if (items)
		__builtin_prefetch(&items[pt_index(pt, lvl, va)]);
}

/*
 * The tables above the leaf level are few and stay cached; the leaf table's
 * descriptor and metadata are what a random bind misses on. Start loading
 * them and return: the caller has other misses (its VA index) to overlap.
 */
void pt_prefetch(const struct pt *pt, uint64_t va)
{
	if (va >> pt->cfg.ias)
		return;
	prefetch_from(pt, pt->root, NULL, pt->geo.start_level, va);
}

/*
 * pt_prefetch() for the writer: the descent a change at @va makes is made
 * now, and remembered (pt_descend()), so that the reservation of an op there
 * starts at its table instead of going down again; below the tables it may
 * start at (a shared one), the links are followed as pt_prefetch() does.
 */
void pt_seek(struct pt *pt, uint64_t va)
{
	const struct pt_link *link;
	struct pt_table *t;
	unsigned int lvl;

	if (va >> pt->cfg.ias)
		return;
	t = pt->last.t;
	lvl = pt->last.level;
	if (!t || va < pt->last.va || va >= pt->last.end) {
		t = pt->root;
		lvl = pt->geo.start_level;
	}
	/* A page is inside one leaf-level item: pt_descend() of it would go down to the leaf level. */
	t = pt_descend_from(pt, t, lvl, PT_LEAF_LEVEL, va, &link);
	/* Below the root, the table reached is the remembered one: its level is there. */
	lvl = t == pt->root ? pt->geo.start_level : pt->last.level;
	prefetch_from(pt, t, link, lvl, va);
}
