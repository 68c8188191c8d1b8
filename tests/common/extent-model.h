/* SPDX-License-Identifier: MIT */
/*
 * The reference model of the random (property) tests of page tables and VMs:
 * a flat, sorted list of non-overlapping extents [va, end), each translating
 * as the map that made it (linear, or a pattern repeated with a period).
 *
 * An extent keeps the origin of its map (va0 -> pa0) rather than the address
 * of its own first byte, so that what partial unmaps leave of a map needs no
 * address arithmetic: the pieces translate as the whole did, patterns keep
 * their phase.
 *
 * The names the tests used before this header existed (struct extent, struct
 * model, model_find() ...) are kept without a prefix, like test-util.h's.
 */
#ifndef GPUVM_TESTS_EXTENT_MODEL_H
#define GPUVM_TESTS_EXTENT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct extent - a mapped range of the model.
 * @va: its first byte.
 * @end: the byte after its last.
 * @va0: where the map that made it started (pieces of one map share it).
 * @pa0: what @va0 translates to.
 * @period: 0 for a linear map; else the bytes after which the pattern
 *	starting at @va0 repeats.
 * @prot: the map's protections (PT_PROT_*).
 * @obj: what @pa0 is an address in, for tests that map objects
 *	(test-vm-model: the object's index, @pa0 an offset in it); 0 otherwise.
 */
struct extent {
	uint64_t va, end, va0, pa0, period;
	uint32_t prot;
	uint32_t obj;
};

/**
 * struct model - extents sorted by VA, none overlapping.
 * @e: the extents.
 * @n: how many.
 * @cap: room at @e; a zeroed model is empty and valid.
 */
struct model {
	struct extent *e;
	size_t n, cap;
};

/**
 * extent_pa() - the address @va translates to.
 * @x: the extent.
 * @va: a VA inside @x.
 *
 * Return: @x->pa0 plus the offset of @va from @x->va0 (modulo @x->period
 * for a pattern).
 */
uint64_t extent_pa(const struct extent *x, uint64_t va);

/**
 * model_find() - the index of the first extent that ends above @va.
 * @m: the model.
 * @va: any VA.
 *
 * Return: an index in [0, @m->n]; @m->n when no extent ends above @va.
 */
size_t model_find(const struct model *m, uint64_t va);

/**
 * model_overlaps() - is any byte of [@va, @end) mapped?
 * @m: the model.
 * @va: the range's first byte.
 * @end: the byte after its last.
 *
 * Return: true when an extent overlaps the range.
 */
bool model_overlaps(const struct model *m, uint64_t va, uint64_t end);

/**
 * model_at() - the extent mapping @va.
 * @m: the model.
 * @va: any VA.
 *
 * Return: the extent, valid until @m changes; NULL when @va is not mapped.
 */
const struct extent *model_at(const struct model *m, uint64_t va);

/**
 * model_lookup() - the translation of @va.
 * @m: the model.
 * @va: any VA.
 * @pa: set to the address @va translates to, when mapped.
 * @prot: set to its protections, when mapped.
 * @next: NULL, or set to where the answer may change next: the end of the
 *	extent mapping @va, else the start of the next one (UINT64_MAX for none).
 *
 * Return: true when @va is mapped.
 */
bool model_lookup(const struct model *m, uint64_t va, uint64_t *pa, uint32_t *prot, uint64_t *next);

/**
 * model_insert_at() - put @x at index @i.
 * @m: the model.
 * @i: where, in [0, @m->n]; the caller keeps the extents sorted.
 * @x: the extent.
 *
 * Fails the running test when out of memory.
 */
void model_insert_at(struct model *m, size_t i, struct extent x);

/**
 * model_insert() - add @x where its VA sorts.
 * @m: the model.
 * @x: an extent that overlaps none of @m (model_overlaps() says whether).
 *
 * Fails the running test when out of memory.
 */
void model_insert(struct model *m, struct extent x);

/**
 * model_remove_at() - take out the extent at index @i.
 * @m: the model.
 * @i: an index below @m->n.
 */
void model_remove_at(struct model *m, size_t i);

/**
 * model_unmap() - unmap [@va, @end).
 * @m: the model.
 * @va: the range's first byte.
 * @end: the byte after its last.
 *
 * Extents inside the range go; one that straddles an end is cut down to what
 * lies outside (one that straddles both, to two pieces), its origin kept.
 *
 * Return: the bytes that were mapped in the range.
 */
uint64_t model_unmap(struct model *m, uint64_t va, uint64_t end);

/**
 * model_copy() - make @dst hold the extents of @src.
 * @dst: a valid model (its extents are replaced; its memory is reused).
 * @src: the model copied.
 *
 * Fails the running test when out of memory.
 */
void model_copy(struct model *dst, const struct model *src);

/**
 * model_free() - free @m's memory and leave it empty.
 * @m: the model.
 */
void model_free(struct model *m);

#endif /* GPUVM_TESTS_EXTENT_MODEL_H */
