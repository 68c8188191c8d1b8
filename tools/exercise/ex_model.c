// SPDX-License-Identifier: MIT
/*
 * The reference model of one VM: the extents userspace mapped, sorted by VA
 * and disjoint, as a plain array (a workload holds hundreds, not millions).
 *
 * A map replaces whatever it overlaps, as panthor's VM_BIND does: the pieces
 * of old extents left of and right of it stay, translating exactly as before.
 * For a plain MAP the right piece's BO offset advances by what was cut off;
 * a REPEAT or SPARSE extent keeps its anchor (the VA where its pattern
 * starts), so a piece keeps the phase it had.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ex.h"

struct extent {
	struct ex_op op;
	uint64_t anchor; /* REPEAT/SPARSE: VA of pattern offset 0 */
};

struct ex_model {
	struct extent *e;
	unsigned int n, cap;
	uint64_t dummy[EX_PAGE / 8];
	uint8_t dummy_known[EX_PAGE / 8];
};

int ex_model_create(struct ex_model **out)
{
	struct ex_model *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*out = m;
	return 0;
}

void ex_model_destroy(struct ex_model *m)
{
	if (m)
		free(m->e);
	free(m);
}

static uint64_t end_of(const struct extent *x)
{
	return x->op.va + x->op.size;
}

/* Index of the first extent ending after @va. */
static unsigned int first_after(const struct ex_model *m, uint64_t va)
{
	unsigned int lo = 0, hi = m->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (end_of(&m->e[mid]) <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve(struct ex_model *m, unsigned int more)
{
	unsigned int cap = m->cap ? m->cap : 64;
	struct extent *e;

	while (m->n + more > cap)
		cap *= 2;
	if (cap == m->cap)
		return 0;
	e = realloc(m->e, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	m->e = e;
	m->cap = cap;
	return 0;
}

static void insert_at(struct ex_model *m, unsigned int i, const struct extent *x)
{
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*x));
	m->e[i] = *x;
	m->n++;
}

/* The part of @x at and above @va (@va inside @x). */
static struct extent right_piece(const struct extent *x, uint64_t va)
{
	struct extent r = *x;

	r.op.va = va;
	r.op.size = end_of(x) - va;
	if (x->op.kind == EX_MAP)
		r.op.bo_offset += va - x->op.va;
	return r;
}

/* Remove [va, end) from every extent; the caller reserved room for one more. */
static unsigned int cut(struct ex_model *m, uint64_t va, uint64_t end)
{
	unsigned int i = first_after(m, va), j;

	if (i < m->n && m->e[i].op.va < va) {
		struct extent left = m->e[i];

		left.op.size = va - left.op.va;
		m->e[i] = right_piece(&m->e[i], va);
		insert_at(m, i++, &left);
	}
	for (j = i; j < m->n && end_of(&m->e[j]) <= end; j++)
		;
	if (j < m->n && m->e[j].op.va < end)
		m->e[j] = right_piece(&m->e[j], end);
	memmove(&m->e[i], &m->e[j], (m->n - j) * sizeof(*m->e));
	m->n -= j - i;
	return i;
}

int ex_model_apply(struct ex_model *m, const struct ex_op *op)
{
	struct extent x = { .op = *op, .anchor = op->va };
	unsigned int i;
	int err = reserve(m, 2);

	if (err)
		return err;
	i = cut(m, op->va, op->va + op->size);
	if (op->kind != EX_UNMAP)
		insert_at(m, i, &x);
	return 0;
}

void ex_model_lookup(const struct ex_model *m, uint64_t va, struct ex_expectation *out)
{
	unsigned int i = first_after(m, va);
	const struct extent *x = i < m->n ? &m->e[i] : NULL;
	uint64_t off;

	memset(out, 0, sizeof(*out));
	out->kind = EX_EXPECT_FAULT;
	if (!x || x->op.va > va)
		return;
	out->flags = x->op.flags;
	out->bo = x->op.bo;
	switch (x->op.kind) {
	case EX_MAP:
		off = x->op.bo_offset + (va - x->op.va);
		break;
	case EX_REPEAT:
		off = x->op.bo_offset + (va - x->anchor) % x->op.range;
		break;
	default:
		out->kind = EX_EXPECT_SPARSE;
		out->bo_offset = va % EX_PAGE;
		return;
	}
	out->kind = EX_EXPECT_BO;
	out->bo_offset = off;
}

unsigned int ex_model_count(const struct ex_model *m)
{
	return m->n;
}

int ex_model_extent(const struct ex_model *m, unsigned int i, struct ex_op *out)
{
	if (i >= m->n)
		return -ENOENT;
	*out = m->e[i].op;
	return 0;
}

bool ex_model_dummy(const struct ex_model *m, uint64_t page_offset, uint64_t *value)
{
	unsigned int w = (unsigned int)(page_offset % EX_PAGE / 8);

	*value = m->dummy[w];
	return m->dummy_known[w];
}

void ex_model_set_dummy(struct ex_model *m, uint64_t page_offset, uint64_t value)
{
	unsigned int w = (unsigned int)(page_offset % EX_PAGE / 8);

	m->dummy[w] = value;
	m->dummy_known[w] = 1;
}

bool ex_model_corrupt(struct ex_model *m, uint64_t va)
{
	unsigned int start = first_after(m, va);

	for (unsigned int k = 0; k < m->n; k++) {
		struct extent *x = &m->e[(start + k) % m->n];

		if (x->op.kind == EX_MAP || x->op.kind == EX_REPEAT) {
			x->op.bo_offset += 8; /* every word of the extent is now wrong */
			return true;
		}
	}
	return false;
}

/* Would a cut at @at split repeat extent @x off its period? */
static bool bad_cut(const struct extent *x, uint64_t at)
{
	return x->op.kind == EX_REPEAT && x->op.va < at && at < end_of(x) &&
	       (at - x->anchor) % x->op.range != 0;
}

bool ex_model_allows(const struct ex_model *m, const struct ex_op *op)
{
	uint64_t end = op->va + op->size;
	unsigned int first = first_after(m, op->va), last = first_after(m, end - 1);

	if (first < m->n && bad_cut(&m->e[first], op->va))
		return false;
	return !(last < m->n && bad_cut(&m->e[last], end));
}

int ex_model_copy(struct ex_model *dst, const struct ex_model *src)
{
	int err;

	dst->n = 0;
	err = reserve(dst, src->n);
	if (err)
		return err;
	if (src->n)
		memcpy(dst->e, src->e, src->n * sizeof(*src->e));
	dst->n = src->n;
	memcpy(dst->dummy, src->dummy, sizeof(src->dummy));
	memcpy(dst->dummy_known, src->dummy_known, sizeof(src->dummy_known));
	return 0;
}
