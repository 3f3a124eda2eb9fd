"""PostgreSQL + pgvector store at scale: publish, load, and HNSW search latency and recall@10 against
FAISS exact search (and the local store's own index) on the same vectors, in one run.

    .venv/bin/python scripts/bench_postgres.py --chunks 100000 [--url postgresql://...]

Without ``--url`` a throw-away server is started from the pgserver wheel (tests/pg.py). The vectors are
synthetic, drawn like the model's (scripts/bench_scale.py: same neighbour profile as real SQuAD
vectors); every chunk is one sentence, so the store builds two HNSW indexes of ``--chunks`` vectors.
Writes ``docs/benchmarks_postgres.json`` and the PostgreSQL section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
MARK_START, MARK_END = "<!-- postgres:start -->", "<!-- postgres:end -->"


def _generation(vectors: np.ndarray) -> Any:
    """A generation of ``len(vectors)`` one-sentence chunks spread over documents of 1,000 chunks."""
    from rag.chunking import ChunkerConfig
    from rag.documents import Chunk, Sentence
    from rag.embedding import FakeEmbedder
    from rag.loading import make_document
    from rag.store import Generation, build_config

    n, per_doc = len(vectors), 1000
    documents, chunks, sentences = [], [], []
    for d in range(0, n, per_doc):
        lines = [f"Synthetic sentence {i} about topic {i % 97}." for i in range(d, min(n, d + per_doc))]
        text = "\n".join(lines)
        doc = make_document(f"doc{d // per_doc:05d}", text, fmt="text", source=f"doc{d // per_doc:05d}.txt")
        documents.append(doc)
        start = 0
        for line in lines:
            end = start + len(line)
            sentences.append(Sentence(doc.doc_id, start, end, line, "text"))
            chunks.append(Chunk(f"c{len(chunks):08d}", doc.doc_id, start, end, line, (), (len(sentences) - 1,)))
            start = end + 1
    fake = FakeEmbedder(dim=vectors.shape[1])
    fake.model_id = "synthetic/bench"
    config = build_config(fake, ChunkerConfig())
    return Generation(documents, chunks, sentences, vectors, vectors, config, f"bench{n:032d}")


def _latencies(search: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    ids, took = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, found = search(q[None, :], k)
        took.append((time.perf_counter() - t0) * 1000)
        ids.append(found[0])
    return np.array(ids), took


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def _summary(took: list[float]) -> dict[str, float]:
    p = np.percentile(took, [50, 95, 99])
    return {"p50_ms": round(float(p[0]), 3), "p95_ms": round(float(p[1]), 3), "p99_ms": round(float(p[2]), 3)}


def run(n: int, n_queries: int, url: str | None) -> dict[str, Any]:
    import bench_scale
    import faiss

    from rag import ann
    from rag.stores import postgres
    from tests import pg

    faiss.omp_set_num_threads(1)
    server = None
    if url is None:
        server, why = pg.start()
        if server is None:
            raise SystemExit(why)
        url = server.new_database()
    result: dict[str, Any] = {"chunks": n, "queries": n_queries, "dim": bench_scale.DIM, "hnsw": postgres.HNSW,
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    try:
        vectors, queries = bench_scale.synthetic(n, n_queries, seed=11)
        truth = ann.exact_search(vectors, queries, 10)
        store = postgres.PostgresStore(url)
        with store.primary.connection() as conn:
            result["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
            result["pgvector"] = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
        generation = _generation(vectors)
        t0 = time.perf_counter()
        name = store.publish(generation, progress=lambda m: print(m, flush=True))
        result["publish_seconds"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        index = store.load(verify=True)
        result["load_seconds"] = round(time.perf_counter() - t0, 1)
        number = int(name.split("-")[0])
        with store.primary.connection() as conn:
            size = conn.execute("SELECT pg_total_relation_size(%s), pg_indexes_size(%s), "
                                "pg_database_size(current_database())",
                                (f"rag_chunks_{number}", f"rag_chunks_{number}")).fetchone()
        result["chunk_table_mb"] = round(size[0] / 2**20, 1)
        result["chunk_hnsw_mb"] = round(size[1] / 2**20, 1)
        result["database_mb"] = round(size[2] / 2**20, 1)

        # warm-up, then each configuration on the same queries
        searcher = index.chunk_faiss
        _latencies(searcher.search, queries[:50], 10)
        rows = []
        for ef in (40, 100, 200):
            postgres.EF_SEARCH = ef
            found, took = _latencies(searcher.search, queries, 10)
            rows.append({"method": f"PostgreSQL HNSW (ef_search {ef})",
                         "recall_at_10": round(_recall(found, truth), 3), **_summary(took)})
        postgres.EF_SEARCH = 100
        found, took = _latencies(searcher.search, queries, 100)
        rows.append({"method": "PostgreSQL HNSW, 100 candidates (as the retriever asks): exact top-10 among them",
                     "recall_at_10": round(float(np.mean([len(set(f) & set(t)) / 10
                                                          for f, t in zip(found, truth, strict=True)])), 3),
                     **_summary(took)})
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        found, took = _latencies(exact.search, queries, 10)
        rows.append({"method": "FAISS exact (IndexFlatIP, 1 thread)", "recall_at_10": round(_recall(found, truth), 3),
                     **_summary(took)})
        local, params = ann.build(vectors, queries[:ann.TUNE_QUERIES])
        found, took = _latencies(local.search, queries, 10)
        rows.append({"method": f"local store ({params.type}, nprobe {params.nprobe})",
                     "recall_at_10": round(_recall(found, truth), 3), **_summary(took)})
        result["search"] = rows
        store.close()
    finally:
        if server is not None:
            server.stop()
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [MARK_START, "## PostgreSQL + pgvector store", "",
             f"`.venv/bin/python scripts/bench_postgres.py --chunks {result['chunks']}` — PostgreSQL "
             f"{result['postgres']}, pgvector {result['pgvector']} (from the pgserver wheel), on this "
             f"{result['machine']['cpus']}-core machine, {result['chunks']:,} synthetic chunks (shaped like the "
             f"model's vectors, scripts/bench_scale.py), {result['queries']} queries, HNSW m {result['hnsw']['m']}, "
             f"ef_construction {result['hnsw']['ef_construction']}. "
             "Latency is one query's dense search as the retriever calls it (over a pooled connection, "
             "excluding query embedding); recall@10 is against exact search on the same vectors, in the same run.", "",
             "| method | recall@10 | p50 ms | p95 ms | p99 ms |", "| --- | --- | --- | --- | --- |"]
    for row in result["search"]:
        lines.append(f"| {row['method']} | {row['recall_at_10']:.3f} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} | "
                     f"{row['p99_ms']:.2f} |")
    lines += ["", f"Publishing the generation (COPY of {result['chunks']:,} chunks and as many sentences, two HNSW "
              f"builds, BM25, one transaction): {result['publish_seconds']} s. Loading it into an API process: "
              f"{result['load_seconds']} s. Chunk table {result['chunk_table_mb']} MB, of which HNSW "
              f"{result['chunk_hnsw_mb']} MB; whole database {result['database_mb']} MB.", "", MARK_END]
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], docs: Path) -> None:
    (docs / "benchmarks_postgres.json").write_text(json.dumps(result, indent=2) + "\n")
    report = docs / "benchmarks.md"
    text = report.read_text() if report.exists() else "# Benchmarks\n"
    section = markdown(result)
    if MARK_START in text and MARK_END in text:
        head, _, rest = text.partition(MARK_START)
        text = head + section.rstrip("\n") + rest.partition(MARK_END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    report.write_text(text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chunks", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=400)
    p.add_argument("--url", help="an existing PostgreSQL database with pgvector (default: start one)")
    p.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = p.parse_args()
    result = run(args.chunks, args.queries, args.url)
    print(json.dumps(result, indent=2))
    write(result, args.docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
