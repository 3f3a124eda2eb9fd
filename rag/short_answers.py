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
from bisect import bisect_right

from rag.cues import answer_kind

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
          r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?)")  # "May." ends a sentence, "Aug." abbreviates
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_ERA = r"(?:(?:BCE|BC|AD|CE)\b|B\.C\.(?:E\.)?|A\.D\.)"
_YEAR = rf"(?:\d{{1,4}}\s?{_ERA}|1\d{{3}}|20\d{{2}}|(?:AD|A\.D\.)\s?\d{{1,4}}(?!\d))"  # the era first: 1200 BC
_DATE = re.compile(
    r"\b(?<!\d[,.])(?:"  # not "000 BC" out of "1,000 BC"
    rf"{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}"  # 13 June 1938
    rf"|{_MONTH}\s+{_DAY},?\s+{_YEAR}"  # June 13, 1938
    rf"|{_MONTH},?\s+{_YEAR}"  # June 1938
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}"  # 13 June
    rf"|{_MONTH}\s+{_DAY}\b"  # June 13
    r"|\d{4}-\d{2}-\d{2}"  # 1945-08-19
    r"|(?:the\s+)?(?:early\s+|late\s+|mid-?)?\d{1,2}(?:st|nd|rd|th)"
    r"(?:(?:\s+(?:and|or|to)\s+|\s?[-–]\s?)\d{1,2}(?:st|nd|rd|th))?\s+centur(?:y|ies)"
    rf"(?:\s+{_ERA})?"
    rf"|(?:the\s+)?(?:early\s+|late\s+|mid-?)?(?:1\d{{3}}|20\d{{2}})s(?:\s+{_ERA})?"  # the 1930s
    rf"|(?:1\d{{3}}|20\d{{2}})[-–/]\d{{2}}(?![\d–/-]|\s?{_ERA})"  # 1973–74, 2008/09
    rf"|(?:mid-)?{_YEAR}"
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
    r")(?![\w]|[.,]\d)",  # "1,5 million" (a decimal comma) is not "1"
    re.IGNORECASE,
)
_YEAR_ONLY = re.compile(r"^(?:1\d{3}|20\d{2})$")
_RANGE = re.compile(r"\s?[-–—]\s?")  # "20,000-30,000", "1914–1918": one figure
# A hedge before a figure belongs to the answer: "around 1930" is not "1930".
_APPROX = re.compile(r"(?:\b(?:about|around|approximately|roughly|nearly|almost|over|some|more than|less than|"
                     r"fewer than|up to|at least|at most|circa|until|between)\s+|\bca?\.\s*)$", re.IGNORECASE)
# What a date question names ("in what year") narrows what counts as its answer.
_ASKS_YEAR = re.compile(r"\b(?:what|which)\s+years?\b", re.IGNORECASE)
_ASKS_MONTH = re.compile(r"\b(?:what|which)\s+month\b", re.IGNORECASE)
_ASKS_CENTURY = re.compile(r"\b(?:what|which)\s+century\b", re.IGNORECASE)
_ASKS_DAY = re.compile(r"\b(?:what|which)\s+(?:days?|dates?)\b|\bwhat\s+(?:was|is)\s+the\s+date\b", re.IGNORECASE)
_HAS_YEAR = re.compile(rf"\b(?:1\d{{3}}|20\d{{2}})s?\b|\b\d{{1,4}}\s?{_ERA}|\b(?:AD|A\.D\.)\s?\d{{1,4}}\b")
_HAS_MONTH = re.compile(rf"\b{_MONTH}(?!\w)")  # capitalised: not "married", "may", "march"
_WORD_BEFORE = re.compile(r"([A-Z][a-z]+)[ \t]+$")
_NAME_AFTER = re.compile(r"[ \t]+[A-Z][a-z]")
# capitalised words that may stand before a month in a date ("In June 1938", "Early March")
_BEFORE_MONTH = frozenset({"In", "On", "By", "Since", "Until", "From", "During", "Early", "Late", "Mid", "Last", "Next",
                           "Each", "Every", "Of", "The", "Before", "After", "Around", "About", "Between", "And", "Or",
                           "To", "Through", "Throughout", "That", "This", "Till", "Circa"})
_HAS_DAY = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?!\w)|\b{_MONTH}\s+{_DAY}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
                      r"|\b\d{1,2}([/.-])\d{1,2}\1\d{4}\b|\b\d{1,2}/\d{1,2}/\d{2}\b"  # 8/19/1945, 19.08.1945
                      r"|\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b")
_HAS_CENTURY = re.compile(r"\bcentur(?:y|ies)\b", re.IGNORECASE)
_BARE = re.compile(r"[$£€]?\d[\d,.]*")  # a figure without a unit or words
_BETWEEN = re.compile(r"\bbetween\s+", re.IGNORECASE)
_SKIP_NUMBER = re.compile(r"\bhow\s+often\b", re.IGNORECASE)
# Not a quantity or date of its own: a label's number ("No. 5", "page 245", "Flight 1549"), a figure
# joined to a word ("F-16", "COVID-19", "pre-1914"), a fraction's numerator ("two thirds"), a name's
# number ("Apollo 11": digits and numbers only; "Christmas 1914" is a date). A figure fused to another
# ("555-1234", "9/11") is not an answer either, but it is a second candidate.
_LABEL = re.compile(r"(?:\b(?:no|nos|nr|pp?|vol|op|fig)\.\s*|#\s*|\b(?:number|page|pages|chapter|section|article|"
                    r"verse|volume|issue|episode|season|route|highway|flight|room|platform|gate|track|opus|figure|"
                    r"table|psalm|paragraph|clause|part|scene|level|grade|type|class|model|category|phase|stage|"
                    r"step)\s+)", re.IGNORECASE)
_FRACTION = re.compile(r"[\s-]+(?:and\s+a\s+)?(?:halves|half|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?"
                       r"|eighths?|ninths?|tenths?)\b", re.IGNORECASE)
_PREFIXED = re.compile(r"[^\W\d][-–—/]$")  # "F-16", "COVID-19", "pre-1914": no figure of its own
_FUSED = re.compile(r"\d[-–—/]$")  # "555-1234", "10–15%" unjoined: still a figure, but which part answers?
_FUSED_AFTER = re.compile(r"[-–—/]\d")
_NAMED_BY = re.compile(r"\b([A-Z]\w*)[ \u00a0]")  # "Apollo 11", "Boeing 747", "Super Bowl 50"
# Words capitalised only because they open the sentence: "In 1918", "About 5,000", "Of 300 troops".
_LEADING = frozenset(re.findall(r"\w+", """
    a about after all almost an and approximately around as at barely before between but by c ca circa during each
    estimated every exactly fewer for from in just least less more nearly of on only over roughly since some than
    the then there these those through till to under until up with within"""))
# "the 1938 Munich Agreement": a year naming something answers only a question about that thing.
# "During the 2006 war, ..." dates the sentence by it, and so does a subject ("The 1923 earthquake
# killed..."): there the year answers.
_ATTRIBUTIVE = re.compile(r"\b(?:the|a|an|his|her|its|their|this|that)\s+$", re.IGNORECASE)
_DATED_BY = re.compile(r"\b(?:during|in|at|by|since|until|throughout|amid)\s+\w+\s+$", re.IGNORECASE)
_WINDOW = 40  # characters before a figure that a hedge can take (bounded: linear time)
# A life span after a name, the way encyclopedias open a biography: "Genrikh Samoilovich Lyushkov
# (Генрих Самойлович Люшков; 1900 - 19 August 1945)", "Nikola Tesla (10 July 1856 – 7 January 1943)".
# Its first date answers "When was he born?", its second "When did he die?". Names in other scripts or
# other notes may come first, after a ";" or ",". Only the parenthesis is scanned, and at most
# _SPAN_NOTE characters of notes: linear time.
_SPAN_NOTE = 120
_LIFESPAN = re.compile(
    rf"\((?:[^()]{{0,{_SPAN_NOTE}}}?[;,]\s*)?(?P<born>{_DATE.pattern})\s?[-–—]\s?(?P<died>{_DATE.pattern})\s*\)")
_ASKS_BIRTH = re.compile(r"\b(?:born|birth|birthday|birthdate)\b", re.IGNORECASE)
_ASKS_DEATH = re.compile(r"\b(?:die|died|dies|death|dead|killed|executed)\b", re.IGNORECASE)
_NAME_BEFORE = re.compile(r"((?:[A-Z][\w'’.-]*\s+){0,4}[A-Z][\w'’.-]*)\s*$")


def words_of(text: str) -> str:
    """The word characters of ``text``, case folded, one space apart (how a short answer is compared)."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def _ends(pattern: re.Pattern[str], sentence: str) -> set[int]:
    """Where the matches of ``pattern`` end: a figure starting there follows one (one pass, linear time)."""
    return {m.end() for m in pattern.finditer(sentence)}


def candidates(kind: str, sentence: str) -> list[tuple[int, int]]:
    """Spans of ``sentence`` holding an expression of ``kind`` (``date`` or ``number``)."""
    labels = _ends(_LABEL, sentence)
    if kind == "date":
        return [(a, b) for a, b in (m.span() for m in _DATE.finditer(sentence))
                if a not in labels and not _FRACTION.match(sentence, b)]
    if kind == "number":
        dates = [m.span() for m in _DATE.finditer(sentence) if re.search(r"[A-Za-z]|[-–/]", m.group(0)) or
                 _YEAR_ONLY.match(m.group(0))]
        date_ends = [d_end for _, d_end in dates]
        names = {m.end() for m in _NAMED_BY.finditer(sentence) if m.group(1).lower() not in _LEADING}
        out = []
        for m in _NUMBER.finditer(sentence):
            a, b = m.span()
            i = bisect_right(date_ends, a)  # the first date ending after a (dates do not overlap)
            if i < len(dates) and dates[i][0] < b and not _has_unit(m.group(0)):
                continue  # a year or a date, not a quantity
            if m.group(0).lower() == "one":
                continue  # "one of the first...": a pronoun far more often than a count
            if a in labels or a in names and sentence[a].isdigit() or _FRACTION.match(sentence, b):
                continue  # "No. 5", "Apollo 11", "two thirds"
            out.append((a, b))
        return out
    return []


def _has_unit(text: str) -> bool:
    return bool(re.search(r"[%a-z]\s*$", text.strip(), re.IGNORECASE)) and not re.fullmatch(
        rf"(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*", text.strip(), re.IGNORECASE)


_DATE_UNITS = (("year", _ASKS_YEAR, _HAS_YEAR), ("month", _ASKS_MONTH, _HAS_MONTH),
               ("century", _ASKS_CENTURY, _HAS_CENTURY), ("day", _ASKS_DAY, _HAS_DAY))
_HOLDS = {unit: has for unit, _asks, has in _DATE_UNITS}


def asked_date_unit(question: str) -> str:
    """The unit a date question names: "year" ("In what year…"), "month", "century", "day" ("On what
    date…", "What day…"), or "" (a plain "When…", or not a date question); the first one named when it
    names two ("What day did he die, and in what year?": day)."""
    found = [(m.start(), unit) for unit, asks, _has in _DATE_UNITS if (m := asks.search(question))]
    return min(found)[1] if found else ""


def holds_date_unit(unit: str, text: str) -> bool:
    """Whether ``text`` holds a date of ``unit`` (a day: "13 June", "June 13", "1945-08-19", "Monday"; a month
    that is no part of a name: not "Theresa May", "Jan Smuts", "The Long March"); any text does for the unit ""."""
    if not unit:
        return True
    if unit == "month":
        return any(_a_month(text, m) for m in _HAS_MONTH.finditer(text))
    has = _HOLDS.get(unit)
    return bool(has and has.search(text))


def _a_month(text: str, m: re.Match[str]) -> bool:
    before = _WORD_BEFORE.search(text, max(0, m.start() - 20), m.start())
    if before and before.group(1) not in _BEFORE_MONTH:
        return False  # "Theresa May", "The Long March"
    return not _NAME_AFTER.match(text, m.end())  # "Jan Smuts"


def _fits(question: str, text: str) -> bool:
    """Whether a date expression is of the kind a date question names ("in what year" wants a year)."""
    return holds_date_unit(asked_date_unit(question), text)


def _joined(sentence: str, spans: list[tuple[int, int]], kind: str) -> list[tuple[int, int]]:
    """Merge "20,000-30,000", "10–15%" (numbers) and "between 1945 and 1970" into one span. "From 1299 to
    1923" stays two dates: which one answers needs reading. Only two figures join ("1-2-3" is no range),
    which also keeps this linear in the sentence's length."""
    out: list[tuple[int, int]] = []
    between = _ends(_BETWEEN, sentence) if len(spans) > 1 else set()
    single = False  # whether out[-1] is one figure, not two joined
    for a, b in spans:
        if single and (_RANGE.fullmatch(sentence[out[-1][1]:a]) and _BARE.fullmatch(sentence[out[-1][0]:out[-1][1]])
                       and (_BARE.fullmatch(sentence, a, b) or kind == "number" and _BARE.match(sentence, a, b))
                       or out[-1][0] in between and sentence[out[-1][1]:a] == " and "):
            out[-1] = (out[-1][0], b)
            single = False
        else:
            out.append((a, b))
            single = True
    return out


def _hedged(sentence: str, a: int, b: int) -> tuple[int, int]:
    """Take in a hedge before the figure: "around 1930" is not "1930"."""
    m = _APPROX.search(sentence, max(0, a - _WINDOW), a)
    return (m.start() if m else a), b


def short_answer(question: str, sentence: str) -> tuple[int, int] | None:
    """The span of ``sentence`` that answers ``question``, when it can be found reliably, else None."""
    kind = answer_kind(question)
    if kind not in ("date", "number") or (kind == "number" and _SKIP_NUMBER.search(question)):
        return None
    asked = f" {words_of(question)} "
    if kind == "date":
        span = _life_date(question, asked, sentence)
        if span is not None:
            return span
    words = {w.rstrip("s") for w in asked.split()}
    first = re.search(r"\w", sentence)
    first_word = first.start() if first else -1
    found = [(a, b) for a, b in _joined(sentence, candidates(kind, sentence), kind)
             if f" {words_of(sentence[a:b])} " not in asked and (kind != "date" or _fits(question, sentence[a:b]))
             and not _PREFIXED.search(sentence, max(0, a - 2), a)
             and not _names_other(words, sentence, a, b, first_word)]
    if len(found) != 1:
        return None
    a, b = found[0]
    if _FUSED.search(sentence, max(0, a - 2), a) or _FUSED_AFTER.match(sentence, b):
        return None  # "555-1234": part of a figure the patterns do not know
    return _hedged(sentence, a, b)


def _life_date(question: str, asked: str, sentence: str) -> tuple[int, int] | None:
    """The birth or death date a question asks for, from the life span after the name the question
    uses ("When did Lyushkov die?" and "Genrikh Samoilovich Lyushkov (…; 1900 - 19 August 1945)")."""
    birth, death = bool(_ASKS_BIRTH.search(question)), bool(_ASKS_DEATH.search(question))
    if birth == death:
        return None
    found = []
    for m in _LIFESPAN.finditer(sentence):
        name = _NAME_BEFORE.search(sentence, max(0, m.start() - 80), m.start())
        if name and any(f" {w} " in asked for w in words_of(name.group(1)).split()):
            found.append(m.span("born" if birth else "died"))
    if len(found) != 1 or not _fits(question, sentence[found[0][0]:found[0][1]]):
        return None
    return found[0]


def _names_other(asked: set[str], sentence: str, a: int, b: int, first_word: int) -> bool:
    """Whether a bare year is part of a name ("the 1938 Munich Agreement") whose words (``asked``: the
    question's, without a plural s) the question does not use."""
    if not _YEAR_ONLY.match(sentence[a:b]):
        return False
    article = _ATTRIBUTIVE.search(sentence, max(0, a - 12), a)
    if article is None or _DATED_BY.search(sentence, max(0, a - 30), a) or article.start() == first_word:
        return False
    named = re.findall(r"\w+", sentence[b:b + _WINDOW])[:2]
    return not any(w.casefold().rstrip("s") in asked for w in named)
