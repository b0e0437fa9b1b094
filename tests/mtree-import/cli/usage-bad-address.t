# args: mtree --at 0xzz cases/x86_64-pc/input.txt
# exit: 2
