"""Query → candidate chunks → fused scores → ranked, highlighted ``Passage``s.

Evidence is scored at sentence level first: each sentence gets a weighted sum of its dense
cosine, its BM25 score (scaled by the query's best), the IDF-weighted share of query words it
contains, the same dense/BM25 evidence of its neighbouring sentences, answer-type cues
(``rag.cues``: a "when" question and a sentence with a date, better a year; "how many" and a
number; "who"/"where" and a name the question does not already use) and its length. A chunk's
score adds its own dense, BM25 and coverage evidence to its best sentence's score, so the
passage ranked first is the one holding the best evidence sentence, which becomes its top
highlight. The weights (``TUNING``, rag.retrieval_weights) were fitted on half of the SQuAD
development articles and validated on the other half and on the Lyushkov questions
(docs/evaluation.md). The dense evidence uses the query vector through a fitted per-dimension
adapter (``rag.adapter``). Query and SearchResult are in rag.query (both re-exported here)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from rag import cues, numbers
from rag.adapter import adapt, query_adapter
from rag.documents import Citation, Highlight, Passage, citation_label
from rag.embedding import Embedder
from rag.errors import InvalidRequestError
from rag.fusion import convex, max_normalize, rrf, top_k
from rag.lexical import tokenize
from rag.query import Query, SearchResult
from rag.retrieval_weights import PASSAGE_FEATURES, SENTENCE_FEATURES, TUNING, Tuning
from rag.store import Index

__all__ = [
    "BIGRAM_CACHE", "DENSE_ALL_LIMIT", "EXACT_LIMIT", "MODES", "PASSAGE_FEATURES", "SENTENCE_FEATURES", "TUNING",
    "Mode", "Query", "Retriever", "SearchResult", "Tuning", "cosines", "restating_prose",
]

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")
EXACT_LIMIT = 50_000  # below this many chunks every chunk is scored exactly
BIGRAM_CACHE = 500_000  # sentences whose word pairs are remembered
DENSE_ALL_LIMIT = 200_000  # below this many sentences a query's cosine with every sentence is computed once


def restating_prose(index: Index, ranked: Sequence[int]) -> int | None:
    """When the first of ``ranked`` (sentence ids, best first) is a list item (an infobox line such as
    ``- Died: 1945-08-19``), the position of the best-ranked prose sentence of its document that states
    the same values (``rag.numbers.restates``): it carries the context. None otherwise."""
    item = index.sentences[ranked[0]]
    if item.kind != "item":
        return None
    for position, sid in enumerate(ranked):
        s = index.sentences[sid]
        if s.kind == "text" and s.doc_id == item.doc_id and numbers.restates(item.text, s.text):
            return position
    return None


def cosines(vectors: np.ndarray, query: np.ndarray, block: int = 1024) -> np.ndarray:
    """``vectors @ query`` in row blocks: OpenBLAS runs a large matrix-vector product on every
    core, which on a busy 2-core machine measured 20x slower than single-threaded blocks."""
    if len(vectors) <= block:
        return vectors @ query
    return np.concatenate([vectors[i:i + block] @ query for i in range(0, len(vectors), block)])


class Retriever:
    """Searches one loaded ``Index`` with one ``Embedder``; safe to share between threads."""

    def __init__(self, index: Index, embedder: Embedder, candidates: int = 100, fusion: str = "weighted",
                 tuning: Tuning | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.candidates = candidates
        self.fusion = fusion
        self.tuning = tuning or TUNING
        sentences = index.sentences
        self._sentence_is_heading = np.array([s.kind == "heading" for s in sentences], dtype=bool)
        n = len(sentences)
        section = index.sentence_section
        same = [i + 1 < n and sentences[i].doc_id == sentences[i + 1].doc_id and section[i] == section[i + 1]
                and not self._sentence_is_heading[i + 1] for i in range(n)]
        self._next = np.array([i + 1 if same[i] else -1 for i in range(n)], dtype=np.int64)
        self._prev = np.full(n, -1, dtype=np.int64)
        self._prev[self._next[self._next >= 0]] = np.flatnonzero(self._next >= 0)
        lengths = np.array([len(c.sentence_ids) for c in index.chunks], dtype=np.int64)
        self._chunk_len = lengths
        self._chunk_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self._chunk_flat = np.fromiter((si for c in index.chunks for si in c.sentence_ids), dtype=np.int64,
                                       count=int(lengths.sum()))
        self._bigrams: dict[int, frozenset[tuple[str, str]]] = {}
        self._cues = cues.SentenceCues([s.text for s in sentences])
        self._adapter = query_adapter(embedder.model_id, int(index.sentence_vectors.shape[-1]))

    # -- building blocks -------------------------------------------------------------------
    def prepare(self, text: str) -> Query:
        text = text.strip()
        if not text:
            raise InvalidRequestError("query is empty: pass the words to search for, e.g. 'When was Lyushkov born?'")
        vector = self.embedder.embed_query(text)
        return Query(text, vector, tuple(tokenize(text)), dense=adapt(vector, self._adapter))

    def lexical(self, query: Query) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(chunk BM25, chunk coverage, sentence BM25, sentence coverage); BM25 scaled to [0, 1]."""
        if "lexical" not in query.cache:
            chunk_bm25, chunk_cov, _ = self.index.chunk_bm25.scores_and_coverage(query.tokens)
            sent_bm25, sent_cov, matches = self.index.sentence_bm25.scores_and_coverage(query.tokens)
            query.cache["sentence_matches"] = matches
            query.cache["lexical"] = (max_normalize(chunk_bm25), chunk_cov, max_normalize(sent_bm25), sent_cov)
        return query.cache["lexical"]

    def _sentence_dense(self, query: Query) -> Callable[[np.ndarray], np.ndarray]:
        """Dense cosine of sentences by id: all at once (cached on the query) unless the index is huge."""
        vectors = self.index.sentence_vectors
        if len(vectors) > DENSE_ALL_LIMIT:
            return lambda ids: vectors[ids] @ query.search_vector
        if "sentence_dense" not in query.cache:
            query.cache["sentence_dense"] = cosines(vectors, query.search_vector)
        every = query.cache["sentence_dense"]
        return lambda ids: every[ids]

    def sentence_features(self, query: Query, sentence_ids: np.ndarray, lexical: np.ndarray | None = None,
                          ) -> np.ndarray:
        """``SENTENCE_FEATURES`` of each sentence (rows), with neighbours from the same section."""
        _, _, sent_lex, sent_cov = self.lexical(query)
        if lexical is not None:
            sent_lex = lexical
        ids = np.asarray(sentence_ids, dtype=np.int64)
        prev, nxt = self._prev[ids], self._next[ids]
        dense_of = self._sentence_dense(query)
        dense = dense_of(ids)
        p_dense = np.where(prev >= 0, dense_of(np.maximum(prev, 0)), 0.0)
        n_dense = np.where(nxt >= 0, dense_of(np.maximum(nxt, 0)), 0.0)
        count = np.maximum((prev >= 0).astype(np.float32) + (nxt >= 0), 1.0)
        ctx_dense = np.where((prev >= 0) | (nxt >= 0), (p_dense + n_dense) / count, dense)
        p_lex = np.where(prev >= 0, sent_lex[np.maximum(prev, 0)], 0.0)
        n_lex = np.where(nxt >= 0, sent_lex[np.maximum(nxt, 0)], 0.0)
        ctx_lex = (p_lex + n_lex) / count
        typed, year, name, assertive, length, reference = self._cues.columns(
            query.text, ids, query.cache.get("sentence_matches"))
        bigrams = self._bigram_share(query, ids)
        return np.stack([dense, sent_lex[ids], sent_cov[ids], ctx_dense, ctx_lex, typed, bigrams, year, name,
                         assertive, length, reference], axis=1).astype(np.float32)

    def _bigram_share(self, query: Query, ids: np.ndarray) -> np.ndarray:
        """Share of the query's adjacent content-word pairs that a sentence also has adjacent.

        Only sentences holding two or more query words can match, so only those are tokenized
        (and remembered); "join the Cheka" in a question matches "joined the Cheka" in the text.
        """
        out = np.zeros(len(ids), dtype=np.float32)
        pairs = set(zip(query.tokens, query.tokens[1:], strict=False))
        matches = query.cache.get("sentence_matches")
        if not pairs or matches is None:
            return out
        for j in np.flatnonzero(matches[ids] >= 2):
            sid = int(ids[j])
            found = self._bigrams.get(sid)
            if found is None:
                words = tokenize(self.index.sentences[sid].text)
                found = frozenset(zip(words, words[1:], strict=False))
                if len(self._bigrams) > BIGRAM_CACHE:
                    self._bigrams.clear()
                self._bigrams[sid] = found
            out[j] = len(pairs & found) / len(pairs)
        return out

    def sentence_scores(self, query: Query, sentence_ids: np.ndarray, lexical: np.ndarray | None = None) -> np.ndarray:
        """Evidence score of each sentence (headings score 0)."""
        ids = np.asarray(sentence_ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros(0, dtype=np.float32)
        mode = query.cache.get("mode", "hybrid")
        # Scores computed while ranking are remembered, so the passages' highlights reuse them.
        key = (mode, id(lexical), self.tuning)
        memo = query.cache.get("sentence_scores")
        if memo is not None and memo[0] == key and not np.isnan(memo[1][ids]).any():
            return memo[1][ids]
        score = convex(self.sentence_features(query, ids, lexical), self.tuning.for_mode(mode).sentence)
        score = np.where(self._sentence_is_heading[ids], 0.0, score).astype(np.float32)
        if memo is None or memo[0] != key:
            memo = (key, np.full(len(self.index.sentences), np.nan, dtype=np.float32))
            query.cache["sentence_scores"] = memo
        memo[1][ids] = score
        return score

    def _allowed_chunks(self, doc_ids: Sequence[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        self.index.check_doc_ids(doc_ids)
        return np.array(sorted(ci for d in set(doc_ids) for ci in self.index.doc_chunks[d]), dtype=np.int64)

    def _candidates(self, query: Query, chunk_lex: np.ndarray, sent_lex: np.ndarray,
                    allowed: np.ndarray | None) -> np.ndarray:
        n_chunks = len(self.index.chunks)
        if allowed is not None and len(allowed) <= EXACT_LIMIT:
            return allowed
        if allowed is None and n_chunks <= EXACT_LIMIT:
            return np.arange(n_chunks, dtype=np.int64)
        n = self.candidates
        found: set[int] = set(top_k(chunk_lex, n).tolist())
        _, ids = self.index.chunk_faiss.search(query.search_vector[None, :], n)
        found.update(int(i) for i in ids[0] if i >= 0)
        _, sids = self.index.sentence_faiss.search(query.search_vector[None, :], n)
        for s in [int(i) for i in sids[0] if i >= 0] + top_k(sent_lex, n).tolist():
            found.update(self.index.sentence_chunks[s])
        cands = np.array(sorted(found), dtype=np.int64)
        if allowed is not None:
            cands = np.intersect1d(cands, allowed)
        return cands

    def features(self, query: Query, cands: np.ndarray, chunk_lex: np.ndarray, sent_lex: np.ndarray) -> np.ndarray:
        """``PASSAGE_FEATURES`` of each candidate chunk (rows)."""
        index = self.index
        _, chunk_cov, _, _ = self.lexical(query)
        if len(cands) == 0:
            return np.zeros((0, len(PASSAGE_FEATURES)), dtype=np.float32)
        chunk_dense = cosines(index.chunk_vectors[cands], query.search_vector)
        lengths = self._chunk_len[cands]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        # sentence ids of the candidates, concatenated: position p of candidate j is flat[start_j + p]
        offsets = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
        flat = self._chunk_flat[np.repeat(self._chunk_start[cands], lengths) + offsets]
        unique, inverse = np.unique(flat, return_inverse=True)
        sentence = self.sentence_scores(query, unique, sent_lex)[inverse]
        sentence = np.where(self._sentence_is_heading[flat], -np.inf, sentence)
        best = np.maximum.reduceat(sentence, starts)
        tuning = self.tuning.for_mode(query.cache.get("mode", "hybrid"))
        chunk_level = convex(np.stack([chunk_dense, chunk_lex[cands]], axis=1), tuning.sentence[:2])
        best = np.where(np.isfinite(best), best, chunk_level)  # a chunk of headings only
        return np.stack([chunk_dense, chunk_lex[cands], chunk_cov[cands], best], axis=1).astype(np.float32)

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
        query.cache["mode"] = mode
        if mode == "dense":
            chunk_lex = np.zeros(len(index.chunks), np.float32)
            sent_lex = np.zeros(len(index.sentences), np.float32)
        else:
            chunk_lex, _, sent_lex, _ = self.lexical(query)
        cands = self._candidates(query, chunk_lex, sent_lex, allowed)
        if mode == "lexical":  # lexical search returns only passages sharing a word with the query
            cands = cands[chunk_lex[cands] > 0]
        if len(cands) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), sent_lex
        feats = self.features(query, cands, chunk_lex, sent_lex)
        if self.fusion == "rrf" and mode == "hybrid":
            dense_rank = cands[np.argsort(-feats[:, 0], kind="stable")]
            lex_rank = cands[np.argsort(-feats[:, 1], kind="stable")]
            fused = rrf([dense_rank.tolist(), lex_rank.tolist()])
            score = np.array([fused[int(c)] for c in cands], dtype=np.float32)
        else:
            score = convex(feats, self.tuning.for_mode(mode).passage)
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
        order = top_k(sscores, len(sids)).tolist()
        if order:
            prose = restating_prose(index, [int(sids[j]) for j in order])
            if prose is not None:
                order.insert(0, order.pop(prose))
        for j in order[:max_highlights]:
            sentence = index.sentences[int(sids[j])]
            if sentence.kind == "heading":
                continue
            highlights.append(Highlight(sentence.start, sentence.end, sentence.text, round(float(sscores[j]), 6)))
        citation = Citation(doc.doc_id, doc.title, chunk.section, chunk.start, chunk.end,
                            citation_label(doc.title, chunk.section), doc.url)
        return Passage(rank, round(score, 6), chunk.chunk_id, doc.doc_id, doc.title, chunk.section,
                       chunk.start, chunk.end, chunk.text, tuple(highlights), citation)
