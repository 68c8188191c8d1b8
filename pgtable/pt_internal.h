/* SPDX-License-Identifier: MIT */
/*
 * Private to pgtable/: the table metadata, the format interface, and the
 * machinery every operation shares (stock of tables allocated ahead, gather of
 * flushes and frees).
 *
 * DOC: table metadata
 *
 * The walker reads only the descriptors. The CPU side keeps, per table, a
 * struct pt_table: where the table lives, how many of its items are live, how
 * many parent items point at it (1, or more when shared), and, once the table
 * holds a table entry, an array of links to its child tables (child[i] is set
 * exactly when item i holds a table entry). Following child[] instead of
 * translating a descriptor's PA back to a CPU address keeps the library
 * independent of how the driver's allocator maps its memory.
 *
 * Metadata is sized to what it describes: a table that holds only leaves (every
 * leaf table, a level-2 table of 2M blocks) has no link array (child is NULL);
 * it takes one, zeroed, from its reservation's stock when a child table is first
 * linked into it (pt_links_ensure()), and keeps it until it is freed. The root's
 * is allocated with it. The reservation counts these arrays like tables
 * (need[PT_NEED_LINKS]), so a commit still never allocates.
 *
 *   root (struct pt_table)          items (walker-visible memory)
 *   +-----------------+             +-------+-------+-------+-----
 *   | items ----------+-----------> | table | block | inval | ...
 *   | pa, live=2      |             +---|---+-------+-------+-----
 *   | child[0] ---+   |                 | descriptor holds child's PA
 *   +-------------|---+                 v
 *                 +---------------> child struct pt_table (items, pa, ...)
 */
#ifndef GPUVM_PT_INTERNAL_H
#define GPUVM_PT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <gpuvm/os.h>
#include <gpuvm/pt.h>

/* Descriptor bits [1:0] (Arm ARM D8.3). */
#define PT_DESC_TYPE_MASK 3ull
#define PT_DESC_VALID 1ull
#define PT_DESC_TABLE 3ull /* levels 0-2 */
#define PT_DESC_BLOCK 1ull /* levels 1-2 */

/* Output address field [47:pg_shift]; our oas is at most 48. */
#define PT_OA_TOP 48

/* What a table above the leaf level keeps about the table in one of its items. */
struct pt_link {
	struct pt_table *table; /* the child's metadata; NULL unless the item holds a table */
	uint64_t *items;        /* the child's items: a walk reads them without a detour */
};

struct pt_table {
	uint64_t *items;       /* CPU address of item 0 */
	uint64_t pa;           /* walker address of item 0 */
	struct pt_table *next; /* link on a stock or free list */
	struct pt_link *child; /* one per item; NULL until a child table is first linked */
	struct pt_slab *slab;  /* where the record was carved from (pt_meta.c) */
	uint32_t live;         /* valid entries among items */
	uint32_t refs;         /* parent items pointing here */
	uint32_t pins;         /* reservations relying on this table staying */
	uint64_t kept_va;      /* a VA under it while it stays linked empty for its pins */
	uint8_t level;
	bool orphan; /* unlinked while pinned: freed when the last pin drops */
};

static inline struct pt_table *pt_child(const struct pt_table *t, unsigned int idx)
{
	return t->child ? t->child[idx].table : NULL;
}

/*
 * Set before the item's descriptor is published (or after it is cleared).
 * pt_prefetch() follows the links without reading the descriptor: the table
 * pointer is stored last with release, so that a reader that loads it with
 * acquire sees the items pointer and the child's filled metadata.
 */
static inline void pt_set_child(struct pt *pt, struct pt_table *t, unsigned int idx,
				struct pt_table *child);

/**
 * struct pt_prot_rule - a leaf has protection @prot when (desc & @mask) == @value.
 * A format's protections decode as data, so a walk needs no call to decode them.
 */
struct pt_prot_rule {
	uint64_t mask, value;
	uint32_t prot;
};

#define PT_PROT_RULES 6

/**
 * struct pt_fmt - what one descriptor format knows; the algorithms ask it.
 * @name: for dumps.
 * @fmt: the enum value.
 * @granules: bitmap of supported granule_lg2 values.
 * @max_oas: largest output size.
 * @prot_mask: PT_PROT_* the format can express.
 * @page_type: bits [1:0] of a level-3 leaf (3 in VMSAv8-64, 1 in Mali legacy).
 * @min_top_align: smallest alignment of the top table.
 * @flags: PT_FMTF_*.
 * @leaf_attrs: attribute bits (everything but type and OA) for @prot.
 * @prot_rules: how a leaf's attribute bits decode to PT_PROT_* (unused rules
 *	are all zero).
 * @table_attrs: attribute bits of a table entry.
 * @regs: register values for a table whose root is at @root_pa.
 */
struct pt_fmt {
	const char *name;
	enum pt_format fmt;
	uint32_t granules;
	unsigned int max_oas;
	uint32_t prot_mask;
	uint8_t page_type;
	unsigned int min_top_align;
	uint32_t flags;
	uint64_t (*leaf_attrs)(const struct pt *pt, uint32_t prot);
	struct pt_prot_rule prot_rules[PT_PROT_RULES];
	uint64_t (*table_attrs)(const struct pt *pt);
	void (*regs)(const struct pt *pt, uint64_t root_pa, struct pt_hw_regs *regs);
};

/* Stage 2: the top level may be concatenated (VTCR.SL0 rules). */
#define PT_FMTF_S2_CONCAT (1u << 0)
/* The walker always starts at level 0, whatever the ias (Mali legacy LPAE). */
#define PT_FMTF_FOUR_LEVELS (1u << 1)
/* A writable leaf is always readable (stage-1 AP has no read bit). */
#define PT_FMTF_WRITE_NEEDS_READ (1u << 2)

extern const struct pt_fmt pt_fmt_arm64_s1;
extern const struct pt_fmt pt_fmt_arm64_s2;
extern const struct pt_fmt pt_fmt_mali_aarch64;
extern const struct pt_fmt pt_fmt_mali_lpae;

struct pt_proj;
struct pt_resv_priv;
struct pt_stock;
struct pt_slab;

/*
 * struct pt_descent - the last table pt_descend() reached below the root, @t,
 * whose span is [@va, @end), and the private tables above it (@path): a
 * range inside the span goes down from @t. A change of any link forgets it
 * (pt_set_child()): links are how tables are unlinked, replaced or shared.
 * @block_mask: above the leaf level where the format allows leaves, the size
 * of @t's items less one (whole blocks have VA, size and PA aligned to it);
 * otherwise all ones.
 */
struct pt_descent {
	uint64_t va, end;
	struct pt_table *t;
	unsigned int level; /* @t's (read here, not from @t: a descent need not load @t) */
	uint64_t block_mask;
	struct pt_table *path[PT_MAX_LEVELS];
};

struct pt {
	struct pt_cfg cfg;
	const struct pt_fmt *fmt;
	struct pt_geometry geo;
	uint64_t granule_mask; /* granule - 1 */
	uint64_t va_limit;     /* 1 << ias */
	uint64_t pa_limit;     /* 1 << oas */
	uint64_t oa_mask;      /* descriptor bits holding an address */
	uint64_t table_attrs;  /* attribute bits of every table entry */
	uint8_t leaf_levels;   /* bit l set: leaves allowed at level l */
	uint8_t page_type;     /* fmt->page_type: bits [1:0] of a page */
	uint8_t index_bits[PT_MAX_LEVELS];
	uint32_t index_mask[PT_MAX_LEVELS];      /* items - 1, per level */
	uint64_t leaf_oa_mask[PT_MAX_LEVELS];    /* output address bits of a leaf, per level */
	uint8_t prot_of_key[256];                /* pt_leaf_prot() by pt_prot_key() */
	uint64_t prot_ok;                        /* bit p: PT_PROT_* combination p is valid */
	uint8_t descend_to[64];                  /* pt_descend(): deepest level by highest bit */
	uint64_t attrs_of_prot[PT_PROT_ALL + 1]; /* fmt->leaf_attrs() of each valid one */
	/* Per level below the root: ~(span - 1) of a table's span, its struct pt_descent.block_mask. */
	uint64_t span_mask[PT_MAX_LEVELS], block_mask[PT_MAX_LEVELS];
	struct pt_table *root;
	unsigned int shared; /* tables more than one item points at (refs > 1): pt_ref_get() */
	struct pt_descent last;
	struct pt_stats stats;
	struct pt_proj *proj;       /* projection of the queue */
	bool proj_valid;            /* @proj is not stale */
	struct pt_resv_priv *queue; /* outstanding reservations, oldest first */
	struct pt_resv_priv *queue_tail;
	unsigned int resv_alive;         /* reservations not released yet */
	struct pt_resv_priv *spare_priv; /* a released one, kept for reuse */
	struct pt_resv_priv *records;    /* every reservation record: pt_destroy() finds them */
	struct pt_slab *slabs;           /* slabs with a free record (pt_meta.c) */
	struct pt_link *links_cache;     /* clean link arrays of freed tables */
	unsigned int nr_links_cache;
	unsigned int links_claimed; /* of the cache, by reservations' stocks */
};

/*
 * Set before the item's descriptor is published (or after it is cleared).
 * pt_prefetch() follows the links without reading the descriptor: the table
 * pointer is stored last with release, so that a reader that loads it with
 * acquire sees the items pointer and the child's filled metadata.
 */
static inline void pt_set_child(struct pt *pt, struct pt_table *t, unsigned int idx,
				struct pt_table *child)
{
	pt->last.t = NULL;
	if (!t->child) {
		/* Nothing linked here ever: nothing to clear (pt_links_ensure() before a link). */
		os_assert(!child && "a child table linked without a link array");
		return;
	}
	os_store_relaxed(&t->child[idx].items, child ? child->items : NULL);
	os_store_release(&t->child[idx].table, child);
}

/* One more item points at @t: pt->shared counts the tables it makes shared. */
static inline void pt_ref_get(struct pt *pt, struct pt_table *t)
{
	pt->shared += t->refs++ == 1;
}

/* One item fewer points at @t; return how many still do. */
static inline uint32_t pt_ref_put(struct pt *pt, struct pt_table *t)
{
	pt->shared -= t->refs-- == 2;
	return t->refs;
}

const struct pt_fmt *pt_fmt_find(enum pt_format fmt);
int pt_geometry_check(const struct pt_cfg *cfg, const struct pt_fmt *fmt, struct pt_geometry *geo);
int pt_prot_check_slow(const struct pt *pt, uint32_t prot);

/* Is @prot a combination the format expresses? (Decided once per combination.) */
static inline int pt_prot_check(const struct pt *pt, uint32_t prot)
{
	return prot <= PT_PROT_ALL && (pt->prot_ok >> prot & 1) ? 0 : -EINVAL;
}
uint64_t pt_mair_to_mali_memattr(uint64_t mair, bool coherent);
uint64_t pt_fmt_no_table_attrs(const struct pt *pt);

/* Geometry helpers. */
static inline unsigned int pt_shift(const struct pt *pt, unsigned int lvl)
{
	return pt->geo.level_shift[lvl];
}

static inline uint64_t pt_size(const struct pt *pt, unsigned int lvl)
{
	return 1ull << pt->geo.level_shift[lvl];
}

static inline unsigned int pt_nitems(const struct pt *pt, unsigned int lvl)
{
	return 1u << pt->index_bits[lvl];
}

static inline unsigned int pt_index(const struct pt *pt, unsigned int lvl, uint64_t va)
{
	return (unsigned int)(va >> pt_shift(pt, lvl)) & pt->index_mask[lvl];
}

/* End of the item that contains @va, clamped to @end. */
static inline uint64_t pt_item_end(const struct pt *pt, unsigned int lvl, uint64_t va, uint64_t end)
{
	uint64_t next = (va | (pt_size(pt, lvl) - 1)) + 1;

	return next < end ? next : end;
}

static inline bool pt_leaf_allowed(const struct pt *pt, unsigned int lvl)
{
	return pt->leaf_levels & (1u << lvl);
}

/* [@va, @end) covers the whole item of level @lvl that starts at @va. */
static inline bool pt_covers_item(const struct pt *pt, unsigned int lvl, uint64_t va, uint64_t end)
{
	uint64_t mask = pt_size(pt, lvl) - 1;

	return !(va & mask) && end - va > mask;
}

/*
 * Remember where pt_descend() got to: @t, of level @lvl below the root, found
 * for @va; the tables above it are in pt->last.path already.
 */
static inline void pt_descend_remember(struct pt *pt, struct pt_table *t, unsigned int lvl,
				       uint64_t va)
{
	struct pt_descent *d = &pt->last;

	d->t = t;
	d->level = lvl;
	d->va = va & pt->span_mask[lvl];
	d->end = d->va - pt->span_mask[lvl]; /* the mask is minus the span */
	d->block_mask = pt->block_mask[lvl];
}

/*
 * Go down from @t, of level @lvl (the root, or the remembered table), towards
 * level @to through private tables, writing the path in place: going down
 * from the root, the first level passed overwrites it, and a descent that
 * passes a level ends below the root, remembered. The table reached is not
 * read: with no shared table anywhere (pt->shared), neither is a child's
 * reference count, so that a descent to a leaf table waits for nothing but
 * the tables above it (pt_seek() starts loading the leaf table's record).
 * @link receives the link that led to the table returned, NULL if none.
 */
static inline struct pt_table *pt_descend_from(struct pt *pt, struct pt_table *t, unsigned int lvl,
					       unsigned int to, uint64_t va,
					       const struct pt_link **link)
{
	struct pt_descent *d = &pt->last;
	bool shared = pt->shared; /* read once: the stores to the path could alias it */

	*link = NULL;
	for (; lvl < to && t->child; lvl++) {
		const struct pt_link *l = &t->child[pt_index(pt, lvl, va)];
		struct pt_table *c = l->table;

		if (!c || (shared && c->refs > 1))
			break;
		d->path[lvl] = t;
		*link = l;
		t = c;
	}
	if (t != d->t && t != pt->root)
		pt_descend_remember(pt, t, lvl, va);
	return t;
}

/*
 * The deepest table below which [@va, @end) lies inside one item too small
 * for a leaf of the item's size, reached through private tables only. Every
 * level skipped is one where a map or an unmap would only go down into the
 * item's table: operations start here instead of at the root. pt_descend()'s
 * @path, when given, receives the table at each level passed (above the one
 * returned).
 *
 * The range passes level l when its highest differing or size bit is below
 * the level's shift: pt->descend_to[] gives the deepest level for that bit.
 * A range inside the span of the table the last descent reached starts there
 * (struct pt_descent): binds of neighbouring pages find their table at once.
 */
static inline struct pt_table *pt_descend(struct pt *pt, uint64_t va, uint64_t end,
					  struct pt_table **path)
{
	struct pt_descent *d = &pt->last;
	unsigned int top = 63 - (unsigned int)os_clz64((va ^ (end - 1)) | (end - va));
	unsigned int to = pt->descend_to[top];
	struct pt_table *t = d->t;
	unsigned int lvl = d->level;
	const struct pt_link *link;

	/* Not when the range covers the table's span whole: it stops above. */
	if (!t || va < d->va || end > d->end || lvl > to) {
		t = pt->root;
		lvl = pt->geo.start_level;
	}
	t = pt_descend_from(pt, t, lvl, to, va, &link);
	if (path)
		for (unsigned int l = 0; l < PT_MAX_LEVELS; l++)
			path[l] = d->path[l];
	return t;
}

/*
 * struct pt_pat - where a map sends each VA: @pa0 + (va - @va0), or with a
 * @period, @pa0 + ((va - @va0) mod @period). The commit and the projection
 * decide leaves and sharing with the same helpers below.
 */
struct pt_pat {
	uint64_t va0, pa0, period;
};

static inline uint64_t pt_pat_pa(const struct pt_pat *p, uint64_t va)
{
	uint64_t off = va - p->va0;

	return p->pa0 + (p->period ? os_mod_u64(off, p->period) : off);
}

/* Can the item at @va be one leaf of level @lvl for [@va, @end)? */
static inline bool pt_pat_leaf_fits(const struct pt *pt, const struct pt_pat *p, unsigned int lvl,
				    uint64_t va, uint64_t end)
{
	uint64_t size = pt_size(pt, lvl);

	if (!pt_leaf_allowed(pt, lvl) || !pt_covers_item(pt, lvl, va, end) ||
	    (pt_pat_pa(p, va) & (size - 1)))
		return false;
	/* A leaf maps contiguous PAs: it must not straddle the pattern's wrap. */
	return !p->period || os_mod_u64(va - p->va0, p->period) + size <= p->period;
}

/*
 * Are all items of level @lvl that the map covers whole given identical
 * tables? Yes when the period divides the item's span: every such item then
 * starts at the same phase of the pattern.
 */
static inline bool pt_pat_shareable(const struct pt *pt, const struct pt_pat *p, unsigned int lvl,
				    uint64_t va, uint64_t end)
{
	return p->period && os_mod_u64(pt_size(pt, lvl), p->period) == 0 &&
	       pt_covers_item(pt, lvl, va, end);
}

/* Descriptor classification (bits [1:0] mean different things at level 3). */
static inline enum pt_entry_type pt_desc_type(const struct pt *pt, unsigned int lvl, uint64_t desc)
{
	uint64_t t = desc & PT_DESC_TYPE_MASK;

	if (!(t & PT_DESC_VALID))
		return PT_ENTRY_INVALID;
	if (lvl == PT_LEAF_LEVEL)
		return t == pt->fmt->page_type ? PT_ENTRY_LEAF : PT_ENTRY_INVALID;
	return t == PT_DESC_TABLE ? PT_ENTRY_TABLE : PT_ENTRY_LEAF;
}

static inline uint64_t pt_leaf_type(const struct pt *pt, unsigned int lvl)
{
	return lvl == PT_LEAF_LEVEL ? pt->page_type : PT_DESC_BLOCK;
}

static inline uint64_t pt_leaf_desc(const struct pt *pt, unsigned int lvl, uint64_t pa,
				    uint64_t attrs)
{
	return pt_leaf_type(pt, lvl) | pa | attrs;
}

static inline uint64_t pt_table_desc(const struct pt *pt, uint64_t pa)
{
	return PT_DESC_TABLE | pa | pt->table_attrs;
}

static inline uint64_t pt_desc_addr(const struct pt *pt, uint64_t desc)
{
	return desc & pt->oa_mask;
}

/* Attribute bits of a leaf: everything but the type and the address. */
static inline uint64_t pt_desc_attrs(const struct pt *pt, uint64_t desc)
{
	return desc & ~(pt->oa_mask | PT_DESC_TYPE_MASK);
}

/*
 * Every format keeps the bits that decode to protections in [7:2] (AttrIndx or
 * MemAttr, AP or S2AP or RD/WR) and [54:53] (XN): eight bits, so the decoding
 * is one lookup in a table filled from the format's rules at creation.
 */
#define PT_PROT_KEY_BITS ((0x3full << 2) | (3ull << 53))

static inline unsigned int pt_prot_key(uint64_t desc)
{
	return (unsigned int)(((desc >> 2) & 0x3f) | ((desc >> 53) & 3) << 6);
}

static inline uint32_t pt_leaf_prot(const struct pt *pt, uint64_t desc)
{
	return pt->prot_of_key[pt_prot_key(desc)];
}

/* Walker-visible stores and loads: one 64-bit access each (DOC: concurrency). */
static inline void pt_store(uint64_t *item, uint64_t desc)
{
	os_store_relaxed(item, desc);
}

static inline void pt_publish(uint64_t *item, uint64_t desc)
{
	os_store_release(item, desc);
}

static inline uint64_t pt_load(const uint64_t *item)
{
	return os_load_acquire(item);
}

/* Metadata memory (struct pt_host_ops), checked against commits. */
void pt_check_may_alloc(const struct pt_cfg *cfg, const char *what);
void *pt_host_zalloc(const struct pt_cfg *cfg, size_t size);
void pt_host_free(const struct pt_cfg *cfg, void *ptr);

/* Table memory. */
size_t pt_table_bytes(const struct pt *pt, unsigned int lvl);
size_t pt_table_align(const struct pt *pt, unsigned int lvl);
void pt_table_release(struct pt *pt, struct pt_table *t);
void pt_sync_items_to_walker(const struct pt *pt, const struct pt_table *t, unsigned int first,
			     unsigned int end);

/* Make items [@first, @end) of @t visible to a walker that does not snoop the CPU's caches. */
static inline void pt_sync_items(const struct pt *pt, const struct pt_table *t, unsigned int first,
				 unsigned int end)
{
	if (!pt->cfg.coherent_walk && first < end)
		pt_sync_items_to_walker(pt, t, first, end);
}
void pt_sync_table(const struct pt *pt, const struct pt_table *t);
void pt_link_table(struct pt *pt, struct pt_stock *stock, struct pt_table *parent, unsigned int idx,
		   struct pt_table *child);
void pt_unlink_item(struct pt *pt, struct pt_table *t, unsigned int idx);

/*
 * What an op's count says its commit takes: tables per level, and in
 * need[PT_NEED_LINKS] the link arrays of tables that get their first child
 * table (DOC: table metadata). Only tables count in struct pt_resv.reserved;
 * pt_commit_end() asserts that the arrays were used up exactly.
 */
#define PT_NEED_LINKS PT_MAX_LEVELS
#define PT_NEED_SLOTS (PT_MAX_LEVELS + 1)

/**
 * struct pt_stock - tables allocated before an operation changes anything.
 * @head: per level, a list of ready tables (linked by ->next).
 * @count: per level, how many are on the list.
 * @total: on all lists.
 * @links: link arrays allocated for tables below the root.
 * @links_claimed: more, still in the table's cache (pt_meta.c).
 * @nr_links: how many arrays the stock holds in all.
 */
struct pt_stock {
	struct pt_table *head[PT_MAX_LEVELS];
	unsigned int count[PT_MAX_LEVELS];
	unsigned int total; /* sum of @count */
	struct pt_link *links;
	unsigned int links_claimed;
	unsigned int nr_links;
};

int pt_stock_fill(struct pt *pt, struct pt_stock *stock, const unsigned int need[PT_NEED_SLOTS]);
struct pt_table *pt_stock_take(struct pt *pt, struct pt_stock *stock, unsigned int lvl);
void pt_stock_drain(struct pt *pt, struct pt_stock *stock);

/* Metadata memory (pt_meta.c): table records, link arrays. */
struct pt_table *pt_record_alloc(struct pt *pt);
void pt_record_free(struct pt *pt, struct pt_table *t);
struct pt_link *pt_links_alloc_root(struct pt *pt);
int pt_links_reserve(struct pt *pt, struct pt_stock *stock, unsigned int n);
void pt_links_unreserve(struct pt *pt, struct pt_stock *stock);
void pt_links_take(struct pt *pt, struct pt_stock *stock, struct pt_table *t);
void pt_links_release(struct pt *pt, struct pt_table *t);
void pt_meta_destroy(struct pt *pt);

/* Give @t, about to get a child table, its link array (counted by the reservation). */
static inline void pt_links_ensure(struct pt *pt, struct pt_stock *stock, struct pt_table *t)
{
	if (!t->child)
		pt_links_take(pt, stock, t);
}

/**
 * struct pt_gather - what an operation must flush, and free after flushing.
 * @range: coalesced VA ranges, with whether only leaves changed in them.
 * @nr: ranges used.
 * @all: more separate ranges than fit: flush everything instead.
 * @to_free: tables unlinked by the operation (linked by ->next).
 */
#define PT_GATHER_RANGES 8
struct pt_gather {
	struct {
		uint64_t va, end;
		bool leaf_only;
	} range[PT_GATHER_RANGES];
	unsigned int nr;
	bool all;
	struct pt_table *to_free;
};

static inline void pt_gather_init(struct pt_gather *g)
{
	g->nr = 0;
	g->all = false;
	g->to_free = NULL;
}

void pt_gather_add(struct pt_gather *g, uint64_t va, uint64_t end, bool leaf_only);

/* The first range of empty gather @g. */
static inline void pt_gather_first(struct pt_gather *g, uint64_t va, uint64_t end, bool leaf_only)
{
	os_assert(!g->nr && !g->all);
	g->range[0].va = va;
	g->range[0].end = end;
	g->range[0].leaf_only = leaf_only;
	g->nr = 1;
}

/* Flush [@va, @end) too; @leaf_only: only leaves changed there. */
static inline void pt_gather_range(struct pt_gather *g, uint64_t va, uint64_t end, bool leaf_only)
{
	if (g->nr || g->all)
		pt_gather_add(g, va, end, leaf_only);
	else
		pt_gather_first(g, va, end, leaf_only);
}
void pt_gather_free(struct pt_gather *g, struct pt_table *t);
void pt_gather_flush_ranges(struct pt *pt, struct pt_gather *g);

/* Flush what changed; tables unlinked so far may be freed after this. */
static inline void pt_gather_flush(struct pt *pt, struct pt_gather *g)
{
	/* The usual one range (every one-op commit): one call, no loop, last. */
	if (g->nr == 1 && !g->all) {
		g->nr = 0;
		pt->cfg.flush->flush_range(pt->cfg.flush_ctx, g->range[0].va,
					   g->range[0].end - g->range[0].va, g->range[0].leaf_only);
		return;
	}
	pt_gather_flush_ranges(pt, g);
}
void pt_gather_release(struct pt *pt, struct pt_gather *g);
void pt_put_subtree(struct pt *pt, struct pt_gather *g, struct pt_table *t);
struct pt_table *pt_writable_child(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
				   struct pt_table *t, unsigned int idx, uint64_t item_va);

/*
 * Is @op (a map or an unmap) whole items of @t's level, and, for a map, can
 * each be one leaf there (pt_pat_leaf_fits() without a period)?
 */
static inline bool pt_leaves_fit(const struct pt *pt, const struct pt_table *t,
				 const struct pt_op *op)
{
	uint64_t mask = pt_size(pt, t->level) - 1;

	if ((op->va | op->size) & mask)
		return false;
	return op->type == PT_OP_UNMAP || (pt_leaf_allowed(pt, t->level) && !(op->pa & mask));
}

/* The commits behind pt_commit() (pt_map.c, pt_unmap.c), and the one-op calls. */
/*
 * @start: NULL, or the table pt_descend() reaches for the op, with the tables
 * above it still as they were when it was found.
 */
void pt_map_commit(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
		   const struct pt_op *op, struct pt_table *start);

/*
 * Pages [@va, @va + @size) to @pa in linked leaf table @t: a map at the leaf
 * level. The caller makes them visible to the walker (pt_sync_pages()).
 */
static inline void pt_write_pages(const struct pt *pt, struct pt_table *t, uint64_t va, uint64_t pa,
				  uint64_t size, uint64_t attrs)
{
	unsigned int shift = pt_shift(pt, PT_LEAF_LEVEL);
	unsigned int n = (unsigned int)(size >> shift);
	uint64_t desc = pt_leaf_desc(pt, PT_LEAF_LEVEL, pa, attrs);
	uint64_t *item = &t->items[pt_index(pt, PT_LEAF_LEVEL, va)];

	pt_store(&item[0], desc);
	for (unsigned int i = 1; i < n; i++)
		pt_store(&item[i], desc + ((uint64_t)i << shift));
	t->live += n;
}

/*
 * Whole blocks [@va, @va + @size) to @pa in linked table @t above the leaf
 * level, their items all invalid. The caller makes them visible to the walker
 * (pt_sync_leaves()).
 */
static inline void pt_write_blocks(const struct pt *pt, struct pt_table *t, uint64_t va,
				   uint64_t pa, uint64_t size, uint64_t attrs)
{
	unsigned int lvl = t->level, shift = pt_shift(pt, lvl);
	unsigned int n = (unsigned int)(size >> shift);
	uint64_t desc = PT_DESC_BLOCK | pa | attrs; /* above the leaf level */
	uint64_t *item = &t->items[pt_index(pt, lvl, va)];

	/* At least one: @size is a non-zero multiple of the block size. */
	pt_store(&item[0], desc);
	for (unsigned int i = 1; i < n; i++)
		pt_store(&item[i], desc + ((uint64_t)i << shift));
	t->live += n;
}

/* Make the items of leaves [@va, @va + @size), whole items of linked table @t, visible. */
static inline void pt_sync_leaves(const struct pt *pt, const struct pt_table *t, uint64_t va,
				  uint64_t size)
{
	unsigned int first;

	if (pt->cfg.coherent_walk)
		return;
	first = pt_index(pt, t->level, va);
	pt_sync_items(pt, t, first, first + (unsigned int)(size >> pt_shift(pt, t->level)));
}

/* Make the items of pages [@va, @va + @size) of leaf table @t visible to the walker. */
static inline void pt_sync_pages(const struct pt *pt, const struct pt_table *t, uint64_t va,
				 uint64_t size)
{
	unsigned int first;

	if (pt->cfg.coherent_walk)
		return; /* before the index: nothing to compute for a walker that snoops */
	first = pt_index(pt, PT_LEAF_LEVEL, va);
	pt_sync_items(pt, t, first, first + (unsigned int)(size >> pt_shift(pt, PT_LEAF_LEVEL)));
}

/*
 * The usual small unmap: the one mapped page at @va of leaf table @t, which
 * keeps others mapped. Clear it; the caller gathers and syncs it. False, with
 * nothing done, for any other unmap of [@va, @va + @size) in @t.
 */
static inline bool pt_clear_page(const struct pt *pt, struct pt_table *t, uint64_t va,
				 uint64_t size)
{
	uint64_t *item = &t->items[pt_index(pt, PT_LEAF_LEVEL, va)];

	if (size != pt_size(pt, PT_LEAF_LEVEL) || t->live < 2 || !(*item & PT_DESC_VALID))
		return false;
	pt_store(item, 0);
	t->live--;
	return true;
}

/*
 * The usual unmap of whole blocks: every item of [@va, @va + @size) in @t,
 * above the leaf level, a block (no table below to drop), and @t keeps other
 * entries. Clear them; the caller gathers and syncs them. False, with nothing
 * done, for any other unmap of whole items of @t.
 */
static inline bool pt_clear_blocks(const struct pt *pt, struct pt_table *t, uint64_t va,
				   uint64_t size)
{
	unsigned int lvl = t->level, n = (unsigned int)(size >> pt_shift(pt, lvl));
	uint64_t *item = &t->items[pt_index(pt, lvl, va)];

	if (t->live <= n)
		return false;
	for (unsigned int i = 0; i < n; i++)
		if ((item[i] & PT_DESC_TYPE_MASK) != PT_DESC_BLOCK)
			return false;
	for (unsigned int i = 0; i < n; i++)
		pt_store(&item[i], 0);
	t->live -= n;
	return true;
}

/*
 * A replace of pages [@op->va, @op->va + @op->size) inside leaf table @t:
 * written over what was there (no table can empty in between). The live count
 * gains the items that were invalid. Return the bytes that were mapped. The
 * caller syncs and gathers them.
 */
static inline uint64_t pt_replace_pages(const struct pt *pt, struct pt_table *t,
					const struct pt_op *op)
{
	unsigned int shift = pt_shift(pt, PT_LEAF_LEVEL);
	unsigned int first = pt_index(pt, PT_LEAF_LEVEL, op->va);
	unsigned int n = (unsigned int)(op->size >> shift), valid = 0;

	for (unsigned int i = 0; i < n; i++)
		valid += (t->items[first + i] & PT_DESC_VALID) != 0;
	pt_write_pages(pt, t, op->va, op->pa, op->size, pt->attrs_of_prot[op->prot]);
	t->live -= valid;
	return (uint64_t)valid << shift;
}

/* A REPLACE (pt_map.c): the unmap's commit, then the map's. Return the bytes unmapped. */
uint64_t pt_replace_commit(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
			   const struct pt_op *op, struct pt_table *start);

/* Return the bytes that were mapped in the range. */
uint64_t pt_unmap_pages(struct pt *pt, struct pt_gather *g, const struct pt_op *op,
			struct pt_table *t);
uint64_t pt_unmap_commit(struct pt *pt, struct pt_stock *stock, struct pt_gather *g,
			 const struct pt_op *op, struct pt_table *start);
int pt_apply_op(struct pt *pt, const struct pt_op *op, uint64_t *unmapped);
void pt_resv_priv_destroy(struct pt *pt, struct pt_resv_priv *p);
/* pt_destroy() with reservations alive: complete, give up or release each. */
void pt_resv_abandon_all(struct pt *pt);

/* Argument checks shared by map and unmap (inline: every call of one op makes them). */
static inline int pt_check_va_range(const struct pt *pt, uint64_t va, uint64_t size)
{
	uint64_t end;

	if (!size || ((va | size) & pt->granule_mask))
		return -EINVAL;
	if (__builtin_add_overflow(va, size, &end) || end > pt->va_limit)
		return -ERANGE;
	return 0;
}

/* @pa_len: bytes of output the map uses from @pa (the period of a pattern). */
static inline int pt_check_map_args(const struct pt *pt, uint64_t va, uint64_t size, uint64_t pa,
				    uint64_t pa_len, uint32_t prot)
{
	uint64_t pa_end;
	int err = pt_check_va_range(pt, va, size);

	if (err)
		return err;
	if ((pa | pa_len) & pt->granule_mask || !pa_len)
		return -EINVAL;
	if (__builtin_add_overflow(pa, pa_len, &pa_end) || pa_end > pt->pa_limit)
		return -ERANGE;
	return pt_prot_check(pt, prot);
}

#endif /* GPUVM_PT_INTERNAL_H */
