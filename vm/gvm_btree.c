// SPDX-License-Identifier: MIT
/*
 * The B+ tree of VAs (DOC: why a B+ tree in gvm_btree.h).
 *
 * Inner node: child[i] holds the keys k with key[i-1] <= k < key[i]. A
 * separator is the first key of its right subtree when made; erasing that key
 * later leaves it a valid bound, so erasure never rewrites ancestors.
 */
#include <gpuvm/os.h>

#include "gvm_btree.h"

/*
 * A leaf may fall to a quarter full before it borrows or merges: leaves that
 * appends filled half (a split keeps half) then take many erases before one
 * rebalances, and a merged leaf (under half full) has room for many inserts,
 * so a VM that maps and unmaps at random does not restructure on every other
 * erase. Inner nodes keep half: their changes are rare and cost more levels.
 */
#define LEAF_MIN (GVM_BT_LEAF / 4)
#define INNER_MIN (GVM_BT_INNER / 4)

/*
 * A full node splits in the middle - but where the new key goes past the end
 * of the tree, the left node keeps three quarters. VAs are mostly made upwards
 * (a VM filled from its start, or VA allocators handing out increasing
 * addresses): with even splits every node behind an ascending fill stays half
 * full, which at a million VAs makes the tree a level taller (one more search
 * and cache miss per lookup) and its index half again as big. The right node
 * keeps room for the fill to go on. A quarter is then the least an inner node
 * may hold, like a leaf (above).
 */
#define APPEND_SPLIT(cap) ((cap)*3 / 4)

/*
 * Keys are stored as two arrays (starts, then ties) rather than as pairs: a
 * lookup searches the starts alone and reads a tie only where starts are equal
 * (repeat VAs, a VA and its replacement in the pending tree), so it touches
 * half the cache lines of a node.
 */
struct keys {
	uint64_t *start;
	uintptr_t *tie;
};

struct gvm_bt_node {
	uint16_t nr; /* entries of a leaf, keys of an inner node */
	uint16_t leaf;
	union {
		struct {
			struct gvm_bt_node *prev, *next;
			uint64_t start[GVM_BT_LEAF];
			uintptr_t tie[GVM_BT_LEAF];
		} l;
		struct {
			uint64_t start[GVM_BT_INNER];
			uintptr_t tie[GVM_BT_INNER];
			struct gvm_bt_node *child[GVM_BT_INNER + 1];
		} in;
	};
};

static struct keys keys_of(struct gvm_bt_node *n)
{
	if (n->leaf)
		return (struct keys){ n->l.start, n->l.tie };
	return (struct keys){ n->in.start, n->in.tie };
}

static struct gvm_bt_key key_at(struct keys k, unsigned int i)
{
	return (struct gvm_bt_key){ k.start[i], k.tie[i] };
}

static void key_set(struct keys k, unsigned int i, struct gvm_bt_key v)
{
	k.start[i] = v.start;
	k.tie[i] = v.tie;
}

/* Move @n keys from index @from to index @to (overlap allowed). */
static void keys_move(struct keys dst, unsigned int to, struct keys src, unsigned int from,
		      unsigned int n)
{
	memmove(&dst.start[to], &src.start[from], n * sizeof(dst.start[0]));
	memmove(&dst.tie[to], &src.tie[from], n * sizeof(dst.tie[0]));
}

static int cmp(struct gvm_bt_key a, struct gvm_bt_key b)
{
	if (a.start != b.start)
		return a.start < b.start ? -1 : 1;
	return (a.tie > b.tie) - (a.tie < b.tie);
}

/*
 * Ask for every line of a node's starts at once, so that a cold node's misses
 * overlap: one prefetch per line of the array, unrolled (@cap is a constant at
 * each call).
 */
static inline void prefetch_starts(const uint64_t *start, unsigned int cap)
{
	for (unsigned int i = 0; i < cap; i += 64 / sizeof(*start))
		__builtin_prefetch(&start[i]);
}

/*
 * The first of the starts not below @x in an array of @cap (a constant at each
 * call; &start[@cap] if none) whose unused slots past the keys hold UINT64_MAX, below no @x: the answer is
 * the same without the key count, so every node of a kind is searched in the
 * same steps, with no count to load and no step count to pick.
 *
 * The search is unrolled. The answer c is one of @cap + 1 values; with w the
 * greatest power of two <= @cap (so @cap + 1 <= 2w), the first comparison, of
 * start[@cap - w], leaves w candidates, [0, @cap - w] or [@cap - w + 1, @cap],
 * and each later step halves them: log2(2w) comparisons in all, six for a leaf
 * and for an inner node. The candidates' base is kept as a pointer, not an
 * index: a step is then a compare with a constant displacement and an add
 * (no address to compute), a third fewer instructions per level.
 */
static inline const uint64_t *first_not_below(const uint64_t *start, unsigned int cap, uint64_t x)
{
	unsigned int window = 1u << (31u - (unsigned int)__builtin_clz(cap));
	const uint64_t *base = start[cap - window] < x ? start + cap - window + 1 : start;

	for (unsigned int h = window / 2; h; h /= 2)
		base = base[h - 1] < x ? base + h : base;
	return base;
}

/* Number of the starts below @x (first_not_below()). */
static inline unsigned int count_below_all(const uint64_t *start, unsigned int cap, uint64_t x)
{
	return (unsigned int)(first_not_below(start, cap, x) - start);
}

/*
 * Number of the keys of @node that are <= @x. Ties are read only where starts
 * are equal; a probe with the greatest tie (lookups by start) counts the
 * starts below @x.start + 1 and needs none.
 */
static unsigned int count_le(struct gvm_bt_node *node, struct gvm_bt_key x)
{
	struct keys k = keys_of(node);
	bool by_start = x.tie == UINTPTR_MAX && x.start != UINT64_MAX;
	uint64_t below = by_start ? x.start + 1 : x.start;
	unsigned int n = node->nr, c;

	c = node->leaf ? count_below_all(k.start, GVM_BT_LEAF, below) :
			 count_below_all(k.start, GVM_BT_INNER, below);
	while (c < n && k.start[c] == x.start && k.tie[c] <= x.tie)
		c++;
	return c;
}

/* Slots from @from on are unused: their starts read UINT64_MAX (count_below_all()). */
static void clear_starts(struct gvm_bt_node *n, unsigned int from)
{
	unsigned int cap = n->leaf ? GVM_BT_LEAF : GVM_BT_INNER;
	uint64_t *start = keys_of(n).start;

	for (unsigned int i = from; i < cap; i++)
		start[i] = UINT64_MAX;
}

/* The node just lost its last key's slot. */
static void clear_last(struct gvm_bt_node *n)
{
	keys_of(n).start[n->nr] = UINT64_MAX;
}

size_t gvm_bt_node_size(void)
{
	return sizeof(struct gvm_bt_node);
}

void gvm_bt_init(struct gvm_bt *bt)
{
	memset(bt, 0, sizeof(*bt));
}

static struct gvm_bt_node *take_spare(struct gvm_bt *bt, bool leaf)
{
	struct gvm_bt_node *n = bt->spare;

	os_assert(n && "B+ tree insertion without a reservation");
	bt->spare = n->l.prev;
	bt->nr_spare--;
	memset(n, 0, sizeof(*n));
	n->leaf = leaf;
	clear_starts(n, 0);
	return n;
}

static void give_spare(struct gvm_bt *bt, struct gvm_bt_node *n)
{
	n->l.prev = bt->spare;
	bt->spare = n;
	bt->nr_spare++;
}

int gvm_bt_reserve(struct gvm_bt *bt, unsigned int inserts, const struct gvm_bt_alloc *a)
{
	uint64_t need = gvm_bt_spares_for(bt, inserts);

	while (bt->nr_spare < need) {
		struct gvm_bt_node *n = a->zalloc(a->ctx, sizeof(*n));

		if (!n)
			return -ENOMEM;
		bt->nodes++;
		give_spare(bt, n);
	}
	return 0;
}

void gvm_bt_trim(struct gvm_bt *bt, unsigned int keep, const struct gvm_bt_alloc *a)
{
	while (bt->nr_spare > keep) {
		struct gvm_bt_node *n = bt->spare;

		bt->spare = n->l.prev;
		bt->nr_spare--;
		bt->nodes--;
		a->free(a->ctx, n);
	}
}

static void free_subtree(struct gvm_bt_node *n, const struct gvm_bt_alloc *a)
{
	if (!n->leaf)
		for (unsigned int i = 0; i <= n->nr; i++)
			free_subtree(n->in.child[i], a);
	a->free(a->ctx, n);
}

void gvm_bt_fini(struct gvm_bt *bt, const struct gvm_bt_alloc *a)
{
	if (bt->root)
		free_subtree(bt->root, a);
	gvm_bt_trim(bt, 0, a);
	gvm_bt_init(bt);
}

/* The index of the child that path @p took at depth @lvl. */
static inline unsigned int path_idx(const struct gvm_bt_path *p, unsigned int lvl)
{
	return (unsigned int)(p->pos[lvl] - p->node[lvl]->in.start);
}

/* Walk down to the leaf where @k belongs, recording the path. */
static struct gvm_bt_node *descend(const struct gvm_bt *bt, struct gvm_bt_key k,
				   struct gvm_bt_path *p)
{
	struct gvm_bt_node *n = bt->root;

	for (unsigned int lvl = 0; !n->leaf; lvl++) {
		unsigned int i;

		prefetch_starts(n->in.start, GVM_BT_INNER);
		i = count_le(n, k);

		p->node[lvl] = n;
		p->pos[lvl] = &n->in.start[i];
		n = n->in.child[i];
	}
	return n;
}

/*
 * Insert @k at index @i of leaf @l, which has room. The ties are shifted
 * first: only the starts' place and @k.start are then needed after the calls.
 */
static void leaf_insert_at(struct gvm_bt_node *l, unsigned int i, struct gvm_bt_key k)
{
	uint64_t *start = &l->l.start[i];
	uintptr_t *tie = &l->l.tie[i];
	size_t after = l->nr - i;

	memmove(tie + 1, tie, after * sizeof(*tie));
	*tie = k.tie;
	memmove(start + 1, start, after * sizeof(*start));
	*start = k.start;
	l->nr++;
}

/* Remove entry @i of leaf @l. */
static void leaf_remove(struct gvm_bt_node *l, unsigned int i)
{
	uint64_t *start = &l->l.start[i];
	uintptr_t *tie = &l->l.tie[i];
	size_t after = l->nr - i - 1u;

	memmove(start, start + 1, after * sizeof(*start));
	l->l.start[--l->nr] = UINT64_MAX; /* the slot left unused (count_below_all()) */
	memmove(tie, tie + 1, after * sizeof(*tie));
}

/* Is key (@s1, @t1) below key (@s2, @t2)? cmp() without its three ways. */
static inline bool key_below(uint64_t s1, uintptr_t t1, uint64_t s2, uintptr_t t2)
{
	return s1 < s2 || (s1 == s2 && t1 < t2);
}

static void leaf_insert(struct gvm_bt_node *l, struct gvm_bt_key k)
{
	leaf_insert_at(l, count_le(l, k), k);
}

/* Is @i the number of keys <= @k in leaf @l (@i <= its count)? */
static bool slot_fits(const struct gvm_bt_node *l, unsigned int i, struct gvm_bt_key k)
{
	return (!i || !key_below(k.start, k.tie, l->l.start[i - 1], l->l.tie[i - 1])) &&
	       (i == l->nr || key_below(k.start, k.tie, l->l.start[i], l->l.tie[i]));
}

/*
 * The number of keys <= @k in the leaf of path @p: the path's slot or a slot
 * next to it when the keys around say so (two comparisons each), else a
 * search. A request's updates go one after another: an erase finds the next
 * doomed key one further on, an insert after a piece it made one before.
 */
static unsigned int slot_of(const struct gvm_bt_path *p, struct gvm_bt_key k)
{
	struct gvm_bt_node *l = p->leaf;
	unsigned int i = p->slot;

	if (i > l->nr)
		return count_le(l, k);
	if (slot_fits(l, i, k))
		return i;
	if (i && key_below(k.start, k.tie, l->l.start[i - 1], l->l.tie[i - 1]))
		return slot_fits(l, i - 1, k) ? i - 1 : count_le(l, k);
	return i < l->nr && slot_fits(l, i + 1, k) ? i + 1 : count_le(l, k);
}

/* Does @k go past the end of the tree, whose leaf @l is full? */
static bool appends(const struct gvm_bt_node *l, struct gvm_bt_key k)
{
	return !l->l.next && cmp(k, key_at(keys_of((struct gvm_bt_node *)l), l->nr - 1u)) > 0;
}

/* Split full leaf @l, insert @k; return the new right leaf. */
static struct gvm_bt_node *split_leaf(struct gvm_bt *bt, struct gvm_bt_node *l, struct gvm_bt_key k,
				      bool append)
{
	struct gvm_bt_node *r = take_spare(bt, true);
	unsigned int mid = append ? APPEND_SPLIT(GVM_BT_LEAF) : GVM_BT_LEAF / 2;

	r->nr = (uint16_t)(l->nr - mid);
	keys_move(keys_of(r), 0, keys_of(l), mid, r->nr);
	l->nr = (uint16_t)mid;
	clear_starts(l, mid);
	r->l.next = l->l.next;
	r->l.prev = l;
	if (r->l.next)
		r->l.next->l.prev = r;
	l->l.next = r;
	leaf_insert(cmp(k, key_at(keys_of(r), 0)) < 0 ? l : r, k);
	return r;
}

static void inner_insert_at(struct gvm_bt_node *n, unsigned int i, struct gvm_bt_key sep,
			    struct gvm_bt_node *right)
{
	struct keys nk = keys_of(n);

	keys_move(nk, i + 1, nk, i, n->nr - i);
	memmove(&n->in.child[i + 2], &n->in.child[i + 1], (n->nr - i) * sizeof(right));
	key_set(nk, i, sep);
	n->in.child[i + 1] = right;
	n->nr++;
}

/*
 * Split full inner @n while inserting (@sep, @right) at @i: insert into a node
 * one key too big (on the stack), then deal the keys out; *@up goes up.
 */
static struct gvm_bt_node *split_inner(struct gvm_bt *bt, struct gvm_bt_node *n, unsigned int i,
				       struct gvm_bt_key sep, struct gvm_bt_node *right,
				       struct gvm_bt_key *up, bool append)
{
	uint64_t start[GVM_BT_INNER + 1];
	uintptr_t tie[GVM_BT_INNER + 1];
	struct gvm_bt_node *child[GVM_BT_INNER + 2], *r = take_spare(bt, false);
	struct keys all = { start, tie }, nk = keys_of(n);
	unsigned int total = GVM_BT_INNER + 1;
	unsigned int mid = append ? APPEND_SPLIT(total) : total / 2;

	keys_move(all, 0, nk, 0, GVM_BT_INNER);
	memcpy(child, n->in.child, sizeof(n->in.child));
	keys_move(all, i + 1, all, i, GVM_BT_INNER - i);
	memmove(&child[i + 2], &child[i + 1], (GVM_BT_INNER - i) * sizeof(right));
	key_set(all, i, sep);
	child[i + 1] = right;
	n->nr = (uint16_t)mid;
	keys_move(nk, 0, all, 0, mid);
	clear_starts(n, mid);
	memcpy(n->in.child, child, (mid + 1) * sizeof(right));
	*up = key_at(all, mid);
	r->nr = (uint16_t)(total - mid - 1);
	keys_move(keys_of(r), 0, all, mid + 1, r->nr);
	memcpy(r->in.child, &child[mid + 1], (r->nr + 1u) * sizeof(right));
	return r;
}

static void new_root(struct gvm_bt *bt, struct gvm_bt_node *left, struct gvm_bt_key sep,
		     struct gvm_bt_node *right)
{
	struct gvm_bt_node *root = take_spare(bt, false);

	root->nr = 1;
	key_set(keys_of(root), 0, sep);
	root->in.child[0] = left;
	root->in.child[1] = right;
	bt->root = root;
	bt->height++;
}

/*
 * Hand a split's (separator, right node) up the path until a node has room.
 * @append: the split leaf was the tree's last, and so is each node above it.
 */
static void insert_up(struct gvm_bt *bt, struct gvm_bt_path *p, struct gvm_bt_node *left,
		      struct gvm_bt_key sep, struct gvm_bt_node *right, bool append)
{
	for (unsigned int lvl = bt->height - 1; lvl--;) {
		struct gvm_bt_node *n = p->node[lvl];

		if (n->nr < GVM_BT_INNER) {
			inner_insert_at(n, path_idx(p, lvl), sep, right);
			return;
		}
		right = split_inner(bt, n, path_idx(p, lvl), sep, right, &sep, append);
		left = n;
	}
	new_root(bt, left, sep, right);
}

/*
 * Insert @k into full leaf @l, reached by path @p: split it and hand the split
 * up. Out of line: it is rare, and the inserts that do not split then need
 * fewer registers saved.
 */
static os_noinline void split_insert(struct gvm_bt *bt, struct gvm_bt_path *p,
				     struct gvm_bt_node *l, struct gvm_bt_key k)
{
	bool append = appends(l, k);
	struct gvm_bt_node *r = split_leaf(bt, l, k, append);

	insert_up(bt, p, l, key_at(keys_of(r), 0), r, append);
}

void gvm_bt_insert(struct gvm_bt *bt, struct gvm_bt_key k)
{
	struct gvm_bt_node *l;
	struct gvm_bt_path p;

	bt->count++;
	if (!bt->root) {
		bt->root = take_spare(bt, true);
		bt->height = 1;
	}
	l = descend(bt, k, &p);
	if (l->nr < GVM_BT_LEAF) {
		leaf_insert(l, k);
		return;
	}
	split_insert(bt, &p, l, k);
}

/* Move one entry from the fuller of adjacent leaves @l and @r to the other. */
static void leaf_borrow(struct gvm_bt_node *l, struct gvm_bt_node *r, struct gvm_bt_key *sep)
{
	struct keys lk = keys_of(l), rk = keys_of(r);

	if (l->nr > r->nr) {
		keys_move(rk, 1, rk, 0, r->nr);
		key_set(rk, 0, key_at(lk, --l->nr));
		clear_last(l);
		r->nr++;
	} else {
		key_set(lk, l->nr++, key_at(rk, 0));
		keys_move(rk, 0, rk, 1, --r->nr);
		clear_last(r);
	}
	*sep = key_at(rk, 0);
}

static void leaf_merge(struct gvm_bt *bt, struct gvm_bt_node *l, struct gvm_bt_node *r)
{
	keys_move(keys_of(l), l->nr, keys_of(r), 0, r->nr);
	l->nr = (uint16_t)(l->nr + r->nr);
	l->l.next = r->l.next;
	if (r->l.next)
		r->l.next->l.prev = l;
	give_spare(bt, r);
}

/* Rotate one child through the parent separator @sep, from the fuller side. */
static void inner_borrow(struct gvm_bt_node *l, struct gvm_bt_node *r, struct gvm_bt_key *sep)
{
	struct keys lk = keys_of(l), rk = keys_of(r);

	if (l->nr > r->nr) {
		keys_move(rk, 1, rk, 0, r->nr);
		memmove(&r->in.child[1], r->in.child, (r->nr + 1u) * sizeof(r->in.child[0]));
		key_set(rk, 0, *sep);
		r->in.child[0] = l->in.child[l->nr];
		*sep = key_at(lk, --l->nr);
		clear_last(l);
		r->nr++;
	} else {
		key_set(lk, l->nr, *sep);
		l->in.child[++l->nr] = r->in.child[0];
		*sep = key_at(rk, 0);
		keys_move(rk, 0, rk, 1, r->nr - 1u);
		memmove(r->in.child, &r->in.child[1], r->nr * sizeof(r->in.child[0]));
		r->nr--;
		clear_last(r);
	}
}

static void inner_merge(struct gvm_bt *bt, struct gvm_bt_node *l, struct gvm_bt_key sep,
			struct gvm_bt_node *r)
{
	key_set(keys_of(l), l->nr, sep);
	keys_move(keys_of(l), l->nr + 1u, keys_of(r), 0, r->nr);
	memcpy(&l->in.child[l->nr + 1], r->in.child, (r->nr + 1u) * sizeof(r->in.child[0]));
	l->nr = (uint16_t)(l->nr + r->nr + 1);
	give_spare(bt, r);
}

/* Remove separator @i and child @i + 1 from inner node @n. */
static void inner_remove(struct gvm_bt_node *n, unsigned int i)
{
	keys_move(keys_of(n), i, keys_of(n), i + 1, n->nr - i - 1u);
	memmove(&n->in.child[i + 1], &n->in.child[i + 2],
		(n->nr - i - 1u) * sizeof(n->in.child[0]));
	n->nr--;
	clear_last(n);
}

/*
 * The node at depth @lvl (child path_idx(@p, @lvl - 1) of its parent) is one short:
 * borrow from a sibling if the two hold enough for two, else merge them.
 * Return whether the parent lost a child.
 */
static bool fix_underflow(struct gvm_bt *bt, struct gvm_bt_path *p, unsigned int lvl)
{
	struct gvm_bt_node *parent = p->node[lvl - 1];
	unsigned int i = path_idx(p, lvl - 1), s = i ? i - 1 : i; /* separator between l and r */
	struct gvm_bt_node *l = parent->in.child[s], *r = parent->in.child[s + 1];
	unsigned int min = l->leaf ? LEAF_MIN : INNER_MIN;
	struct gvm_bt_key sep = key_at(keys_of(parent), s);

	if (l->nr + r->nr >= 2 * min) {
		if (l->leaf)
			leaf_borrow(l, r, &sep);
		else
			inner_borrow(l, r, &sep);
		key_set(keys_of(parent), s, sep);
		return false;
	}
	if (l->leaf)
		leaf_merge(bt, l, r);
	else
		inner_merge(bt, l, sep, r);
	inner_remove(parent, s);
	return true;
}

static void shrink_root(struct gvm_bt *bt)
{
	struct gvm_bt_node *old = bt->root;

	if (old->nr)
		return;
	bt->root = old->leaf ? NULL : old->in.child[0];
	bt->height--;
	give_spare(bt, old);
}

/* After an erase at depth @depth: restore fill up the path; shrink the root. */
static void rebalance(struct gvm_bt *bt, struct gvm_bt_path *p, unsigned int depth,
		      struct gvm_bt_node *n)
{
	for (unsigned int lvl = depth; lvl > 0; lvl--) {
		unsigned int min = n->leaf ? LEAF_MIN : INNER_MIN;

		if (n->nr >= min || !fix_underflow(bt, p, lvl))
			return;
		n = p->node[lvl - 1];
	}
	shrink_root(bt);
}

/* Remove entry @i of leaf @l (reached by @p) and restore the fill up the path (out of line: rare). */
static os_noinline void erase_in(struct gvm_bt *bt, struct gvm_bt_path *p, struct gvm_bt_node *l,
				 unsigned int i)
{
	leaf_remove(l, i);
	bt->count--;
	rebalance(bt, p, bt->height - 1, l);
}

void gvm_bt_erase(struct gvm_bt *bt, struct gvm_bt_key k)
{
	struct gvm_bt_path p;
	struct gvm_bt_node *l = descend(bt, k, &p);
	unsigned int i = count_le(l, k);

	os_assert(i > 0 && !cmp(key_at(keys_of(l), i - 1), k) &&
		  "erasing a key that is not in the tree");
	erase_in(bt, &p, l, i - 1);
}

/*
 * Is @k within the bounds the separators on path @p set for its leaf? Only
 * the bounds not known yet are looked for: the nearest separator on each side
 * (none at the tree's ends).
 */
static bool within_path_up(const struct gvm_bt *bt, const struct gvm_bt_path *p,
			   struct gvm_bt_key k, bool lo_known, bool hi_known)
{
	for (unsigned int lvl = bt->height - 1; lvl-- && !(lo_known && hi_known);) {
		struct keys nk = keys_of(p->node[lvl]);
		unsigned int c = path_idx(p, lvl);

		if (!lo_known && c > 0) {
			if (cmp(key_at(nk, c - 1), k) > 0)
				return false;
			lo_known = true;
		}
		if (!hi_known && c < p->node[lvl]->nr) {
			if (cmp(k, key_at(nk, c)) >= 0)
				return false;
			hi_known = true;
		}
	}
	return true;
}

/* Inside a leaf (both bounds known) there is nothing to look up. */
static inline bool within_path(const struct gvm_bt *bt, const struct gvm_bt_path *p,
			       struct gvm_bt_key k, bool lo_known, bool hi_known)
{
	return (lo_known && hi_known) || within_path_up(bt, p, k, lo_known, hi_known);
}

/*
 * Does @k fit between the bounds of slot @i of leaf @l (reached by path @p)?
 * Inside the leaf its neighbours bound it; at an end of the leaf the bound is
 * the nearest separator on the path.
 */
static bool fits_at(const struct gvm_bt *bt, const struct gvm_bt_path *p, struct gvm_bt_node *l,
		    unsigned int i, struct gvm_bt_key k)
{
	bool lo_known = i > 0, hi_known = i + 1 < l->nr;

	if ((lo_known && !key_below(l->l.start[i - 1], l->l.tie[i - 1], k.start, k.tie)) ||
	    (hi_known && !key_below(k.start, k.tie, l->l.start[i + 1], l->l.tie[i + 1])))
		return false;
	return within_path(bt, p, k, lo_known, hi_known);
}

/* Is @k the key at index @i of leaf @l? */
static inline bool key_is(const struct gvm_bt_node *l, unsigned int i, struct gvm_bt_key k)
{
	return i < l->nr && l->l.start[i] == k.start && l->l.tie[i] == k.tie;
}

/*
 * Is slot @i of leaf @l, inside it, between two keys with other starts than
 * @start: the starts alone then bound @start. The usual update of a request
 * (VAs rarely share a start) at the slot of the path; checked inline without
 * the general search, the calls it makes and the registers they need.
 */
static inline bool between_starts(const struct gvm_bt_node *l, unsigned int i, uint64_t start)
{
	return i > 0 && i < l->nr && l->l.start[i - 1] < start && start < l->l.start[i];
}

/*
 * The index of @k in leaf @l when it is right before or at slot @j (where a
 * request's next update usually is), else -1.
 */
static inline int index_near(const struct gvm_bt_node *l, unsigned int j, struct gvm_bt_key k)
{
	if (j && key_is(l, j - 1, k))
		return (int)j - 1;
	return key_is(l, j, k) ? (int)j : -1;
}

/* The index of key @k in the leaf of path @p, or -1: near the path's slot, else searched. */
static int index_of(const struct gvm_bt_path *p, struct gvm_bt_key k)
{
	int near = index_near(p->leaf, p->slot, k);
	unsigned int j;

	if (near >= 0)
		return near;
	j = slot_of(p, k);
	return j && key_is(p->leaf, j - 1, k) ? (int)j - 1 : -1;
}

/* gvm_bt_swap_at() where the fast case does not apply. */
static os_noinline bool swap_at_slow(struct gvm_bt *bt, struct gvm_bt_path *p,
				     struct gvm_bt_key old, struct gvm_bt_key k)
{
	int j;

	if (!p->leaf)
		return false;
	j = index_of(p, old);
	if (j < 0 || !fits_at(bt, p, p->leaf, (unsigned int)j, k))
		return false;
	key_set(keys_of(p->leaf), (unsigned int)j, k);
	p->slot = (unsigned int)j + 1;
	return true;
}

bool gvm_bt_swap_at(struct gvm_bt *bt, struct gvm_bt_path *p, struct gvm_bt_key old,
		    struct gvm_bt_key k)
{
	struct gvm_bt_node *l = p->leaf;
	int j;

	if (!l)
		return false;
	j = index_near(l, p->slot, old);
	/* Between neighbours of other starts, the starts alone bound @k. */
	if (j < 1 || (unsigned int)j + 1 >= l->nr || l->l.start[j - 1] >= k.start ||
	    k.start >= l->l.start[j + 1])
		return swap_at_slow(bt, p, old, k);
	l->l.start[j] = k.start;
	l->l.tie[j] = k.tie;
	p->slot = (unsigned int)j + 1;
	return true;
}

/* gvm_bt_replace_at() where the fast case does not apply. */
static os_noinline uintptr_t replace_at_slow(struct gvm_bt *bt, const struct gvm_bt_path *p,
					     struct gvm_bt_key k)
{
	struct gvm_bt_key probe = { .start = k.start, .tie = UINTPTR_MAX };
	struct gvm_bt_node *l = p->leaf;
	unsigned int i;
	uintptr_t old;

	if (!l)
		return 0;
	i = slot_of(p, probe);
	/* The leaf's last key is the tree's last with this start only below the upper bound. */
	if (!i || l->l.start[i - 1] != k.start ||
	    (i == l->nr && !within_path(bt, p, probe, true, false)) || !fits_at(bt, p, l, i - 1, k))
		return 0;
	old = l->l.tie[i - 1];
	l->l.tie[i - 1] = k.tie;
	return old;
}

uintptr_t gvm_bt_replace_at(struct gvm_bt *bt, const struct gvm_bt_path *p, struct gvm_bt_key k)
{
	struct gvm_bt_node *l = p->leaf;
	unsigned int i = p->slot;
	uintptr_t old;

	/*
	 * The key before the slot has @k's start and its neighbours in the leaf
	 * other starts: it is the last with that start, and @k fits in its place.
	 */
	if (!l || i < 2 || i >= l->nr || l->l.start[i - 1] != k.start ||
	    l->l.start[i - 2] >= k.start || l->l.start[i] <= k.start)
		return replace_at_slow(bt, p, k);
	old = l->l.tie[i - 1];
	l->l.tie[i - 1] = k.tie;
	return old;
}

uintptr_t gvm_bt_replace(struct gvm_bt *bt, struct gvm_bt_key k)
{
	struct gvm_bt_key probe = { .start = k.start, .tie = UINTPTR_MAX };
	struct gvm_bt_path p;

	if (!bt->root)
		return 0;
	p.leaf = descend(bt, probe, &p);
	p.slot = ~0u; /* not known */
	return gvm_bt_replace_at(bt, &p, k);
}

/* gvm_bt_insert_at() where the fast case does not apply. */
static os_noinline bool insert_at_slow(struct gvm_bt *bt, struct gvm_bt_path *p,
				       struct gvm_bt_key k)
{
	struct gvm_bt_node *l = p->leaf;
	unsigned int i;

	/* Inside the leaf its keys bound @k; at an end, the path's separators. */
	if (!l)
		return false;
	i = slot_of(p, k);
	if (!within_path(bt, p, k, i > 0, i < l->nr))
		return false;
	bt->count++;
	if (l->nr < GVM_BT_LEAF) {
		leaf_insert_at(l, i, k); /* the leaf keeps its bounds: the path stays */
		p->slot = i + 1;
		return true;
	}
	p->leaf = NULL;
	split_insert(bt, p, l, k);
	return true;
}

bool gvm_bt_insert_at(struct gvm_bt *bt, struct gvm_bt_path *p, struct gvm_bt_key k)
{
	struct gvm_bt_node *l = p->leaf;
	unsigned int i = p->slot;

	if (!l)
		return false;
	/* At the slot, or before it: a request's second piece of a VA it cuts comes first. */
	if (!between_starts(l, i, k.start) && !between_starts(l, --i, k.start))
		return insert_at_slow(bt, p, k);
	if (l->nr == GVM_BT_LEAF)
		return insert_at_slow(bt, p, k);
	bt->count++;
	p->slot = i + 1;
	leaf_insert_at(l, i, k);
	return true;
}

/* gvm_bt_erase_at() where the fast case does not apply. */
static os_noinline bool erase_at_slow(struct gvm_bt *bt, struct gvm_bt_path *p, struct gvm_bt_key k)
{
	struct gvm_bt_node *l = p->leaf;
	unsigned int i;

	if (!l)
		return false;
	i = slot_of(p, k);
	if (!i || l->l.start[i - 1] != k.start || l->l.tie[i - 1] != k.tie)
		return false;
	p->slot = i - 1;
	/* Without a borrow or a merge the leaf keeps its bounds: the path stays. */
	if (l->nr - 1u < LEAF_MIN || bt->height == 1) {
		p->leaf = NULL;
		erase_in(bt, p, l, i - 1);
		return true;
	}
	leaf_remove(l, i - 1);
	bt->count--;
	return true;
}

bool gvm_bt_erase_at(struct gvm_bt *bt, struct gvm_bt_path *p, struct gvm_bt_key k)
{
	struct gvm_bt_node *l = p->leaf;
	int i = l ? index_near(l, p->slot, k) : -1;

	/* A leaf that keeps enough keys keeps its bounds: no rebalance, the path stays. */
	if (i < 0 || l->nr <= LEAF_MIN || bt->height == 1)
		return erase_at_slow(bt, p, k);
	p->slot = (unsigned int)i;
	bt->count--;
	leaf_remove(l, (unsigned int)i);
	return true;
}

bool gvm_bt_find_le(const struct gvm_bt *bt, uint64_t start, struct gvm_bt_cur *cur)
{
	struct gvm_bt_path p;

	return gvm_bt_find_le_path(bt, start, cur, &p);
}

/*
 * Child i of inner node @n, for @pos = &start[i]. Where a child pointer is as
 * wide as a start, child i lies a fixed distance after start i in the node:
 * it is read at that distance from @pos (bytes within the node), and the
 * search's pointer needs no conversion to an index.
 */
static inline struct gvm_bt_node *child_at(struct gvm_bt_node *n, const uint64_t *pos)
{
	size_t in_node = (size_t)((const char *)pos - (const char *)n);

	if (sizeof(n->in.child[0]) != sizeof(*pos))
		return n->in.child[pos - n->in.start];
	return *(struct gvm_bt_node **)((char *)n + in_node +
					offsetof(struct gvm_bt_node, in.child) -
					offsetof(struct gvm_bt_node, in.start));
}

/* One level of descend_le(): the child of inner node @n at depth @lvl holding the starts < @x. */
static inline struct gvm_bt_node *step_down(struct gvm_bt_node *n, unsigned int lvl, uint64_t x,
					    struct gvm_bt_path *p)
{
	const uint64_t *pos = first_not_below(n->in.start, GVM_BT_INNER, x);

	p->node[lvl] = n;
	p->pos[lvl] = pos;
	return child_at(n, pos);
}

/*
 * descend() for a lookup by start (the greatest tie): the keys <= (@start,
 * greatest tie) of a node are its starts below @start + 1, so each level is one
 * search of the starts, with no tie to look at and no node type to ask.
 */
static inline struct gvm_bt_node *descend_le(const struct gvm_bt *bt, uint64_t start,
					     struct gvm_bt_path *p, unsigned int *idx)
{
	struct gvm_bt_node *n = bt->root;
	unsigned int lvl;

	if (start == UINT64_MAX) { /* no start + 1: the general search */
		n = descend(bt, (struct gvm_bt_key){ start, UINTPTR_MAX }, p);
		*idx = n->nr;
		return n;
	}
	/* The upper levels are few nodes (24 at a million VAs), and cached. */
	for (lvl = 0; lvl + 2 < bt->height; lvl++)
		n = step_down(n, lvl, start + 1, p);
	if (lvl + 1 < bt->height) {
		prefetch_starts(n->in.start, GVM_BT_INNER);
		n = step_down(n, lvl, start + 1, p);
	}
	prefetch_starts(n->l.start, GVM_BT_LEAF);
	*idx = count_below_all(n->l.start, GVM_BT_LEAF, start + 1);
	return n;
}

bool gvm_bt_find_le_path(const struct gvm_bt *bt, uint64_t start, struct gvm_bt_cur *cur,
			 struct gvm_bt_path *p)
{
	struct gvm_bt_node *l;
	unsigned int i;

	p->leaf = NULL;
	if (!bt->root)
		return false;
	l = descend_le(bt, start, p, &i);
	p->leaf = l;
	p->slot = i;
	cur->leaf = l;
	cur->idx = i ? i - 1 : 0;
	return i || gvm_bt_prev(cur);
}

int gvm_bt_collect(const struct gvm_bt *bt, uint64_t start, uint64_t end, struct gvm_bt_path *p,
		   uintptr_t *ties, unsigned int max)
{
	struct gvm_bt_node *l;
	unsigned int i, n = 0;

	p->leaf = NULL;
	if (!bt->root)
		return 0;
	l = descend_le(bt, start, p, &i);
	p->leaf = l;
	p->slot = i;
	if (i) { /* from the last key starting at or before @start */
		i--;
	} else if (l->l.prev) {
		l = l->l.prev;
		i = l->nr - 1u;
	}
	while (l && l->l.start[i] < end) {
		if (n == max)
			return -ENOSPC;
		ties[n++] = l->l.tie[i];
		if (++i == l->nr) {
			l = l->l.next;
			i = 0;
		}
	}
	return (int)n;
}

bool gvm_bt_first(const struct gvm_bt *bt, struct gvm_bt_cur *cur)
{
	struct gvm_bt_node *n = bt->root;

	while (n && !n->leaf)
		n = n->in.child[0];
	cur->leaf = n;
	cur->idx = 0;
	return n && n->nr;
}

bool gvm_bt_next(struct gvm_bt_cur *cur)
{
	if (cur->idx + 1 < cur->leaf->nr) {
		cur->idx++;
		return true;
	}
	if (!cur->leaf->l.next)
		return false;
	cur->leaf = cur->leaf->l.next;
	cur->idx = 0;
	return true;
}

bool gvm_bt_prev(struct gvm_bt_cur *cur)
{
	if (cur->idx > 0) {
		cur->idx--;
		return true;
	}
	if (!cur->leaf->l.prev)
		return false;
	cur->leaf = cur->leaf->l.prev;
	cur->idx = cur->leaf->nr - 1u;
	return true;
}

struct gvm_bt_key gvm_bt_get(const struct gvm_bt_cur *cur)
{
	return key_at(keys_of(cur->leaf), cur->idx);
}

struct vstate {
	const struct gvm_bt *bt;
	unsigned int leaf_depth;
	uint64_t entries;
	const struct gvm_bt_node *prev_leaf;
};

/*
 * Keys sorted and within [@lo, @hi) (NULL: unbounded); the unused slots up to
 * @cap read UINT64_MAX.
 */
static int check_keys(struct keys k, unsigned int nr, unsigned int cap, const struct gvm_bt_key *lo,
		      const struct gvm_bt_key *hi)
{
	for (unsigned int i = nr; i < cap; i++)
		if (k.start[i] != UINT64_MAX)
			return -EUCLEAN;
	for (unsigned int i = 0; i < nr; i++) {
		struct gvm_bt_key x = key_at(k, i);

		if ((i && cmp(key_at(k, i - 1), x) >= 0) || (lo && cmp(x, *lo) < 0) ||
		    (hi && cmp(x, *hi) >= 0))
			return -EUCLEAN;
	}
	return 0;
}

/* Leaves all at one depth, linked in key order. */
static int check_leaf(const struct gvm_bt_node *n, unsigned int depth, struct vstate *v)
{
	if (v->leaf_depth != depth || n->l.prev != v->prev_leaf ||
	    (v->prev_leaf && v->prev_leaf->l.next != n))
		return -EUCLEAN;
	v->prev_leaf = n;
	v->entries += n->nr;
	return 0;
}

static int check_node(struct gvm_bt_node *n, unsigned int depth, const struct gvm_bt_key *lo,
		      const struct gvm_bt_key *hi, struct vstate *v)
{
	unsigned int min = n->leaf ? LEAF_MIN : INNER_MIN;

	if ((n != v->bt->root && n->nr < min) ||
	    check_keys(keys_of(n), n->nr, n->leaf ? GVM_BT_LEAF : GVM_BT_INNER, lo, hi))
		return -EUCLEAN;
	if (n->leaf)
		return check_leaf(n, depth, v);
	if (!n->nr || depth + 1 >= GVM_BT_MAX_HEIGHT)
		return -EUCLEAN;
	for (unsigned int i = 0; i <= n->nr; i++) {
		struct gvm_bt_key clo = i ? key_at(keys_of(n), i - 1) : (struct gvm_bt_key){ 0 };
		struct gvm_bt_key chi = i < n->nr ? key_at(keys_of(n), i) :
						    (struct gvm_bt_key){ 0 };

		if (check_node(n->in.child[i], depth + 1, i ? &clo : lo, i < n->nr ? &chi : hi, v))
			return -EUCLEAN;
	}
	return 0;
}

int gvm_bt_validate(const struct gvm_bt *bt)
{
	struct vstate v = { .bt = bt, .leaf_depth = bt->height - 1 };

	if (!bt->root)
		return bt->count || bt->height ? -EUCLEAN : 0;
	if (bt->height > GVM_BT_MAX_HEIGHT || check_node(bt->root, 0, NULL, NULL, &v))
		return -EUCLEAN;
	if (v.prev_leaf && v.prev_leaf->l.next)
		return -EUCLEAN;
	return v.entries == bt->count ? 0 : -EUCLEAN;
}
