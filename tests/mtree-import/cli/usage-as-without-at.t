# args: mtree --as memory cases/x86_64-pc/input.txt
# exit: 2
