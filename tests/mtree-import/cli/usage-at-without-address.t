# args: mtree cases/x86_64-pc/input.txt --at
# exit: 2
