/* SPDX-License-Identifier: MIT */
/*
 * The hardware side of the example driver (driver-embed.c): what a real
 * driver has in its MMU and memory code, and what gpuvm asks of it through
 * ops tables. Here it is a model that the example checks against:
 *
 *  - an arena of table pages (struct pt_alloc_ops) kept twice: what the CPU
 *    wrote (its cache) and what the GPU reads (memory), copied by the sync op
 *    (struct pt_sync_ops) only, as for an MMU that does not snoop the CPU's
 *    caches;
 *  - the MMU's walk of the memory copy, from the root register down;
 *  - the TLB flush ops (struct pt_flush_ops), which log each request and
 *    check that memory holds every reachable table by then;
 *  - buffer objects embedding a struct gvm_obj, physically contiguous.
 *
 * Every check stops the program with a message (CHECK()).
 */
#ifndef DRIVER_HW_H
#define DRIVER_HW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <gpuvm/gvm.h>
#include <gpuvm/pt.h>

#define PAGE 4096ull
#define SZ_64K 0x10000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

/* The example stops at the first check that does not hold. */
#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

/* ---- Table memory: the driver's arena ---- */

#define ARENA_PAGES 64
#define ARENA_PA 0x10000000ull /* where the GPU sees the arena */

struct arena {
	unsigned char *cpu; /* what the CPU reads and writes: its cache */
	unsigned char *dev; /* what the GPU reads: memory, written by the sync op only */
	bool used[ARENA_PAGES];
	unsigned int in_use;
	uint64_t synced; /* bytes cleaned to memory */
};

/* Ops over a struct arena (their ctx). */
extern const struct pt_alloc_ops arena_ops;
extern const struct pt_sync_ops arena_sync_ops;

void arena_init(struct arena *a);
void arena_fini(struct arena *a);

/* ---- The GPU's MMU: it walks the tables in memory, never the CPU's cache ---- */

/* The root table's PA, from the register the driver programs (TRANSTAB). */
uint64_t gpu_root(const struct pt *pt);
/* Translate @va as the MMU does. Return 0 with @res filled, or -ENOENT. */
int gpu_walk(const struct pt *pt, const struct arena *a, uint64_t va, struct pt_walk_result *res);
/* Every table the GPU can reach reads the same in memory as in the CPU's cache. */
void check_synced(const struct pt *pt, const struct arena *a);

/* ---- Flush ops: what the GPU's TLB is told to forget ---- */

#define MAX_FLUSHES 32

struct flush_rec {
	uint64_t va, size;
	bool leaf_only;
};

/* The ctx of flush_ops. */
struct flush_log {
	const struct pt *pt; /* the table to check at each flush; NULL: none */
	const struct arena *arena;
	unsigned int n, all;
	struct flush_rec range[MAX_FLUSHES];
};

extern const struct pt_flush_ops flush_ops;

/* Was [@va, @va + @size) flushed, by one range or by a flush of everything? */
bool flushed(const struct flush_log *log, uint64_t va, uint64_t size);
/* Print the flushes of @step and forget them. */
void print_flushes(const char *step, struct flush_log *log);

/* ---- Buffer objects: physically contiguous here, at a fixed PA ---- */

struct drv_bo {
	struct gvm_obj obj; /* gvm's view of the BO */
	uint64_t pa;
	unsigned int refs; /* one per VA that maps it */
};

void bo_init(struct drv_bo *bo, uint64_t pa, uint64_t size);

#endif /* DRIVER_HW_H */
