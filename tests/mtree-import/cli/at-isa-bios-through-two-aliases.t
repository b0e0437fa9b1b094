# --at: the BIOS shadow at 0xe1234 answers through pam-pci (into pci) and isa-bios (into pc.bios).
# args: mtree --at 0xe1234 cases/x86_64-pc/input.txt
