// SPDX-License-Identifier: MIT
/*
 * gpuvm-exercise --replay FILE: run a gpuvm trace again on the mock device.
 *
 * Every recorded ioctl is issued again on the file it was made on, with the
 * ids it names (BO handles, VM ids, syncobjs, groups, heaps, mock fences,
 * PRIME and syncobj fds) translated to what the replay's device handed out
 * (struct rp_field says which field is which; arrays are rebuilt from the
 * trace's copies). Its result must equal the recording, and so must the
 * fields that report state (sizes, VM and group states, GPU access faults).
 * The first difference is reported with its ioctl index and ends the replay.
 *
 * Meanwhile a reference model (ex_model.c) follows every VM_BIND that
 * succeeded; at the end the VA layout of every live VM is checked against
 * it through the GPU: the CPU writes a tag in the BO page the model names,
 * and the GPU must read that tag at the VA; sparse pages must translate and
 * holes must fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <xf86drm.h>

#include <gpuvm/panthor_drm.h>

#include "ex_replay.h"
#include "trace-names.h"
#include "trace-read.h"

#define RP_MAX_FILES 64
#define RP_GLOBAL_BO 100 /* map kind: (file, replay handle) -> global BO index */
#define RP_FD_BO 101     /* map kind: replay PRIME fd -> global BO index */
#define RP_MAX_SCRATCH 64

struct rp_entry {
	uint32_t file;
	uint32_t kind;
	uint64_t rec, cur;
};

struct rp_bo {
	uint32_t file, handle; /* a handle to mmap it through (0: none left) */
	uint64_t size;
	void *cpu;
};

struct rp_vm {
	uint32_t file, id;
	struct ex_model *model;
};

struct rp {
	struct ex *ex;
	int fd[RP_MAX_FILES];
	struct rp_entry *map;
	size_t nmap, capmap;
	struct rp_bo *bo;
	size_t nbo;
	struct rp_vm *vm;
	size_t nvm;
	void *scratch[RP_MAX_SCRATCH]; /* arrays rebuilt for the current ioctl */
	unsigned int nscratch;
	const struct trace_record *rec;
	uint64_t ioctls, pages_checked;
	bool diverged;
};

static void diverge(struct rp *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void diverge(struct rp *rp, const char *fmt, ...)
{
	va_list ap;

	if (rp->diverged)
		return;
	rp->diverged = true;
	rp->ex->mismatches++;
	if (rp->rec && rp->rec->type == TRACE_REC_IOCTL)
		fprintf(stderr,
			"gpuvm-exercise: replay: first divergence at ioctl #%u (%s, file %u): ",
			rp->rec->seq, trace_ioctl_name(rp->rec->request), rp->rec->file);
	else if (rp->rec)
		fprintf(stderr, "gpuvm-exercise: replay: first divergence when file %u closes: ",
			rp->rec->file);
	else
		fputs("gpuvm-exercise: replay: first divergence at the end of the trace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct rp_entry *map_find(struct rp *rp, uint32_t file, uint32_t kind, uint64_t rec)
{
	for (size_t i = rp->nmap; i--;)
		if (rp->map[i].kind == kind && rp->map[i].rec == rec &&
		    (kind == RP_FD || rp->map[i].file == file))
			return &rp->map[i];
	return NULL;
}

static int map_set(struct rp *rp, uint32_t file, uint32_t kind, uint64_t rec, uint64_t cur)
{
	struct rp_entry *e = map_find(rp, file, kind, rec);

	if (!e) {
		if (rp->nmap == rp->capmap) {
			size_t cap = rp->capmap ? 2 * rp->capmap : 256;
			struct rp_entry *m = realloc(rp->map, cap * sizeof(*m));

			if (!m)
				return -ENOMEM;
			rp->map = m;
			rp->capmap = cap;
		}
		e = &rp->map[rp->nmap++];
	}
	*e = (struct rp_entry){ .file = file, .kind = kind, .rec = rec, .cur = cur };
	return 0;
}

/* A recorded id in the replay's terms; unknown ids (the program's mistakes) stay as they are. */
static uint64_t translate(struct rp *rp, uint32_t file, uint32_t kind, uint64_t rec)
{
	struct rp_entry *e = rec ? map_find(rp, file, kind, rec) : NULL;

	return e ? e->cur : rec;
}

static uint64_t get_field(const void *arg, const struct rp_field *f)
{
	uint64_t v = 0;

	memcpy(&v, (const unsigned char *)arg + f->off, f->width);
	return v;
}

static void set_field(void *arg, const struct rp_field *f, uint64_t v)
{
	memcpy((unsigned char *)arg + f->off, &v, f->width);
}

/*
 * A copy of the recorded array (@role, @parent), with the u32 id at
 * @id_off of each element translated as @kind (0: no id): its address for
 * the argument; 1 (an address that faults) when the trace has no copy, as
 * when the program's pointer was bad.
 */
static uint64_t rebuild(struct rp *rp, uint32_t role, uint32_t parent, uint32_t kind, size_t id_off)
{
	struct trace_array_view a;
	unsigned char *copy;
	uint32_t file = rp->rec->file;

	if (trace_record_find(rp->rec, role, parent, &a) || rp->nscratch == RP_MAX_SCRATCH)
		return 1;
	copy = malloc((size_t)a.stride * a.count + 1);
	if (!copy)
		return 1;
	rp->scratch[rp->nscratch++] = copy;
	memcpy(copy, a.data, (size_t)a.stride * a.count);
	for (uint32_t i = 0; kind && a.stride >= id_off + 4 && i < a.count; i++) {
		uint32_t id;

		memcpy(&id, copy + (size_t)i * a.stride + id_off, 4);
		id = (uint32_t)translate(rp, file, kind, id);
		memcpy(copy + (size_t)i * a.stride + id_off, &id, 4);
	}
	return (uintptr_t)copy;
}

/*
 * An obj_array of structs whose elements hold an id at @id_off and a syncs
 * obj_array at @syncs_off (VM_BIND ops, queue submits): rebuilt, and each
 * element's syncs too.
 */
static void rebuild_nested(struct rp *rp, struct drm_panthor_obj_array *arr, uint32_t role,
			   uint32_t kind, size_t id_off, uint32_t syncs_role, size_t syncs_off)
{
	unsigned char *elems;

	if (!arr->count)
		return;
	arr->array = rebuild(rp, role, 0, kind, id_off);
	if (arr->array == 1 || arr->stride < syncs_off + sizeof(*arr))
		return;
	elems = (unsigned char *)(uintptr_t)arr->array;
	for (uint32_t i = 0; i < arr->count; i++) {
		struct drm_panthor_obj_array syncs;

		memcpy(&syncs, elems + (size_t)i * arr->stride + syncs_off, sizeof(syncs));
		if (syncs.count)
			syncs.array = rebuild(rp, syncs_role, i, RP_SYNCOBJ,
					      offsetof(struct drm_panthor_sync_op, handle));
		memcpy(elems + (size_t)i * arr->stride + syncs_off, &syncs, sizeof(syncs));
	}
}

/* A wait that succeeded when recorded gets 10 s now; one that timed out, none. */
static void retime(struct rp *rp, __s64 *timeout_ns)
{
	*timeout_ns = rp->rec->result ? 0 : (__s64)((ex_now() + 10.0) * 1e9);
}

/* The syncobj ioctls' handle (u32) and point (u64) arrays, and wait timeouts. */
static void rebuild_syncobj_arrays(struct rp *rp, unsigned int nr, void *arg)
{
	struct drm_syncobj_timeline_array *ta = arg;
	struct drm_syncobj_timeline_wait *tw = arg;
	struct drm_syncobj_array *sa = arg;
	struct drm_syncobj_wait *w = arg;

	switch (nr) {
	case 0xc3: /* WAIT */
		w->handles = w->count_handles ? rebuild(rp, TRACE_ARRAY_HANDLES, 0, RP_SYNCOBJ, 0) :
						0;
		retime(rp, &w->timeout_nsec);
		break;
	case 0xc4: /* RESET */
	case 0xc5: /* SIGNAL */
		sa->handles =
			sa->count_handles ? rebuild(rp, TRACE_ARRAY_HANDLES, 0, RP_SYNCOBJ, 0) : 0;
		break;
	case 0xca: /* TIMELINE_WAIT */
		if (tw->count_handles) {
			tw->handles = rebuild(rp, TRACE_ARRAY_HANDLES, 0, RP_SYNCOBJ, 0);
			tw->points = rebuild(rp, TRACE_ARRAY_POINTS, 0, 0, 0);
		}
		retime(rp, &tw->timeout_nsec);
		break;
	case 0xcb: /* QUERY */
	case 0xcd: /* TIMELINE_SIGNAL */
		if (ta->count_handles) {
			ta->handles = rebuild(rp, TRACE_ARRAY_HANDLES, 0, RP_SYNCOBJ, 0);
			ta->points = rebuild(rp, TRACE_ARRAY_POINTS, 0, 0, 0);
		}
		break;
	default:
		break;
	}
}

/* A GPU access reads into, or writes from, a buffer of the replay's own. */
static void rebuild_access(struct rp *rp, struct gpuvm_mock_gpu_access *a)
{
	void *buf;

	if (!a->data)
		return;
	if (a->op == GPUVM_MOCK_GPU_ACCESS_WRITE) {
		a->data = rebuild(rp, TRACE_ARRAY_ACCESS_DATA, 0, 0, 0);
		return;
	}
	buf = a->size <= (64u << 20) && rp->nscratch < RP_MAX_SCRATCH ? malloc(a->size) : NULL;
	if (buf)
		rp->scratch[rp->nscratch++] = buf;
	a->data = buf ? (uintptr_t)buf : 1;
}

/* Point the argument's arrays at rebuilt copies. */
static void rebuild_arrays(struct rp *rp, unsigned int nr, void *arg)
{
	switch (nr) {
	case DRM_COMMAND_BASE + DRM_PANTHOR_VM_BIND:
		rebuild_nested(rp, &((struct drm_panthor_vm_bind *)arg)->ops, TRACE_ARRAY_BIND_OPS,
			       RP_BO, offsetof(struct drm_panthor_vm_bind_op, bo_handle),
			       TRACE_ARRAY_BIND_OP_SYNCS,
			       offsetof(struct drm_panthor_vm_bind_op, syncs));
		break;
	case DRM_COMMAND_BASE + DRM_PANTHOR_GROUP_SUBMIT:
		rebuild_nested(rp, &((struct drm_panthor_group_submit *)arg)->queue_submits,
			       TRACE_ARRAY_SUBMITS, 0, 0, TRACE_ARRAY_SUBMIT_SYNCS,
			       offsetof(struct drm_panthor_queue_submit, syncs));
		break;
	case DRM_COMMAND_BASE + DRM_PANTHOR_GROUP_CREATE: {
		struct drm_panthor_obj_array *q = &((struct drm_panthor_group_create *)arg)->queues;

		if (q->count)
			q->array = rebuild(rp, TRACE_ARRAY_GROUP_QUEUES, 0, 0, 0);
		break;
	}
	case DRM_COMMAND_BASE + GPUVM_MOCK_GPU_ACCESS:
		rebuild_access(rp, arg);
		break;
	case DRM_COMMAND_BASE + DRM_PANTHOR_BO_SET_LABEL: {
		struct drm_panthor_bo_set_label *l = arg;

		if (l->label)
			l->label = rebuild(rp, TRACE_ARRAY_LABEL, 0, 0, 0);
		break;
	}
	case DRM_COMMAND_BASE + DRM_PANTHOR_BO_SYNC: {
		struct drm_panthor_obj_array *ops = &((struct drm_panthor_bo_sync *)arg)->ops;

		if (ops->count)
			ops->array = rebuild(rp, TRACE_ARRAY_BO_SYNC_OPS, 0, RP_BO,
					     offsetof(struct drm_panthor_bo_sync_op, handle));
		break;
	}
	default:
		rebuild_syncobj_arrays(rp, nr, arg);
		break;
	}
}

/* SYNCOBJ_FD_TO_HANDLE imports into an existing handle with IMPORT_SYNC_FILE. */
static bool fd_to_handle_imports(unsigned int nr, const void *arg)
{
	return nr == 0xc2 && (((const struct drm_syncobj_handle *)arg)->flags &
			      DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE);
}

static void translate_in(struct rp *rp, unsigned int nr, void *arg)
{
	struct drm_syncobj_handle *sh = arg;

	for (const struct rp_field *f = rp_fields; f->nr; f++)
		if (f->nr == nr && f->how == RP_IN)
			set_field(arg, f, translate(rp, rp->rec->file, f->kind, get_field(arg, f)));
	if (fd_to_handle_imports(nr, arg))
		sh->handle = (uint32_t)translate(rp, rp->rec->file, RP_SYNCOBJ, sh->handle);
}

/* After a call that succeeded: learn new ids, compare reported state. */
static int learn_and_compare(struct rp *rp, unsigned int nr, const void *arg)
{
	const void *want = rp->rec->arg_out;
	int err = 0;

	for (const struct rp_field *f = rp_fields; f->nr && !err; f++) {
		if (f->nr != nr)
			continue;
		if (f->how == RP_OUT)
			err = map_set(rp, rp->rec->file, f->kind, get_field(want, f),
				      get_field(arg, f));
		else if (f->how == RP_CMP && get_field(arg, f) != get_field(want, f))
			diverge(rp, "%s: recorded 0x%" PRIx64 ", replayed 0x%" PRIx64, f->name,
				get_field(want, f), get_field(arg, f));
	}
	if (!err && nr == 0xc2 && !fd_to_handle_imports(nr, arg))
		err = map_set(rp, rp->rec->file, RP_SYNCOBJ,
			      ((const struct drm_syncobj_handle *)want)->handle,
			      ((const struct drm_syncobj_handle *)arg)->handle);
	return err;
}

/* The global index of the BO a file's handle names, or -1. */
static long global_bo(struct rp *rp, uint32_t file, uint32_t handle)
{
	struct rp_entry *e = map_find(rp, file, RP_GLOBAL_BO, handle);

	return e ? (long)e->cur : -1;
}

static int add_bo(struct rp *rp, uint32_t file, uint32_t handle, uint64_t size)
{
	struct rp_bo *bo = realloc(rp->bo, (rp->nbo + 1) * sizeof(*bo));

	if (!bo)
		return -ENOMEM;
	rp->bo = bo;
	bo[rp->nbo] = (struct rp_bo){ .file = file, .handle = handle, .size = size };
	return map_set(rp, file, RP_GLOBAL_BO, handle, rp->nbo++);
}

static struct rp_vm *find_vm(struct rp *rp, uint32_t file, uint32_t id)
{
	for (size_t i = 0; i < rp->nvm; i++)
		if (rp->vm[i].model && rp->vm[i].file == file && rp->vm[i].id == id)
			return &rp->vm[i];
	return NULL;
}

static int add_vm(struct rp *rp, uint32_t file, uint32_t id)
{
	struct rp_vm *vm = realloc(rp->vm, (rp->nvm + 1) * sizeof(*vm));

	if (!vm)
		return -ENOMEM;
	rp->vm = vm;
	vm[rp->nvm] = (struct rp_vm){ .file = file, .id = id };
	return ex_model_create(&vm[rp->nvm++].model);
}

static void drop_vm(struct rp_vm *vm)
{
	if (vm) {
		ex_model_destroy(vm->model);
		vm->model = NULL;
	}
}

/* One op of a VM_BIND that succeeded, as the model records it. */
static void model_op(struct rp *rp, struct rp_vm *vm, const struct gpuvm_vm_bind_op_repeat *o)
{
	uint32_t type = o->flags & DRM_PANTHOR_VM_BIND_OP_TYPE_MASK;
	struct ex_op op = { .va = o->va, .size = o->size, .bo_offset = o->bo_offset };
	long bo = global_bo(rp, vm->file, o->bo_handle);

	if (type == DRM_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY || !o->size)
		return;
	op.flags |= o->flags & DRM_PANTHOR_VM_BIND_OP_MAP_READONLY ? EX_RO : 0;
	if (type == DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP)
		op.kind = EX_UNMAP;
	else if (o->flags & DRM_PANTHOR_VM_BIND_OP_MAP_SPARSE)
		op.kind = EX_SPARSE;
	else if (o->flags & GPUVM_VM_BIND_OP_MAP_REPEAT)
		op.kind = EX_REPEAT, op.range = o->bo_repeat_range;
	else
		op.kind = EX_MAP;
	op.bo = bo < 0 ? UINT32_MAX : (unsigned int)bo;
	if (ex_model_apply(vm->model, &op))
		diverge(rp, "out of memory for the model");
}

static void model_bind(struct rp *rp, const struct drm_panthor_vm_bind *b)
{
	struct rp_vm *vm = find_vm(rp, rp->rec->file, b->vm_id);
	const unsigned char *ops = (const unsigned char *)(uintptr_t)b->ops.array;

	if (!vm || b->ops.array <= 1)
		return;
	for (uint32_t i = 0; i < b->ops.count; i++) {
		struct gpuvm_vm_bind_op_repeat o = { 0 };

		memcpy(&o, ops + (size_t)i * b->ops.stride,
		       b->ops.stride < sizeof(o) ? b->ops.stride : sizeof(o));
		model_op(rp, vm, &o);
	}
}

/* What a successful call changed in the replay's own records. */
static int bookkeep(struct rp *rp, unsigned int nr, const void *arg)
{
	uint32_t file = rp->rec->file;
	const struct drm_prime_handle *ph = arg;
	long g;

	switch (nr) {
	case DRM_COMMAND_BASE + DRM_PANTHOR_BO_CREATE: {
		const struct drm_panthor_bo_create *c = arg;

		return add_bo(rp, file, c->handle, c->size);
	}
	case 0x2d: /* PRIME_HANDLE_TO_FD */
		g = global_bo(rp, file, ph->handle);
		return g < 0 ? 0 : map_set(rp, 0, RP_FD_BO, (uint64_t)ph->fd, (uint64_t)g);
	case 0x2e: { /* PRIME_FD_TO_HANDLE */
		struct rp_entry *e = map_find(rp, 0, RP_FD_BO, (uint64_t)ph->fd);

		return e ? map_set(rp, file, RP_GLOBAL_BO, ph->handle, e->cur) : 0;
	}
	case 0x09: /* GEM_CLOSE: that handle can no longer map the BO */
		g = global_bo(rp, file, ((const struct drm_gem_close *)arg)->handle);
		if (g >= 0 && rp->bo[g].file == file &&
		    rp->bo[g].handle == ((const struct drm_gem_close *)arg)->handle)
			rp->bo[g].handle = 0;
		return 0;
	case DRM_COMMAND_BASE + DRM_PANTHOR_VM_CREATE:
		return add_vm(rp, file, ((const struct drm_panthor_vm_create *)arg)->id);
	case DRM_COMMAND_BASE + DRM_PANTHOR_VM_DESTROY:
		drop_vm(find_vm(rp, file, ((const struct drm_panthor_vm_destroy *)arg)->id));
		return 0;
	case DRM_COMMAND_BASE + DRM_PANTHOR_VM_BIND:
		model_bind(rp, arg);
		return 0;
	default:
		return 0;
	}
}

/* Show a VM to ex->inspect (gpuvm-ptdump) as it is now. */
static void inspect_vm(struct rp *rp, const struct rp_vm *vm)
{
	if (rp->ex->inspect)
		rp->ex->inspect(rp->ex, rp->fd[vm->file], vm->id, rp->ex->inspect_ctx);
}

/* The CPU mapping of a global BO, or NULL when it cannot be mapped. */
static uint64_t *bo_cpu(struct rp *rp, unsigned int g)
{
	struct rp_bo *bo = g < rp->nbo ? &rp->bo[g] : NULL;
	struct drm_panthor_bo_mmap_offset mo;
	void *cpu;

	if (!bo || bo->cpu || !bo->handle)
		return bo ? bo->cpu : NULL;
	mo = (struct drm_panthor_bo_mmap_offset){ .handle = bo->handle };
	if (drmIoctl(rp->fd[bo->file], DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &mo))
		return NULL;
	cpu = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, rp->fd[bo->file],
		   (off_t)mo.offset);
	bo->cpu = cpu == MAP_FAILED ? NULL : cpu;
	return bo->cpu;
}

/* GPU read of 8 bytes at @va: its fault status, and the value. */
static uint32_t gpu_read(struct rp *rp, const struct rp_vm *vm, uint64_t va, uint64_t *value)
{
	struct gpuvm_mock_gpu_access a = { .vm_id = vm->id,
					   .op = GPUVM_MOCK_GPU_ACCESS_READ,
					   .va = va,
					   .size = 8,
					   .data = (uintptr_t)value };

	if (drmIoctl(rp->fd[vm->file], GPUVM_IOCTL_MOCK_GPU_ACCESS, &a))
		return UINT32_MAX;
	rp->pages_checked++;
	return a.access;
}

/* One page of a VM against the model: a tag written by the CPU, read by the GPU. */
static void check_page(struct rp *rp, const struct rp_vm *vm, uint64_t va)
{
	struct ex_expectation e;
	uint64_t *cpu = NULL, tag = ex_rand(&rp->ex->rng), got = 0;
	uint32_t fault;

	ex_model_lookup(vm->model, va, &e);
	if (e.kind == EX_EXPECT_BO && (cpu = bo_cpu(rp, e.bo)) && e.bo_offset < rp->bo[e.bo].size)
		cpu[e.bo_offset / 8] = tag;
	fault = gpu_read(rp, vm, va, &got);
	if (e.kind == EX_EXPECT_FAULT && !fault)
		diverge(rp,
			"final layout of file %u VM %u, va 0x%" PRIx64
			": a hole in the recorded binds, the GPU read data",
			vm->file, vm->id, va);
	else if (e.kind != EX_EXPECT_FAULT && fault)
		diverge(rp,
			"final layout of file %u VM %u, va 0x%" PRIx64
			": mapped by the recorded binds, the GPU faulted (0x%x)",
			vm->file, vm->id, va, fault);
	else if (cpu && got != tag)
		diverge(rp,
			"final layout of file %u VM %u, va 0x%" PRIx64
			": the GPU does not see BO %u offset 0x%" PRIx64,
			vm->file, vm->id, va, e.bo, e.bo_offset);
}

/* Every extent of @vm (a sample of big ones) and the page after each. */
static void check_vm(struct rp *rp, const struct rp_vm *vm)
{
	struct ex_op x;

	for (unsigned int i = 0; vm->model && ex_model_extent(vm->model, i, &x) == 0; i++) {
		uint64_t pages = x.size / EX_PAGE;

		for (unsigned int k = 0; k < 4; k++)
			check_page(rp, vm, x.va + ex_below(&rp->ex->rng, pages) * EX_PAGE);
		check_page(rp, vm, x.va);
		check_page(rp, vm, x.va + x.size - 8);
		check_page(rp, vm, x.va + x.size);
	}
}

/* The VMs still alive when the trace ends. */
static void check_layout(struct rp *rp)
{
	rp->rec = NULL;
	for (size_t v = 0; v < rp->nvm; v++)
		check_vm(rp, &rp->vm[v]);
}

static int replay_ioctl(struct rp *rp, const struct trace_record *rec)
{
	_Alignas(8) unsigned char arg[256] = { 0 };
	unsigned int nr = _IOC_NR(rec->request);
	int fd = rec->file < RP_MAX_FILES ? rp->fd[rec->file] : -1, ret, err = 0;

	rp->rec = rec;
	if (fd < 0 || rec->arg_size > sizeof(arg)) {
		diverge(rp, "the trace uses a file it never opened");
		return -EINVAL;
	}
	memcpy(arg, rec->arg_in, rec->arg_size);
	translate_in(rp, nr, arg);
	if (nr == DRM_COMMAND_BASE + DRM_PANTHOR_VM_DESTROY && !rec->result) {
		struct rp_vm *vm =
			find_vm(rp, rec->file, ((struct drm_panthor_vm_destroy *)arg)->id);

		if (vm) {
			inspect_vm(rp, vm);
			check_vm(rp, vm); /* its final layout */
		}
	}
	rebuild_arrays(rp, nr, arg);
	ret = drmIoctl(fd, (unsigned long)rec->request, arg) ? -errno : 0;
	rp->ioctls++;
	if (ret != rec->result)
		diverge(rp, "recorded result %d (%s), replayed %d (%s)", rec->result,
			strerror(-rec->result), ret, strerror(-ret));
	else if (!ret)
		err = learn_and_compare(rp, nr, arg);
	if (!ret && !err)
		err = bookkeep(rp, nr, arg);
	while (rp->nscratch)
		free(rp->scratch[--rp->nscratch]);
	return err;
}

static int replay_open(struct rp *rp, const struct trace_record *rec)
{
	const char *node = rec->rdev_minor >= 128 ? "/dev/dri/renderD128" : "/dev/dri/card0";

	if (rec->file >= RP_MAX_FILES || rp->fd[rec->file] >= 0) {
		fprintf(stderr, "gpuvm-exercise: replay: file %u opened twice or too many files\n",
			rec->file);
		return -EINVAL;
	}
	rp->fd[rec->file] = open(node, O_RDWR | O_CLOEXEC);
	return rp->fd[rec->file] < 0 ? -errno : 0;
}

static void replay_close(struct rp *rp, const struct trace_record *rec)
{
	if (rec->file >= RP_MAX_FILES || rp->fd[rec->file] < 0)
		return;
	rp->rec = rec;
	for (size_t i = 0; i < rp->nvm; i++) {
		if (rp->vm[i].file == rec->file && rp->vm[i].model) {
			inspect_vm(rp, &rp->vm[i]);
			check_vm(rp, &rp->vm[i]); /* its final layout */
			drop_vm(&rp->vm[i]);
		}
	}
	for (size_t i = 0; i < rp->nbo; i++)
		if (rp->bo[i].file == rec->file)
			rp->bo[i].handle = 0;
	close(rp->fd[rec->file]);
	rp->fd[rec->file] = -1;
}

/* Did the replay reach the ioctl it should stop after (ex->stop_after)? */
static bool stopped(const struct rp *rp)
{
	return rp->ex->stop_after >= 0 && rp->ioctls > (uint64_t)rp->ex->stop_after;
}

/* Show every live VM to ex->inspect. */
static void inspect_all(struct rp *rp)
{
	for (size_t i = 0; i < rp->nvm; i++)
		if (rp->vm[i].model)
			inspect_vm(rp, &rp->vm[i]);
}

static int replay_all(struct rp *rp, struct trace_reader *r)
{
	struct trace_record rec;
	int ret = 0, err = 0;

	while (!err && !rp->diverged && !stopped(rp) && (ret = trace_reader_next(r, &rec)) > 0) {
		if (rec.type == TRACE_REC_OPEN)
			err = replay_open(rp, &rec);
		else if (rec.type == TRACE_REC_CLOSE)
			replay_close(rp, &rec);
		else
			err = replay_ioctl(rp, &rec);
		ex_progress(rp->ex, rp->ioctls, rp->ioctls);
	}
	if (!err && ret < 0) {
		fprintf(stderr,
			"gpuvm-exercise: replay: malformed trace after ioctl #%" PRIu64 "\n",
			rp->ioctls);
		err = ret;
	}
	return err;
}

static void rp_free(struct rp *rp)
{
	for (size_t i = 0; i < rp->nvm; i++)
		drop_vm(&rp->vm[i]);
	for (size_t i = 0; i < rp->nbo; i++)
		if (rp->bo[i].cpu)
			munmap(rp->bo[i].cpu, rp->bo[i].size);
	for (unsigned int i = 0; i < RP_MAX_FILES; i++)
		if (rp->fd[i] >= 0)
			close(rp->fd[i]);
	free(rp->vm);
	free(rp->bo);
	free(rp->map);
}

static void replay_report(const struct ex *ex, const struct rp *rp, FILE *out)
{
	if (ex->cfg.json) {
		fprintf(out,
			"{\"replay\": \"%s\", \"ioctls\": %" PRIu64 ", \"pages_checked\": %" PRIu64
			", \"divergences\": %" PRIu64 ", \"ok\": %s}\n",
			ex->cfg.replay, rp->ioctls, rp->pages_checked, ex->mismatches,
			ex->mismatches ? "false" : "true");
		return;
	}
	fprintf(out, "gpuvm-exercise: replayed %s on the mock device\n", ex->cfg.replay);
	fprintf(out, "  ioctls            %12" PRIu64 "  (each result as recorded)\n", rp->ioctls);
	fprintf(out, "  layout checks     %12" PRIu64 "  (GPU reads of the final VA layout)\n",
		rp->pages_checked);
	fprintf(out, "  divergences       %12" PRIu64 "  (must be 0)\n", ex->mismatches);
	fprintf(out, "result: %s\n", ex->mismatches ? "FAILED" : "OK");
}

int ex_replay_main(struct ex *ex)
{
	struct rp rp = { .ex = ex };
	struct trace_reader *r;
	int err = trace_reader_open(ex->cfg.replay, &r);

	if (err) {
		fprintf(stderr, "gpuvm-exercise: cannot read trace %s: %s\n", ex->cfg.replay,
			strerror(-err));
		return 2;
	}
	for (unsigned int i = 0; i < RP_MAX_FILES; i++)
		rp.fd[i] = -1;
	err = replay_all(&rp, r);
	if (!err && !rp.diverged)
		inspect_all(&rp);
	if (!err && !rp.diverged && !stopped(&rp))
		check_layout(&rp);
	ex_progress_end(ex);
	trace_reader_destroy(r);
	rp_free(&rp);
	if (err && !rp.diverged)
		return 2;
	if (!ex->cfg.quiet)
		replay_report(ex, &rp, stdout);
	return ex->mismatches ? 1 : 0;
}
