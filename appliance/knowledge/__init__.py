"""Knowledge: the ingest flow and what it feeds.

file → extraction (page/section kept) → chunking → ingest (redact, embed, store, index)
→ indexes (FAISS + BM25, derived from the store) → retrieval (hybrid, collection-filtered).

Public surface:
    IngestService(settings, store, embedder, indexes, ...)   .ingest_paths(...), .delete(...)
    Indexes(settings, store, dim)        the vector and keyword indexes, reconciled from the store
    HybridRetriever, Hit                 dense + BM25 with reciprocal rank fusion
    DocumentService                      documents as callers see them (list, upload, read)
    SourceService, SourceWatcher         watched folders kept in sync (events + rescans)
    ErasureService                       erasure of documents, subjects, users; retention
    EmbeddingService, CHAT_MODEL         embeddings for API callers; the model names it lists
    extract, MIME_TYPES, Block           text and structure out of a file
    chunk_blocks, index_text, Chunk      chunks sized in embedder tokens
"""
from importlib import import_module

# Lazy, so a process that needs one part (the extraction worker, a search) does not import
# the rest (the store, numpy, the indexes).
_HOMES = {"Chunk": "chunking", "chunk_blocks": "chunking", "index_text": "chunking",
          "DocumentService": "documents", "CHAT_MODEL": "embeddings",
          "EmbeddingService": "embeddings", "MIME_TYPES": "extraction", "Block": "extraction",
          "extract": "extraction", "Indexes": "indexes", "IngestService": "ingest",
          "Hit": "retrieval", "HybridRetriever": "retrieval", "SourceService": "sources",
          "SourceInfo": "sources", "SyncReport": "source_sync", "SourceWatcher": "source_watch", "ErasureService": "erasure"}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value
