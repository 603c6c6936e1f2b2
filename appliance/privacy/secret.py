"""The per-install secret that keys the hash operator (HMAC-SHA256), kept in secrets_dir."""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from ..errors import PolicyError

SECRET_FILE = "pii_hmac.key"
_BYTES = 32


def secret_path(secrets_dir: str | Path) -> Path:
    return Path(secrets_dir) / SECRET_FILE


def create_secret(secrets_dir: str | Path) -> Path:
    """Create the secret (32 random bytes, hex) with mode 0600 unless it exists; return its path."""
    directory = Path(secrets_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = secret_path(directory)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(_BYTES) + "\n")
    return path


def load_secret(secrets_dir: str | Path, create: bool = True) -> bytes:
    """Read the secret, creating it first when ``create`` and it is missing.

    Refuses a file that group or others can read, or one too short to be a real key.
    """
    path = secret_path(secrets_dir)
    if create and not path.exists():
        create_secret(secrets_dir)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise PolicyError(f"{path}: redaction secret missing (run `appliance init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read redaction secret: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PolicyError(f"{path}: redaction secret must not be readable by group or others "
                          f"(chmod 600 {path})")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise PolicyError(f"{path}: redaction secret is not hex") from None
    if len(key) < 16:
        raise PolicyError(f"{path}: redaction secret is shorter than 16 bytes")
    return key
