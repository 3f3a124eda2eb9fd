"""Polarity conflicts: a claim that negates what its source states, or states what the source negates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.claims import locate
from rag.config import Settings
from rag.negation import polarity, polarity_conflicts
from rag.retrieval import Retriever
from tests.conftest import fastest, write_corpus

CONFLICTS = [
    ("Lyushkov was not killed by the Japanese.", "he was killed by the Japanese in 1945", ("not killed", "killed")),
    ("Lyushkov did not defect to Japan.", "His defection was kept secret by Japan.", ("not defect", "defection")),
    ("He never joined the Cheka.", "In November 1920, he joined the Cheka of Odessa.", ("never joined", "joined")),
    ("He didn't join the party.", "He joined the party in 1920.", ("didn't join", "joined")),
    ("He had no children.", "He had three children.", ("no children", "children")),
    ("He no longer worked for the NKVD.", "He worked for the NKVD.", ("no longer worked", "worked")),
    ("Lyushkov returned to Moscow.", "Lyushkov did not return to Moscow.", ("returned", "not return")),
    ("The plot was a success.", "The plot was not a success, but it was the only one.", ("success", "not a success")),
    ("He didn’t join the party.", "He joined the party.", ("didn't join", "joined")),  # curly apostrophe
    ("He didnʼt join the party.", "He joined the party.", ("didn't join", "joined")),
    ("NOT ONE soldier survived.", "The soldiers survived.", ("not one soldier", "soldiers")),
    ("No one survived the sinking.", "Everyone survived the sinking.", ("no one survived", "survived")),
    ("He cannot swim.", "He can swim.", ("cannot swim", "swim")),
    ("It can be bound even if central government.", "It can be bound even if not central government.",
     ("central", "not central")),
    ("Defining it is impossible.", "Defining it is difficult, if not impossible.", ("impossible", "not impossible")),
    ("He signed the treaty.", "He refused to sign the treaty.", ("signed", "refused to sign")),
    # a source that contrasts two clauses still contradicts a claim denying what one of them states
    # next to the same words ("Though X was A, …" states that X was A)
    ("Lyushkov was not anti-Stalinist.", "Though Lyushkov was anti-Stalinist, he was resistant to a new regime.",
     ("not anti", "anti")),
    ("The A missions were not unmanned.", "The A missions were unmanned, but the C missions were manned.",
     ("not unmanned", "unmanned")),
    # a negated clause ends at the next auxiliary verb: the main clause's verb is the one stated
    ("A player who fails to train hard does win games.", "A player who fails to train hard does not win games.",
     ("win", "not win")),
]

NO_CONFLICT = [
    ("He was killed by the Japanese.", "He was killed, not captured."),  # the negated word is not the claim's
    ("His fate was known in 1979.", "It was not until 1979 that his fate was known."),  # "not until": it was, then
    ("Maxwell explained the fields.", "The fields would not be fully explained until 1864 when Maxwell did."),
    ("He was a spy and a writer.", "He was not only a spy but also a writer."),
    ("No doubt he was killed.", "He was killed in 1945."),
    ("He counted votes.", "They count members (not votes) of the council."),  # an aside in parentheses
    ("He did not defect to Japan.", "He lived in Japan."),  # negation governs the verb, not its object
    ("He was not killed by the Japanese.", "He was not killed by the Japanese."),
    ("Yanagita would not let Lyushkov escape.",  # the source denies the affirmation in its other clause
     "Takeoka was content with letting Lyushkov escape, but Yanagita said this was unacceptable."),
    ("Yanagita would not let Lyushkov escape.",  # the same word next to other words: not the same statement
     "Though Takeoka was content with letting Lyushkov escape, Yanagita said this was unacceptable."),
    ("", "He was killed."),
    # "No", "Never", "Not" capitalised inside a sentence are names, not negators
    ("The film Dr. No was released in 1962.", "The film was released in 1962."),
    ("The film was released in 1962.", "The film Dr. No was released in 1962."),
    ("The film Never Say Never Again was released in 1983.", "The film was released in 1983."),
    # "or not", "if not": a hedge, not a denial
    ("It is unclear whether he was killed.", "Whether or not he was killed remains unclear."),
    ("It was one of the largest cities in Europe.", "It was one of the largest, if not the largest, cities in Europe."),
    # a negative subject denies its clause's predicate, so the predicate is not affirmed there
    ("He did not survive the crash.", "Neither he nor his wife survived the crash."),
    ("Her sister was a painter.", "Neither her brother nor her sister had children."),
    ("The soldiers did not survive the battle.", "No soldier survived the battle."),
    ("Nobody survived the sinking.", "No one survived the sinking."),
    ("The crew did not survive.", "None of the crew survived."),
    ("None of the crew survived.", "The crew did not survive."),
    # the words after a negated verb are in its scope, not affirmed
    ("Lyushkov was not a Japanese spy.", "Lyushkov was not killed by the Japanese."),
    # a source that both negates and states a word is no evidence against a claim stating it
    ("Smith won the 1990 election.", "Smith, who had never won an election before, won the 1990 election."),
    ("He was paid in gold.", "He was not paid at first, but was later paid in gold."),
    ("He was not paid at first.", "He was not paid at first, but was later paid in gold."),
    ("He was one of the first scientists to use it.", "He was among the first, if not the first, scientists to use it."),
    # "failed to", "refused to", "unable to" deny what follows as "not" does
    ("The city was not captured.", "The army failed to capture the city."),
    ("He did not sign the treaty.", "He refused to sign the treaty."),
    ("He could not attend the funeral.", "He was unable to attend the funeral."),
    ("The bank was founded in 1930.", "The bank failed in 1930."),  # no "to": not a denial
    ("He attended the meetings.", "He never failed to attend the meetings."),  # a double negation
    ("He never failed to attend the meetings.", "He attended the meetings every week."),
    # a negator joined by a hyphen makes a compound word, not a denial
    ("The war ended in 1945.", "The never-ending war ended in 1945."),
    # idioms that deny nothing
    ("The disease is common in Europe.", "The disease is not uncommon in Europe."),
    ("20 people died in the fire.", "No fewer than 20 people died in the fire."),
    ("It was a rumour.", "It was nothing but a rumour."),
    ("Smith won the race.", "The race was won by none other than Smith."),
    ("The Prime Minister lives at 10 Downing Street.", "The Prime Minister lives at No. 10 Downing Street."),
    ("Soldiers crossed the land at dawn.", "Soldiers crossed no-man's land at dawn."),
    ("He can swim.", "He can not only swim but also dive."),
    ("He barely survived.", "He survived."),  # "hardly", "barely", "without" are not read
    ("He left without paying.", "He paid and left."),
]


@pytest.mark.parametrize(("claim", "source", "expected"), CONFLICTS)
def test_a_flipped_polarity_is_a_conflict(claim: str, source: str, expected: tuple[str, str]) -> None:
    assert expected in polarity_conflicts(claim, source)


@pytest.mark.parametrize(("claim", "source"), NO_CONFLICT)
def test_no_conflict_without_a_word_of_opposite_polarity(claim: str, source: str) -> None:
    assert polarity_conflicts(claim, source) == ()


_PIECES = st.sampled_from(["not", "Not", "NOT", "no", "No", "never", "Never", "nor", "neither", "didn’t", "can't",
                           "cannot", "failed", "to", "if", "or", "whether", "only", "until", "one", "none", "Dr.",
                           "killed", "kill", "Japan", "won", "the", "election", ",", ".", ";", "(", ")", '"', "“",
                           "-", "no-man's", "never-ending", "é", "", " ", "\n", "1990", "Smith"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map(" ".join), st.lists(_PIECES, max_size=40).map(" ".join))
def test_any_text_reads_without_error_and_never_contradicts_itself(claim: str, source: str) -> None:
    polarity_conflicts(claim, source)
    assert polarity_conflicts(source, source) == ()


def test_a_word_negated_anywhere_is_not_affirmed() -> None:
    negated, affirmed = polarity("He was not killed; he was killed later.")
    assert "kill" in negated and "kill" not in affirmed


@pytest.mark.parametrize("source", ["He was not killed, never captured and no one knew. ",
                                    "no one said he was not killed or never captured "])  # one long clause
def test_polarity_is_linear_in_the_text_length(source: str) -> None:
    polarity_conflicts("He was killed. ", source)  # warm the stemmer
    small = fastest(lambda: polarity_conflicts("He was killed. " * 500, source * 500))
    large = fastest(lambda: polarity_conflicts("He was killed. " * 5000, source * 5000))
    assert large < 30 * small + 0.5  # 10 times the text: linear ~10x, the quadratic bug was ~100x (87 s)


def test_a_claim_found_verbatim_or_normalised_has_no_polarity_conflict(tmp_path: Path) -> None:
    from rag.service import Engine, build

    text = ("The film Dr. No was released in 1962. He didn't join the party in 1920. "
            "The film Never Say Never Again was released in 1983. "
            "It was one of the largest, if not the largest, cities in Europe.")
    settings = Settings(embedder="fake", corpus_dir=write_corpus(tmp_path / "corpus", {"films.txt": text}),
                        index_dir=tmp_path / "index")
    build(settings)
    retriever = Engine(settings).retriever
    for claim in ("The film Dr. No was released in 1962", "the film dr. no was released in 1962",
                  "the film never say never again was released in 1983",
                  "He didn‘t join the party in 1920", "He didn`t join the party in 1920",
                  "IT WAS ONE OF THE LARGEST, IF NOT THE LARGEST, CITIES IN EUROPE"):
        result = locate(retriever, claim)
        assert result.matches[0].match in ("exact", "normalized"), claim
        assert result.matches[0].conflicts == () and result.supported, claim


def test_locate_does_not_support_a_negated_claim(retriever: Retriever) -> None:
    affirmative = locate(retriever, "Ada was born in London in 1815")
    negative = locate(retriever, "Ada was not born in London in 1815")
    top = negative.matches[0]
    assert "born in London" in top.text  # the same sentence is found...
    assert not negative.supported  # ...but it does not back the claim
    assert ("not born", "born") in [(c.claim, c.source) for c in top.conflicts]
    assert all(c.claim != "not born" for m in affirmative.matches for c in m.conflicts)
