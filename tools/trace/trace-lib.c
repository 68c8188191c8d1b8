// SPDX-License-Identifier: MIT
/*
 * libgpuvm-trace.so: an LD_PRELOAD library that records the DRM ioctls of an
 * unmodified program into a gpuvm trace (trace-format.h). It interposes
 * ioctl() and close() and calls the next definition (libc's, or the mock
 * device's shim when that is preloaded after it).
 *
 * The trace goes to $GPUVM_TRACE_FILE (default gpuvm.trace), created at the
 * first recorded ioctl, by the process that loaded the library (a forked child
 * records nothing: its ioctls would interleave with the parent's).
 *
 * Copies from the program's memory go through process_vm_readv(), so a bad
 * pointer that the ioctl itself refused with -EFAULT is left out of the
 * trace instead of crashing the program.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gpuvm/panthor_drm.h>

#include "trace-format.h"
#include "trace-record.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_FDS 4096
#define DRM_MAJOR 226

static struct {
	pthread_mutex_t lock;
	int (*ioctl)(int, unsigned long, ...);
	int (*close)(int);
	int out;      /* the trace, -1 until the first record, -2 if it cannot be written */
	pid_t owner;  /* the process that records */
	uint32_t seq; /* next ioctl index */
	uint16_t next_file;
	int32_t file_of[MAX_FDS]; /* file id + 1, 0 = not a DRM file seen yet */
} tr = { .lock = PTHREAD_MUTEX_INITIALIZER, .out = -1 };

static void resolve(void)
{
	if (!tr.ioctl) {
		tr.ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
		tr.close = (int (*)(int))dlsym(RTLD_NEXT, "close");
		tr.owner = getpid();
	}
}

/* Copy @len bytes of the program's memory at @addr; false if unreadable. */
bool trace_copy_in(void *dst, uint64_t addr, size_t len)
{
	struct iovec local = { dst, len }, remote = { (void *)(uintptr_t)addr, len };

	if (!len)
		return true;
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* Write a whole buffer to the trace (under tr.lock). */
static void out_write(const void *buf, size_t len)
{
	const char *p = buf;

	while (len && tr.out >= 0) {
		ssize_t n = write(tr.out, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			tr.out = -2;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Create the trace and write its header (under tr.lock). */
static void out_open(void)
{
	const char *path = getenv("GPUVM_TRACE_FILE");
	struct trace_file_header h = { .version = TRACE_VERSION, .header_size = sizeof(h) };

	memcpy(h.magic, TRACE_MAGIC, sizeof(h.magic));
	tr.out = open(path && *path ? path : "gpuvm.trace",
		      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tr.out < 0) {
		tr.out = -2;
		return;
	}
	out_write(&h, sizeof(h));
}

/* Emit a record: its header's seq is set here for IOCTL records. */
static void emit(struct trace_buf *b, uint16_t file)
{
	struct trace_rec_header *h = (struct trace_rec_header *)b->data;

	if (tr.out == -1)
		out_open();
	h->file = file;
	if (h->type == TRACE_REC_IOCTL)
		h->seq = tr.seq++;
	out_write(b->data, b->len);
}

/* The file id of @fd, recording an OPEN the first time; -1: not DRM. */
static int file_id(int fd)
{
	struct stat st;
	struct trace_buf b;
	int id;

	if (fd < 0 || fd >= MAX_FDS)
		return -1;
	if (tr.file_of[fd])
		return tr.file_of[fd] - 1;
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) || major(st.st_rdev) != DRM_MAJOR)
		return -1;
	id = tr.next_file++;
	tr.file_of[fd] = id + 1;
	if (trace_build_open(&b, fd, minor(st.st_rdev)) == 0) {
		emit(&b, (uint16_t)id);
		trace_buf_free(&b);
	}
	return id;
}

static void record(int fd, unsigned long request, const void *before, void *arg, int result)
{
	struct trace_buf b;
	int id;

	pthread_mutex_lock(&tr.lock);
	id = tr.out == -2 ? -1 : file_id(fd);
	if (id >= 0 && trace_build_ioctl(&b, request, before, arg, result) == 0) {
		emit(&b, (uint16_t)id);
		trace_buf_free(&b);
	}
	pthread_mutex_unlock(&tr.lock);
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	unsigned char before[TRACE_MAX_ARG];
	bool traced;
	va_list ap;
	void *arg;
	int ret, saved;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	resolve();
	traced = getpid() == tr.owner && trace_recorded(request) &&
		 trace_copy_in(before, (uintptr_t)arg, _IOC_SIZE(request));
	ret = tr.ioctl(fd, request, arg);
	if (traced) {
		saved = errno;
		record(fd, request, before, arg, ret < 0 ? -saved : 0);
		errno = saved;
	}
	return ret;
}

EXPORT int close(int fd)
{
	resolve();
	if (fd >= 0 && fd < MAX_FDS && getpid() == tr.owner) {
		pthread_mutex_lock(&tr.lock);
		if (tr.file_of[fd]) {
			struct trace_buf b;

			if (trace_build_close(&b) == 0) {
				emit(&b, (uint16_t)(tr.file_of[fd] - 1));
				trace_buf_free(&b);
			}
			tr.file_of[fd] = 0;
		}
		pthread_mutex_unlock(&tr.lock);
	}
	return tr.close(fd);
}
