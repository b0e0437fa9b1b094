# --at --json: same question as at-pam-rom-readonly, as JSON.
# args: mtree --at 0xc4010 --json cases/x86_64-pc-booted/input.txt
