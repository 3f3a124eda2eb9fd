"""What a document says its people are: the descriptions it gives a name once, by apposition.

A biography introduces a person once with what they are to its subject ("his Jewish wife, Inna,";
"his superior, General Genzo Yanagita,"; "Yutaka Takeoka, who was a young intelligence officer and
Lyushkov's handler at the end of the war") and later writes the name alone ("Inna was kept at the
Lubyanka prison…"). A question uses the description ("What happened to his wife?", "What did Lyushkov
do that made his handler pull the trigger?"). ``described`` gives each sentence the words of the
descriptions of the names it mentions, which the answer ranker and its soft coverage count as the
sentence's own (rag.calibration, rag.answering). Claim lookup does not: a claim must be stated by the
sentence it cites.

Two patterns, both bounded (linear time in the text's length):

* a description, then the name: "his|her|their|its|the|<Name>'s <up to five words>, <Name>" followed by a
  comma, a full stop, a semicolon, a colon or a bracket;
* the name, then a description: "<Name>, [who was|is|had been|became] a|an|the|his|her|their <words>",
  the description ending at a comma, a full stop, a bracket, or a word that starts a clause or a
  place or time ("who", "which", "at", "in", "during"…), and the name not the object of a
  preposition or an article ("During the Great Purge, the…").

The name is keyed by its last word ("Yanagita", "Takeoka"), which must be a word the corpus only
ever capitalises (``WordUsage.is_name``: not "However", "Finally"), not a month or a weekday, and,
when it is one word opening a sentence, a word the text also capitalises inside a sentence. A name
described twice gathers both descriptions. A sentence mentions a name when it holds the key word (or its possessive).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from rag.identity import CALENDAR_WORDS
from rag.lexical import tokenize

_NAME_WORD = r"[A-Z][\w'’-]*(?:\.(?=[ \t]+[A-Z]))?"  # "Dr. Smith", "John W. Weeks", "St. Petersburg"
_NAME = rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,3}}"
_BEFORE = re.compile(r"(?:\b(?:[Hh]is|[Hh]er|[Tt]heir|[Ii]ts|[Tt]he)|(?<![\w'’-])[A-Z][\w-]*['’]s)"  # "his", "Ivanov's"
                     r"[ \t]+(?P<desc>(?:[A-Za-z][\w'’-]*[ \t]+){0,4}?[a-z][\w'’-]*),"
                     rf"[ \t]+(?P<name>{_NAME})(?=[ \t]*[,.;:()])")
_AFTER = re.compile(rf"(?<![\w'’-])(?P<name>{_NAME}),[ \t]+(?:who[ \t]+(?:was|is|had[ \t]+been|became)[ \t]+)?"
                    r"(?:a|an|the|his|her|their)[ \t]+(?P<desc>[^,;.()\n]{1,100})")
_DESCRIPTION_ENDS = re.compile(r"\s(?:who|whom|whose|which|that|at|in|on|from|with|by|to|during|after|before|when|"
                               r"where|while|since|until)\b")
# words that make what follows them an adverbial ("In Paris, the government…", "By the time of his arrest, …")
_GOVERNORS = frozenset({"the", "a", "an", "of", "in", "on", "at", "during", "after", "before", "since", "until",
                        "from", "to", "by", "with", "for", "like", "unlike", "despite", "without", "as", "against",
                        "following", "including", "under", "over", "near", "upon", "within", "into", "about",
                        "through", "throughout", "among", "beside", "besides", "except", "per", "via", "when",
                        "while", "although", "though", "if", "because", "whereas"})
_GOVERNED = re.compile(r"(?<![\w'’-])([A-Za-z]+)[ \t]+$")
_SENTENCE_START = re.compile(r"(?:^|[.!?][\"'”’)]*\s+|\n\s*)$")
_INNER_CAPITAL = re.compile(r"[a-z,][ \t]+([A-Z][\w'’-]*)")  # a capitalised word inside a sentence
_PAIR = re.compile(r"(?<![\w'’-])([A-Z][\w'’-]*)[ \t]+([A-Z][\w'’-]*)")  # "George Gershwin"
_SAYING = frozenset({"said", "says", "say", "wrote", "writes", "write", "reported", "reports", "report", "claimed",
                     "claims", "claim", "noted", "notes", "note", "argued", "argues", "argue", "recalled", "recall",
                     "added", "explained", "believed", "believe", "thought", "think", "stated", "states", "told",
                     "tell"})
# words before or after a name that are no part of what its mentions are keyed by
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "sir", "lord", "lady", "general", "marshal", "colonel", "captain",
                     "major", "admiral", "president", "king", "queen", "prince", "princess", "saint", "st", "professor",
                     "prof", "count", "countess", "baron", "duke", "emperor", "pope", "father", "brother", "sister"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# descriptions that are times, not what someone is ("The next day, Lyushkov, who…")
_TIMES = frozenset({"day", "days", "year", "years", "month", "months", "week", "weeks", "morning", "afternoon",
                    "evening", "night", "time", "times", "century", "decade", "following", "next", "previous",
                    "same", "end", "beginning", "spring", "summer", "autumn", "winter", "moment", "period", "era"})
_VERBISH = frozenset({"was", "were", "is", "are", "had", "has", "have", "did", "does", "do", "would", "could",
                      "will", "can", "became", "made", "took", "gave", "sent", "met", "left", "told", "saw"})
_CAPITALISED = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]*")
_LOOKBEHIND = 20  # characters before a match read for a governing word (bounded)
_CLAUSE_CHARS = 60  # characters before a description read for the words that open its clause (bounded)
_CLAUSE_BREAK = re.compile(r"[.!?;:,(\n]")
_PLAIN_WORD = re.compile(r"[A-Za-z][\w'’-]*")


def name_key(word: str) -> str:
    """A name's key as written in a mention: without a possessive ending."""
    for ending in ("'s", "’s", "'", "’"):
        if word.endswith(ending) and len(word) > len(ending):
            return word[: -len(ending)]
    return word


def _governed(text: str, start: int, opening: bool = False) -> bool:
    """Whether the words before ``start`` make the match an object or an adverbial. Without ``opening`` (a name
    that comes first): a preposition or an article right before it ("During the Great Purge, the…"). With it (a
    description that comes first): a preposition among the few words that open its clause, none of them a verb
    ("In the end, Takeoka…", "Soon after the war, Stalin…", "Two years after the purge, Yezhov…"; not "Lyushkov
    arranged for his Jewish wife, Inna,")."""
    if not opening:
        before = _GOVERNED.search(text, max(0, start - _LOOKBEHIND), start)
        return bool(before and before.group(1).lower() in _GOVERNORS)
    opening_words = _CLAUSE_BREAK.split(text[max(0, start - _CLAUSE_CHARS):start])[-1]
    words = [w.lower() for w in _PLAIN_WORD.findall(opening_words)]
    return 0 < len(words) <= 4 and any(w in _GOVERNORS for w in words) \
        and not any(w in _VERBISH or w.endswith("ed") for w in words)


def _key_words(name: str) -> list[str]:
    """The words of a name without a title before it or a suffix after it ("General Genzo Yanagita" → Genzo
    Yanagita, "John Smith Jr." → John Smith), and without abbreviation dots."""
    words = [w.rstrip(".") for w in name.split()]
    while len(words) > 1 and words[0].lower() in _TITLES:
        words = words[1:]
    while len(words) > 1 and words[-1].lower() in _SUFFIXES:
        words = words[:-1]
    return words


def descriptors(text: str, is_name: Callable[[str], bool], title: str = "") -> dict[str, frozenset[str]]:
    """The description tokens of each name ``text`` describes by apposition, keyed by the word its mentions use:
    the name's last word ("Takeoka"), or its first ("Ira") when the text also puts another first name before
    that last word, or the document's ``title`` has it ("George Gershwin" and "his brother, Ira Gershwin":
    "Gershwin" alone is either, most often the article's subject)."""
    titled = {name_key(w) for w in _CAPITALISED.findall(title)}
    inner = {name_key(w) for w in _INNER_CAPITAL.findall(text)}  # once: linear in the text's length
    before_last: dict[str, set[str]] = {}  # the first names written before each last name
    for first, last in _PAIR.findall(text):
        if first.lower() not in _TITLES and is_name(first):  # not "When Takeoka…", "General Yanagita"
            before_last.setdefault(name_key(last), set()).add(first)
    found: dict[str, set[str]] = {}
    for pattern in (_BEFORE, _AFTER):
        for m in pattern.finditer(text):
            name, description = m.group("name"), m.group("desc")
            words = _key_words(name)
            if name.split()[0].lower() in _GOVERNORS or _governed(text, m.start(), opening=pattern is _BEFORE):
                continue  # "In Paris, the government…", "Like Stalin, the dictator…", "By the time of…, Yezhov"
            if pattern is _AFTER:
                end = _DESCRIPTION_ENDS.search(description)
                description = description[: end.start()] if end else description
            described_words = description.split()
            if not described_words or described_words[-1][:1].isupper():
                continue  # nothing, or a name ("He visited France, the Netherlands, and Belgium")
            last = described_words[-1].lower()
            if last in _SAYING or last.endswith("ed") or any(w.lower() in _TIMES for w in described_words):
                continue  # "Lyushkov, the Japanese said, …", "The next day, Lyushkov, who…": no description
            if len(name.split()) == 1 and _SENTENCE_START.search(text, max(0, m.start() - 5), m.start()) \
                    and name_key(words[0]) not in inner:
                continue  # capitalised because it opens a sentence, and never inside one: no evidence it is a name
            key = name_key(words[-1])
            if len(words) > 1 and (before_last.get(key, set()) - {words[-2]} or key in titled):
                key = name_key(words[0])  # another first name stands before this last name, or the subject has it
            if key.lower() in CALENDAR_WORDS or not is_name(key):
                continue
            tokens = set(tokenize(description)) - set(tokenize(name))
            if tokens:
                found.setdefault(key, set()).update(tokens)
    return {k: frozenset(v) for k, v in found.items()}


def described(doc_sentences: Iterable[tuple[str, str]],
              per_doc: dict[str, dict[str, frozenset[str]]]) -> tuple[frozenset[str], ...]:
    """For each ``(doc_id, sentence text)``, the description tokens of the names it mentions (empty for most);
    ``per_doc``: each document's ``descriptors``."""
    out = []
    empty: frozenset[str] = frozenset()
    for doc_id, sentence in doc_sentences:
        names = per_doc.get(doc_id)
        tokens: frozenset[str] = empty
        if names:
            for word in _CAPITALISED.findall(sentence):
                extra = names.get(name_key(word))
                if extra and not extra <= tokens:
                    tokens = extra if not tokens else tokens | extra  # one name: its set itself, shared
        out.append(tokens)
    return tuple(out)
