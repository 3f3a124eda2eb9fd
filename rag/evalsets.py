"""Question files for `rag eval`: Lyushkov-style and SQuAD loaders, and the span hit rules and rank metrics."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.documents import Document, Passage

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

