// SPDX-License-Identifier: MIT
/* The model GPU's hardware side as a whole: set-up and tear-down (mock_gpu.h). */
#include <string.h>

#include "gpu_private.h"

/**
 * mock_gpu_init() - reset a GPU: its slots, its table memory, its counters.
 * @gpu: the GPU (its storage is the caller's).
 * @as_count: the slots present, at most MOCK_AS_MAX.
 * @tlb_strict: strict TLB mode (see DOC: strict mode in as.c).
 * @pcfg: the table pool's configuration.
 *
 * Context: allocates the table pool.
 * Return: 0 or the negative errno of pt_pool_create(); mock_gpu_fini() must
 * be called either way.
 */
int mock_gpu_init(struct mock_gpu *gpu, unsigned int as_count, bool tlb_strict,
		  const struct pt_pool_cfg *pcfg)
{
	memset(gpu, 0, sizeof(*gpu));
	gpu->as_count = as_count;
	gpu->tlb_strict = tlb_strict;
	for (unsigned int i = 0; i < MOCK_AS_MAX; i++)
		mock_as_init(&gpu->as[i]);
	pthread_mutex_init(&gpu->live_tables.lock, NULL);
	return pt_pool_create(pcfg, &gpu->tables);
}

/**
 * mock_gpu_fini() - free what mock_gpu_init() set up.
 * @gpu: the GPU; no VM may still use its tables.
 */
void mock_gpu_fini(struct mock_gpu *gpu)
{
	pt_pool_destroy(gpu->tables);
	gpu->tables = NULL;
	for (unsigned int i = 0; i < MOCK_AS_MAX; i++)
		mock_as_fini(&gpu->as[i]);
	mock_table_set_fini(&gpu->live_tables);
}
