// SPDX-License-Identifier: MIT
/*
 * Reservations (the kernel's dma_resv): the fences of the work that reads or
 * writes a buffer, what implicit synchronization waits for.
 *
 * DOC: reservations
 *
 * A reservation holds fences, each for reading or for writing. A reader
 * must wait for the writers; a writer for everyone (DMA_BUF_IOCTL_EXPORT_SYNC_FILE
 * with READ or WRITE). Fences found signaled are dropped when a fence is
 * added. One reservation may be shared: by every importer of a dma-buf, and
 * by the BOs private to a VM (the VM's reservation).
 */
#include <errno.h>
#include <stdlib.h>

#include "sync_private.h"

struct mock_resv_node {
	struct mock_resv_node *next;
	struct mock_fence *fence;
	bool write;
};

struct mock_resv {
	atomic_uint refs;
	struct mock_resv_node *fences; /* under the domain's lock */
};

/**
 * mock_resv_create() - an empty reservation.
 *
 * Context: allocates.
 * Return: the reservation with one reference, or NULL without memory.
 */
struct mock_resv *mock_resv_create(void)
{
	struct mock_resv *r = mock_calloc(1, sizeof(*r));

	if (r)
		atomic_init(&r->refs, 1);
	return r;
}

void mock_resv_get(struct mock_resv *r)
{
	atomic_fetch_add(&r->refs, 1);
}

/**
 * mock_resv_node_free() - free a node (and its fence reference).
 * @n: a node from mock_resv_node_alloc() that was not added, or NULL.
 */
void mock_resv_node_free(struct mock_resv_node *n)
{
	if (n)
		mock_fence_put(n->fence);
	free(n);
}

/**
 * mock_resv_put() - drop a reference; the last drops the fences.
 * @r: the reservation, or NULL.
 */
void mock_resv_put(struct mock_resv *r)
{
	struct mock_resv_node *n, *next;

	if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	for (n = r->fences; n; n = next) {
		next = n->next;
		mock_resv_node_free(n);
	}
	free(r);
}

/* Drop the fences already signaled. Lock held. */
static void resv_prune(struct mock_resv *r)
{
	struct mock_resv_node **pp = &r->fences, *n;

	while ((n = *pp)) {
		if (mock_fence_settle(n->fence)) {
			*pp = n->next;
			mock_resv_node_free(n);
		} else {
			pp = &n->next;
		}
	}
}

/**
 * mock_resv_node_alloc() - the memory of one fence of a reservation,
 * allocated while the caller can still fail (a job being prepared).
 *
 * Return: the node for mock_resv_add_node(), or NULL without memory.
 */
struct mock_resv_node *mock_resv_node_alloc(void)
{
	return mock_calloc(1, sizeof(struct mock_resv_node));
}

/**
 * mock_resv_add_node() - add a fence of work that reads or writes the buffer.
 * @r: the reservation.
 * @n: from mock_resv_node_alloc() (consumed).
 * @f: the fence (the reservation takes a reference).
 * @write: whether the work writes.
 *
 * Context: takes the domain's lock; cannot fail.
 */
void mock_resv_add_node(struct mock_resv *r, struct mock_resv_node *n, struct mock_fence *f,
			bool write)
{
	struct mock_sync *sync = mock_sync_root();

	mock_fence_get(f);
	n->fence = f;
	n->write = write;
	pthread_mutex_lock(sync->lock);
	resv_prune(r);
	n->next = r->fences;
	r->fences = n;
	pthread_mutex_unlock(sync->lock);
}

/**
 * mock_resv_add() - mock_resv_add_node() with its own node.
 * @r: the reservation.
 * @f: the fence.
 * @write: whether the work writes.
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0, -ENOMEM (nothing added).
 */
int mock_resv_add(struct mock_resv *r, struct mock_fence *f, bool write)
{
	struct mock_resv_node *n = mock_resv_node_alloc();

	if (!n)
		return -ENOMEM;
	mock_resv_add_node(r, n, f, write);
	return 0;
}

/* One fence for @n fences: none (a signaled one), the one, or an array. */
static struct mock_fence *fence_of(struct mock_fence **fences, unsigned int n)
{
	struct mock_fence *f;

	if (n == 1) {
		f = fences[0];
		mock_fence_get(f);
		free(fences);
		return f;
	}
	f = mock_fence_alloc(mock_sync_root(), n == 0);
	if (!f || !n) {
		free(fences);
		return f;
	}
	for (unsigned int i = 0; i < n; i++)
		mock_fence_get(fences[i]);
	f->deps = fences;
	f->nr_deps = n;
	return f;
}

/**
 * mock_resv_fence() - what an access must wait for, as one fence.
 * @r: the reservation.
 * @write: for a write (every fence) or a read (the writers' fences).
 * @out: the fence (a signaled one when there is nothing to wait for), with
 *	a reference for the caller.
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0, -ENOMEM.
 */
int mock_resv_fence(struct mock_resv *r, bool write, struct mock_fence **out)
{
	struct mock_sync *sync = mock_sync_root();
	struct mock_fence **fences;
	struct mock_resv_node *node;
	unsigned int n = 0, nr = 0;

	pthread_mutex_lock(sync->lock);
	resv_prune(r);
	for (node = r->fences; node; node = node->next)
		nr++;
	fences = mock_calloc(nr ? nr : 1, sizeof(*fences));
	for (node = r->fences; fences && node; node = node->next)
		if (write || node->write)
			fences[n++] = node->fence;
	*out = fences ? fence_of(fences, n) : NULL;
	pthread_mutex_unlock(sync->lock);
	return *out ? 0 : -ENOMEM;
}
