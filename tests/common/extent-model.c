// SPDX-License-Identifier: MIT
#include "extent-model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"

/* Room for a first handful of extents: most models never grow past it. */
#define MODEL_MIN_CAP 64

uint64_t extent_pa(const struct extent *x, uint64_t va)
{
	uint64_t off = va - x->va0;

	return x->pa0 + (x->period ? off % x->period : off);
}

size_t model_find(const struct model *m, uint64_t va)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->e[mid].end <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool model_overlaps(const struct model *m, uint64_t va, uint64_t end)
{
	size_t i = model_find(m, va);

	return i < m->n && m->e[i].va < end;
}

const struct extent *model_at(const struct model *m, uint64_t va)
{
	size_t i = model_find(m, va);

	return i < m->n && m->e[i].va <= va ? &m->e[i] : NULL;
}

bool model_lookup(const struct model *m, uint64_t va, uint64_t *pa, uint32_t *prot, uint64_t *next)
{
	size_t i = model_find(m, va);

	if (i == m->n || m->e[i].va > va) {
		if (next)
			*next = i < m->n ? m->e[i].va : UINT64_MAX;
		return false;
	}
	*pa = extent_pa(&m->e[i], va);
	*prot = m->e[i].prot;
	if (next)
		*next = m->e[i].end;
	return true;
}

/* Room for @n extents; doubling keeps a long run of inserts linear. */
static void model_reserve(struct model *m, size_t n)
{
	if (n <= m->cap)
		return;
	m->cap = max_u64(n, m->cap ? 2 * m->cap : MODEL_MIN_CAP);
	m->e = realloc(m->e, m->cap * sizeof(*m->e));
	assert_non_null(m->e);
}

void model_insert_at(struct model *m, size_t i, struct extent x)
{
	model_reserve(m, m->n + 1);
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*m->e));
	m->e[i] = x;
	m->n++;
}

void model_insert(struct model *m, struct extent x)
{
	model_insert_at(m, model_find(m, x.va), x);
}

void model_remove_at(struct model *m, size_t i)
{
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(*m->e));
	m->n--;
}

uint64_t model_unmap(struct model *m, uint64_t va, uint64_t end)
{
	size_t i = model_find(m, va);
	uint64_t bytes = 0;

	while (i < m->n && m->e[i].va < end) {
		struct extent x = m->e[i];
		uint64_t lo = max_u64(x.va, va), hi = min_u64(x.end, end);

		bytes += hi - lo;
		if (x.va < lo) {
			m->e[i].end = lo;
			if (x.end > hi) {
				x.va = hi;
				model_insert_at(m, i + 1, x);
			}
			i++;
		} else if (x.end > hi) {
			m->e[i].va = hi;
			i++;
		} else {
			model_remove_at(m, i);
		}
	}
	return bytes;
}

void model_copy(struct model *dst, const struct model *src)
{
	model_reserve(dst, src->n);
	/* memcpy() from a NULL @src->e is undefined even for 0 bytes. */
	if (src->n)
		memcpy(dst->e, src->e, src->n * sizeof(*src->e));
	dst->n = src->n;
}

void model_free(struct model *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}
