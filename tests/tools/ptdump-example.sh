#!/bin/sh
# ptdump-example.sh GPUVM_PTDUMP SCRIPT COMMITTED_SVG OUT_SVG: draw the example
# workload again and fail when the committed picture differs (it is stale).
set -u
"$1" --script "$2" --vm 0 --svg "$4" --quiet || exit 1
if ! cmp -s "$3" "$4"; then
	echo "ptdump-example: $3 is stale; regenerate it from the source root with:" >&2
	echo "  build/tools/ptdump/gpuvm-ptdump --script tests/tools/ptdump-example.ex" \
	     "--vm 0 --svg docs/ptdump-example.svg --quiet" >&2
	exit 1
fi
