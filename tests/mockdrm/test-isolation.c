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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>

#include "mock-test.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_file_offsets),
		cmocka_unit_test(test_prime_import),
		cmocka_unit_test(test_after_gem_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
