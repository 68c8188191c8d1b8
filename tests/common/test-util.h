/* SPDX-License-Identifier: MIT */
/*
 * What every cmocka test of the tree shares: errno names for messages,
 * assertions that print both values, the command line of the random
 * (property) tests and their random number generator.
 *
 * The names every test used before this header existed (CHECK_EQ, errname(),
 * struct rng, min_u64()) are kept without a prefix, so that a test reads the
 * same with the shared copy; the command-line helpers are tu_ ("test util").
 */
#ifndef GPUVM_TESTS_TEST_UTIL_H
#define GPUVM_TESTS_TEST_UTIL_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Room for any errname() string: "-ENOTRECOVERABLE" or "-2147483648". */
#define TU_ERRNAME_LEN 32

/**
 * tu_errname_r() - name an errno value for a message.
 * @err: 0 or a negative errno.
 * @buf: where the name is written.
 * @len: bytes at @buf (TU_ERRNAME_LEN is always enough).
 *
 * Context: any; thread-safe.
 * Return: @buf, holding "-EINVAL" for a known negative errno (every name
 * glibc's strerrorname_np() knows), "0" for 0, the number otherwise.
 */
const char *tu_errname_r(int err, char *buf, size_t len);

/*
 * errname() - tu_errname_r() into a buffer of the caller's block: valid until
 * that block ends, and distinct per call, so one message may name two errnos.
 */
#define errname(err) tu_errname_r((err), (char[TU_ERRNAME_LEN]){ 0 }, TU_ERRNAME_LEN)

/*
 * Assertions that say which case failed and print both values: CHECK_EQ in
 * hex and decimal, CHECK_ERR as errno names. @ctx names the case.
 */
#define CHECK_EQ(ctx, got, want)                                                         \
	do {                                                                             \
		uint64_t got_ = (uint64_t)(got), want_ = (uint64_t)(want);               \
		if (got_ != want_)                                                       \
			fail_msg("%s: %s = 0x%" PRIx64 " (%" PRIu64 "), want 0x%" PRIx64 \
				 " (%" PRIu64 ")",                                       \
				 (ctx), #got, got_, got_, want_, want_);                 \
	} while (0)

#define CHECK_ERR(ctx, got, want)                                                           \
	do {                                                                                \
		int got_ = (got), want_ = (want);                                           \
		if (got_ != want_)                                                          \
			fail_msg("%s: %s returned %s, want %s", (ctx), #got, errname(got_), \
				 errname(want_));                                           \
	} while (0)

/**
 * struct tu_opt - an option a test takes besides --seed and --count.
 * @name: the option as typed, "--filter".
 * @metavar: its value in the usage line, "PATTERN".
 * @set: takes the value; returns 0, or a negative errno to reject it.
 *
 * Every option takes a value: the command line is a list of name/value pairs.
 */
struct tu_opt {
	const char *name;
	const char *metavar;
	int (*set)(const char *val);
};

/**
 * struct tu_args - the command line of a random test.
 * @name: the test, for tu_print_args() ("test-model").
 * @seed: --seed N, any 64-bit number; holds the default until parsed.
 * @count: --count N, at most UINT32_MAX; holds the default until parsed.
 * @count_metavar: what the usage line calls --count's value; NULL for "N".
 * @extra: further options, or NULL.
 * @nr_extra: entries in @extra.
 *
 * Numbers are read by strtoull() in base 0 (0x for hex); an empty number,
 * trailing characters or an overflow are refused.
 */
struct tu_args {
	const char *name;
	uint64_t *seed;
	unsigned int *count;
	const char *count_metavar;
	const struct tu_opt *extra;
	unsigned int nr_extra;
};

/**
 * tu_parse_args() - read --seed, --count and @args->extra from the command line.
 * @args: where the values go.
 * @argc: main()'s.
 * @argv: main()'s.
 *
 * On an unknown option, a missing or bad value, prints the usage line
 * ("usage: PROGRAM [--seed N] [--count N] ...") to stderr.
 *
 * Context: main(), before the tests run.
 * Return: 0, or -EINVAL after printing the usage (main() then exits with 2).
 */
int tu_parse_args(const struct tu_args *args, int argc, char **argv);

/**
 * tu_print_args() - print the arguments a run uses, "test-model: --seed N --count N".
 * @args: the parsed command line.
 *
 * Context: main(); writes to stdout.
 */
void tu_print_args(const struct tu_args *args);

/**
 * tu_print_replay() - print how to replay a random failure.
 * @seed: the run's seed.
 * @count: the count that stops right after the failing step.
 *
 * Writes "replay with: --seed N --count N" to stderr.
 */
void tu_print_replay(uint64_t seed, unsigned int count);

/**
 * splitmix64() - the splitmix64 output for state @x (the state after the step).
 * @x: anything.
 *
 * Every input bit changes every output bit: also a hash of @x.
 * Return: the mixed value.
 */
uint64_t splitmix64(uint64_t x);

/**
 * struct rng - a splitmix64 generator: small, and the same sequence everywhere.
 * @s: the state; a test seeds it by assigning it.
 */
struct rng {
	uint64_t s;
};

/**
 * rng_next() - the next 64 random bits.
 * @r: the generator.
 *
 * Return: the output of splitmix64 for the advanced state.
 */
uint64_t rng_next(struct rng *r);

/**
 * rng_below() - a random number in [0, @n).
 * @r: the generator (left as it is when @n is 0).
 * @n: the bound.
 *
 * Return: rng_next() modulo @n; 0 when @n is 0.
 */
uint64_t rng_below(struct rng *r, uint64_t n);

/**
 * tu_now_ns() - CLOCK_MONOTONIC now, in nanoseconds: the clock of DRM's
 * absolute syncobj wait deadlines.
 *
 * Context: any; thread-safe.
 * Return: nanoseconds since an arbitrary fixed point.
 */
int64_t tu_now_ns(void);

/**
 * tu_sleep_ms() - sleep at least @ms milliseconds, resuming after signals.
 * @ms: milliseconds (0 returns at once).
 *
 * Context: any; thread-safe.
 */
void tu_sleep_ms(long ms);

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

#endif /* GPUVM_TESTS_TEST_UTIL_H */
