// SPDX-License-Identifier: MIT
/*
 * Reserving one op straight on the real tables.
 *
 * When no reservation is outstanding, the projection of the queue is the real
 * tree itself: an op's first (or only) reservation needs no projection to be
 * built, replayed or overridden. pt_fast_count() walks the real tables
 * read-only and takes the same decisions as the simulation in pt_proj.c -
 * which it mirrors case by case below - for maps and unmaps whose path holds
 * no shared table:
 *
 *   simulation (pt_proj.c)                 here
 *   sim_map_item: leaf fits, item free     nothing
 *   sim_map_item: leaf fits over a leaf    -EEXIST
 *   sim_map_new                            count_new(): one table per level
 *   link_item: a table's first child       count_links(), count_new()'s tables
 *   sim_map_range at the leaf level        -EEXIST if any item is valid
 *   sim_cut_item on a block                count_split(): one table per cut level
 *   sim_cut_item on a table                go down
 *
 * A replace (an unmap, then a map) is handled inside one leaf table, where it
 * takes no table and its verdict is 0, and over free items of a table above,
 * where its unmap does nothing: a map. Anything else (a shared table to copy,
 * a leaf over a linked table, a repeat map, a replace over anything above the
 * leaf level) returns -EAGAIN: the caller simulates on the projection.
 *
 * It finds the same tables to pin as the simulation (every table but the root
 * that the op goes down into), so that the commit keeps a table it empties
 * linked until pt_commit_end(), as a later reservation's projection expects.
 * It records them only when asked (struct pt_sim.fast_record): pt_resv.c
 * pins them only once another op is reserved behind this one, counting again
 * on the same, unchanged tables. More tables than fit in struct
 * pt_sim.fast_touched: -EAGAIN.
 *
 * The tables the count went down through stay as they are until the op
 * commits (it is the oldest reservation), so its commit starts at the same
 * table without going down again (struct pt_sim.start).
 *
 * One source of truth: with PT_DEBUG_CHECK_RESERVE, every fast count is
 * simulated on the projection as well and must agree (pt_fast_check()); the
 * property tests run with it. So is pt_resv.c's reservation of pages inside
 * the remembered leaf table (pt_fast_leaf()), which makes no count at all: its
 * verdict and what it implies (no table, the pins of leaf_claim()) are checked
 * by pt_fast_leaf_check().
 */

#include "pt_proj.h"

/* The op goes down into @t, whose span starts at @va: pin it (touch() in pt_proj.c). */
static int touch(struct pt_sim *sim, const struct pt_table *t, uint64_t va)
{
	if (sim->nr_touched == PT_FAST_TOUCHED)
		return -EAGAIN;
	if (sim->fast_record) {
		sim->fast_touched[sim->nr_touched] = (struct pt_table *)t;
		sim->fast_touched_va[sim->nr_touched] = va;
	}
	sim->nr_touched++;
	return 0;
}

/* The tables above @t that the op goes down through, and @t (not the root). */
static void touch_path(const struct pt *pt, const struct pt_table *t, uint64_t va,
		       struct pt_sim *sim)
{
	unsigned int top = pt->geo.start_level;

	if (t == pt->root)
		return;
	if (!sim->fast_record) {
		sim->nr_touched = t->level - top;
		return;
	}
	for (unsigned int l = top + 1; l <= t->level; l++)
		touch(sim, l == t->level ? t : sim->path[l], va & ~(pt_size(pt, l - 1) - 1));
}

static bool count_new(const struct pt *pt, const struct pt_pat *pat, unsigned int lvl, uint64_t va,
		      uint64_t end, unsigned int need[PT_NEED_SLOTS]);

/*
 * The item of level @lvl covering [@va, @end) in a new table: a table below it
 * unless a leaf. Return whether it takes a table (its table needs links).
 */
static bool count_new_item(const struct pt *pt, const struct pt_pat *pat, unsigned int lvl,
			   uint64_t va, uint64_t end, unsigned int need[PT_NEED_SLOTS])
{
	if (pt_pat_leaf_fits(pt, pat, lvl, va, end))
		return false;
	count_new(pt, pat, lvl, va, end, need);
	return true;
}

/*
 * A map of [@va, @end) into the new table of an invalid item at level @lvl.
 * Only the first and the last item of the new table can be cut by the range;
 * the whole items between start at the same offset from a leaf boundary of
 * the output (the map has no period: pt_fast_count()), so they are all
 * leaves, or all take the same tables: one is counted for all of them. The new
 * table needs a link array when any of its items takes a table. Return true
 * (a table is linked into the item: the caller's table needs links).
 */
static bool count_new(const struct pt *pt, const struct pt_pat *pat, unsigned int lvl, uint64_t va,
		      uint64_t end, unsigned int need[PT_NEED_SLOTS])
{
	unsigned int child = lvl + 1;
	uint64_t next, whole_end, n;
	bool tables;

	need[child]++;
	if (child == PT_LEAF_LEVEL)
		return true;
	next = pt_item_end(pt, child, va, end);
	tables = count_new_item(pt, pat, child, va, next, need);
	whole_end = end & ~(pt_size(pt, child) - 1);
	if (whole_end > next) {
		unsigned int one[PT_NEED_SLOTS] = { 0 };

		n = (whole_end - next) >> pt_shift(pt, child);
		tables |= count_new_item(pt, pat, child, next, next + pt_size(pt, child), one);
		for (unsigned int l = child + 1; l < PT_NEED_SLOTS; l++)
			need[l] += (unsigned int)n * one[l];
		next = whole_end;
	}
	if (next < end)
		tables |= count_new_item(pt, pat, child, next, end, need);
	need[PT_NEED_LINKS] += tables;
	return true;
}

/* @t, a real table, gets a child table: its link array, once per op. */
static void count_links(const struct pt_table *t, bool *counted, unsigned int need[PT_NEED_SLOTS])
{
	if (!t->child && !*counted) {
		need[PT_NEED_LINKS]++;
		*counted = true;
	}
}

static int count_map(const struct pt *pt, const struct pt_pat *pat, const struct pt_table *t,
		     uint64_t va, uint64_t end, struct pt_sim *sim)
{
	unsigned int lvl = t->level;
	bool links = false;

	if (lvl == PT_LEAF_LEVEL)
		return pt_leaves_free(pt, t, va, end) ? 0 : -EEXIST;
	while (va < end) {
		uint64_t next = pt_item_end(pt, lvl, va, end);
		unsigned int idx = pt_index(pt, lvl, va);
		const struct pt_table *child = pt_child(t, idx);
		uint64_t desc = t->items[idx];
		int err = 0;

		if (pt_pat_leaf_fits(pt, pat, lvl, va, next)) {
			if (desc & PT_DESC_VALID)
				err = child ? -EAGAIN : -EEXIST;
		} else if (child) {
			if (child->refs > 1)
				return -EAGAIN;
			err = touch(sim, child, va & ~(pt_size(pt, lvl) - 1));
			if (!err)
				err = count_map(pt, pat, child, va, next, sim);
		} else if (desc & PT_DESC_VALID) {
			err = -EEXIST;
		} else {
			count_new(pt, pat, lvl, va, next, sim->need);
			count_links(t, &links, sim->need);
		}
		if (err)
			return err;
		va = next;
	}
	return 0;
}

/*
 * A block at level @lvl cut by [@va, @end): its table of leaves, cut further;
 * that table needs a link array when a cut goes further down.
 */
static void count_split(const struct pt *pt, unsigned int lvl, uint64_t va, uint64_t end,
			unsigned int need[PT_NEED_SLOTS])
{
	unsigned int child = lvl + 1;
	bool tables = false;

	need[child]++;
	if (child == PT_LEAF_LEVEL)
		return;
	while (va < end) {
		uint64_t next = pt_item_end(pt, child, va, end);

		if (!pt_covers_item(pt, child, va, next)) {
			count_split(pt, child, va, next, need);
			tables = true;
		}
		va = next;
	}
	need[PT_NEED_LINKS] += tables;
}

static int count_unmap(const struct pt *pt, const struct pt_table *t, uint64_t va, uint64_t end,
		       struct pt_sim *sim)
{
	unsigned int lvl = t->level;
	bool links = false;

	if (lvl == PT_LEAF_LEVEL)
		return 0;
	while (va < end) {
		uint64_t next = pt_item_end(pt, lvl, va, end);
		unsigned int idx = pt_index(pt, lvl, va);
		const struct pt_table *child = pt_child(t, idx);
		int err = 0;

		if (!(t->items[idx] & PT_DESC_VALID) || pt_covers_item(pt, lvl, va, next)) {
			err = 0;
		} else if (!child) {
			count_split(pt, lvl, va, next, sim->need);
			count_links(t, &links, sim->need);
		} else if (child->refs > 1) {
			err = -EAGAIN;
		} else if (!(err = touch(sim, child, va & ~(pt_size(pt, lvl) - 1)))) {
			err = count_unmap(pt, child, va, next, sim);
		}
		if (err)
			return err;
		va = next;
	}
	return 0;
}

/* The items of @t's level that [@va, @end) touches are all invalid. */
static bool items_free(const struct pt *pt, const struct pt_table *t, uint64_t va, uint64_t end)
{
	unsigned int last = pt_index(pt, t->level, end - 1);
	uint64_t any = 0;

	for (unsigned int i = pt_index(pt, t->level, va); i <= last; i++)
		any |= t->items[i];
	return !(any & PT_DESC_VALID);
}

/* Below the first table: count_map() (a replace too) or count_unmap(), out of the common path's frame. */
static os_noinline int count_below(const struct pt *pt, const struct pt_op *op,
				   const struct pt_table *t, struct pt_sim *sim)
{
	struct pt_pat pat = { .va0 = op->va, .pa0 = op->pa };

	if (op->type == PT_OP_UNMAP)
		return count_unmap(pt, t, op->va, op->va + op->size, sim);
	return count_map(pt, &pat, t, op->va, op->va + op->size, sim);
}

/* Any op the shortcut of pt_fast_count() does not take: go down from the root side. */
static os_noinline int count_descend(struct pt *pt, const struct pt_op *op, struct pt_sim *sim)
{
	uint64_t end = op->va + op->size;
	const struct pt_table *t;

	/*
	 * The levels above would only go down (count_map(), count_unmap()). The
	 * commit starts there too: nothing can change these tables before it.
	 */
	t = pt_descend(pt, op->va, end, sim->fast_record ? sim->path : NULL);
	sim->start = (struct pt_table *)t;
	touch_path(pt, t, op->va, sim); /* fewer than PT_FAST_TOUCHED */
	/* Inside one leaf table, the usual small bind: what count_map() would do there. */
	if (t->level == PT_LEAF_LEVEL)
		return pt_fast_leaf_verdict(pt, op, t);
	/*
	 * A replace above the leaf level: over free items its unmap does nothing
	 * and it counts as a map; else the unmap may drop what the map needs.
	 */
	if (op->type == PT_OP_REPLACE && !items_free(pt, t, op->va, end))
		return -EAGAIN;
	return count_below(pt, op, t, sim);
}

/* An op pt_fast_leaf() took: it starts at @t, and pins the tables down to it. */
static void leaf_claim(const struct pt *pt, const struct pt_op *op, struct pt_table *t,
		       struct pt_sim *sim)
{
	sim->start = t;
	for (unsigned int l = 0; sim->fast_record && l < PT_MAX_LEVELS; l++)
		sim->path[l] = pt->last.path[l];
	touch_path(pt, t, op->va, sim);
}

int pt_fast_count(struct pt *pt, const struct pt_op *op, struct pt_sim *sim)
{
	struct pt_table *t;

	if (op->type == PT_OP_MAP_REPEAT)
		return -EAGAIN;
	/*
	 * Pages inside the leaf table the last descent reached: pt_descend()
	 * would return it (count_descend() does what follows, and records the
	 * path when asked to).
	 */
	t = pt_fast_leaf(pt, op);
	if (t) {
		leaf_claim(pt, op, t, sim);
		return pt_fast_leaf_verdict(pt, op, t);
	}
	return count_descend(pt, op, sim);
}

/*
 * PT_DEBUG_CHECK_RESERVE: the projection (the queue is empty: it is the real
 * tree) must reach the same verdict and count. Memory it takes is given back.
 */
/* Does @sim (the projection's) pin the same tables as @fast? */
static bool same_touched(const struct pt_sim *sim, const struct pt_sim *fast)
{
	if (sim->nr_touched != fast->nr_touched)
		return false;
	for (unsigned int i = 0; i < fast->nr_touched; i++) {
		unsigned int j = 0;

		while (j < sim->nr_touched && sim->touched[j] != fast->fast_touched[i])
			j++;
		if (j == sim->nr_touched)
			return false;
	}
	return true;
}

void pt_fast_check(struct pt *pt, const struct pt_op *op, int fast_err, const struct pt_sim *fast)
{
	unsigned int mark = pt_proj_mark(pt);
	struct pt_sim sim = { .pinner = fast->pinner };
	struct pt_proj *pj;
	int err = pt_proj_get(pt, &pj);

	if (!err)
		err = pt_proj_run(pj, op, &sim);
	if (!err && !fast_err) {
		for (unsigned int l = 0; l < PT_NEED_SLOTS && !err; l++)
			err = sim.need[l] != fast->need[l] ? -EPROTO : 0;
		if (!err && !same_touched(&sim, fast))
			err = -EPROTO;
	}
	pt_proj_abandon(pt, mark);
	if (err == -ENOMEM || err == fast_err)
		return;
	os_fatal("gpuvm: pt_reserve fast path disagrees with the projection: op %d va 0x%llx "
		 "size 0x%llx: %d against %d\n",
		 op->type, (unsigned long long)op->va, (unsigned long long)op->size, fast_err, err);
}

/*
 * The same check for pt_resv.c's reservation of an op pt_fast_leaf() took,
 * which counts nothing (no table, the pins of leaf_claim()) and decided @err.
 */
void pt_fast_leaf_check(struct pt *pt, const struct pt_op *op, struct pt_table *t, int err,
			const void *pinner)
{
	struct pt_sim sim;

	pt_sim_init(&sim, pinner);
	sim.fast_record = true;
	leaf_claim(pt, op, t, &sim);
	pt_fast_check(pt, op, err, &sim);
}
