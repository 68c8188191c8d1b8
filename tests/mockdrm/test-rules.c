// SPDX-License-Identifier: MIT
/*
 * Every panthor ioctl with valid input, then one table row per validation
 * rule: the errno the kernel returns, and every object as it was.
 *
 * Runs under the LD_PRELOAD shim, in its own process, through libdrm: the
 * device is whatever answers open("/dev/dri/renderD128").
 *
 * "As it was" is checked, not assumed: before and after each row the test
 * takes a snapshot of what a client can observe - the translation of every
 * page in a window of each VM (through the mock GPU-access ioctl), each VM
 * id's state, each BO handle's mmap offset, each syncobj's wait status and
 * timeline point - and the two must be equal.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <xf86drm.h>

#include <gpuvm/panthor_drm.h>

#include "drm-test.h"

#define PAGE DT_PAGE
#define BO_PAGES 64
#define MAP_VA (1ull << 20)     /* VM A: BO pages [0, 16) mapped here */
#define WINDOW_A (4ull << 20)   /* VM A: pages probed */
#define VM_B_RANGE (4ull << 30) /* VM B: a small user range */
#define WINDOW_B (256ull << 10) /* VM B: pages probed */
#define FAULTED DT_FAULTED
#define NR_IDS 8 /* VM ids, BO and syncobj handles probed */

/* The objects every row starts from (a fresh file per test). */
struct world {
	int fd;
	uint32_t vm_a, vm_b;
	uint32_t bo, bo_excl, bo_nommap;    /* bo_excl: exclusive to VM B */
	uint32_t s_signaled, s_empty, s_tl; /* s_tl: point 1 signaled */
};

static struct world w;

static int world_setup(void **state)
{
	(void)state;
	w.fd = dt_open();
	if (w.fd < 0)
		return -1;
	w.vm_a = dt_vm_create(w.fd, 0);
	w.vm_b = dt_vm_create(w.fd, VM_B_RANGE);
	w.bo = dt_bo_create(w.fd, BO_PAGES * PAGE, 0, 0);
	w.bo_excl = dt_bo_create(w.fd, 16 * PAGE, 0, w.vm_b);
	w.bo_nommap = dt_bo_create(w.fd, PAGE, DRM_PANTHOR_BO_NO_MMAP, 0);
	dt_bo_tag_pages(w.fd, w.bo, BO_PAGES);
	dt_bo_tag_pages(w.fd, w.bo_excl, 16);
	dt_map(w.fd, w.vm_a, w.bo, 0, MAP_VA, 16 * PAGE);
	dt_map(w.fd, w.vm_b, w.bo_excl, 0, 64 << 10, 16 * PAGE);
	w.s_signaled = dt_syncobj_create(w.fd, DRM_SYNCOBJ_CREATE_SIGNALED);
	w.s_empty = dt_syncobj_create(w.fd, 0);
	w.s_tl = dt_syncobj_create(w.fd, 0);
	assert_int_equal(drmSyncobjTimelineSignal(w.fd, &w.s_tl, (uint64_t[]){ 1 }, 1), 0);
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	dt_assert_mmu_clean(w.fd);
	close(w.fd); /* the file's VMs, BOs and syncobjs go with it */
	return 0;
}

/* Snapshots */

struct snapshot {
	uint64_t page_a[WINDOW_A / PAGE];
	uint64_t page_b[WINDOW_B / PAGE];
	uint64_t top_a, top_b; /* the last user page of each VM */
	int vm_state[NR_IDS];
	int64_t bo_offset[NR_IDS];
	int sync_status[NR_IDS];
	uint64_t tl_point;
};

static int vm_state(uint32_t id)
{
	struct drm_panthor_vm_get_state a = { .vm_id = id };
	int err = dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_VM_GET_STATE, &a);

	return err ? err : (int)a.state;
}

static int64_t bo_offset(uint32_t handle)
{
	struct drm_panthor_bo_mmap_offset a = { .handle = handle };
	int err = dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &a);

	return err ? err : (int64_t)a.offset;
}

/* 0 signaled, -ETIME pending, -EINVAL no fence, -ENOENT no syncobj. */
static int sync_status(uint32_t handle)
{
	return drmSyncobjWait(w.fd, &handle, 1, 0, 0, NULL);
}

static void snapshot_take(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (uint64_t i = 0; i < WINDOW_A / PAGE; i++)
		s->page_a[i] = dt_gpu_probe(w.fd, w.vm_a, i * PAGE);
	for (uint64_t i = 0; i < WINDOW_B / PAGE; i++)
		s->page_b[i] = dt_gpu_probe(w.fd, w.vm_b, i * PAGE);
	s->top_a = dt_gpu_probe(w.fd, w.vm_a, (1ull << 47) - PAGE);
	s->top_b = dt_gpu_probe(w.fd, w.vm_b, VM_B_RANGE - PAGE);
	for (uint32_t id = 1; id <= NR_IDS; id++) {
		s->vm_state[id - 1] = vm_state(id);
		s->bo_offset[id - 1] = bo_offset(id);
		s->sync_status[id - 1] = sync_status(id);
	}
	assert_int_equal(drmSyncobjQuery(w.fd, &w.s_tl, &s->tl_point, 1), 0);
}

static bool pages_equal(const char *what, const uint64_t *a, const uint64_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			fprintf(stderr, "  %s page %zu: %#" PRIx64 " became %#" PRIx64 "\n", what,
				i, a[i], b[i]);
			return false;
		}
	}
	return true;
}

static bool ints_equal(const char *what, const int *a, const int *b)
{
	for (size_t i = 0; i < NR_IDS; i++) {
		if (a[i] != b[i]) {
			fprintf(stderr, "  %s %zu: %d became %d\n", what, i + 1, a[i], b[i]);
			return false;
		}
	}
	return true;
}

static bool snapshot_equal(const struct snapshot *a, const struct snapshot *b)
{
	bool same = pages_equal("VM A", a->page_a, b->page_a, WINDOW_A / PAGE) &&
		    pages_equal("VM B", a->page_b, b->page_b, WINDOW_B / PAGE) &&
		    pages_equal("VM A top", &a->top_a, &b->top_a, 1) &&
		    pages_equal("VM B top", &a->top_b, &b->top_b, 1) &&
		    ints_equal("VM id", a->vm_state, b->vm_state) &&
		    ints_equal("syncobj", a->sync_status, b->sync_status);

	for (size_t i = 0; same && i < NR_IDS; i++) {
		if (a->bo_offset[i] != b->bo_offset[i]) {
			fprintf(stderr, "  BO handle %zu: %" PRId64 " became %" PRId64 "\n", i + 1,
				a->bo_offset[i], b->bo_offset[i]);
			same = false;
		}
	}
	if (same && a->tl_point != b->tl_point) {
		fprintf(stderr, "  timeline point %" PRIu64 " became %" PRIu64 "\n", a->tl_point,
			b->tl_point);
		same = false;
	}
	return same;
}

/*
 * Run one rule: the call must fail with @want and change nothing. Returns
 * whether it did, after printing what went wrong.
 */
static bool rule_holds(const char *rule, int want, int (*call)(const void *), const void *row)
{
	static struct snapshot before, after;
	int got;

	snapshot_take(&before);
	got = call(row);
	snapshot_take(&after);
	if (got != want) {
		fprintf(stderr, "FAIL %s: got %d (%s), want %d (%s)\n", rule, got, strerror(-got),
			want, strerror(-want));
		return false;
	}
	if (!snapshot_equal(&before, &after)) {
		fprintf(stderr, "FAIL %s: state changed\n", rule);
		return false;
	}
	return true;
}

/*
 * Rows for every ioctl but VM_BIND: the argument as the caller passes it.
 * Ids and handles are the world's (checked by test_world): VM A is 1, VM B
 * is 2; BO 1 is mapped in VM A, BO 2 is exclusive to VM B, BO 3 is NO_MMAP;
 * syncobj 3 is a timeline whose last point is 1.
 */
union any_arg {
	struct drm_panthor_dev_query dev_query;
	struct drm_panthor_vm_create vm_create;
	struct drm_panthor_vm_destroy vm_destroy;
	struct drm_panthor_vm_get_state vm_get_state;
	struct drm_panthor_bo_create bo_create;
	struct drm_panthor_bo_mmap_offset bo_mmap_offset;
	struct drm_gem_close gem_close;
	struct drm_prime_handle prime;
	struct gpuvm_mock_gpu_access gpu_access;
	struct gpuvm_mock_fence_attach fence_attach;
	struct gpuvm_mock_fence_signal fence_signal;
	struct gpuvm_mock_stats stats;
	struct gpuvm_mock_vm_state vm_state;
};

struct ioctl_row {
	const char *rule;
	int err;
	unsigned long request;
	union any_arg arg;
};

#define BAD_PTR 8ull /* an address no process maps */
#define BIG 0xfffffffffffff000ull
#define UNKNOWN_PANTHOR_IOCTL DRM_IOWR(DRM_COMMAND_BASE + 0x20, struct drm_panthor_vm_get_state)

/* clang-format off */
static const struct ioctl_row ioctl_rows[] = {
	{"DEV_QUERY: unknown type", -EINVAL, DRM_IOCTL_PANTHOR_DEV_QUERY,
	 {.dev_query = {.type = 4}}},
	{"DEV_QUERY: size below the info's first version", -EINVAL, DRM_IOCTL_PANTHOR_DEV_QUERY,
	 {.dev_query = {.type = DRM_PANTHOR_DEV_QUERY_GPU_INFO, .size = 8, .pointer = BAD_PTR}}},
	{"DEV_QUERY: unwritable pointer", -EFAULT, DRM_IOCTL_PANTHOR_DEV_QUERY,
	 {.dev_query = {.type = DRM_PANTHOR_DEV_QUERY_GPU_INFO, .size = 104, .pointer = BAD_PTR}}},
	{"VM_CREATE: flags must be 0", -EINVAL, DRM_IOCTL_PANTHOR_VM_CREATE,
	 {.vm_create = {.flags = 1}}},
	{"VM_CREATE: user range not page-aligned (ours)", -EINVAL, DRM_IOCTL_PANTHOR_VM_CREATE,
	 {.vm_create = {.user_va_range = (1ull << 32) + 1}}},
	{"VM_DESTROY: pad", -EINVAL, DRM_IOCTL_PANTHOR_VM_DESTROY, {.vm_destroy = {.id = 1,
	 .pad = 1}}},
	{"VM_DESTROY: unknown id", -EINVAL, DRM_IOCTL_PANTHOR_VM_DESTROY,
	 {.vm_destroy = {.id = 7}}},
	{"VM_DESTROY: id 0", -EINVAL, DRM_IOCTL_PANTHOR_VM_DESTROY, {.vm_destroy = {.id = 0}}},
	{"VM_GET_STATE: unknown id", -EINVAL, DRM_IOCTL_PANTHOR_VM_GET_STATE,
	 {.vm_get_state = {.vm_id = 7}}},
	{"BO_CREATE: size 0", -EINVAL, DRM_IOCTL_PANTHOR_BO_CREATE, {.bo_create = {.size = 0}}},
	{"BO_CREATE: unknown flag", -EINVAL, DRM_IOCTL_PANTHOR_BO_CREATE,
	 {.bo_create = {.size = PAGE, .flags = 1u << 2}}},
	{"BO_CREATE: pad", -EINVAL, DRM_IOCTL_PANTHOR_BO_CREATE, {.bo_create = {.size = PAGE,
	 .pad = 1}}},
	{"BO_CREATE: unknown exclusive VM", -EINVAL, DRM_IOCTL_PANTHOR_BO_CREATE,
	 {.bo_create = {.size = PAGE, .exclusive_vm_id = 7}}},
	{"BO_MMAP_OFFSET: unknown handle", -ENOENT, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET,
	 {.bo_mmap_offset = {.handle = 7}}},
	{"BO_MMAP_OFFSET: handle 0", -ENOENT, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET,
	 {.bo_mmap_offset = {.handle = 0}}},
	{"BO_MMAP_OFFSET: pad", -EINVAL, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET,
	 {.bo_mmap_offset = {.handle = 1, .pad = 1}}},
	{"GEM_CLOSE: unknown handle", -EINVAL, DRM_IOCTL_GEM_CLOSE, {.gem_close = {.handle = 7}}},
	{"PRIME_HANDLE_TO_FD: unknown flag", -EINVAL, DRM_IOCTL_PRIME_HANDLE_TO_FD,
	 {.prime = {.handle = 1, .flags = 1u << 3}}},
	{"PRIME_HANDLE_TO_FD: unknown handle", -ENOENT, DRM_IOCTL_PRIME_HANDLE_TO_FD,
	 {.prime = {.handle = 7}}},
	{"PRIME_FD_TO_HANDLE: not an fd", -EBADF, DRM_IOCTL_PRIME_FD_TO_HANDLE,
	 {.prime = {.fd = -1}}},
	{"PRIME_FD_TO_HANDLE: not a dma-buf", -EINVAL, DRM_IOCTL_PRIME_FD_TO_HANDLE,
	 {.prime = {.fd = 0}}},
	{"an index panthor does not have", -EINVAL, UNKNOWN_PANTHOR_IOCTL,
	 {.vm_get_state = {.vm_id = 1}}},
	{"GPU_ACCESS: unknown VM", -EINVAL, GPUVM_IOCTL_MOCK_GPU_ACCESS, {.gpu_access = {.vm_id = 7,
	 .op = GPUVM_MOCK_GPU_ACCESS_FILL, .va = MAP_VA, .size = 8}}},
	{"GPU_ACCESS: op 0", -EINVAL, GPUVM_IOCTL_MOCK_GPU_ACCESS, {.gpu_access = {.vm_id = 1,
	 .va = MAP_VA, .size = 8}}},
	{"GPU_ACCESS: size 0", -EINVAL, GPUVM_IOCTL_MOCK_GPU_ACCESS, {.gpu_access = {.vm_id = 1,
	 .op = GPUVM_MOCK_GPU_ACCESS_FILL, .va = MAP_VA}}},
	{"GPU_ACCESS: va + size overflows", -EINVAL, GPUVM_IOCTL_MOCK_GPU_ACCESS,
	 {.gpu_access = {.vm_id = 1, .op = GPUVM_MOCK_GPU_ACCESS_FILL, .va = BIG,
	 .size = 2 * PAGE}}},
	{"GPU_ACCESS: FILL with a data pointer", -EINVAL, GPUVM_IOCTL_MOCK_GPU_ACCESS,
	 {.gpu_access = {.vm_id = 1, .op = GPUVM_MOCK_GPU_ACCESS_FILL, .va = MAP_VA, .size = 8,
	 .data = BAD_PTR}}},
	{"GPU_ACCESS: FILL value above 0xff", -EINVAL, GPUVM_IOCTL_MOCK_GPU_ACCESS,
	 {.gpu_access = {.vm_id = 1, .op = GPUVM_MOCK_GPU_ACCESS_FILL, .va = MAP_VA, .size = 8,
	 .fill = 0x100}}},
	{"GPU_ACCESS: WRITE with a fill value", -EINVAL, GPUVM_IOCTL_MOCK_GPU_ACCESS,
	 {.gpu_access = {.vm_id = 1, .op = GPUVM_MOCK_GPU_ACCESS_WRITE, .va = MAP_VA, .size = 8,
	 .fill = 1}}},
	{"GPU_ACCESS: WRITE from an unreadable buffer", -EFAULT, GPUVM_IOCTL_MOCK_GPU_ACCESS,
	 {.gpu_access = {.vm_id = 1, .op = GPUVM_MOCK_GPU_ACCESS_WRITE, .va = MAP_VA, .size = 8,
	 .data = BAD_PTR}}},
	{"FENCE_ATTACH: flags", -EINVAL, GPUVM_IOCTL_MOCK_FENCE_ATTACH,
	 {.fence_attach = {.handle = 2, .flags = 1}}},
	{"FENCE_ATTACH: pad", -EINVAL, GPUVM_IOCTL_MOCK_FENCE_ATTACH, {.fence_attach = {.handle = 2,
	 .pad = 1}}},
	{"FENCE_ATTACH: unknown syncobj", -ENOENT, GPUVM_IOCTL_MOCK_FENCE_ATTACH,
	 {.fence_attach = {.handle = 7}}},
	{"FENCE_ATTACH: point not above the timeline's last", -EINVAL,
	 GPUVM_IOCTL_MOCK_FENCE_ATTACH, {.fence_attach = {.handle = 3, .point = 1}}},
	{"FENCE_SIGNAL: unknown fence", -ENOENT, GPUVM_IOCTL_MOCK_FENCE_SIGNAL,
	 {.fence_signal = {.fence_id = 7}}},
	{"FENCE_SIGNAL: positive error", -EINVAL, GPUVM_IOCTL_MOCK_FENCE_SIGNAL,
	 {.fence_signal = {.fence_id = 1, .error = 1}}},
	{"FENCE_SIGNAL: error below -4095", -EINVAL, GPUVM_IOCTL_MOCK_FENCE_SIGNAL,
	 {.fence_signal = {.fence_id = 1, .error = -4096}}},
	{"STATS: unknown flag", -EINVAL, GPUVM_IOCTL_MOCK_STATS, {.stats = {.flags = 2}}},
	{"STATS: pad", -EINVAL, GPUVM_IOCTL_MOCK_STATS, {.stats = {.pad = 1}}},
	{"VM_STATE: unknown VM", -EINVAL, GPUVM_IOCTL_MOCK_VM_STATE, {.vm_state = {.vm_id = 7}}},
	{"VM_STATE: pad", -EINVAL, GPUVM_IOCTL_MOCK_VM_STATE, {.vm_state = {.vm_id = 1, .pad = 1}}},
};
/* clang-format on */

static int call_ioctl_row(const void *p)
{
	const struct ioctl_row *row = p;
	union any_arg arg = row->arg;

	return dt_ioctl(w.fd, row->request, &arg);
}

static void test_ioctl_rules(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(ioctl_rows) / sizeof(ioctl_rows[0]); i++)
		failed += !rule_holds(ioctl_rows[i].rule, ioctl_rows[i].err, call_ioctl_row,
				      &ioctl_rows[i]);
	assert_int_equal(failed, 0);
}

/*
 * VM_BIND rows. An op is described with symbolic objects, resolved against
 * the world when the row runs.
 */
enum bo_ref {
	NO_BO,
	BO_MAIN,
	BO_EXCL,
	BO_UNKNOWN
};
enum sync_ref {
	SYNC_SIGNALED = 1,
	SYNC_EMPTY,
	SYNC_TIMELINE,
	SYNC_UNKNOWN
};
enum vm_ref {
	VM_A,
	VM_B,
	VM_UNKNOWN
};

struct op_desc {
	uint32_t flags;
	enum bo_ref bo;
	uint64_t offset, va, size, repeat;
};

struct sync_desc {
	uint32_t flags;
	enum sync_ref obj;
	uint64_t value;
};

struct bind_row {
	const char *rule;
	int err;
	uint32_t flags; /* of the bind */
	enum vm_ref vm;
	uint32_t stride; /* 0: 48, the panthor op */
	struct op_desc op;
	bool after_valid;  /* the op follows a valid MAP in the same array */
	uint32_t nr_syncs; /* 0 or 1: the op's sync */
	struct sync_desc sync;
	uint32_t sync_stride;  /* 0: 16 */
	bool dirty_tail;       /* a non-zero byte past the op we know */
	bool bad_array;        /* the op array is unreadable */
	bool first_signals_tl; /* the valid first op signals the timeline's point 2 */
};

#define MAP 0u
#define UNMAP DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP
#define SYNC_ONLY DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY
#define RO DRM_PANTHOR_VM_BIND_OP_MAP_READONLY
#define NOEXEC DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC
#define SPARSE DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE
#define REPEAT GPUVM_VM_BIND_OP_MAP_REPEAT
#define ASYNC DRM_PANTHOR_VM_BIND_ASYNC
#define WAIT_BIN DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ
#define WAIT_TL DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ
#define SIGNAL DRM_PANTHOR_SYNC_OP_SIGNAL
#define V2 GPUVM_VM_BIND_OP_SIZE_V2
#define FREE_VA (2ull << 20) /* nothing mapped here in VM A; inside WINDOW_A */
#define BO_SIZE (BO_PAGES * PAGE)

/* clang-format off */
static const struct bind_row bind_rows[] = {
	/* The bind */
	{"unknown bind flag", -EINVAL, 1u << 1, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE}},
	{"unknown VM", -EINVAL, 0, VM_UNKNOWN, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE}},
	{"op stride below panthor's op", -EINVAL, 0, VM_A, 40, {MAP, BO_MAIN, 0, FREE_VA, PAGE}},
	{"bytes past the op we know must be zero", -E2BIG, 0, VM_A, 64, {MAP, BO_MAIN, 0, FREE_VA,
	 PAGE}, .dirty_tail = true},
	/* Without our flag an op is Linux's: bytes 48..55 are past its op too. */
	{"no REPEAT, stride 56: byte 55 nonzero", -E2BIG, 0, VM_A, V2, {MAP, BO_MAIN, 0, FREE_VA,
	 PAGE}, .dirty_tail = true},
	{"no REPEAT, stride 64: bytes 48..55 nonzero", -E2BIG, 0, VM_A, 64, {MAP, BO_MAIN, 0,
	 FREE_VA, 2 * PAGE, PAGE}},
	{"no REPEAT, an UNMAP with bytes 48..55 nonzero", -E2BIG, 0, VM_A, V2, {UNMAP, NO_BO, 0,
	 MAP_VA, PAGE, PAGE}},
	{"op array unreadable", -EFAULT, 0, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE},
	 .bad_array = true},
	/* MAP */
	{"MAP: unknown op flag", -EINVAL, 0, VM_A, 0, {1u << 4, BO_MAIN, 0, FREE_VA, PAGE}},
	{"unknown op type", -EINVAL, 0, VM_A, 0, {3u << 28, NO_BO, 0, FREE_VA, PAGE}},
	{"MAP: va not page-aligned", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA + 1, PAGE}},
	{"MAP: size not page-aligned", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE + 1}},
	{"MAP: size 0", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, 0}},
	{"MAP: offset not page-aligned", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, 1, FREE_VA, PAGE}},
	{"MAP: offset + size past the BO", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, PAGE, FREE_VA,
	 BO_SIZE}},
	{"MAP: offset + size overflows", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, BIG, FREE_VA,
	 2 * PAGE}},
	{"MAP: va + size past the user range", -EINVAL, 0, VM_B, 0, {MAP, BO_EXCL, 0,
	 VM_B_RANGE - PAGE, 2 * PAGE}},
	{"MAP: va in the kernel's range", -EINVAL, 0, VM_B, 0, {MAP, BO_EXCL, 0, VM_B_RANGE, PAGE}},
	{"MAP: va + size overflows", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, 0, BIG, 2 * PAGE}},
	{"MAP: unknown BO", -ENOENT, 0, VM_A, 0, {MAP, BO_UNKNOWN, 0, FREE_VA, PAGE}},
	{"MAP: BO exclusive to another VM", -EINVAL, 0, VM_A, 0, {MAP, BO_EXCL, 0, FREE_VA, PAGE}},
	/* MAP_SPARSE */
	{"SPARSE: with a BO", -EINVAL, 0, VM_A, 0, {SPARSE | NOEXEC, BO_MAIN, 0, FREE_VA, PAGE}},
	{"SPARSE: with an offset", -EINVAL, 0, VM_A, 0, {SPARSE | NOEXEC, NO_BO, PAGE, FREE_VA,
	 PAGE}},
	{"SPARSE: without NOEXEC", -EINVAL, 0, VM_A, 0, {SPARSE, NO_BO, 0, FREE_VA, PAGE}},
	{"SPARSE: with REPEAT", -EINVAL, 0, VM_A, V2, {SPARSE | NOEXEC | REPEAT, NO_BO, 0, FREE_VA,
	 2 * PAGE, PAGE}},
	/* MAP_REPEAT (ours) */
	{"REPEAT: no repeat range", -EINVAL, 0, VM_A, V2, {REPEAT, BO_MAIN, 0, FREE_VA, 2 * PAGE}},
	{"REPEAT: panthor's 48-byte op has no range", -EINVAL, 0, VM_A, 0, {REPEAT, BO_MAIN, 0,
	 FREE_VA, 2 * PAGE, PAGE}},
	{"REPEAT: a range without the flag is Linux's E2BIG", -E2BIG, 0, VM_A, V2, {MAP, BO_MAIN,
	 0, FREE_VA, 2 * PAGE, PAGE}},
	{"REPEAT: stride between the two ops", -EINVAL, 0, VM_A, 52, {REPEAT, BO_MAIN, 0, FREE_VA,
	 2 * PAGE, PAGE}},
	{"REPEAT: stride 64, byte 63 nonzero", -E2BIG, 0, VM_A, 64, {REPEAT, BO_MAIN, 0, FREE_VA,
	 2 * PAGE, PAGE}, .dirty_tail = true},
	{"REPEAT: range not page-aligned", -EINVAL, 0, VM_A, V2, {REPEAT, BO_MAIN, 0, FREE_VA,
	 2 * PAGE, PAGE / 2}},
	{"REPEAT: size not a multiple of the range", -EINVAL, 0, VM_A, V2, {REPEAT, BO_MAIN, 0,
	 FREE_VA, 3 * PAGE, 2 * PAGE}},
	{"REPEAT: offset + range past the BO", -EINVAL, 0, VM_A, V2, {REPEAT, BO_MAIN,
	 BO_SIZE - PAGE, FREE_VA, 4 * PAGE, 2 * PAGE}},
	{"REPEAT: on an UNMAP", -EINVAL, 0, VM_A, V2, {UNMAP | REPEAT, NO_BO, 0, MAP_VA, PAGE,
	 PAGE}},
	/* UNMAP */
	{"UNMAP: with a BO", -EINVAL, 0, VM_A, 0, {UNMAP, BO_MAIN, 0, MAP_VA, PAGE}},
	{"UNMAP: with an offset", -EINVAL, 0, VM_A, 0, {UNMAP, NO_BO, PAGE, MAP_VA, PAGE}},
	{"UNMAP: va not page-aligned", -EINVAL, 0, VM_A, 0, {UNMAP, NO_BO, 0, MAP_VA + 8, PAGE}},
	{"UNMAP: size not page-aligned", -EINVAL, 0, VM_A, 0, {UNMAP, NO_BO, 0, MAP_VA, 8}},
	{"UNMAP: a MAP flag", -EINVAL, 0, VM_A, 0, {UNMAP | RO, NO_BO, 0, MAP_VA, PAGE}},
	{"UNMAP: past the user range", -EINVAL, 0, VM_B, 0, {UNMAP, NO_BO, 0, VM_B_RANGE, PAGE}},
	/* SYNC_ONLY */
	{"SYNC_ONLY: with a va", -EINVAL, ASYNC, VM_A, 0, {SYNC_ONLY, NO_BO, 0, MAP_VA, 0}, false,
	 1, {SIGNAL, SYNC_EMPTY}},
	{"SYNC_ONLY: with a size", -EINVAL, ASYNC, VM_A, 0, {SYNC_ONLY, NO_BO, 0, 0, PAGE}, false,
	 1, {SIGNAL, SYNC_EMPTY}},
	{"SYNC_ONLY: with a BO", -EINVAL, ASYNC, VM_A, 0, {SYNC_ONLY, BO_MAIN, 0, 0, 0}, false, 1,
	 {SIGNAL, SYNC_EMPTY}},
	{"SYNC_ONLY: without syncs", -EINVAL, ASYNC, VM_A, 0, {SYNC_ONLY, NO_BO, 0, 0, 0}},
	/* Sync ops */
	{"syncs on a synchronous bind", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE},
	 false, 1, {SIGNAL, SYNC_EMPTY}},
	{"sync stride below panthor's sync op", -EINVAL, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA,
	 PAGE}, false, 1, {SIGNAL, SYNC_EMPTY}, 8},
	{"sync: unknown handle type", -EINVAL, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE},
	 false, 1, {SIGNAL | 2, SYNC_EMPTY}},
	{"sync: unknown flag", -EINVAL, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE}, false, 1,
	 {SIGNAL | 1u << 8, SYNC_EMPTY}},
	{"sync: binary syncobj with a timeline value", -EINVAL, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0,
	 FREE_VA, PAGE}, false, 1, {SIGNAL | WAIT_BIN, SYNC_EMPTY, 5}},
	{"sync: unknown syncobj to signal", -EINVAL, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE},
	 false, 1, {SIGNAL, SYNC_UNKNOWN}},
	{"sync: unknown syncobj to wait for", -ENOENT, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA,
	 PAGE}, false, 1, {WAIT_BIN, SYNC_UNKNOWN}},
	{"sync: wait for a syncobj without a fence", -EINVAL, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0,
	 FREE_VA, PAGE}, false, 1, {WAIT_BIN, SYNC_EMPTY}},
	{"sync: wait for a timeline point not submitted", -EINVAL, ASYNC, VM_A, 0, {MAP, BO_MAIN, 0,
	 FREE_VA, PAGE}, false, 1, {WAIT_TL, SYNC_TIMELINE, 2}},
	{"sync: signal a timeline point not above its last", -EINVAL, ASYNC, VM_A, 0,
	 {MAP, BO_MAIN, 0, FREE_VA, PAGE}, false, 1, {SIGNAL | WAIT_TL, SYNC_TIMELINE, 1}},
	/* Arrays: a bad second op undoes the valid first one */
	{"array: sync, bad second op", -EINVAL, 0, VM_A, 0, {MAP, BO_MAIN, 0, FREE_VA, PAGE + 1},
	 true},
	{"array: sync, unknown BO in the second op", -ENOENT, 0, VM_A, 0, {MAP, BO_UNKNOWN, 0,
	 FREE_VA, PAGE}, true},
	{"array: async, bad second op", -EINVAL, ASYNC, VM_A, 0, {UNMAP, BO_MAIN, 0, MAP_VA, PAGE},
	 true},
	{"array: async, second op waits for a point no op signals", -EINVAL, ASYNC, VM_A, 0,
	 {UNMAP, NO_BO, 0, MAP_VA, PAGE}, true, 1, {WAIT_TL, SYNC_TIMELINE, 2}},
	{"array: async, second op signals the first op's point again", -EINVAL, ASYNC, VM_A, 0,
	 {UNMAP, NO_BO, 0, MAP_VA, PAGE}, true, 1, {SIGNAL | WAIT_TL, SYNC_TIMELINE, 2},
	 .first_signals_tl = true},
	{"array: sync, second op past the user range", -EINVAL, 0, VM_A, 0,
	 {MAP, BO_MAIN, 0, 1ull << 47, PAGE}, true},
	{"array: async, second op past the user range", -EINVAL, ASYNC, VM_A, 0,
	 {MAP, BO_MAIN, 0, 1ull << 47, PAGE}, true},
	{"array: V2 stride, bad second op", -EINVAL, 0, VM_A, V2, {REPEAT, BO_MAIN, 0, FREE_VA,
	 3 * PAGE, 2 * PAGE}, true},
};
/* clang-format on */

/* A row, resolved: the op array and the sync array in caller memory. */
struct bind_call {
	unsigned char ops[2 * 64];
	unsigned char syncs[2 * 16];
};

static uint32_t bo_handle(enum bo_ref ref)
{
	const uint32_t handles[] = { [NO_BO] = 0, [BO_MAIN] = 1, [BO_EXCL] = 2, [BO_UNKNOWN] = 7 };

	return handles[ref];
}

/* Fill one op in @slot (a zeroed stride); @syncs become its sync array. */
static void put_op(unsigned char *slot, uint32_t stride, const struct op_desc *d, const void *syncs,
		   uint32_t nr_syncs, uint32_t sync_stride)
{
	struct gpuvm_vm_bind_op_repeat op = {
		.flags = d->flags,
		.bo_handle = bo_handle(d->bo),
		.bo_offset = d->offset,
		.va = d->va,
		.size = d->size,
		.syncs = { .stride = sync_stride, .count = nr_syncs, .array = (uintptr_t)syncs },
		.bo_repeat_range = d->repeat,
	};

	memcpy(slot, &op, stride < sizeof(op) ? stride : sizeof(op));
}

static int call_bind_row(const void *p)
{
	const struct bind_row *row = p;
	const uint32_t vms[] = { [VM_A] = 1, [VM_B] = 2, [VM_UNKNOWN] = 7 };
	uint32_t stride = row->stride ? row->stride : sizeof(struct drm_panthor_vm_bind_op);
	uint32_t sync_stride = row->sync_stride ? row->sync_stride : 16;
	/* The valid first op: an async one signals the empty syncobj. */
	struct op_desc first = { MAP, BO_MAIN, 0, FREE_VA + PAGE, PAGE };
	struct drm_panthor_sync_op first_sync = { .flags = SIGNAL, .handle = SYNC_EMPTY };
	struct drm_panthor_sync_op first_tl = { .flags = SIGNAL | WAIT_TL,
						.handle = SYNC_TIMELINE,
						.timeline_value = 2 };
	struct drm_panthor_sync_op sync = { .flags = row->sync.flags,
					    .handle = row->sync.obj,
					    .timeline_value = row->sync.value };
	static struct bind_call c;
	unsigned int n = 0;

	memset(&c, 0, sizeof(c));
	memcpy(c.syncs, &sync, sizeof(sync));
	if (row->after_valid)
		put_op(c.ops, stride, &first, row->first_signals_tl ? &first_tl : &first_sync,
		       row->flags & ASYNC ? 1 : 0, 16);
	n = row->after_valid;
	put_op(c.ops + n * stride, stride, &row->op, c.syncs, row->nr_syncs, sync_stride);
	if (row->dirty_tail)
		c.ops[(n + 1) * stride - 1] = 1;
	return dt_bind(w.fd, vms[row->vm], row->flags, row->bad_array ? (void *)BAD_PTR : c.ops,
		       stride, n + 1);
}

static void test_bind_rules(void **state)
{
	unsigned int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bind_rows) / sizeof(bind_rows[0]); i++)
		failed += !rule_holds(bind_rows[i].rule, bind_rows[i].err, call_bind_row,
				      &bind_rows[i]);
	assert_int_equal(failed, 0);
}

/* Valid input: each ioctl does what it says. */

static void test_world(void **state)
{
	(void)state;
	/* Ids and handles are the lowest free ones, per file, from 1. */
	assert_int_equal(w.vm_a, 1);
	assert_int_equal(w.vm_b, 2);
	assert_int_equal(w.bo, 1);
	assert_int_equal(w.bo_excl, 2);
	assert_int_equal(w.bo_nommap, 3);
	assert_int_equal(w.s_signaled, 1);
	assert_int_equal(w.s_empty, 2);
	assert_int_equal(w.s_tl, 3);
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, MAP_VA + 5 * PAGE), dt_page_tag(w.bo, 5));
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_b, (64 << 10) + PAGE), dt_page_tag(w.bo_excl, 1));
}

static void test_dev_query(void **state)
{
	const uint32_t sizes[] = { 112, 24, 56, 4 };
	struct drm_panthor_gpu_info info;

	(void)state;
	for (uint32_t type = 0; type < 4; type++) {
		struct drm_panthor_dev_query q = { .type = type };

		assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q), 0);
		assert_int_equal(q.size, sizes[type]);
	}
	struct drm_panthor_dev_query q = { .type = DRM_PANTHOR_DEV_QUERY_GPU_INFO,
					   .size = sizeof(info),
					   .pointer = (uintptr_t)&info };
	assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q), 0);
	assert_int_equal(info.gpu_id >> 16, 0xa867); /* Mali-G610 (mali.md section 3) */
	assert_int_equal(info.mmu_features & 0xff, 48);
}

static void test_vm_create_destroy(void **state)
{
	struct drm_panthor_vm_create big = { .user_va_range = 1ull << 48 };
	struct drm_panthor_vm_destroy d;

	(void)state;
	assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_VM_CREATE, &big), 0);
	assert_int_equal(big.id, 3);
	/* Clamped so the kernel keeps its part of the VA space, and written back. */
	assert_true(big.user_va_range < 1ull << 48);
	assert_int_equal(vm_state(3), DRM_PANTHOR_VM_STATE_USABLE);
	d = (struct drm_panthor_vm_destroy){ .id = 3 };
	assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &d), 0);
	assert_int_equal(vm_state(3), -EINVAL);
	/* The lowest free id again. */
	assert_int_equal(dt_vm_create(w.fd, 0), 3);
}

static void test_bo_create_mmap(void **state)
{
	struct drm_panthor_bo_create c = { .size = 1 };
	struct drm_panthor_bo_mmap_offset m;
	void *cpu;

	(void)state;
	assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_BO_CREATE, &c), 0);
	assert_int_equal(c.size, PAGE); /* rounded up and written back */
	assert_int_equal(c.handle, 4);
	m = (struct drm_panthor_bo_mmap_offset){ .handle = c.handle };
	assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &m), 0);
	assert_true(m.offset >= 1ull << 32 && !(m.offset & (PAGE - 1)));
	cpu = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, w.fd, (off_t)m.offset);
	assert_true(cpu != MAP_FAILED);
	munmap(cpu, PAGE);
	/* NO_MMAP: the offset exists, the mmap is refused. */
	m = (struct drm_panthor_bo_mmap_offset){ .handle = w.bo_nommap };
	assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &m), 0);
	errno = 0;
	assert_true(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, w.fd, (off_t)m.offset) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	/* GEM_CLOSE frees the handle; the next BO gets it back. */
	assert_int_equal(dt_ioctl(w.fd, DRM_IOCTL_GEM_CLOSE,
				  &(struct drm_gem_close){ .handle = c.handle }),
			 0);
	assert_int_equal(bo_offset(c.handle), -ENOENT);
	assert_int_equal(dt_bo_create(w.fd, PAGE, 0, 0), c.handle);
}

static void test_bind_map_unmap(void **state)
{
	struct drm_panthor_vm_bind_op unmap = { .flags = UNMAP,
						.va = MAP_VA + PAGE,
						.size = 2 * PAGE };

	(void)state;
	dt_map(w.fd, w.vm_a, w.bo, 10 * PAGE, FREE_VA, 3 * PAGE);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, FREE_VA + i * PAGE),
				 dt_page_tag(w.bo, 10 + i));
	assert_int_equal(dt_bind(w.fd, w.vm_a, 0, &unmap, sizeof(unmap), 1), 0);
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, MAP_VA), dt_page_tag(w.bo, 0));
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, MAP_VA + PAGE) & FAULTED, FAULTED);
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, MAP_VA + 3 * PAGE), dt_page_tag(w.bo, 3));
	/* Nothing mapped there: still a success. */
	unmap.va = 1ull << 40;
	assert_int_equal(dt_bind(w.fd, w.vm_a, 0, &unmap, sizeof(unmap), 1), 0);
}

static void test_bind_sparse_repeat(void **state)
{
	struct gpuvm_vm_bind_op_repeat ops[2] = {
		{ .flags = SPARSE | NOEXEC, .va = FREE_VA, .size = 4 * PAGE },
		{ .flags = REPEAT,
		  .bo_handle = w.bo,
		  .bo_offset = 2 * PAGE,
		  .va = 2 * FREE_VA,
		  .size = 6 * PAGE,
		  .bo_repeat_range = 2 * PAGE },
	};

	struct {
		struct gpuvm_vm_bind_op_repeat op;
		uint64_t tail; /* zero: a longer op, as from a newer header */
	} wide[2] = {
		{ .op = { .flags = REPEAT,
			  .bo_handle = w.bo,
			  .va = 3 * FREE_VA,
			  .size = 2 * PAGE,
			  .bo_repeat_range = PAGE } },
		{ .op = { .bo_handle = w.bo, .bo_offset = PAGE, .va = 4 * FREE_VA, .size = PAGE } }
	};

	(void)state;
	assert_int_equal(dt_bind(w.fd, w.vm_a, 0, ops, sizeof(ops[0]), 2), 0);
	/* Stride 64, zero tail: a repeat op and a standard op both apply. */
	assert_int_equal(dt_bind(w.fd, w.vm_a, 0, wide, sizeof(wide[0]), 2), 0);
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, 3 * FREE_VA + PAGE), dt_page_tag(w.bo, 0));
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, 4 * FREE_VA), dt_page_tag(w.bo, 1));
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, FREE_VA + i * PAGE) & FAULTED, 0);
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, 2 * FREE_VA + i * PAGE),
				 dt_page_tag(w.bo, 2 + i % 2));
}

static void wait_signaled(uint32_t handle)
{
	assert_int_equal(drmSyncobjWait(w.fd, &handle, 1, INT64_MAX, 0, NULL), 0);
}

static void test_bind_async(void **state)
{
	struct drm_panthor_sync_op sig = { .flags = SIGNAL, .handle = w.s_empty };
	struct drm_panthor_sync_op waits[2] = {
		{ .flags = WAIT_BIN, .handle = w.s_signaled },
		{ .flags = WAIT_TL | SIGNAL, .handle = w.s_tl, .timeline_value = 2 },
	};
	struct drm_panthor_vm_bind_op ops[2] = {
		{ .bo_handle = w.bo,
		  .va = FREE_VA,
		  .size = PAGE,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(1, &sig) },
		{ .flags = SYNC_ONLY, .syncs = DRM_PANTHOR_OBJ_ARRAY(2, waits) },
	};
	uint64_t point;

	(void)state;
	assert_int_equal(dt_bind(w.fd, w.vm_a, ASYNC, ops, sizeof(ops[0]), 2), 0);
	wait_signaled(w.s_empty);
	assert_int_equal(dt_gpu_probe(w.fd, w.vm_a, FREE_VA), dt_page_tag(w.bo, 0));
	assert_int_equal(
		drmSyncobjTimelineWait(w.fd, &w.s_tl, (uint64_t[]){ 2 }, 1, INT64_MAX, 0, NULL), 0);
	assert_int_equal(drmSyncobjQuery(w.fd, &w.s_tl, &point, 1), 0);
	assert_int_equal(point, 2);
}

static void test_mock_fences(void **state)
{
	struct gpuvm_mock_fence_attach at = { .handle = w.s_empty };
	struct gpuvm_mock_fence_signal sig;

	(void)state;
	assert_int_equal(dt_ioctl(w.fd, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &at), 0);
	assert_int_equal(sync_status(w.s_empty), -ETIME);
	sig = (struct gpuvm_mock_fence_signal){ .fence_id = at.fence_id };
	assert_int_equal(dt_ioctl(w.fd, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &sig), 0);
	assert_int_equal(sync_status(w.s_empty), 0);
	/* Signaled once: the id is gone. */
	assert_int_equal(dt_ioctl(w.fd, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &sig), -ENOENT);
}

#define WORLD_TEST(fn) cmocka_unit_test_setup_teardown(fn, world_setup, world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_world),
		WORLD_TEST(test_dev_query),
		WORLD_TEST(test_vm_create_destroy),
		WORLD_TEST(test_bo_create_mmap),
		WORLD_TEST(test_bind_map_unmap),
		WORLD_TEST(test_bind_sparse_repeat),
		WORLD_TEST(test_bind_async),
		WORLD_TEST(test_mock_fences),
		WORLD_TEST(test_ioctl_rules),
		WORLD_TEST(test_bind_rules),
	};

	/* A row refers to fd 0 as "an fd that is not a dma-buf". */
	if (fcntl(0, F_GETFD) < 0 && open("/dev/null", O_RDONLY) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
