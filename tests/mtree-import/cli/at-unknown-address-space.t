# --as names no address space of the dump.
# args: mtree --at 0 --as nvme cases/x86_64-pc/input.txt
# exit: 1
