"""The web page at ``/``: served with its assets by the API app, under a strict CSP, with no inline script."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app
from rag.api.routes_web import ASSETS, WEB_DIR
from rag.config import Settings

JS_FILES = sorted(p.name for p in WEB_DIR.glob("*.js"))


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    """The app without its lifespan: the page must be served even before (or without) an index."""
    settings = Settings(embedder="fake", corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    return TestClient(create_app(settings))


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <script>/<style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.inline.append(f"<{self._in}>{data.strip()[:40]}")


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def csp_directives(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def test_page_is_served_with_a_strict_csp(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value or value == "*" for values in csp.values() for value in values)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<title>" in response.text
    assert client.head("/").status_code == 200


def test_page_has_no_inline_script_style_or_handlers(client: TestClient) -> None:
    tags = parse(client.get("/").text)
    assert not tags.inline, tags.inline
    scripts = [attrs for tag, attrs in tags.tags if tag == "script"]
    assert scripts and all(attrs.get("src") for attrs in scripts)
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").lower().startswith(("javascript:", "data:", "http:", "https:", "//"))


def referenced_assets(client: TestClient) -> set[str]:
    """Everything the page loads: script/link targets of index.html and the modules' imports."""
    tags = parse(client.get("/").text)
    urls = {attrs.get("src") or attrs.get("href") for tag, attrs in tags.tags if tag in ("script", "link")}
    for name in JS_FILES:
        urls |= {f"/web/{m}" for m in re.findall(r'from "\./([\w.-]+)"', (WEB_DIR / name).read_text())}
    return {u for u in urls if u}


@pytest.mark.parametrize("kind", ["js", "css", "svg"])
def test_every_asset_the_page_loads_is_served(client: TestClient, kind: str) -> None:
    urls = sorted(u for u in referenced_assets(client) if u.endswith(f".{kind}"))
    assert urls, f"the page loads no .{kind} file"
    expected = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}[kind]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(expected), url
        assert "content-security-policy" in response.headers
        assert response.content == (WEB_DIR / url.removeprefix("/web/")).read_bytes()


def test_assets_are_exactly_the_files_in_rag_web(client: TestClient) -> None:
    on_disk = {p.name for p in WEB_DIR.iterdir() if p.is_file()}
    assert on_disk == set(ASSETS) | {"index.html"}
    assert {u.removeprefix("/web/") for u in referenced_assets(client)} == set(ASSETS)


@pytest.mark.parametrize("path", ["/web/index.html", "/web/../api/app.py", "/web/%2e%2e%2fapi%2fapp.py",
                                  "/web/nope.js", "/web/app.js.map"])
def test_only_listed_assets_are_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("name", JS_FILES)
def test_scripts_never_parse_text_as_html(name: str) -> None:
    """Document text goes into the page as text nodes only; no HTML sinks, no eval."""
    source = (WEB_DIR / name).read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setAttribute(\"on", "createContextualFragment", "DOMParser"):
        assert sink not in source, f"{name} uses {sink}"


def test_page_routes_are_not_in_the_api_schema_and_api_is_unchanged(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/web") for p in paths)
    assert "/v1/ask" in paths
    response = client.get("/docs")  # the API docs keep working (under their own CSP, tests/test_api_docs.py)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] != client.get("/").headers["content-security-policy"]


def test_page_requests_are_counted_under_their_route(client: TestClient) -> None:
    client.get("/")
    client.get("/web/app.js")
    metrics = client.get("/metrics").text
    assert re.search(r'rag_http_requests_total\{method="GET",route="/",status="200"\} 1', metrics)
    assert re.search(r'rag_http_requests_total\{method="GET",route="/web/\{name\}",status="200"\} 1', metrics)
