/* SPDX-License-Identifier: MIT */
/*
 * Calls compiled with -D_FORTIFY_SOURCE=2 -O2 (shim-fortify.c), so that they
 * reach the shim through glibc's checking entry points: open with flags that
 * are not a constant becomes __open_2, readlink into a buffer of known size
 * with a length that is not a constant __readlink_chk, and so on.
 */
#ifndef GPUVM_TESTS_SHIM_FORTIFY_H
#define GPUVM_TESTS_SHIM_FORTIFY_H

#include <stddef.h>
#include <sys/types.h>

int fortify_open(const char *path, int flags);                /* __open_2 */
int fortify_open64(const char *path, int flags);              /* __open64_2 */
int fortify_openat(int dirfd, const char *path, int flags);   /* __openat_2 */
int fortify_openat64(int dirfd, const char *path, int flags); /* __openat64_2 */
/* readlink into a 64-byte buffer, @len <= 64 bytes at most (__readlink_chk). */
ssize_t fortify_readlink(const char *path, char *out, size_t len);
/* readlinkat, likewise (__readlinkat_chk). */
ssize_t fortify_readlinkat(int dirfd, const char *path, char *out, size_t len);
/* realpath into a PATH_MAX buffer (__realpath_chk); 0 or -errno. */
int fortify_realpath(const char *path, char *out, size_t size);

#endif /* GPUVM_TESTS_SHIM_FORTIFY_H */
