"""The query fast paths agree with the libraries' own (slower) paths."""
import hashlib
import json

import numpy as np
import pytest

QUERIES = ["Who approves remote access to patient records?",
           "vpn", "How many days of annual leave does a nurse get after five years? " * 20]


def test_onnx_query_embedding_matches_sentence_transformers(embedder, tmp_path):
    from appliance.engines.embedder import SentenceEmbedder

    exact = SentenceEmbedder(embedder.path, threads=2, cache_dir=tmp_path,
                             query_precision="float32")
    assert exact.warm_queries(), "the ONNX query graph should be usable for MiniLM"
    assert embedder.warm_queries() and embedder.query_precision == "int8"  # the default
    reference = _float32_model(embedder)
    for query in QUERIES:
        slow = reference.encode([query], normalize_embeddings=True)[0]
        batched = embedder.embed([query, "another text"])[0]  # the ingest path (bf16 here)
        for graph, agreement in ((exact, 0.9999), (embedder, 0.98)):
            fast = graph.embed_query(query)
            assert fast.shape == (embedder.dim,)
            assert abs(np.linalg.norm(fast) - 1) < 1e-3
            assert float(fast @ slow) > agreement
            assert float(fast @ batched) > min(agreement, 0.99)


def test_int8_queries_rank_documents_as_float32_queries_do(embedder):
    """The int8 graph's drift is small next to the gaps between documents: the same best
    match for each question among the sample handbook's topics."""
    docs = ["Passwords must be at least 14 characters long.",
            "Annual leave for nurses rises to 30 days after five years of service.",
            "Remote access to patient records requires the VPN and a hardware token.",
            "Visitors sign in at reception and wear a badge at all times.",
            "Backups of clinical systems run nightly and are tested every quarter."]
    vectors = embedder.embed(docs)
    reference = _float32_model(embedder)
    for question in ("How long does a password have to be?", "How much leave does a nurse get?",
                     "Can I open patient files from home?", "What must a visitor wear?",
                     "How often are backups tested?"):
        exact = reference.encode([question], normalize_embeddings=True)[0]
        assert int(np.argmax(vectors @ embedder.embed_query(question))) == \
            int(np.argmax(vectors @ exact))


def test_the_query_graph_is_cached_and_a_corrupt_copy_is_rebuilt(embedder, tmp_path):
    from appliance.engines.embedder import SentenceEmbedder

    first = SentenceEmbedder(embedder.path, threads=1, cache_dir=tmp_path)
    assert first.warm_queries()
    graph = next(tmp_path.glob("embedder-*.onnx"))
    assert graph.with_suffix(".json").is_file()
    vector = first.embed_query("vpn at home")
    graph.write_bytes(graph.read_bytes()[:-100] + b"x" * 100)  # damaged on disk
    second = SentenceEmbedder(embedder.path, threads=1, cache_dir=tmp_path)
    assert second.warm_queries()
    assert np.allclose(second.embed_query("vpn at home"), vector, atol=1e-6)
    sidecar = json.loads(graph.with_suffix(".json").read_text())
    assert hashlib.sha256(graph.read_bytes()).hexdigest() == sidecar["sha256"]  # exported again
    int8 = SentenceEmbedder(embedder.path, threads=1, cache_dir=tmp_path, query_precision="int8")
    assert int8.warm_queries()
    assert sorted(p.name.rsplit("-", 1)[1] for p in tmp_path.glob("embedder-*.onnx")) == \
        ["float32.onnx", "int8.onnx"]  # one cached graph per precision


def _float32_model(embedder):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(embedder.path, device="cpu", local_files_only=True)


def test_batch_embedding_of_padded_texts_is_unchanged(embedder):
    texts = ["short", "a much longer text about leave, payroll and on-call rotas " * 5]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert np.all((together * alone).sum(axis=1) > 0.999)


@pytest.fixture
def keyword_index(tmp_path):
    from appliance.engines.keyword import BM25KeywordIndex

    rng = np.random.default_rng(1)
    words = ("leave nurse payroll vpn access record patient badge ward shift audit "
             "policy consent laptop password backup incident report").split()
    items = [(100 + i, " ".join(rng.choice(words, size=rng.integers(3, 30))))
             for i in range(2000)]
    index = BM25KeywordIndex(tmp_path / "kw")
    index.rebuild(items)
    return index


def test_keyword_scores_equal_bm25s_own_scorer(keyword_index):
    for query in ("nurse leave", "vpn vpn access for the patient record", "badge"):
        ours = keyword_index.search(query, 50)
        tokens = keyword_index._tokenize([query])
        inverse = {v: t for t, v in tokens.vocab.items()}
        words = [inverse[i] for i in tokens.ids[0]]
        docs, scores = keyword_index.retriever.retrieve([words], k=50, show_progress=False)
        theirs = {int(keyword_index.chunk_ids[d]): float(s) for d, s in zip(docs[0], scores[0])}
        assert len(ours) == 50
        assert [s for _, s in ours] == sorted((s for _, s in ours), reverse=True)
        top = sorted(theirs.values(), reverse=True)
        assert np.allclose([s for _, s in ours], top, rtol=1e-5)
        for chunk_id, score in ours:
            if chunk_id in theirs:
                assert score == pytest.approx(theirs[chunk_id], rel=1e-5)


def test_keyword_search_of_unknown_words_finds_nothing(keyword_index):
    assert keyword_index.search("zeppelin", 10) == []
