"""Evidence features for answers and their fitted logistic models (fitted by scripts/calibrate_answers.py).

Two small logistic regressions, implemented with numpy:

* the *ranker* scores each candidate sentence: "does this sentence contain the answer?";
* the *confidence* model looks at the best sentence of a question (and how it stands out, how well
  it covers the question's words in meaning, ``rag.soft_match``, and whether it names what an identity
  question asks for, ``rag.identity``) and gives the calibrated probability that it answers the
  question; ``ask`` abstains below ``ABSTAIN_BELOW``. It is fitted on the SQuAD fold A world and the
  held-out Lyushkov questions (natural paraphrases, which SQuAD lacks); docs/answers.md.

Features never use the retriever's fused scores (whose weights are tuned elsewhere), only its
ranking, the index's vectors and BM25, and counts over the index's own vocabulary.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.aliases import described, descriptors
from rag.cues import kind_present, ranker_kind, ranker_question_words
from rag.identity import identity_focus, indefinite, unnamed
from rag.lexical import tokenize
from rag.short_answers import asked_date_unit, holds_date_unit
from rag.store import Index

log = logging.getLogger("rag.calibration")


# -- question analysis (the surface cues are rag.cues's answer-ranker set) ----------------------
@lru_cache(maxsize=1)
def _type_words() -> frozenset[str]:
    """Words that name the kind of answer ("what year", "the name of") rather than what it is about."""
    return frozenset(tokenize("date year day month time century decade name number amount percentage many much"))


@dataclass(frozen=True)
class QuestionInfo:
    """What a question asks for: its content tokens (stemmed) and the expected answer kind."""

    tokens: tuple[str, ...]
    words: frozenset[str]
    kind: str  # "date", "number", "person", "place", "reason" or "" when unknown
    date_unit: str = ""  # the unit a date question names ("year", "month", "century", "day"), or ""


def analyse_question(text: str) -> QuestionInfo:
    tokens = tuple(t for t in dict.fromkeys(tokenize(text)) if t not in _type_words())
    kind = ranker_kind(text)
    return QuestionInfo(tokens, ranker_question_words(text), kind, asked_date_unit(text) if kind == "date" else "")


# -- per-index statistics ------------------------------------------------------------------------
@dataclass(frozen=True)
class WordUsage:
    """How the corpus writes its words: the tokens (stems) it uses in lower case somewhere, and the words
    (lower-cased, as written) it capitalises inside sentences and never writes in lower case: names."""

    lowercase: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()

    def is_name(self, word: str) -> bool:
        """A word the corpus only ever capitalises ("Takeoka", "Odessa"), however the caller typed it.
        Compared as written (but for a possessive "'s"), not stemmed: "empirical" is not "Empire"."""
        return written(word) in self.names


def written(word: str) -> str:
    """A word as ``WordUsage.names`` compares it: lower case, without a possessive ending."""
    return re.sub(r"['’]s?$", "", word.lower())


@dataclass(frozen=True)
class CorpusStats:
    """Token sets and document frequencies of the index's sentences."""

    sentence_tokens: tuple[frozenset[str], ...]
    df: dict[str, int]
    n: int
    label_tokens: tuple[frozenset[str], ...]  # title and section words of each sentence
    usage: WordUsage = WordUsage()
    prefixes: frozenset[str] = frozenset()  # the first PREFIX letters of the index's longer tokens
    described: tuple[frozenset[str], ...] = ()  # description words of the names each sentence mentions (rag.aliases)

    def answer_tokens(self, sentence_id: int) -> frozenset[str]:
        """The tokens a sentence holds for the answer models: its own and the descriptions of the names it
        mentions ("Inna" holds "wife" where the document wrote "his Jewish wife, Inna"). Not for claims."""
        extra = self.described[sentence_id] if self.described else frozenset()
        return self.sentence_tokens[sentence_id] | extra if extra else self.sentence_tokens[sentence_id]

    def knows(self, token: str) -> bool:
        """Whether the index uses ``token`` or, for a word of PREFIX letters or more, a word that starts the
        same way ("american" for "america", "russian" for "russia", "germani" for "german")."""
        return token in self.df or (len(token) >= PREFIX and token[:PREFIX] in self.prefixes)

    def idf(self, token: str) -> float:
        df = self.df.get(token, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))


PREFIX = 5
_STATS: dict[tuple[str, str], CorpusStats] = {}
LOWER_WORD = re.compile(r"(?<![\w'’])[a-z][\w'’-]*")  # a word written in lower case
INNER_CAPITAL = re.compile(r"(?<=\s)[A-Z][\w'’-]*")  # a capitalised word that is not the text's first
_STATS_LOCK = threading.Lock()
_BUILDING: dict[tuple[str, str], threading.Lock] = {}  # a lock per generation whose statistics are being computed


def _descriptions(text: str, is_name: Callable[[str], bool], title: str) -> dict[str, frozenset[str]]:
    """``rag.aliases.descriptors`` of one document; none (and a warning in the log) if reading them fails, so that
    an extra the answer models can do without never stops ``ask``."""
    try:
        return descriptors(text, is_name, title)
    except Exception:  # noqa: BLE001 - logged; the document simply lends no descriptions
        log.warning("could not read the appositions of the document %r; it lends no descriptions", title,
                    exc_info=True)
        return {}


def corpus_stats(index: Index) -> CorpusStats:
    """Computed once per index generation, then cached: a few seconds for ~100k sentences (measured in review:
    200,070 sentences of 2,223 biographies, 4.9 s without the names' descriptions, 12.5 s with them).

    The computation holds a lock of its own generation only: requests on a generation already computed (the
    one being served while a new one is published) never wait for it; concurrent first requests on the same
    generation wait for one computation instead of each doing it."""
    key = (str(index.path), index.version)
    with _STATS_LOCK:
        stats = _STATS.get(key)
        if stats is not None:
            return stats
        building = _BUILDING.setdefault(key, threading.Lock())
    with building:
        with _STATS_LOCK:
            stats = _STATS.get(key)
        if stats is None:
            try:
                stats = _compute_stats(index)
                with _STATS_LOCK:
                    if len(_STATS) >= 4:
                        _STATS.pop(next(iter(_STATS)))
                    _STATS[key] = stats
            finally:
                with _STATS_LOCK:
                    _BUILDING.pop(key, None)
    return stats


def _compute_stats(index: Index) -> CorpusStats:
    tokens = tuple(frozenset(tokenize(s.text)) for s in index.sentences)
    df: dict[str, int] = {}
    for toks in tokens:
        for t in toks:
            df[t] = df.get(t, 0) + 1
    titles = {d: frozenset(tokenize(doc.title)) for d, doc in index.documents.items()}
    labels = tuple(titles[s.doc_id] | frozenset(tokenize(" ".join(index.sentence_section[i])))
                   for i, s in enumerate(index.sentences))
    lower: set[str] = set()
    upper: set[str] = set()
    for s in index.sentences:
        lower.update(LOWER_WORD.findall(s.text))
        upper.update(written(w) for w in INNER_CAPITAL.findall(s.text))
    usage = WordUsage(frozenset(t for w in lower for t in tokenize(w)), frozenset(upper - {written(w) for w in lower}))
    prefixes = frozenset(t[:PREFIX] for t in df if len(t) >= PREFIX)
    descriptions = {d: _descriptions(doc.text, usage.is_name, doc.title) for d, doc in index.documents.items()}
    try:
        names = described(((s.doc_id, s.text) for s in index.sentences), descriptions)
    except Exception:  # noqa: BLE001 - logged; the answer models do without descriptions
        log.warning("could not give sentences their names' descriptions", exc_info=True)
        names = ()
    return CorpusStats(tokens, df, len(tokens), labels, usage, prefixes, names)


# -- features --------------------------------------------------------------------------------------
SENTENCE_FEATURES = ("dense", "bm25", "coverage", "context_coverage", "chunk_rank", "kind_expected",
                     "kind_present", "log_chars", "is_item")
CONFIDENCE_FEATURES = ("ranker", "margin", "dense", "coverage", "context_coverage", "oov", "kind_missing", "soft",
                       "soft_min", "identity_missing", "unknown_name", "identity_indefinite")
# of the answer sentence (and the question's names): ``answer_features``
ANSWER_FEATURES = ("soft", "soft_min", "identity_missing", "unknown_name", "identity_indefinite")


def coverage(question: QuestionInfo, stats: CorpusStats, tokens: frozenset[str]) -> float:
    """IDF-weighted share of the question's content tokens found in ``tokens``."""
    if not question.tokens:
        return 0.0
    weights = [stats.idf(t) for t in question.tokens]
    found = sum(w for t, w in zip(question.tokens, weights, strict=True) if t in tokens)
    return found / sum(weights)


def sentence_features(index: Index, stats: CorpusStats, question: QuestionInfo, query_vector: np.ndarray,
                      sentence_ids: Sequence[int], chunk_ranks: Sequence[int], bm25: np.ndarray) -> np.ndarray:
    """One row of ``SENTENCE_FEATURES`` per candidate sentence."""
    rows = []
    dense = index.sentence_vectors[np.asarray(sentence_ids, dtype=np.int64)] @ query_vector
    for j, (sid, rank) in enumerate(zip(sentence_ids, chunk_ranks, strict=True)):
        sentence = index.sentences[sid]
        toks = stats.answer_tokens(sid)
        context = toks | stats.label_tokens[sid]
        if sid > 0 and index.sentences[sid - 1].doc_id == sentence.doc_id:
            context = context | stats.answer_tokens(sid - 1)
        expected = 1.0 if question.kind else 0.0
        if question.date_unit:  # "On what date…": a date of that unit ("13 June", "Monday"), not "June 1938"
            present = 1.0 if holds_date_unit(question.date_unit, sentence.text) else 0.0
        else:
            present = 1.0 if question.kind and kind_present(question.kind, sentence.text, question.words) else 0.0
        rows.append((float(dense[j]), float(bm25[sid]), coverage(question, stats, toks),
                     coverage(question, stats, context), 1.0 / rank, expected, present,
                     math.log1p(len(sentence.text)) / 6.0, 1.0 if sentence.kind == "item" else 0.0))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(SENTENCE_FEATURES))


def unknown_share(question: QuestionInfo, stats: CorpusStats) -> float:
    """IDF-weighted share of the question's content tokens that no sentence of the index contains."""
    weights = [stats.idf(t) for t in question.tokens]
    if not weights:
        return 1.0
    return sum(w for t, w in zip(question.tokens, weights, strict=True) if t not in stats.df) / sum(weights)


def answer_features(question_text: str, question: QuestionInfo, sentence: str, soft: tuple[float, float],
                    usage: WordUsage | None = None, known: Callable[[str], bool] = lambda token: True,
                    ) -> tuple[float, ...]:
    """``ANSWER_FEATURES`` of the answer sentence: its soft coverage (``rag.soft_match``), whether it
    mentions what an identity question asks to name without naming it (``rag.identity``; ``usage`` tells
    whether the sentence's first word is a name), whether the question names something the index never
    mentions (``unknown_names``; ``known``: whether the index uses a token), and whether the unnamed mention
    opens with "a"/"an" (``rag.identity.indefinite``)."""
    focus = identity_focus(question_text)
    missing = focus is not None and unnamed(sentence, focus, question.words,
                                            usage.is_name if usage is not None else None) is True
    new = missing and focus is not None and indefinite(sentence, focus)
    return (soft[0], soft[1], 1.0 if missing else 0.0, 1.0 if unknown_names(question_text, known) else 0.0,
            1.0 if new else 0.0)


_QUESTION_NAME = re.compile(r"(?<=[\s(\"“'])[A-Z][\w'’.-]*|\b[A-Z]{2,}\b")


def unknown_names(question_text: str, known: Callable[[str], bool]) -> tuple[str, ...]:
    """The names a question uses (capitalised words after its first, and acronyms) of which the index never
    uses a word: "Who was the first director of the *CIA*?". A question in other words brings words the
    article does not use; one about something else brings names it does not know."""
    out = []
    for m in _QUESTION_NAME.finditer(question_text[:MAX_NAME_SCAN]):
        tokens = tokenize(m.group(0))
        if tokens and not all(known(t) for t in tokens):
            out.append(m.group(0))
    return tuple(out)


MAX_NAME_SCAN = 2000  # characters of a question read for names


def confidence_features(ranker: np.ndarray, features: np.ndarray, unknown: float, answer: tuple[float, ...],
                        chosen: int | None = None) -> np.ndarray:
    """``CONFIDENCE_FEATURES`` of the chosen candidate (default: the ranker's best), given all candidates'
    ranker logits and features, and the answer sentence's ``answer_features``. The margin is the chosen
    candidate's logit less the best other one's: negative when the re-ranker (``RERANKER``) overruled."""
    names = SENTENCE_FEATURES
    top = int(np.argmax(ranker)) if chosen is None else chosen  # argmax: the first of equals, as a stable sort
    best = features[top]
    others = np.delete(ranker, top)
    margin = float(ranker[top] - others.max()) if len(others) else 4.0
    missing = best[names.index("kind_expected")] * (1.0 - best[names.index("kind_present")])
    return np.array([ranker[top], min(margin, 4.0), best[names.index("dense")],
                     best[names.index("coverage")], best[names.index("context_coverage")], unknown, missing,
                     *answer])


# -- logistic models ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Logistic:
    """``sigmoid(intercept + features @ coef)``."""

    intercept: float
    coef: tuple[float, ...]

    def logit(self, features: np.ndarray) -> np.ndarray:
        return self.intercept + np.asarray(features, dtype=np.float64) @ np.asarray(self.coef)

    def proba(self, features: np.ndarray) -> np.ndarray:
        return sigmoid(self.logit(features))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> Logistic:
    """L2-regularised logistic regression by Newton's method (the intercept is not penalised)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    design = np.hstack([np.ones((len(x), 1)), x])
    penalty = np.eye(design.shape[1]) * l2
    penalty[0, 0] = 0.0
    w = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = sigmoid(design @ w)
        grad = design.T @ (p - y) + penalty @ w
        hess = (design * (p * (1 - p))[:, None]).T @ design + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Logistic(float(w[0]), tuple(float(v) for v in w[1:]))


def fit_conditional_logit(groups: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = 1.0,
                          iterations: int = 100) -> Logistic:
    """Choose-one-of-several logistic model: maximises the softmax probability of each group's positives.

    Each group is (features of the candidates, boolean labels with at least one positive). Newton's
    method with backtracking; a per-group constant cancels out, so the intercept is 0.
    """
    groups = [(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64) / np.sum(y)) for x, y in groups]
    d = groups[0][0].shape[1]

    def loss(w: np.ndarray) -> float:
        total = 0.5 * l2 * float(w @ w)
        for x, t in groups:
            s = x @ w
            total -= float(t @ (s - s.max() - np.log(np.exp(s - s.max()).sum())))
        return total

    w = np.zeros(d)
    for _ in range(iterations):
        grad, hess = l2 * w, l2 * np.eye(d)
        for x, t in groups:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += x.T @ (p - t)
            mean = p @ x
            hess += (x * p[:, None]).T @ x - np.outer(mean, mean)
        step = np.linalg.solve(hess, grad)
        current, scale = loss(w), 1.0
        while loss(w - scale * step) > current and scale > 1e-6:
            scale /= 2
        w -= scale * step
        if float(np.abs(scale * step).max()) < 1e-8:
            break
    return Logistic(0.0, tuple(float(v) for v in w))


# Fitted by `scripts/calibrate_answers.py` on fold A of the SQuAD development worlds (500 answerable,
# 250 silent, 250 off-topic questions; see docs/answers.md) and validated on fold B. The ranker is a
# conditional logit (softmax over a question's candidates, so no intercept); the confidence model
# a logistic regression of "the chosen sentence contains the answer" over answerable and unanswerable
# questions. The threshold withholds 5% of the correct answers on fold A.
RANKER = Logistic(0.0, (4.7459, 0.9066, 2.3201, 2.6250, 2.6682, 0.0, 1.1839, 1.2769, -0.1054))
# When the ranker's two best candidates are less than RERANK_MARGIN logits apart, its RERANK_TOP best are
# re-ranked by RERANKER, which also reads their soft coverage (rag.soft_match): one model call for the question
# and those sentences, on about one question in six. Fitted on fold A's shortlists (--fit-reranker).
RERANK_FEATURES = SENTENCE_FEATURES + ("soft", "soft_min")
RERANK_MARGIN = 1.0
RERANK_TOP = 5
RERANKER = Logistic(0.0, (2.3186, 1.2662, -0.0413, 2.1778, 2.3444, 0.0, 1.3049, 0.1154, -0.0069, 2.5152, 1.6494))


def close_call(ranker: np.ndarray) -> bool:
    """Whether the ranker's two best candidates (logits ``ranker``) are less than RERANK_MARGIN apart: the
    re-ranker decides."""
    if len(ranker) < 2:
        return False
    second, first = np.sort(ranker)[-2:]
    return bool(first - second < RERANK_MARGIN)


def rerank_shortlist(ranker: np.ndarray) -> list[int]:
    """The positions of the ranker's RERANK_TOP best candidates, best first: what the re-ranker chooses from."""
    return [int(j) for j in np.argsort(-ranker, kind="stable")[:RERANK_TOP]]

CONFIDENCE = Logistic(-7.3179, (0.2027, 0.4764, 2.1152, -0.4670, 0.0673, 1.6061, 0.0383, 3.8612, 1.6114,
                                 -2.4306, -1.6762, -0.7183))
ABSTAIN_BELOW = 0.246
