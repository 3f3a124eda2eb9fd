"""Build and query time of the default pipeline against the hybrid (RRF) baseline, interleaved.

On a shared machine the load changes from minute to minute, so the two are measured alternately:
builds B, O, B, O, … (best of each kept) and, per question, a baseline query then ours (order
alternating), real embeddings throughout (no cache). Run from the repository root::

    .venv/bin/python scripts/eval_timing.py --squad ../shared/eval/squad --articles 4 --rounds 2 --queries 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_baseline import Units  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.embedding import get_embedder  # noqa: E402
from rag.evaluation import load_squad  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.service import chunker_config  # noqa: E402
from rag.store import build_index, load_index  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad", type=Path, required=True)
    p.add_argument("--articles", type=int, default=4)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--queries", type=int, default=200)
    args = p.parse_args()
    squad = load_squad(args.squad)
    assert squad.documents is not None
    docs = squad.documents[: args.articles]
    ids = {d.doc_id for d in docs}
    questions = [q for q in squad.questions if q.doc_id in ids]
    step = max(1, len(questions) // args.queries)
    questions = questions[::step][: args.queries]
    embedder = get_embedder("sentence-transformers")
    embedder.embed_query("warm up")
    embedder.embed_documents(["warm up the batch path"] * 4)
    settings = Settings()
    base_times, our_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            t0 = time.perf_counter()
            units = Units.build(docs, embedder)
            base_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            build_index(docs, Path(tmp) / f"index{r}", embedder, chunker_config(settings))
            our_times.append(time.perf_counter() - t0)
            print(json.dumps({"round": r, "baseline_build_s": base_times[-1], "our_build_s": our_times[-1]}),
                  flush=True)
        retriever = Retriever(load_index(Path(tmp) / f"index{args.rounds - 1}", embedder), embedder)
        base_q, our_q = [], []
        for i, q in enumerate(questions):
            def baseline(text: str = q.text) -> None:
                units.rank(text, embedder.embed_query(text), "rrf")

            def ours(text: str = q.text) -> None:
                retriever.search(text, k=10)

            for name, fn in ((("b", baseline), ("o", ours)) if i % 2 == 0 else (("o", ours), ("b", baseline))):
                t0 = time.perf_counter()
                fn()
                (base_q if name == "b" else our_q).append((time.perf_counter() - t0) * 1000)
    result = {
        "articles": len(docs), "chars": sum(len(d.text) for d in docs), "queries": len(questions),
        "baseline_build_s": min(base_times), "our_build_s": min(our_times),
        "build_ratio": min(our_times) / min(base_times),
        "baseline_median_query_ms": statistics.median(base_q), "our_median_query_ms": statistics.median(our_q),
        "query_ratio": statistics.median(our_q) / statistics.median(base_q),
        "paired_median_ratio": statistics.median(o / b for o, b in zip(our_q, base_q, strict=True)),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
