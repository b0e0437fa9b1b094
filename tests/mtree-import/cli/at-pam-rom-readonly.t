# --at: after SeaBIOS, 0xc4010 is pc.ram read-only through the pam-rom alias ({readonly}).
# args: mtree --at 0xc4010 cases/x86_64-pc-booted/input.txt
