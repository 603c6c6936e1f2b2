"""build_services(settings): the only place that picks backends and wires them together."""
from __future__ import annotations

import os
from functools import cached_property

from .engines.embedder import SentenceEmbedder
from .indexes import Indexes
from .ingest import IngestService
from .model_files import generator_path
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
        return IngestService(self.settings, self.store, self.embedder, self.indexes)

    @cached_property
    def generator(self):
        from .engines.llm import LlamaGenerator

        return LlamaGenerator(str(generator_path(self.settings)), self.settings.context_size,
                              self.settings.threads, self.settings.lora_adapter_path,
                              self.settings.temperature)

    @cached_property
    def chat(self):
        from .chat import ChatService

        return ChatService(self.settings, self.retriever, self.generator)

    def close(self) -> None:
        self.store.dispose()


def build_services(settings: Settings) -> Appliance:
    return Appliance(settings)
