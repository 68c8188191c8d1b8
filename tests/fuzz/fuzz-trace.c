// SPDX-License-Identifier: MIT
/*
 * fuzz-trace: the trace reader of gpuvm-trace and gpuvm-exercise --replay
 * (tools/trace/trace-read.c) reading any bytes (libFuzzer target).
 *
 * The reader promises that it trusts nothing in its input: a truncated or
 * hostile trace gives -EBADMSG, never a read out of bounds. Each input is a
 * whole trace; the seeds (tests/fuzz/corpus/fuzz-trace/) are small traces
 * gpuvm-trace recorded of gpuvm-exercise. For every input:
 *
 * - trace_reader_create() returns 0, -EBADMSG or -EPROTONOSUPPORT (-ENOMEM
 *   only if memory ran out);
 * - trace_reader_next() returns 1, 0 or -EBADMSG; after 0 or -EBADMSG it
 *   returns the same again (the reader stays at a malformed record);
 * - every record it returns is of a known type and lies inside the input at
 *   an 8-byte aligned offset after the previous one, and what it points to is
 *   the input's bytes where trace-format.h puts them: the OPEN path (NUL
 *   within the record), the IOCTL argument before and after the call, each
 *   array's header and data (read through trace_record_array() and found
 *   again by trace_record_find());
 * - every byte a record points to is read (ASan reports a read past the
 *   reader's copy), and trace_ioctl_name() names every request.
 *
 * The replay's decoding (tools/exercise/ex_replay.c) is not driven here: it
 * issues every record as an ioctl on a device opened through the shim.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fuzz-input.h"
#include "trace-format.h"
#include "trace-names.h"
#include "trace-read.h"

#define REC_HEADER sizeof(struct trace_rec_header)
#define IOCTL_HEAD (REC_HEADER + sizeof(struct trace_ioctl))
#define OPEN_HEAD (REC_HEADER + sizeof(struct trace_open))

/* The input, and where the reader's last record ended. */
struct fz_trace {
	const uint8_t *data;
	size_t size;
	uint64_t end; /* past the last record returned */
};

/* [off, off + len) lies in the input, and @p shows the input's bytes there. */
static void expect_input_bytes(const struct fz_trace *t, const void *p, uint64_t off, uint64_t len,
			       const char *what, uint64_t rec)
{
	if (off > t->size || len > t->size - off)
		fz_fail("record at %" PRIu64 ": %s [%" PRIu64 ", +%" PRIu64
			") past the input's %zu "
			"bytes",
			rec, what, off, len, t->size);
	if (len && memcmp(p, t->data + off, len))
		fz_fail("record at %" PRIu64 ": %s is not the input's bytes at %" PRIu64, rec, what,
			off);
}

static void check_open(const struct fz_trace *t, const struct trace_record *rec)
{
	size_t len = strlen(rec->path);

	expect_input_bytes(t, rec->path, rec->offset + OPEN_HEAD, len + 1, "the path", rec->offset);
}

/* Array @i's header and data are where the previous array's data ended. */
static uint64_t check_array(const struct fz_trace *t, const struct trace_record *rec, uint32_t i,
			    uint64_t at)
{
	struct trace_array_view v, found;
	struct trace_array hdr;
	uint64_t bytes;

	if (trace_record_array(rec, i, &v))
		fz_fail("record at %" PRIu64 ": array %u of %u missing", rec->offset, i,
			rec->nr_arrays);
	hdr = (struct trace_array){ v.role, v.parent, v.stride, v.count };
	expect_input_bytes(t, &hdr, at, sizeof(hdr), "an array header", rec->offset);
	bytes = (uint64_t)v.stride * v.count;
	expect_input_bytes(t, v.data, at + sizeof(hdr), bytes, "an array's data", rec->offset);
	if (trace_record_find(rec, v.role, v.parent, &found) || found.role != v.role ||
	    found.parent != v.parent)
		fz_fail("record at %" PRIu64 ": array %u (role %u, parent %u) not found again",
			rec->offset, i, v.role, v.parent);
	return at + sizeof(hdr) + trace_align(bytes);
}

static void check_ioctl(const struct fz_trace *t, const struct trace_record *rec)
{
	uint64_t arg = rec->offset + IOCTL_HEAD, at;
	struct trace_array_view v;

	expect_input_bytes(t, rec->arg_in, arg, rec->arg_size, "the argument in", rec->offset);
	at = arg + trace_align(rec->arg_size);
	expect_input_bytes(t, rec->arg_out, at, rec->arg_size, "the argument out", rec->offset);
	at += trace_align(rec->arg_size);
	for (uint32_t i = 0; i < rec->nr_arrays; i++)
		at = check_array(t, rec, i, at);
	if (at > t->end)
		fz_fail("record at %" PRIu64 ": its arrays end at %" PRIu64 ", past the record",
			rec->offset, at);
	if (trace_record_array(rec, rec->nr_arrays, &v) != -ENOENT)
		fz_fail("record at %" PRIu64 ": an array past the last", rec->offset);
	if (!trace_ioctl_name(rec->request)[0])
		fz_fail("record at %" PRIu64 ": request without a name", rec->offset);
}

/* One record: inside the input, after the last one, its pointers where the format says. */
static void check_record(struct fz_trace *t, const struct trace_record *rec)
{
	struct trace_rec_header h;

	if (rec->offset < t->end || rec->offset % 8)
		fz_fail("record at %" PRIu64 " after the previous one ended at %" PRIu64
			", or unaligned",
			rec->offset, t->end);
	if (rec->offset > t->size || t->size - rec->offset < REC_HEADER)
		fz_fail("record at %" PRIu64 " past the input's end", rec->offset);
	memcpy(&h, t->data + rec->offset, sizeof(h));
	if (h.type != rec->type || h.file != rec->file || h.seq != rec->seq)
		fz_fail("record at %" PRIu64 ": type/file/seq differ from its header", rec->offset);
	if (h.size < REC_HEADER || h.size % 8 || h.size > t->size - rec->offset)
		fz_fail("record at %" PRIu64 ": accepted with size %u", rec->offset, h.size);
	t->end = rec->offset + h.size;
	switch (rec->type) {
	case TRACE_REC_OPEN:
		check_open(t, rec);
		break;
	case TRACE_REC_CLOSE:
		break;
	case TRACE_REC_IOCTL:
		check_ioctl(t, rec);
		break;
	default:
		fz_fail("record at %" PRIu64 ": unknown type %u returned", rec->offset, rec->type);
	}
}

/* Read every record; the reader must end (0) or stop (-EBADMSG) for good. */
static void read_all(struct fz_trace *t, struct trace_reader *r)
{
	struct trace_record rec;
	uint64_t records = 0;
	int ret;

	while ((ret = trace_reader_next(r, &rec)) == 1) {
		check_record(t, &rec);
		if (++records > t->size / REC_HEADER)
			fz_fail("%" PRIu64 " records from %zu bytes", records, t->size);
	}
	if (ret != 0 && ret != -EBADMSG)
		fz_fail("trace_reader_next() returned %d", ret);
	if (trace_reader_next(r, &rec) != ret)
		fz_fail("trace_reader_next() did not stay at %d", ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_trace t = { .data = data, .size = size };
	struct trace_reader *r;
	int ret = trace_reader_create(data, size, &r);

	if (ret == -EBADMSG || ret == -EPROTONOSUPPORT || ret == -ENOMEM)
		return 0;
	if (ret)
		fz_fail("trace_reader_create() returned %d", ret);
	if (size < sizeof(struct trace_file_header) || memcmp(data, TRACE_MAGIC, 8))
		fz_fail("a trace without the header was accepted");
	t.end = sizeof(struct trace_file_header);
	read_all(&t, r);
	trace_reader_destroy(r);
	return 0;
}
