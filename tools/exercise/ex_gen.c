// SPDX-License-Identifier: MIT
/*
 * The workload of gpuvm-exercise: random steps drawn from the seed, or steps
 * read from a script. Both produce struct ex_step, and ex_step_print() writes
 * a step back in script syntax, so a random run can be saved and edited.
 *
 * DOC: script syntax
 *
 * One step per line; '#' starts a comment; numbers are C literals (0x...)
 * with an optional K, M or G suffix. VM and BO are indices from 0 (VMs and
 * BOs are those of --files/--vms/--bos; BO n belongs to file n % files and is
 * shared with the others).
 *
 *   map VM BO BO_OFFSET VA SIZE [ro] [noexec] [uncached]
 *   repeat VM BO BO_OFFSET RANGE VA SIZE [ro] [noexec] [uncached]
 *   sparse VM VA SIZE [ro] [uncached]          (NOEXEC is implied)
 *   unmap VM VA SIZE
 *   OP ; OP ; ...                              one VM_BIND of several ops
 *   async OP ; OP ; ...                        ASYNC binds chained on a timeline
 *   expect VM VA fault|sparse|BO:OFFSET        what the GPU must read at VA
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ex.h"

#define WINDOW_BASE (16ull << 20) /* most ops land in [16M, 80M): they collide */
#define WINDOW_SIZE (64ull << 20)
#define FAR_BASE (1ull << 30) /* big sparse ranges */

void ex_gen_bos(struct ex *ex, uint64_t *sizes, unsigned int n)
{
	/*
	 * The first BO of each file is 4 MiB, created first: the mock lays BOs
	 * out in physical memory in creation order from a 2 MiB-aligned base,
	 * so these are 2 MiB-aligned and can be mapped with 2 MiB blocks.
	 */
	for (unsigned int b = 0; b < n; b++)
		sizes[b] = b < ex->cfg.files ? 2 * EX_BLOCK :
					       (1 + ex_below(&ex->rng, 256)) * EX_PAGE;
}

static uint64_t pages(uint64_t *rng, uint64_t max)
{
	/* Mostly small, sometimes large: small ops split and merge more. */
	uint64_t n = ex_below(rng, 4) ? 1 + ex_below(rng, 16) : 1 + ex_below(rng, max);

	return (n < max ? n : max) * EX_PAGE;
}

static uint64_t window_va(uint64_t *rng, uint64_t size, uint64_t align)
{
	uint64_t slots = (WINDOW_SIZE - size) / align;

	return WINDOW_BASE + ex_below(rng, slots + 1) * align;
}

static uint32_t map_flags(uint64_t *rng)
{
	uint32_t f = 0;

	f |= ex_below(rng, 5) == 0 ? EX_RO : 0;
	f |= ex_below(rng, 3) == 0 ? EX_NOEXEC : 0;
	f |= ex_below(rng, 10) == 0 ? EX_UNCACHED : 0;
	return f;
}

static void gen_map(struct ex *ex, struct ex_op *op)
{
	unsigned int b = (unsigned int)ex_below(&ex->rng, ex->nr_bos);
	uint64_t bo_pages = ex->bo[b].size / EX_PAGE;

	op->kind = EX_MAP;
	op->bo = b;
	op->size = pages(&ex->rng, bo_pages < 128 ? bo_pages : 128);
	op->bo_offset = ex_below(&ex->rng, bo_pages - op->size / EX_PAGE + 1) * EX_PAGE;
	op->va = window_va(&ex->rng, op->size, EX_PAGE);
	op->flags = map_flags(&ex->rng);
}

/* 2 MiB-aligned VA, BO offset and size: the table builder uses blocks. */
static void gen_block(struct ex *ex, struct ex_op *op)
{
	unsigned int b = (unsigned int)ex_below(&ex->rng, ex->cfg.files);

	op->kind = EX_MAP;
	op->bo = b;
	op->size = EX_BLOCK * (1 + ex_below(&ex->rng, 2));
	op->bo_offset = op->size == ex->bo[b].size ? 0 : EX_BLOCK * ex_below(&ex->rng, 2);
	op->va = window_va(&ex->rng, op->size, EX_BLOCK);
	op->flags = map_flags(&ex->rng);
}

static void gen_sparse(struct ex *ex, struct ex_op *op)
{
	op->kind = EX_SPARSE;
	op->flags = EX_NOEXEC | (ex_below(&ex->rng, 4) ? 0 : EX_RO);
	if (ex_below(&ex->rng, 4)) {
		op->size = pages(&ex->rng, 1024);
		op->va = window_va(&ex->rng, op->size, EX_PAGE);
	} else {
		/* Hundreds of MiB of one page: shared tables. */
		op->size = (64 + ex_below(&ex->rng, 512)) << 20;
		op->va = FAR_BASE + ex_below(&ex->rng, 1024) * EX_BLOCK;
	}
}

static void gen_repeat(struct ex *ex, struct ex_op *op)
{
	unsigned int b = (unsigned int)ex_below(&ex->rng, ex->nr_bos);
	uint64_t bo_pages = ex->bo[b].size / EX_PAGE;

	op->kind = EX_REPEAT;
	op->bo = b;
	op->range = (1 + ex_below(&ex->rng, bo_pages < 4 ? bo_pages : 4)) * EX_PAGE;
	op->bo_offset = ex_below(&ex->rng, bo_pages - op->range / EX_PAGE + 1) * EX_PAGE;
	op->size = op->range * (2 + ex_below(&ex->rng, 63));
	op->va = window_va(&ex->rng, op->size, EX_PAGE);
	op->flags = map_flags(&ex->rng);
}

static void gen_unmap(struct ex *ex, struct ex_op *op)
{
	op->kind = EX_UNMAP;
	op->size = pages(&ex->rng, 1024);
	op->va = window_va(&ex->rng, op->size, EX_PAGE);
}

/* Unmap a piece strictly inside a mapped extent, when there is one to punch. */
static void gen_hole(struct ex *ex, unsigned int vm, struct ex_op *op)
{
	struct ex_model *m = ex->vm[vm].model;
	unsigned int n = ex_model_count(m);
	struct ex_op x;

	gen_unmap(ex, op);
	if (!n || ex_model_extent(m, (unsigned int)ex_below(&ex->rng, n), &x) ||
	    x.size < 3 * EX_PAGE)
		return;
	op->va = x.va + (1 + ex_below(&ex->rng, x.size / EX_PAGE - 2)) * EX_PAGE;
	op->size = (1 + ex_below(&ex->rng, (x.va + x.size - op->va) / EX_PAGE - 1)) * EX_PAGE;
}

/* One op of a random kind that any step may hold. */
static void gen_op(struct ex *ex, unsigned int vm, struct ex_op *op)
{
	unsigned int r = (unsigned int)ex_below(&ex->rng, 100);

	memset(op, 0, sizeof(*op));
	if (r < 40)
		gen_map(ex, op);
	else if (r < 52)
		gen_hole(ex, vm, op);
	else if (r < 64)
		gen_unmap(ex, op);
	else if (r < 76)
		gen_block(ex, op);
	else if (r < 88)
		gen_sparse(ex, op);
	else
		gen_repeat(ex, op);
	/*
	 * A real panthor has no repeat binds (ours) and sparse ones only from
	 * uapi 1.9: plain maps there.
	 */
	if (!ex->mock && (op->kind == EX_REPEAT || op->kind == EX_SPARSE))
		gen_map(ex, op);
}

/*
 * An async chain must be valid op by op (an invalid bind would leave the rest
 * of the chain waiting for a point nobody signals): each op is drawn again
 * until the layout the earlier ops leave (simulated in ex->scratch) takes it.
 */
static void gen_chain(struct ex *ex, struct ex_step *step)
{
	unsigned int n = 0;

	if (ex_model_copy(ex->scratch, ex->vm[step->vm].model))
		return;
	for (unsigned int i = 0; i < step->nr_ops; i++) {
		for (unsigned int try = 0; try < 8; try++) {
			gen_op(ex, step->vm, &step->ops[n]);
			if (ex_model_allows(ex->scratch, &step->ops[n]) &&
			    !ex_model_apply(ex->scratch, &step->ops[n])) {
				n++;
				break;
			}
		}
	}
	step->nr_ops = n;
	if (n < 2)
		step->kind = EX_STEP_SYNC;
}

void ex_gen_step(struct ex *ex, struct ex_step *step)
{
	unsigned int r = (unsigned int)ex_below(&ex->rng, 100);

	memset(step, 0, sizeof(*step));
	step->vm = (unsigned int)ex_below(&ex->rng, ex->nr_vms);
	step->kind = EX_STEP_SYNC;
	step->nr_ops = 1;
	if (r >= 70 && r < 80) {
		step->nr_ops = 2 + (unsigned int)ex_below(&ex->rng, 3);
	} else if (r >= 80 && r < 92) {
		step->kind = EX_STEP_ASYNC;
		step->nr_ops = 2 + (unsigned int)ex_below(&ex->rng, 4);
	} else if (r >= 92) {
		step->kind = EX_STEP_INVALID;
		step->nr_ops = 1 + (unsigned int)ex_below(&ex->rng, 3);
		step->bad_op = (unsigned int)ex_below(&ex->rng, step->nr_ops);
		step->bad_kind = (unsigned int)ex_below(&ex->rng, EX_BAD_COUNT);
	}
	if (step->kind == EX_STEP_ASYNC) {
		gen_chain(ex, step);
		return;
	}
	for (unsigned int i = 0; i < step->nr_ops; i++)
		gen_op(ex, step->vm, &step->ops[i]);
	/* Breaking a BO range or a size needs a MAP. */
	if (step->kind == EX_STEP_INVALID && step->ops[step->bad_op].kind != EX_MAP)
		gen_map(ex, &step->ops[step->bad_op]);
}

uint64_t ex_gen_probe(struct ex *ex)
{
	return window_va(&ex->rng, EX_PAGE, EX_PAGE);
}
