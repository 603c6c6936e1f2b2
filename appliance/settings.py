"""One frozen, typed Settings object; the only reader of env vars and settings files.

Precedence (last wins): defaults < settings file (TOML) < APPLIANCE_* variables < explicit overrides.
The settings file is, in order: the ``settings_file`` override, $APPLIANCE_SETTINGS, or
``<data_dir>/appliance.toml`` when it exists.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import SettingsError

ENV_PREFIX = "APPLIANCE_"


@dataclass(frozen=True)
class Settings:
    """Every knob of the appliance. Each field is documented in docs/settings.md."""

    data_dir: Path = Path("data")
    database_url: str = ""
    database_read_url: str = ""
    node_name: str = ""
    index_changes_keep_days: float = 7.0
    keyword_defer_chunks: int = 20_000
    llm_model_path: str = ""
    embedder_path: str = ""
    lora_adapter_path: str = ""
    adapter_max_perplexity_rise: float = 0.05
    adapter_max_general_drop: float = 0.02
    adapter_require_general: bool = False
    general_eval_data: str = ""
    general_eval_limit: int = 300
    refusal_bias: str = "auto"
    answer_check: str = "auto"
    calibration_min_refusal_accuracy: float = 0.8
    calibration_confidence: float = 0.9
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    context_size: int = 2048
    gpu_layers: str = "auto"
    max_answer_tokens: int = 200
    copy_answers: bool = False
    evidence_sentences: int = 2
    answer_max_words: int = 120
    answer_log: bool = True
    advisor_min_failures: int = 30
    answer_min_evidence: float = 0.35
    answer_quote_refusals: float = 0.4
    answer_leads: bool = False
    answer_figure_leads: bool = True
    answer_link_hosts: str = ""
    temperature: float = 0.0
    chunk_size: int = 160
    chunk_overlap: int = 32
    embed_batch_size: int = 16
    embed_dtype: str = "auto"
    query_precision: str = "int8"
    retrieval_k: int = 4
    retrieval_candidates: int = 100
    fusion: str = "rrf"
    rrf_k: int = 60
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    hnsw_threshold: int = 50_000
    max_file_bytes: int = 50 * 1024 * 1024
    extract_memory_mb: int = 1024
    extract_cpu_seconds: int = 60
    extract_wall_seconds: int = 120
    extract_max_text_mb: int = 64
    extract_max_unzipped_mb: int = 256
    extract_max_zip_entries: int = 10_000
    extract_max_zip_ratio: int = 200
    extract_max_pdf_pages: int = 5_000
    extract_max_pdf_objects: int = 500_000
    extract_max_html_depth: int = 512
    default_collection: str = "default"
    source_watch: bool = True
    source_rescan_seconds: float = 300.0
    source_debounce_seconds: float = 2.0
    collection_retention: str = ""
    conversation_retention_days: int = 0
    erasure_deactivates_adapters: bool = True
    pii_policy: str = "default"
    collection_policies: str = ""
    policies_dir: str = ""
    policy_check_seconds: float = 5.0
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: int = 300
    audit_external_sink: str = ""
    audit_retention_days: int = 2190
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_workers: int = 1
    web_threads: int = 32
    web_secure_cookies: bool = True
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_lockout_seconds: int = 300
    admin_username: str = "admin"
    ldap_url: str = ""
    ldap_user_dn: str = ""
    ldap_user_filter: str = "(objectClass=*)"
    ldap_group_base: str = ""
    ldap_group_filter: str = "(|(member={dn})(uniqueMember={dn})(memberUid={username}))"
    ldap_group_map: str = ""
    ldap_role_map: str = ""
    ldap_start_tls: bool = False
    ldap_ca_file: str = ""
    ldap_timeout_seconds: int = 5
    admin_password: str = ""
    chat_queue_limit: int = 64
    api_requests_per_minute: int = 300
    api_chat_per_minute: int = 30

    def __post_init__(self) -> None:
        if self.chunk_overlap >= self.chunk_size:
            raise SettingsError("chunk_overlap must be smaller than chunk_size")
        if self.embed_dtype not in ("auto", "float32", "bfloat16"):
            raise SettingsError(f"embed_dtype must be auto, float32 or bfloat16, "
                                f"not {self.embed_dtype!r}")
        if self.query_precision not in ("float32", "int8"):
            raise SettingsError(f"query_precision must be float32 or int8, "
                                f"not {self.query_precision!r}")
        self.collection_policy_map  # noqa: B018 - validates the format
        self.collection_retention_map  # noqa: B018 - validates the format
        self.fixed_gpu_layers  # noqa: B018 - validates the format
        self._check_ldap()
        if self.conversation_retention_days < 0:
            raise SettingsError("conversation_retention_days must not be negative (0: kept)")
        if self.fusion not in ("rrf", "dense", "keyword"):
            raise SettingsError(f"fusion must be rrf, dense or keyword, not {self.fusion!r}")
        if self.adapter_max_perplexity_rise < 0:
            raise SettingsError("adapter_max_perplexity_rise must not be negative")
        if not 0 <= self.adapter_max_general_drop <= 1:
            raise SettingsError("adapter_max_general_drop must be between 0 and 1 (a fraction: "
                                "0.02 is 2 points of accuracy)")
        self.fixed_refusal_bias  # noqa: B018 - validates the format
        self.fixed_answer_check  # noqa: B018 - validates the format
        if not 0 <= self.calibration_min_refusal_accuracy <= 1:
            raise SettingsError("calibration_min_refusal_accuracy must be between 0 and 1")
        if not 0 <= self.calibration_confidence < 1:
            raise SettingsError("calibration_confidence must be at least 0 and below 1")
        for name in ("answer_min_evidence", "answer_quote_refusals"):
            if not 0 <= getattr(self, name) <= 1:
                raise SettingsError(f"{name} must be between 0 and 1")
        for name in ("api_requests_per_minute", "api_chat_per_minute"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} must not be negative (0: no limit)")
        if self.extract_memory_mb < 256:
            raise SettingsError("extract_memory_mb must be at least 256 (the parsers' own size)")
        if self.source_rescan_seconds < 5 or self.source_debounce_seconds < 0:
            raise SettingsError("source_rescan_seconds must be at least 5 and "
                                "source_debounce_seconds not negative")
        if self.evidence_sentences < 0:
            raise SettingsError("evidence_sentences must not be negative (0: whole passages)")
        for name in ("threads", "context_size", "max_answer_tokens", "chunk_size",
                     "embed_batch_size", "retrieval_k", "retrieval_candidates", "max_file_bytes",
                     "web_port", "web_workers", "web_threads", "session_idle_minutes",
                     "session_max_hours", "login_max_failures", "login_max_failures_per_address",
                     "chat_queue_limit", "extract_cpu_seconds", "extract_wall_seconds",
                     "extract_max_text_mb", "extract_max_unzipped_mb", "extract_max_zip_entries",
                     "extract_max_zip_ratio", "extract_max_pdf_pages", "extract_max_pdf_objects",
                     "extract_max_html_depth", "general_eval_limit", "answer_max_words",
                     "advisor_min_failures"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive, not {getattr(self, name)}")

    @property
    def collection_policy_map(self) -> dict[str, str]:
        """`collection_policies` ("hr=hipaa, payments=pci") as {collection: policy}."""
        out: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in self.collection_policies.split(","))):
            collection, sep, policy = (x.strip() for x in item.partition("="))
            if not sep or not collection or not policy:
                raise SettingsError(f"collection_policies: expected collection=policy, "
                                    f"not {item!r}")
            out[collection] = policy
        return out

    @property
    def fixed_gpu_layers(self) -> int | None:
        """`gpu_layers` as a number (-1: all), or None for "auto" (all when a GPU is usable)."""
        word = self.gpu_layers.strip().lower()
        if word == "auto":
            return None
        if word == "all":
            return -1
        try:
            value = int(word)
        except ValueError:
            raise SettingsError(f"gpu_layers must be auto, all or a number of layers, "
                                f"not {self.gpu_layers!r}") from None
        if value < -1:
            raise SettingsError("gpu_layers must be -1 (all), 0 (none) or a positive number")
        return value

    def _check_ldap(self) -> None:
        if not self.ldap_url:
            return
        if not self.ldap_url.lower().startswith(("ldap://", "ldaps://")):
            raise SettingsError(f"ldap_url must start with ldap:// or ldaps://, not "
                                f"{self.ldap_url!r}")
        if "{username}" not in self.ldap_user_dn:
            raise SettingsError("ldap_user_dn must hold {username}, e.g. "
                                "uid={username},ou=people,dc=example,dc=org")
        if self.ldap_ca_file and not Path(self.ldap_ca_file).is_file():
            raise SettingsError(f"ldap_ca_file {self.ldap_ca_file} does not exist")
        if self.ldap_timeout_seconds <= 0:
            raise SettingsError("ldap_timeout_seconds must be positive")
        roles = ("admin", "auditor", "reviewer", "user")
        for group, role in self.ldap_roles.items():
            if role not in roles:
                raise SettingsError(f"ldap_role_map: {group}={role}: a role is one of "
                                    f"{', '.join(roles)}")
        self.ldap_groups  # noqa: B018 - validates the format

    @property
    def ldap_groups(self) -> dict[str, str]:
        """`ldap_group_map` ("ward-nurses=ward, it-admins=it") as {directory group cn: group}."""
        return _pairs("ldap_group_map", self.ldap_group_map)

    @property
    def ldap_roles(self) -> dict[str, str]:
        """`ldap_role_map` ("it-admins=admin") as {directory group cn: role}."""
        return _pairs("ldap_role_map", self.ldap_role_map)

    @property
    def collection_retention_map(self) -> dict[str, int]:
        """`collection_retention` ("tickets=30, hr=365") as {collection: days}."""
        out: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in self.collection_retention.split(","))):
            collection, sep, days = (x.strip() for x in item.partition("="))
            if not sep or not collection or not days.isdigit() or int(days) <= 0:
                raise SettingsError(f"collection_retention: expected collection=days (a "
                                    f"positive whole number), not {item!r}")
            out[collection] = int(days)
        return out

    @property
    def fixed_refusal_bias(self) -> float | None:
        """`refusal_bias` as a number, or None for "auto" (the active adapter's calibration)."""
        return _auto_or_number("refusal_bias", self.refusal_bias, -20, 20, "a number of logits")

    @property
    def fixed_answer_check(self) -> float | str | None:
        """`answer_check`: None for "auto" (the active adapter's calibration), "off", or the
        least relevance as a number."""
        return _auto_or_number("answer_check", self.answer_check, -1, 1,
                               "off or a number between -1 and 1", words=("off",))

    # Derived locations: computed, not configured.
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'appliance.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"


def _pairs(name: str, text: str) -> dict[str, str]:
    """"a=b, c=d" as {a: b, c: d}; a clear error for anything else."""
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = (x.strip() for x in item.partition("="))
        if not sep or not key or not value:
            raise SettingsError(f"{name}: expected name=value, not {item!r}")
        out[key] = value
    return out


def field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(Settings)]


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    try:
        if kind is bool:  # before int: TOML gives a bool, the environment a word
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise ValueError(word)
        if kind is Path:
            return Path(str(raw)).expanduser()
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is str:
            return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: cannot read {raw!r} as {kind.__name__}") from exc
    raise SettingsError(f"setting {name}: unsupported type {kind!r}")


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None,
                  settings_file: str | Path | None = None) -> Settings:
    """Build Settings from defaults, a TOML file, APPLIANCE_* variables and overrides."""
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    hints = typing.get_type_hints(Settings)
    known = set(field_names())
    values: dict[str, Any] = {}

    env_values = {}
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "SETTINGS":
            name = key[len(ENV_PREFIX):].lower()
            if name not in known:
                raise SettingsError(f"unknown setting in environment: {key}")
            env_values[name] = raw

    data_dir = Path(overrides.get("data_dir") or env_values.get("data_dir") or "data")
    path = settings_file or environ.get(ENV_PREFIX + "SETTINGS")
    if path is None and (data_dir / "appliance.toml").exists():
        path = data_dir / "appliance.toml"
    if path is not None:
        values.update(_read_file(Path(path), known))
    values.update(env_values)
    values.update(overrides)
    typed = {name: _coerce(name, raw, hints[name]) for name, raw in values.items()}
    return Settings(**typed)


def _read_file(path: Path, known: set[str]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"settings file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path}: {exc}") from exc
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"settings file {path}: unknown setting(s): {', '.join(unknown)}")
    return data


def _auto_or_number(name: str, text: str, low: float, high: float, expected: str,
                    words: tuple[str, ...] = ()) -> float | str | None:
    """A setting that is "auto" (None), one of `words`, or a number in [low, high]."""
    word = text.strip().lower()
    if word == "auto":
        return None
    if word in words:
        return word
    try:
        value = float(word)
    except ValueError:
        raise SettingsError(f"{name} must be auto or {expected}, not {text!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
    return value
