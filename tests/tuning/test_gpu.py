"""GPU paths: offloaded decoding, the embedder on CUDA, QLoRA. Each is skipped, with the
reason, where this box has no GPU; on a CPU box only the refusals run."""
import pytest

from appliance.engines import gpu_offload_available
from appliance.tuning import TuningError


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


needs_offload = pytest.mark.skipif(not gpu_offload_available(),
                                   reason="this llama-cpp-python build cannot offload to a GPU "
                                          "(a CPU build, or no GPU on this box)")
needs_cuda = pytest.mark.skipif(not _cuda(), reason="torch sees no CUDA GPU on this box")


@pytest.mark.slow
def test_qlora_on_a_cpu_box_is_refused_with_the_way_out(model_dir):
    from appliance.tuning.trainer import load_base_model

    if _cuda():
        pytest.skip("a GPU is present: the refusal is for CPU boxes")
    with pytest.raises(TuningError, match="QLoRA needs a CUDA GPU.*without --qlora"):
        load_base_model(next(model_dir.glob("*.gguf")), "cpu", qlora=True)


def test_gpu_layers_setting_is_validated():
    from appliance.errors import SettingsError
    from appliance.settings import load_settings

    assert load_settings({"gpu_layers": "auto"}, environ={}).fixed_gpu_layers is None
    assert load_settings({"gpu_layers": "all"}, environ={}).fixed_gpu_layers == -1
    assert load_settings({"gpu_layers": "12"}, environ={}).fixed_gpu_layers == 12
    with pytest.raises(SettingsError, match="gpu_layers"):
        load_settings({"gpu_layers": "lots"}, environ={})


@pytest.mark.slow
@needs_offload
def test_offloaded_decoding_gives_the_cpu_answer(model_dir):
    from appliance.engines import LlamaGenerator

    path = str(next(model_dir.glob("*.gguf")))
    prompt = "Question: What is the capital of France?\nAnswer:"
    cpu = "".join(LlamaGenerator(path, 512, 2, gpu_layers=0).stream(prompt, 16, ["\n"]))
    gpu = "".join(LlamaGenerator(path, 512, 2, gpu_layers=-1).stream(prompt, 16, ["\n"]))
    assert gpu.split()[:3] == cpu.split()[:3]  # greedy: the same words, up to GPU numerics


@pytest.mark.slow
@needs_cuda
def test_the_embedder_runs_on_cuda(embedder):
    vectors = embedder.embed(["a test sentence"])
    assert embedder.device == "cuda" and vectors.shape[1] == 384


@pytest.mark.slow
@needs_cuda
def test_qlora_trains_a_few_steps_on_the_gpu(model_dir, tmp_path):
    pytest.importorskip("bitsandbytes", reason="QLoRA needs bitsandbytes (a CUDA build)")
    from appliance.tuning import TrainConfig, train

    examples = [{"prompt": f"Question: what is {i} plus {i}?\nAnswer:",
                 "completion": f" {2 * i}"} for i in range(16)]
    report = train(tmp_path / "run", examples, next(model_dir.glob("*.gguf")),
                   TrainConfig(max_steps=2, grad_accum=2, qlora=True, device="cuda"),
                   progress=False)
    assert report.steps == 2 and report.device.startswith("cuda")
