"""Document routes: list, fetch and resolve a span (any citation) back to the exact source text."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from rag.api.deps import RetrieverDep, errors
from rag.api.schemas import DocumentDetail, DocumentList, Span
from rag.documents import Document, citation_label
from rag.errors import InvalidRequestError, NotFoundError
from rag.retrieval import Retriever

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=errors(503))


def _summary(doc: Document, chunks: int) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "url": doc.url, "sha256": doc.sha256,
        "chars": len(doc.text), "chunks": chunks,
        "sections": [{"title": s.title, "path": list(s.path), "start": s.start, "end": s.end} for s in doc.sections],
    }


def _document(retriever: Retriever, doc_id: str) -> Document:
    doc = retriever.index.documents.get(doc_id)
    if doc is None:
        raise NotFoundError(f"unknown document {doc_id!r}: GET /v1/documents lists the document ids")
    return doc


@router.get("", response_model=DocumentList)
async def list_documents(retriever: RetrieverDep) -> Any:
    """Every document in the index, without its text."""
    index = retriever.index
    return {"documents": [_summary(d, len(index.doc_chunks.get(d.doc_id, ())))
                          for _, d in sorted(index.documents.items())]}


@router.get("/{doc_id}", response_model=DocumentDetail, responses=errors(404))
async def get_document(doc_id: str, retriever: RetrieverDep) -> Any:
    """One document with its full stored text (the text all offsets refer to)."""
    doc = _document(retriever, doc_id)
    return {**_summary(doc, len(retriever.index.doc_chunks.get(doc_id, ()))), "text": doc.text}


@router.get("/{doc_id}/span", response_model=Span, responses=errors(404, 422))
async def get_span(
    doc_id: str,
    retriever: RetrieverDep,
    start: Annotated[int, Query(ge=0, description="code-point offset where the span starts")],
    end: Annotated[int, Query(ge=0, description="code-point offset where the span ends (exclusive)")],
) -> Any:
    """The exact text `document.text[start:end]` of a citation, with its section."""
    doc = _document(retriever, doc_id)
    if start > end or end > len(doc.text):
        raise InvalidRequestError(
            f"span {start}:{end} is not inside document {doc_id!r}: use 0 <= start <= end <= {len(doc.text)}"
        )
    section = doc.section_at(start)
    path = section.path if section is not None else ()
    return {"doc_id": doc_id, "start": start, "end": end, "text": doc.text[start:end], "section": list(path),
            "label": citation_label(doc.title, path)}
