"""Query routes: /v1/search, /v1/ask, /v1/locate, /v1/verify, /v1/context (CPU work runs on worker threads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends

from rag.api.deps import RetrieverDep, StateDep, errors, require_json
from rag.api.limits import enforce
from rag.api.schemas import (
    AskRequest,
    AskResponse,
    ContextRequest,
    ContextResponse,
    LocateRequest,
    LocateResponse,
    SearchRequest,
    SearchResponse,
    VerifyRequest,
    VerifyResponse,
)
from rag.documents import to_dict, with_metadata

if TYPE_CHECKING:
    from rag.index_reader import Index

router = APIRouter(prefix="/v1", tags=["query"], dependencies=[Depends(require_json)],
                   responses=errors(401, 403, 408, 413, 415, 422, 429, 503, 504))


def _same(a: Any, b: Any) -> bool:
    """JSON equality: booleans only equal booleans; 2 equals 2.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def filter_documents(index: Index, doc_ids: list[str] | None, metadata: dict[str, Any] | None) -> list[str] | None:
    """The documents to search: ``doc_ids`` (404 for unknown ones) narrowed to the metadata matches."""
    index.check_doc_ids(doc_ids)
    documents = index.documents
    if not metadata:
        return doc_ids
    pool = doc_ids if doc_ids is not None else sorted(documents)
    return [d for d in pool if all(k in documents[d].metadata and _same(documents[d].metadata[k], v)
                                   for k, v in metadata.items())]


@router.post("/search", response_model=SearchResponse, responses=errors(404))
async def search(body: SearchRequest, state: StateDep, retriever: RetrieverDep) -> Any:
    """The passages that bear on a query, best first, each with highlights and a resolvable citation.

    `doc_ids` and `metadata` (equality on every pair) narrow the search; unknown `doc_ids` give 404.
    Offsets are Unicode code points into the document text.
    """
    values = enforce(body, state.settings)
    index = retriever.index
    doc_ids = filter_documents(index, values["doc_ids"], values["metadata"])
    passages: list[Any] = []
    took_ms = 0.0
    if doc_ids is None or doc_ids:
        result = await state.run(retriever.search, values["query"], k=values["k"], mode=values["mode"],
                                 doc_ids=doc_ids)
        passages, took_ms = to_dict(result.passages), result.took_ms
    return {"query": body.query, "mode": body.mode, "index_version": index.version,
            "took_ms": round(took_ms, 3), "results": with_metadata(passages, index.documents)}


@router.post("/ask", response_model=AskResponse, responses=errors(404))
async def ask(body: AskRequest, state: StateDep, retriever: RetrieverDep) -> Any:
    """An extractive answer with its cited span, or `answerable: false` when the corpus does not say.

    `doc_ids` and `metadata` restrict the answer and its passages to those documents (none match: no answer).
    """
    from rag.answering import ask as answer

    values = enforce(body, state.settings)
    doc_ids = filter_documents(retriever.index, values["doc_ids"], values["metadata"])
    threshold = values["min_confidence"] if values["min_confidence"] is not None else state.settings.min_confidence
    result = to_dict(await state.run(answer, retriever, values["question"], k=values["k"], min_confidence=threshold,
                                     doc_ids=doc_ids))
    return with_metadata(result, retriever.index.documents)


@router.post("/locate", response_model=LocateResponse, responses=errors(404))
async def locate(body: LocateRequest, state: StateDep, retriever: RetrieverDep) -> Any:
    """Where the corpus states a claim (exact, normalized or paraphrase), with conflicting details. A claim that
    joins facts ("born in Odessa in 1900 and joined the Cheka in 1920") is also looked up clause by clause
    (`parts`) unless a source sentence states it verbatim, and is supported when every clause is.

    `doc_ids` and `metadata` restrict the search to those documents: "is this claim in *these* sources?"
    """
    from rag.verify import locate_claim as find

    values = enforce(body, state.settings)
    doc_ids = filter_documents(retriever.index, values["doc_ids"], values["metadata"])
    result = to_dict(await state.run(find, retriever, values["claim"], k=values["k"], doc_ids=doc_ids))
    return with_metadata(result, retriever.index.documents)


@router.post("/verify", response_model=VerifyResponse, responses=errors(404))
async def verify(body: VerifyRequest, state: StateDep, retriever: RetrieverDep) -> Any:
    """Check a text (an LLM's answer) sentence by sentence: each sentence's offsets in the text, whether the
    corpus states it, and its best matches as /v1/locate gives them.

    With `citations` (the table /v1/context returned), a sentence's `[n]` markers are checked too: `cited`
    says whether its evidence lies in a passage it cites. At most 20,000 characters and 100 sentences.
    """
    from rag.verify import CitedSpan
    from rag.verify import verify as check

    values = enforce(body, state.settings)
    doc_ids = filter_documents(retriever.index, values["doc_ids"], values["metadata"])
    table = None if body.citations is None else [CitedSpan(c.n, c.doc_id, c.start, c.end) for c in body.citations]
    result = to_dict(await state.run(check, retriever, body.text, k=values["k"], citations=table, doc_ids=doc_ids))
    return with_metadata(result, retriever.index.documents)


@router.post("/context", response_model=ContextResponse, responses=errors(404))
async def context(body: ContextRequest, state: StateDep, retriever: RetrieverDep) -> Any:
    """Numbered, cited context for prompting a language model, within `max_chars`.

    `doc_ids` and `metadata` restrict the context to those documents.
    """
    from rag.answering import build_context

    values = enforce(body, state.settings)
    doc_ids = filter_documents(retriever.index, values["doc_ids"], values["metadata"])
    result = to_dict(await state.run(build_context, retriever, values["question"], max_chars=values["max_chars"],
                                     doc_ids=doc_ids))
    return with_metadata(result, retriever.index.documents)
