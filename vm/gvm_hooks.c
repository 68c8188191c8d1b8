// SPDX-License-Identifier: MIT
/*
 * What a driver reaches beyond binds (gvm.h, DOC: driver hooks, DOC: external
 * and evicted objects): private areas, the extobj list, the evicted list.
 */

#include "gvm_internal.h"

void *gvm_driver_ctx(const struct gvm *vm)
{
	return vm->cfg.driver_ctx;
}

void *gvm_va_priv(struct gvm_va *va)
{
	return (char *)va + GVM_VA_PRIV_OFFSET;
}

void *gvm_bo_priv(struct gvm_bo *bo)
{
	return (char *)bo + GVM_BO_PRIV_OFFSET;
}

bool gvm_bo_is_extobj(const struct gvm_bo *bo)
{
	uint64_t id = bo->vm->cfg.resv_id;

	return !id || bo->obj->resv_id != id;
}

static struct gvm_bo *bo_of_lists(struct gvm_bo_lists *l)
{
	return (struct gvm_bo *)(void *)((char *)l - GVM_BO_LISTS_OFFSET);
}

static struct gvm_bo *extobj_at(struct gvm *vm, struct gvm_list *l)
{
	if (l == &vm->extobjs)
		return NULL;
	return bo_of_lists(
		(struct gvm_bo_lists *)(void *)((char *)l - offsetof(struct gvm_bo_lists, extobj)));
}

/* vm->extobjs is initialized in every VM: empty without driver ops. */
struct gvm_bo *gvm_extobj_first(struct gvm *vm)
{
	return extobj_at(vm, vm->extobjs.next);
}

struct gvm_bo *gvm_extobj_next(struct gvm_bo *bo)
{
	return extobj_at(bo->vm, gvm_bo_lists(bo)->extobj.next);
}

static struct gvm_bo *evicted_at(struct gvm_list *l)
{
	return bo_of_lists(
		(struct gvm_bo_lists *)(void *)((char *)l - offsetof(struct gvm_bo_lists, evict)));
}

/*
 * Under vm->evict_lock. An evicted link goes after @pos: the list's tail
 * (vm->evicted.prev) keeps the oldest first, its head puts a link first.
 */
static void set_evicted_at(struct gvm_bo *bo, bool evicted, struct gvm_list *pos)
{
	struct gvm_bo_lists *l = gvm_bo_lists(bo);

	if (l->evicted == evicted)
		return;
	l->evicted = evicted;
	if (evicted)
		gvm_list_add(pos, &l->evict);
	else
		gvm_list_del(&l->evict);
}

static void set_evicted_locked(struct gvm *vm, struct gvm_bo *bo, bool evicted)
{
	set_evicted_at(bo, evicted, vm->evicted.prev);
}

void gvm_bo_set_evicted(struct gvm_bo *bo, bool evicted)
{
	struct gvm *vm = bo->vm;

	if (os_misuse(!vm->drv && "gvm_bo_set_evicted() in a VM without driver ops"))
		return;
	os_mutex_lock(&vm->evict_lock);
	set_evicted_locked(vm, bo, evicted);
	os_mutex_unlock(&vm->evict_lock);
}

void gvm_obj_set_evicted(struct gvm_obj *obj, bool evicted)
{
	os_mutex_lock(gvm_obj_lock(obj));
	for (struct gvm_list *l = obj->links.next; l != &obj->links; l = l->next) {
		struct gvm_bo *bo = gvm_bo_of_obj_link(l);

		/* VMs without driver ops keep no evicted list. */
		if (bo->vm->drv)
			gvm_bo_set_evicted(bo, evicted);
	}
	os_mutex_unlock(gvm_obj_lock(obj));
}

bool gvm_bo_is_evicted(struct gvm_bo *bo)
{
	bool evicted;

	if (!bo->vm->drv)
		return false;
	os_mutex_lock(&bo->vm->evict_lock);
	evicted = gvm_bo_lists(bo)->evicted;
	os_mutex_unlock(&bo->vm->evict_lock);
	return evicted;
}

/* The oldest evicted link, taken off the list (valid) with a reference, or NULL. */
static struct gvm_bo *evicted_pop(struct gvm *vm)
{
	struct gvm_bo *bo = NULL;

	os_mutex_lock(&vm->evict_lock);
	if (!gvm_list_empty(&vm->evicted)) {
		bo = gvm_bo_get(evicted_at(vm->evicted.next));
		set_evicted_locked(vm, bo, false);
	}
	os_mutex_unlock(&vm->evict_lock);
	return bo;
}

/*
 * Each link is taken off the list before @validate runs, so that an eviction
 * while it runs puts it back (validated pages that went again are evicted).
 * A link that fails goes back at the head: it is the first to retry.
 */
int gvm_evicted_validate(struct gvm *vm, int (*validate)(struct gvm_bo *bo, void *ctx), void *ctx)
{
	unsigned int todo;
	int err = 0;

	/* Only the links evicted when the walk starts: one validated and evicted again waits. */
	os_mutex_lock(&vm->evict_lock);
	todo = 0;
	for (struct gvm_list *l = vm->evicted.next; l != &vm->evicted; l = l->next)
		todo++;
	os_mutex_unlock(&vm->evict_lock);
	while (!err && todo--) {
		struct gvm_bo *bo = evicted_pop(vm);

		if (!bo)
			break;
		err = validate(bo, ctx);
		if (err) {
			os_mutex_lock(&vm->evict_lock);
			set_evicted_at(bo, true, &vm->evicted);
			os_mutex_unlock(&vm->evict_lock);
		}
		gvm_bo_put(bo);
	}
	return err;
}
