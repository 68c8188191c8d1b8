/* SPDX-License-Identifier: MIT */
/* Names of the ioctls a trace holds, for dumps and divergence reports. */
#ifndef GPUVM_TOOLS_TRACE_NAMES_H
#define GPUVM_TOOLS_TRACE_NAMES_H

/* "VM_BIND", "SYNCOBJ_WAIT", ... or "ioctl 0xNN" (in a static buffer). */
const char *trace_ioctl_name(unsigned long request);

#endif
