"""What a sentence must back for a claim to count as supported: its dates, numbers and names, with the
same polarity, the same agency and the names in the same roles. ``rag.claims.locate`` asks it of the
best paraphrase match."""

from __future__ import annotations

import re

from rag.calibration import INNER_CAPITAL, LOWER_WORD, WordUsage
from rag.hedges import hedge_conflicts
from rag.lexical import tokenize
from rag.negation import polarity_conflicts
from rag.numbers import compare
from rag.opposites import opposite_conflicts
from rag.reflexive import reflexive_conflicts
from rag.roles import role_conflicts

_FIRST_WORD = re.compile(r"^\W*([A-Z][\w'’-]*)")
# a participle or adverb opening the sentence, before a determiner, pronoun or preposition ("Fearing his own
# arrest, he fled…", "Born in Odessa…", "Secretly, …"): not a name, even when the corpus never uses the word
_OPENER = re.compile(r"^\W*[A-Z][a-z]+(?:ing|ed|ly)\b(?:,|\s+(?:his|her|its|their|our|my|your|him|them|it|the|a|an|"
                     r"this|that|these|those|in|on|at|to|by|from|with|after|before|for|of|into|over|under|during|as)\b)")


def claim_names(claim: str, usage: WordUsage | None = None) -> list[str]:
    """The claim's names: its capitalised words after the first, and, by the corpus's ``usage``, its first word when
    the corpus never writes it in lower case ("Takeoka was born…"; not "The…" or "Earthquakes…" when the corpus
    also says "earthquakes"; nor an opening participle or adverb, "Fearing his arrest…"); and in a claim typed
    all in lower case, whose casing says nothing, every word the corpus only ever capitalises ("takeoka was born
    in odessa"). A cased claim's lower-case words are taken as typed: "recruit natives" is not the corpus's
    "Natives"."""
    found = [m.group(0) for m in INNER_CAPITAL.finditer(claim)]
    if usage is None:
        return found
    first = _FIRST_WORD.match(claim)
    if first and _first_is_name(claim, usage):
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
    return role_conflicts(claim, sentence, claim_names(claim, usage),
                          source_starts_with_name=usage is not None and _first_is_name(sentence, usage))


def _first_is_name(text: str, usage: WordUsage) -> bool:
    """Whether the text's capitalised first word is a name: the corpus never writes it in lower case ("Takeoka
    was born…"; not "The…", nor "Earthquakes…" when the corpus also says "earthquakes"), and it is no opening
    participle or adverb ("Fearing his arrest…")."""
    first = _FIRST_WORD.match(text)
    if not first or _OPENER.match(text):
        return False
    tokens = tokenize(first.group(1))
    return bool(tokens) and not any(t in usage.lowercase for t in tokens)


def conflict_pairs(claim: str, source: str, usage: WordUsage | None = None, *, polarity: bool = True,
                   ) -> tuple[tuple[str, str], ...]:
    """(claim's words, source's words) that the source contradicts: dates and numbers that differ, then
    (with ``polarity``) words one side negates and the other states, opposites about the same thing
    ("lowest-ranking" / "highest-ranking"), verbs one side uses reflexively and
    the other with another agent ("shot himself" / "shot him"), the claim's names in each other's
    places ("executed Takeoka" / "executed Lyushkov"; ``usage``: see ``claim_names``), and what the source
    gives only as a theory, plan or allegation ("captured" / "theories held that … captured")."""
    pairs = compare(claim, source).conflicts
    if polarity:
        pairs += polarity_conflicts(claim, source) + opposite_conflicts(claim, source) \
            + reflexive_conflicts(claim, source) + swapped_roles(claim, source, usage) + hedge_conflicts(claim, source)
    return pairs


def attested(claim: str, sentence: str, sentence_tokens: frozenset[str], usage: WordUsage | None = None) -> bool:
    """Whether the sentence backs every date, number and name of the claim without contradicting it: no
    ``conflict_pairs`` and nothing ``unattested_facts``. ``usage``: see ``claim_names``."""
    return not conflict_pairs(claim, sentence, usage) and not unattested_facts(claim, sentence, sentence_tokens, usage)
