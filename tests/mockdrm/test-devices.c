// SPDX-License-Identifier: MIT
/*
 * Two devices in one process, through the C API: a dma-buf of one imported
 * by the other (shared pages, shared reservation, a BO of the importer's own
 * that is not the exporter's), and fences crossing devices (a sync file of
 * one device's syncobj waited for in the other's).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <drm.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "mock-test.h"
#include "mock_internal.h"

static int ioctl_of(struct mt_dev *d, unsigned long request, void *arg)
{
	return mockdrm_ioctl(d->file, request, arg);
}

static struct mock_bo *bo_of(struct mt_dev *d, uint32_t handle)
{
	struct mock_bo *bo = mock_bo_lookup(d->file, handle);

	assert_non_null(bo);
	mock_bo_put(bo); /* the handle keeps it: identity only */
	return bo;
}

static void test_dmabuf_across_devices(void **state)
{
	struct mt_dev a, b;
	struct mt_bo bo;
	struct drm_prime_handle exp = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_prime_handle imp = { 0 };
	struct dma_buf_export_sync_file es = { .flags = DMA_BUF_SYNC_WRITE };
	uint32_t vm;
	uint64_t word = 0, value = 0x600d;
	char name[DMA_BUF_NAME_LEN];
	struct mt_access res;

	(void)state;
	mt_open(&a, NULL);
	mt_open(&b, NULL);
	mt_bo_create(&a, 2 * MT_PAGE, 7, &bo);
	exp.handle = bo.handle;
	assert_int_equal(ioctl_of(&a, DRM_IOCTL_PRIME_HANDLE_TO_FD, &exp), 0);
	imp.fd = exp.fd;
	assert_int_equal(ioctl_of(&b, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp), 0);
	/* The importer's own BO over the exporter's pages, with the same reservation. */
	assert_ptr_not_equal(bo_of(&b, imp.handle), bo_of(&a, bo.handle));
	assert_ptr_equal(bo_of(&b, imp.handle)->dmabuf, bo_of(&a, bo.handle)->dmabuf);
	vm = mt_vm_create(&b);
	{
		struct gpuvm_vm_bind_op_repeat op =
			mt_op_map(&(struct mt_bo){ .handle = imp.handle, .size = bo.size }, 0,
				  1 << 20, bo.size, 0);

		assert_int_equal(mt_bind(&b, vm, 0, &op, 1), 0);
	}
	assert_int_equal(mt_gpu_read(&b, vm, (1 << 20) + MT_PAGE, &word, 8, &res), 0);
	assert_memory_equal(&word, bo.cpu + MT_PAGE, 8);
	assert_int_equal(mt_gpu_write(&b, vm, 1 << 20, &value, 8, &res), 0);
	assert_memory_equal(bo.cpu, &value, 8);
	/* The dma-buf's ioctls answer for both: one name, one reservation. */
	assert_int_equal(mockdrm_fd_ioctl(exp.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &es), 0);
	close(es.fd);
	assert_int_equal(mockdrm_fd_ioctl(exp.fd, DMA_BUF_SET_NAME, "shared-scanout"), 0);
	mock_dmabuf_name(bo_of(&b, imp.handle), name);
	assert_string_equal(name, "shared-scanout");
	mock_dmabuf_name(bo_of(&a, bo.handle), name);
	assert_string_equal(name, "shared-scanout");
	close(exp.fd);
	mt_close(&b);
	mt_close(&a);
}

/* A sync file of device A's syncobj, in device B's syncobj: B's wait ends with A's signal. */
static void test_fence_across_devices(void **state)
{
	struct mt_dev a, b;
	struct drm_syncobj_create ca = { 0 }, cb = { 0 };
	struct drm_syncobj_handle out = { .flags =
						  DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE };
	struct drm_syncobj_handle in = { .flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE };
	struct gpuvm_mock_fence_attach att = { 0 };
	struct gpuvm_mock_fence_signal sig = { 0 };
	struct drm_syncobj_wait w = { .count_handles = 1 };
	struct pollfd p;

	(void)state;
	mt_open(&a, NULL);
	mt_open(&b, NULL);
	assert_int_equal(ioctl_of(&a, DRM_IOCTL_SYNCOBJ_CREATE, &ca), 0);
	assert_int_equal(ioctl_of(&b, DRM_IOCTL_SYNCOBJ_CREATE, &cb), 0);
	att.handle = ca.handle;
	assert_int_equal(ioctl_of(&a, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &att), 0);
	out.handle = ca.handle;
	assert_int_equal(ioctl_of(&a, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &out), 0);
	in.handle = cb.handle;
	in.fd = out.fd;
	assert_int_equal(ioctl_of(&b, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &in), 0);
	w.handles = (uintptr_t)&cb.handle;
	assert_int_equal(ioctl_of(&b, DRM_IOCTL_SYNCOBJ_WAIT, &w), -ETIME);
	sig.fence_id = att.fence_id;
	assert_int_equal(ioctl_of(&a, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &sig), 0);
	assert_int_equal(ioctl_of(&b, DRM_IOCTL_SYNCOBJ_WAIT, &w), 0);
	p = (struct pollfd){ .fd = out.fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 1);
	close(out.fd);
	/* B's syncobj outlives device A. */
	mt_close(&a);
	assert_int_equal(ioctl_of(&b, DRM_IOCTL_SYNCOBJ_WAIT, &w), 0);
	mt_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dmabuf_across_devices),
		cmocka_unit_test(test_fence_across_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
