// SPDX-License-Identifier: MIT
/*
 * VMs: VM_CREATE, VM_DESTROY, VM_GET_STATE, ids, the user VA range, and
 * destroying a VM that still has mappings.
 */
#include <errno.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor VM_CREATE, VM_DESTROY, VM_GET_STATE and VA ranges";

#define VA 0x1000000ull

static int fd = -1;

static int get_state_err(uint32_t vm)
{
	struct drm_panthor_vm_get_state a = { .vm_id = vm };

	return panthor_ioctl(fd, DRM_IOCTL_PANTHOR_VM_GET_STATE, &a);
}

static uint32_t va_bits(void)
{
	struct drm_panthor_gpu_info gi = { 0 };
	uint32_t size = sizeof(gi);

	igt_assert_eq(__panthor_query(fd, DRM_PANTHOR_DEV_QUERY_GPU_INFO, &gi, &size), 0);
	return gi.mmu_features & 0xff;
}

/* Ids are distinct and >= 1; a destroyed id is unknown to every VM ioctl. */
static void test_create_destroy(void)
{
	uint32_t vms[3], bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	struct drm_panthor_vm_bind_op op = panthor_map_op(bo, 0, VA, SZ_4K, 0);

	for (unsigned int i = 0; i < 3; i++) {
		uint64_t range = 0;

		vms[i] = panthor_vm_create(fd, &range);
		/* 0 lets the kernel choose, and it says what it chose. */
		igt_assert_neq_u64(range, 0);
		igt_assert_eq_u64(range & (SZ_4K - 1), 0);
		igt_assert_lte_u64(range, 1ull << va_bits());
		for (unsigned int j = 0; j < i; j++)
			igt_assert_neq_u32(vms[i], vms[j]);
		igt_assert_eq_u32(panthor_vm_state(fd, vms[i]), DRM_PANTHOR_VM_STATE_USABLE);
	}
	panthor_vm_destroy(fd, vms[1]);
	igt_assert_eq(__panthor_vm_destroy(fd, vms[1]), -EINVAL);
	igt_assert_eq(get_state_err(vms[1]), -EINVAL);
	igt_assert_eq(__panthor_vm_bind(fd, vms[1], 0, &op, sizeof(op), 1), -EINVAL);
	/* The others are untouched. */
	igt_assert_eq(__panthor_vm_bind(fd, vms[2], 0, &op, sizeof(op), 1), 0);
	igt_assert_eq_u32(panthor_vm_state(fd, vms[0]), DRM_PANTHOR_VM_STATE_USABLE);
	panthor_vm_destroy(fd, vms[0]);
	panthor_vm_destroy(fd, vms[2]);
	gem_close(fd, bo);
}

static void test_invalid(void)
{
	struct drm_panthor_vm_create create = { .flags = 1 };
	struct drm_panthor_vm_destroy destroy;
	uint32_t vm = panthor_vm_create(fd, NULL);

	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_VM_CREATE, &create, EINVAL);
	igt_assert_eq_u32(create.id, 0);
	destroy = (struct drm_panthor_vm_destroy){ .id = vm, .pad = 1 };
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &destroy, EINVAL);
	igt_assert_eq(__panthor_vm_destroy(fd, 0), -EINVAL);
	igt_assert_eq(__panthor_vm_destroy(fd, vm + 1000), -EINVAL);
	igt_assert_eq(get_state_err(0), -EINVAL);
	igt_assert_eq(get_state_err(vm + 1000), -EINVAL);
	/* The refused destroy left the VM alive. */
	igt_assert_eq_u32(panthor_vm_state(fd, vm), DRM_PANTHOR_VM_STATE_USABLE);
	panthor_vm_destroy(fd, vm);
}

/* Binds stay inside [0, user_va_range): the rest is the kernel's. */
static void test_user_va_range(void)
{
	uint64_t range = 4ull << 30;
	uint32_t vm = panthor_vm_create(fd, &range), bo = panthor_bo_create(fd, 2 * SZ_4K, 0, 0);
	struct drm_panthor_vm_bind_op last = panthor_map_op(bo, 0, range - SZ_4K, SZ_4K, 0);
	struct drm_panthor_vm_bind_op cross = panthor_map_op(bo, 0, range - SZ_4K, 2 * SZ_4K, 0);
	struct drm_panthor_vm_bind_op above = panthor_map_op(bo, 0, range, SZ_4K, 0);
	struct drm_panthor_vm_bind_op unmap_above = panthor_unmap_op(range, SZ_4K);
	struct panthor_va_expect mapped = { .va = range - SZ_4K, .size = SZ_4K, .tag_bo = bo };

	igt_assert_eq_u64(range, 4ull << 30);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &cross, sizeof(cross), 1), -EINVAL);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &above, sizeof(above), 1), -EINVAL);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &unmap_above, sizeof(above), 1), -EINVAL);
	igt_assert_eq(__panthor_vm_bind(fd, vm, 0, &last, sizeof(last), 1), 0);
	if (panthor_is_mock(fd)) {
		panthor_bo_tag(fd, bo, 2, bo);
		panthor_check_layout(fd, vm, range - 2 * SZ_4K, range, &mapped, 1);
	}
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
}

/* Destroying a VM unmaps its BOs, which live on and map elsewhere. */
static void test_destroy_mapped(void)
{
	uint32_t vm, other, bo;
	struct gpuvm_mock_gpu_access gone;
	uint64_t value;
	struct panthor_va_expect mapped = { .va = VA, .size = 8 * SZ_4K };

	panthor_require_mock(fd);
	vm = panthor_vm_create(fd, NULL);
	other = panthor_vm_create(fd, NULL);
	bo = panthor_bo_create(fd, 8 * SZ_4K, 0, 0);
	mapped.tag_bo = bo;
	panthor_bo_tag(fd, bo, 8, bo);
	panthor_map(fd, vm, bo, 0, VA, 8 * SZ_4K, 0);
	panthor_check_layout(fd, vm, VA, VA + 8 * SZ_4K, &mapped, 1);
	panthor_vm_destroy(fd, vm);
	gone = (struct gpuvm_mock_gpu_access){ .vm_id = vm,
					       .op = GPUVM_MOCK_GPU_ACCESS_READ,
					       .va = VA,
					       .size = sizeof(value),
					       .data = (uintptr_t)&value };
	do_ioctl_err(fd, GPUVM_IOCTL_MOCK_GPU_ACCESS, &gone, EINVAL);
	panthor_map(fd, other, bo, 0, VA, 8 * SZ_4K, 0);
	panthor_check_layout(fd, other, VA - SZ_4K, VA + 9 * SZ_4K, &mapped, 1);
	panthor_vm_destroy(fd, other);
	gem_close(fd, bo);
	panthor_check_mmu_clean(fd);
}

igt_main
{
	igt_fixture {
		fd = panthor_open();
	}

	igt_describe("ids distinct, chosen VA range written back, destroyed ids unknown");
	igt_subtest("vm-create-destroy") {
		test_create_destroy();
	}
	igt_describe("flags, pad, id 0 and unknown ids: EINVAL, the VM untouched");
	igt_subtest("vm-invalid") {
		test_invalid();
	}
	igt_describe("binds inside the user VA range only; its last page maps");
	igt_subtest("vm-user-va-range") {
		test_user_va_range();
	}
	igt_describe("a destroyed VM is gone for the GPU; its BO maps in another VM");
	igt_subtest("vm-destroy-mapped") {
		test_destroy_mapped();
	}

	igt_fixture {
		panthor_close(fd);
	}
}
