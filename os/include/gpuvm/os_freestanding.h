/* SPDX-License-Identifier: MIT */
/*
 * gpuvm OS layer, freestanding (GPUVM_OS_FREESTANDING; see <gpuvm/os.h>):
 * declarations only. A build of the core against it links to nothing but
 * the os_* functions below and memcpy/memset/memmove/memcmp, which is what
 * tools/kmod/check-freestanding verifies (no libgcc helper such as __udivdi3,
 * no libc, no libatomic). An environment that wants to embed the core defines
 * these functions; the kernel's inline versions are in os_linux_kernel.h.
 */
#ifndef GPUVM_OS_FREESTANDING_H
#define GPUVM_OS_FREESTANDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpuvm/os_gcc.h>

#if __SIZEOF_LONG__ == 8
#define OS_PRIx64 "lx"
#define OS_PRIu64 "lu"
#else
#define OS_PRIx64 "llx"
#define OS_PRIu64 "llu"
#endif

/* The kernel's errno numbers (asm-generic/errno-base.h, errno.h). */
#define ENOENT 2
#define EAGAIN 11
#define ENOMEM 12
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define EPROTO 71
#define EOVERFLOW 75
#define EOPNOTSUPP 95
#define EUCLEAN 117

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *os_malloc(size_t size);
void *os_zalloc(size_t size);
void *os_calloc(size_t n, size_t size);
void *os_realloc(void *ptr, size_t size);
void *os_aligned_alloc(size_t align, size_t size);
void os_free(void *ptr);
void *os_kvcalloc(size_t n, size_t size);
void os_kvfree(void *ptr);

/* Room for any environment's lock (struct gvm_lock_room has 64 bytes). */
typedef struct {
	uint64_t opaque[6];
} os_mutex;
typedef os_mutex os_spinlock;

int os_mutex_init(os_mutex *m);
void os_mutex_destroy(os_mutex *m);
void os_mutex_lock(os_mutex *m);
void os_mutex_unlock(os_mutex *m);
bool os_mutex_trylock(os_mutex *m);
/* Spinlocks, atomics and struct os_counter: os_gcc.h. */

void os_counter_add(struct os_counter *c, uint64_t n);
uint64_t os_counter_read(const struct os_counter *c);

__attribute__((noreturn)) void os_assert_failed(const char *file, int line, const char *cond);
void os_warn_report(const char *file, int line, const char *cond);
__attribute__((noreturn, format(printf, 1, 2))) void os_fatal(const char *fmt, ...);

#define os_assert(cond) ((cond) ? (void)0 : os_assert_failed(__FILE__, __LINE__, #cond))
#define os_warn_on_once(cond) ((cond) ? (os_warn_report(__FILE__, __LINE__, #cond), true) : false)

uint64_t os_div_u64(uint64_t a, uint64_t b);
uint64_t os_mod_u64(uint64_t a, uint64_t b);
unsigned int os_popcount64(uint64_t x);

/* On 32-bit targets the 64-bit builtins call libgcc: two 32-bit halves instead. */
static inline int os_ctz64(uint64_t x)
{
	return (uint32_t)x ? __builtin_ctz((uint32_t)x) : 32 + __builtin_ctz((uint32_t)(x >> 32));
}

static inline int os_clz64(uint64_t x)
{
	return x >> 32 ? __builtin_clz((uint32_t)(x >> 32)) : 32 + __builtin_clz((uint32_t)x);
}

void os_rcu_read_lock(void);
void os_rcu_read_unlock(void);
void os_synchronize_rcu(void);

unsigned int os_thread_hint(void);
void os_signalling_begin(void);
void os_signalling_end(void);
bool os_signalling_active(void);

struct os_tcache_owner {
	void *opaque;
};

void os_tcache_register(struct os_tcache_owner *owner,
			void (*release)(struct os_tcache_owner *owner, void *cache));
void os_tcache_unregister(struct os_tcache_owner *owner);
int os_tcache_attach(struct os_tcache_owner *owner, void *cache);
void *os_tcache_find(const struct os_tcache_owner *owner);
void os_tcache_fork_child(void);

#endif /* GPUVM_OS_FREESTANDING_H */
