"""Check a text statement by statement against the corpus: which of its sentences the corpus states.

For a chatbot backend that prompted an LLM with ``/v1/context`` and got an answer back: each
sentence of the answer is looked up with ``locate`` (claims), and comes back with its own offsets
into the submitted text, whether it is supported, and the best match with its exact source
offsets. Citation markers such as ``[2]`` or ``[1, 3]`` are read off the sentence (they are not part
of the claim), and when the caller passes the citation table that ``/v1/context`` returned, each
statement says whether a passage it cites states it (``cited``: a match inside a cited span that
states the claim by ``locate``'s test), so a true sentence that cites the wrong passage is caught too.

A sentence that joins facts the corpus states in different sentences ("born in Odessa in 1900 and
joined the Cheka in 1920") is cut into its clauses (``rag.clauses``) unless a source sentence states it
verbatim, and is supported when every clause is: each clause comes back in ``parts`` with its own
offsets, lookup and matches. A paraphrase match of the whole is not enough for such a sentence, since it
may rest on one clause and leave the other unstated. ``locate_claim`` (``/v1/locate``) judges one claim the
same way.

Sentences of fewer than ``MIN_WORDS`` words ("Sure!", "In short:") state nothing to look up and are
left out; the offsets of the ones kept still point into the text as submitted.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.chunking import split_blocks, split_prose
from rag.clauses import Clause, clauses
from rag.errors import InvalidRequestError

if TYPE_CHECKING:  # the claims machinery loads when a text is checked, not when the limits are read
    from rag.claims import LocateResult, Match
    from rag.retrieval import Retriever

MAX_VERIFY_CHARS = 20_000  # longest text one request may check
MAX_STATEMENTS = 100  # most sentences one request may check
MIN_WORDS = 3  # shorter sentences are not checked
CITED_CANDIDATES = 10  # matches within the cited documents looked at for ``cited``
MAX_CLAUSES_CHECKED = 50  # clauses one request looks up on their own (each is a lookup, as a sentence is)
PART_MATCHES = 3  # matches returned for each clause of a sentence checked by its parts (at most ``k``)

# a citation marker: "[2]", "[1, 3]", "[2-4]" (at most three digits: "[1938]" is a bracketed year, not a marker)
_NUMBERS = r"\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*"
_MARKER = re.compile(rf"\s*\[({_NUMBERS})\]")
_WORD = re.compile(r"\w+")
_LEADING = re.compile(rf"(?:\[{_NUMBERS}\]\s*)+")
# a full stop (and closing quote or bracket) that markers follow with no space: "…fled.[1] He", "…fled."[1] He"
_GLUED = re.compile(rf"[.!?][\"'”’»)]*((?:\[{_NUMBERS}\])+)\s+(?=\S)")
_BULLET = re.compile(r"(?:[-*•+]|\d{1,3}[.)])\s+")
_EMPTY = re.compile(r"\[\s*\]")  # what "[[1]]" leaves


@dataclass(frozen=True)
class CitedSpan:
    """One row of a ``/v1/context`` citation table: marker ``n`` stands for ``doc_id[start:end]``."""

    n: int
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Part:
    """A clause of a sentence that no one source sentence states whole (``rag.clauses``), checked on its own."""

    start: int  # offsets into the submitted text: text[start:end] == part.text
    end: int
    text: str
    claim: str  # what was looked up: the clause, with the sentence's subject when it has none of its own
    markers: tuple[int, ...]  # its own citation numbers, or else the sentence's
    supported: bool
    cited: bool | None
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class ClaimPart:
    """A clause of a claim that no one source sentence states whole, looked up on its own (``locate_claim``)."""

    start: int  # offsets into LocateResult.claim (the API trims the claim it is sent): claim[start:end] == part.text
    end: int
    text: str
    claim: str  # what was looked up
    supported: bool
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class Statement:
    start: int  # offsets into the submitted text: text[start:end] == statement.text
    end: int
    text: str
    claim: str  # what was looked up: the sentence without its citation markers
    markers: tuple[int, ...]  # the citation numbers the sentence carries
    supported: bool  # the corpus states it: one sentence states it whole, or every one of its parts is stated
    cited: bool | None  # a passage it cites states it (each part, for a sentence supported by its parts)
    matches: tuple[Match, ...]
    parts: tuple[Part, ...] = ()  # its clauses, when no one source sentence states it whole


@dataclass(frozen=True)
class VerifyResult:
    statements: tuple[Statement, ...]
    supported: int  # statements supported
    unsupported: int
    uncut: int  # sentences checked whole though they join clauses: the request's MAX_CLAUSES_CHECKED were spent
    index_version: str
    took_ms: float


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        ends = [int(x) for x in re.split(r"\s*[–-]\s*", part) if x]
        if len(ends) == 2 and 0 <= ends[1] - ends[0] <= 50:
            out.extend(range(ends[0], ends[1] + 1))
        else:
            out.extend(ends)
    return out


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence span cut after a full stop that markers follow with no space ("…fled.[1] He was…"),
    which the sentence splitter keeps together."""
    out = []
    for m in _GLUED.finditer(text, start, end):
        if text[m.end()].islower():  # "U.S.[1] government": an abbreviation, not the end of a sentence
            continue
        out.append((start, m.end(1)))
        start = m.end()
    return [*out, (start, end)]


def _markers(span: str) -> list[int]:
    return [n for m in _MARKER.finditer(span) for n in _numbers(m.group(1))]


def _claim_text(span: str) -> str:
    """What is looked up for a sentence or clause: without its markers and bullet, spaces collapsed."""
    claim = " ".join(_EMPTY.sub(" ", _MARKER.sub(" ", span)).split())
    claim = _BULLET.sub("", claim, count=1) if _BULLET.match(claim) else claim
    return re.sub(r"\s+([.,;:!?])", r"\1", claim)  # "fled [1]." → "fled."


def statements(text: str) -> list[tuple[int, int, str, tuple[int, ...]]]:
    """The sentences of ``text`` worth checking: (start, end, claim without markers, marker numbers).

    Headings are not checked; a list item is split into its sentences like prose. Markers that open a
    sentence belong to the one before it in the same paragraph ("…fled. [1] He…"), or are dropped
    when that one was too short to check; markers that open a paragraph are its first sentence's.
    """
    out: list[tuple[int, int, str, tuple[int, ...]]] = []
    for block in split_blocks(text, 0, len(text)):
        previous_kept: bool | None = None  # None at the start of the paragraph
        for sentence in block:
            if sentence.kind == "heading":
                previous_kept = None
                continue
            spans = [(sentence.start, sentence.end)]
            if sentence.kind == "item":  # its sentences, after the bullet ("2. " would end a sentence)
                bullet = _BULLET.match(text, sentence.start, sentence.end)
                spans = list(split_prose(text, bullet.end() if bullet else sentence.start, sentence.end))
            for start, end in (piece for s, e in spans for piece in _pieces(text, s, e)):
                lead = _LEADING.match(text, start, end)
                if lead and previous_kept is not None:
                    if previous_kept:  # "…fled. [1] He was…": the markers follow the sentence before
                        s0, e0, claim0, before = out[-1]
                        numbers = [n for m in _MARKER.finditer(lead.group(0)) for n in _numbers(m.group(1))]
                        out[-1] = (s0, e0, claim0, tuple(dict.fromkeys(before + tuple(numbers))))
                    start = lead.end()
                span = text[start:end]
                markers = _markers(span)
                claim = _claim_text(span)
                previous_kept = len(_WORD.findall(claim)) >= MIN_WORDS
                if previous_kept:
                    out.append((start, end, claim, tuple(dict.fromkeys(markers))))
    return out


def _inside(match: Match, spans: Sequence[CitedSpan]) -> bool:
    return any(s.doc_id == match.doc_id and s.start < s.end and s.start < match.end and match.start < s.end
               for s in spans)


def _cited(retriever: Retriever, claim: str, matches: Sequence[Match], spans: Sequence[CitedSpan],
           doc_ids: Sequence[str] | None) -> bool:
    """Whether a passage the sentence cites states it: its best match, or else one of the ``CITED_CANDIDATES``
    best matches
    within the cited documents (an article often says a thing twice, in its lead and its body, and the
    sentence may cite the other place)."""
    from rag.claims import locate, states

    if matches and states(matches[0]) and _inside(matches[0], spans):
        return True
    cited_docs = {s.doc_id for s in spans if s.start < s.end} & set(retriever.index.documents)
    if doc_ids is not None:
        cited_docs &= set(doc_ids)
    if not cited_docs:
        return False
    local = locate(retriever, claim, k=CITED_CANDIDATES, doc_ids=sorted(cited_docs))
    return any(_inside(m, spans) and states(m) for m in local.matches)


_Check = Callable[[str, tuple[int, ...], int], tuple[bool, "bool | None", "tuple[Match, ...]"]]


def _check_clauses(text: str, start: int, found: Sequence[Clause], markers: tuple[int, ...], check: _Check,
                   k: int) -> list[Part]:
    """Each clause of the sentence at ``start`` in ``text`` looked up on its own, with its own markers (or else
    the sentence's)."""
    parts = []
    for clause in found:
        a, b = start + clause.start, start + clause.end
        part_markers = tuple(dict.fromkeys(_markers(text[a:b]))) or markers
        lookup = _claim_text(clause.lookup)
        parts.append(Part(a, b, text[a:b], lookup, part_markers, *check(lookup, part_markers, k)))
    return parts


def locate_claim(retriever: Retriever, claim: str, k: int = 3, *, doc_ids: Sequence[str] | None = None,
                 ) -> LocateResult:
    """``rag.claims.locate``, and for a claim that joins facts ("born in Odessa in 1900 and joined the Cheka in
    1920") which no source sentence states verbatim, its clauses (``rag.clauses``) looked up one by one: the
    claim is then supported when every clause is (``parts``, offsets into ``claim``), as ``verify`` judges a
    sentence. ``matches`` stay the whole claim's."""
    from rag.claims import locate

    t0 = time.perf_counter()
    result = locate(retriever, claim, k=k, doc_ids=doc_ids)
    if result.supported and result.matches[0].match != "paraphrase":
        return result

    def check(lookup: str, markers: tuple[int, ...], k: int) -> tuple[bool, bool | None, tuple[Match, ...]]:
        found = locate(retriever, lookup, k=k, doc_ids=doc_ids)
        return found.supported, None, found.matches

    parts = tuple(ClaimPart(p.start, p.end, p.text, p.claim, p.supported, p.matches)
                  for p in _check_clauses(claim, 0, clauses(claim), (), check, min(k, PART_MATCHES)))
    if not parts:
        return result
    return dataclasses.replace(result, supported=all(p.supported for p in parts), parts=parts,
                               took_ms=round((time.perf_counter() - t0) * 1000.0, 3))


def verify(retriever: Retriever, text: str, k: int = 1, *, citations: Sequence[CitedSpan] | None = None,
           doc_ids: Sequence[str] | None = None) -> VerifyResult:
    """Look up every sentence of ``text`` in the corpus (or the documents ``doc_ids``)."""
    from rag.claims import locate

    if k < 1:
        raise InvalidRequestError("k must be at least 1")
    if not text.strip():
        raise InvalidRequestError("text is empty: pass the answer or passage to check")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, decoded with surrogateescape (a pipe, a file)
        raise InvalidRequestError("text is not valid UTF-8: check the encoding of what was sent") from None
    if len(text) > MAX_VERIFY_CHARS:
        raise InvalidRequestError(f"text is {len(text)} characters; at most {MAX_VERIFY_CHARS} can be checked at once")
    found = statements(text)
    if len(found) > MAX_STATEMENTS:
        raise InvalidRequestError(f"text has {len(found)} sentences to check; at most {MAX_STATEMENTS} at once")
    table: dict[int, list[CitedSpan]] = {}
    for c in citations or ():
        table.setdefault(c.n, []).append(c)
    t0 = time.perf_counter()
    retriever.index.check_doc_ids(doc_ids)
    def check(claim: str, markers: tuple[int, ...], k: int = k) -> tuple[bool, bool | None, tuple[Match, ...]]:
        result = locate(retriever, claim, k=k, doc_ids=doc_ids)
        cited: bool | None = None
        if markers and citations is not None:
            spans = [s for n in markers for s in table.get(n, ())]
            cited = _cited(retriever, claim, result.matches, spans, doc_ids)
        return result.supported, cited, result.matches

    out = []
    budget, uncut = MAX_CLAUSES_CHECKED, 0
    for start, end, claim, markers in found:
        supported, cited, matches = check(claim, markers)
        parts: list[Part] = []
        if not (supported and matches[0].match != "paraphrase"):  # the source's own words need no cutting
            # "born in Odessa in 1900 and joined the Cheka in 1920": each clause is checked on its own, and
            # a sentence that can be cut is supported when every clause is (a paraphrase match of the whole
            # may rest on one clause and leave the other unstated)
            found_clauses = clauses(text[start:end])
            if len(found_clauses) > budget:
                uncut += 1
                found_clauses = []
            budget -= len(found_clauses)
            parts = _check_clauses(text, start, found_clauses, markers, check, min(k, PART_MATCHES))
            if parts:
                supported = all(p.supported for p in parts)
                cited = None if any(p.cited is None for p in parts) else all(p.cited for p in parts)
        out.append(Statement(start, end, text[start:end], claim, markers, supported, cited, matches, tuple(parts)))
    stated = sum(s.supported for s in out)
    return VerifyResult(tuple(out), stated, len(out) - stated, uncut, retriever.index.version,
                        (time.perf_counter() - t0) * 1000)
