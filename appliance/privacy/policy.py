"""Policy: a YAML file (policies/*.yaml) validated into an immutable object, failing closed.

Every problem is reported as ``<file>:<line>: <problem>`` through PolicyError. See
policies/README.md for the meaning of every key.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import phonenumbers

from ..errors import PolicyError
from .recognizers import NER_TYPES
from .yamlmarks import YamlProblem, load_with_lines

PATHS = ("ingest", "prompt", "context", "output", "logs")
NER_LANGUAGES = ("en",)
_TOP_KEYS = ("version", "name", "description", "languages", "paths", "phone_regions", "defaults",
             "entities", "allow_list", "deny_terms", "custom_recognizers")
_RULE_KEYS = ("action", "min_score", "paths")
_CUSTOM_KEYS = ("name", "type", "pattern", "score", "context", "negative_context", "ignore_case")
_TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class EntityRule:
    """What to do with one entity type: operator, its parameters, threshold, paths."""

    type: str
    action: str
    min_score: float
    paths: frozenset[str]
    params: Mapping[str, Any]


@dataclass(frozen=True)
class CustomRecognizerSpec:
    """A regex recognizer defined by the policy."""

    name: str
    type: str
    pattern: str
    score: float
    context: tuple[str, ...]
    negative_context: tuple[str, ...]
    ignore_case: bool


@dataclass(frozen=True)
class Policy:
    """A validated PII policy. ``sha256`` is the digest of the file's bytes (for the audit log)."""

    name: str
    source: str
    sha256: str
    description: str
    languages: tuple[str, ...]
    paths: frozenset[str]
    phone_regions: tuple[str, ...]
    entities: Mapping[str, EntityRule]
    allow_list: frozenset[str]
    deny_terms: Mapping[str, tuple[str, ...]]
    custom_recognizers: tuple[CustomRecognizerSpec, ...]

    def applies_to(self, path: str) -> bool:
        """True when some entity rule is enforced on ``path`` (ingest, prompt, context, output, logs)."""
        return any(path in rule.paths for rule in self.entities.values())

    def rules_for(self, path: str) -> dict[str, EntityRule]:
        """The entity rules enforced on ``path``."""
        return {t: r for t, r in self.entities.items() if path in r.paths}

    @property
    def ner_types(self) -> frozenset[str]:
        """The enabled types that need the NER model."""
        return frozenset(self.entities) & frozenset(NER_TYPES)

    @property
    def uses_ner(self) -> bool:
        return bool(self.ner_types)

    def without_types(self, types) -> "Policy":
        """A copy without the given entity types (e.g. NER types, for a structured-only run)."""
        kept = {t: r for t, r in self.entities.items() if t not in set(types)}
        return dataclasses.replace(self, entities=MappingProxyType(kept))


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
    from .policy_checks import Checker  # split out to keep this module small
    return Checker(source, lines).build(data, hashlib.sha256(raw).hexdigest(), default_name)


def known_phone_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS
