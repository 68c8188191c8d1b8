// SPDX-License-Identifier: MIT
/*
 * GPU faults seen through the mock's GPU-access ioctl: writes to read-only
 * mappings, accesses after an unbind, an access that runs off the end of a
 * mapping, and what the VM records of each (FAULTSTATUS, FAULTADDRESS). The
 * BO behind a refused write keeps its bytes.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description =
	"panthor GPU faults: read-only maps, unbinds, partial accesses";

#define VA 0x2000000ull

static int fd = -1;
static uint32_t vm, bo;
static uint64_t *cpu;

static bool is_permission_fault(uint32_t status)
{
	return (GPUVM_MOCK_FAULT_EXCEPTION(status) & ~3u) == GPUVM_MOCK_FAULT_PERMISSION(0);
}

static bool is_translation_fault(uint32_t status)
{
	return (GPUVM_MOCK_FAULT_EXCEPTION(status) & ~3u) == GPUVM_MOCK_FAULT_TRANSLATION(0);
}

static void setup(void)
{
	vm = panthor_vm_create(fd, NULL);
	bo = panthor_bo_create_tagged(fd, 4);
	cpu = panthor_bo_mmap(fd, bo, 4 * SZ_4K, PROT_READ | PROT_WRITE);
}

static void teardown(void)
{
	panthor_bo_munmap(cpu, 4 * SZ_4K);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
	panthor_check_mmu_clean(fd);
}

/* Reads work, writes fault with a permission fault; the BO is unchanged. */
static void test_readonly(void)
{
	struct panthor_va_expect mapped = { .va = VA, .size = 4 * SZ_4K };
	uint64_t value = 0x1234, fault_addr = 0;
	struct gpuvm_mock_vm_state state;
	uint32_t status;

	setup();
	mapped.tag_bo = bo;
	panthor_map(fd, vm, bo, 0, VA, 4 * SZ_4K, DRM_PANTHOR_VM_BIND_OP_MAP_READONLY);
	panthor_check_layout(fd, vm, VA, VA + 4 * SZ_4K, &mapped, 1);
	status = panthor_gpu_access(fd, vm, GPUVM_MOCK_GPU_ACCESS_WRITE, VA + SZ_4K + 16, &value,
				    sizeof(value), &fault_addr);
	igt_assert_f(is_permission_fault(status), "status %#x\n", status);
	igt_assert_eq_u32(GPUVM_MOCK_FAULT_ACCESS_TYPE(status), GPUVM_MOCK_FAULT_ACCESS_WRITE);
	igt_assert_eq_u64(fault_addr, VA + SZ_4K + 16);
	igt_assert_eq_u64(cpu[512 + 2], 0);
	igt_assert_eq_u64(cpu[512], panthor_tag(bo, 1));
	state = panthor_mock_vm_state(fd, vm);
	igt_assert_eq_u32(state.fault_status, status);
	igt_assert_eq_u64(state.fault_addr, VA + SZ_4K + 16);
	/* A writable mapping of the same pages elsewhere writes them. */
	panthor_map(fd, vm, bo, SZ_4K, VA + SZ_1M, SZ_4K, 0);
	igt_assert_eq_u32(panthor_gpu_write(fd, vm, VA + SZ_1M + 16, &value, sizeof(value)), 0);
	igt_assert_eq_u64(cpu[512 + 2], 0x1234);
	teardown();
}

/* After an unbind the GPU faults at exactly the unmapped pages; the BO keeps its data. */
static void test_after_unbind(void)
{
	struct panthor_va_expect all = { .va = VA, .size = 4 * SZ_4K };
	struct panthor_va_expect now[] = {
		{ .va = VA, .size = SZ_4K },
		{ .va = VA + 3 * SZ_4K, .size = SZ_4K, .bo_offset = 3 * SZ_4K },
	};
	uint64_t value = 0xfeed;

	setup();
	all.tag_bo = now[0].tag_bo = now[1].tag_bo = bo;
	panthor_map(fd, vm, bo, 0, VA, 4 * SZ_4K, 0);
	panthor_check_layout(fd, vm, VA, VA + 4 * SZ_4K, &all, 1);
	panthor_unmap(fd, vm, VA + SZ_4K, 2 * SZ_4K);
	panthor_check_layout(fd, vm, VA, VA + 4 * SZ_4K, now, 2);
	igt_assert(is_translation_fault(
		panthor_gpu_write(fd, vm, VA + 2 * SZ_4K, &value, sizeof(value))));
	igt_assert_eq_u64(cpu[1024], panthor_tag(bo, 2));
	panthor_unmap(fd, vm, VA, 4 * SZ_4K);
	panthor_check_layout(fd, vm, VA, VA + 4 * SZ_4K, NULL, 0);
	teardown();
}

/* A write across the end of a mapping stops at the first unmapped byte. */
static void test_partial_access(void)
{
	unsigned char data[64];
	uint64_t fault_addr = 0;
	uint32_t status;

	setup();
	panthor_map(fd, vm, bo, 0, VA, SZ_4K, 0);
	memset(data, 0xab, sizeof(data));
	status = panthor_gpu_access(fd, vm, GPUVM_MOCK_GPU_ACCESS_WRITE, VA + SZ_4K - 32, data,
				    sizeof(data), &fault_addr);
	igt_assert(is_translation_fault(status));
	igt_assert_eq_u64(fault_addr, VA + SZ_4K);
	for (unsigned int i = 0; i < 4; i++)
		igt_assert_eq_u64(cpu[508 + i], 0xababababababababull);
	igt_assert_eq_u64(cpu[512], panthor_tag(bo, 1));
	teardown();
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
	}

	igt_describe("read-only map: reads work, writes fault (permission, write), BO unchanged");
	igt_subtest("fault-readonly") {
		test_readonly();
	}
	igt_describe("after a partial then full unbind the GPU faults on exactly those pages");
	igt_subtest("fault-after-unbind") {
		test_after_unbind();
	}
	igt_describe("a write running off a mapping stops at its end, bytes before it written");
	igt_subtest("fault-partial-access") {
		test_partial_access();
	}

	igt_fixture {
		panthor_close(fd);
	}
}
