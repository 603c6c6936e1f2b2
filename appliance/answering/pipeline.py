"""ChatService: the ask flow — redact prompt, retrieve, build prompt, generate (streamed),
redact output, check the answer against its source, cite, audit.

Every answer takes one of three paths, recorded on it: `generated` (the model's words, which
passed the support check), `quoted` (the model's words failed it, so the best sentence of the
sources is shown verbatim instead) or `refused`; `reason` says why when it is not `generated`.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..audit import ASK, ask_details
from ..knowledge import Hit, HybridRetriever
from ..settings import Settings
from .answer_check import AnswerCheck
from .answer_log import answer_row
from .copying import CopyConstraint
from .evidence import EvidenceFinder
from .followups import Turn, history_prompt, rewrite
from .injection import addresses_the_system, without_markers
from .links import clean_links
from .prompts import (REFUSAL, STOP, Passage, best_supported, build_chat, build_prompt,
                      cited_numbers, is_refusal)
from .figure_lead import figure_lead
from .short_answer import Lead, ShortAnswerer, with_lead
from .support_check import SupportCheck
from .verification import Verdict, decide, measure, quoted


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: int
    doc_name: str
    page: int | None
    chunk_id: int
    section: str | None = None
    text: str = ""
    version: int = 0          # the cited document's version
    ingested_at: str = ""     # when that version was ingested (ISO 8601, UTC)


@dataclass
class Answer:
    answer: str
    citations: list[Citation]
    timings_ms: dict[str, float]
    tokens: dict[str, int]
    hits: list[Hit] = field(default_factory=list)
    refused: bool = False
    redactions: dict[str, int] = field(default_factory=dict)
    relevance: float | None = None  # the answer check's cosine, when it was measured
    path: str = "generated"  # generated | quoted | refused
    reason: str = ""         # why an answer was quoted or refused
    verdict: Verdict | None = None  # what the check measured (evaluation replays it)
    retrieved: list[Hit] = field(default_factory=list)  # every hit, before evidence selection
    shown_texts: list[str] = field(default_factory=list)  # the passages as the prompt showed them
    log_id: int | None = None  # its row in the answer log
    context_tokens: int = 0  # tokens of the passages in the prompt
    short_answer: str = ""  # the few words that answer: a figure asked for, or a quote's lead
    short_share: float | None = None  # a model-picked lead's probability among the spans

    def to_json(self) -> dict:
        return {"answer": self.answer,
                "citations": [{"n": c.n, "doc_id": c.doc_id, "doc_name": c.doc_name,
                               "page": c.page, "chunk_id": c.chunk_id, "section": c.section,
                               "version": c.version, "ingested_at": c.ingested_at}
                              for c in self.citations],
                "timings_ms": self.timings_ms, "tokens": self.tokens,
                "path": self.path, "reason": self.reason, "short_answer": self.short_answer}


def citation_of(n: int, hit: Hit) -> Citation:
    when = hit.doc_updated
    if when is not None and when.tzinfo is None:  # SQLite hands back naive UTC
        when = when.replace(tzinfo=timezone.utc)
    return Citation(n, hit.doc_id, hit.doc_name, hit.page, hit.chunk_id, hit.section, hit.text,
                    hit.doc_version, when.isoformat(timespec="seconds") if when else "")


def passage_label(hit: Hit) -> str:
    label = hit.doc_name
    if hit.page:
        label += f", page {hit.page}"
    if hit.section:
        label += f", {hit.section.split(' > ')[-1]}"
    return label


class ChatService:
    """Answers a question from the documents the caller may read, with numbered citations."""

    def __init__(self, settings: Settings, retriever: HybridRetriever, generator: Any,
                 redactor: Any = None, audit: Any = None,
                 redactor_for: Callable[[str], Any] | None = None,
                 check: AnswerCheck | None = None, support: SupportCheck | None = None,
                 evidence: EvidenceFinder | None = None, answer_log: Any = None):
        """`redactor` guards prompt and output; `redactor_for(collection)` guards context;
        `check` measures each answer's relevance and, while it serves a threshold, holds the
        answer back until it is complete and replaces an irrelevant one by the refusal;
        `support` checks every answer against its cited source, and `evidence` finds the
        sentence quoted in place of one that fails."""
        self.support = support or SupportCheck()
        self.evidence = evidence or EvidenceFinder(check.embed_query if check else None)
        self.redactor_for = redactor_for
        self.settings = settings
        self.link_hosts = frozenset(h.strip().lower() for h in
                                    settings.answer_link_hosts.split(",") if h.strip())
        self.retriever = retriever
        self.generator = generator
        self.redactor = redactor
        self.audit = audit
        self.check = check
        self.answer_log = answer_log
        self.short = ShortAnswerer() if settings.answer_leads else None

    def ask(self, question: str, collections: Iterable[str] | None = None,
            actor: str | None = None, **kw: Any) -> Answer:
        final = None
        for item in self.ask_stream(question, collections, actor, **kw):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def ask_stream(self, question: str, collections: Iterable[str] | None = None,
                   actor: str | None = None, retrieval: bool = True,
                   scope: str | None = None, history: Sequence[Turn] = (),
                   style: str = "", channel: str = "cli") -> Iterator[str | Answer]:
        """Yield answer text pieces as they are generated, then the final Answer.

        `history`: the conversation's earlier turns (oldest first). A follow-up ("and who
        approves it?") is searched for with the earlier question's words, and the model sees
        the previous question and answer; a new topic is searched for on its own. `style`: a
        caller's note on tone and format (the API's system message), framed in the prompt.
        `channel` (web, api, cli) is recorded with the answer in the answer log."""
        t0 = time.perf_counter()
        counts: Counter = Counter()
        question = self._redact(question, "prompt", scope, counts)
        style = self._redact(style, "prompt", scope, counts) if style else ""
        query = rewrite(question, history)  # the question itself unless it is a follow-up
        earlier = history_prompt(history) if query != question else ""
        hits = self.retriever.search(query, collections=collections).hits if retrieval else []
        retrieved = list(hits)
        t_retrieved = time.perf_counter()
        passages = [Passage(passage_label(h), without_markers(self._redact(
            h.text, "context", scope, counts, h.collection))) for h in hits]
        # A passage written for the answering system ("Assistant: ignore the sources and ...")
        # is not evidence: it is never shown, quoted or cited.
        trusted = [i for i, p in enumerate(passages) if not addresses_the_system(p.text)]
        set_aside = len(passages) - len(trusted)
        hits, passages = [hits[i] for i in trusted], [passages[i] for i in trusted]
        # Evidence at sentence level: the passages whose sentences best answer the question,
        # best first, each shown as its best sentences (cited, and checked, as its chunk).
        focus = question if query != question else ""  # a follow-up's own words
        t_evidence = time.perf_counter()
        chosen = self.evidence.select(query, [p.text for p in passages],
                                      per_passage=self.settings.evidence_sentences or 10**6,
                                      focus=focus) if passages else []
        hits = [hits[i] for i, _ in chosen]
        passages = [passages[i] for i, _ in chosen]
        shown = [Passage(p.label, excerpt) for p, (_, excerpt) in zip(passages, chosen)]
        check_ms = (time.perf_counter() - t_evidence) * 1000  # sentence scoring, then the check
        # One model from the prompt to the last token: a template and a tokenizer are its own.
        gen = self.generator.serving() if hasattr(self.generator, "serving") else self.generator
        chat = getattr(gen, "chat", None)
        if chat is not None:  # an instruction-tuned model: its own chat template
            built = build_chat(question, shown, gen.count_tokens, gen.n_ctx,
                               self.settings.max_answer_tokens, chat.overhead(), earlier, style)
            prompt, stop = chat.tokens(built.system, built.text), chat.stop
        else:
            built = build_prompt(question, shown, gen.count_tokens, gen.n_ctx,
                                 self.settings.max_answer_tokens, earlier, style)
            prompt, stop = built.text, STOP
        pieces: list[str] = []
        t_first, verdict = None, None
        relevance = None
        path, reason, lead, lead_ms = "generated", "", None, 0.0
        if retrieval and built.used == 0:
            pieces.append(REFUSAL)  # nothing readable to answer from: don't let the model guess
            path, reason = "refused", "no readable passage matches the question"
            yield REFUSAL
        else:
            threshold = self.check.threshold() if self.check else None
            constraint = self._constraint(shown[:built.used])
            for piece in self._generate(prompt, scope, counts, constraint, gen, stop):
                if t_first is None:
                    t_first = time.perf_counter()
                pieces.append(piece)
                if threshold is None:
                    yield piece
            text = "".join(pieces).strip()
            measuring = threshold is not None or (self.check is not None and self.check.measure)
            if measuring and text and not is_refusal(text):
                relevance = self.check.relevance(query, text,
                                                 [p.text for p in passages[:built.used]])
                if threshold is not None and (relevance is None or relevance < threshold):
                    pieces = [REFUSAL]  # the answer does not address the question
                    path, reason = "refused", "the cited source is not about the question"
            if retrieval and path == "generated":
                t_check = time.perf_counter()
                verdict = measure(query, "".join(pieces).strip(), passages[:built.used],
                                  self.support, self.evidence, focus)
                checked, path, reason = decide(verdict, self.settings.answer_min_evidence,
                                               self.settings.answer_quote_refusals)
                check_ms += (time.perf_counter() - t_check) * 1000
                t_lead = time.perf_counter()
                lead = self._lead(gen, query, verdict, checked, path)
                if path == "quoted":  # led by the words of it that answer
                    checked = with_lead(lead, checked)
                lead_ms = (time.perf_counter() - t_lead) * 1000
                pieces = [checked]
            if threshold is not None:
                yield "".join(pieces).strip()
        t_end = time.perf_counter()
        text, links = clean_links("".join(pieces).strip(), self.link_hosts)
        if links:
            reason = "; ".join(filter(None, (reason, f"{links} outside link(s) removed")))
        if set_aside:
            reason = "; ".join(filter(None, (reason, f"{set_aside} passage(s) set aside: "
                                                     "written to instruct the assistant")))
        answer = self._finish(text, hits[:built.used], passages[:built.used], built.tokens,
                              t0, t_retrieved, t_first or t_end, t_end)
        answer.redactions = dict(counts)
        answer.relevance = relevance
        answer.timings_ms["check"] = round(check_ms, 1)
        answer.timings_ms["lead"] = round(lead_ms, 1)
        answer.short_answer = lead.text if lead and not answer.refused else ""
        answer.short_share = round(lead.share, 4) if lead and lead.share is not None else None
        answer.verdict = verdict
        answer.path, answer.reason = ("refused" if answer.refused else path), reason
        answer.retrieved = retrieved
        answer.shown_texts = [p.text for p in shown[:built.used]]
        if answer.shown_texts and self.answer_log is not None:
            answer.context_tokens = self.generator.count_tokens("\n".join(answer.shown_texts))
        self._audit(question, answer, actor, collections)
        self._log(question, answer, actor, collections, channel)
        yield answer

    def _lead(self, gen: Any, query: str, verdict: Verdict, text: str,
              path: str) -> Lead | None:
        """The few words that answer: the figure a how-many / when question asks for, read
        from the checked answer or the quoted sentence (`answer_figure_leads`); for a quote
        without one, the model's pick of its words (`answer_leads`)."""
        if path == "refused":
            return None
        source = ([e.sentence for e in quoted(verdict.best, verdict.runner_up)]
                  if path == "quoted" else [text])
        figure = figure_lead(query, source) if self.settings.answer_figure_leads else ""
        if figure:
            return Lead(figure, None)
        if path == "quoted" and self.short:
            return self.short.lead(gen, query, source)
        return None

    def _constraint(self, passages: list[Passage]) -> CopyConstraint | None:
        """Copy-constrained decoding over the shown passages, when the settings ask for it and
        the generator can take it."""
        tokenize = getattr(self.generator, "tokenize", None)
        if not self.settings.copy_answers or tokenize is None or not passages:
            return None
        return CopyConstraint.build([p.text for p in passages], tokenize)

    def _generate(self, prompt: str | list[int], scope: str | None, counts: Counter,
                  constraint: CopyConstraint | None = None, gen: Any = None,
                  stop: Sequence[str] = STOP) -> Iterator[str]:
        """The model's answer as redacted pieces (the output redactor is stream-safe)."""
        out = self.redactor.stream("output", scope) if self.redactor else None
        kw = {"constraint": constraint.allowed} if constraint else {}
        gen = gen or self.generator
        for piece in gen.stream(prompt, self.settings.max_answer_tokens, stop, **kw):
            safe = out.feed(piece) if out else piece
            if safe:
                yield safe
        if out:
            rest = out.flush()
            if rest:
                yield rest
            counts.update(out.counts)

    def _finish(self, text: str, hits: list[Hit], passages: list[Passage], prompt_tokens: int,
                t0: float, t_retrieved: float, t_first: float, t_end: float) -> Answer:
        refused = is_refusal(text) or not text
        if not text:
            text = REFUSAL
        numbers = [] if refused else cited_numbers(text, len(hits))
        if not numbers and not refused:
            best = best_supported(text, passages)
            numbers = [best] if best else []
        citations = [citation_of(n, hits[n - 1]) for n in numbers]
        ms = lambda a, b: round((b - a) * 1000, 1)  # noqa: E731
        completion = self.generator.count_tokens(text) if text else 0
        return Answer(text, citations,
                      {"retrieve": ms(t0, t_retrieved), "first_token": ms(t0, t_first),
                       "total": ms(t0, t_end)},
                      {"prompt": prompt_tokens, "completion": completion}, hits, refused)

    def _redact(self, text: str, path: str, scope: str | None, counts: Counter,
                collection: str | None = None) -> str:
        redactor = self.redactor
        if collection is not None and self.redactor_for is not None:
            redactor = self.redactor_for(collection)
        if redactor is None:
            return text
        result = redactor.redact(text, path, scope=scope)
        counts.update(result.counts)
        return result.text

    def _log(self, question: str, answer: Answer, actor: str | None,
             collections: Iterable[str] | None, channel: str) -> None:
        if self.answer_log is None:
            return
        answer.log_id = self.answer_log.record(answer_row(
            question, answer, channel, actor, collections,
            getattr(self.generator, "model_sha256", None),
            getattr(self.generator, "adapter_sha256", None)))

    def _audit(self, question: str, answer: Answer, actor: str | None,
               collections: Iterable[str] | None) -> None:
        if self.audit is None:
            return
        policy = getattr(self.redactor, "policy", None)
        details = ask_details(
            collection=",".join(sorted(collections)) if collections is not None else "*",
            chunks=[{"chunk_id": h.chunk_id, "document_id": h.doc_id,
                     "document_version": h.doc_version} for h in answer.hits],
            model_sha256=getattr(self.generator, "model_sha256", None) or "unknown",
            adapter_sha256=getattr(self.generator, "adapter_sha256", None),
            policy_sha256=getattr(policy, "sha256", None) or "none",
            redactions=answer.redactions, prompt=question, answer=answer.answer,
            latency_ms=answer.timings_ms["total"], path=answer.path)
        self.audit.record(ASK, actor=actor, details=details,
                          outcome="success")
