// SPDX-License-Identifier: MIT
#include "vm-test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int obj_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	struct vm_test_obj *o = (struct vm_test_obj *)obj;

	if (offset >= obj->size)
		return -EINVAL;
	if (!o->frag) {
		*pa = o->pa + offset;
		*contig = obj->size - offset;
		return 0;
	}
	*pa = o->pa + 2 * (offset / o->frag) * o->frag + offset % o->frag;
	*contig = o->frag - offset % o->frag;
	if (*contig > obj->size - offset)
		*contig = obj->size - offset;
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

static void host_free(void *ctx, void *ptr)
{
	struct vm_test_env *e = ctx;

	e->host_live--;
	free(ptr);
}

static const struct pt_host_ops vm_host_ops = {
	.zalloc = host_zalloc,
	.free = host_free,
};

void vm_test_init(struct vm_test_env *e, const struct gvm_range *reserved, unsigned int nr)
{
	struct gvm_cfg cfg = {
		.start = VM_TEST_START,
		.end = VM_TEST_END,
		.page_lg2 = 12,
		.reserved = reserved,
		.nr_reserved = nr,
		.backend = &gvm_backend_paging,
		.host = &vm_host_ops,
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
