# RAM of 2^64 bytes: `memspace mtree` loads RAM layout only (no memory), so any size prints.
# args: mtree -f cli/ram-2-64.txt
