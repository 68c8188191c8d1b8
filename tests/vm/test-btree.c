// SPDX-License-Identifier: MIT
/*
 * test-btree: the VA manager's B+ tree (vm/gvm_btree.h) on its own, against a
 * sorted array: random inserts, erases and in-place replacements, with many
 * keys sharing a start (as repeat VAs and replacements do), every invariant
 * checked after each step.
 *
 * Usage: test-btree [--seed N] [--count N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt-model.h"
#include "gvm_btree.h"
#include "test-util.h"

#define NR_STARTS 300 /* few starts for many keys: ties decide often */

static uint64_t opt_seed = 1;
static unsigned int opt_count = 10000;

/* The model: the keys in order. */
/* The tree holds exactly the model's keys, in order, and is valid. */
static void check_equal(const struct gvm_bt *bt, const struct bt_model *m, unsigned int step)
{
	struct gvm_bt_cur cur;
	size_t i = 0;

	if (gvm_bt_validate(bt))
		fail_msg("step %u: tree invalid", step);
	CHECK_EQ("count", bt->count, m->n);
	for (bool more = gvm_bt_first(bt, &cur); more; more = gvm_bt_next(&cur), i++) {
		struct gvm_bt_key k = gvm_bt_get(&cur);

		if (i >= m->n || bt_key_cmp(k, m->k[i]))
			fail_msg("step %u: key %zu differs from the model", step, i);
	}
	CHECK_EQ("keys walked", i, m->n);
}

static void do_insert(struct gvm_bt *bt, struct bt_model *m, struct rng *r, uintptr_t *next_tie)
{
	struct gvm_bt_key k = { .start = rng_below(r, NR_STARTS),
				.tie = (uintptr_t)(rng_next(r) << 24 | (*next_tie)++) };

	CHECK_ERR("reserve", gvm_bt_reserve(bt, 1, &bt_test_alloc), 0);
	gvm_bt_insert(bt, k);
	bt_model_insert(m, k);
}

static void do_erase(struct gvm_bt *bt, struct bt_model *m, struct rng *r)
{
	size_t i = rng_below(r, m->n);

	gvm_bt_erase(bt, m->k[i]);
	bt_model_erase(m, i);
}

/*
 * Replace the last key with a random existing start by a new tie: either in
 * place (the old tie comes back) or refused (0, nothing changed).
 */
static bool do_replace(struct gvm_bt *bt, struct bt_model *m, struct rng *r, uintptr_t *next_tie)
{
	struct gvm_bt_key probe = { .start = m->k[rng_below(r, m->n)].start, .tie = UINTPTR_MAX };
	/* A random tie, unique by its low bits: it may sort anywhere among its start's. */
	struct gvm_bt_key k = { .start = probe.start,
				.tie = (uintptr_t)(rng_next(r) << 24 | (*next_tie)++) };
	size_t last = bt_model_lower(m, probe) - 1;
	uintptr_t old = gvm_bt_replace(bt, k);

	if (!old)
		return false;
	CHECK_EQ("replaced tie", old, m->k[last].tie);
	bt_model_erase(m, last);
	bt_model_insert(m, k);
	return true;
}

static void test_random(void **state)
{
	struct gvm_bt bt;
	struct bt_model m = { .k = calloc(opt_count + 1, sizeof(*m.k)) };
	struct rng r = { opt_seed };
	uintptr_t next_tie = 1;
	unsigned int in_place = 0, refused = 0;

	(void)state;
	assert_non_null(m.k);
	gvm_bt_init(&bt);
	CHECK_EQ("replace in an empty tree", gvm_bt_replace(&bt, (struct gvm_bt_key){ 0, 1 }), 0);
	for (unsigned int step = 0; step < opt_count; step++) {
		unsigned int what = rng_below(&r, 10);

		if (!m.n || what < 5)
			do_insert(&bt, &m, &r, &next_tie);
		else if (what < 7)
			do_erase(&bt, &m, &r);
		else if (do_replace(&bt, &m, &r, &next_tie))
			in_place++;
		else
			refused++;
		check_equal(&bt, &m, step);
	}
	printf("  %zu keys, height %u: %u replacements in place, %u refused\n", m.n, bt.height,
	       in_place, refused);
	if (opt_count >= 10000 && (!in_place || !refused))
		fail_msg("want both outcomes of gvm_bt_replace() at --count >= 10000");
	gvm_bt_fini(&bt, &bt_test_alloc);
	free(m.k);
}

/* A start no key has: nothing is replaced, and the tree is unchanged. */
static void test_replace_absent(void **state)
{
	struct gvm_bt bt;
	struct bt_model m = { .k = calloc(64, sizeof(*m.k)) };

	(void)state;
	assert_non_null(m.k);
	gvm_bt_init(&bt);
	for (uintptr_t i = 0; i < 64; i++) {
		struct gvm_bt_key k = { .start = 10 * i, .tie = i + 1 };

		CHECK_ERR("reserve", gvm_bt_reserve(&bt, 1, &bt_test_alloc), 0);
		gvm_bt_insert(&bt, k);
		bt_model_insert(&m, k);
	}
	CHECK_EQ("between two starts", gvm_bt_replace(&bt, (struct gvm_bt_key){ 15, 99 }), 0);
	CHECK_EQ("first key, nothing before it", gvm_bt_replace(&bt, (struct gvm_bt_key){ 0, 0 }),
		 1);
	m.k[0].tie = 0; /* (0, 1) became (0, 0): nothing before it, so in place */
	check_equal(&bt, &m, 0);
	gvm_bt_fini(&bt, &bt_test_alloc);
	free(m.k);
}

int main(int argc, char **argv)
{
	const struct tu_args args = { "test-btree", &opt_seed, &opt_count };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_replace_absent),
	};

	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
