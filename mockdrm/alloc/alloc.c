// SPDX-License-Identifier: MIT
/*
 * The mock device's allocations, each through one injection point
 * (DOC: allocation-failure injection in mock_alloc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "mock_alloc.h"

/*
 * Per thread: allocations counted so far, the count that fails (0: none),
 * what failed and where it was called from.
 */
static _Thread_local unsigned long alloc_count;
static _Thread_local unsigned long fail_at;
static _Thread_local int injected;
static _Thread_local const void *injected_site;

static bool fails_at(int err, const void *site)
{
	if (++alloc_count != fail_at)
		return false;
	fail_at = 0;
	injected = err;
	injected_site = site;
	errno = err;
	return true;
}

/* Not inlined: its return address is its caller's call site. */
__attribute__((noinline)) bool mock_alloc_fails(int err)
{
	return fails_at(err, __builtin_return_address(0));
}

void mock_alloc_fail_nth(unsigned long nth)
{
	fail_at = nth ? alloc_count + nth : 0;
	injected = 0;
	injected_site = NULL;
}

unsigned long mock_alloc_count(void)
{
	return alloc_count;
}

int mock_alloc_injected(void)
{
	return injected;
}

const void *mock_alloc_injected_site(void)
{
	return injected_site;
}

/* The wrappers: each is its own frame, so that the site is their caller's. */
#define FAILS(err) fails_at((err), __builtin_return_address(0))

__attribute__((noinline)) void *mock_malloc(size_t size)
{
	return FAILS(ENOMEM) ? NULL : malloc(size);
}

__attribute__((noinline)) void *mock_calloc(size_t n, size_t size)
{
	return FAILS(ENOMEM) ? NULL : calloc(n, size);
}

__attribute__((noinline)) void *mock_realloc(void *ptr, size_t size)
{
	return FAILS(ENOMEM) ? NULL : realloc(ptr, size);
}

__attribute__((noinline)) char *mock_strdup(const char *s)
{
	return FAILS(ENOMEM) ? NULL : strdup(s);
}

__attribute__((noinline)) int mock_memfd_create(const char *name, unsigned int flags)
{
	return FAILS(ENOMEM) ? -1 : memfd_create(name, flags);
}

__attribute__((noinline)) void *mock_mmap(void *addr, size_t len, int prot, int flags, int fd,
					  off_t off)
{
	return FAILS(ENOMEM) ? MAP_FAILED : mmap(addr, len, prot, flags, fd, off);
}

__attribute__((noinline)) int mock_dup_cloexec(int fd)
{
	return FAILS(EMFILE) ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

__attribute__((noinline)) int mock_open(const char *path, int flags)
{
	return FAILS(EMFILE) ? -1 : open(path, flags);
}

__attribute__((noinline)) int mock_socketpair(int domain, int type, int protocol, int sv[2])
{
	return FAILS(EMFILE) ? -1 : socketpair(domain, type, protocol, sv);
}

__attribute__((noinline)) int mock_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	return FAILS(EAGAIN) ? EAGAIN : pthread_create(thread, NULL, fn, arg);
}
