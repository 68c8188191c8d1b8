// SPDX-License-Identifier: MIT
/*
 * The debugfs part of the view: the DRM minors' directories and the sync
 * directory, where Linux 7.2 has them and igt looks for them.
 *
 * DOC: debugfs
 *
 * igt finds debugfs at /sys/kernel/debug when that directory is a mount
 * point: "." and ".." of it on different devices (else it tries to mount it,
 * which the shim refuses as it would be refused to a user). The view answers
 * /sys/kernel/debug itself on a device of its own, so the check passes, and
 * owns these paths below it; every other path below it is the machine's:
 *
 *   dri/0/name, dri/128/name    "panthor dev=<dev> unique=<unique>"
 *   dri/0/clients, ...          one line per open file of the device
 *   sync/sw_sync                a sw_sync timeline per open (shim_fd.c's
 *                               open_sw_sync(), mockdrm_sw_sync_open())
 *
 * Both minors show the same files, as the kernel's per-minor directories
 * (links to the device's directory) do; igt reads dri/128/name to find the
 * primary minor with the same name. A file's contents are made when it is
 * opened, as seq_file does on the first read, from the device of the
 * process (created if no node was opened yet).
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#define DEBUGFS "/sys/kernel/debug"

/* A file of dri/<minor>/: what the device says for its base name. */
static int show_dri(const struct fs_node *node, FILE *out)
{
	return shim_dev_debugfs(strrchr(node->path, '/') + 1, out);
}

#define DRI_MINOR(minor)                                                      \
	{ DEBUGFS "/dri/" minor, FS_DIR, 0, NULL },                           \
		{ DEBUGFS "/dri/" minor "/name", FS_REG, 0, NULL, show_dri }, \
	{                                                                     \
		DEBUGFS "/dri/" minor "/clients", FS_REG, 0, NULL, show_dri   \
	}

const struct fs_node debugfs_nodes[] = {
	{ DEBUGFS, FS_DIR, 0, NULL },
	{ DEBUGFS "/dri", FS_DIR, 0, NULL },
	DRI_MINOR("0"),
	DRI_MINOR("128"),
	{ DEBUGFS "/sync", FS_DIR, 0, NULL },
	/* Writable by anyone here: igt checks access(R_OK | W_OK) as an unprivileged user. */
	{ DEBUGFS "/sync/sw_sync", FS_SWSYNC, 0, NULL, .perm = 0666 },
};

const size_t debugfs_nr_nodes = sizeof(debugfs_nodes) / sizeof(debugfs_nodes[0]);

/* @path is @dir or below it. */
static bool in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

bool debugfs_is_ours(const char *path)
{
	return !strcmp(path, DEBUGFS) || in_dir(path, DEBUGFS "/dri") ||
	       in_dir(path, DEBUGFS "/sync");
}

bool debugfs_is_debugfs(const char *path)
{
	return in_dir(path, DEBUGFS);
}

int debugfs_contents(const struct fs_node *node, char **text, size_t *len)
{
	FILE *out;
	int ret;

	*text = NULL;
	out = open_memstream(text, len);
	if (!out)
		return -ENOMEM;
	ret = node->show(node, out);
	if (fclose(out) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}
