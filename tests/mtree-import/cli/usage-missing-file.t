# args: mtree -f
# exit: 2
