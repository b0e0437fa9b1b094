# --at refuses 2^64, which scripts accept only as a size.
# args: mtree --at 2^64 cases/x86_64-pc/input.txt
# exit: 2
