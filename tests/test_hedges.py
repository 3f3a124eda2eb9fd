"""Hedges: a claim that states as fact what its source gives only as a theory, plan, allegation or fear."""

from __future__ import annotations

import time

import pytest

from rag.attestation import conflict_pairs
from rag.hedges import hedge_conflicts, hedged

THEORIES = ("Some theories held that he was captured by the Red Army or that he was killed on the orders of a "
            "Japanese Special Intelligence officer.")
PLANS = ("At some point, he began to make plans to travel to the United States and contacted an American "
         "publisher about a possible autobiography that he would write.")
CONCERNS = ("He had concerns that he might be prevented from leaving Japan and went as far as to negotiate a "
            "written safe-conduct guarantee.")

CONFLICTS = [
    ("Lyushkov was captured by the Red Army", THEORIES, ("captured", "theories held that … captured")),
    # "or that" continues the hedged clause
    ("Lyushkov was killed on the orders of an officer", THEORIES, ("killed", "theories held that … killed")),
    ("Lyushkov traveled to the United States", PLANS, ("traveled", "plans to travel")),
    ("Lyushkov was prevented from leaving Japan", CONCERNS, ("prevented", "concerns that … prevented")),
    ("Lyushkov was an imposter", 'He "categorically denied Moscow\'s allegation that he was an imposter".',
     ("imposter", "allegation that … imposter")),
    ("The universe began 13.8 billion years ago", "Scientists believe that the universe began 13.8 billion years ago.",
     ("universe", "believe that … universe")),
    ("The painting was stolen by a museum guard", "It was rumoured that the painting was stolen by a museum guard.",
     ("painting", "It was rumoured that … painting")),
    ("The company moved its headquarters to Dallas",
     "The company planned to move its headquarters to Dallas, but the deal collapsed.", ("moved", "planned to move")),
    ("The climbers reached the summit", "The climbers tried to reach the summit twice.", ("reached", "tried to reach")),
    ("The king was poisoned by his brother", "The king was possibly poisoned by his brother.",
     ("poisoned", "possibly poisoned")),
    ("The treaty ended the war", "The treaty may have ended the war.", ("ended", "may … ended")),
    ("The garrison surrendered", "İ" * 20 + ". Reportedly the garrison surrendered.", ("garrison", "Reportedly … garrison")),
    # accusations, appearances and legends; an opening hedge and its comma govern the clause after it
    ("He committed treason", "In 1937 he was accused of treason by the party.", ("treason", "accused of treason")),
    ("He murdered the banker", "He was charged with murdering the banker.", ("murdered", "charged with murdering")),
    ("The comet orbits the sun every 76 years", "The comet appears to orbit the sun every 76 years.",
     ("orbits", "appears to orbit")),
    ("Romulus founded Rome", "According to legend, Romulus founded Rome.", ("founded", "According to legend … founded")),
    ("Life began in hot springs", "One hypothesis is that life began in hot springs.",
     ("began", "hypothesis is that … began")),
    ("The garrison surrendered", "Reportedly, the garrison surrendered.", ("garrison", "Reportedly … garrison")),
    ("Inna embedded a secret codeword into a telegram",
     "The plan was for Inna to embed a secret codeword into a telegram, which would signal that it was safe.",
     ("secret", "The plan was for Inna to … secret")),
]

NO_CONFLICT = [
    # the clause after "and" is not hedged: he did contact a publisher, and did negotiate
    ("Lyushkov contacted an American publisher", PLANS),
    ("Lyushkov negotiated a written safe-conduct guarantee", CONCERNS),
    # the claim hedges too
    ("Lyushkov planned to travel to the United States", PLANS),
    ("Some believed that Lyushkov was captured by the Red Army", THEORIES),
    # hedge words that do not hedge here (from an adversarial review): a noun "might", certainty ("no doubt
    # that", "confirmed reports that"), "despite", "to" as a preposition, a capitalised "Hope", a new clause
    # after "and to that end" / "and that evening" / "then", and a second sentence
    ("The Roman army crushed the revolt", "The might of the Roman army crushed the revolt."),
    ("Shakespeare wrote the play", "There is no doubt that Shakespeare wrote the play."),
    ("The bridge collapsed", "Police confirmed reports that the bridge had collapsed."),
    ("He returned to Paris in 1950", "Despite rumours that he had died, he returned to Paris in 1950."),
    ("The company went public in 1986", "Shares were first offered to the public in 1986."),
    ("Da Gama reached the coast of India", "Da Gama sailed from the Cape of Good Hope to the coast of India."),
    ("The company opened an office in Tokyo",
     "The company planned to expand into Asia and to that end opened an office in Tokyo in 1990."),
    ("He announced his retirement that evening", "He was expected to resign and that evening announced his retirement."),
    ("He returned in 1950 to lead the party", "He reportedly fled the country then returned in 1950 to lead the party."),
    ("He moved to Chicago in 1900", "He was possibly born in Ohio. He moved to Chicago in 1900."),
    # "İ" lower-cases to two characters: matching is on the text as written, so offsets hold
    ("The garrison surrendered", "İ" * 20 + " Governor Halil reportedly resigned immediately, and the garrison surrendered."),
    ("The spy was executed in 1938", "The spy, accused of treason, was executed in 1938."),
    ("The river flows to the sea", "The river appears to the east of the town and flows to the sea."),
    ("The conjecture remains unproven", "The Riemann hypothesis remains unproven."),  # only "hypothesis that" hedges
    ("He was accused of treason", "In 1937 he was accused of treason by the party."),
    # the claim reports the hedge itself, or hedges in other words
    ("Toghrul suggested that he enlist Jamukha", "Toghrul suggested that he also involve Jamukha, his friend."),
    ("Temüjin was likely born in 1162", "Temüjin was probably born in 1162 near Burkhan Khaldun."),
    ("Dalton thought all elements were monatomic", "Dalton's hypothesis assumed that all elements were monatomic."),
    # the source also states it outside the hedge
    ("He was captured in May", "Some claimed that he was captured; the records show he was captured in May."),
    # a hedge about something else; a month is not a modal; "would" is not read
    ("The company moved its headquarters to Dallas",
     "After planning to expand abroad, the company moved its headquarters to Dallas."),
    ("He defected in May 1938", "In May 1938 he defected across the border."),
    ("He became director of the agency", "He would later become director of the agency."),
    # no hedge at all
    ("Takeoka executed Lyushkov", "Takeoka admitted publicly that he executed Lyushkov on 19 August 1945."),
    # most of the claim's words are stated outside the hedge
    ("The climbers reached the summit of the mountain after a long storm",
     "After a long storm the climbers finally reached the mountain's summit, though some hoped to rest."),
]


@pytest.mark.parametrize(("claim", "source", "expected"), CONFLICTS)
def test_what_the_source_only_hedges_is_a_conflict(claim: str, source: str, expected: tuple[str, str]) -> None:
    assert hedge_conflicts(claim, source) == (expected,)
    assert expected in conflict_pairs(claim, source)  # and so the claim is not supported by it
    assert expected not in conflict_pairs(claim, source, polarity=False)  # (verbatim: claims.verbatim_conflicts)


@pytest.mark.parametrize(("claim", "source"), NO_CONFLICT)
def test_no_conflict_when_the_source_states_it(claim: str, source: str) -> None:
    assert hedge_conflicts(claim, source) == ()


@pytest.mark.parametrize(("text", "expected"), [("He may have left.", True), ("In May he left.", False),
                                               ("It was believed that he left.", True), ("He left.", False),
                                               ("They tried to leave.", True), ("He would leave.", False)])
def test_hedged(text: str, expected: bool) -> None:
    assert hedged(text) is expected


@pytest.mark.parametrize("source", ["theories held that " * 20_000, "plans to travel, and " * 20_000,
                                    "may " * 50_000, ("He was captured. " * 10_000) + THEORIES])
def test_a_long_source_takes_linear_time(source: str) -> None:
    t0 = time.perf_counter()
    hedge_conflicts("Lyushkov was captured and travelled and left", source)
    assert time.perf_counter() - t0 < 5.0


@pytest.mark.parametrize("text", ["", "   ", "[]", "—", "may", "theories held that", "Ünïcödé plans to ✓ travel"])
def test_odd_input_is_read_without_error(text: str) -> None:
    assert isinstance(hedge_conflicts(text, text), tuple)
    assert isinstance(hedge_conflicts("he travelled", text), tuple)


def test_a_verbatim_quote_inside_a_hedge_is_a_conflict() -> None:
    from rag.claims import verbatim_conflicts

    text = f"Lyushkov vanished.\n{THEORIES} However in 1979, Takeoka admitted that he executed Lyushkov."
    quote = "he was captured by the Red Army"
    at = text.index(quote)
    assert [(c.claim, c.source) for c in verbatim_conflicts(quote, text, at, at + len(quote))] == \
        [("captured", "theories held that … captured")]
    fact = "he executed Lyushkov"
    at = text.index(fact)
    assert verbatim_conflicts(fact, text, at, at + len(fact)) == ()
    whole = THEORIES[:-1]  # the quote includes the hedge: it reports the theory
    at = text.index(whole)
    assert verbatim_conflicts(whole, text, at, at + len(whole)) == ()
