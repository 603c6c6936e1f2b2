"""One wrapper per heavy library, each behind a small Protocol (see protocols.py), and the
model files they load.

Public surface (loaded on first use, so importing this package costs nothing):
    LlamaGenerator        llama-cpp-python: GGUF generation, streamed (chat templates, GPU layers)
    gpu_layers, gpu_offload_available   what the llama.cpp build can offload
    SentenceEmbedder      sentence-transformers for documents, ONNX Runtime for queries
    FaissVectorStore      FAISS index files
    BM25KeywordIndex, recover_keyword_dir   bm25s keyword index
    SpacyTagger           spaCy named entities for the PII engine
    model files           assemble_generator, check_models, generator_path, sha256_file,
                          ready_generator
    remembered            a digest of model files, kept while the files are unchanged
    LoglikScorer          llama-cpp-python: log-likelihood of continuations (benchmarks)
"""
from importlib import import_module

_EXPORTS = {
    "LlamaGenerator": "llm", "gpu_layers": "llm", "gpu_offload_available": "llm",
    "acceleration": "llm", "SentenceEmbedder": "embedder", "FaissVectorStore": "vectors_faiss",
    "BM25KeywordIndex": "keyword", "recover_keyword_dir": "keyword", "SpacyTagger": "ner",
    "assemble_generator": "model_files", "check_models": "model_files",
    "generator_path": "model_files", "sha256_file": "model_files",
    "ready_generator": "model_files", "remembered": "digests",
    "LoglikScorer": "loglik",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
