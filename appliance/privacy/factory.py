"""Building a Redactor from Settings: where policies live, the secret, and the NER tagger."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from ..errors import PolicyError
from .policy import Policy
from .policy_files import load_policy, resolve_policy_path
from .recognizers import EntityTagger
from .redactor import Redactor
from .secret import load_secret

log = logging.getLogger(__name__)

# policies/ sits at the repository root, two levels above this package.
_REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"


def policies_root(settings) -> Path:
    """settings.policies_dir when set, else the repository's policies/ directory."""
    if getattr(settings, "policies_dir", ""):
        root = Path(settings.policies_dir).expanduser()
    else:
        root = _REPO_POLICIES
    if not root.is_dir():
        raise PolicyError(f"policies directory not found: {root} (set the policies_dir setting)")
    return root


def load_settings_policy(settings, name: str | None = None) -> Policy:
    """Policy ``name`` (default settings.pii_policy): a file path, or a name in policies_root."""
    name = name or settings.pii_policy
    return load_policy(name, None if _looks_like_path(name) else policies_root(settings))


def settings_policy_path(settings, name: str | None = None) -> Path:
    """The file load_settings_policy reads for ``name``."""
    name = name or settings.pii_policy
    return resolve_policy_path(name, None if _looks_like_path(name) else policies_root(settings))


def _looks_like_path(name: str) -> bool:
    return "/" in name or "\\" in name or name.endswith((".yaml", ".yml"))


def default_tagger() -> EntityTagger:
    """The installed NER model (imported here, lazily: only policies with NER types pay for it)."""
    from ..engines import SpacyTagger
    return SpacyTagger()


def build_redactor(settings, policy: str | Policy | None = None,
                   ner_factory: Callable[[], EntityTagger] | None = None) -> Redactor:
    """The Redactor for settings.pii_policy (or ``policy``), keyed by the install's secret.

    The secret is read from settings.secrets_dir and created (0600) on first use; the NER tagger
    is built only when the policy enables PERSON, LOCATION or ORGANIZATION.
    """
    if not isinstance(policy, Policy):
        policy = load_settings_policy(settings, policy)
    secret = load_secret(settings.secrets_dir)
    tagger = (ner_factory or default_tagger)() if policy.uses_ner else None
    return Redactor(policy, secret, ner=tagger)


class RedactorPool:
    """One Redactor per policy name, sharing the secret and a single NER tagger.

    For collections that carry their own policy: ``pool.get(collection.policy or None)``. Call
    ``preload(names)`` at start-up so an invalid policy stops the service before any request.
    """

    def __init__(self, settings, ner_factory: Callable[[], EntityTagger] | None = None,
                 on_change: Callable[[str, str, str | None, str | None], None] | None = None,
                 check_seconds: float = 5.0) -> None:
        import threading
        self._settings = settings
        self._ner_factory = ner_factory or default_tagger
        self._tagger: EntityTagger | None = None
        self._by_name: dict[str, Redactor] = {}
        self._lock = threading.Lock()
        # A policy file changed on disk (an operator's edit, an Ansible run on every node)
        # is enforced within check_seconds, without a restart; an invalid one is refused and
        # the version in force stays. on_change(name, old_sha256, new_sha256|None, problem).
        self._on_change = on_change
        self._check_seconds = check_seconds
        self._checked = time.monotonic()
        self._stamps: dict[str, object] = {}
        self._refused: dict[str, str] = {}

    def get(self, name: str | None = None) -> Redactor:
        """The Redactor for policy ``name`` (default: settings.pii_policy)."""
        name = name or self._settings.pii_policy
        with self._lock:
            self._follow_files()
            redactor = self._by_name.get(name)
            if redactor is None:
                self._stamps[name] = self._stamp(name)
                policy = load_settings_policy(self._settings, name)
                redactor = build_redactor(self._settings, policy, self._shared_tagger)
                self._by_name[name] = redactor
            return redactor

    def _stamp(self, name: str):
        try:
            st = settings_policy_path(self._settings, name).stat()
        except (OSError, PolicyError):
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _follow_files(self) -> None:
        """Re-read the loaded policies whose files changed (at most every check_seconds)."""
        now = time.monotonic()
        if now - self._checked < self._check_seconds:
            return
        self._checked = now
        for name, redactor in self._by_name.items():
            stamp = self._stamp(name)
            if stamp == self._stamps.get(name):
                continue
            self._stamps[name] = stamp
            old = redactor.policy.sha256
            try:
                policy = load_settings_policy(self._settings, name)
                if policy.sha256 != old:
                    redactor.adopt(policy, self._shared_tagger() if policy.uses_ner else None)
            except PolicyError as exc:
                if self._refused.get(name) != str(exc):
                    self._refused[name] = str(exc)
                    log.error("policy %s: %s; the version in force (%s) stays", name, exc,
                              old[:12])
                    if self._on_change is not None:
                        self._on_change(name, old, None, str(exc))
                continue
            self._refused.pop(name, None)
            if policy.sha256 != old:
                log.warning("policy %s changed on disk: now enforcing %s (was %s)", name,
                            policy.sha256[:12], old[:12])
                if self._on_change is not None:
                    self._on_change(name, old, policy.sha256, None)

    def preload(self, names=()) -> None:
        """Load and validate the default policy and ``names`` now (fail closed at start-up)."""
        for name in (None, *names):
            self.get(name)

    def _shared_tagger(self) -> EntityTagger:
        if self._tagger is None:
            self._tagger = self._ner_factory()
        return self._tagger
