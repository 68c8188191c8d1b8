// SPDX-License-Identifier: MIT
/*
 * fuzz-bind: bind arrays against vm/ and pgtable/, with a reference map as
 * the oracle (libFuzzer target).
 *
 * The input is a sequence of arrays of 1-4 requests: linear maps of
 * contiguous and fragmented objects, repeat maps (a dummy page repeated, as a
 * sparse map is; small ranges), unmaps, and requests the VM must refuse (bad
 * protections, ranges outside the VM or over its reserved range, repeat cuts
 * off the period). Each array runs through gvm_bind() on a VM over the
 * paging backend (Mali AArch64, 4K, the pgtable test harness's pool). The
 * extent model (tests/common/extent-model.h) applies drm_gpuvm's rules
 * (gpuvm-split-merge.md) to the same array: all of it, or nothing when a
 * request is refused.
 *
 * After every array:
 * - the result (success, or failure at the model's request index) agrees;
 * - the VM's VAs equal the model's extents one to one;
 * - every page of the touched range and a 2 MiB margin (at most
 *   WINDOW_PAGES, else its ends and samples) translates as the model says,
 *   through pt_walk() and through the harness's walker by PA, which decodes
 *   with the independent decoder (tests/common/lpae-decode.h);
 * - gvm_validate() passes (and pt_validate(), every PT_VALIDATE_EVERY
 *   arrays and at the end) and each object holds one reference per VA.
 * At the end everything is unmapped and the pool holds the tables of an
 * empty VM again.
 *
 * Run: build-fuzz/tests/fuzz/fuzz-bind CORPUS... (tools/fuzz-run fuzz-bind).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <gpuvm/print_file.h>

#include "fuzz-input.h"
#include "vm-test.h"

#define MAX_ARRAYS 40
#define MAX_REQS 4
#define PAGE 4096ull
#define BLOCK (2ull << 20)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define WINDOW_PAGES 64
#define PT_VALIDATE_EVERY 8
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define R PT_PROT_READ
#define W PT_PROT_WRITE
#define X PT_PROT_EXEC
#define C PT_PROT_CACHE

struct obj_spec {
	uint64_t size, pa, frag;
};

enum {
	OBJ_BIG,
	OBJ_FRAG64K,
	OBJ_FRAG2M,
	OBJ_SMALL,
	OBJ_DUMMY,
	NR_OBJS
};

static const struct obj_spec obj_specs[NR_OBJS] = {
	[OBJ_BIG] = { 16 * MiB, 1 * GiB, 0 },
	[OBJ_FRAG64K] = { 8 * MiB, 3 * GiB, 64 * 1024 },
	[OBJ_FRAG2M] = { 16 * MiB, 4 * GiB, 2 * MiB },
	[OBJ_SMALL] = { 64 * 1024, 5 * GiB, 0 },
	[OBJ_DUMMY] = { PAGE, 5 * GiB + MiB, 0 },
};

static const struct gvm_range reserved[] = { { 8 * GiB, 8 * GiB + 8 * MiB } };

/* Where requests land: both ends of the VM, table boundaries, around the reserved range. */
static const struct gvm_range zones[] = {
	{ VM_TEST_START, VM_TEST_START + 48 * MiB }, { 1 * GiB - 24 * MiB, 1 * GiB + 24 * MiB },
	{ 8 * GiB - 16 * MiB, 8 * GiB + 24 * MiB },  { 512 * GiB - 24 * MiB, 512 * GiB + 24 * MiB },
	{ VM_TEST_END - 48 * MiB, VM_TEST_END },
};

/* The first five are what the paging backend maps; the rest it must refuse. */
static const uint32_t prots[] = {
	R, R | W, R | X, R | W | C, R | W | X | C, 0, W, R | PT_PROT_MMIO | C
};
#define NR_GOOD_PROTS 5

struct run {
	struct vm_test_env env;
	struct vm_test_obj objs[NR_OBJS];
	struct vm_test_rules rules; /* what the VM accepts: the model's oracle (vm-test.h) */
	struct model model;
	uint64_t empty_pages;
	unsigned int array;
};

/* ---- Requests from the input ---- */

static uint64_t gen_va(struct fz_in *in)
{
	const struct gvm_range *z = &zones[fz_below(in, ARRAY_SIZE(zones))];
	uint64_t pages = (z->end - z->start) / PAGE;
	uint64_t va = z->start + fz_take(in, 2) % pages * PAGE;

	return fz_take(in, 1) & 1 ? va - va % BLOCK : va;
}

/* Mostly a few pages, sometimes whole blocks, sometimes any 16-bit page count. */
static uint64_t gen_size(struct fz_in *in)
{
	unsigned int how = (unsigned int)fz_take(in, 1);

	if (how < 128)
		return (1 + how % 16) * PAGE;
	if (how < 192)
		return (1 + how % 4) * BLOCK;
	return (1 + fz_take(in, 2)) * PAGE;
}

static void gen_map(const struct run *r, struct fz_in *in, struct gvm_req *q)
{
	unsigned int o = (unsigned int)fz_below(in, NR_OBJS);
	uint64_t pages = obj_specs[o].size / PAGE;

	q->type = GVM_REQ_MAP;
	q->obj = (struct gvm_obj *)&r->objs[o].obj;
	q->offset = fz_take(in, 2) % pages * PAGE;
	q->size = gen_size(in);
	q->prot = prots[fz_below(in, ARRAY_SIZE(prots))];
	if (fz_take(in, 1) & 1)
		q->offset -= q->offset % BLOCK;
}

/* A repeat map: the dummy page (a sparse map) or a small range of an object. */
static void gen_repeat(const struct run *r, struct fz_in *in, struct gvm_req *q)
{
	unsigned int shape = (unsigned int)fz_take(in, 1);

	gen_map(r, in, q);
	if (shape & 1) {
		q->obj = (struct gvm_obj *)&r->objs[OBJ_DUMMY].obj;
		q->offset = 0;
	}
	q->repeat = PAGE << (shape >> 1) % 5;
	q->size = q->repeat * (1 + fz_take(in, 2) % 1024);
}

/* Anything: the fields straight from the input (mostly refused). */
static void gen_raw(const struct run *r, struct fz_in *in, struct gvm_req *q)
{
	unsigned int o = (unsigned int)fz_take(in, 1);

	q->type = fz_take(in, 1) & 1 ? GVM_REQ_UNMAP : GVM_REQ_MAP;
	q->va = fz_take(in, 8);
	q->size = fz_take(in, 8);
	q->obj = o < NR_OBJS ? (struct gvm_obj *)&r->objs[o].obj : NULL;
	q->offset = fz_take(in, 4);
	q->repeat = fz_take(in, 4);
	q->prot = (uint32_t)fz_take(in, 1) & PT_PROT_ALL;
	if (q->type == GVM_REQ_MAP && q->obj && q->size > 64 * GiB)
		q->size %= 64 * GiB; /* bound the walks a valid one would need */
}

static void gen_req(const struct run *r, struct fz_in *in, struct gvm_req *q)
{
	unsigned int kind = (unsigned int)fz_take(in, 1) % 8;

	*q = (struct gvm_req){ 0 };
	if (kind == 7) {
		gen_raw(r, in, q);
		return;
	}
	if (kind < 3)
		gen_map(r, in, q);
	else if (kind < 5)
		gen_repeat(r, in, q);
	else
		q->type = GVM_REQ_UNMAP, q->size = gen_size(in);
	q->va = gen_va(in);
}

/* ---- Checks ---- */

static void check_page(struct run *r, uint64_t va)
{
	struct pt *pt = gvm_get_pt(r->env.vm);
	const struct extent *x = model_at(&r->model, va);
	struct pt_walk_result w;
	uint64_t want_pa = 0, hw_pa = 0;
	uint32_t hw_prot = 0;
	unsigned int hw_level;
	int rc = pt_walk(pt, va, &w);
	int hw = pt_test_hw_walk(&r->env.pt, pt, va, &hw_pa, &hw_prot, &hw_level);

	if (x)
		want_pa = vm_test_extent_pa(&r->rules, x, va);
	if (rc != (x ? 0 : -ENOENT) || (x && (w.pa != want_pa || w.prot != x->prot)))
		fz_fail("array %u: pt_walk(0x%" PRIx64 ") = %d pa 0x%" PRIx64 " prot 0x%x; "
			"model: %s pa 0x%" PRIx64 " prot 0x%x",
			r->array, va, rc, w.pa, w.prot, x ? "mapped" : "unmapped", want_pa,
			x ? x->prot : 0);
	if (hw != rc || (x && (hw_pa != want_pa || hw_prot != x->prot)))
		fz_fail("array %u: walk by PA (0x%" PRIx64 ") = %d pa 0x%" PRIx64 " prot 0x%x; "
			"model: pa 0x%" PRIx64 " prot 0x%x",
			r->array, va, hw, hw_pa, hw_prot, want_pa, x ? x->prot : 0);
}

/* Both sides of @va, a boundary where translations may change. */
static void check_edge(struct run *r, uint64_t va)
{
	if (va > VM_TEST_START && va <= VM_TEST_END)
		check_page(r, va - PAGE);
	if (va >= VM_TEST_START && va < VM_TEST_END)
		check_page(r, va);
}

/*
 * The touched range [lo, hi): every page of it and a few pages around when
 * it is small, else its edges; in both cases the edges of the 2 MiB blocks
 * around its ends (where tables split) and of every extent within 2 MiB.
 */
static void check_window(struct run *r, uint64_t lo, uint64_t hi)
{
	uint64_t mlo = lo < VM_TEST_START + BLOCK ? VM_TEST_START : lo - BLOCK;
	uint64_t mhi = hi > VM_TEST_END - BLOCK ? VM_TEST_END : hi + BLOCK;

	if ((hi - lo) / PAGE <= WINDOW_PAGES) {
		for (uint64_t va = max_u64(lo, mlo + 4 * PAGE) - 4 * PAGE;
		     va < min_u64(hi + 4 * PAGE, mhi); va += PAGE)
			check_page(r, va);
	}
	check_edge(r, lo);
	check_edge(r, hi);
	for (int k = -1; k <= 1; k++) {
		check_edge(r, lo - lo % BLOCK + (uint64_t)k * BLOCK);
		check_edge(r, hi - hi % BLOCK + (uint64_t)k * BLOCK);
	}
	for (size_t i = model_find(&r->model, mlo); i < r->model.n && r->model.e[i].va < mhi; i++) {
		check_edge(r, r->model.e[i].va);
		check_edge(r, r->model.e[i].end);
	}
}

/* The VM's VAs are the model's extents, one to one; references match. */
static void check_vas(struct run *r)
{
	long refs[NR_OBJS] = { 0 };
	size_t i = 0;

	for (struct gvm_va *va = gvm_va_first(r->env.vm, VM_TEST_START, VM_TEST_END); va;
	     va = gvm_va_next(r->env.vm, va, VM_TEST_END), i++) {
		const struct extent *x = i < r->model.n ? &r->model.e[i] : NULL;
		int o = vm_test_obj_index(&r->rules, va->bo->obj);

		if (!x || va->va != x->va || va->size != x->end - x->va || o != (int)x->obj ||
		    va->offset != extent_pa(x, x->va) || va->repeat != x->period ||
		    va->prot != x->prot)
			fz_fail("array %u: VA %zu [0x%" PRIx64 ", +0x%" PRIx64 ") differs from the "
				"model's extent",
				r->array, i, va->va, va->size);
		refs[o]++;
	}
	if (i != r->model.n)
		fz_fail("array %u: %zu VAs, the model has %zu", r->array, i, r->model.n);
	for (int o = 0; o < NR_OBJS; o++)
		if (r->objs[o].refs != refs[o])
			fz_fail("array %u: object %d holds %ld references for %ld VAs", r->array, o,
				r->objs[o].refs, refs[o]);
	if (gvm_validate(r->env.vm, gpuvm_print_file, stderr))
		fz_fail("array %u: gvm_validate() failed", r->array);
	/* pt_validate() reads every table: most of a run's time if it ran every time. */
	if (r->array % PT_VALIDATE_EVERY == 0 &&
	    pt_validate(gvm_get_pt(r->env.vm), gpuvm_print_file, stderr))
		fz_fail("array %u: pt_validate() failed", r->array);
}

/* One array: the VM and the model must agree on the outcome and the result. */
static void run_array(struct run *r, const struct gvm_req *reqs, unsigned int n)
{
	struct model next = { 0 };
	unsigned int refused = n, failed = n;
	uint64_t lo = UINT64_MAX, hi = 0, pages = vm_test_pages(&r->env);
	int rc;

	model_copy(&next, &r->model);
	for (unsigned int i = 0; i < n && refused == n; i++)
		if (!vm_test_model_apply(&r->rules, &next, &reqs[i]))
			refused = i;
	rc = gvm_bind(r->env.vm, reqs, n, &failed);
	if ((rc != 0) != (refused < n) || (rc && failed != refused))
		fz_fail("array %u: gvm_bind() = %d (failed at %u), the model %s at %u", r->array,
			rc, failed, refused < n ? "refuses" : "accepts", refused);
	if (!rc)
		model_copy(&r->model, &next);
	else if (vm_test_pages(&r->env) != pages)
		fz_fail("array %u: a refused array left %" PRIu64 " table pages, not %" PRIu64,
			r->array, vm_test_pages(&r->env), pages);
	model_free(&next);
	check_vas(r);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t end;

		if (vm_test_range_ok(&r->rules, reqs[i].va, reqs[i].size) ||
		    !__builtin_add_overflow(reqs[i].va, reqs[i].size, &end)) {
			lo = min_u64(lo, max_u64(reqs[i].va, VM_TEST_START));
			hi = max_u64(hi, min_u64(reqs[i].va + reqs[i].size, VM_TEST_END));
		}
	}
	if (lo < hi)
		check_window(r, lo - lo % PAGE, hi + (PAGE - hi % PAGE) % PAGE);
}

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	vm_test_init(&r->env, reserved, ARRAY_SIZE(reserved));
	for (int o = 0; o < NR_OBJS; o++)
		vm_test_obj_init(&r->objs[o], obj_specs[o].size, obj_specs[o].pa,
				 obj_specs[o].frag);
	r->rules = (struct vm_test_rules){ .objs = r->objs,
					   .nr_objs = NR_OBJS,
					   .reserved = reserved,
					   .nr_reserved = ARRAY_SIZE(reserved),
					   .prots = prots,
					   .nr_prots = NR_GOOD_PROTS };
	r->empty_pages = vm_test_pages(&r->env);
}

/* Unmap everything: the VM is empty and holds the tables it started with. */
static void run_fini(struct run *r)
{
	const struct gvm_req all[] = {
		{ .type = GVM_REQ_UNMAP,
		  .va = VM_TEST_START,
		  .size = reserved[0].start - VM_TEST_START },
		{ .type = GVM_REQ_UNMAP,
		  .va = reserved[0].end,
		  .size = VM_TEST_END - reserved[0].end },
	};
	unsigned int failed;

	if (gvm_bind(r->env.vm, all, ARRAY_SIZE(all), &failed))
		fz_fail("unmapping everything failed at %u", failed);
	model_free(&r->model);
	r->array = 0; /* pt_validate() too */
	check_vas(r);
	if (vm_test_pages(&r->env) != r->empty_pages)
		fz_fail("an empty VM holds %" PRIu64 " table pages, it started with %" PRIu64,
			vm_test_pages(&r->env), r->empty_pages);
	vm_test_fini(&r->env);
	for (int o = 0; o < NR_OBJS; o++)
		vm_test_obj_fini(&r->objs[o]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	static struct run r;

	run_init(&r);
	while (!fz_empty(&in) && r.array < MAX_ARRAYS) {
		struct gvm_req reqs[MAX_REQS];
		unsigned int b = (unsigned int)fz_take(&in, 1);
		unsigned int n = b % 8 < 5 ? 1 : 2 + b % (MAX_REQS - 1);
		for (unsigned int i = 0; i < n; i++)
			gen_req(&r, &in, &reqs[i]);
		run_array(&r, reqs, n);
		r.array++;
	}
	run_fini(&r);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A cmocka assertion in the harness aborts (a crash libFuzzer records) instead of exit(). */
	setenv("CMOCKA_TEST_ABORT", "1", 1);
	return 0;
}
