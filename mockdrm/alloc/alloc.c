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

/* Per thread: allocations counted so far, the count that fails (0: none), what failed. */
static _Thread_local unsigned long alloc_count;
static _Thread_local unsigned long fail_at;
static _Thread_local int injected;

bool mock_alloc_fails(int err)
{
	if (++alloc_count != fail_at)
		return false;
	fail_at = 0;
	injected = err;
	errno = err;
	return true;
}

void mock_alloc_fail_nth(unsigned long nth)
{
	fail_at = nth ? alloc_count + nth : 0;
	injected = 0;
}

unsigned long mock_alloc_count(void)
{
	return alloc_count;
}

int mock_alloc_injected(void)
{
	return injected;
}

void *mock_malloc(size_t size)
{
	return mock_alloc_fails(ENOMEM) ? NULL : malloc(size);
}

void *mock_calloc(size_t n, size_t size)
{
	return mock_alloc_fails(ENOMEM) ? NULL : calloc(n, size);
}

void *mock_realloc(void *ptr, size_t size)
{
	return mock_alloc_fails(ENOMEM) ? NULL : realloc(ptr, size);
}

char *mock_strdup(const char *s)
{
	return mock_alloc_fails(ENOMEM) ? NULL : strdup(s);
}

int mock_memfd_create(const char *name, unsigned int flags)
{
	return mock_alloc_fails(ENOMEM) ? -1 : memfd_create(name, flags);
}

void *mock_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mock_alloc_fails(ENOMEM) ? MAP_FAILED : mmap(addr, len, prot, flags, fd, off);
}

int mock_dup_cloexec(int fd)
{
	return mock_alloc_fails(EMFILE) ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

int mock_open(const char *path, int flags)
{
	return mock_alloc_fails(EMFILE) ? -1 : open(path, flags);
}

int mock_socketpair(int domain, int type, int protocol, int sv[2])
{
	return mock_alloc_fails(EMFILE) ? -1 : socketpair(domain, type, protocol, sv);
}

int mock_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	return mock_alloc_fails(EAGAIN) ? EAGAIN : pthread_create(thread, NULL, fn, arg);
}
