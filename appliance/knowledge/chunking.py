"""Chunking by the embedder's tokens, with overlap, never crossing a page or a section."""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from typing import Callable, Sequence

from .extraction import Block

# Maps a list of texts to token character offsets per text.
OffsetsFn = Callable[[Sequence[str]], list[list[tuple[int, int]]]]


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None
    section: str | None
    token_count: int


def chunk_blocks(blocks: Sequence[Block], offsets_fn: OffsetsFn, size: int,
                 overlap: int) -> list[Chunk]:
    """Pack paragraphs into chunks of at most `size` tokens; split long paragraphs in windows."""
    chunks: list[Chunk] = []
    for (page, section), group in groupby(blocks, key=lambda b: (b.page, b.section)):
        paras = [b.text for b in group]
        offsets = offsets_fn(paras)
        chunks.extend(_pack(paras, offsets, size, overlap, page, section))
    return chunks


def _pack(paras: list[str], offsets: list[list[tuple[int, int]]], size: int, overlap: int,
          page: int | None, section: str | None) -> list[Chunk]:
    out: list[Chunk] = []
    pieces: list[tuple[str, list[tuple[int, int]], bool]] = []  # text, offsets, continues
    for text, offs in zip(paras, offsets):
        if len(offs) <= size:
            pieces.append((text, offs, False))
        else:  # a window after the first already overlaps the one before it
            pieces.extend((t, o, k > 0) for k, (t, o) in
                          enumerate(_windows(text, offs, size, overlap)))
    current: list[str] = []
    count = 0
    last_offsets: list[tuple[int, int]] = []
    for text, offs, continues in pieces:
        n = len(offs)
        if current and count + n > size:
            out.append(Chunk("\n".join(current), page, section, count))
            tail = ("", 0) if continues else _tail(current[-1], last_offsets, overlap)
            current, count = ([tail[0]], tail[1]) if tail[1] and tail[1] + n <= size else ([], 0)
        current.append(text)
        count += n
        last_offsets = offs
    if current:
        out.append(Chunk("\n".join(current), page, section, count))
    return out


def _windows(text: str, offs: list[tuple[int, int]], size: int,
             overlap: int) -> list[tuple[str, list[tuple[int, int]]]]:
    """Token windows of at most `size`, cut at sentence ends where the window's second half
    has one (a quote of a chunk's last sentence is then a whole sentence: "... half pay for
    a further 26 weeks.", not "... a further 26"), else at word starts. The next window
    starts at a sentence start within the last 2 x `overlap` tokens when there is one, so
    its first sentence is whole too; else `overlap` tokens back, at a word start."""
    out = []
    start = 0
    while start < len(offs):
        end = min(start + size, len(offs))
        if end < len(offs):
            cut = next((e for e in range(end, start + size // 2, -1)
                        if _sentence_start(text, offs[e][0])), None)
            if cut is not None:
                end = cut
        # Move the cut back to the start of a word so no word is split.
        while end < len(offs) and end > start + 1 and not _word_start(text, offs[end][0]):
            end -= 1
        begin_char = offs[start][0]
        end_char = offs[end - 1][1]
        window = [(a - begin_char, b - begin_char) for a, b in offs[start:end]]
        out.append((text[begin_char:end_char], window))
        if end >= len(offs):
            break
        nxt = next((k for k in range(max(start + 1, end - 2 * overlap), end)
                    if _sentence_start(text, offs[k][0])), None) if overlap > 0 else None
        if nxt is None:
            nxt = max(start + 1, end - overlap)
            while nxt < end and not _word_start(text, offs[nxt][0]):
                nxt += 1
        start = nxt if nxt < end else end
    return out


def _sentence_start(text: str, pos: int) -> bool:
    """Does a sentence start at `pos`: after a full stop (or ! ?) and a space, on a capital,
    a digit or an opening quote?"""
    if pos <= 1 or pos >= len(text) or not text[pos - 1].isspace():
        return False
    if not (text[pos].isupper() or text[pos].isdigit() or text[pos] in "\"“'("):
        return False
    back = pos - 1
    while back > 0 and text[back].isspace():  # no slicing: this runs per token of a window
        back -= 1
    return text[back] in ".!?"


def _word_start(text: str, pos: int) -> bool:
    return pos == 0 or not text[pos - 1].isalnum()


def _tail(text: str, offs: list[tuple[int, int]], overlap: int) -> tuple[str, int]:
    """The last `overlap` tokens of a paragraph, starting at a sentence or word boundary."""
    if overlap <= 0 or not offs:
        return "", 0
    start = max(0, len(offs) - overlap)
    while start < len(offs) and not _word_start(text, offs[start][0]):
        start += 1
    if start >= len(offs):
        return "", 0
    piece = text[offs[start][0]:]
    # Prefer to start the carried-over text at a sentence start when one is near.
    match = re.search(r"(?<=[.!?])\s+", piece)
    if match and match.end() < len(piece) // 2:
        trimmed = piece[match.end():]
        kept = sum(1 for a, _ in offs if a >= offs[start][0] + match.end())
        return trimmed, kept
    return piece, len(offs) - start


def index_text(text: str, section: str | None) -> str:
    """What is embedded and keyword-indexed: the section heading gives a chunk its topic."""
    return f"{section}\n{text}" if section else text
