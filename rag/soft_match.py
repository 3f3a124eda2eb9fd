"""Soft coverage: how well an answer sentence covers a question's words *in meaning*, from the embedding
model's contextual token vectors.

The confidence model (rag.calibration) once read coverage only lexically: the IDF-weighted share of the
question's content words that the sentence contains. A question in other words than the article's ("run
away" for "fled", "patronymic" for a middle name) shares few words with the sentence that answers it, so
right answers were withheld. Here each content word of the question gets its best cosine with the
sentence's token vectors (averaged over the word's word pieces; 1 when the sentence has the word itself):

* ``soft``: those values averaged with the words' IDF weights;
* ``soft_min``: the lowest value among the words the sentence lacks (1 when it lacks none): a question
  about something the sentence never mentions ("Which Tokyo *hotel*…") has one word nothing matches.

An embedder that gives no token vectors (a test double, a custom backend) gets the lexical values instead:
``soft`` is the plain coverage and ``soft_min`` is 0 when a word is missing. A word whose pieces the model
never read (past its 256 tokens) is left out of both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.lexical import tokenize

if TYPE_CHECKING:
    from rag.calibration import CorpusStats, QuestionInfo

# one text's word pieces: their character offsets (n × 2) and unit-length contextual vectors (n × dim)
TokenVectors = tuple[np.ndarray, np.ndarray]
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"  # combining marks (not \w)
_WORD = re.compile(rf"[\w{_MARKS}]+(?:['’-][\w{_MARKS}]+)*")


def token_vectors(embedder: object, texts: Sequence[str]) -> list[TokenVectors] | None:
    """The embedder's token vectors for ``texts``, or None when it has none to give."""
    method = getattr(embedder, "token_vectors", None)
    if method is None:
        return None
    return list(method(list(texts)))


def _word_pieces(text: str, question: QuestionInfo, offsets: np.ndarray) -> dict[str, list[int]]:
    """For each content token of the question, the positions of the word pieces of the words it comes from."""
    wanted = set(question.tokens)
    out: dict[str, list[int]] = {}
    starts, ends = offsets[:, 0], offsets[:, 1]
    for m in _WORD.finditer(text):
        tokens = [t for t in dict.fromkeys(tokenize(m.group(0))) if t in wanted]
        if not tokens:
            continue
        inside = np.nonzero((starts >= m.start()) & (ends <= m.end()) & (ends > starts))[0]
        for token in tokens:  # "run-away" gives "run" and "away" the pieces of the whole word
            if len(inside):
                out.setdefault(token, []).extend(int(i) for i in inside)
    return out


def soft_coverage(question_text: str, question: QuestionInfo, stats: CorpusStats, sentence_tokens: frozenset[str],
                  vectors: tuple[TokenVectors, TokenVectors] | None) -> tuple[float, float]:
    """(``soft``, ``soft_min``) of a sentence for a question; ``vectors``: the question's and the sentence's
    token vectors, or None for the lexical fallback."""
    if not question.tokens:
        return 0.0, 1.0
    similarity: dict[str, float] = {}
    if vectors is not None:
        (q_offsets, q_vectors), (_, s_vectors) = vectors
        if len(q_vectors) and len(s_vectors):
            sims = q_vectors @ s_vectors.T
            best = sims.max(axis=1)
            for token, positions in _word_pieces(question_text, question, q_offsets).items():
                similarity[token] = float(np.mean(best[positions]))
    total = found = 0.0
    lowest = 1.0
    for token in question.tokens:
        weight = stats.idf(token)
        if token not in sentence_tokens and vectors is not None and token not in similarity:
            continue  # no word piece read (past the model's 256 tokens): not counted either way
        value = 1.0 if token in sentence_tokens else similarity.get(token, 0.0)
        total += weight
        found += weight * value
        if token not in sentence_tokens:
            lowest = min(lowest, value)
    return (found / total if total else 0.0), lowest
