// SPDX-License-Identifier: MIT
/*
 * The device and its open files; small helpers every part uses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_internal.h"

int mock_idr_alloc(struct mock_idr *idr, void *ptr, uint32_t *id)
{
	uint32_t i;

	for (i = 0; i < idr->nr && idr->slot[i]; i++)
		;
	if (i == idr->nr) {
		uint32_t nr = idr->nr ? 2 * idr->nr : 16;
		void **slot = mock_realloc(idr->slot, nr * sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		memset(&slot[idr->nr], 0, (nr - idr->nr) * sizeof(*slot));
		idr->slot = slot;
		idr->nr = nr;
	}
	idr->slot[i] = ptr;
	*id = i + 1;
	return 0;
}

void *mock_idr_find(const struct mock_idr *idr, uint32_t id)
{
	return id && id <= idr->nr ? idr->slot[id - 1] : NULL;
}

void *mock_idr_remove(struct mock_idr *idr, uint32_t id)
{
	void *ptr = mock_idr_find(idr, id);

	if (ptr)
		idr->slot[id - 1] = NULL;
	return ptr;
}

void mock_idr_fini(struct mock_idr *idr)
{
	free(idr->slot);
	*idr = (struct mock_idr){ 0 };
}

/*
 * Until the MMU has address-space slots and a TLB, there is nothing to
 * flush: count, so that tests can see the table builder asked.
 */
static void flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct mockdrm_dev *dev = ctx;

	(void)va;
	(void)size;
	(void)leaf_only;
	__atomic_add_fetch(&dev->flushes, 1, __ATOMIC_RELAXED);
}

static void flush_all(void *ctx)
{
	flush_range(ctx, 0, 0, false);
}

static const struct pt_flush_ops mock_flush_ops = {
	.flush_range = flush_range,
	.flush_all = flush_all,
};

/* The model MMU reads the same memory the CPU wrote: cleaning is a no-op. */
static void sync_range(void *ctx, uint64_t pa, const void *cpu, size_t len)
{
	struct mockdrm_dev *dev = ctx;

	(void)pa;
	(void)cpu;
	(void)len;
	__atomic_add_fetch(&dev->syncs, 1, __ATOMIC_RELAXED);
}

static const struct pt_sync_ops mock_sync_ops = {
	.sync = sync_range,
};

/*
 * What panthor gives io-pgtable for a G610: AArch64 mode, 4K pages, 48-bit VA,
 * 40-bit PA (mmu_features 0x2830), a walker that does not snoop CPU caches
 * (coherency_features 0).
 */
static void init_pt_cfg(struct mockdrm_dev *dev)
{
	dev->pt_cfg = (struct pt_cfg){
		.fmt = PT_FMT_MALI_AARCH64,
		.granule_lg2 = 12,
		.ias = MOCK_VA_BITS,
		.oas = MOCK_PA_BITS,
		.coherent_walk = false,
		.alloc = &mock_table_ops,
		.alloc_ctx = &dev->gpu,
		.flush = &mock_flush_ops,
		.flush_ctx = dev,
		.sync = &mock_sync_ops,
		.sync_ctx = dev,
		.host = &mock_host_ops,
		.debug = PT_DEBUG_ABORT_ALLOC_IN_COMMIT,
	};
}

static int check_cfg(struct mockdrm_cfg *c)
{
	if (!c->phys_base)
		c->phys_base = 4ull << 30;
	if (!c->phys_size)
		c->phys_size = 4ull << 30;
	if (!c->table_base)
		c->table_base = 1ull << 30;
	if (!c->as_present)
		c->as_present = 0xff;
	if (!c->job_timeout_ms)
		c->job_timeout_ms = 5000;
	/* Slots 0..n-1, n <= 16: slot 0 for the firmware and at least one for VMs. */
	if (c->as_present & (c->as_present + 1) || c->as_present < 3 ||
	    c->as_present >= 1u << MOCK_AS_MAX || c->tlb_mode > MOCKDRM_TLB_FAST)
		return -EINVAL;
	if ((c->phys_base | c->phys_size | c->table_base) & (MOCK_PAGE - 1) ||
	    c->table_base >= c->phys_base || c->phys_base + c->phys_size > (1ull << MOCK_PA_BITS))
		return -EINVAL;
	return 0;
}

/* The GPU: its slots, and its table memory below the BOs' physical range. */
static int make_gpu(struct mockdrm_dev *dev)
{
	struct pt_pool_cfg pcfg = {
		.page_size = MOCK_PAGE,
		.pa_base = dev->cfg.table_base,
		.pa_limit = dev->cfg.phys_base,
		.abort_in_signalling = true,
	};

	return mock_gpu_init(&dev->gpu, (unsigned int)__builtin_popcount(dev->cfg.as_present),
			     dev->cfg.tlb_mode == MOCKDRM_TLB_STRICT, &pcfg);
}

/* The driver side of the slots, and the files' worker counts. */
static void init_slots(struct mockdrm_dev *dev)
{
	pthread_mutex_init(&dev->as_lock, NULL);
	pthread_cond_init(&dev->as_cond, NULL);
	pthread_cond_init(&dev->workers_done, NULL);
	pthread_mutex_init(&dev->workers_lock, NULL);
}

static void fini_slots(struct mockdrm_dev *dev)
{
	pthread_cond_destroy(&dev->as_cond);
	pthread_mutex_destroy(&dev->as_lock);
	pthread_cond_destroy(&dev->workers_done);
	pthread_mutex_destroy(&dev->workers_lock);
}

int mockdrm_dev_create(const struct mockdrm_cfg *cfg, struct mockdrm_dev **out)
{
	struct mockdrm_dev *dev = mock_calloc(1, sizeof(*dev));
	int err;

	if (!dev)
		return -ENOMEM;
	dev->cfg = cfg ? *cfg : (struct mockdrm_cfg){ 0 };
	dev->next_offset = MOCK_MMAP_OFFSET_BASE;
	err = check_cfg(&dev->cfg);
	if (!err)
		err = pthread_mutex_init(&dev->lock, NULL) ? -ENOMEM : 0;
	if (!err)
		err = pthread_mutex_init(&dev->vms_lock, NULL) ? -ENOMEM : 0;
	if (!err)
		init_slots(dev);
	if (!err)
		err = make_gpu(dev);
	if (!err)
		init_pt_cfg(dev);
	if (!err)
		err = mock_sync_init(&dev->sync);
	if (err) {
		mockdrm_dev_destroy(dev);
		return err;
	}
	*out = dev;
	return 0;
}

void mockdrm_dev_destroy(struct mockdrm_dev *dev)
{
	if (!dev)
		return;
	mock_sync_fini(&dev->sync);
	mock_gpu_fini(&dev->gpu);
	free(dev->bos);
	fini_slots(dev);
	pthread_mutex_destroy(&dev->vms_lock);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

int mockdrm_open(struct mockdrm_dev *dev, enum mockdrm_node node, struct mockdrm_file **out)
{
	struct mockdrm_file *f = mock_calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->dev = dev;
	f->node = node;
	if (mock_client_open(f)) {
		free(f);
		return -ENOMEM;
	}
	f->user_mmio_offset = DRM_PANTHOR_USER_MMIO_OFFSET;
	mock_sync_table_init(&f->syncobjs, &dev->sync);
	pthread_mutex_lock(&dev->lock);
	dev->files++;
	f->next_file = dev->files_list;
	dev->files_list = f;
	pthread_mutex_unlock(&dev->lock);
	*out = f;
	return 0;
}

/* A closed file's VMs go first (their VAs hold BO references), then its handles. */
void mockdrm_close(struct mockdrm_file *f)
{
	struct mockdrm_dev *dev;

	if (!f)
		return;
	dev = f->dev;
	mock_file_drop_fences(f);
	mock_file_drop_groups(f);
	mock_file_drop_vms(f);
	/* Stopped queues end promptly; their last jobs may still hold BOs. */
	mock_workers_wait(f);
	mock_file_drop_bos(f);
	mock_sync_table_fini(&f->syncobjs);
	mock_client_close(f);
	pthread_mutex_lock(&dev->lock);
	dev->files--;
	for (struct mockdrm_file **p = &dev->files_list; *p; p = &(*p)->next_file) {
		if (*p == f) {
			*p = f->next_file;
			break;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	free(f);
}
