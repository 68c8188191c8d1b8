/* SPDX-License-Identifier: MIT */
/*
 * gpuvm OS layer, Linux kernel (see <gpuvm/os.h>): kmalloc/kvmalloc, struct
 * mutex and spinlock_t, READ_ONCE/smp_load_acquire, WARN_ON_ONCE, div64.
 *
 * Allocations use GFP_KERNEL: the core allocates only outside commits (see
 * DOC: fence-signalling annotations in <gpuvm/pt.h>), where it may sleep.
 * There are no thread caches: os_tcache_find() is always NULL, so a pt_pool
 * takes its lock for every call. The kernel has no cheap per-task slot for a
 * module; lockdep's dma_fence signalling annotations are the kernel's check for
 * allocations in a commit, so os_signalling_active() is always false here.
 */
#ifndef GPUVM_OS_LINUX_KERNEL_H
#define GPUVM_OS_LINUX_KERNEL_H

#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>

#define OS_PRIx64 "llx"
#define OS_PRIu64 "llu"

#define os_noinline noinline
#define os_cold __cold
#define os_fallthrough fallthrough

/* --- memory --- */

static inline void *os_malloc(size_t size)
{
	return kmalloc(size, GFP_KERNEL);
}

static inline void *os_zalloc(size_t size)
{
	return kzalloc(size, GFP_KERNEL);
}

static inline void *os_calloc(size_t n, size_t size)
{
	return kcalloc(n, size, GFP_KERNEL);
}

static inline void *os_realloc(void *ptr, size_t size)
{
	return krealloc(ptr, size, GFP_KERNEL);
}

/*
 * kmalloc() aligns a power-of-two size to itself (and larger ones come from the
 * page allocator, aligned to their order); anything else is refused.
 */
static inline void *os_aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (!is_power_of_2(size) || align > size)
		return NULL;
	p = kmalloc(size, GFP_KERNEL);
	if (p && WARN_ON_ONCE((uintptr_t)p & (align - 1))) {
		kfree(p);
		return NULL;
	}
	return p;
}

static inline void os_free(void *ptr)
{
	kfree(ptr);
}

static inline void *os_kvcalloc(size_t n, size_t size)
{
	return kvcalloc(n, size, GFP_KERNEL);
}

static inline void os_kvfree(void *ptr)
{
	kvfree(ptr);
}

/* --- locks --- */

typedef struct mutex os_mutex;
typedef spinlock_t os_spinlock;

static inline int os_mutex_init(os_mutex *m)
{
	mutex_init(m);
	return 0;
}

static inline void os_mutex_destroy(os_mutex *m)
{
	mutex_destroy(m);
}

static inline void os_mutex_lock(os_mutex *m)
{
	mutex_lock(m);
}

static inline void os_mutex_unlock(os_mutex *m)
{
	mutex_unlock(m);
}

static inline bool os_mutex_trylock(os_mutex *m)
{
	return mutex_trylock(m);
}

static inline int os_spin_init(os_spinlock *s)
{
	spin_lock_init(s);
	return 0;
}

static inline void os_spin_destroy(os_spinlock *s)
{
}

static inline void os_spin_lock(os_spinlock *s)
{
	spin_lock(s);
}

static inline void os_spin_unlock(os_spinlock *s)
{
	spin_unlock(s);
}

/* --- atomics --- */

#define os_load_relaxed(p) READ_ONCE(*(p))
#define os_store_relaxed(p, v) WRITE_ONCE(*(p), (v))
#define os_load_acquire(p) smp_load_acquire(p)
#define os_store_release(p, v) smp_store_release((p), (v))

struct os_counter {
	atomic64_t v;
};

static inline void os_counter_add(struct os_counter *c, uint64_t n)
{
	atomic64_add((s64)n, &c->v);
}

static inline uint64_t os_counter_read(const struct os_counter *c)
{
	return (uint64_t)atomic64_read(&c->v);
}

/* --- warnings and fatal errors --- */

#define os_assert(cond) WARN_ON_ONCE(!(cond))
#define os_warn_on_once(cond) WARN_ON_ONCE(cond)
#define os_fatal(...) panic(__VA_ARGS__)

/* --- 64-bit division --- */

static inline uint64_t os_div_u64(uint64_t a, uint64_t b)
{
	return div64_u64(a, b);
}

static inline uint64_t os_mod_u64(uint64_t a, uint64_t b)
{
	u64 rem;

	div64_u64_rem(a, b, &rem);
	return rem;
}

/* --- RCU-style deferred free --- */

static inline void os_rcu_read_lock(void)
{
	rcu_read_lock();
}

static inline void os_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

static inline void os_synchronize_rcu(void)
{
	synchronize_rcu();
}

static inline unsigned int os_popcount64(uint64_t x)
{
	return hweight64(x);
}

static inline int os_ctz64(uint64_t x)
{
	return (int)__ffs64(x);
}

static inline int os_clz64(uint64_t x)
{
	return 64 - fls64(x);
}

/* --- the calling thread --- */

static inline unsigned int os_thread_hint(void)
{
	return raw_smp_processor_id();
}

static inline void os_signalling_begin(void)
{
}

static inline void os_signalling_end(void)
{
}

static inline bool os_signalling_active(void)
{
	return false;
}

struct os_tcache_owner {
	int unused;
};

static inline void os_tcache_register(struct os_tcache_owner *owner,
				      void (*release)(struct os_tcache_owner *owner, void *cache))
{
}

static inline void os_tcache_unregister(struct os_tcache_owner *owner)
{
}

static inline int os_tcache_attach(struct os_tcache_owner *owner, void *cache)
{
	return -EOPNOTSUPP;
}

static inline void *os_tcache_find(const struct os_tcache_owner *owner)
{
	return NULL;
}

static inline void os_tcache_fork_child(void)
{
}

#endif /* GPUVM_OS_LINUX_KERNEL_H */
