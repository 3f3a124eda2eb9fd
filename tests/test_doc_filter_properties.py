"""Property: with doc_ids, search, ask, locate and context never return anything from another document."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.answering import ask, build_context, locate
from rag.config import Settings
from rag.retrieval import Retriever
from tests.conftest import MD_DOC, WIKI_DOC, write_corpus

DOCS = {
    "ada_lovelace.txt": WIKI_DOC,
    "tea.md": MD_DOC,
    "kites.txt": "Kites were flown in China in 500 BC. Kites were not flown in Europe until much later.\n\n"
                 "A kite needs wind. Ada flew a kite in London in 1828.",
    "boats.txt": "Boats were rowed on the Nile in 3000 BC. Ada was born in London on 10 December 1815.\n\n"
                 "Reed boats still sail on Lake Titicaca.",
    "heading_only.md": "# Tea\n\n## Ada\n",
    "same.txt": "Ada was born in London on 10 December 1815.",
}
IDS = sorted(Path(name).stem for name in DOCS)
QUESTIONS = ("When was Ada born?", "Where were kites flown?", "tea", "Ada was born in London on 10 December 1815.",
             "Boats were rowed on the Nile", "What needs wind?")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    from rag.service import Engine, build

    root = tmp_path_factory.mktemp("filters")
    config = Settings(embedder="fake", corpus_dir=write_corpus(root / "corpus", DOCS), index_dir=root / "index",
                      chunk_chars=200)
    build(config)
    return Engine(config).retriever


def _spans_hold(retriever: Retriever, items: list[tuple[str, int, int, str]], chosen: set[str]) -> None:
    for doc_id, start, end, text in items:
        assert doc_id in chosen
        assert retriever.index.documents[doc_id].text[start:end] == text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(IDS), max_size=4), question=st.sampled_from(QUESTIONS))
def test_results_come_only_from_the_chosen_documents(corpus: Retriever, chosen: list[str], question: str) -> None:
    assert set(IDS) <= set(corpus.index.documents)  # the heading-only document is indexed too
    allowed = set(chosen)
    found = corpus.search(question, k=5, doc_ids=chosen).passages
    _spans_hold(corpus, [(p.doc_id, p.start, p.end, p.text) for p in found], allowed)
    _spans_hold(corpus, [(p.doc_id, h.start, h.end, h.text) for p in found for h in p.highlights], allowed)
    result = ask(corpus, question, min_confidence=0.0, doc_ids=chosen)
    _spans_hold(corpus, [(p.doc_id, p.start, p.end, p.text) for p in result.passages], allowed)
    if result.answer is not None:
        answer = result.answer
        _spans_hold(corpus, [(answer.doc_id, answer.start, answer.end, answer.text)], allowed)
    claim = locate(corpus, question, doc_ids=chosen)
    _spans_hold(corpus, [(m.doc_id, m.start, m.end, m.text) for m in claim.matches], allowed)
    verbatim = {d for d in allowed if question.rstrip(".") in corpus.index.documents[d].text}
    if verbatim:  # a claim stated word for word in a chosen document is found there
        assert claim.matches[0].match in ("exact", "normalized") and claim.matches[0].doc_id in verbatim
    context = build_context(corpus, question, max_chars=1500, doc_ids=chosen)
    _spans_hold(corpus, [(c.doc_id, c.start, c.end, c.text) for c in context.citations], allowed)
    if not allowed:
        assert found == [] and result.answer is None and claim.matches == () and context.context == ""


def test_duplicate_ids_select_the_document_once(corpus: Retriever) -> None:
    once = ask(corpus, "When was Ada born?", min_confidence=0.0, doc_ids=["boats"])
    twice = ask(corpus, "When was Ada born?", min_confidence=0.0, doc_ids=["boats", "boats"])
    assert [p.start for p in once.passages] == [p.start for p in twice.passages]
    claim = "Ada was born in London on 10 December 1815."
    assert [m.doc_id for m in locate(corpus, claim, k=5, doc_ids=["same", "same"]).matches] == ["same"]


def test_a_heading_only_document_gives_no_claim_match(corpus: Retriever) -> None:
    result = locate(corpus, "Ada drank tea in the afternoon", doc_ids=["heading_only"])
    assert result.matches == () and not result.supported
