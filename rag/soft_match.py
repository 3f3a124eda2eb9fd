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
``soft`` is the plain coverage and ``soft_min`` is 0 when a word is missing.
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
_WORD = re.compile(r"\w[\w'’-]*")


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
    for m in _WORD.finditer(text):
        tokens = tokenize(m.group(0))
        if not tokens or tokens[0] not in wanted:
            continue
        starts, ends = offsets[:, 0], offsets[:, 1]
        inside = np.nonzero((starts >= m.start()) & (ends <= m.end()) & (ends > starts))[0]
        if len(inside):
            out.setdefault(tokens[0], []).extend(int(i) for i in inside)
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
        value = 1.0 if token in sentence_tokens else similarity.get(token, 0.0)
        total += weight
        found += weight * value
        if token not in sentence_tokens:
            lowest = min(lowest, value)
    return (found / total if total else 0.0), lowest
