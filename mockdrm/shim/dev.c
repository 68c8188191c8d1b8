// SPDX-License-Identifier: MIT
/*
 * The device of the process: created on the first open of a node, destroyed
 * at exit; what fork() does to it.
 *
 * DOC: fork and exit
 *
 * There is one device per process, created by the first open of
 * /dev/dri/card0 or /dev/dri/renderD128 (so a program that never opens a node
 * never pays for it). The process that created it is its owner.
 *
 * fork(): the child gets a private copy of everything, as with any memory: the
 * device state (BOs, handles, VMs, syncobjs) as it was at the fork, and the fd
 * table. The kernel gives the child copies of the fds, so its fake fds keep
 * working, on its copy: what the child creates or destroys is not seen by the
 * parent and the other way round (the BO memory, a memfd, is shared like any
 * MAP_SHARED mapping, as a real BO would be). The device's worker threads are
 * not copied (only the forking thread is); the device starts new ones in the
 * child for the binds its copy has queued (mockdrm_fork_child()), which then
 * complete in the child when their input fences signal there. Closing fds and
 * opening nodes in the child works on the copy. Around fork() the shim holds
 * its locks and the device's (mockdrm_fork_prepare()) so that the child's
 * copies are consistent.
 *
 * exit(): in the owner only (the check is by pid, because atexit handlers also
 * run in children that call exit(), e.g. igt_fork), the device is destroyed
 * as soon as no file is open: at once if none is, else when the last fake fd
 * closes (another exit handler may still use its fd). Files still open at the
 * end are left to the kernel's cleanup of the process. A child never destroys
 * the copy it has (it lacks the device's threads), and it exits without
 * touching the parent's device, which it cannot reach anyway.
 */
/* Meson defines it for every target; the shim must see the native names. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Protected by dev_lock. */
static struct mockdrm_dev *dev;
static pid_t dev_owner;        /* the process that created dev */
static unsigned int dev_files; /* files open on dev */
static bool exit_registered;   /* dev_exit() is registered */
static bool exiting;           /* dev_exit() ran in the owner */

/*
 * Lock order: dev_lock, then the device's own locks (it closes and mmaps fds
 * through us while holding them), then the table lock.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&dev_lock);
	if (dev)
		mockdrm_fork_prepare(dev);
	shim_lock();
}

static void fork_parent(void)
{
	shim_unlock();
	if (dev)
		mockdrm_fork_parent(dev);
	pthread_mutex_unlock(&dev_lock);
}

/* The child's only thread is the one that took every lock. */
static void fork_child(void)
{
	shim_unlock();
	if (dev)
		mockdrm_fork_child(dev);
	pthread_mutex_unlock(&dev_lock);
}

static void register_fork_handlers(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void shim_init(void)
{
	pthread_once(&init_once, register_fork_handlers);
}

/* Destroy the device if this process owns it, is exiting and has no file. */
static void dev_maybe_destroy_locked(void)
{
	if (!dev || !exiting || dev_files || getpid() != dev_owner)
		return;
	mockdrm_dev_destroy(dev);
	dev = NULL;
	shim_debug("device destroyed at exit");
}

static void dev_exit(void)
{
	pthread_mutex_lock(&dev_lock);
	if (getpid() == dev_owner) {
		exiting = true;
		dev_maybe_destroy_locked();
	}
	pthread_mutex_unlock(&dev_lock);
}

/* A numeric setting from the environment; 0 (the device's default) if unset or bad. */
static unsigned long env_number(const char *name)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return 0;
	v = strtoul(s, &end, 0);
	return *end ? 0 : v;
}

/*
 * The device's settings, from the environment of the process that opens it
 * first (all optional): MOCKDRM_AS_PRESENT (address-space slots, e.g. 0x7),
 * MOCKDRM_TLB_FAST=1 (trust the TLB: no strict re-walks), MOCKDRM_JOB_TIMEOUT_MS.
 */
static void cfg_from_env(struct mockdrm_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->as_present = (uint32_t)env_number("MOCKDRM_AS_PRESENT");
	cfg->tlb_mode = env_number("MOCKDRM_TLB_FAST") ? MOCKDRM_TLB_FAST : MOCKDRM_TLB_STRICT;
	cfg->job_timeout_ms = (unsigned int)env_number("MOCKDRM_JOB_TIMEOUT_MS");
	cfg->debug = shim_debug_on();
}

static int dev_create_locked(void)
{
	struct mockdrm_cfg cfg;
	int ret;

	cfg_from_env(&cfg);
	ret = mockdrm_dev_create(&cfg, &dev);
	if (ret) {
		shim_debug("cannot create the device: %s", strerror(-ret));
		return ret;
	}
	dev_owner = getpid();
	if (!exit_registered && atexit(dev_exit) == 0)
		exit_registered = true;
	return 0;
}

/* A file of the device went away (closed, or failed to open). */
static void dev_file_gone(void)
{
	pthread_mutex_lock(&dev_lock);
	dev_files--;
	dev_maybe_destroy_locked();
	pthread_mutex_unlock(&dev_lock);
}

int shim_dev_open(enum mockdrm_node node, struct mockdrm_file **out)
{
	struct mockdrm_dev *d;
	int ret = 0;

	shim_init();
	pthread_mutex_lock(&dev_lock);
	if (!dev)
		ret = dev_create_locked();
	if (!ret)
		dev_files++;
	d = dev;
	pthread_mutex_unlock(&dev_lock);
	if (ret)
		return ret;
	/* Without dev_lock: the device may mmap or close fds of its own. */
	ret = mockdrm_open(d, node, out);
	if (ret)
		dev_file_gone();
	return ret;
}

/* Lock order as for an open: dev_lock, then the device's. */
int shim_dev_debugfs(const char *name, FILE *out)
{
	int ret = 0;

	shim_init();
	pthread_mutex_lock(&dev_lock);
	if (!dev)
		ret = dev_create_locked();
	if (!ret)
		ret = mockdrm_debugfs_show(dev, name, out);
	pthread_mutex_unlock(&dev_lock);
	return ret;
}

void shim_dev_close(struct mockdrm_file *file)
{
	mockdrm_close(file);
	dev_file_gone();
}
