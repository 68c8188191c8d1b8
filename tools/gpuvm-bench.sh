#!/bin/sh
# gpuvm-bench [--json]: run every benchmark of gpuvm (pt-bench: the page-table
# builder; vm-bench: the VA manager) and print all their figures. With --json,
# one JSON object {"pt-bench": {...}, "vm-bench": {...}}. The benchmarks are
# looked up next to this script (the build tree's tools/ or the install's bin/).
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
json=
if [ "${1-}" = "--json" ]; then
	json=--json
elif [ $# -gt 0 ]; then
	echo "usage: gpuvm-bench [--json]" >&2
	exit 2
fi
find_bench() {
	for dir in "$here" "$here/.."; do
		if [ -x "$dir/$1" ]; then
			echo "$dir/$1"
			return 0
		fi
	done
	echo "gpuvm-bench: $1 not found next to $0" >&2
	exit 2
}
pt=$(find_bench pt-bench)
vm=$(find_bench vm-bench)
if [ -n "$json" ]; then
	printf '{"pt-bench": %s, "vm-bench": %s}\n' "$("$pt" --json)" "$("$vm" --json)"
else
	echo "== pt-bench: the page-table builder"
	"$pt"
	echo "== vm-bench: the VA manager"
	"$vm"
fi
