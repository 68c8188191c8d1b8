// SPDX-License-Identifier: MIT
/*
 * Sync files (<linux/sync_file.h>) of the device's fences: a syncobj's fence
 * exported as a sync file (DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE)
 * and imported back into syncobjs of this file and of another one,
 * SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, poll() waiting for the signal, and a
 * sync file as the input and the output of an async bind. The fences are
 * mock fences the test signals by hand (GPUVM_IOCTL_MOCK_FENCE_SIGNAL).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>
#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor sync files: syncobj export/import, info, merge, "
				     "poll";

#define VA 0x7000000ull
#define EXPORT_SYNC_FILE DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE
#define IMPORT_SYNC_FILE DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE
#define SIGNAL_DELAY_MS 50

static int fd = -1, other = -1;

/* Does @syncobj of @file hold a signaled fence right now? */
static bool signaled(int file, uint32_t syncobj)
{
	return syncobj_wait(file, &syncobj, 1, 0, 0, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* A syncobj's pending fence goes out as a sync file and back into two syncobjs. */
static void test_export_import(void)
{
	uint32_t src = syncobj_create(fd, 0), mine = syncobj_create(fd, 0);
	uint32_t theirs = syncobj_create(other, 0), fence = panthor_fence_attach(fd, src, 0), n;
	int sf = panthor_syncobj_export_sync_file(fd, src);

	igt_assert_eq(panthor_sync_file_status(sf, &n), 0);
	igt_assert_eq_u32(n, 1);
	igt_assert(!panthor_fd_readable(sf, 0));
	syncobj_import_sync_file(fd, mine, sf);
	syncobj_import_sync_file(other, theirs, sf);
	igt_assert(!signaled(fd, mine));
	igt_assert(!signaled(other, theirs));
	panthor_fence_signal(fd, fence, 0);
	igt_assert(panthor_fd_readable(sf, 5000));
	igt_assert_eq(panthor_sync_file_status(sf, NULL), 1);
	igt_assert(signaled(fd, mine));
	igt_assert(signaled(other, theirs));
	igt_assert(signaled(fd, src));
	close(sf);
	syncobj_destroy(fd, src);
	syncobj_destroy(fd, mine);
	syncobj_destroy(other, theirs);
}

/* FILE_INFO: the file's status, and each fence's when there is room for them. */
static void test_file_info(void)
{
	uint32_t fence;
	int sf = panthor_pending_sync_file(fd, &fence);
	struct sync_fence_info fi[1];
	struct sync_file_info info = { .num_fences = 1, .sync_fence_info = (uintptr_t)fi };

	memset(fi, 0x5a, sizeof(fi));
	do_ioctl(sf, SYNC_IOC_FILE_INFO, &info);
	igt_assert_eq(info.status, 0);
	igt_assert_eq_u32(info.num_fences, 1);
	igt_assert_eq(fi[0].status, 0);
	igt_assert(fi[0].driver_name[0] && memchr(fi[0].driver_name, 0, 32));
	igt_assert_eq_u64(fi[0].timestamp_ns, 0);
	panthor_fence_signal(fd, fence, -EIO);
	do_ioctl(sf, SYNC_IOC_FILE_INFO, &info);
	igt_assert_eq(info.status, -EIO);
	igt_assert_eq(fi[0].status, -EIO);
	igt_assert_neq_u64(fi[0].timestamp_ns, 0);
	igt_assert(panthor_fd_readable(sf, 0));
	/* Flags are reserved. */
	info.flags = 1;
	do_ioctl_err(sf, SYNC_IOC_FILE_INFO, &info, EINVAL);
	close(sf);
}

/* MERGE: one file of both files' distinct fences, signaled when all are. */
static void test_merge(void)
{
	uint32_t fa, fb, n;
	int a = panthor_pending_sync_file(fd, &fa), b = panthor_pending_sync_file(fd, &fb);
	int merged = -1, self = -1, pipes[2], bad = -1;
	struct sync_fence_info fi[2];
	struct sync_file_info info = { .num_fences = 1, .sync_fence_info = (uintptr_t)fi };

	igt_assert_eq(__panthor_sync_merge(a, b, &merged), 0);
	igt_assert_eq(panthor_sync_file_status(merged, &n), 0);
	igt_assert_eq_u32(n, 2);
	do_ioctl_err(merged, SYNC_IOC_FILE_INFO, &info, EINVAL); /* no room for both */
	igt_assert_eq(__panthor_sync_merge(a, a, &self), 0);
	igt_assert_eq(panthor_sync_file_status(self, &n), 0);
	igt_assert_eq_u32(n, 1);
	igt_assert_eq(pipe(pipes), 0);
	igt_assert_eq(__panthor_sync_merge(a, pipes[0], &bad), -ENOENT);
	igt_assert_eq(bad, -1);
	panthor_fence_signal(fd, fa, 0);
	igt_assert(!panthor_fd_readable(merged, 10));
	igt_assert(panthor_fd_readable(self, 0));
	panthor_fence_signal(fd, fb, 0);
	igt_assert(panthor_fd_readable(merged, 5000));
	igt_assert_eq(panthor_sync_file_status(merged, NULL), 1);
	close(pipes[0]);
	close(pipes[1]);
	close(self);
	close(merged);
	close(a);
	close(b);
}

struct delayed_signal {
	int fd;
	uint32_t fence_id;
	int err;
};

/* Signal the fence after a delay, from another thread (no igt asserts here). */
static void *signal_later(void *arg)
{
	struct delayed_signal *d = arg;
	struct gpuvm_mock_fence_signal s = { .fence_id = d->fence_id };

	usleep(SIGNAL_DELAY_MS * 1000);
	d->err = panthor_ioctl(d->fd, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &s);
	return NULL;
}

/* poll() sleeps until the fence signals, then says readable. */
static void test_poll_wait(void)
{
	struct delayed_signal d = { .fd = fd, .err = 1 };
	int sf = panthor_pending_sync_file(fd, &d.fence_id);
	int64_t start = now_ms();
	pthread_t thread;

	igt_assert_eq(pthread_create(&thread, NULL, signal_later, &d), 0);
	igt_assert(panthor_fd_readable(sf, 5000));
	igt_assert_lte(SIGNAL_DELAY_MS / 2, (int)(now_ms() - start));
	igt_assert_eq(pthread_join(thread, NULL), 0);
	igt_assert_eq(d.err, 0);
	igt_assert_eq(panthor_sync_file_status(sf, NULL), 1);
	close(sf);
}

/*
 * A sync file as an async bind's input (imported into its wait syncobj) and
 * as its output (its signal syncobj exported): the map happens when the
 * input signals, and the output sync file signals when it has.
 */
static void test_bind_fences(void)
{
	uint32_t bo = panthor_bo_create_tagged(fd, 1), vm = panthor_vm_create(fd, NULL), fence;
	uint32_t in = syncobj_create(fd, 0), out = syncobj_create(fd, 0);
	struct drm_panthor_sync_op syncs[] = {
		{ .flags = DRM_PANTHOR_SYNC_OP_WAIT, .handle = in },
		{ .flags = DRM_PANTHOR_SYNC_OP_SIGNAL, .handle = out },
	};
	struct drm_panthor_vm_bind_op op = panthor_map_op(bo, 0, VA, SZ_4K, 0);
	struct panthor_va_expect mapped = { .va = VA, .size = SZ_4K, .tag_bo = bo };
	int input = panthor_pending_sync_file(fd, &fence), output;

	syncobj_import_sync_file(fd, in, input);
	op.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, syncs);
	igt_assert_eq(__panthor_vm_bind(fd, vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, sizeof(op), 1), 0);
	output = panthor_syncobj_export_sync_file(fd, out);
	igt_assert(!panthor_fd_readable(output, 10));
	panthor_check_layout(fd, vm, VA, VA + SZ_4K, NULL, 0);
	panthor_fence_signal(fd, fence, 0);
	igt_assert(panthor_fd_readable(output, 5000));
	panthor_check_layout(fd, vm, VA, VA + SZ_4K, &mapped, 1);
	close(input);
	close(output);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
}

/* Refused exports and imports: no fd made, no fence put in the syncobj. */
static void test_invalid(void)
{
	uint32_t empty = syncobj_create(fd, 0), fence;
	int sf = panthor_pending_sync_file(fd, &fence), pipes[2], fds;
	struct drm_syncobj_handle h = { .handle = empty, .flags = EXPORT_SYNC_FILE, .fd = -1 };
	struct drm_syncobj_wait no_fence = { .handles = (uintptr_t)&empty, .count_handles = 1 };

	igt_assert_eq(pipe(pipes), 0);
	fds = panthor_count_open_fds();
	do_ioctl_err(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h, EINVAL); /* no fence to export */
	h.flags = 1u << 7;
	do_ioctl_err(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h, EINVAL);
	igt_assert_eq(h.fd, -1);
	h = (struct drm_syncobj_handle){ .handle = empty,
					 .flags = IMPORT_SYNC_FILE,
					 .fd = pipes[0] };
	do_ioctl_err(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h, EINVAL);
	h = (struct drm_syncobj_handle){ .handle = empty + 100,
					 .flags = IMPORT_SYNC_FILE,
					 .fd = sf };
	do_ioctl_err(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h, ENOENT);
	panthor_assert_no_fd_made(fds);
	do_ioctl_err(fd, DRM_IOCTL_SYNCOBJ_WAIT, &no_fence, EINVAL);
	panthor_fence_signal(fd, fence, 0);
	close(pipes[0]);
	close(pipes[1]);
	close(sf);
	syncobj_destroy(fd, empty);
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
		other = panthor_open();
	}

	igt_describe("a syncobj's fence as a sync file, imported into syncobjs of two files");
	igt_subtest("syncfile-export-import") {
		test_export_import();
	}
	igt_describe("FILE_INFO: status pending, signaled, failed; fence info; flags refused");
	igt_subtest("syncfile-info") {
		test_file_info();
	}
	igt_describe("MERGE: distinct fences of both, signaled when all are");
	igt_subtest("syncfile-merge") {
		test_merge();
	}
	igt_describe("poll() sleeps until another thread signals the fence");
	igt_subtest("syncfile-poll-wait") {
		test_poll_wait();
	}
	igt_describe("sync files as an async bind's input and output fences");
	igt_subtest("syncfile-bind-fences") {
		test_bind_fences();
	}
	igt_describe("export without a fence, bad flags, import of a non-sync-file: refused");
	igt_subtest("syncfile-invalid") {
		test_invalid();
	}

	igt_fixture {
		panthor_close(other);
		panthor_close(fd);
	}
}
