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
#define DRIVER_MINOR 8

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
	/* coherency_features 0: no protocol to select, the CPU maintains its caches. */
	.selected_coherency = DRM_PANTHOR_GPU_COHERENCY_NONE,
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

/* RK3588's architected timer runs at 24 MHz; the model GPU's clock at 1 GHz. */
#define TIMESTAMP_HZ 24000000ull
#define GPU_CYCLE_HZ 1000000000ull
#define NSEC_PER_SEC 1000000000ull

#define TS_DEFAULT_FLAGS \
	(DRM_PANTHOR_TIMESTAMP_GPU | DRM_PANTHOR_TIMESTAMP_GPU_OFFSET | DRM_PANTHOR_TIMESTAMP_FREQ)
#define TS_KNOWN_FLAGS                                            \
	(TS_DEFAULT_FLAGS | DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK | \
	 DRM_PANTHOR_TIMESTAMP_GPU_CYCLE_COUNT | DRM_PANTHOR_TIMESTAMP_DURATION)

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* @ns of CLOCK_MONOTONIC in ticks of a @hz counter that started with it. */
static uint64_t ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ns * hz / NSEC_PER_SEC);
}

/* The CPU clock of @flags (1.8), read into @t. */
static void sample_cpu(struct drm_panthor_timestamp_info *t, uint32_t flags)
{
	uint32_t type = flags & DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK;
	struct timespec ts;

	if (type == DRM_PANTHOR_TIMESTAMP_CPU_NONE)
		return;
	clock_gettime(type == DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC ? CLOCK_MONOTONIC :
								    CLOCK_MONOTONIC_RAW,
		      &ts);
	t->cpu_timestamp_sec = (uint64_t)ts.tv_sec;
	t->cpu_timestamp_nsec = (uint64_t)ts.tv_nsec;
}

/* Fill what @flags asks for; the other fields keep what the caller had there. */
static void timestamp_sample(struct drm_panthor_timestamp_info *t, uint32_t flags)
{
	uint64_t start = clock_ns(CLOCK_MONOTONIC), now;

	sample_cpu(t, flags);
	now = clock_ns(CLOCK_MONOTONIC);
	if (flags & DRM_PANTHOR_TIMESTAMP_GPU)
		t->current_timestamp = ticks(now, TIMESTAMP_HZ);
	if (flags & DRM_PANTHOR_TIMESTAMP_GPU_CYCLE_COUNT)
		t->cycle_count = ticks(now, GPU_CYCLE_HZ);
	if (flags & DRM_PANTHOR_TIMESTAMP_GPU_OFFSET)
		t->timestamp_offset = 0;
	if (flags & DRM_PANTHOR_TIMESTAMP_FREQ)
		t->timestamp_frequency = TIMESTAMP_HZ;
	if (flags & DRM_PANTHOR_TIMESTAMP_DURATION)
		t->duration_nsec = (uint32_t)(clock_ns(CLOCK_MONOTONIC) - start);
}

/*
 * TIMESTAMP_INFO: the caller's struct is read first (1.8 takes flags in it;
 * a 24-byte struct reads as flags 0, the 1.1 query), bytes past ours must be
 * zero (-E2BIG), then what the flags ask for is sampled and written back.
 */
static int timestamp_query(struct drm_panthor_dev_query *q)
{
	struct drm_panthor_timestamp_info t = { 0 };
	struct drm_panthor_obj_array in = { .stride = q->size, .count = 1, .array = q->pointer };
	uint32_t flags;
	int err;

	if (!q->pointer) {
		q->size = sizeof(t);
		return 0;
	}
	if (q->size < GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1)
		return -EINVAL;
	err = mock_read_elem(&in, 0, &t, sizeof(t), GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1);
	if (err)
		return err;
	flags = t.flags ? t.flags : TS_DEFAULT_FLAGS;
	if ((flags & ~TS_KNOWN_FLAGS) ||
	    (flags & DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK) > DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC_RAW)
		return -EINVAL;
	timestamp_sample(&t, flags);
	return answer(q, &t, sizeof(t), GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1);
}

int mock_ioctl_dev_query(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_dev_query *q = arg;
	struct drm_panthor_group_priorities_info prio = { 0 };

	switch (q->type) {
	case DRM_PANTHOR_DEV_QUERY_GPU_INFO:
		return answer(q, &g610_gpu_info, sizeof(g610_gpu_info), 96);
	case DRM_PANTHOR_DEV_QUERY_CSIF_INFO:
		return answer(q, &g610_csif_info, sizeof(g610_csif_info), sizeof(g610_csif_info));
	case DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO:
		return timestamp_query(q);
	case DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO:
		prio.allowed_mask = mock_group_priority_mask(f);
		return answer(q, &prio, sizeof(prio), sizeof(prio));
	}
	return -EINVAL;
}
