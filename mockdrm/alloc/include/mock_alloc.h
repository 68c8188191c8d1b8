/* SPDX-License-Identifier: MIT */
/*
 * Interface of mockdrm/alloc/: the one door through which the mock device
 * takes memory, file descriptors and threads on behalf of an ioctl, so that
 * a test can make any one of those allocations fail.
 *
 * DOC: allocation-failure injection
 *
 * Every allocation the device makes for a caller - mockdrm's own
 * malloc/calloc/realloc/strdup, BO memfds and their mappings, the fds of
 * dma-bufs, sync files and eventfd watches, queue threads, the page-table
 * pages its pool gives pgtable and the metadata pgtable and gvm allocate
 * through the host ops the device supplies (mock_host_ops, mockdrm/gpu) -
 * first asks mock_alloc_fails(). Each ask counts as one allocation of the
 * calling thread; the one a test armed with mock_alloc_fail_nth() fails, as
 * the kernel's allocation would: memory with ENOMEM, fds with EMFILE, threads
 * with EAGAIN (the device reports -ENOMEM for those).
 *
 * State is per thread: an ioctl allocates on its caller's thread, so a test
 * counts and fails exactly that ioctl's allocations; queue workers count
 * their own (nothing arms them). Frees go to libc directly.
 *
 * Allocations pgtable and vm make from libc themselves (the pool's chunks and
 * thread caches, the paging backend's private struct, debug validators)
 * do not pass here.
 */
#ifndef GPUVM_MOCK_ALLOC_H
#define GPUVM_MOCK_ALLOC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/**
 * mock_alloc_fails() - the injection point: count one allocation.
 * @err: the positive errno this allocation fails with (ENOMEM, EMFILE, ...).
 *
 * Context: any thread; lock-free (thread-local state).
 * Return: true when this is the allocation a test armed to fail.
 */
bool mock_alloc_fails(int err);

/* libc's allocators through the injection point: NULL with errno ENOMEM when failed. */
void *mock_malloc(size_t size);
void *mock_calloc(size_t n, size_t size);
void *mock_realloc(void *ptr, size_t size);
char *mock_strdup(const char *s);

/* memfd_create() and mmap(): -1 / MAP_FAILED with errno ENOMEM when failed. */
int mock_memfd_create(const char *name, unsigned int flags);
void *mock_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

/*
 * New file descriptors: fcntl(F_DUPFD_CLOEXEC), open(), socketpair();
 * -1 with errno EMFILE when failed.
 */
int mock_dup_cloexec(int fd);
int mock_open(const char *path, int flags);
int mock_socketpair(int domain, int type, int protocol, int sv[2]);

/* pthread_create() with default attributes: EAGAIN when failed. */
int mock_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/**
 * mock_alloc_fail_nth() - tests only: make the calling thread's @nth
 * allocation from now fail (1: the next one), once.
 * @nth: which one; 0 disarms.
 *
 * Also forgets what mock_alloc_injected() reported.
 * Context: the thread that will make the call under test.
 */
void mock_alloc_fail_nth(unsigned long nth);

/**
 * mock_alloc_count() - tests only: allocations the calling thread has asked
 * mock_alloc_fails() for so far (failed ones included).
 *
 * Return: the count; differences of two reads count a call's allocations.
 */
unsigned long mock_alloc_count(void);

/**
 * mock_alloc_injected() - tests only: did the armed failure happen?
 *
 * Return: 0 if not (yet); else the positive errno the failed allocation
 * stood for (ENOMEM, EMFILE, EAGAIN).
 */
int mock_alloc_injected(void);

/**
 * mock_alloc_injected_site() - tests only: where the failed allocation was
 * asked for: the return address into the function that called the
 * allocator (mock_calloc(), ...). For pgtable's and gvm's metadata that is
 * mock_host_ops' allocator, or the site in pgtable/vm when the compiler made
 * the allocator's call a tail call.
 *
 * Return: the code address, or NULL when no failure was injected.
 */
const void *mock_alloc_injected_site(void);

#endif /* GPUVM_MOCK_ALLOC_H */
