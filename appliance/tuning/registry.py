"""The adapter registry: versioned GGUF LoRA adapters with hashes, metrics and one active row.

Files are copied into <data_dir>/adapters/ so a registered version cannot change under its
sha256; activation re-checks the hash, the base model and the evaluation, and is audited.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select, update

from ..audit import ADAPTER_ACTIVATE, ADAPTER_DEACTIVATE
from ..errors import NotFoundError
from ..store import AdapterTable
from . import TuningError


@dataclass(frozen=True)
class AdapterInfo:
    version: int
    name: str
    path: str
    sha256: str
    base_sha256: str
    data_sha256: str | None
    created_by: str | None
    created_at: str
    active: bool
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    activated_by: str | None = None
    activated_at: str | None = None
    regressions: tuple[str, ...] = ()
    refusal_bias: float = 0.0
    min_relevance: float | None = None

    def to_json(self) -> dict:
        out = dict(self.__dict__)
        out["regressions"] = list(self.regressions)
        return out


@dataclass(frozen=True)
class ActiveAdapter:
    """What the serving generator is built from: the file and how it answers."""

    path: str
    sha256: str | None
    refusal_bias: float = 0.0
    min_relevance: float | None = None
    base_sha256: str | None = None  # the model it was trained on: it loads on no other


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Gate:
    """What `adapters activate` accepts (settings adapter_max_perplexity_rise,
    adapter_max_general_drop, adapter_require_general)."""

    max_perplexity_rise: float = 0.05
    max_general_drop: float = 0.02
    require_general: bool = False


def regression_reasons(metrics: dict, gate: Gate | float = Gate()) -> list[str]:
    """Why an evaluated adapter must not be activated; [] when it may."""
    gate = gate if isinstance(gate, Gate) else Gate(max_perplexity_rise=gate)
    if not metrics:
        return ["not evaluated (run `appliance tune eval`)"]
    reasons = []
    ppl = metrics.get("perplexity") or {}
    if ppl.get("rise") is None or ppl["rise"] > gate.max_perplexity_rise:
        rise = "unknown" if ppl.get("rise") is None else f"{100 * ppl['rise']:+.1f}%"
        reasons.append(f"general-text perplexity rose {rise} (limit "
                       f"{100 * gate.max_perplexity_rise:.0f}%)")
    for task, result in (metrics.get("tasks") or {}).items():
        base, adapted = result.get("base", {}), result.get("adapter", {})
        if adapted.get("answer_f1", 0.0) < base.get("answer_f1", 0.0):
            reasons.append(f"{task}: answer F1 fell from {base['answer_f1']:.3f} to "
                           f"{adapted['answer_f1']:.3f}")
        before, after = base.get("unsupported_figure_rate"), adapted.get("unsupported_figure_rate")
        if before is not None and after is not None and after > before:
            reasons.append(f"{task}: answers with unsupported figures rose from "
                           f"{100 * before:.0f}% to {100 * after:.0f}%")
    general = metrics.get("general") or {}
    for task, result in general.items():
        reasons += _general_drop(task, result, gate.max_general_drop)
    if gate.require_general and not general:
        reasons.append("general capability not measured (tune eval --general-data DIR)")
    return reasons


def _general_drop(task: str, result: dict, limit: float) -> list[str]:
    """A drop beyond the limit that the paired interval says is not noise: the observed
    change is below -limit and the whole 95% interval is below zero."""
    change = result.get("change") or {}
    diff, interval = change.get("diff"), change.get("interval")
    if diff is None or interval is None:
        return []
    if diff < -limit and interval[1] < 0:
        metric = change.get("metric", "accuracy")
        return [f"{task}: {metric} fell {100 * -diff:.1f} points (95% interval "
                f"{100 * interval[0]:+.1f} to {100 * interval[1]:+.1f}; limit "
                f"{100 * limit:.0f} points)"]
    return []


def report_numbers(metrics: dict) -> dict:
    """The quality report's headline numbers, as the activation event records them."""
    out: dict = {}
    if (metrics.get("perplexity") or {}).get("rise") is not None:
        out["perplexity_rise"] = metrics["perplexity"]["rise"]
    for task, result in (metrics.get("general") or {}).items():
        change = result.get("change") or {}
        out[task] = {"metric": change.get("metric"), "diff": change.get("diff"),
                     "interval": change.get("interval"),
                     "base": (result.get("base") or {}).get(change.get("metric") or "acc"),
                     "adapter": (result.get("adapter") or {}).get(change.get("metric") or "acc")}
    for task, sides in (metrics.get("tasks") or {}).items():
        out[f"{task}_answer_f1"] = [sides.get("base", {}).get("answer_f1"),
                                    sides.get("adapter", {}).get("answer_f1")]
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class AdapterRegistry:
    def __init__(self, store, adapters_dir: Path, audit=None, gate: Gate | float = Gate()):
        self.store = store
        self.dir = Path(adapters_dir)
        self.audit = audit
        self.gate = gate if isinstance(gate, Gate) else Gate(max_perplexity_rise=gate)

    def _info(self, row: AdapterTable) -> AdapterInfo:
        metrics = json.loads(row.metrics or "{}")
        return AdapterInfo(row.version, row.name, row.path, row.sha256, row.base_sha256,
                           row.data_sha256, row.created_by, row.created_at, bool(row.active),
                           json.loads(row.training or "{}"), metrics, row.activated_by,
                           row.activated_at,
                           tuple(regression_reasons(metrics, self.gate)),
                           float(row.refusal_bias or 0.0), row.min_relevance)

    def register(self, gguf_file: Path, name: str, base_sha256: str, data_sha256: str | None,
                 training: dict, created_by: str | None) -> AdapterInfo:
        """Copy the adapter file in and add it as the next version (inactive)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.store.session() as s:
            version = (s.scalar(select(func.max(AdapterTable.version))) or 0) + 1
            target = self.dir / f"v{version:04d}-{name}.gguf"
            tmp = target.with_name(target.name + ".part")
            shutil.copyfile(gguf_file, tmp)
            digest = sha256_of(tmp)
            tmp.replace(target)
            row = AdapterTable(version=version, name=name, path=str(target.resolve()),
                               sha256=digest, base_sha256=base_sha256, data_sha256=data_sha256,
                               training=json.dumps(training), metrics="{}",
                               created_by=created_by, created_at=_now(), active=False)
            s.add(row)
            s.flush()
            return self._info(row)

    def list(self) -> list[AdapterInfo]:
        with self.store.session() as s:
            rows = s.scalars(select(AdapterTable).order_by(AdapterTable.version)).all()
            return [self._info(r) for r in rows]

    def get(self, version: int | str) -> AdapterInfo:
        with self.store.session() as s:
            return self._info(self._row(s, version))

    def _row(self, s, version: int | str) -> AdapterTable:
        if str(version) == "latest":
            row = s.scalars(select(AdapterTable).order_by(AdapterTable.version.desc())).first()
        else:
            try:
                number = int(str(version).lstrip("v"))
            except ValueError:
                raise TuningError(f"adapter version must be a number or 'latest', "
                                  f"not {version!r}") from None
            row = s.scalars(select(AdapterTable).where(AdapterTable.version == number)).first()
        if row is None:
            raise NotFoundError(f"no adapter version {version} (see `appliance adapters list`)")
        return row

    def active(self) -> AdapterInfo | None:
        with self.store.session() as s:
            row = s.scalars(select(AdapterTable).where(AdapterTable.active.is_(True))).first()
            return self._info(row) if row else None

    def active_state(self) -> ActiveAdapter | None:
        """The active adapter's file, hash and calibration: the cheap check made before each
        answer."""
        with self.store.session() as s:
            row = s.execute(select(AdapterTable.path, AdapterTable.sha256,
                                   AdapterTable.refusal_bias, AdapterTable.min_relevance,
                                   AdapterTable.base_sha256)
                            .where(AdapterTable.active.is_(True))).first()
            return ActiveAdapter(row[0], row[1], float(row[2] or 0.0), row[3], row[4]) \
                if row else None

    def set_metrics(self, version: int | str, metrics: dict,
                    calibration: tuple[float, float | None] | None = None) -> AdapterInfo:
        """Store a `tune eval` result and, when it calibrated one, the (refusal bias, least
        answer relevance or None) the adapter is served with."""
        with self.store.session() as s:
            row = self._row(s, version)
            row.metrics = json.dumps(metrics)
            if calibration is not None:
                row.refusal_bias, row.min_relevance = float(calibration[0]), calibration[1]
            s.flush()
            return self._info(row)

    def activate(self, version: int | str, actor: str | None, force: bool = False,
                 base_sha256: str | None = None) -> AdapterInfo:
        """Make `version` the served adapter; refuses a regressing one unless forced."""
        info = self.get(version)
        if not Path(info.path).is_file() or sha256_of(Path(info.path)) != info.sha256:
            raise TuningError(f"adapter v{info.version} file is missing or changed since it "
                              f"was registered: {info.path}")
        if base_sha256 and base_sha256 != info.base_sha256:
            raise TuningError(f"adapter v{info.version} was trained on another base model "
                              f"({info.base_sha256[:12]}…, serving {base_sha256[:12]}…)")
        if info.regressions and not force:
            raise TuningError(f"adapter v{info.version} not activated: "
                              + "; ".join(info.regressions) + " (use --force to override)")
        with self.store.session() as s:
            previous = s.scalars(select(AdapterTable.version)
                                 .where(AdapterTable.active.is_(True))).first()
            s.execute(update(AdapterTable).where(AdapterTable.active.is_(True))
                      .values(active=False))
            row = self._row(s, info.version)
            row.active, row.activated_by, row.activated_at = True, actor, _now()
        self._audit(actor, info, "activate", previous, force)
        return self.get(info.version)

    def deactivate(self, actor: str | None) -> AdapterInfo | None:
        current = self.active()
        if current is None:
            return None
        with self.store.session() as s:
            s.execute(update(AdapterTable).where(AdapterTable.active.is_(True))
                      .values(active=False))
        self._audit(actor, current, "deactivate", current.version, False)
        return current

    def _audit(self, actor, info: AdapterInfo, action: str, previous, force: bool) -> None:
        if self.audit is None:
            return
        event = ADAPTER_DEACTIVATE if action == "deactivate" else ADAPTER_ACTIVATE
        self.audit.record(event, actor=actor, target=f"adapter:v{info.version}",
                          details={"action": action, "version": info.version,
                                   "name": info.name, "sha256": info.sha256,
                                   "base_sha256": info.base_sha256,
                                   "data_sha256": info.data_sha256, "previous": previous,
                                   "forced": bool(force),
                                   "regressions": list(info.regressions) if force else [],
                                   "report": report_numbers(info.metrics)
                                   if action == "activate" else {}})
