// SPDX-License-Identifier: MIT
/*
 * mesa-like: what a Mesa-style panthor driver does with the device at
 * start-up and on its hot path, with libdrm and the uapi header only.
 *
 *   1. find the render node (drmGetDevices2), open it, check it against
 *      drmGetDevice2 and drmOpenWithType, read VERSION;
 *   2. DEV_QUERY: GPU_INFO, CSIF_INFO, TIMESTAMP_INFO (the 1.8 layout with
 *      flags from 1.8, the 24-byte one before), GROUP_PRIORITIES_INFO;
 *   3. from 1.5: SET_USER_MMIO_OFFSET and a read-only mapping of the
 *      LATEST_FLUSH_ID page, read as command streams are built;
 *   4. a VM whose VAs the client allocates itself ("auto VA") in the user
 *      range it asked for, from the GPU's VA bits;
 *   5. BOs, labelled from 1.4, one private to the VM;
 *   6. an immediate (synchronous) bind, then async binds chained on a
 *      timeline syncobj, waited for on the CPU;
 *   7. PRIME export to a dma-buf and import in a second open file;
 *   8. implicit sync on the shared BO: DMA_BUF_IOCTL_IMPORT_SYNC_FILE of the
 *      client's write fence, DMA_BUF_IOCTL_EXPORT_SYNC_FILE waited with poll().
 *
 * Every effect is checked. Two mock-only ioctls of the same header stand for
 * what a real driver would do with the GPU: GPUVM_IOCTL_MOCK_GPU_ACCESS reads
 * what the GPU sees after a bind (a shader would), and the mock's test fences
 * give a fence that stays pending until the client signals it (a render job
 * still running would). Any unexpected errno or effect prints what and where,
 * and the program exits 1.
 *
 * Usage: mesa-like [--skip STEP[,STEP...]] [--verbose]
 *   STEP: mmio, implicit-sync (steps the device under test cannot do yet;
 *   each skip is printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

#include <gpuvm/panthor_drm.h>

#define PAGE 4096ull
#define BO_SIZE (64 * 1024ull)
#define WAIT_NS (5ll * 1000000000ll)

struct client {
	int fd;        /* the render node */
	char node[64]; /* its path */
	int minor;     /* the driver's minor version */
	struct drm_panthor_gpu_info gpu;
	uint32_t vm;
	uint64_t va_next, va_end; /* the client's own VA allocator */
	uint32_t bo, bo_private;  /* BO_SIZE each */
	uint64_t bo_va, private_va;
	uint8_t *bo_cpu;
};

static bool verbose;
static const char *skips = "";

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mesa-like: FAILED: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void step(const char *what)
{
	if (verbose)
		printf("mesa-like: %s\n", what);
}

static bool skipped(const char *name)
{
	const char *at = strstr(skips, name);
	size_t n = strlen(name);

	if (!at || (at != skips && at[-1] != ',') || (at[n] && at[n] != ','))
		return false;
	printf("mesa-like: SKIPPED %s (--skip)\n", name);
	return true;
}

/* An ioctl that must succeed. */
static void xioctl(int fd, unsigned long request, void *arg, const char *what)
{
	if (drmIoctl(fd, request, arg))
		fail("%s: %s", what, strerror(errno));
}

/* 1. The render node of the first panthor device. */
static int open_panthor(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	drmVersionPtr v;
	bool ours;

	if (fd < 0)
		return -1;
	v = drmGetVersion(fd);
	ours = v && !strcmp(v->name, "panthor");
	drmFreeVersion(v);
	if (!ours)
		close(fd);
	return ours ? fd : -1;
}

static void find_render_node(struct client *c)
{
	drmDevicePtr devs[16], dev;
	int n = drmGetDevices2(0, devs, 16);

	c->fd = -1;
	if (n < 0)
		fail("drmGetDevices2: %s", strerror(-n));
	for (int i = 0; i < n && c->fd < 0; i++) {
		if (!(devs[i]->available_nodes & (1 << DRM_NODE_RENDER)))
			continue;
		c->fd = open_panthor(devs[i]->nodes[DRM_NODE_RENDER]);
		if (c->fd >= 0)
			snprintf(c->node, sizeof(c->node), "%s", devs[i]->nodes[DRM_NODE_RENDER]);
	}
	drmFreeDevices(devs, n);
	if (c->fd < 0)
		fail("no panthor render node among %d DRM devices", n);
	if (drmGetNodeTypeFromFd(c->fd) != DRM_NODE_RENDER)
		fail("%s: drmGetNodeTypeFromFd is not DRM_NODE_RENDER", c->node);
	if (drmGetDevice2(c->fd, 0, &dev))
		fail("drmGetDevice2: %s", strerror(errno));
	if (strcmp(dev->nodes[DRM_NODE_RENDER], c->node))
		fail("drmGetDevice2 names %s, opened %s", dev->nodes[DRM_NODE_RENDER], c->node);
	drmFreeDevice(&dev);
}

/* The same device the way older code paths open it, by driver name. */
static void open_by_name(void)
{
	int fd = drmOpenWithType("panthor", NULL, DRM_NODE_RENDER);

	if (fd < 0)
		fail("drmOpenWithType(panthor, render): %s", strerror(-fd));
	if (drmGetNodeTypeFromFd(fd) != DRM_NODE_RENDER)
		fail("drmOpenWithType gave a node that is not a render node");
	close(fd);
}

static void read_version(struct client *c)
{
	drmVersionPtr v = drmGetVersion(c->fd);

	if (!v)
		fail("drmGetVersion: %s", strerror(errno));
	if (v->version_major != 1)
		fail("panthor version %d.%d: want 1.x", v->version_major, v->version_minor);
	c->minor = v->version_minor;
	printf("mesa-like: %s: %s %d.%d.%d\n", c->node, v->name, v->version_major, v->version_minor,
	       v->version_patchlevel);
	drmFreeVersion(v);
}

/* 2. DEV_QUERY the way kmod does it: the size first, then the struct. */
static void query(struct client *c, uint32_t type, void *out, uint32_t size, const char *what)
{
	struct drm_panthor_dev_query q = { .type = type };

	xioctl(c->fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q, what);
	if (q.size < size)
		fail("%s: the device's struct is %u bytes, ours %u", what, q.size, size);
	q.size = size;
	q.pointer = (uint64_t)(uintptr_t)out;
	xioctl(c->fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q, what);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* 1.8: ask for the GPU time, its frequency and CLOCK_MONOTONIC sampled with it. */
static void query_timestamp_1_8(struct client *c)
{
	struct drm_panthor_timestamp_info t = {
		.flags = DRM_PANTHOR_TIMESTAMP_GPU | DRM_PANTHOR_TIMESTAMP_FREQ |
			 DRM_PANTHOR_TIMESTAMP_CPU_MONOTONIC | DRM_PANTHOR_TIMESTAMP_DURATION,
	};
	struct drm_panthor_dev_query q = { .type = DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO,
					   .size = sizeof(t),
					   .pointer = (uint64_t)(uintptr_t)&t };
	int64_t before = mono_ns(), cpu;

	xioctl(c->fd, DRM_IOCTL_PANTHOR_DEV_QUERY, &q, "TIMESTAMP_INFO (1.8)");
	cpu = (int64_t)t.cpu_timestamp_sec * 1000000000ll + (int64_t)t.cpu_timestamp_nsec;
	if (!t.timestamp_frequency || !t.current_timestamp)
		fail("TIMESTAMP_INFO (1.8): frequency %" PRIu64 ", timestamp %" PRIu64,
		     (uint64_t)t.timestamp_frequency, (uint64_t)t.current_timestamp);
	if (cpu < before || cpu > mono_ns())
		fail("TIMESTAMP_INFO (1.8): CLOCK_MONOTONIC %" PRId64 " outside the call", cpu);
}

static void query_all(struct client *c)
{
	struct drm_panthor_csif_info csif;
	struct drm_panthor_timestamp_info t;
	struct drm_panthor_group_priorities_info prio;

	query(c, DRM_PANTHOR_DEV_QUERY_GPU_INFO, &c->gpu, sizeof(c->gpu), "GPU_INFO");
	if (!c->gpu.gpu_id || (c->gpu.mmu_features & 0xff) < 32)
		fail("GPU_INFO: gpu_id 0x%x, mmu_features 0x%x", c->gpu.gpu_id,
		     c->gpu.mmu_features);
	query(c, DRM_PANTHOR_DEV_QUERY_CSIF_INFO, &csif, sizeof(csif), "CSIF_INFO");
	if (!csif.cs_slot_count || !csif.csg_slot_count)
		fail("CSIF_INFO: no command stream slots");
	if (c->minor >= 8) {
		query_timestamp_1_8(c);
	} else if (c->minor >= 1) {
		query(c, DRM_PANTHOR_DEV_QUERY_TIMESTAMP_INFO, &t, 24, "TIMESTAMP_INFO");
		if (!t.timestamp_frequency)
			fail("TIMESTAMP_INFO: frequency 0");
	}
	if (c->minor >= 2) {
		query(c, DRM_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO, &prio, sizeof(prio),
		      "GROUP_PRIORITIES_INFO");
		if (!(prio.allowed_mask & (1u << PANTHOR_GROUP_PRIORITY_MEDIUM)))
			fail("GROUP_PRIORITIES_INFO: medium priority not allowed (mask 0x%x)",
			     prio.allowed_mask);
	}
}

/* 3. The flush-ID page: Mesa gives up creating the device if this fails. */
static void map_flush_id(struct client *c)
{
	struct drm_panthor_set_user_mmio_offset set = { .offset = DRM_PANTHOR_USER_MMIO_OFFSET };
	volatile uint32_t *page;

	if (c->minor < 5 || skipped("mmio"))
		return;
	xioctl(c->fd, DRM_IOCTL_PANTHOR_SET_USER_MMIO_OFFSET, &set, "SET_USER_MMIO_OFFSET");
	page = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, c->fd,
		    (off_t)DRM_PANTHOR_USER_FLUSH_ID_MMIO_OFFSET);
	if (page == MAP_FAILED)
		fail("mmap of the flush-ID page: %s", strerror(errno));
	printf("mesa-like: LATEST_FLUSH_ID %u\n", page[0]);
	munmap((void *)page, PAGE);
}

/* 4. A VM of half the GPU's VA space; the client places its BOs itself. */
static void create_vm(struct client *c)
{
	unsigned int va_bits = c->gpu.mmu_features & 0xff;
	struct drm_panthor_vm_create vm = { .user_va_range = 1ull << (va_bits - 1) };

	xioctl(c->fd, DRM_IOCTL_PANTHOR_VM_CREATE, &vm, "VM_CREATE");
	if (!vm.user_va_range || vm.user_va_range > 1ull << (va_bits - 1))
		fail("VM_CREATE: user range 0x%" PRIx64, (uint64_t)vm.user_va_range);
	c->vm = vm.id;
	c->va_next = 32ull << 20; /* the low VAs stay unmapped: NULL stays a fault */
	c->va_end = vm.user_va_range;
}

static uint64_t alloc_va(struct client *c, uint64_t size)
{
	uint64_t va = c->va_next;

	if (size > c->va_end - va)
		fail("out of VA");
	c->va_next += (size + 2 * 1024 * 1024 - 1) & ~(2 * 1024 * 1024ull - 1);
	return va;
}

/* 5. BOs, named for debugging when the device knows labels. */
static uint32_t create_bo(struct client *c, uint32_t exclusive_vm, const char *label)
{
	struct drm_panthor_bo_create bo = { .size = BO_SIZE, .exclusive_vm_id = exclusive_vm };
	struct drm_panthor_bo_set_label set;

	xioctl(c->fd, DRM_IOCTL_PANTHOR_BO_CREATE, &bo, "BO_CREATE");
	if (bo.size != BO_SIZE || !bo.handle)
		fail("BO_CREATE: size %" PRIu64 ", handle %u", (uint64_t)bo.size, bo.handle);
	if (c->minor >= 4) {
		set = (struct drm_panthor_bo_set_label){ .handle = bo.handle,
							 .label = (uint64_t)(uintptr_t)label };
		xioctl(c->fd, DRM_IOCTL_PANTHOR_BO_SET_LABEL, &set, "BO_SET_LABEL");
	}
	return bo.handle;
}

static uint8_t *map_bo(int fd, uint32_t handle)
{
	struct drm_panthor_bo_mmap_offset off = { .handle = handle };
	void *cpu;

	xioctl(fd, DRM_IOCTL_PANTHOR_BO_MMAP_OFFSET, &off, "BO_MMAP_OFFSET");
	cpu = mmap(NULL, BO_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off.offset);
	if (cpu == MAP_FAILED)
		fail("mmap of a BO: %s", strerror(errno));
	return cpu;
}

/* What the GPU reads at @va: 0 and the bytes, or the fault status. */
static uint32_t gpu_read(struct client *c, uint64_t va, void *buf, uint64_t size)
{
	struct gpuvm_mock_gpu_access a = { .vm_id = c->vm,
					   .op = GPUVM_MOCK_GPU_ACCESS_READ,
					   .va = va,
					   .size = size,
					   .data = (uint64_t)(uintptr_t)buf };

	xioctl(c->fd, GPUVM_IOCTL_MOCK_GPU_ACCESS, &a, "GPU read (mock GPU access)");
	return a.access;
}

static void expect_gpu_sees(struct client *c, uint64_t va, const uint8_t *want, const char *what)
{
	uint8_t got[256];

	if (gpu_read(c, va, got, sizeof(got)))
		fail("%s: the GPU faults at 0x%" PRIx64, what, va);
	if (memcmp(got, want, sizeof(got)))
		fail("%s: the GPU reads other bytes than the CPU wrote at 0x%" PRIx64, what, va);
}

static void expect_gpu_faults(struct client *c, uint64_t va, const char *what)
{
	uint8_t got[8];

	if (!gpu_read(c, va, got, sizeof(got)))
		fail("%s: 0x%" PRIx64 " is still mapped", what, va);
}

static struct drm_panthor_vm_bind_op map_op(uint32_t bo, uint64_t va, uint32_t flags)
{
	return (struct drm_panthor_vm_bind_op){
		.flags = DRM_PANTHOR_VM_BIND_OP_TYPE_MAP | flags,
		.bo_handle = bo,
		.va = va,
		.size = BO_SIZE,
	};
}

static void vm_bind(struct client *c, uint32_t flags, struct drm_panthor_vm_bind_op *op,
		    const char *what)
{
	struct drm_panthor_vm_bind b = {
		.vm_id = c->vm,
		.flags = flags,
		.ops = { .stride = sizeof(*op), .count = 1, .array = (uint64_t)(uintptr_t)op },
	};

	xioctl(c->fd, DRM_IOCTL_PANTHOR_VM_BIND, &b, what);
}

/* 6a. Immediate bind: the BO is usable by the GPU when the ioctl returns. */
static void bind_immediate(struct client *c)
{
	struct drm_panthor_vm_bind_op op;

	c->bo_va = alloc_va(c, BO_SIZE);
	op = map_op(c->bo, c->bo_va, DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC);
	vm_bind(c, 0, &op, "VM_BIND (immediate MAP)");
	c->bo_cpu = map_bo(c->fd, c->bo);
	for (unsigned int i = 0; i < BO_SIZE; i++)
		c->bo_cpu[i] = (uint8_t)(i * 7 + 3);
	expect_gpu_sees(c, c->bo_va, c->bo_cpu, "immediate bind");
}

/* An op's sync array of one wait and one signal on timeline @tl (wait point 0: none). */
static void timeline_syncs(struct drm_panthor_sync_op syncs[2], uint32_t tl, uint64_t wait,
			   uint64_t signal, struct drm_panthor_vm_bind_op *op)
{
	unsigned int n = 0;

	if (wait)
		syncs[n++] = (struct drm_panthor_sync_op){
			.flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ |
				 DRM_PANTHOR_SYNC_OP_WAIT,
			.handle = tl,
			.timeline_value = wait
		};
	syncs[n++] = (struct drm_panthor_sync_op){
		.flags = DRM_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ |
			 DRM_PANTHOR_SYNC_OP_SIGNAL,
		.handle = tl,
		.timeline_value = signal
	};
	op->syncs = (struct drm_panthor_obj_array){ .stride = sizeof(syncs[0]),
						    .count = n,
						    .array = (uint64_t)(uintptr_t)syncs };
}

/*
 * 6b. The hot path: async binds ordered by a timeline (map the private BO at
 * point 1; then unmap the first BO, after point 1, at point 2), the CPU
 * waiting for the last point as a fence wait of a later submit would.
 */
static void bind_async(struct client *c)
{
	struct drm_panthor_sync_op syncs1[2], syncs2[2];
	struct drm_panthor_vm_bind_op map, unmap;
	uint64_t point = 2, got = 0;
	uint32_t tl;

	if (drmSyncobjCreate(c->fd, 0, &tl))
		fail("SYNCOBJ_CREATE: %s", strerror(errno));
	c->private_va = alloc_va(c, BO_SIZE);
	map = map_op(c->bo_private, c->private_va, 0);
	timeline_syncs(syncs1, tl, 0, 1, &map);
	vm_bind(c, DRM_PANTHOR_VM_BIND_ASYNC, &map, "VM_BIND (async MAP)");
	unmap = (struct drm_panthor_vm_bind_op){ .flags = DRM_PANTHOR_VM_BIND_OP_TYPE_UNMAP,
						 .va = c->bo_va,
						 .size = BO_SIZE };
	timeline_syncs(syncs2, tl, 1, 2, &unmap);
	vm_bind(c, DRM_PANTHOR_VM_BIND_ASYNC, &unmap, "VM_BIND (async UNMAP)");
	if (drmSyncobjTimelineWait(c->fd, &tl, &point, 1, mono_ns() + WAIT_NS,
				   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL))
		fail("SYNCOBJ_TIMELINE_WAIT (point 2): %s", strerror(errno));
	if (drmSyncobjQuery(c->fd, &tl, &got, 1) || got != 2)
		fail("SYNCOBJ_QUERY: point %" PRIu64 ", want 2", got);
	expect_gpu_faults(c, c->bo_va, "async unmap");
	if (gpu_read(c, c->private_va, (uint8_t[8]){ 0 }, 8))
		fail("async map: the GPU faults at 0x%" PRIx64, c->private_va);
	drmSyncobjDestroy(c->fd, tl);
	/* Put the first BO back for the sharing steps. */
	map = map_op(c->bo, c->bo_va, DRM_PANTHOR_VM_BIND_OP_MAP_NOEXEC);
	vm_bind(c, 0, &map, "VM_BIND (immediate MAP again)");
}

/* 7. Share the BO: a dma-buf, imported by a second open file. */
static int share_bo(struct client *c)
{
	int dmabuf, fd2;
	uint32_t self, handle2;
	uint8_t *cpu2;

	if (drmPrimeHandleToFD(c->fd, c->bo, DRM_CLOEXEC | DRM_RDWR, &dmabuf))
		fail("PRIME_HANDLE_TO_FD: %s", strerror(errno));
	if (lseek(dmabuf, 0, SEEK_END) != (off_t)BO_SIZE)
		fail("the dma-buf's size is not the BO's");
	if (drmPrimeFDToHandle(c->fd, dmabuf, &self) || self != c->bo)
		fail("PRIME_FD_TO_HANDLE in the exporter: handle %u, want %u", self, c->bo);
	fd2 = open(c->node, O_RDWR | O_CLOEXEC);
	if (fd2 < 0 || drmPrimeFDToHandle(fd2, dmabuf, &handle2))
		fail("PRIME_FD_TO_HANDLE in a second file: %s", strerror(errno));
	cpu2 = map_bo(fd2, handle2);
	if (memcmp(cpu2, c->bo_cpu, BO_SIZE))
		fail("the importer sees other bytes than the exporter");
	cpu2[0] ^= 0xff;
	if (c->bo_cpu[0] != cpu2[0])
		fail("a write through the importer is not seen by the exporter");
	expect_gpu_sees(c, c->bo_va, c->bo_cpu, "a write through the importer");
	munmap(cpu2, BO_SIZE);
	close(fd2);
	return dmabuf;
}

/* Wait for a sync file as Mesa's implicit sync does: poll() until readable. */
static void wait_sync_file(int sync_file, const char *what)
{
	struct pollfd p = { .fd = sync_file, .events = POLLIN };
	struct sync_file_info info = { 0 };

	if (poll(&p, 1, (int)(WAIT_NS / 1000000)) != 1 || !(p.revents & POLLIN))
		fail("%s: the sync file does not signal", what);
	if (ioctl(sync_file, SYNC_IOC_FILE_INFO, &info))
		fail("%s: SYNC_IOC_FILE_INFO: %s", what, strerror(errno));
	if (info.status != 1)
		fail("%s: sync file status %d, want 1 (signaled)", what, info.status);
}

/*
 * A pending fence the client controls, as a sync file: what a render job
 * still running would give. Made with the mock's test fences
 * (GPUVM_IOCTL_MOCK_FENCE_ATTACH); signalled with release_fence().
 */
static int pending_sync_file(struct client *c, uint32_t *syncobj, uint32_t *fence_id)
{
	struct gpuvm_mock_fence_attach attach = { 0 };
	int sync_file;

	if (drmSyncobjCreate(c->fd, 0, syncobj))
		fail("SYNCOBJ_CREATE: %s", strerror(errno));
	attach.handle = *syncobj;
	xioctl(c->fd, GPUVM_IOCTL_MOCK_FENCE_ATTACH, &attach, "a pending fence (mock)");
	*fence_id = attach.fence_id;
	if (drmSyncobjExportSyncFile(c->fd, *syncobj, &sync_file))
		fail("SYNCOBJ_HANDLE_TO_FD (EXPORT_SYNC_FILE): %s", strerror(errno));
	return sync_file;
}

static void release_fence(struct client *c, uint32_t fence_id)
{
	struct gpuvm_mock_fence_signal signal = { .fence_id = fence_id };

	xioctl(c->fd, GPUVM_IOCTL_MOCK_FENCE_SIGNAL, &signal, "signal the pending fence (mock)");
}

/*
 * 8. Implicit sync on the shared BO, as Mesa does for buffers it shares:
 * after writing it, attach the write job's fence (IMPORT_SYNC_FILE); before
 * reading it, wait for every writer (EXPORT_SYNC_FILE, poll()). The wait
 * must not be over before the write job's fence signals.
 */
static void implicit_sync(struct client *c, int dmabuf)
{
	struct dma_buf_import_sync_file in = { .flags = DMA_BUF_SYNC_WRITE };
	struct dma_buf_export_sync_file out = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct pollfd p = { .events = POLLIN };
	uint32_t syncobj, fence_id;

	if (skipped("implicit-sync"))
		return;
	in.fd = pending_sync_file(c, &syncobj, &fence_id);
	if (ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &in))
		fail("DMA_BUF_IOCTL_IMPORT_SYNC_FILE: %s", strerror(errno));
	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &out))
		fail("DMA_BUF_IOCTL_EXPORT_SYNC_FILE: %s", strerror(errno));
	p.fd = out.fd;
	if (poll(&p, 1, 0) != 0)
		fail("the BO's fences signaled before its writer's fence");
	release_fence(c, fence_id);
	wait_sync_file(out.fd, "the BO's fences");
	close(out.fd);
	close(in.fd);
	drmSyncobjDestroy(c->fd, syncobj);
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--skip") && i + 1 < argc)
			skips = argv[++i];
		else
			fail("usage: %s [--skip STEP[,STEP...]] [--verbose]", argv[0]);
	}
}

int main(int argc, char **argv)
{
	struct client c = { 0 };
	int dmabuf;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	step("open the render node");
	find_render_node(&c);
	open_by_name();
	read_version(&c);
	step("query the device");
	query_all(&c);
	step("map the flush-ID page");
	map_flush_id(&c);
	step("VM and BOs");
	create_vm(&c);
	c.bo = create_bo(&c, 0, "mesa-like shared buffer");
	c.bo_private = create_bo(&c, c.vm, "mesa-like VM-private buffer");
	step("immediate and async binds");
	bind_immediate(&c);
	bind_async(&c);
	step("PRIME export and import");
	dmabuf = share_bo(&c);
	step("implicit sync");
	implicit_sync(&c, dmabuf);
	close(dmabuf);
	munmap(c.bo_cpu, BO_SIZE);
	close(c.fd);
	printf("mesa-like: every step behaved\n");
	return 0;
}
