"""Where tuning artefacts live in the data dir (weights are never part of the repository)."""
from __future__ import annotations

import re
from pathlib import Path

from . import TuningError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def tuning_root(settings) -> Path:
    return Path(settings.data_dir) / "tuning"


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise TuningError(f"invalid name {name!r}: use letters, digits, '.', '_' or '-'")
    return name


def dataset_dir(settings, name: str) -> Path:
    return tuning_root(settings) / "datasets" / check_name(name)


def run_dir(settings, name: str) -> Path:
    return tuning_root(settings) / "runs" / check_name(name)


def adapters_dir(settings) -> Path:
    return Path(settings.data_dir) / "adapters"
