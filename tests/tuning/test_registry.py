"""The adapter registry and the live generator, on a real store and audit log, fake adapters."""
from __future__ import annotations

import json

import pytest

from appliance.errors import NotFoundError
from appliance.tuning import TuningError
from appliance.tuning.live import LiveAdapterGenerator
from appliance.tuning.registry import ActiveAdapter

GOOD = {"perplexity": {"base": 10.0, "adapter": 10.2, "rise": 0.02},
        "tasks": {"eval_split": {"base": {"answer_f1": 0.2}, "adapter": {"answer_f1": 0.5}}}}


def details(event) -> dict:
    return json.loads(event.details)


@pytest.fixture
def registry(app_factory, tmp_path):
    app = app_factory()
    reg = app.adapters

    def add(name="a", content=b"gguf bytes", metrics=GOOD):
        src = tmp_path / f"{name}.gguf"
        src.write_bytes(content + name.encode())
        info = reg.register(src, name, "b" * 64, "d" * 64, {"dataset": "x"}, "alice")
        if metrics is not None:
            reg.set_metrics(info.version, metrics)
        return info
    reg.add = add
    reg.app = app
    return reg


def events(reg):
    return [e for e in reg.app.audit.events() if e.type.startswith("adapter.")]


def test_versions_hashes_and_copies(registry, tmp_path):
    first, second = registry.add("one"), registry.add("two")
    assert (first.version, second.version) == (1, 2)
    assert first.path != str(tmp_path / "one.gguf") and first.path.endswith("v0001-one.gguf")
    assert len(first.sha256) == 64 and first.sha256 != second.sha256
    assert [i.name for i in registry.list()] == ["one", "two"]
    assert registry.get("latest").version == 2
    with pytest.raises(NotFoundError):
        registry.get(9)


@pytest.mark.parametrize("metrics, reason", [
    (None, "not evaluated"),
    ({"perplexity": {"base": 10.0, "adapter": 10.6, "rise": 0.06}, "tasks": {}}, "perplexity"),
    ({"perplexity": {"rise": 0.0}, "tasks": {"retrieval": {"base": {"answer_f1": 0.3},
                                                          "adapter": {"answer_f1": 0.2}}}},
     "answer F1 fell"),
])
def test_regressing_adapter_is_refused_unless_forced(registry, metrics, reason):
    info = registry.add(metrics=metrics)
    with pytest.raises(TuningError, match=reason):
        registry.activate(info.version, "bob")
    assert registry.active() is None and events(registry) == []
    forced = registry.activate(info.version, "bob", force=True)
    assert forced.active and forced.activated_by == "bob"
    (event,) = events(registry)
    assert details(event)["forced"] is True and reason.split()[0] in details(event)["regressions"][0]


def test_one_active_at_a_time_and_every_change_audited(registry):
    a, b = registry.add("a"), registry.add("b")
    registry.activate(a.version, "carol")
    registry.activate(b.version, "dave")
    assert [i.active for i in registry.list()] == [False, True]
    assert registry.deactivate("erin").version == b.version
    assert registry.active() is None and registry.deactivate("erin") is None
    got = [(e.actor, details(e)["action"], details(e)["version"], details(e)["previous"])
           for e in events(registry)]
    assert got == [("carol", "activate", 1, None), ("dave", "activate", 2, 1),
                   ("erin", "deactivate", 2, 2)]
    assert all(e.target.startswith("adapter:v") for e in events(registry))
    assert [e.type for e in events(registry)] == ["adapter.activate"] * 2 + ["adapter.deactivate"]


def test_base_model_mismatch_is_refused(registry):
    info = registry.add()
    with pytest.raises(TuningError, match="another base model"):
        registry.activate(info.version, "bob", base_sha256="c" * 64)


class FakeGenerator:
    n_ctx = 2048

    def __init__(self, adapter, model=None):
        self.lora_path = adapter.path if adapter else ""
        if self.lora_path.endswith("broken.gguf"):
            raise RuntimeError("bad file")
        self.refusal_bias = adapter.refusal_bias if adapter else 0.0

    def count_tokens(self, text):
        return len(text.split())

    def stream(self, prompt, max_tokens, stop):
        yield f"served by {self.lora_path or 'base'}"

    def last_usage(self):
        return 1


def test_live_generator_follows_the_registry_without_restart(registry):
    made = []

    def make(adapter, model):
        made.append(adapter.path if adapter else "")
        return FakeGenerator(adapter)

    live = LiveAdapterGenerator(make, registry.active_state)
    assert "".join(live.stream("q", 5, [])) == "served by base" and live.adapter_sha256 is None
    info = registry.add("good")
    registry.activate(info.version, "ops")
    assert "".join(live.stream("q", 5, [])) == f"served by {info.path}"
    assert live.adapter_sha256 == info.sha256
    assert "".join(live.stream("q", 5, [])) == f"served by {info.path}"
    assert made == ["", info.path]  # loaded once, not per request
    registry.deactivate("ops")
    assert "".join(live.stream("q", 5, [])) == "served by base" and live.adapter_sha256 is None


def test_a_recalibration_reaches_the_live_generator(registry):
    live = LiveAdapterGenerator(FakeGenerator, registry.active_state)
    info = registry.add("good")
    registry.activate(info.version, "ops")
    list(live.stream("q", 5, []))
    assert live.current.refusal_bias == 0.0
    registry.set_metrics(info.version, GOOD, (1.75, 0.42))  # `tune eval` again
    assert (registry.get(info.version).refusal_bias, registry.get(info.version).min_relevance) \
        == (1.75, 0.42)
    list(live.stream("q", 5, []))
    assert live.current.refusal_bias == 1.75 and live.adapter_sha256 == info.sha256
    assert live.served.min_relevance == 0.42
    registry.set_metrics(info.version, GOOD)  # metrics only: the calibration stays
    assert registry.active_state() == ActiveAdapter(info.path, info.sha256, 1.75, 0.42,
                                                    info.base_sha256)
    registry.set_metrics(info.version, GOOD, (0.5, None))  # calibrated without a check
    list(live.stream("q", 5, []))
    assert live.served == ActiveAdapter(info.path, info.sha256, 0.5, None, info.base_sha256)


def test_live_generator_keeps_serving_when_an_adapter_fails_to_load(registry, caplog):
    live = LiveAdapterGenerator(FakeGenerator, registry.active_state)
    broken = registry.add("broken")
    registry.activate(broken.version, "ops")
    assert "".join(live.stream("q", 5, [])) == "served by base"
    assert live.adapter_sha256 is None  # the audit records what was really served
    assert "cannot load adapter" in caplog.text


def test_pinned_adapter_setting_wins(registry):
    live = LiveAdapterGenerator(FakeGenerator, registry.active_state,
                                ActiveAdapter("/pinned.gguf", "p" * 64))
    registry.activate(registry.add().version, "ops")
    assert "".join(live.stream("q", 5, [])) == "served by /pinned.gguf"
    assert live.adapter_sha256 == "p" * 64
