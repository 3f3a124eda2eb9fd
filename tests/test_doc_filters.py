"""ask, locate and context restricted to some documents (doc_ids, metadata), as search already was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rag.answering import ask, build_context, locate
from rag.api.app import create_app
from rag.cli import main
from rag.config import Settings
from rag.errors import NotFoundError
from rag.retrieval import Retriever
from rag.service import build
from tests.conftest import MD_DOC, WIKI_DOC, write_corpus
from tests.test_api import assert_error, wait_loaded

BORN = "Ada was born in London on 10 December 1815."


def test_ask_answers_from_the_chosen_documents_only(retriever: Retriever) -> None:
    question = "When was Ada born?"
    for doc in ("ada_lovelace", "tea"):
        result = ask(retriever, question, min_confidence=0.0, doc_ids=[doc])
        assert result.passages and {p.doc_id for p in result.passages} == {doc}
        assert result.answer is not None and result.answer.doc_id == doc
    none = ask(retriever, question, min_confidence=0.0, doc_ids=[])
    assert not none.answerable and none.answer is None and none.passages == ()


def test_context_cites_the_chosen_documents_only(retriever: Retriever) -> None:
    everything = build_context(retriever, "tea and Ada", max_chars=2000)
    assert {c.doc_id for c in everything.citations} == {"ada_lovelace", "tea"}
    only_tea = build_context(retriever, "tea and Ada", max_chars=2000, doc_ids=["tea"])
    assert only_tea.citations and {c.doc_id for c in only_tea.citations} == {"tea"}
    assert build_context(retriever, "tea and Ada", max_chars=2000, doc_ids=[]).context == ""


def test_locate_finds_a_claim_only_in_the_chosen_documents(retriever: Retriever) -> None:
    assert locate(retriever, BORN, doc_ids=["ada_lovelace"]).matches[0].match == "exact"
    elsewhere = locate(retriever, BORN, doc_ids=["tea"])
    assert not elsewhere.supported
    assert all(m.doc_id == "tea" and m.match == "paraphrase" for m in elsewhere.matches)
    assert locate(retriever, BORN, doc_ids=[]).matches == ()
    with pytest.raises(NotFoundError, match="nope"):
        locate(retriever, BORN, doc_ids=["nope"])


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    corpus = write_corpus(tmp_path / "corpus", {"ada_lovelace.txt": WIKI_DOC, "tea.md": MD_DOC})
    notes = [{"doc_id": "kites", "title": "Kites", "text": "Kites were flown in China in 500 BC.",
              "metadata": {"team": "blue"}},
             {"doc_id": "boats", "title": "Boats", "text": "Boats were rowed on the Nile in 3000 BC.",
              "metadata": {"team": "red"}}]
    (corpus / "notes.jsonl").write_text("".join(json.dumps(n) + "\n" for n in notes), encoding="utf-8")
    settings = Settings(embedder="fake", corpus_dir=corpus, index_dir=tmp_path / "index", chunk_chars=300)
    build(settings)
    with TestClient(create_app(settings)) as c:
        wait_loaded(c)
        yield c


def test_the_api_filters_ask_locate_and_context(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "When were they flown?", "min_confidence": 0,
                                        "metadata": {"team": "blue"}}).json()
    assert {p["doc_id"] for p in body["passages"]} == {"kites"} and body["answer"]["doc_id"] == "kites"
    assert body["passages"][0]["metadata"] == {"team": "blue"}
    body = client.post("/v1/context", json={"question": "When?", "doc_ids": ["boats", "kites"],
                                            "metadata": {"team": "red"}}).json()
    assert {c["doc_id"] for c in body["citations"]} == {"boats"}
    body = client.post("/v1/locate", json={"claim": "Kites were flown in China in 500 BC.",
                                           "metadata": {"team": "red"}}).json()
    assert not body["supported"] and all(m["doc_id"] == "boats" for m in body["matches"])
    body = client.post("/v1/locate", json={"claim": "Kites were flown in China in 500 BC.",
                                           "doc_ids": ["kites"]}).json()
    assert body["supported"] and body["matches"][0]["match"] == "exact"


def test_the_api_refuses_unknown_documents_and_answers_nothing_for_no_match(client: TestClient) -> None:
    for path, body in (("/v1/ask", {"question": "When?"}), ("/v1/locate", {"claim": "Kites fly."}),
                       ("/v1/verify", {"text": "Kites fly in the wind."}), ("/v1/context", {"question": "When?"})):
        error = assert_error(client.post(path, json={**body, "doc_ids": ["nope"]}), 404)
        assert "nope" in error["message"]
        assert_error(client.post(path, json={**body, "doc_ids": "kites"}), 422)
    empty = {"metadata": {"team": "green"}}
    ask_body = client.post("/v1/ask", json={"question": "When?", **empty}).json()
    assert ask_body["answerable"] is False and ask_body["passages"] == []
    assert client.post("/v1/locate", json={"claim": "Kites fly.", **empty}).json()["matches"] == []
    assert client.post("/v1/context", json={"question": "When?", **empty}).json()["citations"] == []
    checked = client.post("/v1/verify", json={"text": "Kites fly in the wind.", **empty}).json()
    assert [(s["supported"], s["matches"]) for s in checked["statements"]] == [(False, [])]


def test_cli_takes_doc(built_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--index", str(built_settings.index_dir), "--embedder", "fake"]
    assert main(["ask", "When was Ada born?", "--doc", "tea", "--min-confidence", "0", "--json", *common]) == 0
    body = json.loads(capsys.readouterr().out)
    assert {p["doc_id"] for p in body["passages"]} == {"tea"}
    assert main(["search", "Ada", "--doc", "tea", "--json", *common]) == 0
    assert {p["doc_id"] for p in json.loads(capsys.readouterr().out)["results"]} == {"tea"}
    assert main(["search", "Ada tea", "-k", "20", "--doc", "tea", "--doc", "ada_lovelace", "--json", *common]) == 0
    assert {p["doc_id"] for p in json.loads(capsys.readouterr().out)["results"]} == {"tea", "ada_lovelace"}
    for command in (["ask", "When?"], ["locate", "Ada was born."], ["context", "Ada"], ["search", "Ada"]):
        assert main([*command, "--doc", "nope", *common]) == 2
        err = capsys.readouterr().err
        assert "nope" in err and "rag list" in err


def test_locate_scores_a_large_selection_a_block_at_a_time(retriever: Retriever,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import claims
    from rag.fusion import top_k

    index = retriever.index
    sids = np.arange(len(index.sentences), dtype=np.int64)
    rng = np.random.default_rng(0)
    for _ in range(5):
        vector = rng.normal(size=index.sentence_vectors.shape[1]).astype(np.float32)
        expected = sids[top_k(index.sentence_vectors @ vector, 7)].tolist()
        monkeypatch.setattr(claims, "DENSE_BLOCK", 3)  # many blocks, each merged into the running best
        assert claims._best_dense(index, sids, vector, 7) == expected
        monkeypatch.setattr(claims, "DENSE_BLOCK", 65536)
        assert claims._best_dense(index, sids, vector, 7) == expected
