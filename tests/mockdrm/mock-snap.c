// SPDX-License-Identifier: MIT
/*
 * Snapshots of a mock device's observable state (mock-snap.h), read from its
 * private structures under the locks the device takes.
 */
#include <string.h>

#include <gpuvm/pt.h>

#include "mock-snap.h"
#include "mock_internal.h"
#include "mock_vm.h"

#define SNAP_PAGE 4096ull
/* Points of a timeline syncobj whose fences a snapshot reads (tests use small points). */
#define SNAP_TIMELINE_POINTS 16

static const char *const part_names[MOCK_SNAP_NR_PARTS] = {
	"BO handles",   "BO contents", "VMs and VAs",
	"translations", "syncobjs",    "fences, groups, offsets",
};

const char *mock_snap_part_name(int part)
{
	return part >= 0 && part < MOCK_SNAP_NR_PARTS ? part_names[part] : "?";
}

int mock_snap_diff(const struct mock_snap *a, const struct mock_snap *b)
{
	for (int p = 0; p < MOCK_SNAP_NR_PARTS; p++)
		if (a->h[p] != b->h[p])
			return p;
	return -1;
}

static void mix(struct mock_snap *s, enum mock_snap_part p, const void *data, size_t len)
{
	const uint8_t *b = data;

	if (!s->h[p])
		s->h[p] = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		s->h[p] = (s->h[p] ^ b[i]) * 0x100000001b3ull;
}

static void mix64(struct mock_snap *s, enum mock_snap_part p, uint64_t v)
{
	mix(s, p, &v, sizeof(v));
}

/* A word at a time: BO contents are most of what a snapshot reads. */
static void mix_words(struct mock_snap *s, enum mock_snap_part p, const void *data, size_t len)
{
	const uint64_t *w = data;
	uint64_t h = s->h[p];

	for (size_t i = 0; i < len / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ull + (h >> 29);
	s->h[p] = h;
}

static void snap_bos(struct mockdrm_file *f, struct mock_snap *s)
{
	pthread_mutex_lock(&f->dev->lock);
	for (uint32_t h = 1; h <= f->bos.nr; h++) {
		struct mock_bo *bo = mock_idr_find(&f->bos, h);

		if (!bo)
			continue;
		mix64(s, MOCK_SNAP_BOS, h);
		mix64(s, MOCK_SNAP_BOS, (uintptr_t)bo);
		mix64(s, MOCK_SNAP_BOS, bo->size);
		mix64(s, MOCK_SNAP_BOS, bo->mmap_offset);
		mix64(s, MOCK_SNAP_BOS, bo->flags);
		mix64(s, MOCK_SNAP_BOS, bo->exclusive);
		if (bo->label)
			mix(s, MOCK_SNAP_BOS, bo->label, strlen(bo->label));
		mix_words(s, MOCK_SNAP_BO_BYTES, bo->map, bo->size);
	}
	pthread_mutex_unlock(&f->dev->lock);
}

static void snap_vm(const struct mock_snap_cfg *cfg, struct mock_vm *vm, struct mock_snap *s)
{
	struct gvm *g = vm->gvm;

	pthread_mutex_lock(&vm->lock);
	mix64(s, MOCK_SNAP_VMS, vm->unusable);
	mix64(s, MOCK_SNAP_VMS, vm->user_range);
	for (struct gvm_va *va = gvm_va_first(g, 0, UINT64_MAX); va;
	     va = gvm_va_next(g, va, UINT64_MAX)) {
		uint64_t fields[] = { va->va,     va->size,   (uintptr_t)va->bo->obj,
				      va->offset, va->repeat, va->prot };

		mix(s, MOCK_SNAP_VMS, fields, sizeof(fields));
	}
	for (uint64_t i = 0; i < cfg->window_pages; i++) {
		struct pt_walk_result w;
		int rc = pt_walk(gvm_get_pt(g), cfg->window_va + i * SNAP_PAGE, &w);

		mix64(s, MOCK_SNAP_XLATE, (uint64_t)rc);
		if (!rc) {
			mix64(s, MOCK_SNAP_XLATE, w.pa);
			mix64(s, MOCK_SNAP_XLATE, w.prot);
		}
	}
	pthread_mutex_unlock(&vm->lock);
}

static void snap_vms(const struct mock_snap_cfg *cfg, struct mockdrm_file *f, struct mock_snap *s)
{
	for (uint32_t id = 1;; id++) {
		struct mock_vm *vm;

		pthread_mutex_lock(&f->dev->lock);
		if (id > f->vms.nr) {
			pthread_mutex_unlock(&f->dev->lock);
			return;
		}
		pthread_mutex_unlock(&f->dev->lock);
		vm = mock_vm_lookup(f, id);
		if (vm) {
			mix64(s, MOCK_SNAP_VMS, id);
			mix64(s, MOCK_SNAP_VMS, (uintptr_t)vm);
			snap_vm(cfg, vm, s);
			mock_vm_put(vm);
		}
	}
}

/*
 * The fence at @point of @obj, if any, and its status. Which fence object a
 * timeline point resolves to is not part of the state: reading a point's
 * status settles the chain, which then drops the settled points below it
 * (as dma_fence_chain's garbage collection does), so a later lookup of a
 * lower point finds a newer node with the same status. A binary syncobj's
 * fence is its state (replaced or not).
 */
static void snap_point(struct mock_syncobj *obj, uint64_t point, struct mock_snap *s)
{
	struct mock_fence *fence = NULL;
	int error = 0, status = -1;
	int rc = mock_syncobj_fence(obj, point, &fence);

	if (!rc && fence) {
		status = mock_fence_status(fence, &error);
		mock_fence_put(fence);
	}
	mix64(s, MOCK_SNAP_SYNC, (uint64_t)rc);
	if (!point)
		mix64(s, MOCK_SNAP_SYNC, (uintptr_t)fence);
	mix64(s, MOCK_SNAP_SYNC, (uint64_t)status);
	mix64(s, MOCK_SNAP_SYNC, (uint64_t)error);
}

static void snap_syncobjs(struct mockdrm_file *f, struct mock_snap *s)
{
	for (uint32_t h = 1; h <= f->syncobjs.nr_slots; h++) {
		struct mock_syncobj *obj = mock_syncobj_find(&f->syncobjs, h);

		if (!obj)
			continue;
		mix64(s, MOCK_SNAP_SYNC, h);
		mix64(s, MOCK_SNAP_SYNC, (uintptr_t)obj);
		mix64(s, MOCK_SNAP_SYNC, mock_syncobj_is_timeline(obj));
		if (!mock_syncobj_is_timeline(obj))
			snap_point(obj, 0, s);
		for (uint64_t p = 1; mock_syncobj_is_timeline(obj) && p <= SNAP_TIMELINE_POINTS;
		     p++)
			snap_point(obj, p, s);
		mock_syncobj_put(obj);
	}
}

/* The live entries of a handle table: ids and objects (not its capacity). */
static void snap_idr(const struct mock_idr *idr, struct mock_snap *s)
{
	for (uint32_t id = 1; id <= idr->nr; id++) {
		void *obj = mock_idr_find(idr, id);

		if (obj) {
			mix64(s, MOCK_SNAP_OTHER, id);
			mix64(s, MOCK_SNAP_OTHER, (uintptr_t)obj);
		}
	}
}

void mock_snap_take(const struct mock_snap_cfg *cfg, struct mock_snap *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < cfg->nr_files; i++) {
		struct mockdrm_file *f = cfg->files[i];

		snap_bos(f, s);
		snap_vms(cfg, f, s);
		snap_syncobjs(f, s);
		pthread_mutex_lock(&f->dev->lock);
		snap_idr(&f->fences, s);
		snap_idr(&f->groups, s);
		pthread_mutex_unlock(&f->dev->lock);
	}
	pthread_mutex_lock(&cfg->dev->lock);
	mix64(s, MOCK_SNAP_OTHER, cfg->dev->next_offset);
	mix64(s, MOCK_SNAP_OTHER, cfg->dev->nr_bos);
	pthread_mutex_unlock(&cfg->dev->lock);
}

bool mock_snap_quiet(struct mockdrm_dev *dev)
{
	bool q = true;

	if (__atomic_load_n(&dev->vms_dying, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&dev->vms_lock);
	for (struct mock_vm *vm = dev->vms; vm && q; vm = vm->live_next) {
		pthread_mutex_lock(&vm->lock);
		/* A closed VM's last reference may go from its worker at any time. */
		q = !vm->head && !vm->worker_running &&
		    !__atomic_load_n(&vm->closed, __ATOMIC_ACQUIRE);
		pthread_mutex_unlock(&vm->lock);
	}
	pthread_mutex_unlock(&dev->vms_lock);
	return q;
}
