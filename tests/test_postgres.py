"""PostgreSQL back end beyond the shared contract: the API and CLI on top of it, schema versions,
and a streaming replica that serves searches and refuses writes."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.embedding import FakeEmbedder
from rag.errors import IncompatibleIndexError, IndexUnavailableError
from rag.service import build
from rag.stores import open_store
from tests.conftest import ADMIN, MD_DOC, WIKI_DOC, write_corpus
from tests.test_api import wait_loaded


def _settings(tmp_path: Path, url: str, **more) -> Settings:  # noqa: ANN003
    corpus = write_corpus(tmp_path / "corpus", {"ada.txt": WIKI_DOC})
    return Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", chunk_chars=300, store=url,
                    reload_interval=0, **more)


def test_api_searches_and_writes_through_the_database(tmp_path: Path, pg_url: str) -> None:
    from rag.api.app import create_app

    settings = _settings(tmp_path, pg_url, admin_keys=ADMIN)
    assert build(settings).built and not (tmp_path / "index").exists()  # nothing written locally
    with TestClient(create_app(settings)) as client:
        assert wait_loaded(client).status_code == 200
        found = client.post("/v1/search", json={"query": "Where was Ada born?", "k": 3}).json()
        text = client.get("/v1/documents/ada").json()["text"]
        assert found["results"] and all(text[p["start"]:p["end"]] == p["text"] for p in found["results"])
        created = client.post("/v1/documents", headers={"Authorization": f"Bearer {ADMIN}"},
                              json={"doc_id": "tea", "title": "Tea", "text": MD_DOC, "format": "markdown"})
        assert created.status_code == 201, created.text
        version = created.json()["index_version"]
        listed = client.get("/v1/documents").json()
        assert sorted(d["doc_id"] for d in listed["documents"]) == ["ada", "tea"]
        hit = client.post("/v1/search", json={"query": "green tea water temperature", "k": 1}).json()
        assert hit["results"][0]["doc_id"] == "tea" and hit["index_version"] == version
    # the database, not the API's corpus folder, holds the document: another process sees it
    assert not (settings.corpus_dir / "api").exists()
    fresh = open_store(settings.model_copy(update={"store_pool_size": 2}))
    assert fresh.current_name() == version and sorted(fresh.load_documents(version)) == ["ada", "tea"]


def test_cli_add_list_remove_against_the_database(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    settings = _settings(tmp_path, pg_url)
    for name, value in {"RAG_STORE": pg_url, "RAG_EMBEDDER": "fake", "RAG_CHUNK_CHARS": "300",
                        "RAG_CORPUS_DIR": str(settings.corpus_dir), "RAG_INDEX_DIR": str(settings.index_dir)}.items():
        monkeypatch.setenv(name, value)
    assert main(["build"]) == 0
    extra = write_corpus(tmp_path / "more", {"tea.md": MD_DOC}) / "tea.md"
    assert main(["add", str(extra)]) == 0
    capsys.readouterr()
    assert main(["list", "--json"]) == 0
    assert sorted(d["doc_id"] for d in json.loads(capsys.readouterr().out)["documents"]) == ["ada", "tea"]
    assert main(["remove", "ada"]) == 0
    assert list(open_store(settings).load(FakeEmbedder()).documents) == ["tea"]
    assert main(["remove", "nothere"]) != 0
    assert "nothere" in capsys.readouterr().err


def test_schema_is_versioned_and_a_newer_one_is_refused(pg_url: str) -> None:
    import psycopg

    from rag.stores import pg_schema
    from rag.stores.postgres import PostgresStore

    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM rag_schema ORDER BY version")] == \
            [v for v, _ in pg_schema.MIGRATIONS]
        PostgresStore(pg_url).close()  # migrating again is a no-op
        conn.execute("INSERT INTO rag_schema (version) VALUES (%s)", (pg_schema.LATEST + 1,))
    with pytest.raises(IncompatibleIndexError, match="upgrade rag"):
        PostgresStore(pg_url)


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    from rag.stores.postgres import PostgresStore

    url = f"postgresql://rag:secret@/nowhere?host={tmp_path}&connect_timeout=1"
    with pytest.raises(IndexUnavailableError) as caught:
        PostgresStore(url, connect_timeout=1)
    assert "secret" not in str(caught.value) and "database is up" in str(caught.value)


@pytest.fixture(scope="module")
def primary_and_replica():
    from tests import pg

    primary, why = pg.start()
    if primary is None:
        pytest.skip(why)
    try:
        replica = pg.replica(primary)
    except Exception as exc:  # noqa: BLE001
        primary.stop()
        pytest.skip(f"a streaming replica could not start here: {exc}")
    yield primary, replica
    replica.stop()
    primary.stop()


def test_a_streaming_replica_serves_searches_and_refuses_writes(tmp_path: Path, primary_and_replica) -> None:  # noqa: ANN001
    from rag.retrieval import Retriever
    from rag.store import prepare_generation
    from rag.stores.postgres import PostgresStore
    from tests import pg

    primary, replica = primary_and_replica
    database = urlsplit(primary.new_database()).path.lstrip("/")
    primary_url, replica_url = primary.url(database), replica.url(database)
    settings = _settings(tmp_path, primary_url, store_replicas=(replica_url,))
    name = build(settings).name
    pg.wait_replayed(primary_url, replica_url)

    store = open_store(settings)
    index = store.load(FakeEmbedder())
    assert index.version == name
    assert index.chunk_faiss.pool is store.replicas[0]  # loaded from, and searching on, the replica
    with store.replicas[0].connection() as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
    passages = Retriever(index, FakeEmbedder(), candidates=5).search("Where was Ada born?", k=2).passages
    assert passages and "London" in " ".join(p.text for p in passages)

    replica_only = PostgresStore(replica_url)  # a store pointed at the replica can read but not write
    assert replica_only.current_name() == name
    documents = list(index.documents.values())
    with pytest.raises(IndexUnavailableError, match="read-only"):
        replica_only.publish(prepare_generation(documents, FakeEmbedder(), settings_chunker(settings)))
    replica_only.close()

    # a write on the primary reaches the replica as a whole generation
    second = build(settings.model_copy(update={"corpus_dir": write_corpus(tmp_path / "c2", {"tea.md": MD_DOC})})).name
    pg.wait_replayed(primary_url, replica_url)
    assert store.current_name() == second and list(store.load(FakeEmbedder()).documents) == ["tea"]


def settings_chunker(settings: Settings):  # noqa: ANN201
    from rag.service import chunker_config

    return chunker_config(settings)


@pytest.mark.slow
def test_dense_results_match_faiss_exact_search_with_the_real_model(pg_url: str, real_embedder) -> None:  # noqa: ANN001
    """On the bundled corpus with the real model: pgvector's HNSW returns FAISS's exact top 10."""
    import faiss
    import numpy as np

    from rag.chunking import ChunkerConfig
    from rag.loading import load_corpus
    from rag.store import prepare_generation
    from rag.stores.postgres import PostgresStore
    from tests.conftest import REPO

    documents, _ = load_corpus(REPO / "corpus")
    gen = prepare_generation(documents, real_embedder, ChunkerConfig())
    store = PostgresStore(pg_url)
    store.publish(gen)
    index = store.load(real_embedder)
    questions = ["When did Lyushkov defect?", "Who killed Lyushkov?", "What happened to his wife Inna?",
                 "Where was Lyushkov born?", "What did he tell the Japanese about Soviet forces?"]
    queries = np.stack([real_embedder.embed_query(q) for q in questions])
    for vectors, searcher in ((gen.chunk_vectors, index.chunk_faiss), (gen.sentence_vectors, index.sentence_faiss)):
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        want_scores, want = exact.search(queries, 10)
        got_scores, got = searcher.search(queries, 10)
        assert (got == want).all()
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-4)
    store.close()


def test_a_search_on_a_collected_generation_is_unavailable_not_a_crash(tmp_path: Path, pg_url: str) -> None:
    import numpy as np

    settings = _settings(tmp_path, pg_url)
    build(settings)
    store = open_store(settings)
    index = store.load(FakeEmbedder())
    build(settings.model_copy(update={"corpus_dir": write_corpus(tmp_path / "c2", {"tea.md": MD_DOC})}))
    assert store.collect_garbage(keep=1, grace_seconds=0) == [index.version]
    with pytest.raises(IndexUnavailableError, match="rag_chunks_1"):
        index.chunk_faiss.search(np.ones((1, 64), dtype=np.float32), 3)


def test_pooled_sessions_carry_ef_search_and_larger_searches_raise_it(tmp_path: Path, pg_url: str) -> None:
    import numpy as np

    from rag.stores.postgres import EF_SEARCH

    settings = _settings(tmp_path, pg_url)
    build(settings)
    store = open_store(settings)
    with store.primary.connection() as conn:
        assert conn.execute("SHOW hnsw.ef_search").fetchone()[0] == str(EF_SEARCH)
    index = store.load(FakeEmbedder())
    query = np.ones((1, 64), dtype=np.float32) / 8.0
    everything = len(index.sentences)
    _, small = index.sentence_faiss.search(query, 3)
    _, large = index.sentence_faiss.search(query, EF_SEARCH + 50)  # SET LOCAL for this transaction only
    assert (small[0] >= 0).all() and (large[0] >= 0).sum() == min(everything, EF_SEARCH + 50)
    with store.primary.connection() as conn:
        assert conn.execute("SHOW hnsw.ef_search").fetchone()[0] == str(EF_SEARCH)
