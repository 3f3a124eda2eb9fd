"""Dense index types by size: exact flat, tuned IVF, memory-mapped loading, per-thread FAISS threads."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from rag import ann
from rag.config import Settings
from rag.embedding import FakeEmbedder
from rag.retrieval import Retriever
from rag.service import build
from rag.store import current_generation, load_index


def clustered(n: int, dim: int = 32, clusters: int = 40, seed: int = 0,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised vectors around random centres, and two sets of queries drawn near the same centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    def around(count: int) -> np.ndarray:
        x = centres[rng.integers(0, clusters, count)] + 0.6 * rng.standard_normal((count, dim)).astype(np.float32)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return around(n), around(150), around(100)


def test_type_follows_size() -> None:
    assert ann.choose_type(10) == "flat"
    assert ann.choose_type(ann.FLAT_LIMIT) == "flat"
    assert ann.choose_type(ann.FLAT_LIMIT + 1) == "ivf"
    assert ann.nlist_for(1_000_000) == 2048
    assert 1 <= ann.nlist_for(100) <= 100 // 40 + 1


def test_exact_search_matches_brute_force() -> None:
    x, q, _ = clustered(3000)
    ids = ann.exact_search(x, q, 10)
    brute = np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :10]
    assert ann.recall_at(ids, brute, 10) > 0.99  # ties aside, identical


def test_ivf_is_tuned_to_the_recall_target_on_fresh_queries(tmp_path: Path) -> None:
    x, tune, fresh = clustered(6000)  # nprobe is tuned on one set of queries, checked on the other
    index, params = ann.build(x, tune, kind="ivf")
    assert params.type == "ivf" and params.nlist == ann.nlist_for(len(x))
    assert params.codes == "sq8" and params.rerank > 1
    assert 1 <= params.nprobe < params.nlist  # tuning found a real shortcut
    assert params.recall_at_10 is not None and params.recall_at_10 >= ann.BUILD_RECALL
    files = ann.write(index, params, x, tmp_path / "d.faiss")
    assert [f.name for f in files] == ["d.faiss", "d.npy"]
    loaded = ann.read(tmp_path / "d.faiss", ann.AnnParams.from_dict(params.to_dict()))
    assert loaded.nprobe == params.nprobe and loaded.ntotal == len(x)
    results = [loaded.search(v[None, :], 10) for v in fresh]
    truth = ann.exact_search(x, fresh, 10)
    assert ann.recall_at(np.vstack([i for _, i in results]), truth) >= 0.95
    for v, (d, i) in zip(fresh, results, strict=True):  # 8-bit candidates, exact scores, best first
        np.testing.assert_allclose(d[0], x[i[0]] @ v, rtol=1e-5, atol=1e-6)
        assert np.all(np.diff(d[0]) <= 1e-7)
    vectors = ann.vectors_of(tmp_path / "d.faiss", params, len(x), x.shape[1])
    assert np.array_equal(vectors, x) and not vectors.flags.writeable


def test_flat_vectors_are_memory_mapped_from_the_index_file(tmp_path: Path) -> None:
    x, q, _ = clustered(500)
    index, params = ann.build(x)
    assert params.type == "flat"
    ann.write(index, params, x, tmp_path / "f.faiss")
    vectors = ann.vectors_of(tmp_path / "f.faiss", params, 500, 32)
    assert np.array_equal(vectors, x) and not vectors.flags.writeable
    d, i = ann.read(tmp_path / "f.faiss", params).search(q[:1], 5)
    np.testing.assert_allclose(d[0], np.sort(x @ q[0])[::-1][:5], rtol=1e-5)
    with pytest.raises(ValueError, match="not a flat"):
        ann.vectors_of(tmp_path / "f.faiss", params, 501, 32)
    with pytest.raises(ValueError, match="not a flat"):
        ann.vectors_of(tmp_path / "f.faiss", params, 500, 16)


def test_search_runs_single_threaded_in_the_calling_thread(tmp_path: Path) -> None:
    import faiss

    x, q, _ = clustered(200)
    index, params = ann.build(x)
    searcher = ann.SearchIndex(index, params)
    seen: list[int] = []

    def worker() -> None:
        searcher.search(q[:1], 3)
        seen.append(faiss.omp_get_max_threads())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [1]
    assert searcher.search(q[:1], 10_000)[1].shape == (1, 200)  # k is capped at the index size


def test_float_ivf_lists_still_load_and_search(tmp_path: Path) -> None:
    x, tune, fresh = clustered(3000)
    index, params = ann.build(x, tune, kind="ivf", codes="flat")
    assert params.codes == "flat" and params.rerank == 1
    ann.write(index, params, x, tmp_path / "f.faiss")
    loaded = ann.read(tmp_path / "f.faiss", ann.AnnParams.from_dict(params.to_dict()))
    found = np.vstack([loaded.search(v[None, :], 10)[1] for v in fresh])
    assert ann.recall_at(found, ann.exact_search(x, fresh, 10)) >= 0.95


def test_manifest_without_dense_entry_is_flat() -> None:
    assert ann.AnnParams.from_dict(None).type == "flat"
    assert ann.AnnParams.from_dict({"type": "ivf"}).codes == "flat"  # written before 8-bit lists
    assert ann.AnnParams.from_dict({"type": "ivf", "nlist": 8, "nprobe": 2, "unknown": 1}).nprobe == 2


def test_store_builds_and_loads_ivf_above_the_flat_limit(monkeypatch: pytest.MonkeyPatch,
                                                         fake_settings: Settings) -> None:
    flat_index = load_index(_build(fake_settings, "flat"), FakeEmbedder())
    monkeypatch.setattr(ann, "FLAT_LIMIT", 3)
    settings = fake_settings.model_copy(update={"index_dir": fake_settings.index_dir.parent / "ivf"})
    ivf_index = load_index(_build(settings, "ivf"), FakeEmbedder())
    manifest = json.loads((ivf_index.path / "manifest.json").read_text())
    assert manifest["dense"]["chunks"]["type"] == "ivf" and manifest["dense"]["chunks"]["nprobe"] >= 1
    assert {"dense.npy", "sentences.npy"} <= set(manifest["files"])
    assert np.array_equal(ivf_index.chunk_vectors, flat_index.chunk_vectors)
    assert np.array_equal(ivf_index.sentence_vectors, flat_index.sentence_vectors)
    for text in ("Bernoulli numbers", "green tea water"):
        a = Retriever(flat_index, FakeEmbedder()).search(text, k=3).passages
        b = Retriever(ivf_index, FakeEmbedder()).search(text, k=3).passages
        assert [p.chunk_id for p in a] == [p.chunk_id for p in b]


def _build(settings: Settings, kind: str) -> Path:
    build(settings)
    gen = current_generation(settings.index_dir)
    assert gen is not None
    manifest = json.loads((gen / "manifest.json").read_text())
    assert manifest["dense"]["sentences"]["type"] == kind
    return settings.index_dir
