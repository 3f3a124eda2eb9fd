"""End-to-end checks with the bundled all-MiniLM-L6-v2 on the bundled corpus (slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.retrieval import Retriever
from rag.service import build
from rag.store import load_index
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Retriever:
    index_dir = tmp_path_factory.mktemp("real") / "index"
    settings = Settings(corpus_dir=REPO / "corpus", index_dir=index_dir)
    build(settings, embedder=real_embedder)
    return Retriever(load_index(index_dir, real_embedder), real_embedder)


def test_embeddings_are_normalised_and_deterministic(real_embedder) -> None:
    a = real_embedder.embed_documents(["Lyushkov defected in 1938.", "Tea is a drink."])
    b = real_embedder.embed_documents(["Lyushkov defected in 1938.", "Tea is a drink."])
    assert a.shape == (2, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(a, b)


def test_defection_question(retriever: Retriever) -> None:
    passages = retriever.search("When did Lyushkov defect?", k=5).passages
    top = passages[0]
    # the dated sentence wins over "on 13 July, a month after Lyushkov had defected" (press
    # conference) by the year cue of a "when" question (docs/evaluation.md)
    assert "On 13 June 1938, Lyushkov defected" in top.text
    assert "On 13 June 1938, Lyushkov defected" in top.highlights[0].text
    text = retriever.index.documents[top.doc_id].text
    assert text[top.start:top.end] == top.text


def test_who_killed_lyushkov(retriever: Retriever) -> None:
    passages = retriever.search("Who killed Lyushkov?", k=5).passages
    # A known miss at rank 1 (docs/evaluation.md): the lead's "he was killed by the Japanese" and
    # the hedged "Some theories held that … he was killed" outscore "Takeoka … executed Lyushkov".
    assert any("Yutaka Takeoka" in p.text for p in passages[:3])


def test_death_date_is_cited_from_prose_not_the_infobox(retriever: Retriever) -> None:
    top = retriever.search("When did Lyushkov die?", k=3).passages[0]
    assert "19 August 1945" in top.highlights[0].text and not top.highlights[0].text.startswith("-")


def test_rebuild_with_real_model_is_identical(tmp_path: Path, real_embedder, retriever: Retriever) -> None:
    settings = Settings(corpus_dir=REPO / "corpus", index_dir=tmp_path / "again")
    report = build(settings, embedder=real_embedder)
    assert report.path is not None
    for name in ("dense.faiss", "sentences.faiss", "chunks.jsonl", "sentences.jsonl"):
        assert (report.path / name).read_bytes() == (retriever.index.path / name).read_bytes()
