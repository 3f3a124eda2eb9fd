"""The researcher's web page at ``/``: static files from ``rag/web``, served with a strict CSP."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from rag.api.errors import ApiError

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# Everything comes from this origin; no inline script or style, no plugins, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
ASSETS = {  # the only files served: name → media type
    "app.js": "text/javascript; charset=utf-8",
    "docview.js": "text/javascript; charset=utf-8",
    "text.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}

router = APIRouter(include_in_schema=False)


def _file(name: str, media_type: str) -> Response:
    path = WEB_DIR / name
    if not path.is_file():
        raise ApiError(404, "not_found", f"web asset {name!r} is missing from the installation: reinstall rag")
    return Response(path.read_bytes(), media_type=media_type, headers=SECURITY_HEADERS)


@router.api_route("/", methods=["GET", "HEAD"])
async def page() -> Response:
    """The page; its state (question, mode, cited span) lives in the query string."""
    return _file("index.html", "text/html; charset=utf-8")


@router.api_route("/web/{name}", methods=["GET", "HEAD"])
async def asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise ApiError(404, "not_found", f"no web asset {name!r}")
    return _file(name, media_type)
