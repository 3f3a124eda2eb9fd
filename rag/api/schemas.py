"""Pydantic request and response models of the HTTP API (the only Pydantic models in the package).

The requests are here; the shared field types are in schemas_fields.py and the responses in
schemas_responses.py, both importable from this module too.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from rag.api.schemas_fields import (
    MAX_CONTEXT,
    MAX_DOC_IDS,
    MAX_K,
    MAX_METADATA_PAIRS,
    MAX_TEXT,
    SAFE_INT,
    DocId,
    K,
    MetaKey,
    MetaValue,
    Mode,
    Text,
    first_surrogate,
    no_surrogates,
)
from rag.api.schemas_responses import (
    Answer,
    AskResponse,
    Citation,
    Conflict,
    ContextCitation,
    ContextResponse,
    DocumentDetail,
    DocumentList,
    DocumentSummary,
    ErrorBody,
    ErrorInfo,
    Health,
    Highlight,
    LocateResponse,
    Match,
    Passage,
    Ready,
    SearchResponse,
    SectionInfo,
    ShortAnswer,
    Span,
    Statement,
    StatementPart,
    VerifyResponse,
)
from rag.verify import MAX_VERIFY_CHARS

MAX_VERIFY_CITATIONS = 1000

__all__ = [
    # field types (rag.api.schemas_fields)
    "MAX_CONTEXT", "MAX_DOC_IDS", "MAX_K", "MAX_METADATA_PAIRS", "MAX_TEXT", "SAFE_INT", "DocId", "K", "MetaKey",
    "MetaValue", "Mode", "Text", "first_surrogate", "no_surrogates",
    # requests
    "AskRequest", "CitedSpan", "ContextRequest", "FilteredRequest", "LocateRequest", "Request", "SearchRequest",
    "VerifyRequest",
    # responses (rag.api.schemas_responses)
    "Answer", "AskResponse", "Citation", "Conflict", "ContextCitation", "ContextResponse", "DocumentDetail",
    "DocumentList", "DocumentSummary", "ErrorBody", "ErrorInfo", "Health", "Highlight", "LocateResponse", "Match",
    "Passage", "Ready", "SearchResponse", "SectionInfo", "ShortAnswer", "Span", "Statement", "StatementPart",
    "VerifyResponse",
]


def json_integer(value: Any) -> Any:
    """Refuse what lax validation would turn into an int (true -> 1, "3" -> 3); 3.0 is still an integer."""
    if isinstance(value, bool | str):
        raise ValueError("Input should be a JSON integer, not a string or a boolean")
    return value


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        return no_surrogates(data)

    @field_validator("k", "max_chars", mode="before", check_fields=False)
    @classmethod
    def _json_integer(cls, value: Any) -> Any:
        return json_integer(value)


# -- requests ------------------------------------------------------------------------------------
class FilteredRequest(Request):
    """A query that may be narrowed to some documents: by id, by metadata, or both."""

    doc_ids: list[DocId] | None = Field(None, max_length=MAX_DOC_IDS,
                                        description="use only these documents (unknown ids: 404)")
    metadata: dict[MetaKey, MetaValue] | None = Field(
        None, max_length=MAX_METADATA_PAIRS,
        description="use only documents whose metadata has all these key/value pairs (combined with doc_ids)")


class SearchRequest(FilteredRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "Who killed Lyushkov?"},
        {"query": "Lyushkov defection to Japan", "k": 3, "mode": "lexical", "doc_ids": ["genrikh_lyushkov"]},
    ]})

    query: Text = Field(description="the question or keywords (1 to max_query_chars characters after stripping)")
    k: K = 5
    mode: Mode = Field("hybrid", description="hybrid (default), dense (embeddings only) or lexical (BM25 only)")


class AskRequest(FilteredRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Who killed Lyushkov?"},
        {"question": "Why did Lyushkov run away in 1938?", "k": 3, "min_confidence": 0.1},
        {"question": "When did Lyushkov defect?", "doc_ids": ["genrikh_lyushkov"]},
    ]})

    question: Text
    k: K = 5
    min_confidence: float | None = Field(
        None, ge=0, le=1, strict=True, allow_inf_nan=False,
        description="withhold an answer whose confidence is below this (0 to 1; default: the server's "
                    "RAG_MIN_CONFIDENCE, else the calibrated threshold). Lower answers more paraphrased "
                    "questions and more that the corpus does not answer: the trade-off is in docs/answers.md")


class LocateRequest(FilteredRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"claim": "Lyushkov was shot by Yutaka Takeoka in 1945."}]})

    claim: Text
    k: K = 3


class CitedSpan(BaseModel):
    """A row of the citation table /v1/context returned: marker [n] stands for doc_id[start:end] (a row whose
    start is not before its end, or whose document is not indexed, cites nothing)."""

    model_config = ConfigDict(extra="ignore")  # the table as returned (label, text) is accepted as it is

    n: int = Field(ge=0, le=SAFE_INT)
    doc_id: DocId
    start: int = Field(ge=0, le=SAFE_INT)
    end: int = Field(ge=0, le=SAFE_INT)

    @field_validator("n", "start", "end", mode="before")
    @classmethod
    def _json_integer(cls, value: Any) -> Any:
        return json_integer(value)


class VerifyRequest(FilteredRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "Lyushkov defected to Manchukuo in June 1938 [1]. He was shot by Yutaka Takeoka in 1945 [2]."}]})

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_VERIFY_CHARS)] = Field(
        description="the text to check (an LLM's answer), as written: offsets in the response point into it")
    k: K = 1
    citations: list[CitedSpan] | None = Field(None, max_length=MAX_VERIFY_CITATIONS, description=(
        "the citations table of the /v1/context response the text was written from; each sentence's [n] markers "
        "are then checked against the passages they stand for"))


class ContextRequest(FilteredRequest):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "Why did Lyushkov defect?", "max_chars": 2000}]})

    question: Text
    max_chars: int = Field(4000, ge=200, le=MAX_CONTEXT,
                           description="size budget of the context (200 to the server's max_context_chars)")
