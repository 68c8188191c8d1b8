// SPDX-License-Identifier: MIT
/*
 * What panthor 1.8 added on the mock device, through libdrm under the shim
 * (shared/reference/panthor-1.8.md): the version, the user MMIO page and its
 * LATEST_FLUSH_ID (mmap rules, SET_USER_MMIO_OFFSET, the flush ID advancing at
 * each GPU cache flush, flushes skipped by queue_submit.latest_flush),
 * BO_SYNC, BO_QUERY_INFO, the 1.8 timestamp query and the size rule of the
 * new ioctls.
 *
 * Error rows run as in test-rules.c: each must fail with its errno and leave
 * what a client can observe as it was (here: the file's MMIO offset as mmap
 * sees it, the BO_SYNC counters, LATEST_FLUSH_ID, the BOs' query info).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xf86drm.h>

#include <gpuvm/panthor_drm.h>

#include "drm-test.h"
#include "group-args.h"

#define PAGE DT_PAGE
#define MMIO64 DRM_PANTHOR_USER_MMIO_OFFSET_64BIT
#define MMIO32 DRM_PANTHOR_USER_MMIO_OFFSET_32BIT
#define BAD_PTR 8ull
#define CMD_VA 0x1000000ull

static int fd;
static uint32_t bo; /* 4 pages */

static int open_dev(void **state)
{
	(void)state;
	fd = dt_open();
	if (fd < 0)
		return -1;
	bo = dt_bo_create(fd, 4 * PAGE, DRM_PANTHOR_BO_WB_MMAP, 0);
	return 0;
}

static int close_dev(void **state)
{
	(void)state;
	close(fd);
	return 0;
}

static struct gpuvm_mock_stats stats(void)
{
	struct gpuvm_mock_stats s = { 0 };

	assert_int_equal(dt_ioctl(fd, GPUVM_IOCTL_MOCK_STATS, &s), 0);
	return s;
}

/* mmap of the DRM fd: 0 or -errno; a success is unmapped at once. */
static int try_mmap(uint64_t offset, size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)offset);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

/* Which user MMIO offset maps the flush-ID page: 64, 32, or 0 for none. */
static int mmio_width(void)
{
	if (!try_mmap(MMIO64, PAGE, PROT_READ, MAP_SHARED))
		return 64;
	return try_mmap(MMIO32, PAGE, PROT_READ, MAP_SHARED) ? 0 : 32;
}

static struct drm_panthor_bo_query_info query_info(uint32_t handle)
{
	struct drm_panthor_bo_query_info q = { .handle = handle };

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q), 0);
	return q;
}

/* What the rows may not change. */
struct snapshot {
	int mmio_width;
	uint64_t bo_sync_ops, bo_sync_lines;
	uint32_t flush_id;
	struct drm_panthor_bo_query_info info;
};

static void snapshot_take(struct snapshot *s)
{
	struct gpuvm_mock_stats st = stats();

	memset(s, 0, sizeof(*s));
	s->mmio_width = mmio_width();
	s->bo_sync_ops = st.bo_sync_ops;
	s->bo_sync_lines = st.bo_sync_lines;
	s->flush_id = st.latest_flush_id;
	s->info = query_info(bo);
}

struct row {
	const char *rule;
	int err;
	int (*call)(void);
};

static bool rule_holds(const struct row *r)
{
	struct snapshot before, after;
	int got;

	snapshot_take(&before);
	got = r->call();
	snapshot_take(&after);
	if (got != r->err) {
		fprintf(stderr, "FAIL %s: got %d (%s), want %d (%s)\n", r->rule, got,
			strerror(-got), r->err, strerror(-r->err));
		return false;
	}
	if (memcmp(&before, &after, sizeof(before))) {
		fprintf(stderr, "FAIL %s: state changed\n", r->rule);
		return false;
	}
	return true;
}

static void check_rows(const struct row *rows, size_t n)
{
	unsigned int failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += !rule_holds(&rows[i]);
	assert_int_equal(failed, 0);
}

/* SET_USER_MMIO_OFFSET rows */

static int set_mmio(uint64_t offset)
{
	struct drm_panthor_set_user_mmio_offset a = { .offset = offset };

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, &a);
}

static int mmio_zero(void)
{
	return set_mmio(0);
}

static int mmio_between(void)
{
	return set_mmio(1ull << 50);
}

static int mmio_plus_page(void)
{
	return set_mmio(MMIO64 + PAGE);
}

static int mmio_both(void)
{
	return set_mmio(MMIO64 | MMIO32);
}

/* A caller's struct longer than ours, with a nonzero byte past it. */
struct wide_mmio {
	uint64_t offset, extra;
};

static int mmio_dirty_tail(void)
{
	struct wide_mmio a = { .offset = MMIO32, .extra = 1 };

	return dt_ioctl(
		fd, DRM_IOWR(DRM_COMMAND_BASE + DRM_PANTHOR_SET_USER_MMIO_OFFSET, struct wide_mmio),
		&a);
}

/* mmap rows: the flush-ID page is one read-only shared page. */

static int map_writable(void)
{
	return try_mmap(MMIO64, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
}

static int map_exec(void)
{
	return try_mmap(MMIO64, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED);
}

static int map_private(void)
{
	return try_mmap(MMIO64, PAGE, PROT_READ, MAP_PRIVATE);
}

static int map_two_pages(void)
{
	return try_mmap(MMIO64, 2 * PAGE, PROT_READ, MAP_SHARED);
}

static int map_second_page(void)
{
	return try_mmap(MMIO64 + PAGE, PAGE, PROT_READ, MAP_SHARED);
}

static int map_other_width(void)
{
	return try_mmap(MMIO32, PAGE, PROT_READ, MAP_SHARED);
}

static int map_then_mprotect(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)MMIO64);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = mprotect(p, PAGE, PROT_READ | PROT_WRITE) ? -errno : 0;
	munmap(p, PAGE);
	return ret;
}

static const struct row mmio_rows[] = {
	{ "SET_USER_MMIO_OFFSET: 0", -EINVAL, mmio_zero },
	{ "SET_USER_MMIO_OFFSET: between the two", -EINVAL, mmio_between },
	{ "SET_USER_MMIO_OFFSET: a page past the 64-bit one", -EINVAL, mmio_plus_page },
	{ "SET_USER_MMIO_OFFSET: both bits", -EINVAL, mmio_both },
	{ "SET_USER_MMIO_OFFSET: nonzero bytes past the struct", -E2BIG, mmio_dirty_tail },
	{ "mmap flush ID: PROT_WRITE", -EINVAL, map_writable },
	{ "mmap flush ID: PROT_EXEC", -EINVAL, map_exec },
	{ "mmap flush ID: MAP_PRIVATE", -EINVAL, map_private },
	{ "mmap flush ID: two pages", -EINVAL, map_two_pages },
	{ "mmap: the page after the flush ID", -EINVAL, map_second_page },
	{ "mmap: the other width's offset", -EINVAL, map_other_width },
	{ "mprotect the flush-ID page writable", -EACCES, map_then_mprotect },
};

static void test_mmio_rules(void **state)
{
	(void)state;
	check_rows(mmio_rows, sizeof(mmio_rows) / sizeof(mmio_rows[0]));
}

/* Each file starts at the 64-bit offset; SET_USER_MMIO_OFFSET moves it, per file. */
static void test_mmio_offset(void **state)
{
	int other = dt_open();

	(void)state;
	assert_true(other >= 0);
	assert_int_equal(mmio_width(), 64);
	assert_int_equal(set_mmio(MMIO32), 0);
	assert_int_equal(mmio_width(), 32);
	assert_int_equal(try_mmap(MMIO64, PAGE, PROT_READ, MAP_SHARED), -EINVAL);
	/* The other file keeps its own. */
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, other, (off_t)MMIO64);
	assert_true(p != MAP_FAILED);
	munmap(p, PAGE);
	assert_int_equal(set_mmio(MMIO64), 0);
	assert_int_equal(mmio_width(), 64);
	close(other);
}

/* Command streams */

/* A VM with one page of stream at CMD_VA, and a group on it. */
struct job_setup {
	uint32_t vm, cmd_bo, group, syncobj;
	uint64_t *cmd;
};

static void job_setup(struct job_setup *j)
{
	static const struct drm_panthor_queue_create queue = { .ringbuf_size = 4096 };
	struct drm_panthor_group_create g;

	j->vm = dt_vm_create(fd, 0);
	j->cmd_bo = dt_bo_create(fd, PAGE, 0, 0);
	j->cmd = dt_bo_map(fd, j->cmd_bo, PAGE);
	dt_map(fd, j->vm, j->cmd_bo, 0, CMD_VA, PAGE);
	g = ga_group(&queue, j->vm);
	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g), 0);
	j->group = g.group_handle;
	j->syncobj = dt_syncobj_create(fd, 0);
	j->cmd[0] = 0; /* NOP */
}

static void job_teardown(struct job_setup *j)
{
	struct drm_panthor_group_destroy gd = { .group_handle = j->group };
	struct drm_panthor_vm_destroy vd = { .id = j->vm };

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_DESTROY, &gd), 0);
	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &vd), 0);
	dt_bo_unmap(j->cmd, PAGE);
	assert_int_equal(drmCloseBufferHandle(fd, j->cmd_bo), 0);
	assert_int_equal(drmSyncobjDestroy(fd, j->syncobj), 0);
}

/* One NOP job built against @latest_flush; waits for it. */
static void run_job(struct job_setup *j, uint32_t latest_flush)
{
	struct drm_panthor_sync_op sync = { .flags = DRM_PANTHOR_SYNC_OP_SIGNAL,
					    .handle = j->syncobj };
	struct drm_panthor_queue_submit qs = { .stream_addr = CMD_VA,
					       .stream_size = 8,
					       .latest_flush = latest_flush,
					       .syncs = DRM_PANTHOR_OBJ_ARRAY(1, &sync) };
	struct drm_panthor_group_submit gs = { .group_handle = j->group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(1, &qs) };

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs), 0);
	assert_int_equal(drmSyncobjWait(fd, &j->syncobj, 1, INT64_MAX, 0, NULL), 0);
}

/*
 * The page shows LATEST_FLUSH_ID; each flush the GPU performs advances it.
 * A job flushes first unless the ID it was built against has been passed
 * (a flush happened since): then the flush is skipped and counted.
 */
static void test_flush_id(void **state)
{
	const volatile uint32_t *page = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)MMIO64);
	struct gpuvm_mock_stats before, after;
	struct job_setup j;
	uint32_t id;

	(void)state;
	assert_true(page != MAP_FAILED);
	job_setup(&j);
	id = page[0];
	assert_int_not_equal(id, 0);
	assert_int_equal(stats().latest_flush_id, id);

	/* latest_flush 0: always flush. */
	before = stats();
	run_job(&j, 0);
	after = stats();
	assert_int_equal(after.cache_flushes, before.cache_flushes + 1);
	assert_int_equal(after.cache_flushes_skipped, before.cache_flushes_skipped);
	assert_int_equal(page[0], (id + 1) & 0xffffff);

	/* Built against the ID of before that flush: already done, skipped. */
	before = after;
	run_job(&j, id);
	after = stats();
	assert_int_equal(after.cache_flushes, before.cache_flushes);
	assert_int_equal(after.cache_flushes_skipped, before.cache_flushes_skipped + 1);
	assert_int_equal(page[0], (id + 1) & 0xffffff);

	/* Built against the current ID: no flush since, so it flushes. */
	run_job(&j, page[0]);
	after = stats();
	assert_int_equal(after.cache_flushes, before.cache_flushes + 1);
	assert_int_equal(page[0], (id + 2) & 0xffffff);
	assert_int_equal(after.latest_flush_id, page[0]);

	job_teardown(&j);
	munmap((void *)page, PAGE);
}

/* BO_SYNC, BO_QUERY_INFO, BO_SET_LABEL rows */

static int bo_sync(const struct drm_panthor_bo_sync_op *ops, uint32_t n, uint32_t stride)
{
	struct drm_panthor_bo_sync a = {
		.ops = { .stride = stride, .count = n, .array = (uintptr_t)ops },
	};

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_BO_SYNC, &a);
}

static int sync_one(uint32_t handle, uint32_t type, uint64_t offset, uint64_t size)
{
	struct drm_panthor_bo_sync_op op = { handle, type, offset, size };

	return bo_sync(&op, 1, sizeof(op));
}

static int sync_bad_type(void)
{
	return sync_one(bo, 2, 0, PAGE);
}

static int sync_unknown_bo(void)
{
	return sync_one(7, 0, 0, PAGE);
}

static int sync_past_end(void)
{
	return sync_one(bo, 0, 3 * PAGE, 2 * PAGE);
}

static int sync_offset_past_end(void)
{
	return sync_one(bo, 1, 4 * PAGE + 64, 0);
}

static int sync_overflow(void)
{
	return sync_one(bo, 0, 64, UINT64_MAX - 32);
}

static int sync_short_stride(void)
{
	struct drm_panthor_bo_sync_op op = { bo, 0, 0, PAGE };

	return bo_sync(&op, 1, 16);
}

static int sync_dirty_stride(void)
{
	struct {
		struct drm_panthor_bo_sync_op op;
		uint64_t extra;
	} wide = { { bo, 0, 0, PAGE }, 1 };

	return bo_sync(&wide.op, 1, sizeof(wide));
}

static int sync_unreadable(void)
{
	return bo_sync((const void *)(uintptr_t)BAD_PTR, 1, sizeof(struct drm_panthor_bo_sync_op));
}

static int sync_bad_second(void)
{
	struct drm_panthor_bo_sync_op ops[2] = { { bo, 0, 0, PAGE }, { bo, 0, 0, 5 * PAGE } };

	return bo_sync(ops, 2, sizeof(ops[0]));
}

static int query_unknown(void)
{
	struct drm_panthor_bo_query_info q = { .handle = 7 };

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q);
}

static int query_pad(void)
{
	struct drm_panthor_bo_query_info q = { .handle = bo, .pad = 1 };

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q);
}

static int label(uint32_t handle, uint32_t pad, uint64_t ptr)
{
	struct drm_panthor_bo_set_label a = { .handle = handle, .pad = pad, .label = ptr };

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &a);
}

static int label_unknown(void)
{
	return label(7, 0, (uintptr_t) "x");
}

static int label_pad(void)
{
	return label(bo, 1, (uintptr_t) "x");
}

static int label_unreadable(void)
{
	return label(bo, 0, BAD_PTR);
}

static int label_too_long(void)
{
	static char s[4097];

	memset(s, 'a', sizeof(s) - 1);
	return label(bo, 0, (uintptr_t)s);
}

static const struct row bo_rows[] = {
	{ "BO_SYNC: unknown type", -EINVAL, sync_bad_type },
	{ "BO_SYNC: unknown BO", -ENOENT, sync_unknown_bo },
	{ "BO_SYNC: range past the BO", -EINVAL, sync_past_end },
	{ "BO_SYNC: offset past the BO", -EINVAL, sync_offset_past_end },
	{ "BO_SYNC: offset + size overflows", -EINVAL, sync_overflow },
	{ "BO_SYNC: stride below the op", -EINVAL, sync_short_stride },
	{ "BO_SYNC: nonzero bytes past the op", -E2BIG, sync_dirty_stride },
	{ "BO_SYNC: unreadable array", -EFAULT, sync_unreadable },
	{ "BO_SYNC: a bad second op undoes nothing counted", -EINVAL, sync_bad_second },
	{ "BO_QUERY_INFO: unknown BO", -ENOENT, query_unknown },
	{ "BO_QUERY_INFO: pad", -EINVAL, query_pad },
	{ "BO_SET_LABEL: unknown BO", -ENOENT, label_unknown },
	{ "BO_SET_LABEL: pad", -EINVAL, label_pad },
	{ "BO_SET_LABEL: unreadable label", -EFAULT, label_unreadable },
	{ "BO_SET_LABEL: 4097 bytes without a NUL", -E2BIG, label_too_long },
};

static void test_bo_rules(void **state)
{
	(void)state;
	check_rows(bo_rows, sizeof(bo_rows) / sizeof(bo_rows[0]));
}

/* Valid BO_SYNC ops are counted, each range rounded out to 64-byte lines. */
static void test_bo_sync_counts(void **state)
{
	struct drm_panthor_bo_sync_op ops[3] = {
		{ bo, DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH, 0, PAGE },
		{ bo, DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH_AND_INVALIDATE, 60, 8 },
		{ bo, DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH, 4 * PAGE, 0 },
	};
	struct gpuvm_mock_stats before = stats(), after;

	(void)state;
	assert_int_equal(bo_sync(ops, 3, sizeof(ops[0])), 0);
	after = stats();
	assert_int_equal(after.bo_sync_ops, before.bo_sync_ops + 3);
	/* 64 lines, then [60, 68) spans two lines, then nothing. */
	assert_int_equal(after.bo_sync_lines, before.bo_sync_lines + 64 + 2);
	assert_int_equal(bo_sync(ops, 0, sizeof(ops[0])), 0);
}

/* Create flags come back; a BO of this device is not imported, even through PRIME. */
static void test_bo_query_info(void **state)
{
	struct drm_panthor_bo_query_info q = query_info(bo);
	int dmabuf, other = dt_open();
	uint32_t again;

	(void)state;
	assert_int_equal(q.create_flags, DRM_PANTHOR_BO_WB_MMAP);
	assert_int_equal(q.extra_flags, 0);
	assert_int_equal(drmPrimeHandleToFD(fd, bo, DRM_CLOEXEC, &dmabuf), 0);
	assert_int_equal(drmPrimeFDToHandle(other, dmabuf, &again), 0);
	q = (struct drm_panthor_bo_query_info){ .handle = again };
	assert_int_equal(dt_ioctl(other, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q), 0);
	assert_int_equal(q.extra_flags, 0);
	assert_int_equal(q.create_flags, DRM_PANTHOR_BO_WB_MMAP);
	/* A label of exactly 4096 bytes with its NUL, and clearing it, succeed. */
	static char s[4096];
	memset(s, 'b', sizeof(s) - 1);
	assert_int_equal(label(bo, 0, (uintptr_t)s), 0);
	assert_int_equal(label(bo, 0, 0), 0);
	close(dmabuf);
	close(other);
}

/* Timestamps */

static int timestamp(void *info, uint32_t size)
{
	struct drm_panthor_dev_query q = { .type = DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO,
					   .size = size,
					   .pointer = (uintptr_t)info };

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q);
}

static int ts_flags(uint32_t flags)
{
	struct drm_panthor_timestamp_info t = { .flags = flags };

	return timestamp(&t, sizeof(t));
}

static int ts_unknown_flag(void)
{
	return ts_flags(DRM_PANTHOR_TIMESTAMP_GPU | 1u << 8);
}

static int ts_cpu_clock_3(void)
{
	return ts_flags(3u << 1);
}

static int ts_cpu_clock_7(void)
{
	return ts_flags(DRM_PANTHOR_TIMESTAMP_CPU_TYPE_MASK);
}

static int ts_short(void)
{
	struct drm_panthor_timestamp_info t = { 0 };

	return timestamp(&t, 16);
}

static int ts_dirty_tail(void)
{
	struct {
		struct drm_panthor_timestamp_info t;
		uint64_t extra;
	} wide = { .extra = 1 };

	return timestamp(&wide, sizeof(wide));
}

static int ts_unreadable(void)
{
	return timestamp((void *)(uintptr_t)BAD_PTR, sizeof(struct drm_panthor_timestamp_info));
}

static const struct row ts_rows[] = {
	{ "TIMESTAMP_INFO: unknown flag", -EINVAL, ts_unknown_flag },
	{ "TIMESTAMP_INFO: CPU clock 3", -EINVAL, ts_cpu_clock_3 },
	{ "TIMESTAMP_INFO: CPU clock 7", -EINVAL, ts_cpu_clock_7 },
	{ "TIMESTAMP_INFO: size below 24", -EINVAL, ts_short },
	{ "TIMESTAMP_INFO: nonzero bytes past the struct", -E2BIG, ts_dirty_tail },
	{ "TIMESTAMP_INFO: unreadable", -EFAULT, ts_unreadable },
};

static void test_timestamp_rules(void **state)
{
	(void)state;
	check_rows(ts_rows, sizeof(ts_rows) / sizeof(ts_rows[0]));
}

static uint64_t mono_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Only what the flags ask for is written; flags 0 and the 24-byte form are the 1.1 query. */
static void test_timestamp(void **state)
{
	const uint64_t poison = 0x5a5a5a5a5a5a5a5aull;
	struct drm_panthor_timestamp_info t, u;
	uint64_t before, after;

	(void)state;
	memset(&t, 0x5a, sizeof(t));
	t.flags = DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC | DRM_PANTHOR_TIMESTAMP_DURATION;
	before = mono_ns(CLOCK_MONOTONIC);
	assert_int_equal(timestamp(&t, sizeof(t)), 0);
	after = mono_ns(CLOCK_MONOTONIC);
	assert_int_equal(t.timestamp_frequency, poison);
	assert_int_equal(t.current_timestamp, poison);
	assert_int_equal(t.cycle_count, poison);
	assert_true(t.cpu_timestamp_nsec < 1000000000ull);
	assert_in_range(t.cpu_timestamp_sec * 1000000000ull + t.cpu_timestamp_nsec, before, after);
	assert_true(t.duration_nsec <= after - before);

	memset(&t, 0x5a, sizeof(t));
	t.flags = DRM_PANTHOR_TIMESTAMP_GPU | DRM_PANTHOR_TIMESTAMP_GPU_CYCLE_COUNT |
		  DRM_PANTHOR_TIMESTAMP_FREQ | DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC_RAW;
	assert_int_equal(timestamp(&t, sizeof(t)), 0);
	assert_int_equal(t.timestamp_frequency, 24000000);
	assert_int_not_equal(t.current_timestamp, poison);
	assert_int_not_equal(t.cycle_count, poison);
	assert_int_equal(t.timestamp_offset, poison);
	assert_int_equal(t.duration_nsec, 0x5a5a5a5a);
	assert_true(t.cpu_timestamp_nsec < 1000000000ull);

	/* Flags 0: GPU time, offset and frequency; the 24-byte form the same. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(timestamp(&t, sizeof(t)), 0);
	assert_int_equal(t.timestamp_frequency, 24000000);
	assert_int_not_equal(t.current_timestamp, 0);
	assert_int_equal(t.cycle_count, 0);
	memset(&u, 0x5a, sizeof(u));
	assert_int_equal(timestamp(&u, GPUVM_PANTHOR_TIMESTAMP_INFO_SIZE_V1), 0);
	assert_int_equal(u.timestamp_frequency, 24000000);
	assert_int_equal(u.timestamp_offset, 0);
	assert_true(u.current_timestamp >= t.current_timestamp);
	assert_int_equal(u.flags, 0x5a5a5a5a); /* past the 24 bytes: untouched */
}

/* Tiler heaps */

#define CHUNK (128u << 10)
#define KERNEL_TOP (1ull << 48)

static int heap_create(uint32_t vm, uint32_t initial, uint32_t chunk, uint32_t max,
		       struct drm_panthor_tiler_heap_create *h)
{
	*h = (struct drm_panthor_tiler_heap_create){ .vm_id = vm,
						     .initial_chunk_count = initial,
						     .chunk_size = chunk,
						     .max_chunks = max,
						     .target_in_flight = 1 };
	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, h);
}

static int heap_destroy(uint32_t handle, uint32_t pad)
{
	struct drm_panthor_tiler_heap_destroy d = { .handle = handle, .pad = pad };

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, &d);
}

/*
 * Follow a heap's chunk list through the GPU: @n chunks of @chunk bytes in
 * the VM's kernel range, each header linking the next (VA | chunk >> 12), the
 * last 0; each chunk readable and writable by the GPU.
 */
static void check_chunks(uint32_t vm, uint64_t first, uint32_t n, uint32_t chunk)
{
	uint64_t va = first;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t next = dt_gpu_probe(fd, vm, va);

		assert_true(va >= KERNEL_TOP - (4ull << 30) && va < KERNEL_TOP);
		assert_int_equal(va % PAGE, 0);
		assert_int_equal(next & DT_FAULTED, 0);
		assert_int_equal(dt_gpu_write64(fd, vm, va + chunk - 8, 0xc0ffee), 0);
		assert_int_equal(dt_gpu_probe(fd, vm, va + chunk - 8), 0xc0ffee);
		if (i + 1 == n) {
			assert_int_equal(next, 0);
			break;
		}
		assert_int_equal(next & 0xfff, chunk >> 12);
		assert_int_not_equal(next & ~0xfffull, va);
		va = next & ~0xfffull;
	}
}

/* The 32-byte context reads as zeros through the GPU. */
static void check_ctx_zero(uint32_t vm, uint64_t ctx)
{
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(dt_gpu_probe(fd, vm, ctx + 8 * i), 0);
}

static void test_heap(void **state)
{
	uint32_t vm = dt_vm_create(fd, 0);
	struct drm_panthor_tiler_heap_create a, b, c;

	(void)state;
	assert_int_equal(heap_create(vm, 3, CHUNK, 10, &a), 0);
	assert_int_equal(a.handle, vm << 16 | 0);
	assert_true(a.tiler_heap_ctx_gpu_va >= KERNEL_TOP - (4ull << 30));
	check_ctx_zero(vm, a.tiler_heap_ctx_gpu_va);
	check_chunks(vm, a.first_heap_chunk_gpu_va, 3, CHUNK);

	/* The next heap: the next id, the next 64-byte context slot. */
	assert_int_equal(heap_create(vm, 1, 2 * CHUNK, 1, &b), 0);
	assert_int_equal(b.handle, vm << 16 | 1);
	assert_int_equal(b.tiler_heap_ctx_gpu_va, a.tiler_heap_ctx_gpu_va + 64);
	check_chunks(vm, b.first_heap_chunk_gpu_va, 1, 2 * CHUNK);

	/* Destroy unmaps the chunks; the other heap stays; the id comes back. */
	assert_int_equal(dt_gpu_write64(fd, vm, a.tiler_heap_ctx_gpu_va, 7), 0);
	assert_int_equal(heap_destroy(a.handle, 0), 0);
	assert_int_equal(dt_gpu_probe(fd, vm, a.first_heap_chunk_gpu_va) & DT_FAULTED, DT_FAULTED);
	assert_int_equal(heap_destroy(a.handle, 0), -EINVAL);
	check_chunks(vm, b.first_heap_chunk_gpu_va, 1, 2 * CHUNK);
	assert_int_equal(heap_create(vm, 2, CHUNK, 2, &c), 0);
	assert_int_equal(c.handle, vm << 16 | 0);
	assert_int_equal(c.tiler_heap_ctx_gpu_va, a.tiler_heap_ctx_gpu_va);
	check_ctx_zero(vm, c.tiler_heap_ctx_gpu_va);
	check_chunks(vm, c.first_heap_chunk_gpu_va, 2, CHUNK);

	/* Userspace cannot bind over the kernel's mappings. */
	struct drm_panthor_vm_bind_op unmap = { .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
						.va = c.first_heap_chunk_gpu_va,
						.size = CHUNK };
	assert_int_equal(dt_bind(fd, vm, 0, &unmap, sizeof(unmap), 1), -EINVAL);
	check_chunks(vm, c.first_heap_chunk_gpu_va, 2, CHUNK);
	assert_int_equal(heap_destroy(b.handle, 0), 0);
	assert_int_equal(heap_destroy(c.handle, 0), 0);
	dt_assert_mmu_clean(fd);
	/* A VM destroyed with a heap in it takes the heap along. */
	assert_int_equal(heap_create(vm, 1, CHUNK, 1, &a), 0);
	struct drm_panthor_vm_destroy d = { .id = vm };
	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &d), 0);
	assert_int_equal(heap_destroy(a.handle, 0), -EINVAL);
}

/* The rows' world: one VM with one heap, whose memory the rows may not touch. */
static uint32_t heap_vm;
static struct drm_panthor_tiler_heap_create heap0;

struct heap_snapshot {
	uint64_t ctx[2][4]; /* heap 0's slot and the next (free) one */
	uint64_t chunk[2];
};

static void heap_snapshot_take(struct heap_snapshot *s)
{
	for (unsigned int slot = 0; slot < 2; slot++)
		for (unsigned int i = 0; i < 4; i++)
			s->ctx[slot][i] = dt_gpu_probe(
				fd, heap_vm, heap0.tiler_heap_ctx_gpu_va + 64 * slot + 8 * i);
	s->chunk[0] = dt_gpu_probe(fd, heap_vm, heap0.first_heap_chunk_gpu_va);
	s->chunk[1] = dt_gpu_probe(fd, heap_vm, s->chunk[0] & ~0xfffull);
}

static int hc(uint32_t initial, uint32_t chunk, uint32_t max)
{
	struct drm_panthor_tiler_heap_create h;

	return heap_create(heap_vm, initial, chunk, max, &h);
}

static int heap_initial_0(void)
{
	return hc(0, CHUNK, 4);
}

static int heap_initial_above_max(void)
{
	return hc(3, CHUNK, 2);
}

static int heap_chunk_unaligned(void)
{
	return hc(1, CHUNK + 1, 4);
}

static int heap_chunk_small(void)
{
	return hc(1, 64u << 10, 4);
}

static int heap_chunk_big(void)
{
	return hc(1, 16u << 20, 4);
}

static int heap_unknown_vm(void)
{
	struct drm_panthor_tiler_heap_create h;

	return heap_create(77, 1, CHUNK, 4, &h);
}

static int heap_destroyed_vm(void)
{
	uint32_t vm = dt_vm_create(fd, 0);
	struct drm_panthor_vm_destroy d = { .id = vm };
	struct drm_panthor_tiler_heap_create h;

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &d), 0);
	return heap_create(vm, 1, CHUNK, 4, &h);
}

static int heap_destroy_unknown(void)
{
	return heap_destroy(heap_vm << 16 | 5, 0);
}

static int heap_destroy_unknown_vm(void)
{
	return heap_destroy(77u << 16, 0);
}

static int heap_destroy_pad(void)
{
	return heap_destroy(heap0.handle, 1);
}

static const struct row heap_rows[] = {
	{ "TILER_HEAP_CREATE: no initial chunk", -EINVAL, heap_initial_0 },
	{ "TILER_HEAP_CREATE: more initial chunks than the maximum", -EINVAL,
	  heap_initial_above_max },
	{ "TILER_HEAP_CREATE: chunk size not page-aligned", -EINVAL, heap_chunk_unaligned },
	{ "TILER_HEAP_CREATE: chunk below 128 KiB", -EINVAL, heap_chunk_small },
	{ "TILER_HEAP_CREATE: chunk above 8 MiB", -EINVAL, heap_chunk_big },
	{ "TILER_HEAP_CREATE: unknown VM", -EINVAL, heap_unknown_vm },
	{ "TILER_HEAP_CREATE: destroyed VM", -EINVAL, heap_destroyed_vm },
	{ "TILER_HEAP_DESTROY: unknown heap", -EINVAL, heap_destroy_unknown },
	{ "TILER_HEAP_DESTROY: unknown VM", -EINVAL, heap_destroy_unknown_vm },
	{ "TILER_HEAP_DESTROY: pad", -EINVAL, heap_destroy_pad },
};

static void test_heap_rules(void **state)
{
	struct heap_snapshot before, after;
	struct drm_panthor_tiler_heap_create next;
	unsigned int failed = 0;

	(void)state;
	heap_vm = dt_vm_create(fd, 0);
	assert_int_equal(heap_create(heap_vm, 2, CHUNK, 4, &heap0), 0);
	for (size_t i = 0; i < sizeof(heap_rows) / sizeof(heap_rows[0]); i++) {
		heap_snapshot_take(&before);
		failed += !rule_holds(&heap_rows[i]);
		heap_snapshot_take(&after);
		if (memcmp(&before, &after, sizeof(before))) {
			fprintf(stderr, "FAIL %s: heap memory changed\n", heap_rows[i].rule);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
	/* No id was taken by a failed call. */
	assert_int_equal(heap_create(heap_vm, 1, CHUNK, 1, &next), 0);
	assert_int_equal(next.handle, heap_vm << 16 | 1);
}

/* 128 heaps per VM; the 129th finds no id. */
static void test_heap_limit(void **state)
{
	uint32_t vm = dt_vm_create(fd, 0);
	struct drm_panthor_tiler_heap_create h;

	(void)state;
	for (uint32_t i = 0; i < 128; i++) {
		assert_int_equal(heap_create(vm, 1, CHUNK, 1, &h), 0);
		assert_int_equal(h.handle, vm << 16 | i);
	}
	assert_int_equal(heap_create(vm, 1, CHUNK, 1, &h), -EBUSY);
	assert_int_equal(heap_destroy(vm << 16 | 77, 0), 0);
	assert_int_equal(heap_create(vm, 1, CHUNK, 1, &h), 0);
	assert_int_equal(h.handle, vm << 16 | 77);
}

/* In-array chaining */

static int sync_wait_ms(uint32_t handle, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return drmSyncobjWait(fd, &handle, 1,
			      ts.tv_sec * 1000000000ll + ts.tv_nsec + ms * 1000000ll, 0, NULL);
}

#define SIG(h)                                                     \
	{                                                          \
		.flags = DRM_PANTHOR_SYNC_OP_SIGNAL, .handle = (h) \
	}
#define WAIT(h)                           \
	{                                 \
		.flags = 0, .handle = (h) \
	}
#define TL_SIG(h, p)                                                       \
	{                                                                  \
		.flags = DRM_PANTHOR_SYNC_OP_SIGNAL |                      \
			 DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ, \
		.handle = (h), .timeline_value = (p)                       \
	}
#define TL_WAIT(h, p)                                                                     \
	{                                                                                 \
		.flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ, .handle = (h), \
		.timeline_value = (p)                                                     \
	}

/*
 * An async VM_BIND whose second op waits for the timeline point its first op
 * signals: accepted (the point has no fence yet), and it waits for that op.
 */
static void test_bind_chaining(void **state)
{
	uint32_t vm = dt_vm_create(fd, 0), gate = dt_syncobj_create(fd, 0);
	uint32_t tl = dt_syncobj_create(fd, 0), done = dt_syncobj_create(fd, 0);
	uint32_t fence = dt_fence_attach(fd, gate, 0);
	struct drm_panthor_sync_op s0[2] = { WAIT(gate), TL_SIG(tl, 5) };
	struct drm_panthor_sync_op s1[2] = { TL_WAIT(tl, 5), SIG(done) };
	struct drm_panthor_vm_bind_op ops[2] = {
		{ .bo_handle = bo,
		  .va = CMD_VA,
		  .size = PAGE,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(2, s0) },
		{ .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(2, s1) },
	};
	uint64_t point;

	(void)state;
	assert_int_equal(dt_bind(fd, vm, DRM_PANTHOR_VM_BIND_ASYNC, ops, sizeof(ops[0]), 2), 0);
	assert_int_equal(sync_wait_ms(done, 50), -ETIME);
	assert_int_equal(dt_gpu_probe(fd, vm, CMD_VA) & DT_FAULTED, DT_FAULTED);
	dt_fence_signal(fd, fence, 0);
	assert_int_equal(sync_wait_ms(done, 5000), 0);
	assert_int_equal(dt_gpu_probe(fd, vm, CMD_VA) & DT_FAULTED, 0);
	assert_int_equal(drmSyncobjQuery(fd, &tl, &point, 1), 0);
	assert_int_equal(point, 5);
}

/*
 * GROUP_SUBMIT across two queues: the second submit waits for the binary
 * syncobj the first signals. That syncobj holds a signaled fence already;
 * chaining makes the second job wait for the first job instead.
 */
static void test_submit_chaining(void **state)
{
	struct drm_panthor_queue_create queues[2] = { { .ringbuf_size = 4096 },
						      { .ringbuf_size = 4096 } };
	struct drm_panthor_group_create g;
	struct job_setup j;
	uint32_t gate, a, done, fence;

	(void)state;
	job_setup(&j);
	g = ga_group(queues, j.vm);
	g.queues.count = 2;
	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g), 0);
	gate = dt_syncobj_create(fd, 0);
	a = dt_syncobj_create(fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	done = dt_syncobj_create(fd, 0);
	fence = dt_fence_attach(fd, gate, 0);
	struct drm_panthor_sync_op s0[2] = { WAIT(gate), SIG(a) };
	struct drm_panthor_sync_op s1[2] = { WAIT(a), SIG(done) };
	struct drm_panthor_queue_submit qs[2] = {
		{ .queue_index = 0,
		  .stream_addr = CMD_VA,
		  .stream_size = 8,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(2, s0) },
		{ .queue_index = 1,
		  .stream_addr = CMD_VA,
		  .stream_size = 8,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(2, s1) },
	};
	struct drm_panthor_group_submit gs = { .group_handle = g.group_handle,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(2, qs) };

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs), 0);
	assert_int_equal(sync_wait_ms(done, 50), -ETIME);
	dt_fence_signal(fd, fence, 0);
	assert_int_equal(sync_wait_ms(done, 5000), 0);
	struct drm_panthor_group_destroy gd = { .group_handle = g.group_handle };
	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_DESTROY, &gd), 0);
	job_teardown(&j);
}

/* The device is 1.8 and says so in GPU_INFO's 1.7 field too. */
static void test_version(void **state)
{
	drmVersionPtr v = drmGetVersion(fd);
	struct drm_panthor_gpu_info info;
	struct drm_panthor_dev_query q = { .type = DRM_PANTHOR_DEV_QUERY_GPU_INFO,
					   .size = sizeof(info),
					   .pointer = (uintptr_t)&info };

	(void)state;
	assert_non_null(v);
	assert_string_equal(v->name, "panthor");
	assert_int_equal(v->version_major, 1);
	assert_int_equal(v->version_minor, 8);
	drmFreeVersion(v);
	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q), 0);
	assert_int_equal(info.selected_coherency, DRM_PANTHOR_GPU_COHERENCY_NONE);
}

#define DEV_TEST(fn) cmocka_unit_test_setup_teardown(fn, open_dev, close_dev)

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		DEV_TEST(test_version),
		DEV_TEST(test_mmio_rules),
		DEV_TEST(test_mmio_offset),
		DEV_TEST(test_flush_id),
		DEV_TEST(test_bo_rules),
		DEV_TEST(test_bo_sync_counts),
		DEV_TEST(test_bo_query_info),
		DEV_TEST(test_timestamp_rules),
		DEV_TEST(test_timestamp),
		DEV_TEST(test_heap),
		DEV_TEST(test_heap_rules),
		DEV_TEST(test_heap_limit),
		DEV_TEST(test_bind_chaining),
		DEV_TEST(test_submit_chaining),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
