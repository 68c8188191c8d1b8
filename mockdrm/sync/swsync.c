// SPDX-License-Identifier: MIT
/*
 * sw_sync: software timelines whose fences tests signal by hand (the kernel's
 * debugfs sync/sw_sync, which no container offers).
 *
 * DOC: sw_sync
 *
 * Each timeline starts at 0. SW_SYNC_IOC_CREATE_FENCE makes a sync file whose
 * fence signals once the timeline reaches its value (compared as the kernel
 * does for 32-bit seqnos: value - now <= 0 as an s32), SW_SYNC_IOC_INC
 * advances the timeline, and destroying it (the last close of its fd)
 * signals the fences still pending with -ENOENT. The fences live in the
 * process's domain, so syncobjs of any device, their waits and the device's
 * jobs accept them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_user.h"
#include "sync_private.h"

struct sw_pt {
	struct sw_pt *next;
	struct mock_fence *fence;
	uint32_t value;
};

struct mock_sw_timeline {
	uint32_t value;
	struct sw_pt *pending; /* under the domain's lock */
};

/* Has the timeline reached @value? */
static bool reached(uint32_t now, uint32_t value)
{
	return (int32_t)(value - now) <= 0;
}

/* Signal @f with @error; lock held (no broadcast). */
static void signal_locked(struct mock_fence *f, int error)
{
	f->signaled = true;
	f->error = error;
	f->timestamp_ns = mock_sync_now_ns();
}

/**
 * mock_sw_timeline_create() - a new timeline at 0.
 * @out: the timeline.
 *
 * Context: allocates.
 * Return: 0, -ENOMEM.
 */
int mock_sw_timeline_create(struct mock_sw_timeline **out)
{
	*out = mock_calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

/**
 * mock_sw_timeline_destroy() - signal what is pending with -ENOENT, free.
 * @tl: the timeline, or NULL.
 *
 * Context: takes the domain's lock.
 */
void mock_sw_timeline_destroy(struct mock_sw_timeline *tl)
{
	struct mock_sync *sync = mock_sync_root();
	struct sw_pt *pt, *next;

	if (!tl)
		return;
	pthread_mutex_lock(sync->lock);
	for (pt = tl->pending; pt; pt = next) {
		next = pt->next;
		signal_locked(pt->fence, -ENOENT);
		mock_fence_put(pt->fence);
		free(pt);
	}
	mock_sync_wake_locked(sync);
	pthread_mutex_unlock(sync->lock);
	free(tl);
}

/* INC: advance and signal what the new value reaches. Lock held. */
static void advance_locked(struct mock_sw_timeline *tl, uint32_t inc)
{
	struct sw_pt **pp = &tl->pending, *pt;

	tl->value += inc;
	while ((pt = *pp)) {
		if (reached(tl->value, pt->value)) {
			*pp = pt->next;
			signal_locked(pt->fence, 0);
			mock_fence_put(pt->fence);
			free(pt);
		} else {
			pp = &pt->next;
		}
	}
}

static int ioctl_inc(struct mock_sw_timeline *tl, uint64_t arg)
{
	struct mock_sync *sync = mock_sync_root();
	uint32_t inc;
	int ret = mock_copy_from_user(&inc, arg, sizeof(inc));

	if (ret)
		return ret;
	pthread_mutex_lock(sync->lock);
	advance_locked(tl, inc);
	mock_sync_wake_locked(sync);
	pthread_mutex_unlock(sync->lock);
	return 0;
}

/* A fence at @value, pending on @tl unless reached. Lock held. */
static int create_fence_locked(struct mock_sw_timeline *tl, struct mock_sw_sync_create_fence *d)
{
	struct mock_fence *f = mock_fence_alloc(mock_sync_root(), false);
	struct sw_pt *pt = mock_calloc(1, sizeof(*pt));
	char name[sizeof(d->name) + 1] = { 0 };
	int ret = -ENOMEM;

	if (f && pt) {
		f->driver = "sw_sync";
		memcpy(name, d->name, sizeof(d->name));
		ret = mock_sync_file_export_locked(f, name, &d->fence);
	}
	if (ret || reached(tl->value, d->value)) {
		if (!ret)
			signal_locked(f, 0);
		free(pt);
		mock_fence_put(f);
		return ret;
	}
	pt->fence = f; /* the timeline's reference */
	pt->value = d->value;
	pt->next = tl->pending;
	tl->pending = pt;
	return 0;
}

static int ioctl_create_fence(struct mock_sw_timeline *tl, uint64_t arg)
{
	struct mock_sync *sync = mock_sync_root();
	struct mock_sw_sync_create_fence d;
	int ret = mock_copy_from_user(&d, arg, sizeof(d));

	if (ret)
		return ret;
	pthread_mutex_lock(sync->lock);
	ret = create_fence_locked(tl, &d);
	mock_sync_wake_locked(sync);
	pthread_mutex_unlock(sync->lock);
	/* As the kernel: the fd is not the caller's unless written back. */
	if (!ret && mock_copy_to_user(arg, &d, sizeof(d))) {
		close(d.fence);
		ret = -EFAULT;
	}
	return ret;
}

/**
 * mock_sw_timeline_ioctl() - an ioctl on a timeline's fd.
 * @tl: the timeline.
 * @request: MOCK_SW_SYNC_IOC_CREATE_FENCE or MOCK_SW_SYNC_IOC_INC.
 * @arg: the caller's argument (copied as copy_from/to_user do).
 *
 * Context: takes the domain's lock; allocates.
 * Return: 0; -ENOTTY (another request); -EFAULT; -ENOMEM, -EMFILE.
 */
int mock_sw_timeline_ioctl(struct mock_sw_timeline *tl, unsigned long request, void *arg)
{
	if (request == MOCK_SW_SYNC_IOC_CREATE_FENCE)
		return ioctl_create_fence(tl, (uintptr_t)arg);
	if (request == MOCK_SW_SYNC_IOC_INC)
		return ioctl_inc(tl, (uintptr_t)arg);
	return -ENOTTY;
}
