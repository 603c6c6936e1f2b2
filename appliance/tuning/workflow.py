"""Steps that join training, export and the registry (called by the CLI and the benchmark)."""
from __future__ import annotations

import json
from pathlib import Path

from . import TuningError
from .export import export_adapter
from .paths import check_name, run_dir
from .registry import AdapterInfo, AdapterRegistry


def export_and_register(registry: AdapterRegistry, settings, run: str, name: str | None,
                        actor: str | None, base_path: Path, base_sha256: str,
                        scale: float = 1.0) -> AdapterInfo:
    """Convert run `run`'s peft adapter to GGUF and register it as the next version."""
    folder = run_dir(settings, run)
    adapter = folder / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise TuningError(f"run {run!r} has no trained adapter in {adapter} "
                          "(run `appliance tune train` first)")
    meta = _read_json(folder / "run.json")
    if meta.get("base_sha256") and meta["base_sha256"] != base_sha256:
        raise TuningError(f"run {run!r} was trained on another base model "
                          f"({meta['base_sha256'][:12]}…) than the one configured "
                          f"({base_sha256[:12]}…)")
    name = check_name(name or run)
    out = folder / "adapter.gguf"
    exported = export_adapter(adapter, base_path, out, name, scale)
    report = _read_json(folder / "train_report.json")
    training = {"run": run, "dataset": meta.get("dataset"), "config": meta.get("config", {}),
                "export": exported, "steps": report.get("steps"),
                "examples_seen": report.get("examples_seen"), "seconds": report.get("seconds"),
                "seconds_per_1000_examples": report.get("seconds_per_1000_examples"),
                "final_loss": report.get("final_loss"), "device": report.get("device")}
    return registry.register(out, name, base_sha256, meta.get("data_sha256"), training, actor)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}
