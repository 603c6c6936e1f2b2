"""EmbeddingService: text embeddings for API callers, and the model names the API lists.

Inputs are embedded as given (not redacted: redaction would change what the vectors mean)
and are neither stored nor logged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..accounts import Principal
from ..errors import InvalidRequest
from ..settings import Settings

CHAT_MODEL = "appliance"
DEFAULT_EMBED_MODEL = "all-minilm-l6-v2"
MAX_INPUTS = 256
MAX_INPUT_CHARS = 20_000


@dataclass(frozen=True)
class Embeddings:
    vectors: np.ndarray  # float32, L2-normalised, one row per input
    tokens: int
    model: str


class EmbeddingService:
    def __init__(self, settings: Settings, embedder_factory: Callable[[], Any]):
        self.settings, self.embedder_factory = settings, embedder_factory

    @property
    def embed_model(self) -> str:
        path = self.settings.embedder_path
        return Path(path).name.lower() if path else DEFAULT_EMBED_MODEL

    def models(self) -> list[tuple[str, str]]:
        """(model id, what it does) for /v1/models."""
        return [(CHAT_MODEL, "chat"), (self.embed_model, "embeddings")]

    def embed(self, principal: Principal, inputs: Any) -> Embeddings:
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            raise InvalidRequest("input must be a string or a non-empty list of strings")
        if len(inputs) > MAX_INPUTS:
            raise InvalidRequest(f"at most {MAX_INPUTS} inputs per request")
        if not all(isinstance(t, str) and t for t in inputs):
            raise InvalidRequest("every input must be a non-empty string "
                                 "(token id arrays are not supported)")
        if any(len(t) > MAX_INPUT_CHARS for t in inputs):
            raise InvalidRequest(f"an input is longer than {MAX_INPUT_CHARS} characters")
        embedder = self.embedder_factory()
        vectors = np.asarray(embedder.embed(inputs), dtype=np.float32)
        tokens = sum(embedder.count_tokens(t) for t in inputs)
        return Embeddings(vectors, tokens, self.embed_model)
