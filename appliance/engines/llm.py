"""llama-cpp-python text generator over a GGUF file, with an optional LoRA adapter."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import ModelError


class LlamaGenerator:
    """Greedy, streamed completion; one llama context, used by one caller at a time."""

    def __init__(self, model_path: str, n_ctx: int = 2048, threads: int = 2,
                 lora_path: str = "", temperature: float = 0.0, seed: int = 0):
        from llama_cpp import Llama

        if not Path(model_path).is_file():
            raise ModelError(f"model file not found: {model_path}")
        if lora_path and not Path(lora_path).is_file():
            raise ModelError(f"LoRA adapter not found: {lora_path}")
        self.model_path = model_path
        self.lora_path = lora_path
        self.n_ctx = n_ctx
        self.temperature = temperature
        kwargs = dict(model_path=model_path, n_ctx=n_ctx, n_threads=threads,
                      n_threads_batch=threads, n_batch=512, seed=seed, verbose=False)
        if lora_path:
            kwargs["lora_path"] = lora_path
        try:
            self.llm = Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load {model_path}: {exc}") from exc
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, prompt: str, max_tokens: int, stop: Sequence[str]) -> Iterator[str]:
        """Yield text pieces as they are decoded; stops at a stop sequence or max_tokens."""
        with self._lock:
            pieces = self.llm.create_completion(prompt, max_tokens=max_tokens, stop=list(stop),
                                                temperature=self.temperature, top_k=1,
                                                repeat_penalty=1.1, stream=True)
            for part in pieces:
                text = part["choices"][0]["text"]
                if text:
                    yield text

    def last_usage(self) -> int:
        """Tokens in the context after the last call (prompt + completion)."""
        return int(self.llm.n_tokens)
