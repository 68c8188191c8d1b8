/* SPDX-License-Identifier: MIT */
/*
 * Private to mockdrm/shim/: the LD_PRELOAD shim that presents the mock device
 * as /dev/dri/card0 and /dev/dri/renderD128.
 *
 * DOC: shim overview
 *
 * The shim interposes the libc entry points that libdrm 2.4.114 and libigt
 * 1.27.1 use to find, open and drive a DRM device (shared/reference/drm-shim.md
 * section 1) and answers them from these pieces:
 *
 * - fsview.c: a read-only, in-memory view of the paths a platform device named
 *   panthor has: /dev/dri and /sys/dev/char/226:{0,128}. Every path in that
 *   namespace that the view does not list is reported as absent, so a real GPU
 *   of the machine is never picked. Nothing is written to disk.
 * - fds.c: which file descriptors are "fake", and the object behind each: a
 *   mock DRM open file or a directory of the view. A fake fd is a real fd of
 *   /dev/null, so numbering, O_CLOEXEC, dup and fork behave as the kernel makes
 *   them; only the association is ours.
 * - dev.c: the one device of the process, created on the first open of a node,
 *   and what happens at fork and exit (DOC: fork and exit in dev.c).
 * - dirs.c: directory streams of the view (DOC: directory streams).
 *
 * The entry points are in shim_fd.c (open, close, dup, fcntl, ioctl, mmap),
 * shim_path.c (stat, access, readlink, realpath, fopen, mount) and dirs.c.
 * Every other call, and every call on a path or fd outside the view, goes to
 * the next definition (libc) untouched. Entry points return -1 with errno like
 * the libc wrappers and leave errno alone when they succeed.
 *
 * Limits: the device lives in the process and does not survive exec() (a fake
 * fd without O_CLOEXEC stays open in the new program as plain /dev/null);
 * calls that do not go through the dynamic linker (raw syscalls, glibc's
 * internal calls, e.g. scandir() or posix_spawn()'s file actions) are not seen.
 *
 * Vocabulary: a "node" (struct fs_node) is one path of the view; "ours" means
 * a path inside the view's namespace, whether or not a node exists for it.
 */
#ifndef GPUVM_MOCKDRM_SHIM_H
#define GPUVM_MOCKDRM_SHIM_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <gpuvm/mockdrm.h>

/*
 * The shim defines open() and open64(), stat() and stat64(), ... as aliases of
 * one function each: that is only right when off_t, struct stat and struct
 * dirent already have their 64-bit layout, as on LP64 Linux.
 */
_Static_assert(sizeof(off_t) == 8, "build the shim without _FILE_OFFSET_BITS on LP64 only");
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "struct stat is not stat64");
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "struct dirent is not dirent64");

/* Entry points that the shim exports; everything else is hidden (shim.map). */
#define SHIM_EXPORT __attribute__((visibility("default")))

/* Define @name as another name of the exported function @target. */
#define SHIM_ALIAS(name, target) \
	extern __typeof__(name) name SHIM_EXPORT __attribute__((alias(#target)))

/* Fortify and pre-2.33 entry points that glibc declares only in some builds. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len, size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
void __chk_fail(void) __attribute__((noreturn));
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

/*
 * real.c: the next definition of each interposed function, found with
 * dlsym(RTLD_NEXT) on first use (not in a constructor: other libraries'
 * constructors may call us before ours has run).
 */
#define SHIM_REAL_SYMS(X) \
	X(open)           \
	X(openat)         \
	X(__open_2)       \
	X(__openat_2)     \
	X(close)          \
	X(close_range)    \
	X(closefrom)      \
	X(dup)            \
	X(dup2)           \
	X(dup3)           \
	X(fcntl)          \
	X(ioctl)          \
	X(mmap)           \
	X(stat)           \
	X(lstat)          \
	X(fstat)          \
	X(fstatat)        \
	X(statx)          \
	X(access)         \
	X(faccessat)      \
	X(readlink)       \
	X(readlinkat)     \
	X(realpath)       \
	X(fopen)          \
	X(fclose)         \
	X(opendir)        \
	X(fdopendir)      \
	X(readdir)        \
	X(rewinddir)      \
	X(closedir)

#define SHIM_SYM_ENUM(name) SHIM_SYM_##name,
enum shim_sym {
	SHIM_REAL_SYMS(SHIM_SYM_ENUM) SHIM_SYM_COUNT
};
#undef SHIM_SYM_ENUM

/* The next definition of @sym; aborts if libc lacks it (a broken install). */
void *shim_real(enum shim_sym sym);
#define REAL(fn) ((__typeof__(&fn))shim_real(SHIM_SYM_##fn))

/* MOCKDRM_DEBUG=1 (read once): log what the shim refuses or does not handle. */
bool shim_debug_on(void);
void shim_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set errno to -@err (a negative errno) and return -1, as libc wrappers do. */
int shim_fail(int err);

/* fsview.c: the paths of the view. */
enum fs_type {
	FS_DIR,
	FS_CHR,    /* a DRM node: minor in @minor */
	FS_REG,    /* a sysfs attribute: contents in @text */
	FS_LNK,    /* a sysfs link: target in @text; always to a directory */
	FS_SWSYNC, /* debugfs sync/sw_sync: each open is a new timeline */
};

struct fs_node;

/**
 * struct fs_node - one path of the view.
 * @path: absolute and normalized.
 * @type: what it is.
 * @minor: DRM minor of a FS_CHR node (major is always 226).
 * @text: contents of a FS_REG node, target of a FS_LNK node.
 * @show: optional: a FS_REG node whose contents are made at each open
 *	(debugfs); writes them, returns 0 or -errno. NULL: @text.
 * @perm: optional: permission bits, instead of the type's.
 */
struct fs_node {
	const char *path;
	enum fs_type type;
	unsigned int minor;
	const char *text;
	int (*show)(const struct fs_node *node, FILE *out);
	mode_t perm;
};

/*
 * Resolve @path (relative to @dirfd, as the *at() calls do) into an absolute,
 * lexically normalized path in @out (PATH_MAX bytes; "" when @path cannot be
 * resolved). Return true when that path is ours; false when it is not or
 * cannot be resolved (the caller then passes the call through). errno is
 * preserved.
 */
bool fsview_resolve(int dirfd, const char *path, char *out);
/* 0 and the node of the ours path @path, or -ENOENT (absent or hidden). */
int fsview_lookup(const char *path, const struct fs_node **out);
/* The stat answer for @node; @follow: stat (true) or lstat (false). */
void fsview_stat(const struct fs_node *node, bool follow, struct stat *st);
/* access(2) on @node: 0, -EACCES. */
int fsview_access(const struct fs_node *node, int mode);
/* readlink(2) on @node: bytes copied (no NUL), or -EINVAL when not a link. */
ssize_t fsview_readlink(const struct fs_node *node, char *buf, size_t size);
/*
 * Whether the real directory @dir (not ours) holds entries that the view hides
 * and replaces (/sys/dev/char: the real 226:* links), so that its streams must
 * be filtered, and whether its real entry @name is one of them.
 */
bool fsview_filters(const char *dir);
bool fsview_hides(const char *dir, const char *name);
/* The next node directly inside @dir from *@cursor on (start at 0), or NULL. */
const struct fs_node *fsview_next_child(const char *dir, size_t *cursor);
/* A unique inode number for @node, and the d_type of a dirent for it. */
ino_t fsview_ino(const struct fs_node *node);
unsigned char fsview_dtype(const struct fs_node *node);

/* debugfs.c: the debugfs part of the view (DOC: debugfs), which fsview.c serves. */
extern const struct fs_node debugfs_nodes[];
extern const size_t debugfs_nr_nodes;
/* Whether the normalized @path is in debugfs's part of the view. */
bool debugfs_is_ours(const char *path);
/* Whether @path is on debugfs (/sys/kernel/debug or below). */
bool debugfs_is_debugfs(const char *path);
/* The contents of a node with a @show function, malloc()ed. 0, -errno. */
int debugfs_contents(const struct fs_node *node, char **text, size_t *len);

/*
 * procfd.c: whether the absolute, normalized @path is a /proc fd link of a
 * fake fd of this process (DOC: proc fd links), and the node it was opened as.
 * errno is preserved.
 */
bool procfd_match(const char *path, const struct fs_node **node);

/*
 * fds.c: fake file descriptors. DOC: fd types (shim-notes) - to add a kind:
 * a value here, the object it owns in struct shim_obj, its release in
 * shim_obj_put(), its open in shim_open_node() and its ioctls in ioctl().
 * Fds the device makes itself (sync files, dma-bufs) are real kernel objects,
 * not fake fds: ioctl() forwards their request types to mockdrm_fd_ioctl().
 */
enum shim_obj_kind {
	SHIM_OBJ_DRM,     /* an open DRM node */
	SHIM_OBJ_DIR,     /* an open directory (or link) of the view */
	SHIM_OBJ_SW_SYNC, /* an open sw_sync: a timeline */
};

/**
 * struct shim_obj - what a fake fd refers to: the open file description.
 * @refs: one per fd that refers to it plus one per call using it; protected
 *	by the table lock. The last put closes @file.
 * @kind: what it is.
 * @node: the node it was opened as.
 * @file: the mock DRM open file (SHIM_OBJ_DRM only); owned.
 * @sw_sync: the timeline (SHIM_OBJ_SW_SYNC only); owned.
 */
struct shim_obj {
	unsigned int refs;
	enum shim_obj_kind kind;
	const struct fs_node *node;
	struct mockdrm_file *file;
	struct mockdrm_sw_sync *sw_sync;
};

/* A new object with one reference; takes ownership of @file. 0, -ENOMEM. */
int shim_obj_create(enum shim_obj_kind kind, const struct fs_node *node, struct mockdrm_file *file,
		    struct shim_obj **out);
/* Drop a reference (NULL is fine); errno is preserved. */
void shim_obj_put(struct shim_obj *obj);
/* The object of @fd with a reference taken, or NULL for a real fd. */
struct shim_obj *fds_get(int fd);
/*
 * Make @fd refer to @obj (NULL: to nothing, i.e. a real fd) and drop what it
 * referred to before. Consumes the reference to @obj, also on failure.
 * Return: 0, -ENOMEM (then @fd is left a real fd).
 */
int fds_set(int fd, struct shim_obj *obj);
/* Remove and return the object of @fd (with the fd's reference), or NULL. */
struct shim_obj *fds_take(int fd);
/* Forget every fake fd in [@first, @last] (after close_range()). */
void fds_forget_range(unsigned int first, unsigned int last);
/* The one lock of the fd table and of dirs.c's stream list. */
void shim_lock(void);
void shim_unlock(void);

/* dev.c: the device of this process. */
/* Open @node of the device, creating the device first if needed. 0, -errno. */
int shim_dev_open(enum mockdrm_node node, struct mockdrm_file **out);
/* Close a file that shim_dev_open() returned. */
void shim_dev_close(struct mockdrm_file *file);
/* Write the device's debugfs file @name (mockdrm_debugfs_show()). 0, -errno. */
int shim_dev_debugfs(const char *name, FILE *out);
/* Make sure the fork handlers are registered before a lock is first taken. */
void shim_init(void);

/* shim_fd.c: open a node of the view (an ours path) as a new fd: fd, -errno. */
int shim_open_node(const char *path, int flags);

#endif /* GPUVM_MOCKDRM_SHIM_H */
