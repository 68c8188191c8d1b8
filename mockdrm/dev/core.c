// SPDX-License-Identifier: MIT
/*
 * The generic DRM core as Linux 7.2 has it, for a render-only driver:
 * masters and magic authentication on the primary node, GET_CLIENT and
 * GET_STATS in their hollowed-out modern form, no dumb buffers, and the
 * debugfs files of a minor (name, clients). Facts: panthor-1.8.md, "Generic
 * DRM core behaviour".
 *
 * DOC: masters
 *
 * A master is an object that files of the primary node share: the first
 * opener of the node when no file is master gets a new one and becomes the
 * device's current master; later openers hold a reference to the current
 * master (their magic numbers live in its table). DROP_MASTER leaves the
 * device without a master; SET_MASTER then makes the caller master again:
 * with the master object it had, or a new one if it never had its own. Both
 * need the caller to be the process that opened the file and was master
 * through it before, or CAP_SYS_ADMIN (which also authenticates a file at
 * open). A master's close leaves the device without a master.
 *
 * All of it is under dev->lock (the kernel's master_mutex).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include <drm.h>

#include "mock_internal.h"

/* The unique name of the platform device (its OF node is gpu@fb000000). */
#define DEVICE_NAME "fb000000.gpu"
/* What GET_CLIENT reports as uid: the kernel's overflowuid. */
#define OVERFLOW_UID 65534
/* Width of the client-name column of debugfs "clients" (DRM_CLIENT_NAME_MAX_LEN). */
#define CLIENT_NAME_WIDTH 64

struct mock_master {
	unsigned int refs; /* the files that have it, and the device while current */
};

/* capable(): whether the calling thread has @cap in its effective set. */
bool mock_capable(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

static bool capable_sys_admin(void)
{
	return mock_capable(CAP_SYS_ADMIN);
}

static struct mock_master *master_get(struct mock_master *m)
{
	m->refs++;
	return m;
}

static void master_put(struct mock_master **m)
{
	if (*m && --(*m)->refs == 0)
		free(*m);
	*m = NULL;
}

/* drm_is_current_master(). dev->lock held. */
static bool is_current_master(const struct mockdrm_file *f)
{
	return f->client.is_master && f->client.master && f->client.master == f->dev->master;
}

/* Make @f's master the device's. dev->lock held, no current master. */
static void set_master(struct mockdrm_file *f)
{
	f->dev->master = master_get(f->client.master);
	f->client.was_master = true;
}

/* Give @f the new master @m (one reference, now the file's) and make it current. */
static void new_master(struct mockdrm_file *f, struct mock_master *m)
{
	struct mock_master *old = f->client.master;

	m->refs = 1;
	f->client.master = m;
	f->client.is_master = true;
	f->client.authenticated = true;
	set_master(f);
	master_put(&old);
}

static void drop_master(struct mockdrm_dev *dev)
{
	master_put(&dev->master);
}

int mock_client_open(struct mockdrm_file *f)
{
	struct mockdrm_dev *dev = f->dev;
	struct mock_master *spare = NULL;

	if (f->node == MOCKDRM_NODE_PRIMARY) {
		spare = mock_calloc(1, sizeof(*spare));
		if (!spare)
			return -ENOMEM;
	}
	f->client.pid = getpid();
	f->client.authenticated = capable_sys_admin();
	pthread_mutex_lock(&dev->lock);
	f->client.id = ++dev->next_client_id;
	if (spare && !dev->master) {
		new_master(f, spare);
		spare = NULL;
	} else if (spare) {
		f->client.master = master_get(dev->master);
	}
	pthread_mutex_unlock(&dev->lock);
	free(spare);
	return 0;
}

void mock_client_close(struct mockdrm_file *f)
{
	struct mockdrm_dev *dev = f->dev;

	pthread_mutex_lock(&dev->lock);
	if (is_current_master(f))
		drop_master(dev);
	f->client.magic_live = false;
	master_put(&f->client.master);
	pthread_mutex_unlock(&dev->lock);
}

bool mock_client_is_master(struct mockdrm_file *f)
{
	bool master;

	pthread_mutex_lock(&f->dev->lock);
	master = is_current_master(f);
	pthread_mutex_unlock(&f->dev->lock);
	return master;
}

/* The open file of @master whose live magic is @magic, or NULL. dev->lock held. */
static struct mockdrm_file *magic_owner(struct mockdrm_dev *dev, struct mock_master *master,
					uint32_t magic)
{
	for (struct mockdrm_file *o = dev->files_list; o; o = o->next_file)
		if (o->client.master == master && o->client.magic == magic && o->client.magic_live)
			return o;
	return NULL;
}

/* Whether a file of @master holds @magic (live or spent). dev->lock held. */
static bool magic_taken(struct mockdrm_dev *dev, struct mock_master *master, uint32_t magic)
{
	for (struct mockdrm_file *o = dev->files_list; o; o = o->next_file)
		if (o->client.master == master && o->client.magic == magic)
			return true;
	return false;
}

/*
 * A file's magic is the lowest number from 1 that no other file of its master
 * holds (the kernel's idr_alloc() in the master's table), given once: asking
 * again returns the same number, even after it was used.
 */
int mock_ioctl_get_magic(struct mockdrm_file *f, void *arg)
{
	struct drm_auth *a = arg;
	struct mockdrm_dev *dev = f->dev;

	pthread_mutex_lock(&dev->lock);
	if (!f->client.magic && f->client.master) {
		uint32_t m = 1;

		while (magic_taken(dev, f->client.master, m))
			m++;
		f->client.magic = m;
		f->client.magic_live = true;
	}
	a->magic = f->client.magic;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* Master only (the dispatch checks): authenticate the file holding the magic, once. */
int mock_ioctl_auth_magic(struct mockdrm_file *f, void *arg)
{
	struct drm_auth *a = arg;
	struct mockdrm_dev *dev = f->dev;
	struct mockdrm_file *owner;

	pthread_mutex_lock(&dev->lock);
	owner = magic_owner(dev, f->client.master, a->magic);
	if (owner) {
		owner->client.authenticated = true;
		owner->client.magic_live = false;
	}
	pthread_mutex_unlock(&dev->lock);
	return owner ? 0 : -EINVAL;
}

/*
 * Modern kernels keep no client list: index 0 answers for the caller (libva
 * uses it to learn whether it is authenticated), every other index is past
 * the end. The pid is the calling thread's, as task_pid_vnr(current) is.
 */
int mock_ioctl_get_client(struct mockdrm_file *f, void *arg)
{
	struct drm_client *c = arg;

	if (c->idx != 0)
		return -EINVAL;
	pthread_mutex_lock(&f->dev->lock);
	c->auth = f->client.authenticated;
	pthread_mutex_unlock(&f->dev->lock);
	c->pid = (unsigned long)syscall(SYS_gettid);
	c->uid = OVERFLOW_UID;
	c->magic = 0;
	c->iocs = 0;
	return 0;
}

int mock_ioctl_get_stats(struct mockdrm_file *f, void *arg)
{
	(void)f;
	memset(arg, 0, sizeof(struct drm_stats));
	return 0;
}

/* drm_master_check_perm(): the opener that was master through @f, or CAP_SYS_ADMIN. */
static int check_master_perm(const struct mockdrm_file *f)
{
	if (f->client.was_master && f->client.pid == getpid())
		return 0;
	return capable_sys_admin() ? 0 : -EACCES;
}

int mock_ioctl_set_master(struct mockdrm_file *f, void *arg)
{
	struct mockdrm_dev *dev = f->dev;
	struct mock_master *spare = mock_calloc(1, sizeof(*spare));
	int ret;

	(void)arg;
	if (!spare)
		return -ENOMEM;
	pthread_mutex_lock(&dev->lock);
	ret = check_master_perm(f);
	if (ret || is_current_master(f))
		goto out;
	if (dev->master) {
		ret = -EBUSY;
	} else if (!f->client.master) {
		ret = -EINVAL;
	} else if (!f->client.is_master) {
		new_master(f, spare);
		spare = NULL;
	} else {
		set_master(f);
	}
out:
	pthread_mutex_unlock(&dev->lock);
	free(spare);
	return ret;
}

int mock_ioctl_drop_master(struct mockdrm_file *f, void *arg)
{
	struct mockdrm_dev *dev = f->dev;
	int ret;

	(void)arg;
	pthread_mutex_lock(&dev->lock);
	ret = check_master_perm(f);
	if (!ret && !is_current_master(f))
		ret = -EINVAL;
	if (!ret)
		drop_master(dev);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* MODE_CREATE_DUMB, MAP_DUMB, DESTROY_DUMB: panthor has no dumb_create. */
int mock_ioctl_no_dumb(struct mockdrm_file *f, void *arg)
{
	(void)f;
	(void)arg;
	return -ENOSYS;
}

/* One row of "clients", taken under dev->lock and printed after. */
struct client_row {
	pid_t pid;
	unsigned int minor;
	bool master, auth;
	uint32_t magic;
	uint64_t id;
};

/* The command name and effective uid of process @pid now ("<unknown>", 0 if gone). */
static void process_identity(pid_t pid, char *comm, size_t size, unsigned int *uid)
{
	char path[64], line[256];
	FILE *in;

	snprintf(comm, size, "<unknown>");
	*uid = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	in = fopen(path, "re");
	if (!in)
		return;
	while (fgets(line, sizeof(line), in)) {
		unsigned int real, eff;

		if (!strncmp(line, "Name:\t", 6))
			snprintf(comm, size, "%.*s", (int)strcspn(line + 6, "\n"), line + 6);
		else if (sscanf(line, "Uid:\t%u\t%u", &real, &eff) == 2)
			*uid = eff;
	}
	fclose(in);
}

/* The open files, oldest first (the list is newest first). dev->lock held. */
static void take_rows(struct mockdrm_dev *dev, struct client_row *rows, unsigned int n)
{
	unsigned int i = n;

	for (struct mockdrm_file *f = dev->files_list; f && i; f = f->next_file) {
		rows[--i] = (struct client_row){
			.pid = f->client.pid,
			.minor = f->node == MOCKDRM_NODE_RENDER ? 128 : 0,
			.master = is_current_master(f),
			.auth = f->client.authenticated,
			.magic = f->client.magic,
			.id = f->client.id,
		};
	}
}

static int show_clients(struct mockdrm_dev *dev, FILE *out)
{
	struct client_row *rows;
	unsigned int n;

	pthread_mutex_lock(&dev->lock);
	n = dev->files;
	rows = mock_calloc(n ? n : 1, sizeof(*rows));
	if (rows)
		take_rows(dev, rows, n);
	pthread_mutex_unlock(&dev->lock);
	if (!rows)
		return -ENOMEM;
	fprintf(out, "%20s %5s %3s master a %5s %10s %*s %20s\n", "command", "tgid", "dev", "uid",
		"magic", CLIENT_NAME_WIDTH, "name", "id");
	for (unsigned int i = 0; i < n; i++) {
		char comm[64];
		unsigned int uid;

		process_identity(rows[i].pid, comm, sizeof(comm), &uid);
		fprintf(out, "%20s %5d %3u   %c    %c %5u %10u %*s %20llu\n", comm,
			(int)rows[i].pid, rows[i].minor, rows[i].master ? 'y' : 'n',
			rows[i].auth ? 'y' : 'n', uid, rows[i].magic, CLIENT_NAME_WIDTH, "<unset>",
			(unsigned long long)rows[i].id);
	}
	free(rows);
	return 0;
}

int mockdrm_debugfs_show(struct mockdrm_dev *dev, const char *name, FILE *out)
{
	if (!strcmp(name, "name")) {
		fprintf(out, "panthor dev=%s unique=%s\n", DEVICE_NAME, DEVICE_NAME);
		return 0;
	}
	if (!strcmp(name, "clients"))
		return show_clients(dev, out);
	return -ENOENT;
}
