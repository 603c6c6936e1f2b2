"""Extraction speed per format, on generated documents of realistic shape, median of --runs.

    python benchmarks/extraction_speed.py [--paragraphs 20000] [--pages 200] [--runs 3]

Writes into a temp dir, from the same policy-style sentences (words drawn from
samples/handbook/it-security-policy.md, seeded): a .docx of --paragraphs body paragraphs (every
10th a Heading 2, every 40th a Heading 1) with a 4 x 3 table after every 100th, built with
python-docx; a text PDF of --pages A4 pages of 40 lines each, written by reportlab when it is
installed (Helvetica, and an embedded TrueType subset) and always by the small writer below
(one Flate-compressed Helvetica text stream a page, a correct xref), a row each; an HTML and a
Markdown file with the .docx's content.
Each file goes through appliance.knowledge.extraction.extract(name, data) in this process (the
parser alone, not the ingest sandbox around it); the table shows the median of --runs.

Targets (issue 20, "extraction itself is linear and fast"), on 2 cores:
    .docx >= 20,000 paragraphs/s;  PDF >= 20 pages/s.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import zlib
from pathlib import Path

from _table import ROOT, report

TARGETS = {"docx": 20_000, "pdf": 20}


def sentences(seed: int = 20):
    words = [w.strip(".,;:()*#`\"'") for w in
             (ROOT / "samples" / "handbook" / "it-security-policy.md").read_text().split()]
    words = [w for w in words if w.isalpha()]
    rng = random.Random(seed)

    def make(low: int, high: int) -> str:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(low, high)))
        return text[0].upper() + text[1:] + "."
    return make


def outline(paragraphs: int) -> list[tuple[str, object]]:
    """The document as (kind, content): heading1, heading2, para, table (rows of cells)."""
    make = sentences()
    items: list[tuple[str, object]] = []
    for i in range(paragraphs):
        if i % 40 == 0:
            items.append(("heading1", f"{i // 40 + 1}. {make(2, 4)[:-1]}"))
        elif i % 10 == 0:
            items.append(("heading2", make(2, 5)[:-1]))
        else:
            items.append(("para", make(20, 60)))
        if i % 100 == 99:
            items.append(("table", [[make(1, 4) for _ in range(3)] for _ in range(4)]))
    return items


def write_docx(items, path: Path) -> None:
    import docx

    document = docx.Document()
    for kind, content in items:
        if kind == "table":
            table = document.add_table(rows=4, cols=3)
            for r, row in enumerate(content):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
        elif kind == "para":
            document.add_paragraph(content)
        else:
            document.add_heading(content, 1 if kind == "heading1" else 2)
    document.save(path)


def write_html(items, path: Path) -> None:
    out = ["<!doctype html><html><head><title>Policy</title></head><body>"]
    for kind, content in items:
        if kind == "table":
            out.append("<table>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) +
                                           "</tr>" for row in content) + "</table>")
        else:
            tag = {"heading1": "h1", "heading2": "h2", "para": "p"}[kind]
            out.append(f"<{tag}>{content}</{tag}>")
    path.write_text("\n".join(out + ["</body></html>"]))


def write_markdown(items, path: Path) -> None:
    out = []
    for kind, content in items:
        if kind == "table":
            out.append("\n".join("| " + " | ".join(row) + " |" for row in content))
        else:
            out.append({"heading1": "# ", "heading2": "## ", "para": ""}[kind] + content)
    path.write_text("\n\n".join(out) + "\n")


def page_lines(pages: int) -> list[list[str]]:
    """40 lines a page: a heading line every 20, wrapped sentences between."""
    make = sentences(seed=21)
    out = []
    for _ in range(pages):
        lines: list[str] = []
        while len(lines) < 40:
            if len(lines) % 20 == 0:
                lines.append(make(2, 4)[:-1].title())
            text = make(20, 60)
            while text and len(lines) < 40:
                cut = text.rfind(" ", 0, 95) if len(text) > 95 else len(text)
                lines.append(text[:cut])
                text = text[cut:].strip()
        out.append(lines)
    return out


def write_pdf_minimal(pages: list[list[str]], path: Path) -> None:
    """A small valid PDF: catalog, page tree, one Helvetica font, a compressed stream a page."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
                " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages))).encode(), len(pages)),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    for i, lines in enumerate(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
                    b"<< /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i))
        escaped = (ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for ln in lines)
        ops = "BT /F1 10 Tf 12 TL 50 800 Td\n" + "\n".join(f"({t}) Tj T*" for t in escaped) + "\nET"
        stream = zlib.compress(ops.encode("latin-1"))
        objs.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
                    % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))


def write_pdf_reportlab(pages: list[list[str]], path: Path, truetype: bool) -> bool:
    """Helvetica, or an embedded TrueType subset (a ToUnicode map to read, as office exports)."""
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from reportlab.pdfgen import canvas
    except ImportError:
        return False
    if truetype:
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))  # shipped with reportlab
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        text = pdf.beginText(50, 800)
        text.setFont("Vera" if truetype else "Helvetica", 10)
        for line in lines:
            text.textLine(line)
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return True


def timed(path: Path, runs: int) -> tuple[float, int]:
    from appliance.knowledge.extraction import extract

    data = path.read_bytes()
    seconds, blocks = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        blocks = len(extract(path.name, data))
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=20_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        items = outline(args.paragraphs)
        lines = page_lines(args.pages)
        files = []  # (format, path, units, unit)
        for fmt, write in (("docx", write_docx), ("html", write_html), ("md", write_markdown)):
            write(items, folder / f"policy.{fmt}")
            files.append((fmt, folder / f"policy.{fmt}", args.paragraphs, "paragraphs"))
        for label, truetype in (("Helvetica", False), ("TrueType", True)):
            path = folder / f"reportlab-{label}.pdf"
            if write_pdf_reportlab(lines, path, truetype):
                files.append((f"pdf (reportlab, {label})", path, args.pages, "pages"))
        write_pdf_minimal(lines, folder / "minimal.pdf")
        files.append(("pdf (minimal writer)", folder / "minimal.pdf", args.pages, "pages"))

        rows = []
        for fmt, path, units, unit in files:
            seconds, blocks = timed(path, args.runs)
            mb = path.stat().st_size / 2**20
            rate = units / seconds
            target = TARGETS.get(fmt.split()[0])
            rows.append((fmt, round(mb, 2), f"{units} {unit}", blocks, round(seconds, 3),
                         f"{rate:,.0f} {unit}/s", round(mb / seconds, 2),
                         f">= {target:,} {'yes' if rate >= target else 'NO'}" if target else ""))
    report("extraction_speed", rows, ("format", "file MB", "size", "blocks", "seconds",
                                      "rate", "MB/s", "target met"),
           {"targets": TARGETS, "runs": args.runs})


if __name__ == "__main__":
    main()
