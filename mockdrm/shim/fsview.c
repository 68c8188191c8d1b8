// SPDX-License-Identifier: MIT
/*
 * The filesystem view of the mock device: what a platform device named
 * panthor with a primary node (226:0) and a render node (226:128) looks like
 * to libdrm and libigt (shared/reference/drm-shim.md section 2).
 *
 * DOC: the view
 *
 * The namespace that is ours: /dev/dri and everything below it, and every
 * /sys/dev/char/226:* path. A path in it is answered from the table below or
 * is absent (ENOENT), whatever the machine has: a real GPU is never seen.
 *
 * In the real sysfs, /sys/dev/char/226:N is a link to the minor's directory
 * under /sys/devices/platform/<dev>/drm/, and its "device" entry a link to the
 * platform device's directory. The view presents both as directories (stat
 * and lstat agree) and answers realpath() with the path itself: libdrm only
 * stats, reads and readlinks below them. The links that libdrm does read
 * (device/subsystem, device/driver, subsystem) are links, with the targets the
 * kernel gives them; following them leads out of the view, so stat() of a link
 * answers as a directory and opendir() of one lists nothing.
 *
 * Paths are compared after lexical normalization ("//", "." and ".." folded
 * without looking at the disk). Relative paths are resolved against the
 * current directory or the dirfd (a directory fd of the view, or a real one
 * through /proc/self/fd).
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

#define DRM_MAJOR 226

/* Device numbers of the filesystems the nodes live on (devtmpfs, sysfs). */
#define DEV_OF_DEV makedev(0, 6)
#define DEV_OF_SYS makedev(0, 21)
#define DEV_OF_DEBUGFS makedev(0, 7) /* not sysfs's: /sys/kernel/debug is a mount point */
#define INO_BASE 0x6d6f636b0000ull   /* "mock" */

/* The platform device's uevent: bus info for libdrm's drmParsePlatform*Info. */
#define PLATFORM_UEVENT                          \
	"DRIVER=panthor\n"                       \
	"OF_NAME=gpu\n"                          \
	"OF_FULLNAME=/soc/gpu@fb000000\n"        \
	"OF_COMPATIBLE_0=arm,mali-valhall-csf\n" \
	"OF_COMPATIBLE_N=1\n"                    \
	"MODALIAS=of:NgpuT(null)Carm,mali-valhall-csf\n"

/* The sysfs entries of one minor; @minor is a literal, @name the node's name. */
#define SYSFS_MINOR(minor, name)                                                                  \
	{ "/sys/dev/char/226:" #minor, FS_DIR, 0, NULL },                                         \
		{ "/sys/dev/char/226:" #minor "/dev", FS_REG, 0, "226:" #minor "\n" },            \
		{ "/sys/dev/char/226:" #minor "/uevent", FS_REG, 0,                               \
		  "MAJOR=226\nMINOR=" #minor "\nDEVNAME=dri/" name "\nDEVTYPE=drm_minor\n" },     \
		{ "/sys/dev/char/226:" #minor "/subsystem", FS_LNK, 0, "../../../../class/drm" }, \
		{ "/sys/dev/char/226:" #minor "/device", FS_DIR, 0, NULL },                       \
		{ "/sys/dev/char/226:" #minor "/device/uevent", FS_REG, 0, PLATFORM_UEVENT },     \
		{ "/sys/dev/char/226:" #minor "/device/subsystem", FS_LNK, 0,                     \
		  "../../../bus/platform" },                                                      \
		{ "/sys/dev/char/226:" #minor "/device/driver", FS_LNK, 0,                        \
		  "../../../bus/platform/drivers/panthor" },                                      \
		{ "/sys/dev/char/226:" #minor "/device/drm", FS_DIR, 0, NULL },                   \
		{ "/sys/dev/char/226:" #minor "/device/drm/card0", FS_DIR, 0, NULL },             \
	{                                                                                         \
		"/sys/dev/char/226:" #minor "/device/drm/renderD128", FS_DIR, 0, NULL             \
	}

static const struct fs_node nodes[] = {
	{ "/dev/dri", FS_DIR, 0, NULL },
	{ "/dev/dri/card0", FS_CHR, 0, NULL },
	{ "/dev/dri/renderD128", FS_CHR, 128, NULL },
	SYSFS_MINOR(0, "card0"),
	SYSFS_MINOR(128, "renderD128"),
};

#define NR_NODES (sizeof(nodes) / sizeof(nodes[0]))

/* Real directories whose listing includes paths of the view. */
static const char *const filtered_dirs[] = { "/sys/dev/char" };

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool path_is_ours(const char *path)
{
	return !strcmp(path, "/dev/dri") || has_prefix(path, "/dev/dri/") ||
	       has_prefix(path, "/sys/dev/char/226:") || debugfs_is_ours(path);
}

/* The @i-th node of the view (this file's, then debugfs.c's), or NULL past the end. */
static const struct fs_node *node_at(size_t i)
{
	if (i < NR_NODES)
		return &nodes[i];
	i -= NR_NODES;
	return i < debugfs_nr_nodes ? &debugfs_nodes[i] : NULL;
}

/* Fold "//", "." and ".." of the absolute path @in into @out (PATH_MAX). */
static bool path_normalize(const char *in, char *out)
{
	size_t len = 0;

	while (*in) {
		const char *name;
		size_t n;

		while (*in == '/')
			in++;
		name = in;
		while (*in && *in != '/')
			in++;
		n = (size_t)(in - name);
		if (n == 0 || (n == 1 && name[0] == '.'))
			continue;
		if (n == 2 && name[0] == '.' && name[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		if (len + 1 + n + 1 > PATH_MAX)
			return false;
		out[len++] = '/';
		memcpy(out + len, name, n);
		len += n;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return true;
}

/* The absolute path of the directory @dirfd stands for, into @base (PATH_MAX). */
static bool dir_path(int dirfd, char *base)
{
	struct shim_obj *obj;
	char link[32];
	ssize_t n;

	if (dirfd == AT_FDCWD)
		return getcwd(base, PATH_MAX) != NULL;
	obj = fds_get(dirfd);
	if (obj) {
		/* A DRM fd is no directory: the real call fails with ENOTDIR. */
		bool dir = obj->kind == SHIM_OBJ_DIR;

		if (dir)
			snprintf(base, PATH_MAX, "%s", obj->node->path);
		shim_obj_put(obj);
		return dir;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = REAL(readlink)(link, base, PATH_MAX - 1);
	if (n <= 0 || base[0] != '/')
		return false;
	base[n] = '\0';
	return true;
}

bool fsview_resolve(int dirfd, const char *path, char *out)
{
	char base[PATH_MAX], joined[2 * PATH_MAX + 2];
	int saved = errno;
	bool ours = false;

	out[0] = '\0';
	if (!path || !path[0])
		return false;
	if (path[0] == '/') {
		if (!path_normalize(path, out))
			out[0] = '\0';
	} else if (dir_path(dirfd, base)) {
		snprintf(joined, sizeof(joined), "%s/%s", base, path);
		if (!path_normalize(joined, out))
			out[0] = '\0';
	}
	ours = out[0] && path_is_ours(out);
	errno = saved;
	return ours;
}

int fsview_lookup(const char *path, const struct fs_node **out)
{
	const struct fs_node *node;

	for (size_t i = 0; (node = node_at(i)); i++) {
		if (!strcmp(node->path, path)) {
			*out = node;
			return 0;
		}
	}
	shim_debug("%s: not in the view (hidden or absent): ENOENT", path);
	return -ENOENT;
}

ino_t fsview_ino(const struct fs_node *node)
{
	if (node >= nodes && node < nodes + NR_NODES)
		return (ino_t)(INO_BASE + (size_t)(node - nodes));
	return (ino_t)(INO_BASE + NR_NODES + (size_t)(node - debugfs_nodes));
}

unsigned char fsview_dtype(const struct fs_node *node)
{
	static const unsigned char dtypes[] = {
		[FS_DIR] = DT_DIR, [FS_CHR] = DT_CHR,    [FS_REG] = DT_REG,
		[FS_LNK] = DT_LNK, [FS_SWSYNC] = DT_REG,
	};

	return dtypes[node->type];
}

/* File type and permissions; a followed link answers as its target, a dir. */
static mode_t node_mode(const struct fs_node *node, bool follow)
{
	switch (node->type) {
	case FS_CHR:
		return S_IFCHR | 0666;
	case FS_REG:
		return S_IFREG | (node->perm ? node->perm : 0444);
	case FS_SWSYNC:
		return S_IFREG | (node->perm ? node->perm : 0666);
	case FS_LNK:
		return follow ? S_IFDIR | 0755 : S_IFLNK | 0777;
	case FS_DIR:
		break;
	}
	return S_IFDIR | 0755;
}

void fsview_stat(const struct fs_node *node, bool follow, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = has_prefix(node->path, "/dev/") ? DEV_OF_DEV : DEV_OF_SYS;
	if (debugfs_is_debugfs(node->path))
		st->st_dev = DEV_OF_DEBUGFS;
	st->st_ino = fsview_ino(node);
	st->st_mode = node_mode(node, follow);
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_blksize = 4096;
	if (S_ISCHR(st->st_mode))
		st->st_rdev = makedev(DRM_MAJOR, node->minor);
	if (S_ISREG(st->st_mode) && st->st_dev != DEV_OF_DEBUGFS) {
		/* sysfs attributes report one page, whatever they hold (debugfs files 0). */
		st->st_size = 4096;
		st->st_blocks = 8;
	}
	if (S_ISLNK(st->st_mode))
		st->st_size = (off_t)strlen(node->text);
}

int fsview_access(const struct fs_node *node, int mode)
{
	mode_t perm = node_mode(node, true);

	if ((mode & R_OK) && !(perm & S_IROTH))
		return -EACCES;
	if ((mode & W_OK) && !(perm & S_IWOTH))
		return -EACCES;
	if ((mode & X_OK) && !(perm & S_IXOTH))
		return -EACCES;
	return 0;
}

ssize_t fsview_readlink(const struct fs_node *node, char *buf, size_t size)
{
	size_t len;

	if (node->type != FS_LNK)
		return -EINVAL;
	len = strlen(node->text);
	if (len > size)
		len = size;
	memcpy(buf, node->text, len);
	return (ssize_t)len;
}

bool fsview_filters(const char *dir)
{
	for (size_t i = 0; i < sizeof(filtered_dirs) / sizeof(filtered_dirs[0]); i++) {
		if (!strcmp(dir, filtered_dirs[i]))
			return true;
	}
	return false;
}

bool fsview_hides(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path_is_ours(path);
}

const struct fs_node *fsview_next_child(const char *dir, size_t *cursor)
{
	size_t dlen = strlen(dir);
	const struct fs_node *node;

	while ((node = node_at(*cursor))) {
		(*cursor)++;
		if (strncmp(node->path, dir, dlen) == 0 && node->path[dlen] == '/' &&
		    !strchr(node->path + dlen + 1, '/'))
			return node;
	}
	return NULL;
}
