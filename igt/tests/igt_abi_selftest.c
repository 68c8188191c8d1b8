// SPDX-License-Identifier: MIT
/*
 * A self-test of igt/include/igt_core_abi.h against the real libigt.so.0:
 * subtests that pass, fail, skip, hold dynamic subtests and share fixture
 * state, whose results and exit codes check-abi.py checks. No device needed.
 */
#include <errno.h>
#include <stdint.h>

#include "igt_core_abi.h"

const char *__igt_test_description = "self-test of gpuvm's igt_core ABI header";

static int fixture_value;

igt_main
{
	igt_fixture {
		fixture_value = 42;
	}

	igt_subtest("pass") {
		igt_assert_eq(fixture_value, 42);
		igt_assert_eq_u64(1ull << 32, 1ull << 32);
		igt_assert_neq_u64(1ull << 32, 0);
	}
	igt_subtest("fail-u64") {
		/* Equal as int (the low 32 bits), different as u64: must fail. */
		igt_assert_eq_u64(1ull << 32, 0);
	}
	igt_subtest("skip") {
		igt_require_f(fixture_value == 0, "skipped on purpose\n");
		igt_assert(false);
	}
	igt_subtest("ioctl-errno") {
		do_ioctl_err(-1, 0, NULL, EBADF);
		igt_assert_eq(errno, 0);
	}
	igt_subtest_with_dynamic("dynamic") {
		igt_dynamic("dyn-pass") {
			igt_assert(true);
		}
		igt_dynamic("dyn-skip") {
			igt_skip("skipped on purpose\n");
		}
	}
	igt_subtest_f("formatted-%d", 7) {
		igt_assert_eq(fixture_value, 42);
	}
}
