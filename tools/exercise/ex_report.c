// SPDX-License-Identifier: MIT
/* The progress bar and the summary of gpuvm-exercise. */
#include <inttypes.h>
#include <unistd.h>

#include "ex.h"

#define BAR_WIDTH 40

void ex_progress(const struct ex *ex, uint64_t done, uint64_t total)
{
	static double last;
	double now = ex_now();
	unsigned int fill = total ? (unsigned int)(done * BAR_WIDTH / total) : BAR_WIDTH;
	char bar[BAR_WIDTH + 1];

	if (!ex->cfg.progress || (now - last < 0.05 && done < total))
		return;
	last = now;
	for (unsigned int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr,
		"\r[%s] %" PRIu64 "/%" PRIu64 " steps, %" PRIu64 " checks, %" PRIu64 " mismatches ",
		bar, done, total, ex->checks, ex->mismatches);
	fflush(stderr);
}

void ex_progress_end(const struct ex *ex)
{
	if (ex->cfg.progress)
		fprintf(stderr, "\r%*s\r", BAR_WIDTH + 60, "");
}

static double ops_per_s(const struct ex *ex)
{
	return ex->elapsed_s > 0 ? (double)ex->ops / ex->elapsed_s : 0;
}

static void report_mock(const struct ex *ex, FILE *out)
{
	const struct ex_counters *c = &ex->counters;

	fprintf(out, "  GPU checks        %12" PRIu64 "  (reads and writes through the MMU)\n",
		ex->checks);
	if (c->have_tables)
		fprintf(out,
			"  table pages       %12" PRIu64 "  (%" PRIu64
			" bytes in use at the end)\n",
			c->table_pages, c->table_bytes);
	else
		fputs("  table pages                n/a  (this mock cannot report them)\n", out);
	fprintf(out, "  flushes           %12" PRIu64 "  (page-table flush requests)\n",
		c->flushes);
	fprintf(out, "  faults            %12" PRIu64 "  (%" PRIu64 " expected by the model)\n",
		c->faults, ex->expected_faults);
	fprintf(out, "  stale TLB         %12" PRIu64 "  (must be 0)\n", c->stale);
	fprintf(out, "  freed-table walks %12" PRIu64 "  (must be 0)\n", c->freed_walks);
}

void ex_report(const struct ex *ex, FILE *out)
{
	fprintf(out, "gpuvm-exercise: seed %" PRIu64 ", %u files, %u VMs, %u BOs, %s\n",
		ex->cfg.seed, ex->cfg.files, ex->nr_vms, ex->nr_bos,
		ex->cfg.device ? ex->cfg.device : "mock device (shim)");
	fprintf(out, "  steps             %12" PRIu64 "  (%" PRIu64 " VM_BIND ioctls)\n", ex->steps,
		ex->binds);
	fprintf(out, "  ops               %12" PRIu64 "\n", ex->ops);
	fprintf(out, "  ops/s             %12.0f  (%.3f s)\n", ops_per_s(ex), ex->elapsed_s);
	if (ex->mock)
		report_mock(ex, out);
	else
		fputs("  not checkable on this device: translations (no mock GPU access ioctl),\n"
		      "  table pages, flushes, faults and stale TLB entries (no mock counters);\n"
		      "  checked: every ioctl's result\n",
		      out);
	fprintf(out, "  mismatches        %12" PRIu64 "  (must be 0)\n", ex->mismatches);
	fprintf(out, "result: %s\n", ex_failed(ex) ? "FAILED" : "OK");
}

/* A counter as JSON: null when the device cannot report it. */
static void json_counter(FILE *out, const char *name, bool known, uint64_t value)
{
	if (known)
		fprintf(out, ", \"%s\": %" PRIu64, name, value);
	else
		fprintf(out, ", \"%s\": null", name);
}

void ex_report_json(const struct ex *ex, FILE *out)
{
	const struct ex_counters *c = &ex->counters;
	bool tables = ex->mock && c->have_tables;

	fprintf(out,
		"{\"seed\": %" PRIu64 ", \"mock\": %s, \"steps\": %" PRIu64 ", \"ops\": %" PRIu64
		", \"binds\": %" PRIu64 ", \"elapsed_s\": %.6f, \"ops_per_s\": %.1f",
		ex->cfg.seed, ex->mock ? "true" : "false", ex->steps, ex->ops, ex->binds,
		ex->elapsed_s, ops_per_s(ex));
	json_counter(out, "checks", ex->mock, ex->checks);
	json_counter(out, "table_pages", tables, c->table_pages);
	json_counter(out, "table_bytes", tables, c->table_bytes);
	json_counter(out, "flushes", ex->mock, c->flushes);
	json_counter(out, "faults", ex->mock, c->faults);
	json_counter(out, "expected_faults", ex->mock, ex->expected_faults);
	json_counter(out, "stale_tlb", ex->mock, c->stale);
	json_counter(out, "freed_table_walks", ex->mock, c->freed_walks);
	fprintf(out, ", \"mismatches\": %" PRIu64 ", \"ok\": %s}\n", ex->mismatches,
		ex_failed(ex) ? "false" : "true");
}

bool ex_failed(const struct ex *ex)
{
	return ex->mismatches || ex->counters.stale || ex->counters.freed_walks;
}
