// SPDX-License-Identifier: MIT
/*
 * Groups: GROUP_CREATE/DESTROY/SUBMIT/GET_STATE with command streams that
 * store through the group's VM (mali.md sections 4 and 5): the stored value
 * lands in the BO the VA translates to at the time the job runs; a store to
 * an unbound or read-only mapping faults the job, the group turns fatal and
 * the BO keeps its bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor groups: jobs that store through the VM";

#define CMD_VA 0x1000000ull
#define RESULT_VA 0x1001000ull

#define WAIT_POINT (DRM_PANTHOR_SYNC_OP_WAIT | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ)
#define SIGNAL_POINT (DRM_PANTHOR_SYNC_OP_SIGNAL | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ)

static int fd = -1;

struct setup {
	uint32_t vm, cmd_bo, result_bo;
	uint64_t *cmd, *result;
};

static void setup(struct setup *s, uint32_t cmd_flags)
{
	s->vm = panthor_vm_create(fd, NULL);
	s->cmd_bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	s->result_bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	s->cmd = panthor_bo_mmap(fd, s->cmd_bo, SZ_4K, PROT_READ | PROT_WRITE);
	s->result = panthor_bo_mmap(fd, s->result_bo, SZ_4K, PROT_READ | PROT_WRITE);
	panthor_map(fd, s->vm, s->cmd_bo, 0, CMD_VA, SZ_4K, cmd_flags);
	panthor_map(fd, s->vm, s->result_bo, 0, RESULT_VA, SZ_4K, 0);
}

static void teardown(struct setup *s)
{
	panthor_bo_munmap(s->cmd, SZ_4K);
	panthor_bo_munmap(s->result, SZ_4K);
	panthor_vm_destroy(fd, s->vm);
	gem_close(fd, s->cmd_bo);
	gem_close(fd, s->result_bo);
}

/* A stream storing @value at @va in the command BO, flushing unconditionally. */
static uint32_t store_stream(struct setup *s, uint64_t va, uint32_t value)
{
	return panthor_store_stream(s->cmd, va, value, 0);
}

static void run(uint32_t group, uint32_t size)
{
	panthor_run(fd, group, CMD_VA, size, 0);
}

static void test_create_destroy(void)
{
	uint32_t vm = panthor_vm_create(fd, NULL), group = panthor_group_create(fd, vm);

	igt_assert_eq_u32(panthor_group_state(fd, group).state, 0);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	igt_assert_eq(__panthor_group_destroy(fd, group), -EINVAL);
	panthor_vm_destroy(fd, vm);
}

/* The stored value reaches the BO: through the CPU mapping and through the GPU. */
static void test_submit(void)
{
	struct setup s;
	uint32_t group, value = 0;

	setup(&s, 0);
	group = panthor_group_create(fd, s.vm);
	run(group, store_stream(&s, RESULT_VA, 0xdeadbeef));
	igt_assert_eq_u32((uint32_t)s.result[0], 0xdeadbeef);
	if (panthor_is_mock(fd)) {
		igt_assert_eq_u32(panthor_gpu_read(fd, s.vm, RESULT_VA, &value, 4), 0);
		igt_assert_eq_u32(value, 0xdeadbeef);
	}
	igt_assert_eq_u32(panthor_group_state(fd, group).state, 0);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	teardown(&s);
}

/* Rebinding the VA between two jobs: the second job's store lands in the new BO. */
static void test_submit_remapped(void)
{
	uint32_t other = panthor_bo_create(fd, SZ_4K, 0, 0), group;
	uint64_t *other_cpu = panthor_bo_mmap(fd, other, SZ_4K, PROT_READ | PROT_WRITE);
	struct setup s;

	setup(&s, 0);
	group = panthor_group_create(fd, s.vm);
	run(group, store_stream(&s, RESULT_VA + 8, 0x1111));
	panthor_map(fd, s.vm, other, 0, RESULT_VA, SZ_4K, 0);
	run(group, store_stream(&s, RESULT_VA + 8, 0x2222));
	igt_assert_eq_u64(s.result[1], 0x1111);
	igt_assert_eq_u64(other_cpu[1], 0x2222);
	igt_assert_eq_u32(panthor_group_state(fd, group).state, 0);
	if (panthor_is_mock(fd))
		panthor_check_mmu_clean(fd);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	teardown(&s);
	panthor_bo_munmap(other_cpu, SZ_4K);
	gem_close(fd, other);
}

/*
 * A job whose store (or fetch) faults: the job's fence signals, the group is
 * fatal, the VM records the fault (mock), the BO is unchanged, and the group
 * refuses further submits.
 */
static void check_job_fault(struct setup *s, uint32_t size, uint64_t addr, uint32_t access)
{
	struct drm_panthor_queue_submit qs = { .stream_addr = CMD_VA, .stream_size = size };
	uint32_t group = panthor_group_create(fd, s->vm), syncobj = syncobj_create(fd, 0);
	uint32_t bystander = panthor_group_create(fd, s->vm);
	struct drm_panthor_group_get_state st;

	igt_assert_eq(__panthor_submit(fd, group, &qs, syncobj), 0);
	igt_assert(syncobj_wait(fd, &syncobj, 1, INT64_MAX, 0, NULL));
	st = panthor_group_state(fd, group);
	igt_assert_eq_u32(st.state, DRM_PANTHOR_GROUP_STATE_FATAL_FAULT);
	igt_assert_eq_u32(st.fatal_queues, 1);
	/* Another group on the VM is stopped too, but innocent (uapi 1.3). */
	igt_assert_eq_u32(panthor_group_state(fd, bystander).state,
			  DRM_PANTHOR_GROUP_STATE_FATAL_FAULT | DRM_PANTHOR_GROUP_STATE_INNOCENT);
	igt_assert_eq(__panthor_group_destroy(fd, bystander), 0);
	igt_assert_eq_u64(s->result[0], 0);
	if (panthor_is_mock(fd)) {
		struct gpuvm_mock_vm_state vs = panthor_mock_vm_state(fd, s->vm);

		igt_assert_eq_u64(vs.fault_addr, addr);
		igt_assert_eq_u32(GPUVM_MOCK_FAULT_ACCESS_TYPE(vs.fault_status), access);
	}
	igt_assert_eq(__panthor_submit(fd, group, &qs, syncobj), -EINVAL);
	syncobj_destroy(fd, syncobj);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
}

static void test_fault_after_unbind(void)
{
	struct setup s;
	uint32_t size;

	setup(&s, 0);
	size = store_stream(&s, RESULT_VA, 0xbad);
	panthor_unmap(fd, s.vm, RESULT_VA, SZ_4K);
	check_job_fault(&s, size, RESULT_VA, GPUVM_MOCK_FAULT_ACCESS_WRITE);
	teardown(&s);
}

static void test_fault_readonly(void)
{
	struct setup s;
	uint32_t size;

	setup(&s, 0);
	size = store_stream(&s, RESULT_VA, 0xbad);
	panthor_map(fd, s.vm, s.result_bo, 0, RESULT_VA, SZ_4K,
		    DRM_PANTHOR_VM_BIND_OP_MAP_READONLY);
	check_job_fault(&s, size, RESULT_VA, GPUVM_MOCK_FAULT_ACCESS_WRITE);
	teardown(&s);
}

/*
 * NOEXEC forbids shader execution, not command-stream fetch: the front end
 * reads streams as data (the kernel's own ring buffers are NOEXEC BOs), so a
 * stream in a NOEXEC mapping runs.
 */
static void test_stream_in_noexec(void)
{
	struct setup s;
	uint32_t group;

	setup(&s, DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC);
	group = panthor_group_create(fd, s.vm);
	run(group, store_stream(&s, RESULT_VA, 0x600d));
	igt_assert_eq_u64(s.result[0], 0x600d);
	igt_assert_eq_u32(panthor_group_state(fd, group).state, 0);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	teardown(&s);
}

/*
 * In-array chaining (1.8): the second job of one GROUP_SUBMIT, on another
 * queue, waits on the timeline point the first job signals, so it runs after
 * the first, which waits on a fence the test holds.
 */
static void test_submit_chain(void)
{
	struct drm_panthor_queue_create queues[] = { { .ringbuf_size = 4096 },
						     { .ringbuf_size = 4096 } };
	uint32_t in = syncobj_create(fd, 0), tl = syncobj_create(fd, 0), fence, group;
	struct drm_panthor_sync_op first[] = {
		{ .flags = DRM_PANTHOR_SYNC_OP_WAIT, .handle = in },
		{ .flags = SIGNAL_POINT, .handle = tl, .timeline_value = 1 },
	};
	struct drm_panthor_sync_op second[] = {
		{ .flags = WAIT_POINT, .handle = tl, .timeline_value = 1 },
		{ .flags = SIGNAL_POINT, .handle = tl, .timeline_value = 2 },
	};
	struct drm_panthor_queue_submit qs[2] = {
		{ .queue_index = 0,
		  .stream_addr = CMD_VA,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(2, first) },
		{ .queue_index = 1,
		  .stream_addr = CMD_VA + 256,
		  .syncs = DRM_PANTHOR_OBJ_ARRAY(2, second) },
	};
	struct drm_panthor_group_submit gs = { .queue_submits = DRM_PANTHOR_OBJ_ARRAY(2, qs) };
	struct drm_panthor_group_create g;
	struct setup s;

	setup(&s, 0);
	g = panthor_group_args(s.vm);
	g.queues = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, queues);
	do_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g);
	group = gs.group_handle = g.group_handle;
	qs[0].stream_size = panthor_store_stream(s.cmd, RESULT_VA, 1, 0);
	qs[1].stream_size = panthor_store_stream(s.cmd + 32, RESULT_VA + 8, 2, 0);
	fence = panthor_fence_attach(fd, in, 0);
	do_ioctl(fd, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs);
	usleep(10000);
	igt_assert_eq_u64(s.result[0], 0);
	igt_assert_eq_u64(s.result[1], 0);
	panthor_fence_signal(fd, fence, 0);
	igt_assert(syncobj_timeline_wait(fd, &tl, &(uint64_t){ 2 }, 1, INT64_MAX, 0, NULL));
	igt_assert_eq_u64(s.result[0], 1);
	igt_assert_eq_u64(s.result[1], 2);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, tl);
	teardown(&s);
}

static void test_invalid(void)
{
	uint32_t vm = panthor_vm_create(fd, NULL), group = panthor_group_create(fd, vm);
	uint32_t syncobj = syncobj_create(fd, 0);
	struct drm_panthor_group_create g;
	struct drm_panthor_queue_submit qs;
	struct drm_panthor_group_get_state st = { .group_handle = group + 100 };
	struct drm_syncobj_wait wait = { .handles = (uintptr_t)&syncobj, .count_handles = 1 };

	g = panthor_group_args(vm);
	g.queues.count = 0;
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g, EINVAL);
	g = panthor_group_args(vm);
	g.pad = 1;
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g, EINVAL);
	g = panthor_group_args(vm);
	g.compute_core_mask = 1ull << 63; /* no such core */
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g, EINVAL);
	g = panthor_group_args(vm);
	g.max_compute_cores = 2; /* more than the mask has */
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g, EINVAL);
	g = panthor_group_args(vm + 100);
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g, EINVAL);

	qs = (struct drm_panthor_queue_submit){ .stream_addr = CMD_VA + 8, .stream_size = 8 };
	igt_assert_eq(__panthor_submit(fd, group, &qs, syncobj), -EINVAL);
	qs = (struct drm_panthor_queue_submit){ .stream_addr = CMD_VA, .stream_size = 12 };
	igt_assert_eq(__panthor_submit(fd, group, &qs, syncobj), -EINVAL);
	qs = (struct drm_panthor_queue_submit){ .stream_addr = CMD_VA, .stream_size = 0 };
	igt_assert_eq(__panthor_submit(fd, group, &qs, syncobj), -EINVAL);
	qs = (struct drm_panthor_queue_submit){ .queue_index = 1,
						.stream_addr = CMD_VA,
						.stream_size = 8 };
	igt_assert_eq(__panthor_submit(fd, group, &qs, syncobj), -EINVAL);
	qs = (struct drm_panthor_queue_submit){ .stream_addr = CMD_VA, .stream_size = 8 };
	igt_assert_eq(__panthor_submit(fd, group + 100, &qs, syncobj), -EINVAL);
	do_ioctl_err(fd, DRM_IOCTL_PANTHOR_GROUP_GET_STATE, &st, EINVAL);
	/* Nothing was queued: the syncobj never got a fence to wait for. */
	do_ioctl_err(fd, DRM_IOCTL_SYNCOBJ_WAIT, &wait, EINVAL);
	igt_assert_eq_u32(panthor_group_state(fd, group).state, 0);
	syncobj_destroy(fd, syncobj);
	igt_assert_eq(__panthor_group_destroy(fd, group), 0);
	panthor_vm_destroy(fd, vm);
}

igt_main
{
	igt_fixture {
		fd = panthor_open();
	}

	igt_describe("igt's group_create: a group on a VM, destroyed once");
	igt_subtest("group-create-destroy") {
		test_create_destroy();
	}
	igt_describe("igt's group_submit: a job stores 0xdeadbeef through the VM into a BO");
	igt_subtest("group-submit") {
		test_submit();
	}
	igt_describe("a rebind between two jobs: the second job's store lands in the new BO");
	igt_subtest("group-submit-remapped") {
		test_submit_remapped();
	}
	igt_describe(
		"a job storing to an unbound VA faults; group fatal, others innocent; BO kept");
	igt_subtest("group-fault-after-unbind") {
		test_fault_after_unbind();
	}
	igt_describe("a job storing to a read-only mapping faults; BO unchanged");
	igt_subtest("group-fault-readonly") {
		test_fault_readonly();
	}
	igt_describe("a stream in a NOEXEC mapping runs: XN is for shaders, not CS fetch");
	igt_subtest("group-stream-in-noexec") {
		test_stream_in_noexec();
	}
	igt_describe("1.8: a job waits on the point an earlier job of its submit signals");
	igt_subtest("group-submit-chain") {
		panthor_require_mock(fd);
		test_submit_chain();
	}
	igt_describe("GROUP_CREATE/SUBMIT/GET_STATE refusals");
	igt_subtest("group-invalid") {
		test_invalid();
	}

	igt_fixture {
		panthor_close(fd);
	}
}
