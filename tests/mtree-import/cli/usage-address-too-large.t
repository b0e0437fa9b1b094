# args: mtree --at 0x10000000000000000 cases/x86_64-pc/input.txt
# exit: 2
