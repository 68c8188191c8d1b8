// SPDX-License-Identifier: MIT
/*
 * Tests of the LD_PRELOAD shim (mockdrm/shim/) through public behaviour only:
 * libc calls, libdrm, and Debian's unmodified drmdevice.
 *
 * The program runs in two processes. Started as `test-shim --shim PATH`, it
 * makes a private empty directory, then runs itself again with
 * LD_PRELOAD=PATH, that directory as its current directory and TMPDIR, and
 * GPUVM_SHIM_TEST_INNER=1: that process runs the cmocka tests. Afterwards the
 * first process checks that nothing was left behind: the private directory
 * must be empty, and no new entry named like the shim's may appear in /tmp or
 * /dev/shm. Without --shim the test is skipped (77).
 *
 * The device behind the shim is whatever the shim was built with; the tests
 * only rely on what a panthor device answers (VERSION names "panthor"; syncobj
 * and GEM handles are per open file; BO_MMAP_OFFSET gives the offset to mmap;
 * no BO lives at mmap offset 0). The syncobj and BO tests skip when the device
 * does not implement those ioctls (ENOTTY).
 *
 * Options: --shim PATH (the shim), --drmdevice PATH (default
 * /usr/bin/drmdevice).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <xf86drm.h>

#include <gpuvm/panthor_drm.h>

#include "shim-fortify.h"
#include "shim-preload.h"

#define CARD0 "/dev/dri/card0"
#define RENDER "/dev/dri/renderD128"
#define SYSFS_CARD0 "/sys/dev/char/226:0"
#define SYSFS_RENDER "/sys/dev/char/226:128"
#define OF_FULLNAME "/soc/gpu@fb000000"
#define OF_COMPATIBLE "arm,mali-valhall-csf"
#define INNER_ENV "GPUVM_SHIM_TEST_INNER"

static const char *opt_shim;
static const char *opt_drmdevice = "/usr/bin/drmdevice";

/* @expr must fail with -1 and errno @err. */
#define assert_errno(expr, err)                                                                  \
	do {                                                                                     \
		long ret_;                                                                       \
		int errno_, want_ = (err);                                                       \
		errno = 0;                                                                       \
		ret_ = (long)(expr);                                                             \
		errno_ = errno;                                                                  \
		if (ret_ != -1 || errno_ != want_)                                               \
			fail_msg("%s = %ld (errno %d, %s), want -1 (errno %d, %s)", #expr, ret_, \
				 errno_, strerror(errno_), want_, strerror(want_));              \
	} while (0)

/* @expr must not fail (return >= 0). */
#define assert_ok(expr)                                                         \
	do {                                                                    \
		long ret_;                                                      \
		errno = 0;                                                      \
		ret_ = (long)(expr);                                            \
		if (ret_ < 0)                                                   \
			fail_msg("%s = %ld: %s", #expr, ret_, strerror(errno)); \
	} while (0)

static int open_ok(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		fail_msg("open(%s, 0x%x): %s", path, flags, strerror(errno));
	return fd;
}

/* Names in a directory: what a run left behind, what a listing holds. */
struct names {
	char **v;
	size_t n;
};

static void names_read(const char *dir, struct names *names)
{
	DIR *dirp = opendir(dir);
	struct dirent *e;

	names->v = NULL;
	names->n = 0;
	if (!dirp)
		return;
	while ((e = readdir(dirp))) {
		char **v = realloc(names->v, (names->n + 1) * sizeof(*v));

		if (!v)
			break;
		names->v = v;
		names->v[names->n++] = strdup(e->d_name);
	}
	closedir(dirp);
}

static bool names_has(const struct names *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++) {
		if (names->v[i] && !strcmp(names->v[i], name))
			return true;
	}
	return false;
}

static void names_free(struct names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DRM_IOCTL_VERSION on @fd; 0 or -errno. errno must survive a success. */
static int drm_version_name(int fd, char *name, size_t size)
{
	struct drm_version v;
	int ret;

	memset(&v, 0, sizeof(v));
	memset(name, 0, size);
	v.name = name;
	v.name_len = size - 1;
	errno = 4242;
	ret = ioctl(fd, DRM_IOCTL_VERSION, &v);
	if (ret)
		return -errno;
	if (errno != 4242)
		fail_msg("VERSION succeeded but changed errno to %d", errno);
	if (v.name_len != strlen("panthor"))
		fail_msg("VERSION name_len %zu, want %zu", v.name_len, strlen("panthor"));
	return 0;
}

/* @fd is a DRM fd of the device. */
static void assert_panthor(int fd)
{
	char name[32];
	int ret = drm_version_name(fd, name, sizeof(name));

	if (ret)
		fail_msg("VERSION on fd %d: %s", fd, strerror(-ret));
	assert_string_equal(name, "panthor");
}

/* Whole output of a file, NUL-terminated; aborts the test on error. */
static size_t read_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail_msg("read: %s", strerror(errno));
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static void assert_contains(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("missing \"%s\" in:\n%s", what, text);
}

static unsigned int count_of(const char *text, const char *what)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/*
 * Run @argv with its stdout into @out (the environment, LD_PRELOAD included,
 * is inherited). Returns the wait status.
 */
static int run_capture(char *const argv[], char *out, size_t size)
{
	int pipefd[2], status;
	pid_t pid;

	assert_ok(pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
#ifdef __SANITIZE_ADDRESS__
		/* Programs that are not ours may leak. */
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
#endif
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	read_fd(pipefd[0], out, size);
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* drmdevice (libdrm-tests), unmodified, sees one platform device. */
static void test_drmdevice(void **state)
{
	char *argv[] = { (char *)opt_drmdevice, NULL };
	static char out[32768];
	int status;

	(void)state;
	if (access(opt_drmdevice, X_OK))
		skip();
	status = run_capture(argv, out, sizeof(out));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("drmdevice: status 0x%x, output:\n%s", status, out);
	assert_contains(out, "--- Devices reported 1 ---");
	/* The listing, then drmGetDevice2() on each of the two nodes. */
	assert_int_equal(count_of(out, "device[0]"), 3);
	assert_int_equal(count_of(out, "device[1]"), 0);
	assert_int_equal(count_of(out, "available_nodes 0x05"), 3);
	assert_int_equal(count_of(out, "nodes[0] " CARD0 "\n"), 3);
	assert_int_equal(count_of(out, "nodes[2] " RENDER "\n"), 3);
	assert_int_equal(count_of(out, "nodes[1]"), 0);
	assert_int_equal(count_of(out, "bustype 0002"), 3);
	assert_int_equal(count_of(out, "+-> platform\n"), 6);
	assert_int_equal(count_of(out, "fullname\t" OF_FULLNAME "\n"), 3);
	assert_int_equal(count_of(out, " " OF_COMPATIBLE "\n"), 3);
	assert_contains(out, "--- Opening device node " CARD0 " ---");
	assert_contains(out, "--- Opening device node " RENDER " ---");
	assert_int_equal(count_of(out, "Failed"), 0);
}

static void assert_panthor_device(drmDevicePtr dev)
{
	assert_int_equal(dev->bustype, DRM_BUS_PLATFORM);
	assert_int_equal(dev->available_nodes, (1 << DRM_NODE_PRIMARY) | (1 << DRM_NODE_RENDER));
	assert_string_equal(dev->nodes[DRM_NODE_PRIMARY], CARD0);
	assert_string_equal(dev->nodes[DRM_NODE_RENDER], RENDER);
	assert_string_equal(dev->businfo.platform->fullname, OF_FULLNAME);
}

static void test_get_devices(void **state)
{
	drmDevicePtr devs[4];
	int n;

	(void)state;
	assert_int_equal(drmGetDevices2(0, NULL, 0), 1);
	n = drmGetDevices2(0, devs, 4);
	assert_int_equal(n, 1);
	assert_panthor_device(devs[0]);
	assert_non_null(devs[0]->deviceinfo.platform->compatible);
	assert_string_equal(devs[0]->deviceinfo.platform->compatible[0], OF_COMPATIBLE);
	assert_null(devs[0]->deviceinfo.platform->compatible[1]);
	drmFreeDevices(devs, n);
}

/* drmGetDevice2() and the other fd-based lookups, on each node. */
static void test_get_device_from_fd(void **state)
{
	static const struct {
		const char *path;
		int type;
	} cases[] = { { CARD0, DRM_NODE_PRIMARY }, { RENDER, DRM_NODE_RENDER } };
	drmDevicePtr all, dev;

	(void)state;
	assert_int_equal(drmGetDevices2(0, &all, 1), 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = open_ok(cases[i].path, O_RDWR | O_CLOEXEC);
		drmVersionPtr version;
		char *name;

		assert_int_equal(drmGetDevice2(fd, 0, &dev), 0);
		assert_panthor_device(dev);
		assert_true(drmDevicesEqual(dev, all));
		drmFreeDevice(&dev);
		assert_int_equal(drmGetNodeTypeFromFd(fd), cases[i].type);
		name = drmGetDeviceNameFromFd2(fd);
		assert_non_null(name);
		assert_string_equal(name, cases[i].path);
		free(name);
		version = drmGetVersion(fd);
		assert_non_null(version);
		assert_string_equal(version->name, "panthor");
		drmFreeVersion(version);
		close(fd);
	}
	drmFreeDevices(&all, 1);
}

/* drmOpenWithType() finds the device by driver name (VERSION, GET_UNIQUE). */
static void test_open_by_name(void **state)
{
	static const struct {
		int type;
		unsigned int minor;
	} cases[] = { { DRM_NODE_PRIMARY, 0 }, { DRM_NODE_RENDER, 128 } };
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = drmOpenWithType("panthor", NULL, cases[i].type);

		if (fd < 0)
			fail_msg("drmOpenWithType(panthor, %d) = %d", cases[i].type, fd);
		assert_ok(fstat(fd, &st));
		assert_int_equal(st.st_rdev, makedev(226, cases[i].minor));
		assert_panthor(fd);
		close(fd);
	}
	assert_true(drmOpenWithType("i915", NULL, DRM_NODE_RENDER) < 0);
}

enum dup_how {
	DUP,
	DUP2,
	DUP3_CLOEXEC,
	DUPFD,
	DUPFD_CLOEXEC
};

static int dup_by(int fd, enum dup_how how)
{
	switch (how) {
	case DUP:
		return dup(fd);
	case DUP2:
		return dup2(fd, 200);
	case DUP3_CLOEXEC:
		return dup3(fd, 201, O_CLOEXEC);
	case DUPFD:
		return fcntl(fd, F_DUPFD, 100);
	case DUPFD_CLOEXEC:
		break;
	}
	return fcntl(fd, F_DUPFD_CLOEXEC, 100);
}

/* An fd number that is a real fd again is no longer the device. */
static void assert_real_again(int fd)
{
	int null = open_ok("/dev/null", O_RDONLY);
	struct drm_version v;

	assert_int_equal(dup2(null, fd), fd);
	close(null);
	memset(&v, 0, sizeof(v));
	assert_errno(ioctl(fd, DRM_IOCTL_VERSION, &v), ENOTTY);
	close(fd);
}

/* A dup shares the open file; it outlives the original; closing all ends it. */
static void test_dup_keeps_file(void **state)
{
	static const struct {
		const char *name;
		enum dup_how how;
		bool cloexec;
	} cases[] = {
		{ "dup", DUP, false },
		{ "dup2", DUP2, false },
		{ "dup3(O_CLOEXEC)", DUP3_CLOEXEC, true },
		{ "fcntl(F_DUPFD)", DUPFD, false },
		{ "fcntl(F_DUPFD_CLOEXEC)", DUPFD_CLOEXEC, true },
	};
	struct drm_version v;
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = open_ok(CARD0, O_RDWR), d = dup_by(fd, cases[i].how);

		if (d < 0 || d == fd)
			fail_msg("%s: %d: %s", cases[i].name, d, strerror(errno));
		assert_panthor(d);
		if (!!(fcntl(d, F_GETFD) & FD_CLOEXEC) != cases[i].cloexec)
			fail_msg("%s: FD_CLOEXEC is not %d", cases[i].name, cases[i].cloexec);
		assert_ok(close(fd));
		assert_panthor(d);
		assert_ok(fstat(d, &st));
		assert_int_equal(st.st_rdev, makedev(226, 0));
		assert_ok(close(d));
		memset(&v, 0, sizeof(v));
		assert_errno(ioctl(d, DRM_IOCTL_VERSION, &v), EBADF);
		assert_real_again(d);
	}
}

/* dup2() onto a fake fd replaces its association, like the kernel's file. */
static void test_dup2_onto_fake(void **state)
{
	int card = open_ok(CARD0, O_RDWR), render = open_ok(RENDER, O_RDWR);
	struct stat st;

	(void)state;
	assert_int_equal(dup2(card, render), render);
	assert_ok(fstat(render, &st));
	assert_int_equal(st.st_rdev, makedev(226, 0));
	assert_panthor(render);
	close(card);
	assert_panthor(render);
	assert_real_again(render);
}

/* open() flags are the fd's: access mode and close-on-exec. */
static void test_open_flags(void **state)
{
	static const struct {
		int flags;
		bool cloexec;
	} cases[] = {
		{ O_RDWR, false },
		{ O_RDWR | O_CLOEXEC, true },
		{ O_RDONLY, false },
		{ O_RDONLY | O_CLOEXEC | O_NONBLOCK, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = open_ok(RENDER, cases[i].flags);
		int fl = fcntl(fd, F_GETFL);

		assert_int_equal(fl & O_ACCMODE, cases[i].flags & O_ACCMODE);
		assert_int_equal(!!(fl & O_NONBLOCK), !!(cases[i].flags & O_NONBLOCK));
		assert_int_equal(!!(fcntl(fd, F_GETFD) & FD_CLOEXEC), cases[i].cloexec);
		assert_panthor(fd);
		close(fd);
	}
	assert_errno(open(CARD0, O_RDWR | O_DIRECTORY), ENOTDIR);
	assert_errno(open(CARD0, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	/* Nothing is created in the view. */
	assert_errno(open("/dev/dri/card1", O_RDWR | O_CREAT, 0600), ENOENT);
}

/* A fake fd that stdio closes (fopen of a node, fdopen) is forgotten. */
static void test_stdio_close(void **state)
{
	FILE *f = fopen(CARD0, "r+e");
	struct drm_version v;
	int fd, pipefd[2];

	(void)state;
	assert_non_null(f);
	fd = fileno(f);
	assert_panthor(fd);
	assert_ok(fclose(f));
	/* pipe2() is not interposed; it likely gets the number back. */
	assert_ok(pipe2(pipefd, O_CLOEXEC));
	memset(&v, 0, sizeof(v));
	assert_errno(ioctl(fd, DRM_IOCTL_VERSION, &v),
		     fd == pipefd[0] || fd == pipefd[1] ? ENOTTY : EBADF);
	close(pipefd[0]);
	close(pipefd[1]);

	fd = open_ok(RENDER, O_RDONLY);
	f = fdopen(fd, "r");
	assert_non_null(f);
	assert_ok(fclose(f));
	assert_errno(ioctl(fd, DRM_IOCTL_VERSION, &v), EBADF);
}

/* SYNCOBJ_CREATE on @fd: 0 and the handle, or -errno. */
static int syncobj_create_raw(int fd, uint32_t *handle)
{
	struct drm_syncobj_create c;

	memset(&c, 0, sizeof(c));
	if (ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

/* SYNCOBJ_CREATE on @fd: the handle, or 0 when syncobjs are not there. */
static uint32_t syncobj_create(int fd)
{
	uint32_t handle = 0;
	int ret = syncobj_create_raw(fd, &handle);

	if (ret == -ENOTTY || ret == -EOPNOTSUPP)
		return 0;
	if (ret)
		fail_msg("SYNCOBJ_CREATE: %s", strerror(-ret));
	assert_int_not_equal(handle, 0);
	return handle;
}

static int syncobj_destroy(int fd, uint32_t handle)
{
	struct drm_syncobj_destroy d;

	memset(&d, 0, sizeof(d));
	d.handle = handle;
	return ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d) ? -errno : 0;
}

/* Handles belong to the open file: shared by dups, not by another open. */
static void test_handles_per_file(void **state)
{
	int fd = open_ok(RENDER, O_RDWR), other = open_ok(RENDER, O_RDWR), d;
	uint32_t h = syncobj_create(fd);

	(void)state;
	if (!h) {
		close(fd);
		close(other);
		skip();
	}
	d = dup(fd);
	assert_int_equal(syncobj_destroy(other, h), -EINVAL);
	assert_int_equal(syncobj_destroy(d, h), 0);
	assert_int_equal(syncobj_destroy(fd, h), -EINVAL);
	close(d);
	close(fd);
	close(other);
}

static void assert_node_stat(const struct stat *st, unsigned int minor)
{
	assert_true(S_ISCHR(st->st_mode));
	assert_int_equal(st->st_mode & 07777, 0666);
	assert_int_equal(st->st_rdev, makedev(226, minor));
}

static void assert_same_file(const struct stat *a, const struct stat *b)
{
	assert_int_equal(a->st_dev, b->st_dev);
	assert_int_equal(a->st_ino, b->st_ino);
	assert_int_equal(a->st_mode, b->st_mode);
	assert_int_equal(a->st_rdev, b->st_rdev);
}

/* stat of node @path by every entry point, and fstat of an fd of it. */
static void assert_node_stats(const char *path, unsigned int minor, struct stat *st)
{
	struct stat64 st64;
	struct statx stx;
	struct stat other;
	int fd;

	assert_ok(stat(path, st));
	assert_node_stat(st, minor);
	assert_ok(lstat(path, &other));
	assert_same_file(st, &other);
	assert_ok(stat64(path, &st64));
	assert_int_equal(st64.st_rdev, st->st_rdev);
	assert_ok(fstatat(AT_FDCWD, path, &other, AT_SYMLINK_NOFOLLOW));
	assert_same_file(st, &other);
	assert_ok(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx));
	assert_int_equal(stx.stx_rdev_major, 226);
	assert_int_equal(stx.stx_rdev_minor, minor);
	assert_int_equal(stx.stx_ino, st->st_ino);
	fd = open_ok(path, O_RDWR);
	assert_ok(fstat(fd, &other));
	assert_same_file(st, &other);
	assert_ok(fstat64(fd, &st64));
	assert_int_equal(st64.st_ino, st->st_ino);
	assert_ok(fstatat(fd, "", &other, AT_EMPTY_PATH));
	assert_same_file(st, &other);
	close(fd);
}

/* The nodes: character devices 226:0 and 226:128, distinct inodes, same st_dev. */
static void test_stat_nodes(void **state)
{
	struct stat card, render, other;

	(void)state;
	assert_node_stats(CARD0, 0, &card);
	assert_node_stats(RENDER, 128, &render);
	assert_int_not_equal(card.st_ino, render.st_ino);
	assert_int_equal(card.st_dev, render.st_dev);
	assert_ok(stat("/dev/dri", &other));
	assert_true(S_ISDIR(other.st_mode));
	assert_ok(stat("//dev/./dri/../dri/card0", &other));
	assert_same_file(&card, &other);
	/* Everything else under /dev/dri and /sys/dev/char/226:* is hidden. */
	assert_errno(stat("/dev/dri/card1", &other), ENOENT);
	assert_errno(stat("/dev/dri/renderD129", &other), ENOENT);
	assert_errno(stat("/dev/dri/by-path", &other), ENOENT);
	assert_errno(stat("/sys/dev/char/226:1", &other), ENOENT);
	assert_errno(stat("/sys/dev/char/226:129/device", &other), ENOENT);
}

struct listing {
	const char *names[8];
	unsigned char types[8];
};

/* Read the whole stream, and check that it holds exactly @want. */
static void assert_listing(DIR *dirp, const struct listing *want, bool use64)
{
	unsigned int seen = 0, n = 0;

	for (;;) {
		const char *name;
		unsigned char type;
		size_t i;

		if (use64) {
			struct dirent64 *e = readdir64(dirp);

			if (!e)
				break;
			name = e->d_name;
			type = e->d_type;
		} else {
			struct dirent *e = readdir(dirp);

			if (!e)
				break;
			name = e->d_name;
			type = e->d_type;
		}
		for (i = 0; want->names[i] && strcmp(want->names[i], name); i++)
			;
		if (!want->names[i])
			fail_msg("unexpected entry %s", name);
		if (seen & (1u << i))
			fail_msg("entry %s seen twice", name);
		seen |= 1u << i;
		assert_int_equal(type, want->types[i]);
		n++;
	}
	while (want->names[n])
		n++;
	if (seen != (1u << n) - 1)
		fail_msg("entries missing: seen mask 0x%x of %u", seen, n);
}

/* The view's directories list exactly the view's entries. */
static void test_readdir_view(void **state)
{
	static const struct {
		const char *dir;
		struct listing want;
	} cases[] = {
		{ "/dev/dri",
		  { { ".", "..", "card0", "renderD128" }, { DT_DIR, DT_DIR, DT_CHR, DT_CHR } } },
		{ SYSFS_RENDER "/device/drm",
		  { { ".", "..", "card0", "renderD128" }, { DT_DIR, DT_DIR, DT_DIR, DT_DIR } } },
		{ SYSFS_CARD0,
		  { { ".", "..", "dev", "uevent", "subsystem", "device" },
		    { DT_DIR, DT_DIR, DT_REG, DT_REG, DT_LNK, DT_DIR } } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		DIR *dirp = opendir(cases[i].dir);

		if (!dirp)
			fail_msg("opendir(%s): %s", cases[i].dir, strerror(errno));
		assert_listing(dirp, &cases[i].want, false);
		rewinddir(dirp);
		assert_listing(dirp, &cases[i].want, true);
		assert_ok(closedir(dirp));
	}
	assert_null(opendir("/dev/dri/card1"));
	assert_int_equal(errno, ENOENT);
	assert_null(opendir(CARD0));
	assert_int_equal(errno, ENOTDIR);
}

/* /sys/dev/char: the real entries, minus real 226:*, plus the view's two. */
static void test_readdir_sys_dev_char(void **state)
{
	unsigned int card0 = 0, render = 0, real = 0, other226 = 0;
	struct dirent *e;
	struct stat st;
	DIR *dirp;

	(void)state;
	dirp = opendir("/sys/dev/char");
	if (!dirp)
		skip();
	while ((e = readdir(dirp))) {
		card0 += !strcmp(e->d_name, "226:0");
		render += !strcmp(e->d_name, "226:128");
		other226 += !strncmp(e->d_name, "226:", 4);
		real += !strcmp(e->d_name, "1:3");
	}
	closedir(dirp);
	assert_int_equal(card0, 1);
	assert_int_equal(render, 1);
	assert_int_equal(other226, 2);
	/* /dev/null's entry is real and passes. */
	if (stat("/sys/dev/char/1:3", &st) == 0)
		assert_int_equal(real, 1);
}

/* Read a whole file with open()/read(). */
static void slurp(const char *path, char *buf, size_t size)
{
	int fd = open_ok(path, O_RDONLY | O_CLOEXEC);

	read_fd(fd, buf, size);
	close(fd);
}

/* Read a whole file with fopen()/fgets(). */
static void fslurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t len = 0;

	if (!f)
		fail_msg("fopen(%s): %s", path, strerror(errno));
	while (len + 1 < size && fgets(buf + len, (int)(size - len), f))
		len += strlen(buf + len);
	buf[len] = '\0';
	fclose(f);
}

/* What libdrm reads in sysfs, by open() and by fopen(). */
static void test_sysfs_files(void **state)
{
	static const struct {
		const char *path;
		const char *text;
	} cases[] = {
		{ SYSFS_CARD0 "/uevent",
		  "MAJOR=226\nMINOR=0\nDEVNAME=dri/card0\nDEVTYPE=drm_minor\n" },
		{ SYSFS_RENDER "/uevent",
		  "MAJOR=226\nMINOR=128\nDEVNAME=dri/renderD128\nDEVTYPE=drm_minor\n" },
		{ SYSFS_CARD0 "/device/uevent",
		  "DRIVER=panthor\nOF_NAME=gpu\nOF_FULLNAME=" OF_FULLNAME "\n"
		  "OF_COMPATIBLE_0=" OF_COMPATIBLE "\nOF_COMPATIBLE_N=1\n"
		  "MODALIAS=of:NgpuT(null)Carm,mali-valhall-csf\n" },
		{ SYSFS_RENDER "/dev", "226:128\n" },
	};
	char buf[1024];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		slurp(cases[i].path, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		fslurp(cases[i].path, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		assert_ok(stat(cases[i].path, &st));
		assert_true(S_ISREG(st.st_mode));
	}
	assert_errno(open(SYSFS_CARD0 "/uevent", O_WRONLY), EACCES);
	assert_null(fopen(SYSFS_CARD0 "/uevent", "w"));
	assert_int_equal(errno, EACCES);
	assert_null(fopen64(SYSFS_CARD0 "/nothing", "r"));
	assert_int_equal(errno, ENOENT);
	assert_ok(stat(SYSFS_CARD0 "/device/drm", &st));
	assert_true(S_ISDIR(st.st_mode));
	assert_ok(stat(SYSFS_RENDER "/device/drm", &st));
}

/* readlink of the links libdrm reads, truncation, and non-links. */
static void test_sysfs_links(void **state)
{
	static const struct {
		const char *path;
		const char *target;
	} cases[] = {
		{ SYSFS_CARD0 "/device/subsystem", "../../../bus/platform" },
		{ SYSFS_RENDER "/device/subsystem", "../../../bus/platform" },
		{ SYSFS_RENDER "/device/driver", "../../../bus/platform/drivers/panthor" },
		{ SYSFS_CARD0 "/subsystem", "../../../../class/drm" },
	};
	char buf[PATH_MAX];
	struct stat st;
	ssize_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = readlink(cases[i].path, buf, sizeof(buf));
		assert_int_equal(n, strlen(cases[i].target));
		assert_memory_equal(buf, cases[i].target, (size_t)n);
		assert_ok(lstat(cases[i].path, &st));
		assert_true(S_ISLNK(st.st_mode));
		assert_int_equal(st.st_size, n);
	}
	assert_int_equal(readlink(SYSFS_CARD0 "/device/subsystem", buf, 4), 4);
	assert_memory_equal(buf, "../.", 4);
	assert_errno(readlink(SYSFS_CARD0 "/uevent", buf, sizeof(buf)), EINVAL);
	assert_errno(readlink(SYSFS_CARD0 "/device/nothing", buf, sizeof(buf)), ENOENT);
	assert_errno(readlinkat(AT_FDCWD, "/sys/dev/char/226:3/device/subsystem", buf, 64), ENOENT);
}

/* access() answers from the modes; realpath() is the identity, normalized. */
static void test_access_realpath(void **state)
{
	static const struct {
		const char *path;
		int mode;
		int err;
	} cases[] = {
		{ CARD0, F_OK, 0 },
		{ CARD0, R_OK | W_OK, 0 },
		{ RENDER, R_OK | W_OK, 0 },
		{ CARD0, X_OK, EACCES },
		{ "/dev/dri", R_OK | X_OK, 0 },
		{ SYSFS_CARD0 "/device/drm", F_OK, 0 },
		{ SYSFS_CARD0 "/uevent", R_OK, 0 },
		{ SYSFS_CARD0 "/uevent", W_OK, EACCES },
		{ "/dev/dri/card1", F_OK, ENOENT },
		{ "/sys/dev/char/226:64", F_OK, ENOENT },
	};
	char buf[PATH_MAX], *p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		if ((access(cases[i].path, cases[i].mode) ? errno : 0) != cases[i].err)
			fail_msg("access(%s, %d): %s, want %s", cases[i].path, cases[i].mode,
				 strerror(errno), strerror(cases[i].err));
		errno = 0;
		if ((faccessat(AT_FDCWD, cases[i].path, cases[i].mode, 0) ? errno : 0) !=
		    cases[i].err)
			fail_msg("faccessat(%s, %d): %s", cases[i].path, cases[i].mode,
				 strerror(errno));
	}
	assert_non_null(realpath("/dev//dri/./card0", buf));
	assert_string_equal(buf, CARD0);
	p = realpath(SYSFS_RENDER "/device/../uevent", NULL);
	assert_non_null(p);
	assert_string_equal(p, SYSFS_RENDER "/uevent");
	free(p);
	assert_null(realpath("/dev/dri/card1", buf));
	assert_int_equal(errno, ENOENT);
}

/* Directory fds of the view work as dirfd of the *at() calls and fdopendir. */
static void test_dirfd_relative(void **state)
{
	static const struct listing want = {
		{ ".", "..", "dev", "uevent", "subsystem", "device" },
		{ DT_DIR, DT_DIR, DT_REG, DT_REG, DT_LNK, DT_DIR },
	};
	int dfd = open_ok(SYSFS_RENDER, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	char buf[1024];
	struct stat st;
	DIR *dirp;

	(void)state;
	assert_ok(fstat(dfd, &st));
	assert_true(S_ISDIR(st.st_mode));
	fd = openat(dfd, "device/uevent", O_RDONLY);
	assert_ok(fd);
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_contains(buf, "OF_FULLNAME=" OF_FULLNAME "\n");
	fd = openat(dfd, "../226:0/uevent", O_RDONLY);
	assert_ok(fd);
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_contains(buf, "MINOR=0\n");
	assert_ok(fstatat(dfd, "device/drm", &st, 0));
	assert_true(S_ISDIR(st.st_mode));
	assert_ok(faccessat(dfd, "uevent", R_OK, 0));
	assert_int_equal(readlinkat(dfd, "device/subsystem", buf, sizeof(buf)), 21);
	dirp = fdopendir(dup(dfd));
	assert_non_null(dirp);
	assert_listing(dirp, &want, false);
	assert_ok(closedir(dirp));
	assert_ok(fstat(dfd, &st));
	close(dfd);
}

/* A node opened relative to an fd of /dev/dri is the device. */
static void test_dirfd_dev_dri(void **state)
{
	int dfd = open_ok("/dev/dri", O_RDONLY | O_DIRECTORY), fd;

	(void)state;
	fd = openat(dfd, "renderD128", O_RDWR);
	assert_ok(fd);
	assert_panthor(fd);
	close(fd);
	assert_errno(openat(dfd, "card1", O_RDWR), ENOENT);
	close(dfd);
}

/* Relative paths against the current directory and a real directory fd. */
static void test_relative_real_dirs(void **state)
{
	int cwd = open_ok(".", O_RDONLY | O_DIRECTORY), dfd, fd;
	char buf[1024];
	struct stat st;

	(void)state;
	if (chdir("/sys/dev/char")) {
		close(cwd);
		skip();
	}
	assert_ok(stat("226:0/device/drm", &st));
	assert_true(S_ISDIR(st.st_mode));
	slurp("226:128/uevent", buf, sizeof(buf));
	assert_contains(buf, "DEVNAME=dri/renderD128\n");
	assert_errno(stat("226:1", &st), ENOENT);
	assert_ok(chdir("/dev"));
	fd = open("dri/card0", O_RDWR);
	assert_ok(fd);
	assert_panthor(fd);
	close(fd);
	assert_ok(fchdir(cwd));
	close(cwd);

	dfd = open_ok("/sys/dev/char", O_RDONLY | O_DIRECTORY);
	fd = openat(dfd, "226:0/uevent", O_RDONLY);
	assert_ok(fd);
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_contains(buf, "DEVNAME=dri/card0\n");
	assert_ok(fstatat(dfd, "226:128", &st, 0));
	close(dfd);
}

/* Calls on other files go to libc unchanged. */
static void test_passthrough(void **state)
{
	static const char text[] = "not a device\n";
	char buf[64], cwd[PATH_MAX], real[PATH_MAX];
	int fd, avail = -1;
	struct stat st;
	FILE *f;
	void *p;

	(void)state;
	fd = open("plain.txt", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	assert_ok(fd);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	assert_ok(fstat(fd, &st));
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, sizeof(text) - 1);
	assert_ok(lseek(fd, 0, SEEK_SET));
	assert_ok(ioctl(fd, FIONREAD, &avail));
	assert_int_equal(avail, sizeof(text) - 1);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_memory_equal(p, text, sizeof(text) - 1);
	munmap(p, 4096);
	close(fd);
	f = fopen("plain.txt", "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, text);
	fclose(f);
	assert_ok(access("plain.txt", R_OK | W_OK));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(realpath(".", real));
	assert_string_equal(real, cwd);
	assert_ok(unlink("plain.txt"));
	assert_errno(stat("plain.txt", &st), ENOENT);
	assert_true(readlink("/proc/self/exe", buf, sizeof(buf)) > 0);
}

/* ioctl and mmap on other fds go to libc unchanged. */
static void test_passthrough_fds(void **state)
{
	int pipefd[2], avail = -1;
	void *p;

	(void)state;
	assert_ok(pipe(pipefd));
	assert_int_equal(write(pipefd[1], "xy", 2), 2);
	assert_ok(ioctl(pipefd[0], FIONREAD, &avail));
	assert_int_equal(avail, 2);
	close(pipefd[0]);
	close(pipefd[1]);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	munmap(p, 4096);
}

/* mmap of a DRM fd goes to the device: no BO lives at offset 0. */
static void test_mmap_fake(void **state)
{
	int fd = open_ok(RENDER, O_RDWR);

	(void)state;
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_true(mmap64(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	close(fd);
}

/* Create a BO of @size on @fd and get its mmap offset; false if not there. */
static bool bo_create(int fd, uint64_t size, uint32_t *handle, uint64_t *offset)
{
	struct drm_panthor_bo_mmap_offset mo;
	struct drm_panthor_bo_create bo;

	memset(&bo, 0, sizeof(bo));
	bo.size = size;
	if (ioctl(fd, DRM_IOCTL_PANTHOR_BO_CREATE, &bo)) {
		if (errno == ENOTTY)
			return false;
		fail_msg("BO_CREATE: %s", strerror(errno));
	}
	memset(&mo, 0, sizeof(mo));
	mo.handle = bo.handle;
	assert_ok(ioctl(fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &mo));
	*handle = bo.handle;
	*offset = mo.offset;
	return true;
}

/*
 * mmap of a BO's offset on the DRM fd maps the BO: two maps (one through a
 * dup) alias, and a map outlives the handle and the fd.
 */
static void test_mmap_bo(void **state)
{
	int fd = open_ok(RENDER, O_RDWR), d;
	struct drm_gem_close gc;
	uint64_t offset = 0;
	uint32_t handle = 0;
	uint8_t *a, *b;

	(void)state;
	if (!bo_create(fd, 8192, &handle, &offset)) {
		close(fd);
		skip();
	}
	d = dup(fd);
	a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	b = mmap64(NULL, 8192, PROT_READ, MAP_SHARED, d, (off_t)offset);
	assert_true(a != MAP_FAILED && b != MAP_FAILED);
	memset(a, 0x5a, 8192);
	a[4097] = 0xa5;
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(b[4097], 0xa5);
	assert_true(mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, (off_t)(offset + 4096)) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	memset(&gc, 0, sizeof(gc));
	gc.handle = handle;
	assert_ok(ioctl(d, DRM_IOCTL_GEM_CLOSE, &gc));
	close(d);
	close(fd);
	assert_int_equal(b[8191], 0x5a);
	munmap(a, 8192);
	munmap(b, 8192);
}

/* glibc's checking twins (__open_2, __readlink_chk, ...) reach the shim. */
static void test_fortify(void **state)
{
	char buf[PATH_MAX];
	int fd, dfd;

	(void)state;
	fd = fortify_open(CARD0, O_RDWR);
	assert_ok(fd);
	assert_panthor(fd);
	close(fd);
	fd = fortify_open64(RENDER, O_RDWR);
	assert_ok(fd);
	assert_panthor(fd);
	close(fd);
	fd = fortify_openat(AT_FDCWD, CARD0, O_RDWR);
	assert_ok(fd);
	assert_panthor(fd);
	close(fd);
	dfd = open_ok("/dev/dri", O_RDONLY | O_DIRECTORY);
	fd = fortify_openat64(dfd, "renderD128", O_RDWR);
	assert_ok(fd);
	assert_panthor(fd);
	close(fd);
	close(dfd);
	fd = fortify_open("/dev/null", O_RDONLY);
	assert_ok(fd);
	close(fd);
	assert_int_equal(fortify_readlink(SYSFS_CARD0 "/device/subsystem", buf, 64), 21);
	assert_memory_equal(buf, "../../../bus/platform", 21);
	assert_int_equal(fortify_readlinkat(AT_FDCWD, SYSFS_RENDER "/device/subsystem", buf, 64),
			 21);
	assert_int_equal(fortify_realpath("/dev/dri/../dri/renderD128", buf, sizeof(buf)), 0);
	assert_string_equal(buf, RENDER);
}

/* VERSION on @fd names panthor (no cmocka assertion: for forked children). */
static bool is_panthor(int fd)
{
	char name[32];

	return !drm_version_name(fd, name, sizeof(name)) && !strcmp(name, "panthor");
}

/*
 * The child of a fork works on its own copy through the inherited fd. It runs
 * outside cmocka (a failed assertion would go on with the parent's tests), so
 * it returns an exit code: 0 and the handle it created in *@created.
 */
static int fork_child(int fd, uint32_t parent_handle, uint32_t *created)
{
	int d = dup(fd), card = open(CARD0, O_RDWR);

	*created = 0;
	if (!is_panthor(fd) || !is_panthor(d) || !is_panthor(card))
		return 10;
	close(d);
	if (parent_handle) {
		if (syncobj_create_raw(fd, created) || !*created || *created == parent_handle)
			return 11;
		if (syncobj_destroy(fd, parent_handle))
			return 12;
	}
	/* @card stays open: exit() runs the atexit handlers with a file open. */
	return 0;
}

static void test_fork(void **state)
{
	int fd = open_ok(RENDER, O_RDWR), status, pipefd[2];
	uint32_t h = syncobj_create(fd), child_h = 0;
	pid_t pid;

	(void)state;
	assert_ok(pipe(pipefd));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ret = fork_child(fd, h, &child_h);

		if (write(pipefd[1], &child_h, sizeof(child_h)) != sizeof(child_h))
			_exit(2);
		exit(ret);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &child_h, sizeof(child_h)), sizeof(child_h));
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("child: status 0x%x", status);
	assert_panthor(fd);
	if (h) {
		/* The child destroyed h and created child_h in its copy only. */
		assert_int_equal(syncobj_destroy(fd, child_h), -EINVAL);
		assert_int_equal(syncobj_destroy(fd, h), 0);
	}
	close(fd);
}

struct thread_ctx {
	const char *path;
	unsigned int iterations;
	unsigned int failures;
};

static void *thread_open_dup_close(void *arg)
{
	struct thread_ctx *ctx = arg;
	char name[32];

	for (unsigned int i = 0; i < ctx->iterations; i++) {
		int fd = open(ctx->path, O_RDWR | O_CLOEXEC), d = dup(fd);
		struct stat st;

		close(fd);
		if (fd < 0 || d < 0 || drm_version_name(d, name, sizeof(name)) ||
		    strcmp(name, "panthor") || fstat(d, &st) || !S_ISCHR(st.st_mode))
			ctx->failures++;
		close(d);
	}
	return NULL;
}

/* Opens, dups and closes from several threads keep every association. */
static void test_threads(void **state)
{
	struct thread_ctx ctx[6];
	pthread_t threads[6];

	(void)state;
	for (unsigned int i = 0; i < 6; i++) {
		ctx[i] = (struct thread_ctx){ i % 2 ? CARD0 : RENDER, 300, 0 };
		assert_int_equal(pthread_create(&threads[i], NULL, thread_open_dup_close, &ctx[i]),
				 0);
	}
	for (unsigned int i = 0; i < 6; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(ctx[i].failures, 0);
	}
}

/* mount(2) without the shim's mount(), which refuses everything. */
static int sys_mount(const char *source, const char *target, const char *type, unsigned long flags)
{
	return (int)syscall(SYS_mount, source, target, type, flags, NULL);
}

static int touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	return fd < 0 ? -1 : close(fd);
}

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Enter a private mount namespace; without the privilege, inside a user
 * namespace where we are root (so that files can be created in it).
 */
static int enter_private_ns(void)
{
	unsigned int uid = (unsigned int)getuid(), gid = (unsigned int)getgid();
	char map[64];

	if (!unshare(CLONE_NEWNS))
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return -1;
	write_proc("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_proc("/proc/self/uid_map", map))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", gid);
	return write_proc("/proc/self/gid_map", map);
}

/*
 * In a private mount namespace, put real entries where the view lives: a
 * tmpfs /dev with dri/card1, dri/renderD129 and dri/by-path (and /dev/null
 * bound in), and a tmpfs /sys/dev/char with 226:0, 226:1 and 1:3. All of it
 * is in memory: the tmpfs for /dev is mounted over the (private, empty)
 * current directory first. Returns 0, 77 when the machine does not allow the
 * namespace or the mounts, another exit code when creating files fails.
 */
static int fake_real_gpu(void)
{
	char cwd[PATH_MAX];

	if (enter_private_ns() || sys_mount("none", "/", NULL, MS_REC | MS_PRIVATE) ||
	    !getcwd(cwd, sizeof(cwd)) || sys_mount("tmpfs", cwd, "tmpfs", 0) || chdir(cwd))
		return 77;
	if (mkdir("dev", 0755) || mkdir("dev/dri", 0755) || mkdir("dev/dri/by-path", 0755) ||
	    touch("dev/dri/card1") || touch("dev/dri/renderD129") || touch("dev/null"))
		return 20;
	if (sys_mount("/dev/null", "dev/null", NULL, MS_BIND) ||
	    sys_mount("dev", "/dev", NULL, MS_BIND | MS_REC) ||
	    sys_mount("tmpfs", "/sys/dev/char", "tmpfs", 0))
		return 77;
	if (mkdir("/sys/dev/char/226:0", 0755) || mkdir("/sys/dev/char/226:1", 0755) ||
	    mkdir("/sys/dev/char/1:3", 0755))
		return 21;
	return 0;
}

/* The names of a directory, sorted and joined by spaces. */
static void listing_of(const char *dir, char *out, size_t size)
{
	struct names names;
	size_t len = 0;

	names_read(dir, &names);
	qsort(names.v, names.n, sizeof(*names.v), cmp_names);
	out[0] = '\0';
	for (size_t i = 0; i < names.n; i++)
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s",
					i ? " " : "", names.v[i]);
	names_free(&names);
}

/*
 * Child of test_hides_real_nodes(): an exit code, 0 when all is hidden,
 * 30 and up for the first check that failed.
 */
static int hidden_check(void)
{
	char list[512];
	drmDevicePtr dev;
	struct stat st;
	int ret = fake_real_gpu();

	if (ret)
		return ret;
	if (stat("/dev/null", &st) || !S_ISCHR(st.st_mode))
		return 30;
	listing_of("/dev/dri", list, sizeof(list));
	if (strcmp(list, ". .. card0 renderD128"))
		return 31;
	if (!stat("/dev/dri/card1", &st) || !stat("/dev/dri/by-path", &st) ||
	    !stat("/sys/dev/char/226:1", &st))
		return 32;
	listing_of("/sys/dev/char", list, sizeof(list));
	if (strcmp(list, ". .. 1:3 226:0 226:128"))
		return 33;
	if (stat("/sys/dev/char/226:0/uevent", &st) || stat("/sys/dev/char/1:3", &st))
		return 34;
	if (drmGetDevices2(0, &dev, 1) != 1 || strcmp(dev->nodes[DRM_NODE_RENDER], RENDER))
		return 35;
	drmFreeDevices(&dev, 1);
	return 0;
}

/* Real /dev/dri/ and /sys/dev/char/226:* entries are never seen. */
static void test_hides_real_nodes(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(hidden_check());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* mount is refused as for a user without privileges. */
static void test_mount_refused(void **state)
{
	(void)state;
	/* A target that does not exist: without the shim this fails with ENOENT. */
	assert_errno(mount("debug", "/nonexistent-gpuvm-mount", "debugfs", 0, NULL), EPERM);
}

/* Hidden mode, run under MOCKDRM_DEBUG=1 by test_debug_log(). */
static int debug_probe(void)
{
	int fd = open(RENDER, O_RDWR);
	struct stat st;
	char arg[64];

	if (fd < 0)
		return 1;
	memset(arg, 0, sizeof(arg));
	ioctl(fd, _IOWR('d', 0x3f, char[16]), arg);
	stat("/dev/dri/card7", &st);
	close(fd);
	return 0;
}

/* MOCKDRM_DEBUG=1 logs what the shim refuses or does not handle. */
static void test_debug_log(void **state)
{
	char *argv[] = { "/proc/self/exe", "--debug-probe", NULL };
	int pipefd[2], status;
	static char err[16384];
	pid_t pid;

	(void)state;
	assert_ok(pipe2(pipefd, O_CLOEXEC));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		setenv("MOCKDRM_DEBUG", "1", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	read_fd(pipefd[0], err, sizeof(err));
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_contains(err, "mockdrm-shim[");
	assert_contains(err, "ioctl 0xc010643f");
	assert_contains(err, "/dev/dri/card7");
}

static int run_inner(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drmdevice),
		cmocka_unit_test(test_get_devices),
		cmocka_unit_test(test_get_device_from_fd),
		cmocka_unit_test(test_open_by_name),
		cmocka_unit_test(test_dup_keeps_file),
		cmocka_unit_test(test_dup2_onto_fake),
		cmocka_unit_test(test_open_flags),
		cmocka_unit_test(test_stdio_close),
		cmocka_unit_test(test_handles_per_file),
		cmocka_unit_test(test_stat_nodes),
		cmocka_unit_test(test_readdir_view),
		cmocka_unit_test(test_readdir_sys_dev_char),
		cmocka_unit_test(test_hides_real_nodes),
		cmocka_unit_test(test_sysfs_files),
		cmocka_unit_test(test_sysfs_links),
		cmocka_unit_test(test_access_realpath),
		cmocka_unit_test(test_dirfd_relative),
		cmocka_unit_test(test_dirfd_dev_dri),
		cmocka_unit_test(test_relative_real_dirs),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_passthrough_fds),
		cmocka_unit_test(test_mmap_fake),
		cmocka_unit_test(test_mmap_bo),
		cmocka_unit_test(test_fortify),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_mount_refused),
		cmocka_unit_test(test_debug_log),
	};

	return cmocka_run_group_tests_name("mockdrm-shim", tests, NULL, NULL);
}

/*
 * New entries of @dir since @before that the shim could have made. Other
 * tests may run at the same time, so only names that look like ours count.
 */
static unsigned int leftovers(const char *dir, const struct names *before)
{
	static const char *const ours[] = { "mockdrm", "gpuvm", "shim", "dri", "226:" };
	unsigned int found = 0;
	struct names after;

	names_read(dir, &after);
	for (size_t i = 0; i < after.n; i++) {
		if (!after.v[i] || names_has(before, after.v[i]))
			continue;
		for (size_t j = 0; j < sizeof(ours) / sizeof(ours[0]); j++) {
			if (strstr(after.v[i], ours[j])) {
				fprintf(stderr, "left behind: %s/%s\n", dir, after.v[i]);
				found++;
				break;
			}
		}
	}
	names_free(&after);
	return found;
}

/* A private directory must end as it started: empty. */
static unsigned int private_leftovers(const char *dir)
{
	unsigned int found = 0;
	struct names names;

	names_read(dir, &names);
	for (size_t i = 0; i < names.n; i++) {
		if (names.v[i] && strcmp(names.v[i], ".") && strcmp(names.v[i], "..")) {
			fprintf(stderr, "left behind: %s/%s\n", dir, names.v[i]);
			found++;
		}
	}
	names_free(&names);
	return found;
}

static int run_child(char **argv, const char *dir)
{
	char preload[2 * PATH_MAX + 2];
	int status;
	pid_t pid;

	shim_preload_value(opt_shim, preload, sizeof(preload));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 99;
	if (pid == 0) {
		if (chdir(dir) || setenv("TMPDIR", dir, 1) || setenv(INNER_ENV, "1", 1) ||
		    setenv("LD_PRELOAD", preload, 1))
			_exit(99);
		execv("/proc/self/exe", argv);
		_exit(99);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 99;
	if (!WIFEXITED(status)) {
		fprintf(stderr, "test-shim: inner process: status 0x%x\n", status);
		return 1;
	}
	return WEXITSTATUS(status);
}

static int run_outer(char **argv)
{
	char dir[] = "/tmp/test-shim-XXXXXX";
	struct names tmp, shm;
	unsigned int left;
	int ret;

	if (!opt_shim) {
		printf("test-shim: no --shim PATH given: skip\n");
		return 77;
	}
	if (access(opt_shim, R_OK)) {
		fprintf(stderr, "test-shim: %s: %s\n", opt_shim, strerror(errno));
		return 99;
	}
	if (!mkdtemp(dir))
		return 99;
	names_read("/tmp", &tmp);
	names_read("/dev/shm", &shm);
	ret = run_child(argv, dir);
	left = private_leftovers(dir) + leftovers("/tmp", &tmp) + leftovers("/dev/shm", &shm);
	names_free(&tmp);
	names_free(&shm);
	if (rmdir(dir))
		left++;
	if (left) {
		fprintf(stderr, "test-shim: %u files left behind\n", left);
		return ret ? ret : 1;
	}
	printf("test-shim: nothing left behind in the working directory, /tmp or /dev/shm\n");
	return ret;
}

int main(int argc, char **argv)
{
	bool probe = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--shim") && i + 1 < argc)
			opt_shim = argv[++i];
		else if (!strcmp(argv[i], "--drmdevice") && i + 1 < argc)
			opt_drmdevice = argv[++i];
		else if (!strcmp(argv[i], "--debug-probe"))
			probe = true;
	}
	if (probe)
		return debug_probe();
	if (!getenv(INNER_ENV))
		return run_outer(argv);
	return run_inner();
}
