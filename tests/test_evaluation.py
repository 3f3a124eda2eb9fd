"""The evaluation's hit rules, metrics and loaders on synthetic data, and `rag eval` end to end (fake embedder)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.cli import main
from rag.documents import Citation, Highlight, Passage
from rag.errors import ConfigError
from rag.evaluation import (
    Question,
    answer_hit,
    evidence_hit,
    first_hit_rank,
    load_eval_set,
    rank_metrics,
    short_matches,
    slug,
    subsample,
    top_evidence_hits,
)


def _q(rule: str, gold: tuple[tuple[int, int], ...], doc: str = "d") -> Question:
    return Question("q", "?", doc, True, rule, gold, ())


def test_evidence_hit_needs_half_of_the_gold() -> None:
    assert evidence_hit(0, 100, 10, 20)  # contains it
    assert evidence_hit(15, 40, 10, 20)  # exactly half
    assert not evidence_hit(16, 40, 10, 20)  # less than half
    assert not evidence_hit(20, 30, 10, 20)  # touching is not overlapping
    assert evidence_hit(12, 18, 10, 20)  # inside, 6 of 10


def test_answer_hit_needs_the_whole_answer() -> None:
    assert answer_hit(0, 10, 2, 5) and answer_hit(2, 5, 2, 5)
    assert not answer_hit(3, 10, 2, 5) and not answer_hit(0, 4, 2, 5)


@given(st.integers(0, 200), st.integers(1, 100), st.integers(0, 200), st.integers(1, 100))
def test_hit_rules_agree_with_brute_force(s: int, length: int, gs: int, glen: int) -> None:
    e, ge = s + length, gs + glen
    overlap = len(set(range(s, e)) & set(range(gs, ge)))
    assert evidence_hit(s, e, gs, ge) == (overlap > 0 and 2 * overlap >= glen)
    assert answer_hit(s, e, gs, ge) == (overlap == glen)


def test_first_hit_rank_checks_the_document_and_the_rule() -> None:
    q = _q("answer", ((50, 60), (200, 210)))
    spans = [("other", 0, 1000), ("d", 0, 55), ("d", 190, 300), ("d", 40, 70)]
    assert first_hit_rank(q, spans) == 3
    assert first_hit_rank(q, spans[:2]) is None


def test_rank_metrics() -> None:
    m = rank_metrics([1, 2, None, 6, 11])
    assert m["hit@1"] == pytest.approx(0.2)
    assert m["hit@5"] == pytest.approx(0.4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 2 + 1 / 6) / 5)
    assert rank_metrics([])["hit@1"] == 0.0


def _passage(doc: str, start: int, end: int, highlights: list[tuple[int, int]]) -> Passage:
    cit = Citation(doc, "T", (), start, end, "T")
    return Passage(1, 1.0, "c", doc, "T", (), start, end, "x" * (end - start),
                   tuple(Highlight(s, e, "x" * (e - s), 0.5) for s, e in highlights), cit)


def test_evidence_at_1_uses_only_the_top_highlight_of_the_top_passage() -> None:
    q = _q("evidence", ((100, 140),))
    assert top_evidence_hits(q, [_passage("d", 0, 500, [(90, 150), (0, 50)])])
    assert not top_evidence_hits(q, [_passage("d", 0, 500, [(0, 50), (90, 150)])])
    assert not top_evidence_hits(q, [_passage("d", 0, 500, []), _passage("d", 0, 500, [(90, 150)])])
    assert not top_evidence_hits(q, [])


def test_subsample_and_slug() -> None:
    qs = [_q("answer", ((i, i + 1),)) for i in range(10)]
    assert len(subsample(qs, 3)) == 3 and subsample(qs, None) == qs and subsample(qs, 50) == qs
    assert slug("Jacksonville,_Florida") == "jacksonville_florida"


def _write_squad(folder: Path, bad: bool = False) -> Path:
    folder.mkdir()
    paragraphs = ["Ada was born in London in 1815.", "She wrote the first program for the Analytical Engine."]
    text = "\n\n".join(paragraphs)
    with gzip.open(folder / "squad_dev_articles.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"title": "Ada_Lovelace", "paragraphs": paragraphs}) + "\n")
    start = text.index("1815") + (1 if bad else 0)
    questions = [
        {"id": "a", "title": "Ada_Lovelace", "question": "When was Ada born?", "paragraph_index": 0,
         "answers": [{"text": "1815", "answer_start": 26, "paragraph_index": 0, "article_start": start}]},
        {"id": "b", "title": "Ada_Lovelace", "question": "What did she write for the Analytical Engine?",
         "paragraph_index": 1, "answers": [{"text": "the first program", "answer_start": 10, "paragraph_index": 1,
                                            "article_start": text.index("the first program")}]},
    ]
    with gzip.open(folder / "squad_dev_questions.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(q) + "\n" for q in questions)
    return folder


def test_squad_loader_checks_offsets(tmp_path: Path) -> None:
    evalset = load_eval_set(_write_squad(tmp_path / "squad"))
    assert evalset.documents is not None and evalset.documents[0].doc_id == "ada_lovelace"
    doc = evalset.documents[0]
    for q in evalset.questions:
        assert all(doc.text[s:e] in q.answers for s, e in q.gold)
    with pytest.raises(ConfigError, match="offsets"):
        load_eval_set(_write_squad(tmp_path / "bad", bad=True))


def _lyushkov_file(path: Path, text: str) -> Path:
    evidence = "Ada was born in London on 10 December 1815."
    start = text.index(evidence)
    rows = [
        {"id": "1", "question": "Where was Ada born?", "answerable": True, "answer": "London",
         "evidence": evidence, "evidence_start": start, "evidence_end": start + len(evidence), "doc": "ada_lovelace"},
        {"id": "2", "question": "What was Ada's favourite colour?", "answerable": False, "answer": None,
         "evidence": None, "evidence_start": None, "evidence_end": None, "doc": "ada_lovelace"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_rag_eval_json_on_both_formats(tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (corpus_dir / "ada_lovelace.txt").read_text(encoding="utf-8")
    ly = _lyushkov_file(tmp_path / "qa.jsonl", text)
    squad = _write_squad(tmp_path / "squad")
    code = main(["eval", str(ly), str(squad), "--json", "--embedder", "fake", "--corpus", str(corpus_dir),
                 "--chunk-chars", "300"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    ly_set, squad_set = out["sets"]
    assert ly_set["questions"] == 1 and ly_set["unanswerable"] == 1
    assert squad_set["questions"] == 2
    for s in (ly_set, squad_set):
        assert 0.0 <= s["hit@1"] <= s["hit@5"] <= 1.0
        assert 0.0 <= s["evidence@1"] <= 1.0
        assert s["mean_passage_chars"] <= 300 + 200  # chunks respect the target (one long sentence may exceed)
        assert s["build_seconds"] is not None and s["median_query_ms"] > 0
    assert out["settings"]["chunk_chars"] == 300


def test_rag_eval_refuses_unknown_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path / "missing.jsonl"), "--embedder", "fake"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rag_eval_details_carry_each_answer(tmp_path: Path, corpus_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = (corpus_dir / "ada_lovelace.txt").read_text(encoding="utf-8")
    ly = _lyushkov_file(tmp_path / "qa.jsonl", text)
    details = tmp_path / "details.jsonl"
    assert main(["eval", str(ly), "--json", "--embedder", "fake", "--corpus", str(corpus_dir),
                 "--details", str(details)]) == 0
    metrics = json.loads(capsys.readouterr().out)["sets"][0]
    rows = {r["id"]: r for r in map(json.loads, details.read_text(encoding="utf-8").splitlines())}
    assert set(rows) == {"1", "2"}  # the unanswerable question has a row too
    assert rows["2"]["answerable"] is False and "answer_correct" not in rows["2"]
    assert rows["1"]["answerable"] is True and "rank" in rows["1"]
    for row in rows.values():
        answer = row["answer"]
        assert row["abstained"] == (answer is None)
        if answer is not None:
            doc = (corpus_dir / f"{answer['doc_id']}.txt").read_text(encoding="utf-8")
            assert doc[answer["start"]:answer["end"]] == answer["text"]
    assert metrics["answer_accuracy"] == float(rows["1"]["answer_correct"])
    assert metrics["false_abstention"] == float(rows["1"]["abstained"])
    assert metrics["abstention_unanswerable"] == float(rows["2"]["abstained"])


def test_short_matches_compares_words() -> None:
    assert short_matches("13 June 1938", ["13 June 1938"])
    assert short_matches("four", ["four stories"])  # inside the gold
    assert short_matches("Around 1930", ["1930"])  # contains the gold
    assert not short_matches("1930", ["1931"])
    assert not short_matches("19", ["1900"])  # words, not characters
    assert not short_matches("1900", [""])


def test_rag_eval_reports_short_answers(tmp_path: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_MIN_CONFIDENCE", "0")  # answer everything: the fake embedder's confidence is low
    text = (corpus_dir / "ada_lovelace.txt").read_text(encoding="utf-8")
    evidence = "Ada was born in London on 10 December 1815."
    start = text.index(evidence)
    rows = [{"id": str(i), "question": q, "answerable": True, "answer": gold, "evidence": evidence,
             "evidence_start": start, "evidence_end": start + len(evidence), "doc": "ada_lovelace"}
            for i, (q, gold) in enumerate([("When was Ada born?", "10 December 1815"),
                                           ("On what date was Ada born?", "10 December"),
                                           ("Where was Ada born?", "London")])]
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    details = tmp_path / "details.jsonl"
    assert main(["eval", str(path), "--json", "--embedder", "fake", "--corpus", str(corpus_dir),
                 "--details", str(details)]) == 0
    metrics = json.loads(capsys.readouterr().out)["sets"][0]
    got = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    shorts = [(r["answer"]["short"], rows[int(r["id"])]["answer"]) for r in got
              if r["answer_correct"] and r["answer"]["short"] is not None]
    assert shorts, "the birth sentence was found and its date is a short answer"
    assert metrics["short_answers"] == len(shorts)
    assert metrics["short_answer_right"] == sum(short_matches(s, [g]) for s, g in shorts) / len(shorts)
    where = next(r for r in got if r["question"] == "Where was Ada born?")
    assert where["answer"]["short"] is None  # names are never short answers
