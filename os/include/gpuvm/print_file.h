/* SPDX-License-Identifier: MIT */
/*
 * Userspace adapter from the core's print callbacks (pt_validate(), pt_dump(),
 * gvm_validate(), gvm_kva_validate()) to a stdio stream.
 */
#ifndef GPUVM_PRINT_FILE_H
#define GPUVM_PRINT_FILE_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * gpuvm_print_file() - a pt_print_fn that prints to a FILE.
 * @file: the FILE * to print to.
 * @fmt: printf format.
 *
 * Context: any; as thread-safe as vfprintf().
 */
__attribute__((format(printf, 2, 3))) void gpuvm_print_file(void *file, const char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_PRINT_FILE_H */
