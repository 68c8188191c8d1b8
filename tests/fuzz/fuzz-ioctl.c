// SPDX-License-Identifier: MIT
/*
 * fuzz-ioctl: the mock device's ioctl surface, as a hostile client sees it
 * (libFuzzer target).
 *
 * One device, two open files A and B, driven directly through
 * mockdrm_ioctl() (no shim). The input is a sequence of calls: which file,
 * which ioctl, and its arguments - mostly plausible (small handles and ids,
 * page-multiple sizes, VAs in a window both files bind in, arrays of ops and
 * syncs in a user buffer), sometimes raw bytes, odd strides and sizes, bad
 * pointers (NULL, unmapped, read-only), the other file's handles and ids, and
 * request numbers with any size. After every call:
 *
 * - a call that failed changed nothing: a snapshot of the device's state
 *   (each file's handles, VMs and their VAs, translations of the window,
 *   syncobjs, fences and groups; BO contents; the mmap offset space) taken
 *   before is equal to one taken after, whenever no async job was queued
 *   around the call (a queued job legitimately changes the state meanwhile);
 * - invariants: every VM's gvm_validate() (and pt_validate() every few
 *   calls), and the MMU's strict mode saw no stale translation and no walk
 *   of a freed table.
 *
 * Blocking is bounded: waits take deadlines in the past, and every fence the
 * input attached is signalled before any call that could wait for the bind
 * queue (a synchronous bind, VM_DESTROY, closing a file).
 *
 * Known defects the generator steps around until they are fixed (issue 14),
 * each a one-line switch below: bad pointers in the syncobj array ioctls
 * (defect 1), GPU writes from a user buffer that becomes unreadable part-way
 * (defect 3).
 *
 * The snapshot is tests/mockdrm/mock-snap.c's (test-inject uses it too); the
 * invariants read the device's private state (mockdrm/dev/mock_internal.h,
 * mock_vm.h), under the locks the device takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>

#include <gpuvm/mockdrm.h>
#include <gpuvm/panthor_drm.h>
#include <gpuvm/print_file.h>
#include <gpuvm/pt.h>

#include "fuzz-input.h"
#include "mock-snap.h"
#include "mock_internal.h"
#include "mock_vm.h"

/* Generator switches for defects still open (issue 14). */
#define AVOID_DEFECT1_SYNCOBJ_BAD_POINTERS 0
#define AVOID_DEFECT3_PARTIAL_GPU_WRITE 0

#define MAX_CALLS 64
#define PAGE 4096ull
#define WINDOW_VA (16ull << 20) /* where binds mostly land */
#define WINDOW_PAGES 256u
#define ARENA_SIZE (64u * 1024)
#define MAX_BO_SIZE (2u << 20)
#define MAX_FENCES 32
#define PT_VALIDATE_EVERY 8
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* User memory: a buffer the arguments live in, and pages no call may read. */
struct user_mem {
	uint8_t *arena;
	uint8_t *unmapped; /* PROT_NONE */
	uint8_t *rdonly;   /* PROT_READ */
};

static struct user_mem um;
/* FUZZ_TRACE=1 in the environment: print every call and its result (replaying an input). */
static bool trace;

struct run {
	struct mockdrm_dev *dev;
	struct mockdrm_file *file[2];
	uint32_t fences[2][MAX_FENCES]; /* ids MOCK_FENCE_ATTACH returned, per file */
	unsigned int nr_fences[2];
	unsigned int calls, compared, skipped;
};

/* ---- Snapshots (mock-snap.h) ---- */

static void snap_take(struct run *r, struct mock_snap *s)
{
	const struct mock_snap_cfg cfg = {
		.dev = r->dev,
		.files = r->file,
		.nr_files = 2,
		.window_va = WINDOW_VA,
		.window_pages = WINDOW_PAGES,
	};

	mock_snap_take(&cfg, s);
}

/* ---- Invariants ---- */

static void check_invariants(struct run *r, const char *call)
{
	struct gpuvm_mock_stats st = { 0 };

	pthread_mutex_lock(&r->dev->vms_lock);
	for (struct mock_vm *vm = r->dev->vms; vm; vm = vm->live_next) {
		pthread_mutex_lock(&vm->lock);
		if (gvm_validate(vm->gvm, gpuvm_print_file, stderr))
			fz_fail("call %u (%s): gvm_validate() failed", r->calls, call);
		if (r->calls % PT_VALIDATE_EVERY == 0 &&
		    pt_validate(gvm_get_pt(vm->gvm), gpuvm_print_file, stderr))
			fz_fail("call %u (%s): pt_validate() failed", r->calls, call);
		pthread_mutex_unlock(&vm->lock);
	}
	pthread_mutex_unlock(&r->dev->vms_lock);
	if (mockdrm_ioctl(r->file[0], GPUVM_IOCTL_MOCK_STATS, &st))
		fz_fail("MOCK_STATS failed");
	if (st.stale_translations || st.freed_table_walks)
		fz_fail("call %u (%s): %" PRIu64 " stale translations (first at VA 0x%" PRIx64
			"), %" PRIu64 " walks of freed tables",
			r->calls, call, (uint64_t)st.stale_translations,
			(uint64_t)st.first_stale_va, (uint64_t)st.freed_table_walks);
}

/* ---- Arguments ---- */

/* A handle or id: mostly small (existing ones), sometimes anything. */
static uint32_t gen_id(struct fz_in *in)
{
	uint32_t b = (uint32_t)fz_take(in, 1);

	return b < 240 ? b % 6 : (uint32_t)fz_take(in, 4);
}

static uint64_t gen_size(struct fz_in *in)
{
	uint32_t b = (uint32_t)fz_take(in, 1);

	if (b < 200)
		return (1 + b % 16) * PAGE;
	return b < 250 ? fz_take(in, 3) : fz_take(in, 8);
}

static uint64_t gen_va(struct fz_in *in)
{
	uint32_t b = (uint32_t)fz_take(in, 1);

	if (b < 220)
		return WINDOW_VA + fz_below(in, WINDOW_PAGES) * PAGE;
	return b < 250 ? fz_take(in, 6) & ~(PAGE - 1) : fz_take(in, 8);
}

/*
 * A user pointer to @len bytes: into the arena (where @data, if any, was
 * copied), or - unless @good - NULL, a small integer, an unmapped or a
 * read-only page.
 */
static uint64_t gen_ptr(struct fz_in *in, const void *data, size_t len, bool good)
{
	static size_t next;
	uint32_t b = (uint32_t)fz_take(in, 1);
	uint8_t *p;

	if (!good && b >= 232) {
		static const uintptr_t small[] = { 0, 0x10, 4096 };

		switch (b % 4) {
		case 0:
			return small[b % ARRAY_SIZE(small)];
		case 1:
			return (uintptr_t)um.unmapped;
		case 2:
			return (uintptr_t)um.rdonly;
		default:
			/* The last bytes of the arena run into the unmapped page. */
			return (uintptr_t)(um.arena + ARENA_SIZE - 8);
		}
	}
	if (len > ARENA_SIZE / 4)
		len = ARENA_SIZE / 4;
	if (next + len > ARENA_SIZE - 64)
		next = 0;
	p = um.arena + next;
	next += (len + 15) & ~(size_t)15;
	if (data)
		memcpy(p, data, len);
	else
		memset(p, 0, len);
	return (uintptr_t)p;
}

/* ---- Calls ---- */

struct call {
	const char *name;
	/* Make the call on @f (@other is the other file); return its result. */
	int (*run)(struct run *r, int fi, struct fz_in *in);
	bool may_wait_for_queue; /* signal our fences first */
};

static int ioc(struct run *r, int fi, unsigned long req, void *arg)
{
	return mockdrm_ioctl(r->file[fi], req, arg);
}

static int call_bo_create(struct run *r, int fi, struct fz_in *in)
{
	struct drm_panthor_bo_create a = { 0 };

	/* One statement per read: initializers are evaluated in no fixed order. */
	a.size = gen_size(in);
	a.flags = (uint32_t)(fz_take(in, 1) < 230 ? 0 : fz_take(in, 4));
	a.exclusive_vm_id = fz_take(in, 1) < 200 ? 0 : gen_id(in);

	if (a.size > MAX_BO_SIZE)
		a.size %= MAX_BO_SIZE; /* larger valid sizes only cost snapshot time */
	return ioc(r, fi, DRM_IOCTL_PANTHOR_BO_CREATE, &a);
}

static int call_gem_close(struct run *r, int fi, struct fz_in *in)
{
	struct drm_gem_close a = { .handle = gen_id(in) };

	a.pad = (uint32_t)(fz_take(in, 1) >> 7);
	return ioc(r, fi, DRM_IOCTL_GEM_CLOSE, &a);
}

static int call_mmap_offset(struct run *r, int fi, struct fz_in *in)
{
	struct drm_panthor_bo_mmap_offset a = { .handle = gen_id(in) };
	uint64_t fd_off;
	int fd, rc;

	a.pad = (uint32_t)(fz_take(in, 1) >> 7);
	rc = ioc(r, fi, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &a);

	/* The offset maps only for this file; the other file must be refused. */
	if (!rc && !mockdrm_mmap_lookup(r->file[!fi], a.offset, PAGE, &fd, &fd_off)) {
		struct drm_panthor_bo_mmap_offset b = { 0 };
		bool other_holds = false;

		for (uint32_t h = 1; h <= r->file[!fi]->bos.nr && !other_holds; h++) {
			b.handle = h;
			other_holds = !ioc(r, !fi, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &b) &&
				      b.offset == a.offset;
		}
		if (!other_holds)
			fz_fail("file %d maps offset 0x%" PRIx64 " of a BO it has no handle to",
				!fi, (uint64_t)a.offset);
	}
	return rc;
}

static int call_vm_create(struct run *r, int fi, struct fz_in *in)
{
	struct drm_panthor_vm_create a = { 0 };

	a.flags = (uint32_t)(fz_take(in, 1) < 240 ? 0 : fz_take(in, 4));
	a.user_va_range = fz_take(in, 1) < 200 ? 0 : fz_take(in, 8);
	return ioc(r, fi, DRM_IOCTL_PANTHOR_VM_CREATE, &a);
}

static int call_vm_destroy(struct run *r, int fi, struct fz_in *in)
{
	struct drm_panthor_vm_destroy a = { .id = gen_id(in) };

	a.pad = (uint32_t)(fz_take(in, 1) >> 7);
	return ioc(r, fi, DRM_IOCTL_PANTHOR_VM_DESTROY, &a);
}

static uint32_t gen_op_flags(struct fz_in *in)
{
	static const uint32_t types[] = { DRM_PANTHOR_VM_BIND_OP_TYPE_MAP,
					  DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
					  DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY };
	uint32_t b = (uint32_t)fz_take(in, 1);
	uint32_t flags = types[b % 3] | (uint32_t)(fz_take(in, 1) & 0xf);

	if (b >= 200)
		flags |= GPUVM_VM_BIND_OP_MAP_REPEAT;
	if (b >= 250)
		flags = (uint32_t)fz_take(in, 4);
	return flags;
}

/* Sync ops: wait on or signal our syncobjs (handles 1-5), rarely anything. */
static struct drm_panthor_obj_array gen_syncs(struct fz_in *in, bool async)
{
	struct drm_panthor_sync_op ops[3];
	uint32_t n = async ? (uint32_t)fz_below(in, 4) : (fz_take(in, 1) >= 240);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t b = (uint32_t)fz_take(in, 1);

		ops[i] = (struct drm_panthor_sync_op){
			.flags = (b & 1 ? DRM_PANTHOR_SYNC_OP_SIGNAL : DRM_PANTHOR_SYNC_OP_WAIT) |
				 (b & 2 ? DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ : 0),
		};
		ops[i].handle = gen_id(in);
		ops[i].timeline_value = b & 2 ? fz_take(in, 1) : 0;
	}
	return (struct drm_panthor_obj_array){
		.stride = sizeof(ops[0]),
		.count = n,
		.array = n ? gen_ptr(in, ops, n * sizeof(ops[0]), true) : 0,
	};
}

static int call_vm_bind(struct run *r, int fi, struct fz_in *in)
{
	struct gpuvm_vm_bind_op_repeat ops[4];
	uint32_t b = (uint32_t)fz_take(in, 1);
	uint32_t n = 1 + b % 4, stride = b & 0x10 ? sizeof(ops[0]) : 48;
	bool async = b & 0x20;
	struct drm_panthor_vm_bind a = { .vm_id = gen_id(in),
					 .flags = async ? DRM_PANTHOR_VM_BIND_ASYNC : 0 };
	uint8_t packed[sizeof(ops)];
	uint32_t rb;

	for (uint32_t i = 0; i < n; i++) {
		ops[i].flags = gen_op_flags(in);
		ops[i].bo_handle = gen_id(in);
		ops[i].bo_offset = fz_take(in, 1) < 200 ? fz_below(in, 16) * PAGE : fz_take(in, 8);
		ops[i].va = gen_va(in);
		ops[i].size = gen_size(in);
		ops[i].syncs = gen_syncs(in, async);
		rb = (uint32_t)fz_take(in, 1);
		if (ops[i].flags & GPUVM_VM_BIND_OP_MAP_REPEAT)
			ops[i].bo_repeat_range = rb < 128 ? PAGE << rb % 3 : fz_take(in, 3);
		else
			ops[i].bo_repeat_range = rb < 250 ? 0 : fz_take(in, 3);
		memcpy(packed + i * stride, &ops[i], stride);
	}
	if (b >= 0xf0) /* odd strides and counts: the version rules */
		stride = (uint32_t)fz_take(in, 1), n = (uint32_t)fz_take(in, 2);
	a.ops = (struct drm_panthor_obj_array){
		.stride = stride,
		.count = n,
		.array = gen_ptr(in, packed, n <= 4 && stride <= sizeof(ops[0]) ? n * stride : 0,
				 b & 0x40),
	};
	return ioc(r, fi, DRM_IOCTL_PANTHOR_VM_BIND, &a);
}

static int call_vm_state(struct run *r, int fi, struct fz_in *in)
{
	struct drm_panthor_vm_get_state a = { .vm_id = gen_id(in) };
	struct gpuvm_mock_vm_state m = { .vm_id = a.vm_id };

	if (fz_take(in, 1) & 1)
		return ioc(r, fi, GPUVM_IOCTL_MOCK_VM_STATE, &m);
	return ioc(r, fi, DRM_IOCTL_PANTHOR_VM_GET_STATE, &a);
}

static int call_syncobj_create(struct run *r, int fi, struct fz_in *in)
{
	struct drm_syncobj_create a = { .flags = (uint32_t)(fz_take(in, 1) % 3) };

	return ioc(r, fi, DRM_IOCTL_SYNCOBJ_CREATE, &a);
}

static int call_syncobj_destroy(struct run *r, int fi, struct fz_in *in)
{
	struct drm_syncobj_destroy a = { .handle = gen_id(in) };

	return ioc(r, fi, DRM_IOCTL_SYNCOBJ_DESTROY, &a);
}

/* WAIT, TIMELINE_WAIT, RESET, SIGNAL, QUERY, TIMELINE_SIGNAL: deadlines in the past. */
static int call_syncobj_array(struct run *r, int fi, struct fz_in *in)
{
	uint32_t handles[4], b = (uint32_t)fz_take(in, 1), n = 1 + b % 4;
	uint64_t points[4];
	bool good = AVOID_DEFECT1_SYNCOBJ_BAD_POINTERS || !(b & 0x80);
	uint64_t hp, pp;

	for (uint32_t i = 0; i < n; i++) {
		handles[i] = gen_id(in);
		points[i] = fz_take(in, 1);
	}
	hp = gen_ptr(in, handles, sizeof(handles), good);
	pp = gen_ptr(in, points, sizeof(points), good);
	switch ((b >> 2) % 6) {
	case 0: {
		struct drm_syncobj_wait a = { .handles = hp,
					      .count_handles = n,
					      .flags = (uint32_t)(fz_take(in, 1) & 3) };

		return ioc(r, fi, DRM_IOCTL_SYNCOBJ_WAIT, &a);
	}
	case 1: {
		struct drm_syncobj_timeline_wait a = { .handles = hp,
						       .points = pp,
						       .count_handles = n,
						       .flags = (uint32_t)(fz_take(in, 1) & 7) };

		return ioc(r, fi, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &a);
	}
	case 2:
	case 3: {
		struct drm_syncobj_array a = { .handles = hp, .count_handles = n };

		return ioc(r, fi,
			   (b >> 2) % 6 == 2 ? DRM_IOCTL_SYNCOBJ_RESET : DRM_IOCTL_SYNCOBJ_SIGNAL,
			   &a);
	}
	default: {
		struct drm_syncobj_timeline_array a = { .handles = hp,
							.points = pp,
							.count_handles = n };

		return ioc(r, fi,
			   (b >> 2) % 6 == 4 ? DRM_IOCTL_SYNCOBJ_QUERY :
					       DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
			   &a);
	}
	}
}

/* PRIME: export from this file, import into the other, close the fd. */
static int call_prime(struct run *r, int fi, struct fz_in *in)
{
	struct drm_prime_handle e = { .handle = gen_id(in) };
	struct drm_prime_handle i = { 0 };
	int rc;

	e.flags = (uint32_t)(fz_take(in, 1) & 1 ? DRM_RDWR : 0) | DRM_CLOEXEC;
	rc = ioc(r, fi, DRM_IOCTL_PRIME_HANDLE_TO_FD, &e);

	if (rc)
		return rc;
	i.fd = e.fd;
	rc = ioc(r, !fi, DRM_IOCTL_PRIME_FD_TO_HANDLE, &i);
	close(e.fd);
	return rc;
}

static int call_gpu_access(struct run *r, int fi, struct fz_in *in)
{
	static uint8_t buf[4 * PAGE];
	uint32_t b = (uint32_t)fz_take(in, 1), op = 1 + b % 3;
	struct gpuvm_mock_gpu_access a = { .vm_id = gen_id(in) };
	uint32_t off;
	bool good = (b & 0x40) ||
		    (AVOID_DEFECT3_PARTIAL_GPU_WRITE && op == GPUVM_MOCK_GPU_ACCESS_WRITE);

	a.op = b >= 250 ? (uint32_t)fz_take(in, 1) : op;
	a.va = gen_va(in);
	/* Near a page's start or its end: an access that crosses pages moves in two chunks. */
	off = (uint32_t)fz_take(in, 1);
	a.va += off < 128 ? off * 8 : PAGE - (off - 127) * 8;
	a.size = 1 + fz_below(in, sizeof(buf) - 1);
	a.fill = op == GPUVM_MOCK_GPU_ACCESS_FILL ? (uint32_t)fz_take(in, 1) : 0;
	if (op != GPUVM_MOCK_GPU_ACCESS_FILL)
		a.data = gen_ptr(in, buf, a.size, good);
	return ioc(r, fi, GPUVM_IOCTL_MOCK_GPU_ACCESS, &a);
}

static int call_fence(struct run *r, int fi, struct fz_in *in)
{
	if (fz_take(in, 1) & 1) {
		struct gpuvm_mock_fence_attach a = { .handle = gen_id(in) };
		int rc;

		a.point = fz_take(in, 1) & 1 ? fz_take(in, 1) : 0;
		rc = ioc(r, fi, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &a);

		if (!rc && r->nr_fences[fi] < MAX_FENCES)
			r->fences[fi][r->nr_fences[fi]++] = a.fence_id;
		return rc;
	} else {
		struct gpuvm_mock_fence_signal a = { .fence_id = gen_id(in) };

		a.error = fz_take(in, 1) & 1 ? -(int32_t)fz_below(in, 5000) : 0;

		return ioc(r, fi, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &a);
	}
}

static int call_query(struct run *r, int fi, struct fz_in *in)
{
	struct drm_panthor_dev_query a = { .type = (uint32_t)fz_take(in, 1) % 4 };

	a.size = (uint32_t)fz_take(in, 1);
	a.pointer = fz_take(in, 1) & 1 ? 0 : gen_ptr(in, NULL, a.size, false);
	return ioc(r, fi, DRM_IOCTL_PANTHOR_DEV_QUERY, &a);
}

/* Any request number of the DRM range, any size, the argument from the input. */
static int call_raw(struct run *r, int fi, struct fz_in *in)
{
	uint8_t arg[256];
	unsigned long dir = fz_take(in, 1) % 4;
	unsigned long nr = fz_take(in, 1);
	unsigned long size = fz_below(in, sizeof(arg));
	uint64_t p;

	for (size_t i = 0; i < size; i++)
		arg[i] = (uint8_t)fz_take(in, 1);
	p = gen_ptr(in, arg, size, false);
	/* Not the syncobj array ioctls while defect 1 stands (their pointers are inside). */
	if (AVOID_DEFECT1_SYNCOBJ_BAD_POINTERS && nr >= 0xc3 && nr <= 0xcd)
		nr = 0x40;
	/*
	 * Not GROUP_SUBMIT (a random stream's jobs run until the job timeout),
	 * nor MOCK_FENCE_ATTACH (a fence nobody tracks could keep a queued bind,
	 * and every synchronous bind behind it, waiting for ever).
	 */
	if (nr == 0x49 || nr == 0x71)
		nr = 0x4a;
	return mockdrm_ioctl(r->file[fi], _IOC(dir, DRM_IOCTL_BASE, nr, size),
			     (void *)(uintptr_t)p);
}

static const struct call calls[] = {
	{ "BO_CREATE", call_bo_create, false },
	{ "GEM_CLOSE", call_gem_close, false },
	{ "BO_MMAP_OFFSET", call_mmap_offset, false },
	{ "VM_CREATE", call_vm_create, false },
	{ "VM_DESTROY", call_vm_destroy, true },
	{ "VM_BIND", call_vm_bind, true },
	{ "VM_BIND", call_vm_bind, true },
	{ "VM_GET_STATE", call_vm_state, false },
	{ "SYNCOBJ_CREATE", call_syncobj_create, false },
	{ "SYNCOBJ_DESTROY", call_syncobj_destroy, false },
	{ "SYNCOBJ arrays", call_syncobj_array, false },
	{ "PRIME", call_prime, false },
	{ "GPU_ACCESS", call_gpu_access, true },
	{ "MOCK_FENCE", call_fence, false },
	{ "DEV_QUERY", call_query, false },
	{ "raw", call_raw, true },
};

/* Signal every fence we attached, so that no queued bind waits for ever. */
static void signal_fences(struct run *r)
{
	for (int fi = 0; fi < 2; fi++) {
		for (unsigned int i = 0; i < r->nr_fences[fi]; i++) {
			struct gpuvm_mock_fence_signal a = { .fence_id = r->fences[fi][i] };

			ioc(r, fi, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &a); /* -ENOENT if done */
		}
		r->nr_fences[fi] = 0;
	}
}

static void one_call(struct run *r, struct fz_in *in)
{
	uint32_t b = (uint32_t)fz_take(in, 1);
	const struct call *c = &calls[(b & 0x7f) % ARRAY_SIZE(calls)];
	int fi = b >> 7;
	struct mock_snap before, after;
	bool compare;
	int rc, part;

	if (c->may_wait_for_queue)
		signal_fences(r);
	compare = mock_snap_quiet(r->dev);
	if (compare)
		snap_take(r, &before);
	rc = c->run(r, fi, in);
	if (trace)
		fprintf(stderr, "call %u: %s on file %c: %d%s\n", r->calls, c->name, 'A' + fi, rc,
			compare ? "" : " (queue busy)");
	if (compare && rc && mock_snap_quiet(r->dev)) {
		snap_take(r, &after);
		r->compared++;
		part = mock_snap_diff(&before, &after);
		if (part >= 0)
			fz_fail("call %u: %s on file %c failed (%d) but changed %s", r->calls,
				c->name, 'A' + fi, rc, mock_snap_part_name(part));
	} else if (rc) {
		r->skipped++;
	}
	check_invariants(r, c->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct mockdrm_cfg cfg = { .as_present = 0x7, .job_timeout_ms = 50 };
	struct fz_in in = { data, size };
	struct run r = { 0 };

	if (mockdrm_dev_create(&cfg, &r.dev) ||
	    mockdrm_open(r.dev, MOCKDRM_NODE_RENDER, &r.file[0]) ||
	    mockdrm_open(r.dev, MOCKDRM_NODE_RENDER, &r.file[1]))
		fz_fail("cannot set up the device");
	for (r.calls = 0; r.calls < MAX_CALLS && !fz_empty(&in); r.calls++)
		one_call(&r, &in);
	signal_fences(&r);
	mockdrm_close(r.file[0]);
	mockdrm_close(r.file[1]);
	mockdrm_dev_destroy(r.dev);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t *m = mmap(NULL, ARENA_SIZE + 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_TRACE") != NULL;
	if (m == MAP_FAILED)
		abort();
	um.arena = m;
	um.unmapped = m + ARENA_SIZE;
	um.rdonly = m + ARENA_SIZE + PAGE;
	/* Not zero: a write of the arena's bytes over fresh (zeroed) memory must show. */
	memset(um.arena, 0xa5, ARENA_SIZE);
	mprotect(um.unmapped, PAGE, PROT_NONE);
	mprotect(um.rdonly, PAGE, PROT_READ);
	return 0;
}
