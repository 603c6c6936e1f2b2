"""The "grounded answers" training and evaluation data, in the appliance's own prompt format.

From CLAPnq: answerable questions (the source passage among distractors → the human answer with
the source's number) and unanswerable ones (passages that do not answer → the refusal). From
templated short factual questions (factual_questions.py) over CLAPnq and SciFact passages: the
short span with its citation, and the same question without its source → the refusal. Held-out
CLAPnq questions, and their passages, are kept out of every training example.
"""
from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..answering import REFUSAL, Passage, build_prompt
from .factual_questions import factual_items

CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answerable: bool
    answers: tuple[str, ...]
    passage_ids: tuple[str, ...]


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str

    @property
    def label(self) -> str:  # what passage_label() shows for an ingested "<id>.md" with a title
        return f"{self.id}.md, {self.title}" if self.title else f"{self.id}.md"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_corpus(path: Path, prefix: str = "") -> dict[str, Doc]:
    return {prefix + r["_id"]: Doc(prefix + r["_id"], (r.get("title") or "").strip(),
                                   " ".join((r.get("text") or "").split()))
            for r in read_jsonl(path)}


def load_clapnq(data_dir: Path) -> tuple[list[QAItem], dict[str, Doc]]:
    qa = [QAItem(str(r["id"]), r["question"].strip(), bool(r["answerable"]),
                 tuple(" ".join(a.split()) for a in r["answers"]),
                 tuple(r.get("gold_passage_ids") or r.get("context_passage_ids") or ()))
          for r in read_jsonl(Path(data_dir) / "qa.jsonl")]
    return qa, load_corpus(Path(data_dir) / "corpus.jsonl")


def split_heldout(items: Sequence[QAItem], per_class: int, seed: int = 0,
                  unanswerable: int | None = None) -> tuple[list[QAItem], list[QAItem]]:
    """(train, held out): `per_class` answerable and `per_class` (or `unanswerable`)
    unanswerable questions held out."""
    rng = random.Random(seed)
    held: list[QAItem] = []
    for answerable in (True, False):
        pool = [q for q in items if q.answerable == answerable]
        n = per_class if answerable or unanswerable is None else unanswerable
        held.extend(rng.sample(pool, min(n, len(pool))))
    ids = {q.id for q in held}
    return [q for q in items if q.id not in ids], held


class Distractors:
    """Passages that share rare words with a question: plausible sources that do not answer."""

    def __init__(self, docs: Iterable[Doc]):
        self.docs = list(docs)
        self.words = [set(_words(d.title + " " + d.text[:1500])) for d in self.docs]
        df = Counter(w for ws in self.words for w in ws)
        self.idf = {w: math.log(len(self.docs) / n) for w, n in df.items()}

    def pick(self, text: str, exclude: set[str], n: int, rng: random.Random,
             avoid: str = "") -> list[Doc]:
        q = set(_words(text))
        scored = sorted(((sum(self.idf.get(w, 0.0) for w in q & ws), i)
                         for i, ws in enumerate(self.words)), reverse=True)
        out: list[Doc] = []
        for _, i in scored[:n * 4]:
            doc = self.docs[i]
            if doc.id not in exclude and not (avoid and avoid.lower() in doc.text.lower()):
                out.append(doc)
        rng.shuffle(out)
        return out[:n]


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2]


def with_citation(answer: str, number: int) -> str:
    return f"{answer.strip().rstrip('.').rstrip()} [{number}]."


def cite_first(answer: str, number: int) -> str:
    """The adapter's answer format: the source first, then the answer copied from it.

    Every answer then starts with the same words, so the model's first token is a plain choice
    between answering ("According") and refusing ("I"). With the citation at the end, the
    answer's probability is spread over many different first words while the refusal's sits on
    one, and greedy decoding refuses whenever it is unsure."""
    return f"According to [{number}]: {answer.strip()}"


def example(question: str, docs: Sequence[Doc], source: str | None, reply: str | None,
            count_tokens: CountTokens, n_ctx: int) -> dict | None:
    """One prompt/completion pair; None when the source passage does not fit the budget."""
    passages = [Passage(d.label, d.text) for d in docs]
    completion = " " + (REFUSAL if reply is None else reply) + "\n"
    budget = count_tokens(completion) + 8
    built = build_prompt(question, passages, count_tokens, n_ctx, budget)
    if reply is None:
        return {"prompt": built.text, "completion": completion}
    number = next(i for i, d in enumerate(docs, start=1) if d.id == source)
    if number > built.used:
        return None
    return {"prompt": built.text, "completion": " " + with_citation(reply, number) + "\n"}


def clapnq_examples(items: Sequence[QAItem], corpus: dict[str, Doc], distractors: Distractors,
                    count_tokens: CountTokens, n_ctx: int, seed: int,
                    max_answer_words: int = 110) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for q in items:
        own = [corpus[p] for p in q.passage_ids if p in corpus][:1]
        others = distractors.pick(q.question, {p for p in q.passage_ids}, rng.randint(0, 2), rng)
        docs = own + others
        rng.shuffle(docs)
        if q.answerable:
            answer = q.answers[0] if q.answers else ""
            if not own or not answer or len(answer.split()) > max_answer_words:
                continue
            ex = example(q.question, docs, own[0].id, answer, count_tokens, n_ctx)
        else:
            ex = example(q.question, docs, None, None, count_tokens, n_ctx)
        if ex:
            out.append({**ex, "source": "clapnq", "id": q.id})
    return out


def factual_examples(docs: Sequence[Doc], distractors: Distractors, count_tokens: CountTokens,
                     n_ctx: int, n_answer: int, n_refuse: int, seed: int) -> list[dict]:
    """Templated short questions: answered from their sentence's passage, or refused without it."""
    rng = random.Random(seed)
    pool = [(d, item) for d in docs for item in factual_items(d.text)]
    rng.shuffle(pool)
    out: list[dict] = []
    answered = refused = 0
    for doc, item in pool:
        refuse = refused < n_refuse and (answered >= n_answer or rng.random() < 0.3)
        if answered >= n_answer and refused >= n_refuse:
            break
        others = distractors.pick(item.question, {doc.id}, rng.randint(1, 2) if refuse else
                                  rng.randint(0, 2), rng, avoid=item.answer)
        if refuse:
            ex = example(item.question, others, None, None, count_tokens, n_ctx)
        else:
            docs_ = [doc] + others
            rng.shuffle(docs_)
            ex = example(item.question, docs_, doc.id, item.reply, count_tokens, n_ctx)
        if ex:
            out.append({**ex, "source": f"factual-{item.kind}", "id": f"{doc.id}:{item.question}",
                        "answer": item.answer})
            refused += refuse
            answered += not refuse
    return out


def feedback_formatter(count_tokens: CountTokens, n_ctx: int, answer_tokens: int):
    """format_feedback for tune prepare: a reviewed correction as an appliance prompt."""
    def fmt(question: str, context: list[str], answer: str) -> tuple[str, str]:
        passages = [Passage(f"context {i}", text) for i, text in enumerate(context, start=1)]
        built = build_prompt(question, passages, count_tokens, n_ctx, answer_tokens)
        return built.text, " " + " ".join(answer.split()) + "\n"
    return fmt


def plain_text_examples(docs: Sequence[Doc], count: int, seed: int, lead_words: int = 30,
                        continuation_words: int = 110) -> list[dict]:
    """Plain language-modelling examples (a passage's opening → its next words), mixed into an
    adapter's data so that it keeps continuing ordinary text as the base model does (the
    perplexity regression check) while it learns the answer behaviour."""
    rng = random.Random(seed)
    pool = [d for d in docs if len(d.text.split()) >= lead_words + 40]
    rng.shuffle(pool)
    out = []
    for doc in pool[:count]:
        words = doc.text.split()
        lead = " ".join(words[:lead_words])
        rest = " ".join(words[lead_words:lead_words + continuation_words])
        out.append({"prompt": f"{doc.title}\n\n{lead}", "completion": f" {rest}\n",
                    "source": "plain-text", "id": doc.id})
    return out
