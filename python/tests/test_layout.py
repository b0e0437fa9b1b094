# memspace Python bindings: the ctypes structures against the C compiler.
#
# SPDX-License-Identifier: MIT
"""Every ctypes structure of memspace._ffi has the size and field offsets that
the C compiler gives the header's struct (python/tests/layout.c, built by CMake
and passed as MS_PY_LAYOUT)."""

import ctypes
import subprocess
import unittest

from support import tool, tool_env  # first: it puts the package on sys.path
import memspace
from memspace import _ffi


def c_layout():
    out = subprocess.run([tool("MS_PY_LAYOUT")], check=True, capture_output=True, text=True,
                         env=tool_env())
    values = {}
    for line in out.stdout.splitlines():
        key, value = line.rsplit(" ", 1)
        values[key] = int(value, 0)
    return values


def py_fields(prefix, cls, base=0):
    """{"prefix.field": offset} for every field, nested structures expanded."""
    out = {}
    for field in cls._fields_:
        name, ctype = field[0], field[1]
        offset = base + getattr(cls, name).offset
        cname = "as" if name == "as_" else name
        if cname == "bits" and cls is _ffi.ms_attrs:
            continue  # bit-fields have no offset; their masks are checked apart
        out["%s.%s" % (prefix, cname)] = offset
        if isinstance(ctype, type) and issubclass(ctype, ctypes.Structure):
            out.update(py_fields("%s.%s" % (prefix, cname), ctype, offset))
    return out


class LayoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = c_layout()

    def test_sizes(self):
        for name, cls in _ffi.STRUCTS.items():
            with self.subTest(struct=name):
                self.assertEqual(ctypes.sizeof(cls), self.c["%s size" % name])

    def test_offsets(self):
        for name, cls in _ffi.STRUCTS.items():
            with self.subTest(struct=name):
                want = {k: v for k, v in self.c.items()
                        if k.startswith(name + ".") and ".bits." not in k}
                self.assertEqual(py_fields(name, cls), want)

    def test_every_struct_is_declared(self):
        structs = {k.split(" ")[0] for k in self.c if k.endswith(" size")}
        self.assertEqual(structs, set(_ffi.STRUCTS))

    def test_attr_bits(self):
        for field, (shift, width) in _ffi.ATTR_BITS.items():
            with self.subTest(field=field):
                self.assertEqual(((1 << width) - 1) << shift, self.c["ms_attrs.bits." + field])
        # And the conversion both ways.
        a = memspace.Attrs(secure=True, requester_id=0xbeef, pasid_valid=True, pasid=7)
        c = a._c()
        self.assertEqual(c.bits, self.c["ms_attrs.bits.secure"] |
                         (self.c["ms_attrs.bits.requester_id"] & (0xbeef << 5)) |
                         self.c["ms_attrs.bits.pasid_valid"])
        self.assertEqual(memspace.Attrs._from_c(c), a)
        with self.assertRaises(ValueError):
            memspace.Attrs(requester_id=1 << 16)._c()

    def test_versions_and_constants(self):
        self.assertEqual(_ffi.REGION_OPS_VERSION, self.c["MS_REGION_OPS_VERSION"])
        self.assertEqual(_ffi.LISTENER_OPS_VERSION, self.c["MS_LISTENER_OPS_VERSION"])
        self.assertEqual(_ffi.IOMMU_OPS_VERSION, self.c["MS_IOMMU_OPS_VERSION"])
        self.assertEqual(memspace.Kind.IOMMU, self.c["MS_REGION_IOMMU"])
        self.assertEqual(memspace.Backend.NONE, self.c["MS_RAM_NONE"])
        self.assertEqual(sum(memspace.RamFlag), self.c["MS_RAM_FLAGS_ALL"])
        self.assertEqual(memspace.NotifierFlag.ALL, self.c["MS_IOMMU_NOTIFIER_ALL"])

    def test_every_function_exists(self):
        # load() declares them all; a missing symbol would have raised there.
        for name in _ffi.FUNCTIONS:
            self.assertTrue(hasattr(memspace._lib, name), name)


if __name__ == "__main__":
    unittest.main()
