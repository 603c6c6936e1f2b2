"""Policy: the immutable, validated form of a PII policy, and the keys a policy file may hold.

policy_files.py reads a file and policy_checks.py validates it into this object, failing closed.
See policies/README.md for the meaning of every key.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import phonenumbers

from .recognizers import NER_TYPES

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


def known_phone_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS
