#!/bin/sh
# check-run.sh STATUS REGEX PROGRAM [ARG...]: run PROGRAM, and pass only when
# it exits with STATUS and its output (stdout and stderr) matches the
# extended regular expression REGEX. Tests of tools that must fail in one
# precise way (a planted mismatch, an edited trace) use it, so that a crash
# or a different failure does not count as the expected one.
set -u
want_status=$1
pattern=$2
shift 2
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -ne "$want_status" ]; then
	echo "check-run: exit status $status, expected $want_status" >&2
	exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
	echo "check-run: output does not match /$pattern/" >&2
	exit 1
fi
exit 0
