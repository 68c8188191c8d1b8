// SPDX-License-Identifier: MIT
/* A whole exerciser run: open, set up, run the steps, check, report. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ex.h"

/* The random workload: --ops steps from the seed. */
static void run_random(struct ex *ex)
{
	struct ex_step step;

	for (uint64_t i = 0; i < ex->cfg.ops; i++) {
		ex_gen_step(ex, &step);
		if (ex->cfg.print_script)
			ex_step_print(ex, &step, stdout);
		ex_run_step(ex, &step);
		if ((long)i + 1 == ex->cfg.plant_mismatch)
			ex_model_corrupt(ex->vm[step.vm].model, step.ops[0].va);
		ex_progress(ex, i + 1, ex->cfg.ops);
	}
}

static int run_script(struct ex *ex)
{
	struct ex_script *s;
	struct ex_step step;
	int ret = ex_script_open(ex->cfg.script, &s);

	if (ret) {
		fprintf(stderr, "gpuvm-exercise: cannot open %s: %s\n", ex->cfg.script,
			strerror(-ret));
		return ret;
	}
	while ((ret = ex_script_next(s, ex, &step)) > 0) {
		if (ex->cfg.print_script)
			ex_step_print(ex, &step, stdout);
		ex_run_step(ex, &step);
		if ((long)ex->steps == ex->cfg.plant_mismatch)
			ex_model_corrupt(ex->vm[step.vm].model, step.ops[0].va);
		ex_progress(ex, ex->steps, ex->steps);
	}
	ex_script_close(s);
	return ret;
}

static void teardown(struct ex *ex)
{
	for (unsigned int v = 0; v < ex->nr_vms; v++)
		ex_model_destroy(ex->vm[v].model);
	ex_model_destroy(ex->scratch);
	ex_dev_close(ex);
}

int ex_exercise(struct ex *ex)
{
	double start;
	int err = ex_model_create(&ex->scratch);

	if (!err)
		err = ex_dev_open(ex);
	if (!err)
		err = ex_dev_setup(ex);
	if (err) {
		teardown(ex);
		return 2;
	}
	start = ex_now();
	if (ex->cfg.script)
		err = run_script(ex);
	else
		run_random(ex);
	ex->elapsed_s = ex_now() - start;
	for (unsigned int v = 0; ex->inspect && v < ex->nr_vms; v++)
		ex->inspect(ex, ex->fd[ex->vm[v].file], ex->vm[v].id, ex->inspect_ctx);
	ex_check_all(ex);
	ex_progress_end(ex);
	if (ex->mock)
		ex_dev_counters(ex, &ex->counters);
	teardown(ex);
	if (err)
		return 2;
	if (ex->cfg.json)
		ex_report_json(ex, stdout);
	else if (!ex->cfg.quiet)
		ex_report(ex, stdout);
	return ex_failed(ex) ? 1 : 0;
}
