/* SPDX-License-Identifier: MIT */
/* <limits.h> in a kernel build: the kernel's. */
#ifndef GPUVM_KMOD_LIMITS_H
#define GPUVM_KMOD_LIMITS_H

#include <linux/limits.h>

#endif
