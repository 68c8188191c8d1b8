// SPDX-License-Identifier: MIT
/*
 * Sync files, sw_sync, SYNCOBJ_EVENTFD and the syncobj rules of Linux 7.2,
 * under the shim, the way igt's sw_sync, syncobj_wait and syncobj_timeline
 * tests use them: fences from a sw_sync timeline opened at its debugfs path,
 * waits that another thread releases, eventfds and poll(). Structs that
 * libdrm 2.4.114 and the uapi headers lack are defined here from the kernel's
 * layout, as an independent client does.
 *
 * Every error row also checks that the failed call changed nothing it could
 * have (fds, fence states, syncobj fences).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

#include "drm-test.h"
#include "test-util.h"

#define E(call) ((call) ? -errno : 0)
#define MS 1000000ll

#define SW_SYNC_PATH "/sys/kernel/debug/sync/sw_sync"

/* include/uapi/drm/drm.h since Linux 6.6 */
struct syncobj_eventfd {
	uint32_t handle;
	uint32_t flags;
	uint64_t point;
	int32_t fd;
	uint32_t pad;
};
#define SYNCOBJ_EVENTFD DRM_IOWR(0xCF, struct syncobj_eventfd)

static int timeline_open(void)
{
	int tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);

	assert_true(tl >= 0);
	return tl;
}

static int fence_create(int tl, uint32_t value)
{
	struct sw_sync_create_fence_data d = { .value = value, .name = "fence" };

	assert_int_equal(ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, &d), 0);
	assert_true(d.fence >= 0);
	return d.fence;
}

static void timeline_inc(int tl, uint32_t n)
{
	assert_int_equal(ioctl(tl, SW_SYNC_IOC_INC, &n), 0);
}

/* 1 when @f polls readable within @ms, else 0. */
static int readable(int f, int ms)
{
	struct pollfd p = { .fd = f, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The sync file's status (1, 0, -errno), and its fence count. */
static int file_status(int f, uint32_t *count)
{
	struct sync_file_info info = { 0 };

	assert_int_equal(ioctl(f, SYNC_IOC_FILE_INFO, &info), 0);
	if (count)
		*count = info.num_fences;
	return info.status;
}

static int merge(int a, int b, int *out)
{
	struct sync_merge_data d = { .name = "merged", .fd2 = b, .fence = -1 };
	int ret = E(ioctl(a, SYNC_IOC_MERGE, &d));

	*out = d.fence;
	return ret;
}

/* Fences of a sw_sync timeline signal as it advances; poll() sees it. */
static void test_sw_sync_poll_and_info(void **state)
{
	int tl = timeline_open(), f1 = fence_create(tl, 1), f3 = fence_create(tl, 3);
	int f0 = fence_create(tl, 0);
	struct sync_fence_info fi[2];
	struct sync_file_info info = { .num_fences = 2, .sync_fence_info = (uintptr_t)fi };
	uint32_t n;

	(void)state;
	assert_int_equal(readable(f0, 0), 1); /* value 0: reached at once */
	assert_int_equal(readable(f1, 0), 0);
	assert_int_equal(file_status(f1, &n), 0);
	assert_int_equal(n, 1);
	timeline_inc(tl, 1);
	assert_int_equal(readable(f1, 2000), 1);
	assert_int_equal(file_status(f1, NULL), 1);
	assert_int_equal(readable(f3, 0), 0);
	timeline_inc(tl, 1);
	assert_int_equal(file_status(f3, NULL), 0);
	timeline_inc(tl, 1);
	assert_int_equal(readable(f3, 2000), 1);
	/* FILE_INFO with room for the fences fills them in. */
	assert_int_equal(ioctl(f3, SYNC_IOC_FILE_INFO, &info), 0);
	assert_string_equal(info.name, "fence");
	assert_int_equal(info.status, 1);
	assert_int_equal(info.num_fences, 1);
	assert_string_equal(fi[0].driver_name, "sw_sync");
	assert_int_equal(fi[0].status, 1);
	assert_true(fi[0].timestamp_ns > 0);
	/* A dup is the same sync file; epoll-like callers can use either. */
	n = (uint32_t)dup(f3);
	assert_int_equal(file_status((int)n, NULL), 1);
	close((int)n);
	close(f0);
	close(f1);
	close(f3);
	close(tl);
}

/* Closing the timeline fails what is pending with -ENOENT (and wakes pollers). */
static void test_sw_sync_close_fails_pending(void **state)
{
	int tl = timeline_open(), f = fence_create(tl, 5), done = fence_create(tl, 0);

	(void)state;
	close(tl);
	assert_int_equal(readable(f, 2000), 1);
	assert_int_equal(file_status(f, NULL), -ENOENT);
	assert_int_equal(file_status(done, NULL), 1);
	close(f);
	close(done);
}

/* MERGE: both files' fences, signaled when all are; duplicates kept once. */
static void test_merge(void **state)
{
	int tl = timeline_open(), a = fence_create(tl, 1), b = fence_create(tl, 2), m, self;
	struct sync_fence_info fi[2];
	struct sync_file_info info = { .num_fences = 1, .sync_fence_info = (uintptr_t)fi };
	uint32_t n;

	(void)state;
	assert_int_equal(merge(a, b, &m), 0);
	assert_int_equal(file_status(m, &n), 0);
	assert_int_equal(n, 2);
	/* num_fences below the count: -EINVAL, nothing written. */
	memset(fi, 0x5a, sizeof(fi));
	assert_int_equal(E(ioctl(m, SYNC_IOC_FILE_INFO, &info)), -EINVAL);
	assert_int_equal((unsigned char)fi[0].obj_name[0], 0x5a);
	timeline_inc(tl, 1);
	assert_int_equal(readable(a, 2000), 1);
	assert_int_equal(readable(m, 0), 0);
	assert_int_equal(file_status(m, NULL), 0);
	timeline_inc(tl, 1);
	assert_int_equal(readable(m, 2000), 1);
	assert_int_equal(file_status(m, NULL), 1);
	assert_int_equal(merge(a, a, &self), 0);
	assert_int_equal(file_status(self, &n), 1);
	assert_int_equal(n, 1);
	close(self);
	close(m);
	close(a);
	close(b);
	close(tl);
}

static int count_open_fds(void)
{
	int n = 0;

	for (int i = 0; i < 1024; i++)
		n += fcntl(i, F_GETFD) >= 0;
	return n;
}

/* Error rows of the sync-file and sw_sync ioctls; nothing changes on failure. */
static void test_sync_file_errors(void **state)
{
	int tl = timeline_open(), f = fence_create(tl, 1), p[2], fds, out = -7;
	struct sync_file_info info = { .flags = 1 };
	struct sync_merge_data d = { .fd2 = f, .flags = 1, .fence = -7 };

	(void)state;
	assert_int_equal(pipe(p), 0);
	fds = count_open_fds();
	assert_int_equal(E(ioctl(f, SYNC_IOC_FILE_INFO, &info)), -EINVAL);
	info = (struct sync_file_info){ .pad = 1 };
	assert_int_equal(E(ioctl(f, SYNC_IOC_FILE_INFO, &info)), -EINVAL);
	info = (struct sync_file_info){ .num_fences = 1, .sync_fence_info = 0x10 };
	assert_int_equal(E(ioctl(f, SYNC_IOC_FILE_INFO, &info)), -EFAULT);
	assert_int_equal(E(ioctl(f, SYNC_IOC_FILE_INFO, (void *)0x10)), -EFAULT);
	assert_int_equal(E(ioctl(f, SYNC_IOC_MERGE, &d)), -EINVAL);
	assert_int_equal(d.fence, -7);
	assert_int_equal(merge(f, p[0], &out), -ENOENT);
	assert_int_equal(out, -1);
	/* Not a sync file: the real ioctl answers. */
	assert_int_equal(E(ioctl(p[0], SYNC_IOC_FILE_INFO, &info)), -ENOTTY);
	assert_int_equal(E(ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, (void *)0x10)), -EFAULT);
	assert_int_equal(E(ioctl(tl, SW_SYNC_IOC_INC, (void *)0x10)), -EFAULT);
	assert_int_equal(E(ioctl(tl, _IO('W', 7))), -ENOTTY);
	assert_int_equal(count_open_fds(), fds);
	assert_int_equal(file_status(f, NULL), 0);
	timeline_inc(tl, 1);
	assert_int_equal(file_status(f, NULL), 1);
	close(p[0]);
	close(p[1]);
	close(f);
	close(tl);
}

/*
 * igt syncobj_wait style: a syncobj takes a sw_sync fence; a wait times out,
 * then another thread advances the timeline and the wait returns. Export
 * back to a sync file and import into a second file's syncobj.
 */
static void test_syncobj_sw_sync_fences(void **state)
{
	int tl = timeline_open(), f = fence_create(tl, 1), out, fd2 = dt_open();
	uint32_t h = dt_syncobj_create(dt_fd, 0), h2;
	struct dt_late late;

	(void)state;
	assert_true(fd2 >= 0);
	h2 = dt_syncobj_create(fd2, 0);
	assert_int_equal(E(drmSyncobjImportSyncFile(dt_fd, h, f)), 0);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &h, 1, 0, 0, NULL)), -ETIME);
	assert_int_equal(E(drmSyncobjExportSyncFile(dt_fd, h, &out)), 0);
	assert_int_equal(file_status(out, NULL), 0);
	assert_int_equal(E(drmSyncobjImportSyncFile(fd2, h2, out)), 0);
	dt_late_timeline(&late, tl, 20);
	assert_int_equal(E(drmSyncobjWait(fd2, &h2, 1, tu_now_ns() + 5000 * MS, 0, NULL)), 0);
	dt_late_join(&late);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &h, 1, 0, 0, NULL)), 0);
	assert_int_equal(readable(out, 2000), 1);
	assert_int_equal(file_status(out, NULL), 1);
	/* A closed timeline's fence is signaled with an error: waits still return 0. */
	close(f);
	f = fence_create(tl, 9);
	assert_int_equal(E(drmSyncobjImportSyncFile(dt_fd, h, f)), 0);
	close(tl);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &h, 1, tu_now_ns() + 5000 * MS, 0, NULL)), 0);
	close(f);
	close(out);
	close(fd2);
}

static int eventfd_arm(uint32_t h, uint64_t point, uint32_t flags, int efd)
{
	struct syncobj_eventfd a = { .handle = h, .flags = flags, .point = point, .fd = efd };

	return E(ioctl(dt_fd, SYNCOBJ_EVENTFD, &a));
}

/* SYNCOBJ_EVENTFD: signalled with the point, or with WAIT_AVAILABLE when it has a fence. */
static void test_syncobj_eventfd(void **state)
{
	int tl = timeline_open(), f = fence_create(tl, 1), efd = eventfd(0, EFD_CLOEXEC);
	int avail = eventfd(0, EFD_CLOEXEC), pre = eventfd(0, EFD_CLOEXEC);
	uint32_t bin = dt_syncobj_create(dt_fd, 0), tlo = dt_syncobj_create(dt_fd, 0);
	uint32_t done = dt_syncobj_create(dt_fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	uint64_t v = 0, p3 = 3;

	(void)state;
	assert_true(efd >= 0 && avail >= 0 && pre >= 0);
	/* Armed before the binary syncobj has a fence: waits for one, then for it. */
	assert_int_equal(eventfd_arm(bin, 0, 0, efd), 0);
	assert_int_equal(eventfd_arm(tlo, 3, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE, avail), 0);
	assert_int_equal(eventfd_arm(done, 0, 0, pre), 0);
	assert_int_equal(readable(pre, 2000), 1);
	assert_int_equal(read(pre, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
	assert_int_equal(E(drmSyncobjImportSyncFile(dt_fd, bin, f)), 0);
	assert_int_equal(readable(efd, 50), 0);
	timeline_inc(tl, 1);
	assert_int_equal(readable(efd, 2000), 1);
	/* Point 3 becomes available when a fence is there, signaled or not. */
	assert_int_equal(readable(avail, 0), 0);
	assert_int_equal(E(drmSyncobjTimelineSignal(dt_fd, &tlo, &p3, 1)), 0);
	assert_int_equal(readable(avail, 2000), 1);
	close(f);
	close(tl);
	close(efd);
	close(avail);
	close(pre);
}

static void test_syncobj_eventfd_errors(void **state)
{
	int efd = eventfd(0, EFD_CLOEXEC), p[2], fds;
	uint32_t h = dt_syncobj_create(dt_fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	struct syncobj_eventfd pad = { .handle = h, .fd = efd, .pad = 1 };

	(void)state;
	assert_int_equal(pipe(p), 0);
	fds = count_open_fds();
	assert_int_equal(eventfd_arm(h, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, efd), -EINVAL);
	assert_int_equal(E(ioctl(dt_fd, SYNCOBJ_EVENTFD, &pad)), -EINVAL);
	assert_int_equal(eventfd_arm(99, 0, 0, efd), -ENOENT);
	assert_int_equal(eventfd_arm(h, 0, 0, p[0]), -EINVAL);
	assert_int_equal(eventfd_arm(h, 0, 0, -1), -EBADF);
	assert_int_equal(count_open_fds(), fds);
	assert_int_equal(readable(efd, 50), 0); /* no failed call armed it */
	close(p[0]);
	close(p[1]);
	close(efd);
}

/* Linux 7.2's rules: zero handles, and QUERY's lookups before its writes. */
static void test_syncobj_zero_and_order(void **state)
{
	uint32_t h = dt_syncobj_create(dt_fd, 0);
	uint64_t point = 0;
	struct drm_syncobj_timeline_array q = { .handles = (uintptr_t)&h,
						.points = 0x10,
						.count_handles = 1 };
	struct drm_syncobj_wait w = { .handles = 0x10, .count_handles = 1 };

	(void)state;
	assert_int_equal(E(drmSyncobjWait(dt_fd, NULL, 0, 0, 0, NULL)), 0);
	assert_int_equal(E(drmSyncobjTimelineWait(dt_fd, NULL, NULL, 0, 0, 0, NULL)), 0);
	assert_int_equal(E(drmSyncobjReset(dt_fd, &h, 0)), -EINVAL);
	assert_int_equal(E(drmSyncobjSignal(dt_fd, &h, 0)), -EINVAL);
	assert_int_equal(E(drmSyncobjQuery(dt_fd, &h, &point, 0)), -EINVAL);
	assert_int_equal(E(drmSyncobjTimelineSignal(dt_fd, &h, &point, 0)), -EINVAL);
	assert_int_equal(E(drmIoctl(dt_fd, DRM_IOCTL_SYNCOBJ_WAIT, &w)), -EFAULT);
	assert_int_equal(E(drmIoctl(dt_fd, DRM_IOCTL_SYNCOBJ_QUERY, &q)), -EFAULT);
	h = 99;
	assert_int_equal(E(drmIoctl(dt_fd, DRM_IOCTL_SYNCOBJ_QUERY, &q)), -ENOENT);
}

/* The device's jobs accept sw_sync fences: an async bind waits for the timeline. */
static void test_bind_waits_for_sw_sync(void **state)
{
	int tl = timeline_open(), f = fence_create(tl, 1);
	uint32_t vm = dt_vm_create(dt_fd, 0), bo = dt_bo_create(dt_fd, DT_PAGE, 0, 0);
	uint32_t in = dt_syncobj_create(dt_fd, 0), out = dt_syncobj_create(dt_fd, 0);
	struct dt_late late;
	int done;

	(void)state;
	dt_bo_tag_pages(dt_fd, bo, 1);
	assert_int_equal(E(drmSyncobjImportSyncFile(dt_fd, in, f)), 0);
	dt_map_async(dt_fd, vm, bo, 1 << 20, DT_PAGE, in, out);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &out, 1, tu_now_ns() + 20 * MS, 0, NULL)), -ETIME);
	assert_true(dt_gpu_probe(dt_fd, vm, 1 << 20) & DT_FAULTED);
	/* The job's own fence, as a sync file, signals with it. */
	assert_int_equal(E(drmSyncobjExportSyncFile(dt_fd, out, &done)), 0);
	assert_int_equal(readable(done, 0), 0);
	dt_late_timeline(&late, tl, 10);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &out, 1, tu_now_ns() + 5000 * MS, 0, NULL)), 0);
	dt_late_join(&late);
	assert_int_equal(readable(done, 2000), 1);
	assert_int_equal(dt_gpu_probe(dt_fd, vm, 1 << 20), dt_page_tag(bo, 0));
	close(done);
	close(f);
	close(tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DT_TEST(test_sw_sync_poll_and_info),
		DT_TEST(test_sw_sync_close_fails_pending),
		DT_TEST(test_merge),
		DT_TEST(test_sync_file_errors),
		DT_TEST(test_syncobj_sw_sync_fences),
		DT_TEST(test_syncobj_eventfd),
		DT_TEST(test_syncobj_eventfd_errors),
		DT_TEST(test_syncobj_zero_and_order),
		DT_TEST(test_bind_waits_for_sw_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
