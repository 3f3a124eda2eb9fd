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
        numbers.append((m.start(), NumberValue(m.group(0), min(low, high), max(low, high))))
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
        if not s.numbers:
            unattested.append(cn.text)
            continue
        mid = (cn.low + cn.high) / 2
        sn = min(s.numbers, key=lambda v: abs(math.log1p(abs(mid)) - math.log1p(abs((v.low + v.high) / 2))))
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
