"""build_services(settings): the only place that picks backends and wires them together."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from functools import cached_property

from .audit import AuditLog, ensure_keys
from .engines.embedder import SentenceEmbedder
from .indexes import Indexes
from .ingest import IngestService
from .privacy import RedactingLogFilter, Redactor, build_redactor
from .privacy.factory import load_settings_policy
from .model_files import generator_path, sha256_file
from .retrieval import HybridRetriever
from .settings import Settings
from .store import Store


class Appliance:
    """The wired services for one data dir; heavy parts load on first use."""

    def __init__(self, settings: Settings):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(settings.db_url)
        self.store.migrate()
        ensure_keys(settings)  # idempotent: the audit log cannot start without its key
        # Fail closed: an invalid policy stops the appliance before any work is done.
        self.policy = load_settings_policy(settings)
        self.audit = AuditLog(self.store, settings)

    @cached_property
    def embedder(self) -> SentenceEmbedder:
        return SentenceEmbedder(self.settings.embedder_path, self.settings.embed_batch_size,
                                self.settings.threads)

    @cached_property
    def indexes(self) -> Indexes:
        indexes = Indexes(self.settings.index_dir, self.store, self.embedder.dim,
                          self.embedder.model_hash, self.settings.hnsw_threshold,
                          self.settings.threads)
        with indexes.write_lock(blocking=False) as got:
            if got:  # another writer holds it: that process reconciles when done
                indexes.reconcile()
        return indexes

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(self.settings, self.store, self.embedder, self.indexes)

    @cached_property
    def ingest(self) -> IngestService:
        return IngestService(self.settings, self.store, self.embedder, self.indexes,
                             redactor=self.redactor, audit=self.audit)

    @cached_property
    def generator(self):
        from .engines.llm import LlamaGenerator

        path = generator_path(self.settings)
        generator = LlamaGenerator(str(path), self.settings.context_size, self.settings.threads,
                                   self.settings.lora_adapter_path, self.settings.temperature)
        generator.model_sha256 = sha256_file(path)  # recorded with every answer
        lora = self.settings.lora_adapter_path
        generator.adapter_sha256 = sha256_file(Path(lora)) if lora else None
        return generator

    @cached_property
    def chat(self):
        from .chat import ChatService

        return ChatService(self.settings, self.retriever, self.generator,
                           redactor=self.redactor, audit=self.audit)

    @cached_property
    def redactor(self) -> Redactor:
        """The PII redactor for the active policy; redacts what reaches the log handlers too."""
        redactor = build_redactor(self.settings, self.policy, ner_factory=_tagger)
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingLogFilter(redactor))
        return redactor

    def close(self) -> None:
        self.audit.close()
        self.store.dispose()


def _tagger():
    from .engines.ner import SpacyTagger

    return SpacyTagger()


def build_services(settings: Settings) -> Appliance:
    return Appliance(settings)
