"""Policy files: a YAML file (policies/*.yaml) read and validated into a Policy, failing closed.

Every problem is reported as ``<file>:<line>: <problem>`` through PolicyError.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import PolicyError
from .policy import _POLICY_NAME, Policy
from .policy_checks import Checker
from .yamlmarks import YamlProblem, load_with_lines


def resolve_policy_path(name_or_path: str | Path, policies_root: str | Path | None) -> Path:
    """A policy name ("hipaa") resolves inside ``policies_root``; anything path-like is a path."""
    text = str(name_or_path)
    if "/" in text or "\\" in text or text.endswith((".yaml", ".yml")):
        return Path(text)
    if not _POLICY_NAME.match(text):
        raise PolicyError(f"invalid policy name {text!r}")
    if policies_root is None:
        raise PolicyError(f"policy {text!r}: no policies directory is configured")
    return Path(policies_root) / f"{text}.yaml"


def load_policy(name_or_path: str | Path, policies_root: str | Path | None = None) -> Policy:
    """Load and validate a policy by name (in ``policies_root``) or path.

    Raises PolicyError("<file>:<line>: <problem>") for any invalid or unknown content.
    """
    path = resolve_policy_path(name_or_path, policies_root)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from None
    return parse_policy(raw, str(path), default_name=path.stem)


def list_policies(policies_root: str | Path) -> list[Path]:
    """The policy files in ``policies_root``, sorted by name."""
    root = Path(policies_root)
    return sorted(p for p in root.glob("*.yaml") if p.is_file()) if root.is_dir() else []


def parse_policy(raw: bytes, source: str, default_name: str = "policy") -> Policy:
    """Validate policy YAML ``raw`` read from ``source`` (used in messages)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{source}:1: policy file is not UTF-8 text") from None
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise PolicyError(f"{source}:{exc.line}: invalid YAML: {exc}") from None
    return Checker(source, lines).build(data, hashlib.sha256(raw).hexdigest(), default_name)
