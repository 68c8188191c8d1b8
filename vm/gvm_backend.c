// SPDX-License-Identifier: MIT
/*
 * Address-space backends. Each is a const ops table with the same
 * create / attach / detach / destroy flow; the transaction code only sees
 * table ops (struct pt_op) going through reserve and commit.
 */

#include "gvm_internal.h"

/* Paging: the ops go to pgtable's reservations unchanged. */
struct paging {
	struct pt *pt;
	int slot; /* -1 when detached */
};

static int paging_create(const void *cfg, void **priv)
{
	struct paging *p;
	int err;

	if (!cfg)
		return -EINVAL;
	p = os_zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = pt_create(cfg, &p->pt);
	if (err) {
		os_free(p);
		return err;
	}
	p->slot = -1;
	*priv = p;
	return 0;
}

static void paging_destroy(void *priv)
{
	struct paging *p = priv;

	pt_destroy(p->pt);
	os_free(p);
}

/*
 * The device programs the slot's registers from pt_get_regs(); the backend
 * only tracks whether the VM has one.
 */
static int paging_attach(void *priv, unsigned int slot)
{
	struct paging *p = priv;

	if (p->slot >= 0)
		return -EBUSY;
	p->slot = (int)slot;
	return 0;
}

static void paging_detach(void *priv)
{
	struct paging *p = priv;

	p->slot = -1;
}

static int paging_reserve(void *priv, void *resv, const struct pt_op *op)
{
	struct paging *p = priv;

	return pt_reserve(p->pt, op, resv);
}

/* The writer's prefetch: the reservation that follows starts where it went down. */
static void paging_prefetch(void *priv, uint64_t va)
{
	struct paging *p = priv;

	pt_seek(p->pt, va);
}

static void paging_commit_begin(void *priv, void *resv)
{
	struct paging *p = priv;

	pt_commit_begin(p->pt, resv);
}

static void paging_commit(void *priv, void *resv, const struct pt_op *op)
{
	struct paging *p = priv;

	pt_commit(p->pt, resv, op, NULL);
}

static void paging_commit_end(void *priv, void *resv)
{
	struct paging *p = priv;

	pt_commit_end(p->pt, resv);
}

static void paging_unreserve(void *priv, void *resv)
{
	struct paging *p = priv;

	pt_unreserve(p->pt, resv);
}

const struct gvm_backend_ops gvm_backend_paging = {
	.name = "paging",
	.create = paging_create,
	.destroy = paging_destroy,
	.attach = paging_attach,
	.detach = paging_detach,
	.resv_size = sizeof(struct pt_resv),
	.reserve = paging_reserve,
	.commit_begin = paging_commit_begin,
	.commit = paging_commit,
	.commit_end = paging_commit_end,
	.unreserve = paging_unreserve,
	.unreserve_zeroes = true, /* pt_unreserve() leaves it as pt_resv_init() does */
	.prefetch = paging_prefetch,
};

/*
 * gvm_create(): what the backend's configuration allows, so that no bind
 * fails later for a reason known now. Paging (pgtable's create, also in a
 * copy of its ops): a valid table configuration, the range inside its input
 * address space, pages no smaller than its granule. 0, -EINVAL.
 */
int gvm_backend_check_cfg(const struct gvm_cfg *cfg)
{
	const struct pt_cfg *pc = cfg->backend_cfg;
	struct pt_geometry geo;
	int err;

	if (cfg->backend->create != paging_create)
		return 0;
	if (!pc)
		return -EINVAL;
	err = pt_geometry(pc, &geo);
	if (err)
		return err;
	if (cfg->end > 1ull << pc->ias || cfg->page_lg2 < geo.granule_lg2)
		return -EINVAL;
	return 0;
}

struct pt *gvm_get_pt(struct gvm *vm)
{
	if (vm->cfg.backend != &gvm_backend_paging)
		return NULL;
	return ((struct paging *)vm->backend)->pt;
}

/* Identity: nothing to build; a map is only valid where the pages already are at VA. */
static int identity_create(const void *cfg, void **priv)
{
	(void)cfg;
	*priv = NULL;
	return 0;
}

static int identity_attach(void *priv, unsigned int slot)
{
	(void)priv;
	(void)slot;
	return 0;
}

static void identity_nop(void *priv)
{
	(void)priv;
}

static int identity_reserve(void *priv, void *resv, const struct pt_op *op)
{
	(void)priv;
	(void)resv;
	if (op->type == PT_OP_UNMAP)
		return 0;
	/* A replace maps like a map (what it unmaps first, nothing here). */
	if (op->type != PT_OP_MAP && op->type != PT_OP_REPLACE)
		return -EINVAL;
	return op->pa == op->va ? 0 : -EINVAL;
}

const struct gvm_backend_ops gvm_backend_identity = {
	.name = "identity",
	.create = identity_create,
	.destroy = identity_nop,
	.attach = identity_attach,
	.detach = identity_nop,
	.resv_size = 0,
	.reserve = identity_reserve,
	/* No commit_begin, commit, commit_end nor unreserve: a commit writes nothing. */
};
