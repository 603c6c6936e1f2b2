"""llama-cpp-python text generator over a GGUF file, with an optional LoRA adapter."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from ..errors import ModelError


REPEAT_PENALTY = 1.1

# Called with the first answer position's logits, before any bias.
OpeningObserver = Callable[[Any], None]
# Given the answer's token ids so far, the ids allowed next (None: any).
Constraint = Callable[[Sequence[int]], "set[int] | None"]


class LlamaGenerator:
    """Greedy, streamed completion; one llama context, used by one caller at a time.

    `opening_bias` maps texts to logit offsets applied at the first answer token only, to the
    first token of each text: a calibrated adapter answers rather than refuses when unsure
    (see appliance/evaluation/calibration.py)."""

    def __init__(self, model_path: str, n_ctx: int = 2048, threads: int = 2,
                 lora_path: str = "", temperature: float = 0.0, seed: int = 0,
                 opening_bias: Mapping[str, float] | None = None):
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
        self.opening_bias = dict(opening_bias or {})

    def first_token(self, text: str) -> int:
        """The id of the first token of `text` (as it follows a prompt, e.g. " I")."""
        ids = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if not ids:
            raise ModelError(f"cannot tokenize {text!r}")
        return int(ids[0])

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def tokenize(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, prompt: str, max_tokens: int, stop: Sequence[str],
               opening_bias: Mapping[str, float] | None = None,
               on_opening: OpeningObserver | None = None,
               constraint: Constraint | None = None) -> Iterator[str]:
        """Yield text pieces as they are decoded; stops at a stop sequence or max_tokens.
        `opening_bias` replaces the generator's own for this call; `on_opening` sees the first
        position's logits; `constraint` limits each step to the tokens it allows."""
        bias = self.opening_bias if opening_bias is None else opening_bias
        bias = {text: value for text, value in bias.items() if value}
        processors = self._opening(bias, on_opening) if bias or on_opening else None
        if constraint is not None:
            from llama_cpp import LogitsProcessorList

            processors = LogitsProcessorList([*(processors or []), _constrained(constraint)])
        with self._lock:
            pieces = self.llm.create_completion(prompt, max_tokens=max_tokens, stop=list(stop),
                                                temperature=self.temperature, top_k=1,
                                                repeat_penalty=REPEAT_PENALTY, stream=True,
                                                logits_processor=processors)
            for part in pieces:
                text = part["choices"][0]["text"]
                if text:
                    yield text

    def _opening(self, bias: Mapping[str, float], observe: OpeningObserver | None):
        """A logits processor acting on the first sampled position only."""
        from llama_cpp import LogitsProcessorList

        offsets = {self.first_token(text): value for text, value in bias.items()}
        done = [False]

        def first_position(input_ids, logits):
            if done[0]:
                return logits
            done[0] = True
            if observe is not None:
                observe(logits.copy())
            for token, value in offsets.items():
                logits[token] += value
            return logits

        return LogitsProcessorList([first_position])

    def last_usage(self) -> int:
        """Tokens in the context after the last call (prompt + completion)."""
        return int(self.llm.n_tokens)


def _constrained(constraint: Constraint):
    """A logits processor that keeps only the tokens `constraint` allows (applied after the
    opening bias, so a biased-against refusal stays biased among what is allowed)."""
    import numpy as np

    prompt = []

    def mask(input_ids, logits):
        if not prompt:
            prompt.append(len(input_ids))  # the first call sees the prompt alone
        allowed = constraint([int(t) for t in input_ids[prompt[0]:]])
        if allowed is None:
            return logits
        keep = np.fromiter((t for t in allowed if 0 <= t < len(logits)), dtype=np.int64)
        out = np.full_like(logits, -np.inf)
        out[keep] = logits[keep]
        return out

    return mask
