/* SPDX-License-Identifier: MIT */
/* <stdbool.h> of the public headers in a kernel build: the kernel's bool. */
#ifndef GPUVM_KMOD_STDBOOL_H
#define GPUVM_KMOD_STDBOOL_H

#include <linux/stddef.h>
#include <linux/types.h>

#endif
