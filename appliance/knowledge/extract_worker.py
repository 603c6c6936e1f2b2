"""The extraction child process: `python -m appliance.knowledge.extract_worker LIMITS_JSON`.

Reads files from stdin and answers each with its blocks or its error, as length-prefixed JSON
(no pickle: the parent never runs anything a parsed file could shape). It sets its own hard
limits once its parsers are imported: address space (memory), CPU time per file, no files
written. A file that breaks the memory limit ends the process after its answer; one that
breaks the CPU limit is killed by the kernel (SIGXCPU) and the parent reports it.
"""
from __future__ import annotations

import json
import resource
import struct
import sys
from typing import BinaryIO

HEADER = struct.Struct(">II")  # header length, data length
REPLY = struct.Struct(">I")


def read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    buf, got = bytearray(size), 0
    view = memoryview(buf)
    while got < size:
        n = stream.readinto(view[got:])
        if not n:
            return None
        got += n
    return bytes(buf) if size < 1 << 16 else buf  # type: ignore[return-value]


def _preload() -> None:
    """Import every parser before the memory limit applies (imports are not the file's cost)."""
    import bs4  # noqa: F401
    import lxml.etree  # noqa: F401
    import pypdf  # noqa: F401


def _limit(limits) -> None:  # noqa: ANN001
    memory = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _cpu_budget(seconds: int) -> None:
    """This file may use `seconds` of CPU from now on (the limit counts the process's total)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + seconds
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard if hard != resource.RLIM_INFINITY
                                             and hard < soft else resource.RLIM_INFINITY))


def _answer(name: str, mime: str, data: bytes, limits) -> tuple[dict, bool]:  # noqa: ANN001
    """(reply, keep running)."""
    from ..errors import IngestError
    from .extraction import extract
    from .file_checks import check

    try:
        check(name, mime, data, limits)
        blocks = extract(name, data, limits)
        size = sum(len(b.text) for b in blocks)
        if size > limits.max_text_mb * 2**20:
            return {"error": "RejectedFileError", "message": f"{name}: the extracted text is over the "
                    f"limit of {limits.max_text_mb} MB (extract_max_text_mb)"}, True
        return {"blocks": [[b.text, b.page, b.section] for b in blocks]}, True
    except IngestError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}, True
    except MemoryError:
        return {"error": "RejectedFileError", "message": f"{name}: extracting it needs more "
                f"than the memory limit of {limits.memory_mb} MB (extract_memory_mb)"}, False
    except RecursionError:
        return {"error": "RejectedFileError", "message": f"{name}: its structure nests too "
                "deep to read"}, False
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's clear error
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return {"error": "CorruptFileError", "message": f"{name}: cannot read the file "
                f"({reason})"}, True


def _peak_mb() -> float | None:
    """This process's peak resident memory (VmHWM: ru_maxrss would carry the parent's over
    the fork)."""
    try:
        with open("/proc/self/status") as fh:
            kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
    except (OSError, StopIteration, ValueError):
        return None
    return round(kb / 1024, 1)


def main() -> int:
    from .file_checks import Limits

    limits = Limits(**json.loads(sys.argv[1]))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a parser that prints must not garble the replies
    _preload()
    _limit(limits)
    while True:
        head = read_exactly(stdin, HEADER.size)
        if head is None:
            return 0
        header_size, data_size = HEADER.unpack(head)
        header = json.loads(read_exactly(stdin, header_size) or b"{}")
        try:
            data = read_exactly(stdin, data_size)
        except MemoryError:
            data, reply, keep = b"", {"error": "RejectedFileError", "message": (
                f"{header['name']}: the file does not fit the memory limit of "
                f"{limits.memory_mb} MB (extract_memory_mb)")}, False
        else:
            if data is None:
                return 0
            _cpu_budget(limits.cpu_seconds)
            reply, keep = _answer(header["name"], header["mime"], data, limits)
        if not keep:
            reply["restart"] = True
        reply["peak_mb"] = _peak_mb()
        body = json.dumps(reply).encode()
        stdout.write(REPLY.pack(len(body)) + body)
        stdout.flush()
        if not keep:
            return 3


if __name__ == "__main__":
    sys.exit(main())
