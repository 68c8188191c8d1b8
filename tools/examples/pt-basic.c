// SPDX-License-Identifier: MIT
/*
 * The smallest complete use of gpuvm's page tables: a Mali AArch64 table over
 * the default pool, with flush ops that a driver would point at its MMU.
 * Built and run by the test suite, so it cannot rot.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <gpuvm/print_file.h>
#include <gpuvm/pt.h>
#include <gpuvm/pt_pool.h>

/* A driver would lock the region and flush the GPU's TLB here. */
static void flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	(void)ctx;
	printf("flush [0x%" PRIx64 ", 0x%" PRIx64 ")%s\n", va, va + size,
	       leaf_only ? " leaves only" : "");
}

static void flush_all(void *ctx)
{
	(void)ctx;
	printf("flush all\n");
}

static const struct pt_flush_ops flush_ops = {
	.flush_range = flush_range,
	.flush_all = flush_all,
};

int main(void)
{
	struct pt_pool_cfg pool_cfg = { .page_size = 4096 };
	struct pt_pool *pool;
	struct pt_cfg cfg = {
		.fmt = PT_FMT_MALI_AARCH64,
		.granule_lg2 = 12,
		.ias = 48,
		.oas = 40,
		.coherent_walk = true,
		.alloc = &pt_pool_ops,
		.flush = &flush_ops,
	};
	struct pt_walk_result res;
	struct pt_hw_regs regs;
	uint64_t unmapped;
	struct pt *pt;
	int err;

	if (pt_pool_create(&pool_cfg, &pool))
		return 1;
	cfg.alloc_ctx = pool;
	err = pt_create(&cfg, &pt);
	if (err)
		return 1;
	pt_get_regs(pt, &regs);
	printf("TRANSTAB 0x%" PRIx64 " MEMATTR 0x%" PRIx64 " TRANSCFG 0x%" PRIx64 "\n",
	       regs.mali.transtab, regs.mali.memattr, regs.mali.transcfg);

	/* 4 MiB: two 2M blocks, since VA and PA are both 2M aligned. */
	err = pt_map(pt, 0x1000000, 0x80000000, 4 << 20,
		     PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE);
	if (!err)
		err = pt_walk(pt, 0x1234567, &res);
	if (err)
		return 1;
	printf("0x1234567 -> 0x%" PRIx64 " (level %u leaf of 0x%" PRIx64 " bytes)\n", res.pa,
	       res.level, res.leaf_size);

	/* Punch 4K out of the first block: it is split, the rest stays mapped. */
	err = pt_unmap(pt, 0x1001000, 4096, &unmapped);
	if (err || unmapped != 4096 || pt_walk(pt, 0x1001000, &res) != -ENOENT)
		return 1;
	pt_dump(pt, gpuvm_print_file, stdout);
	pt_destroy(pt);
	pt_pool_destroy(pool);
	return 0;
}
