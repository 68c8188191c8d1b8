// SPDX-License-Identifier: MIT
#include "test-util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* splitmix64's increment: 2^64 divided by the golden ratio, made odd. */
#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ull

const char *tu_errname_r(int err, char *buf, size_t len)
{
	/* -INT_MIN does not exist; it is no errno either. */
	const char *name = err < 0 && err != INT_MIN ? strerrorname_np(-err) : NULL;

	if (name)
		snprintf(buf, len, "-%s", name);
	else
		snprintf(buf, len, "%d", err);
	return buf;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || !*s || *end ? -EINVAL : 0;
}

static const struct tu_opt *find_extra(const struct tu_args *args, const char *name)
{
	for (unsigned int i = 0; i < args->nr_extra; i++) {
		if (!strcmp(args->extra[i].name, name))
			return &args->extra[i];
	}
	return NULL;
}

/* One name/value pair of the command line. */
static int parse_one(const struct tu_args *args, const char *name, const char *val)
{
	const struct tu_opt *opt = find_extra(args, name);
	uint64_t v;

	if (opt)
		return opt->set(val);
	if (parse_u64(val, &v))
		return -EINVAL;
	if (!strcmp(name, "--seed")) {
		*args->seed = v;
		return 0;
	}
	if (!strcmp(name, "--count") && v <= UINT32_MAX) {
		*args->count = (unsigned int)v;
		return 0;
	}
	return -EINVAL;
}

static void print_usage(const struct tu_args *args, const char *prog)
{
	fprintf(stderr, "usage: %s [--seed N] [--count %s]", prog,
		args->count_metavar ? args->count_metavar : "N");
	for (unsigned int i = 0; i < args->nr_extra; i++)
		fprintf(stderr, " [%s %s]", args->extra[i].name, args->extra[i].metavar);
	fputc('\n', stderr);
}

int tu_parse_args(const struct tu_args *args, int argc, char **argv)
{
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc || parse_one(args, argv[i], argv[i + 1])) {
			print_usage(args, argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

void tu_print_args(const struct tu_args *args)
{
	printf("%s: --seed %" PRIu64 " --count %u\n", args->name, *args->seed, *args->count);
}

void tu_print_replay(uint64_t seed, unsigned int count)
{
	fprintf(stderr, "replay with: --seed %" PRIu64 " --count %u\n", seed, count);
}

uint64_t splitmix64(uint64_t x)
{
	uint64_t z = x + GOLDEN_GAMMA;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t rng_next(struct rng *r)
{
	uint64_t z = splitmix64(r->s);

	r->s += GOLDEN_GAMMA;
	return z;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

int64_t tu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tu_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
