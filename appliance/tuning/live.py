"""The generator the appliance serves: the active model (the registry's, else the bundled one)
plus the registry's active adapter.

Before each answer it reads which model and adapter are active (two indexed row reads) and,
when either changed since the last answer (another model, another adapter, none, or a
re-calibrated refusal bias), loads a new llama context and swaps it in; answers already
streaming finish on the old one. No restart needed, and every process serving the same data
dir follows the same rows. An adapter trained on another model is not loaded.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterator, Sequence

from .registry import ActiveAdapter

log = logging.getLogger(__name__)
KEEP = object()  # the registry could not be read: keep what is served


class LiveAdapterGenerator:
    """Wraps a generator factory `make(adapter or None, model or None)` (model None: the
    bundled one); same surface as LlamaGenerator."""

    def __init__(self, make: Callable[..., object],
                 active_state: Callable[[], ActiveAdapter | None],
                 pinned: ActiveAdapter | None = None,
                 active_model: Callable[[], Any] | None = None,
                 bundled_sha256: str | None = None):
        self._make = make
        self._active_state = active_state
        self._active_model = active_model
        self._pinned = pinned
        self._swap = threading.Lock()
        self.bundled_sha256 = bundled_sha256
        # An operator-pinned adapter (lora_adapter_path) wins over the registry.
        adapter = pinned if pinned else self._read(active_state, None)
        model = self._read(active_model, None) if active_model else None
        self._model = model
        self._served = self._fit(adapter, model)
        self._gen = make(self._served, model)

    @property
    def served(self) -> ActiveAdapter | None:
        """The adapter (with its calibration) answers are produced with; None: the base."""
        return self._served

    @property
    def model(self):
        """The registry model being served (None: the bundled one)."""
        return self._model

    @property
    def model_sha256(self) -> str | None:
        """The model that produces the next answer (recorded with it in the audit log)."""
        return self._model.sha256 if self._model else self.bundled_sha256

    @model_sha256.setter
    def model_sha256(self, value: str | None) -> None:
        self.bundled_sha256 = value

    @property
    def adapter_sha256(self) -> str | None:
        """The adapter that produces the next answer (recorded with it in the audit log)."""
        return self._served.sha256 if self._served else None

    @staticmethod
    def _read(source, fallback):
        try:
            return source()
        except Exception as exc:  # noqa: BLE001 - a registry hiccup must not stop answers
            log.error("registry unreadable, keeping what is served: %s", exc)
            return KEEP if fallback is None else fallback

    def _fit(self, adapter, model):
        """The adapter, unless it was trained on another model than `model`."""
        if adapter is KEEP or adapter is None or self._pinned:
            return None if adapter is KEEP else adapter
        wanted = model.sha256 if model else self.bundled_sha256
        if adapter.base_sha256 and wanted and adapter.base_sha256 != wanted:
            log.error("adapter %s was trained on model %s…, not on the one serving (%s…): "
                      "serving the model without it", (adapter.sha256 or "")[:12],
                      adapter.base_sha256[:12], wanted[:12])
            return None
        return adapter

    def sync(self) -> None:
        """Load the registry's active model and adapter if they are not the ones served."""
        model = self._read(self._active_model, None) if self._active_model else None
        if model is KEEP:
            return
        adapter = self._pinned or self._read(self._active_state, None)
        if adapter is KEEP:
            return
        adapter = self._fit(adapter, model)
        if adapter == self._served and model == self._model:
            return
        with self._swap:
            if adapter == self._served and model == self._model:
                return
            try:
                gen = self._make(adapter, model)
            except Exception as exc:  # noqa: BLE001 - keep serving what is loaded
                log.error("cannot load %s, still serving %s: %s", _name(adapter, model),
                          _name(self._served, self._model), exc)
                return
            self._gen, self._served, self._model = gen, adapter, model
            log.info("now serving %s", _name(adapter, model))

    def serving(self):
        """Sync, then the loaded generator one answer uses from its prompt to its last token
        (a chat template and a tokenizer belong to one model)."""
        self.sync()
        return self._gen

    @property
    def current(self):
        return self._gen

    @property
    def n_ctx(self) -> int:
        return self._gen.n_ctx

    @property
    def chat(self):
        return getattr(self._gen, "chat", None)

    def count_tokens(self, text: str) -> int:
        return self._gen.count_tokens(text)

    def tokenize(self, text: str) -> list[int]:
        return self._gen.tokenize(text)  # adapters never change the tokenizer

    def stream(self, prompt, max_tokens: int, stop: Sequence[str],
               **kw: Any) -> Iterator[str]:
        """`kw` (e.g. a decoding constraint) goes to the serving generator."""
        self.sync()
        gen = self._gen  # this answer finishes on the context it started with
        yield from gen.stream(prompt, max_tokens, stop, **kw)

    def last_usage(self) -> int:
        return self._gen.last_usage()


def _name(adapter: ActiveAdapter | None, model=None) -> str:
    base = f"model {model.name}" if model is not None else "the bundled model"
    if adapter is None:
        return base
    check = "off" if adapter.min_relevance is None else f"{adapter.min_relevance:g}"
    return (f"adapter {(adapter.sha256 or adapter.path)[:12]} (refusal bias "
            f"{adapter.refusal_bias:g}, answer check {check}) on {base}")
