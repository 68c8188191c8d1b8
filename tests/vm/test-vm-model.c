// SPDX-License-Identifier: MIT
/*
 * Model-based random test of gvm bind arrays (gvm.h "DOC: transactions and
 * locking", shared/reference/gpuvm-split-merge.md).
 *
 * A flat reference model - sorted extents [va, end) -> object, offset, repeat,
 * prot - receives the same arrays of 1-8 requests as the VM: maps of
 * contiguous and fragmented objects at random offsets (4K to several MiB, 4K
 * or 2M aligned so that blocks appear), repeat maps of a dummy 4K object and of
 * small ranges, unmaps cutting VAs, hole punches, remaps over existing VAs and
 * identical remaps (keep). The model applies drm_gpuvm's rules: a map replaces
 * what it overlaps, an unmap removes; a cut piece keeps its pages (a linear
 * piece's offset advances by what was cut off, a repeat piece keeps its
 * offset), and nothing merges, so model extents and VAs correspond one to one.
 *
 * After every committed array: the committed VA list equals the model exactly;
 * sampled and boundary pages translate (pt_walk()) to the model's object pages
 * with its protections, gaps do not; vm_test_check_tables(), gvm_validate()
 * and pt_validate() pass; each object holds one reference per VA; the pool
 * holds exactly the tables linked in the tree. Arrays with a request the VM
 * must refuse (a repeat VA cut off its period, a reserved range, bad alignment,
 * bad object range or protections, a fragmented repeat) fail whole, at the
 * model's index, and leave the VAs, every table descriptor, pool pages, the
 * VM's memory, object references and stats exactly as before. Some rounds
 * queue two transactions (B prepared against A's projection, then A and B
 * committed in order); some give the newest transaction up, which must restore
 * the same (except the VM's caches, which a finished transaction also leaves).
 * Some rounds bind one request with gvm_bind() (the lone request's own path,
 * DOC: the lone request in vm/gvm_txn.c), refused ones included.
 * Commits run with allocation aborting (the harness).
 *
 * model-hooks runs half as many rounds on a VM with driver hooks (gvm.h, DOC:
 * driver hooks) that count: each transaction has exactly the ops the model
 * predicts (overlapped extents, plus one MAP per map request), seen once each
 * by prepare, commit and cleanup; the VAs op_prepare pins (the ones an op
 * creates) and op_cleanup unpins (removed by a committed op, created by a
 * given-up one) are the committed VAs when idle; each link's count of
 * committed VAs (op_commit) is the model's; refused arrays leave the counts.
 *
 * Usage: test-vm-model [--seed N] [--count N]; --count is the number of
 * rounds. A failure prints the arguments that replay it.
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

#define DEFAULT_SEED 0x67766d6dull
#define DEFAULT_COUNT 4000u
/* Coverage is asserted only for runs at least this long. */
#define COVERAGE_MIN_COUNT 300u
#define MAX_REQS 8u
#define RANDOM_SAMPLES 2u
#define FULL_TABLE_CHECK_EVERY 16u
/* gen_refused() makes REFUSED_KINDS kinds; others are refused by the state they meet. */
#define REFUSED_KINDS 11u
#define REFUSED_NATURALLY REFUSED_KINDS

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define PAGE (4 * KiB)
#define BLOCK (2 * MiB)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define R PT_PROT_READ
#define W PT_PROT_WRITE
#define X PT_PROT_EXEC
#define C PT_PROT_CACHE

static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;

/* Objects: contiguous and fragmented (piece i of a fragmented one at pa + 2 * i * frag). */
enum {
	OBJ_BIG,
	OBJ_MID,
	OBJ_FRAG64K,
	OBJ_FRAG2M,
	OBJ_SMALL,
	OBJ_DUMMY,
	NR_OBJS
};

struct obj_spec {
	const char *name;
	uint64_t size, pa, frag;
};

static const struct obj_spec obj_specs[NR_OBJS] = {
	[OBJ_BIG] = { "big", 16 * MiB, 1 * GiB, 0 },
	[OBJ_MID] = { "mid", 8 * MiB, 2 * GiB + 64 * KiB, 0 },
	[OBJ_FRAG64K] = { "frag64k", 16 * MiB, 3 * GiB, 64 * KiB },
	[OBJ_FRAG2M] = { "frag2m", 16 * MiB, 4 * GiB, 2 * MiB },
	[OBJ_SMALL] = { "small", 64 * KiB, 5 * GiB, 0 },
	[OBJ_DUMMY] = { "dummy", PAGE, 5 * GiB + 1 * MiB, 0 },
};

/* Where requests go: the VM's two ends, across table boundaries, around a reserved range. */
struct zone {
	uint64_t lo, hi;
};

static const struct gvm_range reserved[] = { { 8 * GiB, 8 * GiB + 8 * MiB } };

static const struct zone zones[] = {
	{ VM_TEST_START, VM_TEST_START + 48 * MiB },
	{ 1 * GiB - 24 * MiB, 1 * GiB + 24 * MiB },
	{ 8 * GiB - 16 * MiB, 8 * GiB },
	{ 8 * GiB + 8 * MiB, 8 * GiB + 24 * MiB },
	{ 512 * GiB - 24 * MiB, 512 * GiB + 24 * MiB },
	{ VM_TEST_END - 48 * MiB, VM_TEST_END },
};

static const uint32_t good_prots[] = { R, R | W, R | X, R | W | C, R | W | X | C };
/* What the backend refuses: no access, write-only at stage 1, cached MMIO. */
static const uint32_t bad_prots[] = { 0, W, R | PT_PROT_MMIO | C };

static uint64_t align_down(uint64_t x, uint64_t a)
{
	return x - x % a;
}

/*
 * ---- The model ----
 *
 * Extents of extent-model.h: @obj is the object, @pa0 the object offset at
 * @va0 and @period the repeat. A piece drm_gpuvm cuts keeps its pages (a
 * linear piece's offset advances by what was cut off; a repeat piece, cut on
 * its period, keeps its offset), and so does a model piece, which keeps the
 * origin of its map. vm_test_model_apply() (vm-test.h, shared with
 * fuzz-bind) applies a request to it, or says the VM must refuse it.
 */

/* The object offset of @x's first page: what a VA the VM holds for @x has as its offset. */
static uint64_t ext_offset(const struct extent *x)
{
	return extent_pa(x, x->va);
}

/* ---- A run ---- */

struct counters {
	unsigned int rounds, committed, refused, queued, given_up, lone, lone_refused;
	unsigned int maps, keeps, keep_prot, repeats, unmaps, holes, remaps;
	unsigned int refused_kind[REFUSED_KINDS + 1];
	uint64_t block_hits, max_vas, max_tables;
};

/* Everything a failed or given-up transaction must leave as it was. */
struct table_copy {
	uint64_t pa;
	uint64_t *items;
	size_t n;
};

struct snap {
	struct model vas;
	struct table_copy *tables;
	size_t ntables, cap_tables;
	uint64_t pages;
	long host_live;
	long refs[NR_OBJS];
	struct gvm_stats st;
};

/* What the driver hooks of model-hooks count. */
struct hook_counts {
	long pins;                            /* VAs pinned: prepared minus cleaned up */
	uint64_t prepares, commits, cleanups; /* op callbacks */
	long links;                           /* bo_init minus bo_free */
};

/* A link's private area: its committed VAs, counted by op_commit. */
struct link_priv {
	int64_t committed;
};

struct run {
	bool hooks;
	struct hook_counts h;
	struct vm_test_env env;
	struct vm_test_obj objs[NR_OBJS];
	struct vm_test_rules rules; /* what the VM accepts: the model's oracle */
	struct pt_geometry geo;
	struct model model;
	struct rng rng;
	uint64_t check_seed;
	unsigned int round;
	unsigned int refused_kind; /* of the last request the model refused */
	char what[2048];
	struct counters n;
};

static struct run *current_run;

static void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void run_fail(struct run *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "round %u: %s\n  %s\n", r->round, r->what, msg);
	tu_print_replay(opt_seed, r->round + 1);
	fail_msg("%s", msg);
}

static void check_eq(struct run *r, const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		run_fail(r, "%s = 0x%" PRIx64 " (%" PRIu64 "), want 0x%" PRIx64 " (%" PRIu64 ")",
			 what, got, got, want, want);
}

static void check_rc(struct run *r, const char *what, int got, int want)
{
	if (got == want)
		return;
	run_fail(r, "%s returned %s, want %s", what, errname(got), errname(want));
}

static int req_str(char *buf, size_t len, const struct gvm_req *q)
{
	int o = q->obj ? vm_test_obj_index(&current_run->rules, q->obj) : -1;

	if (q->type != GVM_REQ_MAP)
		return snprintf(buf, len, "unmap [0x%" PRIx64 ", +0x%" PRIx64 ")", q->va, q->size);
	return snprintf(buf, len,
			"map [0x%" PRIx64 ", +0x%" PRIx64 ") %s+0x%" PRIx64 " repeat 0x%" PRIx64
			" prot 0x%x",
			q->va, q->size, o >= 0 ? obj_specs[o].name : "?", q->offset, q->repeat,
			q->prot);
}

/* Describe the round's arrays for failure messages. */
static void what_arrays(struct run *r, const char *mode, const struct gvm_req *a, unsigned int na,
			const struct gvm_req *b, unsigned int nb)
{
	size_t len = (size_t)snprintf(r->what, sizeof(r->what), "%s", mode);

	for (unsigned int i = 0; i < na + nb && len < sizeof(r->what); i++) {
		len += (size_t)snprintf(r->what + len, sizeof(r->what) - len, "\n    %c[%u] ",
					i < na ? 'A' : 'B', i < na ? i : i - na);
		if (len < sizeof(r->what))
			len += (size_t)req_str(r->what + len, sizeof(r->what) - len,
					       i < na ? &a[i] : &b[i - na]);
	}
}

/* ---- Tables as the walker sees them ---- */

static size_t table_items(const struct run *r, unsigned int lvl)
{
	return lvl == r->geo.start_level ? r->geo.top_entries : 1ull << r->geo.bits_per_level;
}

static bool seen_table(const struct snap *s, uint64_t pa)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (s->tables[i].pa == pa)
			return true;
	return false;
}

/* Every table reachable from the root, once (shared tables too), with @copy its items. */
static void collect_tables(struct run *r, struct snap *s, uint64_t pa, unsigned int lvl, bool copy)
{
	const uint64_t *items = pt_pool_pa_to_cpu(r->env.pt.pool, pa);
	size_t n = table_items(r, lvl);
	struct pt *pt = gvm_get_pt(r->env.vm);

	if (!items)
		run_fail(r, "table at PA 0x%" PRIx64 " is not pool memory", pa);
	if (s->ntables == s->cap_tables) {
		s->cap_tables = s->cap_tables ? 2 * s->cap_tables : 64;
		s->tables = realloc(s->tables, s->cap_tables * sizeof(*s->tables));
		assert_non_null(s->tables);
	}
	s->tables[s->ntables++] = (struct table_copy){ pa, NULL, n };
	if (copy) {
		s->tables[s->ntables - 1].items = malloc(n * sizeof(uint64_t));
		assert_non_null(s->tables[s->ntables - 1].items);
		memcpy(s->tables[s->ntables - 1].items, items, n * sizeof(uint64_t));
	}
	for (size_t i = 0; lvl < PT_LEAF_LEVEL && i < n; i++) {
		struct pt_entry e;

		if (pt_decode_entry(pt, lvl, items[i], &e))
			run_fail(r, "bad descriptor 0x%" PRIx64 " at level %u", items[i], lvl);
		if (e.type == PT_ENTRY_TABLE && !seen_table(s, e.addr))
			collect_tables(r, s, e.addr, lvl + 1, copy);
	}
}

static void tables_free(struct snap *s)
{
	for (size_t i = 0; i < s->ntables; i++)
		free(s->tables[i].items);
	s->ntables = 0;
}

static void collect_all_tables(struct run *r, struct snap *s, bool copy)
{
	tables_free(s);
	collect_tables(r, s, pt_test_root_pa(gvm_get_pt(r->env.vm)), r->geo.start_level, copy);
}

/* ---- Snapshots ---- */

static void committed_vas(struct run *r, struct model *m)
{
	struct gvm *vm = r->env.vm;

	m->n = 0;
	for (struct gvm_va *va = gvm_va_first(vm, VM_TEST_START, VM_TEST_END); va;
	     va = gvm_va_next(vm, va, VM_TEST_END)) {
		int o = vm_test_obj_index(&r->rules, va->bo->obj);

		if (o < 0)
			run_fail(r, "VA 0x%" PRIx64 " maps an unknown object", va->va);
		model_insert_at(m, m->n,
				(struct extent){ .va = va->va,
						 .end = va->va + va->size,
						 .va0 = va->va,
						 .pa0 = va->offset,
						 .period = va->repeat,
						 .prot = va->prot,
						 .obj = (uint32_t)o });
	}
}

static void snap_take(struct run *r, struct snap *s)
{
	committed_vas(r, &s->vas);
	collect_all_tables(r, s, true);
	s->pages = vm_test_pages(&r->env);
	s->host_live = r->env.host_live;
	for (int i = 0; i < NR_OBJS; i++)
		s->refs[i] = r->objs[i].refs;
	gvm_get_stats(r->env.vm, &s->st);
}

static void snap_free(struct snap *s)
{
	tables_free(s);
	free(s->tables);
	model_free(&s->vas);
	memset(s, 0, sizeof(*s));
}

/*
 * Equal as VAs: compared by offset, since a VA read from the VM is its own
 * origin while a model piece keeps its map's.
 */
static bool ext_eq(const struct extent *a, const struct extent *b)
{
	return a->va == b->va && a->end == b->end && a->obj == b->obj &&
	       ext_offset(a) == ext_offset(b) && a->period == b->period && a->prot == b->prot;
}

static void expect_same_vas(struct run *r, const struct model *got, const struct model *want,
			    const char *when)
{
	size_t i;

	for (i = 0; i < got->n && i < want->n; i++)
		if (!ext_eq(&got->e[i], &want->e[i]))
			break;
	if (i == got->n && i == want->n)
		return;
	if (i < got->n && i < want->n)
		run_fail(r,
			 "%s: VA %zu is [0x%" PRIx64 ", 0x%" PRIx64 ") %s+0x%" PRIx64
			 " repeat 0x%" PRIx64 " prot 0x%x, want [0x%" PRIx64 ", 0x%" PRIx64
			 ") %s+0x%" PRIx64 " repeat 0x%" PRIx64 " prot 0x%x",
			 when, i, got->e[i].va, got->e[i].end, obj_specs[got->e[i].obj].name,
			 ext_offset(&got->e[i]), got->e[i].period, got->e[i].prot, want->e[i].va,
			 want->e[i].end, obj_specs[want->e[i].obj].name, ext_offset(&want->e[i]),
			 want->e[i].period, want->e[i].prot);
	run_fail(r, "%s: %zu VAs, want %zu (first difference at %zu)", when, got->n, want->n, i);
}

static void expect_same_tables(struct run *r, const struct snap *a, const struct snap *b,
			       const char *when)
{
	check_eq(r, "linked tables", b->ntables, a->ntables);
	for (size_t i = 0; i < a->ntables; i++) {
		if (a->tables[i].pa != b->tables[i].pa)
			run_fail(r, "%s: table %zu at PA 0x%" PRIx64 ", was 0x%" PRIx64, when, i,
				 b->tables[i].pa, a->tables[i].pa);
		for (size_t k = 0; k < a->tables[i].n; k++)
			if (a->tables[i].items[k] != b->tables[i].items[k])
				run_fail(r,
					 "%s: table PA 0x%" PRIx64 " item %zu is 0x%" PRIx64
					 ", was 0x%" PRIx64,
					 when, a->tables[i].pa, k, b->tables[i].items[k],
					 a->tables[i].items[k]);
	}
}

/*
 * Nothing a failed or given-up transaction touched may differ. With @memory
 * also the VM's own memory: a refused prepare gives back all it took, while a
 * given-up transaction may leave the VM's caches (its transaction record,
 * spare tree nodes) as a finished one does.
 */
static void expect_unchanged(struct run *r, const struct snap *before, bool memory,
			     const char *when)
{
	struct snap now = { 0 };

	snap_take(r, &now);
	expect_same_vas(r, &now.vas, &before->vas, when);
	expect_same_tables(r, before, &now, when);
	check_eq(r, "pool pages in use", now.pages, before->pages);
	for (int i = 0; i < NR_OBJS; i++)
		check_eq(r, obj_specs[i].name, (uint64_t)now.refs[i], (uint64_t)before->refs[i]);
	check_eq(r, "stats.vas", now.st.vas, before->st.vas);
	check_eq(r, "stats.bos", now.st.bos, before->st.bos);
	if (memory) {
		check_eq(r, "stats.va_bytes", now.st.va_bytes, before->st.va_bytes);
		check_eq(r, "stats.index_bytes", now.st.index_bytes, before->st.index_bytes);
		check_eq(r, "VM memory (host_live)", (uint64_t)now.host_live,
			 (uint64_t)before->host_live);
	}
	snap_free(&now);
}

/* ---- Checks of a committed state ---- */

static void check_page(struct run *r, const struct extent *x, uint64_t addr)
{
	struct pt_walk_result w;
	int rc = pt_walk(gvm_get_pt(r->env.vm), addr, &w);

	if (!x) {
		if (rc != -ENOENT)
			run_fail(r, "0x%" PRIx64 ": %s (PA 0x%" PRIx64 "), want not mapped", addr,
				 errname(rc), w.pa);
		return;
	}
	if (rc || w.pa != vm_test_extent_pa(&r->rules, x, addr) || w.prot != x->prot)
		run_fail(r,
			 "0x%" PRIx64 ": %s PA 0x%" PRIx64 " prot 0x%x, model PA 0x%" PRIx64
			 " prot 0x%x (%s+0x%" PRIx64 ")",
			 addr, errname(rc), w.pa, w.prot, vm_test_extent_pa(&r->rules, x, addr),
			 x->prot, obj_specs[x->obj].name, ext_offset(x));
	r->n.block_hits += w.leaf_size > PAGE;
}

/* First, last and random pages of [@va, @end), mapped by @x or by nothing. */
static void check_span(struct run *r, const struct extent *x, uint64_t va, uint64_t end)
{
	if (va >= end)
		return;
	check_page(r, x, va);
	check_page(r, x, end - PAGE);
	for (unsigned int i = 0; i < RANDOM_SAMPLES; i++)
		check_page(r, x, va + align_down(rng_below(&r->rng, end - va), PAGE));
}

/* The model's translations over every zone: extents and the gaps between them. */
static void check_translations(struct run *r)
{
	const struct model *m = &r->model;

	for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
		uint64_t at = zones[z].lo;

		for (size_t i = model_find(m, at); i < m->n && m->e[i].va < zones[z].hi; i++) {
			check_span(r, NULL, at, m->e[i].va);
			check_span(r, &m->e[i], m->e[i].va, m->e[i].end);
			at = m->e[i].end;
		}
		check_span(r, NULL, at, zones[z].hi);
	}
}

/*
 * Every committed VA holds one reference on its object. Removed VAs hold
 * theirs until gvm_bind_cleanup(): only check references and links when no
 * transaction is outstanding (@idle).
 */
static void check_refs(struct run *r, bool idle)
{
	long want[NR_OBJS] = { 0 };
	uint64_t bos = 0;
	struct gvm_stats st;

	for (size_t i = 0; i < r->model.n; i++)
		want[r->model.e[i].obj]++;
	gvm_get_stats(r->env.vm, &st);
	check_eq(r, "stats.vas", st.vas, r->model.n);
	if (!idle)
		return;
	for (int i = 0; i < NR_OBJS; i++) {
		check_eq(r, obj_specs[i].name, (uint64_t)r->objs[i].refs, (uint64_t)want[i]);
		bos += want[i] != 0;
	}
	check_eq(r, "stats.bos", st.bos, bos);
}

/* The hooks' counts when no transaction is outstanding. */
static void check_hooks_idle(struct run *r)
{
	struct gvm_stats st;

	if (!r->hooks)
		return;
	gvm_get_stats(r->env.vm, &st);
	check_eq(r, "VAs pinned by the hooks", (uint64_t)r->h.pins, r->model.n);
	check_eq(r, "op_cleanup calls", r->h.cleanups, r->h.prepares);
	check_eq(r, "links of bo_init/bo_free", (uint64_t)r->h.links, st.bos);
	for (int i = 0; i < NR_OBJS; i++) {
		struct gvm_bo *bo = gvm_bo_find(r->env.vm, &r->objs[i].obj);
		uint64_t want = 0;

		for (size_t k = 0; k < r->model.n; k++)
			want += r->model.e[k].obj == (uint32_t)i;
		check_eq(r, obj_specs[i].name,
			 bo ? (uint64_t)((struct link_priv *)gvm_bo_priv(bo))->committed : 0, want);
	}
}

static void check_validators(struct run *r)
{
	int err = gvm_validate(r->env.vm, gpuvm_print_file, stderr);

	check_rc(r, "gvm_validate", err, 0);
	err = pt_validate(gvm_get_pt(r->env.vm), gpuvm_print_file, stderr);
	check_rc(r, "pt_validate", err, 0);
}

/* With no transaction outstanding the pool holds exactly the linked tables (one page each). */
static void check_pages(struct run *r)
{
	struct snap s = { 0 };

	collect_all_tables(r, &s, false);
	check_eq(r, "pool pages in use", vm_test_pages(&r->env), s.ntables);
	r->n.max_tables = max_u64(r->n.max_tables, s.ntables);
	snap_free(&s);
}

static void check_committed(struct run *r, bool idle)
{
	struct model got = { 0 };
	int err;

	committed_vas(r, &got);
	expect_same_vas(r, &got, &r->model, "committed VAs");
	free(got.e);
	check_translations(r);
	if (idle || r->round % FULL_TABLE_CHECK_EVERY == 0) {
		err = vm_test_check_tables(&r->env, VM_TEST_START, VM_TEST_END, RANDOM_SAMPLES,
					   &r->check_seed, stderr);
		check_rc(r, "vm_test_check_tables", err, 0);
	}
	check_refs(r, idle);
	check_validators(r);
	if (idle) {
		check_pages(r);
		check_hooks_idle(r);
	}
	r->n.max_vas = max_u64(r->n.max_vas, r->model.n);
}

/* ---- Request generation (against the projected model) ---- */

static const struct zone *random_zone(struct run *r)
{
	return &zones[rng_below(&r->rng, ARRAY_SIZE(zones))];
}

static uint32_t random_prot(struct run *r)
{
	return good_prots[rng_below(&r->rng, ARRAY_SIZE(good_prots))];
}

static uint64_t random_size(struct run *r)
{
	switch (rng_below(&r->rng, 4)) {
	case 0:
		return PAGE * (1 + rng_below(&r->rng, 16));
	case 1:
		return BLOCK * (1 + rng_below(&r->rng, 3));
	case 2:
		return BLOCK * (1 + rng_below(&r->rng, 2)) + PAGE * (1 + rng_below(&r->rng, 8));
	default:
		return PAGE * (1 + rng_below(&r->rng, 2048));
	}
}

/* A range of @size inside a zone, block or page aligned, sometimes shifted off a block. */
static struct gvm_req random_range(struct run *r, uint64_t size)
{
	const struct zone *z = random_zone(r);
	uint64_t align = rng_below(&r->rng, 2) ? BLOCK : PAGE, va;

	size = min_u64(size, z->hi - z->lo);
	va = z->lo + align_down(rng_below(&r->rng, z->hi - z->lo - size + 1), align);
	if (!rng_below(&r->rng, 4) && va - z->lo >= 4 * PAGE)
		va -= PAGE * rng_below(&r->rng, 4);
	return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = va, .size = size };
}

static const struct zone *zone_of(uint64_t va)
{
	for (size_t z = 0; z < ARRAY_SIZE(zones); z++)
		if (va >= zones[z].lo && va < zones[z].hi)
			return &zones[z];
	return NULL;
}

/* A cut point in (@lo, @hi) of extent @x: on its period (mostly) when it repeats. */
static uint64_t cut_point(struct run *r, const struct extent *x, uint64_t lo, uint64_t hi)
{
	uint64_t unit = x->period && rng_below(&r->rng, 8) ? x->period : PAGE;
	uint64_t first = x->va + (lo - x->va + unit) / unit * unit;

	if (first >= hi)
		return 0;
	return first + align_down(rng_below(&r->rng, hi - first), unit);
}

/* A range related to a projected extent: itself, inside it, across its start or end, beyond. */
static struct gvm_req range_over_extent(struct run *r, const struct model *m)
{
	const struct extent *x;
	const struct zone *z;
	uint64_t s, e, p;

	if (!m->n)
		return random_range(r, random_size(r));
	x = &m->e[rng_below(&r->rng, m->n)];
	z = zone_of(x->va);
	s = x->va;
	e = x->end;
	switch (rng_below(&r->rng, 5)) {
	case 0:
		break;
	case 1: /* a hole inside */
		p = cut_point(r, x, x->va, x->end);
		s = p ? p : s;
		p = cut_point(r, x, s, x->end);
		e = p ? p : e;
		break;
	case 2: /* across the start */
		s = max_u64(z->lo, x->va - PAGE * (1 + rng_below(&r->rng, 600)));
		p = cut_point(r, x, x->va, x->end);
		e = p ? p : e;
		break;
	case 3: /* across the end */
		p = cut_point(r, x, x->va, x->end);
		s = p ? p : s;
		e = min_u64(z->hi, x->end + PAGE * (1 + rng_below(&r->rng, 600)));
		break;
	default: /* around it, maybe over the next ones */
		s = max_u64(z->lo, x->va - PAGE * rng_below(&r->rng, 8));
		e = min_u64(z->hi,
			    x->end + BLOCK * rng_below(&r->rng, 3) + PAGE * rng_below(&r->rng, 8));
		break;
	}
	return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = s, .size = e - s };
}

static struct gvm_req to_map(struct run *r, struct gvm_req q, unsigned int obj)
{
	uint64_t osize = obj_specs[obj].size, align;

	q.size = min_u64(q.size, osize);
	align = q.va % BLOCK == 0 && rng_below(&r->rng, 2) ? BLOCK : PAGE;
	q.type = GVM_REQ_MAP;
	q.obj = &r->objs[obj].obj;
	q.offset = align_down(rng_below(&r->rng, osize - q.size + 1), align);
	q.prot = random_prot(r);
	return q;
}

static struct gvm_req gen_map(struct run *r, const struct model *m)
{
	static const unsigned int linear[] = { OBJ_BIG,    OBJ_BIG,   OBJ_MID,  OBJ_FRAG64K,
					       OBJ_FRAG2M, OBJ_SMALL, OBJ_DUMMY };
	unsigned int obj = linear[rng_below(&r->rng, ARRAY_SIZE(linear))];
	struct gvm_req q = rng_below(&r->rng, 2) ? random_range(r, random_size(r)) :
						   range_over_extent(r, m);

	r->n.maps++;
	return to_map(r, q, obj);
}

/* The same pages again over part of a projected extent (keep), sometimes other prot. */
static struct gvm_req gen_keep(struct run *r, const struct model *m)
{
	const struct extent *x;
	uint64_t unit, s, e;
	struct gvm_req q;

	if (!m->n)
		return gen_map(r, m);
	x = &m->e[rng_below(&r->rng, m->n)];
	unit = x->period ? x->period : PAGE;
	s = x->va + unit * rng_below(&r->rng, (x->end - x->va) / unit);
	e = s + unit * (1 + rng_below(&r->rng, (x->end - s) / unit));
	if (rng_below(&r->rng, 2)) {
		s = x->va;
		e = rng_below(&r->rng, 2) ? x->end : e;
	}
	q = (struct gvm_req){ .type = GVM_REQ_MAP,
			      .va = s,
			      .size = e - s,
			      .obj = &r->objs[x->obj].obj,
			      .repeat = x->period,
			      .prot = x->prot };
	q.offset = x->period ? ext_offset(x) : extent_pa(x, s);
	if (rng_below(&r->rng, 4) == 0) {
		q.prot = random_prot(r);
		r->n.keep_prot += q.prot != x->prot;
	}
	r->n.keeps++;
	return q;
}

/* Repeat maps: the dummy page, small periods of a small object, 2M periods (blocks). */
static struct gvm_req gen_repeat(struct run *r)
{
	static const uint64_t small_periods[] = { PAGE, 2 * PAGE, 4 * PAGE, 16 * PAGE };
	struct gvm_req q = { .type = GVM_REQ_MAP, .prot = random_prot(r) };
	uint64_t count;

	switch (rng_below(&r->rng, 4)) {
	case 0:
	case 1:
		q.obj = &r->objs[OBJ_DUMMY].obj;
		q.repeat = PAGE;
		count = rng_below(&r->rng, 2) ? 1 + rng_below(&r->rng, 64) :
						512 * (1 + rng_below(&r->rng, 8));
		break;
	case 2:
		q.obj = &r->objs[OBJ_SMALL].obj;
		q.repeat = small_periods[rng_below(&r->rng, ARRAY_SIZE(small_periods))];
		q.offset = align_down(rng_below(&r->rng, 64 * KiB - q.repeat + 1), PAGE);
		count = 1 + rng_below(&r->rng, 64);
		break;
	default:
		q.obj = &r->objs[rng_below(&r->rng, 2) ? OBJ_BIG : OBJ_FRAG64K].obj;
		q.repeat = q.obj == &r->objs[OBJ_BIG].obj ? BLOCK : 64 * KiB;
		q.offset = q.repeat * rng_below(&r->rng, 4);
		count = 1 + rng_below(&r->rng, 4);
		break;
	}
	q.va = random_range(r, q.repeat * count).va;
	q.size = q.repeat * count;
	q.size = min_u64(q.size, zone_of(q.va)->hi - q.va) / q.repeat * q.repeat;
	r->n.repeats++;
	return q;
}

static struct gvm_req gen_unmap(struct run *r, const struct model *m)
{
	struct gvm_req q;

	switch (rng_below(&r->rng, 8)) {
	case 0:
	case 1:
		q = random_range(r, random_size(r));
		break;
	case 2:
		q = random_range(r, 16 * MiB);
		break;
	default:
		q = range_over_extent(r, m);
		break;
	}
	r->n.unmaps++;
	return q;
}

/* A request the VM must refuse; @kind is counted. */
static struct gvm_req gen_refused(struct run *r, const struct model *m, unsigned int *kind)
{
	struct gvm_req q = to_map(r, random_range(r, PAGE * (1 + rng_below(&r->rng, 64))), OBJ_BIG);

	*kind = (unsigned int)rng_below(&r->rng, REFUSED_KINDS);
	switch (*kind) {
	case 0:
		q.va += 0x800;
		break;
	case 1:
		q.size = 0;
		break;
	case 2:
		q.offset += 0x200;
		break;
	case 3:
		q.va = reserved[0].start - PAGE * rng_below(&r->rng, 4);
		break;
	case 4:
		q.va = rng_below(&r->rng, 2) ? VM_TEST_START - PAGE : VM_TEST_END - PAGE;
		q.size = 2 * PAGE;
		break;
	case 5:
		q.repeat = 3 * PAGE;
		q.size = 4 * PAGE;
		break;
	case 6:
		q.offset = obj_specs[OBJ_BIG].size - q.size + PAGE;
		break;
	case 7:
		q = (struct gvm_req){
			.type = GVM_REQ_UNMAP, .va = q.va, .size = q.size, .obj = q.obj
		};
		break;
	case 8:
		q.obj = &r->objs[OBJ_FRAG64K].obj;
		q.repeat = 128 * KiB;
		q.offset = 0;
		q.size = 4 * q.repeat;
		break;
	case 9:
		q.prot = bad_prots[rng_below(&r->rng, ARRAY_SIZE(bad_prots))];
		break;
	default:
		/* Cut a repeat VA off its period, if there is one with a period above a page. */
		for (size_t i = 0; i < m->n; i++) {
			const struct extent *x = &m->e[(i + rng_below(&r->rng, m->n)) % m->n];

			if (x->period > PAGE) {
				q = (struct gvm_req){ .type = GVM_REQ_UNMAP,
						      .va = x->va + PAGE,
						      .size = PAGE };
				break;
			}
		}
		break;
	}
	return q;
}

/*
 * A request against the projection @m, applied to it. Returns false when the
 * VM must refuse it (then @m is unchanged).
 */
static bool gen_req(struct run *r, struct model *m, bool allow_refused, struct gvm_req *q)
{
	unsigned int k = (unsigned int)rng_below(&r->rng, 100), kind = REFUSED_NATURALLY;

	if (k < 40)
		*q = gen_map(r, m);
	else if (k < 52)
		*q = gen_keep(r, m);
	else if (k < 68)
		*q = gen_repeat(r);
	else if (k < 97 || !allow_refused)
		*q = gen_unmap(r, m);
	else
		*q = gen_refused(r, m, &kind);
	if (vm_test_model_apply(&r->rules, m, q))
		return true;
	r->refused_kind = kind;
	return false;
}

/*
 * Fill @q with 1-MAX_REQS requests against @proj (applied to it). Return the
 * index of the request the VM must refuse (the array stops there), or -1.
 */
static int gen_array(struct run *r, struct model *proj, struct gvm_req *q, unsigned int *n)
{
	bool allow_refused = rng_below(&r->rng, 3) == 0;

	*n = 1 + (unsigned int)rng_below(&r->rng, MAX_REQS);
	for (unsigned int i = 0; i < *n; i++) {
		if (!gen_req(r, proj, allow_refused, &q[i])) {
			*n = i + 1;
			return (int)i;
		}
	}
	return -1;
}

/* ---- Rounds ---- */

static void count_ops(struct run *r, const struct model *before, const struct gvm_req *q,
		      unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		size_t k = model_find(before, q[i].va);
		bool hole = k < before->n && before->e[k].va < q[i].va &&
			    before->e[k].end > q[i].va + q[i].size;

		r->n.holes += hole;
		r->n.remaps += q[i].type == GVM_REQ_MAP && k < before->n &&
			       before->e[k].va < q[i].va + q[i].size;
	}
}

/* The ops of @q applied to @before: each request's overlapped extents, and its MAP. */
static uint64_t expected_ops(struct run *r, const struct model *before, const struct gvm_req *q,
			     unsigned int n)
{
	struct model m = { 0 };
	uint64_t ops = 0;

	model_copy(&m, before);
	for (unsigned int i = 0; i < n; i++) {
		for (size_t k = model_find(&m, q[i].va); k < m.n && m.e[k].va < q[i].va + q[i].size;
		     k++)
			ops++;
		ops += q[i].type == GVM_REQ_MAP;
		vm_test_model_apply(&r->rules, &m, &q[i]);
	}
	free(m.e);
	return ops;
}

/*
 * With hooks, a prepared transaction has the ops the model predicts, each
 * prepared once, none committed or cleaned up yet (the model the arrays start
 * from is r->model, or @base for a transaction queued behind another).
 */
static int prepare(struct run *r, const struct gvm_req *q, unsigned int n, struct gvm_txn **txn,
		   unsigned int *failed)
{
	struct hook_counts h = r->h;
	int err;

	*failed = ~0u;
	err = gvm_bind_prepare(r->env.vm, q, n, txn, failed);
	if (!r->hooks)
		return err;
	if (err) {
		check_eq(r, "VAs pinned after a failed prepare", (uint64_t)r->h.pins,
			 (uint64_t)h.pins);
		check_eq(r, "cleanups of a failed prepare", r->h.cleanups - h.cleanups,
			 r->h.prepares - h.prepares);
		return err;
	}
	check_eq(r, "ops prepared", r->h.prepares - h.prepares, gvm_txn_nr_ops(*txn));
	check_eq(r, "commits during prepare", r->h.commits, h.commits);
	return err;
}

static void check_nr_ops(struct run *r, struct gvm_txn *txn, const struct model *base,
			 const struct gvm_req *q, unsigned int n)
{
	if (r->hooks)
		check_eq(r, "gvm_txn_nr_ops", gvm_txn_nr_ops(txn), expected_ops(r, base, q, n));
}

/* A prepare the VM must refuse at @want_failed: nothing may change. */
static void expect_refused(struct run *r, const struct gvm_req *q, unsigned int n, int want_failed)
{
	struct snap before = { 0 };
	struct gvm_txn *txn = NULL;
	unsigned int failed;
	int err;

	snap_take(r, &before);
	err = prepare(r, q, n, &txn, &failed);
	check_rc(r, "gvm_bind_prepare", err, -EINVAL);
	check_eq(r, "failed index", failed, (uint64_t)want_failed);
	expect_unchanged(r, &before, true, "after a refused prepare");
	snap_free(&before);
	r->n.refused++;
	r->n.refused_kind[r->refused_kind]++;
}

static struct gvm_txn *expect_prepared(struct run *r, const struct gvm_req *q, unsigned int n)
{
	struct gvm_txn *txn = NULL;
	unsigned int failed;
	int err = prepare(r, q, n, &txn, &failed);

	if (err)
		run_fail(r, "gvm_bind_prepare: %s at request %u, want success", errname(err),
			 failed);
	return txn;
}

static void round_single(struct run *r)
{
	struct model proj = { 0 };
	struct gvm_req q[MAX_REQS];
	struct gvm_txn *txn;
	unsigned int n;
	int bad;

	model_copy(&proj, &r->model);
	bad = gen_array(r, &proj, q, &n);
	what_arrays(r, "single array", q, n, NULL, 0);
	if (bad >= 0) {
		expect_refused(r, q, n, bad);
	} else {
		count_ops(r, &r->model, q, n);
		txn = expect_prepared(r, q, n);
		check_nr_ops(r, txn, &r->model, q, n);
		gvm_bind_commit(txn);
		model_copy(&r->model, &proj);
		check_committed(r, false);
		gvm_bind_cleanup(txn);
		check_committed(r, true);
		r->n.committed++;
	}
	free(proj.e);
}

/*
 * Two queued transactions: B is prepared against A's projection, then A and B
 * commit in order (B refused: A alone). Cleanups interleave either way.
 */
static void round_queued(struct run *r)
{
	struct model pa = { 0 }, pb = { 0 };
	struct gvm_req qa[MAX_REQS], qb[MAX_REQS];
	struct gvm_txn *ta, *tb = NULL;
	unsigned int na, nb;
	int bad;

	model_copy(&pa, &r->model);
	if (gen_array(r, &pa, qa, &na) >= 0) {
		free(pa.e);
		round_single(r);
		return;
	}
	model_copy(&pb, &pa);
	bad = gen_array(r, &pb, qb, &nb);
	what_arrays(r, "queued arrays A then B", qa, na, qb, nb);
	ta = expect_prepared(r, qa, na);
	check_nr_ops(r, ta, &r->model, qa, na);
	if (bad >= 0)
		expect_refused(r, qb, nb, bad);
	else
		tb = expect_prepared(r, qb, nb);
	if (tb)
		check_nr_ops(r, tb, &pa, qb, nb);
	gvm_bind_commit(ta);
	model_copy(&r->model, &pa);
	check_committed(r, false);
	if (!tb || rng_below(&r->rng, 2)) {
		gvm_bind_cleanup(ta);
		ta = NULL;
	}
	if (tb) {
		gvm_bind_commit(tb);
		model_copy(&r->model, &pb);
		check_committed(r, false);
		gvm_bind_cleanup(tb);
	}
	if (ta)
		gvm_bind_cleanup(ta);
	check_committed(r, true);
	free(pa.e);
	free(pb.e);
	r->n.queued++;
	r->n.committed++;
}

/*
 * Give the newest transaction up: A alone (then nothing changed), or B queued
 * behind A (B given up before or after A commits; A's result stays).
 */
static void round_give_up(struct run *r)
{
	struct model pa = { 0 }, pb = { 0 };
	struct gvm_req qa[MAX_REQS], qb[MAX_REQS];
	struct snap before = { 0 };
	struct gvm_txn *ta, *tb;
	unsigned int na, nb;
	bool second = rng_below(&r->rng, 2), a_first = rng_below(&r->rng, 2);

	model_copy(&pa, &r->model);
	if (gen_array(r, &pa, qa, &na) >= 0) {
		free(pa.e);
		round_single(r);
		return;
	}
	model_copy(&pb, &pa);
	if (!second || gen_array(r, &pb, qb, &nb) >= 0)
		second = false;
	what_arrays(r, second ? "A, B queued; B given up" : "A given up", qa, na, qb,
		    second ? nb : 0);
	snap_take(r, &before);
	ta = expect_prepared(r, qa, na);
	if (!second) {
		gvm_bind_cleanup(ta);
		expect_unchanged(r, &before, false, "after giving A up");
		goto out;
	}
	snap_free(&before);
	snap_take(r, &before);
	tb = expect_prepared(r, qb, nb);
	if (a_first) {
		gvm_bind_commit(ta);
		gvm_bind_cleanup(tb);
	} else {
		gvm_bind_cleanup(tb);
		expect_unchanged(r, &before, false, "after giving B up");
		gvm_bind_commit(ta);
	}
	gvm_bind_cleanup(ta);
	model_copy(&r->model, &pa);
	check_committed(r, true);
	r->n.committed++;
out:
	snap_free(&before);
	free(pa.e);
	free(pb.e);
	r->n.given_up++;
}

/*
 * One request through gvm_bind(): without hooks, the lone request's path
 * (DOC: the lone request, vm/gvm_txn.c) unless it overlaps many VAs. It
 * commits as the model says, or is refused with nothing changed.
 */
static void round_lone(struct run *r)
{
	struct model proj = { 0 };
	struct snap before = { 0 };
	struct gvm_req q;
	unsigned int failed = ~0u;
	bool ok;
	int err;

	model_copy(&proj, &r->model);
	ok = gen_req(r, &proj, rng_below(&r->rng, 3) == 0, &q);
	what_arrays(r, "lone request", &q, 1, NULL, 0);
	if (ok)
		count_ops(r, &r->model, &q, 1);
	else
		snap_take(r, &before);
	err = gvm_bind(r->env.vm, &q, 1, &failed);
	if (ok) {
		check_rc(r, "gvm_bind", err, 0);
		model_copy(&r->model, &proj);
		check_committed(r, true);
		r->n.committed++;
	} else {
		check_rc(r, "gvm_bind", err, -EINVAL);
		check_eq(r, "failed index", failed, 0);
		expect_unchanged(r, &before, true, "after a refused gvm_bind()");
		snap_free(&before);
		r->n.refused++;
		r->n.refused_kind[r->refused_kind]++;
		r->n.lone_refused++;
	}
	free(proj.e);
	r->n.lone++;
}

static void run_round(struct run *r)
{
	unsigned int k = (unsigned int)rng_below(&r->rng, 100);

	if (k < 25)
		round_lone(r);
	else if (k < 70)
		round_single(r);
	else if (k < 85)
		round_queued(r);
	else
		round_give_up(r);
	r->n.rounds++;
}

/* ---- Setup, coverage, teardown ---- */

static struct run *run_of(struct gvm_txn *txn)
{
	return gvm_driver_ctx(gvm_txn_vm(txn));
}

/* The VAs an op created, by index: the MAP's, the REMAP's pieces. */
static struct gvm_va *op_new_va(const struct gvm_txn_op *top, unsigned int i)
{
	return i == 0 ? top->map_va : i == 1 ? top->prev_va : top->next_va;
}

static int hook_prepare(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	struct run *r = run_of(txn);

	r->h.prepares++;
	if ((top->op.type == GVM_OP_MAP) != (top->map_va != NULL) ||
	    top->op.has_prev != (top->prev_va != NULL) ||
	    top->op.has_next != (top->next_va != NULL))
		run_fail(r, "op_prepare: the op's new VAs do not match its type and pieces");
	for (unsigned int i = 0; i < 3; i++)
		r->h.pins += op_new_va(top, i) != NULL;
	return 0;
}

static void count_committed(struct gvm_va *va, int by)
{
	((struct link_priv *)gvm_bo_priv(va->bo))->committed += by;
}

static void hook_commit(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	run_of(txn)->h.commits++;
	if (top->op.old)
		count_committed(top->op.old, -1);
	for (unsigned int i = 0; i < 3; i++)
		if (op_new_va(top, i))
			count_committed(op_new_va(top, i), 1);
}

static void hook_cleanup(struct gvm_txn *txn, const struct gvm_txn_op *top)
{
	struct run *r = run_of(txn);

	r->h.cleanups++;
	if (gvm_txn_committed(txn)) {
		r->h.pins -= top->op.old != NULL;
		return;
	}
	for (unsigned int i = 0; i < 3; i++)
		r->h.pins -= op_new_va(top, i) != NULL;
}

static void hook_bo_init(struct gvm_bo *bo)
{
	((struct run *)gvm_driver_ctx(bo->vm))->h.links++;
}

static void hook_bo_free(struct gvm_bo *bo)
{
	((struct run *)gvm_driver_ctx(bo->vm))->h.links--;
}

static const struct gvm_driver_ops counting_ops = {
	.bo_priv_size = sizeof(struct link_priv),
	.op_prepare = hook_prepare,
	.op_commit = hook_commit,
	.op_cleanup = hook_cleanup,
	.bo_init = hook_bo_init,
	.bo_free = hook_bo_free,
};

static void run_init(struct run *r, bool hooks)
{
	memset(r, 0, sizeof(*r));
	current_run = r;
	r->hooks = hooks;
	r->rng.s = opt_seed;
	r->check_seed = opt_seed | 1;
	vm_test_init_driver(&r->env, reserved, ARRAY_SIZE(reserved), hooks ? &counting_ops : NULL,
			    r, 0);
	for (int i = 0; i < NR_OBJS; i++)
		vm_test_obj_init(&r->objs[i], obj_specs[i].size, obj_specs[i].pa,
				 obj_specs[i].frag);
	r->rules = (struct vm_test_rules){ .objs = r->objs,
					   .nr_objs = NR_OBJS,
					   .reserved = reserved,
					   .nr_reserved = ARRAY_SIZE(reserved),
					   .prots = good_prots,
					   .nr_prots = ARRAY_SIZE(good_prots) };
	pt_get_geometry(gvm_get_pt(r->env.vm), &r->geo);
	for (size_t i = 0; i < ARRAY_SIZE(good_prots); i++)
		assert_true((good_prots[i] & ~pt_format_prot_mask(gvm_get_pt(r->env.vm))) == 0);
	snprintf(r->what, sizeof(r->what), "setup");
}

static void check_coverage(struct run *r)
{
	const struct counters *n = &r->n;
	unsigned int kinds = 0;

	for (size_t i = 0; i < REFUSED_KINDS; i++)
		kinds += n->refused_kind[i] != 0;
	printf("test-vm-model: %u rounds: %u committed, %u refused (%u of %u kinds made, %u met), "
	       "%u queued, "
	       "%u given up, %u lone (%u refused); requests: %u maps (%u remaps), %u keeps (%u other prot), "
	       "%u repeats, %u unmaps, %u holes; %" PRIu64 " block hits, up to %" PRIu64
	       " VAs and %" PRIu64 " tables\n",
	       n->rounds, n->committed, n->refused, kinds, REFUSED_KINDS,
	       n->refused_kind[REFUSED_NATURALLY], n->queued, n->given_up, n->lone, n->lone_refused,
	       n->maps, n->remaps, n->keeps, n->keep_prot, n->repeats, n->unmaps, n->holes,
	       n->block_hits, n->max_vas, n->max_tables);
	for (size_t i = 0; i <= REFUSED_KINDS; i++)
		printf("%s%u", i ? " " : "  refused by kind:", n->refused_kind[i]);
	printf("\n");
	if (r->hooks)
		printf("  hooks: %" PRIu64 " ops prepared, %" PRIu64 " committed\n", r->h.prepares,
		       r->h.commits);
	if (n->rounds < COVERAGE_MIN_COUNT)
		return;
	snprintf(r->what, sizeof(r->what), "coverage");
	if (!n->committed || !n->refused || kinds < REFUSED_KINDS ||
	    !n->refused_kind[REFUSED_NATURALLY] || !n->queued || !n->given_up || !n->lone_refused ||
	    n->lone == n->lone_refused || !n->keeps || !n->keep_prot || !n->holes || !n->remaps ||
	    !n->block_hits || n->max_vas < 20)
		run_fail(r, "the random run did not cover every kind of array");
}

/* Unmap every zone in one array; then destroy and check nothing is left. */
static void run_fini(struct run *r)
{
	struct gvm_req q[ARRAY_SIZE(zones)];
	unsigned int failed;

	snprintf(r->what, sizeof(r->what), "teardown");
	for (size_t z = 0; z < ARRAY_SIZE(zones); z++)
		q[z] = (struct gvm_req){ .type = GVM_REQ_UNMAP,
					 .va = zones[z].lo,
					 .size = zones[z].hi - zones[z].lo };
	check_rc(r, "gvm_bind", gvm_bind(r->env.vm, q, ARRAY_SIZE(zones), &failed), 0);
	r->model.n = 0;
	check_committed(r, true);
	check_eq(r, "pool pages with nothing mapped", vm_test_pages(&r->env), 1);
	vm_test_fini(&r->env);
	check_eq(r, "VM memory after gvm_destroy", (uint64_t)r->env.host_live, 0);
	if (r->hooks)
		check_eq(r, "links after gvm_destroy", (uint64_t)r->h.links, 0);
	for (int i = 0; i < NR_OBJS; i++)
		vm_test_obj_fini(&r->objs[i]);
	model_free(&r->model);
}

static void run_model(bool hooks, unsigned int rounds)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	run_init(r, hooks);
	check_committed(r, true);
	for (r->round = 0; r->round < rounds; r->round++)
		run_round(r);
	check_coverage(r);
	run_fini(r);
	free(r);
}

static void test_model(void **state)
{
	(void)state;
	run_model(false, opt_count);
}

/* Half as many rounds: the hooks' counts ride on the same checks. */
static void test_model_hooks(void **state)
{
	(void)state;
	run_model(true, opt_count / 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_model_hooks),
	};
	const struct tu_args args = { "test-vm-model", &opt_seed, &opt_count };

	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
