"""The storage contract, run over every back end: local generation folders and PostgreSQL + pgvector.

The PostgreSQL runs are real (tests/pg.py starts a server from the pgserver wheel); they skip,
saying why, only when that server cannot start on the machine.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from rag import retrieval
from rag.chunking import ChunkerConfig
from rag.config import Settings
from rag.documents import to_dict
from rag.embedding import FakeEmbedder
from rag.errors import IncompatibleIndexError, IndexUnavailableError
from rag.loading import load_corpus
from rag.retrieval import Retriever
from rag.store import Generation, prepare_generation
from rag.stores import Store, open_store
from tests.conftest import MD_DOC, REPO, WIKI_DOC, wait_until, write_corpus

BACKENDS = ["local", "postgresql"]
CHUNKER = ChunkerConfig(target_chars=300, overlap=1)


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    corpus = write_corpus(tmp_path / "corpus")
    store = "local" if request.param == "local" else request.getfixturevalue("pg_url")
    return Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", chunk_chars=300, store=store)


@pytest.fixture
def store(settings: Settings) -> Store:
    return open_store(settings)


def generation(docs: dict[str, str], folder: Path, previous=None) -> Generation:  # noqa: ANN001
    documents, problems = load_corpus(write_corpus(folder, docs))
    assert not problems
    return prepare_generation(documents, FakeEmbedder(), CHUNKER, previous=previous)


def corrupt(store: Store) -> None:
    """Damage the current generation's BM25 data the way each back end can be damaged."""
    name = store.current_name()
    if store.kind == "local":
        path = next((store.index_dir / "generations" / name / "bm25" / "sentences").glob("*.npy"))
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
        return
    with store.primary.connection() as conn:
        conn.execute("UPDATE rag_blobs SET data = data || '\\x00'::bytea WHERE generation = "
                     "(SELECT number FROM rag_generations WHERE name = %s)", (name,))


def test_an_empty_store_has_no_generation(store: Store) -> None:
    assert store.current_name() is None and store.read_manifest() is None
    with pytest.raises(IndexUnavailableError, match="rag build"):
        store.load(FakeEmbedder())


def test_publish_then_load_round_trips_every_record(store: Store, tmp_path: Path) -> None:
    gen = generation({"ada.txt": WIKI_DOC, "tea.md": MD_DOC}, tmp_path / "c")
    name = store.publish(gen)
    assert store.current_name() == name and store.read_manifest()["fingerprint"] == gen.fingerprint
    index = store.load(FakeEmbedder())
    assert index.version == name and index.manifest["counts"] == {"documents": 2, "chunks": len(gen.chunks),
                                                                   "sentences": len(gen.sentences)}
    assert index.documents == {d.doc_id: d for d in gen.documents}
    assert index.chunks == gen.chunks and index.sentences == gen.sentences
    np.testing.assert_allclose(index.chunk_vectors, gen.chunk_vectors, atol=1e-6)
    np.testing.assert_allclose(index.sentence_vectors, gen.sentence_vectors, atol=1e-6)
    for record in [*index.chunks, *index.sentences]:
        assert index.documents[record.doc_id].text[record.start:record.end] == record.text
    tokens = ["ada", "born", "london"]
    np.testing.assert_allclose(index.sentence_bm25.scores(tokens), gen.lexical()[1].scores(tokens), rtol=1e-6)


def test_dense_search_matches_exact_search_on_the_bundled_corpus(store: Store) -> None:
    import faiss

    documents, _ = load_corpus(REPO / "corpus")
    embedder = FakeEmbedder()
    gen = prepare_generation(documents, embedder, ChunkerConfig(target_chars=900, overlap=1))
    store.publish(gen)
    index = store.load(embedder)
    queries = np.stack([embedder.embed_query(q) for q in (
        "When did Lyushkov defect?", "Who killed Lyushkov?", "Stalin assassination plot", "NKVD Far East",
        "Japanese army intelligence", "his wife Inna", "Great Purge arrests", "Manchukuo border")])
    for vectors, searcher in ((gen.chunk_vectors, index.chunk_faiss), (gen.sentence_vectors, index.sentence_faiss)):
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        want_scores, want = exact.search(queries, 10)
        got_scores, got = searcher.search(queries, 10)
        # the same top-10 scores, each the true score of the id returned (ids may differ only within ties)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)
        true = np.einsum("qkd,qd->qk", vectors[got], queries)
        np.testing.assert_allclose(got_scores, true, atol=1e-5)
        assert len({tuple(row) for row in got}) > 1 and all(len(set(row)) == 10 for row in got)


def test_searches_rank_identically_on_every_store(store: Store, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.stores.local import LocalStore

    monkeypatch.setattr(retrieval, "EXACT_LIMIT", 0)  # candidates come from the store's dense search
    documents, _ = load_corpus(REPO / "corpus")
    embedder = FakeEmbedder()
    gen = prepare_generation(documents, embedder, ChunkerConfig(target_chars=600, overlap=1))
    reference = LocalStore(tmp_path / "reference")
    reference.publish(gen)
    store.publish(gen)
    mine, theirs = Retriever(store.load(embedder), embedder, 8), Retriever(reference.load(embedder), embedder, 8)
    for question in ("When did Lyushkov defect?", "Who killed him?", "What did he tell the Japanese?"):
        got, want = mine.search(question, k=5).passages, theirs.search(question, k=5).passages
        assert [to_dict(p) for p in got] == [to_dict(p) for p in want] and got


def test_a_new_generation_replaces_the_old_which_stays_readable(store: Store, tmp_path: Path) -> None:
    first = store.publish(generation({"ada.txt": WIKI_DOC}, tmp_path / "a"))
    old = store.load(FakeEmbedder())
    second = store.publish(generation({"ada.txt": WIKI_DOC, "tea.md": MD_DOC}, tmp_path / "b", previous=old))
    assert second != first and second > first and store.current_name() == second
    assert sorted(store.load(FakeEmbedder()).documents) == ["ada", "tea"]
    assert store.has_generation(first) and list(store.load_documents(first)) == ["ada"]
    assert not store.has_generation("000999-nothere")
    with pytest.raises(IndexUnavailableError):
        store.load_documents("000999-nothere")


def test_garbage_collection_keeps_the_current_and_the_recent(store: Store, tmp_path: Path) -> None:
    names = [store.publish(generation({"ada.txt": WIKI_DOC + f"\nVersion {i}.\n"}, tmp_path / str(i)), keep=100)
             for i in range(4)]
    assert store.collect_garbage(keep=2, grace_seconds=3600) == []  # all replaced too recently
    assert store.collect_garbage(keep=2, grace_seconds=0) == names[:2]
    assert [store.has_generation(n) for n in names] == [False, False, True, True]
    assert store.load(FakeEmbedder()).version == names[-1]


def test_the_write_lock_admits_one_writer(store: Store) -> None:
    errors: list[Exception] = []

    def other_writer() -> None:
        try:
            with store.write_lock(timeout=0.2):
                pass
        except IndexUnavailableError as exc:
            errors.append(exc)

    with store.write_lock(), store.write_lock():  # re-entrant within a thread
        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join()
    assert len(errors) == 1 and "writer" in str(errors[0])
    with store.write_lock(timeout=0.2):  # released
        pass


def test_readers_see_whole_generations_while_a_writer_publishes(store: Store, tmp_path: Path) -> None:
    gens = [generation({"ada.txt": WIKI_DOC}, tmp_path / "a"), generation({"tea.md": MD_DOC}, tmp_path / "b")]
    store.publish(gens[0])
    seen: list[tuple[str, ...]] = []
    problems: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                index = store.load(FakeEmbedder())
            except Exception as exc:  # noqa: BLE001 - a load that fails mid-publish fails the test below
                problems.append(repr(exc))
                return
            seen.append(tuple(sorted(index.documents)))
            if len(index.chunks) != index.manifest["counts"]["chunks"] or any(
                    c.doc_id not in index.documents for c in index.chunks):
                problems.append(index.version)

    thread = threading.Thread(target=reader)
    thread.start()
    try:  # the reader is reading before the first publish and reads again after the last one
        wait_until(lambda: seen or problems, "the reader never loaded an index")
        for i in range(6):
            store.publish(gens[(i + 1) % 2])
        loaded = len(seen)
        wait_until(lambda: problems or len(seen) > loaded, "the reader stopped loading")
    finally:
        done.set()
        thread.join()
    assert not problems and set(seen) <= {("ada",), ("tea",)} and len(seen) >= 2


def test_a_corrupted_generation_is_refused_and_fallback_serves_the_previous(store: Store, tmp_path: Path) -> None:
    first = store.publish(generation({"ada.txt": WIKI_DOC}, tmp_path / "a"))
    second = store.publish(generation({"tea.md": MD_DOC}, tmp_path / "b"))
    corrupt(store)
    with pytest.raises(IndexUnavailableError, match="rag build"):
        store.load(FakeEmbedder())
    index = store.load(FakeEmbedder(), fallback=True)
    assert index.version == first and second in index.warnings[-1]


def test_an_index_of_another_model_is_refused(store: Store, tmp_path: Path) -> None:
    store.publish(generation({"ada.txt": WIKI_DOC}, tmp_path / "a"))
    with pytest.raises(IncompatibleIndexError, match="dim 32"):
        store.load(FakeEmbedder(dim=32))
