"""Format-level safety limits, checked before a parser sees a file.

A small file can be a large problem: a .docx whose XML expands 200-fold, a PDF that declares
a million pages or objects, HTML nested ten thousand deep. These checks read only a file's
structure (zip directory, PDF object markers, tag depth) in linear time and raise
RejectedFileError with the limit that was broken; the extraction sandbox's process limits
catch whatever gets past them.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

from ..errors import CorruptFileError, RejectedFileError

MB = 2**20
RATIO_FLOOR = 4 * MB  # entries smaller than this expand too little to matter, whatever the ratio


@dataclass(frozen=True)
class Limits:
    """What one file may cost to extract (the extract_* settings)."""

    memory_mb: int = 1024
    cpu_seconds: int = 60
    wall_seconds: int = 120
    max_text_mb: int = 64
    max_unzipped_mb: int = 256
    max_zip_entries: int = 10_000
    max_zip_ratio: int = 200
    max_pdf_pages: int = 5_000
    max_pdf_objects: int = 500_000
    max_html_depth: int = 512

    @classmethod
    def from_settings(cls, settings) -> "Limits":  # noqa: ANN001
        return cls(**{f: getattr(settings, f"extract_{f}") for f in cls.__dataclass_fields__})


def check(name: str, mime: str, data: bytes, limits: Limits) -> None:
    """Raise RejectedFileError when the file's structure breaks a limit."""
    if mime.endswith("wordprocessingml.document"):
        check_zip(name, data, limits)
    elif mime == "application/pdf":
        check_pdf_objects(name, data, limits)
    elif mime == "text/html":
        check_html_depth(name, data, limits)


def check_zip(name: str, data: bytes, limits: Limits) -> None:
    """Entry count, total declared expansion and per-entry compression ratio of a zip."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError) as exc:
        raise CorruptFileError(f"{name}: cannot read the Word document ({exc})") from exc
    if len(entries) > limits.max_zip_entries:
        raise RejectedFileError(f"{name}: the archive holds {len(entries)} entries, over the "
                                f"limit of {limits.max_zip_entries} (extract_max_zip_entries)")
    total = sum(e.file_size for e in entries)
    if total > limits.max_unzipped_mb * MB:
        raise RejectedFileError(f"{name}: the archive expands to {total // MB} MB, over the limit "
                                f"of {limits.max_unzipped_mb} MB (extract_max_unzipped_mb)")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR and ratio > limits.max_zip_ratio:
            raise RejectedFileError(
                f"{name}: {entry.filename} expands {ratio:.0f}-fold, over the limit of "
                f"{limits.max_zip_ratio} (extract_max_zip_ratio): a decompression bomb?")


PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")


def check_pdf_objects(name: str, data: bytes, limits: Limits) -> None:
    """The number of indirect objects written in the file (pages are checked once it is open)."""
    count = sum(1 for _ in PDF_OBJECT.finditer(data))
    if count > limits.max_pdf_objects:
        raise RejectedFileError(f"{name}: the PDF holds {count} objects, over the limit of "
                                f"{limits.max_pdf_objects} (extract_max_pdf_objects)")


def check_pdf_pages(name: str, pages: int, limits: Limits) -> None:
    if pages > limits.max_pdf_pages:
        raise RejectedFileError(f"{name}: the PDF has {pages} pages, over the limit of "
                                f"{limits.max_pdf_pages} (extract_max_pdf_pages)")


VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


class _Depth(HTMLParser):
    """Tracks how deep elements nest; stops at the limit."""

    def __init__(self, limit: int):
        super().__init__(convert_charrefs=False)
        self.limit, self.open, self.deepest = limit, [], 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag in VOID:
            return
        self.open.append(tag)
        self.deepest = max(self.deepest, len(self.open))
        if self.deepest > self.limit:
            raise _TooDeep

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in self.open:  # close it and whatever was left open inside it
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]


class _TooDeep(Exception):
    pass


def check_html_depth(name: str, data: bytes, limits: Limits) -> None:
    parser = _Depth(limits.max_html_depth)
    try:
        parser.feed(data.decode("utf-8", errors="replace"))
    except (AssertionError, ValueError):  # markup the scanner gives up on: the parser decides
        return
    except _TooDeep:
        raise RejectedFileError(f"{name}: elements nest deeper than {limits.max_html_depth} "
                                f"levels (extract_max_html_depth)") from None
