// SPDX-License-Identifier: MIT
/*
 * 2 MiB blocks: maps that the page table can cover with level-2 blocks, and
 * unmaps and remaps of parts of them, which must split the blocks in place.
 * Every page is read through the GPU before the change (filling the TLB) and
 * after it; the mock's strict TLB mode must have seen no stale translation.
 */
#include <errno.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor VM_BIND of 2 MiB blocks and partial unmaps of them";

#define BLOCK_VA 0x40000000ull /* 1 GiB: 2 MiB aligned */
#define BO_PAGES (2 * SZ_2M / SZ_4K)

static int fd = -1;
static uint32_t big, small, vm;

/* @vm maps the 4 MiB BO at BLOCK_VA: two whole blocks. */
static const struct panthor_va_expect *two_blocks(void)
{
	static struct panthor_va_expect e;

	e = (struct panthor_va_expect){ .va = BLOCK_VA, .size = 2 * SZ_2M, .tag_bo = big };
	return &e;
}

static void check(const struct panthor_va_expect *expect, unsigned int count)
{
	panthor_check_layout(fd, vm, BLOCK_VA - SZ_4K, BLOCK_VA + 2 * SZ_2M + SZ_4K, expect, count);
	panthor_check_mmu_clean(fd);
}

static void map_two_blocks(void)
{
	vm = panthor_vm_create(fd, NULL);
	panthor_map(fd, vm, big, 0, BLOCK_VA, 2 * SZ_2M, 0);
	check(two_blocks(), 1);
}

static void test_map(void)
{
	map_two_blocks();
	/* Mapping the same again (case 1, keep) changes nothing. */
	panthor_map(fd, vm, big, 0, BLOCK_VA, 2 * SZ_2M, 0);
	check(two_blocks(), 1);
	panthor_vm_destroy(fd, vm);
}

/* One page out of the middle of a block. */
static void test_unmap_page(void)
{
	const uint64_t hole = BLOCK_VA + SZ_1M;
	const struct panthor_va_expect after[] = {
		{ .va = BLOCK_VA, .size = SZ_1M, .tag_bo = big },
		{ .va = hole + SZ_4K,
		  .size = 2 * SZ_2M - SZ_1M - SZ_4K,
		  .tag_bo = big,
		  .bo_offset = SZ_1M + SZ_4K },
	};

	map_two_blocks();
	panthor_unmap(fd, vm, hole, SZ_4K);
	check(after, 2);
	panthor_vm_destroy(fd, vm);
}

/* The first half of the first block, and a range across the two blocks. */
static void test_unmap_halves(void)
{
	const struct panthor_va_expect after[] = {
		{ .va = BLOCK_VA + SZ_1M, .size = SZ_64K, .tag_bo = big, .bo_offset = SZ_1M },
		{ .va = BLOCK_VA + 3 * SZ_1M, .size = SZ_1M, .tag_bo = big, .bo_offset = 3 * SZ_1M },
	};

	map_two_blocks();
	panthor_unmap(fd, vm, BLOCK_VA, SZ_1M);
	panthor_unmap(fd, vm, BLOCK_VA + SZ_1M + SZ_64K, 2 * SZ_1M - SZ_64K);
	check(after, 2);
	panthor_vm_destroy(fd, vm);
}

/* Another BO mapped over the middle of a block (a REMAP with prev and next). */
static void test_remap_inside(void)
{
	const uint64_t at = BLOCK_VA + SZ_2M - SZ_64K;
	const struct panthor_va_expect after[] = {
		{ .va = BLOCK_VA, .size = SZ_2M - SZ_64K, .tag_bo = big },
		{ .va = at, .size = 4 * SZ_64K, .tag_bo = small, .bo_offset = 0 },
		{ .va = at + 4 * SZ_64K,
		  .size = SZ_2M - 3 * SZ_64K,
		  .tag_bo = big,
		  .bo_offset = SZ_2M + 3 * SZ_64K },
	};

	map_two_blocks();
	panthor_map(fd, vm, small, 0, at, 4 * SZ_64K, 0);
	check(after, 3);
	/* Unmapping the small BO leaves the hole; mapping the big one back heals it. */
	panthor_unmap(fd, vm, at, 4 * SZ_64K);
	check((const struct panthor_va_expect[]){ after[0], after[2] }, 2);
	panthor_map(fd, vm, big, SZ_2M - SZ_64K, at, 4 * SZ_64K, 0);
	check(two_blocks(), 1);
	panthor_vm_destroy(fd, vm);
}

/* A 2 MiB-aligned VA with a BO offset that is not: pages, still all correct. */
static void test_misaligned_offset(void)
{
	const struct panthor_va_expect e = {
		.va = BLOCK_VA, .size = SZ_2M, .tag_bo = big, .bo_offset = SZ_4K
	};

	vm = panthor_vm_create(fd, NULL);
	panthor_map(fd, vm, big, SZ_4K, BLOCK_VA, SZ_2M, 0);
	check(&e, 1);
	panthor_vm_destroy(fd, vm);
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
		big = panthor_bo_create(fd, 2 * SZ_2M, 0, 0);
		small = panthor_bo_create(fd, 4 * SZ_64K, 0, 0);
		panthor_bo_tag(fd, big, BO_PAGES, big);
		panthor_bo_tag(fd, small, 4 * SZ_64K / SZ_4K, small);
	}

	igt_describe("two 2 MiB blocks map; mapping them again changes nothing");
	igt_subtest("block-map") {
		test_map();
	}
	igt_describe("one 4 KiB page unmapped out of a block");
	igt_subtest("block-unmap-page") {
		test_unmap_page();
	}
	igt_describe("half a block, then a range across the block boundary, unmapped");
	igt_subtest("block-unmap-partial") {
		test_unmap_halves();
	}
	igt_describe("another BO over the middle of a block; unmapped; the block healed");
	igt_subtest("block-remap-inside") {
		test_remap_inside();
	}
	igt_describe("2 MiB at an aligned VA from an unaligned BO offset");
	igt_subtest("block-misaligned-offset") {
		test_misaligned_offset();
	}

	igt_fixture {
		gem_close(fd, small);
		gem_close(fd, big);
		panthor_close(fd);
	}
}
