"""Quality floor in CI: `rag eval` on the Lyushkov development questions with the real model (slow).

Runs the same code as ``rag eval ../shared/eval/lyushkov_qa.jsonl``; a retrieval regression that
drops below the floors fails the build. The floors sit a little under the measured values
(docs/evaluation.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings
from rag.evaluation import load_eval_set, run_set
from tests.conftest import REPO

pytestmark = pytest.mark.slow

# Measured with the defaults: hit@1 0.938, hit@5 1.000, MRR@10 0.969, evidence@1 0.875, answer accuracy
# 0.844, false abstention 0.000, abstention on the 5 unanswerable 0.8 (32 answerable questions; one is
# 0.031). The floors allow one to two questions of slack (one unanswerable question for abstention).
FLOORS = {"hit@1": 0.9, "hit@5": 0.95, "mrr@10": 0.9, "evidence@1": 0.84, "answer_accuracy": 0.75,
          "abstention_unanswerable": 0.6}
CEILINGS = {"false_abstention": 0.1}


def test_lyushkov_quality_floor(shared_eval: Path, real_embedder, tmp_path: Path) -> None:
    path = shared_eval / "lyushkov_qa.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found (set RAG_SHARED_EVAL to the folder holding lyushkov_qa.jsonl)")
    settings = Settings(corpus_dir=REPO / "corpus", index_dir=tmp_path / "index")
    report = run_set(load_eval_set(path), settings, index_dir=tmp_path / "index", answers=True,
                     embedder=real_embedder)
    m = report.metrics
    assert m["questions"] >= 30
    assert m["mean_passage_chars"] <= 800
    for name, floor in FLOORS.items():
        assert m[name] >= floor, f"{name} = {m[name]:.3f} fell below the floor {floor} ({m})"
    for name, ceiling in CEILINGS.items():
        assert m[name] <= ceiling, f"{name} = {m[name]:.3f} rose above the ceiling {ceiling} ({m})"
