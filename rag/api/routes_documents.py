"""Document routes: list, fetch, resolve a span (any citation) back to the exact source text, and,
with an admin key, add, replace and delete documents (each change publishes a new generation)."""

from __future__ import annotations

import os
import pathlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from rag.api.deps import RetrieverDep, StateDep, errors
from rag.api.errors import ApiError
from rag.api.schemas import DocumentDetail, DocumentList, Span
from rag.api.schemas_docs import DOC_ID_HELP, DOC_ID_PATTERN, DocumentRecord, upload_schema
from rag.api.state import ServiceState
from rag.api.writes import Op, apply, read_document
from rag.documents import Document, citation_label
from rag.errors import IndexUnavailableError, InvalidRequestError, NotFoundError
from rag.retrieval import Retriever

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=errors(401, 403, 429, 503))
WRITE_ERRORS = errors(404, 408, 409, 413, 415, 422, 504)
WritableId = Annotated[str, Path(pattern=DOC_ID_PATTERN, description=DOC_ID_HELP)]
OLD_GENERATIONS_CACHED = 4


def shown_source(source: str, corpus_dir: pathlib.Path) -> str:
    """Where a document came from as readers see it: relative to the corpus folder (the server's own
    paths are not theirs to know), or just the file name when it lies elsewhere."""
    path, corpus = os.path.abspath(source), os.path.abspath(corpus_dir)
    if os.path.commonpath([path, corpus]) == corpus and path != corpus:
        return pathlib.PurePath(os.path.relpath(path, corpus)).as_posix()
    return pathlib.PurePath(source).name if os.path.isabs(source) else source


def _summary(doc: Document, chunks: int, corpus_dir: pathlib.Path) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id, "title": doc.title, "source": shown_source(doc.source, corpus_dir), "url": doc.url,
        "metadata": doc.metadata,
        "sha256": doc.sha256, "chars": len(doc.text), "chunks": chunks,
        "sections": [{"title": s.title, "path": list(s.path), "start": s.start, "end": s.end} for s in doc.sections],
    }


def _document(retriever: Retriever, doc_id: str) -> Document:
    doc = retriever.index.documents.get(doc_id)
    if doc is None:
        raise NotFoundError(f"unknown document {doc_id!r}: GET /v1/documents lists the document ids")
    return doc


PAGE, MAX_PAGE = 100, 1000  # documents per page of GET /v1/documents: default and largest


@router.get("", response_model=DocumentList)
async def list_documents(
    state: StateDep, retriever: RetrieverDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"documents per page (1 to {MAX_PAGE})")] = PAGE,
    offset: Annotated[int, Query(ge=0, description="documents to skip, in doc_id order")] = 0,
) -> Any:
    """The index's documents without their text, in doc_id order, a page at a time (`next_offset`)."""
    index = retriever.index
    ids = sorted(index.documents)
    page = ids[offset:offset + limit]
    more = offset + limit < len(ids)
    return {"documents": [_summary(index.documents[i], len(index.doc_chunks.get(i, ())), state.settings.corpus_dir)
                          for i in page],
            "total": len(ids), "offset": offset, "limit": limit, "next_offset": offset + limit if more else None,
            "index_version": index.version}


@router.get("/{doc_id}", response_model=DocumentDetail, responses=errors(404))
async def get_document(doc_id: str, state: StateDep, retriever: RetrieverDep) -> Any:
    """One document with its full stored text (the text all offsets refer to)."""
    doc = _document(retriever, doc_id)
    chunks = len(retriever.index.doc_chunks.get(doc_id, ()))
    return {**_summary(doc, chunks, state.settings.corpus_dir), "text": doc.text}


async def _documents_of(state: ServiceState, retriever: Retriever, version: str | None) -> dict[str, Document]:
    """The documents of the generation a citation came from (the served one by default)."""
    if version is None or version == retriever.index.version:
        return retriever.index.documents
    cache = state.old_documents
    if version not in cache:
        from rag.stores import open_store

        store = open_store(state.settings)
        if "/" in version or not await state.run(store.has_generation, version):
            raise NotFoundError(f"index generation {version!r} is not available (never existed, or was collected "
                                "after its grace period): resolve the citation against the current index instead")
        try:
            documents = await state.run(store.load_documents, version)
        except IndexUnavailableError as exc:
            raise NotFoundError(str(exc)) from None
        while len(cache) >= OLD_GENERATIONS_CACHED:
            cache.pop(next(iter(cache)))
        cache[version] = documents
    return cache[version]


@router.get("/{doc_id}/span", response_model=Span, responses=errors(404, 422))
async def get_span(
    doc_id: str,
    state: StateDep,
    retriever: RetrieverDep,
    response: Response,
    start: Annotated[int, Query(ge=0, description="code-point offset where the span starts")],
    end: Annotated[int, Query(ge=0, description="code-point offset where the span ends (exclusive)")],
    index_version: Annotated[str | None, Query(max_length=64, description="the generation the citation came "
                                               "from (its response's index_version); default: the current one")] = None,
) -> Any:
    """The exact text `document.text[start:end]` of a citation, with its section."""
    index_version = index_version or None  # `?index_version=` (empty) means the current generation
    documents = await _documents_of(state, retriever, index_version)
    response.headers["X-Index-Version"] = index_version or retriever.index.version  # the generation quoted
    doc = documents.get(doc_id)
    if doc is None:
        where = f" in generation {index_version}" if index_version else ""
        raise NotFoundError(f"unknown document {doc_id!r}{where}: GET /v1/documents lists the document ids")
    if start > end or end > len(doc.text):
        raise InvalidRequestError(
            f"span {start}:{end} is not inside document {doc_id!r}: use 0 <= start <= end <= {len(doc.text)}"
        )
    section = doc.section_at(start)
    path = section.path if section is not None else ()
    return {"doc_id": doc_id, "start": start, "end": end, "text": doc.text[start:end], "section": list(path),
            "label": citation_label(doc.title, path)}


# -- writes (admin key) ----------------------------------------------------------------------------
async def _write(state: ServiceState, op: Op, doc_id: str, record: dict[str, Any] | None) -> dict[str, Any]:
    if state.engine is None:
        raise state.not_ready()
    engine = state.engine

    def work() -> dict[str, Any]:
        outcome = apply(state.settings, engine, op, doc_id, record)
        index = engine.index
        doc = index.documents.get(doc_id)
        if op != "delete" and (doc is None or index.version != outcome.index_version):
            raise ApiError(503, "not_published", f"the change was indexed in generation {outcome.index_version} "
                           "but the server could not switch to it: see /readyz")
        if doc is None:
            return {"index_version": index.version}
        chunks = len(index.doc_chunks.get(doc_id, ()))
        return {**_summary(doc, chunks, state.settings.corpus_dir), "index_version": index.version}

    return await state.write(work)


@router.post("", response_model=DocumentRecord, status_code=201, openapi_extra=upload_schema(),
             responses=WRITE_ERRORS)
async def add_document(request: Request, state: StateDep) -> Any:
    """Add a document (JSON, or a file upload); 201 once it is searchable, with its generation.

    Needs an admin key. An existing `doc_id` gives 409 (use PUT to replace it); without `doc_id`,
    one is derived from the title and a hash of the text.
    """
    record = await read_document(request, state.settings)
    return await _write(state, "create", record["doc_id"], record)


@router.put("/{doc_id}", response_model=DocumentRecord, openapi_extra=upload_schema(create=False),
            responses=WRITE_ERRORS)
async def replace_document(doc_id: WritableId, request: Request, state: StateDep) -> Any:
    """Replace a document's text, title, url and metadata; an unknown `doc_id` gives 404 (POST adds)."""
    record = await read_document(request, state.settings, doc_id)
    return await _write(state, "replace", doc_id, record)


@router.delete("/{doc_id}", status_code=204, response_class=Response, responses=errors(404, 409, 422, 504))
async def delete_document(doc_id: WritableId, state: StateDep) -> Response:
    """Delete a document; 204 once it is no longer searchable (the last document cannot be deleted: 409)."""
    await _write(state, "delete", doc_id, None)
    return Response(status_code=204)
