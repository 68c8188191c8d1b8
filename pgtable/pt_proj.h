/* SPDX-License-Identifier: MIT */
/*
 * Private to pgtable/: the projection, what the tables will look like once
 * every outstanding reserved op has committed. pt_reserve() runs each op on it
 * to count exactly the tables the op's commit will take, and to check the op
 * against the state the earlier ops leave.
 *
 * DOC: projection
 *
 * A projected table (struct pt_pnode) stands for a real table (whose items it
 * reads until an op overrides them) or for a table a reserved op will create.
 * Overrides are sorted runs of items with one kind each, so mapping a whole
 * table is one run, not 512 entries. The projection follows the commit
 * algorithm decision for decision (pt_map.c, pt_unmap.c): a table is counted
 * wherever the commit will take one from the stock - a new table, a split
 * block, a copy of a shared table - and nowhere else.
 *
 * It is a cache of "real tables + outstanding ops": every change of the real
 * tables (a commit) and every failed simulation invalidates it, and the next
 * pt_reserve() rebuilds it by replaying the outstanding ops.
 */
#ifndef GPUVM_PT_PROJ_H
#define GPUVM_PT_PROJ_H

#include "pt_internal.h"

enum pt_pkind {
	PK_INVALID,
	PK_LEAF,
	PK_TABLE,       /* child is a struct pt_pnode */
	PK_FULL_LEAVES, /* a private new leaf-level table, every item a leaf; not materialized */
};

struct pt_pnode;

/* Items [first, end) are of @kind (PK_TABLE: all point at @child). */
struct pt_prun {
	uint32_t first, end;
	uint8_t kind;
	struct pt_pnode *child;
};

struct pt_pnode {
	const struct pt_table *real; /* backing table, NULL for a table ops create */
	struct pt_pnode *hnext;      /* chain of the real-table hash */
	struct pt_prun *runs;        /* overrides, sorted and disjoint */
	uint32_t nruns, cap_runs;
	uint32_t live; /* projected valid items */
	uint32_t refs; /* projected parent items pointing here */
	uint8_t level;
	uint8_t base;       /* kind of items neither overridden nor backed */
	bool created;       /* a table an op creates (new, split, copy) */
	bool links;         /* it will have a link array (it holds or held a table entry) */
	const void *pinner; /* reservation that pins the real table */
};

/* The projection of one page table; lives in struct pt while valid. */
struct pt_proj;

/**
 * struct pt_sim - one simulated op.
 * @need: tables the op's commit will take, per level, and the link arrays
 *	(need[PT_NEED_LINKS]) of tables it gives their first child table (out).
 * @pinner: reservation that will pin the real tables the op reads, or NULL
 *	when replaying an op that is pinned already.
 * @touched/@nr_touched/@cap_touched: real tables read for the first time by
 *	@pinner (out; lives as long as the projection).
 * @touched_va: VA of the position where each touched table was found.
 * @start/@path: counted straight on the tables (pt_fast.c): where the op's
 *	commit may start (pt_descend()); the tables above it (recorded with
 *	@fast_record only).
 * @fast_touched/@fast_touched_va: @touched and @touched_va of a fast count,
 *	filled only when @fast_record is set (@nr_touched counts them either way).
 * @fast_record: a fast count records the tables it touches.
 */
#define PT_FAST_TOUCHED 16
struct pt_sim {
	unsigned int need[PT_NEED_SLOTS];
	struct pt_table *start;
	struct pt_table *path[PT_MAX_LEVELS];
	struct pt_table *fast_touched[PT_FAST_TOUCHED];
	uint64_t fast_touched_va[PT_FAST_TOUCHED];
	const void *pinner;
	struct pt_table **touched;
	uint64_t *touched_va;
	unsigned int nr_touched, cap_touched;
	bool fast_record;
};

/* An empty count for @pinner; the fast_* arrays are left as they are (unread until filled). */
static inline void pt_sim_init(struct pt_sim *sim, const void *pinner)
{
	for (unsigned int l = 0; l < PT_NEED_SLOTS; l++)
		sim->need[l] = 0;
	sim->start = NULL;
	sim->pinner = pinner;
	sim->touched = NULL;
	sim->touched_va = NULL;
	sim->nr_touched = 0;
	sim->cap_touched = 0;
	sim->fast_record = false;
}

/* Made with the page table (pt_create()), freed with it (pt_destroy()). */
int pt_proj_create(struct pt *pt);
void pt_proj_free(struct pt *pt);
/* The projection of @pt's queue, rebuilt if stale. */
int pt_proj_get(struct pt *pt, struct pt_proj **out);
/* Mark the projection stale: the real tables changed. */
static inline void pt_proj_invalidate(struct pt *pt)
{
	pt->proj_valid = false;
}
/* Around a reservation: on failure, stale and back to the memory it had. */
unsigned int pt_proj_mark(const struct pt *pt);
void pt_proj_abandon(struct pt *pt, unsigned int mark);
/* Simulate @op on the projection; on error the projection is left stale. */
int pt_proj_run(struct pt_proj *pj, const struct pt_op *op, struct pt_sim *sim);
/* One op on the real tables, the queue being empty (pt_fast.c); -EAGAIN: not handled. */
int pt_fast_count(struct pt *pt, const struct pt_op *op, struct pt_sim *sim);
void pt_fast_check(struct pt *pt, const struct pt_op *op, int fast_err, const struct pt_sim *fast);

/*
 * A map (without a period), an unmap or a replace inside the span of the table
 * the last descent reached, not covering it whole: the table pt_descend()
 * would return for it. The table, or NULL.
 */
static inline struct pt_table *pt_fast_inside(const struct pt *pt, const struct pt_op *op)
{
	struct pt_table *t = pt->last.t;
	uint64_t end = op->va + op->size;

	if (op->type == PT_OP_MAP_REPEAT || !t)
		return NULL;
	if (op->va < pt->last.va || end > pt->last.end ||
	    end - op->va >= pt->last.end - pt->last.va)
		return NULL;
	return t;
}

/*
 * An op (not a repeat) outside the remembered span: the table pt_descend()
 * reaches for it, which it remembers (pt_fast_inside() would return it now),
 * or NULL where the descent stays at the root.
 */
static inline struct pt_table *pt_fast_descend(struct pt *pt, const struct pt_op *op)
{
	struct pt_table *t;

	if (op->type == PT_OP_MAP_REPEAT)
		return NULL;
	t = pt_descend(pt, op->va, op->va + op->size, NULL);
	return t != pt->root ? t : NULL;
}

/*
 * The usual small bind: pages inside the remembered leaf table
 * (pt_fast_inside()). The table, or NULL. Such an op takes no table (a
 * replace's unmap cannot drop the table: it pins it, and its map fills it
 * again); it pins the tables down to it (struct pt_descent.path and itself).
 */
static inline struct pt_table *pt_fast_leaf(const struct pt *pt, const struct pt_op *op)
{
	struct pt_table *t = pt_fast_inside(pt, op);

	return t && t->level == PT_LEAF_LEVEL ? t : NULL;
}

/* The leaf-level items of [@va, @end) in @t are all invalid. */
static inline bool pt_leaves_free(const struct pt *pt, const struct pt_table *t, uint64_t va,
				  uint64_t end)
{
	unsigned int a = pt_index(pt, PT_LEAF_LEVEL, va);
	unsigned int n = (unsigned int)((end - va) >> pt_shift(pt, PT_LEAF_LEVEL));
	uint64_t any = t->items[a];

	for (unsigned int i = 1; i < n; i++)
		any |= t->items[a + i];
	return !(any & PT_DESC_VALID);
}

/* The verdict on an op pt_fast_leaf() took: a map needs its pages free (not an unmap, a replace). */
static inline int pt_fast_leaf_verdict(const struct pt *pt, const struct pt_op *op,
				       const struct pt_table *t)
{
	if (op->type != PT_OP_MAP || pt_leaves_free(pt, t, op->va, op->va + op->size))
		return 0;
	return -EEXIST;
}

/*
 * The same above the leaf level, for @op inside the span of @t
 * (pt_fast_inside()), a table above the leaf level: whole blocks of @t (2M
 * blocks in a level-2 table, struct pt_descent.block_mask; an unmap has PA 0)
 * take no table either. Their verdict: a map needs its items free. A valid
 * item may hold an empty table the map would replace (count_map()): -EAGAIN,
 * the count decides; so do ops of anything but whole blocks. A replace is
 * taken as a map: over free items its unmap does nothing.
 */
static inline int pt_fast_blocks_verdict(const struct pt *pt, const struct pt_op *op,
					 const struct pt_table *t)
{
	unsigned int lvl = t->level, shift, n;
	const uint64_t *item;
	uint64_t any;

	os_assert(t == pt->last.t && (op->type != PT_OP_UNMAP || !op->pa));
	if ((op->va | op->size | op->pa) & pt->last.block_mask)
		return -EAGAIN;
	if (op->type == PT_OP_UNMAP)
		return 0;
	shift = pt_shift(pt, lvl);
	n = (unsigned int)(op->size >> shift);
	item = &t->items[pt_index(pt, lvl, op->va)];
	any = item[0]; /* at least one: the size is a non-zero multiple of the block */
	for (unsigned int i = 1; i < n; i++)
		any |= item[i];
	/* A replace over free items is a map (pt_replace_commit()). */
	return any & PT_DESC_VALID ? -EAGAIN : 0;
}

/* PT_DEBUG_CHECK_RESERVE for an op pt_fast_leaf() took, with verdict @err, reserved by @pinner. */
void pt_fast_leaf_check(struct pt *pt, const struct pt_op *op, struct pt_table *t, int err,
			const void *pinner);
/* Replay every outstanding reserved op on a fresh projection (pt_resv.c). */
int pt_resv_replay(struct pt *pt, struct pt_proj *pj);

#endif /* GPUVM_PT_PROJ_H */
