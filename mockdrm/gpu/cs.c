// SPDX-License-Identifier: MIT
/*
 * The command-stream interpreter of the mock device: see "command-stream
 * model" in mock_cs.h. Encodings are mali.md section 5; each opcode has a row
 * in cs_ops[] whose handler checks every field before it touches anything,
 * then acts through the env ops.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mock_cs.h"

/* The bytes [ip, end) still to run at one CALL level; both multiples of 8. */
struct cs_frame {
	uint64_t ip, end;
};

/* One mock_cs_run(). */
struct cs_run {
	const struct mock_cs_env_ops *ops;
	void *ctx;
	struct mock_cs_queue_state *q;
	struct mock_cs_result *out;
	struct cs_frame frame[MOCK_CS_CALL_DEPTH + 1]; /* [0]: the stream run */
	unsigned int depth;                            /* frame[depth] runs */
	uint64_t steps;                                /* against MOCK_CS_INSN_BUDGET */
};

/*
 * An opcode: its handler returns 0 to go on, or an enum mock_cs_status to
 * stop. @bits and @add describe the sync variants, so one handler serves four.
 */
struct cs_op {
	int (*exec)(struct cs_run *run, const struct cs_op *op, uint64_t insn);
	unsigned int bits;
	bool add;
};

/* A sync instruction's operands: the object's VA and r[data] or d[data]. */
struct cs_sync {
	uint64_t va;
	uint64_t value;
};

static unsigned int field(uint64_t insn, unsigned int lsb, unsigned int width)
{
	return (unsigned int)(insn >> lsb & ((1ull << width) - 1));
}

static bool reg_ok(unsigned int r)
{
	return r < MOCK_CS_REGS;
}

/* dN is rN (low) : rN+1 (high), N even. */
static bool pair_ok(unsigned int r)
{
	return r % 2 == 0 && r + 1 < MOCK_CS_REGS;
}

static uint64_t get_pair(const struct mock_cs_queue_state *q, unsigned int r)
{
	return (uint64_t)q->regs[r + 1] << 32 | q->regs[r];
}

static void set_pair(struct mock_cs_queue_state *q, unsigned int r, uint64_t v)
{
	q->regs[r] = (uint32_t)v;
	q->regs[r + 1] = (uint32_t)(v >> 32);
}

/* GPU memory is little-endian whatever the host is. */
static uint64_t get_le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = bytes; i--;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static int cs_fault(struct cs_run *run, uint32_t fault, uint64_t va)
{
	run->out->fault = fault;
	run->out->fault_va = va;
	return MOCK_CS_MMU_FAULT;
}

static int cs_read(struct cs_run *run, uint64_t va, void *buf, size_t len, bool exec)
{
	uint64_t fault_va = va;
	uint32_t fault = run->ops->read(run->ctx, va, buf, len, exec, &fault_va);

	return fault ? cs_fault(run, fault, fault_va) : 0;
}

static int cs_write(struct cs_run *run, uint64_t va, const void *buf, size_t len)
{
	uint64_t fault_va = va;
	uint32_t fault = run->ops->write(run->ctx, va, buf, len, &fault_va);

	return fault ? cs_fault(run, fault, fault_va) : 0;
}

/*
 * The scoreboard. An asynchronous operation is issued on its slot, acts, and
 * completes before the next instruction, so a wait never finds anything
 * pending: mock_cs_run() refuses a state that says otherwise.
 */
static void sb_wait(struct cs_run *run, unsigned int mask)
{
	bool pending = false;

	for (unsigned int s = 0; s < MOCK_CS_SB_SLOTS; s++)
		pending |= (mask >> s & 1) && run->q->sb_pending[s];
	assert(!pending);
	(void)pending;
}

static void sb_issue(struct cs_run *run, unsigned int slot)
{
	run->q->sb_pending[slot]++;
}

static void sb_complete(struct cs_run *run, unsigned int slot)
{
	run->q->sb_pending[slot]--;
	run->q->sb_signalled[slot]++;
}

static bool sb_idle(const struct mock_cs_queue_state *q)
{
	for (unsigned int s = 0; s < MOCK_CS_SB_SLOTS; s++) {
		if (q->sb_pending[s])
			return false;
	}
	return true;
}

static int exec_nop(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	(void)run;
	(void)op;
	(void)insn;
	return 0;
}

static int exec_move48(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	unsigned int d = field(insn, 48, 8);

	(void)op;
	if (!pair_ok(d))
		return MOCK_CS_INSTR_INVALID;
	set_pair(run->q, d, insn & ((1ull << 48) - 1));
	return 0;
}

static int exec_move32(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	unsigned int r = field(insn, 48, 8);

	(void)op;
	if (!reg_ok(r))
		return MOCK_CS_INSTR_INVALID;
	run->q->regs[r] = (uint32_t)insn;
	return 0;
}

/* progress_inc (bit 32) feeds the firmware's progress timer: not modelled. */
static int exec_wait(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	(void)op;
	sb_wait(run, field(insn, 16, 16));
	return 0;
}

/* LOAD/STORE_MULTIPLE: per mask bit i, r[base + i] <-> mem32[va + 4i]. */
static int decode_multiple(const struct mock_cs_queue_state *q, uint64_t insn, unsigned int *base,
			   unsigned int *mask, uint64_t *va)
{
	unsigned int addr = field(insn, 40, 8);
	int16_t offset = (int16_t)field(insn, 0, 16);

	*base = field(insn, 48, 8);
	*mask = field(insn, 16, 16);
	if (!pair_ok(addr))
		return MOCK_CS_INSTR_INVALID;
	/* Every register of the run, up to the highest mask bit, must exist. */
	if (*mask && *base + (31 - __builtin_clz(*mask)) >= MOCK_CS_REGS)
		return MOCK_CS_INSTR_INVALID;
	*va = get_pair(q, addr) + (uint64_t)(int64_t)offset;
	return *va % 4 ? MOCK_CS_INSTR_INVALID : 0;
}

/* Registers change only once every word was read: a fault leaves them all. */
static int exec_load_multiple(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	uint32_t words[16];
	unsigned int base, mask;
	uint64_t va;
	int st = decode_multiple(run->q, insn, &base, &mask, &va);

	(void)op;
	for (unsigned int i = 0; !st && i < 16; i++) {
		uint8_t b[4];

		if (!(mask >> i & 1))
			continue;
		st = cs_read(run, va + 4 * i, b, 4, false);
		if (!st)
			words[i] = (uint32_t)get_le(b, 4);
	}
	for (unsigned int i = 0; !st && i < 16; i++) {
		if (mask >> i & 1)
			run->q->regs[base + i] = words[i];
	}
	return st;
}

static int exec_store_multiple(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	unsigned int base, mask;
	uint64_t va;
	int st = decode_multiple(run->q, insn, &base, &mask, &va);

	(void)op;
	for (unsigned int i = 0; !st && i < 16; i++) {
		uint8_t b[4];

		if (!(mask >> i & 1))
			continue;
		put_le(b, run->q->regs[base + i], 4);
		st = cs_write(run, va + 4 * i, b, 4);
	}
	return st;
}

/* CALL/JUMP target: r[len] bytes at d[addr], whole instructions, no wrap. */
static int decode_branch(const struct mock_cs_queue_state *q, uint64_t insn, struct cs_frame *to)
{
	unsigned int addr = field(insn, 40, 8);
	unsigned int len = field(insn, 32, 8);

	if (!pair_ok(addr) || !reg_ok(len))
		return MOCK_CS_INSTR_INVALID;
	to->ip = get_pair(q, addr);
	if (to->ip % 8 || q->regs[len] % 8)
		return MOCK_CS_INSTR_INVALID;
	if (__builtin_add_overflow(to->ip, (uint64_t)q->regs[len], &to->end))
		return MOCK_CS_INSTR_INVALID;
	return 0;
}

static int exec_call(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	struct cs_frame to;
	int st = decode_branch(run->q, insn, &to);

	(void)op;
	if (st)
		return st;
	if (run->depth == MOCK_CS_CALL_DEPTH)
		return MOCK_CS_CALL_STACK_OVERFLOW;
	run->frame[++run->depth] = to;
	return 0;
}

static int exec_jump(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	struct cs_frame to;
	int st = decode_branch(run->q, insn, &to);

	(void)op;
	if (!st)
		run->frame[run->depth] = to;
	return st;
}

static int exec_flush_cache2(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	unsigned int l2 = field(insn, 0, 4), lsc = field(insn, 4, 4), other = field(insn, 8, 4);
	unsigned int id = field(insn, 40, 8), slot = field(insn, 48, 4);

	(void)op;
	/* Modes are clean (bit 0) and invalidate (bit 1); nothing else exists. */
	if (l2 > MOCK_CS_FLUSH_CLEAN_INVALIDATE || lsc > MOCK_CS_FLUSH_CLEAN_INVALIDATE ||
	    other > MOCK_CS_FLUSH_CLEAN_INVALIDATE || !reg_ok(id))
		return MOCK_CS_INSTR_INVALID;
	sb_wait(run, field(insn, 16, 16));
	sb_issue(run, slot);
	if (run->ops->flush_caches)
		run->ops->flush_caches(run->ctx, l2, lsc, other, run->q->regs[id]);
	sb_complete(run, slot);
	return 0;
}

/* Operands of SYNC_ADD/SET/WAIT: data 39:32, address pair 47:40. */
static int decode_sync(const struct mock_cs_queue_state *q, const struct cs_op *op, uint64_t insn,
		       struct cs_sync *s)
{
	unsigned int data = field(insn, 32, 8), addr = field(insn, 40, 8);

	if (op->bits == 64 ? !pair_ok(data) : !reg_ok(data))
		return MOCK_CS_INSTR_INVALID;
	if (!pair_ok(addr))
		return MOCK_CS_INSTR_INVALID;
	s->va = get_pair(q, addr);
	s->value = op->bits == 64 ? get_pair(q, data) : q->regs[data];
	/* The value word is updated atomically: it must be naturally aligned. */
	return s->va % (op->bits / 8) ? MOCK_CS_INSTR_INVALID : 0;
}

/* Error propagation writes the status before the value: see mock_cs.h. */
static int sync_apply(struct cs_run *run, const struct cs_op *op, const struct cs_sync *s,
		      bool errprop)
{
	uint64_t fault_va = s->va;
	uint32_t fault;

	if (errprop && run->q->error) {
		uint8_t b[4];
		int st;

		put_le(b, run->q->error, 4);
		st = cs_write(run, s->va + op->bits / 8, b, 4);
		if (st)
			return st;
	}
	fault = run->ops->sync_update(run->ctx, s->va, op->bits, op->add, s->value, &fault_va);
	return fault ? cs_fault(run, fault, fault_va) : 0;
}

/* Scope only says how far the update must be visible; our memory is one. */
static int exec_sync_update(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	unsigned int scope = field(insn, 1, 2), slot = field(insn, 48, 4);
	struct cs_sync s = { 0 };
	int st = decode_sync(run->q, op, insn, &s);

	if (st)
		return st;
	if (scope != MOCK_CS_SCOPE_SYSTEM && scope != MOCK_CS_SCOPE_CSG)
		return MOCK_CS_INSTR_INVALID;
	sb_wait(run, field(insn, 16, 16));
	sb_issue(run, slot);
	st = sync_apply(run, op, &s, field(insn, 0, 1));
	sb_complete(run, slot);
	return st;
}

static bool cond_holds(unsigned int cond, uint64_t mem, uint64_t ref)
{
	switch (cond) {
	case MOCK_CS_COND_LE:
		return mem <= ref;
	case MOCK_CS_COND_GT:
		return mem > ref;
	case MOCK_CS_COND_EQ:
		return mem == ref;
	case MOCK_CS_COND_NE:
		return mem != ref;
	case MOCK_CS_COND_LT:
		return mem < ref;
	default:
		return mem >= ref;
	}
}

/* One look at {value, status}: value at +0, status right after it. */
static int sync_read(struct cs_run *run, const struct cs_op *op, uint64_t va, uint64_t *value,
		     uint32_t *status)
{
	unsigned int bytes = op->bits / 8;
	uint8_t b[12];
	int st = cs_read(run, va, b, bytes + 4, false);

	if (st)
		return st;
	*value = get_le(b, bytes);
	*status = (uint32_t)get_le(b + bytes, 4);
	return 0;
}

/* Block until memory may have changed; the budget bounds a wait_event() that never gives up. */
static int sync_block(struct cs_run *run)
{
	int err;

	if (run->steps == MOCK_CS_INSN_BUDGET)
		return MOCK_CS_BUDGET_EXHAUSTED;
	run->steps++;
	err = run->ops->wait_event(run->ctx);
	if (err >= 0)
		return 0;
	run->out->error = err;
	return MOCK_CS_WAIT_ABORTED;
}

/* An object in error ends the wait: rejected, or inherited by the queue. */
static int sync_error(struct cs_run *run, uint64_t va, uint32_t status, bool reject)
{
	if (reject) {
		run->out->fault_va = va;
		return MOCK_CS_SYNC_REJECTED;
	}
	if (!run->q->error)
		run->q->error = status;
	return 0;
}

static int exec_sync_wait(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	unsigned int cond = field(insn, 28, 4);
	struct cs_sync s = { 0 };
	int st = decode_sync(run->q, op, insn, &s);

	if (!st && cond > MOCK_CS_COND_GE)
		st = MOCK_CS_INSTR_INVALID;
	while (!st) {
		uint64_t value;
		uint32_t status;

		st = sync_read(run, op, s.va, &value, &status);
		if (st)
			break;
		if (status)
			return sync_error(run, s.va, status, field(insn, 0, 1));
		if (cond_holds(cond, value, s.value))
			return 0;
		st = sync_block(run);
	}
	return st;
}

static int exec_error_barrier(struct cs_run *run, const struct cs_op *op, uint64_t insn)
{
	(void)op;
	(void)insn;
	run->q->error = 0;
	return 0;
}

/* Opcodes without a row are invalid instructions. */
static const struct cs_op cs_ops[256] = {
	[MOCK_CS_OP_NOP] = { exec_nop, 0, false },
	[MOCK_CS_OP_MOVE48] = { exec_move48, 0, false },
	[MOCK_CS_OP_MOVE32] = { exec_move32, 0, false },
	[MOCK_CS_OP_WAIT] = { exec_wait, 0, false },
	[MOCK_CS_OP_LOAD_MULTIPLE] = { exec_load_multiple, 0, false },
	[MOCK_CS_OP_STORE_MULTIPLE] = { exec_store_multiple, 0, false },
	[MOCK_CS_OP_CALL] = { exec_call, 0, false },
	[MOCK_CS_OP_JUMP] = { exec_jump, 0, false },
	[MOCK_CS_OP_FLUSH_CACHE2] = { exec_flush_cache2, 0, false },
	[MOCK_CS_OP_SYNC_ADD32] = { exec_sync_update, 32, true },
	[MOCK_CS_OP_SYNC_SET32] = { exec_sync_update, 32, false },
	[MOCK_CS_OP_SYNC_WAIT32] = { exec_sync_wait, 32, false },
	[MOCK_CS_OP_ERROR_BARRIER] = { exec_error_barrier, 0, false },
	[MOCK_CS_OP_SYNC_ADD64] = { exec_sync_update, 64, true },
	[MOCK_CS_OP_SYNC_SET64] = { exec_sync_update, 64, false },
	[MOCK_CS_OP_SYNC_WAIT64] = { exec_sync_wait, 64, false },
};

/* Fetch and execute until a frame-0 end or an exception. */
static int cs_loop(struct cs_run *run)
{
	for (;;) {
		struct cs_frame *f = &run->frame[run->depth];
		const struct cs_op *op;
		uint8_t b[8];
		int st;

		if (f->ip == f->end) {
			if (!run->depth)
				return MOCK_CS_COMPLETED;
			run->depth--; /* back after the CALL */
			continue;
		}
		run->out->insn_va = f->ip;
		run->out->insn = 0;
		if (run->steps == MOCK_CS_INSN_BUDGET)
			return MOCK_CS_BUDGET_EXHAUSTED;
		run->steps++;
		st = cs_read(run, f->ip, b, 8, true);
		if (st)
			return st;
		run->out->insn = get_le(b, 8);
		f->ip += 8; /* first: CALL returns past itself, JUMP replaces the frame */
		op = &cs_ops[run->out->insn >> 56];
		st = op->exec ? op->exec(run, op, run->out->insn) : MOCK_CS_INSTR_INVALID;
		if (st)
			return st;
		run->out->executed++;
	}
}

int mock_cs_run(const struct mock_cs_env_ops *ops, void *ctx, struct mock_cs_queue_state *q,
		uint64_t va, uint64_t size, struct mock_cs_result *out)
{
	struct mock_cs_result res = { 0 };
	struct cs_run run = { .ops = ops, .ctx = ctx, .q = q, .out = &res };
	uint64_t end;

	if (!ops || !ops->read || !ops->write || !ops->sync_update || !ops->wait_event || !q ||
	    !out)
		return -EINVAL;
	if (va % 8 || size % 8 || __builtin_add_overflow(va, size, &end))
		return -EINVAL;
	/* Pending operations cannot come from this model: nothing would complete them. */
	if (!sb_idle(q))
		return -EINVAL;
	run.frame[0] = (struct cs_frame){ va, end };
	res.status = cs_loop(&run);
	if (res.status == MOCK_CS_COMPLETED) {
		res.insn_va = 0;
		res.insn = 0;
	}
	*out = res;
	return 0;
}
