#!/usr/bin/env python
"""Fit the answer ranker and the confidence/abstention model of rag/calibration.py, and validate them.

    .venv/bin/python scripts/calibrate_answers.py --squad ../shared/eval/squad \
        --lyushkov ../shared/eval/lyushkov_qa.jsonl --corpus corpus --work /tmp/rag-calib

``--current --thresholds 0.05 0.1 0.246 0.3`` also reports the shipped models at several ``min_confidence``
values (docs/answers.md, "Choosing min_confidence"). The shipped confidence model was fitted with
``--keep-ranker --fit-also tests/data/lyushkov_heldout_qa.jsonl --fit-weight 6``: the ranker as it was,
the confidence model on fold A and the held-out Lyushkov questions.

Fits on fold A of the SQuAD worlds (scripts/_devdata.py) and any ``--fit-also`` files, validates on fold B,
then reports the Lyushkov question files (the development file is never used for fitting). Prints the
constants to paste into rag/calibration.py and the reliability tables for docs/answers.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _devdata import CachingEmbedder, World, build_world, folds, load_squad  # noqa: E402

from rag import calibration as cal  # noqa: E402
from rag.answering import Evidence, answer_hits, gather_evidence, prefer_prose, shortlist_soft  # noqa: E402
from rag.chunking import ChunkerConfig  # noqa: E402
from rag.loading import load_corpus  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.store import build_index, load_index  # noqa: E402


@dataclass
class Item:
    kind: str
    features: np.ndarray  # candidates × SENTENCE_FEATURES
    labels: np.ndarray  # candidate contains a gold answer
    unknown: float
    answer: tuple[float, ...]  # the shipped ranker's answer's ANSWER_FEATURES
    top: int = -1  # the shipped ranker's (or re-ranker's) choice
    shortlist: np.ndarray | None = None  # with --fit-reranker: the ranker's RERANK_TOP best candidates
    soft: np.ndarray | None = None  # and their soft coverage (rows: soft, soft_min)


def features_of(retriever: Retriever, ev: Evidence, with_evidence: bool) -> np.ndarray:
    """The candidates' ranker features; with ``with_evidence`` (an experiment, docs/answers.md), the
    retriever's own sentence score appended as one more column."""
    if not with_evidence:
        return ev.features
    score = retriever.sentence_scores(ev.query, np.array(ev.sentence_ids, dtype=np.int64), ev.sent_lex)
    return np.hstack([ev.features, score.astype(np.float64)[:, None]])


def collect(world: World, with_evidence: bool = False, shortlists: bool = False) -> list[Item]:
    items = []
    index = world.retriever.index
    for q in world.questions:
        ev = gather_evidence(world.retriever, q.text)
        labels = np.array([any(index.sentences[s].doc_id == q.doc_id and index.sentences[s].start <= a
                               and b <= index.sentences[s].end for a, b, _ in q.answers)
                           for s in ev.sentence_ids], dtype=bool)
        if len(ev.sentence_ids):
            item = Item(q.kind, features_of(world.retriever, ev, with_evidence), labels, ev.unknown, ev.answer, ev.top)
            if shortlists and q.kind == "answerable":
                add_shortlist(world.retriever, ev, item)
            items.append(item)
    return items


def add_shortlist(retriever: Retriever, ev: Evidence, item: Item) -> None:
    """The ranker's RERANK_TOP best candidates of a question and their soft coverage, to fit the re-ranker."""
    order = cal.rerank_shortlist(cal.RANKER.logit(ev.features))
    stats = cal.corpus_stats(retriever.index)
    item.shortlist = np.array(order)
    item.soft = shortlist_soft(retriever, ev.query.text, ev.question, stats, [ev.sentence_ids[j] for j in order])


def reranker_rows(item: Item) -> np.ndarray:
    assert item.shortlist is not None and item.soft is not None
    return np.hstack([item.features[item.shortlist], item.soft])


def fit_reranker(items: list[Item], l2: float) -> cal.Logistic:
    """The re-ranker: a conditional logit over each answerable question's shortlist (RERANK_FEATURES)."""
    groups = [(reranker_rows(it), it.labels[it.shortlist]) for it in items
              if it.kind == "answerable" and it.shortlist is not None and it.labels[it.shortlist].any()]
    return cal.fit_conditional_logit(groups, l2=l2)


def rerank_report(name: str, items: list[Item], reranker: cal.Logistic) -> None:
    """How often the top sentence holds the answer: ranker alone, re-ranker always, re-ranker when close."""
    base = always = gated = n = wins = losses = asked = 0
    for it in items:
        if it.kind != "answerable" or it.shortlist is None:
            continue
        n += 1
        logits = cal.RANKER.logit(it.features)
        first = bool(it.labels[int(np.argmax(logits))])
        pick = bool(it.labels[it.shortlist[int(np.argmax(reranker.logit(reranker_rows(it))))]])
        close = cal.close_call(logits)
        decided = pick if close else first
        base, always, gated, asked = base + first, always + pick, gated + decided, asked + close
        wins, losses = wins + (decided and not first), losses + (first and not decided)
    print(f"{name}: top sentence holds the answer — ranker {base}/{n}, re-ranker always {always}/{n}, "
          f"re-ranker when the ranker's two best are < {cal.RERANK_MARGIN} apart {gated}/{n} "
          f"(+{wins} -{losses}; re-ranked {asked}/{n})")


def collect_file(path: Path, retriever: Retriever, shortlists: bool = False) -> list[Item]:
    """A Lyushkov-style question file as fitting items: a candidate is right when ``answer_hits`` says so."""
    items = []
    for row in (json.loads(line) for line in path.read_text().splitlines() if line.strip()):
        ev = gather_evidence(retriever, row["question"])
        if not ev.sentence_ids:
            continue
        sentences = [retriever.index.sentences[s] for s in ev.sentence_ids]
        labels = np.array([bool(row["answerable"]) and answer_hits(
            s.start, s.end, retriever.index.documents[s.doc_id].text, row["evidence_start"], row["evidence_end"],
            row["answer"]) for s in sentences], dtype=bool)
        item = Item("answerable" if row["answerable"] else "silent", ev.features, labels, ev.unknown, ev.answer, ev.top)
        if shortlists and row["answerable"]:
            add_shortlist(retriever, ev, item)
        items.append(item)
    return items


def fit_ranker(items: list[Item], l2: float, drop: list[int] | None = None) -> cal.Logistic:
    width = items[0].features.shape[1]
    keep = [j for j in range(width) if j not in (drop or [])]
    groups = [(it.features[:, keep], it.labels) for it in items if it.kind == "answerable" and it.labels.any()]
    fitted = cal.fit_conditional_logit(groups, l2=l2)
    coef = np.zeros(width)
    coef[keep] = fitted.coef
    return cal.Logistic(0.0, tuple(float(c) for c in coef))


def confidence_rows(items: list[Item], ranker: cal.Logistic) -> tuple[np.ndarray, np.ndarray]:
    """With the shipped ranker, the candidate ``ask`` chose (the re-ranker's, when it decided); with a
    refitted ranker, that ranker's best (the answer features stay those of the shipped choice)."""
    xs, ys = [], []
    for it in items:
        logits = ranker.logit(it.features)
        top = it.top if ranker == cal.RANKER and it.top >= 0 else int(np.argmax(logits))
        xs.append(cal.confidence_features(logits, it.features, it.unknown, it.answer, top))
        ys.append(float(it.labels[top]) if it.kind == "answerable" else 0.0)
    return np.array(xs), np.array(ys)


def fit_confidence(items: list[Item], ranker: cal.Logistic, l2: float, drop: list[int]) -> cal.Logistic:
    x, y = confidence_rows(items, ranker)
    keep = [j for j in range(x.shape[1]) if j not in drop]
    fitted = cal.fit_logistic(x[:, keep], y, l2=l2)
    coef = np.zeros(x.shape[1])
    coef[keep] = fitted.coef
    return cal.Logistic(fitted.intercept, tuple(float(c) for c in coef))


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[tuple[str, int, float, float]]:
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (p >= lo) & ((p < hi) if b < bins - 1 else (p <= hi))
        if mask.any():
            rows.append((f"{lo:.1f}–{hi:.1f}", int(mask.sum()), float(p[mask].mean()), float(y[mask].mean())))
    return rows


def decision_rates(p: np.ndarray, y: np.ndarray, kinds: np.ndarray, tau: float) -> dict[str, float]:
    """Answer accuracy and false abstention (answerable), abstention on silent and off-topic, at ``tau``."""
    ans, answered = kinds == "answerable", p >= tau
    return {"accuracy_answerable": float((y * answered)[ans].mean()),
            "false_abstention": float((~answered[ans]).mean()),
            "abstention_silent": float((~answered[kinds == "silent"]).mean()),
            "abstention_offtopic": float((~answered[kinds == "offtopic"]).mean())}


def report(name: str, items: list[Item], ranker: cal.Logistic, conf: cal.Logistic, tau: float) -> dict:
    x, y = confidence_rows(items, ranker)
    p = conf.proba(x)
    kinds = np.array([it.kind for it in items])
    ans = kinds == "answerable"
    answered = p >= tau
    eps = 1e-9
    rates = decision_rates(p, y, kinds, tau)
    out = {
        "set": name,
        "questions": {k: int((kinds == k).sum()) for k in ("answerable", "silent", "offtopic")},
        "top1_contains_answer": float(y[ans].mean()),
        "accuracy_answerable": rates["accuracy_answerable"],
        "precision_when_answered": float(y[answered & ans].sum() / max(1, answered.sum())),
        "false_abstention": rates["false_abstention"],
        "abstention_silent": rates["abstention_silent"],
        "abstention_offtopic": rates["abstention_offtopic"],
        "log_loss": float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))),
        "brier": float(np.mean((p - y) ** 2)),
        "reliability": reliability(p, y),
    }
    print(json.dumps({k: v for k, v in out.items() if k != "reliability"}, indent=1))
    print("| confidence | questions | mean confidence | observed accuracy |\n|---|---|---|---|")
    for label, n, mp, acc in out["reliability"]:
        print(f"| {label} | {n} | {mp:.2f} | {acc:.2f} |")
    return out


def choose_threshold(items: list[Item], ranker: cal.Logistic, conf: cal.Logistic, withhold: float) -> float:
    """The threshold that withholds ``withhold`` of the correct answers to answerable questions."""
    x, y = confidence_rows(items, ranker)
    p = conf.proba(x)
    return float(np.quantile(p[y == 1], withhold))


def corpus_retriever(corpus: Path, work: Path, embedder: CachingEmbedder) -> Retriever:
    """The project corpus indexed into ``work``, for the Lyushkov-style question files."""
    build_index(load_corpus(corpus)[0], work / "lyushkov", embedder, ChunkerConfig())
    return Retriever(load_index(work / "lyushkov", embedder), embedder)


def lyushkov(path: Path, retriever: Retriever, ranker: cal.Logistic, conf: cal.Logistic, tau: float,
             with_evidence: bool = False) -> list[tuple[bool, bool, float]]:
    """Answer a Lyushkov-style file; per question (answerable, right sentence, confidence)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    out = []
    for row in rows:
        ev = gather_evidence(retriever, row["question"])
        best, confidence = -1, -1.0  # no candidate sentence at all: never an answer, whatever the threshold
        if ev.sentence_ids:  # the same decision as rag.answering, with the ranker and model being validated
            feats = features_of(retriever, ev, with_evidence)
            logits = ranker.logit(feats)
            shipped = ranker == cal.RANKER and not with_evidence  # then the re-ranker's choice stands
            top = ev.top if shipped else int(np.argmax(logits))
            best = ev.best if shipped else prefer_prose(retriever.index, ev.sentence_ids, logits, top)
            row_x = cal.confidence_features(logits, feats, ev.unknown, ev.answer, top)
            confidence = float(conf.proba(row_x[None, :])[0])
        s = retriever.index.sentences[ev.sentence_ids[best]] if best >= 0 else None
        text = retriever.index.documents[s.doc_id].text if s else ""
        ok = bool(row["answerable"] and s and answer_hits(s.start, s.end, text, row["evidence_start"],
                                                         row["evidence_end"], row["answer"]))
        out.append((bool(row["answerable"]), ok, confidence))
        flag = ("ok " if ok else "BAD") if row["answerable"] else "UNA"
        print(f"{flag} {'answer ' if confidence >= tau else 'abstain'} {confidence:.2f} {row['question']}"
              f"  -> {s.text[:90] if s else None}")
    print(f"{path.stem}: {lyushkov_summary(out, tau)}")
    return out


def lyushkov_summary(results: list[tuple[bool, bool, float]], tau: float, compact: bool = False) -> str:
    answerable = [(ok, c) for a, ok, c in results if a]
    silent = [c for a, _, c in results if not a]
    hits = sum(ok and c >= tau for ok, c in answerable)
    wrongly_held = sum(c < tau for _, c in answerable)
    held = sum(c < tau for c in silent)
    n = len(answerable)
    if compact:
        return f"{hits}/{n} / {wrongly_held}/{n} / {held}/{len(silent)}"
    return (f"answer accuracy {hits}/{n} = {hits / max(1, n):.3f}; abstained on unanswerable {held}/{len(silent)}; "
            f"false abstention {wrongly_held}/{n} = {wrongly_held / max(1, n):.3f}")


def threshold_table(taus: list[float], items_b: list[Item], ranker: cal.Logistic, conf: cal.Logistic,
                    files: dict[str, list[tuple[bool, bool, float]]]) -> None:
    """The trade-off a caller makes with ``min_confidence``: each set at each threshold."""
    x, y = confidence_rows(items_b, ranker)
    p = conf.proba(x)
    kinds = np.array([it.kind for it in items_b])
    print("| min_confidence | fold B: accuracy / false abstention / abstention silent / off-topic | "
          + " | ".join(f"{name}: right / wrongly held / held of unanswerable" for name in files) + " |")
    print("|---|---|" + "---|" * len(files))
    for tau in taus:
        cells = [" / ".join(f"{r:.3f}" for r in decision_rates(p, y, kinds, tau).values())]
        cells += [lyushkov_summary(r, tau, compact=True) for r in files.values()]
        print(f"| {tau:g} | " + " | ".join(cells) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, required=True, help="folder of the SQuAD development files")
    ap.add_argument("--lyushkov", type=Path, nargs="*", default=[],
                    help="Lyushkov-style question files over --corpus (reported, never fitted on)")
    ap.add_argument("--thresholds", type=float, nargs="*", default=[],
                    help="also report fold B and the --lyushkov files at each of these min_confidence values")
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--work", type=Path, required=True, help="scratch folder for indexes and the embedding cache")
    ap.add_argument("--counts", type=int, nargs=3, default=(500, 250, 250), metavar=("ANSWERABLE", "SILENT", "OFF"))
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--tau", type=float, help="abstention threshold (default: chosen on fold A by --withhold)")
    ap.add_argument("--withhold", type=float, default=0.05,
                    help="share of correct answers (fold A) the chosen threshold may withhold")
    ap.add_argument("--drop", nargs="*", default=[], choices=cal.SENTENCE_FEATURES,
                    help="ranker features left out of the fit (their weight stays 0), to measure what they add")
    ap.add_argument("--current", action="store_true", help="validate the constants in rag/calibration.py as they are")
    ap.add_argument("--with-evidence", action="store_true",
                    help="experiment: add the retriever's sentence score as a ranker feature (not shipped)")
    ap.add_argument("--keep-ranker", action="store_true", help="fit the confidence model only (the shipped ranker)")
    ap.add_argument("--fit-reranker", action="store_true",
                    help="fit the re-ranker (RERANKER) on fold A's shortlists and compare it on both folds; then paste "
                         "it into rag/calibration.py and refit the confidence model with --keep-ranker")
    ap.add_argument("--fit-also", type=Path, nargs="*", default=[],
                    help="Lyushkov-style question files over --corpus added to the confidence model's fit")
    ap.add_argument("--fit-weight", type=int, default=1, help="how many times each --fit-also question counts")
    ap.add_argument("--drop-confidence", nargs="*", default=[], choices=cal.CONFIDENCE_FEATURES,
                    help="confidence features left out of the fit (weight 0)")
    args = ap.parse_args()
    if args.fit_reranker and args.with_evidence:
        ap.error("--fit-reranker fits RERANK_FEATURES, which have no evidence feature")
    if args.current and args.with_evidence:
        ap.error("--current validates the shipped ranker, which has no evidence feature")
    embedder = CachingEmbedder(args.work / "embeddings.npz")
    articles, questions = load_squad(args.squad)
    fold_a, fold_b = folds(list(articles))
    world_a = build_world("fold-a", fold_a, fold_b, articles, questions, args.corpus, args.work, embedder, args.counts)
    world_b = build_world("fold-b", fold_b, fold_a, articles, questions, args.corpus, args.work, embedder,
                          args.counts, seed=1)
    items_a = collect(world_a, args.with_evidence, args.fit_reranker)
    items_b = collect(world_b, args.with_evidence, args.fit_reranker)
    embedder.save()
    if args.fit_reranker:
        reranker = fit_reranker(items_a, args.l2)
        print("RERANKER =", cal.Logistic(0.0, tuple(round(c, 4) for c in reranker.coef)),
              dict(zip(cal.RERANK_FEATURES, np.round(reranker.coef, 3), strict=True)))
        for name, items in (("fit (fold A)", items_a), ("validation (fold B)", items_b)):
            rerank_report(name, items, reranker)
        if args.lyushkov:
            retriever = corpus_retriever(args.corpus, args.work, embedder)
            for path in args.lyushkov:
                rerank_report(path.stem, collect_file(path, retriever, shortlists=True), reranker)
        return 0
    if args.current:
        ranker, conf = cal.RANKER, cal.CONFIDENCE
    else:
        ranker = cal.RANKER if args.keep_ranker else fit_ranker(items_a, args.l2,
                                                                [cal.SENTENCE_FEATURES.index(n) for n in args.drop])
        extra: list[Item] = []
        if args.fit_also:
            retriever = corpus_retriever(args.corpus, args.work, embedder)
            extra = [it for path in args.fit_also for it in collect_file(path, retriever)] * args.fit_weight
        conf = fit_confidence(items_a + extra, ranker, args.l2,
                              [cal.CONFIDENCE_FEATURES.index(n) for n in args.drop_confidence])
    names = cal.SENTENCE_FEATURES + (("evidence",) if args.with_evidence else ())
    print("RANKER =", ranker, dict(zip(names, np.round(ranker.coef, 3), strict=True)))
    print("CONFIDENCE =", conf, dict(zip(cal.CONFIDENCE_FEATURES, np.round(conf.coef, 3), strict=True)))
    tau = args.tau if args.tau is not None else (
        cal.ABSTAIN_BELOW if args.current else choose_threshold(items_a, ranker, conf, args.withhold))
    print(f"ABSTAIN_BELOW = {tau:.3f}")
    report("fit (fold A)", items_a, ranker, conf, tau)
    report("validation (fold B)", items_b, ranker, conf, tau)
    if len({path.stem for path in args.lyushkov}) < len(args.lyushkov):
        ap.error("--lyushkov files are reported by name: give files with different names")
    files = {}
    if args.lyushkov:
        retriever = corpus_retriever(args.corpus, args.work, embedder)
        files = {path.stem: lyushkov(path, retriever, ranker, conf, tau, args.with_evidence) for path in args.lyushkov}
        embedder.save()
    if args.thresholds:
        threshold_table(args.thresholds, items_b, ranker, conf, files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
