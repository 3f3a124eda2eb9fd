"""The FastAPI application factory; the index loads in the background during ``lifespan``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.routing import BaseRoute

from rag import __version__
from rag.api import routes_docs, routes_documents, routes_ops, routes_search, routes_web
from rag.api.errors import install_error_handlers
from rag.api.limits import openapi
from rag.api.middleware import BodyLimitMiddleware, ErrorMiddleware, HeadMiddleware, ObserveMiddleware, cors_middleware
from rag.api.security import AccessMiddleware, KeyRing, RateLimiter
from rag.api.state import ServiceState
from rag.config import Settings

if TYPE_CHECKING:
    from rag.embedding import Embedder

DESCRIPTION = """Citation-first retrieval over a document corpus.

Every passage, highlight, answer, match and citation carries `doc_id`, `start` and `end`:
Unicode code-point offsets into the document's stored text, with `text == document.text[start:end]`.
`GET /v1/documents/{doc_id}/span?start=S&end=E` resolves any of them back to the source.

Errors always have the body `{"error": {"code", "message", "details"}}`.

Reads under `/v1/` are open unless the server has read keys; document writes need an admin key
(`Authorization: Bearer <key>`). Every response that used the index names its generation in
`index_version`, and every response carries an `X-Request-ID` header (yours, when you send a plain
token, else a new one) that the server's logs record. Pages on other origins may call the API only
from the origins in `RAG_CORS_ORIGINS`. Limits, rate limiting and the threat model: SECURITY.md.
"""


def create_app(settings: Settings, *, embedder: Embedder | None = None) -> FastAPI:
    """A new app; nothing is loaded until the server starts it (``lifespan``), and then in a thread."""
    state = ServiceState(settings, embedder)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            await state.stop()

    # /docs and /redoc come from routes_docs (Swagger UI and ReDoc served by the app, not a CDN)
    app = FastAPI(title="rag", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, redirect_slashes=False)
    app.state.rag = state
    install_error_handlers(app)
    routers = (routes_search.router, routes_documents.router, routes_ops.router, routes_web.router, routes_docs.router)
    for router in routers:
        app.include_router(router)

    def flat_routes() -> list[BaseRoute]:
        """Routes with their full path template (newer FastAPI wraps included routers)."""
        return [r for r in app.router.routes if hasattr(r, "path")] + [r for x in routers for r in x.routes]

    app.openapi = lambda: openapi(app, settings)  # type: ignore[method-assign]  # limits and auth in force

    # Added last = outermost: observe everything (429s, 401s, 413s included); limit and authenticate
    # before any body is read.
    keys = KeyRing([k.get_secret_value() for k in settings.read_keys],
                   [k.get_secret_value() for k in settings.admin_keys])
    limiter = RateLimiter(*settings.rate) if settings.rate else None
    app.add_middleware(HeadMiddleware)  # innermost: HEAD runs the GET route, the body is dropped
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes,
                       timeout=settings.request_timeout, upload_timeout=settings.write_timeout)
    app.add_middleware(AccessMiddleware, keys=keys, limiter=limiter)
    app.add_middleware(ErrorMiddleware)  # the generic 500, inside CORS: a page can read it and its X-Request-ID
    if settings.cors_origins:  # outside the key check: a preflight carries no key (and 401/429s get CORS headers)
        app.add_middleware(cors_middleware, origins=settings.cors_origins)
    app.add_middleware(ObserveMiddleware, metrics=state.metrics, routes=flat_routes)
    return app
