// SPDX-License-Identifier: MIT
/*
 * vm-bench: the VA manager under random binds at a million VAs.
 *
 * A VM gets --vas 4K VAs (one every other page of a window), then --requests
 * random one-request binds: map a 4K slot (replacing what is there) or unmap
 * one. The same request stream runs through three managers in one process:
 *
 *   gvm + paging    the real thing: VA tree, transaction, page tables
 *   gvm + identity  the same VA manager with no tables to build
 *   sorted array    a VA manager kept as a sorted array (binary search,
 *                   memmove): the baseline
 *
 * Usage: vm-bench [--vas N] [--requests N] [--json]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpuvm/gvm.h>

#include "bench-util.h"

#define PAGE 4096ull
#define WINDOW_BASE (1ull << 32)

struct opts {
	uint64_t vas, requests;
	bool json;
};

struct result {
	double paging_ns, identity_ns, baseline_ns;
	uint64_t vas_paging, vas_identity, vas_baseline;
	size_t va_struct_bytes;
	double va_bytes_per_va, index_bytes_per_va;
};

/* An object whose page i is at physical address WINDOW_BASE + i * PAGE. */
struct flat_obj {
	struct gvm_obj obj;
};

static int flat_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	*pa = WINDOW_BASE + offset;
	*contig = obj->size - offset;
	return 0;
}

static const struct gvm_obj_ops flat_ops = { .phys = flat_phys };

/* Request i of the stream: slot and kind, the same for every manager. */
static void request(uint64_t *seed, uint64_t slots, uint64_t *slot, bool *map)
{
	uint64_t r = bench_xorshift(seed);

	*slot = bench_below(r, slots);
	*map = r & 1;
}

static struct gvm_req slot_req(struct flat_obj *o, uint64_t slot, bool map)
{
	uint64_t va = WINDOW_BASE + slot * PAGE;

	if (!map)
		return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = va, .size = PAGE };
	/* Identity needs PA == VA: the object maps the window onto itself. */
	return (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = va,
				 .size = PAGE,
				 .obj = &o->obj,
				 .offset = slot * PAGE,
				 .prot = PT_PROT_READ | PT_PROT_WRITE };
}

static void bind_one(struct gvm *vm, const struct gvm_req *req)
{
	int err = gvm_bind(vm, req, 1, NULL);

	if (err)
		bench_die("gvm_bind", err);
}

/* Populate every other slot, then time the request stream; ns per request. */
static double run_gvm(struct gvm *vm, struct flat_obj *o, const struct opts *op)
{
	uint64_t seed = 0x853c49e6748fea9bull, slots = 2 * op->vas;
	double t0;

	for (uint64_t i = 0; i < op->vas; i++) {
		struct gvm_req req = slot_req(o, 2 * i, true);

		bind_one(vm, &req);
	}
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < op->requests; i++) {
		uint64_t slot;
		bool map;
		struct gvm_req req;

		request(&seed, slots, &slot, &map);
		req = slot_req(o, slot, map);
		bind_one(vm, &req);
	}
	return (bench_now_ns() - t0) / (double)op->requests;
}

static struct gvm *make_vm(const struct gvm_backend_ops *backend, const void *backend_cfg)
{
	struct gvm_cfg cfg = {
		.start = WINDOW_BASE,
		.end = 1ull << 47,
		.page_lg2 = 12,
		.backend = backend,
		.backend_cfg = backend_cfg,
	};
	struct gvm *vm;
	int err = gvm_create(&cfg, &vm);

	if (err)
		bench_die("gvm_create", err);
	return vm;
}

static double bench_gvm(struct bench_env *env, const struct gvm_backend_ops *backend,
			const struct opts *op, struct result *r, uint64_t *vas)
{
	struct flat_obj o;
	struct gvm_stats st;
	struct gvm *vm;
	double ns;

	if (gvm_obj_init(&o.obj, &flat_ops, 2 * op->vas * PAGE))
		bench_die("gvm_obj_init", -EINVAL);
	vm = make_vm(backend, backend == &gvm_backend_paging ? &env->cfg : NULL);
	ns = run_gvm(vm, &o, op);
	gvm_get_stats(vm, &st);
	*vas = st.vas;
	r->va_struct_bytes = st.bytes_per_va;
	r->va_bytes_per_va = st.vas ? (double)st.va_bytes / (double)st.vas : 0;
	r->index_bytes_per_va = st.vas ? (double)st.index_bytes / (double)st.vas : 0;
	if (gvm_destroy(vm))
		bench_die("gvm_destroy", -ENOMEM);
	gvm_obj_fini(&o.obj);
	return ns;
}

/* The baseline: VAs in an array sorted by address (all VAs are one slot here). */
struct sorted {
	uint64_t *va;
	uint64_t nr;
};

static uint64_t lower_bound(const struct sorted *s, uint64_t va)
{
	uint64_t lo = 0, hi = s->nr;

	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;

		if (s->va[mid] < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void sorted_apply(struct sorted *s, uint64_t va, bool map)
{
	uint64_t i = lower_bound(s, va);
	bool present = i < s->nr && s->va[i] == va;

	if (map && !present) {
		memmove(&s->va[i + 1], &s->va[i], (s->nr - i) * sizeof(*s->va));
		s->va[i] = va;
		s->nr++;
	} else if (!map && present) {
		memmove(&s->va[i], &s->va[i + 1], (s->nr - i - 1) * sizeof(*s->va));
		s->nr--;
	}
}

static double bench_baseline(const struct opts *op, uint64_t *vas)
{
	struct sorted s = { .va = calloc(2 * op->vas + 1, sizeof(uint64_t)) };
	uint64_t seed = 0x853c49e6748fea9bull, slots = 2 * op->vas;
	double t0;

	if (!s.va)
		bench_die("calloc", -ENOMEM);
	for (uint64_t i = 0; i < op->vas; i++)
		s.va[s.nr++] = WINDOW_BASE + 2 * i * PAGE;
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < op->requests; i++) {
		uint64_t slot;
		bool map;

		request(&seed, slots, &slot, &map);
		sorted_apply(&s, WINDOW_BASE + slot * PAGE, map);
	}
	t0 = (bench_now_ns() - t0) / (double)op->requests;
	*vas = s.nr;
	free(s.va);
	return t0;
}

static void print_text(const struct opts *op, const struct result *r)
{
	printf("vm-bench: %" PRIu64 " 4K VAs, %" PRIu64 " random one-request binds\n\n", op->vas,
	       op->requests);
	printf("%-28s %14s %14s %12s\n", "", "ns/request", "requests/s", "VAs after");
	printf("%-28s %14.1f %14.0f %12" PRIu64 "\n", "gvm + paging (tables)", r->paging_ns,
	       1e9 / r->paging_ns, r->vas_paging);
	printf("%-28s %14.1f %14.0f %12" PRIu64 "\n", "gvm + identity (no tables)", r->identity_ns,
	       1e9 / r->identity_ns, r->vas_identity);
	printf("%-28s %14.1f %14.0f %12" PRIu64 "\n", "sorted array baseline", r->baseline_ns,
	       1e9 / r->baseline_ns, r->vas_baseline);
	printf("\ngvm + paging is %.1fx the baseline in this run\n", r->baseline_ns / r->paging_ns);
	printf("bytes per VA: %.1f = %.1f VA objects (struct gvm_va is %zu, in slabs) + %.1f "
	       "index (B+ tree nodes, spares included)\n",
	       r->va_bytes_per_va + r->index_bytes_per_va, r->va_bytes_per_va, r->va_struct_bytes,
	       r->index_bytes_per_va);
	printf("targets: >= 1M requests/s at 1M VAs, <= 128 bytes per VA\n");
}

static void print_json(const struct opts *op, const struct result *r)
{
	printf("{\"vas\": %" PRIu64 ", \"requests\": %" PRIu64 ", ", op->vas, op->requests);
	printf("\"requests_per_s\": %.0f, \"ns_per_request\": %.2f, ", 1e9 / r->paging_ns,
	       r->paging_ns);
	printf("\"identity_requests_per_s\": %.0f, \"identity_ns_per_request\": %.2f, ",
	       1e9 / r->identity_ns, r->identity_ns);
	printf("\"baseline_requests_per_s\": %.0f, \"baseline_ns_per_request\": %.2f, ",
	       1e9 / r->baseline_ns, r->baseline_ns);
	printf("\"speedup_vs_baseline\": %.2f, ", r->baseline_ns / r->paging_ns);
	printf("\"bytes_per_va\": %.2f, \"va_object_bytes_per_va\": %.2f, ",
	       r->va_bytes_per_va + r->index_bytes_per_va, r->va_bytes_per_va);
	printf("\"index_bytes_per_va\": %.2f, \"va_struct_bytes\": %zu}\n", r->index_bytes_per_va,
	       r->va_struct_bytes);
}

static int parse(int argc, char **argv, struct opts *op)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			op->json = true;
		else if (i + 1 < argc && !strcmp(argv[i], "--vas"))
			op->vas = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--requests"))
			op->requests = strtoull(argv[++i], NULL, 0);
		else
			return -EINVAL;
	}
	return op->vas && op->requests && op->vas < (1ull << 30) ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct opts op = { .vas = 1000000, .requests = 1000000 };
	struct bench_env env = { 0 };
	struct result r = { 0 };

	if (parse(argc, argv, &op)) {
		fprintf(stderr, "usage: vm-bench [--vas N] [--requests N] [--json]\n");
		return 2;
	}
	bench_env_init(&env);
	r.paging_ns = bench_gvm(&env, &gvm_backend_paging, &op, &r, &r.vas_paging);
	r.identity_ns = bench_gvm(&env, &gvm_backend_identity, &op, &r, &r.vas_identity);
	r.baseline_ns = bench_baseline(&op, &r.vas_baseline);
	if (r.vas_paging != r.vas_baseline || r.vas_identity != r.vas_baseline)
		bench_die("managers disagree on the VAs left", -EIO);
	if (op.json)
		print_json(&op, &r);
	else
		print_text(&op, &r);
	bench_env_fini(&env);
	return 0;
}
