// SPDX-License-Identifier: MIT
/*
 * libdrm's wrappers against the mock device, under the shim, as a client
 * program calls them: version and capabilities, every drmSyncobj* wrapper
 * (binary and timeline; waits that time out and waits that another thread
 * releases), and drmPrime* between two open files, with the GPU of one file
 * and the CPU of the other seeing the same memory.
 *
 * libdrm returns -1 with errno from most wrappers and -errno from the wait
 * wrappers; E() folds both into -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <xf86drm.h>

#include "drm-test.h"
#include "test-util.h"

#define E(call) ((call) ? -errno : 0)
#define MS 1000000ll

static int fd, fd2;

static int open_two(void **state)
{
	(void)state;
	fd = dt_open();
	fd2 = dt_open();
	return fd < 0 || fd2 < 0 ? -1 : 0;
}

static int close_two(void **state)
{
	(void)state;
	dt_assert_mmu_clean(fd);
	close(fd);
	close(fd2);
	return 0;
}

static void test_version_caps(void **state)
{
	drmVersionPtr v = drmGetVersion(fd);
	uint64_t cap;

	(void)state;
	assert_non_null(v);
	assert_string_equal(v->name, "panthor");
	assert_int_equal(v->version_major, 1);
	drmFreeVersion(v);
	assert_int_equal(E(drmGetCap(fd, DRM_CAP_SYNCOBJ, &cap)), 0);
	assert_int_equal(cap, 1);
	assert_int_equal(E(drmGetCap(fd, DRM_CAP_SYNCOBJ_TIMELINE, &cap)), 0);
	assert_int_equal(cap, 1);
	assert_int_equal(E(drmGetCap(fd, DRM_CAP_PRIME, &cap)), 0);
	assert_int_equal(cap, DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT);
	/* A render-only driver: mode-setting capabilities are not there. */
	assert_int_equal(E(drmGetCap(fd, DRM_CAP_DUMB_BUFFER, &cap)), -EOPNOTSUPP);
	assert_int_equal(E(drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1)), -EACCES);
}

static void test_syncobj_binary_waits(void **state)
{
	uint32_t h[2], first = 99;
	struct dt_late late;
	int64_t start;

	(void)state;
	assert_int_equal(E(drmSyncobjCreate(fd, 0, &h[0])), 0);
	assert_int_equal(E(drmSyncobjCreate(fd, DRM_SYNCOBJ_CREATE_SIGNALED, &h[1])), 0);
	/* No fence yet: an error, unless waiting for submission (which times out). */
	assert_int_equal(E(drmSyncobjWait(fd, h, 1, 0, 0, NULL)), -EINVAL);
	start = tu_now_ns();
	assert_int_equal(E(drmSyncobjWait(fd, h, 1, start + 20 * MS,
					  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL)),
			 -ETIME);
	assert_true(tu_now_ns() - start >= 20 * MS);
	/* ANY: the signaled one is first; ALL: times out on the pending one. */
	dt_fence_attach(fd, h[0], 0);
	assert_int_equal(E(drmSyncobjWait(fd, h, 2, 0, 0, &first)), 0);
	assert_int_equal(first, 1);
	assert_int_equal(E(drmSyncobjWait(fd, h, 2, tu_now_ns() + 10 * MS,
					  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL)),
			 -ETIME);
	/* A wait released by another thread's signal. */
	dt_late_fence(&late, fd, dt_fence_attach(fd, h[0], 0), 30);
	start = tu_now_ns();
	assert_int_equal(E(drmSyncobjWait(fd, h, 2, start + 5000 * MS,
					  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL)),
			 0);
	assert_true(tu_now_ns() - start >= 25 * MS);
	dt_late_join(&late);
	/* Reset empties, signal fills, destroy forgets. */
	assert_int_equal(E(drmSyncobjReset(fd, h, 2)), 0);
	assert_int_equal(E(drmSyncobjWait(fd, h, 1, 0, 0, NULL)), -EINVAL);
	assert_int_equal(E(drmSyncobjSignal(fd, h, 2)), 0);
	assert_int_equal(E(drmSyncobjWait(fd, h, 2, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL)), 0);
	assert_int_equal(E(drmSyncobjDestroy(fd, h[0])), 0);
	assert_int_equal(E(drmSyncobjWait(fd, h, 1, 0, 0, NULL)), -ENOENT);
	assert_int_equal(E(drmSyncobjDestroy(fd, h[0])), -EINVAL);
}

static void test_syncobj_timeline(void **state)
{
	uint32_t t = dt_syncobj_create(fd, 0), b = dt_syncobj_create(fd, 0);
	uint64_t points[] = { 1, 2 }, value, three = 3;
	struct dt_late late;
	uint32_t fence;

	(void)state;
	assert_int_equal(E(drmSyncobjTimelineSignal(fd, (uint32_t[]){ t, t }, points, 2)), 0);
	assert_int_equal(E(drmSyncobjQuery(fd, &t, &value, 1)), 0);
	assert_int_equal(value, 2);
	/* Point 3 submitted but pending: available, not signaled. */
	fence = dt_fence_attach(fd, t, 3);
	assert_int_equal(
		E(drmSyncobjTimelineWait(fd, &t, &three, 1, tu_now_ns() + 10 * MS, 0, NULL)),
		-ETIME);
	assert_int_equal(E(drmSyncobjTimelineWait(fd, &t, &three, 1, 0,
						  DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE, NULL)),
			 0);
	assert_int_equal(
		E(drmSyncobjQuery2(fd, &t, &value, 1, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED)), 0);
	assert_int_equal(value, 3);
	assert_int_equal(E(drmSyncobjQuery(fd, &t, &value, 1)), 0);
	assert_int_equal(value, 2);
	/* Point 3 into a binary syncobj: it waits for the same fence. */
	assert_int_equal(E(drmSyncobjTransfer(fd, b, 0, t, 3, 0)), 0);
	assert_int_equal(E(drmSyncobjWait(fd, &b, 1, 0, 0, NULL)), -ETIME);
	dt_late_fence(&late, fd, fence, 20);
	assert_int_equal(
		E(drmSyncobjTimelineWait(fd, &t, &three, 1, tu_now_ns() + 5000 * MS, 0, NULL)), 0);
	dt_late_join(&late);
	assert_int_equal(E(drmSyncobjWait(fd, &b, 1, 0, 0, NULL)), 0);
	assert_int_equal(E(drmSyncobjQuery(fd, &t, &value, 1)), 0);
	assert_int_equal(value, 3);
}

static void test_syncobj_fds(void **state)
{
	uint32_t h = dt_syncobj_create(fd, 0), h2, h3;
	int obj_fd, sync_file;
	uint32_t fence;

	(void)state;
	/* The same object in another file, through an fd. */
	assert_int_equal(E(drmSyncobjHandleToFD(fd, h, &obj_fd)), 0);
	assert_int_equal(E(drmSyncobjFDToHandle(fd2, obj_fd, &h2)), 0);
	close(obj_fd);
	assert_int_equal(E(drmSyncobjSignal(fd2, &h2, 1)), 0);
	assert_int_equal(E(drmSyncobjWait(fd, &h, 1, 0, 0, NULL)), 0);
	/* A sync file carries the fence, not the object. */
	fence = dt_fence_attach(fd, h, 0);
	assert_int_equal(E(drmSyncobjExportSyncFile(fd, h, &sync_file)), 0);
	h3 = dt_syncobj_create(fd2, DRM_SYNCOBJ_CREATE_SIGNALED);
	assert_int_equal(E(drmSyncobjImportSyncFile(fd2, h3, sync_file)), 0);
	close(sync_file);
	assert_int_equal(E(drmSyncobjWait(fd2, &h3, 1, 0, 0, NULL)), -ETIME);
	dt_fence_signal(fd, fence, 0);
	assert_int_equal(E(drmSyncobjWait(fd2, &h3, 1, 0, 0, NULL)), 0);
	/* Handles are per file. */
	assert_int_equal(E(drmSyncobjHandleToFD(fd2, 77, &obj_fd)), -EINVAL);
}

/*
 * A BO exported from one file and imported into another: one object. The
 * importer's GPU sees what the exporter's CPU wrote, and the other way round.
 */
static void test_prime_two_fds(void **state)
{
	uint32_t bo = dt_bo_create(fd, 4 * DT_PAGE, 0, 0), bo2, again, back;
	uint32_t vm2 = dt_vm_create(fd2, 0);
	uint64_t *cpu;
	int dmabuf;

	(void)state;
	dt_bo_tag_pages(fd, bo, 4);
	assert_int_equal(E(drmPrimeHandleToFD(fd, bo, DRM_CLOEXEC | DRM_RDWR, &dmabuf)), 0);
	assert_int_equal(E(drmPrimeFDToHandle(fd2, dmabuf, &bo2)), 0);
	assert_int_equal(E(drmPrimeFDToHandle(fd2, dmabuf, &again)), 0);
	assert_int_equal(again, bo2); /* same object, same handle */
	assert_int_equal(E(drmPrimeFDToHandle(fd, dmabuf, &back)), 0);
	assert_int_equal(back, bo); /* and back home, the original handle */
	close(dmabuf);
	dt_map(fd2, vm2, bo2, DT_PAGE, 1 << 20, 2 * DT_PAGE);
	assert_int_equal(dt_gpu_probe(fd2, vm2, 1 << 20), dt_page_tag(bo, 1));
	cpu = dt_bo_map(fd, bo, 4 * DT_PAGE);
	cpu[2 * DT_PAGE / 8] = 0x1234;
	assert_int_equal(dt_gpu_probe(fd2, vm2, (1 << 20) + DT_PAGE), 0x1234);
	assert_int_equal(dt_gpu_write64(fd2, vm2, (1 << 20) + 8, 0xabcd), 0);
	assert_int_equal(cpu[DT_PAGE / 8 + 1], 0xabcd);
	dt_bo_unmap(cpu, 4 * DT_PAGE);
	/* The exporter's handle goes; the importer's mapping stays. */
	assert_int_equal(E(drmCloseBufferHandle(fd, bo)), 0);
	assert_int_equal(dt_gpu_probe(fd2, vm2, 1 << 20), dt_page_tag(bo, 1));
}

/* An async bind whose input is a timeline point and whose output a binary syncobj. */
static void test_async_bind_syncobjs(void **state)
{
	uint32_t vm = dt_vm_create(fd, 0), bo = dt_bo_create(fd, DT_PAGE, 0, 0);
	uint32_t in = dt_syncobj_create(fd, 0), out = dt_syncobj_create(fd, 0);
	struct drm_panthor_sync_op syncs[] = {
		{ .flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ,
		  .handle = in,
		  .timeline_value = 5 },
		{ .flags = DRM_PANTHOR_SYNC_OP_SIGNAL, .handle = out },
	};
	struct drm_panthor_vm_bind_op op = { .bo_handle = bo,
					     .va = 1 << 20,
					     .size = DT_PAGE,
					     .syncs = DRM_PANTHOR_OBJ_ARRAY(2, syncs) };
	uint32_t fence = dt_fence_attach(fd, in, 5);
	struct dt_late late;

	(void)state;
	dt_bo_tag_pages(fd, bo, 1);
	assert_int_equal(dt_bind(fd, vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, sizeof(op), 1), 0);
	assert_int_equal(E(drmSyncobjWait(fd, &out, 1, tu_now_ns() + 20 * MS, 0, NULL)), -ETIME);
	assert_true(dt_gpu_probe(fd, vm, 1 << 20) & DT_FAULTED);
	dt_late_fence(&late, fd, fence, 10);
	assert_int_equal(E(drmSyncobjWait(fd, &out, 1, tu_now_ns() + 5000 * MS, 0, NULL)), 0);
	dt_late_join(&late);
	assert_int_equal(dt_gpu_probe(fd, vm, 1 << 20), dt_page_tag(bo, 0));
}

/*
 * GCC 12's libasan has no fork() interceptor: a thread inside malloc() when
 * another forks leaves the child's copy of ASan's allocator locked, and the
 * child's first thread (the device's bind worker) hangs in malloc(). Under
 * ASan the hammer therefore steps out of the device across each fork; the
 * normal and release builds fork with it inside.
 */
#ifdef __SANITIZE_ADDRESS__
#define HAMMER_PAUSES_FOR_FORK 1
#else
#define HAMMER_PAUSES_FOR_FORK 0
#endif

/* Keeps the device busy from another thread while the test forks. */
struct hammer {
	pthread_t thread;
	uint32_t vm;
	int stop, pause, paused; /* __atomic accesses */
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		bool pause = __atomic_load_n(&h->pause, __ATOMIC_ACQUIRE);

		__atomic_store_n(&h->paused, pause, __ATOMIC_RELEASE);
		if (pause)
			sched_yield();
		else
			dt_gpu_probe(fd, h->vm, 0);
	}
	return NULL;
}

static void hammer_pause(struct hammer *h, bool pause)
{
	if (!HAMMER_PAUSES_FOR_FORK)
		return;
	__atomic_store_n(&h->pause, pause, __ATOMIC_RELEASE);
	while (pause && !__atomic_load_n(&h->paused, __ATOMIC_ACQUIRE))
		sched_yield();
}

/*
 * The child's part: its copy of the queued bind runs when the child signals
 * its copy of the input fence. Plain checks: cmocka is the parent's.
 */
static int fork_child_checks(uint32_t vm, uint32_t fence, uint32_t out, uint64_t want)
{
	struct gpuvm_mock_fence_signal sig = { .fence_id = fence };

	if (!(dt_gpu_probe(fd, vm, 1 << 20) & DT_FAULTED))
		return 2; /* mapped before its input signaled */
	if (dt_ioctl(fd, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &sig))
		return 3;
	if (drmSyncobjWait(fd, &out, 1, tu_now_ns() + 5000 * MS, 0, NULL))
		return 4;
	return dt_gpu_probe(fd, vm, 1 << 20) == want ? 0 : 5;
}

/*
 * fork() with a bind queued and another thread inside the device: the child
 * gets a consistent copy whose queued bind completes there; the parent's
 * stays queued until the parent signals its own fence.
 */
static void test_fork_queued_bind(void **state)
{
	uint32_t vm = dt_vm_create(fd, 0), bo = dt_bo_create(fd, DT_PAGE, 0, 0);
	uint32_t in = dt_syncobj_create(fd, 0), out = dt_syncobj_create(fd, 0);
	uint32_t fence = dt_fence_attach(fd, in, 0);
	struct hammer h = { .vm = vm };
	int status;
	pid_t pid;

	(void)state;
	dt_bo_tag_pages(fd, bo, 1);
	dt_map_async(fd, vm, bo, 1 << 20, DT_PAGE, in, out);
	assert_int_equal(pthread_create(&h.thread, NULL, hammer_main, &h), 0);
	for (int i = 0; i < 8; i++) {
		hammer_pause(&h, true);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(fork_child_checks(vm, fence, out, dt_page_tag(bo, 0)));
		hammer_pause(&h, false);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(h.thread, NULL), 0);
	/* The parent's copy: still waiting for the parent's fence. */
	assert_int_equal(E(drmSyncobjWait(fd, &out, 1, 0, 0, NULL)), -ETIME);
	assert_true(dt_gpu_probe(fd, vm, 1 << 20) & DT_FAULTED);
	dt_fence_signal(fd, fence, 0);
	assert_int_equal(E(drmSyncobjWait(fd, &out, 1, tu_now_ns() + 5000 * MS, 0, NULL)), 0);
	assert_int_equal(dt_gpu_probe(fd, vm, 1 << 20), dt_page_tag(bo, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version_caps, open_two, close_two),
		cmocka_unit_test_setup_teardown(test_syncobj_binary_waits, open_two, close_two),
		cmocka_unit_test_setup_teardown(test_syncobj_timeline, open_two, close_two),
		cmocka_unit_test_setup_teardown(test_syncobj_fds, open_two, close_two),
		cmocka_unit_test_setup_teardown(test_prime_two_fds, open_two, close_two),
		cmocka_unit_test_setup_teardown(test_async_bind_syncobjs, open_two, close_two),
		cmocka_unit_test_setup_teardown(test_fork_queued_bind, open_two, close_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
