from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import adapter
from rag.adapter import ADAPTER_FILE, adapt, query_adapter
from rag.config import Settings
from rag.embedding import MODEL_ID
from rag.service import Engine


@pytest.fixture(autouse=True)
def _fresh_cache():
    query_adapter.cache_clear()
    yield
    query_adapter.cache_clear()


def _write(path: Path, model_id: str, weights: list[float]) -> Path:
    path.write_text(json.dumps({"model_id": model_id, "kind": "diagonal", "weights": weights}), encoding="utf-8")
    return path


def test_the_shipped_adapter_is_for_the_bundled_model() -> None:
    weights = query_adapter(MODEL_ID, 384)
    assert weights is not None and weights.shape == (384,) and weights.dtype == np.float32
    assert np.isfinite(weights).all() and (weights > 0).all()
    assert query_adapter(MODEL_ID, 128) is None  # another dimension: not applied
    assert query_adapter("some/other-model", 384) is None
    assert json.loads(ADAPTER_FILE.read_text(encoding="utf-8"))["model_id"] == MODEL_ID


@pytest.mark.parametrize("weights", [[1.0, 2.0], [1.0, 2.0, 0.0], [1.0, float("nan"), 1.0], [1.0, -1.0, 1.0]])
def test_a_malformed_adapter_is_not_applied(tmp_path: Path, weights: list[float]) -> None:
    assert query_adapter("m", 3, _write(tmp_path / "a.json", "m", weights)) is None


def test_a_missing_or_unreadable_adapter_is_not_applied(tmp_path: Path) -> None:
    assert query_adapter("m", 3, tmp_path / "nothing.json") is None
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert query_adapter("m", 3, tmp_path / "bad.json") is None


def test_adapt_scales_and_normalises() -> None:
    v = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    out = adapt(v, np.array([2.0, 1.0, 5.0], dtype=np.float32))
    np.testing.assert_allclose(out, np.array([1.2, 0.8, 0.0]) / np.hypot(1.2, 0.8), rtol=1e-6)
    assert adapt(v, None) is v
    zero = np.zeros(3, dtype=np.float32)
    assert adapt(zero, np.ones(3, dtype=np.float32)) is zero


def test_the_retriever_uses_the_adapted_vector_for_dense_evidence_only(
        built_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = Engine(built_settings).retriever
    dim = int(plain.index.sentence_vectors.shape[1])
    weights = np.linspace(0.2, 3.0, dim).tolist()
    monkeypatch.setattr(adapter, "ADAPTER_FILE", _write(tmp_path / "a.json", plain.embedder.model_id, weights))
    query_adapter.cache_clear()
    adapted = Engine(built_settings).retriever
    q0, q1 = plain.prepare("Green tea needs cooler water"), adapted.prepare("Green tea needs cooler water")
    np.testing.assert_array_equal(q0.vector, q1.vector)  # answer and claim models see the plain vector
    np.testing.assert_array_equal(q0.search_vector, q0.vector)
    expected = q1.vector * np.asarray(weights, dtype=np.float32)
    np.testing.assert_allclose(q1.search_vector, expected / np.linalg.norm(expected), rtol=1e-5, atol=1e-7)
    ids = np.arange(len(adapted.index.sentences))
    dense = adapted.sentence_features(q1, ids)[:, 0]
    np.testing.assert_allclose(dense, adapted.index.sentence_vectors @ q1.search_vector, rtol=1e-5, atol=1e-6)
    assert not np.allclose(dense, plain.sentence_features(q0, ids)[:, 0])
    for p in adapted.search("Green tea needs cooler water", k=3).passages:
        assert adapted.index.documents[p.doc_id].text[p.start:p.end] == p.text
