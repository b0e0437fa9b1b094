# --json: the tree as JSON (library format, docs/mtree.md).
# args: mtree --json cases/arm-vexpress-a9/input.txt
