// SPDX-License-Identifier: MIT
/*
 * Split/merge: the ops a request yields against the VAs it overlaps, following
 * drm_gpuvm (shared/reference/gpuvm-split-merge.md). R = [ra, re) is the
 * request, V = [a, e) an overlapped VA of object o at offset f.
 *
 *     case        old V / request R            ops
 *     a == ra     |---V---|                    e == re: UNMAP(V)
 *                 |---R---|                    e <  re: UNMAP(V), go on
 *                                              e >  re: REMAP(V, next = [re, e))
 *     a <  ra     |-----V-----|                e == re: REMAP(V, prev = [a, ra))
 *                    |---R----|                e <  re: same, go on
 *                                              e >  re: REMAP(V, prev, next)
 *     a >  ra        |---V---|                 e <= re: UNMAP(V)
 *                 |-----R------|               e >  re: REMAP(V, next = [re, e))
 *
 * then one MAP(R) for a map request. keep says the part of V that R covers
 * keeps its pages (same object, and the same offset at every address):
 * f - a == Roff - ra. The piece after a cut starts re - a bytes into V, so its
 * offset is f + (re - a) (drm_gpuvm's case 15: the code's n+1, not the
 * drawing's n+2). Each row has a named case in tests/vm/test-sm.c.
 *
 * Repeat VAs (object range [f, f + repeat) mapped again and again): pieces keep
 * the offset f, a cut must fall on a multiple of the period from a, and keep
 * needs the same object, offset and period with a - ra a multiple of it.
 */

#include "gvm_internal.h"

/* The VA under @cur, or the first live one after it, if it starts before @end. */
static struct gvm_va *skip_doomed(const struct gvm_tree *t, struct gvm_bt_cur *cur,
				  struct gvm_va *va, uint64_t end)
{
	/* The start is in the tree's key: a VA past the end is never touched. */
	while (va && gvm_bt_get(cur).start < end && t->doomed && (va->state & GVM_VA_DOOMED))
		va = gvm_tree_next(cur);
	return va && gvm_bt_get(cur).start < end ? va : NULL;
}

/* The projected VA at the front of the two streams (they never overlap). */
static struct gvm_va *proj_front(struct gvm_proj_iter *it)
{
	if (!it->c)
		return it->p;
	if (!it->p)
		return it->c;
	return it->c->va < it->p->va ? it->c : it->p;
}

/* @path (or NULL) receives the way down the committed tree to @start. */
struct gvm_va *gvm_proj_first(struct gvm *vm, struct gvm_proj_iter *it, uint64_t start,
			      uint64_t end, struct gvm_bt_path *path)
{
	it->end = end;
	it->c = skip_doomed(&vm->committed, &it->cc,
			    gvm_tree_first_overlap(&vm->committed, start, &it->cc, path), end);
	it->p = skip_doomed(&vm->pending, &it->pc,
			    gvm_tree_first_overlap(&vm->pending, start, &it->pc, NULL), end);
	return proj_front(it);
}

/*
 * Projected VAs never overlap, so once one reaches the end no other VA of its
 * stream can start before it: stop without touching the next node.
 */
struct gvm_va *gvm_proj_next(struct gvm *vm, struct gvm_proj_iter *it)
{
	struct gvm_va *front = proj_front(it);
	bool committed = front == it->c;
	struct gvm_bt_cur *cur = committed ? &it->cc : &it->pc;
	struct gvm_va *next = NULL;

	if (gvm_va_end(front) < it->end)
		next = skip_doomed(committed ? &vm->committed : &vm->pending, cur,
				   gvm_tree_next(cur), it->end);
	if (committed)
		it->c = next;
	else
		it->p = next;
	return proj_front(it);
}

/*
 * Only the first and the last VA a request overlaps can be cut, so only they
 * can make it invalid (a repeat VA cut off its period): check both before any
 * op goes out. The last is looked up only if the first does not reach the end.
 */
static int check_cuts(struct gvm *vm, const struct gvm_req *req, const struct gvm_va *first)
{
	uint64_t re = req->va + req->size;
	struct gvm_proj_iter it;
	struct gvm_va *last;
	struct gvm_op op;
	int err;

	if (!first)
		return 0;
	err = gvm_sm_op_for(first, req, &op);
	if (err || gvm_va_end(first) >= re)
		return err;
	last = gvm_proj_first(vm, &it, re - 1, re, NULL);
	return last ? gvm_sm_op_for(last, req, &op) : 0;
}

/*
 * Every op of @req, in address order, MAP last; none if the request is invalid.
 * @path (or NULL) receives the way down the committed tree to the request.
 */
int gvm_sm_ops_path(struct gvm *vm, const struct gvm_req *req, const struct gvm_op_cb *cb,
		    void *priv, struct gvm_bt_path *path)
{
	struct gvm_proj_iter it;
	struct gvm_va *v = NULL;
	struct gvm_op op;
	int err = gvm_req_check(vm, req);

	if (!err && vm->lazy)
		err = gvm_materialize(vm);
	if (!err) {
		v = gvm_proj_first(vm, &it, req->va, req->va + req->size, path);
		err = check_cuts(vm, req, v);
	}
	/* The ops go out: what their type does not use reads zero. */
	for (; v && !err; v = gvm_proj_next(vm, &it)) {
		op = (struct gvm_op){ 0 };
		gvm_sm_op_for(v, req, &op);
		err = cb->op(priv, &op);
	}
	if (err || req->type != GVM_REQ_MAP)
		return err;
	op = (struct gvm_op){ 0 };
	gvm_sm_map_op(req, &op);
	return cb->op(priv, &op);
}

int gvm_sm_ops(struct gvm *vm, const struct gvm_req *req, const struct gvm_op_cb *cb, void *priv)
{
	return gvm_sm_ops_path(vm, req, cb, priv, NULL);
}

struct op_list {
	struct gvm *vm;
	struct gvm_op *head, **tail;
};

static int list_op(void *priv, const struct gvm_op *op)
{
	struct op_list *l = priv;
	struct gvm_op *copy = gvm_zalloc(l->vm, sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	*copy = *op;
	copy->next_op = NULL;
	*l->tail = copy;
	l->tail = &copy->next_op;
	return 0;
}

int gvm_sm_ops_list(struct gvm *vm, const struct gvm_req *req, struct gvm_op **out)
{
	static const struct gvm_op_cb cb = { .op = list_op };
	struct op_list l = { .vm = vm, .tail = &l.head };
	int err = gvm_sm_ops(vm, req, &cb, &l);

	if (err) {
		gvm_ops_free(vm, l.head);
		return err;
	}
	*out = l.head;
	return 0;
}

void gvm_ops_free(struct gvm *vm, struct gvm_op *ops)
{
	while (ops) {
		struct gvm_op *next = ops->next_op;

		gvm_free(vm, ops);
		ops = next;
	}
}
