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
