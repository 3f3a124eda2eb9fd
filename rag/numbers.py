"""Dates, years and numbers in text, and the conflicts between a claim's and a source's (pure functions)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + _MONTH + r")\.?(?:,?\s+(\d{3,4}))?\b", re.I)
_MONTH_DAY = re.compile(r"\b(" + _MONTH + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{3,4}))?\b", re.I)
_MONTH_YEAR = re.compile(r"\b(" + _MONTH + r")\.?,?\s+(\d{3,4})\b", re.I)
_YEAR = re.compile(r"(?<![\d,.])\b(1\d{3}|20\d{2})\b(?!,\d{3}|\.\d|s\b)")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:st|nd|rd|th)?(?![\d,]*\w)"
                     r"(?:\s*(?:-|–|—|to)\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\b)?"
                     r"(?:\s+(thousand|million|billion|trillion)\b)?", re.I)
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
# Cardinals written as words ("eleven-year-old", "twenty-one", "three hundred"). "one" alone is left out:
# it is a pronoun at least as often as a number ("one of the earliest", "the one who").
_UNITS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_WORD_VALUES = {"one": 1, **_UNITS, **_TEENS}  # "one" only after a ten ("twenty-one")
_WORD_SCALE = {"hundred": 1e2, **_SCALE}
_WORD_NUMBER = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:[-\s](" + "|".join(["one", *_UNITS]) + r"))?|("
    + "|".join([*_TEENS, *_UNITS]) + r"))(?:[-\s](hundred|thousand|million|billion))?\b", re.I)
_NEXT_WORD = re.compile(r"[-\s]+([A-Za-z]+)")


def _word_value(m: re.Match[str]) -> float:
    tens, unit, small, scale = (g.lower() if g else None for g in m.groups())
    value = _TENS[tens] + (_WORD_VALUES[unit] if unit else 0) if tens else _WORD_VALUES[small or ""]
    return value * (_WORD_SCALE[scale] if scale else 1.0)


def _word_after(text: str, end: int) -> str | None:
    """The word after position ``end`` of ``text``, lower-cased and singular ("-year-old" → "year")."""
    after = _NEXT_WORD.match(text, end)
    return after.group(1).lower().removesuffix("s") if after else None


@dataclass(frozen=True)
class DateValue:
    """A date or a bare year; missing parts are None."""

    text: str
    day: int | None
    month: int | None
    year: int | None

    def compatible(self, other: DateValue) -> bool:
        return all(a is None or b is None or a == b
                   for a, b in ((self.day, other.day), (self.month, other.month), (self.year, other.year)))

    def agreement(self, other: DateValue) -> int:
        return sum(a is not None and a == b for a, b in ((self.day, other.day), (self.month, other.month),
                                                         (self.year, other.year)))


@dataclass(frozen=True)
class NumberValue:
    """A number or a range ``low``–``high``."""

    text: str
    low: float
    high: float
    unit: str | None = None  # for a number written as a word: the word after it ("eleven-year-old" → "year")
    after: str | None = None  # for a number in digits: the word after it ("11 children" → "child")

    def compatible(self, other: NumberValue) -> bool:
        return self.low <= other.high and other.low <= self.high


@dataclass(frozen=True)
class Values:
    dates: tuple[DateValue, ...]
    numbers: tuple[NumberValue, ...]


def _month(name: str) -> int:
    name = name.lower().rstrip(".")
    return next(i for i, m in enumerate(_MONTH_NAMES, start=1) if m.startswith(name[:3]))


def _int(text: str | None) -> int | None:
    return int(text) if text else None


def extract(text: str) -> Values:
    """The dates (with bare years) and the other numbers mentioned in ``text``."""
    dates: list[tuple[int, DateValue]] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or b <= s for a, b in taken)

    def add(m: re.Match[str], value: DateValue) -> None:
        if free(m.start(), m.end()):
            taken.append((m.start(), m.end()))
            dates.append((m.start(), value))

    for m in _ISO.finditer(text):
        add(m, DateValue(m.group(0), int(m.group(3)), int(m.group(2)), int(m.group(1))))
    for m in _DAY_MONTH.finditer(text):
        if 1 <= int(m.group(1)) <= 31:
            add(m, DateValue(m.group(0), int(m.group(1)), _month(m.group(2)), _int(m.group(3))))
    for m in _MONTH_DAY.finditer(text):
        if 1 <= int(m.group(2)) <= 31:
            add(m, DateValue(m.group(0), int(m.group(2)), _month(m.group(1)), _int(m.group(3))))
    for m in _MONTH_YEAR.finditer(text):
        add(m, DateValue(m.group(0), None, _month(m.group(1)), int(m.group(2))))
    for m in _YEAR.finditer(text):
        add(m, DateValue(m.group(0), None, None, int(m.group(1))))
    numbers: list[tuple[int, NumberValue]] = []
    for m in _NUMBER.finditer(text):
        if not free(m.start(), m.end()):
            continue
        scale = _SCALE[m.group(3).lower()] if m.group(3) else 1.0
        low = float(m.group(1).replace(",", "")) * scale
        high = float(m.group(2).replace(",", "")) * scale if m.group(2) else low
        numbers.append((m.start(), NumberValue(m.group(0), min(low, high), max(low, high),
                                               after=_word_after(text, m.end()))))
    for m in _WORD_NUMBER.finditer(text):
        value = _word_value(m)
        numbers.append((m.start(), NumberValue(m.group(0), value, value, _word_after(text, m.end()) or "")))
    return Values(tuple(v for _, v in sorted(dates, key=lambda x: x[0])),
                  tuple(v for _, v in sorted(numbers, key=lambda x: x[0])))


@dataclass(frozen=True)
class Comparison:
    """Claim values the source contradicts (claim text, source text), and those it does not mention."""

    conflicts: tuple[tuple[str, str], ...]
    unattested: tuple[str, ...]


def compare(claim: str, source: str) -> Comparison:
    """Check every date and number of ``claim`` against ``source``.

    A claim value agrees when the source has a compatible one (``June 1938`` agrees with
    ``13 June 1938``; ``25,000`` with ``20,000-30,000``). Otherwise it conflicts with the most
    similar source value of the same type; when only the year of a date differs the conflict
    names the two years. A value whose type the source never mentions is *unattested*.
    """
    c, s = extract(claim), extract(source)
    conflicts: list[tuple[str, str]] = []
    unattested: list[str] = []
    for cd in c.dates:
        if any(cd.compatible(sd) for sd in s.dates):
            continue
        if not s.dates:
            unattested.append(cd.text)
            continue
        sd = max(s.dates, key=cd.agreement)
        others_agree = (cd.day is None or cd.day == sd.day) and (cd.month is None or cd.month == sd.month)
        if others_agree and cd.year is not None and sd.year is not None:
            conflicts.append((str(cd.year), str(sd.year)))
        else:
            conflicts.append((cd.text, sd.text))
    for cn in c.numbers:
        if any(cn.compatible(sn) for sn in s.numbers):
            continue
        # A number word ("two teams", "nine-year-old") is checked only against source numbers counting the
        # same thing ("eleven-year-old"): words like "two" often restate what the source says otherwise
        # ("both teams"), so a mismatch elsewhere is no evidence either way.
        pool = [sn for sn in s.numbers if sn.unit == cn.unit or sn.unit is None and sn.after == cn.unit] \
            if cn.unit is not None else list(s.numbers)
        if not pool:
            if cn.unit is None:
                unattested.append(cn.text)
            continue
        mid = (cn.low + cn.high) / 2
        sn = min(pool, key=lambda v: abs(math.log1p(abs(mid)) - math.log1p(abs((v.low + v.high) / 2))))
        conflicts.append((cn.text, sn.text))
    return Comparison(tuple(dict.fromkeys(conflicts)), tuple(dict.fromkeys(unattested)))


def restates(item: str, sentence: str) -> bool:
    """Whether prose ``sentence`` states the value of list item ``item`` (``- Died: 1945-08-19``):
    it has every non-numeric word of the value and agrees with (and attests) its dates and numbers."""
    from rag.lexical import tokenize

    value = item.split(":", 1)[-1]
    words = {t for t in tokenize(value) if not t.isdigit()}
    if not words <= set(tokenize(sentence)):
        return False
    check = compare(value, sentence)
    return not check.conflicts and not check.unattested
