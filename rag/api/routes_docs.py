"""The API docs at ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), their files served by the app itself: no CDN."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from rag.api.errors import ApiError
from rag.api.routes_web import SECURITY_HEADERS

ASSETS_PATH = "/docs-assets"
ASSETS = {  # the only files served, from the fastapi-offline package: name → media type
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
# Everything from this origin. Swagger UI's one inline script is allowed by its hash; ReDoc injects <style>
# elements (styled-components) and runs its search in a blob: worker.
_CSP = ("default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# ReDoc's sidebar footer shows Redocly's logo from cdn.redoc.ly, and no ReDoc option turns it off (the CSP would
# block it anyway): its bundle is served with that image's src an empty data: URI, which fails to decode, so
# ReDoc drops the image (its onError) and nothing is requested from another host (tests/test_api_docs.py).
_OFFLINE_EDITS = {"redoc.standalone.js": ((b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"', b'src:"data:,"'),)}
# Swagger UI's online validator badge would load an image from validator.swagger.io: off.
_SWAGGER_UI_OFFLINE = {"validatorUrl": None}

router = APIRouter(include_in_schema=False)


@cache
def _asset(name: str) -> bytes:
    resource = files("fastapi_offline") / "static" / name
    if not resource.is_file():
        raise ApiError(404, "not_found", f"docs asset {name!r} is missing: reinstall rag (it needs fastapi-offline)")
    data = resource.read_bytes()
    for old, new in _OFFLINE_EDITS.get(name, ()):
        data = data.replace(old, new)
    return data


def _urls(request: Request) -> tuple[str, str]:
    """The OpenAPI document's URL and the assets folder's, under the app's root path (behind a proxy)."""
    root = request.scope.get("root_path", "")
    return f"{root}{request.app.openapi_url}", f"{root}{ASSETS_PATH}"


def _page(page: HTMLResponse, *, inline_styles: bool) -> Response:
    """The page with a CSP that allows exactly its own inline scripts (by SHA-256) and nothing off-origin."""
    html = bytes(page.body).decode()
    hashes = ["sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
              for s in _INLINE_SCRIPT.findall(html)]
    csp = _CSP.format(scripts="".join(f" '{h}'" for h in hashes), styles=" 'unsafe-inline'" if inline_styles else "")
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp}
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


@router.api_route("/docs", methods=["GET", "HEAD"])
async def swagger_ui(request: Request) -> Response:
    openapi_url, assets = _urls(request)
    return _page(get_swagger_ui_html(
        openapi_url=openapi_url, title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js", swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon.png",
        swagger_ui_parameters={**(request.app.swagger_ui_parameters or {}), **_SWAGGER_UI_OFFLINE},
    ), inline_styles=False)


@router.api_route("/redoc", methods=["GET", "HEAD"])
async def redoc(request: Request) -> Response:
    openapi_url, assets = _urls(request)
    return _page(get_redoc_html(
        openapi_url=openapi_url, title=f"{request.app.title} - ReDoc", redoc_js_url=f"{assets}/redoc.standalone.js",
        redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False,
    ), inline_styles=True)


@router.api_route(ASSETS_PATH + "/{name}", methods=["GET", "HEAD"])
async def asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise ApiError(404, "not_found", f"no docs asset {name!r}")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"}
    return Response(_asset(name), media_type=media_type, headers=headers)
