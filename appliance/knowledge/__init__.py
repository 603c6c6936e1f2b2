"""Knowledge: the ingest flow and what it feeds.

file → extraction (page/section kept) → chunking → ingest (redact, embed, store, index)
→ indexes (FAISS + BM25, derived from the store) → retrieval (hybrid, collection-filtered).

Public surface:
    IngestService(settings, store, embedder, indexes, ...)   .ingest_paths(...), .delete(...)
    Indexes(settings, store, dim)        the vector and keyword indexes, reconciled from the store
    HybridRetriever, Hit                 dense + BM25 with reciprocal rank fusion
    DocumentService                      documents as callers see them (list, upload, read)
    EmbeddingService, CHAT_MODEL         embeddings for API callers; the model names it lists
    extract, MIME_TYPES, Block           text and structure out of a file
    chunk_blocks, index_text, Chunk      chunks sized in embedder tokens
"""
from .chunking import Chunk, chunk_blocks, index_text
from .documents import DocumentService
from .embeddings import CHAT_MODEL, EmbeddingService
from .extraction import MIME_TYPES, Block, extract
from .indexes import Indexes
from .ingest import IngestService
from .retrieval import Hit, HybridRetriever

__all__ = ["Block", "CHAT_MODEL", "Chunk", "DocumentService", "EmbeddingService", "Hit",
           "HybridRetriever", "Indexes", "IngestService", "MIME_TYPES", "chunk_blocks",
           "extract", "index_text"]
