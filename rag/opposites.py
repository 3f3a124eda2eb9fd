"""Opposites: a claim that says "lowest" where its source says "highest" about the same thing.

"Lyushkov was the lowest-ranking NKVD defector" shares every other word with "…becoming the
highest-ranking NKVD defector", so word overlap and embeddings call it a paraphrase. A closed list of
opposite words (superlatives and comparatives, first/last, before/after, directions, won/lost,
increased/decreased…) is checked here: the claim uses one pole, the source the other one *next to
the same content word* ("lowest-ranking" / "highest-ranking", "the first manned flight" / "the last
manned flight", "before the war" / "after the war"), and the source never uses the claim's pole and
the claim never uses the source's. That is reported like a number conflict: ``("lowest", "highest")``.

Not conflicts: an opposite about something else ("the largest city" against "the smallest
province"); a source that uses both poles ("from the first to the last"); a pole the claim denies
("was not the first") — polarity is ``rag.negation``'s.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.lexical import stem_word

NEIGHBOURS = 3  # how many words to look past on each side for the nearest content word

# each pair: the forms of one pole, the forms of the other
_PAIRS: tuple[tuple[str, str], ...] = (
    ("highest", "lowest"), ("higher", "lower"), ("largest biggest", "smallest"), ("larger bigger", "smaller"),
    ("greatest", "least"), ("most", "least fewest"), ("more", "less fewer"), ("first", "last final"),
    ("earliest", "latest"), ("earlier", "later"), ("oldest eldest", "youngest newest"), ("older elder", "younger"),
    ("best", "worst"), ("better", "worse"), ("maximum", "minimum"), ("longest", "shortest"),
    ("longer", "shorter"), ("before", "after"), ("north northern", "south southern"),
    ("east eastern", "west western"), ("northeast northeastern", "southwest southwestern"),
    ("northwest northwestern", "southeast southeastern"),
    ("increase increased increases increasing rise rises rose risen rising grew grown",
     "decrease decreased decreases decreasing fall falls fell fallen falling declined dropped"),
    ("win wins won winning", "lose loses lost losing"), ("victory victorious", "defeat defeated"),
    ("success successful successfully", "failure unsuccessful unsuccessfully"),
    ("legal", "illegal"), ("possible", "impossible"), ("majority", "minority"),
    ("above", "below"), ("inside", "outside"), ("upper", "lower"),
)
_WORD = re.compile(r"\d[\d,.]*\d|\w+(?:['’]\w+)*|[^\w\s-]")  # a hyphen joins: "highest-ranking"
_DENIALS = frozenset({"not", "never", "no"})


@lru_cache(maxsize=1)
def _poles() -> dict[str, tuple[tuple[frozenset[str], frozenset[str]], ...]]:
    """Each form → (the forms of its pole, the forms of the opposite pole), once per pair it is in
    ("lower": higher/lower and upper/lower)."""
    out: dict[str, list[tuple[frozenset[str], frozenset[str]]]] = {}
    for left, right in _PAIRS:
        a, b = frozenset(left.split()), frozenset(right.split())
        for own, other in ((a, b), (b, a)):
            for w in own:
                out.setdefault(w, []).append((own, other))
    return {w: tuple(v) for w, v in out.items()}


def _neighbours(words: list[str], i: int) -> set[str]:
    """The stems of the nearest content words before and after position ``i`` (not across punctuation;
    the opposite words themselves are passed over: "higher, lower" has none)."""
    poles = _poles()
    found: set[str] = set()
    for step in (-1, 1):
        k = i + step
        while 0 <= k < len(words) and abs(k - i) <= NEIGHBOURS and words[k][0].isalnum():
            stem = None if words[k] in poles else stem_word(words[k])
            if stem is not None:
                found.add(stem)
                break
            k += step
    return found


def opposite_conflicts(claim: str, source: str) -> tuple[tuple[str, str], ...]:
    """(claim's word, source's word) for each opposite the source uses next to a content word that is
    also next to the claim's word, where neither text uses the other's pole."""
    poles = _poles()
    said = [m.group(0) for m in _WORD.finditer(claim)]
    there = [m.group(0) for m in _WORD.finditer(source)]
    said_low, there_low = [w.lower() for w in said], [w.lower() for w in there]
    claim_forms, source_forms = frozenset(said_low), frozenset(there_low)
    beside: dict[str, dict[str, str]] = {}  # an opposite word of the source → its neighbours → as written
    for j, word in enumerate(there_low):
        if word in poles:
            for stem in _neighbours(there_low, j):
                beside.setdefault(word, {}).setdefault(stem, there[j])
    found: list[tuple[str, str]] = []
    for i, word in enumerate(said_low):
        if word not in poles or set(said_low[max(0, i - 2):i]) & _DENIALS:
            continue  # "was not the first": polarity is rag.negation's
        near = _neighbours(said_low, i)
        for own, other in poles[word]:
            if own & source_forms or other & claim_forms:
                continue
            hit = next((beside[w][stem] for w in sorted(other & beside.keys()) for stem in near
                        if stem in beside[w]), None)
            if hit is not None:
                found.append((said[i], hit))
                break
    return tuple(dict.fromkeys(found))
