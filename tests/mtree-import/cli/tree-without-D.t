# Without -D disabled lines are skipped but their subtrees still print (QEMU's behaviour).
# args: mtree cases/ppc64-pseries/input.txt
