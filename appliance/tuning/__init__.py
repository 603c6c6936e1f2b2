"""Fine-tuning on the box: training sets, peft LoRA training, GGUF adapter export, the adapter
registry and the live adapter the generator serves.

Public surface (loaded on first use: torch, peft, transformers and llama_cpp are imported only
inside the functions that need them, so importing this package stays cheap):
    TuningError
    prepare, load_manifest                training sets (dataset.py)
    TrainConfig, read_examples, train     peft LoRA training (trainer.py)
    export_and_register                   GGUF export, evaluation hand-off, registry (workflow.py)
    AdapterRegistry, ActiveAdapter, Gate, regression_reasons, report_numbers,
    LiveAdapterGenerator
    ModelRegistry, ActiveModel, ModelInfo the model registry (model_registry.py)
    perplexity_check, GENERAL_TEXT, tokenizer_for, adapters_dir, dataset_dir, run_dir,
    tuning_root
"""
from importlib import import_module

from ..errors import ApplianceError


class TuningError(ApplianceError):
    """A training set, training run, adapter file or adapter registry operation is invalid."""


_EXPORTS = {
    "prepare": "dataset", "load_manifest": "dataset",
    "TrainConfig": "trainer", "read_examples": "trainer", "train": "trainer",
    "export_and_register": "workflow", "AdapterRegistry": "registry",
    "ActiveAdapter": "registry", "regression_reasons": "registry", "Gate": "registry",
    "report_numbers": "registry",
    "LiveAdapterGenerator": "live", "perplexity_check": "perplexity",
    "GENERAL_TEXT": "perplexity",
    "tokenizer_for": "tokens", "adapters_dir": "paths", "dataset_dir": "paths",
    "run_dir": "paths", "tuning_root": "paths",
    "ModelRegistry": "model_registry", "ActiveModel": "model_registry",
    "ModelInfo": "model_registry",
}
__all__ = ["TuningError", *sorted(_EXPORTS)]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
