// SPDX-License-Identifier: MIT
/*
 * The user MMIO page (uapi 1.5, shared/reference/panthor-1.8.md): one
 * read-only shared page at the file's MMIO offset showing LATEST_FLUSH_ID,
 * which advances at each cache flush the GPU performs; flushes asked for with
 * a flush ID that a later flush already covered are skipped. The mmap rules
 * and SET_USER_MMIO_OFFSET.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor user MMIO page: LATEST_FLUSH_ID and its rules";

#define CMD_VA 0x1000000ull
#define RESULT_VA 0x1001000ull

static int fd = -1;

static volatile const uint32_t *map_flush_id(int file, uint64_t offset)
{
	void *page = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, file, (off_t)offset);

	igt_assert_f(page != MAP_FAILED, "mmap of the flush-ID page: %m\n");
	return page;
}

static bool mmap_refused(uint64_t offset, uint64_t size, int prot, int flags)
{
	void *p = mmap(NULL, size, prot, flags, fd, (off_t)offset);

	if (p != MAP_FAILED) {
		munmap(p, size);
		return false;
	}
	return errno == EINVAL;
}

static uint64_t skipped_flushes(void)
{
	struct gpuvm_mock_stats s = { 0 };

	do_ioctl(fd, GPUVM_IOCTL_MOCK_STATS, &s);
	return s.cache_flushes_skipped;
}

/*
 * A job that flushes moves LATEST_FLUSH_ID on; one built against an ID that a
 * later flush covered skips its flushes (the kernel's and its own) and the ID
 * stays; one built against the current ID must flush again.
 */
static void test_flush_id(void)
{
	volatile const uint32_t *flush_id = map_flush_id(fd, DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET);
	uint32_t vm = panthor_vm_create(fd, NULL), cmd_bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	uint32_t result_bo = panthor_bo_create(fd, SZ_4K, 0, 0), group, first, second, size;
	uint64_t *cmd = panthor_bo_mmap(fd, cmd_bo, SZ_4K, PROT_READ | PROT_WRITE), skipped;

	panthor_map(fd, vm, cmd_bo, 0, CMD_VA, SZ_4K, 0);
	panthor_map(fd, vm, result_bo, 0, RESULT_VA, SZ_4K, 0);
	group = panthor_group_create(fd, vm);
	first = *flush_id;
	igt_assert_neq_u32(first, 0);
	size = panthor_store_stream(cmd, RESULT_VA, 1, 0);
	panthor_run(fd, group, CMD_VA, size, 0);
	second = *flush_id;
	igt_info("LATEST_FLUSH_ID %u -> %u\n", first, second);
	igt_assert_f(second != first, "a job with unconditional flushes left the flush ID\n");

	/* Built against @first: both flushes are covered by the last job's. */
	skipped = skipped_flushes();
	size = panthor_store_stream(cmd, RESULT_VA, 2, first);
	panthor_run(fd, group, CMD_VA, size, first);
	igt_assert_eq_u32(*flush_id, second);
	igt_assert_eq_u64(skipped_flushes() - skipped, 2);

	/* Built against the current ID: nothing flushed since, so it flushes. */
	size = panthor_store_stream(cmd, RESULT_VA, 3, second);
	panthor_run(fd, group, CMD_VA, size, second);
	igt_assert_neq_u32(*flush_id, second);

	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	panthor_bo_munmap(cmd, SZ_4K);
	munmap((void *)flush_id, SZ_4K);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, cmd_bo);
	gem_close(fd, result_bo);
}

/* One page, shared, read-only, at the flush-ID offset: anything else is EINVAL. */
static void test_mmap_rules(void)
{
	const uint64_t at = DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET;
	volatile const uint32_t *page;

	igt_assert(mmap_refused(at, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED));
	igt_assert(mmap_refused(at, SZ_4K, PROT_READ | PROT_EXEC, MAP_SHARED));
	igt_assert(mmap_refused(at, SZ_4K, PROT_READ, MAP_PRIVATE));
	igt_assert(mmap_refused(at, 2 * SZ_4K, PROT_READ, MAP_SHARED));
	igt_assert(mmap_refused(at + SZ_4K, SZ_4K, PROT_READ, MAP_SHARED));
	page = map_flush_id(fd, at);
	igt_assert_neq(mprotect((void *)page, SZ_4K, PROT_READ | PROT_WRITE), 0);
	igt_assert_neq_u32(*page, 0);
	munmap((void *)page, SZ_4K);
}

static int set_mmio_offset(int file, uint64_t offset)
{
	struct drm_panthor_set_user_mmio_offset a = { .offset = offset };

	return panthor_ioctl(file, DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, &a);
}

/* A file moved to the 32-bit offset maps the page there only; other files keep theirs. */
static void test_set_offset(void)
{
	int file = panthor_open();
	volatile const uint32_t *page;

	igt_assert_eq(set_mmio_offset(file, 0), -EINVAL);
	igt_assert_eq(set_mmio_offset(file, DRM_PANTHOR_USER_MMIO_OFFSET_64BIT + SZ_4K), -EINVAL);
	igt_assert_eq(set_mmio_offset(file, DRM_PANTHOR_USER_MMIO_OFFSET_64BIT |
						    DRM_PANTHOR_USER_MMIO_OFFSET_32BIT),
		      -EINVAL);
	/* Refused: the file still maps at the 64-bit offset. */
	munmap((void *)map_flush_id(file, DRM_PANTHOR_USER_MMIO_OFFSET_64BIT), SZ_4K);
	igt_assert_eq(set_mmio_offset(file, DRM_PANTHOR_USER_MMIO_OFFSET_32BIT), 0);
	page = map_flush_id(file, DRM_PANTHOR_USER_MMIO_OFFSET_32BIT);
	igt_assert_neq_u32(*page, 0);
	munmap((void *)page, SZ_4K);
	igt_assert(mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, file,
			(off_t)DRM_PANTHOR_USER_MMIO_OFFSET_64BIT) == MAP_FAILED);
	munmap((void *)map_flush_id(fd, DRM_PANTHOR_USER_MMIO_OFFSET_64BIT), SZ_4K);
	close(file);
}

igt_main
{
	igt_fixture {
		fd = panthor_open();
	}

	igt_describe("LATEST_FLUSH_ID advances at flushes; covered flushes are skipped");
	igt_subtest("mmio-flush-id") {
		panthor_require_mock(fd);
		test_flush_id();
	}
	igt_describe("the page maps once, shared, read-only; never writable");
	igt_subtest("mmio-mmap-rules") {
		test_mmap_rules();
	}
	igt_describe("SET_USER_MMIO_OFFSET: only the two offsets; the page moves with it");
	igt_subtest("mmio-set-offset") {
		test_set_offset();
	}

	igt_fixture {
		panthor_close(fd);
	}
}
