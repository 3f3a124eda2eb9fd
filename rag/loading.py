"""Files → ``Document``: the wiki text layout, plain text and Markdown, read exactly as UTF-8."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.documents import Document, Section
from rag.errors import CorpusError, DocumentError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
FORMATS = ("text", "markdown", "html")
DOC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
URL_RE = re.compile(r"^https?://[^\x00-\x20\x7f-\x9f]+$")  # what a document's url may be (links are shown)
MAX_URL_CHARS = 2000
BOM = "\ufeff"  # a byte order mark, as Windows editors start UTF-8 files

_WIKI_TITLE = re.compile(r"^=[ \t]*([^=\n].*?)[ \t]*=[ \t]*$")
_WIKI_HEADING = re.compile(r"^(={2,6})[ \t]*([^=\n].*?)[ \t]*\1[ \t]*$")
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_MD_FENCE = re.compile(r"^[ \t]*(```|~~~)")


@dataclass(frozen=True)
class Heading:
    """A heading line: where it starts, its nesting level (1 = top) and its text."""

    start: int
    level: int
    title: str


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lines(text: str) -> Iterable[tuple[int, str]]:
    """(offset, line without its newline) for every line of ``text``; a leading byte order mark (kept in
    the text, as read) is not part of the first line's heading."""
    pos = 0
    for line in text.splitlines(keepends=True):
        yield pos, line.rstrip("\r\n").removeprefix(BOM) if pos == 0 else line.rstrip("\r\n")
        pos += len(line)


def wiki_headings(text: str) -> tuple[str | None, list[Heading]]:
    """The ``= Title =`` on the first line (if any) and the ``==Section==`` headings below it."""
    title = None
    headings: list[Heading] = []
    for i, (pos, line) in enumerate(_lines(text)):
        if i == 0 and (m := _WIKI_TITLE.match(line)) and not _WIKI_HEADING.match(line):
            title = m.group(1)
            continue
        if m := _WIKI_HEADING.match(line):
            headings.append(Heading(pos, len(m.group(1)) - 1, m.group(2)))
    return title, headings


def markdown_headings(text: str) -> tuple[str | None, list[Heading]]:
    """ATX headings outside code fences; a leading ``# Title`` becomes the title."""
    title = None
    headings: list[Heading] = []
    in_fence = False
    seen_content = False
    for pos, line in _lines(text):
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            seen_content = True
            continue
        if in_fence:
            continue
        m = _MD_HEADING.match(line)
        if m and len(m.group(1)) == 1 and not seen_content and title is None:
            title = m.group(2)
            seen_content = True
            continue
        if m:
            headings.append(Heading(pos, len(m.group(1)), m.group(2)))
        if line.strip():
            seen_content = True
    return title, headings


def sections_from_headings(text: str, headings: list[Heading]) -> tuple[Section, ...]:
    """A partition of ``text`` into sections: the lead, then one per heading, each with its path."""
    sections: list[Section] = []
    first = headings[0].start if headings else len(text)
    if first > 0 or not headings:
        sections.append(Section((), 0, first))
    stack: list[Heading] = []
    for i, heading in enumerate(headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        end = headings[i + 1].start if i + 1 < len(headings) else len(text)
        sections.append(Section(tuple(h.title for h in stack), heading.start, end))
    return tuple(s for s in sections if s.end > s.start or len(text) == 0)


def humanize(stem: str) -> str:
    return re.sub(r"[_-]+", " ", stem).strip() or stem


def make_document(
    doc_id: str,
    text: str,
    *,
    fmt: str = "text",
    title: str | None = None,
    source: str = "",
    url: str | None = None,
    metadata: dict | None = None,
) -> Document:
    """Build a ``Document`` from text already in memory (``fmt`` is ``text`` or ``markdown``)."""
    if not DOC_ID_RE.fullmatch(doc_id):
        raise DocumentError(
            f"invalid doc_id {doc_id!r}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if not text.strip():
        raise DocumentError(f"document {doc_id!r} is empty")
    if url is not None and (len(url) > MAX_URL_CHARS or not URL_RE.fullmatch(url)):
        raise DocumentError(f"document {doc_id!r}: url must be an http:// or https:// address of at most "
                            f"{MAX_URL_CHARS} characters without spaces or control characters")
    if fmt == "html":
        from rag.html_text import html_to_text

        text, html_title = html_to_text(text)
        title = title or html_title
        if not text.strip():
            raise DocumentError(f"document {doc_id!r} has no text outside its markup")
        fmt = "markdown"
    if fmt == "markdown":
        found_title, headings = markdown_headings(text)
    elif fmt == "text":
        found_title, headings = wiki_headings(text)
    else:
        raise DocumentError(f"unknown format {fmt!r} for {doc_id!r}: use one of {', '.join(FORMATS)}")
    return Document(
        doc_id=doc_id,
        title=title or found_title or humanize(doc_id),
        source=source,
        text=text,
        sha256=sha256_text(text),
        sections=sections_from_headings(text, headings),
        url=url,
        metadata=dict(metadata or {}),
    )


def load_file(path: Path) -> Document:
    """Read one single-document file exactly as UTF-8 (no newline translation)."""
    docs = load_path(path)
    if len(docs) != 1:
        raise DocumentError(f"{path}: holds {len(docs)} documents; use load_path")
    return docs[0]


def _jsonl_documents(path: Path, text: str) -> list[Document]:
    """One document per line: ``{"doc_id", "title", "text", "format"?, "url"?, "metadata"?}``."""
    docs = []
    text = text.removeprefix(BOM)  # before the first row, not in any document
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): U+2028 may be inside a string
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not isinstance(row.get("doc_id"), str):
            raise DocumentError(f'{where}: needs string fields "doc_id" and "text"')
        try:  # a \ud800-style escape decodes to a lone surrogate, which no UTF-8 text (or index file) can hold
            json.dumps(row, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise DocumentError(f"{where}: contains a lone surrogate escape such as \\ud800 (not valid Unicode): "
                                "fix or remove it") from None
        title, url, metadata = row.get("title"), row.get("url"), row.get("metadata")
        if (title is not None and not isinstance(title, str)) or (url is not None and not isinstance(url, str)):
            raise DocumentError(f'{where}: "title" and "url" must be strings')
        if metadata is not None and not isinstance(metadata, dict):
            raise DocumentError(f'{where}: "metadata" must be an object')
        try:
            docs.append(make_document(row["doc_id"], row["text"], fmt=row.get("format", "text"), title=title,
                                      source=str(path), url=url, metadata=metadata))
        except DocumentError as exc:
            raise DocumentError(f"{where}: {exc}") from exc
    if not docs:
        raise DocumentError(f"{path}: empty document")
    return docs


def load_path(path: Path) -> list[Document]:
    """Read one file exactly as UTF-8 (no newline translation); raise ``DocumentError`` if unusable.

    A ``.jsonl`` file holds one document per line and is accepted or refused as a whole.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{path}: unsupported file type {suffix!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path}: not valid UTF-8 (byte {exc.start}): save it as UTF-8") from exc
    if not text.strip():
        raise DocumentError(f"{path}: empty document")
    if suffix == ".jsonl":
        return _jsonl_documents(path, text)
    fmt = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}.get(suffix, "text")
    if not DOC_ID_RE.fullmatch(path.stem):  # a file's doc_id is its name
        raise DocumentError(f"{path}: the file name {path.stem!r} is not a doc_id: rename the file to 1-128 letters, "
                            "digits, '.', '_' or '-', starting with a letter or digit")
    try:
        return [make_document(path.stem, text, fmt=fmt, source=str(path))]
    except DocumentError as exc:
        raise DocumentError(f"{path}: {exc}") from exc


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Supported files under ``corpus_dir`` (recursively, hidden files skipped), in a stable order."""
    if corpus_dir.exists() and not corpus_dir.is_dir():
        raise CorpusError(f"corpus {corpus_dir} is a file, not a folder: pass the folder that holds the documents")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it or pass --corpus DIR")
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[str]]:
    """All readable documents of a folder, plus one message per file that was skipped."""
    documents: list[Document] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in corpus_files(corpus_dir):
        try:
            docs = load_path(path)
        except DocumentError as exc:
            problems.append(str(exc))
            continue
        for doc in docs:
            if doc.doc_id in seen:
                problems.append(f"{path}: doc_id {doc.doc_id!r} already used by {seen[doc.doc_id]}; skipped")
                continue
            seen[doc.doc_id] = path
            documents.append(doc)
    return documents, problems
