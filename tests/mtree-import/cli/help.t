# args: mtree --help
