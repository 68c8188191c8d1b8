/* SPDX-License-Identifier: MIT */
/*
 * Building trace records (trace-format.h) from an ioctl's argument: which
 * requests are recorded, and which arrays each one points to.
 */
#ifndef GPUVM_TOOLS_TRACE_RECORD_H
#define GPUVM_TOOLS_TRACE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No recorded argument struct is larger (the ioctl size field allows 16 KiB). */
#define TRACE_MAX_ARG 256
/* Arrays longer than this are left out of the record (and counted as absent). */
#define TRACE_MAX_ARRAY_BYTES (16u << 20)

/* A record being built: a growing buffer. */
struct trace_buf {
	unsigned char *data;
	size_t len, cap;
};

void trace_buf_free(struct trace_buf *b);

/* Is @request one the recorder keeps (DOC: what is recorded)? */
bool trace_recorded(unsigned long request);

/* Copy @len bytes of the recorded program's memory; false if unreadable. */
bool trace_copy_in(void *dst, uint64_t addr, size_t len);

/* The records; 0 or -ENOMEM (nothing to free then). */
int trace_build_open(struct trace_buf *b, int fd, uint32_t minor);
int trace_build_close(struct trace_buf *b);
int trace_build_ioctl(struct trace_buf *b, unsigned long request, const void *before,
		      const void *after, int result);

#endif /* GPUVM_TOOLS_TRACE_RECORD_H */
