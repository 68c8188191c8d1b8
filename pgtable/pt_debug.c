// SPDX-License-Identifier: MIT
/*
 * Descriptor encode/decode for callers, the invariant checker and the dump.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

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
		*desc = pt_leaf_desc(pt, level, e->addr, pt->fmt->leaf_attrs(pt, e->prot));
		return 0;
	}
	return -EINVAL;
}

int pt_decode_entry(const struct pt *pt, unsigned int level, uint64_t desc,
		    struct pt_entry *e)
{
	struct pt_entry out = {.type = PT_ENTRY_INVALID};
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
	size_t i = ((uintptr_t)t >> 4) * 0x9e3779b97f4a7c15ull % s->cap;

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
	FILE *report;
	struct seen seen;
};

static int fail(struct check *c, const struct pt_table *t, int idx, const char *what)
{
	if (c->report)
		fprintf(c->report,
			"pt_validate: level %u table at pa 0x%" PRIx64 " item %d: %s\n",
			t->level, t->pa, idx, what);
	return -EUCLEAN;
}

static int check_table(struct check *c, const struct pt_table *t);

static int check_item(struct check *c, const struct pt_table *t, unsigned int i,
		      unsigned int *live)
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

	for (size_t i = 0; i < c->seen.cap; i++) {
		const struct pt_table *t = c->seen.tab[i];

		if (t && c->seen.visits[i] != t->refs)
			return fail(c, t, -1, "refcount differs from the items pointing here");
	}
	/* Reservations hold tables off the tree (stock, orphans, to free). */
	if (!pt->resv_alive && c->seen.nr != pt->stats.tables)
		return fail(c, pt->root, -1, "table count differs from the tables reachable");
	return 0;
}

int pt_validate(const struct pt *pt, FILE *report)
{
	struct check c = {.pt = pt, .report = report};
	int err;

	c.seen.cap = 2 * pt->stats.tables + 16;
	c.seen.tab = calloc(c.seen.cap, sizeof(*c.seen.tab));
	c.seen.visits = calloc(c.seen.cap, sizeof(*c.seen.visits));
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
	free(c.seen.tab);
	free(c.seen.visits);
	return err;
}

static void dump_prot(FILE *out, uint32_t prot)
{
	fprintf(out, "%c%c%c%s%s%s", prot & PT_PROT_READ ? 'r' : '-',
		prot & PT_PROT_WRITE ? 'w' : '-', prot & PT_PROT_EXEC ? 'x' : '-',
		prot & PT_PROT_CACHE ? " cached" : "", prot & PT_PROT_MMIO ? " mmio" : "",
		prot & PT_PROT_PRIV ? " priv" : "");
}

/* Items [i, end) continue the leaf in item i with the next addresses and same attributes. */
static unsigned int leaf_run(const struct pt *pt, const struct pt_table *t, unsigned int i)
{
	uint64_t step = pt_size(pt, t->level);
	unsigned int j = i + 1;

	while (j < pt_nitems(pt, t->level) && t->items[j] == t->items[i] + (j - i) * step)
		j++;
	return j;
}

static void dump_table(const struct pt *pt, const struct pt_table *t, uint64_t base,
		       FILE *out);

static void dump_item(const struct pt *pt, const struct pt_table *t, unsigned int *i,
		      uint64_t base, FILE *out)
{
	unsigned int lvl = t->level, end = *i + 1;
	uint64_t va = base + ((uint64_t)*i << pt_shift(pt, lvl));
	uint64_t desc = t->items[*i];

	fprintf(out, "%*sL%u [%u", (int)(2 * (lvl - pt->geo.start_level)), "", lvl, *i);
	if (pt_desc_type(pt, lvl, desc) == PT_ENTRY_LEAF) {
		end = leaf_run(pt, t, *i);
		if (end - 1 > *i)
			fprintf(out, "-%u", end - 1);
		fprintf(out, "] va 0x%" PRIx64 " +0x%" PRIx64 " -> pa 0x%" PRIx64 " ", va,
			(uint64_t)(end - *i) << pt_shift(pt, lvl), pt_desc_addr(pt, desc));
		dump_prot(out, pt_leaf_prot(pt, desc));
		fputc('\n', out);
	} else {
		const struct pt_table *c = pt_child(t, *i);

		fprintf(out, "] va 0x%" PRIx64 " table pa 0x%" PRIx64 " live %u%s\n", va, c->pa,
			c->live, c->refs > 1 ? " shared" : "");
		dump_table(pt, c, va, out);
	}
	*i = end;
}

static void dump_table(const struct pt *pt, const struct pt_table *t, uint64_t base, FILE *out)
{
	unsigned int i = 0;

	while (i < pt_nitems(pt, t->level)) {
		if (t->items[i] & PT_DESC_VALID)
			dump_item(pt, t, &i, base, out);
		else
			i++;
	}
}

void pt_dump(const struct pt *pt, FILE *out)
{
	fprintf(out, "%s granule %uK ias %u oas %u: %u levels from L%u, top %zu bytes at pa 0x%" PRIx64
		", %" PRIu64 " tables\n",
		pt->fmt->name, 1u << (pt->geo.granule_lg2 - 10), pt->cfg.ias, pt->cfg.oas,
		pt->geo.levels, pt->geo.start_level, pt->geo.top_bytes, pt->root->pa,
		pt->stats.tables);
	dump_table(pt, pt->root, 0, out);
}
