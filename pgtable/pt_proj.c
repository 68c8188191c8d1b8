// SPDX-License-Identifier: MIT
/*
 * The projection (DOC: projection in pt_proj.h): reserved ops simulated on
 * projected tables, to count exactly what their commits will take.
 *
 * Each simulation below mirrors one decision of the commit:
 *
 *   commit (pt_map.c, pt_unmap.c)          projection (here)
 *   map_item: leaf fits                    sim_map_item: PK_LEAF
 *   map_item: descend, copy if shared      writable_child: count a copy
 *   map_item: shared template              sim_map_template: count once
 *   map_item: new table                    count, PK_FULL_LEAVES or a pnode
 *   split_block                            sim_cut_item on PK_LEAF: count
 *   cut_item: drop an emptied child        ... unless it stays (pinned)
 *   pt_links_ensure: a table's first child link_item: count its link array
 *   pt_replace_commit: unmap, then map     sim_unmap_range, then sim_map_range
 */
#include <stdalign.h>

#include "pt_proj.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	alignas(16) unsigned char data[];
};

struct pt_proj {
	struct pt *pt;
	struct arena_chunk *chunks; /* newest first */
	unsigned int nr_chunks;
	struct pt_pnode **hash; /* real table -> pnode */
	unsigned int hash_bits, hash_nr;
	struct pt_pnode *root;
};

/* One simulated op: what it knows while it runs. */
struct sim {
	struct pt_proj *pj;
	const struct pt *pt;
	struct pt_sim *out;
	struct pt_pat pat;
	struct pt_pnode *tmpl[PT_MAX_LEVELS];
};

#define ARENA_CHUNK_BYTES 16384u

/*
 * The projection's memory: bump allocation from chunks that are kept when the
 * projection goes stale, so a one-op reservation does not allocate each time.
 * Memory is not zeroed: every object is fully initialized by its maker.
 */
static void *arena_alloc(struct pt_proj *pj, size_t size)
{
	size_t need = (size + 15) & ~(size_t)15;
	struct arena_chunk *c = pj->chunks;

	while (c && c->size - c->used < need)
		c = c->next;
	if (!c) {
		size_t bytes = need > ARENA_CHUNK_BYTES ? need : ARENA_CHUNK_BYTES;

		c = pt_host_zalloc(&pj->pt->cfg, sizeof(*c) + bytes);
		if (!c)
			return NULL;
		c->size = bytes;
		pj->pt->stats.meta_bytes += sizeof(*c) + bytes;
		c->next = pj->chunks;
		pj->chunks = c;
		pj->nr_chunks++;
	}
	c->used += need;
	return c->data + c->used - need;
}

static void arena_reset(struct pt_proj *pj)
{
	for (struct arena_chunk *c = pj->chunks; c; c = c->next)
		c->used = 0;
}

/* Free the chunks beyond the first @keep (the newest go first). */
static void arena_trim(struct pt_proj *pj, unsigned int keep)
{
	while (pj->nr_chunks > keep) {
		struct arena_chunk *c = pj->chunks;

		pj->chunks = c->next;
		pj->nr_chunks--;
		pj->pt->stats.meta_bytes -= sizeof(*c) + c->size;
		pt_host_free(&pj->pt->cfg, c);
	}
}

static unsigned int hash_slot(const struct pt_proj *pj, const struct pt_table *real)
{
	return (unsigned int)((((uintptr_t)real >> 4) * 0x9e3779b97f4a7c15ull) >>
			      (64 - pj->hash_bits));
}

static int hash_grow(struct pt_proj *pj)
{
	unsigned int old_bits = pj->hash_bits;
	struct pt_pnode **old = pj->hash;
	struct pt_pnode **tab = arena_alloc(pj, sizeof(*tab) << (old_bits + 1));

	if (!tab)
		return -ENOMEM;
	memset(tab, 0, sizeof(*tab) << (old_bits + 1));
	pj->hash = tab;
	pj->hash_bits = old_bits + 1;
	for (size_t i = 0; old && i < ((size_t)1 << old_bits); i++) {
		while (old[i]) {
			struct pt_pnode *n = old[i];
			unsigned int s = hash_slot(pj, n->real);

			old[i] = n->hnext;
			n->hnext = tab[s];
			tab[s] = n;
		}
	}
	return 0;
}

static struct pt_pnode *hash_find(const struct pt_proj *pj, const struct pt_table *real)
{
	struct pt_pnode *n = pj->hash[hash_slot(pj, real)];

	while (n && n->real != real)
		n = n->hnext;
	return n;
}

static struct pt_pnode *pnode_new(struct pt_proj *pj, unsigned int lvl, uint8_t base, uint32_t live)
{
	struct pt_pnode *n = arena_alloc(pj, sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->level = (uint8_t)lvl;
		n->base = base;
		n->live = live;
		n->refs = 1;
		n->created = true;
	}
	return n;
}

/* Remember that the op being reserved relies on @n's real table. */
static int touch(struct sim *s, struct pt_pnode *n, uint64_t pos)
{
	struct pt_sim *o = s->out;

	if (n->created || !o->pinner || n->pinner == o->pinner || n->real == s->pt->root)
		return 0;
	if (o->nr_touched == o->cap_touched) {
		unsigned int cap = o->cap_touched ? 2 * o->cap_touched : 16;
		struct pt_table **t = arena_alloc(s->pj, cap * sizeof(*t));
		uint64_t *va = arena_alloc(s->pj, cap * sizeof(*va));

		if (!t || !va)
			return -ENOMEM;
		if (o->nr_touched) {
			memcpy(t, o->touched, o->nr_touched * sizeof(*t));
			memcpy(va, o->touched_va, o->nr_touched * sizeof(*va));
		}
		o->touched = t;
		o->touched_va = va;
		o->cap_touched = cap;
	}
	o->touched[o->nr_touched] = (struct pt_table *)n->real;
	o->touched_va[o->nr_touched++] = pos;
	n->pinner = o->pinner;
	return 0;
}

/* The pnode of a real table, made on first use. */
static struct pt_pnode *pnode_of_real(struct pt_proj *pj, const struct pt_table *real)
{
	struct pt_pnode *n = hash_find(pj, real);

	if (n)
		return n;
	if (pj->hash_nr >= (2u << pj->hash_bits) && hash_grow(pj))
		return NULL;
	n = arena_alloc(pj, sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->real = real;
	n->level = real->level;
	n->live = real->live;
	n->refs = real->refs;
	n->links = real->child != NULL;
	n->base = PK_INVALID;
	n->hnext = pj->hash[hash_slot(pj, real)];
	pj->hash[hash_slot(pj, real)] = n;
	pj->hash_nr++;
	return n;
}

/* Index of the first run that ends after @idx. */
static uint32_t run_search(const struct pt_pnode *n, uint32_t idx)
{
	uint32_t lo = 0, hi = n->nruns;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (n->runs[mid].end <= idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct pt_prun *run_at(const struct pt_pnode *n, uint32_t idx)
{
	uint32_t i = run_search(n, idx);

	return i < n->nruns && n->runs[i].first <= idx ? &n->runs[i] : NULL;
}

static uint8_t real_kind(const struct pt *pt, const struct pt_pnode *n, uint32_t idx)
{
	switch (pt_desc_type(pt, n->level, n->real->items[idx])) {
	case PT_ENTRY_TABLE:
		return PK_TABLE;
	case PT_ENTRY_LEAF:
		return PK_LEAF;
	default:
		return PK_INVALID;
	}
}

static uint8_t item_kind(const struct pt *pt, const struct pt_pnode *n, uint32_t idx)
{
	const struct pt_prun *r = run_at(n, idx);

	if (r)
		return r->kind;
	return n->real ? real_kind(pt, n, idx) : n->base;
}

/* Valid items in [@a, @b) not covered by a run. */
static uint32_t base_valid(const struct pt *pt, const struct pt_pnode *n, uint32_t a, uint32_t b)
{
	uint32_t valid = 0;

	if (!n->real)
		return n->base == PK_INVALID ? 0 : b - a;
	if (a == 0 && b == pt_nitems(pt, n->level))
		return n->real->live;
	for (uint32_t i = a; i < b; i++)
		valid += (n->real->items[i] & PT_DESC_VALID) != 0;
	return valid;
}

static uint32_t count_valid(const struct pt *pt, const struct pt_pnode *n, uint32_t a, uint32_t b)
{
	uint32_t valid = 0, i = run_search(n, a);

	while (a < b) {
		if (i < n->nruns && n->runs[i].first <= a) {
			uint32_t e = n->runs[i].end < b ? n->runs[i].end : b;

			valid += n->runs[i].kind != PK_INVALID ? e - a : 0;
			a = e;
			i++;
		} else {
			uint32_t e = i < n->nruns && n->runs[i].first < b ? n->runs[i].first : b;

			valid += base_valid(pt, n, a, e);
			a = e;
		}
	}
	return valid;
}

static int runs_reserve(struct pt_proj *pj, struct pt_pnode *n, uint32_t more)
{
	struct pt_prun *runs;
	uint32_t cap;

	if (n->nruns + more <= n->cap_runs)
		return 0;
	cap = n->cap_runs ? 2 * n->cap_runs : 4;
	while (cap < n->nruns + more)
		cap *= 2;
	runs = arena_alloc(pj, cap * sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	if (n->nruns)
		memcpy(runs, n->runs, n->nruns * sizeof(*runs));
	n->runs = runs;
	n->cap_runs = cap;
	return 0;
}

static bool runs_join(const struct pt_prun *a, const struct pt_prun *b)
{
	return a->end == b->first && a->kind == b->kind && a->child == b->child;
}

/* Merge run @i with its neighbours where they continue each other. */
static void runs_merge_at(struct pt_pnode *n, uint32_t i)
{
	if (i + 1 < n->nruns && runs_join(&n->runs[i], &n->runs[i + 1])) {
		n->runs[i].end = n->runs[i + 1].end;
		memmove(&n->runs[i + 1], &n->runs[i + 2], (n->nruns - i - 2) * sizeof(n->runs[0]));
		n->nruns--;
	}
	if (i > 0 && runs_join(&n->runs[i - 1], &n->runs[i])) {
		n->runs[i - 1].end = n->runs[i].end;
		memmove(&n->runs[i], &n->runs[i + 1], (n->nruns - i - 1) * sizeof(n->runs[0]));
		n->nruns--;
	}
}

/*
 * Items [@a, @b) of @n become @kind (pointing at @child), replacing what runs
 * said there; the live count follows. Reference counts are the caller's.
 */
static int set_items(struct pt_proj *pj, struct pt_pnode *n, uint32_t a, uint32_t b, uint8_t kind,
		     struct pt_pnode *child)
{
	uint32_t i = run_search(n, a), j = i, k = 0;
	struct pt_prun repl[3];

	if (runs_reserve(pj, n, 2))
		return -ENOMEM;
	n->live = n->live - count_valid(pj->pt, n, a, b) + (kind != PK_INVALID ? b - a : 0);
	while (j < n->nruns && n->runs[j].first < b)
		j++;
	if (i < j && n->runs[i].first < a) {
		repl[k] = n->runs[i];
		repl[k++].end = a;
	}
	repl[k++] = (struct pt_prun){ .first = a, .end = b, .kind = kind, .child = child };
	if (i < j && n->runs[j - 1].end > b) {
		repl[k] = n->runs[j - 1];
		repl[k++].first = b;
	}
	memmove(&n->runs[i + k], &n->runs[j], (n->nruns - j) * sizeof(n->runs[0]));
	memcpy(&n->runs[i], repl, k * sizeof(repl[0]));
	n->nruns = n->nruns - (j - i) + k;
	runs_merge_at(n, i + (repl[0].first < a ? 1 : 0));
	return 0;
}

/* The pnode an item of kind PK_TABLE points at. */
static struct pt_pnode *child_of(struct pt_proj *pj, const struct pt_pnode *n, uint32_t idx)
{
	const struct pt_prun *r = run_at(n, idx);

	return r ? r->child : pnode_of_real(pj, pt_child(n->real, idx));
}

static uint64_t item_va(const struct pt *pt, unsigned int lvl, uint64_t pos, uint32_t idx)
{
	return pos + ((uint64_t)idx << pt_shift(pt, lvl));
}

/*
 * Item @idx of @n gets a table entry (@kind PK_TABLE pointing at @child, or
 * PK_FULL_LEAVES): the commit links a table there, and gives @n a link array
 * first if it has none yet (pt_links_ensure()) - counted here, once per table.
 */
static int link_item(struct sim *s, struct pt_pnode *n, uint32_t idx, uint8_t kind,
		     struct pt_pnode *child)
{
	if (!n->links) {
		n->links = true;
		s->out->need[PT_NEED_LINKS]++;
	}
	return set_items(s->pj, n, idx, idx + 1, kind, child);
}

/* A private leaf table made visible as a pnode: every item a leaf. */
static struct pt_pnode *materialize_full(struct sim *s, struct pt_pnode *n, uint32_t idx)
{
	unsigned int lvl = n->level + 1;
	struct pt_pnode *c = pnode_new(s->pj, lvl, PK_LEAF, pt_nitems(s->pt, lvl));

	if (!c || link_item(s, n, idx, PK_TABLE, c))
		return NULL;
	return c;
}

static int drop_ref(struct sim *s, struct pt_pnode *n);

/* A real table loses the item that pointed at it. */
static int drop_real(struct sim *s, const struct pt_table *real)
{
	struct pt_pnode *n = hash_find(s->pj, real);

	if (n || real->refs > 1) {
		n = n ? n : pnode_of_real(s->pj, real);
		return n ? drop_ref(s, n) : -ENOMEM;
	}
	/* Private and untouched: it goes; only shared tables below it stay. */
	for (uint32_t i = 0; real->level < PT_LEAF_LEVEL && i < pt_nitems(s->pt, real->level);
	     i++) {
		if (pt_child(real, i) && drop_real(s, pt_child(real, i)))
			return -ENOMEM;
	}
	return 0;
}

/* Drop the reference of the item @idx of @n to its table. */
static int drop_item(struct sim *s, struct pt_pnode *n, uint32_t idx)
{
	const struct pt_prun *r = run_at(n, idx);

	if (r)
		return r->kind == PK_TABLE ? drop_ref(s, r->child) : 0;
	if (n->real && real_kind(s->pt, n, idx) == PK_TABLE)
		return drop_real(s, pt_child(n->real, idx));
	return 0;
}

/* One parent item less points at @n; the last one takes its subtree along. */
static int drop_ref(struct sim *s, struct pt_pnode *n)
{
	if (--n->refs || n->level == PT_LEAF_LEVEL)
		return 0;
	for (uint32_t i = 0; i < pt_nitems(s->pt, n->level); i++) {
		if (drop_item(s, n, i))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Every table @n points at gains a reference (a copy of @n points at them
 * too); *@any: there is one (the copy needs a link array).
 */
static int share_children(struct sim *s, struct pt_pnode *n, uint64_t pos, bool *any)
{
	*any = false;
	for (uint32_t i = 0; n->level < PT_LEAF_LEVEL && i < pt_nitems(s->pt, n->level); i++) {
		struct pt_pnode *c;
		uint8_t kind = item_kind(s->pt, n, i);

		if (kind == PK_FULL_LEAVES && !materialize_full(s, n, i))
			return -ENOMEM;
		if (kind != PK_TABLE && kind != PK_FULL_LEAVES)
			continue;
		c = child_of(s->pj, n, i);
		if (!c || touch(s, c, item_va(s->pt, n->level, pos, i)))
			return -ENOMEM;
		c->refs++;
		*any = true;
	}
	return 0;
}

/* A copy of shared @n for one of its parents (the commit's copy-on-write). */
static struct pt_pnode *clone_pnode(struct sim *s, struct pt_pnode *n, uint64_t pos)
{
	struct pt_pnode *c;
	bool children;

	if (share_children(s, n, pos, &children))
		return NULL;
	c = pnode_new(s->pj, n->level, n->base, n->live);
	if (!c || runs_reserve(s->pj, c, n->nruns))
		return NULL;
	/* pt_writable_child() gives the copy links for the children it shares. */
	c->links = children;
	s->out->need[PT_NEED_LINKS] += children;
	c->real = n->real; /* read the same items until overridden */
	if (n->nruns)
		memcpy(c->runs, n->runs, n->nruns * sizeof(n->runs[0]));
	c->nruns = n->nruns;
	s->out->need[n->level]++;
	n->refs--;
	return c;
}

/* The table of item @idx, ready to be changed: a private copy if it is shared. */
static struct pt_pnode *writable_child(struct sim *s, struct pt_pnode *n, uint64_t pos,
				       uint32_t idx)
{
	uint64_t cpos = item_va(s->pt, n->level, pos, idx);
	struct pt_pnode *c = item_kind(s->pt, n, idx) == PK_FULL_LEAVES ?
				     materialize_full(s, n, idx) :
				     child_of(s->pj, n, idx);

	if (!c || touch(s, c, cpos))
		return NULL;
	if (c->refs > 1) {
		c = clone_pnode(s, c, cpos);
		if (!c || link_item(s, n, idx, PK_TABLE, c))
			return NULL;
	}
	return c;
}

/* A projected table stays linked when it empties only if its real table is pinned. */
static bool stays(const struct sim *s, const struct pt_pnode *n)
{
	if (n->created)
		return false;
	return n->real->pins || (s->out->pinner && n->pinner == s->out->pinner);
}

static int subtree_has_leaves(struct sim *s, struct pt_pnode *n, uint64_t pos, bool *leaves);

static int item_has_leaves(struct sim *s, struct pt_pnode *n, uint64_t pos, uint32_t i,
			   bool *leaves)
{
	struct pt_pnode *c;

	switch (item_kind(s->pt, n, i)) {
	case PK_LEAF:
	case PK_FULL_LEAVES:
		*leaves = true;
		return 0;
	case PK_TABLE:
		c = child_of(s->pj, n, i);
		if (!c || touch(s, c, item_va(s->pt, n->level, pos, i)))
			return -ENOMEM;
		return subtree_has_leaves(s, c, item_va(s->pt, n->level, pos, i), leaves);
	default:
		return 0;
	}
}

/* Does any leaf remain below @n? (An emptied pinned table may hold none.) */
static int subtree_has_leaves(struct sim *s, struct pt_pnode *n, uint64_t pos, bool *leaves)
{
	*leaves = false;
	if (!n->live)
		return 0;
	if (n->level == PT_LEAF_LEVEL) {
		*leaves = true;
		return 0;
	}
	for (uint32_t i = 0; i < pt_nitems(s->pt, n->level) && !*leaves; i++) {
		if (item_has_leaves(s, n, pos, i, leaves))
			return -ENOMEM;
	}
	return 0;
}

static int sim_map_range(struct sim *s, struct pt_pnode *n, uint64_t pos, uint64_t va,
			 uint64_t end);

/* A shared template for every item of this level the map covers whole. */
static int sim_map_template(struct sim *s, struct pt_pnode *n, uint64_t pos, uint32_t idx,
			    uint64_t va, uint64_t end)
{
	unsigned int lvl = n->level + 1;
	struct pt_pnode *t = s->tmpl[lvl];
	int err;

	if (!t) {
		t = pnode_new(s->pj, lvl, PK_INVALID, 0);
		if (!t)
			return -ENOMEM;
		t->refs = 0;
		s->out->need[lvl]++;
		err = sim_map_range(s, t, item_va(s->pt, n->level, pos, idx), va, end);
		if (err)
			return err;
		s->tmpl[lvl] = t;
	}
	t->refs++;
	return link_item(s, n, idx, PK_TABLE, t);
}

/* A new table for an invalid item the map does not cover with one leaf. */
static int sim_map_new(struct sim *s, struct pt_pnode *n, uint64_t pos, uint32_t idx, uint64_t va,
		       uint64_t end)
{
	unsigned int lvl = n->level + 1;
	struct pt_pnode *c;
	int err;

	s->out->need[lvl]++;
	if (lvl == PT_LEAF_LEVEL && pt_covers_item(s->pt, n->level, va, end))
		return link_item(s, n, idx, PK_FULL_LEAVES, NULL);
	c = pnode_new(s->pj, lvl, PK_INVALID, 0);
	if (!c)
		return -ENOMEM;
	err = sim_map_range(s, c, item_va(s->pt, n->level, pos, idx), va, end);
	return err ? err : link_item(s, n, idx, PK_TABLE, c);
}

/* The item holds a table where the map puts one leaf: only an empty subtree may go. */
static int sim_replace_table(struct sim *s, struct pt_pnode *n, uint64_t pos, uint32_t idx)
{
	struct pt_pnode *c = child_of(s->pj, n, idx);
	bool leaves;
	int err;

	if (!c || touch(s, c, item_va(s->pt, n->level, pos, idx)))
		return -ENOMEM;
	err = subtree_has_leaves(s, c, item_va(s->pt, n->level, pos, idx), &leaves);
	if (!err && leaves)
		err = -EEXIST;
	return err ? err : drop_ref(s, c);
}

static int sim_map_item(struct sim *s, struct pt_pnode *n, uint64_t pos, uint32_t idx, uint64_t va,
			uint64_t end)
{
	unsigned int lvl = n->level;
	uint8_t kind = item_kind(s->pt, n, idx);
	struct pt_pnode *c;
	int err;

	if (pt_pat_leaf_fits(s->pt, &s->pat, lvl, va, end)) {
		if (kind == PK_LEAF || kind == PK_FULL_LEAVES)
			return -EEXIST;
		err = kind == PK_TABLE ? sim_replace_table(s, n, pos, idx) : 0;
		return err ? err : set_items(s->pj, n, idx, idx + 1, PK_LEAF, NULL);
	}
	if (kind == PK_LEAF || kind == PK_FULL_LEAVES)
		return -EEXIST;
	if (kind == PK_TABLE) {
		c = writable_child(s, n, pos, idx);
		return c ? sim_map_range(s, c, item_va(s->pt, lvl, pos, idx), va, end) : -ENOMEM;
	}
	if (pt_pat_shareable(s->pt, &s->pat, lvl, va, end))
		return sim_map_template(s, n, pos, idx, va, end);
	return sim_map_new(s, n, pos, idx, va, end);
}

/* Map [@va, @end) into @n, whose item 0 is at VA @pos. */
static int sim_map_range(struct sim *s, struct pt_pnode *n, uint64_t pos, uint64_t va, uint64_t end)
{
	unsigned int lvl = n->level;

	if (lvl == PT_LEAF_LEVEL) {
		uint32_t a = pt_index(s->pt, lvl, va);
		uint32_t b = a + (uint32_t)((end - va) >> pt_shift(s->pt, lvl));

		return count_valid(s->pt, n, a, b) ? -EEXIST :
						     set_items(s->pj, n, a, b, PK_LEAF, NULL);
	}
	while (va < end) {
		uint64_t next = pt_item_end(s->pt, lvl, va, end);
		int err = sim_map_item(s, n, pos, pt_index(s->pt, lvl, va), va, next);

		if (err)
			return err;
		va = next;
	}
	return 0;
}

static int sim_unmap_range(struct sim *s, struct pt_pnode *n, uint64_t pos, uint64_t va,
			   uint64_t end);

/* The range cuts item @idx: split a block, or go down into (a copy of) its table. */
static int sim_cut_item(struct sim *s, struct pt_pnode *n, uint64_t pos, uint32_t idx, uint64_t va,
			uint64_t end)
{
	unsigned int lvl = n->level;
	uint64_t cpos = item_va(s->pt, lvl, pos, idx);
	struct pt_pnode *c;
	int err;

	if (item_kind(s->pt, n, idx) == PK_LEAF) {
		c = pnode_new(s->pj, lvl + 1, PK_LEAF, pt_nitems(s->pt, lvl + 1));
		if (!c)
			return -ENOMEM;
		s->out->need[lvl + 1]++;
		err = sim_unmap_range(s, c, cpos, va, end);
		return err ? err : link_item(s, n, idx, PK_TABLE, c);
	}
	c = writable_child(s, n, pos, idx);
	if (!c)
		return -ENOMEM;
	err = sim_unmap_range(s, c, cpos, va, end);
	if (err || c->live || stays(s, c))
		return err;
	err = drop_ref(s, c);
	return err ? err : set_items(s->pj, n, idx, idx + 1, PK_INVALID, NULL);
}

static int sim_unmap_range(struct sim *s, struct pt_pnode *n, uint64_t pos, uint64_t va,
			   uint64_t end)
{
	unsigned int lvl = n->level;

	if (lvl == PT_LEAF_LEVEL) {
		uint32_t a = pt_index(s->pt, lvl, va);
		uint32_t b = a + (uint32_t)((end - va) >> pt_shift(s->pt, lvl));

		return set_items(s->pj, n, a, b, PK_INVALID, NULL);
	}
	while (va < end) {
		uint64_t next = pt_item_end(s->pt, lvl, va, end);
		uint32_t idx = pt_index(s->pt, lvl, va);
		int err = 0;

		if (item_kind(s->pt, n, idx) == PK_INVALID)
			err = 0;
		else if (!pt_covers_item(s->pt, lvl, va, next))
			err = sim_cut_item(s, n, pos, idx, va, next);
		else if (!(err = drop_item(s, n, idx)))
			err = set_items(s->pj, n, idx, idx + 1, PK_INVALID, NULL);
		if (err)
			return err;
		va = next;
	}
	return 0;
}

int pt_proj_run(struct pt_proj *pj, const struct pt_op *op, struct pt_sim *out)
{
	struct sim s = { .pj = pj, .pt = pj->pt, .out = out };
	int err;

	s.pat.va0 = op->va;
	s.pat.pa0 = op->pa;
	s.pat.period = op->type == PT_OP_MAP_REPEAT ? op->period : 0;
	/* A replace is an unmap and then a map, as pt_replace_commit() commits it. */
	if (op->type == PT_OP_UNMAP || op->type == PT_OP_REPLACE)
		err = sim_unmap_range(&s, pj->root, 0, op->va, op->va + op->size);
	else
		err = 0;
	if (!err && op->type != PT_OP_UNMAP)
		err = sim_map_range(&s, pj->root, 0, op->va, op->va + op->size);
	/* A failed op may have changed part of the projection. */
	if (err)
		pj->pt->proj_valid = false;
	return err;
}

int pt_proj_create(struct pt *pt)
{
	struct pt_proj *pj = pt_host_zalloc(&pt->cfg, sizeof(*pj));

	if (!pj)
		return -ENOMEM;
	pj->pt = pt;
	pt->proj = pj;
	/* One chunk from the start: small reservations never allocate for it. */
	if (!arena_alloc(pj, 16)) {
		pt_proj_free(pt);
		return -ENOMEM;
	}
	return 0;
}

void pt_proj_free(struct pt *pt)
{
	struct pt_proj *pj = pt->proj;

	if (!pj)
		return;
	arena_trim(pj, 0);
	pt_host_free(&pt->cfg, pj);
	pt->proj = NULL;
}

unsigned int pt_proj_mark(const struct pt *pt)
{
	return pt->proj->nr_chunks;
}

/* After a failed reservation: stale, and back to the memory it had at @mark. */
void pt_proj_abandon(struct pt *pt, unsigned int mark)
{
	pt->proj_valid = false;
	arena_trim(pt->proj, mark);
}

static int proj_build(struct pt *pt, struct pt_proj *pj)
{
	arena_reset(pj);
	pj->hash = NULL;
	pj->hash_bits = 5;
	pj->hash_nr = 0;
	if (hash_grow(pj))
		return -ENOMEM;
	pj->root = pnode_of_real(pj, pt->root);
	if (!pj->root)
		return -ENOMEM;
	return pt_resv_replay(pt, pj);
}

int pt_proj_get(struct pt *pt, struct pt_proj **out)
{
	struct pt_proj *pj = pt->proj;
	int err;

	if (!pt->proj_valid) {
		err = proj_build(pt, pj);
		if (err)
			return err;
		pt->proj_valid = true;
	}
	*out = pj;
	return 0;
}
