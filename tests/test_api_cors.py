"""Cross-origin calls from browser pages (RAG_CORS_ORIGINS): off by default, preflights answered before
the key check, refusals as JSON errors, and CORS headers on errors too so a page can read them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.config import Settings, load_settings
from rag.errors import ConfigError
from rag.service import build
from tests.test_api import assert_error, settings_for, wait_loaded

PAGE = "https://chat.example.org"
KEY = "read-key-0123456789abcdef"
PREFLIGHT = {"origin": PAGE, "access-control-request-method": "POST",
             "access-control-request-headers": "authorization, content-type, x-request-id"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = settings_for(tmp_path_factory.mktemp("cors"))
    build(settings)
    return settings


@pytest.fixture(scope="module")
def client(built: Settings) -> Iterator[TestClient]:
    settings = load_settings(**{**built.model_dump(), "cors_origins": f"{PAGE}/, http://LOCALHOST:3000",
                                "read_keys": KEY})
    with TestClient(create_app(settings)) as client:
        assert wait_loaded(client).status_code == 200
        yield client


def test_an_allowed_page_can_call_the_api(client: TestClient) -> None:
    preflight = client.options("/v1/search", headers=PREFLIGHT)  # no key: browsers never send one here
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == PAGE
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(h in allowed for h in ("authorization", "content-type", "x-request-id"))
    assert "POST" in preflight.headers["access-control-allow-methods"]

    response = client.post("/v1/search", json={"query": "tea"},
                           headers={"origin": PAGE, "authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PAGE
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    # the origin as configured with a trailing slash and upper case matches what browsers send
    local = client.options("/v1/ask", headers={**PREFLIGHT, "origin": "http://localhost:3000"})
    assert local.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_errors_carry_cors_headers_so_the_page_can_read_them(client: TestClient) -> None:
    response = client.post("/v1/search", json={"query": "tea"}, headers={"origin": PAGE})  # no key
    assert_error(response, 401)
    assert response.headers["access-control-allow-origin"] == PAGE


def test_other_origins_are_refused(client: TestClient) -> None:
    refused = client.options("/v1/search", headers={**PREFLIGHT, "origin": "https://evil.example"})
    error = assert_error(refused, 400, "cors_refused")
    assert "origin" in error["message"] and "RAG_CORS_ORIGINS" in error["message"]
    assert "access-control-allow-origin" not in refused.headers
    method = assert_error(client.options("/v1/search", headers={**PREFLIGHT, "access-control-request-method": "PATCH"}),
                          400, "cors_refused")
    assert "method" in method["message"]
    simple = client.post("/v1/search", json={"query": "tea"},
                         headers={"origin": "https://evil.example", "authorization": f"Bearer {KEY}"})
    assert simple.status_code == 200  # the server answers; the browser withholds it from the page
    assert "access-control-allow-origin" not in simple.headers


def test_no_cors_by_default(built: Settings) -> None:
    with TestClient(create_app(built)) as client:
        wait_loaded(client)
        response = client.post("/v1/search", json={"query": "tea"}, headers={"origin": PAGE})
        assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
        assert_error(client.options("/v1/search", headers=PREFLIGHT), 405, "method_not_allowed")


@pytest.mark.parametrize("bad", ["https://chat.example.org/app", "ftp://files.example", "javascript:alert(1)",
                                 "chat.example.org", "https://a.example, null"])
def test_bad_origins_are_a_settings_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="RAG_CORS_ORIGINS"):
        load_settings(corpus_dir=tmp_path, cors_origins=bad)


def test_origins_are_normalised(tmp_path: Path) -> None:
    settings = load_settings(corpus_dir=tmp_path, cors_origins=" https://Chat.Example.org/ ,*,http://[::1]:8080")
    assert settings.cors_origins == ("https://chat.example.org", "*", "http://[::1]:8080")


def test_a_500_carries_cors_headers_so_the_page_can_read_its_request_id(built: Settings,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """The generic 500 asks the caller to quote its X-Request-ID: a page on an allowed origin must be able to
    read it (without Access-Control-Allow-Origin the browser hides the whole response)."""
    app = create_app(load_settings(**{**built.model_dump(), "cors_origins": PAGE}))

    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/v1/boom", boom)
    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="rag.api"):
        response = client.get("/v1/boom", headers={"origin": PAGE, "x-request-id": "page-7"})
        error = assert_error(response, 500, "internal_error")
        assert "secret" not in error["message"]
        assert response.headers["access-control-allow-origin"] == PAGE
        assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
        assert response.headers["x-request-id"] == "page-7"
    logged = [r for r in caplog.records if "secret internal detail" in (r.exc_text or "")]
    assert len(logged) == 1 and "page-7" in logged[0].getMessage()  # logged once, naming the request


def test_origins_are_compared_as_browsers_send_them(built: Settings) -> None:
    """Browsers leave out a scheme's default port and write IPv6 addresses in their shortest form: an origin
    configured with either must still match."""
    settings = load_settings(**{**built.model_dump(), "cors_origins": f"{PAGE}:443, http://[0:0:0:0:0:0:0:1]:08080"})
    assert settings.cors_origins == (PAGE, "http://[::1]:8080")
    with TestClient(create_app(settings)) as client:
        for origin in (PAGE, "http://[::1]:8080"):
            preflight = client.options("/v1/search", headers={**PREFLIGHT, "origin": origin})
            assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("bad", ["https://a.example:99999", "https://a.example:0", "http://[::1::2]", "http://[]"])
def test_impossible_ports_and_addresses_are_a_settings_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="RAG_CORS_ORIGINS"):
        load_settings(corpus_dir=tmp_path, cors_origins=bad)


def test_private_network_access_only_for_named_origins(built: Settings, client: TestClient) -> None:
    """Chrome asks before a public page reaches a server on a private network: yes for an origin the
    operator named, no under ``*`` (any website could then reach an intranet server via its visitors)."""
    ask = {**PREFLIGHT, "access-control-request-private-network": "true"}
    named = client.options("/v1/search", headers=ask)
    assert named.status_code == 200 and named.headers["access-control-allow-private-network"] == "true"
    with TestClient(create_app(load_settings(**{**built.model_dump(), "cors_origins": "*"}))) as anyone:
        assert anyone.options("/v1/search", headers=PREFLIGHT).status_code == 200
        error = assert_error(anyone.options("/v1/search", headers=ask), 400, "cors_refused")
        assert "private-network" in error["message"] and "not *" in error["message"]
