// SPDX-License-Identifier: MIT
/*
 * PRIME and dma-bufs (panthor-1.8.md, "dma-buf and sync-file behaviour"):
 * export, import by other files (another drm_open_driver() and another open
 * of the device node), the access mode DRM_RDWR gives the dma-buf, BOs
 * private to a VM refused, what the export's mapping sees of GPU writes,
 * DMA_BUF_IOCTL_SYNC, sync files in and out of the reservation, and implicit
 * sync: async binds and group jobs put their fences in the reservation of the
 * BOs they use, so the dma-buf's exported sync file is pending until they are
 * done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>

#include "igt_core_abi.h"
#include "panthor_igt.h"

const char *__igt_test_description = "panthor PRIME: dma-buf export/import, sync files, "
				     "implicit sync";

#define VA 0x5000000ull
#define CMD_VA 0x6000000ull
#define SIZE (4 * SZ_4K)

static int fd = -1, other = -1;

/* The 8 bytes the GPU reads at @va of @vm of @file. */
static uint64_t gpu_read64(int file, uint32_t vm, uint64_t va)
{
	uint64_t value = 0;

	igt_assert_eq_u32(panthor_gpu_read(file, vm, va, &value, sizeof(value)), 0);
	return value;
}

static uint64_t *map_dmabuf(int dmabuf, int prot)
{
	uint64_t *cpu = mmap(NULL, SIZE, prot, MAP_SHARED, dmabuf, 0);

	igt_assert(cpu != MAP_FAILED);
	return cpu;
}

/* @bo of @file, mapped in a new VM, shows the pages tagged by @tag_bo. */
static void check_bo_pages(int file, uint32_t bo, uint32_t tag_bo)
{
	uint32_t vm = panthor_vm_create(file, NULL);
	struct panthor_va_expect expect = { .va = VA, .size = SIZE, .tag_bo = tag_bo };

	panthor_map(file, vm, bo, 0, VA, SIZE, 0);
	panthor_check_layout(file, vm, VA, VA + SIZE, &expect, 1);
	panthor_vm_destroy(file, vm);
}

/* Export, import elsewhere: the same memory for both files' CPU and GPU. */
static void test_prime_share(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0), vm = panthor_vm_create(fd, NULL);
	uint32_t other_vm = panthor_vm_create(other, NULL), imported;
	int dmabuf = prime_handle_to_fd(fd, bo);
	uint64_t *cpu = panthor_bo_mmap(fd, bo, SIZE, PROT_READ | PROT_WRITE);
	uint64_t value = 0xc0ffee;

	igt_assert_eq_u64(lseek(dmabuf, 0, SEEK_END), SIZE);
	imported = prime_fd_to_handle(other, dmabuf);
	igt_assert_eq_u32(prime_fd_to_handle(other, dmabuf), imported);
	igt_assert_eq_u32(prime_fd_to_handle(fd, dmabuf), bo);
	panthor_map(fd, vm, bo, 0, VA, SIZE, 0);
	panthor_map(other, other_vm, imported, SZ_4K, VA, SZ_4K, 0);
	igt_assert_eq_u32(panthor_gpu_write(other, other_vm, VA + 8, &value, 8), 0);
	igt_assert_eq_u64(cpu[512 + 1], 0xc0ffee);
	igt_assert_eq_u64(gpu_read64(fd, vm, VA + SZ_4K + 8), 0xc0ffee);
	/* The exporter lets go of everything: the importer still has the memory. */
	cpu[512 + 2] = 0xbeef;
	panthor_bo_munmap(cpu, SIZE);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
	close(dmabuf);
	igt_assert_eq_u64(gpu_read64(other, other_vm, VA + 16), 0xbeef);
	panthor_vm_destroy(other, other_vm);
	gem_close(other, imported);
}

/*
 * A second open of the device node (by its path, as a client that got the
 * name from drmGetDeviceNameFromFd2() does) imports the same pages; its
 * handle is its own and closing it leaves the exporter's BO alone.
 */
static void test_import_reopen(void)
{
	char *node = drmGetDeviceNameFromFd2(fd);
	int reopened = node ? open(node, O_RDWR | O_CLOEXEC) : -1, dmabuf;
	uint32_t bo = panthor_bo_create_tagged(fd, 4), imported;

	igt_assert_f(reopened >= 0, "cannot open the device node %s again\n", node);
	dmabuf = prime_handle_to_fd(fd, bo);
	imported = prime_fd_to_handle(reopened, dmabuf);
	close(dmabuf);
	check_bo_pages(reopened, imported, bo);
	gem_close(reopened, imported);
	panthor_close(reopened);
	free(node);
	check_bo_pages(fd, bo, bo); /* the exporter's BO is still whole */
	gem_close(fd, bo);
}

/* A dma-buf exported for mmap shows the BO's bytes, both ways. */
static void test_prime_mmap(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0);
	uint64_t *cpu = panthor_bo_mmap(fd, bo, SIZE, PROT_READ | PROT_WRITE), *shared;
	int dmabuf = prime_handle_to_fd_for_mmap(fd, bo);

	igt_assert_fd(dmabuf);
	shared = map_dmabuf(dmabuf, PROT_READ | PROT_WRITE);
	cpu[7] = 77;
	igt_assert_eq_u64(shared[7], 77);
	shared[8] = 88;
	igt_assert_eq_u64(cpu[8], 88);
	munmap(shared, SIZE);
	panthor_bo_munmap(cpu, SIZE);
	close(dmabuf);
	gem_close(fd, bo);
}

/* Without DRM_RDWR the dma-buf is read-only: no writable mapping, no write(). */
static void test_mmap_rdwr(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0), vm = panthor_vm_create(fd, NULL);
	int ro = -1, rw = -1;
	uint64_t *m;

	panthor_map(fd, vm, bo, 0, VA, SIZE, 0);
	igt_assert_eq(panthor_gpu_write(fd, vm, VA + 8, &(uint64_t){ 0x5151 }, 8), 0);
	igt_assert_eq(__panthor_prime_export(fd, bo, DRM_CLOEXEC, &ro), 0);
	igt_assert_eq(__panthor_prime_export(fd, bo, DRM_CLOEXEC | DRM_RDWR, &rw), 0);
	igt_assert_eq(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
	igt_assert_eq(fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR);
	igt_assert(mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED);
	igt_assert_eq(errno, EACCES);
	igt_assert(write(ro, "x", 1) < 0);
	m = map_dmabuf(ro, PROT_READ);
	igt_assert_eq_u64(m[1], 0x5151);
	munmap(m, SIZE);
	/* The writable one writes the BO the GPU reads. */
	m = map_dmabuf(rw, PROT_READ | PROT_WRITE);
	m[2] = 0x7272;
	igt_assert_eq_u64(gpu_read64(fd, vm, VA + 16), 0x7272);
	munmap(m, SIZE);
	close(ro);
	close(rw);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
}

/* A BO private to a VM cannot be exported: -EINVAL and no fd made. */
static void test_exclusive_refused(void)
{
	uint32_t vm = panthor_vm_create(fd, NULL), bo = panthor_bo_create(fd, SIZE, 0, vm);
	int fds = panthor_count_open_fds(), dmabuf;

	igt_assert_eq(__panthor_prime_export(fd, bo, DRM_CLOEXEC | DRM_RDWR, &dmabuf), -EINVAL);
	igt_assert_eq(dmabuf, -1);
	igt_assert_eq(__panthor_prime_export(fd, bo, 0, &dmabuf), -EINVAL);
	panthor_assert_no_fd_made(fds);
	/* The BO itself is untouched: it still maps in its VM. */
	panthor_map(fd, vm, bo, 0, VA, SIZE, 0);
	panthor_unmap(fd, vm, VA, SIZE);
	gem_close(fd, bo);
	panthor_vm_destroy(fd, vm);
}

/* A VM with @shared mapped at VA, a command BO at CMD_VA and a group to run jobs. */
struct job_setup {
	uint32_t vm, cmd_bo, group;
	uint64_t *cmd;
};

static void job_setup(struct job_setup *j, uint32_t shared)
{
	j->vm = panthor_vm_create(fd, NULL);
	j->cmd_bo = panthor_bo_create(fd, SZ_4K, 0, 0);
	j->cmd = panthor_bo_mmap(fd, j->cmd_bo, SZ_4K, PROT_READ | PROT_WRITE);
	panthor_map(fd, j->vm, j->cmd_bo, 0, CMD_VA, SZ_4K, 0);
	panthor_map(fd, j->vm, shared, 0, VA, SIZE, 0);
	j->group = panthor_group_create(fd, j->vm);
}

static void job_teardown(struct job_setup *j)
{
	igt_assert_eq(__panthor_group_destroy(fd, j->group), 0);
	panthor_bo_munmap(j->cmd, SZ_4K);
	panthor_vm_destroy(fd, j->vm);
	gem_close(fd, j->cmd_bo);
}

/* The export's mapping sees what a GPU job and a GPU access wrote to the BO. */
static void test_gpu_writes(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0);
	int dmabuf = prime_handle_to_fd(fd, bo);
	uint64_t *m = map_dmabuf(dmabuf, PROT_READ);
	struct job_setup j;

	job_setup(&j, bo);
	panthor_run(fd, j.group, CMD_VA, panthor_store_stream(j.cmd, VA + 24, 0xdeadbeef, 0), 0);
	igt_assert_eq_u64(m[3], 0xdeadbeef);
	igt_assert_eq_u32(panthor_gpu_write(fd, j.vm, VA + SZ_4K, &(uint64_t){ 0xfeed }, 8), 0);
	igt_assert_eq_u64(m[512], 0xfeed);
	igt_assert_eq_u64(m[0], 0);
	job_teardown(&j);
	munmap(m, SIZE);
	close(dmabuf);
	gem_close(fd, bo);
}

/* DMA_BUF_IOCTL_SYNC brackets CPU access; bad flags are refused. */
static void test_cpu_sync(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0), vm = panthor_vm_create(fd, NULL);
	int dmabuf = prime_handle_to_fd_for_mmap(fd, bo), memfd = memfd_create("igt", 0);
	uint64_t *m = map_dmabuf(dmabuf, PROT_READ | PROT_WRITE);

	panthor_map(fd, vm, bo, 0, VA, SIZE, 0);
	igt_assert_eq(__panthor_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0);
	m[5] = 0xabc;
	igt_assert_eq(__panthor_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
	igt_assert_eq_u64(gpu_read64(fd, vm, VA + 40), 0xabc);
	igt_assert_eq_u32(panthor_gpu_write(fd, vm, VA + 48, &(uint64_t){ 0xdef }, 8), 0);
	igt_assert_eq(__panthor_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	igt_assert_eq_u64(m[6], 0xdef);
	igt_assert_eq(__panthor_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), 0);
	/* No direction, an unknown flag; not a dma-buf. */
	igt_assert_eq(__panthor_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START), -EINVAL);
	igt_assert_eq(__panthor_dmabuf_sync(dmabuf, DMA_BUF_SYNC_READ | 8), -EINVAL);
	igt_assert_fd(memfd);
	igt_assert_eq(__panthor_dmabuf_sync(memfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW), -ENOTTY);
	igt_assert_eq_u64(m[5], 0xabc);
	close(memfd);
	munmap(m, SIZE);
	close(dmabuf);
	panthor_vm_destroy(fd, vm);
	gem_close(fd, bo);
}

/*
 * IMPORT_SYNC_FILE adds a fence to the reservation; EXPORT_SYNC_FILE gives
 * what an access must wait for: readers wait for writers, writers for all.
 */
static void test_sync_files(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0), writer, reader;
	int dmabuf = prime_handle_to_fd(fd, bo), wf = panthor_pending_sync_file(fd, &writer);
	int rf = panthor_pending_sync_file(fd, &reader), all;

	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 1);
	igt_assert_eq(__panthor_dmabuf_import_sync_file(dmabuf, DMA_BUF_SYNC_WRITE, wf), 0);
	igt_assert_eq(__panthor_dmabuf_import_sync_file(dmabuf, DMA_BUF_SYNC_READ, rf), 0);
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_READ), 0);
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 0);
	igt_assert_eq(__panthor_dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_WRITE, &all), 0);
	panthor_fence_signal(fd, writer, 0);
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_READ), 1);
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 0);
	igt_assert(!panthor_fd_readable(all, 0));
	panthor_fence_signal(fd, reader, 0);
	igt_assert(panthor_fd_readable(all, 5000));
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 1);
	close(all);
	close(wf);
	close(rf);
	close(dmabuf);
	gem_close(fd, bo);
}

/* Refused sync-file calls: no fd made, nothing added to the reservation. */
static void test_sync_files_invalid(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0), fence;
	int dmabuf = prime_handle_to_fd(fd, bo), sf = panthor_pending_sync_file(fd, &fence);
	int pipes[2], fds, out;

	igt_assert_eq(pipe(pipes), 0);
	fds = panthor_count_open_fds();
	igt_assert_eq(__panthor_dmabuf_export_sync_file(dmabuf, 0, &out), -EINVAL);
	igt_assert_eq(__panthor_dmabuf_export_sync_file(dmabuf, 4, &out), -EINVAL);
	igt_assert_eq(out, -1);
	igt_assert_eq(__panthor_dmabuf_import_sync_file(dmabuf, 0, sf), -EINVAL);
	igt_assert_eq(__panthor_dmabuf_import_sync_file(dmabuf, DMA_BUF_SYNC_RW, pipes[0]),
		      -EINVAL);
	panthor_assert_no_fd_made(fds);
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 1);
	panthor_fence_signal(fd, fence, 0);
	close(pipes[0]);
	close(pipes[1]);
	close(sf);
	close(dmabuf);
	gem_close(fd, bo);
}

/* A binary-syncobj sync op. */
static struct drm_panthor_sync_op sync_op(uint32_t flags, uint32_t syncobj)
{
	return (struct drm_panthor_sync_op){ .flags = flags, .handle = syncobj };
}

/*
 * An async bind of the imported BO in another file's VM, held back by a
 * fence: until it runs it is a writer of the dma-buf, and the exporter's
 * sync file (what Mesa's implicit sync polls) says so.
 */
static void test_implicit_bind(void)
{
	uint32_t bo = panthor_bo_create_tagged(fd, 4), in = syncobj_create(other, 0);
	uint32_t out = syncobj_create(other, 0), vm = panthor_vm_create(other, NULL), imported;
	struct drm_panthor_sync_op syncs[] = { sync_op(DRM_PANTHOR_SYNC_OP_WAIT, in),
					       sync_op(DRM_PANTHOR_SYNC_OP_SIGNAL, out) };
	struct drm_panthor_vm_bind_op op;
	struct panthor_va_expect expect = { .va = VA, .size = SIZE, .tag_bo = bo };
	int dmabuf = prime_handle_to_fd(fd, bo), sf;
	uint32_t fence = panthor_fence_attach(other, in, 0);

	imported = prime_fd_to_handle(other, dmabuf);
	op = panthor_map_op(imported, 0, VA, SIZE, 0);
	op.syncs = (struct drm_panthor_obj_array)DRM_PANTHOR_OBJ_ARRAY(2, syncs);
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_READ), 1);
	igt_assert_eq(__panthor_vm_bind(other, vm, DRM_PANTHOR_VM_BIND_ASYNC, &op, sizeof(op), 1),
		      0);
	igt_assert_eq(__panthor_dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_READ, &sf), 0);
	igt_assert(!panthor_fd_readable(sf, 10));
	igt_assert_eq(panthor_sync_file_status(sf, NULL), 0);
	panthor_check_layout(other, vm, VA, VA + SIZE, NULL, 0);
	panthor_fence_signal(other, fence, 0);
	igt_assert(panthor_fd_readable(sf, 5000));
	igt_assert(syncobj_wait(other, &out, 1, INT64_MAX, 0, NULL));
	panthor_check_layout(other, vm, VA, VA + SIZE, &expect, 1);
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 1);
	close(sf);
	close(dmabuf);
	syncobj_destroy(other, in);
	syncobj_destroy(other, out);
	panthor_vm_destroy(other, vm);
	gem_close(other, imported);
	gem_close(fd, bo);
}

/*
 * A group job held back by a fence is a writer of every shared BO its VM
 * maps: the dma-buf's sync file is pending, and the export shows the job's
 * store once the sync file signals.
 */
static void test_implicit_group(void)
{
	uint32_t bo = panthor_bo_create(fd, SIZE, 0, 0), in = syncobj_create(fd, 0);
	uint32_t out = syncobj_create(fd, 0), fence = panthor_fence_attach(fd, in, 0);
	struct drm_panthor_sync_op syncs[] = { sync_op(DRM_PANTHOR_SYNC_OP_WAIT, in),
					       sync_op(DRM_PANTHOR_SYNC_OP_SIGNAL, out) };
	int dmabuf = prime_handle_to_fd(fd, bo), sf;
	uint64_t *m = map_dmabuf(dmabuf, PROT_READ);
	struct drm_panthor_queue_submit qs = { .stream_addr = CMD_VA };
	struct job_setup j;

	job_setup(&j, bo);
	qs.stream_size = panthor_store_stream(j.cmd, VA + 8, 0x600d, 0);
	igt_assert_eq(__panthor_submit_syncs(fd, j.group, &qs, syncs, 2), 0);
	igt_assert_eq(__panthor_dmabuf_export_sync_file(dmabuf, DMA_BUF_SYNC_READ, &sf), 0);
	igt_assert(!panthor_fd_readable(sf, 10));
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 0);
	igt_assert_eq_u64(m[1], 0);
	panthor_fence_signal(fd, fence, 0);
	igt_assert(panthor_fd_readable(sf, 5000));
	igt_assert_eq_u64(m[1], 0x600d);
	igt_assert(syncobj_wait(fd, &out, 1, INT64_MAX, 0, NULL));
	igt_assert_eq(panthor_dmabuf_status(dmabuf, DMA_BUF_SYNC_WRITE), 1);
	job_teardown(&j);
	close(sf);
	munmap(m, SIZE);
	close(dmabuf);
	syncobj_destroy(fd, in);
	syncobj_destroy(fd, out);
	gem_close(fd, bo);
}

static void test_prime_invalid(void)
{
	uint32_t bo = panthor_bo_create(fd, SZ_4K, 0, 0), imported = 0;
	int pipes[2], dmabuf, err;

	igt_assert_eq(__panthor_prime_export(fd, bo + 100, DRM_CLOEXEC, &dmabuf), -ENOENT);
	igt_assert_eq(__panthor_prime_export(fd, bo, 1u << 4, &dmabuf), -EINVAL);
	igt_assert_eq(dmabuf, -1);
	igt_assert_eq(pipe(pipes), 0);
	err = __panthor_prime_import(fd, pipes[0], &imported);
	igt_assert_f(err == -EINVAL || err == -EBADF, "importing a pipe: %d\n", err);
	close(pipes[0]);
	close(pipes[1]);
	igt_assert_eq(__panthor_prime_import(fd, pipes[0], &imported), -EBADF);
	gem_close(fd, bo);
}

igt_main
{
	igt_fixture {
		fd = panthor_open_mock();
		other = panthor_open();
	}

	igt_describe("export, import by another file: both files' CPU and GPU see the same bytes");
	igt_subtest("prime-share") {
		test_prime_share();
	}
	igt_describe("a second open of the device node imports the same pages, handle its own");
	igt_subtest("prime-import-reopen") {
		test_import_reopen();
	}
	igt_describe("a dma-buf exported for mmap maps the BO's pages");
	igt_subtest("prime-mmap") {
		test_prime_mmap();
	}
	igt_describe("without DRM_RDWR the dma-buf is read-only; with it, writes reach the GPU");
	igt_subtest("prime-mmap-rdwr") {
		test_mmap_rdwr();
	}
	igt_describe("a BO private to a VM is not exported: EINVAL, no fd");
	igt_subtest("prime-exclusive-refused") {
		test_exclusive_refused();
	}
	igt_describe("the export's mapping sees a GPU job's store and a GPU write");
	igt_subtest("prime-gpu-writes") {
		test_gpu_writes();
	}
	igt_describe("DMA_BUF_IOCTL_SYNC around CPU access; bad flags refused");
	igt_subtest("prime-cpu-sync") {
		test_cpu_sync();
	}
	igt_describe("IMPORT/EXPORT_SYNC_FILE: readers wait for writers, writers for all");
	igt_subtest("prime-sync-file") {
		test_sync_files();
	}
	igt_describe("EXPORT/IMPORT_SYNC_FILE with bad flags or a non-sync-file: refused");
	igt_subtest("prime-sync-file-invalid") {
		test_sync_files_invalid();
	}
	igt_describe("implicit sync: a pending async bind of the BO is a writer of its dma-buf");
	igt_subtest("prime-implicit-bind") {
		test_implicit_bind();
	}
	igt_describe("implicit sync: a pending group job is a writer of its VM's shared BOs");
	igt_subtest("prime-implicit-group") {
		test_implicit_group();
	}
	igt_describe("export of an unknown handle or with bad flags, import of a non-dma-buf");
	igt_subtest("prime-invalid") {
		test_prime_invalid();
	}

	igt_fixture {
		panthor_close(other);
		panthor_close(fd);
	}
}
