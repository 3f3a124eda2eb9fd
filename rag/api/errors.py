"""One error body everywhere: ``{"error": {"code", "message", "details"}}``, never a stack trace."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from rag.errors import DocumentError, IndexError_, InvalidRequestError, NotFoundError, RagError

log = logging.getLogger("rag.api")

INTERNAL_MESSAGE = ("internal server error: the failure was logged on the server; retry, or report it with the "
                    "response's X-Request-ID")


class ApiError(Exception):
    """An error with its HTTP status, stable code, message and optional details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


class ErrorJSONResponse(JSONResponse):
    """JSON escaped to ASCII, so an error that quotes invalid input (a lone surrogate) still renders."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return ErrorJSONResponse(body, status_code=status, headers=headers)


def status_of(exc: RagError) -> int:
    """The HTTP status for an expected domain error."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (InvalidRequestError, DocumentError)):
        return 422
    if isinstance(exc, IndexError_):
        return 503
    return 500


def _location(loc: Any) -> str:
    return ".".join(str(part) for part in loc) if isinstance(loc, (list, tuple)) else str(loc)


def validation_details(errors: Any) -> list[dict[str, Any]]:
    """Pydantic/FastAPI errors without the echoed input or non-JSON context."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")).removeprefix("Value error, "),
             "type": str(e.get("type", ""))} for e in errors]  # the prefix pydantic puts on a validator's message


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _rag_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    status = status_of(exc)
    if status == 500:
        log.error("unexpected %s: %s", type(exc).__name__, exc)
    return error_response(status, exc.code, str(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc.errors())
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    loc = first["loc"]
    if first.get("type") == "json_invalid" and (len(loc) < 2 or isinstance(loc[1], int)):  # not a field's JSON
        message = "the body is not valid JSON"
    else:
        message = f"{_location(first['loc'])}: {first['msg']}{more}"
    return error_response(422, "invalid_request", message, details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    headers = dict(exc.headers) if exc.headers else None
    if status == 400 and exc.detail == "There was an error parsing the body":  # e.g. JSON nested too deeply
        details = [{"loc": ["body"], "msg": "unparsable JSON (nested too deeply?)", "type": "json_invalid"}]
        return error_response(422, "invalid_request", "the body is not valid JSON (or is nested too deeply)", details)
    if status == 404:
        code, message = "not_found", f"no route for {request.method} {request.url.path}: see /docs for the API"
        bare = request.url.path.rstrip("/")
        if bare and bare != request.url.path and _routed(request, bare):
            message = f"no route for {request.method} {request.url.path}: did you mean {bare}? (see /docs for the API)"
    elif status == 405:
        allowed = (headers or {}).get("allow", (headers or {}).get("Allow", ""))
        code, message = "method_not_allowed", f"{request.method} is not allowed here; use {allowed or 'another method'}"
    else:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        message = exc.detail if isinstance(exc.detail, str) else phrase
    return error_response(status, code, message, None, headers)


def _routed(request: Request, path: str) -> bool:
    """Whether some route of the app serves ``path`` (any method): a trailing slash gets a hint, not a
    redirect (``redirect_slashes`` is off: its Location is built from the Host header)."""
    scope = {"type": "http", "path": path, "root_path": request.scope.get("root_path", ""), "method": request.method}
    return any(route.matches(scope)[0] is not Match.NONE for route in request.app.router.routes)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
