// SPDX-License-Identifier: MIT
/*
 * Page-table memory of the device: pt_pool's pages, plus a record of which
 * blocks are allocated, so that the MMU model can tell a walk through a freed
 * table (a table freed before the flush that makes the GPU forget it) from a
 * walk through a live one.
 *
 * The record is a set of block PAs (open addressing, linear probing, deletion
 * by backward shift): a table is one block, and a walk only ever enters a
 * table at its first byte.
 */
#include <errno.h>
#include <stdlib.h>

#include "gpu_private.h"

#define EMPTY UINT64_MAX

static size_t slot_of(const struct mock_table_set *s, uint64_t pa)
{
	return (size_t)((pa >> 6) * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
}

static void set_put(struct mock_table_set *s, uint64_t pa)
{
	size_t i = slot_of(s, pa);

	while (s->slots[i] != EMPTY)
		i = (i + 1) & (s->cap - 1);
	s->slots[i] = pa;
}

/* Keep the load at most one half: grow before adding (never in a commit). */
static int set_reserve(struct mock_table_set *s, size_t more)
{
	size_t cap = s->cap ? s->cap : 256, old_cap = s->cap;
	uint64_t *old = s->slots;

	while ((s->n + more) * 2 > cap)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	s->slots = mock_malloc(cap * sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return -ENOMEM;
	}
	s->cap = cap;
	for (size_t i = 0; i < cap; i++)
		s->slots[i] = EMPTY;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i] != EMPTY)
			set_put(s, old[i]);
	free(old);
	return 0;
}

static size_t set_find(const struct mock_table_set *s, uint64_t pa)
{
	if (!s->cap)
		return SIZE_MAX;
	for (size_t i = slot_of(s, pa); s->slots[i] != EMPTY; i = (i + 1) & (s->cap - 1))
		if (s->slots[i] == pa)
			return i;
	return SIZE_MAX;
}

/* Remove by shifting later members of the probe run back into the hole. */
static void set_remove(struct mock_table_set *s, uint64_t pa)
{
	size_t hole = set_find(s, pa), i = hole;

	if (hole == SIZE_MAX)
		abort(); /* freeing a table that was never allocated */
	for (;;) {
		i = (i + 1) & (s->cap - 1);
		if (s->slots[i] == EMPTY)
			break;
		size_t home = slot_of(s, s->slots[i]);

		/* Move it if its home is not in (hole, i], cyclically. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			s->slots[hole] = s->slots[i];
			hole = i;
		}
	}
	s->slots[hole] = EMPTY;
	s->n--;
}

static int add_blocks(struct mock_gpu *gpu, const struct pt_mem *mem, unsigned int n)
{
	struct mock_table_set *s = &gpu->live_tables;
	int err;

	pthread_mutex_lock(&s->lock);
	err = set_reserve(s, n);
	for (unsigned int i = 0; !err && i < n; i++, s->n++)
		set_put(s, mem[i].pa);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int tables_alloc(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	struct mock_gpu *gpu = ctx;
	int err;

	if (mock_alloc_fails(ENOMEM))
		return -ENOMEM;
	err = pt_pool_ops.alloc(gpu->tables, size, align, out);
	if (!err && add_blocks(gpu, out, 1)) {
		pt_pool_ops.free(gpu->tables, out, size, align);
		err = -ENOMEM;
	}
	return err;
}

static int tables_alloc_bulk(void *ctx, size_t size, size_t align, unsigned int n,
			     struct pt_mem *out)
{
	struct mock_gpu *gpu = ctx;
	int err;

	if (mock_alloc_fails(ENOMEM))
		return -ENOMEM;
	err = pt_pool_ops.alloc_bulk(gpu->tables, size, align, n, out);
	if (!err && add_blocks(gpu, out, n)) {
		for (unsigned int i = 0; i < n; i++)
			pt_pool_ops.free(gpu->tables, &out[i], size, align);
		err = -ENOMEM;
	}
	return err;
}

/* Called from commits (after the flush): removing never allocates. */
static void tables_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct mock_gpu *gpu = ctx;
	struct mock_table_set *s = &gpu->live_tables;

	pthread_mutex_lock(&s->lock);
	set_remove(s, mem->pa);
	pthread_mutex_unlock(&s->lock);
	pt_pool_ops.free(gpu->tables, mem, size, align);
}

const struct pt_alloc_ops mock_table_ops = {
	.alloc = tables_alloc,
	.free = tables_free,
	.alloc_bulk = tables_alloc_bulk,
};

static void *host_zalloc(void *ctx, size_t size)
{
	(void)ctx;
	return mock_calloc(1, size);
}

static void host_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

const struct pt_host_ops mock_host_ops = {
	.zalloc = host_zalloc,
	.free = host_free,
};

bool mock_table_live(struct mock_gpu *gpu, uint64_t pa)
{
	struct mock_table_set *s = &gpu->live_tables;
	bool live;

	pthread_mutex_lock(&s->lock);
	live = set_find(s, pa) != SIZE_MAX;
	pthread_mutex_unlock(&s->lock);
	return live;
}

void mock_table_set_fini(struct mock_table_set *s)
{
	free(s->slots);
	pthread_mutex_destroy(&s->lock);
}
