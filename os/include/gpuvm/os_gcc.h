/* SPDX-License-Identifier: MIT */
/*
 * gpuvm OS layer: what the userspace (os_user.h) and freestanding
 * (os_freestanding.h) layers share, the GCC and Clang builtins for
 * attributes and atomics, and spinlocks that are the layer's mutexes. Each
 * of them includes it; the kernel's layer (os_linux_kernel.h) uses the
 * kernel's own.
 */
#ifndef GPUVM_OS_GCC_H
#define GPUVM_OS_GCC_H

#include <stdint.h>

/* Attributes under names a kernel build defines too (its noinline is a macro). */
#define os_noinline __attribute__((noinline))
#define os_cold __attribute__((cold))
#define os_fallthrough __attribute__((fallthrough))

/*
 * Spinlocks are the layer's mutexes (os_spinlock is its os_mutex): short
 * sections, and TSan understands them.
 */
#define os_spin_init os_mutex_init
#define os_spin_destroy os_mutex_destroy
#define os_spin_lock os_mutex_lock
#define os_spin_unlock os_mutex_unlock

/*
 * Atomics: compiler builtins. In a freestanding build, check-freestanding
 * shows when one needs a library on the target.
 */
#define os_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define os_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define os_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define os_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* A statistics counter: relaxed increments from any thread. */
struct os_counter {
	uint64_t v;
};

#endif /* GPUVM_OS_GCC_H */
