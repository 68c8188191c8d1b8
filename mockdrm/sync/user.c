// SPDX-License-Identifier: MIT
/*
 * copy_from_user() and copy_to_user() for a device that runs in its caller's
 * process (see mock_user.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mock_alloc.h"
#include "mock_user.h"

/**
 * mock_copy_from_user() - read @len bytes of the caller's memory at @src.
 * @dst: where to put them.
 * @src: the caller's address (an ioctl's u64 pointer field).
 * @len: bytes; 0 reads nothing and succeeds, whatever @src is.
 *
 * The read goes through process_vm_readv() on our own pid: the kernel checks
 * the address, so an unmapped or unreadable one fails instead of faulting.
 *
 * Context: any; a system call.
 * Return: 0, or -EFAULT when any byte cannot be read.
 */
int mock_copy_from_user(void *dst, uint64_t src, size_t len)
{
	struct iovec local = { .iov_base = dst, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)src, .iov_len = len };

	if (!len)
		return 0;
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/**
 * mock_copy_to_user() - write @len bytes to the caller's memory at @dst.
 * @dst: the caller's address.
 * @src: the bytes.
 * @len: how many; 0 writes nothing and succeeds.
 *
 * Through process_vm_writev(), which honours the page protections: a
 * read-only page gives -EFAULT, as copy_to_user() does.
 *
 * Context: any; a system call.
 * Return: 0, or -EFAULT when any byte cannot be written (bytes before an
 * unwritable page may have been written, as with the kernel's copy).
 */
int mock_copy_to_user(uint64_t dst, const void *src, size_t len)
{
	struct iovec local = { .iov_base = (void *)src, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)dst, .iov_len = len };

	if (!len)
		return 0;
	return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/**
 * mock_copy_array_from_user() - copy a user array into new memory, once.
 * @out: set to the copy (free() it), or NULL for @count 0.
 * @src: the caller's array.
 * @count: elements.
 * @elem_size: bytes per element.
 *
 * Context: allocates.
 * Return: 0; -ENOMEM when the array is larger than MOCK_USER_ARRAY_MAX (as
 * the kernel's allocation of the copy fails) or memory runs out; -EFAULT.
 */
int mock_copy_array_from_user(void **out, uint64_t src, uint32_t count, size_t elem_size)
{
	size_t len = (size_t)count * elem_size;
	void *copy;
	int ret;

	*out = NULL;
	if (!count)
		return 0;
	if (len / elem_size != count || len > MOCK_USER_ARRAY_MAX)
		return -ENOMEM;
	copy = mock_malloc(len);
	if (!copy)
		return -ENOMEM;
	ret = mock_copy_from_user(copy, src, len);
	if (ret) {
		free(copy);
		return ret;
	}
	*out = copy;
	return 0;
}
