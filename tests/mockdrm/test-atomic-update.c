// SPDX-License-Identifier: MIT
/*
 * Page-table updates of a VM that holds a slot are atomic for the GPU
 * (mali.md section 2, panthor's atomic scheme): the bind's range is locked
 * before any descriptor is written and released after the flush, so a GPU
 * access racing a bind either runs before it, stalls until it is done, or
 * runs after it, and never uses a cached translation the tables no longer
 * say. Strict mode counts such a use as a stale translation.
 *
 * One thread flips a range between two BOs with synchronous binds while two
 * threads read it through the mock GPU-access ioctl (issue 14: "the TLB
 * strict mode reports zero stale translations"; fuzz-findings F2). With the
 * original scheme (descriptors first, then LOCK, flush, UNLOCK) an access
 * between a descriptor write and the LOCK hits the old TLB entry: several
 * stale translations per few hundred binds.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mock-test.h"

#define FLIP_VA (16 * MiB)
#define FLIP_PAGES 8
#define FLIPS 480
#define READERS 2

struct race {
	struct mt_dev d;
	struct mt_bo bo[2];
	uint32_t vm;
	int stop;              /* the flipper is done (atomic) */
	uint64_t torn, faults; /* reader outcomes (atomic adds) */
	uint64_t reads;
};

/* The BO a page's first word comes from, or -1 for neither. */
static int source_of(const struct race *r, uint64_t page, uint64_t word)
{
	for (int b = 0; b < 2; b++) {
		uint64_t want;

		memcpy(&want, r->bo[b].cpu + page * MT_PAGE, sizeof(want));
		if (word == want)
			return b;
	}
	return -1;
}

static void *reader(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (uint64_t page = 0; page < FLIP_PAGES; page++) {
			struct mt_access res;
			uint64_t word = 0;

			if (mt_gpu_read(&r->d, r->vm, FLIP_VA + page * MT_PAGE, &word, sizeof(word),
					&res))
				__atomic_add_fetch(&r->torn, 1, __ATOMIC_RELAXED);
			else if (res.status)
				__atomic_add_fetch(&r->faults, 1, __ATOMIC_RELAXED);
			else if (source_of(r, page, word) < 0)
				__atomic_add_fetch(&r->torn, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void flip(struct race *r, unsigned int i)
{
	struct gpuvm_vm_bind_op_repeat op =
		mt_op_map(&r->bo[i & 1], 0, FLIP_VA, FLIP_PAGES * MT_PAGE, 0);

	assert_int_equal(mt_bind(&r->d, r->vm, 0, &op, 1), 0);
}

/*
 * Let the readers read @n pages before the next bind, so that binds and
 * reads overlap all along instead of the binds running ahead alone.
 */
static void wait_reads(struct race *r, uint64_t n)
{
	uint64_t start = __atomic_load_n(&r->reads, __ATOMIC_RELAXED);

	while (__atomic_load_n(&r->reads, __ATOMIC_RELAXED) - start < n)
		sched_yield();
}

static struct gpuvm_mock_stats stats_of(struct mt_dev *d)
{
	struct gpuvm_mock_stats s = { 0 };

	assert_int_equal(mockdrm_ioctl(d->file, GPUVM_IOCTL_MOCK_STATS, &s), 0);
	return s;
}

static void test_reads_during_binds(void **state)
{
	static struct race r;
	pthread_t readers[READERS];
	struct gpuvm_mock_stats s;

	(void)state;
	memset(&r, 0, sizeof(r));
	mt_open(&r.d, NULL);
	r.vm = mt_vm_create(&r.d);
	mt_bo_create(&r.d, FLIP_PAGES * MT_PAGE, 41, &r.bo[0]);
	mt_bo_create(&r.d, FLIP_PAGES * MT_PAGE, 42, &r.bo[1]);
	flip(&r, 0);
	for (unsigned int t = 0; t < READERS; t++)
		assert_int_equal(pthread_create(&readers[t], NULL, reader, &r), 0);
	for (unsigned int i = 1; i <= FLIPS; i++) {
		wait_reads(&r, FLIP_PAGES);
		flip(&r, i);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (unsigned int t = 0; t < READERS; t++)
		assert_int_equal(pthread_join(readers[t], NULL), 0);
	s = stats_of(&r.d);
	print_message("%u binds, %" PRIu64 " reads: %llu stale, %llu lock waits, %llu locks, "
		      "%llu unlocks\n",
		      FLIPS, r.reads, s.stale_translations, s.lock_waits, s.as_locks, s.as_unlocks);
	CHECK_EQ("reads of neither BO", r.torn, 0);
	CHECK_EQ("faults (a remap never unmaps)", r.faults, 0);
	CHECK_EQ("stale translations", s.stale_translations, 0);
	CHECK_EQ("freed table walks", s.freed_table_walks, 0);
	CHECK_EQ("every LOCK released", s.as_unlocks, s.as_locks);
	mt_bo_destroy(&r.d, &r.bo[0]);
	mt_bo_destroy(&r.d, &r.bo[1]);
	mt_close(&r.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_during_binds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
