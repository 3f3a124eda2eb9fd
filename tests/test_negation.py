"""Polarity conflicts: a claim that negates what its source states, or states what the source negates."""

from __future__ import annotations

import pytest

from rag.claims import locate
from rag.negation import polarity, polarity_conflicts
from rag.retrieval import Retriever

CONFLICTS = [
    ("Lyushkov was not killed by the Japanese.", "he was killed by the Japanese in 1945", ("not killed", "killed")),
    ("Lyushkov did not defect to Japan.", "His defection was kept secret by Japan.", ("not defect", "defection")),
    ("He never joined the Cheka.", "In November 1920, he joined the Cheka of Odessa.", ("never joined", "joined")),
    ("He didn't join the party.", "He joined the party in 1920.", ("didn't join", "joined")),
    ("He had no children.", "He had three children.", ("no children", "children")),
    ("He no longer worked for the NKVD.", "He worked for the NKVD.", ("no longer worked", "worked")),
    ("Lyushkov returned to Moscow.", "Lyushkov did not return to Moscow.", ("returned", "not return")),
    ("The plot was a success.", "The plot was not a success, but it was the only one.", ("success", "not a success")),
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
    ("", "He was killed."),
]


@pytest.mark.parametrize(("claim", "source", "expected"), CONFLICTS)
def test_a_flipped_polarity_is_a_conflict(claim: str, source: str, expected: tuple[str, str]) -> None:
    assert expected in polarity_conflicts(claim, source)


@pytest.mark.parametrize(("claim", "source"), NO_CONFLICT)
def test_no_conflict_without_a_word_of_opposite_polarity(claim: str, source: str) -> None:
    assert polarity_conflicts(claim, source) == ()


def test_a_word_negated_anywhere_is_not_affirmed() -> None:
    negated, affirmed = polarity("He was not killed; he was killed later.")
    assert "kill" in negated and "kill" not in affirmed


def test_locate_does_not_support_a_negated_claim(retriever: Retriever) -> None:
    affirmative = locate(retriever, "Ada was born in London in 1815")
    negative = locate(retriever, "Ada was not born in London in 1815")
    top = negative.matches[0]
    assert "born in London" in top.text  # the same sentence is found...
    assert not negative.supported  # ...but it does not back the claim
    assert ("not born", "born") in [(c.claim, c.source) for c in top.conflicts]
    assert all(c.claim != "not born" for m in affirmative.matches for c in m.conflicts)
