// SPDX-License-Identifier: MIT
/*
 * The hardware side of the example driver: see driver-hw.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "driver-hw.h"

/* ---- Table memory: the driver's arena, as the CPU and as the GPU see it ---- */

/* What a page holds before pgtable writes it: no valid descriptor. */
#define POISON 0xff

/* Offset of [@pa, @pa + @len) in the arena: inside one page in use. */
static size_t arena_offset(const struct arena *a, uint64_t pa, size_t len)
{
	size_t off = (size_t)(pa - ARENA_PA);

	CHECK(pa >= ARENA_PA && len > 0 && off + len <= ARENA_PAGES * PAGE);
	CHECK(off / PAGE == (off + len - 1) / PAGE && a->used[off / PAGE]);
	return off;
}

/*
 * Table pages come whole: pgtable asks for at most one page, page aligned.
 * They come dirty, in the cache and in memory: pgtable writes every
 * descriptor of a new table and syncs it before linking it.
 */
static int arena_alloc(void *ctx, size_t size, size_t align, struct pt_mem *out)
{
	struct arena *a = ctx;

	if (size > PAGE || align > PAGE)
		return -EINVAL;
	for (unsigned int i = 0; i < ARENA_PAGES; i++) {
		if (a->used[i])
			continue;
		a->used[i] = true;
		a->in_use++;
		memset(a->cpu + i * PAGE, POISON, PAGE);
		memset(a->dev + i * PAGE, POISON, PAGE);
		out->cpu = a->cpu + i * PAGE;
		out->pa = ARENA_PA + i * PAGE;
		return 0;
	}
	return -ENOMEM;
}

static void arena_free(void *ctx, const struct pt_mem *mem, size_t size, size_t align)
{
	struct arena *a = ctx;
	size_t off = arena_offset(a, mem->pa, size);

	(void)align;
	CHECK(mem->cpu == a->cpu + off);
	a->used[off / PAGE] = false;
	a->in_use--;
}

/* Clean [@cpu, @cpu + @len) to memory: a real driver's dma_sync_single_for_device(). */
static void arena_sync(void *ctx, uint64_t pa, const void *cpu, size_t len)
{
	struct arena *a = ctx;
	size_t off = arena_offset(a, pa, len);

	CHECK(cpu == a->cpu + off);
	memcpy(a->dev + off, cpu, len);
	a->synced += len;
}

const struct pt_alloc_ops arena_ops = {
	.alloc = arena_alloc,
	.free = arena_free,
};

const struct pt_sync_ops arena_sync_ops = { .sync = arena_sync };

void arena_init(struct arena *a)
{
	*a = (struct arena){ .cpu = aligned_alloc(PAGE, ARENA_PAGES * PAGE),
			     .dev = aligned_alloc(PAGE, ARENA_PAGES * PAGE) };
	CHECK(a->cpu && a->dev);
}

void arena_fini(struct arena *a)
{
	CHECK(a->in_use == 0);
	free(a->cpu);
	free(a->dev);
}

/* ---- The GPU's MMU: it walks the tables in memory, never the CPU's cache ---- */

static uint64_t gpu_read(const struct arena *a, uint64_t pa)
{
	uint64_t desc;

	memcpy(&desc, a->dev + arena_offset(a, pa, sizeof(desc)), sizeof(desc));
	return desc;
}

uint64_t gpu_root(const struct pt *pt)
{
	struct pt_hw_regs regs;

	pt_get_regs(pt, &regs);
	return regs.mali.transtab & ~(PAGE - 1);
}

/* Index of @va's item in a table at @level. */
static uint64_t item_index(const struct pt_geometry *geo, unsigned int level, uint64_t va)
{
	uint64_t items = level == geo->start_level ? geo->top_entries : 1ull << geo->bits_per_level;

	return (va >> geo->level_shift[level]) & (items - 1);
}

int gpu_walk(const struct pt *pt, const struct arena *a, uint64_t va, struct pt_walk_result *res)
{
	struct pt_geometry geo;
	uint64_t table = gpu_root(pt);
	struct pt_entry e;
	unsigned int level;

	pt_get_geometry(pt, &geo);
	for (level = geo.start_level;; level++) {
		CHECK(level <= PT_LEAF_LEVEL);
		res->desc = gpu_read(a, table + sizeof(uint64_t) * item_index(&geo, level, va));
		CHECK(pt_decode_entry(pt, level, res->desc, &e) == 0);
		if (e.type != PT_ENTRY_TABLE)
			break;
		table = e.addr;
	}
	res->level = level;
	if (e.type == PT_ENTRY_INVALID)
		return -ENOENT;
	res->leaf_size = 1ull << geo.level_shift[level];
	res->pa = e.addr + (va & (res->leaf_size - 1));
	res->prot = e.prot;
	return 0;
}

/* Does memory hold what the CPU wrote, in the table at @pa and every table below it? */
static void check_table_synced(const struct pt *pt, const struct arena *a, uint64_t pa,
			       unsigned int level, size_t bytes, bool *seen)
{
	size_t off = arena_offset(a, pa, bytes);
	struct pt_entry e;

	if (seen[off / PAGE]) /* a table shared by a repeat mapping: once */
		return;
	seen[off / PAGE] = true;
	if (memcmp(a->cpu + off, a->dev + off, bytes) != 0) {
		fprintf(stderr,
			"driver-embed: the level %u table at 0x%" PRIx64 " in memory is not\n"
			"what the CPU wrote: a sync is missing\n",
			level, pa);
		exit(1);
	}
	for (size_t i = 0; level < PT_LEAF_LEVEL && i < bytes / sizeof(uint64_t); i++) {
		CHECK(pt_decode_entry(pt, level, gpu_read(a, pa + i * sizeof(uint64_t)), &e) == 0);
		if (e.type == PT_ENTRY_TABLE)
			check_table_synced(pt, a, e.addr, level + 1, PAGE, seen);
	}
}

void check_synced(const struct pt *pt, const struct arena *a)
{
	bool seen[ARENA_PAGES] = { false };
	struct pt_geometry geo;

	pt_get_geometry(pt, &geo);
	check_table_synced(pt, a, gpu_root(pt), geo.start_level, geo.top_bytes, seen);
}

/* ---- Flush ops: what the GPU's TLB is told to forget ---- */

/*
 * The TLB forgets, and the MMU walks again: by now memory must hold every
 * table it can reach (pgtable syncs before it flushes).
 */
static void flush_range(void *ctx, uint64_t va, uint64_t size, bool leaf_only)
{
	struct flush_log *log = ctx;

	if (log->pt)
		check_synced(log->pt, log->arena);
	if (log->n < MAX_FLUSHES)
		log->range[log->n] = (struct flush_rec){ va, size, leaf_only };
	log->n++;
}

static void flush_all(void *ctx)
{
	struct flush_log *log = ctx;

	if (log->pt)
		check_synced(log->pt, log->arena);
	log->all++;
}

const struct pt_flush_ops flush_ops = {
	.flush_range = flush_range,
	.flush_all = flush_all,
};

bool flushed(const struct flush_log *log, uint64_t va, uint64_t size)
{
	for (unsigned int i = 0; i < log->n && i < MAX_FLUSHES; i++)
		if (log->range[i].va <= va && va + size <= log->range[i].va + log->range[i].size)
			return true;
	return log->all > 0;
}

void print_flushes(const char *step, struct flush_log *log)
{
	printf("%s: %u flush request(s)\n", step, log->n + log->all);
	for (unsigned int i = 0; i < log->n && i < MAX_FLUSHES; i++)
		printf("  flush [0x%" PRIx64 ", 0x%" PRIx64 ")%s\n", log->range[i].va,
		       log->range[i].va + log->range[i].size,
		       log->range[i].leaf_only ? " leaves only" : "");
	if (log->all)
		printf("  flush all (x%u)\n", log->all);
	log->n = 0;
	log->all = 0;
}

/* ---- Buffer objects: physically contiguous here, at a fixed PA ---- */

static struct drv_bo *to_bo(struct gvm_obj *obj)
{
	return (struct drv_bo *)((char *)obj - offsetof(struct drv_bo, obj));
}

static int bo_phys(struct gvm_obj *obj, uint64_t offset, uint64_t *pa, uint64_t *contig)
{
	*pa = to_bo(obj)->pa + offset;
	*contig = obj->size - offset;
	return 0;
}

static void bo_get(struct gvm_obj *obj)
{
	to_bo(obj)->refs++;
}

static void bo_put(struct gvm_obj *obj)
{
	to_bo(obj)->refs--;
}

static const struct gvm_obj_ops bo_ops = { .phys = bo_phys, .get = bo_get, .put = bo_put };

void bo_init(struct drv_bo *bo, uint64_t pa, uint64_t size)
{
	bo->pa = pa;
	bo->refs = 0;
	CHECK(gvm_obj_init(&bo->obj, &bo_ops, size) == 0);
}