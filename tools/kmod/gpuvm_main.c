// SPDX-License-Identifier: MIT
/*
 * gpuvm.ko: the core (pgtable/, vm/) as a kernel module. Its init runs the
 * core's self-tests (tests/selftest/) and prints KTAP to the kernel log; a
 * failure makes the load fail with -EINVAL, so insmod reports it too.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/printk.h>

#include "selftest.h"

static unsigned long long seed = 1;
module_param(seed, ullong, 0444);
MODULE_PARM_DESC(seed, "seed of the random bind sequence");

/* A pt_print_fn: the self-tests print whole lines, one log record each. */
static __printf(2, 3) void gpuvm_kmod_print(void *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

static int __init gpuvm_kmod_init(void)
{
	return gpuvm_selftest_run(gpuvm_kmod_print, NULL, seed) ? -EINVAL : 0;
}

static void __exit gpuvm_kmod_exit(void)
{
}

module_init(gpuvm_kmod_init);
module_exit(gpuvm_kmod_exit);
MODULE_DESCRIPTION("gpuvm core (page tables, VA manager) with its self-tests");
MODULE_LICENSE("Dual MIT/GPL");
