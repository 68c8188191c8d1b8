// SPDX-License-Identifier: MIT
/*
 * pt_walk() against a concurrent writer (pt.h, DOC: concurrency).
 *
 * The writer (the test's main thread) keeps NR_REGIONS regions mapped with a
 * fixed pattern: VA v of region r maps to region_pa(r) + (v - region_va(r)) with
 * region r's protection. Each step either remaps a whole region (its tables go
 * away and it comes back as the largest blocks) or unmaps a random piece of one
 * (splitting the blocks it cuts) and maps the piece back. The gaps between the
 * regions are never mapped. Reader threads walk random VAs of the window
 * meanwhile, inside urcu-memb read-side critical sections, and check that every
 * translation they get is one the writer could have produced.
 *
 * The flush ops wait for an RCU grace period, so that the tables an operation
 * unlinks are freed only after every reader that might still walk them has
 * left: freed table memory is poisoned, and under AddressSanitizer a reader
 * touching freed metadata is an error. Readers mostly walk the range the
 * writer is changing, so that the races are likely. This test uses the pool
 * ops directly (the harness's recording ops are not thread-safe).
 *
 * Usage: test-concurrent-walk [--seed N] [--count STEPS]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu/urcu-memb.h>

#include <gpuvm/print_file.h>
#include <gpuvm/pt.h>
#include <gpuvm/pt_pool.h>

#include "pt-test.h"

#define DEFAULT_SEED 0x77616c6bull
#define DEFAULT_STEPS 6000u
#define NR_READERS 2

#define K(n) ((uint64_t)(n) << 10)
#define M(n) ((uint64_t)(n) << 20)
#define G(n) ((uint64_t)(n) << 30)

/* Regions of 2G every 4G from WINDOW_VA; the 2G after each is never mapped. */
#define NR_REGIONS 4u
#define WINDOW_VA G(1024 + 512 - 8) /* the window straddles a top-level boundary */
#define REGION_SIZE G(2)
#define REGION_STRIDE G(4)
#define WINDOW_SIZE (NR_REGIONS * REGION_STRIDE)
#define PA_BASE G(64)

static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_steps = DEFAULT_STEPS;

static const uint32_t region_prot[NR_REGIONS] = {
	PT_PROT_READ,
	PT_PROT_READ | PT_PROT_WRITE,
	PT_PROT_READ | PT_PROT_EXEC,
	PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE,
};

static uint64_t region_va(unsigned int r)
{
	return WINDOW_VA + r * REGION_STRIDE;
}

static uint64_t region_pa(unsigned int r)
{
	return PA_BASE + r * REGION_STRIDE;
}

/*
 * ThreadSanitizer cannot see the grace period (urcu is not instrumented): a
 * reader's leaving its critical section happens before the writer's return
 * from synchronize_rcu(). Tell it so.
 */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char grace_period;
#define GRACE_READER_DONE() __tsan_release(&grace_period)
#define GRACE_WRITER_WAITED() __tsan_acquire(&grace_period)
#else
#define GRACE_READER_DONE() ((void)0)
#define GRACE_WRITER_WAITED() ((void)0)
#endif

/* What the readers share with the writer. */
struct shared {
	struct pt *pt;
	struct pt_pool *pool;
	_Atomic uint64_t hot_va, hot_size; /* what the writer is changing now */
	atomic_bool done;
	atomic_uint flushes;
	atomic_uint op_flushes; /* flushes since the writer's current call began */
	atomic_bool in_op;      /* the writer is inside pt_map/pt_unmap/pt_destroy */
	pthread_mutex_t lock;   /* protects error */
	char error[256];
	atomic_bool failed;
};

struct reader {
	pthread_t thread;
	struct shared *sh;
	struct rng rng;
	uint64_t walks, mapped, by_size[3];
};

static void flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct shared *sh = ctx;

	(void)va;
	(void)size;
	(void)leaf_only;
	urcu_memb_synchronize_rcu();
	GRACE_WRITER_WAITED();
	atomic_fetch_add(&sh->flushes, 1);
	atomic_fetch_add(&sh->op_flushes, 1);
}

static void flush_all(void *ctx)
{
	flush_range(ctx, 0, 0, false);
}

static const struct pt_flush_ops rcu_flush_ops = {
	.flush_range = flush_range,
	.flush_all = flush_all,
};

/*
 * Table memory from the pool, poisoned when freed: a reader that walks a freed
 * table reads leaves with a PA of all ones, or follows table entries through
 * freed metadata (which AddressSanitizer reports).
 */
static int poison_alloc(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	struct shared *sh = ctx;

	return pt_pool_ops.alloc(sh->pool, size, align, out);
}

static int poison_alloc_bulk(void *ctx, size_t size, size_t align, unsigned int n,
			     struct pt_mem *out)
{
	struct shared *sh = ctx;

	return pt_pool_ops.alloc_bulk(sh->pool, size, align, n, out);
}

static void report(struct shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A table that a call unlinks is freed only after a flush of that call has
 * returned (pt.h, DOC: concurrency): checked here too, as a reader racing a
 * premature free needs unlucky scheduling to notice it.
 */
static void poison_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct shared *sh = ctx;

	if (atomic_load(&sh->in_op) && !atomic_load(&sh->op_flushes))
		report(sh, "writer: table 0x%" PRIx64 " freed before any flush", mem->pa);
	memset(mem->cpu, 0xff, size);
	pt_pool_ops.free(sh->pool, mem, size, align);
}

static const struct pt_alloc_ops poison_alloc_ops = {
	.alloc = poison_alloc,
	.free = poison_free,
	.alloc_bulk = poison_alloc_bulk,
};

/* Keep the first error; cmocka's assertions are not for other threads. */
static void report(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&sh->lock);
	if (!atomic_load(&sh->failed)) {
		va_start(ap, fmt);
		vsnprintf(sh->error, sizeof(sh->error), fmt, ap);
		va_end(ap);
		atomic_store(&sh->failed, true);
	}
	pthread_mutex_unlock(&sh->lock);
}

/* Is @res a translation of @va the writer could have made? NULL if so, else why not. */
static const char *judge(uint64_t va, int rc, const struct pt_walk_result *res)
{
	uint64_t off = (va - WINDOW_VA) % REGION_STRIDE;
	unsigned int r = (unsigned int)((va - WINDOW_VA) / REGION_STRIDE);

	if (rc == -ENOENT)
		return NULL;
	if (rc)
		return "pt_walk failed";
	if (off >= REGION_SIZE)
		return "a VA that is never mapped translates";
	if (res->pa != region_pa(r) + off)
		return "wrong PA";
	if (res->prot != region_prot[r])
		return "wrong protection";
	if (res->leaf_size != K(4) && res->leaf_size != M(2) && res->leaf_size != G(1))
		return "impossible leaf size";
	return NULL;
}

static void reader_walk(struct reader *rd, uint64_t va)
{
	struct pt_walk_result res;
	const char *why;
	int rc;

	urcu_memb_read_lock();
	pt_prefetch(rd->sh->pt, va + K(4)); /* lock-free as well: may race the writer */
	rc = pt_walk(rd->sh->pt, va, &res);
	GRACE_READER_DONE();
	urcu_memb_read_unlock();
	rd->walks++;
	why = judge(va, rc, &res);
	if (why)
		report(rd->sh,
		       "reader: 0x%" PRIx64 ": %s: rc %d pa 0x%" PRIx64
		       " prot 0x%x size 0x%" PRIx64,
		       va, why, rc, res.pa, res.prot, res.leaf_size);
	if (!rc) {
		rd->mapped++;
		rd->by_size[res.leaf_size == K(4) ? 0 : res.leaf_size == M(2) ? 1 : 2]++;
	}
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;

	struct shared *sh = rd->sh;

	urcu_memb_register_thread();
	while (!atomic_load(&sh->done) && !atomic_load(&sh->failed)) {
		uint64_t va = WINDOW_VA + rng_below(&rd->rng, WINDOW_SIZE);

		/* Mostly where the writer is at work, so that races are likely. */
		if (rng_below(&rd->rng, 4)) {
			uint64_t hot_va = atomic_load(&sh->hot_va);
			uint64_t hot_size = atomic_load(&sh->hot_size);

			va = hot_va + rng_below(&rd->rng, hot_size + M(4)) - M(2);
			va = va - WINDOW_VA < WINDOW_SIZE ? va : WINDOW_VA;
		}
		reader_walk(rd, va);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

struct writer {
	struct shared *sh;
	struct pt *pt;
	struct rng rng;
	unsigned int remaps, cuts;
};

static void op_begin(struct shared *sh)
{
	atomic_store(&sh->op_flushes, 0);
	atomic_store(&sh->in_op, true);
}

static void writer_map(struct writer *w, unsigned int r, uint64_t off, uint64_t size)
{
	int rc;

	op_begin(w->sh);
	rc = pt_map(w->pt, region_va(r) + off, region_pa(r) + off, size, region_prot[r]);
	atomic_store(&w->sh->in_op, false);
	if (rc)
		report(w->sh, "writer: pt_map(region %u + 0x%" PRIx64 ", 0x%" PRIx64 "): %s", r,
		       off, size, errname(rc));
}

static void writer_unmap(struct writer *w, unsigned int r, uint64_t off, uint64_t size)
{
	uint64_t unmapped = 0;
	int rc;

	op_begin(w->sh);
	rc = pt_unmap(w->pt, region_va(r) + off, size, &unmapped);
	atomic_store(&w->sh->in_op, false);
	if (rc || unmapped != size)
		report(w->sh,
		       "writer: pt_unmap(region %u + 0x%" PRIx64 ", 0x%" PRIx64 "): %s, "
		       "unmapped 0x%" PRIx64,
		       r, off, size, errname(rc), unmapped);
}

/* A piece of a region: a few pages, up to a few 2M blocks, rarely most of it. */
static void pick_piece(struct writer *w, uint64_t *off, uint64_t *size)
{
	switch (rng_below(&w->rng, 4)) {
	case 0:
		*size = K(4) * (1 + rng_below(&w->rng, 16));
		break;
	case 1:
		*size = M(2) * (1 + rng_below(&w->rng, 4)) + K(4) * rng_below(&w->rng, 4);
		break;
	case 2:
		*size = K(4) * (1 + rng_below(&w->rng, M(8) / K(4)));
		break;
	default:
		*size = K(4) * (1 + rng_below(&w->rng, REGION_SIZE / K(4) - 1));
		break;
	}
	*off = rng_below(&w->rng, (REGION_SIZE - *size) / K(4) + 1) * K(4);
}

/*
 * Map a hole back in two pieces cut at a random page, the far one first, so
 * that mapping the near one starts in an empty item and needs a new table.
 */
static void writer_refill(struct writer *w, unsigned int r, uint64_t off, uint64_t size)
{
	uint64_t cut = K(4) * rng_below(&w->rng, size / K(4));

	if (cut)
		writer_map(w, r, off + cut, size - cut);
	writer_map(w, r, off, cut ? cut : size);
}

/* One step; every region is fully mapped before and after it. */
static void writer_step(struct writer *w, unsigned int step)
{
	unsigned int r = (unsigned int)rng_below(&w->rng, NR_REGIONS);
	uint64_t off, size;

	if (rng_below(&w->rng, 8) == 0) {
		atomic_store(&w->sh->hot_size, REGION_SIZE);
		atomic_store(&w->sh->hot_va, region_va(r));
		writer_unmap(w, r, 0, REGION_SIZE);
		writer_map(w, r, 0, REGION_SIZE);
		w->remaps++;
	} else {
		pick_piece(w, &off, &size);
		atomic_store(&w->sh->hot_size, size);
		atomic_store(&w->sh->hot_va, region_va(r) + off);
		writer_unmap(w, r, off, size);
		writer_refill(w, r, off, size);
		w->cuts++;
	}
	if (step % 64 == 0 && pt_validate(w->pt, gpuvm_print_file, stderr))
		report(w->sh, "writer: pt_validate failed after step %u", step);
}

static void check_readers(struct shared *sh, struct reader *rd)
{
	uint64_t walks = 0, mapped = 0, by_size[3] = { 0 };

	for (int i = 0; i < NR_READERS; i++) {
		walks += rd[i].walks;
		mapped += rd[i].mapped;
		for (int s = 0; s < 3; s++)
			by_size[s] += rd[i].by_size[s];
	}
	printf("  %u flushes; readers: %" PRIu64 " walks, %" PRIu64 " mapped (%" PRIu64
	       " 4K, %" PRIu64 " 2M, %" PRIu64 " 1G)\n",
	       atomic_load(&sh->flushes), walks, mapped, by_size[0], by_size[1], by_size[2]);
	assert_false(atomic_load(&sh->failed));
	/* The readers really ran against the writer and saw every leaf size. */
	assert_true(walks > 1000);
	assert_true(by_size[0] && by_size[1] && by_size[2]);
}

static void create_table(struct shared *sh, struct pt_pool **pool)
{
	struct pt_pool_cfg pcfg = { .page_size = K(4) };
	struct pt_cfg cfg = {
		.fmt = PT_FMT_MALI_AARCH64,
		.granule_lg2 = 12,
		.ias = 48,
		.oas = 48,
		.coherent_walk = true,
		.alloc = &poison_alloc_ops,
		.alloc_ctx = sh,
		.flush = &rcu_flush_ops,
		.flush_ctx = sh,
	};

	assert_int_equal(pt_pool_create(&pcfg, pool), 0);
	sh->pool = *pool;
	assert_int_equal(pt_create(&cfg, &sh->pt), 0);
}

static void test_concurrent_walk(void **state)
{
	struct shared sh = { .lock = PTHREAD_MUTEX_INITIALIZER,
			     .hot_va = WINDOW_VA,
			     .hot_size = G(1) };
	struct reader rd[NR_READERS];
	struct writer w = { .sh = &sh, .rng = { opt_seed } };
	struct pt_pool *pool;
	struct pt_pool_stats st;

	(void)state;
	create_table(&sh, &pool);
	w.pt = sh.pt;
	for (unsigned int r = 0; r < NR_REGIONS; r++)
		writer_map(&w, r, 0, REGION_SIZE);
	for (int i = 0; i < NR_READERS; i++) {
		rd[i] = (struct reader){ .sh = &sh, .rng = { opt_seed * 31 + (uint64_t)i + 1 } };
		assert_int_equal(pthread_create(&rd[i].thread, NULL, reader_main, &rd[i]), 0);
	}
	for (unsigned int step = 0; step < opt_steps && !atomic_load(&sh.failed); step++)
		writer_step(&w, step);
	atomic_store(&sh.done, true);
	for (int i = 0; i < NR_READERS; i++)
		pthread_join(rd[i].thread, NULL);
	printf("  writer: %u region remaps, %u cut-and-refill steps\n", w.remaps, w.cuts);
	if (atomic_load(&sh.failed))
		fail_msg("%s (replay with: --seed %" PRIu64 " --count %u)", sh.error, opt_seed,
			 opt_steps);
	check_readers(&sh, rd);
	op_begin(&sh);
	pt_destroy(sh.pt);
	assert_false(atomic_load(&sh.failed));
	pt_pool_flush_thread_cache(pool);
	pt_pool_get_stats(pool, &st);
	assert_int_equal(st.pages_in_use, 0);
	pt_pool_destroy(pool);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_walk),
	};
	const struct tu_args args = {
		.name = "test-concurrent-walk",
		.seed = &opt_seed,
		.count = &opt_steps,
		.count_metavar = "STEPS",
	};

	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
