"""Run the whole benchmark and write the report: ``scripts/bench --squad ../shared/eval/squad``.

Indexing (``rag build`` against the bare model), serving (the real server under load at several
concurrencies, and several workers), scale (10k / 100k / 1M chunks) — then ``docs/benchmarks.md``
with the machine, tables and PNG plots, and the raw numbers in ``docs/benchmarks.json``.
``--smoke`` runs the same code at tiny sizes with the fake embedder (seconds; used by the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_indexing  # noqa: E402
import bench_report  # noqa: E402
import bench_scale  # noqa: E402
import bench_serving  # noqa: E402
from bench_common import ROOT, dump, load_average, machine, say  # noqa: E402

SMOKE_QUESTIONS = ["Who was Ada Lovelace's father?", "When did she die?", "How is green tea prepared?",
                   "Bernoulli numbers algorithm", "Where did tea drinking begin?", "What did Menabrea write about?"]
INDEX_NOTES = """Below `rag.ann.FLAT_LIMIT` vectors (20,000) a dense index is an exact `IndexFlatIP`: one query
scans every vector, about 1.5 ms per 10,000 vectors on one core here (the *exact scan* column). Above
it, an inverted file (`IndexIVFScalarQuantizer`: inner product, spherical k-means, nlist ≈ 2·√n
rounded to a power of two, trained on at most 64 vectors per list) whose lists hold 8-bit codes;
each search takes 4 × k candidates from it and rescores them exactly with the float32 vectors
(which also serve retrieval's own exact rescoring). `nprobe` is tuned at build time by measurement:
the smallest value reaching recall@10 ≥ 0.98 (after rescoring) against exact search on held-out queries (for the chunk
index, a sample of the corpus' sentence vectors; here, 200 synthetic queries), a margin over the
0.95 target that is then checked on other queries. The type and its parameters (nlist, nprobe,
train size, measured recall) are recorded under `dense` in each generation's `manifest.json`.

IVF was chosen over HNSW by the comparison in the Scale section (HNSW, M=32, efSearch tuned the same way, on the
same data): HNSW searched about twice as fast, but built about five times slower, which at a million
vectors on two cores means a quarter of an hour per build instead of two or three minutes, while IVF
already keeps a million vectors well inside the 20 ms budget. With IVF one knob (nprobe) sets
recall, rescoring makes the returned scores exact, and its 8-bit lists take a quarter of the
vectors' size in memory (HNSW keeps all float32 vectors plus its graph in memory).
Against float32 lists (`IndexIVFFlat`), the 8-bit lists with rescoring gave the same recall@10 at the
same nprobe on 100k vectors and about half the latency (1.2-1.5 vs 2.5 ms p50, measured here).

A flat index is memory-mapped on load (its file ends with the raw vectors, which double as
`Index.chunk_vectors` without a copy); IVF lists are read into memory, since FAISS's memory-mapped
inverted lists searched about 3x slower here, and the row-ordered vectors beside them (`dense.npy`,
for exact rescoring) are memory-mapped (the *file* part of RSS: page-cache pages, which the kernel
maps around each touched row when they are cached; shared and reclaimable). Searches run on one
OpenMP thread per query (set per calling thread: OpenMP's setting is thread-local), so concurrent
requests use the other cores instead."""


SERVING_NOTES = """How a search request is served, and what was done for throughput (issue #7):

- **Micro-batched query embedding** (`rag/batching.py`, used by `OnnxEmbedder.embed_query`). The first
  request to find the model free embeds its query at once, alone: at concurrency 1 nothing ever waits
  for a window to fill. Requests that arrive while a batch is running queue, and the next one to go
  takes all of them (up to `RAG_QUERY_BATCH`, 16) into one ONNX Runtime call on one thread. The batch
  is split into runs of similar token length (`length_groups`: padding a 9-token question to the
  30 tokens of the longest costs as much as real tokens), and every query gets exactly the vector it
  would have got alone (bit for bit: `tests/test_batching.py`), so passages, offsets and scores are
  unchanged. `/metrics` counts the batches (`rag_query_batches`, `rag_query_batch_items`).
- **8 search threads** (`RAG_SEARCH_THREADS`; was 4), so that concurrent queries reach the batcher
  together instead of waiting in the executor's queue. At 16 clients, 8 threads served ~10% more
  than 4 or 16 (3 interleaved rounds each): 4 left batches small, 16 fought over the GIL.
- **Two worker processes** (`uvicorn --factory rag.workers:app --workers 2`, below) serve more than
  one: a single process is held back by the GIL (its Python work, HTTP and retrieval, runs on one
  core at a time), two processes share nothing but the memory-mapped index.
- **Less per-request overhead on the event loop**: uvicorn runs on `httptools` and `uvloop` (project
  dependencies; h11 and the default loop cost about 2 ms more CPU per request here), the request
  dependencies are `async def` (FastAPI ran each plain `def` dependency on its thread pool), and the
  query's wait uses `asyncio.timeout` instead of `wait_for` (no extra task per request).
- The load generator is `wrk` when it is on the PATH (here: Debian's `wrk` package, installed on
  this machine with `apt-get install wrk`, not by the project's install), else the asyncio client
  in `scripts/bench_serving.py`, which costs more CPU on the same 2 cores; `RAG_BENCH_CLIENT=python`
  forces it."""


def squad_inputs(folder: Path, n_questions: int, articles: int | None = None) -> tuple[list[Any], list[str]]:
    """The articles (all, or the first ``articles``) and questions about them, spread evenly."""
    from rag.evaluation import load_squad, subsample

    evalset = load_squad(folder)
    documents = list(evalset.documents or [])[:articles]
    kept = {d.doc_id for d in documents}
    questions = [q.text for q in subsample([q for q in evalset.questions if q.doc_id in kept], n_questions)]
    return documents, questions


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad", type=Path, help="SQuAD folder (articles for indexing and serving, questions)")
    p.add_argument("--corpus", type=Path, help="a corpus folder instead of --squad")
    p.add_argument("--out", type=Path, default=ROOT / "docs", help="where benchmarks.md and the plots go")
    p.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed afterwards)")
    p.add_argument("--embedder", default="auto")
    p.add_argument("--sizes", default="10000,100000,1000000")
    p.add_argument("--repeats", type=int, default=3, help="runs per serving level (and builds, unless below)")
    p.add_argument("--index-repeats", type=int, default=2, help="builds and raw encodes to take the median of")
    p.add_argument("--cold-build", action="store_true", help="also time a cold `rag build` command")
    p.add_argument("--seconds", type=float, default=8.0, help="seconds per load run")
    p.add_argument("--levels", default="1,4,16")
    p.add_argument("--workers", default="2")
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--articles", type=int, help="index only the first N SQuAD articles (default: all)")
    p.add_argument("--skip", default="", help="comma list of parts to skip: indexing, serving, scale, hnsw")
    p.add_argument("--port", type=int, default=18765)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, fake embedder: checks the harness only")
    p.add_argument("--priority", type=int, default=0, metavar="N",
                   help="raise this run's scheduling priority by N (nice -N, needs root) on a shared machine")
    p.add_argument("--merge", action="store_true",
                   help="keep the parts of OUT/benchmarks.json that this run skips (re-run one part only)")
    p.add_argument("--render", action="store_true", help="only rewrite the report from OUT/benchmarks.json")
    args = p.parse_args(argv)
    if args.render:
        result = json.loads((args.out / "benchmarks.json").read_text())
        result["index_notes"], result["serving_notes"] = INDEX_NOTES, SERVING_NOTES
        _write_report(args.out, result, bench_report.plots(result, args.out))
        dump(args.out / "benchmarks.json", result)
        return 0
    if args.smoke:
        args.embedder, args.sizes, args.repeats, args.index_repeats, args.seconds = "fake", "3000", 1, 1, 1.0
        args.levels, args.questions = "1,4", len(SMOKE_QUESTIONS)
    skip = {s for s in args.skip.split(",") if s}
    if args.priority:
        os.nice(-args.priority)  # inherited by the server, the load generator and the measuring children
    started = time.time()
    work = args.work or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"command": "scripts/bench " + " ".join(argv if argv is not None else sys.argv[1:]),
                              "started": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
                              "load_before": load_average(), "embedder": args.embedder, "index_notes": INDEX_NOTES,
                              "serving_notes": SERVING_NOTES,
                              "nice": os.nice(0)}
    try:
        corpus, questions = _inputs(args, work, result)
        from rag.config import load_settings
        from rag.embedding import get_embedder

        settings = load_settings()  # RAG_QUERY_BATCH / RAG_QUERY_SLOTS as the server reads them
        embedder = get_embedder(args.embedder, query_batch=settings.query_batch, query_slots=settings.query_slots)
        embedder.embed_query("warm up")  # resolves 'auto' (exports the ONNX model once if needed)
        result["backend"] = getattr(embedder, "backend", type(embedder).__name__)
        result["embedder_reason"] = getattr(embedder, "reason", "")
        index_dir = work / "serve-index"
        if "indexing" not in skip:
            say("indexing")
            result["indexing"] = bench_indexing.run(corpus, work / "indexing", embedder, args.embedder,
                                                    repeats=args.index_repeats or args.repeats,
                                                    full=not args.smoke, cold=args.cold_build)
            shutil.copytree(work / "indexing" / "index-0", index_dir, dirs_exist_ok=True)
        else:
            from rag.config import Settings
            from rag.service import build

            build(Settings(embedder=args.embedder, corpus_dir=corpus, index_dir=index_dir), embedder=embedder)
        if "serving" not in skip:
            say("serving")
            (work / "serving").mkdir(exist_ok=True)
            result["serving"] = bench_serving.run(
                index_dir, corpus, questions, args.embedder, work / "serving",
                levels=tuple(int(c) for c in args.levels.split(",")), seconds=args.seconds, repeats=args.repeats,
                workers=tuple(int(w) for w in args.workers.split(",") if w), port=args.port)
        if not args.smoke and "embedding" not in skip:
            say("embedding: ONNX Runtime against torch on the questions")
            result["embedding"] = _embedding_compare(questions)
        if "scale" not in skip:
            say("scale")
            sizes = [int(s) for s in args.sizes.split(",")]
            hnsw_at = None if args.smoke or "hnsw" in skip else min(sizes, key=lambda n: abs(n - 100_000))
            scale = bench_scale.run(sizes, work / "scale", flat_limit=1000 if args.smoke else None, hnsw_at=hnsw_at,
                                    repeats=args.repeats)
            scale.update(_real_vs_synthetic(index_dir, embedder, questions))
            result["scale"] = scale
    finally:
        result["load_after"] = load_average()
        result["minutes"] = (time.time() - started) / 60.0
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / "benchmarks.json"
    if args.merge and previous.is_file():
        old = json.loads(previous.read_text())
        for part in ("indexing", "serving", "embedding", "scale"):
            if part not in result and part in old:
                result[part] = old[part]
                earlier = [m for m in old.get("merged", []) if m.get("part") == part]  # merged there too
                result.setdefault("merged", []).append(earlier[0] if earlier else {
                    "part": part, "started": old.get("started"), "load_before": old.get("load_before"),
                    "load_after": old.get("load_after")})
    _write_report(args.out, result, bench_report.plots(result, args.out))
    dump(args.out / "benchmarks.json", result)
    say(f"wrote {args.out / 'benchmarks.md'} in {result['minutes']:.1f} min")
    for what, target, measured, ok in bench_report.checks(result):
        say(f"{'PASS' if ok else 'FAIL'}  {what}: {measured} (target {target})")
    return 0


def _write_report(out: Path, result: dict[str, Any], images: list[str]) -> None:
    """benchmarks.md, keeping the marked sections other scripts maintain in it (e.g. PostgreSQL)."""
    path = out / "benchmarks.md"
    kept = bench_report.kept_blocks(path.read_text()) if path.is_file() else ""
    text = bench_report.markdown(result, images)
    path.write_text(text + ("\n" + kept + "\n" if kept else ""))


def _inputs(args: argparse.Namespace, work: Path, result: dict[str, Any]) -> tuple[Path, list[str]]:
    if args.squad:
        documents, questions = squad_inputs(args.squad, args.questions, args.articles)
        result["corpus_label"] = (f"SQuAD development articles ({args.squad.name}"
                                  + (f", the first {len(documents)} of them)" if args.articles else ")"))
        return bench_indexing.write_corpus(documents, work / "corpus"), questions
    if not args.corpus:
        raise SystemExit("give --squad DIR (SQuAD articles and questions) or --corpus DIR")
    result["corpus_label"] = f"corpus {args.corpus.name}"
    return args.corpus, SMOKE_QUESTIONS[: args.questions]


def _embedding_compare(questions: list[str]) -> dict[str, Any]:
    """Single-query time of both backends (median, one thread for ONNX) and their parity on the questions."""
    import numpy as np
    from bench_common import median, timed_ms

    from rag import onnx_export
    from rag.embedding import OnnxEmbedder, SentenceTransformerEmbedder

    torch_e = SentenceTransformerEmbedder()
    path, _ = onnx_export.ensure(onnx_export.default_cache_dir(), torch_e)
    onnx_e = OnnxEmbedder(path, onnx_export.model_dir())
    out: dict[str, Any] = {}
    for name, e in (("onnx", onnx_e), ("torch", torch_e), ("onnx_again", onnx_e)):
        times = [t for q in questions[:100] for t in timed_ms(lambda e=e, q=q: e.embed_query(q), 1)]
        out[f"{name}_query_ms"] = round(median(times), 3)
    a = np.stack([onnx_e.embed_query(q) for q in questions])
    b = torch_e.embed_documents(questions)
    cos = (a * b).sum(axis=1)
    out.update({"parity_min_cos": round(float(cos.min()), 6), "parity_mean_cos": round(float(cos.mean()), 6),
                "questions": len(questions)})
    say(f"embedding: onnx {out['onnx_query_ms']} ms, torch {out['torch_query_ms']} ms, min cos {out['parity_min_cos']}")
    return out


def _real_vs_synthetic(index_dir: Path, embedder: Any, questions: list[str]) -> dict[str, Any]:
    """Neighbour profile and IVF difficulty of the real vectors beside synthetic ones of the same size."""
    import numpy as np

    from rag.store import load_index

    index = load_index(index_dir, verify=False)
    real = np.ascontiguousarray(np.vstack([index.chunk_vectors, index.sentence_vectors]), dtype=np.float32)
    if len(real) < 2000 or getattr(embedder, "model_id", "").startswith("fake"):
        return {}
    queries = np.stack([embedder.embed_query(q) for q in questions])
    synthetic, synthetic_queries = bench_scale.synthetic(len(real), len(queries), seed=3)
    nlist = 64
    return {"real_profile": bench_scale.profile(real),
            "difficulty": {"n": len(real), "nlist": nlist, "nprobes": [1, 2, 4, 8, 16],
                           "real": bench_scale.difficulty(real, queries, nlist),
                           "synthetic": bench_scale.difficulty(synthetic, synthetic_queries, nlist)}}


if __name__ == "__main__":
    sys.exit(main())
