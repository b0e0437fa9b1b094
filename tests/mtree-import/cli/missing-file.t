# args: mtree no-such-file.txt
# exit: 1
