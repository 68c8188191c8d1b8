// SPDX-License-Identifier: MIT
/*
 * gpuvm OS layer, userspace: what cannot be inline (see <gpuvm/os_user.h>).
 *
 * DOC: thread caches and teardown
 *
 * A thread finds its caches through one process-wide key, created once and
 * never deleted, whose value lists the thread's cache of each owner it used
 * (struct os_tcache_thread, also kept in a _Thread_local pointer for the fast
 * path). Its destructor, when the thread exits, gives each cache back to its
 * owner - if that owner is still registered. Owners are registered in a
 * process-wide list with a generation number; os_tcache_unregister() and the
 * destructor work under the same lock, so a destructor never touches an owner
 * that is gone, whichever runs first (a per-owner key did not allow that:
 * pthread_key_delete() does not wait for a destructor that already started).
 * A thread's entry for a gone owner is recognized by its generation (the
 * owner's address may be reused) and dropped when the thread next attaches.
 */
#include <stdarg.h>
#include <stdio.h>

#include <gpuvm/os.h>
#include <gpuvm/print_file.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
/* Registered owners, a circular list under registry_lock. */
static struct os_tcache_owner registry = { 0, &registry, &registry, NULL };
static uint64_t registry_gen; /* under registry_lock */
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static bool thread_key_ok;
_Thread_local struct os_tcache_thread *os_tcache_self;

/* Is (@owner, @gen) registered? Under registry_lock; @owner is not dereferenced otherwise. */
static bool owner_alive_locked(const struct os_tcache_owner *owner, uint64_t gen)
{
	for (const struct os_tcache_owner *o = registry.next; o != &registry; o = o->next) {
		if (o == owner)
			return o->gen == gen;
	}
	return false;
}

/* Thread exit: give each cache back to its owner, if the owner still exists. */
static void thread_destructor(void *arg)
{
	struct os_tcache_thread *th = arg;

	os_tcache_self = NULL;
	os_mutex_lock(&registry_lock);
	for (unsigned int i = 0; i < th->n; i++) {
		struct os_tcache_slot *s = &th->slot[i];

		/* os_tcache_unregister() passed: the owner freed the cache itself. */
		if (owner_alive_locked(s->owner, s->gen))
			s->owner->release((struct os_tcache_owner *)s->owner, s->cache);
	}
	os_mutex_unlock(&registry_lock);
	free(th);
}

static void thread_key_make(void)
{
	thread_key_ok = pthread_key_create(&thread_key, thread_destructor) == 0;
}

void os_tcache_register(struct os_tcache_owner *owner,
			void (*release)(struct os_tcache_owner *owner, void *cache))
{
	owner->release = release;
	os_mutex_lock(&registry_lock);
	owner->gen = ++registry_gen;
	owner->next = registry.next;
	owner->prev = &registry;
	registry.next->prev = owner;
	registry.next = owner;
	os_mutex_unlock(&registry_lock);
}

void os_tcache_unregister(struct os_tcache_owner *owner)
{
	os_mutex_lock(&registry_lock);
	owner->prev->next = owner->next;
	owner->next->prev = owner->prev;
	os_mutex_unlock(&registry_lock);
}

/* Drop the slots of gone owners; make room for one more. Under registry_lock. */
static struct os_tcache_thread *thread_slots_locked(struct os_tcache_thread *th)
{
	unsigned int kept = 0;
	struct os_tcache_thread *bigger;

	for (unsigned int i = 0; th && i < th->n; i++) {
		if (owner_alive_locked(th->slot[i].owner, th->slot[i].gen))
			th->slot[kept++] = th->slot[i];
	}
	if (th) {
		th->n = kept;
		if (kept < th->cap)
			return th;
	}
	bigger = realloc(th, sizeof(*th) + (kept + 4) * sizeof(th->slot[0]));
	if (!bigger)
		return NULL;
	if (!th)
		bigger->n = 0;
	bigger->cap = kept + 4;
	return bigger;
}

int os_tcache_attach(struct os_tcache_owner *owner, void *cache)
{
	struct os_tcache_thread *th;

	if (pthread_once(&thread_key_once, thread_key_make) || !thread_key_ok)
		return -ENOMEM;
	os_mutex_lock(&registry_lock);
	th = thread_slots_locked(os_tcache_self);
	if (th && th != os_tcache_self && pthread_setspecific(thread_key, th)) {
		/* Only a first value can fail to be set: this thread had none. */
		assert(!os_tcache_self);
		free(th);
		th = NULL;
	}
	if (th) {
		os_tcache_self = th;
		th->slot[th->n++] = (struct os_tcache_slot){ owner, owner->gen, cache };
	}
	os_mutex_unlock(&registry_lock);
	return th ? 0 : -ENOMEM;
}

void os_tcache_fork_child(void)
{
	pthread_mutex_init(&registry_lock, NULL);
}

/*
 * Threads are numbered in the order of their first call. 0 means "not numbered
 * yet"; after 2^32 threads the count wraps, and a thread that drew 0 draws
 * again on every call, which only changes its shard.
 */
static unsigned int thread_next;
static _Thread_local unsigned int thread_nr;
_Thread_local unsigned int os_signalling_depth;

unsigned int os_thread_hint(void)
{
	if (!thread_nr)
		thread_nr = __atomic_fetch_add(&thread_next, 1, __ATOMIC_RELAXED) + 1;
	return thread_nr - 1;
}

static pthread_rwlock_t rcu_lock = PTHREAD_RWLOCK_INITIALIZER;

void os_rcu_read_lock(void)
{
	pthread_rwlock_rdlock(&rcu_lock);
}

void os_rcu_read_unlock(void)
{
	pthread_rwlock_unlock(&rcu_lock);
}

/* Taking the lock for writing waits for every reader inside; new ones wait for us. */
void os_synchronize_rcu(void)
{
	pthread_rwlock_wrlock(&rcu_lock);
	pthread_rwlock_unlock(&rcu_lock);
}

static os_warn_hook_fn *warn_hook;
static void *warn_hook_ctx;

void os_set_warn_hook(os_warn_hook_fn *hook, void *ctx)
{
	warn_hook = hook;
	warn_hook_ctx = ctx;
}

void os_warn_report(const char *file, int line, const char *cond)
{
	if (warn_hook)
		warn_hook(warn_hook_ctx, file, line, cond);
	else
		fprintf(stderr, "gpuvm: warning at %s:%d: %s\n", file, line, cond);
}

void os_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

void gpuvm_print_file(void *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(file, fmt, ap);
	va_end(ap);
}
