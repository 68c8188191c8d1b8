// SPDX-License-Identifier: MIT
/*
 * Tests of the VA manager's intrusive red-black tree (vm/gvm_rbtree.c).
 *
 * - model: a sorted array of item pointers receives the same random inserts,
 *   erases and replacements as the tree; after every call gvm_rb_validate()
 *   passes, the node count, first/last and the in-order walks both ways (by
 *   node identity, so a replacement must really be in place) are the model's,
 *   and the height is within 2 * log2(n + 1).
 * - edge cases: empty tree, one node, erasing the root until empty, erasing
 *   nodes with two children (successor is the right child, or deeper),
 *   replacement at every position, 100k keys inserted in ascending and in
 *   descending order.
 * - the validator: hand-built trees, accepted as built, must be rejected once
 *   broken in exactly one way (one case per invariant), so the model test's
 *   checks cannot be vacuous; a chain a million nodes deep must be rejected
 *   without overflowing the stack.
 *
 * Usage: test-rbtree [--seed N] [--count N]; a model failure prints the
 * arguments that replay it (the seed, and the count that stops right after the
 * failing call).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gvm_rbtree.h"

#define DEFAULT_SEED 0x72627472ull
#define DEFAULT_COUNT 50000u
/* Coverage is asserted only for runs at least this long. */
#define COVERAGE_MIN_COUNT 5000u
/* Keys are drawn from [0, KEY_RANGE): small enough that inserts hit existing keys. */
#define KEY_RANGE 4096u
/* The model test alternates growing and shrinking phases of this many calls. */
#define PHASE_OPS 1500u
#define BIG_N 100000u
#define MSG_LEN 256
/* Deeper than any valid tree in this test: 2 * log2(BIG_N + 1) is 34. */
#define WALK_MAX 64u

/* Command line; cmocka owns main()'s flow, so the test cases read these. */
static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;

/* The key precedes the node so that gvm_rb_entry() has a non-zero offset to undo. */
struct item {
	uint64_t key;
	struct gvm_rb_node node;
};

static struct item *item_of(const struct gvm_rb_node *n)
{
	return n ? gvm_rb_entry(n, struct item, node) : NULL;
}

static int item_cmp(const struct gvm_rb_node *a, const struct gvm_rb_node *b)
{
	uint64_t ka = item_of(a)->key, kb = item_of(b)->key;

	return ka < kb ? -1 : ka > kb;
}

static struct item *item_new(uint64_t key)
{
	struct item *it = calloc(1, sizeof(*it));

	assert_non_null(it);
	it->key = key;
	return it;
}

/* The caller's half of an insertion: walk down by key, link, rebalance. */
static int tree_insert(struct gvm_rb_root *root, struct item *it)
{
	struct gvm_rb_node **link = &root->node, *parent = NULL;

	for (unsigned int depth = 0; *link; depth++) {
		uint64_t k = item_of(*link)->key;

		/* A broken tree may have a cycle: fail rather than hang. */
		if (depth > WALK_MAX)
			fail_msg("insert %" PRIu64 ": no leaf after %u levels", it->key, WALK_MAX);
		if (it->key == k)
			return -EEXIST;
		parent = *link;
		link = it->key < k ? &parent->left : &parent->right;
	}
	gvm_rb_link_node(&it->node, parent, link);
	gvm_rb_insert_color(&it->node, root);
	return 0;
}

/* Height in nodes (0 for an empty tree); only called on validated trees. */
static unsigned int tree_height(const struct gvm_rb_node *n)
{
	unsigned int l, r;

	if (!n)
		return 0;
	l = tree_height(n->left);
	r = tree_height(n->right);
	return 1 + (l > r ? l : r);
}

/* h <= 2 * log2(n + 1), that is 2^h <= (n + 1)^2, in integers. */
static bool height_ok(unsigned int h, size_t n)
{
	uint64_t n1 = (uint64_t)n + 1;

	return h < 64 && (1ull << h) <= n1 * n1;
}

static const char *errname(int err)
{
	static char buf[32];

	switch (err) {
	case 0:
		return "0";
	case -EINVAL:
		return "-EINVAL";
	case -EEXIST:
		return "-EEXIST";
	case -EUCLEAN:
		return "-EUCLEAN";
	default:
		snprintf(buf, sizeof(buf), "%d", err);
		return buf;
	}
}

static bool is_red(const struct gvm_rb_node *n)
{
	return n && !(n->parent_color & 1);
}

/* Walk @len steps with @step from @start; each node must be @want's, then NULL. */
static int walk_diff(struct gvm_rb_node *start,
		     struct gvm_rb_node *(*step)(const struct gvm_rb_node *),
		     struct item *const *want, size_t len, bool backward, char *msg)
{
	struct gvm_rb_node *n = start;

	for (size_t i = 0; i < len; i++) {
		struct item *w = want[backward ? len - 1 - i : i];

		if (!n) {
			snprintf(msg, MSG_LEN, "%s walk: ends after %zu nodes, want %zu",
				 backward ? "backward" : "forward", i, len);
			return -1;
		}
		if (item_of(n) != w) {
			snprintf(msg, MSG_LEN,
				 "%s walk: step %zu is key %" PRIu64 ", want %" PRIu64,
				 backward ? "backward" : "forward", i, item_of(n)->key, w->key);
			return -1;
		}
		n = step(n);
	}
	if (n) {
		snprintf(msg, MSG_LEN, "%s walk: key %" PRIu64 " after the %zu expected nodes",
			 backward ? "backward" : "forward", item_of(n)->key, len);
		return -1;
	}
	return 0;
}

/*
 * Compare the tree with @want (sorted, @len items): invariants, count,
 * first/last, both walks, height bound. Return 0, or -1 with @msg filled.
 */
static int tree_diff(const struct gvm_rb_root *root, struct item *const *want, size_t len,
		     char *msg)
{
	size_t count = SIZE_MAX;
	int rc = gvm_rb_validate(root, item_cmp, &count);
	unsigned int h;

	if (rc) {
		snprintf(msg, MSG_LEN, "gvm_rb_validate returned %s, want 0 (%zu nodes)",
			 errname(rc), len);
		return -1;
	}
	if (count != len) {
		snprintf(msg, MSG_LEN, "gvm_rb_validate counted %zu nodes, want %zu", count, len);
		return -1;
	}
	if (item_of(gvm_rb_first(root)) != (len ? want[0] : NULL) ||
	    item_of(gvm_rb_last(root)) != (len ? want[len - 1] : NULL)) {
		snprintf(msg, MSG_LEN, "first/last are not the smallest/largest of %zu keys", len);
		return -1;
	}
	if (walk_diff(gvm_rb_first(root), gvm_rb_next, want, len, false, msg) ||
	    walk_diff(gvm_rb_last(root), gvm_rb_prev, want, len, true, msg))
		return -1;
	h = tree_height(root->node);
	if (!height_ok(h, len)) {
		snprintf(msg, MSG_LEN, "height %u for %zu nodes, above 2 * log2(n + 1)", h, len);
		return -1;
	}
	return 0;
}

/* splitmix64: small, fast, and the same sequence everywhere. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

/* The reference model: items sorted by key, no duplicates. */
struct model {
	struct item **v;
	size_t n, cap;
};

/* Index of the first item whose key is >= @key. */
static size_t model_find(const struct model *m, uint64_t key)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid]->key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void model_insert_at(struct model *m, size_t i, struct item *it)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		assert_non_null(m->v);
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = it;
	m->n++;
}

static void model_remove_at(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

static size_t model_index_of(const struct model *m, const struct item *it)
{
	size_t i = model_find(m, it->key);

	assert_true(i < m->n && m->v[i] == it);
	return i;
}

/* Free every item and the model. */
static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* What the random run did, to show it reached every kind of call. */
struct counters {
	unsigned int inserts, eexist, replaces, erases;
	unsigned int erase_root, erase_leaf, erase_one_child;
	unsigned int erase_succ_child, erase_succ_deep; /* two children */
	unsigned int empties;
	size_t max_n;
};

struct run {
	struct gvm_rb_root root;
	struct model model;
	struct rng rng;
	unsigned int op;
	char what[96]; /* the current call, for failure messages */
	struct counters n;
};

static void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void run_fail(struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "op %u: %s\n  %s\nreplay with: --seed %" PRIu64 " --count %u\n", r->op,
		r->what, msg, opt_seed, r->op + 1);
	fail_msg("%s", msg);
}

static void run_insert(struct run *r, uint64_t key)
{
	size_t i = model_find(&r->model, key);
	struct item *it = item_new(key);
	bool exists = i < r->model.n && r->model.v[i]->key == key;
	int rc;

	snprintf(r->what, sizeof(r->what), "insert %" PRIu64 " into %zu", key, r->model.n);
	rc = tree_insert(&r->root, it);
	if (rc != (exists ? -EEXIST : 0))
		run_fail(r, "insert returned %s, model says %s", errname(rc),
			 exists ? "-EEXIST" : "0");
	if (exists) {
		free(it);
		r->n.eexist++;
		return;
	}
	model_insert_at(&r->model, i, it);
	r->n.inserts++;
}

/* Replace the @i-th item by a new one with the same key (a VA replaced in place). */
static void run_replace(struct run *r, size_t i)
{
	struct item *old = r->model.v[i], *it = item_new(old->key);

	snprintf(r->what, sizeof(r->what), "replace %" PRIu64 " of %zu", old->key, r->model.n);
	gvm_rb_replace_node(&old->node, &it->node, &r->root);
	r->model.v[i] = it;
	free(old); /* ASan reports the tree if it still touches the old node */
	r->n.replaces++;
}

static void count_erase_shape(struct run *r, const struct gvm_rb_node *n)
{
	if (n == r->root.node)
		r->n.erase_root++;
	if (!n->left && !n->right)
		r->n.erase_leaf++;
	else if (!n->left || !n->right)
		r->n.erase_one_child++;
	else if (!n->right->left)
		r->n.erase_succ_child++;
	else
		r->n.erase_succ_deep++;
}

static void run_erase(struct run *r, struct item *it)
{
	size_t i = model_index_of(&r->model, it);

	snprintf(r->what, sizeof(r->what), "erase %" PRIu64 " of %zu", it->key, r->model.n);
	count_erase_shape(r, &it->node);
	gvm_rb_erase(&it->node, &r->root);
	model_remove_at(&r->model, i);
	free(it);
	r->n.erases++;
	r->n.empties += !r->model.n;
}

/* Erase targets: the root, the ends, or any node. */
static struct item *pick_victim(struct run *r)
{
	switch (rng_below(&r->rng, 8)) {
	case 0:
		return item_of(r->root.node);
	case 1:
		return item_of(gvm_rb_first(&r->root));
	case 2:
		return item_of(gvm_rb_last(&r->root));
	default:
		return r->model.v[rng_below(&r->rng, r->model.n)];
	}
}

/*
 * One random call. Phases alternate between mostly inserting and mostly
 * erasing, so the tree grows to hundreds of nodes and drains to empty.
 */
static void run_op(struct run *r)
{
	bool growing = (r->op / PHASE_OPS) % 2 == 0;
	uint64_t dice = rng_below(&r->rng, 100);
	unsigned int insert_pct = growing ? 70 : 15;
	char msg[MSG_LEN];

	if (!r->model.n || dice < insert_pct)
		run_insert(r, rng_below(&r->rng, KEY_RANGE));
	else if (dice < insert_pct + 10)
		run_replace(r, rng_below(&r->rng, r->model.n));
	else
		run_erase(r, pick_victim(r));
	if (r->model.n > r->n.max_n)
		r->n.max_n = r->model.n;
	if (tree_diff(&r->root, r->model.v, r->model.n, msg))
		run_fail(r, "%s", msg);
}

/* A long run must have reached every shape of erase, and emptied the tree. */
static void check_coverage(struct run *r)
{
	const struct counters *n = &r->n;

	printf("%u inserts (%u -EEXIST), %u replaces, %u erases (%u root, %u leaf, %u one child, "
	       "%u successor child, %u successor deeper), %u times empty, up to %zu nodes\n",
	       n->inserts, n->eexist, n->replaces, n->erases, n->erase_root, n->erase_leaf,
	       n->erase_one_child, n->erase_succ_child, n->erase_succ_deep, n->empties, n->max_n);
	if (opt_count < COVERAGE_MIN_COUNT)
		return;
	if (!n->eexist || !n->replaces || !n->erase_root || !n->erase_leaf || !n->erase_one_child ||
	    !n->erase_succ_child || !n->erase_succ_deep || !n->empties || n->max_n < 500)
		run_fail(r, "the random run did not cover every kind of call");
}

static void test_model(void **state)
{
	struct run *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	r->rng.s = opt_seed;
	for (r->op = 0; r->op < opt_count; r->op++)
		run_op(r);
	check_coverage(r);
	model_free(&r->model);
	free(r);
}

/*
 * Edge-case helpers: a tree of keys built by insertion, with its model.
 */
struct fixture {
	struct gvm_rb_root root;
	struct model model;
};

static void fx_insert(struct fixture *f, uint64_t key)
{
	struct item *it = item_new(key);

	assert_int_equal(tree_insert(&f->root, it), 0);
	model_insert_at(&f->model, model_find(&f->model, key), it);
}

static void fx_erase(struct fixture *f, struct item *it)
{
	gvm_rb_erase(&it->node, &f->root);
	model_remove_at(&f->model, model_index_of(&f->model, it));
	free(it);
}

static void fx_check(struct fixture *f, const char *ctx)
{
	char msg[MSG_LEN];

	if (tree_diff(&f->root, f->model.v, f->model.n, msg))
		fail_msg("%s: %s", ctx, msg);
}

/* Insert 0..n-1 in an order shuffled by a fixed seed. */
static void fx_insert_shuffled(struct fixture *f, unsigned int n, uint64_t seed)
{
	struct rng rng = { seed };
	uint64_t *keys = malloc(n * sizeof(*keys));

	assert_non_null(keys);
	for (unsigned int i = 0; i < n; i++)
		keys[i] = i;
	for (unsigned int i = n; i > 1; i--) {
		unsigned int j = (unsigned int)rng_below(&rng, i);
		uint64_t t = keys[i - 1];

		keys[i - 1] = keys[j];
		keys[j] = t;
	}
	for (unsigned int i = 0; i < n; i++) {
		char ctx[64];

		fx_insert(f, keys[i]);
		snprintf(ctx, sizeof(ctx), "insert %" PRIu64 " (%u of %u)", keys[i], i + 1, n);
		fx_check(f, ctx);
	}
	free(keys);
}

static void test_empty(void **state)
{
	struct gvm_rb_root root = { NULL };
	size_t count = 12345;

	(void)state;
	assert_null(gvm_rb_first(&root));
	assert_null(gvm_rb_last(&root));
	assert_int_equal(gvm_rb_validate(&root, item_cmp, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(gvm_rb_validate(&root, item_cmp, NULL), 0);
	/* Bad arguments are refused and *count is left alone. */
	count = 12345;
	assert_int_equal(gvm_rb_validate(&root, NULL, &count), -EINVAL);
	assert_int_equal(gvm_rb_validate(NULL, item_cmp, &count), -EINVAL);
	assert_int_equal(count, 12345);
}

static void test_single(void **state)
{
	struct fixture f = { 0 };
	struct item *it, *rep;

	(void)state;
	fx_insert(&f, 42);
	it = f.model.v[0];
	fx_check(&f, "one node");
	assert_ptr_equal(f.root.node, &it->node);
	assert_false(is_red(f.root.node));
	assert_null(gvm_rb_next(&it->node));
	assert_null(gvm_rb_prev(&it->node));
	/* Replacing the only node replaces the root. */
	rep = item_new(42);
	gvm_rb_replace_node(&it->node, &rep->node, &f.root);
	f.model.v[0] = rep;
	free(it);
	assert_ptr_equal(f.root.node, &rep->node);
	fx_check(&f, "one node replaced");
	fx_erase(&f, rep);
	assert_null(f.root.node);
	fx_check(&f, "emptied");
	model_free(&f.model);
}

/* Erase whatever node is the root until the tree is empty. */
static void test_erase_root(void **state)
{
	struct fixture f = { 0 };
	char ctx[64];

	(void)state;
	fx_insert_shuffled(&f, 1000, 1);
	fx_check(&f, "built");
	while (f.root.node) {
		struct item *it = item_of(f.root.node);

		snprintf(ctx, sizeof(ctx), "erase root %" PRIu64 " of %zu", it->key, f.model.n);
		fx_erase(&f, it);
		fx_check(&f, ctx);
	}
	assert_int_equal(f.model.n, 0);
	model_free(&f.model);
}

/* The first node in order with two children and the wanted successor shape. */
static struct item *find_two_children(struct fixture *f, bool succ_is_child)
{
	for (struct gvm_rb_node *n = gvm_rb_first(&f->root); n; n = gvm_rb_next(n))
		if (n->left && n->right && (n->right->left == NULL) == succ_is_child)
			return item_of(n);
	return NULL;
}

/*
 * Erase nodes with two children, alternating the two cases of the successor
 * (the right child itself, or deeper in the right subtree), while both exist.
 */
static void test_erase_two_children(void **state)
{
	struct fixture f = { 0 };
	unsigned int done[2] = { 0, 0 };
	char ctx[96];

	(void)state;
	fx_insert_shuffled(&f, 2000, 2);
	for (unsigned int i = 0;; i++) {
		bool succ_is_child = i % 2;
		struct item *it = find_two_children(&f, succ_is_child);

		if (!it && !(it = find_two_children(&f, !succ_is_child)))
			break;
		succ_is_child = it->node.right->left == NULL;
		snprintf(ctx, sizeof(ctx), "erase %" PRIu64 " (two children, successor %s)",
			 it->key, succ_is_child ? "is the right child" : "deeper");
		fx_erase(&f, it);
		fx_check(&f, ctx);
		done[succ_is_child]++;
	}
	printf("erased %u nodes whose successor is deeper, %u whose successor is the right child; "
	       "%zu nodes left\n",
	       done[0], done[1], f.model.n);
	assert_true(done[0] >= 100 && done[1] >= 100);
	model_free(&f.model);
}

/* Replace the root, the ends, and every tenth node; the tree must not notice. */
static void test_replace(void **state)
{
	struct fixture f = { 0 };
	char ctx[64];

	(void)state;
	fx_insert_shuffled(&f, 300, 3);
	for (size_t step = 0; step < f.model.n + 3; step++) {
		struct item *old, *rep;
		size_t i;

		if (step == 0)
			old = item_of(f.root.node);
		else if (step == 1)
			old = f.model.v[0];
		else if (step == 2)
			old = f.model.v[f.model.n - 1];
		else if ((step - 3) % 10 == 0)
			old = f.model.v[step - 3];
		else
			continue;
		i = model_index_of(&f.model, old);
		rep = item_new(old->key);
		gvm_rb_replace_node(&old->node, &rep->node, &f.root);
		f.model.v[i] = rep;
		free(old);
		snprintf(ctx, sizeof(ctx), "replace %" PRIu64, rep->key);
		fx_check(&f, ctx);
	}
	model_free(&f.model);
}

/* @n is 0 or a power of two, or the full count: checking every step would be quadratic. */
static bool checkpoint(size_t n)
{
	return !(n & (n - 1)) || n == BIG_N;
}

static void big_check(const struct gvm_rb_root *root, struct item *const *want, size_t n,
		      const char *what)
{
	char msg[MSG_LEN];

	if (tree_diff(root, want, n, msg))
		fail_msg("%zu keys %s: %s", n, what, msg);
}

/*
 * 100k keys in sorted order, the worst case for an unbalanced tree, then
 * erased in the same order. The items sit in one sorted array, so the tree
 * holds a prefix or a suffix of it at every step.
 */
static void big_ordered(bool descending)
{
	struct gvm_rb_root root = { NULL };
	struct item *items = calloc(BIG_N, sizeof(*items));
	struct item **v = calloc(BIG_N, sizeof(*v));
	assert_non_null(items);
	assert_non_null(v);
	for (unsigned int i = 0; i < BIG_N; i++) {
		items[i].key = i;
		v[i] = &items[i];
	}
	for (size_t n = 1; n <= BIG_N; n++) {
		assert_int_equal(tree_insert(&root, v[descending ? BIG_N - n : n - 1]), 0);
		if (checkpoint(n))
			big_check(&root, descending ? &v[BIG_N - n] : v, n, "inserted");
	}
	printf("%s: %u keys, height %u\n", descending ? "descending" : "ascending", BIG_N,
	       tree_height(root.node));
	for (size_t n = BIG_N; n-- > 0;) {
		gvm_rb_erase(&v[descending ? n : BIG_N - 1 - n]->node, &root);
		if (checkpoint(n))
			big_check(&root, descending ? v : &v[BIG_N - n], n, "left");
	}
	assert_null(root.node);
	free(v);
	free(items);
}

static void test_ascending(void **state)
{
	(void)state;
	big_ordered(false);
}

static void test_descending(void **state)
{
	(void)state;
	big_ordered(true);
}

/*
 * The validator must see each kind of damage on its own. The trees are built
 * by hand: keys in breadth-first order, linked as a plain search tree, with
 * the colors given (R/B). Each case breaks one invariant and leaves the others
 * true, then the fixture is restored and must be accepted again.
 */
#define RAW_MAX 16

struct raw_tree {
	struct gvm_rb_root root;
	struct item items[RAW_MAX];
	unsigned int n;
};

/*
 *            80B
 *        /         \
 *      40R          120B
 *     /    \        /    \
 *   20B    60B   100R   140R
 *  /  \    /  \
 * 10R 30R 50R 70R
 */
static const char raw_spec[] = "80B 40R 120B 20B 60B 100R 140R 10R 30R 50R 70R";

static void raw_build(struct raw_tree *t, const char *spec)
{
	unsigned int key;
	char color;
	int used;

	memset(t, 0, sizeof(*t));
	while (sscanf(spec, " %u%c%n", &key, &color, &used) == 2) {
		struct item *it = &t->items[t->n++];
		struct gvm_rb_node **link = &t->root.node, *parent = NULL;

		assert_true(t->n <= RAW_MAX && (color == 'R' || color == 'B'));
		it->key = key;
		while (*link) {
			parent = *link;
			link = key < item_of(parent)->key ? &parent->left : &parent->right;
		}
		gvm_rb_link_node(&it->node, parent, link);
		it->node.parent_color |= color == 'B';
		spec += used;
	}
}

static struct gvm_rb_node *raw_node(struct raw_tree *t, uint64_t key)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (t->items[i].key == key)
			return &t->items[i].node;
	fail_msg("no key %" PRIu64 " in the hand-built tree", key);
	return NULL;
}

static void set_red(struct gvm_rb_node *n, bool red)
{
	n->parent_color = (n->parent_color & ~(uintptr_t)1) | !red;
}

static void break_root_red(struct raw_tree *t)
{
	set_red(t->root.node, true);
}

static void break_red_red_left(struct raw_tree *t)
{
	/* 20 takes the red of its children: black heights stay equal, 40-20 is red-red. */
	set_red(raw_node(t, 20), true);
	set_red(raw_node(t, 10), false);
	set_red(raw_node(t, 30), false);
}

static void break_red_red_right(struct raw_tree *t)
{
	set_red(raw_node(t, 60), true);
	set_red(raw_node(t, 50), false);
	set_red(raw_node(t, 70), false);
}

static void break_black_height(struct raw_tree *t)
{
	set_red(raw_node(t, 10), false);
}

static void break_parent(struct raw_tree *t)
{
	struct gvm_rb_node *n = raw_node(t, 60);

	n->parent_color = (uintptr_t)raw_node(t, 120) | (n->parent_color & 1);
}

static void break_root_parent(struct raw_tree *t)
{
	t->root.node->parent_color |= (uintptr_t)raw_node(t, 40);
}

static void break_pointer_bits(struct raw_tree *t)
{
	/* Bit 1 is part of the parent's address: set, it no longer names the parent. */
	raw_node(t, 50)->parent_color |= 2;
}

static void break_swapped_keys(struct raw_tree *t)
{
	struct item *a = item_of(raw_node(t, 10)), *b = item_of(raw_node(t, 30));

	a->key = 30;
	b->key = 10;
}

static void break_duplicate_key(struct raw_tree *t)
{
	item_of(raw_node(t, 30))->key = 20;
}

/* In order below its parent 60 but not below the root 80: only a global walk sees it. */
static void break_far_order(struct raw_tree *t)
{
	item_of(raw_node(t, 70))->key = 90;
}

/* A child link back to the root: the walk must stop, not loop. */
static void break_cycle(struct raw_tree *t)
{
	raw_node(t, 10)->left = t->root.node;
}

/**
 * struct break_case - one kind of damage.
 * @name: for messages.
 * @spec: the valid tree to damage (raw_build() syntax).
 * @corrupt: breaks one invariant of it.
 */
struct break_case {
	const char *name;
	const char *spec;
	void (*corrupt)(struct raw_tree *t);
};

/* With black children, a red root breaks no other rule. */
static const char black_root_spec[] = "80B 40B 120B";

static const struct break_case break_cases[] = {
	{ "root red", black_root_spec, break_root_red },
	{ "red node with a red left child", raw_spec, break_red_red_left },
	{ "red node with a red right child", raw_spec, break_red_red_right },
	{ "unequal black heights", raw_spec, break_black_height },
	{ "child points to the wrong parent", raw_spec, break_parent },
	{ "root has a parent", raw_spec, break_root_parent },
	{ "stray bit in the parent address", raw_spec, break_pointer_bits },
	{ "keys swapped", raw_spec, break_swapped_keys },
	{ "duplicate key", raw_spec, break_duplicate_key },
	{ "key out of order across subtrees", raw_spec, break_far_order },
	{ "cycle through a child link", raw_spec, break_cycle },
};

/* Each case: the base tree passes, the damaged one fails and leaves *count alone. */
static void test_validate_catches(void **state)
{
	struct raw_tree t;

	(void)state;
	for (size_t i = 0; i < sizeof(break_cases) / sizeof(break_cases[0]); i++) {
		const struct break_case *c = &break_cases[i];
		size_t count = 777;
		int rc;

		raw_build(&t, c->spec);
		rc = gvm_rb_validate(&t.root, item_cmp, &count);
		if (rc || count != t.n)
			fail_msg("%s: base tree: %s, count %zu; want 0, %u", c->name, errname(rc),
				 count, t.n);
		c->corrupt(&t);
		count = 777;
		rc = gvm_rb_validate(&t.root, item_cmp, &count);
		if (rc != -EUCLEAN || count != 777)
			fail_msg("%s: gvm_rb_validate returned %s, count %zu; want -EUCLEAN, 777",
				 c->name, errname(rc), count);
	}
}

/*
 * A chain far deeper than any valid tree, with consistent parent links: the
 * depth bound must stop the walk before the stack overflows.
 */
static void test_validate_deep(void **state)
{
	const size_t n = 1u << 20;
	struct item *items = calloc(n, sizeof(*items));
	struct gvm_rb_root root = { &items[0].node };
	size_t count = 777;

	(void)state;
	assert_non_null(items);
	for (size_t i = 0; i < n; i++) {
		items[i].key = i;
		items[i].node.parent_color = i ? (uintptr_t)&items[i - 1].node | 1 : 1;
		items[i].node.right = i + 1 < n ? &items[i + 1].node : NULL;
	}
	assert_int_equal(gvm_rb_validate(&root, item_cmp, &count), -EUCLEAN);
	assert_int_equal(count, 777);
	free(items);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || !*s || *end ? -EINVAL : 0;
}

static int parse_args(int argc, char **argv)
{
	uint64_t v;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc || parse_u64(argv[i + 1], &v))
			return -EINVAL;
		if (!strcmp(argv[i], "--seed"))
			opt_seed = v;
		else if (!strcmp(argv[i], "--count") && v <= UINT32_MAX)
			opt_count = (unsigned int)v;
		else
			return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),         cmocka_unit_test(test_single),
		cmocka_unit_test(test_erase_root),    cmocka_unit_test(test_erase_two_children),
		cmocka_unit_test(test_replace),       cmocka_unit_test(test_ascending),
		cmocka_unit_test(test_descending),    cmocka_unit_test(test_validate_catches),
		cmocka_unit_test(test_validate_deep), cmocka_unit_test(test_model),
	};

	if (parse_args(argc, argv)) {
		fprintf(stderr, "usage: %s [--seed N] [--count N]\n", argv[0]);
		return 2;
	}
	printf("test-rbtree: --seed %" PRIu64 " --count %u\n", opt_seed, opt_count);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
