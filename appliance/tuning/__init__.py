"""Fine-tuning on the box: training sets, peft LoRA training, GGUF adapter export, the adapter
registry and the live adapter the generator serves.

Heavy libraries (torch, peft, transformers, llama_cpp) are imported inside the functions that
need them, so importing this package stays cheap.
"""
from ..errors import ApplianceError


class TuningError(ApplianceError):
    """A training set, training run, adapter file or adapter registry operation is invalid."""


__all__ = ["TuningError"]
