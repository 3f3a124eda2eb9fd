"""Descriptions a document gives its names by apposition (rag.aliases), and how the answer ranker reads them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from rag.aliases import described, descriptors
from rag.config import Settings
from tests.conftest import write_corpus

BIOGRAPHY = ("Ivan Petrov was a clerk in Kharkov. In 1930 he arranged for his Jewish wife, Olga, to leave for Riga. "
             "However, a Soviet agent found her. Olga was kept at a prison before being sent to the Gulag. "
             "In 1945, Boris Ivanov, who was a young intelligence officer and Petrov's handler at the end of the war, "
             "shot Petrov. During the Great Purge, the NKVD arrested thousands. A hearing was held on 13 July, a month "
             "after the arrest. Ivanov's superior, General Oleg Sidorov, wanted him dead. Sidorov, the regional "
             "commander, agreed. Ivanov met Sidorov in Dalian.")


def _fake_retriever(folder: Path, docs: dict[str, str]):  # noqa: ANN202 - rag.retrieval.Retriever
    """A fake-embedder index of ``docs`` built in ``folder`` (300-character chunks), and its retriever."""
    from rag.service import Engine, build

    settings = Settings(embedder="fake", corpus_dir=write_corpus(folder / "corpus", docs), index_dir=folder / "index",
                        chunk_chars=300)
    build(settings)
    return Engine(settings).retriever


def _is_name(text: str) -> object:
    lower = set(re.findall(r"(?<![\w'’])[a-z][\w'’-]*", text))
    return lambda word: word.lower() not in lower


def test_descriptions_before_and_after_a_name() -> None:
    found = descriptors(BIOGRAPHY, _is_name(BIOGRAPHY))
    assert found["Olga"] == {"jewish", "wife"}
    assert found["Ivanov"] >= {"young", "intellig", "offic", "handler"}
    assert not found["Ivanov"] & {"end", "war"}  # the description ends at "at the end of the war"
    assert found["Sidorov"] == {"superior", "region", "command"}  # two descriptions of one name gather


def test_what_is_not_a_described_name() -> None:
    found = descriptors(BIOGRAPHY, _is_name(BIOGRAPHY))
    assert "However" not in found  # "however" is written in lower case too: not a name
    assert "Purge" not in found  # "During the Great Purge, the NKVD…": the name is governed by a preposition
    assert "July" not in found  # "on 13 July, a month after": a month is no one
    assert set(found) == {"Olga", "Ivanov", "Sidorov"}


def test_a_sentence_holds_the_descriptions_of_the_names_it_mentions() -> None:
    sentences = [("bio", "Olga was kept at a prison."), ("bio", "Ivanov's superior agreed."), ("bio", "Petrov fled."),
                 ("other", "Olga sang.")]
    tokens = described(sentences, {"bio": descriptors(BIOGRAPHY, _is_name(BIOGRAPHY)),
                                   "other": descriptors("Olga sang.", _is_name(BIOGRAPHY))})
    assert tokens[0] == {"jewish", "wife"}
    assert "handler" in tokens[1]  # the possessive "Ivanov's" mentions Ivanov
    assert tokens[2] == frozenset()
    assert tokens[3] == frozenset()  # another document's Olga is not this one


@pytest.mark.parametrize(("text", "expected"), [
    ("In Paris, the government announced new taxes.", {}),  # an adverbial, not "Paris, the government"
    ("At Dalian, the Japanese officer shot him.", {}),
    ("Like Stalin, the dictator feared plots.", {}),
    ("By the time of his arrest, Yezhov, was ill.", {}),
    ("In the end, Takeoka, shot him.", {}),
    ("He met Lyushkov, the Japanese claim, in Tokyo.", {}),  # a parenthetical
    ("He met Ivanov, the  \nNKVD chief, in 1930.", {}),  # a description of nothing but spaces: no error
    ("Ivanov, the \r\nnew man, came.", {}),
    ("He fled. The next day, Lyushkov, who had crossed the border, hid.", {}),  # a time, not a description
    ("The following year, Yezhov, who had fallen, was arrested.", {}),
    ("Soon after the war, Stalin, who was ill, died.", {}),  # an adverbial that does not open the clause
    ("Two years after the purge, Yezhov, who was drunk, fell.", {}),
    ("He visited France, the Netherlands, and Belgium.", {}),  # a list of names
    ("his physician, Dr. Smith, came.", {"Smith": {"physician"}}),  # abbreviations and titles are not keys
    ("the capital, St. Petersburg, fell.", {"Petersburg": {"capit"}}),
    ("His son, John Smith Jr., came.", {"Smith": {"son"}}),
    ("His father, John W. Weeks, came.", {"Weeks": {"father"}}),
    ("His superior, General Genzo Yanagita, agreed. General Yanagita wrote.", {"Yanagita": {"superior"}}),

    ("His wife, Inna, was Jewish. He loved Inna.", {"Inna": {"wife"}}),  # opening a sentence
    ("The NKVD chief, Yezhov, said so.", {"Yezhov": {"chief", "nkvd"}}),
    ("a brother\nPersonal life\nHis wife, Inna, was there.", {"Inna": {"wife"}}),  # not across lines
    ("He worked with his brother, Ira Gershwin, on a song. George Gershwin died.", {"Ira": {"brother"}}),
])
def test_adverbials_parentheticals_and_relatives(text: str, expected: dict[str, set[str]]) -> None:
    assert descriptors(text, lambda _w: True) == expected


def test_a_capitalised_word_that_is_no_name_is_no_first_name() -> None:
    """"When Takeoka returned" puts no other first name before "Takeoka": "when" is written in lower case too."""
    text = "Yutaka Takeoka, who was a young officer, shot him. When Takeoka returned, he wept when told."
    assert descriptors(text, _is_name(text)) == {"Takeoka": {"young", "offic"}}


def test_a_relative_who_shares_the_subject_s_last_name_is_keyed_by_the_first() -> None:
    """"Gershwin died…" in George Gershwin's article is George: his brother's description goes to "Ira" only."""
    text = "He worked with his brother, Ira Gershwin, on a first song. Gershwin died of a brain tumour in 1937."
    assert descriptors(text, lambda _w: True, title="George Gershwin") == {"Ira": {"brother"}}
    assert descriptors(text, lambda _w: True) == {"Gershwin": {"brother"}}  # without the title nothing says so


@pytest.mark.parametrize("text", [
    "his " + "a " * 50_000 + "wife, Olga.", "Olga, a " + "b, Olga, the " * 20_000, ("Abc " * 30_000) + ", the x",
    "However, the plan failed. " * 40_000,  # a sentence-opening word before every apposition
    ("Zed, a " + "b" * 200 + "\n") * 4_700,  # a glossary
    "".join(f"X{i:05d}aaa, the b. " for i in range(8_000)),  # many names
])
def test_long_texts_take_linear_time(text: str) -> None:
    t0 = time.perf_counter()
    descriptors(text, lambda _w: True)
    assert time.perf_counter() - t0 < 3.0


def test_the_answer_ranker_counts_a_description_as_the_sentence_s_words(tmp_path: Path) -> None:
    """"Was his wife sent to the Gulag?": the sentence naming Olga covers "wife" for the answer ranker's coverage
    (rag.calibration); the sentence's own tokens, which claim lookup reads, do not hold it."""
    from rag.calibration import SENTENCE_FEATURES, analyse_question, corpus_stats, sentence_features

    retriever = _fake_retriever(tmp_path, {"petrov.txt": BIOGRAPHY})
    index = retriever.index
    stats = corpus_stats(index)
    sid = next(i for i, s in enumerate(index.sentences) if s.text.startswith("Olga was kept"))
    assert "wife" not in stats.sentence_tokens[sid] and "wife" in stats.answer_tokens(sid)
    question = "Was his wife sent to the Gulag?"
    info = analyse_question(question)
    row = sentence_features(index, stats, info, retriever.prepare(question).vector, [sid], [1],
                            np.zeros(len(index.sentences)))[0]
    assert row[SENTENCE_FEATURES.index("coverage")] == pytest.approx(1.0)


def test_ask_works_on_crlf_and_markdown_line_breaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A CRLF text and a Markdown hard line break ("the  \\n") once gave a description of nothing but spaces, which
    raised inside corpus_stats and failed every ask of the index. And should reading the descriptions ever fail,
    the document lends none and ask still answers."""
    from rag import aliases, calibration
    from rag.answering import ask

    docs = {"petrov.txt": BIOGRAPHY.replace(". ", ".\r\n"),
            "ivanov.md": "# Ivanov\n\nHe met Ivanov, the  \nNKVD chief, in 1930. Ivanov was born in Kiev in 1901.\n"}
    retriever = _fake_retriever(tmp_path, docs)
    result = ask(retriever, "When was Ivanov born?", min_confidence=0.0)
    assert result.answer is not None and "1901" in result.answer.text
    assert not [r for r in caplog.records if "appositions" in r.getMessage()]  # read without an error

    def broken(*_args: object, **_kwargs: object) -> dict[str, frozenset[str]]:
        raise RuntimeError("a bug in reading appositions")

    monkeypatch.setattr(aliases, "descriptors", broken)
    monkeypatch.setattr(calibration, "descriptors", broken)
    calibration._STATS.clear()
    again = ask(retriever, "When was Ivanov born?", min_confidence=0.0)
    assert again.answer is not None and again.answer.text == result.answer.text
    assert calibration.corpus_stats(retriever.index).described == tuple(frozenset() for _ in retriever.index.sentences)
    assert [r for r in caplog.records if "appositions" in r.getMessage()]  # the failure is logged
    monkeypatch.setattr(calibration, "described", broken)
    calibration._STATS.clear()
    assert ask(retriever, "When was Ivanov born?", min_confidence=0.0).answer == result.answer
    assert calibration.corpus_stats(retriever.index).described == ()


def test_computing_one_generation_s_statistics_never_blocks_another(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """While a new generation's statistics are computed (seconds on a large index), requests on a generation
    already computed go on; concurrent first requests on the new one share one computation."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from rag import calibration

    served = _fake_retriever(tmp_path / "served", {"a.txt": BIOGRAPHY}).index
    new = _fake_retriever(tmp_path / "new", {"a.txt": BIOGRAPHY + " Petrov left."}).index
    calibration._STATS.clear()
    ready = calibration.corpus_stats(served)
    entered, release = threading.Event(), threading.Event()
    computed = []
    real = calibration._compute_stats

    def slow(index):  # noqa: ANN001, ANN202
        computed.append(index.version)
        entered.set()
        assert release.wait(30)
        return real(index)

    monkeypatch.setattr(calibration, "_compute_stats", slow)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(calibration.corpus_stats, new)
        assert entered.wait(30)
        second = pool.submit(calibration.corpus_stats, new)
        t0 = time.perf_counter()
        assert calibration.corpus_stats(served) is ready  # not behind the computation
        assert time.perf_counter() - t0 < 1.0
        assert not first.done() and not second.done()
        release.set()
        assert first.result(30) is second.result(30)
    assert computed == [new.version]  # one computation for both
    assert calibration._BUILDING == {}
