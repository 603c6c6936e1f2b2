#!/usr/bin/env python3
"""Verify an appliance offline bundle: pinned Ed25519 key, signature, every file's sha256.

    verify_bundle.py --bundle DIR --public-key-sha256 HEX [--json]

Exit 0 and a JSON summary when the bundle is exactly what its signer made; exit 2 with one
line per problem otherwise (wrong key, bad signature, a file changed, missing or added).
Needs only the standard library and `cryptography` (ansible-core depends on it, so the
controller that runs the playbook has it). Nothing here executes code from the bundle.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path

MANIFEST = "BUNDLE.json"
SIGNATURE = "BUNDLE.json.sig"
PUBLIC_KEY = "signing-key.pub"
UNSIGNED = {MANIFEST, SIGNATURE, PUBLIC_KEY}
FORMAT = 1


class BundleError(Exception):
    """The bundle cannot be trusted; the message says why."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_public_key(pem: bytes):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError(f"{PUBLIC_KEY} is not an Ed25519 public key")
    return key


def key_fingerprint(key) -> str:
    """sha256 (hex) of the raw 32-byte Ed25519 public key: the value operators pin."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def check_signature(bundle: Path, pinned: str) -> dict:
    """Check the key against the pin and the manifest's signature; return the manifest."""
    from cryptography.exceptions import InvalidSignature

    for name in UNSIGNED:
        if not (bundle / name).is_file():
            raise BundleError(f"{name} is missing: not a signed bundle")
    key = load_public_key((bundle / PUBLIC_KEY).read_bytes())
    fingerprint = key_fingerprint(key)
    if not hmac.compare_digest(fingerprint, pinned.strip().lower()):
        raise BundleError(f"bundle signed by key {fingerprint}, not the pinned key {pinned}")
    body = (bundle / MANIFEST).read_bytes()
    try:
        signature = base64.b64decode((bundle / SIGNATURE).read_bytes().strip(), validate=True)
        key.verify(signature, body)
    except (InvalidSignature, ValueError) as exc:
        raise BundleError(f"{MANIFEST} signature does not verify: the manifest was changed "
                          "or signed by another key") from exc
    manifest = json.loads(body)
    if manifest.get("format") != FORMAT:
        raise BundleError(f"unknown bundle format {manifest.get('format')!r}")
    return manifest


def _ignored(rel: Path) -> bool:
    # Caches a tool may leave beside the playbook; never read by the install.
    return "__pycache__" in rel.parts or rel.parts[0] == ".ansible" or rel.suffix == ".retry"


def check_files(bundle: Path, manifest: dict) -> list[str]:
    """Every listed file present with its size and sha256; nothing unlisted."""
    problems = []
    listed = manifest["files"]
    for rel, meta in sorted(listed.items()):
        path = bundle / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"{rel}: path escapes the bundle")
        elif not path.is_file() or path.is_symlink():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != meta["size"]:
            problems.append(f"{rel}: size {path.stat().st_size}, signed {meta['size']}")
        elif sha256_file(path) != meta["sha256"]:
            problems.append(f"{rel}: sha256 differs from the signed manifest")
    for path in sorted(bundle.rglob("*")):
        rel = path.relative_to(bundle)
        if path.is_dir() or str(rel) in UNSIGNED or _ignored(rel):
            continue
        if rel.as_posix() not in listed:
            problems.append(f"{rel.as_posix()}: not in the signed manifest")
    return problems


def verify(bundle: Path, pinned: str) -> dict:
    manifest = check_signature(bundle, pinned)
    problems = check_files(bundle, manifest)
    if problems:
        raise BundleError("\n".join(problems))
    files = manifest["files"]
    return {"ok": True, "name": manifest["name"], "version": manifest["version"],
            "python": manifest["python"], "files": len(files),
            "bytes": sum(m["size"] for m in files.values()),
            "lock_sha256": files[manifest["lock"]]["sha256"],
            "lock": manifest["lock"], "wheelhouse": manifest["wheelhouse"],
            "models": manifest["models"], "public_key_sha256": pinned.strip().lower()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True, type=Path, help="the unpacked bundle")
    parser.add_argument("--public-key-sha256", required=True,
                        help="sha256 of the signer's raw Ed25519 public key (the pinned key)")
    args = parser.parse_args(argv)
    try:
        summary = verify(args.bundle.resolve(), args.public_key_sha256)
    except BundleError as exc:
        print(f"REFUSED: bundle {args.bundle} failed verification:\n{exc}", file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError) as exc:
        print(f"REFUSED: bundle {args.bundle} is unreadable: {exc!r}", file=sys.stderr)
        return 2
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
