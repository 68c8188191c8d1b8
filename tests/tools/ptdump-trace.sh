#!/bin/sh
# ptdump-trace.sh GPUVM_TRACE GPUVM_EXERCISE GPUVM_PTDUMP SCRIPT OUT: record an
# exerciser script, then dump VM 0 from the trace before its first bind (an
# empty VM) and after the whole trace (the script's mappings).
set -u
"$1" -o "$5" "$2" --script "$4" --no-progress --quiet || exit 1
early=$("$3" --trace "$5" --at 3 --vm 0) || exit 1
late=$("$3" --trace "$5" --vm 0) || exit 1
printf '%s\n%s\n' "$early" "$late"
printf '%s\n' "$early" | grep -q "nothing mapped" || { echo "early dump not empty" >&2; exit 1; }
printf '%s\n' "$late" | grep -q "SHARED by 512 items" || { echo "no shared table" >&2; exit 1; }
printf '%s\n' "$late" | grep -q "L2 blocks" || { echo "no 2 MiB block" >&2; exit 1; }
