// SPDX-License-Identifier: MIT
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "shim-preload.h"

#ifdef __SANITIZE_ADDRESS__
static int find_asan(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (strstr(info->dlpi_name, "libasan")) {
		snprintf(data, PATH_MAX, "%s", info->dlpi_name);
		return 1;
	}
	return 0;
}
#endif

void shim_preload_value(const char *shim, char *out, size_t size)
{
	char asan[PATH_MAX] = "";

#ifdef __SANITIZE_ADDRESS__
	dl_iterate_phdr(find_asan, asan);
#endif
	snprintf(out, size, "%s%s%s", asan, asan[0] ? ":" : "", shim);
}
