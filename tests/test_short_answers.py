"""Short answers: the one date or figure of an answer sentence that a question asks for, or none."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.answering import ask
from rag.api.app import create_app
from rag.config import Settings
from rag.retrieval import Retriever
from rag.service import Engine, build
from rag.short_answers import short_answer
from tests.conftest import fastest
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
    # review of ea205c8: the same rules, edge cases
    ("When did he die?", "He died on 5 May.", "5 May"),  # a month's name takes no full stop
    ("When was Pompeii destroyed?", "Pompeii was destroyed in AD 79.", "AD 79"),  # the era before the year
    ("When was the city founded?", "The city was founded in 1200 BC.", "1200 BC"),  # not "1200": its era
    ("When was the city founded?", "The city was founded in 1200 B.C. by settlers.", "1200 B.C."),
    ("When was the city built?", "The city was built in the 1200s BC.", "the 1200s BC"),
    ("When was the church built?", "The church was built c.1500.", "c.1500"),  # a hedge without a space
    ("When was it written?", "It was written in the 5th and 6th centuries.", "the 5th and 6th centuries"),
    ("When did he leave?", "He left in mid-1938.", "mid-1938"),
    ("When was the Munich Agreement signed?", "The 1938 Munich Agreement ceded the Sudetenland.", "1938"),
    ("How many votes did he get?", "He got 1,234 votes in Section 5.", "1,234"),  # "Section 5" names a section
    ("How many astronauts flew on Apollo 11?", "Apollo 11 carried three astronauts.", "three"),
    ("When did the strikes happen?", "Miners struck over the winter of 1973–74.", "1973–74"),  # not "1973"
    ("When did it open?", "It opened in 1990/91.", "1990/91"),
    ("When did prices rise?", "During the 2006 Lebanon War, prices rose.", "2006"),  # the sentence's date
    ("When was the module dropped?", "A 1964 NASA study concluded that the module should be dropped.", "1964"),
    # a life span after the name the question uses: the first date is the birth, the second the death
    ("When did Lyushkov die?", "Lyushkov (1900 - 19 August 1945) was a Soviet officer.", "19 August 1945"),
    ("When was Lyushkov born?", "Lyushkov (1900 - 19 August 1945) was a Soviet officer.", "1900"),
    ("When did Lyushkov die?", "Genrikh Samoilovich Lyushkov (Генрих Самойлович Люшков; 1900 - 19 August 1945) was "
     "an officer.", "19 August 1945"),
    ("When did Tesla die?", "Nikola Tesla (10 July 1856 – 7 January 1943) was an inventor.", "7 January 1943"),
    ("In what year was Boltzmann born?", "Ludwig Boltzmann (1844–1906) was a physicist.", "1844"),
    ("When did Ada Lovelace die?", "Ada Lovelace (10 December 1815 – 27 November 1852) met Babbage in 1833.",
     "27 November 1852"),
]

NOT_FOUND = [
    ("When did the officer die?", "Lyushkov (1900 - 19 August 1945) was a Soviet officer."),  # whose span is it?
    ("When did he die?", "Lyushkov (1900 - 19 August 1945) was a Soviet officer."),
    ("When did Takeoka die?", "Lyushkov (1900 - 19 August 1945) was shot by Takeoka."),  # someone else's span
    ("When was Lyushkov born and when did he die?", "Lyushkov (1900 - 19 August 1945) was an officer."),
    ("When did Lyushkov defect?", "Lyushkov (1900 - 19 August 1945) defected in 1938."),  # two other dates
    ("In what month was Boltzmann born?", "Ludwig Boltzmann (1844–1906) was a physicist."),  # a year, not a month
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
    # review of ea205c8: a figure that names, labels or is part of something else is not a quantity
    ("How many ships were lost?", "Ship No. 5 was lost."),
    ("How many pages does the book have?", "The map is on page 245 of the book."),
    ("How many chapters are there?", "This is discussed in chapter 12."),
    ("How many astronauts walked on the Moon?", "Apollo 11 astronauts walked on the Moon."),
    ("How many jets were bought?", "The air force bought F-16 fighters."),
    ("How many people died?", "COVID-19 killed many people."),
    ("How many people called?", "People called 555-1234 to complain."),  # a phone number
    ("How many died?", "It took 10–15% of the population, the plague of 1479–80 as much as 20%."),
    ("How many members voted?", "Two thirds of the members voted."),  # a fraction, not two
    ("How many members voted?", "Two-thirds of the members voted."),
    ("How many people live there?", "Its population is 1,5 million."),  # a decimal comma, not "1"
    ("When was the ruin found?", "It was found 2 km from 1,000 BC ruins."),  # not "000 BC"
    ("When was the wall built?", "The wall was built 1200–10 BC."),  # not "1200–10": the era is BC
    ("When did the borders change?", "They restored the pre-1914 borders."),
    ("When was Rome founded?", "Rome was founded in 753 BC, according to legend; it fell in AD 476."),
    # a year naming something ("the 1938 Munich Agreement") answers only a question about that thing
    ("When did the crisis happen?", "The crisis followed the 1938 Munich Agreement."),
    ("When did Chamberlain resign?", "Chamberlain, who had signed the 1938 Munich Agreement, resigned."),
    # the figure the question names, hedged in the sentence, is still the question's
    ("How many of the 5,000 troops survived?", "About 5,000 troops fought in the battle."),
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


@pytest.mark.parametrize("kind", ["When was it?", "How many were there?", "When did A die?"])
@pytest.mark.parametrize("sentence", [
    "".join("0123456789, "[(i * 7919) % 12] for i in range(100_000)),  # digits, commas, spaces
    "1938 " * 20_000, "about 5 " * 12_500, "between 5 and 6 " * 6_250, "1-" * 50_000, "May 5 " * 16_000,
    "A (" * 33_000, "A (1900 - " * 10_000, "A (a; " * 16_000,  # life spans: "When did A die?" below
])
def test_a_long_sentence_takes_linear_time(kind: str, sentence: str) -> None:
    assert fastest(lambda: short_answer(kind, sentence)) < 2.0  # quadratic took 12 s to 45 s on 100,000 characters


def test_offsets_count_code_points_after_characters_outside_the_bmp(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = ("Notes \U0001F600\U0001D518\U0001D52B and \U0001F1EF\U0001F1F5 open this page about the bridge.\n\n"
            "The \U0001F309 bridge \U0001F600 opened to traffic in 1937 after four years of work. "
            "About 10,000 vehicles \U0001F697 cross the bridge every day.\n")
    (corpus / "bridge.txt").write_text(text, encoding="utf-8")
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", chunk_chars=300)
    build(settings)
    retriever = Engine(settings).retriever
    for question, expected in (("In what year did the bridge open to traffic?", "1937"),
                               ("How many vehicles cross the bridge every day?", "About 10,000")):
        answer = ask(retriever, question, min_confidence=0.0).answer
        assert answer is not None and answer.short is not None, question
        assert answer.short.text == expected
        assert text[answer.short.start:answer.short.end] == expected
        assert answer.start <= answer.short.start < answer.short.end <= answer.end


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
