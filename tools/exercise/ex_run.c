// SPDX-License-Identifier: MIT
/*
 * Running a step on the device and on the model, and checking the result
 * through the GPU: after each step, every page the step touched (all of them
 * for small ranges, a sample of large ones) and the pages just outside it are
 * read, and sometimes written, by the mock GPU, and the result compared with
 * what the model says.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <gpuvm/panthor_drm.h>

#include "ex.h"

#define MAX_REPORTS 20
#define FULL_CHECK_PAGES 32

static void mismatch(struct ex *ex, const struct ex_step *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mismatch(struct ex *ex, const struct ex_step *step, const char *fmt, ...)
{
	va_list ap;

	if (ex->mismatches++ >= MAX_REPORTS)
		return;
	fprintf(ex->log, "gpuvm-exercise: MISMATCH at step %" PRIu64, ex->steps + 1);
	if (step && step->line)
		fprintf(ex->log, " (script line %u)", step->line);
	fputs(": ", ex->log);
	va_start(ap, fmt);
	vfprintf(ex->log, fmt, ap);
	va_end(ap);
	fputc('\n', ex->log);
	if (step) {
		fputs("  step: ", ex->log);
		ex_step_print(ex, step, ex->log);
	}
}

static bool is_translation_fault(uint32_t fault)
{
	uint32_t e = GPUVM_MOCK_FAULT_EXCEPTION(fault);

	return e >= GPUVM_MOCK_FAULT_TRANSLATION(0) && e <= GPUVM_MOCK_FAULT_TRANSLATION(3);
}

static bool is_permission_fault(uint32_t fault)
{
	uint32_t e = GPUVM_MOCK_FAULT_EXCEPTION(fault);

	return e >= GPUVM_MOCK_FAULT_PERMISSION(0) && e <= GPUVM_MOCK_FAULT_PERMISSION(3) &&
	       GPUVM_MOCK_FAULT_ACCESS_TYPE(fault) == GPUVM_MOCK_FAULT_ACCESS_WRITE;
}

/* Compare what the GPU read at @va with expectation @e. */
static void compare_read(struct ex *ex, const struct ex_step *step, unsigned int vm, uint64_t va,
			 const struct ex_expectation *e, uint64_t got, uint32_t fault)
{
	uint64_t want;

	if (e->kind == EX_EXPECT_FAULT) {
		if (!fault || !is_translation_fault(fault))
			mismatch(ex, step,
				 "vm %u va 0x%" PRIx64 ": expected a translation fault, the GPU "
				 "read 0x%016" PRIx64 " (fault status 0x%x)",
				 vm, va, got, fault);
		ex->expected_faults++;
		return;
	}
	if (fault) {
		mismatch(ex, step, "vm %u va 0x%" PRIx64 ": expected data, the GPU faulted (0x%x)",
			 vm, va, fault);
		return;
	}
	if (e->kind == EX_EXPECT_SPARSE) {
		if (!ex_model_dummy(ex->vm[vm].model, va, &want)) {
			ex_model_set_dummy(ex->vm[vm].model, va, got);
			return;
		}
	} else {
		want = ex_word(e->bo, e->bo_offset);
	}
	if (got != want)
		mismatch(ex, step,
			 "vm %u va 0x%" PRIx64 ": expected 0x%016" PRIx64 " (%s), the GPU read "
			 "0x%016" PRIx64,
			 vm, va, want, e->kind == EX_EXPECT_SPARSE ? "the dummy page" : "BO word",
			 got);
}

/* Write through the GPU: a read-only page must refuse, a writable one take it. */
static void check_write(struct ex *ex, const struct ex_step *step, unsigned int vm, uint64_t va,
			const struct ex_expectation *e)
{
	uint64_t value = e->kind == EX_EXPECT_BO ? ex_word(e->bo, e->bo_offset) : ex_rand(&ex->rng);
	uint32_t fault;

	if (ex_dev_write(ex, vm, va, value, &fault))
		return;
	if (e->flags & EX_RO) {
		if (!is_permission_fault(fault))
			mismatch(ex, step,
				 "vm %u va 0x%" PRIx64 ": a read-only page took a GPU write "
				 "(fault status 0x%x)",
				 vm, va, fault);
		ex->expected_faults++;
	} else if (fault) {
		mismatch(ex, step, "vm %u va 0x%" PRIx64 ": a GPU write faulted (0x%x)", vm, va,
			 fault);
	} else if (e->kind == EX_EXPECT_SPARSE) {
		ex_model_set_dummy(ex->vm[vm].model, va, value);
	}
}

/* Check one word of page @page of VM @vm against the model. */
static void check_page(struct ex *ex, const struct ex_step *step, unsigned int vm, uint64_t page)
{
	uint64_t va = page + ex_below(&ex->rng, EX_PAGE / 8) * 8, got = 0;
	struct ex_expectation e;
	uint32_t fault;

	if (page >= ex->vm[vm].user_va_range)
		return;
	ex_model_lookup(ex->vm[vm].model, va, &e);
	if (ex_dev_read(ex, vm, va, &got, &fault)) {
		mismatch(ex, step, "vm %u va 0x%" PRIx64 ": the GPU access ioctl failed", vm, va);
		return;
	}
	compare_read(ex, step, vm, va, &e, got, fault);
	if (e.kind != EX_EXPECT_FAULT && ex_below(&ex->rng, 4) == 0)
		check_write(ex, step, vm, va, &e);
}

/* The pages of [va, va + size) (a sample of big ranges) and both neighbours. */
static void check_range(struct ex *ex, const struct ex_step *step, unsigned int vm, uint64_t va,
			uint64_t size)
{
	uint64_t n = size / EX_PAGE;

	if (!ex->mock)
		return;
	if (va >= EX_PAGE)
		check_page(ex, step, vm, va - EX_PAGE);
	check_page(ex, step, vm, va + size);
	if (n <= FULL_CHECK_PAGES) {
		for (uint64_t i = 0; i < n; i++)
			check_page(ex, step, vm, va + i * EX_PAGE);
		return;
	}
	for (uint64_t i = 0; i < 8; i++) {
		check_page(ex, step, vm, va + i * EX_PAGE);
		check_page(ex, step, vm, va + size - (i + 1) * EX_PAGE);
	}
	for (unsigned int i = 0; i < 16; i++)
		check_page(ex, step, vm, va + ex_below(&ex->rng, n) * EX_PAGE);
}

static void check_step(struct ex *ex, const struct ex_step *step)
{
	for (unsigned int i = 0; i < step->nr_ops; i++)
		check_range(ex, step, step->vm, step->ops[i].va, step->ops[i].size);
}

/*
 * Run @step's ops on a copy of the model (ex->scratch): false when the VM
 * must refuse one of them, which makes the whole array -EINVAL.
 */
static bool simulate(struct ex *ex, const struct ex_step *step)
{
	if (ex_model_copy(ex->scratch, ex->vm[step->vm].model))
		return false;
	for (unsigned int i = 0; i < step->nr_ops; i++) {
		if (!ex_model_allows(ex->scratch, &step->ops[i]) ||
		    ex_model_apply(ex->scratch, &step->ops[i]))
			return false;
	}
	return true;
}

/* The step took effect: the simulated model becomes the model. */
static void commit(struct ex *ex, const struct ex_step *step)
{
	struct ex_model *m = ex->vm[step->vm].model;

	ex->vm[step->vm].model = ex->scratch;
	ex->scratch = m;
}

static int run_sync(struct ex *ex, const struct ex_step *step)
{
	bool allowed = simulate(ex, step);
	int err = ex_dev_bind(ex, step, 0, step->nr_ops, 0, NULL, NULL);

	if (allowed && err)
		mismatch(ex, step, "VM_BIND failed: %s", strerror(-err));
	else if (!allowed && err != -EINVAL)
		mismatch(ex, step,
			 "VM_BIND returned %d, not -EINVAL for a repeat mapping cut "
			 "off its period",
			 err);
	if (allowed && !err)
		commit(ex, step);
	check_step(ex, step);
	return 0;
}

static int run_invalid(struct ex *ex, const struct ex_step *step)
{
	int err = ex_dev_bind(ex, step, 0, step->nr_ops, 0, NULL, NULL);

	if (err != -EINVAL)
		mismatch(ex, step, "an invalid VM_BIND (op %u, rule %u) returned %d, not -EINVAL",
			 step->bad_op, step->bad_kind, err);
	check_step(ex, step); /* nothing changed: no op of the array was applied */
	return 0;
}

/*
 * An async chain: bind i waits for point g + i and signals g + i + 1 of the
 * VM's timeline. On the mock, point g is a fence the exerciser holds back
 * until every bind is queued, and nothing may have changed before it is
 * released; on a real device the CPU signals it first.
 */
static int run_async(struct ex *ex, const struct ex_step *step)
{
	struct ex_vm *vm = &ex->vm[step->vm];
	uint64_t gate = vm->point + 1;
	uint32_t fence = 0;
	int err = ex->mock ? ex_dev_gate(ex, step->vm, gate, &fence) :
			     ex_dev_signal(ex, step->vm, gate);

	for (unsigned int i = 0; i < step->nr_ops && !err; i++) {
		uint64_t wait = gate + i, signal = gate + i + 1;

		err = ex_dev_bind(ex, step, i, 1, DRM_PANTHOR_VM_BIND_ASYNC, &wait, &signal);
	}
	if (!err && fence)
		check_step(ex, step); /* still the old layout: the gate holds every bind */
	if (fence && ex_dev_release(ex, step->vm, fence) && !err)
		err = -EIO;
	if (!err)
		err = ex_dev_wait(ex, step->vm, gate + step->nr_ops);
	if (!err)
		err = ex_dev_vm_usable(ex, step->vm);
	vm->point = gate + step->nr_ops;
	if (err) {
		mismatch(ex, step, "async chain failed: %s", strerror(-err));
		return err;
	}
	if (simulate(ex, step))
		commit(ex, step);
	else
		mismatch(ex, step, "an async chain the VM must refuse was accepted");
	check_step(ex, step);
	return 0;
}

/* A script's expectation, compared with the GPU (not with the model). */
static int run_expect(struct ex *ex, const struct ex_step *step)
{
	struct ex_expectation e = { .kind = step->expect,
				    .bo = step->ops[0].bo,
				    .bo_offset = step->ops[0].bo_offset };
	uint64_t va = step->ops[0].va, got = 0;
	uint32_t fault;

	if (!ex->mock)
		return 0;
	if (ex_dev_read(ex, step->vm, va, &got, &fault)) {
		mismatch(ex, step, "the GPU access ioctl failed");
		return 0;
	}
	compare_read(ex, step, step->vm, va, &e, got, fault);
	return 0;
}

int ex_run_step(struct ex *ex, const struct ex_step *step)
{
	int err;

	switch (step->kind) {
	case EX_STEP_ASYNC:
		err = run_async(ex, step);
		break;
	case EX_STEP_INVALID:
		err = run_invalid(ex, step);
		break;
	case EX_STEP_EXPECT:
		err = run_expect(ex, step);
		break;
	default:
		err = run_sync(ex, step);
		break;
	}
	ex->steps++;
	ex->ops += step->kind == EX_STEP_EXPECT ? 0 : step->nr_ops;
	return err;
}

/* At the end: every extent of every VM, and random probes around them. */
void ex_check_all(struct ex *ex)
{
	for (unsigned int v = 0; v < ex->nr_vms; v++) {
		struct ex_model *m = ex->vm[v].model;
		struct ex_op x;

		for (unsigned int i = 0; ex_model_extent(m, i, &x) == 0; i++)
			check_range(ex, NULL, v, x.va, x.size);
		for (unsigned int i = 0; i < 64; i++)
			check_range(ex, NULL, v, ex_gen_probe(ex), EX_PAGE);
	}
}
