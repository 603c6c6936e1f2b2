"""The tune/adapters CLI end to end on the tiny run: eval, the activation gate, the audit."""
from __future__ import annotations

import json

import pytest

from appliance.cli import main

pytestmark = pytest.mark.slow


def details(event) -> dict:
    return json.loads(event.details)


def cli(tuned, *args) -> int:
    return main(["--data-dir", str(tuned["data"]), *args])


def adapter_events(settings, actor="ops"):
    from appliance.services import build_services

    app = build_services(settings)
    try:
        return [e for e in app.audit.events()
                if e.type.startswith("adapter.") and e.actor == actor]
    finally:
        app.close()


def test_prepare_reports_counts_and_the_small_set_warning(tuned, capsys):
    manifest = json.loads((tuned["data"] / "tuning" / "datasets" / "tiny" / "manifest.json")
                          .read_text())
    assert (manifest["train"], manifest["eval"]) == (9, 3)
    assert any("below 500" in w for w in manifest["warnings"])
    report = json.loads((tuned["run"] / "train_report.json").read_text())
    assert report["steps"] == 4 and report["examples_seen"] == 8
    assert len(list((tuned["run"] / "checkpoints").glob("step-*"))) == 2


def test_eval_stores_metrics_and_gates_activation(tuned, capsys):
    capsys.readouterr()
    code = cli(tuned, "tune", "eval", "--adapter", "1", "--limit", "3", "--json")
    report = json.loads(capsys.readouterr().out)
    assert code == (1 if report["regressions"] else 0)
    ppl = report["perplexity"]
    assert ppl["base"] > 1 and ppl["adapter"] > 1
    assert ppl["rise"] == pytest.approx(ppl["adapter"] / ppl["base"] - 1, abs=1e-3)
    split = report["tasks"]["eval_split"]
    assert split["base"]["questions"] == split["adapter"]["questions"] == 3
    # the tiny adapter learned its one answer: it answers and cites on held-out prompts
    assert split["adapter"]["answer_f1"] >= split["base"]["answer_f1"]
    assert split["adapter"]["citation_rate"] == 1.0

    # calibrated on the eval split (no retrieval task given); the adapter metrics are the ones
    # it serves with, and the bias it serves with is on its registry row
    cal = report["calibration"]
    assert cal["task"] == "eval_split" and cal["served"] == cal["chosen"]
    chosen = cal["chosen"]
    point = next(c for c in cal["by_bias"] if c["bias"] == chosen["refusal_bias"])
    assert point["answer_f1"] == split["adapter"]["answer_f1"]
    assert any(c["min_relevance"] == chosen["min_relevance"] for c in cal["by_relevance"])

    assert cli(tuned, "adapters", "list", "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["metrics"]["perplexity"] == ppl and row["created_by"] == "tester"
    assert (row["refusal_bias"], row["min_relevance"]) == (chosen["refusal_bias"],
                                                          chosen["min_relevance"])
    assert row["base_sha256"] and row["data_sha256"] and not row["active"]

    if report["regressions"]:
        assert cli(tuned, "adapters", "activate", "1", "--actor", "ops") == 2
        assert "not activated" in capsys.readouterr().err
        assert adapter_events(tuned["settings"]) == []
    assert cli(tuned, "adapters", "activate", "1", "--force", "--actor", "ops") == 0
    assert cli(tuned, "adapters", "deactivate", "--actor", "ops") == 0
    events = adapter_events(tuned["settings"])
    assert [(e.actor, details(e)["action"]) for e in events] == [("ops", "activate"),
                                                                ("ops", "deactivate")]
    assert details(events[0])["sha256"] == row["sha256"]
    assert details(events[0])["forced"] is True


def test_activation_refuses_a_changed_file(app_factory, tmp_path):
    from appliance.tuning import TuningError

    app = app_factory()
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(b"not really an adapter")
    info = app.adapters.register(copy, "tampered", "0" * 64, None, {}, "tester")
    app.adapters.set_metrics(info.version, {"perplexity": {"rise": 0.0}, "tasks": {}})
    with open(info.path, "ab") as fh:
        fh.write(b"!")
    with pytest.raises(TuningError, match="changed since"):
        app.adapters.activate(info.version, "ops")
    assert app.adapters.active() is None
