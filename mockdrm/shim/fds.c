// SPDX-License-Identifier: MIT
/*
 * The fd table: which file descriptors are fake and what each refers to.
 *
 * DOC: fake fds
 *
 * A fake fd is a real fd (of /dev/null) that the table maps to a struct
 * shim_obj, the counterpart of the kernel's open file description: dup(),
 * dup2(), dup3() and fcntl(F_DUPFD, F_DUPFD_CLOEXEC) make another fd refer to
 * the same object, close() drops the fd's reference, and the last reference
 * closes the mock DRM file. The kernel keeps the fd numbers, the close-on-exec
 * flags and the copies made by fork(); the table only mirrors them.
 *
 * A call that uses an object (ioctl, mmap, fstat) holds a reference for its
 * duration, without the lock: a concurrent close() of the fd only drops the
 * fd's reference, and the file is closed when the call puts its own.
 *
 * One mutex protects the slots, every reference count, and dirs.c's list of
 * streams; it is never held while calling into the device, and dev.c takes it
 * around fork() so that the child's copy is consistent.
 *
 * An fd number that libc creates behind our back (pipe(), socket(), a raw
 * close syscall) could still carry a stale association: every pass-through
 * call that returns a new fd clears its slot, and so do close_range() and
 * closefrom().
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shim_obj **slots; /* indexed by fd */
static size_t nr_slots;
static size_t nr_fake; /* slots in use: lets real fds skip the lock */

void shim_lock(void)
{
	shim_init();
	pthread_mutex_lock(&table_lock);
}

void shim_unlock(void)
{
	pthread_mutex_unlock(&table_lock);
}

int shim_obj_create(enum shim_obj_kind kind, const struct fs_node *node, struct mockdrm_file *file,
		    struct shim_obj **out)
{
	struct shim_obj *obj = calloc(1, sizeof(*obj));

	if (!obj)
		return -ENOMEM;
	obj->refs = 1;
	obj->kind = kind;
	obj->node = node;
	obj->file = file;
	*out = obj;
	return 0;
}

void shim_obj_put(struct shim_obj *obj)
{
	unsigned int refs;
	int saved;

	if (!obj)
		return;
	shim_lock();
	refs = --obj->refs;
	shim_unlock();
	if (refs)
		return;
	saved = errno;
	if (obj->file)
		shim_dev_close(obj->file);
	mockdrm_sw_sync_close(obj->sw_sync);
	free(obj);
	errno = saved;
}

struct shim_obj *fds_get(int fd)
{
	struct shim_obj *obj = NULL;

	if (fd < 0 || !__atomic_load_n(&nr_fake, __ATOMIC_ACQUIRE))
		return NULL;
	shim_lock();
	if ((size_t)fd < nr_slots)
		obj = slots[fd];
	if (obj)
		obj->refs++;
	shim_unlock();
	return obj;
}

/* Make room for slot @fd. Called with the lock held. */
static int fds_grow(size_t fd)
{
	size_t nr = nr_slots ? nr_slots : 64;
	struct shim_obj **grown;

	while (nr <= fd)
		nr *= 2;
	grown = realloc(slots, nr * sizeof(*slots));
	if (!grown)
		return -ENOMEM;
	memset(grown + nr_slots, 0, (nr - nr_slots) * sizeof(*slots));
	slots = grown;
	nr_slots = nr;
	return 0;
}

/* Swap @obj into slot @fd and return the previous one. Lock held. */
static struct shim_obj *fds_swap(size_t fd, struct shim_obj *obj)
{
	struct shim_obj *prev = fd < nr_slots ? slots[fd] : NULL;

	if (fd < nr_slots)
		slots[fd] = obj;
	__atomic_store_n(&nr_fake, nr_fake - (prev != NULL) + (obj != NULL), __ATOMIC_RELEASE);
	return prev;
}

int fds_set(int fd, struct shim_obj *obj)
{
	struct shim_obj *prev;
	int ret = 0;

	if (fd < 0) {
		ret = -EBADF;
		goto out;
	}
	if (!obj && !__atomic_load_n(&nr_fake, __ATOMIC_ACQUIRE))
		goto out;
	shim_lock();
	if (obj && (size_t)fd >= nr_slots)
		ret = fds_grow((size_t)fd);
	prev = ret ? NULL : fds_swap((size_t)fd, obj);
	shim_unlock();
	if (!ret)
		obj = prev;
out:
	/* Either what the slot held before, or @obj that could not be stored. */
	shim_obj_put(obj);
	return ret;
}

struct shim_obj *fds_take(int fd)
{
	struct shim_obj *obj;

	if (fd < 0 || !__atomic_load_n(&nr_fake, __ATOMIC_ACQUIRE))
		return NULL;
	shim_lock();
	obj = fds_swap((size_t)fd, NULL);
	shim_unlock();
	return obj;
}

void fds_forget_range(unsigned int first, unsigned int last)
{
	size_t nr;

	shim_lock();
	nr = nr_slots; /* slots only grow */
	shim_unlock();
	for (size_t fd = first; fd <= last && fd < nr; fd++)
		shim_obj_put(fds_take((int)fd));
}
