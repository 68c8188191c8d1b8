/* SPDX-License-Identifier: MIT */
/* Private to mockdrm/gpu/: what the room's files share and the device does not see. */
#ifndef GPUVM_MOCK_GPU_PRIVATE_H
#define GPUVM_MOCK_GPU_PRIVATE_H

#include "mock_alloc.h"
#include "mock_gpu.h"

/* A slot's TLB (tlb.c), used by the slot's commands and translation (as.c). */
struct mock_tlb_entry *mock_tlb_find_leaf(struct mock_tlb *tlb, uint64_t va);
struct mock_tlb_entry *mock_tlb_find_walk(struct mock_tlb *tlb, uint64_t va);
void mock_tlb_add_leaf(struct mock_tlb *tlb, uint64_t va, unsigned int level, uint64_t desc);
void mock_tlb_add_walk(struct mock_tlb *tlb, uint64_t va, unsigned int level, uint64_t table);
void mock_tlb_invalidate(struct mock_tlb *tlb, uint64_t base, uint64_t size);
void mock_tlb_clear(struct mock_tlb *tlb);

void mock_as_init(struct mock_as *as);
void mock_as_fini(struct mock_as *as);
void mock_table_set_fini(struct mock_table_set *s);

#endif /* GPUVM_MOCK_GPU_PRIVATE_H */
