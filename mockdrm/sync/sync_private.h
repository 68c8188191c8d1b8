/* SPDX-License-Identifier: MIT */
/*
 * Private to mockdrm/sync/: the objects behind the opaque types of
 * mock_sync.h and the helpers the room's files share.
 */
#ifndef GPUVM_MOCK_SYNC_PRIVATE_H
#define GPUVM_MOCK_SYNC_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mock_alloc.h"
#include "mock_sync.h"

#define NSEC_PER_SEC 1000000000ll
/* drm_syncobj_find_fence() gives up a WAIT_FOR_SUBMIT after 5 s (-ETIME). */
#define SUBMIT_TIMEOUT_NS (5 * NSEC_PER_SEC)
#define MIN_SLOTS 8u

/*
 * struct mock_fence - a fence or a timeline point.
 * @sync: the domain whose lock protects @signaled, @error, @link and @prev.
 * @refs: references (atomic: mock_fence_put() runs with or without the lock).
 * @signaled: signaled (for a point: settled, see DOC: timelines).
 * @error: the error it was signaled with.
 * @chain: a timeline point: @link at @point over @prev.
 * @point: the timeline value (points only).
 * @link: the fence this point adds (a reference; NULL once settled).
 * @prev: the head below it (a reference; NULL at the bottom or once settled).
 * @deps: an array fence (a merged sync file, the kernel's dma_fence_array):
 *	signaled when all of its @nr_deps fences are (references, dropped once
 *	settled; @nr_deps stays).
 * @timestamp_ns: CLOCK_MONOTONIC time it was signaled (or found settled).
 * @driver: who made it, for SYNC_IOC_FILE_INFO (a static string).
 */
struct mock_fence {
	struct mock_sync *sync;
	atomic_uint refs;
	bool signaled;
	int error;
	bool chain;
	uint64_t point;
	struct mock_fence *link;
	struct mock_fence *prev;
	struct mock_fence **deps;
	unsigned int nr_deps;
	int64_t timestamp_ns;
	const char *driver;
};

/*
 * struct mock_syncobj - a syncobj.
 * @sync: its domain; @head and @timeline are under its lock.
 * @refs: handles, exports and temporary users (atomic).
 * @timeline: has had a point (mock_syncobj_is_timeline()).
 * @head: NULL, a plain fence or a point (a reference).
 */
struct mock_syncobj {
	struct mock_sync *sync;
	atomic_uint refs;
	bool timeline;
	struct mock_fence *head;
};

/*
 * struct mock_sync_file - what a sync-file fd carries: a name and one fence
 * (an array fence after a merge).
 */
struct mock_sync_file {
	char name[32];
	struct mock_fence *fence;
};

/*
 * struct mock_export - an fd the domain made: one end of a socket pair whose
 * other end @wfd we keep (so poll() on the fd sees what we send, and a
 * POLLHUP on @wfd tells that every copy of the fd was closed). It carries a
 * syncobj (plain export) or a sync file, each with a reference; it is found
 * again by the pipe's inode, which dup() and fork() share.
 */
struct mock_export {
	struct mock_export *next;
	dev_t dev;
	ino_t ino;
	int wfd;
	struct mock_syncobj *obj;
	struct mock_sync_file *file;
};

/*
 * struct mock_watch - something to tell through an fd once it is done: a
 * fence settled, or a syncobj point that has a fence (@available) or a
 * settled one. @fd (ours, closed after) gets an eventfd count of 1, or a byte
 * for a sync file's socket.
 */
struct mock_watch {
	struct mock_watch *next;
	struct mock_fence *fence;
	struct mock_syncobj *obj;
	uint64_t point;
	bool available;
	int fd;
	bool eventfd;
};

/* domain.c: CLOCK_MONOTONIC now; sleep on the domain (lock held) until woken or a deadline. */
struct mock_sync *mock_sync_root(void);
void mock_sync_wake_locked(struct mock_sync *sync);
int64_t mock_sync_now_ns(void);
int mock_sync_sleep(struct mock_sync *sync, int64_t deadline_ns);

/* fence.c */
struct mock_fence *mock_fence_alloc(struct mock_sync *sync, bool signaled);
bool mock_fence_settle(struct mock_fence *f);

/* syncobj.c: the container and its timeline (lock held where named _locked or noted). */
struct mock_syncobj *mock_syncobj_alloc(struct mock_sync *sync);
void mock_syncobj_get(struct mock_syncobj *s);
int mock_syncobj_fence_locked(struct mock_syncobj *s, uint64_t point, struct mock_fence **out);
void mock_syncobj_replace(struct mock_syncobj *s, struct mock_fence *f);
void mock_syncobj_add_point(struct mock_syncobj *s, struct mock_fence *node, uint64_t point,
			    struct mock_fence *f);
uint64_t mock_syncobj_last_point(const struct mock_syncobj *s);
uint64_t mock_syncobj_last_signaled(struct mock_syncobj *s);

/* table.c: a file's handles (lock held). */
struct mock_syncobj *mock_sync_table_lookup(const struct mock_sync_table *t, uint32_t handle);
int mock_sync_table_insert(struct mock_sync_table *t, struct mock_syncobj *s, uint32_t *handle);
int mock_sync_table_find_array(const struct mock_sync_table *t, const uint32_t *handles,
			       uint32_t count, struct mock_syncobj **objs);

/* export.c: the registry of exported fds (lock held). */
int mock_export_fd(struct mock_syncobj *obj, struct mock_sync_file *file, int *fd_out);
struct mock_export *mock_export_lookup(int fd);

/* file.c: sync files. */
void mock_sync_file_free(struct mock_sync_file *file);
int mock_sync_file_export_locked(struct mock_fence *f, const char *name, int *fd_out);

/* watch.c: the watches (lock held). */
void mock_watch_add_locked(struct mock_watch *w);
void mock_watch_kick_locked(void);

#endif /* GPUVM_MOCK_SYNC_PRIVATE_H */
