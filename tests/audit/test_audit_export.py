"""Exports: every format verifies offline, follows its standard, and betrays every edit."""
import json
import random
import re
import shutil

import pytest

from appliance.audit import LOGIN_FAILURE, LOGIN_SUCCESS, TOKEN_CREATE
from appliance.audit.export import MANIFEST, canonical, render_manifest
from appliance.audit.export_check import verify_export
from appliance.audit.formats import FORMATS
from appliance.audit.keys import parse_keyring
from appliance.audit.notes import Signer
from appliance.errors import AuditError
from audit_fixtures import fill

FORMAT_NAMES = ["jsonl", "csv", "ocsf", "cef", "syslog"]


@pytest.fixture
def exported(sqlite_env, tmp_path):
    """(log, keyring, make) where make(fmt) exports a varied 30-event log to a new dir."""
    log = sqlite_env.log()
    fill(log, 24)
    log.record(LOGIN_SUCCESS, actor="alice", source="2001:db8::1", request_id="r|1")
    log.record(LOGIN_FAILURE, actor="=cmd|' /C calc'!A0", source="10.1.2.3", outcome="failure",
               details={"reason": "bad password", "note": "a=b \\ | ] \" é \u2028"})
    log.record(TOKEN_CREATE, actor="admin", target="user:bob", details={"token_id": 9})
    fill(log, 3, start=100)
    keyring = parse_keyring((sqlite_env.settings.secrets_dir / "audit_keys.pub").read_text())

    def make(fmt, **kw):
        out = tmp_path / f"export-{fmt}-{len(list(tmp_path.iterdir()))}"
        log.export(fmt, out, actor="auditor", **kw)
        return out

    return log, keyring, make


def _events_file(folder):
    return next(p for p in folder.iterdir() if p.name != MANIFEST)


def _data_lines(folder, fmt):
    lines = _events_file(folder).read_bytes().split(b"\n")[:-1]
    return lines[1:] if FORMATS.get(fmt).header else lines


def _write_lines(folder, fmt, lines):
    path = _events_file(folder)
    header = path.read_bytes().split(b"\n")[0] + b"\n" if FORMATS.get(fmt).header else b""
    path.write_bytes(header + b"".join(line + b"\n" for line in lines))


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_export_verifies_offline(exported, fmt):
    log, keyring, make = exported
    folder = make(fmt)
    check = verify_export(folder, keyring)
    assert check.ok, check.problems
    assert check.count == 30 and check.message() == f"OK 30 events ({fmt})"
    manifest = json.loads((folder / MANIFEST).read_text())
    assert (manifest["first_seq"], manifest["last_seq"]) == (1, 30)
    assert manifest["key_id"] in keyring and "BEGIN" not in (folder / MANIFEST).read_text()
    assert log.head()[0] == 31  # the export itself was recorded


def test_since_until_select_a_contiguous_range(exported):
    log, keyring, make = exported
    rows = list(log.events())
    folder = make("jsonl", since=rows[4].ts, until=rows[9].ts)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert (manifest["first_seq"], manifest["last_seq"], manifest["count"]) == (5, 9, 5)
    assert manifest["first_prev_hash"] == rows[3].hash
    assert verify_export(folder, keyring).ok
    empty = make("csv", since="2999-01-01")
    assert verify_export(empty, keyring).ok
    with pytest.raises(AuditError, match="not an ISO 8601"):
        make("csv", since="last tuesday")


def test_export_refuses_non_empty_dir_and_broken_log(exported, sqlite_env, tmp_path):
    log, _, make = exported
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(AuditError, match="not empty"):
        log.export("jsonl", busy)
    with pytest.raises(AuditError, match="unknown export format 'xml'"):
        log.export("xml", tmp_path / "new")
    sqlite_env.tamper("UPDATE audit_events SET actor = 'x' WHERE seq = 3")
    with pytest.raises(AuditError, match="refusing to export.*seq 3"):
        make("jsonl")


def test_ocsf_required_attributes(exported):
    _, _, make = exported
    base = {"activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time",
            "type_uid"}
    by_class = {3002: {"user"}, 3001: {"user"}, 6003: {"actor", "api", "src_endpoint"}}
    seen = set()
    for line in _data_lines(make("ocsf"), "ocsf"):
        event = json.loads(line)
        assert base <= set(event)
        assert by_class[event["class_uid"]] <= set(event)
        assert event["type_uid"] == event["class_uid"] * 100 + event["activity_id"]
        assert event["category_uid"] == event["class_uid"] // 1000
        assert {"name", "vendor_name"} <= set(event["metadata"]["product"])
        assert event["metadata"]["version"] == "1.1.0" and isinstance(event["time"], int)
        if event["class_uid"] == 3002:
            assert "service" in event or "dst_endpoint" in event
        seen.add(event["class_uid"])
    assert seen == {3001, 3002, 6003}


def test_cef_structure_and_escaping(exported):
    _, _, make = exported
    lines = [line.decode() for line in _data_lines(make("cef"), "cef")]
    for line in lines:
        assert re.match(r"^CEF:0\|appliance\|appliance\|[^|]*\|[a-z.]+\|[^|]+\|\d+\|", line)
    tricky = next(line for line in lines if "calc" in line)
    assert "suser=\\=cmd|' /C calc'!A0" in tricky  # '=' escaped, '|' left alone in extensions
    # JSON text a=b \\ | ] \" é  becomes, with CEF's \\ and \= escapes:
    assert r'cs3={"note":"a\=b \\\\ | ] \\" é' in tricky
    assert re.search(r"\|rt=\d{13} ", tricky) and " src=10.1.2.3 " in tricky


def test_syslog_is_rfc5424(exported):
    _, _, make = exported
    pattern = re.compile(
        r'^<(\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [!-~]{1,255} appliance - '
        r'[!-~]{1,32} \[audit@32473( [^= \]"]{1,32}="([^"\\\]]|\\["\\\]])*")+\] .+$')
    lines = [line.decode() for line in _data_lines(make("syslog"), "syslog")]
    for line in lines:
        match = pattern.match(line)
        assert match, line
        assert int(match.group(1)) // 8 == 13  # facility: log audit
    failure = next(line for line in lines if "calc" in line)
    assert failure.startswith("<108>1 ")  # 13*8 + 4 (warning)
    assert '\\]' in failure and '\\"' in failure


def test_csv_defuses_formulas(exported):
    _, _, make = exported
    text = _events_file(make("csv")).read_text()
    assert ",'=cmd|' /C calc'!A0," in text
    assert "\n=" not in text and ",=" not in text


# -- tampering, one class at a time, in every format --------------------------------------

def _problems(folder, keyring):
    check = verify_export(folder, keyring)
    assert not check.ok
    return check


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_edited_line(exported, fmt):
    _, keyring, make = exported
    folder = make(fmt)
    lines = _data_lines(folder, fmt)
    lines[6] = lines[6].replace(b"user0", b"user9").replace(b"user1", b"user9")
    _write_lines(folder, fmt, lines)
    check = _problems(folder, keyring)
    assert check.problems[0].kind == "edited" and check.first_bad_seq == 7


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_added_line(exported, fmt):
    _, keyring, make = exported
    folder = make(fmt)
    lines = _data_lines(folder, fmt)
    _write_lines(folder, fmt, lines[:10] + [lines[9]] + lines[10:])
    check = _problems(folder, keyring)
    assert [p.kind for p in check.problems] == ["added"] and check.problems[0].seq == 10


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_deleted_line(exported, fmt):
    _, keyring, make = exported
    folder = make(fmt)
    lines = _data_lines(folder, fmt)
    _write_lines(folder, fmt, lines[:11] + lines[12:])
    check = _problems(folder, keyring)
    assert [p.kind for p in check.problems] == ["deleted"] and check.first_bad_seq == 12


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_reordered_lines(exported, fmt):
    _, keyring, make = exported
    folder = make(fmt)
    lines = _data_lines(folder, fmt)
    lines[14], lines[15] = lines[15], lines[14]
    _write_lines(folder, fmt, lines)
    check = _problems(folder, keyring)
    assert [p.kind for p in check.problems] == ["reordered"] and check.first_bad_seq == 15


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_truncated_file(exported, fmt):
    _, keyring, make = exported
    folder = make(fmt)
    path = _events_file(folder)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 40])
    check = _problems(folder, keyring)
    assert {"edited", "deleted"} & {p.kind for p in check.problems}
    assert check.first_bad_seq == 30


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_forged_manifest(exported, fmt, tmp_path):
    _, keyring, make = exported
    folder = make(fmt)
    manifest = json.loads((folder / MANIFEST).read_text())
    # 1. edited without re-signing
    edited = dict(manifest, last_seq=29)
    (folder / MANIFEST).write_text(render_manifest(edited))
    assert _problems(folder, keyring).problems[0].kind == "forged manifest"
    # 2. re-signed by a key that is not the appliance's
    mallory = Signer.generate("mallory")
    body = {k: v for k, v in edited.items() if k != "signature"}
    body["key_id"] = mallory.key_id
    import base64
    forged = dict(body, signature=base64.b64encode(mallory.sign(canonical(body))).decode())
    (folder / MANIFEST).write_text(render_manifest(forged))
    check = _problems(folder, keyring)
    assert check.problems[0].kind == "forged manifest" and "unknown key" in str(check.problems[0])
    # 3. gone
    (folder / MANIFEST).unlink()
    assert "missing" in str(_problems(folder, keyring).problems[0])


def test_added_file_and_deleted_file(exported):
    _, keyring, make = exported
    folder = make("jsonl")
    (folder / "extra.jsonl").write_text("{}\n")
    assert [p.kind for p in _problems(folder, keyring).problems] == ["added"]
    (folder / "extra.jsonl").unlink()
    _events_file(folder).unlink()
    assert "deleted" in {p.kind for p in _problems(folder, keyring).problems}


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_fuzzed_exports_never_verify(exported, fmt, tmp_path):
    """Random bit flips and truncations of any file in the export never verify as OK."""
    _, keyring, make = exported
    pristine = make(fmt)
    assert verify_export(pristine, keyring).ok
    rng = random.Random(f"fuzz-{fmt}")
    work = tmp_path / f"fuzz-{fmt}"
    for trial in range(250):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work)
        victim = rng.choice(sorted(work.iterdir()))
        data = bytearray(victim.read_bytes())
        if trial % 3 == 2:
            data = data[:rng.randrange(len(data))]
        else:
            for _ in range(rng.choice([1, 1, 2, 5])):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        if bytes(data) == victim.read_bytes():
            continue
        victim.write_bytes(bytes(data))
        check = verify_export(work, keyring)
        assert not check.ok, (victim.name, trial)


def test_export_from_either_backend(env, tmp_path):
    log = env.log()
    fill(log, 40)
    log.checkpoint()
    keyring = log.keyring()
    for fmt in FORMAT_NAMES:
        folder = tmp_path / f"{env.dialect}-{fmt}"
        manifest = log.export(fmt, folder, actor="auditor")
        check = verify_export(folder, keyring)
        assert check.ok and check.count == manifest["count"] >= 40, check.problems
