"""Dense vector indexes by size: exact inner product while it is fast enough, IVF above; FAISS threads.

* Up to ``FLAT_LIMIT`` vectors: ``IndexFlatIP`` (exact). Its file ends with the raw float32
  vectors, so loading memory-maps them (``vectors_of``) instead of reading a copy.
* Above: an inverted file (inner product, spherical k-means with ``nlist`` ≈ 2·√n lists trained
  on a sample) whose lists hold 8-bit scalar-quantised vectors (a quarter of the memory and scan
  time of float32); each search fetches ``RERANK`` × k candidates and rescores them exactly with
  the row-ordered float32 vectors, which live beside the index as ``.npy`` and are memory-mapped
  (only the rows a query touches are read). ``nprobe`` is tuned at build time by measurement:
  the smallest value whose recall@10 (after rescoring) against exact search on held-out queries
  reaches ``BUILD_RECALL``. The lists are read into memory (FAISS's memory-mapped inverted lists
  searched 3x slower here).

Single-query search runs on one OpenMP thread (two threads measured about 2x slower on a single
query here, from spin-up and contention); OpenMP's thread count is per calling thread, so
``SearchIndex`` sets it on each call rather than once at start-up.
"""

from __future__ import annotations

import dataclasses
import math
import os
import struct
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

FLAT_LIMIT = 20_000  # exact single-query search costs ~1.5 ms per 10k vectors here; IVF wins above this
IVF_CODES = "sq8"  # 8-bit codes in the lists: a quarter of the memory and scan time of float32
RERANK = 4  # candidates per wanted result rescored exactly (recovers what 8-bit codes blur)
BUILD_RECALL = 0.98  # nprobe is tuned to this on held-out queries, a margin over the 0.95 target
NPROBES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
TUNE_QUERIES = 200
SEARCH_THREADS = 1


@dataclass(frozen=True)
class AnnParams:
    """What the manifest records about one dense index."""

    type: str  # "flat" | "ivf"
    metric: str = "inner_product"
    nlist: int = 0
    nprobe: int = 0
    train_size: int = 0
    recall_at_10: float | None = None  # measured at build time on held-out queries (IVF only)
    vectors: str = "index"  # "index": the FAISS file holds the rows in order; "npy": a separate .npy
    codes: str = "flat"  # how IVF lists store vectors: "flat" (float32) or "sq8" (8-bit, rescored exactly)
    rerank: int = 1  # an IVF search fetches k x rerank candidates and rescores them with the exact vectors

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AnnParams:
        """Parameters from a manifest (an index written before they were recorded is flat)."""
        if not data:
            return cls("flat")
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def choose_type(n: int) -> str:
    return "flat" if n <= FLAT_LIMIT else "ivf"


def nlist_for(n: int) -> int:
    """A power of two near 2·√n (2048 lists for a million), with at least ~40 training points per list."""
    target = 2.0 * math.sqrt(max(n, 1))
    nlist = 2 ** round(math.log2(max(target, 1.0)))
    return int(max(1, min(nlist, n // 40 or 1)))


def cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class SearchIndex:
    """A FAISS index whose ``search`` runs on ``threads`` OpenMP threads in whatever thread calls it.

    Every other attribute (``ntotal``, ``d``, ``nprobe``, ...) is the wrapped index's.
    """

    def __init__(self, index: Any, params: AnnParams, threads: int = SEARCH_THREADS,
                 vectors: np.ndarray | None = None) -> None:
        self.index = index
        self.params = params
        self.threads = threads
        self.vectors = vectors  # exact rows, for rescoring quantised candidates

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        faiss.omp_set_num_threads(self.threads if len(x) == 1 else cpu_threads())
        x = np.ascontiguousarray(x, dtype=np.float32)
        ntotal = int(self.index.ntotal)
        k = max(1, min(int(k), ntotal or 1))
        if self.vectors is None or self.params.rerank <= 1:
            return self.index.search(x, k)  # type: ignore[no-any-return]
        _, found = self.index.search(x, min(ntotal, k * self.params.rerank) or 1)
        scores = np.full((len(x), k), -np.inf, dtype=np.float32)
        ids = np.full((len(x), k), -1, dtype=np.int64)
        for row, (query, cands) in enumerate(zip(x, found, strict=True)):
            cands = np.sort(cands[cands >= 0])  # sorted ids: sequential reads of the memory-mapped rows
            exact = self.vectors[cands] @ query
            best = np.argsort(-exact, kind="stable")[:k]
            scores[row, :len(best)], ids[row, :len(best)] = exact[best], cands[best]
        return scores, ids

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)


def exact_search(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ids of the ``k`` highest inner products of each query (ground truth for recall)."""
    import faiss

    faiss.omp_set_num_threads(cpu_threads())
    flat = faiss.IndexFlatIP(vectors.shape[1])
    ids = np.empty((len(queries), k), dtype=np.int64)
    step = 1 << 17
    best = np.full((len(queries), k), -np.inf, dtype=np.float32)
    for start in range(0, len(vectors), step):  # blockwise: no second full copy of a large array
        flat.reset()
        flat.add(np.ascontiguousarray(vectors[start:start + step], dtype=np.float32))
        d, i = flat.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        both_d = np.concatenate([best, d], axis=1)
        both_i = np.concatenate([ids, i + start], axis=1)
        order = np.argsort(-both_d, axis=1, kind="stable")[:, :k]
        best, ids = np.take_along_axis(both_d, order, 1), np.take_along_axis(both_i, order, 1)
    return ids


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Mean share of each query's exact top-``k`` that the approximate top-``k`` contains."""
    if len(truth) == 0:
        return 1.0
    hits = [len(set(f[:k].tolist()) & set(t[:k].tolist())) / min(k, len(t)) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def tune_nprobe(index: Any, vectors: np.ndarray, queries: np.ndarray, target: float = BUILD_RECALL,
                k: int = 10, params: AnnParams | None = None) -> tuple[int, float]:
    """The smallest nprobe whose recall@k on ``queries`` reaches ``target`` (and that recall)."""
    truth = exact_search(vectors, queries, k)
    searcher = SearchIndex(index, params or AnnParams("ivf"), vectors=vectors)
    recall = 0.0
    nprobe = 1
    for nprobe in [p for p in NPROBES if p <= index.nlist] or [index.nlist]:
        index.nprobe = nprobe
        _, found = searcher.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        recall = recall_at(found, truth, k)
        if recall >= target:
            break
    return nprobe, recall


def held_out_queries(vectors: np.ndarray, n: int = TUNE_QUERIES, seed: int = 0) -> np.ndarray:
    """Stand-in queries when none are given: stored vectors moved off themselves, renormalised."""
    rng = np.random.default_rng(seed)
    picks = np.asarray(vectors[np.sort(rng.choice(len(vectors), size=min(n, len(vectors)), replace=False))])
    mixed = picks + 0.5 * np.asarray(vectors[np.sort(rng.choice(len(vectors), size=len(picks)))])
    mixed += rng.standard_normal(mixed.shape).astype(np.float32) * (0.5 / math.sqrt(vectors.shape[1]))
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def build(vectors: np.ndarray, queries: np.ndarray | None = None, *, kind: str | None = None,
          nlist: int | None = None, codes: str = IVF_CODES, seed: int = 1234) -> tuple[Any, AnnParams]:
    """A FAISS index over L2-normalised ``vectors`` and the parameters to record for it."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    kind = kind or choose_type(n)
    faiss.omp_set_num_threads(cpu_threads())  # building uses every core
    if kind == "flat":
        flat = faiss.IndexFlatIP(dim)
        if n:
            flat.add(vectors)
        return flat, AnnParams("flat")
    if kind != "ivf":
        raise ValueError(f"unknown dense index type {kind!r}: use 'flat' or 'ivf'")
    nlist = nlist or nlist_for(n)
    rng = np.random.default_rng(seed)
    train_size = min(n, 64 * nlist)
    sample = vectors[np.sort(rng.choice(n, size=train_size, replace=False))] if train_size < n else vectors
    quantizer = faiss.IndexFlatIP(dim)
    ivf: faiss.IndexIVF
    if codes == "sq8":
        ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                            faiss.METRIC_INNER_PRODUCT)
    elif codes == "flat":
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    else:
        raise ValueError(f"unknown IVF codes {codes!r}: use 'flat' or 'sq8'")
    ivf.cp.spherical = True
    ivf.cp.niter = 12
    ivf.cp.seed = seed
    ivf.cp.max_points_per_centroid = 64
    ivf.train(sample)
    ivf.add(vectors)
    ivf.own_fields = True
    quantizer.this.disown()  # type: ignore[attr-defined]  # the IVF index owns it now
    tune = queries if queries is not None and len(queries) else held_out_queries(vectors, seed=seed)
    params = AnnParams("ivf", nlist=nlist, train_size=train_size, vectors="npy", codes=codes,
                       rerank=RERANK if codes == "sq8" else 1)
    nprobe, recall = tune_nprobe(ivf, vectors, tune, params=params)
    ivf.nprobe = nprobe
    return ivf, dataclasses.replace(params, nprobe=nprobe, recall_at_10=round(recall, 4))


def write(index: Any, params: AnnParams, vectors: np.ndarray, path: Path) -> list[Path]:
    """Write the index to ``path`` (and, for IVF, the row-ordered vectors beside it); return the files."""
    import faiss

    faiss.write_index(index, str(path))
    if params.vectors != "npy":
        return [path]
    npy = vectors_path(path)
    np.save(npy, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    return [path, npy]


def vectors_path(path: Path) -> Path:
    return path.with_suffix(".npy")


def read(path: Path, params: AnnParams, *, vectors: np.ndarray | None = None, mmap_ivf: bool = False,
         ) -> SearchIndex:
    """Load an index written by ``write``: a flat one memory-mapped, IVF lists in memory (or mapped).

    ``vectors`` (from ``vectors_of``) are the exact rows an 8-bit IVF index rescores its candidates with.
    """
    import faiss

    flags = faiss.IO_FLAG_MMAP_IFC if params.type == "flat" else (faiss.IO_FLAG_MMAP if mmap_ivf else 0)
    index = faiss.read_index(str(path), flags)
    if params.type == "ivf":
        faiss.extract_index_ivf(index).nprobe = max(1, params.nprobe)
    if vectors is None and params.rerank > 1:
        vectors = vectors_of(path, params, int(index.ntotal), int(index.d))
    return SearchIndex(index, params, vectors=vectors)


def vectors_of(path: Path, params: AnnParams, n: int, dim: int) -> np.ndarray:
    """The ``(n, dim)`` float32 rows behind an index file, memory-mapped read-only (no copy)."""
    if params.vectors == "npy":
        rows = np.load(vectors_path(path), mmap_mode="r", allow_pickle=False)
        mapping = getattr(rows, "_mmap", None)
        if mapping is not None and hasattr(mapping, "madvise"):
            import mmap

            mapping.madvise(mmap.MADV_RANDOM)  # rescoring reads scattered rows: no read-ahead around them
        return np.asarray(rows)
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(_FLAT_HEADER.size)
    ok = len(head) == _FLAT_HEADER.size
    if ok:
        fourcc, d, ntotal, _, _, _, _, floats = _FLAT_HEADER.unpack(head)
        ok = (fourcc, d, ntotal, floats) == (b"IxFI", dim, n, n * dim) and size == len(head) + 4 * floats
    if not ok:
        raise ValueError(f"{path} is not a flat inner-product index of {n} x {dim} vectors")
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return np.asarray(np.memmap(path, dtype=np.float32, mode="r", offset=_FLAT_HEADER.size, shape=(n, dim)))


# faiss IndexFlatIP file: fourcc, d, ntotal, two reserved, is_trained, metric, number of floats.
_FLAT_HEADER = struct.Struct("<4siqqq?iq")


def timed_build(vectors: np.ndarray, queries: np.ndarray | None = None, **kwargs: Any,
                ) -> tuple[Any, AnnParams, float]:
    """``build`` and the seconds it took."""
    t0 = time.perf_counter()
    index, params = build(vectors, queries, **kwargs)
    return index, params, time.perf_counter() - t0
