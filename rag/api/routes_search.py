"""Query routes: /v1/search, /v1/ask, /v1/locate, /v1/context (CPU work runs on worker threads)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from rag.api.deps import RetrieverDep, StateDep, errors, require_json
from rag.api.schemas import (
    AskRequest,
    AskResponse,
    ContextRequest,
    ContextResponse,
    LocateRequest,
    LocateResponse,
    SearchRequest,
    SearchResponse,
)
from rag.documents import to_dict

router = APIRouter(prefix="/v1", tags=["query"], dependencies=[Depends(require_json)],
                   responses=errors(413, 415, 422, 503))


@router.post("/search", response_model=SearchResponse, responses=errors(404))
async def search(body: SearchRequest, state: StateDep,
                 retriever: RetrieverDep) -> Any:
    """The passages that bear on a query, best first, each with highlights and a resolvable citation.

    Unknown `doc_ids` give 404. Offsets are Unicode code points into the document text.
    """
    result = await state.run(retriever.search, body.query, k=body.k, mode=body.mode, doc_ids=body.doc_ids)
    return {"query": body.query, "mode": body.mode, "index_version": retriever.index.version,
            "took_ms": round(result.took_ms, 3), "results": to_dict(result.passages)}


@router.post("/ask", response_model=AskResponse)
async def ask(body: AskRequest, state: StateDep,
              retriever: RetrieverDep) -> Any:
    """An extractive answer with its cited span, or `answerable: false` when the corpus does not say."""
    from rag.answering import ask as answer

    return to_dict(await state.run(answer, retriever, body.question, k=body.k))


@router.post("/locate", response_model=LocateResponse)
async def locate(body: LocateRequest, state: StateDep,
                 retriever: RetrieverDep) -> Any:
    """Where the corpus states a claim (exact, normalized or paraphrase), with conflicting details."""
    from rag.answering import locate as find

    return to_dict(await state.run(find, retriever, body.claim, k=body.k))


@router.post("/context", response_model=ContextResponse)
async def context(body: ContextRequest, state: StateDep,
                  retriever: RetrieverDep) -> Any:
    """Numbered, cited context for prompting a language model, within `max_chars`."""
    from rag.answering import build_context

    return to_dict(await state.run(build_context, retriever, body.question, max_chars=body.max_chars))
