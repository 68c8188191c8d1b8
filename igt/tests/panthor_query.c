// SPDX-License-Identifier: MIT
/*
 * DEV_QUERY: GPU_INFO, CSIF_INFO, TIMESTAMP_INFO and GROUP_PRIORITIES_INFO,
 * their size rules, and the group priorities a file may really use.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor DEV_QUERY: device information and its size rules";

static int fd = -1;

static void query(uint32_t type, void *info, uint32_t size)
{
	uint32_t got = size;

	igt_assert_eq(__panthor_query(fd, type, info, &got), 0);
}

/* mali.md section 3: the values of a Mali-G610, which the mock models. */
static void check_g610(const struct drm_panthor_gpu_info *gi)
{
	igt_assert_eq_u32(gi->gpu_id, 0xa8670005);
	igt_assert_eq_u32(gi->csf_id, 0x040a0412);
	igt_assert_eq_u32(gi->l2_features, 0x07120306);
	igt_assert_eq_u32(gi->mmu_features, 0x2830);
	igt_assert_eq_u32(gi->max_threads, 2048);
	igt_assert_eq_u32(gi->as_present, 0xff);
	igt_assert_eq_u64(gi->shader_present, 0x50005);
	igt_assert_eq_u64(gi->l2_present, 1);
	igt_assert_eq_u64(gi->tiler_present, 1);
}

static void test_gpu_info(void)
{
	struct drm_panthor_gpu_info gi;
	unsigned char big[sizeof(gi) + 16];
	uint32_t size = 0;

	/* pointer 0 asks for the size. */
	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_GPU_INFO, NULL, &size), 0);
	igt_assert_lte(96, size);

	memset(&gi, 0xa5, sizeof(gi));
	query(DRM_PANTHOR_DEV_QUERY_GPU_INFO, &gi, sizeof(gi));
	igt_assert_neq_u32(gi.gpu_id, 0);
	igt_assert_lte(32, gi.mmu_features & 0xff); /* VA bits */
	igt_assert_lte(gi.mmu_features & 0xff, 64);
	igt_assert_neq_u64(gi.shader_present, 0);
	igt_assert_neq_u64(gi.tiler_present, 0);
	igt_assert_eq_u32(gi.pad, 0);
	igt_assert_f(gi.as_present & 1, "address space 0 (the firmware's) must exist\n");
	if (panthor_is_mock(fd))
		check_g610(&gi);

	/* A newer, longer struct: what the device does not know reads as zero. */
	memset(big, 0xa5, sizeof(big));
	query(DRM_PANTHOR_DEV_QUERY_GPU_INFO, big, sizeof(big));
	igt_assert(memcmp(big, &gi, size < sizeof(gi) ? size : sizeof(gi)) == 0);
	for (size_t i = size; i < sizeof(big); i++)
		igt_assert_eq(big[i], 0);
}

/* The first release's 96 bytes work; fewer are refused; nothing past them is written. */
static void test_gpu_info_sizes(void)
{
	unsigned char buf[128];
	uint32_t size = 95;

	memset(buf, 0xa5, sizeof(buf));
	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_GPU_INFO, buf, &size), -EINVAL);
	for (size_t i = 0; i < sizeof(buf); i++)
		igt_assert_eq(buf[i], 0xa5);
	query(DRM_PANTHOR_DEV_QUERY_GPU_INFO, buf, 96);
	igt_assert_neq_u32(buf[0] | buf[1] | buf[2] | buf[3], 0);
	for (size_t i = 96; i < sizeof(buf); i++)
		igt_assert_eq(buf[i], 0xa5);
}

static void test_csif_info(void)
{
	struct drm_panthor_csif_info ci;

	memset(&ci, 0xa5, sizeof(ci));
	query(DRM_PANTHOR_DEV_QUERY_CSIF_INFO, &ci, sizeof(ci));
	igt_assert_lt(0, ci.csg_slot_count);
	igt_assert_lt(0, ci.cs_slot_count);
	igt_assert_lt(ci.unpreserved_cs_reg_count, ci.cs_reg_count);
	igt_assert_lt(0, ci.scoreboard_slot_count);
	igt_assert_eq_u32(ci.pad, 0);
	if (panthor_is_mock(fd)) {
		igt_assert_eq_u32(ci.csg_slot_count, 8);
		igt_assert_eq_u32(ci.cs_slot_count, 8);
		igt_assert_eq_u32(ci.cs_reg_count, 96);
		igt_assert_eq_u32(ci.scoreboard_slot_count, 8);
		igt_assert_eq_u32(ci.unpreserved_cs_reg_count, 4);
	}
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The counter runs (uapi 1.6) at the frequency it reports, give or take the scheduler. */
static void test_timestamp_info(void)
{
	/* Zeroed: from uapi 1.8 on, the struct carries input flags (0: the 1.1 query). */
	struct drm_panthor_timestamp_info t0 = { 0 }, t1 = { 0 };
	uint64_t cpu0, cpu1, gpu_ns;

	cpu0 = clock_ns(CLOCK_MONOTONIC);
	query(DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t0, sizeof(t0));
	usleep(20000);
	query(DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t1, sizeof(t1));
	cpu1 = clock_ns(CLOCK_MONOTONIC);

	igt_assert_neq_u64(t0.timestamp_frequency, 0);
	igt_assert_eq_u64(t1.timestamp_frequency, t0.timestamp_frequency);
	igt_assert_eq_u64(t1.timestamp_offset, t0.timestamp_offset);
	igt_assert_lt_u64(t0.current_timestamp, t1.current_timestamp);
	gpu_ns = (t1.current_timestamp - t0.current_timestamp) * 1000000000ull /
		 t0.timestamp_frequency;
	igt_info("frequency %llu Hz, %llu ns of GPU time in %llu ns\n",
		 (unsigned long long)t0.timestamp_frequency, (unsigned long long)gpu_ns,
		 (unsigned long long)(cpu1 - cpu0));
	igt_assert_lte_u64(20000000ull * 9 / 10, gpu_ns);
	igt_assert_lte_u64(gpu_ns, cpu1 - cpu0 + 1000000);
}

#define POISON 0xa5a5a5a5a5a5a5a5ull

/* The CPU time of @t lies in [@before, @after] (ns of the same clock). */
static void check_cpu_time(const struct drm_panthor_timestamp_info *t, uint64_t before,
			   uint64_t after)
{
	uint64_t cpu = t->cpu_timestamp_sec * 1000000000ull + t->cpu_timestamp_nsec;

	igt_assert_lt_u64(t->cpu_timestamp_nsec, 1000000000ull);
	igt_assert_lte_u64(before, cpu);
	igt_assert_lte_u64(cpu, after);
}

/* 1.8: the flags pick what is sampled; the rest of the caller's struct stays as it was. */
static void test_timestamp_flags(void)
{
	struct drm_panthor_timestamp_info t;
	uint64_t before, after;

	memset(&t, 0xa5, sizeof(t));
	t.flags = DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC | DRM_PANTHOR_TIMESTAMP_DURATION;
	before = clock_ns(CLOCK_MONOTONIC);
	query(DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t, sizeof(t));
	after = clock_ns(CLOCK_MONOTONIC);
	check_cpu_time(&t, before, after);
	igt_assert_lte_u64(t.duration_nsec, after - before);
	igt_assert_eq_u64(t.timestamp_frequency, POISON);
	igt_assert_eq_u64(t.current_timestamp, POISON);
	igt_assert_eq_u64(t.cycle_count, POISON);

	memset(&t, 0xa5, sizeof(t));
	t.flags = DRM_PANTHOR_TIMESTAMP_GPU | DRM_PANTHOR_TIMESTAMP_GPU_CYCLE_COUNT |
		  DRM_PANTHOR_TIMESTAMP_FREQ | DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC_RAW;
	before = clock_ns(CLOCK_MONOTONIC_RAW);
	query(DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t, sizeof(t));
	after = clock_ns(CLOCK_MONOTONIC_RAW);
	check_cpu_time(&t, before, after);
	igt_assert_neq_u64(t.timestamp_frequency, POISON);
	igt_assert_neq_u64(t.timestamp_frequency, 0);
	igt_assert_neq_u64(t.current_timestamp, POISON);
	igt_assert_neq_u64(t.cycle_count, POISON);
	igt_assert_eq_u64(t.timestamp_offset, POISON);
	igt_assert_eq_u32(t.duration_nsec, (uint32_t)POISON);

	/* Flags 0: the 1.1 query (GPU time, offset, frequency), CPU fields untouched. */
	memset(&t, 0xa5, sizeof(t));
	t.flags = 0;
	query(DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t, sizeof(t));
	igt_assert_neq_u64(t.timestamp_frequency, POISON);
	igt_assert_neq_u64(t.timestamp_offset, POISON);
	igt_assert_eq_u64(t.cpu_timestamp_sec, POISON);
}

static void test_timestamp_invalid(void)
{
	struct {
		struct drm_panthor_timestamp_info t;
		uint64_t extra;
	} wide = { .extra = 1 };
	struct drm_panthor_timestamp_info t = { .flags = 3u << 1 }; /* CPU clock 3 */
	uint32_t size = sizeof(t);

	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t, &size),
		      -EINVAL);
	t.flags = DRM_PANTHOR_TIMESTAMP_DURATION << 1; /* unknown */
	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t, &size),
		      -EINVAL);
	size = 16;
	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t, &size),
		      -EINVAL);
	size = sizeof(wide);
	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &wide, &size),
		      -E2BIG);
}

static int group_create(uint32_t vm, uint8_t priority, uint32_t *handle)
{
	struct drm_panthor_group_create g = panthor_group_args(vm);
	int err;

	g.priority = priority;
	err = panthor_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g);
	*handle = g.group_handle;
	return err;
}

/* The mask says exactly which priorities GROUP_CREATE accepts from this file. */
static void test_group_priorities(void)
{
	struct drm_panthor_group_priorities_info info;
	uint32_t vm = panthor_vm_create(fd, NULL), group;

	memset(&info, 0xa5, sizeof(info));
	query(DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO, &info, sizeof(info));
	igt_info("allowed priorities: %#x\n", info.allowed_mask);
	igt_assert_eq(info.allowed_mask & 0xf0, 0);
	igt_assert_eq(info.pad[0] | info.pad[1] | info.pad[2], 0);
	/* Low and medium need no privilege. */
	igt_assert_eq(info.allowed_mask & 3, 3);
	for (uint8_t prio = PANTHOR_GROUP_PRIORITY_LOW; prio <= PANTHOR_GROUP_PRIORITY_REALTIME;
	     prio++) {
		int err = group_create(vm, prio, &group);

		igt_assert_eq(err, (info.allowed_mask >> prio) & 1 ? 0 : -EACCES);
		if (!err)
			igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	}
	igt_assert_eq(group_create(vm, PANTHOR_GROUP_PRIORITY_REALTIME + 1, &group), -EINVAL);
	panthor_vm_destroy(fd, vm);
}

/* panthor's group_priority_permit(): the DRM master may create HIGH and REALTIME groups. */
static void test_group_priorities_master(void)
{
	struct drm_panthor_group_priorities_info info = { 0 };
	uint32_t vm, group;

	igt_require_f(drmIsMaster(fd), "this file is not the DRM master\n");
	query(DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO, &info, sizeof(info));
	igt_assert_eq(info.allowed_mask, 0xf);
	vm = panthor_vm_create(fd, NULL);
	igt_assert_eq(group_create(vm, PANTHOR_GROUP_PRIORITY_REALTIME, &group), 0);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	panthor_vm_destroy(fd, vm);
}

static void test_invalid(void)
{
	struct drm_panthor_dev_query q = { .type = DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO + 1,
					   .size = 64 };
	unsigned char buf[64];

	q.pointer = (uintptr_t)buf;
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q, EINVAL);
	q.type = DRM_PANTHOR_DEV_QUERY_CSIF_INFO;
	q.size = sizeof(struct drm_panthor_csif_info);
	q.pointer = 8; /* an address nothing is mapped at */
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q, EFAULT);
}

igt_main
{
	igt_fixture {
		fd = panthor_open();
	}

	igt_describe("GPU_INFO: size query, sane values (a G610's on the mock), zero fill");
	igt_subtest("gpu-info") {
		test_gpu_info();
	}
	igt_describe("GPU_INFO: 96 bytes accepted and nothing written past them; 95 refused");
	igt_subtest("gpu-info-sizes") {
		test_gpu_info_sizes();
	}
	igt_describe("CSIF_INFO: slot and register counts");
	igt_subtest("csif-info") {
		test_csif_info();
	}
	igt_describe("TIMESTAMP_INFO: the counter advances at the reported frequency");
	igt_subtest("timestamp-info") {
		test_timestamp_info();
	}
	igt_describe("1.8 TIMESTAMP_INFO: flags choose the GPU, CPU, cycle and duration fields");
	igt_subtest("timestamp-info-flags") {
		test_timestamp_flags();
	}
	igt_describe("1.8 TIMESTAMP_INFO: unknown CPU clock or flag, short size, dirty tail");
	igt_subtest("timestamp-info-invalid") {
		test_timestamp_invalid();
	}
	igt_describe("GROUP_PRIORITIES_INFO: GROUP_CREATE accepts exactly the allowed ones");
	igt_subtest("group-priorities") {
		test_group_priorities();
	}
	igt_describe("the DRM master may create HIGH and REALTIME groups");
	igt_subtest("group-priorities-master") {
		test_group_priorities_master();
	}
	igt_describe("unknown query type: EINVAL; unwritable pointer: EFAULT");
	igt_subtest("query-invalid") {
		test_invalid();
	}

	igt_fixture {
		panthor_close(fd);
	}
}
