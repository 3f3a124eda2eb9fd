"""Pydantic response models of the HTTP API, with their OpenAPI examples."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.api.schemas_fields import Mode

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
class ShortAnswer(BaseModel):
    text: str = Field(description="exactly document.text[start:end], inside the answer sentence")
    start: int
    end: int


class Answer(BaseModel):
    text: str = Field(description="the evidence sentence: exactly document.text[start:end]")
    doc_id: str
    start: int
    end: int
    confidence: float = Field(description="calibrated probability that the sentence answers the question")
    citation: Citation
    short: ShortAnswer | None = Field(
        default=None, description="the date or figure in the sentence that the question asks for (When…? How "
                                  "many…?), when the sentence holds exactly one; otherwise null")


class AskResponse(BaseModel):
    question: str
    answerable: bool
    answer: Answer | None
    passages: list[Passage]
    index_version: str
    took_ms: float
    min_confidence: float = Field(description="the threshold the answer was held to: below it, answerable is false")


class Conflict(BaseModel):
    """Where a match contradicts the claim: a date or number ("1939" against "1938"), a negation
    ("not killed" against "killed"), an opposite ("lowest" against "highest"), agency ("shot himself"
    against "shot him"), two names in each other's places ("executed Takeoka" against "executed
    Lyushkov"), or a fact the source gives only as a theory, plan or allegation ("captured" against
    "theories held that … captured")."""

    model_config = _examples({"claim": "1939", "source": "1938"}, {"claim": "not killed", "source": "killed"},
                             {"claim": "executed Takeoka", "source": "executed Lyushkov"})

    claim: str = Field(description="the claim's words")
    source: str = Field(description="the matched sentence's words they contradict")


class Match(BaseModel):
    doc_id: str
    start: int
    end: int
    text: str
    score: float
    match: Literal["exact", "normalized", "paraphrase"] = Field(
        description="exact: the claim's text as it stands; normalized: the same up to case, whitespace, quote "
                    "marks, dashes, trailing punctuation, invisible characters and Unicode forms (accents still "
                    "count); paraphrase: a sentence scored as stating it")
    conflicts: list[Conflict] = Field(description="what the match contradicts; a claim whose best match has "
                                                  "any is not supported")
    citation: Citation
    missing: list[str] = Field(description="the claim's dates, numbers and names (in the claim's words) that this "
                                           "sentence does not state; a claim whose best match leaves any is not "
                                           "supported; empty for exact and normalized matches",
                               examples=[["Takeoka"]])


class ClaimPart(BaseModel):
    start: int = Field(description="offsets into the response's `claim` (the claim as sent, without surrounding "
                                   "whitespace): claim[start:end] is this clause as written")
    end: int
    text: str
    claim: str = Field(description="what was looked up: the clause, with the claim's subject when it has none of "
                                   "its own or opens with a pronoun ('joined the Cheka' → 'Lyushkov joined the "
                                   "Cheka')")
    supported: bool = Field(description="the corpus states this clause")
    matches: list[Match] = Field(description="the clause's best matches, best first (at most 3, and at most k)")


class LocateResponse(BaseModel):
    claim: str
    supported: bool = Field(description="the corpus states the claim: the best match is exact or normalized; or, "
                                        "for a claim that joins clauses ('born in Odessa and joined the Cheka'), "
                                        "every one of its `parts` is stated; or else the best match is a "
                                        "paraphrase with nothing contradicted or left unstated")
    matches: list[Match] = Field(description="the whole claim's best matches, best first")
    parts: list[ClaimPart] = Field(default=[], description="the claim's clauses, each looked up on its own, when no "
                                                           "source sentence states it verbatim and it can be cut at "
                                                           "'and', ';', ', but' or 'who'; empty otherwise")
    index_version: str
    took_ms: float


class StatementPart(BaseModel):
    start: int = Field(description="offsets into the submitted text: text[start:end] is this clause as written")
    end: int
    text: str
    claim: str = Field(description="what was looked up: the clause without its markers, with the sentence's "
                                   "subject when it has none of its own or opens with a pronoun ('joined the "
                                   "Cheka' → 'Lyushkov joined the Cheka')")
    markers: list[int] = Field(description="the clause's own [n] citation numbers, or else the sentence's")
    supported: bool = Field(description="the corpus states this clause, by /v1/locate's test")
    cited: bool | None = Field(description="with a citation table: whether a passage the clause cites states it")
    matches: list[Match] = Field(description="as /v1/locate returns them for the clause, best first (at most 3, "
                                                "and at most the request's k)")


class Statement(BaseModel):
    start: int = Field(description="offsets into the submitted text: text[start:end] is this sentence as written")
    end: int
    text: str
    claim: str = Field(description="what was looked up: the sentence without its citation markers")
    markers: list[int] = Field(description="the [n] citation numbers the sentence carries")
    supported: bool = Field(description="the corpus states it: the best match is exact or normalized; or, for a "
                                        "sentence that joins clauses ('born in Odessa and joined the Cheka'), "
                                        "every one of its `parts` is stated; or else the best match is a "
                                        "paraphrase with nothing contradicted or left unstated")
    cited: bool | None = Field(description="with a citation table: whether a passage the sentence cites states it "
                                           "(a match inside a cited span that passes locate's test; for a sentence "
                                           "checked by its parts, every part's); null without markers or a table")
    matches: list[Match] = Field(description="as /v1/locate returns them for the whole sentence, best first")
    parts: list[StatementPart] = Field(default=[], description="the sentence's clauses, each checked on its own, "
                                                               "when no source sentence states it verbatim and it "
                                                               "can be cut at 'and', ';', ', but' or 'who'; "
                                                               "empty otherwise")


class VerifyResponse(BaseModel):
    statements: list[Statement] = Field(description="the sentences checked, in the text's order (sentences of "
                                                    "fewer than three words are not checked)")
    supported: int
    unsupported: int
    uncut: int = Field(description="sentences checked whole, though they join clauses, because this request "
                                   "already looked up 50 clauses on their own (send fewer sentences at once)")
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
