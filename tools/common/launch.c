// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

/* Set by meson: the libraries in the build tree and where they install. */
static const struct {
	const char *env, *built, *installed;
} libs[] = {
	[LAUNCH_SHIM] = { "GPUVM_MOCKDRM_SHIM", GPUVM_SHIM_BUILT, GPUVM_SHIM_INSTALLED },
	[LAUNCH_TRACE] = { "GPUVM_TRACE_LIB", GPUVM_TRACE_BUILT, GPUVM_TRACE_INSTALLED },
};

int launch_lib_path(enum launch_lib lib, char *out, size_t len)
{
	const char *env = getenv(libs[lib].env);
	const char *try[] = { env, libs[lib].built, libs[lib].installed };

	for (size_t i = 0; i < sizeof(try) / sizeof(try[0]); i++) {
		if (!try[i] || !*try[i] || access(try[i], R_OK))
			continue;
		if ((size_t)snprintf(out, len, "%s", try[i]) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

struct find {
	const char *name;
	char path[PATH_MAX];
};

static int find_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find *f = data;
	const char *base = strrchr(info->dlpi_name, '/');

	(void)size;
	base = base ? base + 1 : info->dlpi_name;
	if (!strstr(base, f->name))
		return 0;
	snprintf(f->path, sizeof(f->path), "%s", info->dlpi_name);
	return 1;
}

bool launch_loaded(const char *name)
{
	struct find f = { .name = name };

	return dl_iterate_phdr(find_lib, &f) != 0;
}

/* Is @path one of the ':'- or ' '-separated entries of @list? */
static bool listed(const char *list, const char *path)
{
	size_t n = strlen(path);

	for (const char *p = strstr(list, path); p; p = strstr(p + 1, path))
		if ((p == list || p[-1] == ':' || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ':' || p[n] == ' '))
			return true;
	return false;
}

int launch_preload(const char *path)
{
	const char *old = getenv("LD_PRELOAD");
	struct find asan = { .name = "libasan" };
	char value[4 * PATH_MAX];
	size_t at = 0;

	old = old ? old : "";
	value[0] = '\0';
	if (dl_iterate_phdr(find_lib, &asan) && !listed(old, asan.path))
		at += (size_t)snprintf(value, sizeof(value), "%s", asan.path);
	if (*old && at < sizeof(value))
		at += (size_t)snprintf(value + at, sizeof(value) - at, "%s%s", at ? ":" : "", old);
	if (!listed(old, path) && at < sizeof(value))
		at += (size_t)snprintf(value + at, sizeof(value) - at, "%s%s", at ? ":" : "", path);
	if (at >= sizeof(value))
		return -ENAMETOOLONG;
	return setenv("LD_PRELOAD", value, 1) ? -ENOMEM : 0;
}

int launch_ensure_shim(const char *tool, char **argv)
{
	char shim[PATH_MAX];
	int err;

	if (launch_loaded("libgpuvm-mockdrm-shim"))
		return 0;
	err = launch_lib_path(LAUNCH_SHIM, shim, sizeof(shim));
	if (err) {
		fprintf(stderr,
			"%s: the mock device's shim was not found; set GPUVM_MOCKDRM_SHIM\n", tool);
		return err;
	}
	err = launch_preload(shim);
	if (err)
		return err;
	execv("/proc/self/exe", argv);
	err = -errno;
	fprintf(stderr, "%s: cannot re-execute under the shim: %s\n", tool, strerror(-err));
	return err;
}
