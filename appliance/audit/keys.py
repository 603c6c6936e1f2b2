"""The audit signing key on disk: created at init, rotated on request, public keys kept forever.

Files in settings.secrets_dir (directory 0700):
  audit_signing.key   the current private key, C2SP signer-key text, mode 0600
  audit_keys.pub      every public (verifier) key ever used, one per line; safe to hand out
  audit_origin        the log's name, the first line of every checkpoint
"""
from __future__ import annotations

import os
import secrets as _secrets
from pathlib import Path

from ..errors import AuditError
from .notes import Signer, Verifier

KEY_FILE = "audit_signing.key"
KEYRING_FILE = "audit_keys.pub"
ORIGIN_FILE = "audit_origin"


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 from the first byte, replacing atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _secrets_dir(settings) -> Path:
    path = Path(settings.secrets_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)  # it holds private keys: nobody else may even list it
    return path


def ensure_keys(settings) -> str:
    """Create the audit signing key (0600), keyring and origin when missing; return the key id."""
    folder = _secrets_dir(settings)
    origin_path = folder / ORIGIN_FILE
    if not origin_path.exists():
        origin_path.write_text(f"appliance/audit/{_secrets.token_hex(8)}\n", encoding="utf-8")
    key_path = folder / KEY_FILE
    if key_path.exists():
        signer = load_signer(settings)
    else:
        signer = Signer.generate(_key_name(read_origin(settings), 1))
        _write_private(key_path, signer.skey() + "\n")
    _add_to_keyring(folder, signer.verifier)
    return signer.key_id


def _key_name(origin: str, number: int) -> str:
    return f"audit-{origin.rsplit('/', 1)[-1]}-{number}"


def read_origin(settings) -> str:
    path = Path(settings.secrets_dir) / ORIGIN_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise AuditError("the audit log has no keys yet: run `appliance init`") from None


def load_signer(settings) -> Signer:
    """The current private key; AuditError when it is missing or damaged."""
    path = Path(settings.secrets_dir) / KEY_FILE
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditError(f"audit signing key {path} is missing: run `appliance init`") from None
    if mode & 0o077:
        # Like ssh: a private key others can read is refused, not silently used.
        raise AuditError(f"audit signing key {path} is readable by others (mode {mode:o}); "
                         f"run: chmod 600 {path}")
    return Signer.parse(text)


def key_file_stamp(settings) -> tuple[int, int]:
    """Identity of the private key file, which a rotation (maybe in another process) changes."""
    try:
        info = (Path(settings.secrets_dir) / KEY_FILE).stat()
    except FileNotFoundError:
        return (0, 0)
    return (info.st_ino, info.st_mtime_ns)


def parse_keyring(text: str) -> dict[str, Verifier]:
    """Verifier keys from text, one per line; blank lines and # comments are skipped."""
    keys = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            verifier = Verifier.parse(line)
            keys[verifier.key_id] = verifier
    return keys


def load_keyring(settings) -> dict[str, Verifier]:
    """Every public key this appliance has signed with, by key id."""
    path = Path(settings.secrets_dir) / KEYRING_FILE
    try:
        return parse_keyring(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditError(f"audit public keys {path} are missing: run `appliance init`") from None


def keyring_text(settings) -> str:
    return "".join(v.vkey + "\n" for v in load_keyring(settings).values())


def _add_to_keyring(folder: Path, verifier: Verifier) -> None:
    path = folder / KEYRING_FILE
    existing = parse_keyring(path.read_text(encoding="utf-8")) if path.exists() else {}
    if verifier.key_id not in existing:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(verifier.vkey + "\n")


def next_key_name(settings, current: Signer) -> str:
    """The name for the key after `current` (…-1, …-2, …)."""
    tail = current.name.rsplit("-", 1)[-1]
    number = int(tail) + 1 if tail.isdigit() else 2
    return _key_name(read_origin(settings), number)


def install_signer(settings, signer: Signer) -> None:
    """Make `signer` the current key; its public key joins the keyring, old ones stay."""
    folder = _secrets_dir(settings)
    _add_to_keyring(folder, signer.verifier)
    _write_private(folder / KEY_FILE, signer.skey() + "\n")
