"""The generator the appliance serves: the base GGUF plus the registry's active adapter.

Before each answer it asks the registry which adapter is active (one indexed row read) and,
when that changed since the last answer, loads a new llama context with the new adapter (or
none) and swaps it in; answers already streaming finish on the old one. No restart needed,
and every process serving the same data dir follows the same registry row.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Iterator, Sequence

log = logging.getLogger(__name__)


class LiveAdapterGenerator:
    """Wraps a generator factory `make(lora_path)`; same surface as LlamaGenerator."""

    def __init__(self, make: Callable[[str], object], active_state: Callable[[], object],
                 pinned_path: str = "", pinned_sha256: str | None = None):
        self._make = make
        self._active_state = active_state
        self._pinned = pinned_path
        self._swap = threading.Lock()
        self.model_sha256: str | None = None
        if pinned_path:  # an operator-pinned adapter (lora_adapter_path) wins over the registry
            self._key, self.adapter_sha256 = pinned_path, pinned_sha256
            self._gen = make(pinned_path)
        else:
            state = self._state()
            self._key, self.adapter_sha256 = (state[1], state[1]) if state else ("", None)
            self._gen = make(state[0] if state else "")

    def _state(self):
        try:
            return self._active_state()
        except Exception as exc:  # noqa: BLE001 - a registry hiccup must not stop answers
            log.error("adapter registry unreadable, keeping the current adapter: %s", exc)
            return ("keep", self._key) if self._key else None

    def sync(self) -> None:
        """Load the registry's active adapter if it is not the one being served."""
        if self._pinned:
            return
        state = self._state()
        key = state[1] if state else ""
        if key == self._key:
            return
        with self._swap:
            if key == self._key:
                return
            try:
                gen = self._make(state[0] if state else "")
            except Exception as exc:  # noqa: BLE001 - keep serving what is loaded
                log.error("cannot load adapter %s, still serving %s: %s", key[:12] or "none",
                          self._key[:12] or "the base model", exc)
                return
            self._gen, self._key = gen, key
            self.adapter_sha256 = key or None
            log.info("now serving adapter %s", key[:12] if key else "none")

    @property
    def current(self):
        return self._gen

    @property
    def n_ctx(self) -> int:
        return self._gen.n_ctx

    def count_tokens(self, text: str) -> int:
        return self._gen.count_tokens(text)

    def stream(self, prompt: str, max_tokens: int, stop: Sequence[str]) -> Iterator[str]:
        self.sync()
        gen = self._gen  # this answer finishes on the context it started with
        yield from gen.stream(prompt, max_tokens, stop)

    def last_usage(self) -> int:
        return self._gen.last_usage()
