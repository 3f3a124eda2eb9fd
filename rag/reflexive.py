"""Agency: a claim that someone did something to himself, against a source where another did it to him.

"Lyushkov shot himself" shares its words with "Takeoka shot him", so overlap and embeddings call it
a paraphrase. A reflexive object ("himself", "herself", "themselves", "itself") after a verb on one
side, and on the other side the same verb (same stem) with a plain object pronoun ("shot him") or
in the passive with an agent ("was shot by"), is a conflict reported like a number conflict:
``("shot himself", "shot him")``. A side that also uses the verb reflexively is no evidence either way.
"""

from __future__ import annotations

import re

from rag.lexical import stem_word

_REFLEXIVE = re.compile(r"\b([^\W\d_]+)\s+(himself|herself|themselves|itself)\b", re.IGNORECASE)
_OTHER = re.compile(r"\b(?:(?:was|were|been|being|is|are)\s+([^\W\d_]+)\s+by|([^\W\d_]+)\s+(?:him|her|them))\b",
                    re.IGNORECASE)


def _uses(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(reflexive, by another): verb stems mapped to the words that use them that way."""
    reflexive: dict[str, str] = {}
    for m in _REFLEXIVE.finditer(text):
        stem = stem_word(m.group(1))
        if stem is not None:
            reflexive.setdefault(stem, m.group(0))
    other: dict[str, str] = {}
    for m in _OTHER.finditer(text):
        stem = stem_word(m.group(1) or m.group(2))
        if stem is not None:
            other.setdefault(stem, m.group(0))
    return reflexive, other


def reflexive_conflicts(claim: str, source: str) -> tuple[tuple[str, str], ...]:
    """(claim's words, source's words) where one side does to itself what the other has done by another."""
    claim_self, claim_other = _uses(claim)
    source_self, source_other = _uses(source)
    found = [(words, source_other[stem]) for stem, words in claim_self.items()
             if stem in source_other and stem not in source_self]
    found += [(claim_other[stem], words) for stem, words in source_self.items()
              if stem in claim_other and stem not in claim_self]
    return tuple(dict.fromkeys(found))
