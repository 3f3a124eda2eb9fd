"""Identity questions (rag/identity.py): what a "name of X" / "Which X" question asks to name, and whether a
sentence names it."""

from __future__ import annotations

import pytest

from rag.cues import ranker_question_words
from rag.identity import identity_focus, indefinite, unnamed
from rag.lexical import stem_word


@pytest.mark.parametrize(("question", "focus"), [
    ("What was the name of Lyushkov's daughter?", "daughter"),
    ("What was the name of the brother who got Lyushkov involved?", "brother"),
    ("What was the name of the woman the Japanese paired Lyushkov with?", "woman"),
    ("Which Tokyo hotel hosted the 1938 press conference?", "hotel"),
    ("Which country won the 1998 FIFA World Cup?", "country"),
    ("On behalf of which state was his 1919 course organised?", "state"),
    ("What was the title of Lyushkov's autobiography?", "autobiography"),
    ("What was the plan called?", "plan"),
    # not identity questions: no name is asked for
    ("In which year did Lyushkov receive the Order of Lenin?", None),
    ("Which way did he flee?", None),
    ("What role did he play for Japan?", None),
    ("Which of his relatives influenced him?", None),
    ("What was the plan which failed?", None),
    # the phrase ends at an adverb, an irregular past, a verb in "-s" before a pronoun (a review's finds)
    ("Which posting quickly followed for Lyushkov?", "posting"),
    ("Which intelligence officer later owned up to it?", "officer"),
    ("Which general said Lyushkov must not escape?", "general"),
    ("Which agent met Sorge in Tokyo?", "agent"),
    ("Which newspaper says he lied?", "newspaper"),
    ("Which American newspapers doubted his story?", "newspapers"),
    ("When was Lyushkov born?", None),
    ("", None),
    # "Who was the X who…": which person fits the description; "Who was <Name>?" asks for a description instead,
    # and without a relative clause the answer may be no name ("Who was the tailor in the family?" "his father")
    ("Who was the Soviet agent who infiltrated the plot?", "agent"),
    ("Who was the young Japanese intelligence officer who shot him?", "officer"),  # a name inside the phrase
    ("Who were the Soviet agents who infiltrated the plot?", "agents"),  # a plural before "who" is no verb
    ("Who was the former NKVD chief that signed it?", "chief"),
    ("Who was the person responsible who signed it?", "person"),
    ("In 1938, who was the man that shot him?", "man"),
    ("Who's the man who shot him?", "man"),
    ("Who was the one who shot him?", None),
    ("Who was the first head of the Cheka?", None),
    ("Who was the tailor in Lyushkov's family?", None),
    ("Who was Yutaka Takeoka?", None),
    ("Who was he?", None),
])
def test_the_focus_of_an_identity_question(question: str, focus: str | None) -> None:
    assert identity_focus(question) == (stem_word(focus) if focus else None)


INNA = ("In preparation for his defection, Lyushkov arranged for his Jewish wife, Inna, to leave the country with "
        "his eleven-year-old daughter, for the daughter's safety.")


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("What was the name of Lyushkov's daughter?", INNA, True),  # mentioned, never named
    ("What was the name of Lyushkov's wife?", INNA, False),  # "his Jewish wife, Inna,"
    ("Which Tokyo hotel hosted the press conference?",
     "A press conference was arranged at a Tokyo hotel on 13 July.", True),  # the question's word, a month
    ("Which company did he spy on?", "He monitored activities within the Junkers aviation company.", False),
    ("What was the title of his autobiography?", 'He wrote an autobiography, "My Escape".', False),  # a quote
    ("Which hotel did he stay in?", "He stayed in Dalian.", None),  # no mention: no evidence either way
    # a name the focus describes, further than four words; a name cut off from the focus by a verb
    ("Which intelligence officer was responsible for Lyushkov?",
     "In 1979, Yutaka Takeoka, who was a young intelligence officer and his handler, admitted it.", False),
    ("Which country did Lyushkov flee to?", INNA, True),
])
def test_a_mention_without_a_name_next_to_it(question: str, sentence: str, expected: bool | None) -> None:
    focus = identity_focus(question)
    assert focus is not None
    assert unnamed(sentence, focus, ranker_question_words(question)) is expected


def test_a_long_question_is_read_in_linear_time() -> None:
    import time

    for question in ("what is " * 12_500, "which " + "the " * 25_000, "name of " + "x " * 50_000):
        start = time.perf_counter()
        identity_focus(question)
        assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(("sentence", "focus", "expected"), [
    ("Sorge learnt of it because a Nazi intelligence officer had debriefed Lyushkov.", "officer", True),
    ("His ashes were interred in a temple for the unknown dead.", "temple", True),
    ("He contacted an American publishing house.", "house", True),
    ("A Soviet agent had infiltrated the group.", "agent", True),  # the sentence's first word
    ("He left with his eleven-year-old daughter.", "daughter", False),  # a possessive: someone known
    ("He met the officer, a man of few words.", "officer", False),  # the article belongs to another phrase
    ("It was an officer's daughter.", "daughter", False),  # "an" opens "officer's", not "daughter"
    ("A report reached the hotel.", "hotel", False),
    ("He stayed in Dalian.", "hotel", False),
    # what something already named is, not an introduction (a review's finds)
    ("Lyushkov was a Soviet secret police officer.", "officer", False),
    ("He supported them as a tailor.", "tailor", False),
    ("His brother (a member of the underground) influenced him.", "member", False),
    ("Takeoka, a young officer, shot him.", "officer", False),
    ("He was quite a hotel.", "hotel", False),
    # participles are modifiers right after the article; verbs, "-s" words and possessives end the phrase
    ("A decorated officer arrived.", "officer", True),
    ("It was found after a failed search.", "search", True),
    ("A man visiting officers left.", "officer", False),
    ("A man meets officer Takeoka.", "officer", False),
    ("A man should meet officers.", "officer", False),
    ("It was a officers' report.", "report", False),
    ("He was a Type A officer.", "officer", False),  # a capital "A" inside a sentence is a name
])
def test_a_mention_introduced_by_an_indefinite_article(sentence: str, focus: str, expected: bool) -> None:
    assert indefinite(sentence, stem_word(focus)) is expected


def test_a_name_that_is_what_the_question_describes_names_it() -> None:
    question = "Who was the Soviet secret police officer who defected to Japan in 1938?"
    focus = identity_focus(question)
    assert focus == stem_word("officer")
    words = ranker_question_words(question)
    lead = "Genrikh Samoilovich Lyushkov (1900 - 19 August 1945) was a Soviet secret police officer."
    assert unnamed(lead, focus, words, lambda word: True) is False  # "<Name> … was a … officer"
    assert unnamed("He was a Soviet secret police officer.", focus, words, lambda word: False) is True  # no name
