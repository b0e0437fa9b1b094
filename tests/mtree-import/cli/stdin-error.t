# FILE '-' reads standard input; errors name <stdin>.
# args: mtree -f -
# stdin: errors/bad-hex.txt
# exit: 1
