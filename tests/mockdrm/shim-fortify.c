// SPDX-License-Identifier: MIT
/*
 * Part of test-shim: calls that glibc's fortify headers turn into their
 * checking twins. Build with -D_FORTIFY_SOURCE=2 -O2; the native (not
 * _FILE_OFFSET_BITS=64) names are used so that both open and open64 forms
 * are reached.
 */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim-fortify.h"

#if !defined(_FORTIFY_SOURCE) || _FORTIFY_SOURCE < 2 || !defined(__OPTIMIZE__)
#error "shim-fortify.c must be built with -D_FORTIFY_SOURCE=2 -O2"
#endif

int fortify_open(const char *path, int flags)
{
	return open(path, flags);
}

int fortify_open64(const char *path, int flags)
{
	return open64(path, flags);
}

int fortify_openat(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int fortify_openat64(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

/* @len is not clamped here: a bound the compiler can see skips the check. */
ssize_t fortify_readlink(const char *path, char *out, size_t len)
{
	char buf[64];
	ssize_t n;

	n = readlink(path, buf, len);
	if (n > 0)
		memcpy(out, buf, (size_t)n);
	return n;
}

ssize_t fortify_readlinkat(int dirfd, const char *path, char *out, size_t len)
{
	char buf[64];
	ssize_t n;

	n = readlinkat(dirfd, path, buf, len);
	if (n > 0)
		memcpy(out, buf, (size_t)n);
	return n;
}

int fortify_realpath(const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];

	if (!realpath(path, buf))
		return -errno;
	if (strlen(buf) >= size)
		return -ENAMETOOLONG;
	strcpy(out, buf);
	return 0;
}
