"""The programs name a source from the source root where a message says where it failed
("src/cuda/step.c:123: cudaMalloc: out of memory", from __FILE__), not by the build machine's
path: no program of the build (jacnoise, the benchmarks, the C tests) holds the source root's
absolute path in what it loads. Its debug information, never printed, may. (The CUDA backend's
messages named the build machine's source folder.)

usage: test_source_paths.py BUILD_DIR      (run by ctest)"""
import os
import struct
import sys

from harness import BIN, check, finish

HERE = os.path.dirname(os.path.abspath(__file__))
# As CMake may have seen it (a path through a symbolic link) and resolved.
ROOTS = {os.path.abspath(os.path.join(HERE, "..")) + "/", os.path.realpath(os.path.join(HERE, "..")) + "/"}


def loaded_bytes(path):
    """The contents of an ELF file's loaded sections (SHF_ALLOC: not the debug information),
    or None where it is not a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x7fELF\x02\x01":
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    parts = []
    for i in range(shnum):
        _, kind, flags, _, offset, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if flags & 0x2 and kind != 8:  # SHF_ALLOC, not SHT_NOBITS (no bytes in the file)
            parts.append(data[offset:offset + size])
    return b"\0".join(parts)


def programs(build):
    """The executable ELF files built under build (CMake's own probes left out)."""
    found = {}
    for folder, dirs, files in os.walk(build):
        dirs[:] = [d for d in dirs if d != "CMakeFiles"]
        for name in files:
            path = os.path.join(folder, name)
            if os.access(path, os.X_OK) and os.path.isfile(path):
                data = loaded_bytes(path)
                if data is not None:
                    found[os.path.realpath(path)] = data
    return found


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("usage: ")[1])
    found = programs(sys.argv[1])
    check(BIN and os.path.realpath(BIN) in found, f"jacnoise ({BIN}) is not among the {len(found)} programs found "
          f"under {sys.argv[1]}")
    for path, data in sorted(found.items()):
        for root in ROOTS:
            at = data.find(root.encode())
            if at >= 0:
                start = data.rfind(b"\0", 0, at) + 1
                text = data[start:data.find(b"\0", at)].decode(errors="replace")
                check(False, f"{os.path.relpath(path, sys.argv[1])} holds the source root's path: {text!r}")
    return finish("source path")


if __name__ == "__main__":
    sys.exit(main())
