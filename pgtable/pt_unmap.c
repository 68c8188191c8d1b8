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
 *
 * A shared table on the way down is copied first (pt_writable_child()), so the
 * other VAs that alias it keep their translations. A table that empties is
 * unlinked, unless a reservation pins it (pt_resv.c unlinks it when the last
 * pin drops).
 */

#include "pt_internal.h"

struct unmap_op {
	struct pt *pt;
	struct pt_stock *stock;
	struct pt_gather *g;
	uint64_t unmapped;
};

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

	pt_unlink_item(pt, t, idx);
	if (!child) {
		op->unmapped += size;
		pt_gather_range(op->g, va, va + size, true);
		return;
	}
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

static void unmap_commit(struct unmap_op *op, struct pt_table *t, unsigned int lvl, uint64_t va,
			 uint64_t end, bool fresh);

/* Replace the block in item @idx by a table of next-level leaves, then cut that. */
static void split_block(struct unmap_op *op, struct pt_table *t, unsigned int idx, uint64_t va,
			uint64_t end)
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
	pt_sync_table(pt, child);
	pt_link_table(pt, op->stock, t, idx, child);
	pt_gather_range(op->g, block_va, block_va + pt_size(pt, t->level), false);
}

/*
 * @w, the private table of item @idx of @t, was cut: drop it if it emptied -
 * unless a reservation pins it. Return whether the item itself was written.
 */
static bool settle_child(struct unmap_op *op, struct pt_table *t, unsigned int idx,
			 struct pt_table *w, uint64_t item_va)
{
	struct pt *pt = op->pt;

	/*
	 * Kept for its pins: pt_commit_end() unlinks it from here. Only here:
	 * w is private now, but a reservation may have pinned it through
	 * another VA while it was shared.
	 */
	if (w->pins && !w->live)
		w->kept_va = item_va;
	if (w->live || w->pins)
		return false;
	pt_unlink_item(pt, t, idx);
	pt_put_subtree(pt, op->g, w);
	pt_gather_range(op->g, item_va, item_va + pt_size(pt, t->level), false);
	return true;
}

/*
 * The range cuts item @idx of @t: go down (into a private copy if the table is
 * shared), and drop the child if it empties - unless a reservation pins it.
 * Return whether the item itself was written.
 */
static bool cut_item(struct unmap_op *op, struct pt_table *t, unsigned int idx, uint64_t va,
		     uint64_t end)
{
	struct pt *pt = op->pt;
	struct pt_table *child = pt_child(t, idx), *w;
	uint64_t item_va = va & ~(pt_size(pt, t->level) - 1);

	if (!child) {
		split_block(op, t, idx, va, end);
		return true;
	}
	w = pt_writable_child(pt, op->stock, op->g, t, idx, item_va);
	unmap_commit(op, w, t->level + 1, va, end, false);
	return settle_child(op, t, idx, w, item_va) || w != child;
}

/* Unmap [@va, @end) from @t; @fresh: @t is a split table not linked yet. */
static void unmap_commit(struct unmap_op *op, struct pt_table *t, unsigned int lvl, uint64_t va,
			 uint64_t end, bool fresh)
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
			if (pt_covers_item(pt, lvl, va, next)) {
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

/*
 * @t, where the unmap started, emptied: drop it and every table above it that
 * this empties (as cut_item() does on the way back), up to the first that
 * stays. The links above @t are as pt_descend() found them.
 */
static os_noinline void settle_path(struct unmap_op *op, struct pt_table *t, uint64_t va,
				    uint64_t end)
{
	struct pt *pt = op->pt;
	struct pt_table *path[PT_MAX_LEVELS], *found = pt_descend(pt, va, end, path);
	unsigned int lvl = t->level;

	os_assert(found == t && "the unmap went down elsewhere");
	(void)found;
	while (lvl-- > pt->geo.start_level) {
		struct pt_table *parent = path[lvl];
		unsigned int idx = pt_index(pt, lvl, va);

		if (!settle_child(op, parent, idx, t, va & ~(pt_size(pt, lvl) - 1)))
			break;
		pt_sync_items(pt, parent, idx, idx + 1);
		t = parent;
	}
}

/* pt_unmap_pages() of anything but one page its leaf table keeps others beside. */
static os_noinline uint64_t unmap_pages_and_settle(struct pt *pt, struct pt_gather *g,
						   struct pt_table *t, uint64_t va, uint64_t end)
{
	struct unmap_op op = { .pt = pt, .g = g };

	clear_pages(&op, t, va, end, false);
	/* The table emptied: drop it and what this empties above (cut_item() on the way back). */
	if (!t->live && t != pt->root)
		settle_path(&op, t, va, end);
	return op.unmapped;
}

uint64_t pt_unmap_pages(struct pt *pt, struct pt_gather *g, const struct pt_op *uop,
			struct pt_table *t)
{
	if (!pt_clear_page(pt, t, uop->va, uop->size))
		return unmap_pages_and_settle(pt, g, t, uop->va, uop->va + uop->size);
	pt_gather_range(g, uop->va, uop->va + uop->size, true);
	pt_sync_pages(pt, t, uop->va, uop->size);
	return uop->size;
}

uint64_t pt_unmap_commit(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
			 const struct pt_op *uop, struct pt_table *start)
{
	struct unmap_op op = { .pt = pt, .stock = stock, .g = g };
	uint64_t va = uop->va, end = uop->va + uop->size;
	struct pt_table *t = start ? start : pt_descend(pt, va, end, NULL);

	/*
	 * The levels above would only go down into private tables (cut_item());
	 * on the way back, a table the unmap emptied is dropped as there.
	 */
	if (t->level == PT_LEAF_LEVEL)
		return pt_unmap_pages(pt, g, uop, t);
	unmap_commit(&op, t, t->level, va, end, false);
	if (!t->live && t != pt->root)
		settle_path(&op, t, va, end);
	return op.unmapped;
}

int pt_unmap(struct pt *pt, uint64_t va, uint64_t size, uint64_t *unmapped)
{
	struct pt_op op = { .type = PT_OP_UNMAP, .va = va, .size = size };

	return pt_apply_op(pt, &op, unmapped);
}
