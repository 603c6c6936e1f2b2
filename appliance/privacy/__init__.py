"""PII engine: policies (data), recognizers (find), operators (rewrite), redactors (batch, stream).

Pure Python: no Flask, no SQL, no model imports; NER arrives as an injected EntityTagger.

Public API:
    load_policy(name_or_path, policies_root) -> Policy
    Redactor(policy, secret, ner=None).redact(text, path, scope=None) -> RedactionResult
    Redactor.detect(text) -> list[Finding];  Redactor.stream(path, scope=None) -> StreamRedactor
    build_redactor(settings) -> Redactor;    policies_root(settings) -> Path
    RedactorPool(settings).get(policy_name) -> Redactor  (per-collection policies, shared NER)
    create_secret(secrets_dir) / load_secret(secrets_dir)
    stored_forms(subject, policies, secret), subject_digest(kind, value, secret)   erasure
"""
from .factory import (
                      RedactorPool,
                      build_redactor,
                      default_tagger,
                      load_settings_policy,
                      policies_root,
)
from .findings import Finding, resolve_overlaps
from .logs import RedactingLogFilter, summarize
from .policy import NER_TYPES, PATHS, EntityRule, Policy
from .policy_files import list_policies, load_policy, parse_policy
from .recognizers import EntityTagger
from .redactor import RedactionResult, Redactor
from .secret import create_secret, load_secret
from .streaming import StreamRedactor
from .subject import stored_forms, subject_digest

__all__ = ["NER_TYPES", "PATHS", "default_tagger", "load_settings_policy", "EntityRule", "EntityTagger", "Finding", "Policy", "RedactingLogFilter",
           "RedactionResult", "Redactor", "RedactorPool", "StreamRedactor", "build_redactor", "create_secret",
           "list_policies", "load_policy", "load_secret", "parse_policy", "policies_root",
           "resolve_overlaps", "stored_forms", "subject_digest", "summarize"]
