"""Redactor: applies a Policy to text on one path (ingest, prompt, context, output, logs)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..errors import PolicyError
from .findings import Finding, resolve_overlaps
from .operators import OPERATORS, OperatorContext
from .policy import PATHS, Policy
from .pseudonyms import PseudonymBook
from .recognizers import EntityTagger, NerRecognizer, Recognizer, builtin_recognizers
from .recognizers.custom import CustomRegexRecognizer, DenyTermsRecognizer

_MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text and how many findings of each type were rewritten (never the values)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


class Redactor:
    """Detects personal data and rewrites it as the policy says.

    ``secret`` keys the hash operator (HMAC-SHA256; at least 16 bytes). ``ner`` is an
    EntityTagger (see appliance.engines.ner); it is required when the policy enables PERSON,
    LOCATION or ORGANIZATION, so a policy never silently loses a type it asks for.
    """

    def __init__(self, policy: Policy, secret: bytes, ner: EntityTagger | None = None) -> None:
        if not isinstance(secret, (bytes, bytearray)) or len(secret) < _MIN_SECRET_BYTES:
            raise PolicyError(f"the redaction secret must be at least {_MIN_SECRET_BYTES} bytes")
        if policy.uses_ner and ner is None:
            raise PolicyError(f"policy {policy.name!r} enables {', '.join(sorted(policy.ner_types))} "
                              "but no NER tagger was given (use build_redactor(settings))")
        self.policy = policy
        self._secret = bytes(secret)
        self.pseudonyms = PseudonymBook()
        self._recognizers = _recognizers_for(policy)
        self._ner = NerRecognizer(ner, sorted(policy.ner_types)) if policy.uses_ner else None

    def adopt(self, policy: Policy, ner: EntityTagger | None = None) -> None:
        """Enforce `policy` from now on (a policy file changed on disk): the same object,
        so every service holding this redactor follows without a restart."""
        if policy.uses_ner and ner is None:
            raise PolicyError(f"policy {policy.name!r} enables NER types but no tagger was given")
        recognizers = _recognizers_for(policy)
        tagger = NerRecognizer(ner, sorted(policy.ner_types)) if policy.uses_ner else None
        self.policy, self._recognizers, self._ner = policy, recognizers, tagger

    # -- detection -------------------------------------------------------------------------
    def detect(self, text: str) -> list[Finding]:
        """Findings for every type the policy names (on any path), overlaps resolved, sorted."""
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str], path: str | None = None) -> list[list[Finding]]:
        """detect() for a batch (NER runs once over the batch); ``path`` limits to its types."""
        rules = self.policy.entities if path is None else self.policy.rules_for(path)
        raw = [self._raw(t, rules) for t in texts]
        if self._ner is not None and set(rules) & self._ner.types:
            for found, ner_found in zip(raw, self._ner.find_many(texts)):
                found.extend(f for f in ner_found if f.type in rules)
        return [resolve_overlaps(self._keep(t, fs, rules)) for t, fs in zip(texts, raw)]

    def _raw(self, text: str, rules) -> list[Finding]:
        found: list[Finding] = []
        for r in self._recognizers:
            if r.entity in rules:
                found.extend(r.find(text))
        return found

    def _keep(self, text: str, findings: Iterable[Finding], rules) -> list[Finding]:
        allow = self.policy.allow_list
        return [f for f in findings
                if f.score >= rules[f.type].min_score
                and not (allow and text[f.start:f.end].casefold() in allow)]

    # -- rewriting -------------------------------------------------------------------------
    def redact(self, text: str, path: str, scope: str | None = None) -> RedactionResult:
        """Rewrite ``text`` for ``path``; ``scope`` (conversation or document id) keys pseudonyms."""
        _check_path(path)
        if not text or not self.policy.applies_to(path):
            return RedactionResult(text, {})
        findings = self.detect_many([text], path)[0]
        return self.apply(text, findings, path, self.context(scope))

    def redact_many(self, texts: Sequence[str], path: str,
                    scope: str | None = None) -> list[RedactionResult]:
        """redact() for a batch sharing one scope; NER runs once over the batch."""
        _check_path(path)
        if not self.policy.applies_to(path):
            return [RedactionResult(t, {}) for t in texts]
        ctx = self.context(scope)
        found = self.detect_many(list(texts), path)
        return [self.apply(t, fs, path, ctx) if t else RedactionResult(t, {})
                for t, fs in zip(texts, found)]

    def context(self, scope: str | None) -> OperatorContext:
        """Operator context for ``scope``; without one, pseudonyms are consistent within one call."""
        if scope is None:
            return OperatorContext(self._secret, PseudonymBook(max_scopes=1), "")
        return OperatorContext(self._secret, self.pseudonyms, str(scope))

    def apply(self, text: str, findings: Sequence[Finding], path: str,
              ctx: OperatorContext) -> RedactionResult:
        """Rewrite the given (non-overlapping, sorted) findings of ``text`` with their operators."""
        rules = self.policy.rules_for(path)
        out, counts, pos = [], Counter(), 0
        for f in findings:
            rule = rules.get(f.type)
            if rule is None or f.start < pos:
                continue
            out.append(text[pos:f.start])
            out.append(OPERATORS[rule.action].apply(text[f.start:f.end], f.type, rule.params, ctx))
            pos = f.end
            if rule.action != "allow":
                counts[f.type] += 1
        out.append(text[pos:])
        return RedactionResult("".join(out), dict(sorted(counts.items())))

    def stream(self, path: str, scope: str | None = None):
        """A StreamRedactor for text generated piece by piece (e.g. model tokens)."""
        from .streaming import StreamRedactor
        _check_path(path)
        return StreamRedactor(self, path, self.context(scope))


def _check_path(path: str) -> None:
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r} (paths: {', '.join(PATHS)})")


def _recognizers_for(policy: Policy) -> list[Recognizer]:
    registry = builtin_recognizers(policy.phone_regions)
    for spec in policy.custom_recognizers:
        registry.add(CustomRegexRecognizer(spec.name, spec.type, spec.pattern, spec.score,
                                           spec.context, spec.negative_context, spec.ignore_case))
    for etype, terms in policy.deny_terms.items():
        registry.add(DenyTermsRecognizer(etype, terms))
    return registry.for_types(policy.entities)
