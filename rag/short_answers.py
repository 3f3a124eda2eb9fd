"""Short answers: the date or number inside an answer sentence that a question asks for.

``ask`` answers with a whole sentence. When the question asks for a date ("When…", "In what year…")
or a quantity ("How many…", "How old…") and the sentence holds exactly one expression of that kind
that the question does not already contain, that expression is the short answer: a span inside the
sentence, so ``text[start:end] == short.text`` like every other span.

Two candidates, or none, give no short answer: choosing between "1938" and "1945" needs reading,
which pattern matching cannot do reliably. Names (who/where) are left out for the same reason: a
sentence usually names several people and places. docs/answers.md has the measurements
(``scripts/eval_short_answers.py``).
"""

from __future__ import annotations

import re

from rag.cues import answer_kind

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
          r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1\d{3}|20\d{2}|\d{1,4}\s?(?:BC|BCE|AD|CE)\b)"
_DATE = re.compile(
    r"\b(?:"
    rf"{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}"  # 13 June 1938
    rf"|{_MONTH}\s+{_DAY},?\s+{_YEAR}"  # June 13, 1938
    rf"|{_MONTH},?\s+{_YEAR}"  # June 1938
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}"  # 13 June
    rf"|{_MONTH}\s+{_DAY}\b"  # June 13
    r"|\d{4}-\d{2}-\d{2}"  # 1945-08-19
    r"|(?:the\s+)?(?:early\s+|late\s+|mid-?)?\d{1,2}(?:st|nd|rd|th)\s+centur(?:y|ies)(?:\s+(?:BC|BCE|AD|CE)\b)?"
    r"|(?:the\s+)?(?:early\s+|late\s+|mid-?)?(?:1\d{3}|20\d{2})s"  # the 1930s
    rf"|{_YEAR}"
    r")(?!\w)"
)
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
                 r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
                 r"|hundred|thousand|dozen")
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion))?"
_UNIT = (r"(?:\s*(?:%|percent|per\s+cent)"
         r"|\s+(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries"
         r"|km|kilometres?|kilometers?|miles?|metres?|meters?|feet|foot|inches|kg|kilograms?|tons?|tonnes?)\b)?")
_NUMBER = re.compile(
    r"(?<![\w.,])(?:"
    rf"[$£€]?\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?{_SCALE}{_UNIT}"  # 9,000 / $1,200.50 million
    rf"|[$£€]?\d+(?:\.\d+)?{_SCALE}{_UNIT}"
    rf"|(?:(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*){_SCALE}{_UNIT}"
    r")(?![\w])",
    re.IGNORECASE,
)
_YEAR_ONLY = re.compile(r"^(?:1\d{3}|20\d{2})$")
_RANGE = re.compile(r"\s?[-–—]\s?")  # "20,000-30,000", "1914–1918": one figure
# A hedge before a figure belongs to the answer: "around 1930" is not "1930".
_APPROX = re.compile(r"(?:\b(?:about|around|approximately|roughly|nearly|almost|over|some|more than|less than|"
                     r"fewer than|up to|at least|at most|circa|c\.|until|between)\s+)$", re.IGNORECASE)
# What a date question names ("in what year") narrows what counts as its answer.
_ASKS_YEAR = re.compile(r"\b(?:what|which)\s+year\b", re.IGNORECASE)
_ASKS_MONTH = re.compile(r"\b(?:what|which)\s+month\b", re.IGNORECASE)
_ASKS_CENTURY = re.compile(r"\b(?:what|which)\s+century\b", re.IGNORECASE)
_ASKS_DAY = re.compile(r"\b(?:what|which)\s+(?:day|date)\b", re.IGNORECASE)
_HAS_YEAR = re.compile(r"\b(?:1\d{3}|20\d{2})s?\b|\b\d{1,4}\s?(?:BC|BCE|AD|CE)\b")
_HAS_MONTH = re.compile(r"\b" + _MONTH, re.IGNORECASE)
_HAS_DAY = re.compile(rf"{_DAY}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+\d{{1,2}}\b|\d{{4}}-\d{{2}}-\d{{2}}")
_HAS_CENTURY = re.compile(r"centur")
_BARE = re.compile(r"[$£€]?\d[\d,.]*")  # a figure without a unit or words
_BETWEEN = re.compile(r"\bbetween\s+$", re.IGNORECASE)
_SKIP_NUMBER = re.compile(r"\bhow\s+often\b", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def candidates(kind: str, sentence: str) -> list[tuple[int, int]]:
    """Spans of ``sentence`` holding an expression of ``kind`` (``date`` or ``number``)."""
    if kind == "date":
        return [m.span() for m in _DATE.finditer(sentence)]
    if kind == "number":
        dates = [m.span() for m in _DATE.finditer(sentence) if re.search(r"[A-Za-z]|-", m.group(0)) or
                 _YEAR_ONLY.match(m.group(0))]
        out = []
        for m in _NUMBER.finditer(sentence):
            a, b = m.span()
            if any(a < d_end and d_start < b for d_start, d_end in dates) and not _has_unit(m.group(0)):
                continue  # a year or a date, not a quantity
            if m.group(0).lower() == "one":
                continue  # "one of the first...": a pronoun far more often than a count
            out.append((a, b))
        return out
    return []


def _has_unit(text: str) -> bool:
    return bool(re.search(r"[%a-z]\s*$", text.strip(), re.IGNORECASE)) and not re.fullmatch(
        rf"(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*", text.strip(), re.IGNORECASE)


def _fits(question: str, text: str) -> bool:
    """Whether a date expression is of the kind a date question names ("in what year" wants a year)."""
    for asks, has in ((_ASKS_YEAR, _HAS_YEAR), (_ASKS_MONTH, _HAS_MONTH), (_ASKS_CENTURY, _HAS_CENTURY),
                      (_ASKS_DAY, _HAS_DAY)):
        if asks.search(question):
            return bool(has.search(text))
    return True


def _joined(sentence: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge "20,000-30,000" and "between 1945 and 1970" into one span, and take in a hedge before it
    ("around 1930"). "From 1299 to 1923" stays two dates: which one answers needs reading."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and (_RANGE.fullmatch(sentence[out[-1][1]:a]) and _BARE.fullmatch(sentence[out[-1][0]:out[-1][1]])
                    and _BARE.fullmatch(sentence[a:b]) or _BETWEEN.search(sentence[:out[-1][0]])
                    and sentence[out[-1][1]:a] == " and "):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    hedged = []
    for a, b in out:
        m = _APPROX.search(sentence[:a])
        hedged.append((m.start() if m else a, b))
    return hedged


def short_answer(question: str, sentence: str) -> tuple[int, int] | None:
    """The span of ``sentence`` that answers ``question``, when it can be found reliably, else None."""
    kind = answer_kind(question)
    if kind not in ("date", "number") or (kind == "number" and _SKIP_NUMBER.search(question)):
        return None
    asked = f" {_norm(question)} "
    found = [(a, b) for a, b in _joined(sentence, candidates(kind, sentence))
             if f" {_norm(sentence[a:b])} " not in asked and (kind != "date" or _fits(question, sentence[a:b]))]
    if len(found) != 1:
        return None
    return found[0]
