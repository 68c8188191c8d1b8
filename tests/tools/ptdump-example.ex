# The workload behind docs/ptdump-example.svg (tests/tools: ptdump-example):
# one VM with every kind of mapping gpuvm builds.
map 0 0 0 0x1000000 4M                  # 4 MiB of BO 0: two 2 MiB blocks ...
unmap 0 0x1100000 0x3000                # ... the first split by a 12 KiB hole
map 0 5 0 0x1800000 0x6000 ro           # pages, read-only
map 0 6 0 0x1806000 0x4000 uncached     # pages right after them, uncached
repeat 0 2 0 0x2000 0x2000000 0x40000   # 8 KiB of BO 2, repeated 32 times
sparse 0 0x40000000 1G                  # 1 GiB of the dummy page: shared tables
