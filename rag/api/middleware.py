"""ASGI middleware: body size cap and deadline, HEAD as GET, access log, metrics, generic 500, CORS."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.errors import INTERNAL_MESSAGE, error_response
from rag.api.metrics import HttpMetrics
from rag.api.security import app_path

access_log = logging.getLogger("rag.access")
log = logging.getLogger("rag.api")
UNMATCHED = "<unmatched>"
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_current_request_id: ContextVar[str | None] = ContextVar("rag_request_id", default=None)


def request_id(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when it is a plain token (letters, digits, ``._:-``, at most 128),
    else a new random one: it names the request in the response header and in the logs."""
    given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex  # fullmatch: "$" would let "id\n" in


def is_document_write(scope: Scope) -> bool:
    path = app_path(scope)
    return scope.get("method") in ("POST", "PUT") and (path == "/v1/documents" or path.startswith("/v1/documents/"))


class BodyLimitMiddleware:
    """Reject bodies over ``max_bytes`` with 413: by Content-Length up front, else while reading;
    and bodies that have not fully arrived within ``timeout`` seconds with 408 (a stalled client
    would otherwise hold its request open for ever).

    Document writes (POST/PUT under /v1/documents) have their own, larger ``upload_bytes`` and
    ``upload_timeout``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None,
                 timeout: float | None = None, upload_timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes or max_bytes
        self.timeout = timeout
        self.upload_timeout = upload_timeout or timeout

    async def _too_large(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, "payload_too_large",
                                  f"request body is larger than {limit} bytes: send a smaller body",
                                  {"limit_bytes": limit}, {"Connection": "close"})
        await response(scope, receive, send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> list[bytes] | bool:
        """The body's parts; False when it is over ``limit``, True when the client went away."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return False
            parts.append(chunk)
            if not message.get("more_body", False):
                return parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        write = is_document_write(scope)
        limit = self.upload_bytes if write else self.max_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = True
            if too_large:
                await self._too_large(limit, scope, receive, send)
                return
        # Read the (small) body now, counting bytes as they stream in, then replay it to the app.
        seconds = self.upload_timeout if write else self.timeout
        try:
            async with asyncio.timeout(seconds):
                parts = await self._read(receive, limit)
        except TimeoutError:
            response = error_response(408, "request_timeout", f"the request body did not arrive within {seconds:g}s: "
                                      "send the whole body without pausing", {"timeout_s": seconds},
                                      {"Connection": "close"})
            await response(scope, receive, send)
            return
        if parts is True:  # client went away
            return
        if parts is False:
            await self._too_large(limit, scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(parts), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class HeadMiddleware:
    """HEAD is GET without the body (RFC 9110 §9.3.2): same status and headers, on every GET route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The matched route's path template (bounded label cardinality), or ``<unmatched>``."""
    route = scope.get("route")
    if route is None:  # answered before routing (e.g. 413): match it ourselves, full matches first
        matches = [(m is not Match.FULL, i, r) for i, r in enumerate(routes)
                   if (m := r.matches(scope)[0]) is not Match.NONE]
        route = min(matches)[2] if matches else None
    return str(getattr(route, "path", UNMATCHED)) if route is not None else UNMATCHED


class ErrorMiddleware:
    """An unhandled error before the response started becomes the generic JSON 500, logged (with its traceback
    and the request's id) here. It sits inside the CORS middleware, so a page on an allowed origin can read that
    500 and the X-Request-ID it asks to be quoted; ObserveMiddleware, outside, catches what gets past it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception:
            if started:
                raise  # too late for a clean response: ObserveMiddleware logs it, the server drops the connection
            log_unhandled(scope, _current_request_id.get() or "-")
            await error_response(500, "internal_error", INTERNAL_MESSAGE)(scope, receive, send)


def log_unhandled(scope: Scope, rid: str) -> None:
    """The traceback of the exception being handled; the path quoted (it is percent-decoded: %0A is a newline)."""
    log.exception("unhandled error in %s %r (request %s)", scope.get("method"), scope.get("path"), rid)


class ObserveMiddleware:
    """One access-log line and one metrics observation per request; an unhandled error that got past
    ErrorMiddleware (or came after the response started) is logged here too, and becomes a JSON 500 if it can.

    Every response carries ``X-Request-ID`` (the caller's, or a new one), and so do the access-log line
    and the log of an unhandled error: a client reporting a failure can quote it.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500
        started = False
        rid = request_id(scope)
        token = _current_request_id.set(rid)  # for ErrorMiddleware's log

        async def observed_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = int(message["status"]), True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER.encode()]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER.encode(), rid.encode())]}
            await send(message)

        self.metrics.start()
        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            log_unhandled(scope, rid)
            status = 500
            if started:
                raise  # too late for a clean response: let the server drop the connection
            await error_response(500, "internal_error", INTERNAL_MESSAGE)(scope, receive, observed_send)
        finally:
            _current_request_id.reset(token)
            seconds = time.perf_counter() - t0
            route = route_template(scope, self.routes())
            method = str(scope.get("method", ""))
            self.metrics.observe(method, route, status, seconds)
            record: dict[str, Any] = {"method": method, "route": route, "path": scope.get("path", ""),
                                      "status": status, "duration_ms": round(seconds * 1000.0, 3), "request_id": rid}
            client = scope.get("client")
            if client:
                record["client"] = client[0]
            access_log.info(json.dumps(record, ensure_ascii=False))


CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "X-Request-ID")


def cors_middleware(app: ASGIApp, origins: Sequence[str]) -> ASGIApp:
    """Starlette's CORS middleware for ``origins``; a refused preflight is a JSON error like every other 4xx.

    A page on a public origin asking to reach this server on a private network (Chrome's Private
    Network Access preflight) is let through for origins named in RAG_CORS_ORIGINS, never for ``*``:
    naming an origin is the operator's consent; ``*`` would let any website reach an intranet server
    from its visitors' browsers."""
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import Response

    class JsonCORSMiddleware(CORSMiddleware):
        def preflight_response(self, request_headers: Headers) -> Response:
            response = super().preflight_response(request_headers)
            if response.status_code != 400:
                return response
            refused = bytes(response.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ")
            headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
            message = (f"CORS preflight refused: this {refused} is not allowed (origins: RAG_CORS_ORIGINS; methods: "
                       f"{', '.join(CORS_METHODS)}; headers: {', '.join(CORS_HEADERS)}")
            if "private-network" in refused:
                message += "; private-network access: only for origins named in RAG_CORS_ORIGINS, not *"
            return error_response(400, "cors_refused", message + ")", None, headers)

    return JsonCORSMiddleware(app, allow_origins=list(origins), allow_methods=list(CORS_METHODS),
                              allow_headers=list(CORS_HEADERS), expose_headers=["X-Request-ID", "Retry-After"],
                              allow_private_network="*" not in origins, max_age=600)
