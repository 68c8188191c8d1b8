// SPDX-License-Identifier: MIT
/*
 * VMs: VM_CREATE, VM_DESTROY, VM_GET_STATE, and the bind queue behind VM_BIND
 * (the ioctl itself is parsed in bind.c).
 *
 * DOC: bind queue
 *
 * A VM_BIND is prepared at the ioctl (gvm_bind_prepare(): validated, objects
 * allocated, table pages reserved), so every error a caller can cause is
 * returned by the ioctl. What remains runs on the VM's queue, in submission
 * order: wait for the job's input fences, commit (no allocation, no failure),
 * clean up, signal the job's fence - which the ioctl already installed in the
 * output syncobjs. A job whose input fence signals an error cannot run: the VM
 * becomes unusable (VM_GET_STATE), and the job and every job queued after it
 * are given up (a prepared transaction can only be undone newest first) with
 * their fences signalled in error. An unusable VM refuses maps, not unmaps.
 *
 * The queue's worker thread exists only while jobs are queued.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "mock_vm.h"

static uint64_t next_serial = 1;

uint64_t mock_vm_serial(const struct mock_vm *vm)
{
	return vm->serial;
}

struct gvm *mock_vm_gvm(struct mock_vm *vm)
{
	return vm->gvm;
}

void mock_vm_get(struct mock_vm *vm)
{
	__atomic_add_fetch(&vm->refs, 1, __ATOMIC_RELAXED);
}

static void live_link(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;

	pthread_mutex_lock(&dev->vms_lock);
	vm->live_next = dev->vms;
	if (dev->vms)
		dev->vms->live_prev = vm;
	dev->vms = vm;
	pthread_mutex_unlock(&dev->vms_lock);
}

static void live_unlink(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;

	pthread_mutex_lock(&dev->vms_lock);
	if (vm->live_prev)
		vm->live_prev->live_next = vm->live_next;
	else
		dev->vms = vm->live_next;
	if (vm->live_next)
		vm->live_next->live_prev = vm->live_prev;
	pthread_mutex_unlock(&dev->vms_lock);
}

/*
 * The last reference: no job is queued (each holds one), no worker runs.
 * Called without any VM's lock held (dev->vms_lock comes first).
 */
void mock_vm_put(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;

	if (__atomic_sub_fetch(&vm->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* Counted from before it leaves the live list until its BOs are put. */
	__atomic_add_fetch(&dev->vms_dying, 1, __ATOMIC_ACQ_REL);
	live_unlink(vm);
	mock_vm_release_slot(vm);
	mock_heaps_fini(vm);
	gvm_destroy(vm->gvm); /* cannot fail: allocates nothing */
	mock_bo_put(vm->dummy);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
	__atomic_sub_fetch(&dev->vms_dying, 1, __ATOMIC_ACQ_REL);
}

struct mock_vm *mock_vm_lookup(struct mockdrm_file *f, uint32_t id)
{
	struct mock_vm *vm;

	pthread_mutex_lock(&f->dev->lock);
	vm = mock_idr_find(&f->vms, id);
	if (vm)
		mock_vm_get(vm);
	pthread_mutex_unlock(&f->dev->lock);
	return vm;
}

/*
 * The VM's gvm: the whole 48-bit space. VM_BIND keeps to the user range
 * (bind.c checks it); the kernel's own mappings above it (tiler heaps,
 * heap.c) go through the same gvm, so that they queue behind async binds
 * like any synchronous bind.
 */
static int vm_make_gvm(struct mock_vm *vm)
{
	struct gvm_cfg cfg = {
		.start = 0,
		.end = 1ull << MOCK_VA_BITS,
		.page_lg2 = 12,
		.backend = &gvm_backend_paging,
		.backend_cfg = &vm->pt_cfg,
		.host = &mock_host_ops,
		.driver = &mock_vm_driver_ops,
		.driver_ctx = vm,
		/* Its dummy page and the BOs made exclusive to it are private. */
		.resv_id = vm->serial,
	};

	/* The device's table settings, with this VM's flush ops (its slot). */
	vm->pt_cfg = vm->dev->pt_cfg;
	vm->pt_cfg.flush = &mock_vm_flush_ops;
	vm->pt_cfg.flush_ctx = vm;
	return gvm_create(&cfg, &vm->gvm);
}

static int vm_new(struct mockdrm_file *f, uint64_t user_range, struct mock_vm **out)
{
	struct mock_vm *vm = mock_calloc(1, sizeof(*vm));
	int err;

	if (!vm)
		return -ENOMEM;
	vm->dev = f->dev;
	vm->file = f;
	vm->as_slot = -1;
	vm->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
	err = mock_bo_new_dummy(f->dev, &vm->dummy);
	if (!err) {
		vm->dummy->obj.resv_id = vm->serial;
		err = vm_make_gvm(vm);
		if (err)
			mock_bo_put(vm->dummy);
	}
	if (err) {
		free(vm);
		return err;
	}
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->refs = 1;
	vm->user_range = user_range;
	live_link(vm);
	*out = vm;
	return 0;
}

/*
 * The user range starts at 0; the kernel keeps the rest for its own mappings
 * (rings, firmware interfaces): at least 4 GiB of it.
 */
#define KERNEL_VA_MIN (4ull << 30)
#define USER_VA_DEFAULT (1ull << (MOCK_VA_BITS - 1))
#define USER_VA_MAX ((1ull << MOCK_VA_BITS) - KERNEL_VA_MIN)

int mock_ioctl_vm_create(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_vm_create *a = arg;
	uint64_t range = a->user_va_range ? a->user_va_range : USER_VA_DEFAULT;
	struct mock_vm *vm;
	int err;

	/* Page-aligned: our rule (panthor would carry the odd range along). */
	if (a->flags || range & (MOCK_PAGE - 1))
		return -EINVAL;
	/* Too large a range is clamped, as panthor does, not refused. */
	if (range > USER_VA_MAX)
		range = USER_VA_MAX;
	err = vm_new(f, range, &vm);
	if (err)
		return err;
	pthread_mutex_lock(&f->dev->lock);
	err = mock_idr_alloc(&f->vms, vm, &a->id);
	pthread_mutex_unlock(&f->dev->lock);
	if (err) {
		mock_vm_put(vm);
		return err;
	}
	a->user_va_range = range;
	return 0;
}

/*
 * The VM's id goes away (VM_DESTROY, or its file closes): jobs still waiting
 * for their input fences are killed as soon as the worker notices (a closing
 * file then waits for that, mockdrm_close()); the last reference frees the VM.
 */
static void mock_vm_close(struct mock_vm *vm)
{
	__atomic_store_n(&vm->closed, true, __ATOMIC_RELEASE);
	mock_vm_put(vm);
}

/*
 * The VM is gone: its waiting jobs are killed, with -ESRCH as the kernel's
 * scheduler kills the jobs of an entity torn down with its file.
 */
static int vm_closed(void *ctx)
{
	struct mock_vm *vm = ctx;

	return __atomic_load_n(&vm->closed, __ATOMIC_ACQUIRE) ? -ESRCH : 0;
}

int mock_ioctl_vm_destroy(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_vm_destroy *a = arg;
	struct mock_vm *vm;

	if (a->pad)
		return -EINVAL;
	pthread_mutex_lock(&f->dev->lock);
	vm = mock_idr_remove(&f->vms, a->id);
	pthread_mutex_unlock(&f->dev->lock);
	if (!vm)
		return -EINVAL;
	mock_vm_close(vm);
	return 0;
}

int mock_ioctl_vm_get_state(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_vm_get_state *a = arg;
	struct mock_vm *vm = mock_vm_lookup(f, a->vm_id);

	if (!vm)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	a->state = vm->unusable ? DRM_PANTHOR_VM_STATE_UNUSABLE : DRM_PANTHOR_VM_STATE_USABLE;
	pthread_mutex_unlock(&vm->lock);
	mock_vm_put(vm);
	return 0;
}

void mock_file_drop_vms(struct mockdrm_file *f)
{
	for (uint32_t id = 1; id <= f->vms.nr; id++) {
		struct mock_vm *vm = mock_idr_remove(&f->vms, id);

		if (vm)
			mock_vm_close(vm);
	}
	mock_idr_fini(&f->vms);
}

static void job_free(struct mock_bind_job *job)
{
	mock_fences_put_all(job->waits, job->nr_waits);
	if (job->done)
		mock_fence_put(job->done);
	free(job);
}

/*
 * The head job cannot run: the VM becomes unusable and every queued job, from
 * the newest to the head, is given up (vm->lock held).
 */
static void fail_queue(struct mock_vm *vm, int error)
{
	vm->unusable = true;
	while (vm->head) {
		struct mock_bind_job *job = vm->head, *prev = NULL;

		while (job->next) {
			prev = job;
			job = job->next;
		}
		if (prev)
			prev->next = NULL;
		else
			vm->head = vm->tail = NULL;
		vm->tail = prev;
		if (job->txn)
			gvm_bind_cleanup(job->txn);
		mock_fence_signal(job->done, prev ? -ECANCELED : error);
		job_free(job);
		mock_vm_put(vm);
	}
	pthread_cond_broadcast(&vm->cond); /* synchronous binds wait for the empty queue */
}

/* Run the head job (vm->lock not held on entry or exit). */
static void run_head(struct mock_vm *vm)
{
	struct mock_bind_job *job;
	int err;

	pthread_mutex_lock(&vm->lock);
	job = vm->head;
	pthread_mutex_unlock(&vm->lock);
	err = mock_fences_wait_all(job->waits, job->nr_waits, vm_closed, vm);
	pthread_mutex_lock(&vm->lock);
	if (err) {
		fail_queue(vm, err);
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	if (job->txn) { /* SYNC_ONLY jobs have none */
		mock_vm_commit(vm, job->txn, job->va, job->size);
		gvm_bind_cleanup(job->txn);
	}
	vm->head = job->next;
	if (!vm->head)
		vm->tail = NULL;
	mock_fence_signal(job->done, 0);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	job_free(job);
	mock_vm_put(vm);
}

/* Runs jobs until the queue is empty, then goes away. */
static void *worker(void *arg)
{
	struct mock_vm *vm = arg;
	struct mockdrm_file *file = vm->file;

	for (;;) {
		pthread_mutex_lock(&vm->lock);
		if (!vm->head) {
			vm->worker_running = false;
			pthread_mutex_unlock(&vm->lock);
			mock_vm_put(vm); /* the worker's own reference */
			mock_worker_done(file);
			return NULL;
		}
		pthread_mutex_unlock(&vm->lock);
		run_head(vm);
	}
}

/*
 * Make sure a worker runs the queue (vm->lock held). Called before an ioctl
 * queues anything, so that queueing itself cannot fail: a worker started for
 * nothing finds the queue empty and goes away.
 */
int mock_vm_start_worker(struct mock_vm *vm)
{
	pthread_t thread;

	if (vm->worker_running)
		return 0;
	mock_vm_get(vm);
	mock_worker_start(vm->file);
	if (mock_thread_create(&thread, worker, vm)) {
		mock_worker_done(vm->file);
		mock_vm_put(vm);
		return -ENOMEM;
	}
	pthread_detach(thread);
	vm->worker_running = true;
	return 0;
}

/* Queue @job behind the others (vm->lock held, worker running); it holds a VM reference. */
void mock_vm_queue(struct mock_vm *vm, struct mock_bind_job *job)
{
	mock_vm_get(vm);
	if (vm->tail)
		vm->tail->next = job;
	else
		vm->head = job;
	vm->tail = job;
}

/*
 * In a child after fork(), the child's only thread holding dev->vms_lock:
 * the worker thread was not copied, and the copy of the condition variable
 * may count waiters the child does not have. Start a worker for the jobs the
 * copy has queued, so that they run in the child as in the parent. Without
 * a thread they stay queued until the next ASYNC bind starts one.
 */
void mock_vm_fork_child(struct mock_vm *vm)
{
	if (pthread_cond_init(&vm->cond, NULL))
		abort(); /* glibc's pthread_cond_init does not fail */
	vm->worker_running = false;
	if (vm->head)
		mock_vm_start_worker(vm);
}
