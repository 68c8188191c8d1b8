/* SPDX-License-Identifier: MIT */
/*
 * Reading a gpuvm trace (trace-format.h). The reader trusts nothing in its
 * input: every size, count and offset is checked before use, so a truncated
 * or hostile file gives -EBADMSG, never a read out of bounds.
 */
#ifndef GPUVM_TOOLS_TRACE_READ_H
#define GPUVM_TOOLS_TRACE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "trace-format.h"

struct trace_reader;

/**
 * struct trace_array_view - an array of an IOCTL record.
 * @role: enum trace_array_role.
 * @parent: the element of the parent array it belongs to.
 * @stride: bytes per element.
 * @count: elements.
 * @data: stride * count bytes, inside the reader's buffer.
 */
struct trace_array_view {
	uint32_t role, parent, stride, count;
	const void *data;
};

/**
 * struct trace_record - one record, pointing into the reader's buffer (valid
 * until trace_reader_destroy()).
 * @type: enum trace_rec_type (unknown types are skipped, never returned).
 * @file: the file id.
 * @seq: IOCTL: the ioctl index.
 * @offset: where the record starts in the trace (for messages).
 * @rdev_minor: OPEN: the device minor.
 * @path: OPEN: the node's path, NUL-terminated.
 * @request: IOCTL: the request.
 * @result: IOCTL: 0 or -errno.
 * @arg_size: IOCTL: bytes at @arg_in and @arg_out.
 * @arg_in: IOCTL: the argument before the call.
 * @arg_out: IOCTL: the argument after the call.
 * @nr_arrays: IOCTL: arrays, read with trace_record_array().
 * @arrays: IOCTL: where the first array's header is (for the reader).
 */
struct trace_record {
	uint16_t type;
	uint16_t file;
	uint32_t seq;
	uint64_t offset;
	uint32_t rdev_minor;
	const char *path;
	uint64_t request;
	int32_t result;
	uint32_t arg_size;
	const void *arg_in, *arg_out;
	uint32_t nr_arrays;
	const unsigned char *arrays;
	size_t arrays_len;
};

/**
 * trace_reader_create() - read a trace held in memory.
 * @buf: the trace's bytes; copied, the caller keeps its buffer.
 * @len: bytes at @buf.
 * @out: the reader.
 *
 * Context: allocates.
 * Return: 0; -EBADMSG when the header is not a gpuvm trace; -EPROTONOSUPPORT
 * for a version newer than TRACE_VERSION; -ENOMEM.
 */
int trace_reader_create(const void *buf, size_t len, struct trace_reader **out);

/**
 * trace_reader_open() - read a trace file.
 * @path: the file.
 * @out: the reader.
 *
 * Context: allocates, reads the whole file.
 * Return: as trace_reader_create(), or the -errno of opening/reading @path.
 */
int trace_reader_open(const char *path, struct trace_reader **out);

/** trace_reader_destroy() - free a reader (NULL is fine). */
void trace_reader_destroy(struct trace_reader *r);

/** trace_reader_version() - the version in the trace's header. */
uint32_t trace_reader_version(const struct trace_reader *r);

/**
 * trace_reader_next() - the next record.
 * @r: the reader.
 * @rec: filled on 1.
 *
 * Records of unknown type are skipped. IOCTL records are checked whole,
 * arrays included, before they are returned.
 *
 * Context: no allocation.
 * Return: 1 and @rec; 0 at the end; -EBADMSG for a malformed record (the
 * reader then stays at it).
 */
int trace_reader_next(struct trace_reader *r, struct trace_record *rec);

/**
 * trace_record_array() - array @i of an IOCTL record.
 * @rec: the record (from trace_reader_next()).
 * @i: index, < rec->nr_arrays.
 * @out: filled on 0.
 *
 * Return: 0, or -ENOENT past the last array.
 */
int trace_record_array(const struct trace_record *rec, uint32_t i, struct trace_array_view *out);

/**
 * trace_record_find() - the array of @rec with @role and @parent.
 * @rec: the record.
 * @role: enum trace_array_role.
 * @parent: element index in the parent array (0 for top-level arrays).
 * @out: filled on 0.
 *
 * Return: 0, or -ENOENT when the record has no such array.
 */
int trace_record_find(const struct trace_record *rec, uint32_t role, uint32_t parent,
		      struct trace_array_view *out);

#endif /* GPUVM_TOOLS_TRACE_READ_H */
