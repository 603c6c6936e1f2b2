"""The serving tokenizer (llama.cpp's, read from the GGUF file) for training and token counts.

Training tokenizes exactly as llama-cpp-python does at answer time, so the adapter learns the
token sequences it will see when served.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from . import TuningError


class GGUFTokenizer:
    """Vocabulary-only llama.cpp load of a GGUF file: tokenize, detokenize, BOS/EOS ids."""

    def __init__(self, gguf_path: str | Path):
        from llama_cpp import Llama

        if not Path(gguf_path).is_file():
            raise TuningError(f"model file not found: {gguf_path}")
        self._llm = Llama(str(gguf_path), vocab_only=True, verbose=False)
        self.bos_id = int(self._llm.token_bos())
        self.eos_id = int(self._llm.token_eos())

    def encode(self, text: str) -> list[int]:
        """Tokens of `text` without BOS (as a continuation of earlier text)."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def decode(self, ids: list[int]) -> str:
        return self._llm.detokenize(ids).decode("utf-8", errors="replace")

    def count(self, text: str) -> int:
        return len(self.encode(text))


@lru_cache(maxsize=4)
def tokenizer_for(gguf_path: str) -> GGUFTokenizer:
    return GGUFTokenizer(gguf_path)
