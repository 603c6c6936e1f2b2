"""Text extraction from txt, md, html, pdf and docx into blocks that keep page and section, and
the files under a path that can be extracted."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Callable, Iterable

from ..errors import (CorruptFileError, EmptyFileError, IngestError, NotFoundError,
                      RejectedFileError, UnsupportedFileError)
from .blocks import Block
from .file_checks import Limits, check_pdf_pages

MIME_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def walk(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """Files under the given paths with their document names (relative inside a directory).

    Inside a directory, hidden files and types the appliance cannot read are passed over;
    a file named explicitly is always attempted (and gets a clear error if unsupported)."""
    out: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if file.suffix.lower() in MIME_TYPES:
                    out.append((file, printable(rel.as_posix())))
        elif path.is_file():
            out.append((path, printable(path.name)))
        else:
            raise NotFoundError(f"no such file or directory: {path}")
    return out


def printable(name: str) -> str:
    """A file's name as documents keep it: without control or direction-changing characters
    (U+202E makes "invoice\u202efdp.md" read as "invoicedm.pdf")."""
    return "".join(ch for ch in name if ch.isprintable()) or "unnamed"


def mime_type_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in MIME_TYPES:
        raise UnsupportedFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; "
            f"supported: {', '.join(sorted(MIME_TYPES))}")
    return MIME_TYPES[suffix]


def extract(name: str, data: bytes, limits: Limits | None = None) -> list[Block]:
    """Extract blocks from a file's bytes; raises a clear IngestError on bad input.

    This parses in the calling process: ingest goes through the sandbox (sandbox.py), which
    calls this in a child process under `limits`."""
    suffix = Path(name).suffix.lower()
    mime_type_for(Path(name))
    if not data.strip():
        raise EmptyFileError(f"{name}: the file is empty")
    try:
        blocks = _EXTRACTORS[MIME_TYPES[suffix]](name, data, limits or Limits())
    except (IngestError, MemoryError, RecursionError):
        raise  # the sandbox's child turns the last two into the limit they broke
    except Exception as exc:  # noqa: BLE001 - a parser's own failure is this file's error
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise CorruptFileError(f"{name}: cannot read the file ({reason})") from exc
    blocks = [b for b in blocks if b.text.strip()]
    if not blocks:
        raise EmptyFileError(f"{name}: no extractable text")
    return blocks


BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _decode(name: str, data: bytes) -> str:
    for bom, encoding in BOMS:  # UTF-16/32 text is full of NUL bytes, and is text
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise CorruptFileError(f"{name}: not valid {encoding} text ({exc.reason})") \
                    from None
    if b"\x00" in data[:4096]:
        raise CorruptFileError(f"{name}: binary content in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _paragraphs(text: str) -> list[str]:
    return [re.sub(r"[ \t]*\n[ \t]*", " ", p).strip() for p in re.split(r"\n\s*\n", text)]


def _text(name: str, data: bytes, limits: Limits) -> list[Block]:
    return [Block(p) for p in _paragraphs(_decode(name, data)) if p]


HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown(name: str, data: bytes, limits: Limits) -> list[Block]:
    blocks: list[Block] = []
    path: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        for p in _paragraphs("\n".join(buf)):
            if p:
                blocks.append(Block(p, None, " > ".join(path) or None))
        buf.clear()

    for line in _decode(name, data).splitlines():
        match = HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            path[:] = path[:level - 1] + [match.group(2)]
        else:
            buf.append(line)
    flush()
    return blocks


def _html(name: str, data: bytes, limits: Limits) -> list[Block]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(name, data), "html.parser")
    for tag in soup(["script", "style", "nav", "noscript", "template"]):
        tag.decompose()
    blocks: list[Block] = []
    path: list[str] = []
    body = soup.body or soup
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre",
                             "blockquote", "dd", "dt"]):
        if el.name[0] == "h" and el.name[1:].isdigit():
            level = int(el.name[1])
            path[:] = path[:level - 1] + [el.get_text(" ", strip=True)]
            continue
        if el.find_parent(["p", "li", "tr", "pre", "blockquote"]) is not None:
            continue  # already part of an enclosing block
        if el.name == "tr":
            text = " | ".join(c.get_text(" ", strip=True) for c in el.find_all(["td", "th"]))
        else:
            text = el.get_text(" ", strip=True)
        if text:
            blocks.append(Block(re.sub(r"\s+", " ", text), None, " > ".join(path) or None))
    if not blocks:
        blocks = [Block(p) for p in _paragraphs(body.get_text("\n\n")) if p]
    return blocks


def _pdf(name: str, data: bytes, limits: Limits) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    if not data.lstrip().startswith(b"%PDF"):
        raise CorruptFileError(f"{name}: not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise CorruptFileError(f"{name}: the PDF is encrypted")
        check_pdf_pages(name, len(reader.pages), limits)
        pages = [page.extract_text() or "" for page in reader.pages]
    except CorruptFileError:
        raise
    except LimitReachedError as exc:  # pypdf's own guards: decompression, array sizes
        raise RejectedFileError(f"{name}: the PDF breaks a safety limit ({exc})") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise CorruptFileError(f"{name}: cannot read the PDF ({exc})") from exc
    blocks: list[Block] = []
    section = None
    for number, text in enumerate(pages, start=1):
        for para in _pdf_paragraphs(text):
            if _looks_like_heading(para):
                section = para
                continue
            blocks.append(Block(para, number, section))
    return blocks


def _pdf_paragraphs(text: str) -> list[str]:
    """Split page text into paragraphs: blank lines, or a short line that ends a sentence."""
    paras: list[str] = []
    buf: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if buf:
                paras.append(" ".join(buf))
                buf = []
            continue
        if _looks_like_heading(line) and buf:
            paras.append(" ".join(buf))
            buf = []
        buf.append(line)
        if _looks_like_heading(line):
            paras.append(" ".join(buf))
            buf = []
    if buf:
        paras.append(" ".join(buf))
    return [p for p in paras if p]


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    return (0 < len(words) <= 8 and len(line) <= 70 and line[-1] not in ".,;:" and
            line[0].isupper() and sum(w[0].isupper() for w in words if w[0].isalpha()) >= len(words) / 2)


def _docx(name: str, data: bytes, limits: Limits) -> list[Block]:
    from .docx_reader import read_docx

    return read_docx(name, data, limits.max_unzipped_mb * 2**20)


_EXTRACTORS: dict[str, Callable[[str, bytes, Limits], list[Block]]] = {
    "text/plain": _text,
    "text/markdown": _markdown,
    "text/html": _html,
    "application/pdf": _pdf,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _docx,
}
