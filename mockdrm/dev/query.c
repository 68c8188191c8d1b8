// SPDX-License-Identifier: MIT
/*
 * What the device says about itself: DRM VERSION/GET_UNIQUE/GET_CAP/
 * SET_CLIENT_CAP and panthor's DEV_QUERY, with a Mali-G610's values
 * (mali.md section 3).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <drm.h>

#include "mock_internal.h"

#define DRIVER_NAME "panthor"
#define DRIVER_DATE "20230801"
#define DRIVER_DESC "Panthor DRM driver (gpuvm mock)"
#define DRIVER_MAJOR 1
#define DRIVER_MINOR 5

/* Copy what fits of @s into the caller's buffer, then report the full length. */
static int put_string(uint64_t *len, char **buf, const char *s)
{
	size_t n = strlen(s);
	int err = 0;

	if (*buf && *len)
		err = mock_copy_to_user((uint64_t)(uintptr_t)*buf, s, n < *len ? n : *len);
	*len = n;
	return err;
}

int mock_ioctl_version(struct mockdrm_file *f, void *arg)
{
	struct drm_version *v = arg;
	uint64_t len;
	int err;

	(void)f;
	v->version_major = DRIVER_MAJOR;
	v->version_minor = DRIVER_MINOR;
	v->version_patchlevel = 0;
	len = v->name_len;
	err = put_string(&len, &v->name, DRIVER_NAME);
	v->name_len = len;
	len = v->date_len;
	err = err ? err : put_string(&len, &v->date, DRIVER_DATE);
	v->date_len = len;
	len = v->desc_len;
	err = err ? err : put_string(&len, &v->desc, DRIVER_DESC);
	v->desc_len = len;
	return err;
}

/* No bus id: libdrm's drmOpen accepts a device whose unique is empty. */
int mock_ioctl_get_unique(struct mockdrm_file *f, void *arg)
{
	struct drm_unique *u = arg;

	if (f->node == MOCKDRM_NODE_RENDER)
		return -EACCES;
	u->unique_len = 0;
	return 0;
}

int mock_ioctl_get_cap(struct mockdrm_file *f, void *arg)
{
	struct drm_get_cap *c = arg;

	(void)f;
	switch (c->capability) {
	case DRM_CAP_TIMESTAMP_MONOTONIC:
	case DRM_CAP_SYNCOBJ:
	case DRM_CAP_SYNCOBJ_TIMELINE:
		c->value = 1;
		return 0;
	case DRM_CAP_PRIME:
		c->value = DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT;
		return 0;
	}
	/* Every other capability, known or not, needs mode setting, as in drm_getcap(). */
	return -EOPNOTSUPP;
}

int mock_ioctl_set_client_cap(struct mockdrm_file *f, void *arg)
{
	(void)arg;
	return f->node == MOCKDRM_NODE_RENDER ? -EACCES : -EOPNOTSUPP;
}

static const struct drm_panthor_gpu_info g610_gpu_info = {
	.gpu_id = 0xa8670005,
	.gpu_rev = 0,
	.csf_id = 0x040a0412,
	.l2_features = 0x07120306,
	.tiler_features = 0x809,
	.mem_features = 0x301,
	.mmu_features = (MOCK_PA_BITS << 8) | MOCK_VA_BITS,
	.thread_features = 0x04010000,
	.max_threads = 2048,
	.thread_max_workgroup_size = 1024,
	.thread_max_barrier_size = 1024,
	.coherency_features = 0,
	.texture_features = { 0xc1ffff9e, 0, 0, 0 },
	.as_present = 0xff,
	.shader_present = 0x50005,
	.l2_present = 1,
	.tiler_present = 1,
	.core_features = 0,
};

static const struct drm_panthor_csif_info g610_csif_info = {
	.csg_slot_count = 8,
	.cs_slot_count = 8,
	.cs_reg_count = 96,
	.scoreboard_slot_count = 8,
	.unpreserved_cs_reg_count = 4,
};

/* RK3588's architected timer runs at 24 MHz. */
#define TIMESTAMP_HZ 24000000ull

static void timestamp_info(struct drm_panthor_timestamp_info *t)
{
	struct timespec ts;
	unsigned __int128 ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (unsigned __int128)ts.tv_sec * 1000000000u + (unsigned __int128)ts.tv_nsec;
	t->timestamp_frequency = TIMESTAMP_HZ;
	t->current_timestamp = (uint64_t)(ns * TIMESTAMP_HZ / 1000000000u);
	t->timestamp_offset = 0;
}

/*
 * pointer == 0 asks for the size. Otherwise copy what the caller has room for
 * and clear the rest of its buffer (a newer struct than ours). A caller's size
 * below the first release's struct is refused.
 */
static int answer(struct drm_panthor_dev_query *q, const void *info, uint32_t size,
		  uint32_t min_size)
{
	static const char zeros[256];
	uint32_t n = q->size < size ? q->size : size;
	int err;

	if (!q->pointer) {
		q->size = size;
		return 0;
	}
	if (q->size < min_size)
		return -EINVAL;
	err = mock_copy_to_user(q->pointer, info, n);
	for (uint32_t at = n; !err && at < q->size; at += sizeof(zeros)) {
		uint32_t chunk = q->size - at < sizeof(zeros) ? q->size - at : sizeof(zeros);

		err = mock_copy_to_user(q->pointer + at, zeros, chunk);
	}
	return err;
}

int mock_ioctl_dev_query(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_dev_query *q = arg;
	struct drm_panthor_timestamp_info ts;
	struct drm_panthor_group_priorities_info prio = { 0 };

	(void)f;
	switch (q->type) {
	case DRM_PANTHOR_DEV_QUERY_GPU_INFO:
		return answer(q, &g610_gpu_info, sizeof(g610_gpu_info), 96);
	case DRM_PANTHOR_DEV_QUERY_CSIF_INFO:
		return answer(q, &g610_csif_info, sizeof(g610_csif_info), sizeof(g610_csif_info));
	case DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO:
		timestamp_info(&ts);
		return answer(q, &ts, GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1,
			      GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1);
	case DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO:
		/* Without CAP_SYS_NICE: low and medium. */
		prio.allowed_mask = 1u << PANTHOR_GROUP_PRIORITY_LOW |
				    1u << PANTHOR_GROUP_PRIORITY_MEDIUM;
		return answer(q, &prio, sizeof(prio), sizeof(prio));
	}
	return -EINVAL;
}
