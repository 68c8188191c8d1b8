/* SPDX-License-Identifier: MIT */
/*
 * gpuvm-exercise: a VM_BIND workload against a panthor device (the gpuvm
 * mock through its LD_PRELOAD shim, or a real node), checked against a
 * reference model of every VM's layout through GPU accesses.
 *
 * DOC: parts
 *
 * - ex_dev.c: the device, through libdrm: files, BOs (filled with a pattern
 *   that names every 8-byte word), VMs, VM_BIND, syncobjs, the mock-only GPU
 *   access and counter ioctls.
 * - ex_model.c: the reference model: per VM, the sorted extents userspace
 *   asked for, and what the GPU must read at any VA.
 * - ex_gen.c: the workload: random steps from a seed, or a script.
 * - ex_run.c: runs each step on the device and the model, then checks the
 *   touched ranges and their neighbours through the GPU.
 * - ex_report.c: progress bar and summary (text or JSON).
 *
 * DOC: vocabulary
 *
 * A step is one VM_BIND ioctl (one op array) or one async chain of them; an
 * op is one element of an op array. A check is one GPU access compared with
 * the model; a mismatch is a check whose result differs from the model.
 */
#ifndef GPUVM_TOOLS_EX_H
#define GPUVM_TOOLS_EX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EX_PAGE 4096ull
#define EX_BLOCK (2ull << 20)
#define EX_MAX_FILES 8
#define EX_MAX_VMS 16
#define EX_MAX_BOS 64
#define EX_MAX_OPS 8 /* ops per step (an array, or an async chain) */

/* Op kinds: what the user asked for, as the model records it. */
enum ex_kind {
	EX_MAP = 1, /* a BO range */
	EX_REPEAT,  /* a BO range repeated (GPUVM_VM_BIND_OP_MAP_REPEAT) */
	EX_SPARSE,  /* the VM's dummy page repeated (MAP_SPARSE) */
	EX_UNMAP,
};

/* Op flags (struct ex_op.flags). */
#define EX_RO (1u << 0)       /* MAP_READONLY */
#define EX_NOEXEC (1u << 1)   /* MAP_NOEXEC */
#define EX_UNCACHED (1u << 2) /* MAP_UNCACHED */

/**
 * struct ex_op - one op of a VM_BIND.
 * @kind: enum ex_kind.
 * @flags: EX_RO, EX_NOEXEC, EX_UNCACHED.
 * @bo: global BO index (EX_MAP, EX_REPEAT).
 * @bo_offset: byte offset in the BO.
 * @range: EX_REPEAT: bytes of BO repeated.
 * @va: first byte.
 * @size: bytes.
 */
struct ex_op {
	enum ex_kind kind;
	uint32_t flags;
	unsigned int bo;
	uint64_t bo_offset, range, va, size;
};

/* Step kinds: how the ops reach the device. */
enum ex_step_kind {
	EX_STEP_SYNC = 1, /* one synchronous VM_BIND of @nr_ops ops */
	EX_STEP_ASYNC,    /* @nr_ops ASYNC VM_BINDs chained on a timeline */
	EX_STEP_INVALID,  /* a sync VM_BIND whose op @bad_op breaks a rule: -EINVAL, no change */
	EX_STEP_EXPECT,   /* scripts: the GPU must read @expect at @va */
};

/* How an EX_STEP_INVALID op breaks the rules: every one is -EINVAL. */
enum ex_bad {
	EX_BAD_VA_ALIGN,   /* va not page-aligned */
	EX_BAD_SIZE_ALIGN, /* size not page-aligned */
	EX_BAD_SIZE_ZERO,  /* MAP of 0 bytes */
	EX_BAD_BO_RANGE,   /* bo_offset + size past the BO */
	EX_BAD_FLAG,       /* an unknown op flag bit */
	EX_BAD_VA_RANGE,   /* past the VM's user VA range */
	EX_BAD_COUNT,
};

/* What a script says the GPU reads at an address (EX_STEP_EXPECT). */
enum ex_expect {
	EX_EXPECT_FAULT = 1, /* no translation */
	EX_EXPECT_BO,        /* the word of BO @bo at @bo_offset */
	EX_EXPECT_SPARSE,    /* the VM's dummy page */
};

/**
 * struct ex_step - one unit of the workload.
 * @kind: enum ex_step_kind.
 * @vm: global VM index.
 * @nr_ops: ops in @ops.
 * @ops: the ops, in order.
 * @bad_op: EX_STEP_INVALID: which op is made invalid.
 * @bad_kind: EX_STEP_INVALID: how (enum ex_bad).
 * @expect: EX_STEP_EXPECT: enum ex_expect, with @ops[0].va, .bo, .bo_offset.
 * @line: scripts: the source line, for messages (0 for random steps).
 */
struct ex_step {
	enum ex_step_kind kind;
	unsigned int vm;
	unsigned int nr_ops;
	struct ex_op ops[EX_MAX_OPS];
	unsigned int bad_op;
	unsigned int bad_kind;
	enum ex_expect expect;
	unsigned int line;
};

/* A BO of the workload: created on one file, imported into the others. */
struct ex_bo {
	uint64_t size;
	unsigned int owner;            /* the file that created it */
	uint32_t handle[EX_MAX_FILES]; /* per file, 0 = not imported */
};

/* A VM of the workload. */
struct ex_vm {
	unsigned int file;
	uint32_t id;
	uint64_t user_va_range;
	uint32_t timeline; /* a timeline syncobj of its file for async chains */
	uint64_t point;    /* its last point */
	struct ex_model *model;
};

/* The mock's counters that the summary shows (all 0 on a real device). */
struct ex_counters {
	bool have_tables; /* the device reports its table memory */
	uint64_t table_pages, table_bytes;
	uint64_t flushes, faults, stale, freed_walks, tlb_hits, tlb_misses;
};

/**
 * struct ex_cfg - command line.
 */
struct ex_cfg {
	uint64_t seed;
	unsigned int ops;   /* random steps */
	unsigned int files; /* open files */
	unsigned int vms;   /* VMs per file */
	unsigned int bos;   /* BOs per file */
	const char *device; /* NULL: the mock through the shim */
	const char *script; /* NULL: random */
	const char *replay; /* a trace to replay instead */
	bool json, quiet, progress, verbose, print_script;
	long plant_mismatch; /* -1: none; else the step whose model is corrupted */
};

/**
 * struct ex - the whole run.
 */
struct ex {
	struct ex_cfg cfg;
	int fd[EX_MAX_FILES];
	bool mock;      /* the mock-only ioctls answer */
	int uapi_minor; /* the driver's minor version: 1.4 labels, 1.7 BO_SYNC */
	unsigned int nr_vms, nr_bos;
	struct ex_vm vm[EX_MAX_VMS];
	struct ex_bo bo[EX_MAX_BOS];
	uint64_t rng;
	struct ex_model *scratch; /* what a step would leave, before it runs */
	/* Results. */
	uint64_t steps, ops, binds, checks, mismatches, errors, expected_faults;
	double elapsed_s;
	struct ex_counters counters;
	FILE *log; /* mismatch reports (stderr) */
	/*
	 * Tools built on the exerciser (gpuvm-ptdump): called with each VM as it
	 * ends (a replay: when it is destroyed or its file closed) and with those
	 * still alive when the run stops, before the final checks: the VM's file
	 * descriptor and id. Replays stop after ioctl @stop_after (-1: at the end).
	 */
	void (*inspect)(struct ex *ex, int fd, uint32_t vm_id, void *ctx);
	void *inspect_ctx;
	long stop_after;
};

/* ex_util.c */
uint64_t ex_rand(uint64_t *state);
uint64_t ex_below(uint64_t *state, uint64_t n);
uint64_t ex_word(unsigned int bo, uint64_t offset);
double ex_now(void);

/* ex_dev.c */
int ex_dev_open(struct ex *ex);
void ex_dev_close(struct ex *ex);
int ex_dev_setup(struct ex *ex);
int ex_dev_bind(struct ex *ex, const struct ex_step *step, unsigned int first, unsigned int n,
		uint32_t bind_flags, const uint64_t *wait_point, const uint64_t *signal_point);
int ex_dev_signal(struct ex *ex, unsigned int vm, uint64_t point);
int ex_dev_wait(struct ex *ex, unsigned int vm, uint64_t point);
/* 0 while the VM is usable, -EIO once an async bind failed in it. */
int ex_dev_vm_usable(struct ex *ex, unsigned int vm);
/* Mock only: a pending fence at @point of the VM's timeline, and its release. */
int ex_dev_gate(struct ex *ex, unsigned int vm, uint64_t point, uint32_t *fence);
int ex_dev_release(struct ex *ex, unsigned int vm, uint32_t fence);
/* GPU read of 8 bytes at @va: 0 and @value, or the FAULTSTATUS; <0 on error. */
int ex_dev_read(struct ex *ex, unsigned int vm, uint64_t va, uint64_t *value, uint32_t *fault);
int ex_dev_write(struct ex *ex, unsigned int vm, uint64_t va, uint64_t value, uint32_t *fault);
int ex_dev_counters(struct ex *ex, struct ex_counters *c);

/* ex_model.c */
struct ex_model;
/* What the GPU must see at one VA. */
struct ex_expectation {
	enum ex_expect kind;
	unsigned int bo;
	uint64_t bo_offset; /* of the 8-byte word */
	uint32_t flags;
};
int ex_model_create(struct ex_model **out);
void ex_model_destroy(struct ex_model *m);
int ex_model_apply(struct ex_model *m, const struct ex_op *op);
void ex_model_lookup(const struct ex_model *m, uint64_t va, struct ex_expectation *e);
unsigned int ex_model_count(const struct ex_model *m);
/*
 * Does the VM take @op? A repeat mapping may only be cut a whole number of
 * periods from where its pattern starts (gvm's rule): a map or unmap that
 * would cut one elsewhere is -EINVAL.
 */
bool ex_model_allows(const struct ex_model *m, const struct ex_op *op);
/* @dst becomes a copy of @src: 0 or -ENOMEM. */
int ex_model_copy(struct ex_model *dst, const struct ex_model *src);
/* Extent @i (sorted by VA): 0, or -ENOENT past the end. */
int ex_model_extent(const struct ex_model *m, unsigned int i, struct ex_op *out);
/* The dummy page's word at @page_offset, when known. */
bool ex_model_dummy(const struct ex_model *m, uint64_t page_offset, uint64_t *value);
void ex_model_set_dummy(struct ex_model *m, uint64_t page_offset, uint64_t value);
/*
 * Testing the tester: make the expectation of the first BO-backed extent at
 * or after @va wrong (its BO offset moves by one word). False: none exists.
 */
bool ex_model_corrupt(struct ex_model *m, uint64_t va);

/* ex_gen.c */
void ex_gen_bos(struct ex *ex, uint64_t *sizes, unsigned int n);
void ex_gen_step(struct ex *ex, struct ex_step *step);
/* A random page-aligned VA where the workload maps. */
uint64_t ex_gen_probe(struct ex *ex);
struct ex_script;
int ex_script_open(const char *path, struct ex_script **out);
/* 1 and a step, 0 at the end, or -EINVAL (message printed) on a bad line. */
int ex_script_next(struct ex_script *s, struct ex *ex, struct ex_step *step);
void ex_script_close(struct ex_script *s);
void ex_step_print(const struct ex *ex, const struct ex_step *step, FILE *out);

/* ex_run.c */
int ex_run_step(struct ex *ex, const struct ex_step *step);
void ex_check_all(struct ex *ex);

/* ex_main.c: the whole run of --ops/--script; exit status (0, 1 or 2). */
int ex_exercise(struct ex *ex);

/* ex_report.c */
void ex_progress(const struct ex *ex, uint64_t done, uint64_t total);
void ex_progress_end(const struct ex *ex);
void ex_report(const struct ex *ex, FILE *out);
void ex_report_json(const struct ex *ex, FILE *out);
/* Mismatches, stale translations or walks through freed tables. */
bool ex_failed(const struct ex *ex);

#endif /* GPUVM_TOOLS_EX_H */
