/* SPDX-License-Identifier: MIT */
/*
 * The B+ tree tests' model: the keys the tree must hold, as a sorted array,
 * and calloc/free allocation ops for the tree. Shared by test-btree (mixed
 * inserts and erases) and test-btree-erase (trees emptied in many orders).
 */
#ifndef GPUVM_TESTS_BT_MODEL_H
#define GPUVM_TESTS_BT_MODEL_H

#include <stddef.h>

#include "gvm_btree.h"

/* Tree nodes from calloc/free. */
extern const struct gvm_bt_alloc bt_test_alloc;

struct bt_model {
	struct gvm_bt_key *k; /* sorted by bt_key_cmp() */
	size_t n;
};

/* Order of keys in the tree: by start, then by tie. */
int bt_key_cmp(struct gvm_bt_key a, struct gvm_bt_key b);
/* Index of the first key not below @k. */
size_t bt_model_lower(const struct bt_model *m, struct gvm_bt_key k);
/* Insert @k in order; the caller made room for it. */
void bt_model_insert(struct bt_model *m, struct gvm_bt_key k);
/* Erase the key at index @i. */
void bt_model_erase(struct bt_model *m, size_t i);

#endif
