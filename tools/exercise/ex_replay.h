/* SPDX-License-Identifier: MIT */
/*
 * gpuvm-exercise --replay: a gpuvm trace (tools/trace/trace-format.h) run
 * again on the mock device, every result compared with the recording.
 */
#ifndef GPUVM_TOOLS_EX_REPLAY_H
#define GPUVM_TOOLS_EX_REPLAY_H

#include <stdint.h>

#include "ex.h"

/* What the replay maps from recorded values to its own (per file, or fds). */
enum rp_kind {
	RP_BO = 1,
	RP_VM,
	RP_SYNCOBJ,
	RP_GROUP,
	RP_HEAP,
	RP_FENCE,
	RP_FD, /* file descriptors: PRIME and syncobj fds */
};

/* How an ioctl's argument field is treated (struct rp_field.how). */
enum rp_how {
	RP_IN = 1, /* a recorded id: translate before the call */
	RP_OUT,    /* a new id: learn recorded -> replayed after the call */
	RP_CMP,    /* a result: must equal the recording */
};

/**
 * struct rp_field - one u32 field of an ioctl argument that the replay
 * translates, learns or compares.
 * @nr: the ioctl number (_IOC_NR).
 * @off: byte offset in the argument.
 * @kind: enum rp_kind (0 for RP_CMP of a plain value).
 * @how: enum rp_how.
 * @width: 4 or 8 bytes.
 * @name: for messages.
 */
struct rp_field {
	uint8_t nr;
	uint8_t off;
	uint8_t kind;
	uint8_t how;
	uint8_t width;
	const char *name;
};

/* The field table (ex_replay_fields.c), ended by a zero entry. */
extern const struct rp_field rp_fields[];

/* Replay ex->cfg.replay; exit status as gpuvm-exercise's. */
int ex_replay_main(struct ex *ex);

#endif /* GPUVM_TOOLS_EX_REPLAY_H */
