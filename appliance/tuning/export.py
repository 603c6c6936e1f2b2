"""peft LoRA adapter → GGUF LoRA adapter that llama.cpp applies on top of the quantized base.

Follows llama.cpp's convert_lora_to_gguf conventions: general.type "adapter", adapter.type
"lora", adapter.lora.alpha, and a pair of tensors per adapted weight named after the base
tensor, `blk.N.attn_q.weight.lora_a` (shape r × n_in) and `.lora_b` (n_out × r). llama.cpp
scales B·A by alpha / r, as peft does. Gemma's GGUF keeps q/k rows in Hugging Face order, so
no permutation is needed; the shapes are checked against the base file's tensors.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from . import TuningError
from .gguf_header import read_header

GGUF_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
SUPPORTED_ARCHS = ("gemma3", "gemma2", "gemma", "qwen2", "qwen3", "phi3")
KEY = re.compile(r"(?:base_model\.model\.)?model\.layers\.(\d+)\.(\w+\.\w+)\.lora_([AB])\.weight$")


def gguf_tensor_name(peft_key: str) -> tuple[str, str]:
    """('blk.3.attn_q.weight', 'a') for a peft key of layer 3's q_proj lora_A."""
    m = KEY.search(peft_key)
    if not m or m.group(2) not in GGUF_NAMES:
        raise TuningError(f"cannot export adapter tensor {peft_key!r}: only the attention and "
                          "MLP projections of the decoder layers are supported")
    return f"blk.{m.group(1)}.{GGUF_NAMES[m.group(2)]}.weight", m.group(3).lower()


def read_peft_adapter(adapter_dir: Path) -> tuple[dict, dict]:
    """(adapter_config.json, {key: float32 numpy array}) of a saved peft adapter."""
    from safetensors.numpy import load_file

    adapter_dir = Path(adapter_dir)
    try:
        config = json.loads((adapter_dir / "adapter_config.json").read_text())
    except FileNotFoundError as exc:
        raise TuningError(f"no peft adapter in {adapter_dir}") from exc
    if config.get("peft_type", "LORA") != "LORA" or config.get("use_dora"):
        raise TuningError("only plain LoRA adapters can be exported (no DoRA)")
    weights = adapter_dir / "adapter_model.safetensors"
    if not weights.is_file():
        raise TuningError(f"no adapter_model.safetensors in {adapter_dir}")
    return config, {k: v.astype("float32") for k, v in load_file(str(weights)).items()}


def base_tensor_shapes(base_gguf: Path) -> tuple[str, dict[str, tuple[int, int]]]:
    """(architecture, {tensor name: (n_in, n_out)}) of the base GGUF file's 2-D tensors."""
    arch, dims = read_header(Path(base_gguf))
    return arch, {name: (d[0], d[1]) for name, d in dims.items() if len(d) == 2}


def export_adapter(adapter_dir: Path, base_gguf: Path, out_path: Path, name: str = "",
                   scale: float = 1.0) -> dict:
    """Write the GGUF adapter; returns {'tensors', 'rank', 'alpha', 'arch', 'scale'}.

    `scale` multiplies the adapter's effect (stored in alpha, as llama.cpp's --lora-scaled
    would): below 1 it trades some of the taught behaviour for less drift from the base."""
    import gguf

    config, tensors = read_peft_adapter(adapter_dir)
    arch, shapes = base_tensor_shapes(base_gguf)
    if arch not in SUPPORTED_ARCHS:
        raise TuningError(f"adapter export does not support architecture {arch!r}")
    rank = int(config["r"])
    alpha = float(config["lora_alpha"])
    if config.get("use_rslora"):
        alpha *= rank ** 0.5  # llama.cpp scales by alpha / r; rsLoRA by alpha / sqrt(r)
    if not 0 < scale <= 4:
        raise TuningError("scale must be above 0 and at most 4")
    alpha *= scale
    pairs: dict[str, dict[str, object]] = {}
    for key, value in tensors.items():
        base, part = gguf_tensor_name(key)
        pairs.setdefault(base, {})[part] = value
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    writer = gguf.GGUFWriter(str(tmp), arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("general.name", name or Path(adapter_dir).name)
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    for base in sorted(pairs, key=_natural):
        a, b = pairs[base].get("a"), pairs[base].get("b")
        _check_pair(base, a, b, shapes, rank)
        writer.add_tensor(f"{base}.lora_a", a)
        writer.add_tensor(f"{base}.lora_b", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out_path)
    return {"tensors": 2 * len(pairs), "rank": rank, "alpha": alpha, "arch": arch,
            "scale": scale}


def _check_pair(base: str, a, b, shapes: dict, rank: int) -> None:
    if a is None or b is None:
        raise TuningError(f"adapter tensor {base} lacks its lora_A or lora_B half")
    if base not in shapes:
        raise TuningError(f"the base model has no tensor {base}: adapter and base do not match")
    n_in, n_out = shapes[base]
    if a.shape != (rank, n_in) or b.shape != (n_out, rank):
        raise TuningError(f"{base}: adapter shapes {a.shape}, {b.shape} do not fit the base "
                          f"tensor ({n_in} in, {n_out} out) at rank {rank}")


def _natural(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))
