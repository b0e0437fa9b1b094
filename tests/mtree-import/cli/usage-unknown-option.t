# args: mtree -x cases/x86_64-pc/input.txt
# exit: 2
