"""Answer-type cues (rag.cues) and the sentence features and highlights built on them."""

from __future__ import annotations

import numpy as np
import pytest

from rag import cues
from rag.config import Settings
from rag.numbers import restates
from rag.retrieval import SENTENCE_FEATURES
from rag.service import Engine


@pytest.mark.parametrize(("question", "kind"), [
    ("When did Lyushkov defect?", "date"),
    ("On what date did Lyushkov defect?", "date"),
    ("In what year was the treaty signed?", "date"),
    ("How many people died?", "number"),
    ("When did how many people die?", "number"),  # number wins: it is the narrower cue
    ("Who killed Lyushkov?", "person"),
    ("Whose idea was it?", "person"),
    ("Where was Ada born?", "place"),
    ("In which city did she die?", "place"),
    ("Why did the plot fail?", None),
    ("What intelligence did Lyushkov provide?", None),
])
def test_answer_kind(question: str, kind: str | None) -> None:
    assert cues.answer_kind(question) == kind


def test_sentence_cues() -> None:
    assert cues.has_year("On 13 June 1938, he defected.")
    assert not cues.has_year("A press conference was held on 13 July.")
    assert cues.has_date("A press conference was held on 13 July.")
    assert cues.has_year("Rome was founded in 753 BC.")
    assert cues.is_hedged("Some theories held that he was captured.")
    assert cues.is_hedged("He was reportedly seen at a station.")
    assert not cues.is_hedged("Takeoka admitted that he executed Lyushkov.")
    # the first word of a sentence is capitalised anyway and names nothing
    assert cues.names("However in 1979, Yutaka Takeoka admitted it.") == {"yutaka", "takeoka"}
    assert cues.names("the end") == frozenset()
    assert cues.starts_with_reference("It is connected to the city via the Metro.")
    assert cues.starts_with_reference('"This revolution" changed it.')
    assert not cues.starts_with_reference("Items of note: Italy, Thistle.")


def test_retrieval_and_ranker_cues_differ() -> None:
    """Each set was fitted with its own definitions (rag/cues.py): these differences are in the weights."""
    assert cues.answer_kind("Why did the plot fail?") is None
    assert cues.ranker_kind("Why did the plot fail?") == "reason"
    assert cues.answer_kind("Tell me when it was.") is None
    assert cues.ranker_kind("Tell me when it was.") == "date"
    assert not cues.has_date("He left in Sept.")
    assert cues.kind_present("date", "He left in Sept.", frozenset())
    assert cues.has_number("Several died.")
    assert not cues.kind_present("number", "Several died.", frozenset())
    assert cues.names("1938 Lyushkov fled.") == {"lyushkov"}
    assert not cues.kind_present("person", "1938 Lyushkov fled.", frozenset())


@pytest.mark.parametrize(("sentence", "causal"), [
    ("He fled because he feared arrest.", True),
    ("Blyukher's arrest and subsequent death resulted from blame being assigned to him.", True),
    ("He was killed by the Japanese in order to prevent him from falling back into Soviet hands.", True),
    ("As a result of the defection, the border was closed.", True),
    ("Fearing his own arrest, he fled.", True),
    ("The reason was never given.", True),
    ("He moved to Moscow in 1935 and married there.", False),
    ("The results were published in 1937.", False),
    ("The results in 1937 were poor.", False),  # "results in": a noun, not a verb
    ("He left for no reason.", False), ("He wrote for Reason magazine.", False),
    ("He was feared dead.", False), ("He toured the grounds of the palace.", False),
    ("He was highly motivated.", False), ("The consequences of the theorem are many.", False),
    ("He planned to stop at Odessa.", False),
])
def test_the_ranker_s_causal_cue(sentence: str, causal: bool) -> None:
    """A "why" question wants a sentence that states a cause: with a connective ("because", "in order to") or with
    a noun or verb of causation ("resulted from", "blame", "fearing")."""
    assert cues.kind_present("reason", sentence, frozenset()) is causal


@pytest.mark.parametrize(("question", "kind"), [
    ("How old was Manning when he played in Super Bowl 50?", "number"),  # not the "when" of a clause
    ("Where did he cross the border when he fled?", "place"),
    ("Why should someone not commit a crime when they are protesting?", "reason"),
    ("Who fled when the Soviets arrived?", "person"),
    ("When did the man who founded it die?", "date"),
    ("In what year did the officer who shot him confess?", "date"),
    ("The man who founded the NKVD died in what year?", "date"),  # a relative "who" is no question word
    ("Lyushkov, who defected to Japan, was killed when?", "date"),
    ("The team whose captain was Smith won how many titles?", "number"),
    ("In the town where he was born, how many people lived?", "number"),
    ("At the school where he taught, when did he start?", "date"),
])
def test_the_ranker_reads_the_kind_asked_first(question: str, kind: str) -> None:
    assert cues.ranker_kind(question) == kind


def test_restates() -> None:
    assert restates("- Died: 1852-11-27", "She died of uterine cancer on 27 November 1852, aged 36.")
    assert not restates("- Died: 1852-11-27", "She died on 27 November 1853.")
    assert not restates("- Birthplace: London", "She was born on 10 December 1815.")


@pytest.fixture
def engine(built_settings: Settings) -> Engine:
    return Engine(built_settings)


def _features(engine: Engine, question: str, needle: str) -> dict[str, float]:
    retriever = engine.retriever
    sid = next(i for i, s in enumerate(retriever.index.sentences) if needle in s.text)
    query = retriever.prepare(question)
    retriever.lexical(query)
    row = retriever.sentence_features(query, np.array([sid]))[0]
    return dict(zip(SENTENCE_FEATURES, row.tolist(), strict=True))


def test_year_and_name_features_follow_the_question(engine: Engine) -> None:
    born = "Ada was born in London on 10 December 1815."
    assert _features(engine, "When was Ada born?", born)["year"] == 1.0
    assert _features(engine, "Who was Ada?", born)["year"] == 0.0
    # "London" is a name the question does not mention; "Ada" is not new
    assert _features(engine, "Where was Ada born?", born)["name"] == 1.0
    assert _features(engine, "Where was Ada born?", "Her mother, Lady Byron, promoted")["name"] == 1.0
    mother = "Her mother, Lady Byron, promoted Ada's interest"
    assert _features(engine, "Where did Lady Byron promote Ada?", mother)["name"] == 0.0
    assert _features(engine, "What did Ada do?", born)["name"] == 0.0


def test_infobox_line_gives_way_to_prose_in_highlights(engine: Engine) -> None:
    retriever = engine.retriever
    top = retriever.search("Died 1852-11-27", k=3, mode="lexical").passages[0]
    # the infobox line matches best, but the lead sentence of the same passage states the date
    assert any(h.text == "- Died: 1852-11-27" for h in top.highlights)
    assert "27 November 1852" in top.highlights[0].text
    text = retriever.index.documents[top.doc_id].text
    assert all(text[h.start:h.end] == h.text for h in top.highlights)
