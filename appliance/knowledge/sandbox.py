"""Extraction that cannot take the process down: every file is parsed in a child process.

The child (extract_worker) runs under hard limits (address space, CPU time, no files written)
and this side adds the wall-clock limit and a cap on the reply. A file that breaks a limit,
or crashes its parser, becomes that file's clear error (IngestError) and the child is
replaced; the caller's process never holds the file's parse. Children are reused between
files, one per file at a time, and end with the parent (they read EOF on stdin).
"""
from __future__ import annotations

import atexit
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..errors import (CorruptFileError, EmptyFileError, IngestError, OversizeFileError,
                      RejectedFileError, UnsupportedFileError)
from .extract_worker import HEADER, REPLY
from .extraction import Block, mime_type_for
from .file_checks import Limits

__all__ = ["Sandbox", "sandbox_for"]

ERRORS = {cls.__name__: cls for cls in (CorruptFileError, EmptyFileError, IngestError,
                                        OversizeFileError, RejectedFileError,
                                        UnsupportedFileError)}
ROOT = Path(__file__).resolve().parents[2]  # the directory that holds the appliance package


class _Died(Exception):
    """The child ended or overran without answering."""


class _Worker:
    def __init__(self, limits: Limits):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
                       filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.knowledge.extract_worker",
             json.dumps(limits.__dict__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def run(self, name: str, mime: str, data: bytes, limits: Limits) -> dict:
        header = json.dumps({"name": name, "mime": mime}).encode()
        try:
            self.proc.stdin.write(HEADER.pack(len(header), len(data)) + header)
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _Died from exc
        deadline = time.monotonic() + limits.wall_seconds
        size = REPLY.unpack(self._read(REPLY.size, deadline))[0]
        if size > (limits.max_text_mb + 16) * 2**20 * 2:  # JSON may double the text
            raise _Died("reply too large")
        return json.loads(self._read(size, deadline))

    def _read(self, size: int, deadline: float) -> bytes:
        out = bytearray()
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while len(out) < size:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise _Died("timeout")
                chunk = os.read(fd, min(size - len(out), 1 << 20))
                if not chunk:
                    raise _Died("ended")
                out += chunk
        return bytes(out)

    def kill(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return self.proc.wait()


class Sandbox:
    """Extracts files in child processes under `limits`; thread-safe."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(2)  # at most two files parsed at once
        self.last_peak_mb: float | None = None  # the child's peak RSS so far (benchmarks)

    def extract(self, name: str, data: bytes) -> list[Block]:
        mime = mime_type_for(Path(name))
        if not data.strip():
            raise EmptyFileError(f"{name}: the file is empty")
        with self._slots:
            worker = self._take()
            started = time.monotonic()
            try:
                reply = worker.run(name, mime, data, self.limits)
            except _Died as died:
                raise self._failure(name, worker, str(died), time.monotonic() - started) from None
            self.last_peak_mb = reply.get("peak_mb")
            if reply.get("restart"):
                worker.kill()
            else:
                self._give(worker)
        if "error" in reply:
            raise ERRORS.get(reply["error"], CorruptFileError)(reply["message"])
        return [Block(text, page, section) for text, page, section in reply["blocks"]]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.proc.poll() is None:
                    return worker
        return _Worker(self.limits)

    def _give(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def _failure(self, name: str, worker: _Worker, why: str, seconds: float) -> IngestError:
        code = worker.kill()
        limits = self.limits
        if why == "timeout":
            return RejectedFileError(f"{name}: extraction took longer than {limits.wall_seconds}"
                                     f" s (extract_wall_seconds)")
        if code == -signal.SIGXCPU:
            return RejectedFileError(f"{name}: extraction used more than {limits.cpu_seconds} s "
                                     f"of CPU time (extract_cpu_seconds)")
        if code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
            return RejectedFileError(f"{name}: the parser stopped (signal {-code}) within the "
                                     f"memory limit of {limits.memory_mb} MB: the file is "
                                     f"rejected")
        return CorruptFileError(f"{name}: the extractor ended without an answer "
                                f"(exit {code}, after {seconds:.1f} s)")


_SANDBOXES: dict[Limits, Sandbox] = {}
_GUARD = threading.Lock()


def sandbox_for(limits: Limits) -> Sandbox:
    """The process's sandbox for these limits (children are shared by every caller)."""
    with _GUARD:
        if limits not in _SANDBOXES:
            _SANDBOXES[limits] = Sandbox(limits)
        return _SANDBOXES[limits]


@atexit.register
def _close_all() -> None:
    for sandbox in list(_SANDBOXES.values()):
        sandbox.close()
