"""Agency conflicts: one side does to itself what the other has done by another ("shot himself" / "shot him")."""

from __future__ import annotations

import pytest

from rag.reflexive import reflexive_conflicts

CONFLICTS = [
    ("Lyushkov shot himself.", "When he refused, Takeoka shot him.", ("shot himself", "shot him")),
    ("He killed himself in 1945.", "In 1945 he was killed by the Japanese.", ("killed himself", "was killed by")),
    ("The guard shot him.", "The prisoner shot himself in his cell.", ("shot him", "shot himself")),
    ("She poisoned herself.", "Her rival poisoned her at dinner.", ("poisoned herself", "poisoned her")),
]

NO_CONFLICT = [
    ("Lyushkov shot himself.", "Lyushkov shot himself in 1945."),
    ("He shot himself.", "He was shot by a guard after he had shot himself."),  # the source says both
    ("He was shot by a guard.", "A guard shot him."),  # no reflexive on either side
    ("He found himself alone.", "They found the hotel empty."),  # the verb is not used of another
    ("", "He shot himself."),
]


@pytest.mark.parametrize(("claim", "source", "expected"), CONFLICTS)
def test_a_reflexive_against_another_agent_is_a_conflict(claim: str, source: str, expected: tuple[str, str]) -> None:
    assert expected in reflexive_conflicts(claim, source)


@pytest.mark.parametrize(("claim", "source"), NO_CONFLICT)
def test_no_conflict_when_agency_agrees_or_is_not_stated(claim: str, source: str) -> None:
    assert reflexive_conflicts(claim, source) == ()
