// SPDX-License-Identifier: MIT
/*
 * The /proc links of fake fds: /proc/self/fd/N of an open DRM node names the
 * node, as the kernel's link does.
 *
 * DOC: proc fd links
 *
 * A fake fd is really an fd of /dev/null, so the kernel's /proc/<pid>/fd/N
 * link names /dev/null. Clients tell the card node from the render node by
 * readlink() of that link (and some by realpath() or stat() through it), so
 * the calls on paths answer for it: readlink() and readlinkat() give the
 * node's path, realpath() and the following stat() and access() answer as
 * the node, and open() through the link opens the node again (a new open
 * file, as reopening a character device through /proc does). lstat() of the
 * link itself is the kernel's.
 *
 * The links are /proc/self/fd/N, /proc/thread-self/fd/N, /dev/fd/N, and
 * /proc/<pid>/fd/N or /proc/<pid>/task/<tid>/fd/N with this process's pid
 * and any of its threads (which share the fd table). Another process's links
 * are the kernel's: that process has its own device, which we cannot see.
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* If @s starts with @prefix, the rest of @s; else NULL. */
static const char *skip(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* If @s starts with a decimal number and '/', that number in @n and the rest. */
static const char *skip_number(const char *s, long *n)
{
	char *end;

	if (*s < '0' || *s > '9')
		return NULL;
	*n = strtol(s, &end, 10);
	return *end == '/' ? end + 1 : NULL;
}

/* After "/proc/<pid>/": "fd/" or "task/<tid>/fd/" of a thread of ours; the fd part. */
static const char *skip_task_fd(const char *s, const char *self)
{
	char task[64];
	const char *rest = skip(s, "task/");
	long tid;

	if (!rest)
		return skip(s, "fd/");
	rest = skip_number(rest, &tid);
	if (!rest)
		return NULL;
	snprintf(task, sizeof(task), "/proc/%s/task/%ld", self, tid);
	if (REAL(access)(task, F_OK))
		return NULL;
	return skip(rest, "fd/");
}

/* The "N" of an fd link of this process in the absolute path @path, or NULL. */
static const char *fd_part(const char *path)
{
	char pid[24];
	const char *rest;

	rest = skip(path, "/dev/fd/");
	if (!rest)
		rest = skip(path, "/proc/thread-self/fd/");
	if (rest)
		return rest;
	rest = skip(path, "/proc/self/");
	if (rest)
		return skip_task_fd(rest, "self");
	snprintf(pid, sizeof(pid), "%d/", (int)getpid());
	rest = skip(path, "/proc/");
	rest = rest ? skip(rest, pid) : NULL;
	pid[strlen(pid) - 1] = '\0';
	return rest ? skip_task_fd(rest, pid) : NULL;
}

bool procfd_match(const char *path, const struct fs_node **node)
{
	int saved = errno;
	const char *digits = path[0] ? fd_part(path) : NULL;
	struct shim_obj *obj;
	char *end;
	long fd;

	errno = saved;
	if (!digits || *digits < '0' || *digits > '9')
		return false;
	fd = strtol(digits, &end, 10);
	if (*end || fd > INT_MAX)
		return false;
	obj = fds_get((int)fd);
	if (!obj)
		return false;
	*node = obj->node;
	shim_obj_put(obj);
	return true;
}
