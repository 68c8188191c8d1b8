/* SPDX-License-Identifier: MIT */
/*
 * A snapshot of what a mock device's files can observe, for "a failed call
 * changed nothing" checks (fuzz-ioctl, test-inject): each file's BO handles
 * (size, flags, mmap offset, exclusivity, dma-buf, label) and BO contents,
 * VMs and their VAs, translations of a window of VAs, syncobjs (binary: the
 * fence and its status; timeline: the fences of the first points), mock
 * fences and groups by handle, and the device's offset space and BO list.
 * Handle tables count by their live entries: growing one is not a change.
 *
 * Parts are hashed separately (FNV-1a), so that a difference names its part.
 * It reads the device's private state (mockdrm/dev/mock_internal.h,
 * mock_vm.h) under the locks the device takes; a snapshot taken while an
 * async job runs may differ from the next for no fault of the call under
 * test (see mock_snap_quiet()).
 */
#ifndef GPUVM_TESTS_MOCK_SNAP_H
#define GPUVM_TESTS_MOCK_SNAP_H

#include <stdbool.h>
#include <stdint.h>

#include <gpuvm/mockdrm.h>

enum mock_snap_part {
	MOCK_SNAP_BOS,
	MOCK_SNAP_BO_BYTES,
	MOCK_SNAP_VMS,
	MOCK_SNAP_XLATE,
	MOCK_SNAP_SYNC,
	MOCK_SNAP_OTHER,
	MOCK_SNAP_NR_PARTS
};

/**
 * struct mock_snap_cfg - what a snapshot covers.
 * @dev: the device.
 * @files/@nr_files: its files whose state is read.
 * @window_va/@window_pages: the VAs whose translations are read (in every
 *	VM of those files), 4 KiB pages.
 */
struct mock_snap_cfg {
	struct mockdrm_dev *dev;
	struct mockdrm_file *const *files;
	unsigned int nr_files;
	uint64_t window_va;
	unsigned int window_pages;
};

struct mock_snap {
	uint64_t h[MOCK_SNAP_NR_PARTS];
};

/* Take a snapshot of what @cfg covers. */
void mock_snap_take(const struct mock_snap_cfg *cfg, struct mock_snap *s);

/* The first part in which @a and @b differ, or -1 when they are equal. */
int mock_snap_diff(const struct mock_snap *a, const struct mock_snap *b);

/* "BO handles", "BO contents", ...: what part @part is, for messages. */
const char *mock_snap_part_name(int part);

/* No async bind queued or running on any VM of @dev: its state changes only by calls. */
bool mock_snap_quiet(struct mockdrm_dev *dev);

#endif /* GPUVM_TESTS_MOCK_SNAP_H */
