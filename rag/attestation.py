"""What a sentence must back for a claim to count as supported: its dates, numbers and names, with the
same polarity, the same agency and the names in the same roles. ``rag.claims.locate`` asks it of the
best paraphrase match."""

from __future__ import annotations

import re

from rag.calibration import INNER_CAPITAL, LOWER_WORD, WordUsage
from rag.lexical import tokenize
from rag.negation import polarity_conflicts
from rag.numbers import compare
from rag.reflexive import reflexive_conflicts
from rag.roles import role_conflicts

_FIRST_WORD = re.compile(r"^\W*([A-Z][\w'’-]*)")


def claim_names(claim: str, usage: WordUsage | None = None) -> list[str]:
    """The claim's names: its capitalised words after the first, and, by the corpus's ``usage``, its first
    word when the corpus never writes it in lower case ("Takeoka was born…"; not "The…" or "Earthquakes…"
    when the corpus also says "earthquakes"); and in a claim typed all in lower case, whose casing says
    nothing, every word the corpus only ever capitalises ("takeoka was born in odessa"). A cased claim's
    lower-case words are taken as typed: "recruit natives" is not the corpus's "Natives"."""
    found = [m.group(0) for m in INNER_CAPITAL.finditer(claim)]
    if usage is None:
        return found
    first = _FIRST_WORD.match(claim)
    if first:
        tokens = tokenize(first.group(1))
        if tokens and not any(t in usage.lowercase for t in tokens):
            found.insert(0, first.group(1))
    if not any(ch.isupper() for ch in claim):  # typed in lower case: its casing says nothing, the corpus's does
        found += [m.group(0) for m in LOWER_WORD.finditer(claim) if tokenize(m.group(0)) and usage.is_name(m.group(0))]
    return list(dict.fromkeys(found))


def unattested_names(claim: str, sentence_tokens: frozenset[str], usage: WordUsage | None = None) -> tuple[str, ...]:
    """Names of the claim (``claim_names``) that the sentence and its labels never use."""
    missing = []
    for name in claim_names(claim, usage):
        tokens = tokenize(name)
        if tokens and not all(t in sentence_tokens for t in tokens):
            missing.append(name)
    return tuple(missing)


def unattested_facts(claim: str, sentence: str, sentence_tokens: frozenset[str],
                     usage: WordUsage | None = None) -> tuple[str, ...]:
    """The claim's dates, numbers and names that the sentence (with its labels, ``sentence_tokens``)
    does not state at all, in the claim's words: what a citation of this sentence would leave unbacked."""
    return tuple(dict.fromkeys(compare(claim, sentence).unattested + unattested_names(claim, sentence_tokens, usage)))


def swapped_roles(claim: str, sentence: str, usage: WordUsage | None = None) -> tuple[tuple[str, str], ...]:
    """Where the sentence puts another of the claim's names in a name's place (``rag.roles``)."""
    return role_conflicts(claim, sentence, claim_names(claim, usage))


def attested(claim: str, sentence: str, sentence_tokens: frozenset[str], usage: WordUsage | None = None) -> bool:
    """Whether the sentence backs every date, number and name of the claim (no conflict, nothing missing)
    with the same polarity (it does not negate what the claim states, nor state what the claim negates),
    the same agency (not "shot him" for "shot himself") and its names in the same roles (not "executed
    Lyushkov" for "executed Takeoka"). ``usage``: see ``claim_names``."""
    return (not compare(claim, sentence).conflicts and not unattested_facts(claim, sentence, sentence_tokens, usage)
            and not polarity_conflicts(claim, sentence) and not reflexive_conflicts(claim, sentence)
            and not swapped_roles(claim, sentence, usage))
