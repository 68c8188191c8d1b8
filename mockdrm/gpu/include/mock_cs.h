/* SPDX-License-Identifier: MIT */
/*
 * Interface of mockdrm/gpu/: the command-stream (CS) interpreter of the mock Mali
 * device. It executes CSF instructions (shared/reference/mali.md section 5)
 * against an environment the device provides (struct mock_cs_env_ops), so it
 * knows nothing of address spaces, TLBs or BOs.
 *
 * DOC: command-stream model
 *
 * Instructions are little-endian u64s, opcode in bits 63:56. A queue has 96
 * 32-bit registers; dN is the pair rN (low) : rN+1 (high), N even.
 *
 * Frames: mock_cs_run() executes [va, va + size) as the bottom frame. CALL
 * pushes a frame for r[len] bytes at d[addr] and, when that frame's bytes are
 * consumed, execution continues after the CALL; JUMP replaces the current
 * frame. A frame ends exactly when its byte length is consumed; the run
 * completes when the bottom frame ends. G610 allows a CALL depth of 8; we
 * count the CALLs above the bottom frame, so an 8th nested CALL runs and a
 * 9th stops the stream with MOCK_CS_CALL_STACK_OVERFLOW. (mali.md does not say
 * whether the ring counts as a level; with the kernel's ring wrapper the user
 * stream is one CALL deep and may nest 7 more.)
 *
 * Scoreboard: an asynchronous instruction (FLUSH_CACHE2, SYNC_ADD/SET) first
 * waits for the slots of its wait mask, then is issued on its signal slot and
 * signals that slot when it completes; WAIT blocks until no slot of its mask
 * has an operation pending. In this model an asynchronous operation completes
 * before the next instruction starts, so a WAIT never has anything to wait for;
 * the pending/signalled counters in struct mock_cs_queue_state keep the
 * bookkeeping explicit. Slots are the 16 values of the 4-bit slot field and
 * the bits of the 16-bit masks; G610 has 8 (CSIF_INFO), and mali.md does not
 * say what the hardware does with the others, so they are tracked, not refused.
 *
 * Sync objects: a 32-bit sync object is {u32 value, u32 status}, a 64-bit one
 * {u64 value, u32 status} (the group syncobj {seqno u64, status u32, pad u32}),
 * naturally aligned for the value's size. A non-zero status means the object
 * carries an error. Our model of the two error bits:
 *  - SYNC_ADD/SET with error propagation set, on a queue whose error state
 *    (mock_cs_queue_state.error) is non-zero, first writes that error to the
 *    status word, then updates the value: a waiter that sees the new value also
 *    sees the error.
 *  - SYNC_WAIT finds a non-zero status before or instead of its condition. With
 *    the reject bit set the stream stops (MOCK_CS_SYNC_REJECTED). Without it the
 *    wait ends (an object in error will not advance, so waiting on would hang)
 *    and the queue inherits the status as its error state, so that a later
 *    SYNC_ADD/SET with propagation passes it on to the job's own fence.
 *  - ERROR_BARRIER, the fault recovery point, clears the queue's error state,
 *    so a failed job does not taint the jobs after it in the ring.
 * Nothing else sets the error state: every exception stops the run. The device
 * may set it before a run (to model a job resumed after a recoverable fault).
 *
 * Reserved bits of an encoding are ignored. A field with values mali.md
 * defines only in part is checked (sync scope 0 or 2, SYNC_WAIT condition
 * 0-5, cache flush modes 0-3); register and alignment rules are listed with
 * MOCK_CS_INSTR_INVALID.
 */
#ifndef GPUVM_MOCK_CS_H
#define GPUVM_MOCK_CS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOCK_CS_REGS 96      /* cs_reg_count of a G610 (mali.md section 3) */
#define MOCK_CS_SB_SLOTS 16  /* values of the 4-bit slot field */
#define MOCK_CS_CALL_DEPTH 8 /* nested CALLs on G610 (mali.md section 5) */
/*
 * Instructions (and SYNC_WAIT re-checks) one run may execute before it stops
 * with MOCK_CS_BUDGET_EXHAUSTED: far more than any test or igt stream needs,
 * few enough that an infinite JUMP loop ends in about a second.
 */
#define MOCK_CS_INSN_BUDGET (1ull << 24)

/* Opcodes (bits 63:56), in decimal as in mali.md section 5. */
enum mock_cs_opcode {
	MOCK_CS_OP_NOP = 0,
	MOCK_CS_OP_MOVE48 = 1,
	MOCK_CS_OP_MOVE32 = 2,
	MOCK_CS_OP_WAIT = 3,
	MOCK_CS_OP_LOAD_MULTIPLE = 20,
	MOCK_CS_OP_STORE_MULTIPLE = 21,
	MOCK_CS_OP_CALL = 32,
	MOCK_CS_OP_JUMP = 33,
	MOCK_CS_OP_FLUSH_CACHE2 = 36,
	MOCK_CS_OP_SYNC_ADD32 = 37,
	MOCK_CS_OP_SYNC_SET32 = 38,
	MOCK_CS_OP_SYNC_WAIT32 = 39,
	MOCK_CS_OP_ERROR_BARRIER = 47,
	MOCK_CS_OP_SYNC_ADD64 = 51,
	MOCK_CS_OP_SYNC_SET64 = 52,
	MOCK_CS_OP_SYNC_WAIT64 = 53,
};

/* SYNC_WAIT conditions (bits 31:28): wait until mem COND reference, unsigned. */
enum mock_cs_cond {
	MOCK_CS_COND_LE = 0,
	MOCK_CS_COND_GT = 1,
	MOCK_CS_COND_EQ = 2,
	MOCK_CS_COND_NE = 3,
	MOCK_CS_COND_LT = 4,
	MOCK_CS_COND_GE = 5,
};

/* SYNC_ADD/SET scope (bits 2:1). */
enum mock_cs_scope {
	MOCK_CS_SCOPE_SYSTEM = 0,
	MOCK_CS_SCOPE_CSG = 2,
};

/* FLUSH_CACHE2 modes: bit 0 clean, bit 1 invalidate, as GPU_CMD's flush. */
enum mock_cs_flush_mode {
	MOCK_CS_FLUSH_NONE = 0,
	MOCK_CS_FLUSH_CLEAN = 1,
	MOCK_CS_FLUSH_INVALIDATE = 2,
	MOCK_CS_FLUSH_CLEAN_INVALIDATE = 3,
};

/**
 * enum mock_cs_status - why a run stopped
 * @MOCK_CS_COMPLETED: the bottom frame's bytes were consumed.
 * @MOCK_CS_MMU_FAULT: an instruction fetch or a data access faulted; the
 *	result has the env's FAULTSTATUS and VA. On hardware this is an MMU
 *	fault of the queue's address space (mali.md section 1), not a CS code.
 * @MOCK_CS_INSTR_INVALID: unknown opcode, or a field out of its rules: a
 *	pair register dN with N odd or N > 94; a register above r95 (including
 *	the last of a LOAD/STORE_MULTIPLE mask run); a LOAD/STORE_MULTIPLE
 *	address not 4-byte aligned; a CALL/JUMP address or length not a multiple
 *	of 8, or a range that wraps; a sync object not naturally aligned; an
 *	undefined scope, condition or flush mode. Named after the Mali CS
 *	exception CS_INSTR_INVALID.
 * @MOCK_CS_CALL_STACK_OVERFLOW: a CALL beyond MOCK_CS_CALL_DEPTH. Named after
 *	the Mali CS exception CS_CALL_STACK_OVERFLOW.
 * @MOCK_CS_SYNC_REJECTED: SYNC_WAIT with the reject bit found the object's
 *	status non-zero; @fault_va is the object's VA. Our name (hardware reports
 *	an inherited error here; mali.md does not give its code).
 * @MOCK_CS_WAIT_ABORTED: a SYNC_WAIT's wait_event() gave up; @error is its
 *	errno. Our name: hardware waits forever, the kernel's job timeout ends it.
 * @MOCK_CS_BUDGET_EXHAUSTED: MOCK_CS_INSN_BUDGET steps ran. Our name.
 *
 * The numbers are ours. mali.md gives no CS exception codes, so these are not
 * hardware values and must not be reported as such.
 */
enum mock_cs_status {
	MOCK_CS_COMPLETED = 0,
	MOCK_CS_MMU_FAULT,
	MOCK_CS_INSTR_INVALID,
	MOCK_CS_CALL_STACK_OVERFLOW,
	MOCK_CS_SYNC_REJECTED,
	MOCK_CS_WAIT_ABORTED,
	MOCK_CS_BUDGET_EXHAUSTED,
};

/**
 * struct mock_cs_env_ops - what a stream does to the world
 *
 * The device implements these with its address space, TLB and MMU. Memory is
 * little-endian. Every access is at most 16 bytes but may cross a page.
 *
 * @read: Mandatory. Read @len bytes at GPU VA @va into @buf. @exec is set for
 *	an instruction fetch, so that a fault reports access type 1 (exec). The
 *	CS front end reads instructions as data: the kernel maps its ring BO
 *	NOEXEC (mali.md section 4) and the firmware runs it, so the device must
 *	not apply XN to a fetch. Return: 0, or a FAULTSTATUS (exception |
 *	access type << 8, never 0) with *@fault_va set to the faulting VA.
 * @write: Mandatory. Write @len bytes at @va; returns as @read.
 * @sync_update: Mandatory. SYNC_ADD (@add) or SYNC_SET of the @bits-bit (32 or
 *	64) value word at @va with @value (truncated to @bits), as one atomic
 *	read-modify-write: the device serializes it against other queues and the
 *	CPU's view and wakes their waiters. Returns as @write.
 * @flush_caches: Optional (NULL: the device has no caches, nothing to do).
 *	FLUSH_CACHE2 with its modes (enum mock_cs_flush_mode) for the L2, the
 *	load/store caches and the other caches, and the flush id (0:
 *	unconditional; else the device may skip a flush already done since).
 * @wait_event: Mandatory. A SYNC_WAIT's condition does not hold yet: block
 *	until memory may have changed or the job must stop. Return: 0 to
 *	re-check, or a negative errno to give up (-ETIMEDOUT, -ECANCELED), which
 *	the run reports as MOCK_CS_WAIT_ABORTED.
 */
struct mock_cs_env_ops {
	uint32_t (*read)(void *ctx, uint64_t va, void *buf, size_t len, bool exec,
			 uint64_t *fault_va);
	uint32_t (*write)(void *ctx, uint64_t va, const void *buf, size_t len, uint64_t *fault_va);
	uint32_t (*sync_update)(void *ctx, uint64_t va, unsigned int bits, bool add, uint64_t value,
				uint64_t *fault_va);
	void (*flush_caches)(void *ctx, unsigned int l2, unsigned int lsc, unsigned int other,
			     uint32_t flush_id);
	int (*wait_event)(void *ctx);
};

/**
 * struct mock_cs_queue_state - what a queue keeps from one run to the next
 * @regs: r0-r95.
 * @sb_pending: per scoreboard slot, asynchronous operations issued and not yet
 *	complete. Always 0 between instructions in this model.
 * @sb_signalled: per slot, asynchronous operations that signalled it (ever).
 * @error: the queue's error state; 0 none. See "command-stream model".
 *
 * Zero it for a new queue; the device owns it.
 */
struct mock_cs_queue_state {
	uint32_t regs[MOCK_CS_REGS];
	uint32_t sb_pending[MOCK_CS_SB_SLOTS];
	uint64_t sb_signalled[MOCK_CS_SB_SLOTS];
	uint32_t error;
};

/**
 * struct mock_cs_result - how a run ended
 * @status: enum mock_cs_status.
 * @fault: MOCK_CS_MMU_FAULT: the FAULTSTATUS the env returned; else 0.
 * @fault_va: MOCK_CS_MMU_FAULT: the faulting VA; MOCK_CS_SYNC_REJECTED: the
 *	sync object's VA; else 0.
 * @error: MOCK_CS_WAIT_ABORTED: wait_event()'s negative errno; else 0.
 * @insn_va: VA of the instruction that stopped the stream: the one whose
 *	fetch faulted, or that raised the exception. MOCK_CS_BUDGET_EXHAUSTED
 *	between instructions gives the next one, not fetched; in a SYNC_WAIT,
 *	that SYNC_WAIT. 0 when completed.
 * @insn: its encoding (0 if it was not fetched).
 * @executed: instructions that completed (the stopping one is not counted).
 */
struct mock_cs_result {
	int status;
	uint32_t fault;
	uint64_t fault_va;
	int error;
	uint64_t insn_va;
	uint64_t insn;
	uint64_t executed;
};

/**
 * mock_cs_run() - run a command stream to its end or its first exception
 * @ops: the environment (see struct mock_cs_env_ops for mandatory members).
 * @ctx: passed to every op.
 * @q: the queue's registers, scoreboard and error state; updated in place.
 * @va: first instruction, a multiple of 8.
 * @size: bytes to run, a multiple of 8; 0 completes at once.
 * @out: how the run ended; filled when 0 is returned.
 *
 * Side effects of the instructions before the stopping one stay (memory,
 * registers, @q). A faulting LOAD_MULTIPLE changes no register; a faulting
 * STORE_MULTIPLE has written the words below the faulting one.
 *
 * Context: calls @ops from the calling thread; may sleep in wait_event(). One
 * run at a time per @q. Does not allocate.
 * Return: 0 when the stream ran (whatever @out->status says), -EINVAL when a
 * mandatory op, @q or @out is missing, @va or @size is not a multiple of 8,
 * the range wraps, or @q has operations pending on its scoreboard (nothing
 * in this model would complete them); then @q and @out are untouched.
 */
int mock_cs_run(const struct mock_cs_env_ops *ops, void *ctx, struct mock_cs_queue_state *q,
		uint64_t va, uint64_t size, struct mock_cs_result *out);

/*
 * Encoders, for the device's ring wrapper and for tests. They place fields as
 * mali.md section 5 lays them out and check nothing: mock_cs_run() does.
 */
static inline uint64_t mock_cs_insn(enum mock_cs_opcode op, uint64_t fields)
{
	return (uint64_t)op << 56 | (fields & ((1ull << 56) - 1));
}

static inline uint64_t mock_cs_nop(void)
{
	return mock_cs_insn(MOCK_CS_OP_NOP, 0);
}

static inline uint64_t mock_cs_move48(unsigned int d, uint64_t imm)
{
	return mock_cs_insn(MOCK_CS_OP_MOVE48, (uint64_t)d << 48 | (imm & ((1ull << 48) - 1)));
}

static inline uint64_t mock_cs_move32(unsigned int r, uint32_t imm)
{
	return mock_cs_insn(MOCK_CS_OP_MOVE32, (uint64_t)r << 48 | imm);
}

static inline uint64_t mock_cs_wait(uint16_t mask)
{
	return mock_cs_insn(MOCK_CS_OP_WAIT, (uint64_t)mask << 16);
}

/* LOAD_MULTIPLE/STORE_MULTIPLE: r[base + i] <-> mem32[d[addr] + offset + 4i]. */
static inline uint64_t mock_cs_ldst(enum mock_cs_opcode op, unsigned int base, unsigned int addr,
				    uint16_t mask, int16_t offset)
{
	return mock_cs_insn(op, (uint64_t)base << 48 | (uint64_t)addr << 40 | (uint64_t)mask << 16 |
					(uint16_t)offset);
}

/* CALL/JUMP: r[len] bytes at d[addr]. */
static inline uint64_t mock_cs_branch(enum mock_cs_opcode op, unsigned int addr, unsigned int len)
{
	return mock_cs_insn(op, (uint64_t)addr << 40 | (uint64_t)len << 32);
}

static inline uint64_t mock_cs_flush_cache2(unsigned int l2, unsigned int lsc, unsigned int other,
					    unsigned int id_reg, uint16_t wait, unsigned int slot)
{
	return mock_cs_insn(MOCK_CS_OP_FLUSH_CACHE2,
			    (uint64_t)(slot & 0xf) << 48 | (uint64_t)id_reg << 40 |
				    (uint64_t)wait << 16 | (other & 0xf) << 8 | (lsc & 0xf) << 4 |
				    (l2 & 0xf));
}

/* SYNC_ADD32/SET32/ADD64/SET64: mem[d[addr]] +=/= r[data] (64-bit: d[data]). */
static inline uint64_t mock_cs_sync_update(enum mock_cs_opcode op, bool errprop,
					   enum mock_cs_scope scope, unsigned int data,
					   unsigned int addr, uint16_t wait, unsigned int slot)
{
	return mock_cs_insn(op, (uint64_t)(slot & 0xf) << 48 | (uint64_t)addr << 40 |
					(uint64_t)data << 32 | (uint64_t)wait << 16 |
					((unsigned int)scope & 3) << 1 | errprop);
}

/* SYNC_WAIT32/64: until mem[d[addr]] COND r[data] (64-bit: d[data]). */
static inline uint64_t mock_cs_sync_wait(enum mock_cs_opcode op, bool reject,
					 enum mock_cs_cond cond, unsigned int data,
					 unsigned int addr)
{
	return mock_cs_insn(op, (uint64_t)addr << 40 | (uint64_t)data << 32 |
					(uint64_t)((unsigned int)cond & 0xf) << 28 | reject);
}

static inline uint64_t mock_cs_error_barrier(void)
{
	return mock_cs_insn(MOCK_CS_OP_ERROR_BARRIER, 0);
}

#endif /* GPUVM_MOCK_CS_H */
