// SPDX-License-Identifier: MIT
/*
 * GEM buffer objects: memfd-backed pages at a simulated physical range, handles
 * per open file, fake mmap offsets, PRIME export and import.
 *
 * A BO lives while anything refers to it: handles (one reference each, whatever
 * the number of files), VAs and VM links (through the VM's driver hooks,
 * vm_hooks.c); a VM's dummy page belongs to the VM. An exported fd is a new open of the BO's memfd
 * (dmabuf.c, DOC: dma-bufs): importing it again finds the live BO by the
 * memfd's inode, so the same object gets the same handle; another device, or
 * this one once the BO is gone (only the fd kept its pages alive), makes a new
 * BO over the same pages, as importing a foreign dma-buf does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm.h>

#include "mock_internal.h"

#define BO_MEMFD_NAME MOCK_BO_MEMFD_NAME

static int bo_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	struct mock_bo *bo = (struct mock_bo *)obj;

	if (offset >= bo->size)
		return -EINVAL;
	*pa = bo->pa + offset;
	*contig = bo->size - offset;
	return 0;
}

/* No get/put: the VM's driver hooks take the references of VAs and links (vm_hooks.c). */
static const struct gvm_obj_ops bo_obj_ops = {
	.phys = bo_phys,
};

/*
 * Last fit, for the device's internal pages (the VMs' dummy pages): from the
 * top, so that they do not move where user BOs land.
 */
static int alloc_pa_top(struct mockdrm_dev *dev, uint64_t size, uint64_t *pa, unsigned int *at)
{
	uint64_t end = dev->cfg.phys_base + dev->cfg.phys_size;

	for (unsigned int i = dev->nr_bos + 1; i--;) {
		uint64_t gap_end = i < dev->nr_bos ? dev->bos[i]->pa : end;
		uint64_t gap_start = i ? dev->bos[i - 1]->pa + dev->bos[i - 1]->size :
					 dev->cfg.phys_base;

		if (gap_end - gap_start >= size) {
			*pa = gap_end - size;
			*at = i;
			return 0;
		}
	}
	return -ENOMEM;
}

/* First fit in the gaps between BOs (kept sorted by PA); index to insert at. */
static int alloc_pa(struct mockdrm_dev *dev, uint64_t size, uint64_t *pa, unsigned int *at)
{
	uint64_t start = dev->cfg.phys_base, end = dev->cfg.phys_base + dev->cfg.phys_size;

	for (unsigned int i = 0; i <= dev->nr_bos; i++) {
		uint64_t gap_end = i < dev->nr_bos ? dev->bos[i]->pa : end;

		if (gap_end - start >= size) {
			*pa = start;
			*at = i;
			return 0;
		}
		if (i < dev->nr_bos)
			start = dev->bos[i]->pa + dev->bos[i]->size;
	}
	return -ENOMEM;
}

/* Give @bo a physical range and list it, under dev->lock. */
static int place_bo(struct mockdrm_dev *dev, struct mock_bo *bo)
{
	unsigned int at;
	int err;

	if (dev->nr_bos == dev->cap_bos) {
		unsigned int cap = dev->cap_bos ? 2 * dev->cap_bos : 64;
		struct mock_bo **bos = mock_realloc(dev->bos, cap * sizeof(*bos));

		if (!bos)
			return -ENOMEM;
		dev->bos = bos;
		dev->cap_bos = cap;
	}
	err = (bo->internal ? alloc_pa_top : alloc_pa)(dev, bo->size, &bo->pa, &at);
	if (err)
		return err;
	memmove(&dev->bos[at + 1], &dev->bos[at], (dev->nr_bos - at) * sizeof(*dev->bos));
	dev->bos[at] = bo;
	dev->nr_bos++;
	return 0;
}

static void unplace_bo(struct mockdrm_dev *dev, struct mock_bo *bo)
{
	unsigned int i = 0;

	while (dev->bos[i] != bo)
		i++;
	memmove(&dev->bos[i], &dev->bos[i + 1], (dev->nr_bos - i - 1) * sizeof(*dev->bos));
	dev->nr_bos--;
}

/* Pages for a BO: a memfd mapped once for the device's own accesses. */
static int bo_pages(struct mock_bo *bo, int memfd)
{
	struct stat st;

	if (memfd < 0 || fstat(memfd, &st))
		return -ENOMEM;
	bo->ino = st.st_ino;
	bo->map = mock_mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	return bo->map == MAP_FAILED ? -ENOMEM : 0;
}

static void bo_free(struct mock_bo *bo)
{
	if (bo->map && bo->map != MAP_FAILED)
		munmap(bo->map, bo->size);
	if (bo->memfd >= 0)
		close(bo->memfd);
	mock_dmabuf_put(bo->dmabuf);
	gvm_obj_fini(&bo->obj);
	free(bo->label);
	free(bo);
}

/*
 * The pages of a new BO: a memfd of @size sealed against shrinking and
 * growing, so that no fd of it (a dma-buf) can resize the device's memory.
 */
static int bo_memfd(uint64_t size)
{
	int memfd = mock_memfd_create(BO_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (memfd >= 0 && (ftruncate(memfd, (off_t)size) ||
			   fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))) {
		close(memfd);
		memfd = -1;
	}
	return memfd;
}

/* A BO of @size over @memfd (consumed), or over a new memfd when @memfd < 0. */
static int bo_new_over(struct mockdrm_dev *dev, uint64_t size, uint32_t flags, int memfd,
		       bool internal, struct mock_bo **out)
{
	struct mock_bo *bo = mock_calloc(1, sizeof(*bo));
	int err;

	if (!bo) {
		if (memfd >= 0)
			close(memfd);
		return -ENOMEM;
	}
	bo->dev = dev;
	bo->size = size;
	bo->flags = flags;
	bo->refs = 1;
	bo->internal = internal;
	if (memfd < 0)
		memfd = bo_memfd(size);
	bo->memfd = memfd;
	err = gvm_obj_init(&bo->obj, &bo_obj_ops, size);
	if (!err)
		err = bo_pages(bo, memfd);
	if (!err) {
		pthread_mutex_lock(&dev->lock);
		err = place_bo(dev, bo);
		pthread_mutex_unlock(&dev->lock);
	}
	if (err) {
		bo_free(bo);
		return err;
	}
	*out = bo;
	return 0;
}

int mock_bo_new(struct mockdrm_dev *dev, uint64_t size, uint32_t flags, struct mock_bo **out)
{
	return bo_new_over(dev, size, flags, -1, false, out);
}

/* A VM's sparse page: its own, so that what one client writes there no other reads. */
int mock_bo_new_dummy(struct mockdrm_dev *dev, struct mock_bo **out)
{
	return bo_new_over(dev, MOCK_PAGE, 0, -1, true, out);
}

void mock_bo_get(struct mock_bo *bo)
{
	__atomic_add_fetch(&bo->refs, 1, __ATOMIC_RELAXED);
}

void mock_bo_put(struct mock_bo *bo)
{
	struct mockdrm_dev *dev = bo->dev;

	if (__atomic_sub_fetch(&bo->refs, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&dev->lock);
	unplace_bo(dev, bo);
	pthread_mutex_unlock(&dev->lock);
	bo_free(bo);
}

/* A reference unless the BO is already on its way out (PRIME lookups race with puts). */
static bool bo_get_unless_zero(struct mock_bo *bo)
{
	unsigned int refs = __atomic_load_n(&bo->refs, __ATOMIC_RELAXED);

	while (refs)
		if (__atomic_compare_exchange_n(&bo->refs, &refs, refs + 1, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return true;
	return false;
}

struct mock_bo *mock_bo_lookup(struct mockdrm_file *file, uint32_t handle)
{
	struct mock_bo *bo;

	pthread_mutex_lock(&file->dev->lock);
	bo = mock_idr_find(&file->bos, handle);
	if (bo)
		mock_bo_get(bo);
	pthread_mutex_unlock(&file->dev->lock);
	return bo;
}

/* The device's view of physical memory: a pointer into the BO that holds [pa, pa + len). */
void *mock_phys_to_host(struct mockdrm_dev *dev, uint64_t pa, uint64_t len)
{
	unsigned int lo = 0, hi = dev->nr_bos;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		struct mock_bo *bo = dev->bos[mid];

		if (pa < bo->pa)
			hi = mid;
		else if (pa >= bo->pa + bo->size)
			lo = mid + 1;
		else
			return pa + len <= bo->pa + bo->size ? (char *)bo->map + (pa - bo->pa) :
							       NULL;
	}
	return NULL;
}

static int add_handle(struct mockdrm_file *file, struct mock_bo *bo, uint32_t *handle)
{
	int err;

	pthread_mutex_lock(&file->dev->lock);
	err = mock_idr_alloc(&file->bos, bo, handle);
	pthread_mutex_unlock(&file->dev->lock);
	return err;
}

static uint64_t page_align(uint64_t size)
{
	return (size + MOCK_PAGE - 1) & ~(MOCK_PAGE - 1);
}

int mock_ioctl_bo_create(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_bo_create *a = arg;
	uint32_t known = DRM_PANTHOR_BO_NO_MMAP | DRM_PANTHOR_BO_WB_MMAP;
	struct mock_vm *excl = NULL;
	struct mock_bo *bo;
	int err;

	if (!a->size || a->size > (1ull << MOCK_PA_BITS) || (a->flags & ~known) || a->pad)
		return -EINVAL;
	if (a->exclusive_vm_id) {
		excl = mock_vm_lookup(f, a->exclusive_vm_id);
		if (!excl)
			return -EINVAL;
	}
	err = mock_bo_new(f->dev, page_align(a->size), a->flags, &bo);
	if (!err) {
		bo->exclusive = excl ? mock_vm_serial(excl) : 0;
		bo->obj.resv_id = bo->exclusive; /* private to that VM (gvm's extobj list) */
		err = add_handle(f, bo, &a->handle);
		if (err)
			mock_bo_put(bo);
	}
	if (excl)
		mock_vm_put(excl); /* the BO remembers the VM by identity only */
	if (!err)
		a->size = bo->size;
	return err;
}

int mock_ioctl_bo_mmap_offset(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_bo_mmap_offset *a = arg;
	struct mock_bo *bo;

	if (a->pad)
		return -EINVAL;
	bo = mock_bo_lookup(f, a->handle);
	if (!bo)
		return -ENOENT;
	pthread_mutex_lock(&f->dev->lock);
	if (!bo->mmap_offset) {
		bo->mmap_offset = f->dev->next_offset;
		f->dev->next_offset += bo->size;
	}
	a->offset = bo->mmap_offset;
	pthread_mutex_unlock(&f->dev->lock);
	mock_bo_put(bo);
	return 0;
}

int mock_ioctl_gem_close(struct mockdrm_file *f, void *arg)
{
	struct drm_gem_close *a = arg;
	struct mock_bo *bo;

	pthread_mutex_lock(&f->dev->lock);
	bo = mock_idr_remove(&f->bos, a->handle);
	pthread_mutex_unlock(&f->dev->lock);
	if (!bo)
		return -EINVAL;
	mock_bo_put(bo);
	return 0;
}

/*
 * The kernel lets a file mmap a BO it has a handle to. A NO_MMAP BO has an
 * offset like any other (panthor hands it out) but refuses the mmap itself.
 */
int mockdrm_mmap_lookup(struct mockdrm_file *f, uint64_t offset, uint64_t length, int *fd,
			uint64_t *fd_offset)
{
	int err = mock_mmio_lookup(f, offset, length, fd, fd_offset);

	if (err)
		return err < 0 ? err : 0;
	err = -EINVAL;
	pthread_mutex_lock(&f->dev->lock);
	for (uint32_t id = 1; id <= f->bos.nr; id++) {
		struct mock_bo *bo = mock_idr_find(&f->bos, id);

		if (!bo || !bo->mmap_offset || offset < bo->mmap_offset ||
		    offset + length > bo->mmap_offset + bo->size || offset + length < offset)
			continue;
		*fd = bo->memfd;
		*fd_offset = offset - bo->mmap_offset;
		err = (bo->flags & DRM_PANTHOR_BO_NO_MMAP) ? -EINVAL : 0;
		break;
	}
	pthread_mutex_unlock(&f->dev->lock);
	return err;
}

int mock_ioctl_prime_handle_to_fd(struct mockdrm_file *f, void *arg)
{
	struct drm_prime_handle *a = arg;
	struct mock_bo *bo;
	int fd, err;

	if (a->flags & ~(uint32_t)(DRM_CLOEXEC | DRM_RDWR))
		return -EINVAL;
	bo = mock_bo_lookup(f, a->handle);
	if (!bo)
		return -ENOENT;
	/* drm_gem_prime_export() of panthor: a BO private to a VM stays private. */
	err = bo->exclusive ? -EINVAL : mock_dmabuf_export(bo, a->flags, &fd);
	mock_bo_put(bo);
	if (!err)
		a->fd = fd;
	return err;
}

/* The live BO whose pages are @st's inode, with a reference. */
static struct mock_bo *find_by_inode(struct mockdrm_dev *dev, const struct stat *st)
{
	struct mock_bo *found = NULL;

	pthread_mutex_lock(&dev->lock);
	for (unsigned int i = 0; i < dev->nr_bos && !found; i++)
		if (dev->bos[i]->ino == st->st_ino && bo_get_unless_zero(dev->bos[i]))
			found = dev->bos[i];
	pthread_mutex_unlock(&dev->lock);
	return found;
}

/* The file's handle for @bo if it has one (same object, same handle). */
static uint32_t existing_handle(struct mockdrm_file *f, struct mock_bo *bo)
{
	uint32_t found = 0;

	pthread_mutex_lock(&f->dev->lock);
	for (uint32_t id = 1; id <= f->bos.nr && !found; id++)
		if (mock_idr_find(&f->bos, id) == bo)
			found = id;
	pthread_mutex_unlock(&f->dev->lock);
	return found;
}

int mock_ioctl_prime_fd_to_handle(struct mockdrm_file *f, void *arg)
{
	struct drm_prime_handle *a = arg;
	struct mock_bo *bo;
	struct stat st;
	int err = mock_dmabuf_check_fd(a->fd, &st);

	if (err)
		return err;
	bo = find_by_inode(f->dev, &st);
	if (!bo) {
		int fd = mock_dmabuf_pages_fd(a->fd);

		if (fd < 0)
			return fd;
		err = bo_new_over(f->dev, (uint64_t)st.st_size, 0, fd, false, &bo);
		if (!err) {
			err = mock_dmabuf_attach(bo); /* the exporter's reservation */
			if (err)
				mock_bo_put(bo);
		}
		if (err)
			return err;
		bo->imported = true; /* another device's: BO_QUERY_INFO says IS_IMPORTED */
	}
	a->handle = existing_handle(f, bo);
	if (a->handle) {
		mock_bo_put(bo);
		return 0;
	}
	err = add_handle(f, bo, &a->handle);
	if (err)
		mock_bo_put(bo);
	return err;
}

/* A closed file drops the reference of each of its handles. */
void mock_file_drop_bos(struct mockdrm_file *f)
{
	for (uint32_t id = 1; id <= f->bos.nr; id++) {
		struct mock_bo *bo = mock_idr_remove(&f->bos, id);

		if (bo)
			mock_bo_put(bo);
	}
	mock_idr_fini(&f->bos);
}
