/* SPDX-License-Identifier: MIT */
/*
 * Private to vm/: a B+ tree of VAs ordered by (start, address of the VA).
 *
 * DOC: why a B+ tree
 *
 * A VM holds up to millions of VAs and every request looks one up. A binary
 * tree of that size is ~20 levels of pointer chasing, each a likely cache
 * miss; this tree keeps up to 62 entries per 1 KiB node, so a lookup at a
 * million VAs touches 4-5 nodes, of which the upper ones stay cached. At that
 * size the first touch of each lower node is what a lookup waits for: 1 KiB
 * nodes (a level less than 512-byte ones) take about 6% off vm-bench's time
 * per request. The address of the VA breaks ties between equal
 * starts (a doomed VA and its replacement in the pending tree), so every key
 * is unique.
 *
 *   inner  [ k1 | k2 | ... ]          child i holds keys in [k(i), k(i+1))
 *          /     |      \
 *   leaf  [e e e]<->[e e e e]<->[e e]  leaves are linked both ways
 *
 * Insertion may split one node per level and add a root, so it uses nodes
 * reserved beforehand (gvm_bt_reserve()): inside a commit the tree never
 * allocates. Erasure merges or borrows and returns nodes to that reserve.
 */
#ifndef GPUVM_GVM_BTREE_H
#define GPUVM_GVM_BTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GVM_BT_LEAF 62
#define GVM_BT_INNER 41
#define GVM_BT_MAX_HEIGHT 16

struct gvm_bt_key {
	uint64_t start;
	uintptr_t tie;
};

struct gvm_bt_node;

/**
 * struct gvm_bt - the tree.
 * @root: NULL when empty.
 * @height: levels (1: the root is a leaf).
 * @count: entries.
 * @spare/@nr_spare: reserved free nodes (linked through their first word).
 * @nodes: nodes owned (in the tree and spare).
 */
struct gvm_bt {
	struct gvm_bt_node *root;
	unsigned int height;
	uint64_t count;
	struct gvm_bt_node *spare;
	unsigned int nr_spare;
	uint64_t nodes;
};

/*
 * The way down to a leaf: each inner node and where in its starts the search
 * stopped (&start[i] for child i taken), and the leaf (NULL: no path). Valid until the tree's next insert or erase. @slot: where
 * in the leaf the last key looked up or updated through the path goes (a
 * guess the updates check before they use it: the next update of a request
 * is usually there).
 */
struct gvm_bt_path {
	struct gvm_bt_node *node[GVM_BT_MAX_HEIGHT];
	const uint64_t *pos[GVM_BT_MAX_HEIGHT];
	struct gvm_bt_node *leaf;
	unsigned int slot;
};

/* A position: a leaf and an index in it. Invalid after any insert or erase. */
struct gvm_bt_cur {
	struct gvm_bt_node *leaf;
	unsigned int idx;
};

struct gvm_bt_alloc {
	void *(*zalloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr);
	void *ctx;
};

void gvm_bt_init(struct gvm_bt *bt);
/* Free every node (entries are not touched). */
void gvm_bt_fini(struct gvm_bt *bt, const struct gvm_bt_alloc *a);

/*
 * The spare nodes @inserts insertions may need: each splits at most one node
 * per level and adds at most one root, and together they can raise the
 * height by at most a few levels.
 */
static inline uint64_t gvm_bt_spares_for(const struct gvm_bt *bt, unsigned int inserts)
{
	return (uint64_t)inserts * (bt->height + 3) + 1;
}

/* Make sure @inserts insertions can run without allocating. 0 or -ENOMEM. */
int gvm_bt_reserve(struct gvm_bt *bt, unsigned int inserts, const struct gvm_bt_alloc *a);
/* Free spare nodes beyond @keep. */
void gvm_bt_trim(struct gvm_bt *bt, unsigned int keep, const struct gvm_bt_alloc *a);

/* Insert a key that is not in the tree; needs a reservation. */
void gvm_bt_insert(struct gvm_bt *bt, struct gvm_bt_key key);
/* Erase a key that is in the tree. */
void gvm_bt_erase(struct gvm_bt *bt, struct gvm_bt_key key);

/*
 * Put @key in place of the last key starting at or before @key.start, when
 * that key has the same start and the tree stays ordered without touching a
 * separator; return the tie it had, or 0 (nothing changed: erase and insert).
 */
uintptr_t gvm_bt_replace(struct gvm_bt *bt, struct gvm_bt_key key);

/* The last entry with start <= @start; false when there is none. */
bool gvm_bt_find_le(const struct gvm_bt *bt, uint64_t start, struct gvm_bt_cur *cur);
/* The same, and the way down to the leaf where @start belongs into @path. */
bool gvm_bt_find_le_path(const struct gvm_bt *bt, uint64_t start, struct gvm_bt_cur *cur,
			 struct gvm_bt_path *path);

/*
 * The same updates, in the leaf of @path (from gvm_bt_find_le_path(), the
 * tree unchanged since): no descent. Each returns false (0 for replace) and
 * changes nothing when the key is not in that leaf or does not belong there:
 * then do the update without the path. An insert that splits the leaf and an
 * erase that borrows or merges (or empties the root) use the path up and end
 * it (path->leaf = NULL); otherwise the path stays valid for the next update.
 */
bool gvm_bt_insert_at(struct gvm_bt *bt, struct gvm_bt_path *path, struct gvm_bt_key key);
bool gvm_bt_erase_at(struct gvm_bt *bt, struct gvm_bt_path *path, struct gvm_bt_key key);
uintptr_t gvm_bt_replace_at(struct gvm_bt *bt, const struct gvm_bt_path *path,
			    struct gvm_bt_key key);
/*
 * Put @k in place of @old in the leaf of @path, when @old is there and @k
 * fits between its neighbours (or the path's bounds at the leaf's ends): an
 * erase and an insert without their two shifts of the leaf's keys. False,
 * nothing changed, otherwise. The path stays valid.
 */
bool gvm_bt_swap_at(struct gvm_bt *bt, struct gvm_bt_path *path, struct gvm_bt_key old,
		    struct gvm_bt_key k);
/*
 * The ties of the last key starting at or before @start, if any, and of every
 * key after it that starts before @end, in order, into @ties; the way down to
 * the leaf where @start belongs into @path. The number of ties, or -ENOSPC
 * when there are more than @max.
 */
int gvm_bt_collect(const struct gvm_bt *bt, uint64_t start, uint64_t end, struct gvm_bt_path *p,
		   uintptr_t *ties, unsigned int max);
bool gvm_bt_first(const struct gvm_bt *bt, struct gvm_bt_cur *cur);
bool gvm_bt_next(struct gvm_bt_cur *cur);
bool gvm_bt_prev(struct gvm_bt_cur *cur);
struct gvm_bt_key gvm_bt_get(const struct gvm_bt_cur *cur);

/* Bytes of one node (for memory accounting). */
size_t gvm_bt_node_size(void);

/* Every invariant; 0 or -EUCLEAN. */
int gvm_bt_validate(const struct gvm_bt *bt);

#endif /* GPUVM_GVM_BTREE_H */
