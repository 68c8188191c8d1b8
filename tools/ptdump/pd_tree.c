// SPDX-License-Identifier: MIT
/* Reading a VM's tables through MOCK_PT_READ, and its coalesced mappings. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <xf86drm.h>

#include <gpuvm/panthor_drm.h>
#include <gpuvm/pt_pool.h>

#include "pd.h"

static void no_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	(void)ctx, (void)va, (void)size, (void)leaf_only;
}

static void no_flush_all(void *ctx)
{
	(void)ctx;
}

static const struct pt_flush_ops no_flush = { no_flush_range, no_flush_all };

/*
 * A page table of the mock's format (panthor's: Mali AArch64 mode, 4 KiB,
 * 48-bit VA, 40-bit PA), never mapped into: only its decoder and geometry
 * are used, so that descriptor knowledge stays in pgtable/.
 */
static int decoder(struct pt **pt, struct pt_pool **pool)
{
	struct pt_pool_cfg pcfg = { .page_size = 4096 };
	struct pt_cfg cfg = { .fmt = PT_FMT_MALI_AARCH64,
			      .granule_lg2 = 12,
			      .ias = 48,
			      .oas = 40,
			      .coherent_walk = true,
			      .alloc = &pt_pool_ops,
			      .flush = &no_flush };
	int err = pt_pool_create(&pcfg, pool);

	if (err)
		return err;
	cfg.alloc_ctx = *pool;
	err = pt_create(&cfg, pt);
	if (err)
		pt_pool_destroy(*pool);
	return err;
}

uint64_t pd_span(const struct pd_tree *tree, unsigned int level)
{
	return 1ull << tree->geo.level_shift[level];
}

static int find_table(const struct pd_tree *tree, uint64_t pa)
{
	for (unsigned int i = 0; i < tree->n; i++)
		if (tree->t[i].pa == pa)
			return (int)i;
	return -1;
}

/* Read table @pa (0: the root) into a new tree node. */
static int read_table(struct pd_tree *tree, uint64_t pa, unsigned int level, uint64_t va,
		      unsigned int parent, unsigned int item)
{
	struct pd_table *t = realloc(tree->t, (tree->n + 1) * sizeof(*t));
	struct gpuvm_mock_pt_read r = { .vm_id = tree->vm_id, .pa = pa };

	if (!t)
		return -ENOMEM;
	tree->t = t;
	t = &tree->t[tree->n];
	memset(t, 0, sizeof(*t));
	for (unsigned int k = 0; k < PD_ENTRIES; k++)
		t->child[k] = -1;
	r.data = (uintptr_t)t->desc;
	r.size = sizeof(t->desc);
	if (drmIoctl(tree->fd, GPUVM_IOCTL_MOCK_PT_READ, &r))
		return -errno;
	t->pa = pa ? pa : r.root_pa;
	t->level = level;
	t->va = va;
	t->refs = 1;
	t->parent = parent;
	t->parent_item = item;
	tree->root_pa = r.root_pa;
	tree->table_pages = r.table_pages;
	tree->table_bytes = r.table_bytes;
	tree->n++;
	return 0;
}

/* Decode table @i and read the tables it points to that are new. */
static int expand(struct pd_tree *tree, const struct pt *pt, unsigned int i)
{
	unsigned int level = tree->t[i].level;
	unsigned int entries =
		level == tree->geo.start_level ? (unsigned int)tree->geo.top_entries : PD_ENTRIES;

	for (unsigned int k = 0; k < entries; k++) {
		struct pd_table *t = &tree->t[i];
		uint64_t va = t->va + k * pd_span(tree, level);
		int child, err;

		if (pt_decode_entry(pt, level, t->desc[k], &t->e[k]))
			t->e[k].type = PT_ENTRY_INVALID;
		if (t->e[k].type == PT_ENTRY_INVALID)
			continue;
		t->valid++;
		if (t->e[k].type != PT_ENTRY_TABLE)
			continue;
		child = find_table(tree, t->e[k].addr);
		if (child >= 0) {
			tree->t[child].refs++;
			tree->t[i].child[k] = child;
			continue;
		}
		err = read_table(tree, t->e[k].addr, level + 1, va, i, k);
		if (err)
			return err;
		tree->t[i].child[k] = (int)tree->n - 1;
	}
	return 0;
}

static int read_all(struct pd_tree *tree, const struct pt *pt)
{
	int err = read_table(tree, 0, tree->geo.start_level, 0, 0, 0);

	for (unsigned int i = 0; !err && i < tree->n; i++)
		err = expand(tree, pt, i);
	return err;
}

static int add_range(struct pd_tree *tree, const struct pd_range *r)
{
	if (tree->nr == tree->capr) {
		unsigned int cap = tree->capr ? 2 * tree->capr : 64;
		struct pd_range *p = realloc(tree->r, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		tree->r = p;
		tree->capr = cap;
	}
	tree->r[tree->nr++] = *r;
	return 0;
}

/* Does @r continue the last range (same kind of leaves, next VA, PA in step)? */
static bool extends(const struct pd_tree *tree, const struct pd_range *r)
{
	struct pd_range *last = tree->nr ? &tree->r[tree->nr - 1] : NULL;
	uint64_t unit;

	if (!last || last->va + last->size != r->va || last->level != r->level ||
	    last->prot != r->prot || last->shared != r->shared)
		return false;
	if (last->kind == PD_ALIAS || r->kind == PD_ALIAS)
		return last->kind == r->kind && last->table == r->table;
	unit = last->size / last->leaves;
	if (last->leaves == 1)
		return r->pa == last->pa || r->pa == last->pa + unit;
	return last->kind == PD_REPEAT ? r->pa == last->pa : r->pa == last->pa + last->size;
}

static int emit(struct pd_tree *tree, const struct pd_range *r)
{
	struct pd_range *last;

	if (!extends(tree, r))
		return add_range(tree, r);
	last = &tree->r[tree->nr - 1];
	if (last->kind != PD_ALIAS && last->leaves == 1)
		last->kind = r->pa == last->pa ? PD_REPEAT : PD_LINEAR;
	last->size += r->size;
	last->leaves += r->leaves;
	return 0;
}

/* The leaves under table @i, in VA order; shared tables expanded once. */
static int walk(struct pd_tree *tree, unsigned int i, uint64_t va, bool shared, bool *seen)
{
	const struct pd_table *t = &tree->t[i];
	uint64_t span = pd_span(tree, t->level);
	int err = 0;

	seen[i] = true;
	shared = shared || t->refs > 1;
	for (unsigned int k = 0; k < PD_ENTRIES && !err; k++, va += span) {
		const struct pt_entry *e = &t->e[k];
		int c = t->child[k];
		struct pd_range r = { .kind = PD_LINEAR,
				      .va = va,
				      .size = span,
				      .pa = e->addr,
				      .level = t->level,
				      .prot = e->prot,
				      .leaves = 1,
				      .table = i,
				      .shared = shared };

		if (e->type == PT_ENTRY_LEAF) {
			err = emit(tree, &r);
		} else if (c >= 0 && seen[c]) {
			r.kind = PD_ALIAS;
			r.table = (unsigned int)c;
			r.level = tree->t[c].level;
			r.prot = 0;
			r.shared = true;
			err = emit(tree, &r);
		} else if (c >= 0) {
			err = walk(tree, (unsigned int)c, va, shared, seen);
		}
	}
	return err;
}

/* Is @b the next period of @a (same PAs again, right after it)? */
static bool next_period(const struct pd_range *a, const struct pd_range *b)
{
	uint64_t period = a->period ? a->period : a->size;

	return a->kind != PD_ALIAS && b->kind == a->kind && b->pa == a->pa && !b->period &&
	       b->size == period && b->va == a->va + a->size && b->prot == a->prot &&
	       b->level == a->level && b->leaves * (a->size / period) == a->leaves;
}

/* Fold runs of identical neighbour ranges into periodic ranges. */
static void fold_periods(struct pd_tree *tree)
{
	unsigned int out = 0;

	for (unsigned int i = 0; i < tree->nr; i++) {
		struct pd_range *last = out ? &tree->r[out - 1] : NULL;

		if (last && next_period(last, &tree->r[i])) {
			last->period = last->period ? last->period : last->size;
			last->size += tree->r[i].size;
			last->leaves += tree->r[i].leaves;
			continue;
		}
		tree->r[out++] = tree->r[i];
	}
	tree->nr = out;
}

int pd_tree_read(struct pd_tree *tree, int fd, uint32_t vm_id)
{
	struct pt_pool *pool;
	struct pt *pt;
	bool *seen;
	int err = decoder(&pt, &pool);

	if (err)
		return err;
	memset(tree, 0, sizeof(*tree));
	tree->fd = fd;
	tree->vm_id = vm_id;
	pt_get_geometry(pt, &tree->geo);
	err = read_all(tree, pt);
	pt_destroy(pt);
	pt_pool_destroy(pool);
	seen = err ? NULL : calloc(tree->n, sizeof(*seen));
	if (!err && !seen)
		err = -ENOMEM;
	if (!err)
		err = walk(tree, 0, 0, false, seen);
	if (!err)
		fold_periods(tree);
	free(seen);
	return err;
}

void pd_tree_free(struct pd_tree *tree)
{
	free(tree->t);
	free(tree->r);
	memset(tree, 0, sizeof(*tree));
}

const char *pd_rwx(uint32_t prot)
{
	static const char *const names[8] = {
		"---", "r--", "-w-", "rw-", "--x", "r-x", "-wx", "rwx"
	};

	return names[prot & 7];
}

const char *pd_cache(uint32_t prot)
{
	return prot & PT_PROT_MMIO ? "device" : prot & PT_PROT_CACHE ? "cached" : "uncached";
}

const char *pd_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u < 4)
		v /= 1024, u++;
	snprintf(buf, len, v == (double)(uint64_t)v ? "%.0f %s" : "%.1f %s", v, units[u]);
	return buf;
}
