// SPDX-License-Identifier: MIT
#include "bench-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

double bench_now_ns(void)
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

double bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_stat(const double *v, unsigned int n, struct bench_stat *out)
{
	double copy[BENCH_MAX_REPS];

	memcpy(copy, v, n * sizeof(*v));
	out->median = bench_median(copy, n);
	out->min = copy[0];
	out->max = copy[n - 1];
}

double bench_spread_pct(const struct bench_stat *s)
{
	return s->median > 0 ? (s->max - s->min) / s->median * 100.0 : 0.0;
}

void bench_die(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

uint64_t bench_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

uint64_t bench_below(uint64_t x, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)x * n) >> 64);
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

void bench_env_init(struct bench_env *env)
{
	struct pt_pool_cfg pcfg = { .page_size = BENCH_GRANULE, .pa_limit = 1ull << 40 };
	int err = pt_pool_create(&pcfg, &env->pool);

	if (err)
		bench_die("pt_pool_create", err);
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

void bench_env_fini(struct bench_env *env)
{
	pt_pool_destroy(env->pool);
}

struct pt *bench_create_pt(struct bench_env *env)
{
	struct pt *pt;
	int err = pt_create(&env->cfg, &pt);

	if (err)
		bench_die("pt_create", err);
	return pt;
}

#ifdef BENCH_HAVE_CALLGRIND
void bench_case_begin(void)
{
	if (!RUNNING_ON_VALGRIND)
		return;
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_ZERO_STATS;
	CALLGRIND_TOGGLE_COLLECT;
}

void bench_case_end(const char *name, uint64_t units)
{
	char what[128];

	if (!RUNNING_ON_VALGRIND)
		return;
	CALLGRIND_TOGGLE_COLLECT;
	snprintf(what, sizeof(what), "case=%s units=%llu", name, (unsigned long long)units);
	CALLGRIND_DUMP_STATS_AT(what);
	CALLGRIND_STOP_INSTRUMENTATION;
}
#else
void bench_case_begin(void)
{
}

void bench_case_end(const char *name, uint64_t units)
{
	(void)name;
	(void)units;
}
#endif
