"""Copy-constrained decoding: the model's answer is a span of its sources, or the refusal.

A 270M model misreads its sources: it swaps a figure for one from the next passage, or invents
one. Constraining decoding removes the invention at its root. At each step only tokens that
continue a span of one of the shown passages are allowed (the answer so far must occur, token
for token, in a passage), plus the tokens that close the span: the citation's " [" or the end
of line. The model still chooses which span to copy and where to stop, which is what it is
good at; it cannot write a figure the passage does not hold. The one exception is the opening
of the refusal, after which decoding is free (the refusal's wording is fixed).

Token sequences are those of the generator's tokenizer, so a span always starts at a token
boundary of the passage (in practice a word: every passage is tokenized after a space, as it
follows "Answer:").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

Tokenize = Callable[[str], list[int]]


@dataclass
class CopyConstraint:
    """Which tokens may come next, given those generated so far."""

    sources: list[list[int]]   # each passage's token ids
    closers: frozenset[int]    # tokens that end a copied span (" [", newline)
    free_openers: frozenset[int]  # first tokens after which decoding is free (the refusal)

    @classmethod
    def build(cls, passages: Sequence[str], tokenize: Tokenize,
              closers: Sequence[str] = (" [", "\n"),
              free: Sequence[str] = (" I",)) -> "CopyConstraint":
        return cls([tokenize(" " + " ".join(p.split())) for p in passages],
                   frozenset(t for text in closers for t in tokenize(text)[:1]),
                   frozenset(t for text in free for t in tokenize(text)[:1]))

    def allowed(self, generated: Sequence[int]) -> set[int] | None:
        """The tokens allowed next; None when decoding is free."""
        if generated and (generated[0] in self.free_openers or
                          any(t in self.closers for t in generated)):
            return None  # the refusal, or the citation after a closed span
        span, n = list(generated), len(generated)
        if n == 0:
            return set(self.free_openers).union(*self.sources)
        follow: set[int] = set(self.closers)
        for source in self.sources:
            for start in range(len(source) - n):
                if source[start:start + n] == span:
                    follow.add(source[start + n])
        return follow

    def within(self, generated: Sequence[int]) -> list[int]:
        """The passages (0-based) holding the copied span, token for token."""
        span = list(generated)
        for i, t in enumerate(span):
            if t in self.closers:
                span = span[:i]
                break
        n = len(span)
        return [i for i, s in enumerate(self.sources)
                if n and any(s[j:j + n] == span for j in range(len(s) - n + 1))]
