"""Polarity: a claim that negates what its source sentence states (or states what the source negates).

"Lyushkov was not killed by the Japanese" shares every content word with "he was killed by the
Japanese", so word overlap and embeddings call it a paraphrase. Here a negator ("not", "never",
"no", "-n't", "cannot"; "failed to", "refused to", "declined to", "unable to", not "never failed
to") governs the first content word after it (at most ``SCOPE`` words between, not across
punctuation or a clause word): "was not killed" negates *kill*, "did not defect to Japan" negates
*defect* (not *Japan*). A word one side negates and the other states without negation is a polarity
conflict, reported like a number conflict: ``("not killed", "killed")``. A negated word the other
side never mentions is no evidence either way ("killed, not captured" says nothing about a claim
that he was killed). The rest of a negated clause is not affirmed ("was not killed by the Japanese"
affirms nothing about the Japanese), nor is a clause whose subject is negative ("No soldier
survived", "Neither he nor his wife survived", "None of the crew survived"). A source that negates a
word in one place and states it in another contradicts a claim only where the claim's use reads like
the negated one ("won the 1990 election" is not "had never won an election"); "A, if not B" denies B
only when the text does not state B elsewhere ("one of the largest, if not the largest"). Not
denials: "whether or not", a negator joined by a hyphen ("never-ending"), a capitalised "No" or
"Never" inside a sentence ("Dr. No").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lexical import stem_word

SCOPE = 3  # words that may stand between a negator and the word it governs ("not in any way killed")
NEIGHBOURS = 4  # how far to look for the content words around a use of a word
Context = tuple[str | None, str | None]  # the content-word stems before and after a use
_APOSTROPHE = str.maketrans(dict.fromkeys("’‘ʼ`´′", "'"))
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[,;:.!?()\"“”]")
_NEGATORS = frozenset({"not", "never", "cannot", "nor", "neither", "no"})
_FAILS = frozenset({"fail", "fails", "failed", "failing", "refuse", "refuses", "refused", "refusing", "decline",
                    "declines", "declined", "declining", "unable"})  # + "to": "refused to sign" denies the signing
# at the start of a clause these deny its predicate ("No soldier survived"), not the word after them
_NEGATIVE_SUBJECTS = frozenset({"no", "neither", "none", "nobody", "nothing", "nowhere"})
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "st", "prof", "sr", "jr", "no"})  # "Dr. No": not a sentence start
_HYPHENS = frozenset("-‐‑")
_SENTENCE_START = frozenset({".", "!", "?", ":", ";", "(", '"', "“", "”"})
# "not only ... but", "not least", "no doubt": not a denial of the words that follow
_NOT_DENIAL = frozenset({"only", "just", "least", "merely", "simply", "far", "long", "before", "yet", "doubt",
                         "sooner", "less", "more", "matter"})
_PASS_OVER = frozenset({"longer", "way", "one", "even", "ever"})  # "no longer worked", "in no way prevented"
_CONTRAST = re.compile(r"\b(?:but|however|although|though|whereas|while|instead|yet|despite|unlike)\b", re.IGNORECASE)
_UNTIL = frozenset({"until", "till", "unless"})  # "not explained until 1864" says it was explained then
_AUXILIARIES = frozenset({"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could",
                          "will", "would", "shall", "should", "may", "might", "must"})
_CLAUSE = frozenset({"but", "and", "or", "although", "though", "while", "whereas", "because", "which", "that", "who",
                     "when", "where", "if", "than", "as"})


def _is_negator(word: str) -> bool:
    return word in _NEGATORS or word.endswith("n't")


def _is_name(raw: list[str], words: list[str], i: int) -> bool:
    """A capitalised word inside a sentence ("Dr. No", "Never Say Never Again"); "NOT" is emphasis."""
    if i == 0 or not raw[i][0].isupper() or raw[i].isupper():
        return False
    return words[i - 1] not in _SENTENCE_START or (words[i - 1] == "." and i >= 2 and words[i - 2] in _TITLES)


def _next_where(flags: list[bool]) -> list[int]:
    """For each position, the first later position whose flag is set (``len(flags)`` if none)."""
    out = [len(flags)] * len(flags)
    for k in range(len(flags) - 2, -1, -1):
        out[k] = k + 1 if flags[k + 1] else out[k + 1]
    return out


@dataclass(frozen=True)
class _Reading:
    negated: dict[str, str]  # stem -> "not killed"
    affirmed: dict[str, str]  # stem -> "killed", for stems never negated in the text
    where_negated: dict[str, list[Context]]
    where_stated: dict[str, list[Context]]  # every unnegated use, also of stems negated elsewhere


def _context(words: list[str], stems: list[str | None], negative: list[bool], j: int) -> Context:
    """The nearest content words before and after position ``j`` (not across punctuation or negators)."""
    around: list[str | None] = []
    for step in (-1, 1):
        found = None
        k = j + step
        while 0 <= k < len(words) and abs(k - j) <= NEIGHBOURS and words[k][0].isalnum():
            if stems[k] is not None and not negative[k]:
                found = stems[k]
                break
            k += step
        around.append(found)
    return around[0], around[1]


def _readings(text: str) -> _Reading:
    """How ``text`` reads each content word: negated, stated, and where (for telling uses apart)."""
    text = text.translate(_APOSTROPHE)
    found = list(_WORD.finditer(text))
    raw = [m.group(0) for m in found]
    words = [w.lower() for w in raw]
    denies = [_is_negator(w) or (w in _FAILS and words[i + 1:i + 2] == ["to"]  # not "never failed to"
                                 and not any(_is_negator(x) for x in words[max(0, i - 2):i]))
              for i, w in enumerate(words)]
    negative = [(denies[i] or w in _NEGATIVE_SUBJECTS) and not _is_name(raw, words, i)
                and text[m.end():m.end() + 1] not in _HYPHENS  # "never-ending", "no-fly zone"
                for i, (w, m) in enumerate(zip(words, found, strict=True))]
    stems = [stem_word(w) if w[0].isalnum() else None for w in words]
    negated: dict[str, str] = {}
    stated: dict[str, str] = {}
    where_negated: dict[str, list[Context]] = {}
    where_stated: dict[str, list[Context]] = {}
    governed: set[int] = set()
    unaffirmed: set[int] = set()  # in a negated clause: neither affirmed nor (unless governed) negated
    denied_clause_end = -1  # the end of a clause whose subject is negative
    hedged: dict[str, tuple[str, Context]] = {}  # "difficult, if not impossible": unless the text states it
    # a clause ends at punctuation or a clause word other than "or"; a denial's clause also ends at the
    # first auxiliary after its first content word ("a player who fails to train hard | does not win")
    clause_end = _next_where([not w[0].isalnum() or (w in _CLAUSE and w != "or") for w in words])
    next_content = _next_where([stem is not None for stem in stems])
    next_auxiliary = _next_where([w in _AUXILIARIES for w in words])
    covered = 0  # positions before this are already in ``unaffirmed``
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if not negative[i] or following in _NOT_DENIAL \
                or (i > 0 and words[i - 1] == "(") or _UNTIL & set(words[i + 1:i + 2 + SCOPE]):
            continue  # "(not votes)" is an aside, not the sentence's polarity
        end = clause_end[i]
        if word not in _NEGATIVE_SUBJECTS and next_content[i] < end:
            end = min(end, next_auxiliary[next_content[i]])
        unaffirmed.update(range(max(covered, i + 1), end))
        covered = max(covered, end)
        if i < denied_clause_end or not denies[i] or (word == "not" and i > 0 and words[i - 1] == "or"):
            continue  # inside a negative subject's clause, "nobody"/"nothing", "whether or not": nothing is governed
        hedge = word == "not" and words[max(0, i - 2):i] == [",", "if"]
        if word in _NEGATIVE_SUBJECTS and following not in _PASS_OVER \
                and (i == 0 or not words[i - 1][0].isalnum() or words[i - 1] in _CLAUSE):
            denied_clause_end = clause_end[i]
            continue
        for j in range(i + 1, min(len(words), i + 1 + SCOPE + 1)):
            if not words[j][0].isalnum() or words[j] in _CLAUSE or negative[j]:
                break
            if words[j] in _PASS_OVER:
                continue
            stem = stems[j]
            if stem is not None:  # the first content word: the predicate ("not killed"), not its objects
                use = (" ".join(words[i:j + 1]), _context(words, stems, negative, j))
                if hedge:
                    hedged.setdefault(stem, use)
                else:
                    negated.setdefault(stem, use[0])
                    where_negated.setdefault(stem, []).append(use[1])
                governed.add(j)
                break
    for j, word in enumerate(words):
        stem = stems[j]
        if stem is not None and j not in governed and j not in unaffirmed:
            stated.setdefault(stem, word)
            where_stated.setdefault(stem, []).append(_context(words, stems, negative, j))
    for stem, (phrase, context) in hedged.items():  # "one of the largest, if not the largest" states it
        if stem not in stated:
            negated.setdefault(stem, phrase)
            where_negated.setdefault(stem, []).append(context)
    affirmed = {stem: word for stem, word in stated.items() if stem not in negated}
    return _Reading(negated, affirmed, where_negated, where_stated)


def polarity(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(negated, affirmed): content-word stems of ``text`` mapped to how they read there
    ("not killed" / "killed"). A stem negated anywhere is not counted as affirmed."""
    reading = _readings(text)
    return reading.negated, reading.affirmed


def _restates(claim: _Reading, source: _Reading, stem: str) -> bool:
    """Whether every use of ``stem`` in the claim reads like one the source states and unlike the one
    it negates ("won the 1990 election" against "who had never won an election, won the 1990 election")."""
    stated, negated = source.where_stated.get(stem, []), source.where_negated.get(stem, [])
    if not stated:
        return False
    near_stated = ({c[0] for c in stated} - {None}, {c[1] for c in stated} - {None})
    near_negated = ({c[0] for c in negated} - {None}, {c[1] for c in negated} - {None})
    return all((use[0] in near_stated[0] or use[1] in near_stated[1])
               and not (use[0] in near_negated[0] or use[1] in near_negated[1])
               for use in claim.where_stated.get(stem, []))


def _states_as_denied(claim: _Reading, source: _Reading, stem: str) -> bool:
    """Whether the source states ``stem`` next to the same content words as the claim denies it: "Though
    Lyushkov was anti-Stalinist, …" states what "Lyushkov was not anti-Stalinist" denies, whatever the
    other clause says; "content with letting Lyushkov try to make an escape, but …" is not "did not
    let him escape"."""
    def same(use: Context, there: Context) -> bool:  # a side either one leaves empty does not count
        sides = [(a, b) for a, b in zip(use, there, strict=True) if a is not None and b is not None]
        return bool(sides) and all(a == b for a, b in sides)

    return any(same(use, there) for use in claim.where_negated.get(stem, [])
               for there in source.where_stated.get(stem, []))


def polarity_conflicts(claim: str, source: str) -> tuple[tuple[str, str], ...]:
    """(claim's words, source's words) for each content word one side negates and the other affirms.

    A word the claim negates is checked against a source that contrasts two clauses ("Takeoka was
    content with letting him escape, but Yanagita told him this was unacceptable") only where the
    source states it between the same content words as the claim denies it: elsewhere its
    affirmation may be denied in the other clause in words no negator marks. A word the source
    negates ("was not A but B") is checked whatever the source's shape, unless the source also states
    it where the claim's words around it match ("was not paid at first, but was later paid in gold"
    does not contradict "he was paid in gold").
    """
    said, src = _readings(claim), _readings(source)
    contrast = bool(_CONTRAST.search(source))
    found = [(phrase, src.affirmed[stem]) for stem, phrase in said.negated.items()
             if stem in src.affirmed and (not contrast or _states_as_denied(said, src, stem))]
    found += [(said.affirmed[stem], phrase) for stem, phrase in src.negated.items()
              if stem in said.affirmed and not _restates(said, src, stem)]
    return tuple(dict.fromkeys(found))
