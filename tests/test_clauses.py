"""Clauses: a sentence that joins facts, cut where a new clause plainly starts (rag/clauses.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.clauses import MAX_CLAUSES, clauses


@pytest.mark.parametrize(("text", "expected"), [
    # "and" before a verb in the past: the second clause takes the first one's subject
    ("Lyushkov was born in Odessa in 1900 and joined the Cheka in 1920.",
     [("Lyushkov was born in Odessa in 1900", "Lyushkov was born in Odessa in 1900"),
      ("joined the Cheka in 1920.", "Lyushkov joined the Cheka in 1920.")]),
    # after "was <participle>", a participle with no object is passive too; with an object it is active
    ("Deribas was arrested and executed in 1938.",
     [("Deribas was arrested", "Deribas was arrested"), ("executed in 1938.", "Deribas was executed in 1938.")]),
    ("Lyushkov was born in Odessa and studied law at Odessa University.",
     [("Lyushkov was born in Odessa", "Lyushkov was born in Odessa"),
      ("studied law at Odessa University.", "Lyushkov studied law at Odessa University.")]),
    # an opening adverb is skipped when looking for the verb, kept in the clause
    ("Inna was held at the Lubyanka and later sent to the Gulag.",
     [("Inna was held at the Lubyanka", "Inna was held at the Lubyanka"),
      ("later sent to the Gulag.", "Inna was later sent to the Gulag.")]),
    # the subject is what follows the last comma before the verb, not an opening phrase
    ("Fearing arrest, Lyushkov fled to Manchukuo and handed over secret documents.",
     [("Fearing arrest, Lyushkov fled to Manchukuo", "Fearing arrest, Lyushkov fled to Manchukuo"),
      ("handed over secret documents.", "Lyushkov handed over secret documents.")]),
    # a clause with a subject of its own keeps it: ";", ", and", ", but", "and he"
    ("He defected in 1938; he was killed in 1945.",
     [("He defected in 1938", "He defected in 1938"), ("he was killed in 1945.", "he was killed in 1945.")]),
    ("In 1938 Lyushkov defected, and the Japanese debriefed him.",
     [("In 1938 Lyushkov defected", "In 1938 Lyushkov defected"),
      ("the Japanese debriefed him.", "the Japanese debriefed him.")]),
    # a pronoun opening a clause is the first clause's subject: "Lapin was the commander and he defected"
    ("Lyushkov was anti-Stalinist, but he was resistant to a new regime.",
     [("Lyushkov was anti-Stalinist", "Lyushkov was anti-Stalinist"),
      ("he was resistant to a new regime.", "Lyushkov was resistant to a new regime.")]),
    ("Lapin was arrested in 1938 and he committed suicide while imprisoned.",
     [("Lapin was arrested in 1938", "Lapin was arrested in 1938"),
      ("he committed suicide while imprisoned.", "Lapin committed suicide while imprisoned.")]),
    # so is "his": "Takeoka was promoted, and his ashes…" is about Takeoka's ashes
    ("Takeoka was promoted in 1944, and his ashes were interred in a temple.",
     [("Takeoka was promoted in 1944", "Takeoka was promoted in 1944"),
      ("his ashes were interred in a temple.", "Takeoka's ashes were interred in a temple.")]),
    # "had been" and "was never" stay passive
    ("Deribas had been arrested and executed in 1938.",
     [("Deribas had been arrested", "Deribas had been arrested"),
      ("executed in 1938.", "Deribas had been executed in 1938.")]),
    # an opening phrase without a comma is not the subject: "In November 1920 he"
    ("In November 1920 he joined the Cheka of Odessa, and he also served in Moscow and Ukraine.",
     [("In November 1920 he joined the Cheka of Odessa", "In November 1920 he joined the Cheka of Odessa"),
      ("he also served in Moscow and Ukraine.", "he also served in Moscow and Ukraine.")]),
    ("In 1938 Lyushkov fled to Japan and joined the Kwantung Army staff.",
     [("In 1938 Lyushkov fled to Japan", "In 1938 Lyushkov fled to Japan"),
      ("joined the Kwantung Army staff.", "Lyushkov joined the Kwantung Army staff.")]),
    # a series of clauses: ", <verb>" after a clause with a verb
    ("Lyushkov was born in Odessa in 1900, joined the Cheka in 1920, and fled to Japan in 1938.",
     [("Lyushkov was born in Odessa in 1900", "Lyushkov was born in Odessa in 1900"),
      ("joined the Cheka in 1920", "Lyushkov joined the Cheka in 1920"),
      ("fled to Japan in 1938.", "Lyushkov fled to Japan in 1938.")]),
    ("He was arrested in Moscow, tried in secret and executed in 1938.",
     [("He was arrested in Moscow", "He was arrested in Moscow"), ("tried in secret", "He was tried in secret"),
      ("executed in 1938.", "He was executed in 1938.")]),
    # an adverb after "was" leaves it passive; an adverb or negation before the verb is not the subject's
    ("Lyushkov was reportedly captured by the Red Army and executed in Moscow.",
     [("Lyushkov was reportedly captured by the Red Army", "Lyushkov was reportedly captured by the Red Army"),
      ("executed in Moscow.", "Lyushkov was executed in Moscow.")]),
    ("Lyushkov never returned to Moscow and was killed by the Japanese.",
     [("Lyushkov never returned to Moscow", "Lyushkov never returned to Moscow"),
      ("was killed by the Japanese.", "Lyushkov was killed by the Japanese.")]),
    # a verb in the past that is no participle takes no "was": "was born … and fled"
    ("Lyushkov was born in Odessa and fled to Japan in 1938.",
     [("Lyushkov was born in Odessa", "Lyushkov was born in Odessa"),
      ("fled to Japan in 1938.", "Lyushkov fled to Japan in 1938.")]),
    # a marker after "and" is skipped
    ("Lyushkov was born in Odessa [1] and [2] joined the Cheka.",
     [("Lyushkov was born in Odessa [1]", "Lyushkov was born in Odessa [1]"),
      ("[2] joined the Cheka.", "Lyushkov [2] joined the Cheka.")]),
    # a part that opens with a determiner has a subject of its own
    ("Lyushkov was purged in 1938; others fled abroad.",
     [("Lyushkov was purged in 1938", "Lyushkov was purged in 1938"), ("others fled abroad.", "others fled abroad.")]),
    # "who" after "<subject> was a … <noun>": the subject
    ("Lyushkov was a Soviet secret police officer who was born in Odessa.",
     [("Lyushkov was a Soviet secret police officer", "Lyushkov was a Soviet secret police officer"),
      ("was born in Odessa.", "Lyushkov was born in Odessa.")]),
    # a passive keeps its auxiliary before a complement, not for a verb that takes none or before a pronoun
    ("Lyushkov was promoted in 1936 and named chief of the NKVD.",
     [("Lyushkov was promoted in 1936", "Lyushkov was promoted in 1936"),
      ("named chief of the NKVD.", "Lyushkov was named chief of the NKVD.")]),
    ("Lyushkov was last seen in Dalian and vanished in August 1945.",
     [("Lyushkov was last seen in Dalian", "Lyushkov was last seen in Dalian"),
      ("vanished in August 1945.", "Lyushkov vanished in August 1945.")]),
    ("Lyushkov was promoted in 1936 and named his deputy.",
     [("Lyushkov was promoted in 1936", "Lyushkov was promoted in 1936"),
      ("named his deputy.", "Lyushkov named his deputy.")]),
    # a lookup keeps no quote mark that the cut left alone
    ("“Lyushkov was born in Odessa,” and he joined the Cheka in 1920.",
     [("“Lyushkov was born in Odessa,”", "“Lyushkov was born in Odessa,”"),
      ("he joined the Cheka in 1920.", "Lyushkov joined the Cheka in 1920.")]),
    # a name, then "who …," or an appositive "a/an/the …," or "<name>'s …," before its verb: two facts
    ("Lyushkov, who had headed the NKVD in the Far East, defected to Japan in 1938.",
     [("Lyushkov, who had headed the NKVD in the Far East", "Lyushkov had headed the NKVD in the Far East"),
      ("defected to Japan in 1938.", "Lyushkov defected to Japan in 1938.")]),
    ("Yutaka Takeoka, a young intelligence officer, admitted that he executed Lyushkov.",
     [("Yutaka Takeoka, a young intelligence officer", "Yutaka Takeoka was a young intelligence officer"),
      ("admitted that he executed Lyushkov.", "Yutaka Takeoka admitted that he executed Lyushkov.")]),
    ("Inna, Lyushkov's wife, was sent to the Gulag.",
     [("Inna, Lyushkov's wife", "Inna was Lyushkov's wife"), ("was sent to the Gulag.", "Inna was sent to the Gulag.")]),
    # an opening phrase goes with the main clause, which is cut further; quotes inside the clause are whole
    ('In June 1938, Lyushkov, who had been ordered to Moscow "for new work", fled and was debriefed by Japan.',
     [('In June 1938, Lyushkov, who had been ordered to Moscow "for new work"',
       'Lyushkov had been ordered to Moscow "for new work"'),
      ("fled", "In June 1938, Lyushkov fled"), ("was debriefed by Japan.", "Lyushkov was debriefed by Japan.")]),
])
def test_a_sentence_is_cut_into_its_clauses(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(text[c.start:c.end], c.lookup) for c in clauses(text)] == expected


@pytest.mark.parametrize("text", [
    "Lyushkov and Sorge met in Tokyo.",  # "and" between names
    "He served in Odessa, Kiev, and Moscow.",  # a list: its last item has no verb
    "He was praised for his memorial, but his burial site.",  # ", but" before a phrase with no verb
    "Her father was the poet Lord Byron, who left England when she was an infant.",  # ", who" after a name
    "Lyushkov was the deputy of Deribas who was executed.",  # "who" after a name may be about the name
    "The plot (which failed and was foiled) was serious.",  # inside brackets
    "Lyushkov defected because he feared arrest.",  # no cut at "because"
    "Lyushkov and his wife fled.",
    # the subject cannot be read plainly: a subordinate clause, an expletive, a reported clause, two verbs
    "Deribas, whom Lyushkov replaced, was arrested and led the interrogations of Zinoviev.",
    "When Deribas arrived in Khabarovsk, Lyushkov had been arrested and sent to Moscow for trial.",
    "It is a myth that Lyushkov was born in Odessa and joined the Cheka in 1920.",
    "Lyushkov falsely claimed he was born in Odessa and joined the Cheka in 1920.",
    "Some theories held that he was captured by the Red Army and was killed.",
    "The feared NKVD officer Lyushkov was born in Odessa and joined the Cheka in 1920.",
    # "who" that is not the copula's noun's subject
    "Takeoka was the officer who Lyushkov shot in Dalian.",
    "Lyushkov was the replacement of the former chief who fled to Japan.",
    # a pronoun that may mean someone else the first clause names, or "it" / "they"
    "Lapin was the Far East Air Corps Commander and he defected to Japan in 1938.",
    "Lyushkov arranged for his wife to leave the country, and she fled to Japan in 1938.",
    "Lyushkov interrogated Zinoviev and Kamenev, and they were killed.",
    "Lyushkov defected in 1938, and it was kept a state secret by Japan.",
    # a participle phrase after an object describes the object; no series without "and <verb>" later
    "Lyushkov replaced Deribas, born in Odessa in 1900.",
    "Lyushkov replaced Deribas, killed by the Japanese at the end of World War II.",
    # "who" after a second noun phrase in the predicate
    "Lyushkov was the NKVD chief replacing the commander who was born in Odessa in 1900.",
    "Lyushkov was an officer unlike the prisoner who was born in Odessa.",
    # two adjectives
    "Lyushkov was a feared and hated NKVD chief.",
    # inside quotes
    'Lyushkov said "I was born in Kiev and joined the Cheka" in Tokyo.',
    "Deribas was arrested and shot.",  # a part of fewer than two words stays with the one before
    # no appositive: a list of names, an aside, a time, "whom", a relative clause that ends the sentence, an
    # opening adverb, a comma inside quotes
    "Lyushkov, Deribas, and Blyukher were arrested.",
    "Lyushkov, however, fled to Japan.",
    "Lyushkov, the next day, fled to Japan.",
    "Lyushkov, whom Stalin distrusted, fled to Japan.",
    "Lyushkov, who fled to Japan.",
    "However, the plan, a bold one, failed.",
    'Lyushkov, who said "I fled, I lived", was interviewed.',
    "Lyushkov, the Japanese, and the Soviets fought.",
    "",
    "and",
])
def test_sentences_that_are_not_plainly_two_clauses_are_not_cut(text: str) -> None:
    assert clauses(text) == []


def test_a_sentence_of_too_many_clauses_is_checked_whole() -> None:
    parts = "; ".join(f"he was posted to city {n}" for n in range(MAX_CLAUSES + 1))
    assert clauses(parts + ".") == []
    assert len(clauses("; ".join(f"he was posted to city {n}" for n in range(MAX_CLAUSES)) + ".")) == MAX_CLAUSES


def test_a_part_without_a_subject_is_not_cut_off_when_the_first_has_none() -> None:
    # "joined the Cheka" needs a subject, and "In 1920, joined" has none to give
    assert clauses("Born in 1900, and joined the Cheka in 1920.") == []


@given(st.lists(st.sampled_from(list("ab ,;.()[]\t\xa0") + ["and ", "was ", "joined ", "He ", "he ", "his ",
                                                                  "who ", "the ", "Ada ", "Ada, ", "a ", "In ",
                                                                  "Lord's ", '"']),
                max_size=40).map("".join))
def test_clauses_are_spans_of_the_text_in_order(text: str) -> None:
    found = clauses(text)
    assert len(found) != 1
    end = 0
    for c in found:
        assert end <= c.start < c.end <= len(text)
        part = text[c.start:c.end]
        assert part.strip() == part and part.split()[-1] in c.lookup  # a pronoun may give way to the subject
        end = c.end
