// SPDX-License-Identifier: MIT
/*
 * The MMU model: walks a VM's tables by physical address from TRANSTAB, the
 * way the GPU does, and reports Mali fault status codes (mali.md section 1).
 *
 * It decodes descriptors itself, from the hardware's rules, rather than asking
 * pgtable: a builder bug must show up as a wrong translation or a fault, not be
 * decoded away by the same code that wrote it.
 *
 *   level   0        1        2        3
 *   VA bits 47:39    38:30    29:21    20:12    offset 11:0
 *   leaves  -        1G block 2M block 4K page
 */
#include <errno.h>
#include <string.h>

#include "mock_vm.h"

/* Exception types of FAULTSTATUS[7:0]. */
#define FAULT_TRANSLATION 0xc0u /* + level */
#define FAULT_PERMISSION 0xc8u	/* + level */
#define FAULT_ACCESS_FLAG 0xd8u /* + level (1-3) */
#define FAULT_ADDR_SIZE_IN 0xe0u
#define FAULT_ADDR_SIZE_OUT 0xe4u /* + level */
#define FAULT_BUS 0x80u

#define DESC_VALID 1ull
#define DESC_TABLE 3ull
#define DESC_AF (1ull << 10)
#define DESC_RDONLY (1ull << 7)
#define DESC_XN ((1ull << 53) | (1ull << 54))
#define DESC_OA 0x0000fffffffff000ull

static uint32_t fault(uint32_t exception, unsigned int access)
{
	return exception | access << 8;
}

static unsigned int level_shift(unsigned int level)
{
	return 39 - 9 * level;
}

/* A leaf at @level: check access flag and permissions, then translate. */
static void leaf(uint64_t desc, unsigned int level, uint64_t va, unsigned int access,
		 struct mock_xlate *out)
{
	uint64_t size = 1ull << level_shift(level);
	uint64_t pa = ((desc & DESC_OA) & ~(size - 1)) | (va & (size - 1));

	if (!(desc & DESC_AF))
		out->fault = fault(FAULT_ACCESS_FLAG + level, access);
	else if (access == MOCK_ACCESS_WRITE && (desc & DESC_RDONLY))
		out->fault = fault(FAULT_PERMISSION + level, access);
	else if (access == MOCK_ACCESS_EXEC && (desc & DESC_XN))
		out->fault = fault(FAULT_PERMISSION + level, access);
	else if (pa >> MOCK_PA_BITS)
		out->fault = fault(FAULT_ADDR_SIZE_OUT + level, access);
	else
		out->pa = pa;
}

/* Bits [1:0]: 11 table below level 3, 11 page at level 3, 01 block at levels 1-2. */
static bool is_table(uint64_t desc, unsigned int level)
{
	return level < 3 && (desc & 3) == DESC_TABLE;
}

static bool is_leaf(uint64_t desc, unsigned int level)
{
	if (level == 3)
		return (desc & 3) == DESC_TABLE;
	return level > 0 && (desc & 3) == DESC_VALID;
}

void mock_mmu_translate(struct mockdrm_dev *dev, const struct pt_regs *regs, uint64_t va,
			unsigned int access, struct mock_xlate *out)
{
	uint64_t table = regs->mali.transtab & DESC_OA;

	*out = (struct mock_xlate){0};
	if (va >> MOCK_VA_BITS) {
		out->fault = fault(FAULT_ADDR_SIZE_IN, access);
		return;
	}
	for (unsigned int level = 0; level <= 3; level++) {
		const uint64_t *items = pt_pool_pa_to_cpu(dev->tables, table);
		uint64_t desc;

		if (!items) {
			out->fault = fault(FAULT_BUS, access);
			return;
		}
		desc = __atomic_load_n(&items[(va >> level_shift(level)) & 511], __ATOMIC_ACQUIRE);
		if (is_table(desc, level)) {
			table = desc & DESC_OA;
			continue;
		}
		if (is_leaf(desc, level))
			leaf(desc, level, va, access, out);
		else
			out->fault = fault(FAULT_TRANSLATION + level, access);
		return;
	}
}

enum access_op {
	OP_READ = GPUVM_MOCK_GPU_ACCESS_READ,
	OP_WRITE = GPUVM_MOCK_GPU_ACCESS_WRITE,
	OP_FILL = GPUVM_MOCK_GPU_ACCESS_FILL,
};

/* Move @n bytes between the caller and the GPU-visible memory at @host. */
static int transfer(const struct gpuvm_mock_gpu_access *a, void *host, uint64_t done, uint64_t n)
{
	switch (a->op) {
	case OP_READ:
		return mock_copy_to_user(a->data + done, host, n);
	case OP_WRITE:
		return mock_copy_from_user(host, a->data + done, n);
	default:
		memset(host, (int)a->fill, n);
		return 0;
	}
}

/* One page (or less) of the access: translate, then move the bytes. */
static int access_chunk(struct mockdrm_dev *dev, const struct pt_regs *regs,
			struct gpuvm_mock_gpu_access *a, uint64_t n)
{
	unsigned int access = a->op == OP_READ ? MOCK_ACCESS_READ : MOCK_ACCESS_WRITE;
	uint64_t va = a->va + a->done;
	struct mock_xlate x;
	void *host;
	int err;

	mock_mmu_translate(dev, regs, va, access, &x);
	if (x.fault) {
		a->access = x.fault;
		a->fault_addr = va;
		return 1;
	}
	pthread_mutex_lock(&dev->lock);
	host = mock_phys_to_host(dev, x.pa, n);
	err = host ? transfer(a, host, a->done, n) : 0;
	pthread_mutex_unlock(&dev->lock);
	if (!host) {
		a->access = fault(FAULT_BUS, access);
		a->fault_addr = va;
		return 1;
	}
	if (err)
		return err;
	a->done += n;
	return 0;
}

static int check_access(const struct gpuvm_mock_gpu_access *a)
{
	uint64_t end;

	if (a->op != OP_READ && a->op != OP_WRITE && a->op != OP_FILL)
		return -EINVAL;
	if (!a->size || __builtin_add_overflow(a->va, a->size, &end))
		return -EINVAL;
	if (a->op == OP_FILL ? a->data != 0 || a->fill > 0xff : a->fill != 0)
		return -EINVAL;
	return 0;
}

/*
 * Mock-only: the GPU reads, writes or fills [va, va + size) of a VM through its
 * tables. A fault stops the access and is reported in the argument (the ioctl
 * succeeds): @access is the Mali fault status, @done the bytes moved before.
 */
int mock_ioctl_gpu_access(struct mockdrm_file *f, void *arg)
{
	struct gpuvm_mock_gpu_access *a = arg;
	struct mock_vm *vm;
	struct pt_regs regs;
	int err = check_access(a);

	if (err)
		return err;
	vm = mock_vm_lookup(f, a->vm_id);
	if (!vm)
		return -EINVAL;
	pt_get_regs(gvm_get_pt(vm->gvm), &regs);
	a->access = 0;
	a->fault_addr = 0;
	a->done = 0;
	while (a->done < a->size && !err) {
		uint64_t va = a->va + a->done, room = MOCK_PAGE - (va & (MOCK_PAGE - 1));

		err = access_chunk(f->dev, &regs, a, room < a->size - a->done ? room
									: a->size - a->done);
	}
	mock_vm_put(vm);
	return err < 0 ? err : 0;
}
