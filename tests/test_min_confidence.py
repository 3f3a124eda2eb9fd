"""The abstention threshold a caller may choose: ask(min_confidence=…), rag ask --min-confidence, RAG_MIN_CONFIDENCE."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.answering import ask, gather_evidence
from rag.api.app import create_app
from rag.calibration import ABSTAIN_BELOW
from rag.cli import main
from rag.config import Settings, load_settings
from rag.errors import ConfigError, InvalidRequestError
from rag.retrieval import Retriever
from rag.service import build
from tests.test_api import assert_error, settings_for, wait_loaded

QUESTIONS = ["When was Ada born?", "Who was Ada's father?", "How long is black tea steeped?",
             "What did she translate in 1843?", "Where was Ada buried?", "What is the capital of Peru?",
             "Which rocket reached orbit first?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_an_answer_is_given_exactly_when_its_confidence_reaches_the_threshold(retriever: Retriever,
                                                                             question: str) -> None:
    confidence = round(gather_evidence(retriever, question).confidence, 4)  # the confidence answers report
    assert ask(retriever, question).min_confidence == ABSTAIN_BELOW
    for threshold in (0.0, 0.1, ABSTAIN_BELOW, 0.5, 0.9, 1.0):
        result = ask(retriever, question, min_confidence=threshold)
        assert result.min_confidence == threshold
        assert result.answerable == (result.answer is not None) == (confidence >= threshold)
        if result.answer is not None:  # the same sentence whatever the threshold
            assert result.answer == ask(retriever, question, min_confidence=0.0).answer


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan, math.inf])
def test_a_threshold_outside_0_to_1_is_refused(retriever: Retriever, bad: float) -> None:
    with pytest.raises(InvalidRequestError, match="min_confidence"):
        ask(retriever, "When was Ada born?", min_confidence=bad)


@pytest.mark.parametrize("bad", ["-0.5", "2", "nan", "high"])
def test_the_setting_is_validated(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("RAG_MIN_CONFIDENCE", bad)
    with pytest.raises(ConfigError, match="RAG_MIN_CONFIDENCE"):
        load_settings()


def _ask_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["ask", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_takes_the_option_then_the_setting_then_the_default(built_settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--index", str(built_settings.index_dir)]
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(built_settings.corpus_dir))
    question = "When was Ada born?"
    assert _ask_json(capsys, question, *common)["min_confidence"] == ABSTAIN_BELOW
    everything = _ask_json(capsys, question, *common, "--min-confidence", "0")
    assert everything["min_confidence"] == 0.0 and everything["answerable"]
    monkeypatch.setenv("RAG_MIN_CONFIDENCE", "1")
    strict = _ask_json(capsys, question, *common)
    assert strict["min_confidence"] == 1.0
    assert strict["answerable"] == (everything["answer"]["confidence"] >= 1.0)
    assert _ask_json(capsys, question, *common, "--min-confidence", "0.0")["answerable"]  # the option wins


@pytest.mark.parametrize("bad", ["1.5", "-1", "nan", "x"])
def test_cli_refuses_a_bad_threshold(built_settings: Settings, capsys: pytest.CaptureFixture[str], bad: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ask", "When was Ada born?", "--index", str(Path(built_settings.index_dir)), "--min-confidence", bad])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--min-confidence" in err and "Traceback" not in err


# -- POST /v1/ask --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = settings_for(tmp_path_factory.mktemp("ask-threshold"))
    build(settings)
    return settings


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


@pytest.mark.parametrize("question", QUESTIONS[:3] + QUESTIONS[-2:])
def test_api_applies_the_requested_threshold(api_settings: Settings, question: str) -> None:
    with _client(api_settings) as client:
        assert wait_loaded(client).status_code == 200
        default = client.post("/v1/ask", json={"question": question}).json()
        assert default["min_confidence"] == ABSTAIN_BELOW
        everything = client.post("/v1/ask", json={"question": question, "min_confidence": 0}).json()
        assert everything["min_confidence"] == 0 and everything["answerable"]
        confidence = everything["answer"]["confidence"]
        for threshold in (0.2, 0.6, 1):
            body = client.post("/v1/ask", json={"question": question, "min_confidence": threshold}).json()
            assert body["min_confidence"] == threshold
            assert body["answerable"] == (confidence >= threshold)  # the reported confidence decides
            if body["answerable"]:
                assert body["answer"] == everything["answer"]


def test_api_default_comes_from_the_setting(tmp_path: Path, api_settings: Settings) -> None:
    strict = api_settings.model_copy(update={"min_confidence": 1.0})
    with _client(strict) as client:
        assert wait_loaded(client).status_code == 200
        body = client.post("/v1/ask", json={"question": "When was Ada born?"}).json()
        assert body["min_confidence"] == 1.0
        asked = client.post("/v1/ask", json={"question": "When was Ada born?", "min_confidence": None}).json()
        assert asked["min_confidence"] == 1.0  # null is "not given"
        assert client.post("/v1/ask", json={"question": "When was Ada born?",
                                            "min_confidence": 0.0}).json()["min_confidence"] == 0.0


@pytest.mark.parametrize("raw", ['-0.1', '1.5', '"0.5"', 'true', 'NaN', 'Infinity', '[0.5]'])
def test_api_refuses_a_bad_threshold(api_settings: Settings, raw: str) -> None:
    with _client(api_settings) as client:
        assert wait_loaded(client).status_code == 200
        response = client.post("/v1/ask", content=f'{{"question": "tea", "min_confidence": {raw}}}'.encode(),
                               headers={"content-type": "application/json"})
        error = assert_error(response, 422, "invalid_request")
        assert "min_confidence" in json.dumps(error["details"])


def test_cli_says_what_it_withheld(built_settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(built_settings.corpus_dir))
    assert main(["ask", "When was Ada born?", "--index", str(built_settings.index_dir), "--min-confidence", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Not in the corpus") and "confidence 1 or more" in out and "--min-confidence" in out


def test_rag_eval_measures_answers_at_the_configured_threshold(tmp_path: Path, corpus_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_evaluation import _lyushkov_file

    questions = _lyushkov_file(tmp_path / "qa.jsonl", (corpus_dir / "ada_lovelace.txt").read_text(encoding="utf-8"))
    args = ["eval", str(questions), "--json", "--embedder", "fake", "--corpus", str(corpus_dir)]
    reports = {}
    for threshold in ("0", "1"):
        monkeypatch.setenv("RAG_MIN_CONFIDENCE", threshold)
        assert main(args) == 0
        reports[threshold] = json.loads(capsys.readouterr().out)["sets"][0]
    assert reports["0"]["min_confidence"] == 0.0 and reports["1"]["min_confidence"] == 1.0
    assert reports["0"]["false_abstention"] == 0.0 and reports["0"]["abstention_unanswerable"] == 0.0
    assert reports["1"]["answer_accuracy"] <= reports["0"]["answer_accuracy"]
    assert reports["1"]["abstention_unanswerable"] >= reports["0"]["abstention_unanswerable"]
