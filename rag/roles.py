"""Roles: a claim that puts the same names in each other's places ("Lyushkov executed Takeoka" against
"Takeoka executed Lyushkov", "Lyushkov was Takeoka's handler" against "Takeoka, … Lyushkov's handler").

Such a claim has the source's words, so overlap and embeddings call it a paraphrase. Without a parser,
roles are read from what stands next to a name: the nearest content word before it and after it, as
written, with the function words in between ("executed ▢", "▢'s handler", "gathered by ▢"). Each is
a *slot*. The word is compared as written, not stemmed: "▢ designed" (a subject) is not "▢ design"
(a modifier, "the Apollo design"), nor "▢ replacing" "▢ replaced". When
a slot that the claim and the source both have is filled by one of the claim's names in the claim and
only by another of the claim's names in the source, the roles are swapped: a conflict, reported like a
number conflict, ``("executed Takeoka", "executed Lyushkov")``. The same holds when the source fills
that slot only with a name the claim does not use ("debriefed Sorge" against "debriefed Lyushkov; Sorge
obtained…": the sentence names Sorge, but not as the one debriefed), except right before a word
with nothing between ("the G mission", "Spanish-language broadcast": a modifier, not a doer).

A passive is read as the active that holds the same role: "▢ was shot" (an auxiliary of "be" and a
participle) is "shot ▢", and "shot by ▢" is "▢ shot", so "Takeoka was shot by Lyushkov" conflicts
with "Takeoka shot Lyushkov" and agrees with "Lyushkov shot Takeoka".

What is not read is no evidence either way: a pronoun in the slot ("he executed Lyushkov"), a name
before a verb that "by" follows without an auxiliary ("Elway replaced by Kubiak"), a possessive before a
noun that "by" or "of" follows (agent or patient: "Lyushkov's execution by Takeoka", "Takeoka's
execution of Lyushkov"), a relation that goes both ways ("met", "a friend of", "similar to", "▢ worked
with ▢", "▢ signed a treaty with ▢") and the word after its second name ("met Lyushkov daily"), "to"
after the object of a preposition ("ordered by Yanagita to kill": Yanagita is not who kills), and names
joined by "and", "or", a comma or a possessive, which share their slots ("Harvard and Radcliffe" against
"Radcliffe and Harvard", "Bachelor's Degree") — unless "and" starts a new clause: a verb's object,
"and", a name and a past-tense verb ("had debriefed Lyushkov and Sorge obtained a copy" did not debrief
Sorge).

A claim's subject and its verb are also checked against whose event the source tells ("Lyushkov was
executed" against "…saw that Deribas had been arrested and sent to Moscow for trial and execution"): when
every use of the verb's stem in the source ("executed", "execution") follows, in the same voice, a clause
subject that is another name (a name after the sentence's start, a comma or "that", "after"… and before
a verb), and the claim's subject is not named from there on, that is a conflict,
``("Lyushkov was executed", "Deribas had been arrested … execution")``. A pronoun subject in between is
no evidence ("admitted that he executed Lyushkov"). Likewise a description: "Blyukher was the Far East Air
Corps Commander" against "…Albert Yanovich Lapin (the Far East Air Corps Commander)", which gives it to
another name in brackets, after a comma or a copula.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rag.lexical import stem_word

# A word (a possessive ending split off: "Takeoka's" → "Takeoka", "'s"), or a mark that ends a slot.
_TOKEN = re.compile(r"(?P<word>[^\W\d_](?:[\w-]*[^\W_])?)(?P<pos>['’]s\b|(?<=s)['’](?!\w))?|(?P<mark>[^\w\s'’])")
_COORDINATION = frozenset({"and", "or", "nor", "&", ","})
_MAX_FUNCTION_WORDS = 3
_LOOKAHEAD = 6  # words after a name's verb in which "with" and a name make the relation go both ways
_CLAUSE = frozenset({"and", "or", "but", "nor", "that", "which", "who", "whom", "whose", "while", "when", "where"})
# Before a name, these make it the object of a phrase, so "to" after it is not its own ("by Yanagita to kill").
_PREPOSITIONS = frozenset({"by", "from", "of", "with", "for", "to", "in", "at", "on", "against", "like", "than",
                           "under", "over", "about", "through", "without", "within", "toward", "towards", "upon"})
# Verbs and nouns whose two sides can be swapped without changing what is said.
_SYMMETRIC = ("meet", "met", "marry", "married", "wed", "divorce", "fight", "fought", "battle", "ally", "allied",
              "befriend", "partner", "collaborate", "cooperate", "negotiate", "correspond", "compete", "play", "face",
              "tie", "draw", "border", "neighbour", "neighbor", "resemble", "equal", "match", "differ", "versus", "vs",
              "merge", "merger", "treaty", "war", "relations", "talks", "alliance", "rivalry", "together", "both",
              "with", "friend", "rival", "enemy", "opponent", "adversary", "colleague", "contemporary", "counterpart",
              "cousin", "sibling", "twin", "marriage", "engaged", "similar", "identical", "equivalent", "analogous",
              "alike", "like", "unlike", "distinct", "compare", "adjacent", "near", "nearby", "next",
              "connected", "linked", "talk", "speak", "spoke", "spoken")


@lru_cache(maxsize=1)
def _symmetric() -> frozenset[str]:
    return frozenset(stem_word(w) or w for w in _SYMMETRIC)


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    """The index's stop words (bm25s's and ``EXTRA_STOPWORDS``) and a possessive ending."""
    from rag.lexical import _stopwords

    return _stopwords() | {"'s"}


@dataclass(frozen=True)
class _Token:
    text: str  # as written ("'s" for either possessive ending)
    start: int
    end: int
    kind: str  # "name", "function", "content" or "mark"
    name: int | None = None  # which of the claim's names this name is (None: not one of them)


def _name_key(word: str) -> str:
    """How a name's word is compared: its stem, so "Bolsheviks" is the "Bolshevik" of "Bolshevik Party"."""
    return stem_word(word) or word.casefold()


def _tokens(text: str, is_name: dict[str, int], capitalised_names: bool, first_is_name: bool = False) -> list[_Token]:
    """``text`` as tokens; a word is a name when ``is_name`` knows it, or (``capitalised_names``) when it
    is capitalised and not the text's first word (or is, and ``first_is_name``: "Lapin committed…")."""
    out: list[_Token] = []
    function = _function_words()
    for m in _TOKEN.finditer(text):
        if m.group("mark"):
            out.append(_Token(m.group("mark"), m.start(), m.end(), "mark"))
            continue
        word = m.group("word")
        known = is_name.get(_name_key(word))
        if known is not None or (capitalised_names and word[0].isupper() and (out or first_is_name)):
            out.append(_Token(word, m.start("word"), m.end("word"), "name", known))
        else:
            lower = word.lower()
            out.append(_Token(word, m.start("word"), m.end("word"), "function" if lower in function else "content"))
        if m.group("pos"):
            out.append(_Token("'s", m.start("pos"), m.end("pos"), "function"))
    return out


def _runs(tokens: list[_Token]) -> list[tuple[int, int]]:
    """Name groups as token ranges [i, j): adjacent names ("Genzo Yanagita"), names joined by "and", "or"
    or commas ("Harvard and Radcliffe") and a possessive before a name ("Bachelor's Degree") are one
    group, whose members share its slots."""
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
            between = tokens[gj:i] if i - gj <= 3 else []
            if between and ((all(t.text.lower() in _COORDINATION for t in between) and not _new_clause(tokens, gi, j))
                            or (len(between) == 1 and between[0].text == "'s")):
                groups[-1] = (gi, j)
                i = j
                continue
        groups.append((i, j))
        i = j
    return groups


def _new_clause(tokens: list[_Token], first: int, end: int) -> bool:
    """Whether "and" before the name group ending at ``end`` starts a new clause rather than a list: the
    earlier group is a verb's object and this one is followed by a past-tense verb ("had debriefed
    Lyushkov and Sorge obtained a copy": Sorge was not debriefed)."""
    if end >= len(tokens) or first == 0:
        return False
    after, before = tokens[end], tokens[first - 1]
    return after.kind == "content" and after.text.islower() and after.text.endswith("ed") \
        and before.kind == "content" and before.text.islower()


def _both_ways(t: _Token) -> bool:
    """A word of a relation that goes both ways: "met", "a friend of", "similar to", "worked with"."""
    return (stem_word(t.text) or t.text.casefold()) in _symmetric()


_Slot = tuple[tuple[str, str, tuple[str, ...]], int]
_BOTH_WAYS: _Slot = (("", "", ()), -1)  # a relation that goes both ways: its names have no roles


def _slot(tokens: list[_Token], edge: int, step: int) -> _Slot | None:
    """The slot next to a name group: (side, content word as written, function words between) and where
    the content word is; None when a mark or another name comes first or the text ends, and
    ``_BOTH_WAYS`` when the relation goes both ways ("met ▢", "▢ worked closely with", "▢'s friend")."""
    functions: list[str] = []
    k = edge
    while True:
        if not 0 <= k < len(tokens):
            return None
        t = tokens[k]
        if t.kind == "content":
            break
        if t.kind != "function" or len(functions) >= _MAX_FUNCTION_WORDS:
            return None
        if _both_ways(t):
            return _BOTH_WAYS
        functions.append(t.text.lower())
        k += step
    if _both_ways(t):
        return _BOTH_WAYS
    if step > 0:
        after = tokens[k + 1:k + 1 + _LOOKAHEAD]
        following = after[0].text.lower() if after else ""
        if following == "by" and functions in ([], ["'s"]) or following == "of" and functions == ["'s"]:
            return None  # "Elway replaced by Kubiak", "Lyushkov's execution by Takeoka": not the agent's slot
        for n, u in enumerate(after):  # "Japan signed a treaty with Germany", not "born with a clot"
            if u.kind == "mark" or u.text.lower() in _CLAUSE:
                break
            if u.text.lower() == "with" and _name_next(tokens, k + n + 2):
                return _BOTH_WAYS
    words = tuple(functions) if step > 0 else tuple(reversed(functions))
    return ("R" if step > 0 else "L", t.text.casefold(), words), k


def _name_next(tokens: list[_Token], k: int) -> bool:
    """Whether a name comes next from token ``k``, after function words only ("with the Japanese"), and
    not as a possessive ("comply with Denmark's rules" is about the rules)."""
    while k < len(tokens) and tokens[k].kind == "function":
        k += 1
    return k < len(tokens) and tokens[k].kind == "name" and (k + 1 == len(tokens) or tokens[k + 1].text != "'s")


_PASSIVE = frozenset({("was",), ("were",), ("is",), ("are",), ("be",), ("been",), ("being",), ("has", "been"),
                      ("have", "been"), ("had", "been"), ("was", "being"), ("were", "being"), ("will", "be")})
# past participles that do not end in "-ed" or "-en"
_PARTICIPLES = frozenset({"shot", "sent", "held", "caught", "hit", "made", "found", "brought", "told", "sold", "built",
                          "kept", "left", "lost", "paid", "put", "set", "struck", "taught", "bought", "led", "bound",
                          "hung", "cut", "hurt", "spent", "sought", "slain", "won", "beat", "fed", "read", "run",
                          "shut"})


def _participle(word: str) -> bool:
    return word.endswith(("ed", "en")) or word in _PARTICIPLES


# past-tense forms that do not end in "-ed" (besides the participles above that are also past tenses)
_PAST = frozenset({"fled", "took", "gave", "became", "went", "wrote", "died", "began", "came", "saw", "knew", "got",
                   "rose", "fell", "drove", "flew", "grew", "threw", "chose", "spoke", "stole", "broke", "froze",
                   "forgot", "swore", "tore", "wore", "bore", "ate", "drew", "ran", "sang", "rang", "sank", "swam",
                   "fought", "thought", "taught", "sought", "bought", "brought", "caught", "meant", "felt", "dealt",
                   "slew", "overthrew", "withdrew", "undertook", "oversaw", "foresaw", "underwent", "forbade"})


def past_tense(word: str) -> bool:
    """Whether a lower-case word reads as a verb in the past: right after a name, its doer's ("Lapin committed",
    "Sorge fled"), not a noun it modifies ("the Apollo mission", "ESPN Deportes broadcast", "a Jewish creed");
    ``rag.clauses`` reads verbs with it too."""
    return word.islower() and ((len(word) > 4 and word.endswith("ed") and not word.endswith("eed"))
                               or word in _PAST or word in _PARTICIPLES)


def _active(key: tuple[str, str, tuple[str, ...]]) -> tuple[str, str, tuple[str, ...]]:
    """A passive slot as the active one that holds the same role: "▢ was debriefed" is "debriefed ▢" (the
    one debriefed), "debriefed by ▢" is "▢ debriefed" (who debriefed)."""
    side, word, functions = key
    if side == "R" and functions in _PASSIVE and _participle(word):
        return "L", word, ()
    if side == "L" and functions == ("by",) and _participle(word):
        return "R", word, ()
    return key


def _after_preposition(tokens: list[_Token], i: int) -> bool:
    """Whether the name group starting at token ``i`` is the object of a preposition ("by the Yanagita")."""
    k = i - 1
    while k >= 0 and tokens[k].text.lower() in ("the", "a", "an"):
        k -= 1
    return k >= 0 and tokens[k].text.lower() in _PREPOSITIONS


def _slots(text: str, tokens: list[_Token], strangers: bool = False,
           ) -> dict[tuple[str, str, tuple[str, ...]], tuple[set[int], str]]:
    """Every slot next to a group holding one of the claim's names: the names in it, and its words; with
    ``strangers``, also next to a group of other names (each group its own negative id)."""
    found: dict[tuple[str, str, tuple[str, ...]], tuple[set[int], str]] = {}
    for i, j in _runs(tokens):
        names = {t.name for t in tokens[i:j] if t.kind == "name" and t.name is not None}
        stranger = not names and strangers and not (i > 0 and tokens[i - 1].kind == "mark")
        if stranger:
            names = {-1 - i}
        if not names:
            continue
        right, left = _slot(tokens, j, 1), _slot(tokens, i - 1, -1)
        if stranger and right is not None and right is not _BOTH_WAYS and not right[0][2] \
                and not past_tense(tokens[right[1]].text):
            right = None  # "the G mission", "Spanish-language broadcast": a modifier, not a doer ("Lapin committed")
        if left is _BOTH_WAYS or right is _BOTH_WAYS:
            right = None  # "Takeoka met Lyushkov daily": nor is "Lyushkov daily" a role
        elif right is not None and right[0][2][:1] == ("to",) and _after_preposition(tokens, i):
            right = None  # "ordered by Yanagita to kill": Yanagita is not who kills
        if left is _BOTH_WAYS:
            left = None
        for slot, step in ((right, 1), (left, -1)):
            if slot is None:
                continue
            key, k = slot
            key = _active(key)
            entry = found.get(key)
            if entry is None:
                a, b = (tokens[i].start, tokens[k].end) if step > 0 else (tokens[k].start, tokens[j - 1].end)
                entry = found[key] = (set(), text[a:b])
            entry[0].update(names)
    return found


def role_conflicts(claim: str, source: str, names: Iterable[str], *, source_starts_with_name: bool = False,
                   ) -> tuple[tuple[str, str], ...]:
    """(claim's words, source's words) for each slot the claim gives one of its ``names`` and the source only
    other names: "executed Takeoka" against "executed Lyushkov". ``names``: the claim's names
    (``rag.attestation.claim_names``); a name of several words is one name. ``source_starts_with_name``: the
    source's capitalised first word is a name too ("Lapin committed suicide" against "Lyushkov committed
    suicide"), which the caller knows from how the corpus writes it."""
    is_name: dict[str, int] = {}
    for name in names:
        for word in re.findall(r"[^\W\d_][\w-]*", re.sub(r"['’]s?$", "", name)):
            is_name.setdefault(_name_key(word), 0)
    # One name per run of adjacent names in the claim ("Genzo Yanagita" is one person), and runs that
    # share a word are one name ("the Bolshevik underground" and "the Bolsheviks").
    parent: dict[str, str] = {}

    def root(word: str) -> str:
        while parent[word] != word:
            parent[word] = word = parent[parent[word]]
        return word

    first = ""  # the run's first word, while in a run
    for t in _tokens(claim, is_name, capitalised_names=False):
        if t.kind != "name":
            first = ""
            continue
        word = _name_key(t.text)
        parent.setdefault(word, word)
        if first:
            parent[root(word)] = root(first)
        else:
            first = word
    ids: dict[str, int] = {}
    is_name = {word: ids.setdefault(root(word), len(ids)) for word in list(parent)}
    if not ids:
        return ()
    claim_tokens = _tokens(claim, is_name, capitalised_names=False)
    source_tokens = _tokens(source, is_name, capitalised_names=True, first_is_name=source_starts_with_name)
    out = []
    claim_slots = _slots(claim, claim_tokens)
    if claim_slots:
        source_slots = _slots(source, source_tokens, strangers=True)
        for key, (held, words) in claim_slots.items():
            found = source_slots.get(key)
            if found is not None and not held & found[0]:
                out.append((words, found[1]))
    out.extend(_event_owner_conflicts(claim, claim_tokens, source, source_tokens))
    out.extend(_title_conflicts(claim, claim_tokens, source, source_tokens))
    return tuple(dict.fromkeys(out))


# -- whose title: "Blyukher was the Far East Air Corps Commander" against "…, and Albert Lapin (the Far East Air
# Corps Commander)" ------------------------------------------------------------------------------------------
_COPULAS = frozenset({"was", "is", "were", "are", "became", "becomes", "remained"})
_ARTICLES = frozenset({"a", "an", "the"})
_MAX_TITLE_WORDS = 8


def _title_conflicts(claim: str, claim_tokens: list[_Token], source: str, source_tokens: list[_Token],
                     ) -> list[tuple[str, str]]:
    """The claim gives its subject a description ("Blyukher was the Far East Air Corps Commander"), and the source
    gives that description, wherever it has it, to another name: in brackets or after a comma right after that
    name ("Albert Lapin (the Far East Air Corps Commander)", "Lapin, the Far East Air Corps Commander,") or with
    a copula ("Lapin was the Far East Air Corps Commander"). A mention of the description with no holder, or
    with the claim's subject as its holder, is no conflict."""
    for i, j in _runs(claim_tokens):
        held = {t.name for t in claim_tokens[i:j] if t.name is not None}
        if not held or j + 1 >= len(claim_tokens) or claim_tokens[j].text.lower() not in _COPULAS:
            continue
        k = j + 1
        if claim_tokens[k].text.lower() not in _ARTICLES:
            return []
        title: list[str] = []
        for t in claim_tokens[k + 1:k + 1 + _MAX_TITLE_WORDS]:
            if t.kind == "mark" or t.text.lower() in _CLAUSE:
                break
            title.append(t.text.casefold())
        if len(title) < 2:
            return []
        claimed = claim[claim_tokens[i].start:claim_tokens[k + len(title)].end]  # "Blyukher was the … Commander"
        return _held_by_others(source, source_tokens, title, held, claimed)
    return []


def _held_by_others(source: str, tokens: list[_Token], title: list[str], held: set[int], claimed: str,
                    ) -> list[tuple[str, str]]:
    words = [(m, t) for m, t in enumerate(tokens) if t.kind != "mark"]
    found = []
    n = len(title)
    for w in range(len(words) - n + 1):
        if [t.text.casefold() for _, t in words[w:w + n]] != title:
            continue
        m = words[w][0]  # the title's first token
        if m == 0 or tokens[m - 1].text.lower() not in _ARTICLES:
            return []
        before = m - 2  # "(", ",", or a copula
        if before < 1 or not (tokens[before].text in ("(", ",") or tokens[before].text.lower() in _COPULAS):
            return []
        end = before  # the holder's name group ends just before
        if tokens[before].text.lower() in _COPULAS and before >= 3 and tokens[before - 1].text.lower() == "who" \
                and tokens[before - 2].text == ",":
            end = before - 2  # "Takeoka, who was a young intelligence officer"
        if tokens[end - 1].kind != "name":
            return []
        start = end - 1
        while start > 0 and tokens[start - 1].kind == "name":
            start -= 1
        if any(t.name is not None and t.name in held for t in tokens[start:end]):
            return []
        found.append((tokens[start].start, tokens[m + n - 1].end))
    if not found:
        return []
    return [(claimed, source[found[0][0]:found[0][1]])]


# -- whose event: "Lyushkov was executed" against "…saw that Deribas had been arrested and sent for execution" --
# Words before a clause's subject (besides the sentence's start and a comma, semicolon or colon).
_OPENERS = frozenset({"that", "and", "but", "while", "when", "after", "before", "because", "as", "since", "although",
                      "though", "whereas", "until", "once", "if", "so", "then"})
_BE = frozenset({"was", "were", "is", "are", "be", "been", "being"})
_AUXILIARIES = _BE | {"had", "has", "have", "did", "would", "could", "will"}
_SUBJECT_PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i", "you", "who", "which"})
_MAX_ADVERBS = 2
_MAX_AUXILIARIES = 3


def _subject_verb(tokens: list[_Token], i: int, j: int, anywhere: bool = False) -> tuple[int, str] | None:
    """When the name group [i, j) is a clause's subject (it opens the text or follows a comma, a semicolon,
    a colon or a clause opener, or stands ``anywhere``, and a verb in the past comes next, after auxiliaries and
    adverbs), its verb's token and voice: "passive" ("Deribas had been arrested") or "active" ("Sorge
    obtained", "had debriefed")."""
    k = i - 1
    while k >= 0 and tokens[k].text.lower() in ("the", "a", "an"):
        k -= 1
    if k >= 0 and not anywhere \
            and not (tokens[k].kind == "mark" and tokens[k].text in ",;:" or tokens[k].text.lower() in _OPENERS):
        return None
    auxiliaries: list[str] = []
    adverbs = 0
    k = j
    while k < len(tokens):
        word = tokens[k].text
        lower = word.lower()
        if lower in _AUXILIARIES:
            auxiliaries.append(lower)
            if len(auxiliaries) > _MAX_AUXILIARIES:
                return None
        elif word.islower() and (lower.endswith("ly") or lower in ("also", "later", "then", "never", "not", "soon",
                                                                   "eventually", "subsequently")):
            adverbs += 1
            if adverbs > _MAX_ADVERBS:
                return None
        else:
            break
        k += 1
    if k == len(tokens) or tokens[k].kind != "content" or not tokens[k].text.islower():
        return None
    verb = tokens[k].text
    if not auxiliaries and k + 1 < len(tokens) and tokens[k + 1].text.lower() == "by":
        return None  # "Elway replaced by Kubiak": who did what is not read
    if auxiliaries and _BE & set(auxiliaries) and _participle(verb):
        return k, "passive"
    if (auxiliaries and _participle(verb)) or (not auxiliaries and past_tense(verb)):
        return k, "active"
    return None


_POSSESSIVE_PRONOUNS = frozenset({"his", "her", "their", "its"})
_OBJECT_STARTS = frozenset({"him", "her", "them", "it", "the", "a", "an", "his", "their"})


def _voice_at(tokens: list[_Token], m: int, verb: int, owner_voice: str) -> str:
    """The voice of the word at token ``m``, a use of the claim's verb in the clause whose verb is at ``verb``:
    the clause's own, unless the word is a later verb of its own ("was ordered to kill him and shot him":
    "shot" has an object, active; "the confusion caused by": passive; "was … executed": passive)."""
    if m == verb or not past_tense(tokens[m].text):
        return owner_voice
    before = tokens[m - 1].text.lower() if m > 0 else ""
    after = tokens[m + 1] if m + 1 < len(tokens) else None
    if before in _BE:
        return "passive"
    if after is not None and after.text.lower() == "by":
        return "passive"
    if before in ("had", "has", "have") or after is not None and (after.kind == "name"
                                                                  or after.text.lower() in _OBJECT_STARTS):
        return "active"
    return owner_voice


def _event_owner_conflicts(claim: str, claim_tokens: list[_Token], source: str, source_tokens: list[_Token],
                           ) -> list[tuple[str, str]]:
    """The claim's subject and verb ("Lyushkov was executed") against a source whose every use of that verb's
    stem ("executed", "execution") belongs to a clause with another subject in the same voice ("Deribas had
    been arrested and sent to Moscow for trial and execution"): the source tells another's event.

    A word's clause subject is the nearest name group before it that is one (``_subject_verb``). No evidence
    either way: a pronoun subject on the way ("admitted that he executed Lyushkov"), no subject, another
    voice ("Deribas arrested Lyushkov and executed him"), or the claim's subject named anywhere after that
    subject ("Stalin signed a pact with Hitler", "Takeoka was executed, and so was Lyushkov"). One pass."""
    for i, j in _runs(claim_tokens):
        held = {t.name for t in claim_tokens[i:j] if t.name is not None}
        found = _subject_verb(claim_tokens, i, j) if held else None
        if found is None:
            continue
        if _slot(claim_tokens, j, 1) is _BOTH_WAYS:
            return []  # "Hitler signed the pact with Stalin": both did
        k, voice = found
        stem = stem_word(claim_tokens[k].text)
        if not stem:
            return []
        claimed = claim[claim_tokens[i].start:claim_tokens[k].end]
        return _owned_by_others(source, source_tokens, stem, voice, held, claimed)
    return []


def _owned_by_others(source: str, tokens: list[_Token], stem: str, voice: str, held: set[int], claimed: str,
                     ) -> list[tuple[str, str]]:
    # where the claim's subject is last named in the source (-1: nowhere)
    last_named = max((m for m, t in enumerate(tokens) if t.name is not None and t.name in held), default=-1)
    group_at_end = {j - 1: i for i, j in _runs(tokens)}
    owner: tuple[int, int, int, str] | None = None  # the current subject: tokens [a, b), its verb, its voice
    spans = []
    for m, t in enumerate(tokens):
        lower = t.text.lower()
        if t.kind != "name" and lower in _SUBJECT_PRONOUNS \
                and (lower in ("who", "which") or _subject_verb(tokens, m, m + 1, anywhere=True) is not None):
            owner = None  # "…summoned him, but fearing arrest he fled": a subject not read
        i = group_at_end.get(m)
        if i is not None:
            found = _subject_verb(tokens, i, m + 1)
            if found is not None:
                owner = (i, m + 1, found[0], found[1])
        if t.kind == "content" and stem_word(t.text) == stem:
            if owner is None or any(u.text.lower() in _POSSESSIVE_PRONOUNS for u in tokens[max(0, m - 2):m]):
                return []  # no subject read, or "his defection": someone the pronoun may mean
            a, b, verb, source_voice = owner
            if verb > m or _voice_at(tokens, m, verb, source_voice) != voice or last_named >= a:
                return []  # a later verb, another voice, or the claim's subject named from there on
            spans.append((tokens[a].start, t.end))
    if not spans:
        return []
    return [(claimed, source[spans[0][0]:spans[0][1]])]
