// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <xf86drm.h>

#include "drm-test.h"
#include "test-util.h"

int dt_open(void)
{
	int fd = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "no device: run under the gpuvm mockdrm shim (run-under-shim)\n");
	return fd;
}

int dt_fd = -1;

int dt_setup(void **state)
{
	(void)state;
	dt_fd = dt_open();
	return dt_fd < 0 ? -1 : 0;
}

int dt_teardown(void **state)
{
	(void)state;
	dt_assert_mmu_clean(dt_fd);
	close(dt_fd);
	dt_fd = -1;
	return 0;
}

int dt_ioctl(int fd, unsigned long request, void *arg)
{
	return drmIoctl(fd, request, arg) ? -errno : 0;
}

uint32_t dt_vm_create(int fd, uint64_t user_va_range)
{
	struct drm_panthor_vm_create a = { .user_va_range = user_va_range };

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_VM_CREATE, &a), 0);
	return a.id;
}

uint32_t dt_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t exclusive_vm)
{
	struct drm_panthor_bo_create a = { .size = size,
					   .flags = flags,
					   .exclusive_vm_id = exclusive_vm };

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_BO_CREATE, &a), 0);
	assert_int_equal(a.size, size);
	return a.handle;
}

void *dt_bo_map(int fd, uint32_t handle, uint64_t size)
{
	struct drm_panthor_bo_mmap_offset a = { .handle = handle };
	void *cpu;

	assert_int_equal(dt_ioctl(fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &a), 0);
	cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)a.offset);
	assert_true(cpu != MAP_FAILED);
	return cpu;
}

void dt_bo_unmap(void *cpu, uint64_t size)
{
	assert_int_equal(munmap(cpu, size), 0);
}

uint64_t dt_page_tag(uint32_t handle, unsigned int page)
{
	return (uint64_t)handle << 32 | 0x7a00000u | page;
}

void dt_bo_tag_pages(int fd, uint32_t handle, unsigned int pages)
{
	unsigned char *cpu = dt_bo_map(fd, handle, pages * DT_PAGE);

	for (unsigned int i = 0; i < pages; i++) {
		uint64_t tag = dt_page_tag(handle, i);

		memcpy(cpu + i * DT_PAGE, &tag, sizeof(tag));
	}
	dt_bo_unmap(cpu, pages * DT_PAGE);
}

int dt_bind(int fd, uint32_t vm, uint32_t flags, const void *ops, uint32_t stride, uint32_t count)
{
	struct drm_panthor_vm_bind a = {
		.vm_id = vm,
		.flags = flags,
		.ops = { .stride = stride, .count = count, .array = (uintptr_t)ops },
	};

	return dt_ioctl(fd, DRM_IOCTL_PANTHOR_VM_BIND, &a);
}

void dt_map(int fd, uint32_t vm, uint32_t bo, uint64_t offset, uint64_t va, uint64_t size)
{
	struct drm_panthor_vm_bind_op op = {
		.bo_handle = bo, .bo_offset = offset, .va = va, .size = size
	};

	assert_int_equal(dt_bind(fd, vm, 0, &op, sizeof(op), 1), 0);
}

void dt_map_async(int fd, uint32_t vm, uint32_t bo, uint64_t va, uint64_t size, uint32_t in,
		  uint32_t out)
{
	struct drm_panthor_sync_op syncs[] = {
		{ .flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ, .handle = in },
		{ .flags = DRM_PANTHOR_SYNC_OP_SIGNAL, .handle = out },
	};
	struct drm_panthor_vm_bind_op op = {
		.bo_handle = bo, .va = va, .size = size, .syncs = DRM_PANTHOR_OBJ_ARRAY(2, syncs)
	};

	assert_int_equal(dt_bind(fd, vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, sizeof(op), 1), 0);
}

static uint32_t gpu_access(int fd, uint32_t vm, uint32_t op, uint64_t va, uint64_t *data)
{
	struct gpuvm_mock_gpu_access a = {
		.vm_id = vm, .op = op, .va = va, .size = sizeof(*data), .data = (uintptr_t)data
	};

	assert_int_equal(dt_ioctl(fd, GPUVM_IOCTL_MOCK_GPU_ACCESS, &a), 0);
	return a.access;
}

uint64_t dt_gpu_probe(int fd, uint32_t vm, uint64_t va)
{
	uint64_t data = 0;
	uint32_t fault = gpu_access(fd, vm, GPUVM_MOCK_GPU_ACCESS_READ, va, &data);

	return fault ? DT_FAULTED | fault : data;
}

uint32_t dt_gpu_write64(int fd, uint32_t vm, uint64_t va, uint64_t value)
{
	return gpu_access(fd, vm, GPUVM_MOCK_GPU_ACCESS_WRITE, va, &value);
}

uint32_t dt_syncobj_create(int fd, uint32_t flags)
{
	uint32_t handle;

	assert_int_equal(drmSyncobjCreate(fd, flags, &handle), 0);
	return handle;
}

uint32_t dt_fence_attach(int fd, uint32_t syncobj, uint64_t point)
{
	struct gpuvm_mock_fence_attach a = { .handle = syncobj, .point = point };

	assert_int_equal(dt_ioctl(fd, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &a), 0);
	return a.fence_id;
}

void dt_fence_signal(int fd, uint32_t fence_id, int error)
{
	struct gpuvm_mock_fence_signal a = { .fence_id = fence_id, .error = error };

	assert_int_equal(dt_ioctl(fd, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &a), 0);
}

void dt_assert_mmu_clean(int fd)
{
	struct gpuvm_mock_stats s = { 0 };

	assert_int_equal(dt_ioctl(fd, GPUVM_IOCTL_MOCK_STATS, &s), 0);
	assert_int_equal(s.stale_translations, 0);
	assert_int_equal(s.freed_table_walks, 0);
}

static void *late_main(void *arg)
{
	struct dt_late *l = arg;
	uint32_t one = 1;

	tu_sleep_ms(l->delay_ms);
	if (l->fd >= 0)
		dt_fence_signal(l->fd, l->fence_id, 0);
	else if (ioctl(l->timeline, SW_SYNC_IOC_INC, &one))
		abort();
	return NULL;
}

static void late_start(struct dt_late *l)
{
	assert_int_equal(pthread_create(&l->thread, NULL, late_main, l), 0);
}

void dt_late_fence(struct dt_late *l, int fd, uint32_t fence_id, long delay_ms)
{
	*l = (struct dt_late){
		.delay_ms = delay_ms, .fd = fd, .fence_id = fence_id, .timeline = -1
	};
	late_start(l);
}

void dt_late_timeline(struct dt_late *l, int timeline, long delay_ms)
{
	*l = (struct dt_late){ .delay_ms = delay_ms, .fd = -1, .timeline = timeline };
	late_start(l);
}

void dt_late_join(struct dt_late *l)
{
	assert_int_equal(pthread_join(l->thread, NULL), 0);
}
