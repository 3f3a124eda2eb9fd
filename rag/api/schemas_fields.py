"""Shared field types of the HTTP API's models: size ceilings, constrained strings and numbers, Unicode checks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

# Ceilings: the largest values the settings may allow. The limits in force come from the settings
# (rag.api.limits checks them and writes them into the OpenAPI schema).
MAX_TEXT = 100_000
MAX_K = 1000
MAX_CONTEXT = 1_000_000
MAX_DOC_IDS = 10_000
MAX_METADATA_PAIRS = 32
SAFE_INT = 2**53  # integers JSON parsers everywhere agree on

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
K = Annotated[int, Field(ge=1, le=MAX_K, description="number of results (1 to the server's max_k, default 50)")]
Mode = Literal["hybrid", "dense", "lexical"]
DocId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _exact_number(value: Any) -> Any:
    """Refuse numbers beyond ±2**53 before the float branch rounds them (9007199254740993 → 9007199254740992.0)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > SAFE_INT:
        raise ValueError(f"numbers must be between -{SAFE_INT} and {SAFE_INT} (beyond that JSON parsers lose "
                         "digits): send the value as a string")
    return value


MetaValue = Annotated[
    Annotated[str, StringConstraints(max_length=1000)] | Annotated[int, Field(ge=-SAFE_INT, le=SAFE_INT)]
    | Annotated[float, Field(ge=-SAFE_INT, le=SAFE_INT, allow_inf_nan=False)] | bool | None,
    BeforeValidator(_exact_number)]


def first_surrogate(value: Any, path: str = "") -> str | None:
    """Where a lone surrogate (not encodable as UTF-8) hides in parsed JSON, if anywhere."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return where or "body"
        elif isinstance(item, dict):
            named = [(f"{where}.{_printable(k)}" if where else _printable(k), k, v) for k, v in item.items()]
            stack.extend((name, k) for name, k, _ in named)
            stack.extend((name, v) for name, _, v in named)
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
    return None


def _printable(key: Any) -> str:
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def no_surrogates(data: Any) -> Any:
    """Refuse lone surrogates (e.g. ``"\\ud800"``): they are not Unicode text and cannot be stored or returned."""
    where = first_surrogate(data)
    if where is not None:
        raise ValueError(f"{where}: contains a lone surrogate (invalid Unicode); send valid UTF-8 text")
    return data
