// SPDX-License-Identifier: MIT
/*
 * Page-table objects: creation, table memory, the stock of tables allocated
 * ahead of a change, and the gather that flushes before it frees.
 *
 * Every operation runs in three steps so that a failure changes nothing:
 *   1. count the tables the change needs (read-only walk),
 *   2. take them from the allocator (pt_stock_fill: all or nothing),
 *   3. apply the change using only the stock, gathering flush ranges and
 *      unlinked tables; flush once per coalesced range; then free.
 */

#include "pt_proj.h"

static void *default_zalloc(void *ctx, size_t size)
{
	(void)ctx;
	return os_zalloc(size);
}

static void default_free(void *ctx, void *ptr)
{
	(void)ctx;
	os_free(ptr);
}

static void *default_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return os_malloc(size);
}

const struct pt_host_ops pt_host_malloc_ops = {
	.zalloc = default_zalloc,
	.free = default_free,
	.alloc = default_alloc,
};

/* A commit runs where the kernel could not allocate: catch it doing so. */
void pt_check_may_alloc(const struct pt_cfg *cfg, const char *what)
{
	if ((cfg->debug & PT_DEBUG_ABORT_ALLOC_IN_COMMIT) && pt_in_signalling())
		os_fatal("gpuvm: %s allocated inside a fence-signalling section (a commit)\n",
			 what);
}

void *pt_host_zalloc(const struct pt_cfg *cfg, size_t size)
{
	pt_check_may_alloc(cfg, "page-table metadata");
	return cfg->host->zalloc(cfg->host_ctx, size);
}

void pt_host_free(const struct pt_cfg *cfg, void *ptr)
{
	if (ptr)
		cfg->host->free(cfg->host_ctx, ptr);
}

size_t pt_table_bytes(const struct pt *pt, unsigned int lvl)
{
	if (lvl == pt->geo.start_level)
		return pt->geo.top_bytes;
	return (size_t)1 << pt->geo.granule_lg2;
}

size_t pt_table_align(const struct pt *pt, unsigned int lvl)
{
	if (lvl == pt->geo.start_level)
		return pt->geo.top_align;
	return (size_t)1 << pt->geo.granule_lg2;
}

static void stats_add(struct pt *pt, unsigned int lvl, int64_t n)
{
	pt->stats.tables += n;
	pt->stats.tables_by_level[lvl] += n;
	pt->stats.table_bytes += n * (int64_t)pt_table_bytes(pt, lvl);
}

/* Metadata for table memory @mem at level @lvl; NULL when out of memory. */
static struct pt_table *table_wrap(struct pt *pt, unsigned int lvl, const struct pt_mem *mem)
{
	struct pt_table *t;

	t = pt_record_alloc(pt);
	if (!t)
		return NULL;
	t->items = mem->cpu;
	t->pa = mem->pa;
	t->level = (uint8_t)lvl;
	t->refs = 1;
	stats_add(pt, lvl, 1);
	return t;
}

void pt_table_release(struct pt *pt, struct pt_table *t)
{
	struct pt_mem mem = { .cpu = t->items, .pa = t->pa };

	stats_add(pt, t->level, -1);
	pt->cfg.alloc->free(pt->cfg.alloc_ctx, &mem, pt_table_bytes(pt, t->level),
			    pt_table_align(pt, t->level));
	if (t->child)
		pt_links_release(pt, t);
	pt_record_free(pt, t);
}

/*
 * An allocator's error reaches the caller as it returned it (-EINVAL for a
 * size it does not serve is not -ENOMEM); anything but 0 or a negative errno
 * counts as -ENOMEM.
 */
static int alloc_err(int err)
{
	return err < 0 ? err : -ENOMEM;
}

static int alloc_bulk(const struct pt_cfg *cfg, size_t size, unsigned int n, struct pt_mem *out)
{
	const struct pt_alloc_ops *ops = cfg->alloc;
	unsigned int i;
	int err = 0;

	pt_check_may_alloc(cfg, "a page table");
	if (ops->alloc_bulk) {
		err = ops->alloc_bulk(cfg->alloc_ctx, size, size, n, out);
		return err ? alloc_err(err) : 0;
	}
	for (i = 0; i < n; i++) {
		err = ops->alloc(cfg->alloc_ctx, size, size, &out[i]);
		if (err)
			goto undo;
	}
	return 0;
undo:
	while (i--)
		ops->free(cfg->alloc_ctx, &out[i], size, size);
	return alloc_err(err);
}

#define STOCK_BATCH 32

/* Wrap @k allocated tables onto @list; on failure free the ones not wrapped. */
static int wrap_batch(struct pt *pt, unsigned int lvl, struct pt_mem *mem, unsigned int k,
		      struct pt_table **list)
{
	size_t size = (size_t)1 << pt->geo.granule_lg2;

	for (unsigned int i = 0; i < k; i++) {
		struct pt_table *t = table_wrap(pt, lvl, &mem[i]);

		if (!t) {
			for (; i < k; i++)
				pt->cfg.alloc->free(pt->cfg.alloc_ctx, &mem[i], size, size);
			return -ENOMEM;
		}
		t->next = *list;
		*list = t;
	}
	return 0;
}

/* Add @n granule-sized tables of level @lvl to @list; on failure @list keeps what was added. */
static int stock_level(struct pt *pt, unsigned int lvl, unsigned int n, struct pt_table **list)
{
	size_t size = (size_t)1 << pt->geo.granule_lg2;
	struct pt_mem mem[STOCK_BATCH];

	while (n) {
		unsigned int k = n < STOCK_BATCH ? n : STOCK_BATCH;
		int err = alloc_bulk(&pt->cfg, size, k, mem);

		if (err || (err = wrap_batch(pt, lvl, mem, k, list)))
			return err;
		n -= k;
	}
	return 0;
}

static void release_list(struct pt *pt, struct pt_table *t)
{
	while (t) {
		struct pt_table *next = t->next;

		pt_table_release(pt, t);
		t = next;
	}
}

int pt_stock_fill(struct pt *pt, struct pt_stock *stock, const unsigned int need[PT_NEED_SLOTS])
{
	struct pt_table *added[PT_MAX_LEVELS] = { 0 };
	unsigned int lvl;
	int err = 0;

	for (lvl = 0; lvl < PT_MAX_LEVELS; lvl++) {
		if (need[lvl] && (err = stock_level(pt, lvl, need[lvl], &added[lvl])))
			goto undo;
	}
	if (need[PT_NEED_LINKS] && (err = pt_links_reserve(pt, stock, need[PT_NEED_LINKS])))
		goto undo;
	for (lvl = 0; lvl < PT_MAX_LEVELS; lvl++) {
		while (added[lvl]) {
			struct pt_table *t = added[lvl];

			added[lvl] = t->next;
			t->next = stock->head[lvl];
			stock->head[lvl] = t;
			stock->count[lvl]++;
			stock->total++;
		}
	}
	return 0;
undo:
	for (lvl = 0; lvl < PT_MAX_LEVELS; lvl++)
		release_list(pt, added[lvl]);
	return err;
}

struct pt_table *pt_stock_take(struct pt *pt, struct pt_stock *stock, unsigned int lvl)
{
	struct pt_table *t = stock->head[lvl];

	(void)pt;
	os_assert(t && "a change used more tables than were counted");
	stock->head[lvl] = t->next;
	stock->count[lvl]--;
	stock->total--;
	t->next = NULL;
	return t;
}

void pt_stock_drain(struct pt *pt, struct pt_stock *stock)
{
	if (stock->nr_links)
		pt_links_unreserve(pt, stock);
	if (!stock->total)
		return;
	stock->total = 0;
	for (unsigned int lvl = 0; lvl < PT_MAX_LEVELS; lvl++) {
		release_list(pt, stock->head[lvl]);
		stock->head[lvl] = NULL;
		stock->count[lvl] = 0;
	}
}

void pt_sync_items_to_walker(const struct pt *pt, const struct pt_table *t, unsigned int first,
			     unsigned int end)
{
	pt->cfg.sync->sync(pt->cfg.sync_ctx, t->pa + first * sizeof(uint64_t), &t->items[first],
			   (end - first) * sizeof(uint64_t));
}

void pt_sync_table(const struct pt *pt, const struct pt_table *t)
{
	pt_sync_items(pt, t, 0, pt_nitems(pt, t->level));
}

/*
 * Point item @idx of @parent at @child, which is complete and visible to the
 * walker (synced by the caller when it is new): set the metadata a concurrent
 * pt_walk() follows, then publish the descriptor with one release store.
 */
void pt_link_table(struct pt *pt, struct pt_stock *stock, struct pt_table *parent, unsigned int idx,
		   struct pt_table *child)
{
	pt_links_ensure(pt, stock, parent);
	pt_set_child(pt, parent, idx, child);
	pt_publish(&parent->items[idx], pt_table_desc(pt, child->pa));
}

/* Clear item @idx of @t (a leaf or a table entry) and its link. */
void pt_unlink_item(struct pt *pt, struct pt_table *t, unsigned int idx)
{
	pt_store(&t->items[idx], 0);
	/* A block's item links nothing: no link changes, the remembered descent stays. */
	if (pt_child(t, idx))
		pt_set_child(pt, t, idx, NULL);
	t->live--;
}

void pt_gather_add(struct pt_gather *g, uint64_t va, uint64_t end, bool leaf_only)
{
	if (g->all)
		return;
	for (unsigned int i = 0; i < g->nr; i++) {
		if (va > g->range[i].end || end < g->range[i].va)
			continue;
		g->range[i].va = va < g->range[i].va ? va : g->range[i].va;
		g->range[i].end = end > g->range[i].end ? end : g->range[i].end;
		g->range[i].leaf_only &= leaf_only;
		return;
	}
	if (g->nr == PT_GATHER_RANGES) {
		g->all = true;
		return;
	}
	g->range[g->nr].va = va;
	g->range[g->nr].end = end;
	g->range[g->nr].leaf_only = leaf_only;
	g->nr++;
}

void pt_gather_free(struct pt_gather *g, struct pt_table *t)
{
	t->next = g->to_free;
	g->to_free = t;
}

/* pt_gather_flush() of anything but one range. */
void pt_gather_flush_ranges(struct pt *pt, struct pt_gather *g)
{
	const struct pt_flush_ops *ops = pt->cfg.flush;

	if (g->all) {
		ops->flush_all(pt->cfg.flush_ctx);
	} else {
		for (unsigned int i = 0; i < g->nr; i++)
			ops->flush_range(pt->cfg.flush_ctx, g->range[i].va,
					 g->range[i].end - g->range[i].va, g->range[i].leaf_only);
	}
	g->nr = 0;
	g->all = false;
}

/* Free what was unlinked; only after pt_gather_flush() (lpae.md "Rules that bite"). */
void pt_gather_release(struct pt *pt, struct pt_gather *g)
{
	os_assert(!g->nr && !g->all && "tables freed before their flush");
	release_list(pt, g->to_free);
	g->to_free = NULL;
}

static int check_ops(const struct pt_cfg *cfg)
{
	if (!cfg->alloc || !cfg->alloc->alloc || !cfg->alloc->free)
		return -EINVAL;
	if (!cfg->flush || !cfg->flush->flush_range || !cfg->flush->flush_all)
		return -EINVAL;
	if (!cfg->coherent_walk && (!cfg->sync || !cfg->sync->sync))
		return -EINVAL;
	if (cfg->host && (!cfg->host->zalloc || !cfg->host->free))
		return -EINVAL;
	return 0;
}

/* Decode every possible key with the format's rules once, for pt_leaf_prot(). */
static void fill_prot_table(struct pt *pt)
{
	for (unsigned int key = 0; key < 256; key++) {
		uint64_t desc = (uint64_t)(key & 0x3f) << 2 | (uint64_t)(key >> 6) << 53;
		uint32_t prot = 0;

		for (unsigned int i = 0; i < PT_PROT_RULES; i++) {
			const struct pt_prot_rule *r = &pt->fmt->prot_rules[i];

			os_assert(!(r->mask & ~PT_PROT_KEY_BITS) &&
				  "protection bits outside the key");
			prot |= (desc & r->mask) == r->value ? r->prot : 0;
		}
		pt->prot_of_key[key] = (uint8_t)prot;
	}
}

/* Check and encode each protection combination once, for pt_prot_check() and maps. */
static void fill_prot_attrs(struct pt *pt)
{
	for (uint32_t prot = 0; prot <= PT_PROT_ALL; prot++) {
		if (pt_prot_check_slow(pt, prot))
			continue;
		pt->prot_ok |= 1ull << prot;
		pt->attrs_of_prot[prot] = pt->fmt->leaf_attrs(pt, prot);
	}
}

static void derive_fields(struct pt *pt)
{
	const struct pt_geometry *geo = &pt->geo;

	pt->page_type = pt->fmt->page_type;
	pt->granule_mask = (1ull << geo->granule_lg2) - 1;
	pt->va_limit = 1ull << pt->cfg.ias;
	pt->pa_limit = 1ull << pt->cfg.oas;
	pt->oa_mask = ((1ull << PT_OA_TOP) - 1) & ~((1ull << geo->granule_lg2) - 1);
	pt->table_attrs = pt->fmt->table_attrs(pt);
	fill_prot_table(pt);
	fill_prot_attrs(pt);
	for (unsigned int bit = 0; bit < 64; bit++) {
		unsigned int l = geo->start_level;

		while (l < PT_LEAF_LEVEL && geo->level_shift[l] > bit)
			l++;
		pt->descend_to[bit] = (uint8_t)l;
	}
	for (unsigned int l = geo->start_level; l <= PT_LEAF_LEVEL; l++) {
		pt->index_bits[l] = (uint8_t)(l == geo->start_level ? geo->top_index_bits :
								      geo->bits_per_level);
		pt->index_mask[l] = (1u << pt->index_bits[l]) - 1;
		pt->leaf_oa_mask[l] = pt->oa_mask & ~((1ull << geo->level_shift[l]) - 1);
		if (geo->leaf_sizes & (1ull << geo->level_shift[l]))
			pt->leaf_levels |= (uint8_t)(1u << l);
	}
	/* What pt_descend_remember() derives from a table's level. */
	for (unsigned int l = geo->start_level + 1; l <= PT_LEAF_LEVEL; l++) {
		pt->span_mask[l] = ~(pt_size(pt, l - 1) - 1);
		pt->block_mask[l] =
			l != PT_LEAF_LEVEL && pt_leaf_allowed(pt, l) ? pt_size(pt, l) - 1 : ~0ull;
	}
}

static int alloc_root(struct pt *pt)
{
	struct pt_mem mem;
	int err;

	pt_check_may_alloc(&pt->cfg, "a page table");
	err = pt->cfg.alloc->alloc(pt->cfg.alloc_ctx, pt->geo.top_bytes, pt->geo.top_align, &mem);
	if (err)
		return alloc_err(err);
	pt->root = table_wrap(pt, pt->geo.start_level, &mem);
	if (!pt->root) {
		pt->cfg.alloc->free(pt->cfg.alloc_ctx, &mem, pt->geo.top_bytes, pt->geo.top_align);
		return -ENOMEM;
	}
	/* The root holds the first table anything maps: its links come with it. */
	pt->root->child = pt_links_alloc_root(pt);
	if (!pt->root->child) {
		pt_table_release(pt, pt->root);
		return -ENOMEM;
	}
	memset(pt->root->items, 0, pt->geo.top_bytes);
	pt_sync_table(pt, pt->root);
	return 0;
}

int pt_create(const struct pt_cfg *cfg, struct pt **out)
{
	struct pt_cfg c;
	struct pt_geometry geo;
	const struct pt_fmt *fmt;
	struct pt *pt;
	int err;

	if (!cfg || !out || check_ops(cfg))
		return -EINVAL;
	fmt = pt_fmt_find(cfg->fmt);
	if (!fmt)
		return -EINVAL;
	err = pt_geometry_check(cfg, fmt, &geo);
	if (err)
		return err;
	c = *cfg;
	if (!c.host)
		c.host = &pt_host_malloc_ops;
	pt = pt_host_zalloc(&c, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->cfg = c;
	pt->fmt = fmt;
	pt->geo = geo;
	derive_fields(pt);
	err = alloc_root(pt);
	if (!err) {
		err = pt_proj_create(pt);
		if (err)
			pt_table_release(pt, pt->root);
	}
	if (err) {
		pt_host_free(&c, pt);
		return err;
	}
	*out = pt;
	return 0;
}

/*
 * Drop one parent reference to @t; when it was the last, unlink the subtree
 * below it too and queue every table for freeing after the flush - except
 * pinned ones, which a reservation still relies on: they become orphans,
 * freed when their last pin drops. The links followed are cleared (a walker
 * still in the subtree finds it unlinked), so that a freed table's link array
 * is clean for the next table (pt_links_release()).
 */
void pt_put_subtree(struct pt *pt, struct pt_gather *g, struct pt_table *t)
{
	if (pt_ref_put(pt, t))
		return;
	/* An emptied table (the usual prune) holds no table entry: no link to look at. */
	for (unsigned int i = 0; t->child && t->live && i < pt_nitems(pt, t->level); i++) {
		struct pt_table *c = pt_child(t, i);

		if (c) {
			pt_set_child(pt, t, i, NULL);
			pt_put_subtree(pt, g, c);
		}
	}
	if (t->pins)
		t->orphan = true;
	else
		pt_gather_free(g, t);
}

/*
 * Copy-on-write: the table of item @idx of @t, made private to this item if
 * other items share it. The copy points at the same children (each gains a
 * reference); the shared original is never written, so every other VA that
 * aliases it keeps its translation. Only this item changes: its span is
 * flushed.
 */
struct pt_table *pt_writable_child(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
				   struct pt_table *t, unsigned int idx, uint64_t item_va)
{
	struct pt_table *child = pt_child(t, idx), *copy;
	unsigned int lvl = child->level;

	if (child->refs == 1)
		return child;
	copy = pt_stock_take(pt, stock, lvl);
	memcpy(copy->items, child->items, pt_table_bytes(pt, lvl));
	for (unsigned int i = 0; child->child && i < pt_nitems(pt, lvl); i++) {
		if (pt_child(child, i)) {
			pt_links_ensure(pt, stock, copy);
			pt_set_child(pt, copy, i, pt_child(child, i));
			pt_ref_get(pt, pt_child(child, i));
		}
	}
	copy->live = child->live;
	pt_sync_table(pt, copy);
	pt_link_table(pt, stock, t, idx, copy);
	pt_ref_put(pt, child);
	pt_gather_range(g, item_va, item_va + pt_size(pt, t->level), false);
	return copy;
}

void pt_destroy(struct pt *pt)
{
	struct pt_gather g;
	struct pt_cfg cfg;

	if (!pt)
		return;
	if (os_misuse(pt->resv_alive && "pt_destroy() with reservations alive"))
		pt_resv_abandon_all(pt);
	pt_gather_init(&g);
	g.all = true;
	pt_put_subtree(pt, &g, pt->root);
	pt_gather_flush(pt, &g);
	pt_gather_release(pt, &g);
	pt_proj_free(pt);
	if (pt->spare_priv)
		pt_resv_priv_destroy(pt, pt->spare_priv);
	pt_meta_destroy(pt);
	cfg = pt->cfg;
	pt_host_free(&cfg, pt);
}

void pt_get_geometry(const struct pt *pt, struct pt_geometry *geo)
{
	*geo = pt->geo;
}

void pt_get_regs(const struct pt *pt, struct pt_hw_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	regs->fmt = pt->cfg.fmt;
	pt->fmt->regs(pt, pt->root->pa, regs);
}

void pt_get_stats(const struct pt *pt, struct pt_stats *st)
{
	*st = pt->stats;
}
