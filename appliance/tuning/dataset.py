"""`tune prepare`: JSONL records and reviewed feedback → a validated, deduplicated, PII-redacted
training set split into train and eval.

Accepted record shapes, one JSON object a line:
  {"prompt": "...", "completion": "..."}
  {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}  (ends with an
      assistant turn, which becomes the completion)
Feedback exports (reviewed chat answers with a correction), one a line:
  {"question": "...", "context": "..." or ["...", ...] (optional), "corrected_answer": "..."}
  These become prompts in the appliance's own format through the `format_feedback` callable.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from . import TuningError

MIN_EXAMPLES = 500
RECOMMENDED_EXAMPLES = 1000
FormatFeedback = Callable[[str, list[str], str], tuple[str, str]]


@dataclass
class PreparedSet:
    name: str
    path: str
    train: int
    eval: int
    data_sha256: str
    rejected: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _str(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def record_to_example(rec: dict) -> dict:
    """Normalise a prompt/completion or chat-messages record; raises ValueError when invalid."""
    if "prompt" in rec or "completion" in rec:
        if not (_str(rec.get("prompt")) and _str(rec.get("completion"))):
            raise ValueError("prompt and completion must be non-empty strings")
        return {"prompt": rec["prompt"], "completion": rec["completion"]}
    if "messages" in rec:
        return chat_to_example(rec["messages"])
    raise ValueError("expected prompt/completion or messages")


def chat_to_example(messages) -> dict:
    """A conversation in the Question/Answer frame a base model continues; the last assistant
    turn is the completion."""
    if not isinstance(messages, list) or len(messages) < 2:
        raise ValueError("messages must be a list with a user and an assistant turn")
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant") \
                or not _str(m.get("content")):
            raise ValueError("each message needs a role (system/user/assistant) and content")
    if messages[-1]["role"] != "assistant" or messages[-2]["role"] != "user":
        raise ValueError("messages must end with a user turn and then an assistant turn")
    parts = []
    for m in messages[:-1]:
        text = " ".join(m["content"].split())
        if m["role"] == "system":
            parts.append(text + "\n\n")
        elif m["role"] == "user":
            parts.append(f"Question: {text}\n")
        else:
            parts.append(f"Answer: {text}\n")
    answer = " ".join(messages[-1]["content"].split())
    return {"prompt": "".join(parts) + "Answer:", "completion": f" {answer}\n"}


def feedback_to_example(rec: dict, format_feedback: FormatFeedback) -> dict:
    if not (_str(rec.get("question")) and _str(rec.get("corrected_answer"))):
        raise ValueError("feedback needs question and corrected_answer")
    context = rec.get("context") or []
    if isinstance(context, str):
        context = [context]
    if not isinstance(context, list) or not all(_str(c) for c in context):
        raise ValueError("context must be a string or a list of strings")
    prompt, completion = format_feedback(rec["question"], context, rec["corrected_answer"])
    return {"prompt": prompt, "completion": completion}


def read_records(path: Path, kind: str, format_feedback: FormatFeedback | None,
                 errors: list[str], rejected: dict[str, int]) -> list[dict]:
    if not Path(path).is_file():
        raise TuningError(f"no such file: {path}")
    out = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError("not a JSON object")
                if kind == "feedback":
                    if format_feedback is None:
                        raise TuningError("feedback records need a prompt formatter")
                    ex = feedback_to_example(rec, format_feedback)
                else:
                    ex = record_to_example(rec)
            except (ValueError, json.JSONDecodeError) as exc:
                rejected["invalid"] = rejected.get("invalid", 0) + 1
                if len(errors) < 20:
                    errors.append(f"{path}:{number}: {exc}")
                continue
            out.append({**ex, "origin": kind})
    return out


def dedupe(examples: Iterable[dict], rejected: dict[str, int]) -> list[dict]:
    """Drop exact duplicates; of two different completions for one prompt keep the first."""
    seen_prompts: set[str] = set()
    out = []
    for ex in examples:
        key = _digest(" ".join(ex["prompt"].split()))
        if key in seen_prompts:
            rejected["duplicate"] = rejected.get("duplicate", 0) + 1
            continue
        seen_prompts.add(key)
        out.append(ex)
    return out


def split(examples: Sequence[dict], eval_fraction: float, seed: int) -> tuple[list, list]:
    """A stable split: an example's side depends only on its prompt and the seed."""
    if not 0 <= eval_fraction < 1:
        raise TuningError("eval fraction must be at least 0 and below 1")
    ranked = sorted(examples, key=lambda ex: _digest(f"{seed}:{ex['prompt']}"))
    n_eval = round(len(ranked) * eval_fraction)
    if eval_fraction and len(ranked) >= 2:
        n_eval = max(1, n_eval)
    eval_ids = {id(ex) for ex in ranked[:n_eval]}
    return ([ex for ex in examples if id(ex) not in eval_ids],
            [ex for ex in examples if id(ex) in eval_ids])


def prepare(out_dir: Path, inputs: Sequence[Path], feedback: Sequence[Path],
            redact: Callable[[str], str], format_feedback: FormatFeedback | None = None,
            eval_fraction: float = 0.1, seed: int = 0) -> PreparedSet:
    """Read, validate, redact, deduplicate, split and write train.jsonl / eval.jsonl."""
    errors: list[str] = []
    rejected: dict[str, int] = {}
    examples = []
    for path in inputs:
        examples += read_records(path, "jsonl", None, errors, rejected)
    for path in feedback:
        examples += read_records(path, "feedback", format_feedback, errors, rejected)
    examples = [{**ex, "prompt": redact(ex["prompt"]), "completion": redact(ex["completion"])}
                for ex in examples]
    examples = dedupe(examples, rejected)
    if not examples:
        raise TuningError("no valid training example: " + ("; ".join(errors[:3]) or "empty"))
    train, evals = split(examples, eval_fraction, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for name, rows in (("train", train), ("eval", evals)):
        body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        (out_dir / f"{name}.jsonl").write_text(body, encoding="utf-8")
        digest.update(body.encode("utf-8"))
    warnings = []
    if len(examples) < MIN_EXAMPLES:
        warnings.append(f"only {len(examples)} examples: below {MIN_EXAMPLES} an adapter rarely "
                        f"generalises; {RECOMMENDED_EXAMPLES:,} or more are recommended")
    result = PreparedSet(out_dir.name, str(out_dir), len(train), len(evals), digest.hexdigest(),
                         rejected, errors, warnings)
    manifest = {**asdict(result), "created": datetime.now(timezone.utc).isoformat(),
                "inputs": [{"path": str(p), "sha256": _file_digest(p)} for p in inputs],
                "feedback": [{"path": str(p), "sha256": _file_digest(p)} for p in feedback],
                "eval_fraction": eval_fraction, "seed": seed}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return result


def load_manifest(dataset_dir: Path) -> dict:
    try:
        return json.loads((Path(dataset_dir) / "manifest.json").read_text())
    except FileNotFoundError as exc:
        raise TuningError(f"no prepared training set in {dataset_dir} "
                          "(run `appliance tune prepare`)") from exc


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
