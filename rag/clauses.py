"""Clauses: the facts one sentence joins, each to be checked on its own.

A language model writes "Lyushkov was born in Odessa in 1900 and joined the Cheka in 1920", where an
article states the birth in one sentence and the Cheka in another: no one source sentence states the
whole, yet each part is stated. ``clauses`` cuts such a sentence where a new clause starts, without a
parser, only where the cut is plain:

* at ";";
* at ", and", ", but", ", while", ", whereas" (a comma before the conjunction);
* at "and" (no comma) when a pronoun, an auxiliary or a verb in the past follows ("… in 1900 and joined
  the Cheka", "… and was arrested", "… and he fled"), never between two names ("Lyushkov and Sorge") nor
  two adjectives ("a feared and hated chief");
* at a comma before a verb in the past, in a series that "and" and a verb end ("born in Odessa, joined the
  Cheka, and fled"; not a participle phrase, "Lyushkov replaced Deribas, born in Odessa");
* at "who" after "<subject> was a(n)/the … <common noun>" ("Lyushkov was a Soviet officer who defected in
  1938"), where "who" can only be the subject (not after a comma or a name: "the deputy of Deribas, who
  was executed" is about Deribas).

* after a name that opens the sentence (after an opening phrase, "In 1938, …") and is followed by "who …," or
  by an appositive "a/an/the …," or "<name>'s …," before its verb ("Lyushkov, who had headed the NKVD in the
  Far East, defected in 1938"; "Takeoka, a young intelligence officer, admitted…"): the first part is
  looked up as "Lyushkov had headed the NKVD in the Far East" / "Takeoka was a young intelligence officer",
  the rest with the name and the opening phrase, and cut further like any sentence. Not after "whom", not
  for an appositive of time ("the next day") or with a verb, not when the closing comma may be inside
  brackets or quotes.

A part that opens with "he", "she", "his" or "her" takes the first part's subject too ("Lapin was
arrested in 1938 and he committed suicide" → "Lapin committed suicide"; "… and his wife was sent to the
Gulag" → "Lapin's wife was sent to the Gulag"), but only when the first part names no one and nothing
else after its verb; otherwise ("Lyushkov arranged for his wife to leave, and she fled"), or for "it"
and "they", the sentence is not cut. A part that starts with its verb ("joined the Cheka in 1920")
takes the first part's subject, the words
before its first verb after its last comma ("Fearing arrest, Lyushkov fled …" gives "Lyushkov"), and
after "was <participle>" also the auxiliary ("Deribas was arrested and executed in 1938": "Deribas was
executed in 1938"), so it is looked up as a sentence about the same subject and cannot be backed by a
sentence about someone else. When that subject cannot be read, the sentence is not cut. Parts of fewer
than two words of their own are not cut off, and a sentence is cut only when every part has a verb (an
auxiliary or a verb in the past): ", and" also ends lists ("Odessa, Kiev, and Moscow"). A sentence of
more than ``MAX_CLAUSES`` parts is not cut.

Cuts that need a parser are not made: "which", "whom" and "who" elsewhere (the antecedent may be any noun
before them), "because", "after", participle phrases, and what the parts assert about each other ("He
defected *because* he feared arrest" states a reason no part states). A sentence of such a kind stays
one claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.roles import past_tense

_WORD = re.compile(r"\S+")
_AUXILIARIES = frozenset({"was", "were", "is", "are", "had", "has", "have", "did", "does", "do", "would", "could",
                          "will", "can", "may", "might", "should", "must", "became", "becomes", "become", "been"})
_BE = frozenset({"was", "were", "is", "are"})
_PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i", "you"})
# a part that opens with one of these (or a capitalised word or a number) has a subject of its own
_OWN_SUBJECT = _PRONOUNS | frozenset({"the", "a", "an", "this", "that", "these", "those", "his", "her", "its",
                                      "their", "many", "most", "some", "several", "all", "both", "each", "no",
                                      "none", "one", "two", "three", "there", "other", "others"})
_ADVERBS = frozenset({"then", "later", "also", "subsequently", "eventually", "soon", "afterwards", "thereafter",
                      "still", "finally", "ultimately", "again", "briefly", "once"})
_CONJUNCTIONS = frozenset({"and", "but", "while", "whereas"})
# participles that ``rag.roles.past_tense`` does not read as verbs (it knows the past tenses): "born", "taken"
_PARTICIPLES = frozenset({"begun", "born", "borne", "broken", "chosen", "done", "drawn", "driven", "flown",
                          "forgotten", "frozen", "given", "gone", "grown", "hidden", "known", "ridden", "risen", "seen",
                          "shown", "spoken", "stolen", "sung", "sworn", "taken", "thrown", "torn", "worn", "written"})
_MAX_SUBJECT_WORDS = 5
# past tenses that are no participles: "was arrested and fled" is not "was fled"
_PAST_ONLY = frozenset({"fled", "took", "gave", "became", "went", "wrote", "died", "began", "came", "saw", "knew",
                        "rose", "fell", "drove", "flew", "grew", "threw", "chose", "spoke", "stole", "broke", "froze",
                        "swore", "tore", "wore", "ate", "drew", "ran", "sang", "sank", "swam", "slew", "withdrew",
                        "undertook", "oversaw", "underwent", "defected", "arrived", "returned", "emigrated",
                        "travelled", "traveled", "worked", "served", "lived", "remained", "disappeared", "escaped",
                        "participated", "succeeded", "belonged", "existed", "happened", "occurred", "resigned",
                        "retired", "collapsed", "survived", "failed", "surrendered", "vanished", "departed",
                        "perished", "stayed", "emerged", "appeared", "waited", "hesitated"})
# verbs a passive keeps before a complement ("was promoted and named chief of the NKVD", "and awarded the Order"),
# unless a pronoun follows ("and named his deputy"); "made" is left out: "was arrested and made a statement"
_COMPLEMENT_PASSIVES = frozenset({"named", "appointed", "elected", "awarded", "promoted", "declared", "deemed",
                                  "considered", "granted"})
_OBJECT_PRONOUNS = frozenset({"him", "her", "them", "it", "his", "their", "its", "me", "us"})
MAX_CLAUSES = 4  # a sentence of more parts is checked whole (each part costs a lookup)
# after a participle, what leaves it passive: "(was) executed in 1938", "(was) sent to the Gulag"; an object
# makes it active ("joined the Party", "studied law") even after "was born …"
_PASSIVE_NEXT = frozenset({"", "and", "by", "in", "on", "at", "to", "from", "for", "with", "as", "during", "after",
                           "before", "under", "into", "until", "near", "without", "within", "shortly", "soon", "later"})


@dataclass(frozen=True)
class Clause:
    start: int  # offsets into the text given to ``clauses``
    end: int
    lookup: str  # the clause as it is looked up: with the first clause's subject when it has none of its own


def _bare(word: str) -> str:
    return word.strip(".,;:!?\"'“”‘’()[]").lower()


def _verb(word: str) -> bool:
    """A word that reads as an auxiliary, a verb in the past or a participle: "was", "joined", "fled", "born"
    (not "seed")."""
    bare = _bare(word)
    if not bare.isalpha() or not word[:1].islower():
        return False
    return bare in _AUXILIARIES or bare in _PARTICIPLES or past_tense(bare)


def _participle(word: str) -> bool:
    bare = _bare(word)
    return word[:1].islower() and bare.isalpha() and (bare.endswith(("ed", "en")) or bare in _PARTICIPLES
                                                      or past_tense(bare))


_MARKER = re.compile(r"^\[[\d,;\s–-]*\][.,;:]?$")
_NEGATORS = frozenset({"not", "never", "no", "always", "often", "already", "just", "only"})
# words that open a subordinate clause: a verb after them is not the sentence's ("Deribas, whom Lyushkov
# replaced, was…", "When Deribas arrived…, Lyushkov…")
_SUBORDINATORS = _CONJUNCTIONS | frozenset({"who", "whom", "whose", "which", "that", "when", "where", "if", "after",
                                            "before", "because", "although", "though", "since", "as", "until",
                                            "unless", "whether", "once", "or", "nor"})
_EXPLETIVES = frozenset({"it", "there", "this", "that"})  # "It is a myth that …": no one to give a clause
_PREPOSITIONS = frozenset({"of", "in", "at", "on", "from", "for", "with", "by", "to", "under", "over", "about",
                           "among", "between", "against"})
_QUOTES = frozenset('"“”')
_DETERMINERS = frozenset({"a", "an", "the", "his", "her", "its", "their", "this", "that", "these", "those"})
_POSSESSIVES = frozenset({"his", "her", "their", "its"})
# a pronoun opening a clause is the first clause's subject only when it can be no one else: "he"/"she"/"his"/
# "her", and the first clause names no one and nothing else after its verb ("Lyushkov arranged for his wife
# to leave, and she fled" is about the wife; "it" and "they" rarely mean a person)
_RESOLVABLE = frozenset({"he", "she", "his", "her"})
_OPENERS = frozenset({"during", "after", "before", "around", "since", "until", "following", "later", "then", "upon"})


def _skippable(word: str) -> bool:
    """An opening adverb ("later", "also", "eventually") or a citation marker ("[1]")."""
    bare = _bare(word)
    return bare in _ADVERBS or bare.endswith("ly") or bool(_MARKER.match(word))


def _significant(words: list[re.Match[str]], i: int, j: int) -> int:
    """The first word of ``words[i:j]`` that is not an opening adverb or a marker."""
    while i < j and _skippable(words[i].group()):
        i += 1
    return i


def _group_starts(words: list[re.Match[str]], i: int, j: int) -> list[int]:
    """Where the runs of verbs in ``words[i:j]`` start ("was reportedly captured" is one run; "claimed he was
    born" two)."""
    starts, inside = [], False
    for n in range(i, j):
        w = words[n].group()
        if _verb(w):
            if not inside:
                starts.append(n)
            inside = True
        elif not (inside and _skippable(w)):
            inside = False
    return starts


def _embedded(words: list[re.Match[str]], i: int, j: int) -> bool:
    """Whether a later run of verbs in ``words[i:j]`` has a subject of its own (a pronoun, a name, or "that",
    "where"… before it: "Lyushkov claimed he was born …", "The feared officer Lyushkov was born …"), so that
    a clause after "and" may belong to it rather than to the first."""
    for n in _group_starts(words, i, j)[1:]:
        k = n - 1
        while k > i and _skippable(words[k].group()):
            k -= 1
        before = words[k].group()
        if _bare(before) in _PRONOUNS | _SUBORDINATORS or (before[:1].isupper() and before.isalpha()):
            return True
    return False


@dataclass(frozen=True)
class _Subject:
    start: int  # word range of the subject
    end: int
    verb: int  # its verb's word index
    passive: str  # the auxiliary of a passive ("was", "had been": "Deribas was arrested"), or ""


def _subject(words: list[re.Match[str]], i: int, j: int) -> _Subject | None:
    """The subject of the main clause ``words[i:j]``: its words before its first verb, after the last comma
    before it, without trailing adverbs ("Lyushkov never returned" gives "Lyushkov"). None when it cannot be
    read plainly: no verb; a subordinate clause first ("When Deribas arrived, …", "Deribas, whom Lyushkov
    replaced, …"); an expletive ("It is a myth that …"); or a later verb with a subject of its own, so that a
    clause after "and" may belong to it ("Lyushkov claimed he was born in Odessa and joined …")."""
    k = i
    while k < j and not _verb(words[k].group()):
        k += 1
    if k == i or k >= j or _embedded(words, i, j):
        return None
    if any(_bare(w.group()) in _SUBORDINATORS for w in words[i:k]):
        return None
    first = i
    for n in range(i, k):
        if words[n].group().endswith((",", ":")):
            first = n + 1
    end = k
    while end > first and (_skippable(words[end - 1].group()) or _bare(words[end - 1].group()) in _NEGATORS):
        end -= 1
    if end > first and _bare(words[first].group()) in _PREPOSITIONS | _OPENERS:
        # "In November 1920 he joined …", "In 1938 Lyushkov fled …": the subject is what ends the run, a
        # pronoun or a capitalised name, not the opening phrase
        n = end
        while n > first and words[n - 1].group()[:1].isupper() and words[n - 1].group().isalpha():
            n -= 1
        if n == end and _bare(words[end - 1].group()) in _PRONOUNS:
            n = end - 1
        if n in (end, first):
            return None
        first = n
    if end == first or end - first > _MAX_SUBJECT_WORDS:
        return None
    if end - first == 1 and _bare(words[first].group()) in _EXPLETIVES:
        return None
    aux = [k]
    if _bare(words[k].group()) in ("had", "has", "have") and k + 1 < j and _bare(words[k + 1].group()) == "been":
        aux.append(k + 1)  # "had been arrested"
    nxt = aux[-1] + 1
    while nxt < j and (_skippable(words[nxt].group()) or _bare(words[nxt].group()) in _NEGATORS):
        nxt += 1  # "was reportedly captured", "was never tried"
    passive = _bare(words[aux[-1]].group()) in _BE | {"been"} and nxt < j and _participle(words[nxt].group())
    return _Subject(first, end, k, " ".join(_bare(words[n].group()) for n in aux) if passive else "")


def _clause_starts_after(words: list[re.Match[str]], i: int, copula: int | None) -> bool:
    """Whether word ``i`` ("and", "but", "while", "whereas", "who") starts a new clause with the word after it;
    ``copula``: the index of the clause's "was" in "<subject> was a/an/the …", if it has one."""
    bare = _bare(words[i].group())
    nxt = _significant(words, i + 1, len(words))
    after = words[nxt].group() if nxt < len(words) else ""
    if bare in _CONJUNCTIONS and words[i - 1].group().endswith(","):
        return True
    if bare == "and":
        if i >= 2 and _bare(words[i - 2].group()) in _DETERMINERS and _verb(words[i - 1].group()):
            return False  # "a feared and hated chief": two adjectives
        return _bare(after) in _PRONOUNS or _verb(after)
    # "an officer who defected": "who" right after the copula's common noun (no comma: ", who" may follow any
    # name; no preposition: "the replacement of the former chief who fled" is about the chief), then a verb
    # ("the officer who Lyushkov shot" is about whom Lyushkov shot)
    previous = words[i - 1].group()
    if bare != "who" or copula is None or not (previous.isalpha() and previous.islower() and _verb(after)):
        return False
    # one noun phrase between: its determiner, then no preposition, "-ing" word, participle, second determiner
    # or comparison ("the NKVD chief replacing the commander who…", "an officer unlike the prisoner who…")
    between = [_bare(w.group()) for w in words[copula + 2:i]]
    return not any(w in _PREPOSITIONS | _DETERMINERS | {"like", "unlike", "than", "as"} or w.endswith("ing")
                   or _verb(w) for w in between)


def _series_ends_later(words: list[re.Match[str]], i: int) -> bool:
    """Whether "and" before a verb follows word ``i``: ", joined the Cheka in 1920, and fled …" is a series of
    clauses; "Lyushkov replaced Deribas, born in Odessa" is a participle phrase about Deribas."""
    for n in range(i + 1, len(words) - 1):
        if _bare(words[n].group()) == "and":
            nxt = _significant(words, n + 1, len(words))
            if nxt < len(words) and _verb(words[nxt].group()):
                return True
    return False


def _cuts(words: list[re.Match[str]]) -> list[tuple[int, int]]:
    """Where new clauses start: (index of the cut's first word, index of the clause's first word)."""
    cuts: list[tuple[int, int]] = []
    depth = 0  # inside brackets or quotes nothing is cut
    quoted = False
    copula: int | None = None  # where the clause so far has "<subject> was a/an/the …"
    clause_start = 0
    for i, m in enumerate(words):
        word = m.group()
        if i > clause_start and depth == 0 and not quoted:
            previous = words[i - 1].group()
            if previous.endswith(";"):
                cut: tuple[int, int] | None = (i, i)
            elif _clause_starts_after(words, i, copula):
                cut = (i, i + 1)
            elif previous.endswith(",") and _verb(word) and _group_starts(words, clause_start, i) \
                    and _series_ends_later(words, i):
                cut = (i, i)  # a series: "born in Odessa in 1900, joined the Cheka in 1920, and fled …"
            else:
                cut = None
            if cut is not None:
                cuts.append(cut)
                clause_start, copula = cut[1], None
        bare = _bare(word)
        if copula is None and bare in _BE and i + 1 < len(words) and _bare(words[i + 1].group()) in ("a", "an", "the"):
            subject = _subject(words, clause_start, i + 1)
            copula = i if subject is not None and subject.verb == i else None
        depth = max(0, depth + word.count("(") + word.count("[") - word.count(")") - word.count("]"))
        for ch in word:
            if ch in _QUOTES:
                quoted = ch == "“" or (ch == '"' and not quoted)
    return cuts


def _others_named(words: list[re.Match[str]], i: int, j: int) -> bool:
    """Whether ``words[i:j]`` (the first clause after its verb) names someone a pronoun could mean instead: a
    pronoun or possessive ("arranged for his wife"), or a name that is no place or date, one not after a
    preposition or a number ("interrogated Zinoviev", "was the Far East Air Corps Commander"; not "born in
    London on 10 December")."""
    for n in range(i, j):
        w = words[n].group()
        if _bare(w) in _PRONOUNS | _POSSESSIVES | {"him", "them"}:
            return True
        if w[:1].isupper() and w[:1].isalpha():
            before = words[n - 1].group() if n > i else ""
            if before[:1].isupper() and before[:1].isalpha():
                continue  # the same name's later word
            if _bare(before) not in _PREPOSITIONS | {"into", "near"} and not _bare(before).isdigit():
                return True
    return False


_NOT_PEOPLE = _PRONOUNS - {"he", "she"}
_TRAILING = re.compile(r"[\s,;:]+$")
_MAX_NAME_WORDS = 4
_MAX_LEAD_WORDS = 12
# words that open a phrase or clause before the subject: "Like Deribas and Lapin, Blyukher, …", "When the
# invasion began, Lyushkov, …"
_LEADS = frozenset({"like", "unlike", "despite", "when", "while", "although", "though", "because", "as", "once",
                    "shortly", "soon", "early", "late"})
_APPOSITION_OPENERS = frozenset({"a", "an", "the"})
# a capitalised first word that opens a sentence without being its subject: "However, the plan, …"
_DISCOURSE = frozenset({"however", "meanwhile", "nevertheless", "nonetheless", "instead", "moreover", "furthermore",
                        "additionally", "also", "overall", "yes", "no", "sure", "indeed", "still", "thus", "hence",
                        "therefore", "consequently", "today", "now", "here", "there", "again", "besides", "otherwise",
                        "ultimately", "first", "second", "third", "lastly", "next", "so", "well", "in", "on", "at"})
# an appositive of time is no description of the subject: "Lyushkov, the next day, fled"
_TIME_WORDS = frozenset({"day", "days", "year", "years", "month", "months", "week", "weeks", "morning", "evening",
                         "night", "time", "times", "moment", "hour", "hours", "decade", "decades", "century", "spring",
                         "summer", "autumn", "fall", "winter", "following", "same", "previous"})


def _name_word(word: str) -> bool:
    """A capitalised word of a name: "Lyushkov", "Samoilovich", "Al-Qaeda", "O'Brien"."""
    bare = word.rstrip(",")
    return bare[:1].isupper() and bare.replace("-", "").replace("'", "").replace("’", "").isalpha()


def _possessive_name(word: str) -> bool:
    """A name in the possessive, opening an appositive: "Inna, Lyushkov's wife, …"."""
    return bool(re.fullmatch(r"[A-Z][\w-]*['’]s", word))


def _apposition(text: str, words: list[re.Match[str]]) -> list[Clause] | None:
    """A sentence whose subject, a name, is followed by "who …," or an appositive "a/an/the …," before its
    verb: "Lyushkov, who had headed the NKVD in the Far East, defected in 1938" gives "Lyushkov had headed the
    NKVD in the Far East" and "Lyushkov defected in 1938"; "Takeoka, a young intelligence officer, admitted…"
    gives "Takeoka was a young intelligence officer". An opening phrase ("In 1938, …") goes with the main
    clause, which is cut further like any sentence. None when the sentence has no such shape."""
    lead = 0
    if words and _bare(words[0].group()) in _PREPOSITIONS | _OPENERS | _LEADS:
        lead = next((n + 1 for n in range(min(len(words), _MAX_LEAD_WORDS)) if words[n].group().endswith(",")), 0)
        if lead == 0:
            return None
    s = lead
    while s < len(words) and s - lead < _MAX_NAME_WORDS and _name_word(words[s].group()):
        if words[s].group().endswith(","):
            break
        s += 1
    if s == len(words) or not (_name_word(words[s].group()) and words[s].group().endswith(",")) \
            or s - lead >= _MAX_NAME_WORDS:
        return None
    if s == lead and (_skippable(words[s].group()) or _bare(words[s].group()) in _DISCOURSE | _NOT_PEOPLE):
        return None  # "However, …", "Later, …", "It, …": no name
    s += 1  # the word after the subject's comma
    if s >= len(words):
        return None
    opener = _bare(words[s].group())
    if opener != "who" and opener not in _APPOSITION_OPENERS and not _possessive_name(words[s].group()):
        return None
    c = next((n for n in range(s, len(words)) if words[n].group().endswith(",")), None)
    if c is None or c + 1 >= len(words):
        return None
    inner = words[s + 1:c + 1] if opener == "who" else words[s:c + 1]
    between = "".join(w.group() for w in words[s:c + 1])
    if any(ch in "()[]" for ch in between) or between.count('"') % 2 or between.count("“") != between.count("”"):
        return None  # a comma inside brackets or quotes may not close the clause
    if opener == "who":
        if not _verb(words[_significant(words, s + 1, c + 1)].group()):
            return None  # "who" is the subject of a verb: "who had headed …", not "whom …"
    elif any(_verb(w.group()) or _bare(w.group()) in _TIME_WORDS for w in inner) \
            or sum(any(ch.isalpha() for ch in w.group()) for w in inner) < 2:
        return None  # an appositive is a noun phrase that describes: "a young intelligence officer"
    main = _significant(words, c + 1, len(words))
    if main >= len(words) or not _verb(words[main].group()):
        return None
    subject = text[words[lead].start():words[s - 1].end()].rstrip(",")
    before = text[words[0].start():words[lead].start()] if lead else ""
    said = _TRAILING.sub("", text[inner[0].start():inner[-1].end()])
    first_end = words[0].start() + len(_TRAILING.sub("", text[words[0].start():words[c].end()]))  # no comma
    first = Clause(words[0].start(), first_end, f"{subject} {said}" if opener == "who" else f"{subject} was {said}")
    rest_start, end = words[c + 1].start(), len(text.rstrip())
    prefix = f"{before}{subject} "
    rest = f"{prefix}{text[rest_start:end]}"
    parts = [Clause(rest_start, end, rest)]
    cut = clauses(rest)
    if 0 < len(cut) < MAX_CLAUSES:  # the main clause joins facts too: "…, defected in 1938 and was killed …"
        def back(o: int) -> int:
            return rest_start + max(0, o - len(prefix))
        parts = [Clause(back(p.start), back(p.end), p.lookup) for p in cut]
    return [first, *parts]


def _balanced(lookup: str) -> str:
    """A lookup without the quote mark a cut left alone at its edge ('“Lyushkov joined…' of '“Lyushkov joined…
    and fled.”')."""
    if lookup.count("“") > lookup.count("”") and lookup.startswith("“"):
        lookup = lookup[1:]
    if lookup.count("”") > lookup.count("“") and lookup.rstrip(".").endswith("”"):
        lookup = lookup.rstrip(".")[:-1] + ("." if lookup.endswith(".") else "")
    if lookup.count('"') % 2:
        if lookup.startswith('"'):
            lookup = lookup[1:]
        elif lookup.rstrip(".").endswith('"'):
            lookup = lookup.rstrip(".")[:-1] + ("." if lookup.endswith(".") else "")
    return lookup


def clauses(text: str) -> list[Clause]:
    """The clauses of one sentence ``text`` that can be checked on their own, or [] when it is not cut
    (one clause, or a subject that cannot be read)."""
    found = _clauses(text)
    return [Clause(c.start, c.end, _balanced(c.lookup)) for c in found]


def _clauses(text: str) -> list[Clause]:
    words = list(_WORD.finditer(text))
    found = _apposition(text, words)
    if found is not None:
        return found
    cuts = _cuts(words)
    if not cuts:
        return []
    bounds = [(0, cuts[0][0])] + [(cuts[n][1], cuts[n + 1][0]) for n in range(len(cuts) - 1)] \
        + [(cuts[-1][1], len(words))]
    # a part with fewer than two words of its own is no clause: it goes back to the one before it
    merged: list[tuple[int, int]] = []
    for i, j in bounds:
        if merged and j - i < 2:
            merged[-1] = (merged[-1][0], j)
        elif not merged and j - i < 2:
            return []
        else:
            merged.append((i, j))
    # each part must be a clause, with a verb of its own: ", and" also ends lists ("Odessa, Kiev, and Moscow",
    # "his memorial, but his burial site")
    if not 2 <= len(merged) <= MAX_CLAUSES or not all(any(_verb(w.group()) for w in words[i:j]) for i, j in merged):
        return []
    subject = _subject(words, *merged[0])
    out = []
    for n, (i, j) in enumerate(merged):
        start, end = words[i].start(), words[j - 1].end()
        part = _TRAILING.sub("", text[start:end])
        end = start + len(part)
        head = _significant(words, i, j)
        first = words[head].group() if head < j else ""
        pronoun = _bare(first) in _PRONOUNS | _POSSESSIVES
        if n == 0 or not first[:1].isalpha() or (not first[:1].islower() and not pronoun) \
                or (_bare(first) in _OWN_SUBJECT and not pronoun):
            out.append(Clause(start, end, part))  # a subject of its own: a name, "the Japanese", "others"
            continue
        if subject is None:
            return []
        who = " ".join(w.group() for w in words[subject.start:subject.end]).rstrip(",")
        if pronoun:  # "Lapin was arrested in 1938 and he committed suicide": he is Lapin
            if _bare(who) in _PRONOUNS:  # "He defected; he was killed": as written
                out.append(Clause(start, end, part))
                continue
            if _bare(first) not in _RESOLVABLE or _others_named(words, subject.verb + 1, merged[0][1]):
                return []
            name = f"{who}'s" if _bare(first) in _POSSESSIVES else who
            rest = text[words[head].end():end]
            out.append(Clause(start, end, f"{text[start:words[head].start()]}{name}{rest}"))
            continue
        if not _verb(first):
            return []
        following = _bare(words[head + 1].group()) if head + 1 < j else ""
        if subject.passive and _participle(first) and _bare(first) not in _AUXILIARIES | _PAST_ONLY \
                and (following in _PASSIVE_NEXT or _bare(first) in _PARTICIPLES
                     or _bare(first) in _COMPLEMENT_PASSIVES and following not in _OBJECT_PRONOUNS):
            who += " " + subject.passive  # "was arrested and executed in 1938"
        out.append(Clause(start, end, f"{who} {part}"))
    return out
