"""Block: a paragraph of extracted text with the page and section it came from."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph of text with where it came from."""

    text: str
    page: int | None = None
    section: str | None = None
