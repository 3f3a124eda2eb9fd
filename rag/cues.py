"""Surface cues of questions and sentences: the kind of answer asked for, and what a sentence holds.

A "when" question wants a sentence with a date (better: a year), "how many" one with a number,
"who"/"where" one naming something the question does not already name. A hedged sentence
("Some theories held that…", "reportedly") reports a claim rather than stating it.

Two sets of definitions live here side by side, each fitted with the weights that use it:

* retrieval's (``answer_kind``, ``has_date``, ``has_year``, ``has_number``, ``names``,
  ``question_words``, ``SentenceCues``): features of ``rag.retrieval``, whose ``TUNING`` was fitted by
  ``scripts/eval_fit.py``;
* the answer ranker's (``ranker_kind``, ``ranker_question_words``, ``kind_present``): features of
  ``rag.calibration``, whose ``RANKER`` and ``CONFIDENCE`` were fitted by ``scripts/calibrate_answers.py``.

They differ (see the comment above the ranker's), so a sentence or question can get a different cue
from each. Only what is the same in both is shared (the year and century patterns, the word
pattern). Merging any other pair changes the features of one side or both: refit with
``scripts/eval_fit.py`` and ``scripts/calibrate_answers.py`` (and re-validate) before doing it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

# -- shared by both sets ------------------------------------------------------------------------
_YEAR = r"\b(?:1\d{3}|20\d{2})s?\b"  # 1000-2099, "1930s"
_CENTURY = r"\bcentur(?:y|ies)\b"
_WORD = re.compile(r"\w+")

# -- retrieval's cues ---------------------------------------------------------------------------
_ASKS_DATE = re.compile(r"^\s*when\b|\bwhen\s+(did|was|were|is|does|do|had|has|will)\b|"
                        r"\b(what|which|in what)\s+(year|years|date|day|month|century|decade)\b", re.I)
_ASKS_NUMBER = re.compile(r"\bhow\s+(many|much|long|far|old|large|big|high|tall|often)\b|"
                          r"\bwhat\s+(percentage|percent|number|proportion|fraction)\b", re.I)
_ASKS_PERSON = re.compile(r"\b(who|whom|whose)\b", re.I)
_ASKS_PLACE = re.compile(r"\bwhere\b|\b(what|which|in what)\s+(city|country|town|state|region|place|"
                         r"province|continent|island|river|county)\b", re.I)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_HAS_DATE = re.compile(rf"{_YEAR}|\b({_MONTHS})\b|{_CENTURY}|\b\d+(st|nd|rd|th)\b", re.I)
_HAS_YEAR = re.compile(rf"{_YEAR}|\b\d{{3,4}}\s*(bc|bce|ad|ce)\b", re.I)
_HAS_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                         r"forty|fifty|hundred|thousand|million|billion|dozen|half|several|percent)\b", re.I)
_HEDGE = re.compile(r"\b(reportedly|allegedly|supposedly|purportedly|rumou?r(s|ed)?|speculat\w*|theor(y|ies)|"
                    r"possibly|perhaps|may have|might have|could have|it is (believed|thought|said|claimed)|"
                    r"some (historians|sources|scholars|accounts|believe|say|claim|suggest))\b", re.I)
_REFERENCE = re.compile(r"^\W*(it|its|this|these|that|those|he|she|his|her|they|their|such)\b", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][\w-]*")

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


# -- the answer ranker's cues -------------------------------------------------------------------
# How they differ from retrieval's above (each difference is in the fitted weights of its side):
# * question kind: any "when" (not only "when did/was..." or a leading "when"); the kind of the question's
#   opening word when it has one (since the eleventh session: "How old was he *when*…" asks a number), else
#   date before number before person (the fixed precedence, which was all there was before),
#   "era"/"period", more "how ..." and "what ..." words, a "reason" kind ("why"), and only "where"
#   for places; matched on the lower-cased question;
# * date: abbreviated months ("Sept."), ordinals of 1-2 digits only, "decade(s)", "ago", "BC"/"AD";
# * number: teens, tens and plurals ("hundreds"), but not "several" or "percent";
# * names: apostrophes belong to a name ("O'Brien", compared without outer quotes), and a word
#   preceded only by digits or punctuation ("1938 Lyushkov fled") counts as the first word;
# * question words: found in the lower-cased question rather than lower-cased one by one (differs
#   only where lower-casing changes a character's word-ness, e.g. "İ").
_RANKER_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("date", re.compile(r"\bwhen\b|\b(?:what|which)\s+(?:year|years|date|day|month|century|decade|era|period)\b")),
    ("number", re.compile(r"\bhow\s+(?:many|much|long|old|far|tall|high|large|big|often|fast|heavy|wide|deep)\b"
                          r"|\b(?:what|which)\s+(?:percentage|percent|number|amount|proportion|population|size)\b")),
    ("person", re.compile(r"\b(?:who|whom|whose)\b")),
    ("place", re.compile(r"\bwhere\b")),
    ("reason", re.compile(r"\bwhy\b")),
)
_QUESTION_OPENS = re.compile(r"\W*(?:(?:in|on|at|from|to|for|by|during|of|with|since|until|after|before)\s+)?")
_RANKER_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
                  r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_RANKER_DATE = re.compile(_YEAR + r"|\b\d{1,2}(?:st|nd|rd|th)\b|" + _CENTURY + r"|\bdecades?\b"
                          r"|\b(?:" + _RANKER_MONTHS + r")\b|\b(?:ago|bc|bce|ad)\b", re.IGNORECASE)
_RANKER_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
                        r"|(?:thir|four|fif|six|seven|eigh|nine)teen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
                        r"|ninety|hundreds?|thousands?|millions?|billions?|dozens?|half")
_RANKER_NUMBER = re.compile(r"\d|\b(?:" + _RANKER_NUMBER_WORDS + r")\b", re.IGNORECASE)
_RANKER_REASON = re.compile(r"\b(?:because|since|due to|as a result|in order to|so that|owing to|therefore|thus|"
                            r"led to|caused|for fear|so as to"
                            # eleventh session: causes stated with a noun or a verb ("resulted from blame being
                            # assigned to him", "to prevent him from falling…", "fearing his own arrest")
                            r"|result(?:ed|ing)?\s+(?:from|in)|(?:a|the)\s+result\s+of|blam(?:e|ed|es|ing)"
                            r"|(?<!no\s)(?-i:reasons?)|(?:as\s+a|in)\s+consequence|in\s+(?:response|retaliation|protest)"
                            r"|to\s+(?:prevent|avoid|ensure)|in\s+an\s+(?:effort|attempt)\s+to|fearing|fear(?:ed|s)\s+(?:that|for)"
                            r"|prompt(?:ed|ing)|motivated\s+by|on\s+the\s+grounds\s+that)\b", re.IGNORECASE)
_RANKER_CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")
_SENTENCE_START = re.compile(r"^[\W\d_]*$")


def ranker_kind(question: str) -> str:
    """``date``, ``number``, ``person``, ``place``, ``reason`` or "" (unknown): the answer ranker's answer kind."""
    lowered = question.lower()
    opens = _QUESTION_OPENS.match(lowered)  # (always matches, if only the empty string)
    start = opens.end() if opens else 0
    for name, pattern in _RANKER_KINDS:  # the question's own word first: "How old was he *when*…" asks a number
        if pattern.match(lowered, start):
            return name
    # otherwise the fixed precedence: "The man *who* founded the NKVD died in what year?" asks a date
    return next((name for name, pattern in _RANKER_KINDS if pattern.search(lowered)), "")


def ranker_question_words(question: str) -> frozenset[str]:
    """The words of the lower-cased question, as ``kind_present`` compares names with them."""
    return frozenset(_WORD.findall(question.lower()))


def kind_present(kind: str, sentence: str, question_words: frozenset[str]) -> bool:
    """Whether ``sentence`` holds something of the expected kind (a date, a number, a name...)."""
    if kind == "date":
        return bool(_RANKER_DATE.search(sentence))
    if kind == "number":
        return bool(_RANKER_NUMBER.search(sentence))
    if kind == "reason":
        return bool(_RANKER_REASON.search(sentence))
    if kind in ("person", "place"):
        for m in _RANKER_CAPITALISED.finditer(sentence):
            if _SENTENCE_START.match(sentence[: m.start()]):
                continue  # the sentence's first word says nothing
            if m.group(0).lower().strip("'") not in question_words:
                return True
        return False
    return False
