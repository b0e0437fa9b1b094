#!/usr/bin/env python3
"""kerneldoc2doxygen: the Doxygen filter of memspace's public headers (FILTER_PATTERNS).

    kerneldoc2doxygen.py HEADER      (prints the filtered header)

The headers are documented in kernel-doc style:

    /**
     * name - summary.
     * @param: description,
     *         continued.
     *
     * Body.
     * Return: what it returns.
     * Context: which threads may call it.
     */

This filter rewrites that into Doxygen markup without changing the number of
lines (so Doxygen's warnings point at the right line of the real header):

- the file's first comment becomes its @file block;
- "name - summary" becomes @brief; "@param: text" becomes "@param param
  text" for functions, macros and typedefs; for structs, unions and enums the
  "@member: text" lines are moved to their members (a /** */ comment put
  before the member, or a trailing /**< */ one);
- "Return:" becomes @return; "Context:", "Locking:", "Errors:" and the like at
  the start of a line become paragraphs with that title;
- @name inside text becomes <code>name</code>, %CONST becomes CONST, &struct x becomes x;
- a trailing /* comment */ on a #define, a member or an enumerator, a plain
  comment right above a #define, and a block comment inside a struct, union
  or enum body, document that item;
- one comment (doc or plain) over a run of public declarations with no blank
  line between them, or a single one, documents each of them (a Doxygen
  member group; the Doxyfile sets DISTRIBUTE_GROUP_DOC).

SPDX-License-Identifier: MIT
"""
import re
import sys

SUMMARY = re.compile(r"^(\s*\*?\s*)(?:(struct|union|enum|typedef)\s+)?"
                     r"([A-Za-z_][\w]*(?:\(\))?(?:\s*[,/]\s*[A-Za-z_][\w]*(?:\(\))?)*)\s+-\s+(.*)$")
PARAM = re.compile(r"^(\s*\*\s*)@([A-Za-z_][\w.]*|\.\.\.)\s*:\s?(.*)$")
SECTION = re.compile(r"^(\s*\*\s*)(Return|Returns|Context|Locking|Errors|Concurrency|"
                     r"Ownership|Results|Lifetime|Threads|Note|Example)s?:\s*(.*)$")
TRAILING = re.compile(r"^(.*?[;,]|\s*#\s*define\s.*?)\s*/\*(?!\*)\s*(.*?)\s*\*/\s*$")


def inline(text):
    """Kernel-doc's inline markup, in Doxygen's words."""
    text = re.sub(r"&(?:struct|enum|union)\s+([A-Za-z_]\w*)", r"\1", text)
    text = re.sub(r"(?<![\w%])%([A-Za-z_]\w*)", r"\1", text)
    text = re.sub(r"(?<![\w@\\])@([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)", r"<code>\1</code>", text)
    return text


def convert_block(lines):
    """Convert one /** ... */ block (a list of lines); returns (lines, kind, members)."""
    out = []
    members = {}
    kind = None
    current = None  # the member whose description is being continued
    first = True
    for i, line in enumerate(lines):
        head = ""
        body = line
        if i == 0:
            m = re.match(r"^(\s*/\*\*)(.*)$", line)
            head, body = m.group(1), m.group(2)
        tail = ""
        m = re.match(r"^(.*?)(\s*\*/\s*)$", body)
        if m:
            body, tail = m.group(1), m.group(2)
        if first and body.strip(" *\t"):
            first = False
            m = SUMMARY.match(body)
            if m:
                kind = m.group(2) or "function"
                out.append(head + m.group(1) + "@brief " + inline(m.group(4)) + tail)
                continue
        m = PARAM.match(body)
        if m:
            name, desc = m.group(2), m.group(3)
            if kind in ("struct", "union", "enum"):
                members[name] = [desc]
                current = name
                out.append(head + m.group(1).rstrip() + tail)
            else:
                current = None
                if name == "...":
                    out.append(head + m.group(1) + "@param ... " + inline(desc) + tail)
                else:
                    out.append(head + m.group(1) + "@param " + name + " " + inline(desc) + tail)
            continue
        if current is not None:
            text = body.strip(" *\t")
            if text and not SECTION.match(body):
                members[current].append(text)
                out.append(head + re.match(r"^(\s*\*?)", body).group(1) + tail)
                continue
            current = None
        m = SECTION.match(body)
        if m:
            name, rest = m.group(2), m.group(3)
            if name in ("Return", "Returns"):
                out.append(head + m.group(1) + "@return " + inline(rest) + tail)
            else:
                out.append(head + m.group(1) + "@kdsection{" + name + "} " + inline(rest) + tail)
            continue
        out.append(head + inline(body) + tail)
    return out, kind, members


def one_line(parts):
    """A member's description lines as one line: "- item" lines become an
    HTML list, since the description must fit on its member's line."""
    text, items = [], []
    for part in parts:
        if part.startswith("- "):
            items.append(part[2:])
        elif items:
            items[-1] += " " + part
        else:
            text.append(part)
    out = " ".join(text)
    if items:
        out += " <ul>" + "".join("<li>" + item + "</li>" for item in items) + "</ul>"
    return out


def decl_run(src, i):
    """The last line of each public declaration in the run starting at src[i]
    (declarations may span lines; one blank line may separate them)."""
    ends = []
    n = len(src)
    while i < n and src[i].startswith("MS_API"):
        while i < n and ";" not in src[i]:
            i += 1
        ends.append(i)
        i += 1
        if i + 1 < n and not src[i].strip() and src[i + 1].startswith("MS_API"):
            i += 1
    return ends


def member_name(code):
    """The name a member or enumerator line declares, or None."""
    code = code.strip()
    m = re.match(r"^([A-Z_][A-Z0-9_]*)\s*(=.*)?,?$", code)
    if m:
        return m.group(1)
    m = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(", code)
    if m:
        return m.group(1)
    m = re.search(r"([A-Za-z_]\w*)\s*(\[[^\]]*\]\s*)*(:\s*\d+\s*)?;$", code)
    if m:
        return m.group(1)
    return None


def main():
    src = open(sys.argv[1], encoding="utf-8").read().split("\n")
    out = []
    i = 0
    n = len(src)
    # The file's leading comment documents the file.
    if n and re.match(r"^/\*(?!\*)", src[0]):
        out.append("/** @file")
        i = 1
        while i < n:
            line = src[i]
            if "SPDX-License-Identifier" in line:
                line = " *"
            else:
                line = inline(line)
            out.append(line)
            i += 1
            if "*/" in line:
                break
    stack = []  # brace kinds: "agg" for struct/union/enum bodies, "other"
    members = {}  # member docs of the aggregate being defined
    pending = None  # member docs of a struct/union/enum block not yet opened
    in_plain = False  # inside a /* */ comment in an aggregate body
    while i < n:
        line = src[i]
        i += 1
        if re.match(r"^\s*/\*\*(?!/)", line) and not re.match(r"^\s*/\*\*<", line):
            block = [line]
            while "*/" not in block[-1][3:] if len(block) == 1 else "*/" not in block[-1]:
                if i >= n:
                    break
                block.append(src[i])
                i += 1
            converted, kind, mdocs = convert_block(block)
            if kind in ("struct", "union", "enum"):
                pending = mdocs
            # One comment over a run of one-line declarations (a family such
            # as the fixed-width loads) documents each of them: a Doxygen
            # member group, with DISTRIBUTE_GROUP_DOC.
            run = decl_run(src, i)
            if len(run) >= 2:
                converted[-1] += " /**@{*/"
                out.extend(converted)
                while i <= run[-1]:
                    out.append(src[i] + (" /**@}*/" if i == run[-1] else ""))
                    i += 1
                continue
            out.extend(converted)
            continue
        in_agg = bool(stack) and stack[-1] == "agg"
        if not in_agg and not in_plain and re.match(r"^/\*(?![*<])", line):
            # A plain comment over a family of declarations documents them.
            block = [line]
            while "*/" not in block[-1] and i < n:
                block.append(src[i])
                i += 1
            run = decl_run(src, i)
            if i < n and re.match(r"^#\s*define\s", src[i]) and not TRAILING.match(src[i]):
                # A plain comment right over a macro documents it.
                block[0] = "/**" + block[0][2:]
                out.extend(convert_block(block)[0])
                continue
            if len(run) >= 2:
                block[0] = "/**" + block[0][2:]
                converted, _, _ = convert_block(block)
                converted[-1] += " /**@{*/"
                out.extend(converted)
                while i <= run[-1]:
                    out.append(src[i] + (" /**@}*/" if i == run[-1] else ""))
                    i += 1
            else:
                out.extend(block)
            continue
        if in_agg and not in_plain and re.match(r"^\s*/\*(?![*<])", line):
            line = re.sub(r"/\*", "/**", line, count=1)
            in_plain = "*/" not in line
            out.append(inline(line))
            continue
        if in_plain:
            in_plain = "*/" not in line
            out.append(inline(line))
            continue
        # Braces: a struct/union/enum body takes the pending member docs.
        opens = line.count("{")
        closes = line.count("}")
        if opens and re.search(r"\b(struct|union|enum)\b", line):
            stack.append("agg")
            if pending is not None and len([k for k in stack if k == "agg"]) == 1:
                members = pending
                pending = None
            opens -= 1
        stack.extend(["other"] * opens)
        in_agg = bool(stack) and stack[-1] == "agg"
        m = TRAILING.match(line)
        if m and (in_agg or re.match(r"^\s*#\s*define", line)):
            code, text = m.group(1), m.group(2)
            name = member_name(code) if in_agg else None
            if name and name in members:
                text = one_line(members.pop(name)) + " " + text
            line = code + " /**< " + inline(text) + " */"
        elif closes and re.match(r"^\s*}\s*([A-Za-z_]\w*)\s*;\s*$", line) and \
                re.match(r"^\s*}\s*([A-Za-z_]\w*)", line).group(1) in members:
            # The end of a nested struct: "} valid;".
            name = re.match(r"^\s*}\s*([A-Za-z_]\w*)", line).group(1)
            line = line + " /**< " + inline(one_line(members.pop(name))) + " */"
        elif in_agg and closes == 0:
            name = member_name(line)
            if name and name in members:
                # Before the member: its declaration may go on over lines.
                indent = re.match(r"^\s*", line).group(0)
                line = indent + "/** " + inline(one_line(members.pop(name))) + " */ " + line.lstrip()
        for _ in range(closes):
            if stack:
                stack.pop()
        out.append(line)
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
