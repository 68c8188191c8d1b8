// SPDX-License-Identifier: MIT
/*
 * Regression tests of issue 14's smaller defects of the device (mockdrm/dev/),
 * through its C API: each failed before its fix.
 *
 * - A GPU-access WRITE whose source buffer becomes unreadable part-way fails
 *   with -EFAULT and stores nothing (the source is copied in first).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_source_unreadable, env_setup,
						env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
