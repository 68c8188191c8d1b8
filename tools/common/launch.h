/* SPDX-License-Identifier: MIT */
/*
 * Running a program with gpuvm's preload libraries (the mock device's shim,
 * the trace recorder): finding them, and building LD_PRELOAD so that an
 * unmodified program, or the tool itself re-executed, loads them in the
 * right order.
 */
#ifndef GPUVM_TOOLS_LAUNCH_H
#define GPUVM_TOOLS_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>

/* The preload libraries gpuvm builds. */
enum launch_lib {
	LAUNCH_SHIM,  /* libgpuvm-mockdrm-shim.so: the mock device */
	LAUNCH_TRACE, /* libgpuvm-trace.so: the ioctl recorder */
};

/**
 * launch_lib_path() - where a preload library is.
 * @lib: which one.
 * @out: its path.
 * @len: bytes at @out.
 *
 * Looks at $GPUVM_MOCKDRM_SHIM / $GPUVM_TRACE_LIB, then next to the build
 * tree the tool was built in, then where `meson install` puts it.
 *
 * Context: any.
 * Return: 0, or -ENOENT when none of those exists.
 */
int launch_lib_path(enum launch_lib lib, char *out, size_t len);

/**
 * launch_loaded() - is a library whose file name contains @name loaded?
 * @name: part of the file name, e.g. "libgpuvm-mockdrm-shim".
 *
 * Context: any.
 * Return: true when one is mapped in this process.
 */
bool launch_loaded(const char *name);

/**
 * launch_preload() - set LD_PRELOAD to load @path after what it loads now.
 * @path: the library.
 *
 * A sanitizer build's runtime must come first in the list; it is put there.
 * A library already in the list is not added twice.
 *
 * Context: not thread-safe (setenv).
 * Return: 0, -ENAMETOOLONG, -ENOMEM.
 */
int launch_preload(const char *path);

/**
 * launch_ensure_shim() - make sure the mock device's shim is loaded.
 * @tool: the tool's name, for messages.
 * @argv: the tool's arguments, to re-execute it with.
 *
 * Returns when the shim is loaded; otherwise re-executes the program with the
 * shim added to LD_PRELOAD and does not return unless that fails.
 *
 * Context: at the start of main(), before any thread.
 * Return: 0, or a negative errno (message printed).
 */
int launch_ensure_shim(const char *tool, char **argv);

#endif /* GPUVM_TOOLS_LAUNCH_H */
