// SPDX-License-Identifier: MIT
/*
 * test-btree: the VA manager's B+ tree (vm/gvm_btree.h) on its own, against a
 * sorted array: random inserts, erases and in-place replacements, with many
 * keys sharing a start (as repeat VAs and replacements do), every invariant
 * checked after each step. random-at does each update in the leaf of a path
 * from gvm_bt_find_le_path() at a random start (a lazy transaction's commit),
 * or half the time through the path of the step before when that one kept it,
 * in phases of growth and of shrinking (leaves borrow and merge):
 * where the key does not belong there, the _at call must refuse and change
 * nothing, and the update is made without the path (which ends it). Its
 * swaps (gvm_bt_swap_at()) put a new key in an old one's slot, as a request's
 * commit does with a VA it makes and one it removes. random-at-spread does the
 * same with keys that rarely share a start, as VAs, where the updates take
 * their fast paths; a reused path's slot guess is sometimes made wrong.
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

/*
 * The starts of a case's keys are below this: NR_STARTS, or (random-at-spread)
 * so many that keys rarely share a start, as VAs do: there the _at updates
 * take their fast paths, which look at starts alone.
 */
static uint64_t nr_starts = NR_STARTS;

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

/*
 * Updates through a path (random-at): how many the path's leaf took, how many
 * it refused; of the swaps, how many it took.
 */
struct at_counts {
	unsigned int taken, refused, swapped;
};

/* The path of the step before, if it kept it. */
static struct gvm_bt_path kept;

/* A path to a start near @start, or the one kept (NULL @c: no path, the plain update). */
static struct gvm_bt_path *path_near(const struct gvm_bt *bt, struct rng *r, uint64_t start,
				     const struct at_counts *c)
{
	struct gvm_bt_cur cur;

	if (!c)
		return NULL;
	if (kept.leaf && rng_below(r, 2)) {
		/* The slot is a guess the updates must check: sometimes a wrong one. */
		if (rng_below(r, 4) == 0)
			kept.slot = rng_below(r, 8) ?
					    kept.slot + (unsigned int)rng_below(r, 5) - 2 :
					    ~0u;
		return &kept;
	}
	start = rng_below(r, 2) ? start : rng_below(r, nr_starts);
	gvm_bt_find_le_path(bt, start, &cur, &kept);
	return &kept;
}

/* After a refused _at call the tree must be as the model still says. */
static bool at_outcome(const struct gvm_bt *bt, const struct bt_model *m, bool taken,
		       struct at_counts *c)
{
	if (taken) {
		c->taken++;
		return true;
	}
	c->refused++;
	check_equal(bt, m, 0);
	return false;
}

static void do_insert(struct gvm_bt *bt, struct bt_model *m, struct rng *r, uintptr_t *next_tie,
		      struct at_counts *c)
{
	struct gvm_bt_key k = { .start = rng_below(r, nr_starts),
				.tie = (uintptr_t)(rng_next(r) << 24 | (*next_tie)++) };
	struct gvm_bt_path *p;
	unsigned int spare;

	CHECK_ERR("reserve", gvm_bt_reserve(bt, 1, &bt_test_alloc), 0);
	p = path_near(bt, r, k.start, c);
	spare = bt->nr_spare;
	if (!p || !at_outcome(bt, m, gvm_bt_insert_at(bt, p, k), c)) {
		gvm_bt_insert(bt, k);
		kept.leaf = NULL;
	} else if (bt->nr_spare != spare && p->leaf) {
		fail_msg("gvm_bt_insert_at() split the leaf and kept the path");
	}
	bt_model_insert(m, k);
}

static void do_erase(struct gvm_bt *bt, struct bt_model *m, struct rng *r, struct at_counts *c)
{
	size_t i = rng_below(r, m->n);
	struct gvm_bt_path *p = path_near(bt, r, m->k[i].start, c);

	if (!p || !at_outcome(bt, m, gvm_bt_erase_at(bt, p, m->k[i]), c)) {
		gvm_bt_erase(bt, m->k[i]);
		kept.leaf = NULL;
	}
	bt_model_erase(m, i);
}

/*
 * Replace the last key with a random existing start by a new tie: either in
 * place (the old tie comes back) or refused (0, nothing changed).
 */
static bool do_replace(struct gvm_bt *bt, struct bt_model *m, struct rng *r, uintptr_t *next_tie,
		       struct at_counts *c)
{
	struct gvm_bt_key probe = { .start = m->k[rng_below(r, m->n)].start, .tie = UINTPTR_MAX };
	/* A random tie, unique by its low bits: it may sort anywhere among its start's. */
	struct gvm_bt_key k = { .start = probe.start,
				.tie = (uintptr_t)(rng_next(r) << 24 | (*next_tie)++) };
	size_t last = bt_model_lower(m, probe) - 1;
	struct gvm_bt_path *p = path_near(bt, r, k.start, c);
	uintptr_t old = 0;

	if (p && at_outcome(bt, m, (old = gvm_bt_replace_at(bt, p, k)) != 0, c) && !p->leaf)
		fail_msg("gvm_bt_replace_at() ended the path");
	if (!old)
		old = gvm_bt_replace(bt, k);

	if (!old)
		return false;
	CHECK_EQ("replaced tie", old, m->k[last].tie);
	bt_model_erase(m, last);
	bt_model_insert(m, k);
	return true;
}

/*
 * A key to put in place of the model's key @i: a random start between its
 * neighbours' (where it often fits, with a random tie) or anywhere.
 */
static struct gvm_bt_key swap_key(const struct bt_model *m, struct rng *r, size_t i,
				  uintptr_t *next_tie)
{
	uint64_t from = i ? m->k[i - 1].start : 0;
	uint64_t to = i + 1 < m->n ? m->k[i + 1].start : nr_starts;

	if (rng_below(r, 4) == 0)
		from = 0, to = nr_starts;
	return (struct gvm_bt_key){ .start = from + rng_below(r, to - from + 1),
				    .tie = (uintptr_t)(rng_next(r) << 24 | (*next_tie)++) };
}

/*
 * A key gives way to another in its slot (random-at only): through a path,
 * taken where it fits between the neighbours, else an erase and an insert
 * without one. A key not in the tree must be refused.
 */
static void do_swap(struct gvm_bt *bt, struct bt_model *m, struct rng *r, uintptr_t *next_tie,
		    struct at_counts *c)
{
	size_t i = rng_below(r, m->n);
	struct gvm_bt_key old = m->k[i], k = swap_key(m, r, i, next_tie), stranger = old;
	struct gvm_bt_path *p = path_near(bt, r, old.start, c);

	stranger.tie ^= (uintptr_t)1 << 20; /* ties are unique by their low bits */
	if (gvm_bt_swap_at(bt, p, stranger, k))
		fail_msg("gvm_bt_swap_at() took a key that is not in the tree");
	check_equal(bt, m, 0);
	if (at_outcome(bt, m, gvm_bt_swap_at(bt, p, old, k), c)) {
		c->swapped++;
		if (!p->leaf)
			fail_msg("gvm_bt_swap_at() ended the path");
	} else {
		CHECK_ERR("reserve", gvm_bt_reserve(bt, 1, &bt_test_alloc), 0);
		gvm_bt_erase(bt, old);
		gvm_bt_insert(bt, k);
		kept.leaf = NULL;
	}
	bt_model_erase(m, i);
	bt_model_insert(m, k);
}

static void run_random(bool at, uint64_t starts)
{
	struct gvm_bt bt;
	struct bt_model m = { .k = calloc(opt_count + 1, sizeof(*m.k)) };
	struct rng r = { opt_seed };
	uintptr_t next_tie = 1;
	unsigned int in_place = 0, refused = 0;
	struct at_counts counts = { 0 }, *c = at ? &counts : NULL;

	assert_non_null(m.k);
	kept.leaf = NULL;
	nr_starts = starts;
	gvm_bt_init(&bt);
	CHECK_EQ("replace in an empty tree", gvm_bt_replace(&bt, (struct gvm_bt_key){ 0, 1 }), 0);
	for (unsigned int step = 0; step < opt_count; step++) {
		/* random-at: phases of growth and of shrinking, so that leaves borrow and merge. */
		unsigned int what = rng_below(&r, 10), inserts = at && step / 1000 % 2 ? 2 : 5;

		if (!m.n || what < inserts)
			do_insert(&bt, &m, &r, &next_tie, c);
		else if (what < 7)
			do_erase(&bt, &m, &r, c);
		else if (at && what == 7)
			do_swap(&bt, &m, &r, &next_tie, c);
		else if (do_replace(&bt, &m, &r, &next_tie, c))
			in_place++;
		else
			refused++;
		check_equal(&bt, &m, step);
	}
	printf("  %zu keys, height %u: %u replacements in place, %u refused\n", m.n, bt.height,
	       in_place, refused);
	/* Replacements are refused where the new tie does not fit among its start's. */
	if (opt_count >= 10000 && (!in_place || (!refused && starts == NR_STARTS)))
		fail_msg("want both outcomes of gvm_bt_replace() at --count >= 10000");
	if (at)
		printf("  through a path: %u updates in its leaf, %u refused\n", counts.taken,
		       counts.refused);
	if (at)
		printf("  %u swaps in the leaf\n", counts.swapped);
	if (at && opt_count >= 10000 && (!counts.taken || !counts.refused || !counts.swapped))
		fail_msg("want both outcomes of the _at updates, swaps among them, at "
			 "--count >= 10000");
	gvm_bt_fini(&bt, &bt_test_alloc);
	free(m.k);
}

static void test_random(void **state)
{
	(void)state;
	run_random(false, NR_STARTS);
}

static void test_random_at(void **state)
{
	(void)state;
	run_random(true, NR_STARTS);
}

static void test_random_at_spread(void **state)
{
	(void)state;
	run_random(true, (uint64_t)1 << 40);
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
		cmocka_unit_test(test_random_at),
		cmocka_unit_test(test_random_at_spread),
		cmocka_unit_test(test_replace_absent),
	};

	if (tu_parse_args(&args, argc, argv))
		return 2;
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
