// SPDX-License-Identifier: MIT
/*
 * gpuvm-ptdump's picture: the VA layout as a bar of coalesced ranges (widths
 * grow with the log of the size, so that 4 KiB pages and 1 GiB of sparse
 * pages both show), and the table tree below it, one row per level, each
 * table with a strip of its 512 items and an edge from the item that points
 * at it. Shared tables are drawn once, orange and dashed, with one edge per
 * parent labelled with the number of items that point at them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"

#define WIDTH 1100.0
#define MARGIN 20.0
#define BAR_H 26.0
#define BAR_ROW 58.0
#define BOX_W 156.0
#define BOX_H 52.0
#define BOX_GAP 14.0
#define LEVEL_GAP 46.0
#define MAX_PER_LEVEL 42

#define C_PAGES "#4e79a7"
#define C_BLOCKS "#59a14f"
#define C_REPEAT "#f28e2b"
#define C_ALIAS "#edc948"
#define C_TABLE "#9c9c9c"
#define C_HOLE "#e9e9e9"

static const char *range_color(const struct pd_range *r)
{
	if (r->kind == PD_ALIAS)
		return C_ALIAS;
	if (r->kind == PD_REPEAT || r->period)
		return C_REPEAT;
	return r->level == 3 ? C_PAGES : C_BLOCKS;
}

static double seg_width(uint64_t size)
{
	return 26.0 + 9.0 * log2((double)(size < 4096 ? 4096 : size) / 4096.0);
}

/* Short hex: 0x1000000. */
static const char *hex(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0x%" PRIx64, v);
	return buf;
}

static void segment(FILE *o, double x, double y, double w, const struct pd_range *r)
{
	char a[32], b[32];

	fprintf(o, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.0f' rx='3' fill='%s'%s/>\n", x,
		y, w - 2, BAR_H, range_color(r),
		r->kind == PD_ALIAS ? " stroke='#8a6d00' stroke-dasharray='4 2'" : "");
	if (r->kind != PD_ALIAS && !(r->prot & PT_PROT_WRITE))
		fprintf(o,
			"<rect x='%.1f' y='%.1f' width='%.1f' height='%.0f' rx='3' "
			"fill='url(#ro)'/>\n",
			x, y, w - 2, BAR_H);
	if (w >= 44)
		fprintf(o, "<text x='%.1f' y='%.1f' class='in'>%s</text>\n", x + (w - 2) / 2,
			y + 17, pd_size(r->size, a, sizeof(a)));
	if (w >= 54)
		fprintf(o, "<text x='%.1f' y='%.1f' class='va'>%s</text>\n", x + 1, y + BAR_H + 11,
			hex(r->va, b, sizeof(b)));
}

static void hole(FILE *o, double x, double y, uint64_t size)
{
	char a[32];

	fprintf(o,
		"<rect x='%.1f' y='%.1f' width='24' height='%.0f' fill='" C_HOLE "' "
		"stroke='#bbb' stroke-dasharray='2 2'/>\n",
		x, y + 4, BAR_H - 8);
	fprintf(o, "<title>hole of %s</title>\n", pd_size(size, a, sizeof(a)));
}

/* The VA bar from y; returns the y below it. */
static double va_bar(const struct pd_tree *tree, FILE *o, double y)
{
	double x = MARGIN;

	fprintf(o,
		"<text x='%.0f' y='%.0f' class='h'>VA layout (coalesced ranges; "
		"width grows with log2 of the size, gaps are holes)</text>\n",
		MARGIN, y);
	y += 10;
	for (unsigned int i = 0; i < tree->nr; i++) {
		const struct pd_range *r = &tree->r[i];
		bool gap = i && tree->r[i - 1].va + tree->r[i - 1].size < r->va;
		double w = seg_width(r->size) + (gap ? 28 : 0);

		if (x + w > WIDTH - MARGIN) {
			x = MARGIN;
			y += BAR_ROW;
		}
		if (gap) {
			hole(o, x, y, r->va - tree->r[i - 1].va - tree->r[i - 1].size);
			x += 28;
		}
		segment(o, x, y, seg_width(r->size), r);
		x += seg_width(r->size);
	}
	if (!tree->nr)
		fprintf(o, "<text x='%.0f' y='%.0f' class='va'>nothing mapped</text>\n", MARGIN,
			y + 16);
	return y + BAR_ROW + 10;
}

#define STRIP_W (BOX_W - 12)

/* Item class for the strip: 0 invalid, 1 table, 2 page, 3 block, 4 repeated page. */
static unsigned int item_class(const struct pd_table *t, unsigned int k)
{
	const struct pt_entry *e = t->e;

	if (e[k].type == PT_ENTRY_TABLE)
		return 1;
	if (e[k].type != PT_ENTRY_LEAF)
		return 0;
	if ((k && e[k - 1].type == PT_ENTRY_LEAF && e[k - 1].addr == e[k].addr) ||
	    (k + 1 < PD_ENTRIES && e[k + 1].type == PT_ENTRY_LEAF && e[k + 1].addr == e[k].addr))
		return 4;
	return t->level == 3 ? 2 : 3;
}

static void strip(FILE *o, const struct pd_table *t)
{
	static const char *const colors[] = { NULL, C_TABLE, C_PAGES, C_BLOCKS, C_REPEAT };
	double x0 = t->x + 6, y = t->y + BOX_H - 13, unit = STRIP_W / PD_ENTRIES;

	fprintf(o, "<rect x='%.1f' y='%.1f' width='%.1f' height='7' fill='#eee'/>\n", x0, y,
		STRIP_W);
	for (unsigned int k = 0, end; k < PD_ENTRIES; k = end) {
		unsigned int c = item_class(t, k);

		for (end = k + 1; end < PD_ENTRIES && item_class(t, end) == c; end++)
			;
		if (c)
			fprintf(o, "<rect x='%.2f' y='%.1f' width='%.2f' height='7' fill='%s'/>\n",
				x0 + k * unit, y, (end - k) * unit < 1 ? 1 : (end - k) * unit,
				colors[c]);
	}
}

static void box(FILE *o, const struct pd_table *t)
{
	char a[32], b[32];
	bool shared = t->refs > 1;

	fprintf(o,
		"<rect x='%.1f' y='%.1f' width='%.0f' height='%.0f' rx='4' fill='%s' "
		"stroke='%s' stroke-width='%s'%s/>\n",
		t->x, t->y, BOX_W, BOX_H, shared ? "#fff4e6" : "#fff", shared ? C_REPEAT : "#666",
		shared ? "2" : "1", shared ? " stroke-dasharray='5 3'" : "");
	fprintf(o, "<text x='%.1f' y='%.1f' class='t'>L%u %s</text>\n", t->x + 6, t->y + 14,
		t->level, hex(t->pa, a, sizeof(a)));
	fprintf(o, "<text x='%.1f' y='%.1f' class='s'>VA %s, %u used</text>\n", t->x + 6, t->y + 27,
		hex(t->va, b, sizeof(b)), t->valid);
	if (shared)
		fprintf(o, "<text x='%.1f' y='%.1f' class='sh'>shared by %u items</text>\n",
			t->x + BOX_W, t->y - 4, t->refs);
	strip(o, t);
}

static int by_va(const void *a, const void *b, void *ctx)
{
	const struct pd_table *t = ctx;
	const struct pd_table *x = &t[*(const unsigned int *)a], *y = &t[*(const unsigned int *)b];

	return x->va < y->va ? -1 : x->va > y->va ? 1 : (x->pa > y->pa) - (x->pa < y->pa);
}

/* Place the tables of @level from y; returns the y below them. */
static double place_level(struct pd_tree *tree, unsigned int level, unsigned int *idx, double y,
			  FILE *o)
{
	unsigned int n = 0,
		     per_row = (unsigned int)((WIDTH - 2 * MARGIN + BOX_GAP) / (BOX_W + BOX_GAP));

	for (unsigned int i = 0; i < tree->n; i++)
		if (tree->t[i].level == level)
			idx[n++] = i;
	if (!n)
		return y;
	qsort_r(idx, n, sizeof(*idx), by_va, tree->t);
	fprintf(o, "<text x='%.0f' y='%.0f' class='lv'>L%u</text>\n", MARGIN - 14, y + 30, level);
	for (unsigned int i = 0; i < n; i++) {
		struct pd_table *t = &tree->t[idx[i]];
		unsigned int row = i / per_row, col = i % per_row;
		unsigned int in_row = n - row * per_row < per_row ? n - row * per_row : per_row;
		double row_w = in_row * (BOX_W + BOX_GAP) - BOX_GAP;

		if (i >= MAX_PER_LEVEL) {
			t->x = -1;
			continue;
		}
		t->x = (WIDTH - row_w) / 2 + col * (BOX_W + BOX_GAP);
		t->y = y + row * (BOX_H + 18);
	}
	if (n > MAX_PER_LEVEL)
		fprintf(o, "<text x='%.0f' y='%.0f' class='s'>... and %u more L%u tables</text>\n",
			MARGIN, y + (MAX_PER_LEVEL / per_row) * (BOX_H + 18) + 12,
			n - MAX_PER_LEVEL, level);
	n = n > MAX_PER_LEVEL ? MAX_PER_LEVEL + per_row : n;
	return y + ((n + per_row - 1) / per_row) * (BOX_H + 18) + LEVEL_GAP - 18;
}

/* One edge per (parent, child) pair, from the parent's first item pointing there. */
static void edges(const struct pd_tree *tree, FILE *o)
{
	for (unsigned int p = 0; p < tree->n; p++) {
		const struct pd_table *t = &tree->t[p];

		for (unsigned int c = 0; c < tree->n && t->x >= 0; c++) {
			const struct pd_table *ch = &tree->t[c];
			unsigned int first = PD_ENTRIES, count = 0;
			double x1, y1, x2, y2;

			for (unsigned int k = 0; k < PD_ENTRIES; k++)
				if (t->child[k] == (int)c && count++ == 0)
					first = k;
			if (!count || ch->x < 0)
				continue;
			x1 = t->x + 6 + (first + 0.5) * STRIP_W / PD_ENTRIES;
			y1 = t->y + BOX_H - 6;
			x2 = ch->x + BOX_W / 2;
			y2 = ch->y;
			fprintf(o,
				"<path d='M%.1f %.1f C%.1f %.1f %.1f %.1f %.1f %.1f' class='e%s'/>\n",
				x1, y1, x1, y1 + 30, x2, y2 - 30, x2, y2, count > 1 ? " sh" : "");
			if (count > 1)
				fprintf(o, "<text x='%.1f' y='%.1f' class='ec'>x%u items</text>\n",
					(x1 + x2) / 2 + 4, (y1 + y2) / 2, count);
		}
	}
}

static double legend(FILE *o, double y)
{
	static const struct {
		const char *color, *label;
	} keys[] = {
		{ C_PAGES, "4 KiB pages (L3), PA advancing" },
		{ C_BLOCKS, "2 MiB / 1 GiB blocks" },
		{ C_REPEAT, "repeated PAs (sparse, repeat); shared table" },
		{ C_ALIAS, "a shared table seen again" },
		{ C_TABLE, "table pointer (in a strip)" },
	};
	double x = MARGIN;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(o, "<rect x='%.0f' y='%.0f' width='12' height='12' fill='%s'/>\n", x, y,
			keys[i].color);
		fprintf(o, "<text x='%.0f' y='%.0f' class='s'>%s</text>\n", x + 16, y + 10,
			keys[i].label);
		x += 16 + 6.2 * strlen(keys[i].label) + 18;
	}
	fprintf(o,
		"<rect x='%.0f' y='%.0f' width='12' height='12' fill='" C_PAGES "'/>"
		"<rect x='%.0f' y='%.0f' width='12' height='12' fill='url(#ro)'/>\n",
		MARGIN, y + 20, MARGIN, y + 20);
	fprintf(o,
		"<text x='%.0f' y='%.0f' class='s'>hatched: read-only; dashed grey: hole; "
		"strips show a table's 512 items, edges leave from the item</text>\n",
		MARGIN + 16, y + 30);
	return y + 44;
}

static const char style[] =
	"<defs><pattern id='ro' width='6' height='6' patternUnits='userSpaceOnUse' "
	"patternTransform='rotate(45)'><rect width='2.5' height='6' fill='#fff' "
	"fill-opacity='0.55'/></pattern></defs>\n"
	"<style>text{font-family:DejaVu Sans Mono,monospace;fill:#222}"
	".title{font-size:17px;font-weight:bold}.sub{font-size:11px;fill:#555}"
	".h{font-size:13px;font-weight:bold}.in{font-size:10px;fill:#fff;text-anchor:middle}"
	".va{font-size:8.5px;fill:#444}.t{font-size:10.5px;font-weight:bold}"
	".s{font-size:9.5px;fill:#444}.sh{font-size:9.5px;fill:#c25e00;text-anchor:end;"
	"font-weight:bold}.lv{font-size:12px;font-weight:bold;fill:#888}"
	".e{fill:none;stroke:#777;stroke-width:1.2}.e.sh{stroke:" C_REPEAT
	";stroke-width:2;stroke-dasharray:5 3}.ec{font-size:9px;fill:#c25e00}</style>\n";

void pd_svg(struct pd_tree *tree, FILE *out)
{
	unsigned int *idx = calloc(tree->n ? tree->n : 1, sizeof(*idx));
	char *body = NULL, a[32];
	size_t len = 0;
	FILE *o = open_memstream(&body, &len);
	double y;

	if (!idx || !o) {
		free(idx);
		if (o)
			fclose(o);
		free(body);
		return;
	}
	fprintf(o,
		"<text x='%.0f' y='28' class='title'>gpuvm VM %u: page tables as the mock "
		"MMU walks them</text>\n",
		MARGIN, tree->index);
	fprintf(o,
		"<text x='%.0f' y='46' class='sub'>Mali AArch64 mode, 4 KiB granule, 48-bit VA; "
		"root 0x%" PRIx64 ", %u levels, %" PRIu64 " tables (%s), %u mapped ranges</text>\n",
		MARGIN, tree->root_pa, tree->geo.levels, tree->table_pages,
		pd_size(tree->table_bytes, a, sizeof(a)), tree->nr);
	y = va_bar(tree, o, 78);
	fprintf(o, "<text x='%.0f' y='%.0f' class='h'>Table tree (one row per level)</text>\n",
		MARGIN, y);
	y += 14;
	for (unsigned int l = tree->geo.start_level; l < PT_MAX_LEVELS; l++)
		y = place_level(tree, l, idx, y, o);
	edges(tree, o);
	for (unsigned int i = 0; i < tree->n; i++)
		if (tree->t[i].x >= 0)
			box(o, &tree->t[i]);
	y = legend(o, y + 4);
	fclose(o);
	fprintf(out,
		"<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
		"viewBox='0 0 %.0f %.0f'>\n<rect width='100%%' height='100%%' fill='#fff'/>\n%s%s"
		"</svg>\n",
		WIDTH, y, WIDTH, y, style, body);
	free(body);
	free(idx);
}
