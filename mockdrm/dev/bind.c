// SPDX-License-Identifier: MIT
/*
 * VM_BIND: read and check the ops as panthor does, turn them into gvm
 * requests, prepare, then commit at once (synchronous) or queue (ASYNC).
 *
 * A synchronous array is one gvm transaction: all of it or nothing. An ASYNC
 * array is one job per op (each op has its own syncs, as in panthor), every
 * job prepared before any is queued, so the ioctl is all-or-nothing too: a
 * later op's error undoes the earlier ops' preparations, newest first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock_vm.h"

#define TYPE_MASK DRM_PANTHOR_VM_BIND_OP_TYPE_MASK
#define MAP_FLAGS                                                                  \
	(DRM_PANTHOR_VM_BIND_OP_MAP_READONLY | DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC | \
	 DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED | DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE | \
	 GPUVM_VM_BIND_OP_MAP_REPEAT)

/* One op with everything it refers to, checked. */
struct bind_op {
	struct gpuvm_vm_bind_op_repeat raw;
	uint32_t type;
	struct gvm_req req;
	bool has_req;
	struct mock_bo *bo; /* reference held while preparing */
	struct mock_syncs syncs;
	struct mock_fence *done; /* ASYNC: its job's fence, made before its syncs are read */
	struct mock_resv_node *resv_node; /* implicit sync: the job's fence in bo's reservation */
};

struct bind {
	struct mockdrm_file *f;
	struct mock_vm *vm;
	bool async;
	struct bind_op *ops;
	unsigned int nr;
	struct mock_chain chain; /* ASYNC: the signals of the ops read so far */
};

static uint32_t prot_of(uint32_t flags)
{
	uint32_t prot = PT_PROT_READ;

	if (!(flags & DRM_PANTHOR_VM_BIND_OP_MAP_READONLY))
		prot |= PT_PROT_WRITE;
	if (!(flags & DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC))
		prot |= PT_PROT_EXEC;
	if (!(flags & DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED))
		prot |= PT_PROT_CACHE;
	return prot;
}

/*
 * MAP_SPARSE: the VM's dummy page repeated; no BO, and never executable.
 * Writes land in that page: the VM's own, so they leak to no other client.
 */
static int sparse_req(struct bind *b, struct bind_op *op)
{
	const struct gpuvm_vm_bind_op_repeat *r = &op->raw;

	if (r->bo_handle || r->bo_offset || r->bo_repeat_range ||
	    (r->flags & GPUVM_VM_BIND_OP_MAP_REPEAT) ||
	    !(r->flags & DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC))
		return -EINVAL;
	op->bo = b->vm->dummy;
	mock_bo_get(op->bo);
	op->req.repeat = MOCK_PAGE;
	return 0;
}

static int map_req(struct bind *b, struct bind_op *op)
{
	const struct gpuvm_vm_bind_op_repeat *r = &op->raw;
	bool repeat = r->flags & GPUVM_VM_BIND_OP_MAP_REPEAT;
	int err = 0;

	if ((r->flags & ~TYPE_MASK & ~MAP_FLAGS) || b->vm->unusable)
		return -EINVAL;
	if (r->flags & DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE) {
		err = sparse_req(b, op);
	} else if (repeat && !r->bo_repeat_range) {
		err = -EINVAL;
	} else {
		op->bo = mock_bo_lookup(b->f, r->bo_handle);
		if (!op->bo)
			return -ENOENT;
		if (op->bo->exclusive && op->bo->exclusive != mock_vm_serial(b->vm))
			return -EINVAL;
		op->req.offset = r->bo_offset;
		op->req.repeat = r->bo_repeat_range;
	}
	op->req.type = GVM_REQ_MAP;
	op->req.obj = op->bo ? &op->bo->obj : NULL;
	op->req.prot = prot_of(r->flags);
	return err;
}

/* Translate one op into a gvm request (or none: SYNC_ONLY). */
static int op_req(struct bind *b, struct bind_op *op)
{
	const struct gpuvm_vm_bind_op_repeat *r = &op->raw;

	op->type = r->flags & TYPE_MASK;
	/* Userspace binds in its range only; the kernel's part above is heap.c's. */
	if (r->size > b->vm->user_range || r->va > b->vm->user_range - r->size)
		return -EINVAL;
	op->req.va = r->va;
	op->req.size = r->size;
	switch (op->type) {
	case DRM_PANTHOR_VM_BIND_OP_TYPE_MAP:
		op->has_req = true;
		return map_req(b, op);
	case DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP:
		op->has_req = true;
		op->req.type = GVM_REQ_UNMAP;
		return r->flags != op->type || r->bo_handle || r->bo_offset || r->bo_repeat_range ?
			       -EINVAL :
			       0;
	case DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY:
		return r->flags != op->type || r->bo_handle || r->bo_offset || r->va || r->size ||
				       r->bo_repeat_range || !r->syncs.count ?
			       -EINVAL :
			       0;
	}
	return -EINVAL;
}

/*
 * Sync ops only with ASYNC: a synchronous bind has nothing to wait or signal.
 * An ASYNC op's waits may name what earlier ops of the array signal (DOC:
 * in-array chaining, syncops.c): its job's fence exists before they are read.
 */
static int read_syncs(struct bind *b, struct bind_op *op)
{
	int err;

	if (!b->async)
		return op->raw.syncs.count ? -EINVAL : 0;
	op->done = mock_fence_create(&b->f->dev->sync);
	if (!op->done)
		return -ENOMEM;
	err = mock_syncs_read(&b->f->syncobjs, &op->raw.syncs, &op->syncs, &b->chain);
	return err ? err : mock_chain_add(&b->chain, &op->syncs, op->done);
}

static void op_release(struct bind_op *op)
{
	mock_syncs_release(&op->syncs);
	if (op->done)
		mock_fence_put(op->done);
	mock_resv_node_free(op->resv_node); /* a job prepared but never queued */
	if (op->bo)
		mock_bo_put(op->bo);
}

static void bind_release(struct bind *b)
{
	for (unsigned int i = 0; i < b->nr; i++)
		op_release(&b->ops[i]);
	free(b->ops);
	mock_chain_fini(&b->chain);
}

/*
 * Read op @i as its flags say (DOC: decoding an op array, panthor_drm.h).
 * Without MAP_REPEAT exactly as Linux 7.2: stride >= 48, every byte past 48
 * zero (-E2BIG), bytes 48..55 included. With it: stride >= 56 (-EINVAL),
 * bytes 48..55 are the repeat range, every byte past 56 zero (-E2BIG).
 */
static int read_op(const struct drm_panthor_obj_array *arr, uint32_t i, void *dst)
{
	struct gpuvm_vm_bind_op_repeat *raw = dst;
	int err = mock_read_elem(arr, i, raw, sizeof(*raw), GPUVM_VM_BIND_OP_SIZE_V1);

	if (err)
		return err;
	if (!(raw->flags & GPUVM_VM_BIND_OP_MAP_REPEAT))
		return raw->bo_repeat_range ? -E2BIG : 0;
	return arr->stride < GPUVM_VM_BIND_OP_SIZE_V2 ? -EINVAL : 0;
}

/* Every op copied in first (mock_read_array()), then each checked in order. */
static int read_ops(struct bind *b, const struct drm_panthor_obj_array *arr)
{
	struct gpuvm_vm_bind_op_repeat *raw;
	int err = mock_read_array(arr, sizeof(*raw), GPUVM_VM_BIND_OP_SIZE_V1, read_op,
				  (void **)&raw);

	if (err)
		return err;
	b->ops = mock_calloc(arr->count, sizeof(*b->ops));
	if (!b->ops)
		err = -ENOMEM;
	for (uint32_t i = 0; i < arr->count && !err; i++, b->nr++) {
		struct bind_op *op = &b->ops[i];

		op->raw = raw[i];
		err = op_req(b, op);
		if (!err)
			err = read_syncs(b, op);
	}
	free(raw);
	return err;
}

/* The requests of the ops that have one, in order. */
static struct gvm_req *collect_reqs(const struct bind *b, unsigned int *n)
{
	struct gvm_req *reqs = mock_calloc(b->nr, sizeof(*reqs));

	*n = 0;
	for (unsigned int i = 0; reqs && i < b->nr; i++)
		if (b->ops[i].has_req)
			reqs[(*n)++] = b->ops[i].req;
	return reqs;
}

/* [*va, *va + *size): the smallest range covering every request. */
static void reqs_span(const struct gvm_req *reqs, unsigned int n, uint64_t *va, uint64_t *size)
{
	uint64_t start = UINT64_MAX, end = 0;

	for (unsigned int i = 0; i < n; i++) {
		start = reqs[i].va < start ? reqs[i].va : start;
		end = reqs[i].va + reqs[i].size > end ? reqs[i].va + reqs[i].size : end;
	}
	*va = start;
	*size = end - start;
}

/**
 * mock_vm_commit() - commit @txn as one atomic page-table update: its range
 * locked on the VM's slot before the first descriptor changes, released
 * after the flushes (DOC: atomic updates, slots.c).
 * @vm: the VM (vm->lock held).
 * @txn: a prepared transaction, the oldest outstanding.
 * @va: first VA its ops cover.
 * @size: bytes they cover from @va.
 *
 * Context: cannot fail; GPU accesses to the range stall meanwhile.
 */
void mock_vm_commit(struct mock_vm *vm, struct gvm_txn *txn, uint64_t va, uint64_t size)
{
	mock_vm_update_begin(vm, va, size);
	gvm_bind_commit(txn);
	mock_vm_update_end(vm);
}

/*
 * Wait, without the VM lock, until the async jobs queued before a synchronous
 * bind have run: transactions commit in the order they were asked for. The
 * wait is bounded by the device's job timeout: a queue stuck behind a fence
 * that does not signal fails the bind with -ETIMEDOUT before anything of it
 * was prepared, so the VM is as it was.
 */
static int wait_queue_empty(struct mock_vm *vm)
{
	unsigned int ms = vm->dev->cfg.job_timeout_ms;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	while (vm->head) {
		if (pthread_cond_clockwait(&vm->cond, &vm->lock, CLOCK_MONOTONIC, &deadline) ==
			    ETIMEDOUT &&
		    vm->head)
			return -ETIMEDOUT;
	}
	return 0;
}

/**
 * mock_vm_bind_now() - apply @n requests to @vm as one transaction, after
 * the async jobs already queued (vm->lock held; dropped while waiting).
 * @vm: the VM.
 * @reqs: the requests.
 * @n: how many; 0 does nothing.
 *
 * Return: 0; -ETIMEDOUT when the queued jobs did not finish within the job
 * timeout; -EINVAL for a map after they made the VM unusable; the negative
 * errno of the preparation. Nothing is applied on error.
 */
int mock_vm_bind_now(struct mock_vm *vm, const struct gvm_req *reqs, unsigned int n)
{
	struct gvm_txn *txn;
	unsigned int failed;
	uint64_t va, size;
	int err;

	if (!n)
		return 0;
	err = wait_queue_empty(vm);
	/* A queue given up while we waited made the VM unusable: maps fail (vm_hooks.c). */
	if (!err)
		err = gvm_bind_prepare(vm->gvm, reqs, n, &txn, &failed);
	if (err)
		return err;
	reqs_span(reqs, n, &va, &size);
	mock_vm_commit(vm, txn, va, size);
	gvm_bind_cleanup(txn);
	return 0;
}

/* The whole array as one transaction: committed now, or after earlier async jobs. */
static int bind_sync(struct bind *b)
{
	unsigned int n;
	struct gvm_req *reqs = collect_reqs(b, &n);
	int err = reqs ? mock_vm_bind_now(b->vm, reqs, n) : -ENOMEM;

	free(reqs);
	return err;
}

/*
 * Undo the jobs prepared so far, newest first (vm->lock held). The last may
 * be NULL: its allocation failed.
 */
static void drop_jobs(struct mock_bind_job **jobs, unsigned int n)
{
	while (n--) {
		if (!jobs[n])
			continue;
		if (jobs[n]->txn)
			gvm_bind_cleanup(jobs[n]->txn);
		if (jobs[n]->done)
			mock_fence_put(jobs[n]->done);
		free(jobs[n]);
	}
	free(jobs);
}

static int prepare_job(struct bind *b, struct bind_op *op, struct mock_bind_job **out)
{
	struct mock_bind_job *job = mock_calloc(1, sizeof(*job));
	int err = 0;

	if (!job)
		return -ENOMEM;
	*out = job;
	job->done = op->done; /* the job's now (drop_jobs() puts it on failure) */
	op->done = NULL;
	job->va = op->req.va;
	job->size = op->req.size;
	err = mock_dmabuf_prepare_job(op->bo, &op->resv_node);
	if (!err && op->has_req)
		err = gvm_bind_prepare(b->vm->gvm, &op->req, 1, &job->txn, NULL);
	return err;
}

/*
 * Hand each op's waits to its job, put the job's fence in its output syncobjs
 * (now, at submission, as the kernel does), and queue it. Nothing here fails.
 */
static void submit_job(struct mock_vm *vm, struct bind_op *op, struct mock_bind_job *job)
{
	job->waits = mock_syncs_take_waits(&op->syncs, &job->nr_waits);
	mock_syncs_install(&op->syncs, job->done);
	mock_dmabuf_add_job(op->bo, op->resv_node, job->done);
	op->resv_node = NULL;
	mock_vm_queue(vm, job);
}

static int bind_async(struct bind *b)
{
	struct mock_bind_job **jobs = mock_calloc(b->nr, sizeof(*jobs));
	unsigned int i;
	int err = jobs ? mock_vm_start_worker(b->vm) : -ENOMEM;

	for (i = 0; !err && i < b->nr; i++)
		err = prepare_job(b, &b->ops[i], &jobs[i]);
	if (err) {
		drop_jobs(jobs, jobs ? i : 0);
		return err;
	}
	for (i = 0; i < b->nr; i++)
		submit_job(b->vm, &b->ops[i], jobs[i]);
	free(jobs);
	return 0;
}

int mock_ioctl_vm_bind(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_vm_bind *a = arg;
	struct bind b = { .f = f, .async = a->flags & DRM_PANTHOR_VM_BIND_ASYNC };
	int err;

	if (a->flags & ~DRM_PANTHOR_VM_BIND_ASYNC)
		return -EINVAL;
	b.vm = mock_vm_lookup(f, a->vm_id);
	if (!b.vm)
		return -EINVAL;
	pthread_mutex_lock(&b.vm->lock);
	err = a->ops.count ? read_ops(&b, &a->ops) : 0;
	if (!err && b.nr)
		err = b.async ? bind_async(&b) : bind_sync(&b);
	pthread_mutex_unlock(&b.vm->lock);
	bind_release(&b);
	mock_vm_put(b.vm);
	return err;
}
