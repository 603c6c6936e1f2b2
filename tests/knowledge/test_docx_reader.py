"""The streaming .docx reader: the blocks a reader expects, and hostile files refused safely."""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import zipfile

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from helpers import ROOT

from appliance.errors import CorruptFileError, RejectedFileError
from appliance.knowledge.docx_reader import read_docx
from appliance.knowledge.extraction import Block, extract

MB = 2**20
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (f'xmlns:w="{W_NS}" '
      'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
      'xmlns:v="urn:schemas-microsoft-com:vml" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
PARA = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>"


def _bytes(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _append_xml(document, xml: str) -> None:
    """Put a raw body element before the final w:sectPr, where Word would have it."""
    document.element.body[-1].addprevious(parse_xml(f"<w:body {NS}>{xml}</w:body>")[0])


def _with_document_xml(chunks) -> bytes:
    """A real .docx (styles, rels) whose word/document.xml is `chunks`, streamed in deflated."""
    blank = zipfile.ZipFile(io.BytesIO(_bytes(docx.Document())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in blank.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info.filename, blank.read(info))
        with zf.open("word/document.xml", "w") as fh:
            for chunk in chunks:
                fh.write(chunk)
    return out.getvalue()


def _document(*parts: bytes, head: bytes = b"") -> list[bytes]:
    return [head + f'<w:document {NS}><w:body>'.encode(), *parts, b"</w:body></w:document>"]


def _in_child(data: bytes, cap: int, tmp_path) -> dict:
    """read_docx in a fresh process: its error, first blocks, seconds, and how far its peak
    resident memory (VmHWM, which unlike ru_maxrss is not inherited through fork) rose."""
    path = tmp_path / "input.docx"
    path.write_bytes(data)
    code = f"""
import json, time
from appliance.knowledge.docx_reader import read_docx

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith(key))

data = open({str(path)!r}, "rb").read()
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # peak := current
except OSError:
    pass
before = status("VmRSS:")
t0 = time.perf_counter()
try:
    blocks, error = read_docx("input.docx", data, {cap}), None
except Exception as exc:
    blocks, error = [], f"{{type(exc).__name__}}: {{exc}}"
print(json.dumps({{"error": error, "blocks": [b.text for b in blocks[:5]],
                  "seconds": time.perf_counter() - t0, "grown_mb": status("VmHWM:") - before}}))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- what a reader sees ---------------------------------------------------------------------------
def test_headings_paragraphs_and_tables_in_document_order():
    d = docx.Document()
    d.add_heading("Staff Handbook", 0)  # the Title style
    d.add_paragraph("Welcome to the hospital.")
    d.add_heading("Leave", 1)
    d.add_paragraph("Annual leave is 27 days.")
    d.add_paragraph("")
    d.add_paragraph("   ")
    d.add_heading("Carry-over", 2)
    d.add_paragraph("Up to 5 days\tmay be carried over.").add_run().add_break()
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Grade", "Days"
    table.cell(1, 0).text, table.cell(1, 1).text = "Band 5", ""
    d.add_heading("Sickness", 1)
    d.add_paragraph("Call your manager before 9am.")

    assert read_docx("h.docx", _bytes(d), MB) == [  # Title and Heading 1 are both level 1
        Block("Welcome to the hospital.", None, "Staff Handbook"),
        Block("Annual leave is 27 days.", None, "Leave"),
        Block("Up to 5 days\tmay be carried over.", None, "Leave > Carry-over"),
        Block("Grade | Days", None, "Leave > Carry-over"),
        Block("Band 5", None, "Leave > Carry-over"),
        Block("Call your manager before 9am.", None, "Sickness"),
    ]


def test_line_breaks_tabs_and_runs_follow_python_docx():
    d = docx.Document()
    p = d.add_paragraph("First line")
    p.add_run().add_break()
    p.add_run("second line, ")
    p.add_run("bold").bold = True
    p.add_run("\tafter a tab")
    blocks = read_docx("r.docx", _bytes(d), MB)
    assert [b.text for b in blocks] == [p.text] == ["First line\nsecond line, bold\tafter a tab"]


def test_nested_table_text_stays_in_its_cell_once():
    d = docx.Document()
    d.add_heading("Contacts", 1)
    outer = d.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "Security"
    cell = outer.cell(0, 1)
    cell.text = "Numbers:"
    inner = cell.add_table(rows=2, cols=1)
    inner.cell(0, 0).text, inner.cell(1, 0).text = "ext 4455", "ext 4456"
    blocks = read_docx("n.docx", _bytes(d), MB)
    assert blocks == [Block("Security | Numbers:\next 4455\next 4456", None, "Contacts")]


def test_merged_cells_read_once_across_and_carried_down():
    d = docx.Document()
    t = d.add_table(rows=3, cols=3)
    t.cell(0, 0).merge(t.cell(0, 2)).text = "Retention periods"
    t.cell(1, 0).merge(t.cell(2, 0)).text = "Records"
    t.cell(1, 1).text, t.cell(1, 2).text = "Adult", "8 years"
    t.cell(2, 1).text, t.cell(2, 2).text = "Child", "until 25"
    assert [b.text for b in read_docx("m.docx", _bytes(d), MB)] == [
        "Retention periods", "Records | Adult | 8 years", "Records | Child | until 25"]


def test_content_controls_text_boxes_links_and_revisions():
    d = docx.Document()
    d.add_heading("Forms", 1)
    _append_xml(d, "<w:sdt><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>Filled-in field"
                   "</w:t></w:r></w:p></w:sdtContent></w:sdt>")
    box = ("<w:txbxContent><w:p><w:r><w:t>Boxed note</w:t></w:r></w:p></w:txbxContent>")
    _append_xml(d, "<w:p><w:r><w:t>Anchor text</w:t></w:r><w:r><mc:AlternateContent>"
                   "<mc:Choice Requires=\"wps\"><w:drawing><wp:anchor><a:graphic><a:graphicData>"
                   f"<wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic>"
                   "</wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape>"
                   f"<v:textbox>{box}</v:textbox></v:shape></w:pict></mc:Fallback>"
                   "</mc:AlternateContent></w:r></w:p>")
    _append_xml(d, '<w:p><w:r><w:t xml:space="preserve">See </w:t></w:r><w:hyperlink '
                   'r:id="rId99"><w:r><w:t>the portal</w:t></w:r></w:hyperlink><w:ins w:id="1" '
                   'w:author="x"><w:r><w:t xml:space="preserve"> now</w:t></w:r></w:ins><w:del '
                   'w:id="2" w:author="x"><w:r><w:delText> later</w:delText></w:r></w:del>'
                   "</w:p>")
    texts = [(b.text, b.section) for b in read_docx("f.docx", _bytes(d), MB)]
    assert texts == [("Filled-in field", "Forms"), ("Boxed note", "Forms"),
                     ("Anchor text", "Forms"), ("See the portal now", "Forms")]


def test_custom_style_based_on_a_heading_is_a_heading():
    d = docx.Document()
    chapter = d.styles.add_style("Chapter", WD_STYLE_TYPE.PARAGRAPH)
    chapter.base_style = d.styles["Heading 1"]
    d.add_paragraph("Governance", style="Chapter")
    d.add_paragraph("The board meets monthly.")
    d.add_paragraph("Some body text in a style of its own.", style="Quote")
    assert read_docx("s.docx", _bytes(d), MB) == [
        Block("The board meets monthly.", None, "Governance"),
        Block("Some body text in a style of its own.", None, "Governance")]


def test_the_sample_document_keeps_every_paragraph_and_row():
    from helpers import SAMPLES

    data = (SAMPLES / "incident-response-procedure.docx").read_bytes()
    blocks = extract("incident-response-procedure.docx", data)
    document = docx.Document(io.BytesIO(data))
    expected = {p.text.strip() for p in document.paragraphs if p.text.strip()}
    got = {b.text for b in blocks} | {s for b in blocks for s in (b.section or "").split(" > ")}
    assert expected <= got
    rows = [b for b in blocks if " | " in b.text]
    assert rows and all(r.section == "4. Escalation Timescales" for r in rows)


# -- hostile files --------------------------------------------------------------------------------
def test_garbage_and_incomplete_archives_are_corrupt():
    with pytest.raises(CorruptFileError, match="bad.docx: cannot read the Word document"):
        extract("bad.docx", os.urandom(4096))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/other.xml", "<x/>")
    with pytest.raises(CorruptFileError, match="no word/document.xml"):
        read_docx("empty.docx", out.getvalue(), MB)
    truncated = _bytes(docx.Document())[:-200]
    with pytest.raises(CorruptFileError, match="Word document"):
        read_docx("cut.docx", truncated, MB)
    with pytest.raises(CorruptFileError, match="Word document"):
        read_docx("xml.docx", _with_document_xml([b"<w:document><w:body><w:p>"]), MB)


# A DTD in the first 64 KB is refused outright; one further in (after a long comment) meets
# the parser, which must neither expand nor fetch it.
PADDING = [b"", b"<!--" + b" " * 100_000 + b"-->"]


def _read_or_refuse(name: str, data: bytes) -> list[Block]:
    try:
        return read_docx(name, data, 8 * MB)
    except RejectedFileError as exc:
        assert "declares a DTD" in str(exc)
        return [Block(str(exc))]
    except CorruptFileError as exc:  # libxml2's own entity-amplification guard
        return [Block(str(exc))]


@pytest.mark.parametrize("padding", PADDING, ids=["dtd-first", "dtd-after-100kb"])
def test_billion_laughs_is_never_expanded(padding):
    dtd = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    head = b'<?xml version="1.0"?>' + padding + \
        f'<!DOCTYPE w:document [<!ENTITY lol0 "lol">{dtd}]>'.encode()
    data = _with_document_xml(_document(b"<w:p><w:r><w:t>Laugh: &lol9;</w:t></w:r></w:p>",
                                        b"<w:p><w:r><w:t>Plain text survives.</w:t></w:r></w:p>",
                                        head=head))
    tracemalloc.start()
    t0 = time.perf_counter()
    blocks = _read_or_refuse("lol.docx", data)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2 and peak < 50 * MB
    assert not any("lollol" in b.text for b in blocks)
    assert blocks[0].text.startswith("lol.docx: ") or Block("Plain text survives.") in blocks


@pytest.mark.parametrize("padding", PADDING, ids=["dtd-first", "dtd-after-100kb"])
def test_external_entities_are_not_fetched(monkeypatch, padding):
    class NoSocket:
        def __init__(self, *a, **kw):
            raise AssertionError("the reader opened a socket")

    monkeypatch.setattr(socket, "socket", NoSocket)
    head = (b'<?xml version="1.0"?>' + padding + b'<!DOCTYPE w:document [<!ENTITY web SYSTEM '
            b'"http://example.invalid/x"><!ENTITY file SYSTEM "file:///etc/passwd">]>')
    data = _with_document_xml(_document(b"<w:p><w:r><w:t>[&web;][&file;]</w:t></w:r></w:p>",
                                        b"<w:p><w:r><w:t>Body text.</w:t></w:r></w:p>", head=head))
    texts = [b.text for b in _read_or_refuse("xxe.docx", data)]
    assert not any("root:" in t for t in texts)
    assert texts[0].startswith("xxe.docx: ") or "Body text." in texts
    if padding:
        assert "Body text." in texts


def test_external_relationships_are_not_followed(monkeypatch):
    class NoSocket:
        def __init__(self, *a, **kw):
            raise AssertionError("the reader opened a socket")

    monkeypatch.setattr(socket, "socket", NoSocket)
    d = docx.Document()
    rid = d.part.relate_to("http://example.invalid/x", RT.HYPERLINK, is_external=True)
    _append_xml(d, f'<w:p><w:hyperlink r:id="{rid}"><w:r><w:t>Our intranet</w:t></w:r>'
                   "</w:hyperlink></w:p>")
    data = _bytes(d)
    assert b'TargetMode="External"' in zipfile.ZipFile(io.BytesIO(data)).read(
        "word/_rels/document.xml.rels")
    assert [b.text for b in extract("links.docx", data)] == ["Our intranet"]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux /proc")
def test_a_decompression_bomb_is_refused_at_the_cap_with_flat_memory(tmp_path):
    data = _with_document_xml(_document(*[PARA * 30_000] * 40))  # ~40 MB of XML
    assert len(data) < MB
    with pytest.raises(RejectedFileError, match="document.xml expands beyond the limit of 1 MB"):
        read_docx("bomb.docx", data, MB)
    child = _in_child(data, 4 * MB, tmp_path)  # read up to the cap (~120,000 paragraphs)
    assert child["error"] == ("RejectedFileError: input.docx: word/document.xml expands beyond "
                              "the limit of 4 MB")
    assert child["seconds"] < 5 and child["grown_mb"] < 50, child


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux /proc")
def test_a_large_document_under_the_cap_streams_in_flat_memory(tmp_path):
    """8 MB of (blank) paragraphs would be over 100 MB as a tree; read, they leave none."""
    blank = b"<w:p><w:r><w:t> </w:t></w:r></w:p>"
    data = _with_document_xml(_document(*[blank * 30_000] * 8,
                                        b"<w:p><w:r><w:t>The end.</w:t></w:r></w:p>"))
    child = _in_child(data, 64 * MB, tmp_path)
    assert child["error"] is None and child["blocks"] == ["The end."], child
    assert child["grown_mb"] < 30, child
