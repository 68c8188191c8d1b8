// SPDX-License-Identifier: MIT
/*
 * The command-stream interpreter (mockdrm/gpu/cs.c) against the CSF facts of
 * shared/reference/mali.md section 5, on a fake GPU memory of a few pages.
 *
 * One named row per case of the decode table: a hand-assembled stream (hex
 * literals laid out as OO AA BB CC MMMM LLLL: opcode 63:56, then bits 55:48,
 * 47:40, 39:32, 31:16 and 15:0), the registers and memory before, and what
 * must differ afterwards. Every row compares the whole register file, every
 * byte of fake memory, the queue's error and scoreboard, the cache flushes and
 * the waits with what the row says, so an instruction that does too much
 * fails as surely as one that does too little.
 *
 * Then whole streams: the igt group_submit stream of section 5, the kernel's
 * ring wrapper of section 4 calling into a user stream, the encoders, the
 * runaway guard and the argument checks.
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

#include "mock_cs.h"
#include "test-util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The fake address space: five 4 KiB pages; everything else is unmapped.
 * CODE and DATA are where igt's group_submit binds its command and result BOs.
 * RING stands for the kernel's ring BO, which panthor maps NOEXEC: like the
 * device, the env applies no XN to CS fetches (see mock_cs_env_ops.read).
 */
#define PAGE 0x1000ull
#define CODE_VA 0x1000000ull
#define DATA_VA 0x1001000ull
#define HOLE_VA 0x1002000ull
#define SUB_VA 0x1003000ull
#define RO_VA 0x1004000ull
#define HOLE2_VA 0x1005000ull
#define RING_VA 0x1006000ull
#define SYNC_VA (DATA_VA + 0x100)

/* FAULTSTATUS (mali.md section 1): level-3 translation and permission faults. */
#define TRANSLATION 0xc3u
#define PERMISSION 0xcbu
#define ACC_ATOMIC 0u
#define ACC_EXEC 1u
#define ACC_READ 2u
#define ACC_WRITE 3u
#define FAULT(exc, acc) ((exc) | (acc) << 8)

/* DATA starts with a pattern, so that a stray write or a wrong load shows. */
#define PATTERN(off) (0xda000000u | (uint32_t)(off))

struct page_desc {
	uint64_t va;
	bool writable;
};

static const struct page_desc pages[] = {
	{ CODE_VA, true }, { DATA_VA, true }, { SUB_VA, true }, { RO_VA, false }, { RING_VA, true },
};
#define NR_PAGES ARRAY_SIZE(pages)

struct reg_val {
	bool set;
	uint8_t reg;
	uint32_t val;
};

struct mem_val {
	bool set;
	uint64_t va;
	uint32_t val;
};

#define MAX_WRITER 4

/* The world a stream runs in. */
struct env {
	uint8_t mem[NR_PAGES][PAGE];
	const struct mem_val *writer; /* one write per wait_event(), then -ETIMEDOUT */
	bool wait_forever;            /* wait_event() returns 0 and changes nothing */
	unsigned int waits;
	unsigned int fetches;
	unsigned int flushes;
	unsigned int flush[4]; /* the last one: l2, lsc, other, id */
};

/* --- the env ---------------------------------------------------------------------- */

static uint8_t *env_byte(struct env *e, uint64_t va, bool write, unsigned int access,
			 uint32_t *fault)
{
	for (size_t i = 0; i < NR_PAGES; i++) {
		if (va - pages[i].va >= PAGE)
			continue;
		if (write && !pages[i].writable) {
			*fault = FAULT(PERMISSION, access);
			return NULL;
		}
		/* Offset into the flat array: gcc -O3 misreads mem[i][off] as out of bounds. */
		return (uint8_t *)e->mem + i * PAGE + (va - pages[i].va);
	}
	*fault = FAULT(TRANSLATION, access);
	return NULL;
}

/* A byte the caller has checked is mapped: a miss is a bug of the test. */
static uint8_t *env_at(struct env *e, uint64_t va, bool write)
{
	static uint8_t sink;
	uint32_t fault = 0;
	uint8_t *p = env_byte(e, va, write, 0, &fault);

	if (!p) {
		fail_msg("test memory: 0x%" PRIx64 " is not mapped", va);
		return &sink;
	}
	return p;
}

/* Check every byte before touching any: a faulting access changes nothing. */
static uint32_t env_check(struct env *e, uint64_t va, size_t len, bool write, unsigned int access,
			  uint64_t *fault_va)
{
	uint32_t fault = 0;

	for (size_t i = 0; i < len; i++) {
		if (!env_byte(e, va + i, write, access, &fault)) {
			*fault_va = va + i;
			return fault;
		}
	}
	return 0;
}

static uint32_t env_read(void *ctx, uint64_t va, void *buf, size_t len, bool exec,
			 uint64_t *fault_va)
{
	struct env *e = ctx;
	uint32_t fault = env_check(e, va, len, false, exec ? ACC_EXEC : ACC_READ, fault_va);

	e->fetches += exec;
	for (size_t i = 0; !fault && i < len; i++)
		((uint8_t *)buf)[i] = *env_at(e, va + i, false);
	return fault;
}

static uint32_t env_write(void *ctx, uint64_t va, const void *buf, size_t len, uint64_t *fault_va)
{
	struct env *e = ctx;
	uint32_t fault = env_check(e, va, len, true, ACC_WRITE, fault_va);

	for (size_t i = 0; !fault && i < len; i++)
		*env_at(e, va + i, true) = ((const uint8_t *)buf)[i];
	return fault;
}

static uint64_t env_get(struct env *e, uint64_t va, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = bytes; i--;)
		v = v << 8 | *env_at(e, va + i, false);
	return v;
}

static void env_put(struct env *e, uint64_t va, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++, v >>= 8)
		*env_at(e, va + i, false) = (uint8_t)v;
}

static uint32_t env_sync_update(void *ctx, uint64_t va, unsigned int bits, bool add, uint64_t value,
				uint64_t *fault_va)
{
	struct env *e = ctx;
	uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
	uint32_t fault = env_check(e, va, bits / 8, true, ACC_ATOMIC, fault_va);

	if (!fault)
		env_put(e, va, ((add ? env_get(e, va, bits / 8) : 0) + value) & mask, bits / 8);
	return fault;
}

static void env_flush_caches(void *ctx, unsigned int l2, unsigned int lsc, unsigned int other,
			     uint32_t flush_id)
{
	struct env *e = ctx;

	e->flushes++;
	e->flush[0] = l2;
	e->flush[1] = lsc;
	e->flush[2] = other;
	e->flush[3] = flush_id;
}

/* Another writer: each wait lets it make the next change of the row's script. */
static int env_wait_event(void *ctx)
{
	struct env *e = ctx;
	const struct mem_val *w;

	if (e->wait_forever)
		return 0;
	if (!e->writer || e->waits >= MAX_WRITER || !e->writer[e->waits].set)
		return -ETIMEDOUT;
	w = &e->writer[e->waits++];
	env_put(e, w->va, w->val, 4);
	return 0;
}

static const struct mock_cs_env_ops env_ops = {
	.read = env_read,
	.write = env_write,
	.sync_update = env_sync_update,
	.flush_caches = env_flush_caches,
	.wait_event = env_wait_event,
};

static bool env_mapped(struct env *e, uint64_t va, size_t len)
{
	uint64_t fault_va;

	return !env_check(e, va, len, false, ACC_READ, &fault_va);
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	for (uint64_t off = 0; off < PAGE; off += 4)
		env_put(e, DATA_VA + off, PATTERN(off), 4);
}

static void env_put_stream(struct env *e, uint64_t va, const uint64_t *insn, size_t n)
{
	for (size_t i = 0; i < n; i++)
		env_put(e, va + 8 * i, insn[i], 8);
}

/* --- assertions ------------------------------------------------------------------- */

static const char *status_name(int status)
{
	static const char *const names[] = {
		[MOCK_CS_COMPLETED] = "COMPLETED",
		[MOCK_CS_MMU_FAULT] = "MMU_FAULT",
		[MOCK_CS_INSTR_INVALID] = "INSTR_INVALID",
		[MOCK_CS_CALL_STACK_OVERFLOW] = "CALL_STACK_OVERFLOW",
		[MOCK_CS_SYNC_REJECTED] = "SYNC_REJECTED",
		[MOCK_CS_WAIT_ABORTED] = "WAIT_ABORTED",
		[MOCK_CS_BUDGET_EXHAUSTED] = "BUDGET_EXHAUSTED",
	};

	if (status < 0 || (size_t)status >= ARRAY_SIZE(names))
		return "?";
	return names[status];
}

#define CHECK_HEX(what, got, want)                                                             \
	do {                                                                                   \
		uint64_t got_ = (got), want_ = (want);                                         \
		if (got_ != want_)                                                             \
			fail_msg("%s: got %#" PRIx64 ", want %#" PRIx64, (what), got_, want_); \
	} while (0)

#define CHECK_STATUS(got, want)                                                                \
	do {                                                                                   \
		int got_ = (got), want_ = (want);                                              \
		if (got_ != want_)                                                             \
			fail_msg("status: got %s (%d), want %s (%d)", status_name(got_), got_, \
				 status_name(want_), want_);                                   \
	} while (0)

/* Every byte of every page, reported by the first differing 32-bit word. */
static void check_mem(struct env *got, struct env *want)
{
	for (size_t p = 0; p < NR_PAGES; p++) {
		for (uint64_t off = 0; off < PAGE; off += 4) {
			uint64_t va = pages[p].va + off;
			char what[48];

			snprintf(what, sizeof(what), "mem32[%#" PRIx64 "]", va);
			CHECK_HEX(what, env_get(got, va, 4), env_get(want, va, 4));
		}
	}
}

static void check_regs(const struct mock_cs_queue_state *got,
		       const struct mock_cs_queue_state *want)
{
	for (unsigned int r = 0; r < MOCK_CS_REGS; r++) {
		char what[16];

		snprintf(what, sizeof(what), "r%u", r);
		CHECK_HEX(what, got->regs[r], want->regs[r]);
	}
}

/* --- the decode table ------------------------------------------------------------- */

/* clang-format off */
#define R(r, v) { true, (r), (uint32_t)(v) }
#define D(r, v) R((r), (uint64_t)(v)), R((r) + 1, (uint64_t)(v) >> 32)
#define M(a, v) { true, (a), (uint32_t)(v) }
#define PROG(...) .prog = { __VA_ARGS__ }, .n = sizeof((uint64_t[]){ __VA_ARGS__ }) / 8
#define SUB(...) .sub = { __VA_ARGS__ }, .sub_n = sizeof((uint64_t[]){ __VA_ARGS__ }) / 8
/* clang-format on */

/*
 * A row: @prog runs at CODE_VA (or @run_size bytes at @run_va when @run is
 * set); @sub sits at SUB_VA for CALL and JUMP. Before: @regs, @mem (over the
 * DATA pattern), the queue's @error. @writer is the other writer's script.
 * After: everything as before except @regs_after, @mem_after, the writes of
 * the first @waits script entries, @error_after, @signals (per slot) and
 * @flush (the last of @flushes cache flushes). The stopping instruction's
 * encoding is checked against memory, so a row only gives its VA.
 */
struct cs_row {
	const char *name;
	uint64_t prog[12];
	size_t n;
	uint64_t sub[16];
	size_t sub_n;
	bool run;
	uint64_t run_va, run_size;
	struct reg_val regs[16];
	struct mem_val mem[6];
	uint32_t error;
	struct mem_val writer[MAX_WRITER];

	int status;
	uint32_t fault;
	uint64_t fault_va;
	int wait_err;
	uint64_t insn_va;
	uint64_t executed;
	struct reg_val regs_after[16];
	struct mem_val mem_after[6];
	uint32_t error_after;
	uint8_t signals[MOCK_CS_SB_SLOTS];
	unsigned int flushes;
	unsigned int flush[4];
	unsigned int waits;
};

/* d0-d14 point at SUB + 8(k + 1): sub[k] = CALL d2k, r40 nests one level deeper. */
#define CALL_CHAIN_REGS                                                                        \
	R(0, SUB_VA + 8), R(2, SUB_VA + 16), R(4, SUB_VA + 24), R(6, SUB_VA + 32),             \
		R(8, SUB_VA + 40), R(10, SUB_VA + 48), R(12, SUB_VA + 56), R(14, SUB_VA + 64), \
		R(20, SUB_VA), R(40, 8)
#define CALL_CHAIN_7                                                                    \
	0x2000002800000000, 0x2000022800000000, 0x2000042800000000, 0x2000062800000000, \
		0x2000082800000000, 0x20000A2800000000, 0x20000C2800000000

/* A sync object at SYNC_VA = d2 with value @v and status 0; r16 holds the operand. */
#define SYNC32(v) M(SYNC_VA, (v)), M(SYNC_VA + 4, 0)
#define SYNC64(v) M(SYNC_VA, (v)), M(SYNC_VA + 4, (uint64_t)(v) >> 32), M(SYNC_VA + 8, 0)

/* clang-format off */
static const struct cs_row rows[] = {
	/* NOP */
	{ "nop", PROG(0x0000000000000000), .executed = 1 },
	{ "nop ignores reserved bits", PROG(0x00FFFFFFFFFFFFFF), .executed = 1 },

	/* MOVE48: dN = zero-extended imm 47:0 */
	{ "move48 d0", PROG(0x0100123456789ABC), .executed = 1,
	  .regs_after = { R(0, 0x56789ABC), R(1, 0x1234) } },
	{ "move48 zero-extends into the high register", PROG(0x0102FFFFFFFFFFFF),
	  .regs = { R(2, 0xFFFFFFFF), R(3, 0xFFFFFFFF) }, .executed = 1,
	  .regs_after = { R(2, 0xFFFFFFFF), R(3, 0x0000FFFF) } },
	{ "move48 d94, the last pair", PROG(0x015E000000000001), .regs = { R(95, 7) },
	  .executed = 1, .regs_after = { R(94, 1), R(95, 0) } },
	{ "move48 odd pair d1 is invalid", PROG(0x0101000000000001),
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "move48 d96 is invalid", PROG(0x0160000000000001),
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },

	/* MOVE32: rN = imm 31:0 */
	{ "move32 r70 (igt)", PROG(0x02460000DEADBEEF), .regs = { R(71, 0x55) }, .executed = 1,
	  .regs_after = { R(70, 0xDEADBEEF) } },
	{ "move32 r95", PROG(0x025F000012345678), .executed = 1,
	  .regs_after = { R(95, 0x12345678) } },
	{ "move32 ignores bits 47:32", PROG(0x0205FFFF00000001), .executed = 1,
	  .regs_after = { R(5, 1) } },
	{ "move32 r96 is invalid", PROG(0x0260000000000001),
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },

	/* WAIT: nothing is ever pending, so it returns at once */
	{ "wait 0xff", PROG(0x0300000000FF0000), .executed = 1 },
	{ "wait 0xffff with progress_inc", PROG(0x03000001FFFF0000), .executed = 1 },

	/* LOAD_MULTIPLE: r[base + i] = mem32[d[addr] + s16 offset + 4i] */
	{ "load one word", PROG(0x1410020000010000), .regs = { R(2, DATA_VA) }, .executed = 1,
	  .regs_after = { R(16, PATTERN(0)) } },
	{ "load mask 0x5 skips r17", PROG(0x1410020000050000),
	  .regs = { R(2, DATA_VA), R(17, 0x77) }, .executed = 1,
	  .regs_after = { R(16, PATTERN(0)), R(18, PATTERN(8)) } },
	{ "load negative offset -8", PROG(0x141002000003FFF8), .regs = { R(2, DATA_VA + 0x10) },
	  .executed = 1, .regs_after = { R(16, PATTERN(8)), R(17, PATTERN(12)) } },
	{ "load offset 0x8000 is -32768", PROG(0x1410020000018000),
	  .regs = { R(2, DATA_VA + 0x8000) }, .executed = 1,
	  .regs_after = { R(16, PATTERN(0)) } },
	{ "load offset +0x100", PROG(0x1410020000010100), .regs = { R(2, DATA_VA) },
	  .executed = 1, .regs_after = { R(16, PATTERN(0x100)) } },
	{ "load 16 words into r80-r95", PROG(0x14500200FFFF0000), .regs = { R(2, DATA_VA) },
	  .executed = 1,
	  .regs_after = { R(80, PATTERN(0)), R(81, PATTERN(4)), R(82, PATTERN(8)),
			  R(83, PATTERN(12)), R(84, PATTERN(16)), R(85, PATTERN(20)),
			  R(86, PATTERN(24)), R(87, PATTERN(28)), R(88, PATTERN(32)),
			  R(89, PATTERN(36)), R(90, PATTERN(40)), R(91, PATTERN(44)),
			  R(92, PATTERN(48)), R(93, PATTERN(52)), R(94, PATTERN(56)),
			  R(95, PATTERN(60)) } },
	{ "load r95, one word", PROG(0x145F020000010000), .regs = { R(2, DATA_VA) },
	  .executed = 1, .regs_after = { R(95, PATTERN(0)) } },
	{ "load mask run r81-r96 is invalid", PROG(0x14510200FFFF0000),
	  .regs = { R(2, DATA_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "load base r96 is invalid", PROG(0x1460020000010000), .regs = { R(2, DATA_VA) },
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "load empty mask at r96 is a no-op", PROG(0x1460020000000000),
	  .regs = { R(2, DATA_VA) }, .executed = 1 },
	{ "load misaligned address is invalid", PROG(0x1410020000010002),
	  .regs = { R(2, DATA_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "load odd address pair d3 is invalid", PROG(0x1410030000010000),
	  .regs = { R(2, DATA_VA), R(3, 0) }, .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "load from a hole faults", PROG(0x1410020000010000), .regs = { R(2, HOLE_VA) },
	  .status = MOCK_CS_MMU_FAULT, .fault = FAULT(TRANSLATION, ACC_READ),
	  .fault_va = HOLE_VA, .insn_va = CODE_VA },
	{ "load faulting on its 2nd word changes no register", PROG(0x1410020000030000),
	  .regs = { R(2, RO_VA + 0xFFC), R(16, 0x16), R(17, 0x17) },
	  .status = MOCK_CS_MMU_FAULT, .fault = FAULT(TRANSLATION, ACC_READ),
	  .fault_va = HOLE2_VA, .insn_va = CODE_VA },

	/* STORE_MULTIPLE: mem32[d[addr] + s16 offset + 4i] = r[base + i] */
	{ "store r70 at d68 (igt)", PROG(0x1546440000010000),
	  .regs = { R(68, DATA_VA), R(70, 0xDEADBEEF) }, .executed = 1,
	  .mem_after = { M(DATA_VA, 0xDEADBEEF) } },
	{ "store mask 0x9, offset -0x10", PROG(0x151002000009FFF0),
	  .regs = { R(2, DATA_VA + 0x20), R(16, 0x16), R(17, 0x17), R(18, 0x18), R(19, 0x19) },
	  .executed = 1, .mem_after = { M(DATA_VA + 0x10, 0x16), M(DATA_VA + 0x1C, 0x19) } },
	{ "store from odd base r17", PROG(0x1511020000030000),
	  .regs = { R(2, DATA_VA), R(17, 0x17), R(18, 0x18) }, .executed = 1,
	  .mem_after = { M(DATA_VA, 0x17), M(DATA_VA + 4, 0x18) } },
	{ "store to a read-only page faults", PROG(0x1510020000010000),
	  .regs = { R(2, RO_VA), R(16, 1) }, .status = MOCK_CS_MMU_FAULT,
	  .fault = FAULT(PERMISSION, ACC_WRITE), .fault_va = RO_VA, .insn_va = CODE_VA },
	{ "store faulting on its 2nd word wrote the 1st", PROG(0x1510020000030000),
	  .regs = { R(2, DATA_VA + 0xFFC), R(16, 0x16), R(17, 0x17) },
	  .status = MOCK_CS_MMU_FAULT, .fault = FAULT(TRANSLATION, ACC_WRITE),
	  .fault_va = HOLE_VA, .insn_va = CODE_VA, .mem_after = { M(DATA_VA + 0xFFC, 0x16) } },
	{ "store misaligned address is invalid", PROG(0x1510020000010000),
	  .regs = { R(2, DATA_VA + 1) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },

	/* CALL/JUMP: r[len] bytes at d[addr] */
	{ "call returns after itself",
	  PROG(0x020A000000000001, 0x2000142800000000, 0x020B000000000003),
	  SUB(0x020A000000000002, 0x020B000000000002), .regs = { R(20, SUB_VA), R(40, 16) },
	  .executed = 5, .regs_after = { R(10, 2), R(11, 3) } },
	{ "call of length 0 returns at once", PROG(0x2000142800000000, 0x0233000000000001),
	  SUB(0x0232000000000002), .regs = { R(20, SUB_VA), R(40, 0) }, .executed = 2,
	  .regs_after = { R(51, 1) } },
	{ "call 8 deep", PROG(0x2000142800000000, 0x0233000000000001),
	  SUB(CALL_CHAIN_7, 0x0232000000000008), .regs = { CALL_CHAIN_REGS }, .executed = 10,
	  .regs_after = { R(50, 8), R(51, 1) } },
	{ "call 9 deep overflows", PROG(0x2000142800000000, 0x0233000000000001),
	  SUB(CALL_CHAIN_7, 0x20000E2800000000), .regs = { CALL_CHAIN_REGS },
	  .status = MOCK_CS_CALL_STACK_OVERFLOW, .insn_va = SUB_VA + 56, .executed = 8 },
	{ "call misaligned address is invalid", PROG(0x2000142800000000),
	  .regs = { R(20, SUB_VA + 4), R(40, 8) }, .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "call length 12 is invalid", PROG(0x2000142800000000),
	  .regs = { R(20, SUB_VA), R(40, 12) }, .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "call odd address pair d21 is invalid", PROG(0x2000152800000000),
	  .regs = { R(20, SUB_VA), R(40, 8) }, .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "call length register r96 is invalid", PROG(0x2000146000000000),
	  .regs = { R(20, SUB_VA), R(40, 8) }, .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "call range wrapping 2^64 is invalid", PROG(0x2000142800000000),
	  .regs = { D(20, 0xFFFFFFFFFFFFFFF8), R(40, 8) }, .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "call into a hole faults on fetch", PROG(0x2000142800000000),
	  .regs = { R(20, HOLE_VA), R(40, 8) }, .status = MOCK_CS_MMU_FAULT,
	  .fault = FAULT(TRANSLATION, ACC_EXEC), .fault_va = HOLE_VA, .insn_va = HOLE_VA,
	  .executed = 1 },
	{ "call running off its page faults on fetch", PROG(0x2000142800000000),
	  .regs = { R(20, RO_VA + 0xFF8), R(40, 16) }, .status = MOCK_CS_MMU_FAULT,
	  .fault = FAULT(TRANSLATION, ACC_EXEC), .fault_va = HOLE2_VA, .insn_va = HOLE2_VA,
	  .executed = 2 },
	{ "jump replaces the frame", PROG(0x2100142800000000, 0x0233000000000001),
	  SUB(0x0232000000000002), .regs = { R(20, SUB_VA), R(40, 8) }, .executed = 2,
	  .regs_after = { R(50, 2) } },
	{ "jump inside a call returns to the caller",
	  PROG(0x2000142800000000, 0x0233000000000001),
	  SUB(0x2100162A00000000, 0x0234000000000009, 0, 0, 0, 0, 0, 0, 0x0232000000000002),
	  .regs = { R(20, SUB_VA), R(40, 16), R(22, SUB_VA + 0x40), R(42, 8) }, .executed = 4,
	  .regs_after = { R(50, 2), R(51, 1) } },
	{ "jump of length 0 ends the stream", PROG(0x2100142800000000, 0x0233000000000001),
	  .regs = { R(20, SUB_VA), R(40, 0) }, .executed = 1 },
	{ "jump length 4 is invalid", PROG(0x2100142800000000),
	  .regs = { R(20, SUB_VA), R(40, 4) }, .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },

	/* FLUSH_CACHE2: l2 3:0, lsc 7:4, other 11:8, wait 31:16, id reg 47:40, slot 51:48 */
	{ "flush 0x233, id r70, slot 1 (igt)", PROG(0x2401460000000233), .executed = 1,
	  .signals = { [1] = 1 }, .flushes = 1, .flush = { 3, 3, 2, 0 } },
	{ "flush clean all, id r94, wait 0xff, slot 15", PROG(0x240F5E0000FF0111),
	  .regs = { R(94, 0x1234) }, .executed = 1, .signals = { [15] = 1 }, .flushes = 1,
	  .flush = { 1, 1, 1, 0x1234 } },
	{ "flush l2 clean, lsc clean+inv, other none", PROG(0x2402460000000031),
	  .regs = { R(70, 0x42) }, .executed = 1, .signals = { [2] = 1 }, .flushes = 1,
	  .flush = { 1, 3, 0, 0x42 } },
	{ "flush other only, slot 0", PROG(0x2400460000000200), .regs = { R(70, 9) },
	  .executed = 1, .signals = { [0] = 1 }, .flushes = 1, .flush = { 0, 0, 2, 9 } },
	{ "flush l2 mode 4 is invalid", PROG(0x2401460000000234),
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "flush other mode 4 is invalid", PROG(0x2401460000000433),
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "flush id register r96 is invalid", PROG(0x2401600000000233),
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },

	/* SYNC_ADD/SET: errprop 0, scope 2:1, wait 31:16, data 39:32, addr 47:40, slot 51:48 */
	{ "sync_add32", PROG(0x2500021000000000), .regs = { R(2, SYNC_VA), R(16, 3) },
	  .mem = { SYNC32(5) }, .executed = 1, .signals = { [0] = 1 },
	  .mem_after = { M(SYNC_VA, 8) } },
	{ "sync_add32 wraps at 32 bits", PROG(0x2500021000000000),
	  .regs = { R(2, SYNC_VA), R(16, 2) }, .mem = { SYNC32(0xFFFFFFFF) }, .executed = 1,
	  .signals = { [0] = 1 }, .mem_after = { M(SYNC_VA, 1) } },
	{ "sync_add32 from odd r17", PROG(0x2500021100000000),
	  .regs = { R(2, SYNC_VA), R(17, 4) }, .mem = { SYNC32(5) }, .executed = 1,
	  .signals = { [0] = 1 }, .mem_after = { M(SYNC_VA, 9) } },
	{ "sync_set32 scope CSG, slot 3", PROG(0x2603021000000004),
	  .regs = { R(2, SYNC_VA), R(16, 0x77) }, .mem = { SYNC32(5) }, .executed = 1,
	  .signals = { [3] = 1 }, .mem_after = { M(SYNC_VA, 0x77) } },
	{ "sync_add64 carries into the high word", PROG(0x3300021000000000),
	  .regs = { R(2, SYNC_VA), D(16, 0x100000001) }, .mem = { SYNC64(0xFFFFFFFF) },
	  .executed = 1, .signals = { [0] = 1 },
	  .mem_after = { M(SYNC_VA, 0), M(SYNC_VA + 4, 2) } },
	{ "sync_add64 wait 0xff, slot 13", PROG(0x330D021000FF0000),
	  .regs = { R(2, SYNC_VA), D(16, 1) }, .mem = { SYNC64(41) }, .executed = 1,
	  .signals = { [13] = 1 }, .mem_after = { M(SYNC_VA, 42) } },
	{ "sync_set64", PROG(0x3400021000000000),
	  .regs = { R(2, SYNC_VA), D(16, 0x1122334455667788) }, .mem = { SYNC64(5) },
	  .executed = 1, .signals = { [0] = 1 },
	  .mem_after = { M(SYNC_VA, 0x55667788), M(SYNC_VA + 4, 0x11223344) } },
	{ "sync_add32 errprop on a queue in error sets status", PROG(0x2500021000000001),
	  .regs = { R(2, SYNC_VA), R(16, 3) }, .mem = { SYNC32(5) }, .error = 5,
	  .executed = 1, .signals = { [0] = 1 }, .error_after = 5,
	  .mem_after = { M(SYNC_VA, 8), M(SYNC_VA + 4, 5) } },
	{ "sync_add32 errprop, no queue error", PROG(0x2500021000000001),
	  .regs = { R(2, SYNC_VA), R(16, 3) }, .mem = { SYNC32(5) }, .executed = 1,
	  .signals = { [0] = 1 }, .mem_after = { M(SYNC_VA, 8) } },
	{ "sync_add32 without errprop keeps status", PROG(0x2500021000000000),
	  .regs = { R(2, SYNC_VA), R(16, 3) }, .mem = { SYNC32(5) }, .error = 5,
	  .executed = 1, .signals = { [0] = 1 }, .error_after = 5,
	  .mem_after = { M(SYNC_VA, 8) } },
	{ "sync_set64 errprop: status at +8", PROG(0x3400021000000001),
	  .regs = { R(2, SYNC_VA), D(16, 6) }, .mem = { SYNC64(5) }, .error = 7,
	  .executed = 1, .signals = { [0] = 1 }, .error_after = 7,
	  .mem_after = { M(SYNC_VA, 6), M(SYNC_VA + 8, 7) } },
	{ "sync_add32 errprop status in a hole faults first", PROG(0x2500021000000001),
	  .regs = { R(2, DATA_VA + 0xFFC), R(16, 3) }, .error = 5,
	  .status = MOCK_CS_MMU_FAULT, .fault = FAULT(TRANSLATION, ACC_WRITE),
	  .fault_va = HOLE_VA, .insn_va = CODE_VA, .signals = { [0] = 1 }, .error_after = 5 },
	{ "sync_add32 on a read-only page faults (atomic)", PROG(0x2500021000000000),
	  .regs = { R(2, RO_VA), R(16, 3) }, .status = MOCK_CS_MMU_FAULT,
	  .fault = FAULT(PERMISSION, ACC_ATOMIC), .fault_va = RO_VA, .insn_va = CODE_VA,
	  .signals = { [0] = 1 } },
	{ "sync_add64 in a hole faults", PROG(0x3300021000000000),
	  .regs = { R(2, HOLE_VA), D(16, 1) }, .status = MOCK_CS_MMU_FAULT,
	  .fault = FAULT(TRANSLATION, ACC_ATOMIC), .fault_va = HOLE_VA, .insn_va = CODE_VA,
	  .signals = { [0] = 1 } },
	{ "sync_add32 odd address pair d3 is invalid", PROG(0x2500031000000000),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_add32 data r96 is invalid", PROG(0x2500026000000000),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_add32 misaligned is invalid", PROG(0x2500021000000000),
	  .regs = { R(2, SYNC_VA + 2) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_add32 scope 1 is invalid", PROG(0x2500021000000002),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_set32 scope 3 is invalid", PROG(0x2600021000000006),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_add64 odd data pair d17 is invalid", PROG(0x3300021100000000),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_set64 4-aligned is invalid", PROG(0x3400021000000000),
	  .regs = { R(2, SYNC_VA + 4) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },

	/* SYNC_WAIT: reject 0, cond 31:28, data 39:32, addr 47:40; until mem COND ref */
	{ "sync_wait32 le, holds", PROG(0x2700021000000000), .regs = { R(2, SYNC_VA), R(16, 5) },
	  .mem = { SYNC32(5) }, .executed = 1 },
	{ "sync_wait32 le, after 2 waits", PROG(0x2700021000000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(9) },
	  .writer = { M(SYNC_VA, 7), M(SYNC_VA, 5) }, .executed = 1, .waits = 2 },
	{ "sync_wait32 gt, holds", PROG(0x2700021010000000), .regs = { R(2, SYNC_VA), R(16, 5) },
	  .mem = { SYNC32(6) }, .executed = 1 },
	{ "sync_wait32 gt, after 2 waits", PROG(0x2700021010000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(5) },
	  .writer = { M(SYNC_VA, 4), M(SYNC_VA, 6) }, .executed = 1, .waits = 2 },
	{ "sync_wait32 gt is unsigned", PROG(0x2700021010000000),
	  .regs = { R(2, SYNC_VA), R(16, 1) }, .mem = { SYNC32(0x80000000) }, .executed = 1 },
	{ "sync_wait32 eq, holds", PROG(0x2700021020000000), .regs = { R(2, SYNC_VA), R(16, 5) },
	  .mem = { SYNC32(5) }, .executed = 1 },
	{ "sync_wait32 eq, after 2 waits", PROG(0x2700021020000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(4) },
	  .writer = { M(SYNC_VA, 6), M(SYNC_VA, 5) }, .executed = 1, .waits = 2 },
	{ "sync_wait32 ne, holds", PROG(0x2700021030000000), .regs = { R(2, SYNC_VA), R(16, 5) },
	  .mem = { SYNC32(4) }, .executed = 1 },
	{ "sync_wait32 ne, after 2 waits", PROG(0x2700021030000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(5) },
	  .writer = { M(SYNC_VA, 5), M(SYNC_VA, 6) }, .executed = 1, .waits = 2 },
	{ "sync_wait32 lt, holds", PROG(0x2700021040000000), .regs = { R(2, SYNC_VA), R(16, 5) },
	  .mem = { SYNC32(4) }, .executed = 1 },
	{ "sync_wait32 lt, after 2 waits", PROG(0x2700021040000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(5) },
	  .writer = { M(SYNC_VA, 6), M(SYNC_VA, 4) }, .executed = 1, .waits = 2 },
	{ "sync_wait32 ge, holds", PROG(0x2700021050000000), .regs = { R(2, SYNC_VA), R(16, 5) },
	  .mem = { SYNC32(5) }, .executed = 1 },
	{ "sync_wait32 ge, after 2 waits", PROG(0x2700021050000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(4) },
	  .writer = { M(SYNC_VA, 3), M(SYNC_VA, 5) }, .executed = 1, .waits = 2 },
	{ "sync_wait32 gives up with wait_event's error", PROG(0x2700021020000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(4) },
	  .writer = { M(SYNC_VA, 3) }, .status = MOCK_CS_WAIT_ABORTED, .wait_err = -ETIMEDOUT,
	  .insn_va = CODE_VA, .waits = 1 },
	{ "sync_wait32 cond 6 is invalid", PROG(0x2700021060000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(5) },
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_wait32 cond 15 is invalid", PROG(0x27000210F0000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(5) },
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_wait32 reject: status checked before cond", PROG(0x2700021020000001),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { M(SYNC_VA, 5), M(SYNC_VA + 4, 3) },
	  .status = MOCK_CS_SYNC_REJECTED, .fault_va = SYNC_VA, .insn_va = CODE_VA },
	{ "sync_wait32 without reject inherits status", PROG(0x2700021020000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { M(SYNC_VA, 4), M(SYNC_VA + 4, 3) },
	  .executed = 1, .error_after = 3 },
	{ "sync_wait32 status set while waiting ends the wait", PROG(0x2700021020000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(4) },
	  .writer = { M(SYNC_VA + 4, 3) }, .executed = 1, .waits = 1, .error_after = 3 },
	{ "sync_wait32 reject, status set while waiting", PROG(0x2700021020000001),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { SYNC32(4) },
	  .writer = { M(SYNC_VA + 4, 3) }, .status = MOCK_CS_SYNC_REJECTED,
	  .fault_va = SYNC_VA, .insn_va = CODE_VA, .waits = 1 },
	{ "sync_wait32 keeps the queue's first error", PROG(0x2700021020000000),
	  .regs = { R(2, SYNC_VA), R(16, 5) }, .mem = { M(SYNC_VA, 4), M(SYNC_VA + 4, 3) },
	  .error = 9, .executed = 1, .error_after = 9 },
	{ "sync_wait32 in a hole faults", PROG(0x2700021020000000),
	  .regs = { R(2, HOLE_VA), R(16, 5) }, .status = MOCK_CS_MMU_FAULT,
	  .fault = FAULT(TRANSLATION, ACC_READ), .fault_va = HOLE_VA, .insn_va = CODE_VA },
	{ "sync_wait32 data r96 is invalid", PROG(0x2700026020000000),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_wait32 odd address pair d3 is invalid", PROG(0x2700031020000000),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_wait32 misaligned is invalid", PROG(0x2700021020000000),
	  .regs = { R(2, SYNC_VA + 2) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_wait64 gt compares 64 bits", PROG(0x3500021010000000),
	  .regs = { R(2, SYNC_VA), D(16, 0xFFFFFFFF) }, .mem = { SYNC64(0x100000000) },
	  .executed = 1 },
	{ "sync_wait64 ge, high word written while waiting", PROG(0x3500021050000000),
	  .regs = { R(2, SYNC_VA), D(16, 0x100000000) }, .mem = { SYNC64(0xFFFFFFFF) },
	  .writer = { M(SYNC_VA + 4, 1) }, .executed = 1, .waits = 1 },
	{ "sync_wait64 reject: status at +8", PROG(0x3500021020000001),
	  .regs = { R(2, SYNC_VA), D(16, 0) },
	  .mem = { M(SYNC_VA, 0), M(SYNC_VA + 4, 0), M(SYNC_VA + 8, 2) },
	  .status = MOCK_CS_SYNC_REJECTED, .fault_va = SYNC_VA, .insn_va = CODE_VA },
	{ "sync_wait64 odd data pair d17 is invalid", PROG(0x3500021100000000),
	  .regs = { R(2, SYNC_VA) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_wait64 4-aligned is invalid", PROG(0x3500021000000000),
	  .regs = { R(2, SYNC_VA + 4) }, .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA },
	{ "sync_wait64 status across a page end faults", PROG(0x3500021000000000),
	  .regs = { R(2, RO_VA + 0xFF8) }, .status = MOCK_CS_MMU_FAULT,
	  .fault = FAULT(TRANSLATION, ACC_READ), .fault_va = HOLE2_VA, .insn_va = CODE_VA },

	/* ERROR_BARRIER: the recovery point clears the queue's error */
	{ "error_barrier clears the queue error", PROG(0x2F00000000000000), .error = 5,
	  .executed = 1 },
	{ "error_barrier, then errprop writes no status",
	  PROG(0x2F00000000000000, 0x2500021000000001), .regs = { R(2, SYNC_VA), R(16, 3) },
	  .mem = { SYNC32(5) }, .error = 5, .executed = 2, .signals = { [0] = 1 },
	  .mem_after = { M(SYNC_VA, 8) } },
	{ "errprop, then error_barrier", PROG(0x2500021000000001, 0x2F00000000000000),
	  .regs = { R(2, SYNC_VA), R(16, 3) }, .mem = { SYNC32(5) }, .error = 5, .executed = 2,
	  .signals = { [0] = 1 }, .mem_after = { M(SYNC_VA, 8), M(SYNC_VA + 4, 5) } },
	{ "an inherited error reaches the next fence",
	  PROG(0x2700021020000000, 0x3300041200000001),
	  .regs = { R(2, SYNC_VA), R(16, 5), R(4, DATA_VA + 0x200), D(18, 1) },
	  .mem = { M(SYNC_VA, 4), M(SYNC_VA + 4, 3), M(DATA_VA + 0x200, 10),
		   M(DATA_VA + 0x204, 0), M(DATA_VA + 0x208, 0) },
	  .executed = 2, .signals = { [0] = 1 }, .error_after = 3,
	  .mem_after = { M(DATA_VA + 0x200, 11), M(DATA_VA + 0x208, 3) } },

	/* Unknown opcodes */
	{ "opcode 4 is invalid", PROG(0x0400000000000000), .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "opcode 22 is invalid", PROG(0x1600000000000000), .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "opcode 48 is invalid", PROG(0x3000000000000000), .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "opcode 255 is invalid", PROG(0xFF00000000000000), .status = MOCK_CS_INSTR_INVALID,
	  .insn_va = CODE_VA },
	{ "invalid after a valid one", PROG(0x020A000000000001, 0x0400000000000000),
	  .status = MOCK_CS_INSTR_INVALID, .insn_va = CODE_VA + 8, .executed = 1,
	  .regs_after = { R(10, 1) } },

	/* Fetch faults of the stream itself */
	{ "stream in a hole faults on its first fetch", .run = true, .run_va = HOLE_VA,
	  .run_size = 8, .status = MOCK_CS_MMU_FAULT, .fault = FAULT(TRANSLATION, ACC_EXEC),
	  .fault_va = HOLE_VA, .insn_va = HOLE_VA },
	{ "stream running off its page faults", .run = true, .run_va = RO_VA + 0xFF0,
	  .run_size = 32, .status = MOCK_CS_MMU_FAULT, .fault = FAULT(TRANSLATION, ACC_EXEC),
	  .fault_va = HOLE2_VA, .insn_va = HOLE2_VA, .executed = 2 },
};
/* clang-format on */

static void apply_regs(struct mock_cs_queue_state *q, const struct reg_val *v, size_t n)
{
	for (size_t i = 0; i < n && v[i].set; i++)
		q->regs[v[i].reg] = v[i].val;
}

static void apply_mem(struct env *e, const struct mem_val *v, size_t n)
{
	for (size_t i = 0; i < n && v[i].set; i++)
		env_put(e, v[i].va, v[i].val, 4);
}

static void row_setup(const struct cs_row *r, struct env *e, struct mock_cs_queue_state *q)
{
	env_init(e);
	env_put_stream(e, CODE_VA, r->prog, r->n);
	env_put_stream(e, SUB_VA, r->sub, r->sub_n);
	apply_mem(e, r->mem, ARRAY_SIZE(r->mem));
	e->writer = r->writer;
	memset(q, 0, sizeof(*q));
	apply_regs(q, r->regs, ARRAY_SIZE(r->regs));
	q->error = r->error;
}

static void check_result(const struct cs_row *r, struct env *before,
			 const struct mock_cs_result *res)
{
	uint64_t insn = 0;

	if (r->status != MOCK_CS_COMPLETED && env_mapped(before, r->insn_va, 8))
		insn = env_get(before, r->insn_va, 8);
	CHECK_STATUS(res->status, r->status);
	CHECK_HEX("fault", res->fault, r->fault);
	CHECK_HEX("fault_va", res->fault_va, r->fault_va);
	CHECK_ERR("error", res->error, r->wait_err);
	CHECK_HEX("insn_va", res->insn_va, r->insn_va);
	CHECK_HEX("insn", res->insn, insn);
	CHECK_HEX("executed", res->executed, r->executed);
}

static void check_side(const struct cs_row *r, const struct env *e,
		       const struct mock_cs_queue_state *q)
{
	CHECK_HEX("queue error", q->error, r->error_after);
	CHECK_HEX("waits", e->waits, r->waits);
	CHECK_HEX("flushes", e->flushes, r->flushes);
	for (unsigned int i = 0; r->flushes && i < 4; i++)
		CHECK_HEX("flush l2/lsc/other/id", e->flush[i], r->flush[i]);
	for (unsigned int s = 0; s < MOCK_CS_SB_SLOTS; s++) {
		char what[32];

		snprintf(what, sizeof(what), "slot %u signalled", s);
		CHECK_HEX(what, q->sb_signalled[s], r->signals[s]);
		CHECK_HEX("pending", q->sb_pending[s], 0);
	}
}

static struct env row_env, row_want;

static void test_row(void **state)
{
	const struct cs_row *r = *state;
	struct mock_cs_queue_state q, want_q;
	struct mock_cs_result res;
	uint64_t va = r->run ? r->run_va : CODE_VA;
	uint64_t size = r->run ? r->run_size : 8 * r->n;

	row_setup(r, &row_env, &q);
	row_setup(r, &row_want, &want_q);
	CHECK_ERR("mock_cs_run", mock_cs_run(&env_ops, &row_env, &q, va, size, &res), 0);
	check_result(r, &row_want, &res);
	apply_mem(&row_want, r->writer, r->waits);
	apply_mem(&row_want, r->mem_after, ARRAY_SIZE(r->mem_after));
	apply_regs(&want_q, r->regs_after, ARRAY_SIZE(r->regs_after));
	check_regs(&q, &want_q);
	check_mem(&row_env, &row_want);
	check_side(r, &row_env, &q);
}

/* --- whole streams ---------------------------------------------------------------- */

/* mali.md section 5: the 7 instructions igt's group_submit writes into its cmd BO. */
static const uint64_t igt_stream[] = {
	0x0144000001001000, /* MOVE48 d68, 0x1001000 */
	0x02460000DEADBEEF, /* MOVE32 r70, 0xdeadbeef */
	0x1546440000010000, /* STORE_MULTIPLE [d68 + 0] <- r70, mask 1 */
	0x0300000000FF0000, /* WAIT 0xff */
	0x0246000000000000, /* MOVE32 r70, 0 */
	0x2401460000000233, /* FLUSH_CACHE2 clean+inv, clean+inv, inv; id r70; slot 1 */
	0x0300000000FF0000, /* WAIT 0xff */
};

static struct env env_a;

static void test_igt_stream(void **state)
{
	static const uint8_t first[8] = { 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x44, 0x01 };
	struct mock_cs_queue_state q = { 0 };
	struct mock_cs_result res;

	(void)state;
	env_init(&env_a);
	env_put_stream(&env_a, CODE_VA, igt_stream, ARRAY_SIZE(igt_stream));
	assert_memory_equal(env_a.mem[0], first, sizeof(first)); /* little-endian */
	CHECK_ERR("mock_cs_run", mock_cs_run(&env_ops, &env_a, &q, CODE_VA, 56, &res), 0);
	CHECK_STATUS(res.status, MOCK_CS_COMPLETED);
	CHECK_HEX("executed", res.executed, 7);
	CHECK_HEX("result BO word 0", env_get(&env_a, DATA_VA, 4), 0xDEADBEEF);
	CHECK_HEX("result BO word 1", env_get(&env_a, DATA_VA + 4, 4), PATTERN(4));
	CHECK_HEX("d68", (uint64_t)q.regs[69] << 32 | q.regs[68], DATA_VA);
	CHECK_HEX("r70", q.regs[70], 0);
	CHECK_HEX("flushes", env_a.flushes, 1);
	CHECK_HEX("flush l2", env_a.flush[0], MOCK_CS_FLUSH_CLEAN_INVALIDATE);
	CHECK_HEX("flush lsc", env_a.flush[1], MOCK_CS_FLUSH_CLEAN_INVALIDATE);
	CHECK_HEX("flush other", env_a.flush[2], MOCK_CS_FLUSH_INVALIDATE);
	CHECK_HEX("flush id", env_a.flush[3], 0);
	CHECK_HEX("slot 1 signalled", q.sb_signalled[1], 1);
}

/* The encoders give the literals of mali.md and of the rows above. */
static void test_encoders(void **state)
{
	(void)state;
	CHECK_HEX("move48", mock_cs_move48(68, 0x1001000), igt_stream[0]);
	CHECK_HEX("move32", mock_cs_move32(70, 0xDEADBEEF), igt_stream[1]);
	CHECK_HEX("store", mock_cs_ldst(MOCK_CS_OP_STORE_MULTIPLE, 70, 68, 1, 0), igt_stream[2]);
	CHECK_HEX("wait", mock_cs_wait(0xFF), igt_stream[3]);
	CHECK_HEX("move32 0", mock_cs_move32(70, 0), igt_stream[4]);
	CHECK_HEX("flush", mock_cs_flush_cache2(3, 3, 2, 70, 0, 1), igt_stream[5]);
	CHECK_HEX("nop", mock_cs_nop(), 0);
	CHECK_HEX("load -8", mock_cs_ldst(MOCK_CS_OP_LOAD_MULTIPLE, 16, 2, 3, -8),
		  0x141002000003FFF8);
	CHECK_HEX("call", mock_cs_branch(MOCK_CS_OP_CALL, 20, 40), 0x2000142800000000);
	CHECK_HEX("jump", mock_cs_branch(MOCK_CS_OP_JUMP, 22, 42), 0x2100162A00000000);
	CHECK_HEX("set32",
		  mock_cs_sync_update(MOCK_CS_OP_SYNC_SET32, false, MOCK_CS_SCOPE_CSG, 16, 2, 0, 3),
		  0x2603021000000004);
	CHECK_HEX("add64",
		  mock_cs_sync_update(MOCK_CS_OP_SYNC_ADD64, false, MOCK_CS_SCOPE_SYSTEM, 16, 2,
				      0xFF, 13),
		  0x330D021000FF0000);
	CHECK_HEX("flush slot 15", mock_cs_flush_cache2(1, 1, 1, 94, 0xFF, 15), 0x240F5E0000FF0111);
	CHECK_HEX("flush 0x031", mock_cs_flush_cache2(1, 3, 0, 70, 0, 2), 0x2402460000000031);
	CHECK_HEX("wait32", mock_cs_sync_wait(MOCK_CS_OP_SYNC_WAIT32, true, MOCK_CS_COND_EQ, 16, 2),
		  0x2700021020000001);
	CHECK_HEX("wait64",
		  mock_cs_sync_wait(MOCK_CS_OP_SYNC_WAIT64, false, MOCK_CS_COND_GE, 16, 2),
		  0x3500021050000000);
	CHECK_HEX("error_barrier", mock_cs_error_barrier(), 0x2F00000000000000);
}

/*
 * The kernel's ring wrapper for one job (mali.md section 4), with the four
 * unpreserved registers r92-r95, zero-padded to 64 bytes. mali.md does not
 * give the SYNC_ADD64's error-propagation bit; we set it, so that a job whose
 * queue is in error signals its fence with that error.
 */
static size_t ring_job(uint64_t *ring, uint32_t latest_flush, uint64_t stream_va,
		       uint32_t stream_size, uint64_t syncobj_va)
{
	size_t n = 0;

	ring[n++] = mock_cs_move32(94, latest_flush);
	ring[n++] = mock_cs_flush_cache2(MOCK_CS_FLUSH_CLEAN_INVALIDATE,
					 MOCK_CS_FLUSH_CLEAN_INVALIDATE, MOCK_CS_FLUSH_INVALIDATE,
					 94, 0, 0);
	ring[n++] = mock_cs_move48(92, stream_va);
	ring[n++] = mock_cs_move32(94, stream_size);
	ring[n++] = mock_cs_wait(1u << 0);
	ring[n++] = mock_cs_branch(MOCK_CS_OP_CALL, 92, 94);
	ring[n++] = mock_cs_move48(92, syncobj_va);
	ring[n++] = mock_cs_move48(94, 1);
	ring[n++] = mock_cs_wait(0xFF); /* all 8 slots of a G610 */
	ring[n++] = mock_cs_sync_update(MOCK_CS_OP_SYNC_ADD64, true, MOCK_CS_SCOPE_SYSTEM, 94, 92,
					0, 0);
	ring[n++] = mock_cs_error_barrier();
	while (n % 8)
		ring[n++] = mock_cs_nop();
	return n;
}

/* Group syncobjs {seqno u64, status u32, pad u32} at DATA + 0x200; we are queue 1. */
#define GROUP_SYNCOBJS (DATA_VA + 0x200)
#define QUEUE 1
#define QUEUE_SYNCOBJ (GROUP_SYNCOBJS + 16 * QUEUE)

static void ring_setup(struct env *e)
{
	env_init(e);
	for (unsigned int i = 0; i < 2; i++) {
		env_put(e, GROUP_SYNCOBJS + 16 * i, 40 + i, 8);
		env_put(e, GROUP_SYNCOBJS + 16 * i + 8, 0, 8);
	}
}

static void test_ring_wrapper_encoding(void **state)
{
	static const uint64_t want[16] = {
		0x025E000000000077, /* MOVE32 r94, latest_flush */
		0x24005E0000000233, /* FLUSH_CACHE2 0x233, id r94, slot 0 */
		0x015C000001000000, /* MOVE48 d92, stream */
		0x025E000000000038, /* MOVE32 r94, 56 */
		0x0300000000010000, /* WAIT 1 */
		0x20005C5E00000000, /* CALL d92, r94 */
		0x015C000001001210, /* MOVE48 d92, syncobj of queue 1 */
		0x015E000000000001, /* MOVE48 d94, 1 */
		0x0300000000FF0000, /* WAIT 0xff */
		0x33005C5E00000001, /* SYNC_ADD64 system, errprop, [d92] += d94 */
		0x2F00000000000000, /* ERROR_BARRIER */
	};
	uint64_t ring[16];

	(void)state;
	CHECK_HEX("words", ring_job(ring, 0x77, CODE_VA, 56, QUEUE_SYNCOBJ), 16);
	for (size_t i = 0; i < 16; i++)
		CHECK_HEX("ring word", ring[i], want[i]);
}

static void run_ring(struct env *e, struct mock_cs_queue_state *q, uint64_t va,
		     const uint64_t *user, size_t user_n, struct mock_cs_result *res)
{
	uint64_t ring[16];
	size_t n = ring_job(ring, 0x77, CODE_VA, (uint32_t)(8 * user_n), QUEUE_SYNCOBJ);

	env_put_stream(e, CODE_VA, user, user_n);
	env_put_stream(e, va, ring, n);
	CHECK_ERR("mock_cs_run", mock_cs_run(&env_ops, e, q, va, 8 * n, res), 0);
}

/* Two jobs of the igt stream through the ring: the queue's seqno goes 41, 42, 43. */
static void test_ring_wrapper(void **state)
{
	struct mock_cs_queue_state q = { 0 };
	struct mock_cs_result res;

	(void)state;
	ring_setup(&env_a);
	run_ring(&env_a, &q, RING_VA, igt_stream, ARRAY_SIZE(igt_stream), &res);
	CHECK_STATUS(res.status, MOCK_CS_COMPLETED);
	CHECK_HEX("executed", res.executed, 11 + 7 + 5);
	CHECK_HEX("seqno", env_get(&env_a, QUEUE_SYNCOBJ, 8), 42);
	CHECK_HEX("status", env_get(&env_a, QUEUE_SYNCOBJ + 8, 4), 0);
	CHECK_HEX("queue 0 seqno", env_get(&env_a, GROUP_SYNCOBJS, 8), 40);
	CHECK_HEX("result BO", env_get(&env_a, DATA_VA, 4), 0xDEADBEEF);
	CHECK_HEX("flushes", env_a.flushes, 2);
	CHECK_HEX("slot 0 signalled", q.sb_signalled[0], 2); /* ring flush, SYNC_ADD64 */
	CHECK_HEX("slot 1 signalled", q.sb_signalled[1], 1); /* the user stream's flush */

	env_put(&env_a, DATA_VA, 0, 4);
	run_ring(&env_a, &q, RING_VA + 128, igt_stream, ARRAY_SIZE(igt_stream), &res);
	CHECK_STATUS(res.status, MOCK_CS_COMPLETED);
	CHECK_HEX("seqno", env_get(&env_a, QUEUE_SYNCOBJ, 8), 43);
	CHECK_HEX("result BO", env_get(&env_a, DATA_VA, 4), 0xDEADBEEF);
}

/* A user stream that faults stops the ring before the seqno moves. */
static void test_ring_wrapper_fault(void **state)
{
	static const uint64_t user[] = {
		0x0144000001004000, /* MOVE48 d68, RO_VA */
		0x1546440000010000, /* STORE_MULTIPLE [d68] <- r70 */
	};
	struct mock_cs_queue_state q = { 0 };
	struct mock_cs_result res;

	(void)state;
	ring_setup(&env_a);
	run_ring(&env_a, &q, RING_VA, user, ARRAY_SIZE(user), &res);
	CHECK_STATUS(res.status, MOCK_CS_MMU_FAULT);
	CHECK_HEX("fault", res.fault, FAULT(PERMISSION, ACC_WRITE));
	CHECK_HEX("fault_va", res.fault_va, RO_VA);
	CHECK_HEX("insn_va", res.insn_va, CODE_VA + 8);
	CHECK_HEX("insn", res.insn, user[1]);
	CHECK_HEX("seqno", env_get(&env_a, QUEUE_SYNCOBJ, 8), 41);
}

/*
 * A user stream that waits on a sync object in error (no reject) inherits the
 * error; the ring's SYNC_ADD64 passes it to the job's syncobj, and the
 * ERROR_BARRIER leaves the queue clean for the next job.
 */
static void test_ring_wrapper_error(void **state)
{
	static const uint64_t user[] = {
		0x0102000001001100, /* MOVE48 d2, SYNC_VA */
		0x0210000000000000, /* MOVE32 r16, 0 */
		0x2700021050000000, /* SYNC_WAIT32 ge [d2], r16 */
	};
	struct mock_cs_queue_state q = { 0 };
	struct mock_cs_result res;

	(void)state;
	ring_setup(&env_a);
	env_put(&env_a, SYNC_VA, 0, 4);
	env_put(&env_a, SYNC_VA + 4, 0x4b, 4);
	run_ring(&env_a, &q, RING_VA, user, ARRAY_SIZE(user), &res);
	CHECK_STATUS(res.status, MOCK_CS_COMPLETED);
	CHECK_HEX("seqno", env_get(&env_a, QUEUE_SYNCOBJ, 8), 42);
	CHECK_HEX("status", env_get(&env_a, QUEUE_SYNCOBJ + 8, 4), 0x4b);
	CHECK_HEX("queue error", q.error, 0);
}

/* An infinite JUMP loop, and a wait_event() that never gives up, both end. */
static void test_budget(void **state)
{
	static const uint64_t loop[] = { 0x2100142800000000 }; /* JUMP d20, r40 */
	static const uint64_t wait[] = { 0x2700021020000000 }; /* SYNC_WAIT32 eq */
	struct mock_cs_queue_state q = { 0 };
	struct mock_cs_result res;

	(void)state;
	env_init(&env_a);
	env_put_stream(&env_a, CODE_VA, loop, 1);
	q.regs[20] = CODE_VA;
	q.regs[40] = 8;
	CHECK_ERR("mock_cs_run", mock_cs_run(&env_ops, &env_a, &q, CODE_VA, 8, &res), 0);
	CHECK_STATUS(res.status, MOCK_CS_BUDGET_EXHAUSTED);
	CHECK_HEX("executed", res.executed, MOCK_CS_INSN_BUDGET);
	CHECK_HEX("insn_va", res.insn_va, CODE_VA);
	CHECK_HEX("insn", res.insn, 0); /* the next one, not fetched */

	env_init(&env_a);
	env_a.wait_forever = true;
	env_put_stream(&env_a, CODE_VA, wait, 1);
	env_put(&env_a, SYNC_VA + 4, 0, 4); /* no error status: wait on the value */
	q.regs[2] = SYNC_VA;
	CHECK_ERR("mock_cs_run", mock_cs_run(&env_ops, &env_a, &q, CODE_VA, 8, &res), 0);
	CHECK_STATUS(res.status, MOCK_CS_BUDGET_EXHAUSTED);
	CHECK_HEX("executed", res.executed, 0);
	CHECK_HEX("insn_va", res.insn_va, CODE_VA);
	CHECK_HEX("insn", res.insn, wait[0]);
}

/* An empty stream fetches nothing; no flush op means no caches to flush. */
static void test_empty_and_optional(void **state)
{
	struct mock_cs_env_ops ops = env_ops;
	struct mock_cs_queue_state q = { 0 };
	struct mock_cs_result res;

	(void)state;
	env_init(&env_a);
	CHECK_ERR("mock_cs_run", mock_cs_run(&env_ops, &env_a, &q, HOLE_VA, 0, &res), 0);
	CHECK_STATUS(res.status, MOCK_CS_COMPLETED);
	CHECK_HEX("executed", res.executed, 0);
	CHECK_HEX("fetches", env_a.fetches, 0);

	ops.flush_caches = NULL;
	env_put_stream(&env_a, CODE_VA, igt_stream, ARRAY_SIZE(igt_stream));
	CHECK_ERR("mock_cs_run", mock_cs_run(&ops, &env_a, &q, CODE_VA, 56, &res), 0);
	CHECK_STATUS(res.status, MOCK_CS_COMPLETED);
	CHECK_HEX("result BO", env_get(&env_a, DATA_VA, 4), 0xDEADBEEF);
	CHECK_HEX("slot 1 signalled", q.sb_signalled[1], 1);
}

struct arg_case {
	const char *what;
	bool no_read, no_write, no_sync, no_wait, no_q, no_out, pending;
	uint64_t va, size;
};

static void arg_ops(const struct arg_case *c, struct mock_cs_env_ops *ops)
{
	ops->read = c->no_read ? NULL : ops->read;
	ops->write = c->no_write ? NULL : ops->write;
	ops->sync_update = c->no_sync ? NULL : ops->sync_update;
	ops->wait_event = c->no_wait ? NULL : ops->wait_event;
}

/* Refused calls leave the queue state and the result as they were. */
static void test_args(void **state)
{
	static const struct arg_case cases[] = {
		{ "no read", .no_read = true, .va = CODE_VA, .size = 8 },
		{ "no write", .no_write = true, .va = CODE_VA, .size = 8 },
		{ "no sync_update", .no_sync = true, .va = CODE_VA, .size = 8 },
		{ "no wait_event", .no_wait = true, .va = CODE_VA, .size = 8 },
		{ "no queue", .no_q = true, .va = CODE_VA, .size = 8 },
		{ "no result", .no_out = true, .va = CODE_VA, .size = 8 },
		{ "va % 8", .va = CODE_VA + 4, .size = 8 },
		{ "size % 8", .va = CODE_VA, .size = 12 },
		{ "range wraps", .va = 0xFFFFFFFFFFFFFFF8, .size = 16 },
		{ "scoreboard pending", .pending = true, .va = CODE_VA, .size = 8 },
	};

	(void)state;
	env_init(&env_a);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct arg_case *c = &cases[i];
		struct mock_cs_env_ops ops = env_ops;
		struct mock_cs_queue_state q, q0;
		struct mock_cs_result res, res0;

		memset(&q, 0x5a, sizeof(q));
		memset(&q.sb_pending, 0, sizeof(q.sb_pending));
		q.sb_pending[3] = c->pending;
		memset(&res, 0xa5, sizeof(res));
		q0 = q;
		res0 = res;
		arg_ops(c, &ops);
		print_message("%s\n", c->what);
		CHECK_ERR(c->what,
			  mock_cs_run(&ops, &env_a, c->no_q ? NULL : &q, c->va, c->size,
				      c->no_out ? NULL : &res),
			  -EINVAL);
		assert_memory_equal(&q, &q0, sizeof(q));
		assert_memory_equal(&res, &res0, sizeof(res));
	}
}

int main(int argc, char **argv)
{
	struct CMUnitTest tests[ARRAY_SIZE(rows) + 9];
	size_t n = 0;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: %s\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		tests[n++] =
			(struct CMUnitTest){ rows[i].name, test_row, NULL, NULL, (void *)&rows[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_igt_stream);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_encoders);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ring_wrapper_encoding);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ring_wrapper);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ring_wrapper_fault);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ring_wrapper_error);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_budget);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_empty_and_optional);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_args);
	return _cmocka_run_group_tests("test-cs", tests, n, NULL, NULL);
}
