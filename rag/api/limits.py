"""Request limits from the settings: checked on every query body and written into the OpenAPI schema.

The Pydantic request models carry only ceilings (the largest values the settings allow); the
limits in force (``max_query_chars``, ``max_k``, ``max_context_chars``, ``max_documents_per_request``)
are checked here, with the same 422 body as any validation error, and ``openapi`` publishes them,
so the schema never promises more than the server accepts.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from rag.config import Settings

TEXT_FIELDS = ("query", "question", "claim")
NON_BLANK = r"[^\s\x1c-\x1f\x85]"  # after stripping whitespace, a character remains (in every dialect)


def _error(field: str, msg: str, kind: str, limit: int) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": msg, "type": kind, "ctx": {"limit": limit}}])


def enforce(body: BaseModel, settings: Settings) -> dict[str, Any]:
    """Check ``body`` against the settings; return the values to use (defaults clamped to the limits)."""
    values = body.model_dump()
    given = body.model_fields_set
    for field in TEXT_FIELDS:
        text = values.get(field)
        if isinstance(text, str) and len(text) > settings.max_query_chars:
            raise _error(field, f"String should have at most {settings.max_query_chars} characters",
                         "string_too_long", settings.max_query_chars)
    for field, limit in (("k", settings.max_k), ("max_chars", settings.max_context_chars)):
        value = values.get(field)
        if value is None or value <= limit:
            continue
        if field in given:
            raise _error(field, f"Input should be less than or equal to {limit}", "less_than_equal", limit)
        values[field] = limit  # a default above a lower configured limit
    doc_ids = values.get("doc_ids")
    if doc_ids is not None and len(doc_ids) > settings.max_documents_per_request:
        raise _error("doc_ids", f"List should have at most {settings.max_documents_per_request} items",
                     "too_long", settings.max_documents_per_request)
    return values


def _patch_limits(schemas: dict[str, Any], settings: Settings) -> None:
    for schema in schemas.values():
        props = schema.get("properties") or {}
        for field in TEXT_FIELDS:
            if field in props and props[field].get("type") == "string":
                props[field].update(maxLength=settings.max_query_chars, pattern=NON_BLANK)
        if "k" in props:
            props["k"]["maximum"] = settings.max_k
            props["k"]["default"] = min(props["k"].get("default", 1), settings.max_k)
        if "max_chars" in props:
            props["max_chars"]["maximum"] = settings.max_context_chars
            props["max_chars"]["default"] = min(props["max_chars"].get("default", 200), settings.max_context_chars)
        ids = props.get("doc_ids", {})
        for option in ids.get("anyOf", [ids]):
            if option.get("type") == "array":
                option["maxItems"] = settings.max_documents_per_request


def _patch_security(schema: dict[str, Any], settings: Settings) -> None:
    from rag.api.security import required_role

    reads_locked = bool(settings.read_keys)
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer", "description": "an API key: read keys (RAG_READ_KEYS) or admin keys "
        "(RAG_ADMIN_KEYS); admin keys also read"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            role = required_role(method.upper(), path)
            if role == "admin" or (role == "read" and reads_locked):
                operation["security"] = [{"bearer": []}]


def openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The app's OpenAPI schema with the limits and the authentication in force (built once)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _patch_limits(schema.get("components", {}).get("schemas", {}), settings)
        _patch_security(schema, settings)
        app.openapi_schema = schema
    return app.openapi_schema
