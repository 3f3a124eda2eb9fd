"""Wrong-typed request fields are refused with a 422 that names the field, never coerced."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.config import Settings
from rag.service import build
from tests.test_api import assert_error, settings_for, wait_loaded


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings: Settings = settings_for(tmp_path_factory.mktemp("api-input"))
    build(settings)
    with TestClient(create_app(settings)) as client:
        assert wait_loaded(client).status_code == 200
        yield client


@pytest.mark.parametrize(("route", "body", "field"), [
    ("/v1/search", {"query": "tea", "k": True}, "k"),
    ("/v1/search", {"query": "tea", "k": "3"}, "k"),
    ("/v1/ask", {"question": "tea", "k": False}, "k"),
    ("/v1/locate", {"claim": "tea", "k": "2"}, "k"),
    ("/v1/verify", {"text": "Black tea is steeped.", "k": True}, "k"),
    ("/v1/context", {"question": "tea", "max_chars": "800"}, "max_chars"),
    ("/v1/context", {"question": "tea", "max_chars": True}, "max_chars"),
])
def test_numbers_must_be_json_integers(client: TestClient, route: str, body: dict, field: str) -> None:
    error = assert_error(client.post(route, json=body), 422, "invalid_request")
    assert error["details"][0]["loc"] == ["body", field]


def test_integers_are_still_accepted(client: TestClient) -> None:
    assert len(client.post("/v1/search", json={"query": "tea", "k": 2}).json()["results"]) <= 2
    assert client.post("/v1/ask", json={"question": "tea", "k": 2.0}).status_code == 200  # JSON Schema: an integer
    assert client.post("/v1/context", json={"question": "tea", "max_chars": 800}).status_code == 200
