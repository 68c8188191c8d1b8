/* SPDX-License-Identifier: MIT */
/*
 * The core's self-tests, one source for both environments: built into the test
 * program test-selftest in userspace, into gpuvm.ko (tools/kmod/), where
 * the module's init runs them inside a real kernel, and -m32 by
 * tools/kmod/run-m32. They use the public headers, vm/'s private B+ tree
 * (gvm_btree.h) and the OS layer, and print KTAP through a pt_print_fn, one
 * whole line per call (a kernel log record each).
 */
#ifndef GPUVM_SELFTEST_H
#define GPUVM_SELFTEST_H

#include <gpuvm/pt.h>

/**
 * gpuvm_selftest_run() - run every self-test, printing KTAP.
 * @print: receives "KTAP version 1", the plan "1..N", "ok N name" or
 *	"not ok N name" per test and "# " diagnostic lines.
 * @ctx: passed to @print.
 * @seed: seed of the random sequences (binds, maps, the tree's keys and updates).
 *
 * Context: may sleep and allocate.
 * Return: the number of tests that failed.
 */
unsigned int gpuvm_selftest_run(pt_print_fn *print, void *ctx, uint64_t seed);

#endif /* GPUVM_SELFTEST_H */
