"""Fuzz regressions (issue 20): a short hypothesis property per fuzz target, and a test per
crash that benchmarks/fuzz.py found.

The properties are tests/fuzzing.py's, run here for a few dozen derandomized examples each
(benchmarks/fuzz.py runs them for minutes). Every crash saved in tests/data/fuzz_crashes/ is
replayed from its file, and each distinct bug has a hand-minimized test below that names its
crash file(s). Both are strict xfails while the file's "status" is "open", and plain tests once
it is "fixed": when a fix makes them pass (XPASS fails the run), set the status to "fixed".
The short properties let an open crash's signature pass, since its own tests track it.
"""
from __future__ import annotations

import base64
import json
import shutil
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings

import fuzzing
from fuzzing import CRASH_DIR

SHORT = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))


def _crashes() -> list[dict]:
    out = []
    for path in sorted(CRASH_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        data["path"] = path
        out.append(data)
    return out


CRASHES = _crashes()
OPEN = {c["signature"] for c in CRASHES if c.get("status") == "open"}


def _tolerating_open(target, example) -> None:
    """Run the property; an open crash's signature passes (its own xfail tracks it)."""
    try:
        target.run(example)
    except Exception as exc:  # noqa: BLE001
        if fuzzing.signature(exc) in OPEN:
            return
        raise


# -- targets, built once per module ------------------------------------------------------

@pytest.fixture(scope="module")
def extraction():
    target = fuzzing.ExtractionTarget()
    target.memory_mb = 512
    target.setup()
    yield target
    target.close()


@pytest.fixture(scope="module")
def sandboxed():
    target = fuzzing.ExtractionTarget(sandbox=True)
    target.memory_mb = 512
    target.setup()
    yield target
    target.close()


@pytest.fixture(scope="module")
def policy():
    target = fuzzing.PolicyTarget()
    target.memory_mb = 512
    target.setup()
    yield target
    target.close()


@pytest.fixture(scope="module")
def export():
    target = fuzzing.ExportTarget()
    target.memory_mb = 512
    target.setup()
    yield target
    target.close()


@pytest.fixture(scope="module")
def api():
    target = fuzzing.ApiTarget()
    target.memory_mb = 512
    target.setup()
    yield target
    target.close()


# -- the properties, briefly --------------------------------------------------------------

@SHORT
@given(fuzzing.extraction_examples())
def test_extraction_gives_blocks_or_an_ingest_error(extraction, example):
    _tolerating_open(extraction, example)


@settings(SHORT, max_examples=10)
@given(fuzzing.extraction_examples())
def test_the_sandbox_agrees_with_extract_and_never_hangs(sandboxed, example):
    _tolerating_open(sandboxed, example)


@SHORT
@given(fuzzing.policy_document())
def test_a_policy_file_loads_or_raises_policy_error(policy, raw):
    _tolerating_open(policy, raw)


@SHORT
@given(fuzzing.export_examples())
def test_a_tampered_export_is_reported_never_raises_never_verifies(export, example):
    _tolerating_open(export, example)


@settings(SHORT, max_examples=60)
@given(fuzzing.api_request())
def test_api_requests_never_answer_500(api, example):
    _tolerating_open(api, example)


# -- every saved crash, replayed ----------------------------------------------------------

def _example(crash: dict):
    """The saved input as the target's example."""
    info = crash["input"]
    kind = crash["target"].split("-")[0]
    if kind == "extraction":
        path = CRASH_DIR / info["file"]
        return f"crash{path.suffix}", path.read_bytes()
    if kind == "policy":
        return (CRASH_DIR / info["file"]).read_bytes()
    if kind == "api":
        return fuzzing.ApiTarget.example(info)
    return fuzzing.ExportTarget.example(info)


def _replayable(crash: dict) -> bool:
    """A crash saved with its input (hand-found ones may have only a hand-written test)."""
    info = crash.get("input", {})
    kind = crash["target"].split("-")[0]
    return not crash["signature"].startswith("libFuzzer") and bool(
        info.get("mutations") if kind == "export" else
        info.get("method") if kind == "api" else info.get("file"))


@pytest.mark.parametrize("crash", [
    pytest.param(c, id=c["path"].stem, marks=[pytest.mark.xfail(
        strict=True, reason=f"open fuzz crash: {c['signature']}")] if c.get("status") == "open"
        else []) for c in CRASHES if _replayable(c)])
def test_saved_fuzz_crash_no_longer_crashes(request, crash):
    fixture = {"extraction": "extraction", "extraction-sandbox": "sandboxed",
               "policy": "policy", "export": "export", "api": "api"}[crash["target"]]
    request.getfixturevalue(fixture).run(_example(crash))


@pytest.mark.parametrize("crash", [
    pytest.param(c, id=c["path"].stem) for c in CRASHES
    if c["target"].startswith("extraction") and c.get("input", {}).get("file")
    and not c["signature"].startswith("Broken")])
def test_the_sandbox_turns_each_extraction_crash_into_an_ingest_error(crash):
    """What ingest runs: whatever extract raises, the child answers with a clear error."""
    from appliance.errors import IngestError
    from appliance.knowledge.file_checks import Limits
    from appliance.knowledge.sandbox import sandbox_for

    name, data = _example(crash)
    box = sandbox_for(Limits(cpu_seconds=10, wall_seconds=20))
    try:
        box.extract(name, data)
    except IngestError:
        pass


# -- the bugs, by hand (minimal inputs) ---------------------------------------------------

BY_ID = {c["path"].stem: c for c in CRASHES}


def _marks(*ids: str, why: str) -> list:
    """A strict xfail while one of the saved crashes `ids` is "open"; nothing once fixed."""
    crashes = [BY_ID[i] for i in ids]  # a KeyError here: the crash file is missing
    if not any(c.get("status") == "open" for c in crashes):
        return []
    return [pytest.mark.xfail(strict=True, reason=f"open fuzz crash {', '.join(ids)}: {why}")]


def _open(*ids: str, why: str):
    """The hand-minimized regression test of saved crash(es) `ids`."""
    def apply(test):
        for mark in _marks(*ids, why=why):
            test = mark(test)
        return test
    return apply


def _extract(name: str, data: bytes):
    """check + extract as the sandbox child runs them: blocks, or an IngestError raised."""
    from appliance.knowledge.extraction import MIME_TYPES, extract
    from appliance.knowledge.file_checks import Limits, check

    check(name, MIME_TYPES["." + name.rsplit(".", 1)[-1]], data, Limits())
    return extract(name, data)


def _ingest_error(name: str, data: bytes) -> None:
    from appliance.errors import IngestError
    with pytest.raises(IngestError):
        _extract(name, data)


def _pdf(contents: bytes = b"BT /F1 12 Tf 72 700 Td (Staff get 27 days of leave.) Tj ET",
         stream_keys: bytes = b"", trailer: bytes = b"") -> bytes:
    return fuzzing.pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(contents), stream_keys, contents)],
        trailer=trailer)


def test_the_pdf_helper_makes_a_readable_pdf():
    assert [b.text for b in _extract("ok.pdf", _pdf())] == ["Staff get 27 days of leave."]


@_open("extraction-bab01b078a", why=(
    "extraction._pdf catches "
    "PdfReadError/ValueError/KeyError/TypeError/AttributeError/OSError; pypdf raises "
    "NotImplementedError for an /Encrypt dictionary whose /Filter is not /Standard "
    "(pypdf/_encryption.py Encryption.read)"))
def test_pdf_with_a_non_standard_encryption_filter_is_an_ingest_error():
    _ingest_error("enc.pdf", _pdf(trailer=b"/Encrypt << /Filter /Other >>"))


@_open("extraction-e4067cdafa", why=(
    "extraction._pdf: page.extract_text raises NotImplementedError for an unknown stream "
    "filter name (pypdf/filters.py decode_stream_data)"))
def test_pdf_with_an_unknown_stream_filter_is_an_ingest_error():
    _ingest_error("filter.pdf", _pdf(stream_keys=b"/Filter /Bogus "))


PYPDF_ASSERTS = ("extraction._pdf: page.extract_text lets pypdf's AssertionError out for a "
                 "content stream with an indirect reference, or an operand before an inline "
                 "image (pypdf generic/_data_structures.py)")


@pytest.mark.parametrize("contents", [
    pytest.param(b"0 0 R Tj", id="reference",  # read_object: assert pdf is not None, "mypy"
                 marks=_marks("extraction-6b773d4a0d", why=PYPDF_ASSERTS)),
    pytest.param(b"(x) Tj 0 BI /W 1 /H 1 ID \x00 EI", id="inline-image",  # assert operands == []
                 marks=_marks("extraction-930ec57152", why=PYPDF_ASSERTS)),
])
def test_pdf_content_stream_that_trips_a_pypdf_assertion_is_an_ingest_error(contents):
    _ingest_error("content.pdf", _pdf(contents=contents))


def _docx(compression: int) -> bytes:
    document = (f'<w:document xmlns:w="{fuzzing.W_NS}"><w:body>' +
                "<w:p><w:r><w:t>Staff get 27 days of leave.</w:t></w:r></w:p>" * 50 +
                "</w:body></w:document>").encode()
    data = bytearray(fuzzing._zip([("word/document.xml", document)], compression))
    start = 30 + len("word/document.xml")  # the member's compressed bytes
    for i in range(start + 12, start + 60):
        data[i] ^= 0x55
    return bytes(data)


@_open("extraction-649c9a5ac0", why=(
    "docx_reader.read_docx: BROKEN lacks OSError; a damaged bzip2 member makes zipfile's "
    "read raise OSError('Invalid data stream')"))
def test_docx_with_a_damaged_bzip2_member_is_an_ingest_error():
    _ingest_error("bz2.docx", _docx(zipfile.ZIP_BZIP2))


@_open("extraction-b588f9de2e", why=(
    "docx_reader.read_docx: BROKEN lacks lzma.LZMAError; a damaged LZMA member raises it"))
def test_docx_with_a_damaged_lzma_member_is_an_ingest_error():
    _ingest_error("lzma.docx", _docx(zipfile.ZIP_LZMA))


@_open("extraction-8cb58e7092", why=(
    "file_checks.check_zip catches BadZipFile/ValueError/OSError; zipfile raises "
    "NotImplementedError('zip file version 25.5') for a directory entry that needs a later "
    "zip version"))
def test_docx_needing_an_unknown_zip_version_is_an_ingest_error():
    data = bytearray(fuzzing.small_docx())
    entry = data.index(b"PK\x01\x02")  # the first central directory entry
    data[entry + 6:entry + 8] = b"\xff\x00"  # version needed to extract: 25.5
    _ingest_error("version.docx", bytes(data))


MARKED = ("file_checks.check_html_depth feeds html.parser, whose _markupbase raises "
          "AssertionError on a malformed '<![' marked section; only its own _TooDeep is caught")


@pytest.mark.parametrize("html", [
    pytest.param(b"<![#", marks=_marks("extraction-892b440872", why=MARKED)),
    pytest.param(b"<![e e", marks=_marks("extraction-1acd13d213", why=MARKED))])
def test_html_with_a_malformed_marked_section_is_an_ingest_error(html):
    _ingest_error("marked.html", html)


def _policy(raw: bytes):
    from appliance.privacy import parse_policy
    return parse_policy(raw, "fuzz.yaml")


def _policy_error(raw: bytes) -> None:
    from appliance.errors import PolicyError
    with pytest.raises(PolicyError):
        _policy(raw)


@pytest.mark.parametrize("raw", [b"\x1f", b"version: 1\x00\n"])
@_open("policy-eac3cf1d79", why=(
    "yamlmarks.load_with_lines builds yaml.SafeLoader(text) before its try: the Reader "
    "raises ReaderError (a YAMLError, not a MarkedYAMLError) for a control character"))
def test_policy_with_a_control_character_is_a_policy_error(raw):
    _policy_error(raw)


SCALARS = ("yamlmarks._convert: loader.construct_object raises plain ValueError/IndexError/"
           "AttributeError from PyYAML's constructors for a tagged or date-like scalar; "
           "load_with_lines turns only yaml.YAMLError into YamlProblem")


@pytest.mark.parametrize("raw", [pytest.param(raw, marks=_marks(crash, why=SCALARS))
                                 for raw, crash in (
    (b"!!timestamp \n", "policy-237e430748"),  # AttributeError: the timestamp regex fails
    (b"2001-13-45", "policy-b8108bada9"),  # ValueError: month must be in 1..12
    (b"!!int \n", "policy-b115928aa9"),  # IndexError: string index out of range
    (b"!!float \n", "policy-9456374de1"),  # IndexError
    (b"!!int version", "policy-db8a3fa3de"),  # ValueError: invalid literal for int()
    (b"!!float \xef\xbb\xbf", "policy-fecf9155c3"),  # ValueError: not a float
    (b"!!int ::", "policy-9e2bff4ca9"),  # ValueError, in a key (_convert's key branch)
)])
def test_policy_with_an_unconstructible_scalar_is_a_policy_error(raw):
    _policy_error(raw)


@_open("policy-db214eb843", why=(
    "yamlmarks.load_with_lines: PyYAML's composer recurses once per nesting level"))
def test_deeply_nested_policy_yaml_is_a_policy_error():
    _policy_error(b"[" * 500 + b"]" * 500)


@_open("policy-06790ea7c1", "policy-5c9823861e", why=(
    "yamlmarks._convert follows every alias into a fresh copy: a few hundred bytes of "
    "nested aliases expand 9**levels-fold (6 levels: 1.5 s; 7: 13 s; 8: minutes and "
    "gigabytes) before any check"))
def test_policy_alias_bomb_is_refused_quickly():
    from appliance.errors import PolicyError

    with fuzzing.time_limit(1.0):
        try:
            _policy(fuzzing.alias_bomb(7))
        except PolicyError:
            pass


@_open("policy-650eb1c914", why=(
    "policy_checks.Checker._deny_terms accepts an empty list; base.words_pattern(()) is "
    "None, so DenyTermsRecognizer.find (recognizers/custom.py) raises AttributeError on "
    "every redaction with the policy, on every path"))
def test_a_policy_with_an_empty_deny_list_is_a_policy_error():
    """Refused when loaded (it used to load, then fail every redaction)."""
    _policy_error(b"entities: {EMAIL: redact, CODEWORD: redact}\ndeny_terms: {CODEWORD: []}\n")


@_open("policy-47604468d4", why=(
    "policy_checks.Checker._defaults: `action not in OPERATORS` with an unhashable action"))
def test_policy_default_action_that_is_a_list_is_a_policy_error():
    _policy_error(b"defaults: {action: []}\nentities: {EMAIL: redact}\n")


@_open("policy-30fbceaf50", why=(
    "operators._template's check catches KeyError/IndexError/ValueError, not the "
    "AttributeError of an attribute placeholder such as {type.x}"))
def test_policy_tag_with_an_attribute_placeholder_is_a_policy_error():
    _policy_error(b"entities:\n  EMAIL: {action: redact, tag: '{type.x}'}\n")


@_open("policy-d66337f858", why=(
    "operators._template's check formats the template itself: a width of 99999999999 raises"
    " MemoryError (not a PolicyError), and one of 2000000000 passes and then costs 2 GB on "
    "every redaction"))
def test_policy_template_with_a_huge_width_is_a_policy_error():
    with fuzzing.memory_limit(256):
        _policy_error(b"entities:\n  EMAIL: {action: pseudonym, format: '{type:>99999999999}'}\n")


@_open("policy-b683bcf88b", why=(
    "policy_checks.Checker._custom catches re.error only; re.compile raises OverflowError "
    "for a repeat count over 2**32 - 1"))
def test_custom_pattern_with_a_huge_repeat_count_is_a_policy_error():
    _policy_error(b"entities: {FOO: redact}\ncustom_recognizers:\n"
                  b"  - {name: x, type: FOO, pattern: 'a{4294967296}'}\n")


@_open("policy-ae83745f75", why=(
    "policy_checks.Checker._custom catches re.error only; re.compile raises RecursionError "
    "for deeply nested groups"))
def test_custom_pattern_with_deep_groups_is_a_policy_error():
    pattern = b"(" * 1200 + b"a" + b")" * 1200
    _policy_error(b"entities: {FOO: redact}\ncustom_recognizers:\n"
                  b"  - {name: x, type: FOO, pattern: '" + pattern + b"'}\n")


# export: an outsider edits the export directory (no key needed)

@pytest.fixture
def export_copy(export, tmp_path):
    def make(fmt: str = "jsonl"):
        folder = tmp_path / f"export-{fmt}"
        shutil.copytree(export.base[fmt], folder)
        return folder
    return make


def _verify(export, folder):
    from appliance.audit.export_check import verify_export
    return verify_export(folder, export.keyring)


@_open("export-7803519fd8", why=(
    "export_check._read_file catches FileNotFoundError only: the events file replaced by a "
    "directory raises IsADirectoryError out of verify_export"))
def test_events_file_replaced_by_a_directory_is_reported(export, export_copy):
    folder = export_copy()
    events = export._events(folder)
    events.unlink()
    events.mkdir()
    assert not _verify(export, folder).ok


@_open("export-c705995dc9", why=(
    "export_check._open_manifest catches FileNotFoundError, UnicodeDecodeError and "
    "ValueError: manifest.json replaced by a directory raises IsADirectoryError"))
def test_manifest_replaced_by_a_directory_is_reported(export, export_copy):
    folder = export_copy()
    (folder / "manifest.json").unlink()
    (folder / "manifest.json").mkdir()
    assert not _verify(export, folder).ok


DEEP_LINE = ("export_check._read_line catches ValueError/KeyError/TypeError; the format's parse "
             "(json.loads in formats/jsonl.py and formats/ocsf.py) raises RecursionError for a "
             "line nested thousands deep")


@pytest.mark.parametrize("fmt", [
    pytest.param("jsonl", marks=_marks("export-f9de7b9a28", why=DEEP_LINE)),
    pytest.param("ocsf", marks=_marks("export-876cd845f0", why=DEEP_LINE))])
def test_a_line_nested_deep_is_reported(export, export_copy, fmt):
    folder = export_copy(fmt)
    events = export._events(folder)
    lines = events.read_bytes().split(b"\n")
    lines[0] = b"[" * 100_000 + b"]" * 100_000
    events.write_bytes(b"\n".join(lines))
    assert not _verify(export, folder).ok


@_open("export-respelled-signature", why=(
    "export_check._open_manifest decodes the signature with b64decode(validate=True), which"
    " ignores the unused low bits of the last base64 digit: manifest.json with the "
    "signature respelled (bytes differ, e.g. from the manifest_sha256 the EXPORT event "
    "recorded) verifies OK. Not a forgery (the signed body is unchanged); a hardening point"))
def test_a_respelled_signature_is_reported(export, export_copy):
    folder = export_copy()
    text = (folder / "manifest.json").read_text()
    signature = json.loads(text)["signature"]  # 64 bytes: 86 digits and "=="
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = digits[digits.index(signature[-3]) ^ 1]  # flips one of the 4 unused bits
    respelled = signature[:-3] + last + "=="
    assert base64.b64decode(respelled) == base64.b64decode(signature)
    (folder / "manifest.json").write_text(text.replace(signature, respelled))
    assert not _verify(export, folder).ok


# export: a manifest signed with the real key but malformed (the signer's own bug, not an
# outsider's edit; verify_export still promises a report, not an exception)

def _resign(export, folder, **changes):
    from appliance.audit.export import MANIFEST, canonical, render_manifest

    body = json.loads((folder / MANIFEST).read_text())
    body.pop("signature")
    body.update(changes)
    signature = base64.b64encode(export.signer.sign(canonical(body))).decode()
    (folder / MANIFEST).write_text(render_manifest(dict(body, signature=signature)))


@_open("export-9e92f5188d", why=(
    "export_check.verify_export: FORMATS.get(body.get('format')) with an unhashable format "
    "raises TypeError (formats/base.py FormatRegistry.get catches KeyError only)"))
def test_signed_manifest_with_a_list_as_format_is_reported(export, export_copy):
    folder = export_copy()
    _resign(export, folder, format=[])
    assert not _verify(export, folder).ok


@_open("export-1b5124de7a", why=(
    "export_check._check_sequence builds set(range(first_seq, last_seq + 1)) from the "
    "manifest, and with count 0 no checkpoint bounds last_seq: last_seq 10**12 takes all "
    "memory in one C call (a fuzz run was OOM-killed at 23 GB here)"))
def test_signed_manifest_with_a_huge_sequence_range_is_reported(export, export_copy):
    folder = export_copy()
    _resign(export, folder, count=0, last_seq=10**12)
    with fuzzing.memory_limit(256):
        assert not _verify(export, folder).ok


@_open("export-c8d6cf1cc5", why=(
    "export_check._open_manifest: Checkpoint.open(body['checkpoint'] or '') with a "
    "non-string checkpoint raises AttributeError in notes.open_note; only AuditError is "
    "caught"))
def test_signed_manifest_with_a_non_text_checkpoint_is_reported(export, export_copy):
    folder = export_copy()
    _resign(export, folder, checkpoint=1)
    assert not _verify(export, folder).ok


CONTEXT = ("export_check.verify_export passes body['context'] to the format unchecked: render "
           "calls ctx.get on an int (AttributeError in formats/ocsf.py, cef.py, rfc5424.py)")


@pytest.mark.parametrize("fmt", [pytest.param(fmt, marks=_marks(crash, why=CONTEXT))
                                 for fmt, crash in (
    ("ocsf", "export-134990237a"), ("cef", "export-4cb1dadc35"), ("syslog", "export-4efdb82632"))])
def test_signed_manifest_with_a_non_object_context_is_reported(export, export_copy, fmt):
    folder = export_copy(fmt)
    _resign(export, folder, context=1)
    _verify(export, folder)


# api: a token holder's request

def _post(api, path: str, body: bytes, content_type: str = "application/json"):
    return api.client.post(path, data=body, headers=api.headers | {"Content-Type": content_type})


DEEP_BODY = ("openai_api.chat_completions/embeddings: request.get_json(silent=True) turns "
             "only ValueError into None; json.loads raises RecursionError for a body nested "
             "100,000 deep, which the error handler answers with a 500")


@pytest.mark.parametrize("path", [
    pytest.param("/v1/chat/completions", marks=_marks("api-76ad0ab4c4", why=DEEP_BODY)),
    pytest.param("/v1/embeddings", marks=_marks("api-e2a7e73d10", why=DEEP_BODY))])
def test_a_deeply_nested_json_body_is_a_400(api, path):
    response = _post(api, path, b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400


@_open("api-5db6087b35", why=(
    "openai_api.chat_completions: (body.get('stream_options') or {}).get(...) with "
    "stream_options true raises AttributeError: a 500"))
def test_stream_options_that_is_not_an_object_is_no_500(api):
    body = dict(fuzzing.CHAT, stream=True, stream_options=True)
    assert _post(api, "/v1/chat/completions", json.dumps(body).encode()).status_code < 500


@_open("api-01f4ddfc6d", why=(
    "a lone surrogate in a question (JSON '\\ud800') reaches audit.events.text_hash, whose "
    "text.encode('utf-8') raises UnicodeEncodeError while the answer is recorded: a 500"))
def test_a_question_with_a_lone_surrogate_is_answered_or_refused(api):
    body = {"model": "appliance", "messages": [{"role": "user", "content": "\ud800"}]}
    response = _post(api, "/v1/chat/completions", json.dumps(body).encode())
    assert response.status_code < 500
