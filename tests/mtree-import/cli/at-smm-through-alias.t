# --at: cpu-smm-0's root 'memory' holds the alias 'memory' onto system; hpet answers through it.
# args: mtree --at 0xfed00004 --as cpu-smm-0 cases/x86_64-pc/input.txt
