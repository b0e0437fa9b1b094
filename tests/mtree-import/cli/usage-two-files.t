# args: mtree cases/x86_64-pc/input.txt cases/x86_64-q35/input.txt
# exit: 2
