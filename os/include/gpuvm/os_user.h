/* SPDX-License-Identifier: MIT */
/*
 * gpuvm OS layer, userspace: libc, pthread, GCC atomics (see <gpuvm/os.h>).
 */
#ifndef GPUVM_OS_USER_H
#define GPUVM_OS_USER_H

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gpuvm/os_gcc.h>

#define OS_PRIx64 PRIx64
#define OS_PRIu64 PRIu64

/* --- memory --- */

static inline void *os_malloc(size_t size)
{
	return malloc(size);
}

static inline void *os_zalloc(size_t size)
{
	return calloc(1, size);
}

static inline void *os_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static inline void *os_realloc(void *ptr, size_t size)
{
	return realloc(ptr, size);
}

/* @size must be a multiple of @align (a power of two), as for aligned_alloc(). */
static inline void *os_aligned_alloc(size_t align, size_t size)
{
	return aligned_alloc(align, size);
}

static inline void os_free(void *ptr)
{
	free(ptr);
}

static inline void *os_kvcalloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static inline void os_kvfree(void *ptr)
{
	free(ptr);
}

/* --- locks --- */

typedef pthread_mutex_t os_mutex;
typedef pthread_mutex_t os_spinlock;

static inline int os_mutex_init(os_mutex *m)
{
	return pthread_mutex_init(m, NULL) ? -ENOMEM : 0;
}

static inline void os_mutex_destroy(os_mutex *m)
{
	pthread_mutex_destroy(m);
}

static inline void os_mutex_lock(os_mutex *m)
{
	int ret = pthread_mutex_lock(m);

	assert(ret == 0);
	(void)ret;
}

static inline void os_mutex_unlock(os_mutex *m)
{
	int ret = pthread_mutex_unlock(m);

	assert(ret == 0);
	(void)ret;
}

/* True when the lock was taken. */
static inline bool os_mutex_trylock(os_mutex *m)
{
	return pthread_mutex_trylock(m) == 0;
}

/* Spinlocks are these mutexes, and loads and stores are builtins: os_gcc.h. */

/* --- atomics --- */

static inline void os_counter_add(struct os_counter *c, uint64_t n)
{
	__atomic_fetch_add(&c->v, n, __ATOMIC_RELAXED);
}

static inline uint64_t os_counter_read(const struct os_counter *c)
{
	return __atomic_load_n(&c->v, __ATOMIC_RELAXED);
}

/* --- warnings and fatal errors --- */

void os_warn_report(const char *file, int line, const char *cond);

/*
 * Where os_warn_report() sends a warning: stderr by default, or @hook (NULL
 * restores stderr). Tests set one to count the warnings a misuse fires. Set it
 * while no other thread can warn.
 */
typedef void os_warn_hook_fn(void *ctx, const char *file, int line, const char *cond);
void os_set_warn_hook(os_warn_hook_fn *hook, void *ctx);
__attribute__((noreturn, format(printf, 1, 2))) void os_fatal(const char *fmt, ...);

#define os_assert(cond) assert(cond)

/* Evaluates to the truth of @cond; reports on stderr the first time it is true. */
#define os_warn_on_once(cond)                                      \
	__extension__({                                            \
		static bool os_warned_;                            \
		bool os_cond_ = !!(cond);                          \
		if (os_cond_ && !os_warned_) {                     \
			os_warned_ = true;                         \
			os_warn_report(__FILE__, __LINE__, #cond); \
		}                                                  \
		os_cond_;                                          \
	})

/* --- 64-bit division (plain operators in userspace) --- */

static inline uint64_t os_div_u64(uint64_t a, uint64_t b)
{
	return a / b;
}

static inline uint64_t os_mod_u64(uint64_t a, uint64_t b)
{
	return a % b;
}

/* --- RCU-style deferred free --- */

/*
 * Readers between os_rcu_read_lock() and os_rcu_read_unlock(); a writer's
 * os_synchronize_rcu() returns once every reader that was inside has left, so
 * memory unlinked before it may be freed after it. Here a process-wide
 * reader-writer lock: correct, not scalable (tests use it).
 */
void os_rcu_read_lock(void);
void os_rcu_read_unlock(void);
void os_synchronize_rcu(void);

/* Set bits of @x (the kernel has no libgcc to call for it). */
static inline unsigned int os_popcount64(uint64_t x)
{
	return (unsigned int)__builtin_popcountll(x);
}

/* Trailing and leading zero bits of a non-zero @x, as __builtin_ctzll/clzll. */
static inline int os_ctz64(uint64_t x)
{
	return __builtin_ctzll(x);
}

static inline int os_clz64(uint64_t x)
{
	return __builtin_clzll(x);
}

/* --- the calling thread --- */

/* A small number for spreading threads over shards: threads in first-call order. */
unsigned int os_thread_hint(void);

/* Fence-signalling sections of the calling thread (see pt_signalling_begin()): inline, a bind's hot path. */
extern _Thread_local unsigned int os_signalling_depth;

static inline void os_signalling_begin(void)
{
	os_signalling_depth++;
}

static inline void os_signalling_end(void)
{
	assert(os_signalling_depth);
	os_signalling_depth--;
}

static inline bool os_signalling_active(void)
{
	return os_signalling_depth != 0;
}

/*
 * Thread caches: struct os_tcache_owner is embedded in an owner (a pool).
 * Each thread may attach one cache per owner; os_tcache_find() returns it
 * without a lock. When a thread exits, @release runs for each of its caches
 * whose owner is still registered, under the registry lock (lock order:
 * registry, then the owner's locks); os_tcache_unregister() waits for a
 * running @release, so that afterwards the owner may free its caches.
 */
struct os_tcache_owner {
	uint64_t gen;
	struct os_tcache_owner *next, *prev;
	void (*release)(struct os_tcache_owner *owner, void *cache);
};

struct os_tcache_slot {
	const struct os_tcache_owner *owner; /* compared; dereferenced only while registered */
	uint64_t gen;
	void *cache;
};

struct os_tcache_thread {
	unsigned int n, cap;
	struct os_tcache_slot slot[];
};

extern _Thread_local struct os_tcache_thread *os_tcache_self;

void os_tcache_register(struct os_tcache_owner *owner,
			void (*release)(struct os_tcache_owner *owner, void *cache));
void os_tcache_unregister(struct os_tcache_owner *owner);
int os_tcache_attach(struct os_tcache_owner *owner, void *cache);
/* In a fork() child: start the registry lock anew (another thread may have held it). */
void os_tcache_fork_child(void);

/* The calling thread's cache in @owner, or NULL: the fast path, no lock. */
static inline void *os_tcache_find(const struct os_tcache_owner *owner)
{
	struct os_tcache_thread *th = os_tcache_self;

	for (unsigned int i = 0; th && i < th->n; i++) {
		if (th->slot[i].owner == owner && th->slot[i].gen == owner->gen)
			return th->slot[i].cache;
	}
	return NULL;
}

#endif /* GPUVM_OS_USER_H */
