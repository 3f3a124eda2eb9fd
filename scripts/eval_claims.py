#!/usr/bin/env python
"""Evaluate `locate` (claim lookup) on a claims file: support accuracy, match types and conflicts per kind.

    .venv/bin/python scripts/eval_claims.py \\
        tests/data/lyushkov_claims_heldout.jsonl --corpus corpus --details /tmp/claims-details.jsonl

A claims file has one JSON object per line: ``id``, ``claim``, ``supported`` (gold), ``kind``
(verbatim, paraphrase, conflict, unsupported-ontopic, offtopic), ``doc``, ``evidence_start`` and
``evidence_end`` (the sentence that states the claim, or that a conflict contradicts; null for the
unsupported kinds) and, for conflicts, ``changed`` (the value of the claim that was altered).
The corpus folder is indexed into a temporary folder with the settings' embedder (the real model
by default), as `rag eval` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.config import Settings  # noqa: E402
from rag.evaluation import EvalSet, build_retriever, evidence_hit  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.verify import locate_claim as locate  # noqa: E402 - what /v1/locate serves: clause by clause when cut

KINDS = ("verbatim", "paraphrase", "conflict", "unsupported-ontopic", "offtopic")


def load_claims(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _hits(claim: dict[str, Any], doc_id: str, start: int, end: int) -> bool:
    return (claim["evidence_start"] is not None and doc_id == claim["doc"]
            and evidence_hit(start, end, claim["evidence_start"], claim["evidence_end"]))


def judge(retriever: Retriever, claim: dict[str, Any], k: int = 3) -> dict[str, Any]:
    """One claim's detail row: what locate said and whether it matches the gold."""
    result = locate(retriever, claim["claim"], k)
    top = result.matches[0] if result.matches else None
    row: dict[str, Any] = {
        "id": claim["id"], "kind": claim["kind"], "strength": claim.get("strength"), "claim": claim["claim"],
        "gold_supported": claim["supported"],
        "supported": result.supported, "correct": result.supported == claim["supported"],
        "match": top.match if top else None, "score": top.score if top else None,
        "top_hits_gold": (bool(top) and _hits(claim, top.doc_id, top.start, top.end)
                          if claim["evidence_start"] is not None else None),
        "top_text": top.text if top else None,
        "conflicts": [[c.claim, c.source] for c in top.conflicts] if top else [],
    }
    if claim["kind"] == "conflict":
        changed = claim["changed"].casefold()
        row["conflict_flagged"] = any(
            _hits(claim, m.doc_id, m.start, m.end) and any(changed in c.claim.casefold() for c in m.conflicts)
            for m in result.matches)
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind (and ``all``): claims, supported rate, top match on the gold sentence, match types, conflicts."""
    out: dict[str, dict[str, Any]] = {}
    strengths = sorted({f"{r['kind']} ({r['strength']})" for r in rows if r.get("strength")})
    for kind in (*KINDS, *strengths, "all"):
        group = [r for r in rows if kind in ("all", r["kind"], f"{r['kind']} ({r.get('strength')})")]
        if not group:
            continue
        n = len(group)
        m: dict[str, Any] = {"claims": n, "supported_rate": sum(r["supported"] for r in group) / n,
                             "accuracy": sum(r["correct"] for r in group) / n,
                             "match_types": dict(Counter(r["match"] or "none" for r in group))}
        if all(r["top_hits_gold"] is not None for r in group):
            m["top_hits_gold"] = sum(r["top_hits_gold"] for r in group) / n
        if kind == "conflict":
            m["conflict_flagged"] = sum(r["conflict_flagged"] for r in group) / n
        out[kind] = m
    return out


def evaluate_claims(path: Path, corpus: Path, settings: Settings | None = None, embedder: Any = None,
                    lower: bool = False) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Index ``corpus`` in a temporary folder, locate every claim of ``path`` (``lower``: typed in lower
    case); return (summary, rows)."""
    from rag.service import embedder_for

    settings = (settings or Settings()).model_copy(update={"corpus_dir": corpus})
    embedder = embedder or embedder_for(settings)
    with tempfile.TemporaryDirectory(prefix="rag-claims-") as tmp:
        retriever, _ = build_retriever(EvalSet(path.stem, []), settings, Path(tmp) / "index", embedder)
        rows = [judge(retriever, {**claim, "claim": claim["claim"].lower()} if lower else claim)
                for claim in load_claims(path)]
    return summarize(rows), rows


def format_table(summary: dict[str, dict[str, Any]]) -> str:
    lines = ["| kind | claims | supported | accuracy | top match on gold sentence | match types | conflict flagged |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for kind, m in summary.items():
        types = ", ".join(f"{t} {c}" for t, c in sorted(m["match_types"].items()))
        cells = [kind, str(m["claims"]), f"{m['supported_rate']:.2f}", f"{m['accuracy']:.2f}",
                 f"{m['top_hits_gold']:.2f}" if "top_hits_gold" in m else "–", types,
                 f"{m['conflict_flagged']:.2f}" if "conflict_flagged" in m else "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", type=Path, help="claims file (JSON Lines)")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="corpus folder to index")
    parser.add_argument("--details", type=Path, help="write one JSON row per claim here")
    parser.add_argument("--embedder", default=None, help="embedder name (default: the settings', RAG_EMBEDDER)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--lower", action="store_true", help="every claim typed in lower case")
    args = parser.parse_args(argv)
    settings = Settings(**({"embedder": args.embedder} if args.embedder else {}))
    summary, rows = evaluate_claims(args.claims, args.corpus, settings, lower=args.lower)
    if args.details:
        args.details.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(json.dumps(summary, indent=2) if args.json else format_table(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
