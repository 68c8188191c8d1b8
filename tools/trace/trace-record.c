// SPDX-License-Identifier: MIT
/*
 * Trace records from ioctl arguments. The arrays of each recorded request
 * are found through its argument struct (taken before the call, so that an
 * out field the kernel rewrote does not redirect a copy) and copied from the
 * program's memory after the call.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm.h>
#include <gpuvm/panthor_drm.h>

#include "trace-format.h"
#include "trace-record.h"

void trace_buf_free(struct trace_buf *b)
{
	free(b->data);
	*b = (struct trace_buf){ 0 };
}

/* Room for @n more bytes, zeroed (so that padding is zero). */
static void *grow(struct trace_buf *b, size_t n)
{
	size_t want = b->len + (size_t)trace_align(n), cap = b->cap ? b->cap : 512;
	void *p;

	while (cap < want)
		cap *= 2;
	if (cap != b->cap) {
		p = realloc(b->data, cap);
		if (!p)
			return NULL;
		b->data = p;
		b->cap = cap;
	}
	p = b->data + b->len;
	memset(p, 0, (size_t)trace_align(n));
	b->len = want;
	return p;
}

static int put(struct trace_buf *b, const void *src, size_t n)
{
	void *p = grow(b, n);

	if (!p)
		return -ENOMEM;
	memcpy(p, src, n);
	return 0;
}

static int start(struct trace_buf *b, uint16_t type)
{
	struct trace_rec_header h = { .type = type };

	*b = (struct trace_buf){ 0 };
	return put(b, &h, sizeof(h));
}

/* Set the record's size once it is complete. */
static int finish(struct trace_buf *b)
{
	((struct trace_rec_header *)b->data)->size = (uint32_t)b->len;
	return 0;
}

bool trace_recorded(unsigned long request)
{
	unsigned int nr = _IOC_NR(request);

	if (_IOC_TYPE(request) != DRM_IOCTL_BASE || _IOC_SIZE(request) > TRACE_MAX_ARG)
		return false;
	return nr == 0x09 || nr == 0x2d || nr == 0x2e ||                   /* GEM_CLOSE, PRIME */
	       (nr >= 0xbf && nr <= 0xc5) || (nr >= 0xca && nr <= 0xcd) || /* SYNCOBJ */
	       (nr >= DRM_COMMAND_BASE + DRM_PANTHOR_VM_CREATE &&
		nr <= DRM_COMMAND_BASE + DRM_PANTHOR_BO_QUERY_INFO) ||
	       (nr >= DRM_COMMAND_BASE + GPUVM_MOCK_GPU_ACCESS &&
		nr <= DRM_COMMAND_BASE + GPUVM_MOCK_FENCE_SIGNAL);
}

int trace_build_open(struct trace_buf *b, int fd, uint32_t minor)
{
	struct trace_open o = { .rdev_minor = minor };
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	if (start(b, TRACE_REC_OPEN) || put(b, &o, sizeof(o)) || put(b, path, strlen(path) + 1)) {
		trace_buf_free(b);
		return -ENOMEM;
	}
	return finish(b);
}

int trace_build_close(struct trace_buf *b)
{
	return start(b, TRACE_REC_CLOSE) ? -ENOMEM : finish(b);
}

/* One array: header and a copy of @stride * @count bytes at @addr. */
static int put_array(struct trace_buf *b, uint32_t *nr, uint32_t role, uint32_t parent,
		     uint64_t addr, uint32_t stride, uint32_t count)
{
	struct trace_array a = { .role = role, .parent = parent, .stride = stride, .count = count };
	uint64_t bytes = (uint64_t)stride * count;
	size_t mark = b->len;
	void *p;

	if (!count || !addr || bytes > TRACE_MAX_ARRAY_BYTES)
		return 0;
	if (put(b, &a, sizeof(a)) || !(p = grow(b, (size_t)bytes)))
		return -ENOMEM;
	if (!trace_copy_in(p, addr, (size_t)bytes)) {
		b->len = mark; /* unreadable: left out */
		return 0;
	}
	(*nr)++;
	return 0;
}

/*
 * The per-element arrays of an obj_array of structs: each element holds a
 * struct drm_panthor_obj_array at @field (VM_BIND op syncs at 32, queue
 * submit syncs at 24). The elements are read from the copy just recorded.
 */
static int put_nested(struct trace_buf *b, uint32_t *nr, size_t elems_at,
		      const struct drm_panthor_obj_array *arr, size_t field, uint32_t role)
{
	if (arr->stride < field + sizeof(struct drm_panthor_obj_array))
		return 0;
	for (uint32_t i = 0; i < arr->count; i++) {
		struct drm_panthor_obj_array sub;
		int err;

		memcpy(&sub, b->data + elems_at + (size_t)i * arr->stride + field, sizeof(sub));
		err = put_array(b, nr, role, i, sub.array, sub.stride, sub.count);
		if (err)
			return err;
	}
	return 0;
}

/* An obj_array of structs with an obj_array of syncs in each (or none). */
static int put_obj_array(struct trace_buf *b, uint32_t *nr, const struct drm_panthor_obj_array *arr,
			 uint32_t role, size_t syncs_field, uint32_t syncs_role)
{
	uint32_t before = *nr;
	size_t at = b->len + sizeof(struct trace_array);
	int err = put_array(b, nr, role, 0, arr->array, arr->stride, arr->count);

	if (err || *nr == before || !syncs_role)
		return err;
	return put_nested(b, nr, at, arr, syncs_field, syncs_role);
}

/* A NUL-terminated string of at most @max bytes, read page by page. */
static int put_string(struct trace_buf *b, uint32_t *nr, uint32_t role, uint64_t addr, uint32_t max)
{
	char s[4096];
	uint32_t len = 0;

	while (addr && len < max && len < sizeof(s)) {
		uint64_t at = addr + len, page_end = (at | 4095) + 1;
		uint32_t n = (uint32_t)(page_end - at < max - len ? page_end - at : max - len);
		char *nul;

		if (!trace_copy_in(s + len, at, n))
			return 0; /* unreadable: left out */
		nul = memchr(s + len, '\0', n);
		len += n;
		if (nul)
			return put_array(b, nr, role, 0, (uintptr_t)s, 1, (uint32_t)(nul - s) + 1);
	}
	return 0;
}

static int put_panthor_arrays(struct trace_buf *b, uint32_t *nr, unsigned int nr_ioctl,
			      const void *arg)
{
	switch (nr_ioctl - DRM_COMMAND_BASE) {
	case DRM_PANTHOR_VM_BIND:
		return put_obj_array(b, nr, &((const struct drm_panthor_vm_bind *)arg)->ops,
				     TRACE_ARRAY_BIND_OPS,
				     offsetof(struct drm_panthor_vm_bind_op, syncs),
				     TRACE_ARRAY_BIND_OP_SYNCS);
	case DRM_PANTHOR_GROUP_CREATE:
		return put_obj_array(b, nr, &((const struct drm_panthor_group_create *)arg)->queues,
				     TRACE_ARRAY_GROUP_QUEUES, 0, 0);
	case DRM_PANTHOR_GROUP_SUBMIT:
		return put_obj_array(b, nr,
				     &((const struct drm_panthor_group_submit *)arg)->queue_submits,
				     TRACE_ARRAY_SUBMITS,
				     offsetof(struct drm_panthor_queue_submit, syncs),
				     TRACE_ARRAY_SUBMIT_SYNCS);
	case DRM_PANTHOR_BO_SET_LABEL:
		return put_string(b, nr, TRACE_ARRAY_LABEL,
				  ((const struct drm_panthor_bo_set_label *)arg)->label, 4096);
	case DRM_PANTHOR_BO_SYNC:
		return put_obj_array(b, nr, &((const struct drm_panthor_bo_sync *)arg)->ops,
				     TRACE_ARRAY_BO_SYNC_OPS, 0, 0);
	case GPUVM_MOCK_GPU_ACCESS: {
		const struct gpuvm_mock_gpu_access *a = arg;

		if (a->op != GPUVM_MOCK_GPU_ACCESS_WRITE || a->size > UINT32_MAX)
			return 0;
		return put_array(b, nr, TRACE_ARRAY_ACCESS_DATA, 0, a->data, 1, (uint32_t)a->size);
	}
	default:
		return 0;
	}
}

static int put_syncobj_arrays(struct trace_buf *b, uint32_t *nr, unsigned int nr_ioctl,
			      const void *arg)
{
	const struct drm_syncobj_timeline_array *ta = arg;
	const struct drm_syncobj_timeline_wait *tw = arg;
	const struct drm_syncobj_array *sa = arg;
	const struct drm_syncobj_wait *w = arg;
	int err;

	switch (nr_ioctl) {
	case 0xc3: /* WAIT */
		return put_array(b, nr, TRACE_ARRAY_HANDLES, 0, w->handles, 4, w->count_handles);
	case 0xc4: /* RESET */
	case 0xc5: /* SIGNAL */
		return put_array(b, nr, TRACE_ARRAY_HANDLES, 0, sa->handles, 4, sa->count_handles);
	case 0xca: /* TIMELINE_WAIT */
		err = put_array(b, nr, TRACE_ARRAY_HANDLES, 0, tw->handles, 4, tw->count_handles);
		return err ? err :
			     put_array(b, nr, TRACE_ARRAY_POINTS, 0, tw->points, 8,
				       tw->count_handles);
	case 0xcb: /* QUERY */
	case 0xcd: /* TIMELINE_SIGNAL */
		err = put_array(b, nr, TRACE_ARRAY_HANDLES, 0, ta->handles, 4, ta->count_handles);
		return err ? err :
			     put_array(b, nr, TRACE_ARRAY_POINTS, 0, ta->points, 8,
				       ta->count_handles);
	default:
		return 0;
	}
}

int trace_build_ioctl(struct trace_buf *b, unsigned long request, const void *before,
		      const void *after, int result)
{
	uint32_t size = _IOC_SIZE(request), nr = 0;
	_Alignas(8) unsigned char arg[TRACE_MAX_ARG] = { 0 };
	struct trace_ioctl io = { .request = request, .result = result, .arg_size = size };
	size_t io_at;
	int err;

	/* The argument as the kernel's struct, zero-extended: what the arrays use. */
	memcpy(arg, before, size);
	if (start(b, TRACE_REC_IOCTL))
		return -ENOMEM;
	io_at = b->len;
	err = put(b, &io, sizeof(io)) || put(b, before, size) ? -ENOMEM : 0;
	if (!err) {
		void *out = grow(b, size);

		err = !out ? -ENOMEM : !trace_copy_in(out, (uintptr_t)after, size) ? -EFAULT : 0;
	}
	if (!err)
		err = _IOC_NR(request) >= DRM_COMMAND_BASE && _IOC_NR(request) < DRM_COMMAND_END ?
			      put_panthor_arrays(b, &nr, _IOC_NR(request), arg) :
			      put_syncobj_arrays(b, &nr, _IOC_NR(request), arg);
	if (err) {
		trace_buf_free(b);
		return err;
	}
	((struct trace_ioctl *)(b->data + io_at))->nr_arrays = nr;
	return finish(b);
}
