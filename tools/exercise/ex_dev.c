// SPDX-License-Identifier: MIT
/*
 * The device side of gpuvm-exercise, through libdrm: every ioctl the
 * workload issues, and the mock-only ones that check it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include <gpuvm/panthor_drm.h>

#include "ex.h"

#define RENDER_NODE "/dev/dri/renderD128"

static int xioctl(int fd, unsigned long request, void *arg)
{
	return drmIoctl(fd, request, arg) ? -errno : 0;
}

/* The node is a panthor device (the mock says it is one too). */
static int check_driver(struct ex *ex, int fd, const char *path)
{
	drmVersionPtr v = drmGetVersion(fd);
	int ok = v && v->name && !strcmp(v->name, "panthor");

	ex->uapi_minor = v ? v->version_minor : 0;
	if (!ok)
		fprintf(stderr, "gpuvm-exercise: %s is not a panthor device (driver %s)\n", path,
			v && v->name ? v->name : "unknown");
	drmFreeVersion(v);
	return ok ? 0 : -ENODEV;
}

int ex_dev_open(struct ex *ex)
{
	const char *path = ex->cfg.device ? ex->cfg.device : RENDER_NODE;
	struct gpuvm_mock_stats stats = { .flags = GPUVM_MOCK_STATS_RESET };

	for (unsigned int i = 0; i < ex->cfg.files; i++) {
		ex->fd[i] = open(path, O_RDWR | O_CLOEXEC);
		if (ex->fd[i] < 0) {
			int err = -errno;

			fprintf(stderr, "gpuvm-exercise: cannot open %s: %s\n", path,
				strerror(-err));
			return err;
		}
		if (check_driver(ex, ex->fd[i], path))
			return -ENODEV;
	}
	/* A real panthor answers the mock-only ioctls with -EINVAL. */
	ex->mock = xioctl(ex->fd[0], GPUVM_IOCTL_MOCK_STATS, &stats) == 0;
	return 0;
}

void ex_dev_close(struct ex *ex)
{
	for (unsigned int i = 0; i < ex->cfg.files; i++)
		if (ex->fd[i] > 0)
			close(ex->fd[i]);
}

/* Fill a new BO with its pattern through a CPU mapping. */
static int fill_bo(struct ex *ex, unsigned int b)
{
	struct ex_bo *bo = &ex->bo[b];
	int fd = ex->fd[bo->owner];
	struct drm_panthor_bo_mmap_offset mo = { .handle = bo->handle[bo->owner] };
	uint64_t *cpu;
	int err = xioctl(fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &mo);

	if (err)
		return err;
	cpu = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)mo.offset);
	if (cpu == MAP_FAILED)
		return -errno;
	for (uint64_t off = 0; off < bo->size; off += 8)
		cpu[off / 8] = ex_word(b, off);
	munmap(cpu, bo->size);
	return 0;
}

/* Give every other file a handle of BO @b, through PRIME as a client would. */
static int share_bo(struct ex *ex, unsigned int b)
{
	struct ex_bo *bo = &ex->bo[b];
	int dmabuf, err = 0;

	if (ex->cfg.files < 2)
		return 0;
	if (drmPrimeHandleToFD(ex->fd[bo->owner], bo->handle[bo->owner], DRM_CLOEXEC, &dmabuf))
		return -errno;
	for (unsigned int f = 0; f < ex->cfg.files && !err; f++)
		if (f != bo->owner && drmPrimeFDToHandle(ex->fd[f], dmabuf, &bo->handle[f]))
			err = -errno;
	close(dmabuf);
	return err;
}

/*
 * What a Mesa-style client does with a new BO on a 1.4+/1.7+ device: name it,
 * flush the CPU caches after filling it, and check how it was created.
 */
static int describe_bo(struct ex *ex, unsigned int b)
{
	struct ex_bo *bo = &ex->bo[b];
	int fd = ex->fd[bo->owner], err = 0;
	char label[32];
	struct drm_panthor_bo_set_label l = { .handle = bo->handle[bo->owner],
					      .label = (uintptr_t)label };
	struct drm_panthor_bo_sync_op op = { .handle = l.handle, .size = bo->size };
	struct drm_panthor_bo_sync sync = { .ops = DRM_PANTHOR_OBJ_ARRAY(1, &op) };
	struct drm_panthor_bo_query_info q = { .handle = l.handle };

	snprintf(label, sizeof(label), "gpuvm-exercise BO %u", b);
	if (ex->uapi_minor >= 4)
		err = xioctl(fd, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &l);
	if (!err && ex->uapi_minor >= 7)
		err = xioctl(fd, DRM_IOCTL_PANTHOR_BO_SYNC, &sync);
	if (!err && ex->uapi_minor >= 7)
		err = xioctl(fd, DRM_IOCTL_PANTHOR_BO_QUERY_INFO, &q);
	if (!err && (q.extra_flags || q.create_flags))
		err = -EPROTO; /* created here, with no flags */
	return err;
}

static int create_bo(struct ex *ex, unsigned int b, uint64_t size)
{
	struct ex_bo *bo = &ex->bo[b];
	struct drm_panthor_bo_create c = { .size = size };
	int err;

	bo->owner = b % ex->cfg.files;
	err = xioctl(ex->fd[bo->owner], DRM_IOCTL_PANTHOR_BO_CREATE, &c);
	if (err)
		return err;
	bo->size = c.size;
	bo->handle[bo->owner] = c.handle;
	err = fill_bo(ex, b);
	if (!err)
		err = describe_bo(ex, b);
	return err ? err : share_bo(ex, b);
}

static int create_vm(struct ex *ex, unsigned int v, unsigned int file)
{
	struct ex_vm *vm = &ex->vm[v];
	struct drm_panthor_vm_create c = { .user_va_range = 1ull << 32 };
	int err = xioctl(ex->fd[file], DRM_IOCTL_PANTHOR_VM_CREATE, &c);

	if (err)
		return err;
	vm->file = file;
	vm->id = c.id;
	vm->user_va_range = c.user_va_range;
	if (drmSyncobjCreate(ex->fd[file], 0, &vm->timeline))
		return -errno;
	return ex_model_create(&vm->model);
}

int ex_dev_setup(struct ex *ex)
{
	uint64_t sizes[EX_MAX_BOS];
	int err = 0;

	ex->nr_vms = ex->cfg.files * ex->cfg.vms;
	for (unsigned int v = 0; v < ex->nr_vms && !err; v++)
		err = create_vm(ex, v, v % ex->cfg.files);
	ex->nr_bos = ex->cfg.files * ex->cfg.bos;
	ex_gen_bos(ex, sizes, ex->nr_bos);
	for (unsigned int b = 0; b < ex->nr_bos && !err; b++)
		err = create_bo(ex, b, sizes[b]);
	if (err)
		fprintf(stderr, "gpuvm-exercise: setting up the workload failed: %s\n",
			strerror(-err));
	return err;
}

/* Make op @i of an EX_STEP_INVALID step break one rule. */
static void break_op(const struct ex *ex, const struct ex_step *step,
		     struct gpuvm_vm_bind_op_repeat *o)
{
	switch (step->bad_kind) {
	case EX_BAD_VA_ALIGN:
		o->va += EX_PAGE / 2;
		break;
	case EX_BAD_SIZE_ALIGN:
		o->size -= EX_PAGE / 2;
		break;
	case EX_BAD_SIZE_ZERO:
		o->size = 0;
		break;
	case EX_BAD_BO_RANGE:
		o->bo_offset = ex->bo[step->ops[step->bad_op].bo].size;
		break;
	case EX_BAD_FLAG:
		o->flags |= 1u << 20;
		break;
	default:
		o->va = ex->vm[step->vm].user_va_range;
		break;
	}
}

static void fill_op(const struct ex *ex, const struct ex_step *step, const struct ex_op *op,
		    struct gpuvm_vm_bind_op_repeat *o)
{
	unsigned int file = ex->vm[step->vm].file;

	memset(o, 0, sizeof(*o));
	o->va = op->va;
	o->size = op->size;
	if (op->kind == EX_UNMAP) {
		o->flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP;
		return;
	}
	o->flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP;
	o->flags |= op->flags & EX_RO ? DRM_PANTHOR_VM_BIND_OP_MAP_READONLY : 0;
	o->flags |= op->flags & EX_NOEXEC ? DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC : 0;
	o->flags |= op->flags & EX_UNCACHED ? DRM_PANTHOR_VM_BIND_OP_MAP_UNCACHED : 0;
	if (op->kind == EX_SPARSE) {
		o->flags |= DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE;
		return;
	}
	o->bo_handle = ex->bo[op->bo].handle[file];
	o->bo_offset = op->bo_offset;
	if (op->kind == EX_REPEAT) {
		o->flags |= GPUVM_VM_BIND_OP_MAP_REPEAT;
		o->bo_repeat_range = op->range;
	}
}

/*
 * One VM_BIND of ops [@first, @first + @n) of @step. With @wait_point and
 * @signal_point (async), every op waits for the first and signals the
 * second on the VM's timeline. The stride is panthor's unless an op needs
 * our repeat field.
 */
int ex_dev_bind(struct ex *ex, const struct ex_step *step, unsigned int first, unsigned int n,
		uint32_t bind_flags, const uint64_t *wait_point, const uint64_t *signal_point)
{
	struct ex_vm *vm = &ex->vm[step->vm];
	struct gpuvm_vm_bind_op_repeat ops[EX_MAX_OPS];
	struct drm_panthor_sync_op syncs[2];
	unsigned char packed[EX_MAX_OPS * GPUVM_VM_BIND_OP_SIZE_V2];
	uint32_t stride = GPUVM_VM_BIND_OP_SIZE_V1, nsyncs = 0;
	struct drm_panthor_vm_bind b = { .vm_id = vm->id, .flags = bind_flags };

	if (wait_point)
		syncs[nsyncs++] = (struct drm_panthor_sync_op){
			.flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ |
				 DRM_PANTHOR_SYNC_OP_WAIT,
			.handle = vm->timeline,
			.timeline_value = *wait_point,
		};
	if (signal_point)
		syncs[nsyncs++] = (struct drm_panthor_sync_op){
			.flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ |
				 DRM_PANTHOR_SYNC_OP_SIGNAL,
			.handle = vm->timeline,
			.timeline_value = *signal_point,
		};
	for (unsigned int i = 0; i < n; i++) {
		fill_op(ex, step, &step->ops[first + i], &ops[i]);
		if (step->kind == EX_STEP_INVALID && first + i == step->bad_op)
			break_op(ex, step, &ops[i]);
		ops[i].syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(nsyncs, syncs);
		if (ops[i].flags & GPUVM_VM_BIND_OP_MAP_REPEAT)
			stride = GPUVM_VM_BIND_OP_SIZE_V2;
	}
	for (unsigned int i = 0; i < n; i++)
		memcpy(packed + i * stride, &ops[i], stride);
	b.ops = (struct drm_panthor_obj_array){ .stride = stride,
						.count = n,
						.array = (uintptr_t)packed };
	ex->binds++;
	return xioctl(ex->fd[vm->file], DRM_IOCTL_PANTHOR_VM_BIND, &b);
}

int ex_dev_signal(struct ex *ex, unsigned int v, uint64_t point)
{
	struct ex_vm *vm = &ex->vm[v];

	return drmSyncobjTimelineSignal(ex->fd[vm->file], &vm->timeline, &point, 1) ? -errno : 0;
}

int ex_dev_wait(struct ex *ex, unsigned int v, uint64_t point)
{
	struct ex_vm *vm = &ex->vm[v];
	int64_t deadline_ns = (int64_t)((ex_now() + 10.0) * 1e9);

	return drmSyncobjTimelineWait(ex->fd[vm->file], &vm->timeline, &point, 1, deadline_ns,
				      DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL);
}

static int gpu_access(struct ex *ex, unsigned int v, uint32_t op, uint64_t va, uint64_t *value,
		      uint32_t *fault)
{
	struct ex_vm *vm = &ex->vm[v];
	struct gpuvm_mock_gpu_access a = {
		.vm_id = vm->id, .op = op, .va = va, .size = 8, .data = (uintptr_t)value
	};
	int err = xioctl(ex->fd[vm->file], GPUVM_IOCTL_MOCK_GPU_ACCESS, &a);

	if (err)
		return err;
	*fault = a.access;
	ex->checks++;
	return 0;
}

int ex_dev_read(struct ex *ex, unsigned int vm, uint64_t va, uint64_t *value, uint32_t *fault)
{
	return gpu_access(ex, vm, GPUVM_MOCK_GPU_ACCESS_READ, va, value, fault);
}

int ex_dev_write(struct ex *ex, unsigned int vm, uint64_t va, uint64_t value, uint32_t *fault)
{
	return gpu_access(ex, vm, GPUVM_MOCK_GPU_ACCESS_WRITE, va, &value, fault);
}

/* The table memory of every VM of the workload (mock: MOCK_PT_READ). */
static int count_tables(struct ex *ex, struct ex_counters *c)
{
	c->table_pages = c->table_bytes = 0;
	for (unsigned int v = 0; v < ex->nr_vms; v++) {
		struct gpuvm_mock_pt_read r = { .vm_id = ex->vm[v].id };
		int err = xioctl(ex->fd[ex->vm[v].file], GPUVM_IOCTL_MOCK_PT_READ, &r);

		if (err)
			return 0; /* an older mock: the summary says n/a */
		c->table_pages += r.table_pages;
		c->table_bytes += r.table_bytes;
	}
	c->have_tables = true;
	return 0;
}

int ex_dev_counters(struct ex *ex, struct ex_counters *c)
{
	struct gpuvm_mock_stats s = { 0 };
	int err = xioctl(ex->fd[0], GPUVM_IOCTL_MOCK_STATS, &s);

	if (err)
		return err;
	c->flushes = s.pt_flushes;
	c->faults = s.faults;
	c->stale = s.stale_translations;
	c->freed_walks = s.freed_table_walks;
	c->tlb_hits = s.tlb_hits;
	c->tlb_misses = s.tlb_misses;
	return count_tables(ex, c);
}

int ex_dev_gate(struct ex *ex, unsigned int v, uint64_t point, uint32_t *fence)
{
	struct ex_vm *vm = &ex->vm[v];
	struct gpuvm_mock_fence_attach a = { .handle = vm->timeline, .point = point };
	int err = xioctl(ex->fd[vm->file], GPUVM_IOCTL_MOCK_FENCE_ATTACH, &a);

	*fence = a.fence_id;
	return err;
}

int ex_dev_release(struct ex *ex, unsigned int v, uint32_t fence)
{
	struct gpuvm_mock_fence_signal s = { .fence_id = fence };

	return xioctl(ex->fd[ex->vm[v].file], GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &s);
}

int ex_dev_vm_usable(struct ex *ex, unsigned int v)
{
	struct ex_vm *vm = &ex->vm[v];
	struct drm_panthor_vm_get_state s = { .vm_id = vm->id };
	int err = xioctl(ex->fd[vm->file], DRM_IOCTL_PANTHOR_VM_GET_STATE, &s);

	if (err)
		return err;
	return s.state == DRM_PANTHOR_VM_STATE_USABLE ? 0 : -EIO;
}
