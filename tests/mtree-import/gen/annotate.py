#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Apply a case's annotations to QEMU's raw `info mtree -D` text.

Usage: annotate.py RAW-D.txt NOTES.txt > input.txt

NOTES.txt holds one annotation per line, `SELECTOR<TAB>{FLAGS}<TAB>WHY`
(empty lines and lines starting with '#' are ignored). SELECTOR is a region
name: the first tree line in file order that prints a region (or alias) of
that name gets ` {FLAGS}` appended; `NAME#K` picks the K-th such line instead,
and `@N` picks line N of RAW-D.txt (which must be a tree line).
Every annotation must say WHY (the QEMU fact it encodes), and every selector
must match, so the notes stay the documentation of input.txt.
"""
import re
import sys

LINE = re.compile(r"^(?:\[DETECTED OVERFLOW!\] )?( +)[0-9a-f]{16}-[0-9a-f]{16} "
                  r"\(prio -?[0-9]+, (?:nv-)?(?:ram|rom|romd|ramd|i/o)\): (.*)$")
ALIAS = re.compile(r"^alias (.*) @(.*) [0-9a-f]{16}-[0-9a-f]{16}$")


def region_name(rest):
    if rest.endswith(" [disabled]"):
        rest = rest[: -len(" [disabled]")]
    m = ALIAS.match(rest)
    if m:
        # NAME and TARGET split at the last " @" (greedy first group).
        return m.group(1)
    return rest


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    lines = open(sys.argv[1]).read().split("\n")
    names = []
    for line in lines:
        m = LINE.match(line)
        names.append(region_name(m.group(2)) if m else None)
    for n, note in enumerate(open(sys.argv[2]).read().split("\n"), 1):
        if not note.strip() or note.startswith("#"):
            continue
        parts = note.split("\t")
        if len(parts) < 3 or not parts[2].strip():
            sys.exit("%s:%d: expected SELECTOR<TAB>{FLAGS}<TAB>WHY" % (sys.argv[2], n))
        sel, flags = parts[0], parts[1]
        if re.match(r"^@[0-9]+$", sel):
            i = int(sel[1:]) - 1
            if i < 0 or i >= len(lines) or names[i] is None:
                sys.exit("%s:%d: line %s is not a tree line" % (sys.argv[2], n, sel[1:]))
        else:
            k = 1
            m = re.match(r"^(.*)#([0-9]+)$", sel)
            if m:
                sel, k = m.group(1), int(m.group(2))
            hits = [j for j, name in enumerate(names) if name == sel]
            if len(hits) < k:
                sys.exit("%s:%d: no tree line #%d for region '%s'" % (sys.argv[2], n, k, sel))
            i = hits[k - 1]
        if lines[i].endswith("}") and re.search(r" \{[a-z0-9=, ]*\}$", lines[i]):
            sys.exit("%s:%d: line %d is already annotated" % (sys.argv[2], n, i + 1))
        lines[i] += " " + flags
    sys.stdout.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
