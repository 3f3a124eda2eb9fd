"""Hedges: a claim that states as a fact what its source gives only as a theory, a plan, an allegation or
a fear ("Lyushkov was captured by the Red Army" against "Some theories held that he was captured by the
Red Army").

Such a claim has the source's words, so overlap and embeddings call it a paraphrase, and a chatbot that
cites the sentence for it would turn a theory into a fact. A closed list of hedging phrases is read
here ("theories held that", "allegation that", "reportedly", "plans to", "tried to", "concerns that he
might", "wondered if"…). A phrase's *scope* runs from it to the end of its clause: the next comma,
semicolon, colon, bracket or dash, or the next "and", "but", "or", "while"… unless that word is
followed by "that", "whether", "if" or "to", which continue the hedged clause ("theories held that he
was captured or that he was killed": both hedged; "plans to travel to the United States and
contacted a publisher": the contact is not).

The claim is hedged against the source when it has no hedging phrase of its own, and more than half
of its lower-case content words that the source uses (stemmed; names and numbers left out: the source
often says "he") appear in the source only inside a hedge's scope. That is reported like a number
conflict, ``("captured", "theories held that … captured")``: the claim's word, and the source's hedge
with the word as the source writes it.

A verbatim quote is read against the sentence it sits in (``rag.claims.verbatim_conflicts``).

Not read, so no evidence either way: a hedge that is only a modal ("could", "would", "should": too
often plain past or future in narrative), a bare "if", a claim whose own words hedge ("Lyushkov
planned to travel to the United States" is backed by "he began to make plans to travel…"), and a
hedge whose own word the claim uses ("Toghrul suggested he enlist Jamukha" against "Toghrul …
suggested that he also involve Jamukha": the claim reports the suggestion).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from rag.lexical import stem_word

# Each pattern is matched ignoring case (on the text as written: lower-casing "İ" would shift offsets); the
# scope starts where the match ends.
# after "to", a determiner makes it a preposition ("offered to the public", "ordered to the front")
_DETERMINERS = "the|a|an|his|her|its|their|this|that|these|those|our|my|your|some|any|each|every"
_DETERMINER = f"(?:{_DETERMINERS})"
_HEDGES = (
    r"\btheor(?:y|ies)\s+(?:held|holds|hold|suggested|suggests|suggest|say|says|said|claimed|claims|was|is|were|are)"
    r"\s+that\b",
    r"\b(?:it\s+)?(?:is|was|were|are|been|being)\s+(?:widely\s+|generally\s+|commonly\s+|also\s+)?"
    r"(?:believed|thought|rumou?red|alleged|claimed|reported|said|suspected|speculated|presumed|assumed|supposed|"
    r"feared|hoped|expected|planned|intended|proposed)\s+(?:that|to)\b",
    r"\b(?:believ(?:e|es|ed)|think|thinks|thought|suspect(?:s|ed)?|speculat(?:e|es|ed)|fear(?:s|ed)?|hop(?:e|es|ed)|assum(?:e|es|ed)|"
    r"presum(?:e|es|ed)|alleg(?:e|es|ed)|claim(?:s|ed)?|suggest(?:s|ed)?|rumou?r(?:s|ed)?|doubt(?:s|ed)?)\s+that\b",
    r"\b(?:allegations?|claims?|rumou?rs?|theor(?:y|ies)|speculation|suspicions?|fears?|concerns?|hopes?|"
    r"beliefs?|reports?|suggestions?|possibility|likelihood|chance)\s+that\b",
    r"\b(?:allegedly|reportedly|purportedly|supposedly|possibly|perhaps|probably|presumably|apparently|"
    r"ostensibly|rumou?redly|maybe|likely|unlikely|conceivably|arguably)\b",
    r"\bwonder(?:s|ed|ing)?\s+(?:if|whether)\b",
    r"\b(?:accused|suspected)\s+of\b|\bcharged\s+with\b",
    r"\b(?:appears?|appeared|seems?|seemed)\s+to\b(?!\s+" + _DETERMINER + r"\b)",
    r"\b(?:according\s+to\s+(?:legend|tradition|rumou?r|some)|legend\s+(?:has\s+it|says|holds)|"
    r"tradition\s+(?:has\s+it|says|holds))\b(?:\s+that\b)?|\bhypothes[ie]s\s+(?:(?:is|was)\s+)?that\b",
    r"\b(?:whether)\b",
    r"\b(?:plans?|planned|planning|intends?|intended|intending|hopes?|hoped|hoping|wants?|wanted|wishe?s?|wished|"
    r"tries|tried|trying|attempts?|attempted|attempting|sought|seeks?|proposes?|proposed|offers?|offered|"
    r"threatens?|threatened|prepares?|prepared|aims?|aimed|expects?|expected|schedules?|scheduled|"
    r"promises?|promised|agrees?|agreed|decides?|decided|ordered|asked|urged)\s+to\b(?!\s+" + _DETERMINER + r"\b)",
    r"\b(?:the\s+)?(?:plan|intention|aim|goal|idea|hope|attempt|proposal|scheme|plot)\s+(?:was|were|is)\s+"
    r"(?:for\s+\S+\s+to|to|that)\b",
)
_HEDGE = re.compile("|".join(f"(?:{p})" for p in _HEDGES), re.IGNORECASE)
# "may"/"might" matched as written ("May 1938" is a month), and not as a noun ("the might of Rome")
_MODAL = re.compile(r"(?<!\bthe )(?<!\bits )(?<!\bhis )(?<!\bher )(?<!\btheir )(?<!\bour )(?<!\bmilitary )"
                    r"(?<!\bnaval )(?<!\bgreat )(?<!\bfull )(?<!\ball )\b(?:may|might)\b(?!\s+(?:of|and)\b)")
# before a hedge, these make it certain or set it aside: "no doubt that", "confirmed reports that", "despite
# rumours that"
_NOT_HEDGED = re.compile(r"\b(?:no|little|without|beyond|confirmed|confirms|confirm|confirming|despite|contrary to)"
                         r"\s+(?:the\s+|any\s+|all\s+)?$", re.IGNORECASE)
# where a hedge's clause ends: punctuation, a sentence end, or a conjunction that does not continue it (a
# conjunction followed by "that", "whether", "if" or "to" goes on with the hedged clause, unless a determiner
# or a time word follows: "or that he was killed" goes on, "and that evening" and "and to that end" do not)
_CLAUSE_END = re.compile(
    r"[,;:()\[\]—–]|[.!?](?=\s)|\s-\s|\b(?:and|but|or|nor|while|whereas|although|though|yet|so|because|then|"
    r"instead|which|who|whom|whose|when|where|after|before|until|since)\b"
    r"(?!\s+(?:that|whether|if|to)\b(?!\s+(?:" + _DETERMINERS + r"|end|evening|morning|afternoon|night|day|"
    r"week|month|year|time)\b))", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_COMMA = re.compile(r"\s*,\s*")


@lru_cache(maxsize=4096)
def _stem(word: str) -> str | None:
    return stem_word(word.lower())


def _scopes(text: str) -> list[tuple[int, int, int]]:
    """(hedge start, scope start, scope end) of every hedging phrase in ``text``."""
    ends = [m.start() for m in _CLAUSE_END.finditer(text)]  # once: searching from each hedge is quadratic
    out = []
    for m in sorted([*_HEDGE.finditer(text), *_MODAL.finditer(text)], key=lambda m: m.start()):
        before = text[max(0, m.start() - 40):m.start()]
        if _NOT_HEDGED.search(before):
            continue
        if m.group(0)[:1].isupper() and before.rstrip() and before.rstrip()[-1] not in ".!?:;\"“(":
            continue  # a capitalised word inside a sentence is a name: "the Cape of Good Hope to the coast"
        begin = m.end()
        comma = _COMMA.match(text, begin)
        if comma:  # "According to legend, Romulus founded Rome": an opening hedge governs the clause after it
            begin = comma.end()
        i = bisect_left(ends, begin)
        out.append((m.start(), begin, ends[i] if i < len(ends) else len(text)))
    return out


def _cue(text: str, at: int) -> re.Match[str] | None:
    return _HEDGE.match(text, at) or _MODAL.match(text, at)


# words that make a claim report a belief, plan or possibility rather than a fact, with or without "that"
_CLAIM_HEDGES = ("believe believed belief think thought suppose supposed allege alleged allegation claim claimed "
                 "rumour rumor rumoured rumored theory theories plan planned intend intended intention try tried "
                 "attempt attempted hope hoped want wanted wish wished suggest suggested speculate speculated "
                 "suspect suspected assume assumed presume presumed possible possibly perhaps probable probably "
                 "likely unlikely may might fear feared concern doubt doubted aim aimed seek sought propose proposed "
                 "expect expected say says said according accused suspected charged appear appears appeared "
                 "seem seems seemed legend tradition hypothesis")


@lru_cache(maxsize=1)
def _claim_hedges() -> frozenset[str]:
    return frozenset(filter(None, (stem_word(w) for w in _CLAIM_HEDGES.split())))


def hedged(text: str) -> bool:
    """Whether ``text`` has a hedging phrase of its own."""
    return _HEDGE.search(text) is not None or _MODAL.search(text) is not None


def hedge_conflicts(claim: str, source: str) -> tuple[tuple[str, str], ...]:
    """``((claim's word, "hedge … source's word"),)`` when the source states the claim's content only as a
    theory, plan, allegation or fear, else ``()``. Linear in the two texts."""
    if hedged(claim):
        return ()
    claim_words: dict[str, str] = {}  # stem → the claim's word
    all_stems = set()
    for m in _WORD.finditer(claim):
        w = m.group(0)
        stem = _stem(w)
        if stem is not None:
            all_stems.add(stem)
            if w[:1].islower():
                claim_words.setdefault(stem, w)
    if all_stems & _claim_hedges():
        return ()  # "Dalton thought all elements were monatomic": the claim reports a belief too
    scopes = _scopes(source)
    if not scopes:
        return ()
    # a claim that names the hedge itself reports it ("Toghrul suggested he enlist Jamukha" against "…suggested
    # that he also involve Jamukha"): that scope is not read
    scopes = [sc for sc in scopes if not any(_stem(w) in all_stems for w in _WORD.findall(source[sc[0]:sc[1]])
                                             if w[:1].islower())]
    if not scopes:
        return ()
    inside: dict[str, tuple[int, int, int]] = {}  # stem → (hedge start, word start, word end), first one inside
    outside: set[str] = set()
    k = 0
    for m in _WORD.finditer(source):
        stem = _stem(m.group(0))
        if stem is None or stem not in claim_words:
            continue
        while k < len(scopes) and scopes[k][2] <= m.start():
            k += 1
        scope = next((s for s in scopes[k:k + 4] if s[1] <= m.start() < s[2]), None)  # scopes may overlap
        if scope is None:
            outside.add(stem)
        elif stem not in inside:
            inside[stem] = (scope[0], m.start(), m.end())
    found = set(inside) | outside
    only_hedged = [s for s in claim_words if s in inside and s not in outside]
    if not only_hedged or 2 * len(only_hedged) <= len(found):
        return ()
    first = min(only_hedged, key=lambda s: inside[s][1])
    hedge_start, start, end = inside[first]
    cue = _cue(source, hedge_start)
    cue_text = source[hedge_start:cue.end()] if cue else source[hedge_start:start]
    between = source[hedge_start + len(cue_text):start].strip()
    said = f"{cue_text} {source[start:end]}" if not between else f"{cue_text} … {source[start:end]}"
    return ((claim_words[first], said),)
