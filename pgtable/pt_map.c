// SPDX-License-Identifier: MIT
/*
 * pt_map(): map a range with the largest leaf each aligned chunk allows.
 *
 *   VA  0x1ff000            0x200000                     0x400000  0x401000
 *       | 4K page (level 3) | 2M block (level 2) ......... | 4K page |
 *
 * A chunk becomes a leaf at level l when the VA and PA are both aligned to the
 * level's size, the chunk covers the whole item, and the format allows a leaf
 * there; otherwise it goes one level down. The walk runs twice: once read-only
 * to refuse live items and count the tables needed, once to write, with the
 * tables taken beforehand, so the second cannot fail.
 */
#include <errno.h>
#include <string.h>

#include "pt_internal.h"

struct map_op {
	struct pt *pt;
	struct pt_stock *stock;
	uint64_t attrs; /* attribute bits of every leaf */
};

static bool leaf_fits(const struct pt *pt, unsigned int lvl, uint64_t va, uint64_t end,
		      uint64_t pa)
{
	uint64_t mask = pt_size(pt, lvl) - 1;

	return pt_leaf_allowed(pt, lvl) && !((va | pa) & mask) && end - va > mask;
}

static int check_leaves_free(const struct pt *pt, const struct pt_table *t, uint64_t va,
			     uint64_t end)
{
	unsigned int first = pt_index(pt, PT_LEAF_LEVEL, va);
	unsigned int n = (unsigned int)((end - va) >> pt_shift(pt, PT_LEAF_LEVEL));

	if (!t->live)
		return 0;
	for (unsigned int i = first; i < first + n; i++)
		if (t->items[i] & PT_DESC_VALID)
			return -EEXIST;
	return 0;
}

/*
 * Count into @need the tables mapping [@va, @end) -> @pa needs below @t, a
 * table at level @lvl, or NULL for a table this map creates (empty).
 */
static int map_count(const struct pt *pt, const struct pt_table *t, unsigned int lvl,
		     uint64_t va, uint64_t end, uint64_t pa, unsigned int *need)
{
	if (lvl == PT_LEAF_LEVEL)
		return t ? check_leaves_free(pt, t, va, end) : 0;
	while (va < end) {
		uint64_t next = pt_item_end(pt, lvl, va, end);
		unsigned int idx = pt_index(pt, lvl, va);
		enum pt_entry_type type = t ? pt_desc_type(pt, lvl, t->items[idx]) : PT_ENTRY_INVALID;
		int err = 0;

		if (type == PT_ENTRY_LEAF)
			return -EEXIST;
		if (leaf_fits(pt, lvl, va, next, pa)) {
			/* A linked table always holds a live entry somewhere in its span. */
			if (type == PT_ENTRY_TABLE)
				return -EEXIST;
		} else if (type == PT_ENTRY_TABLE) {
			err = map_count(pt, pt_child(t, idx), lvl + 1, va, next, pa, need);
		} else {
			need[lvl + 1]++;
			err = map_count(pt, NULL, lvl + 1, va, next, pa, need);
		}
		if (err)
			return err;
		pa += next - va;
		va = next;
	}
	return 0;
}

/*
 * Write @n consecutive leaves. A table nobody can see yet takes plain stores
 * (the compiler may vectorize them); a linked one takes single 64-bit stores.
 */
static void write_leaves(const struct pt *pt, struct pt_table *t, unsigned int lvl,
			 unsigned int first, unsigned int n, uint64_t desc, bool fresh)
{
	uint64_t step = pt_size(pt, lvl);
	uint64_t *item = &t->items[first];

	if (fresh) {
		for (unsigned int i = 0; i < n; i++)
			item[i] = desc + i * step;
	} else {
		for (unsigned int i = 0; i < n; i++)
			pt_store(&item[i], desc + i * step);
	}
	t->live += n;
}

/* A table from the stock for the item covering [@va, @end), zeroed where the map will not write. */
static struct pt_table *new_table(struct map_op *op, unsigned int lvl, uint64_t va,
				  uint64_t end)
{
	const struct pt *pt = op->pt;
	struct pt_table *t = pt_stock_take(op->pt, op->stock, lvl);
	unsigned int first = pt_index(pt, lvl, va);
	unsigned int last = pt_index(pt, lvl, end - 1) + 1;

	memset(t->items, 0, first * sizeof(uint64_t));
	memset(&t->items[last], 0, (pt_nitems(pt, lvl) - last) * sizeof(uint64_t));
	return t;
}

static void map_commit(struct map_op *op, struct pt_table *t, unsigned int lvl, uint64_t va,
		       uint64_t end, uint64_t pa, bool fresh);

/* One item of a table above the leaf level; return whether the item itself was written. */
static bool map_item(struct map_op *op, struct pt_table *t, unsigned int lvl, unsigned int idx,
		     uint64_t va, uint64_t end, uint64_t pa)
{
	struct pt *pt = op->pt;
	struct pt_table *child;

	if (leaf_fits(pt, lvl, va, end, pa)) {
		pt_store(&t->items[idx], pt_leaf_desc(pt, lvl, pa, op->attrs));
		t->live++;
		return true;
	}
	if (pt_child(t, idx)) {
		/*
		 * Ask the metadata, not the item: the items a fresh table's range
		 * covers still hold what the allocator left in them.
		 */
		map_commit(op, pt_child(t, idx), lvl + 1, va, end, pa, false);
		return false;
	}
	child = new_table(op, lvl + 1, va, end);
	map_commit(op, child, lvl + 1, va, end, pa, true);
	pt_link_table(pt, t, idx, child);
	t->live++;
	return true;
}

/*
 * Map [@va, @end) -> @pa into @t. @fresh: @t is not linked yet (it is synced as
 * a whole when it is), so its writes need neither atomicity nor per-run syncs.
 */
static void map_commit(struct map_op *op, struct pt_table *t, unsigned int lvl, uint64_t va,
		       uint64_t end, uint64_t pa, bool fresh)
{
	const struct pt *pt = op->pt;
	unsigned int idx = pt_index(pt, lvl, va);
	unsigned int lo = idx, hi = idx; /* the run of items written */

	if (lvl == PT_LEAF_LEVEL) {
		unsigned int n = (unsigned int)((end - va) >> pt_shift(pt, lvl));

		write_leaves(pt, t, lvl, idx, n, pt_leaf_desc(pt, lvl, pa, op->attrs), fresh);
		hi += n;
	} else {
		/*
		 * Only the first and the last item can lead into an existing table
		 * (any other is covered whole), so the items written form one run.
		 */
		for (; va < end; idx++) {
			uint64_t next = pt_item_end(pt, lvl, va, end);

			if (map_item(op, t, lvl, idx, va, next, pa)) {
				lo = hi == lo ? idx : lo;
				hi = idx + 1;
			}
			pa += next - va;
			va = next;
		}
	}
	if (!fresh)
		pt_sync_items(pt, t, lo, hi);
}

static int check_map_args(const struct pt *pt, uint64_t va, uint64_t pa, uint64_t size,
			  uint32_t prot)
{
	uint64_t pa_end;
	int err = pt_check_va_range(pt, va, size);

	if (err)
		return err;
	if (pa & ((1ull << pt->geo.granule_lg2) - 1))
		return -EINVAL;
	if (__builtin_add_overflow(pa, size, &pa_end) || pa_end > (1ull << pt->cfg.oas))
		return -ERANGE;
	return pt_prot_check(pt, prot);
}

int pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, uint32_t prot)
{
	unsigned int need[PT_MAX_LEVELS] = {0};
	struct pt_stock stock = {0};
	struct map_op op = {.pt = pt, .stock = &stock};
	struct pt_gather g;
	int err = check_map_args(pt, va, pa, size, prot);

	if (err)
		return err;
	err = map_count(pt, pt->root, pt->geo.start_level, va, va + size, pa, need);
	if (err)
		return err;
	err = pt_stock_fill(pt, &stock, need);
	if (err)
		return err;
	op.attrs = pt->fmt->leaf_attrs(pt, prot);
	pt_gather_init(&g);
	map_commit(&op, pt->root, pt->geo.start_level, va, va + size, pa, false);
	for (unsigned int l = 0; l < PT_MAX_LEVELS; l++)
		assert(!stock.count[l] && "a map used fewer tables than it counted");
	/* Mali-class walkers may cache a fault: new leaves need a flush too. */
	pt_gather_range(&g, va, va + size, true);
	pt_gather_finish(pt, &g);
	return 0;
}
