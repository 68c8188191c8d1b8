// SPDX-License-Identifier: MIT
/*
 * dma-bufs: what PRIME export gives and import takes, their ioctls
 * (<linux/dma-buf.h>) and reservations, and the implicit synchronization of
 * the device's jobs through them.
 *
 * DOC: dma-bufs
 *
 * A BO's pages are a memfd sealed against shrinking and growing. A dma-buf
 * fd is a new open of that memfd (through /proc/self/fd), never a dup: it
 * has its own access mode, so an export without DRM_RDWR is read-only (no
 * writable shared mapping, no write()), and the seals make ftruncate() fail
 * whatever the mode, so the device's backing store keeps its size. mmap and
 * lseek(SEEK_END) work as on a dma-buf. (An emulation limit: like any memfd,
 * the fd can be reopened writable through /proc/self/fd by its holder.)
 *
 * Every dma-buf (by the memfd's inode, shared by every open of it) has one
 * entry here, process-wide: its reservation and its name. The exporter's BO
 * and each importer's BO (of this device or another) refer to the entry, so
 * they share the reservation, as importers of one dma-buf do in the kernel.
 * A BO that was never exported gets its entry at its first job, so that an
 * export later still sees the fences of earlier work.
 *
 * Implicit sync: an async VM_BIND job puts its fence in the reservation of
 * the BO its MAP op maps, a GROUP_SUBMIT job in those of every BO mapped in
 * its VM (as a writer). BOs private to a VM are left out: they cannot be
 * exported, so no reservation of theirs (the VM's, in panthor) can be
 * observed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm.h>
#include <linux/dma-buf.h>

#include "mock_vm.h"

struct mock_dmabuf {
	struct mock_dmabuf *next;
	ino_t ino;
	unsigned int refs; /* BOs that refer to it; under dmabufs_lock */
	struct mock_resv *resv;
	char name[DMA_BUF_NAME_LEN]; /* under dmabufs_lock */
};

static pthread_mutex_t dmabufs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mock_dmabuf *dmabufs;

static struct mock_dmabuf *dmabuf_find_locked(ino_t ino)
{
	for (struct mock_dmabuf *d = dmabufs; d; d = d->next)
		if (d->ino == ino)
			return d;
	return NULL;
}

/* The entry of the memfd inode @ino, with a reference for a BO; NULL without memory. */
static struct mock_dmabuf *dmabuf_get(ino_t ino)
{
	struct mock_dmabuf *d;

	pthread_mutex_lock(&dmabufs_lock);
	d = dmabuf_find_locked(ino);
	if (!d) {
		d = mock_calloc(1, sizeof(*d));
		if (d)
			d->resv = mock_resv_create();
		if (d && !d->resv) {
			free(d);
			d = NULL;
		}
		if (d) {
			d->ino = ino;
			d->next = dmabufs;
			dmabufs = d;
		}
	}
	if (d)
		d->refs++;
	pthread_mutex_unlock(&dmabufs_lock);
	return d;
}

/**
 * mock_dmabuf_put() - a BO is done with its dma-buf entry.
 * @d: the entry, or NULL.
 *
 * Context: takes the registry's lock.
 */
void mock_dmabuf_put(struct mock_dmabuf *d)
{
	struct mock_dmabuf **pp;

	if (!d)
		return;
	pthread_mutex_lock(&dmabufs_lock);
	if (--d->refs) {
		pthread_mutex_unlock(&dmabufs_lock);
		return;
	}
	for (pp = &dmabufs; *pp != d; pp = &(*pp)->next)
		;
	*pp = d->next;
	pthread_mutex_unlock(&dmabufs_lock);
	mock_resv_put(d->resv);
	free(d);
}

/*
 * The BO's dma-buf entry, made on first use (export, import, a job). Its
 * reservation lives as long as the BO.
 */
static struct mock_dmabuf *bo_dmabuf(struct mock_bo *bo)
{
	struct mock_dmabuf *d = __atomic_load_n(&bo->dmabuf, __ATOMIC_ACQUIRE), *none = NULL;

	if (d)
		return d;
	d = dmabuf_get(bo->ino);
	if (d && !__atomic_compare_exchange_n(&bo->dmabuf, &none, d, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE)) {
		mock_dmabuf_put(d); /* another thread set it first */
		d = none;
	}
	return d;
}

/**
 * mock_dmabuf_attach() - give a BO made over an imported fd its dma-buf entry.
 * @bo: the new BO.
 *
 * Return: 0, -ENOMEM.
 */
int mock_dmabuf_attach(struct mock_bo *bo)
{
	return bo_dmabuf(bo) ? 0 : -ENOMEM;
}

/**
 * mock_dmabuf_export() - a dma-buf fd for @bo.
 * @bo: a BO that is not private to a VM.
 * @flags: DRM_CLOEXEC, DRM_RDWR (writable mappings allowed).
 * @fd_out: the new fd (a new open of the BO's memfd, not a dup).
 *
 * Context: allocates; opens a file.
 * Return: 0, -ENOMEM, -EMFILE, or the error of the reopen.
 */
int mock_dmabuf_export(struct mock_bo *bo, uint32_t flags, int *fd_out)
{
	int mode = (flags & DRM_RDWR) ? O_RDWR : O_RDONLY;
	char path[64];
	int fd;

	if (!bo_dmabuf(bo))
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", bo->memfd);
	fd = mock_open(path, mode | ((flags & DRM_CLOEXEC) ? O_CLOEXEC : 0));
	if (fd < 0)
		return -errno;
	*fd_out = fd;
	return 0;
}

/**
 * mock_dmabuf_prepare_job() - what adding a job's fence to @bo's reservation
 * needs, allocated while the job can still fail.
 * @bo: a BO a job will write, or NULL.
 * @node: set to the reservation node (NULL when none is needed).
 *
 * Return: 0, -ENOMEM.
 */
int mock_dmabuf_prepare_job(struct mock_bo *bo, struct mock_resv_node **node)
{
	*node = NULL;
	if (!bo || bo->exclusive)
		return 0;
	if (!bo_dmabuf(bo))
		return -ENOMEM;
	*node = mock_resv_node_alloc();
	return *node ? 0 : -ENOMEM;
}

/**
 * mock_dmabuf_add_job() - implicit sync: a job that writes @bo was submitted.
 * @bo: the BO given to mock_dmabuf_prepare_job(), or NULL.
 * @node: its node (consumed; NULL: nothing to do).
 * @done: the job's fence.
 *
 * Context: cannot fail.
 */
void mock_dmabuf_add_job(struct mock_bo *bo, struct mock_resv_node *node, struct mock_fence *done)
{
	if (node)
		mock_resv_add_node(bo->dmabuf->resv, node, done, true);
}

/**
 * mock_dmabuf_check_fd() - is @fd a dma-buf of a mock device (an open of a
 * BO's memfd)?
 * @fd: the fd.
 * @st: its stat.
 *
 * Return: 0; -EBADF (not an fd); -EINVAL (another kind of file).
 */
int mock_dmabuf_check_fd(int fd, struct stat *st)
{
	static const char prefix[] = "/memfd:" MOCK_BO_MEMFD_NAME " ";
	char link[64], target[PATH_MAX];
	ssize_t n;

	if (fd < 0 || fstat(fd, st))
		return -EBADF;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	return strncmp(target, prefix, strlen(prefix)) ? -EINVAL : 0;
}

/**
 * mock_dmabuf_pages_fd() - an fd an importer maps its BO's pages through.
 * @fd: a dma-buf (mock_dmabuf_check_fd() said so).
 *
 * The importer's device reads and writes the pages whatever the access mode
 * of the caller's fd (as an importing driver maps the exporter's pages), so
 * it opens the memory again for reading and writing.
 *
 * Return: the new fd (O_CLOEXEC), or -errno.
 */
int mock_dmabuf_pages_fd(int fd)
{
	char path[64];
	int pages;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	pages = mock_open(path, O_RDWR | O_CLOEXEC);
	return pages < 0 ? -errno : pages;
}

/* The entry of the dma-buf @fd with its reservation referenced, or NULL. */
static struct mock_resv *fd_resv(int fd)
{
	struct mock_resv *resv = NULL;
	struct mock_dmabuf *d;
	struct stat st;

	if (mock_dmabuf_check_fd(fd, &st))
		return NULL;
	pthread_mutex_lock(&dmabufs_lock);
	d = dmabuf_find_locked(st.st_ino);
	if (d) {
		resv = d->resv;
		mock_resv_get(resv);
	}
	pthread_mutex_unlock(&dmabufs_lock);
	return resv;
}

static int ioctl_sync(uint64_t arg)
{
	struct dma_buf_sync s;
	int ret = mock_copy_from_user(&s, arg, sizeof(s));

	if (ret)
		return ret;
	if ((s.flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) || !(s.flags & DMA_BUF_SYNC_RW))
		return -EINVAL;
	return 0; /* the mock's memory is coherent: nothing to flush */
}

static int ioctl_export_sync_file(struct mock_resv *resv, uint64_t arg)
{
	struct dma_buf_export_sync_file a;
	struct mock_fence *f;
	int ret = mock_copy_from_user(&a, arg, sizeof(a));

	if (ret)
		return ret;
	if (!a.flags || (a.flags & ~DMA_BUF_SYNC_RW))
		return -EINVAL;
	ret = mock_resv_fence(resv, a.flags & DMA_BUF_SYNC_WRITE, &f);
	if (ret)
		return ret;
	ret = mock_sync_file_export(f, "dma-buf", &a.fd);
	mock_fence_put(f);
	if (!ret && mock_copy_to_user(arg, &a, sizeof(a))) {
		close(a.fd);
		ret = -EFAULT;
	}
	return ret;
}

static int ioctl_import_sync_file(struct mock_resv *resv, uint64_t arg)
{
	struct dma_buf_import_sync_file a;
	struct mock_fence *f;
	int ret = mock_copy_from_user(&a, arg, sizeof(a));

	if (ret)
		return ret;
	if (!a.flags || (a.flags & ~DMA_BUF_SYNC_RW))
		return -EINVAL;
	if (mock_sync_file_fence(a.fd, &f))
		return -EINVAL;
	ret = mock_resv_add(resv, f, a.flags & DMA_BUF_SYNC_WRITE);
	mock_fence_put(f);
	return ret;
}

/* SET_NAME: a NUL-terminated name of at most DMA_BUF_NAME_LEN bytes with the NUL. */
static int ioctl_set_name(int fd, uint64_t arg)
{
	char name[DMA_BUF_NAME_LEN];
	struct mock_dmabuf *d;
	struct stat st;
	size_t len;

	if (mock_dmabuf_check_fd(fd, &st))
		return -ENOTTY;
	/* Byte by byte up to the NUL: the bytes after it may not be readable. */
	for (len = 0; len < sizeof(name); len++) {
		if (mock_copy_from_user(&name[len], arg + len, 1))
			return -EFAULT;
		if (!name[len])
			break;
	}
	if (len == sizeof(name))
		return -EINVAL;
	pthread_mutex_lock(&dmabufs_lock);
	d = dmabuf_find_locked(st.st_ino);
	if (d)
		memcpy(d->name, name, len + 1);
	pthread_mutex_unlock(&dmabufs_lock);
	return d ? 0 : -ENOTTY;
}

/**
 * mock_dmabuf_ioctl() - a <linux/dma-buf.h> ioctl on what may be our dma-buf.
 * @fd: the fd.
 * @request: DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME (any of its sizes),
 *	DMA_BUF_IOCTL_EXPORT_SYNC_FILE or DMA_BUF_IOCTL_IMPORT_SYNC_FILE.
 * @arg: the caller's argument.
 *
 * Context: takes the registry's and the domain's locks; allocates.
 * Return: 0; -ENOTTY (not a dma-buf of ours, another request); -EINVAL
 * (flags; IMPORT: not a sync file; SET_NAME: too long); -EFAULT; -ENOMEM.
 */
int mock_dmabuf_ioctl(int fd, unsigned long request, void *arg)
{
	uint64_t uarg = (uintptr_t)arg;
	struct mock_resv *resv;
	int ret = -ENOTTY;

	if (_IOC_NR(request) == _IOC_NR(DMA_BUF_SET_NAME) &&
	    _IOC_DIR(request) == _IOC_DIR(DMA_BUF_SET_NAME))
		return ioctl_set_name(fd, uarg);
	resv = fd_resv(fd);
	if (!resv)
		return -ENOTTY;
	if (request == DMA_BUF_IOCTL_SYNC)
		ret = ioctl_sync(uarg);
	else if (request == DMA_BUF_IOCTL_EXPORT_SYNC_FILE)
		ret = ioctl_export_sync_file(resv, uarg);
	else if (request == DMA_BUF_IOCTL_IMPORT_SYNC_FILE)
		ret = ioctl_import_sync_file(resv, uarg);
	mock_resv_put(resv);
	return ret;
}

/**
 * mock_dmabuf_name() - the name SET_NAME gave a BO's dma-buf.
 * @bo: the BO.
 * @name: DMA_BUF_NAME_LEN bytes; "" when it has none.
 */
void mock_dmabuf_name(struct mock_bo *bo, char *name)
{
	struct mock_dmabuf *d = __atomic_load_n(&bo->dmabuf, __ATOMIC_ACQUIRE);

	pthread_mutex_lock(&dmabufs_lock);
	strcpy(name, d ? d->name : "");
	pthread_mutex_unlock(&dmabufs_lock);
}

/*
 * The shareable BOs mapped in @vm, with references (vm->lock taken): the
 * VM's external objects (gvm's extobj list; its dummy page and the BOs
 * exclusive to it are private) with a committed VA (vm_hooks.c counts them).
 */
static int vm_shared_bos(struct mock_vm *vm, struct mock_implicit *im)
{
	unsigned int cap = 0;
	int err = 0;

	pthread_mutex_lock(&vm->lock);
	for (struct gvm_bo *link = gvm_extobj_first(vm->gvm); link && !err;
	     link = gvm_extobj_next(link)) {
		struct mock_bo *bo = (struct mock_bo *)link->obj;

		if (!mock_vm_bo_mapped(link))
			continue;
		if (im->nr_bos == cap) {
			struct mock_bo **bos =
				mock_realloc(im->bos, (cap ? 2 * cap : 8) * sizeof(*bos));

			if (!bos) {
				err = -ENOMEM;
				break;
			}
			im->bos = bos;
			cap = cap ? 2 * cap : 8;
		}
		mock_bo_get(bo);
		im->bos[im->nr_bos++] = bo;
	}
	pthread_mutex_unlock(&vm->lock);
	return err;
}

/**
 * mock_implicit_prepare() - implicit sync for jobs running on a VM: what adding
 * their fences to the reservation of every BO they may touch needs.
 * @vm: the VM the jobs run on.
 * @jobs: how many jobs.
 * @im: filled (zeroed by the caller); mock_implicit_release() it whatever the result.
 *
 * A command stream may touch any BO mapped in its VM, so each job is a writer
 * of all of them, as panthor adds its job fences to the VM's BOs. BOs private
 * to the VM are left out (DOC: dma-bufs).
 *
 * Context: takes vm->lock: call it before any lock ordered after it.
 * Return: 0, -ENOMEM.
 */
int mock_implicit_prepare(struct mock_vm *vm, unsigned int jobs, struct mock_implicit *im)
{
	int err = vm_shared_bos(vm, im);

	if (err || !im->nr_bos)
		return err;
	im->nodes = mock_calloc((size_t)jobs * im->nr_bos, sizeof(*im->nodes));
	if (!im->nodes)
		return -ENOMEM;
	im->nr_nodes = jobs * im->nr_bos;
	for (unsigned int i = 0; i < im->nr_bos; i++)
		if (!bo_dmabuf(im->bos[i]))
			return -ENOMEM;
	for (unsigned int i = 0; i < im->nr_nodes; i++) {
		im->nodes[i] = mock_resv_node_alloc();
		if (!im->nodes[i])
			return -ENOMEM;
	}
	return 0;
}

/**
 * mock_implicit_add() - job @job of the prepared ones was submitted.
 * @im: from mock_implicit_prepare().
 * @job: its index (below the prepared count).
 * @done: its fence.
 *
 * Context: cannot fail.
 */
void mock_implicit_add(struct mock_implicit *im, unsigned int job, struct mock_fence *done)
{
	for (unsigned int i = 0; i < im->nr_bos; i++) {
		struct mock_resv_node **node = &im->nodes[(size_t)job * im->nr_bos + i];

		mock_resv_add_node(im->bos[i]->dmabuf->resv, *node, done, true);
		*node = NULL;
	}
}

void mock_implicit_release(struct mock_implicit *im)
{
	for (unsigned int i = 0; im->nodes && i < im->nr_nodes; i++)
		mock_resv_node_free(im->nodes[i]);
	for (unsigned int i = 0; i < im->nr_bos; i++)
		mock_bo_put(im->bos[i]);
	free(im->nodes);
	free(im->bos);
	*im = (struct mock_implicit){ 0 };
}
