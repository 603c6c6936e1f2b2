"""`appliance tune synthesize`: question/answer pairs grounded in a collection's own chunks,
each sent to the review queue; `tune prepare --reviewed` takes only the accepted or edited ones.

Answerable pairs: a templated question over one sentence of a chunk (factual_questions.py: a
year, a quantity, an agent, a definition) with the extractive answer `According to [1]: …`,
shown with the chunk first and the next passages the retriever brings for the question.
Unanswerable pairs (about a quarter): the same kind of question, shown only with near-miss
passages — what the retriever brings for it once the source document is left out — and the
refusal as the answer. Questions, answers and passages go through the policy's redactor.
"""
from __future__ import annotations

import random
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from tqdm import tqdm

from ..answering import REFUSAL
from ..errors import InvalidRequest
from ..store import ChunkTable, DocumentTable
from .factual_questions import factual_items

CHANNEL = "synth"
PLACEHOLDER = re.compile(r"\b[A-Z]+_\d+\b|<[A-Z_]+>")
# Sentence openings that point back to an earlier sentence: the question would not say what
# it is about.
REFERRING = frozenset({"it", "its", "this", "these", "those", "that", "they", "their", "them",
                       "he", "she", "his", "her", "each", "both", "such", "there", "here",
                       "however", "also", "then", "thus", "later", "after", "if", "where",
                       "many", "some", "most", "following"})
POINTING = frozenset({"it", "its", "they", "them", "their", "this", "these", "those", "he",
                      "she", "his", "her", "him"})  # anywhere in the sentence
UNANSWERABLE_SHARE = 0.25
PASSAGES = 3


@dataclass
class SynthesisReport:
    collection: str
    requested: int
    made: int
    answerable: int
    unanswerable: int
    chunks_read: int
    ids: list[int]


def _chunks(store: Any, collection: str) -> list[tuple[int, int, str, str]]:
    with store.session() as s:
        return [tuple(r) for r in s.execute(
            select(ChunkTable.id, DocumentTable.id, DocumentTable.name, ChunkTable.text)
            .join(DocumentTable, DocumentTable.id == ChunkTable.document_id)
            .where(DocumentTable.collection == collection).order_by(ChunkTable.id))]


def synthesize(app: Any, collection: str, n: int, seed: int = 0,
               progress: bool = False) -> SynthesisReport:
    if n < 1:
        raise InvalidRequest("--n must be a positive number")
    chunks = _chunks(app.store, collection)
    if not chunks:
        raise InvalidRequest(f"collection {collection!r} has no documents")
    rng = random.Random(seed)
    rng.shuffle(chunks)
    redact = app.redactor.redact
    made: list[int] = []
    seen = {e.question for e in app.answer_log.entries(last=None, channels=(CHANNEL,))}
    answerable = unanswerable = read = 0
    bar = tqdm(total=n, desc="synthesize", disable=not progress, file=sys.stderr)
    for chunk_id, doc_id, doc_name, text in chunks:
        if len(made) >= n:
            break
        read += 1
        items = [i for i in factual_items(text) if _plain(i.sentence)]
        if not items:
            continue
        item = rng.choice(items)
        question = redact(item.question, "prompt").text
        if PLACEHOLDER.search(question) or question in seen:
            continue  # a name the policy hides ("What is PERSON_1?"), or asked already
        seen.add(question)
        refuse = rng.random() < UNANSWERABLE_SHARE
        hits = app.retriever.search(question, k=PASSAGES + 4, collections={collection}).hits
        if refuse:
            shown = [h for h in hits if h.doc_id != doc_id][:PASSAGES]
            if not shown:
                continue
            answer, citations = REFUSAL, []
        else:
            own = {"chunk_id": chunk_id, "doc_name": doc_name, "text": text}
            shown = [own] + [h for h in hits if h.chunk_id != chunk_id][:PASSAGES - 1]
            answer = redact(f"According to [1]: {item.reply.rstrip('.')}.", "output").text
            citations = [{"n": 1, "chunk_id": chunk_id, "doc_name": doc_name}]
        passages = [p if isinstance(p, dict) else
                    {"chunk_id": p.chunk_id, "doc_name": p.doc_name, "text": p.text}
                    for p in shown]
        log_id = app.answer_log.record(_row(question, answer, passages, citations, collection,
                                            refuse, item.kind))
        if log_id is None:
            continue
        made.append(log_id)
        unanswerable += refuse
        answerable += not refuse
        bar.update()
    bar.close()
    return SynthesisReport(collection, n, len(made), answerable, unanswerable, read, made)


def _plain(sentence: str) -> bool:
    """A sentence a question can be made of: not a table row, no redaction placeholder or
    tokenizer quote marks, and not leaning on the sentences before it ("It was built in 1889",
    "The bridge was completed in 1971" ask about nothing a reader can name)."""
    words = [w.strip(",;:()") for w in sentence.split()]
    if len(words) < 2 or "|" in sentence or "``" in sentence or PLACEHOLDER.search(sentence):
        return False
    if words[0].lower() in REFERRING or any(w.lower() in POINTING for w in words):
        return False
    return not (words[0] == "The" and words[1][:1].islower())  # "The song ...": which song?


def _row(question: str, answer: str, shown: list[dict], citations: list[dict],
         collection: str, refuse: bool, kind: str) -> dict:
    import json

    return {"created_at": time.time(), "channel": CHANNEL, "actor": "synthesize",
            "collections": collection, "question": question, "answer": answer,
            "model_answer": "", "path": "refused" if refuse else "generated",
            "reason": f"synthetic {'unanswerable' if refuse else kind} question",
            "retrieved": "[]", "shown": json.dumps(shown), "citations": json.dumps(citations),
            "check_result": "{}", "timings": "{}", "model_sha256": "",
            "suggestion": None, "suggestion_reason": "synthetic pair: accept, edit or reject"}


def acceptance(entries) -> dict:
    """How synthetic pairs fared in review: accepted unedited, edited, rejected, waiting."""
    synth = [e for e in entries if e.channel == CHANNEL]
    counts = {state: sum(1 for e in synth if e.review == state)
              for state in ("accepted", "edited", "rejected", "pending")}
    reviewed = counts["accepted"] + counts["edited"] + counts["rejected"]
    counts["reviewed"] = reviewed
    counts["acceptance_rate"] = round(counts["accepted"] / reviewed, 4) if reviewed else None
    return counts


def reviewed_pairs(entries) -> list[dict]:
    """Accepted or edited synthetic pairs as `tune prepare --feedback` records."""
    out = []
    for e in entries:
        if e.channel != CHANNEL or e.review not in ("accepted", "edited"):
            continue
        answer = e.correction if e.review == "edited" and e.correction else e.answer
        context = [p["text"] for p in e.shown]  # [1] in the answer is the first of them
        out.append({"question": e.question, "context": context, "corrected_answer": answer,
                    "answer_log_id": e.id})
    return out
