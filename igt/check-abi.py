#!/usr/bin/env python3
"""check-abi.py RUN_IGT RUN_UNDER_SHIM SHIM SELFTEST: igt_core_abi.h works with libigt.

Runs the self-test's subtests one by one (through run-igt, so never as root)
and checks igt's verdict lines and exit codes: 0 pass, 77 skip, 98 fail.
"""
import subprocess
import sys

# [subtest pattern, exit code, lines stdout must contain]
CASES = [
    ("pass", 0, ["Subtest pass: SUCCESS"]),
    ("fail-u64", 98, ["Subtest fail-u64: FAIL"]),
    ("skip", 77, ["skipped on purpose", "Subtest skip: SKIP"]),
    ("ioctl-errno", 0, ["Subtest ioctl-errno: SUCCESS"]),
    ("dynamic", 0, ["Dynamic subtest dyn-pass: SUCCESS", "Dynamic subtest dyn-skip: SKIP",
                    "Subtest dynamic: SUCCESS"]),
    ("formatted-7", 0, ["Subtest formatted-7: SUCCESS"]),
    ("pass,skip", 0, ["Subtest pass: SUCCESS", "Subtest skip: SKIP"]),
    ("*", 98, ["Subtest fail-u64: FAIL", "Subtest formatted-7: SUCCESS"]),
    ("no-such-subtest", 79, []),
]


def main():
    launcher = sys.argv[1:4]
    selftest = sys.argv[4]
    failures = 0
    for pattern, code, lines in CASES:
        run = subprocess.run(launcher + [selftest, "--run-subtest", pattern],
                             capture_output=True, text=True, timeout=60, check=False)
        missing = [line for line in lines if line not in run.stdout]
        if run.returncode != code or missing:
            failures += 1
            print(f"--run-subtest {pattern}: exit {run.returncode} (want {code}), "
                  f"missing {missing}\n{run.stdout}{run.stderr}")
        else:
            print(f"--run-subtest {pattern}: exit {code} as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
