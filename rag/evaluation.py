"""`rag eval`: passage, evidence and answer metrics on Lyushkov-style and SQuAD question files."""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError

if TYPE_CHECKING:
    import argparse

    from rag.config import Settings
    from rag.documents import Document, Passage
    from rag.embedding import Embedder
    from rag.retrieval import Retriever

SQUAD_ARTICLES = "squad_dev_articles.jsonl.gz"
SQUAD_QUESTIONS = "squad_dev_questions.jsonl.gz"
MRR_DEPTH = 10
FORMATS_HINT = ("pass a Lyushkov-style .jsonl question file or a SQuAD folder (their formats: docs/evaluation.md; "
                "the development questions are not part of this repository)")


@dataclass(frozen=True)
class Question:
    """One question; ``gold`` spans are the evidence (rule ``evidence``) or answer spans (``answer``)."""

    qid: str
    text: str
    doc_id: str
    answerable: bool
    rule: str
    gold: tuple[tuple[int, int], ...]
    answers: tuple[str, ...]


@dataclass
class EvalSet:
    """Questions plus, for SQuAD, the documents to index (``None``: index the corpus folder)."""

    name: str
    questions: list[Question]
    documents: list[Document] | None = None


# -- hit rules (pure) ----------------------------------------------------------------------------
def evidence_hit(start: int, end: int, gold_start: int, gold_end: int) -> bool:
    """A span hits gold evidence when it overlaps at least half of it (so containing it counts)."""
    overlap = min(end, gold_end) - max(start, gold_start)
    return overlap > 0 and 2 * overlap >= gold_end - gold_start


def answer_hit(start: int, end: int, gold_start: int, gold_end: int) -> bool:
    """A span hits a gold answer when it contains the whole answer span."""
    return start <= gold_start and gold_end <= end


def span_hits(question: Question, doc_id: str, start: int, end: int) -> bool:
    if doc_id != question.doc_id:
        return False
    rule = evidence_hit if question.rule == "evidence" else answer_hit
    return any(rule(start, end, gs, ge) for gs, ge in question.gold)


def first_hit_rank(question: Question, spans: Sequence[tuple[str, int, int]]) -> int | None:
    """1-based rank of the first ranked ``(doc_id, start, end)`` that hits, or None."""
    for rank, (doc_id, start, end) in enumerate(spans, start=1):
        if span_hits(question, doc_id, start, end):
            return rank
    return None


def rank_metrics(ranks: Sequence[int | None], depth: int = MRR_DEPTH) -> dict[str, float]:
    """hit@1, hit@5 and MRR@depth from first-hit ranks (None = no hit)."""
    n = len(ranks)
    if n == 0:
        return {"hit@1": 0.0, "hit@5": 0.0, f"mrr@{depth}": 0.0}
    return {
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        f"mrr@{depth}": sum(1.0 / r for r in ranks if r is not None and r <= depth) / n,
    }


def top_evidence_hits(question: Question, passages: Sequence[Passage]) -> bool:
    """evidence@1: whether the top highlight of the top passage hits."""
    if not passages or not passages[0].highlights:
        return False
    h = passages[0].highlights[0]
    return span_hits(question, passages[0].doc_id, h.start, h.end)


# -- loading -------------------------------------------------------------------------------------
def _jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    rows: list[dict[str, Any]] = []
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("a line is not a JSON object")
                    rows.append(row)
    except (ValueError, EOFError, gzip.BadGzipFile) as exc:  # not UTF-8, not JSON Lines, a broken .gz
        raise ConfigError(f"{path}: not a question file (JSON Lines, UTF-8) near row {len(rows) + 1}: {exc}; "
                          f"{FORMATS_HINT}") from exc
    return rows


def load_lyushkov(path: Path) -> EvalSet:
    questions = []
    for row in _jsonl(path):
        answerable = bool(row.get("answerable", True))
        gold = ((int(row["evidence_start"]), int(row["evidence_end"])),) if answerable else ()
        answers = (str(row["answer"]),) if answerable and row.get("answer") else ()
        questions.append(Question(str(row["id"]), row["question"], str(row.get("doc", "")), answerable,
                                  "evidence", gold, answers))
    return EvalSet(path.stem, questions)


def slug(title: str) -> str:
    """A doc_id from a SQuAD title, e.g. ``Jacksonville,_Florida`` → ``jacksonville_florida``."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:120] or "article"


def load_squad(folder: Path, questions_path: Path | None = None) -> EvalSet:
    """SQuAD articles (one document each, paragraphs joined by blank lines) and their questions."""
    from rag.loading import make_document

    docs: dict[str, Document] = {}
    for row in _jsonl(folder / SQUAD_ARTICLES):
        doc = make_document(slug(row["title"]), "\n\n".join(row["paragraphs"]), fmt="text",
                            title=row["title"].replace("_", " "), source=f"squad:{row['title']}")
        docs[row["title"]] = doc
    questions = []
    for row in _jsonl(questions_path or folder / SQUAD_QUESTIONS):
        doc = docs[row["title"]]
        spans = []
        for a in row["answers"]:
            start = int(a["article_start"])
            if doc.text[start:start + len(a["text"])] != a["text"]:
                raise ConfigError(f"SQuAD answer offsets do not match the article text in question {row['id']}")
            spans.append((start, start + len(a["text"])))
        questions.append(Question(str(row["id"]), row["question"], doc.doc_id, True, "answer",
                                  tuple(dict.fromkeys(spans)), tuple(dict.fromkeys(a["text"] for a in row["answers"]))))
    return EvalSet("squad", questions, list(docs.values()))


def load_eval_set(path: Path) -> EvalSet:
    """A Lyushkov-style .jsonl file, a SQuAD folder, or a SQuAD questions file beside its articles."""
    if path.is_dir():
        if not (path / SQUAD_ARTICLES).is_file():
            raise ConfigError(f"{path} has no {SQUAD_ARTICLES}: pass a SQuAD folder or a .jsonl question file")
        return _checked(path, load_squad, path)
    if not path.is_file():
        raise ConfigError(f"evaluation file {path} does not exist: {FORMATS_HINT}")
    if path.name.endswith(".jsonl.gz") and (path.parent / SQUAD_ARTICLES).is_file():
        return _checked(path, load_squad, path.parent, path)
    rows = _jsonl(path)
    if rows and "evidence_start" not in rows[0] and "answerable" not in rows[0]:
        raise ConfigError(f"{path}: unknown question format (expected Lyushkov-style rows with evidence offsets)")
    return _checked(path, load_lyushkov, path)


def _checked(path: Path, load: Callable[..., EvalSet], *args: Path) -> EvalSet:
    """``load(*args)``, a row missing a field or holding a wrong value being one ConfigError naming ``path``."""
    try:
        return load(*args)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: a question row lacks a field or has a wrong value "
                          f"({type(exc).__name__}: {exc}); {FORMATS_HINT}") from exc


def subsample(questions: list[Question], limit: int | None) -> list[Question]:
    """At most ``limit`` questions, spread evenly over the file (deterministic)."""
    if limit is None or limit >= len(questions):
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


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
    correct = abstained_ok = false_abstain = n_answerable = n_unanswerable = 0
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
                                                "text": a.text, "confidence": a.confidence}
        if not q.answerable:
            n_unanswerable += 1
            abstained_ok += a is None
            continue
        n_answerable += 1
        false_abstain += a is None
        hit = False
        if a is not None and a.doc_id == q.doc_id:
            golds = [(gs, ge, ans) for (gs, ge) in q.gold for ans in (q.answers or ("",))] if q.rule == "evidence" \
                else [(gs, ge, retriever.index.documents[q.doc_id].text[gs:ge]) for gs, ge in q.gold]
            doc_text = retriever.index.documents[q.doc_id].text
            hit = any(answer_hits(a.start, a.end, doc_text, gs, ge, ans) for gs, ge, ans in golds)
        row["answer_correct"] = hit
        correct += hit
    report.metrics["answer_accuracy"] = correct / n_answerable if n_answerable else None
    report.metrics["false_abstention"] = false_abstain / n_answerable if n_answerable else None
    if n_unanswerable:
        report.metrics["abstention_unanswerable"] = abstained_ok / n_unanswerable


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
             "min_confidence"]
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
