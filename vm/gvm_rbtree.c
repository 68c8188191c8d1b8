// SPDX-License-Identifier: MIT
/*
 * The red-black tree: rebalancing after insert and erase, traversal, and the
 * invariant checker.
 *
 * Every rebalancing case has a mirror image with left and right swapped. The
 * code is written once, for a direction @dir (the side the trouble is on):
 * child() picks the link and rb_flip() the other side. This halves the code
 * and keeps the two mirror images from drifting apart.
 */
#include <errno.h>
#include <stdbool.h>

#include "gvm_rbtree.h"

#define RB_RED 0u
#define RB_BLACK 1u
#define RB_COLOR_MASK ((uintptr_t)1)

enum rb_dir {
	RB_LEFT = 0,
	RB_RIGHT = 1,
};

/*
 * A valid tree of n nodes is at most 2 * log2(n + 1) high, and fewer than
 * 2^64 / sizeof(struct gvm_rb_node) nodes fit in memory: 128 levels is more
 * than any valid tree has, so a deeper walk means a corrupted tree.
 */
#define RB_MAX_HEIGHT 128u

static inline struct gvm_rb_node *rb_parent(const struct gvm_rb_node *n)
{
	return (struct gvm_rb_node *)(n->parent_color & ~RB_COLOR_MASK);
}

static inline unsigned int rb_color(const struct gvm_rb_node *n)
{
	return n->parent_color & RB_COLOR_MASK;
}

/* NULL children are the black leaves of the textbook tree. */
static inline bool rb_is_red(const struct gvm_rb_node *n)
{
	return n && rb_color(n) == RB_RED;
}

static inline bool rb_is_black(const struct gvm_rb_node *n)
{
	return !rb_is_red(n);
}

static inline void rb_set_parent(struct gvm_rb_node *n, struct gvm_rb_node *parent)
{
	n->parent_color = (uintptr_t)parent | rb_color(n);
}

static inline void rb_set_color(struct gvm_rb_node *n, unsigned int color)
{
	n->parent_color = (n->parent_color & ~RB_COLOR_MASK) | color;
}

static inline struct gvm_rb_node **child(struct gvm_rb_node *n, enum rb_dir dir)
{
	return dir == RB_LEFT ? &n->left : &n->right;
}

static inline enum rb_dir rb_flip(enum rb_dir dir)
{
	return dir == RB_LEFT ? RB_RIGHT : RB_LEFT;
}

/* The side of @parent that @n hangs on (@n may be a NULL leaf if its sibling is not). */
static inline enum rb_dir rb_side(const struct gvm_rb_node *parent, const struct gvm_rb_node *n)
{
	return parent->left == n ? RB_LEFT : RB_RIGHT;
}

/* Make @parent's link to @old (or the root's, for no parent) point to @new. */
static inline void rb_change_child(struct gvm_rb_root *root, struct gvm_rb_node *parent,
				   struct gvm_rb_node *old, struct gvm_rb_node *new)
{
	if (!parent)
		root->node = new;
	else
		*child(parent, rb_side(parent, old)) = new;
}

/*
 * Rotate @x down toward @dir: its child on the other side takes its place and
 * @x becomes that child's @dir child. In-order is unchanged, colors untouched.
 *
 *	    x                 y          (dir = RB_LEFT; RB_RIGHT mirrors it)
 *	   / \               / \
 *	  a   y     ->      x   c
 *	     / \           / \
 *	    b   c         a   b
 */
static void rb_rotate(struct gvm_rb_root *root, struct gvm_rb_node *x, enum rb_dir dir)
{
	enum rb_dir up = rb_flip(dir);
	struct gvm_rb_node *y = *child(x, up);
	struct gvm_rb_node *b = *child(y, dir);
	struct gvm_rb_node *parent = rb_parent(x);

	*child(x, up) = b;
	if (b)
		rb_set_parent(b, x);
	rb_set_parent(y, parent);
	rb_change_child(root, parent, x, y);
	*child(y, dir) = x;
	rb_set_parent(x, y);
}

/*
 * A red node @n may have a red parent p (never the root, which is black, so
 * the grandparent g exists). With a red uncle, push the red up: p and the
 * uncle turn black, g red, and g may now clash with its own parent. With a
 * black uncle, at most two rotations end it: first make n an outer grandchild,
 * then rotate g away from p so that p, now black, takes g's place.
 */
void gvm_rb_insert_color(struct gvm_rb_node *n, struct gvm_rb_root *root)
{
	struct gvm_rb_node *p, *g, *uncle;

	while ((p = rb_parent(n)) && rb_is_red(p)) {
		enum rb_dir dir;

		g = rb_parent(p);
		dir = rb_side(g, p);
		uncle = *child(g, rb_flip(dir));
		if (rb_is_red(uncle)) {
			rb_set_color(p, RB_BLACK);
			rb_set_color(uncle, RB_BLACK);
			rb_set_color(g, RB_RED);
			n = g;
			continue;
		}
		if (n == *child(p, rb_flip(dir))) {
			rb_rotate(root, p, dir);
			n = p;
			p = rb_parent(n);
		}
		rb_set_color(p, RB_BLACK);
		rb_set_color(g, RB_RED);
		rb_rotate(root, g, rb_flip(dir));
		break;
	}
	rb_set_color(root->node, RB_BLACK);
}

/*
 * One step of the erase fix-up: the subtree at @x (maybe a NULL leaf) under
 * @parent is one black short ("doubly black"). Return the next doubly black
 * node to fix, or NULL when done. The sibling s is not NULL: its side has at
 * least one black more than @x's.
 *   1. red s: rotate it above @parent, which turns red; the new sibling is
 *      black, and cases 2-4 follow (case 2 then ends at the red @parent).
 *   2. black s with two black children: s turns red, the deficit moves up.
 *   3. black s, far child black, near child red: rotate the near child up to
 *      be the sibling, with s as its far child; case 4 follows.
 *   4. black s, far child red: rotate s above @parent, recolor; done.
 */
static struct gvm_rb_node *rb_erase_step(struct gvm_rb_root *root, struct gvm_rb_node *x,
					 struct gvm_rb_node *parent)
{
	enum rb_dir dir = rb_side(parent, x), far = rb_flip(dir);
	struct gvm_rb_node *s = *child(parent, far);

	if (rb_is_red(s)) {
		rb_set_color(s, RB_BLACK);
		rb_set_color(parent, RB_RED);
		rb_rotate(root, parent, dir);
		s = *child(parent, far);
	}
	if (rb_is_black(s->left) && rb_is_black(s->right)) {
		rb_set_color(s, RB_RED);
		return parent;
	}
	if (rb_is_black(*child(s, far))) {
		/*
		 * The textbook recolors the near child black and s red here; case 4
		 * sets both colors again right after, so the rotation is enough.
		 */
		rb_rotate(root, s, far);
		s = *child(parent, far);
	}
	rb_set_color(s, rb_color(parent));
	rb_set_color(parent, RB_BLACK);
	rb_set_color(*child(s, far), RB_BLACK);
	rb_rotate(root, parent, dir);
	return NULL;
}

/* A red @x absorbs the missing black; so does the root (every path lost one). */
static void rb_erase_fixup(struct gvm_rb_root *root, struct gvm_rb_node *x,
			   struct gvm_rb_node *parent)
{
	while (x != root->node && rb_is_black(x)) {
		x = rb_erase_step(root, x, parent);
		if (!x)
			return;
		parent = rb_parent(x);
	}
	if (x)
		rb_set_color(x, RB_BLACK);
}

/* Put @v (maybe NULL) where @u is; @u's own links are left as they were. */
static void rb_transplant(struct gvm_rb_root *root, struct gvm_rb_node *u, struct gvm_rb_node *v)
{
	struct gvm_rb_node *parent = rb_parent(u);

	rb_change_child(root, parent, u, v);
	if (v)
		rb_set_parent(v, parent);
}

static struct gvm_rb_node *rb_leftmost(struct gvm_rb_node *n)
{
	while (n->left)
		n = n->left;
	return n;
}

static struct gvm_rb_node *rb_rightmost(struct gvm_rb_node *n)
{
	while (n->right)
		n = n->right;
	return n;
}

/*
 * A node with at most one child is spliced out. A node with two children is
 * replaced by its successor y (leftmost of the right subtree, so y has no left
 * child), which takes the node's color: the black that may go missing is y's
 * old one, at y's old place. Only when the color removed was black is there a
 * fix-up, starting at the child x (maybe NULL) that took that place, under
 * @parent.
 */
void gvm_rb_erase(struct gvm_rb_node *n, struct gvm_rb_root *root)
{
	struct gvm_rb_node *x, *parent, *y;
	bool removed_black;

	if (!n->left || !n->right) {
		x = n->left ? n->left : n->right;
		parent = rb_parent(n);
		removed_black = rb_color(n) == RB_BLACK;
		rb_transplant(root, n, x);
	} else {
		y = rb_leftmost(n->right);
		x = y->right;
		removed_black = rb_color(y) == RB_BLACK;
		if (rb_parent(y) == n) {
			parent = y;
		} else {
			parent = rb_parent(y);
			rb_transplant(root, y, x);
			y->right = n->right;
			rb_set_parent(y->right, y);
		}
		rb_transplant(root, n, y);
		y->left = n->left;
		rb_set_parent(y->left, y);
		rb_set_color(y, rb_color(n));
	}
	if (removed_black)
		rb_erase_fixup(root, x, parent);
}

void gvm_rb_replace_node(struct gvm_rb_node *old, struct gvm_rb_node *new, struct gvm_rb_root *root)
{
	*new = *old;
	rb_change_child(root, rb_parent(old), old, new);
	if (new->left)
		rb_set_parent(new->left, new);
	if (new->right)
		rb_set_parent(new->right, new);
}

struct gvm_rb_node *gvm_rb_first(const struct gvm_rb_root *root)
{
	return root->node ? rb_leftmost(root->node) : NULL;
}

struct gvm_rb_node *gvm_rb_last(const struct gvm_rb_root *root)
{
	return root->node ? rb_rightmost(root->node) : NULL;
}

/* Without a right subtree, the successor is the first ancestor we are left of. */
struct gvm_rb_node *gvm_rb_next(const struct gvm_rb_node *n)
{
	struct gvm_rb_node *p;

	if (n->right)
		return rb_leftmost(n->right);
	while ((p = rb_parent(n)) && n == p->right)
		n = p;
	return p;
}

struct gvm_rb_node *gvm_rb_prev(const struct gvm_rb_node *n)
{
	struct gvm_rb_node *p;

	if (n->left)
		return rb_rightmost(n->left);
	while ((p = rb_parent(n)) && n == p->left)
		n = p;
	return p;
}

struct rb_check {
	int (*cmp)(const struct gvm_rb_node *a, const struct gvm_rb_node *b);
	const struct gvm_rb_node *prev; /* last node seen in order */
	size_t count;
};

/*
 * Check the subtree at @n, a child of @parent, @depth levels below the root.
 * Return its black height (NULL leaves count 1), or -EUCLEAN.
 */
static int rb_check_subtree(struct rb_check *c, const struct gvm_rb_node *n,
			    const struct gvm_rb_node *parent, unsigned int depth)
{
	int lh, rh;

	if (!n)
		return 1;
	if (depth >= RB_MAX_HEIGHT || rb_parent(n) != parent)
		return -EUCLEAN;
	if (rb_is_red(n) && (rb_is_red(n->left) || rb_is_red(n->right)))
		return -EUCLEAN;
	lh = rb_check_subtree(c, n->left, n, depth + 1);
	if (lh < 0)
		return lh;
	if (c->prev && c->cmp(c->prev, n) >= 0)
		return -EUCLEAN;
	c->prev = n;
	c->count++;
	rh = rb_check_subtree(c, n->right, n, depth + 1);
	if (rh < 0)
		return rh;
	if (lh != rh)
		return -EUCLEAN;
	return lh + (rb_color(n) == RB_BLACK);
}

int gvm_rb_validate(const struct gvm_rb_root *root,
		    int (*cmp)(const struct gvm_rb_node *a, const struct gvm_rb_node *b),
		    size_t *count)
{
	struct rb_check c = { .cmp = cmp };
	int ret;

	if (!root || !cmp)
		return -EINVAL;
	if (rb_is_red(root->node))
		return -EUCLEAN;
	ret = rb_check_subtree(&c, root->node, NULL, 0);
	if (ret < 0)
		return ret;
	if (count)
		*count = c.count;
	return 0;
}
