#!/bin/sh
# trace-edited.sh GPUVM_TRACE GPUVM_EXERCISE EDIT_TRACE OUT INDEX: record a
# small exerciser workload, change the recorded result of ioctl INDEX
# (edit-trace.py), and pass only if the replay fails reporting its first
# divergence at exactly that index.
set -u
trace=$1
exercise=$2
edit=$3
out=$4
index=$5
rm -f "$out" "$out.edited"
"$trace" -o "$out" "$exercise" --ops 60 --seed 11 --no-progress --quiet || exit 1
python3 "$edit" "$out" "$out.edited" "$index" || exit 1
log=$("$exercise" --replay "$out.edited" --no-progress 2>&1)
status=$?
printf '%s\n' "$log"
if [ "$status" -ne 1 ]; then
	echo "trace-edited: replay exit status $status, expected 1" >&2
	exit 1
fi
if ! printf '%s\n' "$log" | grep -q "first divergence at ioctl #$index "; then
	echo "trace-edited: the divergence was not reported at ioctl #$index" >&2
	exit 1
fi
