"""Answer-type and hedging cues: what a question asks for, and what a sentence holds.

Cheap surface cues of the retrieval's sentence evidence (the answer ranker has its own, fitted with
``rag.calibration``'s question analysis):
a "when" question wants a sentence with a date (better: a year), "how many" one with a number,
"who"/"where" one naming something the question does not already name. A hedged sentence
("Some theories held that…", "reportedly") reports a claim rather than stating it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_ASKS_DATE = re.compile(r"^\s*when\b|\bwhen\s+(did|was|were|is|does|do|had|has|will)\b|"
                        r"\b(what|which|in what)\s+(year|years|date|day|month|century|decade)\b", re.I)
_ASKS_NUMBER = re.compile(r"\bhow\s+(many|much|long|far|old|large|big|high|tall|often)\b|"
                          r"\bwhat\s+(percentage|percent|number|proportion|fraction)\b", re.I)
_ASKS_PERSON = re.compile(r"\b(who|whom|whose)\b", re.I)
_ASKS_PLACE = re.compile(r"\bwhere\b|\b(what|which|in what)\s+(city|country|town|state|region|place|"
                         r"province|continent|island|river|county)\b", re.I)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_HAS_DATE = re.compile(rf"\b(1\d{{3}}|20\d{{2}})s?\b|\b({_MONTHS})\b|\bcentur(y|ies)\b|\b\d+(st|nd|rd|th)\b", re.I)
_HAS_YEAR = re.compile(r"\b(1\d{3}|20\d{2})s?\b|\b\d{3,4}\s*(bc|bce|ad|ce)\b", re.I)
_HAS_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                         r"forty|fifty|hundred|thousand|million|billion|dozen|half|several|percent)\b", re.I)
_HEDGE = re.compile(r"\b(reportedly|allegedly|supposedly|purportedly|rumou?r(s|ed)?|speculat\w*|theor(y|ies)|"
                    r"possibly|perhaps|may have|might have|could have|it is (believed|thought|said|claimed)|"
                    r"some (historians|sources|scholars|accounts|believe|say|claim|suggest))\b", re.I)
_REFERENCE = re.compile(r"^\W*(it|its|this|these|that|those|he|she|his|her|they|their|such)\b", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][\w-]*")
_WORD = re.compile(r"\w+")

KINDS = ("date", "number", "person", "place")


def answer_kind(question: str) -> str | None:
    """``date``, ``number``, ``person``, ``place`` or None: the kind of answer a question asks for."""
    for kind, pattern in (("number", _ASKS_NUMBER), ("date", _ASKS_DATE), ("person", _ASKS_PERSON),
                          ("place", _ASKS_PLACE)):
        if pattern.search(question):
            return kind
    return None


def has_date(text: str) -> bool:
    return bool(_HAS_DATE.search(text))


def has_year(text: str) -> bool:
    return bool(_HAS_YEAR.search(text))


def has_number(text: str) -> bool:
    return bool(_HAS_NUMBER.search(text))


def is_hedged(text: str) -> bool:
    """Whether a sentence reports a claim as uncertain or second-hand."""
    return bool(_HEDGE.search(text))


def starts_with_reference(text: str) -> bool:
    """Whether a sentence opens with a pronoun or demonstrative ("It is connected…", "This revolution…"):
    what it is about is named in an earlier sentence, so it shares fewer words with a question."""
    return bool(_REFERENCE.match(text))


def names(text: str) -> frozenset[str]:
    """Lower-cased capitalised words of a sentence, except its first word (capitalised anyway)."""
    found = set()
    for m in _CAPITALISED.finditer(text):
        if not _WORD.search(text[:m.start()]):
            continue
        found.add(m.group(0).lower())
    return frozenset(found)


def question_words(question: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(question))


class SentenceCues:
    """The cues of every sentence of an index, computed once; ``columns`` gives a question's cue
    features for some sentences: answer type, year, name, assertive (not hedged), length, reference."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.date = np.array([has_date(t) for t in texts], dtype=bool)
        self.number = np.array([has_number(t) for t in texts], dtype=bool)
        self.year = np.array([has_year(t) for t in texts], dtype=bool)
        self.assertive = np.array([not is_hedged(t) for t in texts], dtype=bool)
        self.reference = np.array([starts_with_reference(t) for t in texts], dtype=bool)
        self.length = np.array([min(len(t), 400) / 400.0 for t in texts], dtype=np.float32)
        self.names = [names(t) for t in texts]

    def columns(self, question: str, ids: np.ndarray, matches: np.ndarray | None) -> list[np.ndarray]:
        """``matches``: how many question words each sentence of the index has (the name cue is
        checked only where there is one: the other sentences do not compete)."""
        kind = answer_kind(question)
        none = np.zeros(len(ids), dtype=bool)
        typed = self.date[ids] if kind == "date" else self.number[ids] if kind == "number" else none
        year = self.year[ids] if kind == "date" else none
        name = none.copy()
        if kind in ("person", "place") and matches is not None:
            asked = question_words(question)
            for j in np.flatnonzero(matches[ids] >= 1):
                name[j] = bool(self.names[int(ids[j])] - asked)
        return [typed, year, name, self.assertive[ids], self.length[ids], self.reference[ids]]
