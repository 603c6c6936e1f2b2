"""Training examples whose context is what serving shows: the appliance's own retriever's top-k
chunks over an ingested corpus, numbered and labelled by the same code as ChatService.

An answerable question is taught as answerable only when a retrieved chunk that fits the
context budget holds its answer; otherwise the honest reply to that context is the refusal.
"""
from __future__ import annotations

import random
import re
import sys
from typing import Any, Callable, Iterable, Sequence

from tqdm import tqdm

from ..answering import REFUSAL, Passage, build_prompt, passage_label
from .factual_questions import factual_items
from .grounded_data import Doc, QAItem, cite_first

CountTokens = Callable[[str], int]
MIN_ANSWER_RECALL = 0.6  # share of the answer's content words a chunk must hold


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3}


def answer_recall(answer: str, text: str) -> float:
    words = content_words(answer)
    return len(words & content_words(text)) / len(words) if words else 0.0


class ServingPrompts:
    """Builds the prompt ChatService would build for a question over the ingested corpus."""

    def __init__(self, app: Any, count_tokens: CountTokens, n_ctx: int, answer_tokens: int):
        self.app, self.count_tokens = app, count_tokens
        self.n_ctx, self.answer_tokens = n_ctx, answer_tokens

    def build(self, question: str, drop: Callable[[Any], bool] | None = None):
        hits = self.app.retriever.search(question).hits
        if drop is not None:
            hits = [h for h in hits if not drop(h)]
        passages = [Passage(passage_label(h), h.text) for h in hits]
        built = build_prompt(question, passages, self.count_tokens, self.n_ctx,
                             self.answer_tokens)
        return built, hits[:built.used]


def _doc_id(hit: Any) -> str:
    return hit.doc_name.rsplit(".", 1)[0]


def _pair(prompt: str, reply: str, source: str, ident: str, **extra: Any) -> dict:
    return {"prompt": prompt, "completion": " " + reply + "\n", "source": source, "id": ident,
            **extra}


def clapnq_retrieved(prompts: ServingPrompts, items: Iterable[QAItem],
                     max_answer_words: int = 110, progress: bool = False) -> list[dict]:
    """CLAPnq questions over retrieved chunks: "According to [n]: " and the answer of the chunk
    that holds it, or the refusal (unanswerable, or the retriever did not bring the answer)."""
    out = []
    for q in tqdm(list(items), desc="clapnq", disable=not progress, file=sys.stderr):
        built, hits = prompts.build(q.question)
        answer = q.answers[0] if q.answers else ""
        best = (0.0, 0)
        if q.answerable and answer and len(answer.split()) <= max_answer_words:
            best = max(((answer_recall(answer, h.text), n) for n, h in enumerate(hits, 1)
                        if _doc_id(h) in q.passage_ids), default=best)
        if best[0] >= MIN_ANSWER_RECALL:
            out.append(_pair(built.text, cite_first(answer, best[1]), "clapnq", q.id))
        else:
            kind = "clapnq-missed" if q.answerable else "clapnq-unanswerable"
            out.append(_pair(built.text, REFUSAL, kind, q.id))
    return out


def factual_retrieved(prompts: ServingPrompts, docs: Sequence[Doc], n_answer: int,
                      n_refuse: int, seed: int, per_kind: int = 0,
                      progress: bool = False) -> list[dict]:
    """Templated short questions over retrieved chunks: the span's sentence with [n] when a
    retrieved chunk holds it; refusals ask the same question with every chunk holding the
    answer removed from the results (the document is not in the corpus)."""
    rng = random.Random(seed)
    pool = [(d, item) for d in docs for item in factual_items(d.text)]
    rng.shuffle(pool)
    per_kind = per_kind or max(1, n_answer // 3)  # no single template dominates
    kinds: dict[str, int] = {}
    out: list[dict] = []
    answered = refused = 0
    bar = tqdm(total=n_answer + n_refuse, desc="factual", disable=not progress, file=sys.stderr)
    for doc, item in pool:
        if answered >= n_answer and refused >= n_refuse:
            break
        refuse = refused < n_refuse and (answered >= n_answer or rng.random() < 0.25)
        if not refuse and kinds.get(item.kind, 0) >= per_kind:
            continue
        needle = item.answer.lower()
        holds = lambda h: needle in h.text.lower()  # noqa: E731
        ident = f"{doc.id}:{item.question}"
        if refuse:
            built, hits = prompts.build(item.question, drop=holds)
            if not hits:
                continue
            out.append(_pair(built.text, REFUSAL, f"factual-{item.kind}-refused", ident,
                             answer=item.answer))
            refused += 1
        else:
            built, hits = prompts.build(item.question)
            number = next((n for n, h in enumerate(hits, 1)
                           if _doc_id(h) == doc.id and holds(h)), None)
            if number is None:
                continue
            out.append(_pair(built.text, cite_first(item.reply, number),
                             f"factual-{item.kind}", ident, answer=item.answer))
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
            answered += 1
        bar.update(1)
    bar.close()
    return out


def balance_refusals(examples: list[dict], share: float, seed: int) -> list[dict]:
    """Keep every answered example and enough refusals to make `share` of the set."""
    rng = random.Random(seed)
    answered = [e for e in examples if not e["completion"].strip().startswith(REFUSAL)]
    refusals = [e for e in examples if e["completion"].strip().startswith(REFUSAL)]
    keep = min(len(refusals), round(len(answered) * share / (1 - share)))
    rng.shuffle(refusals)
    out = answered + refusals[:keep]
    rng.shuffle(out)
    return out
