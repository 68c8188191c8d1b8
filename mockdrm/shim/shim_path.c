// SPDX-License-Identifier: MIT
/*
 * Interposed entry points on paths: the stat family, access, readlink,
 * realpath, fopen (and fclose) and mount, with their fortify, 64-bit and
 * pre-glibc-2.33 names.
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

/*
 * Look @path (relative to @dirfd) up in the view; @follow: a /proc fd link of
 * a fake fd answers as the node the fd was opened as (DOC: proc fd links).
 * Return: 1 and the node when ours; 0 when not ours (pass the call through);
 * -ENOENT when ours but absent or hidden.
 */
static int lookup_at(int dirfd, const char *path, bool follow, const struct fs_node **node)
{
	char ours[PATH_MAX];
	int ret;

	if (!fsview_resolve(dirfd, path, ours))
		return follow && procfd_match(ours, node) ? 1 : 0;
	ret = fsview_lookup(ours, node);
	return ret ? ret : 1;
}

/* The node of a fake fd; 1 when @fd is one, else 0. */
static int lookup_fd(int fd, const struct fs_node **node)
{
	struct shim_obj *obj = fds_get(fd);

	if (!obj)
		return 0;
	*node = obj->node;
	shim_obj_put(obj);
	return 1;
}

/*
 * What the *at() calls name: @dirfd itself for AT_EMPTY_PATH and an empty
 * path (or none, as statx() takes since Linux 6.11), else @path from it.
 */
static int lookup_at_flags(int dirfd, const char *path, int flags, const struct fs_node **node)
{
	if ((flags & AT_EMPTY_PATH) && (!path || !path[0]))
		return lookup_fd(dirfd, node);
	return lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), node);
}

static int stat_at(int dirfd, const char *path, struct stat *st, int flags)
{
	const struct fs_node *node;
	int ret = lookup_at_flags(dirfd, path, flags, &node);

	if (ret < 0)
		return shim_fail(ret);
	if (!ret)
		return REAL(fstatat)(dirfd, path, st, flags);
	fsview_stat(node, !(flags & AT_SYMLINK_NOFOLLOW), st);
	return 0;
}

SHIM_EXPORT int stat(const char *restrict path, struct stat *restrict st)
{
	return stat_at(AT_FDCWD, path, st, 0);
}
SHIM_ALIAS(stat64, stat);

SHIM_EXPORT int lstat(const char *restrict path, struct stat *restrict st)
{
	return stat_at(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
SHIM_ALIAS(lstat64, lstat);

SHIM_EXPORT int fstatat(int dirfd, const char *restrict path, struct stat *restrict st, int flags)
{
	return stat_at(dirfd, path, st, flags);
}
SHIM_ALIAS(fstatat64, fstatat);

SHIM_EXPORT int fstat(int fd, struct stat *st)
{
	const struct fs_node *node;

	if (!lookup_fd(fd, &node))
		return REAL(fstat)(fd, st);
	fsview_stat(node, true, st);
	return 0;
}
SHIM_ALIAS(fstat64, fstat);

static struct statx_timestamp statx_time(struct timespec ts)
{
	struct statx_timestamp t = { .tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec };

	return t;
}

static void stat_to_statx(const struct stat *st, struct statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st->st_blksize;
	stx->stx_nlink = (uint32_t)st->st_nlink;
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_mode = (uint16_t)st->st_mode;
	stx->stx_ino = st->st_ino;
	stx->stx_size = (uint64_t)st->st_size;
	stx->stx_blocks = (uint64_t)st->st_blocks;
	stx->stx_atime = statx_time(st->st_atim);
	stx->stx_ctime = statx_time(st->st_ctim);
	stx->stx_mtime = statx_time(st->st_mtim);
	stx->stx_rdev_major = major(st->st_rdev);
	stx->stx_rdev_minor = minor(st->st_rdev);
	stx->stx_dev_major = major(st->st_dev);
	stx->stx_dev_minor = minor(st->st_dev);
}

SHIM_EXPORT int statx(int dirfd, const char *restrict path, int flags, unsigned int mask,
		      struct statx *restrict stx)
{
	const struct fs_node *node;
	struct stat st;
	int ret = lookup_at_flags(dirfd, path, flags, &node);

	if (ret < 0)
		return shim_fail(ret);
	if (!ret)
		return REAL(statx)(dirfd, path, flags, mask, stx);
	fsview_stat(node, !(flags & AT_SYMLINK_NOFOLLOW), &st);
	stat_to_statx(&st, stx);
	return 0;
}

/*
 * glibc < 2.33 compiled stat() into calls of these (ver 1 on x86-64, where
 * the kernel's struct stat is libc's): binaries built then still import them.
 */
SHIM_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat_at(AT_FDCWD, path, st, 0);
}
SHIM_ALIAS(__xstat64, __xstat);

SHIM_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat_at(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
SHIM_ALIAS(__lxstat64, __lxstat);

SHIM_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}
SHIM_ALIAS(__fxstat64, __fxstat);

SHIM_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return stat_at(dirfd, path, st, flags);
}
SHIM_ALIAS(__fxstatat64, __fxstatat);

SHIM_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	const struct fs_node *node;
	int ret = lookup_at(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &node);

	if (!ret)
		return REAL(faccessat)(dirfd, path, mode, flags);
	if (ret > 0)
		ret = fsview_access(node, mode);
	return ret ? shim_fail(ret) : 0;
}

SHIM_EXPORT int access(const char *path, int mode)
{
	const struct fs_node *node;
	int ret = lookup_at(AT_FDCWD, path, true, &node);

	if (!ret)
		return REAL(access)(path, mode);
	if (ret > 0)
		ret = fsview_access(node, mode);
	return ret ? shim_fail(ret) : 0;
}

/* readlink(2) of a /proc fd link of a fake fd: the node's path, truncated to @size. */
static ssize_t readlink_procfd(const struct fs_node *node, char *buf, size_t size)
{
	size_t len = strlen(node->path);

	if (len > size)
		len = size;
	memcpy(buf, node->path, len);
	return (ssize_t)len;
}

static ssize_t readlink_at(int dirfd, const char *path, char *buf, size_t size)
{
	const struct fs_node *node;
	char abs[PATH_MAX];
	int found = lookup_at(dirfd, path, false, &node);
	ssize_t ret;

	if (!found && !fsview_resolve(dirfd, path, abs) && procfd_match(abs, &node))
		return size ? readlink_procfd(node, buf, size) : shim_fail(-EINVAL);
	if (!found) {
		if (dirfd == AT_FDCWD)
			return REAL(readlink)(path, buf, size);
		return REAL(readlinkat)(dirfd, path, buf, size);
	}
	ret = found < 0 ? found : fsview_readlink(node, buf, size);
	return ret < 0 ? shim_fail((int)ret) : ret;
}

SHIM_EXPORT ssize_t readlink(const char *restrict path, char *restrict buf, size_t size)
{
	return readlink_at(AT_FDCWD, path, buf, size);
}

SHIM_EXPORT ssize_t readlinkat(int dirfd, const char *restrict path, char *restrict buf,
			       size_t size)
{
	return readlink_at(dirfd, path, buf, size);
}

/* Fortify twins: the caller's buffer is @buflen bytes. */
SHIM_EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlink_at(AT_FDCWD, path, buf, len);
}

SHIM_EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len,
				     size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlink_at(dirfd, path, buf, len);
}

/* Paths of the view are their own real path (no link is followed). */
SHIM_EXPORT char *realpath(const char *restrict path, char *restrict resolved)
{
	const struct fs_node *node;
	char ours[PATH_MAX];

	if (!fsview_resolve(AT_FDCWD, path, ours)) {
		if (!procfd_match(ours, &node))
			return REAL(realpath)(path, resolved);
		snprintf(ours, sizeof(ours), "%s", node->path);
	} else if (fsview_lookup(ours, &node)) {
		errno = ENOENT;
		return NULL;
	}
	if (!resolved)
		return strdup(ours);
	return strcpy(resolved, ours);
}

SHIM_EXPORT char *canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}

SHIM_EXPORT char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		__chk_fail();
	return realpath(path, resolved);
}

/* open(2) flags of an fopen() mode; -EINVAL for a bad mode. */
static int fopen_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -EINVAL;
	}
	for (const char *c = mode + 1; *c && *c != ','; c++) {
		if (*c == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*c == 'e')
			flags |= O_CLOEXEC;
		else if (*c == 'x')
			flags |= O_EXCL;
	}
	return flags;
}

SHIM_EXPORT FILE *fopen(const char *restrict path, const char *restrict mode)
{
	char ours[PATH_MAX];
	FILE *file;
	int fd, flags;

	if (!fsview_resolve(AT_FDCWD, path, ours))
		return REAL(fopen)(path, mode);
	flags = fopen_flags(mode);
	fd = flags < 0 ? flags : shim_open_node(ours, flags);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	file = fdopen(fd, mode);
	if (!file) {
		int err = errno;

		close(fd);
		errno = err;
	}
	return file;
}
SHIM_ALIAS(fopen64, fopen);

/*
 * stdio closes its fd without calling close(): forget a fake fd first (a DRM
 * node opened with fopen(), or a fake fd given to fdopen()).
 */
SHIM_EXPORT int fclose(FILE *file)
{
	struct shim_obj *obj = fds_take(fileno(file));
	int ret = REAL(fclose)(file);

	shim_obj_put(obj);
	return ret;
}

/* Mimic a user without privileges (igt tries to mount debugfs). */
SHIM_EXPORT int mount(const char *source, const char *target, const char *fstype,
		      unsigned long flags, const void *data)
{
	(void)flags;
	(void)data;
	shim_debug("mount(%s, %s, %s): refused, EPERM", source ? source : "NULL",
		   target ? target : "NULL", fstype ? fstype : "NULL");
	errno = EPERM;
	return -1;
}
