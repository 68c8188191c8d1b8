// SPDX-License-Identifier: MIT
/*
 * PRIME exports as dma-bufs, under the shim: access modes (DRM_RDWR), BOs
 * private to a VM, the backing store's size (issue 14 defect 4: ftruncate on
 * an exported fd used to shrink the device's memory, and the next GPU write
 * killed the process with SIGBUS), the <linux/dma-buf.h> ioctls, import by
 * another file, and implicit sync: an async bind's fence in the reservation
 * that DMA_BUF_IOCTL_EXPORT_SYNC_FILE shows. Error rows check that nothing
 * changed (fds, contents, reservations).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

#include "drm-test.h"

#define E(call) ((call) ? -errno : 0)
#define SIZE (4 * DT_PAGE)

static int count_open_fds(void)
{
	int n = 0;

	for (int i = 0; i < 1024; i++)
		n += fcntl(i, F_GETFD) >= 0;
	return n;
}

static int export(uint32_t bo, uint32_t flags, int *out)
{
	*out = -1;
	return E(drmPrimeHandleToFD(dt_fd, bo, flags, out));
}

/* 1 signaled, 0 pending: what an access of @flags must wait for on @buf. */
static int resv_status(int buf, uint32_t flags)
{
	struct dma_buf_export_sync_file a = { .flags = flags, .fd = -1 };
	struct sync_file_info info = { 0 };

	assert_int_equal(ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &a), 0);
	assert_int_equal(ioctl(a.fd, SYNC_IOC_FILE_INFO, &info), 0);
	close(a.fd);
	return info.status;
}

static int sw_fence(int tl, uint32_t value)
{
	struct sw_sync_create_fence_data d = { .value = value, .name = "dmabuf-test" };

	assert_int_equal(ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, &d), 0);
	return d.fence;
}

static void inc(int tl)
{
	uint32_t one = 1;

	assert_int_equal(ioctl(tl, SW_SYNC_IOC_INC, &one), 0);
}

/* An export is a new open of the pages, with its own mode: DRM_RDWR or read-only. */
static void test_export_modes(void **state)
{
	uint32_t bo = dt_bo_create(dt_fd, SIZE, 0, 0);
	uint64_t *cpu = dt_bo_map(dt_fd, bo, SIZE);
	int ro, rw;
	uint64_t *m;

	(void)state;
	cpu[1] = 0x5151;
	assert_int_equal(export(bo, DRM_CLOEXEC, &ro), 0);
	assert_int_equal(export(bo, DRM_CLOEXEC | DRM_RDWR, &rw), 0);
	assert_int_equal(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_int_equal(fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR);
	assert_true(fcntl(ro, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(lseek(ro, 0, SEEK_END), SIZE);
	/* Without DRM_RDWR: no writable shared mapping, no write(). */
	assert_true(mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED);
	assert_int_equal(errno, EACCES);
	assert_true(write(ro, "x", 1) < 0);
	m = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, ro, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(m[1], 0x5151);
	munmap(m, SIZE);
	/* With it: the same pages, writable. */
	m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
	assert_true(m != MAP_FAILED);
	m[2] = 0x7272;
	assert_int_equal(cpu[2], 0x7272);
	munmap(m, SIZE);
	dt_bo_unmap(cpu, SIZE);
	close(ro);
	close(rw);
}

/* A BO private to a VM cannot be exported: -EINVAL, no fd made. */
static void test_export_exclusive_refused(void **state)
{
	uint32_t vm = dt_vm_create(dt_fd, 0), bo = dt_bo_create(dt_fd, SIZE, 0, vm);
	int fds = count_open_fds(), out;

	(void)state;
	assert_int_equal(export(bo, DRM_CLOEXEC | DRM_RDWR, &out), -EINVAL);
	assert_int_equal(out, -1);
	assert_int_equal(export(bo, 0, &out), -EINVAL);
	assert_int_equal(count_open_fds(), fds);
	assert_int_equal(export(bo, 4, &out), -EINVAL); /* unknown flag */
	assert_int_equal(export(99, 0, &out), -ENOENT);
	assert_int_equal(count_open_fds(), fds);
}

/*
 * Issue 14 defect 4: ftruncate(fd, 0) on an export must not shrink the
 * device's memory (the GPU write below then died with SIGBUS).
 */
static void test_export_cannot_shrink(void **state)
{
	uint32_t vm = dt_vm_create(dt_fd, 0), bo = dt_bo_create(dt_fd, SIZE, 0, 0);
	int rw;

	(void)state;
	dt_map(dt_fd, vm, bo, 0, 1 << 20, SIZE);
	assert_int_equal(export(bo, DRM_RDWR | DRM_CLOEXEC, &rw), 0);
	assert_true(ftruncate(rw, 0) < 0);
	assert_true(ftruncate(rw, 2 * SIZE) < 0);
	assert_int_equal(lseek(rw, 0, SEEK_END), SIZE);
	assert_int_equal(dt_gpu_write64(dt_fd, vm, (1 << 20) + SIZE - 8, 0xf111), 0);
	assert_int_equal(dt_gpu_probe(dt_fd, vm, (1 << 20) + SIZE - 8), 0xf111);
	close(rw);
}

/* DMA_BUF_IOCTL_SYNC and DMA_BUF_SET_NAME rows. */
static void test_sync_and_name(void **state)
{
	uint32_t bo = dt_bo_create(dt_fd, SIZE, 0, 0);
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	char long_name[40];
	int buf, memfd = memfd_create("not-a-dma-buf", MFD_CLOEXEC);

	(void)state;
	assert_int_equal(export(bo, DRM_CLOEXEC, &buf), 0);
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_SYNC, &s)), 0);
	s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_SYNC, &s)), 0);
	s.flags = DMA_BUF_SYNC_START;
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_SYNC, &s)), -EINVAL);
	s.flags = DMA_BUF_SYNC_READ | 8;
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_SYNC, &s)), -EINVAL);
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_SYNC, (void *)0x10)), -EFAULT);
	assert_int_equal(E(ioctl(buf, DMA_BUF_SET_NAME, "scanout")), 0);
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(E(ioctl(buf, DMA_BUF_SET_NAME, long_name)), -EINVAL);
	long_name[DMA_BUF_NAME_LEN - 1] = '\0'; /* 31 bytes and the NUL: fits */
	assert_int_equal(E(ioctl(buf, DMA_BUF_SET_NAME, long_name)), 0);
	assert_int_equal(E(ioctl(buf, DMA_BUF_SET_NAME, (void *)0x10)), -EFAULT);
	/* Not a dma-buf: the real ioctl answers. */
	assert_int_equal(E(ioctl(memfd, DMA_BUF_IOCTL_SYNC, &s)), -ENOTTY);
	close(memfd);
	close(buf);
}

/* EXPORT/IMPORT_SYNC_FILE: readers wait for writers, writers for everyone. */
static void test_sync_files(void **state)
{
	uint32_t bo = dt_bo_create(dt_fd, SIZE, 0, 0);
	int buf, tl = open("/sys/kernel/debug/sync/sw_sync", O_RDWR), wf, rf, p[2], fds;
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	struct dma_buf_export_sync_file exp = { .flags = 0, .fd = -7 };

	(void)state;
	assert_true(tl >= 0);
	assert_int_equal(export(bo, DRM_CLOEXEC, &buf), 0);
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_WRITE), 1); /* nothing to wait for */
	wf = sw_fence(tl, 1);
	rf = sw_fence(tl, 2);
	imp.fd = wf;
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp)), 0);
	imp = (struct dma_buf_import_sync_file){ .flags = DMA_BUF_SYNC_READ, .fd = rf };
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp)), 0);
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_READ), 0);
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_WRITE), 0);
	inc(tl); /* the writer is done: readers may go, writers still wait for the reader */
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_READ), 1);
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_WRITE), 0);
	/* Error rows: nothing added, no fd made. */
	assert_int_equal(pipe(p), 0);
	fds = count_open_fds();
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp)), -EINVAL);
	exp.flags = 4;
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp)), -EINVAL);
	assert_int_equal(exp.fd, -7);
	imp = (struct dma_buf_import_sync_file){ .flags = 0, .fd = wf };
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp)), -EINVAL);
	imp = (struct dma_buf_import_sync_file){ .flags = DMA_BUF_SYNC_RW, .fd = p[0] };
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp)), -EINVAL);
	assert_int_equal(E(ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, (void *)0x10)), -EFAULT);
	assert_int_equal(count_open_fds(), fds);
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_READ), 1);
	inc(tl);
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_WRITE), 1);
	close(p[0]);
	close(p[1]);
	close(wf);
	close(rf);
	close(tl);
	close(buf);
}

/*
 * Implicit sync and import by another file: a bind in the importer's VM,
 * held back by a sw_sync fence, is a writer of the dma-buf until it runs;
 * the exporter's fd sees it.
 */
static void test_implicit_sync_bind(void **state)
{
	int fd2 = dt_open(), buf, tl = open("/sys/kernel/debug/sync/sw_sync", O_RDWR), f;
	uint32_t bo = dt_bo_create(dt_fd, SIZE, 0, 0), imported, vm2, in, out;
	struct drm_panthor_sync_op syncs[2];
	struct drm_panthor_vm_bind_op op = { .va = 1 << 20, .size = SIZE };
	struct pollfd pfd;
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_READ };

	(void)state;
	assert_true(fd2 >= 0 && tl >= 0);
	dt_bo_tag_pages(dt_fd, bo, 4);
	assert_int_equal(export(bo, DRM_CLOEXEC | DRM_RDWR, &buf), 0);
	assert_int_equal(E(drmPrimeFDToHandle(fd2, buf, &imported)), 0);
	vm2 = dt_vm_create(fd2, 0);
	in = dt_syncobj_create(fd2, 0);
	out = dt_syncobj_create(fd2, 0);
	f = sw_fence(tl, 1);
	assert_int_equal(E(drmSyncobjImportSyncFile(fd2, in, f)), 0);
	syncs[0] = (struct drm_panthor_sync_op){ .flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ,
						 .handle = in };
	syncs[1] =
		(struct drm_panthor_sync_op){ .flags = DRM_PANTHOR_SYNC_OP_SIGNAL, .handle = out };
	op.bo_handle = imported;
	op.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, syncs);
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_READ), 1);
	assert_int_equal(dt_bind(fd2, vm2, DRM_PANTHOR_VM_BIND_ASYNC, &op, sizeof(op), 1), 0);
	assert_int_equal(ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp), 0);
	pfd = (struct pollfd){ .fd = exp.fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_true(dt_gpu_probe(fd2, vm2, 1 << 20) & DT_FAULTED);
	inc(tl);
	assert_int_equal(poll(&pfd, 1, 5000), 1); /* what Mesa's implicit sync waits on */
	assert_int_equal(dt_gpu_probe(fd2, vm2, (1 << 20) + DT_PAGE), dt_page_tag(bo, 1));
	assert_int_equal(resv_status(buf, DMA_BUF_SYNC_WRITE), 1);
	close(exp.fd);
	close(f);
	close(tl);
	close(buf);
	close(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DT_TEST(test_export_modes),         DT_TEST(test_export_exclusive_refused),
		DT_TEST(test_export_cannot_shrink), DT_TEST(test_sync_and_name),
		DT_TEST(test_sync_files),           DT_TEST(test_implicit_sync_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
