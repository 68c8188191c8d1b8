// SPDX-License-Identifier: MIT
/*
 * Scripts of gpuvm-exercise (syntax: DOC: script syntax in ex_gen.c) and the
 * printer that writes any step in that syntax.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ex.h"

struct ex_script {
	FILE *in;
	const char *path;
	unsigned int line;
};

int ex_script_open(const char *path, struct ex_script **out)
{
	struct ex_script *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->in = fopen(path, "r");
	if (!s->in) {
		int err = -errno;

		free(s);
		return err;
	}
	s->path = path;
	*out = s;
	return 0;
}

void ex_script_close(struct ex_script *s)
{
	if (s)
		fclose(s->in);
	free(s);
}

/* A number with an optional K/M/G suffix; false when @tok is not one. */
static bool parse_num(const char *tok, uint64_t *out)
{
	char *end;
	uint64_t v;

	if (!tok)
		return false;
	errno = 0;
	v = strtoull(tok, &end, 0);
	if (errno || end == tok)
		return false;
	switch (*end) {
	case 'K':
		v <<= 10, end++;
		break;
	case 'M':
		v <<= 20, end++;
		break;
	case 'G':
		v <<= 30, end++;
		break;
	default:
		break;
	}
	*out = v;
	return *end == '\0';
}

/* Reads the next whitespace-separated token of the op being parsed. */
static char *tok(char **save)
{
	return strtok_r(NULL, " \t", save);
}

static bool parse_flags(char **save, struct ex_op *op)
{
	for (char *t = tok(save); t; t = tok(save)) {
		if (!strcmp(t, "ro"))
			op->flags |= EX_RO;
		else if (!strcmp(t, "noexec"))
			op->flags |= EX_NOEXEC;
		else if (!strcmp(t, "uncached"))
			op->flags |= EX_UNCACHED;
		else
			return false;
	}
	return true;
}

/* One op ("map 0 1 0 0x1000000 64K ro") of VM @vm. */
static bool parse_op(char *text, unsigned int *vm, struct ex_op *op)
{
	char *save, *kind = strtok_r(text, " \t", &save);
	uint64_t v, bo = 0;
	bool ok;

	memset(op, 0, sizeof(*op));
	if (!kind || !parse_num(tok(&save), &v))
		return false;
	*vm = (unsigned int)v;
	if (!strcmp(kind, "map")) {
		op->kind = EX_MAP;
		ok = parse_num(tok(&save), &bo) && parse_num(tok(&save), &op->bo_offset);
	} else if (!strcmp(kind, "repeat")) {
		op->kind = EX_REPEAT;
		ok = parse_num(tok(&save), &bo) && parse_num(tok(&save), &op->bo_offset) &&
		     parse_num(tok(&save), &op->range);
	} else if (!strcmp(kind, "sparse")) {
		op->kind = EX_SPARSE;
		op->flags = EX_NOEXEC;
		ok = true;
	} else {
		op->kind = EX_UNMAP;
		ok = !strcmp(kind, "unmap");
	}
	op->bo = (unsigned int)bo;
	ok = ok && parse_num(tok(&save), &op->va) && parse_num(tok(&save), &op->size);
	return ok && parse_flags(&save, op);
}

/* "expect VM VA fault|sparse|BO:OFFSET" */
static bool parse_expect(char *text, struct ex_step *step)
{
	char *save, *what, *colon;
	uint64_t vm, bo;

	strtok_r(text, " \t", &save);
	if (!parse_num(tok(&save), &vm) || !parse_num(tok(&save), &step->ops[0].va))
		return false;
	step->vm = (unsigned int)vm;
	step->kind = EX_STEP_EXPECT;
	step->nr_ops = 1;
	what = tok(&save);
	if (!what || tok(&save))
		return false;
	step->expect = !strcmp(what, "fault")  ? EX_EXPECT_FAULT :
		       !strcmp(what, "sparse") ? EX_EXPECT_SPARSE :
						 EX_EXPECT_BO;
	if (step->expect != EX_EXPECT_BO)
		return true;
	colon = strchr(what, ':');
	if (!colon)
		return false;
	*colon = '\0';
	if (!parse_num(what, &bo) || !parse_num(colon + 1, &step->ops[0].bo_offset))
		return false;
	step->ops[0].bo = (unsigned int)bo;
	return true;
}

/* The ops of a line, separated by ';', all on one VM. */
static bool parse_ops(char *text, struct ex_step *step)
{
	char *save, *part;

	for (part = strtok_r(text, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
		unsigned int vm;

		if (step->nr_ops == EX_MAX_OPS || !parse_op(part, &vm, &step->ops[step->nr_ops]))
			return false;
		if (step->nr_ops && vm != step->vm)
			return false;
		step->vm = vm;
		step->nr_ops++;
	}
	return step->nr_ops > 0;
}

/* Indices and ranges the setup can serve. */
static bool step_fits(const struct ex *ex, const struct ex_step *step)
{
	if (step->vm >= ex->nr_vms)
		return false;
	for (unsigned int i = 0; i < step->nr_ops; i++) {
		const struct ex_op *op = &step->ops[i];
		bool uses_bo = op->kind == EX_MAP || op->kind == EX_REPEAT ||
			       (step->kind == EX_STEP_EXPECT && step->expect == EX_EXPECT_BO);

		if (uses_bo && op->bo >= ex->nr_bos)
			return false;
	}
	return true;
}

static bool parse_line(char *text, const struct ex *ex, struct ex_step *step)
{
	bool ok;

	step->kind = EX_STEP_SYNC;
	if (!strncmp(text, "expect", 6)) {
		ok = parse_expect(text, step);
	} else if (!strncmp(text, "async ", 6)) {
		step->kind = EX_STEP_ASYNC;
		ok = parse_ops(text + 6, step);
	} else {
		ok = parse_ops(text, step);
	}
	return ok && step_fits(ex, step);
}

int ex_script_next(struct ex_script *s, struct ex *ex, struct ex_step *step)
{
	char buf[1024];

	while (fgets(buf, sizeof(buf), s->in)) {
		char *text = buf, *hash = strchr(buf, '#');

		s->line++;
		if (hash)
			*hash = '\0';
		text[strcspn(text, "\r\n")] = '\0';
		text += strspn(text, " \t");
		if (!*text)
			continue;
		memset(step, 0, sizeof(*step));
		step->line = s->line;
		if (!parse_line(text, ex, step)) {
			fprintf(stderr, "gpuvm-exercise: %s:%u: cannot read this step\n", s->path,
				s->line);
			return -EINVAL;
		}
		return 1;
	}
	return 0;
}

static void print_flags(uint32_t flags, bool sparse, FILE *out)
{
	if (flags & EX_RO)
		fputs(" ro", out);
	if ((flags & EX_NOEXEC) && !sparse)
		fputs(" noexec", out);
	if (flags & EX_UNCACHED)
		fputs(" uncached", out);
}

static void print_op(unsigned int vm, const struct ex_op *op, FILE *out)
{
	switch (op->kind) {
	case EX_MAP:
		fprintf(out, "map %u %u 0x%" PRIx64, vm, op->bo, op->bo_offset);
		break;
	case EX_REPEAT:
		fprintf(out, "repeat %u %u 0x%" PRIx64 " 0x%" PRIx64, vm, op->bo, op->bo_offset,
			op->range);
		break;
	case EX_SPARSE:
		fprintf(out, "sparse %u", vm);
		break;
	default:
		fprintf(out, "unmap %u", vm);
		break;
	}
	fprintf(out, " 0x%" PRIx64 " 0x%" PRIx64, op->va, op->size);
	print_flags(op->flags, op->kind == EX_SPARSE, out);
}

void ex_step_print(const struct ex *ex, const struct ex_step *step, FILE *out)
{
	(void)ex;
	if (step->kind == EX_STEP_EXPECT) {
		fprintf(out, "expect %u 0x%" PRIx64 " ", step->vm, step->ops[0].va);
		if (step->expect == EX_EXPECT_BO)
			fprintf(out, "%u:0x%" PRIx64 "\n", step->ops[0].bo, step->ops[0].bo_offset);
		else
			fputs(step->expect == EX_EXPECT_FAULT ? "fault\n" : "sparse\n", out);
		return;
	}
	/* An invalid step is not a script step: it is shown as a comment. */
	fputs(step->kind == EX_STEP_INVALID ? "# invalid: " :
	      step->kind == EX_STEP_ASYNC   ? "async " :
					      "",
	      out);
	for (unsigned int i = 0; i < step->nr_ops; i++) {
		fputs(i ? " ; " : "", out);
		print_op(step->vm, &step->ops[i], out);
	}
	fputc('\n', out);
}
