"""Indexing: ``rag build`` throughput against the bare model on the same texts.

The corpus (e.g. the SQuAD development articles) is written as one ``.jsonl`` corpus file; each
repeat builds a fresh index from it in-process with a warmed-up embedder (so model loading is
not counted; a cold ``rag build`` command is timed once as well). The floors are the same
embedder's ``embed_documents`` on the chunk texts (the issue's "same chunks"), and on exactly the
texts the build embeds: the sentences only when chunk vectors are sentence means (manifest
``embedding.chunk_vectors: sentence-mean``), else the chunks and the sentences.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import PYTHON, median, say  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.documents import Document  # noqa: E402
from rag.embedding import Embedder  # noqa: E402


def write_corpus(documents: list[Document], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for d in documents:
            fh.write(json.dumps({"doc_id": d.doc_id, "title": d.title, "text": d.text}, ensure_ascii=False) + "\n")
    return folder


def embeds_chunks(index_dir: Path) -> bool:
    """Whether the build embedded chunk texts (False when chunk vectors are means of sentence vectors)."""
    from rag.store import read_manifest

    manifest = read_manifest(index_dir) or {}
    return (manifest.get("embedding") or {}).get("chunk_vectors") != "sentence-mean"


def embedded_texts(index_dir: Path) -> tuple[list[str], list[str]]:
    """The chunk and sentence texts of a build of ``index_dir``."""
    from rag.store import chunk_embed_text, load_index, sentence_embed_text

    index = load_index(index_dir, verify=False)
    chunks = [chunk_embed_text(index.documents[c.doc_id], c) for c in index.chunks]
    sentences = [sentence_embed_text(index.documents[s.doc_id], s, index.sentence_section[i])
                 for i, s in enumerate(index.sentences)]
    return chunks, sentences


def _overhead(settings: Settings, corpus: Path, work: Path, dim: int, texts: list[str], repeats: int = 3) -> float:
    """Seconds a build spends on everything but embedding (chunking, BM25, FAISS, files, fsync).

    Measured with the (fast, hashing) fake embedder, whose own embedding time is subtracted: unlike
    the model's time it hardly moves with the machine's load, so this ratio is the stable one.
    """
    from rag.embedding import FakeEmbedder
    from rag.service import build

    fake = FakeEmbedder(dim=dim)
    totals, embeds = [], []
    for r in range(repeats):
        index_dir = work / f"overhead-{r}"
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        build(settings, corpus_dir=corpus, index_dir=index_dir, embedder=fake, force=True)
        totals.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fake.embed_documents(texts)
        embeds.append(time.perf_counter() - t0)
        shutil.rmtree(index_dir, ignore_errors=True)
    return max(0.0, median(totals) - median(embeds))


def run(corpus: Path, work: Path, embedder: Embedder, embedder_name: str, repeats: int = 3,
        full: bool = True, cold: bool = False) -> dict[str, Any]:
    from rag.service import build

    settings = Settings(embedder=embedder_name, corpus_dir=corpus, index_dir=work / "index")  # type: ignore[arg-type]
    embedder.embed_query("warm up")
    builds: list[float] = []
    raw_chunks: list[float] = []
    raw_all: list[float] = []  # what the build embeds
    cpu: dict[str, list[float]] = {"build": [], "raw_chunks": [], "raw_all": []}  # process CPU seconds
    counts: dict[str, int] = {}
    chunks: list[str] = []
    sentences: list[str] = []
    with_chunks = True
    for r in range(repeats):  # interleaved, so a change in the machine's load hits both alike
        index_dir = work / f"index-{r}"
        shutil.rmtree(index_dir, ignore_errors=True)
        t0, c0 = time.perf_counter(), time.process_time()
        report = build(settings, corpus_dir=corpus, index_dir=index_dir, embedder=embedder, force=True)
        builds.append(time.perf_counter() - t0)
        cpu["build"].append(time.process_time() - c0)
        assert report.path is not None
        counts = json.loads((report.path / "manifest.json").read_text())["counts"]
        if not chunks:
            chunks, sentences = embedded_texts(index_dir)
            with_chunks = embeds_chunks(index_dir)
        t0, c0 = time.perf_counter(), time.process_time()
        embedder.embed_documents(chunks)
        raw_chunks.append(time.perf_counter() - t0)
        cpu["raw_chunks"].append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        embedder.embed_documents(sentences)
        raw_all.append((raw_chunks[-1] if with_chunks else 0.0) + time.perf_counter() - t0)
        cpu["raw_all"].append((cpu["raw_chunks"][-1] if with_chunks else 0.0) + time.process_time() - c0)
        say(f"indexing {r + 1}/{repeats}: build {builds[-1]:.1f}s for {counts['chunks']} chunks; raw encode: "
            f"chunks {raw_chunks[-1]:.1f}s, what the build embeds {raw_all[-1]:.1f}s")
    overhead = _overhead(settings, corpus, work, embedder.dim, (chunks if with_chunks else []) + sentences)
    n = counts["chunks"]
    result: dict[str, Any] = {
        "overhead_s": round(overhead, 2),
        "ratio_overhead": round(median(raw_all) / (median(raw_all) + overhead), 3),
        "documents": counts["documents"], "chunks": n, "sentences": counts["sentences"], "repeats": repeats,
        "backend": getattr(embedder, "backend", type(embedder).__name__),
        "build_s": round(median(builds), 2), "build_chunks_per_s": round(n / median(builds), 1),
        "raw_chunks_s": round(median(raw_chunks), 2), "raw_chunks_per_s": round(n / median(raw_chunks), 1),
        "raw_all_s": round(median(raw_all), 2), "raw_all_chunks_per_s": round(n / median(raw_all), 1),
        "all_builds_s": [round(b, 2) for b in builds],
        "embedded": "chunks + sentences" if with_chunks else "sentences (chunk vectors are sentence means)",
    }
    result["ratio_vs_chunks"] = round(result["build_chunks_per_s"] / result["raw_chunks_per_s"], 3)
    result["ratio_vs_all"] = round(result["build_chunks_per_s"] / result["raw_all_chunks_per_s"], 3)
    # CPU time moves much less with other jobs on the machine than wall time: the same ratios from it.
    result["cpu_s"] = {k: round(median(v), 2) for k, v in cpu.items()}
    result["cpu_ratio_vs_all"] = round(median(cpu["raw_all"]) / median(cpu["build"]), 3)
    result["cpu_ratio_vs_chunks"] = round(median(cpu["raw_chunks"]) / median(cpu["build"]), 3)
    if full and embedder_name != "fake":
        from rag.embedding import SentenceTransformerEmbedder

        st = SentenceTransformerEmbedder()
        st.embed_query("warm up")
        t0, c0 = time.perf_counter(), time.process_time()
        st.embed_documents(chunks)  # SentenceTransformer.encode, batch 32
        result["torch_encode_chunks_per_s"] = round(n / (time.perf_counter() - t0), 1)
        result["cpu_s"]["torch_chunks"] = round(time.process_time() - c0, 2)
        result["ratio_vs_torch_chunks"] = round(result["build_chunks_per_s"] / result["torch_encode_chunks_per_s"], 3)
        result["cpu_ratio_vs_torch_chunks"] = round(result["cpu_s"]["torch_chunks"] / median(cpu["build"]), 3)
        say(f"indexing: torch model.encode on the chunks: {result['torch_encode_chunks_per_s']} chunks/s")
    if not cold:
        return result
    # A cold `rag build` command: process start, imports and model loading included.
    index_dir = work / "index-cli"
    shutil.rmtree(index_dir, ignore_errors=True)
    env = {**os.environ, "RAG_EMBEDDER": embedder_name}
    t0 = time.perf_counter()
    subprocess.run([PYTHON, "-m", "rag", "build", "--corpus", str(corpus), "--index", str(index_dir)], env=env,
                   check=True, capture_output=True, timeout=1800)
    result["cli_build_s"] = round(time.perf_counter() - t0, 2)
    say(f"indexing: cold `rag build`: {result['cli_build_s']}s")
    return result
