"""Extraction in a child process: a file that breaks a limit is that file's clear error, and
the next file is read as usual (the child is replaced; the caller's process is untouched)."""
from __future__ import annotations

import io
import os
import zipfile

import pytest

from appliance.errors import CorruptFileError, RejectedFileError
from appliance.knowledge.file_checks import Limits
from appliance.knowledge.sandbox import Sandbox

HANDBOOK = b"# Leave\n\nFull-time staff get 27 days of annual leave.\n"


@pytest.fixture
def sandbox():
    boxes: list[Sandbox] = []

    def make(**limits) -> Sandbox:
        boxes.append(Sandbox(Limits(**limits)))
        return boxes[-1]

    yield make
    for box in boxes:
        box.close()


def _still_reads(box: Sandbox) -> None:
    blocks = box.extract("leave.md", HANDBOOK)
    assert [(b.text, b.section) for b in blocks] == [
        ("Full-time staff get 27 days of annual leave.", "Leave")]


def _flat_html(mb: int) -> bytes:
    return b"<html><body>" + b"<p>a b</p>" * (mb * 100_000) + b"</body></html>"


def test_a_parser_that_runs_past_the_cpu_limit_is_stopped(sandbox):
    box = sandbox(cpu_seconds=1, wall_seconds=60)
    with pytest.raises(RejectedFileError, match=r"slow\.html: .*1 s of CPU time"):
        box.extract("slow.html", _flat_html(8))
    _still_reads(box)


def test_a_parser_that_runs_past_the_wall_clock_limit_is_stopped(sandbox):
    box = sandbox(cpu_seconds=60, wall_seconds=1)
    with pytest.raises(RejectedFileError, match=r"slow\.html: .*longer than 1 s"):
        box.extract("slow.html", _flat_html(8))
    _still_reads(box)


def test_memory_beyond_the_limit_rejects_the_file_not_the_caller(sandbox):
    box = sandbox(memory_mb=256)
    with pytest.raises(RejectedFileError, match=r"big\.txt: .*memory limit of 256 MB"):
        box.extract("big.txt", b"word word\n\n" * 15_000_000)  # 165 MB of tiny paragraphs
    _still_reads(box)


def test_structure_limits_are_checked_before_parsing(sandbox):
    box = sandbox(max_html_depth=50, max_zip_entries=20, max_pdf_objects=10)
    with pytest.raises(RejectedFileError, match="nest deeper than 50 levels"):
        box.extract("deep.html", b"<div>" * 60 + b"text")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(30):
            zf.writestr(f"word/part{i}.xml", "<x/>")
    with pytest.raises(RejectedFileError, match="30 entries, over the limit of 20"):
        box.extract("many.docx", archive.getvalue())
    pdf = b"%PDF-1.4\n" + b"".join(b"%d 0 obj\n<<>>\nendobj\n" % i for i in range(1, 20))
    with pytest.raises(RejectedFileError, match="19 objects, over the limit of 10"):
        box.extract("objects.pdf", pdf)
    _still_reads(box)


def test_a_decompression_bomb_is_refused_from_its_directory(sandbox):
    box = sandbox(max_unzipped_mb=64)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("word/document.xml", "w") as part:
            for _ in range(100):
                part.write(b"a" * 2**20)
    assert len(archive.getvalue()) < 1_000_000
    with pytest.raises(RejectedFileError, match=r"bomb\.docx: .*expands to 100 MB"):
        box.extract("bomb.docx", archive.getvalue())


def test_a_parser_crash_is_the_files_clear_error(sandbox):
    box = sandbox()
    with pytest.raises(CorruptFileError, match=r"^broken\.pdf: cannot read"):
        box.extract("broken.pdf", b"%PDF-1.7\n" + os.urandom(4000))
    _still_reads(box)
