// SPDX-License-Identifier: MIT
/*
 * Descriptor encode/decode for callers, the invariant checker and the dump.
 */

#include "pt_internal.h"

static bool level_ok(const struct pt *pt, unsigned int level)
{
	return level >= pt->geo.start_level && level <= PT_LEAF_LEVEL;
}

static bool oa_ok(const struct pt *pt, unsigned int level, uint64_t addr, uint64_t size)
{
	return !(addr & (pt_size(pt, level) - 1)) && addr + size <= (1ull << pt->cfg.oas) &&
	       !(addr & ~pt->oa_mask);
}

int pt_encode_entry(const struct pt *pt, unsigned int level, const struct pt_entry *e,
		    uint64_t *desc)
{
	if (!level_ok(pt, level))
		return -EINVAL;
	switch (e->type) {
	case PT_ENTRY_INVALID:
		*desc = 0;
		return 0;
	case PT_ENTRY_TABLE:
		if (level == PT_LEAF_LEVEL || (e->addr & ~pt->oa_mask) ||
		    e->addr >= (1ull << pt->cfg.oas))
			return -EINVAL;
		*desc = pt_table_desc(pt, e->addr);
		return 0;
	case PT_ENTRY_LEAF:
		if (!pt_leaf_allowed(pt, level) || !oa_ok(pt, level, e->addr, pt_size(pt, level)) ||
		    pt_prot_check(pt, e->prot))
			return -EINVAL;
		*desc = pt_leaf_desc(pt, level, e->addr, pt->attrs_of_prot[e->prot]);
		return 0;
	}
	return -EINVAL;
}

int pt_decode_entry(const struct pt *pt, unsigned int level, uint64_t desc, struct pt_entry *e)
{
	struct pt_entry out = { .type = PT_ENTRY_INVALID };
	uint64_t again;

	if (!level_ok(pt, level))
		return -EINVAL;
	if (desc & PT_DESC_VALID) {
		out.type = pt_desc_type(pt, level, desc);
		if (out.type == PT_ENTRY_INVALID)
			return -EINVAL; /* a valid-bit pattern the level does not have */
		out.addr = pt_desc_addr(pt, desc);
		if (out.type == PT_ENTRY_LEAF)
			out.prot = pt_leaf_prot(pt, desc);
		/* Well formed means: exactly what we would have written. */
		if (pt_encode_entry(pt, level, &out, &again) || again != desc)
			return -EINVAL;
	}
	*e = out;
	return 0;
}

/* Tables seen by a validation, with how many items point at each. */
struct seen {
	const struct pt_table **tab;
	uint32_t *visits;
	size_t cap, nr;
};

static size_t seen_slot(const struct seen *s, const struct pt_table *t)
{
	size_t i = (size_t)os_mod_u64(((uintptr_t)t >> 4) * 0x9e3779b97f4a7c15ull, s->cap);

	while (s->tab[i] && s->tab[i] != t)
		i = (i + 1) % s->cap;
	return i;
}

/* Count one more visit of @t; return true on the first. */
static bool seen_visit(struct seen *s, const struct pt_table *t)
{
	size_t i = seen_slot(s, t);

	if (s->tab[i]) {
		s->visits[i]++;
		return false;
	}
	s->tab[i] = t;
	s->visits[i] = 1;
	s->nr++;
	return true;
}

struct check {
	const struct pt *pt;
	pt_print_fn *print;
	void *ctx;
	struct seen seen;
};

static int fail(struct check *c, const struct pt_table *t, int idx, const char *what)
{
	if (c->print)
		c->print(c->ctx, "pt_validate: level %u table at pa 0x%" OS_PRIx64 " item %d: %s\n",
			 t->level, t->pa, idx, what);
	return -EUCLEAN;
}

static int check_table(struct check *c, const struct pt_table *t);

static int check_item(struct check *c, const struct pt_table *t, unsigned int i, unsigned int *live)
{
	const struct pt *pt = c->pt;
	const struct pt_table *child = t->level < PT_LEAF_LEVEL ? pt_child(t, i) : NULL;
	struct pt_entry e;

	if (pt_decode_entry(pt, t->level, t->items[i], &e))
		return fail(c, t, (int)i, "malformed descriptor");
	if (e.type == PT_ENTRY_INVALID)
		return t->items[i] || child ? fail(c, t, (int)i, "stale invalid item") : 0;
	++*live;
	if (e.type == PT_ENTRY_LEAF)
		return child ? fail(c, t, (int)i, "leaf with child metadata") : 0;
	if (!child || child->pa != e.addr || child->level != t->level + 1)
		return fail(c, t, (int)i, "table entry and child metadata disagree");
	return seen_visit(&c->seen, child) ? check_table(c, child) : 0;
}

static int check_table(struct check *c, const struct pt_table *t)
{
	const struct pt *pt = c->pt;
	bool root = t == pt->root;
	unsigned int live = 0;
	int err;

	if (t->pa & ((root ? pt->geo.top_align : pt_table_bytes(pt, t->level)) - 1))
		return fail(c, t, -1, "misaligned table");
	for (unsigned int i = 0; i < pt_nitems(pt, t->level); i++) {
		err = check_item(c, t, i, &live);
		if (err)
			return err;
	}
	if (live != t->live)
		return fail(c, t, -1, "live count differs from the valid entries");
	if (!live && !root && !t->pins)
		return fail(c, t, -1, "empty table left linked");
	return 0;
}

static int check_refs(struct check *c)
{
	const struct pt *pt = c->pt;
	unsigned int shared = 0;

	for (size_t i = 0; i < c->seen.cap; i++) {
		const struct pt_table *t = c->seen.tab[i];

		if (t && c->seen.visits[i] != t->refs)
			return fail(c, t, -1, "refcount differs from the items pointing here");
		shared += t && t->refs > 1;
	}
	if (shared != pt->shared)
		return fail(c, pt->root, -1, "shared table count differs from the tables shared");
	/* Reservations hold tables off the tree (stock, orphans, to free). */
	if (!pt->resv_alive && c->seen.nr != pt->stats.tables)
		return fail(c, pt->root, -1, "table count differs from the tables reachable");
	return 0;
}

int pt_validate(const struct pt *pt, pt_print_fn *print, void *ctx)
{
	struct check c = { .pt = pt, .print = print, .ctx = ctx };
	int err;

	c.seen.cap = 2 * pt->stats.tables + 16;
	c.seen.tab = os_calloc(c.seen.cap, sizeof(*c.seen.tab));
	c.seen.visits = os_calloc(c.seen.cap, sizeof(*c.seen.visits));
	if (!c.seen.tab || !c.seen.visits) {
		err = -ENOMEM;
		goto out;
	}
	seen_visit(&c.seen, pt->root);
	if (pt->root->level != pt->geo.start_level)
		err = fail(&c, pt->root, -1, "root at the wrong level");
	else
		err = check_table(&c, pt->root);
	if (!err)
		err = check_refs(&c);
out:
	os_free(c.seen.tab);
	os_free(c.seen.visits);
	return err;
}

/*
 * Items [i, end) continue the leaf in item i: the next addresses with the same
 * attributes, or (a repeated pattern) the very same descriptor.
 */
static unsigned int leaf_run(const struct pt *pt, const struct pt_table *t, unsigned int i,
			     bool *same)
{
	uint64_t step = pt_size(pt, t->level);
	unsigned int j = i + 1;

	*same = j < pt_nitems(pt, t->level) && t->items[j] == t->items[i];
	step = *same ? 0 : step;
	while (j < pt_nitems(pt, t->level) && t->items[j] == t->items[i] + (j - i) * step)
		j++;
	return j;
}

struct dump {
	const struct pt *pt;
	pt_print_fn *print;
	void *ctx;
	struct seen shared; /* shared tables printed already */
};

static void dump_prot(const struct dump *d, uint32_t prot)
{
	d->print(d->ctx, "%c%c%c%s%s%s", prot & PT_PROT_READ ? 'r' : '-',
		 prot & PT_PROT_WRITE ? 'w' : '-', prot & PT_PROT_EXEC ? 'x' : '-',
		 prot & PT_PROT_CACHE ? " cached" : "", prot & PT_PROT_MMIO ? " mmio" : "",
		 prot & PT_PROT_PRIV ? " priv" : "");
}

static void dump_table(struct dump *d, const struct pt_table *t, uint64_t base);

/* Items [i, end) point at the same table as item i. */
static unsigned int table_run(const struct pt *pt, const struct pt_table *t, unsigned int i)
{
	unsigned int j = i + 1;

	while (j < pt_nitems(pt, t->level) && pt_child(t, j) == pt_child(t, i))
		j++;
	return j;
}

static void dump_range(struct dump *d, const struct pt_table *t, unsigned int i, unsigned int end,
		       uint64_t va)
{
	d->print(d->ctx, "%*sL%u [%u", (int)(2 * (t->level - d->pt->geo.start_level)), "", t->level,
		 i);
	if (end - 1 > i)
		d->print(d->ctx, "-%u", end - 1);
	d->print(d->ctx, "] va 0x%" OS_PRIx64 " +0x%" OS_PRIx64, va,
		 (uint64_t)(end - i) << pt_shift(d->pt, t->level));
}

/*
 * A shared table is printed under the first item that points at it; later
 * items (and runs of items) only name it, so 1 TiB of one dummy page is a
 * few lines, not a million.
 */
static void dump_child(struct dump *d, const struct pt_table *c, uint64_t va)
{
	d->print(d->ctx, " table pa 0x%" OS_PRIx64 " live %u", c->pa, c->live);
	if (c->refs > 1) {
		d->print(d->ctx, " shared by %u items", c->refs);
		if (d->shared.tab && !seen_visit(&d->shared, c)) {
			d->print(d->ctx, ", shown above\n");
			return;
		}
	}
	d->print(d->ctx, "\n");
	dump_table(d, c, va);
}

static unsigned int dump_item(struct dump *d, const struct pt_table *t, unsigned int i,
			      uint64_t base)
{
	const struct pt *pt = d->pt;
	uint64_t va = base + ((uint64_t)i << pt_shift(pt, t->level));
	uint64_t desc = t->items[i];
	unsigned int end;

	if (pt_desc_type(pt, t->level, desc) == PT_ENTRY_LEAF) {
		bool same;

		end = leaf_run(pt, t, i, &same);
		dump_range(d, t, i, end, va);
		d->print(d->ctx, " -> pa 0x%" OS_PRIx64 "%s ", pt_desc_addr(pt, desc),
			 same ? " repeated" : "");
		dump_prot(d, pt_leaf_prot(pt, desc));
		d->print(d->ctx, "\n");
		return end;
	}
	end = table_run(pt, t, i);
	dump_range(d, t, i, end, va);
	dump_child(d, pt_child(t, i), va);
	return end;
}

static void dump_table(struct dump *d, const struct pt_table *t, uint64_t base)
{
	unsigned int i = 0;

	while (i < pt_nitems(d->pt, t->level)) {
		if (t->items[i] & PT_DESC_VALID)
			i = dump_item(d, t, i, base);
		else
			i++;
	}
}

void pt_dump(const struct pt *pt, pt_print_fn *print, void *ctx)
{
	struct dump d = { .pt = pt, .print = print, .ctx = ctx };

	/* Without memory for the set, shared tables print under every alias. */
	d.shared.cap = 2 * pt->stats.tables + 16;
	d.shared.tab = os_calloc(d.shared.cap, sizeof(*d.shared.tab));
	d.shared.visits = os_calloc(d.shared.cap, sizeof(*d.shared.visits));
	if (!d.shared.tab || !d.shared.visits) {
		os_free(d.shared.tab);
		d.shared.tab = NULL;
	}
	print(ctx,
	      "%s granule %uK ias %u oas %u: %u levels from L%u, top %zu bytes at pa 0x%" OS_PRIx64
	      ", %" OS_PRIu64 " tables\n",
	      pt->fmt->name, 1u << (pt->geo.granule_lg2 - 10), pt->cfg.ias, pt->cfg.oas,
	      pt->geo.levels, pt->geo.start_level, pt->geo.top_bytes, pt->root->pa,
	      pt->stats.tables);
	dump_table(&d, pt->root, 0);
	os_free(d.shared.tab);
	os_free(d.shared.visits);
}
