"""Reader of jacnoise step states (`jacnoise step --dump`; include/jacnoise/stepstate.h), shared
by the autograd oracle (tests/torch_oracle.py) and the peer benchmarks (bench/peers/)."""
import struct
import zlib

import numpy as np

MAGIC = b"JNSTEP\0\n"
VERSION = 2
DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i4"), 4: np.dtype("<u8")}
HEADER = struct.Struct("<IQI")  # after the magic: version, the file's size, the CRC-32 of the 20 bytes before it


class DumpError(Exception):
    pass


def parse_dump(path):
    """Reads a step state file into {name: numpy array}; scalars become floats."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < len(MAGIC) + HEADER.size + 8 or raw[:len(MAGIC)] != MAGIC:
        raise DumpError("%s: not a step state (bad magic)" % path)
    version, size, header_crc = HEADER.unpack_from(raw, len(MAGIC))
    if version != VERSION:
        raise DumpError("%s: format version %d, this script reads %d" % (path, version, VERSION))
    if zlib.crc32(raw[:len(MAGIC) + HEADER.size - 4]) != header_crc:
        raise DumpError("%s: the header's CRC-32 mismatches" % path)
    if len(raw) != size:
        raise DumpError("%s: %d bytes, the header says %d" % (path, len(raw), size))
    body, (crc,) = raw[:-4], struct.unpack("<I", raw[-4:])
    if zlib.crc32(body) & 0xFFFFFFFF != crc:
        raise DumpError("%s: CRC-32 mismatch (stored %08x, computed %08x)"
                        % (path, crc, zlib.crc32(body) & 0xFFFFFFFF))
    pos = len(MAGIC) + HEADER.size
    out = {}
    while True:
        if pos + 4 > len(body):
            raise DumpError("%s: truncated record header at offset %d" % (path, pos))
        dtype, ndim, nlen = struct.unpack_from("<BBH", body, pos)
        pos += 4
        if dtype == 0:
            if ndim != 0 or nlen != 0:
                raise DumpError("%s: malformed end record" % path)
            break
        if dtype not in DTYPES:
            raise DumpError("%s: unknown dtype %d at offset %d" % (path, dtype, pos - 4))
        name = body[pos:pos + nlen].decode("ascii")
        pos += nlen
        dims = struct.unpack_from("<%dQ" % ndim, body, pos)
        pos += 8 * ndim
        count = int(np.prod(dims)) if ndim else 1
        nbytes = count * DTYPES[dtype].itemsize
        if pos + nbytes > len(body):
            raise DumpError("%s: tensor %s runs past the end of the file" % (path, name))
        data = np.frombuffer(body, DTYPES[dtype], count, pos).reshape(dims)
        pos += nbytes
        if name in out:
            raise DumpError("%s: tensor %s appears twice" % (path, name))
        out[name] = (int(data) if dtype == 4 else float(data)) if ndim == 0 else data.copy()
    if pos != len(body):
        raise DumpError("%s: %d stray bytes after the end record" % (path, len(body) - pos))
    return out


def flat_params(st, prefix):
    """A step state's parameters named prefix (e.g. "next": after the step) in a checkpoint's
    flat order: W1 row major, b1, W2, ..."""
    layers = range(1, len(st["sizes"]))
    return np.concatenate([st[f"{prefix}.{w}{l}"].ravel() for l in layers for w in "Wb"])
