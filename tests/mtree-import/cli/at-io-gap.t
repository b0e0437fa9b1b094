# --at in another address space: 0x71 is rtc's own gap (rtc {io}), offset 1.
# args: mtree --at=0x71 --as=I/O cases/x86_64-pc/input.txt
