"""Identity questions: "What was the name of Lyushkov's daughter?", "Which Tokyo hotel hosted…?".

Such a question asks which one: its answer is a name (or a quoted title) for the thing it names, its
*focus* ("daughter", "hotel"). A sentence that mentions the focus without naming it — "with his
eleven-year-old daughter", "arranged at a Tokyo hotel", "contacted an American publisher" — is on topic and
shares the question's words, yet does not answer it: the corpus is silent on the name. A sentence answers
in the way encyclopedias write it, with the name next to the focus: "his Jewish wife, Inna,", "the Junkers
aviation company", "a resort in Sochi".

``identity_focus`` reads the focus of "name of X", "title of X", "called"/"named" and "Which X" questions (the last word
of X before a verb, a relative word or a preposition); ``unnamed`` says whether a sentence mentions the focus
(by stem) with no name within ``WINDOW`` words of it, a name being a capitalised word that is not the
sentence's first, not a month or weekday, and not a word of the question. It is a feature of the confidence
model (rag.calibration, ``identity_missing``), not a rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.lexical import stem_word
from rag.roles import past_tense

WINDOW = 4  # words on either side of the focus in which a name identifies it
_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d+|[\"“”«»]")
_NAME_OF = re.compile(r"\b(?:name|title)s?\s+of\s+(?P<span>.+)", re.IGNORECASE)
_WHICH = re.compile(r"(?:^\W*|\b(?:in|at|on|from|to|for|with|by|of|behalf\s+of)\s+)which\s+(?P<span>.+)",
                    re.IGNORECASE)
_CALLED = re.compile(r"\bwhat\s+(?:was|is|were|are)\s+(?P<span>.+?)\s+(?:called|named|titled)\b", re.IGNORECASE)
# words that end the focus phrase: verbs and auxiliaries, relative words, prepositions, determiners
_STOPS = frozenset({"who", "whom", "whose", "which", "that", "where", "when", "did", "does", "do", "was", "were",
                    "is", "are", "had", "has", "have", "would", "could", "will", "can", "of", "in", "at", "on",
                    "for", "with", "by", "from", "to", "about", "after", "before", "during", "under", "into",
                    "the", "a", "an", "and", "or", "his", "her", "their", "its"})
_LEADING = frozenset({"the", "a", "an", "his", "her", "their", "its", "this", "that", "these", "those"})
# foci whose answer is no name: "which year", "which way", "what kind"
_NOT_NAMES = frozenset({"year", "years", "month", "day", "date", "century", "decade", "time", "way", "ways", "kind",
                        "type", "sort", "reason", "role", "part", "number", "amount", "percentage", "rank",
                        "position", "side", "language"})
_MONTHS = frozenset({"january", "february", "march", "april", "may", "june", "july", "august", "september",
                     "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
                     "saturday", "sunday"})


def identity_focus(question: str) -> str | None:
    """The stem of what an identity question asks to name, or None when it is no such question."""
    match = _NAME_OF.search(question) or _CALLED.search(question) or _WHICH.search(question)
    if match is None:
        return None
    words = [w for w in _WORD.findall(match.group("span")) if w not in "\"“”«»"]
    while words and words[0].lower() in _LEADING or words and re.fullmatch(r"[A-Z][\w-]*['’]s", words[0]):
        words = words[1:]  # "the", "Lyushkov's"
    phrase: list[str] = []
    for word in words:
        if word.lower() in _STOPS or (phrase and past_tense(word)):
            break
        if phrase and phrase[-1].islower() and word[:1].isupper():
            break  # "the cancer Ada died of": a new subject
        phrase.append(word)
    if not phrase or not phrase[-1].islower() or phrase[-1].lower() in _NOT_NAMES:
        return None  # "which year", "Which Lyushkov…": no common noun to name
    return stem_word(phrase[-1].lower()) or None


def unnamed(sentence: str, focus: str, question_words: frozenset[str],
            is_name: Callable[[str], bool] | None = None) -> bool | None:
    """True when ``sentence`` mentions the focus and names nothing next to it, False when a name (or a quote)
    stands within ``WINDOW`` words of a mention or the focus is itself part of a name ("the John W. Weeks
    Bridge"), None when it does not mention the focus at all. ``is_name`` says whether the sentence's first
    word is a name (the corpus never writes it in lower case: "Frontex, the agency…")."""
    words = [m.group(0) for m in _WORD.finditer(sentence)]
    if any(w[:1].isupper() and stem_word(w.lower()) == focus for w in words[1:]):
        return False  # "the Junkers Company", "Weeks Bridge"
    mentions = [i for i, w in enumerate(words) if w.islower() and stem_word(w) == focus]
    if not mentions:
        return None
    for i in mentions:
        for j in range(max(0, i - WINDOW), min(len(words), i + WINDOW + 1)):
            word = words[j]
            if word in "\"“”«»":
                return False
            if not word[:1].isupper() or word.lower() in _MONTHS or (j == 0 and not (is_name and is_name(word))):
                continue
            if re.sub(r"['’]s?$", "", word.lower()) not in question_words:
                return False
    return True
