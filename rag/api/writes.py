"""Document writes: parse a JSON or multipart body into a record, apply it to the corpus, rebuild.

The corpus folder stays the single source of truth: a write puts the document into
``<corpus>/api/<doc_id>.jsonl`` (or removes its file or line), then builds a new generation
incrementally (only that document is embedded) and switches the engine to it. The whole change
runs under the index write lock, shared with ``rag add``/``rag remove`` and ``rag build``; when
the build fails, the corpus files are put back as they were, so the index and corpus are untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.api.errors import ApiError
from rag.api.schemas_docs import DocumentIn, DocumentUpdate
from rag.config import Settings
from rag.errors import DocumentError
from rag.service import Engine

Op = Literal["create", "replace", "delete"]
UPLOAD_FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
FORM_FIELDS = {"file", "doc_id", "title", "url", "metadata"}


@dataclass(frozen=True)
class Outcome:
    """What a write did: the generation now served and, unless deleted, the document's id."""

    doc_id: str
    index_version: str


def slug(title: str, text: str) -> str:
    """A safe doc_id from a title plus a short content hash, e.g. ``tea-notes-3f2a9c1e``."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:48].strip("-") or "doc"
    digest = hashlib.sha256(f"{title}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{base}-{digest}"


def _invalid(loc: list[str | int], msg: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": msg, "type": kind}])


def _validated(data: Any, path_doc_id: str | None) -> DocumentUpdate:
    """A POST body (``DocumentIn``) or, when the path names the document, a PUT body (``DocumentUpdate``)."""
    if not isinstance(data, dict):
        raise _invalid(["body"], 'send a JSON object: {"title", "text", "format"?, "doc_id"?, ...}', "dict_type")
    try:
        return (DocumentIn if path_doc_id is None else DocumentUpdate).model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


async def _from_json(request: Request, path_doc_id: str | None) -> DocumentUpdate:
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constant)  # a BOM, as the query routes allow
    except UnicodeDecodeError as exc:
        raise _invalid(["body"], f"the body is not valid UTF-8 (byte {exc.start})", "utf8_invalid") from None
    except (ValueError, RecursionError):
        raise _invalid(["body"], "the body is not valid JSON", "json_invalid") from None
    return _validated(data, path_doc_id)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def _from_form(request: Request, path_doc_id: str | None, settings: Settings) -> DocumentUpdate:
    try:
        form = await request.form(max_files=1, max_fields=len(FORM_FIELDS), max_part_size=64 * 1024)
    except StarletteHTTPException as exc:
        raise _invalid(["body"], f"unreadable multipart body: {exc.detail}") from None
    try:
        allowed = FORM_FIELDS - {"doc_id"} if path_doc_id else FORM_FIELDS  # PUT: the path names it
        unknown = sorted(set(form.keys()) - allowed)
        if unknown:
            raise _invalid(["body", unknown[0]], f"unknown form field; use {', '.join(sorted(allowed))}")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _invalid(["body", "file"], "attach the document as the form field 'file'", "missing")
        name = upload.filename or ""
        if "/" in name or "\\" in name or name.startswith("."):
            raise _invalid(["body", "file"], "the file name must be a plain name, without a path")
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_FORMATS:
            raise _invalid(["body", "file"], f"unsupported file type {suffix or '(none)'!r}: use "
                           f"{', '.join(UPLOAD_FORMATS)} (or POST a JSON body)")
        raw = await upload.read(settings.max_document_bytes + 1)
        if len(raw) > settings.max_document_bytes:
            raise document_too_large(settings)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"the file is not valid UTF-8 (byte {exc.start})"
            raise _invalid(["body", "file"], message, "utf8_invalid") from None
        fields = {k: form.get(k) for k in ("doc_id", "title", "url", "metadata")}
        if any(v is not None and not isinstance(v, str) for v in fields.values()):
            raise _invalid(["body"], "only 'file' may be a file")
        data: dict[str, Any] = {"text": text, "format": UPLOAD_FORMATS[suffix]}
        stem = Path(name).stem
        if path_doc_id is None:
            data["doc_id"] = fields["doc_id"] or stem
        data["title"] = fields["title"] or _title_of(text, UPLOAD_FORMATS[suffix], stem)
        if fields["url"]:
            data["url"] = fields["url"]
        if fields["metadata"]:
            try:
                data["metadata"] = json.loads(str(fields["metadata"]), parse_constant=_no_constant)
            except (ValueError, RecursionError):
                raise _invalid(["body", "metadata"], "metadata must be a JSON object", "json_invalid") from None
        return _validated(data, path_doc_id)
    finally:
        await form.close()


def _title_of(text: str, fmt: str, stem: str) -> str:
    """The title a file gives itself (``= Title =``, ``# Title``, ``<title>``), else its humanized name."""
    from rag.loading import humanize, markdown_headings, wiki_headings

    if fmt == "html":
        from rag.html_text import html_to_text

        text, found = html_to_text(text)
        found = found or markdown_headings(text)[0]
    else:
        found = (markdown_headings if fmt == "markdown" else wiki_headings)(text)[0]
    return (found or humanize(stem) or "Untitled")[:500]


def document_too_large(settings: Settings) -> ApiError:
    return ApiError(413, "document_too_large",
                    f"the document is larger than {settings.max_document_bytes} bytes of UTF-8: split it",
                    {"limit_bytes": settings.max_document_bytes})


async def read_document(request: Request, settings: Settings, path_doc_id: str | None = None) -> dict[str, Any]:
    """The record to store from a JSON body or a multipart file upload (422/413/415 when unusable)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        doc = await _from_json(request, path_doc_id)
    elif media == "multipart/form-data":
        doc = await _from_form(request, path_doc_id, settings)
    else:
        raise ApiError(415, "unsupported_media_type", "send JSON ('content-type: application/json') or a file "
                       "upload ('multipart/form-data' with the field 'file')", {"content_type": media or None})
    if len(doc.text.encode("utf-8")) > settings.max_document_bytes:
        raise document_too_large(settings)
    doc_id = path_doc_id or getattr(doc, "doc_id", None) or slug(doc.title, doc.text)
    record = {"doc_id": doc_id, "title": doc.title, "text": doc.text, "format": doc.format, "url": doc.url,
              "metadata": doc.metadata}
    try:  # the same check the corpus loader makes, so a stored record always loads
        from rag.loading import make_document

        make_document(doc_id, doc.text, fmt=doc.format, title=doc.title, url=doc.url, metadata=doc.metadata)
    except DocumentError as exc:
        raise ApiError(422, "invalid_document", str(exc)) from None
    return record


def _check_allowed(op: Op, doc_id: str, existing: Mapping[str, Any]) -> None:
    """Refuse a write that does not fit the current documents: 409 (exists, or the last one) or 404."""
    if op == "create" and doc_id in existing:
        raise ApiError(409, "conflict", f"document {doc_id!r} already exists: PUT /v1/documents/{doc_id} "
                       "replaces it", {"doc_id": doc_id})
    if op != "create" and doc_id not in existing:
        raise ApiError(404, "not_found", f"unknown document {doc_id!r}: GET /v1/documents lists the ids"
                       + ("; POST /v1/documents adds one" if op == "replace" else ""))
    if op == "delete" and len(existing) == 1:
        raise ApiError(409, "conflict", "this is the last document; an index needs at least one: add another "
                       "document first", {"doc_id": doc_id})


def apply(settings: Settings, engine: Engine, op: Op, doc_id: str, record: dict[str, Any] | None) -> Outcome:
    """Change one document in the corpus and publish the generation that reflects it (worker thread)."""
    from rag.ingest import record_path, remove_documents, restore, snapshot, write_record
    from rag.loading import load_corpus, load_path
    from rag.service import build, write_lock

    if settings.store != "local":
        return _apply_to_store(settings, engine, op, doc_id, record)
    corpus = settings.corpus_dir
    with write_lock(settings.index_dir, timeout=settings.write_timeout / 2):  # 503 before the 504
        documents, _ = load_corpus(corpus) if corpus.is_dir() else ([], [])
        sources = {d.doc_id: Path(d.source) for d in documents}
        _check_allowed(op, doc_id, sources)
        target = record_path(corpus, doc_id)
        if op == "create" and target.exists():
            raise ApiError(409, "conflict", f"{target} exists but does not hold {doc_id!r}: fix or remove it")
        saved = snapshot([target, *([sources[doc_id]] if doc_id in sources else [])])
        try:
            if doc_id in sources:
                remove_documents(corpus, [doc_id])
            if record is not None:
                stored = load_path(write_record(corpus, record))  # it must read back as exactly this document
                if [d.doc_id for d in stored] != [doc_id]:
                    raise ApiError(422, "invalid_document", f"document {doc_id!r} does not read back as written")
            report = build(settings, embedder=engine.embedder, previous=engine.index)
        except BaseException:
            restore(saved)
            raise
        engine.refresh()
        version = report.name or engine.index.version
    return Outcome(doc_id, version)


def _apply_to_store(settings: Settings, engine: Engine, op: Op, doc_id: str, record: dict[str, Any] | None) -> Outcome:
    """The same change in a database store, whose current generation is the corpus of record."""
    import dataclasses
    import tempfile

    from rag.ingest import write_record
    from rag.loading import load_path
    from rag.service import change_documents

    added = []
    if record is not None:
        with tempfile.TemporaryDirectory(prefix="rag-write-") as tmp:
            path = write_record(Path(tmp), record)
            added = [dataclasses.replace(d, source=str(path.relative_to(tmp))) for d in load_path(path)]
        if [d.doc_id for d in added] != [doc_id]:
            raise ApiError(422, "invalid_document", f"document {doc_id!r} does not read back as written")
    report = change_documents(settings, add=added, remove=[doc_id] if op == "delete" else [],
                              embedder=engine.embedder, previous=engine.index,
                              lock_timeout=settings.write_timeout / 2,
                              check=lambda documents: _check_allowed(op, doc_id, documents))
    engine.refresh()
    return Outcome(doc_id, report.name or engine.index.version)
