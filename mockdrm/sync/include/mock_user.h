/* SPDX-License-Identifier: MIT */
/*
 * Copies between the mock and its caller's memory, as the kernel's
 * copy_from_user() and copy_to_user() do: an address the caller cannot read
 * (or write) gives -EFAULT instead of crashing the mock. Every ioctl reads a
 * user array once, into its own copy, and never looks at the user's memory
 * again: another thread changing it meanwhile cannot change what was checked.
 *
 * Part of mockdrm/sync/ (the lowest room), so that every room above uses the
 * same helpers.
 */
#ifndef GPUVM_MOCK_USER_H
#define GPUVM_MOCK_USER_H

#include <stddef.h>
#include <stdint.h>

/*
 * The largest array an ioctl copies in: the kernel's kmalloc_array() of the
 * copy fails above KMALLOC_MAX_SIZE (4 MiB with 4 KiB pages), with -ENOMEM.
 */
#define MOCK_USER_ARRAY_MAX (4u << 20)

int mock_copy_from_user(void *dst, uint64_t src, size_t len);
int mock_copy_to_user(uint64_t dst, const void *src, size_t len);
int mock_copy_array_from_user(void **out, uint64_t src, uint32_t count, size_t elem_size);

#endif /* GPUVM_MOCK_USER_H */
