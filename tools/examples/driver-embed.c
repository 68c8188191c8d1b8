// SPDX-License-Identifier: MIT
/*
 * How a GPU driver embeds gpuvm's VA manager (gpuvm/gvm.h) and page tables
 * (gpuvm/pt.h). The driver brings three things:
 *
 *  - table memory: its own arena of table pages, handed to pgtable through
 *    struct pt_alloc_ops (a kernel driver would allocate DMA pages here);
 *  - flush ops: pgtable says which VA ranges the GPU's TLB must forget; a
 *    driver would lock the region and issue the MMU's flush command, this one
 *    records the requests so that the example can show and check them;
 *  - its buffer objects, each embedding a struct gvm_obj that says where the
 *    BO's pages are (struct gvm_obj_ops).
 *
 * Then it binds: an array of map/unmap requests is one transaction, prepared
 * (everything allocated and checked, nothing changed), committed (cannot fail,
 * allocates nothing: the part a driver runs in its fence-signalling path) and
 * cleaned up. A transaction that fails in prepare leaves the VM as it was.
 * The example also binds a repeat (sparse-style) range, unmaps everything and
 * tears the VM down with no table page, VA or BO reference left behind, and
 * checks each step's translations with pt_walk(), as the GPU would see them.
 *
 * Built and run by the test suite (meson test example-driver-embed), so it
 * cannot rot. Build your own against an installed gpuvm with
 *   cc driver.c $(pkg-config --cflags --libs gpuvm-core)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <gpuvm/gvm.h>
#include <gpuvm/print_file.h>
#include <gpuvm/pt.h>

#define PAGE 4096ull
#define SZ_64K 0x10000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

/* The example stops at the first check that does not hold. */
#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "driver-embed: line %d: %s\n", __LINE__, #cond); \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

/* ---- Table memory: the driver's arena of table pages ---- */

#define ARENA_PAGES 64
#define ARENA_PA 0x10000000ull /* where the GPU sees the arena */

struct arena {
	unsigned char *cpu;
	bool used[ARENA_PAGES];
	unsigned int in_use;
};

/* Table pages come whole: pgtable asks for at most one page, page aligned, here. */
static int arena_alloc(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	struct arena *a = ctx;

	if (size > PAGE || align > PAGE)
		return -EINVAL;
	for (unsigned int i = 0; i < ARENA_PAGES; i++) {
		if (a->used[i])
			continue;
		a->used[i] = true;
		a->in_use++;
		out->cpu = a->cpu + i * PAGE;
		out->pa = ARENA_PA + i * PAGE;
		return 0;
	}
	return -ENOMEM;
}

static void arena_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct arena *a = ctx;
	unsigned int i = (unsigned int)((mem->pa - ARENA_PA) / PAGE);

	(void)size;
	(void)align;
	CHECK(a->used[i]);
	a->used[i] = false;
	a->in_use--;
}

static const struct pt_alloc_ops arena_ops = {
	.alloc = arena_alloc,
	.free = arena_free,
};

/* ---- Flush ops: what the GPU's TLB is told to forget ---- */

#define MAX_FLUSHES 32

struct flush_rec {
	uint64_t va, size;
	bool leaf_only;
};

struct flush_log {
	unsigned int n, all;
	struct flush_rec range[MAX_FLUSHES];
};

static void flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct flush_log *log = ctx;

	if (log->n < MAX_FLUSHES)
		log->range[log->n] = (struct flush_rec){ va, size, leaf_only };
	log->n++;
}

static void flush_all(void *ctx)
{
	struct flush_log *log = ctx;

	log->all++;
}

static const struct pt_flush_ops flush_ops = {
	.flush_range = flush_range,
	.flush_all = flush_all,
};

/* Was [@va, @va + @size) flushed, by one range or by a flush of everything? */
static bool flushed(const struct flush_log *log, uint64_t va, uint64_t size)
{
	for (unsigned int i = 0; i < log->n && i < MAX_FLUSHES; i++)
		if (log->range[i].va <= va && va + size <= log->range[i].va + log->range[i].size)
			return true;
	return log->all > 0;
}

static void print_flushes(const char *step, struct flush_log *log)
{
	printf("%s: %u flush request(s)\n", step, log->n + log->all);
	for (unsigned int i = 0; i < log->n && i < MAX_FLUSHES; i++)
		printf("  flush [0x%" PRIx64 ", 0x%" PRIx64 ")%s\n", log->range[i].va,
		       log->range[i].va + log->range[i].size,
		       log->range[i].leaf_only ? " leaves only" : "");
	if (log->all)
		printf("  flush all (x%u)\n", log->all);
	*log = (struct flush_log){ 0 };
}

/* ---- Buffer objects: physically contiguous here, at a fixed PA ---- */

struct drv_bo {
	struct gvm_obj obj; /* gvm's view of the BO */
	uint64_t pa;
	unsigned int refs; /* one per VA that maps it */
};

static struct drv_bo *to_bo(struct gvm_obj *obj)
{
	return (struct drv_bo *)((char *)obj - offsetof(struct drv_bo, obj));
}

static int bo_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	*pa = to_bo(obj)->pa + offset;
	*contig = obj->size - offset;
	return 0;
}

static void bo_get(struct gvm_obj *obj)
{
	to_bo(obj)->refs++;
}

static void bo_put(struct gvm_obj *obj)
{
	to_bo(obj)->refs--;
}

static const struct gvm_obj_ops bo_ops = { .phys = bo_phys, .get = bo_get, .put = bo_put };

static void bo_init(struct drv_bo *bo, uint64_t pa, uint64_t size)
{
	bo->pa = pa;
	bo->refs = 0;
	CHECK(gvm_obj_init(&bo->obj, &bo_ops, size) == 0);
}

/* ---- Checking translations as the GPU would walk them ---- */

static void expect_pa(struct pt *pt, uint64_t va, uint64_t pa, uint64_t leaf_size)
{
	struct pt_walk_result res;

	CHECK(pt_walk(pt, va, &res) == 0);
	CHECK(res.pa == pa);
	CHECK(res.leaf_size == leaf_size);
}

static void expect_unmapped(struct pt *pt, uint64_t va)
{
	struct pt_walk_result res;

	CHECK(pt_walk(pt, va, &res) == -ENOENT);
}

static uint64_t nr_vas(struct gvm *vm)
{
	struct gvm_stats st;

	gvm_get_stats(vm, &st);
	return st.vas;
}

static struct gvm_req map_req(struct drv_bo *bo, uint64_t offset, uint64_t va, uint64_t size,
			      uint32_t prot)
{
	return (struct gvm_req){ .type = GVM_REQ_MAP,
				 .va = va,
				 .size = size,
				 .obj = &bo->obj,
				 .offset = offset,
				 .prot = prot };
}

static struct gvm_req unmap_req(uint64_t va, uint64_t size)
{
	return (struct gvm_req){ .type = GVM_REQ_UNMAP, .va = va, .size = size };
}

/* ---- The driver ---- */

/* Userspace gets the low half of the 48-bit space; the kernel keeps the top. */
#define VA_BITS 48
#define KERNEL_VA (1ull << (VA_BITS - 1))
#define RW (PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE)

#define VA_A 0x200000000ull /* 2M aligned: BO A gets 2M blocks */
#define VA_B 0x100000ull
#define VA_SPARSE SZ_1G

struct driver {
	struct arena arena;
	struct flush_log flushes;
	struct pt_cfg pt_cfg;
	struct gvm *vm;
	struct pt *pt;
	struct drv_bo a, b, dummy;
};

/* A VM over the driver's arena and flush ops, with the paging backend. */
static void vm_create(struct driver *d)
{
	static const struct gvm_range kernel = { KERNEL_VA, 1ull << VA_BITS };
	struct gvm_cfg cfg = {
		.start = 0,
		.end = 1ull << VA_BITS,
		.page_lg2 = 12,
		.reserved = &kernel,
		.nr_reserved = 1,
		.backend = &gvm_backend_paging,
		.backend_cfg = &d->pt_cfg,
	};
	struct pt_hw_regs regs;

	d->arena.cpu = aligned_alloc(PAGE, ARENA_PAGES * PAGE);
	CHECK(d->arena.cpu);
	d->pt_cfg = (struct pt_cfg){
		.fmt = PT_FMT_MALI_AARCH64,
		.granule_lg2 = 12,
		.ias = VA_BITS,
		.oas = 40,
		.coherent_walk = true, /* an I/O-coherent GPU: no cache maintenance ops */
		.alloc = &arena_ops,
		.alloc_ctx = &d->arena,
		.flush = &flush_ops,
		.flush_ctx = &d->flushes,
	};
	CHECK(gvm_create(&cfg, &d->vm) == 0);
	d->pt = gvm_get_pt(d->vm);
	pt_get_regs(d->pt, &regs);
	printf("VM created: TRANSTAB 0x%" PRIx64 " (the arena's first page), %u table page(s)\n",
	       regs.mali.transtab, d->arena.in_use);
	CHECK((regs.mali.transtab & ~(PAGE - 1)) == ARENA_PA);
}

/*
 * One transaction of three requests: BO A (4 MiB) at VA_A, BO B (64 KiB) at
 * VA_B, and a hole punched in A's first page but one. Prepare allocates the
 * tables all three need; commit applies them; cleanup returns what was not
 * used.
 */
static void bind_array(struct driver *d)
{
	const struct gvm_req reqs[] = {
		map_req(&d->a, 0, VA_A, 2 * SZ_2M, RW),
		map_req(&d->b, 0, VA_B, SZ_64K, PT_PROT_READ | PT_PROT_CACHE),
		unmap_req(VA_A + PAGE, PAGE),
	};
	struct gvm_txn *txn;
	unsigned int failed;

	CHECK(gvm_bind_prepare(d->vm, reqs, 3, &txn, &failed) == 0);
	CHECK(nr_vas(d->vm) == 0 && d->flushes.n == 0); /* prepared, not applied */
	printf("prepared: %u table page(s) in use or reserved\n", d->arena.in_use);
	gvm_bind_commit(txn); /* a driver's fence-signalling path: cannot fail */
	gvm_bind_cleanup(txn);
	CHECK(flushed(&d->flushes, VA_A, 2 * SZ_2M) && flushed(&d->flushes, VA_B, SZ_64K));
	print_flushes("bind array", &d->flushes);

	/* A is cut in two around the hole; its second 2M stays one block. */
	CHECK(nr_vas(d->vm) == 3 && d->a.refs == 2 && d->b.refs == 1);
	expect_pa(d->pt, VA_A, d->a.pa, PAGE);
	expect_unmapped(d->pt, VA_A + PAGE);
	expect_pa(d->pt, VA_A + 2 * PAGE + 8, d->a.pa + 2 * PAGE + 8, PAGE);
	expect_pa(d->pt, VA_A + SZ_2M + 0x1234, d->a.pa + SZ_2M + 0x1234, SZ_2M);
	expect_pa(d->pt, VA_B + SZ_64K - 1, d->b.pa + SZ_64K - 1, PAGE);
	printf("bound: %" PRIu64 " VAs, %u table page(s)\n", nr_vas(d->vm), d->arena.in_use);
}

/*
 * A transaction whose second request maps past the end of BO B fails in
 * prepare: the first request is not applied either, and every table page
 * prepare took is back in the arena.
 */
static void bind_array_fails(struct driver *d)
{
	const struct gvm_req reqs[] = {
		map_req(&d->b, 0, 0x300000, SZ_64K, RW),
		map_req(&d->b, 0x8000, 0x400000, SZ_64K, RW), /* 32 KiB past B's end */
	};
	unsigned int pages = d->arena.in_use, failed = 0;
	struct gvm_txn *txn = NULL;

	CHECK(gvm_bind_prepare(d->vm, reqs, 2, &txn, &failed) == -EINVAL);
	CHECK(failed == 1);
	CHECK(d->arena.in_use == pages && nr_vas(d->vm) == 3 && d->b.refs == 1);
	CHECK(d->flushes.n == 0 && d->flushes.all == 0);
	expect_unmapped(d->pt, 0x300000);
	expect_pa(d->pt, VA_B, d->b.pa, PAGE);
	CHECK(gvm_validate(d->vm, gpuvm_print_file, stderr) == 0 &&
	      pt_validate(d->pt, gpuvm_print_file, stderr) == 0);
	printf("failed array: request %u refused (-EINVAL), VM unchanged\n", failed);
}

/*
 * A repeat bind: one dummy page over 1 GiB and 16 pages, as a sparse
 * binding needs. Tables whose items all map the same pages are shared, so
 * the whole range takes a handful of table pages instead of 513.
 */
static void bind_repeat(struct driver *d)
{
	struct gvm_req req = map_req(&d->dummy, 0, VA_SPARSE, SZ_1G + 16 * PAGE, RW);
	unsigned int pages = d->arena.in_use, failed;

	req.repeat = PAGE;
	CHECK(gvm_bind(d->vm, &req, 1, &failed) == 0);
	CHECK(flushed(&d->flushes, VA_SPARSE, SZ_1G + 16 * PAGE));
	print_flushes("repeat bind", &d->flushes);
	expect_pa(d->pt, VA_SPARSE, d->dummy.pa, PAGE);
	expect_pa(d->pt, VA_SPARSE + 0x12345678, d->dummy.pa + 0x678, PAGE);
	expect_pa(d->pt, VA_SPARSE + SZ_1G + 15 * PAGE, d->dummy.pa, PAGE);
	expect_unmapped(d->pt, VA_SPARSE + SZ_1G + 16 * PAGE);
	printf("repeat: 1 GiB + 16 pages of one page in %u new table page(s)\n",
	       d->arena.in_use - pages);
	CHECK(d->arena.in_use - pages <= 6 && d->dummy.refs == 1);
}

/* Unmap everything in one transaction: the tables empty and go back to the arena. */
static void unmap_all(struct driver *d)
{
	const struct gvm_req reqs[] = {
		unmap_req(VA_A, 2 * SZ_2M),
		unmap_req(VA_B, SZ_64K),
		unmap_req(VA_SPARSE, SZ_1G + 16 * PAGE),
	};
	unsigned int failed;

	CHECK(gvm_bind(d->vm, reqs, 3, &failed) == 0);
	CHECK(flushed(&d->flushes, VA_A + SZ_2M, SZ_2M) && flushed(&d->flushes, VA_B, SZ_64K));
	print_flushes("unmap all", &d->flushes);
	CHECK(nr_vas(d->vm) == 0 && d->a.refs == 0 && d->b.refs == 0 && d->dummy.refs == 0);
	expect_unmapped(d->pt, VA_A + SZ_2M);
	expect_unmapped(d->pt, VA_B);
	expect_unmapped(d->pt, VA_SPARSE);
	CHECK(d->arena.in_use == 1); /* the root table only */
	CHECK(gvm_validate(d->vm, gpuvm_print_file, stderr) == 0 &&
	      pt_validate(d->pt, gpuvm_print_file, stderr) == 0);
}

/* Destroy the VM: no table page, VA or BO reference is left. */
static void teardown(struct driver *d)
{
	gvm_destroy(d->vm);
	CHECK(d->arena.in_use == 0);
	CHECK(gvm_obj_fini(&d->a.obj) == 0);
	CHECK(gvm_obj_fini(&d->b.obj) == 0);
	CHECK(gvm_obj_fini(&d->dummy.obj) == 0);
	free(d->arena.cpu);
	printf("torn down: 0 table pages, 0 BO references\n");
}

int main(void)
{
	static struct driver d;

	bo_init(&d.a, 0x80000000, 2 * SZ_2M);
	bo_init(&d.b, 0x90000000, SZ_64K);
	bo_init(&d.dummy, 0xa0000000, PAGE);
	vm_create(&d);
	bind_array(&d);
	bind_array_fails(&d);
	bind_repeat(&d);
	unmap_all(&d);
	teardown(&d);
	return 0;
}
