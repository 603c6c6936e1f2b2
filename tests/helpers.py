"""Constants and small helpers shared by test modules (importable as `helpers`)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "handbook"
FACTS = json.loads((ROOT / "tests" / "data" / "sample_facts.json").read_text())


def make_settings(data_dir: Path, model_dir: Path | None = None, **kw):
    from appliance.settings import load_settings

    overrides = {"data_dir": str(data_dir), **kw}
    if model_dir is not None:
        overrides["llm_model_path"] = str(next(model_dir.glob("*.gguf")))
    return load_settings(overrides, environ={})
