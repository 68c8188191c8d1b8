// SPDX-License-Identifier: MIT
/* The model GPU's hardware side as a whole: set-up and tear-down (mock_gpu.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gpu_private.h"

/*
 * The user register page: a memfd the device maps writable once, then seals
 * against any later writable mapping, so that a client's read-only mapping
 * cannot be made writable with mprotect() (the kernel says -EACCES), as
 * panthor's page cannot.
 */
static int user_page_create(struct mock_gpu *gpu)
{
	int fd = mock_memfd_create("mock-gpu-user-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *map;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, MOCK_GPU_USER_PAGE))
		goto fail;
	map = mock_mmap(NULL, MOCK_GPU_USER_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)) {
		munmap(map, MOCK_GPU_USER_PAGE);
		goto fail;
	}
	gpu->user_page_fd = fd;
	gpu->user_page = map;
	gpu->flush_id = 1;
	gpu->user_page[0] = gpu->flush_id;
	return 0;
fail:
	close(fd);
	return -ENOMEM;
}

/**
 * mock_gpu_init() - reset a GPU: its slots, its table memory, its counters.
 * @gpu: the GPU (its storage is the caller's).
 * @as_count: the slots present, at most MOCK_AS_MAX.
 * @tlb_strict: strict TLB mode (see DOC: strict mode in as.c).
 * @pcfg: the table pool's configuration.
 *
 * Context: allocates the table pool and the user register page.
 * Return: 0 or the negative errno of pt_pool_create(); mock_gpu_fini() must
 * be called either way.
 */
int mock_gpu_init(struct mock_gpu *gpu, unsigned int as_count, bool tlb_strict,
		  const struct pt_pool_cfg *pcfg)
{
	int err;

	memset(gpu, 0, sizeof(*gpu));
	gpu->user_page_fd = -1;
	gpu->as_count = as_count;
	gpu->tlb_strict = tlb_strict;
	for (unsigned int i = 0; i < MOCK_AS_MAX; i++)
		mock_as_init(&gpu->as[i]);
	pthread_mutex_init(&gpu->live_tables.lock, NULL);
	err = user_page_create(gpu);
	return err ? err : pt_pool_create(pcfg, &gpu->tables);
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
	if (gpu->user_page)
		munmap((void *)gpu->user_page, MOCK_GPU_USER_PAGE);
	if (gpu->user_page_fd >= 0)
		close(gpu->user_page_fd);
	gpu->user_page = NULL;
	gpu->user_page_fd = -1;
}

/**
 * mock_gpu_cache_flush() - the GPU cleans and invalidates its caches.
 * @gpu: the GPU.
 *
 * Counts the flush and advances LATEST_FLUSH_ID (24 bits, skipping 0), which
 * the user page shows at once.
 *
 * Context: any thread; lock-free.
 */
void mock_gpu_cache_flush(struct mock_gpu *gpu)
{
	uint32_t old = __atomic_load_n(&gpu->flush_id, __ATOMIC_RELAXED), next;

	mock_gpu_stat_add(gpu, cache_flushes, 1);
	do {
		next = (old + 1) & MOCK_GPU_FLUSH_ID_MASK;
		next = next ? next : 1;
	} while (!__atomic_compare_exchange_n(&gpu->flush_id, &old, next, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	/* Concurrent flushes may store out of order: store until the latest stays. */
	do {
		next = __atomic_load_n(&gpu->flush_id, __ATOMIC_ACQUIRE);
		gpu->user_page[0] = next;
	} while (__atomic_load_n(&gpu->flush_id, __ATOMIC_ACQUIRE) != next);
}

/**
 * mock_gpu_flush_id() - LATEST_FLUSH_ID now.
 * @gpu: the GPU.
 * Return: the ID, 1 to 0xffffff.
 */
uint32_t mock_gpu_flush_id(struct mock_gpu *gpu)
{
	return __atomic_load_n(&gpu->flush_id, __ATOMIC_ACQUIRE);
}

/**
 * mock_gpu_flush_done_since() - has the GPU flushed since it showed @flush_id?
 * @gpu: the GPU.
 * @flush_id: an ID read from LATEST_FLUSH_ID; 0 means "unknown".
 *
 * A flush asked for with @flush_id may be skipped when this is true: the
 * caches have been cleaned and invalidated after the caller's writes. IDs
 * compare modulo 2^24: an ID from the future (or garbage) is not passed.
 *
 * Return: true when a flush happened after @flush_id; false for 0.
 */
bool mock_gpu_flush_done_since(struct mock_gpu *gpu, uint32_t flush_id)
{
	uint32_t ahead = (mock_gpu_flush_id(gpu) - flush_id) & MOCK_GPU_FLUSH_ID_MASK;

	return flush_id && ahead && ahead < (MOCK_GPU_FLUSH_ID_MASK + 1) / 2;
}
