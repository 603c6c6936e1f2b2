"""peft LoRA training on the base model's own weights, read by transformers from the GGUF file.

One example is a prompt and a completion; the loss covers the completion tokens only, and only
their logits are computed (the 262k-word output layer dominates a CPU step otherwise). Batches
are one sequence (no padding on CPU) with gradient accumulation. Checkpoints hold the adapter,
the optimizer and the position in the fixed, seeded example order, so `resume` continues the
same run exactly.
"""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import TuningError
from .tokens import tokenizer_for

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TrainConfig:
    """Defaults sized for 2 CPU cores and a 270M model: rank 8 on every projection."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = TARGET_MODULES
    learning_rate: float = 3e-4
    epochs: float = 1.0
    max_steps: int = 0  # optimizer steps; 0 = run `epochs`
    grad_accum: int = 8
    max_length: int = 1024
    warmup_steps: int = 5
    checkpoint_every: int = 10
    keep_checkpoints: int = 2
    seed: int = 0
    threads: int = 2
    device: str = "auto"
    qlora: bool = False  # the frozen base in 4 bits (bitsandbytes NF4): CUDA only


@dataclass
class TrainReport:
    run_dir: str
    adapter_dir: str
    examples: int
    dropped_too_long: int
    steps: int
    examples_seen: int
    seconds: float
    seconds_per_1000_examples: float
    final_loss: float
    device: str
    losses: list[float] = field(default_factory=list)


def load_base_model(gguf_path: str | Path, device: str = "cpu", qlora: bool = False):
    """The base model dequantized from its GGUF file (float32), as transformers sees it; with
    `qlora`, requantized to 4-bit NF4 on the GPU (bitsandbytes), bf16 compute."""
    passive_omp()
    import torch
    from transformers import AutoModelForCausalLM

    path = Path(gguf_path)
    if not path.is_file():
        raise TuningError(f"model file not found: {path}")
    if qlora:
        return _load_4bit(path, device)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                 dtype=torch.float32)
    return model.to(device)


def _load_4bit(path: Path, device: str):
    import torch

    if not device.startswith("cuda"):
        raise TuningError("QLoRA needs a CUDA GPU and none is usable here: train without "
                          "--qlora (LoRA on the CPU)")
    try:
        import bitsandbytes  # noqa: F401 - transformers needs it for 4-bit weights
    except ImportError:
        raise TuningError("QLoRA needs the bitsandbytes package (a CUDA build): "
                          "pip install bitsandbytes") from None
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                 quantization_config=quant,
                                                 device_map={"": device})
    return prepare_model_for_kbit_training(model)


def passive_omp() -> None:
    """Idle OpenMP threads sleep instead of spinning: on a busy 2-core box spinning threads
    made a training step 5x slower. Takes effect only before torch is first imported."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pick_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TuningError("device cuda was asked for but no GPU is available")
    return name


def encode(examples: Sequence[dict], gguf_path: str, max_length: int) -> tuple[list, int]:
    """(ids, completion length) per example, BOS first as llama.cpp adds it; drops long ones."""
    tok = tokenizer_for(str(gguf_path))
    encoded, dropped = [], 0
    for ex in examples:
        prompt = [tok.bos_id] + tok.encode(ex["prompt"])
        completion = tok.encode(ex["completion"])
        if not completion:
            continue
        if len(prompt) + len(completion) > max_length:
            dropped += 1
            continue
        encoded.append((prompt + completion, len(completion)))
    return encoded, dropped


def read_examples(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise TuningError(f"training file not found: {path}") from exc
    return [json.loads(line) for line in lines if line.strip()]


def order(n: int, seed: int, epochs: float) -> list[int]:
    """The fixed example order: a seeded shuffle per epoch, cut to `epochs` in total."""
    out: list[int] = []
    for epoch in range(math.ceil(epochs)):
        idx = list(range(n))
        random.Random(seed * 1000 + epoch).shuffle(idx)
        out.extend(idx)
    return out[:max(1, round(n * epochs))]


def train(run_dir: Path, examples: Sequence[dict], gguf_path: str | Path, config: TrainConfig,
          resume: bool = False, progress: bool = True, base_model: Any = None,
          meta: dict | None = None) -> TrainReport:
    """Train a LoRA adapter into run_dir/adapter; `base_model` reuses an already loaded model."""
    passive_omp()
    import torch
    from peft import LoraConfig, get_peft_model

    from .checkpoints import latest_checkpoint, restore, save_checkpoint

    run_dir = Path(run_dir)
    device = pick_device(config.device)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    encoded, dropped = encode(examples, str(gguf_path), config.max_length)
    if not encoded:
        raise TuningError("no training example fits max_length; raise --max-length")
    schedule = order(len(encoded), config.seed, config.epochs)
    total_steps = config.max_steps or math.ceil(len(schedule) / config.grad_accum)
    schedule = (schedule * math.ceil(total_steps * config.grad_accum / len(schedule) + 1)
                )[:total_steps * config.grad_accum]
    _write_run_file(run_dir, config, len(encoded), resume, meta or {})

    model = base_model if base_model is not None else load_base_model(gguf_path, device,
                                                                      config.qlora)
    lora = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=list(config.target_modules), bias="none",
                      task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)
    try:
        params = [p for p in peft_model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: _lr_factor(s, config.warmup_steps, total_steps))
        state = {"step": 0, "losses": [], "seconds": 0.0}
        found = latest_checkpoint(run_dir) if resume else None
        if found:
            state = restore(found, peft_model, optimizer, scheduler)
        report = _loop(peft_model, optimizer, scheduler, encoded, schedule, config, state,
                       total_steps, run_dir, device, progress, save_checkpoint)
        adapter_dir = run_dir / "adapter"
        if adapter_dir.exists():
            shutil.rmtree(adapter_dir)
        peft_model.save_pretrained(str(adapter_dir), save_embedding_layers=False)
    finally:
        peft_model.unload()  # leave a shared base model as it was
    report.update(adapter_dir=str(adapter_dir), examples=len(encoded), dropped_too_long=dropped,
                  device=device, run_dir=str(run_dir))
    result = TrainReport(**report)
    (run_dir / "train_report.json").write_text(json.dumps(asdict(result), indent=1))
    return result


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / (warmup + 1)
    return max(0.1, 1.0 - (step - warmup) / max(1, total - warmup))


def _loop(model, optimizer, scheduler, encoded, schedule, config, state, total_steps, run_dir,
          device, progress, save_checkpoint) -> dict:
    import torch
    from tqdm import tqdm

    model.train()
    step = state["step"]
    bar = tqdm(total=total_steps, initial=step, desc="train", unit="step", file=sys.stderr,
               disable=not progress)
    started = time.perf_counter() - state["seconds"]
    while step < total_steps:
        loss_sum = 0.0
        for i in schedule[step * config.grad_accum:(step + 1) * config.grad_accum]:
            ids, n = encoded[i]
            loss = completion_loss(model, torch.tensor([ids], device=device), n)
            (loss / config.grad_accum).backward()
            loss_sum += float(loss.detach())
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        state["losses"].append(round(loss_sum / config.grad_accum, 4))
        bar.update(1)
        bar.set_postfix(loss=state["losses"][-1])
        state.update(step=step, seconds=time.perf_counter() - started)
        if step % config.checkpoint_every == 0 or step == total_steps:
            save_checkpoint(run_dir, model, optimizer, scheduler, state, config.keep_checkpoints)
    bar.close()
    seen = total_steps * config.grad_accum
    seconds = time.perf_counter() - started
    tail = state["losses"][-20:]
    return dict(steps=total_steps, examples_seen=seen, seconds=round(seconds, 1),
                seconds_per_1000_examples=round(seconds / seen * 1000, 1),
                final_loss=round(sum(tail) / len(tail), 4), losses=state["losses"])


def completion_loss(model, ids, n_completion: int):
    """Mean cross-entropy of the last `n_completion` tokens, computing only their logits."""
    import torch.nn.functional as F

    logits = model(input_ids=ids, logits_to_keep=n_completion + 1).logits[0, :-1]
    return F.cross_entropy(logits.float(), ids[0, -n_completion:])


def _write_run_file(run_dir: Path, config: TrainConfig, n: int, resume: bool,
                    meta: dict) -> None:
    path = run_dir / "run.json"
    record = {"config": asdict(config), "examples": n, **meta}
    if resume and path.is_file():
        old = json.loads(path.read_text())
        if old.get("config") != json.loads(json.dumps(record["config"])) or \
                old.get("data_sha256") != record.get("data_sha256"):
            raise TuningError(f"{run_dir} was trained with other settings or data; "
                              "resume needs the same ones")
        return
    if not resume and (run_dir / "checkpoints").exists():
        raise TuningError(f"{run_dir} already has checkpoints: pass --resume or use a new run")
    run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
