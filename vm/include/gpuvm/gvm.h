/* SPDX-License-Identifier: MIT */
/*
 * gpuvm VA manager: which GPU VA ranges map which object pages, split and
 * merged as drm_gpuvm does, applied to page tables by all-or-nothing bind
 * transactions.
 *
 * DOC: concepts
 *
 * - A VM (struct gvm) manages VAs in [start, end) minus kernel-reserved
 *   ranges, over an address-space backend: paging (pgtable) or identity.
 * - An object (struct gvm_obj, embedded in the driver's BO) provides the
 *   physical pages behind its offsets.
 * - A VA (struct gvm_va) maps [va, va + size) to object offsets from @offset;
 *   a repeat VA maps the object range [offset, offset + repeat) again and
 *   again. A VM-object link (struct gvm_bo) lists the VAs of one object in one
 *   VM.
 * - A request (struct gvm_req) maps or unmaps a range. Against the VAs it
 *   overlaps it yields split/merge ops (struct gvm_op): UNMAPs, at most two
 *   REMAPs, and one MAP for a map request.
 *
 * DOC: transactions and locking
 *
 * gvm_bind_prepare() takes a whole array of requests: it validates each,
 * computes its ops against the state the earlier requests (and every earlier
 * prepared transaction) leave, allocates every object the commit needs and
 * reserves exactly the table pages (pt_reserve()). gvm_bind_commit() applies
 * the array to the VA tree and the tables without allocating and cannot fail;
 * gvm_bind_cleanup() releases what the commit removed, after the flush.
 *
 * One writer per VM: prepare, commit, cleanup and the lookups are serialized by
 * the caller. Transactions queue: one may be prepared while earlier ones wait
 * for their commit (async bind queues); commits run in prepare order, and only
 * the newest prepared transaction may be cleaned up without committing.
 * Page-table walkers (the MMU, pt_walk()) are lock-free against commits. Lookups
 * (gvm_va_find() ...) see committed VAs only.
 *
 * DOC: driver hooks
 *
 * A VM created with a struct gvm_driver_ops (gvm_cfg.driver) calls the driver
 * for each op of its transactions, as drm_gpuvm's sm_step_map/remap/unmap
 * callbacks do, so that the driver pins pages, tracks residency or updates its
 * own lists where gvm updates its own:
 *
 *   gvm_bind_prepare()   op_prepare(txn, op), each op in order, after gvm
 *                        prepared it (its new VAs exist, pending). An error
 *                        undoes the whole prepare: op_cleanup() runs for the
 *                        ops already prepared, newest first, and the VM, its
 *                        tables and its memory are as before.
 *   gvm_bind_commit()    op_commit(txn, op), each op in order, after the VA
 *                        tree and the tables were updated: inside the commit
 *                        (cannot fail, must not allocate or sleep).
 *   gvm_bind_cleanup()   op_cleanup(txn, op): committed, each op in order,
 *                        before the VAs the ops removed are freed; given up
 *                        (gvm_txn_committed() false), newest op first, before
 *                        the VAs the ops created are freed.
 *
 * So what a prepare callback takes for a VA it creates, the cleanup callback
 * gives back for the VA the op removed (committed) or created (given up).
 * gvm_destroy() cleans up every VA left as the committed UNMAP of a
 * transaction of its own (no other op, no prepare or commit callback), after
 * the tables were torn down; drop your link references before it.
 * The VAs an op creates are in @map_va, @prev_va, @next_va of its struct
 * gvm_txn_op; a later op of the same transaction may remove them again (its
 * @old), in which case the cleanup of a committed transaction sees them as
 * that op's @old. The ops of a transaction stay readable until its cleanup
 * (gvm_txn_op(), gvm_txn_for_each_op()), and only for a VM with driver ops:
 * without them gvm keeps one request's ops at a time. (So a VM with driver
 * ops collects every request's ops before applying them, also where a VM
 * without applies a lone request's ops as it finds them: DOC: lazy
 * transactions, gvm_internal.h. A VM without driver ops pays one test per
 * request, commit and cleanup for the hooks.)
 *
 * Private areas: the driver asks for @va_priv_size bytes after every VA and
 * @bo_priv_size bytes after every VM-object link (gvm_va_priv(),
 * gvm_bo_priv()). gvm allocates VAs from its own slabs (no allocation call
 * per VA, and a failed prepare gives back exactly what it took), so the
 * driver's data lives in the same allocation instead of an embedding struct
 * the driver would allocate through a callback on every op. A MAP's VA
 * starts with a zeroed area. A REMAP's pieces are new VAs: each starts with a
 * byte copy of @old's area, taken before op_prepare runs; @old keeps its own
 * area untouched until it is freed (after op_cleanup). A driver whose area
 * holds references takes one for each piece in op_prepare. A link's area is
 * zeroed when the link is made (bo_init runs then, bo_free before it is
 * freed, never inside a commit).
 *
 * DOC: external and evicted objects
 *
 * An object is private to a VM when its gvm_obj.resv_id is non-zero and equal
 * to the VM's gvm_cfg.resv_id (drm_gpuvm: it shares the VM's reservation
 * object); any other object mapped in the VM is external. In a VM with
 * driver ops (gvm_cfg.driver, even with no member set) every link of an
 * external object is on the VM's extobj list (gvm_extobj_first(),
 * gvm_extobj_next()) from the prepare that makes the link until its last
 * reference goes: a driver adds its job fences to the reservation of each.
 * The extobj list and the links' reference counts (gvm_bo_get(),
 * gvm_bo_put()) are protected by the VM's writer lock, the caller's lock that
 * serializes prepare, commit and cleanup.
 *
 * A link whose object was evicted (its pages moved out) is on the VM's
 * evicted list until the driver makes it valid again (VMs with driver ops;
 * in others marking a link is a misuse that does nothing). Both lists live
 * in memory gvm adds to each link of a VM with driver ops only, so that a VM
 * without pays nothing for them. gvm_bo_set_evicted()
 * and gvm_obj_set_evicted() (every link of the object) may be called from any
 * thread, holding the VM's writer lock or not: the evicted list has its own
 * lock inside the VM, a leaf lock taken after the object's link lock.
 * gvm_evicted_validate() walks the list under the VM's writer lock.
 */
#ifndef GPUVM_GVM_H
#define GPUVM_GVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/pt.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gvm;
struct gvm_obj;
struct gvm_txn;

/* A doubly linked list head or node (private to gvm). */
struct gvm_list {
	struct gvm_list *next, *prev;
};

/**
 * struct gvm_obj_ops - what gvm asks of an object.
 * @phys: mandatory. The physical address of byte @offset and how many bytes
 *	from there are physically contiguous (at least one page). Return 0 or a
 *	negative errno.
 * @get: optional. Take a reference: each VA of the object holds one.
 * @put: optional. Drop it; never called inside a commit.
 */
struct gvm_obj_ops {
	int (*phys)(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig);
	void (*get)(struct gvm_obj *obj);
	void (*put)(struct gvm_obj *obj);
};

/*
 * Room for the OS layer's lock of an object (a pthread mutex, a kernel struct
 * mutex): the public header names no OS type. Private.
 */
struct gvm_lock_room {
	uint64_t room[8];
};

/**
 * struct gvm_obj - an object VAs map (embed it in the driver's BO).
 * @ops: see struct gvm_obj_ops.
 * @size: bytes, a multiple of the page size.
 * @resv_id: 0 (gvm_obj_init()), or the identity of the reservation the
 *	object shares with one VM (DOC: external and evicted objects); set it
 *	before the object is first mapped and do not change it while mapped.
 * @lock: protects @links (VMs on different threads share objects).
 * @links: private: the struct gvm_bo of each VM mapping the object.
 */
struct gvm_obj {
	const struct gvm_obj_ops *ops;
	uint64_t size;
	uint64_t resv_id;
	struct gvm_lock_room lock;
	struct gvm_list links;
};

/**
 * gvm_obj_init() - initialize an embedded object.
 * @obj: the object.
 * @ops: its ops (@phys mandatory).
 * @size: its size.
 *
 * Context: any thread, before the object is shared; initializes its lock; no
 * allocation.
 * Return: 0, -EINVAL for missing ops or a size of 0 (@obj untouched); the OS
 * layer's lock initialization error.
 */
int gvm_obj_init(struct gvm_obj *obj, const struct gvm_obj_ops *ops, uint64_t size);

/**
 * gvm_obj_fini() - tear down an object no VA maps any more.
 * @obj: the object.
 *
 * Context: any thread; takes the object's lock; never allocates; outside
 * fence-signalling sections.
 * Return: 0; -EBUSY, with a one-time warning, when a VM still links the
 * object (a VA maps it, or a transaction not cleaned up does): the object is
 * left initialized and untouched.
 */
int gvm_obj_fini(struct gvm_obj *obj);

/**
 * struct gvm_bo - the VAs of one object in one VM, reference counted: every
 * VA (pending or committed) holds a reference, and the driver may hold more
 * (gvm_bo_get()). The driver's private area follows it (gvm_bo_priv()).
 * @vm: the VM.
 * @obj: the object.
 * @vas: its committed VAs (struct gvm_va.bo_link), in no particular order.
 * @obj_link/@users: private.
 */
struct gvm_bo {
	struct gvm *vm;
	struct gvm_obj *obj;
	struct gvm_list vas;
	struct gvm_list obj_link;
	unsigned int users;
};

/**
 * struct gvm_va - one mapping.
 * @va: first byte.
 * @size: bytes.
 * @bo: its object's link to the VM.
 * @offset: object offset mapped at @va.
 * @repeat: 0, or the length of the object range [offset, offset + repeat)
 *	that the VA maps again and again (@size is a multiple of it).
 * @prot: PT_PROT_* bits.
 * @bo_link/@state/@creator/@doomer: private.
 */
struct gvm_va {
	uint64_t va;
	uint64_t size;
	struct gvm_bo *bo;
	uint64_t offset;
	uint64_t repeat;
	uint32_t prot;
	uint32_t state;
	struct gvm_list bo_link;
	struct gvm_txn *creator, *doomer;
};

/**
 * struct gvm_range - a VA range [start, end).
 */
struct gvm_range {
	uint64_t start, end;
};

/**
 * struct gvm_backend_ops - an address-space backend: how requests reach the
 * hardware. Every member is mandatory but @prefetch, @unreserve_zeroes and,
 * together, the four that write: a backend whose commit writes nothing (the
 * identity backend) leaves @commit_begin, @commit, @commit_end and @unreserve
 * all NULL, holds nothing between @reserve and the commit (@resv_size 0), and
 * gvm calls none of them; gvm_create() refuses some of the four but not all.
 * @name: for messages.
 * @create: make the backend's state for a VM from @cfg (the backend's own
 *	configuration type); Return 0, -EINVAL, -ENOMEM.
 * @destroy: free it (no VA left, no transaction outstanding).
 * @attach: the device gives the VM an address-space slot; the backend may
 *	need to program it. Return 0 or a negative errno.
 * @detach: the slot is taken back.
 * @resv_size: bytes of per-transaction state the backend needs.
 * @reserve: check one table op of a transaction and reserve what its commit
 *	needs. Return 0, -EINVAL (the backend cannot map it), -EEXIST, -ENOMEM.
 * @commit_begin/@commit/@commit_end: apply the reserved ops in order; cannot
 *	fail, never allocate.
 * @unreserve: release the transaction's state (after commit_end, or to give
 *	up the newest transaction).
 * @prefetch: optional hint, called with each request's address before the VA
 *	manager looks it up: start loading what @reserve will read there, so
 *	that both sets of cache misses overlap. Must not change any state a
 *	caller can see (paging: pt_seek(), which remembers its descent).
 * @unreserve_zeroes: @unreserve leaves the @resv_size bytes all zero, as a
 *	new transaction's are: gvm does not clear them again (debug builds check).
 */
struct gvm_backend_ops {
	const char *name;
	int (*create)(const void *cfg, void **priv);
	void (*destroy)(void *priv);
	int (*attach)(void *priv, unsigned int slot);
	void (*detach)(void *priv);
	size_t resv_size;
	int (*reserve)(void *priv, void *resv, const struct pt_op *op);
	void (*commit_begin)(void *priv, void *resv);
	void (*commit)(void *priv, void *resv, const struct pt_op *op);
	void (*commit_end)(void *priv, void *resv);
	void (*unreserve)(void *priv, void *resv);
	void (*prefetch)(void *priv, uint64_t va);
	bool unreserve_zeroes;
};

/*
 * The paging backend: page tables built by pgtable. Its configuration is a
 * struct pt_cfg (the driver's allocator and flush ops).
 */
extern const struct gvm_backend_ops gvm_backend_paging;
/*
 * The identity backend, for devices without translation: VA == PA, no tables.
 * Its configuration is ignored (NULL). A map whose object pages are not at
 * PA == VA is -EINVAL; repeat VAs cannot be expressed and are -EINVAL.
 */
extern const struct gvm_backend_ops gvm_backend_identity;

struct gvm_txn_op;

/**
 * struct gvm_driver_ops - a driver's hooks in a VM's binds (DOC: driver
 * hooks). Every member is optional; gvm_create() refuses members that must go
 * together when one is missing.
 * @va_priv_size: bytes of driver data after each VA (gvm_va_priv()), at most
 *	GVM_PRIV_MAX.
 * @bo_priv_size: bytes of driver data after each link (gvm_bo_priv()), at
 *	most GVM_PRIV_MAX.
 * @op_prepare: an op of a transaction being prepared, after gvm prepared it.
 *	Return 0, or a negative errno that fails gvm_bind_prepare() with it.
 *	Needs @op_cleanup (which undoes it).
 * @op_commit: an op of a transaction being committed, after the VA tree and
 *	the tables were updated. Runs inside the commit: must not fail, allocate
 *	or sleep (a fence-signalling section).
 * @op_cleanup: an op of a transaction being cleaned up or given up (see
 *	gvm_txn_committed()). Never inside a commit.
 * @bo_init: a link was made (at prepare; its private area zeroed). Needs
 *	@bo_free.
 * @bo_free: a link's last reference went; it is off its object and the
 *	VM's lists and freed on return (the driver may drop a reference it took
 *	on the object in @bo_init). Never inside a commit.
 */
struct gvm_driver_ops {
	size_t va_priv_size;
	size_t bo_priv_size;
	int (*op_prepare)(struct gvm_txn *txn, const struct gvm_txn_op *op);
	void (*op_commit)(struct gvm_txn *txn, const struct gvm_txn_op *op);
	void (*op_cleanup)(struct gvm_txn *txn, const struct gvm_txn_op *op);
	void (*bo_init)(struct gvm_bo *bo);
	void (*bo_free)(struct gvm_bo *bo);
};

/* The largest private area per VA or per link. */
#define GVM_PRIV_MAX 4096u

/**
 * struct gvm_cfg - a VM.
 * @start/@end: VA range managed, page aligned.
 * @page_lg2: page size of requests (12 for 4K).
 * @reserved/@nr_reserved: kernel-reserved ranges inside [start, end): requests
 *	touching them are -EINVAL (gvm_kva allocates there).
 * @backend/@backend_cfg: mandatory backend and its configuration.
 * @host/@host_ctx: optional memory for VAs and bookkeeping (default
 *	pt_host_malloc_ops; VA slabs come from its @alloc where it has one);
 *	tests inject failures through it.
 * @driver/@driver_ctx: optional driver hooks (DOC: driver hooks) and what
 *	gvm_driver_ctx() returns to them.
 * @resv_id: 0, or the identity of the reservation the VM's private objects
 *	share (DOC: external and evicted objects).
 */
struct gvm_cfg {
	uint64_t start, end;
	unsigned int page_lg2;
	const struct gvm_range *reserved;
	unsigned int nr_reserved;
	const struct gvm_backend_ops *backend;
	const void *backend_cfg;
	const struct pt_host_ops *host;
	void *host_ctx;
	const struct gvm_driver_ops *driver;
	void *driver_ctx;
	uint64_t resv_id;
};

/**
 * gvm_create() - create a VM.
 * @cfg: configuration (copied, with the reserved ranges).
 * @out: the VM.
 *
 * Checks everything a bind would find wrong later: with the paging backend,
 * the range must lie inside the tables' input address space and the page
 * size must be at least their granule.
 *
 * Context: outside fence-signalling sections; allocates (the VM, the
 * backend's state: for paging the top table through the alloc ops).
 * Return: 0; -EINVAL for a NULL argument, an empty, reversed or misaligned
 * range, a page size outside 4K..64K, reserved ranges that overlap, are empty
 * or misaligned or leave the range, host ops without zalloc or free, a missing
 * backend op, driver ops without a member another needs or with a private
 * area larger than GVM_PRIV_MAX, and for the paging backend: no
 * configuration, one pt_geometry() refuses, @end past 2^ias, a page smaller
 * than the granule; the backend's create errors (paging: pt_create()'s, an
 * allocator's errno as it returned it); -ENOMEM. Nothing is allocated when it
 * fails.
 */
int gvm_create(const struct gvm_cfg *cfg, struct gvm **out);

/**
 * gvm_destroy() - destroy a VM: the backend unmaps every table and flushes
 * (pt_destroy()), then every VA drops its object reference, and all the VM's
 * memory is freed.
 * @vm: the VM, or NULL.
 *
 * Every transaction should be cleaned up first. With some outstanding (a
 * contract broken: a one-time warning), the prepared ones are given up newest
 * first and the committed ones cleaned up, as gvm_bind_cleanup() would; their
 * handles must not be used afterwards.
 *
 * Context: one writer per VM, outside fence-signalling sections; never
 * allocates, cannot fail; calls the backend's destroy (for paging: the flush
 * ops, then the alloc and host ops' frees) before the objects' put ops.
 * Return: nothing.
 */
void gvm_destroy(struct gvm *vm);

/**
 * gvm_attach() / gvm_detach() - the device gives or takes back an address
 * space slot; forwarded to the backend.
 * @vm: the VM.
 * @slot: the slot (gvm_attach()).
 *
 * Context: one writer per VM; the backend's attach/detach ops run (paging:
 * no allocation, no flush: the device programs the slot from pt_get_regs()).
 * Return: gvm_attach(): 0 or the backend's error (paging: -EBUSY when
 * attached already); gvm_detach(): nothing.
 */
int gvm_attach(struct gvm *vm, unsigned int slot);
void gvm_detach(struct gvm *vm);

/**
 * gvm_get_pt() - the page table of a paging-backend VM, NULL otherwise.
 * @vm: the VM.
 *
 * Context: any thread; fixed for the VM's life; no allocation.
 * Return: the table, or NULL for another backend.
 */
struct pt *gvm_get_pt(struct gvm *vm);

/**
 * gvm_va_find() / gvm_va_first() / gvm_va_next() - lookups of committed VAs
 * (prepared transactions are not seen).
 * @vm: the VM.
 * @addr: gvm_va_find(): an address inside the VA.
 * @start/@end: the range [@start, @end) a VA must overlap (gvm_va_next():
 *	after @va, up to @end).
 * @va: gvm_va_next(): a committed VA of @vm.
 *
 * Context: serialized with the VM's writer (prepare, commit, cleanup), never
 * inside its commit; no allocation, no op called; O(log n).
 * Return: the VA containing @addr, the first VA overlapping the range, or the
 * one after @va; NULL when there is none.
 */
struct gvm_va *gvm_va_find(struct gvm *vm, uint64_t addr);
struct gvm_va *gvm_va_first(struct gvm *vm, uint64_t start, uint64_t end);
struct gvm_va *gvm_va_next(struct gvm *vm, struct gvm_va *va, uint64_t end);

/**
 * gvm_bo_find() - the link of @obj to @vm.
 * @vm: the VM.
 * @obj: the object.
 *
 * Context: serialized with the VM's writer; takes the object's lock (other
 * VMs may link it meanwhile); no allocation.
 * Return: the link, or NULL (then no VA of @vm, committed or prepared, maps
 * @obj).
 */
struct gvm_bo *gvm_bo_find(struct gvm *vm, struct gvm_obj *obj);

/**
 * enum gvm_req_type - what a request does.
 * @GVM_REQ_MAP: map [va, va + size) to @obj from @offset.
 * @GVM_REQ_UNMAP: unmap whatever is in [va, va + size).
 */
enum gvm_req_type {
	GVM_REQ_MAP = 1,
	GVM_REQ_UNMAP,
};

/**
 * struct gvm_req - a bind request.
 * @type: see enum gvm_req_type.
 * @va/@size: the range, page aligned, non-empty.
 * @obj: MAP: the object.
 * @offset: MAP: object offset mapped at @va, page aligned.
 * @repeat: MAP: 0, or the object range length repeated (page aligned,
 *	divides @size; the range must be physically contiguous).
 * @prot: MAP: PT_PROT_* bits.
 */
struct gvm_req {
	enum gvm_req_type type;
	uint64_t va, size;
	struct gvm_obj *obj;
	uint64_t offset;
	uint64_t repeat;
	uint32_t prot;
};

/**
 * enum gvm_op_type - a split/merge step (drm_gpuvm's vocabulary).
 * @GVM_OP_MAP: map a new VA.
 * @GVM_OP_REMAP: an existing VA is cut: it goes, and the pieces @prev/@next
 *	that lie outside the request stay (with their pages).
 * @GVM_OP_UNMAP: an existing VA goes.
 */
enum gvm_op_type {
	GVM_OP_MAP = 1,
	GVM_OP_REMAP,
	GVM_OP_UNMAP,
};

/**
 * struct gvm_op_piece - a VA an op creates: a MAP's new VA, a REMAP's piece.
 */
struct gvm_op_piece {
	uint64_t va, size;
	struct gvm_obj *obj;
	uint64_t offset, repeat;
	uint32_t prot;
};

/**
 * struct gvm_op - one step.
 * @type: see enum gvm_op_type.
 * @old: UNMAP/REMAP: the VA that goes.
 * @keep: UNMAP/REMAP: the part of @old inside the request stays mapped to the
 *	same pages (same object, same offset for the same address); the pages
 *	need not be torn down (drm_gpuvm's keep).
 * @has_prev/@prev, @has_next/@next: REMAP: the pieces that stay.
 * @map: MAP: the new VA.
 * @next_op: next op in a list.
 */
struct gvm_op {
	enum gvm_op_type type;
	struct gvm_va *old;
	bool keep;
	bool has_prev, has_next;
	struct gvm_op_piece prev, next;
	struct gvm_op_piece map;
	struct gvm_op *next_op;
};

/**
 * struct gvm_txn_op - an op of a transaction, as the driver's callbacks and
 * gvm_txn_op() see it (DOC: driver hooks).
 * @op: the op.
 * @map_va: MAP: the VA it created for @op.map.
 * @prev_va/@next_va: REMAP: the VAs it created for @op.prev and @op.next
 *	(NULL without the piece).
 */
struct gvm_txn_op {
	struct gvm_op op;
	struct gvm_va *map_va, *prev_va, *next_va;
};

/**
 * struct gvm_op_cb - callbacks receiving the ops of a request, in order.
 * Each returns 0 to go on or a negative errno to stop.
 */
struct gvm_op_cb {
	int (*op)(void *priv, const struct gvm_op *op);
};

/**
 * gvm_sm_ops() - split/merge a request against the VM's projected state
 * (committed VAs, with every prepared transaction applied).
 * @vm: the VM.
 * @req: the request.
 * @cb: receives each op.
 * @priv: for @cb.
 *
 * Context: one writer per VM (it reads the projection), outside
 * fence-signalling sections; may allocate (indexing a one-request
 * transaction's VAs); calls @cb in order, nothing else.
 * Return: 0; -EINVAL for a bad request (range outside the VM, touching a
 * reserved range, bad object range, a repeat VA cut off its period); -ENOMEM
 * when the VAs of the one prepared transaction could not be indexed for the
 * projection (a transaction of one request prepared with nothing queued
 * indexes them only when something reads the projection); a callback's error.
 */
int gvm_sm_ops(struct gvm *vm, const struct gvm_req *req, const struct gvm_op_cb *cb, void *priv);

/**
 * gvm_sm_ops_list() - the same ops as a list (free with gvm_ops_free()).
 * @vm: the VM.
 * @req: the request.
 * @out: first op, NULL when there is none.
 *
 * Context: as gvm_sm_ops(); allocates the list (host ops).
 * Return: as gvm_sm_ops(); -ENOMEM.
 */
int gvm_sm_ops_list(struct gvm *vm, const struct gvm_req *req, struct gvm_op **out);

/**
 * gvm_ops_free() - free a list from gvm_sm_ops_list().
 * @vm: the VM it came from.
 * @ops: the first op, or NULL.
 *
 * Context: any thread that may use the VM's host ops; frees only.
 * Return: nothing.
 */
void gvm_ops_free(struct gvm *vm, struct gvm_op *ops);

/**
 * gvm_bind_prepare() - prepare an array of requests as one transaction.
 * @vm: the VM.
 * @reqs: the requests, applied in order.
 * @n: how many (at least one).
 * @out: the transaction.
 * @failed: index of the request that failed, when the call fails.
 *
 * Context: one writer per VM, outside fence-signalling sections; may
 * allocate (VAs and bookkeeping through the host ops, tables through the
 * backend's reserve: pt_reserve()); calls the objects' phys and get ops;
 * changes no descriptor, calls no sync or flush op.
 * Return: 0; -EINVAL (bad request), -EEXIST (the backend found a live
 * mapping: a VM state inconsistent with its tables), -ENOMEM, -EBUSY (a
 * transaction is being committed). On failure the VM, its tables and the
 * allocator are exactly as before.
 */
int gvm_bind_prepare(struct gvm *vm, const struct gvm_req *reqs, unsigned int n,
		     struct gvm_txn **out, unsigned int *failed);

/**
 * gvm_bind_commit() - apply a prepared transaction (the oldest outstanding).
 * @txn: the transaction.
 *
 * Applies every request to the VA tree and the tables, gathers the flushes of
 * the whole array and issues one per coalesced range.
 * Context: one writer per VM; a fence-signalling section: never allocates,
 * never sleeps unless the backend's ops do, cannot fail once the order is
 * right. The paging backend's sync ops run inside it for each descriptor
 * written, its flush ops once per coalesced range at its end (pt_commit(),
 * pt_commit_end()). No object op is called.
 * Return: 0; -EINVAL, with a one-time warning, when @txn is not the oldest
 * prepared transaction (an earlier one is still queued, or @txn was committed
 * already): nothing changed.
 */
int gvm_bind_commit(struct gvm_txn *txn);

/**
 * gvm_bind_cleanup() - release a transaction.
 * @txn: a committed transaction, or the newest prepared one (given up: its
 *	prepare is undone).
 *
 * Frees the VAs the commit removed, drops their object references, returns
 * unused table pages and frees unlinked tables (after their flush).
 * Context: one writer per VM, outside fence-signalling sections; never
 * allocates; calls the objects' put ops and frees through the host and
 * alloc ops; giving up a prepared transaction may call the paging backend's
 * sync and flush ops (pt_unreserve()).
 * Return: 0; -EINVAL, with a one-time warning, when @txn is prepared but not
 * the newest, or was cleaned up already (and is the VM's spare): nothing
 * changed.
 */
int gvm_bind_cleanup(struct gvm_txn *txn);

/**
 * gvm_bind() - prepare, commit and clean up an array at once.
 * @vm: the VM.
 * @reqs: the requests, applied in order.
 * @n: how many (at least one).
 * @failed: index of the request that failed, when the call fails.
 *
 * The same effects as the three steps. One request in a VM without driver
 * ops (a synchronous VM_BIND of one op) takes a shorter way, with no
 * transaction to queue (DOC: the lone request, vm/gvm_txn.c).
 * Context: one writer per VM, outside fence-signalling sections (it enters
 * one for the commit); as gvm_bind_prepare(), gvm_bind_commit() (sync and
 * flush ops inside the commit) and gvm_bind_cleanup() (put ops, frees) in
 * turn. With transactions queued its commit could not be the oldest: use the
 * three steps.
 * Return: as gvm_bind_prepare(); -EINVAL, with a one-time warning, when
 * transactions are queued (nothing changed, @failed not set).
 */
int gvm_bind(struct gvm *vm, const struct gvm_req *reqs, unsigned int n, unsigned int *failed);

/**
 * gvm_driver_ctx() - the driver context the VM was created with.
 * @vm: the VM.
 *
 * Context: any.
 * Return: gvm_cfg.driver_ctx.
 */
void *gvm_driver_ctx(const struct gvm *vm);

/**
 * gvm_txn_vm() - the VM of a transaction.
 * @txn: the transaction.
 *
 * Context: any, while @txn is outstanding.
 * Return: its VM.
 */
struct gvm *gvm_txn_vm(const struct gvm_txn *txn);

/**
 * gvm_txn_committed() - has the transaction been committed?
 * @txn: the transaction.
 *
 * What an op_cleanup callback asks: a committed transaction's cleanup frees
 * the VAs its ops removed, a given-up one the VAs its ops created.
 * Context: the VM's writer lock, or inside a driver callback.
 * Return: true after gvm_bind_commit(), false before.
 */
bool gvm_txn_committed(const struct gvm_txn *txn);

/**
 * gvm_txn_nr_ops() - how many ops a transaction kept.
 * @txn: a prepared or committed transaction.
 *
 * Context: the VM's writer lock, or inside a driver callback.
 * Return: the ops of every request of @txn, in order, for a VM with driver
 * ops (gvm_cfg.driver); 0 without (DOC: driver hooks). During prepare, the
 * ops prepared so far.
 */
unsigned int gvm_txn_nr_ops(const struct gvm_txn *txn);

/**
 * gvm_txn_op() - op @i of a transaction.
 * @txn: a prepared or committed transaction (until its cleanup returns).
 * @i: its index.
 *
 * Context: the VM's writer lock, or inside a driver callback.
 * Return: the op, NULL when @i >= gvm_txn_nr_ops().
 */
const struct gvm_txn_op *gvm_txn_op(const struct gvm_txn *txn, unsigned int i);

/**
 * gvm_txn_for_each_op() - every op of a transaction, in order.
 * @op: a const struct gvm_txn_op * cursor.
 * @txn: the transaction.
 * @i: an unsigned int index.
 */
#define gvm_txn_for_each_op(op, txn, i) \
	for ((i) = 0; ((op) = gvm_txn_op((txn), (i))) != NULL; (i)++)

/**
 * gvm_va_priv() - the driver's private area of a VA.
 * @va: a VA of a VM with gvm_driver_ops.va_priv_size bytes per VA.
 *
 * Context: any; the area is the driver's to synchronize.
 * Return: its first byte (8-byte aligned).
 */
void *gvm_va_priv(struct gvm_va *va);

/**
 * gvm_bo_priv() - the driver's private area of a VM-object link.
 * @bo: a link of a VM with gvm_driver_ops.bo_priv_size bytes per link.
 *
 * Context: any; the area is the driver's to synchronize.
 * Return: its first byte (8-byte aligned).
 */
void *gvm_bo_priv(struct gvm_bo *bo);

/**
 * gvm_bo_get() - take a reference on a VM-object link.
 * @bo: the link (found with gvm_bo_find(), from a VA, a list or a callback).
 *
 * Context: the VM's writer lock.
 * Return: @bo.
 */
struct gvm_bo *gvm_bo_get(struct gvm_bo *bo);

/**
 * gvm_bo_put() - drop a reference on a VM-object link; the last frees it
 * (after the driver's bo_free), which may leave the VM's object lists.
 * @bo: the link.
 *
 * A put that would free the link while committed VAs still use it (more puts
 * than gets) is refused with a one-time warning, and changes nothing.
 *
 * Context: the VM's writer lock; never inside a commit; takes the object's
 * link lock and the VM's evicted-list lock.
 * Return: nothing.
 */
void gvm_bo_put(struct gvm_bo *bo);

/**
 * gvm_bo_is_extobj() - is the link's object external to its VM?
 * @bo: the link.
 *
 * Context: any.
 * Return: true for an external object (DOC: external and evicted objects).
 */
bool gvm_bo_is_extobj(const struct gvm_bo *bo);

/**
 * gvm_extobj_first() - the first link of the VM's extobj list.
 * @vm: the VM.
 *
 * Context: the VM's writer lock, for the whole walk.
 * Return: a link of an external object, NULL when there is none (always
 * for a VM without driver ops).
 */
struct gvm_bo *gvm_extobj_first(struct gvm *vm);

/**
 * gvm_extobj_next() - the link after @bo on the VM's extobj list.
 * @bo: a link on the list.
 *
 * Context: the VM's writer lock, for the whole walk.
 * Return: the next link, NULL after the last.
 */
struct gvm_bo *gvm_extobj_next(struct gvm_bo *bo);

/**
 * gvm_bo_set_evicted() - mark a link evicted (onto its VM's evicted list) or
 * valid again (off it).
 * @bo: the link; the caller keeps it alive (a reference, the VM's writer
 *	lock, or the object's link lock through gvm_obj_set_evicted()).
 * @evicted: the new state; setting the state it has does nothing.
 *
 * Context: any thread; takes the VM's evicted-list lock; may sleep. A VM
 * without driver ops: a misuse, warned once, nothing done.
 * Return: nothing.
 */
void gvm_bo_set_evicted(struct gvm_bo *bo, bool evicted);

/**
 * gvm_obj_set_evicted() - gvm_bo_set_evicted() on every link of an object
 * in a VM with driver ops.
 * @obj: the object.
 * @evicted: the new state.
 *
 * Context: any thread; takes the object's link lock, then each VM's
 * evicted-list lock; may sleep.
 * Return: nothing.
 */
void gvm_obj_set_evicted(struct gvm_obj *obj, bool evicted);

/**
 * gvm_bo_is_evicted() - is the link on its VM's evicted list?
 * @bo: the link.
 *
 * Context: any; takes the VM's evicted-list lock.
 * Return: its state when the lock was held.
 */
bool gvm_bo_is_evicted(struct gvm_bo *bo);

/**
 * gvm_evicted_validate() - make the VM's evicted links valid again.
 * @vm: the VM.
 * @validate: called for each evicted link, off the list (the call holds a
 *	reference and no gvm lock); return 0 when the link is valid again, or
 *	a negative errno to stop: the link goes back on the list.
 * @ctx: for @validate.
 *
 * Links evicted again while @validate runs are on the list when this returns.
 * Context: the VM's writer lock; not inside a commit; may sleep.
 * Return: 0 when every link was validated, else @validate's error (the links
 * not yet validated stay on the list).
 */
int gvm_evicted_validate(struct gvm *vm, int (*validate)(struct gvm_bo *bo, void *ctx), void *ctx);

/**
 * struct gvm_stats - what a VM holds.
 * @vas: committed VAs.
 * @bos: object links.
 * @va_bytes: bytes of memory holding VA objects (slabs included).
 * @index_bytes: bytes of the trees that find them (spare nodes included).
 * @bytes_per_va: struct gvm_va's size.
 * @replacements: committed VAs that started where a VA they replaced did
 *	(a map over a VA, the piece before a cut), since the VM was made.
 * @replaced_in_place: of those, how many took the old VA's slot in the tree
 *	instead of an erase and an insert (all but those at a leaf's edge).
 */
struct gvm_stats {
	uint64_t vas;
	uint64_t bos;
	uint64_t va_bytes;
	uint64_t index_bytes;
	size_t bytes_per_va;
	uint64_t replacements;
	uint64_t replaced_in_place;
};

/**
 * gvm_get_stats() - what a VM holds.
 * @vm: the VM.
 * @st: filled.
 *
 * Context: serialized with the VM's writer; no allocation.
 * Return: nothing.
 */
void gvm_get_stats(struct gvm *vm, struct gvm_stats *st);

/**
 * gvm_validate() - check every invariant: tree order and balance, VAs
 * disjoint and inside the VM, object links consistent, counters.
 * @vm: the VM.
 * @print: where to describe the first problem, or NULL for silence.
 * @ctx: passed to @print.
 *
 * Context: may allocate; not concurrently with a writer.
 * Return: 0, -EUCLEAN, -ENOMEM.
 */
int gvm_validate(struct gvm *vm, pt_print_fn *print, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_GVM_H */
