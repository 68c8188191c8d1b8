/* SPDX-License-Identifier: MIT */
/*
 * Private to vm/.
 *
 * DOC: committed and projected VAs
 *
 * Committed VAs live in vm->committed. A prepared transaction does not touch
 * them: the VAs it creates go into vm->pending, and the VAs it removes are
 * marked doomed (va->doomer). What later requests see - the projection - is
 *
 *     (committed - doomed) + (pending - doomed)
 *
 * and the commit makes it real: doomed VAs leave their tree, created ones move
 * from pending to committed.
 *
 * DOC: lazy transactions
 *
 * One request prepared with nothing queued (what a VM_BIND of one op is) does
 * not put the VAs it creates into vm->pending: nothing reads the projection
 * until the next prepare or gvm_sm_ops(), and usually the transaction commits
 * first, so the insert into the pending tree and the erase from it would be
 * wasted. Such a transaction is vm->lazy while queued; whatever reads the
 * projection first materializes it (gvm_materialize(): its VAs go into the
 * pending tree), and a prepare that fails after doing so takes them out again,
 * so that the VM's memory is as before. Both trees are B+ trees ordered by address
 * (gvm_btree.h) and never hold overlapping projected VAs, so a request touching
 * k VAs costs O(log n + k). A commit inserts into the committed tree without
 * allocating: each prepared transaction promises its inserts, and the tree
 * keeps enough spare nodes for every promise.
 */
#ifndef GPUVM_GVM_INTERNAL_H
#define GPUVM_GVM_INTERNAL_H

#include <gpuvm/gvm.h>
#include <gpuvm/os.h>

#include "gvm_btree.h"

/* struct gvm_va.state */
#define GVM_VA_PENDING (1u << 0) /* in vm->pending, created by va->creator */
#define GVM_VA_DOOMED (1u << 1)  /* removed by va->doomer when it commits */
/*
 * A replacement: the transaction that creates the VA dooms a committed VA with
 * the same start, whose slot in the committed tree the commit hands over
 * (GVM_VA_SWAPPED on the old VA) instead of an erase and an insert.
 */
#define GVM_VA_REPLACES (1u << 2)
#define GVM_VA_SWAPPED (1u << 3)

/*
 * Links gvm_bo_obtain() remembers, by a hash of the object (2^N slots,
 * direct-mapped). Four times as many slots as the dozen or so objects a
 * driver binds again and again, so that few of them share one: with 16 slots,
 * vm-bench's 16 objects missed on 22% of the lookups (~80 instructions each:
 * the locked search of the object's links).
 */
#define GVM_BO_CACHE_LG2 6

/*
 * VA objects come from slabs: fast, and no per-object malloc overhead. Each
 * VA is vm->va_stride bytes: the struct and the driver's private area.
 */
#define GVM_SLAB_VAS 64

struct gvm_slab {
	struct gvm_slab *next;
	_Alignas(8) uint64_t vas[]; /* GVM_SLAB_VAS VAs of vm->va_stride bytes */
};

/*
 * The driver's private areas start 8-byte aligned after the struct (32-bit
 * x86 aligns a struct's 64-bit members to 4 only), and a VA with an area
 * takes a multiple of 8 bytes, so that the next one is aligned too.
 */
#define GVM_ALIGN8(n) (((n) + 7) & ~(size_t)7)
#define GVM_VA_PRIV_OFFSET GVM_ALIGN8(sizeof(struct gvm_va))

/*
 * What a link of a VM with driver ops has after its struct, before the
 * driver's area (DOC: external and evicted objects): a VM without driver ops
 * allocates links of sizeof(struct gvm_bo) and never reaches this.
 */
struct gvm_bo_lists {
	struct gvm_list extobj; /* vm->extobjs, under the writer lock */
	struct gvm_list evict;  /* vm->evicted, under vm->evict_lock */
	bool evicted;           /* on vm->evicted (vm->evict_lock) */
};

#define GVM_BO_LISTS_OFFSET GVM_ALIGN8(sizeof(struct gvm_bo))
#define GVM_BO_PRIV_OFFSET GVM_ALIGN8(GVM_BO_LISTS_OFFSET + sizeof(struct gvm_bo_lists))

static inline struct gvm_bo_lists *gvm_bo_lists(struct gvm_bo *bo)
{
	return (struct gvm_bo_lists *)(void *)((char *)bo + GVM_BO_LISTS_OFFSET);
}

/*
 * A tree of VAs, the inserts prepared transactions will make in it, and how
 * many of its VAs they doom. With none doomed (no transaction prepared, the
 * usual case) a lookup reads starts from the tree's keys and never touches a
 * VA it does not return: at a million VAs each such touch is a cache miss.
 */
struct gvm_tree {
	struct gvm_bt bt;
	unsigned int promised;
	uint64_t doomed;
};

struct gvm {
	struct gvm_cfg cfg;
	uint64_t page_mask; /* page size - 1: every request is checked against it */
	struct gvm_range *reserved;
	void *backend;
	struct gvm_tree committed, pending;
	struct gvm_txn *queue, *queue_tail; /* prepared, oldest first */
	struct gvm_txn *spare_txn;          /* a finished one, kept for reuse */
	struct gvm_txn *lazy;               /* queued, its VAs not in pending */
	struct gvm_list committed_txns;     /* committed, not cleaned up yet */
	struct gvm_slab *slabs;
	struct gvm_va *free_vas;                         /* linked through creator */
	struct gvm_bo *bo_cache[1u << GVM_BO_CACHE_LG2]; /* links by object, direct-mapped */
	uint64_t nr_vas, nr_bos, nr_slabs;
	uint64_t nr_replacements, nr_replaced_in_place; /* struct gvm_stats */
	const struct gvm_driver_ops *drv; /* NULL: no hooks (the fast paths test this) */
	/*
	 * The backend has commit ops (struct gvm_backend_ops: the identity
	 * backend has none, its commit writes nothing): without, the calls are
	 * skipped (its reserve, which checks each op, is not).
	 */
	bool writes;
	bool clear_resv;  /* a reservation is cleared after unreserve (not unreserve_zeroes) */
	size_t va_stride; /* a VA and its private area */
	struct gvm_list extobjs;  /* links of external objects (writer lock) */
	struct gvm_txn *teardown; /* with op_cleanup: gvm_destroy()'s UNMAPs' transaction */
	os_mutex evict_lock;      /* @evicted and each link's evicted state */
	struct gvm_list evicted;
};

enum gvm_txn_state {
	GVM_TXN_PREPARED,
	GVM_TXN_COMMITTED,
	GVM_TXN_IDLE, /* cleaned up: the VM's spare */
};

/* A growable array of pointers or ops (host memory, prepare time only). */
struct gvm_vec {
	void *v;
	unsigned int nr, cap;
};

struct gvm_txn {
	struct gvm *vm;
	struct gvm_txn *qnext;
	struct gvm_list committed_link; /* on vm->committed_txns once committed */
	enum gvm_txn_state state;
	struct gvm_vec created;   /* struct gvm_va * */
	struct gvm_vec doomed;    /* struct gvm_va * */
	struct gvm_vec bops;      /* struct pt_op: what the backend applies */
	struct gvm_vec scratch;   /* struct gvm_op: the request being prepared, every request
				  * with driver ops */
	unsigned int promised;    /* inserts promised in vm->committed */
	unsigned int nr_prepared; /* ops whose driver op_prepare ran (scratch holds them) */
	bool was_spare;           /* taken from vm->spare_txn */
	bool lazy;                /* created VAs stay out of vm->pending */
	unsigned int had_buffer;  /* which vectors had a buffer then */
	void *bresv;              /* the backend's reservation */
	/*
	 * A lazy transaction's way down the committed tree to its request: no
	 * commit comes before its own, so the commit can update the tree there.
	 */
	struct gvm_bt_path hint;
};

/* Memory. */
void *gvm_zalloc(const struct gvm *vm, size_t size);
void gvm_free(const struct gvm *vm, void *ptr);
int gvm_vec_grow(const struct gvm *vm, struct gvm_vec *vec, size_t size);

/* Inline: with the constant @size of each caller the copy is a few moves, no call. */
static inline int gvm_vec_push(const struct gvm *vm, struct gvm_vec *vec, const void *elem,
			       size_t size)
{
	if (vec->nr == vec->cap && gvm_vec_grow(vm, vec, size))
		return -ENOMEM;
	memcpy((char *)vec->v + vec->nr++ * size, elem, size);
	return 0;
}
void gvm_vec_free(const struct gvm *vm, struct gvm_vec *vec);

/* VAs and object links. */
/* Back to the slab free list (slabs are freed with the VM). Inline: every bind frees VAs. */
static inline void gvm_va_release(struct gvm *vm, struct gvm_va *va)
{
	va->creator = (struct gvm_txn *)vm->free_vas;
	vm->free_vas = va;
}

int gvm_va_slab_new(struct gvm *vm);

/*
 * A cleared VA from the VM's slabs, a new slab when they are full; NULL: out
 * of memory. Its private area is left as it was: the driver's op hook path
 * initializes it (gvm_txn.c). Inline: every bind that maps makes VAs.
 */
static inline struct gvm_va *gvm_va_alloc(struct gvm *vm)
{
	struct gvm_va *va = vm->free_vas;

	if (!va) {
		if (gvm_va_slab_new(vm))
			return NULL;
		va = vm->free_vas;
	}
	vm->free_vas = (struct gvm_va *)va->creator;
	memset(va, 0, sizeof(*va));
	return va;
}

struct gvm_bo *gvm_bo_obtain_slow(struct gvm *vm, struct gvm_obj *obj);

/* @obj's slot in the VM's cache of links (a multiplicative hash of its address). */
static inline unsigned int gvm_bo_slot(const struct gvm_obj *obj)
{
	return (unsigned int)(((uint64_t)(uintptr_t)obj * 0x9e3779b97f4a7c15ull) >>
			      (64 - GVM_BO_CACHE_LG2));
}

/*
 * The link of @obj to @vm, made if needed; one more user. Inline: each VA a
 * bind makes takes one, and the cache usually has it.
 */
static inline struct gvm_bo *gvm_bo_obtain(struct gvm *vm, struct gvm_obj *obj)
{
	struct gvm_bo *bo = vm->bo_cache[gvm_bo_slot(obj)];

	if (bo && bo->obj == obj) {
		bo->users++;
		return bo;
	}
	return gvm_bo_obtain_slow(vm, obj);
}
void gvm_bo_put_last(struct gvm_bo *bo);

/* gvm_bo_put(), inline: each VA a bind removes drops one. */
static inline void gvm_bo_unref(struct gvm_bo *bo)
{
	if (!--bo->users)
		gvm_bo_put_last(bo);
}

int gvm_tree_promise_alloc(struct gvm *vm, struct gvm_tree *t, unsigned int inserts);
void gvm_tree_trim(struct gvm *vm, struct gvm_tree *t);

/*
 * Spare nodes for @inserts more insertions (prepare time): usually there
 * already, and then a comparison is all it takes. 0 or -ENOMEM.
 */
static inline int gvm_tree_promise(struct gvm *vm, struct gvm_tree *t, unsigned int inserts)
{
	if (t->bt.nr_spare < gvm_bt_spares_for(&t->bt, t->promised + inserts))
		return gvm_tree_promise_alloc(vm, t, inserts);
	t->promised += inserts;
	return 0;
}

/*
 * Keep a few spare nodes beyond the promises, so that churn does not allocate;
 * trim only once there are twice as many, so that a tree whose spares go up
 * and down around the limit (splits take them, merges give them back) does
 * not free and allocate a node on every bind.
 */
#define GVM_TREE_SPARE_SLACK 32

static inline uint64_t gvm_tree_spares_kept(const struct gvm_tree *t)
{
	return gvm_bt_spares_for(&t->bt, t->promised) + GVM_TREE_SPARE_SLACK;
}

/* @inserts promised insertions will not happen (0: only trim the spares). */
static inline void gvm_tree_unpromise(struct gvm *vm, struct gvm_tree *t, unsigned int inserts)
{
	t->promised -= inserts;
	if (t->bt.nr_spare > gvm_tree_spares_kept(t) + GVM_TREE_SPARE_SLACK)
		gvm_tree_trim(vm, t);
}
void gvm_tree_insert(struct gvm_tree *t, struct gvm_va *va);
void gvm_tree_erase(struct gvm_tree *t, struct gvm_va *va);

static inline struct gvm_bt_key gvm_va_key(const struct gvm_va *va)
{
	return (struct gvm_bt_key){ .start = va->va, .tie = (uintptr_t)va };
}

/*
 * The commit's tree updates, inline (each bind makes some), with @path from
 * the lookup of the request (the tree unchanged since but for updates through
 * the path; NULL or ended: none): in its leaf when the VA belongs there, else
 * with a descent, which ends the path.
 */
static inline void gvm_tree_insert_near(struct gvm_tree *t, struct gvm_va *va,
					struct gvm_bt_path *path)
{
	if (path && gvm_bt_insert_at(&t->bt, path, gvm_va_key(va)))
		return;
	gvm_bt_insert(&t->bt, gvm_va_key(va));
	if (path)
		path->leaf = NULL;
}

static inline void gvm_tree_erase_near(struct gvm_tree *t, struct gvm_va *va,
				       struct gvm_bt_path *path)
{
	if (path && gvm_bt_erase_at(&t->bt, path, gvm_va_key(va)))
		return;
	gvm_bt_erase(&t->bt, gvm_va_key(va));
	if (path)
		path->leaf = NULL;
}

/* @va takes the slot of the VA with its start, if it can in place: that VA, or NULL. */
static inline struct gvm_va *gvm_tree_replace(struct gvm_tree *t, struct gvm_va *va,
					      const struct gvm_bt_path *path)
{
	uintptr_t old = path ? gvm_bt_replace_at(&t->bt, path, gvm_va_key(va)) : 0;

	return (struct gvm_va *)(old ? old : gvm_bt_replace(&t->bt, gvm_va_key(va)));
}
/* @va takes the slot of @old in @t if its key fits there (gvm_bt_swap_at()); false: nothing done. */
static inline bool gvm_tree_swap(struct gvm_tree *t, struct gvm_bt_path *path,
				 const struct gvm_va *old, struct gvm_va *va)
{
	return gvm_bt_swap_at(&t->bt, path, gvm_va_key(old), gvm_va_key(va));
}
void gvm_tree_fini(struct gvm *vm, struct gvm_tree *t);

/* What a prepare may add to the VM's memory (tree nodes, VA slabs), to take back if it fails. */
struct gvm_mem_mark {
	uint64_t committed_nodes, pending_nodes, slabs;
};

/* Inline: every prepare takes one, and most never need it. */
static inline void gvm_mem_mark(const struct gvm *vm, struct gvm_mem_mark *m)
{
	m->committed_nodes = vm->committed.bt.nodes;
	m->pending_nodes = vm->pending.bt.nodes;
	m->slabs = vm->nr_slabs;
}

void gvm_mem_restore(struct gvm *vm, const struct gvm_mem_mark *m);

struct gvm_va *gvm_tree_first_overlap(const struct gvm_tree *t, uint64_t start,
				      struct gvm_bt_cur *cur, struct gvm_bt_path *path);
struct gvm_va *gvm_tree_next(struct gvm_bt_cur *cur);

static inline struct gvm_va *gvm_va_at(const struct gvm_bt_cur *cur)
{
	return (struct gvm_va *)gvm_bt_get(cur).tie;
}

static inline uint64_t gvm_va_end(const struct gvm_va *va)
{
	return va->va + va->size;
}

/* The tree a VA is in: pending until its transaction commits. */
static inline struct gvm_tree *gvm_tree_of(struct gvm *vm, const struct gvm_va *va)
{
	return va->state & GVM_VA_PENDING ? &vm->pending : &vm->committed;
}

static inline void gvm_list_init(struct gvm_list *head)
{
	head->next = head;
	head->prev = head;
}

static inline void gvm_list_add(struct gvm_list *head, struct gvm_list *node)
{
	node->next = head->next;
	node->prev = head;
	head->next->prev = node;
	head->next = node;
}

static inline void gvm_list_del(struct gvm_list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->next = node->prev = node;
}

static inline bool gvm_list_empty(const struct gvm_list *head)
{
	return head->next == head;
}

_Static_assert(sizeof(os_mutex) <= sizeof(struct gvm_lock_room) &&
		       _Alignof(os_mutex) <= _Alignof(struct gvm_lock_room),
	       "the OS layer's mutex does not fit struct gvm_obj");

/* The object's lock lives in room the public header keeps for it. */
static inline os_mutex *gvm_obj_lock(struct gvm_obj *obj)
{
	return (os_mutex *)(void *)&obj->lock;
}

/* The link a node of an object's list (struct gvm_obj.links) belongs to. */
static inline struct gvm_bo *gvm_bo_of_obj_link(struct gvm_list *l)
{
	return (struct gvm_bo *)(void *)((char *)l - offsetof(struct gvm_bo, obj_link));
}

/* Requests. */
void gvm_txn_abandon_all(struct gvm *vm);
void gvm_release_all(struct gvm *vm);
int gvm_backend_check_cfg(const struct gvm_cfg *cfg);
void gvm_txn_destroy(struct gvm *vm, struct gvm_txn *txn);
int gvm_materialize(struct gvm *vm);

/* The projection: committed and pending VAs that no transaction dooms. */
struct gvm_proj_iter {
	struct gvm_bt_cur cc, pc; /* cursors in the committed and pending trees */
	struct gvm_va *c, *p;     /* the VA under each, NULL at the end */
	uint64_t end;
};

struct gvm_va *gvm_proj_first(struct gvm *vm, struct gvm_proj_iter *it, uint64_t start,
			      uint64_t end, struct gvm_bt_path *path);
int gvm_sm_ops_path(struct gvm *vm, const struct gvm_req *req, const struct gvm_op_cb *cb,
		    void *priv, struct gvm_bt_path *path);
struct gvm_va *gvm_proj_next(struct gvm *vm, struct gvm_proj_iter *it);

/*
 * A request's checks, inline: a lone request (gvm_txn.c) makes them in its
 * own frame.
 */
static inline bool gvm_touches_reserved(const struct gvm *vm, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < vm->cfg.nr_reserved; i++)
		if (start < vm->reserved[i].end && vm->reserved[i].start < end)
			return true;
	return false;
}

static inline int gvm_check_map(const struct gvm *vm, const struct gvm_req *req)
{
	uint64_t used, end;

	if (!req->obj || (req->offset | req->repeat) & vm->page_mask)
		return -EINVAL;
	if (req->repeat && os_mod_u64(req->size, req->repeat))
		return -EINVAL;
	used = req->repeat ? req->repeat : req->size;
	if (__builtin_add_overflow(req->offset, used, &end) || end > req->obj->size)
		return -EINVAL;
	return 0;
}

/* Is @req a valid request (0) or not (-EINVAL)? */
static inline int gvm_req_check(const struct gvm *vm, const struct gvm_req *req)
{
	uint64_t end;

	if (req->type != GVM_REQ_MAP && req->type != GVM_REQ_UNMAP)
		return -EINVAL;
	if (!req->size || (req->va | req->size) & vm->page_mask)
		return -EINVAL;
	if (__builtin_add_overflow(req->va, req->size, &end) || req->va < vm->cfg.start ||
	    end > vm->cfg.end || gvm_touches_reserved(vm, req->va, end))
		return -EINVAL;
	if (req->type == GVM_REQ_UNMAP)
		return req->obj || req->offset || req->repeat || req->prot ? -EINVAL : 0;
	return gvm_check_map(vm, req);
}

/* A repeat VA may only be cut on a multiple of its period. */
static inline bool gvm_sm_cut_ok(const struct gvm_va *v, uint64_t at)
{
	return !v->repeat || os_mod_u64(at - v->va, v->repeat) == 0;
}

/* Are the cuts @req makes in @v (before and after the request) allowed? */
static inline bool gvm_sm_cuts_ok(const struct gvm_va *v, const struct gvm_req *req)
{
	uint64_t re = req->va + req->size;

	if (!v->repeat)
		return true;
	return (v->va >= req->va || gvm_sm_cut_ok(v, req->va)) &&
	       (gvm_va_end(v) <= re || gvm_sm_cut_ok(v, re));
}

/*
 * Split/merge's ops (DOC in gvm_sm.c), inline: a request prepared with
 * nothing queued makes them in its own frame (apply_direct()).
 */
static inline struct gvm_obj *gvm_sm_obj(const struct gvm_va *va)
{
	return va->bo->obj;
}

/* Does @req map the part of @v it covers to the very same pages? */
static inline bool gvm_sm_same_pages(const struct gvm_va *v, const struct gvm_req *req)
{
	if (req->type != GVM_REQ_MAP || gvm_sm_obj(v) != req->obj || v->repeat != req->repeat)
		return false;
	if (v->repeat)
		return v->offset == req->offset &&
		       os_mod_u64(v->va > req->va ? v->va - req->va : req->va - v->va, v->repeat) ==
			       0;
	return v->offset - v->va == req->offset - req->va;
}

/* The piece of @v from @start to @end that stays. */
static inline void gvm_sm_piece(const struct gvm_va *v, uint64_t start, uint64_t end,
				struct gvm_op_piece *p)
{
	p->va = start;
	p->size = end - start;
	p->obj = gvm_sm_obj(v);
	p->repeat = v->repeat;
	p->offset = v->repeat ? v->offset : v->offset + (start - v->va);
	p->prot = v->prot;
}

/*
 * The op of @req for overlapped VA @v; -EINVAL when a cut is not allowed.
 * Only what its type uses is written (the pieces it does not flag and the
 * map piece are left as they were): a request's ops are made one after
 * another in the same struct, and one that goes out to a driver or a caller
 * is cleared first.
 */
static inline int gvm_sm_op_for(const struct gvm_va *v, const struct gvm_req *req,
				struct gvm_op *op)
{
	uint64_t ra = req->va, re = req->va + req->size, a = v->va, e = gvm_va_end(v);
	bool prev = a < ra;
	bool next = e > re;

	op->old = (struct gvm_va *)v;
	op->keep = gvm_sm_same_pages(v, req);
	op->has_prev = prev;
	op->has_next = next;
	op->type = prev || next ? GVM_OP_REMAP : GVM_OP_UNMAP;
	if (v->repeat && !gvm_sm_cuts_ok(v, req))
		return -EINVAL;
	if (op->has_prev)
		gvm_sm_piece(v, a, ra, &op->prev);
	if (op->has_next)
		gvm_sm_piece(v, re, e, &op->next);
	return 0;
}

/* The request's MAP op; as gvm_sm_op_for(), the REMAP pieces are left as they were. */
static inline void gvm_sm_map_op(const struct gvm_req *req, struct gvm_op *op)
{
	op->type = GVM_OP_MAP;
	op->old = NULL;
	op->keep = op->has_prev = op->has_next = false;
	op->map = (struct gvm_op_piece){
		.va = req->va,
		.size = req->size,
		.obj = req->obj,
		.offset = req->offset,
		.repeat = req->repeat,
		.prot = req->prot,
	};
}

#endif /* GPUVM_GVM_INTERNAL_H */
