"""The shared vocabulary: documents, sections, sentences, chunks, citations, passages, answers.

Every span here is a half-open ``[start, end)`` range of Unicode code points into the stored
``Document.text``, and every ``text``/``quote`` field equals ``document.text[start:end]``.
These are plain frozen dataclasses; Pydantic models exist only at the HTTP edge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """A heading-delimited region of a document; ``path`` is the heading trail (empty for the lead)."""

    path: tuple[str, ...]
    start: int
    end: int

    @property
    def title(self) -> str:
        return self.path[-1] if self.path else ""


@dataclass(frozen=True)
class Document:
    """One source document exactly as stored; offsets everywhere refer to ``text``."""

    doc_id: str
    title: str
    source: str
    text: str
    sha256: str
    sections: tuple[Section, ...]
    url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def section_at(self, offset: int) -> Section | None:
        """The innermost section containing ``offset`` (sections are contiguous and ordered)."""
        found = None
        for section in self.sections:
            if section.start <= offset < section.end:
                found = section
        return found


@dataclass(frozen=True)
class Sentence:
    """A sentence (or heading / list line) of a document; ``kind`` is ``text``, ``item`` or ``heading``."""

    doc_id: str
    start: int
    end: int
    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: whole sentences of one section, with the indices of its sentences."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    section: tuple[str, ...]
    sentence_ids: tuple[int, ...]


@dataclass(frozen=True)
class Citation:
    """Where a quote lives: enough to show, resolve and re-check it."""

    doc_id: str
    title: str
    section: tuple[str, ...]
    start: int
    end: int
    label: str
    url: str | None = None


@dataclass(frozen=True)
class Highlight:
    """A sentence of a passage that bears on the query."""

    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Passage:
    """One search result: a chunk, its score and its most relevant sentences."""

    rank: int
    score: float
    chunk_id: str
    doc_id: str
    title: str
    section: tuple[str, ...]
    start: int
    end: int
    text: str
    highlights: tuple[Highlight, ...]
    citation: Citation


@dataclass(frozen=True)
class ShortAnswer:
    """The date or figure inside an answer sentence that the question asks for (same document)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    """An extractive answer: a verifiable span of the source with a calibrated confidence."""

    text: str
    doc_id: str
    start: int
    end: int
    confidence: float
    citation: Citation
    short: ShortAnswer | None = None  # when the question asks for a date or number and the sentence has one


def citation_label(title: str, section: tuple[str, ...]) -> str:
    """Human-readable reference, e.g. ``Genrikh Lyushkov § Defection``."""
    return " § ".join([title, *section]) if section else title


_SCALARS = (str, int, float, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # dataclass type -> its field names (fields() is slow)


def to_dict(obj: Any) -> Any:
    """A dataclass (or list of them) as JSON-ready data; tuples become lists."""
    if isinstance(obj, _SCALARS):
        return obj
    names = _FIELD_NAMES.get(type(obj))
    if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    if names is not None:
        return {name: to_dict(getattr(obj, name)) for name in names}
    if isinstance(obj, (list, tuple)):
        return [to_dict(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def with_metadata(data: Any, documents: Mapping[str, Document]) -> Any:
    """Add each document's ``url`` and ``metadata`` to the passages and citations in a response."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(v for v in item.values() if isinstance(v, (list, dict)))
            doc = documents.get(item["doc_id"]) if isinstance(item.get("doc_id"), str) else None
            if doc is None:
                continue
            if ("label" in item and "section" in item) or "chunk_id" in item:  # a citation or a passage
                item["url"], item["metadata"] = doc.url, doc.metadata
    return data
