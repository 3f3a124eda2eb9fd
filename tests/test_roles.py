"""Role conflicts: a claim that puts the same names in each other's places ("Lyushkov executed Takeoka")."""

from __future__ import annotations

import itertools
import string

import pytest

from rag.roles import role_conflicts
from tests.conftest import fastest

HANDLER = ("However in 1979, Yutaka Takeoka, who was a young intelligence officer and Lyushkov's handler at the end "
           "of the war, admitted publicly that he executed Lyushkov on the evening of 19 August 1945.")
DERIBAS = "Deribas' arrest and execution resulted from evidence gathered by Lyushkov."

CONFLICTS = [
    # the source fills the slot with a name the claim does not use, and names the claim's elsewhere
    ("The officer had debriefed Sorge", "A Nazi officer had debriefed Lyushkov; Sorge obtained a copy.",
     ["Sorge"], ("debriefed Sorge", "debriefed Lyushkov")),
    # "and" before a name and a past-tense verb starts a clause: the name is that verb's subject, not debriefed
    ("The officer had debriefed Sorge", "A Nazi officer had debriefed Lyushkov and Sorge obtained a copy.",
     ["Sorge"], ("debriefed Sorge", "debriefed Lyushkov")),
    ("Genghis Khan attacked Bukhara", "The Mongols attacked Samarkand, and later Genghis Khan took Bukhara.",
     ["Genghis", "Khan", "Bukhara"], ("attacked Bukhara", "attacked Samarkand")),
    ("Lyushkov executed Takeoka", HANDLER, ["Lyushkov", "Takeoka"], ("executed Takeoka", "executed Lyushkov")),
    # a passive is read as the active that holds the same roles: "Takeoka was shot" is "shot Takeoka"
    ("Takeoka was shot by Lyushkov", "Takeoka shot Lyushkov in 1945.", ["Takeoka", "Lyushkov"],
     ("shot by Lyushkov", "Takeoka shot")),
    ("Lyushkov shot Takeoka", "Lyushkov was shot by Takeoka in 1945.", ["Lyushkov", "Takeoka"],
     ("shot Takeoka", "Lyushkov was shot")),
    ("Beria was replaced by Yezhov", "Beria replaced Yezhov.", ["Beria", "Yezhov"],
     ("Beria was replaced", "replaced Yezhov")),
    ("Sorge was debriefed by a Nazi officer", "A Nazi officer had debriefed Lyushkov and Sorge obtained a copy.",
     ["Sorge", "Nazi"], ("Sorge was debriefed", "debriefed Lyushkov")),
    ("Lyushkov was Takeoka's handler", HANDLER, ["Lyushkov", "Takeoka"], ("Takeoka's handler", "Lyushkov's handler")),
    ("Lyushkov was arrested on evidence gathered by Deribas", DERIBAS, ["Lyushkov", "Deribas"],
     ("gathered by Deribas", "gathered by Lyushkov")),
    ("lyushkov executed takeoka", HANDLER, ["lyushkov", "takeoka"], ("executed takeoka", "executed Lyushkov")),
    ("Germany defeated France at Sedan", "In 1870 France defeated Germany at Sedan.", ["Germany", "France"],
     ("defeated France", "defeated Germany")),
    # a name of several words is one name, matched by any of its words
    ("Genzo Yanagita obeyed Takeoka", "Takeoka obeyed General Genzo Yanagita.", ["Genzo", "Yanagita", "Takeoka"],
     ("obeyed Takeoka", "obeyed General Genzo Yanagita")),
    ("Lyushkov moved from Odessa to Kiev", "Lyushkov moved from Kiev to Odessa.", ["Lyushkov", "Odessa", "Kiev"],
     ("moved from Odessa", "moved from Kiev")),
    ("The execution of Takeoka by Lyushkov", "Takeoka's execution of Lyushkov.", ["Takeoka", "Lyushkov"],
     ("execution of Takeoka", "execution of Lyushkov")),
    # "with" a thing, not a name, is no relation that goes both ways
    ("Takeoka was born with a clot, Lyushkov reports", "Lyushkov was born with a clot, Takeoka reports.",
     ["Takeoka", "Lyushkov"], ("Takeoka was born", "Lyushkov was born")),
    ("Britain was required to comply with Denmark's rules", "Denmark was required to comply with Denmark's rules.",
     ["Britain", "Denmark"], ("Britain was required", "Denmark was required")),
    # a word that goes both ways beyond a slot's content word does not unread it ("and its allies")
    ("France massed its forces against Britain and its allies in the Prussia theatre",
     "France massed its forces against Prussia and its allies in the Britain theatre.", ["France", "Britain", "Prussia"],
     ("forces against Britain", "forces against Prussia")),
]

NO_CONFLICT = [
    # names joined by "and" share their slots: a list of objects, or of subjects before a verb
    ("The officer debriefed Sorge", "The officer debriefed Lyushkov and Sorge in Tokyo.", ["Sorge"]),
    ("Sorge obtained a copy", "Lyushkov and Sorge obtained a copy.", ["Sorge"]),
    ("The officer debriefed Sorge", "The officer debriefed Lyushkov and Sorge, who obtained a copy.", ["Sorge"]),
    ("Takeoka executed Lyushkov", HANDLER, ["Takeoka", "Lyushkov"]),  # the same roles
    # the same roles in the other voice
    ("Takeoka shot Lyushkov", "Lyushkov was shot by Takeoka in 1945.", ["Takeoka", "Lyushkov"]),
    ("Lyushkov was shot by Takeoka", "Takeoka shot Lyushkov in 1945.", ["Takeoka", "Lyushkov"]),
    ("Yezhov was replaced by Beria", "Beria replaced Yezhov.", ["Yezhov", "Beria"]),
    ("Deribas had been arrested by Lyushkov", "Lyushkov arrested Deribas.", ["Deribas", "Lyushkov"]),
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
    ("Sorge debriefed Lyushkov", HANDLER, ["Sorge", "Lyushkov"]),  # "Sorge" is not in the source at all
    # another name right before a word is a modifier, not a doer: "the G mission", "Spanish-language broadcast"
    ("the Apollo 11 mission", "The G mission was achieved on Apollo 11 in July 1969.", ["Apollo"]),
    ("ESPN Deportes broadcast the game", "ESPN Deportes made the first Spanish-language broadcast of the game.",
     ["ESPN", "Deportes"]),
    ("Takeoka executed Lyushkov", "Takeoka executed Lyushkov, and Lyushkov's aide executed Takeoka.",
     ["Takeoka", "Lyushkov"]),  # the source also says it the claim's way
    ("", HANDLER, []),
    ("Lyushkov executed Takeoka", "", ["Lyushkov", "Takeoka"]),
    # relations that go both ways: "with", a noun or an adjective of a symmetric relation
    ("Lyushkov worked with Takeoka in Harbin", "Takeoka worked with Lyushkov in Harbin.", ["Lyushkov", "Takeoka"]),
    ("Germany signed a treaty with Japan", "Japan signed a treaty with Germany in 1936.", ["Germany", "Japan"]),
    ("Hitler signed the Nazi-Soviet Pact with Stalin", "Stalin signed the Nazi-Soviet Pact with Hitler.",
     ["Hitler", "Nazi-Soviet", "Pact", "Stalin"]),
    ("Sorge was a friend of Lyushkov", "Lyushkov was a friend of Sorge.", ["Sorge", "Lyushkov"]),
    ("Sorge was Lyushkov's rival", "Lyushkov was Sorge's rival.", ["Sorge", "Lyushkov"]),
    ("France is adjacent to Belgium", "Belgium is adjacent to France.", ["France", "Belgium"]),
    ("Greek is similar to Latin", "Latin is similar to Greek.", ["Greek", "Latin"]),
    ("Takeoka, like Lyushkov, was a soldier", "Lyushkov, like Takeoka, was a soldier.", ["Takeoka", "Lyushkov"]),
    ("Takeoka met Lyushkov daily", "Lyushkov met Takeoka daily.", ["Takeoka", "Lyushkov"]),  # nor is "▢ daily" read
    # what follows a preposition's object is the phrase's, not the name's ("by Yanagita to kill")
    ("General Yanagita ordered Takeoka to kill Lyushkov", "Takeoka was ordered by General Genzo Yanagita to kill "
     "Lyushkov.", ["General", "Yanagita", "Takeoka", "Lyushkov"]),
    ("Lyushkov talked to Takeoka daily", "Takeoka talked to Lyushkov daily.", ["Lyushkov", "Takeoka"]),
    # a possessive before a noun with "of" or "by" after it may be the agent or the patient
    ("Lyushkov's execution by Takeoka", "Takeoka's execution of Lyushkov.", ["Lyushkov", "Takeoka"]),
    ("Lyushkov's execution was carried out by Takeoka", "Takeoka's execution of Lyushkov was carried out in secret.",
     ["Lyushkov", "Takeoka"]),
    # a possessive between two names joins them ("Bachelor's Degree" is one group)
    ("a second Degree such as a Bachelor of Education", "a second Bachelor's Degree such as a Bachelor of Education",
     ["Degree", "Bachelor", "Education"]),
]


# another name right before a verb in the past is its doer: "Lapin committed suicide", "Sorge obtained a copy"
STRANGER_DOERS = [
    ("Lyushkov committed suicide while imprisoned", "Lapin committed suicide while imprisoned.", ["Lyushkov"], True,
     ("Lyushkov committed", "Lapin committed")),
    ("Lyushkov obtained a copy", "A Nazi officer had debriefed Lyushkov and Sorge obtained a copy.", ["Lyushkov"], False,
     ("Lyushkov obtained", "Sorge obtained")),
    ("Takeoka fled to Harbin", "In 1945 Yanagita fled to Harbin.", ["Takeoka", "Harbin"], False,
     ("Takeoka fled", "Yanagita fled")),
]


@pytest.mark.parametrize(("claim", "source", "names", "first", "expected"), STRANGER_DOERS)
def test_another_name_before_a_past_verb_is_its_doer(claim: str, source: str, names: list[str], first: bool,
                                                    expected: tuple[str, str]) -> None:
    assert expected in role_conflicts(claim, source, names, source_starts_with_name=first)


def test_a_sources_first_word_is_a_name_only_when_the_caller_says_so() -> None:
    """A capitalised first word may be any word ("Thereafter committed…"): only the corpus's usage, which the
    caller has, says it is a name."""
    claim, source = "Lyushkov committed suicide while imprisoned", "Lapin committed suicide while imprisoned."
    assert role_conflicts(claim, source, ["Lyushkov"]) == ()
    assert role_conflicts("Lapin committed suicide", source, ["Lapin"], source_starts_with_name=True) == ()
    # a noun after another name is what it modifies, not a verb (nor a word in "-eed")
    for source in ("The Apollo mission landed.", "The Soviet creed was strict.", "The NKVD speed mattered."):
        assert role_conflicts("Lyushkov mission creed speed", source, ["Lyushkov"]) == ()


# whose event: every use of the claim's verb (any form: "executed", "execution") is in a clause whose subject is
# another name, in the same voice
KHABAROVSK = ("Lyushkov, immediately upon arriving in Khabarovsk, saw that Deribas had been arrested and sent to "
              "Moscow for trial and execution.")
ANOTHERS_EVENT = [
    ("Lyushkov was executed in Moscow", KHABAROVSK, ["Lyushkov", "Moscow"],
     ("Lyushkov was executed", "Deribas had been arrested and sent to Moscow for trial and execution")),
    ("Lyushkov was arrested", KHABAROVSK, ["Lyushkov"], ("Lyushkov was arrested", "Deribas had been arrested")),
    ("Lyushkov was executed", "Lyushkov was arrested after Deribas was executed.", ["Lyushkov"],
     ("Lyushkov was executed", "Deribas was executed")),
    ("Sorge defected in 1938", "Sorge reported that Lyushkov had defected in 1938.", ["Sorge"],
     ("Sorge defected", "Lyushkov had defected")),
    ("Lyushkov later ordered the purge", "Lyushkov claimed that Stalin personally ordered the purge.", ["Lyushkov"],
     ("Lyushkov later ordered", "Stalin personally ordered")),
]
THE_SAME_EVENT = [
    ("Deribas was executed in Moscow", KHABAROVSK, ["Deribas", "Moscow"]),  # his own
    ("Lyushkov saw that Deribas was arrested", KHABAROVSK, ["Lyushkov", "Deribas"]),
    # another voice: Deribas executed, Lyushkov was executed
    ("Lyushkov was executed", "In 1938 Deribas arrested Lyushkov and executed him.", ["Lyushkov"]),
    # a pronoun subject comes first: unread
    ("Takeoka executed Lyushkov", HANDLER, ["Takeoka", "Lyushkov"]),
    ("Takeoka admitted that he executed Lyushkov", HANDLER, ["Takeoka", "Lyushkov"]),
    # the claim's subject is named in the clause
    ("Hitler signed the pact", "In 1939 Stalin signed the pact with Hitler.", ["Hitler"]),
    ("Lyushkov was executed", "In 1945 Takeoka was executed; Lyushkov was executed too.", ["Lyushkov"]),
    ("Lyushkov was executed", "In 1945 Takeoka was executed, as he had executed Lyushkov.", ["Lyushkov"]),
    # no clause subject is read: a possessive, an object, a sentence with no subject name
    ("Lyushkov was arrested", "In 1938 Lyushkov's deputy was arrested.", ["Lyushkov"]),
    ("Lyushkov was executed", "The execution of Lyushkov was kept secret.", ["Lyushkov"]),
    ("Lyushkov was executed", "Yanagita ordered the execution.", ["Lyushkov"]),  # the first word is not read as a name
    ("Elway was replaced", "Kubiak replaced Elway as coach.", ["Elway"]),
    # a pronoun subject anywhere, "his" before the word, a later verb with an object or "by" (a review's finds)
    ("Lyushkov commanded the NKVD troops", "In 1936, Stalin appointed him, and in 1937 he commanded the NKVD troops.",
     ["Lyushkov", "NKVD"]),
    ("Lyushkov fled to Japan", "In 1938, Stalin summoned him to Moscow, but fearing arrest he fled to Japan.",
     ["Lyushkov", "Japan"]),
    ("Lyushkov defected in 1938", "In 1938, Richard Sorge reported his defection to Moscow.", ["Lyushkov"]),
    ("Lyushkov was shot by Takeoka", "In 1945, Takeoka was ordered by Yanagita to kill him and shot him in Dalian.",
     ["Lyushkov", "Takeoka"]),
    ("Stalin caused great confusion", "In 1945, Lyushkov vanished amid the confusion caused by the invasion.",
     ["Stalin"]),
]


# whose title: the claim gives its subject a description the sentence gives another name
PURGE = ("He was given personal orders to aid in elimination of specific officials: Terenti Deribas (the former NKVD "
         "chief in the Far East, whom Lyushkov was replacing), Vasily Blyukher (a Marshal of the Soviet Union), and "
         "Albert Yanovich Lapin (the Far East Air Corps Commander).")
HANDLER_TITLE = "However in 1979, Yutaka Takeoka, who was a young intelligence officer, admitted it."
ANOTHERS_TITLE = [
    ("Blyukher was the Far East Air Corps Commander", PURGE, ["Blyukher", "Far", "East", "Air", "Corps", "Commander"],
     ("Blyukher was the Far East Air Corps Commander", "Albert Yanovich Lapin (the Far East Air Corps Commander")),
    ("Lapin was a Marshal of the Soviet Union", PURGE, ["Lapin", "Marshal", "Soviet", "Union"],
     ("Lapin was a Marshal of the Soviet Union", "Vasily Blyukher (a Marshal of the Soviet Union")),
    ("Lyushkov was a young intelligence officer", HANDLER_TITLE, ["Lyushkov"],
     ("Lyushkov was a young intelligence officer", "Yutaka Takeoka, who was a young intelligence officer")),
    ("Lyushkov was the Far East Air Corps Commander", "In 1938 Lapin, the Far East Air Corps Commander, was arrested.",
     ["Lyushkov", "Far", "East", "Air", "Corps", "Commander"],
     ("Lyushkov was the Far East Air Corps Commander", "Lapin, the Far East Air Corps Commander")),
]
OWN_TITLE = [
    ("Lapin was the Far East Air Corps Commander", PURGE, ["Lapin", "Far", "East", "Air", "Corps", "Commander"]),
    ("Vasily Blyukher was a Marshal of the Soviet Union", PURGE, ["Vasily", "Blyukher", "Marshal", "Soviet", "Union"]),
    ("Yutaka Takeoka was a young intelligence officer", HANDLER_TITLE, ["Yutaka", "Takeoka"]),
    # a holder that is not read (a pronoun, no holder) is no evidence
    ("Lyushkov was a young intelligence officer", "In 1979 he was a young intelligence officer.", ["Lyushkov"]),
    ("Lyushkov was a young intelligence officer", "Being a young intelligence officer was hard.", ["Lyushkov"]),
    # one holder of several is the claim's subject
    ("Lyushkov was a young officer", "In 1938 Takeoka (a young officer) met Lyushkov, a young officer too.",
     ["Lyushkov"]),
]


def test_the_sources_first_word_owns_an_event_when_it_is_a_name() -> None:
    source = "Deribas was arrested and executed."
    assert role_conflicts("Lyushkov was executed", source, ["Lyushkov"]) == ()
    assert role_conflicts("Lyushkov was executed", source, ["Lyushkov"], source_starts_with_name=True) \
        == (("Lyushkov was executed", "Deribas was arrested and executed"),)


@pytest.mark.parametrize("source", ["In 1938 Deribas was executed" + " and executed" * 20_000,
                                    "In 1938 Deribas was " + "was " * 20_000 + "executed",
                                    "In 1938, Deribas was executed. " * 5_000, "he executed " * 20_000])
def test_reading_whose_event_takes_linear_time(source: str) -> None:
    assert fastest(lambda: role_conflicts("Lyushkov was executed", source, ["Lyushkov"])) < 2.0


# each kind of conflict (names swapped, another's event, another's title) against the cases it must leave alone
@pytest.mark.parametrize(("claim", "source", "names", "expected"), CONFLICTS + ANOTHERS_EVENT + ANOTHERS_TITLE)
def test_names_in_each_others_places_are_a_conflict(claim: str, source: str, names: list[str],
                                                    expected: tuple[str, str]) -> None:
    assert expected in role_conflicts(claim, source, names)


@pytest.mark.parametrize(("claim", "source", "names"), NO_CONFLICT + THE_SAME_EVENT + OWN_TITLE)
def test_no_conflict_when_the_roles_agree_or_cannot_be_read(claim: str, source: str, names: list[str]) -> None:
    assert role_conflicts(claim, source, names) == ()


@pytest.mark.parametrize("source", ["Lyushkov " * 20_000, "Takeoka, and " * 20_000, "executed by the " * 20_000,
                                    "'s " * 30_000])
def test_a_long_source_takes_linear_time(source: str) -> None:
    assert fastest(lambda: role_conflicts("Lyushkov executed Takeoka", source, ["Lyushkov", "Takeoka"])) < 2.0


def test_a_long_claim_of_distinct_names_takes_linear_time() -> None:
    # 8,000 names in ~56,000 characters (a claim may have 100,000): merging names pairwise took ~5 s
    names = ["".join(t).capitalize() for t in itertools.product(string.ascii_lowercase, repeat=3)][:8000]
    claim = " x ".join(names)
    assert fastest(lambda: role_conflicts(claim, claim + " x Aaa", names)) < 2.0


@pytest.mark.parametrize("text", ["", "'", "’s", "'s 's", "s' s'", "...", "-", "_ _", "Takeoka", "Takeoka's’s",
                                  "Lyushkov Takeoka", "Göde\u0301l met Takeoka", "İstanbul and ǅemal", "Люшков убил Такеоку",
                                  "a" + "-" * 5000 + "b", "x_" * 5000])
def test_odd_input_is_read_without_error(text: str) -> None:
    names = ["Takeoka", "Lyushkov", "'s", "İstanbul", "ǅemal", "Люшков", "Göde\u0301l", ""]
    assert isinstance(role_conflicts(text, text + " Takeoka executed Lyushkov.", names), tuple)
    assert isinstance(role_conflicts("Lyushkov executed Takeoka", text, names), tuple)
