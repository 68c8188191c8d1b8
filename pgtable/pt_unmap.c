// SPDX-License-Identifier: MIT
/*
 * pt_unmap(): unmap any granule-aligned range, splitting the blocks it cuts.
 *
 * Only the first and the last item a range touches at a level can be cut;
 * every item between is covered whole and is simply cleared (a table covered
 * whole is unlinked with its subtree, without touching its items). A cut block
 * becomes a table of next-level leaves with the same attributes, itself cut
 * further where the range ends inside one of them:
 *
 *   before:  level 2  [ .......... 2M block at PA P .......... ]
 *   unmap [V+8K, V+12K):
 *   after:   level 2  [ table ]
 *            level 3  [P][P+4K][----][P+12K] ... [P+2M-4K]
 *
 * The replacement is written in place (one 64-bit store). On Mali the driver
 * locks the region around the update, so no break-before-make is needed; the
 * whole block is flushed, as the walker may hold it as one 2M translation.
 */
#include <errno.h>

#include "pt_internal.h"

struct unmap_op {
	struct pt *pt;
	struct pt_stock *stock;
	struct pt_gather *g;
	uint64_t unmapped;
};

static bool covers_item(const struct pt *pt, unsigned int lvl, uint64_t va, uint64_t end)
{
	uint64_t mask = pt_size(pt, lvl) - 1;

	return !(va & mask) && end - va > mask;
}

static void count_item(const struct pt *pt, const struct pt_table *t, unsigned int lvl,
		       uint64_t va, uint64_t end, unsigned int *need);

/*
 * Count into @need the tables that splitting blocks cut by [@va, @end) needs
 * below @t at level @lvl; @t NULL stands for a split table, full of leaves.
 */
static void split_count(const struct pt *pt, const struct pt_table *t, unsigned int lvl,
			uint64_t va, uint64_t end, unsigned int *need)
{
	uint64_t first_end = pt_item_end(pt, lvl, va, end);
	uint64_t last_va = (end - 1) & ~(pt_size(pt, lvl) - 1);

	if (lvl == PT_LEAF_LEVEL)
		return;
	if (!covers_item(pt, lvl, va, first_end))
		count_item(pt, t, lvl, va, first_end, need);
	if (last_va >= first_end && !covers_item(pt, lvl, last_va, end))
		count_item(pt, t, lvl, last_va, end, need);
}

static void count_item(const struct pt *pt, const struct pt_table *t, unsigned int lvl,
		       uint64_t va, uint64_t end, unsigned int *need)
{
	unsigned int idx = pt_index(pt, lvl, va);
	enum pt_entry_type type = t ? pt_desc_type(pt, lvl, t->items[idx]) : PT_ENTRY_LEAF;

	if (type == PT_ENTRY_TABLE) {
		split_count(pt, pt_child(t, idx), lvl + 1, va, end, need);
	} else if (type == PT_ENTRY_LEAF) {
		need[lvl + 1]++;
		split_count(pt, NULL, lvl + 1, va, end, need);
	}
}

/* Bytes mapped below @t (a leaf table's live count says it without looking). */
static uint64_t mapped_bytes(const struct pt *pt, const struct pt_table *t)
{
	unsigned int lvl = t->level;
	uint64_t bytes = 0;

	if (lvl == PT_LEAF_LEVEL)
		return (uint64_t)t->live << pt_shift(pt, lvl);
	for (unsigned int i = 0; i < pt_nitems(pt, lvl); i++) {
		if (pt_child(t, i))
			bytes += mapped_bytes(pt, pt_child(t, i));
		else if (t->items[i] & PT_DESC_VALID)
			bytes += pt_size(pt, lvl);
	}
	return bytes;
}

/* Clear item @idx of a table above the leaf level, covered whole by the range. */
static void clear_item(struct unmap_op *op, struct pt_table *t, unsigned int idx, uint64_t va)
{
	struct pt *pt = op->pt;
	struct pt_table *child = pt_child(t, idx);
	uint64_t size = pt_size(pt, t->level);

	pt_store(&t->items[idx], 0);
	t->live--;
	if (!child) {
		op->unmapped += size;
		pt_gather_range(op->g, va, va + size, true);
		return;
	}
	pt_set_child(t, idx, NULL);
	op->unmapped += mapped_bytes(pt, child);
	pt_put_subtree(pt, op->g, child);
	pt_gather_range(op->g, va, va + size, false);
}

/* Clear the live pages of [@va, @end) in a leaf table. */
static void clear_pages(struct unmap_op *op, struct pt_table *t, uint64_t va, uint64_t end,
			bool fresh)
{
	const struct pt *pt = op->pt;
	unsigned int shift = pt_shift(pt, PT_LEAF_LEVEL);
	unsigned int first = pt_index(pt, PT_LEAF_LEVEL, va);
	unsigned int end_idx = first + (unsigned int)((end - va) >> shift);
	unsigned int lo = end_idx, hi = first, cleared = 0;

	for (unsigned int i = first; i < end_idx; i++) {
		if (!(t->items[i] & PT_DESC_VALID))
			continue;
		pt_store(&t->items[i], 0);
		cleared++;
		lo = i < lo ? i : lo;
		hi = i + 1;
	}
	if (!cleared)
		return;
	t->live -= cleared;
	op->unmapped += (uint64_t)cleared << shift;
	if (!fresh)
		pt_sync_items(pt, t, lo, hi);
	pt_gather_range(op->g, va + ((uint64_t)(lo - first) << shift),
			va + ((uint64_t)(hi - first) << shift), true);
}

static void unmap_commit(struct unmap_op *op, struct pt_table *t, unsigned int lvl,
			 uint64_t va, uint64_t end, bool fresh);

/* Replace the block in item @idx by a table of next-level leaves, then cut that. */
static void split_block(struct unmap_op *op, struct pt_table *t, unsigned int idx,
			uint64_t va, uint64_t end)
{
	struct pt *pt = op->pt;
	unsigned int lvl = t->level + 1;
	uint64_t block = t->items[idx];
	uint64_t block_va = va & ~(pt_size(pt, t->level) - 1);
	struct pt_table *child = pt_stock_take(pt, op->stock, lvl);
	uint64_t step = pt_size(pt, lvl);
	uint64_t desc = pt_leaf_desc(pt, lvl, pt_desc_addr(pt, block), pt_desc_attrs(pt, block));

	for (unsigned int i = 0; i < pt_nitems(pt, lvl); i++)
		child->items[i] = desc + i * step;
	child->live = pt_nitems(pt, lvl);
	unmap_commit(op, child, lvl, va, end, true);
	pt_link_table(pt, t, idx, child);
	pt_gather_range(op->g, block_va, block_va + pt_size(pt, t->level), false);
}

/*
 * The range cuts item @idx of @t: go down, and drop the child if it empties.
 * Return whether the item itself was written.
 */
static bool cut_item(struct unmap_op *op, struct pt_table *t, unsigned int idx, uint64_t va,
		     uint64_t end)
{
	struct pt *pt = op->pt;
	struct pt_table *child = pt_child(t, idx);
	uint64_t item_va = va & ~(pt_size(pt, t->level) - 1);

	if (!child) {
		split_block(op, t, idx, va, end);
		return true;
	}
	unmap_commit(op, child, t->level + 1, va, end, false);
	if (child->live || child->pins)
		return false;
	pt_store(&t->items[idx], 0);
	pt_set_child(t, idx, NULL);
	t->live--;
	pt_put_subtree(pt, op->g, child);
	pt_gather_range(op->g, item_va, item_va + pt_size(pt, t->level), false);
	return true;
}

/* Unmap [@va, @end) from @t; @fresh: @t is a split table not linked yet. */
static void unmap_commit(struct unmap_op *op, struct pt_table *t, unsigned int lvl,
			 uint64_t va, uint64_t end, bool fresh)
{
	const struct pt *pt = op->pt;
	unsigned int idx = pt_index(pt, lvl, va);
	unsigned int lo = idx, hi = idx; /* the run of items written */

	if (lvl == PT_LEAF_LEVEL) {
		clear_pages(op, t, va, end, fresh);
		return;
	}
	for (; va < end; idx++) {
		uint64_t next = pt_item_end(pt, lvl, va, end);
		bool written = false;

		if (t->items[idx] & PT_DESC_VALID) {
			if (covers_item(pt, lvl, va, next)) {
				clear_item(op, t, idx, va);
				written = true;
			} else {
				written = cut_item(op, t, idx, va, next);
			}
		}
		if (written) {
			lo = hi == lo ? idx : lo;
			hi = idx + 1;
		}
		va = next;
	}
	if (!fresh)
		pt_sync_items(pt, t, lo, hi);
}

int pt_unmap(struct pt *pt, uint64_t va, uint64_t size, uint64_t *unmapped)
{
	unsigned int need[PT_MAX_LEVELS] = {0};
	struct pt_stock stock = {0};
	struct pt_gather g;
	struct unmap_op op = {.pt = pt, .stock = &stock, .g = &g};
	int err = pt_check_va_range(pt, va, size);

	if (err)
		return err;
	split_count(pt, pt->root, pt->geo.start_level, va, va + size, need);
	err = pt_stock_fill(pt, &stock, need);
	if (err)
		return err;
	pt_gather_init(&g);
	unmap_commit(&op, pt->root, pt->geo.start_level, va, va + size, false);
	for (unsigned int l = 0; l < PT_MAX_LEVELS; l++)
		assert(!stock.count[l] && "an unmap used fewer tables than it counted");
	pt_gather_finish(pt, &g);
	if (unmapped)
		*unmapped = op.unmapped;
	return 0;
}
