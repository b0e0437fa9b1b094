# --at: mps2-an505 'alias 1' (0x10000000) points into its own container armsse-container; the clip stops the recursion at tz-mpc-upstream.
# args: mtree --at 0x10000010 --as cpu-memory-0 cases/arm-mps2-an505/input.txt
