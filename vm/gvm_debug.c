// SPDX-License-Identifier: MIT
/*
 * gvm_validate(): every invariant of a VM, for tests and debugging.
 */

#include "gvm_internal.h"

struct vcheck {
	struct gvm *vm;
	pt_print_fn *print;
	void *ctx;
	const struct gvm_bo **bos; /* distinct links seen (open addressing) */
	size_t cap, nr_bos;
	uint64_t listed; /* VAs on the links' lists */
};

static int bad(struct vcheck *c, const struct gvm_va *va, const char *what)
{
	if (c->print)
		c->print(c->ctx, "gvm_validate: VA [0x%" OS_PRIx64 ", +0x%" OS_PRIx64 "): %s\n",
			 va ? va->va : 0, va ? va->size : 0, what);
	return -EUCLEAN;
}

static bool txn_queued(const struct gvm *vm, const struct gvm_txn *txn)
{
	for (const struct gvm_txn *t = vm->queue; t; t = t->qnext)
		if (t == txn)
			return true;
	return false;
}

static bool in_reserved(const struct gvm *vm, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < vm->cfg.nr_reserved; i++)
		if (start < vm->reserved[i].end && vm->reserved[i].start < end)
			return true;
	return false;
}

static int check_range(struct vcheck *c, const struct gvm_va *va)
{
	const struct gvm *vm = c->vm;
	uint64_t page_mask = (1ull << vm->cfg.page_lg2) - 1, used;

	if (!va->size || (va->va | va->size | va->offset | va->repeat) & page_mask)
		return bad(c, va, "empty or misaligned");
	if (va->va < vm->cfg.start || gvm_va_end(va) > vm->cfg.end ||
	    in_reserved(vm, va->va, gvm_va_end(va)))
		return bad(c, va, "outside the VM or in a reserved range");
	if (!va->bo || va->bo->vm != vm)
		return bad(c, va, "no link to its object in this VM");
	if (va->repeat && os_mod_u64(va->size, va->repeat))
		return bad(c, va, "size not a multiple of the repeat period");
	used = va->repeat ? va->repeat : va->size;
	if (va->offset + used > va->bo->obj->size)
		return bad(c, va, "beyond its object");
	return 0;
}

/* Count each object link once, with the VAs on its list. */
static int visit_bo(struct vcheck *c, const struct gvm_bo *bo)
{
	size_t i = ((uintptr_t)bo >> 4) % c->cap; /* both size_t */

	while (c->bos[i] && c->bos[i] != bo)
		i = (i + 1) % c->cap;
	if (c->bos[i])
		return 0;
	c->bos[i] = bo;
	c->nr_bos++;
	/* With driver ops, a link is on the extobj list exactly when its object is external. */
	if (c->vm->drv &&
	    gvm_list_empty(&gvm_bo_lists((struct gvm_bo *)bo)->extobj) == gvm_bo_is_extobj(bo))
		return bad(c, NULL, "a link on the extobj list, or off it, against its object");
	for (const struct gvm_list *l = bo->vas.next; l != &bo->vas; l = l->next) {
		if (l->next->prev != l)
			return bad(c, NULL, "broken object list");
		c->listed++;
	}
	return 0;
}

static int check_committed(struct vcheck *c, const struct gvm_va *va, const struct gvm_va *prev)
{
	int err = check_range(c, va);

	if (err)
		return err;
	if (prev && gvm_va_end(prev) > va->va)
		return bad(c, va, "overlaps the VA before it");
	if (va->state & GVM_VA_PENDING)
		return bad(c, va, "pending VA in the committed tree");
	if ((va->state & GVM_VA_DOOMED) && !txn_queued(c->vm, va->doomer))
		return bad(c, va, "doomed by no prepared transaction");
	if (va->bo_link.next->prev != &va->bo_link || va->bo_link.next == &va->bo_link)
		return bad(c, va, "not on its object's list");
	return visit_bo(c, va->bo);
}

/*
 * Lookups read starts from the trees' keys and never the VAs they rule out:
 * each key's start must be its VA's (a tree update that made a key from one VA
 * and put it in another's slot would break that).
 */
static bool keys_match(const struct gvm_tree *t)
{
	struct gvm_bt_cur cur;

	for (bool more = gvm_bt_first(&t->bt, &cur); more; more = gvm_bt_next(&cur))
		if (gvm_bt_get(&cur).start != gvm_va_at(&cur)->va)
			return false;
	return true;
}

/* Lookups trust a tree's count of doomed VAs to skip reading VAs: it must be exact. */
static bool doomed_count_ok(const struct gvm_tree *t)
{
	struct gvm_bt_cur cur;
	uint64_t n = 0;

	for (bool more = gvm_bt_first(&t->bt, &cur); more; more = gvm_bt_next(&cur))
		n += !!(gvm_va_at(&cur)->state & GVM_VA_DOOMED);
	return n == t->doomed;
}

static int check_trees(struct vcheck *c)
{
	struct gvm *vm = c->vm;
	const struct gvm_va *prev = NULL;
	struct gvm_bt_cur cur;
	bool more;
	int err;

	if (gvm_bt_validate(&vm->committed.bt) || vm->committed.bt.count != vm->nr_vas)
		return bad(c, NULL, "committed tree broken or miscounted");
	if (gvm_bt_validate(&vm->pending.bt) || (vm->pending.bt.count && !vm->queue))
		return bad(c, NULL, "pending tree broken, or pending VAs without a transaction");
	if (!doomed_count_ok(&vm->committed) || !doomed_count_ok(&vm->pending))
		return bad(c, NULL, "a tree's count of doomed VAs is wrong");
	if (!keys_match(&vm->committed) || !keys_match(&vm->pending))
		return bad(c, NULL, "a tree's key does not start where its VA does");
	for (more = gvm_bt_first(&vm->committed.bt, &cur); more; more = gvm_bt_next(&cur)) {
		err = check_committed(c, gvm_va_at(&cur), prev);
		if (err)
			return err;
		prev = gvm_va_at(&cur);
	}
	for (more = gvm_bt_first(&vm->pending.bt, &cur); more; more = gvm_bt_next(&cur)) {
		const struct gvm_va *va = gvm_va_at(&cur);

		if (!(va->state & GVM_VA_PENDING) || !txn_queued(vm, va->creator))
			return bad(c, va, "pending VA of no prepared transaction");
	}
	return 0;
}

/* The projection is what the next request sees: ordered and disjoint. */
static int check_projection(struct vcheck *c)
{
	struct gvm *vm = c->vm;
	struct gvm_proj_iter it;
	const struct gvm_va *prev = NULL;

	for (struct gvm_va *va = gvm_proj_first(vm, &it, vm->cfg.start, vm->cfg.end, NULL); va;
	     va = gvm_proj_next(vm, &it)) {
		int err = check_range(c, va);

		if (err)
			return err;
		if (prev && gvm_va_end(prev) > va->va)
			return bad(c, va, "projected VAs overlap");
		prev = va;
	}
	return 0;
}

/*
 * The lazy transaction's VAs are in no tree (DOC: lazy transactions): the
 * only one queued, each pending, of it, and beside the rest of the projection.
 */
static int check_lazy(struct vcheck *c)
{
	struct gvm *vm = c->vm;
	struct gvm_txn *txn = vm->lazy;
	struct gvm_va **created;
	struct gvm_proj_iter it;

	if (!txn)
		return 0;
	if (vm->queue != txn || txn->qnext || !txn->lazy)
		return bad(c, NULL, "a lazy transaction that is not alone in the queue");
	created = txn->created.v;
	for (unsigned int i = 0; i < txn->created.nr; i++) {
		const struct gvm_va *va = created[i];
		int err = check_range(c, va);

		if (err)
			return err;
		if (va->state != GVM_VA_PENDING && va->state != (GVM_VA_PENDING | GVM_VA_REPLACES))
			return bad(c, va, "lazy VA doomed or not pending");
		if (va->creator != txn || gvm_proj_first(vm, &it, va->va, gvm_va_end(va), NULL))
			return bad(c, va, "lazy VA of another transaction, or overlapping");
	}
	return 0;
}

/* The extobj list: well linked, external objects' links only, no more than there are links. */
static int check_extobjs(struct vcheck *c)
{
	uint64_t n = 0;

	for (struct gvm_bo *bo = gvm_extobj_first(c->vm); bo; bo = gvm_extobj_next(bo)) {
		const struct gvm_list *l = &gvm_bo_lists(bo)->extobj;

		if (l->next->prev != l || !gvm_bo_is_extobj(bo) || bo->vm != c->vm)
			return bad(c, NULL, "the extobj list is broken or holds a private link");
		if (++n > c->vm->nr_bos)
			return bad(c, NULL, "more links on the extobj list than the VM has");
	}
	return 0;
}

int gvm_validate(struct gvm *vm, pt_print_fn *print, void *ctx)
{
	struct vcheck c = { .vm = vm, .print = print, .ctx = ctx };
	int err;

	c.cap = 2 * (vm->nr_bos + vm->nr_vas) + 16;
	c.bos = os_calloc(c.cap, sizeof(*c.bos));
	if (!c.bos)
		return -ENOMEM;
	err = check_trees(&c);
	if (!err)
		err = check_projection(&c);
	if (!err)
		err = check_lazy(&c);
	if (!err && c.listed != vm->nr_vas)
		err = bad(&c, NULL, "object lists and the committed tree disagree");
	if (!err && c.nr_bos > vm->nr_bos)
		err = bad(&c, NULL, "more object links than counted");
	if (!err)
		err = check_extobjs(&c);
	os_free(c.bos);
	return err;
}
