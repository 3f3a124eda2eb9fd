"""Held-out claims (tests/data/lyushkov_claims_heldout.jsonl) for `locate`: the file's consistency and the
evaluation script on a tiny corpus (fast), and quality floors with the real model (slow).

The claims were written before `locate` was run on any of them and are not used to fit anything.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from rag.claims import normalize
from rag.config import Settings
from rag.embedding import FakeEmbedder
from rag.loading import load_file
from tests.conftest import REPO, write_corpus

CLAIMS = REPO / "tests" / "data" / "lyushkov_claims_heldout.jsonl"
ARTICLE = REPO / "corpus" / "genrikh_lyushkov.txt"
SUPPORTED = {"verbatim": True, "paraphrase": True, "conflict": False, "unsupported-ontopic": False,
             "offtopic": False}
# Measured with the real model (`scripts/eval_claims.py tests/data/lyushkov_claims_heldout.jsonl`, see
# docs/answers.md "Claims nobody tuned on"): verbatim 10/10 supported, paraphrase 16/20, conflicts 10/10
# flagged and not supported (9/10 before number words were read), unsupported-ontopic 11/12 (10/12 before
# the agency rule of rag/reflexive.py) and off-topic 8/8 not supported, top match on the gold sentence 40/40,
# overall accuracy 55/60 (53/60 at first, 54/60 with number words).
# Floors sit about 0.1 below the first run.
FLOORS = {("verbatim", "supported_rate"): 0.9, ("paraphrase", "supported_rate"): 0.7,
          ("paraphrase", "top_hits_gold"): 0.9, ("conflict", "top_hits_gold"): 0.9,
          ("conflict", "conflict_flagged"): 0.8, ("conflict", "accuracy"): 0.8,
          ("unsupported-ontopic", "accuracy"): 0.73, ("offtopic", "accuracy"): 0.9, ("all", "accuracy"): 0.78}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_claims", REPO / "scripts" / "eval_claims.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows() -> list[dict]:
    return _script().load_claims(CLAIMS)


def test_claims_file_is_consistent_with_the_article() -> None:
    text = load_file(ARTICLE).text
    rows = _rows()
    assert len({r["id"] for r in rows}) == len(rows), "claim ids must be unique"
    assert len({r["claim"].casefold() for r in rows}) == len(rows), "a claim appears twice"
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == set(SUPPORTED) and len(rows) >= 50 and min(kinds.values()) >= 8, kinds
    for r in rows:
        assert r["doc"] == "genrikh_lyushkov", r["id"]
        assert r["supported"] is SUPPORTED[r["kind"]], f"{r['id']}: supported disagrees with kind {r['kind']}"
        start, end = r["evidence_start"], r["evidence_end"]
        if r["kind"] in ("unsupported-ontopic", "offtopic"):
            assert start is None and end is None, r["id"]
            continue
        sentence = text[start:end]
        assert 0 <= start < end <= len(text) and sentence[0].isupper() and sentence.rstrip('"')[-1] in ".!?", \
            f"{r['id']}: offsets do not slice a whole sentence: {sentence!r}"
        assert start == 0 or text[start - 1] in " \n", f"{r['id']}: evidence starts mid-sentence"
        if r["kind"] == "verbatim":
            assert normalize(r["claim"])[0].strip().rstrip(".") == normalize(sentence)[0].rstrip("."), r["id"]
        if r["kind"] == "conflict":
            assert r["changed"] in r["claim"] and r["changed"] not in sentence, f"{r['id']}: changed value"


def test_the_script_scores_claims_against_their_gold(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    doc = (corpus / "ada_lovelace.txt").read_text(encoding="utf-8")
    sentence = "Ada was born in London on 10 December 1815."
    start = doc.index(sentence)
    gold = {"doc": "ada_lovelace", "evidence_start": start, "evidence_end": start + len(sentence)}
    claims = [{"id": "v", "claim": sentence.upper(), "supported": True, "kind": "verbatim", **gold},
              {"id": "c", "claim": "Ada was born in London on 10 December 1816.", "supported": False,
               "kind": "conflict", "changed": "1816", **gold},
              {"id": "o", "claim": "Tea is grown in Assam.", "supported": False, "kind": "offtopic", "doc": "x",
               "evidence_start": None, "evidence_end": None}]
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in claims), encoding="utf-8")
    summary, rows = _script().evaluate_claims(path, corpus, Settings(embedder="fake"), FakeEmbedder())
    by_id = {r["id"]: r for r in rows}
    assert by_id["v"]["match"] == "normalized" and by_id["v"]["supported"] and by_id["v"]["top_hits_gold"]
    assert not by_id["c"]["supported"] and by_id["c"]["conflict_flagged"], by_id["c"]
    assert by_id["o"]["top_hits_gold"] is None
    assert summary["verbatim"]["supported_rate"] == 1.0 and summary["conflict"]["conflict_flagged"] == 1.0
    assert summary["all"]["claims"] == 3 and "top_hits_gold" not in summary["all"]


@pytest.mark.slow
def test_heldout_claims_quality_floor(real_embedder) -> None:
    summary, rows = _script().evaluate_claims(CLAIMS, REPO / "corpus", Settings(embedder="sentence-transformers"),
                                              real_embedder)
    assert summary["all"]["claims"] == len(_rows())
    for (kind, name), floor in FLOORS.items():
        value = summary[kind][name]
        assert value >= floor, f"{kind} {name} = {value:.3f} fell below the floor {floor} ({summary[kind]})"
