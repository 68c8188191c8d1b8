// SPDX-License-Identifier: MIT
/*
 * fork() and the device: a child gets a copy of the device's memory, with its
 * locks as they were and without the device's threads.
 *
 * DOC: fork
 *
 * mockdrm_fork_prepare() takes every lock of the device in the documented
 * order (mock_internal.h), so no thread is in the middle of changing anything
 * when the process is copied. The parent then simply releases them. The child
 * releases them too (its one thread is the one that took them), gives each
 * condition variable a fresh start, and starts a bind-queue worker for every
 * VM that has jobs queued: a job waiting for a fence in the parent waits for
 * the child's copy of that fence in the child, and runs there when it
 * signals. From then on parent and child have separate devices that share
 * only BO memory (memfds mapped MAP_SHARED), as a forked process shares the
 * pages of a real BO.
 */
#include "mock_vm.h"

void mockdrm_fork_prepare(struct mockdrm_dev *dev)
{
	pthread_mutex_lock(&dev->vms_lock);
	for (struct mock_vm *vm = dev->vms; vm; vm = vm->live_next)
		pthread_mutex_lock(&vm->lock);
	pthread_mutex_lock(&dev->lock);
	pthread_mutex_lock(&dev->sync.lock);
	pt_pool_fork_prepare(dev->tables);
}

void mockdrm_fork_parent(struct mockdrm_dev *dev)
{
	pt_pool_fork_parent(dev->tables);
	pthread_mutex_unlock(&dev->sync.lock);
	pthread_mutex_unlock(&dev->lock);
	for (struct mock_vm *vm = dev->vms; vm; vm = vm->live_next)
		pthread_mutex_unlock(&vm->lock);
	pthread_mutex_unlock(&dev->vms_lock);
}

void mockdrm_fork_child(struct mockdrm_dev *dev)
{
	pt_pool_fork_child(dev->tables);
	mock_sync_fork_child(&dev->sync);
	pthread_mutex_unlock(&dev->lock);
	for (struct mock_vm *vm = dev->vms; vm; vm = vm->live_next) {
		mock_vm_fork_child(vm);
		pthread_mutex_unlock(&vm->lock);
	}
	pthread_mutex_unlock(&dev->vms_lock);
}
