# --at takes numbers as scripts write them: 1M = 0x100000, pc.ram through ram-below-4g.
# args: mtree --at=1M cases/x86_64-pc/input.txt
