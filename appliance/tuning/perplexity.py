"""Perplexity of general text under the served model (llama.cpp, with or without an adapter):
the regression check that an adapter did not damage the base model's language modelling."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import TuningError

GENERAL_TEXT = Path(__file__).with_name("general_text.txt")


def perplexity(model_path: str | Path, text: str, lora_path: str = "", window: int = 512,
               threads: int = 2) -> float:
    """exp(mean negative log-likelihood) over non-overlapping windows of `window` tokens."""
    from llama_cpp import Llama

    kwargs = {"lora_path": str(lora_path)} if lora_path else {}
    llm = Llama(str(model_path), n_ctx=window, n_batch=window, logits_all=True,
                n_threads=threads, n_threads_batch=threads, verbose=False, **kwargs)
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    if len(tokens) < 16:
        raise TuningError("the perplexity text is too short")
    nll, count = 0.0, 0
    for start in range(0, len(tokens), window - 1):
        chunk = [llm.token_bos()] + tokens[start:start + window - 1]
        if len(chunk) < 3:
            break
        llm.reset()
        llm.eval(chunk)
        logits = np.asarray(llm.scores[:len(chunk) - 1], dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        logz = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
        targets = np.asarray(chunk[1:])
        nll -= float((logits[np.arange(len(targets)), targets] - logz).sum())
        count += len(targets)
    llm.close()
    return math.exp(nll / count)


def perplexity_check(model_path: str | Path, lora_path: str, text: str | None = None,
                     threads: int = 2) -> dict:
    """Base and adapted perplexity on the text (default: the bundled general text)."""
    text = text if text is not None else GENERAL_TEXT.read_text(encoding="utf-8")
    base = perplexity(model_path, text, threads=threads)
    adapted = perplexity(model_path, text, lora_path=lora_path, threads=threads)
    return {"base": round(base, 4), "adapter": round(adapted, 4),
            "rise": round(adapted / base - 1.0, 4)}
