/* SPDX-License-Identifier: MIT */
/* <stdint.h> of the public headers in a kernel build: the kernel's types. */
#ifndef GPUVM_KMOD_STDINT_H
#define GPUVM_KMOD_STDINT_H

#include <linux/limits.h>
#include <linux/types.h>

#ifndef UINT64_MAX
#define UINT32_MAX U32_MAX
#define UINT64_MAX U64_MAX
#define INT64_MAX S64_MAX
#define UINTPTR_MAX ULONG_MAX
#endif

#endif
