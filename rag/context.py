"""LLM-ready context: the best passages, merged and numbered, within a character budget, with citations.

Each block reads ``[n] Title § Section`` then the exact source text ``document.text[start:end]``;
blocks are separated by a blank line. Overlapping (or merely whitespace-separated) spans of one
section are merged, blocks appear in reading order within each document (documents ordered by
their best passage), and the whole text never exceeds ``max_chars``: a passage that does not fit
is cut to the best run of whole sentences that does, or left out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.documents import citation_label
from rag.errors import InvalidRequestError
from rag.retrieval import Query, Retriever
from rag.store import Index

CONTEXT_CHUNKS = 12  # the best chunks considered for the context
SEPARATOR = "\n\n"


@dataclass(frozen=True)
class ContextCitation:
    n: int
    doc_id: str
    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class ContextResult:
    question: str
    context: str
    citations: tuple[ContextCitation, ...]
    index_version: str
    took_ms: float


@dataclass(frozen=True)
class _Span:
    doc_id: str
    start: int
    end: int
    rank: int  # best rank of the chunks merged into it


def _label(index: Index, span: _Span) -> str:
    doc = index.documents[span.doc_id]
    section = doc.section_at(span.start)
    return citation_label(doc.title, section.path if section else ())


def _merge(index: Index, spans: list[_Span]) -> list[_Span]:
    """Merge spans of one document that overlap, or touch across whitespace within one section."""
    out: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.doc_id, s.start, s.end)):
        last = out[-1] if out else None
        if last is not None and last.doc_id == span.doc_id:
            doc = index.documents[span.doc_id]
            gap = doc.text[last.end:span.start] if span.start > last.end else ""
            if span.start <= last.end or (not gap.strip()
                                          and doc.section_at(last.start) == doc.section_at(span.start)):
                out[-1] = _Span(last.doc_id, last.start, max(last.end, span.end), min(last.rank, span.rank))
                continue
        out.append(span)
    return out


def _ordered(spans: list[_Span]) -> list[_Span]:
    best: dict[str, int] = {}
    for s in spans:
        best[s.doc_id] = min(best.get(s.doc_id, s.rank), s.rank)
    return sorted(spans, key=lambda s: (best[s.doc_id], s.doc_id, s.start))


def _length(index: Index, spans: list[_Span]) -> int:
    blocks = [len(f"[{n}] {_label(index, s)}\n") + s.end - s.start for n, s in enumerate(_ordered(spans), 1)]
    return sum(blocks) + len(SEPARATOR) * max(0, len(blocks) - 1)


def _windows(retriever: Retriever, query: Query, sent_lex: np.ndarray, ci: int, rank: int) -> list[_Span]:
    """Runs of whole sentences of a chunk, from its best sentence outwards, longest first."""
    index = retriever.index
    sids = [s for s in index.chunks[ci].sentence_ids if index.sentences[s].kind != "heading"]
    if not sids:
        return []
    scores = retriever.sentence_scores(query, np.array(sids, dtype=np.int64), sent_lex)
    lo = hi = int(np.argmax(scores))
    runs = [(lo, hi)]
    while lo > 0 or hi < len(sids) - 1:
        left = scores[lo - 1] if lo > 0 else -np.inf
        right = scores[hi + 1] if hi < len(sids) - 1 else -np.inf
        if right >= left:
            hi += 1
        else:
            lo -= 1
        runs.append((lo, hi))
    doc_id = index.chunks[ci].doc_id
    return [_Span(doc_id, index.sentences[sids[a]].start, index.sentences[sids[b]].end, rank)
            for a, b in reversed(runs)]


def build_context(retriever: Retriever, question: str, max_chars: int = 4000,
                  doc_ids: Sequence[str] | None = None) -> ContextResult:
    """Numbered, cited context for prompting an LLM with ``question``, at most ``max_chars`` long
    (from the documents ``doc_ids`` only, when given)."""
    if max_chars < 1:
        raise InvalidRequestError("max_chars must be at least 1")
    if not question.strip():
        raise InvalidRequestError("question is empty: pass the question the context is for")
    t0 = time.perf_counter()
    index = retriever.index
    query = retriever.prepare(question)
    ranked, _, sent_lex = retriever.rank(query, CONTEXT_CHUNKS, doc_ids=doc_ids)
    chosen: list[_Span] = []
    for rank, ci in enumerate(ranked.tolist(), start=1):
        for window in _windows(retriever, query, sent_lex, ci, rank):
            merged = _merge(index, [*chosen, window])
            if _length(index, merged) <= max_chars:
                chosen = merged
                break
    blocks, citations = [], []
    for n, span in enumerate(_ordered(chosen), start=1):
        label = _label(index, span)
        quote = index.documents[span.doc_id].text[span.start:span.end]
        blocks.append(f"[{n}] {label}\n{quote}")
        citations.append(ContextCitation(n, span.doc_id, span.start, span.end, label, quote))
    context = SEPARATOR.join(blocks)
    assert len(context) <= max_chars
    return ContextResult(question, context, tuple(citations), index.version,
                         round((time.perf_counter() - t0) * 1000.0, 3))
