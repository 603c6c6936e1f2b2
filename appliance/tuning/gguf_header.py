"""A fast reader of a GGUF file's header: its scalar metadata and the tensor shapes.

gguf.GGUFReader decodes every metadata value, including a 262k-entry vocabulary, which takes
about 15 s in Python; export and the model registry need only the names, shapes and scalar
values, so arrays are skipped.
"""
from __future__ import annotations

import math
import mmap
import struct
from pathlib import Path

from . import TuningError

FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
STRING, ARRAY = 8, 9


class _Cursor:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def unpack(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string(self) -> str:
        n = self.unpack("Q")
        self.pos += n
        return bytes(self.buf[self.pos - n:self.pos]).decode("utf-8", errors="replace")

    def skip(self, kind: int) -> None:
        if kind in FIXED:
            self.pos += FIXED[kind]
        elif kind == STRING:
            n = self.unpack("Q")  # read first: `pos += unpack()` would add to the old pos
            self.pos += n
        elif kind == ARRAY:
            inner, count = self.unpack("IQ")
            if inner in FIXED:
                self.pos += FIXED[inner] * count
            else:
                for _ in range(count):
                    self.skip(inner)
        else:
            raise TuningError(f"unknown GGUF value type {kind}")


SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
           12: "d"}


def read_gguf(path: Path) -> tuple[dict, dict[str, tuple[int, ...]]]:
    """(the scalar and string metadata values by key, {tensor name: GGUF dims (ne0, ne1,
    ...)}): arrays (the vocabulary) are skipped, so reading stays fast on any model size."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        cur = _Cursor(buf)
        if bytes(buf[:4]) != b"GGUF":
            raise TuningError(f"{path} is not a GGUF file")
        cur.pos = 4
        version, n_tensors, n_kv = cur.unpack("IQQ")
        if version < 2:
            raise TuningError(f"{path}: GGUF version {version} is too old")
        values: dict = {}
        for _ in range(n_kv):
            key, kind = cur.string(), cur.unpack("I")
            if kind == STRING:
                values[key] = cur.string()
            elif kind in SCALARS:
                values[key] = cur.unpack(SCALARS[kind])
            else:
                cur.skip(kind)
        shapes = {}
        for _ in range(n_tensors):
            name, n_dims = cur.string(), cur.unpack("I")
            dims = struct.unpack_from(f"<{n_dims}Q", buf, cur.pos)
            cur.pos += 8 * n_dims + 12  # dims, then type (u32) and offset (u64)
            shapes[name] = tuple(int(d) for d in dims)
        return values, shapes


def read_header(path: Path) -> tuple[str, dict[str, tuple[int, ...]]]:
    """(general.architecture, {tensor name: GGUF dims (ne0, ne1, ...)})."""
    values, shapes = read_gguf(path)
    return str(values.get("general.architecture", "")), shapes


def read_metadata(path: Path) -> tuple[dict, int]:
    """(the metadata values, the parameter count)."""
    values, shapes = read_gguf(path)
    return values, sum(math.prod(dims) for dims in shapes.values())
