/* SPDX-License-Identifier: MIT */
/* Tests that run a program under the LD_PRELOAD shim. */
#ifndef GPUVM_TESTS_SHIM_PRELOAD_H
#define GPUVM_TESTS_SHIM_PRELOAD_H

#include <stddef.h>

/*
 * The LD_PRELOAD value that loads @shim into a child. A sanitizer build needs
 * its ASan runtime first in the list, before the shim (built with it too).
 */
void shim_preload_value(const char *shim, char *out, size_t size);

#endif
