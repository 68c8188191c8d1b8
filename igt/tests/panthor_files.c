// SPDX-License-Identifier: MIT
/*
 * Two open files of one device: handles, VM ids and syncobjs are private to
 * the file that made them; PRIME shares a BO, and both files' GPUs then see
 * the same memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor handle isolation between files, and PRIME";

#define VA 0x5000000ull

static int fd = -1, other = -1;

static int gem_close_err(int file, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return panthor_ioctl(file, DRM_IOCTL_GEM_CLOSE, &c);
}

static int prime_export_err(int file, uint32_t handle, uint32_t flags, int *dmabuf)
{
	struct drm_prime_handle a = { .handle = handle, .flags = flags, .fd = -1 };
	int err = panthor_ioctl(file, DRM_IOCTL_PRIME_HANDLE_TO_FD, &a);

	*dmabuf = a.fd;
	return err;
}

static int prime_import_err(int file, int dmabuf)
{
	struct drm_prime_handle a = { .fd = dmabuf };

	return panthor_ioctl(file, DRM_IOCTL_PRIME_FD_TO_HANDLE, &a);
}

/* Another file's BO, VM and syncobj do not exist here; its own do not disturb them. */
static void test_isolation(void)
{
	uint32_t vm = panthor_vm_create(fd, NULL), bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	uint32_t syncobj = syncobj_create(fd, 0), other_vm, other_bo;
	struct drm_panthor_bo_mmap_offset off = { .handle = bo };
	struct drm_panthor_vm_get_state st = { .vm_id = vm + 10 };
	struct drm_panthor_vm_bind_op op = panthor_map_op(bo, 0, VA, SZ_4K, 0);
	struct drm_syncobj_destroy sd = { .handle = syncobj };
	struct panthor_va_expect mine = { .va = VA, .size = SZ_4K, .tag_bo = bo };
	uint64_t offset = panthor_bo_mmap_offset(fd, bo);

	panthor_map(fd, vm, bo, 0, VA, SZ_4K, 0);
	igt_assert_eq(gem_close_err(other, bo), -EINVAL);
	do_ioctl_err(other, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &off, ENOENT);
	igt_assert(mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, other, (off_t)offset) == MAP_FAILED);
	st.vm_id = vm;
	do_ioctl_err(other, DRM_IOCTL_PANTHOR_VM_GET_STATE, &st, EINVAL);
	igt_assert_eq(__panthor_vm_destroy(other, vm), -EINVAL);
	do_ioctl_err(other, DRM_IOCTL_SYNCOBJ_DESTROY, &sd, EINVAL);
	/* The other file's own objects may carry the same numbers: they are its own. */
	other_vm = panthor_vm_create(other, NULL);
	other_bo = panthor_bo_create(other, SZ_4K, 0, 0);
	igt_assert_eq(__panthor_vm_bind(other, other_vm, 0, &op, sizeof(op), 1),
		      other_bo == bo ? 0 : -ENOENT);
	if (panthor_is_mock(fd)) {
		panthor_bo_tag(fd, bo, 1, bo);
		panthor_bo_tag(other, other_bo, 1, 0xfff);
		panthor_check_layout(fd, vm, VA, VA + SZ_4K, &mine, 1);
		if (other_bo == bo) {
			mine.tag_bo = 0xfff;
			panthor_check_layout(other, other_vm, VA, VA + SZ_4K, &mine, 1);
		}
	}
	panthor_vm_destroy(other, other_vm);
	gem_close(other, other_bo);
	/* Everything of the first file is still there. */
	igt_assert_eq_u32(panthor_vm_state(fd, vm), DRM_PANTHOR_VM_STATE_USABLE);
	syncobj_destroy(fd, syncobj);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
}

/* Export, import elsewhere: the same memory for both files' CPU and GPU. */
static void test_prime_share(void)
{
	uint32_t bo = panthor_bo_create(fd, 4 * SZ_4K, 0, 0), vm = panthor_vm_create(fd, NULL);
	uint32_t other_vm = panthor_vm_create(other, NULL), imported;
	int dmabuf = prime_handle_to_fd(fd, bo);
	uint64_t *cpu = panthor_bo_mmap(fd, bo, 4 * SZ_4K, PROT_READ | PROT_WRITE);
	uint64_t value = 0xc0ffee;

	igt_assert_eq_u64(lseek(dmabuf, 0, SEEK_END), 4 * SZ_4K);
	imported = prime_fd_to_handle(other, dmabuf);
	igt_assert_eq_u32(prime_fd_to_handle(other, dmabuf), imported);
	igt_assert_eq_u32(prime_fd_to_handle(fd, dmabuf), bo);
	panthor_map(fd, vm, bo, 0, VA, 4 * SZ_4K, 0);
	panthor_map(other, other_vm, imported, SZ_4K, VA, SZ_4K, 0);
	if (panthor_is_mock(fd)) {
		igt_assert_eq_u32(panthor_gpu_write(other, other_vm, VA + 8, &value, 8), 0);
		igt_assert_eq_u64(cpu[512 + 1], 0xc0ffee);
		value = 0;
		igt_assert_eq_u32(panthor_gpu_read(fd, vm, VA + SZ_4K + 8, &value, 8), 0);
		igt_assert_eq_u64(value, 0xc0ffee);
	}
	/* The exporter lets go of everything: the importer still has the memory. */
	cpu[512 + 2] = 0xbeef;
	panthor_bo_munmap(cpu, 4 * SZ_4K);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
	close(dmabuf);
	if (panthor_is_mock(other)) {
		igt_assert_eq_u32(panthor_gpu_read(other, other_vm, VA + 16, &value, 8), 0);
		igt_assert_eq_u64(value, 0xbeef);
	}
	panthor_vm_destroy(other, other_vm);
	gem_close(other, imported);
}

/* A dma-buf exported for mmap shows the BO's bytes. */
static void test_prime_mmap(void)
{
	uint32_t bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	uint64_t *cpu = panthor_bo_mmap(fd, bo, SZ_4K, PROT_READ | PROT_WRITE);
	int dmabuf = prime_handle_to_fd_for_mmap(fd, bo);
	uint64_t *shared;

	igt_assert_fd(dmabuf);
	shared = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	igt_assert(shared != MAP_FAILED);
	cpu[7] = 77;
	igt_assert_eq_u64(shared[7], 77);
	shared[8] = 88;
	igt_assert_eq_u64(cpu[8], 88);
	munmap(shared, SZ_4K);
	panthor_bo_munmap(cpu, SZ_4K);
	close(dmabuf);
	gem_close(fd, bo);
}

static void test_prime_invalid(void)
{
	uint32_t bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	int pipes[2], dmabuf;

	igt_assert_eq(prime_export_err(fd, bo + 100, DRM_CLOEXEC, &dmabuf), -ENOENT);
	igt_assert_eq(prime_export_err(fd, bo, 1u << 4, &dmabuf), -EINVAL);
	igt_assert_eq(pipe(pipes), 0);
	igt_assert_f(prime_import_err(fd, pipes[0]) == -EINVAL ||
			     prime_import_err(fd, pipes[0]) == -EBADF,
		     "importing a pipe: %d\n", prime_import_err(fd, pipes[0]));
	close(pipes[0]);
	close(pipes[1]);
	igt_assert_eq(prime_import_err(fd, pipes[0]), -EBADF);
	gem_close(fd, bo);
}

igt_main
{
	igt_fixture {
		fd = panthor_open();
		other = panthor_open();
	}

	igt_describe("BO, VM and syncobj handles are private to their file");
	igt_subtest("handle-isolation") {
		test_isolation();
	}
	igt_describe("PRIME export/import: both files' CPU and GPU see the same bytes");
	igt_subtest("prime-share") {
		test_prime_share();
	}
	igt_describe("a dma-buf exported for mmap maps the BO's pages");
	igt_subtest("prime-mmap") {
		test_prime_mmap();
	}
	igt_describe("export of an unknown handle or with bad flags, import of a non-dma-buf");
	igt_subtest("prime-invalid") {
		test_prime_invalid();
	}

	igt_fixture {
		panthor_check_all_freed(other);
		close(other);
		panthor_check_all_freed(fd);
		close(fd);
	}
}
