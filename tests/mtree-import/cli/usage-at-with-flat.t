# args: mtree -f --at 0 cases/x86_64-pc/input.txt
# exit: 2
