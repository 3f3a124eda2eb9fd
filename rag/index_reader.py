"""Loading a generation back: the Index, manifest and checksum checks, fallback to an older generation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.documents import Chunk, Document, Sentence
from rag.errors import IncompatibleIndexError, IndexError_, NotFoundError
from rag.generations import current_generation
from rag.index_format import DENSE_FILES, FORMAT_VERSION, document_from_row, read_jsonl, sha256_file
from rag.lexical import LexicalIndex

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rag.embedding import Embedder


@dataclass
class Index:
    """A loaded generation: records, vectors, FAISS and BM25 indexes, ready to search."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    sentences: list[Sentence]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    chunk_faiss: Any
    sentence_faiss: Any
    chunk_bm25: LexicalIndex
    sentence_bm25: LexicalIndex
    sentence_chunks: list[list[int]] = field(default_factory=list)
    sentence_section: list[tuple[str, ...]] = field(default_factory=list)
    doc_chunks: dict[str, list[int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sentence_chunks = [[] for _ in self.sentences]
        self.sentence_section = [()] * len(self.sentences)
        for ci, chunk in enumerate(self.chunks):
            self.doc_chunks.setdefault(chunk.doc_id, []).append(ci)
            for si in chunk.sentence_ids:
                self.sentence_chunks[si].append(ci)
                self.sentence_section[si] = chunk.section

    def check_doc_ids(self, doc_ids: Iterable[str] | None) -> None:
        """Raise NotFoundError naming every id of ``doc_ids`` that is not an indexed document."""
        unknown = sorted({d for d in doc_ids or () if d not in self.documents})
        if unknown:
            raise NotFoundError(f"unknown document id(s): {', '.join(unknown)} (`rag list` or GET /v1/documents "
                                "shows the indexed ids)")

    @property
    def version(self) -> str:
        return str(self.manifest["generation"])

    @property
    def model_id(self) -> str:
        return str(self.manifest["model"]["id"])


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The current generation's manifest, or None when there is no index."""
    path = current_generation(index_dir)
    if path is None or not (path / "manifest.json").is_file():
        return None
    try:
        return json.loads((path / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def check_compatible(manifest: dict[str, Any], embedder: Embedder, index_dir: Path) -> None:
    fix = f"run `rag build --index {index_dir}` to rebuild it"
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IncompatibleIndexError(
            f"index format {manifest.get('format_version')} is not the supported format {FORMAT_VERSION}: {fix}"
        )
    model = manifest.get("model") or {}
    if model.get("id") != embedder.model_id or model.get("dim") != embedder.dim:
        raise IncompatibleIndexError(
            f"index was built with model {model.get('id')} (dim {model.get('dim')}), but this service uses "
            f"{embedder.model_id} (dim {embedder.dim}): {fix}"
        )


def load_index(
    index_dir: Path, embedder: Embedder | None = None, *, verify: bool = True, fallback: bool = False
) -> Index:
    """Load the current generation; refuse a missing, corrupted or incompatible one.

    With ``fallback``, a current generation that fails to load is skipped for the newest older
    generation that loads (its problem is kept in ``Index.warnings``); the error is raised only
    when no generation is usable.
    """
    path = current_generation(index_dir)
    if path is None or not (path / "manifest.json").is_file():
        raise IndexError_(f"no index at {index_dir}: run `rag build --index {index_dir}`")
    try:
        return load_generation(path, index_dir, embedder, verify=verify)
    except IndexError_ as exc:
        if not fallback:
            raise
        first_error = exc
    generations = sorted((p for p in (index_dir / "generations").iterdir()
                          if p.is_dir() and p.name[:1].isdigit() and p.name < path.name), reverse=True)
    for older in generations:
        try:
            index = load_generation(older, index_dir, embedder, verify=verify)
        except IndexError_:
            continue
        index.warnings.append(f"generation {path.name} was refused ({first_error}); serving {older.name}")
        return index
    raise first_error


def load_generation(path: Path, index_dir: Path, embedder: Embedder | None = None, *, verify: bool = True) -> Index:
    """Load one generation folder, verifying its manifest, model and file checksums."""
    if not (path / "manifest.json").is_file():
        raise IndexError_(f"no manifest in {path}: run `rag build --index {index_dir}`")
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexError_(f"unreadable manifest in {path}: run `rag build --index {index_dir}`") from exc
    if embedder is not None:
        check_compatible(manifest, embedder, index_dir)
    if verify:  # a damaged generation has the corpus's fingerprint: only --force rebuilds it
        for name, expected in (manifest.get("files") or {}).items():
            file = path / name
            if not file.is_file() or sha256_file(file) != expected:
                raise IndexError_(f"index file {file} is missing or corrupted: "
                                  f"run `rag build --force --index {index_dir}`")
    from rag import ann

    dense = manifest.get("dense") or {}
    dim = int((manifest.get("model") or {}).get("dim") or 0)
    try:
        documents = {row["doc_id"]: document_from_row(row) for row in read_jsonl(path / "documents.jsonl")}
        sentences = []
        for row in read_jsonl(path / "sentences.jsonl"):
            text = documents[row["doc_id"]].text
            start, end = row["start"], row["end"]
            sentences.append(Sentence(row["doc_id"], start, end, text[start:end], row["kind"]))
        chunks = []
        for row in read_jsonl(path / "chunks.jsonl"):
            text = documents[row["doc_id"]].text
            chunks.append(Chunk(row["chunk_id"], row["doc_id"], row["start"], row["end"],
                                text[row["start"]:row["end"]], tuple(row["section"]), tuple(row["sentence_ids"])))
        searchers, vectors = {}, {}
        for name, count in (("chunks", len(chunks)), ("sentences", len(sentences))):
            params = ann.AnnParams.from_dict(dense.get(name))
            file = path / DENSE_FILES[name]
            vectors[name] = ann.vectors_of(file, params, count, dim)
            searchers[name] = ann.read(file, params, vectors=vectors[name])
            if searchers[name].ntotal != count:
                raise IndexError_(f"index at {path} is inconsistent: run `rag build --force --index {index_dir}`")
        chunk_bm25 = LexicalIndex.load(path / "bm25" / "chunks")
        sentence_bm25 = LexicalIndex.load(path / "bm25" / "sentences")
    except (OSError, KeyError, ValueError, RuntimeError, TypeError, json.JSONDecodeError) as exc:
        raise IndexError_(f"index at {path} cannot be loaded ({exc}): "
                          f"run `rag build --force --index {index_dir}`") from exc
    return Index(
        path=path,
        manifest=manifest,
        documents=documents,
        chunks=chunks,
        sentences=sentences,
        chunk_vectors=vectors["chunks"],
        sentence_vectors=vectors["sentences"],
        chunk_faiss=searchers["chunks"],
        sentence_faiss=searchers["sentences"],
        chunk_bm25=chunk_bm25,
        sentence_bm25=sentence_bm25,
    )


def load_documents(index_dir: Path, name: str) -> dict[str, Document]:
    """Only the documents of generation ``name`` (checksum verified), e.g. to resolve an older citation."""
    path = index_dir / "generations" / name
    if not name[:1].isdigit() or "/" in name or not (path / "manifest.json").is_file():
        raise IndexError_(f"no generation {name!r} in {index_dir}: it never existed or was collected")
    try:
        manifest = json.loads((path / "manifest.json").read_text())
        expected = (manifest.get("files") or {}).get("documents.jsonl")
        if expected is None or sha256_file(path / "documents.jsonl") != expected:
            raise IndexError_(f"generation {name} is corrupted: its documents fail their checksum")
        return {row["doc_id"]: document_from_row(row) for row in read_jsonl(path / "documents.jsonl")}
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise IndexError_(f"generation {name} cannot be read ({type(exc).__name__})") from exc
