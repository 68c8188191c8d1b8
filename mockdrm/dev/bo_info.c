// SPDX-License-Identifier: MIT
/*
 * What userspace says and asks about a BO beyond its memory: BO_SET_LABEL
 * (1.4), BO_SYNC and BO_QUERY_INFO (1.7), and the state dump that shows the
 * labels (mockdrm_dump()).
 *
 * The mock's CPU mappings and its GPU see the same bytes (one memfd), so
 * BO_SYNC has no cache to maintain: it checks the ranges as panthor does,
 * rounds them out to cache lines and counts what it would clean and
 * invalidate.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_internal.h"

#define LABEL_MAX 4096u /* bytes, with the NUL */
#define CACHE_LINE 64u  /* the G610's L2 line (l2_features bits 7:0 = 6) */

/*
 * Read the NUL-terminated string at @src, at most LABEL_MAX bytes with the
 * NUL, into a new allocation. Reads never cross a page they do not need, so
 * a string at the end of a mapping reads fine.
 */
static int read_label(uint64_t src, char **out)
{
	char *buf = mock_malloc(LABEL_MAX);
	uint32_t len = 0;

	if (!buf)
		return -ENOMEM;
	while (len < LABEL_MAX) {
		uint64_t at = src + len;
		uint32_t chunk = (uint32_t)(MOCK_PAGE - (at & (MOCK_PAGE - 1)));
		char *nul;

		chunk = chunk < LABEL_MAX - len ? chunk : LABEL_MAX - len;
		if (mock_copy_from_user(buf + len, at, chunk)) {
			free(buf);
			return -EFAULT;
		}
		nul = memchr(buf + len, '\0', chunk);
		if (nul) {
			*out = buf;
			return 0;
		}
		len += chunk;
	}
	free(buf);
	return -E2BIG;
}

int mock_ioctl_bo_set_label(struct mockdrm_file *f, void *arg)
{
	const struct drm_panthor_bo_set_label *a = arg;
	struct mock_bo *bo;
	char *label = NULL, *old;
	int err;

	if (a->pad)
		return -EINVAL;
	bo = mock_bo_lookup(f, a->handle);
	if (!bo)
		return -ENOENT;
	err = a->label ? read_label(a->label, &label) : 0;
	if (!err) {
		pthread_mutex_lock(&f->dev->lock);
		old = bo->label;
		bo->label = label;
		pthread_mutex_unlock(&f->dev->lock);
		free(old);
		if (f->dev->cfg.debug)
			fprintf(stderr, "mockdrm: BO at 0x%" PRIx64 " labelled \"%s\"\n", bo->pa,
				label ? label : "");
	}
	mock_bo_put(bo);
	return err;
}

/* One op of BO_SYNC, checked: a known BO, a known type, a range inside it. */
static int check_sync_op(struct mockdrm_file *f, const struct drm_panthor_bo_sync_op *op,
			 uint64_t *lines)
{
	struct mock_bo *bo;
	uint64_t first, end;
	int err = 0;

	if (op->type > DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH_AND_INVALIDATE)
		return -EINVAL;
	bo = mock_bo_lookup(f, op->handle);
	if (!bo)
		return -ENOENT;
	if (op->offset > bo->size || op->size > bo->size - op->offset)
		err = -EINVAL;
	mock_bo_put(bo);
	first = op->offset & ~(uint64_t)(CACHE_LINE - 1);
	end = (op->offset + op->size + CACHE_LINE - 1) & ~(uint64_t)(CACHE_LINE - 1);
	*lines = err ? 0 : (end - first) / CACHE_LINE;
	return err;
}

/*
 * Every op is checked before any is counted: a bad op leaves the counters as
 * they were. An empty array succeeds.
 */
int mock_ioctl_bo_sync(struct mockdrm_file *f, void *arg)
{
	const struct drm_panthor_bo_sync *a = arg;
	uint64_t lines = 0, n = 0;
	int err = 0;

	for (uint32_t i = 0; !err && i < a->ops.count; i++) {
		struct drm_panthor_bo_sync_op op;

		err = mock_read_elem(&a->ops, i, &op, sizeof(op), sizeof(op));
		if (!err)
			err = check_sync_op(f, &op, &n);
		lines += err ? 0 : n;
	}
	if (err)
		return err;
	__atomic_add_fetch(&f->dev->bo_sync_ops, a->ops.count, __ATOMIC_RELAXED);
	__atomic_add_fetch(&f->dev->bo_sync_lines, lines, __ATOMIC_RELAXED);
	return 0;
}

int mock_ioctl_bo_query_info(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_bo_query_info *a = arg;
	struct mock_bo *bo;

	if (a->pad)
		return -EINVAL;
	bo = mock_bo_lookup(f, a->handle);
	if (!bo)
		return -ENOENT;
	a->extra_flags = bo->imported ? DRM_PANTHOR_BO_IS_IMPORTED : 0;
	a->create_flags = bo->flags;
	mock_bo_put(bo);
	return 0;
}

/**
 * mockdrm_dump() - write the device's state, for debugging: its BOs (PA, size,
 * flags, references, whether imported, label) and counters.
 * @dev: the device.
 * @out: where to write.
 *
 * Context: takes the device lock; the output is one consistent snapshot.
 */
void mockdrm_dump(struct mockdrm_dev *dev, FILE *out)
{
	pthread_mutex_lock(&dev->lock);
	fprintf(out, "mockdrm: %u files, %u BOs, LATEST_FLUSH_ID 0x%06x\n", dev->files, dev->nr_bos,
		mock_gpu_flush_id(&dev->gpu));
	for (unsigned int i = 0; i < dev->nr_bos; i++) {
		const struct mock_bo *bo = dev->bos[i];

		fprintf(out, "  bo pa 0x%010" PRIx64 " size 0x%" PRIx64 " flags 0x%x refs %u%s%s",
			bo->pa, bo->size, bo->flags, bo->refs, bo->imported ? " imported" : "",
			bo->internal ? " internal" : "");
		if (bo->label)
			fprintf(out, " label \"%s\"", bo->label);
		fputc('\n', out);
	}
	pthread_mutex_unlock(&dev->lock);
}
