"""AskService: a caller's question through access control, the fair queue and ChatService.

`start()` checks everything a caller can get wrong (empty question, a collection they may not
read, a full queue) before any response begins, then returns an AskStream: an iterator of
events the web chat and the OpenAI API render their own way:

    ("queue", {"position": n, "waiting": m})   while waiting, at least once a second
    ("start", {"queue_wait_ms": x})            the model is ours
    ("token", {"text": piece})                 redacted answer text as it is generated
    ("done",  {"answer": Answer, "queue_wait_ms": x})

Closing the iterator early (the client went away, or pressed stop) ends the generation,
frees the model for the next in line, and records a chat.cancel audit event. A `gone`
probe, when given, is asked while waiting and between pieces, so a vanished client is
noticed without waiting for a write to fail.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..accounts import Access, PermissionDenied, Principal
from ..audit import EVENT_TYPES, EventType
from ..errors import InvalidRequest
from .fair_queue import FairQueue
from .followups import Turn
from .metrics import Metrics

MAX_QUESTION_CHARS = 4000
POLL_SECONDS = 1.0
log = logging.getLogger(__name__)

CHAT_CANCEL = "chat.cancel"
if CHAT_CANCEL not in EVENT_TYPES:  # kept here until the audit package lists it
    EVENT_TYPES.register(EventType(CHAT_CANCEL, "Answer cancelled", (6003, 99)))


class AskService:
    """Answers for authenticated callers, limited to the collections they may read."""

    def __init__(self, access: Access, chat_factory: Callable[[], Any], queue: FairQueue,
                 metrics: Metrics, audit):
        self.access, self.chat_factory, self.queue = access, chat_factory, queue
        self.metrics, self.audit = metrics, audit

    def allowed(self, principal: Principal, requested: Iterable[str] | None) -> frozenset[str]:
        """The collections to search: all readable ones, or the requested subset of them."""
        readable = self.access.readable(principal)
        if requested is None:
            return readable
        requested = frozenset(str(c) for c in requested)
        refused = sorted(requested - readable)
        if refused:
            raise PermissionDenied(f"you may not read collection(s): {', '.join(refused)}")
        return requested

    def start(self, principal: Principal, question: str, collections: Iterable[str] | None = None,
              retrieval: bool = True, scope: str | None = None, source: str | None = None,
              gone: Callable[[], bool] | None = None, history: Sequence[Turn] = (),
              style: str = "", channel: str = "api") -> "AskStream":
        """`history`: earlier turns of the conversation (follow-ups are read with them);
        `style`: a caller's note on tone and format."""
        question = (question or "").strip()
        if not question:
            raise InvalidRequest("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidRequest(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        if len(style) > MAX_QUESTION_CHARS:
            raise InvalidRequest(f"the system message is longer than {MAX_QUESTION_CHARS} "
                                 "characters")
        earlier = (text for turn in history for text in (turn.question, turn.answer))
        for text in (question, style, *earlier):
            if isinstance(text, str) and not _encodable(text):
                raise InvalidRequest("the text holds characters that are not valid Unicode "
                                     "(an unpaired surrogate such as \\ud800)")
        allowed = self.allowed(principal, collections)
        self.queue.check_capacity()
        stream = AskStream(self, principal, question, allowed, retrieval, scope, source, gone)
        stream.history, stream.style, stream.channel = tuple(history), style, channel
        return stream


class _Gone(Exception):
    """The client went away."""


class AskStream:
    """One question's events; iterate once."""

    def __init__(self, service: AskService, principal: Principal, question: str,
                 allowed: frozenset[str], retrieval: bool, scope: str | None,
                 source: str | None, gone: Callable[[], bool] | None = None):
        self.service, self.principal, self.question = service, principal, question
        self.allowed, self.retrieval, self.scope, self.source = allowed, retrieval, scope, source
        self.gone = gone or (lambda: False)
        self.sent_tokens = 0
        self.history: tuple[Turn, ...] = ()
        self.style = ""
        self.channel = "api"  # web | api: recorded in the answer log

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        svc, t0 = self.service, time.monotonic()
        ticket = svc.queue.join(self.principal.username)
        stage, outcome, chat_events = "queue", "error", None
        try:
            yield from self._wait(ticket)
            stage = "generating"
            svc.metrics.queue_wait.observe(ticket.waited_ms / 1000)
            yield "start", {"queue_wait_ms": ticket.waited_ms}
            chat_events = svc.chat_factory().ask_stream(
                self.question, collections=self.allowed, actor=self.principal.username,
                retrieval=self.retrieval, scope=self.scope, history=self.history,
                style=self.style, channel=self.channel)
            answer = None
            for item in chat_events:
                if isinstance(item, str):
                    if self.gone():
                        raise _Gone
                    if self.sent_tokens == 0:
                        svc.metrics.first_token.observe(time.monotonic() - t0)
                    self.sent_tokens += 1
                    yield "token", {"text": item}
                else:
                    answer = item
            if self.gone():  # e.g. an empty answer: no piece came to notice it earlier
                raise _Gone
            svc.metrics.answer_time.observe(time.monotonic() - t0)
            outcome = "refused" if answer.refused else "answered"
            stage = "done"
            yield "done", {"answer": answer, "queue_wait_ms": ticket.waited_ms}
        except _Gone:
            outcome = "cancelled"
        except GeneratorExit:
            if stage != "done":
                outcome = "cancelled"
            raise
        finally:
            if chat_events is not None:
                chat_events.close()  # ends the llama stream and releases its lock now
            svc.queue.release(ticket)
            svc.metrics.asks.inc(outcome=outcome)
            if outcome == "cancelled":
                self._record_cancel(stage, ticket.waited_ms)

    def _wait(self, ticket) -> Iterator[tuple[str, dict]]:
        queue = self.service.queue
        while True:
            position = queue.position(ticket)
            if position == 0 and queue.wait(ticket, 0):
                return
            if self.gone():
                raise _Gone
            yield "queue", {"position": position, "waiting": queue.snapshot()[0]}
            if queue.wait(ticket, POLL_SECONDS):
                return

    def _record_cancel(self, stage: str, waited_ms: float) -> None:
        try:
            self.service.audit.record(
                CHAT_CANCEL, actor=self.principal.username, source=self.source,
                outcome="failure",
                details={"collection": ",".join(sorted(self.allowed)), "stage": stage,
                         "queue_wait_ms": waited_ms, "pieces_sent": self.sent_tokens})
        except Exception as exc:  # noqa: BLE001 - the client is gone; never raise from cleanup
            log.error("could not record a cancelled answer: %s", type(exc).__name__)


def _encodable(text: str) -> bool:
    """Whether text is valid Unicode (JSON can carry lone surrogates, UTF-8 cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
