"""sha256 digests of model files, remembered by the files' identity.

A cold `ask` read the GGUF (about 250 MB) and the embedder's weights (90 MB) in full to record
their digests, a fifth of a second each. The digest is kept in <models_dir>/digests.json under
each file's path, inode, size, modification and change times: writing a file's bytes moves
its change time (ctime), which no call but a clock change can set back, so a changed file is
read and hashed again.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Callable, Iterable

from .query_encoder import write_atomically

FILE = "digests.json"
_LOCK = threading.Lock()


def _identity(files: Iterable[Path]) -> str:
    parts = []
    for file in sorted(files):
        st = os.stat(file)
        parts.append(f"{file.resolve()}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:"
                     f"{st.st_ctime_ns}")
    return "|".join(parts)


def remembered(files: Iterable[Path], compute: Callable[[], str], cache_dir: Path | None) -> str:
    """`compute()` (a digest over `files`), or the digest it gave while they were unchanged."""
    if cache_dir is None:
        return compute()
    try:
        key = _identity(files)
    except OSError:
        return compute()
    path = Path(cache_dir) / FILE
    with _LOCK:
        known = _read(path)
    if key in known:
        return known[key]
    digest = compute()
    with _LOCK:
        known = _read(path)
        known = {k: v for k, v in known.items() if _still_there(k)}
        known[key] = digest
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(known, indent=0).encode())
        except OSError:  # a cache: the next start hashes again
            pass
    return digest


def _read(path: Path) -> dict[str, str]:
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _still_there(key: str) -> bool:
    return all(os.path.exists(part.split(":")[0]) for part in key.split("|"))
