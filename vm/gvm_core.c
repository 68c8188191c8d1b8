// SPDX-License-Identifier: MIT
/*
 * VMs, objects and their links, VA memory, the VA trees and lookups.
 */

#include "gvm_internal.h"

void *gvm_zalloc(const struct gvm *vm, size_t size)
{
	return vm->cfg.host->zalloc(vm->cfg.host_ctx, size);
}

/*
 * Memory its user fills anyway: the host's alloc, which need not clear it
 * (zeroing a VA slab cost more than a request's worth of instructions per
 * slab, and each VA is cleared when it is handed out); zalloc without one.
 */
static void *gvm_alloc(const struct gvm *vm, size_t size)
{
	const struct pt_host_ops *h = vm->cfg.host;

	return h->alloc ? h->alloc(vm->cfg.host_ctx, size) : h->zalloc(vm->cfg.host_ctx, size);
}

void gvm_free(const struct gvm *vm, void *ptr)
{
	if (ptr)
		vm->cfg.host->free(vm->cfg.host_ctx, ptr);
}

int gvm_vec_grow(const struct gvm *vm, struct gvm_vec *vec, size_t size)
{
	unsigned int cap = vec->cap ? 2 * vec->cap : 8;
	void *v = gvm_zalloc(vm, cap * size);

	if (!v)
		return -ENOMEM;
	if (vec->nr)
		memcpy(v, vec->v, vec->nr * size);
	gvm_free(vm, vec->v);
	vec->v = v;
	vec->cap = cap;
	return 0;
}

void gvm_vec_free(const struct gvm *vm, struct gvm_vec *vec)
{
	gvm_free(vm, vec->v);
	*vec = (struct gvm_vec){ 0 };
}

/* The @i-th VA of @slab. */
static struct gvm_va *slab_va(const struct gvm *vm, struct gvm_slab *slab, unsigned int i)
{
	return (struct gvm_va *)(void *)((char *)slab->vas + (size_t)i * vm->va_stride);
}

static size_t slab_bytes(const struct gvm *vm)
{
	return sizeof(struct gvm_slab) + GVM_SLAB_VAS * vm->va_stride;
}

/*
 * gvm_va_alloc() with no free VA: a new slab (not cleared: gvm_alloc()), its
 * VAs on the free list. 0 or -ENOMEM.
 */
int gvm_va_slab_new(struct gvm *vm)
{
	struct gvm_slab *slab = gvm_alloc(vm, slab_bytes(vm));

	if (!slab)
		return -ENOMEM;
	slab->next = vm->slabs;
	vm->slabs = slab;
	vm->nr_slabs++;
	for (unsigned int i = 0; i < GVM_SLAB_VAS; i++)
		gvm_va_release(vm, slab_va(vm, slab, i));
	return 0;
}

/* A VM with driver ops: the new link's lists, hook and area (which gvm_zalloc() zeroed). */
static os_noinline void bo_init_driver(struct gvm *vm, struct gvm_bo *bo)
{
	struct gvm_bo_lists *l = gvm_bo_lists(bo);

	gvm_list_init(&l->evict);
	gvm_list_init(&l->extobj);
	if (gvm_bo_is_extobj(bo))
		gvm_list_add(&vm->extobjs, &l->extobj);
	if (vm->drv->bo_init)
		vm->drv->bo_init(bo);
}

/* A new link of @obj to @vm (with driver ops: its lists and private area). */
static struct gvm_bo *bo_create(struct gvm *vm, struct gvm_obj *obj)
{
	size_t bytes = vm->drv ? GVM_BO_PRIV_OFFSET + vm->drv->bo_priv_size : sizeof(struct gvm_bo);
	struct gvm_bo *bo = gvm_zalloc(vm, bytes);

	if (!bo)
		return NULL;
	bo->vm = vm;
	bo->obj = obj;
	gvm_list_init(&bo->vas);
	os_mutex_lock(gvm_obj_lock(obj));
	gvm_list_add(&obj->links, &bo->obj_link);
	os_mutex_unlock(gvm_obj_lock(obj));
	vm->nr_bos++;
	if (vm->drv)
		bo_init_driver(vm, bo);
	return bo;
}

/* gvm_bo_obtain() when the cache does not have the link: the locked search, or a new link. */
struct gvm_bo *gvm_bo_obtain_slow(struct gvm *vm, struct gvm_obj *obj)
{
	struct gvm_bo **slot = &vm->bo_cache[gvm_bo_slot(obj)];
	struct gvm_bo *bo = gvm_bo_find(vm, obj);

	if (!bo)
		bo = bo_create(vm, obj);
	if (!bo)
		return NULL;
	bo->users++;
	*slot = bo;
	return bo;
}

struct gvm_bo *gvm_bo_get(struct gvm_bo *bo)
{
	bo->users++;
	return bo;
}

/*
 * A VM with driver ops, the link off its object: only the writer (us)
 * reaches it now, so whoever marked it evicted (holding the object's lock or
 * a reference, since dropped) is done with it.
 */
static os_noinline void bo_fini_driver(struct gvm *vm, struct gvm_bo *bo)
{
	struct gvm_bo_lists *l = gvm_bo_lists(bo);

	if (l->evicted) {
		os_mutex_lock(&vm->evict_lock);
		gvm_list_del(&l->evict);
		os_mutex_unlock(&vm->evict_lock);
	}
	gvm_list_del(&l->extobj);
	if (vm->drv->bo_free)
		vm->drv->bo_free(bo);
}

/* gvm_bo_put() of the last reference (@bo->users 0 now). */
void gvm_bo_put_last(struct gvm_bo *bo)
{
	struct gvm *vm = bo->vm;

	/* Committed VAs hold references: the driver put more than it got. */
	if (os_misuse(!gvm_list_empty(&bo->vas) &&
		      "gvm_bo_put() would free a link that committed VAs still use")) {
		bo->users = 1;
		return;
	}
	if (vm->bo_cache[gvm_bo_slot(bo->obj)] == bo)
		vm->bo_cache[gvm_bo_slot(bo->obj)] = NULL;
	os_mutex_lock(gvm_obj_lock(bo->obj));
	gvm_list_del(&bo->obj_link);
	os_mutex_unlock(gvm_obj_lock(bo->obj));
	/* Last: bo_free may drop the driver's reference on the object. */
	if (vm->drv)
		bo_fini_driver(vm, bo);
	vm->nr_bos--;
	gvm_free(vm, bo);
}

void gvm_bo_put(struct gvm_bo *bo)
{
	gvm_bo_unref(bo);
}

struct gvm_bo *gvm_bo_find(struct gvm *vm, struct gvm_obj *obj)
{
	struct gvm_bo *found = NULL;

	os_mutex_lock(gvm_obj_lock(obj));
	for (struct gvm_list *l = obj->links.next; l != &obj->links && !found; l = l->next) {
		struct gvm_bo *bo = gvm_bo_of_obj_link(l);

		if (bo->vm == vm)
			found = bo;
	}
	os_mutex_unlock(gvm_obj_lock(obj));
	return found;
}

int gvm_obj_init(struct gvm_obj *obj, const struct gvm_obj_ops *ops, uint64_t size)
{
	if (!ops || !ops->phys || !size)
		return -EINVAL;
	memset(obj, 0, sizeof(*obj));
	obj->ops = ops;
	obj->size = size;
	gvm_list_init(&obj->links);
	return os_mutex_init(gvm_obj_lock(obj));
}

int gvm_obj_fini(struct gvm_obj *obj)
{
	bool linked;

	/* Other VMs' threads link and unlink under the lock. */
	os_mutex_lock(gvm_obj_lock(obj));
	linked = !gvm_list_empty(&obj->links);
	os_mutex_unlock(gvm_obj_lock(obj));
	if (os_misuse(linked && "gvm_obj_fini() of an object still mapped in a VM"))
		return -EBUSY;
	os_mutex_destroy(gvm_obj_lock(obj));
	return 0;
}

static void *bt_zalloc(void *ctx, size_t size)
{
	return gvm_zalloc(ctx, size);
}

static void bt_free(void *ctx, void *ptr)
{
	gvm_free(ctx, ptr);
}

static struct gvm_bt_alloc bt_alloc(struct gvm *vm)
{
	return (struct gvm_bt_alloc){ .zalloc = bt_zalloc, .free = bt_free, .ctx = vm };
}

/* gvm_tree_promise() when the spares are short: allocate them. */
int gvm_tree_promise_alloc(struct gvm *vm, struct gvm_tree *t, unsigned int inserts)
{
	struct gvm_bt_alloc a = bt_alloc(vm);
	int err = gvm_bt_reserve(&t->bt, t->promised + inserts, &a);

	if (!err)
		t->promised += inserts;
	return err;
}

/* Down to the spares gvm_tree_unpromise() keeps. */
void gvm_tree_trim(struct gvm *vm, struct gvm_tree *t)
{
	struct gvm_bt_alloc a = bt_alloc(vm);

	gvm_bt_trim(&t->bt, (unsigned int)gvm_tree_spares_kept(t), &a);
}

void gvm_tree_insert(struct gvm_tree *t, struct gvm_va *va)
{
	gvm_bt_insert(&t->bt, gvm_va_key(va));
}

void gvm_tree_erase(struct gvm_tree *t, struct gvm_va *va)
{
	gvm_bt_erase(&t->bt, gvm_va_key(va));
}

void gvm_tree_fini(struct gvm *vm, struct gvm_tree *t)
{
	struct gvm_bt_alloc a = bt_alloc(vm);

	gvm_bt_fini(&t->bt, &a);
}

/* Free spare nodes the tree gained since it had @nodes, keeping what promises need. */
static void tree_restore(struct gvm *vm, struct gvm_tree *t, uint64_t nodes)
{
	struct gvm_bt_alloc a = bt_alloc(vm);
	uint64_t need = t->promised ? gvm_bt_spares_for(&t->bt, t->promised) : 0;
	uint64_t extra = t->bt.nodes > nodes ? t->bt.nodes - nodes : 0;
	uint64_t keep = t->bt.nr_spare > extra ? t->bt.nr_spare - extra : 0;

	gvm_bt_trim(&t->bt, (unsigned int)(keep > need ? keep : need), &a);
}

/* Free the slabs made since there were @keep (newest first): all their VAs are free. */
static void slabs_restore(struct gvm *vm, uint64_t keep)
{
	while (vm->nr_slabs > keep) {
		struct gvm_slab *slab = vm->slabs;
		struct gvm_va *prev = NULL, *va = vm->free_vas, *next;
		unsigned int found = 0;

		for (; va; va = next) {
			next = (struct gvm_va *)va->creator;
			if ((char *)va < (char *)slab->vas ||
			    (char *)va >= (char *)slab_va(vm, slab, GVM_SLAB_VAS)) {
				prev = va;
				continue;
			}
			if (prev)
				prev->creator = (struct gvm_txn *)next;
			else
				vm->free_vas = next;
			found++;
		}
		os_assert(found == GVM_SLAB_VAS && "a VA of a new slab is still in use");
		(void)found;
		vm->slabs = slab->next;
		vm->nr_slabs--;
		gvm_free(vm, slab);
	}
}

/*
 * After a failed prepare was undone: give back the tree nodes and VA slabs it
 * allocated, so that the VM's memory is exactly as before (gvm_bind_prepare()).
 */
void gvm_mem_restore(struct gvm *vm, const struct gvm_mem_mark *m)
{
	tree_restore(vm, &vm->committed, m->committed_nodes);
	tree_restore(vm, &vm->pending, m->pending_nodes);
	slabs_restore(vm, m->slabs);
}

/*
 * The pending tree also holds doomed VAs, and one may lie inside a live VA that
 * starts before it (a request that replaced it, or a piece of a VA it was cut
 * from with the same start). The nearest live VA starting at or before @start
 * is the only live one that can contain @start: step back to it. (A tree with
 * no doomed VA has nothing to step over.)
 */
static bool live_before(struct gvm_bt_cur *cur, uint64_t start)
{
	struct gvm_bt_cur c = *cur;
	struct gvm_va *va = gvm_va_at(&c);

	if (!(va->state & GVM_VA_PENDING))
		return false; /* committed VAs never overlap: nothing hides */
	while ((va->state & GVM_VA_DOOMED) && gvm_bt_prev(&c))
		va = gvm_va_at(&c);
	if ((va->state & GVM_VA_DOOMED) || gvm_va_end(va) <= start)
		return false;
	*cur = c;
	return true;
}

/*
 * The first VA (doomed or not) that ends after @start, with a cursor on it -
 * or the live VA that contains @start. @path (or NULL) receives the way down.
 */
struct gvm_va *gvm_tree_first_overlap(const struct gvm_tree *t, uint64_t start,
				      struct gvm_bt_cur *cur, struct gvm_bt_path *path)
{
	struct gvm_bt_path local;
	struct gvm_va *va;

	/* The last VA starting at or before @start, if it reaches past it... */
	if (gvm_bt_find_le_path(&t->bt, start, cur, path ? path : &local)) {
		if (t->doomed && live_before(cur, start))
			return gvm_va_at(cur);
		va = gvm_va_at(cur);
		if (gvm_va_end(va) > start)
			return va;
		return gvm_bt_next(cur) ? gvm_va_at(cur) : NULL;
	}
	/* ...else the first VA of all. */
	return gvm_bt_first(&t->bt, cur) ? gvm_va_at(cur) : NULL;
}

struct gvm_va *gvm_tree_next(struct gvm_bt_cur *cur)
{
	return gvm_bt_next(cur) ? gvm_va_at(cur) : NULL;
}

struct gvm_va *gvm_va_first(struct gvm *vm, uint64_t start, uint64_t end)
{
	struct gvm_bt_cur cur;
	struct gvm_va *va = gvm_tree_first_overlap(&vm->committed, start, &cur, NULL);

	return va && va->va < end ? va : NULL;
}

/* Committed VAs never share a start: the one before @va's successor is @va. */
struct gvm_va *gvm_va_next(struct gvm *vm, struct gvm_va *va, uint64_t end)
{
	struct gvm_bt_cur cur;

	if (!gvm_bt_find_le(&vm->committed.bt, va->va, &cur) || gvm_va_at(&cur) != va)
		return NULL;
	va = gvm_tree_next(&cur);
	return va && va->va < end ? va : NULL;
}

struct gvm_va *gvm_va_find(struct gvm *vm, uint64_t addr)
{
	struct gvm_va *va = gvm_va_first(vm, addr, addr + 1);

	return va && va->va <= addr ? va : NULL;
}

/* Members that go together: what op_prepare and bo_init take, op_cleanup and bo_free give back. */
static int check_driver(const struct gvm_driver_ops *d)
{
	if (d->va_priv_size > GVM_PRIV_MAX || d->bo_priv_size > GVM_PRIV_MAX)
		return -EINVAL;
	if ((d->op_prepare && !d->op_cleanup) || (!d->bo_init != !d->bo_free))
		return -EINVAL;
	return 0;
}

/* The four members that write go together; without them nothing is held between binds. */
static bool backend_writes_ok(const struct gvm_backend_ops *b)
{
	unsigned int n = !!b->commit_begin + !!b->commit + !!b->commit_end + !!b->unreserve;

	return n == 4 || (n == 0 && !b->resv_size);
}

static int check_cfg(const struct gvm_cfg *cfg)
{
	const struct gvm_backend_ops *b = cfg->backend;
	uint64_t page;

	if (!b || !b->create || !b->destroy || !b->attach || !b->detach || !b->reserve ||
	    !backend_writes_ok(b))
		return -EINVAL;
	if (cfg->page_lg2 < 12 || cfg->page_lg2 > 16)
		return -EINVAL;
	page = 1ull << cfg->page_lg2;
	if (cfg->start >= cfg->end || (cfg->start | cfg->end) & (page - 1))
		return -EINVAL;
	if (cfg->host && (!cfg->host->zalloc || !cfg->host->free))
		return -EINVAL;
	if (cfg->driver && check_driver(cfg->driver))
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_reserved; i++) {
		const struct gvm_range *r = &cfg->reserved[i];

		if (r->start >= r->end || r->start < cfg->start || r->end > cfg->end ||
		    (r->start | r->end) & (page - 1))
			return -EINVAL;
		for (unsigned int j = 0; j < i; j++)
			if (r->start < cfg->reserved[j].end && cfg->reserved[j].start < r->end)
				return -EINVAL;
	}
	return gvm_backend_check_cfg(cfg);
}

/*
 * gvm_destroy() cleans up the VAs left as committed UNMAPs (DOC: driver
 * hooks) and allocates nothing: their transaction is made here.
 */
static int make_teardown(struct gvm *vm)
{
	if (!vm->drv || !vm->drv->op_cleanup)
		return 0;
	vm->teardown = gvm_zalloc(vm, sizeof(*vm->teardown));
	if (!vm->teardown)
		return -ENOMEM;
	vm->teardown->vm = vm;
	vm->teardown->state = GVM_TXN_COMMITTED;
	return 0;
}

static int copy_reserved(struct gvm *vm)
{
	size_t bytes = vm->cfg.nr_reserved * sizeof(*vm->reserved);

	if (!bytes)
		return 0;
	vm->reserved = gvm_zalloc(vm, bytes);
	if (!vm->reserved)
		return -ENOMEM;
	memcpy(vm->reserved, vm->cfg.reserved, bytes);
	vm->cfg.reserved = vm->reserved;
	return 0;
}

int gvm_create(const struct gvm_cfg *cfg, struct gvm **out)
{
	struct gvm_cfg c;
	struct gvm *vm;
	int err;

	if (!cfg || !out)
		return -EINVAL;
	err = check_cfg(cfg);
	if (err)
		return err;
	c = *cfg;
	if (!c.host)
		c.host = &pt_host_malloc_ops;
	vm = c.host->zalloc(c.host_ctx, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->cfg = c;
	vm->page_mask = (1ull << c.page_lg2) - 1;
	gvm_list_init(&vm->committed_txns);
	vm->drv = c.driver;
	vm->writes = c.backend->commit != NULL;
	vm->clear_resv = c.backend->resv_size && !c.backend->unreserve_zeroes;
	/* Without driver ops, VAs are as small as they can be. */
	vm->va_stride = c.driver ? GVM_VA_PRIV_OFFSET + GVM_ALIGN8(c.driver->va_priv_size) :
				   sizeof(struct gvm_va);
	gvm_list_init(&vm->extobjs);
	gvm_list_init(&vm->evicted);
	err = os_mutex_init(&vm->evict_lock);
	if (err) {
		gvm_free(vm, vm);
		return err;
	}
	err = make_teardown(vm);
	if (!err)
		err = copy_reserved(vm);
	if (!err)
		err = c.backend->create(c.backend_cfg, &vm->backend);
	if (err) {
		gvm_free(vm, vm->teardown);
		os_mutex_destroy(&vm->evict_lock);
		gvm_free(vm, vm->reserved);
		gvm_free(vm, vm);
		return err;
	}
	*out = vm;
	return 0;
}

static void free_slabs(struct gvm *vm)
{
	while (vm->slabs) {
		struct gvm_slab *next = vm->slabs->next;

		gvm_free(vm, vm->slabs);
		vm->slabs = next;
	}
}

/*
 * Nothing here allocates: the backend's destroy unmaps every table and
 * flushes (pt_destroy()) before the VAs drop their object references.
 */
void gvm_destroy(struct gvm *vm)
{
	if (!vm)
		return;
	if (os_misuse((vm->queue || !gvm_list_empty(&vm->committed_txns)) &&
		      "gvm_destroy() with transactions not cleaned up"))
		gvm_txn_abandon_all(vm);
	vm->cfg.backend->destroy(vm->backend);
	gvm_release_all(vm);
	(void)os_misuse(vm->nr_bos && "gvm_destroy() with link references the driver still holds");
	os_mutex_destroy(&vm->evict_lock);
	gvm_free(vm, vm->teardown);
	if (vm->spare_txn)
		gvm_txn_destroy(vm, vm->spare_txn);
	gvm_tree_fini(vm, &vm->committed);
	gvm_tree_fini(vm, &vm->pending);
	free_slabs(vm);
	gvm_free(vm, vm->reserved);
	gvm_free(vm, vm);
}

int gvm_attach(struct gvm *vm, unsigned int slot)
{
	return vm->cfg.backend->attach(vm->backend, slot);
}

void gvm_detach(struct gvm *vm)
{
	vm->cfg.backend->detach(vm->backend);
}

void gvm_get_stats(struct gvm *vm, struct gvm_stats *st)
{
	st->vas = vm->nr_vas;
	st->bos = vm->nr_bos;
	st->va_bytes = vm->nr_slabs * slab_bytes(vm);
	st->index_bytes = (vm->committed.bt.nodes + vm->pending.bt.nodes) * gvm_bt_node_size();
	st->bytes_per_va = vm->va_stride;
	st->replacements = vm->nr_replacements;
	st->replaced_in_place = vm->nr_replaced_in_place;
}
