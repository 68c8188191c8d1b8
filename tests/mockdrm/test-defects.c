// SPDX-License-Identifier: MIT
/*
 * Regression tests of issue 14's smaller defects of the device (mockdrm/dev/),
 * through its C API: each failed before its fix.
 *
 * - A GPU-access WRITE whose source buffer becomes unreadable part-way fails
 *   with -EFAULT and stores nothing (the source is copied in first).
 * - A driver ioctl's struct longer than ours with a nonzero byte past ours is
 *   refused with -E2BIG and changes nothing; zero bytes there are accepted;
 *   a generic DRM ioctl ignores them (drm_ioctl() truncates).
 * - The counters' reader loses no count while workers add to them: reading
 *   with RESET and a GPU reading meanwhile, the sums add up.
 * - An async VM_BIND with a huge ops.count or syncs.count allocates nothing
 *   for the elements it cannot read: -ENOMEM past what the kernel's kvmalloc
 *   takes (INT_MAX bytes), else -EFAULT at the first unreadable element,
 *   within a small address-space limit; GROUP_SUBMIT's array of submits too.
 * - A synchronous VM_BIND behind an async job that waits for a fence nobody
 *   signals gives up after the job timeout (-ETIMEDOUT), changing nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>

#include <cmocka.h>

#include "group-args.h"
#include "mock-test.h"

#define VA (16 * MiB)

struct env {
	struct mt_dev d;
	uint32_t vm;
	struct mt_bo bo;
};

static int env_setup(void **state)
{
	static struct env e;
	struct gpuvm_vm_bind_op_repeat map;

	memset(&e, 0, sizeof(e));
	mt_open(&e.d, NULL);
	e.vm = mt_vm_create(&e.d);
	mt_bo_create(&e.d, 4 * MT_PAGE, 0x5eed, &e.bo);
	map = mt_op_map(&e.bo, 0, VA, e.bo.size, 0);
	CHECK_ERR("map", mt_bind(&e.d, e.vm, 0, &map, 1), 0);
	*state = &e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	mt_bo_destroy(&e->d, &e->bo);
	mt_close(&e->d);
	return 0;
}

/* Every page of the BO still holds its pattern, through the CPU and the GPU. */
static void expect_bo_unchanged(struct env *e, const char *ctx)
{
	unsigned char want[MT_PAGE];

	for (uint64_t p = 0; p < e->bo.size / MT_PAGE; p++) {
		mt_page_pattern(e->bo.tag, p, want);
		if (memcmp(e->bo.cpu + p * MT_PAGE, want, MT_PAGE))
			fail_msg("%s: BO page %llu changed", ctx, (unsigned long long)p);
		mt_expect_bo_page(&e->d, e->vm, VA + p * MT_PAGE, &e->bo, p, ctx);
	}
}

/* Defect 3: the source's second page is PROT_NONE. */
static void test_write_source_unreadable(void **state)
{
	struct env *e = *state;
	struct mt_access res = { 0 };
	unsigned char *src =
		mmap(NULL, 2 * MT_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(src != MAP_FAILED);
	memset(src, 0xee, 2 * MT_PAGE);
	assert_int_equal(mprotect(src + MT_PAGE, MT_PAGE, PROT_NONE), 0);
	CHECK_ERR("write from a half-readable buffer",
		  mt_gpu_write(&e->d, e->vm, VA, src, 2 * MT_PAGE, &res), -EFAULT);
	expect_bo_unchanged(e, "after the refused write");
	/* Starting inside the unreadable page: refused too. */
	CHECK_ERR("write from an unreadable buffer",
		  mt_gpu_write(&e->d, e->vm, VA, src + MT_PAGE, 16, &res), -EFAULT);
	expect_bo_unchanged(e, "after the refused write");
	/* The readable page alone is written. */
	CHECK_ERR("write from the readable page",
		  mt_gpu_write(&e->d, e->vm, VA + MT_PAGE, src, MT_PAGE, &res), 0);
	assert_int_equal(res.done, MT_PAGE);
	assert_int_equal(e->bo.cpu[MT_PAGE], 0xee);
	munmap(src, 2 * MT_PAGE);
}

/* @request with its struct size changed to @size. */
static unsigned long resized(unsigned long request, size_t size)
{
	return _IOC(_IOC_DIR(request), _IOC_TYPE(request), _IOC_NR(request), size);
}

static int vm_state(struct env *e, uint32_t id)
{
	struct drm_panthor_vm_get_state a = { .vm_id = id };
	int err = mockdrm_ioctl(e->d.file, DRM_IOCTL_PANTHOR_VM_GET_STATE, &a);

	return err ? err : (int)a.state;
}

static void test_longer_struct(void **state)
{
	struct env *e = *state;
	struct {
		struct drm_panthor_vm_create a;
		uint64_t extra[2];
	} vm = { .extra = { 0, 1 } };
	struct {
		struct drm_syncobj_create a;
		uint32_t extra;
	} sync = { .extra = 1 };
	unsigned long vm_create = resized(DRM_IOCTL_PANTHOR_VM_CREATE, sizeof(vm));

	CHECK_ERR("VM_CREATE, nonzero past the struct", mockdrm_ioctl(e->d.file, vm_create, &vm),
		  -E2BIG);
	CHECK_ERR("no VM 2", vm_state(e, e->vm + 1), -EINVAL);
	vm.extra[1] = 0;
	CHECK_ERR("VM_CREATE, zeros past the struct", mockdrm_ioctl(e->d.file, vm_create, &vm), 0);
	CHECK_EQ("its id", vm.a.id, e->vm + 1);
	CHECK_EQ("its state", vm_state(e, vm.a.id), DRM_PANTHOR_VM_STATE_USABLE);
	/* The generic ioctls truncate: a newer libdrm's fields are hints. */
	CHECK_ERR("SYNCOBJ_CREATE, nonzero past the struct",
		  mockdrm_ioctl(e->d.file, resized(DRM_IOCTL_SYNCOBJ_CREATE, sizeof(sync)), &sync),
		  0);
	assert_int_not_equal(sync.a.handle, 0);
}

static int stats(struct env *e, uint32_t flags, struct gpuvm_mock_stats *out)
{
	*out = (struct gpuvm_mock_stats){ .flags = flags };
	return mockdrm_ioctl(e->d.file, GPUVM_IOCTL_MOCK_STATS, out);
}

#define READERS 3
#define READS 50000

static void *gpu_reader(void *arg)
{
	struct env *e = arg;
	struct mt_access res;
	uint64_t word;

	for (unsigned int i = 0; i < READS; i++)
		if (mt_gpu_read(&e->d, e->vm, VA + (i % 4) * MT_PAGE, &word, 8, &res) || res.status)
			return (void *)1;
	return NULL;
}

/*
 * Every translation is one TLB hit or miss: none may be lost by a reset while
 * GPU reads count. (A reset between reading a counter and zeroing it loses
 * the adds in between; the window is short, so several readers race it.)
 */
static void test_stats_while_counting(void **state)
{
	struct env *e = *state;
	pthread_t threads[READERS];
	bool joined[READERS] = { false };
	struct gpuvm_mock_stats s;
	void *failed;
	uint64_t seen = 0;
	int running = READERS;

	assert_int_equal(stats(e, GPUVM_MOCK_STATS_RESET, &s), 0);
	for (unsigned int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, gpu_reader, e), 0);
	while (running) {
		assert_int_equal(stats(e, GPUVM_MOCK_STATS_RESET, &s), 0);
		seen += s.tlb_hits + s.tlb_misses;
		for (unsigned int i = 0; i < READERS; i++)
			if (!joined[i] && !pthread_tryjoin_np(threads[i], &failed)) {
				assert_null(failed);
				joined[i] = true;
				running--;
			}
	}
	assert_int_equal(stats(e, GPUVM_MOCK_STATS_RESET, &s), 0);
	seen += s.tlb_hits + s.tlb_misses;
	CHECK_EQ("translations counted", seen, (uint64_t)READERS * READS);
}

/* Bytes of address space in use now (VmSize). */
static uint64_t vm_size(void)
{
	char line[256];
	unsigned long kib = 0;
	FILE *in = fopen("/proc/self/status", "r");

	while (in && fgets(line, sizeof(line), in))
		if (sscanf(line, "VmSize: %lu kB", &kib) == 1)
			break;
	if (in)
		fclose(in);
	return (uint64_t)kib << 10;
}

/*
 * Two pages, the second PROT_NONE; @elem bytes of @first copied at the end
 * of the first, so the element after it is unreadable.
 */
static void *last_readable(const void *first, size_t elem)
{
	unsigned char *p =
		mmap(NULL, 2 * MT_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + MT_PAGE, MT_PAGE, PROT_NONE))
		return NULL;
	memcpy(p + MT_PAGE - elem, first, elem);
	return p + MT_PAGE - elem;
}

struct huge_row {
	const char *name;
	uint32_t ops_count, syncs_count;
	int want;
};

/* One row in the child: an async bind of the row's counts. 0 when it behaved. */
static int huge_row(struct env *e, const struct huge_row *row)
{
	struct drm_panthor_sync_op sync = { .flags = DRM_PANTHOR_SYNC_OP_SIGNAL |
						     DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ };
	struct drm_syncobj_create obj = { 0 };
	struct drm_panthor_vm_bind_op op = { .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
					     .va = VA,
					     .size = MT_PAGE };
	struct drm_panthor_vm_bind b = { .vm_id = e->vm, .flags = DRM_PANTHOR_VM_BIND_ASYNC };
	int ret;

	if (mockdrm_ioctl(e->d.file, DRM_IOCTL_SYNCOBJ_CREATE, &obj))
		return 10;
	sync.handle = obj.handle;
	op.syncs = (struct drm_panthor_obj_array){ .stride = sizeof(sync),
						   .count = row->syncs_count,
						   .array = (uint64_t)(uintptr_t)last_readable(
							   &sync, sizeof(sync)) };
	b.ops = (struct drm_panthor_obj_array){ .stride = sizeof(op),
						.count = row->ops_count,
						.array = (uint64_t)(uintptr_t)last_readable(
							&op, sizeof(op)) };
	ret = mockdrm_ioctl(e->d.file, DRM_IOCTL_PANTHOR_VM_BIND, &b);
	if (ret != row->want) {
		fprintf(stderr, "%s: %s, want %s\n", row->name, errname(ret), errname(row->want));
		return 11;
	}
	return vm_state(e, e->vm) == DRM_PANTHOR_VM_STATE_USABLE ? 0 : 12;
}

static void test_huge_counts(void **state)
{
	static const struct huge_row rows[] = {
		{ "ops.count 0xffffffff", 0xffffffffu, 1, -ENOMEM },
		{ "ops.count 2^23 (384 MiB for the kernel)", 1u << 23, 1, -EFAULT },
		{ "syncs.count 0xffffffff", 1, 0xffffffffu, -ENOMEM },
		{ "syncs.count 2^24 (256 MiB for the kernel)", 1, 1u << 24, -EFAULT },
	};
	struct env *e = *state;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			/* 64 MiB more address space than now: no room for a big array. */
			struct rlimit lim = { vm_size() + 64 * MiB, vm_size() + 64 * MiB };

			_exit(setrlimit(RLIMIT_AS, &lim) ? 13 : huge_row(e, &rows[i]));
		}
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail_msg("%s: child status 0x%x", rows[i].name, status);
	}
}

/* A group of one queue on the env's VM (igt's, group-args.h). */
static uint32_t group_create(struct env *e)
{
	static const struct drm_panthor_queue_create queue = { .ringbuf_size = 4096 };
	struct drm_panthor_group_create g = ga_group(&queue, e->vm);

	assert_int_equal(mockdrm_ioctl(e->d.file, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g), 0);
	return g.group_handle;
}

/* In the child: a GROUP_SUBMIT of @count submits, one readable. 0 when it behaved. */
static int huge_submit(struct env *e, uint32_t group, uint32_t count, int want)
{
	struct drm_panthor_queue_submit qs = { .queue_index = 0 };
	struct drm_panthor_group_submit a = { .group_handle = group };
	int ret;

	a.queue_submits = (struct drm_panthor_obj_array){
		.stride = sizeof(qs),
		.count = count,
		.array = (uint64_t)(uintptr_t)last_readable(&qs, sizeof(qs)),
	};
	ret = mockdrm_ioctl(e->d.file, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &a);
	if (ret != want) {
		fprintf(stderr, "GROUP_SUBMIT of %u: %s, want %s\n", count, errname(ret),
			errname(want));
		return 11;
	}
	return 0;
}

/* GROUP_SUBMIT's array of submits, the same way. */
static void test_huge_submit_count(void **state)
{
	static const struct {
		uint32_t count;
		int want;
	} rows[] = { { 0xffffffffu, -ENOMEM }, { 1u << 24, -EFAULT } };
	struct env *e = *state;
	uint32_t group = group_create(e);

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			struct rlimit lim = { vm_size() + 64 * MiB, vm_size() + 64 * MiB };

			_exit(setrlimit(RLIMIT_AS, &lim) ?
				      13 :
				      huge_submit(e, group, rows[i].count, rows[i].want));
		}
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail_msg("GROUP_SUBMIT count 0x%x: child status 0x%x", rows[i].count,
				 status);
	}
}

/* A synchronous bind, from a thread: its result and whether it returned. */
struct sync_bind {
	struct env *e;
	struct gpuvm_vm_bind_op_repeat op;
	int ret;
	int returned; /* atomic */
};

static void *sync_bind(void *arg)
{
	struct sync_bind *s = arg;

	s->ret = mt_bind(&s->e->d, s->e->vm, 0, &s->op, 1);
	__atomic_store_n(&s->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int env_setup_timeout(void **state)
{
	static struct env e;
	struct mockdrm_cfg cfg = { .job_timeout_ms = 300 };

	memset(&e, 0, sizeof(e));
	mt_open(&e.d, &cfg);
	e.vm = mt_vm_create(&e.d);
	mt_bo_create(&e.d, 4 * MT_PAGE, 0x5eed, &e.bo);
	*state = &e;
	return 0;
}

/* An async map of page 0 behind a pending mock fence; its fence id. */
static uint32_t queue_blocked_map(struct env *e)
{
	struct drm_syncobj_create in = { 0 };
	struct gpuvm_mock_fence_attach fence = { 0 };
	struct drm_panthor_sync_op wait = { .flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ };
	struct gpuvm_vm_bind_op_repeat op = mt_op_map(&e->bo, 0, VA, MT_PAGE, 0);

	assert_int_equal(mockdrm_ioctl(e->d.file, DRM_IOCTL_SYNCOBJ_CREATE, &in), 0);
	fence.handle = in.handle;
	assert_int_equal(mockdrm_ioctl(e->d.file, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &fence), 0);
	wait.handle = in.handle;
	mt_op_syncs(&op, &wait, 1);
	CHECK_ERR("async map", mt_bind(&e->d, e->vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, 1), 0);
	return fence.fence_id;
}

static void test_sync_bind_bounded(void **state)
{
	struct env *e = *state;
	uint32_t fence = queue_blocked_map(e);
	struct sync_bind s = { .e = e, .op = mt_op_map(&e->bo, MT_PAGE, VA + MT_PAGE, MT_PAGE, 0) };
	struct gpuvm_mock_fence_signal signal = { .fence_id = fence };
	int64_t start = now_ms(), took;
	pthread_t thread;

	assert_int_equal(pthread_create(&thread, NULL, sync_bind, &s), 0);
	while (!__atomic_load_n(&s.returned, __ATOMIC_ACQUIRE) && now_ms() - start < 3000)
		usleep(1000);
	took = now_ms() - start;
	/* Unblock the queue whatever happened, so that the thread ends. */
	assert_int_equal(mockdrm_ioctl(e->d.file, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &signal), 0);
	pthread_join(thread, NULL);
	if (took >= 3000)
		fail_msg("the synchronous bind was still waiting after %lld ms", (long long)took);
	CHECK_ERR("synchronous bind behind a stuck job", s.ret, -ETIMEDOUT);
	assert_true(took >= 250);
	/* Neither map shows before the fence; afterwards only the async one. */
	mt_expect_unmapped(&e->d, e->vm, VA + MT_PAGE, MT_PAGE, "after the timeout");
	s.returned = 0;
	CHECK_ERR("the same bind once the queue ran", mt_bind(&e->d, e->vm, 0, &s.op, 1), 0);
	mt_expect_bo_page(&e->d, e->vm, VA, &e->bo, 0, "the async map");
	mt_expect_bo_page(&e->d, e->vm, VA + MT_PAGE, &e->bo, 1, "the synchronous map");
	CHECK_EQ("VM state", vm_state(e, e->vm), DRM_PANTHOR_VM_STATE_USABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_source_unreadable, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_longer_struct, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_stats_while_counting, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_huge_counts, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_huge_submit_count, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_sync_bind_bounded, env_setup_timeout,
						env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
