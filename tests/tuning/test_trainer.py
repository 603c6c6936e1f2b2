"""Training: a fixed seed gives the same adapter, and a run resumed from a checkpoint after a
crash ends with exactly the adapter of an uninterrupted run."""
from __future__ import annotations

import pytest
from safetensors.numpy import load_file

from tuning_helpers import tiny_records

pytestmark = pytest.mark.slow


def weights(run):
    return load_file(str(run / "adapter" / "adapter_model.safetensors"))


def test_resume_after_a_crash_matches_an_uninterrupted_run(tmp_path, base_gguf, base_model,
                                                           monkeypatch):
    from appliance.tuning import TuningError
    from appliance.tuning import trainer

    rows = tiny_records()[:4]
    config = trainer.TrainConfig(max_steps=3, grad_accum=1, checkpoint_every=1,
                                 learning_rate=1e-3, max_length=512, seed=7)
    whole = trainer.train(tmp_path / "whole", rows, base_gguf, config, progress=False,
                          base_model=base_model)
    assert whole.steps == 3 and len(whole.losses) == 3

    real_loss, calls = trainer.completion_loss, []

    def crash_on_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C during step 3
        return real_loss(*args)

    monkeypatch.setattr(trainer, "completion_loss", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(tmp_path / "resumed", rows, base_gguf, config, progress=False,
                      base_model=base_model)
    monkeypatch.setattr(trainer, "completion_loss", real_loss)
    with pytest.raises(TuningError, match="--resume"):
        trainer.train(tmp_path / "resumed", rows, base_gguf, config, progress=False,
                      base_model=base_model)
    resumed = trainer.train(tmp_path / "resumed", rows, base_gguf, config, resume=True,
                            progress=False, base_model=base_model)
    assert resumed.losses == whole.losses
    a, b = weights(tmp_path / "whole"), weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)
    other = trainer.TrainConfig(**{**config.__dict__, "seed": 8})
    with pytest.raises(TuningError, match="other settings"):
        trainer.train(tmp_path / "resumed", rows, base_gguf, other, resume=True,
                      progress=False, base_model=base_model)
