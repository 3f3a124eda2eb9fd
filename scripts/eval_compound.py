#!/usr/bin/env python
"""Measure how `verify` checks sentences that join two facts (rag/clauses.py), on synthetic claims.

    .venv/bin/python scripts/eval_compound.py --squad ../shared/eval/squad \\
        --corpus corpus --work /tmp/rag-calib [-n 200] [--dump FILE]

The claims are made in the SQuAD worlds of scripts/_devdata.py (both folds; nothing is fitted):

* ``joined`` (true): two indexed sentences of one article, "A, and B" ("…in 1900, and the Cheka …");
* ``joined-removed`` (false): the same with B from a paragraph removed from the index (on topic, but the
  corpus does not say it);
* ``shared-subject`` (true): two indexed sentences that open with the same word and a verb, "A and
  <B without its subject>" ("He was born in Smiljan and emigrated to America in 1884"); not "It",
  "There", "This"…, which open sentences about different things;
* ``shared-subject-removed`` (false): the same with B from a removed paragraph;

and, to see what reading clauses costs on claims of one fact, the kinds of scripts/calibrate_claims.py
(excerpt, restated, removed, off-topic, swapped, …), the same claims as its own.

For each claim it reports whether the sentence as one claim is supported (``locate``, as before clauses
were read), whether it is when a sentence that can be cut is judged by its clauses alone (each clause
supported), and whether `verify` supports it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _devdata import CachingEmbedder, World, build_world, dropped, folds, load_squad, slug  # noqa: E402

from rag.calibration import corpus_stats  # noqa: E402
from rag.chunking import split_prose  # noqa: E402
from rag.claims import locate  # noqa: E402
from rag.clauses import _verb, clauses  # noqa: E402
from rag.verify import _claim_text, statements, verify  # noqa: E402

# sentences opening with these are about different things ("It was a monumental feat…", "It is much more
# reactive…"): no shared subject
_EXPLETIVES = ("It", "There", "This", "That", "These", "Those")
KINDS = ("joined", "joined-removed", "shared-subject", "shared-subject-removed")


def _sentences(paragraph: str) -> list[str]:
    return [paragraph[s:e] for s, e in split_prose(paragraph, 0, len(paragraph))]


def _usable(sentence: str) -> bool:
    words = sentence.split()
    return 6 <= len(words) <= 30 and sentence.rstrip().endswith(".") and ";" not in sentence


def make_claims(world: World, articles: dict[str, list[str]], n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    index = world.retriever.index
    usage = corpus_stats(index).usage
    out: list[tuple[str, str]] = []
    for title in sorted(world.articles):
        doc_id = slug(title)
        indexed = [s.text for s in index.sentences if s.doc_id == doc_id and s.kind == "text" and _usable(s.text)]
        removed = [s for p, para in enumerate(articles[title]) if dropped(title, p) for s in _sentences(para)
                   if _usable(s)]
        if len(indexed) < 2:
            continue

        def lower_first(sentence: str) -> str:
            first = sentence.split()[0]
            return sentence[0].lower() + sentence[1:] if first.lower() in usage.lowercase else sentence

        for kind, pool in (("joined", indexed), ("joined-removed", removed)):
            for _ in range(n // len(world.articles) + 1):
                a, b = rng.sample(indexed, 1)[0], rng.choice(pool)
                if a != b:
                    out.append((kind, f"{a.rstrip('. ')}, and {lower_first(b)}"))
        for kind, pool in (("shared-subject", indexed), ("shared-subject-removed", removed)):
            made = 0
            for a in rng.sample(indexed, len(indexed)):
                words = a.split()
                partners = [b for b in pool if b != a and b.split()[0] == words[0] and _verb(b.split()[1])]
                if not _verb(words[1]) or not partners or words[0] in _EXPLETIVES:
                    continue
                b = rng.choice(partners)
                out.append((kind, f"{a.rstrip('. ')} and {b.split(maxsplit=1)[1]}"))
                made += 1
                if made > n // len(world.articles):
                    break
    rng.shuffle(out)
    return [c for kind in KINDS for c in [x for x in out if x[0] == kind][:n]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("-n", type=int, default=200, help="claims of each kind per fold")
    ap.add_argument("--dump", type=Path, help="write every claim's outcome to this JSON Lines file")
    args = ap.parse_args()
    embedder = CachingEmbedder(args.work / "embeddings.npz")
    articles, questions = load_squad(args.squad)
    fold_a, fold_b = folds(list(articles))
    rows = []
    for name, mine, other, seed in (("fold-a", fold_a, fold_b, 0), ("fold-b", fold_b, fold_a, 1)):
        world = build_world(name, mine, other, articles, questions, args.corpus, args.work, embedder, (0, 0, 0))
        import calibrate_claims as cc  # the single-fact kinds, to see what cutting costs there

        single = [(c.kind, c.text, c.source is not None) for c in cc.make_claims(world, other, articles, questions,
                                                                                   args.n, seed)]
        for kind, claim, true in [(k, c, not k.endswith("removed")) for k, c in make_claims(world, articles, args.n,
                                                                                             seed)] + single:
            if len(statements(claim)) != 1:
                continue
            whole = locate(world.retriever, claim, k=1).supported
            result = verify(world.retriever, claim).statements[0]
            parts = [[_claim_text(c.lookup), locate(world.retriever, _claim_text(c.lookup), k=1).supported]
                     for c in clauses(claim)]
            rows.append({"set": name, "kind": kind, "true": true, "claim": claim, "whole": whole,
                         "supported": result.supported, "parts": parts,
                         "clauses_only": all(p[1] for p in parts) if parts else whole})
    embedder.save()
    print("| kind | claims | cut into clauses | supported as one sentence | by its clauses when cut | `verify` |")
    print("| --- | --- | --- | --- | --- | --- |")
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    for name in ("fold-a", "fold-b"):
        for kind in kinds:
            sel = [r for r in rows if r["set"] == name and r["kind"] == kind]
            if sel:
                cut = sum(bool(r["parts"]) for r in sel)
                share = {key: f"{sum(r[key] for r in sel) / len(sel):.3f}"
                         for key in ("whole", "clauses_only", "supported")}
                print(f"| {name} {kind} | {len(sel)} | {cut} | {share['whole']} | {share['clauses_only']} | "
                      f"{share['supported']} |")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
