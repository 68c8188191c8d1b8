/* SPDX-License-Identifier: MIT */
/*
 * Helpers for test programs that reach the mock device as a client does:
 * through open("/dev/dri/renderD128") and libdrm, under the LD_PRELOAD shim
 * (run-under-shim). They fail the current cmocka test on unexpected errors.
 */
#ifndef GPUVM_TESTS_DRM_TEST_H
#define GPUVM_TESTS_DRM_TEST_H

#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <gpuvm/panthor_drm.h>

#define DT_PAGE 4096ull
/* dt_gpu_probe() of a page that faults: this bit | the fault status. */
#define DT_FAULTED (1ull << 63)

/* Open the render node; -1 (with a hint on stderr) when no shim answers. */
int dt_open(void);

/*
 * The render node that the tests of a cmocka group share: dt_setup() opens
 * it into dt_fd (and fails the test when no shim answers), dt_teardown()
 * checks the MMU stayed clean (dt_assert_mmu_clean()) and closes it.
 */
extern int dt_fd;
int dt_setup(void **state);
int dt_teardown(void **state);
/* A cmocka test of such a group. */
#define DT_TEST(fn) cmocka_unit_test_setup_teardown(fn, dt_setup, dt_teardown)
/* An ioctl: 0 or -errno. */
int dt_ioctl(int fd, unsigned long request, void *arg);

uint32_t dt_vm_create(int fd, uint64_t user_va_range);
/* A BO of @size (page-aligned, checked to come back unchanged). */
uint32_t dt_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t exclusive_vm);
/* The CPU mapping of a whole BO through the DRM fd; dt_bo_unmap() it. */
void *dt_bo_map(int fd, uint32_t handle, uint64_t size);
void dt_bo_unmap(void *cpu, uint64_t size);

/* The tag dt_bo_tag_pages() writes at the start of each page. */
uint64_t dt_page_tag(uint32_t handle, unsigned int page);
void dt_bo_tag_pages(int fd, uint32_t handle, unsigned int pages);

/* VM_BIND of @count ops of @stride bytes: 0 or -errno. */
int dt_bind(int fd, uint32_t vm, uint32_t flags, const void *ops, uint32_t stride, uint32_t count);
/* A synchronous MAP that must succeed. */
void dt_map(int fd, uint32_t vm, uint32_t bo, uint64_t offset, uint64_t va, uint64_t size);
/*
 * An asynchronous MAP of @bo from offset 0 that must be queued: it waits for
 * syncobj @in and signals syncobj @out.
 */
void dt_map_async(int fd, uint32_t vm, uint32_t bo, uint64_t va, uint64_t size, uint32_t in,
		  uint32_t out);

/* The 8 bytes the GPU reads at @va, or DT_FAULTED | fault status. */
uint64_t dt_gpu_probe(int fd, uint32_t vm, uint64_t va);
/* The GPU writes @value at @va; returns the fault status (0: written). */
uint32_t dt_gpu_write64(int fd, uint32_t vm, uint64_t va, uint64_t value);

uint32_t dt_syncobj_create(int fd, uint32_t flags);
/* A pending mock fence in @syncobj (at @point of a timeline, or 0): its id. */
uint32_t dt_fence_attach(int fd, uint32_t syncobj, uint64_t point);
void dt_fence_signal(int fd, uint32_t fence_id, int error);

/* Strict mode saw no stale translation and no walk through a freed table. */
void dt_assert_mmu_clean(int fd);

/* drivers/dma-buf/sw_sync.c's ioctls, on the shim's debugfs sync/sw_sync. */
struct sw_sync_create_fence_data {
	uint32_t value;
	char name[32];
	int32_t fence;
};
#define SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC _IOW('W', 1, uint32_t)

/*
 * struct dt_late - a fence signalled from another thread after a delay, as
 * a job that finishes while the test waits for it: a mock fence
 * (dt_late_fence()) or the next point of a sw_sync timeline
 * (dt_late_timeline()). dt_late_join() waits for the thread.
 */
struct dt_late {
	pthread_t thread;
	long delay_ms;
	int fd;            /* the DRM file of a mock fence; -1 for a timeline */
	uint32_t fence_id; /* the mock fence */
	int timeline;      /* the sw_sync timeline's fd */
};

void dt_late_fence(struct dt_late *l, int fd, uint32_t fence_id, long delay_ms);
void dt_late_timeline(struct dt_late *l, int timeline, long delay_ms);
void dt_late_join(struct dt_late *l);

#endif
