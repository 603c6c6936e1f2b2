"""The PII policy enforced on every path of the real services: ingest, prompt, context,
generated stream, audit and logs (a fake generator stands in for the model where the test is
about what reaches or leaves it)."""
import json
import logging

import numpy as np
import pytest
from sqlalchemy import select

from appliance.knowledge.chunking import index_text
from appliance.store.tables import ChunkTable

pytestmark = pytest.mark.slow

NOTE = ("# Billing note\n\nPatient Margaret Okonkwo (SSN 123-45-6789, email "
        "m.okonkwo@example.org) paid with card 4111 1111 1111 1111 on account review.\n")


class ScriptedGenerator:
    """Emits a scripted answer token by token and keeps the prompts it was given."""

    n_ctx = 2048
    model_sha256 = "a" * 64

    def __init__(self, pieces):
        self.pieces, self.prompts = pieces, []

    def count_tokens(self, text):
        return len(text.split())

    def stream(self, prompt, max_tokens, stop):
        self.prompts.append(prompt)
        yield from self.pieces


def stored_texts(app):
    with app.store.session() as sess:
        return [(c.text, c.section, c.embedding) for c in sess.scalars(select(ChunkTable))]


def test_ingest_redacts_before_embedding_and_storing(app_factory, tmp_path):
    app = app_factory()
    doc = tmp_path / "note.md"
    doc.write_text(NOTE)
    report = app.ingest.ingest_paths([doc], progress=False)
    assert report.files[0].status == "added"
    (text, section, emb), = stored_texts(app)
    for raw in ("123-45-6789", "m.okonkwo@example.org", "4111 1111 1111 1111", "Okonkwo"):
        assert raw not in text
    assert "[US_SSN]" in text and "[EMAIL]" in text and "1111" in text
    # The stored vector is the embedding of the redacted text, not of the original.
    expected = app.embedder.embed([index_text(text, section)])[0]
    assert np.allclose(np.frombuffer(emb, dtype=np.float32), expected, atol=1e-3)
    assert app.retriever.search("m.okonkwo@example.org 123-45-6789", k=1).hits[0].text == text
    ingest_event = list(app.audit.events())[-1]
    details = json.loads(ingest_event.details)
    assert details["redactions"]["US_SSN"] == 1 and "123-45-6789" not in ingest_event.details


def test_a_collection_carries_its_own_policy(app_factory, tmp_path):
    app = app_factory(collection_policies="payments=pci")
    doc = tmp_path / "note.md"
    doc.write_text(NOTE)
    app.ingest.ingest_paths([doc], collection="payments", progress=False)
    doc2 = tmp_path / "note2.md"
    doc2.write_text(NOTE.replace("Billing", "Other"))
    app.ingest.ingest_paths([doc2], collection="general", progress=False)
    texts = {t for t, _, _ in stored_texts(app)}
    pci = next(t for t in texts if "4111 11** **** 1111" in t)  # PCI keeps BIN + last four
    default = next(t for t in texts if t != pci)
    assert "**** **** **** 1111" in default


def test_prompt_context_and_streamed_output_are_redacted(app_factory, tmp_path):
    app = app_factory()
    (tmp_path / "kb.md").write_text("# Contacts\n\nThe privacy desk answers billing questions "
                                    "within two working days.\n")
    app.ingest.ingest_paths([tmp_path / "kb.md"], progress=False)
    # The model "leaks" an email split across tokens; the user must never see any part of it.
    pieces = [" Write", " to", " jo", "hn.sm", "ith@", "exam", "ple.", "com", " today", " [1]."]
    gen = ScriptedGenerator(pieces)
    app.__dict__["generator"] = gen
    shown = []
    final = None
    for item in app.chat.ask_stream("My SSN is 123-45-6789, who answers billing questions?"):
        if isinstance(item, str):
            shown.append(item)
        else:
            final = item
    visible = "".join(shown)
    assert "123-45-6789" not in gen.prompts[0] and "[US_SSN]" in gen.prompts[0]
    for fragment in ("john", "smith", "hn.sm", "ith@", "example.com"):
        assert fragment not in visible
    assert "[EMAIL]" in visible
    # The source does not say it, so the support check replaces it by a quote of the source.
    assert final.path == "quoted" and "privacy desk" in final.answer
    assert final.redactions == {"EMAIL": 1, "US_SSN": 1}


def test_canary_never_reaches_audit_exports_or_logs(app_factory, tmp_path, caplog):
    canary = "Canary-Okapi-55219"
    app = app_factory()
    (tmp_path / "kb.md").write_text("# Leave\n\nStaff receive 27 days of annual leave.\n")
    app.ingest.ingest_paths([tmp_path / "kb.md"], progress=False)
    app.__dict__["generator"] = ScriptedGenerator([" 27", " days", " [1]."])
    with caplog.at_level(logging.DEBUG):
        app.chat.ask(f"{canary}: how many days of leave?")
    out = tmp_path / "export"
    for fmt in ("jsonl", "csv", "ocsf", "cef", "syslog"):
        app.audit.export(fmt, out / fmt)
    assert app.audit.verify().ok
    app.close()
    exported = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert exported and canary not in exported
    # The store keeps the question only where the answer log keeps it, as the prompt
    # redactor rewrote it (the canary is no personal data, so it stays); nowhere else.
    assert _tables_holding(tmp_path / "data" / "appliance.db", canary) == {"answer_log"}
    assert canary not in caplog.text
    off = app_factory(tmp_path / "off", answer_log=False)
    (tmp_path / "kb2.md").write_text("# Leave\n\nStaff receive 27 days of annual leave.\n")
    off.ingest.ingest_paths([tmp_path / "kb2.md"], progress=False)
    off.__dict__["generator"] = ScriptedGenerator([" 27", " days", " [1]."])
    off.chat.ask(f"{canary}: how many days of leave?")
    off.close()
    db = (tmp_path / "off" / "appliance.db").read_bytes()
    wal = tmp_path / "off" / "appliance.db-wal"
    assert canary.encode() not in db + (wal.read_bytes() if wal.exists() else b"")


def _tables_holding(path, text: str) -> set[str]:
    import sqlite3

    found = set()
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                if any(text in (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
                       for v in row):
                    found.add(table)
    return found
