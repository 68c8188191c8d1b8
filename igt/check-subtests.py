#!/usr/bin/env python3
"""check-subtests.py EXPECTED TEST...: igt's --list-subtests works for each test.

Each TEST run with --list-subtests must exit 0 and print exactly the subtest
names that EXPECTED lists for it ("binary subtest" lines, in order), each
matching igt's name rule [A-Za-z0-9_-]+, with nothing else on stdout. Listing
runs no fixture, so it needs no device: the tests run here without the shim.
"""
import os
import re
import subprocess
import sys

NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def expected_names(path):
    """Return {binary: [subtest, ...]} from the EXPECTED file."""
    names = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                sys.exit(f"{path}:{lineno}: expected 'binary subtest'")
            names.setdefault(parts[0], []).append(parts[1])
    return names


def listed_names(test):
    """Return the lines TEST --list-subtests prints, or exit on failure."""
    run = subprocess.run([test, "--list-subtests"], capture_output=True, text=True,
                         timeout=30, check=False)
    if run.returncode != 0:
        sys.exit(f"{test} --list-subtests: exit {run.returncode}\n{run.stderr}")
    return run.stdout.splitlines()


def main():
    expected = expected_names(sys.argv[1])
    failures = 0
    for test in sys.argv[2:]:
        binary = os.path.basename(test)
        listed = listed_names(test)
        bad = [n for n in listed if not NAME.match(n)]
        dups = {n for n in listed if listed.count(n) > 1}
        want = expected.pop(binary, [])
        if bad or dups or listed != want:
            failures += 1
            print(f"{binary}: listed {listed}\n  expected {want}\n  bad names {bad}, "
                  f"duplicates {sorted(dups)}")
        else:
            print(f"{binary}: {len(listed)} subtests")
    for binary in expected:
        failures += 1
        print(f"{binary}: in the expected list but not built")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
