"""GET /v1/documents a page at a time: limit, offset, total, next_offset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rag.api.app import create_app
from rag.config import Settings
from rag.service import build
from tests.conftest import write_corpus
from tests.test_api import assert_error, wait_loaded

DOCS = {f"doc_{i:02d}.txt": f"= Document {i} =\n\nDocument {i} is about topic {i}.\n" for i in range(7)}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("paging")
    settings = Settings(embedder="fake", corpus_dir=write_corpus(root / "corpus", DOCS), index_dir=root / "index")
    build(settings)
    with TestClient(create_app(settings)) as client:
        assert wait_loaded(client).status_code == 200
        yield client


def test_pages_cover_every_document_once_in_id_order(client: TestClient) -> None:
    seen: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        body = client.get("/v1/documents", params={"limit": 3, "offset": offset}).json()
        assert body["total"] == len(DOCS) and body["offset"] == offset and body["limit"] == 3
        assert len(body["documents"]) <= 3 and body["index_version"]
        seen += [d["doc_id"] for d in body["documents"]]
        offset, pages = body["next_offset"], pages + 1
    assert pages == 3 and seen == sorted(seen) == sorted(name.removesuffix(".txt") for name in DOCS)


def test_default_page_and_past_the_end(client: TestClient) -> None:
    body = client.get("/v1/documents").json()
    assert len(body["documents"]) == body["total"] == len(DOCS)
    assert body["offset"] == 0 and body["limit"] == 100 and body["next_offset"] is None
    past = client.get("/v1/documents", params={"offset": 50}).json()
    assert past["documents"] == [] and past["total"] == len(DOCS) and past["next_offset"] is None


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "x"}, {"offset": "1.5"}])
def test_bad_paging_is_refused(client: TestClient, params: dict) -> None:
    error = assert_error(client.get("/v1/documents", params=params), 422, "invalid_request")
    assert next(iter(params)) in str(error["details"])
