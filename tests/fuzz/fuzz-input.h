/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets share: reading numbers off the input, and
 * failing loudly.
 *
 * An input is consumed front to back; past its end every read returns 0, so
 * that any prefix of an input is an input too (libFuzzer's minimiser cuts
 * inputs short) and a short input simply does less.
 */
#ifndef GPUVM_TESTS_FUZZ_INPUT_H
#define GPUVM_TESTS_FUZZ_INPUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/** struct fz_in - the rest of an input. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_empty(const struct fz_in *in)
{
	return in->n == 0;
}

/* The next @bytes (1-8) bytes, little-endian; missing bytes read as 0. */
static inline uint64_t fz_take(struct fz_in *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

/* A number in [0, @n) from one byte (two when @n > 256); 0 when @n is 0. */
static inline uint64_t fz_below(struct fz_in *in, uint64_t n)
{
	uint64_t v = fz_take(in, n > 256 ? 2 : 1);

	return n ? v % n : 0;
}

/*
 * A property broke: say what, then abort() so that libFuzzer records the
 * input as a crash (its reproducer).
 */
static inline void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static inline void fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* libFuzzer's entry points. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif /* GPUVM_TESTS_FUZZ_INPUT_H */
