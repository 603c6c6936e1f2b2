"""Model digests are remembered while the files are unchanged, and only then."""
import hashlib
import os
import time

from appliance.engines import remembered, sha256_file


def test_a_digest_is_reread_only_when_the_file_changes(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights v1" * 1000)
    reads = []

    def digest() -> str:
        reads.append(1)
        return sha256_file(model)

    first = remembered([model], digest, tmp_path / "cache")
    assert first == hashlib.sha256(b"weights v1" * 1000).hexdigest()
    assert remembered([model], digest, tmp_path / "cache") == first and len(reads) == 1
    # Same size, modification time put back: the change time still tells.
    stat = model.stat()
    time.sleep(0.05)  # the kernel's file clock ticks every few ms
    model.write_bytes(b"weights v2" * 1000)
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = remembered([model], digest, tmp_path / "cache")
    assert second == hashlib.sha256(b"weights v2" * 1000).hexdigest() and len(reads) == 2


def test_without_a_cache_dir_or_with_a_broken_cache_the_digest_is_computed(tmp_path):
    model = tmp_path / "m.bin"
    model.write_bytes(b"x")
    assert remembered([model], lambda: "d1", None) == "d1"
    (tmp_path / "digests.json").write_text("{not json")
    assert remembered([model], lambda: "d2", tmp_path) == "d2"
    assert remembered([model], lambda: "d3", tmp_path) == "d2"
