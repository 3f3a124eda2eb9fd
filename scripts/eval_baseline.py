"""The tutorial RAG baseline: fixed 1000-character chunks (200 overlap), bm25s, MiniLM + FAISS flat, RRF k=60.

Also single-sentence retrieval over regex-split sentences (its "sentence hit@1" is the baseline's
counterpart of evidence@1). Used by scripts/eval_variants.py; run from the repository root.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass

import numpy as np

from rag.documents import Document
from rag.evaluation import EvalSet, Question, first_hit_rank, rank_metrics

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def fixed_chunks(text: str, size: int = 1000, overlap: int = 200) -> list[tuple[int, int]]:
    step = size - overlap
    spans, start = [], 0
    while True:
        spans.append((start, min(start + size, len(text))))
        if start + size >= len(text):
            return spans
        start += step


def regex_sentences(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def _tokenize(texts: list[str]):  # noqa: ANN202
    import bm25s
    import Stemmer

    return bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)


@dataclass
class Units:
    """A flat list of retrievable spans with BM25 and FAISS indexes."""

    spans: list[tuple[str, int, int]]
    bm25: object
    faiss: object

    @classmethod
    def build(cls, documents: list[Document], embedder, sentences: bool = False) -> Units:  # noqa: ANN001
        import bm25s
        import faiss

        spans = [(d.doc_id, s, e) for d in documents
                 for s, e in (regex_sentences(d.text) if sentences else fixed_chunks(d.text))]
        by_id = {d.doc_id: d for d in documents}
        texts = [by_id[doc].text[s:e] for doc, s, e in spans]
        bm25 = bm25s.BM25()
        bm25.index(_tokenize(texts), show_progress=False)
        vectors = embedder.embed_documents(texts)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(spans, bm25, index)

    def rank(self, query: str, qvec: np.ndarray, method: str, depth: int = 100) -> list[int]:
        import bm25s
        import Stemmer

        depth = min(depth, len(self.spans))
        lexical: list[int] = []
        if method in ("bm25", "rrf"):
            tokens = bm25s.tokenize([query], stopwords="en", stemmer=Stemmer.Stemmer("english"),
                                    show_progress=False, return_ids=False)
            if tokens and tokens[0]:
                scores = self.bm25.get_scores(tokens[0])
                lexical = [int(i) for i in np.argsort(-scores, kind="stable")[:depth] if scores[i] > 0]
        dense: list[int] = []
        if method in ("dense", "rrf"):
            _, ids = self.faiss.search(qvec[None, :], depth)
            dense = [int(i) for i in ids[0] if i >= 0]
        if method == "bm25":
            return lexical
        if method == "dense":
            return dense
        fused: dict[int, float] = {}
        for ranking in (lexical, dense):
            for r, i in enumerate(ranking, start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (60 + r)
        return sorted(fused, key=lambda i: (-fused[i], i))


def evaluate_baseline(evalset: EvalSet, embedder, questions: list[Question] | None = None,  # noqa: ANN001
                      sentences: bool = True) -> dict[str, dict[str, float]]:
    """Passage metrics for bm25 / dense / rrf, sentence hit@1 for each, build and median query times."""
    docs = evalset.documents
    assert docs is not None, "baseline needs the documents (load the corpus for Lyushkov sets)"
    embedder.embed_query("warm up")
    t0 = time.perf_counter()
    chunks = Units.build(docs, embedder)
    build_seconds = time.perf_counter() - t0
    sents = Units.build(docs, embedder, sentences=True) if sentences else None
    qs = [q for q in (questions or evalset.questions) if q.answerable]
    out: dict[str, dict[str, float]] = {}
    for method in ("bm25", "dense", "rrf"):
        ranks, sent_hits, times = [], [], []
        for q in qs:
            t = time.perf_counter()
            qvec = embedder.embed_query(q.text)
            ranked = chunks.rank(q.text, qvec, method)
            times.append((time.perf_counter() - t) * 1000)
            ranks.append(first_hit_rank(q, [chunks.spans[i] for i in ranked[:10]]))
            if sents is not None:
                top_sentence = sents.rank(q.text, qvec, method)[:1]
                sent_hits.append(first_hit_rank(q, [sents.spans[i] for i in top_sentence]) == 1)
        out[method] = {**rank_metrics(ranks), "sentence_hit@1": sum(sent_hits) / len(qs) if sent_hits else None,
                       "mean_passage_chars": statistics.fmean(e - s for _, s, e in chunks.spans),
                       "chunks": len(chunks.spans), "build_seconds": build_seconds,
                       "median_query_ms": statistics.median(times)}
    return out
