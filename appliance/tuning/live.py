"""The generator the appliance serves: the base GGUF plus the registry's active adapter.

Before each answer it asks the registry which adapter is active (one indexed row read) and,
when that changed since the last answer (another adapter, none, or a re-calibrated refusal
bias), loads a new llama context and swaps it in; answers already streaming finish on the old
one. No restart needed, and every process serving the same data dir follows the same row.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterator, Sequence

from .registry import ActiveAdapter

log = logging.getLogger(__name__)
KEEP = object()  # the registry could not be read: keep what is served


class LiveAdapterGenerator:
    """Wraps a generator factory `make(adapter or None)`; same surface as LlamaGenerator."""

    def __init__(self, make: Callable[[ActiveAdapter | None], object],
                 active_state: Callable[[], ActiveAdapter | None],
                 pinned: ActiveAdapter | None = None):
        self._make = make
        self._active_state = active_state
        self._pinned = pinned
        self._swap = threading.Lock()
        self.model_sha256: str | None = None
        # An operator-pinned adapter (lora_adapter_path) wins over the registry.
        self._served = pinned if pinned else self._state()
        if self._served is KEEP:
            self._served = None
        self._gen = make(self._served)

    @property
    def served(self) -> ActiveAdapter | None:
        """The adapter (with its calibration) answers are produced with; None: the base."""
        return self._served

    @property
    def adapter_sha256(self) -> str | None:
        """The adapter that produces the next answer (recorded with it in the audit log)."""
        return self._served.sha256 if self._served else None

    def _state(self):
        try:
            return self._active_state()
        except Exception as exc:  # noqa: BLE001 - a registry hiccup must not stop answers
            log.error("adapter registry unreadable, keeping the current adapter: %s", exc)
            return KEEP

    def sync(self) -> None:
        """Load the registry's active adapter if it is not the one being served."""
        if self._pinned:
            return
        state = self._state()
        if state is KEEP or state == self._served:
            return
        with self._swap:
            if state == self._served:
                return
            try:
                gen = self._make(state)
            except Exception as exc:  # noqa: BLE001 - keep serving what is loaded
                log.error("cannot load adapter %s, still serving %s: %s",
                          _name(state), _name(self._served), exc)
                return
            self._gen, self._served = gen, state
            log.info("now serving %s", _name(state))

    @property
    def current(self):
        return self._gen

    @property
    def n_ctx(self) -> int:
        return self._gen.n_ctx

    def count_tokens(self, text: str) -> int:
        return self._gen.count_tokens(text)

    def tokenize(self, text: str) -> list[int]:
        return self._gen.tokenize(text)  # adapters never change the tokenizer

    def stream(self, prompt: str, max_tokens: int, stop: Sequence[str],
               **kw: Any) -> Iterator[str]:
        """`kw` (e.g. a decoding constraint) goes to the serving generator."""
        self.sync()
        gen = self._gen  # this answer finishes on the context it started with
        yield from gen.stream(prompt, max_tokens, stop, **kw)

    def last_usage(self) -> int:
        return self._gen.last_usage()


def _name(adapter: ActiveAdapter | None) -> str:
    if adapter is None:
        return "the base model"
    check = "off" if adapter.min_relevance is None else f"{adapter.min_relevance:g}"
    return (f"adapter {(adapter.sha256 or adapter.path)[:12]} (refusal bias "
            f"{adapter.refusal_bias:g}, answer check {check})")
