// SPDX-License-Identifier: MIT
/*
 * pt-bench: page-table build, teardown and walk speed, as ratios to a plain
 * loop measured in the same process.
 *
 * The baseline takes the same number of table pages from the same allocator
 * and stores the same number of 8-byte descriptors into them with a plain
 * loop: the least any builder must do. Each figure is the median of --reps
 * runs. Usage: pt-bench [--size BYTES] [--walks N] [--reps N] [--json]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gpuvm/pt.h>
#include <gpuvm/pt_pool.h>

#define GRANULE 4096ull
#define MAX_REPS 64

struct bench_opts {
	uint64_t size;
	uint64_t walks;
	unsigned int reps;
	bool json;
};

struct bench_env {
	struct pt_pool *pool;
	struct pt_cfg cfg;
	uint64_t flushes;
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
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void count_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct bench_env *env = ctx;

	(void)va;
	(void)size;
	(void)leaf_only;
	env->flushes++;
}

static void count_flush_all(void *ctx)
{
	struct bench_env *env = ctx;

	env->flushes++;
}

static const struct pt_flush_ops bench_flush_ops = {
	.flush_range = count_flush_range,
	.flush_all = count_flush_all,
};

static void die(const char *what, int err)
{
	fprintf(stderr, "pt-bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* Panthor's configuration: Mali AArch64 mode, 4K, 48-bit VA, 40-bit PA. */
static void env_init(struct bench_env *env)
{
	struct pt_pool_cfg pcfg = {.page_size = GRANULE, .pa_limit = 1ull << 40};
	int err = pt_pool_create(&pcfg, &env->pool);

	if (err)
		die("pt_pool_create", err);
	env->cfg = (struct pt_cfg){
		.fmt = PT_FMT_MALI_AARCH64,
		.granule_lg2 = 12,
		.ias = 48,
		.oas = 40,
		.coherent_walk = true,
		.alloc = &pt_pool_ops,
		.alloc_ctx = env->pool,
		.flush = &bench_flush_ops,
		.flush_ctx = env,
	};
}

/* Baseline: take @pages table pages from the pool and fill them with a plain loop. */
static double store_baseline(struct bench_env *env, uint64_t table_pages)
{
	struct pt_mem *mem = calloc(table_pages, sizeof(*mem));
	uint64_t desc = 0x403 | 0x100000000ull, per_page = GRANULE / 8;
	double t0, t1;

	if (!mem)
		die("calloc", -ENOMEM);
	t0 = now_ns();
	for (uint64_t p = 0; p < table_pages; p++) {
		uint64_t *d;

		if (pt_pool_ops.alloc(env->pool, GRANULE, GRANULE, &mem[p]))
			die("pool alloc", -ENOMEM);
		d = mem[p].cpu;
		for (uint64_t i = 0; i < per_page; i++)
			d[i] = desc + (p * per_page + i) * GRANULE;
	}
	t1 = now_ns();
	for (uint64_t p = 0; p < table_pages; p++)
		pt_pool_ops.free(env->pool, &mem[p], GRANULE, GRANULE);
	free(mem);
	return t1 - t0;
}

static struct pt *create_pt(struct bench_env *env)
{
	struct pt *pt;
	int err = pt_create(&env->cfg, &pt);

	if (err)
		die("pt_create", err);
	return pt;
}

#define VA_BASE (1ull << 32)
#define PA_BASE (1ull << 33)

/* Map then unmap @size at @pa (4K-only when @pa is not 2M aligned); return both times. */
static void map_unmap(struct bench_env *env, uint64_t size, uint64_t pa, double *map_ns,
		      double *unmap_ns, uint64_t *tables)
{
	struct pt *pt = create_pt(env);
	struct pt_stats st;
	uint64_t unmapped;
	double t0, t1, t2;
	int err;

	t0 = now_ns();
	err = pt_map(pt, VA_BASE, pa, size, PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE);
	t1 = now_ns();
	if (err)
		die("pt_map", err);
	pt_get_stats(pt, &st);
	err = pt_unmap(pt, VA_BASE, size, &unmapped);
	t2 = now_ns();
	if (err || unmapped != size)
		die("pt_unmap", err ? err : -EIO);
	pt_destroy(pt);
	*map_ns = t1 - t0;
	*unmap_ns = t2 - t1;
	*tables = st.tables;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* @x scaled into [0, @n) without a division (which would cost more than a walk). */
static uint64_t below(uint64_t x, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

/* Random walks over a 4K mapping of @size, median of @reps runs; returns ns per walk. */
static double walk_bench(struct bench_env *env, uint64_t size, uint64_t walks, unsigned int reps,
			 uint64_t *checksum)
{
	struct pt *pt = create_pt(env);
	struct pt_walk_result res;
	uint64_t seed = 0x9e3779b97f4a7c15ull, sum = 0;
	double ns[MAX_REPS];
	int err = pt_map(pt, VA_BASE, PA_BASE + GRANULE, size, PT_PROT_READ | PT_PROT_CACHE);

	if (err)
		die("pt_map", err);
	for (unsigned int r = 0; r < reps; r++) {
		double t0 = now_ns();

		for (uint64_t i = 0; i < walks; i++) {
			uint64_t va = VA_BASE + below(xorshift(&seed), size);

			if (pt_walk(pt, va, &res))
				die("pt_walk", -EFAULT);
			sum += res.pa;
		}
		ns[r] = (now_ns() - t0) / (double)walks;
	}
	pt_destroy(pt);
	*checksum = sum;
	return median(ns, reps);
}

static void run(struct bench_env *env, const struct bench_opts *o, struct bench_result *r)
{
	double store[MAX_REPS], map4[MAX_REPS], unmap4[MAX_REPS], map2[MAX_REPS], unmap2[MAX_REPS];
	uint64_t pages = o->size / GRANULE, blocks = o->size >> 21, tables2;

	/* Warm the pool so that no figure pays for first-touch page faults. */
	map_unmap(env, o->size, PA_BASE + GRANULE, &map4[0], &unmap4[0], &r->table_pages_4k);
	for (unsigned int i = 0; i < o->reps; i++) {
		store[i] = store_baseline(env, pages / (GRANULE / 8)) / (double)pages;
		map_unmap(env, o->size, PA_BASE + GRANULE, &map4[i], &unmap4[i], &r->table_pages_4k);
		map4[i] /= (double)pages;
		unmap4[i] /= (double)pages;
		map_unmap(env, o->size, PA_BASE, &map2[i], &unmap2[i], &tables2);
		map2[i] /= (double)blocks;
		unmap2[i] /= (double)blocks;
	}
	r->store_ns_per_desc = median(store, o->reps);
	r->map_4k_ns_per_page = median(map4, o->reps);
	r->unmap_4k_ns_per_page = median(unmap4, o->reps);
	r->map_2m_ns_per_block = median(map2, o->reps);
	r->unmap_2m_ns_per_block = median(unmap2, o->reps);
	r->walk_ns = walk_bench(env, o->size, o->walks, o->reps, &r->walk_checksum);
}

static void print_text(const struct bench_opts *o, const struct bench_result *r)
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
	printf("\ntargets: map and unmap at 4K within 2x of the store loop, walk under 10 ns\n");
}

static void print_json(const struct bench_opts *o, const struct bench_result *r)
{
	double s = r->store_ns_per_desc;

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
	printf("\"walk_ns\": %.4f, \"table_pages_1g_4k\": %" PRIu64 "}\n", r->walk_ns,
	       r->table_pages_4k);
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
		else
			return -EINVAL;
		if (err)
			return err;
		i++;
	}
	o->reps = (unsigned int)reps;
	if (!reps || reps > MAX_REPS || o->size < (2ull << 20) || o->size % (2ull << 20) ||
	    !o->walks)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {.size = 1ull << 30, .walks = 10000000, .reps = 5};
	struct bench_env env = {0};
	struct bench_result r = {0};

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "usage: pt-bench [--size BYTES[K|M|G], multiple of 2M] "
				"[--walks N] [--reps 1..%d] [--json]\n",
			MAX_REPS);
		return 2;
	}
	env_init(&env);
	run(&env, &o, &r);
	if (o.json)
		print_json(&o, &r);
	else
		print_text(&o, &r);
	pt_pool_destroy(env.pool);
	return 0;
}
