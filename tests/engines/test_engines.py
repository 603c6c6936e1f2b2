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


def test_a_saved_keyword_index_searches_like_the_built_one_without_importing_bm25s(tmp_path):
    """A search process reads the saved matrix itself (bm25s imports SciPy: a second of start-up)
    and must rank exactly as bm25s would, stopwords, stemming and repeated words included."""
    import subprocess
    import sys

    from appliance.engines.keyword import BM25KeywordIndex

    texts = ["Full-time staff receive 27 days of annual leave each year.",
             "Requests for leave are approved by the line manager.",
             "Report a lost laptop to the IT service desk within 24 hours.",
             "The hospital's VPN must be used from home; passwords expire every 90 days.",
             "Nurses working night shifts accrue additional leave days."]
    built = BM25KeywordIndex(tmp_path / "kw")
    built.rebuild([(10 + i, t) for i, t in enumerate(texts)])
    built.save()
    queries = ["How many days of annual leave do staff get?", "Who approves LEAVE requests",
               "lost laptops, reporting", "the and of", "VPN VPN passwords expiring"]
    expected = [built.search(q, 5) for q in queries]
    assert expected[0] and expected[3] == []
    script = (
        "import json, sys\n"
        "from appliance.engines.keyword import BM25KeywordIndex\n"
        f"index = BM25KeywordIndex({str(tmp_path / 'kw')!r})\n"
        f"out = [index.search(q, 5) for q in {queries!r}]\n"
        "print(json.dumps([out, 'bm25s' in sys.modules, 'scipy' in sys.modules]))\n"
        "index.save()\n")  # an unchanged index is written back as it was read
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    found, imported_bm25s, imported_scipy = json.loads(run.stdout)
    assert [[tuple(hit) for hit in hits] for hits in found] == expected
    assert not imported_bm25s and not imported_scipy
    again = BM25KeywordIndex(tmp_path / "kw")
    assert [again.search(q, 5) for q in queries] == expected
