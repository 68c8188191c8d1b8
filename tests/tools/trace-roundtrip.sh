#!/bin/sh
# trace-roundtrip.sh GPUVM_TRACE GPUVM_EXERCISE OUT [EXERCISE ARG...]: record
# the exerciser's own workload with gpuvm-trace into OUT, then replay OUT on
# the mock: every ioctl must give its recorded result and the final layouts
# must match (exit status of the replay).
set -eu
trace=$1
exercise=$2
out=$3
shift 3
rm -f "$out"
"$trace" -o "$out" "$exercise" --no-progress --quiet "$@"
"$exercise" --replay "$out" --no-progress
