/* SPDX-License-Identifier: MIT */
/*
 * What the benchmark tools share: a clock, medians and spreads, a
 * deterministic generator, the page table they measure (panthor's
 * configuration over the default pool, with flush ops that only count), and
 * the markers tools/bench-instr reads.
 *
 * DOC: instruction counts
 *
 * Each timed case runs between bench_case_begin() and bench_case_end(). Under
 * valgrind's callgrind (tools/bench-instr) they switch instrumentation and
 * collection on and off around the case, and dump its cost under the name
 * "case=NAME units=N": bench-instr divides the instructions by the units.
 * Outside valgrind they cost a check of a flag.
 */
#ifndef GPUVM_TOOLS_BENCH_UTIL_H
#define GPUVM_TOOLS_BENCH_UTIL_H

#include <stdint.h>

#include <gpuvm/pt.h>
#include <gpuvm/pt_pool.h>

#define BENCH_GRANULE 4096ull
#define BENCH_MAX_REPS 64

struct bench_env {
	struct pt_pool *pool;
	struct pt_cfg cfg;
	uint64_t flushes;
};

/* Median and extremes of repeated measurements. */
struct bench_stat {
	double median, min, max;
};

double bench_now_ns(void);
double bench_median(double *v, unsigned int n);
void bench_stat(const double *v, unsigned int n, struct bench_stat *out);
/* (max - min) / median in percent: how far apart the repetitions were. */
double bench_spread_pct(const struct bench_stat *s);
void bench_die(const char *what, int err);
uint64_t bench_xorshift(uint64_t *s);
/* @x scaled into [0, @n) without a division (which would cost more than a walk). */
uint64_t bench_below(uint64_t x, uint64_t n);
/* Mali AArch64 mode, 4K, 48-bit VA, 40-bit PA, coherent walker. */
void bench_env_init(struct bench_env *env);
void bench_env_fini(struct bench_env *env);
struct pt *bench_create_pt(struct bench_env *env);

/* DOC: instruction counts. @name: [a-z0-9_]; @units: what the case did (pages, calls). */
void bench_case_begin(void);
void bench_case_end(const char *name, uint64_t units);

#endif /* GPUVM_TOOLS_BENCH_UTIL_H */
