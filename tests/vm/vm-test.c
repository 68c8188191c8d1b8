// SPDX-License-Identifier: MIT
#include "vm-test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t vm_test_obj_pa(const struct vm_test_obj *o, uint64_t off, uint64_t *contig)
{
	if (!o->frag) {
		*contig = o->obj.size - off;
		return o->pa + off;
	}
	*contig = min_u64(o->frag - off % o->frag, o->obj.size - off);
	return o->pa + 2 * (off / o->frag) * o->frag + off % o->frag;
}

static int obj_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	if (offset >= obj->size)
		return -EINVAL;
	*pa = vm_test_obj_pa((struct vm_test_obj *)obj, offset, contig);
	return 0;
}

static void obj_get(struct gvm_obj *obj)
{
	((struct vm_test_obj *)obj)->refs++;
}

static void obj_put(struct gvm_obj *obj)
{
	if (pt_in_signalling()) {
		fprintf(stderr, "vm-test: object reference dropped inside a commit\n");
		abort();
	}
	((struct vm_test_obj *)obj)->refs--;
}

static const struct gvm_obj_ops obj_ops = {
	.phys = obj_phys,
	.get = obj_get,
	.put = obj_put,
};

void vm_test_obj_init(struct vm_test_obj *o, uint64_t size, uint64_t pa, uint64_t frag)
{
	o->pa = pa;
	o->frag = frag;
	o->refs = 0;
	if (gvm_obj_init(&o->obj, &obj_ops, size))
		abort();
}

void vm_test_obj_fini(struct vm_test_obj *o)
{
	gvm_obj_fini(&o->obj);
}

/* The VM's own memory, counted, failing on request, refused inside commits. */
static void *host_zalloc(void *ctx, size_t size)
{
	struct vm_test_env *e = ctx;

	if (pt_in_signalling()) {
		fprintf(stderr, "vm-test: VM allocation inside a commit\n");
		abort();
	}
	if (++e->host_attempts == e->host_fail_at)
		return NULL;
	e->host_live++;
	return calloc(1, size);
}

/*
 * The non-zeroing allocation, counted and failing like host_zalloc(), its
 * memory filled with a pattern: what reads it before writing it misbehaves.
 */
static void *host_alloc(void *ctx, size_t size)
{
	void *p = host_zalloc(ctx, size);

	if (p)
		memset(p, 0xa5, size);
	return p;
}

static void host_free(void *ctx, void *ptr)
{
	struct vm_test_env *e = ctx;

	e->host_live--;
	free(ptr);
}

static const struct pt_host_ops vm_host_ops = {
	.zalloc = host_zalloc,
	.free = host_free,
	.alloc = host_alloc,
};

void vm_test_init(struct vm_test_env *e, const struct gvm_range *reserved, unsigned int nr)
{
	vm_test_init_driver(e, reserved, nr, NULL, NULL, 0);
}

void vm_test_init_driver(struct vm_test_env *e, const struct gvm_range *reserved, unsigned int nr,
			 const struct gvm_driver_ops *driver, void *driver_ctx, uint64_t resv_id)
{
	struct gvm_cfg cfg = {
		.start = VM_TEST_START,
		.end = VM_TEST_END,
		.page_lg2 = 12,
		.reserved = reserved,
		.nr_reserved = nr,
		.backend = &gvm_backend_paging,
		.host = &vm_host_ops,
		.driver = driver,
		.driver_ctx = driver_ctx,
		.resv_id = resv_id,
	};
	int err;

	pt_test_env_init(&e->pt, PT_FMT_MALI_AARCH64, 12, 48, 40, true);
	e->host_fail_at = e->host_attempts = 0;
	e->host_live = 0;
	cfg.backend_cfg = &e->pt.cfg;
	cfg.host_ctx = e;
	err = gvm_create(&cfg, &e->vm);
	if (err) {
		fprintf(stderr, "gvm_create: %s\n", errname(err));
		abort();
	}
}

void vm_test_fini(struct vm_test_env *e)
{
	gvm_destroy(e->vm);
	pt_test_env_fini(&e->pt);
}

uint64_t vm_test_expected_pa(const struct gvm_va *va, uint64_t addr)
{
	uint64_t off = addr - va->va, pa, contig;

	off = va->repeat ? va->offset + off % va->repeat : va->offset + off;
	if (va->bo->obj->ops->phys(va->bo->obj, off & ~0xfffull, &pa, &contig))
		return ~0ull;
	return pa + (off & 0xfff);
}

static int report(FILE *f, uint64_t addr, const char *what, uint64_t got, uint64_t want)
{
	if (f)
		fprintf(f,
			"vm_test_check_tables: 0x%" PRIx64 ": %s: 0x%" PRIx64 ", want 0x%" PRIx64
			"\n",
			addr, what, got, want);
	return -EUCLEAN;
}

static int check_mapped(struct vm_test_env *e, const struct gvm_va *va, uint64_t addr, FILE *f)
{
	struct pt_walk_result w;
	int err = pt_walk(gvm_get_pt(e->vm), addr, &w);

	if (err)
		return report(f, addr, "not mapped", (uint64_t)err, 0);
	if (w.pa != vm_test_expected_pa(va, addr))
		return report(f, addr, "wrong PA", w.pa, vm_test_expected_pa(va, addr));
	if (w.prot != va->prot)
		return report(f, addr, "wrong protections", w.prot, va->prot);
	return 0;
}

static int check_unmapped(struct vm_test_env *e, uint64_t addr, FILE *f)
{
	struct pt_walk_result w;

	if (!pt_walk(gvm_get_pt(e->vm), addr, &w))
		return report(f, addr, "mapped in a gap", w.pa, 0);
	return 0;
}

static uint64_t pick(uint64_t *seed, uint64_t start, uint64_t end)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 7;
	*seed ^= *seed << 17;
	return start + ((*seed % ((end - start) >> 12)) << 12);
}

/* First, last and @samples random pages of [@s, @e): a VA (@va) or a gap. */
static int check_span(struct vm_test_env *e, const struct gvm_va *va, uint64_t s, uint64_t end,
		      unsigned int samples, uint64_t *seed, FILE *f)
{
	int err = 0;

	for (unsigned int i = 0; i < samples + 2 && !err && s < end; i++) {
		uint64_t addr = i == 0 ? s : i == 1 ? end - 4096 : pick(seed, s, end);

		err = va ? check_mapped(e, va, addr, f) : check_unmapped(e, addr, f);
	}
	return err;
}

int vm_test_check_tables(struct vm_test_env *e, uint64_t start, uint64_t end, unsigned int samples,
			 uint64_t *seed, FILE *f)
{
	uint64_t at = start;
	int err = 0;

	for (struct gvm_va *va = gvm_va_first(e->vm, start, end); va && !err;
	     va = gvm_va_next(e->vm, va, end)) {
		uint64_t s = va->va > start ? va->va : start;
		uint64_t t = va->va + va->size < end ? va->va + va->size : end;

		err = check_span(e, NULL, at, s, samples, seed, f);
		if (!err)
			err = check_span(e, va, s, t, samples, seed, f);
		at = t;
	}
	return err ? err : check_span(e, NULL, at, end, samples, seed, f);
}

uint64_t vm_test_pages(struct vm_test_env *e)
{
	return pt_test_pages_in_use(&e->pt);
}

/* ---- The model tests' oracle ---- */

int vm_test_obj_index(const struct vm_test_rules *rules, const struct gvm_obj *obj)
{
	for (unsigned int i = 0; i < rules->nr_objs; i++)
		if (obj == &rules->objs[i].obj)
			return (int)i;
	return -1;
}

uint64_t vm_test_extent_pa(const struct vm_test_rules *rules, const struct extent *x, uint64_t va)
{
	uint64_t contig;

	return vm_test_obj_pa(&rules->objs[x->obj], extent_pa(x, va), &contig);
}

bool vm_test_range_ok(const struct vm_test_rules *rules, uint64_t va, uint64_t size)
{
	uint64_t end;

	if (!size || (va | size) % 4096 || __builtin_add_overflow(va, size, &end) ||
	    va < VM_TEST_START || end > VM_TEST_END)
		return false;
	for (unsigned int i = 0; i < rules->nr_reserved; i++)
		if (va < rules->reserved[i].end && rules->reserved[i].start < end)
			return false;
	return true;
}

static bool prot_ok(const struct vm_test_rules *rules, uint32_t prot)
{
	for (unsigned int i = 0; i < rules->nr_prots; i++)
		if (prot == rules->prots[i])
			return true;
	return false;
}

/* What a map request asks of its object: a range inside it, contiguous when repeated. */
static bool map_ok(const struct vm_test_rules *rules, const struct gvm_req *q)
{
	int o = q->obj ? vm_test_obj_index(rules, q->obj) : -1;
	uint64_t used = q->repeat ? q->repeat : q->size, size, contig;

	if (o < 0 || (q->offset | q->repeat) % 4096 || (q->repeat && q->size % q->repeat))
		return false;
	size = rules->objs[o].obj.size;
	if (q->offset >= size || used > size - q->offset || !prot_ok(rules, q->prot))
		return false;
	return !q->repeat ||
	       (vm_test_obj_pa(&rules->objs[o], q->offset, &contig), contig >= q->repeat);
}

bool vm_test_req_ok(const struct vm_test_rules *rules, const struct gvm_req *q)
{
	if (!vm_test_range_ok(rules, q->va, q->size))
		return false;
	if (q->type == GVM_REQ_UNMAP)
		return !q->obj && !q->offset && !q->repeat && !q->prot;
	return q->type == GVM_REQ_MAP && map_ok(rules, q);
}

/* Only a repeat VA can refuse a cut: one that is not on a multiple of its period. */
static bool cuts_ok(const struct model *m, uint64_t va, uint64_t end)
{
	for (size_t i = model_find(m, va); i < m->n && m->e[i].va < end; i++) {
		const struct extent *x = &m->e[i];

		if (x->period && ((x->va < va && (va - x->va) % x->period) ||
				  (x->end > end && (end - x->va) % x->period)))
			return false;
	}
	return true;
}

bool vm_test_model_apply(const struct vm_test_rules *rules, struct model *m,
			 const struct gvm_req *q)
{
	uint64_t end = q->va + q->size;

	if (!vm_test_req_ok(rules, q) || !cuts_ok(m, q->va, end))
		return false;
	model_unmap(m, q->va, end);
	if (q->type == GVM_REQ_MAP)
		model_insert(m,
			     (struct extent){ .va = q->va,
					      .end = end,
					      .va0 = q->va,
					      .pa0 = q->offset,
					      .period = q->repeat,
					      .prot = q->prot,
					      .obj = (uint32_t)vm_test_obj_index(rules, q->obj) });
	return true;
}
