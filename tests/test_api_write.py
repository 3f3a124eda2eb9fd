"""Document writes over HTTP (issue 6): add, update, delete through the corpus folder, new generations,
hot reload, metadata, bad input that changes nothing, and incremental embedding."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.config import Settings
from rag.embedding import FakeEmbedder
from rag.generations import set_current
from rag.service import build, write_lock
from rag.store import collect_garbage, current_generation, load_index
from tests.conftest import ADMIN, MD_DOC, READER, REPO, WIKI_DOC, make_keyed_settings, wait_until, write_corpus
from tests.test_api import assert_error, wait_loaded

AUTH = {"Authorization": f"Bearer {ADMIN}"}
KITES = "= Kites =\n\nKites fly on strings. The first kites were made of silk in China.\n"


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, recording every text it embeds for documents."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    return make_keyed_settings(tmp, reload_interval=0.1, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def client(settings: Settings, embedder: CountingEmbedder) -> Iterator[TestClient]:
    with TestClient(create_app(settings, embedder=embedder)) as client:
        assert wait_loaded(client).status_code == 200
        yield client


def version(client: TestClient) -> str:
    return str(client.get("/readyz").json()["index_version"])


def corpus_state(settings: Settings) -> dict[str, bytes]:
    return {str(p.relative_to(settings.corpus_dir)): p.read_bytes()
            for p in sorted(settings.corpus_dir.rglob("*")) if p.is_file()}


def search(client: TestClient, query: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/search", json={"query": query, "k": 10, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_round_trips(client: TestClient, body: dict[str, Any]) -> None:
    for passage in body["results"]:
        text = client.get(f"/v1/documents/{passage['doc_id']}").json()["text"]
        assert text[passage["start"]:passage["end"]] == passage["text"]
        for h in passage["highlights"]:
            assert text[h["start"]:h["end"]] == h["text"]


def chunk_state(index_dir: Path, doc_ids: set[str]) -> dict[str, tuple[list[str], np.ndarray]]:
    index = load_index(index_dir, FakeEmbedder())
    return {d: ([index.chunks[i].chunk_id for i in index.doc_chunks[d]], index.chunk_vectors[index.doc_chunks[d]])
            for d in doc_ids}


# -- add / update / delete -------------------------------------------------------------------------
def test_add_is_searchable_at_once_with_offsets_url_and_metadata(client: TestClient, settings: Settings,
                                                                  embedder: CountingEmbedder) -> None:
    before_version = version(client)
    others = chunk_state(settings.index_dir, {"ada_lovelace", "tea"})
    embedder.embedded.clear()
    response = client.post("/v1/documents", headers=AUTH, json={
        "doc_id": "kites", "title": "Kites", "text": KITES, "format": "text",
        "url": "https://example.org/kites", "metadata": {"lang": "en", "year": 2024}})
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["doc_id"] == "kites" and record["chars"] == len(KITES) and record["chunks"] >= 1
    assert record["url"] == "https://example.org/kites" and record["metadata"] == {"lang": "en", "year": 2024}
    assert record["index_version"] != before_version
    # only the new document was embedded (incremental build): its chunks and sentences, nothing else
    from rag.chunking import ChunkerConfig, chunk_document
    from rag.loading import make_document

    sentences, chunks = chunk_document(make_document("kites", KITES, title="Kites"),
                                       ChunkerConfig(settings.chunk_chars, settings.chunk_overlap))
    assert len(embedder.embedded) == len(sentences)  # only sentences are embedded (chunks: their mean)
    assert all(t.startswith("Kites") for t in embedder.embedded)
    body = search(client, "kites made of silk")
    assert body["index_version"] == record["index_version"]
    top = body["results"][0]
    assert top["doc_id"] == "kites" and top["url"] == "https://example.org/kites"
    assert top["metadata"] == {"lang": "en", "year": 2024}
    assert top["citation"]["url"] == "https://example.org/kites" and top["citation"]["metadata"]["year"] == 2024
    assert_round_trips(client, body)
    assert chunk_state(settings.index_dir, {"ada_lovelace", "tea"}).keys() == others.keys()
    for doc_id, (ids, vectors) in chunk_state(settings.index_dir, {"ada_lovelace", "tea"}).items():
        assert ids == others[doc_id][0] and np.array_equal(vectors, others[doc_id][1])
    # the corpus folder holds it, so it survives a rebuild from scratch
    assert (settings.corpus_dir / "api" / "kites.jsonl").is_file()
    assert "kites" in load_index(settings.index_dir, FakeEmbedder()).documents


def test_update_replaces_old_text_and_delete_removes_everything(client: TestClient, settings: Settings) -> None:
    client.post("/v1/documents", headers=AUTH, json={"doc_id": "kites", "title": "Kites", "text": KITES})
    others = chunk_state(settings.index_dir, {"ada_lovelace", "tea"})
    new_text = "= Kites =\n\nKites were flown by Benjamin Franklin in a thunderstorm.\n"
    response = client.put("/v1/documents/kites", headers=AUTH, json={"title": "Kites", "text": new_text})
    assert response.status_code == 200, response.text
    assert response.json()["chars"] == len(new_text)
    assert client.get("/v1/documents/kites").headers["x-index-version"] == response.json()["index_version"]
    lexical = {"mode": "lexical"}
    assert not [p for p in search(client, "silk China", **lexical)["results"] if "silk" in p["text"]]
    found = search(client, "Franklin thunderstorm", **lexical)["results"]
    assert found and found[0]["doc_id"] == "kites" and "Franklin" in found[0]["text"]
    for doc_id, (ids, vectors) in chunk_state(settings.index_dir, {"ada_lovelace", "tea"}).items():
        assert ids == others[doc_id][0] and np.array_equal(vectors, others[doc_id][1])

    span = found[0]
    deleted = client.delete("/v1/documents/kites", headers=AUTH)
    assert deleted.status_code == 204 and deleted.content == b""
    assert not [p for p in search(client, "Franklin thunderstorm kites", **lexical)["results"]
                if p["doc_id"] == "kites"]
    assert_error(client.get(f"/v1/documents/kites/span?start={span['start']}&end={span['end']}"), 404, "not_found")
    assert_error(client.get("/v1/documents/kites"), 404)
    assert_error(client.delete("/v1/documents/kites", headers=AUTH), 404, "not_found")
    assert not (settings.corpus_dir / "api" / "kites.jsonl").exists()
    for doc_id, (ids, vectors) in chunk_state(settings.index_dir, {"ada_lovelace", "tea"}).items():
        assert ids == others[doc_id][0] and np.array_equal(vectors, others[doc_id][1])


def test_put_of_a_corpus_file_document_moves_it_and_keeps_its_id(client: TestClient, settings: Settings) -> None:
    response = client.put("/v1/documents/tea", headers=AUTH,
                          json={"title": "Tea", "text": "# Tea\n\nMatcha is powdered green tea.", "format": "markdown"})
    assert response.status_code == 200, response.text
    assert not (settings.corpus_dir / "tea.md").exists() and (settings.corpus_dir / "api" / "tea.jsonl").exists()
    assert search(client, "matcha powdered", mode="lexical")["results"][0]["doc_id"] == "tea"


def test_post_without_doc_id_derives_a_safe_one(client: TestClient) -> None:
    response = client.post("/v1/documents", headers=AUTH,
                           json={"title": "../../Étude: naïve tests!", "text": "Some words to index."})
    assert response.status_code == 201, response.text
    doc_id = response.json()["doc_id"]
    assert doc_id.startswith("etude-naive-tests-") and "/" not in doc_id and ".." not in doc_id


def test_file_upload(client: TestClient, settings: Settings) -> None:
    files = {"file": ("kites.md", b"# Kites\n\nKites fly on strings.", "text/markdown")}
    response = client.post("/v1/documents", headers=AUTH, files=files,
                           data={"url": "https://example.org/k", "metadata": '{"lang": "en"}'})
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["doc_id"] == "kites" and record["title"] == "Kites" and record["metadata"] == {"lang": "en"}
    html = b"<html><head><title>Page</title><script>alert('x')</script></head><body><p>Visible words.</p></body>"
    response = client.post("/v1/documents", headers=AUTH, files={"file": ("page.html", html, "text/html")})
    assert response.status_code == 201, response.text
    text = client.get("/v1/documents/page").json()["text"]
    assert "Visible words." in text and "alert" not in text and "<" not in text


def test_write_statuses_and_conflicts(client: TestClient, settings: Settings) -> None:
    client.post("/v1/documents", headers=AUTH, json={"doc_id": "kites", "title": "Kites", "text": KITES})
    current, files = version(client), corpus_state(settings)
    assert_error(client.post("/v1/documents", headers=AUTH, json={"doc_id": "kites", "title": "K", "text": "x y"}),
                 409, "conflict")
    assert_error(client.post("/v1/documents", headers=AUTH, json={"doc_id": "tea", "title": "T", "text": "x y"}),
                 409, "conflict")
    assert_error(client.put("/v1/documents/nope", headers=AUTH, json={"title": "N", "text": "x"}), 404, "not_found")
    assert_error(client.put("/v1/documents/kites", headers=AUTH, json={"doc_id": "other", "title": "N", "text": "x"}),
                 422)
    assert version(client) == current and corpus_state(settings) == files


def test_the_last_document_cannot_be_deleted(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"only.txt": "The only document."})
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", admin_keys=ADMIN)
    build(settings)
    with TestClient(create_app(settings)) as client:
        wait_loaded(client)
        assert_error(client.delete("/v1/documents/only", headers=AUTH), 409, "conflict")
        assert (corpus / "only.txt").exists()


BAD_BODIES: list[tuple[str, Any, int]] = [
    ("empty text", {"title": "T", "text": ""}, 422),
    ("blank text", {"title": "T", "text": " \n\t "}, 422),
    ("html without text", {"title": "T", "text": "<script>x()</script>", "format": "html"}, 422),
    ("unknown format", {"title": "T", "text": "x", "format": "pdf"}, 422),
    ("dotdot id", {"doc_id": "../etc/passwd", "title": "T", "text": "x"}, 422),
    ("absolute id", {"doc_id": "/etc/passwd", "title": "T", "text": "x"}, 422),
    ("hidden id", {"doc_id": ".hidden", "title": "T", "text": "x"}, 422),
    ("no title", {"text": "x"}, 422),
    ("extra field", {"title": "T", "text": "x", "owner": "me"}, 422),
    ("javascript url", {"title": "T", "text": "x", "url": "javascript:alert(1)"}, 422),
    ("nested metadata", {"title": "T", "text": "x", "metadata": {"a": {"b": 1}}}, 422),
    ("not an object", ["title", "text"], 422),
]


@pytest.mark.parametrize(("case", "body", "status"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_bad_input_is_4xx_and_changes_nothing(client: TestClient, settings: Settings, case: str, body: Any,
                                              status: int) -> None:
    current, files = version(client), corpus_state(settings)
    assert_error(client.post("/v1/documents", headers=AUTH, json=body), status)
    assert version(client) == current and corpus_state(settings) == files


def test_bad_bytes_and_uploads_change_nothing(client: TestClient, settings: Settings) -> None:
    current, files = version(client), corpus_state(settings)
    json_header = {**AUTH, "content-type": "application/json"}
    assert_error(client.post("/v1/documents", headers=json_header, content=b'{"title": "T", "text": "\xff\xfe"}'),
                 422)
    assert_error(client.post("/v1/documents", headers=json_header, content=b'{"title": "T", "text": "\\ud800"}'), 422)
    assert_error(client.post("/v1/documents", headers=json_header, content=b'{"title": "T", "text": NaN}'), 422)
    assert_error(client.post("/v1/documents", headers={**AUTH, "content-type": "text/plain"}, content=b"x"), 415)
    for name, data in [("../evil.txt", b"x y"), ("/etc/passwd.txt", b"x y"), ("evil.exe", b"x y"),
                       ("bad.txt", b"\xff\xfe"), ("empty.txt", b"   ")]:
        assert_error(client.post("/v1/documents", headers=AUTH, files={"file": (name, data, "text/plain")}), 422)
    assert_error(client.put("/v1/documents/..%2F..%2Fetc", headers=AUTH, json={"title": "T", "text": "x"}), 404)
    assert_error(client.delete("/v1/documents/.hidden", headers=AUTH), 422)
    assert version(client) == current and corpus_state(settings) == files


def test_a_50_mb_body_is_refused_before_it_is_read(client: TestClient, settings: Settings) -> None:
    current = version(client)
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(50):
            sent += 1024 * 1024
            yield b"x" * (1024 * 1024)

    headers = {**AUTH, "content-type": "application/json", "content-length": str(50 * 1024 * 1024)}
    error = assert_error(client.post("/v1/documents", headers=headers, content=body()), 413, "payload_too_large")
    assert error["details"] == {"limit_bytes": settings.max_upload_bytes}
    assert sent < 50 * 1024 * 1024  # refused on the declared length, without reading it all
    assert version(client) == current


def test_auth_for_writes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, read_keys=READER)
    with TestClient(create_app(settings)) as client:
        wait_loaded(client)
        doc = {"title": "T", "text": "Some text."}
        error = assert_error(client.post("/v1/documents", json=doc), 401, "unauthorized")
        assert "Bearer" in error["message"]
        assert client.post("/v1/documents", json=doc).headers["www-authenticate"] == "Bearer"
        assert_error(client.post("/v1/documents", json=doc, headers={"Authorization": "Bearer wrong-key-0123456789"}),
                     403, "forbidden")
        assert_error(client.post("/v1/documents", json=doc, headers={"Authorization": f"Bearer {READER}"}),
                     403, "forbidden")
        assert_error(client.delete("/v1/documents/tea"), 401)
        assert client.post("/v1/documents", json=doc, headers=AUTH).status_code == 201
    no_writes = make_settings(tmp_path / "closed", admin_keys="")
    with TestClient(create_app(no_writes)) as client:
        wait_loaded(client)
        assert_error(client.post("/v1/documents", json={"title": "T", "text": "x"}, headers=AUTH),
                     403, "writes_disabled")


# -- filters ---------------------------------------------------------------------------------------
def test_doc_ids_and_metadata_filters(client: TestClient) -> None:
    for doc_id, lang, year in [("k_en", "en", 2020), ("k_fr", "fr", 2020), ("k_en2", "en", 2021)]:
        client.post("/v1/documents", headers=AUTH, json={"doc_id": doc_id, "title": doc_id,
                                                        "text": f"Kites in {lang}.", "metadata": {"lang": lang,
                                                                                                  "year": year}})
    docs = lambda body: {p["doc_id"] for p in body["results"]}  # noqa: E731
    assert docs(search(client, "kites", metadata={"lang": "en"})) == {"k_en", "k_en2"}
    assert docs(search(client, "kites", metadata={"lang": "en", "year": 2021})) == {"k_en2"}
    assert docs(search(client, "kites", metadata={"lang": "en"}, doc_ids=["k_en", "k_fr"])) == {"k_en"}
    assert docs(search(client, "kites", metadata={"year": "2020"})) == set()  # strict JSON equality
    assert docs(search(client, "kites", metadata={"lang": "de"})) == set()
    assert_error(client.post("/v1/search", json={"query": "kites", "doc_ids": ["nope"], "metadata": {"a": 1}}), 404)


# -- generations -----------------------------------------------------------------------------------
def test_server_picks_up_a_generation_built_elsewhere(client: TestClient, settings: Settings) -> None:
    before = version(client)
    write_corpus(settings.corpus_dir, {"kites.txt": KITES})
    new = build(settings).path
    assert new is not None
    wait_until(lambda: version(client) != before, "the watcher did not switch to the new generation")
    assert version(client) == new.name
    assert search(client, "silk kites", mode="lexical")["results"][0]["doc_id"] == "kites"


def test_a_corrupted_new_generation_is_refused_and_the_old_one_served(client: TestClient, settings: Settings) -> None:
    before = version(client)
    # Damaged before it is published: a build's generation could be loaded before the test damaged it.
    broken = settings.index_dir / "generations" / "999999-damaged"
    shutil.copytree(settings.index_dir / "generations" / before, broken)
    (broken / "chunks.jsonl").write_text("corrupted")
    set_current(settings.index_dir, broken.name)
    ready = wait_until(lambda: (body := client.get("/readyz").json())["warning"] and body,
                       "the watcher never looked at the damaged generation")
    assert ready["index_version"] == before and "refused" in ready["warning"]
    assert search(client, "tea")["index_version"] == before


def test_old_generations_stay_for_the_grace_period_and_resolve_citations(client: TestClient,
                                                                         settings: Settings) -> None:
    client.post("/v1/documents", headers=AUTH, json={"doc_id": "kites", "title": "Kites", "text": KITES})
    found = search(client, "silk", mode="lexical")
    hit, old_version = found["results"][0], found["index_version"]
    client.put("/v1/documents/kites", headers=AUTH, json={"title": "Kites", "text": "Completely different words."})
    for i in range(4):
        client.post("/v1/documents", headers=AUTH, json={"doc_id": f"d{i}", "title": "D", "text": f"Doc {i}."})
    names = sorted(p.name for p in (settings.index_dir / "generations").iterdir())
    assert old_version in names  # keep_generations=3, but replaced less than gc_grace_seconds ago
    span = client.get(f"/v1/documents/kites/span?start={hit['start']}&end={hit['end']}&index_version={old_version}")
    assert span.status_code == 200 and span.json()["text"] == hit["text"]
    assert_error(client.get("/v1/documents/kites/span?start=0&end=1&index_version=000999-nope"), 404)
    removed = collect_garbage(settings.index_dir, keep=settings.keep_generations, grace_seconds=0)
    assert old_version in removed
    assert len(list((settings.index_dir / "generations").iterdir())) == settings.keep_generations


def test_a_writer_elsewhere_holding_the_lock_gives_503_not_a_mixed_index(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, write_timeout=0.6)
    with TestClient(create_app(settings)) as client:
        wait_loaded(client)
        current = version(client)
        with write_lock(settings.index_dir):  # held by this thread, as by `rag add` in another process
            response = client.post("/v1/documents", headers=AUTH, json={"title": "T", "text": "Some text."})
        assert response.status_code in (503, 504), response.text
        assert version(client) == current


WRITER = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path
    from rag.config import Settings
    from rag.ingest import remove_documents, write_record
    from rag.service import build
    settings = Settings(embedder="fake", corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]),
                        chunk_chars=300, gc_grace_seconds=0)
    for i in range(int(sys.argv[3])):
        write_record(settings.corpus_dir, {"doc_id": f"kites{i}", "title": "Kites",
                                           "text": f"Kites fly on strings, version {i}.", "format": "text"})
        build(settings)
        time.sleep(0.3)  # a few watcher ticks (0.1 s) per generation, so a loaded machine still shows several
        remove_documents(settings.corpus_dir, [f"kites{i}"])
        build(settings)
        time.sleep(0.3)
""")


def test_reader_over_http_sees_whole_generations_while_another_process_writes(client: TestClient,
                                                                              settings: Settings) -> None:
    texts = {"ada_lovelace": WIKI_DOC, "tea": MD_DOC} | {f"kites{i}": f"Kites fly on strings, version {i}."
                                                        for i in range(6)}
    errors: list[str] = []
    versions: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            response = client.post("/v1/search", json={"query": "kites fly on strings", "k": 5})
            if response.status_code != 200:
                errors.append(response.text)
                continue
            body = response.json()
            versions.append(body["index_version"])
            for p in body["results"]:
                if texts[p["doc_id"]][p["start"]:p["end"]] != p["text"]:
                    errors.append(f"mixed offsets in {body['index_version']}: {p}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        subprocess.run([sys.executable, "-c", WRITER, str(settings.corpus_dir), str(settings.index_dir), "6"],
                       check=True, cwd=REPO, capture_output=True, timeout=120)
        last = current_generation(settings.index_dir)
        assert last is not None
        wait_until(lambda: errors or (versions and versions[-1] == last.name),
                   "the reader never got the last generation")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors[:3]
    numbers = [int(v.split("-")[0]) for v in versions]
    assert numbers == sorted(numbers), "a reader must never go back to an older generation"
    assert len(set(versions)) >= 3


def test_a_server_started_without_an_index_becomes_ready_when_one_is_built(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", {"tea.md": MD_DOC})
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", reload_interval=0.1)
    with TestClient(create_app(settings)) as client:
        assert_error(wait_loaded(client), 503, "index_unavailable")
        build(settings)
        wait_until(lambda: client.get("/readyz").status_code == 200, "the server did not load the new index")
        assert search(client, "green tea")["results"]
