"""Questions about what became of someone or something: "What happened to his wife Inna?".

Such a question asks for an event its *focus* (wife, Inna) underwent or took part in, and an article states
it with the focus as a clause's subject: "Inna was kept at the Lubyanka prison…", "Lapin committed suicide
while imprisoned.", "Though the daughter's fate remains unknown, …". A sentence that mentions the focus
elsewhere ("Lyushkov arranged for his Jewish wife, Inna, to leave…") is about someone else's doing.

``fate_question`` reads the focus of "What happened/happens to X", "What became of X", "What was done with/to X",
"the fate of X" (the stems of X, without a possessive that opens it, "Lyushkov's body" → body, and up to a
comma, a clause or a time, "…daughter *after* she was captured"), and of "X's fate" and the keyword form
"lyushkov wife fate" (the word before "fate"), and the words that frame it ("Is it known what *became* of…"),
which are no content to look for: "became known for its ruthlessness" says nothing about anyone's fate. ``about``
says whether a sentence has a clause whose subject holds a focus word, or a name the document describes with
one (rag.aliases: "Inna" for "wife"). The answer ranker reads it as the "expected kind is present" feature
of a "fate" question (rag.calibration), as it reads a date for a "when" question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.lexical import tokenize
from rag.roles import past_tense

MAX_QUESTION_CHARS = 500
_ASKS = re.compile(r"\bwhat\s+(?:has\s+|had\s+|have\s+)?(?:happened|happens|happen)\s+to\s+(?P<x>[^?;:!.,]+)"
                   r"|\bwhat\s+(?:has\s+|had\s+|have\s+)?(?:became|become|becomes)\s+of\s+(?P<y>[^?;:!.,]+)"
                   r"|\bwhat\s+(?:was|were|is|are)\s+done\s+(?:with|to)\s+(?P<z>[^?;:!.,]+)"
                   r"|\bfates?\s+of\s+(?P<w>[^?;:!.,]+)", re.IGNORECASE)
# "wife fate", "Inna's fate"
_OWN_FATE = re.compile(r"(?<![\w'’-])(?P<x>[^\W\d_][\w-]*?)(?:['’]s?)?\s+fates?\b", re.IGNORECASE)
# words that end the focus phrase: a clause, a time, a place or a verb starts
_ENDS = frozenset({"after", "before", "when", "while", "once", "during", "following", "since", "until", "in", "at",
                   "on", "from", "who", "whom", "which", "that", "and", "or", "but", "because", "if", "as", "by",
                   "was", "were", "is", "are", "had", "has", "have", "did", "does", "do", "be", "been", "being",
                   "then", "eventually", "later", "finally", "ultimately", "with", "to", "for"})
_DROP = frozenset({"the", "a", "an", "his", "her", "their", "its", "this", "that", "these", "those", "what", "is",
                   "was", "known", "it", "did", "does"})
_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d+")
_MAX_FOCUS_WORDS = 6

# -- sentences: the subjects of their clauses ---------------------------------------------------------------
_SPLIT = re.compile(r"[,;:()]|\s[-–—]\s|\b(?:but|while|whereas|though|although|because|when|after|before|"
                    r"until|since|where|who|which)\b", re.IGNORECASE)  # not "and": "Inna and her daughter were…"
_OPENERS = frozenset({"though", "although", "and", "but", "however", "when", "while", "after", "before", "then",
                      "eventually", "later", "finally", "ultimately", "thus", "so", "also", "soon", "subsequently",
                      "meanwhile", "nevertheless", "yet", "instead", "thereafter", "afterwards", "initially"})
_PREPOSITIONS = frozenset({"in", "under", "at", "on", "for", "after", "during", "with", "by", "from", "to", "of",
                           "upon", "following", "despite", "without", "before", "until", "since", "through",
                           "throughout", "among", "around", "about", "against", "into", "within", "as", "like",
                           "according", "near", "over", "across", "along", "amid", "towards", "toward"})
_VERBS = frozenset({"was", "were", "is", "are", "be", "been", "had", "has", "have", "did", "does", "do", "could",
                    "would", "will", "can", "may", "might", "must", "should", "shall", "remained", "remains",
                    "remain", "became", "becomes", "died", "dies", "went", "fled", "left", "took", "got", "fell",
                    "met", "said", "made", "gave", "saw", "came", "ran", "lived", "lives", "committed", "vanished"})
_MAX_SUBJECT_WORDS = 6


@dataclass(frozen=True)
class FateQuestion:
    focus: tuple[str, ...]  # stems of what the question asks about ("wife", "inna")
    frame: tuple[str, ...]  # stems of the words that ask ("is it known what became of": known, becam)


def fate_question(question: str) -> FateQuestion | None:
    """What a "what happened to X" question asks about, and the words that only frame it; None when it is no
    such question."""
    question = question[:MAX_QUESTION_CHARS]
    match = _ASKS.search(question)
    if match is not None:
        group = next(name for name in "xyzw" if match.group(name) is not None)
        span, frame = match.group(group), question[:match.start(group)]
    else:
        own = _OWN_FATE.search(question)
        if own is None:
            return None
        span, frame = own.group("x"), ""
    words = _WORD.findall(span)
    phrase: list[str] = []
    for n, word in enumerate(words):
        lower = word.lower()
        if lower in _ENDS and phrase:
            break
        if lower in _DROP or (n == 0 and re.fullmatch(r"[A-Z][\w-]*['’]s?", word) and len(words) > 1
                              and word.endswith(("'s", "’s", "'", "’"))):
            continue  # "the", "his", an opening possessive ("Lyushkov's body": the body)
        phrase.append(word)
        if len(phrase) > _MAX_FOCUS_WORDS:
            break
    focus = tuple(dict.fromkeys(t for w in phrase for t in tokenize(w)))
    if not focus:
        return None
    return FateQuestion(focus, tuple(t for t in dict.fromkeys(tokenize(frame)) if t not in focus))


def subjects(sentence: str) -> list[list[str]]:
    """The subject words of each clause of ``sentence`` that has one: the words before its first verb, after
    an opening conjunction or adverb; a clause that opens with a preposition ("In 1938", "Under unknown
    circumstances") is an adverbial and has none."""
    out = []
    for piece in _SPLIT.split(sentence):
        words = _WORD.findall(piece)
        k = 0
        while k < len(words) and words[k].lower() in _OPENERS:
            k += 1
        if k >= len(words) or words[k].lower() in _PREPOSITIONS:
            continue
        subject: list[str] = []
        for word in words[k:]:
            lower = word.lower()
            if lower in _VERBS or past_tense(lower) or (lower.endswith("ed") and len(lower) > 4):
                if subject:
                    out.append(subject)
                break
            subject.append(word)
            if len(subject) > _MAX_SUBJECT_WORDS:
                break
    return out


def about(sentence: str, focus: tuple[str, ...], described: Callable[[str], frozenset[str]]) -> bool:
    """Whether a clause of ``sentence`` has a subject that holds a focus word, or a name that the document
    describes with one (``described``: the description tokens of a name, rag.aliases)."""
    wanted = set(focus)
    for subject in subjects(sentence):
        for word in subject:
            if wanted.intersection(tokenize(word)) or (word[:1].isupper() and described(word) & wanted):
                return True
    return False
