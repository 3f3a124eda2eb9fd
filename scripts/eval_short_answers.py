#!/usr/bin/env python
"""Measure short answers (rag/short_answers.py) on the SQuAD worlds and Lyushkov-style files.

    .venv/bin/python scripts/eval_short_answers.py --squad ../shared/eval/squad \
        --lyushkov ../shared/eval/lyushkov_qa.jsonl --corpus corpus --work /tmp/rag-calib

For each answerable question whose answer sentence (``ask``'s choice, before abstention) holds a gold
answer, and whose kind (date, number) gets short answers: how often a short answer is given
(coverage), and how often it is right: exact match with a gold answer (SQuAD normalisation), the
short answer containing a gold answer or lying inside one, and token F1.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _devdata import CachingEmbedder, build_world, folds, load_squad  # noqa: E402
from calibrate_answers import corpus_retriever  # noqa: E402

from rag.answering import gather_evidence  # noqa: E402
from rag.cues import answer_kind  # noqa: E402
from rag.short_answers import short_answer  # noqa: E402


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    return 2 * common / (len(p) + len(g))


class Tally:
    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[bool, bool, bool, float]]] = defaultdict(list)

    def add(self, kind: str, short: str | None, golds: list[str]) -> None:
        if short is None:
            self.rows[kind].append((False, False, False, 0.0))
            return
        n = normalize(short)
        exact = any(n == normalize(g) for g in golds)
        overlap = any(normalize(g) in n or n in normalize(g) for g in golds if normalize(g))
        self.rows[kind].append((True, exact, overlap, max(f1(short, g) for g in golds)))

    def print(self, name: str) -> dict:
        out = {}
        for kind, rows in sorted(self.rows.items()):
            given = [r for r in rows if r[0]]
            out[kind] = {"questions": len(rows), "coverage": round(len(given) / max(1, len(rows)), 3),
                         "exact": round(sum(r[1] for r in given) / max(1, len(given)), 3),
                         "contains_or_inside": round(sum(r[2] for r in given) / max(1, len(given)), 3),
                         "f1": round(sum(r[3] for r in given) / max(1, len(given)), 3)}
        print(name, json.dumps(out))
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, required=True)
    ap.add_argument("--lyushkov", type=Path, nargs="*", default=[])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--counts", type=int, nargs=3, default=(500, 250, 250))
    ap.add_argument("--show", action="store_true", help="print every short answer given")
    args = ap.parse_args()
    embedder = CachingEmbedder(args.work / "embeddings.npz")
    articles, questions = load_squad(args.squad)
    fold_a, fold_b = folds(list(articles))
    for name, titles, other, seed in (("fold-a", fold_a, fold_b, 0), ("fold-b", fold_b, fold_a, 1)):
        world = build_world(name, titles, other, articles, questions, args.corpus, args.work, embedder,
                            args.counts, seed=seed)
        tally = Tally()
        index = world.retriever.index
        for q in world.questions:
            if q.kind != "answerable" or answer_kind(q.text) not in ("date", "number"):
                continue
            ev = gather_evidence(world.retriever, q.text)
            if ev.best < 0:
                continue
            s = index.sentences[ev.sentence_ids[ev.best]]
            golds = [t for a, b, t in q.answers if s.doc_id == q.doc_id and s.start <= a and b <= s.end]
            if not golds:
                continue
            span = short_answer(q.text, s.text)
            short = s.text[span[0]:span[1]] if span else None
            if args.show and short is not None:
                print(f"  {short!r:30} gold {golds[0]!r:30} {q.text}")
            tally.add(answer_kind(q.text), short, golds)
        tally.print(name)
    if args.lyushkov:
        retriever = corpus_retriever(args.corpus, args.work, embedder)
        for path in args.lyushkov:
            tally = Tally()
            for row in (json.loads(x) for x in path.read_text().splitlines() if x.strip()):
                if not row["answerable"] or answer_kind(row["question"]) not in ("date", "number"):
                    continue
                ev = gather_evidence(retriever, row["question"])
                s = retriever.index.sentences[ev.sentence_ids[ev.best]]
                a, b = row["evidence_start"], row["evidence_end"]
                if not (s.start <= a < s.end or a <= s.start < b):
                    continue  # a wrong sentence: its short answer says nothing about the extraction
                span = short_answer(row["question"], s.text)
                short = s.text[span[0]:span[1]] if span else None
                if args.show:
                    print(f"  {short!r:30} gold {row['answer']!r:30} {row['question']}")
                tally.add(answer_kind(row["question"]), short, [row["answer"]])
            tally.print(path.stem)
    embedder.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
