// SPDX-License-Identifier: MIT
/*
 * VMs, objects and their links, VA memory, the VA trees and lookups.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gvm_internal.h"

static void *default_zalloc(void *ctx, size_t size)
{
	(void)ctx;
	return calloc(1, size);
}

static void default_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static const struct pt_host_ops default_host = {
	.zalloc = default_zalloc,
	.free = default_free,
};

void *gvm_zalloc(const struct gvm *vm, size_t size)
{
	return vm->cfg.host->zalloc(vm->cfg.host_ctx, size);
}

void gvm_free(const struct gvm *vm, void *ptr)
{
	if (ptr)
		vm->cfg.host->free(vm->cfg.host_ctx, ptr);
}

int gvm_vec_push(const struct gvm *vm, struct gvm_vec *vec, const void *elem, size_t size)
{
	if (vec->nr == vec->cap) {
		unsigned int cap = vec->cap ? 2 * vec->cap : 8;
		void *v = gvm_zalloc(vm, cap * size);

		if (!v)
			return -ENOMEM;
		if (vec->nr)
			memcpy(v, vec->v, vec->nr * size);
		gvm_free(vm, vec->v);
		vec->v = v;
		vec->cap = cap;
	}
	memcpy((char *)vec->v + vec->nr++ * size, elem, size);
	return 0;
}

void gvm_vec_free(const struct gvm *vm, struct gvm_vec *vec)
{
	gvm_free(vm, vec->v);
	*vec = (struct gvm_vec){0};
}

/* A VA from the VM's slabs; a new slab when they are full. */
struct gvm_va *gvm_va_alloc(struct gvm *vm)
{
	struct gvm_va *va = vm->free_vas;

	if (!va) {
		struct gvm_slab *slab = gvm_zalloc(vm, sizeof(*slab));

		if (!slab)
			return NULL;
		slab->next = vm->slabs;
		vm->slabs = slab;
		vm->nr_slabs++;
		for (unsigned int i = 0; i < GVM_SLAB_VAS; i++)
			gvm_va_release(vm, &slab->vas[i]);
		va = vm->free_vas;
	}
	vm->free_vas = (struct gvm_va *)va->node.left;
	memset(va, 0, sizeof(*va));
	return va;
}

/* Back to the slab free list (slabs are freed with the VM). */
void gvm_va_release(struct gvm *vm, struct gvm_va *va)
{
	va->node.left = (struct gvm_rb_node *)vm->free_vas;
	vm->free_vas = va;
}

/* The link of @obj to @vm, made if needed; one more user. */
struct gvm_bo *gvm_bo_get(struct gvm *vm, struct gvm_obj *obj)
{
	struct gvm_bo *bo = gvm_bo_find(vm, obj);

	if (!bo) {
		bo = gvm_zalloc(vm, sizeof(*bo));
		if (!bo)
			return NULL;
		bo->vm = vm;
		bo->obj = obj;
		gvm_list_init(&bo->vas);
		pthread_mutex_lock(&obj->lock);
		gvm_list_add(&obj->links, &bo->obj_link);
		pthread_mutex_unlock(&obj->lock);
		vm->nr_bos++;
	}
	bo->users++;
	return bo;
}

void gvm_bo_put(struct gvm *vm, struct gvm_bo *bo)
{
	if (--bo->users)
		return;
	assert(gvm_list_empty(&bo->vas));
	pthread_mutex_lock(&bo->obj->lock);
	gvm_list_del(&bo->obj_link);
	pthread_mutex_unlock(&bo->obj->lock);
	vm->nr_bos--;
	gvm_free(vm, bo);
}

struct gvm_bo *gvm_bo_find(struct gvm *vm, struct gvm_obj *obj)
{
	struct gvm_bo *found = NULL;

	pthread_mutex_lock(&obj->lock);
	for (struct gvm_list *l = obj->links.next; l != &obj->links && !found; l = l->next) {
		struct gvm_bo *bo = (struct gvm_bo *)((char *)l - offsetof(struct gvm_bo, obj_link));

		if (bo->vm == vm)
			found = bo;
	}
	pthread_mutex_unlock(&obj->lock);
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
	return pthread_mutex_init(&obj->lock, NULL) ? -ENOMEM : 0;
}

void gvm_obj_fini(struct gvm_obj *obj)
{
	assert(gvm_list_empty(&obj->links) && "an object still mapped in a VM");
	pthread_mutex_destroy(&obj->lock);
}

/* Trees are keyed by the VA's start; projected VAs in one tree never overlap. */
void gvm_tree_insert(struct gvm_rb_root *root, struct gvm_va *va)
{
	struct gvm_rb_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = va->va < gvm_va_of(parent)->va ? &parent->left : &parent->right;
	}
	gvm_rb_link_node(&va->node, parent, link);
	gvm_rb_insert_color(&va->node, root);
}

void gvm_tree_erase(struct gvm_rb_root *root, struct gvm_va *va)
{
	gvm_rb_erase(&va->node, root);
}

/* The first VA (doomed or not) that ends after @start. */
struct gvm_va *gvm_tree_first_overlap(const struct gvm_rb_root *root, uint64_t start)
{
	struct gvm_rb_node *n = root->node, *best = NULL;

	/* The last VA starting at or before @start, if it reaches past it... */
	while (n) {
		if (gvm_va_of(n)->va <= start) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	if (best && gvm_va_end(gvm_va_of(best)) > start)
		return gvm_va_of(best);
	/* ...else the first one after it. */
	return gvm_va_of(best ? gvm_rb_next(best) : gvm_rb_first(root));
}

struct gvm_va *gvm_va_first(struct gvm *vm, uint64_t start, uint64_t end)
{
	struct gvm_va *va = gvm_tree_first_overlap(&vm->committed, start);

	return va && va->va < end ? va : NULL;
}

struct gvm_va *gvm_va_next(struct gvm *vm, struct gvm_va *va, uint64_t end)
{
	(void)vm;
	va = gvm_va_of(gvm_rb_next(&va->node));
	return va && va->va < end ? va : NULL;
}

struct gvm_va *gvm_va_find(struct gvm *vm, uint64_t addr)
{
	struct gvm_va *va = gvm_va_first(vm, addr, addr + 1);

	return va && va->va <= addr ? va : NULL;
}

static int check_cfg(const struct gvm_cfg *cfg)
{
	const struct gvm_backend_ops *b = cfg->backend;
	uint64_t page;

	if (!b || !b->create || !b->destroy || !b->attach || !b->detach || !b->reserve ||
	    !b->commit_begin || !b->commit || !b->commit_end || !b->unreserve)
		return -EINVAL;
	if (cfg->page_lg2 < 12 || cfg->page_lg2 > 16)
		return -EINVAL;
	page = 1ull << cfg->page_lg2;
	if (cfg->start >= cfg->end || (cfg->start | cfg->end) & (page - 1))
		return -EINVAL;
	if (cfg->host && (!cfg->host->zalloc || !cfg->host->free))
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

	if (!cfg || !out || check_cfg(cfg))
		return -EINVAL;
	c = *cfg;
	if (!c.host)
		c.host = &default_host;
	vm = c.host->zalloc(c.host_ctx, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->cfg = c;
	err = copy_reserved(vm);
	if (!err)
		err = c.backend->create(c.backend_cfg, &vm->backend);
	if (err) {
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

int gvm_destroy(struct gvm *vm)
{
	int err;

	if (!vm)
		return 0;
	assert(!vm->queue && "destroying a VM with prepared transactions");
	err = vm->nr_vas ? gvm_unmap_all(vm) : 0;
	if (err)
		return err;
	vm->cfg.backend->destroy(vm->backend);
	free_slabs(vm);
	gvm_free(vm, vm->reserved);
	gvm_free(vm, vm);
	return 0;
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
	st->va_bytes = vm->nr_slabs * sizeof(struct gvm_slab);
	st->bytes_per_va = sizeof(struct gvm_va);
}
