// SPDX-License-Identifier: MIT
/*
 * The real libc functions behind the interposed ones, and the debug log.
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

#define SHIM_SYM_NAME(name) #name,
static const char *const sym_names[SHIM_SYM_COUNT] = { SHIM_REAL_SYMS(SHIM_SYM_NAME) };
#undef SHIM_SYM_NAME

static void *syms[SHIM_SYM_COUNT];

void *shim_real(enum shim_sym sym)
{
	void *fn = __atomic_load_n(&syms[sym], __ATOMIC_ACQUIRE);

	if (fn)
		return fn;
	/*
	 * Two threads may both resolve: they store the same pointer. dlsym()
	 * returns the default version (e.g. stat@@GLIBC_2.33).
	 */
	fn = dlsym(RTLD_NEXT, sym_names[sym]);
	if (!fn) {
		fprintf(stderr, "mockdrm-shim: no next definition of %s: %s\n", sym_names[sym],
			dlerror());
		abort();
	}
	__atomic_store_n(&syms[sym], fn, __ATOMIC_RELEASE);
	return fn;
}

bool shim_debug_on(void)
{
	static int on = -1; /* -1: not read yet */
	int v = __atomic_load_n(&on, __ATOMIC_RELAXED);

	if (v < 0) {
		const char *env = getenv("MOCKDRM_DEBUG");

		v = env && *env && strcmp(env, "0") != 0;
		__atomic_store_n(&on, v, __ATOMIC_RELAXED);
	}
	return v;
}

void shim_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!shim_debug_on())
		return;
	va_start(ap, fmt);
	fprintf(stderr, "mockdrm-shim[%d]: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	errno = saved;
}

int shim_fail(int err)
{
	errno = -err;
	return -1;
}
