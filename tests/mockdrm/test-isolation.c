// SPDX-License-Identifier: MIT
/*
 * test-isolation: what one open file of the device may reach of another's.
 *
 * mmap offsets: the kernel lets a file mmap a BO only through a handle it
 * holds (drm_gem_mmap() looks the offset up and then checks that the calling
 * file was granted the object: drm_vma_node_is_allowed()). The fake offsets
 * come from one device-wide space, so a lookup that searched every file's BOs
 * instead of the caller's would hand file B the memory of file A's BO. Here
 * two files of one device, through the public API only (mockdrm_ioctl() and
 * mockdrm_mmap_lookup(), what the shim's mmap calls):
 *
 * - B cannot look up any part of A's BO offsets, even holding BOs of its own
 *   (whose offsets it can map), and A cannot look up B's;
 * - after a PRIME import B holds a handle, gets the same offset and may map
 *   it; after B's GEM_CLOSE it cannot any more, while A still can;
 * - after GEM_CLOSE of the last handle a file cannot map the offset, even
 *   while the BO lives on (a VM mapping, another file's handle), and a stale
 *   offset never reaches a BO created later (offsets are never reused).
 *
 * A refused lookup returns -EINVAL and leaves its outputs alone.
 *
 * Handles, ids and syncobjs (test_cross_file): B names each of A's objects
 * in every ioctl that takes one (one row each). B holds objects of every kind
 * too, so that its tables are not empty, but never under the number it uses:
 * a lookup in the wrong file's table would find A's object, a lookup in the
 * right one finds nothing. After each refused call A's objects are checked by
 * their effects: BO bytes (CPU and GPU), label, handle and offset, the VM's
 * translations and state, the group's state, each syncobj's state, the tiler
 * heap's mapping; and B gained nothing (no mapping, no group).
 *
 * Read-only and no-execute mappings (test_readonly, test_noexec): what the
 * GPU may not do there faults with a permission fault and changes nothing.
 *
 * Kernel-reserved VA (test_kernel_va): [user_va_range, 2^48) belongs to the
 * kernel (panthor maps rings, heap contexts and chunks there); VM_BIND refuses
 * any op that reaches into it (-EINVAL, checked for every op at ioctl time),
 * and the kernel's mappings there survive.
 *
 * Exclusive BOs (test_exclusive): a BO created private to a VM cannot be
 * exported, nor mapped in any other VM, even one that reuses its VM's id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>

#include "group-args.h"
#include "mock-test.h"
#include "mock_sync.h" /* MOCK_DRM_IOCTL_SYNCOBJ_EVENTFD */

#define BO_PAGES 4
#define BO_SIZE (BO_PAGES * MT_PAGE)
#define UNTOUCHED_FD (-77)
#define UNTOUCHED_OFF 0x5a5a5a5aull

/** struct two_files - a device with a VM in A and a second open file B. */
struct two_files {
	struct mt_dev a;
	struct mockdrm_file *b;
};

static void open_two(struct two_files *t)
{
	mt_open(&t->a, NULL);
	CHECK_ERR("open B", mockdrm_open(t->a.dev, MOCKDRM_NODE_RENDER, &t->b), 0);
}

static void close_two(struct two_files *t)
{
	mockdrm_close(t->b);
	mt_close(&t->a);
}

static uint64_t mmap_offset(struct mockdrm_file *f, uint32_t handle)
{
	struct drm_panthor_bo_mmap_offset o = { .handle = handle };

	CHECK_ERR("BO_MMAP_OFFSET", mockdrm_ioctl(f, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &o), 0);
	return o.offset;
}

/* A BO of BO_SIZE in @f, without a CPU mapping: its handle. */
static uint32_t bo_create(struct mockdrm_file *f)
{
	struct drm_panthor_bo_create c = { .size = BO_SIZE };

	CHECK_ERR("BO_CREATE", mockdrm_ioctl(f, DRM_IOCTL_PANTHOR_BO_CREATE, &c), 0);
	return c.handle;
}

static void gem_close(struct mockdrm_file *f, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	CHECK_ERR("GEM_CLOSE", mockdrm_ioctl(f, DRM_IOCTL_GEM_CLOSE, &c), 0);
}

/* Every sub-range of the BO at @offset (whole, first/last page, one byte) is refused to @f. */
static void expect_refused(struct mockdrm_file *f, uint64_t offset, const char *ctx)
{
	static const struct {
		uint64_t at, len;
	} parts[] = { { 0, BO_SIZE },
		      { 0, MT_PAGE },
		      { BO_SIZE - MT_PAGE, MT_PAGE },
		      { MT_PAGE, 2 * MT_PAGE },
		      { BO_SIZE - 1, 1 } };
	char msg[160];

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		int fd = UNTOUCHED_FD;
		uint64_t fd_offset = UNTOUCHED_OFF;

		snprintf(msg, sizeof(msg), "%s: lookup of [+0x%llx, +0x%llx)", ctx,
			 (unsigned long long)parts[i].at,
			 (unsigned long long)(parts[i].at + parts[i].len));
		CHECK_ERR(msg,
			  mockdrm_mmap_lookup(f, offset + parts[i].at, parts[i].len, &fd,
					      &fd_offset),
			  -EINVAL);
		CHECK_EQ(msg, fd, UNTOUCHED_FD);
		CHECK_EQ(msg, fd_offset, UNTOUCHED_OFF);
	}
}

/*
 * @f may map the BO at @offset, and the mapping shows @cpu's bytes (the BO as
 * its creator maps it): the same memory, not merely a successful lookup.
 */
static void expect_maps(struct mockdrm_file *f, uint64_t offset, const uint8_t *cpu,
			const char *ctx)
{
	uint64_t fd_offset;
	uint8_t *map;
	int fd;

	CHECK_ERR(ctx, mockdrm_mmap_lookup(f, offset, BO_SIZE, &fd, &fd_offset), 0);
	map = mmap(NULL, BO_SIZE, PROT_READ, MAP_SHARED, fd, (off_t)fd_offset);
	if (map == MAP_FAILED)
		fail_msg("%s: mmap: %s", ctx, strerror(errno));
	if (memcmp(map, cpu, BO_SIZE))
		fail_msg("%s: the mapping does not show the BO's bytes", ctx);
	munmap(map, BO_SIZE);
}

/* B cannot reach A's offsets, with or without BOs of its own; nor A B's. */
static void test_other_file_offsets(void **state)
{
	struct two_files t;
	struct mt_bo a_bo, a_bo2;
	uint64_t a_off, a_off2, b_off;
	uint32_t b_bo;

	(void)state;
	open_two(&t);
	mt_bo_create(&t.a, BO_SIZE, 1, &a_bo);
	a_off = mmap_offset(t.a.file, a_bo.handle);
	expect_refused(t.b, a_off, "B without BOs, A's offset");

	/* B's own BO gets handle 1 too: handles are per file, offsets are not. */
	b_bo = bo_create(t.b);
	CHECK_EQ("B's first handle", b_bo, a_bo.handle);
	b_off = mmap_offset(t.b, b_bo);
	if (b_off < a_off + BO_SIZE && a_off < b_off + BO_SIZE)
		fail_msg("offsets of two BOs overlap");
	mt_bo_create(&t.a, BO_SIZE, 2, &a_bo2);
	a_off2 = mmap_offset(t.a.file, a_bo2.handle);
	expect_refused(t.b, a_off, "B with a BO, A's first offset");
	expect_refused(t.b, a_off2, "B with a BO, A's second offset");
	expect_refused(t.a.file, b_off, "A, B's offset");

	expect_maps(t.a.file, a_off, a_bo.cpu, "A maps its first BO");
	expect_maps(t.a.file, a_off2, a_bo2.cpu, "A maps its second BO");
	{
		uint64_t fd_offset;
		int fd;

		CHECK_ERR("B maps its BO",
			  mockdrm_mmap_lookup(t.b, b_off, BO_SIZE, &fd, &fd_offset), 0);
	}
	mt_bo_destroy(&t.a, &a_bo);
	mt_bo_destroy(&t.a, &a_bo2);
	gem_close(t.b, b_bo);
	close_two(&t);
}

/* B holds a handle from a PRIME import: the same offset maps; after GEM_CLOSE it does not. */
static void test_prime_import(void **state)
{
	struct drm_prime_handle exp = { .flags = DRM_CLOEXEC | DRM_RDWR }, imp = { 0 };
	struct two_files t;
	struct mt_bo a_bo;
	uint64_t a_off;

	(void)state;
	open_two(&t);
	mt_bo_create(&t.a, BO_SIZE, 3, &a_bo);
	a_off = mmap_offset(t.a.file, a_bo.handle);
	expect_refused(t.b, a_off, "before the import");

	exp.handle = a_bo.handle;
	CHECK_ERR("export", mockdrm_ioctl(t.a.file, DRM_IOCTL_PRIME_HANDLE_TO_FD, &exp), 0);
	imp.fd = exp.fd;
	CHECK_ERR("import", mockdrm_ioctl(t.b, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp), 0);
	close(exp.fd);
	CHECK_EQ("B's offset of the imported BO", mmap_offset(t.b, imp.handle), a_off);
	expect_maps(t.b, a_off, a_bo.cpu, "B maps the imported BO");

	gem_close(t.b, imp.handle);
	expect_refused(t.b, a_off, "B after closing its import");
	expect_maps(t.a.file, a_off, a_bo.cpu, "A still maps its BO");
	mt_bo_destroy(&t.a, &a_bo);
	close_two(&t);
}

/* After GEM_CLOSE the offset is refused, whether or not the BO lives on. */
static void test_after_gem_close(void **state)
{
	struct drm_prime_handle exp = { .flags = DRM_CLOEXEC | DRM_RDWR }, imp = { 0 };
	struct two_files t;
	struct mt_bo bo;
	uint64_t off, off2;
	uint32_t vm, h, h2;

	(void)state;
	open_two(&t);

	/* The BO is freed with its last handle. */
	h = bo_create(t.a.file);
	off = mmap_offset(t.a.file, h);
	gem_close(t.a.file, h);
	expect_refused(t.a.file, off, "A after GEM_CLOSE of a BO it alone held");

	/* The BO lives on in a VM mapping. */
	vm = mt_vm_create(&t.a);
	mt_bo_create(&t.a, BO_SIZE, 4, &bo);
	off = mmap_offset(t.a.file, bo.handle);
	{
		struct gpuvm_vm_bind_op_repeat op = mt_op_map(&bo, 0, 16 * MiB, BO_SIZE, 0);

		CHECK_ERR("map", mt_bind(&t.a, vm, 0, &op, 1), 0);
	}
	mt_bo_destroy(&t.a, &bo);
	expect_refused(t.a.file, off, "A after GEM_CLOSE of a BO a VA still maps");

	/* The BO lives on in another file's handle. */
	h = bo_create(t.a.file);
	off = mmap_offset(t.a.file, h);
	exp.handle = h;
	CHECK_ERR("export", mockdrm_ioctl(t.a.file, DRM_IOCTL_PRIME_HANDLE_TO_FD, &exp), 0);
	imp.fd = exp.fd;
	CHECK_ERR("import", mockdrm_ioctl(t.b, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp), 0);
	close(exp.fd);
	CHECK_EQ("B's offset", mmap_offset(t.b, imp.handle), off);
	gem_close(t.a.file, h);
	expect_refused(t.a.file, off, "A after GEM_CLOSE of a BO B still holds");
	{
		uint64_t fd_offset;
		int fd;

		CHECK_ERR("B still maps it",
			  mockdrm_mmap_lookup(t.b, off, BO_SIZE, &fd, &fd_offset), 0);
	}

	/* A new BO (in the handle just freed) never answers to a stale offset. */
	h2 = bo_create(t.a.file);
	CHECK_EQ("handle reused", h2, h);
	off2 = mmap_offset(t.a.file, h2);
	if (off2 == off)
		fail_msg("a new BO got the offset of a closed one");
	expect_refused(t.a.file, off, "A's stale offset with a new BO in its handle");
	gem_close(t.a.file, h2);
	gem_close(t.b, imp.handle);
	close_two(&t);
}

/* Cross-file handles, ids, groups, syncobjs, heaps */

#define VA_A (16 * MiB)    /* A's BO in A's VM */
#define VA_HOLE (32 * MiB) /* nothing mapped there, in A's VM and in B's */
#define A_LABEL "owner"
#define B_LABEL "intruder"
#define A_TAG 10
#define TIMELINE_POINT 5

/*
 * A device with two files. Each of A's objects that B aims at is A's second
 * of its kind; B has one of each kind, under number 1.
 */
struct world {
	struct mt_dev a, b; /* one device; b.file is B */
	struct mt_bo spare_bo, bo;
	uint64_t bo_offset;
	uint32_t vm, group;
	uint32_t unsignaled, signaled, timeline; /* A's syncobjs 2, 3, 4 */
	uint32_t heap;
	uint64_t heap_ctx_va, heap_chunk_va;
	uint32_t b_vm, b_group, b_syncobj; /* B's: 1, 1, 1 (signaled) */
	struct mt_bo b_bo;
};

static void ioctl_ok(struct mockdrm_file *f, unsigned long request, void *arg, const char *what)
{
	CHECK_ERR(what, mockdrm_ioctl(f, request, arg), 0);
}

static uint32_t vm_create(struct mockdrm_file *f, uint64_t user_va_range)
{
	struct drm_panthor_vm_create c = { .user_va_range = user_va_range };

	ioctl_ok(f, DRM_IOCTL_PANTHOR_VM_CREATE, &c, "VM_CREATE");
	return c.id;
}

/* igt's group (group-args.h): one queue, a 4 KiB ring. */
static const struct drm_panthor_queue_create one_queue = { .ringbuf_size = 4096 };

static uint32_t group_create(struct mockdrm_file *f, uint32_t vm)
{
	struct drm_panthor_group_create g = ga_group(&one_queue, vm);

	ioctl_ok(f, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g, "GROUP_CREATE");
	return g.group_handle;
}

static uint32_t group_state(struct mockdrm_file *f, uint32_t group)
{
	struct drm_panthor_group_get_state st = { .group_handle = group };

	ioctl_ok(f, DRM_IOCTL_PANTHOR_GROUP_GET_STATE, &st, "GROUP_GET_STATE");
	return st.state;
}

static uint32_t syncobj_create(struct mockdrm_file *f, uint32_t flags)
{
	struct drm_syncobj_create c = { .flags = flags };

	ioctl_ok(f, DRM_IOCTL_SYNCOBJ_CREATE, &c, "SYNCOBJ_CREATE");
	return c.handle;
}

/* SYNCOBJ_WAIT on one binary syncobj without waiting: 0 signaled, -ETIME not. */
static int syncobj_poll(struct mockdrm_file *f, uint32_t handle)
{
	struct drm_syncobj_wait w = { .handles = (uintptr_t)&handle,
				      .count_handles = 1,
				      .flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT };

	return mockdrm_ioctl(f, DRM_IOCTL_SYNCOBJ_WAIT, &w);
}

static uint64_t syncobj_point(struct mockdrm_file *f, uint32_t handle)
{
	uint64_t point = 0;
	struct drm_syncobj_timeline_array q = { .handles = (uintptr_t)&handle,
						.points = (uintptr_t)&point,
						.count_handles = 1 };

	ioctl_ok(f, DRM_IOCTL_SYNCOBJ_QUERY, &q, "SYNCOBJ_QUERY");
	return point;
}

static void syncobj_signal_point(struct mockdrm_file *f, uint32_t handle, uint64_t point)
{
	struct drm_syncobj_timeline_array a = { .handles = (uintptr_t)&handle,
						.points = (uintptr_t)&point,
						.count_handles = 1 };

	ioctl_ok(f, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &a, "SYNCOBJ_TIMELINE_SIGNAL");
}

static void set_label(struct mockdrm_file *f, uint32_t handle, const char *label)
{
	struct drm_panthor_bo_set_label l = { .handle = handle, .label = (uintptr_t)label };

	ioctl_ok(f, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &l, "BO_SET_LABEL");
}

static struct drm_panthor_tiler_heap_create heap_args(uint32_t vm)
{
	return (struct drm_panthor_tiler_heap_create){ .vm_id = vm,
						       .initial_chunk_count = 1,
						       .chunk_size = 128 * KiB,
						       .max_chunks = 4,
						       .target_in_flight = 1 };
}

static void a_setup(struct world *w)
{
	struct drm_panthor_tiler_heap_create h;
	struct gpuvm_vm_bind_op_repeat op;
	struct mockdrm_file *a = w->a.file;
	uint32_t spare_vm = vm_create(a, 0);

	mt_bo_create(&w->a, BO_SIZE, A_TAG - 1, &w->spare_bo);
	mt_bo_create(&w->a, BO_SIZE, A_TAG, &w->bo);
	w->bo_offset = mmap_offset(a, w->bo.handle);
	set_label(a, w->bo.handle, A_LABEL);
	w->vm = vm_create(a, 0);
	op = mt_op_map(&w->bo, 0, VA_A, BO_SIZE, 0);
	CHECK_ERR("A maps its BO", mt_bind(&w->a, w->vm, 0, &op, 1), 0);
	/* The groups on the spare VM: the checks' faults in w->vm would stop them. */
	group_create(a, spare_vm);
	w->group = group_create(a, spare_vm);
	syncobj_create(a, 0);
	w->unsignaled = syncobj_create(a, 0);
	w->signaled = syncobj_create(a, DRM_SYNCOBJ_CREATE_SIGNALED);
	w->timeline = syncobj_create(a, 0);
	syncobj_signal_point(a, w->timeline, TIMELINE_POINT);
	h = heap_args(w->vm);
	ioctl_ok(a, DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, &h, "TILER_HEAP_CREATE");
	w->heap = h.handle;
	w->heap_ctx_va = h.tiler_heap_ctx_gpu_va;
	w->heap_chunk_va = h.first_heap_chunk_gpu_va;
	CHECK_EQ("A's target BO handle", w->bo.handle, 2);
	CHECK_EQ("A's target VM id", w->vm, 2);
	CHECK_EQ("A's target group", w->group, 2);
	CHECK_EQ("A's target syncobj", w->unsignaled, 2);
}

static void world_setup(struct world *w)
{
	struct mockdrm_file *b;
	struct drm_panthor_tiler_heap_create h;

	memset(w, 0, sizeof(*w));
	mt_open(&w->a, NULL);
	w->b.dev = w->a.dev;
	CHECK_ERR("open B", mockdrm_open(w->a.dev, MOCKDRM_NODE_RENDER, &w->b.file), 0);
	b = w->b.file;
	a_setup(w);
	mt_bo_create(&w->b, BO_SIZE, A_TAG + 1, &w->b_bo);
	set_label(b, w->b_bo.handle, B_LABEL);
	w->b_vm = vm_create(b, 0);
	w->b_group = group_create(b, w->b_vm);
	w->b_syncobj = syncobj_create(b, DRM_SYNCOBJ_CREATE_SIGNALED);
	h = heap_args(w->b_vm);
	ioctl_ok(b, DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, &h, "B's TILER_HEAP_CREATE");
	CHECK_EQ("B's BO handle", w->b_bo.handle, 1);
	CHECK_EQ("B's VM id", w->b_vm, 1);
	CHECK_EQ("B's group", w->b_group, 1);
	CHECK_EQ("B's syncobj", w->b_syncobj, 1);
}

static void world_teardown(struct world *w)
{
	struct drm_panthor_tiler_heap_destroy d = { .handle = w->heap };

	/* A's heap is still A's to destroy. */
	ioctl_ok(w->a.file, DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, &d, "A destroys its heap");
	mt_bo_destroy(&w->b, &w->b_bo);
	mockdrm_close(w->b.file);
	mt_bo_destroy(&w->a, &w->spare_bo);
	mt_bo_destroy(&w->a, &w->bo);
	mt_close(&w->a);
}

/* Does the device's dump show the label @label? */
static bool dump_shows(struct mockdrm_dev *dev, const char *label)
{
	char want[64], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	bool found;

	assert_non_null(out);
	mockdrm_dump(dev, out);
	fclose(out);
	snprintf(want, sizeof(want), " label \"%s\"", label);
	found = strstr(text, want) != NULL;
	free(text);
	return found;
}

/* A's BO: its handle, offset, bytes (through the CPU and A's VM) and label. */
static void expect_a_bo(struct world *w, const char *ctx)
{
	uint8_t *want = malloc(BO_SIZE);
	char msg[160];

	assert_non_null(want);
	for (uint64_t p = 0; p < BO_PAGES; p++)
		mt_page_pattern(A_TAG, p, want + p * MT_PAGE);
	snprintf(msg, sizeof(msg), "%s: A's BO", ctx);
	CHECK_EQ(msg, mmap_offset(w->a.file, w->bo.handle), w->bo_offset);
	if (memcmp(w->bo.cpu, want, BO_SIZE))
		fail_msg("%s: A's BO bytes changed", ctx);
	mt_expect_bytes(&w->a, w->vm, VA_A, want, BO_SIZE, msg);
	free(want);
	if (!dump_shows(w->a.dev, A_LABEL) || !dump_shows(w->a.dev, B_LABEL))
		fail_msg("%s: a BO label changed", ctx);
}

/* A's syncobjs: 2 unsignaled, 3 signaled, 4 at TIMELINE_POINT. */
static void expect_a_syncobjs(struct world *w, const char *ctx)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: A's unsignaled syncobj", ctx);
	CHECK_ERR(msg, syncobj_poll(w->a.file, w->unsignaled), -ETIME);
	snprintf(msg, sizeof(msg), "%s: A's signaled syncobj", ctx);
	CHECK_ERR(msg, syncobj_poll(w->a.file, w->signaled), 0);
	snprintf(msg, sizeof(msg), "%s: A's timeline point", ctx);
	CHECK_EQ(msg, syncobj_point(w->a.file, w->timeline), TIMELINE_POINT);
	snprintf(msg, sizeof(msg), "%s: B's syncobj", ctx);
	CHECK_ERR(msg, syncobj_poll(w->b.file, w->b_syncobj), 0);
}

/* Everything of A's as set up, and B holding nothing more than before. */
static void expect_intact(struct world *w, const char *ctx)
{
	struct drm_panthor_group_get_state gs = { .group_handle = w->b_group + 1 };
	uint8_t ctx_bytes[32];
	struct mt_access r;
	char msg[160];

	expect_a_bo(w, ctx);
	snprintf(msg, sizeof(msg), "%s: A's VM", ctx);
	CHECK_EQ(msg, mt_vm_state(&w->a, w->vm), DRM_PANTHOR_VM_STATE_USABLE);
	mt_expect_unmapped(&w->a, w->vm, VA_HOLE, MT_PAGE, msg);
	snprintf(msg, sizeof(msg), "%s: A's group", ctx);
	CHECK_EQ(msg, group_state(w->a.file, w->group), 0);
	expect_a_syncobjs(w, ctx);
	snprintf(msg, sizeof(msg), "%s: A's heap context", ctx);
	CHECK_ERR(msg, mt_gpu_read(&w->a, w->vm, w->heap_ctx_va, ctx_bytes, 32, &r), 0);
	CHECK_STATUS(msg, r.status, 0);
	snprintf(msg, sizeof(msg), "%s: B's VM", ctx);
	mt_expect_unmapped(&w->b, w->b_vm, VA_HOLE, MT_PAGE, msg);
	snprintf(msg, sizeof(msg), "%s: B's groups", ctx);
	CHECK_ERR(msg, mockdrm_ioctl(w->b.file, DRM_IOCTL_PANTHOR_GROUP_GET_STATE, &gs), -EINVAL);
}

/* B's calls naming A's objects. Each returns the ioctl's result. */

static int b_ioctl(struct world *w, unsigned long request, void *arg)
{
	return mockdrm_ioctl(w->b.file, request, arg);
}

static int b_mmap_offset(struct world *w)
{
	struct drm_panthor_bo_mmap_offset o = { .handle = w->bo.handle, .offset = UNTOUCHED_OFF };
	int err = b_ioctl(w, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &o);

	CHECK_EQ("BO_MMAP_OFFSET's output", o.offset, UNTOUCHED_OFF);
	return err;
}

static int b_bind_a_bo(struct world *w)
{
	struct gpuvm_vm_bind_op_repeat op = mt_op_map(&w->bo, 0, VA_HOLE, MT_PAGE, 0);

	return mt_bind(&w->b, w->b_vm, 0, &op, 1);
}

static int b_set_label(struct world *w)
{
	struct drm_panthor_bo_set_label l = { .handle = w->bo.handle,
					      .label = (uintptr_t)B_LABEL "2" };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &l);
}

static int b_query_info(struct world *w)
{
	struct drm_panthor_bo_query_info q = { .handle = w->bo.handle };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q);
}

static int b_bo_sync(struct world *w)
{
	struct drm_panthor_bo_sync_op ops[] = { { .handle = w->b_bo.handle, .size = MT_PAGE },
						{ .handle = w->bo.handle, .size = MT_PAGE } };
	struct drm_panthor_bo_sync s = { .ops = DRM_PANTHOR_OBJ_ARRAY(2, ops) };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_BO_SYNC, &s);
}

static int b_prime_export(struct world *w)
{
	struct drm_prime_handle p = { .handle = w->bo.handle,
				      .flags = DRM_CLOEXEC | DRM_RDWR,
				      .fd = UNTOUCHED_FD };
	int err = b_ioctl(w, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	CHECK_EQ("PRIME export's fd", p.fd, UNTOUCHED_FD);
	return err;
}

static int b_gem_close(struct world *w)
{
	struct drm_gem_close c = { .handle = w->bo.handle };

	return b_ioctl(w, DRM_IOCTL_GEM_CLOSE, &c);
}

static int b_bind_a_vm(struct world *w)
{
	struct gpuvm_vm_bind_op_repeat op = mt_op_map(&w->b_bo, 0, VA_HOLE, MT_PAGE, 0);

	return mt_bind(&w->b, w->vm, 0, &op, 1);
}

static int b_unbind_a_vm(struct world *w)
{
	struct gpuvm_vm_bind_op_repeat op = mt_op_unmap(VA_A, BO_SIZE);

	return mt_bind(&w->b, w->vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, 1);
}

static int b_vm_get_state(struct world *w)
{
	struct drm_panthor_vm_get_state s = { .vm_id = w->vm };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_VM_GET_STATE, &s);
}

static int b_vm_destroy(struct world *w)
{
	struct drm_panthor_vm_destroy d = { .id = w->vm };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_VM_DESTROY, &d);
}

static int b_group_create(struct world *w)
{
	struct drm_panthor_group_create g = ga_group(&one_queue, w->vm);

	return b_ioctl(w, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g);
}

static int b_heap_create(struct world *w)
{
	struct drm_panthor_tiler_heap_create h = heap_args(w->vm);

	return b_ioctl(w, DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, &h);
}

static int b_bo_create_exclusive(struct world *w)
{
	struct drm_panthor_bo_create c = { .size = BO_SIZE, .exclusive_vm_id = w->vm };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_BO_CREATE, &c);
}

static int b_gpu_read(struct world *w)
{
	uint8_t buf[64] = { 0 }, zero[64] = { 0 };
	struct mt_access r;
	int err = mt_gpu_read(&w->b, w->vm, VA_A, buf, sizeof(buf), &r);

	if (memcmp(buf, zero, sizeof(buf)))
		fail_msg("B's GPU read of A's VM filled its buffer");
	return err;
}

static int b_gpu_fill(struct world *w)
{
	struct mt_access r;

	return mt_gpu_fill(&w->b, w->vm, VA_A, 0xee, MT_PAGE, &r);
}

/* A stream that is not one: if it ran in A's VM, A's group would fault. */
static int b_submit_to(struct world *w, uint32_t group, const struct drm_panthor_sync_op *syncs,
		       uint32_t nr_syncs)
{
	struct drm_panthor_queue_submit qs = { .syncs = DRM_PANTHOR_OBJ_ARRAY(nr_syncs, syncs) };
	struct drm_panthor_group_submit gs = { .group_handle = group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(1, &qs) };

	if (group != w->b_group) {
		qs.stream_addr = VA_A;
		qs.stream_size = 64;
	}
	return b_ioctl(w, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs);
}

static int b_group_submit(struct world *w)
{
	return b_submit_to(w, w->group, NULL, 0);
}

static int b_group_get_state(struct world *w)
{
	struct drm_panthor_group_get_state st = { .group_handle = w->group };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_GROUP_GET_STATE, &st);
}

static int b_group_destroy(struct world *w)
{
	struct drm_panthor_group_destroy d = { .group_handle = w->group };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_GROUP_DESTROY, &d);
}

static int b_heap_destroy(struct world *w)
{
	struct drm_panthor_tiler_heap_destroy d = { .handle = w->heap };

	return b_ioctl(w, DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, &d);
}

/* Syncobj ioctls: B's own handle first where the ioctl takes an array, then A's. */

static int b_syncobj_destroy(struct world *w)
{
	struct drm_syncobj_destroy d = { .handle = w->signaled };

	return b_ioctl(w, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
}

static int b_syncobj_to_fd(struct world *w)
{
	struct drm_syncobj_handle h = { .handle = w->signaled, .fd = UNTOUCHED_FD };
	int err = b_ioctl(w, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);

	CHECK_EQ("SYNCOBJ_HANDLE_TO_FD's fd", h.fd, UNTOUCHED_FD);
	return err;
}

static int b_syncobj_to_sync_file(struct world *w)
{
	struct drm_syncobj_handle h = { .handle = w->signaled,
					.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
					.fd = UNTOUCHED_FD };
	int err = b_ioctl(w, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);

	CHECK_EQ("SYNCOBJ_HANDLE_TO_FD's fd", h.fd, UNTOUCHED_FD);
	return err;
}

static int b_syncobj_import_into(struct world *w)
{
	struct drm_syncobj_handle h = { .handle = w->b_syncobj,
					.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE };
	int err;

	/* A sync file of B's signaled syncobj, imported into A's unsignaled one. */
	ioctl_ok(w->b.file, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h, "export B's sync file");
	h.handle = w->unsignaled;
	h.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE;
	err = b_ioctl(w, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h);
	close(h.fd);
	return err;
}

static int b_syncobj_wait(struct world *w)
{
	uint32_t handles[] = { w->b_syncobj, w->signaled };
	struct drm_syncobj_wait a = { .handles = (uintptr_t)handles, .count_handles = 2 };

	return b_ioctl(w, DRM_IOCTL_SYNCOBJ_WAIT, &a);
}

static int b_syncobj_reset(struct world *w)
{
	uint32_t handles[] = { w->b_syncobj, w->signaled };
	struct drm_syncobj_array a = { .handles = (uintptr_t)handles, .count_handles = 2 };

	return b_ioctl(w, DRM_IOCTL_SYNCOBJ_RESET, &a);
}

static int b_syncobj_signal(struct world *w)
{
	uint32_t handles[] = { w->b_syncobj, w->unsignaled };
	struct drm_syncobj_array a = { .handles = (uintptr_t)handles, .count_handles = 2 };

	return b_ioctl(w, DRM_IOCTL_SYNCOBJ_SIGNAL, &a);
}

static int b_timeline_call(struct world *w, unsigned long request, uint64_t point)
{
	uint32_t handle = w->timeline;
	uint64_t points[] = { point };
	struct drm_syncobj_timeline_array a = { .handles = (uintptr_t)&handle,
						.points = (uintptr_t)points,
						.count_handles = 1 };
	int err = b_ioctl(w, request, &a);

	CHECK_EQ("the points array", points[0], point);
	return err;
}

static int b_syncobj_query(struct world *w)
{
	return b_timeline_call(w, DRM_IOCTL_SYNCOBJ_QUERY, 0);
}

static int b_syncobj_timeline_signal(struct world *w)
{
	return b_timeline_call(w, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, TIMELINE_POINT + 4);
}

static int b_syncobj_timeline_wait(struct world *w)
{
	uint32_t handle = w->timeline;
	uint64_t point = TIMELINE_POINT;
	struct drm_syncobj_timeline_wait a = { .handles = (uintptr_t)&handle,
					       .points = (uintptr_t)&point,
					       .count_handles = 1 };

	return b_ioctl(w, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &a);
}

static int b_syncobj_transfer_from(struct world *w)
{
	/* A's timeline point into B's syncobj: B would learn A's fence. */
	struct drm_syncobj_transfer t = { .src_handle = w->timeline,
					  .dst_handle = w->b_syncobj,
					  .src_point = TIMELINE_POINT };

	return b_ioctl(w, DRM_IOCTL_SYNCOBJ_TRANSFER, &t);
}

static int b_syncobj_transfer_to(struct world *w)
{
	struct drm_syncobj_transfer t = { .src_handle = w->b_syncobj, .dst_handle = w->unsignaled };

	return b_ioctl(w, DRM_IOCTL_SYNCOBJ_TRANSFER, &t);
}

static int b_syncobj_eventfd(struct world *w)
{
	struct mock_drm_syncobj_eventfd e = { .handle = w->unsignaled };
	int err;

	e.fd = eventfd(0, EFD_CLOEXEC);
	if (e.fd < 0)
		fail_msg("eventfd: %s", strerror(errno));
	err = b_ioctl(w, MOCK_DRM_IOCTL_SYNCOBJ_EVENTFD, &e);
	close(e.fd);
	return err;
}

/* The syncs of B's own VM_BIND and GROUP_SUBMIT naming A's syncobjs. */

static int b_bind_syncs(struct world *w, uint32_t flags, uint32_t handle)
{
	struct drm_panthor_sync_op sync = {
		.flags = flags | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ, .handle = handle
	};
	struct gpuvm_vm_bind_op_repeat op = mt_op_map(&w->b_bo, 0, VA_HOLE, MT_PAGE, 0);
	int err;

	mt_op_syncs(&op, &sync, 1);
	err = mt_bind(&w->b, w->b_vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, 1);
	if (!err) /* the job may run: wait for it, so that its signal shows */
		syncobj_poll(w->b.file, w->b_syncobj);
	return err;
}

static int b_bind_waits_a(struct world *w)
{
	return b_bind_syncs(w, DRM_PANTHOR_SYNC_OP_WAIT, w->signaled);
}

static int b_bind_signals_a(struct world *w)
{
	return b_bind_syncs(w, DRM_PANTHOR_SYNC_OP_SIGNAL, w->unsignaled);
}

static int b_submit_waits_a(struct world *w)
{
	struct drm_panthor_sync_op sync = { .flags = DRM_PANTHOR_SYNC_OP_WAIT |
						     DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ,
					    .handle = w->signaled };

	return b_submit_to(w, w->b_group, &sync, 1);
}

static int b_submit_signals_a(struct world *w)
{
	struct drm_panthor_sync_op sync = {
		.flags = DRM_PANTHOR_SYNC_OP_SIGNAL |
			 DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ,
		.handle = w->timeline,
		.timeline_value = TIMELINE_POINT + 1
	};

	return b_submit_to(w, w->b_group, &sync, 1);
}

/** struct cross_row - one call of B naming one of A's objects, and its errno. */
struct cross_row {
	const char *what;
	int (*call)(struct world *w);
	int want;
};

/* clang-format off */
static const struct cross_row cross_rows[] = {
	/* GEM handles */
	{ "BO_MMAP_OFFSET of A's handle", b_mmap_offset, -ENOENT },
	{ "VM_BIND of A's bo_handle into B's VM", b_bind_a_bo, -ENOENT },
	{ "BO_SET_LABEL of A's handle", b_set_label, -ENOENT },
	{ "BO_QUERY_INFO of A's handle", b_query_info, -ENOENT },
	{ "BO_SYNC of B's and A's handles", b_bo_sync, -ENOENT },
	{ "PRIME_HANDLE_TO_FD of A's handle", b_prime_export, -ENOENT },
	{ "GEM_CLOSE of A's handle", b_gem_close, -EINVAL },
	/* VM ids */
	{ "VM_BIND map into A's VM", b_bind_a_vm, -EINVAL },
	{ "VM_BIND async unmap of A's VM", b_unbind_a_vm, -EINVAL },
	{ "VM_GET_STATE of A's VM", b_vm_get_state, -EINVAL },
	{ "VM_DESTROY of A's VM", b_vm_destroy, -EINVAL },
	{ "GROUP_CREATE on A's VM", b_group_create, -EINVAL },
	{ "TILER_HEAP_CREATE on A's VM", b_heap_create, -EINVAL },
	{ "BO_CREATE exclusive to A's VM", b_bo_create_exclusive, -EINVAL },
	{ "MOCK_GPU_ACCESS read through A's VM", b_gpu_read, -EINVAL },
	{ "MOCK_GPU_ACCESS fill through A's VM", b_gpu_fill, -EINVAL },
	/* group handles */
	{ "GROUP_SUBMIT to A's group", b_group_submit, -EINVAL },
	{ "GROUP_GET_STATE of A's group", b_group_get_state, -EINVAL },
	{ "GROUP_DESTROY of A's group", b_group_destroy, -EINVAL },
	/* tiler heaps */
	{ "TILER_HEAP_DESTROY of A's heap", b_heap_destroy, -EINVAL },
	/* syncobjs */
	{ "SYNCOBJ_DESTROY of A's syncobj", b_syncobj_destroy, -EINVAL },
	{ "SYNCOBJ_HANDLE_TO_FD of A's syncobj", b_syncobj_to_fd, -EINVAL },
	{ "SYNCOBJ_HANDLE_TO_FD sync file of A's syncobj", b_syncobj_to_sync_file, -ENOENT },
	{ "SYNCOBJ_FD_TO_HANDLE import into A's syncobj", b_syncobj_import_into, -ENOENT },
	{ "SYNCOBJ_WAIT on B's and A's syncobjs", b_syncobj_wait, -ENOENT },
	{ "SYNCOBJ_RESET of B's and A's syncobjs", b_syncobj_reset, -ENOENT },
	{ "SYNCOBJ_SIGNAL of B's and A's syncobjs", b_syncobj_signal, -ENOENT },
	{ "SYNCOBJ_QUERY of A's timeline", b_syncobj_query, -ENOENT },
	{ "SYNCOBJ_TIMELINE_SIGNAL of A's timeline", b_syncobj_timeline_signal, -ENOENT },
	{ "SYNCOBJ_TIMELINE_WAIT on A's timeline", b_syncobj_timeline_wait, -ENOENT },
	{ "SYNCOBJ_TRANSFER from A's timeline", b_syncobj_transfer_from, -ENOENT },
	{ "SYNCOBJ_TRANSFER into A's syncobj", b_syncobj_transfer_to, -ENOENT },
	{ "SYNCOBJ_EVENTFD on A's syncobj", b_syncobj_eventfd, -ENOENT },
	{ "VM_BIND waiting for A's syncobj", b_bind_waits_a, -ENOENT },
	{ "VM_BIND signalling A's syncobj", b_bind_signals_a, -EINVAL },
	{ "GROUP_SUBMIT waiting for A's syncobj", b_submit_waits_a, -ENOENT },
	{ "GROUP_SUBMIT signalling A's timeline", b_submit_signals_a, -EINVAL },
};
/* clang-format on */

/* The checks pass when B did nothing (they fault B's VM, so once per world). */
static void test_checks_hold(void **state)
{
	struct world w;

	(void)state;
	world_setup(&w);
	expect_intact(&w, "nothing done");
	world_teardown(&w);
}

/* One row (a test of its own, so that each reports): refused, nothing of A's changed. */
static void test_cross_row(void **state)
{
	const struct cross_row *r = *state;
	struct world w;

	world_setup(&w);
	CHECK_ERR(r->what, r->call(&w), r->want);
	expect_intact(&w, r->what);
	world_teardown(&w);
}
/* Read-only mappings */

#define CMD_VA (64 * MiB)
#define RW_VA (80 * MiB) /* the data BO's page 0 read-write, then pages 1.. read-only */
#define RO_VA (RW_VA + MT_PAGE)
#define RO_TAG 20

/* A VM with a command BO at CMD_VA and a data BO: page 0 writable, the rest read-only. */
struct ro_setup {
	struct mt_dev d;
	uint32_t vm;
	struct mt_bo cmd, data;
};

static void ro_setup(struct ro_setup *s)
{
	struct gpuvm_vm_bind_op_repeat ops[3];

	mt_open(&s->d, NULL);
	s->vm = mt_vm_create(&s->d);
	mt_bo_create(&s->d, MT_PAGE, RO_TAG - 1, &s->cmd);
	mt_bo_create(&s->d, BO_SIZE, RO_TAG, &s->data);
	ops[0] = mt_op_map(&s->cmd, 0, CMD_VA, MT_PAGE, 0);
	ops[1] = mt_op_map(&s->data, 0, RW_VA, MT_PAGE, 0);
	ops[2] = mt_op_map(&s->data, MT_PAGE, RO_VA, BO_SIZE - MT_PAGE,
			   DRM_PANTHOR_VM_BIND_OP_MAP_READONLY);
	CHECK_ERR("map", mt_bind(&s->d, s->vm, 0, ops, 3), 0);
}

static void ro_teardown(struct ro_setup *s)
{
	mt_bo_destroy(&s->d, &s->cmd);
	mt_bo_destroy(&s->d, &s->data);
	mt_close(&s->d);
}

/* The read-only pages hold what they did, through the CPU and the GPU. */
static void expect_ro_unchanged(struct ro_setup *s, const char *ctx)
{
	uint8_t page[MT_PAGE];

	for (uint64_t p = 1; p < BO_PAGES; p++) {
		mt_page_pattern(RO_TAG, p, page);
		if (memcmp(s->data.cpu + p * MT_PAGE, page, MT_PAGE))
			fail_msg("%s: read-only page %llu changed", ctx, (unsigned long long)p);
		mt_expect_bytes(&s->d, s->vm, RW_VA + p * MT_PAGE, page, MT_PAGE, ctx);
	}
}

static void expect_permission_fault(const struct mt_access *r, uint64_t va, uint64_t done,
				    const char *ctx)
{
	CHECK_STATUS(ctx, r->status, mt_permission_fault(3, MT_WRITE));
	CHECK_EQ(ctx, r->fault_addr, va);
	CHECK_EQ(ctx, r->done, done);
}

/* MOCK_GPU_ACCESS WRITE and FILL: a permission fault on WRITE, no byte written. */
static void test_readonly_access(void **state)
{
	uint8_t buf[2 * MT_PAGE];
	struct ro_setup s;
	struct mt_access r;

	(void)state;
	ro_setup(&s);
	memset(buf, 0xab, sizeof(buf));
	mt_expect_bo_page(&s.d, s.vm, RO_VA, &s.data, 1, "read-only pages read");

	CHECK_ERR("write", mt_gpu_write(&s.d, s.vm, RO_VA + 8, buf, 8, &r), 0);
	expect_permission_fault(&r, RO_VA + 8, 0, "write into a read-only page");
	expect_ro_unchanged(&s, "after the write");

	CHECK_ERR("fill", mt_gpu_fill(&s.d, s.vm, RO_VA, 0xcd, BO_SIZE - MT_PAGE, &r), 0);
	expect_permission_fault(&r, RO_VA, 0, "fill of the read-only pages");
	expect_ro_unchanged(&s, "after the fill");

	/* From the writable page into the read-only one: stops at the boundary. */
	CHECK_ERR("write", mt_gpu_write(&s.d, s.vm, RO_VA - 16, buf, 32, &r), 0);
	expect_permission_fault(&r, RO_VA, 16, "write across into a read-only page");
	expect_ro_unchanged(&s, "after the write across");
	if (memcmp(s.data.cpu + MT_PAGE - 16, buf, 16))
		fail_msg("the writable page did not take the bytes before the fault");
	ro_teardown(&s);
}

#define MOVE48(d, imm) (0x01ull << 56 | (uint64_t)(d) << 48 | ((imm)&0xffffffffffffull))
#define MOVE32(r, imm) (0x02ull << 56 | (uint64_t)(r) << 48 | (uint32_t)(imm))
/* STORE_MULTIPLE [d[addr] + 0] <- r[base] (mask 1), mali.md section 5 */
#define STORE1(base, addr) \
	(0x15ull << 56 | (uint64_t)(base) << 48 | (uint64_t)(addr) << 40 | 1u << 16)

/* Run @n instructions at CMD_VA in a new group on the VM; wait for the job. */
static uint32_t run_stream(struct ro_setup *s, const uint64_t *insns, unsigned int n)
{
	uint32_t sync = syncobj_create(s->d.file, 0), group = group_create(s->d.file, s->vm);
	struct drm_panthor_sync_op op = { .flags = DRM_PANTHOR_SYNC_OP_SIGNAL |
						   DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ,
					  .handle = sync };
	struct drm_panthor_queue_submit qs = { .stream_addr = CMD_VA,
					       .stream_size = 8 * n,
					       .syncs = DRM_PANTHOR_OBJ_ARRAY(1, &op) };
	struct drm_panthor_group_submit gs = { .group_handle = group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(1, &qs) };
	struct drm_syncobj_wait w = { .handles = (uintptr_t)&sync,
				      .count_handles = 1,
				      .timeout_nsec = INT64_MAX };

	memcpy(s->cmd.cpu, insns, 8 * n);
	ioctl_ok(s->d.file, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs, "GROUP_SUBMIT");
	ioctl_ok(s->d.file, DRM_IOCTL_SYNCOBJ_WAIT, &w, "wait for the job");
	return group;
}

/* A job's STORE into a read-only page: the VM's fault, the group's fatal state, no byte. */
static void test_readonly_store(void **state)
{
	const uint64_t stream[] = { MOVE48(68, RO_VA + 8), MOVE32(70, 0x5a5a5a5a), STORE1(70, 68) };
	struct gpuvm_mock_vm_state vs;
	struct ro_setup s;
	uint32_t group;

	(void)state;
	ro_setup(&s);
	group = run_stream(&s, stream, ARRAY_SIZE(stream));
	vs = (struct gpuvm_mock_vm_state){ .vm_id = s.vm };
	ioctl_ok(s.d.file, GPUVM_IOCTL_MOCK_VM_STATE, &vs, "MOCK_VM_STATE");
	CHECK_STATUS("the job's fault", vs.fault_status, mt_permission_fault(3, MT_WRITE));
	CHECK_EQ("the job's fault address", vs.fault_addr, RO_VA + 8);
	CHECK_EQ("the group", group_state(s.d.file, group), DRM_PANTHOR_GROUP_STATE_FATAL_FAULT);
	expect_ro_unchanged(&s, "after the job");
	ro_teardown(&s);
}

/* Kernel-reserved VA */

#define VA_BITS_END (1ull << 48)
#define SMALL_RANGE (4 * GiB)
#define KVA_TAG 30

/*
 * A VM with the default user range, a BO mapped in it and a tiler heap (its
 * context and first chunk are the kernel's mappings); a VM whose user range
 * is 4 GiB, with its last user page mapped.
 */
struct kva_world {
	struct mt_dev d;
	uint32_t vm, small_vm;
	uint64_t user_range;
	struct mt_bo bo;
	uint32_t heap;
	uint64_t ctx_va, chunk_va;
	uint8_t ctx[32], chunk[64];
};

static void read_kernel_bytes(struct kva_world *w, uint64_t va, void *buf, uint64_t size)
{
	struct mt_access r;

	CHECK_ERR("kernel VA read", mt_gpu_read(&w->d, w->vm, va, buf, size, &r), 0);
	CHECK_STATUS("kernel VA read", r.status, 0);
}

static void kva_setup(struct kva_world *w)
{
	struct drm_panthor_vm_create c = { 0 };
	struct drm_panthor_tiler_heap_create h;
	struct gpuvm_vm_bind_op_repeat op;

	memset(w, 0, sizeof(*w));
	mt_open(&w->d, NULL);
	ioctl_ok(w->d.file, DRM_IOCTL_PANTHOR_VM_CREATE, &c, "VM_CREATE");
	w->vm = c.id;
	w->user_range = c.user_va_range;
	w->small_vm = vm_create(w->d.file, SMALL_RANGE);
	mt_bo_create(&w->d, BO_SIZE, KVA_TAG, &w->bo);
	op = mt_op_map(&w->bo, 0, VA_A, BO_SIZE, 0);
	CHECK_ERR("map", mt_bind(&w->d, w->vm, 0, &op, 1), 0);
	op = mt_op_map(&w->bo, 0, SMALL_RANGE - MT_PAGE, MT_PAGE, 0);
	CHECK_ERR("map the last user page", mt_bind(&w->d, w->small_vm, 0, &op, 1), 0);
	h = heap_args(w->vm);
	ioctl_ok(w->d.file, DRM_IOCTL_PANTHOR_TILER_HEAP_CREATE, &h, "TILER_HEAP_CREATE");
	w->heap = h.handle;
	w->ctx_va = h.tiler_heap_ctx_gpu_va;
	w->chunk_va = h.first_heap_chunk_gpu_va;
	if (w->ctx_va < w->user_range || w->chunk_va < w->user_range)
		fail_msg("the heap's mappings are not in the kernel's VA");
	read_kernel_bytes(w, w->ctx_va, w->ctx, sizeof(w->ctx));
	read_kernel_bytes(w, w->chunk_va, w->chunk, sizeof(w->chunk));
}

static void kva_teardown(struct kva_world *w)
{
	struct drm_panthor_tiler_heap_destroy d = { .handle = w->heap };

	ioctl_ok(w->d.file, DRM_IOCTL_PANTHOR_TILER_HEAP_DESTROY, &d, "TILER_HEAP_DESTROY");
	mt_bo_destroy(&w->d, &w->bo);
	mt_close(&w->d);
}

/* The kernel's mappings, the user's, and nothing new on either side of the boundary. */
static void expect_kva_intact(struct kva_world *w, const char *ctx)
{
	uint8_t ctx_now[sizeof(w->ctx)], chunk_now[sizeof(w->chunk)];

	read_kernel_bytes(w, w->ctx_va, ctx_now, sizeof(ctx_now));
	read_kernel_bytes(w, w->chunk_va, chunk_now, sizeof(chunk_now));
	if (memcmp(ctx_now, w->ctx, sizeof(ctx_now)) ||
	    memcmp(chunk_now, w->chunk, sizeof(chunk_now)))
		fail_msg("%s: the heap's kernel mappings changed", ctx);
	mt_expect_bytes(&w->d, w->vm, VA_A, w->bo.cpu, BO_SIZE, ctx);
	mt_expect_unmapped(&w->d, w->vm, w->user_range - MT_PAGE, 2 * MT_PAGE, ctx);
	mt_expect_bo_page(&w->d, w->small_vm, SMALL_RANGE - MT_PAGE, &w->bo, 0, ctx);
	mt_expect_unmapped(&w->d, w->small_vm, SMALL_RANGE, MT_PAGE, ctx);
}

/** struct kva_row - one VM_BIND reaching into the kernel's VA. */
struct kva_row {
	const char *what;
	bool small_vm;          /* in the VM with the 4 GiB user range */
	uint32_t type, flags;   /* op type and MAP flags */
	int va_from;            /* 0: 0, 1: user range end, 2: heap context, 3: heap chunk */
	int64_t va_delta;       /* added to it */
	uint64_t size;          /* 0: up to 2^48 */
	bool async, with_unmap; /* ASYNC; an UNMAP of VA_A first in the same array */
};

static uint64_t kva_row_va(const struct kva_world *w, const struct kva_row *r)
{
	const uint64_t from[] = { 0, r->small_vm ? SMALL_RANGE : w->user_range, w->ctx_va,
				  w->chunk_va };

	return from[r->va_from] + (uint64_t)r->va_delta;
}

static int kva_row_call(struct kva_world *w, const struct kva_row *r)
{
	struct gpuvm_vm_bind_op_repeat ops[2];
	uint64_t va = kva_row_va(w, r), size = r->size ? r->size : VA_BITS_END - va;
	unsigned int n = 0;

	if (r->with_unmap)
		ops[n++] = mt_op_unmap(VA_A, BO_SIZE);
	if (r->type == DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP)
		ops[n] = mt_op_unmap(va, size);
	else if (r->flags & DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE)
		ops[n] = mt_op_sparse(va, size, r->flags);
	else
		ops[n] = mt_op_map(&w->bo, 0, va, size, r->flags);
	return mt_bind(&w->d, r->small_vm ? w->small_vm : w->vm,
		       r->async ? DRM_PANTHOR_VM_BIND_ASYNC : 0, ops, n + 1);
}

#define UNMAP DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP
#define MAP DRM_PANTHOR_VM_BIND_OP_TYPE_MAP
#define SPARSE (DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE | DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC)
#define PG ((int64_t)MT_PAGE)

/* clang-format off */
static const struct kva_row kva_rows[] = {
	{ "map the first kernel page", false, MAP, 0, 1, 0, MT_PAGE, false, false },
	{ "map across the boundary", false, MAP, 0, 1, -PG, 2 * MT_PAGE, false, false },
	{ "map over the heap context", false, MAP, 0, 2, 0, MT_PAGE, false, false },
	{ "async map over the heap chunk", false, MAP, 0, 3, 0, MT_PAGE, true, false },
	{ "sparse map over the heap chunk", false, MAP, SPARSE, 3, 0, MT_PAGE, false, false },
	{ "unmap the heap context", false, UNMAP, 0, 2, 0, MT_PAGE, false, false },
	{ "async unmap the heap chunk", false, UNMAP, 0, 3, 0, MT_PAGE, true, false },
	{ "unmap the whole kernel range", false, UNMAP, 0, 1, 0, 0, false, false },
	{ "unmap everything", false, UNMAP, 0, 0, 0, 0, false, false },
	{ "unmap of the user BO, then the heap context", false, UNMAP, 0, 2, 0, MT_PAGE, false, true },
	{ "map wrapping around 2^64", false, MAP, 0, 0, -PG, 2 * MT_PAGE, false, false },
	{ "4 GiB range: map at 4 GiB", true, MAP, 0, 1, 0, MT_PAGE, false, false },
	{ "4 GiB range: map across 4 GiB", true, MAP, 0, 1, -PG, 2 * MT_PAGE, false, false },
	{ "4 GiB range: unmap from 4 GiB up", true, UNMAP, 0, 1, 0, 0, false, false },
};
/* clang-format on */

/* One row: refused with -EINVAL, the kernel's and the user's mappings as they were. */
static void test_kva_row(void **state)
{
	const struct kva_row *r = *state;
	struct kva_world w;

	kva_setup(&w);
	CHECK_ERR(r->what, kva_row_call(&w, r), -EINVAL);
	expect_kva_intact(&w, r->what);
	kva_teardown(&w);
}

/* Exclusive BOs */

#define EXCL_TAG 40

/* Two VMs of one file; a BO exclusive to the first, mapped there at VA_A. */
struct excl_world {
	struct mt_dev d;
	uint32_t vm, other_vm;
	struct mt_bo bo;
};

static void excl_setup(struct excl_world *w)
{
	struct drm_panthor_bo_create c = { .size = BO_SIZE };
	struct gpuvm_vm_bind_op_repeat op;

	mt_open(&w->d, NULL);
	w->vm = mt_vm_create(&w->d);
	w->other_vm = mt_vm_create(&w->d);
	c.exclusive_vm_id = w->vm;
	ioctl_ok(w->d.file, DRM_IOCTL_PANTHOR_BO_CREATE, &c, "BO_CREATE exclusive");
	w->bo = (struct mt_bo){ .handle = c.handle, .size = c.size };
	op = mt_op_map(&w->bo, 0, VA_A, BO_SIZE, 0);
	CHECK_ERR("map in its VM", mt_bind(&w->d, w->vm, 0, &op, 1), 0);
	CHECK_ERR("fill",
		  mt_gpu_fill(&w->d, w->vm, VA_A, EXCL_TAG, BO_SIZE, &(struct mt_access){ 0 }), 0);
}

static int excl_export(struct excl_world *w, uint32_t flags)
{
	struct drm_prime_handle p = { .handle = w->bo.handle, .flags = flags, .fd = UNTOUCHED_FD };
	int err = mockdrm_ioctl(w->d.file, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	CHECK_EQ("PRIME export's fd", p.fd, UNTOUCHED_FD);
	return err;
}

static int excl_bind(struct excl_world *w, uint32_t vm, uint32_t flags)
{
	struct gpuvm_vm_bind_op_repeat op = mt_op_map(&w->bo, 0, VA_HOLE, MT_PAGE, 0);

	return mt_bind(&w->d, vm, flags, &op, 1);
}

/*
 * Refused: PRIME export (read-write or read-only), a map in the other VM
 * (sync or async), and a map in a new VM that took the destroyed VM's id.
 * Meanwhile the BO stays mapped in its own VM with its bytes.
 */
static void test_exclusive(void **state)
{
	uint8_t want[BO_SIZE];
	struct excl_world w;
	struct drm_panthor_vm_destroy d;

	(void)state;
	excl_setup(&w);
	memset(want, EXCL_TAG, sizeof(want));
	CHECK_ERR("PRIME export read-write", excl_export(&w, DRM_CLOEXEC | DRM_RDWR), -EINVAL);
	CHECK_ERR("PRIME export read-only", excl_export(&w, DRM_CLOEXEC), -EINVAL);
	CHECK_ERR("map in the other VM", excl_bind(&w, w.other_vm, 0), -EINVAL);
	CHECK_ERR("async map in the other VM", excl_bind(&w, w.other_vm, DRM_PANTHOR_VM_BIND_ASYNC),
		  -EINVAL);
	mt_expect_unmapped(&w.d, w.other_vm, VA_HOLE, MT_PAGE, "the other VM");
	mt_expect_bytes(&w.d, w.vm, VA_A, want, BO_SIZE, "its own VM");

	d = (struct drm_panthor_vm_destroy){ .id = w.vm };
	ioctl_ok(w.d.file, DRM_IOCTL_PANTHOR_VM_DESTROY, &d, "VM_DESTROY");
	CHECK_EQ("the new VM's id", mt_vm_create(&w.d), w.vm);
	CHECK_ERR("map in a VM with its VM's old id", excl_bind(&w, w.vm, 0), -EINVAL);
	mt_expect_unmapped(&w.d, w.vm, VA_HOLE, MT_PAGE, "the new VM");
	CHECK_ERR("PRIME export after its VM went", excl_export(&w, DRM_CLOEXEC | DRM_RDWR),
		  -EINVAL);
	gem_close(w.d.file, w.bo.handle);
	mt_close(&w.d);
}

int main(void)
{
	enum {
		FIXED = 7,
		CROSS = ARRAY_SIZE(cross_rows),
		KVA = ARRAY_SIZE(kva_rows)
	};
	struct CMUnitTest tests[FIXED + CROSS + KVA] = {
		cmocka_unit_test(test_other_file_offsets), cmocka_unit_test(test_prime_import),
		cmocka_unit_test(test_after_gem_close),    cmocka_unit_test(test_checks_hold),
		cmocka_unit_test(test_readonly_access),    cmocka_unit_test(test_readonly_store),
		cmocka_unit_test(test_exclusive),
	};
	size_t n = FIXED;

	for (size_t i = 0; i < CROSS; i++)
		tests[n++] = (struct CMUnitTest){ .name = cross_rows[i].what,
						  .test_func = test_cross_row,
						  .initial_state = (void *)&cross_rows[i] };
	for (size_t i = 0; i < KVA; i++)
		tests[n++] = (struct CMUnitTest){ .name = kva_rows[i].what,
						  .test_func = test_kva_row,
						  .initial_state = (void *)&kva_rows[i] };
	return _cmocka_run_group_tests("test-isolation", tests, n, NULL, NULL);
}
