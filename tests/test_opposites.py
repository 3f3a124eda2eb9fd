"""Opposites: a claim that says "lowest" where its source says "highest" about the same thing."""

from __future__ import annotations

import pytest

from rag.attestation import conflict_pairs
from rag.claims import locate
from rag.opposites import opposite_conflicts
from rag.retrieval import Retriever
from tests.conftest import fastest

CONFLICTS = [
    ("Lyushkov was the lowest-ranking NKVD defector.",
     "He fled to Japan, becoming the highest-ranking NKVD defector in the organization's history.",
     ("lowest", "highest")),
    ("Apollo 8 was the last manned spacecraft to orbit the Moon.",
     "Apollo 8 was the first manned spacecraft to orbit another celestial body.", ("last", "first")),
    ("He joined the party before the war.", "He joined the party after the war.", ("before", "after")),
    ("Prices increased in 1990.", "Prices decreased sharply in 1990.", ("increased", "decreased")),
    ("The Broncos lost the game.", "The Broncos won the game.", ("lost", "won")),
    ("More than 1,000 people died.", "Fewer than 1,000 people died.", ("More", "Fewer")),
    ("It is the smallest city in Poland.", "It is the largest city in Poland.", ("smallest", "largest")),
    ("The rebels' attack was unsuccessful.", "The rebels' attack was successful.", ("unsuccessful", "successful")),
]

NO_CONFLICT = [
    ("Warsaw is the largest city in Poland.", "Łódź is the smallest province in Poland."),  # about something else
    ("It was the first flight.", "It was neither the first nor the last flight."),  # the source uses both poles
    ("It was not the first flight.", "It was the last flight."),  # a denied pole: rag.negation's business
    ("South Korea invaded.", "North Korea invaded the south."),  # the source uses the claim's pole too
    ("Prices increased in 1990.", "Prices fell in 1991 but rose in 1990."),  # "rose" is the claim's pole
    ("He was the highest-ranking defector.", "He was the highest-ranking defector."),
    ("The first and the last flights failed.", "The last flight failed."),  # the claim uses both poles
    ("He arrived after the war.", "He arrived after the war, before the treaty."),
    ("", "It was the last flight."),
    ("It was the last flight.", ""),
]


@pytest.mark.parametrize(("claim", "source", "expected"), CONFLICTS)
def test_an_opposite_about_the_same_thing_conflicts(claim: str, source: str, expected: tuple[str, str]) -> None:
    assert expected in opposite_conflicts(claim, source)
    assert expected in conflict_pairs(claim, source)  # and locate's list of conflicts reports it
    assert expected not in conflict_pairs(claim, source, polarity=False)  # not for verbatim matches


@pytest.mark.parametrize(("claim", "source"), NO_CONFLICT)
def test_no_conflict_without_an_opposite_about_the_same_thing(claim: str, source: str) -> None:
    assert opposite_conflicts(claim, source) == ()


@pytest.mark.parametrize("source", ["the highest rank and the first flight. ", "the highest peak, the first car. "])
def test_opposites_are_linear_in_the_text_length(source: str) -> None:
    claim = "the lowest rank, the last flight. "
    opposite_conflicts(claim, source)  # warm the stemmer
    small = fastest(lambda: opposite_conflicts(claim * 200, source * 200))
    large = fastest(lambda: opposite_conflicts(claim * 2000, source * 2000))
    assert large < 30 * small + 0.5  # 10 times the text: linear ~10x, quadratic ~100x


def test_locate_does_not_support_a_claim_that_says_the_opposite(retriever: Retriever) -> None:
    result = locate(retriever, "Ada's notes contain what many consider the last computer program")
    top = result.matches[0]
    assert "first computer program" in top.text  # the sentence is found...
    assert ("last", "first") in [(c.claim, c.source) for c in top.conflicts]
    assert not result.supported  # ...and flagged, so it does not back the claim
    same = locate(retriever, "Ada's notes contain what many consider the first computer program")
    assert all(c.claim != "first" for m in same.matches for c in m.conflicts)
