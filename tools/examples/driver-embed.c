// SPDX-License-Identifier: MIT
/*
 * How a GPU driver embeds gpuvm's VA manager (gpuvm/gvm.h) and page tables
 * (gpuvm/pt.h). The driver brings four things, in driver-hw.c:
 *
 *  - table memory: its own arena of table pages, handed to pgtable through
 *    struct pt_alloc_ops (a kernel driver would allocate DMA pages here);
 *  - sync ops: this GPU's MMU does not snoop the CPU's caches, so what
 *    pgtable writes reaches the MMU only when the sync op cleans it to
 *    memory. The arena is kept twice, what the CPU wrote (its cache) and what
 *    the GPU reads (memory, written by the sync op only), and the checks
 *    walk the GPU's copy as the MMU would: a missing sync shows;
 *  - flush ops: pgtable says which VA ranges the GPU's TLB must forget; a
 *    driver would lock the region and issue the MMU's flush command, this one
 *    logs the requests and checks that memory holds every table by then;
 *  - its buffer objects, each embedding a struct gvm_obj that says where the
 *    BO's pages are (struct gvm_obj_ops).
 *
 * This file binds. An array of map/unmap requests is one transaction,
 * prepared (everything allocated and checked, nothing changed), committed
 * (cannot fail, allocates nothing: the part a driver runs in its
 * fence-signalling path) and cleaned up; one that fails in prepare leaves
 * the VM as it was. Transactions queue as an asynchronous bind queue's jobs
 * do: several prepared before the first commit, committed in order, the
 * newest given up. A sparse resource is one dummy page repeated over its
 * range, with real pages bound and unbound inside it. Everything is unmapped
 * and the VM torn down with no table page, VA or BO reference left behind.
 * Each step's translations are checked as the GPU sees them (driver-hw.c's
 * walk of memory) and as pt_walk() sees them.
 *
 * Built and run by the test suite (meson test example-driver-embed), and
 * built against the installed gpuvm-core.pc (meson test install-core), so it
 * cannot rot. Build your own against an installed gpuvm with
 *   cc driver.c driver-hw.c $(pkg-config --cflags --libs gpuvm-core)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <gpuvm/gvm.h>
#include <gpuvm/print_file.h>
#include <gpuvm/pt.h>

#include "driver-hw.h"

/* ---- The driver ---- */

struct driver {
	struct arena arena;
	struct flush_log flushes;
	struct pt_cfg pt_cfg;
	struct gvm *vm;
	struct pt *pt;
	struct drv_bo a, b, dummy;
};

/* ---- Checking translations: the GPU's walk, and pt_walk() on the CPU's copy ---- */

static void expect_pa(const struct driver *d, uint64_t va, uint64_t pa, uint64_t leaf_size)
{
	struct pt_walk_result gpu, cpu;

	CHECK(gpu_walk(d->pt, &d->arena, va, &gpu) == 0);
	CHECK(gpu.pa == pa && gpu.leaf_size == leaf_size);
	CHECK(pt_walk(d->pt, va, &cpu) == 0);
	CHECK(cpu.pa == pa && cpu.leaf_size == leaf_size && cpu.prot == gpu.prot);
}

static void expect_unmapped(const struct driver *d, uint64_t va)
{
	struct pt_walk_result res;

	CHECK(gpu_walk(d->pt, &d->arena, va, &res) == -ENOENT);
	CHECK(pt_walk(d->pt, va, &res) == -ENOENT);
}

static uint64_t nr_vas(struct gvm *vm)
{
	struct gvm_stats st;

	gvm_get_stats(vm, &st);
	return st.vas;
}

static void validate(const struct driver *d)
{
	check_synced(d->pt, &d->arena);
	CHECK(gvm_validate(d->vm, gpuvm_print_file, stderr) == 0 &&
	      pt_validate(d->pt, gpuvm_print_file, stderr) == 0);
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

/* Bind one request at once, and see its range flushed. */
static void bind_one(struct driver *d, const struct gvm_req *req, const char *what)
{
	unsigned int failed;

	CHECK(gvm_bind(d->vm, req, 1, &failed) == 0);
	CHECK(flushed(&d->flushes, req->va, req->size));
	print_flushes(what, &d->flushes);
}

/* Userspace gets the low half of the 48-bit space; the kernel keeps the top. */
#define VA_BITS 48
#define KERNEL_VA (1ull << (VA_BITS - 1))
#define RW (PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE)

#define VA_A 0x200000000ull /* 2M aligned: BO A gets 2M blocks */
#define VA_B 0x100000ull
#define VA_QUEUE 0x400000000ull  /* the bind queue's jobs */
#define VA_CANCEL 0x600000000ull /* the job given up */
#define VA_SPARSE SZ_1G
#define SPARSE_SIZE (SZ_1G + 16 * PAGE)
#define VA_RESIDENT (VA_SPARSE + 0x12340000) /* 64K of the sparse range made resident */

/* A VM over the driver's arena, sync and flush ops, with the paging backend. */
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

	arena_init(&d->arena);
	d->pt_cfg = (struct pt_cfg){
		.fmt = PT_FMT_MALI_AARCH64,
		.granule_lg2 = 12,
		.ias = VA_BITS,
		.oas = 40,
		.coherent_walk = false, /* the MMU reads memory: the sync op cleans to it */
		.alloc = &arena_ops,
		.alloc_ctx = &d->arena,
		.flush = &flush_ops,
		.flush_ctx = &d->flushes,
		.sync = &arena_sync_ops,
		.sync_ctx = &d->arena,
	};
	CHECK(gvm_create(&cfg, &d->vm) == 0);
	d->pt = gvm_get_pt(d->vm);
	d->flushes = (struct flush_log){ .pt = d->pt, .arena = &d->arena };
	printf("VM created: TRANSTAB 0x%" PRIx64 " (the arena's first page), %u table page(s)\n",
	       gpu_root(d->pt), d->arena.in_use);
	CHECK(gpu_root(d->pt) == ARENA_PA);
	check_synced(d->pt, &d->arena); /* the empty root reached memory */
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
	expect_unmapped(d, VA_A);
	printf("prepared: %u table page(s) in use or reserved\n", d->arena.in_use);
	CHECK(gvm_bind_commit(txn) == 0); /* a driver's fence-signalling path: cannot fail */
	CHECK(gvm_bind_cleanup(txn) == 0);
	CHECK(flushed(&d->flushes, VA_A, 2 * SZ_2M) && flushed(&d->flushes, VA_B, SZ_64K));
	print_flushes("bind array", &d->flushes);

	/* A is cut in two around the hole; its second 2M stays one block. */
	CHECK(nr_vas(d->vm) == 3 && d->a.refs == 2 && d->b.refs == 1);
	expect_pa(d, VA_A, d->a.pa, PAGE);
	expect_unmapped(d, VA_A + PAGE);
	expect_pa(d, VA_A + 2 * PAGE + 8, d->a.pa + 2 * PAGE + 8, PAGE);
	expect_pa(d, VA_A + SZ_2M + 0x1234, d->a.pa + SZ_2M + 0x1234, SZ_2M);
	expect_pa(d, VA_B + SZ_64K - 1, d->b.pa + SZ_64K - 1, PAGE);
	printf("bound: %" PRIu64 " VAs, %u table page(s), %" PRIu64 " bytes synced\n",
	       nr_vas(d->vm), d->arena.in_use, d->arena.synced);
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
	expect_unmapped(d, 0x300000);
	expect_pa(d, VA_B, d->b.pa, PAGE);
	validate(d);
	printf("failed array: request %u refused (-EINVAL), VM unchanged\n", failed);
}

/* ---- An asynchronous bind queue ---- */

static struct gvm_txn *queue_job(struct driver *d, const struct gvm_req *req)
{
	struct gvm_txn *txn;
	unsigned int failed;

	CHECK(gvm_bind_prepare(d->vm, req, 1, &txn, &failed) == 0);
	return txn;
}

/* The job's turn came (its fences signalled): commit, then release. */
static void run_job(struct driver *d, struct gvm_txn *txn, const char *what)
{
	CHECK(gvm_bind_commit(txn) == 0);
	CHECK(gvm_bind_cleanup(txn) == 0);
	CHECK(d->flushes.n + d->flushes.all > 0);
	print_flushes(what, &d->flushes);
}

/*
 * A job cancelled before it ran (its in-fence failed): the newest prepared
 * transaction is given up, and the table pages it reserved go back.
 */
static void cancel_job(struct driver *d)
{
	const struct gvm_req req = map_req(&d->b, 0, VA_CANCEL, SZ_64K, RW);
	unsigned int pages = d->arena.in_use, brefs = d->b.refs;
	struct gvm_txn *txn = queue_job(d, &req);

	CHECK(d->arena.in_use > pages); /* its tables, reserved */
	CHECK(gvm_bind_cleanup(txn) == 0);
	CHECK(d->arena.in_use == pages && d->b.refs == brefs);
	CHECK(d->flushes.n == 0 && d->flushes.all == 0);
	expect_unmapped(d, VA_CANCEL);
}

/*
 * As behind VM_BIND with fences: the driver prepares each job's transaction
 * when the job is queued (everything that can fail happens in the ioctl) and
 * commits it when the job's turn comes. Three jobs are queued before the
 * first runs, each prepared against what those before it will leave:
 *   1. map A (4 MiB: two 2M blocks) at VA_QUEUE;
 *   2. map B over the first 64 KiB of A's second block: the block must be
 *      split, which only job 1's projected state shows;
 *   3. unmap A's first block and B's first 32 KiB: the leaf table B's
 *      pages are in stays, with some of its pages cleared.
 * A fourth is cancelled; job 2 cannot run before job 1, nor job 1 be given
 * up while others are queued after it. Then they run in order, and the GPU
 * sees each one's effect and nothing of the jobs after it.
 */
static void bind_queue(struct driver *d)
{
	const struct gvm_req jobs[] = {
		map_req(&d->a, 0, VA_QUEUE, 2 * SZ_2M, RW),
		map_req(&d->b, 0, VA_QUEUE + SZ_2M, SZ_64K, RW),
		unmap_req(VA_QUEUE, SZ_2M + SZ_64K / 2),
	};
	struct gvm_txn *txn[3];
	uint64_t vas = nr_vas(d->vm);

	for (unsigned int i = 0; i < 3; i++)
		txn[i] = queue_job(d, &jobs[i]);
	cancel_job(d);
	/* Out of order (gvm warns once on stderr): refused, nothing changed. */
	CHECK(gvm_bind_commit(txn[1]) == -EINVAL && gvm_bind_cleanup(txn[0]) == -EINVAL);
	CHECK(nr_vas(d->vm) == vas && d->flushes.n + d->flushes.all == 0);
	expect_unmapped(d, VA_QUEUE);
	validate(d);

	run_job(d, txn[0], "queued job 1");
	expect_pa(d, VA_QUEUE, d->a.pa, SZ_2M);
	expect_pa(d, VA_QUEUE + SZ_2M, d->a.pa + SZ_2M, SZ_2M);
	run_job(d, txn[1], "queued job 2");
	expect_pa(d, VA_QUEUE, d->a.pa, SZ_2M);
	expect_pa(d, VA_QUEUE + SZ_2M, d->b.pa, PAGE);
	expect_pa(d, VA_QUEUE + SZ_2M + SZ_64K, d->a.pa + SZ_2M + SZ_64K, PAGE);
	run_job(d, txn[2], "queued job 3");
	expect_unmapped(d, VA_QUEUE);
	expect_unmapped(d, VA_QUEUE + SZ_2M + SZ_64K / 2 - PAGE);
	expect_pa(d, VA_QUEUE + SZ_2M + SZ_64K / 2, d->b.pa + SZ_64K / 2, PAGE);
	expect_pa(d, VA_QUEUE + 2 * SZ_2M - PAGE, d->a.pa + 2 * SZ_2M - PAGE, PAGE);
	CHECK(nr_vas(d->vm) == vas + 2 && d->a.refs == 3 && d->b.refs == 2);
	validate(d);
}

/* ---- A sparse resource (Vulkan sparse residency) ---- */

/* Bind [@va, @va + @size) to the dummy page. */
static struct gvm_req dummy_req(struct driver *d, uint64_t va, uint64_t size)
{
	struct gvm_req req = map_req(&d->dummy, 0, va, size, RW);

	req.repeat = PAGE;
	return req;
}

static void expect_dummy(const struct driver *d, uint64_t va)
{
	expect_pa(d, va, d->dummy.pa + (va & (PAGE - 1)), PAGE);
}

/*
 * The resource is created with its whole range (1 GiB and 16 pages) bound to
 * one dummy page, so that an access to a page not resident reads the dummy
 * instead of faulting. Tables whose items all map the same page are shared:
 * the range takes a handful of table pages instead of 513.
 */
static void sparse_create(struct driver *d)
{
	const struct gvm_req req = dummy_req(d, VA_SPARSE, SPARSE_SIZE);
	unsigned int pages = d->arena.in_use;

	bind_one(d, &req, "sparse resource");
	expect_dummy(d, VA_SPARSE);
	expect_dummy(d, VA_SPARSE + 0x12345678);
	expect_dummy(d, VA_SPARSE + SPARSE_SIZE - 1);
	expect_unmapped(d, VA_SPARSE + SPARSE_SIZE);
	printf("sparse: 1 GiB + 16 pages of one page in %u new table page(s)\n",
	       d->arena.in_use - pages);
	CHECK(d->arena.in_use - pages <= 6 && d->dummy.refs == 1);
}

/*
 * 64 KiB made resident: B's pages replace the dummy there, the dummy's VA is
 * cut in two around them, and the shared tables on that path are copied
 * first, so that every other alias still reads the dummy.
 */
static void sparse_bind(struct driver *d)
{
	const struct gvm_req req = map_req(&d->b, 0, VA_RESIDENT, SZ_64K, RW);
	unsigned int brefs = d->b.refs;

	bind_one(d, &req, "sparse bind");
	expect_pa(d, VA_RESIDENT, d->b.pa, PAGE);
	expect_pa(d, VA_RESIDENT + SZ_64K - 8, d->b.pa + SZ_64K - 8, PAGE);
	expect_dummy(d, VA_RESIDENT - 8);
	expect_dummy(d, VA_RESIDENT + SZ_64K);
	expect_dummy(d, VA_RESIDENT + SZ_2M); /* the same item, one table over */
	expect_dummy(d, VA_RESIDENT - SZ_2M);
	CHECK(d->b.refs == brefs + 1 && d->dummy.refs == 2);
	validate(d);
}

/* And made not resident again: the dummy goes back, B's reference goes. */
static void sparse_unbind(struct driver *d)
{
	const struct gvm_req req = dummy_req(d, VA_RESIDENT, SZ_64K);
	unsigned int brefs = d->b.refs;

	bind_one(d, &req, "sparse unbind");
	expect_dummy(d, VA_RESIDENT);
	expect_dummy(d, VA_RESIDENT + SZ_64K - 8);
	expect_dummy(d, VA_RESIDENT + SZ_64K);
	CHECK(d->b.refs == brefs - 1 && d->dummy.refs == 3);
	validate(d);
}

/*
 * B's first mapping goes alone: its leaf table and the table above it hold
 * nothing else, so both are unlinked and go back to the arena at once.
 */
static void unbind_b(struct driver *d)
{
	const struct gvm_req req = unmap_req(VA_B, SZ_64K);
	unsigned int pages = d->arena.in_use;

	bind_one(d, &req, "unbind B");
	expect_unmapped(d, VA_B);
	CHECK(d->arena.in_use == pages - 2);
	validate(d);
}

/* Unmap the rest in one transaction: the tables empty and go back to the arena. */
static void unmap_all(struct driver *d)
{
	const struct gvm_req reqs[] = {
		unmap_req(VA_A, 2 * SZ_2M),
		unmap_req(VA_QUEUE, 2 * SZ_2M),
		unmap_req(VA_SPARSE, SPARSE_SIZE),
	};
	unsigned int failed;

	CHECK(gvm_bind(d->vm, reqs, 3, &failed) == 0);
	CHECK(flushed(&d->flushes, VA_A + SZ_2M, SZ_2M) &&
	      flushed(&d->flushes, VA_QUEUE + SZ_2M, SZ_2M));
	print_flushes("unmap all", &d->flushes);
	CHECK(nr_vas(d->vm) == 0 && d->a.refs == 0 && d->b.refs == 0 && d->dummy.refs == 0);
	expect_unmapped(d, VA_A + SZ_2M);
	expect_unmapped(d, VA_QUEUE + SZ_2M);
	expect_unmapped(d, VA_RESIDENT);
	CHECK(d->arena.in_use == 1); /* the root table only */
	validate(d);
}

/* Destroy the VM: no table page, VA or BO reference is left. */
static void teardown(struct driver *d)
{
	d->flushes.pt = NULL; /* the tables go: nothing left to walk */
	gvm_destroy(d->vm);
	CHECK(d->arena.in_use == 0);
	CHECK(gvm_obj_fini(&d->a.obj) == 0);
	CHECK(gvm_obj_fini(&d->b.obj) == 0);
	CHECK(gvm_obj_fini(&d->dummy.obj) == 0);
	arena_fini(&d->arena);
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
	bind_queue(&d);
	sparse_create(&d);
	sparse_bind(&d);
	sparse_unbind(&d);
	unbind_b(&d);
	unmap_all(&d);
	teardown(&d);
	return 0;
}
