"""A canary in a prompt never reaches the audit table, any export format, or the logs."""
import logging

from appliance.audit import ASK, Redacted, ask_details, text_hash

CANARY = "CANARY-7f3a9 patient Jane Roe, MRN 0042"


def test_canary_never_stored_or_exported(sqlite_env, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    log = sqlite_env.log(audit_checkpoint_every=2)
    details = ask_details(collection="clinic", chunks=[{"chunk_id": 1, "document_id": 1,
                                                        "document_version": 2}],
                          model_sha256="a" * 64, policy_sha256="b" * 64,
                          redactions={"PERSON": 1, "MRN": 1},
                          prompt=f"What is the dosage for {CANARY}?",
                          answer=f"For {CANARY}: 5 mg.", latency_ms=812.0)
    for _ in range(3):
        log.record(ASK, actor="dr.who", target="collection:clinic", source="10.0.0.9",
                   request_id="req-1", details=details)
    log.record(ASK, actor="dr.who", details={**details,
                                             "prompt": Redacted("What is the dosage for <PERSON>, "
                                                                "MRN <MRN>?")})
    log.close()
    assert log.verify(record=False).ok
    for fmt in ("jsonl", "csv", "ocsf", "cef", "syslog"):
        log.export(fmt, tmp_path / fmt, actor="auditor")
    sqlite_env.store.dispose()

    needles = [CANARY.encode(), b"CANARY-7f3a9", b"Jane Roe"]
    db_files = list(sqlite_env.data_dir.glob("appliance.db*"))
    assert db_files
    for path in db_files + [p for p in tmp_path.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} leaked into {path}"
    assert CANARY not in caplog.text and "Jane Roe" not in caplog.text
    # What the auditor does get: the hash that proves which prompt it was.
    assert text_hash(f"What is the dosage for {CANARY}?").encode() in \
        (tmp_path / "jsonl" / "events.jsonl").read_bytes()
