/* SPDX-License-Identifier: MIT */
/*
 * The gpuvm trace format, version 1: the DRM ioctls of a program, with their
 * arguments (deep-copied arrays) and results, as gpuvm-trace records them and
 * gpuvm-exercise --replay replays them. docs/trace-format.md says the same in
 * prose.
 *
 * DOC: layout
 *
 * All integers are little-endian. A trace is a header and then records, one
 * after the other up to the end of the file; every record starts 8-byte
 * aligned and its size is a multiple of 8.
 *
 *   header   struct trace_file_header (magic "GPUVMTRC", version, header size)
 *   record   struct trace_rec_header, then a payload by type:
 *     OPEN   struct trace_open, then the node's path, NUL-terminated
 *     CLOSE  nothing
 *     IOCTL  struct trace_ioctl, the argument before the call (arg_size bytes,
 *            padded to 8), the argument after it (same), then nr_arrays times
 *            struct trace_array and its stride * count bytes (padded to 8)
 *
 * DOC: what is recorded
 *
 * Ioctls on DRM device files (character devices of major 226): GEM_CLOSE,
 * PRIME handle/fd, every SYNCOBJ_* ioctl, every panthor ioctl but DEV_QUERY
 * (VM_CREATE to BO_QUERY_INFO, uapi 1.8), and the gpuvm
 * mock's MOCK_GPU_ACCESS, MOCK_FENCE_ATTACH and MOCK_FENCE_SIGNAL; the other
 * ioctls (VERSION, GET_CAP, DEV_QUERY, ...) are not. Each record holds the
 * argument struct as it was before and after the call, the result (0 or
 * -errno), and a copy, made after the call, of every array the argument
 * points to (struct trace_array.role): a VM_BIND's ops and each op's syncs,
 * a GROUP_SUBMIT's queue submits and their syncs, a GROUP_CREATE's queues,
 * syncobj handle and point arrays, the data a MOCK_GPU_ACCESS writes, a
 * BO_SET_LABEL's string, a BO_SYNC's ops.
 * Pointers inside the copied structs keep the recorded process's values:
 * a reader finds the array by its role and parent instead.
 *
 * A file is identified by the order in which the recorder first saw it (0,
 * 1, ...); CLOSE ends it; a new file opened later on the same descriptor gets
 * a new id. Records are written in the order the ioctls returned, and
 * struct trace_rec_header.seq numbers them from 0: "ioctl index" N is the
 * IOCTL record with seq N.
 *
 * DOC: compatibility
 *
 * A reader accepts its own version and older ones. A newer writer may append
 * fields at the end of the header and of any fixed struct (their sizes are in
 * the stream: header_size, and rec.size bounds each record) and may add
 * record types and array roles, which older readers skip.
 */
#ifndef GPUVM_TOOLS_TRACE_FORMAT_H
#define GPUVM_TOOLS_TRACE_FORMAT_H

#include <stdint.h>

#define TRACE_MAGIC "GPUVMTRC"
#define TRACE_VERSION 1u

/**
 * struct trace_file_header - the first bytes of a trace.
 * @magic: "GPUVMTRC" (no NUL).
 * @version: TRACE_VERSION of the writer.
 * @header_size: bytes of this header (16 in version 1); records start there.
 */
struct trace_file_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
};

/* Record types (struct trace_rec_header.type). */
enum trace_rec_type {
	TRACE_REC_OPEN = 1,  /* the recorder saw a new DRM file */
	TRACE_REC_CLOSE = 2, /* that file's descriptor was closed */
	TRACE_REC_IOCTL = 3, /* one ioctl on it */
};

/**
 * struct trace_rec_header - the start of every record.
 * @size: bytes of the record, this header included; a multiple of 8, >= 16.
 * @type: enum trace_rec_type.
 * @file: the file's id (DOC: what is recorded).
 * @seq: IOCTL records: the ioctl index, from 0; other records: 0.
 * @pad: zero.
 */
struct trace_rec_header {
	uint32_t size;
	uint16_t type;
	uint16_t file;
	uint32_t seq;
	uint32_t pad;
};

/**
 * struct trace_open - payload of an OPEN record, before the path.
 * @rdev_minor: the device's minor number (0 card0, 128 renderD128, ...).
 * @pad: zero.
 */
struct trace_open {
	uint32_t rdev_minor;
	uint32_t pad;
};

/**
 * struct trace_ioctl - payload of an IOCTL record, before the argument.
 * @request: the ioctl request number (its size field is @arg_size).
 * @result: 0 or the negative errno the call returned.
 * @arg_size: bytes of the argument struct.
 * @nr_arrays: struct trace_array entries after the two argument copies.
 * @pad: zero.
 */
struct trace_ioctl {
	uint64_t request;
	int32_t result;
	uint32_t arg_size;
	uint32_t nr_arrays;
	uint32_t pad;
};

/* Array roles (struct trace_array.role): which pointer of the argument. */
enum trace_array_role {
	TRACE_ARRAY_BIND_OPS = 1,      /* drm_panthor_vm_bind.ops */
	TRACE_ARRAY_BIND_OP_SYNCS = 2, /* .syncs of op @parent */
	TRACE_ARRAY_GROUP_QUEUES = 3,  /* drm_panthor_group_create.queues */
	TRACE_ARRAY_SUBMITS = 4,       /* drm_panthor_group_submit.queue_submits */
	TRACE_ARRAY_SUBMIT_SYNCS = 5,  /* .syncs of queue submit @parent */
	TRACE_ARRAY_HANDLES = 6,       /* syncobj handles (u32) */
	TRACE_ARRAY_POINTS = 7,        /* timeline points (u64) */
	TRACE_ARRAY_ACCESS_DATA = 8,   /* gpuvm_mock_gpu_access.data of a WRITE */
	TRACE_ARRAY_LABEL = 9,         /* drm_panthor_bo_set_label.label, NUL included */
	TRACE_ARRAY_BO_SYNC_OPS = 10,  /* drm_panthor_bo_sync.ops */
};

/**
 * struct trace_array - one array the argument points to, followed by its
 * stride * count bytes (padded to 8).
 * @role: enum trace_array_role.
 * @parent: for per-element arrays (op syncs, submit syncs) the element's
 *	index in its parent array; else 0.
 * @stride: bytes per element, as the program passed it (or the element size).
 * @count: elements.
 */
struct trace_array {
	uint32_t role;
	uint32_t parent;
	uint32_t stride;
	uint32_t count;
};

/* Bytes @n rounded up to the record alignment. */
static inline uint64_t trace_align(uint64_t n)
{
	return (n + 7) & ~7ull;
}

#endif /* GPUVM_TOOLS_TRACE_FORMAT_H */
