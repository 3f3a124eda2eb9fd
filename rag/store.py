"""The index on disk: immutable generations of a self-describing folder, switched atomically.

Layout::

    index/CURRENT                 name of the generation in use (replaced by an atomic rename)
    index/generations/<name>/     manifest.json, documents.jsonl, chunks.jsonl, sentences.jsonl,
                                  dense.faiss (chunks), sentences.faiss, bm25/chunks, bm25/sentences
                                  (+ dense.npy, sentences.npy beside an IVF index)

Nothing is pickled: vectors live in FAISS files (exact ``IndexFlatIP`` for small corpora, IVF for
large ones, see rag.ann; type and parameters recorded under ``dense`` in the manifest) and are
memory-mapped on load, BM25 in .npy arrays (``allow_pickle=False``) and JSON, records in JSON
Lines. ``manifest.json`` records the format, model, chunker settings, per-document hashes and
per-file checksums, and loading verifies all of them. This module chunks, embeds and writes a
generation; record and dense files are in rag.index_format, the CURRENT pointer and garbage
collection in rag.generations, loading in rag.index_reader (all re-exported here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag import __version__
from rag.chunking import ChunkerConfig, chunk_document
from rag.documents import Chunk, Document, Sentence, citation_label
from rag.generations import collect_garbage, current_generation, set_current
from rag.generations import fsync_dir as _fsync_dir
from rag.index_format import DENSE_FILES, FORMAT_VERSION, write_dense
from rag.index_format import document_from_row as _document_from_row  # noqa: F401 - re-exported (rag.stores)
from rag.index_format import document_row as _document_row
from rag.index_format import read_jsonl as _read_jsonl  # noqa: F401 - re-exported
from rag.index_format import sha256_file as _sha256_file
from rag.index_format import write_jsonl as _write_jsonl
from rag.index_reader import Index, check_compatible, load_documents, load_generation, load_index, read_manifest
from rag.lexical import TOKENIZER_ID, LexicalIndex

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rag.embedding import Embedder

__all__ = [
    "CHUNK_VECTORS", "CHUNK_VECTOR_MODES", "DENSE_FILES", "EMBED_TEMPLATE", "FORMAT_VERSION", "Generation", "Index",
    "build_config", "build_config_of", "build_index", "check_compatible", "chunk_embed_text",
    "chunk_vectors_from_sentences", "collect_garbage", "current_generation", "documents_by_id", "fingerprint",
    "load_documents", "load_generation", "load_index", "prepare_generation", "read_manifest", "sentence_embed_text",
    "set_current", "write_generation",
]

EMBED_TEMPLATE = "title-section-v1"
# How chunk vectors are made: "text" embeds each chunk's label and text; "sentence-mean" takes the
# normalised mean of its sentences' vectors, so only sentences are embedded (about half the build
# time; docs/evaluation.md, "chunk-mean-vectors").
CHUNK_VECTOR_MODES = ("text", "sentence-mean")
CHUNK_VECTORS = "sentence-mean"


def chunk_embed_text(doc: Document, chunk: Chunk) -> str:
    """What is embedded for a chunk: its label (title § section) then its text."""
    return f"{citation_label(doc.title, chunk.section)}\n{chunk.text}"


def sentence_embed_text(doc: Document, sentence: Sentence, section: tuple[str, ...]) -> str:
    """What is embedded for a sentence: its label, then the sentence."""
    return f"{citation_label(doc.title, section)}: {sentence.text}"


def build_config(embedder: Embedder, chunker: ChunkerConfig) -> dict[str, Any]:
    """Everything besides the documents that determines the index contents."""
    from rag import chunking  # read at call time: the version is the chunking code's, not this module's copy

    return {
        "format_version": FORMAT_VERSION,
        "model": {"id": embedder.model_id, "dim": embedder.dim, "normalized": True, "metric": "inner_product"},
        "chunker": {"version": chunking.CHUNKER_VERSION, "target_chars": chunker.target_chars,
                    "overlap_sentences": chunker.overlap},
        "embedding": {"template": EMBED_TEMPLATE, "chunk_vectors": CHUNK_VECTORS},
        "lexical": {"library": "bm25s", "tokenizer": TOKENIZER_ID},
    }


def fingerprint(documents: Sequence[Document], config: dict[str, Any]) -> str:
    """A content hash of the configuration and every document (id, hash, title, url, metadata)."""
    payload = {
        "config": config,
        "documents": sorted(
            [d.doc_id, d.sha256, d.title, d.url, json.dumps(d.metadata, sort_keys=True)] for d in documents
        ),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def chunk_vectors_from_sentences(chunks: Sequence[Chunk], sentence_vectors: np.ndarray) -> np.ndarray:
    """Each chunk's vector: the normalised mean of its sentences' vectors."""
    out = np.zeros((len(chunks), sentence_vectors.shape[1]), dtype=np.float32)
    for i, chunk in enumerate(chunks):
        if chunk.sentence_ids:
            out[i] = sentence_vectors[list(chunk.sentence_ids)].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.where(norms > 0, norms, 1.0)).astype(np.float32)


@dataclass
class Generation:
    """A generation computed in the application, ready for a store to publish: records and vectors."""

    documents: list[Document]
    chunks: list[Chunk]
    sentences: list[Sentence]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    config: dict[str, Any]
    fingerprint: str

    def manifest(self, name: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.config,
            "generation": name,
            "fingerprint": self.fingerprint,
            "package_version": __version__,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "counts": {"documents": len(self.documents), "chunks": len(self.chunks),
                       "sentences": len(self.sentences)},
            **extra,
            "documents": [{"doc_id": d.doc_id, "sha256": d.sha256, "chars": len(d.text)} for d in self.documents],
        }

    def name(self, number: int) -> str:
        return f"{number:06d}-{self.fingerprint[:10]}"

    def chunk_rows(self) -> list[dict[str, Any]]:
        return [{"chunk_id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end,
                 "section": list(c.section), "sentence_ids": list(c.sentence_ids)} for c in self.chunks]

    def sentence_rows(self) -> list[dict[str, Any]]:
        return [{"doc_id": s.doc_id, "start": s.start, "end": s.end, "kind": s.kind} for s in self.sentences]

    def lexical(self) -> tuple[LexicalIndex, LexicalIndex]:
        """BM25 over chunks (with their label, as embedded) and over sentences."""
        by_id = documents_by_id(self.documents)
        return (LexicalIndex.build([chunk_embed_text(by_id[c.doc_id], c) for c in self.chunks]),
                LexicalIndex.build([s.text for s in self.sentences]))


def prepare_generation(
    documents: Sequence[Document],
    embedder: Embedder,
    chunker: ChunkerConfig,
    *,
    previous: Index | None = None,
    progress: Callable[[str], None] | None = None,
) -> Generation:
    """Chunk and embed ``documents``; vectors of documents whose hash and settings match
    ``previous`` are reused, not re-embedded. Independent of where the generation is stored."""
    say = progress or (lambda _msg: None)
    config = build_config(embedder, chunker)
    fp = fingerprint(documents, config)
    reusable = previous if previous is not None and build_config_of(previous) == config else None

    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    chunk_vecs: list[np.ndarray] = []
    sent_vecs: list[np.ndarray] = []
    todo_sents: list[tuple[int, str]] = []
    todo_chunks: list[tuple[int, str]] = []
    ordered = sorted(documents, key=lambda d: d.doc_id)
    for doc in ordered:
        doc_sents, doc_chunks = chunk_document(doc, chunker)
        offset = len(sentences)
        sentences.extend(doc_sents)
        old = reusable.documents.get(doc.doc_id) if reusable else None
        reuse = reusable is not None and old is not None and old.sha256 == doc.sha256
        if reuse:
            assert reusable is not None
            old_chunk_ids = reusable.doc_chunks.get(doc.doc_id, [])
            old_sent_ids = sorted({s for ci in old_chunk_ids for s in reusable.chunks[ci].sentence_ids})
            reuse = len(old_chunk_ids) == len(doc_chunks) and len(old_sent_ids) == len(doc_sents)
        if reuse:
            assert reusable is not None
            chunk_vecs.append(np.asarray(reusable.chunk_vectors[old_chunk_ids], dtype=np.float32))
            sent_vecs.append(np.asarray(reusable.sentence_vectors[old_sent_ids], dtype=np.float32))
        section_of: dict[int, tuple[str, ...]] = {}
        for c in doc_chunks:
            for si in c.sentence_ids:
                section_of[si] = c.section
        for i, sentence in enumerate(doc_sents):
            if not reuse:
                todo_sents.append((offset + i, sentence_embed_text(doc, sentence, section_of.get(i, ()))))
        for c in doc_chunks:
            if not reuse and CHUNK_VECTORS == "text":
                todo_chunks.append((len(chunks), chunk_embed_text(doc, c)))
            chunks.append(Chunk(c.chunk_id, c.doc_id, c.start, c.end, c.text, c.section,
                                tuple(offset + s for s in c.sentence_ids)))
        if not reuse:
            chunk_vecs.append(np.zeros((len(doc_chunks), embedder.dim), dtype=np.float32))
            sent_vecs.append(np.zeros((len(doc_sents), embedder.dim), dtype=np.float32))

    dim = embedder.dim
    all_chunk_vecs = np.concatenate(chunk_vecs) if chunk_vecs else np.zeros((0, dim), np.float32)
    all_sent_vecs = np.concatenate(sent_vecs) if sent_vecs else np.zeros((0, dim), np.float32)
    if todo_sents or todo_chunks:
        say(f"embedding {len(todo_sents)} sentences" + (f" and {len(todo_chunks)} chunks" if todo_chunks else ""))
        vectors = embedder.embed_documents([t for _, t in todo_sents] + [t for _, t in todo_chunks])
        if todo_sents:
            all_sent_vecs[[i for i, _ in todo_sents]] = vectors[:len(todo_sents)]
        if todo_chunks:
            all_chunk_vecs[[i for i, _ in todo_chunks]] = vectors[len(todo_sents):]
        elif CHUNK_VECTORS == "sentence-mean":
            all_chunk_vecs = chunk_vectors_from_sentences(chunks, all_sent_vecs)
    return Generation(ordered, chunks, sentences, all_chunk_vecs, all_sent_vecs, config, fp)


def build_index(
    documents: Sequence[Document],
    index_dir: Path,
    embedder: Embedder,
    chunker: ChunkerConfig,
    *,
    previous: Index | None = None,
    progress: Callable[[str], None] | None = None,
    keep_generations: int = 3,
    gc_grace_seconds: float = 0.0,
) -> Path:
    """Chunk, embed and index ``documents`` into a new generation folder; return the folder."""
    generation = prepare_generation(documents, embedder, chunker, previous=previous, progress=progress)
    return write_generation(generation, index_dir, progress=progress, keep_generations=keep_generations,
                            gc_grace_seconds=gc_grace_seconds)


def write_generation(
    generation: Generation,
    index_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    keep_generations: int = 3,
    gc_grace_seconds: float = 0.0,
) -> Path:
    """Write ``generation`` under ``index_dir/generations`` and make it current.

    It is written to a temporary folder and published by atomic renames, so a crash at any point
    leaves the previous generation in use.
    """
    say = progress or (lambda _msg: None)
    say("writing index files")
    index_dir.mkdir(parents=True, exist_ok=True)
    generations = index_dir / "generations"
    generations.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=generations))
    try:
        _write_jsonl(tmp / "documents.jsonl", [_document_row(d) for d in generation.documents])
        _write_jsonl(tmp / "chunks.jsonl", generation.chunk_rows())
        _write_jsonl(tmp / "sentences.jsonl", generation.sentence_rows())
        dense = write_dense(tmp, generation.chunk_vectors, generation.sentence_vectors, say)
        chunk_bm25, sentence_bm25 = generation.lexical()
        chunk_bm25.save(tmp / "bm25" / "chunks")
        sentence_bm25.save(tmp / "bm25" / "sentences")

        number = 1 + max((int(p.name.split("-")[0]) for p in generations.iterdir()
                          if p.is_dir() and p.name[:1].isdigit()), default=0)
        name = generation.name(number)
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
            files[str(path.relative_to(tmp))] = _sha256_file(path)
        manifest = generation.manifest(name, dense=dense)
        manifest["files"] = files
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        with (tmp / "manifest.json").open("rb") as fh:
            os.fsync(fh.fileno())
        final = generations / name
        os.rename(tmp, final)
        _fsync_dir(generations)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    set_current(index_dir, name)
    collect_garbage(index_dir, keep=keep_generations, grace_seconds=gc_grace_seconds)
    say(f"built generation {name}: {len(generation.documents)} documents, {len(generation.chunks)} chunks, "
        f"{len(generation.sentences)} sentences")
    return final


def documents_by_id(documents: Sequence[Document]) -> dict[str, Document]:
    return {d.doc_id: d for d in documents}


def build_config_of(index: Index) -> dict[str, Any]:
    keys = ("format_version", "model", "chunker", "embedding", "lexical")
    return {k: index.manifest.get(k) for k in keys}
