# FILE '-' reads standard input.
# args: mtree -fD -
# stdin: cases/arm-vexpress-a9/input.txt
