"""General-capability benchmarks on the served GGUF (plus adapter): HellaSwag and MMLU scored by
log-likelihood the way lm-evaluation-harness scores them, so a LoRA adapter that makes the
model worse at everything else is caught before it serves anyone.

Protocol (docs/evaluation.md):
- HellaSwag: each ending scored as " " + ending after the query; `acc` = argmax of the summed
  log-probability, `acc_norm` = argmax of the sum divided by the ending's length in
  characters. K-shot exemplars ("query ending", separated by a blank line) are drawn once,
  seeded, from the data file and left out of the scored items: the shared exemplars are decoded
  once and kept in the KV cache (the harness draws per item, from the train split).
- MMLU: "The following are multiple choice questions (with answers) about SUBJECT.", K
  exemplars of the same subject (mmlu_dev.jsonl when present, else other items of the subject),
  the question, "A. .." to "D. .." and "Answer:"; " A" to " D" scored; `acc` micro over items,
  `acc_macro` over subjects. A --limit takes items round-robin over the subjects.
"""
from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from tqdm import tqdm

from ..errors import InvalidRequest, NotFoundError

TASKS = ("hellaswag", "mmlu")
FILES = {"hellaswag": "hellaswag_val.jsonl", "mmlu": "mmlu_redux.jsonl"}
DEFAULT_SHOTS = {"hellaswag": 10, "mmlu": 5}
LETTERS = ("A", "B", "C", "D")
SEED = 1234


@dataclass
class TaskResult:
    task: str
    shots: int
    correct: list[int] = field(default_factory=list)       # per item: 1 when acc is right
    correct_norm: list[int] = field(default_factory=list)  # per item: 1 when acc_norm is right
    subjects: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int = 0  # tokens decoded

    @property
    def n(self) -> int:
        return len(self.correct)

    def summary(self) -> dict:
        acc = _mean(self.correct)
        out = {"task": self.task, "n": self.n, "shots": self.shots, "acc": acc,
               "acc_interval": wilson(sum(self.correct), self.n),
               "acc_norm": _mean(self.correct_norm) if self.correct_norm else None,
               "acc_norm_interval": wilson(sum(self.correct_norm), self.n)
               if self.correct_norm else None,
               "seconds": round(self.seconds, 2),
               "items_per_s": round(self.n / self.seconds, 3) if self.seconds else None,
               "tokens_decoded": self.tokens}
        if self.subjects:
            by: dict[str, list[int]] = {}
            for subject, ok in zip(self.subjects, self.correct):
                by.setdefault(subject, []).append(ok)
            out["acc_macro"] = round(sum(_mean(v) for v in by.values()) / len(by), 4)
            out["subjects"] = len(by)
        return out

    def primary(self) -> list[int]:
        """The per-item outcome the gate compares: acc_norm where the task has it."""
        return self.correct_norm or self.correct


def _mean(values: Sequence[int]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def wilson(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    """The 95% Wilson score interval of a proportion."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def paired_difference(base: Sequence[int], other: Sequence[int], resamples: int = 2000,
                      seed: int = SEED) -> dict:
    """other - base in accuracy over the same items, with a 95% paired-bootstrap interval."""
    a, b = np.asarray(base, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if len(a) != len(b) or not len(a):
        raise InvalidRequest("a paired comparison needs the same items on both sides")
    diff = b - a
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"diff": round(float(diff.mean()), 4), "interval": [round(float(lo), 4),
                                                                round(float(hi), 4)],
            "n": len(diff)}


# -- data ------------------------------------------------------------------------------------

def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidRequest(f"{path.name} line {number} is not JSON: {exc.msg}") from None
    return rows


def load_task(data: Path, task: str) -> list[dict]:
    """The task's items from DIR, checked: four choices and an answer index each."""
    path = Path(data) / FILES[task]
    if not path.is_file():
        raise NotFoundError(f"no {FILES[task]} in {data}")
    rows = _read_jsonl(path)
    key_choices, key_label = ("endings", "label") if task == "hellaswag" else ("choices", "answer")
    for number, row in enumerate(rows, start=1):
        choices, label = row.get(key_choices), row.get(key_label)
        text = row.get("query") if task == "hellaswag" else row.get("question")
        if not (isinstance(choices, list) and len(choices) == 4 and all(
                isinstance(c, str) for c in choices) and isinstance(label, int)
                and 0 <= label < 4 and isinstance(text, str)):
            raise InvalidRequest(f"{path.name} item {number}: expected a text, four "
                                 f"{key_choices} and a {key_label} from 0 to 3")
    return rows


def tasks_in(data: Path, wanted: Iterable[str] | None) -> list[str]:
    names = list(wanted) if wanted else [t for t in TASKS if (Path(data) / FILES[t]).is_file()]
    unknown = [t for t in names if t not in TASKS]
    if unknown:
        raise InvalidRequest(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(TASKS)}")
    if not names:
        raise NotFoundError(f"{data} holds neither {FILES['hellaswag']} nor {FILES['mmlu']}")
    return names


# -- prompts ---------------------------------------------------------------------------------

def hellaswag_prompts(items: list[dict], shots: int, limit: int | None, seed: int = SEED):
    """(shared exemplar text, scored items): exemplars drawn once and not scored."""
    order = list(range(len(items)))
    exemplars = sorted(random.Random(seed).sample(order, min(shots, len(items) - 1))) \
        if shots else []
    taken = set(exemplars)
    prefix = "".join(f"{items[i]['query']} {items[i]['endings'][items[i]['label']]}\n\n"
                     for i in exemplars)
    scored = [items[i] for i in order if i not in taken]
    return prefix, scored[:limit] if limit else scored


def mmlu_header(subject: str) -> str:
    return ("The following are multiple choice questions (with answers) about "
            f"{subject.replace('_', ' ')}.\n\n")


def mmlu_block(item: dict, answer: bool) -> str:
    lines = [item["question"].strip()] + [f"{LETTERS[i]}. {c}" for i, c in
                                          enumerate(item["choices"])]
    text = "\n".join(lines) + "\nAnswer:"
    return text + (f" {LETTERS[item['answer']]}\n\n" if answer else "")


def mmlu_prompts(items: list[dict], dev: list[dict] | None, shots: int, limit: int | None):
    """[(subject prefix, [items])] grouped by subject; with a limit, items are taken round-robin
    over the subjects (each subject's first, then each one's second, ...) so a short run still
    covers every subject."""
    chosen = _round_robin(items, limit) if limit else items
    by_subject: dict[str, list[dict]] = {}
    for item in chosen:
        by_subject.setdefault(item["subject"], []).append(item)
    pool: dict[str, list[dict]] = {}
    for item in (dev if dev else items):
        pool.setdefault(item["subject"], []).append(item)
    groups = []
    for subject, members in by_subject.items():
        exemplars = [e for e in pool.get(subject, []) if dev or e not in members][:shots]
        if len(exemplars) < shots:  # too few of the subject: take them from the items left out
            exemplars += [e for e in pool.get(subject, []) if e not in exemplars][:shots -
                                                                                  len(exemplars)]
        prefix = mmlu_header(subject) + "".join(mmlu_block(e, True) for e in exemplars)
        groups.append((prefix, members))
    return groups


# -- scoring ---------------------------------------------------------------------------------

def run_hellaswag(scorer, items: list[dict], shots: int, limit: int | None,
                  progress: bool = False) -> TaskResult:
    prefix, scored = hellaswag_prompts(items, shots, limit)
    result = TaskResult("hellaswag", shots)
    started, decoded = time.perf_counter(), scorer.decoded
    shared = [scorer.bos()] + scorer.tokenize(prefix) if prefix else [scorer.bos()]
    scorer.keep(shared)
    for item in tqdm(scored, desc=f"hellaswag {shots}-shot", disable=not progress,
                     file=sys.stderr, unit="item"):
        scores = _score_choices(scorer, shared, item["query"],
                                [" " + e for e in item["endings"]])
        result.correct.append(int(_argmax(scores) == item["label"]))
        normed = [s / max(1, len(e)) for s, e in zip(scores, item["endings"])]
        result.correct_norm.append(int(_argmax(normed) == item["label"]))
    result.seconds = time.perf_counter() - started
    result.tokens = scorer.decoded - decoded
    return result


def _score_choices(scorer, shared: list[int], query: str, choices: list[str]) -> list[float]:
    """Each choice's log-likelihood after shared + query, the pair split as the harness splits
    it; choices whose context tokens agree (nearly always all) share one decoded context."""
    pairs = [scorer.split(query, choice, bos=False) for choice in choices]
    by_context: dict[tuple, list[int]] = {}
    for i, (context, _) in enumerate(pairs):
        by_context.setdefault(tuple(context), []).append(i)
    scores = [0.0] * len(choices)
    for context, members in by_context.items():
        got = scorer.score(shared + list(context), [pairs[i][1] for i in members])
        for i, (value, _) in zip(members, got):
            scores[i] = value
    return scores


def run_mmlu(scorer, items: list[dict], dev: list[dict] | None, shots: int, limit: int | None,
             progress: bool = False) -> TaskResult:
    groups = mmlu_prompts(items, dev, shots, limit)
    result = TaskResult("mmlu", shots)
    letters = [scorer.tokenize(" " + letter) for letter in LETTERS]
    started, decoded = time.perf_counter(), scorer.decoded
    bar = tqdm(total=sum(len(m) for _, m in groups), desc=f"mmlu {shots}-shot",
               disable=not progress, file=sys.stderr, unit="item")
    for prefix, members in groups:
        shared = [scorer.bos()] + scorer.tokenize(prefix)
        scorer.keep(shared)
        for item in members:
            context = shared + scorer.tokenize(mmlu_block(item, False))
            scores = [s for s, _ in scorer.score(context, letters)]
            result.correct.append(int(_argmax(scores) == item["answer"]))
            result.subjects.append(item["subject"])
            bar.update()
    bar.close()
    result.seconds = time.perf_counter() - started
    result.tokens = scorer.decoded - decoded
    return result


def _round_robin(items: list[dict], limit: int) -> list[dict]:
    by_subject: dict[str, list[dict]] = {}
    for item in items:
        by_subject.setdefault(item["subject"], []).append(item)
    out: list[dict] = []
    depth = 0
    while len(out) < limit and any(depth < len(v) for v in by_subject.values()):
        out += [v[depth] for v in by_subject.values() if depth < len(v)][:limit - len(out)]
        depth += 1
    return out


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda i: values[i])


def evaluate_general(model_path: str | Path, data: Path, lora_path: str = "",
                     tasks: Iterable[str] | None = None, shots: int | None = None,
                     limit: int | None = None, threads: int = 2, progress: bool = False,
                     scorer=None) -> dict[str, TaskResult]:
    """Score each task on the model (plus adapter); {task: TaskResult}."""
    from ..engines import LoglikScorer

    if limit is not None and limit < 1:
        raise InvalidRequest("--limit must be a positive number")
    if shots is not None and not 0 <= shots <= 25:
        raise InvalidRequest("--shots must be between 0 and 25")
    names = tasks_in(data, tasks)
    loaded = {t: load_task(data, t) for t in names}
    own = scorer is None
    scorer = scorer or LoglikScorer(model_path, lora_path, n_ctx=4096, threads=threads)
    try:
        results = {}
        for task in names:
            k = DEFAULT_SHOTS[task] if shots is None else shots
            if task == "hellaswag":
                results[task] = run_hellaswag(scorer, loaded[task], k, limit, progress)
            else:
                dev_path = Path(data) / "mmlu_dev.jsonl"
                dev = _read_jsonl(dev_path) if dev_path.is_file() else None
                results[task] = run_mmlu(scorer, loaded[task], dev, k, limit, progress)
        return results
    finally:
        if own:
            scorer.close()


def format_general(results: dict[str, dict]) -> str:
    lines = []
    for task, s in results.items():
        pct = lambda v: f"{100 * v:.1f}"  # noqa: E731
        ci = s["acc_interval"]
        line = (f"{task:<10} {s['shots']}-shot  n={s['n']}  acc {pct(s['acc'])} "
                f"[{pct(ci[0])}, {pct(ci[1])}]")
        if s.get("acc_norm") is not None:
            ci = s["acc_norm_interval"]
            line += f"  acc_norm {pct(s['acc_norm'])} [{pct(ci[0])}, {pct(ci[1])}]"
        if s.get("acc_macro") is not None:
            line += f"  macro {pct(s['acc_macro'])} over {s['subjects']} subjects"
        line += f"  ({s['items_per_s']} items/s)"
        lines.append(line)
    lines.append("random choice scores 25.0 on both; intervals are 95% (Wilson)")
    return "\n".join(lines)
