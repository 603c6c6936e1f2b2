"""The activation gate on general capability: a deliberately damaged adapter (trained a few
steps at a huge learning rate) is refused, the tiny good one is not, a forced activation is
audited with the report's numbers; the report is shown by `adapters report` and the admin page."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.tuning.registry import Gate, regression_reasons

GENERAL = Path(__file__).resolve().parent.parent / "data" / "general"


def change(diff, lo, hi, metric="acc_norm"):
    return {"perplexity": {"rise": 0.0}, "tasks": {},
            "general": {"hellaswag": {"base": {metric: 0.45}, "adapter": {metric: 0.45 + diff},
                                      "change": {"metric": metric, "diff": diff,
                                                 "interval": [lo, hi], "n": 300}}}}


def test_the_gate_refuses_only_a_drop_beyond_the_limit_that_is_not_noise():
    gate = Gate(max_general_drop=0.02)
    [reason] = regression_reasons(change(-0.06, -0.09, -0.03), gate)
    assert "hellaswag: acc_norm fell 6.0 points" in reason and "limit 2 points" in reason
    assert regression_reasons(change(-0.03, -0.07, 0.01), gate) == []  # could be noise
    assert regression_reasons(change(-0.01, -0.015, -0.005), gate) == []  # within the limit
    assert regression_reasons(change(0.05, 0.02, 0.08), gate) == []
    loose = Gate(max_general_drop=0.1)
    assert regression_reasons(change(-0.06, -0.09, -0.03), loose) == []
    strict = Gate(require_general=True)
    assert regression_reasons({"perplexity": {"rise": 0.0}, "tasks": {}}, strict) == [
        "general capability not measured (tune eval --general-data DIR)"]


@pytest.fixture(scope="module")
def gated(tuned, base_model, tmp_path_factory):
    """A copy of the tiny run's data dir with a second, wrecked adapter trained at a learning
    rate a thousand times too high, both evaluated with the general benchmarks."""
    data = tmp_path_factory.mktemp("gate") / "data"
    shutil.copytree(tuned["data"], data)
    base = ["--data-dir", str(data)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("appliance.tuning.trainer.load_base_model", lambda *a, **k: base_model)
        assert main(base + ["tune", "train", "--dataset", "tiny", "--run", "wrecked",
                            "--max-steps", "3", "--grad-accum", "2", "--learning-rate", "0.05",
                            "--checkpoint-every", "3", "--max-length", "512"]) == 0
    assert main(base + ["tune", "export", "--run", "wrecked", "--actor", "tester"]) == 0
    return data


def evaluate(data: Path, version: str, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["--data-dir", str(data), "tune", "eval", "--adapter", version, "--limit", "2",
                 "--general-data", str(GENERAL), "--general-limit", "90", "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_a_wrecked_adapter_is_refused_and_forcing_it_is_audited(gated, capsys):
    code, report = evaluate(gated, "2", capsys)
    assert code == 1
    hs = report["general"]["hellaswag"]
    assert hs["base"]["n"] == hs["adapter"]["n"] == hs["change"]["n"] == 90
    assert hs["change"]["diff"] < -0.02 and hs["change"]["interval"][1] < 0
    assert any(r.startswith("hellaswag: acc_norm fell") for r in report["regressions"])
    assert report["speed"]["base"]["tokens_per_s"] > 0 and report["speed"]["adapter"]["ttft_s"] > 0
    assert report["report_version"] == 1 and report["adapter_sha256"]

    base = ["--data-dir", str(gated)]
    assert main(base + ["adapters", "activate", "2", "--actor", "ops"]) == 2
    assert "hellaswag: acc_norm fell" in capsys.readouterr().err
    assert main(base + ["adapters", "activate", "2", "--force", "--actor", "ops"]) == 0
    assert "forced despite" in capsys.readouterr().out

    from helpers import make_settings
    from appliance.services import build_services

    app = build_services(make_settings(gated))
    try:
        [event] = [e for e in app.audit.events() if e.type == "adapter.activate"
                   and e.actor == "ops"]
        details = json.loads(event.details)
        assert details["forced"] is True
        assert any("hellaswag" in r for r in details["regressions"])
        numbers = details["report"]["hellaswag"]
        assert numbers["diff"] == hs["change"]["diff"] and numbers["metric"] == "acc_norm"
        assert numbers["base"] == hs["base"]["acc_norm"]
    finally:
        app.close()

    assert main(base + ["adapters", "report", "2"]) == 0
    text = capsys.readouterr().out
    assert "general capability (paired on the same items)" in text and "REGRESSION" in text
    assert main(base + ["adapters", "report", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["general"] == report["general"]
    png = gated / "report.png"
    assert main(base + ["adapters", "report", "2", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@pytest.mark.slow
def test_the_tiny_good_adapter_passes_the_general_gate(gated, capsys):
    _, report = evaluate(gated, "1", capsys)
    change = report["general"]["hellaswag"]["change"]
    assert change["diff"] > -0.02 or change["interval"][1] >= 0
    assert not any(r.startswith(("hellaswag", "mmlu")) for r in report["regressions"])
    assert set(report["general"]) == {"hellaswag", "mmlu"}
    assert report["general"]["mmlu"]["base"]["subjects"] == 2
