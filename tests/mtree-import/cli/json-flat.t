# -f --json: the flat views as JSON.
# args: mtree -f --json cases/arm-vexpress-a9/input.txt
