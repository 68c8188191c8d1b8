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
 * struct mock_export - what an exported fd carries: a syncobj (plain export)
 * or a fence (sync file), each with a reference, keyed by the fd's inode.
 */
struct mock_export {
	struct mock_export *next;
	dev_t dev;
	ino_t ino;
	struct mock_syncobj *obj;
	struct mock_fence *fence;
};

/* domain.c: CLOCK_MONOTONIC now; sleep on the domain (lock held) until woken or a deadline. */
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

/* export.c */
void mock_sync_export_free(struct mock_export *x);

#endif /* GPUVM_MOCK_SYNC_PRIVATE_H */
