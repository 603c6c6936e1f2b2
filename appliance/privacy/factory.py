"""Building a Redactor from Settings: where policies live, the secret, and the NER tagger."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import PolicyError
from .policy import Policy
from .policy_files import load_policy
from .recognizers import EntityTagger
from .redactor import Redactor
from .secret import load_secret

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
    looks_like_path = "/" in name or "\\" in name or name.endswith((".yaml", ".yml"))
    return load_policy(name, None if looks_like_path else policies_root(settings))


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

    def __init__(self, settings, ner_factory: Callable[[], EntityTagger] | None = None) -> None:
        import threading
        self._settings = settings
        self._ner_factory = ner_factory or default_tagger
        self._tagger: EntityTagger | None = None
        self._by_name: dict[str, Redactor] = {}
        self._lock = threading.Lock()

    def get(self, name: str | None = None) -> Redactor:
        """The Redactor for policy ``name`` (default: settings.pii_policy)."""
        name = name or self._settings.pii_policy
        with self._lock:
            redactor = self._by_name.get(name)
            if redactor is None:
                policy = load_settings_policy(self._settings, name)
                redactor = build_redactor(self._settings, policy, self._shared_tagger)
                self._by_name[name] = redactor
            return redactor

    def preload(self, names=()) -> None:
        """Load and validate the default policy and ``names`` now (fail closed at start-up)."""
        for name in (None, *names):
            self.get(name)

    def _shared_tagger(self) -> EntityTagger:
        if self._tagger is None:
            self._tagger = self._ner_factory()
        return self._tagger
