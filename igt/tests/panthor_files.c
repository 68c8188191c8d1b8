// SPDX-License-Identifier: MIT
/*
 * Two open files of one device: handles, VM ids and syncobjs are private to
 * the file that made them (sharing between files: panthor_prime).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor handle isolation between files";

#define VA 0x5000000ull

static int fd = -1, other = -1;

static int gem_close_err(int file, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return panthor_ioctl(file, DRM_IOCTL_GEM_CLOSE, &c);
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

	igt_fixture {
		panthor_close(other);
		panthor_close(fd);
	}
}
