// SPDX-License-Identifier: MIT
/*
 * pt-bench: page-table cases a driver runs, each labelled with exactly what it
 * does, in ns per unit (median of --reps runs, with the spread) and, under
 * tools/bench-instr, in instructions per unit.
 *
 * Per-call cases take the path a VM_BIND of one op takes: pt_resv_init(),
 * pt_reserve(), pt_commit_begin(), pt_commit(), pt_commit_end(),
 * pt_unreserve(), one op per call. Bulk cases are one pt_map()/pt_unmap()
 * over the whole range. Addresses are chosen so that the leaf size is the one
 * named: "2M blocks" are at 2M-aligned VAs and PAs that are not 1G-aligned,
 * so no 1G block can be used; 1G blocks are measured apart.
 *
 * The baseline takes the same number of table pages from the same allocator
 * and stores the same number of 8-byte descriptors into them with a plain
 * loop: the least any builder must do. The sparse and reservation figures
 * come from pt-bench-resv.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt-bench.h"

#define GRANULE BENCH_GRANULE
#define MAX_REPS BENCH_MAX_REPS
#define SZ_2M (2ull << 20)
#define SZ_1G (1ull << 30)

#define VA_BASE (4ull << 30)
#define PA_BASE (8ull << 30)
#define PROT (PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE)

struct bench_opts {
	uint64_t size, calls;
	uint64_t walks;
	unsigned int reps;
	uint64_t sparse_size, sparse_big, arrays;
	bool json;
};

/* One measured case: its name (JSON key, bench-instr key), label and unit. */
struct pt_case {
	const char *name;
	const char *label;
	const char *unit;
	double ns[MAX_REPS];
	struct bench_stat stat;
};

enum case_id {
	C_STORE,
	C_MAP_4K_BULK,
	C_UNMAP_4K_BULK,
	C_MAP_2M_BULK,
	C_UNMAP_2M_BULK,
	C_MAP_1G_BULK,
	C_MAP_4K_CALL,
	C_UNMAP_4K_CALL,
	C_MAP_64K_CALL,
	C_UNMAP_64K_CALL,
	C_MAP_2M_CALL,
	C_UNMAP_2M_CALL,
	C_UNMAP_LEAVES,
	C_WALK,
	NR_CASES
};

static struct pt_case cases[NR_CASES] = {
	[C_STORE] = { "store_per_desc", "plain store loop into pool pages", "descriptor" },
	[C_MAP_4K_BULK] = { "map_4k_bulk_per_page", "map 1 GiB of 4K pages, one pt_map()", "page" },
	[C_UNMAP_4K_BULK] = { "unmap_4k_bulk_per_page",
			      "unmap it, one pt_unmap() (unlinks whole tables)", "page" },
	[C_MAP_2M_BULK] = { "map_2m_per_block", "map 2M blocks (VA, PA not 1G-aligned), one call",
			    "block" },
	[C_UNMAP_2M_BULK] = { "unmap_2m_per_block", "unmap those 2M blocks, one call", "block" },
	[C_MAP_1G_BULK] = { "map_1g_per_block", "map 1G blocks (VA, PA 1G-aligned), one call",
			    "block" },
	[C_MAP_4K_CALL] = { "map_4k_call", "map 4K, one reserve/commit per page", "call" },
	[C_UNMAP_4K_CALL] = { "unmap_4k_call", "unmap 4K page by page, one reserve/commit each",
			      "call" },
	[C_MAP_64K_CALL] = { "map_64k_call", "map 64K (16 pages), one reserve/commit each",
			     "call" },
	[C_UNMAP_64K_CALL] = { "unmap_64k_call", "unmap 64K, one reserve/commit each", "call" },
	[C_MAP_2M_CALL] = { "map_2m_call", "map one 2M block, one reserve/commit each", "call" },
	[C_UNMAP_2M_CALL] = { "unmap_2m_call", "unmap one 2M block, one reserve/commit each",
			      "call" },
	[C_UNMAP_LEAVES] = { "unmap_leaves_per_page",
			     "unmap 2M-8K inside each leaf table (clears 510 leaves), per table",
			     "page" },
	[C_WALK] = { "walk", "pt_walk() at random addresses of the 1 GiB 4K mapping", "walk" },
};

struct bench_result {
	uint64_t descriptor_bytes_4k, meta_bytes_4k, tables_4k;
	uint64_t walk_checksum;
	struct sparse_result sparse;
	struct resv_result resv;
};

/* Time @fn's body as case @id, repetition @rep, over @units units. */
#define TIMED(id, rep, units, body)                                           \
	do {                                                                  \
		double t0_;                                                   \
		bench_case_begin();                                           \
		t0_ = bench_now_ns();                                         \
		body;                                                         \
		cases[id].ns[rep] = (bench_now_ns() - t0_) / (double)(units); \
		bench_case_end(cases[id].name, units);                        \
	} while (0)

/* Baseline: take @pages table pages from the pool and fill them with a plain loop. */
static void store_baseline(struct bench_env *env, uint64_t table_pages, unsigned int rep)
{
	struct pt_mem *mem = calloc(table_pages, sizeof(*mem));
	uint64_t desc = 0x403 | 0x100000000ull, per_page = GRANULE / 8;

	if (!mem)
		bench_die("calloc", -ENOMEM);
	TIMED(C_STORE, rep, table_pages * per_page, {
		for (uint64_t p = 0; p < table_pages; p++) {
			uint64_t *d;

			if (pt_pool_ops.alloc(env->pool, GRANULE, GRANULE, &mem[p]))
				bench_die("pool alloc", -ENOMEM);
			d = mem[p].cpu;
			for (uint64_t i = 0; i < per_page; i++)
				d[i] = desc + (p * per_page + i) * GRANULE;
		}
	});
	for (uint64_t p = 0; p < table_pages; p++)
		pt_pool_ops.free(env->pool, &mem[p], GRANULE, GRANULE);
	free(mem);
}

static void map_or_die(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size)
{
	int err = pt_map(pt, va, pa, size, PROT);

	if (err)
		bench_die("pt_map", err);
}

static void unmap_or_die(struct pt *pt, uint64_t va, uint64_t size, uint64_t expect)
{
	uint64_t unmapped;
	int err = pt_unmap(pt, va, size, &unmapped);

	if (err || unmapped != expect)
		bench_die("pt_unmap", err ? err : -EIO);
}

/* Bulk: 4K pages (PA not 2M-aligned), then 2M blocks, then 1G blocks. */
static void bulk_cases(struct bench_env *env, const struct bench_opts *o, unsigned int rep,
		       struct bench_result *r)
{
	uint64_t size = o->size, pages = size / GRANULE, blocks = size / SZ_2M;
	uint64_t gigs = size / SZ_1G ? size / SZ_1G : 1;
	struct pt *pt = bench_create_pt(env);
	struct pt_stats st;

	TIMED(C_MAP_4K_BULK, rep, pages, map_or_die(pt, VA_BASE, PA_BASE + GRANULE, size));
	pt_get_stats(pt, &st);
	r->descriptor_bytes_4k = st.table_bytes;
	r->meta_bytes_4k = st.meta_bytes;
	r->tables_4k = st.tables;
	TIMED(C_UNMAP_4K_BULK, rep, pages, unmap_or_die(pt, VA_BASE, size, size));
	TIMED(C_MAP_2M_BULK, rep, blocks, map_or_die(pt, VA_BASE + SZ_2M, PA_BASE + SZ_2M, size));
	TIMED(C_UNMAP_2M_BULK, rep, blocks, unmap_or_die(pt, VA_BASE + SZ_2M, size, size));
	TIMED(C_MAP_1G_BULK, rep, gigs, map_or_die(pt, VA_BASE, PA_BASE, gigs * SZ_1G));
	unmap_or_die(pt, VA_BASE, gigs * SZ_1G, gigs * SZ_1G);
	pt_destroy(pt);
}

/* One op through reserve and commit, as a VM_BIND of one op takes it. */
static void bind_one(struct pt *pt, const struct pt_op *op)
{
	struct pt_resv resv;
	uint64_t unmapped;
	int err;

	pt_resv_init(&resv);
	err = pt_reserve(pt, op, &resv);
	if (err)
		bench_die("pt_reserve", err);
	pt_commit_begin(pt, &resv);
	pt_commit(pt, &resv, op, &unmapped);
	pt_commit_end(pt, &resv);
	pt_unreserve(pt, &resv);
}

/* Map @n chunks of @chunk bytes one call each from VA_BASE + @skew, then unmap them likewise. */
static void per_call(struct pt *pt, uint64_t chunk, uint64_t n, uint64_t skew, unsigned int rep,
		     enum case_id map_id, enum case_id unmap_id)
{
	struct pt_op op = { .type = PT_OP_MAP, .size = chunk, .prot = PROT };

	TIMED(map_id, rep, n, {
		for (uint64_t i = 0; i < n; i++) {
			op.va = VA_BASE + skew + i * chunk;
			op.pa = PA_BASE + skew + i * chunk;
			bind_one(pt, &op);
		}
	});
	op = (struct pt_op){ .type = PT_OP_UNMAP, .size = chunk };
	TIMED(unmap_id, rep, n, {
		for (uint64_t i = 0; i < n; i++) {
			op.va = VA_BASE + skew + i * chunk;
			bind_one(pt, &op);
		}
	});
}

static void call_cases(struct bench_env *env, const struct bench_opts *o, unsigned int rep)
{
	struct pt *pt = bench_create_pt(env);
	uint64_t bytes = o->calls * GRANULE;

	per_call(pt, GRANULE, o->calls, 0, rep, C_MAP_4K_CALL, C_UNMAP_4K_CALL);
	per_call(pt, 16 * GRANULE, bytes / (16 * GRANULE), 0, rep, C_MAP_64K_CALL,
		 C_UNMAP_64K_CALL);
	per_call(pt, SZ_2M, bytes / SZ_2M ? bytes / SZ_2M : 1, SZ_2M, rep, C_MAP_2M_CALL,
		 C_UNMAP_2M_CALL);
	pt_destroy(pt);
}

/* Unmap ranges inside leaf tables: every leaf of [base + 4K, base + 2M - 4K) is cleared. */
static void leaf_clear_case(struct bench_env *env, const struct bench_opts *o, unsigned int rep)
{
	struct pt *pt = bench_create_pt(env);
	uint64_t tables = o->size / SZ_2M, inner = SZ_2M - 2 * GRANULE;

	map_or_die(pt, VA_BASE, PA_BASE + GRANULE, o->size);
	TIMED(C_UNMAP_LEAVES, rep, tables * (inner / GRANULE), {
		for (uint64_t t = 0; t < tables; t++)
			unmap_or_die(pt, VA_BASE + t * SZ_2M + GRANULE, inner, inner);
	});
	pt_destroy(pt);
}

#define WALK_VAS 65536 /* addresses drawn before the timed loop, used in turn */

/* Random walks over a 4K mapping of --size: pt_walk() and a load of its address. */
static void walk_case(struct bench_env *env, const struct bench_opts *o, unsigned int rep,
		      uint64_t *checksum)
{
	struct pt *pt = bench_create_pt(env);
	uint64_t *vas = malloc(WALK_VAS * sizeof(*vas));
	struct pt_walk_result res;
	uint64_t seed = 0x9e3779b97f4a7c15ull, sum = 0;

	if (!vas)
		bench_die("malloc", -ENOMEM);
	for (unsigned int i = 0; i < WALK_VAS; i++)
		vas[i] = VA_BASE + bench_below(bench_xorshift(&seed), o->size);
	map_or_die(pt, VA_BASE, PA_BASE + GRANULE, o->size);
	TIMED(C_WALK, rep, o->walks, {
		for (uint64_t i = 0; i < o->walks; i++) {
			if (pt_walk(pt, vas[i % WALK_VAS], &res))
				bench_die("pt_walk", -EFAULT);
			sum += res.pa;
		}
	});
	pt_destroy(pt);
	free(vas);
	*checksum += sum;
}

static void run(struct bench_env *env, const struct bench_opts *o, struct bench_result *r)
{
	uint64_t pages = o->size / GRANULE;

	/* Warm the pool so that no figure pays for first-touch page faults. */
	bulk_cases(env, o, 0, r);
	for (unsigned int i = 0; i < o->reps; i++) {
		store_baseline(env, pages / (GRANULE / 8), i);
		bulk_cases(env, o, i, r);
		call_cases(env, o, i);
		leaf_clear_case(env, o, i);
		walk_case(env, o, i, &r->walk_checksum);
	}
	for (unsigned int c = 0; c < NR_CASES; c++)
		bench_stat(cases[c].ns, o->reps, &cases[c].stat);
	bench_sparse(env, o->sparse_size, o->sparse_big, o->reps, &r->sparse);
	bench_resv(env, o->arrays, &r->resv);
}

static void print_core(const struct bench_opts *o, const struct bench_result *r)
{
	double s = cases[C_STORE].stat.median;

	printf("pt-bench: mali-aarch64 4K granule, ias 48, oas 40, coherent walker\n");
	printf("          bulk %" PRIu64 " MiB, %" PRIu64 " per-call pages, median of %u runs"
	       " (spread = max-min over median), %" PRIu64 " walks per run\n\n",
	       o->size >> 20, o->calls, o->reps, o->walks);
	printf("%-66s %10s %8s %9s\n", "", "ns/unit", "spread", "x store");
	for (unsigned int c = 0; c < NR_CASES; c++) {
		const struct pt_case *k = &cases[c];
		char label[96];

		snprintf(label, sizeof(label), "%s (per %s)", k->label, k->unit);
		printf("%-66s %10.3f %7.0f%% %9.1f\n", label, k->stat.median,
		       bench_spread_pct(&k->stat), k->stat.median / s);
	}
	printf("\ntables for 1 GiB at 4K: %" PRIu64 " tables, %" PRIu64
	       " descriptor bytes + %" PRIu64 " metadata bytes = %.3fx the descriptors\n",
	       r->tables_4k, r->descriptor_bytes_4k, r->meta_bytes_4k,
	       (double)(r->descriptor_bytes_4k + r->meta_bytes_4k) /
		       (double)r->descriptor_bytes_4k);
}

static void print_sparse(const struct bench_opts *o, const struct sparse_result *s)
{
	printf("\none dummy 4K page repeated %28s %14s %14s\n", "ms", "table bytes", "metadata");
	printf("  %4" PRIu64 " GiB shared, one call %20.4f %14" PRIu64 " %14" PRIu64 "\n",
	       o->sparse_size >> 30, s->sparse_ms, s->sparse_table_bytes, s->sparse_meta_bytes);
	printf("  %4" PRIu64 " GiB one pt_map() per page %15.1f %14" PRIu64 "\n",
	       o->sparse_size >> 30, s->unshared_ms, s->unshared_table_bytes);
	printf("  %4" PRIu64 " GiB shared, one call %20.4f %14" PRIu64 "\n", o->sparse_big >> 30,
	       s->sparse_big_ms, s->sparse_big_table_bytes);
	printf("  one shared call is %.0fx faster than our own pt_map() page by page (a driver\n"
	       "  looping over map_pages would do that), with %.0fx less table memory\n",
	       s->unshared_ms / s->sparse_ms,
	       (double)s->unshared_table_bytes / (double)s->sparse_table_bytes);
}

static void print_resv(const struct resv_result *v)
{
	printf("\nreservations, %" PRIu64 " random bind arrays (%" PRIu64 " ops)\n", v->arrays,
	       v->ops);
	printf("  pages reserved %" PRIu64 ", consumed %" PRIu64 " (ratio %.2f)\n", v->reserved,
	       v->consumed, v->consumed ? (double)v->reserved / (double)v->consumed : 0.0);
	printf("  panthor's worst-case formula: %" PRIu64 " pages (%.1fx what pt_reserve took)\n",
	       v->panthor, v->reserved ? (double)v->panthor / (double)v->reserved : 0.0);
}

static void print_json(const struct bench_opts *o, const struct bench_result *r)
{
	const struct sparse_result *sp = &r->sparse;
	const struct resv_result *v = &r->resv;

	printf("{\"format\": \"mali-aarch64\", \"granule\": 4096, \"size_bytes\": %" PRIu64
	       ", \"calls\": %" PRIu64 ", \"reps\": %u, \"walks\": %" PRIu64 ", ",
	       o->size, o->calls, o->reps, o->walks);
	for (unsigned int c = 0; c < NR_CASES; c++)
		printf("\"%s_ns\": %.4f, \"%s_spread_pct\": %.1f, ", cases[c].name,
		       cases[c].stat.median, cases[c].name, bench_spread_pct(&cases[c].stat));
	printf("\"tables_1g_4k\": %" PRIu64 ", \"descriptor_bytes_1g_4k\": %" PRIu64
	       ", \"table_bytes_with_metadata_1g_4k\": %" PRIu64 ", ",
	       r->tables_4k, r->descriptor_bytes_4k, r->descriptor_bytes_4k + r->meta_bytes_4k);
	printf("\"sparse_size_bytes\": %" PRIu64 ", \"sparse_64g_ms\": %.6f, "
	       "\"sparse_64g_table_bytes\": %" PRIu64 ", \"sparse_64g_meta_bytes\": %" PRIu64 ", ",
	       o->sparse_size, sp->sparse_ms, sp->sparse_table_bytes, sp->sparse_meta_bytes);
	printf("\"unshared_64g_ms\": %.3f, \"unshared_64g_table_bytes\": %" PRIu64 ", ",
	       sp->unshared_ms, sp->unshared_table_bytes);
	printf("\"sparse_big_size_bytes\": %" PRIu64 ", \"sparse_1t_ms\": %.6f, "
	       "\"sparse_1t_table_bytes\": %" PRIu64 ", ",
	       o->sparse_big, sp->sparse_big_ms, sp->sparse_big_table_bytes);
	printf("\"resv_arrays\": %" PRIu64 ", \"resv_reserved_pages\": %" PRIu64
	       ", \"resv_consumed_pages\": %" PRIu64 ", \"panthor_formula_pages\": %" PRIu64 "}\n",
	       v->arrays, v->reserved, v->consumed, v->panthor);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'G':
		v <<= 30;
		break;
	case 'M':
		v <<= 20;
		break;
	case 'K':
		v <<= 10;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_one(struct bench_opts *o, const char *a, const char *v, uint64_t *reps)
{
	static const struct {
		const char *name;
		size_t off;
	} opts[] = {
		{ "--size", offsetof(struct bench_opts, size) },
		{ "--calls", offsetof(struct bench_opts, calls) },
		{ "--walks", offsetof(struct bench_opts, walks) },
		{ "--sparse-size", offsetof(struct bench_opts, sparse_size) },
		{ "--sparse-big", offsetof(struct bench_opts, sparse_big) },
		{ "--arrays", offsetof(struct bench_opts, arrays) },
	};

	if (!strcmp(a, "--reps"))
		return parse_u64(v, reps);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (!strcmp(a, opts[i].name))
			return parse_u64(v, (uint64_t *)((char *)o + opts[i].off));
	}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	uint64_t reps = o->reps;

	for (int i = 1; i < argc; i++) {
		int err;

		if (!strcmp(argv[i], "--json")) {
			o->json = true;
			continue;
		}
		if (i + 1 >= argc)
			return -EINVAL;
		err = parse_one(o, argv[i], argv[i + 1], &reps);
		if (err)
			return err;
		i++;
	}
	o->reps = (unsigned int)reps;
	if (!reps || reps > MAX_REPS || o->size < SZ_2M || o->size % SZ_2M ||
	    o->size > (64ull << 30) || !o->calls || o->calls > (1ull << 24) || !o->walks ||
	    !o->sparse_size || o->sparse_size % GRANULE || !o->sparse_big ||
	    o->sparse_big % GRANULE || o->sparse_big > (1ull << 46) || !o->arrays)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.size = SZ_1G,
		.calls = 262144,
		.walks = 10000000,
		.reps = 5,
		.sparse_size = 64ull << 30,
		.sparse_big = 1ull << 40,
		.arrays = 20000,
	};
	struct bench_env env = { 0 };
	struct bench_result r = { 0 };

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr,
			"usage: pt-bench [--size BYTES[K|M|G], multiple of 2M, <= 64G] "
			"[--calls PAGES] [--walks N] [--reps 1..%d] [--sparse-size BYTES] "
			"[--sparse-big BYTES] [--arrays N] [--json]\n",
			MAX_REPS);
		return 2;
	}
	bench_env_init(&env);
	run(&env, &o, &r);
	if (o.json) {
		print_json(&o, &r);
	} else {
		print_core(&o, &r);
		print_sparse(&o, &r.sparse);
		print_resv(&r.resv);
	}
	bench_env_fini(&env);
	return 0;
}
