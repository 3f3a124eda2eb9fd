"""Scale: dense search over 10k / 100k / 1M chunk vectors (synthetic, shaped like the model's).

For each size the production code path (``rag.ann``: type chosen by size, IVF nprobe tuned on
one set of queries) builds and writes the index; a fresh child process then loads it (memory-
mapped) and measures load time, RSS, single-query latency on one thread (query embedding
excluded) and recall@10 against exact search on a second, unseen set of queries.

The vectors are synthetic because embedding a million chunks would take hours here: a mixture
of wide clusters in a 64-dimensional latent space mapped into 384 dimensions, plus noise and a
shared offset, L2-normalised (``SHAPE``). Its neighbour profile (``profile``: mean cosine of
random pairs and of the 1st, 10th, 100th neighbour) resembles real SQuAD embeddings of the
bundled model, and it was tuned to be somewhat *harder* for IVF than they are: ``difficulty``
compares recall@10 against nprobe on both at the same size. Queries come from the same mixture
with extra noise, like a question near, not on, its passage.

    python scripts/bench_scale.py --child DIR        (internal: measure one built index)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import PYTHON, disk_mb, dump, percentile, rss_mb, say  # noqa: E402

DIM = 384
# Latent mixture: cluster centres in a 64-d latent space (decaying spectrum) mapped into 384-d,
# points spread widely around them, plus isotropic noise and a shared offset. Chosen to be a bit
# *harder* for IVF than real SQuAD embeddings of the bundled model (see ``difficulty``).
SHAPE = {"latent": 64, "points_per_cluster": 75, "within": 1.1, "noise": 0.35, "decay": 0.6, "offset": 0.2,
         "query_noise": 0.2}


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def synthetic(n: int, n_queries: int = 400, dim: int = DIM, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` chunk vectors and ``n_queries`` (noisier) query vectors from the same latent mixture."""
    rng = np.random.default_rng(seed)
    latent = int(SHAPE["latent"])
    spectrum = (np.arange(1, latent + 1, dtype=np.float32) ** -np.float32(SHAPE["decay"]))
    basis = np.linalg.qr(rng.standard_normal((dim, latent)))[0].astype(np.float32) * spectrum
    centres = rng.standard_normal((max(2, n // int(SHAPE["points_per_cluster"])), latent)).astype(np.float32)
    offset = _unit(rng.standard_normal(dim).astype(np.float32)) * np.float32(SHAPE["offset"])

    def draw(count: int, extra: float) -> np.ndarray:
        out = np.empty((count, dim), np.float32)
        for s in range(0, count, 1 << 16):
            m = min(1 << 16, count - s)
            z = centres[rng.integers(0, len(centres), m)]
            z = z + np.float32(SHAPE["within"]) * rng.standard_normal((m, latent), dtype=np.float32)
            sigma = np.float32((SHAPE["noise"] + extra) / np.sqrt(dim))
            noise = rng.standard_normal((m, dim), dtype=np.float32) * sigma
            out[s:s + m] = _unit(_unit(z @ basis.T) + noise + offset)
        return out

    return draw(n, 0.0), draw(n_queries, float(SHAPE["query_noise"]))


def difficulty(vectors: np.ndarray, queries: np.ndarray, nlist: int = 64,
               nprobes: tuple[int, ...] = (1, 2, 4, 8, 16)) -> list[float]:
    """IVF recall@10 at each nprobe (fixed ``nlist``): how hard the data is for an inverted file."""
    from rag import ann

    truth = ann.exact_search(vectors, queries, 10)
    index, _ = ann.build(vectors, queries[:50], kind="ivf", nlist=nlist)
    out = []
    for p in nprobes:
        index.nprobe = p
        out.append(round(ann.recall_at(index.search(np.ascontiguousarray(queries), 10)[1], truth), 3))
    return out


def profile(vectors: np.ndarray, samples: int = 300, seed: int = 0) -> dict[str, float]:
    """Mean cosine of random pairs and of each sampled vector's 1st, 10th and 100th neighbour."""
    from rag import ann

    rng = np.random.default_rng(seed)
    n = len(vectors)
    picks = rng.choice(n, size=min(samples, n), replace=False)
    k = min(101, n)
    ids = ann.exact_search(vectors, vectors[picks], k)
    sims = np.einsum("qd,qkd->qk", vectors[picks], vectors[ids])
    pairs = rng.integers(0, n, (5000, 2))
    out = {"random_pair": float(np.mean(np.einsum("nd,nd->n", vectors[pairs[:, 0]], vectors[pairs[:, 1]])))}
    for j in (1, 10, 100):
        if j < k:
            out[f"nn{j}"] = float(np.mean(sims[:, j]))
    return {key: round(v, 3) for key, v in out.items()}


def build_size(n: int, work: Path, *, flat_limit: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Generate, build and write one size; return what the parent knows (build time, files)."""
    from rag import ann

    folder = work / f"n{n}"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    vectors, queries = synthetic(n, seed=seed)
    gen_s = time.perf_counter() - t0
    tune, fresh = queries[:200], queries[200:]
    if flat_limit is not None:
        ann.FLAT_LIMIT = flat_limit
    index, params, build_s = ann.timed_build(vectors, tune)
    files = ann.write(index, params, vectors, folder / "dense.faiss")
    del index
    truth = ann.exact_search(vectors, fresh, 10)
    np.save(folder / "queries.npy", fresh)
    np.save(folder / "truth.npy", truth)
    (folder / "params.json").write_text(json.dumps({"n": n, "dim": vectors.shape[1], **params.to_dict()}))
    return {"n": n, "generate_s": round(gen_s, 2), "build_s": round(build_s, 2), "disk_mb": disk_mb(files),
            "params": params.to_dict(), "files": [f.name for f in files]}


def measure(folder: Path, runs: int = 1000, flat_runs: int = 30) -> dict[str, Any]:
    """In a fresh process: load (memory-mapped), RSS, single-query latency, recall@10, exact baseline."""
    before = rss_mb()
    import faiss

    from rag import ann

    meta = json.loads((folder / "params.json").read_text())
    params = ann.AnnParams.from_dict(meta)
    queries = np.load(folder / "queries.npy")
    truth = np.load(folder / "truth.npy")
    after_imports = rss_mb()
    t0 = time.perf_counter()
    index = ann.read(folder / "dense.faiss", params)
    vectors = ann.vectors_of(folder / "dense.faiss", params, meta["n"], meta["dim"])
    load_s = time.perf_counter() - t0
    loaded = rss_mb()
    found = np.vstack([index.search(q[None, :], 10)[1] for q in queries])
    recall = ann.recall_at(found, truth, 10)
    lat = []
    for i in range(runs):
        q = queries[i % len(queries)][None, :]
        t = time.perf_counter()
        index.search(q, 10)
        lat.append((time.perf_counter() - t) * 1000.0)
    served = rss_mb()
    # Exact rescoring of 100 candidates, as retrieval does after the index search.
    cands = np.vstack([index.search(q[None, :], 100)[1] for q in queries[:100]])
    rescore = []
    for q, c in zip(queries[:100], cands, strict=True):
        t = time.perf_counter()
        vectors[np.sort(c[c >= 0])] @ q
        rescore.append((time.perf_counter() - t) * 1000.0)
    # The exact baseline, on one thread: what a flat index would cost at this size.
    flat = faiss.IndexFlatIP(meta["dim"])
    flat.add(np.ascontiguousarray(vectors))
    faiss.omp_set_num_threads(1)
    exact = []
    for q in queries[:flat_runs]:
        t = time.perf_counter()
        flat.search(q[None, :], 10)
        exact.append((time.perf_counter() - t) * 1000.0)
    return {
        "load_s": round(load_s, 4), "recall_at_10": round(recall, 4), "queries": len(queries), "runs": runs,
        "p50_ms": round(percentile(lat, 50), 3), "p95_ms": round(percentile(lat, 95), 3),
        "p99_ms": round(percentile(lat, 99), 3), "rescore_p50_ms": round(percentile(rescore, 50), 3),
        "exact_p50_ms": round(percentile(exact, 50), 3),
        "rss_start_mb": before["rss_mb"], "rss_imports_mb": after_imports["rss_mb"], "rss_loaded_mb": loaded["rss_mb"],
        "rss_after_queries_mb": served["rss_mb"], "anon_after_queries_mb": served["anon_mb"],
        "file_after_queries_mb": served["file_mb"],
    }


def hnsw_compare(n: int, m: int = 32, ef_construction: int = 40) -> dict[str, Any]:
    """HNSW (M=32) on the same data as the IVF row of size ``n``: build time, tuned efSearch, latency, recall."""
    import faiss

    from rag import ann

    vectors, queries = synthetic(n)
    tune, fresh = queries[:200], queries[200:]
    faiss.omp_set_num_threads(ann.cpu_threads())
    t0 = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(vectors)
    build_s = time.perf_counter() - t0
    truth = ann.exact_search(vectors, tune, 10)
    ef = 16
    for ef in (16, 24, 32, 48, 64, 96, 128, 192, 256):
        index.hnsw.efSearch = ef
        if ann.recall_at(index.search(tune, 10)[1], truth) >= ann.BUILD_RECALL:
            break
    searcher = ann.SearchIndex(index, ann.AnnParams("hnsw"))
    found = np.vstack([searcher.search(q[None, :], 10)[1] for q in fresh])
    lat = []
    for i in range(1000):
        t = time.perf_counter()
        searcher.search(fresh[i % len(fresh)][None, :], 10)
        lat.append((time.perf_counter() - t) * 1000.0)
    return {"n": n, "m": m, "ef_construction": ef_construction, "ef_search": ef, "build_s": round(build_s, 2),
            "recall_at_10": round(ann.recall_at(found, ann.exact_search(vectors, fresh, 10)), 4),
            "p50_ms": round(percentile(lat, 50), 3), "p99_ms": round(percentile(lat, 99), 3),
            "disk_mb": round(len(faiss.serialize_index(index)) / 1024 / 1024, 1)}


def run(sizes: list[int], work: Path, *, flat_limit: int | None = None, hnsw_at: int | None = None,
        repeats: int = 3) -> dict[str, Any]:
    import subprocess

    rows = []
    for n in sizes:
        say(f"scale: building {n:,} vectors")
        row = build_size(n, work, flat_limit=flat_limit)
        say(f"scale: measuring {n:,} ({row['params']['type']}, built in {row['build_s']}s)")
        measured = []
        for _ in range(repeats):  # fresh processes; medians of each number
            out = subprocess.run([PYTHON, __file__, "--child", str(work / f"n{n}")], capture_output=True, text=True,
                                 check=True, timeout=1800)
            measured.append(json.loads(out.stdout.strip().splitlines()[-1]))
        row.update({key: round(float(np.median([m[key] for m in measured])), 4) for key in measured[0]})
        row["measurements"] = repeats
        row["p99_each_ms"] = [m["p99_ms"] for m in measured]
        rows.append(row)
        say(f"scale: {n:,}: p99 {row['p99_ms']} ms, recall@10 {row['recall_at_10']}, RSS {row['rss_loaded_mb']} MB")
    sample, _ = synthetic(min(sizes[0], 20_000), seed=1)
    out: dict[str, Any] = {"rows": rows, "synthetic_profile": profile(sample), "shape": SHAPE}
    if hnsw_at:
        say(f"scale: HNSW at {hnsw_at:,} for comparison")
        out["hnsw"] = hnsw_compare(hnsw_at)
        say(f"scale: HNSW built in {out['hnsw']['build_s']}s, p99 {out['hnsw']['p99_ms']} ms")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", type=Path, help="measure the index built in this folder (internal)")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-bench-scale"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    result = run([int(s) for s in args.sizes.split(",")], args.work)
    if args.out:
        dump(args.out, result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
