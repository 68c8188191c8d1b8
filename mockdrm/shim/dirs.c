// SPDX-License-Identifier: MIT
/*
 * Directory streams: opendir, fdopendir, readdir, rewinddir and closedir.
 *
 * DOC: directory streams
 *
 * glibc's opendir() and readdir() do not go through the interposable open()
 * and getdents, so streams are handled here. The caller always holds a real
 * DIR (dirfd(), telldir() and the like keep working on it); the shim tracks
 * the streams it must change:
 *
 * - a directory of the view (/dev/dri, a sysfs directory): the stream is a
 *   sentinel opened on "/", whose entries are never shown; readdir() gives
 *   ".", "..", then the view's entries (DT_CHR for the DRM nodes). So opendir
 *   of /dev/dri works on a machine without one, and a real /dev/dri is hidden.
 * - a real directory that lists paths of the view (/sys/dev/char): its real
 *   entries minus the ones the view hides (226:*), then the view's entries.
 *
 * The list of tracked streams is protected by the table lock (fds.c); a
 * readdir() on a stream that is not tracked goes straight to libc when no
 * stream is tracked at all.
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/**
 * struct shim_dir - a tracked directory stream.
 * @dirp: the real stream the caller holds (a sentinel for a directory of the view).
 * @path: the directory, absolute and normalized.
 * @node: the view's node of a directory of the view, NULL for a filtered one.
 * @real_entries: entries of @dirp are still to be read (filtered streams).
 * @dots: how many of "." and ".." were given (directories of the view).
 * @cursor: the next node to consider, for fsview_next_child().
 * @pos: d_off of the last entry made up.
 * @owned_fd: fd of the view that fdopendir() took over, closed with the
 *	stream; -1 if none.
 * @ent: the entry readdir() returned last.
 * @next: the list of tracked streams.
 */
struct shim_dir {
	DIR *dirp;
	char path[PATH_MAX];
	const struct fs_node *node;
	bool real_entries;
	unsigned int dots;
	size_t cursor;
	long pos;
	int owned_fd;
	struct dirent ent;
	struct shim_dir *next;
};

static struct shim_dir *streams; /* protected by the table lock */
static unsigned int nr_streams;

static void stream_rewind(struct shim_dir *sd)
{
	sd->real_entries = !sd->node;
	sd->dots = sd->node ? 0 : 2;
	sd->cursor = 0;
	sd->pos = 0;
}

/* Track @dirp; on failure close it and set errno. Returns @dirp or NULL. */
static DIR *stream_track(DIR *dirp, const char *path, const struct fs_node *node, int owned_fd)
{
	struct shim_dir *sd;

	if (!dirp)
		return NULL;
	sd = calloc(1, sizeof(*sd));
	if (!sd) {
		REAL(closedir)(dirp);
		errno = ENOMEM;
		return NULL;
	}
	sd->dirp = dirp;
	snprintf(sd->path, sizeof(sd->path), "%s", path);
	sd->node = node;
	sd->owned_fd = owned_fd;
	stream_rewind(sd);
	shim_lock();
	sd->next = streams;
	streams = sd;
	__atomic_store_n(&nr_streams, nr_streams + 1, __ATOMIC_RELEASE);
	shim_unlock();
	return dirp;
}

/* The tracked stream of @dirp, or NULL. Lock held. */
static struct shim_dir *stream_find(DIR *dirp)
{
	struct shim_dir *sd;

	for (sd = streams; sd && sd->dirp != dirp; sd = sd->next)
		;
	return sd;
}

/* Remove and return the tracked stream of @dirp, or NULL. */
static struct shim_dir *stream_untrack(DIR *dirp)
{
	struct shim_dir **link, *sd = NULL;

	if (!__atomic_load_n(&nr_streams, __ATOMIC_ACQUIRE))
		return NULL;
	shim_lock();
	for (link = &streams; *link; link = &(*link)->next) {
		if ((*link)->dirp == dirp) {
			sd = *link;
			*link = sd->next;
			__atomic_store_n(&nr_streams, nr_streams - 1, __ATOMIC_RELEASE);
			break;
		}
	}
	shim_unlock();
	return sd;
}

static struct dirent *stream_entry(struct shim_dir *sd, const char *name, ino_t ino,
				   unsigned char type)
{
	struct dirent *ent = &sd->ent;
	size_t len = strlen(name);

	memset(ent, 0, sizeof(*ent));
	ent->d_ino = ino;
	ent->d_off = ++sd->pos;
	ent->d_type = type;
	memcpy(ent->d_name, name, len + 1);
	ent->d_reclen = (unsigned short)((offsetof(struct dirent, d_name) + len + 1 + 7) & ~7ul);
	return ent;
}

/* The next entry of a tracked stream, or NULL at the end. Lock held. */
static struct dirent *stream_next(struct shim_dir *sd)
{
	const struct fs_node *child;

	while (sd->real_entries) {
		struct dirent *ent = REAL(readdir)(sd->dirp);

		if (!ent)
			sd->real_entries = false;
		else if (!fsview_hides(sd->path, ent->d_name))
			return ent;
	}
	if (sd->dots < 2) {
		sd->dots++;
		return stream_entry(sd, sd->dots == 1 ? "." : "..",
				    sd->dots == 1 ? fsview_ino(sd->node) : 2, DT_DIR);
	}
	child = fsview_next_child(sd->path, &sd->cursor);
	if (!child)
		return NULL;
	return stream_entry(sd, strrchr(child->path, '/') + 1, fsview_ino(child),
			    fsview_dtype(child));
}

/* A stream on a directory of the view (@node is a FS_DIR or FS_LNK). */
static DIR *open_view_dir(const struct fs_node *node, int owned_fd)
{
	return stream_track(REAL(opendir)("/"), node->path, node, owned_fd);
}

SHIM_EXPORT DIR *opendir(const char *name)
{
	const struct fs_node *node;
	char path[PATH_MAX];

	if (!fsview_resolve(AT_FDCWD, name, path)) {
		DIR *dirp = REAL(opendir)(name);

		if (dirp && path[0] && fsview_filters(path))
			return stream_track(dirp, path, NULL, -1);
		return dirp;
	}
	if (fsview_lookup(path, &node)) {
		errno = ENOENT;
		return NULL;
	}
	if (node->type == FS_CHR || node->type == FS_REG || node->type == FS_SWSYNC) {
		errno = ENOTDIR;
		return NULL;
	}
	return open_view_dir(node, -1);
}

SHIM_EXPORT DIR *fdopendir(int fd)
{
	struct shim_obj *obj = fds_get(fd);
	char path[PATH_MAX];
	DIR *dirp;

	if (obj) {
		dirp = NULL;
		if (obj->kind == SHIM_OBJ_DIR)
			dirp = open_view_dir(obj->node, fd);
		else
			errno = ENOTDIR;
		shim_obj_put(obj);
		return dirp;
	}
	dirp = REAL(fdopendir)(fd);
	if (!dirp)
		return NULL;
	fsview_resolve(fd, ".", path);
	if (path[0] && fsview_filters(path))
		return stream_track(dirp, path, NULL, -1);
	return dirp;
}

SHIM_EXPORT struct dirent *readdir(DIR *dirp)
{
	struct shim_dir *sd;
	struct dirent *ent;

	if (!__atomic_load_n(&nr_streams, __ATOMIC_ACQUIRE))
		return REAL(readdir)(dirp);
	shim_lock();
	sd = stream_find(dirp);
	ent = sd ? stream_next(sd) : NULL;
	shim_unlock();
	return sd ? ent : REAL(readdir)(dirp);
}
SHIM_ALIAS(readdir64, readdir);

SHIM_EXPORT void rewinddir(DIR *dirp)
{
	struct shim_dir *sd;

	REAL(rewinddir)(dirp);
	if (!__atomic_load_n(&nr_streams, __ATOMIC_ACQUIRE))
		return;
	shim_lock();
	sd = stream_find(dirp);
	if (sd)
		stream_rewind(sd);
	shim_unlock();
}

SHIM_EXPORT int closedir(DIR *dirp)
{
	struct shim_dir *sd = stream_untrack(dirp);
	int ret = REAL(closedir)(dirp);

	if (sd) {
		int saved = errno;

		if (sd->owned_fd >= 0)
			close(sd->owned_fd);
		free(sd);
		errno = saved;
	}
	return ret;
}
