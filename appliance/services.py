"""build_services(settings): the only place that picks backends and wires them together."""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, wait
from functools import cached_property
from pathlib import Path
from typing import Callable, TypeVar

from .audit import AuditLog, ensure_keys
from .engines import SentenceEmbedder, ready_generator, remembered, sha256_file
from .errors import ModelError
from .knowledge import HybridRetriever, Indexes, IngestService
from .privacy import RedactingLogFilter, Redactor, RedactorPool, load_settings_policy
from .settings import Settings
from .store import Store


class Appliance:
    """The wired services for one data dir; heavy parts load on first use."""

    def __init__(self, settings: Settings):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(settings.db_url, settings.database_read_url)
        self.store.migrate()
        ensure_keys(settings)  # idempotent: the audit log cannot start without its key
        # Fail closed: an invalid policy stops the appliance before any work is done.
        self.policy = load_settings_policy(settings)
        for name in set(settings.collection_policy_map.values()):
            load_settings_policy(settings, name)
        self.audit = AuditLog(self.store, settings)
        self._watching = None  # (thread, stop event) of a background source watcher

    @cached_property
    def embedder(self) -> SentenceEmbedder:
        return SentenceEmbedder(self.settings.embedder_path, self.settings.embed_batch_size,
                                self.settings.threads, self.settings.embed_dtype,
                                cache_dir=self.settings.models_dir,
                                query_precision=self.settings.query_precision)

    @cached_property
    def indexes(self) -> Indexes:
        indexes = Indexes(self.settings.index_dir, self.store, self.embedder.dim,
                          self.embedder.model_hash, self.settings.hnsw_threshold,
                          self.settings.threads, self.settings.node_name,
                          self.settings.keyword_defer_chunks)
        with indexes.write_lock(blocking=False) as got:
            if got:  # another writer holds it: that process reconciles when done
                indexes.reconcile()
        return indexes

    @cached_property
    def retriever(self) -> HybridRetriever:
        # Queries go through the ONNX graph: it loads while the indexes do.
        warm = [_soon(self.embedder.warm_queries)] if self.settings.fusion != "keyword" else []
        try:
            indexes = self.indexes
        finally:
            wait(warm)
        return HybridRetriever(self.settings, self.store, self.embedder, indexes)

    @cached_property
    def ingest(self) -> IngestService:
        return IngestService(self.settings, self.store, self.embedder, self.indexes,
                             redactor_for=self.redactor_for, audit=self.audit)

    @cached_property
    def generator(self):
        """The model registry's active model (else the bundled GGUF, or the llm_model_path
        setting) plus the adapter registry's active adapter, both swapped in without a
        restart (a lora_adapter_path setting pins an adapter instead)."""
        from .answering import REFUSAL, REFUSAL_OPENING
        from .engines import LlamaGenerator, gpu_layers
        from .tuning import ActiveAdapter, ActiveModel, LiveAdapterGenerator

        path, s = ready_generator(self.settings), self.settings
        layers = gpu_layers(s.fixed_gpu_layers)
        digest = _soon(lambda: remembered([path], lambda: sha256_file(path), s.models_dir))

        def make(adapter: ActiveAdapter | None, model: ActiveModel | None) -> LlamaGenerator:
            bias = s.fixed_refusal_bias
            if bias is None:  # auto: the adapter's calibration, none for the base model
                bias = adapter.refusal_bias if adapter else 0.0
            file, n_ctx = path, s.context_size
            if model is not None:  # checked before every load (cached by size and mtime)
                file = Path(model.path)
                if remembered([file], lambda: sha256_file(file), s.models_dir) != model.sha256:
                    raise ModelError(f"model {model.name} changed on disk since it was "
                                     f"registered: {file}")
                n_ctx = min(n_ctx, model.context_length or n_ctx)
            chat = model is not None and model.frame == "chat"
            opening = REFUSAL if chat else REFUSAL_OPENING  # a chat turn starts without a space
            return LlamaGenerator(str(file), n_ctx, s.threads, adapter.path if adapter else "",
                                  s.temperature, opening_bias={opening: -bias},
                                  gpu_layers=layers, chat=chat)

        lora = s.lora_adapter_path
        pinned = ActiveAdapter(lora, sha256_file(Path(lora))) if lora else None
        return LiveAdapterGenerator(make, self.adapters.active_state, pinned,
                                    active_model=self.models.active_state,
                                    bundled_sha256=digest.result())

    @cached_property
    def models(self):
        """The model registry: GGUFs an operator brought (audited activation)."""
        from .tuning import ModelRegistry

        return ModelRegistry(self.store, self.audit)

    @cached_property
    def adapters(self):
        """The versioned LoRA adapter registry (activation is audited)."""
        from .tuning import AdapterRegistry, Gate, adapters_dir

        gate = Gate(self.settings.adapter_max_perplexity_rise,
                    self.settings.adapter_max_general_drop, self.settings.adapter_require_general)
        return AdapterRegistry(self.store, adapters_dir(self.settings), self.audit, gate)

    @cached_property
    def answer_check(self):
        """Relevance of answers to questions; the threshold follows the served adapter."""
        from .answering import AnswerCheck

        fixed = self.settings.fixed_answer_check

        def threshold() -> float | None:
            if fixed is not None:
                return None if fixed == "off" else fixed
            gen = self.generator
            if not hasattr(gen, "sync"):  # a generator without the registry behind it
                return None
            gen.sync()  # the adapter this answer will be produced with
            return gen.served.min_relevance if gen.served else None

        return AnswerCheck(lambda text: self.embedder.embed_query(text), threshold)

    @cached_property
    def chat(self):
        from .answering import ChatService

        # The NER model (spaCy), the GGUF model and the indexes load side by side: seconds
        # each, and much of it outside the GIL.
        redactor, generator = _soon(lambda: self.redactor), _soon(lambda: self.generator)
        try:
            retriever = self.retriever
        finally:
            wait((redactor, generator))  # no half-built parts left loading
        return ChatService(self.settings, retriever, generator.result(),
                           redactor=redactor.result(), audit=self.audit,
                           redactor_for=self.redactor_for, check=self.answer_check,
                           answer_log=self.answer_log if self.settings.answer_log else None)

    @cached_property
    def quality(self):
        """The failure audit, the advice and the review queue over the answer log."""
        from .evaluation import QualityService

        return QualityService(self)

    @cached_property
    def answer_log(self):
        """Every answer with its passages, path and check: the quality audit's material."""
        from .answering import AnswerLog

        return AnswerLog(self.store, self.settings.audit_retention_days)

    @cached_property
    def redactors(self) -> RedactorPool:
        """One redactor per policy, sharing the NER model and the per-install secret."""
        return RedactorPool(self.settings, ner_factory=_tagger, on_change=self._policy_changed,
                            check_seconds=self.settings.policy_check_seconds)

    def _policy_changed(self, name: str, old: str, new: str | None,
                        problem: str | None) -> None:
        """A policy file changed on disk: enforced at once, or refused (the old one stays)."""
        from .audit import POLICY_CHANGE

        details = {"policy": name, "old_sha256": old, "new_sha256": new,
                   "enforced": new is not None}
        if problem:
            details["error"] = problem[:300]
        self.audit.record(POLICY_CHANGE, actor="system:policy-file", target=f"policy:{name}",
                          outcome="success" if new else "failure", details=details)

    @cached_property
    def redactor(self) -> Redactor:
        """The PII redactor for the active policy; redacts what reaches the log handlers too."""
        redactor = self.redactors.get(None)
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingLogFilter(redactor))
        return redactor

    def redactor_for(self, collection: str) -> Redactor:
        """The redactor of a collection's own policy (collection_policies), else the default."""
        name = self.settings.collection_policy_map.get(collection)
        return self.redactors.get(name) if name else self.redactor

    # -- people and the web: accounts, questions, conversations, documents, oversight ------
    @cached_property
    def accounts(self):
        from .accounts import AccountService

        return AccountService(self.settings, self.store, self.audit)

    @cached_property
    def rate_limits(self):
        """Per-user API request rates (this process's buckets)."""
        from .accounts import RateLimiter

        return RateLimiter({"request": self.settings.api_requests_per_minute,
                            "chat": self.settings.api_chat_per_minute})

    @cached_property
    def metrics(self):
        from .answering import Metrics

        metrics = Metrics()
        metrics.gauge("appliance_queue_waiting", "Questions waiting for the model now.",
                      lambda: self.queue.snapshot()[0])
        metrics.gauge("appliance_generations_running", "Answers being generated now.",
                      lambda: self.queue.snapshot()[1])
        metrics.store_gauges(self._source_gauges)
        return metrics

    def _source_gauges(self):
        """Freshness of the watched sources, from the store (every node sees the same)."""
        import time

        now, stale, pending, errors = time.time(), [], [], []
        for info in self.sources.list(replica=True):
            labels = {"source": str(info.id), "collection": info.collection}
            age = info.staleness(now)
            stale.append((labels, float("inf") if age is None else round(age, 1)))
            pending.append((labels, float(info.pending)))
            errors.append((labels, float(info.error_count)))
        return [("appliance_source_staleness_seconds",
                 "Seconds since the source last synced successfully (+Inf: never).", stale),
                ("appliance_source_pending_changes",
                 "Paths the watcher saw change that are not synced yet.", pending),
                ("appliance_source_file_errors",
                 "Files of the source that could not be ingested.", errors)]

    @cached_property
    def queue(self):
        """The fair queue in front of this process's one model context."""
        from .answering import FairQueue

        return FairQueue(self.settings.chat_queue_limit)

    @cached_property
    def asking(self):
        from .answering import AskService

        return AskService(self.accounts.access, lambda: self.chat, self.queue, self.metrics,
                          self.audit)

    @cached_property
    def conversations(self):
        from .answering import ConversationService

        return ConversationService(self.store, self.asking, lambda: self.redactor,
                                   self.answer_log if self.settings.answer_log else None)

    @cached_property
    def documents(self):
        from .knowledge import DocumentService

        return DocumentService(self.settings, self.store, self.accounts.access,
                               lambda: self.ingest)

    @cached_property
    def sources(self):
        """Watched folders that collections mirror."""
        from .knowledge import SourceService

        return SourceService(self.settings, self.store, lambda: self.ingest, self.audit)

    @cached_property
    def erasure(self):
        """Erasure of documents, data subjects and users' data, with signed reports."""
        from .audit import load_signer
        from .knowledge import ErasureService
        from .privacy import load_secret, load_settings_policy

        s = self.settings

        def policies():
            return [self.policy] + [load_settings_policy(s, n)
                                    for n in set(s.collection_policy_map.values())]

        return ErasureService(s, self.store, lambda: self.ingest, self.audit, policies,
                              lambda: load_secret(s.secrets_dir), lambda: self.adapters,
                              lambda: load_signer(s))

    def source_watcher(self, on_sync=None):
        """A watcher over the sources (one per data dir runs; a file lock decides which)."""
        from .knowledge import SourceWatcher

        s = self.settings
        return SourceWatcher(self.sources, s.data_dir / "run" / "sources.lock",
                             s.source_rescan_seconds, s.source_debounce_seconds, on_sync,
                             maintenance=(3600.0, self.maintain))

    def maintain(self):
        """Hourly, on the node that watches the sources: retention, then pruning of the
        change sequence every node has applied."""
        from .store import prune_changes

        erased = self.expire()
        prune_changes(self.store, self.settings.index_changes_keep_days * 86400)
        return erased

    def expire(self):
        """Erase what the retention settings say has expired (None when nothing had)."""
        s = self.settings
        if not (s.collection_retention_map or s.conversation_retention_days):
            return None
        plan = self.erasure.plan(expired=True)
        return None if plan.scope.empty else self.erasure.erase(plan, actor="retention")

    def watch_sources_in_background(self) -> None:
        """The serving process's watcher thread (stopped by close())."""
        if self._watching is None:
            self._watching = self.source_watcher().start_background()

    @cached_property
    def embeddings(self):
        from .knowledge import EmbeddingService

        return EmbeddingService(self.settings, lambda: self.embedder)

    @cached_property
    def oversight(self):
        from .accounts import require_audit
        from .audit import OversightService

        return OversightService(self.store, self.audit, self.policy, require_audit,
                                self.settings.collection_policy_map)

    def close(self) -> None:
        if self._watching is not None:
            thread, stop = self._watching
            stop.set()
            thread.join(timeout=30)  # a sync in progress finishes its commit first
            self._watching = None
        self.audit.close()
        self.store.dispose()


T = TypeVar("T")


def _soon(load: Callable[[], T]) -> Future[T]:
    """Start `load` in a thread now; the future's result() waits for it (and raises its error
    in the caller's thread)."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(load())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(exc)

    threading.Thread(target=run, name="appliance-load", daemon=True).start()
    return future


def _tagger():
    from .engines import SpacyTagger

    return SpacyTagger()


def build_services(settings: Settings) -> Appliance:
    return Appliance(settings)
