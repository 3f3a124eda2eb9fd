"""Short answers: the one date or figure of an answer sentence that a question asks for, or none."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rag.answering import ask
from rag.api.app import create_app
from rag.retrieval import Retriever
from rag.service import build
from rag.short_answers import short_answer
from tests.test_api import settings_for, wait_loaded

FOUND = [
    ("When was she born?", "Ada was born in London on 10 December 1815.", "10 December 1815"),
    ("When did he defect?", "On 13 June 1938, he crossed the border at Posyet.", "13 June 1938"),
    ("When did the war end?", "The war ended on May 8, 1945, in Europe.", "May 8, 1945"),
    ("When did he join the Cheka?", "In November 1920, he joined the Cheka of Odessa.", "November 1920"),
    ("When did the city grow fastest?", "The city grew fastest in the early 1850s.", "the early 1850s"),
    ("When was the temple built?", "The temple was built in the 3rd century BC by the king.", "the 3rd century BC"),
    ("When did he spy in Germany?", "Around 1930, he spied on a factory in Germany.", "Around 1930"),
    ("In what year did the bridge open?", "The bridge opened to traffic in 1932.", "1932"),
    ("When did the heyday last?", "Its heyday was between 1945 and 1970.", "between 1945 and 1970"),
    ("How many troops did he command?", 'He commanded "20,000-30,000 elite troops."', "20,000-30,000"),
    ("How many people live there?", "About 63,519 people lived there in 2011.", "About 63,519"),
    ("How long is black tea steeped?", "Black tea is steeped near boiling point for five minutes.", "five minutes"),
    ("How old was his daughter?", "He left with his eleven-year-old daughter.", "eleven"),
    ("How much did the farm output grow?", "Farm output grew 17% in that decade.", "17%"),
    ("What percentage of seats did they win?", "They won 75% of the seats.", "75%"),
]

NOT_FOUND = [
    ("When did Lyushkov die?", "Lyushkov (1900 - 19 August 1945) was a Soviet officer."),  # two dates: reading needed
    ("When did the empire fall?", "The empire lasted from 1299 to 1923."),  # two years, no range of the answer
    ("Who killed him?", "He was killed by Takeoka on 19 August 1945."),  # names are not extracted
    ("Where was she buried?", "She was buried at Hucknall in 1852."),
    ("Why did he flee?", "He fled in 1938 because he feared arrest."),
    ("In what month did she die?", "She died in 1852."),  # a year does not answer "what month"
    ("What year did the bridge open?", "The bridge opened in May."),
    ("How often do trains run?", "Trains run every three hours."),  # a frequency is more than its figure
    ("How many troops were there in 1937?", "There were many troops in 1937."),  # the year is the question's
    ("When did it happen?", "Nobody knows when it happened."),
    ("", "In 1900 he was born."),
]


@pytest.mark.parametrize(("question", "sentence", "expected"), FOUND)
def test_the_one_date_or_figure_asked_for_is_found(question: str, sentence: str, expected: str) -> None:
    span = short_answer(question, sentence)
    assert span is not None, question
    assert sentence[span[0]:span[1]] == expected


@pytest.mark.parametrize(("question", "sentence"), NOT_FOUND)
def test_no_short_answer_without_exactly_one_candidate_of_the_kind_asked_for(question: str, sentence: str) -> None:
    assert short_answer(question, sentence) is None


def test_a_figure_the_question_already_names_is_not_its_answer() -> None:
    sentence = "In 1937 he commanded 5,000 troops."
    span = short_answer("How many troops did he command in 1937?", sentence)
    assert span is not None and sentence[span[0]:span[1]] == "5,000"
    assert short_answer("When did he command 5,000 troops?", sentence) == (3, 7)  # "1937", not the figure


SHORT_QUESTIONS = ["When was Ada born?", "When did she die?", "In what year did she translate an article?",
                   "How long is black tea steeped?", "When was tea popularised in England?"]


@pytest.mark.parametrize("question", SHORT_QUESTIONS)
def test_a_short_answer_is_a_slice_of_the_source_inside_the_answer(retriever: Retriever, question: str) -> None:
    answer = ask(retriever, question, min_confidence=0.0).answer
    assert answer is not None
    expected = short_answer(question, answer.text)
    if expected is None:
        assert answer.short is None
        return
    short = answer.short
    assert short is not None
    text = retriever.index.documents[answer.doc_id].text
    assert text[short.start:short.end] == short.text
    assert answer.start <= short.start < short.end <= answer.end
    assert (short.start - answer.start, short.end - answer.start) == expected


def test_the_api_returns_the_short_answer_with_offsets(tmp_path) -> None:  # noqa: ANN001
    settings = settings_for(tmp_path)
    build(settings)
    with TestClient(create_app(settings)) as client:
        wait_loaded(client)
        found = 0
        for question in SHORT_QUESTIONS:
            body = client.post("/v1/ask", json={"question": question, "min_confidence": 0}).json()
            short = body["answer"]["short"]
            if short is None:
                continue
            found += 1
            span = client.get(f"/v1/documents/{body['answer']['doc_id']}/span",
                              params={"start": short["start"], "end": short["end"]}).json()
            assert span["text"] == short["text"]
        assert found, "no question got a short answer"
        body = client.post("/v1/ask", json={"question": "Who was Ada's father?", "min_confidence": 0}).json()
        assert body["answer"]["short"] is None
