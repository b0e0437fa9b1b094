# -o: an imported dump has no owners, so every line says orphan.
# args: mtree -D -o cases/arm-vexpress-a9/input.txt
