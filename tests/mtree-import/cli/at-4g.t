# --at takes numbers as scripts write them: 4G = 0x100000000, the hole above RAM in the pc.
# args: mtree --at 4G cases/x86_64-pc/input.txt
