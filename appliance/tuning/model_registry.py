"""The model registry: GGUF models an operator brings (an instruction-tuned Llama, Mistral,
Qwen or Gemma), each with its sha256 and what its header says, one of them serving.

A registered file stays where the operator put it (models are gigabytes); its sha256 is
recorded at `add`, checked in full at activation and before every load (cached by the file's
size and modification time). No active row: the bundled model serves. Every change is audited.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update

from ..errors import NotFoundError
from ..store import ModelTable
from . import TuningError
from .gguf_header import read_metadata
from .registry import sha256_of

FRAMES = ("auto", "completion", "chat")
LICENCE_KEYS = ("general.license", "general.license.name", "general.license.link")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    sha256: str
    size_bytes: int
    architecture: str
    parameters: int
    quantization: str
    context_length: int
    has_chat_template: bool
    license: dict
    frame: str
    added_by: str | None
    added_at: str
    active: bool
    activated_by: str | None = None
    activated_at: str | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ActiveModel:
    """What the serving generator loads (None in its place: the bundled model)."""

    name: str
    path: str
    sha256: str
    frame: str            # completion | chat
    context_length: int


def quantization_name(file_type) -> str:
    try:
        import gguf

        return gguf.LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_")
    except (ImportError, ValueError, TypeError):
        return "" if file_type is None else str(file_type)


def describe(path: Path) -> dict:
    """The registry's columns from a GGUF header (TuningError when it is not one)."""
    values, params = read_metadata(path)
    arch = str(values.get("general.architecture", ""))
    return {"architecture": arch, "parameters": params,
            "quantization": quantization_name(values.get("general.file_type")),
            "context_length": int(values.get(f"{arch}.context_length", 0) or 0),
            "chat_template": values.get("tokenizer.chat_template") or None,
            "license": {k: str(values[k]) for k in LICENCE_KEYS if k in values}}


class ModelRegistry:
    def __init__(self, store, audit=None):
        self.store, self.audit = store, audit

    def add(self, path: str | Path, name: str | None, actor: str | None,
            frame: str = "auto") -> ModelInfo:
        path = Path(path).expanduser().resolve()
        if not path.is_file():
            raise NotFoundError(f"no model file {path}")
        if frame not in FRAMES:
            raise TuningError(f"frame must be one of {', '.join(FRAMES)}")
        name = (name or path.stem).strip()
        if not name or len(name) > 128 or name == "bundled":
            raise TuningError("a model needs a name of 1-128 characters other than 'bundled'")
        meta = describe(path)
        if frame == "auto":
            frame = "chat" if meta["chat_template"] else "completion"
        if frame == "chat" and not meta["chat_template"]:
            raise TuningError(f"{path.name} carries no chat template: use --frame completion")
        sha = sha256_of(path)
        with self.store.session() as s:
            if s.scalars(select(ModelTable).where(ModelTable.name == name)).first():
                raise TuningError(f"a model named {name!r} is already registered")
            s.add(ModelTable(name=name, path=str(path), sha256=sha,
                             size_bytes=path.stat().st_size, architecture=meta["architecture"],
                             parameters=meta["parameters"], quantization=meta["quantization"],
                             context_length=meta["context_length"],
                             chat_template=meta["chat_template"],
                             license=json.dumps(meta["license"]), frame=frame, added_by=actor,
                             added_at=_now(), active=False))
        self._audit("model.add", actor, name, sha, {"frame": frame,
                                                    "architecture": meta["architecture"],
                                                    "parameters": meta["parameters"]})
        return self.get(name)

    def list(self) -> list[ModelInfo]:
        with self.store.session() as s:
            return [self._info(r) for r in s.scalars(select(ModelTable).order_by(ModelTable.id))]

    def get(self, name: str) -> ModelInfo:
        with self.store.session() as s:
            return self._info(self._row(s, name))

    def active(self) -> ModelInfo | None:
        with self.store.session() as s:
            row = s.scalars(select(ModelTable).where(ModelTable.active.is_(True))).first()
            return self._info(row) if row else None

    def active_state(self) -> ActiveModel | None:
        """The cheap read made before each answer."""
        with self.store.session() as s:
            row = s.execute(select(ModelTable.name, ModelTable.path, ModelTable.sha256,
                                   ModelTable.frame, ModelTable.context_length)
                            .where(ModelTable.active.is_(True))).first()
        return ActiveModel(*row) if row else None

    def activate(self, name: str, actor: str | None) -> ModelInfo | None:
        """Serve `name` ("bundled": the bundled model); the file's sha256 is checked first."""
        previous = self.active()
        if name == "bundled":
            info = None
        else:
            info = self.get(name)
            if not Path(info.path).is_file() or sha256_of(Path(info.path)) != info.sha256:
                raise TuningError(f"model {name} is missing or changed since it was registered "
                                  f"(sha256 {info.sha256[:12]}…): {info.path}")
        with self.store.session() as s:
            s.execute(update(ModelTable).where(ModelTable.active.is_(True)).values(active=False))
            if info is not None:
                row = self._row(s, name)
                row.active, row.activated_by, row.activated_at = True, actor, _now()
        self._audit("model.activate", actor, name, info.sha256 if info else None,
                    {"previous": previous.name if previous else "bundled"})
        return self.get(name) if info else None

    def remove(self, name: str, actor: str | None) -> None:
        info = self.get(name)
        if info.active:
            raise TuningError(f"model {name} is serving: activate another (or 'bundled') first")
        with self.store.session() as s:
            s.delete(self._row(s, name))
        self._audit("model.remove", actor, name, info.sha256, {})

    @staticmethod
    def _row(s, name: str) -> ModelTable:
        row = s.scalars(select(ModelTable).where(ModelTable.name == name)).first()
        if row is None:
            raise NotFoundError(f"no model named {name!r} (see `appliance models list`)")
        return row

    @staticmethod
    def _info(r: ModelTable) -> ModelInfo:
        return ModelInfo(r.name, r.path, r.sha256, r.size_bytes, r.architecture, r.parameters,
                         r.quantization, r.context_length, bool(r.chat_template),
                         json.loads(r.license or "{}"), r.frame, r.added_by, r.added_at,
                         bool(r.active), r.activated_by, r.activated_at)

    def _audit(self, event: str, actor, name: str, sha: str | None, details: dict) -> None:
        if self.audit is not None:
            self.audit.record(event, actor=actor or "cli", target=f"model:{name}",
                              details={"name": name, "sha256": sha, **details})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
