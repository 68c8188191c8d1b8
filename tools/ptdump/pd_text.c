// SPDX-License-Identifier: MIT
/* gpuvm-ptdump's text output: the table tree, then the coalesced mappings. */
#include <inttypes.h>

#include "pd.h"

/* Table @i and, below it, the tables it leads to (a shared one once). */
static void print_table(const struct pd_tree *tree, unsigned int i, FILE *out)
{
	const struct pd_table *t = &tree->t[i];
	uint64_t end = t->va + PD_ENTRIES * pd_span(tree, t->level);
	unsigned int depth = t->level - tree->geo.start_level;

	fprintf(out,
		"  %*sL%u table 0x%010" PRIx64 "  VA [0x%012" PRIx64 ", 0x%012" PRIx64
		")  %u/%u items used",
		(int)depth * 2, "", t->level, t->pa, t->va, end, t->valid, PD_ENTRIES);
	if (t->refs > 1)
		fprintf(out, "  SHARED by %u items", t->refs);
	fputc('\n', out);
	for (unsigned int k = 0; k < PD_ENTRIES; k++) {
		int c = t->child[k];

		if (c >= 0 && tree->t[c].parent == i && tree->t[c].parent_item == k)
			print_table(tree, (unsigned int)c, out);
	}
}

static void print_range(const struct pd_tree *tree, const struct pd_range *r, FILE *out)
{
	char size[32];

	fprintf(out, "  [0x%012" PRIx64 ", 0x%012" PRIx64 ")  %10s  ", r->va, r->va + r->size,
		pd_size(r->size, size, sizeof(size)));
	if (r->kind == PD_ALIAS) {
		fprintf(out, "table 0x%010" PRIx64 " again (x%" PRIu64 ": shared)\n",
			tree->t[r->table].pa, r->leaves);
		return;
	}
	if (r->period)
		fprintf(out, "period %s x%" PRIu64 ": ", pd_size(r->period, size, sizeof(size)),
			r->size / r->period);
	fprintf(out, "PA 0x%010" PRIx64 "%s  L%u %s x%" PRIu64 "  %s %s%s\n", r->pa,
		r->kind == PD_REPEAT ? " repeated" : "         ", r->level,
		r->level == 3 ? "pages " : "blocks", r->leaves, pd_rwx(r->prot), pd_cache(r->prot),
		r->shared ? "  (in a shared table)" : "");
}

void pd_text(const struct pd_tree *tree, FILE *out)
{
	char bytes[32];

	fprintf(out, "VM %u (id %u): root 0x%010" PRIx64 ", %u levels, %" PRIu64 " tables (%s)\n",
		tree->index, tree->vm_id, tree->root_pa, tree->geo.levels, tree->table_pages,
		pd_size(tree->table_bytes, bytes, sizeof(bytes)));
	fputs(" tables:\n", out);
	print_table(tree, 0, out);
	fprintf(out, " mappings (%u ranges, coalesced):\n", tree->nr);
	for (unsigned int i = 0; i < tree->nr; i++)
		print_range(tree, &tree->r[i], out);
	if (!tree->nr)
		fputs("  (nothing mapped)\n", out);
}
