/* SPDX-License-Identifier: MIT */
/*
 * What the benchmark tools share: a clock, medians, a deterministic generator,
 * and the page table they measure (panthor's configuration over the default
 * pool, with flush ops that only count).
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

double bench_now_ns(void);
double bench_median(double *v, unsigned int n);
void bench_die(const char *what, int err);
uint64_t bench_xorshift(uint64_t *s);
/* @x scaled into [0, @n) without a division (which would cost more than a walk). */
uint64_t bench_below(uint64_t x, uint64_t n);
/* Mali AArch64 mode, 4K, 48-bit VA, 40-bit PA, coherent walker. */
void bench_env_init(struct bench_env *env);
void bench_env_fini(struct bench_env *env);
struct pt *bench_create_pt(struct bench_env *env);

#endif /* GPUVM_TOOLS_BENCH_UTIL_H */
