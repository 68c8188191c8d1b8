// SPDX-License-Identifier: MIT
/*
 * Bind transactions (DOC: transactions and locking in gvm.h).
 *
 * prepare, per request in order:
 *   1. split/merge against the projection (gvm_sm.c);
 *   2. doom the VAs that go, create the VAs that come (into vm->pending);
 *   3. turn the ops into table ops - unmap what leaves, map what comes, except
 *      where keep says the pages stay (same object, offset and protections) -
 *      and reserve each with the backend. A request's unmaps are joined into
 *      one, and a map over it becomes one replace (struct prep).
 * commit: move doomed and created VAs between the trees, apply the table ops.
 * cleanup: free doomed VAs and drop their references (outside the commit).
 * gvm_bind() of one request does all three at once without the bookkeeping
 * (DOC: the lone request, below).
 */

#include "gvm_internal.h"

struct lone;

/*
 * One request being prepared. Its ops come in ascending order, and between
 * the parts of VAs they unmap nothing is mapped: the unmaps since the last
 * map or kept part wait as one range (@unmap_va, @unmap_end), reserved as one
 * unmap before the next kept part or map, or turned into one replace by a map
 * run that covers it (unmapping the holes between the parts changes nothing).
 */
struct prep {
	struct gvm_txn *txn;
	const struct gvm_req *req;
	uint64_t mapped_to; /* end of the request already mapped or kept (unmapped: an unmap) */
	uint64_t unmap_va, unmap_end; /* the unmap not reserved yet; empty when equal */
	bool map_replaces; /* the request's map starts where a committed VA it dooms does */
	struct lone *lone; /* a lone request's record (DOC: the lone request), or NULL */
};

/*
 * Reserve a table op with the backend: it joins @txn's ops. Written straight
 * into its slot (no copy of a struct built on the stack).
 */
static inline int reserve_bop(struct gvm_txn *txn, enum pt_op_type type, uint64_t va, uint64_t size,
			      uint64_t pa, uint64_t period, uint32_t prot)
{
	struct gvm *vm = txn->vm;
	struct gvm_vec *v = &txn->bops;
	struct pt_op *op;
	int err;

	if (v->nr == v->cap && gvm_vec_grow(vm, v, sizeof(*op)))
		return -ENOMEM;
	op = (struct pt_op *)v->v + v->nr;
	*op = (struct pt_op){
		.type = type, .va = va, .size = size, .pa = pa, .period = period, .prot = prot
	};
	err = vm->cfg.backend->reserve(vm->backend, txn->bresv, op);
	v->nr += !err;
	return err;
}

/* Reserve the unmap waiting in @p, if any (out of line: a lone slot's bind has none). */
static os_noinline int reserve_unmap(struct prep *p)
{
	uint64_t va = p->unmap_va, end = p->unmap_end;

	if (va == end)
		return 0;
	p->unmap_end = va;
	return reserve_bop(p->txn, PT_OP_UNMAP, va, end - va, 0, 0, 0);
}

/*
 * Reserve the map of [@va, @va + @size) to @pa: a replace when it covers the
 * unmap waiting, which goes first otherwise.
 */
static int reserve_map(struct prep *p, uint64_t va, uint64_t size, uint64_t pa)
{
	bool waits = p->unmap_va != p->unmap_end;
	enum pt_op_type type = PT_OP_MAP;
	int err;

	if (waits && p->unmap_va >= va && p->unmap_end <= va + size) {
		type = PT_OP_REPLACE;
		p->unmap_end = p->unmap_va;
	} else if (waits && (err = reserve_unmap(p))) {
		return err;
	}
	return reserve_bop(p->txn, type, va, size, pa, 0, p->req->prot);
}

/* Table ops mapping [@s, @e) of the request: one per physically contiguous run. */
static int map_linear(struct prep *p, uint64_t s, uint64_t e)
{
	const struct gvm_req *req = p->req;
	uint64_t page_mask = p->txn->vm->page_mask;

	while (s < e) {
		uint64_t off = req->offset + (s - req->va), pa, contig, len;
		int err = req->obj->ops->phys(req->obj, off, &pa, &contig);

		if (err)
			return err;
		len = (contig < e - s ? contig : e - s) & ~page_mask;
		if (!len || (pa & page_mask))
			return -EINVAL;
		err = reserve_map(p, s, len, pa);
		if (err)
			return err;
		s += len;
	}
	return 0;
}

/*
 * A repeat request maps its object range as one pattern: it must be
 * contiguous. The unmap waiting goes first (there is no repeating replace).
 */
static int map_repeat(struct prep *p, uint64_t s, uint64_t e)
{
	const struct gvm_req *req = p->req;
	uint64_t pa, contig;
	int err = req->obj->ops->phys(req->obj, req->offset, &pa, &contig);

	if (err)
		return err;
	if (contig < req->repeat)
		return -EINVAL;
	err = reserve_unmap(p);
	if (err)
		return err;
	return reserve_bop(p->txn, PT_OP_MAP_REPEAT, s, e - s, pa, req->repeat, req->prot);
}

/* map_until() with something to map (out of line: a kept part or a map after one has not). */
static os_noinline int map_from(struct prep *p, uint64_t s, uint64_t end)
{
	p->mapped_to = end;
	return p->req->repeat ? map_repeat(p, s, end) : map_linear(p, s, end);
}

/* Map the request, a map, up to @end (what was not kept). */
static inline int map_until(struct prep *p, uint64_t end)
{
	os_assert(p->req->type == GVM_REQ_MAP && "only a map request maps");
	return p->mapped_to < end ? map_from(p, p->mapped_to, end) : 0;
}

/*
 * Part [@s, @e) of the request leaves the VM: its unmap waits (struct prep).
 * An unmap request has no map to end with, and nothing is mapped after its
 * first part up to its end: that part's unmap goes to the end, reserved now.
 */
static int unmap_part(struct prep *p, uint64_t s, uint64_t e)
{
	const struct gvm_req *req = p->req;

	if (req->type == GVM_REQ_MAP) {
		if (p->unmap_va == p->unmap_end)
			p->unmap_va = s;
		p->unmap_end = e;
		return 0;
	}
	if (s < p->mapped_to)
		return 0; /* unmapped already */
	p->mapped_to = req->va + req->size;
	return reserve_bop(p->txn, PT_OP_UNMAP, s, p->mapped_to - s, 0, 0, 0);
}

/*
 * The part of @old the request covers leaves the VM: unmap it - unless its
 * pages stay exactly as they are (keep, and the same protections), in which
 * case neither the unmap nor the map of that part reaches the tables.
 */
static int replace_part(struct prep *p, const struct gvm_op *op)
{
	const struct gvm_req *req = p->req;
	uint64_t s = op->old->va > req->va ? op->old->va : req->va;
	uint64_t e = gvm_va_end(op->old) < req->va + req->size ? gvm_va_end(op->old) :
								 req->va + req->size;
	int err;

	if (op->keep && op->old->prot == req->prot) {
		/* The map before it takes the unmap waiting (s > mapped_to when one waits). */
		err = map_until(p, s);
		if (!err)
			err = reserve_unmap(p);
		p->mapped_to = e;
		return err;
	}
	return unmap_part(p, s, e);
}

static int doom(struct gvm_txn *txn, struct gvm_va *va)
{
	int err = gvm_vec_push(txn->vm, &txn->doomed, &va, sizeof(va));

	if (!err) {
		va->state |= GVM_VA_DOOMED;
		va->doomer = txn;
		gvm_tree_of(txn->vm, va)->doomed++;
	}
	return err;
}

/*
 * The object's put is read first: the link's last put may free an object
 * whose references the driver keeps in its links (gvm_driver_ops.bo_free).
 */
static void drop_va(struct gvm *vm, struct gvm_va *va)
{
	struct gvm_obj *obj = va->bo->obj;
	void (*put)(struct gvm_obj * obj) = obj->ops->put;

	gvm_bo_unref(va->bo);
	gvm_va_release(vm, va);
	if (put)
		put(obj);
}

/* A new VA for @pc, holding a reference on its object; NULL: out of memory. */
static struct gvm_va *va_new(struct gvm *vm, const struct gvm_op_piece *pc)
{
	struct gvm_va *va = gvm_va_alloc(vm);

	if (!va)
		return NULL;
	va->bo = gvm_bo_obtain(vm, pc->obj);
	if (!va->bo) {
		gvm_va_release(vm, va);
		return NULL;
	}
	if (pc->obj->ops->get)
		pc->obj->ops->get(pc->obj);
	va->va = pc->va;
	va->size = pc->size;
	va->offset = pc->offset;
	va->repeat = pc->repeat;
	va->prot = pc->prot;
	return va;
}

/*
 * A new VA, pending until the commit (in the pending tree unless the
 * transaction is lazy); it holds a reference on its object.
 * @replaces: a committed VA this transaction dooms has the same start.
 */
static os_noinline int create_txn(struct gvm_txn *txn, const struct gvm_op_piece *pc, bool replaces)
{
	struct gvm *vm = txn->vm;
	struct gvm_va *va;

	if (!txn->lazy && gvm_tree_promise(vm, &vm->pending, 1))
		return -ENOMEM;
	va = va_new(vm, pc);
	if (!va)
		goto unpromise;
	if (gvm_vec_push(vm, &txn->created, &va, sizeof(va))) {
		drop_va(vm, va);
		goto unpromise;
	}
	va->state = GVM_VA_PENDING | (replaces ? GVM_VA_REPLACES : 0);
	va->creator = txn;
	if (!txn->lazy) {
		gvm_tree_insert(&vm->pending, va);
		vm->pending.promised--;
	}
	return 0;
unpromise:
	if (!txn->lazy)
		gvm_tree_unpromise(vm, &vm->pending, 1);
	return -ENOMEM;
}

static int create_lone(struct gvm *vm, struct lone *l, const struct gvm_op_piece *pc,
		       bool replaces);

/* A new VA of the request (DOC: the lone request: only recorded). */
static inline int create(struct prep *p, const struct gvm_op_piece *pc, bool replaces)
{
	if (p->lone)
		return create_lone(p->txn->vm, p->lone, pc, replaces);
	return create_txn(p->txn, pc, replaces);
}

/* A MAP op: its VA, and the map of what was not kept. */
static int apply_map_op(struct prep *p, const struct gvm_op *op)
{
	int err = create(p, &op->map, p->map_replaces);

	return err ? err : map_until(p, op->map.va + op->map.size);
}

/*
 * An UNMAP or REMAP op. The piece that starts where a committed @old did
 * (the piece before a cut, or the request's map) replaces it.
 */
static int apply_old_op(struct prep *p, const struct gvm_op *op)
{
	bool old_committed;
	int err;

	/* The commit unlinks it from its object's list: its neighbours are random VAs. */
	__builtin_prefetch(op->old->bo_link.prev, 1);
	__builtin_prefetch(op->old->bo_link.next, 1);
	old_committed = !(op->old->state & GVM_VA_PENDING);
	/* A lone request's olds are its record: nothing reads a doomed mark before they go. */
	err = p->lone ? 0 : doom(p->txn, op->old);
	if (!err && op->has_prev)
		err = create(p, &op->prev, old_committed);
	else if (p->req->va == op->old->va)
		p->map_replaces = old_committed && p->req->type == GVM_REQ_MAP;
	if (!err && op->has_next)
		err = create(p, &op->next, false);
	return err ? err : replace_part(p, op);
}

static int apply_op(struct prep *p, const struct gvm_op *op)
{
	return op->type == GVM_OP_MAP ? apply_map_op(p, op) : apply_old_op(p, op);
}

/* The ops of a request are all computed before the first applies. */
static int collect_op(void *priv, const struct gvm_op *op)
{
	struct prep *p = priv;
	struct gvm *vm = p->txn->vm;

	return gvm_vec_push(vm, &p->txn->scratch, op, sizeof(*op));
}

/* With driver ops the transaction keeps every op, with room for the VAs it creates. */
static int collect_txn_op(void *priv, const struct gvm_op *op)
{
	struct prep *p = priv;
	struct gvm_txn_op top = { .op = *op };

	return gvm_vec_push(p->txn->vm, &p->txn->scratch, &top, sizeof(top));
}

/*
 * The VAs @top just created (the last ones of txn->created) get their
 * private areas (DOC: driver hooks), then the driver prepares the op.
 */
static int driver_prepare(struct gvm_txn *txn, struct gvm_txn_op *top)
{
	const struct gvm_driver_ops *d = txn->vm->drv;
	struct gvm_va **created = (struct gvm_va **)txn->created.v + txn->created.nr;
	const struct gvm_op *op = &top->op;
	size_t priv = d->va_priv_size;
	int err;

	if (op->type == GVM_OP_MAP) {
		top->map_va = created[-1];
		memset(gvm_va_priv(top->map_va), 0, priv);
	} else {
		top->next_va = op->has_next ? *--created : NULL;
		top->prev_va = op->has_prev ? *--created : NULL;
		if (top->prev_va)
			memcpy(gvm_va_priv(top->prev_va), gvm_va_priv(op->old), priv);
		if (top->next_va)
			memcpy(gvm_va_priv(top->next_va), gvm_va_priv(op->old), priv);
	}
	err = d->op_prepare ? d->op_prepare(txn, top) : 0;
	if (!err)
		txn->nr_prepared++;
	return err;
}

/* The general path of a VM with driver ops: every op kept, applied, prepared by the driver. */
static os_noinline int prepare_kept(struct gvm_txn *txn, struct prep *p)
{
	static const struct gvm_op_cb cb = { .op = collect_txn_op };
	unsigned int first = txn->scratch.nr;
	int err = gvm_sm_ops_path(txn->vm, p->req, &cb, p, txn->lazy ? &txn->hint : NULL);

	for (unsigned int i = first; !err && i < txn->scratch.nr; i++) {
		struct gvm_txn_op *top = &((struct gvm_txn_op *)txn->scratch.v)[i];

		err = apply_op(p, &top->op);
		if (!err)
			err = driver_prepare(txn, top);
	}
	return err;
}

/* Requests overlapping at most this many VAs take prepare_direct(). */
#define DIRECT_MAX_VAS 16
/*
 * prepare_direct() did nothing: too many VAs. Positive, so that no errno of
 * the ops it calls (an allocator's -ENOSPC) is taken for it.
 */
#define DIRECT_TOO_MANY 1

/*
 * Nothing queued: the committed VAs @req overlaps, in order, into @olds (room
 * for @max + 1; cuts checked), and the way down to them into @path. The number
 * of VAs; -EINVAL for a bad request; -ENOSPC when there are more than @max.
 *
 * With nothing queued the projection is the committed tree - no VA doomed,
 * none pending - so a request prepared then needs no projection: its VAs are
 * the committed ones it overlaps, found by the tree's keys alone.
 */
static inline int direct_overlaps(struct gvm *vm, const struct gvm_req *req,
				  struct gvm_bt_path *path, struct gvm_va **olds, unsigned int max)
{
	uint64_t re = req->va + req->size;
	int n = gvm_req_check(vm, req);

	if (n)
		return n;
	os_assert(!vm->queue && !vm->committed.doomed &&
		  "the projection is not the committed tree");
	/* The VAs starting before the end, from the last one starting at or before the start. */
	_Static_assert(sizeof(struct gvm_va *) == sizeof(uintptr_t), "ties are VA pointers");
	n = gvm_bt_collect(&vm->committed.bt, req->va, re, path, (uintptr_t *)olds, max + 1);
	if (n > 0 && gvm_va_end(olds[0]) <= req->va) { /* that one ends before the request */
		for (int i = 1; i < n; i++)
			olds[i - 1] = olds[i];
		n--;
	}
	if (n > (int)max || n == -ENOSPC)
		return -ENOSPC;
	if (n > 0 && (!gvm_sm_cuts_ok(olds[0], req) || !gvm_sm_cuts_ok(olds[n - 1], req)))
		return -EINVAL;
	return n;
}

/*
 * The ops of a request prepared with nothing queued, one for each of the
 * committed VAs @olds it overlaps (direct_overlaps()) and its map, each made
 * from the VA and applied at once: no projection, no copy of the ops; they
 * are the same as gvm_sm_ops() finds. Out of line: the ops are made in a
 * frame of their own (inside the lone request's, with its tree updates, the
 * registers run short).
 */
static os_noinline int apply_direct(struct prep *p, struct gvm_va *const *olds, int n)
{
	const struct gvm_req *req = p->req;
	struct gvm_op op;
	int err = 0;

	for (int i = 0; !err && i < n; i++) {
		gvm_sm_op_for(olds[i], req, &op);
		err = apply_old_op(p, &op);
	}
	if (!err && req->type == GVM_REQ_MAP) {
		gvm_sm_map_op(req, &op);
		err = apply_map_op(p, &op);
	}
	return err;
}

/*
 * A lazy transaction's request (DOC: lazy transactions) through
 * apply_direct(). DIRECT_TOO_MANY: too many VAs for this path, nothing done.
 */
static int prepare_direct(struct gvm_txn *txn, const struct gvm_req *req)
{
	struct gvm_va *olds[DIRECT_MAX_VAS + 1];
	struct prep p = { .txn = txn, .req = req, .mapped_to = req->va };
	int n = direct_overlaps(txn->vm, req, &txn->hint, olds, DIRECT_MAX_VAS);

	if (n < 0)
		return n == -ENOSPC ? DIRECT_TOO_MANY : n;
	return apply_direct(&p, olds, n);
}

/* The backend may start loading what the request's reservation will read. */
static void prefetch_tables(const struct gvm *vm, const struct gvm_req *req)
{
	const struct gvm_backend_ops *b = vm->cfg.backend;

	if (b->prefetch)
		b->prefetch(vm->backend, req->va);
}

static int prepare_req(struct gvm_txn *txn, const struct gvm_req *req)
{
	static const struct gvm_op_cb cb = { .op = collect_op };
	struct gvm *vm = txn->vm;
	struct prep p = { .txn = txn, .req = req, .mapped_to = req->va };
	int err;

	prefetch_tables(vm, req);
	/* A VM with driver ops keeps its ops (gvm_txn_op()): its own path. */
	if (vm->drv)
		return prepare_kept(txn, &p);
	if (txn->lazy) {
		err = prepare_direct(txn, req);
		if (err != DIRECT_TOO_MANY)
			return err;
	}
	txn->scratch.nr = 0;
	err = gvm_sm_ops_path(vm, req, &cb, &p, txn->lazy ? &txn->hint : NULL);
	for (unsigned int i = 0; !err && i < txn->scratch.nr; i++)
		err = apply_op(&p, &((struct gvm_op *)txn->scratch.v)[i]);
	return err;
}

/* The driver's cleanup of the first @nr ops, in order or newest first. */
static os_noinline void driver_cleanup(struct gvm_txn *txn, unsigned int nr, bool newest_first)
{
	const struct gvm_driver_ops *d = txn->vm->drv;
	const struct gvm_txn_op *ops = txn->scratch.v;

	if (!d->op_cleanup)
		return;
	for (unsigned int i = 0; i < nr; i++)
		d->op_cleanup(txn, &ops[newest_first ? nr - 1 - i : i]);
}

/* Undo everything a prepared transaction did, newest change first. */
static void undo(struct gvm_txn *txn)
{
	struct gvm *vm = txn->vm;
	struct gvm_va **created, **doomed;

	if (vm->drv)
		driver_cleanup(txn, txn->nr_prepared, true);
	created = txn->created.v;
	doomed = txn->doomed.v;

	for (unsigned int i = txn->doomed.nr; i--;) {
		gvm_tree_of(vm, doomed[i])->doomed--;
		doomed[i]->state &= ~GVM_VA_DOOMED;
		doomed[i]->doomer = NULL;
	}
	for (unsigned int i = txn->created.nr; i--;) {
		if (!txn->lazy)
			gvm_tree_erase(&vm->pending, created[i]);
		drop_va(vm, created[i]);
	}
	txn->created.nr = txn->doomed.nr = 0;
	gvm_tree_unpromise(vm, &vm->committed, txn->promised);
	gvm_tree_unpromise(vm, &vm->pending, 0);
	txn->promised = 0;
}

void gvm_txn_destroy(struct gvm *vm, struct gvm_txn *txn)
{
	gvm_vec_free(vm, &txn->created);
	gvm_vec_free(vm, &txn->doomed);
	gvm_vec_free(vm, &txn->bops);
	gvm_vec_free(vm, &txn->scratch);
	gvm_free(vm, txn->bresv);
	gvm_free(vm, txn);
}

/* Is the backend's reservation all zero, as a new one? */
static inline bool resv_is_new(const struct gvm_txn *txn)
{
	const unsigned char *r = txn->bresv;

	for (size_t i = 0; i < txn->vm->cfg.backend->resv_size; i++)
		if (r[i])
			return false;
	return true;
}

/* The backend's reservation of @txn goes (what it did not use), ready for the next. */
static void release_tables(struct gvm_txn *txn)
{
	const struct gvm_backend_ops *b = txn->vm->cfg.backend;

	txn->bops.nr = 0;
	if (!txn->vm->writes)
		return;
	b->unreserve(txn->vm->backend, txn->bresv);
	if (txn->vm->clear_resv)
		memset(txn->bresv, 0, b->resv_size);
	os_assert(resv_is_new(txn) && "unreserve left the reservation as new");
}

/*
 * A finished transaction becomes the VM's spare, buffers and all: binding one
 * request after another then allocates nothing but VAs. A failed prepare puts
 * back the spare it took, so the VM's memory is exactly as before.
 */
static void txn_free(struct gvm_txn *txn, bool failed)
{
	struct gvm *vm = txn->vm;
	struct gvm_vec *vecs[] = { &txn->created, &txn->doomed, &txn->bops, &txn->scratch };

	release_tables(txn);
	if (vm->spare_txn || (failed && !txn->was_spare)) {
		gvm_txn_destroy(vm, txn);
		return;
	}
	/* Buffers a failed prepare gave the spare go again (the count is as before). */
	for (unsigned int i = 0; failed && i < 4; i++)
		if (!(txn->had_buffer & (1u << i)))
			gvm_vec_free(vm, vecs[i]);
	txn->created.nr = txn->doomed.nr = txn->scratch.nr = 0;
	txn->nr_prepared = 0;
	txn->state = GVM_TXN_IDLE;
	txn->lazy = false;
	txn->hint.leaf = NULL;
	txn->qnext = NULL;
	txn->promised = 0;
	vm->spare_txn = txn;
}

static void enqueue(struct gvm *vm, struct gvm_txn *txn)
{
	if (vm->queue_tail)
		vm->queue_tail->qnext = txn;
	else
		vm->queue = txn;
	vm->queue_tail = txn;
}

static struct gvm_txn *txn_new(struct gvm *vm)
{
	struct gvm_txn *txn = vm->spare_txn;
	size_t bytes = vm->cfg.backend->resv_size;

	if (txn) {
		vm->spare_txn = NULL;
		txn->was_spare = true;
		txn->state = GVM_TXN_PREPARED;
		txn->had_buffer = (txn->created.v ? 1u : 0) | (txn->doomed.v ? 2u : 0) |
				  (txn->bops.v ? 4u : 0) | (txn->scratch.v ? 8u : 0);
		return txn;
	}
	txn = gvm_zalloc(vm, sizeof(*txn));
	if (!txn)
		return NULL;
	txn->vm = vm;
	txn->bresv = gvm_zalloc(vm, bytes ? bytes : 1);
	if (!txn->bresv) {
		gvm_free(vm, txn);
		return NULL;
	}
	return txn;
}

/* The VAs the commit will insert into the committed tree: promise their nodes. */
static int promise_inserts(struct gvm_txn *txn)
{
	struct gvm_va **created = txn->created.v;
	unsigned int k = 0;
	int err;

	for (unsigned int i = 0; i < txn->created.nr; i++)
		k += created[i]->doomer != txn;
	err = gvm_tree_promise(txn->vm, &txn->vm->committed, k);
	if (!err)
		txn->promised = k;
	return err;
}

/*
 * Put the VAs of the lazy transaction into the pending tree, before anything
 * reads the projection (DOC: lazy transactions). 0 or -ENOMEM (nothing done).
 */
int gvm_materialize(struct gvm *vm)
{
	struct gvm_txn *txn = vm->lazy;
	struct gvm_va **created;

	if (!txn)
		return 0;
	if (gvm_tree_promise(vm, &vm->pending, txn->created.nr))
		return -ENOMEM;
	created = txn->created.v;
	for (unsigned int i = 0; i < txn->created.nr; i++)
		gvm_tree_insert(&vm->pending, created[i]);
	vm->pending.promised -= txn->created.nr;
	txn->lazy = false;
	vm->lazy = NULL;
	return 0;
}

/* A failed prepare materialized @txn: take its VAs out of the pending tree again. */
static void dematerialize(struct gvm *vm, struct gvm_txn *txn)
{
	struct gvm_va **created = txn->created.v;

	for (unsigned int i = 0; i < txn->created.nr; i++)
		gvm_tree_erase(&vm->pending, created[i]);
	txn->lazy = true;
	vm->lazy = txn;
}

/* Undo a failed prepare of @txn (NULL: none was made), memory included. */
static void prepare_failed(struct gvm *vm, struct gvm_txn *txn, struct gvm_txn *was_lazy,
			   const struct gvm_mem_mark *mark)
{
	if (txn) {
		undo(txn);
		txn_free(txn, true);
	}
	if (was_lazy && !vm->lazy)
		dematerialize(vm, was_lazy);
	gvm_mem_restore(vm, mark);
}

int gvm_bind_prepare(struct gvm *vm, const struct gvm_req *reqs, unsigned int n,
		     struct gvm_txn **out, unsigned int *failed)
{
	struct gvm_txn *txn, *was_lazy = vm->lazy;
	struct gvm_mem_mark mark;
	unsigned int i = 0;
	int err = n ? 0 : -EINVAL;

	gvm_mem_mark(vm, &mark);
	txn = err ? NULL : txn_new(vm);
	if (!err && !txn)
		err = -ENOMEM;
	if (txn)
		txn->lazy = n == 1 && !vm->queue;
	for (; !err && i < n; i++)
		err = prepare_req(txn, &reqs[i]);
	if (!err && promise_inserts(txn)) {
		err = -ENOMEM;
		i = n; /* no request is at fault: report the last */
	}
	if (err) {
		if (failed)
			*failed = i ? i - 1 : 0;
		prepare_failed(vm, txn, was_lazy, &mark);
		return err;
	}
	if (!vm->drv)
		txn->scratch.nr = 0;
	enqueue(vm, txn);
	if (txn->lazy)
		vm->lazy = txn;
	*out = txn;
	return 0;
}

/* A committed VA leaves the VM (its tree slot is gone already if a replacement took it). */
static void retire_va(struct gvm *vm, struct gvm_va *va, struct gvm_bt_path *path)
{
	if (!(va->state & GVM_VA_SWAPPED))
		gvm_tree_erase_near(&vm->committed, va, path);
	gvm_list_del(&va->bo_link);
	vm->nr_vas--;
}

/* Doomed VAs leave their tree (pending only if this transaction made them). */
static void commit_doomed(struct gvm_txn *txn)
{
	struct gvm *vm = txn->vm;
	struct gvm_va **doomed = txn->doomed.v;

	for (unsigned int i = 0; i < txn->doomed.nr; i++) {
		struct gvm_va *va = doomed[i];

		gvm_tree_of(vm, va)->doomed--;
		if (va->state & GVM_VA_PENDING)
			gvm_tree_erase(&vm->pending, va);
		else
			retire_va(vm, va, &txn->hint);
	}
}

/* A new VA in its slot of the committed tree (a promised insert) joins its object's list. */
static void va_joined(struct gvm *vm, struct gvm_va *va)
{
	vm->committed.promised--;
	gvm_list_add(&va->bo->vas, &va->bo_link);
	vm->nr_vas++;
}

/*
 * A new VA joins the committed tree (a promised insert) and its object's
 * list: in the slot of the VA it replaces, when it can. That VA, or NULL.
 */
static struct gvm_va *commit_va(struct gvm *vm, struct gvm_va *va, struct gvm_bt_path *path)
{
	struct gvm_va *old = NULL;

	if (va->state & GVM_VA_REPLACES) {
		old = gvm_tree_replace(&vm->committed, va, path);
		vm->nr_replacements++;
	}
	va->state &= ~GVM_VA_REPLACES;
	if (old) {
		old->state |= GVM_VA_SWAPPED;
		vm->nr_replaced_in_place++;
	} else {
		gvm_tree_insert_near(&vm->committed, va, path);
	}
	va_joined(vm, va);
	return old;
}

/* Created VAs that survive the transaction become committed. */
static void commit_created(struct gvm_txn *txn)
{
	struct gvm *vm = txn->vm;
	struct gvm_va **created = txn->created.v;

	for (unsigned int i = 0; i < txn->created.nr; i++) {
		struct gvm_va *va = created[i], *old;

		if (va->doomer == txn)
			continue;
		if (!txn->lazy)
			gvm_tree_erase(&vm->pending, va);
		if (va->state & GVM_VA_DOOMED) { /* by a later transaction */
			vm->pending.doomed--;
			vm->committed.doomed++;
		}
		va->state &= ~GVM_VA_PENDING;
		va->creator = NULL;
		old = commit_va(vm, va, &txn->hint);
		os_assert(!old || ((old->state & GVM_VA_DOOMED) && old->doomer == txn));
		(void)old;
	}
}

static void commit_tables(struct gvm_txn *txn)
{
	const struct gvm_backend_ops *b = txn->vm->cfg.backend;
	const struct pt_op *ops = txn->bops.v;
	void *priv = txn->vm->backend;

	b->commit_begin(priv, txn->bresv);
	for (unsigned int i = 0; i < txn->bops.nr; i++)
		b->commit(priv, txn->bresv, &ops[i]);
	b->commit_end(priv, txn->bresv);
}

static os_noinline void driver_commit(struct gvm_txn *txn)
{
	const struct gvm_txn_op *ops = txn->scratch.v;

	if (!txn->vm->drv->op_commit)
		return;
	for (unsigned int i = 0; i < txn->nr_prepared; i++)
		txn->vm->drv->op_commit(txn, &ops[i]);
}

int gvm_bind_commit(struct gvm_txn *txn)
{
	struct gvm *vm = txn->vm;

	/* Only prepared transactions are queued. */
	if (os_misuse(txn != vm->queue &&
		      "gvm_bind_commit() of a transaction that is not the oldest prepared"))
		return -EINVAL;
	os_signalling_begin(); /* pt_signalling_begin(), inline */
	/* Created first: a replacement takes the slot of the VA it replaces. */
	commit_created(txn);
	commit_doomed(txn);
	if (vm->writes)
		commit_tables(txn);
	vm->queue = txn->qnext;
	if (!vm->queue)
		vm->queue_tail = NULL;
	if (vm->lazy == txn)
		vm->lazy = NULL;
	txn->qnext = NULL;
	txn->state = GVM_TXN_COMMITTED;
	gvm_list_add(&vm->committed_txns, &txn->committed_link);
	if (vm->drv)
		driver_commit(txn);
	os_signalling_end();
	return 0;
}

/* Remove the newest prepared transaction from the queue. */
static void dequeue_newest(struct gvm *vm, struct gvm_txn *txn)
{
	struct gvm_txn **pp = &vm->queue, *prev = NULL;

	while (*pp != txn) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	*pp = NULL;
	vm->queue_tail = prev;
}

int gvm_bind_cleanup(struct gvm_txn *txn)
{
	struct gvm *vm = txn->vm;
	struct gvm_va **doomed = txn->doomed.v;

	if (txn->state == GVM_TXN_COMMITTED) {
		gvm_list_del(&txn->committed_link);
		if (vm->drv)
			driver_cleanup(txn, txn->nr_prepared, false);
	} else {
		if (os_misuse(txn->state == GVM_TXN_IDLE &&
			      "gvm_bind_cleanup() of a transaction cleaned up already"))
			return -EINVAL;
		if (os_misuse(
			    txn != vm->queue_tail &&
			    "gvm_bind_cleanup() of a prepared transaction that is not the newest"))
			return -EINVAL;
		dequeue_newest(vm, txn);
		if (vm->lazy == txn)
			vm->lazy = NULL;
		undo(txn);
	}
	for (unsigned int i = 0; i < txn->doomed.nr; i++)
		drop_va(vm, doomed[i]);
	/* Return spare nodes beyond what the other promises need. */
	gvm_tree_unpromise(vm, &vm->committed, 0);
	gvm_tree_unpromise(vm, &vm->pending, 0);
	txn_free(txn, false);
	return 0;
}

/*
 * DOC: the lone request
 *
 * gvm_bind() of one request with nothing queued, in a VM without driver ops
 * (a synchronous VM_BIND of one op), prepares, commits and cleans up in one
 * call, and nothing reads the VM between its steps. So it skips a
 * transaction's bookkeeping: the VAs it removes (committed ones, from
 * direct_overlaps()) are not marked doomed, the VAs it makes are not pending,
 * both are recorded in a struct lone on the stack instead of vectors, and
 * nothing is queued. It keeps what the contracts need: the same ops applied
 * by the same functions (apply_direct()); the backend's reserve, commit and
 * unreserve in the same order, the table ops and the reservation in the
 * buffers of the VM's spare transaction (which stays the spare); the tree
 * inserts promised before the commit, which neither fails nor allocates;
 * and, when the prepare fails, the undo of all of it, the VM's memory
 * included. A request overlapping more than DIRECT_MAX_VAS VAs, a VM with no
 * spare transaction yet (its first bind) and a VM with driver ops go through
 * gvm_bind_prepare().
 */

/* The piece before the first VA it cuts, the piece after the last, and its map. */
#define LONE_MAX_MADE 3

struct lone {
	struct gvm_va *olds[DIRECT_MAX_VAS + 1]; /* the VAs it removes, in order */
	struct gvm_va *made[LONE_MAX_MADE];      /* the VAs it makes, in order */
	int nr_olds;
	unsigned int nr_made;
	bool replaces;           /* one of @made starts where the first of @olds did */
	struct gvm_bt_path path; /* the way down the committed tree to the request */
};

/* create() of a lone request: the new VA is only recorded. */
static int create_lone(struct gvm *vm, struct lone *l, const struct gvm_op_piece *pc, bool replaces)
{
	struct gvm_va *va = va_new(vm, pc);

	if (!va)
		return -ENOMEM;
	os_assert(l->nr_made < LONE_MAX_MADE);
	if (replaces) {
		va->state = GVM_VA_REPLACES;
		l->replaces = true;
	}
	l->made[l->nr_made++] = va;
	return 0;
}

/* Prepare @req into @l and the buffers of @txn, the spare. DIRECT_TOO_MANY: nothing done. */
static int lone_prepare(struct gvm_txn *txn, struct lone *l, const struct gvm_req *req)
{
	struct gvm *vm = txn->vm;
	struct prep p = { .txn = txn, .req = req, .mapped_to = req->va, .lone = l };
	int err;

	prefetch_tables(vm, req);
	l->nr_made = 0;
	l->replaces = false;
	l->nr_olds = direct_overlaps(vm, req, &l->path, l->olds, DIRECT_MAX_VAS);
	if (l->nr_olds < 0)
		return l->nr_olds == -ENOSPC ? DIRECT_TOO_MANY : l->nr_olds;
	err = apply_direct(&p, l->olds, l->nr_olds);
	/* Only inserts take spare nodes (an erase gives them back). */
	if (err || !l->nr_made)
		return err;
	return gvm_tree_promise(vm, &vm->committed, l->nr_made);
}

/* A failed lone_prepare(): everything back as it was, memory included (@had_bops: a buffer). */
static void lone_undo(struct gvm_txn *txn, struct lone *l, bool had_bops,
		      const struct gvm_mem_mark *mark)
{
	struct gvm *vm = txn->vm;

	for (unsigned int i = l->nr_made; i--;)
		drop_va(vm, l->made[i]);
	release_tables(txn);
	if (!had_bops)
		gvm_vec_free(vm, &txn->bops);
	gvm_mem_restore(vm, mark);
}

/*
 * @va takes the slot of @old, a VA the lone request removes, if its key fits
 * there (out of line: most binds make no VA that does).
 */
static os_noinline bool take_slot(struct gvm *vm, struct lone *l, struct gvm_va *old,
				  struct gvm_va *va)
{
	if (!gvm_tree_swap(&vm->committed, &l->path, old, va))
		return false;
	old->state |= GVM_VA_SWAPPED;
	va_joined(vm, va);
	return true;
}

/*
 * The lone request's VAs into and out of the committed tree. Made first, in
 * the order they were made: a replacement takes the slot of the VA it
 * replaces, the first the request removes (commit_va()); any other takes the
 * slot of the next removed VA where its key fits there (gvm_tree_swap(): an
 * insert and an erase without their shifts of the leaf's keys), else goes in.
 * Then the removed VAs whose slots nobody took go.
 */
static void commit_lone_vas(struct gvm *vm, struct lone *l)
{
	unsigned int k = l->replaces; /* the next removed VA whose slot is free */

	for (unsigned int i = 0; i < l->nr_made; i++) {
		struct gvm_va *va = l->made[i];

		if (!(va->state & GVM_VA_REPLACES) && k < (unsigned int)l->nr_olds &&
		    take_slot(vm, l, l->olds[k], va))
			k++;
		else
			commit_va(vm, va, &l->path);
	}
	for (int i = 0; i < l->nr_olds; i++)
		retire_va(vm, l->olds[i], &l->path);
}

/* gvm_bind_commit() and gvm_bind_cleanup() of a lone request, in the same order. */
static void lone_commit_cleanup(struct gvm_txn *txn, struct lone *l)
{
	struct gvm *vm = txn->vm;

	os_signalling_begin();
	commit_lone_vas(vm, l);
	if (vm->writes)
		commit_tables(txn);
	os_signalling_end();
	for (int i = 0; i < l->nr_olds; i++)
		drop_va(vm, l->olds[i]);
	gvm_tree_unpromise(vm, &vm->committed, 0);
	release_tables(txn);
}

/* gvm_bind() through a transaction: prepare, commit, clean up (out of line: the rare path). */
static os_noinline int bind_txn(struct gvm *vm, const struct gvm_req *reqs, unsigned int n,
				unsigned int *failed)
{
	struct gvm_txn *txn;
	int err = gvm_bind_prepare(vm, reqs, n, &txn, failed);

	if (err)
		return err;
	gvm_bind_commit(txn);
	gvm_bind_cleanup(txn);
	return 0;
}

/* gvm_bind() of a lone request (DOC: the lone request). */
static int bind_lone(struct gvm *vm, const struct gvm_req *req, unsigned int *failed)
{
	struct gvm_txn *txn = vm->spare_txn;
	bool had_bops = txn->bops.v;
	struct gvm_mem_mark mark;
	struct lone l;
	int err;

	gvm_mem_mark(vm, &mark);
	err = lone_prepare(txn, &l, req);
	if (err == DIRECT_TOO_MANY)
		return bind_txn(vm, req, 1, failed);
	if (err) {
		lone_undo(txn, &l, had_bops, &mark);
		if (failed)
			*failed = 0;
		return err;
	}
	lone_commit_cleanup(txn, &l);
	return 0;
}

int gvm_bind(struct gvm *vm, const struct gvm_req *reqs, unsigned int n, unsigned int *failed)
{
	/* Its commit would not be the oldest. */
	if (os_misuse(vm->queue && "gvm_bind() with transactions queued"))
		return -EINVAL;
	if (n == 1 && !vm->drv && vm->spare_txn)
		return bind_lone(vm, reqs, failed);
	return bind_txn(vm, reqs, n, failed);
}

/*
 * gvm_destroy() with transactions not cleaned up: the prepared ones are given
 * up, newest first; the committed ones cleaned up.
 */
void gvm_txn_abandon_all(struct gvm *vm)
{
	while (vm->queue_tail)
		gvm_bind_cleanup(vm->queue_tail);
	while (!gvm_list_empty(&vm->committed_txns))
		gvm_bind_cleanup((struct gvm_txn *)((char *)vm->committed_txns.next -
						    offsetof(struct gvm_txn, committed_link)));
}

/*
 * gvm_destroy(), after the backend unmapped and flushed everything: every
 * committed VA is cleaned up by the driver (a committed UNMAP) and drops its
 * link and object reference. The tree is read, not
 * changed (it is freed next), so nothing is allocated.
 */
void gvm_release_all(struct gvm *vm)
{
	struct gvm_bt_cur cur;
	bool more = gvm_bt_first(&vm->committed.bt, &cur);

	while (more) {
		struct gvm_va *va = gvm_va_at(&cur);

		more = gvm_bt_next(&cur);
		if (vm->teardown) {
			struct gvm_txn_op top = { .op = { .type = GVM_OP_UNMAP, .old = va } };

			vm->drv->op_cleanup(vm->teardown, &top);
		}
		gvm_list_del(&va->bo_link);
		drop_va(vm, va);
	}
	vm->nr_vas = 0;
}

struct gvm *gvm_txn_vm(const struct gvm_txn *txn)
{
	return txn->vm;
}

bool gvm_txn_committed(const struct gvm_txn *txn)
{
	return txn->state == GVM_TXN_COMMITTED;
}

/* Every op the driver prepared: during a prepare, those so far. */
unsigned int gvm_txn_nr_ops(const struct gvm_txn *txn)
{
	return txn->nr_prepared;
}

const struct gvm_txn_op *gvm_txn_op(const struct gvm_txn *txn, unsigned int i)
{
	return i < txn->nr_prepared ? &((const struct gvm_txn_op *)txn->scratch.v)[i] : NULL;
}
