// SPDX-License-Identifier: MIT
/* Small helpers of gpuvm-exercise: the generator, the BO pattern, a clock. */
#include <time.h>

#include "ex.h"

/* splitmix64: one 64-bit state, every seed a good stream. */
uint64_t ex_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, @n) for @n > 0 (the modulo bias is irrelevant at these sizes). */
uint64_t ex_below(uint64_t *state, uint64_t n)
{
	return n ? ex_rand(state) % n : 0;
}

/*
 * The 8-byte word at @offset (8-aligned) of BO @bo: every word of every BO
 * differs, so a read names the BO and the offset it came from.
 */
uint64_t ex_word(unsigned int bo, uint64_t offset)
{
	uint64_t s = ((uint64_t)bo << 48) ^ (offset >> 3);

	return ex_rand(&s);
}

double ex_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
