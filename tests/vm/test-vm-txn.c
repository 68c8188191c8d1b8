// SPDX-License-Identifier: MIT
/*
 * Bind transactions (gvm.h "DOC: transactions and locking"; DESIGN.md 2, 4).
 *
 * - sweep-*: every allocation of gvm_bind_prepare() fails once, first the VM's
 *   own memory (vm_test_env.host_fail_at), then table pages and page-table
 *   metadata (pt_test_env.fail_at), for arrays of fresh maps, remaps that split
 *   both ends, hole punches, unmaps of many VAs, repeat maps, mixtures, one that
 *   crosses a VA slab, and ones queued behind another prepared transaction
 *   (an array, and one request prepared alone: lazy, gvm_internal.h).
 * - sweep-lone-*: the same for one request bound with gvm_bind(), the lone
 *   request's own path (DOC: the lone request, vm/gvm_txn.c), and one that
 *   overlaps more VAs than that path takes.
 *   Each failure returns -ENOMEM with a failed index in the array and leaves
 *   the committed VAs, every table descriptor, the translations, pool pages,
 *   the VM's memory, object references and gvm_get_stats() as before; the same
 *   array then prepares and commits to the expected VAs. The sweep must reach
 *   every allocation a clean prepare makes.
 * - queue-*: B prepared against A's projected result, commits in order;
 *   giving up the newest restores VAs, tables, pool pages and references
 *   exactly (the VM may keep its caches, as after any finished transaction);
 *   B bound alone with gvm_bind() between A's commit and A's cleanup.
 * - flush-*: one flush per coalesced range per array; the tables a commit
 *   unlinks are freed at cleanup, after their flush.
 * - keep-*: an identical remap (keep) leaves the tables alone; other
 *   protections rewrite them.
 * - resv-random: the reservation is exact, seen through the pool: after every
 *   random array the pool holds exactly the tables linked in the tree, cleanup
 *   frees every table the commit unlinked and nothing it did not take, no
 *   commit allocates (the harness aborts if one does), and for arrays of maps
 *   into free space (no table can be unlinked) every table page the prepare
 *   took is linked by the commit.
 * - identity-*: the identity backend maps only at VA == PA.
 * - create-*, destroy-*, stats: argument errors, teardown, memory per VA.
 *
 * Usage: test-vm-txn [--seed N] [--count N] (resv-random: N arrays).
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

#include <gpuvm/print_file.h>

#include "vm-test.h"

#define DEFAULT_SEED 0x74786e73ull
#define DEFAULT_COUNT 1000u

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define PAGE (4 * KiB)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define R PT_PROT_READ
#define RW (PT_PROT_READ | PT_PROT_WRITE)
#define RX (PT_PROT_READ | PT_PROT_EXEC)

/* Where the cases work: B0 starts a level-2 table's span, FAR is in another one. */
#define B0 (1 * GiB)
#define FAR (5 * GiB)
/* Small VAs made in bulk (struct txn_case.many) live here. */
#define MANY_BASE (64 * GiB)
#define MANY_STRIDE (64 * KiB)
#define MANY_SIZE (16 * KiB)
#define MAX_PROBES 256u
/* Most VAs a VM here holds (lists of them are copied). */
#define MAX_VAS 4096u
#define MAX_REQS 8u
/* No prepare here makes this many allocations: a runaway sweep stops. */
#define MAX_SWEEP 2000u

static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;

enum {
	O_BIG,
	O_FRAG,
	O_DUMMY,
	O_SMALL,
	NR_OBJS
};

struct obj_spec {
	const char *name;
	uint64_t size, pa, frag;
};

static const struct obj_spec obj_specs[NR_OBJS] = {
	[O_BIG] = { "big", 16 * MiB, 4 * GiB, 0 },
	[O_FRAG] = { "frag", 4 * MiB, 6 * GiB, 64 * KiB },
	[O_DUMMY] = { "dummy", PAGE, 7 * GiB, 0 },
	[O_SMALL] = { "small", 256 * KiB, 7 * GiB + 1 * MiB, 0 },
};

/* A request in a table: object by index (-1 for none). */
struct rq {
	enum gvm_req_type type;
	uint64_t va, size;
	int obj;
	uint64_t offset, repeat;
	uint32_t prot;
};

#define MAP(va, size, obj, off, prot)                              \
	{                                                          \
		GVM_REQ_MAP, (va), (size), (obj), (off), 0, (prot) \
	}
#define REP(va, size, obj, off, period, prot)                             \
	{                                                                 \
		GVM_REQ_MAP, (va), (size), (obj), (off), (period), (prot) \
	}
#define UNMAP(va, size)                                  \
	{                                                \
		GVM_REQ_UNMAP, (va), (size), -1, 0, 0, 0 \
	}

struct rqs {
	const struct rq *v;
	unsigned int n;
};

#define RQS(...)                                                                       \
	{                                                                              \
		(const struct rq[]){ __VA_ARGS__ },                                    \
			sizeof((const struct rq[]){ __VA_ARGS__ }) / sizeof(struct rq) \
	}

/* An expected VA (the same fields as a map request). */
struct xva {
	uint64_t va, size;
	int obj;
	uint64_t offset, repeat;
	uint32_t prot;
};

#define XVA(va, size, obj, off, rep, prot)                \
	{                                                 \
		(va), (size), (obj), (off), (rep), (prot) \
	}

struct xvas {
	const struct xva *v;
	unsigned int n;
};

#define XVAS(...)                                                                        \
	{                                                                                \
		(const struct xva[]){ __VA_ARGS__ },                                     \
			sizeof((const struct xva[]){ __VA_ARGS__ }) / sizeof(struct xva) \
	}

/* ---- Fixture: a VM over the recording page-table env, and the objects ---- */

struct fx {
	struct vm_test_env e;
	struct vm_test_obj obj[NR_OBJS];
	struct pt_geometry geo;
	char ctx[256]; /* the case, for messages */
};

static void fx_init(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fx_init(struct fx *f, const char *fmt, ...)
{
	va_list ap;

	memset(f, 0, sizeof(*f));
	va_start(ap, fmt);
	vsnprintf(f->ctx, sizeof(f->ctx), fmt, ap);
	va_end(ap);
	vm_test_init(&f->e, NULL, 0);
	for (int i = 0; i < NR_OBJS; i++)
		vm_test_obj_init(&f->obj[i], obj_specs[i].size, obj_specs[i].pa, obj_specs[i].frag);
	pt_get_geometry(gvm_get_pt(f->e.vm), &f->geo);
}

/* Destroy the VM: every reference dropped, all the VM's memory and every table freed. */
static void fx_fini(struct fx *f)
{
	gvm_destroy(f->e.vm);
	CHECK_EQ(f->ctx, pt_test_pages_in_use(&f->e.pt), 0);
	CHECK_EQ(f->ctx, f->e.host_live, 0);
	for (int i = 0; i < NR_OBJS; i++) {
		CHECK_EQ(obj_specs[i].name, f->obj[i].refs, 0);
		vm_test_obj_fini(&f->obj[i]);
	}
	pt_test_env_fini(&f->e.pt);
}

static int obj_index(struct fx *f, const struct gvm_obj *obj)
{
	for (int i = 0; i < NR_OBJS; i++)
		if (obj == &f->obj[i].obj)
			return i;
	return -1;
}

static struct gvm_req to_req(struct fx *f, const struct rq *q)
{
	return (struct gvm_req){
		.type = q->type,
		.va = q->va,
		.size = q->size,
		.obj = q->obj >= 0 ? &f->obj[q->obj].obj : NULL,
		.offset = q->offset,
		.repeat = q->repeat,
		.prot = q->prot,
	};
}

static unsigned int to_reqs(struct fx *f, const struct rqs *s, struct gvm_req *out)
{
	assert_true(s->n <= MAX_REQS);
	for (unsigned int i = 0; i < s->n; i++)
		out[i] = to_req(f, &s->v[i]);
	return s->n;
}

static struct gvm_txn *prepare_ok(struct fx *f, const struct rqs *s)
{
	struct gvm_req q[MAX_REQS];
	struct gvm_txn *txn = NULL;
	unsigned int n = to_reqs(f, s, q), failed = ~0u;

	CHECK_ERR(f->ctx, gvm_bind_prepare(f->e.vm, q, n, &txn, &failed), 0);
	return txn;
}

/* Apply @s as one array. */
static void bind_ok(struct fx *f, const struct rqs *s)
{
	struct gvm_txn *txn;

	if (!s->n)
		return;
	txn = prepare_ok(f, s);
	gvm_bind_commit(txn);
	gvm_bind_cleanup(txn);
}

/* @n small VAs of the big object at MANY_BASE, not adjacent. */
static void bind_many(struct fx *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct rq q = MAP(MANY_BASE + i * MANY_STRIDE, MANY_SIZE, O_BIG, i * MANY_SIZE, RW);

		bind_ok(f, &(struct rqs){ &q, 1 });
	}
}

static struct xva many_va(unsigned int i)
{
	return (struct xva)XVA(MANY_BASE + i * MANY_STRIDE, MANY_SIZE, O_BIG, i * MANY_SIZE, 0, RW);
}

/* ---- Tables as the walker sees them ---- */

struct tcopy {
	uint64_t pa, va; /* the table, and the first VA of its span */
	unsigned int level;
	uint64_t *items; /* a copy, when asked for */
	size_t n;
};

struct tables {
	struct tcopy *t;
	size_t n, cap;
};

static bool tables_has(const struct tables *ts, uint64_t pa)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->t[i].pa == pa)
			return true;
	return false;
}

static void tables_add(struct tables *ts, struct tcopy t)
{
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? 2 * ts->cap : 64;
		ts->t = realloc(ts->t, ts->cap * sizeof(*ts->t));
		assert_non_null(ts->t);
	}
	ts->t[ts->n++] = t;
}

static void tables_free(struct tables *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->t[i].items);
	free(ts->t);
	memset(ts, 0, sizeof(*ts));
}

/* Every table reachable from the root, once (shared ones too), in walk order. */
static void collect(struct fx *f, struct tables *ts, uint64_t pa, uint64_t va, unsigned int lvl,
		    bool copy)
{
	const uint64_t *items = pt_pool_pa_to_cpu(f->e.pt.pool, pa);
	size_t n = lvl == f->geo.start_level ? f->geo.top_entries : 1ull << f->geo.bits_per_level;
	struct tcopy t = { pa, va, lvl, NULL, n };

	if (!items)
		fail_msg("%s: table at PA 0x%" PRIx64 " is not pool memory", f->ctx, pa);
	if (copy) {
		t.items = malloc(n * sizeof(uint64_t));
		assert_non_null(t.items);
		memcpy(t.items, items, n * sizeof(uint64_t));
	}
	tables_add(ts, t);
	for (size_t i = 0; lvl < PT_LEAF_LEVEL && i < n; i++) {
		struct pt_entry e;

		if (pt_decode_entry(gvm_get_pt(f->e.vm), lvl, items[i], &e))
			fail_msg("%s: bad descriptor 0x%" PRIx64, f->ctx, items[i]);
		if (e.type == PT_ENTRY_TABLE && !tables_has(ts, e.addr))
			collect(f, ts, e.addr, va + (i << f->geo.level_shift[lvl]), lvl + 1, copy);
	}
}

static void tables_take(struct fx *f, struct tables *ts, bool copy)
{
	memset(ts, 0, sizeof(*ts));
	collect(f, ts, pt_test_root_pa(gvm_get_pt(f->e.vm)), 0, f->geo.start_level, copy);
}

static void tables_expect_same(struct fx *f, const struct tables *a, const struct tables *b,
			       const char *when)
{
	CHECK_EQ(when, b->n, a->n);
	for (size_t i = 0; i < a->n; i++) {
		CHECK_EQ(when, b->t[i].pa, a->t[i].pa);
		for (size_t k = 0; k < a->t[i].n; k++)
			if (a->t[i].items[k] != b->t[i].items[k])
				fail_msg("%s: %s: table PA 0x%" PRIx64 " item %zu is 0x%" PRIx64
					 ", was 0x%" PRIx64,
					 f->ctx, when, a->t[i].pa, k, b->t[i].items[k],
					 a->t[i].items[k]);
	}
}

/* ---- Snapshots of everything a failed prepare must leave alone ---- */

struct probe {
	uint64_t va;
	int rc;
	struct pt_walk_result w;
};

struct snap {
	struct xva vas[MAX_VAS];
	unsigned int nvas;
	struct tables tables;
	struct probe probes[MAX_PROBES];
	unsigned int nprobes;
	uint64_t pages;
	long host_live;
	long refs[NR_OBJS];
	struct gvm_stats st;
};

static unsigned int committed_vas(struct fx *f, struct xva *out, unsigned int max)
{
	unsigned int n = 0;

	for (struct gvm_va *va = gvm_va_first(f->e.vm, VM_TEST_START, VM_TEST_END); va;
	     va = gvm_va_next(f->e.vm, va, VM_TEST_END)) {
		if (n == max)
			fail_msg("%s: more than %u VAs", f->ctx, max);
		out[n++] = (struct xva){ va->va,     va->size,   obj_index(f, va->bo->obj),
					 va->offset, va->repeat, va->prot };
	}
	return n;
}

/* Probe the edges of every committed VA and of @q's ranges, a page either side. */
static void probes_take(struct fx *f, struct snap *s, const struct gvm_req *q, unsigned int n)
{
	uint64_t pts[2 * MAX_PROBES + 4 * MAX_REQS];
	unsigned int np = 0;

	for (unsigned int i = 0; i < s->nvas && np < 2 * MAX_PROBES; i++) {
		pts[np++] = s->vas[i].va;
		pts[np++] = s->vas[i].va + s->vas[i].size - PAGE;
	}
	for (unsigned int i = 0; i < n; i++) {
		pts[np++] = q[i].va - PAGE;
		pts[np++] = q[i].va;
		pts[np++] = q[i].va + q[i].size - PAGE;
		pts[np++] = q[i].va + q[i].size;
	}
	s->nprobes = 0;
	for (unsigned int i = 0; i < np && s->nprobes < MAX_PROBES; i++) {
		struct probe *p = &s->probes[s->nprobes++];

		p->va = pts[i];
		p->rc = pt_walk(gvm_get_pt(f->e.vm), p->va, &p->w);
	}
}

static void snap_take(struct fx *f, struct snap *s, const struct gvm_req *q, unsigned int n)
{
	s->nvas = committed_vas(f, s->vas, ARRAY_SIZE(s->vas));
	tables_take(f, &s->tables, true);
	probes_take(f, s, q, n);
	s->pages = pt_test_pages_in_use(&f->e.pt);
	s->host_live = f->e.host_live;
	for (int i = 0; i < NR_OBJS; i++)
		s->refs[i] = f->obj[i].refs;
	gvm_get_stats(f->e.vm, &s->st);
}

static void expect_vas(struct fx *f, const struct xva *got, unsigned int ngot,
		       const struct xva *want, unsigned int nwant, const char *when)
{
	for (unsigned int i = 0; i < ngot && i < nwant; i++) {
		const struct xva *g = &got[i], *w = &want[i];

		if (g->va != w->va || g->size != w->size || g->obj != w->obj ||
		    g->offset != w->offset || g->repeat != w->repeat || g->prot != w->prot)
			fail_msg("%s: %s: VA %u is [0x%" PRIx64 ", +0x%" PRIx64
				 ") obj %d+0x%" PRIx64 " repeat 0x%" PRIx64
				 " prot 0x%x, want [0x%" PRIx64 ", +0x%" PRIx64
				 ") obj %d+0x%" PRIx64 " repeat 0x%" PRIx64 " prot 0x%x",
				 f->ctx, when, i, g->va, g->size, g->obj, g->offset, g->repeat,
				 g->prot, w->va, w->size, w->obj, w->offset, w->repeat, w->prot);
	}
	if (ngot != nwant)
		fail_msg("%s: %s: %u VAs, want %u", f->ctx, when, ngot, nwant);
}

static void expect_probes(struct fx *f, const struct snap *s, const char *when)
{
	for (unsigned int i = 0; i < s->nprobes; i++) {
		const struct probe *p = &s->probes[i];
		struct pt_walk_result w;
		int rc = pt_walk(gvm_get_pt(f->e.vm), p->va, &w);

		if (rc == p->rc &&
		    (rc || (w.pa == p->w.pa && w.prot == p->w.prot && w.desc == p->w.desc)))
			continue;
		fail_msg("%s: %s: 0x%" PRIx64 " walks to %s PA 0x%" PRIx64 " desc 0x%" PRIx64
			 ", was %s PA 0x%" PRIx64 " desc 0x%" PRIx64,
			 f->ctx, when, p->va, errname(rc), w.pa, w.desc, errname(p->rc), p->w.pa,
			 p->w.desc);
	}
}

/*
 * Everything as in @before. With @memory also the VM's own memory: a failed
 * prepare gives back all it took, while a given-up transaction may leave the
 * VM's caches (its transaction record, spare tree nodes) as a finished one does.
 */
static void expect_unchanged(struct fx *f, const struct snap *before, bool memory, const char *when)
{
	struct xva *vas = calloc(MAX_VAS, sizeof(*vas));
	struct tables now;
	struct gvm_stats st;
	uint64_t seed = 1;
	unsigned int n;

	assert_non_null(vas);
	n = committed_vas(f, vas, MAX_VAS);
	expect_vas(f, vas, n, before->vas, before->nvas, when);
	free(vas);
	tables_take(f, &now, true);
	tables_expect_same(f, &before->tables, &now, when);
	tables_free(&now);
	expect_probes(f, before, when);
	CHECK_ERR(when, vm_test_check_tables(&f->e, VM_TEST_START, VM_TEST_END, 2, &seed, stderr),
		  0);
	CHECK_EQ(when, pt_test_pages_in_use(&f->e.pt), before->pages);
	for (int i = 0; i < NR_OBJS; i++)
		CHECK_EQ(obj_specs[i].name, f->obj[i].refs, before->refs[i]);
	gvm_get_stats(f->e.vm, &st);
	CHECK_EQ(when, st.vas, before->st.vas);
	CHECK_EQ(when, st.bos, before->st.bos);
	if (memory) {
		CHECK_EQ(when, st.va_bytes, before->st.va_bytes);
		CHECK_EQ(when, st.index_bytes, before->st.index_bytes);
		CHECK_EQ(when, f->e.host_live, before->host_live);
	}
	CHECK_ERR(when, gvm_validate(f->e.vm, gpuvm_print_file, stderr), 0);
	CHECK_ERR(when, pt_validate(gvm_get_pt(f->e.vm), gpuvm_print_file, stderr), 0);
}

/* ---- Checks of a committed state ---- */

/* The committed VAs are @want (then @many VAs from bind_many()). */
static void expect_state(struct fx *f, const struct xvas *want, unsigned int many, const char *when)
{
	struct xva *got = calloc(2 * MAX_VAS, sizeof(*got)), *all = got + MAX_VAS;
	unsigned int n, nall = 0;
	uint64_t seed = 7;

	assert_non_null(got);
	assert_true(want->n + many <= MAX_VAS);
	n = committed_vas(f, got, MAX_VAS);
	for (unsigned int i = 0; i < want->n; i++)
		all[nall++] = want->v[i];
	for (unsigned int i = 0; i < many; i++)
		all[nall++] = many_va(i);
	expect_vas(f, got, n, all, nall, when);
	free(got);
	CHECK_ERR(when, vm_test_check_tables(&f->e, VM_TEST_START, VM_TEST_END, 4, &seed, stderr),
		  0);
	CHECK_ERR(when, gvm_validate(f->e.vm, gpuvm_print_file, stderr), 0);
	CHECK_ERR(when, pt_validate(gvm_get_pt(f->e.vm), gpuvm_print_file, stderr), 0);
}

/* No transaction outstanding: one reference per VA, the pool holds the linked tables. */
static void expect_idle(struct fx *f, const char *when)
{
	struct xva *vas = calloc(MAX_VAS, sizeof(*vas));
	long refs[NR_OBJS] = { 0 };
	struct tables ts;
	unsigned int n;

	assert_non_null(vas);
	n = committed_vas(f, vas, MAX_VAS);
	for (unsigned int i = 0; i < n; i++)
		refs[vas[i].obj]++;
	free(vas);
	for (int i = 0; i < NR_OBJS; i++)
		CHECK_EQ(obj_specs[i].name, f->obj[i].refs, refs[i]);
	tables_take(f, &ts, false);
	CHECK_EQ(when, pt_test_pages_in_use(&f->e.pt), ts.n);
	tables_free(&ts);
}

/* ---- Allocation-failure sweeps ---- */

/**
 * struct txn_case - an array prepared against a state.
 * @state: applied first, one array per request.
 * @many: then this many small VAs at MANY_BASE (bind_many()).
 * @queued: prepared (not committed) before the array: the array queues behind it.
 * @reqs: the array.
 * @want: the VAs once everything committed, below MANY_BASE.
 * @many_stay: the @many VAs are still there at the end.
 */
struct txn_case {
	const char *name;
	struct rqs state;
	unsigned int many;
	struct rqs queued;
	struct rqs reqs;
	struct xvas want;
	bool many_stay;
};

static const struct txn_case txn_cases[] = {
	{
		.name = "fresh-maps",
		.reqs = RQS(MAP(B0, 64 * KiB, O_BIG, 0, RW),
			    MAP(B0 + 2 * MiB, 4 * MiB, O_BIG, 2 * MiB, RW),
			    MAP(B0 + 8 * MiB, 256 * KiB, O_FRAG, 0, R),
			    MAP(FAR, 16 * KiB, O_SMALL, 0, RX)),
		.want = XVAS(XVA(B0, 64 * KiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 2 * MiB, 4 * MiB, O_BIG, 2 * MiB, 0, RW),
			     XVA(B0 + 8 * MiB, 256 * KiB, O_FRAG, 0, 0, R),
			     XVA(FAR, 16 * KiB, O_SMALL, 0, 0, RX)),
	},
	{
		.name = "remap-split-both-ends",
		.state = RQS(MAP(B0, 8 * MiB, O_BIG, 0, RW), MAP(FAR, 1 * MiB, O_FRAG, 0, R)),
		.reqs = RQS(MAP(B0 + 1 * MiB, 2 * MiB, O_FRAG, 64 * KiB, RW),
			    MAP(FAR + 256 * KiB, 64 * KiB, O_BIG, 0, R)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 1 * MiB, 2 * MiB, O_FRAG, 64 * KiB, 0, RW),
			     XVA(B0 + 3 * MiB, 5 * MiB, O_BIG, 3 * MiB, 0, RW),
			     XVA(FAR, 256 * KiB, O_FRAG, 0, 0, R),
			     XVA(FAR + 256 * KiB, 64 * KiB, O_BIG, 0, 0, R),
			     XVA(FAR + 320 * KiB, 704 * KiB, O_FRAG, 320 * KiB, 0, R)),
	},
	{
		.name = "hole-punches",
		.state = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW),
			     REP(B0 + 4 * MiB, 4 * MiB, O_DUMMY, 0, PAGE, R)),
		.reqs = RQS(UNMAP(B0 + 1 * MiB, PAGE), UNMAP(B0 + 2 * MiB + 8 * KiB, 8 * KiB),
			    UNMAP(B0 + 6 * MiB, PAGE)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 1 * MiB + PAGE, 1 * MiB + PAGE, O_BIG, 1 * MiB + PAGE, 0, RW),
			     XVA(B0 + 2 * MiB + 16 * KiB, 2 * MiB - 16 * KiB, O_BIG,
				 2 * MiB + 16 * KiB, 0, RW),
			     XVA(B0 + 4 * MiB, 2 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 6 * MiB + PAGE, 2 * MiB - PAGE, O_DUMMY, 0, PAGE, R)),
	},
	{
		.name = "unmap-many",
		.state = RQS(MAP(B0, 1 * MiB, O_BIG, 0, RW)),
		.many = 40,
		.reqs = RQS(UNMAP(MANY_BASE, 40 * MANY_STRIDE),
			    UNMAP(B0 - PAGE, 1 * MiB + 2 * PAGE)),
		.want = { NULL, 0 },
	},
	{
		.name = "repeat-maps",
		.state = RQS(MAP(B0 + 16 * MiB, 2 * MiB, O_BIG, 0, RW)),
		.reqs = RQS(REP(B0, 8 * MiB, O_DUMMY, 0, PAGE, R),
			    REP(B0 + 8 * MiB, 256 * KiB, O_SMALL, 64 * KiB, 16 * KiB, RW),
			    UNMAP(B0 + 3 * MiB, PAGE),
			    REP(B0 + 15 * MiB, 2 * MiB, O_DUMMY, 0, PAGE, R)),
		.want = XVAS(XVA(B0, 3 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 3 * MiB + PAGE, 5 * MiB - PAGE, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 8 * MiB, 256 * KiB, O_SMALL, 64 * KiB, 16 * KiB, RW),
			     XVA(B0 + 15 * MiB, 2 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 17 * MiB, 1 * MiB, O_BIG, 1 * MiB, 0, RW)),
	},
	{
		.name = "mixed",
		.state = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW),
			     MAP(B0 + 4 * MiB, 1 * MiB, O_FRAG, 0, R),
			     REP(FAR, 2 * MiB, O_DUMMY, 0, PAGE, R)),
		.reqs = RQS(MAP(B0 + 1 * MiB, 1 * MiB, O_BIG, 1 * MiB, RW),
			    MAP(B0 + 3 * MiB, 2 * MiB, O_BIG, 8 * MiB, R),
			    UNMAP(FAR + 1 * MiB, PAGE),
			    REP(FAR + 4 * MiB, 64 * KiB, O_SMALL, 0, 64 * KiB, RW),
			    MAP(B0 + 8 * MiB, 512 * KiB, O_FRAG, 1 * MiB, RW)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 1 * MiB, 1 * MiB, O_BIG, 1 * MiB, 0, RW),
			     XVA(B0 + 2 * MiB, 1 * MiB, O_BIG, 2 * MiB, 0, RW),
			     XVA(B0 + 3 * MiB, 2 * MiB, O_BIG, 8 * MiB, 0, R),
			     XVA(B0 + 8 * MiB, 512 * KiB, O_FRAG, 1 * MiB, 0, RW),
			     XVA(FAR, 1 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(FAR + 1 * MiB + PAGE, 1 * MiB - PAGE, O_DUMMY, 0, PAGE, R),
			     XVA(FAR + 4 * MiB, 64 * KiB, O_SMALL, 0, 64 * KiB, RW)),
	},
	{
		/* 62 of a slab's 64 VAs are used: the array needs a new slab. */
		.name = "new-va-slab",
		.many = 62,
		.reqs = RQS(MAP(B0, 1 * MiB, O_BIG, 0, RW), UNMAP(B0 + 64 * KiB, PAGE),
			    UNMAP(B0 + 128 * KiB, PAGE), UNMAP(B0 + 192 * KiB, PAGE)),
		.want = XVAS(XVA(B0, 64 * KiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 68 * KiB, 60 * KiB, O_BIG, 68 * KiB, 0, RW),
			     XVA(B0 + 132 * KiB, 60 * KiB, O_BIG, 132 * KiB, 0, RW),
			     XVA(B0 + 196 * KiB, 1 * MiB - 196 * KiB, O_BIG, 196 * KiB, 0, RW)),
		.many_stay = true,
	},
	{
		/* A VA the same array doomed lies inside a later VA of the array. */
		.name = "doomed-inside-pending",
		.reqs = RQS(MAP(B0 + 1 * MiB, 1 * MiB, O_BIG, 0, RW),
			    REP(B0, 16 * MiB, O_DUMMY, 0, PAGE, R), UNMAP(B0 + 2 * MiB, PAGE)),
		.want = XVAS(XVA(B0, 2 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 2 * MiB + PAGE, 14 * MiB - PAGE, O_DUMMY, 0, PAGE, R)),
	},
	{
		.name = "queued-behind",
		.queued =
			RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW), REP(FAR, 4 * MiB, O_DUMMY, 0, PAGE, R)),
		.reqs = RQS(UNMAP(B0 + 1 * MiB, 1 * MiB),
			    MAP(FAR + 1 * MiB, 64 * KiB, O_FRAG, 0, RW),
			    MAP(B0 + 3 * MiB, 2 * MiB, O_BIG, 3 * MiB, RW)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 2 * MiB, 1 * MiB, O_BIG, 2 * MiB, 0, RW),
			     XVA(B0 + 3 * MiB, 2 * MiB, O_BIG, 3 * MiB, 0, RW),
			     XVA(FAR, 1 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(FAR + 1 * MiB, 64 * KiB, O_FRAG, 0, 0, RW),
			     XVA(FAR + 1 * MiB + 64 * KiB, 3 * MiB - 64 * KiB, O_DUMMY, 0, PAGE, R)),
	},
	{
		/*
		 * A is one request prepared alone (lazy: its VAs are indexed for
		 * the projection only when the array reads it), the array splits it.
		 */
		.name = "queued-behind-one-request",
		.state = RQS(MAP(B0 + 8 * MiB, 1 * MiB, O_FRAG, 0, R)),
		.queued = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW)),
		.reqs = RQS(UNMAP(B0 + 1 * MiB, 1 * MiB),
			    MAP(B0 + 3 * MiB, 2 * MiB, O_BIG, 3 * MiB, RW)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 2 * MiB, 1 * MiB, O_BIG, 2 * MiB, 0, RW),
			     XVA(B0 + 3 * MiB, 2 * MiB, O_BIG, 3 * MiB, 0, RW),
			     XVA(B0 + 8 * MiB, 1 * MiB, O_FRAG, 0, 0, R)),
	},
};

/*
 * One request bound with gvm_bind(): the lone request's own path (DOC: the
 * lone request, vm/gvm_txn.c), or gvm_bind_prepare() for more VAs than it
 * takes. Each case allocates VM memory and table pages.
 */
static const struct txn_case lone_cases[] = {
	{
		/* The spare transaction has no table-op buffer yet: the bind makes it. */
		.name = "first-map",
		.state = RQS(UNMAP(B0, 1 * MiB)),
		.reqs = RQS(MAP(B0, 64 * KiB, O_BIG, 0, RW)),
		.want = XVAS(XVA(B0, 64 * KiB, O_BIG, 0, 0, RW)),
	},
	{
		.name = "remap-split-both-ends",
		.state = RQS(MAP(B0, 8 * MiB, O_BIG, 0, RW)),
		.reqs = RQS(MAP(B0 + 1 * MiB, 2 * MiB, O_FRAG, 64 * KiB, RW)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 1 * MiB, 2 * MiB, O_FRAG, 64 * KiB, 0, RW),
			     XVA(B0 + 3 * MiB, 5 * MiB, O_BIG, 3 * MiB, 0, RW)),
	},
	{
		/*
		 * 63 of a slab's 64 VAs are used: the three new ones need a new
		 * slab. The map's one table op cuts a 2M block: a table to allocate.
		 */
		.name = "new-va-slab",
		.state = RQS(MAP(B0, 2 * MiB, O_BIG, 0, RW)),
		.many = 62,
		.reqs = RQS(MAP(B0 + 16 * KiB, 16 * KiB, O_SMALL, 0, R)),
		.want = XVAS(XVA(B0, 16 * KiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 16 * KiB, 16 * KiB, O_SMALL, 0, 0, R),
			     XVA(B0 + 32 * KiB, 2 * MiB - 32 * KiB, O_BIG, 32 * KiB, 0, RW)),
		.many_stay = true,
	},
	{
		.name = "repeat-over-pages",
		.state = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW)),
		.reqs = RQS(REP(B0 + 1 * MiB, 2 * MiB, O_DUMMY, 0, PAGE, R)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 1 * MiB, 2 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 3 * MiB, 1 * MiB, O_BIG, 3 * MiB, 0, RW)),
	},
	{
		/* Over 40 VAs: more than the lone path takes. */
		.name = "map-over-many",
		.many = 40,
		.reqs = RQS(MAP(MANY_BASE, 40 * MANY_STRIDE, O_FRAG, 0, RW)),
		.want = XVAS(XVA(MANY_BASE, 40 * MANY_STRIDE, O_FRAG, 0, 0, RW)),
	},
};

enum inject {
	INJECT_HOST,
	INJECT_PT
};

static const char *const inject_names[] = { "VM memory", "table pages and metadata" };

static uint64_t attempts(struct fx *f, enum inject k)
{
	return k == INJECT_HOST ? f->e.host_attempts : f->e.pt.attempts;
}

static void fail_at(struct fx *f, enum inject k, uint64_t at)
{
	if (k == INJECT_HOST)
		f->e.host_fail_at = at;
	else
		f->e.pt.fail_at = at;
}

/* The case's state, and its queued transaction (returned) if it has one. */
static struct gvm_txn *case_setup(struct fx *f, const struct txn_case *c)
{
	for (unsigned int i = 0; i < c->state.n; i++)
		bind_ok(f, &(struct rqs){ &c->state.v[i], 1 });
	bind_many(f, c->many);
	return c->queued.n ? prepare_ok(f, &c->queued) : NULL;
}

/*
 * Commit the queued transaction (if any) and @txn, in order (NULL: the array
 * went through gvm_bind()); check the result.
 */
static void case_finish(struct fx *f, const struct txn_case *c, struct gvm_txn *queued,
			struct gvm_txn *txn)
{
	if (queued)
		gvm_bind_commit(queued);
	if (txn)
		gvm_bind_commit(txn);
	if (queued)
		gvm_bind_cleanup(queued);
	if (txn)
		gvm_bind_cleanup(txn);
	expect_state(f, &c->want, c->many_stay ? c->many : 0, "after the commit");
	expect_idle(f, "after the cleanup");
}

/*
 * The array of @c: prepared into *@txn, or with @bind through gvm_bind()
 * (*@txn stays NULL). 0 or the error, *@failed set.
 */
static int case_run(struct fx *f, const struct txn_case *c, bool bind, struct gvm_txn **txn,
		    unsigned int *failed)
{
	struct gvm_req q[MAX_REQS];
	unsigned int nq = to_reqs(f, &c->reqs, q);

	*txn = NULL;
	*failed = ~0u;
	if (bind)
		return gvm_bind(f->e.vm, q, nq, failed);
	return gvm_bind_prepare(f->e.vm, q, nq, txn, failed);
}

/* A clean run: how many allocations of kind @k the prepare (or gvm_bind()) makes. */
static uint64_t case_dry_run(const struct txn_case *c, enum inject k, bool bind)
{
	struct fx f;
	struct gvm_txn *queued, *txn;
	unsigned int failed;
	uint64_t made;

	fx_init(&f, "%s: clean run", c->name);
	queued = case_setup(&f, c);
	made = attempts(&f, k);
	CHECK_ERR(f.ctx, case_run(&f, c, bind, &txn, &failed), 0);
	made = attempts(&f, k) - made;
	case_finish(&f, c, queued, txn);
	fx_fini(&f);
	return made;
}

/*
 * Fail the @n-th allocation of kind @k in the prepare (or gvm_bind()). Returns
 * whether it failed (then everything is as before, and the array still goes
 * through).
 */
static bool case_fail_once(const struct txn_case *c, enum inject k, bool bind, uint64_t n,
			   unsigned int *last_failed)
{
	struct fx f;
	struct gvm_req q[MAX_REQS];
	struct gvm_txn *queued, *txn = NULL;
	struct snap *before = calloc(1, sizeof(*before));
	unsigned int nq, failed = ~0u;
	int err;

	assert_non_null(before);
	fx_init(&f, "%s: %s allocation %" PRIu64 " fails%s", c->name, inject_names[k], n,
		bind ? " (gvm_bind)" : "");
	queued = case_setup(&f, c);
	nq = to_reqs(&f, &c->reqs, q);
	snap_take(&f, before, q, nq);
	fail_at(&f, k, attempts(&f, k) + n);
	err = case_run(&f, c, bind, &txn, &failed);
	fail_at(&f, k, 0);
	if (err) {
		CHECK_ERR(f.ctx, err, -ENOMEM);
		if (failed >= nq || failed < *last_failed)
			fail_msg("%s: failed index %u (array of %u, previous %u)", f.ctx, failed,
				 nq, *last_failed);
		*last_failed = failed;
		expect_unchanged(&f, before, true, "after the failed prepare");
		CHECK_ERR(f.ctx, case_run(&f, c, bind, &txn, &failed), 0);
	}
	case_finish(&f, c, queued, txn);
	tables_free(&before->tables);
	free(before);
	fx_fini(&f);
	return err != 0;
}

/* Every allocation of @c's prepare (@bind: of its gvm_bind()) fails once. */
static void sweep(const struct txn_case *c, bool bind)
{
	for (int k = INJECT_HOST; k <= INJECT_PT; k++) {
		uint64_t clean = case_dry_run(c, (enum inject)k, bind), n;
		unsigned int last_failed = 0;

		if (!clean)
			fail_msg("%s: a clean prepare made no %s allocation", c->name,
				 inject_names[k]);
		assert_true(clean < MAX_SWEEP);
		for (n = 1; n <= clean; n++)
			if (!case_fail_once(c, (enum inject)k, bind, n, &last_failed))
				fail_msg("%s: failing %s allocation %" PRIu64 " of %" PRIu64
					 " did not fail the prepare",
					 c->name, inject_names[k], n, clean);
		if (case_fail_once(c, (enum inject)k, bind, n, &last_failed))
			fail_msg("%s: allocation %" PRIu64
				 " failed; a clean prepare makes %" PRIu64,
				 c->name, n, clean);
		printf("  %s: %s: %" PRIu64 " allocations, each failed once\n", c->name,
		       inject_names[k], clean);
	}
}

static void test_sweep(void **state)
{
	sweep(*state, false);
}

static void test_sweep_lone(void **state)
{
	sweep(*state, true);
}

/* ---- Queued transactions ---- */

/**
 * struct queue_case - B prepared against A's projected result.
 * @state: committed first.
 * @a/@b: the two arrays, prepared in this order.
 * @after_a/@after_b: committed VAs after A's, then B's commit.
 */
struct queue_case {
	const char *name;
	struct rqs state, a, b;
	struct xvas after_a, after_b;
};

static const struct queue_case queue_cases[] = {
	{
		.name = "b-unmaps-part-of-a",
		.a = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW)),
		.b = RQS(UNMAP(B0 + 1 * MiB, 1 * MiB)),
		.after_a = XVAS(XVA(B0, 4 * MiB, O_BIG, 0, 0, RW)),
		.after_b = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
				XVA(B0 + 2 * MiB, 2 * MiB, O_BIG, 2 * MiB, 0, RW)),
	},
	{
		.name = "b-maps-where-a-unmaps",
		.state = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW)),
		.a = RQS(UNMAP(B0, 4 * MiB)),
		.b = RQS(MAP(B0 + 1 * MiB, 1 * MiB, O_FRAG, 0, R)),
		.after_a = { NULL, 0 },
		.after_b = XVAS(XVA(B0 + 1 * MiB, 1 * MiB, O_FRAG, 0, 0, R)),
	},
	{
		.name = "b-splits-a-va",
		.a = RQS(REP(B0, 8 * MiB, O_DUMMY, 0, PAGE, R)),
		.b = RQS(MAP(B0 + 2 * MiB, PAGE, O_BIG, 0, RW)),
		.after_a = XVAS(XVA(B0, 8 * MiB, O_DUMMY, 0, PAGE, R)),
		.after_b = XVAS(XVA(B0, 2 * MiB, O_DUMMY, 0, PAGE, R),
				XVA(B0 + 2 * MiB, PAGE, O_BIG, 0, 0, RW),
				XVA(B0 + 2 * MiB + PAGE, 6 * MiB - PAGE, O_DUMMY, 0, PAGE, R)),
	},
	{
		.name = "b-keeps-a-va",
		.a = RQS(MAP(B0, 2 * MiB, O_BIG, 0, RW)),
		.b = RQS(MAP(B0 + 1 * MiB, PAGE, O_BIG, 1 * MiB, RW)),
		.after_a = XVAS(XVA(B0, 2 * MiB, O_BIG, 0, 0, RW)),
		.after_b = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
				XVA(B0 + 1 * MiB, PAGE, O_BIG, 1 * MiB, 0, RW),
				XVA(B0 + 1 * MiB + PAGE, 1 * MiB - PAGE, O_BIG, 1 * MiB + PAGE, 0,
				    RW)),
	},
	{
		/* A dooms its own first VA, which lies inside A's second one. */
		.name = "b-over-a-doomed",
		.a = RQS(MAP(B0 + 1 * MiB, 1 * MiB, O_BIG, 0, RW),
			 REP(B0, 16 * MiB, O_DUMMY, 0, PAGE, R)),
		.b = RQS(UNMAP(B0 + 2 * MiB, PAGE)),
		.after_a = XVAS(XVA(B0, 16 * MiB, O_DUMMY, 0, PAGE, R)),
		.after_b = XVAS(XVA(B0, 2 * MiB, O_DUMMY, 0, PAGE, R),
				XVA(B0 + 2 * MiB + PAGE, 14 * MiB - PAGE, O_DUMMY, 0, PAGE, R)),
	},
	{
		.name = "b-remaps-over-a-and-committed",
		.state = RQS(MAP(B0 + 4 * MiB, 4 * MiB, O_FRAG, 0, R)),
		.a = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW), UNMAP(B0 + 5 * MiB, 1 * MiB)),
		.b = RQS(MAP(B0 + 3 * MiB, 3 * MiB, O_BIG, 8 * MiB, RW)),
		.after_a = XVAS(XVA(B0, 4 * MiB, O_BIG, 0, 0, RW),
				XVA(B0 + 4 * MiB, 1 * MiB, O_FRAG, 0, 0, R),
				XVA(B0 + 6 * MiB, 2 * MiB, O_FRAG, 2 * MiB, 0, R)),
		.after_b = XVAS(XVA(B0, 3 * MiB, O_BIG, 0, 0, RW),
				XVA(B0 + 3 * MiB, 3 * MiB, O_BIG, 8 * MiB, 0, RW),
				XVA(B0 + 6 * MiB, 2 * MiB, O_FRAG, 2 * MiB, 0, R)),
	},
};

/* A prepared, and B behind it unless @b is NULL (the state is committed already). */
static void queue_setup(struct fx *f, const struct queue_case *c, struct gvm_txn **a,
			struct gvm_txn **b)
{
	*a = prepare_ok(f, &c->a);
	if (b)
		*b = prepare_ok(f, &c->b);
}

/* Prepare A then B; nothing is committed until A commits; then B. */
static void queue_in_order(const struct queue_case *c, bool cleanup_a_early)
{
	struct fx f;
	struct gvm_txn *a, *b;
	struct xva buf[64];
	struct xvas before = { buf, 0 };

	fx_init(&f, "%s: in order%s", c->name, cleanup_a_early ? ", A cleaned up first" : "");
	bind_ok(&f, &c->state);
	before.n = committed_vas(&f, buf, ARRAY_SIZE(buf));
	queue_setup(&f, c, &a, &b);
	expect_state(&f, &before, 0, "A and B prepared");
	gvm_bind_commit(a);
	expect_state(&f, &c->after_a, 0, "A committed");
	if (cleanup_a_early)
		gvm_bind_cleanup(a);
	gvm_bind_commit(b);
	expect_state(&f, &c->after_b, 0, "B committed");
	if (!cleanup_a_early)
		gvm_bind_cleanup(a);
	gvm_bind_cleanup(b);
	expect_idle(&f, "after both cleanups");
	fx_fini(&f);
}

/* Give B up: everything is as after A's prepare; A still commits right. */
static void queue_give_up_b(const struct queue_case *c, bool a_committed)
{
	struct fx f;
	struct gvm_txn *a, *b;
	struct snap *before = calloc(1, sizeof(*before));

	assert_non_null(before);
	fx_init(&f, "%s: B given up%s", c->name, a_committed ? " after A committed" : "");
	bind_ok(&f, &c->state);
	queue_setup(&f, c, &a, NULL);
	snap_take(&f, before, NULL, 0);
	b = prepare_ok(&f, &c->b);
	if (a_committed)
		gvm_bind_commit(a);
	gvm_bind_cleanup(b);
	if (!a_committed) {
		expect_unchanged(&f, before, false, "B given up");
		gvm_bind_commit(a);
	}
	expect_state(&f, &c->after_a, 0, "A committed");
	gvm_bind_cleanup(a);
	expect_idle(&f, "after the cleanups");
	tables_free(&before->tables);
	free(before);
	fx_fini(&f);
}

/* Give A up while alone: nothing changed. */
static void queue_give_up_a(const struct queue_case *c)
{
	struct fx f;
	struct gvm_txn *a;
	struct snap *before = calloc(1, sizeof(*before));

	assert_non_null(before);
	fx_init(&f, "%s: A given up", c->name);
	bind_ok(&f, &c->state);
	snap_take(&f, before, NULL, 0);
	a = prepare_ok(&f, &c->a);
	gvm_bind_cleanup(a);
	expect_unchanged(&f, before, false, "A given up");
	expect_idle(&f, "A given up");
	tables_free(&before->tables);
	free(before);
	fx_fini(&f);
}

/*
 * B through gvm_bind() (the lone request's path) after A committed, before
 * A's cleanup: B's result, and A's cleanup does not disturb it. (A holds
 * the VM's spare transaction: an unmap of nothing through gvm_bind() first
 * leaves the VM a new one, which the lone path needs.)
 */
static void queue_lone_b(const struct queue_case *c)
{
	struct rq nothing = UNMAP(FAR + 64 * MiB, PAGE);
	struct gvm_req q[MAX_REQS], none;
	struct fx f;
	struct gvm_txn *a;
	unsigned int n;

	fx_init(&f, "%s: B through gvm_bind() before A's cleanup", c->name);
	bind_ok(&f, &c->state);
	queue_setup(&f, c, &a, NULL);
	gvm_bind_commit(a);
	none = to_req(&f, &nothing);
	CHECK_ERR(f.ctx, gvm_bind(f.e.vm, &none, 1, NULL), 0);
	n = to_reqs(&f, &c->b, q);
	CHECK_ERR(f.ctx, gvm_bind(f.e.vm, q, n, NULL), 0);
	expect_state(&f, &c->after_b, 0, "B bound");
	gvm_bind_cleanup(a);
	expect_state(&f, &c->after_b, 0, "A cleaned up");
	expect_idle(&f, "after A's cleanup");
	fx_fini(&f);
}

static void test_queue(void **state)
{
	const struct queue_case *c = *state;

	queue_lone_b(c);
	queue_in_order(c, false);
	queue_in_order(c, true);
	queue_give_up_b(c, false);
	queue_give_up_b(c, true);
	queue_give_up_a(c);
}

/* ---- Flushes and freeing ---- */

static unsigned int count_events(struct fx *f, enum pt_test_ev_type type, size_t from)
{
	unsigned int n = 0;

	for (size_t i = from; i < f->e.pt.nr_log; i++)
		n += f->e.pt.log[i].type == type;
	return n;
}

/* Commit @txn with the event log on, from a clean log. */
static void commit_logged(struct fx *f, struct gvm_txn *txn)
{
	f->e.pt.record = true;
	pt_test_log_clear(&f->e.pt);
	gvm_bind_commit(txn);
}

static void expect_flushes(struct fx *f, const struct pt_test_ev *want, unsigned int n)
{
	unsigned int flushes = 0;

	CHECK_EQ(f->ctx, count_events(f, PT_EV_FLUSH_ALL, 0), 0);
	for (size_t i = 0; i < f->e.pt.nr_log; i++) {
		const struct pt_test_ev *ev = &f->e.pt.log[i];

		if (ev->type != PT_EV_FLUSH_RANGE)
			continue;
		if (flushes == n)
			fail_msg("%s: extra flush [0x%" PRIx64 ", +0x%" PRIx64 ")", f->ctx, ev->a,
				 ev->b);
		CHECK_EQ(f->ctx, ev->a, want[flushes].a);
		CHECK_EQ(f->ctx, ev->b, want[flushes].b);
		CHECK_EQ(f->ctx, ev->leaf_only, want[flushes].leaf_only);
		flushes++;
	}
	CHECK_EQ(f->ctx, flushes, n);
}

static void test_flush_adjacent(void **state)
{
	const struct rqs reqs = RQS(MAP(B0, PAGE, O_BIG, 0, RW), MAP(B0 + PAGE, PAGE, O_FRAG, 0, R),
				    MAP(B0 + 2 * PAGE, PAGE, O_DUMMY, 0, RW),
				    MAP(B0 + 3 * PAGE, PAGE, O_SMALL, 0, RX));
	static const struct pt_test_ev want[] = { { PT_EV_FLUSH_RANGE, B0, 4 * PAGE, true } };
	struct fx f;
	struct gvm_txn *txn;

	(void)state;
	fx_init(&f, "flush-adjacent");
	txn = prepare_ok(&f, &reqs);
	commit_logged(&f, txn);
	expect_flushes(&f, want, ARRAY_SIZE(want));
	gvm_bind_cleanup(txn);
	fx_fini(&f);
}

static void test_flush_far_apart(void **state)
{
	const struct rqs reqs = RQS(MAP(B0, PAGE, O_BIG, 0, RW), MAP(FAR, 2 * PAGE, O_BIG, 0, RW));
	static const struct pt_test_ev want[] = { { PT_EV_FLUSH_RANGE, B0, PAGE, true },
						  { PT_EV_FLUSH_RANGE, FAR, 2 * PAGE, true } };
	struct fx f;
	struct gvm_txn *txn;

	(void)state;
	fx_init(&f, "flush-far-apart");
	txn = prepare_ok(&f, &reqs);
	commit_logged(&f, txn);
	expect_flushes(&f, want, ARRAY_SIZE(want));
	gvm_bind_cleanup(txn);
	fx_fini(&f);
}

/* A non-leaf flush covering the span of table @t came before index @before of the log. */
static void expect_flushed_before(struct fx *f, const struct tcopy *t, size_t before)
{
	uint64_t span = 1ull << f->geo.level_shift[t->level - 1];

	for (size_t i = 0; i < before; i++) {
		const struct pt_test_ev *ev = &f->e.pt.log[i];

		if (ev->type == PT_EV_FLUSH_ALL ||
		    (ev->type == PT_EV_FLUSH_RANGE && !ev->leaf_only && ev->a <= t->va &&
		     ev->a + ev->b >= t->va + span))
			return;
	}
	fail_msg("%s: table PA 0x%" PRIx64 " (level %u, VA 0x%" PRIx64 ") freed without a flush",
		 f->ctx, t->pa, t->level, t->va);
}

/*
 * Tables the commit unlinks are freed at cleanup - exactly those - and only
 * after a flush of their span; the commit itself frees nothing.
 */
static void test_flush_then_free(void **state)
{
	const struct rqs setup = RQS(MAP(B0, PAGE, O_BIG, 0, RW), MAP(FAR, PAGE, O_BIG, 0, RW),
				     MAP(B0 + 512 * MiB, PAGE, O_BIG, 0, RW));
	const struct rqs reqs = RQS(UNMAP(B0, PAGE), UNMAP(B0 + 512 * MiB, PAGE));
	struct fx f;
	struct gvm_txn *txn;
	struct tables before, after;
	size_t commit_end;
	unsigned int freed = 0;

	(void)state;
	fx_init(&f, "flush-then-free");
	bind_ok(&f, &setup);
	tables_take(&f, &before, false);
	txn = prepare_ok(&f, &reqs);
	commit_logged(&f, txn);
	commit_end = f.e.pt.nr_log;
	CHECK_EQ(f.ctx, count_events(&f, PT_EV_FREE, 0), 0);
	gvm_bind_cleanup(txn);
	tables_take(&f, &after, false);
	for (size_t i = commit_end; i < f.e.pt.nr_log; i++) {
		const struct pt_test_ev *ev = &f.e.pt.log[i];

		if (ev->type == PT_EV_FLUSH_RANGE || ev->type == PT_EV_FLUSH_ALL)
			fail_msg("%s: flush at cleanup, after the commit", f.ctx);
		if (ev->type != PT_EV_FREE)
			continue;
		for (size_t t = 0; t < before.n; t++)
			if (before.t[t].pa == ev->a)
				expect_flushed_before(&f, &before.t[t], commit_end);
		if (!tables_has(&before, ev->a) || tables_has(&after, ev->a))
			fail_msg("%s: freed PA 0x%" PRIx64 " is not a table the commit unlinked",
				 f.ctx, ev->a);
		freed++;
	}
	/* The level-3 and level-2 tables of each unmapped page go. */
	CHECK_EQ(f.ctx, freed, before.n - after.n);
	CHECK_EQ(f.ctx, freed, 3);
	expect_idle(&f, "after the cleanup");
	tables_free(&before);
	tables_free(&after);
	fx_fini(&f);
}

/* ---- keep ---- */

struct keep_case {
	const char *name;
	struct rqs state, reqs;
	struct xvas want;
	struct gvm_range kept;        /* must not be touched or flushed */
	struct pt_test_ev flushes[2]; /* exactly these (a zero size ends the list) */
};

static const struct keep_case keep_cases[] = {
	{
		.name = "identical-inside-a-block",
		.state = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW)),
		.reqs = RQS(MAP(B0 + 1 * MiB, 1 * MiB, O_BIG, 1 * MiB, RW)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 1 * MiB, 1 * MiB, O_BIG, 1 * MiB, 0, RW),
			     XVA(B0 + 2 * MiB, 2 * MiB, O_BIG, 2 * MiB, 0, RW)),
		.kept = { B0, B0 + 4 * MiB },
	},
	{
		.name = "identical-whole",
		.state = RQS(MAP(B0, 4 * MiB, O_FRAG, 0, RW)),
		.reqs = RQS(MAP(B0, 4 * MiB, O_FRAG, 0, RW)),
		.want = XVAS(XVA(B0, 4 * MiB, O_FRAG, 0, 0, RW)),
		.kept = { B0, B0 + 4 * MiB },
	},
	{
		.name = "identical-repeat",
		.state = RQS(REP(B0, 8 * MiB, O_DUMMY, 0, PAGE, R)),
		.reqs = RQS(REP(B0 + 2 * MiB, 2 * MiB, O_DUMMY, 0, PAGE, R)),
		.want = XVAS(XVA(B0, 2 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 2 * MiB, 2 * MiB, O_DUMMY, 0, PAGE, R),
			     XVA(B0 + 4 * MiB, 4 * MiB, O_DUMMY, 0, PAGE, R)),
		.kept = { B0, B0 + 8 * MiB },
	},
	{
		.name = "partly-kept",
		.state = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW)),
		.reqs = RQS(MAP(B0 + 3 * MiB, 2 * MiB, O_BIG, 3 * MiB, RW)),
		.want = XVAS(XVA(B0, 3 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 3 * MiB, 2 * MiB, O_BIG, 3 * MiB, 0, RW)),
		.kept = { B0, B0 + 4 * MiB },
		.flushes = { { PT_EV_FLUSH_RANGE, B0 + 4 * MiB, 1 * MiB, true } },
	},
	{
		/* Same pages, other protections: rewritten (the block is split). */
		.name = "other-prot",
		.state = RQS(MAP(B0, 4 * MiB, O_BIG, 0, RW)),
		.reqs = RQS(MAP(B0 + 1 * MiB, 1 * MiB, O_BIG, 1 * MiB, R)),
		.want = XVAS(XVA(B0, 1 * MiB, O_BIG, 0, 0, RW),
			     XVA(B0 + 1 * MiB, 1 * MiB, O_BIG, 1 * MiB, 0, R),
			     XVA(B0 + 2 * MiB, 2 * MiB, O_BIG, 2 * MiB, 0, RW)),
		.kept = { B0 + 2 * MiB, B0 + 4 * MiB },
		.flushes = { { PT_EV_FLUSH_RANGE, B0, 2 * MiB, false } },
	},
};

/* Every page of @range walks to the same descriptor as in @before. */
static void expect_kept(struct fx *f, const struct tables *before, const struct gvm_range *range)
{
	struct tables now;

	tables_take(f, &now, true);
	for (size_t i = 0; i < before->n; i++) {
		const struct tcopy *t = &before->t[i];
		uint64_t item = 1ull << f->geo.level_shift[t->level];

		for (size_t k = 0; k < t->n; k++) {
			uint64_t va = t->va + k * item;

			if (va + item <= range->start || va >= range->end)
				continue;
			if (!tables_has(&now, t->pa) || now.t[i].items[k] != t->items[k])
				fail_msg("%s: kept VA 0x%" PRIx64 ": table PA 0x%" PRIx64
					 " item %zu changed",
					 f->ctx, va, t->pa, k);
		}
	}
	tables_free(&now);
}

static void test_keep(void **state)
{
	const struct keep_case *c = *state;
	struct fx f;
	struct gvm_txn *txn;
	struct tables before;
	unsigned int nflush = 0;

	fx_init(&f, "keep %s", c->name);
	bind_ok(&f, &c->state);
	tables_take(&f, &before, true);
	txn = prepare_ok(&f, &c->reqs);
	commit_logged(&f, txn);
	while (nflush < ARRAY_SIZE(c->flushes) && c->flushes[nflush].b)
		nflush++;
	expect_flushes(&f, c->flushes, nflush);
	expect_kept(&f, &before, &c->kept);
	gvm_bind_cleanup(txn);
	expect_state(&f, &c->want, 0, "after the commit");
	expect_idle(&f, "after the cleanup");
	tables_free(&before);
	fx_fini(&f);
}

/* ---- Exact reservation, random arrays ---- */

/* 1G regions the random test works in (VM_TEST_START is below the first). */
#define REGIONS 12u
#define REGION_BASE (2 * GiB)

/*
 * A random valid request inside region @g (4K or 2M aligned; dummy repeats cut
 * anywhere); a map unless @unmaps.
 */
static struct gvm_req random_req(struct fx *f, struct rng *r, unsigned int g, bool unmaps)
{
	static const unsigned int objs[] = { O_BIG, O_BIG, O_FRAG, O_SMALL, O_DUMMY };
	uint64_t base = REGION_BASE + g * GiB + 64 * MiB * rng_below(r, 4);
	uint64_t unit = rng_below(r, 2) ? 2 * MiB : PAGE;
	uint64_t size = unit * (1 + rng_below(r, unit == PAGE ? 512 : 4));
	uint64_t va = base + unit * rng_below(r, 16 * MiB / unit);
	unsigned int o = objs[rng_below(r, ARRAY_SIZE(objs))];
	struct gvm_req q = { .type = GVM_REQ_MAP, .va = va, .prot = rng_below(r, 2) ? RW : R };

	if (unmaps && rng_below(r, 3) == 0)
		return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = va, .size = size };
	q.obj = &f->obj[o].obj;
	if (o == O_DUMMY) {
		q.repeat = PAGE;
		q.size = size;
		return q;
	}
	q.size = size < obj_specs[o].size ? size : obj_specs[o].size;
	q.offset = unit * rng_below(r, (obj_specs[o].size - q.size) / unit + 1);
	return q;
}

struct pa_set {
	uint64_t pa[1024];
	unsigned int n;
};

/* The PAs of the log's events of @type from @from on. */
static void events_pas(struct fx *f, enum pt_test_ev_type type, size_t from, struct pa_set *s)
{
	s->n = 0;
	for (size_t i = from; i < f->e.pt.nr_log; i++)
		if (f->e.pt.log[i].type == type) {
			assert_true(s->n < ARRAY_SIZE(s->pa));
			s->pa[s->n++] = f->e.pt.log[i].a;
		}
}

static bool pa_set_has(const struct pa_set *s, uint64_t pa)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->pa[i] == pa)
			return true;
	return false;
}

/*
 * Cleanup frees every table the commit unlinked; anything else it frees was
 * taken by this prepare and never stayed linked - none of that when @exact.
 */
static unsigned int expect_frees(struct fx *f, const struct tables *before,
				 const struct tables *after, const struct pa_set *taken,
				 const struct pa_set *freed, bool exact)
{
	unsigned int unlinked = 0;

	for (size_t i = 0; i < before->n; i++) {
		if (tables_has(after, before->t[i].pa))
			continue;
		if (!pa_set_has(freed, before->t[i].pa))
			fail_msg("%s: unlinked table 0x%" PRIx64 " not freed at cleanup", f->ctx,
				 before->t[i].pa);
		unlinked++;
	}
	for (unsigned int i = 0; i < freed->n; i++)
		if (!tables_has(before, freed->pa[i]) && !pa_set_has(taken, freed->pa[i]))
			fail_msg("%s: cleanup freed 0x%" PRIx64 ", neither unlinked nor reserved",
				 f->ctx, freed->pa[i]);
	if (exact)
		CHECK_EQ(f->ctx, freed->n, unlinked);
	return unlinked;
}

/* What the random arrays did, to show they did it. */
struct resv_counts {
	unsigned int arrays[2]; /* overlapping, exact */
	uint64_t taken, taken_fresh, unlinked, transient;
};

/*
 * One array: cleanup frees every table the commit unlinked (and nothing the
 * prepare did not take), the pool then holds exactly the linked tables, and
 * with @exact (no table can be unlinked) every table page taken is linked.
 */
static void resv_array(struct fx *f, const struct gvm_req *q, unsigned int n, bool exact,
		       struct resv_counts *cnt)
{
	unsigned int unlinked;
	struct tables before, after;
	struct pa_set taken, freed;
	struct gvm_txn *txn = NULL;
	unsigned int failed;
	size_t mark;

	tables_take(f, &before, false);
	f->e.pt.record = true;
	pt_test_log_clear(&f->e.pt);
	CHECK_ERR(f->ctx, gvm_bind_prepare(f->e.vm, q, n, &txn, &failed), 0);
	events_pas(f, PT_EV_ALLOC, 0, &taken);
	CHECK_EQ(f->ctx, pt_test_pages_in_use(&f->e.pt), before.n + taken.n);
	gvm_bind_commit(txn);
	tables_take(f, &after, false);
	for (unsigned int i = 0; exact && i < taken.n; i++)
		if (!tables_has(&after, taken.pa[i]))
			fail_msg("%s: table page 0x%" PRIx64 " reserved but not linked", f->ctx,
				 taken.pa[i]);
	mark = f->e.pt.nr_log;
	gvm_bind_cleanup(txn);
	events_pas(f, PT_EV_FREE, mark, &freed);
	unlinked = expect_frees(f, &before, &after, &taken, &freed, exact);
	CHECK_EQ(f->ctx, pt_test_pages_in_use(&f->e.pt), after.n);
	cnt->arrays[exact]++;
	cnt->taken += taken.n;
	cnt->taken_fresh += exact ? taken.n : 0;
	cnt->unlinked += unlinked;
	cnt->transient += freed.n - unlinked;
	f->e.pt.record = false;
	tables_free(&before);
	tables_free(&after);
}

/*
 * A map of free VA space in region @g, to exercise exactness: with no unmap,
 * no table can be unlinked, so every table reserved must end up linked. (An
 * unmap may split a block that a keep left spanning several VAs into a table
 * that the same request's map then drops: legitimately reserved, but unlinked.)
 */
static bool fresh_map(struct fx *f, struct rng *r, unsigned int g, struct gvm_req *q)
{
	for (unsigned int tries = 0; tries < 32; tries++) {
		*q = random_req(f, r, g, false);
		if (!gvm_va_first(f->e.vm, q->va, q->va + q->size))
			return true;
	}
	return false;
}

static void resv_round(struct fx *f, struct rng *r, unsigned int round, struct resv_counts *cnt)
{
	struct gvm_req q[MAX_REQS];
	unsigned int n = 1 + (unsigned int)rng_below(r, MAX_REQS),
		     first = (unsigned int)rng_below(r, REGIONS);
	bool exact = rng_below(r, 2) != 0;
	uint64_t seed = round + 1;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int g = first + (unsigned int)rng_below(r, 2);

		if (exact)
			exact = fresh_map(f, r, (first + i) % REGIONS, &q[i]);
		if (!exact)
			q[i] = random_req(f, r, g, true);
	}
	snprintf(f->ctx, sizeof(f->ctx),
		 "resv-random round %u (%s, %u requests); replay with: --seed %" PRIu64
		 " --count %u",
		 round, exact ? "fresh maps" : "mixed", n, opt_seed, round + 1);
	resv_array(f, q, n, exact, cnt);
	CHECK_ERR(f->ctx, vm_test_check_tables(&f->e, VM_TEST_START, VM_TEST_END, 2, &seed, stderr),
		  0);
	CHECK_ERR(f->ctx, gvm_validate(f->e.vm, gpuvm_print_file, stderr), 0);
	CHECK_ERR(f->ctx, pt_validate(gvm_get_pt(f->e.vm), gpuvm_print_file, stderr), 0);
}

static void test_resv_random(void **state)
{
	struct resv_counts cnt = { { 0 } };
	struct rng r = { opt_seed };
	struct fx f;

	(void)state;
	fx_init(&f, "resv-random");
	for (unsigned int round = 0; round < opt_count; round++)
		resv_round(&f, &r, round, &cnt);
	printf("  %u arrays of fresh maps (%" PRIu64
	       " tables reserved, all linked), %u mixed: %" PRIu64 " tables reserved, %" PRIu64
	       " unlinked, %" PRIu64 " used transiently\n",
	       cnt.arrays[1], cnt.taken_fresh, cnt.arrays[0], cnt.taken - cnt.taken_fresh,
	       cnt.unlinked, cnt.transient);
	if (opt_count >= 100 && (!cnt.arrays[0] || !cnt.arrays[1] || !cnt.taken_fresh ||
				 !cnt.unlinked || !cnt.transient))
		fail_msg("resv-random did not reserve, link and unlink tables");
	expect_idle(&f, "resv-random: the end");
	fx_fini(&f);
}

/* ---- The identity backend ---- */

#define ID_BASE (256 * MiB)

struct identity_case {
	const char *name;
	struct rq req; /* objects: O_BIG at PA ID_BASE, O_FRAG at PA ID_BASE (fragmented) */
	int want;
};

static const struct identity_case identity_cases[] = {
	{ "map-at-pa", MAP(ID_BASE, 1 * MiB, O_BIG, 0, RW), 0 },
	{ "map-at-pa-offset", MAP(ID_BASE + 64 * KiB, 64 * KiB, O_BIG, 64 * KiB, RW), 0 },
	{ "map-elsewhere", MAP(ID_BASE + PAGE, 1 * MiB, O_BIG, 0, RW), -EINVAL },
	{ "map-other-offset", MAP(ID_BASE, PAGE, O_BIG, PAGE, RW), -EINVAL },
	{ "map-fragmented", MAP(ID_BASE, 128 * KiB, O_FRAG, 0, RW), -EINVAL },
	{ "map-one-fragment", MAP(ID_BASE, 64 * KiB, O_FRAG, 0, RW), 0 },
	{ "repeat", REP(ID_BASE, 4 * PAGE, O_BIG, 0, PAGE, RW), -EINVAL },
	{ "repeat-one-period", REP(ID_BASE, PAGE, O_BIG, 0, PAGE, RW), -EINVAL },
	{ "unmap-nothing", UNMAP(ID_BASE, 1 * MiB), 0 },
};

struct identity_fx {
	struct gvm *vm;
	struct vm_test_obj obj[NR_OBJS];
};

/* A VM over the test range with backend @b (its configuration: none). */
static int create_with(const struct gvm_backend_ops *b, struct gvm **vm)
{
	struct gvm_cfg cfg = {
		.start = VM_TEST_START, .end = VM_TEST_END, .page_lg2 = 12, .backend = b
	};

	return gvm_create(&cfg, vm);
}

static void identity_init(struct identity_fx *x)
{
	CHECK_ERR("identity gvm_create", create_with(&gvm_backend_identity, &x->vm), 0);
	assert_null(gvm_get_pt(x->vm));
	vm_test_obj_init(&x->obj[O_BIG], 16 * MiB, ID_BASE, 0);
	vm_test_obj_init(&x->obj[O_FRAG], 4 * MiB, ID_BASE, 64 * KiB);
}

static void identity_fini(struct identity_fx *x)
{
	gvm_destroy(x->vm);
	CHECK_EQ("big refs", x->obj[O_BIG].refs, 0);
	CHECK_EQ("frag refs", x->obj[O_FRAG].refs, 0);
	vm_test_obj_fini(&x->obj[O_BIG]);
	vm_test_obj_fini(&x->obj[O_FRAG]);
}

static struct gvm_req identity_req(struct identity_fx *x, const struct rq *q)
{
	return (struct gvm_req){ .type = q->type,
				 .va = q->va,
				 .size = q->size,
				 .obj = q->obj >= 0 ? &x->obj[q->obj].obj : NULL,
				 .offset = q->offset,
				 .repeat = q->repeat,
				 .prot = q->prot };
}

static unsigned int count_vas(struct gvm *vm)
{
	unsigned int n = 0;

	for (struct gvm_va *va = gvm_va_first(vm, VM_TEST_START, VM_TEST_END); va;
	     va = gvm_va_next(vm, va, VM_TEST_END))
		n++;
	return n;
}

static void test_identity(void **state)
{
	const struct identity_case *c = *state;
	struct identity_fx x;
	struct gvm_req q;
	unsigned int failed = ~0u;
	int err;

	identity_init(&x);
	q = identity_req(&x, &c->req);
	err = gvm_bind(x.vm, &q, 1, &failed);
	CHECK_ERR(c->name, err, c->want);
	CHECK_EQ(c->name, count_vas(x.vm), q.type == GVM_REQ_MAP && !err);
	if (!err && q.type == GVM_REQ_MAP) {
		struct gvm_va *va = gvm_va_find(x.vm, q.va);

		assert_non_null(va);
		CHECK_EQ(c->name, va->size, q.size);
		CHECK_EQ(c->name, x.obj[c->req.obj].refs, 1);
		/* Unmap half, then the rest. */
		q = (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = q.va, .size = q.size / 2 };
		CHECK_ERR(c->name, gvm_bind(x.vm, &q, 1, &failed), 0);
		CHECK_EQ(c->name, count_vas(x.vm), 1);
		q.va += q.size;
		CHECK_ERR(c->name, gvm_bind(x.vm, &q, 1, &failed), 0);
		CHECK_EQ(c->name, count_vas(x.vm), 0);
	}
	CHECK_ERR(c->name, gvm_validate(x.vm, gpuvm_print_file, stderr), 0);
	identity_fini(&x);
}

/* ---- gvm_create(), gvm_destroy(), stats ---- */

enum bad_member {
	BAD_NONE,
	BAD_CREATE,
	BAD_DESTROY,
	BAD_ATTACH,
	BAD_DETACH,
	BAD_RESERVE,
	BAD_COMMIT_BEGIN,
	BAD_COMMIT,
	BAD_COMMIT_END,
	BAD_UNRESERVE
};

struct create_case {
	const char *name;
	uint64_t start, end;
	unsigned int page_lg2;
	struct gvm_range reserved[2];
	unsigned int nr_reserved;
	enum bad_member missing;
	bool no_backend, no_backend_cfg, bad_host;
	int want;
	unsigned int granule_lg2; /* of the tables; 0: 12 */
};

#define S VM_TEST_START
#define E VM_TEST_END

static const struct create_case create_cases[] = {
	{ "good",
	  S,
	  E,
	  12,
	  { { S, S + 1 * MiB }, { E - 1 * MiB, E } },
	  2,
	  BAD_NONE,
	  false,
	  false,
	  false,
	  0 },
	{ "empty-range", S, S, 12, { { 0 } }, 0, BAD_NONE, false, false, false, -EINVAL },
	{ "reversed-range", E, S, 12, { { 0 } }, 0, BAD_NONE, false, false, false, -EINVAL },
	{ "start-misaligned", S + 0x800, E, 12, { { 0 } }, 0, BAD_NONE, false, false, false, -EINVAL },
	{ "end-misaligned", S, E - 0x10, 12, { { 0 } }, 0, BAD_NONE, false, false, false, -EINVAL },
	{ "page-too-small", S, E, 11, { { 0 } }, 0, BAD_NONE, false, false, false, -EINVAL },
	{ "page-too-big", S, E, 17, { { 0 } }, 0, BAD_NONE, false, false, false, -EINVAL },
	{ "reserved-overlapping",
	  S,
	  E,
	  12,
	  { { S, S + 2 * MiB }, { S + 1 * MiB, S + 3 * MiB } },
	  2,
	  BAD_NONE,
	  false,
	  false,
	  false,
	  -EINVAL },
	{ "reserved-same",
	  S,
	  E,
	  12,
	  { { S, S + 2 * MiB }, { S, S + 2 * MiB } },
	  2,
	  BAD_NONE,
	  false,
	  false,
	  false,
	  -EINVAL },
	{ "reserved-below",
	  S,
	  E,
	  12,
	  { { S - 1 * MiB, S + 1 * MiB } },
	  1,
	  BAD_NONE,
	  false,
	  false,
	  false,
	  -EINVAL },
	{ "reserved-above",
	  S,
	  E,
	  12,
	  { { E - 1 * MiB, E + PAGE } },
	  1,
	  BAD_NONE,
	  false,
	  false,
	  false,
	  -EINVAL },
	{ "reserved-empty",
	  S,
	  E,
	  12,
	  { { S + 1 * MiB, S + 1 * MiB } },
	  1,
	  BAD_NONE,
	  false,
	  false,
	  false,
	  -EINVAL },
	{ "reserved-misaligned",
	  S,
	  E,
	  12,
	  { { S + 0x100, S + 1 * MiB } },
	  1,
	  BAD_NONE,
	  false,
	  false,
	  false,
	  -EINVAL },
	{ "no-backend", S, E, 12, { { 0 } }, 0, BAD_NONE, true, false, false, -EINVAL },
	{ "no-backend-cfg", S, E, 12, { { 0 } }, 0, BAD_NONE, false, true, false, -EINVAL },
	{ "host-without-zalloc", S, E, 12, { { 0 } }, 0, BAD_NONE, false, false, true, -EINVAL },
	{ "no-create", S, E, 12, { { 0 } }, 0, BAD_CREATE, false, false, false, -EINVAL },
	{ "no-destroy", S, E, 12, { { 0 } }, 0, BAD_DESTROY, false, false, false, -EINVAL },
	{ "no-attach", S, E, 12, { { 0 } }, 0, BAD_ATTACH, false, false, false, -EINVAL },
	{ "no-detach", S, E, 12, { { 0 } }, 0, BAD_DETACH, false, false, false, -EINVAL },
	{ "no-reserve", S, E, 12, { { 0 } }, 0, BAD_RESERVE, false, false, false, -EINVAL },
	{ "no-commit-begin", S, E, 12, { { 0 } }, 0, BAD_COMMIT_BEGIN, false, false, false, -EINVAL },
	{ "no-commit", S, E, 12, { { 0 } }, 0, BAD_COMMIT, false, false, false, -EINVAL },
	{ "no-commit-end", S, E, 12, { { 0 } }, 0, BAD_COMMIT_END, false, false, false, -EINVAL },
	{ "no-unreserve", S, E, 12, { { 0 } }, 0, BAD_UNRESERVE, false, false, false, -EINVAL },
	/* The range against the tables' 48-bit input size: binds past it would be -ERANGE. */
	{ .name = "end-at-ias", .start = S, .end = 1ull << 48, .page_lg2 = 12, .want = 0 },
	{ .name = "end-past-ias",
	  .start = S,
	  .end = (1ull << 48) + PAGE,
	  .page_lg2 = 12,
	  .want = -EINVAL },
	{ .name = "range-past-ias",
	  .start = 1ull << 48,
	  .end = 1ull << 49,
	  .page_lg2 = 12,
	  .want = -EINVAL },
	/* Pages against the granule: a 4K request cannot be mapped with 64K tables. */
	{ .name = "page-below-granule",
	  .start = S,
	  .end = E,
	  .page_lg2 = 12,
	  .granule_lg2 = 16,
	  .want = -EINVAL },
	{ .name = "page-at-granule", .start = S, .end = E, .page_lg2 = 16, .granule_lg2 = 16 },
	{ .name = "page-above-granule", .start = S, .end = E, .page_lg2 = 16, .granule_lg2 = 12 },
};

#undef S
#undef E

static void drop_member(struct gvm_backend_ops *b, enum bad_member m)
{
	switch (m) {
	case BAD_NONE:
		break;
	case BAD_CREATE:
		b->create = NULL;
		break;
	case BAD_DESTROY:
		b->destroy = NULL;
		break;
	case BAD_ATTACH:
		b->attach = NULL;
		break;
	case BAD_DETACH:
		b->detach = NULL;
		break;
	case BAD_RESERVE:
		b->reserve = NULL;
		break;
	case BAD_COMMIT_BEGIN:
		b->commit_begin = NULL;
		break;
	case BAD_COMMIT:
		b->commit = NULL;
		break;
	case BAD_COMMIT_END:
		b->commit_end = NULL;
		break;
	case BAD_UNRESERVE:
		b->unreserve = NULL;
		break;
	}
}

static void host_free_only(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static void test_create(void **state)
{
	const struct create_case *c = *state;
	static const struct pt_host_ops half_host = { .free = host_free_only };
	struct gvm_backend_ops backend = gvm_backend_paging;
	struct pt_test_env env;
	struct gvm_cfg cfg;
	struct gvm *vm = (struct gvm *)&cfg; /* must stay untouched on failure */
	int err;

	pt_test_env_init(&env, PT_FMT_MALI_AARCH64, c->granule_lg2 ? c->granule_lg2 : 12, 48, 40,
			 true);
	drop_member(&backend, c->missing);
	cfg = (struct gvm_cfg){ .start = c->start,
				.end = c->end,
				.page_lg2 = c->page_lg2,
				.reserved = c->reserved,
				.nr_reserved = c->nr_reserved,
				.backend = c->no_backend ? NULL : &backend,
				.backend_cfg = c->no_backend_cfg ? NULL : &env.cfg,
				.host = c->bad_host ? &half_host : NULL };
	err = gvm_create(&cfg, &vm);
	CHECK_ERR(c->name, err, c->want);
	if (err)
		assert_ptr_equal(vm, (struct gvm *)&cfg);
	else
		gvm_destroy(vm);
	CHECK_EQ(c->name, pt_test_pages_in_use(&env), 0);
	pt_test_env_fini(&env);
}

/* Reserved ranges are refused to requests, and gvm_destroy() unmaps around them. */
static void test_destroy(void **state)
{
	static const struct gvm_range rsv[] = { { B0 + 2 * MiB, B0 + 4 * MiB } };
	struct fx f;
	struct gvm_req q[2];
	unsigned int failed = ~0u;

	(void)state;
	memset(&f, 0, sizeof(f));
	snprintf(f.ctx, sizeof(f.ctx), "destroy");
	vm_test_init(&f.e, rsv, ARRAY_SIZE(rsv));
	for (int i = 0; i < NR_OBJS; i++)
		vm_test_obj_init(&f.obj[i], obj_specs[i].size, obj_specs[i].pa, obj_specs[i].frag);
	pt_get_geometry(gvm_get_pt(f.e.vm), &f.geo);
	q[0] = (struct gvm_req){
		.type = GVM_REQ_MAP, .va = B0, .size = 2 * MiB, .obj = &f.obj[O_BIG].obj, .prot = RW
	};
	q[1] = (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = B0 + 4 * MiB,
				 .size = 8 * MiB,
				 .obj = &f.obj[O_DUMMY].obj,
				 .repeat = PAGE,
				 .prot = R };
	CHECK_ERR(f.ctx, gvm_bind(f.e.vm, q, 2, &failed), 0);
	q[0].size = 4 * MiB; /* touches the reserved range */
	CHECK_ERR(f.ctx, gvm_bind(f.e.vm, &q[1], 1, &failed), 0);
	CHECK_ERR(f.ctx, gvm_bind(f.e.vm, q, 2, &failed), -EINVAL);
	CHECK_EQ(f.ctx, failed, 0);
	/* 100 separate VAs: more than one teardown array. */
	bind_many(&f, 100);
	CHECK_EQ(f.ctx, f.obj[O_BIG].refs, 101);
	CHECK_EQ(f.ctx, f.obj[O_DUMMY].refs, 1);
	fx_fini(&f); /* destroys: every reference dropped, all memory freed */
}

/* @n adjacent VAs of a page each above the bind_many() ones: one teardown run. */
#define RUN_BASE (MANY_BASE + 1 * GiB)

static void bind_run(struct fx *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct rq q = MAP(RUN_BASE + i * PAGE, PAGE, O_SMALL, (i % 64) * PAGE, R);

		bind_ok(f, &(struct rqs){ &q, 1 });
	}
}

/*
 * Teardowns: a few VAs (one array), and 33 separate VAs then a run of 96 (the
 * second array needs more memory than the first).
 */
struct destroy_case {
	unsigned int singles, run;
};

static const struct destroy_case destroy_cases[] = { { 8, 0 }, { 33, 96 } };

/*
 * gvm_destroy() allocates nothing and cannot fail: with every allocation of
 * both kinds failing it makes no attempt, and frees every table, VA and
 * reference (fx_fini() checks that all is gone).
 */
static void destroy_no_alloc(const struct destroy_case *c)
{
	struct fx f;
	uint64_t host, pt;

	fx_init(&f, "destroy %u + %u VAs with every allocation failing", c->singles, c->run);
	bind_many(&f, c->singles);
	bind_run(&f, c->run);
	host = attempts(&f, INJECT_HOST);
	pt = attempts(&f, INJECT_PT);
	fail_at(&f, INJECT_HOST, host + 1);
	fail_at(&f, INJECT_PT, pt + 1);
	gvm_destroy(f.e.vm);
	f.e.vm = NULL; /* fx_fini() destroys NULL: a no-op */
	CHECK_EQ(f.ctx, attempts(&f, INJECT_HOST), host);
	CHECK_EQ(f.ctx, attempts(&f, INJECT_PT), pt);
	fail_at(&f, INJECT_HOST, 0);
	fail_at(&f, INJECT_PT, 0);
	fx_fini(&f);
}

/* Teardowns of a few VAs and of many, none of which may allocate. */
static void test_destroy_enomem(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(destroy_cases); i++)
		destroy_no_alloc(&destroy_cases[i]);
}

static void test_stats(void **state)
{
	struct fx f;
	struct gvm_stats st;

	(void)state;
	fx_init(&f, "stats");
	gvm_get_stats(f.e.vm, &st);
	CHECK_EQ(f.ctx, st.vas, 0);
	CHECK_EQ(f.ctx, st.bos, 0);
	bind_many(&f, 70);
	gvm_get_stats(f.e.vm, &st);
	CHECK_EQ(f.ctx, st.vas, 70);
	CHECK_EQ(f.ctx, st.bos, 1);
	printf("  %zu bytes per VA, %" PRIu64 " bytes of VA memory for 70 VAs\n", st.bytes_per_va,
	       st.va_bytes);
	if (st.bytes_per_va > 128 || st.bytes_per_va < sizeof(uint64_t) * 4)
		fail_msg("bytes_per_va %zu, want 32..128", st.bytes_per_va);
	if (st.va_bytes < 70 * st.bytes_per_va)
		fail_msg("va_bytes %" PRIu64 " < 70 VAs of %zu", st.va_bytes, st.bytes_per_va);
	fx_fini(&f);
}

/*
 * A map over each of many VAs (another offset: nothing kept) takes the old
 * VA's slot in the committed tree, unless the order of the keys forbids it
 * (then it is an erase and an insert). Either way the tree stays valid and
 * the new VA, and its pages, are where they belong. Every other one is bound
 * with gvm_bind() (the lone request's path), the others prepared.
 */
static void test_replace_in_place(void **state)
{
	const unsigned int n = 1000;
	struct gvm_stats st;
	struct fx f;

	(void)state;
	fx_init(&f, "replace-in-place");
	bind_many(&f, n);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t va = MANY_BASE + i * MANY_STRIDE, off = ((i + 1) % n) * MANY_SIZE;
		struct rq q = MAP(va, MANY_SIZE, O_BIG, off, RW);
		struct pt_walk_result w;
		const struct gvm_va *got;

		if (i & 1) { /* the lone request's path */
			struct gvm_req req = to_req(&f, &q);

			CHECK_ERR(f.ctx, gvm_bind(f.e.vm, &req, 1, NULL), 0);
		} else {
			bind_ok(&f, &(struct rqs){ &q, 1 });
		}
		CHECK_ERR(f.ctx, gvm_validate(f.e.vm, gpuvm_print_file, stderr), 0);
		got = gvm_va_find(f.e.vm, va + MANY_SIZE - 1);
		if (!got || got->va != va || got->offset != off)
			fail_msg("%s: VA %u is not the replacement", f.ctx, i);
		CHECK_ERR(f.ctx, pt_walk(gvm_get_pt(f.e.vm), va, &w), 0);
		CHECK_EQ(f.ctx, w.pa, obj_specs[O_BIG].pa + off);
	}
	gvm_get_stats(f.e.vm, &st);
	CHECK_EQ(f.ctx, st.vas, n);
	CHECK_EQ(f.ctx, st.replacements, n);
	printf("  %" PRIu64 " of %u replacements in place\n", st.replaced_in_place, n);
	/* Which ones cannot go in place depends on VA addresses: test-btree covers those. */
	if (st.replaced_in_place < n / 2)
		fail_msg("%s: only %" PRIu64 " in place", f.ctx, st.replaced_in_place);
	fx_fini(&f);
}

/* ---- Table ops: a request's unmaps joined, a map over them one replace ---- */

#define MAX_ROPS 8u

/*
 * The paging backend again, over pgtable's public calls, with the table ops
 * reserved recorded (the real one's page table is not ours to reach).
 */
static struct rec_backend {
	struct pt *pt;
	struct pt_op op[MAX_ROPS];
	unsigned int n;
} rec;

static int rec_create(const void *cfg, void **priv)
{
	*priv = &rec;
	return pt_create(cfg, &rec.pt);
}

static void rec_destroy(void *priv)
{
	(void)priv;
	pt_destroy(rec.pt);
}

static int rec_attach(void *priv, unsigned int slot)
{
	(void)priv;
	(void)slot;
	return 0;
}

static void rec_detach(void *priv)
{
	(void)priv;
}

static int rec_reserve(void *priv, void *resv, const struct pt_op *op)
{
	int err = pt_reserve(rec.pt, op, resv);

	(void)priv;
	if (!err && rec.n < MAX_ROPS)
		rec.op[rec.n++] = *op;
	return err;
}

static void rec_commit_begin(void *priv, void *resv)
{
	(void)priv;
	pt_commit_begin(rec.pt, resv);
}

static void rec_commit(void *priv, void *resv, const struct pt_op *op)
{
	(void)priv;
	pt_commit(rec.pt, resv, op, NULL);
}

static void rec_commit_end(void *priv, void *resv)
{
	(void)priv;
	pt_commit_end(rec.pt, resv);
}

static void rec_unreserve(void *priv, void *resv)
{
	(void)priv;
	pt_unreserve(rec.pt, resv);
}

static const struct gvm_backend_ops rec_backend_ops = {
	.name = "recording",
	.create = rec_create,
	.destroy = rec_destroy,
	.attach = rec_attach,
	.detach = rec_detach,
	.resv_size = sizeof(struct pt_resv),
	.reserve = rec_reserve,
	.commit_begin = rec_commit_begin,
	.commit = rec_commit,
	.commit_end = rec_commit_end,
	.unreserve = rec_unreserve,
};

/* One request and the table ops it must reserve (size 0 ends the list). */
struct ops_case {
	const char *name;
	struct rq req;
	struct pt_op want[3];
};

#define TOP(t, v, s, p)                                                              \
	{                                                                            \
		.type = (t), .va = (v), .size = (s), .pa = (p), .prot = (p) ? RW : 0 \
	}

/*
 * VAs at B0 + [0, 16K) (big at 0), [32K, 48K) (small at 0), [64K, 80K) (big
 * at 1M); at B0 + 1M + [0, 64K) (big at 0) and [128K, 144K) (small at 0); at
 * B0 + 2M + [0, 16K) and [96K, 112K) (big at 0).
 */
static const struct rq ops_setup[] = {
	MAP(B0, 16 * KiB, O_BIG, 0, RW),
	MAP(B0 + 32 * KiB, 16 * KiB, O_SMALL, 0, RW),
	MAP(B0 + 64 * KiB, 16 * KiB, O_BIG, 1 * MiB, RW),
	MAP(B0 + 1 * MiB, 64 * KiB, O_BIG, 0, RW),
	MAP(B0 + 1 * MiB + 128 * KiB, 16 * KiB, O_SMALL, 0, RW),
	MAP(B0 + 2 * MiB, 16 * KiB, O_BIG, 0, RW),
	MAP(B0 + 2 * MiB + 96 * KiB, 16 * KiB, O_BIG, 0, RW),
};

static const struct ops_case ops_cases[] = {
	/* Cuts the first VA's end, dooms the second, cuts the third's start: one replace. */
	{ "map-over-three",
	  MAP(B0 + 8 * KiB, 64 * KiB, O_BIG, 2 * MiB, RW),
	  { TOP(PT_OP_REPLACE, B0 + 8 * KiB, 64 * KiB, 4 * GiB + 2 * MiB) } },
	/* The first part's unmap goes to the request's end. */
	{ "unmap-over-three",
	  UNMAP(B0 + 4 * KiB, 96 * KiB),
	  { TOP(PT_OP_UNMAP, B0 + 4 * KiB, 96 * KiB, 0) } },
	/* The first VA stays (keep); the map after it covers the other's unmap. */
	{ "map-over-kept-and-one",
	  MAP(B0 + 1 * MiB, 192 * KiB, O_BIG, 0, RW),
	  { TOP(PT_OP_REPLACE, B0 + 1 * MiB + 64 * KiB, 128 * KiB, 4 * GiB + 64 * KiB) } },
	/* Two physical runs: the first does not cover the unmap, which goes first. */
	{ "map-fragmented-over-two",
	  MAP(B0 + 2 * MiB, 128 * KiB, O_FRAG, 0, RW),
	  { TOP(PT_OP_UNMAP, B0 + 2 * MiB, 112 * KiB, 0),
	    TOP(PT_OP_MAP, B0 + 2 * MiB, 64 * KiB, 6 * GiB),
	    TOP(PT_OP_MAP, B0 + 2 * MiB + 64 * KiB, 64 * KiB, 6 * GiB + 128 * KiB) } },
};

/* Every page of [B0, B0 + 3M) translates as the VA tree of @vm says, or not at all. */
static void check_rec_tables(struct gvm *vm, const char *name)
{
	for (uint64_t a = B0; a < B0 + 3 * MiB; a += PAGE) {
		const struct gvm_va *va = gvm_va_find(vm, a);
		struct pt_walk_result w;
		int err = pt_walk(rec.pt, a, &w);

		CHECK_ERR(name, err, va ? 0 : -ENOENT);
		if (va && w.pa != vm_test_expected_pa(va, a))
			fail_msg("%s: 0x%" PRIx64 " at 0x%" PRIx64 ", want 0x%" PRIx64, name, a,
				 w.pa, vm_test_expected_pa(va, a));
	}
	CHECK_ERR(name, pt_validate(rec.pt, gpuvm_print_file, stderr), 0);
}

static void bind_rec(struct fx *f, struct gvm *vm, const struct rq *q)
{
	struct gvm_req r = to_req(f, q);
	unsigned int failed = ~0u;

	rec.n = 0;
	CHECK_ERR(f->ctx, gvm_bind(vm, &r, 1, &failed), 0);
}

/*
 * A request's table ops (struct prep in gvm_txn.c): the unmaps of the VAs it
 * cuts joined into one, made one replace by a map that covers them; the
 * tables translate what the VA tree says after each.
 */
static void test_table_ops(void **state)
{
	struct gvm_cfg cfg = { .start = VM_TEST_START,
			       .end = VM_TEST_END,
			       .page_lg2 = 12,
			       .backend = &rec_backend_ops };
	struct gvm *vm;
	struct fx f;

	(void)state;
	fx_init(&f, "table-ops");
	cfg.backend_cfg = &f.e.pt.cfg;
	CHECK_ERR(f.ctx, gvm_create(&cfg, &vm), 0);
	for (size_t i = 0; i < ARRAY_SIZE(ops_setup); i++)
		bind_rec(&f, vm, &ops_setup[i]);
	for (size_t i = 0; i < ARRAY_SIZE(ops_cases); i++) {
		const struct ops_case *c = &ops_cases[i];
		unsigned int n = 0;

		bind_rec(&f, vm, &c->req);
		while (n < ARRAY_SIZE(c->want) && c->want[n].size)
			n++;
		CHECK_EQ(c->name, rec.n, n);
		for (unsigned int k = 0; k < n && k < rec.n; k++) {
			CHECK_EQ(c->name, rec.op[k].type, c->want[k].type);
			CHECK_EQ(c->name, rec.op[k].va, c->want[k].va);
			CHECK_EQ(c->name, rec.op[k].size, c->want[k].size);
			CHECK_EQ(c->name, rec.op[k].pa, c->want[k].pa);
		}
		check_rec_tables(vm, c->name);
	}
	gvm_destroy(vm);
	fx_fini(&f);
}

/* The identity backend takes a replace like a map: a map over part of a VA, at PA == VA. */
static void test_identity_replace(void **state)
{
	struct rq over = MAP(ID_BASE, 64 * KiB, O_FRAG, 0, RW);
	struct rq first = MAP(ID_BASE, 1 * MiB, O_BIG, 0, RW);
	struct identity_fx x;
	struct gvm_req q;
	unsigned int failed = ~0u;

	(void)state;
	identity_init(&x);
	q = identity_req(&x, &first);
	CHECK_ERR("identity replace: first", gvm_bind(x.vm, &q, 1, &failed), 0);
	q = identity_req(&x, &over);
	CHECK_ERR("identity replace: over", gvm_bind(x.vm, &q, 1, &failed), 0);
	CHECK_EQ("identity replace", count_vas(x.vm), 2);
	CHECK_EQ("identity replace", gvm_va_find(x.vm, ID_BASE)->bo->obj, &x.obj[O_FRAG].obj);
	q = (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = ID_BASE, .size = 1 * MiB };
	CHECK_ERR("identity replace: unmap", gvm_bind(x.vm, &q, 1, &failed), 0);
	identity_fini(&x);
}

/*
 * The backend members that write go together (struct gvm_backend_ops): all
 * four, or none with nothing held between binds (the identity backend).
 * A backend whose unreserve leaves its reservation dirty has it cleared by gvm
 * unless it says unreserve_zeroes: "dirty" counts transactions that began on
 * bytes their backend did not write.
 */
#define DIRTY_MAGIC 0x5e5e5e5eu

struct dirty_resv {
	uint32_t magic; /* DIRTY_MAGIC once this transaction's first op reserved */
	uint32_t ops;
	uint64_t pad;
};

static struct {
	unsigned int dirty, begins, commits, ends, unreserves;
} dirty;

static int dirty_reserve(void *priv, void *resv, const struct pt_op *op)
{
	static const struct dirty_resv zero;
	struct dirty_resv *r = resv;

	if (r->magic != DIRTY_MAGIC && memcmp(r, &zero, sizeof(zero)))
		dirty.dirty++;
	r->magic = DIRTY_MAGIC;
	r->ops++;
	return gvm_backend_identity.reserve(priv, NULL, op);
}

static void dirty_commit_begin(void *priv, void *resv)
{
	(void)priv;
	(void)resv;
	dirty.begins++;
}

static void dirty_commit(void *priv, void *resv, const struct pt_op *op)
{
	(void)priv;
	(void)op;
	dirty.commits += ((struct dirty_resv *)resv)->magic == DIRTY_MAGIC;
}

static void dirty_commit_end(void *priv, void *resv)
{
	(void)priv;
	(void)resv;
	dirty.ends++;
}

static void dirty_unreserve(void *priv, void *resv)
{
	(void)priv;
	memset(resv, 0xa5, sizeof(struct dirty_resv));
	dirty.unreserves++;
}

static struct gvm_backend_ops dirty_backend(void)
{
	struct gvm_backend_ops b = gvm_backend_identity;

	b.name = "dirty";
	b.resv_size = sizeof(struct dirty_resv);
	b.reserve = dirty_reserve;
	b.commit_begin = dirty_commit_begin;
	b.commit = dirty_commit;
	b.commit_end = dirty_commit_end;
	b.unreserve = dirty_unreserve;
	return b;
}

/* Map and unmap @rounds pages at PA == VA; every bind must succeed. */
static void bind_rounds(struct gvm *vm, struct vm_test_obj *obj, unsigned int rounds)
{
	unsigned int failed;

	for (unsigned int i = 0; i < rounds; i++) {
		struct gvm_req q = { .type = GVM_REQ_MAP,
				     .va = ID_BASE + i * PAGE,
				     .size = PAGE,
				     .obj = &obj->obj,
				     .offset = i * PAGE,
				     .prot = RW };

		CHECK_ERR("dirty map", gvm_bind(vm, &q, 1, &failed), 0);
		q = (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = q.va, .size = PAGE };
		CHECK_ERR("dirty unmap", gvm_bind(vm, &q, 1, &failed), 0);
	}
}

static void test_backend_writes(void **state)
{
	struct gvm_backend_ops some = gvm_backend_identity, held = gvm_backend_identity;
	struct gvm_backend_ops b = dirty_backend();
	struct gvm *vm = (struct gvm *)&b;
	struct vm_test_obj obj;

	(void)state;
	some.commit = dirty_commit; /* one of the four */
	CHECK_ERR("some writes", create_with(&some, &vm), -EINVAL);
	held.resv_size = 8; /* none of the four, but a reservation */
	CHECK_ERR("held without writes", create_with(&held, &vm), -EINVAL);
	assert_ptr_equal(vm, (struct gvm *)&b);

	vm_test_obj_init(&obj, 16 * MiB, ID_BASE, 0);
	memset(&dirty, 0, sizeof(dirty));
	CHECK_ERR("dirty create", create_with(&b, &vm), 0);
	bind_rounds(vm, &obj, 8);
	gvm_destroy(vm);
	CHECK_EQ("dirty: cleared after unreserve", dirty.dirty, 0);
	CHECK_EQ("dirty: begins", dirty.begins, 16);
	CHECK_EQ("dirty: ends", dirty.ends, 16);
	CHECK_EQ("dirty: commits of reserved ops", dirty.commits, 16);
	CHECK_EQ("dirty: unreserves", dirty.unreserves, 16);
	vm_test_obj_fini(&obj);
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	struct CMUnitTest tests[ARRAY_SIZE(txn_cases) + ARRAY_SIZE(queue_cases) +
				ARRAY_SIZE(keep_cases) + ARRAY_SIZE(identity_cases) +
				ARRAY_SIZE(create_cases) + ARRAY_SIZE(lone_cases) + 12];
	char names[ARRAY_SIZE(tests)][64];
	const struct tu_args args = { "test-vm-txn", &opt_seed, &opt_count };
	size_t n = 0;

	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
#define ADD_CASES(prefix, fn, table)                                                               \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++, n++) {                                      \
		snprintf(names[n], sizeof(names[n]), "%s-%s", (prefix), (table)[i].name);          \
		tests[n] = (struct CMUnitTest){ names[n], (fn), NULL, NULL, (void *)&(table)[i] }; \
	}
	ADD_CASES("sweep", test_sweep, txn_cases);
	ADD_CASES("sweep-lone", test_sweep_lone, lone_cases);
	ADD_CASES("queue", test_queue, queue_cases);
	ADD_CASES("keep", test_keep, keep_cases);
	ADD_CASES("identity", test_identity, identity_cases);
	ADD_CASES("create", test_create, create_cases);
#undef ADD_CASES
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flush_adjacent);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flush_far_apart);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flush_then_free);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_resv_random);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_destroy);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_destroy_enomem);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_stats);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_replace_in_place);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_table_ops);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_identity_replace);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_backend_writes);
	return _cmocka_run_group_tests("test-vm-txn", tests, n, NULL, NULL);
}
