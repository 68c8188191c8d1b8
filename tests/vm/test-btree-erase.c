// SPDX-License-Identifier: MIT
/*
 * test-btree-erase: the VA manager's B+ tree (vm/gvm_btree.h) emptied.
 *
 * test-btree inserts more than it erases, so its trees rarely shrink through
 * the inner levels; a rebalancing bug on erase there (a separator lost when
 * an inner node borrows from its right sibling) passed it. Here each case
 * grows a tree of at least three levels (inner nodes that are neither the
 * root nor parents of leaves: only then do inner nodes borrow and merge),
 * then erases most of the keys, in random, descending, ascending or
 * middle-out order, and after every single erase compares the tree with a
 * sorted array: gvm_bt_validate(), the keys walked forwards and backwards,
 * gvm_bt_find_le() at the erased key and at random starts, and
 * gvm_bt_collect() from random starts.
 *
 * Usage: test-btree-erase [--seed N] [--count KEYS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt-model.h"
#include "gvm_btree.h"
#include "test-util.h"

#define MIN_HEIGHT 3
#define PROBES 4      /* random gvm_bt_find_le() probes per step */
#define COLLECT_MAX 3 /* gvm_bt_collect() probes: more keys are -ENOSPC */

static uint64_t opt_seed = 1;
static unsigned int opt_count = 5000;

/* The model: the keys in order. */
/**
 * struct run - one case.
 * @bt: the tree under test.
 * @m: the model.
 * @r: random numbers.
 * @max_start: starts are below this.
 * @step: erases so far, for messages.
 * @name: the case.
 */
struct run {
	struct gvm_bt bt;
	struct bt_model m;
	struct rng r;
	uint64_t max_start;
	unsigned int step;
	const char *name;
};

/* gvm_bt_find_le(@start) finds what the model says: the last key with start <= @start. */
static void check_find_le(struct run *x, uint64_t start)
{
	size_t after = bt_model_lower(&x->m, (struct gvm_bt_key){ start, UINTPTR_MAX });
	struct gvm_bt_cur cur;
	bool found = gvm_bt_find_le(&x->bt, start, &cur);

	/* (start, UINTPTR_MAX) is never a key: ties are small. */
	if (found != (after > 0))
		fail_msg("%s, erase %u: find_le(%" PRIu64 ") found %d, the model %d", x->name,
			 x->step, start, found, after > 0);
	if (found && bt_key_cmp(gvm_bt_get(&cur), x->m.k[after - 1]))
		fail_msg("%s, erase %u: find_le(%" PRIu64 ") = (%" PRIu64 ", %" PRIuPTR
			 "), the model (%" PRIu64 ", %" PRIuPTR ")",
			 x->name, x->step, start, gvm_bt_get(&cur).start, gvm_bt_get(&cur).tie,
			 x->m.k[after - 1].start, x->m.k[after - 1].tie);
}

/*
 * gvm_bt_collect(@start, @end) returns what the model says: the ties of the
 * last key with start <= @start and of the keys after it starting below @end
 * (-ENOSPC past COLLECT_MAX), and a path to the leaf where @start belongs.
 */
static void check_collect(struct run *x, uint64_t start, uint64_t end)
{
	size_t i = bt_model_lower(&x->m, (struct gvm_bt_key){ start, UINTPTR_MAX });
	uintptr_t ties[COLLECT_MAX];
	struct gvm_bt_path p;
	int want = 0, n = gvm_bt_collect(&x->bt, start, end, &p, ties, COLLECT_MAX);

	for (i = i ? i - 1 : 0; i + want < x->m.n && x->m.k[i + want].start < end; want++)
		if (want < COLLECT_MAX && n > want && ties[want] != x->m.k[i + want].tie)
			fail_msg("%s, erase %u: collect(%" PRIu64 ", %" PRIu64 ") key %d differs",
				 x->name, x->step, start, end, want);
	CHECK_EQ(x->name, n, want > COLLECT_MAX ? -ENOSPC : want);
	if (!p.leaf != !x->m.n)
		fail_msg("%s, erase %u: collect(%" PRIu64 ") gave %s path", x->name, x->step, start,
			 p.leaf ? "a" : "no");
}

/* The tree holds exactly the model's keys, both ways round, and is valid. */
static void check_equal(struct run *x)
{
	struct gvm_bt_cur cur;
	size_t i = 0;

	if (gvm_bt_validate(&x->bt))
		fail_msg("%s, erase %u: tree invalid (%zu keys left)", x->name, x->step, x->m.n);
	CHECK_EQ(x->name, x->bt.count, x->m.n);
	for (bool more = gvm_bt_first(&x->bt, &cur); more; more = gvm_bt_next(&cur), i++)
		if (i >= x->m.n || bt_key_cmp(gvm_bt_get(&cur), x->m.k[i]))
			fail_msg("%s, erase %u: key %zu differs from the model", x->name, x->step,
				 i);
	CHECK_EQ(x->name, i, x->m.n);
	if (!x->m.n)
		return;
	/* Backwards from the last key: the leaves' prev links. */
	if (!gvm_bt_find_le(&x->bt, UINT64_MAX, &cur))
		fail_msg("%s, erase %u: no last key", x->name, x->step);
	for (i = x->m.n; i-- > 0;) {
		if (bt_key_cmp(gvm_bt_get(&cur), x->m.k[i]))
			fail_msg("%s, erase %u: key %zu differs walking backwards", x->name,
				 x->step, i);
		if (gvm_bt_prev(&cur) != (i > 0))
			fail_msg("%s, erase %u: walking backwards ends at key %zu", x->name,
				 x->step, i);
	}
}

static void run_init(struct run *x, const char *name, uint64_t seed)
{
	*x = (struct run){ .name = name, .r = { seed }, .max_start = 16ull * opt_count };
	x->m.k = calloc(opt_count, sizeof(*x->m.k));
	assert_non_null(x->m.k);
	gvm_bt_init(&x->bt);
}

static void run_fini(struct run *x)
{
	gvm_bt_fini(&x->bt, &bt_test_alloc);
	free(x->m.k);
}

/*
 * opt_count keys: unique starts in ascending order when @ascending, else
 * random starts, a quarter of them shared by several keys (repeat VAs), the
 * tie breaking them. The tree must reach MIN_HEIGHT.
 */
static void grow(struct run *x, bool ascending)
{
	for (uintptr_t i = 0; i < opt_count; i++) {
		uint64_t start = ascending ? 16 * i : rng_below(&x->r, x->max_start);
		struct gvm_bt_key k = { .start = start, .tie = i + 1 };

		if (!ascending && x->m.n && rng_below(&x->r, 4) == 0)
			k.start = x->m.k[rng_below(&x->r, x->m.n)].start;
		CHECK_ERR("reserve", gvm_bt_reserve(&x->bt, 1, &bt_test_alloc), 0);
		gvm_bt_insert(&x->bt, k);
		bt_model_insert(&x->m, k);
	}
	check_equal(x);
	if (x->bt.height < MIN_HEIGHT)
		fail_msg("%s: %zu keys make a tree of height %u, want %u: raise --count", x->name,
			 x->m.n, x->bt.height, MIN_HEIGHT);
}

/* Erase the model's key @i from both, then compare everything. */
static void erase_at(struct run *x, size_t i)
{
	struct gvm_bt_key k = x->m.k[i];

	gvm_bt_erase(&x->bt, k);
	bt_model_erase(&x->m, i);
	x->step++;
	check_equal(x);
	check_find_le(x, k.start);
	check_find_le(x, k.start ? k.start - 1 : 0);
	for (unsigned int p = 0; p < PROBES; p++) {
		uint64_t start = rng_below(&x->r, x->max_start + 16);

		check_find_le(x, start);
		check_collect(x, start, start + rng_below(&x->r, 64));
	}
}

enum order {
	RANDOM,
	DESCENDING,
	ASCENDING,
	MIDDLE_OUT
};

/* Erase keys in @order until @keep are left. */
static void erase_down_to(struct run *x, enum order order, size_t keep)
{
	while (x->m.n > keep) {
		size_t i = 0;

		switch (order) {
		case RANDOM:
			i = rng_below(&x->r, x->m.n);
			break;
		case DESCENDING:
			i = x->m.n - 1;
			break;
		case ASCENDING:
			i = 0;
			break;
		case MIDDLE_OUT:
			i = x->m.n / 2;
			break;
		}
		erase_at(x, i);
	}
}

/* Random inserts, 90% erased at random, the rest from the top down, to empty. */
static void test_random_then_descending(void **state)
{
	struct run x;

	(void)state;
	run_init(&x, "random then descending", opt_seed);
	grow(&x, false);
	erase_down_to(&x, RANDOM, x.m.n / 10);
	erase_down_to(&x, DESCENDING, 0);
	CHECK_EQ("empty tree's height", x.bt.height, 0);
	run_fini(&x);
}

/* Ascending inserts (half-full leaves), erased from the top down. */
static void test_descending(void **state)
{
	struct run x;

	(void)state;
	run_init(&x, "descending", opt_seed + 1);
	grow(&x, true);
	erase_down_to(&x, DESCENDING, 0);
	run_fini(&x);
}

/*
 * Erased from the bottom up: the leftmost node of each level underflows and,
 * having no left sibling, borrows from or merges with its right one.
 */
static void test_ascending(void **state)
{
	struct run x;

	(void)state;
	run_init(&x, "ascending", opt_seed + 2);
	grow(&x, false);
	erase_down_to(&x, ASCENDING, 0);
	run_fini(&x);
}

/* From the middle outwards, then random: siblings on both sides run short. */
static void test_middle_out(void **state)
{
	struct run x;

	(void)state;
	run_init(&x, "middle-out", opt_seed + 3);
	grow(&x, true);
	erase_down_to(&x, MIDDLE_OUT, x.m.n / 20);
	erase_down_to(&x, RANDOM, 0);
	run_fini(&x);
}

int main(int argc, char **argv)
{
	const struct tu_args args = { "test-btree-erase", &opt_seed, &opt_count, "KEYS" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_then_descending),
		cmocka_unit_test(test_descending),
		cmocka_unit_test(test_ascending),
		cmocka_unit_test(test_middle_out),
	};

	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
