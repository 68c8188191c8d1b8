// SPDX-License-Identifier: MIT
/*
 * The trace reader (trace-read.h). Every field is checked against the bytes
 * left before it is used; arithmetic on sizes from the file is done in 64
 * bits with explicit overflow checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace-read.h"

struct trace_reader {
	unsigned char *buf;
	size_t len, pos;
	uint32_t version;
};

int trace_reader_create(const void *buf, size_t len, struct trace_reader **out)
{
	struct trace_file_header h;
	struct trace_reader *r;

	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, TRACE_MAGIC, sizeof(h.magic)) || h.header_size < sizeof(h) ||
	    h.header_size > len || h.header_size % 8)
		return -EBADMSG;
	if (h.version == 0 || h.version > TRACE_VERSION)
		return -EPROTONOSUPPORT;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->buf = malloc(len ? len : 1);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	memcpy(r->buf, buf, len);
	r->len = len;
	r->pos = h.header_size;
	r->version = h.version;
	*out = r;
	return 0;
}

static int read_file(int fd, unsigned char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st))
		return -errno;
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		return -ENOMEM;
	while (got < *len) {
		ssize_t n = read(fd, *buf + got, *len - got);

		if (n <= 0) {
			free(*buf);
			return n < 0 ? -errno : -EBADMSG;
		}
		got += (size_t)n;
	}
	return 0;
}

int trace_reader_open(const char *path, struct trace_reader **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = read_file(fd, &buf, &len);
	close(fd);
	if (err)
		return err;
	err = trace_reader_create(buf, len, out);
	free(buf);
	return err;
}

void trace_reader_destroy(struct trace_reader *r)
{
	if (r)
		free(r->buf);
	free(r);
}

uint32_t trace_reader_version(const struct trace_reader *r)
{
	return r->version;
}

/* The array header at @p of @left bytes, and the size it takes. */
static int parse_array(const unsigned char *p, size_t left, struct trace_array_view *v,
		       size_t *used)
{
	struct trace_array a;
	uint64_t bytes;

	if (left < sizeof(a))
		return -EBADMSG;
	memcpy(&a, p, sizeof(a));
	bytes = (uint64_t)a.stride * a.count;
	if (bytes > left - sizeof(a) || trace_align(bytes) > left - sizeof(a))
		return -EBADMSG;
	*v = (struct trace_array_view){
		.role = a.role,
		.parent = a.parent,
		.stride = a.stride,
		.count = a.count,
		.data = p + sizeof(a),
	};
	*used = sizeof(a) + (size_t)trace_align(bytes);
	return 0;
}

static int parse_ioctl(const unsigned char *p, size_t len, struct trace_record *rec)
{
	struct trace_ioctl io;
	uint64_t arg;
	size_t used;

	if (len < sizeof(io))
		return -EBADMSG;
	memcpy(&io, p, sizeof(io));
	arg = trace_align(io.arg_size);
	if (arg > (len - sizeof(io)) / 2)
		return -EBADMSG;
	rec->request = io.request;
	rec->result = io.result;
	rec->arg_size = io.arg_size;
	rec->arg_in = p + sizeof(io);
	rec->arg_out = p + sizeof(io) + arg;
	rec->nr_arrays = io.nr_arrays;
	rec->arrays = p + sizeof(io) + 2 * arg;
	rec->arrays_len = len - sizeof(io) - 2 * (size_t)arg;
	/* Check every array now, so that users may trust them later. */
	for (uint32_t i = 0, at = 0; i < io.nr_arrays; i++, at += (uint32_t)used) {
		struct trace_array_view v;

		if (parse_array(rec->arrays + at, rec->arrays_len - at, &v, &used))
			return -EBADMSG;
	}
	return 0;
}

static int parse_open(const unsigned char *p, size_t len, struct trace_record *rec)
{
	struct trace_open o;

	if (len < sizeof(o) + 1 || !memchr(p + sizeof(o), '\0', len - sizeof(o)))
		return -EBADMSG;
	memcpy(&o, p, sizeof(o));
	rec->rdev_minor = o.rdev_minor;
	rec->path = (const char *)p + sizeof(o);
	return 0;
}

/* The record at r->pos: 1 known, 0 of a type to skip, -EBADMSG. */
static int parse_record(const struct trace_reader *r, struct trace_record *rec, size_t *size)
{
	struct trace_rec_header h;
	const unsigned char *payload;
	size_t len;

	if (r->len - r->pos < sizeof(h))
		return -EBADMSG;
	memcpy(&h, r->buf + r->pos, sizeof(h));
	if (h.size < sizeof(h) || h.size % 8 || h.size > r->len - r->pos)
		return -EBADMSG;
	*size = h.size;
	memset(rec, 0, sizeof(*rec));
	rec->type = h.type;
	rec->file = h.file;
	rec->seq = h.seq;
	rec->offset = r->pos;
	payload = r->buf + r->pos + sizeof(h);
	len = h.size - sizeof(h);
	switch (h.type) {
	case TRACE_REC_OPEN:
		return parse_open(payload, len, rec) ? -EBADMSG : 1;
	case TRACE_REC_CLOSE:
		return 1;
	case TRACE_REC_IOCTL:
		return parse_ioctl(payload, len, rec) ? -EBADMSG : 1;
	default:
		return 0;
	}
}

int trace_reader_next(struct trace_reader *r, struct trace_record *rec)
{
	while (r->pos < r->len) {
		size_t size;
		int ret = parse_record(r, rec, &size);

		if (ret < 0)
			return ret;
		r->pos += size;
		if (ret)
			return 1;
	}
	return 0;
}

int trace_record_array(const struct trace_record *rec, uint32_t i, struct trace_array_view *out)
{
	size_t at = 0, used = 0;

	if (i >= rec->nr_arrays)
		return -ENOENT;
	for (uint32_t k = 0; k <= i; k++, at += used)
		if (parse_array(rec->arrays + at, rec->arrays_len - at, out, &used))
			return -ENOENT; /* cannot happen: checked by trace_reader_next() */
	return 0;
}

int trace_record_find(const struct trace_record *rec, uint32_t role, uint32_t parent,
		      struct trace_array_view *out)
{
	for (uint32_t i = 0; trace_record_array(rec, i, out) == 0; i++)
		if (out->role == role && out->parent == parent)
			return 0;
	return -ENOENT;
}
