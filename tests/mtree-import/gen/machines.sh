#!/bin/bash
# SPDX-License-Identifier: MIT
# Capture the raw dumps of the machines under tests/mtree-import/cases/ from
# Debian 12's QEMU 7.2 packages (developer tool; CI never runs it):
#   apt-get install qemu-system-x86 qemu-system-arm qemu-system-misc \
#                   qemu-system-ppc seabios
#   tests/mtree-import/gen/machines.sh OUTDIR [NAME...]
# Each OUTDIR/NAME gets raw-D.txt, expected-f.txt and cmdline.txt. A case's
# input.txt is raw-D.txt plus the annotations documented in its notes.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: machines.sh OUTDIR [NAME...]}
shift
x86=(qemu-system-x86_64 -L /usr/share/seabios -L /usr/share/qemu)
declare -A m=(
  [x86_64-pc]="${x86[*]} -M pc"
  [x86_64-q35]="${x86[*]} -M q35"
  [x86_64-q35-iommu]="${x86[*]} -M q35,kernel-irqchip=split -device intel-iommu,intremap=on,device-iotlb=on -netdev user,id=n0 -device virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on,ats=on -device e1000e,netdev=n1 -netdev user,id=n1"
  [x86_64-q35-bridges]="${x86[*]} -M q35 -device pcie-root-port,id=rp1,chassis=1 -device pcie-pci-bridge,id=br1,bus=rp1 -device e1000,bus=br1,addr=1 -device pci-bridge,id=br2,chassis_nr=2 -device nvme,serial=x,bus=br2,drive=d0 -drive if=none,id=d0,file=null-co://,format=raw"
  [aarch64-virt-smmuv3]="qemu-system-aarch64 -M virt,iommu=smmuv3 -cpu cortex-a57 -m 256M -device virtio-net-pci,netdev=n0 -netdev user,id=n0"
  [arm-mps2-an505]="qemu-system-arm -M mps2-an505"
  [arm-vexpress-a9]="qemu-system-arm -M vexpress-a9"
  [riscv64-virt]="qemu-system-riscv64 -M virt"
  [x86_64-pc-booted]="--run 3 ${x86[*]} -M pc"
  [ppc64-pseries]="qemu-system-ppc64 -M pseries -device virtio-net-pci,netdev=n0 -netdev user,id=n0"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${!m[@]}")
for name in "${names[@]}"; do
  [ -n "${m[$name]:-}" ] || { echo "unknown machine $name" >&2; exit 2; }
  echo "== $name" >&2
  read -r -a cmd <<< "${m[$name]}"
  run=()
  if [ "${cmd[0]}" = --run ]; then run=(--run "${cmd[1]}"); cmd=("${cmd[@]:2}"); fi
  python3 "$here/qmp-mtree.py" "${run[@]}" "$out/$name" "${cmd[@]}"
done
