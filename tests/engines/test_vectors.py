import numpy as np
import pytest

from appliance.engines.vectors_faiss import FaissVectorStore
from appliance.errors import ConsistencyError


def unit(rng, n, dim=16):
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_add_search_remove_save_load(tmp_path):
    rng = np.random.default_rng(0)
    vecs = unit(rng, 50)
    store = FaissVectorStore(tmp_path / "v.faiss", 16, "h1")
    store.add(np.arange(100, 150), vecs)
    assert store.search(vecs[7], 1)[0][0] == 107
    store.remove([107])
    assert 107 not in [i for i, _ in store.search(vecs[7], 5)]
    store.save()
    again = FaissVectorStore(tmp_path / "v.faiss", 16, "h1")
    assert again.ids() == set(range(100, 150)) - {107}
    assert again.search(vecs[8], 1)[0][0] == 108


def test_switches_to_hnsw_and_removes_by_tombstone(tmp_path):
    rng = np.random.default_rng(1)
    vecs = unit(rng, 300)
    store = FaissVectorStore(tmp_path / "v.faiss", 16, "h1", hnsw_threshold=200)
    store.add(np.arange(300), vecs)
    assert store.kind == "hnsw"
    hits = [store.search(vecs[i], 1)[0][0] for i in range(0, 300, 10)]
    assert sum(h == i for h, i in zip(hits, range(0, 300, 10))) >= 28  # approximate but good
    store.remove([0, 10])
    assert 0 not in [i for i, _ in store.search(vecs[0], 3)]
    store.save()
    again = FaissVectorStore(tmp_path / "v.faiss", 16, "h1", hnsw_threshold=200)
    assert again.kind == "hnsw" and 10 not in again.ids() and len(again) == 298


def test_refuses_an_index_from_another_embedder(tmp_path):
    store = FaissVectorStore(tmp_path / "v.faiss", 16, "h1")
    store.add(np.arange(2), unit(np.random.default_rng(2), 2))
    store.save()
    with pytest.raises(ConsistencyError, match="different embedding model"):
        FaissVectorStore(tmp_path / "v.faiss", 16, "other")


def test_save_is_atomic(tmp_path):
    store = FaissVectorStore(tmp_path / "v.faiss", 16, "h1")
    store.add(np.arange(3), unit(np.random.default_rng(3), 3))
    store.save()
    assert not list(tmp_path.glob("*.tmp"))
