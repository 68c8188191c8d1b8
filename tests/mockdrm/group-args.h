/* SPDX-License-Identifier: MIT */
/*
 * The GROUP_CREATE arguments every group test starts from, as igt's panthor
 * tests create a group: one queue, one core of each kind with core mask 1
 * (shader_present has bit 0), MEDIUM priority. Row tests change one field.
 */
#ifndef GPUVM_TESTS_GROUP_ARGS_H
#define GPUVM_TESTS_GROUP_ARGS_H

#include <stdint.h>

#include <gpuvm/panthor_drm.h>

/* A group on @vm_id with the one queue at @queue (which must outlive the call). */
static inline struct drm_panthor_group_create ga_group(const struct drm_panthor_queue_create *queue,
						       uint32_t vm_id)
{
	return (struct drm_panthor_group_create){
		.queues = { .stride = sizeof(*queue), .count = 1, .array = (uintptr_t)queue },
		.max_compute_cores = 1,
		.max_fragment_cores = 1,
		.max_tiler_cores = 1,
		.priority = PANTHOR_GROUP_PRIORITY_MEDIUM,
		.compute_core_mask = 1,
		.fragment_core_mask = 1,
		.tiler_core_mask = 1,
		.vm_id = vm_id,
	};
}

#endif /* GPUVM_TESTS_GROUP_ARGS_H */
