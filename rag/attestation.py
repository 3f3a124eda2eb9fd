"""What a sentence must back for a claim to count as supported: its dates, numbers and names, with the
same polarity and the same agency. ``rag.claims.locate`` asks it of the best paraphrase match."""

from __future__ import annotations

import re

from rag.lexical import tokenize
from rag.negation import polarity_conflicts
from rag.numbers import compare
from rag.reflexive import reflexive_conflicts

_NAME = re.compile(r"(?<=\s)[A-Z][\w'’-]*")
_FIRST_WORD = re.compile(r"^\W*([A-Z][\w'’-]*)")


def claim_names(claim: str, lowercase: frozenset[str] | None = None) -> list[str]:
    """Capitalised words of the claim after its first word, and the first word too when it is a name by
    the corpus's usage: ``lowercase`` (the tokens the corpus writes in lower case) has none of its
    tokens. "Takeoka was born…" names Takeoka; "Earthquakes damaged…" (the corpus also says
    "earthquakes") and "The…" do not."""
    found = [m.group(0) for m in _NAME.finditer(claim)]
    first = _FIRST_WORD.match(claim)
    if first and lowercase is not None:
        tokens = tokenize(first.group(1))
        if tokens and not any(t in lowercase for t in tokens):
            found.insert(0, first.group(1))
    return found


def unattested_names(claim: str, sentence_tokens: frozenset[str],
                     lowercase: frozenset[str] | None = None) -> tuple[str, ...]:
    """Names of the claim (``claim_names``) that the sentence and its labels never use."""
    missing = []
    for name in claim_names(claim, lowercase):
        tokens = tokenize(name)
        if tokens and not all(t in sentence_tokens for t in tokens):
            missing.append(name)
    return tuple(missing)


def unattested_facts(claim: str, sentence: str, sentence_tokens: frozenset[str],
                     lowercase: frozenset[str] | None = None) -> tuple[str, ...]:
    """The claim's dates, numbers and names that the sentence (with its labels, ``sentence_tokens``)
    does not state at all, in the claim's words: what a citation of this sentence would leave unbacked."""
    return tuple(dict.fromkeys(compare(claim, sentence).unattested + unattested_names(claim, sentence_tokens,
                                                                                      lowercase)))


def attested(claim: str, sentence: str, sentence_tokens: frozenset[str], lowercase: frozenset[str] | None = None,
             ) -> bool:
    """Whether the sentence backs every date, number and name of the claim (no conflict, nothing missing)
    with the same polarity (it does not negate what the claim states, nor state what the claim negates)
    and the same agency (not "shot him" for "shot himself"). ``lowercase``: see ``claim_names``."""
    return (not compare(claim, sentence).conflicts and not unattested_facts(claim, sentence, sentence_tokens, lowercase)
            and not polarity_conflicts(claim, sentence) and not reflexive_conflicts(claim, sentence))
