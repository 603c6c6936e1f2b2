"""Log-likelihood of continuations under the served GGUF (llama-cpp-python), for
multiple-choice benchmarks scored the way lm-evaluation-harness scores them.

Nothing is decoded twice: a prefix shared by many items (few-shot exemplars) is decoded once
and kept in the KV cache for every sequence; an item's own context is decoded once, visible to
all its choices; each choice is a sequence of its own in the same batch, and only the rows whose
logits are needed (the context's last token, each choice's tokens but its last) are computed."""
from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError

MAX_CHOICES = 8


class LoglikScorer:
    """One llama context. `keep(tokens)` fixes a prefix shared by everything scored next;
    `score(context, continuations)` gives each continuation's summed log-probability and
    whether it is the greedy continuation (every token the argmax)."""

    def __init__(self, model_path: str | Path, lora_path: str = "", n_ctx: int = 4096,
                 threads: int = 2, n_batch: int = 512, llm=None, n_seq: int = MAX_CHOICES):
        """`llm`: a loaded llama_cpp.Llama whose weights (and adapter) to score with, in a
        context of this scorer's own (the weights are not loaded twice); `n_seq`: sequences
        decoded side by side."""
        import llama_cpp
        from llama_cpp import Llama
        from llama_cpp._internals import LlamaBatch, LlamaContext

        self._owned = llm is None
        if llm is None:
            if not Path(model_path).is_file():
                raise ModelError(f"model file not found: {model_path}")
            if lora_path and not Path(lora_path).is_file():
                raise ModelError(f"LoRA adapter not found: {lora_path}")
            kwargs = {"lora_path": str(lora_path)} if lora_path else {}
            try:  # Llama loads the weights and the adapter; the scoring context is our own
                llm = Llama(str(model_path), n_ctx=64, n_batch=64, n_threads=threads,
                            n_threads_batch=threads, verbose=False, **kwargs)
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"cannot load {model_path}: {exc}") from exc
        self.llm = llm
        base = self.llm.context_params  # a copy: the generator's own stay as they are
        params = type(base).from_buffer_copy(base)
        params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, n_batch, n_batch
        params.n_seq_max, params.kv_unified = n_seq, True
        self.n_seq = n_seq
        self._ctx = LlamaContext(model=self.llm._model, params=params, verbose=False)
        if self.llm._lora_adapter is not None:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self.llm._lora_adapter)
            if llama_cpp.llama_set_adapters_lora(self._ctx.ctx, adapters, 1,
                                                 (ctypes.c_float * 1)(1.0)):
                raise ModelError(f"cannot apply the adapter {lora_path}")
        self.n_ctx, self.n_batch = n_ctx, n_batch
        self.n_vocab = self.llm.n_vocab()
        self._batch = LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=n_seq, verbose=False)
        self._kept: list[int] = []  # the shared prefix, in the cache of every sequence
        self._kept_last: np.ndarray | None = None  # logits after the prefix's last token
        self._marks: dict[int, np.ndarray] = {}  # logits after each kept prefix still cached
        self.decoded = 0  # tokens decoded so far (the cost measure)
        self.lock = threading.Lock()  # one caller at a time (the web serves many)

    def tokenize(self, text: str, bos: bool = False) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=bos, special=False))

    def bos(self) -> int:
        return int(self.llm.token_bos())

    def split(self, context: str, continuation: str, bos: bool = True) -> tuple[list, list]:
        """Token ids of context and continuation as the harness splits them: the pair is
        tokenized whole and the context's own tokens are cut off the front (trailing spaces of
        the context move to the continuation)."""
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        whole = self.tokenize(context + continuation)
        head = self.tokenize(context)
        cut = len(head)
        while cut > 0 and whole[:cut] != head[:cut]:  # a merge across the seam
            cut -= 1
        prefix = [self.bos()] if bos else []
        return prefix + whole[:cut], whole[cut:]

    def keep(self, tokens: Sequence[int]) -> None:
        """Decode `tokens` once and keep them in the cache for everything scored next. A
        prefix that extends the kept one decodes only its new tokens; one that the kept
        prefix extends costs nothing (a shared frame, then each item's own context)."""
        tokens = list(tokens)
        if tokens == self._kept and self._kept_last is not None:
            return
        if not tokens:
            raise ModelError("the shared prefix needs at least one token (BOS)")
        if len(tokens) >= self.n_ctx:
            raise ModelError(f"the shared prefix ({len(tokens)} tokens) does not fit the "
                             f"scoring context ({self.n_ctx})")
        kept, seqs = len(self._kept), tuple(range(self.n_seq))
        if kept and len(tokens) < kept and self._kept[:len(tokens)] == tokens \
                and len(tokens) in self._marks:
            for seq in seqs:
                self._ctx.kv_cache_seq_rm(seq, len(tokens), -1)
            self._kept, self._kept_last = tokens, self._marks[len(tokens)]
            return
        if kept and len(tokens) > kept and tokens[:kept] == self._kept:
            for seq in seqs:
                self._ctx.kv_cache_seq_rm(seq, kept, -1)
            start = kept
        else:
            self._ctx.kv_cache_clear()
            self._marks, start = {}, 0
        rows = self._run([(t, start + i, seqs, start + i == len(tokens) - 1)
                          for i, t in enumerate(tokens[start:])])
        self._kept, self._kept_last = tokens, rows[-1]
        self._marks = {n: row for n, row in self._marks.items() if n < len(tokens)}
        self._marks[len(tokens)] = rows[-1]

    def score(self, context: Sequence[int], continuations: Sequence[Sequence[int]]
              ) -> list[tuple[float, bool]]:
        """(sum of log-probabilities, greedy) of each continuation after `context`, which must
        start with the kept prefix (call keep() first; [BOS] at least)."""
        conts = [list(c) for c in continuations]
        # a continuation's last token is never needed as input
        first, rows = self._branches(context, conts, [c[:-1] for c in conts], "continuations")
        results, at = [], 0
        for cont in conts:
            if not cont:
                results.append((0.0, True))
                continue
            logits = np.vstack([first[None, :], rows[at:at + len(cont) - 1]])
            at += len(cont) - 1
            results.append(_logprob(logits, cont))
        return results

    def next_logprobs(self, context: Sequence[int]) -> np.ndarray:
        """log P(token | context) for every token of the vocabulary; `context` becomes the
        kept prefix (so `prefixes(context, ...)` next decodes only its sequences)."""
        self.keep(context)
        row = self._kept_last.astype(np.float64)
        top = row.max()
        return row - (np.log(np.exp(row - top).sum()) + top)

    def prefixes(self, context: Sequence[int], sequences: Sequence[Sequence[int]], end: int
                 ) -> list[list[float]]:
        """For each sequence after `context` (which starts with the kept prefix), the
        log-probability of each of its prefixes followed by the token `end`: entry k is
        log P(seq[:k+1] + [end] | context). One decode scores every prefix of every sequence
        (a span and all its shorter spans from the same start)."""
        seqs = [list(q) for q in sequences]
        if not all(seqs):
            raise ModelError("sequences must not be empty")
        first, rows = self._branches(context, seqs, seqs, "sequences")
        out, at = [], 0
        for q in seqs:
            block = np.vstack([first[None, :], rows[at:at + len(q)]])
            at += len(q)
            top = block.max(axis=1)
            logz = np.log(np.exp(block - top[:, None]).sum(axis=1, dtype=np.float64)) + top
            steps = block[np.arange(len(q)), q] - logz[:-1]   # each token of the sequence
            ends = block[1:, end] - logz[1:]                   # the end after each token
            out.append(list(np.cumsum(steps) + ends))
        return out

    def _branches(self, context: Sequence[int], branches: list[list[int]],
                  inputs: list[list[int]], what: str) -> tuple[np.ndarray, np.ndarray]:
        """Decode the context's own tokens (past the kept prefix, seen by every branch) and
        each branch's `inputs` as a sequence of its own, side by side. Returns the logits
        after the context and those after each input token, in order."""
        context = list(context)
        kept = len(self._kept)
        if not kept or context[:kept] != self._kept:
            raise ModelError("the context does not start with the kept prefix")
        if not 0 < len(branches) <= self.n_seq:
            raise ModelError(f"score 1 to {self.n_seq} {what} at a time")
        longest = len(context) + max(len(b) for b in branches)
        if longest > self.n_ctx:
            raise ModelError(f"context and {what} ({longest} tokens) exceed the scoring "
                             f"context ({self.n_ctx})")
        for seq in range(self.n_seq):
            self._ctx.kv_cache_seq_rm(seq, kept, -1)
        own = context[kept:]
        every = tuple(range(len(branches)))
        entries = [(t, kept + i, every, i == len(own) - 1) for i, t in enumerate(own)]
        for n, tokens in enumerate(inputs):
            entries += [(t, len(context) + i, (n,), True) for i, t in enumerate(tokens)]
        rows = self._run(entries)
        return (rows[0], rows[1:]) if own else (self._kept_last, rows)

    def close(self) -> None:
        self._batch.close()
        self._ctx.close()
        if self._owned:
            self.llm.close()

    def _run(self, entries: list[tuple[int, int, tuple, bool]]) -> np.ndarray:
        """Decode (token, position, sequences, wants logits) entries in order, n_batch at a
        time; the rows of the logits asked for, in order."""
        out = []
        batch = self._batch.batch
        for start in range(0, len(entries), self.n_batch):
            part = entries[start:start + self.n_batch]
            for i, (token, pos, seqs, want) in enumerate(part):
                batch.token[i], batch.pos[i], batch.logits[i] = token, pos, want
                batch.n_seq_id[i] = len(seqs)
                for k, seq in enumerate(seqs):
                    batch.seq_id[i][k] = seq
            batch.n_tokens = len(part)
            self._ctx.decode(self._batch)
            self.decoded += len(part)
            wanted = sum(1 for e in part if e[3])
            if wanted:
                view = np.ctypeslib.as_array(self._ctx.get_logits(),
                                             shape=(wanted * self.n_vocab,))
                out.append(view.reshape(wanted, self.n_vocab).copy())
        return np.vstack(out) if out else np.zeros((0, self.n_vocab), dtype=np.float32)


def _logprob(logits: np.ndarray, targets: list[int]) -> tuple[float, bool]:
    """Summed log-softmax of the targets (row i predicts targets[i]) and whether each target
    is the row's argmax; float32 with the row maximum taken out, in place."""
    idx = np.arange(len(targets))
    chosen = logits[idx, targets].astype(np.float64)
    top = logits.max(axis=1)
    greedy = bool((chosen >= top).all())
    logits -= top[:, None]
    np.exp(logits, out=logits)
    logz = np.log(logits.sum(axis=1, dtype=np.float64)) + top
    return float((chosen - logz).sum()), greedy
