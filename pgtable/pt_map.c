// SPDX-License-Identifier: MIT
/*
 * Map commits: a range to contiguous PAs (pt_map()) or to a repeated pattern
 * (pt_map_repeat()), with the largest leaf each aligned chunk allows.
 *
 *   VA  0x1ff000            0x200000                     0x400000  0x401000
 *       | 4K page (level 3) | 2M block (level 2) ......... | 4K page |
 *
 * A chunk becomes a leaf at level l when the VA and its PA are aligned to the
 * level's size, the chunk covers the whole item, the format allows a leaf there
 * and (for a pattern) the leaf does not straddle the pattern's wrap; otherwise
 * it goes one level down (pt_pat_leaf_fits()). The tables a commit takes were
 * counted and reserved by pt_reserve() (pt_proj.c follows the same decisions),
 * so a commit cannot fail.
 *
 * Sharing: when the pattern's period divides an item's span, every item the
 * map covers whole gets an identical table. The first is built; the others
 * point at it (a template per level for the op):
 *
 *   level 1 [ T2 | T2 | T2 | ... | T2 ]    T2 = one level-2 table, refs 512
 *   level 2 [ T3 | T3 | T3 | ... | T3 ]    T3 = one leaf table, refs 512
 *   level 3 [ P  | P  | P  | ... | P  ]    P  = the dummy page
 */

#include "pt_internal.h"

struct map_op {
	struct pt *pt;
	struct pt_stock *stock;
	struct pt_gather *g;
	struct pt_pat pat;
	uint64_t attrs;                       /* attribute bits of every leaf */
	struct pt_table *tmpl[PT_MAX_LEVELS]; /* shared table per level, once built */
};

/*
 * Write the leaves of [@va, @va + n items) at level @lvl, from item @first.
 * A table nobody can see yet takes plain stores (the compiler may vectorize
 * them); a linked one takes single 64-bit stores.
 */
static void write_leaves(const struct map_op *op, struct pt_table *t, unsigned int lvl,
			 unsigned int first, unsigned int n, uint64_t va, bool fresh)
{
	const struct pt *pt = op->pt;
	uint64_t step = pt_size(pt, lvl);
	uint64_t desc = pt_leaf_desc(pt, lvl, pt_pat_pa(&op->pat, va), op->attrs);
	uint64_t *item = &t->items[first];

	if (op->pat.period) {
		/* A pattern restarts at its wrap: recompute each leaf's PA. */
		for (unsigned int i = 0; i < n; i++, va += step)
			pt_store(&item[i],
				 pt_leaf_desc(pt, lvl, pt_pat_pa(&op->pat, va), op->attrs));
	} else if (fresh) {
		for (unsigned int i = 0; i < n; i++)
			item[i] = desc + i * step;
	} else {
		for (unsigned int i = 0; i < n; i++)
			pt_store(&item[i], desc + i * step);
	}
	t->live += n;
}

/* A table from the stock for the item covering [@va, @end), zeroed where the map will not write. */
static struct pt_table *new_table(struct map_op *op, unsigned int lvl, uint64_t va, uint64_t end)
{
	const struct pt *pt = op->pt;
	struct pt_table *t = pt_stock_take(op->pt, op->stock, lvl);
	unsigned int first = pt_index(pt, lvl, va);
	unsigned int last = pt_index(pt, lvl, end - 1) + 1;

	memset(t->items, 0, first * sizeof(uint64_t));
	memset(&t->items[last], 0, (pt_nitems(pt, lvl) - last) * sizeof(uint64_t));
	return t;
}

static void map_range(struct map_op *op, struct pt_table *t, uint64_t va, uint64_t end, bool fresh);

/* A new table for item @idx of @t, filled, made visible, then linked. */
static struct pt_table *build_child(struct map_op *op, struct pt_table *t, unsigned int idx,
				    uint64_t va, uint64_t end)
{
	struct pt_table *child = new_table(op, t->level + 1, va, end);

	map_range(op, child, va, end, true);
	pt_sync_table(op->pt, child);
	pt_link_table(op->pt, op->stock, t, idx, child);
	t->live++;
	return child;
}

/* Item @idx holds a table whose span the map covers with one leaf: it must be empty. */
static void drop_empty_table(struct map_op *op, struct pt_table *t, unsigned int idx, uint64_t va)
{
	struct pt_table *child = pt_child(t, idx);

	pt_unlink_item(op->pt, t, idx);
	pt_put_subtree(op->pt, op->g, child);
	pt_gather_range(op->g, va, va + pt_size(op->pt, t->level), false);
}

/*
 * One item of a table above the leaf level; return whether the item itself was
 * written. Ask the metadata whether it holds a table, not the item: the items
 * a fresh table's range covers still hold what the allocator left in them.
 */
static bool map_item(struct map_op *op, struct pt_table *t, unsigned int idx, uint64_t va,
		     uint64_t end)
{
	struct pt *pt = op->pt;
	unsigned int lvl = t->level;
	struct pt_table *child = pt_child(t, idx);

	if (pt_pat_leaf_fits(pt, &op->pat, lvl, va, end)) {
		if (child)
			drop_empty_table(op, t, idx, va);
		pt_store(&t->items[idx], pt_leaf_desc(pt, lvl, pt_pat_pa(&op->pat, va), op->attrs));
		t->live++;
		return true;
	}
	if (child) {
		struct pt_table *w = pt_writable_child(pt, op->stock, op->g, t, idx, va);

		map_range(op, w, va, end, false);
		return w != child;
	}
	if (!pt_pat_shareable(pt, &op->pat, lvl, va, end)) {
		build_child(op, t, idx, va, end);
		return true;
	}
	if (op->tmpl[lvl + 1]) {
		pt_ref_get(pt, op->tmpl[lvl + 1]);
		pt_link_table(pt, op->stock, t, idx, op->tmpl[lvl + 1]);
		t->live++;
	} else {
		op->tmpl[lvl + 1] = build_child(op, t, idx, va, end);
	}
	return true;
}

/*
 * Does the item of level @lvl at @va take a leaf, and how many whole items
 * from it (*@n) do? Without a period, every whole item after one that takes
 * a leaf does too: it starts at the same offset from a leaf boundary of the
 * output.
 */
static bool leaf_run(const struct map_op *op, unsigned int lvl, uint64_t va, uint64_t end,
		     unsigned int *n)
{
	const struct pt *pt = op->pt;
	uint64_t whole_end = end & ~(pt_size(pt, lvl) - 1);

	if (op->pat.period || !pt_pat_leaf_fits(pt, &op->pat, lvl, va, end))
		return false;
	*n = (unsigned int)((whole_end - va) >> pt_shift(pt, lvl));
	return true;
}

/*
 * Map [@va, @end) into @t. @fresh: @t is not linked yet (it is synced as a
 * whole before it is), so its writes need neither atomicity nor per-run syncs.
 */
static void map_range(struct map_op *op, struct pt_table *t, uint64_t va, uint64_t end, bool fresh)
{
	const struct pt *pt = op->pt;
	unsigned int lvl = t->level;
	unsigned int idx = pt_index(pt, lvl, va);
	unsigned int lo = idx, hi = idx; /* the run of items written */

	if (lvl == PT_LEAF_LEVEL) {
		unsigned int n = (unsigned int)((end - va) >> pt_shift(pt, lvl));

		write_leaves(op, t, lvl, idx, n, va, fresh);
		hi += n;
	} else {
		for (; va < end; idx++) {
			uint64_t next = pt_item_end(pt, lvl, va, end);
			unsigned int n = 1;

			if (fresh && leaf_run(op, lvl, va, end, &n)) {
				/* Nothing to drop in a fresh table: one store per leaf. */
				write_leaves(op, t, lvl, idx, n, va, true);
				next = va + ((uint64_t)n << pt_shift(pt, lvl));
			} else if (!map_item(op, t, idx, va, next)) {
				va = next;
				continue;
			}
			lo = hi == lo ? idx : lo;
			idx += n - 1;
			hi = idx + 1;
			va = next;
		}
	}
	if (!fresh)
		pt_sync_items(pt, t, lo, hi);
}

/*
 * Any map but op 0's pages or blocks where the reservation found them
 * (pt_resv.c commits those itself): down from @start (NULL: the root side).
 */
void pt_map_commit(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
		   const struct pt_op *op, struct pt_table *start)
{
	struct map_op m = { .pt = pt, .stock = stock, .g = g };

	/*
	 * Whole blocks where a fast count found them (an op the one-op path
	 * of blocks took commits in pt_resv.c): it found their items free.
	 * Not after a descent here: an item may hold an empty table to drop
	 * (map_item()).
	 */
	if (start && start->level != PT_LEAF_LEVEL && op->type == PT_OP_MAP &&
	    pt_leaves_fit(pt, start, op)) {
		pt_write_blocks(pt, start, op->va, op->pa, op->size, pt->attrs_of_prot[op->prot]);
		pt_sync_leaves(pt, start, op->va, op->size);
		pt_gather_range(g, op->va, op->va + op->size, true);
		return;
	}

	m.pat.va0 = op->va;
	m.pat.pa0 = op->pa;
	m.pat.period = op->type == PT_OP_MAP_REPEAT ? op->period : 0;
	m.attrs = pt->attrs_of_prot[op->prot];
	/* The levels above would only go down into private tables (map_item()). */
	if (!start)
		start = pt_descend(pt, op->va, op->va + op->size, NULL);
	if (start->level == PT_LEAF_LEVEL && !m.pat.period) {
		pt_write_pages(pt, start, op->va, op->pa, op->size, m.attrs);
		pt_sync_pages(pt, start, op->va, op->size);
	} else {
		map_range(&m, start, op->va, op->va + op->size, false);
	}
	/* Mali-class walkers may cache a fault: new leaves need a flush too. */
	pt_gather_range(g, op->va, op->va + op->size, true);
}

/*
 * A replace is the unmap of its range and then the map of it (DOC in pt.h),
 * flushed once by pt_commit_end(): the unmap gathers the range and the tables
 * it unlinks, freed after that flush. Both read only the op's range (the map
 * its pa and prot too): they take it as it is. Pages inside the leaf table the
 * reservation found them in (@start) are written over in place instead: the
 * unmap could empty the table, unpinned, for the map to need it again. Above
 * the leaf level, a reservation starts a replace only where the items it
 * covers are free (pt_fast.c): there it is a map.
 */
uint64_t pt_replace_commit(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
			   const struct pt_op *op, struct pt_table *start)
{
	uint64_t bytes;

	if (start && start->level != PT_LEAF_LEVEL) {
		pt_map_commit(pt, stock, g, op, start);
		return 0;
	}
	if (start) {
		bytes = pt_replace_pages(pt, start, op);
		pt_sync_pages(pt, start, op->va, op->size);
		/* Old translations were valid: they go, the walker may hold them. */
		pt_gather_range(g, op->va, op->va + op->size, true);
		return bytes;
	}
	bytes = pt_unmap_commit(pt, stock, g, op, NULL);
	pt_map_commit(pt, stock, g, op, NULL);
	return bytes;
}

int pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	struct pt_op op = { .type = PT_OP_MAP, .va = va, .size = size, .pa = pa, .prot = prot };

	return pt_apply_op(pt, &op, NULL);
}

int pt_map_repeat(struct pt *pt, uint64_t va, uint64_t size, const struct pt_pattern *pattern,
		  uint32_t prot)
{
	struct pt_op op = {
		.type = PT_OP_MAP_REPEAT,
		.va = va,
		.size = size,
		.pa = pattern->pa,
		.period = pattern->period,
		.prot = prot,
	};

	return pt_apply_op(pt, &op, NULL);
}
