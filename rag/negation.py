"""Polarity: a claim that negates what its source sentence states (or states what the source negates).

"Lyushkov was not killed by the Japanese" shares every content word with "he was killed by the
Japanese", so word overlap and embeddings call it a paraphrase. Here a negator ("not", "never",
"no", "-n't", "cannot") governs the first content word after it (at most ``SCOPE`` words on, not across
punctuation or a clause word): "was not killed" negates *kill*, "did not defect to Japan" negates
*defect* (not *Japan*). A word one side negates and the other
states without negation is a polarity conflict, reported like a number conflict:
``("not killed", "killed")``. A negated word the other side never mentions is no evidence either
way ("killed, not captured" says nothing about a claim that he was killed).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.lexical import tokenize

SCOPE = 3  # words after a negator that it can govern
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[,;:.!?()\"“”]")
_NEGATORS = frozenset({"not", "never", "cannot", "nor", "neither", "no"})
# "not only ... but", "not least", "no doubt": not a denial of the words that follow
_NOT_DENIAL = frozenset({"only", "just", "least", "merely", "simply", "far", "long", "before", "yet", "doubt",
                         "sooner", "less", "more", "matter"})
_PASS_OVER = frozenset({"longer", "way", "one", "even", "ever"})  # "no longer worked", "in no way prevented"
_CONTRAST = re.compile(r"\b(?:but|however|although|though|whereas|while|instead|yet|despite|unlike)\b", re.IGNORECASE)
_UNTIL = frozenset({"until", "till", "unless"})  # "not explained until 1864" says it was explained then
_CLAUSE = frozenset({"but", "and", "or", "although", "though", "while", "whereas", "because", "which", "that", "who",
                     "when", "where", "if", "than", "as"})


def _is_negator(word: str) -> bool:
    return word in _NEGATORS or word.endswith(("n't", "n’t"))


@lru_cache(maxsize=4096)
def _stem(word: str) -> str | None:
    tokens = tokenize(word)
    return tokens[0] if len(tokens) == 1 else None


def polarity(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(negated, affirmed): content-word stems of ``text`` mapped to how they read there
    ("not killed" / "killed"). A stem negated anywhere is not counted as affirmed."""
    words = [w.lower() for w in _WORD.findall(text)]
    negated: dict[str, str] = {}
    affirmed: dict[str, str] = {}
    governed: set[int] = set()
    for i, word in enumerate(words):
        if not _is_negator(word) or (i + 1 < len(words) and words[i + 1] in _NOT_DENIAL) \
                or (i > 0 and words[i - 1] == "(") or _UNTIL & set(words[i + 1:i + 2 + SCOPE]):
            continue  # "(not votes)" is an aside, not the sentence's polarity
        for j in range(i + 1, min(len(words), i + 1 + SCOPE + 1)):
            if not words[j][0].isalnum() or words[j] in _CLAUSE or _is_negator(words[j]):
                break
            if words[j] in _PASS_OVER:
                continue
            stem = _stem(words[j])
            if stem is not None:  # the first content word: the predicate ("not killed"), not its objects
                negated.setdefault(stem, " ".join(words[i:j + 1]))
                governed.add(j)
                break
    for j, word in enumerate(words):
        stem = _stem(word) if word[0].isalnum() else None
        if stem is not None and j not in governed and stem not in negated:
            affirmed.setdefault(stem, word)
    return negated, affirmed


def polarity_conflicts(claim: str, source: str) -> tuple[tuple[str, str], ...]:
    """(claim's words, source's words) for each content word one side negates and the other affirms.

    A word the claim negates is not checked against a source that contrasts two clauses ("Takeoka
    was content with letting him escape, but Yanagita told him this was unacceptable"): its
    affirmation may be denied in the other clause in words no negator marks. A word the source
    negates ("was not A but B") is checked whatever the source's shape.
    """
    claim_neg, claim_aff = polarity(claim)
    source_neg, source_aff = polarity(source)
    found = [] if _CONTRAST.search(source) else \
        [(phrase, source_aff[stem]) for stem, phrase in claim_neg.items() if stem in source_aff]
    found += [(claim_aff[stem], phrase) for stem, phrase in source_neg.items() if stem in claim_aff]
    return tuple(dict.fromkeys(found))
