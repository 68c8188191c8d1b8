// SPDX-License-Identifier: MIT
/*
 * What VM_BIND and GROUP_SUBMIT share: reading elements of a user object
 * array with panthor's versioning rule, and turning an array of sync ops into
 * fences to wait for and syncobjs to signal - everything that can fail done
 * at the ioctl, so that installing the job's fence afterwards cannot.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock_internal.h"

/*
 * An element of a user object array: copy what we know of it, zero-extend a
 * shorter (older) layout, refuse a longer one whose extra bytes are not zero.
 */
int mock_read_elem(const struct drm_panthor_obj_array *arr, uint32_t i, void *dst, size_t ksize,
		   size_t min_size)
{
	uint64_t at = arr->array + (uint64_t)i * arr->stride;
	size_t n = arr->stride < ksize ? arr->stride : ksize;
	unsigned char extra[64];

	if (arr->stride < min_size)
		return -EINVAL;
	memset(dst, 0, ksize);
	if (mock_copy_from_user(dst, at, n))
		return -EFAULT;
	for (uint64_t off = ksize; off < arr->stride; off += sizeof(extra)) {
		size_t chunk = arr->stride - off < sizeof(extra) ? arr->stride - off :
								   sizeof(extra);

		if (mock_copy_from_user(extra, at + off, chunk))
			return -EFAULT;
		for (size_t b = 0; b < chunk; b++)
			if (extra[b])
				return -E2BIG;
	}
	return 0;
}

/* Elements a lazily grown array starts with. */
#define ARRAY_FIRST 16u

/* Room for element @i of *@out (@cap elements of @size now): grow by doubling. */
static int array_room(void **out, uint32_t *cap, uint32_t i, uint32_t count, size_t size)
{
	uint32_t want = *cap ? *cap : ARRAY_FIRST;
	void *grown;

	if (i < *cap)
		return 0;
	while (want <= i)
		want *= 2;
	if (want > count)
		want = count;
	grown = mock_realloc(*out, (size_t)want * size);
	if (!grown)
		return -ENOMEM;
	*out = grown;
	*cap = want;
	return 0;
}

/**
 * mock_read_array() - copy a user object array in, as panthor's
 * panthor_get_uobj_array() does, before any element is looked at.
 * @arr: the array.
 * @ksize: our element size (what @read fills).
 * @min_size: the smallest stride, which is also the kernel's element size.
 * @read: reads element i into @dst (NULL: mock_read_elem() with @ksize and
 *	@min_size); 0 or -errno.
 * @out: the elements (free() it), NULL when the array is empty.
 *
 * The kernel refuses a stride below its element (-EINVAL), then allocates
 * count x element with kvmalloc, which fails past INT_MAX bytes (-ENOMEM),
 * then copies every element (-EFAULT, -E2BIG). The copy here grows as the
 * elements are read, so a huge count with a short array costs what could be
 * read, not what was claimed.
 *
 * Return: 0, -EINVAL, -ENOMEM, or @read's error.
 */
int mock_read_array(const struct drm_panthor_obj_array *arr, size_t ksize, size_t min_size,
		    int (*read)(const struct drm_panthor_obj_array *arr, uint32_t i, void *dst),
		    void **out)
{
	uint32_t cap = 0;
	int err = 0;

	*out = NULL;
	if (!arr->count)
		return 0;
	if (arr->stride < min_size)
		return -EINVAL;
	if ((uint64_t)arr->count * min_size > INT_MAX)
		return -ENOMEM;
	for (uint32_t i = 0; i < arr->count && !err; i++) {
		void *dst;

		err = array_room(out, &cap, i, arr->count, ksize);
		if (err)
			break;
		dst = (unsigned char *)*out + (size_t)i * ksize;
		err = read ? read(arr, i, dst) : mock_read_elem(arr, i, dst, ksize, min_size);
	}
	if (err) {
		free(*out);
		*out = NULL;
	}
	return err;
}

/*
 * A syncobj to signal (taking the reference): the point is checked and its
 * memory allocated now, so that submission cannot fail.
 */
static int add_signal(struct mock_syncs *s, struct mock_syncobj *obj, uint64_t point)
{
	struct mock_fence *node = NULL;

	if (!mock_syncobj_point_ok(obj, point)) {
		mock_syncobj_put(obj);
		return -EINVAL;
	}
	if (point) {
		node = mock_syncobj_point_alloc(obj);
		if (!node) {
			mock_syncobj_put(obj);
			return -ENOMEM;
		}
	}
	s->signals[s->nr_signals] = obj;
	s->nodes[s->nr_signals] = node;
	s->points[s->nr_signals++] = point;
	return 0;
}

/*
 * DOC: in-array chaining
 *
 * The jobs of one VM_BIND or GROUP_SUBMIT array are submitted together, so a
 * job may wait for a point that an earlier job of the same array signals:
 * the wait is on that job's fence (the latest earlier job signalling the same
 * syncobj and point), not on what the syncobj holds now, which may be nothing
 * yet. A signal of a timeline point must also be above the points earlier
 * jobs of the array signal on that timeline, so that installing them in order
 * cannot fail.
 */
static const struct mock_chain_link *chain_find(const struct mock_chain *c,
						const struct mock_syncobj *obj, uint64_t point)
{
	for (unsigned int i = c ? c->n : 0; i--;)
		if (c->links[i].obj == obj && c->links[i].point == point)
			return &c->links[i];
	return NULL;
}

static bool chain_point_ok(const struct mock_chain *c, const struct mock_syncobj *obj,
			   uint64_t point)
{
	for (unsigned int i = c ? c->n : 0; i--;)
		if (c->links[i].obj == obj && point && c->links[i].point >= point)
			return false;
	return true;
}

/**
 * mock_chain_add() - the signals of a job just read become visible to the
 * waits of the array's later jobs.
 * @c: the chain (zeroed at first).
 * @s: the job's sync ops; must outlive @c (the chain holds no references).
 * @done: the job's fence.
 *
 * Return: 0 or -ENOMEM.
 */
int mock_chain_add(struct mock_chain *c, const struct mock_syncs *s, struct mock_fence *done)
{
	if (c->n + s->nr_signals > c->cap) {
		unsigned int cap = (c->n + s->nr_signals) * 2;
		struct mock_chain_link *links = mock_realloc(c->links, cap * sizeof(*links));

		if (!links)
			return -ENOMEM;
		c->links = links;
		c->cap = cap;
	}
	for (unsigned int i = 0; i < s->nr_signals; i++)
		c->links[c->n++] = (struct mock_chain_link){ s->signals[i], s->points[i], done };
	return 0;
}

void mock_chain_fini(struct mock_chain *c)
{
	free(c->links);
	*c = (struct mock_chain){ 0 };
}

/* A wait: on an earlier job of the array if one signals it, else on the syncobj. */
static int add_wait(struct mock_syncs *s, struct mock_syncobj *obj, uint64_t point,
		    const struct mock_chain *chain)
{
	const struct mock_chain_link *link = chain_find(chain, obj, point);
	int err = 0;

	if (link) {
		mock_fence_get(link->done);
		s->waits[s->nr_waits++] = link->done;
	} else {
		err = mock_syncobj_fence(obj, point, &s->waits[s->nr_waits]);
		s->nr_waits += !err;
	}
	mock_syncobj_put(obj);
	return err;
}

/* One sync op: a fence to wait for, or a syncobj to signal. */
static int add_sync(struct mock_sync_table *t, struct mock_syncs *s,
		    const struct drm_panthor_sync_op *op, const struct mock_chain *chain)
{
	uint32_t kind = op->flags & DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK;
	struct mock_syncobj *obj;

	if ((op->flags & ~(DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK | DRM_PANTHOR_SYNC_OP_SIGNAL)) ||
	    kind > DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ ||
	    (kind == DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ && op->timeline_value))
		return -EINVAL;
	obj = mock_syncobj_find(t, op->handle);
	/*
	 * An unknown syncobj to wait for is drm_syncobj_find_fence()'s -ENOENT;
	 * one to signal is -EINVAL, as panthor's submit context adds signal ops
	 * (the reference is silent: this is what the kernel's code does).
	 */
	if (!obj)
		return op->flags & DRM_PANTHOR_SYNC_OP_SIGNAL ? -EINVAL : -ENOENT;
	if (!(op->flags & DRM_PANTHOR_SYNC_OP_SIGNAL))
		return add_wait(s, obj, op->timeline_value, chain);
	if (!chain_point_ok(chain, obj, op->timeline_value)) {
		mock_syncobj_put(obj);
		return -EINVAL;
	}
	return add_signal(s, obj, op->timeline_value);
}

/**
 * mock_syncs_read() - read a sync op array into @s (zeroed by the caller).
 * @t: the file's syncobjs.
 * @arr: the user's array (struct drm_panthor_sync_op elements).
 * @s: filled; mock_syncs_release() it whatever the result.
 * @chain: the signals of the earlier jobs of the same array, or NULL (DOC:
 *	in-array chaining).
 *
 * Return: 0, -EINVAL (bad flags, value, point, a wait with no fence, or an
 * unknown syncobj to signal), -ENOENT (unknown syncobj to wait for), -E2BIG,
 * -EFAULT, -ENOMEM.
 */
int mock_syncs_read(struct mock_sync_table *t, const struct drm_panthor_obj_array *arr,
		    struct mock_syncs *s, const struct mock_chain *chain)
{
	struct drm_panthor_sync_op *ops;
	int err = mock_read_array(arr, sizeof(*ops), sizeof(*ops), NULL, (void **)&ops);

	if (err || !arr->count)
		return err;
	s->waits = mock_calloc(arr->count, sizeof(*s->waits));
	s->signals = mock_calloc(arr->count, sizeof(*s->signals));
	s->points = mock_calloc(arr->count, sizeof(*s->points));
	s->nodes = mock_calloc(arr->count, sizeof(*s->nodes));
	if (!s->waits || !s->signals || !s->points || !s->nodes)
		err = -ENOMEM;
	for (uint32_t i = 0; i < arr->count && !err; i++)
		err = add_sync(t, s, &ops[i], chain);
	free(ops);
	return err;
}

/**
 * mock_syncs_install() - put a job's fence in every syncobj @s signals (at
 * submission, as the kernel does). Cannot fail.
 */
void mock_syncs_install(struct mock_syncs *s, struct mock_fence *done)
{
	for (unsigned int i = 0; i < s->nr_signals; i++) {
		mock_syncobj_install_node(s->signals[i], s->points[i], done, s->nodes[i]);
		s->nodes[i] = NULL;
	}
}

/* Hand the fences to wait for to a job: @s no longer holds them. */
struct mock_fence **mock_syncs_take_waits(struct mock_syncs *s, unsigned int *n)
{
	struct mock_fence **waits = s->waits;

	*n = s->nr_waits;
	s->waits = NULL;
	s->nr_waits = 0;
	return waits;
}

void mock_syncs_release(struct mock_syncs *s)
{
	for (unsigned int i = 0; i < s->nr_waits; i++)
		mock_fence_put(s->waits[i]);
	for (unsigned int i = 0; i < s->nr_signals; i++) {
		mock_syncobj_put(s->signals[i]);
		mock_fence_put(s->nodes[i]);
	}
	free(s->waits);
	free(s->signals);
	free(s->points);
	free(s->nodes);
	*s = (struct mock_syncs){ 0 };
}

#define STOP_POLL_NS 10000000ll /* how soon a stopped job notices */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/*
 * Wait for every fence; the first error wins. @stop (which may be NULL) is
 * asked every few milliseconds whether the job must give up: it returns 0,
 * or the negative errno the job ends with.
 */
int mock_fences_wait_all(struct mock_fence **fences, unsigned int n, int (*stop)(void *), void *ctx)
{
	int err = 0;

	for (unsigned int i = 0; i < n; i++) {
		int e;

		while (!mock_fence_status(fences[i], &e)) {
			int stopped = stop ? stop(ctx) : 0;

			if (stopped)
				return stopped;
			mock_fence_wait(fences[i], stop ? now_ns() + STOP_POLL_NS : INT64_MAX);
		}
		if (!err)
			err = e;
	}
	return err;
}

/*
 * Worker threads of a file (its bind and group queues), counted from start to
 * end so that mockdrm_close() can wait until none touches the file's objects.
 * dev->workers_lock is a leaf: taken with queue locks held.
 */
void mock_worker_start(struct mockdrm_file *f)
{
	pthread_mutex_lock(&f->dev->workers_lock);
	f->workers++;
	pthread_mutex_unlock(&f->dev->workers_lock);
}

/* The thread's last touch of the device. */
void mock_worker_done(struct mockdrm_file *f)
{
	struct mockdrm_dev *dev = f->dev;

	pthread_mutex_lock(&dev->workers_lock);
	if (!--f->workers)
		pthread_cond_broadcast(&dev->workers_done);
	pthread_mutex_unlock(&dev->workers_lock);
}

void mock_workers_wait(struct mockdrm_file *f)
{
	struct mockdrm_dev *dev = f->dev;

	pthread_mutex_lock(&dev->workers_lock);
	while (f->workers)
		pthread_cond_wait(&dev->workers_done, &dev->workers_lock);
	pthread_mutex_unlock(&dev->workers_lock);
}

void mock_fences_put_all(struct mock_fence **fences, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		mock_fence_put(fences[i]);
	free(fences);
}
