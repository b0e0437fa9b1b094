# --at takes decimal too: 1048576 = 0x100000, pc.ram at offset 0x100000 through ram-below-4g.
# args: mtree --at 1048576 --as memory cases/x86_64-pc/input.txt
