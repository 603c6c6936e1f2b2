"""Fuzz targets shared by benchmarks/fuzz.py (minutes per target) and
tests/test_fuzz_regressions.py (a few seconds each).

A target builds what it needs once (`setup`), gives a hypothesis strategy of examples, and
`run(example)` raises whenever the example breaks the target's property:

    extraction  file_checks.check + extraction.extract(name, data) on .txt .md .html .pdf .docx
                (the order the sandbox child runs them in): a list of non-empty Blocks or an
                IngestError. The sandbox variant also runs the file through
                sandbox_for(Limits(...)).extract and requires the same outcome in the child
                (same blocks, or an IngestError), within the wall limit.
    policy      privacy.parse_policy(raw, source): a Policy or PolicyError; a Policy that loads
                also redacts a sample text without raising (it was validated).
    export      audit.verify_export on a copy of a real export whose files were mutated: an
                ExportCheck (never an exception), and never ok when an unsigned byte changed.
    api         POST/GET bodies to /v1/chat/completions, /v1/embeddings, /v1/models through
                Flask's test client (fake embedder and generator): a status under 500.

Every example runs under a wall-clock alarm (`timeout`) and a cap on how far it may grow the
address space (`guarded`): running past either raises Hang or MemoryError, which count as
crashes like any other exception.
"""
from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import logging
import re
import shutil
import signal
import tempfile
import threading
import traceback
import warnings
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "handbook"
POLICIES = ROOT / "policies"
CRASH_DIR = ROOT / "tests" / "data" / "fuzz_crashes"


# -- what a crash is -----------------------------------------------------------------------

class Hang(Exception):
    """An example ran past the target's wall-clock limit."""


class Broken(AssertionError):
    """A property broken without an exception of the product's own: a 500 without a
    traceback, a tampered export that verifies, a sandbox that disagrees with extract."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise Hang in the main thread when the block runs past `seconds` (no-op elsewhere)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):  # noqa: ANN001
        raise Hang(f"still running after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    # again every second: a raise that lands in a gc callback is swallowed ("Exception ignored")
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _vm_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize")


@contextlib.contextmanager
def memory_limit(extra_mb: int):
    """Let the block grow the address space by `extra_mb` at most: past it, MemoryError (a
    crash like any other) instead of the machine's OOM killer. A C loop such as
    set(range(10**12)) never reaches an alarm; it does reach this."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        cap = _vm_bytes() + extra_mb * 2**20
    except OSError:
        yield
        return
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def guarded(seconds: float, extra_mb: int = 2048):
    """time_limit and memory_limit together: what every example runs under."""
    with memory_limit(extra_mb), time_limit(seconds):
        yield


def _short(frame: traceback.FrameSummary, line: bool = True) -> str:
    path = Path(frame.filename)
    parts = path.parts
    if "site-packages" in parts:
        name = "/".join(parts[parts.index("site-packages") + 1:])
    elif path.is_relative_to(ROOT):
        name = path.relative_to(ROOT).as_posix()
    else:
        name = path.name  # the standard library
    return f"{name}:{frame.lineno if line else frame.name}"


def where(exc: BaseException, line: bool = True) -> tuple[str, str]:
    """(innermost appliance/ frame, innermost frame) of the exception's traceback, as
    file:line, or file:function with line=False."""
    frames = traceback.extract_tb(exc.__traceback__)
    product = [f for f in frames if "/appliance/" in f.filename.replace("\\", "/")
               and "/site-packages/" not in f.filename]
    site = _short(product[-1], line) if product else "-"
    inner = _short(frames[-1], line) if frames else "-"
    return site, inner


def signature(exc: BaseException) -> str:
    """What makes two crashes the same bug: the type, the product function it went through,
    and (except for hangs and recursion, whose innermost frame varies) the function that
    raised. Functions, not lines: a signature survives edits elsewhere in the file."""
    if isinstance(exc, Broken):
        return f"Broken: {str(exc).split(':')[0]}"
    site, inner = where(exc, line=False)
    if isinstance(exc, (Hang, RecursionError, MemoryError)):
        return f"{type(exc).__name__} via {site}"
    return f"{type(exc).__name__} via {site} at {inner}"


def describe(exc: BaseException) -> dict:
    site, inner = where(exc)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    lines = text.splitlines()
    if len(lines) > 60:  # a recursion's traceback: its head and its tail
        lines = lines[:25] + ["  ..."] + lines[-30:]
    return {"error": f"{type(exc).__name__}: {str(exc)[:300]}", "appliance_frame": site,
            "raised_at": inner, "traceback": lines}


QUIET = ("pypdf", "bs4", "appliance", "werkzeug", "flask", "sqlalchemy", "alembic")


def quiet() -> dict[str, int]:
    """Parsers warn and log about every broken file; a fuzzer makes millions. Returns the
    loggers' levels before, for restore() (a test session goes on after the fuzz tests)."""
    warnings.simplefilter("ignore")
    before = {name: logging.getLogger(name).level for name in QUIET}
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return before


def restore(levels: dict[str, int]) -> None:
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def pack(data: bytes) -> dict:
    """Bytes for a crash file: base64, or zlib + base64 when long (a 100,000-deep "[[[..."
    is 200 KB raw and 300 bytes packed)."""
    if len(data) <= 2048:
        return {"base64": base64.b64encode(data).decode()}
    return {"zlib_base64": base64.b64encode(zlib.compress(data, 9)).decode(), "size": len(data)}


def unpack(packed: dict) -> bytes:
    if "zlib_base64" in packed:
        return zlib.decompress(base64.b64decode(packed["zlib_base64"]))
    return base64.b64decode(packed["base64"])


def is_packed(value: Any) -> bool:
    return isinstance(value, dict) and ("base64" in value or "zlib_base64" in value) and \
        set(value) <= {"base64", "zlib_base64", "size"}


# -- byte-level mutation, shared by every target -----------------------------------------

OPS = ("flip", "set", "insert", "delete", "duplicate", "truncate", "token", "swap")


def mutation(tokens: tuple[bytes, ...] = ()) -> st.SearchStrategy:
    """One mutation: (op, position seed, length seed, payload)."""
    payload = st.binary(max_size=24)
    if tokens:
        payload = st.one_of(st.sampled_from(tokens), payload)
    return st.tuples(st.sampled_from(OPS), st.integers(0, 2**31), st.integers(0, 2**31),
                     payload)


def mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for op, pos, length, payload in ops:
        n = len(buf)
        at = pos % (n + 1)
        span = 1 + length % max(1, min(64, n - at)) if n > at else 0
        if op == "flip" and n:
            i = pos % n
            buf[i] ^= 1 << (length % 8)
        elif op == "set" and n:
            i = pos % n
            buf[i] = length % 256
        elif op in ("insert", "token"):
            buf[at:at] = payload
        elif op == "delete":
            del buf[at:at + span]
        elif op == "duplicate":
            buf[at:at] = buf[at:at + span] * (1 + length % 3)
        elif op == "truncate":
            del buf[at:]
        elif op == "swap" and n > 1:
            i, j = pos % n, length % n
            buf[i], buf[j] = buf[j], buf[i]
    return bytes(buf)


# =========================================================================================
# extraction
# =========================================================================================

FORMATS = (".txt", ".md", ".html", ".pdf", ".docx")
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
TOKENS = {
    ".pdf": tuple(t.encode() for t in (
        " obj ", "endobj", "stream\n", "\nendstream", "<<", ">>", "[", "]", " 0 R", " 3 0 R",
        " 1 0 R", "/Length 999999", "/Length -1", "/Filter /FlateDecode", "/Filter /LZWDecode",
        "/DecodeParms << /Predictor 15 /Columns 0 >>", "/Kids [1 0 R]", "/Count 99999999",
        "/Type /Page", "/Type /Pages", "/Parent 4 0 R", "xref", "trailer", "startxref",
        "/Encrypt 1 0 R", "/Prev 0", "99999999999999999999", "-2147483649", "/ToUnicode",
        "/Differences [0 /a 255 /b -1 /c]", "BT", "ET", "Tj", "TJ", "Tf", "Tm", "cm", "'",
        "\"", "(", ")", "\\", "<", ">", "<FEFF>", "%%EOF", "/W [0 [1 2] 3 4 5]",
        "/FirstChar -5", "/LastChar 999999", "/Rotate 45", "/MediaBox [0 0 0 0]", "BI ID EI",
        "begincmap", "beginbfrange", "<0000> <FFFF> <0000>", "endbfrange", "beginbfchar",
        "/Type0", "/Identity-H", "/DescendantFonts [5 0 R]", "/Resources 2 0 R", "Do")),
    ".docx": tuple(t.encode() for t in (
        "<w:p>", "</w:p>", "<w:r>", "</w:r>", "<w:t>", "</w:t>", "<w:tbl>", "</w:tbl>",
        "<w:tr>", "</w:tr>", "<w:tc>", "</w:tc>", "<w:br/>", "<w:tab/>", "<w:vMerge/>",
        '<w:gridSpan w:val="-1"/>', '<w:gridBefore w:val="99999999999999999999"/>',
        '<w:pStyle w:val="Heading1"/>', '<w:outlineLvl w:val="8"/>', "<!DOCTYPE x>",
        "&amp;", "&#0;", "&#xFFFF;", "&#x1F600;", "&bogus;", "]]>", "<![CDATA[",
        '<?xml version="1.0" encoding="UTF-16"?>', "<mc:Fallback>", "</mc:Fallback>",
        "xmlns:w=\"x\"", "\x00", "\ufeff")),
    ".html": tuple(t.encode() for t in (
        "<h1>", "</h1>", "<h7>", "<p>", "</p>", "<li>", "<table>", "<tr>", "<td>", "</tr>",
        "<pre>", "<script>", "</script>", "<style>", "<template>", "<nav>", "<!--", "-->",
        "&nbsp;", "&#0;", "&#x110000;", "&amp", "<![CDATA[", "<body>", "</body>", "<dd>",
        "<dt>", "<blockquote>", "<svg><p>", "<math>", "<", ">", "\"", "\x00")),
    ".md": tuple(t.encode() for t in (
        "# ", "###### ", "####### ", "\n\n", "\r", "\r\n", "\x00", "\ufeff", "\u2028",
        "```", "| a | b |", "\t", " #", "\xff\xfe")),
}
TOKENS[".txt"] = TOKENS[".md"]


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


def _unzip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(i.filename, archive.read(i)) for i in archive.infolist()]


def pdf_bytes(objects: list[bytes], root: bytes = b"1 0 R", xref: str = "good",
              trailer: bytes = b"", header: bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") -> bytes:
    """A PDF of `objects` (numbered from 1): an xref that is right, shifted, or missing."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    if xref != "none":
        shift = 7 if xref == "shifted" else 0
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % (o + shift) for o in offsets)
    out += b"trailer\n<< /Size %d /Root %s %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, trailer, start if xref != "bad-start" else start * 3 + 11)
    return bytes(out)


def _stream(content: bytes, compress: bool = True, extra: bytes = b"") -> bytes:
    data = zlib.compress(content) if compress else content
    flt = b"/Filter /FlateDecode " if compress else b""
    return b"<< /Length %d %s%s>>\nstream\n%s\nendstream" % (len(data), flt, extra, data)


def small_pdf(lines: list[str]) -> bytes:
    text = "\n".join("(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") +
                     ") Tj T*" for ln in lines)
    return pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R"
        b" >> >> /Contents 5 0 R >>",
        _stream(f"BT /F1 10 Tf 12 TL 50 800 Td\n{text}\nET".encode("latin-1"))])


def small_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Leave Policy", 1)
    document.add_paragraph("Staff get 27 days of annual leave.\tTabbed.")
    document.add_heading("Carry Over", 2)
    table = document.add_table(rows=2, cols=3)
    for r in range(2):
        for c in range(3):
            table.cell(r, c).text = f"cell {r}{c}"
    table.cell(0, 0).merge(table.cell(1, 0))
    document.add_paragraph("Up to five days carry over.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def reportlab_pdf() -> bytes | None:
    try:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from reportlab.pdfgen import canvas
    except ImportError:
        return None
    with contextlib.suppress(Exception):
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    for font in ("Vera", "Helvetica"):
        text = pdf.beginText(50, 800)
        text.setFont(font, 10)
        for line in ("Incident Response", "Report incidents within one hour.", "Caf\xe9 \u20ac"):
            text.textLine(line)
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


@lru_cache(maxsize=1)
def seeds() -> tuple[tuple[str, bytes], ...]:
    """Valid files to mutate: the sample handbook and small generated ones of each format."""
    out = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.iterdir())]
    out += [("small.pdf", small_pdf(["Annual Leave", "Staff get 27 days of leave.",
                                     "", "Carry Over", "Five days (at most) carry over."])),
            ("small.docx", small_docx()),
            ("small.html", b"<html><body><h1>Policy</h1><p>Use <b>SecureLink</b>.</p><ul><li>"
                           b"one</li></ul><table><tr><th>a</th><td>b</td></tr></table>"
                           b"<script>x()</script></body></html>"),
            ("small.md", "# Title\n\nText \u00e9.\n\n## Sub ##\n\nMore\ntext.\n".encode()),
            ("small.txt", b"First paragraph.\n\nSecond\nparagraph.\n")]
    rl = reportlab_pdf()
    if rl:
        out.append(("reportlab.pdf", rl))
    return tuple(out)


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()


@st.composite
def mutated_seed(draw) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(seeds()))
    suffix = _suffix(name)
    ops = draw(st.lists(mutation(TOKENS[suffix]), min_size=1, max_size=8))
    if suffix == ".docx" and draw(st.booleans()):  # mutate the XML inside, keep the zip sound
        members = _unzip(data)
        targets = [i for i, (m, _) in enumerate(members)
                   if m in ("word/document.xml", "word/styles.xml")]
        i = draw(st.sampled_from(targets))
        members[i] = (members[i][0], mutate(members[i][1], ops))
        return name, _zip(members)
    return name, mutate(data, ops)


@st.composite
def random_file(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from(FORMATS))
    prefix = draw(st.sampled_from([b"", b"%PDF-1.7\n", b"PK\x03\x04", b"<html>", b"\xef\xbb\xbf",
                                   b"# "]))
    return "random" + suffix, prefix + draw(st.binary(max_size=2048))


# -- .docx built from random WordprocessingML --------------------------------------------

ATTR_VALUES = ("continue", "restart", "-1", "0", "1", "2", "8", "9", "10", "99999999999999999999",
               "\u0663", "Heading1", "heading 3", "Title", "textWrapping", "page", "column", "",
               "1.5", "\u00b2")
ODD_TAGS = ("w:del", "w:delText", "w:moveTo", "w:smartTag", "w:fldSimple", "w:customXml",
            "w:dir", "w:bdo", "w:body", "w:document", "w:tc", "w:tr", "w:p", "w:tbl", "x:y", "p")


def _esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


short_text = st.one_of(st.sampled_from(["Leave Policy", "Staff get 27 days.", "x", " ", "",
                                        "Caf\u00e9 \u20ac", "\u05e9\u05dc\u05d5\u05dd"]),
                       st.text(max_size=8))
xml_text = st.one_of(short_text.map(_esc), short_text.map(_esc), short_text.map(_esc),
                     st.sampled_from(["&#x1F600;", "&amp;", "<![CDATA[a<b]]>", "&#0;", "\x01",
                                      "]]>", "&unknown;"]))
attr_value = st.sampled_from(ATTR_VALUES).map(_esc)


@st.composite
def w_run(draw, depth: int) -> str:
    items = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 9))
        if kind <= 5:
            space = draw(st.sampled_from(["", ' xml:space="preserve"']))
            items.append(f"<w:t{space}>{draw(xml_text)}</w:t>")
        elif kind == 6:
            items.append(f'<w:br w:type="{draw(attr_value)}"/>' if draw(st.booleans())
                         else "<w:br/>")
        elif kind == 7:
            items.append(draw(st.sampled_from(["<w:tab/>", "<w:cr/>", "<w:ptab/>",
                                               "<w:noBreakHyphen/>", "<w:delText>d</w:delText>"])))
        elif kind == 8 and depth < 3:  # a text box: paragraphs inside a run
            items.append("<w:drawing><w:txbxContent>" + draw(w_paragraph(depth + 1)) +
                         "</w:txbxContent></w:drawing>")
        elif kind == 9:
            items.append(draw(odd_element))
    return "<w:r>" + "".join(items) + "</w:r>"


@st.composite
def w_paragraph(draw, depth: int = 0) -> str:
    props = ""
    if draw(st.booleans()):
        style = f'<w:pStyle w:val="{draw(attr_value)}"/>' if draw(st.booleans()) else ""
        level = f'<w:outlineLvl w:val="{draw(attr_value)}"/>' if draw(st.booleans()) else ""
        props = f"<w:pPr>{style}{level}</w:pPr>"
    inline = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 7))
        if kind <= 4:
            inline.append(draw(w_run(depth)))
        elif kind == 5 and depth < 3:
            wrap = draw(st.sampled_from(["w:hyperlink", "w:ins", "w:smartTag", "w:customXml",
                                         "w:dir", "w:fldSimple"]))
            inline.append(f"<{wrap}>{draw(w_run(depth + 1))}</{wrap}>")
        elif kind == 6 and depth < 3:
            inline.append(f"<w:sdt><w:sdtContent>{draw(w_run(depth + 1))}</w:sdtContent></w:sdt>")
        else:
            inline.append(draw(odd_element))
    return f"<w:p>{props}{''.join(inline)}</w:p>"


@st.composite
def w_table(draw, depth: int = 0) -> str:
    rows = []
    for _ in range(draw(st.integers(0, 3))):
        cells = []
        for _ in range(draw(st.integers(0, 3))):
            props = draw(st.sampled_from(["", "<w:tcPr><w:vMerge/></w:tcPr>",
                                          '<w:tcPr><w:vMerge w:val="{}"/></w:tcPr>',
                                          '<w:tcPr><w:gridSpan w:val="{}"/></w:tcPr>']))
            props = props.format(draw(attr_value)) if "{}" in props else props
            inner = draw(w_paragraph(depth + 1)) if depth >= 2 or draw(st.integers(0, 4)) else \
                draw(w_table(depth + 1))
            cells.append(f"<w:tc>{props}{inner}</w:tc>")
        before = draw(st.sampled_from(["", '<w:trPr><w:gridBefore w:val="{}"/></w:trPr>']))
        rows.append(f"<w:tr>{before.format(draw(attr_value)) if before else ''}"
                    f"{''.join(cells)}</w:tr>")
    return f"<w:tbl>{''.join(rows)}</w:tbl>"


odd_element = st.one_of(
    st.tuples(st.sampled_from(ODD_TAGS), xml_text).map(lambda t: f"<{t[0]}>{t[1]}</{t[0]}>"),
    st.sampled_from(["<w:p/>", "<w:t/>", "<w:r/>", "<mc:Fallback><w:p><w:r><w:t>old</w:t></w:r>"
                     "</w:p></mc:Fallback>", "<w:p><w:p>nested</w:p></w:p>", "<!-- c -->",
                     "<?pi x?>", "</w:p>", "<w:t>"]))  # the last two: unbalanced


@st.composite
def w_block(draw) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 6:
        return draw(w_paragraph())
    if kind == 7:
        return draw(w_table())
    if kind == 8:
        return ("<mc:AlternateContent><mc:Choice>" + draw(w_paragraph()) + "</mc:Choice>"
                "<mc:Fallback>" + draw(w_paragraph()) + "</mc:Fallback></mc:AlternateContent>")
    return draw(odd_element)


@st.composite
def styles_xml(draw) -> str:
    ids = ["Normal", "Heading1", "Title", "A", "B", ""]
    styles = []
    for _ in range(draw(st.integers(0, 5))):
        sid = draw(st.sampled_from(ids))
        parts = [f'<w:name w:val="{draw(st.sampled_from(ATTR_VALUES + ("heading 1", "title")))}"/>']
        if draw(st.booleans()):
            parts.append(f'<w:basedOn w:val="{draw(st.sampled_from(ids))}"/>')
        if draw(st.booleans()):
            parts.append(f'<w:pPr><w:outlineLvl w:val="{draw(attr_value)}"/></w:pPr>')
        kind = draw(st.sampled_from(["paragraph", "paragraph", "character", ""]))
        default = draw(st.sampled_from(["", "", ' w:default="1"', ' w:default="on"']))
        styles.append(f'<w:style w:type="{kind}" w:styleId="{_esc(sid)}"{default}>'
                      f'{"".join(parts)}</w:style>')
    return f'<w:styles xmlns:w="{W_NS}">{"".join(styles)}</w:styles>'


@st.composite
def docx_file(draw) -> tuple[str, bytes]:
    body = "".join(draw(st.lists(w_block(), min_size=1, max_size=5)))
    decl = draw(st.sampled_from(['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', "",
                                 '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
                                 '<?xml version="1.0" encoding="ISO-8859-1"?>',
                                 '<?xml version="1.0" encoding="x"?>', '<?xml version="1.1"?>',
                                 ""]))
    document = (f'{decl}<w:document xmlns:w="{W_NS}" xmlns:mc="{MC_NS}"><w:body>{body}'
                f"</w:body></w:document>").encode("utf-8", "surrogatepass")
    members = [("word/document.xml", document)]
    if draw(st.booleans()):
        members.append(("word/styles.xml", draw(styles_xml()).encode("utf-8", "surrogatepass")))
    if draw(st.integers(0, 4)) == 4:  # rare branches on high values: hypothesis favours 0
        members.append((draw(st.sampled_from(["[Content_Types].xml", "word/document.xml",
                                              "word/styles.xml", "word/"])),
                        draw(st.binary(max_size=32))))
    if draw(st.booleans()):
        members.reverse()
    compression = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED,
                                        zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    data = _zip(members, compression)
    if draw(st.integers(0, 9)) == 9:  # an encrypted-flag bit or a damaged directory
        data = mutate(data, draw(st.lists(mutation((b"\x01\x00", b"PK\x01\x02", b"PK\x05\x06")),
                                          min_size=1, max_size=2)))
    return "generated.docx", data


# -- PDFs from random objects --------------------------------------------------------------

PDF_NAMES = tuple(f"/{n}" for n in (
    "Type", "Pages", "Page", "Kids", "Count", "Parent", "Contents", "Resources", "Font",
    "MediaBox", "CropBox", "Length", "Filter", "DecodeParms", "FlateDecode", "ASCIIHexDecode",
    "ASCII85Decode", "LZWDecode", "RunLengthDecode", "Subtype", "Type0", "Type1", "Type3",
    "TrueType", "BaseFont", "Encoding", "Differences", "ToUnicode", "DescendantFonts",
    "FontDescriptor", "Widths", "FirstChar", "LastChar", "W", "Root", "Size", "Prev", "Info",
    "XObject", "Form", "BBox", "Matrix", "Predictor", "Columns", "Rotate", "CharProcs",
    "FontMatrix", "Helvetica", "WinAnsiEncoding", "MacRomanEncoding", "Identity-H", "F1", "F2",
    "Im1", "a#20b", "#00", "CIDSystemInfo", "Ordering", "Registry", "UseCMap", "Annots",
    "StructTreeRoot", "MarkInfo", "ActualText"))


def _pdf_string(text: str) -> bytes:
    return b"(" + text.encode("latin-1", "replace") + b")"


pdf_scalar = st.one_of(
    st.sampled_from([b"null", b"true", b"false", b"0", b"1", b"-1", b"3.5", b"-0", b".5",
                     b"99999999999999999999", b"-2147483649", b"1e5", b"--1", b"+.", b"4294967296",
                     b"(unbalanced", b"(a\\)", b"(\\377\\376\\000)", b"<FEFF0041>", b"<4>",
                     b"<zz>", b"<>", b"()", b"(\\)", b"(Heading Text)"]),
    st.integers(-2**33, 2**33).map(lambda i: str(i).encode()),
    st.sampled_from(PDF_NAMES).map(str.encode),
    st.tuples(st.integers(0, 12), st.integers(0, 2)).map(lambda t: b"%d %d R" % t))
pdf_value = st.recursive(pdf_scalar, lambda kids: st.one_of(
    st.lists(kids, max_size=4).map(lambda xs: b"[" + b" ".join(xs) + b"]"),
    st.lists(st.tuples(st.sampled_from(PDF_NAMES).map(str.encode), kids), max_size=4).map(
        lambda kv: b"<< " + b" ".join(k + b" " + v for k, v in kv) + b" >>")), max_leaves=6)
TEXT_OPS = ("BT", "ET", "Tf", "Td", "TD", "Tm", "T*", "Tj", "TJ", "'", '"', "Tc", "Tw", "Tz",
            "TL", "Ts", "Tr", "cm", "q", "Q", "Do", "re", "f", "BMC", "BDC", "EMC", "gs", "d0",
            "d1", "BI /W 1 /H 1 ID \x00 EI")
TEXT_SHOW = st.one_of(
    st.sampled_from([b"(Staff get 27 days of leave.)", b"(Annual Leave)", b"(\\(x\\))",
                     b"(\\101\\102)",
                     b"<0041004200>", b"<FEFF00410042>", b"[(A) -120 (B) 9999999 (C)]", b"<>",
                     b"[]", b"(\xe9\xff)"]),
    st.binary(max_size=6).map(lambda b: b"<" + b.hex().encode() + b">"))


@st.composite
def content_stream(draw) -> bytes:
    ops = [b"BT /F1 12 Tf 72 700 Td " + draw(TEXT_SHOW) + b" Tj"] if draw(st.integers(0, 3)) < 3 \
        else []
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(TEXT_OPS))
        if op in ("Tj", "'", "TJ", '"'):
            operands = [draw(TEXT_SHOW)]
        elif op == "Tf":
            operands = [draw(st.sampled_from([b"/F1", b"/F2", b"/F9"])), draw(pdf_scalar)]
        elif op in ("Td", "TD", "Tm", "cm", "TL", "Tc", "Tz"):
            operands = [draw(st.sampled_from([b"0", b"-14", b"1e9", b"72", b"0.5", b"-0"]))
                        for _ in range({"Tm": 6, "cm": 6, "Td": 2, "TD": 2}.get(op, 1))]
        else:
            operands = [draw(pdf_scalar)] if draw(st.booleans()) else []
        ops.append(b" ".join(operands + [op.encode("latin-1")]))
    if ops and ops[0].startswith(b"BT") and draw(st.integers(0, 3)):
        ops.append(b"ET")
    return b"\n".join(ops)


HEX = st.sampled_from([b"<00>", b"<0041>", b"<FF>", b"<FFFF>", b"<0000>", b"<D800>", b"<1>",
                       b"<00410042>", b"<>", b"<FFFFFFFF>", b"<0020>"])


@st.composite
def tounicode(draw) -> bytes:
    lines = [b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
             b"1 begincodespacerange " + draw(HEX) + b" " + draw(HEX) + b" endcodespacerange"]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            n = draw(st.integers(0, 3))
            lines.append(b"%d beginbfchar " % n + b" ".join(
                draw(HEX) + b" " + draw(HEX) for _ in range(n)) + b" endbfchar")
        else:
            dst = draw(HEX) if draw(st.booleans()) else b"[" + b" ".join(
                draw(HEX) for _ in range(draw(st.integers(0, 3)))) + b"]"
            lines.append(b"1 beginbfrange " + draw(HEX) + b" " + draw(HEX) + b" " + dst +
                         b" endbfrange")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return b"\n".join(lines)


@st.composite
def pdf_font(draw) -> bytes:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    if kind == 1:
        diffs = b" ".join(draw(st.one_of(st.integers(-300, 300).map(lambda i: str(i).encode()),
                                         st.sampled_from(PDF_NAMES).map(str.encode)))
                          for _ in range(draw(st.integers(0, 5))))
        return (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences "
                b"[" + diffs + b"] >> >>")
    if kind == 2:
        return (b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding %s /DescendantFonts "
                b"[7 0 R] /ToUnicode 6 0 R >>" % draw(st.sampled_from(
                    [b"/Identity-H", b"/Identity-V", b"/UniGB-UCS2-H", b"/90ms-RKSJ-H", b"6 0 R",
                     b"/Nope"])))
    if kind == 3:
        return (b"<< /Type /Font /Subtype /TrueType /BaseFont /V /FirstChar %d /LastChar %d "
                b"/Widths %s /ToUnicode 6 0 R >>" % (draw(st.integers(-5, 300)),
                                                     draw(st.integers(-5, 300)), draw(pdf_value)))
    if kind == 4:
        return b"<< /Type /Font /Subtype /Type3 /FontMatrix %s /CharProcs %s /Encoding %s >>" % (
            draw(pdf_value), draw(pdf_value), draw(pdf_value))
    return draw(pdf_value)


@st.composite
def pdf_file(draw) -> tuple[str, bytes]:
    """Catalog 1, Pages 2, Font 3, Page 4, Contents 5, ToUnicode 6, CIDFont 7, extras; each
    slot a plausible object with fuzzed fields, now and then any PDF value at all."""
    def slot(make):
        return draw(pdf_value) if draw(st.integers(0, 9)) == 9 else make()

    objects = [
        slot(lambda: b"<< /Type /Catalog /Pages 2 0 R >>"),
        slot(lambda: draw(st.sampled_from([
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Pages /Kids [4 0 R 2 0 R] /Count 2 >>",
            b"<< /Type /Pages /Kids [4 0 R 4 0 R] /Count 99999999 >>",
            b"<< /Type /Pages /Kids 4 0 R /Count 1 >>",
            b"<< /Type /Pages /Kids [4 0 R 8 0 R] /Count -1 >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>"]))),
        slot(lambda: draw(pdf_font())),
        slot(lambda: b"<< /Type /Page /Parent 2 0 R /Resources %s /Contents %s%s >>" % (
            draw(st.sampled_from([b"<< /Font << /F1 3 0 R >> >>",
                                  b"<< /Font << /F1 3 0 R /F2 7 0 R >> >>",
                                  b"<< /Font 3 0 R >>", b"3 0 R", b"<< >>",
                                  b"<< /Font << /F1 3 0 R >> /XObject << /Im1 5 0 R >> >>"])),
            draw(st.sampled_from([b"5 0 R", b"5 0 R", b"[5 0 R 5 0 R]", b"[]", b"3 0 R",
                                  b"(x)", b"[5 0 R null]"])),
            draw(st.sampled_from([b"", b"", b" /MediaBox [0 0 595 842]", b" /Rotate 45",
                                  b" /Rotate -90", b" /MediaBox [0 0 0]", b" /Rotate 1e99",
                                  b" /UserUnit 0"])))),
        slot(lambda: _stream(draw(content_stream()), draw(st.booleans()), draw(st.sampled_from(
            [b"", b"", b"/DecodeParms << /Predictor 12 /Columns 4 >> ", b"/Length 3 0 R ",
             b"/Filter [/FlateDecode /ASCIIHexDecode] "])))),
        slot(lambda: _stream(draw(tounicode()), draw(st.booleans()))),
        slot(lambda: b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /CIDSystemInfo "
                     b"<< /Registry (A) /Ordering (I) /Supplement 0 >> /W %s /DW %s >>" % (
                         draw(st.sampled_from([b"[0 [500 600] 3 9 700]", b"[]", b"[0 [] ]",
                                               b"[1 0 500]", b"[-1 [1]]"])), draw(pdf_scalar))),
    ]
    for _ in range(draw(st.integers(0, 2))):
        objects.append(draw(st.one_of(pdf_value, st.tuples(
            st.sampled_from([b"/FlateDecode", b"/LZWDecode", b"/ASCII85Decode", b"/RunLengthDecode",
                             b"/ASCIIHexDecode", b"/DCTDecode", b"/CCITTFaxDecode", b"/JBIG2Decode",
                             b"[/FlateDecode /LZWDecode]"]),
            st.binary(max_size=32)).map(lambda t: b"<< /Length %d /Filter %s >>\nstream\n%s\n"
                                                  b"endstream" % (len(t[1]), t[0], t[1])))))
    xref = draw(st.sampled_from(["good", "good", "good", "shifted", "none", "bad-start"]))
    trailer = draw(st.sampled_from([b"", b"", b"", b"/Info 3 0 R", b"/Prev 0", b"/Prev 99999",
                                    b"/Encrypt 9 0 R"]))
    root = b"1 0 R" if draw(st.integers(0, 9)) < 9 else draw(st.sampled_from([b"2 0 R", b"0 0 R",
                                                                          b"(x)"]))
    return "generated.pdf", pdf_bytes(objects, root, xref, trailer)


# -- HTML and text ---------------------------------------------------------------------

HTML_TAGS = ("h1", "h2", "h3", "h6", "p", "li", "ul", "ol", "tr", "td", "th", "table", "pre",
             "blockquote", "dd", "dt", "dl", "div", "span", "b", "script", "style", "nav",
             "noscript", "template", "body", "html", "head", "title", "br", "svg", "math",
             "select", "option", "textarea", "iframe")


@st.composite
def html_element(draw, depth: int = 0) -> str:
    tag = draw(st.sampled_from(HTML_TAGS))
    inner = []
    if depth < 8:
        for _ in range(draw(st.integers(0, 4))):
            inner.append(draw(st.one_of(st.text(max_size=10), st.sampled_from(
                ["&nbsp;", "&#0;", "&#x110000;", "&amp", "<!-- c -->", "<![CDATA[x]]>", "</p>",
                 "<", "\x00", "&lt;"]), html_element(depth + 1))))
    close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", "", "</p>"]))
    attrs = draw(st.sampled_from(["", ' class="x"', " a=b c", ' x="', " /"]))
    return f"<{tag}{attrs}>{''.join(inner)}{close}"


@st.composite
def html_file(draw) -> tuple[str, bytes]:
    body = "".join(draw(st.lists(html_element(), max_size=5)))
    text = draw(st.sampled_from(["<!doctype html><html><body>{}</body></html>", "{}",
                                 "<html><head><title>t</title></head>{}"])).format(body)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    return "generated.html", text.encode(encoding, "replace")


@st.composite
def text_file(draw) -> tuple[str, bytes]:
    lines = draw(st.lists(st.one_of(
        st.text(max_size=30), st.sampled_from(["# H", "## Sub ##", "####### x", "#", "  ",
                                              "```", "\u2028", "\r", "#\tTab"])), max_size=12))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    data = "\n".join(lines).encode(encoding, "replace")
    return draw(st.sampled_from(["generated.md", "generated.txt"])), data


def extraction_examples() -> st.SearchStrategy:
    return st.one_of(random_file(), mutated_seed(), mutated_seed(), docx_file(), pdf_file(),
                     pdf_file(), html_file(), text_file())


class ExtractionTarget:
    """check + extract in this process; with `sandbox`, also in the sandbox child."""

    name = "extraction"
    timeout = 20.0
    memory_mb = 2048  # how far an example may grow the address space

    def __init__(self, sandbox: bool = False):
        self.sandbox = sandbox
        if sandbox:
            self.name = "extraction-sandbox"
            self.timeout = 60.0

    def setup(self) -> None:
        from appliance.knowledge.file_checks import Limits
        self.levels = quiet()
        seeds()
        self.limits = Limits()
        if self.sandbox:
            from appliance.knowledge.sandbox import sandbox_for
            self.child_limits = Limits(memory_mb=1024, cpu_seconds=10, wall_seconds=20)
            self.box = sandbox_for(self.child_limits)

    def close(self) -> None:
        if self.sandbox:
            self.box.close()
        restore(self.levels)

    def strategy(self) -> st.SearchStrategy:
        return extraction_examples()

    def in_process(self, name: str, data: bytes):
        """The blocks, or the IngestError (any other exception propagates: a crash)."""
        from appliance.errors import IngestError
        from appliance.knowledge.extraction import MIME_TYPES, extract
        from appliance.knowledge.file_checks import check

        try:
            check(name, MIME_TYPES[_suffix(name)], data, self.limits)
            blocks = extract(name, data, self.limits)
        except IngestError as exc:
            return exc
        from appliance.knowledge.blocks import Block
        if not isinstance(blocks, list) or not blocks or not all(
                isinstance(b, Block) and isinstance(b.text, str) and b.text.strip()
                for b in blocks):
            raise Broken(f"extract returned something other than non-empty Blocks: {blocks!r:.200}")
        return blocks

    def run(self, example: tuple[str, bytes]) -> None:
        name, data = example
        with guarded(self.timeout, self.memory_mb):
            here = self.in_process(name, data)
            if not self.sandbox:
                return
            from appliance.errors import IngestError
            try:
                there = self.box.extract(name, data)
            except IngestError as exc:
                there = exc
        if isinstance(here, list) and not isinstance(there, list):
            raise Broken(f"sandbox disagrees: extract gave {len(here)} blocks, the sandbox "
                         f"{type(there).__name__}: {there}")
        if isinstance(there, list) and there != here:
            raise Broken(f"sandbox disagrees: the sandbox gave blocks, extract {here!r:.200}")

    def record(self, example) -> tuple[dict, dict[str, bytes]]:
        name, data = example
        return ({"name": name, "size": len(data), "file": None},
                {_suffix(name): data})


# =========================================================================================
# policy
# =========================================================================================

TOP_KEYS = ("version", "name", "description", "languages", "paths", "phone_regions", "defaults",
            "entities", "allow_list", "deny_terms", "custom_recognizers")
ENTITY_TYPES = ("EMAIL", "PHONE", "PERSON", "CREDIT_CARD", "IBAN", "US_SSN", "DATE", "URL",
                "LOCATION", "EMPLOYEE_ID", "PROJECT", "email", "")
RULE_KEYS = ("action", "min_score", "paths", "tag", "keep_last", "char", "length", "format",
             "prefix")
ACTIONS = ("redact", "mask", "hash", "pseudonym", "drop", "allow", "encrypt", "")
POLICY_STRINGS = ("{type}", "{type.x}", "{type[9]}", "{0}", "{type!r}", "{type:>9}", "{", "}",
                  "[{type}]", "*", "", "xx", "(", "a{4294967296}", "(?P<x>", "\\d{3}", "(a*)*b",
                  "(?i)\\bx\\b", "US", "GB", "ZZ", "en", "de", "EN", "ingest", "prompt", "logs")
yaml_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
    st.sampled_from(POLICY_STRINGS + ACTIONS + ENTITY_TYPES), st.text(max_size=12),
    st.dates(), st.datetimes(), st.binary(max_size=8))
yaml_value = st.recursive(yaml_scalar, lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(TOP_KEYS + RULE_KEYS + ENTITY_TYPES),
                              st.text(max_size=6), st.integers(-3, 3), st.booleans()),
                    kids, max_size=4)), max_leaves=20)
YAML_TOKENS = tuple(t.encode() for t in (
    ":", ": ", "- ", "\n", "\n  ", "&a ", "*a", "!!binary ", "!!timestamp ", "!!int ", "!!float ",
    "!!python/object:os.system ", "!!set ", "!!omap ", "<<: ", "<<: *a", "? ", "{", "}", "[", "]",
    "|", ">", "'", '"', "#", "%YAML 1.1\n---\n", "%TAG ! tag:x,2000:\n---\n", "---\n", "...\n",
    "\t", "\x00", "\ufeff", "2001-13-45", "2001-02-29", "0x", "0o9", "1e400", ".nan", ".inf",
    "~", "{type.x}", "(", "a{99999999999}", "\\", "\\x", "\"\\u", "\xff", "@", "`", "%"))


def _policy_texts() -> list[bytes]:
    return [p.read_bytes() for p in sorted(POLICIES.glob("*.yaml"))]


def _yaml_dump(value: Any, flow: bool) -> bytes:
    import yaml

    try:
        text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True,
                              sort_keys=False)
    except yaml.YAMLError:  # a value the emitter cannot write: fall back to its repr
        text = repr(value)
    return text.encode("utf-8", "surrogatepass")


def _set_path(doc: Any, path: list, value: Any, how: str) -> Any:
    """Replace, delete or add at the end of `path` (indices are taken modulo lengths)."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value if how == "set" else doc
    if isinstance(doc, dict):
        keys = list(doc)
        key = keys[path[0] % len(keys)]
    else:
        key = path[0] % len(doc)
    if len(path) == 1 or not isinstance(doc[key], (dict, list)) or not doc[key]:
        if how == "delete":
            del doc[key]
        elif how == "add" and isinstance(doc, dict):
            doc[f"{key}_extra" if isinstance(key, str) else key] = value
        elif how == "add":
            doc.append(value)
        else:
            doc[key] = value
        return doc
    doc[key] = _set_path(doc[key], path[1:], value, how)
    return doc


REGEX_TOKENS = ("a", "\\d", "\\w", "[0-9]", "(", ")", "(?:", "(?P<n>", "(?i)", "(?=", "(?<=",
                "|", "*", "+", "?", "+?", "{2}", "{2,5}", "{4294967296}", "{99999999999999}",
                "[", "]", "\\", "\\b", "^", "$", "\\1", "(?P=n)", "\\p{L}", "\\N{DASH}")
regex_pattern = st.one_of(
    st.lists(st.sampled_from(REGEX_TOKENS), min_size=1, max_size=10).map("".join),
    st.sampled_from([10, 100, 500, 1200, 5000]).map(lambda n: "(" * n + "a" + ")" * n),
    st.sampled_from(["EMP-\\d{6}", "(a*)*b", "[A-Z]{3}-\\d+"]))
param_value = st.one_of(st.sampled_from(POLICY_STRINGS), st.integers(-100, 2**40),
                        st.text(max_size=6), st.sampled_from(["{type:>2000}", "{type:>99999999999}",
                                                              "{hash}{n}", "{type!s}", "{}"]))


@st.composite
def semantic_policy(draw) -> Any:
    """A policy of the right shape, with operator parameters, patterns and scores fuzzed."""
    entities = {}
    for etype in draw(st.lists(st.sampled_from(["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN",
                                                "IP_ADDRESS", "URL", "DATE", "EMPLOYEE_ID"]),
                               min_size=1, max_size=4, unique=True)):
        rule: dict = {"action": draw(st.sampled_from(["redact", "mask", "hash", "pseudonym",
                                                      "drop", "allow", "encrypt", 3, None]))}
        for _ in range(draw(st.integers(0, 2))):
            rule[draw(st.sampled_from(RULE_KEYS))] = draw(param_value)
        if draw(st.integers(0, 3)) == 3:
            rule["paths"] = draw(st.lists(st.sampled_from(["ingest", "prompt", "logs", "x", 1]),
                                          max_size=3))
        entities[etype] = rule if draw(st.integers(0, 4)) else rule["action"]
    doc: dict = {"version": 1, "name": "fuzz", "entities": entities}
    if "EMPLOYEE_ID" in entities or draw(st.booleans()):
        entities.setdefault("EMPLOYEE_ID", "redact")
        spec = {"name": "emp", "type": "EMPLOYEE_ID", "pattern": draw(regex_pattern)}
        if draw(st.booleans()):
            spec["score"] = draw(st.one_of(st.floats(), st.integers(-2, 2)))
        if draw(st.booleans()):
            spec["context"] = draw(st.lists(st.text(max_size=6), max_size=3))
        if draw(st.booleans()):
            spec["ignore_case"] = draw(st.sampled_from([True, "yes", 0]))
        doc["custom_recognizers"] = [spec]
    if draw(st.booleans()):
        doc["deny_terms"] = {"EMPLOYEE_ID": draw(st.lists(st.text(min_size=1, max_size=8),
                                                         max_size=3))}
    if draw(st.booleans()):
        doc["defaults"] = {"action": draw(st.sampled_from(["redact", "mask", [], {}])),
                           "min_score": draw(st.one_of(st.floats(), st.integers(-1, 2)))}
    for key in draw(st.lists(st.sampled_from(["languages", "phone_regions", "paths",
                                              "allow_list"]), max_size=2, unique=True)):
        doc[key] = draw(st.lists(st.sampled_from(POLICY_STRINGS), max_size=3))
    return doc


DEEP_YAML = st.sampled_from([100, 1000, 5000]).flatmap(lambda n: st.sampled_from([
    b"[" * n + b"]" * n, b"{a: " * n + b"1" + b"}" * n,
    b"".join(b"  " * i + b"- \n" for i in range(min(n, 400))),
    alias_bomb(7)]))


def alias_bomb(levels: int) -> bytes:
    """YAML whose aliases expand 9 ** levels-fold (a few hundred bytes)."""
    names = [b"l%d" % i for i in range(levels)]
    out = b"l0: &l0 [x, x, x, x, x, x, x, x, x]\n"
    for prev, name in zip(names, names[1:]):
        out += b"%s: &%s [%s]\n" % (name, name, b", ".join([b"*" + prev] * 9))
    return out


@st.composite
def policy_document(draw) -> bytes:
    import yaml

    kind = draw(st.sampled_from(["semantic", "structure", "structure", "text", "random", "soup",
                                 "semantic"]))
    if kind == "semantic":
        raw = _yaml_dump(draw(semantic_policy()), draw(st.booleans()))
        if draw(st.integers(0, 9)) == 9:
            raw += b"description: " + draw(DEEP_YAML) + b"\n"
        return raw
    shipped = draw(st.sampled_from(_policy_texts()))
    if kind == "structure":  # a shipped policy with values replaced, removed or added
        doc = yaml.safe_load(shipped)
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.lists(st.integers(0, 40), min_size=1, max_size=4))
            doc = _set_path(doc, path, draw(yaml_value),
                            draw(st.sampled_from(["set", "set", "delete", "add"])))
        return _yaml_dump(doc, draw(st.booleans()))
    if kind == "text":
        return mutate(shipped, draw(st.lists(mutation(YAML_TOKENS), min_size=1, max_size=6)))
    if kind == "random":
        doc = draw(st.one_of(yaml_value, st.dictionaries(
            st.sampled_from(TOP_KEYS), yaml_value, max_size=6)))
        return _yaml_dump(doc, draw(st.booleans()))
    if draw(st.integers(0, 9)) == 9:
        return draw(DEEP_YAML)
    return b"".join(draw(st.lists(st.one_of(st.sampled_from(YAML_TOKENS),
                                            st.sampled_from(TOP_KEYS).map(str.encode),
                                            st.text(max_size=6).map(str.encode)), max_size=30)))


SAMPLE_TEXT = ("Mail john.smith@example.org or call +1 415 555 0100; card 4111 1111 1111 1111, "
               "IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, on 2024-05-01 at "
               "https://intranet.example.org from 10.0.0.7. Project ZEBRA-4471.")


class PolicyTarget:
    name = "policy"
    timeout = 5.0  # a valid policy loads in milliseconds
    memory_mb = 2048  # how far an example may grow the address space

    def setup(self) -> None:
        self.levels = quiet()

    def close(self) -> None:
        restore(self.levels)

    def strategy(self) -> st.SearchStrategy:
        return policy_document()

    def run(self, raw: bytes) -> None:
        from appliance.errors import PolicyError
        from appliance.privacy import NER_TYPES, Redactor, parse_policy

        with guarded(self.timeout, self.memory_mb):
            try:
                policy = parse_policy(raw, "fuzz.yaml")
            except PolicyError:
                return
            structured = policy.without_types(NER_TYPES)
            redactor = Redactor(structured, b"k" * 32)
            for path in ("ingest", "prompt", "output", "logs"):
                redactor.redact(SAMPLE_TEXT, path)

    def record(self, raw: bytes) -> tuple[dict, dict[str, bytes]]:
        return {"size": len(raw)}, {".yaml": raw}


# =========================================================================================
# export
# =========================================================================================

EXPORT_FORMATS = ("jsonl", "csv", "ocsf", "cef", "syslog")
EXPORT_TOKENS = tuple(t.encode() for t in (
    "\n", '"', ",", "|", "\\", "=", "'", "{", "}", "[", "]", ":", "null", "true", "-1",
    '"seq":', '"details":', '"hash":', "99999999999999999999", "1e400", "NaN", "CEF:0|",
    " cs3=", " externalId=", "<134>1 ", "\\u0000", "\xff", "\r"))
MANIFEST_KEYS = ("manifest_version", "origin", "format", "created", "since", "until", "context",
                 "files", "count", "first_seq", "last_seq", "first_prev_hash", "last_hash",
                 "checkpoint", "key_id", "signature")
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10),
              st.sampled_from(["jsonl", "csv", "cef", "events.jsonl", "manifest.json", "..",
                               "", "0" * 64])),
    lambda kids: st.one_of(st.lists(kids, max_size=4),
                           st.dictionaries(st.text(max_size=8), kids, max_size=4)),
    max_leaves=12)


@st.composite
def record_line(draw) -> bytes:
    """A JSON Lines record with fields of the wrong type, missing, extra, or nested deep."""
    rec = {"seq": 1, "ts": "2024-05-01T09:30:00.000001Z", "type": "auth.login", "actor": "a",
           "source": None, "target": None, "outcome": "success", "request_id": None,
           "details": {}, "prev_hash": "0" * 64, "hash": "0" * 64}
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(list(rec) + ["extra"]))
        if draw(st.booleans()):
            rec[key] = draw(json_value)
        else:
            rec.pop(key, None)
    line = json.dumps(rec, ensure_ascii=draw(st.booleans()))
    depth = draw(st.sampled_from([0, 0, 0, 50, 5000]))
    if depth:
        line = line.replace('"details": {}', '"details": ' + "[" * depth + "]" * depth)
    return line.encode("utf-8", "surrogatepass")


@st.composite
def export_mutation(draw):
    kind = draw(st.sampled_from(["events_bytes", "events_bytes", "events_line", "manifest_bytes",
                                 "manifest_resigned", "fs"]))
    if kind in ("events_bytes", "manifest_bytes"):
        return (kind, draw(st.lists(mutation(EXPORT_TOKENS), min_size=1, max_size=4)))
    if kind == "events_line":
        how = draw(st.sampled_from(["replace", "insert", "delete", "duplicate", "swap"]))
        return (kind, how, draw(st.integers(0, 40)), draw(st.integers(0, 40)),
                draw(st.one_of(record_line(), st.binary(max_size=80))))
    if kind == "manifest_resigned":
        key = draw(st.sampled_from(MANIFEST_KEYS + ("files.0.name", "files.0.sha256",
                                                    "files.0.lines", "files", "context.host",
                                                    "extra")))
        return (kind, key, draw(st.sampled_from(["set", "set", "delete"])), draw(json_value))
    return (kind, draw(st.sampled_from(["events_dir", "manifest_dir", "extra_file",
                                        "hidden_file", "extra_dir", "delete_events",
                                        "delete_manifest", "events_dangling_link",
                                        "events_link_dev_null", "empty_events"])))


def export_examples() -> st.SearchStrategy:
    """(format, 1 to 3 mutations of its export)."""
    return st.tuples(st.sampled_from(EXPORT_FORMATS),
                     st.lists(export_mutation(), min_size=1, max_size=3))


def _apply_resigned(manifest: dict, key: str, how: str, value: Any) -> dict:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    parts = key.split(".")
    node = body
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return body
    last = parts[-1]
    if isinstance(node, dict):
        if how == "delete":
            node.pop(last, None)
        else:
            node[last] = value
    return body


class ExportTarget:
    """One real export per format, made once; each example mutates a fresh copy of one."""

    name = "export"
    timeout = 20.0
    memory_mb = 2048  # how far an example may grow the address space

    def setup(self) -> None:
        self.levels = quiet()
        from appliance.audit import (LOGIN_FAILURE, LOGIN_SUCCESS, TOKEN_CREATE, AuditLog,
                                     ensure_keys)
        from appliance.audit.keys import parse_keyring
        from appliance.settings import load_settings
        from appliance.store.db import Store

        self.tmp = Path(tempfile.mkdtemp(prefix="fuzz-export-"))
        settings = load_settings({"data_dir": str(self.tmp / "data")}, environ={})
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(settings.db_url)
        self.store.migrate()
        ensure_keys(settings)
        self.log = AuditLog(self.store, settings)
        self.log.record(LOGIN_SUCCESS, actor="alice", source="2001:db8::1", request_id="r|1")
        self.log.record(LOGIN_FAILURE, actor="=cmd|' /C calc'!A0", source="10.1.2.3",
                        outcome="failure", details={"reason": "bad password",
                                                    "note": "a=b \\ | ] \" \u00e9 \u2028"})
        self.log.record(TOKEN_CREATE, actor="admin", target="user:bob", details={"token_id": 9})
        self.log.record(LOGIN_SUCCESS, actor="bob", source="host.example")
        self.keyring = parse_keyring((settings.secrets_dir / "audit_keys.pub").read_text())
        self.signer = self.log.signer()
        self.base = {}
        for fmt in EXPORT_FORMATS:
            self.base[fmt] = self.tmp / f"export-{fmt}"
            self.log.export(fmt, self.base[fmt], actor="fuzz")
        self.originals = {fmt: {p.name: p.read_bytes() for p in folder.iterdir()}
                          for fmt, folder in self.base.items()}
        self.work = self.tmp / "work"

    def close(self) -> None:
        self.log.close()
        self.store.engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)
        restore(self.levels)

    def strategy(self) -> st.SearchStrategy:
        return export_examples()

    def _events(self, folder: Path) -> Path:
        return next(p for p in sorted(folder.iterdir()) if p.name.startswith("events."))

    def apply(self, folder: Path, mutations) -> bool:
        """Mutate the export in `folder`; True when a re-signed manifest is involved."""
        from appliance.audit.export import MANIFEST, canonical, render_manifest

        resigned = False
        events = self._events(folder)
        for m in mutations:
            kind = m[0]
            if kind == "events_bytes" and events.is_file():
                events.write_bytes(mutate(events.read_bytes(), m[1]))
            elif kind == "manifest_bytes" and (folder / MANIFEST).is_file():
                path = folder / MANIFEST
                path.write_bytes(mutate(path.read_bytes(), m[1]))
            elif kind == "events_line" and events.is_file():
                _, how, i, j, line = m
                lines = events.read_bytes().split(b"\n")
                n = max(1, len(lines) - 1)
                i, j = i % n, j % n
                if how == "replace":
                    lines[i] = line
                elif how == "insert":
                    lines.insert(i, line)
                elif how == "delete":
                    del lines[i]
                elif how == "duplicate":
                    lines.insert(j, lines[i])
                else:
                    lines[i], lines[j] = lines[j], lines[i]
                events.write_bytes(b"\n".join(lines))
            elif kind == "manifest_resigned" and (folder / MANIFEST).is_file():
                try:
                    manifest = json.loads((folder / MANIFEST).read_bytes())
                except ValueError:
                    continue
                if not isinstance(manifest, dict):
                    continue
                body = _apply_resigned(manifest, *m[1:])
                try:
                    signature = base64.b64encode(self.signer.sign(canonical(body))).decode()
                except ValueError:  # a value JSON cannot carry (canonical forbids NaN)
                    continue
                (folder / MANIFEST).write_text(render_manifest(dict(body, signature=signature)),
                                               encoding="utf-8")
                resigned = True
            elif kind == "fs":
                op = m[1]
                if op == "events_dir" and events.is_file():
                    events.unlink()
                    events.mkdir()
                elif op == "manifest_dir" and (folder / MANIFEST).is_file():
                    (folder / MANIFEST).unlink()
                    (folder / MANIFEST).mkdir()
                elif op == "extra_file":
                    (folder / "notes.txt").write_bytes(b"x\n")
                elif op == "hidden_file":
                    (folder / ".hidden").write_bytes(b"")
                elif op == "extra_dir":
                    (folder / "sub").mkdir(exist_ok=True)
                elif op == "delete_events" and events.is_file():
                    events.unlink()
                elif op == "delete_manifest" and (folder / MANIFEST).is_file():
                    (folder / MANIFEST).unlink()
                elif op in ("events_dangling_link", "events_link_dev_null") and events.is_file():
                    events.unlink()
                    events.symlink_to("/nonexistent/x" if op == "events_dangling_link"
                                      else "/dev/null")
                elif op == "empty_events" and events.is_file():
                    events.write_bytes(b"")
        return resigned

    def tampered(self, fmt: str, folder: Path) -> bool:
        """Does anything an outsider could change differ from what was signed? (The
        signature's own base64 spelling aside: it is not signed.)"""
        from appliance.audit.export import MANIFEST

        original = self.originals[fmt]
        names = {p.name for p in folder.iterdir()}
        if names != set(original):
            return True
        for name in names:
            path = folder / name
            if path.is_symlink() or not path.is_file():
                return True
            data = path.read_bytes()
            if name == MANIFEST:
                try:
                    now, then = json.loads(data), json.loads(original[name])
                except ValueError:
                    return True
                if not isinstance(now, dict):
                    return True
                now.pop("signature", None)
                then.pop("signature", None)
                if now != then:
                    return True
            elif data != original[name]:
                return True
        return False

    def run(self, example) -> None:
        from appliance.audit.export_check import ExportCheck, verify_export
        from appliance.errors import AuditError

        fmt, mutations = example
        if self.work.exists():
            shutil.rmtree(self.work)
        shutil.copytree(self.base[fmt], self.work, symlinks=True)
        resigned = self.apply(self.work, mutations)
        with guarded(self.timeout, self.memory_mb):
            try:
                check = verify_export(self.work, self.keyring)
            except AuditError:
                return
            if not isinstance(check, ExportCheck):
                raise Broken(f"verify_export returned {check!r:.100}")
            message = check.message()
            for problem in check.problems:
                str(problem)
        if check.ok and not resigned and self.tampered(fmt, self.work):
            raise Broken(f"tampered export verifies: {message}")

    def record(self, example) -> tuple[dict, dict[str, bytes]]:
        fmt, mutations = example

        def plain(v):
            if isinstance(v, bytes):
                return pack(v)
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            return v
        return {"format": fmt, "mutations": plain(mutations)}, {}

    @staticmethod
    def example(info: dict):
        """The example back from record()'s description."""
        def back(v):
            if is_packed(v):
                return unpack(v)
            if isinstance(v, list):
                return tuple(back(x) for x in v)
            return v
        return info["format"], [back(m) for m in info["mutations"]]


# =========================================================================================
# api
# =========================================================================================

def _structured_policy(path: Path) -> None:
    """default.yaml without the NER types (no spaCy model to load in a fuzzer)."""
    import yaml

    doc = yaml.safe_load((POLICIES / "default.yaml").read_text())
    for t in ("PERSON", "LOCATION", "ORGANIZATION"):
        doc["entities"].pop(t, None)
    doc["name"] = "fuzz"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


class FakeEmbedder:
    """Hashed bag of words, 384 dimensions: retrieval works, nothing heavy loads."""

    dim = 384
    model_hash = "fuzz-fake-embedder"
    path = "fake"
    WORD = re.compile(r"\w+|[^\w\s]")

    def _one(self, text: str):
        import numpy as np

        vec = np.zeros(self.dim, dtype=np.float32)
        for word in self.WORD.findall(text.lower()):
            vec[zlib.crc32(word.encode("utf-8", "surrogatepass")) % self.dim] += 1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed(self, texts):
        import numpy as np

        return np.stack([self._one(t) for t in texts]) if texts else \
            np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str):
        return self._one(text)

    def count_tokens(self, text: str) -> int:
        return len(self.WORD.findall(text))

    def tokenize_offsets(self, texts):
        return [[m.span() for m in self.WORD.finditer(t)] for t in texts]

    def warm_queries(self) -> bool:
        return False


class FakeGenerator:
    """Answers with the first source's text and cites it (as the web tests' fake does)."""

    n_ctx = 2048
    model_sha256 = "f" * 64
    adapter_sha256 = None
    model_path = "fake.gguf"

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def stream(self, prompt: str, max_tokens: int, stop):
        from appliance.answering.prompts import REFUSAL

        first = re.search(r"\[1\] \([^)]*\) (.*)", prompt.split("Sources:\n")[-1])
        text = f"{first.group(1)[:200]} [1]" if first else REFUSAL
        for word in text.split(" "):
            yield word + " "


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


API_KEYS = ("model", "messages", "stream", "stream_options", "appliance", "input",
            "encoding_format", "temperature", "max_tokens", "n", "user", "tools", "dimensions")
CHAT = {"model": "appliance", "messages": [{"role": "user", "content": "How many days of "
                                            "annual leave do staff get?"}]}
EMBED = {"model": "all-minilm-l6-v2", "input": ["annual leave", "VPN"]}
api_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**80, 2**80), st.floats(),
              st.text(max_size=20), st.sampled_from(
                  ["appliance", "all-minilm-l6-v2", "user", "system", "assistant", "developer",
                   "text", "float", "base64", "", "\x00", "\ud800", "x" * 9000])),
    lambda kids: st.one_of(st.lists(kids, max_size=5), st.dictionaries(
        st.one_of(st.sampled_from(API_KEYS + ("role", "content", "type", "text", "collections",
                                              "retrieval", "include_usage")), st.text(max_size=6)),
        kids, max_size=5)), max_leaves=20)


@st.composite
def api_request(draw) -> tuple[str, str, str | None, bytes]:
    """(method, path, content type, body)."""
    path = draw(st.sampled_from(["/v1/chat/completions", "/v1/chat/completions",
                                 "/v1/embeddings", "/v1/models", "/v1/models/appliance",
                                 "/v1/models/x"]))
    if path.startswith("/v1/models/") and draw(st.booleans()):
        path = "/v1/models/" + draw(st.text(min_size=1, max_size=12)).replace("?", "").replace(
            "#", "")
    method = "GET" if path.startswith("/v1/models") and draw(st.integers(0, 3)) else "POST"
    kind = draw(st.sampled_from(["field", "field", "field", "messages", "random", "raw", "deep"]))
    base = copy.deepcopy(EMBED if "embeddings" in path else CHAT)
    if kind == "field":  # a valid body with keys replaced, removed or added
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.sampled_from(API_KEYS))
            if draw(st.integers(0, 3)):
                base[key] = draw(api_json)
            else:
                base.pop(key, None)
        body = json.dumps(base, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    elif kind == "messages":
        messages = draw(st.lists(st.one_of(
            st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant",
                                                            "developer", "tool", 1, None]),
                                   "content": st.one_of(
                                       st.text(max_size=40), api_json,
                                       st.lists(st.fixed_dictionaries(
                                           {"type": st.sampled_from(["text", "image_url", 3]),
                                            "text": st.one_of(st.text(max_size=20), api_json)}),
                                           max_size=3))}),
            api_json), max_size=6))
        base["messages"] = messages
        if draw(st.booleans()):
            base["stream"] = draw(st.sampled_from([True, 1, "yes", False]))
        body = json.dumps(base).encode("utf-8", "surrogatepass")
    elif kind == "random":
        body = json.dumps(draw(api_json)).encode("utf-8", "surrogatepass")
    elif kind == "deep":
        depth = draw(st.sampled_from([100, 1000, 100_000]))
        body = draw(st.sampled_from([b"[" * depth + b"]" * depth,
                                     b'{"messages": ' + b"[" * depth + b"]" * depth + b"}",
                                     b'{"a":' * depth + b"1" + b"}" * depth]))
    else:
        body = draw(st.one_of(st.binary(max_size=200), st.sampled_from([
            b"", b"null", b"NaN", b'{"model": Infinity}', b"1" * 5000, b"1e999999",
            b'{"model": "appliance", "model": 1}', b"\xef\xbb\xbf{}", b"{\"a\": \"\\ud800\"}",
            "{}".encode("utf-16"), b'{"messages": [{"role": "user", "content": "\x00"}]}'])))
    ctype = draw(st.sampled_from(["application/json", "application/json", "application/json",
                                  "application/json; charset=utf-16", "text/plain", None,
                                  "multipart/form-data", "multipart/form-data; boundary=x",
                                  "application/x-www-form-urlencoded"]))
    return method, path, ctype, body


class ApiTarget:
    """The Flask app on a temp data dir, one API user with a token, a few documents."""

    name = "api"
    timeout = 30.0
    memory_mb = 2048  # how far an example may grow the address space

    def setup(self) -> None:
        self.levels = quiet()
        from appliance.accounts.login import Principal
        from appliance.app import create_app
        from appliance.services import build_services
        from appliance.settings import Settings, load_settings

        self.tmp = Path(tempfile.mkdtemp(prefix="fuzz-api-"))
        policy = self.tmp / "fuzz.yaml"
        _structured_policy(policy)
        overrides = {"data_dir": str(self.tmp / "data"), "pii_policy": str(policy),
                     "api_requests_per_minute": 0, "api_chat_per_minute": 0}
        fields = getattr(Settings, "__dataclass_fields__", {})
        overrides = {k: v for k, v in overrides.items() if not fields or k in fields}
        settings = load_settings(overrides, environ={})
        self.services = build_services(settings)
        self.services.__dict__["embedder"] = FakeEmbedder()
        self.services.__dict__["generator"] = FakeGenerator()
        access = self.services.accounts.access
        access.create_group(None, "staff")
        access.set_grant(None, "staff", "handbook", "read")
        info, _ = self.services.accounts.create_user(None, "carol", "user",
                                                     "correct horse battery staple", ("staff",))
        for path in sorted(SAMPLES.glob("*.md")) + sorted(SAMPLES.glob("*.html")):
            self.services.ingest.ingest_bytes(path.name, path.read_bytes(), "handbook")
        who = Principal(info.id, info.username, info.role, "cli")
        secret, _ = self.services.accounts.tokens.create(who, "fuzz")
        self.app = create_app(settings, self.services)
        self.client = self.app.test_client()
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.capture = _Capture()
        logging.getLogger("appliance").setLevel(logging.ERROR)  # unexpected errors: captured
        logging.getLogger("appliance").addHandler(self.capture)

    def close(self) -> None:
        logging.getLogger("appliance").removeHandler(self.capture)
        with contextlib.suppress(Exception):
            self.services.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        restore(self.levels)

    def strategy(self) -> st.SearchStrategy:
        return api_request()

    def run(self, example) -> None:
        method, path, ctype, body = example
        self.capture.errors.clear()
        headers = dict(self.headers)
        if ctype:
            headers["Content-Type"] = ctype
        with guarded(self.timeout, self.memory_mb):
            response = self.client.open(path, method=method, headers=headers, data=body)
            response.get_data()  # a streamed body runs now
        if response.status_code >= 500:
            if self.capture.errors:
                raise self.capture.errors[-1]
            raise Broken(f"HTTP {response.status_code} on {method} {path}: "
                         f"{response.get_data(as_text=True)[:200]}")
        if self.capture.errors:  # logged as unexpected though the client got < 500
            raise self.capture.errors[-1]

    def record(self, example) -> tuple[dict, dict[str, bytes]]:
        method, path, ctype, body = example
        return {"method": method, "path": path, "content_type": ctype, "body": pack(body),
                "body_text": body.decode("utf-8", "replace")[:300]}, {}

    @staticmethod
    def example(info: dict):
        body = unpack(info["body"]) if "body" in info else base64.b64decode(info["body_base64"])
        return info["method"], info["path"], info["content_type"], body


TARGETS = {"extraction": ExtractionTarget, "policy": PolicyTarget, "export": ExportTarget,
           "api": ApiTarget}
