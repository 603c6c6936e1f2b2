"""Tuning fixtures: the base model loaded once by transformers, and one tiny training run made
through the CLI (prepare → train → export) that the export, registry and serving tests share."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import make_settings
from tuning_helpers import tiny_records


@pytest.fixture(scope="session")
def base_gguf(model_dir) -> Path:
    return next(model_dir.glob("*.gguf"))


@pytest.fixture(scope="session")
def base_model(base_gguf):
    """Gemma 3 270M dequantized from the bundled GGUF (about a minute on 2 cores)."""
    from appliance.tuning.trainer import load_base_model

    model = load_base_model(base_gguf)
    model.eval()
    return model


@pytest.fixture(scope="session")
def tuned(tmp_path_factory, model_dir, base_model):
    """A data dir with a prepared set, a 4-step run and its exported, registered adapter."""
    from appliance.cli import main

    data = tmp_path_factory.mktemp("tuning-data")
    gguf = str(next(model_dir.glob("*.gguf")))
    (data / "appliance.toml").write_text(f'llm_model_path = "{gguf}"\nmax_answer_tokens = 40\n')
    src = data / "tiny.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in tiny_records()))
    base = ["--data-dir", str(data)]
    assert main(base + ["tune", "prepare", "--input", str(src), "--name", "tiny",
                        "--eval-fraction", "0.25"]) == 0
    with pytest.MonkeyPatch.context() as mp:  # reuse the loaded model: no second dequantize
        mp.setattr("appliance.tuning.trainer.load_base_model", lambda *a, **k: base_model)
        assert main(base + ["tune", "train", "--dataset", "tiny", "--run", "tiny",
                            "--max-steps", "4", "--grad-accum", "2", "--learning-rate", "2e-3",
                            "--checkpoint-every", "2", "--max-length", "512"]) == 0
    assert main(base + ["tune", "export", "--run", "tiny", "--actor", "tester"]) == 0
    settings = make_settings(data, model_dir)
    return {"data": data, "settings": settings, "gguf": gguf,
            "run": data / "tuning" / "runs" / "tiny"}
