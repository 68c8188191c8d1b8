// SPDX-License-Identifier: MIT
/*
 * Interposed entry points on file descriptors: open and its fortify and 64-bit
 * twins, close, dup, fcntl, ioctl and mmap.
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

/* The ioctl types of sync files ('>', <linux/sync_file.h>) and dma-bufs ('b'). */
#define SHIM_SYNC_FILE_IOC_TYPE '>'
#define SHIM_DMA_BUF_IOC_TYPE 'b'

/* open(2): the mode argument is only there with O_CREAT or O_TMPFILE. */
static bool open_needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/*
 * The real fd behind a fake one: /dev/null with the caller's access mode and
 * fd flags, so that F_GETFL, F_GETFD and exec behave as for the real node.
 */
static int backing_fd(int flags)
{
	return REAL(open)("/dev/null", flags & (O_ACCMODE | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
}

static int open_drm(const struct fs_node *node, int flags)
{
	enum mockdrm_node type = node->minor >> 6 ? MOCKDRM_NODE_RENDER : MOCKDRM_NODE_PRIMARY;
	struct mockdrm_file *file;
	struct shim_obj *obj;
	int fd, ret;

	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	fd = backing_fd(flags);
	if (fd < 0)
		return -errno;
	ret = shim_dev_open(type, &file);
	if (ret)
		goto err_close;
	ret = shim_obj_create(SHIM_OBJ_DRM, node, file, &obj);
	if (ret)
		goto err_file;
	ret = fds_set(fd, obj);
	if (ret)
		goto err_close;
	return fd;

err_file:
	shim_dev_close(file);
err_close:
	REAL(close)(fd);
	return ret;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * A sysfs attribute: its text in an anonymous memfd (never on disk), reopened
 * read-only through /proc with the caller's fd flags when /proc is there.
 */
static int open_attr(const struct fs_node *node, int flags)
{
	char proc[40], *made = NULL;
	size_t len;
	int mfd, fd;

	if (!node->text && !node->show)
		return -ENXIO; /* a file of the view that nothing here opens */
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	fd = node->show ? debugfs_contents(node, &made, &len) : 0;
	if (fd < 0)
		return fd;
	mfd = memfd_create("mockdrm-sysfs", MFD_CLOEXEC);
	if (mfd < 0) {
		free(made);
		return -errno;
	}
	/* Read-only like the attribute; also makes the reopen read-only. */
	if (!write_all(mfd, made ? made : node->text, made ? len : strlen(node->text)) ||
	    lseek(mfd, 0, SEEK_SET) < 0 || fchmod(mfd, 0444) < 0)
		goto err_close;
	free(made);
	made = NULL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
	fd = REAL(open)(proc, flags & (O_CLOEXEC | O_NONBLOCK | O_PATH));
	if (fd >= 0) {
		REAL(close)(mfd);
	} else {
		fd = mfd;
		if (!(flags & O_CLOEXEC) && REAL(fcntl)(fd, F_SETFD, 0) < 0)
			goto err_close;
	}
	fds_set(fd, NULL);
	return fd;

err_close:
	fd = -errno;
	free(made);
	REAL(close)(mfd);
	return fd;
}

/* A directory (or a link to one) of the view: usable as a dirfd of *at(). */
static int open_dir(const struct fs_node *node, int flags)
{
	struct shim_obj *obj;
	int fd, ret;

	if (node->type == FS_LNK && (flags & O_NOFOLLOW) && !(flags & O_PATH))
		return -ELOOP;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EISDIR;
	fd = backing_fd(flags);
	if (fd < 0)
		return -errno;
	ret = shim_obj_create(SHIM_OBJ_DIR, node, NULL, &obj);
	if (!ret)
		ret = fds_set(fd, obj);
	if (ret) {
		REAL(close)(fd);
		return ret;
	}
	return fd;
}

/* debugfs sync/sw_sync: every open is a new timeline, closed with its last fd. */
static int open_sw_sync(const struct fs_node *node, int flags)
{
	struct shim_obj *obj;
	int fd, ret;

	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	fd = backing_fd(flags);
	if (fd < 0)
		return -errno;
	ret = shim_obj_create(SHIM_OBJ_SW_SYNC, node, NULL, &obj);
	if (!ret) {
		ret = mockdrm_sw_sync_open(&obj->sw_sync);
		if (ret) {
			shim_obj_put(obj);
			obj = NULL;
		}
	}
	if (!ret)
		ret = fds_set(fd, obj);
	if (ret) {
		REAL(close)(fd);
		return ret;
	}
	return fd;
}

int shim_open_node(const char *path, int flags)
{
	const struct fs_node *node;
	int ret = fsview_lookup(path, &node);

	if (ret)
		return ret;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	switch (node->type) {
	case FS_CHR:
		return open_drm(node, flags);
	case FS_REG:
		return open_attr(node, flags);
	case FS_SWSYNC:
		return open_sw_sync(node, flags);
	case FS_DIR:
	case FS_LNK:
		break;
	}
	return open_dir(node, flags);
}

static int open_at(int dirfd, const char *path, int flags, mode_t mode)
{
	const struct fs_node *node;
	char ours[PATH_MAX];
	int fd;

	if (fsview_resolve(dirfd, path, ours)) {
		fd = shim_open_node(ours, flags);
		return fd < 0 ? shim_fail(fd) : fd;
	}
	/* Through a /proc fd link of a fake fd: the node again, as the kernel reopens it. */
	if (!(flags & O_NOFOLLOW) && procfd_match(ours, &node)) {
		fd = shim_open_node(node->path, flags);
		return fd < 0 ? shim_fail(fd) : fd;
	}
	if (dirfd == AT_FDCWD)
		fd = REAL(open)(path, flags, mode);
	else
		fd = REAL(openat)(dirfd, path, flags, mode);
	if (fd >= 0)
		fds_set(fd, NULL);
	return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
	return open_needs_mode(flags) ? va_arg(ap, mode_t) : 0;
}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_at(AT_FDCWD, path, flags, mode);
}
SHIM_ALIAS(open64, open);

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_at(dirfd, path, flags, mode);
}
SHIM_ALIAS(openat64, openat);

/* Fortify twins: flags without a mode; libc's own check aborts on O_CREAT. */
SHIM_EXPORT int __open_2(const char *path, int flags)
{
	if (open_needs_mode(flags))
		return REAL(__open_2)(path, flags);
	return open_at(AT_FDCWD, path, flags, 0);
}
SHIM_ALIAS(__open64_2, __open_2);

SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (open_needs_mode(flags))
		return REAL(__openat_2)(dirfd, path, flags);
	return open_at(dirfd, path, flags, 0);
}
SHIM_ALIAS(__openat64_2, __openat_2);

SHIM_EXPORT int close(int fd)
{
	/* Forget first: once closed, the number may be reused by another thread. */
	struct shim_obj *obj = fds_take(fd);
	int ret = REAL(close)(fd);

	shim_obj_put(obj);
	return ret;
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int ret = REAL(close_range)(first, last, flags);

	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		fds_forget_range(first, last);
	return ret;
}

SHIM_EXPORT void closefrom(int lowfd)
{
	REAL(closefrom)(lowfd);
	if (lowfd >= 0)
		fds_forget_range((unsigned int)lowfd, ~0u);
}

/*
 * Make the new fd @newfd (or an error) of a dup-like call share @obj, the
 * object of the fd it duplicated (a reference the caller took before the call,
 * or NULL); a fd that @newfd replaced is forgotten.
 */
static int dup_done(int newfd, struct shim_obj *obj)
{
	if (newfd < 0) {
		shim_obj_put(obj);
		return newfd;
	}
	if (fds_set(newfd, obj)) {
		REAL(close)(newfd);
		return shim_fail(-ENOMEM);
	}
	return newfd;
}

SHIM_EXPORT int dup(int oldfd)
{
	struct shim_obj *obj = fds_get(oldfd);

	return dup_done(REAL(dup)(oldfd), obj);
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	struct shim_obj *obj;

	if (oldfd == newfd)
		return REAL(dup2)(oldfd, newfd);
	obj = fds_get(oldfd);
	return dup_done(REAL(dup2)(oldfd, newfd), obj);
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	struct shim_obj *obj = fds_get(oldfd);

	return dup_done(REAL(dup3)(oldfd, newfd, flags), obj);
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	struct shim_obj *obj;
	va_list ap;
	void *arg;

	/* Like libc: the argument, when there is one, is one word. */
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return REAL(fcntl)(fd, cmd, arg);
	obj = fds_get(fd);
	return dup_done(REAL(fcntl)(fd, cmd, arg), obj);
}
SHIM_ALIAS(fcntl64, fcntl);

static void debug_ioctl(unsigned long request, int ret)
{
	shim_debug("ioctl 0x%08lx (type '%c' nr 0x%02lx size %lu): %s", request,
		   (int)_IOC_TYPE(request), (unsigned long)_IOC_NR(request),
		   (unsigned long)_IOC_SIZE(request), strerror(-ret));
}

/*
 * A real fd may be one the device made (a sync file, a dma-buf): ask it for
 * the request types those have. -ENOTTY: not the device's (make the real call).
 */
static int foreign_fd_ioctl(int fd, unsigned long request, void *arg)
{
	unsigned int type = _IOC_TYPE(request);

	if (type != SHIM_SYNC_FILE_IOC_TYPE && type != SHIM_DMA_BUF_IOC_TYPE)
		return -ENOTTY;
	return mockdrm_fd_ioctl(fd, request, arg);
}

SHIM_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	struct shim_obj *obj;
	int saved = errno, ret;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	obj = fds_get(fd);
	if (!obj) {
		ret = foreign_fd_ioctl(fd, request, arg);
		if (ret == -ENOTTY)
			return REAL(ioctl)(fd, request, arg);
	} else if (obj->kind == SHIM_OBJ_DRM) {
		ret = mockdrm_ioctl(obj->file, request, arg);
	} else if (obj->kind == SHIM_OBJ_SW_SYNC) {
		ret = mockdrm_sw_sync_ioctl(obj->sw_sync, request, arg);
	} else {
		shim_obj_put(obj);
		return REAL(ioctl)(fd, request, arg);
	}
	shim_obj_put(obj);
	if (ret < 0) {
		debug_ioctl(request, ret);
		return shim_fail(ret);
	}
	/* Success leaves errno as it was (drm-shim.md section 5). */
	errno = saved;
	return ret;
}

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
	struct shim_obj *obj = (flags & MAP_ANONYMOUS) ? NULL : fds_get(fd);
	uint64_t bo_offset;
	void *ptr = MAP_FAILED;
	int bo_fd, ret;

	if (!obj || obj->kind != SHIM_OBJ_DRM) {
		shim_obj_put(obj);
		return REAL(mmap)(addr, len, prot, flags, fd, offset);
	}
	ret = mockdrm_mmap_check(obj->file, (uint64_t)offset, len, prot, flags);
	if (!ret)
		ret = mockdrm_mmap_lookup(obj->file, (uint64_t)offset, len, &bo_fd, &bo_offset);
	if (!ret && bo_offset > INT64_MAX)
		ret = -EINVAL;
	if (!ret)
		ptr = REAL(mmap)(addr, len, prot, flags, bo_fd, (off_t)bo_offset);
	shim_obj_put(obj);
	if (ret) {
		shim_debug("mmap of fd %d at 0x%llx (+0x%zx): %s", fd, (unsigned long long)offset,
			   len, strerror(-ret));
		errno = -ret;
	}
	return ptr;
}
SHIM_ALIAS(mmap64, mmap);
