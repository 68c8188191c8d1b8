// SPDX-License-Identifier: MIT
/*
 * Effects of VM_BIND on what the GPU sees: after binds, the mock MMU (through
 * GPUVM_IOCTL_MOCK_GPU_ACCESS) reads and writes the BO memory that the CPU
 * mmap sees; after unbinds it faults with the Mali status the hardware would
 * report (mali.md section 1: translation fault 0xC0 + the level the walk
 * stopped at, permission fault 0xC8 + the level of the leaf, access type in
 * bits 9:8, FAULTADDRESS = the first byte that faulted).
 *
 * A page-granular reference model (VA page -> nothing, BO page with its
 * protections, or the sparse dummy page) follows every bind, with drm_gpuvm's
 * rules (gpuvm-split-merge.md): a map replaces what it overlaps, an unmap
 * removes, a repeat VA may only be cut on a multiple of its period from its
 * start (else -EINVAL and nothing changes). It also knows the table shape that
 * the faults reveal:
 *
 * - an unmapped VA faults at the first level whose item covers nothing
 *   mapped (emptied tables are freed: pt.h, pt_unmap()), so the level of a
 *   translation fault says which tables exist;
 * - a page is in a 2 MiB block (leaf level 2) when it was mapped by a linear
 *   map whose VA and PA are 2 MiB-aligned over the whole 2 MiB (pt.h: "the
 *   largest leaf each aligned chunk allows"); cutting a block leaves level-3
 *   pages; the permission fault of a READONLY page says which. The rows
 *   place their BOs at known PAs: the device gives BOs physical memory first
 *   fit from phys_base (mockdrm/dev/bo.c; the VMs' dummy pages come from the top),
 *   so with phys_base at 4 GiB the test's first BO starts there.
 *
 * After every bind, every page of the touched range and a 2 MiB margin is
 * compared with the model, as is one page per 2 MiB of the whole window at
 * the touched offsets (shared repeat tables alias at that stride); each row
 * ends with the whole window. Mapped pages must read the BO's bytes as the
 * CPU sees them (every BO page holds a unique pattern), READONLY pages must
 * refuse writes, holes must fault; accesses straddling each boundary must
 * stop exactly at the first faulting byte. RW steps write through the GPU and
 * check the CPU mapping, and the other way round, including through the
 * aliases of repeat mappings. The pages nearest the touched range are read
 * into the TLB before each bind and again after it (tlb_warm()), and the
 * device's strict-mode counters must show no stale translation and no walk
 * of a freed table (GPUVM_IOCTL_MOCK_STATS): a missing flush shows.
 *
 * The random sequence runs arrays of one to three random maps, repeat maps,
 * sparse maps and unmaps over 48 pages across a 1 GiB boundary (an array
 * with a refused op must change nothing), random GPU writes that may run into
 * holes and READONLY pages, and CPU writes, checking the whole window after
 * each step.
 *
 * Usage: test-effects [--seed N] [--count N] (--count: rounds of the random
 * sequence; a failure prints the arguments that replay it).
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

#include "mock-test.h"

#define DEFAULT_SEED 0x65666663ull
#define DEFAULT_COUNT 400u
/* Coverage is asserted only for runs at least this long. */
#define COVERAGE_MIN_COUNT 200u

#define P(n) ((uint64_t)(n)*MT_PAGE)
#define BLOCK (2 * MiB)
#define RO DRM_PANTHOR_VM_BIND_OP_MAP_READONLY

/* The rows' window: 1 GiB-aligned, inside the first level-0 item (512 GiB). */
#define WIN_BASE (64 * GiB)
#define MARGIN (2 * MiB)
/* The dummy page takes the 4 KiB below 4 GiB; the test's BOs follow it. */
#define PHYS_BASE (4 * GiB)
#define BO_PA0 (4 * GiB)
/* Largest GPU read of one run of mapped pages. */
#define CHUNK (4 * MiB)
/* Tags of the patterns the GPU writes (BO tags are small, CPU scribbles 1 << 31). */
#define GPU_TAG 0x40000000u

#define MAX_BOS 4
#define MAX_STEPS 10
/* Leaf level "2 or 3": a block remapped in one transaction may come back either way. */
#define LEAF_ANY 0

static uint64_t opt_seed = DEFAULT_SEED;
static unsigned int opt_count = DEFAULT_COUNT;
static const uint8_t zero_page[MT_PAGE];

/* The model */

enum pg_kind {
	PG_NONE,
	PG_BO,
	PG_SPARSE,
};

/*
 * struct pg - what one VA page maps.
 * @leaf: the level of the leaf that maps it: 2 (in a block), 3, or LEAF_ANY.
 * @va_id: the map request whose VA (or a piece of it) holds the page: two
 *	adjacent pages with the same id lie in one VA.
 * @origin/@period: repeat (and sparse, period one page): the request's VA,
 *	whose phase the pieces keep, and the bytes repeated; @period 0 linear.
 */
struct pg {
	uint8_t kind;
	uint8_t leaf;
	bool ro;
	uint8_t bo;
	uint32_t va_id;
	uint64_t bo_page;
	uint64_t origin;
	uint64_t period;
};

/* [start, end): the pages modelled; nothing is mapped outside. */
struct model {
	uint64_t start, end;
	struct pg *pg;
	uint32_t *before; /* before[i]: mapped pages below page i (model_index()) */
	uint32_t next_id;
	uint64_t bo_pa[MAX_BOS];
};

/* One op as the model sees it; kind PG_NONE unmaps. */
struct mreq {
	enum pg_kind kind;
	unsigned int bo;
	uint64_t offset, range, va, size;
	bool ro;
};

static uint64_t npages(const struct model *m)
{
	return (m->end - m->start) / MT_PAGE;
}

static void model_init(struct model *m, uint64_t start, uint64_t end)
{
	*m = (struct model){ .start = start, .end = end };
	m->pg = calloc(npages(m), sizeof(*m->pg));
	m->before = calloc(npages(m) + 1, sizeof(*m->before));
	assert_non_null(m->pg);
	assert_non_null(m->before);
}

static void model_fini(struct model *m)
{
	free(m->pg);
	free(m->before);
}

static struct pg *pg_at(const struct model *m, uint64_t va)
{
	if (va < m->start || va >= m->end)
		return NULL;
	return &m->pg[(va - m->start) / MT_PAGE];
}

static bool mapped(const struct pg *p)
{
	return p && p->kind != PG_NONE;
}

static void model_index(struct model *m)
{
	for (uint64_t i = 0; i < npages(m); i++)
		m->before[i + 1] = m->before[i] + (m->pg[i].kind != PG_NONE);
}

/* Is anything mapped in [a, a + size)? (model_index() is current.) */
static bool any_mapped(const struct model *m, uint64_t a, uint64_t size)
{
	uint64_t s = a > m->start ? a : m->start;
	uint64_t e = a + size < m->end ? a + size : m->end;

	if (s >= e)
		return false;
	return m->before[(e - m->start) / MT_PAGE] != m->before[(s - m->start) / MT_PAGE];
}

/*
 * The level a walk of an unmapped @va stops at: the first whose item covers
 * nothing mapped (tables that empty are freed), else the leaf level.
 */
static unsigned int fault_level(const struct model *m, uint64_t va)
{
	for (unsigned int level = 0; level < 3; level++) {
		uint64_t span = 1ull << (39 - 9 * level);

		if (!any_mapped(m, va & ~(span - 1), span))
			return level;
	}
	return 3;
}

/* A request boundary at @va cuts a repeat VA off its period: gvm refuses it. */
static bool cuts_period(const struct model *m, uint64_t va)
{
	const struct pg *a = pg_at(m, va - MT_PAGE), *b = pg_at(m, va);

	return mapped(a) && mapped(b) && a->va_id == b->va_id && a->period &&
	       (va - a->origin) % a->period;
}

static struct pg page_for(const struct mreq *q, uint32_t id, uint64_t va)
{
	struct pg p = { .kind = (uint8_t)q->kind, .ro = q->ro, .va_id = id, .origin = q->va };
	uint64_t x = va - q->va;

	if (q->kind == PG_SPARSE)
		p.period = MT_PAGE;
	else if (q->kind == PG_BO && q->range)
		p.period = q->range;
	if (q->kind == PG_BO) {
		p.bo = (uint8_t)q->bo;
		p.bo_page = (q->offset + (q->range ? x % q->range : x)) / MT_PAGE;
	}
	return p;
}

/* drm_gpuvm's keep, per page: the page stays exactly as it is. */
static bool same_pages(const struct pg *a, const struct pg *b)
{
	return a && b && a->kind != PG_NONE && a->kind == b->kind && a->bo == b->bo &&
	       a->bo_page == b->bo_page && a->ro == b->ro && a->period == b->period;
}

/* The 2 MiB region [r, r + BLOCK) and the part @q covers: counts of its pages. */
struct region {
	uint64_t r, s, e;
	unsigned int removed, kept, was_mapped;
};

static void region_scan(const struct model *m, const struct mreq *q, uint32_t id, struct region *g)
{
	for (uint64_t va = g->s; va < g->e; va += MT_PAGE) {
		const struct pg *old = pg_at(m, va);
		struct pg new = page_for(q, id, va);

		if (same_pages(old, &new))
			g->kept++;
		else if (mapped(old))
			g->removed++;
		g->was_mapped += mapped(old);
	}
}

/* The leaf of a page @q maps (not kept) in region @g. */
static uint8_t new_leaf(const struct model *m, const struct mreq *q, const struct region *g)
{
	uint64_t pa = m->bo_pa[q->bo] + q->offset + (g->r - q->va);

	if (q->kind != PG_BO || q->range || g->s != g->r || g->e != g->r + BLOCK || g->kept ||
	    pa % BLOCK)
		return 3;
	return g->was_mapped ? LEAF_ANY : 2;
}

/*
 * Apply @q to the pages of one region. Unmapping part of a region splits a
 * block there: whatever stays mapped in it is left in level-3 pages.
 */
static void region_apply(struct model *m, const struct mreq *q, uint32_t id, struct region *g)
{
	bool whole;
	uint8_t leaf;

	region_scan(m, q, id, g);
	whole = g->s == g->r && g->e == g->r + BLOCK && !g->kept;
	leaf = new_leaf(m, q, g);
	for (uint64_t va = g->r; g->removed && !whole && va < g->r + BLOCK; va += MT_PAGE) {
		struct pg *p = pg_at(m, va);

		if (mapped(p))
			p->leaf = 3;
	}
	for (uint64_t va = g->s; va < g->e; va += MT_PAGE) {
		struct pg *p = pg_at(m, va), new = page_for(q, id, va);

		if (same_pages(p, &new)) {
			/* Kept pages stay in their leaves, but belong to the new VA now. */
			p->va_id = id;
			p->origin = q->va;
			continue;
		}
		new.leaf = leaf;
		*p = new;
	}
}

/* Apply one op; -EINVAL (nothing changed) when it cuts a repeat VA off its period. */
static int model_apply(struct model *m, const struct mreq *q)
{
	uint64_t end = q->va + q->size;
	uint32_t id;

	assert_true(q->va >= m->start && end <= m->end);
	if (cuts_period(m, q->va) || cuts_period(m, end))
		return -EINVAL;
	id = ++m->next_id;
	for (uint64_t r = q->va & ~(BLOCK - 1); r < end; r += BLOCK) {
		struct region g = { .r = r };

		g.s = r > q->va ? r : q->va;
		g.e = r + BLOCK < end ? r + BLOCK : end;
		region_apply(m, q, id, &g);
	}
	model_index(m);
	return 0;
}

/* The device under test */

struct run {
	struct mt_dev d;
	uint32_t vm;
	struct mt_bo bo[MAX_BOS];
	unsigned int nr_bos;
	struct model m;
	uint8_t *buf;
	uint32_t gpu_tags;
	char ctx[512];
	/* What the random sequence met, for its coverage check. */
	uint64_t holes[4], refused, write_faults[2];
};

static struct run *run_new(const uint64_t *bo_sizes, uint64_t start, uint64_t end)
{
	struct mockdrm_cfg cfg = { .phys_base = PHYS_BASE };
	struct run *r = calloc(1, sizeof(*r));
	uint64_t pa = BO_PA0;

	assert_non_null(r);
	r->buf = calloc(1, CHUNK + 16); /* zeroed: the device fills it by process_vm_writev() */
	assert_non_null(r->buf);
	mt_open(&r->d, &cfg);
	r->vm = mt_vm_create(&r->d);
	model_init(&r->m, start, end);
	for (; r->nr_bos < MAX_BOS && bo_sizes[r->nr_bos]; r->nr_bos++) {
		mt_bo_create(&r->d, bo_sizes[r->nr_bos], r->nr_bos + 1, &r->bo[r->nr_bos]);
		r->m.bo_pa[r->nr_bos] = pa;
		pa += r->bo[r->nr_bos].size;
	}
	return r;
}

static void run_free(struct run *r)
{
	for (unsigned int i = 0; i < r->nr_bos; i++)
		mt_bo_destroy(&r->d, &r->bo[i]);
	mt_close(&r->d);
	model_fini(&r->m);
	free(r->buf);
	free(r);
}

static const uint8_t *expected_page(const struct run *r, const struct pg *p)
{
	if (p->kind == PG_SPARSE)
		return zero_page;
	return r->bo[p->bo].cpu + p->bo_page * MT_PAGE;
}

static struct gpuvm_vm_bind_op_repeat op_of(const struct run *r, const struct mreq *q)
{
	uint32_t flags = q->ro ? RO : 0;

	switch (q->kind) {
	case PG_NONE:
		return mt_op_unmap(q->va, q->size);
	case PG_SPARSE:
		return mt_op_sparse(q->va, q->size, flags);
	default:
		if (q->range)
			return mt_op_repeat(&r->bo[q->bo], q->offset, q->range, q->va, q->size,
					    flags);
		return mt_op_map(&r->bo[q->bo], q->offset, q->va, q->size, flags);
	}
}

/* Checking the device against the model */

static const char *msg_at(const struct run *r, uint64_t va, const char *what, char *buf, size_t len)
{
	bool below = va < r->m.start;

	snprintf(buf, len, "%s: %s at VA 0x%" PRIx64 " (window %c0x%" PRIx64 ")", r->ctx, what, va,
		 below ? '-' : '+', below ? r->m.start - va : va - r->m.start);
	return buf;
}

/* An unmapped page: a read faults at once, at the level the model predicts. */
static void check_hole(struct run *r, uint64_t va)
{
	struct mt_access res;
	char msg[640];

	msg_at(r, va, "hole", msg, sizeof(msg));
	r->holes[fault_level(&r->m, va)]++;
	CHECK_ERR(msg, mt_gpu_read(&r->d, r->vm, va, r->buf, MT_PAGE, &res), 0);
	CHECK_STATUS(msg, res.status, mt_translation_fault(fault_level(&r->m, va), MT_READ));
	CHECK_EQ(msg, res.fault_addr, va);
	CHECK_EQ(msg, res.done, 0);
}

/* Reads straddling the boundary between mapped [s, e) and the holes around it. */
static void check_run_edges(struct run *r, uint64_t s, uint64_t e)
{
	struct mt_access res;
	uint8_t b[16] = { 0 };
	char msg[640];

	if (!mapped(pg_at(&r->m, s - MT_PAGE))) {
		msg_at(r, s - 8, "read into a mapping from a hole", msg, sizeof(msg));
		CHECK_ERR(msg, mt_gpu_read(&r->d, r->vm, s - 8, b, 16, &res), 0);
		CHECK_STATUS(msg, res.status,
			     mt_translation_fault(fault_level(&r->m, s - 8), MT_READ));
		CHECK_EQ(msg, res.fault_addr, s - 8);
		CHECK_EQ(msg, res.done, 0);
	}
	if (!mapped(pg_at(&r->m, e))) {
		msg_at(r, e - 8, "read out of a mapping into a hole", msg, sizeof(msg));
		CHECK_ERR(msg, mt_gpu_read(&r->d, r->vm, e - 8, b, 16, &res), 0);
		CHECK_STATUS(msg, res.status, mt_translation_fault(fault_level(&r->m, e), MT_READ));
		CHECK_EQ(msg, res.fault_addr, e);
		CHECK_EQ(msg, res.done, 8);
		if (memcmp(b, expected_page(r, pg_at(&r->m, e - MT_PAGE)) + MT_PAGE - 8, 8))
			fail_msg("%s: the 8 bytes before the fault are not the BO's", msg);
	}
}

/* The outcome of a write that must stop after @done bytes on READONLY page @p. */
static void check_refused(const struct pg *p, struct mt_access *res, uint64_t fault_va,
			  uint64_t done, const char *msg)
{
	if (p->leaf == LEAF_ANY && res->status == mt_permission_fault(2, MT_WRITE))
		res->status = mt_permission_fault(3, MT_WRITE);
	CHECK_STATUS(msg, res->status, mt_permission_fault(p->leaf ? p->leaf : 3, MT_WRITE));
	CHECK_EQ(msg, res->fault_addr, fault_va);
	CHECK_EQ(msg, res->done, done);
}

/*
 * A write (and a fill, when it starts on @p) at @va that must stop after
 * @done bytes, where READONLY page @p begins, with a permission fault of its
 * leaf's level.
 */
static void check_write_refused(struct run *r, uint64_t va, const struct pg *p, const void *data,
				uint64_t len, uint64_t done, const char *msg)
{
	struct mt_access res;

	CHECK_ERR(msg, mt_gpu_write(&r->d, r->vm, va, data, len, &res), 0);
	check_refused(p, &res, va + done, done, msg);
	if (done)
		return;
	CHECK_ERR(msg, mt_gpu_fill(&r->d, r->vm, va, *(const uint8_t *)data, 1, &res), 0);
	check_refused(p, &res, va, 0, msg);
}

/*
 * The pages of a mapped run, just read into r->buf: the expected bytes;
 * READONLY pages refuse writes (at the leaf level); a write from a writable
 * BO page into a READONLY one stops at the boundary. Writes carry the bytes
 * already there, so a wrongly accepted one changes nothing.
 */
static void check_run_pages(struct run *r, uint64_t s, uint64_t e)
{
	char msg[640];

	for (uint64_t va = s; va < e; va += MT_PAGE) {
		const struct pg *p = pg_at(&r->m, va), *prev = pg_at(&r->m, va - MT_PAGE);
		uint8_t *got = r->buf + (va - s);

		msg_at(r, va, "mapped page", msg, sizeof(msg));
		if (memcmp(got, expected_page(r, p), MT_PAGE))
			fail_msg("%s: the GPU reads other bytes than the %s (word 0 0x%" PRIx64
				 ", want 0x%" PRIx64 ")",
				 msg, p->kind == PG_SPARSE ? "zeroed dummy page" : "BO page's",
				 *(uint64_t *)got, *(const uint64_t *)expected_page(r, p));
		if (!p->ro)
			continue;
		msg_at(r, va, "write to a READONLY page", msg, sizeof(msg));
		check_write_refused(r, va, p, got, 8, 0, msg);
		if (va > s && prev->kind == PG_BO && !prev->ro) {
			msg_at(r, va - 8, "write from a writable page into a READONLY one", msg,
			       sizeof(msg));
			check_write_refused(r, va - 8, p, got - 8, 16, 8, msg);
		}
	}
}

static void check_run(struct run *r, uint64_t s, uint64_t e)
{
	struct mt_access res;
	char msg[640];

	msg_at(r, s, "mapped run", msg, sizeof(msg));
	CHECK_ERR(msg, mt_gpu_read(&r->d, r->vm, s, r->buf, e - s, &res), 0);
	CHECK_STATUS(msg, res.status, 0);
	CHECK_EQ(msg, res.done, e - s);
	check_run_pages(r, s, e);
	check_run_edges(r, s, e);
}

/* Every page of [a, b) against the model. */
static void sweep(struct run *r, uint64_t a, uint64_t b)
{
	for (uint64_t va = a; va < b;) {
		uint64_t e = va;

		if (!mapped(pg_at(&r->m, va))) {
			check_hole(r, va);
			va += MT_PAGE;
			continue;
		}
		while (e < b && e - va < CHUNK && mapped(pg_at(&r->m, e)))
			e += MT_PAGE;
		check_run(r, va, e);
		va = e;
	}
}

/* VAs far from the window: empty level-0 items, and beyond the 48-bit input range. */
static void check_far(struct run *r)
{
	const uint64_t far[] = { 0, 512 * GiB, (1ull << 48) - MT_PAGE };
	struct mt_access res;
	uint64_t word = 0;
	char msg[640];

	for (size_t i = 0; i < ARRAY_SIZE(far); i++)
		check_hole(r, far[i]);
	msg_at(r, 1ull << 48, "VA above the 48-bit input range", msg, sizeof(msg));
	CHECK_ERR(msg, mt_gpu_read(&r->d, r->vm, 1ull << 48, &word, 8, &res), 0);
	CHECK_STATUS(msg, res.status, 0xe0 | MT_READ << 8);
	CHECK_EQ(msg, res.fault_addr, 1ull << 48);
}

/*
 * After a bind of [va, va + size): that range with a margin, and in every
 * 2 MiB of the window the pages at the range's first and last offsets.
 */
static void sweep_touched(struct run *r, uint64_t va, uint64_t size)
{
	uint64_t first = va % BLOCK, last = (va + size - MT_PAGE) % BLOCK;

	sweep(r, va - MARGIN, va + size + MARGIN);
	for (uint64_t b = r->m.start & ~(BLOCK - 1); b < r->m.end; b += BLOCK) {
		sweep(r, b + first, b + first + MT_PAGE);
		sweep(r, b + last, b + last + MT_PAGE);
	}
}

static void sweep_all(struct run *r)
{
	sweep(r, r->m.start - MARGIN, r->m.end + MARGIN);
	check_far(r);
}

/* The TLB across a bind */

/*
 * A fault disables the VM's slot and the next access reprograms it, which
 * empties its TLB: a sweep, full of faults, leaves nothing cached. So around
 * each bind the pages nearest the ends of the touched range are read into
 * the TLB first (at most half its 64 leaves, and no fault), and read again
 * after it: those still mapped must show their new bytes, and the first one
 * now unmapped must fault. Strict mode counts any cached entry that disagrees
 * with the tables (mt_expect_no_stale()).
 */
#define WARM_PAGES 32

struct warm {
	uint64_t va[WARM_PAGES];
	unsigned int n;
};

/* A mapped page, read without a fault: the bytes the model expects. */
static void read_page(struct run *r, uint64_t va, const char *what)
{
	struct mt_access res;
	char msg[640];

	msg_at(r, va, what, msg, sizeof(msg));
	CHECK_ERR(msg, mt_gpu_read(&r->d, r->vm, va, r->buf, MT_PAGE, &res), 0);
	CHECK_STATUS(msg, res.status, 0);
	if (memcmp(r->buf, expected_page(r, pg_at(&r->m, va)), MT_PAGE))
		fail_msg("%s: the GPU reads other bytes than the model's page", msg);
}

static void tlb_warm(struct run *r, uint64_t va, uint64_t size, struct warm *w)
{
	uint64_t head = va - P(4), tail = va + size - P(12);

	if (tail < head + P(16))
		tail = head + P(16);
	w->n = 0;
	for (unsigned int i = 0; i < WARM_PAGES; i++) {
		uint64_t x = i < WARM_PAGES / 2 ? head + P(i) : tail + P(i - WARM_PAGES / 2);

		if (!mapped(pg_at(&r->m, x)))
			continue;
		read_page(r, x, "warming the TLB");
		w->va[w->n++] = x;
	}
	mt_expect_no_stale(&r->d, r->ctx);
}

static void tlb_probe(struct run *r, const struct warm *w)
{
	for (unsigned int i = 0; i < w->n; i++)
		if (mapped(pg_at(&r->m, w->va[i])))
			read_page(r, w->va[i], "read after the bind through the warm TLB");
	for (unsigned int i = 0; i < w->n; i++) {
		if (!mapped(pg_at(&r->m, w->va[i]))) {
			check_hole(r, w->va[i]);
			break;
		}
	}
	mt_expect_no_stale(&r->d, r->ctx);
}

/* Data in both directions */

/* Another VA of the repeat VA holding @p that maps the same BO page, or 0. */
static uint64_t alias_of(const struct model *m, uint64_t va, const struct pg *p)
{
	if (!p->period)
		return 0;
	if (same_pages(pg_at(m, va + p->period), p))
		return va + p->period;
	if (same_pages(pg_at(m, va - p->period), p))
		return va - p->period;
	return 0;
}

/* The GPU fills, then writes a new pattern at @va: the CPU sees both, an alias reads it. */
static void gpu_writes_page(struct run *r, uint64_t va, const struct pg *p)
{
	uint8_t *pattern = r->buf + CHUNK - MT_PAGE;
	uint64_t alias = alias_of(&r->m, va, p);
	struct mt_access res;
	char msg[640];

	msg_at(r, va, "GPU fill", msg, sizeof(msg));
	CHECK_ERR(msg, mt_gpu_fill(&r->d, r->vm, va, 0xa5, MT_PAGE, &res), 0);
	CHECK_STATUS(msg, res.status, 0);
	CHECK_EQ(msg, res.done, MT_PAGE);
	memset(pattern, 0xa5, MT_PAGE);
	if (memcmp(r->bo[p->bo].cpu + p->bo_page * MT_PAGE, pattern, MT_PAGE))
		fail_msg("%s: the CPU mapping of BO %c page %" PRIu64 " does not show it", msg,
			 'A' + p->bo, p->bo_page);
	mt_page_pattern(GPU_TAG | ++r->gpu_tags, p->bo_page, pattern);
	msg_at(r, va, "GPU write", msg, sizeof(msg));
	CHECK_ERR(msg, mt_gpu_write(&r->d, r->vm, va, pattern, MT_PAGE, &res), 0);
	CHECK_STATUS(msg, res.status, 0);
	CHECK_EQ(msg, res.done, MT_PAGE);
	if (memcmp(r->bo[p->bo].cpu + p->bo_page * MT_PAGE, pattern, MT_PAGE))
		fail_msg("%s: the CPU mapping of BO %c page %" PRIu64 " does not show it", msg,
			 'A' + p->bo, p->bo_page);
	if (alias) {
		msg_at(r, alias, "GPU read through an alias of a GPU-written page", msg,
		       sizeof(msg));
		mt_expect_bytes(&r->d, r->vm, alias, pattern, MT_PAGE, msg);
	}
}

/* The CPU writes a new pattern into the BO page: the GPU reads it at @va. */
static void cpu_writes_page(struct run *r, uint64_t va, const struct pg *p)
{
	char msg[640];

	mt_cpu_scribble(&r->bo[p->bo], p->bo_page);
	msg_at(r, va, "GPU read after a CPU write", msg, sizeof(msg));
	mt_expect_bo_page(&r->d, r->vm, va, &r->bo[p->bo], p->bo_page, msg);
}

/* A GPU write running off the end of writable [.., e) lands its first bytes only. */
static void gpu_write_off_end(struct run *r, uint64_t e)
{
	const struct pg *p = pg_at(&r->m, e - MT_PAGE);
	uint8_t *last = r->bo[p->bo].cpu + p->bo_page * MT_PAGE + MT_PAGE - 8;
	uint8_t data[16];
	struct mt_access res;
	char msg[640];

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(last[i % 8] ^ 0x5a);
	msg_at(r, e - 8, "GPU write running into a hole", msg, sizeof(msg));
	CHECK_ERR(msg, mt_gpu_write(&r->d, r->vm, e - 8, data, sizeof(data), &res), 0);
	CHECK_STATUS(msg, res.status, mt_translation_fault(fault_level(&r->m, e), MT_WRITE));
	CHECK_EQ(msg, res.fault_addr, e);
	CHECK_EQ(msg, res.done, 8);
	if (memcmp(last, data, 8))
		fail_msg("%s: the CPU does not see the 8 bytes written before the fault", msg);
}

static bool writable_bo_page(const struct pg *p)
{
	return p && p->kind == PG_BO && !p->ro;
}

/* Both directions on the writable BO pages of the window (a sample of large ones). */
static void step_rw(struct run *r)
{
	uint64_t n = 0, stride, i = 0;

	for (uint64_t va = r->m.start; va < r->m.end; va += MT_PAGE)
		n += writable_bo_page(pg_at(&r->m, va));
	stride = n > 128 ? n / 64 : 1;
	for (uint64_t va = r->m.start; va < r->m.end; va += MT_PAGE) {
		const struct pg *p = pg_at(&r->m, va);

		if (!writable_bo_page(p) || i++ % stride)
			continue;
		gpu_writes_page(r, va, p);
		cpu_writes_page(r, va, p);
		if (!mapped(pg_at(&r->m, va + MT_PAGE)))
			gpu_write_off_end(r, va + MT_PAGE);
	}
}

/* The table of cases */

enum step_type {
	STEP_END,
	STEP_BIND, /* one op, the model's prediction must be @err */
	STEP_RW,   /* step_rw() */
	STEP_LEAF, /* the model says @va is in a leaf of level @leaf (keeps rows honest) */
};

struct step {
	enum step_type type;
	struct mreq q; /* VAs relative to WIN_BASE */
	int err;
	unsigned int leaf;
};

struct row {
	const char *name;
	uint64_t bo_sizes[MAX_BOS];
	uint64_t window;
	struct step steps[MAX_STEPS];
};

#define A 0
#define B 1
#define C 2
/* Fields of a struct step; a step is written { MAP(...) } or { UNMAP(...), REFUSED }. */
#define BIND(k, b, off, rng, v, sz, ro_) \
	.type = STEP_BIND, .q = { (k), (b), (off), (rng), (v), (sz), (ro_) }
#define MAP(b, off, v, sz, ro_) BIND(PG_BO, b, off, 0, v, sz, ro_)
#define REPEAT(b, off, rng, v, sz, ro_) BIND(PG_BO, b, off, rng, v, sz, ro_)
#define SPARSE(v, sz, ro_) BIND(PG_SPARSE, 0, 0, 0, v, sz, ro_)
#define UNMAP(v, sz) BIND(PG_NONE, 0, 0, 0, v, sz, false)
#define REFUSED .err = -EINVAL
#define RW .type = STEP_RW
#define LEAF(v, l) .type = STEP_LEAF, .q = { .va = (v) }, .leaf = (l)

static const struct row rows[] = {
	/*
	 * map    |AAAAAAAAAAAAAAAA|   one 2 MiB block: writes fault 0xCA (L2)
	 * unmap          |x|          4 KiB at +1 MiB
	 * after  |AAAAAAA| |AAAAAA|   split into a level-3 table: writes 0xCB,
	 *                             the hole reads 0xC3
	 */
	{ "block 2M read-only, 4K hole punch",
	  { 4 * MiB },
	  4 * MiB,
	  { { MAP(A, 0, 0, 2 * MiB, true) },
	    { LEAF(0, 2) },
	    { UNMAP(1 * MiB, P(1)) },
	    { LEAF(0, 3) },
	    { LEAF(2 * MiB - MT_PAGE, 3) } } },
	/* The same block writable: data both ways before and after the punch. */
	{ "block 2M writable, 4K hole punch",
	  { 4 * MiB },
	  4 * MiB,
	  { { MAP(A, 2 * MiB, 2 * MiB, 2 * MiB, false) },
	    { RW },
	    { UNMAP(3 * MiB, P(1)) },
	    { RW } } },
	/*
	 * map    |AAAAAAAAAAAAAAAA|   block at +2 MiB (BO offset 2 MiB)
	 * unmap  |xx|                 the first 64 KiB
	 * after     |AAAAAAAAAAAAA|   level-3 pages
	 */
	{ "block head unmap",
	  { 4 * MiB },
	  4 * MiB,
	  { { MAP(A, 2 * MiB, 2 * MiB, 2 * MiB, true) },
	    { UNMAP(2 * MiB, 64 * KiB) },
	    { LEAF(2 * MiB + 64 * KiB, 3) } } },
	/*
	 * map    |AAAAAAAAAAAAAAAA|
	 * unmap                |xx|   the last 64 KiB
	 * after  |AAAAAAAAAAAAA|
	 */
	{ "block tail unmap",
	  { 4 * MiB },
	  4 * MiB,
	  { { MAP(A, 0, 0, 2 * MiB, true) },
	    { UNMAP(2 * MiB - 64 * KiB, 64 * KiB) },
	    { LEAF(0, 3) } } },
	/*
	 * map    |AAAAAAAA|AAAAAAAA|  two blocks
	 * unmap         |xx|          32 KiB across the 2 MiB boundary
	 * after  |AAAAAA|  |AAAAAAA|  both split
	 */
	{ "unmap across two blocks",
	  { 4 * MiB },
	  4 * MiB,
	  { { MAP(A, 0, 0, 4 * MiB, true) },
	    { LEAF(0, 2) },
	    { LEAF(2 * MiB, 2) },
	    { UNMAP(2 * MiB - P(4), P(8)) },
	    { LEAF(0, 3) },
	    { LEAF(4 * MiB - MT_PAGE, 3) } } },
	/*
	 * map    |B|.......|AAAAAAAA|   a page of B, a block of A in the next 2 MiB
	 * unmap            |xxxxxxxx|   the whole block: its level-2 item is empty,
	 *                               the hole reads 0xC2 (the L2 table stays for B)
	 */
	{ "unmap a whole block",
	  { 4 * MiB, 64 * KiB },
	  4 * MiB,
	  { { MAP(B, 0, 0, P(1), false) },
	    { MAP(A, 0, 2 * MiB, 2 * MiB, true) },
	    { LEAF(2 * MiB, 2) },
	    { UNMAP(2 * MiB, 2 * MiB) },
	    { UNMAP(0, P(1)) } } },
	/*
	 * map    |AAAAAAAA|BBBBBBBB|
	 * unmap      |xxxxxxxx|       pages 8-24 across both VAs
	 * after  |AAAA|        |BBBB|
	 */
	{ "unmap spanning two mappings",
	  { 64 * KiB, 64 * KiB },
	  4 * MiB,
	  { { MAP(A, 0, 0, P(16), false) },
	    { MAP(B, 0, P(16), P(16), true) },
	    { UNMAP(P(8), P(16)) },
	    { RW } } },
	/*
	 * map        |AAAAAAAAAAAAAAAA|   A at pages 8-40
	 * map                |BBBB|       B at 16-24, strictly inside (drm_gpuvm case 11)
	 * map      |CCCCCCCCCC|           C at 4-20: over A's head piece and B's start
	 * after    |CCCCCCCCCC|BB|AAAAAAAA|
	 */
	{ "map over existing mappings replaces them",
	  { 128 * KiB, 64 * KiB, 64 * KiB },
	  4 * MiB,
	  { { MAP(A, 0, P(8), P(32), false) },
	    { MAP(B, P(2), P(16), P(8), false) },
	    { MAP(C, 0, P(4), P(16), true) },
	    { RW } } },
	/* Identical remap (case 1, keep): the block must stay mapped, and a block. */
	{ "identical remap keeps the block",
	  { 4 * MiB },
	  4 * MiB,
	  { { MAP(A, 0, 0, 2 * MiB, true) }, { MAP(A, 0, 0, 2 * MiB, true) }, { LEAF(0, 2) } } },
	/* Same BO and offset, new protections: keep must not skip the change. */
	{ "remap with other protections",
	  { 64 * KiB },
	  4 * MiB,
	  { { MAP(A, 0, 0, P(16), true) },
	    { MAP(A, 0, 0, P(16), false) },
	    { RW },
	    { MAP(A, P(4), P(4), P(8), true) },
	    { RW } } },
	/* Same range, other offset in the same BO (case 2). */
	{ "remap at another BO offset",
	  { 128 * KiB },
	  4 * MiB,
	  { { MAP(A, 0, 0, P(16), false) }, { MAP(A, P(5), 0, P(16), false) }, { RW } } },
	/*
	 * repeat |abcd|abcd|abcd|...|   BO range [64K, 128K) over 1 GiB, 16384 times
	 * unmap            |xxxx|       one period at +512 MiB
	 * unmap               |x|       a page inside a period: -EINVAL, nothing changes
	 */
	{ "repeat of 64K over 1G",
	  { 256 * KiB },
	  1 * GiB,
	  { { REPEAT(A, 64 * KiB, 64 * KiB, 0, 1 * GiB, false) },
	    { RW },
	    { UNMAP(512 * MiB, 64 * KiB) },
	    { UNMAP(512 * MiB + 128 * KiB + P(1), P(1)), REFUSED },
	    { RW } } },
	/* One BO page repeated over 8 MiB (every 2 MiB boundary inside), then replaced in part. */
	{ "repeat with a 4K period",
	  { 64 * KiB, 64 * KiB },
	  8 * MiB,
	  { { REPEAT(A, P(5), P(1), 0, 8 * MiB, false) },
	    { RW },
	    { MAP(B, 0, 2 * MiB - P(2), P(4), false) },
	    { RW } } },
	/* A period of four pages: cuts must fall on period boundaries. */
	{ "repeat cut off its period is refused",
	  { 64 * KiB, 64 * KiB },
	  4 * MiB,
	  { { REPEAT(A, P(2), P(4), 0, P(64), true) },
	    { MAP(B, 0, P(2), P(4), false), REFUSED },
	    { UNMAP(P(58), P(4)), REFUSED },
	    { MAP(B, 0, P(4), P(4), false) },
	    { UNMAP(P(56), P(16)) } } },
	/*
	 * sparse |ddddddddddddddddddddd|   1 GiB of the dummy page (reads zero)
	 * unmap          |x|               a hole at +300 MiB: 0xC3
	 * map            |B|               a real page in the hole
	 * map                     |B|      and one straight over the sparse range
	 */
	{ "sparse 1G, then real pages",
	  { 64 * KiB },
	  1 * GiB,
	  { { SPARSE(0, 1 * GiB, false) },
	    { UNMAP(300 * MiB, P(1)) },
	    { MAP(A, 0, 300 * MiB, P(1), false) },
	    { MAP(A, P(1), 700 * MiB + P(3), P(1), false) },
	    { RW } } },
	/* A READONLY sparse range refuses writes. */
	{ "sparse read-only",
	  { 64 * KiB },
	  4 * MiB,
	  { { SPARSE(P(16), P(64), true) }, { MAP(A, 0, P(80), P(4), false) }, { RW } } },
	/* Unmapping where nothing is mapped succeeds and changes nothing. */
	{ "unmap with nothing mapped",
	  { 64 * KiB },
	  8 * MiB,
	  { { UNMAP(0, 2 * MiB) },
	    { MAP(A, 0, 1 * MiB, P(4), false) },
	    { UNMAP(2 * MiB, 4 * MiB) },
	    { UNMAP(0, 1 * MiB) },
	    { UNMAP(1 * MiB, P(4)) } } },
	/*
	 * map   |AAAA|aaaa|   writable, then READONLY right after it
	 * Accesses across the boundaries stop at the first faulting byte.
	 */
	{ "straddling accesses",
	  { 64 * KiB },
	  4 * MiB,
	  { { MAP(A, 0, P(3), P(4), false) }, { MAP(A, P(4), P(7), P(4), true) }, { RW } } },
};

static void run_step(struct run *r, const struct step *st)
{
	struct mreq q = st->q;
	struct gpuvm_vm_bind_op_repeat op;
	struct warm w;

	q.va += WIN_BASE;
	if (st->type == STEP_RW) {
		step_rw(r);
		return;
	}
	if (st->type == STEP_LEAF) {
		CHECK_EQ(r->ctx, pg_at(&r->m, q.va)->leaf, st->leaf);
		return;
	}
	op = op_of(r, &q);
	tlb_warm(r, q.va, q.size, &w);
	CHECK_ERR(r->ctx, mt_bind(&r->d, r->vm, 0, &op, 1), st->err);
	/* The model must agree with the row, or the row does not test what it says. */
	CHECK_ERR(r->ctx, model_apply(&r->m, &q), st->err);
	tlb_probe(r, &w);
	sweep_touched(r, q.va, q.size);
	mt_expect_no_stale(&r->d, r->ctx);
}

static void test_row(void **state)
{
	const struct row *row = *state;
	struct run *r = run_new(row->bo_sizes, WIN_BASE, WIN_BASE + row->window);

	for (unsigned int i = 0; i < MAX_STEPS && row->steps[i].type != STEP_END; i++) {
		snprintf(r->ctx, sizeof(r->ctx), "row \"%s\" step %u", row->name, i);
		run_step(r, &row->steps[i]);
	}
	snprintf(r->ctx, sizeof(r->ctx), "row \"%s\" final sweep", row->name);
	sweep_all(r);
	CHECK_EQ(r->ctx, mt_vm_state(&r->d, r->vm), DRM_PANTHOR_VM_STATE_USABLE);
	run_free(r);
}

/* The random sequence */

/*
 * 48 pages across a 1 GiB boundary (so faults stop at levels 1, 2 and 3),
 * BOs of 32, 16 and 8 pages: too small for blocks, every leaf is a page.
 */
#define RND_PAGES 48u
#define RND_START (WIN_BASE + GiB - P(RND_PAGES / 2))
#define RND_MARGIN P(8)

/* A random op of @n pages (within the window) for the page range it maps. */
static void random_place(struct rng *g, struct mreq *q, uint64_t n)
{
	q->size = P(n);
	q->va = RND_START + P(rng_below(g, RND_PAGES - n + 1));
}

/*
 * Most unmaps and sparse maps move their ends out to the period boundaries
 * of the repeat VAs they would cut, so that not every round is refused.
 */
static void snap_to_periods(const struct model *m, struct mreq *q)
{
	const struct pg *p;
	uint64_t end = q->va + q->size;

	if (cuts_period(m, q->va)) {
		p = pg_at(m, q->va);
		q->va -= (q->va - p->origin) % p->period;
	}
	if (cuts_period(m, end)) {
		p = pg_at(m, end);
		end += p->period - (end - p->origin) % p->period;
	}
	if (end <= m->end)
		q->size = end - q->va;
}

static struct mreq random_req(struct run *r, struct rng *g)
{
	struct mreq q = { .ro = rng_below(g, 4) == 0 };
	uint64_t kind = rng_below(g, 8), bo_pages, n;

	q.bo = (unsigned int)rng_below(g, r->nr_bos);
	bo_pages = r->bo[q.bo].size / MT_PAGE;
	if (kind < 3) {
		q.kind = PG_BO;
		n = 1 + rng_below(g, bo_pages < 16 ? bo_pages : 16);
		q.offset = P(rng_below(g, bo_pages - n + 1));
	} else if (kind == 3) {
		q.kind = PG_BO;
		q.range = P(1u << rng_below(g, 3));
		q.offset = P(rng_below(g, bo_pages - q.range / MT_PAGE + 1));
		n = q.range / MT_PAGE * (1 + rng_below(g, RND_PAGES / (q.range / MT_PAGE)));
	} else if (kind == 4) {
		q.kind = PG_SPARSE;
		n = 1 + rng_below(g, 16);
	} else {
		q.kind = PG_NONE;
		q.ro = false;
		n = 1 + rng_below(g, rng_below(g, 4) ? 16 : RND_PAGES);
	}
	random_place(g, &q, n);
	if ((q.kind == PG_NONE || q.kind == PG_SPARSE) && rng_below(g, 4))
		snap_to_periods(&r->m, &q);
	return q;
}

static int describe(const struct mreq *q, char *buf, size_t len)
{
	static const char *const kinds[] = { "unmap", "map", "sparse" };
	uint64_t va = (q->va - RND_START) / MT_PAGE, n = q->size / MT_PAGE;

	if (q->kind == PG_BO)
		return snprintf(buf, len,
				"%s%s %c+%" PRIu64 "p%s%" PRIu64 "p @+%" PRIu64 "p x%" PRIu64 "p; ",
				q->range ? "repeat" : kinds[q->kind], q->ro ? " ro" : "",
				'A' + q->bo, q->offset / MT_PAGE, q->range ? "/" : "",
				q->range / MT_PAGE, va, n);
	return snprintf(buf, len, "%s%s @+%" PRIu64 "p x%" PRIu64 "p; ", kinds[q->kind],
			q->ro ? " ro" : "", va, n);
}

/* Apply @n ops to a copy of the model: all of them, or none (-EINVAL). */
static int model_apply_array(struct model *m, const struct mreq *q, unsigned int n)
{
	struct model copy = *m;
	int err = 0;

	copy.pg = malloc(npages(m) * sizeof(*m->pg));
	assert_non_null(copy.pg);
	memcpy(copy.pg, m->pg, npages(m) * sizeof(*m->pg));
	for (unsigned int i = 0; i < n && !err; i++)
		err = model_apply(&copy, &q[i]);
	if (!err) {
		free(m->pg);
		*m = copy;
	} else {
		free(copy.pg);
	}
	model_index(m);
	return err;
}

static void random_bind(struct run *r, struct rng *g, unsigned int round)
{
	struct gpuvm_vm_bind_op_repeat ops[3];
	struct mreq q[3];
	struct warm w;
	unsigned int n = rng_below(g, 4) ? 1 : 2 + (unsigned int)rng_below(g, 2);
	int len, err;

	len = snprintf(r->ctx, sizeof(r->ctx),
		       "random round %u (replay with: --seed %" PRIu64 " --count %u): ", round,
		       opt_seed, round + 1);
	for (unsigned int i = 0; i < n; i++) {
		q[i] = random_req(r, g);
		ops[i] = op_of(r, &q[i]);
		len += describe(&q[i], r->ctx + len, sizeof(r->ctx) - (size_t)len);
	}
	r->ctx[len - 2] = '\0'; /* the last "; " */
	tlb_warm(r, q[0].va, q[0].size, &w);
	err = model_apply_array(&r->m, q, n);
	r->refused += err != 0;
	CHECK_ERR(r->ctx, mt_bind(&r->d, r->vm, 0, ops, n), err);
	tlb_probe(r, &w);
}

/*
 * The bytes a GPU write of [va, va + len) must move, and how it must stop:
 * at the first hole (translation fault) or READONLY page (permission fault).
 * Writes are kept off the sparse dummy page, which every sparse range shares.
 */
static uint64_t predict_write(struct run *r, uint64_t va, uint64_t *len, uint32_t *status)
{
	*status = 0;
	for (uint64_t x = va; x < va + *len; x = (x & ~(MT_PAGE - 1)) + MT_PAGE) {
		const struct pg *p = pg_at(&r->m, x);

		if (mapped(p) && p->kind == PG_SPARSE) {
			*len = x - va;
			return x - va;
		}
		if (!mapped(p))
			*status = mt_translation_fault(fault_level(&r->m, x), MT_WRITE);
		else if (p->ro)
			*status = mt_permission_fault(p->leaf, MT_WRITE);
		if (*status)
			return x - va;
	}
	return *len;
}

/* Apply the first @done bytes of a write to @mem, a copy of every BO, in address order. */
static void shadow_write(struct run *r, uint8_t **mem, uint64_t va, const uint8_t *data,
			 uint64_t done)
{
	for (uint64_t i = 0; i < done; i++) {
		const struct pg *p = pg_at(&r->m, va + i);

		mem[p->bo][p->bo_page * MT_PAGE + (va + i) % MT_PAGE] = data[i];
	}
}

static void random_write(struct run *r, struct rng *g)
{
	uint64_t va = RND_START - RND_MARGIN + rng_below(g, P(RND_PAGES) + 2 * RND_MARGIN);
	uint64_t len = 1 + rng_below(g, P(3)), done;
	uint8_t *mem[MAX_BOS], data[P(3)];
	struct mt_access res;
	uint32_t status;

	done = predict_write(r, va, &len, &status);
	if (!len)
		return;
	for (uint64_t i = 0; i < len; i++)
		data[i] = (uint8_t)rng_next(g);
	for (unsigned int b = 0; b < r->nr_bos; b++) {
		mem[b] = malloc(r->bo[b].size);
		assert_non_null(mem[b]);
		memcpy(mem[b], r->bo[b].cpu, r->bo[b].size);
	}
	CHECK_ERR(r->ctx, mt_gpu_write(&r->d, r->vm, va, data, len, &res), 0);
	CHECK_STATUS(r->ctx, res.status, status);
	CHECK_EQ(r->ctx, res.done, done);
	CHECK_EQ(r->ctx, res.fault_addr, status ? va + done : 0);
	if (status)
		r->write_faults[(status & 0xff) >= 0xc8]++;
	shadow_write(r, mem, va, data, done);
	for (unsigned int b = 0; b < r->nr_bos; b++) {
		if (memcmp(mem[b], r->bo[b].cpu, r->bo[b].size))
			fail_msg("%s: GPU write of %" PRIu64 " bytes at VA 0x%" PRIx64
				 ": BO %c is not what the writes through the model's pages give",
				 r->ctx, len, va, 'A' + b);
		free(mem[b]);
	}
}

/* A long enough run must have met every kind of outcome. */
static void check_coverage(const struct run *r)
{
	printf("random: %" PRIu64 " refused binds; holes at levels 0-3: %" PRIu64 " %" PRIu64
	       " %" PRIu64 " %" PRIu64 "; write faults: %" PRIu64 " translation, %" PRIu64
	       " permission\n",
	       r->refused, r->holes[0], r->holes[1], r->holes[2], r->holes[3], r->write_faults[0],
	       r->write_faults[1]);
	if (opt_count < COVERAGE_MIN_COUNT)
		return;
	for (unsigned int level = 0; level < 4; level++)
		CHECK_EQ("coverage: holes at this level", r->holes[level] > 0, true);
	CHECK_EQ("coverage: refused binds", r->refused > 0, true);
	CHECK_EQ("coverage: translation faults of writes", r->write_faults[0] > 0, true);
	CHECK_EQ("coverage: permission faults of writes", r->write_faults[1] > 0, true);
}

/* The window and its margin, and a page in the 2 MiB regions beside it (level-2 holes). */
static void random_sweep(struct run *r)
{
	sweep(r, r->m.start - RND_MARGIN, r->m.end + RND_MARGIN);
	sweep(r, r->m.start - BLOCK, r->m.start - BLOCK + MT_PAGE);
	sweep(r, r->m.end + BLOCK, r->m.end + BLOCK + MT_PAGE);
}

static void test_random(void **state)
{
	static const uint64_t sizes[MAX_BOS] = { P(32), P(16), P(8) };
	struct run *r = run_new(sizes, RND_START, RND_START + P(RND_PAGES));
	struct rng g = { .s = opt_seed };

	(void)state;
	for (unsigned int round = 0; round < opt_count; round++) {
		random_bind(r, &g, round);
		random_sweep(r);
		random_write(r, &g);
		if (rng_below(&g, 2)) {
			unsigned int b = (unsigned int)rng_below(&g, r->nr_bos);

			mt_cpu_scribble(&r->bo[b], rng_below(&g, r->bo[b].size / MT_PAGE));
		}
		random_sweep(r);
	}
	check_far(r);
	check_coverage(r);
	run_free(r);
}

int main(int argc, char **argv)
{
	const struct tu_args args = { "test-effects", &opt_seed, &opt_count };
	struct CMUnitTest tests[ARRAY_SIZE(rows) + 1];

	if (tu_parse_args(&args, argc, argv))
		return 2;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		tests[i] = (struct CMUnitTest){ .name = rows[i].name,
						.test_func = test_row,
						.initial_state = (void *)&rows[i] };
	tests[ARRAY_SIZE(rows)] =
		(struct CMUnitTest){ .name = "random sequence", .test_func = test_random };
	tu_print_args(&args);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
