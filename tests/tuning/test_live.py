"""The serving process picks up an activated adapter on the next answer, without a restart,
and the audit log records which adapter produced each answer."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def ask_events(app):
    return [json.loads(e.details) for e in app.audit.events() if e.type == "chat.ask"]


def test_activation_reaches_the_running_generator(tuned, embedder):
    from appliance.services import build_services

    app = build_services(tuned["settings"])
    app.__dict__["embedder"] = embedder
    try:
        question = "What colour is the company badge?"
        app.chat.ask(question, retrieval=False)
        assert app.generator.current.lora_path == ""
        info = app.adapters.activate(1, "live-test", force=True)

        app.chat.ask(question, retrieval=False)  # same process, same Appliance object
        assert app.generator.current.lora_path == info.path
        app.adapters.deactivate("live-test")
        app.chat.ask(question, retrieval=False)
        assert app.generator.current.lora_path == ""

        used = [e["adapter_sha256"] for e in ask_events(app)]
        assert used == [None, info.sha256, None]
    finally:
        app.close()


def test_the_served_answer_check_follows_the_active_adapter(tuned, embedder):
    """Serving reads the active adapter's calibration before each answer: a threshold no
    answer can reach turns every answer into the refusal; deactivated, nothing is held back."""
    from appliance.answering.prompts import REFUSAL
    from appliance.services import build_services

    app = build_services(tuned["settings"])
    app.__dict__["embedder"] = embedder
    try:
        info = app.adapters.activate(1, "live-test", force=True)
        app.adapters.set_metrics(1, app.adapters.get(1).metrics, (8.0, 2.0))  # cosine <= 1
        assert app.answer_check.threshold() == 2.0
        assert app.generator.served.refusal_bias == 8.0  # answers at the first token...
        answer = app.chat.ask("What colour is the company badge?", retrieval=False)
        assert answer.relevance is not None  # the model answered...
        assert answer.answer == REFUSAL and answer.refused  # ...and the check refused it
        assert app.generator.current.lora_path == info.path
        app.adapters.deactivate("live-test")
        assert app.answer_check.threshold() is None and app.generator.served is None
    finally:
        app.close()
