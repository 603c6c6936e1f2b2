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


def gpu_layers(setting: int | None) -> int:
    """Layers to offload: the setting, or (None: auto) all of them when this llama.cpp build
    can offload to a GPU, none otherwise."""
    if setting is not None:
        return setting
    return -1 if gpu_offload_available() else 0


def gpu_offload_available() -> bool:
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, AttributeError):
        return False


def acceleration(gpu_layers_setting: int | None) -> dict:
    """What this box accelerates: llama.cpp offload (and how many layers), the embedder's
    device (torch's CUDA), the GPU's name."""
    info = {"llama_gpu_offload": gpu_offload_available(),
            "gpu_layers": gpu_layers(gpu_layers_setting), "embedder_device": "cpu", "gpu": None}
    try:
        import torch

        if torch.cuda.is_available():
            info["embedder_device"], info["gpu"] = "cuda", torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


class LlamaGenerator:
    """Greedy, streamed completion; one llama context, used by one caller at a time.

    `opening_bias` maps texts to logit offsets applied at the first answer token only, to the
    first token of each text: a calibrated adapter answers rather than refuses when unsure
    (see appliance/evaluation/calibration.py)."""

    def __init__(self, model_path: str, n_ctx: int = 2048, threads: int = 2,
                 lora_path: str = "", temperature: float = 0.0, seed: int = 0,
                 opening_bias: Mapping[str, float] | None = None, gpu_layers: int = 0,
                 chat: bool = False):
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
                      n_threads_batch=threads, n_batch=512, seed=seed, verbose=False,
                      n_gpu_layers=gpu_layers)
        if lora_path:
            kwargs["lora_path"] = lora_path
        try:
            self.llm = Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load {model_path}: {exc}") from exc
        self._lock = threading.Lock()
        self._scorer = None
        self.opening_bias = dict(opening_bias or {})
        self.gpu_layers = gpu_layers
        template = self.llm.metadata.get("tokenizer.chat_template") if chat else None
        if chat and not template:
            raise ModelError(f"{Path(model_path).name} carries no chat template")
        self.chat = ChatTemplate(self, template) if template else None

    def first_token(self, text: str) -> int:
        """The id of the first token of `text` (as it follows a prompt, e.g. " I")."""
        ids = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if not ids:
            raise ModelError(f"cannot tokenize {text!r}")
        return int(ids[0])

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def span_scorer(self):
        """A log-likelihood scorer on this model's weights (and adapter), in a small context of
        its own, made on first use (short answers score spans with it)."""
        with self._lock:
            if self._scorer is None:
                from .loglik import LoglikScorer

                self._scorer = LoglikScorer("", llm=self.llm, n_ctx=1024, n_batch=512)
            return self._scorer

    def tokenize(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, prompt: str | list[int], max_tokens: int, stop: Sequence[str],
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


class ChatTemplate:
    """A model's own chat template (GGUF `tokenizer.chat_template`, Jinja), rendered the way
    llama.cpp's tools render it, with the model's special tokens.

    The template's own text is tokenized with special tokens parsed; the system and user
    contents are tokenized as plain text, so a document that holds "<end_of_turn>" or
    "<|im_start|>" cannot open or close a turn."""

    SYSTEM, USER = "\ue000system\ue000", "\ue000user\ue000"

    def __init__(self, generator: "LlamaGenerator", template: str):
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        llm = generator.llm
        self._llm = llm
        self.bos = _piece(llm, llm.token_bos())
        self.eos = _piece(llm, llm.token_eos())
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        self._template = env.from_string(template)
        self._overhead: int | None = None
        self.stop = [s for s in {self.eos, "<end_of_turn>", "<|im_end|>", "<|eot_id|>",
                                 "<|end|>", "</s>"} if s and (s == self.eos or s in template)]

    def render(self, system: str, user: str) -> str:
        """The template's text with these contents (what llama.cpp's chat formatting gives)."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return self._template.render(messages=messages, bos_token=self.bos,
                                     eos_token=self.eos, add_generation_prompt=True)

    def tokens(self, system: str, user: str) -> list[int]:
        import re

        skeleton = self.render(self.SYSTEM, self.USER)
        parts = re.split(f"({re.escape(self.SYSTEM)}|{re.escape(self.USER)})", skeleton)
        contents = {self.SYSTEM: system, self.USER: user}
        out: list[int] = []
        for part in parts:
            if part in contents:
                out += self._llm.tokenize(contents[part].encode("utf-8"), add_bos=False,
                                          special=False)
            elif part:
                out += self._llm.tokenize(part.encode("utf-8"), add_bos=False, special=True)
        bos = self._llm.token_bos()
        if self._llm.metadata.get("tokenizer.ggml.add_bos_token") == "true" and \
                (not out or out[0] != bos) and bos >= 0:
            out.insert(0, bos)
        return out

    def overhead(self) -> int:
        """Tokens the template adds around the contents."""
        if self._overhead is None:
            self._overhead = len(self.tokens("", ""))
        return self._overhead


def _piece(llm, token: int) -> str:
    if token is None or token < 0:
        return ""
    return llm.detokenize([token], special=True).decode("utf-8", errors="replace")


def _raise(message: str):
    raise ModelError(f"the model's chat template refused the messages: {message}")
