// SPDX-License-Identifier: MIT
/*
 * Mock-only fences for tests (like vgem's): attach a pending fence to a
 * syncobj point, signal it later - with an error, to fail whatever waits on
 * it. They make async work wait deterministically without a GPU.
 */
#include <errno.h>

#include "mock_internal.h"

/* Take @fence's id @id back, unless a FENCE_SIGNAL took it already. */
static void drop_fence_id(struct mockdrm_file *f, uint32_t id, struct mock_fence *fence)
{
	bool ours;

	pthread_mutex_lock(&f->dev->lock);
	ours = mock_idr_find(&f->fences, id) == fence;
	if (ours)
		mock_idr_remove(&f->fences, id);
	pthread_mutex_unlock(&f->dev->lock);
	if (ours)
		mock_fence_put(fence);
}

int mock_ioctl_fence_attach(struct mockdrm_file *f, void *arg)
{
	struct gpuvm_mock_fence_attach *a = arg;
	struct mock_syncobj *s;
	struct mock_fence *fence;
	int err;

	if (a->flags || a->pad)
		return -EINVAL;
	s = mock_syncobj_find(&f->syncobjs, a->handle);
	if (!s)
		return -ENOENT;
	fence = mock_fence_create(&f->dev->sync);
	if (!fence) {
		mock_syncobj_put(s);
		return -ENOMEM;
	}
	/*
	 * The id first: a fence installed in the syncobj cannot be taken back.
	 * The table gets the creation's reference; this call holds its own
	 * while installing (a FENCE_SIGNAL of the new id may come meanwhile).
	 */
	mock_fence_get(fence);
	pthread_mutex_lock(&f->dev->lock);
	err = mock_idr_alloc(&f->fences, fence, &a->fence_id);
	pthread_mutex_unlock(&f->dev->lock);
	if (err)
		mock_fence_put(fence); /* the table's, never taken */
	else if ((err = mock_syncobj_install(s, a->point, fence)))
		drop_fence_id(f, a->fence_id, fence);
	mock_syncobj_put(s);
	mock_fence_put(fence);
	return err;
}

int mock_ioctl_fence_signal(struct mockdrm_file *f, void *arg)
{
	struct gpuvm_mock_fence_signal *a = arg;
	struct mock_fence *fence;

	if (a->error > 0 || a->error < -4095)
		return -EINVAL;
	pthread_mutex_lock(&f->dev->lock);
	fence = mock_idr_remove(&f->fences, a->fence_id);
	pthread_mutex_unlock(&f->dev->lock);
	if (!fence)
		return -ENOENT;
	mock_fence_signal(fence, a->error);
	mock_fence_put(fence);
	return 0;
}

/* A closed file's test fences signal (with -ENODEV): nothing waits forever on them. */
void mock_file_drop_fences(struct mockdrm_file *f)
{
	for (uint32_t id = 1; id <= f->fences.nr; id++) {
		struct mock_fence *fence = mock_idr_remove(&f->fences, id);

		if (fence) {
			mock_fence_signal(fence, -ENODEV);
			mock_fence_put(fence);
		}
	}
	mock_idr_fini(&f->fences);
}
