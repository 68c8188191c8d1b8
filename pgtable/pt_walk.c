// SPDX-License-Identifier: MIT
/*
 * pt_walk(): translate one VA the way the walker does, lock-free.
 *
 * Each descriptor is read once with acquire semantics. A table entry is
 * published only after the table and its child[] metadata are complete, so a
 * walker that sees the entry sees both. A walker racing an unlink may find the
 * child pointer already cleared: it reports the VA unmapped, which is what it
 * would see a moment later anyway.
 */
#include <errno.h>

#include "pt_internal.h"

static void fill_leaf(const struct pt *pt, unsigned int lvl, uint64_t va, uint64_t desc,
		      struct pt_walk_result *res)
{
	uint64_t size = pt_size(pt, lvl);

	res->pa = (pt_desc_addr(pt, desc) & ~(size - 1)) | (va & (size - 1));
	res->prot = pt->fmt->leaf_prot(pt, desc);
	res->leaf_size = size;
}

int pt_walk(const struct pt *pt, uint64_t va, struct pt_walk_result *res)
{
	const struct pt_table *t = pt->root;
	unsigned int lvl = pt->geo.start_level;

	res->pa = 0;
	res->prot = 0;
	res->leaf_size = 0;
	res->level = lvl;
	res->desc = 0;
	if (va >> pt->cfg.ias)
		return -ERANGE;
	for (;; lvl++) {
		unsigned int idx = pt_index(pt, lvl, va);
		uint64_t desc = pt_load(&t->items[idx]);

		res->level = lvl;
		res->desc = desc;
		switch (pt_desc_type(pt, lvl, desc)) {
		case PT_ENTRY_LEAF:
			fill_leaf(pt, lvl, va, desc, res);
			return 0;
		case PT_ENTRY_TABLE:
			t = __atomic_load_n(&t->child[idx], __ATOMIC_ACQUIRE);
			if (!t)
				return -ENOENT; /* unlinked under us */
			continue;
		case PT_ENTRY_INVALID:
			return -ENOENT;
		}
	}
}
