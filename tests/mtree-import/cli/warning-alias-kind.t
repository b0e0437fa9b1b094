# An alias whose printed kind differs from its target chain's end warns (wrong target=?) but imports.
# args: mtree -f cli/warning-alias-kind.in
