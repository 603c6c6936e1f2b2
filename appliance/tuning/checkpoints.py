"""Training checkpoints: adapter weights, optimizer, schedule and position; the newest N kept."""
from __future__ import annotations

import shutil
from pathlib import Path


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / "checkpoints"
    return sorted(p for p in root.glob("step-*") if (p / "state.pt").is_file())


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = checkpoint_dirs(run_dir)
    return found[-1] if found else None


def save_checkpoint(run_dir: Path, model, optimizer, scheduler, state: dict, keep: int) -> Path:
    import torch
    from peft import get_peft_model_state_dict

    target = Path(run_dir) / "checkpoints" / f"step-{state['step']:06d}"
    tmp = target.with_name(target.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save({"adapter": get_peft_model_state_dict(model),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": torch.get_rng_state(), "state": dict(state)}, tmp / "state.pt")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)  # a crash mid-save leaves the previous checkpoint intact
    for old in checkpoint_dirs(run_dir)[:-max(1, keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def restore(path: Path, model, optimizer, scheduler) -> dict:
    import torch
    from peft import set_peft_model_state_dict

    saved = torch.load(path / "state.pt", map_location="cpu", weights_only=False)
    set_peft_model_state_dict(model, saved["adapter"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])
    return dict(saved["state"])
