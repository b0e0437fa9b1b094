#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drive `memspace shell` through a pseudo-terminal (python3 stdlib only).

Checks what only a terminal shows: the banner and prompt, tab completion of
commands, region names and option keys, history recall with the up arrow,
errors that show a caret and do not end the session, colour on a terminal
(and none with NO_COLOR), and a clean exit on `quit` and on end of input.

usage: shell_pty.py PATH-TO-MEMSPACE
"""
import os
import pty
import re
import select
import sys
import time

EXE = sys.argv[1]
TIMEOUT = 10.0


class Session:
    def __init__(self, env_extra):
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        env.update(env_extra)
        env["TERM"] = "xterm"
        env["HOME"] = os.environ.get("TMPDIR", "/tmp")  # no ~/.editrc surprises
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(EXE, [EXE, "shell"], env)
        self.buf = b""

    def read_until(self, pattern, what):
        regex = re.compile(pattern)
        deadline = time.time() + TIMEOUT
        while True:
            text = self.buf.decode("utf-8", "replace")
            match = regex.search(text)
            if match:
                self.buf = self.buf[len(text[: match.end()].encode("utf-8")):]
                return text[: match.end()]
            left = deadline - time.time()
            if left <= 0:
                fail(f"timed out waiting for {what} ({pattern!r}); got:\n{text!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    fail(f"shell ended while waiting for {what}; got:\n{text!r}")
                self.buf += chunk

    def send(self, data):
        time.sleep(0.05)  # let libedit switch the terminal to raw mode first
        os.write(self.fd, data.encode())

    def prompt(self):
        return self.read_until(r"memspace> ", "the prompt")

    def wait_exit(self):
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if ready:
                    os.read(self.fd, 4096)
            except OSError:
                pass
        os.kill(self.pid, 9)
        fail("the shell did not exit")


def fail(msg):
    print("shell_pty: FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def plain(text):
    """Drop ANSI escapes and carriage returns."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")


# Session 1: NO_COLOR set, the main interaction.
s = Session({"NO_COLOR": "1"})
banner = s.prompt()
check("'help' lists the commands" in banner, "banner missing: " + repr(banner))
check("\x1b[1m" not in banner, "colour despite NO_COLOR")

s.send("container system 2^64\r")
s.prompt()
s.send("as memory system\r")
s.prompt()
# Tab completes a command name ("contai" -> "container ") and a region name
# after an option key ("in=sys" -> "in=system ").
s.send("contai\tbus 64K\r")
s.prompt()
s.send("ram flash0 64K in=sys\tat=0\r")
s.prompt()
s.send("show bus\r")
out = plain(s.prompt())
check("bus: container, size 0x10000, not in a container" in out,
      "command-name completion failed: " + repr(out))
# Tab completes region names and option keys.
s.send("show fla\t\r")
out = plain(s.prompt())
check("flash0: ram, size 0x10000, in system at 0x0 prio 0" in out,
      "region-name completion failed: " + repr(out))
s.send("stl 0x10 0x1234 as=mem\t\r")
out = plain(s.prompt())
check("stl 0x10 le 0x00001234 (OK)" in out, "store failed: " + repr(out))
# History: the up arrow recalls the previous line.
s.send("ldl 0x10\r")
out = plain(s.prompt())
check("ldl 0x10 le -> 0x00001234 (OK)" in out, "load failed: " + repr(out))
s.send("\x1b[A\r")
out = plain(s.prompt())
check("ldl 0x10 le -> 0x00001234 (OK)" in out, "history recall failed: " + repr(out))
# Errors show the line and a caret, and the session goes on.
s.send("ldl 0x10 as=nowhere\r")
out = plain(s.prompt())
check("shell:10:13: unknown address space 'nowhere'" in out, "error message: " + repr(out))
check("\n              ^" in out, "caret missing: " + repr(out))
s.send("frobnicate\r")
out = plain(s.prompt())
check("unknown command 'frobnicate' (try 'help')" in out, repr(out))
s.send("help ram\r")
out = plain(s.prompt())
check("usage: ram NAME SIZE" in out, "help: " + repr(out))
# Tab completes the TCE and VFIO commands, table and container names.
s.send("tce-tab\tphb0 memory\r")
s.prompt()
s.send("tce-window ph\t0 64K\r")
out = plain(s.prompt())
check("tce-window phb0 0: 0x0-0xffff, page 0x1000, 16 entries" in out,
      "TCE completion failed: " + repr(out))
s.send("as pci phb0\r")
s.prompt()
s.send("vfio-cont\t v0\r")
s.prompt()
s.send("vfio-attach v\tpci\r")
s.prompt()
s.send("vfio-inf\tv\t\r")
out = plain(s.prompt())
check("vfio-info v0: group pci, 1 window" in out, "container completion failed: " + repr(out))
s.send("quit\r")
code = s.wait_exit()
check(code == 1, f"exit status {code} after errors, expected 1")

# Session 2: colour on a terminal without NO_COLOR; end of input leaves.
s = Session({})
s.prompt()
s.send("heading hello\r")
out = s.prompt()
check("\x1b[1m== hello ==" in out, "no colour on a terminal: " + repr(out))
s.send("\x04")
code = s.wait_exit()
check(code == 0, f"exit status {code} at end of input, expected 0")

print("shell_pty: ok")
