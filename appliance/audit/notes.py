"""Ed25519 keys and signed notes in the C2SP signed-note format, and checkpoints in it.

A note is UTF-8 text ending in a newline, a blank line, then one line per signature:
"— <key name> <base64(4-byte key hash || 64-byte signature)>". A verifier key is written
"<name>+<hex key hash>+<base64(0x01 || public key)>", as in C2SP and Go's sumdb/note.
A checkpoint (C2SP tlog-checkpoint) is the note text "<origin>\\n<size>\\n<base64 head hash>\\n"
followed by "time <UTC>" (our extension line); here the head is the hash chain's last hash.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import AuditError

ALG_ED25519 = b"\x01"
DASH = "\u2014 "


def _key_hash(name: str, key: bytes) -> int:
    return struct.unpack(">I", hashlib.sha256(name.encode() + b"\n" + key).digest()[:4])[0]


def _check_name(name: str) -> str:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise AuditError(f"bad signing key name {name!r}")
    return name


@dataclass(frozen=True)
class Verifier:
    """A public key that checks note signatures."""

    name: str
    key_hash: int
    public: bytes

    @property
    def key_id(self) -> str:
        return f"{self.name}+{self.key_hash:08x}"

    @property
    def vkey(self) -> str:
        return f"{self.key_id}+{base64.b64encode(ALG_ED25519 + self.public).decode()}"

    @classmethod
    def parse(cls, vkey: str) -> "Verifier":
        try:
            name, hash_hex, b64 = vkey.strip().split("+", 2)
            raw = base64.b64decode(b64, validate=True)
            key_hash = int(hash_hex, 16)
        except (ValueError, binascii.Error):
            raise AuditError(f"not a verifier key: {vkey.strip()[:80]!r}") from None
        if len(raw) != 33 or raw[:1] != ALG_ED25519 or _key_hash(name, raw) != key_hash:
            raise AuditError(f"not a valid Ed25519 verifier key: {vkey.strip()[:80]!r}")
        return cls(_check_name(name), key_hash, raw[1:])

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            return False


class Signer:
    """A private Ed25519 key with its name; signs notes and manifests."""

    def __init__(self, name: str, private: Ed25519PrivateKey):
        self.name = _check_name(name)
        self._private = private
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, _key_hash(name, ALG_ED25519 + public), public)

    @classmethod
    def generate(cls, name: str) -> "Signer":
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> "Signer":
        try:
            prefix1, prefix2, name, hash_hex, b64 = skey.strip().split("+", 4)
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error):
            raise AuditError("the audit signing key file is damaged") from None
        if (prefix1, prefix2) != ("PRIVATE", "KEY") or len(raw) != 33 or raw[:1] != ALG_ED25519:
            raise AuditError("the audit signing key file is damaged")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if f"{signer.verifier.key_hash:08x}" != hash_hex:
            raise AuditError("the audit signing key file is damaged (key hash mismatch)")
        return signer

    def skey(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return (f"PRIVATE+KEY+{self.name}+{self.verifier.key_hash:08x}+"
                f"{base64.b64encode(ALG_ED25519 + seed).decode()}")

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def sign_note(text: str, signers: list[Signer]) -> str:
    """The signed note: text, a blank line, one signature line per signer."""
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")
    lines = []
    for signer in signers:
        blob = struct.pack(">I", signer.verifier.key_hash) + signer.sign(text.encode("utf-8"))
        lines.append(f"{DASH}{signer.name} {base64.b64encode(blob).decode()}\n")
    return text + "\n" + "".join(lines)


def open_note(note: str, keyring: dict[str, Verifier]) -> tuple[str, list[str]]:
    """Check a signed note; returns (text, key ids that signed it).

    Raises AuditError when the note is malformed, when a signature by a known key is bad,
    or when no known key signed it. Signatures by unknown keys are ignored, as C2SP says.
    """
    text, sep, sigs = note.rpartition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise AuditError("not a signed note (no signature block)")
    text += "\n"
    signed_by = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(DASH):
            raise AuditError("malformed signature line in note")
        try:
            name, b64 = line[len(DASH):].split(" ")
            blob = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error):
            raise AuditError("malformed signature line in note") from None
        if len(blob) != 68:
            raise AuditError("malformed signature in note")
        key_id = f"{name}+{struct.unpack('>I', blob[:4])[0]:08x}"
        verifier = keyring.get(key_id)
        if verifier is None:
            continue
        if not verifier.verify(text.encode("utf-8"), blob[4:]):
            raise AuditError(f"bad signature by {key_id}")
        signed_by.append(key_id)
    if not signed_by:
        raise AuditError("no signature by a known key")
    return text, signed_by


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the log `origin` had `size` events whose last hash is `head_hash`."""

    origin: str
    size: int
    head_hash: str
    time: str
    note: str = ""

    def text(self) -> str:
        root = base64.b64encode(bytes.fromhex(self.head_hash)).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {self.time}\n"

    def signed(self, signers: list[Signer]) -> "Checkpoint":
        return Checkpoint(self.origin, self.size, self.head_hash, self.time,
                          sign_note(self.text(), signers))

    @classmethod
    def open(cls, note: str, keyring: dict[str, Verifier]) -> "Checkpoint":
        """Verify a checkpoint note and read it; AuditError names what is wrong."""
        text, _ = open_note(note, keyring)
        lines = text[:-1].split("\n")
        try:
            origin, size_text, root = lines[:3]
            size = int(size_text)
            head = base64.b64decode(root, validate=True).hex()
            time = next(line[5:] for line in lines[3:] if line.startswith("time "))
        except (ValueError, binascii.Error, StopIteration):
            raise AuditError("signed note is not an audit checkpoint") from None
        if size < 0 or str(size) != size_text or len(head) != 64:
            raise AuditError("signed note is not an audit checkpoint")
        return cls(origin, size, head, time, note)
