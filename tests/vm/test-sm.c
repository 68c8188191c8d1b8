// SPDX-License-Identifier: MIT
/*
 * Split/merge (vm/gvm_sm.c) against the oracle, shared/reference/
 * gpuvm-split-merge.md: one named row per numbered case 1-15, then unmap
 * requests, maps over several VAs, repeat VAs and invalid requests.
 *
 * Rows use the oracle's notation: addresses, sizes and object offsets are in
 * pages ("units") counted from a window base; a is object A, b is object B, n
 * and m are their offsets in the drawings. Every row runs at two scales: 4K
 * units (page leaves) and 2M units (block leaves).
 *
 * Each row checks the exact op list gvm_sm_ops_list() returns (type, keep, the
 * old VA, the prev/next pieces, the MAP) and the effect of gvm_bind() with the
 * same request: gvm_validate(), the committed VAs, the tables (they translate
 * exactly the VAs, with block leaves at 2M), the object references, and that
 * no leaf outside the request or inside a kept part was rewritten or flushed.
 * A failing row delivers no op and leaves the VM, its tables, the references
 * and all memory unchanged, without a single page-table event.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gpuvm/print_file.h>

#include "vm-test.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Unit 0 of every row; 1G is aligned for both scales. */
#define WIN_BASE (1ull << 30)
/* Units checked leaf by leaf; every row stays inside. */
#define WIN_UNITS 32u
/* A kernel-reserved unit inside the window. */
#define RESV_UNIT 24u
#define OBJ_UNITS 32u
#define MAX_VAS 6
#define MAX_OPS 6
#define PROT (PT_PROT_READ | PT_PROT_WRITE | PT_PROT_CACHE)

/* clang-format off */
enum { NO_OBJ, A, B, NR_OBJS };
/* Object offsets n (of a) and m (of b) of the drawings, in units. */
enum { N = 4, M = 8 };
/* clang-format on */

static const unsigned int scales_lg2[] = { 12, 21 };

/* A VA or a piece in units; .size == 0 ends a list or means "no piece". */
struct sm_va {
	uint64_t va, size;
	int obj;
	uint64_t off, rep;
};

/* A request; .bytes: the values are bytes, not units (invalid requests). */
struct sm_req {
	enum gvm_req_type type;
	bool bytes;
	struct sm_va r;
};

/* An expected op; .prev/.next of size 0: none. */
struct sm_op {
	enum gvm_op_type type;
	bool keep;
	struct sm_va old, prev, next, map;
};

/*
 * One row: the VAs bound first, the request, its error, its exact ops, and the
 * VAs afterwards (when it fails, the VAs are @init unchanged).
 */
struct sm_row {
	const char *name;
	struct sm_va init[MAX_VAS];
	struct sm_req req;
	int err;
	struct sm_op ops[MAX_OPS];
	struct sm_va after[MAX_VAS];
};

/* clang-format off */
#define VA(va_, size_, obj_, off_) {.va = (va_), .size = (size_), .obj = (obj_), .off = (off_)}
#define RVA(va_, size_, obj_, off_, rep_)                                                   \
	{.va = (va_), .size = (size_), .obj = (obj_), .off = (off_), .rep = (rep_)}
#define NONE {0}

#define REQ_MAP(...) {.type = GVM_REQ_MAP, .r = VA(__VA_ARGS__)}
#define REQ_RMAP(...) {.type = GVM_REQ_MAP, .r = RVA(__VA_ARGS__)}
#define REQ_UNMAP(va_, size_) {.type = GVM_REQ_UNMAP, .r = VA(va_, size_, NO_OBJ, 0)}
#define REQ_BYTES(type_, va_, size_, obj_, off_, rep_)                                      \
	{.type = (type_), .bytes = true, .r = RVA(va_, size_, obj_, off_, rep_)}

#define OP_UNMAP(old_, keep_) {.type = GVM_OP_UNMAP, .keep = (keep_), .old = old_}
#define OP_REMAP(old_, keep_, prev_, next_)                                                 \
	{.type = GVM_OP_REMAP, .keep = (keep_), .old = old_, .prev = prev_, .next = next_}
#define OP_MAP(map_) {.type = GVM_OP_MAP, .map = map_}
/* clang-format on */

/*
 * The numbered cases, one row each, in the order of the oracle's table. The
 * diagram in vm/gvm_sm.c classifies an overlapped VA V = [a, e) against the
 * request R = [ra, re); its rows are covered by:
 *   a == ra, e == re: UNMAP            cases 1, 2, 3
 *   a == ra, e <  re: UNMAP, go on     case 4
 *   a == ra, e >  re: REMAP(next)      cases 5, 6
 *   a <  ra, e == re: REMAP(prev)      cases 7, 8
 *   a <  ra, e <  re: REMAP(prev), on  cases 9, 10
 *   a <  ra, e >  re: REMAP(prev,next) cases 11, 12
 *   a >  ra, e <= re: UNMAP            cases 13, 14
 *   a >  ra, e >  re: REMAP(next)      case 15
 * Even cases (and 1, 14) are "same": keep=1 because the offsets continue.
 */
/* clang-format off */
static const struct sm_row numbered_rows[] = {
	{.name = "case 1: identical map is UNMAP(keep=1) + MAP, not nothing",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 2, A, N),
	 .ops = {OP_UNMAP(VA(0, 2, A, N), true), OP_MAP(VA(0, 2, A, N))},
	 .after = {VA(0, 2, A, N)}},
	{.name = "case 2: same range, other offset",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 2, A, M),
	 .ops = {OP_UNMAP(VA(0, 2, A, N), false), OP_MAP(VA(0, 2, A, M))},
	 .after = {VA(0, 2, A, M)}},
	{.name = "case 3: same range, other object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 2, B, M),
	 .ops = {OP_UNMAP(VA(0, 2, A, N), false), OP_MAP(VA(0, 2, B, M))},
	 .after = {VA(0, 2, B, M)}},
	{.name = "case 4: old is the left part of req, same object",
	 .init = {VA(0, 1, A, N)},
	 .req = REQ_MAP(0, 2, A, N),
	 .ops = {OP_UNMAP(VA(0, 1, A, N), true), OP_MAP(VA(0, 2, A, N))},
	 .after = {VA(0, 2, A, N)}},
	{.name = "case 5: req is the left part of old, other object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 1, B, M),
	 .ops = {OP_REMAP(VA(0, 2, A, N), false, NONE, VA(1, 1, A, N + 1)),
		 OP_MAP(VA(0, 1, B, M))},
	 .after = {VA(0, 1, B, M), VA(1, 1, A, N + 1)}},
	{.name = "case 6: req is the left part of old, same object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 1, A, N),
	 .ops = {OP_REMAP(VA(0, 2, A, N), true, NONE, VA(1, 1, A, N + 1)),
		 OP_MAP(VA(0, 1, A, N))},
	 .after = {VA(0, 1, A, N), VA(1, 1, A, N + 1)}},
	{.name = "case 7: req is the right part of old, other object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(1, 1, B, M),
	 .ops = {OP_REMAP(VA(0, 2, A, N), false, VA(0, 1, A, N), NONE),
		 OP_MAP(VA(1, 1, B, M))},
	 .after = {VA(0, 1, A, N), VA(1, 1, B, M)}},
	{.name = "case 8: req is the right part of old, same object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(1, 1, A, N + 1),
	 .ops = {OP_REMAP(VA(0, 2, A, N), true, VA(0, 1, A, N), NONE),
		 OP_MAP(VA(1, 1, A, N + 1))},
	 .after = {VA(0, 1, A, N), VA(1, 1, A, N + 1)}},
	{.name = "case 9: req overlaps the end of old, other object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(1, 2, B, M),
	 .ops = {OP_REMAP(VA(0, 2, A, N), false, VA(0, 1, A, N), NONE),
		 OP_MAP(VA(1, 2, B, M))},
	 .after = {VA(0, 1, A, N), VA(1, 2, B, M)}},
	{.name = "case 10: req overlaps the end of old, same object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(1, 2, A, N + 1),
	 .ops = {OP_REMAP(VA(0, 2, A, N), true, VA(0, 1, A, N), NONE),
		 OP_MAP(VA(1, 2, A, N + 1))},
	 .after = {VA(0, 1, A, N), VA(1, 2, A, N + 1)}},
	{.name = "case 11: req strictly inside old, other object",
	 .init = {VA(0, 3, A, N)},
	 .req = REQ_MAP(1, 1, B, M),
	 .ops = {OP_REMAP(VA(0, 3, A, N), false, VA(0, 1, A, N), VA(2, 1, A, N + 2)),
		 OP_MAP(VA(1, 1, B, M))},
	 .after = {VA(0, 1, A, N), VA(1, 1, B, M), VA(2, 1, A, N + 2)}},
	{.name = "case 12: req strictly inside old, same object",
	 .init = {VA(0, 3, A, N)},
	 .req = REQ_MAP(1, 1, A, N + 1),
	 .ops = {OP_REMAP(VA(0, 3, A, N), true, VA(0, 1, A, N), VA(2, 1, A, N + 2)),
		 OP_MAP(VA(1, 1, A, N + 1))},
	 .after = {VA(0, 1, A, N), VA(1, 1, A, N + 1), VA(2, 1, A, N + 2)}},
	{.name = "case 13: old strictly inside req, other object",
	 .init = {VA(1, 1, A, N)},
	 .req = REQ_MAP(0, 3, B, M),
	 .ops = {OP_UNMAP(VA(1, 1, A, N), false), OP_MAP(VA(0, 3, B, M))},
	 .after = {VA(0, 3, B, M)}},
	{.name = "case 14: old strictly inside req, same object",
	 .init = {VA(1, 1, A, N + 1)},
	 .req = REQ_MAP(0, 3, A, N),
	 .ops = {OP_UNMAP(VA(1, 1, A, N + 1), true), OP_MAP(VA(0, 3, A, N))},
	 .after = {VA(0, 3, A, N)}},
	{.name = "case 15: req overlaps the start of old, next piece at offset n+1",
	 .init = {VA(1, 2, A, N)},
	 .req = REQ_MAP(0, 2, B, M),
	 .ops = {OP_REMAP(VA(1, 2, A, N), false, NONE, VA(2, 1, A, N + 1)),
		 OP_MAP(VA(0, 2, B, M))},
	 .after = {VA(0, 2, B, M), VA(2, 1, A, N + 1)}},
};
/* clang-format on */

/* Variants of the numbered cases and maps over several VAs. */
/* clang-format off */
static const struct sm_row map_rows[] = {
	{.name = "case 3 variant: other object at the same offset",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 2, B, N),
	 .ops = {OP_UNMAP(VA(0, 2, A, N), false), OP_MAP(VA(0, 2, B, N))},
	 .after = {VA(0, 2, B, N)}},
	{.name = "case 4 variant: other object",
	 .init = {VA(0, 1, A, N)},
	 .req = REQ_MAP(0, 2, B, M),
	 .ops = {OP_UNMAP(VA(0, 1, A, N), false), OP_MAP(VA(0, 2, B, M))},
	 .after = {VA(0, 2, B, M)}},
	{.name = "case 14 variant: same object, offsets do not continue",
	 .init = {VA(1, 1, A, N)},
	 .req = REQ_MAP(0, 3, A, N),
	 .ops = {OP_UNMAP(VA(1, 1, A, N), false), OP_MAP(VA(0, 3, A, N))},
	 .after = {VA(0, 3, A, N)}},
	{.name = "case 15 variant: same object",
	 .init = {VA(1, 2, A, N)},
	 .req = REQ_MAP(0, 2, A, N - 1),
	 .ops = {OP_REMAP(VA(1, 2, A, N), true, NONE, VA(2, 1, A, N + 1)),
		 OP_MAP(VA(0, 2, A, N - 1))},
	 .after = {VA(0, 2, A, N - 1), VA(2, 1, A, N + 1)}},
	{.name = "map into an empty VM",
	 .req = REQ_MAP(0, 2, A, N),
	 .ops = {OP_MAP(VA(0, 2, A, N))},
	 .after = {VA(0, 2, A, N)}},
	{.name = "map spanning several VAs with gaps: REMAP, UNMAP, REMAP, MAP",
	 .init = {VA(0, 2, A, N), VA(3, 1, B, M), VA(5, 2, A, N + 5)},
	 .req = REQ_MAP(1, 5, B, 16),
	 .ops = {OP_REMAP(VA(0, 2, A, N), false, VA(0, 1, A, N), NONE),
		 OP_UNMAP(VA(3, 1, B, M), false),
		 OP_REMAP(VA(5, 2, A, N + 5), false, NONE, VA(6, 1, A, N + 6)),
		 OP_MAP(VA(1, 5, B, 16))},
	 .after = {VA(0, 1, A, N), VA(1, 5, B, 16), VA(6, 1, A, N + 6)}},
	{.name = "map over several VAs, keep where the offsets continue",
	 .init = {VA(0, 2, A, N), VA(2, 1, B, M), VA(3, 2, A, N + 3)},
	 .req = REQ_MAP(1, 3, A, N + 1),
	 .ops = {OP_REMAP(VA(0, 2, A, N), true, VA(0, 1, A, N), NONE),
		 OP_UNMAP(VA(2, 1, B, M), false),
		 OP_REMAP(VA(3, 2, A, N + 3), true, NONE, VA(4, 1, A, N + 4)),
		 OP_MAP(VA(1, 3, A, N + 1))},
	 .after = {VA(0, 1, A, N), VA(1, 3, A, N + 1), VA(4, 1, A, N + 4)}},
	{.name = "identical map over three VAs: three UNMAP(keep=1), merged into one",
	 .init = {VA(0, 1, A, N), VA(1, 2, A, N + 1), VA(3, 1, A, N + 3)},
	 .req = REQ_MAP(0, 4, A, N),
	 .ops = {OP_UNMAP(VA(0, 1, A, N), true), OP_UNMAP(VA(1, 2, A, N + 1), true),
		 OP_UNMAP(VA(3, 1, A, N + 3), true), OP_MAP(VA(0, 4, A, N))},
	 .after = {VA(0, 4, A, N)}},
	{.name = "map between VAs touching its edges: MAP only",
	 .init = {VA(0, 1, A, N), VA(3, 1, A, N + 3)},
	 .req = REQ_MAP(1, 2, A, N + 1),
	 .ops = {OP_MAP(VA(1, 2, A, N + 1))},
	 .after = {VA(0, 1, A, N), VA(1, 2, A, N + 1), VA(3, 1, A, N + 3)}},
	{.name = "map ending where a reserved range starts",
	 .req = REQ_MAP(RESV_UNIT - 2, 2, A, N),
	 .ops = {OP_MAP(VA(RESV_UNIT - 2, 2, A, N))},
	 .after = {VA(RESV_UNIT - 2, 2, A, N)}},
	{.name = "map starting where a reserved range ends",
	 .req = REQ_MAP(RESV_UNIT + 1, 2, A, N),
	 .ops = {OP_MAP(VA(RESV_UNIT + 1, 2, A, N))},
	 .after = {VA(RESV_UNIT + 1, 2, A, N)}},
	{.name = "map of the object's last pages",
	 .req = REQ_MAP(0, 2, A, OBJ_UNITS - 2),
	 .ops = {OP_MAP(VA(0, 2, A, OBJ_UNITS - 2))},
	 .after = {VA(0, 2, A, OBJ_UNITS - 2)}},
};
/* clang-format on */

/* clang-format off */
static const struct sm_row unmap_rows[] = {
	{.name = "hole punch: unmap inside one VA is one REMAP with prev and next",
	 .init = {VA(0, 3, A, N)},
	 .req = REQ_UNMAP(1, 1),
	 .ops = {OP_REMAP(VA(0, 3, A, N), false, VA(0, 1, A, N), VA(2, 1, A, N + 2))},
	 .after = {VA(0, 1, A, N), VA(2, 1, A, N + 2)}},
	{.name = "hole punch, wider hole",
	 .init = {VA(0, 8, A, N)},
	 .req = REQ_UNMAP(2, 3),
	 .ops = {OP_REMAP(VA(0, 8, A, N), false, VA(0, 2, A, N), VA(5, 3, A, N + 5))},
	 .after = {VA(0, 2, A, N), VA(5, 3, A, N + 5)}},
	{.name = "unmap of nothing: empty VM",
	 .req = REQ_UNMAP(0, 4)},
	{.name = "unmap of nothing: between VAs touching its edges",
	 .init = {VA(0, 1, A, N), VA(3, 1, B, M)},
	 .req = REQ_UNMAP(1, 2),
	 .after = {VA(0, 1, A, N), VA(3, 1, B, M)}},
	{.name = "unmap of one whole VA: UNMAP(keep=0)",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_UNMAP(0, 2),
	 .ops = {OP_UNMAP(VA(0, 2, A, N), false)}},
	{.name = "unmap of whole VAs with gaps",
	 .init = {VA(0, 2, A, N), VA(3, 1, B, M), VA(5, 2, A, N + 5)},
	 .req = REQ_UNMAP(0, 7),
	 .ops = {OP_UNMAP(VA(0, 2, A, N), false), OP_UNMAP(VA(3, 1, B, M), false),
		 OP_UNMAP(VA(5, 2, A, N + 5), false)}},
	{.name = "unmap cutting the end of a VA",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_UNMAP(1, 2),
	 .ops = {OP_REMAP(VA(0, 2, A, N), false, VA(0, 1, A, N), NONE)},
	 .after = {VA(0, 1, A, N)}},
	{.name = "unmap cutting the start of a VA",
	 .init = {VA(1, 2, A, N)},
	 .req = REQ_UNMAP(0, 2),
	 .ops = {OP_REMAP(VA(1, 2, A, N), false, NONE, VA(2, 1, A, N + 1))},
	 .after = {VA(2, 1, A, N + 1)}},
	{.name = "unmap spanning several VAs, cutting both ends",
	 .init = {VA(0, 2, A, N), VA(2, 1, B, M), VA(4, 1, A, N + 4), VA(5, 3, B, M + 3)},
	 .req = REQ_UNMAP(1, 5),
	 .ops = {OP_REMAP(VA(0, 2, A, N), false, VA(0, 1, A, N), NONE),
		 OP_UNMAP(VA(2, 1, B, M), false), OP_UNMAP(VA(4, 1, A, N + 4), false),
		 OP_REMAP(VA(5, 3, B, M + 3), false, NONE, VA(6, 2, B, M + 4))},
	 .after = {VA(0, 1, A, N), VA(6, 2, B, M + 4)}},
};
/* clang-format on */

/* Repeat VAs map [off, off + rep) again and again; period 2 units unless said. */
/* clang-format off */
static const struct sm_row repeat_rows[] = {
	{.name = "repeat: hole on the period, pieces keep the offset",
	 .init = {RVA(0, 6, A, N, 2)},
	 .req = REQ_UNMAP(2, 2),
	 .ops = {OP_REMAP(RVA(0, 6, A, N, 2), false, RVA(0, 2, A, N, 2), RVA(4, 2, A, N, 2))},
	 .after = {RVA(0, 2, A, N, 2), RVA(4, 2, A, N, 2)}},
	{.name = "repeat: other object over the start, on the period",
	 .init = {RVA(0, 6, A, N, 2)},
	 .req = REQ_MAP(0, 2, B, M),
	 .ops = {OP_REMAP(RVA(0, 6, A, N, 2), false, NONE, RVA(2, 4, A, N, 2)),
		 OP_MAP(VA(0, 2, B, M))},
	 .after = {VA(0, 2, B, M), RVA(2, 4, A, N, 2)}},
	{.name = "repeat: unmap cutting off the period is -EINVAL",
	 .init = {RVA(0, 6, A, N, 2)},
	 .req = REQ_UNMAP(1, 2),
	 .err = -EINVAL},
	{.name = "repeat: map cutting the end off the period is -EINVAL",
	 .init = {RVA(2, 6, A, N, 2)},
	 .req = REQ_MAP(0, 3, B, M),
	 .err = -EINVAL},
	{.name = "repeat: last VA cut off the period, first cut fine: -EINVAL, no op",
	 .init = {VA(0, 2, B, M), RVA(2, 4, A, N, 2)},
	 .req = REQ_UNMAP(1, 2),
	 .err = -EINVAL},
	{.name = "repeat: same object, offset, period, distance on the period: keep=1",
	 .init = {RVA(0, 6, A, N, 2)},
	 .req = REQ_RMAP(2, 2, A, N, 2),
	 .ops = {OP_REMAP(RVA(0, 6, A, N, 2), true, RVA(0, 2, A, N, 2), RVA(4, 2, A, N, 2)),
		 OP_MAP(RVA(2, 2, A, N, 2))},
	 .after = {RVA(0, 2, A, N, 2), RVA(2, 2, A, N, 2), RVA(4, 2, A, N, 2)}},
	{.name = "repeat: request starting before the VA, distance on the period: keep=1",
	 .init = {RVA(2, 4, A, N, 2)},
	 .req = REQ_RMAP(0, 8, A, N, 2),
	 .ops = {OP_UNMAP(RVA(2, 4, A, N, 2), true), OP_MAP(RVA(0, 8, A, N, 2))},
	 .after = {RVA(0, 8, A, N, 2)}},
	{.name = "repeat: distance off the period: keep=0",
	 .init = {RVA(2, 4, A, N, 2)},
	 .req = REQ_RMAP(1, 6, A, N, 2),
	 .ops = {OP_UNMAP(RVA(2, 4, A, N, 2), false), OP_MAP(RVA(1, 6, A, N, 2))},
	 .after = {RVA(1, 6, A, N, 2)}},
	{.name = "repeat: offset advanced as if linear: keep=0",
	 .init = {RVA(0, 6, A, N, 2)},
	 .req = REQ_RMAP(2, 2, A, N + 2, 2),
	 .ops = {OP_REMAP(RVA(0, 6, A, N, 2), false, RVA(0, 2, A, N, 2), RVA(4, 2, A, N, 2)),
		 OP_MAP(RVA(2, 2, A, N + 2, 2))},
	 .after = {RVA(0, 2, A, N, 2), RVA(2, 2, A, N + 2, 2), RVA(4, 2, A, N, 2)}},
	{.name = "repeat: other period: keep=0",
	 .init = {RVA(0, 8, A, N, 2)},
	 .req = REQ_RMAP(0, 4, A, N, 4),
	 .ops = {OP_REMAP(RVA(0, 8, A, N, 2), false, NONE, RVA(4, 4, A, N, 2)),
		 OP_MAP(RVA(0, 4, A, N, 4))},
	 .after = {RVA(0, 4, A, N, 4), RVA(4, 4, A, N, 2)}},
	{.name = "repeat: other object: keep=0",
	 .init = {RVA(0, 4, A, N, 2)},
	 .req = REQ_RMAP(0, 4, B, N, 2),
	 .ops = {OP_UNMAP(RVA(0, 4, A, N, 2), false), OP_MAP(RVA(0, 4, B, N, 2))},
	 .after = {RVA(0, 4, B, N, 2)}},
	{.name = "repeat: non-repeat request over a repeat VA: keep=0",
	 .init = {RVA(0, 4, A, N, 2)},
	 .req = REQ_MAP(0, 2, A, N),
	 .ops = {OP_REMAP(RVA(0, 4, A, N, 2), false, NONE, RVA(2, 2, A, N, 2)),
		 OP_MAP(VA(0, 2, A, N))},
	 .after = {VA(0, 2, A, N), RVA(2, 2, A, N, 2)}},
	{.name = "repeat: repeat request over a linear VA: keep=0",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_RMAP(0, 2, A, N, 2),
	 .ops = {OP_UNMAP(VA(0, 2, A, N), false), OP_MAP(RVA(0, 2, A, N, 2))},
	 .after = {RVA(0, 2, A, N, 2)}},
};
/* clang-format on */

#define P4K 0x1000ull
#define BASE WIN_BASE

/* Invalid requests: all -EINVAL, no op, nothing changes. */
/* clang-format off */
static const struct sm_row invalid_rows[] = {
	{.name = "invalid: map without object",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 1, NO_OBJ, 0),
	 .err = -EINVAL},
	{.name = "invalid: object range beyond the object's size",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_MAP(0, 2, A, OBJ_UNITS - 1),
	 .err = -EINVAL},
	{.name = "invalid: repeat range beyond the object's size",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_RMAP(0, 4, A, OBJ_UNITS - 1, 2),
	 .err = -EINVAL},
	{.name = "invalid: repeat not dividing the size",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_RMAP(0, 3, A, N, 2),
	 .err = -EINVAL},
	{.name = "invalid: repeat larger than the size",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_RMAP(0, 2, A, N, 4),
	 .err = -EINVAL},
	{.name = "invalid: map touching a kernel-reserved range",
	 .init = {VA(RESV_UNIT - 2, 1, A, N)},
	 .req = REQ_MAP(RESV_UNIT - 1, 2, A, N),
	 .err = -EINVAL},
	{.name = "invalid: unmap covering a kernel-reserved range",
	 .init = {VA(RESV_UNIT - 2, 1, A, N), VA(RESV_UNIT + 1, 1, B, M)},
	 .req = REQ_UNMAP(RESV_UNIT - 2, 4),
	 .err = -EINVAL},
	{.name = "invalid: va not page aligned",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_MAP, BASE + 0x800, P4K, A, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: size not page aligned",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_UNMAP, BASE, P4K + 0x800, NO_OBJ, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: offset not page aligned",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_MAP, BASE, P4K, A, 0x800, 0),
	 .err = -EINVAL},
	{.name = "invalid: repeat not page aligned",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_MAP, BASE, 2 * P4K, A, 0, 0x800),
	 .err = -EINVAL},
	{.name = "invalid: map of size 0",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_MAP, BASE, 0, A, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: unmap of size 0",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_UNMAP, BASE, 0, NO_OBJ, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: end wraps around to below the VM",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_UNMAP, BASE, 0 - BASE + P4K, NO_OBJ, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: end is 2^64",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_UNMAP, 0 - P4K, P4K, NO_OBJ, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: object offset + size overflows",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_MAP, BASE, 2 * P4K, A, 0 - P4K, 0),
	 .err = -EINVAL},
	{.name = "invalid: starts below the VM",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_UNMAP, VM_TEST_START - P4K, 2 * P4K, NO_OBJ, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: ends past the VM",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_MAP, VM_TEST_END - P4K, 2 * P4K, A, 0, 0),
	 .err = -EINVAL},
	{.name = "invalid: entirely outside the VM",
	 .init = {VA(0, 2, A, N)},
	 .req = REQ_BYTES(GVM_REQ_UNMAP, 0, P4K, NO_OBJ, 0, 0),
	 .err = -EINVAL},
};
/* clang-format on */

/* A VM under test at one scale, with objects a and b. */
struct fixture {
	struct vm_test_env e;
	struct vm_test_obj objs[NR_OBJS];
	struct gvm_range resv;
	unsigned int lg2;
	char ctx[160];
};

/* What must not change: a leaf descriptor at each end of each unit, memory. */
struct snapshot {
	uint64_t desc[WIN_UNITS][2];
	uint64_t pages;
	long host_live;
};

static uint64_t unit_addr(const struct fixture *f, uint64_t unit)
{
	return WIN_BASE + (unit << f->lg2);
}

static uint64_t unit_bytes(const struct fixture *f, uint64_t units)
{
	return units << f->lg2;
}

static struct gvm_obj *obj_ptr(struct fixture *f, int obj)
{
	return obj ? &f->objs[obj].obj : NULL;
}

/* The index of @obj in the rows' notation, -1 if foreign. */
static int obj_index(const struct fixture *f, const struct gvm_obj *obj)
{
	for (int i = A; i < NR_OBJS; i++)
		if (obj == &f->objs[i].obj)
			return i;
	return obj ? -1 : NO_OBJ;
}

static const char *op_name(enum gvm_op_type t)
{
	switch (t) {
	case GVM_OP_MAP:
		return "MAP";
	case GVM_OP_REMAP:
		return "REMAP";
	case GVM_OP_UNMAP:
		return "UNMAP";
	}
	return "?";
}

static void fixture_init(struct fixture *f, unsigned int lg2, const char *name)
{
	f->lg2 = lg2;
	f->resv = (struct gvm_range){ unit_addr(f, RESV_UNIT), unit_addr(f, RESV_UNIT + 1) };
	vm_test_init(&f->e, &f->resv, 1);
	vm_test_obj_init(&f->objs[A], unit_bytes(f, OBJ_UNITS), 2ull << 30, 0);
	vm_test_obj_init(&f->objs[B], unit_bytes(f, OBJ_UNITS), 3ull << 30, 0);
	snprintf(f->ctx, sizeof(f->ctx), "%s [%s units]", name, lg2 == 12 ? "4K" : "2M");
}

/* Destroying the VM drops every reference. */
static void fixture_fini(struct fixture *f)
{
	vm_test_fini(&f->e);
	for (int i = A; i < NR_OBJS; i++) {
		CHECK_EQ(f->ctx, f->objs[i].refs, 0);
		vm_test_obj_fini(&f->objs[i]);
	}
}

static struct gvm_req to_req(struct fixture *f, const struct sm_req *r)
{
	uint64_t scale = r->bytes ? 0 : f->lg2;

	return (struct gvm_req){
		.type = r->type,
		.va = r->bytes ? r->r.va : unit_addr(f, r->r.va),
		.size = r->r.size << scale,
		.obj = obj_ptr(f, r->r.obj),
		.offset = r->r.off << scale,
		.repeat = r->r.rep << scale,
		.prot = r->type == GVM_REQ_MAP ? PROT : 0,
	};
}

static void bind_vas(struct fixture *f, const struct sm_va *vas)
{
	for (unsigned int i = 0; i < MAX_VAS && vas[i].size; i++) {
		struct sm_req r = { .type = GVM_REQ_MAP, .r = vas[i] };
		struct gvm_req req = to_req(f, &r);

		CHECK_ERR(f->ctx, gvm_bind(f->e.vm, &req, 1, NULL), 0);
	}
}

static struct gvm_op_piece piece_of(const struct gvm_va *va)
{
	return (struct gvm_op_piece){ .va = va->va,
				      .size = va->size,
				      .obj = va->bo->obj,
				      .offset = va->offset,
				      .repeat = va->repeat,
				      .prot = va->prot };
}

static void check_piece(const char *ctx, const struct fixture *f, const struct gvm_op_piece *got,
			const struct sm_va *want)
{
	CHECK_EQ(ctx, got->va, unit_addr(f, want->va));
	CHECK_EQ(ctx, got->size, unit_bytes(f, want->size));
	CHECK_EQ(ctx, obj_index(f, got->obj), want->obj);
	CHECK_EQ(ctx, got->offset, unit_bytes(f, want->off));
	CHECK_EQ(ctx, got->repeat, unit_bytes(f, want->rep));
	CHECK_EQ(ctx, got->prot, PROT);
}

static void check_op_piece(const char *op_ctx, const char *what, const struct fixture *f,
			   const struct gvm_op_piece *got, const struct sm_va *want)
{
	char ctx[300];

	snprintf(ctx, sizeof(ctx), "%s: %s", op_ctx, what);
	check_piece(ctx, f, got, want);
}

static void check_op(const struct fixture *f, unsigned int i, const struct gvm_op *got,
		     const struct sm_op *want)
{
	struct gvm_op_piece old;
	char ctx[256];

	snprintf(ctx, sizeof(ctx), "%s: op %u (want %s)", f->ctx, i, op_name(want->type));
	CHECK_EQ(ctx, got->type, want->type);
	if (want->type == GVM_OP_MAP) {
		check_op_piece(ctx, "map", f, &got->map, &want->map);
		return;
	}
	CHECK_EQ(ctx, got->keep, want->keep);
	old = piece_of(got->old);
	check_op_piece(ctx, "old", f, &old, &want->old);
	CHECK_EQ(ctx, got->has_prev, want->prev.size != 0);
	CHECK_EQ(ctx, got->has_next, want->next.size != 0);
	if (got->has_prev)
		check_op_piece(ctx, "prev", f, &got->prev, &want->prev);
	if (got->has_next)
		check_op_piece(ctx, "next", f, &got->next, &want->next);
}

static unsigned int nr_ops(const struct sm_row *row)
{
	unsigned int n = 0;

	while (n < MAX_OPS && row->ops[n].type)
		n++;
	return n;
}

static int count_op(void *priv, const struct gvm_op *op)
{
	(void)op;
	++*(unsigned int *)priv;
	return 0;
}

/* The exact op list, and as many ops through the callback (none on error). */
static void check_ops(struct fixture *f, const struct sm_row *row, const struct gvm_req *req)
{
	static const struct gvm_op_cb cb = { .op = count_op };
	struct gvm_op *ops = NULL;
	unsigned int listed = 0, delivered = 0, i = 0;

	CHECK_ERR(f->ctx, gvm_sm_ops_list(f->e.vm, req, &ops), row->err);
	for (struct gvm_op *op = ops; op; op = op->next_op)
		listed++;
	CHECK_EQ(f->ctx, listed, nr_ops(row));
	for (struct gvm_op *op = ops; op; op = op->next_op, i++)
		check_op(f, i, op, &row->ops[i]);
	gvm_ops_free(f->e.vm, ops);
	CHECK_ERR(f->ctx, gvm_sm_ops(f->e.vm, req, &cb, &delivered), row->err);
	CHECK_EQ(f->ctx, delivered, nr_ops(row));
}

/* The committed VAs, in order, are exactly @want. */
static void check_vas(struct fixture *f, const struct sm_va *want)
{
	struct gvm_va *va = gvm_va_first(f->e.vm, VM_TEST_START, VM_TEST_END);
	unsigned int i;
	char ctx[256];

	for (i = 0; i < MAX_VAS && want[i].size; i++, va = gvm_va_next(f->e.vm, va, VM_TEST_END)) {
		struct gvm_op_piece got;

		snprintf(ctx, sizeof(ctx), "%s: VA %u", f->ctx, i);
		if (!va)
			fail_msg("%s: missing, want %u VAs", ctx, i + 1);
		got = piece_of(va);
		check_piece(ctx, f, &got, &want[i]);
	}
	if (va)
		fail_msg("%s: extra VA at 0x%" PRIx64 " after %u", f->ctx, va->va, i);
}

/* Each VA holds one reference on its object, through the object's link. */
static void check_refs(struct fixture *f, const struct sm_va *want)
{
	for (int o = A; o < NR_OBJS; o++) {
		long n = 0;

		for (unsigned int i = 0; i < MAX_VAS && want[i].size; i++)
			n += want[i].obj == o;
		CHECK_EQ(f->ctx, f->objs[o].refs, n);
		CHECK_EQ(f->ctx, gvm_bo_find(f->e.vm, &f->objs[o].obj) != NULL, n != 0);
	}
}

/* Every unit of every VA is one leaf of the unit's size: blocks at 2M. */
static void check_leaves(struct fixture *f)
{
	struct pt *pt = gvm_get_pt(f->e.vm);

	for (struct gvm_va *va = gvm_va_first(f->e.vm, VM_TEST_START, VM_TEST_END); va;
	     va = gvm_va_next(f->e.vm, va, VM_TEST_END)) {
		for (uint64_t addr = va->va; addr < va->va + va->size; addr += 1ull << f->lg2) {
			struct pt_walk_result w;

			CHECK_ERR(f->ctx, pt_walk(pt, addr, &w), 0);
			CHECK_EQ(f->ctx, w.leaf_size, 1ull << f->lg2);
		}
	}
}

static void check_state(struct fixture *f, const struct sm_va *want)
{
	uint64_t seed = 0x736d;

	CHECK_ERR(f->ctx, gvm_validate(f->e.vm, gpuvm_print_file, stderr), 0);
	check_vas(f, want);
	CHECK_ERR(f->ctx, vm_test_check_tables(&f->e, VM_TEST_START, VM_TEST_END, 8, &seed, stderr),
		  0);
	check_refs(f, want);
	check_leaves(f);
}

static uint64_t desc_at(struct fixture *f, uint64_t addr)
{
	struct pt_walk_result w;

	pt_walk(gvm_get_pt(f->e.vm), addr, &w);
	return w.desc;
}

static void take_snapshot(struct fixture *f, struct snapshot *s)
{
	for (uint64_t u = 0; u < WIN_UNITS; u++) {
		s->desc[u][0] = desc_at(f, unit_addr(f, u));
		s->desc[u][1] = desc_at(f, unit_addr(f, u + 1) - P4K);
	}
	s->pages = vm_test_pages(&f->e);
	s->host_live = f->e.host_live;
}

/* Is unit @u inside the part of a keep=1 op's old VA that the request covers? */
static bool unit_kept(const struct sm_row *row, uint64_t u)
{
	const struct sm_va *r = &row->req.r;

	for (unsigned int i = 0; i < nr_ops(row); i++) {
		const struct sm_va *old = &row->ops[i].old;

		if (row->ops[i].keep && u >= old->va && u < old->va + old->size && u >= r->va &&
		    u < r->va + r->size)
			return true;
	}
	return false;
}

/* Units whose leaves the bind must leave alone: all, outside R, kept parts. */
static bool unit_untouched(const struct sm_row *row, uint64_t u)
{
	const struct sm_va *r = &row->req.r;

	if (row->err)
		return true;
	return u < r->va || u >= r->va + r->size || unit_kept(row, u);
}

static void check_no_flush_over(struct fixture *f, uint64_t u)
{
	uint64_t s = unit_addr(f, u), e = unit_addr(f, u + 1);

	for (size_t i = 0; i < f->e.pt.nr_log; i++) {
		const struct pt_test_ev *ev = &f->e.pt.log[i];

		if (ev->type == PT_EV_FLUSH_ALL)
			fail_msg("%s: flush-all over unit %" PRIu64 " (outside R or kept)", f->ctx,
				 u);
		if (ev->type == PT_EV_FLUSH_RANGE && ev->a < e && s < ev->a + ev->b)
			fail_msg("%s: flush [0x%" PRIx64 ", +0x%" PRIx64 ") over unit %" PRIu64
				 " (outside R or kept)",
				 f->ctx, ev->a, ev->b, u);
	}
}

/*
 * Leaves outside the request and in kept parts hold the same descriptors, and
 * no flush covers a mapped one: the page-table work skipped them. A failed
 * bind changed nothing: table pages, VM memory, no event at all.
 */
static void check_untouched(struct fixture *f, const struct sm_row *row,
			    const struct snapshot *before)
{
	struct snapshot after;
	char ctx[256];

	take_snapshot(f, &after);
	for (uint64_t u = 0; u < WIN_UNITS; u++) {
		if (!unit_untouched(row, u))
			continue;
		snprintf(ctx, sizeof(ctx), "%s: unit %" PRIu64, f->ctx, u);
		CHECK_EQ(ctx, after.desc[u][0], before->desc[u][0]);
		CHECK_EQ(ctx, after.desc[u][1], before->desc[u][1]);
		if (before->desc[u][0] || row->err)
			check_no_flush_over(f, u);
	}
	if (!row->err)
		return;
	CHECK_EQ(f->ctx, after.pages, before->pages);
	CHECK_EQ(f->ctx, after.host_live, before->host_live);
	CHECK_EQ(f->ctx, f->e.pt.nr_log, 0);
}

static void run_row(const struct sm_row *row, unsigned int lg2)
{
	struct fixture f;
	struct snapshot before;
	struct gvm_req req;

	fixture_init(&f, lg2, row->name);
	bind_vas(&f, row->init);
	check_state(&f, row->init);
	req = to_req(&f, &row->req);
	check_ops(&f, row, &req);
	take_snapshot(&f, &before);
	pt_test_log_clear(&f.e.pt);
	f.e.pt.record = true;
	CHECK_ERR(f.ctx, gvm_bind(f.e.vm, &req, 1, NULL), row->err);
	f.e.pt.record = false;
	check_state(&f, row->err ? row->init : row->after);
	check_untouched(&f, row, &before);
	fixture_fini(&f);
}

static void run_table(const struct sm_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < ARRAY_SIZE(scales_lg2); s++)
			run_row(&rows[i], scales_lg2[s]);
}

/* One row per numbered case, in order: the table and the oracle cannot drift. */
static void test_numbered_rows_complete(void **state)
{
	char prefix[16];

	(void)state;
	CHECK_EQ("numbered_rows", ARRAY_SIZE(numbered_rows), 15);
	for (unsigned int i = 0; i < ARRAY_SIZE(numbered_rows); i++) {
		snprintf(prefix, sizeof(prefix), "case %u:", i + 1);
		if (strncmp(numbered_rows[i].name, prefix, strlen(prefix)))
			fail_msg("row %u is \"%s\", want \"%s ...\"", i, numbered_rows[i].name,
				 prefix);
	}
}

static void test_numbered_cases(void **state)
{
	(void)state;
	run_table(numbered_rows, ARRAY_SIZE(numbered_rows));
}

static void test_map(void **state)
{
	(void)state;
	run_table(map_rows, ARRAY_SIZE(map_rows));
}

static void test_unmap(void **state)
{
	(void)state;
	run_table(unmap_rows, ARRAY_SIZE(unmap_rows));
}

static void test_repeat(void **state)
{
	(void)state;
	run_table(repeat_rows, ARRAY_SIZE(repeat_rows));
}

static void test_invalid(void **state)
{
	(void)state;
	run_table(invalid_rows, ARRAY_SIZE(invalid_rows));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbered_rows_complete),
		cmocka_unit_test(test_numbered_cases),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
