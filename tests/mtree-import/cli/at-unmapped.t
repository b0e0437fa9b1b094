# --at: nothing answers above RAM in the pc's pci container (a hole).
# args: mtree --at 0x100000000 cases/x86_64-pc/input.txt
