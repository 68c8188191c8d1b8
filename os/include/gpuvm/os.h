/* SPDX-License-Identifier: MIT */
/*
 * gpuvm OS layer: the only way pgtable/ and vm/ reach memory, locks, atomics,
 * warnings, 64-bit division and the calling thread. One header per
 * environment implements the same names:
 *
 * - os_user.h: userspace (libc, pthread, GCC atomics), the default;
 * - os_linux_kernel.h: a Linux kernel module (__KERNEL__ is defined by Kbuild);
 * - os_freestanding.h: GPUVM_OS_FREESTANDING, declarations only, for a build
 *   that checks which symbols the core needs from its environment.
 *
 * os_user.h and os_freestanding.h take what they share (attributes, builtin
 * atomics, spinlocks that are the layer's mutexes) from os_gcc.h.
 *
 * DOC: OS layer contract
 *
 * Memory: os_malloc/os_zalloc/os_calloc/os_realloc/os_aligned_alloc return NULL
 * on failure and are released with os_free; os_kvcalloc (large arrays, may be
 * virtually contiguous only) with os_kvfree. memcpy/memset/memmove/memcmp are
 * declared by the layer. Errno names (EINVAL ...) come from the layer with the
 * kernel's numbers.
 * Locks: os_mutex may sleep; os_spinlock may not. Atomics: os_load_relaxed,
 * os_store_relaxed, os_load_acquire, os_store_release on naturally aligned
 * scalars up to the machine word (and 64-bit descriptors on 64-bit machines);
 * struct os_counter is a relaxed 64-bit statistics counter.
 * Thread caches (os_tcache_*): a per-thread slot that an owner (a pool) may use
 * without a lock; an environment that has none returns NULL from
 * os_tcache_find() and -EOPNOTSUPP from os_tcache_attach(), and the owner then
 * takes its own lock for every call.
 */
#ifndef GPUVM_OS_H
#define GPUVM_OS_H

#if defined(__KERNEL__)
#include <gpuvm/os_linux_kernel.h>
#elif defined(GPUVM_OS_FREESTANDING)
#include <gpuvm/os_freestanding.h>
#else
#include <gpuvm/os_user.h>
#endif

/*
 * os_misuse() - a caller broke a documented contract of a public function.
 * True when @cond holds, with a one-time warning per call site through the
 * environment (os_warn_on_once(): the kernel's WARN_ON_ONCE). The function
 * then refuses: it returns -EINVAL (bad argument, wrong order) or -EBUSY
 * (still in use) and changes nothing. Unlike os_assert() it holds in release
 * builds; one predictable branch. Write the condition as `cond && "what"` so
 * that the warning says what was broken.
 */
#define os_misuse(cond) __builtin_expect(!!os_warn_on_once(cond), 0)

/* Both operands of a 64-bit division are unsigned 64-bit; the helpers keep 32-bit builds libgcc-free. */
#define os_div_round_up_u64(a, b) os_div_u64((a) + (b)-1, (b))

#endif /* GPUVM_OS_H */
