/* SPDX-License-Identifier: MIT */
/* <stdalign.h> in a kernel build: the C11 keywords under their macro names. */
#ifndef GPUVM_KMOD_STDALIGN_H
#define GPUVM_KMOD_STDALIGN_H

#define alignas _Alignas
#define alignof _Alignof

#endif
