"""Word (.docx) text in one streaming pass, in linear time and bounded memory.

lxml's iterparse reads word/document.xml through a byte counter: a decompression bomb is refused
at the cap, DTDs and entities are never loaded or expanded, nothing is fetched, and each
paragraph and table row leaves the tree once read. Blocks come in document order: body
paragraphs (content controls and text boxes included) under the headings in force, and table
rows as "cell | cell" (nested tables inside their cell); no headers, footers or deleted text."""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import IO

from lxml import etree

from ..errors import CorruptFileError, RejectedFileError
from .blocks import Block

DOCUMENT, STYLES = "word/document.xml", "word/styles.xml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
P, R, T, BR, TR, TC, TBL, VAL = (W + t for t in ("p", "r", "t", "br", "tr", "tc", "tbl", "val"))
RUN_TEXT = {W + "tab": "\t", W + "ptab": "\t", W + "cr": "\n", W + "noBreakHyphen": "-"}
# what may hold a paragraph's runs: links, tracked insertions, inline content controls, ...
INLINE = frozenset(W + t for t in ("hyperlink", "ins", "moveTo", "smartTag", "fldSimple", "sdt",
                                   "sdtContent", "customXml", "dir", "bdo"))
SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
PROLOG = 64 * 1024  # where a <!DOCTYPE> is refused; past it, SAFE still expands nothing
BROKEN = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError,
          ValueError, etree.LxmlError)
HEADING = re.compile(r"heading (\d)", re.IGNORECASE)
PSTYLE, OUTLINE, GRID_BEFORE, GRID_SPAN, VMERGE = (
    "/".join(W + n for n in path.split("/")) for path in
    ("pPr/pStyle", "pPr/outlineLvl", "trPr/gridBefore", "tcPr/gridSpan", "tcPr/vMerge"))


def read_docx(name: str, data: bytes, max_xml_bytes: int) -> list[Block]:
    """The blocks of a .docx file's body. CorruptFileError when it is not a readable Word
    document, RejectedFileError when its XML expands past max_xml_bytes or declares a DTD."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if DOCUMENT not in members:
                raise CorruptFileError(f"{name}: cannot read the Word document (no {DOCUMENT})")
            if any(members[m].flag_bits & 1 for m in (DOCUMENT, STYLES) if m in members):
                raise CorruptFileError(f"{name}: cannot read the Word document (encrypted)")
            levels: dict[str, int] = {}
            if STYLES in members:
                with archive.open(STYLES) as raw:
                    levels = _style_levels(_Capped(raw, f"{name}: {STYLES}", max_xml_bytes))
            with archive.open(DOCUMENT) as raw:
                return _Body(levels).read(_Capped(raw, f"{name}: {DOCUMENT}", max_xml_bytes))
    except BROKEN as exc:
        raise CorruptFileError(f"{name}: cannot read the Word document ({exc})") from exc


class _Capped:
    """A zip member read through a counter that refuses a bomb, and a DTD (OPC forbids them)."""

    def __init__(self, raw: IO[bytes], label: str, limit: int):
        self.raw, self.label, self.limit, self.count, self.head = raw, label, limit, 0, b""

    def read(self, size: int = -1) -> bytes:
        room = self.limit + 1 - self.count
        chunk = self.raw.read(min(size, room) if size >= 0 else room)
        self.count += len(chunk)
        if self.count > self.limit:
            raise RejectedFileError(f"{self.label} expands beyond the limit of "
                                    f"{self.limit // 2**20} MB")
        if len(self.head) < PROLOG:
            self.head += chunk[:PROLOG]
            if b"<!DOCTYPE" in self.head:
                raise RejectedFileError(f"{self.label} declares a DTD, which Word documents "
                                        "never do (entity expansion or fetching); refused")
        return chunk


class _Body:
    """Blocks from the end of each body paragraph and top-level table row."""

    def __init__(self, levels: dict[str, int]):
        self.levels, self.default = levels, levels.get("", 0)
        self.blocks: list[Block] = []
        self.path: list[str] = []
        self.section: str | None = None
        self.above: dict[int, str] = {}  # cell text by first grid column, for vertical merges

    def read(self, source: _Capped) -> list[Block]:
        for _, el in etree.iterparse(source, events=("end",), tag=(P, TR, TBL, FALLBACK), **SAFE):
            if el.tag == FALLBACK:
                el.clear()  # a copy of the mc:Choice next to it, for older readers
                continue
            if next(el.iterancestors(TC, FALLBACK), None) is not None:
                continue  # read with its table row, or dropped with its fallback
            if el.tag == P:
                self._paragraph(el)
            elif el.tag == TR:
                self._row(el)
            else:
                self.above = {}
            _drop(el)
        return self.blocks

    def _paragraph(self, p: etree._Element) -> None:
        text = _text(p).strip()
        if not text:
            return
        level = self.levels.get(_val(p, PSTYLE), self.default)
        if level:
            self.path[level - 1:] = [text]
            self.section = " > ".join(self.path)
        else:
            self.blocks.append(Block(text, None, self.section))

    def _row(self, tr: etree._Element) -> None:
        cells: list[str] = []
        column = _number(_val(tr, GRID_BEFORE), 0)
        for tc in (c for c in tr.iter(TC) if next(c.iterancestors(TC), None) is None):
            merge = tc.find(VMERGE)
            if merge is not None and merge.get(VAL, "continue") == "continue":
                text = self.above.get(column, "")  # the merged cell's text, as Word shows it
            else:
                text = "\n".join(_text(p) for p in tc.iter(P)).strip()
            self.above[column] = text
            column += _number(_val(tc, GRID_SPAN), 1)
            if text:
                cells.append(text)
        if cells:
            self.blocks.append(Block(" | ".join(cells), None, self.section))


def _text(parent: etree._Element, out: list[str] | None = None) -> str:
    """A paragraph's own text, by python-docx's rules (tab "\\t", line break "\\n")."""
    out = [] if out is None else out
    for child in parent:
        if child.tag == R:
            for item in child:  # a text box (in a drawing) is read as paragraphs of its own
                tag = item.tag
                if tag == T:
                    out.append(item.text or "")
                elif tag == BR and item.get(W + "type", "textWrapping") == "textWrapping":
                    out.append("\n")  # a page or column break is no text
                elif tag in RUN_TEXT:
                    out.append(RUN_TEXT[tag])
        elif child.tag in INLINE:
            _text(child, out)
    return "".join(out)


def _val(el: etree._Element, path: str) -> str:
    found = el.find(path)
    return found.get(VAL, "") if found is not None else ""


def _number(value: str, default: int) -> int:
    return int(value) if value.isdecimal() else default


def _drop(el: etree._Element) -> None:  # an element read, and what was read before it
    el.clear()
    parent = el.getparent()
    while el.getprevious() is not None:
        del parent[0]


def _style_levels(source: _Capped) -> dict[str, int]:
    """Heading level by paragraph style id, "" for the default style: 1 for Title, N for
    "heading N", else the outline level the style has or inherits; 0 for body text."""
    names: dict[str, str] = {}
    based: dict[str, str] = {}
    outline: dict[str, int] = {}
    for _, style in etree.iterparse(source, events=("end",), tag=W + "style", **SAFE):
        if style.get(W + "type") == "paragraph":
            sid = style.get(W + "styleId", "")
            names[sid], based[sid] = _val(style, W + "name"), _val(style, W + "basedOn")
            outline[sid] = _number(_val(style, OUTLINE), -1)  # -1: as the style it is based on
            if style.get(W + "default") in ("1", "true", "on"):
                names.setdefault("", names[sid])
                based.setdefault("", sid)
        _drop(style)
    return {sid: _name_level(name) or _outline_level(sid, based, outline)
            for sid, name in names.items()}


def _name_level(name: str) -> int:
    match = HEADING.match(name)
    return 1 if name.lower() == "title" else int(match.group(1)) if match else 0


def _outline_level(sid: str, based: dict[str, str], outline: dict[str, int]) -> int:
    for _ in range(32):  # basedOn chains are short; a cycle must not hang
        level = outline.get(sid, -1)
        if level >= 0 or not based.get(sid):
            return level + 1 if 0 <= level < 9 else 0  # 9 is body text
        sid = based[sid]
    return 0
