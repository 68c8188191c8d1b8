/* SPDX-License-Identifier: MIT */
/*
 * Interface of mockdrm/sync/: fences, syncobjs and the generic DRM syncobj ioctls.
 *
 * DOC: fences and syncobjs
 *
 * A fence (struct mock_fence) is a one-shot event: pending, then signaled with
 * an error code (0 = success). Work the device queues (async binds, command
 * streams) gets a fence when it is submitted and signals it when done.
 *
 * A syncobj is a container, as in the kernel's drm_syncobj: a binary syncobj
 * holds at most one fence (replaced by each signal); a timeline syncobj holds
 * fences at increasing 64-bit points (point p is signaled when every fence at a
 * point <= p is). Handles are per open file (struct mock_sync_table);
 * the objects are shared through fds (export/import).
 *
 * Everything is protected by one lock per process (DOC: one domain per
 * process in domain.c), whose condition variable every waiter sleeps on and
 * every signal broadcasts. Waits take absolute CLOCK_MONOTONIC deadlines, as
 * the ioctls do.
 */
#ifndef GPUVM_MOCK_SYNC_H
#define GPUVM_MOCK_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

struct mock_export;
struct mock_fence;
struct mock_syncobj;

/*
 * A device's view of the synchronization domain: the process's one lock and
 * condition variable (CLOCK_MONOTONIC), shared by every device, sw_sync
 * timeline and sync file, so that a fence of one may be waited for by another.
 */
struct mock_sync {
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	/* private: the process's domain, which fences and syncobjs point to */
	struct mock_sync *root;
};

/* Per open file: syncobj handles (non-zero, lowest free first). */
struct mock_sync_table {
	struct mock_sync *sync;
	/* private */
	struct mock_syncobj **slots;
	unsigned int nr_slots;
};

int mock_sync_init(struct mock_sync *sync);
void mock_sync_fini(struct mock_sync *sync);
void mock_sync_fork_child(struct mock_sync *sync);
void mock_sync_table_init(struct mock_sync_table *t, struct mock_sync *sync);
/* Drop every handle of a file being closed. */
void mock_sync_table_fini(struct mock_sync_table *t);

/* Fences (references counted; signal at most once). */
struct mock_fence *mock_fence_create(struct mock_sync *sync);
void mock_fence_get(struct mock_fence *f);
void mock_fence_put(struct mock_fence *f);
void mock_fence_signal(struct mock_fence *f, int error);
/* 1 signaled, 0 pending; *@error gets the error when signaled. */
int mock_fence_status(struct mock_fence *f, int *error);
/* Wait until signaled or @deadline_ns (CLOCK_MONOTONIC) passes: 0 or -ETIME. */
int mock_fence_wait(struct mock_fence *f, int64_t deadline_ns);

/* What the device needs from a syncobj handle in a submission's sync ops. */
struct mock_syncobj *mock_syncobj_find(struct mock_sync_table *t, uint32_t handle);
void mock_syncobj_put(struct mock_syncobj *s);
bool mock_syncobj_is_timeline(const struct mock_syncobj *s);
/*
 * The fence at @point (0 for a binary syncobj); -EINVAL when there is none
 * yet (the kernel refuses to wait on what was not submitted).
 */
int mock_syncobj_fence(struct mock_syncobj *s, uint64_t point, struct mock_fence **out);
/*
 * Install @f: a binary syncobj's fence is replaced; a timeline gets @f at
 * @point, which must be above its last point (else -EINVAL). Takes a reference.
 */
int mock_syncobj_install(struct mock_syncobj *s, uint64_t point, struct mock_fence *f);
/*
 * The same in two steps, for a submission that must not fail once accepted:
 * check the point and allocate its node while preparing, then install.
 */
bool mock_syncobj_point_ok(struct mock_syncobj *s, uint64_t point);
struct mock_fence *mock_syncobj_point_alloc(struct mock_syncobj *s);
void mock_syncobj_install_node(struct mock_syncobj *s, uint64_t point, struct mock_fence *f,
			       struct mock_fence *node);

/*
 * The generic ioctls, called with the file's table and the ioctl's argument
 * (already copied to kernel-sized storage by the dispatcher). Return 0 or a
 * negative errno following drm_syncobj.c (shared/reference/drm-shim.md section 4).
 * Struct types come from libdrm's <drm.h>.
 */
struct drm_syncobj_create;
struct drm_syncobj_destroy;
struct drm_syncobj_handle;
struct drm_syncobj_wait;
struct drm_syncobj_timeline_wait;
struct drm_syncobj_array;
struct drm_syncobj_timeline_array;
struct drm_syncobj_transfer;

int mock_syncobj_create_ioctl(struct mock_sync_table *t, struct drm_syncobj_create *a);
int mock_syncobj_destroy_ioctl(struct mock_sync_table *t, struct drm_syncobj_destroy *a);
int mock_syncobj_handle_to_fd_ioctl(struct mock_sync_table *t, struct drm_syncobj_handle *a);
int mock_syncobj_fd_to_handle_ioctl(struct mock_sync_table *t, struct drm_syncobj_handle *a);
int mock_syncobj_wait_ioctl(struct mock_sync_table *t, struct drm_syncobj_wait *a);
int mock_syncobj_timeline_wait_ioctl(struct mock_sync_table *t,
				     struct drm_syncobj_timeline_wait *a);
int mock_syncobj_reset_ioctl(struct mock_sync_table *t, struct drm_syncobj_array *a);
int mock_syncobj_signal_ioctl(struct mock_sync_table *t, struct drm_syncobj_array *a);
int mock_syncobj_query_ioctl(struct mock_sync_table *t, struct drm_syncobj_timeline_array *a);
int mock_syncobj_timeline_signal_ioctl(struct mock_sync_table *t,
				       struct drm_syncobj_timeline_array *a);
int mock_syncobj_transfer_ioctl(struct mock_sync_table *t, struct drm_syncobj_transfer *a);

/*
 * DRM_IOCTL_SYNCOBJ_EVENTFD (Linux 6.6; libdrm 2.4.114's drm.h lacks it):
 * the kernel's struct drm_syncobj_eventfd under our name.
 */
struct mock_drm_syncobj_eventfd {
	uint32_t handle;
	uint32_t flags;
	uint64_t point;
	int32_t fd;
	uint32_t pad;
};
#define MOCK_DRM_IOCTL_SYNCOBJ_EVENTFD _IOWR('d', 0xCF, struct mock_drm_syncobj_eventfd)

int mock_syncobj_eventfd_ioctl(struct mock_sync_table *t, struct mock_drm_syncobj_eventfd *a);

/*
 * Sync files (file.c, DOC: sync files): fds carrying a fence, readable once
 * it is signaled; any device of the process accepts them.
 */
int mock_sync_file_export(struct mock_fence *f, const char *name, int *fd_out);
/*
 * Forget the exports whose every fd was closed, closing our ends of them
 * (each export does that first): for tests that count open fds.
 * Context: takes the domain's lock.
 */
void mock_sync_collect_exports(void);
int mock_sync_file_fence(int fd, struct mock_fence **out);
int mock_sync_file_ioctl(int fd, unsigned long request, void *arg);

/* Reservations (resv.c, DOC: reservations): a buffer's readers and writers. */
struct mock_resv;
struct mock_resv *mock_resv_create(void);
void mock_resv_get(struct mock_resv *r);
void mock_resv_put(struct mock_resv *r);
int mock_resv_add(struct mock_resv *r, struct mock_fence *f, bool write);
/* The same in two steps, for a job that must not fail once accepted. */
struct mock_resv_node;
struct mock_resv_node *mock_resv_node_alloc(void);
void mock_resv_node_free(struct mock_resv_node *n);
void mock_resv_add_node(struct mock_resv *r, struct mock_resv_node *n, struct mock_fence *f,
			bool write);
int mock_resv_fence(struct mock_resv *r, bool write, struct mock_fence **out);

/*
 * sw_sync timelines (swsync.c, DOC: sw_sync). The ioctls are the kernel's
 * (drivers/dma-buf/sw_sync.c), which no uapi header declares.
 */
struct mock_sw_sync_create_fence {
	uint32_t value;
	char name[32];
	int32_t fence; /* out: a sync-file fd */
};
#define MOCK_SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct mock_sw_sync_create_fence)
#define MOCK_SW_SYNC_IOC_INC _IOW('W', 1, uint32_t)

struct mock_sw_timeline;
int mock_sw_timeline_create(struct mock_sw_timeline **out);
void mock_sw_timeline_destroy(struct mock_sw_timeline *tl);
int mock_sw_timeline_ioctl(struct mock_sw_timeline *tl, unsigned long request, void *arg);

#endif /* GPUVM_MOCK_SYNC_H */
