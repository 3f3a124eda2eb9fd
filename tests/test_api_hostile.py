"""Defects a hostile API user found (each test failed before its fix): HEAD on GET routes, metadata numbers
that lost digits, a corpus .jsonl with a lone surrogate that made every write a 500, CRLF wiki headings glued
to the sentence after them, error messages that blamed the body for one field, and a stalled body
that held its request open for ever."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.chunking import chunk_document
from rag.config import Settings
from rag.loading import load_corpus, make_document
from tests.conftest import ADMIN, make_keyed_settings
from tests.test_api import assert_error, wait_loaded

AUTH = {"Authorization": f"Bearer {ADMIN}"}
BEYOND = 2**53 + 1  # the first integer a float (and JSON parsers using doubles) cannot hold
CRLF_WIKI = "= Kites =\r\n\r\nKites are old.\r\n\r\n== Flying ==\r\nKites fly on strings in 1990.\r\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_keyed_settings(tmp_path, reload_interval=0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        assert wait_loaded(client).status_code == 200
        yield client


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/v1/documents", "/v1/documents/tea", "/v1/documents/nope",
                 "/v1/documents/tea/span?start=0&end=5", "/v1/documents/tea/span?start=9&end=2", "/v1/search"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code, path  # was 405 on every GET route but /healthz and /readyz
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers.get("allow") == get.headers.get("allow")


def test_metadata_numbers_that_would_lose_digits_are_refused(client: TestClient) -> None:
    body = {"doc_id": "big", "title": "Big", "text": "Big numbers.", "metadata": {"n": BEYOND}}
    error = assert_error(client.post("/v1/documents", headers=AUTH, json=body), 422, "invalid_request")
    assert error["details"][0]["loc"][:3] == ["body", "metadata", "n"] and "as a string" in error["message"]
    assert client.get("/v1/documents/big").status_code == 404  # was stored as 9007199254740992.0
    form = {"metadata": f'{{"n": {BEYOND}}}'}
    upload = client.post("/v1/documents", headers=AUTH, files={"file": ("big.txt", b"Big.")}, data=form)
    assert_error(upload, 422, "invalid_request")
    for value in (BEYOND, -BEYOND, 1e300):  # a filter on 2**53 + 1 matched documents holding 2**53
        assert_error(client.post("/v1/search", json={"query": "tea", "metadata": {"n": value}}), 422)
    exact = {"doc_id": "edge", "title": "Edge", "text": "Edge numbers.", "metadata": {"n": 2**53, "f": 0.5}}
    assert client.post("/v1/documents", headers=AUTH, json=exact).status_code == 201
    assert client.get("/v1/documents/edge").json()["metadata"] == {"n": 2**53, "f": 0.5}
    assert client.post("/v1/search", json={"query": "edge", "metadata": {"n": 2**53}}).json()["results"]


def test_a_corpus_line_with_a_lone_surrogate_is_skipped_not_a_500(client: TestClient, settings: Settings) -> None:
    (settings.corpus_dir / "bad.jsonl").write_text('{"doc_id": "bad", "title": "Bad", "text": "Lions \\ud800 hunt."}\n')
    documents, problems = load_corpus(settings.corpus_dir)  # raised UnicodeEncodeError
    assert "bad" not in {d.doc_id for d in documents}
    assert len(problems) == 1 and "bad.jsonl line 1" in problems[0] and "surrogate" in problems[0]
    response = client.post("/v1/documents", headers=AUTH, json={"doc_id": "kites", "title": "K", "text": "Kites."})
    assert response.status_code == 201, response.text  # every write was a 500 while the file was there
    assert client.delete("/v1/documents/kites", headers=AUTH).status_code == 204


def test_crlf_wiki_headings_are_headings() -> None:
    def sentences(text: str) -> list[tuple[str, str]]:
        return [(s.kind, s.text.rstrip("\r")) for s in chunk_document(make_document("k", text))[0]]

    assert sentences(CRLF_WIKI) == sentences(CRLF_WIKI.replace("\r\n", "\n"))


def test_crlf_headings_stay_out_of_highlights(client: TestClient) -> None:
    body = {"doc_id": "kites", "title": "Kites", "text": CRLF_WIKI}
    assert client.post("/v1/documents", headers=AUTH, json=body).status_code == 201
    results = client.post("/v1/search", json={"query": "kites fly strings", "doc_ids": ["kites"], "k": 5}).json()
    highlights = [h["text"] for p in results["results"] for h in p["highlights"]]
    assert "Kites fly on strings in 1990." in highlights  # was "== Flying ==\r\nKites fly on strings in 1990."
    assert not any("==" in h and "Kites" in h for h in highlights)


def test_errors_name_the_field_that_is_wrong(client: TestClient) -> None:
    upload = client.post("/v1/documents", headers=AUTH, files={"file": ("m.txt", b"Meta.")}, data={"metadata": "{"})
    message = assert_error(upload, 422, "invalid_request")["message"]
    assert message.startswith("body.metadata:")  # was "the body is not valid JSON" (the body was fine)
    raw = b'{"query": "\\ud800"}'
    error = assert_error(client.post("/v1/search", content=raw, headers={"content-type": "application/json"}), 422)
    assert "surrogate" in error["message"] and "Value error" not in error["message"]
    assert "Value error" not in error["details"][0]["msg"]
    broken = client.post("/v1/search", content=b'{"query": ', headers={"content-type": "application/json"})
    assert assert_error(broken, 422)["message"] == "the body is not valid JSON"


def test_a_stalled_body_gets_408_instead_of_holding_the_request_open(settings: Settings) -> None:
    import anyio

    async def call(path: str, method: str = "POST") -> tuple[list[dict[str, Any]], float]:
        sent: list[dict[str, Any]] = []
        messages = [{"type": "http.request", "body": b'{"query": "te', "more_body": True}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            await anyio.sleep(3600)  # the client never sends the rest (before: the request waited for ever)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [(b"content-type", b"application/json"), (b"authorization", AUTH["Authorization"].encode())]
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
                 "headers": headers, "client": ("127.0.0.1", 1), "server": ("testserver", 80), "scheme": "http",
                 "http_version": "1.1", "root_path": ""}
        t0 = time.perf_counter()
        with anyio.fail_after(10):
            await app(scope, receive, send)
        return sent, time.perf_counter() - t0

    app = create_app(settings.model_copy(update={"request_timeout": 0.3, "write_timeout": 0.6}))
    for path, seconds in (("/v1/search", 0.3), ("/v1/documents", 0.6)):
        sent, took = anyio.run(call, path)
        assert sent[0]["status"] == 408 and (b"connection", b"close") in sent[0]["headers"]
        error = json.loads(sent[1]["body"])["error"]
        assert error["code"] == "request_timeout" and error["details"] == {"timeout_s": seconds}
        assert seconds <= took < seconds + 2
    spec = TestClient(app).get("/openapi.json").json()["paths"]
    assert "408" in spec["/v1/search"]["post"]["responses"] and "408" in spec["/v1/documents"]["post"]["responses"]


def test_document_sources_do_not_reveal_the_servers_paths(client: TestClient, settings: Settings) -> None:
    body = {"doc_id": "kites", "title": "Kites", "text": "Kites fly."}
    written = client.post("/v1/documents", headers=AUTH, json=body)
    assert written.status_code == 201 and written.json()["source"] == "api/kites.jsonl"
    listing = client.get("/v1/documents")
    assert {d["doc_id"]: d["source"] for d in listing.json()["documents"]} == {
        "ada_lovelace": "ada_lovelace.txt", "tea": "tea.md", "kites": "api/kites.jsonl"}
    assert client.get("/v1/documents/tea").json()["source"] == "tea.md"
    for response in (written, listing):  # was the absolute path of every file, e.g. /srv/rag/corpus/tea.md
        assert str(settings.corpus_dir.parent) not in response.text


def test_a_byte_order_mark_does_not_hide_the_title(client: TestClient, settings: Settings) -> None:
    bom = b"\xef\xbb\xbf"  # Windows editors start UTF-8 files with it; the text keeps it (offsets stay exact)
    (settings.corpus_dir / "notes.md").write_bytes(bom + b"# Field notes\n\nOwls hunt at night.\n")
    (settings.corpus_dir / "rows.jsonl").write_bytes(bom + b'{"doc_id": "row", "text": "Bats hunt too."}\n')
    documents, problems = load_corpus(settings.corpus_dir)
    by_id = {d.doc_id: d for d in documents}
    assert not problems  # rows.jsonl was refused as "not valid JSON"
    assert by_id["notes"].title == "Field notes"  # was "notes"
    assert by_id["notes"].text == "\ufeff# Field notes\n\nOwls hunt at night.\n" and by_id["row"].text == "Bats hunt too."
    heading = chunk_document(by_id["notes"])[0][0]
    assert (heading.kind, heading.text) == ("heading", "# Field notes")  # was a text sentence "\ufeff# Field notes"
    upload = client.post("/v1/documents", headers=AUTH, files={"file": ("kites.txt", bom + b"= Kites =\n\nKites fly.\n")})
    assert upload.status_code == 201 and upload.json()["title"] == "Kites"  # was "kites" (its file name)
    assert client.get("/v1/documents/kites").json()["text"] == "\ufeff= Kites =\n\nKites fly.\n"
    raw = bom + b'{"doc_id": "owls", "title": "Owls", "text": "Owls."}'  # the query routes accept this BOM too
    headers = {**AUTH, "content-type": "application/json"}
    assert client.post("/v1/documents", headers=headers, content=raw).status_code == 201  # was 422


def test_a_blank_title_is_refused(client: TestClient) -> None:
    for title in (" ", "\t", " \u3000\u00a0 "):  # were stored: citations labelled " " (or " § Section")
        body = {"doc_id": "blank", "title": title, "text": "Kites fly."}
        error = assert_error(client.post("/v1/documents", headers=AUTH, json=body), 422, "invalid_request")
        assert error["details"][0]["loc"] == ["body", "title"]
        form = client.post("/v1/documents", headers=AUTH, files={"file": ("blank.txt", b"Kites.")}, data={"title": title})
        assert_error(form, 422, "invalid_request")
    assert client.get("/v1/documents/blank").status_code == 404
    body = {"doc_id": "padded", "title": "  Kites  ", "text": "Kites fly."}
    assert client.post("/v1/documents", headers=AUTH, json=body).status_code == 201


def test_keys_are_still_needed_behind_a_root_path(tmp_path: Path) -> None:
    """uvicorn --root-path /rag (the API under a proxy's sub-path) hands the app path="/rag/v1/...": access
    control looked at that path, saw no /v1/ route, and let anyone read and write."""
    from tests.conftest import READER

    settings = make_keyed_settings(tmp_path, reload_interval=0, read_keys=READER)
    with TestClient(create_app(settings), root_path="/rag") as client:  # the URL carries the prefix, as uvicorn's
        assert wait_loaded(client).status_code == 200
        assert_error(client.get("/rag/v1/documents"), 401)  # was 200
        assert_error(client.post("/rag/v1/search", json={"query": "tea"}), 401)
        body = {"doc_id": "pwn", "title": "P", "text": "Written without a key."}
        assert_error(client.post("/rag/v1/documents", json=body), 401)  # was 201
        assert_error(client.post("/rag/v1/documents", json=body, headers={"Authorization": f"Bearer {READER}"}), 403)
        assert client.get("/rag/v1/documents", headers={"Authorization": f"Bearer {READER}"}).status_code == 200
        upload = {"Authorization": f"Bearer {ADMIN}", "content-type": "application/json"}
        big = b'{"title": "Big", "text": "' + b"x" * 100_000 + b'"}'  # over the query body limit, under the upload one
        assert client.post("/rag/v1/documents", content=big, headers=upload).status_code == 201  # was 413


def test_a_span_of_an_older_generation_names_that_generation(client: TestClient) -> None:
    old = client.get("/readyz").json()["index_version"]
    put = client.put("/v1/documents/tea", headers=AUTH, json={"title": "Tea", "text": "Different tea text now."})
    new = put.json()["index_version"]
    span = client.get("/v1/documents/tea/span", params={"start": 0, "end": 5, "index_version": old})
    assert span.json()["text"] == "# Tea" and span.headers["x-index-version"] == old  # said the new generation
    current = client.get("/v1/documents/tea/span", params={"start": 0, "end": 5})
    assert current.json()["text"] == "Diffe" and current.headers["x-index-version"] == new != old
