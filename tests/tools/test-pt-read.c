// SPDX-License-Identifier: MIT
/*
 * The mock-only MOCK_PT_READ ioctl that gpuvm-ptdump reads tables with: its
 * error rows (each leaves the caller's buffer and the VM untouched), and its
 * copies: after one 4 KiB map the root leads, table by table, to exactly one
 * page descriptor whose output address is what the GPU reads through.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drm-test.h"

#define VA 0x1000000ull
#define DESC_ADDR(d) ((d)&0x0000fffffffff000ull)

struct ctx {
	int fd;
	uint32_t vm, bo;
};

static int setup(void **state)
{
	static struct ctx c;

	c.fd = dt_open();
	if (c.fd < 0)
		return -1;
	c.vm = dt_vm_create(c.fd, 1ull << 32);
	c.bo = dt_bo_create(c.fd, DT_PAGE, 0, 0);
	dt_bo_tag_pages(c.fd, c.bo, 1);
	dt_map(c.fd, c.vm, c.bo, 0, VA, DT_PAGE);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	close(((struct ctx *)*state)->fd);
	return 0;
}

static int pt_read(int fd, struct gpuvm_mock_pt_read *r)
{
	return dt_ioctl(fd, GPUVM_IOCTL_MOCK_PT_READ, r);
}

/* Every refused request leaves the buffer as it was. */
static void test_errors(void **state)
{
	struct ctx *c = *state;
	uint64_t buf[512], unchanged[512];
	static const struct {
		const char *name;
		struct gpuvm_mock_pt_read r;
		int err;
	} rows[] = {
		{ "unknown VM", { .vm_id = 999 }, -EINVAL },
		{ "flags", { .flags = 1 }, -EINVAL },
		{ "pad", { .pad = 1 }, -EINVAL },
		{ "not a table", { .pa = 0x12345000 }, -ENOENT },
		{ "buffer too small", { .size = 4095 }, -EINVAL },
	};

	memset(buf, 0xa5, sizeof(buf));
	memcpy(unchanged, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct gpuvm_mock_pt_read r = rows[i].r;

		r.vm_id = r.vm_id ? r.vm_id : c->vm;
		r.data = (uintptr_t)buf;
		r.size = r.size ? r.size : sizeof(buf);
		if (pt_read(c->fd, &r) != rows[i].err)
			fail_msg("%s: expected %d", rows[i].name, rows[i].err);
		assert_memory_equal(buf, unchanged, sizeof(buf));
	}
	/* An unwritable buffer is -EFAULT, not a crash. */
	assert_int_equal(
		pt_read(c->fd,
			&(struct gpuvm_mock_pt_read){ .vm_id = c->vm, .data = 8, .size = 4096 }),
		-EFAULT);
}

/* Root to leaf by the PAs in the descriptors: one page, where the GPU reads. */
static void test_walk(void **state)
{
	struct ctx *c = *state;
	struct gpuvm_mock_pt_read r = { .vm_id = c->vm };
	uint64_t table[512], pa = 0;

	assert_int_equal(pt_read(c->fd, &r), 0); /* no buffer: only the out fields */
	assert_int_equal(r.size, 4096);
	assert_int_equal(r.table_pages, 4); /* L0..L3 for one page */
	assert_int_equal(r.table_bytes, 4 * 4096);
	for (unsigned int level = 0; level < 4; level++) {
		unsigned int index = (unsigned int)(VA >> (39 - 9 * level)) & 511, valid = 0;

		r = (struct gpuvm_mock_pt_read){
			.vm_id = c->vm, .pa = pa, .data = (uintptr_t)table, .size = sizeof(table)
		};
		assert_int_equal(pt_read(c->fd, &r), 0);
		for (unsigned int k = 0; k < 512; k++)
			valid += (table[k] & 1) != 0;
		assert_int_equal(valid, 1);
		assert_int_equal(table[index] & 3, 3); /* table (L0-L2) or page (L3) */
		pa = DESC_ADDR(table[index]);
	}
	/* The leaf's PA holds the BO's page: unmapping it makes the tables go. */
	assert_int_equal(dt_gpu_probe(c->fd, c->vm, VA), dt_page_tag(c->bo, 0));
	r = (struct gpuvm_mock_pt_read){ .vm_id = c->vm, .pa = pa };
	assert_int_equal(pt_read(c->fd, &r), -ENOENT); /* a BO page is not a table */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
