// SPDX-License-Identifier: MIT
#include "pt-test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpae-decode.h"

/* The pool's simulated physical range ends here (pt_pool_cfg.pa_limit 0). */
#define POOL_PA_LIMIT (1ull << 32)

static void record(struct pt_test_env *env, enum pt_test_ev_type type, uint64_t a, uint64_t b,
		   bool leaf_only)
{
	if (!env->record)
		return;
	if (env->nr_log == env->cap_log) {
		env->cap_log = env->cap_log ? 2 * env->cap_log : 1024;
		env->log = realloc(env->log, env->cap_log * sizeof(*env->log));
		if (!env->log)
			abort();
	}
	env->log[env->nr_log++] = (struct pt_test_ev){ type, a, b, leaf_only };
}

/*
 * One more allocation attempt: should it fail? Every test runs commits with
 * allocation aborting (the fence-signalling rule): an attempt inside one is a
 * bug of the library, reported and fatal.
 */
static bool inject(struct pt_test_env *env)
{
	if (pt_in_signalling()) {
		fprintf(stderr, "pt-test: allocation inside a fence-signalling section\n");
		abort();
	}
	return ++env->attempts == env->fail_at;
}

static int rec_alloc(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	struct pt_test_env *env = ctx;
	int err;

	if (inject(env))
		return -ENOMEM;
	err = pt_pool_ops.alloc(env->pool, size, align, out);
	if (!err)
		record(env, PT_EV_ALLOC, out->pa, size, false);
	return err;
}

static void rec_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct pt_test_env *env = ctx;

	record(env, PT_EV_FREE, mem->pa, size, false);
	pt_pool_ops.free(env->pool, mem, size, align);
}

static int rec_alloc_bulk(void *ctx, size_t size, size_t align, unsigned int n, struct pt_mem *out)
{
	struct pt_test_env *env = ctx;

	for (unsigned int i = 0; i < n; i++) {
		if (inject(env))
			return -ENOMEM;
	}
	if (pt_pool_ops.alloc_bulk(env->pool, size, align, n, out))
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		record(env, PT_EV_ALLOC, out[i].pa, size, false);
	return 0;
}

static const struct pt_alloc_ops rec_alloc_ops = {
	.alloc = rec_alloc,
	.free = rec_free,
	.alloc_bulk = rec_alloc_bulk,
};

static void rec_flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct pt_test_env *env = ctx;

	env->flush_ranges++;
	record(env, PT_EV_FLUSH_RANGE, va, size, leaf_only);
}

static void rec_flush_all(void *ctx)
{
	struct pt_test_env *env = ctx;

	env->flush_alls++;
	record(env, PT_EV_FLUSH_ALL, 0, 0, false);
}

static const struct pt_flush_ops rec_flush_ops = {
	.flush_range = rec_flush_range,
	.flush_all = rec_flush_all,
};

static void rec_sync(void *ctx, uint64_t pa, const void *cpu, size_t len)
{
	struct pt_test_env *env = ctx;

	(void)cpu;
	env->syncs++;
	record(env, PT_EV_SYNC, pa, len, false);
}

static const struct pt_sync_ops rec_sync_ops = {
	.sync = rec_sync,
};

static void *rec_zalloc(void *ctx, size_t size)
{
	struct pt_test_env *env = ctx;

	return inject(env) ? NULL : calloc(1, size);
}

static void rec_host_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static const struct pt_host_ops rec_host_ops = {
	.zalloc = rec_zalloc,
	.free = rec_host_free,
};

void pt_test_env_init(struct pt_test_env *env, enum pt_format fmt, unsigned int granule_lg2,
		      unsigned int ias, unsigned int oas, bool coherent)
{
	struct pt_pool_cfg pcfg = {
		.page_size = (size_t)1 << granule_lg2,
		.abort_in_signalling = true,
	};

	memset(env, 0, sizeof(*env));
	if (pt_pool_create(&pcfg, &env->pool)) {
		fprintf(stderr, "pt_pool_create failed\n");
		abort();
	}
	env->cfg = (struct pt_cfg){
		.fmt = fmt,
		.granule_lg2 = granule_lg2,
		.ias = ias,
		.oas = oas,
		.coherent_walk = coherent,
		.alloc = &rec_alloc_ops,
		.alloc_ctx = env,
		.flush = &rec_flush_ops,
		.flush_ctx = env,
		.sync = coherent ? NULL : &rec_sync_ops,
		.sync_ctx = env,
		.host = &rec_host_ops,
		.host_ctx = env,
		.debug = PT_DEBUG_ABORT_ALLOC_IN_COMMIT | PT_DEBUG_CHECK_RESERVE,
	};
}

void pt_test_env_fini(struct pt_test_env *env)
{
	pt_pool_destroy(env->pool);
	free(env->log);
	memset(env, 0, sizeof(*env));
}

struct pt *pt_test_create(struct pt_test_env *env)
{
	struct pt *pt;
	int err = pt_create(&env->cfg, &pt);

	if (err) {
		fprintf(stderr, "pt_create: %s\n", errname(err));
		abort();
	}
	return pt;
}

uint64_t pt_test_pages_in_use(struct pt_test_env *env)
{
	struct pt_pool_stats st;

	pt_pool_flush_thread_cache(env->pool);
	pt_pool_get_stats(env->pool, &st);
	return st.pages_in_use;
}

uint64_t pt_test_bytes_in_use(struct pt_test_env *env)
{
	struct pt_pool_stats st;

	pt_pool_get_stats(env->pool, &st);
	return st.bytes_in_use;
}

void pt_test_log_clear(struct pt_test_env *env)
{
	env->nr_log = 0;
}

static const char *ev_name(enum pt_test_ev_type t)
{
	static const char *const names[] = { "ALLOC", "FREE", "FLUSH_RANGE", "FLUSH_ALL", "SYNC" };

	return names[t];
}

void pt_test_log_print(const struct pt_test_env *env, size_t from, size_t max, bool syncs)
{
	for (size_t i = from, shown = 0; i < env->nr_log && shown < max; i++) {
		const struct pt_test_ev *e = &env->log[i];

		if (e->type == PT_EV_SYNC && !syncs)
			continue;
		shown++;
		fprintf(stderr, "  ev %zu: %-11s 0x%" PRIx64 " +0x%" PRIx64 "%s\n", i,
			ev_name(e->type), e->a, e->b,
			e->type == PT_EV_FLUSH_RANGE && e->leaf_only ? " leaf_only" : "");
	}
}

/* Event @k of those pt_test_flushed() looks at. */
static const struct pt_test_ev *flush_ev(const struct pt_test_env *env, const size_t *ev, size_t k)
{
	return &env->log[ev ? ev[k] : k];
}

bool pt_test_flushed(const struct pt_test_env *env, const size_t *ev, size_t n, uint64_t lo,
		     uint64_t hi, bool walk)
{
	uint64_t cur = lo;
	bool progress = true;

	for (size_t k = 0; k < n; k++)
		if (flush_ev(env, ev, k)->type == PT_EV_FLUSH_ALL)
			return true;
	/* Grow the covered [@lo, cur) until no flush extends it: flushes come in any order. */
	while (cur < hi && progress) {
		progress = false;
		for (size_t k = 0; k < n; k++) {
			const struct pt_test_ev *e = flush_ev(env, ev, k);

			if (e->type != PT_EV_FLUSH_RANGE || (walk && e->leaf_only))
				continue;
			if (e->a <= cur && cur < e->a + e->b) {
				cur = e->a + e->b;
				progress = true;
			}
		}
	}
	return cur >= hi;
}

uint64_t pt_test_root_pa(const struct pt *pt)
{
	struct pt_hw_regs regs;

	pt_get_regs(pt, &regs);
	switch (regs.fmt) {
	case PT_FMT_ARM64_S1:
		return regs.s1.ttbr;
	case PT_FMT_ARM64_S2:
		return regs.s2.vttbr;
	case PT_FMT_MALI_LPAE:
		return regs.mali.transtab & ~0xfffull; /* low bits hold the walk mode */
	case PT_FMT_MALI_AARCH64:
		return regs.mali.transtab;
	}
	return 0;
}

int pt_test_hw_walk(struct pt_test_env *env, const struct pt *pt, uint64_t va, uint64_t *pa,
		    uint32_t *prot, unsigned int *level)
{
	struct pt_geometry geo;
	struct pt_hw_regs regs;
	struct lpae_fmt fmt;
	uint64_t table = pt_test_root_pa(pt);

	pt_get_geometry(pt, &geo);
	pt_get_regs(pt, &regs);
	if (lpae_fmt_of(&env->cfg, &regs, &fmt))
		return -EUCLEAN;
	for (unsigned int lvl = geo.start_level; lvl <= PT_LEAF_LEVEL; lvl++) {
		unsigned int bits = lvl == geo.start_level ? geo.top_index_bits :
							     geo.bits_per_level;
		uint64_t idx = (va >> geo.level_shift[lvl]) & ((1ull << bits) - 1);
		const uint64_t *items = pt_pool_pa_to_cpu(env->pool, table);
		struct lpae_desc e;

		*level = lvl;
		/* Decoded from lpae.md's tables, not with the library's constants. */
		if (!items || lpae_decode(&fmt, lvl, items[idx], &e, NULL))
			return -EUCLEAN;
		if (e.type == LPAE_INVALID)
			return -ENOENT;
		if (e.type != LPAE_TABLE) {
			uint64_t mask = (1ull << geo.level_shift[lvl]) - 1;

			*pa = e.addr | (va & mask);
			*prot = e.prot;
			return 0;
		}
		table = e.addr;
	}
	return -EUCLEAN;
}

static uint8_t *shadow_page(struct pt_test_shadow *sh, uint64_t pa)
{
	size_t i = (size_t)(pa >> sh->page_lg2);

	assert_true(i < sh->npages);
	if (!sh->page[i]) {
		sh->page[i] = malloc((size_t)1 << sh->page_lg2);
		assert_non_null(sh->page[i]);
		memset(sh->page[i], 0xff, (size_t)1 << sh->page_lg2);
	}
	return sh->page[i];
}

static void shadow_sync(void *ctx, uint64_t pa, const void *cpu, size_t len)
{
	struct pt_test_shadow *sh = ctx;
	uint64_t mask = (1ull << sh->page_lg2) - 1;
	const uint8_t *src = cpu;

	sh->calls++;
	if (sh->inner)
		sh->inner->sync(sh->inner_ctx, pa, cpu, len);
	while (len) {
		size_t n = (size_t)min_u64(mask + 1 - (pa & mask), len);

		memcpy(shadow_page(sh, pa) + (pa & mask), src, n);
		pa += n;
		src += n;
		len -= n;
	}
}

static const struct pt_sync_ops shadow_sync_ops = {
	.sync = shadow_sync,
};

void pt_test_shadow_attach(struct pt_test_shadow *sh, struct pt_test_env *env)
{
	*sh = (struct pt_test_shadow){
		.inner = env->cfg.sync,
		.inner_ctx = env->cfg.sync_ctx,
		.page_lg2 = env->cfg.granule_lg2,
		.npages = (size_t)(POOL_PA_LIMIT >> env->cfg.granule_lg2),
	};
	sh->page = calloc(sh->npages, sizeof(*sh->page));
	assert_non_null(sh->page);
	env->cfg.sync = &shadow_sync_ops;
	env->cfg.sync_ctx = sh;
}

bool pt_test_shadow_matches(struct pt_test_shadow *sh, uint64_t pa, const void *cpu, size_t len)
{
	uint64_t mask = (1ull << sh->page_lg2) - 1;
	const uint8_t *p = cpu;

	while (len) {
		size_t n = (size_t)min_u64(mask + 1 - (pa & mask), len);

		if (memcmp(shadow_page(sh, pa) + (pa & mask), p, n))
			return false;
		pa += n;
		p += n;
		len -= n;
	}
	return true;
}

void pt_test_shadow_fini(struct pt_test_shadow *sh)
{
	for (size_t i = 0; i < sh->npages; i++)
		free(sh->page[i]);
	free(sh->page);
	sh->page = NULL;
	sh->npages = 0;
}

/* A replace has no one-op call: a reservation of it alone, committed at once (as pt_map()'s). */
static int replace_alone(struct pt *pt, const struct pt_op *op, uint64_t *unmapped)
{
	struct pt_resv resv;
	int err;

	pt_resv_init(&resv);
	err = pt_reserve(pt, op, &resv);
	if (!err) {
		pt_commit_begin(pt, &resv);
		pt_commit(pt, &resv, op, unmapped);
		pt_commit_end(pt, &resv);
	}
	pt_unreserve(pt, &resv);
	return err;
}

void pt_test_seek(struct pt *pt, const struct pt_op *op)
{
	uint64_t mix = ((op->va ^ op->size) >> 12) * 0x9e3779b97f4a7c15ull;

	switch (mix >> 62) {
	case 0:
		pt_seek(pt, op->va);
		break;
	case 1:
		pt_seek(pt, op->va + op->size - 1);
		break;
	case 2:
		pt_seek(pt, op->va ^ (1ull << 30)); /* out of range in a small ias: ignored */
		break;
	default:
		break;
	}
}

int pt_test_call_op(struct pt *pt, const struct pt_op *op, uint64_t *unmapped)
{
	struct pt_pattern pat = { op->pa, op->period };

	pt_test_seek(pt, op);

	switch (op->type) {
	case PT_OP_MAP:
		return pt_map(pt, op->va, op->pa, op->size, op->prot);
	case PT_OP_MAP_REPEAT:
		return pt_map_repeat(pt, op->va, op->size, &pat, op->prot);
	case PT_OP_UNMAP:
		return pt_unmap(pt, op->va, op->size, unmapped);
	case PT_OP_REPLACE:
		return replace_alone(pt, op, unmapped);
	}
	return -EINVAL;
}

unsigned int pt_test_exact_prots(const struct pt *pt, const uint32_t *cand, size_t n, uint32_t *out)
{
	uint32_t mask = pt_format_prot_mask(pt);
	unsigned int kept = 0;
	struct pt_hw_regs regs;
	bool stage1;

	pt_get_regs(pt, &regs);
	stage1 = regs.fmt == PT_FMT_ARM64_S1 || regs.fmt == PT_FMT_MALI_AARCH64;
	for (size_t i = 0; i < n; i++) {
		if ((cand[i] & ~mask) || (stage1 && !(cand[i] & PT_PROT_READ)))
			continue;
		out[kept++] = cand[i];
	}
	return kept;
}

int pt_test_model_apply(struct model *m, const struct pt_op *op, uint64_t *unmapped)
{
	uint64_t end = op->va + op->size, bytes = 0;
	/* Only a repeat map translates by pattern; a MAP with a period is -EINVAL. */
	uint64_t period = op->type == PT_OP_MAP_REPEAT ? op->period : 0;
	int rc = 0;

	/* A replace is an unmap, then a map that cannot overlap. */
	if (op->type == PT_OP_UNMAP || op->type == PT_OP_REPLACE)
		bytes = model_unmap(m, op->va, end);
	if (op->type != PT_OP_UNMAP && model_overlaps(m, op->va, end))
		rc = -EEXIST;
	else if (op->type != PT_OP_UNMAP)
		model_insert(m, (struct extent){ op->va, end, op->va, op->pa, period, op->prot });
	if (unmapped)
		*unmapped = bytes;
	return rc;
}
