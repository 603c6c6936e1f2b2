"""What changed in a watched folder since its last sync: a plan, computed without the index lock.

A file is read and hashed only when its size or modification time differ from the last sync
(the hash cache); the content hash then decides whether it really changed. A file that vanished
and one that appeared with the same content are a rename (within a source) or a move (between
sources), not a deletion plus a new document.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable

from ..engines import sha256_file as file_sha256
from .extraction import MIME_TYPES, printable


@dataclass(frozen=True)
class Rules:
    """Which files of a folder belong to its source."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def wanted(self, relpath: str) -> bool:
        path = PurePosixPath(relpath)
        if any(part.startswith(".") for part in path.parts):
            return False  # hidden files and folders: editors' swap files, .git, .DS_Store
        if path.suffix.lower() not in MIME_TYPES:
            return False
        if self.include and not any(_match(relpath, g) for g in self.include):
            return False
        return not any(_match(relpath, g) for g in self.exclude)


def _match(relpath: str, glob: str) -> bool:
    """A glob matches the path inside the source; one without "/" also matches the file name
    ("*.md"), and "dir/" or "dir/*" everything under dir."""
    if glob.endswith("/"):
        glob += "*"
    if fnmatch.fnmatchcase(relpath, glob):
        return True
    if "/" not in glob:
        return fnmatch.fnmatchcase(PurePosixPath(relpath).name, glob)
    return glob.endswith("/*") and relpath.startswith(glob[:-1])


@dataclass(frozen=True)
class Stat:
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Known:
    """A file as the last sync left it."""

    id: int
    relpath: str
    size: int
    mtime_ns: int
    sha256: str
    document_id: int | None
    status: str


@dataclass
class FileChange:
    relpath: str
    stat: Stat
    sha256: str
    known: Known | None = None  # the file's previous state (changed) or the renamed one


@dataclass
class Plan:
    """One source's differences from its last sync."""

    new: list[FileChange] = field(default_factory=list)
    changed: list[FileChange] = field(default_factory=list)
    renamed: list[FileChange] = field(default_factory=list)  # .known is the old path
    gone: list[Known] = field(default_factory=list)          # deleted, or now excluded
    touched: list[FileChange] = field(default_factory=list)  # new stat, same content
    unreadable: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def pending(self) -> int:
        return len(self.new) + len(self.changed) + len(self.renamed) + len(self.gone)


def list_files(root: Path, rules: Rules) -> dict[str, Stat]:
    """The source's files by path inside it (POSIX separators), with their stat."""
    out: dict[str, Stat] = {}
    stack = [(Path(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # a folder removed or unreadable mid-scan: its files count as gone
        for entry in entries:
            rel = printable(prefix + entry.name)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        stack.append((Path(entry.path), rel + "/"))
                elif entry.is_file(follow_symlinks=False) and rules.wanted(rel):
                    st = entry.stat(follow_symlinks=False)
                    out[rel] = Stat(st.st_size, st.st_mtime_ns)
            except OSError:
                continue
    return out


def plan(root: Path, rules: Rules, known: Iterable[Known], max_bytes: int) -> Plan:
    """Compare the folder with what the last sync recorded."""
    files = list_files(root, rules)
    before = {k.relpath: k for k in known}
    result = Plan()
    appeared: list[FileChange] = []
    for rel, stat in sorted(files.items()):
        old = before.get(rel)
        if old is not None and old.size == stat.size and old.mtime_ns == stat.mtime_ns:
            result.unchanged += 1
            continue
        try:
            sha = file_sha256(root / rel) if stat.size <= max_bytes else f"size:{stat.size}"
        except OSError as exc:
            result.unreadable[rel] = f"cannot read ({exc.strerror or exc})"
            continue
        change = FileChange(rel, stat, sha, old)
        if old is None:
            appeared.append(change)
        elif old.sha256 == sha and old.status != "failed":
            result.touched.append(change)
        else:
            result.changed.append(change)
    vanished = [k for rel, k in before.items() if rel not in files and rel not in
                result.unreadable]
    by_sha: dict[str, list[Known]] = {}
    for k in vanished:
        if k.document_id is not None:
            by_sha.setdefault(k.sha256, []).append(k)
    for change in appeared:
        twins = by_sha.get(change.sha256)
        if twins:
            change.known = twins.pop()
            result.renamed.append(change)
        else:
            result.new.append(change)
    renamed_ids = {c.known.id for c in result.renamed}
    result.gone = [k for k in vanished if k.id not in renamed_ids]
    return result
