"""Pydantic request and response models of the HTTP API (the only Pydantic models in the package)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

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

_SECTION = ["Disappearance and death"]
_TAKEOKA = ("However in 1979, Yutaka Takeoka, who was a young intelligence officer and Lyushkov's handler at the end "
            "of the war, admitted publicly that he executed Lyushkov on the evening of 19 August 1945.")
_CITATION_EXAMPLE = {"doc_id": "genrikh_lyushkov", "title": "Genrikh Lyushkov", "section": _SECTION,
                     "start": 8838, "end": 9463, "label": "Genrikh Lyushkov § Disappearance and death", "url": None}
_PASSAGE_EXAMPLE = {
    "rank": 1, "score": 0.775977, "chunk_id": "8e29dc0ef0476e38f02a", "doc_id": "genrikh_lyushkov",
    "title": "Genrikh Lyushkov", "section": _SECTION, "start": 8838, "end": 9463,
    "text": "Some theories held that he was captured by the Red Army or that he was killed on the orders of a Japanese "
            f"Special Intelligence officer. {_TAKEOKA} With Soviet forces approaching, Takeoka was initially content "
            "with letting Lyushkov try to make an escape but his superior, General Genzo Yanagita, told him that this "
            "was unacceptable because Lyushkov could give away Japanese military secrets to the Soviet Union when he "
            "was inevitably captured.",
    "highlights": [{"start": 8974, "end": 9167, "text": _TAKEOKA, "score": 0.539827}],
    "citation": _CITATION_EXAMPLE,
}


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        return no_surrogates(data)

    @field_validator("k", "max_chars", mode="before", check_fields=False)
    @classmethod
    def _json_integer(cls, value: Any) -> Any:
        """Refuse what lax validation would turn into an int (true -> 1, "3" -> 3); 3.0 is still an integer."""
        if isinstance(value, bool | str):
            raise ValueError("Input should be a JSON integer, not a string or a boolean")
        return value


# -- requests ------------------------------------------------------------------------------------
class SearchRequest(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "Who killed Lyushkov?"},
        {"query": "Lyushkov defection to Japan", "k": 3, "mode": "lexical", "doc_ids": ["genrikh_lyushkov"]},
    ]})

    query: Text = Field(description="the question or keywords (1 to max_query_chars characters after stripping)")
    k: K = 5
    mode: Mode = Field("hybrid", description="hybrid (default), dense (embeddings only) or lexical (BM25 only)")
    doc_ids: list[DocId] | None = Field(None, max_length=MAX_DOC_IDS, description="search only these documents")
    metadata: dict[MetaKey, MetaValue] | None = Field(
        None, max_length=MAX_METADATA_PAIRS,
        description="search only documents whose metadata has all these key/value pairs (combined with doc_ids)")


class AskRequest(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Who killed Lyushkov?"},
        {"question": "Why did Lyushkov run away in 1938?", "k": 3, "min_confidence": 0.1},
    ]})

    question: Text
    k: K = 5
    min_confidence: float | None = Field(
        None, ge=0, le=1, strict=True, allow_inf_nan=False,
        description="withhold an answer whose confidence is below this (0 to 1; default: the server's "
                    "RAG_MIN_CONFIDENCE, else the calibrated threshold). Lower answers more paraphrased "
                    "questions and more that the corpus does not answer: the trade-off is in docs/answers.md")


class LocateRequest(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"claim": "Lyushkov was shot by Yutaka Takeoka in 1945."}]})

    claim: Text
    k: K = 3


class ContextRequest(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "Why did Lyushkov defect?", "max_chars": 2000}]})

    question: Text
    max_chars: int = Field(4000, ge=200, le=MAX_CONTEXT,
                           description="size budget of the context (200 to the server's max_context_chars)")


# -- shared pieces -------------------------------------------------------------------------------
class Citation(BaseModel):
    model_config = _examples(_CITATION_EXAMPLE)

    doc_id: str
    title: str
    section: list[str]
    start: int
    end: int
    label: str = Field(description="human-readable reference, e.g. 'Genrikh Lyushkov § Defection'")
    url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict, description="the document's custom fields")


class Highlight(BaseModel):
    start: int
    end: int
    text: str
    score: float


class Passage(BaseModel):
    model_config = _examples(_PASSAGE_EXAMPLE)

    rank: int
    score: float
    chunk_id: str
    doc_id: str
    title: str
    section: list[str]
    start: int = Field(description="code-point offset into the document text")
    end: int
    text: str = Field(description="exactly document.text[start:end]")
    highlights: list[Highlight]
    citation: Citation
    url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict, description="the document's custom fields")


class SearchResponse(BaseModel):
    model_config = _examples({"query": "Who killed Lyushkov?", "mode": "hybrid", "index_version": "000002-7787406d64",
                              "took_ms": 12.4, "results": [_PASSAGE_EXAMPLE]})

    query: str
    mode: Mode
    index_version: str
    took_ms: float
    results: list[Passage]


# -- answers -------------------------------------------------------------------------------------
class Answer(BaseModel):
    text: str
    doc_id: str
    start: int
    end: int
    confidence: float
    citation: Citation


class AskResponse(BaseModel):
    question: str
    answerable: bool
    answer: Answer | None
    passages: list[Passage]
    index_version: str
    took_ms: float
    min_confidence: float = Field(description="the threshold the answer was held to: below it, answerable is false")


class Conflict(BaseModel):
    claim: str
    source: str


class Match(BaseModel):
    doc_id: str
    start: int
    end: int
    text: str
    score: float
    match: Literal["exact", "normalized", "paraphrase"]
    conflicts: list[Conflict]
    citation: Citation


class LocateResponse(BaseModel):
    claim: str
    supported: bool
    matches: list[Match]
    index_version: str
    took_ms: float


class ContextCitation(BaseModel):
    n: int
    doc_id: str
    start: int
    end: int
    label: str
    text: str


class ContextResponse(BaseModel):
    question: str
    context: str
    citations: list[ContextCitation]
    index_version: str
    took_ms: float


# -- documents -----------------------------------------------------------------------------------
class SectionInfo(BaseModel):
    title: str
    path: list[str]
    start: int
    end: int


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    source: str = Field(description="the file it was read from, relative to the corpus folder")
    url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    sha256: str
    chars: int
    chunks: int
    sections: list[SectionInfo]


class DocumentList(BaseModel):
    documents: list[DocumentSummary]
    total: int = Field(description="documents in the index")
    offset: int
    limit: int
    next_offset: int | None = Field(description="the offset of the next page, or null on the last page")
    index_version: str = Field(description="the generation listed; if it changes between pages, the list changed")


class DocumentDetail(DocumentSummary):
    text: str


class Span(BaseModel):
    model_config = _examples({"doc_id": "genrikh_lyushkov", "start": 8974, "end": 9006,
                              "text": "However in 1979, Yutaka Takeoka,", "section": _SECTION,
                              "label": "Genrikh Lyushkov § Disappearance and death"})

    doc_id: str
    start: int
    end: int
    text: str
    section: list[str]
    label: str


# -- operations ----------------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"]
    uptime_s: float


class Ready(BaseModel):
    status: Literal["ready"]
    index_version: str
    model: str
    documents: int
    chunks: int
    sentences: int
    load_seconds: float
    warning: str | None = Field(None, description="set when an older generation is served (the newest was refused)")


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    model_config = _examples({"error": {"code": "not_found", "message": "unknown document 'x'", "details": None}})

    error: ErrorInfo
