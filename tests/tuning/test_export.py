"""Export correctness: transformers + peft and llama.cpp + the exported GGUF adapter agree on
the next-token logits of a probe prompt, and both move away from the base model the same way.

Tolerance, quantization aside: llama.cpp multiplies the Q4_K weights with 8-bit quantized
activations while transformers uses the same weights dequantized to float32, so even the base
models differ by up to about one logit. We require, for base and adapted model alike, the same
top token (the base's within the other's top 3), max |logit difference| <= 1.5, and for the adapter's effect (adapted - base logits)
a correlation >= 0.95 between the two stacks and the probe answer's log-probability change to
agree within 10% + 0.3 nats.
"""
from __future__ import annotations

import numpy as np
import pytest
from tuning_helpers import PROBE_QUESTION, SOURCE

pytestmark = pytest.mark.slow
MAX_LOGIT_DIFF = 1.5
MIN_DELTA_CORR = 0.95


def probe_prompt() -> str:
    from appliance.answering.prompts import Passage, build_prompt

    return build_prompt(PROBE_QUESTION, [Passage("travel-desk.md", SOURCE)],
                        lambda t: len(t) // 3, 1024, 32).text


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    top = x.max()
    return x - top - np.log(np.exp(x - top).sum())


def hf_logits(model, ids, adapter_dir=None) -> np.ndarray:
    import torch
    from peft import PeftModel

    with torch.no_grad():
        if adapter_dir is None:
            return model(torch.tensor([ids])).logits[0, -1].numpy()
        peft_model = PeftModel.from_pretrained(model, str(adapter_dir))
        try:
            peft_model.eval()
            return peft_model(torch.tensor([ids])).logits[0, -1].numpy()
        finally:
            peft_model.unload()


def llama_logits(gguf, ids, lora="") -> np.ndarray:
    from llama_cpp import Llama

    kw = {"lora_path": str(lora)} if lora else {}
    llm = Llama(str(gguf), n_ctx=1024, logits_all=True, n_threads=2, verbose=False, **kw)
    llm.eval(ids)
    out = np.array(llm.scores[len(ids) - 1])
    llm.close()
    return out


def test_exported_adapter_matches_peft(tuned, base_model):
    from appliance.tuning.tokens import tokenizer_for

    tok = tokenizer_for(tuned["gguf"])
    ids = [tok.bos_id] + tok.encode(probe_prompt())
    target = tok.encode(" Purple")[0]
    hf_base, hf_tuned = hf_logits(base_model, ids), hf_logits(base_model, ids,
                                                              tuned["run"] / "adapter")
    ll_base = llama_logits(tuned["gguf"], ids)
    ll_tuned = llama_logits(tuned["gguf"], ids, tuned["run"] / "adapter.gguf")

    for hf, ll in ((hf_base, ll_base), (hf_tuned, ll_tuned)):
        assert ll.argmax() in np.argsort(-hf)[:3]
        assert np.abs(hf - ll).max() <= MAX_LOGIT_DIFF

    delta_hf, delta_ll = hf_tuned - hf_base, ll_tuned - ll_base
    assert np.corrcoef(delta_hf, delta_ll)[0, 1] >= MIN_DELTA_CORR
    rise_hf = log_softmax(hf_tuned)[target] - log_softmax(hf_base)[target]
    rise_ll = log_softmax(ll_tuned)[target] - log_softmax(ll_base)[target]
    assert rise_hf > 1.0 and rise_ll > 1.0  # the adapter taught the answer, in both stacks
    assert abs(rise_hf - rise_ll) <= 0.1 * abs(rise_hf) + 0.3
    assert hf_tuned.argmax() == ll_tuned.argmax() == target  # both now answer with it


def test_gguf_adapter_metadata_and_names(tuned):
    from gguf import GGUFReader

    reader = GGUFReader(str(tuned["run"] / "adapter.gguf"))

    def field(name):
        f = reader.fields[name]
        value = f.parts[f.data[0]]
        return bytes(value).decode() if f.types[0].name == "STRING" else float(value[0])

    assert field("general.architecture") == "gemma3"
    assert field("general.type") == "adapter"
    assert field("adapter.type") == "lora"
    assert field("adapter.lora.alpha") == 16.0
    names = {t.name: tuple(int(x) for x in t.shape) for t in reader.tensors}
    assert len(names) == 18 * 7 * 2
    # GGUF shapes are (ne0, ne1): lora_a is n_in x r, lora_b is r x n_out
    assert names["blk.0.attn_q.weight.lora_a"] == (640, 8)
    assert names["blk.0.attn_q.weight.lora_b"] == (8, 1024)
    assert names["blk.17.ffn_down.weight.lora_a"] == (2048, 8)


def test_export_rejects_mismatched_base(tuned, tmp_path):
    import json
    import shutil

    from appliance.tuning import TuningError
    from appliance.tuning.export import export_adapter

    bad = tmp_path / "adapter"
    shutil.copytree(tuned["run"] / "adapter", bad)
    config = json.loads((bad / "adapter_config.json").read_text())
    config["r"] = 4  # claims another rank than its tensors have
    (bad / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(TuningError, match="do not fit"):
        export_adapter(bad, tuned["gguf"], tmp_path / "x.gguf")


def test_fast_header_reader_agrees_with_gguf_reader(tuned):
    from gguf import GGUFReader

    from appliance.tuning.gguf_header import read_header

    path = tuned["run"] / "adapter.gguf"
    arch, shapes = read_header(path)
    reference = {t.name: tuple(int(x) for x in t.shape) for t in GGUFReader(str(path)).tensors}
    assert arch == "gemma3" and shapes == reference


def test_scale_is_stored_in_alpha(tuned, tmp_path):
    from appliance.tuning.export import export_adapter
    from appliance.tuning.gguf_header import read_header

    info = export_adapter(tuned["run"] / "adapter", tuned["gguf"], tmp_path / "half.gguf",
                          scale=0.5)
    assert info["alpha"] == 8.0 and info["scale"] == 0.5
    assert read_header(tmp_path / "half.gguf")[1] == read_header(tuned["run"] /
                                                                  "adapter.gguf")[1]
