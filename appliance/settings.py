"""One frozen, typed Settings object; the only reader of env vars and settings files.

Precedence (last wins): defaults < settings file (TOML) < APPLIANCE_* variables < explicit overrides.
The settings file is, in order: the ``settings_file`` override, $APPLIANCE_SETTINGS, or
``<data_dir>/appliance.toml`` when it exists.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import SettingsError

ENV_PREFIX = "APPLIANCE_"


@dataclass(frozen=True)
class Settings:
    """Every knob of the appliance. Each field is documented in docs/settings.md."""

    data_dir: Path = Path("data")
    database_url: str = ""
    llm_model_path: str = ""
    embedder_path: str = ""
    lora_adapter_path: str = ""
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    context_size: int = 2048
    max_answer_tokens: int = 200
    temperature: float = 0.0
    chunk_size: int = 160
    chunk_overlap: int = 32
    embed_batch_size: int = 32
    retrieval_k: int = 4
    retrieval_candidates: int = 100
    fusion: str = "rrf"
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    hnsw_threshold: int = 50_000
    max_file_bytes: int = 50 * 1024 * 1024
    default_collection: str = "default"
    pii_policy: str = "default"
    policies_dir: str = ""
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: int = 300
    audit_external_sink: str = ""
    audit_retention_days: int = 2190

    def __post_init__(self) -> None:
        if self.chunk_overlap >= self.chunk_size:
            raise SettingsError("chunk_overlap must be smaller than chunk_size")
        if self.fusion not in ("rrf", "dense", "keyword"):
            raise SettingsError(f"fusion must be rrf, dense or keyword, not {self.fusion!r}")
        for name in ("threads", "context_size", "max_answer_tokens", "chunk_size",
                     "embed_batch_size", "retrieval_k", "retrieval_candidates", "max_file_bytes"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive, not {getattr(self, name)}")

    # Derived locations: computed, not configured.
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'appliance.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"


def field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(Settings)]


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    try:
        if kind is Path:
            return Path(str(raw)).expanduser()
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is str:
            return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: cannot read {raw!r} as {kind.__name__}") from exc
    raise SettingsError(f"setting {name}: unsupported type {kind!r}")


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None,
                  settings_file: str | Path | None = None) -> Settings:
    """Build Settings from defaults, a TOML file, APPLIANCE_* variables and overrides."""
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    hints = typing.get_type_hints(Settings)
    known = set(field_names())
    values: dict[str, Any] = {}

    env_values = {}
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "SETTINGS":
            name = key[len(ENV_PREFIX):].lower()
            if name not in known:
                raise SettingsError(f"unknown setting in environment: {key}")
            env_values[name] = raw

    data_dir = Path(overrides.get("data_dir") or env_values.get("data_dir") or "data")
    path = settings_file or environ.get(ENV_PREFIX + "SETTINGS")
    if path is None and (data_dir / "appliance.toml").exists():
        path = data_dir / "appliance.toml"
    if path is not None:
        values.update(_read_file(Path(path), known))
    values.update(env_values)
    values.update(overrides)
    typed = {name: _coerce(name, raw, hints[name]) for name, raw in values.items()}
    return Settings(**typed)


def _read_file(path: Path, known: set[str]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"settings file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path}: {exc}") from exc
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"settings file {path}: unknown setting(s): {', '.join(unknown)}")
    return data
