# --at needs no memory either: the top byte of a 2^64 RAM region.
# args: mtree --at 0xffffffffffffffff cli/ram-2-64.txt
