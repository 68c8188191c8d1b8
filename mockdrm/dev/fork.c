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
	pthread_mutex_lock(&dev->as_lock);
	for (unsigned int i = 0; i < MOCK_AS_MAX; i++)
		pthread_mutex_lock(&dev->gpu.as[i].lock);
	pthread_mutex_lock(&dev->lock);
	mock_groups_lock_all(dev);
	pthread_mutex_lock(dev->sync.lock);
	pthread_mutex_lock(&dev->gpu.live_tables.lock);
	pthread_mutex_lock(&dev->workers_lock);
	pt_pool_fork_prepare(dev->gpu.tables);
}

/* Release the device-wide locks, in reverse order (the sync lock is the caller's). */
static void unlock_device(struct mockdrm_dev *dev)
{
	pthread_mutex_unlock(&dev->workers_lock);
	pthread_mutex_unlock(&dev->gpu.live_tables.lock);
	pthread_mutex_unlock(&dev->lock);
	for (unsigned int i = MOCK_AS_MAX; i--;)
		pthread_mutex_unlock(&dev->gpu.as[i].lock);
	pthread_mutex_unlock(&dev->as_lock);
}

void mockdrm_fork_parent(struct mockdrm_dev *dev)
{
	pt_pool_fork_parent(dev->gpu.tables);
	pthread_mutex_unlock(dev->sync.lock);
	mock_groups_unlock_all(dev);
	unlock_device(dev);
	for (struct mock_vm *vm = dev->vms; vm; vm = vm->live_next)
		pthread_mutex_unlock(&vm->lock);
	pthread_mutex_unlock(&dev->vms_lock);
}

/* The child has none of the parent's threads: no file has a worker yet. */
static void reset_child_state(struct mockdrm_dev *dev)
{
	for (struct mockdrm_file *f = dev->files_list; f; f = f->next_file)
		f->workers = 0;
	for (unsigned int i = 0; i < MOCK_AS_MAX; i++)
		pthread_cond_init(&dev->gpu.as[i].unlocked, NULL);
	pthread_cond_init(&dev->as_cond, NULL);
	pthread_cond_init(&dev->workers_done, NULL);
}

void mockdrm_fork_child(struct mockdrm_dev *dev)
{
	pt_pool_fork_child(dev->gpu.tables);
	mock_sync_fork_child(&dev->sync);
	reset_child_state(dev);
	mock_groups_fork_child(dev); /* restarts queue workers, releases group locks */
	unlock_device(dev);
	for (struct mock_vm *vm = dev->vms; vm; vm = vm->live_next) {
		mock_vm_fork_child(vm);
		pthread_mutex_unlock(&vm->lock);
	}
	pthread_mutex_unlock(&dev->vms_lock);
}
