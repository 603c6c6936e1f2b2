"""External checkpoint sinks: copies of signed checkpoints kept outside the database.

A rollback of the whole database (restoring an old backup, or deleting the newest rows
together with their checkpoints) cannot roll back these copies, so `verify` catches it.
settings.audit_external_sink is "" (none), "syslog", or a directory (ideally another mount).
"""
from __future__ import annotations

import base64
import fcntl
import logging
import os
from pathlib import Path
from typing import Callable

from ..errors import AuditError
from .notes import Checkpoint

log = logging.getLogger(__name__)
LATEST_FILE = "audit.checkpoint"
SYSLOG_PREFIX = "appliance-audit checkpoint"


class DirectorySink:
    """Keeps the newest checkpoint note in <dir>/audit.checkpoint (replaced atomically)."""

    name = "directory"

    def __init__(self, path: str):
        self.path = Path(path)
        if not self.path.is_dir():
            raise AuditError(f"audit_external_sink directory {self.path} does not exist "
                             "(create it, ideally on another mount, or set the setting to \"\")")

    def write(self, cp: Checkpoint) -> None:
        target = self.path / LATEST_FILE
        with open(self.path / ".audit.checkpoint.lock", "a") as lock:
            # Several processes checkpoint; only a larger size may replace the file.
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = _size_of(target)
            if current is not None and current >= cp.size:
                return
            tmp = self.path / f".{LATEST_FILE}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(cp.note)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)

    def latest(self) -> str | None:
        try:
            return (self.path / LATEST_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None


class SyslogSink:
    """Sends each checkpoint to the local syslog (facility AUTHPRIV) as one line."""

    name = "syslog"

    def write(self, cp: Checkpoint) -> None:
        import syslog

        syslog.openlog("appliance-audit", syslog.LOG_PID, syslog.LOG_AUTHPRIV)
        syslog.syslog(syslog.LOG_NOTICE, syslog_line(cp))

    def latest(self) -> str | None:
        return None  # the syslog host keeps them; pass one to `verify --checkpoint`


def syslog_line(cp: Checkpoint) -> str:
    """One line: readable size and head, then the whole signed note in base64."""
    note = base64.b64encode(cp.note.encode("utf-8")).decode()
    return f"{SYSLOG_PREFIX} size={cp.size} head={cp.head_hash} note={note}"


def _size_of(path: Path) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
        return int(lines[1])
    except (FileNotFoundError, IndexError, ValueError):
        return None


SINKS: dict[str, Callable[[str], object]] = {}


def register_sink(kind: str, factory: Callable[[str], object]) -> None:
    if kind in SINKS:
        raise ValueError(f"checkpoint sink {kind!r} is already registered")
    SINKS[kind] = factory


register_sink("syslog", lambda value: SyslogSink())
register_sink("directory", DirectorySink)


def make_sink(value: str):
    """The sink a setting names: "" → None, "syslog" → syslog, anything else → a directory."""
    if not value:
        return None
    return SINKS["syslog" if value == "syslog" else "directory"](value)


def read_checkpoint_file(path: str) -> str:
    """The signed note in a checkpoint file; a file of syslog lines gives its largest one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"cannot read checkpoint file {path}: {exc}") from None
    if SYSLOG_PREFIX not in text:
        return text
    best: tuple[int, str] | None = None
    for line in text.splitlines():
        if SYSLOG_PREFIX in line and " note=" in line:
            try:
                size = int(line.split(" size=", 1)[1].split(" ", 1)[0])
                note = base64.b64decode(line.rsplit(" note=", 1)[1].strip()).decode("utf-8")
            except (IndexError, ValueError):
                raise AuditError(f"checkpoint file {path}: unreadable syslog line") from None
            if best is None or size > best[0]:
                best = (size, note)
    if best is None:
        raise AuditError(f"checkpoint file {path} holds no checkpoint")
    return best[1]
