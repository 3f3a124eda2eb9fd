"""Extractive answers: the best evidence sentence with a calibrated confidence, or an abstention.

There is no generator: an answer is always a span of a stored document, ``text[start:end]``.
Candidate sentences come from the best-ranked chunks; a fitted ranker picks one (when its two best are
close, a re-ranker that also reads their soft coverage decides among its five best), and a fitted
confidence model says how likely it is to answer the question (``rag.calibration``). Below
``ABSTAIN_BELOW`` the service abstains rather than guess. For a when/how-many question the answer
also carries the date or figure asked for (``Answer.short``, rag.short_answers). ``locate`` (claims)
and ``build_context`` (LLM context) live in their own modules and are re-exported here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.calibration import (
    ABSTAIN_BELOW,
    CONFIDENCE,
    RANKER,
    RERANKER,
    CorpusStats,
    Logistic,
    QuestionInfo,
    analyse_question,
    answer_features,
    close_call,
    confidence_features,
    corpus_stats,
    rerank_shortlist,
    sentence_features,
    unknown_share,
)
from rag.claims import Conflict, LocateResult, Match, locate
from rag.context import ContextCitation, ContextResult, build_context
from rag.documents import Answer, Citation, Passage, ShortAnswer, citation_label
from rag.errors import InvalidRequestError
from rag.retrieval import Query, Retriever, restating_prose
from rag.short_answers import short_answer
from rag.soft_match import soft_coverage, token_vectors
from rag.store import Index

CANDIDATE_CHUNKS = 8  # sentences of this many best chunks compete for the answer

__all__ = [
    "AskResult", "Conflict", "ContextCitation", "ContextResult", "Evidence", "LocateResult", "Match",
    "answer_hits", "ask", "build_context", "gather_evidence", "locate",
]


@dataclass(frozen=True)
class AskResult:
    question: str
    answerable: bool
    answer: Answer | None
    passages: tuple[Passage, ...]
    index_version: str
    took_ms: float
    min_confidence: float  # the threshold this answer was held to (below it the service abstains)


@dataclass(frozen=True)
class Evidence:
    """Everything ``ask`` decides from: candidates, their features, ranker logits, and the confidence."""

    query: Query
    question: QuestionInfo
    chunk_ids: np.ndarray  # ranked chunk indices
    chunk_scores: np.ndarray
    sent_lex: np.ndarray
    sentence_ids: tuple[int, ...]  # candidate sentences
    features: np.ndarray
    ranker: np.ndarray  # ranker logit per candidate
    best: int  # position of the cited candidate (-1 when there is none)
    unknown: float  # share of the question's (IDF-weighted) words that the index never uses
    confidence: float
    answer: tuple[float, ...] = (0.0, 1.0, 0.0, 0.0, 0.0)  # the answer sentence's ANSWER_FEATURES (rag.calibration)
    top: int = -1  # position of the ranker's (or re-ranker's) choice, before a list item gives way to prose
    reranked: bool = False  # whether the re-ranker decided (the ranker's two best were close)


def gather_evidence(retriever: Retriever, question: str, chunks: int = CANDIDATE_CHUNKS, *,
                    ranker: Logistic = RANKER, confidence: Logistic = CONFIDENCE,
                    doc_ids: Sequence[str] | None = None, reranker: Logistic | None = RERANKER) -> Evidence:
    """Rank chunks (of ``doc_ids`` only, when given), score their sentences, pick the best one (the ranker's,
    or the re-ranker's among its RERANK_TOP best when its two best are close; ``reranker=None``: never) and
    estimate its confidence."""
    query = retriever.prepare(question)
    info = analyse_question(query.text)
    ranked, scores, sent_lex = retriever.rank(query, chunks, doc_ids=doc_ids)
    index = retriever.index
    seen: dict[int, int] = {}
    for rank, ci in enumerate(ranked.tolist(), start=1):
        for sid in index.chunks[ci].sentence_ids:
            if index.sentences[sid].kind != "heading" and sid not in seen:
                seen[sid] = rank
    sids = tuple(seen)
    if not sids:
        empty = np.zeros((0, 0))
        return Evidence(query, info, ranked, scores, sent_lex, (), empty, np.zeros(0), -1, 1.0, 0.0)
    stats = corpus_stats(index)
    feats = sentence_features(index, stats, info, query.vector, sids, [seen[s] for s in sids], sent_lex)
    logits = ranker.logit(feats)
    top, reranked = int(np.argmax(logits)), False
    known: dict[int, tuple[float, float]] = {}  # soft coverage already read, by candidate
    if reranker is not None and close_call(logits):
        shortlist = rerank_shortlist(logits)
        softs = shortlist_soft(retriever, query.text, info, stats, [sids[j] for j in shortlist])
        if softs is not None:
            top, reranked = shortlist[int(np.argmax(reranker.logit(np.hstack([feats[shortlist], softs]))))], True
            known = {j: (float(a), float(b)) for j, (a, b) in zip(shortlist, softs, strict=True)}
    best = prefer_prose(index, sids, logits, top)
    unknown = unknown_share(info, stats)
    soft = known.get(best) or answer_soft_coverage(retriever, query.text, info, stats, sids[best])
    answer = answer_features(query.text, info, index.sentences[sids[best]].text, soft, stats.usage, stats.knows)
    conf = float(confidence.proba(confidence_features(logits, feats, unknown, answer, top)[None, :])[0])
    return Evidence(query, info, ranked, scores, sent_lex, sids, feats, logits, best, unknown, conf, answer, top,
                    reranked)


def shortlist_soft(retriever: Retriever, question: str, info: QuestionInfo, stats: CorpusStats,
                   sentence_ids: Sequence[int]) -> np.ndarray | None:
    """``soft_coverage`` of several candidate sentences (rows: soft, soft_min), from one model call for the
    question and the sentences that lack a word of it (none when every sentence has every word: then the values
    are exact without the model); None when that call is needed and the embedder gives no token vectors."""
    out = np.zeros((len(sentence_ids), 2))
    tokens = [stats.answer_tokens(sid) for sid in sentence_ids]
    need = [k for k, toks in enumerate(tokens) if not all(t in toks for t in info.tokens)]
    vectors = token_vectors(retriever.embedder, [question] + [retriever.index.sentences[sentence_ids[k]].text
                                                            for k in need]) if need else []
    if vectors is None:
        return None
    pieces = {k: vectors[n + 1] for n, k in enumerate(need)}
    for k, toks in enumerate(tokens):
        pair = (vectors[0], pieces[k]) if k in pieces else None
        out[k] = soft_coverage(question, info, stats, toks, pair)
    return out


def answer_soft_coverage(retriever: Retriever, question: str, info: QuestionInfo, stats: CorpusStats,
                         sentence_id: int) -> tuple[float, float]:
    """``rag.soft_match.soft_coverage`` of one candidate sentence (``shortlist_soft`` of it alone); the lexical
    values when the embedder gives no token vectors."""
    rows = shortlist_soft(retriever, question, info, stats, [sentence_id])
    if rows is None:
        return soft_coverage(question, info, stats, stats.answer_tokens(sentence_id), None)
    return float(rows[0, 0]), float(rows[0, 1])


def prefer_prose(index: Index, sentence_ids: tuple[int, ...], logits: np.ndarray, best: int) -> int:
    """When the winner is a list item (an infobox line such as ``- Died: 1945-08-19``), cite instead
    the best-ranked prose sentence that states the same values, if any (``restating_prose``)."""
    order = [best, *(int(j) for j in np.argsort(-logits, kind="stable") if j != best)]
    prose = restating_prose(index, [sentence_ids[j] for j in order])
    return order[prose] if prose is not None else best


def ask(retriever: Retriever, question: str, k: int = 5, min_confidence: float | None = None,
        doc_ids: Sequence[str] | None = None) -> AskResult:
    """Answer ``question`` with one cited span of the corpus, or abstain (``answer`` is None).

    With ``doc_ids`` the answer and its passages come from those documents only (an empty list: none).
    The service abstains when the answer's confidence is below ``min_confidence`` (default: the
    calibrated ``ABSTAIN_BELOW``). A lower value answers more paraphrased questions and guesses on more
    questions the corpus is silent on; docs/answers.md has the trade-off measured at several values.
    """
    if k < 1:
        raise InvalidRequestError("k must be at least 1")
    threshold = ABSTAIN_BELOW if min_confidence is None else min_confidence
    if not 0.0 <= threshold <= 1.0:  # also refuses NaN
        raise InvalidRequestError(f"min_confidence must be between 0 and 1, not {min_confidence}")
    if not question.strip():
        raise InvalidRequestError("question is empty: ask something, e.g. 'When was Lyushkov born?'")
    t0 = time.perf_counter()
    ev = gather_evidence(retriever, question, max(k, CANDIDATE_CHUNKS), doc_ids=doc_ids)
    passages = tuple(retriever.passage(ev.query, int(c), rank, float(s), ev.sent_lex)
                     for rank, (c, s) in enumerate(zip(ev.chunk_ids[:k], ev.chunk_scores[:k], strict=True), start=1))
    answer = None
    if ev.best >= 0 and round(ev.confidence, 4) >= threshold:  # as reported, so callers can re-check it
        answer = make_answer(retriever, ev.sentence_ids[ev.best], ev.confidence, question)
    return AskResult(question, answer is not None, answer, passages, retriever.index.version,
                     round((time.perf_counter() - t0) * 1000.0, 3), threshold)


def make_answer(retriever: Retriever, sentence_id: int, confidence: float, question: str) -> Answer:
    """The answer citing sentence ``sentence_id``, with its short answer to ``question`` when there is one."""
    index = retriever.index
    sentence = index.sentences[sentence_id]
    doc = index.documents[sentence.doc_id]
    section = index.sentence_section[sentence_id]
    citation = Citation(doc.doc_id, doc.title, section, sentence.start, sentence.end,
                        citation_label(doc.title, section), doc.url)
    text = doc.text[sentence.start:sentence.end]
    span = short_answer(question, text)
    short = None
    if span is not None:
        a, b = sentence.start + span[0], sentence.start + span[1]
        short = ShortAnswer(doc.text[a:b], a, b)
    return Answer(text, doc.doc_id, sentence.start, sentence.end, round(confidence, 4), citation, short)


def answer_hits(answer_start: int, answer_end: int, text: str, gold_start: int, gold_end: int,
                gold_answer: str | None = None) -> bool:
    """Whether an answer span is correct against gold evidence ``text[gold_start:gold_end]``.

    Correct when the span overlaps at least half of the gold evidence, or lies inside the
    evidence and contains the gold answer (case-insensitively).
    """
    if answer_end <= answer_start or gold_end <= gold_start:
        return False
    overlap = min(answer_end, gold_end) - max(answer_start, gold_start)
    if overlap * 2 >= gold_end - gold_start:
        return True
    inside = gold_start <= answer_start and answer_end <= gold_end
    return bool(inside and gold_answer and gold_answer.casefold() in text[answer_start:answer_end].casefold())
