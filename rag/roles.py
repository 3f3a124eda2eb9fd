"""Roles: a claim that puts the same names in each other's places ("Lyushkov executed Takeoka" against
"Takeoka executed Lyushkov", "Lyushkov was Takeoka's handler" against "Takeoka, … Lyushkov's handler").

Such a claim has the source's words, so overlap and embeddings call it a paraphrase. Without a parser,
roles are read from what stands next to a name: the nearest content word before it and after it, as
written, with the function words in between ("executed ▢", "▢'s handler", "gathered by ▢"). Each is
a *slot*. The word is compared as written, not stemmed: "▢ designed" (a subject) is not "▢ design"
(a modifier, "the Apollo design"), nor "▢ replacing" "▢ replaced". When
a slot that the claim and the source both have is filled by one of the claim's names in the claim and
only by another of the claim's names in the source, the roles are swapped: a conflict, reported like a
number conflict, ``("executed Takeoka", "executed Lyushkov")``.

What is not read is no evidence either way: a pronoun in the slot ("he executed Lyushkov"), an active
claim against a passive source (their slots differ: "shot ▢" / "shot by ▢"), a name the claim does not
use, a name before a verb that "by" follows ("Elway replaced by Kubiak"), a slot after a verb that goes
both ways ("met", "married"), and names joined by "and", "or" or a
comma, which share their slots ("Harvard and Radcliffe" against "Radcliffe and Harvard").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rag.lexical import EXTRA_STOPWORDS, stem_word

# A word (a possessive ending split off: "Takeoka's" → "Takeoka", "'s"), or a mark that ends a slot.
_TOKEN = re.compile(r"(?P<word>[^\W\d_](?:[\w-]*[^\W_])?)(?P<pos>['’]s\b|(?<=s)['’](?!\w))?|(?P<mark>[^\w\s'’])")
_COORDINATION = frozenset({"and", "or", "nor", "&", ","})
_MAX_FUNCTION_WORDS = 3
# Verbs and nouns whose two sides can be swapped without changing what is said.
_SYMMETRIC = ("meet", "met", "marry", "married", "wed", "divorce", "fight", "fought", "battle", "ally", "allied",
              "befriend", "partner", "collaborate", "cooperate", "negotiate", "correspond", "compete", "play", "face",
              "tie", "draw", "border", "neighbour", "neighbor", "resemble", "equal", "match", "differ", "versus", "vs",
              "merge", "merger", "treaty", "war", "relations", "talks", "alliance", "rivalry", "together", "both")


@lru_cache(maxsize=1)
def _symmetric() -> frozenset[str]:
    return frozenset(stem_word(w) or w for w in _SYMMETRIC)


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    from rag.lexical import _stopwords

    return _stopwords() | EXTRA_STOPWORDS | {"'s"}


@dataclass(frozen=True)
class _Token:
    text: str  # as written ("'s" for either possessive ending)
    start: int
    end: int
    kind: str  # "name", "function", "content" or "mark"
    name: int | None = None  # which of the claim's names this name is (None: not one of them)


def _written(word: str) -> str:
    """How a name's word is compared: its stem, so "Bolsheviks" is the "Bolshevik" of "Bolshevik Party"."""
    return stem_word(word) or word.casefold()


def _tokens(text: str, is_name: dict[str, int], capitalised_names: bool) -> list[_Token]:
    """``text`` as tokens; a word is a name when ``is_name`` knows it, or (``capitalised_names``) when it
    is capitalised and not the text's first word."""
    out: list[_Token] = []
    function = _function_words()
    for m in _TOKEN.finditer(text):
        if m.group("mark"):
            out.append(_Token(m.group("mark"), m.start(), m.end(), "mark"))
            continue
        word = m.group("word")
        known = is_name.get(_written(word))
        if known is not None or (capitalised_names and word[0].isupper() and out):
            out.append(_Token(word, m.start("word"), m.end("word"), "name", known))
        else:
            lower = word.lower()
            out.append(_Token(word, m.start("word"), m.end("word"), "function" if lower in function else "content"))
        if m.group("pos"):
            out.append(_Token("'s", m.start("pos"), m.end("pos"), "function"))
    return out


def _runs(tokens: list[_Token]) -> list[tuple[int, int]]:
    """Name groups as token ranges [i, j): adjacent names ("Genzo Yanagita") and names joined by "and",
    "or" or commas ("Harvard and Radcliffe") are one group, whose members share its slots."""
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind != "name":
            i += 1
            continue
        j = i
        while j < len(tokens) and tokens[j].kind == "name":
            j += 1
        if groups:
            gi, gj = groups[-1]
            between = tokens[gj:i]
            if between and all(t.text.lower() in _COORDINATION for t in between):
                groups[-1] = (gi, j)
                i = j
                continue
        groups.append((i, j))
        i = j
    return groups


def _slot(tokens: list[_Token], edge: int, step: int) -> tuple[tuple[str, str, tuple[str, ...]], int] | None:
    """The slot next to a name group: (side, content word's stem, function words between) and where the
    content word is; None when a mark or another name comes first, or the text ends."""
    functions: list[str] = []
    k = edge
    while 0 <= k < len(tokens):
        t = tokens[k]
        if t.kind == "content":
            word = t.text.casefold()
            if (stem_word(t.text) or word) in _symmetric():
                return None
            if step > 0 and not functions and k + 1 < len(tokens) and tokens[k + 1].text.lower() == "by":
                return None  # "Elway replaced by Kubiak": the name before the verb is its object here
            words = tuple(functions) if step > 0 else tuple(reversed(functions))
            return ("R" if step > 0 else "L", word, words), k
        if t.kind != "function" or len(functions) >= _MAX_FUNCTION_WORDS:
            return None
        functions.append(t.text.lower())
        k += step
    return None


def _slots(text: str, tokens: list[_Token]) -> dict[tuple[str, str, tuple[str, ...]], tuple[set[int], str]]:
    """Every slot next to a group holding one of the claim's names: the names in it, and its words."""
    found: dict[tuple[str, str, tuple[str, ...]], tuple[set[int], str]] = {}
    for i, j in _runs(tokens):
        names = {t.name for t in tokens[i:j] if t.kind == "name" and t.name is not None}
        if not names:
            continue
        for edge, step in ((j, 1), (i - 1, -1)):
            slot = _slot(tokens, edge, step)
            if slot is None:
                continue
            key, k = slot
            a, b = (tokens[i].start, tokens[k].end) if step > 0 else (tokens[k].start, tokens[j - 1].end)
            held, words = found.get(key, (set(), text[a:b]))
            found[key] = (held | names, words)
    return found


def role_conflicts(claim: str, source: str, names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(claim's words, source's words) for each slot the claim gives one of its ``names`` and the source only
    another of them: "executed Takeoka" against "executed Lyushkov". ``names``: the claim's names
    (``rag.attestation.claim_names``); a name of several words is one name."""
    is_name: dict[str, int] = {}
    for name in names:
        for word in re.findall(r"[^\W\d_][\w-]*", re.sub(r"['’]s?$", "", name)):
            is_name.setdefault(_written(word), 0)
    # One name per run of adjacent names in the claim ("Genzo Yanagita" is one person), and runs that
    # share a word are one name ("the Bolshevik underground" and "the Bolsheviks").
    runs: list[set[str]] = []
    previous = ""
    for t in _tokens(claim, is_name, capitalised_names=False):
        if t.kind == "name":
            if previous != "name":
                runs.append(set())
            runs[-1].add(_written(t.text))
        previous = t.kind
    merged: list[set[str]] = []
    for run in runs:
        for same in [m for m in merged if m & run]:
            merged.remove(same)
            run = run | same
        merged.append(run)
    if len(merged) < 2:
        return ()
    is_name = {word: n for n, run in enumerate(merged) for word in run}
    claim_slots = _slots(claim, _tokens(claim, is_name, capitalised_names=False))
    if not claim_slots:
        return ()
    source_slots = _slots(source, _tokens(source, is_name, capitalised_names=True))
    out = []
    for key, (held, words) in claim_slots.items():
        found = source_slots.get(key)
        if found is not None and not held & found[0]:
            out.append((words, found[1]))
    return tuple(dict.fromkeys(out))
