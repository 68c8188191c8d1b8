// SPDX-License-Identifier: MIT
/*
 * Per-file syncobj handle tables, and the CREATE and DESTROY ioctls.
 */
#include <errno.h>
#include <stdlib.h>

#include <drm.h>

#include "sync_private.h"

/* Handle tables (lock held) */

struct mock_syncobj *mock_sync_table_lookup(const struct mock_sync_table *t, uint32_t handle)
{
	if (handle == 0 || handle > t->nr_slots)
		return NULL;
	return t->slots[handle - 1];
}

/* Give @s the lowest free handle, with a new reference, as idr_alloc(1, 0). */
int mock_sync_table_insert(struct mock_sync_table *t, struct mock_syncobj *s, uint32_t *handle)
{
	struct mock_syncobj **slots;
	unsigned int i, nr;

	for (i = 0; i < t->nr_slots && t->slots[i]; i++)
		;
	if (i == t->nr_slots) {
		if (t->nr_slots > UINT32_MAX / 2)
			return -ENOSPC;
		nr = t->nr_slots ? 2 * t->nr_slots : MIN_SLOTS;
		slots = mock_realloc(t->slots, nr * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (i = t->nr_slots; i < nr; i++)
			slots[i] = NULL;
		i = t->nr_slots;
		t->slots = slots;
		t->nr_slots = nr;
	}
	mock_syncobj_get(s);
	t->slots[i] = s;
	*handle = i + 1;
	return 0;
}

/* Every handle of an array (our copy of the user's), or -ENOENT naming none (drm_syncobj_array_find). */
int mock_sync_table_find_array(const struct mock_sync_table *t, const uint32_t *handles,
			       uint32_t count, struct mock_syncobj **objs)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		objs[i] = mock_sync_table_lookup(t, handles[i]);
		if (!objs[i])
			return -ENOENT;
	}
	return 0;
}

/**
 * mock_syncobj_find() - look up a handle.
 * @t: the file's table.
 * @handle: the handle.
 *
 * Context: takes the domain's lock.
 * Return: the syncobj with a reference for the caller, or NULL for an
 * unknown handle.
 */
struct mock_syncobj *mock_syncobj_find(struct mock_sync_table *t, uint32_t handle)
{
	struct mock_syncobj *s;

	pthread_mutex_lock(t->sync->lock);
	s = mock_sync_table_lookup(t, handle);
	if (s)
		mock_syncobj_get(s);
	pthread_mutex_unlock(t->sync->lock);
	return s;
}

/* CREATE, DESTROY */

/**
 * mock_syncobj_create_ioctl() - DRM_IOCTL_SYNCOBJ_CREATE.
 * @t: the file's table.
 * @a: flags (SIGNALED: start with a signaled fence); handle out.
 *
 * Context: allocates; takes the domain's lock.
 * Return: 0, -EINVAL (unknown flags), -ENOMEM, -ENOSPC (no handle left).
 */
int mock_syncobj_create_ioctl(struct mock_sync_table *t, struct drm_syncobj_create *a)
{
	struct mock_syncobj *s;
	int ret;

	if (a->flags & ~DRM_SYNCOBJ_CREATE_SIGNALED)
		return -EINVAL;
	s = mock_syncobj_alloc(t->sync);
	if (!s)
		return -ENOMEM;
	if (a->flags & DRM_SYNCOBJ_CREATE_SIGNALED) {
		s->head = mock_fence_alloc(t->sync, true);
		if (!s->head) {
			mock_syncobj_put(s);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(t->sync->lock);
	ret = mock_sync_table_insert(t, s, &a->handle);
	pthread_mutex_unlock(t->sync->lock);
	mock_syncobj_put(s);
	return ret;
}

/**
 * mock_syncobj_destroy_ioctl() - DRM_IOCTL_SYNCOBJ_DESTROY: drop a handle.
 * @t: the file's table.
 * @a: the handle; pad must be 0.
 *
 * The syncobj lives on while other handles, exports or waiters hold it.
 *
 * Context: takes the domain's lock.
 * Return: 0, -EINVAL (pad, unknown handle).
 */
int mock_syncobj_destroy_ioctl(struct mock_sync_table *t, struct drm_syncobj_destroy *a)
{
	struct mock_syncobj *s;

	if (a->pad)
		return -EINVAL;
	pthread_mutex_lock(t->sync->lock);
	s = mock_sync_table_lookup(t, a->handle);
	if (s)
		t->slots[a->handle - 1] = NULL;
	pthread_mutex_unlock(t->sync->lock);
	if (!s)
		return -EINVAL;
	mock_syncobj_put(s);
	return 0;
}
