# memspace Python bindings: python/examples/pc.py builds the demo's machine.
#
# SPDX-License-Identifier: MIT
"""The example runs, and the memory tree and flat views it prints are exactly
those of the machine part of `memspace demo --script` run by the memspace
command (when CTest gives its path as MEMSPACE_CLI)."""

import os
import subprocess
import sys
import unittest
from support import tool, tool_env


HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(os.path.dirname(HERE), "examples", "pc.py")


def run_example():
    out = subprocess.run([sys.executable, EXAMPLE], capture_output=True, text=True, timeout=120)
    if out.returncode != 0 or out.stderr:
        raise AssertionError("pc.py failed (%d):\n%s" % (out.returncode, out.stderr))
    return out.stdout


def sections(text):
    """{heading: body} of the example's "== heading" blocks."""
    out, name = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("== "):
            name = line[3:].strip()
            out[name] = ""
        elif name is not None:
            out[name] += line
    return out


class ExampleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = run_example()
        cls.sections = sections(cls.out)

    def test_accesses(self):
        expected = [
            ("RAM below and above 4 GiB", [
                "read 0x1000 16 -> 'Hello, memspace!' (OK)",
                "ldq 0x100000000 -> 0x1122334455667788 (OK)",
                "translate 0x100000000 -> pc.ram @0xc0000000",
                "read 0xbffffffc 8 -> 00 00 00 00 00 00 00 00 (DECODE_ERROR)"]),
            ("The BIOS ROM", [
                "read 0xfffffff0 5 -> ea 5b e0 00 f0",
                "read 0xffff0 5 -> ea 5b e0 00 f0"]),
            ("The flash chip: a ROM device", [
                "read 0xff800000 5 -> 'FLASH'",
                "[pflash] write 0x0 size 4 <- 0x90",
                "ldl 0xff800000 (romd off) -> 0x00000090",
                "ldl 0xff800000 (romd on) -> 0x53414c46"]),
            ("Devices", [
                "ldl 0xfed00000 -> 0x8086a201 (OK)",
                "ldl 0xfebe0000 -> 0x00000000 (ERROR)",
                "ldl 0xd0000000 -> 0x00000000 (DECODE_ERROR)",
                "ldw 0xfebc000a -> 0x1234",
                "[serial] write 0x0 size 1 <- 0x41",
                "stb 0x3f8 (I/O): OK"]),
            ("DMA", [
                "[dma.mmio] dma done: OK",
                "read 0x100000010 12 -> 'DMA payload!'",
                "status -> 0",
                "[dma.mmio] dma done: ACCESS_ERROR",
                "status -> 4"]),
        ]
        for heading, lines in expected:
            with self.subTest(heading=heading):
                body = self.sections[heading].splitlines()
                # In this order, other lines between them allowed.
                at = 0
                for line in lines:
                    self.assertIn(line, body[at:], "%r missing in %s" % (line, heading))
                    at = body.index(line, at) + 1

    def test_dumps_match_the_demo(self):
        cli = tool("MEMSPACE_CLI")
        script = subprocess.run([cli, "demo", "--script"], capture_output=True, text=True,
                                check=True, env=tool_env()).stdout.splitlines()
        machine = script[script.index("begin"):script.index("commit") + 1]
        machine += ["mtree", "echo == split", "mtree -f"]
        out = subprocess.run([cli, "run", "-"], input="\n".join(machine) + "\n",
                             capture_output=True, text=True, check=True, env=tool_env()).stdout
        tree, flat = out.split("== split\n")
        self.assertEqual(self.sections["info mtree"], tree)
        self.assertEqual(self.sections["info mtree -f"], flat)
        self.assertIn("alias isa-bios @pc.bios", tree)  # the comparison saw a real tree


if __name__ == "__main__":
    unittest.main()
