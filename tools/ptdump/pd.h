/* SPDX-License-Identifier: MIT */
/*
 * gpuvm-ptdump: a VM's page tables as the mock's MMU sees them, read with the
 * mock-only MOCK_PT_READ ioctl and decoded with pgtable's own decoder, shown
 * as text or as an SVG picture.
 *
 * DOC: tree
 *
 * The tables are read from the root, following table descriptors by the PA
 * they hold. A table reached from more than one item (a shared table of a
 * repeat or sparse mapping) is read once and counted as shared. The mappings
 * are the leaves in VA order, coalesced: neighbours of the same level and
 * attributes whose PAs continue each other (linear) or are equal (a repeated
 * page) make one range; a table seen again makes an "alias" range that says
 * so instead of being expanded again; identical neighbour ranges (a repeat
 * mapping's period) fold into one periodic range.
 */
#ifndef GPUVM_TOOLS_PD_H
#define GPUVM_TOOLS_PD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <gpuvm/pt.h>

#define PD_ENTRIES 512

/* One table of the tree. */
struct pd_table {
	uint64_t pa;
	unsigned int level;
	uint64_t va;       /* VA of its first item, through its first parent */
	unsigned int refs; /* items pointing at it (1: not shared) */
	unsigned int valid;
	unsigned int parent; /* index of its first parent (the root: itself) */
	unsigned int parent_item;
	uint64_t desc[PD_ENTRIES];
	struct pt_entry e[PD_ENTRIES];
	int child[PD_ENTRIES]; /* table index of a table entry, else -1 */
	/* SVG layout. */
	double x, y;
};

enum pd_range_kind {
	PD_LINEAR = 1, /* PA advances with VA */
	PD_REPEAT,     /* the same PA again and again */
	PD_ALIAS,      /* a shared table seen again: @table */
};

/* A coalesced mapping. */
struct pd_range {
	enum pd_range_kind kind;
	uint64_t va, size, pa;
	unsigned int level; /* of the leaves */
	uint32_t prot;
	uint64_t leaves;    /* leaves (or aliased tables) it covers */
	unsigned int table; /* PD_ALIAS: the table; else the table of its first leaf */
	bool shared;        /* its leaves are in a shared table */
	uint64_t period;    /* > 0: [va, va + period) repeated size / period times */
};

struct pd_tree {
	int fd;
	uint32_t vm_id;
	unsigned int index; /* which VM of the run, for titles */
	uint64_t root_pa, table_pages, table_bytes;
	struct pt_geometry geo;
	struct pd_table *t;
	unsigned int n;
	struct pd_range *r;
	unsigned int nr, capr;
};

/* pd_tree.c */
int pd_tree_read(struct pd_tree *tree, int fd, uint32_t vm_id);
void pd_tree_free(struct pd_tree *tree);
/* VA bytes one item of @level covers. */
uint64_t pd_span(const struct pd_tree *tree, unsigned int level);
/* "rw-", "r-x", ... and "cached"/"uncached"/"device" of a leaf's prot. */
const char *pd_rwx(uint32_t prot);
const char *pd_cache(uint32_t prot);
/* "4 KiB", "2 MiB", "1.5 GiB" into @buf. */
const char *pd_size(uint64_t bytes, char *buf, size_t len);

/* pd_text.c */
void pd_text(const struct pd_tree *tree, FILE *out);

/* pd_svg.c */
void pd_svg(struct pd_tree *tree, FILE *out);

#endif /* GPUVM_TOOLS_PD_H */
