// SPDX-License-Identifier: MIT
/*
 * pt-bench: page-table build, teardown and walk speed, as ratios to a plain
 * loop measured in the same process.
 *
 * The baseline takes the same number of table pages from the same allocator
 * and stores the same number of 8-byte descriptors into them with a plain
 * loop: the least any builder must do. Each figure is the median of --reps
 * runs. The sparse and reservation figures come from pt-bench-resv.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pt-bench.h"

#define GRANULE BENCH_GRANULE
#define MAX_REPS BENCH_MAX_REPS

struct bench_opts {
	uint64_t size;
	uint64_t walks;
	unsigned int reps;
	uint64_t sparse_size, sparse_big, arrays;
	bool json;
};

struct bench_result {
	double store_ns_per_desc;
	double map_4k_ns_per_page;
	double unmap_4k_ns_per_page;
	double map_2m_ns_per_block;
	double unmap_2m_ns_per_block;
	double walk_ns;
	uint64_t table_pages_4k;
	uint64_t walk_checksum;
	struct sparse_result sparse;
	struct resv_result resv;
};

/* Baseline: take @pages table pages from the pool and fill them with a plain loop. */
static double store_baseline(struct bench_env *env, uint64_t table_pages)
{
	struct pt_mem *mem = calloc(table_pages, sizeof(*mem));
	uint64_t desc = 0x403 | 0x100000000ull, per_page = GRANULE / 8;
	double t0, t1;

	if (!mem)
		bench_die("calloc", -ENOMEM);
	t0 = bench_now_ns();
	for (uint64_t p = 0; p < table_pages; p++) {
		uint64_t *d;

		if (pt_pool_ops.alloc(env->pool, GRANULE, GRANULE, &mem[p]))
			bench_die("pool alloc", -ENOMEM);
		d = mem[p].cpu;
		for (uint64_t i = 0; i < per_page; i++)
			d[i] = desc + (p * per_page + i) * GRANULE;
	}
	t1 = bench_now_ns();
	for (uint64_t p = 0; p < table_pages; p++)
		pt_pool_ops.free(env->pool, &mem[p], GRANULE, GRANULE);
	free(mem);
	return t1 - t0;
}

#define VA_BASE (1ull << 32)
#define PA_BASE (1ull << 33)

/* Map then unmap @size at @pa (4K-only when @pa is not 2M aligned); return both times. */
static void map_unmap(struct bench_env *env, uint64_t size, uint64_t pa, double *map_ns,
		      double *unmap_ns, uint64_t *tables)
{
	struct pt *pt = bench_create_pt(env);
	struct pt_stats st;
	uint64_t unmapped;
	double t0, t1, t2;
	int err;

	t0 = bench_now_ns();
	err = pt_map(pt, VA_BASE, pa, size, PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE);
	t1 = bench_now_ns();
	if (err)
		bench_die("pt_map", err);
	pt_get_stats(pt, &st);
	err = pt_unmap(pt, VA_BASE, size, &unmapped);
	t2 = bench_now_ns();
	if (err || unmapped != size)
		bench_die("pt_unmap", err ? err : -EIO);
	pt_destroy(pt);
	*map_ns = t1 - t0;
	*unmap_ns = t2 - t1;
	*tables = st.tables;
}

/* Random walks over a 4K mapping of @size, median of @reps runs; returns ns per walk. */
static double walk_bench(struct bench_env *env, uint64_t size, uint64_t walks, unsigned int reps,
			 uint64_t *checksum)
{
	struct pt *pt = bench_create_pt(env);
	struct pt_walk_result res;
	uint64_t seed = 0x9e3779b97f4a7c15ull, sum = 0;
	double ns[MAX_REPS];
	int err = pt_map(pt, VA_BASE, PA_BASE + GRANULE, size, PT_PROT_READ | PT_PROT_CACHE);

	if (err)
		bench_die("pt_map", err);
	for (unsigned int r = 0; r < reps; r++) {
		double t0 = bench_now_ns();

		for (uint64_t i = 0; i < walks; i++) {
			uint64_t va = VA_BASE + bench_below(bench_xorshift(&seed), size);

			if (pt_walk(pt, va, &res))
				bench_die("pt_walk", -EFAULT);
			sum += res.pa;
		}
		ns[r] = (bench_now_ns() - t0) / (double)walks;
	}
	pt_destroy(pt);
	*checksum = sum;
	return bench_median(ns, reps);
}

static void run(struct bench_env *env, const struct bench_opts *o, struct bench_result *r)
{
	double store[MAX_REPS], map4[MAX_REPS], unmap4[MAX_REPS], map2[MAX_REPS], unmap2[MAX_REPS];
	uint64_t pages = o->size / GRANULE, blocks = o->size >> 21, tables2;

	/* Warm the pool so that no figure pays for first-touch page faults. */
	map_unmap(env, o->size, PA_BASE + GRANULE, &map4[0], &unmap4[0], &r->table_pages_4k);
	for (unsigned int i = 0; i < o->reps; i++) {
		store[i] = store_baseline(env, pages / (GRANULE / 8)) / (double)pages;
		map_unmap(env, o->size, PA_BASE + GRANULE, &map4[i], &unmap4[i],
			  &r->table_pages_4k);
		map4[i] /= (double)pages;
		unmap4[i] /= (double)pages;
		map_unmap(env, o->size, PA_BASE, &map2[i], &unmap2[i], &tables2);
		map2[i] /= (double)blocks;
		unmap2[i] /= (double)blocks;
	}
	r->store_ns_per_desc = bench_median(store, o->reps);
	r->map_4k_ns_per_page = bench_median(map4, o->reps);
	r->unmap_4k_ns_per_page = bench_median(unmap4, o->reps);
	r->map_2m_ns_per_block = bench_median(map2, o->reps);
	r->unmap_2m_ns_per_block = bench_median(unmap2, o->reps);
	r->walk_ns = walk_bench(env, o->size, o->walks, o->reps, &r->walk_checksum);
	bench_sparse(env, o->sparse_size, o->sparse_big, o->reps, &r->sparse);
	bench_resv(env, o->arrays, &r->resv);
}

static void print_core(const struct bench_opts *o, const struct bench_result *r)
{
	double s = r->store_ns_per_desc;

	printf("pt-bench: mali-aarch64 4K granule, ias 48, oas 40, coherent walker\n");
	printf("          %" PRIu64 " MiB, median of %u runs, %" PRIu64 " walks per run\n\n",
	       o->size >> 20, o->reps, o->walks);
	printf("%-34s %12s %16s\n", "", "ns per unit", "ratio to store");
	printf("%-34s %12.3f %16.2f\n", "plain store loop (per descriptor)", s, 1.0);
	printf("%-34s %12.3f %16.2f\n", "map at 4K (per page)", r->map_4k_ns_per_page,
	       r->map_4k_ns_per_page / s);
	printf("%-34s %12.3f %16.2f\n", "unmap at 4K (per page)", r->unmap_4k_ns_per_page,
	       r->unmap_4k_ns_per_page / s);
	printf("%-34s %12.3f\n", "map with 2M blocks (per block)", r->map_2m_ns_per_block);
	printf("%-34s %12.3f\n", "unmap 2M blocks (per block)", r->unmap_2m_ns_per_block);
	printf("%-34s %12.3f\n", "random walk (per walk)", r->walk_ns);
	printf("%-34s %12" PRIu64 "\n", "table pages for the 4K mapping", r->table_pages_4k);
}

static void print_sparse(const struct bench_opts *o, const struct sparse_result *s)
{
	printf("\none dummy 4K page repeated %28s %14s\n", "ms", "table bytes");
	printf("  %4" PRIu64 " GiB shared, one call %20.4f %14" PRIu64 "\n", o->sparse_size >> 30,
	       s->sparse_ms, s->sparse_table_bytes);
	printf("  %4" PRIu64 " GiB page by page, unshared %14.1f %14" PRIu64 "\n",
	       o->sparse_size >> 30, s->unshared_ms, s->unshared_table_bytes);
	printf("  %4" PRIu64 " GiB shared, one call %20.4f %14" PRIu64 "\n", o->sparse_big >> 30,
	       s->sparse_big_ms, s->sparse_big_table_bytes);
	printf("  shared is %.0fx faster and takes %.0fx less table memory\n",
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

static void print_text(const struct bench_opts *o, const struct bench_result *r)
{
	print_core(o, r);
	print_sparse(o, &r->sparse);
	print_resv(&r->resv);
	printf("\ntargets: map and unmap at 4K within 2x of the store loop, walk under 10 ns;\n"
	       "sparse shared >= 1000x faster than unshared with <= 8 table pages; reserved/"
	       "consumed 1.00\n");
}

static void print_json(const struct bench_opts *o, const struct bench_result *r)
{
	double s = r->store_ns_per_desc;
	const struct sparse_result *sp = &r->sparse;
	const struct resv_result *v = &r->resv;

	printf("{\"format\": \"mali-aarch64\", \"granule\": 4096, \"size_bytes\": %" PRIu64
	       ", \"reps\": %u, \"walks\": %" PRIu64 ", ",
	       o->size, o->reps, o->walks);
	printf("\"store_ns_per_desc\": %.4f, ", s);
	printf("\"map_4k_ns_per_page\": %.4f, \"map_4k_ratio_to_store\": %.4f, ",
	       r->map_4k_ns_per_page, r->map_4k_ns_per_page / s);
	printf("\"unmap_4k_ns_per_page\": %.4f, \"unmap_4k_ratio_to_store\": %.4f, ",
	       r->unmap_4k_ns_per_page, r->unmap_4k_ns_per_page / s);
	printf("\"map_2m_ns_per_block\": %.4f, \"unmap_2m_ns_per_block\": %.4f, ",
	       r->map_2m_ns_per_block, r->unmap_2m_ns_per_block);
	printf("\"walk_ns\": %.4f, \"table_pages_1g_4k\": %" PRIu64 ", ", r->walk_ns,
	       r->table_pages_4k);
	printf("\"sparse_size_bytes\": %" PRIu64 ", \"sparse_64g_ms\": %.6f, "
	       "\"sparse_64g_table_bytes\": %" PRIu64 ", ",
	       o->sparse_size, sp->sparse_ms, sp->sparse_table_bytes);
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

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	uint64_t reps = o->reps;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int err = 0;

		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (!v)
			return -EINVAL;
		if (!strcmp(a, "--size"))
			err = parse_u64(v, &o->size);
		else if (!strcmp(a, "--walks"))
			err = parse_u64(v, &o->walks);
		else if (!strcmp(a, "--reps"))
			err = parse_u64(v, &reps);
		else if (!strcmp(a, "--sparse-size"))
			err = parse_u64(v, &o->sparse_size);
		else if (!strcmp(a, "--sparse-big"))
			err = parse_u64(v, &o->sparse_big);
		else if (!strcmp(a, "--arrays"))
			err = parse_u64(v, &o->arrays);
		else
			return -EINVAL;
		if (err)
			return err;
		i++;
	}
	o->reps = (unsigned int)reps;
	if (!reps || reps > MAX_REPS || o->size < (2ull << 20) || o->size % (2ull << 20) ||
	    !o->walks || !o->sparse_size || o->sparse_size % GRANULE || !o->sparse_big ||
	    o->sparse_big % GRANULE || o->sparse_big > (1ull << 46) || !o->arrays)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {
		.size = 1ull << 30,
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
			"usage: pt-bench [--size BYTES[K|M|G], multiple of 2M] "
			"[--walks N] [--reps 1..%d] [--sparse-size BYTES] "
			"[--sparse-big BYTES] [--arrays N] [--json]\n",
			MAX_REPS);
		return 2;
	}
	bench_env_init(&env);
	run(&env, &o, &r);
	if (o.json)
		print_json(&o, &r);
	else
		print_text(&o, &r);
	bench_env_fini(&env);
	return 0;
}
