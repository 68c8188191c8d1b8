# A scripted workload for gpuvm-exercise (tests/tools: exercise-script).
# VMs 0-3 (two per file), BOs 0-7; BO 0 and 1 are 4 MiB, 2 MiB-aligned.
map 0 0 0 0x1000000 4M                      # two 2 MiB blocks
expect 0 0x1000000 0:0
expect 0 0x1234560 0:0x234560
unmap 0 0x1100000 0x3000                    # punch a hole in the first block
expect 0 0x1100000 fault
expect 0 0x1102ff8 fault
expect 0 0x1103000 0:0x103000
expect 0 0x10ffff8 0:0xffff8
repeat 1 2 0 0x2000 0x2000000 0x40000 ro    # 8 KiB of BO 2, 32 times
expect 1 0x2002008 2:0x8
expect 1 0x203e010 2:0x10
sparse 1 0x40000000 1G                      # 1 GiB of one page
expect 1 0x7ffff000 sparse
map 2 5 0 0x1000000 0x1000 ; map 2 5 0 0x1001000 0x1000 uncached ; unmap 2 0x1000000 0x1000
expect 2 0x1000000 fault
expect 2 0x1001000 5:0
async map 3 1 0x200000 0x1200000 2M ; unmap 3 0x1200000 0x1000 ; map 3 3 0 0x1200000 0x1000 noexec
expect 3 0x1200000 3:0
expect 3 0x1201000 1:0x201000
