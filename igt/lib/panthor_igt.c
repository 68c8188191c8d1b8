// SPDX-License-Identifier: MIT
/*
 * Helpers of gpuvm's igt tests (panthor_igt.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

/*
 * libigt matches driver names it knows (i915, panfrost, ...); any other name
 * only opens with DRIVER_ANY, and only the forced name then (igt-abi.md 5.1).
 */
int panthor_open(void)
{
	drmVersionPtr version;
	int fd, is_panthor;

	__set_forced_driver("panthor");
	fd = drm_open_driver(DRIVER_ANY);
	version = drmGetVersion(fd);
	igt_assert(version);
	is_panthor = version->name && strcmp(version->name, "panthor") == 0;
	drmFreeVersion(version);
	igt_require_f(is_panthor, "the device is not panthor\n");
	return fd;
}

int panthor_ioctl(int fd, unsigned long request, void *arg)
{
	int err = igt_ioctl(fd, request, arg) ? -errno : 0;

	errno = 0;
	return err;
}

/* A real panthor answers the mock-only indices with -EINVAL (beyond its table). */
bool panthor_is_mock(int fd)
{
	struct gpuvm_mock_stats stats = { 0 };

	return panthor_ioctl(fd, GPUVM_IOCTL_MOCK_STATS, &stats) == 0;
}

void panthor_require_mock(int fd)
{
	igt_require_f(panthor_is_mock(fd), "needs gpuvm's mock device to see through the GPU\n");
}

int panthor_open_mock(void)
{
	int fd = panthor_open();

	panthor_require_mock(fd);
	return fd;
}

int __panthor_query(int fd, uint32_t type, void *info, uint32_t *size)
{
	struct drm_panthor_dev_query q = { .type = type,
					   .size = *size,
					   .pointer = (uintptr_t)info };
	int err = panthor_ioctl(fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q);

	*size = q.size;
	return err;
}

uint32_t panthor_vm_create(int fd, uint64_t *user_va_range)
{
	struct drm_panthor_vm_create a = { .user_va_range = user_va_range ? *user_va_range : 0 };

	do_ioctl(fd, DRM_IOCTL_PANTHOR_VM_CREATE, &a);
	igt_assert_neq_u32(a.id, 0);
	if (user_va_range)
		*user_va_range = a.user_va_range;
	return a.id;
}

int __panthor_vm_destroy(int fd, uint32_t vm)
{
	struct drm_panthor_vm_destroy a = { .id = vm };

	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &a);
}

void panthor_vm_destroy(int fd, uint32_t vm)
{
	igt_assert_eq(__panthor_vm_destroy(fd, vm), 0);
}

uint32_t panthor_vm_state(int fd, uint32_t vm)
{
	struct drm_panthor_vm_get_state a = { .vm_id = vm };

	do_ioctl(fd, DRM_IOCTL_PANTHOR_VM_GET_STATE, &a);
	return a.state;
}

int __panthor_bo_create(int fd, struct drm_panthor_bo_create *args)
{
	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_BO_CREATE, args);
}

uint32_t panthor_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t exclusive_vm)
{
	struct drm_panthor_bo_create a = { .size = size,
					   .flags = flags,
					   .exclusive_vm_id = exclusive_vm };

	igt_assert_eq(__panthor_bo_create(fd, &a), 0);
	igt_assert_neq_u32(a.handle, 0);
	return a.handle;
}

uint64_t panthor_bo_mmap_offset(int fd, uint32_t bo)
{
	struct drm_panthor_bo_mmap_offset a = { .handle = bo };

	do_ioctl(fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &a);
	return a.offset;
}

void *panthor_bo_mmap(int fd, uint32_t bo, uint64_t size, int prot)
{
	void *cpu = mmap(NULL, size, prot, MAP_SHARED, fd, (off_t)panthor_bo_mmap_offset(fd, bo));

	igt_assert_f(cpu != MAP_FAILED, "mmap of BO %u: %s\n", bo, strerror(errno));
	return cpu;
}

void panthor_bo_munmap(void *cpu, uint64_t size)
{
	igt_assert_eq(munmap(cpu, size), 0);
}

uint64_t panthor_tag(uint32_t bo, uint64_t page)
{
	return 0x7a67ull << 48 | (uint64_t)bo << 24 | page;
}

void panthor_bo_tag(int fd, uint32_t bo, uint64_t pages, uint32_t tag_bo)
{
	unsigned char *cpu = panthor_bo_mmap(fd, bo, pages * SZ_4K, PROT_READ | PROT_WRITE);

	for (uint64_t page = 0; page < pages; page++) {
		uint64_t tag = panthor_tag(tag_bo, page);

		memcpy(cpu + page * SZ_4K, &tag, sizeof(tag));
	}
	panthor_bo_munmap(cpu, pages * SZ_4K);
}

uint32_t panthor_bo_create_tagged(int fd, uint64_t pages)
{
	uint32_t bo = panthor_bo_create(fd, pages * SZ_4K, 0, 0);

	panthor_bo_tag(fd, bo, pages, bo);
	return bo;
}
