// SPDX-License-Identifier: MIT
/*
 * Metadata memory (DOC: table metadata in pt_internal.h): where table records
 * and link arrays come from.
 *
 * Records are carved from slabs of PT_SLAB_RECORDS, so that a table costs no
 * host allocation of its own: a slab is allocated when every one is full, and
 * given back when its last record is freed (a failed or given-up reservation
 * leaves the host allocations as they were). Freeing records one by one to the
 * host left hundreds of small chunks for the host allocator to merge on the
 * next large request.
 *
 * Link arrays of tables below the root all have the same size. One that a
 * freed table held is clean (pt_put_subtree() cleared every link it followed)
 * and is kept in a small per-table cache, up to PT_LINKS_CACHE_BYTES, instead
 * of being freed and zeroed again for the next table that gets a child table.
 * A reservation claims cached arrays (it does not take them out: giving the
 * reservation up returns the claims, and memory is as before) and allocates
 * the rest; its commit takes its own arrays first, then claimed ones.
 *
 * All of it runs under the one writer (DOC: concurrency): no lock.
 */

#include "pt_internal.h"

#define PT_SLAB_RECORDS 63
#define PT_LINKS_CACHE_BYTES 65536u

struct pt_slab {
	struct pt_slab *next, *prev; /* on pt->slabs while it has a free record */
	struct pt_table *free;       /* free records, through ->next */
	unsigned int used;
	struct pt_table rec[PT_SLAB_RECORDS];
};

static void slab_list(struct pt *pt, struct pt_slab *s)
{
	s->prev = NULL;
	s->next = pt->slabs;
	if (pt->slabs)
		pt->slabs->prev = s;
	pt->slabs = s;
}

static void slab_unlist(struct pt *pt, struct pt_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		pt->slabs = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static struct pt_slab *slab_new(struct pt *pt)
{
	struct pt_slab *s = pt_host_zalloc(&pt->cfg, sizeof(*s));

	if (!s)
		return NULL;
	pt->stats.meta_bytes += sizeof(*s);
	for (unsigned int i = PT_SLAB_RECORDS; i--;) {
		s->rec[i].next = s->free;
		s->free = &s->rec[i];
	}
	slab_list(pt, s);
	return s;
}

struct pt_table *pt_record_alloc(struct pt *pt)
{
	struct pt_slab *s = pt->slabs ? pt->slabs : slab_new(pt);
	struct pt_table *t;

	if (!s)
		return NULL;
	t = s->free;
	s->free = t->next;
	s->used++;
	if (!s->free)
		slab_unlist(pt, s);
	memset(t, 0, sizeof(*t));
	t->slab = s;
	return t;
}

void pt_record_free(struct pt *pt, struct pt_table *t)
{
	struct pt_slab *s = t->slab;

	if (!s->free)
		slab_list(pt, s); /* it was full */
	t->next = s->free;
	s->free = t;
	if (--s->used)
		return;
	slab_unlist(pt, s);
	pt->stats.meta_bytes -= sizeof(*s);
	pt_host_free(&pt->cfg, s);
}

/* Bytes of the link array of a table below the root (as many items as a leaf table). */
static size_t links_bytes(const struct pt *pt)
{
	return (size_t)pt_nitems(pt, PT_LEAF_LEVEL) * sizeof(struct pt_link);
}

/*
 * Link arrays not in use go on a chain through their first word; the word is
 * cleared again when one is taken.
 */
static struct pt_link *links_next(struct pt_link *links)
{
	return (struct pt_link *)(void *)links[0].items;
}

static void links_push(struct pt_link **chain, struct pt_link *links)
{
	links[0].items = (uint64_t *)(void *)*chain;
	*chain = links;
}

static struct pt_link *links_pop(struct pt_link **chain)
{
	struct pt_link *links = *chain;

	*chain = links_next(links);
	links[0].items = NULL;
	return links;
}

static void links_host_free(struct pt *pt, struct pt_link *links)
{
	pt->stats.meta_bytes -= links_bytes(pt);
	pt_host_free(&pt->cfg, links);
}

int pt_links_reserve(struct pt *pt, struct pt_stock *stock, unsigned int n)
{
	unsigned int unclaimed = pt->nr_links_cache - pt->links_claimed;
	unsigned int claim = n < unclaimed ? n : unclaimed;
	struct pt_link *added = NULL;

	pt_check_may_alloc(&pt->cfg, "a link array");
	for (unsigned int i = claim; i < n; i++) {
		struct pt_link *links = pt_host_zalloc(&pt->cfg, links_bytes(pt));

		if (!links) {
			while (added)
				links_host_free(pt, links_pop(&added));
			return -ENOMEM;
		}
		pt->stats.meta_bytes += links_bytes(pt);
		links_push(&added, links);
	}
	while (added)
		links_push(&stock->links, links_pop(&added));
	pt->links_claimed += claim;
	stock->links_claimed += claim;
	stock->nr_links += n;
	return 0;
}

void pt_links_unreserve(struct pt *pt, struct pt_stock *stock)
{
	while (stock->links)
		links_host_free(pt, links_pop(&stock->links));
	pt->links_claimed -= stock->links_claimed;
	stock->links_claimed = 0;
	stock->nr_links = 0;
}

void pt_links_take(struct pt *pt, struct pt_stock *stock, struct pt_table *t)
{
	struct pt_link *links;

	os_assert(stock->nr_links &&
		  "a table got its first child table, but no link array was counted");
	os_assert(t->level != pt->geo.start_level);
	if (stock->links) {
		links = links_pop(&stock->links);
	} else {
		os_assert(stock->links_claimed && pt->links_claimed && pt->nr_links_cache);
		stock->links_claimed--;
		pt->links_claimed--;
		pt->nr_links_cache--;
		links = links_pop(&pt->links_cache);
	}
	stock->nr_links--;
	/* Clean before it is published: pt_prefetch() reads it without a descriptor. */
	os_store_release(&t->child, links);
}

/* Bytes of the root's link array (the root may hold more items than a leaf table). */
static size_t root_links_bytes(const struct pt *pt)
{
	return (size_t)pt_nitems(pt, pt->geo.start_level) * sizeof(struct pt_link);
}

struct pt_link *pt_links_alloc_root(struct pt *pt)
{
	size_t bytes = root_links_bytes(pt);
	struct pt_link *links = pt_host_zalloc(&pt->cfg, bytes);

	if (links)
		pt->stats.meta_bytes += bytes;
	return links;
}

/* Does @links, of a table of level @lvl, link nothing? (PT_DEBUG_CHECK_RESERVE checks it.) */
static inline bool links_clean(const struct pt *pt, unsigned int lvl, const struct pt_link *links)
{
	for (unsigned int i = 0; i < pt_nitems(pt, lvl); i++)
		if (links[i].table || links[i].items)
			return false;
	return true;
}

void pt_links_release(struct pt *pt, struct pt_table *t)
{
	struct pt_link *links = t->child;
	unsigned int cap = (unsigned int)(PT_LINKS_CACHE_BYTES / links_bytes(pt));

	t->child = NULL;
	if (t->level == pt->geo.start_level) {
		pt->stats.meta_bytes -= root_links_bytes(pt);
		pt_host_free(&pt->cfg, links);
		return;
	}
	if (pt->nr_links_cache >= cap) {
		links_host_free(pt, links);
		return;
	}
	os_assert(!(pt->cfg.debug & PT_DEBUG_CHECK_RESERVE) || links_clean(pt, t->level, links));
	links_push(&pt->links_cache, links);
	pt->nr_links_cache++;
}

void pt_meta_destroy(struct pt *pt)
{
	os_assert(!pt->links_claimed && !pt->slabs);
	while (pt->links_cache)
		links_host_free(pt, links_pop(&pt->links_cache));
	pt->nr_links_cache = 0;
}
