// SPDX-License-Identifier: MIT
/*
 * Driver hooks (gvm.h, DOC: driver hooks, DOC: external and evicted objects).
 *
 * A recording driver pins every VA it is told about: op_prepare pins the VAs
 * an op creates, op_cleanup unpins the VAs the op removed (committed) or
 * created (given up). Its pin count equals the committed VAs whenever no
 * transaction is outstanding: the callbacks' order and pairing are right.
 *
 * - order: prepare, commit and cleanup callbacks see the ops in order (a given
 *   up transaction's cleanup newest first); commit callbacks run inside the
 *   commit, after the VA tree changed; gvm_txn_op() iterates the same ops.
 * - fail-at-k: op_prepare failing at the k-th op (every k) fails the prepare
 *   with its errno, leaves VAs, tables, pool pages, the VM's memory, object
 *   references and pins as before, and cleanup ran for ops k-1..0 only; the
 *   VM's own allocations failing (every one) also leave the pins balanced.
 * - priv: VA areas (20 bytes, not a multiple of 8) start zeroed for a MAP even
 *   in a reused slot, REMAP pieces start as a copy of the cut VA, the cut VA
 *   keeps its area until its cleanup; over random binds every VA's area names
 *   the map request it came from (a page model); link areas stay intact.
 * - bo-ref: gvm_bo_get() keeps a link (and its area) past its last VA;
 *   gvm_bo_put() frees it, bo_free first.
 * - extobj: the list holds the links of external objects only, as resv_id
 *   says, from the prepare that makes them to their last put.
 * - evicted: marking per link and per object (two VMs), validation that fails
 *   part way, re-eviction during validation, a freed link leaves the list.
 * - create: members that go together, the private area limit.
 * - bo-free-ends-object: a link's bo_free may end its object (the driver's
 *   only reference): gvm reads nothing of it after.
 *
 * Usage: test-hooks [--seed N] [--count N] (priv: N random binds).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"
#include "vm-test.h"

#define DEFAULT_SEED 0x686f6f6bull
#define DEFAULT_COUNT 400u

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define PAGE (4 * KiB)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define A (1 * GiB)

#define MAX_EVENTS 512u
#define VA_PRIV 20u /* not a multiple of 8: the next VA starts after padding */
#define VA_MAGIC 0x76617072u
#define BO_MAGIC 0x626f707276ull

static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;

/* What a callback saw. */
struct event {
	char phase; /* 'p'repare, 'c'ommit, 'x' cleanup */
	enum gvm_op_type type;
	uint64_t va, size; /* MAP: the new VA; else the old */
	bool signalling, committed;
	bool new_vas_right; /* commit: the op's new VAs are committed, its old VA gone */
};

/* The driver's area of a VA: 20 bytes. */
struct va_priv {
	uint32_t magic;
	uint32_t id; /* the map request that made it (pieces keep their VA's) */
	uint32_t pins;
	uint32_t spare[2];
};

_Static_assert(sizeof(struct va_priv) == VA_PRIV, "the area is all the driver's struct");

struct bo_priv {
	uint64_t magic;
	struct gvm_obj *obj;
};

struct drv {
	struct event ev[MAX_EVENTS];
	unsigned int n;
	unsigned int prepares, fail_at; /* fail the fail_at-th op_prepare (from 1), 0 never */
	uint64_t next_id;               /* id a MAP's VA gets */
	long pins;                      /* VAs pinned */
	unsigned int bo_inits, bo_frees;
	unsigned int bad; /* areas that were not as documented */
	const char *why;  /* the first of them */
};

static struct drv *drv_of(struct gvm_txn *txn)
{
	return gvm_driver_ctx(gvm_txn_vm(txn));
}

static void bad(struct drv *d, const char *why)
{
	if (!d->bad++)
		d->why = why;
}

static void record(struct drv *d, char phase, struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	const struct gvm_op *op = &top->op;

	struct event *e = &d->ev[d->n < MAX_EVENTS ? d->n++ : MAX_EVENTS - 1];

	*e = (struct event){ .phase = phase,
			     .type = op->type,
			     .va = op->type == GVM_OP_MAP ? op->map.va : op->old->va,
			     .size = op->type == GVM_OP_MAP ? op->map.size : op->old->size,
			     .signalling = pt_in_signalling(),
			     .committed = gvm_txn_committed(txn) };
}

static void pin(struct drv *d, struct gvm_va *va, int by)
{
	struct va_priv *p = gvm_va_priv(va);

	if (p->magic != VA_MAGIC)
		bad(d, "pinning a VA whose area has no magic");
	p->pins += (uint32_t)by;
	d->pins += by;
}

/* A REMAP's pieces start as a byte copy of the cut VA's area. */
static void check_pieces(struct drv *d, const struct gvm_txn_op *top)
{
	const struct gvm_op *op = &top->op;
	const struct gvm_va *pieces[] = { top->prev_va, top->next_va };
	const bool has[] = { op->has_prev, op->has_next };

	for (unsigned int i = 0; i < 2; i++) {
		if (has[i] != (pieces[i] != NULL))
			bad(d, "a REMAP piece without its VA, or a VA without a piece");
		if (pieces[i] &&
		    memcmp(gvm_va_priv((struct gvm_va *)pieces[i]), gvm_va_priv(op->old), VA_PRIV))
			bad(d, "a REMAP piece's area is not a copy of the cut VA's");
	}
}

/* The VAs an op created: 0 the MAP's, 1 and 2 a REMAP's pieces. */
static struct gvm_va *new_va(const struct gvm_txn_op *top, unsigned int i)
{
	return i == 0 ? top->map_va : i == 1 ? top->prev_va : top->next_va;
}

static int drv_prepare(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	const struct gvm_op *op = &top->op;
	struct drv *d = drv_of(txn);
	static const char zero[VA_PRIV];

	if (++d->prepares == d->fail_at)
		return -EIO;
	record(d, 'p', txn, top);
	if (op->type == GVM_OP_MAP) {
		if (memcmp(gvm_va_priv(top->map_va), zero, VA_PRIV))
			bad(d, "a MAP's VA area is not zeroed");
		*(struct va_priv *)gvm_va_priv(top->map_va) =
			(struct va_priv){ .magic = VA_MAGIC, .id = (uint32_t)d->next_id };
		pin(d, top->map_va, 1);
	} else if (op->type == GVM_OP_REMAP) {
		check_pieces(d, top);
		for (unsigned int i = 1; i < 3; i++) {
			struct gvm_va *v = new_va(top, i);

			if (!v)
				continue;
			((struct va_priv *)gvm_va_priv(v))->pins = 0; /* the copy is not a pin */
			pin(d, v, 1);
		}
	}
	return 0;
}

/* Inside the commit, after the tree changed: new VAs are committed, the old one is not. */
static bool commit_state_right(struct gvm *vm, const struct gvm_txn_op *top)
{
	const struct gvm_op *op = &top->op;
	bool right = true;

	for (unsigned int i = 0; i < 3; i++) {
		struct gvm_va *v = new_va(top, i);

		/* Unless a later op of the transaction removed it again. */
		if (v && !v->doomer)
			right = right && gvm_va_find(vm, v->va) == v;
	}
	if (op->old)
		right = right && gvm_va_find(vm, op->old->va) != op->old;
	return right;
}

static void drv_commit(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	struct drv *d = drv_of(txn);

	record(d, 'c', txn, top);
	d->ev[d->n - 1].new_vas_right = commit_state_right(gvm_txn_vm(txn), top);
}

static void drv_cleanup(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	struct drv *d = drv_of(txn);

	record(d, 'x', txn, top);
	if (gvm_txn_committed(txn)) {
		if (top->op.old)
			pin(d, top->op.old, -1);
		return;
	}
	for (unsigned int i = 0; i < 3; i++)
		if (new_va(top, i))
			pin(d, new_va(top, i), -1);
}

static void drv_bo_init(struct gvm_bo *bo)
{
	struct drv *d = gvm_driver_ctx(bo->vm);
	struct bo_priv *p = gvm_bo_priv(bo);

	if (p->magic || p->obj)
		bad(d, "a new link's area is not zeroed");
	*p = (struct bo_priv){ .magic = BO_MAGIC, .obj = bo->obj };
	d->bo_inits++;
}

static void drv_bo_free(struct gvm_bo *bo)
{
	struct drv *d = gvm_driver_ctx(bo->vm);
	struct bo_priv *p = gvm_bo_priv(bo);

	if (p->magic != BO_MAGIC || p->obj != bo->obj)
		bad(d, "a link's area changed");
	if (pt_in_signalling())
		bad(d, "bo_free inside a commit");
	d->bo_frees++;
}

static const struct gvm_driver_ops drv_ops = {
	.va_priv_size = VA_PRIV,
	.bo_priv_size = sizeof(struct bo_priv),
	.op_prepare = drv_prepare,
	.op_commit = drv_commit,
	.op_cleanup = drv_cleanup,
	.bo_init = drv_bo_init,
	.bo_free = drv_bo_free,
};

/* A VM with the recording driver, and objects. */
struct fx {
	struct vm_test_env e;
	struct drv d;
	struct vm_test_obj o[3];
	const char *ctx;
};

static void fx_init(struct fx *f, const char *ctx, uint64_t vm_resv)
{
	memset(f, 0, sizeof(*f));
	f->ctx = ctx;
	vm_test_init_driver(&f->e, NULL, 0, &drv_ops, &f->d, vm_resv);
	for (unsigned int i = 0; i < ARRAY_SIZE(f->o); i++)
		vm_test_obj_init(&f->o[i], 64 * MiB, (uint64_t)(i + 1) * GiB, 0);
}

static void check_driver(struct fx *f)
{
	struct gvm_stats st;

	if (f->d.bad)
		fail_msg("%s: %u driver areas wrong, first: %s", f->ctx, f->d.bad, f->d.why);
	gvm_get_stats(f->e.vm, &st);
	CHECK_EQ(f->ctx, f->d.pins, st.vas);
	CHECK_EQ(f->ctx, f->d.bo_inits - f->d.bo_frees, st.bos);
}

static void fx_fini(struct fx *f)
{
	check_driver(f);
	vm_test_fini(&f->e);
	CHECK_EQ(f->ctx, f->d.pins, 0);
	CHECK_EQ(f->ctx, f->d.bo_inits, f->d.bo_frees);
	CHECK_EQ(f->ctx, f->e.host_live, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(f->o); i++) {
		CHECK_EQ(f->ctx, f->o[i].refs, 0);
		vm_test_obj_fini(&f->o[i]);
	}
}

static struct gvm_req map_req(struct fx *f, unsigned int obj, uint64_t va, uint64_t size,
			      uint64_t offset)
{
	return (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = va,
				 .size = size,
				 .obj = &f->o[obj].obj,
				 .offset = offset,
				 .prot = RW };
}

static struct gvm_req unmap_req(uint64_t va, uint64_t size)
{
	return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = va, .size = size };
}

static void bind(struct fx *f, const struct gvm_req *reqs, unsigned int n)
{
	f->d.next_id++;
	CHECK_ERR(f->ctx, gvm_bind(f->e.vm, reqs, n, NULL), 0);
}

struct want {
	char phase;
	enum gvm_op_type type;
	uint64_t va, size;
};

static void check_events(struct fx *f, unsigned int from, const struct want *w, unsigned int n)
{
	CHECK_EQ(f->ctx, f->d.n - from, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct event *e = &f->d.ev[from + i];

		if (e->phase != w[i].phase || e->type != w[i].type || e->va != w[i].va ||
		    e->size != w[i].size)
			fail_msg("%s: event %u is %c %d [0x%" PRIx64 " +0x%" PRIx64
				 "), want %c %d [0x%" PRIx64 " +0x%" PRIx64 ")",
				 f->ctx, i, e->phase, e->type, e->va, e->size, w[i].phase,
				 w[i].type, w[i].va, w[i].size);
		if (e->signalling != (e->phase == 'c'))
			fail_msg("%s: event %u (%c) %s the commit", f->ctx, i, e->phase,
				 e->signalling ? "inside" : "outside");
		if (e->phase == 'c' && !e->new_vas_right)
			fail_msg("%s: commit event %u before the VA tree changed", f->ctx, i);
	}
}

/* The four ops of the order test's array, as its callbacks must see them. */
#define ORDER_OPS(ph)                                                       \
	{ ph, GVM_OP_MAP, A, 64 * KiB }, { ph, GVM_OP_REMAP, A, 64 * KiB }, \
		{ ph, GVM_OP_MAP, A + 16 * KiB, 16 * KiB },                 \
	{                                                                   \
		ph, GVM_OP_UNMAP, A + 32 * KiB, 32 * KiB                    \
	}

static void test_order(void **state)
{
	static const struct want prepare[] = { ORDER_OPS('p') }, commit[] = { ORDER_OPS('c') },
				 cleanup[] = { ORDER_OPS('x') };
	struct want given_up[8] = { 0 };
	unsigned int nops;
	struct fx f;
	struct gvm_req reqs[3];
	struct gvm_txn *txn;
	const struct gvm_txn_op *op;
	unsigned int i;

	(void)state;
	fx_init(&f, "order", 0);
	/* A map, a map cutting it in three, an unmap of the last piece (pending). */
	reqs[0] = map_req(&f, 0, A, 64 * KiB, 0);
	reqs[1] = map_req(&f, 1, A + 16 * KiB, 16 * KiB, 0);
	reqs[2] = unmap_req(A + 32 * KiB, 32 * KiB);
	CHECK_ERR(f.ctx, gvm_bind_prepare(f.e.vm, reqs, 3, &txn, NULL), 0);
	check_events(&f, 0, prepare, 4);
	CHECK_EQ(f.ctx, gvm_txn_nr_ops(txn), 4);
	gvm_txn_for_each_op(op, txn, i)
	{
		CHECK_EQ(f.ctx, op->op.type, prepare[i].type);
		CHECK_EQ(f.ctx, op->op.type == GVM_OP_MAP ? op->op.map.va : op->op.old->va,
			 prepare[i].va);
	}
	CHECK_EQ(f.ctx, i, 4);
	CHECK_EQ(f.ctx, (uintptr_t)gvm_txn_op(txn, 4), 0);
	gvm_bind_commit(txn);
	check_events(&f, 4, commit, 4);
	gvm_bind_cleanup(txn);
	check_events(&f, 8, cleanup, 4);
	for (i = 0; i < 12; i++)
		CHECK_EQ(f.ctx, f.d.ev[i].committed, f.d.ev[i].phase != 'p');
	check_driver(&f);

	/* Given up: the same array again (over what is there), newest op first. */
	f.d.n = 0;
	reqs[0] = unmap_req(A, 64 * KiB);
	reqs[1] = map_req(&f, 2, A, 64 * KiB, 0);
	CHECK_ERR(f.ctx, gvm_bind_prepare(f.e.vm, reqs, 2, &txn, NULL), 0);
	nops = gvm_txn_nr_ops(txn);
	CHECK_EQ(f.ctx, nops, 3); /* UNMAP, UNMAP, MAP */
	CHECK_EQ(f.ctx, f.d.n, nops);
	for (i = 0; i < nops; i++)
		given_up[nops - 1 - i] =
			(struct want){ 'x', f.d.ev[i].type, f.d.ev[i].va, f.d.ev[i].size };
	gvm_bind_cleanup(txn);
	check_events(&f, nops, given_up, nops);
	for (i = nops; i < 2 * nops; i++)
		CHECK_EQ(f.ctx, f.d.ev[i].committed, false);
	fx_fini(&f);
}

/* What a failed prepare must leave as it was. */
struct snap {
	struct gvm_stats st;
	uint64_t vas[64][4]; /* va, size, offset, obj */
	unsigned int nr;
	long host_live, pins, refs[3];
	uint64_t pages;
	unsigned int bos;
};

static void take_snap(struct fx *f, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	gvm_get_stats(f->e.vm, &s->st);
	for (struct gvm_va *va = gvm_va_first(f->e.vm, 0, UINT64_MAX); va && s->nr < 64;
	     va = gvm_va_next(f->e.vm, va, UINT64_MAX), s->nr++) {
		uint64_t *v = s->vas[s->nr];

		v[0] = va->va;
		v[1] = va->size;
		v[2] = va->offset;
		v[3] = (uintptr_t)va->bo->obj;
	}
	s->host_live = f->e.host_live;
	s->pins = f->d.pins;
	s->pages = vm_test_pages(&f->e);
	s->bos = f->d.bo_inits - f->d.bo_frees;
	for (unsigned int i = 0; i < 3; i++)
		s->refs[i] = f->o[i].refs;
}

static void check_snap(struct fx *f, const struct snap *before)
{
	struct snap now;
	uint64_t seed = 1;

	take_snap(f, &now);
	CHECK_EQ(f->ctx, now.nr, before->nr);
	if (memcmp(now.vas, before->vas, sizeof(now.vas)))
		fail_msg("%s: the committed VAs changed", f->ctx);
	CHECK_EQ(f->ctx, now.st.vas, before->st.vas);
	CHECK_EQ(f->ctx, now.st.bos, before->st.bos);
	CHECK_EQ(f->ctx, now.st.va_bytes, before->st.va_bytes);
	CHECK_EQ(f->ctx, now.host_live, before->host_live);
	CHECK_EQ(f->ctx, now.pins, before->pins);
	CHECK_EQ(f->ctx, now.pages, before->pages);
	CHECK_EQ(f->ctx, now.bos, before->bos);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_EQ(f->ctx, now.refs[i], before->refs[i]);
	if (vm_test_check_tables(&f->e, A - 2 * MiB, A + 64 * MiB, 4, &seed, stderr))
		fail_msg("%s: the tables changed", f->ctx);
}

/* VAs at A: [0, 64K) o0, [128K, 192K) o1, [256K, 320K) o0. */
static void fail_setup(struct fx *f)
{
	struct gvm_req r[] = { map_req(f, 0, A, 64 * KiB, 0),
			       map_req(f, 1, A + 128 * KiB, 64 * KiB, 0),
			       map_req(f, 0, A + 256 * KiB, 64 * KiB, 64 * KiB) };

	bind(f, r, 3);
}

/* Ops: REMAP, UNMAP, REMAP, MAP; UNMAP; MAP (a new link); REMAP, MAP. */
static unsigned int fail_array(struct fx *f, struct gvm_req *r)
{
	r[0] = map_req(f, 1, A + 32 * KiB, 256 * KiB, 0);
	r[1] = unmap_req(A + 288 * KiB, 32 * KiB);
	r[2] = map_req(f, 2, A + 1 * MiB, 64 * KiB, 0);
	r[3] = map_req(f, 0, A + 1 * MiB + 16 * KiB, 16 * KiB, 0);
	return 4;
}

/* A prepare failed at op @k: its k prepares were followed by k cleanups, newest first. */
static void expect_cleanups_mirror(struct fx *f, unsigned int k)
{
	CHECK_EQ(f->ctx, f->d.n, 2 * k);
	for (unsigned int i = 0; i < k; i++) {
		const struct event *x = &f->d.ev[k + i], *p = &f->d.ev[k - 1 - i];

		if (x->phase != 'x' || x->type != p->type || x->va != p->va || x->committed)
			fail_msg("%s: k %u: cleanup %u is not of prepared op %u", f->ctx, k, i,
				 k - 1 - i);
	}
}

/* The VM's own allocations failing, each once: the pins stay balanced. */
static void sweep_vm_alloc_failures(struct fx *f, const struct gvm_req *r, unsigned int n)
{
	struct gvm_txn *txn;
	struct snap before;

	for (uint64_t at = 1;; at++) {
		int err;

		take_snap(f, &before);
		f->e.host_attempts = 0;
		f->e.host_fail_at = at;
		err = gvm_bind_prepare(f->e.vm, r, n, &txn, NULL);
		f->e.host_fail_at = 0;
		if (!err) {
			gvm_bind_cleanup(txn);
			return;
		}
		CHECK_ERR(f->ctx, err, -ENOMEM);
		check_snap(f, &before);
		if (at > 500)
			fail_msg("%s: the allocation sweep does not end", f->ctx);
	}
}

static void test_fail_at_k(void **state)
{
	struct fx f;
	struct gvm_req r[4];
	struct gvm_txn *txn;
	unsigned int n, nops;
	struct snap before;

	(void)state;
	fx_init(&f, "fail-at-k", 0);
	fail_setup(&f);
	n = fail_array(&f, r);
	/* Count the ops: a clean prepare, given up. */
	f.d.n = 0;
	CHECK_ERR(f.ctx, gvm_bind_prepare(f.e.vm, r, n, &txn, NULL), 0);
	nops = gvm_txn_nr_ops(txn);
	gvm_bind_cleanup(txn);
	CHECK_EQ(f.ctx, nops, 8);
	for (unsigned int k = 0; k < nops; k++) {
		unsigned int failed = ~0u;

		take_snap(&f, &before);
		f.d.n = 0;
		f.d.prepares = 0;
		f.d.fail_at = k + 1;
		CHECK_ERR(f.ctx, gvm_bind_prepare(f.e.vm, r, n, &txn, &failed), -EIO);
		f.d.fail_at = 0;
		expect_cleanups_mirror(&f, k);
		check_snap(&f, &before);
	}
	sweep_vm_alloc_failures(&f, r, n);
	/* And the array applies. */
	bind(&f, r, n);
	check_driver(&f);
	fx_fini(&f);
}

/* Random binds over 256 pages at A; each page remembers its map request's id. */
#define PRIV_PAGES 256u

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_areas(struct fx *f, const uint64_t *model, unsigned int step)
{
	for (struct gvm_va *va = gvm_va_first(f->e.vm, A, A + PRIV_PAGES * PAGE); va;
	     va = gvm_va_next(f->e.vm, va, A + PRIV_PAGES * PAGE)) {
		const struct va_priv *p = gvm_va_priv(va);
		const struct bo_priv *b = gvm_bo_priv(va->bo);

		if (p->magic != VA_MAGIC || p->pins != 1)
			fail_msg("%s: step %u: VA 0x%" PRIx64 ": area magic 0x%x pins %u", f->ctx,
				 step, va->va, p->magic, p->pins);
		for (uint64_t a = va->va; a < va->va + va->size; a += PAGE)
			if (model[(a - A) / PAGE] != p->id)
				fail_msg("%s: step %u: VA 0x%" PRIx64 " has id %" PRIu64
					 ", page 0x%" PRIx64 " was mapped by %" PRIu64,
					 f->ctx, step, va->va, p->id, a, model[(a - A) / PAGE]);
		if (b->magic != BO_MAGIC || b->obj != va->bo->obj)
			fail_msg("%s: step %u: a link's area changed", f->ctx, step);
	}
}

static void test_priv(void **state)
{
	static uint64_t model[PRIV_PAGES];
	uint64_t seed = opt_seed;
	struct fx f;

	(void)state;
	fx_init(&f, "priv", 0);
	memset(model, 0, sizeof(model));
	for (unsigned int step = 0; step < opt_count; step++) {
		uint64_t first = rnd(&seed) % PRIV_PAGES, pages = 1 + rnd(&seed) % 24;
		struct gvm_req r;

		pages = first + pages > PRIV_PAGES ? PRIV_PAGES - first : pages;
		if (rnd(&seed) % 3)
			r = map_req(&f, (unsigned int)(rnd(&seed) % 3), A + first * PAGE,
				    pages * PAGE, (rnd(&seed) % 64) * PAGE);
		else
			r = unmap_req(A + first * PAGE, pages * PAGE);
		bind(&f, &r, 1);
		for (uint64_t i = first; i < first + pages; i++)
			model[i] = r.type == GVM_REQ_MAP ? f.d.next_id : 0;
		check_areas(&f, model, step);
		check_driver(&f);
	}
	fx_fini(&f);
}

static void test_bo_ref(void **state)
{
	struct fx f;
	struct gvm_req r;
	struct gvm_bo *bo;
	struct gvm_stats st;

	(void)state;
	fx_init(&f, "bo-ref", 0);
	r = map_req(&f, 0, A, 64 * KiB, 0);
	bind(&f, &r, 1);
	bo = gvm_bo_find(f.e.vm, &f.o[0].obj);
	assert_non_null(bo);
	CHECK_EQ(f.ctx, (uintptr_t)gvm_bo_get(bo), (uintptr_t)bo);
	r = unmap_req(A, 64 * KiB);
	bind(&f, &r, 1);
	/* No VA left, but the driver's reference keeps the link and its area. */
	CHECK_EQ(f.ctx, (uintptr_t)gvm_bo_find(f.e.vm, &f.o[0].obj), (uintptr_t)bo);
	CHECK_EQ(f.ctx, f.d.bo_frees, 0);
	CHECK_EQ(f.ctx, ((struct bo_priv *)gvm_bo_priv(bo))->magic, BO_MAGIC);
	/* A map uses the same link again. */
	r = map_req(&f, 0, A, 64 * KiB, 0);
	bind(&f, &r, 1);
	CHECK_EQ(f.ctx, f.d.bo_inits, 1);
	CHECK_EQ(f.ctx, (uintptr_t)gvm_va_find(f.e.vm, A)->bo, (uintptr_t)bo);
	r = unmap_req(A, 64 * KiB);
	bind(&f, &r, 1);
	gvm_get_stats(f.e.vm, &st);
	CHECK_EQ(f.ctx, st.bos, 1);
	gvm_bo_put(bo);
	gvm_get_stats(f.e.vm, &st);
	CHECK_EQ(f.ctx, st.bos, 0);
	CHECK_EQ(f.ctx, f.d.bo_frees, 1);
	CHECK_EQ(f.ctx, (uintptr_t)gvm_bo_find(f.e.vm, &f.o[0].obj), 0);
	fx_fini(&f);
}

/* The objects whose links are on @vm's extobj list, as a bit mask of f->o[]. */
static unsigned int extobj_mask(struct fx *f, struct gvm *vm)
{
	unsigned int mask = 0, n = 0;

	for (struct gvm_bo *bo = gvm_extobj_first(vm); bo; bo = gvm_extobj_next(bo), n++) {
		if (!gvm_bo_is_extobj(bo))
			fail_msg("%s: a private object's link on the extobj list", f->ctx);
		for (unsigned int i = 0; i < ARRAY_SIZE(f->o); i++)
			if (bo->obj == &f->o[i].obj)
				mask |= 1u << i;
	}
	if (n != (unsigned int)__builtin_popcount(mask))
		fail_msg("%s: %u links on the extobj list for mask 0x%x", f->ctx, n, mask);
	return mask;
}

static void test_extobj(void **state)
{
	struct fx f;
	struct gvm_req r[3];
	struct gvm_txn *txn;
	struct gvm_bo *bo;

	(void)state;
	fx_init(&f, "extobj", 7);
	f.o[1].obj.resv_id = 7; /* shares the VM's reservation: private */
	f.o[2].obj.resv_id = 9; /* another VM's: external here */
	CHECK_EQ(f.ctx, extobj_mask(&f, f.e.vm), 0);
	r[0] = map_req(&f, 0, A, 64 * KiB, 0);
	r[1] = map_req(&f, 1, A + 1 * MiB, 64 * KiB, 0);
	r[2] = map_req(&f, 2, A + 2 * MiB, 64 * KiB, 0);
	/* On the list from the prepare that makes the link; off when given up. */
	CHECK_ERR(f.ctx, gvm_bind_prepare(f.e.vm, r, 3, &txn, NULL), 0);
	CHECK_EQ(f.ctx, extobj_mask(&f, f.e.vm), 5);
	gvm_bind_cleanup(txn);
	CHECK_EQ(f.ctx, extobj_mask(&f, f.e.vm), 0);
	bind(&f, r, 3);
	CHECK_EQ(f.ctx, extobj_mask(&f, f.e.vm), 5);
	/* A reference keeps a link on the list past its last VA. */
	bo = gvm_bo_get(gvm_bo_find(f.e.vm, &f.o[2].obj));
	r[0] = unmap_req(A, 4 * MiB);
	bind(&f, r, 1);
	CHECK_EQ(f.ctx, extobj_mask(&f, f.e.vm), 4);
	gvm_bo_put(bo);
	CHECK_EQ(f.ctx, extobj_mask(&f, f.e.vm), 0);
	fx_fini(&f);

	/* A VM without a reservation identity: every object is external. */
	fx_init(&f, "extobj-no-resv", 0);
	f.o[1].obj.resv_id = 7;
	r[0] = map_req(&f, 0, A, 64 * KiB, 0);
	r[1] = map_req(&f, 1, A + 1 * MiB, 64 * KiB, 0);
	bind(&f, r, 2);
	CHECK_EQ(f.ctx, extobj_mask(&f, f.e.vm), 3);
	fx_fini(&f);
}

/* Counts validations, fails or evicts again on the N-th, records the order. */
struct validate_ctx {
	struct fx *f;
	unsigned int calls, fail_on, evict_again_on;
	unsigned int order; /* object indices, 4 bits each, in call order */
};

static int validate(struct gvm_bo *bo, void *arg)
{
	struct validate_ctx *c = arg;
	unsigned int i = 0;

	while (bo->obj != &c->f->o[i].obj)
		i++;
	c->order |= i << (4 * c->calls);
	if (gvm_bo_is_evicted(bo))
		fail_msg("%s: a link being validated is still on the list", c->f->ctx);
	if (++c->calls == c->evict_again_on)
		gvm_bo_set_evicted(bo, true);
	return c->calls == c->fail_on ? -EAGAIN : 0;
}

/* The objects whose links on @vm are evicted, as a bit mask of f->o[]. */
static unsigned int evicted_mask(struct fx *f, struct gvm *vm)
{
	unsigned int mask = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(f->o); i++) {
		struct gvm_bo *bo = gvm_bo_find(vm, &f->o[i].obj);

		if (bo && gvm_bo_is_evicted(bo))
			mask |= 1u << i;
	}
	return mask;
}

static void test_evicted(void **state)
{
	struct fx f;
	struct vm_test_env other;
	struct drv od = { 0 };
	struct gvm_req r[3];
	struct validate_ctx c;

	(void)state;
	fx_init(&f, "evicted", 0);
	vm_test_init_driver(&other, NULL, 0, &drv_ops, &od, 0);
	for (unsigned int i = 0; i < 3; i++)
		r[i] = map_req(&f, i, A + i * MiB, 64 * KiB, 0);
	bind(&f, r, 3);
	CHECK_ERR(f.ctx, gvm_bind(other.vm, r, 1, NULL), 0); /* o0 in both VMs */
	gvm_bo_set_evicted(gvm_bo_find(f.e.vm, &f.o[2].obj), true);
	gvm_obj_set_evicted(&f.o[0].obj, true);
	CHECK_EQ(f.ctx, evicted_mask(&f, f.e.vm), 5);
	CHECK_EQ(f.ctx, evicted_mask(&f, other.vm), 1);
	gvm_bo_set_evicted(gvm_bo_find(f.e.vm, &f.o[2].obj), true); /* again: no change */

	/* Oldest first; the second fails and stays, the third waits. */
	c = (struct validate_ctx){ .f = &f, .fail_on = 2 };
	gvm_bo_set_evicted(gvm_bo_find(f.e.vm, &f.o[1].obj), true);
	CHECK_ERR(f.ctx, gvm_evicted_validate(f.e.vm, validate, &c), -EAGAIN);
	CHECK_EQ(f.ctx, c.calls, 2);
	CHECK_EQ(f.ctx, c.order, 0x02); /* o2, then o0 */
	CHECK_EQ(f.ctx, evicted_mask(&f, f.e.vm), 3);

	/* Evicted again while validated: back on the list, not validated twice. */
	c = (struct validate_ctx){ .f = &f, .evict_again_on = 1 };
	CHECK_ERR(f.ctx, gvm_evicted_validate(f.e.vm, validate, &c), 0);
	CHECK_EQ(f.ctx, c.calls, 2);
	CHECK_EQ(f.ctx, c.order, 0x10); /* o0 (failed last time: first), o1 */
	CHECK_EQ(f.ctx, evicted_mask(&f, f.e.vm), 1);

	/* A link freed while evicted leaves the list. */
	r[0] = unmap_req(A, 64 * KiB);
	bind(&f, r, 1);
	c = (struct validate_ctx){ .f = &f };
	CHECK_ERR(f.ctx, gvm_evicted_validate(f.e.vm, validate, &c), 0);
	CHECK_EQ(f.ctx, c.calls, 0);
	/* The other VM's link was marked with the object, and validates there. */
	c = (struct validate_ctx){ .f = &f };
	CHECK_ERR(f.ctx, gvm_evicted_validate(other.vm, validate, &c), 0);
	CHECK_EQ(f.ctx, c.calls, 1);
	CHECK_EQ(f.ctx, evicted_mask(&f, other.vm), 0);
	vm_test_fini(&other);
	fx_fini(&f);
}

/*
 * A driver whose links hold the only references on objects without get/put
 * (mockdrm's): bo_free ends the object, which gvm must not touch after.
 */
struct owned_obj {
	struct gvm_obj obj;
	bool ended;
};

static int owned_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	*pa = 4 * GiB + offset;
	*contig = obj->size - offset;
	return 0;
}

static const struct gvm_obj_ops owned_ops = { .phys = owned_phys };

static void owned_bo_init(struct gvm_bo *bo)
{
	(void)bo;
}

/* The object "ends": what gvm reads of it after this reads poison. */
static void owned_bo_free(struct gvm_bo *bo)
{
	struct owned_obj *o = (struct owned_obj *)bo->obj;

	CHECK_ERR("bo-free-ends-object", gvm_obj_fini(&o->obj), 0);
	memset(&o->obj, 0xa5, sizeof(o->obj));
	o->ended = true;
}

static const struct gvm_driver_ops owned_drv = {
	.bo_init = owned_bo_init,
	.bo_free = owned_bo_free,
};

static void test_bo_free_ends_object(void **state)
{
	struct vm_test_env e;
	struct owned_obj o = { 0 };
	struct gvm_req r = { .type = GVM_REQ_MAP, .va = A, .size = MiB, .obj = &o.obj, .prot = RW };

	(void)state;
	vm_test_init_driver(&e, NULL, 0, &owned_drv, NULL, 0);
	CHECK_ERR("bo-free-ends-object", gvm_obj_init(&o.obj, &owned_ops, MiB), 0);
	CHECK_ERR("bo-free-ends-object", gvm_bind(e.vm, &r, 1, NULL), 0);
	r = (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = A, .size = MiB };
	CHECK_ERR("bo-free-ends-object", gvm_bind(e.vm, &r, 1, NULL), 0);
	assert_true(o.ended);
	vm_test_fini(&e);
}

static int noop_prepare(struct gvm_txn *txn, const struct gvm_txn_op *op)
{
	(void)txn;
	(void)op;
	return 0;
}

static void noop_bo(struct gvm_bo *bo)
{
	(void)bo;
}

static void test_create(void **state)
{
	static const struct gvm_driver_ops bad_ops[] = {
		{ .op_prepare = noop_prepare },
		{ .bo_init = noop_bo },
		{ .bo_free = noop_bo },
		{ .va_priv_size = GVM_PRIV_MAX + 1 },
		{ .bo_priv_size = GVM_PRIV_MAX + 1 },
	};
	struct vm_test_env e;
	struct gvm_cfg cfg;
	struct gvm *vm = NULL;
	struct gvm_req r;
	struct gvm_txn *txn;
	struct vm_test_obj o;

	(void)state;
	vm_test_init(&e, NULL, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_ops); i++) {
		cfg = (struct gvm_cfg){ .start = VM_TEST_START,
					.end = VM_TEST_END,
					.page_lg2 = 12,
					.backend = &gvm_backend_paging,
					.backend_cfg = &e.pt.cfg,
					.driver = &bad_ops[i] };
		CHECK_ERR("create", gvm_create(&cfg, &vm), -EINVAL);
		CHECK_EQ("create", (uintptr_t)vm, 0);
	}
	/* Without driver ops a transaction keeps no ops. */
	vm_test_obj_init(&o, MiB, GiB, 0);
	r = (struct gvm_req){ .type = GVM_REQ_MAP, .va = A, .size = MiB, .obj = &o.obj, .prot = RW };
	CHECK_ERR("create", gvm_bind_prepare(e.vm, &r, 1, &txn, NULL), 0);
	CHECK_EQ("create", gvm_txn_nr_ops(txn), 0);
	CHECK_EQ("create", (uintptr_t)gvm_txn_op(txn, 0), 0);
	gvm_bind_commit(txn);
	gvm_bind_cleanup(txn);
	vm_test_fini(&e);
	vm_test_obj_fini(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),  cmocka_unit_test(test_fail_at_k),
		cmocka_unit_test(test_priv),   cmocka_unit_test(test_bo_ref),
		cmocka_unit_test(test_extobj), cmocka_unit_test(test_evicted),
		cmocka_unit_test(test_create), cmocka_unit_test(test_bo_free_ends_object),
	};
	const struct tu_args args = { "test-hooks", &opt_seed, &opt_count };

	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
	return cmocka_run_group_tests_name("test-hooks", tests, NULL, NULL);
}
