// SPDX-License-Identifier: MIT
/*
 * Groups and command streams through libdrm, under the shim: igt's
 * panthor_group subtests step for step (mali.md section 4), the kernel's
 * validation rules for GROUP_CREATE and GROUP_SUBMIT (one row each, state
 * unchanged), and how faults, invalid instructions and timeouts show in the
 * job fences and GROUP_GET_STATE.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <sys/syscall.h>
#include <xf86drm.h>

#include "drm-test.h"
#include "group-args.h"

#define CMD_VA 0x1000000ull
#define RESULT_VA 0x1001000ull
#define E(call) ((call) ? -errno : 0)

/* The test stream of mali.md section 5: store 0xDEADBEEF at RESULT_VA. */
static const uint64_t deadbeef_stream[] = {
	0x0144000001001000ull, /* MOVE48 d68, 0x1001000 */
	0x02460000deadbeefull, /* MOVE32 r70, 0xdeadbeef */
	0x1546440000010000ull, /* STORE_MULTIPLE [d68 + 0] <- r70 */
	0x0300000000ff0000ull, /* WAIT 0xff */
	0x0246000000000000ull, /* MOVE32 r70, 0 */
	0x2401460000000233ull, /* FLUSH_CACHE2 clean+inv, id r70, slot 1 */
	0x0300000000ff0000ull, /* WAIT 0xff */
};

/* A VM with a command BO at CMD_VA and a result BO at RESULT_VA, both mapped. */
struct setup {
	uint32_t vm, cmd_bo, result_bo;
	uint64_t *cmd, *result;
};

static void setup_vm(struct setup *s)
{
	s->vm = dt_vm_create(dt_fd, 0);
	s->cmd_bo = dt_bo_create(dt_fd, DT_PAGE, 0, 0);
	s->result_bo = dt_bo_create(dt_fd, DT_PAGE, 0, 0);
	s->cmd = dt_bo_map(dt_fd, s->cmd_bo, DT_PAGE);
	s->result = dt_bo_map(dt_fd, s->result_bo, DT_PAGE);
	dt_map(dt_fd, s->vm, s->cmd_bo, 0, CMD_VA, DT_PAGE);
	dt_map(dt_fd, s->vm, s->result_bo, 0, RESULT_VA, DT_PAGE);
}

static void teardown_vm(struct setup *s)
{
	struct drm_panthor_vm_destroy d = { .id = s->vm };

	dt_bo_unmap(s->cmd, DT_PAGE);
	dt_bo_unmap(s->result, DT_PAGE);
	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &d), 0);
	assert_int_equal(E(drmCloseBufferHandle(dt_fd, s->cmd_bo)), 0);
	assert_int_equal(E(drmCloseBufferHandle(dt_fd, s->result_bo)), 0);
}

/* igt's group (group-args.h), on @vm. */
static struct drm_panthor_group_create igt_group(uint32_t vm)
{
	static const struct drm_panthor_queue_create queue = { .ringbuf_size = 4096 };

	return ga_group(&queue, vm);
}

static uint32_t group_create(uint32_t vm)
{
	struct drm_panthor_group_create g = igt_group(vm);

	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g), 0);
	assert_int_not_equal(g.group_handle, 0);
	return g.group_handle;
}

static void group_destroy(uint32_t group)
{
	struct drm_panthor_group_destroy d = { .group_handle = group };

	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_DESTROY, &d), 0);
}

/*
 * Raise or drop CAP_SYS_NICE in the effective set (raising needs it in the
 * permitted set). Return: 0, or -1 when the capability sets cannot be changed.
 */
static int set_cap_sys_nice(bool on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	uint32_t bit = CAP_TO_MASK(CAP_SYS_NICE);
	struct __user_cap_data_struct *d = &data[CAP_TO_INDEX(CAP_SYS_NICE)];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	if (on && !(d->permitted & bit))
		return -1;
	d->effective = on ? d->effective | bit : d->effective & ~bit;
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}

static uint32_t allowed_priorities(void)
{
	struct drm_panthor_group_priorities_info info = { 0 };
	struct drm_panthor_dev_query q = { .type = DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO,
					   .size = sizeof(info),
					   .pointer = (uintptr_t)&info };

	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q), 0);
	return info.allowed_mask;
}

/* Submit @size bytes at @addr on queue 0, signalling @syncobj. */
static int submit(uint32_t group, uint64_t addr, uint32_t size, uint32_t syncobj)
{
	struct drm_panthor_sync_op sync = { .flags = DRM_PANTHOR_SYNC_OP_SIGNAL |
						     DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ,
					    .handle = syncobj };
	struct drm_panthor_queue_submit qs = { .stream_addr = addr,
					       .stream_size = size,
					       .syncs = DRM_PANTHOR_OBJ_ARRAY(1, &sync) };
	struct drm_panthor_group_submit gs = { .group_handle = group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(1, &qs) };

	return dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs);
}

static struct drm_panthor_group_get_state group_state(uint32_t group)
{
	struct drm_panthor_group_get_state st = { .group_handle = group };

	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_GET_STATE, &st), 0);
	return st;
}

/* igt panthor_group@group_create */
static void test_group_create(void **state)
{
	uint32_t vm, group;
	struct drm_panthor_vm_destroy d;

	(void)state;
	vm = dt_vm_create(dt_fd, 0);
	assert_int_not_equal(vm, 0);
	group = group_create(vm);
	group_destroy(group);
	d = (struct drm_panthor_vm_destroy){ .id = vm };
	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_VM_DESTROY, &d), 0);
}

/* igt panthor_group@group_submit */
static void test_group_submit(void **state)
{
	struct setup s;
	uint32_t group, syncobj;

	(void)state;
	setup_vm(&s);
	memcpy(s.cmd, deadbeef_stream, sizeof(deadbeef_stream));
	group = group_create(s.vm);
	syncobj = dt_syncobj_create(dt_fd, 0);
	assert_int_equal(submit(group, CMD_VA, sizeof(deadbeef_stream), syncobj), 0);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &syncobj, 1, INT64_MAX, 0, NULL)), 0);
	assert_int_equal((uint32_t)s.result[0], 0xdeadbeef);
	assert_int_equal(group_state(group).state, 0);
	assert_int_equal(E(drmSyncobjDestroy(dt_fd, syncobj)), 0);
	group_destroy(group);
	teardown_vm(&s);
}

/* Validation rules */

/*
 * GROUP_CREATE rows: igt's group, with one thing changed. State unchanged:
 * no handle was taken (the next group still gets handle 1).
 */
struct create_row {
	const char *rule;
	int err;
	void (*change)(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q);
};

static void no_queues(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->queues.count = 0;
}

static void nine_queues(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->queues.count = 9;
}

static void group_pad(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->pad = 1;
}

static void bad_priority(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->priority = 4;
}

static void high_priority(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->priority = PANTHOR_GROUP_PRIORITY_HIGH;
}

static void compute_mask_absent(struct drm_panthor_group_create *g,
				struct drm_panthor_queue_create *q)
{
	(void)q;
	g->compute_core_mask = 1ull << 1; /* shader_present is 0x50005 */
}

static void tiler_mask_absent(struct drm_panthor_group_create *g,
			      struct drm_panthor_queue_create *q)
{
	(void)q;
	g->tiler_core_mask = 2;
}

static void too_few_cores(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->max_fragment_cores = 2; /* the mask has one */
}

static void unknown_vm(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->vm_id = 77;
}

static void queue_priority(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)g;
	q->priority = 16;
}

static void queue_pad(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)g;
	q->pad[1] = 1;
}

static void ring_not_pow2(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)g;
	q->ringbuf_size = 12288;
}

static void ring_too_small(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)g;
	q->ringbuf_size = 2048;
}

static void ring_too_big(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)g;
	q->ringbuf_size = 128 << 10;
}

static void queue_stride(struct drm_panthor_group_create *g, struct drm_panthor_queue_create *q)
{
	(void)q;
	g->queues.stride = 4;
}

static const struct create_row create_rows[] = {
	{ "no queues", -EINVAL, no_queues },
	{ "more queues than CS slots", -EINVAL, nine_queues },
	{ "pad", -EINVAL, group_pad },
	{ "priority above REALTIME", -EINVAL, bad_priority },
	{ "HIGH without CAP_SYS_NICE", -EACCES, high_priority },
	{ "compute core not present", -EINVAL, compute_mask_absent },
	{ "tiler not present", -EINVAL, tiler_mask_absent },
	{ "fewer cores in the mask than the maximum", -EINVAL, too_few_cores },
	{ "unknown VM", -EINVAL, unknown_vm },
	{ "queue priority above 15", -EINVAL, queue_priority },
	{ "queue pad", -EINVAL, queue_pad },
	{ "ring not a power of two", -EINVAL, ring_not_pow2 },
	{ "ring below 4 KiB", -EINVAL, ring_too_small },
	{ "ring above 64 KiB", -EINVAL, ring_too_big },
	{ "queue stride below the struct", -EINVAL, queue_stride },
};

static void test_create_rules(void **state)
{
	uint32_t vm = dt_vm_create(dt_fd, 0);
	unsigned int failed = 0;

	(void)state;
	/* The render node is never master: without CAP_SYS_NICE, HIGH is refused. */
	set_cap_sys_nice(false);
	for (size_t i = 0; i < sizeof(create_rows) / sizeof(create_rows[0]); i++) {
		struct drm_panthor_queue_create queues[9];
		struct drm_panthor_group_create g = igt_group(vm);
		int err;

		for (unsigned int q = 0; q < 9; q++)
			queues[q] = (struct drm_panthor_queue_create){ .ringbuf_size = 4096 };
		g.queues = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(1, queues);
		create_rows[i].change(&g, &queues[0]);
		err = dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g);
		if (err != create_rows[i].err) {
			print_error("FAIL %s: got %d, want %d\n", create_rows[i].rule, err,
				    create_rows[i].err);
			failed++;
		}
	}
	set_cap_sys_nice(true);
	/* Nothing was created: the first handle is still free. */
	assert_int_equal(group_create(vm), 1);
	assert_int_equal(failed, 0);
}

/*
 * panthor's group_priority_permit(): HIGH and REALTIME need CAP_SYS_NICE (or
 * the DRM master, which a render node never is), and GROUP_PRIORITIES_INFO
 * answers the same mask the create path applies.
 */
static void test_priorities_follow_cap_sys_nice(void **state)
{
	uint32_t vm = dt_vm_create(dt_fd, 0);
	struct drm_panthor_group_create g = igt_group(vm);

	(void)state;
	if (set_cap_sys_nice(true)) {
		skip();
		return;
	}
	assert_int_equal(allowed_priorities(), 0xf);
	g.priority = PANTHOR_GROUP_PRIORITY_REALTIME;
	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g), 0);
	group_destroy(g.group_handle);

	assert_int_equal(set_cap_sys_nice(false), 0);
	assert_int_equal(allowed_priorities(), 0x3);
	g.group_handle = 0;
	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_CREATE, &g), -EACCES);
	assert_int_equal(g.group_handle, 0);
	set_cap_sys_nice(true);
}

/*
 * GROUP_SUBMIT rows: a valid submit of the DEADBEEF stream, with one thing
 * changed. State unchanged: the result word, the syncobj (still without a
 * fence) and the group's state.
 */
struct submit_row {
	const char *rule;
	int err;
	uint32_t group_pad, pad, queue_index, size, flush, sync_flags, syncobj;
	uint64_t addr;
	uint32_t stride;
};

#define SIG (DRM_PANTHOR_SYNC_OP_SIGNAL | DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ)
#define STREAM ((uint32_t)sizeof(deadbeef_stream))

/* clang-format off */
static const struct submit_row submit_rows[] = {
	{"group pad", -EINVAL, 1, 0, 0, STREAM, 0, SIG, 0, CMD_VA, 40},
	{"submit pad", -EINVAL, 0, 1, 0, STREAM, 0, SIG, 0, CMD_VA, 40},
	{"unknown queue", -EINVAL, 0, 0, 1, STREAM, 0, SIG, 0, CMD_VA, 40},
	{"address without a size", -EINVAL, 0, 0, 0, 0, 0, SIG, 0, CMD_VA, 40},
	{"size without an address", -EINVAL, 0, 0, 0, STREAM, 0, SIG, 0, 0, 40},
	{"address not 64-byte aligned", -EINVAL, 0, 0, 0, STREAM, 0, SIG, 0, CMD_VA + 8, 40},
	{"size not a multiple of 8", -EINVAL, 0, 0, 0, STREAM - 4, 0, SIG, 0, CMD_VA, 40},
	{"latest_flush bits 30:24", -EINVAL, 0, 0, 0, STREAM, 1u << 24, SIG, 0, CMD_VA, 40},
	{"sync: unknown flag", -EINVAL, 0, 0, 0, STREAM, 0, SIG | 1u << 8, 0, CMD_VA, 40},
	{"sync: unknown syncobj to signal", -EINVAL, 0, 0, 0, STREAM, 0, SIG, 77, CMD_VA, 40},
	{"sync: unknown syncobj to wait for", -ENOENT, 0, 0, 0, STREAM, 0,
	 DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ, 77, CMD_VA, 40},
	{"sync: wait without a fence", -EINVAL, 0, 0, 0, STREAM, 0,
	 DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ, 0, CMD_VA, 40},
	{"submit stride below the struct", -EINVAL, 0, 0, 0, STREAM, 0, SIG, 0, CMD_VA, 32},
};
/* clang-format on */

static int submit_row_call(uint32_t group, uint32_t syncobj, const struct submit_row *r)
{
	struct drm_panthor_sync_op sync = { .flags = r->sync_flags,
					    .handle = r->syncobj ? r->syncobj : syncobj };
	struct drm_panthor_queue_submit qs = {
		.queue_index = r->queue_index,
		.stream_size = r->size,
		.stream_addr = r->addr,
		.latest_flush = r->flush,
		.pad = r->pad,
		.syncs = DRM_PANTHOR_OBJ_ARRAY(1, &sync),
	};
	struct drm_panthor_group_submit gs = {
		.group_handle = group,
		.pad = r->group_pad,
		.queue_submits = { .stride = r->stride, .count = 1, .array = (uintptr_t)&qs },
	};

	return dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs);
}

static void test_submit_rules(void **state)
{
	struct setup s;
	uint32_t group, syncobj;
	unsigned int failed = 0;

	(void)state;
	setup_vm(&s);
	memcpy(s.cmd, deadbeef_stream, sizeof(deadbeef_stream));
	group = group_create(s.vm);
	syncobj = dt_syncobj_create(dt_fd, 0);
	for (size_t i = 0; i < sizeof(submit_rows) / sizeof(submit_rows[0]); i++) {
		int err = submit_row_call(group, syncobj, &submit_rows[i]);

		if (err != submit_rows[i].err) {
			print_error("FAIL %s: got %d, want %d\n", submit_rows[i].rule, err,
				    submit_rows[i].err);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
	/* Nothing ran, nothing was installed. */
	usleep(20000);
	assert_int_equal(s.result[0], 0);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &syncobj, 1, 0, 0, NULL)), -EINVAL);
	assert_int_equal(group_state(group).state, 0);
	group_destroy(group);
	teardown_vm(&s);
}

/* Faults, invalid instructions, timeouts, order */

#define MOVE48(d, imm) (0x01ull << 56 | (uint64_t)(d) << 48 | ((imm)&0xffffffffffffull))
#define MOVE32(r, imm) (0x02ull << 56 | (uint64_t)(r) << 48 | (uint32_t)(imm))
/* STORE_MULTIPLE [d[addr] + 0] <- r[base] (mask 1) */
#define STORE1(base, addr) \
	(0x15ull << 56 | (uint64_t)(base) << 48 | (uint64_t)(addr) << 40 | 1u << 16)
/* SYNC_WAIT32 until mem32[d[addr]] == r[data] */
#define WAIT_EQ32(data, addr) \
	(0x27ull << 56 | (uint64_t)(addr) << 40 | (uint64_t)(data) << 32 | 2u << 28)

static void load_stream(struct setup *s, const uint64_t *insns, size_t n)
{
	memcpy(s->cmd, insns, n * sizeof(*insns));
}

static struct gpuvm_mock_vm_state vm_state(uint32_t vm)
{
	struct gpuvm_mock_vm_state st = { .vm_id = vm };

	assert_int_equal(dt_ioctl(dt_fd, GPUVM_IOCTL_MOCK_VM_STATE, &st), 0);
	return st;
}

static void wait_done(uint32_t syncobj)
{
	assert_int_equal(E(drmSyncobjWait(dt_fd, &syncobj, 1, INT64_MAX, 0, NULL)), 0);
}

/*
 * A store to an unmapped VA: the job faults, every group on the VM is fatal
 * (all its queues), the VM records the fault; the group refuses submits; a
 * new group on the VM runs (its activation re-enables the slot).
 */
static void test_mmu_fault(void **state)
{
	const uint64_t stream[] = { MOVE48(68, 0x7000000), MOVE32(70, 1), STORE1(70, 68) };
	struct gpuvm_mock_vm_state vs;
	uint32_t g1, g2, g3, sync = dt_syncobj_create(dt_fd, 0);
	struct setup s;

	(void)state;
	setup_vm(&s);
	load_stream(&s, stream, 3);
	g1 = group_create(s.vm);
	g2 = group_create(s.vm);
	assert_int_equal(submit(g1, CMD_VA, sizeof(stream), sync), 0);
	wait_done(sync);
	assert_int_equal(group_state(g1).state, DRM_PANTHOR_GROUP_STATE_FATAL_FAULT);
	assert_int_equal(group_state(g1).fatal_queues, 1);
	/* g2 ran nothing: stopped by g1's fault, it is INNOCENT as well. */
	assert_int_equal(group_state(g2).state,
			 DRM_PANTHOR_GROUP_STATE_FATAL_FAULT | DRM_PANTHOR_GROUP_STATE_INNOCENT);
	assert_int_equal(group_state(g2).fatal_queues, 1);
	vs = vm_state(s.vm);
	assert_int_equal(vs.faulted, 1);
	assert_int_equal(vs.fault_status, 0xc2 | GPUVM_MOCK_FAULT_ACCESS_WRITE << 8);
	assert_int_equal(vs.fault_addr, 0x7000000);
	assert_int_equal(submit(g1, CMD_VA, sizeof(stream), sync), -EINVAL);
	/* A new group on the VM: re-activation clears the fault. */
	load_stream(&s, deadbeef_stream, 7);
	g3 = group_create(s.vm);
	assert_int_equal(submit(g3, CMD_VA, sizeof(deadbeef_stream), sync), 0);
	wait_done(sync);
	assert_int_equal((uint32_t)s.result[0], 0xdeadbeef);
	assert_int_equal(vm_state(s.vm).faulted, 0);
	assert_int_equal(group_state(g3).state, 0);
	group_destroy(g1);
	group_destroy(g2);
	group_destroy(g3);
	teardown_vm(&s);
}

/* LOAD_MULTIPLE r[base] <- [d[addr] + 0] (mask 1) */
#define LOAD1(base, addr) \
	(0x14ull << 56 | (uint64_t)(base) << 48 | (uint64_t)(addr) << 40 | 1u << 16)
#define RO_VA 0x1003000ull /* the result BO again, read-only */
#define R(exc) ((exc) | GPUVM_MOCK_FAULT_ACCESS_READ << 8)
#define W(exc) ((exc) | GPUVM_MOCK_FAULT_ACCESS_WRITE << 8)
#define X(exc) ((exc) | GPUVM_MOCK_FAULT_ACCESS_EXECUTE << 8)

/*
 * Each fault kind a job can hit, as the VM records it (FAULTSTATUS and
 * FAULTADDRESS) and as GROUP_GET_STATE shows it: FATAL_FAULT, all queues.
 *
 *   0x1000000 cmd BO | 0x1001000 result BO | 0x1002000 hole | 0x1003000 result BO, RO
 */
struct cs_fault_row {
	const char *what;
	uint64_t stream[4];
	unsigned int n;
	uint64_t stream_addr; /* 0: CMD_VA */
	uint32_t status;
	uint64_t addr;
};

/* clang-format off */
static const struct cs_fault_row cs_fault_rows[] = {
	{"load, nothing under the root", {MOVE48(68, 1ull << 40), LOAD1(70, 68)}, 2, 0,
	 R(0xc0), 1ull << 40},
	{"load, no L3 entry", {MOVE48(68, 0x1002000), LOAD1(70, 68)}, 2, 0, R(0xc3), 0x1002000},
	{"store, no L2 entry", {MOVE48(68, 0x7000000), STORE1(70, 68)}, 2, 0, W(0xc2), 0x7000000},
	{"store to a read-only page", {MOVE48(68, RO_VA), STORE1(70, 68)}, 2, 0, W(0xcb), RO_VA},
	{"load beyond 48 bits", {MOVE32(68, 0), MOVE32(69, 0x10000), LOAD1(70, 68)}, 3, 0,
	 R(0xe0), 1ull << 48},
	{"fetch from a hole", {0}, 1, 0x1100000, X(0xc3), 0x1100000},
};
/* clang-format on */

static void check_cs_fault(const struct cs_fault_row *r)
{
	uint32_t g, sync = dt_syncobj_create(dt_fd, 0);
	struct gpuvm_mock_vm_state vs;
	struct drm_panthor_vm_bind_op ro = { .flags = DRM_PANTHOR_VM_BIND_OP_MAP_READONLY,
					     .va = RO_VA,
					     .size = DT_PAGE };
	struct setup s;

	setup_vm(&s);
	ro.bo_handle = s.result_bo;
	assert_int_equal(dt_bind(dt_fd, s.vm, 0, &ro, sizeof(ro), 1), 0);
	load_stream(&s, r->stream, r->n);
	g = group_create(s.vm);
	assert_int_equal(submit(g, r->stream_addr ? r->stream_addr : CMD_VA, 8 * r->n, sync), 0);
	wait_done(sync);
	vs = vm_state(s.vm);
	if (vs.fault_status != r->status || vs.fault_addr != r->addr)
		fail_msg("%s: status %#x at %#llx, want %#x at %#llx", r->what, vs.fault_status,
			 (unsigned long long)vs.fault_addr, r->status, (unsigned long long)r->addr);
	assert_int_equal(group_state(g).state, DRM_PANTHOR_GROUP_STATE_FATAL_FAULT);
	assert_int_equal(group_state(g).fatal_queues, 1);
	group_destroy(g);
	teardown_vm(&s);
}

static void test_cs_faults(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cs_fault_rows) / sizeof(cs_fault_rows[0]); i++)
		check_cs_fault(&cs_fault_rows[i]);
}

/* An unknown opcode faults its queue only; the VM and other groups are fine. */
static void test_invalid_instruction(void **state)
{
	const uint64_t stream[] = { MOVE32(70, 1), 0xff00000000000000ull };
	uint32_t g1, g2, sync = dt_syncobj_create(dt_fd, 0);
	struct setup s;

	(void)state;
	setup_vm(&s);
	load_stream(&s, stream, 2);
	g1 = group_create(s.vm);
	g2 = group_create(s.vm);
	assert_int_equal(submit(g1, CMD_VA, sizeof(stream), sync), 0);
	wait_done(sync);
	assert_int_equal(group_state(g1).state, DRM_PANTHOR_GROUP_STATE_FATAL_FAULT);
	assert_int_equal(group_state(g1).fatal_queues, 1);
	assert_int_equal(group_state(g2).state, 0);
	assert_int_equal(vm_state(s.vm).faulted, 0);
	group_destroy(g1);
	group_destroy(g2);
	teardown_vm(&s);
}

/* A SYNC_WAIT that never holds: the job times out (MOCKDRM_JOB_TIMEOUT_MS). */
static void test_timeout(void **state)
{
	const uint64_t stream[] = { MOVE48(68, RESULT_VA), MOVE32(70, 1), WAIT_EQ32(70, 68) };
	uint32_t g, sync = dt_syncobj_create(dt_fd, 0);
	struct setup s;

	(void)state;
	setup_vm(&s);
	load_stream(&s, stream, 3);
	g = group_create(s.vm);
	assert_int_equal(submit(g, CMD_VA, sizeof(stream), sync), 0);
	wait_done(sync);
	assert_int_equal(group_state(g).state, DRM_PANTHOR_GROUP_STATE_TIMEDOUT);
	assert_int_equal(submit(g, CMD_VA, sizeof(stream), sync), -EINVAL);
	group_destroy(g);
	teardown_vm(&s);
}

/*
 * Two jobs on one queue: A waits for the CPU to write 1, then stores 0xA;
 * B stores 0xB. B runs after A, whatever its own readiness.
 */
static void test_queue_order(void **state)
{
	const uint64_t stream[] = {
		/* A, at CMD_VA */
		MOVE48(68, RESULT_VA),
		MOVE32(70, 1),
		WAIT_EQ32(70, 68),
		MOVE48(72, RESULT_VA + 8),
		MOVE32(74, 0xa),
		STORE1(74, 72),
		0,
		0,
		/* B, at CMD_VA + 64 */
		MOVE48(72, RESULT_VA + 8),
		MOVE32(74, 0xb),
		STORE1(74, 72),
	};
	uint32_t g, sync[2] = { dt_syncobj_create(dt_fd, 0), dt_syncobj_create(dt_fd, 0) };
	struct setup s;

	(void)state;
	setup_vm(&s);
	load_stream(&s, stream, 11);
	g = group_create(s.vm);
	assert_int_equal(submit(g, CMD_VA, 48, sync[0]), 0);
	assert_int_equal(submit(g, CMD_VA + 64, 24, sync[1]), 0);
	usleep(50000);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &sync[1], 1, 0, 0, NULL)), -ETIME);
	assert_int_equal(s.result[1], 0);
	s.result[0] = 1; /* the CPU releases A */
	wait_done(sync[1]);
	wait_done(sync[0]);
	assert_int_equal(s.result[1], 0xb);
	assert_int_equal(group_state(g).state, 0);
	group_destroy(g);
	teardown_vm(&s);
}

/*
 * Implicit sync (issue 10): a submitted job is a writer of every shareable BO
 * of its VM until it runs; the dma-buf of one shows it to EXPORT_SYNC_FILE,
 * which is what Mesa waits on. The job is held back by a sw_sync fence.
 */

static int resv_status(int buf)
{
	struct dma_buf_export_sync_file a = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct sync_file_info info = { 0 };

	assert_int_equal(ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &a), 0);
	assert_int_equal(ioctl(a.fd, SYNC_IOC_FILE_INFO, &info), 0);
	close(a.fd);
	return info.status;
}

/*
 * Submit a stream on @group held back by a sw_sync fence; @buf (a dma-buf)
 * shows the job's fence while it waits exactly when the job is implicitly
 * synchronized with its BO (@want_pending), and not after it ran.
 */
static void submit_held(uint32_t group, int buf, bool want_pending)
{
	struct sw_sync_create_fence_data f = { .value = 1 };
	int tl = open("/sys/kernel/debug/sync/sw_sync", O_RDWR);
	uint32_t in = dt_syncobj_create(dt_fd, 0), out = dt_syncobj_create(dt_fd, 0), one = 1;
	struct drm_panthor_sync_op syncs[2];
	struct drm_panthor_queue_submit qs = { .stream_addr = CMD_VA, .stream_size = STREAM };
	struct drm_panthor_group_submit gs = { .group_handle = group,
					       .queue_submits = DRM_PANTHOR_OBJ_ARRAY(1, &qs) };

	assert_true(tl >= 0);
	assert_int_equal(ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, &f), 0);
	assert_int_equal(E(drmSyncobjImportSyncFile(dt_fd, in, f.fence)), 0);
	syncs[0] = (struct drm_panthor_sync_op){ .flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ,
						 .handle = in };
	syncs[1] = (struct drm_panthor_sync_op){ .flags = SIG, .handle = out };
	qs.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, syncs);
	assert_int_equal(dt_ioctl(dt_fd, DRM_IOCTL_PANTHOR_GROUP_SUBMIT, &gs), 0);
	assert_int_equal(resv_status(buf), want_pending ? 0 : 1);
	assert_int_equal(ioctl(tl, SW_SYNC_IOC_INC, &one), 0);
	assert_int_equal(E(drmSyncobjWait(dt_fd, &out, 1, INT64_MAX, 0, NULL)), 0);
	assert_int_equal(resv_status(buf), 1);
	close(f.fence);
	close(tl);
}

static void test_submit_implicit_sync(void **state)
{
	struct setup s;
	uint32_t group;
	int buf;

	(void)state;
	setup_vm(&s);
	memcpy(s.cmd, deadbeef_stream, sizeof(deadbeef_stream));
	group = group_create(s.vm);
	assert_int_equal(E(drmPrimeHandleToFD(dt_fd, s.result_bo, DRM_CLOEXEC, &buf)), 0);
	assert_int_equal(resv_status(buf), 1);
	submit_held(group, buf, true);
	assert_int_equal((uint32_t)s.result[0], 0xdeadbeef);
	close(buf);
	group_destroy(group);
	teardown_vm(&s);
}

#define SHARED_VA 0x2000000ull

static void unmap(uint32_t vm, uint64_t va, uint64_t size)
{
	struct drm_panthor_vm_bind_op op = { .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
					     .va = va,
					     .size = size };

	assert_int_equal(dt_bind(dt_fd, vm, 0, &op, sizeof(op), 1), 0);
}

/*
 * Implicit sync follows the BO's mappings in the VM, not how they were made:
 * a mapping cut in two (its pieces are new VAs) still counts, and a BO whose
 * last VA went is left alone (the mock counts committed VAs per VM-BO link
 * through gvm's commit hook and walks gvm's extobj list).
 */
static void test_submit_implicit_sync_split(void **state)
{
	struct setup s;
	uint32_t group, bo;
	int buf;

	(void)state;
	setup_vm(&s);
	memcpy(s.cmd, deadbeef_stream, sizeof(deadbeef_stream));
	group = group_create(s.vm);
	bo = dt_bo_create(dt_fd, 3 * DT_PAGE, 0, 0);
	assert_int_equal(E(drmPrimeHandleToFD(dt_fd, bo, DRM_CLOEXEC, &buf)), 0);
	dt_map(dt_fd, s.vm, bo, 0, SHARED_VA, 3 * DT_PAGE);
	unmap(s.vm, SHARED_VA + DT_PAGE, DT_PAGE);
	submit_held(group, buf, true);
	unmap(s.vm, SHARED_VA, 3 * DT_PAGE);
	submit_held(group, buf, false);
	close(buf);
	assert_int_equal(E(drmCloseBufferHandle(dt_fd, bo)), 0);
	group_destroy(group);
	teardown_vm(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DT_TEST(test_group_create),
		DT_TEST(test_group_submit),
		DT_TEST(test_create_rules),
		DT_TEST(test_priorities_follow_cap_sys_nice),
		DT_TEST(test_submit_rules),
		DT_TEST(test_mmu_fault),
		DT_TEST(test_cs_faults),
		DT_TEST(test_invalid_instruction),
		DT_TEST(test_timeout),
		DT_TEST(test_queue_order),
		DT_TEST(test_submit_implicit_sync),
		DT_TEST(test_submit_implicit_sync_split),
	};

	/* Read by the shim when the device is created (the first open). */
	setenv("MOCKDRM_JOB_TIMEOUT_MS", "300", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
