// SPDX-License-Identifier: MIT
/*
 * The generic DRM core as generic igt tests see it (panthor-1.8.md, "Generic
 * DRM core behaviour"): GET_CLIENT, GET_STATS, masters and magic
 * authentication on the card node, render-node refusals, no dumb buffers,
 * /proc fd links naming the node, and the debugfs files of the minors.
 *
 * Runs under the LD_PRELOAD shim. With CAP_SYS_ADMIN it first checks what
 * that allows; started as root, it then drops to uid 65534 (as igt runs in
 * CI) for the rest, so that the rules for a user hold whoever runs it. Every test opens
 * its own files and closes them, so each starts without a master.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <xf86drm.h>

#define CARD "/dev/dri/card0"
#define RENDER "/dev/dri/renderD128"
#define DEBUGFS "/sys/kernel/debug"
#define NOBODY 65534

static int xopen(const char *node)
{
	int fd = open(node, O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static int drm_ioctl(int fd, unsigned long request, void *arg)
{
	return drmIoctl(fd, request, arg) ? -errno : 0;
}

static int get_magic(int fd, drm_magic_t *magic)
{
	struct drm_auth a = { 0 };
	int ret = drm_ioctl(fd, DRM_IOCTL_GET_MAGIC, &a);

	*magic = a.magic;
	return ret;
}

static int auth_magic(int fd, drm_magic_t magic)
{
	struct drm_auth a = { .magic = magic };

	return drm_ioctl(fd, DRM_IOCTL_AUTH_MAGIC, &a);
}

static int set_master(int fd)
{
	return drm_ioctl(fd, DRM_IOCTL_SET_MASTER, NULL);
}

static int drop_master(int fd)
{
	return drm_ioctl(fd, DRM_IOCTL_DROP_MASTER, NULL);
}

/* libdrm's test: only the master gets past the permission check of AUTH_MAGIC. */
static bool is_master(int fd)
{
	return auth_magic(fd, 0) != -EACCES;
}

/* GET_CLIENT's auth field for the caller. */
static int client_auth(int fd)
{
	struct drm_client c = { .idx = 0 };

	assert_int_equal(drm_ioctl(fd, DRM_IOCTL_GET_CLIENT, &c), 0);
	return c.auth;
}

/* Run @fn(@fd) in a forked child; its exit status (the child returns -errno as 256 - n). */
static int in_child(int (*fn)(int fd), int fd)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(-fn(fd) & 0xff);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

static void test_get_client(void **state)
{
	int a, b;
	struct drm_client c;

	(void)state;
	a = xopen(CARD);
	b = xopen(CARD);
	memset(&c, 0xa5, sizeof(c));
	c.idx = 0;
	assert_int_equal(drm_ioctl(b, DRM_IOCTL_GET_CLIENT, &c), 0);
	assert_int_equal(c.auth, 0); /* not master, not authenticated, not root */
	assert_int_equal(c.pid, (unsigned long)gettid());
	assert_int_equal(c.uid, NOBODY);
	assert_int_equal(c.magic, 0);
	assert_int_equal(c.iocs, 0);
	assert_int_equal(client_auth(a), 1); /* the first opener is master, so authenticated */
	for (int idx = 1; idx < 4; idx++) {
		c = (struct drm_client){ .idx = idx };
		assert_int_equal(drm_ioctl(a, DRM_IOCTL_GET_CLIENT, &c), -EINVAL);
	}
	c = (struct drm_client){ .idx = -1 };
	assert_int_equal(drm_ioctl(a, DRM_IOCTL_GET_CLIENT, &c), -EINVAL);
	close(b);
	close(a);
}

static void test_get_stats(void **state)
{
	struct drm_stats s;
	int fd = xopen(CARD);
	const unsigned char *byte = (const unsigned char *)&s;

	(void)state;
	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(drm_ioctl(fd, DRM_IOCTL_GET_STATS, &s), 0);
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(byte[i], 0);
	close(fd);
}

static int drop_in_child(int fd)
{
	return drop_master(fd);
}

static void test_master(void **state)
{
	int a, b, c;

	(void)state;
	a = xopen(CARD);
	b = xopen(CARD);
	assert_true(is_master(a));
	assert_false(is_master(b));
	/* Only the current master drops; a user never master cannot take it. */
	assert_int_equal(drop_master(b), -EACCES);
	assert_int_equal(drop_master(a), 0);
	assert_false(is_master(a));
	assert_int_equal(drop_master(a), -EINVAL);
	assert_int_equal(set_master(b), -EACCES);
	assert_false(is_master(b));
	/* The previous master, from the process that opened it, takes it back. */
	assert_int_equal(set_master(a), 0);
	assert_true(is_master(a));
	assert_int_equal(set_master(a), 0); /* already master */
	/* Another process holding the same file is not its opener. */
	assert_int_equal(in_child(drop_in_child, a), -EACCES);
	assert_true(is_master(a));
	/* With no master, the next opener becomes master; the old one is refused. */
	assert_int_equal(drop_master(a), 0);
	c = xopen(CARD);
	assert_true(is_master(c));
	assert_int_equal(set_master(a), -EBUSY);
	assert_false(is_master(a));
	/* The master's close leaves none: the next opener is master. */
	close(c);
	c = xopen(CARD);
	assert_true(is_master(c));
	assert_false(is_master(b));
	close(c);
	close(b);
	close(a);
}

static void test_magic(void **state)
{
	drm_magic_t mb, mb2, mc;
	int a, b, c;

	(void)state;
	a = xopen(CARD);
	b = xopen(CARD);
	c = xopen(CARD);
	assert_int_equal(get_magic(b, &mb), 0);
	assert_int_equal(get_magic(b, &mb2), 0);
	assert_int_equal(get_magic(c, &mc), 0);
	assert_int_not_equal(mb, 0);
	assert_int_equal(mb, mb2);
	assert_int_not_equal(mb, mc);
	/* Not master: refused, and c stays unauthenticated. */
	assert_int_equal(auth_magic(b, mc), -EACCES);
	assert_int_equal(client_auth(c), 0);
	/* The master authenticates b once; unknown magics are invalid. */
	assert_int_equal(client_auth(b), 0);
	assert_int_equal(auth_magic(a, mb), 0);
	assert_int_equal(client_auth(b), 1);
	assert_int_equal(client_auth(c), 0);
	assert_int_equal(auth_magic(a, mb), -EINVAL);
	assert_int_equal(auth_magic(a, 0x12345), -EINVAL);
	assert_int_equal(auth_magic(a, 0), -EINVAL);
	/* Authentication outlives dropping master. */
	assert_int_equal(drop_master(a), 0);
	assert_int_equal(client_auth(a), 1);
	assert_int_equal(auth_magic(a, mc), -EACCES);
	assert_int_equal(client_auth(c), 0);
	close(c);
	close(b);
	close(a);
}

/* Every generic ioctl without DRM_RENDER_ALLOW is refused on the render node. */
static void test_render_refusals(void **state)
{
	static const unsigned long requests[] = {
		DRM_IOCTL_GET_MAGIC,         DRM_IOCTL_AUTH_MAGIC,       DRM_IOCTL_GET_CLIENT,
		DRM_IOCTL_GET_STATS,         DRM_IOCTL_SET_MASTER,       DRM_IOCTL_DROP_MASTER,
		DRM_IOCTL_GET_UNIQUE,        DRM_IOCTL_MODE_CREATE_DUMB, DRM_IOCTL_MODE_MAP_DUMB,
		DRM_IOCTL_MODE_DESTROY_DUMB, DRM_IOCTL_SET_CLIENT_CAP,
	};
	unsigned char arg[256];
	int r, card;

	(void)state;
	r = xopen(RENDER);
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		memset(arg, 0, sizeof(arg));
		assert_int_equal(drm_ioctl(r, requests[i], arg), -EACCES);
	}
	/* The render file is no master and takes no part in the card's. */
	card = xopen(CARD);
	assert_true(is_master(card));
	close(card);
	close(r);
}

static void test_no_dumb(void **state)
{
	struct drm_mode_create_dumb create = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_mode_map_dumb map = { .handle = 1 };
	struct drm_mode_destroy_dumb destroy = { .handle = 1 };
	int fd = xopen(CARD);

	(void)state;
	assert_int_equal(drm_ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create), -ENOSYS);
	assert_int_equal(create.handle, 0);
	assert_int_equal(drm_ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map), -ENOSYS);
	assert_int_equal(drm_ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &destroy), -ENOSYS);
	close(fd);
}

static void check_link(const char *path, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf));

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_proc_fd_links(void **state)
{
	char path[PATH_MAX], buf[PATH_MAX], *real;
	int card = xopen(CARD), render = xopen(RENDER), dup_fd, dir;
	struct stat st;
	ssize_t n;

	(void)state;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", card);
	check_link(path, CARD);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", render);
	check_link(path, RENDER);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), render);
	check_link(path, RENDER);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", (int)getpid(), (int)gettid(), card);
	check_link(path, CARD);
	snprintf(path, sizeof(path), "/proc/thread-self/fd/%d", card);
	check_link(path, CARD);
	snprintf(path, sizeof(path), "/dev/fd/%d", render);
	check_link(path, RENDER);
	/* A truncated answer, as readlink(2) gives. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", render);
	assert_int_equal(readlink(path, buf, 5), 5);
	assert_memory_equal(buf, "/dev/", 5);
	/* readlinkat from the fd directory; a dup names the same node. */
	dup_fd = dup(card);
	dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	assert_true(dir >= 0);
	snprintf(path, sizeof(path), "%d", dup_fd);
	n = readlinkat(dir, path, buf, sizeof(buf));
	assert_int_equal(n, strlen(CARD));
	assert_memory_equal(buf, CARD, (size_t)n);
	close(dir);
	/* realpath() and stat() follow the link to the node. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", render);
	real = realpath(path, NULL);
	assert_non_null(real);
	assert_string_equal(real, RENDER);
	free(real);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(226, 128));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* Once closed, the number is no longer the node's. */
	close(dup_fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dup_fd);
	n = readlink(path, buf, sizeof(buf));
	assert_true(n < 0 || strncmp(buf, CARD, (size_t)n) != 0);
	close(render);
	close(card);
}

/* The whole contents of @path, NUL-terminated, in @buf. */
static size_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	assert_true(n == 0);
	buf[len] = '\0';
	close(fd);
	return len;
}

static void test_debugfs_mount_and_name(void **state)
{
	char buf[256];
	struct stat here, up;

	(void)state;
	/* igt's mount-point test: "." and ".." of the directory on different devices. */
	assert_int_equal(stat(DEBUGFS "/.", &here), 0);
	assert_int_equal(stat(DEBUGFS "/..", &up), 0);
	assert_true(S_ISDIR(here.st_mode) && S_ISDIR(up.st_mode));
	assert_true(here.st_dev != up.st_dev);
	read_file(DEBUGFS "/dri/0/name", buf, sizeof(buf));
	assert_string_equal(buf, "panthor dev=fb000000.gpu unique=fb000000.gpu\n");
	read_file(DEBUGFS "/dri/128/name", buf, sizeof(buf));
	assert_string_equal(buf, "panthor dev=fb000000.gpu unique=fb000000.gpu\n");
}

/* Whether directory @dir lists @name. */
static bool lists(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	assert_non_null(d);
	while ((e = readdir(d)))
		found = found || !strcmp(e->d_name, name);
	closedir(d);
	return found;
}

static void test_debugfs_listing(void **state)
{
	struct stat st;

	(void)state;
	assert_true(lists(DEBUGFS, "dri"));
	assert_true(lists(DEBUGFS, "sync"));
	assert_true(lists(DEBUGFS "/dri", "0"));
	assert_true(lists(DEBUGFS "/dri", "128"));
	assert_true(lists(DEBUGFS "/dri/0", "name"));
	assert_true(lists(DEBUGFS "/dri/128", "clients"));
	assert_true(lists(DEBUGFS "/sync", "sw_sync"));
	assert_int_equal(stat(DEBUGFS "/sync/sw_sync", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(stat(DEBUGFS "/dri/0/clients", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(stat(DEBUGFS "/dri/1", &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* The lines of dri/<minor>/clients after the header, into @rows; their number. */
static int client_rows(const char *minor, char rows[][256], int max)
{
	char buf[4096], path[64], *line, *save = NULL;
	int n = -1;

	snprintf(path, sizeof(path), DEBUGFS "/dri/%s/clients", minor);
	read_file(path, buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n >= 0 && n < max)
			snprintf(rows[n], 256, "%s", line);
		n++;
	}
	return n;
}

struct row {
	char comm[64], master, auth, name[80];
	int tgid, minor;
	unsigned int uid, magic;
	unsigned long long id;
};

static struct row parse_row(const char *line)
{
	struct row r;

	assert_int_equal(sscanf(line, "%63s %d %d %c %c %u %u %79s %llu", r.comm, &r.tgid, &r.minor,
				&r.master, &r.auth, &r.uid, &r.magic, r.name, &r.id),
			 9);
	return r;
}

static void test_debugfs_clients(void **state)
{
	char rows[8][256], header[256], comm[64];
	struct row r0, r1;
	drm_magic_t magic;
	int card, render, other;

	(void)state;
	read_file("/proc/self/comm", comm, sizeof(comm));
	comm[strcspn(comm, "\n")] = '\0';
	assert_int_equal(client_rows("0", rows, 8), 0);
	read_file(DEBUGFS "/dri/0/clients", header, sizeof(header));
	assert_non_null(strstr(header, "command"));
	assert_non_null(strstr(header, "tgid"));
	assert_non_null(strstr(header, "master a"));
	card = xopen(CARD);
	render = xopen(RENDER);
	other = xopen(CARD);
	assert_int_equal(get_magic(other, &magic), 0);
	assert_int_equal(client_rows("128", rows, 8), 3);
	r0 = parse_row(rows[0]);
	assert_string_equal(r0.comm, comm);
	assert_int_equal(r0.tgid, getpid());
	assert_int_equal(r0.minor, 0);
	assert_int_equal(r0.master, 'y');
	assert_int_equal(r0.auth, 'y');
	assert_int_equal(r0.uid, geteuid());
	assert_string_equal(r0.name, "<unset>");
	r1 = parse_row(rows[1]);
	assert_int_equal(r1.minor, 128);
	assert_int_equal(r1.master, 'n');
	assert_int_equal(r1.auth, 'n');
	assert_true(r1.id > r0.id);
	r1 = parse_row(rows[2]);
	assert_int_equal(r1.magic, magic);
	assert_int_equal(r1.auth, 'n');
	/* The master authenticates it: the row changes. */
	assert_int_equal(auth_magic(card, magic), 0);
	assert_int_equal(client_rows("0", rows, 8), 3);
	assert_int_equal(parse_row(rows[2]).auth, 'y');
	/* Closing the master: its row goes, nobody is master. */
	close(card);
	assert_int_equal(client_rows("0", rows, 8), 2);
	assert_int_equal(parse_row(rows[0]).minor, 128);
	assert_int_equal(parse_row(rows[1]).master, 'n');
	close(other);
	close(render);
	assert_int_equal(client_rows("0", rows, 8), 0);
}

/* Opening /proc/self/fd/N of a node opens the node again: a new client. */
static void test_reopen_through_proc(void **state)
{
	char path[64], rows[8][256];
	int render = xopen(RENDER), again;

	(void)state;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", render);
	again = open(path, O_RDWR | O_CLOEXEC);
	assert_true(again >= 0);
	assert_int_equal(client_rows("128", rows, 8), 2);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", again);
	check_link(path, RENDER);
	close(again);
	assert_int_equal(client_rows("128", rows, 8), 1);
	close(render);
}

/* Root (CAP_SYS_ADMIN) is authenticated at open and may take master. */
static void test_privileged(void **state)
{
	int a, b;

	(void)state;
	a = xopen(CARD);
	b = xopen(CARD);
	assert_int_equal(client_auth(b), 1);
	assert_int_equal(set_master(b), -EBUSY);
	assert_int_equal(drop_master(a), 0);
	assert_int_equal(set_master(b), 0); /* never master: a master of its own */
	assert_true(is_master(b));
	assert_false(is_master(a));
	close(b);
	close(a);
}

/* uid 65534 without capabilities; dumpable again, so that LeakSanitizer can stop us. */
static bool drop_privileges(void)
{
	return setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0 &&
	       prctl(PR_SET_DUMPABLE, 1) == 0;
}

/* CAP_SYS_ADMIN (bit 21) in the effective set: root in a container may lack it. */
static bool has_sys_admin(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *in = fopen("/proc/self/status", "re");

	while (in && fgets(line, sizeof(line), in))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	if (in)
		fclose(in);
	return caps & (1ull << 21);
}

int main(void)
{
	const struct CMUnitTest privileged[] = {
		cmocka_unit_test(test_privileged),
	};
	const struct CMUnitTest user[] = {
		cmocka_unit_test(test_get_client),
		cmocka_unit_test(test_get_stats),
		cmocka_unit_test(test_master),
		cmocka_unit_test(test_magic),
		cmocka_unit_test(test_render_refusals),
		cmocka_unit_test(test_no_dumb),
		cmocka_unit_test(test_proc_fd_links),
		cmocka_unit_test(test_debugfs_mount_and_name),
		cmocka_unit_test(test_debugfs_listing),
		cmocka_unit_test(test_debugfs_clients),
		cmocka_unit_test(test_reopen_through_proc),
	};
	int failed = 0;

	if (has_sys_admin())
		failed += cmocka_run_group_tests_name("privileged", privileged, NULL, NULL);
	if (geteuid() == 0) {
		if (!drop_privileges()) {
			perror("dropping to uid 65534");
			return 1;
		}
	}
	if (geteuid() == 0) {
		fprintf(stderr, "still root: cannot check the rules for users\n");
		return 1;
	}
	return failed + cmocka_run_group_tests_name("user", user, NULL, NULL);
}
