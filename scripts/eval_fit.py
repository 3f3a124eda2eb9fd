"""Fit the retrieval weights (rag.retrieval_weights.Tuning) on the SQuAD fit half, report both halves.

Coordinate ascent directly on the metrics: sentence weights first (best sentence of the whole
index must hit, i.e. single-sentence retrieval), then passage weights (MRR@10 + hit@1 +
evidence@1), then both together. Features are computed once per question with the real
retriever code (``Retriever.sentence_features`` / ``features``), so the fitted weights mean the
same thing at query time. Run from the repository root::

    .venv/bin/python scripts/eval_fit.py --squad ../shared/eval/squad --lyushkov ../shared/eval/lyushkov_qa.jsonl
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_common import CachedEmbedder, split_squad  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.embedding import get_embedder  # noqa: E402
from rag.evaluation import EvalSet, build_retriever, load_lyushkov, load_squad  # noqa: E402
from rag.loading import load_corpus  # noqa: E402
from rag.retrieval import PASSAGE_FEATURES, SENTENCE_FEATURES, TUNING, Retriever, Tuning, cosines  # noqa: E402


@dataclass
class Data:
    """Per-question feature tensors over the whole index, with gold labels."""

    sent: np.ndarray  # [Q, n_sentences, F_s]
    chunk: np.ndarray  # [Q, n_chunks, 3]: chunk dense, chunk BM25, chunk coverage
    sent_gold: np.ndarray  # [Q, n_sentences] bool
    chunk_gold: np.ndarray  # [Q, n_chunks] bool
    flat: np.ndarray  # sentence ids of chunks, concatenated
    starts: np.ndarray  # where each chunk starts in ``flat``
    heading: np.ndarray  # [n_sentences] bool


def gold_mask(q, doc: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Vectorised ``span_hits`` over many spans."""
    hit = np.zeros(len(doc), bool)
    same = doc == q.doc_id
    for gs, ge in q.gold:
        if q.rule == "answer":
            hit |= (start <= gs) & (ge <= end)
        else:
            overlap = np.minimum(end, ge) - np.maximum(start, gs)
            hit |= (overlap > 0) & (2 * overlap >= ge - gs)
    return hit & same


def collect(retriever: Retriever, questions) -> Data:  # noqa: ANN001
    index = retriever.index
    n_s, n_c = len(index.sentences), len(index.chunks)
    all_s = np.arange(n_s)
    qs = [q for q in questions if q.answerable]
    s_doc = np.array([s.doc_id for s in index.sentences])
    s_start = np.array([s.start for s in index.sentences])
    s_end = np.array([s.end for s in index.sentences])
    c_doc = np.array([c.doc_id for c in index.chunks])
    c_start = np.array([c.start for c in index.chunks])
    c_end = np.array([c.end for c in index.chunks])
    sent = np.zeros((len(qs), n_s, len(SENTENCE_FEATURES)), np.float32)
    chunk = np.zeros((len(qs), n_c, 3), np.float32)
    sg = np.zeros((len(qs), n_s), bool)
    cg = np.zeros((len(qs), n_c), bool)
    for i, q in enumerate(qs):
        query = retriever.prepare(q.text)
        chunk_lex, chunk_cov, sent_lex, _ = retriever.lexical(query)
        sent[i] = retriever.sentence_features(query, all_s, sent_lex)
        chunk[i] = np.stack([cosines(index.chunk_vectors, query.search_vector), chunk_lex, chunk_cov], axis=1)
        sg[i] = gold_mask(q, s_doc, s_start, s_end)
        cg[i] = gold_mask(q, c_doc, c_start, c_end)
    lengths = np.array([len(c.sentence_ids) for c in index.chunks])
    flat = np.concatenate([np.array(c.sentence_ids) for c in index.chunks])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    heading = np.array([s.kind == "heading" for s in index.sentences])
    return Data(sent, chunk, sg, cg, flat, starts, heading)


def metrics(d: Data, ws: np.ndarray, wc: np.ndarray, ss: np.ndarray | None = None) -> dict[str, float]:
    """The metrics at weights ``ws``/``wc``; ``ss`` (``d.sent @ ws``) when already computed."""
    ss = (d.sent @ ws) if ss is None else ss.copy()
    ss[:, d.heading] = -np.inf
    best = np.maximum.reduceat(ss[:, d.flat], d.starts, axis=1)
    cs = d.chunk @ wc[:3] + wc[3] * np.where(np.isfinite(best), best, 0.0)
    depth = min(10, cs.shape[1])
    part = np.argpartition(-cs, depth - 1, axis=1)[:, :depth]
    order = np.take_along_axis(part, np.argsort(-np.take_along_axis(cs, part, axis=1), axis=1, kind="stable"), axis=1)
    gold_sorted = np.take_along_axis(d.chunk_gold, order, axis=1)
    first = np.where(gold_sorted.any(axis=1), gold_sorted.argmax(axis=1) + 1, 0)
    mrr = np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0)
    # evidence@1: best sentence inside the top chunk
    top = order[:, 0]
    ev = []
    for i, c in enumerate(top):
        sids = d.flat[d.starts[c]: d.starts[c + 1] if c + 1 < len(d.starts) else len(d.flat)]
        ev.append(bool(d.sent_gold[i, sids[int(np.argmax(ss[i, sids]))]]))
    sent_top = ss.argmax(axis=1)
    return {"hit@1": float((first == 1).mean()), "hit@5": float(((first > 0) & (first <= 5)).mean()),
            "mrr@10": float(mrr.mean()), "evidence@1": float(np.mean(ev)),
            "sentence_hit@1": float(d.sent_gold[np.arange(len(sent_top)), sent_top].mean())}


GRID = (0.0, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def ascend(d: Data, ws: np.ndarray, wc: np.ndarray, which: str, objective, rounds: int = 3,  # noqa: ANN001
           fixed: tuple[str, int] = ("s", 0), frozen: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    best = objective(metrics(d, ws, wc))
    for _ in range(rounds):
        improved = False
        for vec_name in which:
            vec = ws if vec_name == "s" else wc
            for j in range(len(vec)):
                if (vec_name, j) == fixed or (vec_name == "c" and j == 3) or \
                        (vec_name == "s" and j in (frozen or [])):
                    continue
                # only weight j changes: the sentence scores are updated, not recomputed
                current = d.sent @ ws
                column = np.ascontiguousarray(d.sent[:, :, j]) if vec_name == "s" else None
                start = chosen = vec[j]
                for value in GRID:
                    ss = current if column is None else current + (value - start) * column
                    vec[j] = value
                    score = objective(metrics(d, ws, wc, ss))
                    if score > best + 1e-9:
                        best, chosen, improved = score, value, True
                vec[j] = chosen
        if not improved:
            break
    return ws, wc


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad", type=Path, required=True)
    p.add_argument("--lyushkov", type=Path)
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rag-eval-cache")
    p.add_argument("--chunk-chars", type=int)
    p.add_argument("--chunk-overlap", type=int)
    p.add_argument("--features", type=Path,
                   help="cache of the collected features (.pkl): read if present, else written; delete it "
                        "after changing the features or the chunking")
    p.add_argument("--freeze", nargs="*", default=[], choices=SENTENCE_FEATURES,
                   help="sentence features whose weight stays 0 (not fitted)")
    args = p.parse_args()
    if args.features and args.features.is_file():
        with args.features.open("rb") as fh:
            cached: dict[str, Data] = pickle.load(fh)  # noqa: S301 - our own cache file
        return fit_weights(cached, [SENTENCE_FEATURES.index(n) for n in args.freeze])
    embedder = CachedEmbedder(get_embedder("sentence-transformers"), args.cache)
    overrides = {k: v for k, v in (("chunk_chars", args.chunk_chars), ("chunk_overlap", args.chunk_overlap)) if v}
    settings = Settings(**overrides)
    squad = load_squad(args.squad)
    fit, val = split_squad(squad)
    sets: dict[str, Data] = {}
    with tempfile.TemporaryDirectory() as tmp:
        retriever, _ = build_retriever(squad, settings, Path(tmp) / "squad", embedder)
        sets["squad-fit"] = collect(retriever, fit.questions)
        sets["squad-val"] = collect(retriever, val.questions)
        if args.lyushkov:
            ly = load_lyushkov(args.lyushkov)
            ly.documents = load_corpus(args.corpus)[0]
            retriever, _ = build_retriever(EvalSet("ly", ly.questions, ly.documents), settings,
                                           Path(tmp) / "ly", embedder)
            sets["lyushkov"] = collect(retriever, ly.questions)
    if args.features:
        with args.features.open("wb") as fh:
            pickle.dump(sets, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return fit_weights(sets, [SENTENCE_FEATURES.index(n) for n in args.freeze])


def fit_weights(sets: dict[str, Data], frozen: list[int]) -> int:
    ws = np.array(TUNING.sentence, dtype=np.float32)
    ws[frozen] = 0.0
    wc = np.array(TUNING.passage, dtype=np.float32)

    def show(label: str) -> None:
        for name, d in sets.items():
            scores = {k: round(v, 4) for k, v in metrics(d, ws, wc).items()}
            print(json.dumps({"weights": label, "set": name, **scores}))

    show("start")
    d = sets["squad-fit"]
    ws, wc = ascend(d, ws, wc, "s", lambda m: m["sentence_hit@1"], frozen=frozen)
    show("sentence-fitted")
    ws, wc = ascend(d, ws, wc, "c", lambda m: m["mrr@10"] + m["hit@1"] + m["evidence@1"], frozen=frozen)
    show("passage-fitted")
    ws, wc = ascend(d, ws, wc, "sc", lambda m: m["mrr@10"] + m["hit@1"] + m["evidence@1"], frozen=frozen)
    show("joint-fitted")
    tuning = Tuning(tuple(round(float(x), 4) for x in ws), tuple(round(float(x), 4) for x in wc))
    print("sentence", dict(zip(SENTENCE_FEATURES, tuning.sentence, strict=True)))
    print("passage", dict(zip(PASSAGE_FEATURES, tuning.passage, strict=True)))
    print(repr(tuning))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
