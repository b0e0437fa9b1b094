# memspace Python bindings: what the tests share.
#
# SPDX-License-Identifier: MIT
"""Test helpers: a context with a 2^64 system container and RAM at 0."""

import os
import sys
import unittest

# The package next to the tests, whatever directory the tests run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import memspace  # noqa: E402


class CtxTest(unittest.TestCase):
    """Each test gets self.ctx, closed (and checked closable) afterwards."""

    def setUp(self):
        self.ctx = memspace.Context()
        self.addCleanup(self.ctx.close)

    def machine(self, ram_size=0x10000):
        """system (2^64 container) with RAM "ram" at 0 and the address space "memory"."""
        system = self.ctx.container("system", memspace.SIZE_2_64)
        ram = self.ctx.ram("ram", ram_size)
        system.add_subregion(0, ram)
        return system, ram, self.ctx.address_space(system, "memory")


def tool_env():
    """The environment for the C programs the tests run: without the sanitizer
    runtime that an ASan build preloads for the interpreter (those programs
    carry their own)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def tool(env_name):
    """The path of a built program given through the environment, or skip."""
    path = os.environ.get(env_name)
    if not path:
        raise unittest.SkipTest("%s is not set (CTest sets it)" % env_name)
    return path
