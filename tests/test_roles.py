"""Role conflicts: a claim that puts the same names in each other's places ("Lyushkov executed Takeoka")."""

from __future__ import annotations

import pytest

from rag.roles import role_conflicts
from tests.conftest import fastest

HANDLER = ("However in 1979, Yutaka Takeoka, who was a young intelligence officer and Lyushkov's handler at the end "
           "of the war, admitted publicly that he executed Lyushkov on the evening of 19 August 1945.")
DERIBAS = "Deribas' arrest and execution resulted from evidence gathered by Lyushkov."

CONFLICTS = [
    ("Lyushkov executed Takeoka", HANDLER, ["Lyushkov", "Takeoka"], ("executed Takeoka", "executed Lyushkov")),
    ("Lyushkov was Takeoka's handler", HANDLER, ["Lyushkov", "Takeoka"], ("Takeoka's handler", "Lyushkov's handler")),
    ("Lyushkov was arrested on evidence gathered by Deribas", DERIBAS, ["Lyushkov", "Deribas"],
     ("gathered by Deribas", "gathered by Lyushkov")),
    ("lyushkov executed takeoka", HANDLER, ["lyushkov", "takeoka"], ("executed takeoka", "executed Lyushkov")),
    ("Germany defeated France at Sedan", "In 1870 France defeated Germany at Sedan.", ["Germany", "France"],
     ("defeated France", "defeated Germany")),
    # a name of several words is one name, matched by any of its words
    ("Genzo Yanagita obeyed Takeoka", "Takeoka obeyed General Genzo Yanagita.", ["Genzo", "Yanagita", "Takeoka"],
     ("obeyed Takeoka", "obeyed General Genzo Yanagita")),
]

NO_CONFLICT = [
    ("Takeoka executed Lyushkov", HANDLER, ["Takeoka", "Lyushkov"]),  # the same roles
    ("Takeoka was Lyushkov's handler", HANDLER, ["Takeoka", "Lyushkov"]),
    ("Deribas was arrested on evidence gathered by Lyushkov", DERIBAS, ["Deribas", "Lyushkov"]),
    ("Takeoka shot Lyushkov", "Lyushkov was shot by Takeoka.", ["Takeoka", "Lyushkov"]),  # active against passive
    ("Lyushkov was shot by Takeoka", "Takeoka shot Lyushkov.", ["Lyushkov", "Takeoka"]),
    ("Elway replaced by Kubiak", "Kubiak replaced Elway as coach.", ["Elway", "Kubiak"]),  # a reduced passive
    ("Faget designed the Apollo module", "Maxime Faget's preliminary Apollo design employed a cone.", ["Faget", "Apollo"]),
    ("Radcliffe and Harvard merged admissions", "The merger of Harvard and Radcliffe admissions.", ["Radcliffe", "Harvard"]),
    ("Lyushkov met Stalin in Moscow", "Stalin met Lyushkov in Moscow.", ["Lyushkov", "Stalin"]),  # goes both ways
    ("Ada married William King", "William King married Ada in 1835.", ["Ada", "William", "King"]),
    ("Lyushkov executed Takeoka", "Later he executed Takeoka's friend.", ["Lyushkov", "Takeoka"]),  # a pronoun: unread
    ("Sorge debriefed Lyushkov", HANDLER, ["Sorge", "Lyushkov"]),  # one name of the claim only in the source
    ("Takeoka executed Lyushkov", "Takeoka executed Lyushkov, and Lyushkov's aide executed Takeoka.",
     ["Takeoka", "Lyushkov"]),  # the source also says it the claim's way
    ("", HANDLER, []),
    ("Lyushkov executed Takeoka", "", ["Lyushkov", "Takeoka"]),
]


@pytest.mark.parametrize(("claim", "source", "names", "expected"), CONFLICTS)
def test_names_in_each_others_places_are_a_conflict(claim: str, source: str, names: list[str],
                                                    expected: tuple[str, str]) -> None:
    assert expected in role_conflicts(claim, source, names)


@pytest.mark.parametrize(("claim", "source", "names"), NO_CONFLICT)
def test_no_conflict_when_the_roles_agree_or_cannot_be_read(claim: str, source: str, names: list[str]) -> None:
    assert role_conflicts(claim, source, names) == ()


@pytest.mark.parametrize("source", ["Lyushkov " * 20_000, "Takeoka, and " * 20_000, "executed by the " * 20_000,
                                    "'s " * 30_000])
def test_a_long_source_takes_linear_time(source: str) -> None:
    assert fastest(lambda: role_conflicts("Lyushkov executed Takeoka", source, ["Lyushkov", "Takeoka"])) < 2.0
