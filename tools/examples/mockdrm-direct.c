// SPDX-License-Identifier: MIT
/*
 * mockdrm-direct: the mock panthor device run in-process through its library
 * API (gpuvm/mockdrm.h), without the LD_PRELOAD shim, as a test harness that
 * embeds it does: create a device, open its render node, create a VM and a
 * BO, bind the BO, let the GPU write through the MMU and read the bytes
 * back, unbind, and see the GPU fault where the BO was.
 *
 * Run by the test suite (example-mockdrm-direct), and built against the
 * installed gpuvm-mockdrm.pc (meson test install-core) as
 *   cc prog.c $(pkg-config --cflags --libs gpuvm-mockdrm)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpuvm/mockdrm.h>
#include <gpuvm/panthor_drm.h>

#define BO_SIZE 0x10000ull
#define BO_VA 0x100000ull

static void fail(const char *what, const char *why)
{
	fprintf(stderr, "mockdrm-direct: %s: %s\n", what, why);
	exit(1);
}

/* Run one ioctl; any error stops the program. */
static void ioctl_ok(struct mockdrm_file *file, unsigned long request, void *arg, const char *what)
{
	int err = mockdrm_ioctl(file, request, arg);

	if (err)
		fail(what, strerror(-err));
}

static void vm_bind(struct mockdrm_file *file, uint32_t vm, uint32_t op_flags, uint32_t bo)
{
	struct drm_panthor_vm_bind_op op = {
		.flags = op_flags, .bo_handle = bo, .va = BO_VA, .size = BO_SIZE
	};
	struct drm_panthor_vm_bind bind = { .vm_id = vm, .ops = DRM_PANTHOR_OBJ_ARRAY(1, &op) };

	ioctl_ok(file, DRM_IOCTL_PANTHOR_VM_BIND, &bind, "VM_BIND");
}

/* The GPU reads or writes @size bytes at @va through the VM's MMU. */
static struct gpuvm_mock_gpu_access gpu_access(struct mockdrm_file *file, uint32_t vm, uint32_t op,
					       uint64_t va, void *data, uint64_t size)
{
	struct gpuvm_mock_gpu_access acc = {
		.vm_id = vm, .op = op, .va = va, .size = size, .data = (uintptr_t)data
	};

	ioctl_ok(file, GPUVM_IOCTL_MOCK_GPU_ACCESS, &acc, "MOCK_GPU_ACCESS");
	return acc;
}

/* Bound: what the GPU writes at BO_VA, it reads back. */
static void check_bound(struct mockdrm_file *file, uint32_t vm)
{
	static const char msg[] = "written by the GPU";
	char back[sizeof(msg)] = "";
	struct gpuvm_mock_gpu_access acc;

	acc = gpu_access(file, vm, GPUVM_MOCK_GPU_ACCESS_WRITE, BO_VA + 0x1000, (void *)msg,
			 sizeof(msg));
	if (acc.access || acc.done != sizeof(msg))
		fail("GPU write", "faulted");
	acc = gpu_access(file, vm, GPUVM_MOCK_GPU_ACCESS_READ, BO_VA + 0x1000, back, sizeof(back));
	if (acc.access || memcmp(back, msg, sizeof(msg)) != 0)
		fail("GPU read", "not what it wrote");
}

/* Unbound: the GPU's read faults at BO_VA, and nothing is transferred. */
static void check_unbound(struct mockdrm_file *file, uint32_t vm)
{
	char back[16];
	struct gpuvm_mock_gpu_access acc =
		gpu_access(file, vm, GPUVM_MOCK_GPU_ACCESS_READ, BO_VA, back, sizeof(back));

	if (!acc.access || acc.fault_addr != BO_VA || acc.done != 0)
		fail("GPU read after the unbind", "no fault where the BO was");
}

int main(void)
{
	struct drm_panthor_vm_create vm = { 0 };
	struct drm_panthor_bo_create bo = { .size = BO_SIZE };
	struct mockdrm_file *file;
	struct mockdrm_dev *dev;

	if (mockdrm_dev_create(NULL, &dev) || mockdrm_open(dev, MOCKDRM_NODE_RENDER, &file))
		fail("open", "no device");
	ioctl_ok(file, DRM_IOCTL_PANTHOR_VM_CREATE, &vm, "VM_CREATE");
	ioctl_ok(file, DRM_IOCTL_PANTHOR_BO_CREATE, &bo, "BO_CREATE");
	vm_bind(file, vm.id, DRM_PANTHOR_VM_BIND_OP_TYPE_MAP, bo.handle);
	check_bound(file, vm.id);
	vm_bind(file, vm.id, DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP, 0);
	check_unbound(file, vm.id);
	mockdrm_close(file);
	mockdrm_dev_destroy(dev);
	printf("mockdrm-direct: bound, written and read by the GPU, unbound and faulted\n");
	return 0;
}
