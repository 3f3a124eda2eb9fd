"""`rag eval`: passage, evidence and answer metrics on Lyushkov-style and SQuAD question files."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.evalsets import (
    FORMATS_HINT,
    MRR_DEPTH,
    SQUAD_ARTICLES,
    SQUAD_QUESTIONS,
    EvalSet,
    Question,
    answer_hit,
    evidence_hit,
    first_hit_rank,
    load_eval_set,
    load_lyushkov,
    load_squad,
    rank_metrics,
    slug,
    span_hits,
    subsample,
    top_evidence_hits,
)

if TYPE_CHECKING:
    import argparse

    from rag.config import Settings
    from rag.embedding import Embedder
    from rag.retrieval import Retriever

# The question files and hit rules live in rag.evalsets; they stay importable from here.
__all__ = [
    "FORMATS_HINT", "MRR_DEPTH", "SQUAD_ARTICLES", "SQUAD_QUESTIONS", "EvalSet", "Question", "Report",
    "answer_hit", "build_retriever", "evaluate", "evidence_hit", "first_hit_rank", "format_report",
    "load_eval_set", "load_lyushkov", "load_squad", "rank_metrics", "run_cli", "run_set", "short_matches", "slug",
    "span_hits",
    "subsample", "top_evidence_hits",
]


# -- running -------------------------------------------------------------------------------------
@dataclass
class Report:
    name: str
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)


def build_retriever(evalset: EvalSet, settings: Settings, index_dir: Path, embedder: Embedder,
                    fusion: str = "weighted", progress: Callable[[str], None] | None = None,
                    ) -> tuple[Retriever, float | None]:
    """Build (or reuse when up to date) the set's index in ``index_dir``; return it and the build seconds."""
    from rag.retrieval import Retriever
    from rag.service import build, chunker_config
    from rag.store import build_index, load_index

    embedder.embed_query("warm up")  # load the model before the clock starts
    t0 = time.perf_counter()
    if settings.store != "local":  # evaluate through a database store (`rag eval --store`)
        from rag.loading import load_corpus
        from rag.service import publish
        from rag.stores import open_store

        store = open_store(settings)
        documents = evalset.documents if evalset.documents is not None else load_corpus(settings.corpus_dir)[0]
        with store.write_lock():
            built = publish(settings, store, documents, embedder, progress=progress).built
        seconds = time.perf_counter() - t0 if built else None
        return Retriever(store.load(embedder), embedder, candidates=settings.candidates, fusion=fusion), seconds
    if evalset.documents is None:
        built = build(settings, index_dir=index_dir, embedder=embedder, progress=progress).built
    else:
        build_index(evalset.documents, index_dir, embedder, chunker_config(settings), progress=progress)
        built = True
    seconds = time.perf_counter() - t0 if built else None
    return Retriever(load_index(index_dir, embedder), embedder, candidates=settings.candidates, fusion=fusion), seconds


def evaluate(retriever: Retriever, questions: Sequence[Question], mode: str = "hybrid",
             answers: bool = True, min_confidence: float | None = None) -> Report:
    """Search every question and compute the retrieval (and, when available, answer) metrics."""
    report = Report("")
    ranks: list[int | None] = []
    evidence: list[bool] = []
    times: list[float] = []
    lengths: list[int] = []
    for q in questions:
        if not q.answerable:
            continue
        t0 = time.perf_counter()
        result = retriever.search(q.text, k=MRR_DEPTH, mode=mode)
        times.append((time.perf_counter() - t0) * 1000.0)
        spans = [(p.doc_id, p.start, p.end) for p in result.passages]
        rank = first_hit_rank(q, spans)
        ev = top_evidence_hits(q, result.passages)
        ranks.append(rank)
        evidence.append(ev)
        lengths.extend(p.end - p.start for p in result.passages[:5])
        top = result.passages[0] if result.passages else None
        report.details.append({"id": q.qid, "question": q.text, "answerable": True, "rank": rank, "evidence@1": ev,
                               "top": top.text if top else None,
                               "top_highlight": top.highlights[0].text if top and top.highlights else None})
    chunks = retriever.index.chunks
    report.metrics = {
        "questions": len(ranks),
        **rank_metrics(ranks),
        "evidence@1": sum(evidence) / len(evidence) if evidence else 0.0,
        "mean_passage_chars": statistics.fmean(c.end - c.start for c in chunks) if chunks else 0.0,
        "mean_returned_chars": statistics.fmean(lengths) if lengths else 0.0,
        "chunks": len(chunks),
        "median_query_ms": statistics.median(times) if times else 0.0,
    }
    if answers:
        _answer_metrics(retriever, questions, report, min_confidence)
    return report


def _answer_metrics(retriever: Retriever, questions: Sequence[Question], report: Report,
                    min_confidence: float | None = None) -> None:
    try:
        from rag.answering import answer_hits, ask
    except ImportError:
        report.notes.append("answer metrics skipped: rag.answering is not available")
        return
    correct = abstained_ok = false_abstain = n_answerable = n_unanswerable = short_given = short_right = 0
    rows = {row["id"]: row for row in report.details}
    for q in questions:
        result = ask(retriever, q.text, 5, min_confidence=min_confidence)
        report.metrics["min_confidence"] = result.min_confidence
        a = result.answer if result.answerable else None
        row = rows.get(q.qid)
        if row is None:  # unanswerable questions have no retrieval row
            row = {"id": q.qid, "question": q.text, "answerable": q.answerable}
            report.details.append(row)
        row["abstained"] = a is None
        row["answer"] = None if a is None else {"doc_id": a.doc_id, "start": a.start, "end": a.end,
                                                "text": a.text, "confidence": a.confidence,
                                                "short": None if a.short is None else a.short.text}
        if not q.answerable:
            n_unanswerable += 1
            abstained_ok += a is None
            continue
        n_answerable += 1
        false_abstain += a is None
        hit = False
        if a is not None and a.doc_id == q.doc_id:
            doc_text = retriever.index.documents[q.doc_id].text
            golds = [(gs, ge, ans) for (gs, ge) in q.gold for ans in (q.answers or ("",))] if q.rule == "evidence" \
                else [(gs, ge, doc_text[gs:ge]) for gs, ge in q.gold]
            hit = any(answer_hits(a.start, a.end, doc_text, gs, ge, ans) for gs, ge, ans in golds)
            if hit and a.short is not None:
                short_given += 1
                short_right += short_matches(a.short.text, [ans for _, _, ans in golds])
        row["answer_correct"] = hit
        correct += hit
    report.metrics["answer_accuracy"] = correct / n_answerable if n_answerable else None
    report.metrics["false_abstention"] = false_abstain / n_answerable if n_answerable else None
    if n_unanswerable:
        report.metrics["abstention_unanswerable"] = abstained_ok / n_unanswerable
    report.metrics["short_answers"] = short_given
    report.metrics["short_answer_right"] = short_right / short_given if short_given else None


def short_matches(short: str, golds: Sequence[str]) -> bool:
    """A short answer is right when it equals, contains or lies inside a gold answer (words, case folded)."""
    from rag.short_answers import words_of

    words = words_of(short)
    for gold in golds:
        g = words_of(gold)
        if g and words and (f" {g} " in f" {words} " or f" {words} " in f" {g} "):
            return True
    return False


def run_set(evalset: EvalSet, settings: Settings, *, index_dir: Path | None = None, mode: str = "hybrid",
            fusion: str = "weighted", limit: int | None = None, answers: bool = True,
            embedder: Embedder | None = None, progress: Callable[[str], None] | None = None) -> Report:
    """Index the set (a temporary folder unless ``index_dir``), evaluate it, and time both."""
    from rag.service import embedder_for

    embedder = embedder or embedder_for(settings)
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        folder = index_dir if index_dir is not None and evalset.documents is None else Path(tmp) / "index"
        retriever, seconds = build_retriever(evalset, settings, folder, embedder, fusion, progress)
        questions = subsample(evalset.questions, limit)
        if progress:
            progress(f"{evalset.name}: evaluating {len(questions)} questions")
        report = evaluate(retriever, questions, mode, answers, settings.min_confidence)
    report.name = evalset.name
    report.metrics["build_seconds"] = seconds
    if seconds is None:
        report.notes.append("index was up to date: build time not measured")
    report.metrics["unanswerable"] = sum(not q.answerable for q in questions)
    return report


def format_report(report: Report) -> str:
    m = report.metrics
    lines = [f"{report.name}: {m['questions']} answerable questions, {m['chunks']} passages"]
    order = ["hit@1", "hit@5", f"mrr@{MRR_DEPTH}", "evidence@1", "mean_passage_chars", "mean_returned_chars",
             "build_seconds", "median_query_ms", "answer_accuracy", "false_abstention", "abstention_unanswerable",
             "min_confidence", "short_answers", "short_answer_right"]
    for key in order:
        if key in m and m[key] is not None:
            value = m[key]
            lines.append(f"  {key:<24} {value:.3f}" if isinstance(value, float) else f"  {key:<24} {value}")
    lines += [f"  note: {n}" for n in report.notes]
    return "\n".join(lines)


def run_cli(args: argparse.Namespace, settings: Settings, progress: Callable[[str], None] | None = None) -> int:
    """``rag eval``: evaluate each file and print the metrics (JSON with ``--json``)."""
    overrides = {k: v for k, v in (("chunk_chars", args.chunk_chars), ("chunk_overlap", args.chunk_overlap),
                                   ("store", getattr(args, "store", None) or "local")) if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    reports = []
    for path in args.files:
        evalset = load_eval_set(path)
        report = run_set(evalset, settings, index_dir=getattr(args, "index_dir", None), mode=args.mode,
                         fusion=args.fusion, limit=args.limit, answers=not getattr(args, "no_answers", False),
                         progress=progress)
        reports.append(report)
        details = getattr(args, "details", None)
        if details is not None:
            with Path(details).open("a", encoding="utf-8") as fh:
                for row in report.details:
                    fh.write(json.dumps({"set": report.name, **row}, ensure_ascii=False) + "\n")
        if not args.json:
            print(format_report(report), flush=True)
    if args.json:
        settings_used = {"mode": args.mode, "fusion": args.fusion, "chunk_chars": settings.chunk_chars,
                         "chunk_overlap": settings.chunk_overlap}
        json.dump({"settings": settings_used, "sets": [{"name": r.name, **r.metrics, "notes": r.notes}
                                                       for r in reports]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
