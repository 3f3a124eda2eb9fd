"""The API docs (/docs, /redoc) work offline: every file they load is served by the app itself, under a CSP."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.config import Settings
from tests.conftest import write_corpus

PAGES = ("/docs", "/redoc")
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
# src="…", href="…", spec-url="…" attributes and Swagger UI's `url: '…'` in its init script
REFERENCE = re.compile(r"""(?:\b(?:src|href|spec-url)=|\burl:\s*)["']([^"']+)["']""")
# what makes a browser fetch from another host when a script or style sheet renders it: an img/script src,
# srcset or poster (as an HTML attribute or a React prop), a CSS url() or @import
FETCH_ELSEWHERE = re.compile(r"""(?:\b(?:src|srcset|poster)\s*[:=]\s*|\burl\(\s*|@import\s+)["'`]?"""
                             r"""((?:https?:)?//[\w.-]+[^"'`)\s]*)""")


def make_client(tmp: Path, root_path: str = "", **overrides: object) -> TestClient:
    settings = Settings(embedder="fake", corpus_dir=write_corpus(tmp / "corpus"), index_dir=tmp / "index",
                        **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(settings), root_path=root_path)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("docs")) as client:  # the docs need no index
        yield client


def references(html: str) -> list[str]:
    return REFERENCE.findall(html)


@pytest.mark.parametrize("path", PAGES)
def test_docs_page_loads_nothing_from_outside_the_app(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "cdn." not in html and "jsdelivr" not in html and "googleapis" not in html
    assert not re.search(r"""["'(]\s*(?:https?:)?//""", html), "the page names an absolute URL"
    urls = references(html)
    assert any(u.endswith(".js") for u in urls) and "/openapi.json" in urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        served = client.get(url)
        assert served.status_code == 200, url
        expected = MEDIA_TYPES[Path(url).suffix]
        assert served.headers["content-type"].startswith(expected), (url, served.headers["content-type"])
        assert len(served.content) > 0


@pytest.mark.parametrize("path", PAGES)
def test_docs_page_and_the_files_it_loads_fetch_nothing_from_another_host(client: TestClient, path: str) -> None:
    html = client.get(path).text
    assert "http://" not in html and "https://" not in html  # no absolute URL at all, not even a link
    loaded = [url for url in references(html) if url.endswith((".js", ".css"))]
    assert loaded and all(url.startswith("/docs-assets/") for url in loaded), loaded
    for url in loaded:  # e.g. ReDoc's sidebar footer renders Redocly's logo from cdn.redoc.ly unless served without
        assert FETCH_ELSEWHERE.findall(client.get(url).text) == [], url
    if path == "/docs":  # Swagger UI's validator badge would load an image from validator.swagger.io
        assert '"validatorUrl": null' in html


def test_swagger_ui_files_are_the_real_bundle(client: TestClient) -> None:
    urls = references(client.get("/docs").text)
    script = next(u for u in urls if u.endswith(".js"))
    assert "SwaggerUIBundle" in client.get(script).text
    assert ".swagger-ui" in client.get(next(u for u in urls if u.endswith(".css"))).text
    redoc = next(u for u in references(client.get("/redoc").text) if u.endswith(".js"))
    assert "Redoc" in client.get(redoc).text


@pytest.mark.parametrize("path", PAGES)
def test_docs_csp_allows_only_this_origin_and_the_pages_own_inline_scripts(client: TestClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert "http" not in csp and "*" not in csp and "'unsafe-eval'" not in csp
    scripts = directives["script-src"]
    assert "'unsafe-inline'" not in scripts
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline}
    assert set(scripts) == {"'self'"} | hashes  # each inline script (Swagger UI's init) is allowed, nothing else
    assert response.headers["x-content-type-options"] == "nosniff"


def test_one_docs_page_and_assets_stay_out_of_the_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/search" in paths
    assert not any(p.startswith(("/docs", "/redoc")) for p in paths)
    assert client.get("/docs-assets/nothing.js").status_code == 404
    assert client.get("/docs-assets/..%2Fcore.py").status_code == 404
    assert client.app.docs_url is None and client.app.redoc_url is None  # type: ignore[attr-defined]  # ours only


def test_docs_stay_open_when_reads_need_a_key(tmp_path: Path) -> None:
    with make_client(tmp_path, read_keys=["secret-read-key-0123456789"]) as client:
        assert client.get("/v1/documents").status_code == 401
        for url in ["/docs", "/redoc", *references(client.get("/docs").text)]:
            assert client.get(url).status_code == 200, url


def test_docs_urls_follow_the_root_path(tmp_path: Path) -> None:
    with make_client(tmp_path, root_path="/rag") as client:
        urls = references(client.get("/docs").text)
        assert urls and all(u.startswith("/rag/") for u in urls), urls
