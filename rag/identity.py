"""Identity questions: "What was the name of Lyushkov's daughter?", "Which Tokyo hotel hosted…?".

Such a question asks which one: its answer is a name (or a quoted title) for the thing it names, its
*focus* ("daughter", "hotel"). A sentence that mentions the focus without naming it — "with his
eleven-year-old daughter", "arranged at a Tokyo hotel", "contacted an American publisher" — is on topic and
shares the question's words, yet does not answer it: the corpus is silent on the name. A sentence answers
in the way encyclopedias write it, with the name next to the focus: "his Jewish wife, Inna,", "the Junkers
aviation company", "a resort in Sochi".

``identity_focus`` reads the focus of "name of X", "title of X", "called"/"named", "Which X" and "Who was the X
who/that…" questions (the last word of X before a verb, a relative word, a preposition, or a name that is the
subject of a new clause: "the cancer *Ada died* of"); ``unnamed`` says whether a sentence mentions the focus
(by stem) with no name within ``WINDOW`` words of it, a name being a capitalised word that is not the
sentence's first, not a month or weekday, and not a word of the question; a name that the mention says what
it is ("<Name> … was a … officer") names it too. ``indefinite`` says whether such a mention opens with
"a"/"an"/"another" that introduces it: "a Nazi intelligence officer had debriefed him", "interred in a
temple" — the writer introduces someone or something new without saying which, the way an article writes
what it does not know or does not tell ("was a …", "as a …", "(a …)" describe instead). Both are features of
the confidence model (rag.calibration, ``identity_missing`` and ``identity_indefinite``), not rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.lexical import stem_word
from rag.roles import past_tense

WINDOW = 4  # words on either side of the focus in which a name identifies it
_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d+|[\"“”«»]")
_NAME_OF = re.compile(r"\b(?:name|title)s?\s+of\s+(?P<span>.+)", re.IGNORECASE)
_WHICH = re.compile(r"(?:^\W*|\b(?:in|at|on|from|to|for|with|by|of|behalf\s+of)\s+)which\s+(?P<span>.+)",
                    re.IGNORECASE)
_CALLED = re.compile(r"\bwhat\s+(?:was|is|were|are)\s+(?P<span>.+?)\s+(?:called|named|titled)\b", re.IGNORECASE)
# "Who was the Soviet agent who…": which person the description fits. Not "Who was Takeoka?" (a description),
# nor "Who was the tailor in the family?" (no relative clause: "his father" answers it, which is no name).
_WHO_THE = re.compile(r"(?:^|[,;:])\W*(?:and\s+|so\s+)?who(?:['’]s|\s+(?:was|were|is|are))\s+"
                      r"(?P<span>the\s+[^?]*?\b(?:who|whom|that)\b.*)", re.IGNORECASE)
# words that end the focus phrase: verbs and auxiliaries, relative words, prepositions, determiners
_STOPS = frozenset({"who", "whom", "whose", "which", "that", "where", "when", "did", "does", "do", "was", "were",
                    "is", "are", "had", "has", "have", "would", "could", "will", "can", "of", "in", "at", "on",
                    "for", "with", "by", "from", "to", "about", "after", "before", "during", "under", "into",
                    "the", "a", "an", "and", "or", "his", "her", "their", "its", "like", "as", "than", "via",
                    "without", "against", "among", "near", "between", "behind", "through", "over", "since", "until",
                    "within", "across", "toward", "towards", "upon", "beyond", "around", "inside", "outside",
                    "should", "might", "must", "may", "shall", "responsible", "involved"})
_LEADING = frozenset({"the", "a", "an", "his", "her", "their", "its", "this", "that", "these", "those"})
# foci whose answer is no name: "which year", "which way", "what kind"
_NOT_NAMES = frozenset({"year", "years", "month", "day", "date", "century", "decade", "time", "way", "ways", "kind",
                        "type", "sort", "reason", "role", "part", "number", "amount", "percentage", "rank",
                        "position", "side", "language", "one", "ones"})
# months and weekdays: capitalised, yet no name of anyone or anything (also rag.aliases)
CALENDAR_WORDS = frozenset({"january", "february", "march", "april", "may", "june", "july", "august", "september",
                            "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
                            "friday", "saturday", "sunday"})


MAX_QUESTION_CHARS = 500  # longer questions are read only this far (the patterns scan the text)
_MAX_FOCUS_WORDS = 4
_ADVERBS = frozenset({"later", "eventually", "soon", "then", "also", "still", "never", "ever", "already", "once",
                      "first", "finally", "ultimately", "subsequently", "initially", "actually", "really", "not"})
_PRONOUNS = frozenset({"he", "she", "it", "they", "we", "i", "you", "him", "them", "us", "me"})
# irregular past tenses rag.roles.past_tense does not list (it knows "made", "held", "told", "became"…)
_IRREGULAR = frozenset({"said", "met", "had", "did", "heard", "sat", "stood", "let"})


def _verb_like(word: str, following: str) -> bool:
    """A word that ends the focus phrase as its verb: a past tense ("Which general said…"), or a word in "-s"
    before a pronoun, a determiner or a preposition ("Which newspaper says he…"; not "newspapers doubted")."""
    lower = word.lower()
    if past_tense(lower) or lower in _IRREGULAR or lower.endswith("ly") or lower in _ADVERBS:
        return True
    return lower.endswith("s") and not lower.endswith("ss") and following.lower() in _AFTER_VERB


# what follows a verb in "-s" (not a relative "who": "the Soviet agents who…" is a noun)
_AFTER_VERB = (_PRONOUNS | _STOPS) - {"who", "whom", "whose"}


def identity_focus(question: str) -> str | None:
    """The stem of what an identity question asks to name, or None when it is no such question."""
    question = question[:MAX_QUESTION_CHARS]
    match = (_NAME_OF.search(question) or _CALLED.search(question) or _WHICH.search(question)
             or _WHO_THE.search(question))
    if match is None:
        return None
    words = [w for w in _WORD.findall(match.group("span")) if w not in "\"“”«»"]
    start = 0
    while start < len(words) and (words[start].lower() in _LEADING
                                  or re.fullmatch(r"[A-Z][\w-]*['’]s", words[start])):
        start += 1  # "the", "Lyushkov's"
    phrase: list[str] = []
    for n in range(start, len(words)):
        word = words[n]
        following = words[n + 1] if n + 1 < len(words) else ""
        if word.lower() in _STOPS or word.lower() in _PRONOUNS or (phrase and _verb_like(word, following)):
            break
        if phrase and phrase[-1].islower() and word[:1].isupper() and _subject_at(words, n):
            break  # "the cancer Ada died of": a new subject; not "the young Japanese intelligence officer"
        phrase.append(word)
        if len(phrase) > _MAX_FOCUS_WORDS:
            return None  # no plain noun phrase
    if not phrase or not phrase[-1].islower() or phrase[-1].lower() in _NOT_NAMES | _ADVERBS \
            or phrase[-1].lower().endswith("ly"):
        return None  # "which year", "Which Lyushkov…": no common noun to name
    return stem_word(phrase[-1].lower()) or None


def _subject_at(words: list[str], n: int) -> bool:
    """Whether the capitalised words from ``words[n]`` on are a clause's subject: a verb, an auxiliary or the
    end follows them ("the cancer *Ada died* of"), not more of a noun phrase ("the young *Japanese officer*")."""
    m = n
    while m < len(words) and words[m][:1].isupper():
        m += 1
    if m >= len(words):
        return True
    following = words[m + 1] if m + 1 < len(words) else ""
    return words[m].lower() in _STOPS or _verb_like(words[m], following)


def unnamed(sentence: str, focus: str, question_words: frozenset[str],
            is_name: Callable[[str], bool] | None = None) -> bool | None:
    """True when ``sentence`` mentions the focus and names nothing next to it, False when a name (or a quote)
    stands within ``WINDOW`` words of a mention or the focus is itself part of a name ("the John W. Weeks
    Bridge"), None when it does not mention the focus at all. ``is_name`` says whether the sentence's first
    word is a name (the corpus never writes it in lower case: "Frontex, the agency…")."""
    words = [m.group(0) for m in _WORD.finditer(sentence)]
    if any(w[:1].isupper() and stem_word(w.lower()) == focus for w in words[1:]):
        return False  # "the Junkers Company", "Weeks Bridge"
    mentions = _mentions(words, focus)
    if not mentions:
        return None

    def a_name(word: str, first: bool) -> bool:
        return (word[:1].isupper() and word.lower() not in CALENDAR_WORDS
                and (not first or bool(is_name and is_name(word)))
                and re.sub(r"['’]s?$", "", word.lower()) not in question_words)

    def name_at(j: int) -> bool:
        return a_name(words[j], j == 0)

    for i in mentions:
        for j in range(max(0, i - WINDOW), min(len(words), i + WINDOW + 1)):
            if words[j] in "\"“”«»":
                return False
            if name_at(j) and not _verb_between(words, min(i, j) + 1, max(i, j)):
                return False  # "his Jewish wife, Inna,"; not "Inna, to leave the country"
        if _described_name(words, i, name_at):
            return False  # "Yutaka Takeoka, who was a young intelligence officer"
    # "Genrikh Samoilovich Lyushkov (…) was a Soviet secret police officer." names its officer
    return not _predicate_of_a_name(sentence, focus, a_name)


def _verb_between(words: list[str], a: int, b: int) -> bool:
    """Whether a verb stands between a name and the focus: "to", an auxiliary or a past tense."""
    return any(w.lower() in ("to", "was", "were", "is", "are", "had", "has") or past_tense(w.lower())
               for w in words[a:b])


_DESCRIBED_WINDOW = 10


def _described_name(words: list[str], i: int, name_at: Callable[[int], bool]) -> bool:
    """Whether the mention at word ``i`` describes a name just before it: "<Name>, who was a … <focus>" or
    "<Name>, a/the … <focus>", with nothing but that description between."""
    for k in range(i - 1, max(-1, i - _DESCRIBED_WINDOW), -1):
        lower = words[k].lower()
        if lower in ("who", "a", "an", "the") and k >= 1 and name_at(k - 1):
            return True  # the comma is not a word: "Takeoka, who" reads "Takeoka who"
        if lower in ("which", "that", "whom", "and", "but"):
            return False
    return False


_INDEFINITE = frozenset({"a", "an", "another"})
_ARTICLES = _INDEFINITE | {"the"}
_NP_WORD = re.compile(r"[\w'’-]+|[^\w\s]")  # words and single punctuation marks, which end a noun phrase
# before an article, words that make the phrase say what something already named is, not introduce it
_PREDICATIVE = frozenset({"was", "is", "were", "are", "be", "been", "being", "became", "become", "becomes", "remained",
                          "remains", "as", "such", "what", "quite", "rather"})
_COPULAS = frozenset({"was", "is", "were", "are", "became", "becomes", "remained", "remains"})


def _verbish(lower: str) -> bool:
    """A lower-case word that may be a verb rather than a modifier: a past tense or participle, an "-ing" form,
    a word in "-s" (not "-ss")."""
    return (past_tense(lower) or lower in _IRREGULAR or lower.endswith("ing")
            or (lower.endswith("s") and not lower.endswith(("ss", "'s", "’s"))))


def _opening(words: list[str], i: int) -> int | None:
    """The position of the article ("a", "an", "another", "the") that opens the noun phrase ending at ``words[i]``,
    read back over at most ``_MAX_FOCUS_WORDS`` modifiers, or None. Punctuation, a preposition or another stop
    word, a pronoun, a possessive ("Lyushkov's", "officers'") or a verb ends the phrase; a participle or a word in
    "-s" right after the article is a modifier ("a decorated officer", "an arms dealer"), and so is an "-ing" form
    after a capitalised word ("an American publishing house"; not "a man visiting officers"). A capitalised "A" is an
    article only as the sentence's first word ("Type A", "vitamin A" are names)."""
    for k in range(i - 1, max(-1, i - 2 - _MAX_FOCUS_WORDS), -1):
        word = words[k]
        lower = word.lower()
        if lower in _ARTICLES and (word.islower() or k == 0):
            return k
        if not word[:1].isalnum() or lower in _STOPS or lower in _PRONOUNS or lower.endswith(("'s", "’s", "s'", "s’")):
            return None
        if _verbish(lower) and word.islower():
            before = words[k - 1] if k > 0 else ""
            if not (before.lower() in _ARTICLES and (before.islower() or k - 1 == 0)) \
                    and not (lower.endswith("ing") and before[:1].isupper()):
                return None
    return None


def _mentions(words: list[str], focus: str) -> list[int]:
    return [i for i, w in enumerate(words) if w.islower() and stem_word(w) == focus]


def indefinite(sentence: str, focus: str) -> bool:
    """Whether a mention of ``focus`` (by stem, in lower case) in ``sentence`` opens its noun phrase with an
    indefinite article ("a", "an", "another"; ``_opening``) that introduces it: "a Nazi intelligence officer had
    debriefed him", "an American publishing house", "in a temple". Not when the phrase says what something named
    is: "… was a Soviet secret police officer", "as a tailor", "(a member of …)", "Takeoka, a young officer",
    nor after "such", "what", "quite", "rather"."""
    words = _NP_WORD.findall(sentence)
    for i in _mentions(words, focus):
        k = _opening(words, i)
        if k is not None and words[k].lower() in _INDEFINITE and not _predicative(words, k):
            return True
    return False


def _predicative(words: list[str], k: int) -> bool:
    before = words[k - 1] if k > 0 else ""
    return before.lower() in _PREDICATIVE or before == "(" or (before == "," and k >= 2 and words[k - 2][:1].isupper())


def _predicate_of_a_name(sentence: str, focus: str, name_at_word: Callable[[str, bool], bool]) -> bool:
    """Whether a mention of ``focus`` is what a name before it is: "<Name> … was a/the … <focus>", the way an
    article answers "Who was the Soviet secret police officer who defected?"."""
    words = _NP_WORD.findall(sentence)
    first_name: int | None = None  # the position of the sentence's first name, found once (linear time)
    for i in _mentions(words, focus):
        k = _opening(words, i)
        if k is None or k == 0 or words[k - 1].lower() not in _COPULAS:
            continue
        if first_name is None:
            first_name = next((j for j, word in enumerate(words) if name_at_word(word, j == 0)), len(words))
        if first_name < k - 1:
            return True
    return False
