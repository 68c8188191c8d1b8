// SPDX-License-Identifier: MIT
/*
 * Tiler heaps: TILER_HEAP_CREATE and TILER_HEAP_DESTROY as panthor does them
 * (shared/reference/panthor-1.8.md "Tiler heaps").
 *
 * DOC: heaps
 *
 * Each VM has a pool of at most 128 heaps, made on its first heap: a kernel
 * BO of contexts, one 64-byte slot per heap id (the 32-byte context rounded
 * up to the GPU's cache line), mapped in the VM's kernel range. A heap is a
 * zeroed context slot and a list of chunks: kernel BOs of chunk_size, also
 * mapped in the kernel range, each starting with a header whose first u64
 * links to the next chunk (its VA with bits 11:0 holding chunk_size >> 12;
 * 0 ends the list). TILER_HEAP_CREATE returns the context's VA and the head
 * of the list; the handle is vm_id << 16 | heap id.
 *
 * Kernel VAs come from a gvm_kva allocator over the top 4 GiB of the VM's
 * space, which no user range reaches (vm.c keeps at least 4 GiB for the
 * kernel). The mappings go through the VM's gvm like a synchronous bind
 * (mock_vm_bind_now()): no execute, uncached, as panthor maps them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpuvm/gvm_kva.h>

#include "mock_vm.h"

#define MAX_HEAPS 128
#define CTX_STRIDE 64 /* the 32-byte context, rounded up to the 64-byte L2 line */
#define CHUNK_MIN (128u << 10)
#define CHUNK_MAX (8u << 20)
#define KERNEL_WINDOW (4ull << 30)
#define HEAP_PROT (PT_PROT_READ | PT_PROT_WRITE) /* no EXEC, no CACHE */

struct mock_heap {
	uint32_t chunk_size;
	uint32_t nr_chunks;
	struct mock_bo **chunks;
	uint64_t *chunk_va;
};

struct mock_heap_pool {
	struct gvm_kva *kva;
	struct mock_bo *ctx_bo;
	uint64_t ctx_va;
	struct mock_heap *heaps[MAX_HEAPS];
};

/*
 * Heap ids being created: the slot is taken while the chunks are mapped,
 * which may drop vm->lock (mock_vm_bind_now() waits behind queued binds).
 */
static struct mock_heap creating;

/* A kernel BO of @size mapped at a new kernel VA of @vm (vm->lock held). */
static int kernel_map(struct mock_vm *vm, struct mock_heap_pool *pool, uint64_t size,
		      struct mock_bo **bo, uint64_t *va)
{
	struct gvm_req req = { .type = GVM_REQ_MAP, .size = size, .prot = HEAP_PROT };
	int err = gvm_kva_alloc(pool->kva, size, MOCK_PAGE, va);

	if (err)
		return err;
	err = mock_bo_new(vm->dev, size, DRM_PANTHOR_BO_NO_MMAP, bo);
	if (!err) {
		req.va = *va;
		req.obj = &(*bo)->obj;
		err = mock_vm_bind_now(vm, &req, 1);
		if (err) {
			mock_bo_put(*bo);
			*bo = NULL; /* pool_free() would put it again */
		}
	}
	if (err)
		gvm_kva_free(pool->kva, *va, size);
	return err;
}

static void kernel_unmap(struct mock_vm *vm, struct mock_heap_pool *pool, struct mock_bo *bo,
			 uint64_t va)
{
	struct gvm_req req = { .type = GVM_REQ_UNMAP, .va = va, .size = bo->size };
	int err;

	/*
	 * Taking a heap down cannot fail: out of memory for the unmap's
	 * reservation, try again after a pause (as __GFP_NOFAIL). Any other
	 * failure (the queue did not drain in time) leaves the VA to the VM's end.
	 */
	while ((err = mock_vm_bind_now(vm, &req, 1)) == -ENOMEM)
		usleep(1000);
	if (!err)
		gvm_kva_free(pool->kva, va, bo->size);
	mock_bo_put(bo);
}

static void pool_free(struct mock_vm *vm, struct mock_heap_pool *pool)
{
	if (pool->ctx_bo)
		kernel_unmap(vm, pool, pool->ctx_bo, pool->ctx_va);
	gvm_kva_destroy(pool->kva);
	free(pool);
}

/*
 * The VM's pool: its allocator and its context BO, made on the first heap
 * and published once mapped (another thread may have published one while
 * this one waited: then this one goes).
 */
static int pool_get(struct mock_vm *vm)
{
	struct gvm_kva_cfg cfg = { .start = (1ull << MOCK_VA_BITS) - KERNEL_WINDOW,
				   .end = 1ull << MOCK_VA_BITS,
				   .page_lg2 = 12 };
	struct mock_heap_pool *pool;
	int err;

	if (vm->heaps)
		return 0;
	pool = mock_calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	err = gvm_kva_create(&cfg, &pool->kva);
	if (!err)
		err = kernel_map(vm, pool, MAX_HEAPS * CTX_STRIDE, &pool->ctx_bo, &pool->ctx_va);
	if (err || vm->heaps) {
		pool_free(vm, pool);
		return err;
	}
	vm->heaps = pool;
	return 0;
}

/* Link the chunks: each header's first u64 names the next chunk (0 ends). */
static void link_chunks(const struct mock_heap *h)
{
	for (uint32_t i = 0; i < h->nr_chunks; i++) {
		uint64_t next = 0;

		if (i + 1 < h->nr_chunks)
			next = h->chunk_va[i + 1] | (h->chunk_size >> 12);
		memcpy(h->chunks[i]->map, &next, sizeof(next));
	}
}

static void heap_free(struct mock_vm *vm, struct mock_heap *h)
{
	for (uint32_t i = h->nr_chunks; i--;)
		kernel_unmap(vm, vm->heaps, h->chunks[i], h->chunk_va[i]);
	free(h->chunks);
	free(h->chunk_va);
	free(h);
}

static int heap_new(struct mock_vm *vm, const struct drm_panthor_tiler_heap_create *a,
		    struct mock_heap **out)
{
	struct mock_heap *h = mock_calloc(1, sizeof(*h));
	int err = 0;

	if (!h)
		return -ENOMEM;
	h->chunk_size = a->chunk_size;
	h->chunks = mock_calloc(a->initial_chunk_count, sizeof(*h->chunks));
	h->chunk_va = mock_calloc(a->initial_chunk_count, sizeof(*h->chunk_va));
	if (!h->chunks || !h->chunk_va)
		err = -ENOMEM;
	while (!err && h->nr_chunks < a->initial_chunk_count) {
		err = kernel_map(vm, vm->heaps, h->chunk_size, &h->chunks[h->nr_chunks],
				 &h->chunk_va[h->nr_chunks]);
		h->nr_chunks += !err; /* heap_free() unmaps the chunks made so far */
	}
	if (err) {
		heap_free(vm, h);
		return err;
	}
	link_chunks(h);
	*out = h;
	return 0;
}

static int check_create(const struct drm_panthor_tiler_heap_create *a)
{
	if (!a->initial_chunk_count || a->initial_chunk_count > a->max_chunks)
		return -EINVAL;
	if (a->chunk_size & (MOCK_PAGE - 1) || a->chunk_size < CHUNK_MIN ||
	    a->chunk_size > CHUNK_MAX)
		return -EINVAL;
	return 0;
}

static int free_id(const struct mock_heap_pool *pool)
{
	for (int id = 0; id < MAX_HEAPS; id++)
		if (!pool->heaps[id])
			return id;
	return -EBUSY; /* panthor's id allocator: no free id in [0, 128) */
}

/* No heap in @pool, nor one being created (by a thread that dropped vm->lock). */
static bool pool_unused(const struct mock_heap_pool *pool)
{
	for (int id = 0; id < MAX_HEAPS; id++)
		if (pool->heaps[id])
			return false;
	return true;
}

/* A heap in @vm (vm->lock held): its context zeroed, its chunks mapped and linked. */
static int heap_create(struct mock_vm *vm, struct drm_panthor_tiler_heap_create *a)
{
	bool new_pool = !vm->heaps;
	struct mock_heap *h;
	int id, err = pool_get(vm);

	if (err)
		return err;
	id = free_id(vm->heaps);
	if (id < 0)
		return id;
	vm->heaps->heaps[id] = &creating;
	err = heap_new(vm, a, &h);
	vm->heaps->heaps[id] = err ? NULL : h;
	if (err && new_pool && pool_unused(vm->heaps)) {
		/* A failed call leaves the VM as it was: without the pool it made. */
		pool_free(vm, vm->heaps);
		vm->heaps = NULL;
	}
	if (err)
		return err;
	memset((char *)vm->heaps->ctx_bo->map + id * CTX_STRIDE, 0, CTX_STRIDE);
	a->handle = a->vm_id << 16 | (uint32_t)id;
	a->tiler_heap_ctx_gpu_va = vm->heaps->ctx_va + (uint64_t)id * CTX_STRIDE;
	a->first_heap_chunk_gpu_va = h->chunk_va[0];
	return 0;
}

int mock_ioctl_tiler_heap_create(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_tiler_heap_create *a = arg;
	struct mock_vm *vm;
	int err = check_create(a);

	if (err)
		return err;
	vm = mock_vm_lookup(f, a->vm_id);
	if (!vm)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	err = vm->unusable ? -EINVAL : heap_create(vm, a);
	pthread_mutex_unlock(&vm->lock);
	mock_vm_put(vm);
	return err;
}

int mock_ioctl_tiler_heap_destroy(struct mockdrm_file *f, void *arg)
{
	const struct drm_panthor_tiler_heap_destroy *a = arg;
	uint32_t id = a->handle & 0xffff;
	struct mock_heap *h = NULL;
	struct mock_vm *vm;

	if (a->pad)
		return -EINVAL;
	vm = mock_vm_lookup(f, a->handle >> 16);
	if (!vm)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	if (vm->heaps && id < MAX_HEAPS && vm->heaps->heaps[id] != &creating) {
		h = vm->heaps->heaps[id];
		vm->heaps->heaps[id] = NULL;
	}
	if (h) {
		memset((char *)vm->heaps->ctx_bo->map + id * CTX_STRIDE, 0, CTX_STRIDE);
		heap_free(vm, h);
	}
	pthread_mutex_unlock(&vm->lock);
	mock_vm_put(vm);
	return h ? 0 : -EINVAL;
}

/**
 * mock_heaps_fini() - a VM's last reference went: its heaps' BOs and VAs go
 * with its gvm (which holds the mappings' references), the pool with them.
 * @vm: the VM, no longer used by any thread.
 */
void mock_heaps_fini(struct mock_vm *vm)
{
	struct mock_heap_pool *pool = vm->heaps;

	if (!pool)
		return;
	for (unsigned int id = 0; id < MAX_HEAPS; id++) {
		struct mock_heap *h = pool->heaps[id];

		for (uint32_t i = 0; h && i < h->nr_chunks; i++)
			mock_bo_put(h->chunks[i]);
		if (h) {
			free(h->chunks);
			free(h->chunk_va);
			free(h);
		}
	}
	mock_bo_put(pool->ctx_bo);
	gvm_kva_destroy(pool->kva);
	free(pool);
	vm->heaps = NULL;
}
