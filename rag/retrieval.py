"""Query → candidate chunks → fused scores → ranked, highlighted ``Passage``s.

A chunk's hybrid score is a weighted sum of four evidence features, each computed exactly for
every candidate: the chunk's dense cosine, its best sentence's dense cosine, its BM25 score and
its best sentence's BM25 score (BM25 scaled by the query's best score). Candidates come from
FAISS and BM25 at both chunk and sentence level. Highlights are the chunk's sentences ranked by
the same dense + lexical evidence at sentence level.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rag.documents import Citation, Highlight, Passage, citation_label
from rag.embedding import Embedder
from rag.errors import InvalidRequestError, NotFoundError
from rag.fusion import convex, max_normalize, rrf, top_k
from rag.lexical import tokenize
from rag.store import Index

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")
EXACT_LIMIT = 50_000  # below this many chunks every chunk is scored exactly


@dataclass(frozen=True)
class Weights:
    """Feature weights: chunk dense, best-sentence dense, chunk BM25, best-sentence BM25."""

    chunk_dense: float
    sentence_dense: float
    chunk_lexical: float
    sentence_lexical: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.chunk_dense, self.sentence_dense, self.chunk_lexical, self.sentence_lexical)


MODE_WEIGHTS: dict[str, Weights] = {
    "hybrid": Weights(0.35, 0.35, 0.15, 0.15),
    "dense": Weights(0.5, 0.5, 0.0, 0.0),
    "lexical": Weights(0.0, 0.0, 0.5, 0.5),
}
# Sentence evidence for highlights: dense cosine, BM25 (scaled), and the passage's own score.
HIGHLIGHT_WEIGHTS = (0.6, 0.4)


@dataclass(frozen=True)
class Query:
    """A query prepared once: its text, vector and BM25 tokens."""

    text: str
    vector: np.ndarray
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class SearchResult:
    passages: list[Passage]
    took_ms: float


class Retriever:
    """Searches one loaded ``Index`` with one ``Embedder``; safe to share between threads."""

    def __init__(self, index: Index, embedder: Embedder, candidates: int = 100, fusion: str = "weighted") -> None:
        self.index = index
        self.embedder = embedder
        self.candidates = candidates
        self.fusion = fusion
        self._sentence_is_heading = np.array([s.kind == "heading" for s in index.sentences], dtype=bool)

    # -- building blocks -------------------------------------------------------------------
    def prepare(self, text: str) -> Query:
        text = text.strip()
        if not text:
            raise InvalidRequestError("query is empty")
        return Query(text, self.embedder.embed_query(text), tuple(tokenize(text)))

    def sentence_scores(self, query: Query, sentence_ids: np.ndarray, lexical: np.ndarray | None = None) -> np.ndarray:
        """Dense + lexical evidence of each sentence (headings score 0)."""
        if lexical is None:
            lexical = max_normalize(self.index.sentence_bm25.scores(query.tokens))
        dense = self.index.sentence_vectors[sentence_ids] @ query.vector
        score = HIGHLIGHT_WEIGHTS[0] * dense + HIGHLIGHT_WEIGHTS[1] * lexical[sentence_ids]
        return np.where(self._sentence_is_heading[sentence_ids], 0.0, score).astype(np.float32)

    def _allowed_chunks(self, doc_ids: Sequence[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        unknown = [d for d in doc_ids if d not in self.index.doc_chunks]
        if unknown:
            raise NotFoundError(f"unknown doc_ids: {', '.join(sorted(set(unknown)))}")
        return np.array(sorted(ci for d in set(doc_ids) for ci in self.index.doc_chunks[d]), dtype=np.int64)

    def _candidates(self, query: Query, chunk_lex: np.ndarray, sent_lex: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
        n_chunks = len(self.index.chunks)
        if allowed is not None and len(allowed) <= EXACT_LIMIT:
            return allowed
        if allowed is None and n_chunks <= EXACT_LIMIT:
            return np.arange(n_chunks, dtype=np.int64)
        n = self.candidates
        found: set[int] = set(top_k(chunk_lex, n).tolist())
        _, ids = self.index.chunk_faiss.search(query.vector[None, :], n)
        found.update(int(i) for i in ids[0] if i >= 0)
        _, sids = self.index.sentence_faiss.search(query.vector[None, :], n)
        for s in [int(i) for i in sids[0] if i >= 0] + top_k(sent_lex, n).tolist():
            found.update(self.index.sentence_chunks[s])
        cands = np.array(sorted(found), dtype=np.int64)
        if allowed is not None:
            cands = np.intersect1d(cands, allowed)
        return cands

    def features(self, query: Query, cands: np.ndarray, chunk_lex: np.ndarray, sent_lex: np.ndarray) -> np.ndarray:
        """Per-candidate features: chunk cos, best sentence cos, chunk BM25, best sentence BM25."""
        index = self.index
        chunk_dense = index.chunk_vectors[cands] @ query.vector
        lengths = np.array([len(index.chunks[c].sentence_ids) for c in cands], dtype=np.int64)
        flat = np.fromiter((s for c in cands for s in index.chunks[c].sentence_ids), dtype=np.int64,
                           count=int(lengths.sum()))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(cands) else np.zeros(0, np.int64)
        heading = self._sentence_is_heading[flat]
        sent_dense = np.where(heading, -1.0, index.sentence_vectors[flat] @ query.vector)
        sent_lexical = np.where(heading, 0.0, sent_lex[flat])
        best_dense = np.maximum.reduceat(sent_dense, starts) if len(cands) else np.zeros(0)
        best_lex = np.maximum.reduceat(sent_lexical, starts) if len(cands) else np.zeros(0)
        best_dense = np.where(best_dense < -0.5, chunk_dense, best_dense)  # chunk of headings only
        return np.stack([chunk_dense, best_dense, chunk_lex[cands], best_lex], axis=1).astype(np.float32)

    # -- the search ------------------------------------------------------------------------
    def search(self, text: str, k: int = 5, mode: str = "hybrid", doc_ids: Sequence[str] | None = None) -> SearchResult:
        if mode not in MODES:
            raise InvalidRequestError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if k < 1:
            raise InvalidRequestError("k must be at least 1")
        t0 = time.perf_counter()
        query = self.prepare(text)
        ranked, scores, sent_lex = self.rank(query, k, mode, doc_ids)
        passages = [self.passage(query, int(c), rank, float(score), sent_lex)
                    for rank, (c, score) in enumerate(zip(ranked, scores, strict=True), start=1)]
        return SearchResult(passages, (time.perf_counter() - t0) * 1000.0)

    def rank(self, query: Query, k: int, mode: str = "hybrid", doc_ids: Sequence[str] | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The best ``k`` chunk indices with their scores, and the sentence BM25 scores used."""
        index = self.index
        allowed = self._allowed_chunks(doc_ids)
        use_lex = mode != "dense"
        chunk_lex = max_normalize(index.chunk_bm25.scores(query.tokens)) if use_lex else np.zeros(len(index.chunks), np.float32)
        sent_lex = max_normalize(index.sentence_bm25.scores(query.tokens)) if use_lex else np.zeros(len(index.sentences), np.float32)
        cands = self._candidates(query, chunk_lex, sent_lex, allowed)
        if len(cands) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), sent_lex
        feats = self.features(query, cands, chunk_lex, sent_lex)
        if self.fusion == "rrf" and mode == "hybrid":
            dense_rank = cands[np.argsort(-feats[:, 0], kind="stable")]
            lex_rank = cands[np.argsort(-feats[:, 2], kind="stable")]
            fused = rrf([dense_rank.tolist(), lex_rank.tolist()])
            score = np.array([fused[int(c)] for c in cands], dtype=np.float32)
        else:
            score = convex(feats, MODE_WEIGHTS[mode].as_tuple())
        order = top_k(score, k)
        return cands[order], score[order], sent_lex

    def passage(self, query: Query, ci: int, rank: int, score: float, sent_lex: np.ndarray,
                max_highlights: int = 3) -> Passage:
        index = self.index
        chunk = index.chunks[ci]
        doc = index.documents[chunk.doc_id]
        sids = np.array(chunk.sentence_ids, dtype=np.int64)
        sscores = self.sentence_scores(query, sids, sent_lex)
        highlights = []
        for j in top_k(sscores, max_highlights):
            sentence = index.sentences[int(sids[j])]
            if sentence.kind == "heading":
                continue
            highlights.append(Highlight(sentence.start, sentence.end, sentence.text, round(float(sscores[j]), 6)))
        citation = Citation(doc.doc_id, doc.title, chunk.section, chunk.start, chunk.end,
                            citation_label(doc.title, chunk.section), doc.url)
        return Passage(rank, round(score, 6), chunk.chunk_id, doc.doc_id, doc.title, chunk.section,
                       chunk.start, chunk.end, chunk.text, tuple(highlights), citation)
