/* SPDX-License-Identifier: MIT */
/*
 * Private to vm/.
 *
 * DOC: intrusive red-black tree
 *
 * A red-black tree with parent pointers (CLRS chapter 13) whose nodes are
 * embedded in the caller's objects: the tree never allocates, so it can be
 * used inside a commit, on the fence-signalling path where allocation may
 * deadlock against memory reclaim. A missing child is NULL; NULL counts as a
 * black leaf.
 *
 * The tree knows nothing of keys. The caller walks down comparing its own
 * keys, then links the new node where the walk fell off the tree and
 * rebalances:
 *
 *	struct gvm_rb_node **link = &root->node, *parent = NULL;
 *
 *	while (*link) {
 *		parent = *link;
 *		link = key < gvm_rb_entry(parent, struct foo, node)->key ?
 *		       &parent->left : &parent->right;
 *	}
 *	gvm_rb_link_node(&foo->node, parent, link);
 *	gvm_rb_insert_color(&foo->node, root);
 *
 * The invariants (checked by gvm_rb_validate()): the root is black; a red node
 * has no red child; every path from a node down to a NULL leaf crosses the
 * same number of black nodes; so the height is at most 2 * log2(n + 1) and
 * every operation is O(log n) (gvm_rb_replace_node() is O(1)).
 *
 * Context: the tree has no lock; the caller serializes every call on one tree
 * (readers included: a rotation moves nodes under a concurrent walker).
 */
#ifndef GPUVM_GVM_RBTREE_H
#define GPUVM_GVM_RBTREE_H

#include <stddef.h>
#include <stdint.h>

/*
 * struct gvm_rb_node is defined in <gpuvm/gvm.h>, because the public struct
 * gvm_va embeds one: @parent_color holds the parent's address (NULL for the
 * root) with the color in bit 0 (0 red, 1 black; nodes are pointer-aligned,
 * and red being 0 lets gvm_rb_link_node() link a red node with one store);
 * @left/@right are the subtrees of smaller and larger keys.
 */
#include <gpuvm/gvm.h>
_Static_assert(_Alignof(struct gvm_rb_node) >= 2, "bit 0 of a node address holds the color");

/**
 * struct gvm_rb_root - a tree.
 * @node: the root node, or NULL for an empty tree. Zero-initialize.
 */
struct gvm_rb_root {
	struct gvm_rb_node *node;
};

/**
 * gvm_rb_entry() - the object that embeds a node.
 * @ptr: pointer to the node (not NULL).
 * @type: type of the object.
 * @member: name of the node in @type.
 *
 * The unevaluated branch of the conditional makes a @ptr of the wrong type
 * a compiler warning (an error with -Werror) rather than a silent bad cast.
 */
#define gvm_rb_entry(ptr, type, member) \
	((type *)((char *)(1 ? (ptr) : &((type *)0)->member) - offsetof(type, member)))

/**
 * gvm_rb_link_node() - hang a node at the place a search ended.
 * @node: the new node; its previous contents are ignored.
 * @parent: the last node the search visited, or NULL for an empty tree.
 * @link: &parent->left or &parent->right (the NULL child the search stopped
 *	at), or &root->node for an empty tree.
 *
 * The node is linked red, with no children; the tree may now break the
 * red-black rules, so call gvm_rb_insert_color() next.
 * Context: O(1), no allocation.
 */
static inline void gvm_rb_link_node(struct gvm_rb_node *node, struct gvm_rb_node *parent,
				    struct gvm_rb_node **link)
{
	node->parent_color = (uintptr_t)parent;
	node->left = NULL;
	node->right = NULL;
	*link = node;
}

/**
 * gvm_rb_insert_color() - rebalance after gvm_rb_link_node().
 * @node: the node just linked.
 * @root: its tree.
 *
 * Context: O(log n) time, at most two rotations, no allocation.
 */
void gvm_rb_insert_color(struct gvm_rb_node *node, struct gvm_rb_root *root);

/**
 * gvm_rb_erase() - remove a node.
 * @node: a node of @root.
 * @root: its tree.
 *
 * The other nodes keep their addresses (the caller's pointers to them stay
 * valid); @node's own fields are left undefined and may be reused.
 * Context: O(log n) time, at most three rotations, no allocation.
 */
void gvm_rb_erase(struct gvm_rb_node *node, struct gvm_rb_root *root);

/**
 * gvm_rb_replace_node() - put a node in the place of another.
 * @old: a node of @root.
 * @new: a node not in any tree, whose key orders exactly as @old's does
 *	(anything between @old's neighbours); the tree does not check it.
 * @root: the tree.
 *
 * @new takes @old's color, parent and children: no rebalancing is needed.
 * @old's fields are left as they were and must not be used as a tree node.
 * Context: O(1), no allocation.
 */
void gvm_rb_replace_node(struct gvm_rb_node *old, struct gvm_rb_node *new,
			 struct gvm_rb_root *root);

/**
 * gvm_rb_first() - the node with the smallest key.
 * @root: the tree.
 *
 * Return: the leftmost node, or NULL for an empty tree.
 */
struct gvm_rb_node *gvm_rb_first(const struct gvm_rb_root *root);

/**
 * gvm_rb_last() - the node with the largest key.
 * @root: the tree.
 *
 * Return: the rightmost node, or NULL for an empty tree.
 */
struct gvm_rb_node *gvm_rb_last(const struct gvm_rb_root *root);

/**
 * gvm_rb_next() - the in-order successor.
 * @node: a node of a tree (not NULL).
 *
 * Return: the node with the next larger key, or NULL after the last.
 * Context: O(log n) worst case, O(1) amortized over a full traversal.
 */
struct gvm_rb_node *gvm_rb_next(const struct gvm_rb_node *node);

/**
 * gvm_rb_prev() - the in-order predecessor.
 * @node: a node of a tree (not NULL).
 *
 * Return: the node with the next smaller key, or NULL before the first.
 * Context: O(log n) worst case, O(1) amortized over a full traversal.
 */
struct gvm_rb_node *gvm_rb_prev(const struct gvm_rb_node *node);

/**
 * gvm_rb_validate() - check every invariant of a tree (debugging aid).
 * @root: the tree.
 * @cmp: mandatory: the caller's key order; negative, 0 or positive as @a's
 *	key is smaller than, equal to or larger than @b's.
 * @count: where to store the number of nodes on success, or NULL.
 *
 * Checks that the root is black and has no parent, that no red node has a
 * red child, that every path to a leaf has the same number of black nodes,
 * that every child points back to its parent, and that an in-order walk sees
 * strictly increasing keys (so equal keys are reported too). The depth of the
 * walk is bounded, so a corrupted tree (even a cycle) cannot make it loop or
 * overflow the stack. On failure *@count is not written.
 * Context: O(n) time, O(height) stack, no allocation; no concurrent writer.
 * Return: 0; -EUCLEAN when an invariant is broken; -EINVAL when @root or @cmp
 *	is NULL.
 */
int gvm_rb_validate(const struct gvm_rb_root *root,
		    int (*cmp)(const struct gvm_rb_node *a, const struct gvm_rb_node *b),
		    size_t *count);

#endif /* GPUVM_GVM_RBTREE_H */
