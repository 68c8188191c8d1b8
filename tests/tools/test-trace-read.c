// SPDX-License-Identifier: MIT
/*
 * The trace reader (tools/trace/trace-read.h) on traces built by hand: every
 * field of a valid trace comes back, arrays are found by role and parent,
 * and no truncation or corrupted byte makes it read outside its input (run
 * under ASan in the sanitizer build) or return a record it did not check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace-read.h"

struct buf {
	unsigned char data[1024];
	size_t len;
};

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += (size_t)trace_align(n);
}

/* Header, OPEN "/dev/dri/renderD128", an IOCTL of 8-byte argument with two arrays, CLOSE. */
static void build(struct buf *b)
{
	struct trace_file_header h = { .version = TRACE_VERSION, .header_size = sizeof(h) };
	struct trace_rec_header open_h = { .type = TRACE_REC_OPEN, .file = 2 };
	struct trace_rec_header io_h = { .type = TRACE_REC_IOCTL, .file = 2, .seq = 0 };
	struct trace_rec_header close_h = { .size = 16, .type = TRACE_REC_CLOSE, .file = 2 };
	struct trace_open o = { .rdev_minor = 128 };
	struct trace_ioctl io = {
		.request = 0xc0086442, .result = -22, .arg_size = 8, .nr_arrays = 2
	};
	struct trace_array a1 = { .role = TRACE_ARRAY_BIND_OPS, .stride = 4, .count = 3 };
	struct trace_array a2 = {
		.role = TRACE_ARRAY_BIND_OP_SYNCS, .parent = 2, .stride = 16, .count = 1
	};
	uint64_t before = 0x1111, after = 0x2222;
	uint32_t ops[3] = { 7, 8, 9 };
	unsigned char sync[16] = { 0x5a };
	const char path[] = "/dev/dri/renderD128";
	size_t at;

	memset(b, 0, sizeof(*b));
	memcpy(h.magic, TRACE_MAGIC, 8);
	put(b, &h, sizeof(h));
	open_h.size = (uint32_t)(16 + sizeof(o) + trace_align(sizeof(path)));
	put(b, &open_h, sizeof(open_h));
	put(b, &o, sizeof(o));
	put(b, path, sizeof(path));
	at = b->len;
	put(b, &io_h, sizeof(io_h));
	put(b, &io, sizeof(io));
	put(b, &before, 8);
	put(b, &after, 8);
	put(b, &a1, sizeof(a1));
	put(b, ops, sizeof(ops));
	put(b, &a2, sizeof(a2));
	put(b, sync, sizeof(sync));
	((struct trace_rec_header *)(b->data + at))->size = (uint32_t)(b->len - at);
	put(b, &close_h, sizeof(close_h));
}

static void test_valid(void **state)
{
	struct trace_reader *r;
	struct trace_record rec;
	struct trace_array_view a;
	struct buf b;

	(void)state;
	build(&b);
	assert_int_equal(trace_reader_create(b.data, b.len, &r), 0);
	assert_int_equal(trace_reader_version(r), TRACE_VERSION);
	assert_int_equal(trace_reader_next(r, &rec), 1);
	assert_int_equal(rec.type, TRACE_REC_OPEN);
	assert_int_equal(rec.file, 2);
	assert_int_equal(rec.rdev_minor, 128);
	assert_string_equal(rec.path, "/dev/dri/renderD128");
	assert_int_equal(trace_reader_next(r, &rec), 1);
	assert_int_equal(rec.type, TRACE_REC_IOCTL);
	assert_int_equal(rec.request, 0xc0086442);
	assert_int_equal(rec.result, -22);
	assert_int_equal(*(const uint64_t *)rec.arg_in, 0x1111);
	assert_int_equal(*(const uint64_t *)rec.arg_out, 0x2222);
	assert_int_equal(trace_record_find(&rec, TRACE_ARRAY_BIND_OPS, 0, &a), 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(((const uint32_t *)a.data)[2], 9);
	assert_int_equal(trace_record_find(&rec, TRACE_ARRAY_BIND_OP_SYNCS, 2, &a), 0);
	assert_int_equal(((const unsigned char *)a.data)[0], 0x5a);
	assert_int_equal(trace_record_find(&rec, TRACE_ARRAY_BIND_OP_SYNCS, 1, &a), -ENOENT);
	assert_int_equal(trace_record_array(&rec, 2, &a), -ENOENT);
	assert_int_equal(trace_reader_next(r, &rec), 1);
	assert_int_equal(rec.type, TRACE_REC_CLOSE);
	assert_int_equal(trace_reader_next(r, &rec), 0);
	trace_reader_destroy(r);
}

/* Read everything; every array of every record must be inside the input. */
static int drain(const unsigned char *data, size_t len)
{
	struct trace_reader *r;
	struct trace_record rec;
	int ret = trace_reader_create(data, len, &r);

	if (ret)
		return ret;
	while ((ret = trace_reader_next(r, &rec)) > 0) {
		struct trace_array_view a;

		for (uint32_t i = 0; trace_record_array(&rec, i, &a) == 0; i++) {
			volatile unsigned char sum = 0;

			for (uint64_t k = 0; k < (uint64_t)a.stride * a.count; k++)
				sum ^= ((const unsigned char *)a.data)[k];
		}
	}
	trace_reader_destroy(r);
	return ret;
}

static void test_truncated(void **state)
{
	struct buf b;

	(void)state;
	build(&b);
	/* A copy of exactly @len bytes, so that ASan sees any read past it. */
	for (size_t len = 0; len < b.len; len++) {
		unsigned char *p = malloc(len ? len : 1);

		memcpy(p, b.data, len);
		assert_true(drain(p, len) <= 0);
		free(p);
	}
}

static void test_corrupted(void **state)
{
	struct buf b;

	(void)state;
	build(&b);
	for (size_t at = 0; at < b.len; at++) {
		static const unsigned char values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };

		for (size_t v = 0; v < sizeof(values); v++) {
			unsigned char *p = malloc(b.len);

			memcpy(p, b.data, b.len);
			p[at] = values[v];
			drain(p, b.len); /* any result, but inside the input */
			free(p);
		}
	}
}

static void test_refused(void **state)
{
	struct trace_reader *r;
	struct buf b;

	(void)state;
	build(&b);
	b.data[0] = 'X';
	assert_int_equal(trace_reader_create(b.data, b.len, &r), -EBADMSG);
	build(&b);
	((struct trace_file_header *)b.data)->version = TRACE_VERSION + 1;
	assert_int_equal(trace_reader_create(b.data, b.len, &r), -EPROTONOSUPPORT);
	assert_int_equal(trace_reader_open("/nonexistent/trace", &r), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
