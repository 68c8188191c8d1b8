// SPDX-License-Identifier: MIT
/*
 * test-inject: allocation-failure injection through the ioctl layer.
 *
 * For every ioctl of the device's dispatch table (mock_ioctl_request(): an
 * ioctl without a row here fails the test) one or more rows each set up a
 * state in which the call succeeds, then for k = 1, 2, ...: on a fresh
 * device in that state, snapshot what the files can observe (mock-snap.h,
 * plus the row's own observation), make the call's k-th allocation fail
 * (mock_alloc.h: memory, memfds, fds, threads, page-table pages, pgtable's
 * and gvm's metadata through the device's host ops), call, and require
 *
 * - the errno of the failed allocation (-ENOMEM; -EMFILE for a new fd),
 * - an unchanged snapshot and no new open file descriptor,
 *
 * until the call makes fewer than k allocations: then it must succeed and
 * have done what it should (the row's check). Calls that tear something
 * down cannot fail (row.nofail): they must absorb the failure and succeed.
 * ASan's leak check at exit (build-san) covers what an unwinding path
 * forgot to free.
 *
 * Prints a table: ioctl, allocation sites reached, sites that failed
 * cleanly; and "N sites covered in M ioctls", with the number of distinct
 * call sites those were (mock_alloc_injected_site(): in mockdrm, and in
 * pgtable/vm for their metadata when the host ops' call is a tail call).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <poll.h>

#include <cmocka.h>

#include <gpuvm/mockdrm.h>
#include <gpuvm/panthor_drm.h>

#include "group-args.h"
#include "mock-snap.h"
#include "mock_alloc.h"
#include "mock_internal.h"
#include "test-util.h"

#define PAGE 4096ull
#define BO_SIZE (16 * PAGE)
#define WINDOW_VA (16ull << 20) /* the VM's first BO is mapped here */
#define WINDOW_PAGES 64u
#define FREE_VA (WINDOW_VA + BO_SIZE) /* nothing mapped from here to the window's end */
#define NSEC_PER_SEC 1000000000ll
#define MAX_SITES 400 /* a call with more allocations is a runaway loop */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The device every row starts from: render files A and B, primary file P
 * (the master); A has a VM with BO 1 mapped at WINDOW_VA, an unmapped BO 2, a
 * signaled binary syncobj and a timeline syncobj whose point 1 is signaled.
 * A row's setup adds what its call needs; its call keeps its argument here
 * for the check.
 */
struct env {
	struct mockdrm_dev *dev, *other; /* @other: a second device, exporting */
	struct mockdrm_file *other_file;
	struct mockdrm_file *files[4]; /* A, B, P; a second primary file */
	struct mockdrm_file *a, *b, *p;
	uint32_t vm, bo, bo2, binary, timeline;
	uint32_t group, heap_vm, fence_id, handle;
	uint64_t heap_ctx_va;
	int fd, fd2; /* fds the row's setup made (closed at teardown), or -1 */
	struct mockdrm_sw_sync *sw;
	int out_fd; /* an fd the call made (closed at teardown), or -1 */
	union {
		struct drm_prime_handle prime;
		struct drm_syncobj_create sync_create;
		struct drm_syncobj_handle sync_handle;
		struct drm_panthor_vm_create vm_create;
		struct drm_panthor_bo_create bo_create;
		struct drm_panthor_bo_mmap_offset mmap_offset;
		struct drm_panthor_group_create group_create;
		struct drm_panthor_tiler_heap_create heap_create;
		struct gpuvm_mock_fence_attach fence_attach;
		struct drm_syncobj_timeline_array timeline_array;
	} u;
	uint64_t points[4];
	uint32_t handles[4];
	uint8_t buf[PAGE];
};

/**
 * struct row - one way to call one ioctl.
 * @name: for the table.
 * @request: the request; the ioctl table's every request needs a row.
 * @setup: optional: state the call needs, on top of the base state.
 * @call: make the call (on the calling thread); its result.
 * @check: optional: what a successful call must have done.
 * @observe: optional: state the snapshot does not cover that this call could change.
 * @want: the call's result when nothing fails (a refusal for ioctls that refuse always).
 * @nofail: the call cannot fail (it tears something down): a failed allocation
 *	must be absorbed, the call succeed and do what it should.
 */
struct row {
	const char *name;
	unsigned long request;
	void (*setup)(struct env *e);
	int (*call)(struct env *e);
	void (*check)(struct env *e);
	uint64_t (*observe)(struct env *e);
	int want;
	bool nofail;
};

static unsigned int failures;

/* The call sites (return addresses into the device) whose failure was injected, once each. */
static const void *sites_seen[MAX_SITES];
static unsigned int nr_sites_seen;

static void note_site(const void *site)
{
	for (unsigned int i = 0; i < nr_sites_seen; i++)
		if (sites_seen[i] == site)
			return;
	if (nr_sites_seen < MAX_SITES)
		sites_seen[nr_sites_seen++] = site;
}

static void report(const char *row, unsigned long k, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s, allocation %lu failed: ", row, k);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static int ioc(struct mockdrm_file *f, unsigned long req, void *arg)
{
	return mockdrm_ioctl(f, req, arg);
}

/* Setup: a call that must succeed. */
#define MUST(f, req, arg)                                                                          \
	do {                                                                                       \
		int rc_ = ioc((f), (req), (arg));                                                  \
		if (rc_)                                                                           \
			fail_msg("%s:%d: %s returned %s", __FILE__, __LINE__, #req, errname(rc_)); \
	} while (0)

static int count_fds(void)
{
	DIR *d;
	int n = 0;

	mock_sync_collect_exports(); /* sync-file and syncobj exports close our ends lazily */
	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- Base state ---- */

static uint32_t bo_create(struct mockdrm_file *f, uint64_t size)
{
	struct drm_panthor_bo_create a = { .size = size };

	MUST(f, DRM_IOCTL_PANTHOR_BO_CREATE, &a);
	return a.handle;
}

static uint32_t vm_create(struct mockdrm_file *f)
{
	struct drm_panthor_vm_create a = { 0 };

	MUST(f, DRM_IOCTL_PANTHOR_VM_CREATE, &a);
	return a.id;
}

static struct drm_panthor_vm_bind_op map_op(uint32_t bo, uint64_t offset, uint64_t va,
					    uint64_t size)
{
	return (struct drm_panthor_vm_bind_op){ .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
						.bo_handle = bo,
						.bo_offset = offset,
						.va = va,
						.size = size };
}

static struct drm_panthor_vm_bind_op unmap_op(uint64_t va, uint64_t size)
{
	return (struct drm_panthor_vm_bind_op){ .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
						.va = va,
						.size = size };
}

static int bind(struct env *e, uint32_t flags, struct drm_panthor_vm_bind_op *ops, uint32_t n)
{
	struct drm_panthor_vm_bind a = {
		.vm_id = e->vm,
		.flags = flags,
		.ops = DRM_PANTHOR_OBJ_ARRAY(n, ops),
	};

	return ioc(e->a, DRM_IOCTL_PANTHOR_VM_BIND, &a);
}

static uint32_t syncobj_create(struct mockdrm_file *f, uint32_t flags)
{
	struct drm_syncobj_create a = { .flags = flags };

	MUST(f, DRM_IOCTL_SYNCOBJ_CREATE, &a);
	return a.handle;
}

static void timeline_signal(struct env *e, uint32_t handle, uint64_t point)
{
	struct drm_syncobj_timeline_array a = { .handles = (uintptr_t)&handle,
						.points = (uintptr_t)&point,
						.count_handles = 1 };

	MUST(e->a, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &a);
}

static void env_open(struct env *e)
{
	struct drm_panthor_vm_bind_op op;
	uint8_t pattern[PAGE];

	memset(e, 0, sizeof(*e));
	e->fd = e->fd2 = e->out_fd = -1;
	if (mockdrm_dev_create(NULL, &e->dev) ||
	    mockdrm_open(e->dev, MOCKDRM_NODE_PRIMARY, &e->p) ||
	    mockdrm_open(e->dev, MOCKDRM_NODE_RENDER, &e->a) ||
	    mockdrm_open(e->dev, MOCKDRM_NODE_RENDER, &e->b))
		fail_msg("cannot open the device");
	e->files[0] = e->a;
	e->files[1] = e->b;
	e->files[2] = e->p;
	e->vm = vm_create(e->a);
	e->bo = bo_create(e->a, BO_SIZE);
	e->bo2 = bo_create(e->a, BO_SIZE);
	op = map_op(e->bo, 0, WINDOW_VA, BO_SIZE);
	if (bind(e, 0, &op, 1))
		fail_msg("cannot map the base BO");
	/* Contents no fresh page has, so that a write over them shows. */
	memset(pattern, 0x5a, sizeof(pattern));
	for (uint64_t va = WINDOW_VA; va < WINDOW_VA + BO_SIZE; va += PAGE) {
		struct gpuvm_mock_gpu_access w = { .vm_id = e->vm,
						   .op = GPUVM_MOCK_GPU_ACCESS_WRITE,
						   .va = va,
						   .size = PAGE,
						   .data = (uintptr_t)pattern };

		MUST(e->a, GPUVM_IOCTL_MOCK_GPU_ACCESS, &w);
	}
	e->binary = syncobj_create(e->a, DRM_SYNCOBJ_CREATE_SIGNALED);
	e->timeline = syncobj_create(e->a, 0);
	timeline_signal(e, e->timeline, 1);
}

static void env_close(struct env *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->fd2 >= 0)
		close(e->fd2);
	mockdrm_sw_sync_close(e->sw);
	if (e->out_fd >= 0)
		close(e->out_fd);
	for (int i = 0; i < 4; i++)
		mockdrm_close(e->files[i]);
	mockdrm_dev_destroy(e->dev);
	mockdrm_close(e->other_file);
	mockdrm_dev_destroy(e->other);
}

static void snap(struct env *e, const struct row *r, struct mock_snap *s, uint64_t *extra)
{
	const struct mock_snap_cfg cfg = {
		.dev = e->dev,
		.files = e->files,
		.nr_files = 3,
		.window_va = WINDOW_VA,
		.window_pages = WINDOW_PAGES,
	};

	mock_snap_take(&cfg, s);
	*extra = r->observe ? r->observe(e) : 0;
}

/* Wait until no async bind is queued or running (a failed call may not have queued one). */
static void settle(struct env *e)
{
	int64_t end = tu_now_ns() + 10 * NSEC_PER_SEC;

	while (!mock_snap_quiet(e->dev)) {
		if (tu_now_ns() > end)
			fail_msg("the bind queue did not settle");
		tu_sleep_ms(1);
	}
}

/* ---- Checks shared by rows ---- */

/* What the GPU reads at @va in A's VM: 0 and the bytes, or the fault's status. */
static uint32_t gpu_read(struct env *e, uint32_t vm, uint64_t va, void *buf, uint64_t size)
{
	struct gpuvm_mock_gpu_access a = { .vm_id = vm,
					   .op = GPUVM_MOCK_GPU_ACCESS_READ,
					   .va = va,
					   .size = size,
					   .data = (uintptr_t)buf };

	MUST(e->a, GPUVM_IOCTL_MOCK_GPU_ACCESS, &a);
	return a.access;
}

static void expect_mapped(struct env *e, uint64_t va, const char *ctx)
{
	uint8_t b[8];

	if (gpu_read(e, e->vm, va, b, sizeof(b)))
		fail_msg("%s: VA 0x%" PRIx64 " is not mapped", ctx, va);
}

static void expect_unmapped(struct env *e, uint64_t va, const char *ctx)
{
	uint8_t b[8];

	if (!gpu_read(e, e->vm, va, b, sizeof(b)))
		fail_msg("%s: VA 0x%" PRIx64 " is still mapped", ctx, va);
}

/* The binary or timeline syncobj @h of @f is signaled at @point (waits up to 10 s). */
static void expect_signaled(struct mockdrm_file *f, uint32_t h, uint64_t point, const char *ctx)
{
	struct drm_syncobj_timeline_wait w = { .handles = (uintptr_t)&h,
					       .points = (uintptr_t)&point,
					       .timeout_nsec = tu_now_ns() + 10 * NSEC_PER_SEC,
					       .count_handles = 1 };
	int rc = ioc(f, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);

	if (rc)
		fail_msg("%s: syncobj %u point %" PRIu64 " not signaled: %s", ctx, h, point,
			 errname(rc));
}

/* ---- Rows: the DRM core ---- */

static int call_version(struct env *e)
{
	char name[32] = { 0 }, date[32], desc[64];
	struct drm_version v = { .name_len = sizeof(name) - 1,
				 .name = name,
				 .date_len = sizeof(date),
				 .date = date,
				 .desc_len = sizeof(desc),
				 .desc = desc };
	int rc = ioc(e->a, DRM_IOCTL_VERSION, &v);

	if (!rc && strcmp(name, "panthor"))
		fail_msg("VERSION: name '%s'", name);
	return rc;
}

static int call_get_unique(struct env *e)
{
	struct drm_unique u = { 0 };

	return ioc(e->p, DRM_IOCTL_GET_UNIQUE, &u);
}

static int call_get_magic(struct env *e)
{
	struct drm_auth a = { 0 };

	return ioc(e->p, DRM_IOCTL_GET_MAGIC, &a);
}

static int call_get_client(struct env *e)
{
	struct drm_client c = { .idx = 0 };

	return ioc(e->p, DRM_IOCTL_GET_CLIENT, &c);
}

static int call_get_stats(struct env *e)
{
	struct drm_stats s;

	return ioc(e->p, DRM_IOCTL_GET_STATS, &s);
}

/* A second primary file asks for a magic; P, the master, authenticates it. */
static void setup_auth(struct env *e)
{
	struct drm_auth a = { 0 };

	if (mockdrm_open(e->dev, MOCKDRM_NODE_PRIMARY, &e->files[3]))
		fail_msg("cannot open a second primary file");
	MUST(e->files[3], DRM_IOCTL_GET_MAGIC, &a);
	e->handle = a.magic;
}

static int call_auth_magic(struct env *e)
{
	struct drm_auth a = { .magic = e->handle };

	return ioc(e->p, DRM_IOCTL_AUTH_MAGIC, &a);
}

static uint64_t observe_auth(struct env *e)
{
	return e->files[3] ? e->files[3]->client.authenticated : 0;
}

static void check_auth(struct env *e)
{
	if (!observe_auth(e))
		fail_msg("AUTH_MAGIC: the file is not authenticated");
}

static uint64_t observe_master(struct env *e)
{
	return mock_client_is_master(e->p);
}

static void setup_drop_master(struct env *e)
{
	MUST(e->p, DRM_IOCTL_DROP_MASTER, NULL);
}

static int call_set_master(struct env *e)
{
	return ioc(e->p, DRM_IOCTL_SET_MASTER, NULL);
}

static void check_master(struct env *e)
{
	if (!observe_master(e))
		fail_msg("SET_MASTER: P is not the master");
}

static int call_drop_master(struct env *e)
{
	return ioc(e->p, DRM_IOCTL_DROP_MASTER, NULL);
}

static void check_not_master(struct env *e)
{
	if (observe_master(e))
		fail_msg("DROP_MASTER: P is still the master");
}

static int call_create_dumb(struct env *e)
{
	struct drm_mode_create_dumb d = { .width = 64, .height = 64, .bpp = 32 };

	return ioc(e->p, DRM_IOCTL_MODE_CREATE_DUMB, &d);
}

static int call_map_dumb(struct env *e)
{
	struct drm_mode_map_dumb d = { .handle = 1 };

	return ioc(e->p, DRM_IOCTL_MODE_MAP_DUMB, &d);
}

static int call_destroy_dumb(struct env *e)
{
	struct drm_mode_destroy_dumb d = { .handle = 1 };

	return ioc(e->p, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
}

static int call_gem_close(struct env *e)
{
	struct drm_gem_close c = { .handle = e->bo2 };

	return ioc(e->a, DRM_IOCTL_GEM_CLOSE, &c);
}

static void check_gem_close(struct env *e)
{
	struct drm_panthor_bo_mmap_offset m = { .handle = e->bo2 };

	CHECK_ERR("GEM_CLOSE", ioc(e->a, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &m), -ENOENT);
}

static int call_get_cap(struct env *e)
{
	struct drm_get_cap c = { .capability = DRM_CAP_SYNCOBJ_TIMELINE };

	return ioc(e->a, DRM_IOCTL_GET_CAP, &c);
}

static int call_set_client_cap(struct env *e)
{
	struct drm_set_client_cap c = { .capability = DRM_CLIENT_CAP_ATOMIC, .value = 1 };

	return ioc(e->p, DRM_IOCTL_SET_CLIENT_CAP, &c);
}

/* ---- Rows: PRIME ---- */

static int call_prime_export(struct env *e)
{
	int rc;

	e->u.prime = (struct drm_prime_handle){ .handle = e->bo2, .flags = DRM_CLOEXEC | DRM_RDWR };
	rc = ioc(e->a, DRM_IOCTL_PRIME_HANDLE_TO_FD, &e->u.prime);
	if (!rc)
		e->out_fd = e->u.prime.fd;
	return rc;
}

static void check_prime_export(struct env *e)
{
	struct drm_prime_handle i = { .fd = e->out_fd };

	MUST(e->b, DRM_IOCTL_PRIME_FD_TO_HANDLE, &i);
}

static void setup_prime_import(struct env *e)
{
	struct drm_prime_handle x = { .handle = e->bo2, .flags = DRM_CLOEXEC | DRM_RDWR };

	MUST(e->a, DRM_IOCTL_PRIME_HANDLE_TO_FD, &x);
	e->fd = x.fd;
}

static int call_prime_import(struct env *e)
{
	e->u.prime = (struct drm_prime_handle){ .fd = e->fd };
	return ioc(e->b, DRM_IOCTL_PRIME_FD_TO_HANDLE, &e->u.prime);
}

static void check_prime_import(struct env *e)
{
	struct drm_panthor_bo_mmap_offset m = { .handle = e->u.prime.handle };

	MUST(e->b, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &m);
}

/* A BO of another device: the import wraps its dma-buf in a new BO. */
static void setup_foreign_import(struct env *e)
{
	struct drm_prime_handle x = { .flags = DRM_CLOEXEC | DRM_RDWR };

	if (mockdrm_dev_create(NULL, &e->other) ||
	    mockdrm_open(e->other, MOCKDRM_NODE_RENDER, &e->other_file))
		fail_msg("cannot open a second device");
	x.handle = bo_create(e->other_file, BO_SIZE);
	MUST(e->other_file, DRM_IOCTL_PRIME_HANDLE_TO_FD, &x);
	e->fd = x.fd;
}

/* ---- Rows: syncobjs ---- */

static int call_syncobj_create(struct env *e)
{
	e->u.sync_create = (struct drm_syncobj_create){ .flags = DRM_SYNCOBJ_CREATE_SIGNALED };
	return ioc(e->a, DRM_IOCTL_SYNCOBJ_CREATE, &e->u.sync_create);
}

static void check_syncobj_create(struct env *e)
{
	expect_signaled(e->a, e->u.sync_create.handle, 0, "SYNCOBJ_CREATE");
}

static int call_syncobj_destroy(struct env *e)
{
	struct drm_syncobj_destroy d = { .handle = e->binary };

	return ioc(e->a, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
}

static int export_syncobj(struct env *e, uint32_t handle, uint32_t flags)
{
	int rc;

	e->u.sync_handle = (struct drm_syncobj_handle){ .handle = handle, .flags = flags };
	rc = ioc(e->a, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &e->u.sync_handle);
	if (!rc)
		e->out_fd = e->u.sync_handle.fd;
	return rc;
}

static int call_syncobj_export(struct env *e)
{
	return export_syncobj(e, e->binary, 0);
}

static int call_sync_file_export(struct env *e)
{
	return export_syncobj(e, e->binary, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE);
}

static void setup_syncobj_fd(struct env *e)
{
	struct drm_syncobj_handle h = { .handle = e->binary };

	MUST(e->a, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);
	e->fd = h.fd;
}

static int call_syncobj_import(struct env *e)
{
	e->u.sync_handle = (struct drm_syncobj_handle){ .fd = e->fd };
	return ioc(e->b, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &e->u.sync_handle);
}

static void check_syncobj_import(struct env *e)
{
	expect_signaled(e->b, e->u.sync_handle.handle, 0, "SYNCOBJ_FD_TO_HANDLE");
}

static void setup_sync_file(struct env *e)
{
	struct drm_syncobj_handle h = { .handle = e->binary,
					.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE };

	MUST(e->a, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);
	e->fd = h.fd;
	e->handle = syncobj_create(e->b, 0);
}

static int call_sync_file_import(struct env *e)
{
	e->u.sync_handle = (struct drm_syncobj_handle){
		.fd = e->fd,
		.handle = e->handle,
		.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE
	};
	return ioc(e->b, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &e->u.sync_handle);
}

static void check_sync_file_import(struct env *e)
{
	expect_signaled(e->b, e->handle, 0, "IMPORT_SYNC_FILE");
}

static int call_syncobj_wait(struct env *e)
{
	struct drm_syncobj_wait w = { .handles = (uintptr_t)&e->binary,
				      .timeout_nsec = tu_now_ns() + NSEC_PER_SEC,
				      .count_handles = 1 };

	return ioc(e->a, DRM_IOCTL_SYNCOBJ_WAIT, &w);
}

static int call_timeline_wait(struct env *e)
{
	uint64_t point = 1;
	struct drm_syncobj_timeline_wait w = { .handles = (uintptr_t)&e->timeline,
					       .points = (uintptr_t)&point,
					       .timeout_nsec = tu_now_ns() + NSEC_PER_SEC,
					       .count_handles = 1 };

	return ioc(e->a, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

static int syncobj_array(struct env *e, unsigned long req)
{
	struct drm_syncobj_array a = { .handles = (uintptr_t)&e->binary, .count_handles = 1 };

	return ioc(e->a, req, &a);
}

static int call_reset(struct env *e)
{
	return syncobj_array(e, DRM_IOCTL_SYNCOBJ_RESET);
}

static void check_reset(struct env *e)
{
	struct drm_syncobj_wait w = { .handles = (uintptr_t)&e->binary, .count_handles = 1 };

	CHECK_ERR("RESET", ioc(e->a, DRM_IOCTL_SYNCOBJ_WAIT, &w), -EINVAL);
}

static void setup_reset(struct env *e)
{
	MUST(e->a, DRM_IOCTL_SYNCOBJ_RESET,
	     (&(struct drm_syncobj_array){ .handles = (uintptr_t)&e->binary, .count_handles = 1 }));
}

static int call_signal(struct env *e)
{
	return syncobj_array(e, DRM_IOCTL_SYNCOBJ_SIGNAL);
}

static void check_signal(struct env *e)
{
	expect_signaled(e->a, e->binary, 0, "SIGNAL");
}

static int call_query(struct env *e)
{
	e->points[0] = 0;
	e->u.timeline_array =
		(struct drm_syncobj_timeline_array){ .handles = (uintptr_t)&e->timeline,
						     .points = (uintptr_t)e->points,
						     .count_handles = 1 };
	return ioc(e->a, DRM_IOCTL_SYNCOBJ_QUERY, &e->u.timeline_array);
}

static void check_query(struct env *e)
{
	CHECK_EQ("QUERY", e->points[0], 1);
}

static int call_timeline_signal(struct env *e)
{
	e->points[0] = 2;
	e->u.timeline_array =
		(struct drm_syncobj_timeline_array){ .handles = (uintptr_t)&e->timeline,
						     .points = (uintptr_t)e->points,
						     .count_handles = 1 };
	return ioc(e->a, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &e->u.timeline_array);
}

/* Without points: point 0, the binary syncobj's fence replaced by a signaled one. */
static int call_timeline_signal_no_points(struct env *e)
{
	e->u.timeline_array = (struct drm_syncobj_timeline_array){ .handles = (uintptr_t)&e->binary,
								   .count_handles = 1 };
	return ioc(e->a, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &e->u.timeline_array);
}

static void check_timeline_2(struct env *e)
{
	expect_signaled(e->a, e->timeline, 2, "timeline point 2");
}

/* The timeline's point 1 into a new binary syncobj. */
static void setup_transfer(struct env *e)
{
	e->handle = syncobj_create(e->a, 0);
}

static int call_transfer(struct env *e)
{
	struct drm_syncobj_transfer t = { .src_handle = e->timeline,
					  .dst_handle = e->handle,
					  .src_point = 1 };

	return ioc(e->a, DRM_IOCTL_SYNCOBJ_TRANSFER, &t);
}

static void check_transfer(struct env *e)
{
	expect_signaled(e->a, e->handle, 0, "TRANSFER");
}

static void setup_eventfd(struct env *e)
{
	e->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->fd < 0)
		fail_msg("eventfd");
}

/* An eventfd that point 2 of the timeline (not yet there) will signal. */
static int call_eventfd(struct env *e)
{
	struct mock_drm_syncobj_eventfd a = { .handle = e->timeline, .point = 2, .fd = e->fd };

	return ioc(e->a, MOCK_DRM_IOCTL_SYNCOBJ_EVENTFD, &a);
}

static void check_eventfd(struct env *e)
{
	uint64_t n = 0;

	timeline_signal(e, e->timeline, 2);
	if (read(e->fd, &n, sizeof(n)) != sizeof(n) || !n)
		fail_msg("SYNCOBJ_EVENTFD: the eventfd was not signaled");
}

/* ---- Rows: panthor ---- */

static int call_dev_query(struct env *e)
{
	struct drm_panthor_gpu_info info;
	struct drm_panthor_dev_query q = { .type = DRM_PANTHOR_DEV_QUERY_GPU_INFO,
					   .size = sizeof(info),
					   .pointer = (uintptr_t)&info };

	return ioc(e->a, DRM_IOCTL_PANTHOR_DEV_QUERY, &q);
}

static int call_vm_create(struct env *e)
{
	e->u.vm_create = (struct drm_panthor_vm_create){ 0 };
	return ioc(e->a, DRM_IOCTL_PANTHOR_VM_CREATE, &e->u.vm_create);
}

static void check_vm_create(struct env *e)
{
	uint8_t b[8];

	CHECK_EQ("VM_CREATE: fault on a new VM", !!gpu_read(e, e->u.vm_create.id, WINDOW_VA, b, 8),
		 1);
}

static int call_vm_destroy(struct env *e)
{
	struct drm_panthor_vm_destroy d = { .id = e->vm };

	return ioc(e->a, DRM_IOCTL_PANTHOR_VM_DESTROY, &d);
}

static void check_vm_destroy(struct env *e)
{
	struct drm_panthor_vm_get_state s = { .vm_id = e->vm };

	CHECK_ERR("VM_DESTROY", ioc(e->a, DRM_IOCTL_PANTHOR_VM_GET_STATE, &s), -EINVAL);
}

/* One map of 4 pages of BO 2 at FREE_VA. */
static int call_bind_one(struct env *e)
{
	struct drm_panthor_vm_bind_op op = map_op(e->bo2, 0, FREE_VA, 4 * PAGE);

	return bind(e, 0, &op, 1);
}

static void check_bind_one(struct env *e)
{
	expect_mapped(e, FREE_VA + 3 * PAGE, "VM_BIND");
}

/* Map, unmap splitting the base mapping, remap inside it: three ops in one array. */
static int call_bind_multi(struct env *e)
{
	struct drm_panthor_vm_bind_op ops[] = {
		map_op(e->bo2, 0, FREE_VA, 8 * PAGE),
		unmap_op(WINDOW_VA + 4 * PAGE, 4 * PAGE),
		map_op(e->bo2, 8 * PAGE, WINDOW_VA + PAGE, PAGE),
	};

	return bind(e, 0, ops, ARRAY_SIZE(ops));
}

static void check_bind_multi(struct env *e)
{
	expect_mapped(e, FREE_VA + 7 * PAGE, "VM_BIND multi: map");
	expect_unmapped(e, WINDOW_VA + 5 * PAGE, "VM_BIND multi: unmap");
	expect_mapped(e, WINDOW_VA + 8 * PAGE, "VM_BIND multi: rest of the split");
}

static struct drm_panthor_sync_op sync_op(uint32_t flags, uint32_t handle, uint64_t point)
{
	return (struct drm_panthor_sync_op){ .flags = flags,
					     .handle = handle,
					     .timeline_value = point };
}

#define SYNC_WAIT (DRM_PANTHOR_SYNC_OP_WAIT | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ)
#define SYNC_SIGNAL (DRM_PANTHOR_SYNC_OP_SIGNAL | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ)
#define TL_WAIT (DRM_PANTHOR_SYNC_OP_WAIT | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ)
#define TL_SIGNAL (DRM_PANTHOR_SYNC_OP_SIGNAL | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ)

/* Async: wait for the binary syncobj and timeline point 1, map, signal point 2. */
static int call_bind_async(struct env *e)
{
	struct drm_panthor_sync_op syncs[] = { sync_op(SYNC_WAIT, e->binary, 0),
					       sync_op(TL_WAIT, e->timeline, 1),
					       sync_op(TL_SIGNAL, e->timeline, 2) };
	struct drm_panthor_vm_bind_op op = map_op(e->bo2, 0, FREE_VA, 4 * PAGE);

	op.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(3, syncs);
	return bind(e, DRM_PANTHOR_VM_BIND_ASYNC, &op, 1);
}

static void check_bind_async(struct env *e)
{
	check_timeline_2(e);
	expect_mapped(e, FREE_VA, "async VM_BIND");
}

/* Async array: the first op signals the binary syncobj, the second waits for it. */
static int call_bind_async_multi(struct env *e)
{
	struct drm_panthor_sync_op s0[] = { sync_op(SYNC_SIGNAL, e->binary, 0) };
	struct drm_panthor_sync_op s1[] = { sync_op(SYNC_WAIT, e->binary, 0),
					    sync_op(TL_SIGNAL, e->timeline, 2) };
	struct drm_panthor_vm_bind_op ops[] = { map_op(e->bo2, 0, FREE_VA, 4 * PAGE),
						unmap_op(WINDOW_VA, 2 * PAGE) };

	ops[0].syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(1, s0);
	ops[1].syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, s1);
	return bind(e, DRM_PANTHOR_VM_BIND_ASYNC, ops, 2);
}

static void check_bind_async_multi(struct env *e)
{
	check_timeline_2(e);
	expect_mapped(e, FREE_VA, "async VM_BIND array: map");
	expect_unmapped(e, WINDOW_VA + PAGE, "async VM_BIND array: unmap");
}

/* A sync-only op: signals point 2 once the queue is through. */
static int call_bind_sync_only(struct env *e)
{
	struct drm_panthor_sync_op s[] = { sync_op(TL_SIGNAL, e->timeline, 2) };
	struct drm_panthor_vm_bind_op op = { .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY };

	op.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(1, s);
	return bind(e, DRM_PANTHOR_VM_BIND_ASYNC, &op, 1);
}

/* Sparse: every page of [FREE_VA, +8 pages) maps the VM's dummy page. */
static int call_bind_sparse(struct env *e)
{
	struct drm_panthor_vm_bind_op op = {
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE |
			 DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC,
		.va = FREE_VA,
		.size = 8 * PAGE,
	};

	return bind(e, 0, &op, 1);
}

static void check_bind_sparse(struct env *e)
{
	expect_mapped(e, FREE_VA + 7 * PAGE, "VM_BIND sparse");
}

/* Ours: 2 pages of BO 2 repeated over 8 pages at FREE_VA (the 56-byte op layout). */
static int call_bind_repeat(struct env *e)
{
	struct gpuvm_vm_bind_op_repeat op = {
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | GPUVM_VM_BIND_OP_MAP_REPEAT,
		.bo_handle = e->bo2,
		.va = FREE_VA,
		.size = 8 * PAGE,
		.bo_repeat_range = 2 * PAGE,
	};
	struct drm_panthor_vm_bind a = {
		.vm_id = e->vm,
		.ops = { .stride = sizeof(op), .count = 1, .array = (uintptr_t)&op },
	};

	return ioc(e->a, DRM_IOCTL_PANTHOR_VM_BIND, &a);
}

/* A pending fence at point 1 of a new timeline syncobj (MOCK_FENCE_ATTACH). */
static void setup_pending(struct env *e)
{
	e->handle = syncobj_create(e->a, 0);
	e->u.fence_attach = (struct gpuvm_mock_fence_attach){ .handle = e->handle, .point = 1 };
	MUST(e->a, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &e->u.fence_attach);
}

/* Async, queued behind the pending fence: map, signal timeline point 2. */
static int call_bind_queued(struct env *e)
{
	struct drm_panthor_sync_op syncs[] = { sync_op(TL_WAIT, e->handle, 1),
					       sync_op(TL_SIGNAL, e->timeline, 2) };
	struct drm_panthor_vm_bind_op op = map_op(e->bo2, 0, FREE_VA, 4 * PAGE);

	op.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, syncs);
	return bind(e, DRM_PANTHOR_VM_BIND_ASYNC, &op, 1);
}

static void check_bind_queued(struct env *e)
{
	struct gpuvm_mock_fence_signal s = { .fence_id = e->u.fence_attach.fence_id };

	expect_unmapped(e, FREE_VA, "queued VM_BIND before its fence");
	MUST(e->a, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &s);
	check_bind_async(e);
}

#define REGION (2ull << 20) /* what one last-level table maps */
#define REGIONS_VA (1ull << 32)

static size_t live_tables(struct env *e, size_t *cap)
{
	struct mock_table_set *t = &e->dev->gpu.live_tables;
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->n;
	*cap = t->cap;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/*
 * One page in each 2 MiB region from REGIONS_VA until the device's record
 * of live tables is half full: the next table grows it (e->handle: regions).
 */
static void setup_tables_half_full(struct env *e)
{
	size_t cap, cap0;

	live_tables(e, &cap0);
	for (e->handle = 0;; e->handle++) {
		struct drm_panthor_vm_bind_op op =
			map_op(e->bo2, 0, REGIONS_VA + e->handle * REGION, PAGE);

		if (live_tables(e, &cap) * 2 >= cap0)
			break;
		if (bind(e, 0, &op, 1))
			fail_msg("cannot map region %u", e->handle);
	}
	if (cap != cap0)
		fail_msg("the table record grew during setup");
}

static int call_bind_new_region(struct env *e)
{
	struct drm_panthor_vm_bind_op op = map_op(e->bo2, 0, REGIONS_VA + e->handle * REGION, PAGE);

	return bind(e, 0, &op, 1);
}

static void check_bind_new_region(struct env *e)
{
	expect_mapped(e, REGIONS_VA + e->handle * REGION, "VM_BIND in a new region");
}

static int call_vm_get_state(struct env *e)
{
	struct drm_panthor_vm_get_state s = { .vm_id = e->vm };

	return ioc(e->a, DRM_IOCTL_PANTHOR_VM_GET_STATE, &s);
}

static int call_bo_create(struct env *e)
{
	e->u.bo_create = (struct drm_panthor_bo_create){ .size = 3 * PAGE };
	return ioc(e->a, DRM_IOCTL_PANTHOR_BO_CREATE, &e->u.bo_create);
}

static int call_bo_create_exclusive(struct env *e)
{
	e->u.bo_create =
		(struct drm_panthor_bo_create){ .size = 3 * PAGE, .exclusive_vm_id = e->vm };
	return ioc(e->a, DRM_IOCTL_PANTHOR_BO_CREATE, &e->u.bo_create);
}

static void check_bo_create(struct env *e)
{
	struct drm_panthor_bo_mmap_offset m = { .handle = e->u.bo_create.handle };

	MUST(e->a, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &m);
	CHECK_EQ("BO_CREATE: size", e->u.bo_create.size, 3 * PAGE);
}

/* One-page BOs until the device's list of BOs is full: the next BO grows it. */
static void setup_full_bo_list(struct env *e)
{
	for (;;) {
		bool full;

		pthread_mutex_lock(&e->dev->lock);
		full = e->dev->nr_bos == e->dev->cap_bos;
		pthread_mutex_unlock(&e->dev->lock);
		if (full)
			return;
		bo_create(e->a, PAGE);
	}
}

static int call_mmap_offset(struct env *e)
{
	e->u.mmap_offset = (struct drm_panthor_bo_mmap_offset){ .handle = e->bo2 };
	return ioc(e->a, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &e->u.mmap_offset);
}

static void check_mmap_offset(struct env *e)
{
	uint64_t off;
	int fd;

	MUST(e->a, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &e->u.mmap_offset);
	CHECK_ERR("BO_MMAP_OFFSET",
		  mockdrm_mmap_lookup(e->a, e->u.mmap_offset.offset, PAGE, &fd, &off), 0);
}

static struct drm_panthor_queue_create queue = { .ringbuf_size = 4096 };

static int group_create(struct env *e)
{
	e->u.group_create = ga_group(&queue, e->vm);
	return ioc(e->a, DRM_IOCTL_PANTHOR_GROUP_CREATE, &e->u.group_create);
}

static int call_group_get_state(struct env *e);

static void check_group_create(struct env *e)
{
	e->group = e->u.group_create.group_handle;
	CHECK_ERR("GROUP_CREATE", call_group_get_state(e), 0);
}

static void setup_group(struct env *e)
{
	if (group_create(e))
		fail_msg("GROUP_CREATE failed");
	e->group = e->u.group_create.group_handle;
}

static int call_group_destroy(struct env *e)
{
	struct drm_panthor_group_destroy d = { .group_handle = e->group };

	return ioc(e->a, DRM_IOCTL_PANTHOR_GROUP_DESTROY, &d);
}

static void check_group_destroy(struct env *e)
{
	CHECK_ERR("GROUP_DESTROY", call_group_get_state(e), -EINVAL);
}

static int call_group_get_state(struct env *e)
{
	struct drm_panthor_group_get_state s = { .group_handle = e->group };

	return ioc(e->a, DRM_IOCTL_PANTHOR_GROUP_GET_STATE, &s);
}

/* The stream of mali.md section 5, storing 0xDEADBEEF at WINDOW_VA, in BO 2 at FREE_VA. */
static void setup_submit(struct env *e)
{
	const uint64_t stream[] = {
		0x0144000000000000ull | WINDOW_VA, /* MOVE48 d68, WINDOW_VA */
		0x02460000deadbeefull,             /* MOVE32 r70, 0xdeadbeef */
		0x1546440000010000ull,             /* STORE_MULTIPLE [d68 + 0] <- r70 */
		0x0300000000ff0000ull,             /* WAIT 0xff */
	};
	struct gpuvm_mock_gpu_access w = { .op = GPUVM_MOCK_GPU_ACCESS_WRITE,
					   .va = FREE_VA,
					   .size = sizeof(stream),
					   .data = (uintptr_t)stream };

	setup_group(e);
	if (call_bind_one(e))
		fail_msg("cannot map the stream");
	w.vm_id = e->vm;
	MUST(e->a, GPUVM_IOCTL_MOCK_GPU_ACCESS, &w);
}

static int submit(struct env *e, uint64_t stream_addr, uint32_t stream_size)
{
	struct drm_panthor_sync_op syncs[] = { sync_op(SYNC_WAIT, e->binary, 0),
					       sync_op(TL_SIGNAL, e->timeline, 2) };
	struct drm_panthor_queue_submit qs = { .stream_addr = stream_addr,
					       .stream_size = stream_size,
					       .syncs = DRM_PANTHOR_OBJ_ARRAY(2, syncs) };
	struct drm_panthor_group_submit gs = { .group_handle = e->group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(1, &qs) };

	return ioc(e->a, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs);
}

static int call_submit(struct env *e)
{
	return submit(e, FREE_VA, 4 * 8);
}

static int call_submit_empty(struct env *e)
{
	return submit(e, 0, 0);
}

static void check_submit(struct env *e)
{
	uint32_t v = 0;

	check_timeline_2(e);
	gpu_read(e, e->vm, WINDOW_VA, &v, sizeof(v));
	CHECK_EQ("GROUP_SUBMIT: the stream's store", v, 0xdeadbeef);
}

/* Two submits, one per queue: the second waits for what the first signals. */
static void setup_two_queues(struct env *e)
{
	static struct drm_panthor_queue_create queues[2] = { { .ringbuf_size = 4096 },
							     { .ringbuf_size = 4096 } };

	setup_submit(e);
	e->u.group_create.queues = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, queues);
	MUST(e->a, DRM_IOCTL_PANTHOR_GROUP_CREATE, &e->u.group_create);
	e->group = e->u.group_create.group_handle;
}

static int call_submit_two(struct env *e)
{
	struct drm_panthor_sync_op s0[] = { sync_op(TL_SIGNAL, e->timeline, 2) };
	struct drm_panthor_sync_op s1[] = { sync_op(TL_WAIT, e->timeline, 2),
					    sync_op(TL_SIGNAL, e->timeline, 3) };
	struct drm_panthor_queue_submit qs[] = {
		{ .queue_index = 0,
		  .stream_addr = FREE_VA,
		  .stream_size = 4 * 8,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(1, s0) },
		{ .queue_index = 1, .syncs = DRM_PANTHOR_OBJ_ARRAY(2, s1) },
	};
	struct drm_panthor_group_submit gs = { .group_handle = e->group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(2, qs) };

	return ioc(e->a, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs);
}

static void check_submit_two(struct env *e)
{
	expect_signaled(e->a, e->timeline, 3, "GROUP_SUBMIT: the second queue's submit");
	check_submit(e);
}

static int call_heap_create(struct env *e)
{
	e->u.heap_create = (struct drm_panthor_tiler_heap_create){ .vm_id = e->vm,
								   .initial_chunk_count = 2,
								   .chunk_size = 128 << 10,
								   .max_chunks = 4,
								   .target_in_flight = 1 };
	return ioc(e->a, DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, &e->u.heap_create);
}

static void check_heap_create(struct env *e)
{
	uint8_t b[8];

	if (gpu_read(e, e->vm, e->u.heap_create.first_heap_chunk_gpu_va, b, sizeof(b)))
		fail_msg("TILER_HEAP_CREATE: the first chunk is not mapped");
}

/* A heap of two chunks; the first chunk's header links the second (VA | size >> 12). */
static void setup_heap(struct env *e)
{
	uint64_t next = 0;

	if (call_heap_create(e))
		fail_msg("TILER_HEAP_CREATE failed");
	e->points[0] = e->u.heap_create.first_heap_chunk_gpu_va;
	if (gpu_read(e, e->vm, e->points[0], &next, sizeof(next)) || !next)
		fail_msg("TILER_HEAP_CREATE: no second chunk");
	e->points[1] = next & ~(PAGE - 1);
}

static int call_heap_destroy(struct env *e)
{
	struct drm_panthor_tiler_heap_destroy d = { .handle = e->u.heap_create.handle };

	return ioc(e->a, DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, &d);
}

/* Every chunk of the heap is unmapped (their VAs were noted at setup). */
static void check_heap_destroy(struct env *e)
{
	uint8_t b[8];

	for (int i = 0; i < 2; i++)
		if (!gpu_read(e, e->vm, e->points[i], b, sizeof(b)))
			fail_msg("TILER_HEAP_DESTROY: chunk %d is still mapped", i);
}

static int call_set_label(struct env *e)
{
	struct drm_panthor_bo_set_label l = { .handle = e->bo, .label = (uintptr_t) "inject" };

	return ioc(e->a, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &l);
}

static void check_set_label(struct env *e)
{
	struct mock_bo *bo = mock_bo_lookup(e->a, e->bo);

	if (!bo->label || strcmp(bo->label, "inject"))
		fail_msg("BO_SET_LABEL: label '%s'", bo->label ? bo->label : "(none)");
	mock_bo_put(bo);
}

static int call_set_mmio_offset(struct env *e)
{
	struct drm_panthor_set_user_mmio_offset o = { .offset =
							      DRM_PANTHOR_USER_MMIO_OFFSET_32BIT };

	return ioc(e->a, DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, &o);
}

static int call_bo_sync(struct env *e)
{
	struct drm_panthor_bo_sync_op op = { .handle = e->bo,
					     .type = DRM_PANTHOR_BO_SYNC_CPU_CACHE_FLUSH,
					     .size = PAGE };
	struct drm_panthor_bo_sync s = { .ops = DRM_PANTHOR_OBJ_ARRAY(1, &op) };

	return ioc(e->a, DRM_IOCTL_PANTHOR_BO_SYNC, &s);
}

static int call_bo_query_info(struct env *e)
{
	struct drm_panthor_bo_query_info q = { .handle = e->bo };

	return ioc(e->a, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q);
}

/* ---- Rows: the mock's own ---- */

static int call_gpu_write(struct env *e)
{
	struct gpuvm_mock_gpu_access w = { .vm_id = e->vm,
					   .op = GPUVM_MOCK_GPU_ACCESS_WRITE,
					   .va = WINDOW_VA + PAGE / 2,
					   .size = PAGE,
					   .data = (uintptr_t)e->buf };

	memset(e->buf, 0x77, sizeof(e->buf));
	return ioc(e->a, GPUVM_IOCTL_MOCK_GPU_ACCESS, &w);
}

static void check_gpu_write(struct env *e)
{
	uint8_t b[PAGE];

	gpu_read(e, e->vm, WINDOW_VA + PAGE / 2, b, sizeof(b));
	if (memcmp(b, e->buf, sizeof(b)))
		fail_msg("MOCK_GPU_ACCESS: the write did not land");
}

static int call_fence_attach(struct env *e)
{
	e->u.fence_attach = (struct gpuvm_mock_fence_attach){ .handle = e->timeline, .point = 2 };
	return ioc(e->a, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &e->u.fence_attach);
}

static void check_fence_attach(struct env *e)
{
	struct gpuvm_mock_fence_signal s = { .fence_id = e->u.fence_attach.fence_id };

	MUST(e->a, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &s);
	check_timeline_2(e);
}

static void setup_fence(struct env *e)
{
	if (call_fence_attach(e))
		fail_msg("MOCK_FENCE_ATTACH failed");
}

static int call_fence_signal(struct env *e)
{
	struct gpuvm_mock_fence_signal s = { .fence_id = e->u.fence_attach.fence_id };

	return ioc(e->a, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &s);
}

static int call_stats(struct env *e)
{
	struct gpuvm_mock_stats s = { 0 };

	return ioc(e->a, GPUVM_IOCTL_MOCK_STATS, &s);
}

static int call_vm_state(struct env *e)
{
	struct gpuvm_mock_vm_state s = { .vm_id = e->vm };

	return ioc(e->a, GPUVM_IOCTL_MOCK_VM_STATE, &s);
}

static int call_pt_read(struct env *e)
{
	struct gpuvm_mock_pt_read r = { .vm_id = e->vm,
					.data = (uintptr_t)e->buf,
					.size = sizeof(e->buf) };

	return ioc(e->a, GPUVM_IOCTL_MOCK_PT_READ, &r);
}

static const struct row rows[] = {
	{ "VERSION", DRM_IOCTL_VERSION, .call = call_version },
	{ "GET_UNIQUE", DRM_IOCTL_GET_UNIQUE, .call = call_get_unique },
	{ "GET_MAGIC", DRM_IOCTL_GET_MAGIC, .call = call_get_magic },
	{ "GET_CLIENT", DRM_IOCTL_GET_CLIENT, .call = call_get_client },
	{ "GET_STATS", DRM_IOCTL_GET_STATS, .call = call_get_stats },
	{ "AUTH_MAGIC", DRM_IOCTL_AUTH_MAGIC, setup_auth, call_auth_magic, check_auth,
	  observe_auth },
	{ "SET_MASTER", DRM_IOCTL_SET_MASTER, setup_drop_master, call_set_master, check_master,
	  observe_master },
	{ "DROP_MASTER", DRM_IOCTL_DROP_MASTER, NULL, call_drop_master, check_not_master,
	  observe_master },
	{ "MODE_CREATE_DUMB", DRM_IOCTL_MODE_CREATE_DUMB, .call = call_create_dumb,
	  .want = -ENOSYS },
	{ "MODE_MAP_DUMB", DRM_IOCTL_MODE_MAP_DUMB, .call = call_map_dumb, .want = -ENOSYS },
	{ "MODE_DESTROY_DUMB", DRM_IOCTL_MODE_DESTROY_DUMB, .call = call_destroy_dumb,
	  .want = -ENOSYS },
	{ "GEM_CLOSE", DRM_IOCTL_GEM_CLOSE, .call = call_gem_close, .check = check_gem_close },
	{ "GET_CAP", DRM_IOCTL_GET_CAP, .call = call_get_cap },
	{ "SET_CLIENT_CAP (refused)", DRM_IOCTL_SET_CLIENT_CAP, .call = call_set_client_cap,
	  .want = -EOPNOTSUPP },
	{ "PRIME_HANDLE_TO_FD", DRM_IOCTL_PRIME_HANDLE_TO_FD, .call = call_prime_export,
	  .check = check_prime_export },
	{ "PRIME_FD_TO_HANDLE", DRM_IOCTL_PRIME_FD_TO_HANDLE, setup_prime_import, call_prime_import,
	  check_prime_import },
	{ "PRIME_FD_TO_HANDLE (foreign memfd)", DRM_IOCTL_PRIME_FD_TO_HANDLE, setup_foreign_import,
	  call_prime_import, check_prime_import },
	{ "SYNCOBJ_CREATE", DRM_IOCTL_SYNCOBJ_CREATE, .call = call_syncobj_create,
	  .check = check_syncobj_create },
	{ "SYNCOBJ_DESTROY", DRM_IOCTL_SYNCOBJ_DESTROY, .call = call_syncobj_destroy },
	{ "SYNCOBJ_HANDLE_TO_FD", DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, .call = call_syncobj_export },
	{ "SYNCOBJ_HANDLE_TO_FD (sync file)", DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
	  .call = call_sync_file_export },
	{ "SYNCOBJ_FD_TO_HANDLE", DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, setup_syncobj_fd,
	  call_syncobj_import, check_syncobj_import },
	{ "SYNCOBJ_FD_TO_HANDLE (sync file)", DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, setup_sync_file,
	  call_sync_file_import, check_sync_file_import },
	{ "SYNCOBJ_WAIT", DRM_IOCTL_SYNCOBJ_WAIT, .call = call_syncobj_wait },
	{ "SYNCOBJ_TIMELINE_WAIT", DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, .call = call_timeline_wait },
	{ "SYNCOBJ_RESET", DRM_IOCTL_SYNCOBJ_RESET, .call = call_reset, .check = check_reset },
	{ "SYNCOBJ_SIGNAL", DRM_IOCTL_SYNCOBJ_SIGNAL, setup_reset, call_signal, check_signal },
	{ "SYNCOBJ_QUERY", DRM_IOCTL_SYNCOBJ_QUERY, .call = call_query, .check = check_query },
	{ "SYNCOBJ_TIMELINE_SIGNAL", DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
	  .call = call_timeline_signal, .check = check_timeline_2 },
	{ "SYNCOBJ_TIMELINE_SIGNAL (no points)", DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, setup_reset,
	  call_timeline_signal_no_points, check_signal },
	{ "SYNCOBJ_TRANSFER", DRM_IOCTL_SYNCOBJ_TRANSFER, setup_transfer, call_transfer,
	  check_transfer },
	{ "SYNCOBJ_EVENTFD", MOCK_DRM_IOCTL_SYNCOBJ_EVENTFD, setup_eventfd, call_eventfd,
	  check_eventfd },
	{ "DEV_QUERY", DRM_IOCTL_PANTHOR_DEV_QUERY, .call = call_dev_query },
	{ "VM_CREATE", DRM_IOCTL_PANTHOR_VM_CREATE, .call = call_vm_create,
	  .check = check_vm_create },
	{ "VM_DESTROY", DRM_IOCTL_PANTHOR_VM_DESTROY, .call = call_vm_destroy,
	  .check = check_vm_destroy, .nofail = true },
	{ "VM_BIND (one map)", DRM_IOCTL_PANTHOR_VM_BIND, .call = call_bind_one,
	  .check = check_bind_one },
	{ "VM_BIND (map, split, remap)", DRM_IOCTL_PANTHOR_VM_BIND, .call = call_bind_multi,
	  .check = check_bind_multi },
	{ "VM_BIND (async, syncs)", DRM_IOCTL_PANTHOR_VM_BIND, .call = call_bind_async,
	  .check = check_bind_async },
	{ "VM_BIND (async array, chained)", DRM_IOCTL_PANTHOR_VM_BIND,
	  .call = call_bind_async_multi, .check = check_bind_async_multi },
	{ "VM_BIND (sync-only op)", DRM_IOCTL_PANTHOR_VM_BIND, .call = call_bind_sync_only,
	  .check = check_timeline_2 },
	{ "VM_BIND (sparse)", DRM_IOCTL_PANTHOR_VM_BIND, .call = call_bind_sparse,
	  .check = check_bind_sparse },
	{ "VM_BIND (repeat, ours)", DRM_IOCTL_PANTHOR_VM_BIND, .call = call_bind_repeat,
	  .check = check_bind_sparse },
	{ "VM_BIND (async, queued behind a fence)", DRM_IOCTL_PANTHOR_VM_BIND, setup_pending,
	  call_bind_queued, check_bind_queued },
	{ "VM_BIND (the live-table record grows)", DRM_IOCTL_PANTHOR_VM_BIND,
	  setup_tables_half_full, call_bind_new_region, check_bind_new_region },
	{ "VM_GET_STATE", DRM_IOCTL_PANTHOR_VM_GET_STATE, .call = call_vm_get_state },
	{ "BO_CREATE", DRM_IOCTL_PANTHOR_BO_CREATE, .call = call_bo_create,
	  .check = check_bo_create },
	{ "BO_CREATE (exclusive)", DRM_IOCTL_PANTHOR_BO_CREATE, .call = call_bo_create_exclusive,
	  .check = check_bo_create },
	{ "BO_CREATE (the device's BO list grows)", DRM_IOCTL_PANTHOR_BO_CREATE, setup_full_bo_list,
	  call_bo_create, check_bo_create },
	{ "BO_MMAP_OFFSET", DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, .call = call_mmap_offset,
	  .check = check_mmap_offset },
	{ "GROUP_CREATE", DRM_IOCTL_PANTHOR_GROUP_CREATE, .call = group_create,
	  .check = check_group_create },
	{ "GROUP_DESTROY", DRM_IOCTL_PANTHOR_GROUP_DESTROY, setup_group, call_group_destroy,
	  check_group_destroy },
	{ "GROUP_SUBMIT (stream)", DRM_IOCTL_PANTHOR_GROUP_SUBMIT, setup_submit, call_submit,
	  check_submit },
	{ "GROUP_SUBMIT (sync only)", DRM_IOCTL_PANTHOR_GROUP_SUBMIT, setup_submit,
	  call_submit_empty, check_timeline_2 },
	{ "GROUP_SUBMIT (two queues, chained)", DRM_IOCTL_PANTHOR_GROUP_SUBMIT, setup_two_queues,
	  call_submit_two, check_submit_two },
	{ "GROUP_GET_STATE", DRM_IOCTL_PANTHOR_GROUP_GET_STATE, setup_group, call_group_get_state },
	{ "TILER_HEAP_CREATE", DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, .call = call_heap_create,
	  .check = check_heap_create },
	{ "TILER_HEAP_DESTROY", DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, setup_heap, call_heap_destroy,
	  check_heap_destroy, .nofail = true },
	{ "BO_SET_LABEL", DRM_IOCTL_PANTHOR_BO_SET_LABEL, .call = call_set_label,
	  .check = check_set_label },
	{ "SET_USER_MMIO_OFFSET", DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET,
	  .call = call_set_mmio_offset },
	{ "BO_SYNC", DRM_IOCTL_PANTHOR_BO_SYNC, .call = call_bo_sync },
	{ "BO_QUERY_INFO", DRM_IOCTL_PANTHOR_BO_QUERY_INFO, .call = call_bo_query_info },
	{ "MOCK_GPU_ACCESS (write)", GPUVM_IOCTL_MOCK_GPU_ACCESS, .call = call_gpu_write,
	  .check = check_gpu_write },
	{ "MOCK_FENCE_ATTACH", GPUVM_IOCTL_MOCK_FENCE_ATTACH, .call = call_fence_attach,
	  .check = check_fence_attach },
	{ "MOCK_FENCE_SIGNAL", GPUVM_IOCTL_MOCK_FENCE_SIGNAL, setup_fence, call_fence_signal,
	  check_timeline_2 },
	{ "MOCK_STATS", GPUVM_IOCTL_MOCK_STATS, .call = call_stats },
	{ "MOCK_VM_STATE", GPUVM_IOCTL_MOCK_VM_STATE, .call = call_vm_state },
	{ "MOCK_PT_READ", GPUVM_IOCTL_MOCK_PT_READ, .call = call_pt_read },
};

/* ---- Rows: ioctls on the fds the mock makes (mockdrm_fd_ioctl(), sw_sync) ---- */

static int fd_ioc(int fd, unsigned long req, void *arg)
{
	return mockdrm_fd_ioctl(fd, req, arg);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* A sync file of the binary syncobj (signaled) in @fd. */
static int sync_file_of(struct env *e, uint32_t handle)
{
	struct drm_syncobj_handle h = { .handle = handle,
					.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE };

	MUST(e->a, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);
	return h.fd;
}

static void setup_two_sync_files(struct env *e)
{
	e->fd = sync_file_of(e, e->binary);
	setup_pending(e);
	e->fd2 = sync_file_of(e, e->handle);
}

static int call_file_info(struct env *e)
{
	struct sync_fence_info info[2];
	struct sync_file_info fi = { .num_fences = 2, .sync_fence_info = (uintptr_t)info };

	return fd_ioc(e->fd, SYNC_IOC_FILE_INFO, &fi);
}

static int call_merge(struct env *e)
{
	struct sync_merge_data m = { .name = "inject", .fd2 = e->fd2 };
	int rc = fd_ioc(e->fd, SYNC_IOC_MERGE, &m);

	if (!rc)
		e->out_fd = m.fence;
	return rc;
}

/* The merge of a signaled and a pending fence settles with the pending one. */
static void check_merge(struct env *e)
{
	struct gpuvm_mock_fence_signal s = { .fence_id = e->u.fence_attach.fence_id };

	if (readable(e->out_fd))
		fail_msg("SYNC_IOC_MERGE: readable before its pending fence");
	MUST(e->a, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &s);
	if (!readable(e->out_fd))
		fail_msg("SYNC_IOC_MERGE: not readable once both fences signaled");
}

static void setup_dmabuf(struct env *e)
{
	setup_prime_import(e);
}

static int call_set_name(struct env *e)
{
	return fd_ioc(e->fd, DMA_BUF_SET_NAME, (void *)"inject");
}

static uint64_t observe_name(struct env *e)
{
	struct mock_bo *bo = mock_bo_lookup(e->a, e->bo2);
	char name[DMA_BUF_NAME_LEN];
	uint64_t h = 0;

	mock_dmabuf_name(bo, name);
	mock_bo_put(bo);
	for (const char *c = name; *c; c++)
		h = h * 131 + (uint8_t)*c;
	return h;
}

static void check_set_name(struct env *e)
{
	CHECK_EQ("DMA_BUF_SET_NAME", observe_name(e) != 0, 1);
}

static int call_dmabuf_sync(struct env *e)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };

	return fd_ioc(e->fd, DMA_BUF_IOCTL_SYNC, &s);
}

static int call_export_sync_file(struct env *e)
{
	struct dma_buf_export_sync_file x = { .flags = DMA_BUF_SYNC_RW, .fd = -1 };
	int rc = fd_ioc(e->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &x);

	if (!rc)
		e->out_fd = x.fd;
	return rc;
}

/* The dma-buf is idle for a writer: a sync file of all its fences is readable. */
static uint64_t observe_dmabuf_idle(struct env *e)
{
	struct dma_buf_export_sync_file x = { .flags = DMA_BUF_SYNC_RW, .fd = -1 };
	bool idle;

	if (fd_ioc(e->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &x))
		fail_msg("DMA_BUF_IOCTL_EXPORT_SYNC_FILE failed");
	idle = readable(x.fd);
	close(x.fd);
	return idle;
}

/* A dma-buf of BO 2 and a sync file of a pending fence. */
static void setup_import_sync_file(struct env *e)
{
	setup_dmabuf(e);
	setup_pending(e);
	e->fd2 = sync_file_of(e, e->handle);
}

static int call_import_sync_file(struct env *e)
{
	struct dma_buf_import_sync_file i = { .flags = DMA_BUF_SYNC_WRITE, .fd = e->fd2 };

	return fd_ioc(e->fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &i);
}

static void check_import_sync_file(struct env *e)
{
	CHECK_EQ("DMA_BUF_IOCTL_IMPORT_SYNC_FILE: busy", observe_dmabuf_idle(e), 0);
}

static void setup_sw_sync(struct env *e)
{
	if (mockdrm_sw_sync_open(&e->sw))
		fail_msg("sw_sync");
}

static int call_sw_create_fence(struct env *e)
{
	struct mock_sw_sync_create_fence c = { .value = 1, .name = "inject" };
	int rc = mockdrm_sw_sync_ioctl(e->sw, MOCK_SW_SYNC_IOC_CREATE_FENCE, &c);

	if (!rc)
		e->out_fd = c.fence;
	return rc;
}

static void check_sw_create_fence(struct env *e)
{
	uint32_t one = 1;

	if (readable(e->out_fd))
		fail_msg("SW_SYNC_IOC_CREATE_FENCE: signaled at once");
	if (mockdrm_sw_sync_ioctl(e->sw, MOCK_SW_SYNC_IOC_INC, &one) || !readable(e->out_fd))
		fail_msg("SW_SYNC_IOC_CREATE_FENCE: not signaled by INC");
}

static void setup_sw_fence(struct env *e)
{
	struct mock_sw_sync_create_fence c = { .value = 1, .name = "inject" };

	setup_sw_sync(e);
	if (mockdrm_sw_sync_ioctl(e->sw, MOCK_SW_SYNC_IOC_CREATE_FENCE, &c))
		fail_msg("SW_SYNC_IOC_CREATE_FENCE");
	e->fd = c.fence;
}

static int call_sw_inc(struct env *e)
{
	uint32_t one = 1;

	return mockdrm_sw_sync_ioctl(e->sw, MOCK_SW_SYNC_IOC_INC, &one);
}

static void check_sw_inc(struct env *e)
{
	if (!readable(e->fd))
		fail_msg("SW_SYNC_IOC_INC: the fence is not signaled");
}

/*
 * Not in the dispatch table: ioctls on the sync files, dma-bufs and sw_sync
 * timelines the mock makes (mockdrm_fd_ioctl(), mockdrm_sw_sync_ioctl()),
 * each request of their dispatch once.
 */
static const struct row fd_rows[] = {
	{ "SYNC_IOC_FILE_INFO", SYNC_IOC_FILE_INFO, setup_two_sync_files, call_file_info },
	{ "SYNC_IOC_MERGE", SYNC_IOC_MERGE, setup_two_sync_files, call_merge, check_merge },
	{ "DMA_BUF_SET_NAME", DMA_BUF_SET_NAME, setup_dmabuf, call_set_name, check_set_name,
	  observe_name },
	{ "DMA_BUF_IOCTL_SYNC", DMA_BUF_IOCTL_SYNC, setup_dmabuf, call_dmabuf_sync },
	{ "DMA_BUF_IOCTL_EXPORT_SYNC_FILE", DMA_BUF_IOCTL_EXPORT_SYNC_FILE, setup_dmabuf,
	  call_export_sync_file },
	{ "DMA_BUF_IOCTL_IMPORT_SYNC_FILE", DMA_BUF_IOCTL_IMPORT_SYNC_FILE, setup_import_sync_file,
	  call_import_sync_file, check_import_sync_file, observe_dmabuf_idle },
	{ "SW_SYNC_IOC_CREATE_FENCE", MOCK_SW_SYNC_IOC_CREATE_FENCE, setup_sw_sync,
	  call_sw_create_fence, check_sw_create_fence },
	{ "SW_SYNC_IOC_INC", MOCK_SW_SYNC_IOC_INC, setup_sw_fence, call_sw_inc, check_sw_inc },
};

/* ---- The loop ---- */

struct tally {
	unsigned long reached, clean;
};

/* The call succeeded (or had to): it did what it should. */
static void check_success(const struct row *r, unsigned long k, struct env *e, int rc)
{
	if (rc != r->want)
		report(r->name, k, "the call returned %s, want %s", errname(rc), errname(r->want));
	else if (r->check)
		r->check(e);
}

/* The call failed at its injected allocation: errno, and nothing changed. */
static void check_failure(const struct row *r, unsigned long k, struct env *e, int rc, int injected,
			  const struct mock_snap *before, uint64_t extra_before, int fds_before)
{
	int part;
	struct mock_snap after;
	uint64_t extra_after;

	if (rc != -ENOMEM && rc != -injected)
		report(r->name, k, "returned %s, want -ENOMEM or %s", errname(rc),
		       errname(-injected));
	settle(e);
	snap(e, r, &after, &extra_after);
	part = mock_snap_diff(before, &after);
	if (part >= 0)
		report(r->name, k, "returned %s but changed %s", errname(rc),
		       mock_snap_part_name(part));
	if (extra_before != extra_after)
		report(r->name, k, "returned %s but changed what the row observes", errname(rc));
	if (count_fds() != fds_before)
		report(r->name, k, "returned %s but left %d new fds open", errname(rc),
		       count_fds() - fds_before);
}

/*
 * Allocation @k of @r's call fails, on a fresh device. Return 0 when the
 * call made fewer allocations; else 1 when that site behaved, 2 when not.
 */
static int one_site(const struct row *r, unsigned long k)
{
	unsigned int failures_before = failures;
	int fds = count_fds(), fds_before_call, rc, injected;
	struct mock_snap before;
	uint64_t extra_before;
	struct env e;

	env_open(&e);
	if (r->setup)
		r->setup(&e);
	settle(&e);
	snap(&e, r, &before, &extra_before);
	fds_before_call = count_fds();
	mock_alloc_fail_nth(k);
	rc = r->call(&e);
	injected = mock_alloc_injected();
	if (injected)
		note_site(mock_alloc_injected_site());
	mock_alloc_fail_nth(0);
	if (!injected || r->nofail)
		check_success(r, k, &e, rc);
	else
		check_failure(r, k, &e, rc, injected, &before, extra_before, fds_before_call);
	env_close(&e);
	if (count_fds() != fds)
		report(r->name, k, "%d fds leaked after teardown", count_fds() - fds);
	if (!injected)
		return 0;
	return failures == failures_before ? 1 : 2;
}

static void run_row(const struct row *r, struct tally *t)
{
	unsigned long k;
	int res;

	t->reached = t->clean = 0;
	for (k = 1; k <= MAX_SITES; k++) {
		res = one_site(r, k);
		if (!res)
			return;
		t->reached++;
		t->clean += res == 1;
	}
	report(r->name, k, "more than %d allocations", MAX_SITES);
}

static const struct row *row_of(unsigned long request)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (rows[i].request == request)
			return &rows[i];
	return NULL;
}

/* Every request of the dispatch table has a row; how many requests it has. */
static unsigned int check_table(void)
{
	unsigned int i;

	for (i = 0; mock_ioctl_request(i); i++) {
		if (!row_of(mock_ioctl_request(i))) {
			fprintf(stderr,
				"FAIL ioctl 0x%lx (nr 0x%x) of the dispatch table has no row\n",
				mock_ioctl_request(i),
				(unsigned int)_IOC_NR(mock_ioctl_request(i)));
			failures++;
		}
	}
	return i;
}

struct totals {
	unsigned long sites, clean;
	unsigned int ioctls;
};

/* Run the rows of @request in @table; print one line each. */
static void run_request(const struct row *table, size_t n, unsigned long request,
			struct totals *tot)
{
	unsigned long reached = 0;

	for (size_t j = 0; j < n; j++) {
		struct tally t;

		if (table[j].request != request)
			continue;
		run_row(&table[j], &t);
		printf("%-44s %8lu %8lu\n", table[j].name, t.reached, t.clean);
		fflush(stdout);
		reached += t.reached;
		tot->sites += t.reached;
		tot->clean += t.clean;
	}
	tot->ioctls += reached > 0;
}

static void test_every_ioctl(void **state)
{
	unsigned int table = check_table();
	struct totals tot = { 0 };

	(void)state;
	printf("%-44s %8s %8s\n", "ioctl", "reached", "clean");
	for (unsigned int i = 0; mock_ioctl_request(i); i++)
		run_request(rows, ARRAY_SIZE(rows), mock_ioctl_request(i), &tot);
	for (size_t i = 0; i < ARRAY_SIZE(fd_rows); i++)
		run_request(&fd_rows[i], 1, fd_rows[i].request, &tot);
	printf("%lu sites covered in %u ioctls (%lu failed cleanly; %u ioctls in the dispatch "
	       "table and %zu on the mock's fds, the others made no allocation); "
	       "%u distinct call sites; %u failures\n",
	       tot.sites, tot.ioctls, tot.clean, table, ARRAY_SIZE(fd_rows), nr_sites_seen,
	       failures);
	if (failures)
		fail_msg("%u failures (above)", failures);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_ioctl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
