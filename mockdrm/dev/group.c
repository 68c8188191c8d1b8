// SPDX-License-Identifier: MIT
/*
 * Groups: GROUP_CREATE, GROUP_DESTROY, GROUP_GET_STATE and GROUP_SUBMIT, with
 * panthor's validation rules (mali.md section 4), and the queues that run the
 * submitted command streams through the VM's slot (gpu/cs.c interprets).
 *
 * DOC: queues
 *
 * Each queue runs its jobs in submission order on a worker thread that exists
 * while jobs are queued (as the VM bind queue). A job waits for its input
 * fences, makes the group's VM active (a slot, slots.c), runs the stream
 * at stream_addr (the model skips the kernel's ring and its wrapper, as
 * mali.md allows; a size-0 submit is a pure sync point), and signals its
 * fence, which GROUP_SUBMIT already put in the SIGNAL syncobjs. How a job
 * ends decides its fence and the group's state:
 *
 *   stream completed                 fence 0 (-EIO if it inherited an error
 *                                    from a sync object it waited on)
 *   an input fence failed            fence = that error, the group unharmed
 *   MMU fault (any GPU fault on VM)  fence -EIO; every group on the VM:
 *                                    FATAL_FAULT, all queues fatal (panthor
 *                                    marks all queues of groups on the VM)
 *   invalid instruction, call stack  fence -EIO; the group: FATAL_FAULT, that
 *   overflow, rejected sync wait     queue fatal
 *   SYNC_WAIT past the job timeout   fence -ETIMEDOUT; the group: TIMEDOUT
 *   group already fatal, destroyed   fence -ECANCELED, the stream not run
 *
 * A group that timed out or faulted refuses new submits (-EINVAL).
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock_cs.h"
#include "mock_vm.h"

#define MAX_QUEUES 8 /* CSIF cs_slot_count */
#define SHADER_PRESENT 0x50005ull
#define TILER_PRESENT 0x1ull
#define WAIT_POLL_NS 200000 /* SYNC_WAIT re-checks memory this often */

struct group_job {
	struct group_job *next;
	struct mock_fence **waits;
	unsigned int nr_waits;
	struct mock_fence *done;
	uint64_t addr;
	uint32_t size;
	uint32_t latest_flush; /* queue_submit.latest_flush: 0 flushes always */
};

struct queue {
	struct mock_group *group;
	unsigned int index;
	struct group_job *head, *tail; /* group->lock */
	bool worker_running;
	struct mock_cs_queue_state cs; /* the worker's */
};

struct mock_group {
	unsigned int refs;
	struct mockdrm_dev *dev;
	struct mockdrm_file *file; /* its queue workers are counted there */
	struct mock_vm *vm;        /* a reference */
	pthread_mutex_t lock;
	unsigned int nr_queues;
	struct queue queues[MAX_QUEUES];
	uint32_t state, fatal_queues;
	bool destroyed;
	struct mock_group *dev_next, *dev_prev; /* dev->groups, under dev->lock */
};

static void group_get(struct mock_group *g)
{
	__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
}

static void group_unlink(struct mock_group *g)
{
	struct mockdrm_dev *dev = g->dev;

	pthread_mutex_lock(&dev->lock);
	if (g->dev_prev)
		g->dev_prev->dev_next = g->dev_next;
	else if (dev->groups == g)
		dev->groups = g->dev_next;
	if (g->dev_next)
		g->dev_next->dev_prev = g->dev_prev;
	pthread_mutex_unlock(&dev->lock);
}

static void group_put(struct mock_group *g)
{
	if (__atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL))
		return;
	group_unlink(g);
	mock_vm_put(g->vm);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static struct mock_group *group_lookup(struct mockdrm_file *f, uint32_t handle)
{
	struct mock_group *g;

	pthread_mutex_lock(&f->dev->lock);
	g = mock_idr_find(&f->groups, handle);
	if (g)
		group_get(g);
	pthread_mutex_unlock(&f->dev->lock);
	return g;
}

/* Group faults (g->lock not held) */

static void mark_fatal(struct mock_group *g, uint32_t queues, uint32_t more)
{
	pthread_mutex_lock(&g->lock);
	g->state |= DRM_PANTHOR_GROUP_STATE_FATAL_FAULT | more;
	g->fatal_queues |= queues;
	pthread_mutex_unlock(&g->lock);
}

/**
 * mock_groups_vm_faulted() - a GPU fault on @vm: every group on it is fatal,
 * all its queues, as panthor's scheduler marks them at its next tick. Each
 * is marked INNOCENT too: the group whose job faulted clears that for itself
 * (job_outcome()) before the job's fence signals; the others were stopped by
 * a fault not of their making.
 */
void mock_groups_vm_faulted(struct mock_vm *vm)
{
	struct mockdrm_dev *dev = vm->dev;

	pthread_mutex_lock(&dev->lock);
	for (struct mock_group *g = dev->groups; g; g = g->dev_next)
		if (g->vm == vm)
			mark_fatal(g, (1u << g->nr_queues) - 1, DRM_PANTHOR_GROUP_STATE_INNOCENT);
	pthread_mutex_unlock(&dev->lock);
}

/* The command-stream environment of one job: its VM, active in @slot. */
struct job_env {
	struct queue *q;
	struct mock_vm *vm;
	unsigned int slot;
	int64_t deadline_ns; /* CLOCK_MONOTONIC: the job timeout */
};

static int move_in(void *ctx, void *host, uint64_t done, uint64_t n)
{
	memcpy((char *)ctx + done, host, n);
	return 0;
}

static int move_out(void *ctx, void *host, uint64_t done, uint64_t n)
{
	memcpy(host, (const char *)ctx + done, n);
	return 0;
}

static uint32_t env_access(struct job_env *e, uint64_t va, size_t len, unsigned int type,
			   int (*move)(void *, void *, uint64_t, uint64_t), void *buf,
			   uint64_t *fault_va)
{
	struct mock_access a = { .va = va, .size = len, .type = type, .move = move, .ctx = buf };
	int status = mock_gpu_access(e->vm, e->slot, &a);

	*fault_va = a.fault_va;
	return (uint32_t)status;
}

/*
 * An instruction fetch is a read that reports access type EXEC on a fault:
 * the front end reads the ring (a NOEXEC BO) as data, so XN does not apply.
 */
static uint32_t env_read(void *ctx, uint64_t va, void *buf, size_t len, bool exec,
			 uint64_t *fault_va)
{
	unsigned int type = exec ? MOCK_ACCESS_CS_FETCH : MOCK_ACCESS_READ;

	return env_access(ctx, va, len, type, move_in, buf, fault_va);
}

static uint32_t env_write(void *ctx, uint64_t va, const void *buf, size_t len, uint64_t *fault_va)
{
	return env_access(ctx, va, len, MOCK_ACCESS_WRITE, move_out, (void *)buf, fault_va);
}

struct sync_rmw {
	unsigned int bits;
	bool add;
	uint64_t value;
};

/* Runs under dev->lock, like every GPU memory access: atomic to the GPU. */
static int move_rmw(void *ctx, void *host, uint64_t done, uint64_t n)
{
	const struct sync_rmw *r = ctx;
	uint64_t old = 0, mask = r->bits == 64 ? ~0ull : 0xffffffffull;

	(void)done;
	memcpy(&old, host, n);
	old = ((r->add ? old + r->value : r->value) & mask) | (old & ~mask);
	memcpy(host, &old, n);
	return 0;
}

static uint32_t env_sync_update(void *ctx, uint64_t va, unsigned int bits, bool add, uint64_t value,
				uint64_t *fault_va)
{
	struct sync_rmw r = { .bits = bits, .add = add, .value = value };

	return env_access(ctx, va, bits / 8, MOCK_ACCESS_WRITE, move_rmw, &r, fault_va);
}

/*
 * A cache flush asked for with a flush ID (0: unconditional) is skipped when
 * the GPU has flushed since it showed that ID (LATEST_FLUSH_ID, mali.md
 * section 5); a flush with no clean or invalidate in any cache does nothing.
 */
static void gpu_flush(struct mockdrm_dev *dev, bool any, uint32_t flush_id)
{
	if (!any)
		return;
	if (mock_gpu_flush_done_since(&dev->gpu, flush_id & MOCK_GPU_FLUSH_ID_MASK)) {
		mock_stat_add(dev, cache_flushes_skipped, 1);
		return;
	}
	mock_gpu_cache_flush(&dev->gpu);
}

static void env_flush_caches(void *ctx, unsigned int l2, unsigned int lsc, unsigned int other,
			     uint32_t flush_id)
{
	struct job_env *e = ctx;

	gpu_flush(e->vm->dev, l2 | lsc | other, flush_id);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* A SYNC_WAIT not satisfied yet: poll, until the job times out or the group goes. */
static int env_wait_event(void *ctx)
{
	struct job_env *e = ctx;
	struct timespec ts = { .tv_nsec = WAIT_POLL_NS };
	bool destroyed;

	pthread_mutex_lock(&e->q->group->lock);
	destroyed = e->q->group->destroyed;
	pthread_mutex_unlock(&e->q->group->lock);
	if (destroyed)
		return -ECANCELED;
	if (now_ns() > e->deadline_ns)
		return -ETIMEDOUT;
	nanosleep(&ts, NULL);
	return 0;
}

static const struct mock_cs_env_ops job_env_ops = {
	.read = env_read,
	.write = env_write,
	.sync_update = env_sync_update,
	.flush_caches = env_flush_caches,
	.wait_event = env_wait_event,
};

/* Can the group run jobs? (An earlier fault or timeout, or destruction, stops it.) */
static bool group_alive(struct mock_group *g)
{
	bool alive;

	pthread_mutex_lock(&g->lock);
	alive = !g->destroyed && !(g->state & (DRM_PANTHOR_GROUP_STATE_FATAL_FAULT |
					       DRM_PANTHOR_GROUP_STATE_TIMEDOUT));
	pthread_mutex_unlock(&g->lock);
	return alive;
}

static int group_stopped(void *ctx)
{
	return group_alive(ctx) ? 0 : -ECANCELED;
}

/* What a stream's end means for the job's fence and the group (see "queues"). */
static int job_outcome(struct queue *q, const struct mock_cs_result *res)
{
	struct mock_group *g = q->group;

	switch (res->status) {
	case MOCK_CS_COMPLETED:
		return 0;
	case MOCK_CS_MMU_FAULT:
		mock_groups_vm_faulted(g->vm);
		pthread_mutex_lock(&g->lock);
		g->state &= ~(uint32_t)DRM_PANTHOR_GROUP_STATE_INNOCENT; /* its own fault */
		pthread_mutex_unlock(&g->lock);
		return -EIO;
	case MOCK_CS_WAIT_ABORTED:
	case MOCK_CS_BUDGET_EXHAUSTED:
		if (res->error == -ECANCELED)
			return -ECANCELED;
		pthread_mutex_lock(&g->lock);
		g->state |= DRM_PANTHOR_GROUP_STATE_TIMEDOUT;
		pthread_mutex_unlock(&g->lock);
		return -ETIMEDOUT;
	default:
		mark_fatal(g, 1u << q->index, 0);
		return -EIO;
	}
}

static int run_stream(struct queue *q, struct group_job *job)
{
	struct mock_group *g = q->group;
	struct job_env env = { .q = q, .vm = g->vm };
	struct mock_cs_result res;
	int err;

	env.deadline_ns = now_ns() + (int64_t)g->dev->cfg.job_timeout_ms * 1000000;
	/* The kernel's ring wrapper flushes before the job (FLUSH_CACHE2 0x233, latest_flush). */
	gpu_flush(g->dev, true, job->latest_flush);
	env.slot = mock_vm_activate(g->vm);
	err = mock_cs_run(&job_env_ops, &env, &q->cs, job->addr, job->size, &res);
	mock_vm_idle(g->vm);
	if (!err)
		err = job_outcome(q, &res);
	/*
	 * An error the stream took from a sync object fails this job; the
	 * kernel's ring wrapper ends every job with ERROR_BARRIER, so the
	 * next job starts clean.
	 */
	if (!err && q->cs.error)
		err = -EIO;
	q->cs.error = 0;
	return err;
}

static int run_job(struct queue *q, struct group_job *job)
{
	int err;

	if (!group_alive(q->group))
		return -ECANCELED;
	err = mock_fences_wait_all(job->waits, job->nr_waits, group_stopped, q->group);
	if (err)
		return err;
	if (!group_alive(q->group))
		return -ECANCELED;
	return job->size ? run_stream(q, job) : 0;
}

static void job_free(struct group_job *job)
{
	mock_fences_put_all(job->waits, job->nr_waits);
	mock_fence_put(job->done);
	free(job);
}

/* Runs the queue's jobs until it is empty, then goes away. */
static void *queue_worker(void *arg)
{
	struct queue *q = arg;
	struct mock_group *g = q->group;
	struct mockdrm_file *file = g->file;

	for (;;) {
		struct group_job *job;

		pthread_mutex_lock(&g->lock);
		job = q->head;
		if (!job) {
			q->worker_running = false;
			pthread_mutex_unlock(&g->lock);
			group_put(g);
			mock_worker_done(file);
			return NULL;
		}
		pthread_mutex_unlock(&g->lock);
		mock_fence_signal(job->done, run_job(q, job));
		pthread_mutex_lock(&g->lock);
		q->head = job->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&g->lock);
		job_free(job);
	}
}

/* A worker for @q before anything is queued, so that queueing cannot fail (g->lock held). */
static int queue_start_worker(struct queue *q)
{
	pthread_t thread;

	if (q->worker_running)
		return 0;
	group_get(q->group);
	mock_worker_start(q->group->file);
	if (mock_thread_create(&thread, queue_worker, q)) {
		mock_worker_done(q->group->file);
		group_put(q->group);
		return -ENOMEM;
	}
	pthread_detach(thread);
	q->worker_running = true;
	return 0;
}

static void queue_push(struct queue *q, struct group_job *job)
{
	if (q->tail)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

/* GROUP_CREATE */

static int popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

/* Core masks inside what the GPU has, with room for the maximum asked for. */
static int check_cores(const struct drm_panthor_group_create *a)
{
	if ((a->compute_core_mask & ~SHADER_PRESENT) || (a->fragment_core_mask & ~SHADER_PRESENT) ||
	    (a->tiler_core_mask & ~TILER_PRESENT))
		return -EINVAL;
	if (popcount64(a->compute_core_mask) < a->max_compute_cores ||
	    popcount64(a->fragment_core_mask) < a->max_fragment_cores ||
	    popcount64(a->tiler_core_mask) < a->max_tiler_cores)
		return -EINVAL;
	return 0;
}

/*
 * panthor's group_priority_permit(): LOW and MEDIUM for everyone; HIGH and
 * REALTIME for a caller with CAP_SYS_NICE or for the file that is the DRM
 * master. GROUP_PRIORITIES_INFO answers the same mask, so the two agree.
 */
uint32_t mock_group_priority_mask(struct mockdrm_file *f)
{
	uint32_t mask = 1u << PANTHOR_GROUP_PRIORITY_LOW | 1u << PANTHOR_GROUP_PRIORITY_MEDIUM;

	if (mock_capable(CAP_SYS_NICE) || mock_client_is_master(f))
		mask |= 1u << PANTHOR_GROUP_PRIORITY_HIGH | 1u << PANTHOR_GROUP_PRIORITY_REALTIME;
	return mask;
}

static int check_group_args(struct mockdrm_file *f, const struct drm_panthor_group_create *a)
{
	if (!a->queues.count || a->queues.count > MAX_QUEUES || a->pad ||
	    a->priority > PANTHOR_GROUP_PRIORITY_REALTIME)
		return -EINVAL;
	if (check_cores(a))
		return -EINVAL;
	return mock_group_priority_mask(f) & 1u << a->priority ? 0 : -EACCES;
}

/* A queue: priority 0-15, pad zero, a power-of-two ring of 4-64 KiB. */
static int read_queue(const struct drm_panthor_obj_array *arr, uint32_t i)
{
	struct drm_panthor_queue_create qc;
	int err = mock_read_elem(arr, i, &qc, sizeof(qc), sizeof(qc));

	if (err)
		return err;
	if (qc.priority > 15 || qc.pad[0] || qc.pad[1] || qc.pad[2] ||
	    qc.ringbuf_size & (qc.ringbuf_size - 1) || qc.ringbuf_size < 4096 ||
	    qc.ringbuf_size > 65536)
		return -EINVAL;
	return 0;
}

static struct mock_group *group_new(struct mockdrm_file *f, struct mock_vm *vm,
				    unsigned int nr_queues)
{
	struct mock_group *g = mock_calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->refs = 1;
	g->dev = f->dev;
	g->file = f;
	g->vm = vm;
	g->nr_queues = nr_queues;
	pthread_mutex_init(&g->lock, NULL);
	for (unsigned int i = 0; i < nr_queues; i++)
		g->queues[i] = (struct queue){ .group = g, .index = i };
	return g;
}

static int group_install(struct mockdrm_file *f, struct mock_group *g, uint32_t *handle)
{
	struct mockdrm_dev *dev = f->dev;
	int err;

	pthread_mutex_lock(&dev->lock);
	err = mock_idr_alloc(&f->groups, g, handle);
	if (!err) {
		g->dev_next = dev->groups;
		if (dev->groups)
			dev->groups->dev_prev = g;
		dev->groups = g;
	}
	pthread_mutex_unlock(&dev->lock);
	return err;
}

int mock_ioctl_group_create(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_group_create *a = arg;
	struct mock_group *g;
	struct mock_vm *vm;
	int err = check_group_args(f, a);

	for (uint32_t i = 0; !err && i < a->queues.count; i++)
		err = read_queue(&a->queues, i);
	if (err)
		return err;
	vm = mock_vm_lookup(f, a->vm_id);
	if (!vm)
		return -EINVAL;
	g = group_new(f, vm, a->queues.count);
	if (!g) {
		mock_vm_put(vm);
		return -ENOMEM;
	}
	err = group_install(f, g, &a->group_handle);
	if (err)
		group_put(g); /* not linked: group_unlink finds nothing to do */
	return err;
}

/* GROUP_DESTROY, GET_STATE */

/* The group stops: queued jobs end as cancelled; the last reference frees it. */
static void group_destroy(struct mock_group *g)
{
	pthread_mutex_lock(&g->lock);
	g->destroyed = true;
	pthread_mutex_unlock(&g->lock);
	group_put(g);
}

int mock_ioctl_group_destroy(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_group_destroy *a = arg;
	struct mock_group *g;

	if (a->pad)
		return -EINVAL;
	pthread_mutex_lock(&f->dev->lock);
	g = mock_idr_remove(&f->groups, a->group_handle);
	pthread_mutex_unlock(&f->dev->lock);
	if (!g)
		return -EINVAL;
	group_destroy(g);
	return 0;
}

int mock_ioctl_group_get_state(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_group_get_state *a = arg;
	struct mock_group *g;

	if (a->pad)
		return -EINVAL;
	g = group_lookup(f, a->group_handle);
	if (!g)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	a->state = g->state;
	a->fatal_queues = g->fatal_queues;
	pthread_mutex_unlock(&g->lock);
	group_put(g);
	return 0;
}

void mock_file_drop_groups(struct mockdrm_file *f)
{
	for (uint32_t id = 1; id <= f->groups.nr; id++) {
		struct mock_group *g = mock_idr_remove(&f->groups, id);

		if (g)
			group_destroy(g);
	}
	mock_idr_fini(&f->groups);
}

/* GROUP_SUBMIT */

struct submit {
	struct drm_panthor_queue_submit qs;
	struct mock_syncs syncs;
	struct group_job *job;
};

static int check_queue_submit(const struct mock_group *g, const struct drm_panthor_queue_submit *qs)
{
	if (qs->pad || !qs->stream_addr != !qs->stream_size)
		return -EINVAL;
	if (qs->stream_addr % 64 || qs->stream_size % 8 || qs->latest_flush & 0x7f000000u)
		return -EINVAL;
	return qs->queue_index < g->nr_queues ? 0 : -EINVAL;
}

static int make_job(struct mockdrm_dev *dev, struct submit *s);

/*
 * One submit, with its job made before its syncs are read: its waits may
 * name what earlier submits of the array signal (DOC: in-array chaining,
 * syncops.c), and its signals become visible to the later ones.
 */
static int read_submit(struct mockdrm_file *f, const struct mock_group *g,
		       const struct drm_panthor_queue_submit *qs, struct submit *s,
		       struct mock_chain *chain)
{
	int err;

	s->qs = *qs;
	err = check_queue_submit(g, &s->qs);
	if (!err)
		err = make_job(f->dev, s);
	if (!err)
		err = mock_syncs_read(&f->syncobjs, &s->qs.syncs, &s->syncs, chain);
	if (!err)
		err = mock_chain_add(chain, &s->syncs, s->job->done);
	return err;
}

static int make_job(struct mockdrm_dev *dev, struct submit *s)
{
	s->job = mock_calloc(1, sizeof(*s->job));
	if (!s->job)
		return -ENOMEM;
	s->job->done = mock_fence_create(&dev->sync);
	s->job->addr = s->qs.stream_addr;
	s->job->size = s->qs.stream_size;
	s->job->latest_flush = s->qs.latest_flush;
	return s->job->done ? 0 : -ENOMEM;
}

static void submits_release(struct submit *subs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		mock_syncs_release(&subs[i].syncs);
		if (subs[i].job)
			job_free(subs[i].job);
	}
	free(subs);
}

/*
 * Everything that can fail, for every submit of the array, before anything
 * is queued: the ioctl is all-or-nothing (g->lock held).
 */
static int prepare_submits(struct mock_group *g, struct submit *subs, uint32_t n)
{
	int err = 0;

	if (g->state & (DRM_PANTHOR_GROUP_STATE_FATAL_FAULT | DRM_PANTHOR_GROUP_STATE_TIMEDOUT))
		return -EINVAL;
	for (uint32_t i = 0; !err && i < n; i++)
		err = queue_start_worker(&g->queues[subs[i].qs.queue_index]);
	return err;
}

/*
 * Queue each job and put its fence in its SIGNAL syncobjs and in the
 * reservations of the VM's BOs (g->lock held). Cannot fail.
 */
static void queue_submits(struct mock_group *g, struct submit *subs, uint32_t n,
			  struct mock_implicit *im)
{
	for (uint32_t i = 0; i < n; i++) {
		struct group_job *job = subs[i].job;

		job->waits = mock_syncs_take_waits(&subs[i].syncs, &job->nr_waits);
		mock_syncs_install(&subs[i].syncs, job->done);
		mock_implicit_add(im, i, job->done);
		queue_push(&g->queues[subs[i].qs.queue_index], job);
		subs[i].job = NULL; /* the queue's now */
	}
}

static int submit_all(struct mockdrm_file *f, struct mock_group *g,
		      const struct drm_panthor_obj_array *arr)
{
	struct drm_panthor_queue_submit *qs;
	struct submit *subs = NULL;
	struct mock_chain chain = { 0 };
	struct mock_implicit im = { 0 };
	uint32_t n = 0;
	/* The whole array copied in first, bounded as the kernel's allocation is. */
	int err = mock_read_array(arr, sizeof(*qs), sizeof(*qs), NULL, (void **)&qs);

	if (!err) {
		subs = mock_calloc(arr->count ? arr->count : 1, sizeof(*subs));
		err = subs ? 0 : -ENOMEM;
	}
	for (; !err && n < arr->count; n++)
		err = read_submit(f, g, &qs[n], &subs[n], &chain);
	mock_chain_fini(&chain);
	free(qs);
	if (!err)
		err = mock_implicit_prepare(g->vm, n, &im); /* takes vm->lock: before g->lock */
	if (!err) {
		pthread_mutex_lock(&g->lock);
		err = prepare_submits(g, subs, n);
		if (!err)
			queue_submits(g, subs, n, &im);
		pthread_mutex_unlock(&g->lock);
	}
	mock_implicit_release(&im);
	if (subs)
		submits_release(subs, n);
	return err;
}

int mock_ioctl_group_submit(struct mockdrm_file *f, void *arg)
{
	struct drm_panthor_group_submit *a = arg;
	struct mock_group *g;
	int err;

	if (a->pad)
		return -EINVAL;
	g = group_lookup(f, a->group_handle);
	if (!g)
		return -EINVAL;
	err = submit_all(f, g, &a->queue_submits);
	group_put(g);
	return err;
}

/* fork() (dev->lock held by the forking thread): every group still, then its copy. */
void mock_groups_lock_all(struct mockdrm_dev *dev)
{
	for (struct mock_group *g = dev->groups; g; g = g->dev_next)
		pthread_mutex_lock(&g->lock);
}

void mock_groups_unlock_all(struct mockdrm_dev *dev)
{
	for (struct mock_group *g = dev->groups; g; g = g->dev_next)
		pthread_mutex_unlock(&g->lock);
}

/*
 * In the child, whose only thread holds every lock: the queues' workers were
 * not copied; start new ones for the jobs the copy has queued.
 */
void mock_groups_fork_child(struct mockdrm_dev *dev)
{
	for (struct mock_group *g = dev->groups; g; g = g->dev_next) {
		for (unsigned int i = 0; i < g->nr_queues; i++) {
			struct queue *q = &g->queues[i];

			q->worker_running = false;
			if (q->head)
				queue_start_worker(q); /* else at the next submit */
		}
		pthread_mutex_unlock(&g->lock);
	}
}
