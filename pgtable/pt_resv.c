// SPDX-License-Identifier: MIT
/*
 * Reservations (DOC: reservation and commit in pt.h): the queue of outstanding
 * ones, pins, the commit steps, and the one-op calls built on them.
 *
 *   pt_reserve()        simulate on the projection, take the stock, pin
 *   pt_commit_begin()   enter the fence-signalling section
 *   pt_commit()         apply one op with the stock only
 *   pt_commit_end()     unpin (unlink what only the pins kept), flush
 *   pt_unreserve()      free what was unlinked, return the unused stock
 *
 * The usual bind, one op of pages inside the leaf table the last descent
 * reached while no reservation is outstanding, takes a lean path through all
 * five: a verdict instead of a count (reserve_fast()), the spare record, the
 * pages written or cleared where the reservation found them (pt_commit()),
 * the record kept as the spare again (pt_unreserve()). Its pins are taken
 * only if another op is reserved behind it (pin_fast_op()). A map of whole
 * blocks inside the remembered table above the leaf level takes the same
 * path (reserve_blocks(), commit_map_blocks()).
 */

#include "pt_proj.h"

struct pt_pin {
	struct pt_table *t;
	uint64_t va; /* where the reservation found it */
};

enum resv_state {
	RESV_OPEN,       /* reserving; queued once it holds an op */
	RESV_COMMITTING, /* between pt_commit_begin() and pt_commit_end() */
	RESV_COMMITTED,
};

/*
 * Op 0 of a reservation on an empty queue, written where the reservation found
 * its items free (struct pt_resv_priv.op0_lean): pages inside leaf table
 * @start, or whole blocks inside table @start above the leaf level; otherwise
 * through pt_map_commit() or pt_unmap_commit().
 */
enum op0_lean {
	OP0_GENERAL,
	OP0_PAGES,
	OP0_BLOCKS,
};

struct pt_resv_priv {
	struct pt_resv_priv *qnext;
	/*
	 * On pt->records from its allocation to its destruction: pt_destroy()
	 * finds the committed ones not released there, and no commit has to
	 * list them.
	 */
	struct pt_resv_priv *rnext, **rpprev;
	enum resv_state state;
	/*
	 * Side by side after @state, so that queueing op 0 sets them in one
	 * store, and end_commit() and priv_keep() all five in one: queued;
	 * taken from pt->spare_priv; op 0's pins still to be taken
	 * (pin_fast_op()); how op 0 commits in place in @start (enum op0_lean:
	 * pt_commit()'s lean paths).
	 */
	bool queued;
	bool was_spare;
	bool fast_unpinned;
	uint8_t op0_lean;
	struct pt_stock stock;
	struct pt_op *ops;
	unsigned int nr_ops, next_op, cap_ops; /* the first two zeroed together (priv_keep()) */
	struct pt_pin *pins;
	unsigned int nr_pins, cap_pins;
	struct pt_gather gather;
	/*
	 * Op 0 was counted straight on the tables: where its commit starts;
	 * the pins pin_fast_op() took.
	 */
	struct pt_table *start;
	unsigned int nr_fast_pins;
	struct pt_pin fast_pins[PT_FAST_TOUCHED];
};

/* The section is per thread: the OS layer keeps its depth (no TLS in the core). */
void pt_signalling_begin(void)
{
	os_signalling_begin();
}

void pt_signalling_end(void)
{
	os_signalling_end();
}

bool pt_in_signalling(void)
{
	return os_signalling_active();
}

void pt_resv_init(struct pt_resv *resv)
{
	memset(resv, 0, sizeof(*resv));
}

/*
 * An array that may have to grow: the bigger copy is made first and swapped in
 * only when everything else succeeded, so a failure leaves the old one.
 */
struct grown {
	void **arr;
	unsigned int *cap;
	void *bigger;
	unsigned int new_cap;
};

static int grow_prepare(struct pt *pt, struct grown *g, unsigned int want, size_t size)
{
	unsigned int n = *g->cap ? *g->cap : 4;

	g->bigger = NULL;
	if (want <= *g->cap)
		return 0;
	while (n < want)
		n *= 2;
	g->bigger = pt_host_zalloc(&pt->cfg, (size_t)n * size);
	if (!g->bigger)
		return -ENOMEM;
	if (*g->cap)
		memcpy(g->bigger, *g->arr, (size_t)*g->cap * size);
	g->new_cap = n;
	return 0;
}

static void grow_finish(struct pt *pt, struct grown *g, bool ok)
{
	if (!g->bigger)
		return;
	if (!ok) {
		pt_host_free(&pt->cfg, g->bigger);
		return;
	}
	pt_host_free(&pt->cfg, *g->arr);
	*g->arr = g->bigger;
	*g->cap = g->new_cap;
}

static int check_op(const struct pt *pt, const struct pt_op *op)
{
	/*
	 * Tests rather than a switch: a map or an unmap takes one or two. A
	 * replace is checked like a map (the unmap it starts with takes any
	 * range a map does).
	 */
	if (op->type == PT_OP_MAP || op->type == PT_OP_REPLACE) {
		if (op->period)
			return -EINVAL;
		return pt_check_map_args(pt, op->va, op->size, op->pa, op->size, op->prot);
	}
	if (op->type == PT_OP_UNMAP) {
		if (op->period || op->pa || op->prot)
			return -EINVAL;
		return pt_check_va_range(pt, op->va, op->size);
	}
	if (op->type == PT_OP_MAP_REPEAT)
		return pt_check_map_args(pt, op->va, op->size, op->pa, op->period, op->prot);
	return -EINVAL;
}

static void enqueue(struct pt *pt, struct pt_resv_priv *p)
{
	os_assert(!p->qnext);
	p->queued = true;
	if (pt->queue_tail)
		pt->queue_tail->qnext = p;
	else
		pt->queue = p;
	pt->queue_tail = p;
}

/* @p, the oldest (a commit's), leaves the queue. */
static inline void dequeue_head(struct pt *pt, struct pt_resv_priv *p)
{
	os_assert(p == pt->queue);
	pt->queue = p->qnext;
	if (!pt->queue)
		pt->queue_tail = NULL;
	p->qnext = NULL;
	p->queued = false;
}

static void dequeue(struct pt *pt, struct pt_resv_priv *p)
{
	struct pt_resv_priv **pp = &pt->queue, *prev = NULL;

	if (p == pt->queue && p == pt->queue_tail) {
		/* The usual case: the only one (its qnext is NULL, as the tail's). */
		pt->queue = pt->queue_tail = NULL;
		p->queued = false;
		return;
	}
	while (*pp != p) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	*pp = p->qnext;
	if (pt->queue_tail == p)
		pt->queue_tail = prev;
	p->qnext = NULL;
	p->queued = false;
}

int pt_resv_replay(struct pt *pt, struct pt_proj *pj)
{
	for (struct pt_resv_priv *p = pt->queue; p; p = p->qnext) {
		for (unsigned int i = 0; i < p->nr_ops; i++) {
			struct pt_sim sim = { 0 };
			int err = pt_proj_run(pj, &p->ops[i], &sim);

			/* It succeeded when reserved; only memory can fail now. */
			os_assert(err == 0 || err == -ENOMEM);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Tables in @need (its link arrays are not tables: struct pt_resv counts tables). */
static unsigned int sum(const unsigned int need[PT_NEED_SLOTS])
{
	unsigned int n = 0;

	for (unsigned int l = 0; l < PT_MAX_LEVELS; l++)
		n += need[l];
	return n;
}

/* Room for one more op and @pins more pins, and the @n tables in @need; all or nothing. */
static int take(struct pt *pt, struct pt_resv_priv *p, unsigned int pins,
		const unsigned int need[PT_NEED_SLOTS], unsigned int n)
{
	struct grown ops = { (void **)&p->ops, &p->cap_ops },
		     pn = { (void **)&p->pins, &p->cap_pins };
	int err;

	/* The usual one-op case: room already, and no table to take. */
	if (p->nr_ops < p->cap_ops && p->nr_pins + pins <= p->cap_pins && !n)
		return 0;
	os_assert(n || !need[PT_NEED_LINKS]); /* an array only for a new child table */
	err = grow_prepare(pt, &ops, p->nr_ops + 1, sizeof(*p->ops));

	pn.bigger = NULL;
	if (!err)
		err = grow_prepare(pt, &pn, p->nr_pins + pins, sizeof(*p->pins));
	if (!err && n)
		err = pt_stock_fill(pt, &p->stock, need);
	grow_finish(pt, &ops, !err);
	grow_finish(pt, &pn, !err);
	return err;
}

void pt_resv_priv_destroy(struct pt *pt, struct pt_resv_priv *p)
{
	*p->rpprev = p->rnext;
	if (p->rnext)
		p->rnext->rpprev = p->rpprev;
	pt_host_free(&pt->cfg, p->ops);
	pt_host_free(&pt->cfg, p->pins);
	pt_host_free(&pt->cfg, p);
}

static struct pt_resv_priv *priv_new(struct pt *pt)
{
	struct pt_resv_priv *p = pt->spare_priv;

	if (p) {
		pt->spare_priv = NULL;
		p->was_spare = true;
		return p;
	}
	p = pt_host_zalloc(&pt->cfg, sizeof(*p));
	if (p) {
		p->rnext = pt->records;
		if (p->rnext)
			p->rnext->rpprev = &p->rnext;
		p->rpprev = &pt->records;
		pt->records = p;
	}
	return p;
}

/* @p, released, becomes the spare (there is none). */
static inline void priv_keep(struct pt *pt, struct pt_resv_priv *p)
{
	/* Out of the queue (dequeue()), unpinned (unpin_all()), flushed and freed. */
	os_assert(!pt->spare_priv);
	os_assert(!p->stock.total && !p->gather.to_free && !p->gather.nr && !p->gather.all);
	os_assert(!p->queued && !p->qnext && !p->nr_pins && !p->nr_fast_pins && !p->fast_unpinned);
	p->nr_ops = p->next_op = 0;
	p->start = NULL;
	/* Every flag with @state, one store (was_spare is set when the spare is taken). */
	p->state = RESV_OPEN;
	p->queued = false;
	p->was_spare = false;
	p->fast_unpinned = false;
	p->op0_lean = OP0_GENERAL;
	pt->spare_priv = p;
}

/*
 * A released reservation's record becomes the table's spare, arrays and all,
 * so that one-op calls do not allocate bookkeeping each time. A failed
 * pt_reserve() puts back the spare it took: memory is exactly as before.
 */
static void priv_free(struct pt *pt, struct pt_resv *resv, bool failed)
{
	struct pt_resv_priv *p = resv->priv;

	pt_resv_init(resv);
	pt->resv_alive--;
	if (pt->spare_priv || (failed && !p->was_spare)) {
		pt_resv_priv_destroy(pt, p);
		return;
	}
	priv_keep(pt, p);
}

/* Record @op as reserved, and pin what its simulation relied on. */
static void record(struct pt_resv_priv *p, const struct pt_op *op, const struct pt_sim *sim)
{
	unsigned int n = sim->nr_touched;

	p->ops[p->nr_ops++] = *op;
	/* Index p->pins only when there is a pin: it is NULL until the first one is needed. */
	for (unsigned int i = 0; i < n; i++) {
		struct pt_table *t = sim->touched[i];

		t->pins++;
		p->pins[p->nr_pins + i] = (struct pt_pin){ t, sim->touched_va[i] };
	}
	p->nr_pins += n;
}

/* @p becomes @resv's record: one more reservation for pt_destroy() to find. */
static inline void attach_priv(struct pt *pt, struct pt_resv *resv, struct pt_resv_priv *p)
{
	resv->priv = p;
	pt->resv_alive++;
}

/* pt_reserve() into a reservation committed, being committed, or not the newest: refused. */
static os_noinline os_cold void reserve_refused(void)
{
	os_misuse(true && "pt_reserve() into a reservation committed or not the newest");
}

static int check_resv(const struct pt *pt, const struct pt_resv_priv *p)
{
	if (p && (p->state != RESV_OPEN || (p->queued && p != pt->queue_tail))) {
		reserve_refused(); /* void: the caller saves nothing around it */
		return -EBUSY;
	}
	if (pt->queue && pt->queue->state != RESV_OPEN)
		return -EBUSY; /* no reserving in the middle of a commit */
	return 0;
}

/*
 * Take the pins of op 0 of @p, the oldest reservation, counted straight on the
 * tables without them (reserve_fast()): another op is about to be simulated
 * behind it, and the projection it replays relies on them. Nothing changed the
 * tables since (@p has not committed), so counting again finds the same ones.
 */
static void pin_fast_op(struct pt *pt, struct pt_resv_priv *p)
{
	struct pt_sim sim;
	int err;

	pt_sim_init(&sim, NULL);
	sim.fast_record = true;
	err = pt_fast_count(pt, &p->ops[0], &sim);
	os_assert(!err && "the tables changed under the oldest reservation");
	(void)err;
	for (unsigned int i = 0; i < sim.nr_touched; i++) {
		sim.fast_touched[i]->pins++;
		p->fast_pins[i] = (struct pt_pin){ sim.fast_touched[i], sim.fast_touched_va[i] };
	}
	p->nr_fast_pins = sim.nr_touched;
	p->fast_unpinned = false;
}

/*
 * Queue @p, holding op 0 counted straight on the tables, whose commit starts
 * at @start (@lean: how, enum op0_lean); its pins are taken only if another
 * op is reserved before it commits (pin_fast_op()).
 */
static void queue_fast_op(struct pt *pt, struct pt_resv_priv *p, const struct pt_op *op,
			  struct pt_table *start, enum op0_lean lean, bool was_spare)
{
	/* enqueue() on the empty queue */
	os_assert(!pt->queue && !p->qnext);
	/* Adjacent, one after the other: the compiler merges them into one store. */
	p->queued = true;
	p->was_spare = was_spare;
	p->fast_unpinned = true;
	p->op0_lean = (uint8_t)lean;
	p->ops[0] = *op;
	p->nr_ops = 1;
	p->start = start;
	pt->queue = pt->queue_tail = p;
	/* The projection did not see this op: the next reservation replays it. */
	pt_proj_invalidate(pt);
}

static int reserve_projected(struct pt *pt, const struct pt_op *op, struct pt_resv *resv);

/*
 * The first op of a reservation on an empty queue: the projection would be the
 * real tables themselves, so the op is counted straight on them (pt_fast.c);
 * one the fast count does not handle is simulated on the projection.
 */
static os_noinline int reserve_counted(struct pt *pt, const struct pt_op *op, struct pt_resv *resv)
{
	struct pt_resv_priv *p;
	struct pt_sim sim;
	unsigned int n;
	int err;

	pt_sim_init(&sim, resv);
	sim.fast_record = pt->cfg.debug & PT_DEBUG_CHECK_RESERVE;
	err = pt_fast_count(pt, op, &sim);
	if (err == -EAGAIN)
		return reserve_projected(pt, op, resv);
	if (sim.fast_record)
		pt_fast_check(pt, op, err, &sim);
	if (err)
		return err;
	p = priv_new(pt);
	if (!p)
		return -ENOMEM;
	attach_priv(pt, resv, p);
	n = sum(sim.need);
	err = n || !p->cap_ops ? take(pt, p, 0, sim.need, n) : 0;
	if (err) {
		priv_free(pt, resv, true);
		return err;
	}
	/* An op the lean path does not take lands here too (a new leaf table): any level. */
	queue_fast_op(pt, p, op, sim.start,
		      sim.start && sim.start->level == PT_LEAF_LEVEL ? OP0_PAGES : OP0_GENERAL,
		      p->was_spare);
	resv->reserved += n;
	return 0;
}

/*
 * Op 0 of pages (@lean OP0_PAGES) or whole blocks (OP0_BLOCKS) in the
 * remembered table @t, with verdict @err: queued on spare @p.
 */
static inline int reserve_leaf(struct pt *pt, const struct pt_op *op, struct pt_resv *resv,
			       struct pt_table *t, struct pt_resv_priv *p, int err,
			       enum op0_lean lean)
{
	if (err)
		return err;
	pt->spare_priv = NULL;
	attach_priv(pt, resv, p);
	queue_fast_op(pt, p, op, t, lean, true);
	return 0;
}

/*
 * reserve_leaf() on the spare behind PT_DEBUG_CHECK_RESERVE's check of the
 * verdict: the same code, checked.
 */
static os_noinline int reserve_leaf_checked(struct pt *pt, const struct pt_op *op,
					    struct pt_resv *resv, struct pt_table *t, int err,
					    enum op0_lean lean)
{
	pt_fast_leaf_check(pt, op, t, err, resv);
	return reserve_leaf(pt, op, resv, t, pt->spare_priv, err, lean);
}

/*
 * Not pages: whole 2M blocks in the remembered level-2 table @t
 * (pt_fast_blocks_verdict()) take no table either, and are queued on the
 * spare like pages, with only their verdict; over valid items, or anything
 * else, a count.
 */
static os_noinline int reserve_blocks(struct pt *pt, const struct pt_op *op, struct pt_resv *resv,
				      struct pt_table *t)
{
	if (!pt->spare_priv || pt_fast_blocks_verdict(pt, op, t))
		return reserve_counted(pt, op, resv);
	if (pt->cfg.debug & PT_DEBUG_CHECK_RESERVE)
		return reserve_leaf_checked(pt, op, resv, t, 0, OP0_BLOCKS);
	return reserve_leaf(pt, op, resv, t, pt->spare_priv, 0, OP0_BLOCKS);
}

/*
 * The usual small bind, pages inside the remembered leaf table @t
 * (pt_fast_leaf()): no table to count or take, so no count is made; only the
 * verdict, checked against the projection like every fast count. The spare
 * record has room for the op (without one, reserve_counted() makes it).
 * Every call is the last thing done: nothing needs saving on the way.
 */
static inline int reserve_in(struct pt *pt, const struct pt_op *op, struct pt_resv *resv,
			     struct pt_table *t)
{
	struct pt_resv_priv *p = pt->spare_priv;
	int err;

	if (t->level != PT_LEAF_LEVEL)
		return reserve_blocks(pt, op, resv, t);
	/* A spare has room for an op: it held one (priv_free() keeps no other). */
	if (!p)
		return reserve_counted(pt, op, resv);
	os_assert(p->cap_ops);
	err = pt_fast_leaf_verdict(pt, op, t);
	if (pt->cfg.debug & PT_DEBUG_CHECK_RESERVE)
		return reserve_leaf_checked(pt, op, resv, t, err, OP0_PAGES);
	return reserve_leaf(pt, op, resv, t, p, err, OP0_PAGES);
}

/*
 * An op outside the span of the remembered table: the table pt_descend()
 * reaches for it, remembered, is where it starts; at the root (or for a
 * repeat), a count. Random binds land here: the descent is made once, and
 * the pages in their leaf table take the lean path as neighbours do.
 */
static os_noinline int reserve_descended(struct pt *pt, const struct pt_op *op,
					 struct pt_resv *resv)
{
	struct pt_table *t = pt_fast_descend(pt, op);

	if (!t)
		return reserve_counted(pt, op, resv);
	return reserve_in(pt, op, resv, t);
}

/* The first op of a reservation on an empty queue: in the remembered table, or after a descent. */
static inline int reserve_fast(struct pt *pt, const struct pt_op *op, struct pt_resv *resv)
{
	struct pt_table *t = pt_fast_inside(pt, op);

	if (!t)
		return reserve_descended(pt, op, resv);
	return reserve_in(pt, op, resv, t);
}

/*
 * Any other op: simulated on the projection of the queue. The op is checked
 * before anything is allocated, so a refused op (-EEXIST) costs nothing; then
 * the reservation takes what the simulation counted, all or nothing.
 */
static int reserve_projected(struct pt *pt, const struct pt_op *op, struct pt_resv *resv)
{
	struct pt_resv_priv *p = resv->priv;
	struct pt_sim sim;
	struct pt_proj *pj;
	unsigned int mark = pt_proj_mark(pt);
	unsigned int n;
	int err;

	if (pt->queue && pt->queue->fast_unpinned)
		pin_fast_op(pt, pt->queue);
	pt_sim_init(&sim, resv);
	err = pt_proj_get(pt, &pj);
	if (!err)
		err = pt_proj_run(pj, op, &sim);
	if (!err && !p) {
		p = priv_new(pt);
		err = p ? 0 : -ENOMEM;
		if (p)
			attach_priv(pt, resv, p);
	}
	n = sum(sim.need);
	if (!err)
		err = take(pt, p, sim.nr_touched, sim.need, n);
	if (err) {
		pt_proj_abandon(pt, mark);
		if (p && !p->nr_ops)
			priv_free(pt, resv, true);
		return err;
	}
	record(p, op, &sim);
	if (!p->queued)
		enqueue(pt, p);
	resv->reserved += n;
	return 0;
}

int pt_reserve(struct pt *pt, const struct pt_op *op, struct pt_resv *resv)
{
	int err = check_op(pt, op);

	if (err)
		return err;
	if (!resv->priv && !pt->queue)
		return reserve_fast(pt, op, resv);
	err = check_resv(pt, resv->priv);
	return err ? err : reserve_projected(pt, op, resv);
}

/* pt_commit_begin() of a reservation that is not the oldest outstanding: refused. */
static os_noinline int commit_begin_refused(void)
{
	os_misuse(true && "pt_commit_begin() of a reservation that is not the oldest outstanding");
	return -EINVAL;
}

int pt_commit_begin(struct pt *pt, struct pt_resv *resv)
{
	struct pt_resv_priv *p = resv->priv;

	if (p) {
		/* The oldest is the queue's head; one mid-commit is not RESV_OPEN. */
		if (p != pt->queue || p->state != RESV_OPEN)
			return commit_begin_refused();
		/* The gather is empty: a new record's is zero, and each use leaves it so (priv_keep()). */
		os_assert(!p->gather.nr && !p->gather.all && !p->gather.to_free);
		p->state = RESV_COMMITTING;
	}
	pt_signalling_begin();
	return 0;
}

/* Field by field: struct pt_op has padding, whose bytes nobody promises. */
static inline bool same_op(const struct pt_op *a, const struct pt_op *b)
{
	return a->type == b->type && a->va == b->va && a->size == b->size && a->pa == b->pa &&
	       a->period == b->period && a->prot == b->prot;
}

/* Apply the next reserved op of @p. */
static uint64_t commit_next(struct pt *pt, struct pt_resv_priv *p)
{
	const struct pt_op *op = &p->ops[p->next_op];
	struct pt_table *start = p->next_op++ ? NULL : p->start;
	uint64_t bytes = 0;

	if (op->type == PT_OP_UNMAP)
		bytes = pt_unmap_commit(pt, &p->stock, &p->gather, op, start);
	else if (op->type == PT_OP_REPLACE)
		bytes = pt_replace_commit(pt, &p->stock, &p->gather, op, start);
	else
		pt_map_commit(pt, &p->stock, &p->gather, op, start);
	return bytes;
}

/* pt_commit() of any op but op 0 of pages where the reservation found their leaf table. */
static os_noinline int commit_op(struct pt *pt, struct pt_resv *resv, struct pt_resv_priv *p,
				 uint64_t *unmapped)
{
	uint64_t bytes = commit_next(pt, p);

	if (unmapped)
		*unmapped = bytes;
	resv->consumed = resv->reserved - p->stock.total;
	return 0;
}

/*
 * The last step of a commit below for a walker that does not snoop: the
 * leaves written or cleared in @t made visible; 0, as pt_commit() returns.
 */
static os_noinline int commit_sync_leaves(struct pt *pt, struct pt_table *t, uint64_t va,
					  uint64_t size)
{
	pt_sync_leaves(pt, t, va, size);
	return 0;
}

/*
 * Op 0, a map of pages inside the leaf table where the reservation found
 * them: no table taken (the stock is as reserved).
 */
static inline int commit_map_pages(struct pt *pt, struct pt_resv *resv, struct pt_resv_priv *p,
				   const struct pt_op *op, uint64_t *unmapped)
{
	p->next_op = 1;
	pt_write_pages(pt, p->start, op->va, op->pa, op->size, pt->attrs_of_prot[op->prot]);
	/* Mali-class walkers may cache a fault: new leaves need a flush too. */
	pt_gather_first(&p->gather, op->va, op->va + op->size, true);
	if (unmapped)
		*unmapped = 0;
	/* Nothing consumed before op 0, nor by it: resv->consumed stays 0. */
	(void)resv; /* read by the assertion only */
	os_assert(!resv->consumed && resv->reserved == p->stock.total);
	/* Last: a call only for a walker that does not snoop, with nothing left to do after it. */
	if (!pt->cfg.coherent_walk)
		return commit_sync_leaves(pt, p->start, op->va, op->size);
	return 0;
}

/* Op 0, an unmap of pages inside the leaf table where the reservation found them. */
static os_noinline int commit_unmap_pages(struct pt *pt, struct pt_resv *resv,
					  struct pt_resv_priv *p, const struct pt_op *op,
					  uint64_t *unmapped)
{
	uint64_t bytes;

	p->next_op = 1;
	bytes = pt_unmap_pages(pt, &p->gather, op, p->start);
	if (unmapped)
		*unmapped = bytes;
	resv->consumed = resv->reserved - p->stock.total;
	return 0;
}

/*
 * Op 0, one page pt_clear_page() cleared in the leaf table where the
 * reservation found it, or whole blocks pt_clear_blocks() cleared likewise.
 */
static inline int commit_cleared_page(struct pt *pt, struct pt_resv *resv, struct pt_resv_priv *p,
				      const struct pt_op *op, uint64_t *unmapped)
{
	p->next_op = 1;
	pt_gather_first(&p->gather, op->va, op->va + op->size, true);
	if (unmapped)
		*unmapped = op->size;
	/* The rest as in commit_map_pages(). */
	(void)resv;
	os_assert(!resv->consumed && resv->reserved == p->stock.total);
	if (!pt->cfg.coherent_walk)
		return commit_sync_leaves(pt, p->start, op->va, op->size);
	return 0;
}

/*
 * Op 0, a map of whole blocks inside the table above the leaf level where the
 * reservation found their items free (pt_fast_blocks_verdict()): no table
 * taken, none dropped. The op's fields are read once: the stores to the
 * items could alias them, and would make the compiler read them again.
 */
static inline int commit_map_blocks(struct pt *pt, struct pt_resv_priv *p, const struct pt_op *op,
				    uint64_t *unmapped)
{
	uint64_t va = op->va, size = op->size;

	p->next_op = 1;
	pt_write_blocks(pt, p->start, va, op->pa, size, pt->attrs_of_prot[op->prot]);
	/* The rest as in commit_map_pages(). */
	pt_gather_first(&p->gather, va, va + size, true);
	if (unmapped)
		*unmapped = 0;
	if (!pt->cfg.coherent_walk)
		return commit_sync_leaves(pt, p->start, va, size);
	return 0;
}

/* pt_commit() outside the commit of a reservation with an op left, or of an op not the next one. */
static os_noinline int commit_refused(const struct pt_resv_priv *p, const struct pt_op *op)
{
	if (os_misuse((!p || p->state != RESV_COMMITTING || p->next_op == p->nr_ops) &&
		      "pt_commit() outside the commit of a reservation with an op left"))
		return -EINVAL;
	os_misuse(!same_op(op, &p->ops[p->next_op]) &&
		  "pt_commit() of an op that is not the next one reserved");
	return -EINVAL;
}

/*
 * The cases of op 0 inside its leaf table inline, with every call last;
 * the others (and a refusal) in functions of their own: only what a case
 * needs is saved.
 */
/* pt_commit() of anything but op 0: a later op, or a refusal. */
static os_noinline int commit_any(struct pt *pt, struct pt_resv *resv, const struct pt_op *op,
				  uint64_t *unmapped)
{
	struct pt_resv_priv *p = resv->priv;

	if (!p || p->state != RESV_COMMITTING || p->next_op == p->nr_ops ||
	    !same_op(op, &p->ops[p->next_op]))
		return commit_refused(p, op);
	return commit_op(pt, resv, p, unmapped);
}

/* commit_op0() of anything but a map of blocks: an unmap of blocks it clears at once, or any op. */
static os_noinline int commit_op0_unmap(struct pt *pt, struct pt_resv *resv, struct pt_resv_priv *p,
					const struct pt_op *op, uint64_t *unmapped)
{
	if (p->op0_lean == OP0_BLOCKS && op->type == PT_OP_UNMAP &&
	    pt_clear_blocks(pt, p->start, op->va, op->size))
		return commit_cleared_page(pt, resv, p, op, unmapped);
	return commit_op(pt, resv, p, unmapped);
}

/* pt_commit() of op 0 but not of pages inside their leaf table: blocks, or any op. */
static os_noinline int commit_op0(struct pt *pt, struct pt_resv *resv, const struct pt_op *op,
				  uint64_t *unmapped)
{
	struct pt_resv_priv *p = resv->priv; /* pt_commit()'s arguments: passed as they came */

	if (!same_op(op, &p->ops[0]))
		return commit_refused(p, op);
	if (p->op0_lean != OP0_BLOCKS || op->type != PT_OP_MAP)
		return commit_op0_unmap(pt, resv, p, op, unmapped);
	/* Nothing consumed before op 0, nor by it: resv->consumed stays 0. */
	os_assert(!resv->consumed && resv->reserved == p->stock.total);
	return commit_map_blocks(pt, p, op, unmapped);
}

int pt_commit(struct pt *pt, struct pt_resv *resv, const struct pt_op *op, uint64_t *unmapped)
{
	struct pt_resv_priv *p = resv->priv;

	/* Op 0 (the contract's checks with next_op known), or anything else. */
	if (!p || p->state != RESV_COMMITTING || p->next_op)
		return commit_any(pt, resv, op, unmapped);
	if (p->op0_lean != OP0_PAGES)
		return commit_op0(pt, resv, op, unmapped);
	if (!same_op(op, &p->ops[0]))
		return commit_any(pt, resv, op, unmapped);
	if (op->type == PT_OP_MAP)
		return commit_map_pages(pt, resv, p, op, unmapped);
	if (op->type == PT_OP_UNMAP && pt_clear_page(pt, p->start, op->va, op->size))
		return commit_cleared_page(pt, resv, p, op, unmapped);
	if (op->type == PT_OP_UNMAP)
		return commit_unmap_pages(pt, resv, p, op, unmapped);
	/* A REPLACE: pt_replace_commit() overwrites its pages in place from p->start. */
	return commit_op(pt, resv, p, unmapped);
}

/* Find the item that links @t, found at @va: its parent and index. */
static struct pt_table *find_parent(struct pt *pt, const struct pt_table *t, uint64_t va,
				    unsigned int *idx)
{
	struct pt_table *parent = pt->root;

	for (unsigned int lvl = pt->geo.start_level; lvl < t->level; lvl++) {
		struct pt_table *c;

		*idx = pt_index(pt, lvl, va);
		c = pt_child(parent, *idx);
		if (c == t)
			return parent;
		if (!c)
			return NULL;
		parent = c;
	}
	return NULL;
}

/*
 * Unlink @t, empty and no longer pinned, and then each parent that this
 * leaves empty and unpinned, up to the root.
 */
static void prune(struct pt *pt, struct pt_gather *g, struct pt_table *t, uint64_t va)
{
	unsigned int idx;
	struct pt_table *parent = find_parent(pt, t, va, &idx);

	while (parent) {
		uint64_t item_va = va & ~(pt_size(pt, parent->level) - 1);

		pt_store(&parent->items[idx], 0);
		pt_set_child(pt, parent, idx, NULL);
		parent->live--;
		pt_sync_items(pt, parent, idx, idx + 1);
		pt_put_subtree(pt, g, t);
		pt_gather_range(g, item_va, item_va + pt_size(pt, parent->level), false);
		if (parent == pt->root || parent->live)
			return;
		if (parent->pins) {
			parent->kept_va = va;
			return;
		}
		t = parent;
		parent = find_parent(pt, t, va, &idx);
	}
}

/* Drop @n pins; what only they kept goes now. */
static void unpin(struct pt *pt, const struct pt_pin *pins, unsigned int n, struct pt_gather *g)
{
	for (unsigned int i = 0; i < n; i++) {
		struct pt_table *t = pins[i].t;

		os_assert(t->pins);
		if (--t->pins)
			continue;
		if (t->orphan)
			pt_gather_free(g, t);
		else if (!t->live)
			prune(pt, g, t, t->kept_va);
	}
}

/* The pins unpin_all() drops, out of line: the usual one-op commit has none to save registers for. */
static os_noinline void unpin_taken(struct pt *pt, struct pt_resv_priv *p, struct pt_gather *g)
{
	if (p->nr_fast_pins)
		unpin(pt, p->fast_pins, p->nr_fast_pins, g);
	if (p->nr_pins)
		unpin(pt, p->pins, p->nr_pins, g);
	p->nr_fast_pins = p->nr_pins = 0;
}

/* Drop this reservation's pins (op 0's first, as they were taken). */
static inline void unpin_all(struct pt *pt, struct pt_resv_priv *p, struct pt_gather *g)
{
	p->fast_unpinned = false;
	/* None for one op on an empty queue: its pins were never taken. */
	if (p->nr_fast_pins | p->nr_pins)
		unpin_taken(pt, p, g);
}

/* The end of @p's commit, every op applied: unpin, flush, leave the queue. */
static inline void end_commit(struct pt *pt, struct pt_resv_priv *p)
{
	/* Exact, as for tables (resv.consumed == resv.reserved, which tests check). */
	os_assert(!p->stock.nr_links && "link arrays reserved but not used by the commit");
	unpin_all(pt, p, &p->gather);
	dequeue_head(pt, p); /* pt_commit_begin() checked that it is the oldest */
	/*
	 * With the flags (which unpin_all() and dequeue_head() cleared already,
	 * and which mean nothing once committed): one store.
	 */
	p->state = RESV_COMMITTED;
	p->queued = false;
	p->was_spare = false;
	p->fast_unpinned = false;
	p->op0_lean = OP0_GENERAL;
	pt_proj_invalidate(pt);
	/* Last: the flush reads only the gather, complete once the pins dropped. */
	pt_gather_flush(pt, &p->gather);
}

/* pt_commit_end() of a reservation whose commit has not begun, or with ops left. */
static os_noinline int commit_end_misused(struct pt *pt, struct pt_resv *resv,
					  struct pt_resv_priv *p)
{
	if (os_misuse(p->state != RESV_COMMITTING &&
		      "pt_commit_end() of a reservation whose commit has not begun"))
		return -EINVAL;
	/*
	 * Later reservations were checked against the state this one leaves:
	 * the ops not committed are applied, not dropped.
	 */
	os_misuse(p->next_op != p->nr_ops && "pt_commit_end() before every op");
	while (p->next_op < p->nr_ops)
		commit_next(pt, p);
	resv->consumed = resv->reserved - p->stock.total;
	end_commit(pt, p);
	pt_signalling_end();
	return -EINVAL;
}

/* pt_commit_end() with pins to drop: calls to save registers for. */
static os_noinline int commit_end_full(struct pt *pt, struct pt_resv_priv *p)
{
	end_commit(pt, p);
	pt_signalling_end();
	return 0;
}

int pt_commit_end(struct pt *pt, struct pt_resv *resv)
{
	struct pt_resv_priv *p = resv->priv;

	if (p) {
		if (p->state != RESV_COMMITTING || p->next_op != p->nr_ops)
			return commit_end_misused(pt, resv, p);
		/* The usual one-op commit has no pin: its flush is the only call, nothing to keep. */
		if (p->nr_fast_pins | p->nr_pins)
			return commit_end_full(pt, p);
		end_commit(pt, p);
	}
	pt_signalling_end();
	return 0;
}

/* pt_unreserve() of one given up, or holding tables to free or return, or with a spare already. */
static os_noinline int unreserve_slow(struct pt *pt, struct pt_resv *resv, struct pt_resv_priv *p)
{
	if (p->state != RESV_COMMITTED) {
		/* Given up: only the newest may be, before its commit begins. */
		if (os_misuse(p->state == RESV_COMMITTING &&
			      "pt_unreserve() of a reservation being committed"))
			return -EBUSY;
		if (os_misuse(
			    p->queued && p != pt->queue_tail &&
			    "pt_unreserve() of an uncommitted reservation that is not the newest"))
			return -EINVAL;
		if (p->queued)
			dequeue(pt, p);
		pt_gather_init(&p->gather);
		unpin_all(pt, p, &p->gather);
		pt_gather_flush(pt, &p->gather);
		pt_proj_invalidate(pt);
	}
	if (p->gather.to_free)
		pt_gather_release(pt, &p->gather);
	if (p->stock.total)
		pt_stock_drain(pt, &p->stock);
	priv_free(pt, resv, false);
	return 0;
}

int pt_unreserve(struct pt *pt, struct pt_resv *resv)
{
	struct pt_resv_priv *p = resv->priv;

	if (!p)
		return 0;
	if (p->state != RESV_COMMITTED || p->gather.to_free || p->stock.total || pt->spare_priv)
		return unreserve_slow(pt, resv, p);
	/* The usual one-op bind: nothing to free or return; the record becomes the spare. */
	pt_resv_init(resv);
	pt->resv_alive--;
	priv_keep(pt, p);
	return 0;
}

/*
 * pt_destroy() with reservations alive: a commit in progress is completed,
 * the outstanding ones are given up newest first, the committed ones released.
 * The callers' struct pt_resv still point at the records freed here.
 */
void pt_resv_abandon_all(struct pt *pt)
{
	struct pt_resv resv = { 0 };

	if (pt->queue && pt->queue->state == RESV_COMMITTING) {
		resv.priv = pt->queue;
		pt_commit_end(pt, &resv);
	}
	while (pt->queue_tail) {
		resv.priv = pt->queue_tail;
		pt_unreserve(pt, &resv);
	}
	/* Each release may free a record or make it the spare: look again from the start. */
	for (struct pt_resv_priv *p = pt->records; p;) {
		if (p->state != RESV_COMMITTED) {
			p = p->rnext;
			continue;
		}
		resv.priv = p;
		pt_unreserve(pt, &resv);
		p = pt->records;
	}
}

/* pt_map(), pt_unmap(), pt_map_repeat(): a reservation of one op, committed at once. */
int pt_apply_op(struct pt *pt, const struct pt_op *op, uint64_t *unmapped)
{
	struct pt_resv resv;
	int err;

	if (pt->queue)
		return -EBUSY;
	pt_resv_init(&resv);
	err = pt_reserve(pt, op, &resv);
	if (err) {
		pt_unreserve(pt, &resv);
		return err;
	}
	pt_commit_begin(pt, &resv);
	pt_commit(pt, &resv, op, unmapped);
	pt_commit_end(pt, &resv);
	pt_unreserve(pt, &resv);
	return 0;
}
