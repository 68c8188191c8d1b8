/* SPDX-License-Identifier: MIT */
/* pt-bench's second half: sparse (repeat) mapping and reservations. */
#ifndef GPUVM_TOOLS_PT_BENCH_H
#define GPUVM_TOOLS_PT_BENCH_H

#include "bench-util.h"

struct sparse_result {
	double sparse_ms, unshared_ms, sparse_big_ms;
	uint64_t sparse_table_bytes, unshared_table_bytes, sparse_big_table_bytes;
	uint64_t sparse_meta_bytes;
};

struct resv_result {
	uint64_t arrays, ops;
	uint64_t reserved, consumed, panthor;
};

/*
 * @size of one dummy page mapped with sharing (median of @reps) and page by
 * page without; @big_size with sharing only.
 */
void bench_sparse(struct bench_env *env, uint64_t size, uint64_t big_size, unsigned int reps,
		  struct sparse_result *r);
/* A random mixed workload of @arrays bind arrays: pages reserved, consumed, and panthor's. */
void bench_resv(struct bench_env *env, uint64_t arrays, struct resv_result *r);

#endif /* GPUVM_TOOLS_PT_BENCH_H */
