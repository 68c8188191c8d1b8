// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "bt-model.h"

static void *bt_zalloc(void *ctx, size_t size)
{
	(void)ctx;
	return calloc(1, size);
}

static void bt_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

const struct gvm_bt_alloc bt_test_alloc = { .zalloc = bt_zalloc, .free = bt_free };

int bt_key_cmp(struct gvm_bt_key a, struct gvm_bt_key b)
{
	if (a.start != b.start)
		return a.start < b.start ? -1 : 1;
	return (a.tie > b.tie) - (a.tie < b.tie);
}

size_t bt_model_lower(const struct bt_model *m, struct gvm_bt_key k)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bt_key_cmp(m->k[mid], k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void bt_model_insert(struct bt_model *m, struct gvm_bt_key k)
{
	size_t i = bt_model_lower(m, k);

	memmove(&m->k[i + 1], &m->k[i], (m->n - i) * sizeof(*m->k));
	m->k[i] = k;
	m->n++;
}

void bt_model_erase(struct bt_model *m, size_t i)
{
	memmove(&m->k[i], &m->k[i + 1], (m->n - i - 1) * sizeof(*m->k));
	m->n--;
}
