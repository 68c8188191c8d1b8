/* SPDX-License-Identifier: MIT */
/* <stddef.h> of the public headers in a kernel build: the kernel's. */
#ifndef GPUVM_KMOD_STDDEF_H
#define GPUVM_KMOD_STDDEF_H

#include <linux/stddef.h>
#include <linux/types.h>

#endif
