# A script whose expectation is wrong on purpose (tests/tools:
# exercise-wrong-expectation): line 5 must be reported as a mismatch.
map 0 0 0 0x1000000 0x10000
expect 0 0x1000000 0:0
expect 0 0x1000000 0:0x1000
