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
per-file checksums, and loading verifies all of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag import __version__
from rag.chunking import ChunkerConfig, chunk_document
from rag.documents import Chunk, Document, Section, Sentence, citation_label
from rag.errors import IncompatibleIndexError, IndexError_
from rag.lexical import TOKENIZER_ID, LexicalIndex

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rag.embedding import Embedder

FORMAT_VERSION = 1
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


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            fh.write("\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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

    @property
    def version(self) -> str:
        return str(self.manifest["generation"])

    @property
    def model_id(self) -> str:
        return str(self.manifest["model"]["id"])


def _document_row(doc: Document) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "sha256": doc.sha256,
        "url": doc.url,
        "metadata": doc.metadata,
        "sections": [{"path": list(s.path), "start": s.start, "end": s.end} for s in doc.sections],
        "text": doc.text,
    }


def _document_from_row(row: dict[str, Any]) -> Document:
    return Document(
        doc_id=row["doc_id"],
        title=row["title"],
        source=row["source"],
        text=row["text"],
        sha256=row["sha256"],
        sections=tuple(Section(tuple(s["path"]), s["start"], s["end"]) for s in row["sections"]),
        url=row.get("url"),
        metadata=row.get("metadata") or {},
    )


DENSE_FILES = {"chunks": "dense.faiss", "sentences": "sentences.faiss"}


def _write_dense(folder: Path, chunk_vecs: np.ndarray, sent_vecs: np.ndarray,
                 say: Callable[[str], None]) -> dict[str, Any]:
    """Write both dense indexes (type chosen by size, see rag.ann); return their manifest entries."""
    from rag import ann

    entries: dict[str, Any] = {}
    # IVF's nprobe is tuned on held-out queries: for chunks, sentence vectors (and vice versa).
    for name, vectors, queries in (("chunks", chunk_vecs, sent_vecs), ("sentences", sent_vecs, chunk_vecs)):
        tune = queries[np.random.default_rng(0).choice(len(queries), size=min(len(queries), ann.TUNE_QUERIES),
                                                       replace=False)] if len(queries) else None
        index, params, seconds = ann.timed_build(vectors, tune)
        ann.write(index, params, vectors, folder / DENSE_FILES[name])
        if params.type != "flat":
            say(f"{name}: {params.type} index, nlist {params.nlist}, nprobe {params.nprobe}, "
                f"recall@10 {params.recall_at_10} ({seconds:.1f}s)")
        entries[name] = {"file": DENSE_FILES[name], **params.to_dict()}
    return entries


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
        dense = _write_dense(tmp, generation.chunk_vectors, generation.sentence_vectors, say)
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


def set_current(index_dir: Path, name: str) -> None:
    """Point ``index_dir/CURRENT`` at generation ``name`` with an fsynced atomic rename."""
    tmp = index_dir / f".CURRENT.{os.getpid()}.tmp"
    with tmp.open("w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    if not name or "/" in name or name.startswith("."):
        raise IndexError_(f"{pointer} is corrupted: run `rag build --index {index_dir}`")
    return index_dir / "generations" / name


def collect_garbage(index_dir: Path, keep: int = 3, grace_seconds: float = 0.0) -> list[str]:
    """Remove all but the newest ``keep`` generations, never the current one, nor one replaced
    less than ``grace_seconds`` ago (so recent citations still resolve); return the names removed."""
    generations = index_dir / "generations"
    if not generations.is_dir():
        return []
    current = current_generation(index_dir)
    names = sorted((p for p in generations.iterdir() if p.is_dir() and p.name[:1].isdigit()), key=lambda p: p.name)
    now = time.time()
    removed = []
    for old, successor in zip(names[:-keep], names[1:], strict=False):
        if current is not None and old.name == current.name:
            continue
        try:
            replaced_at = (successor / "manifest.json").stat().st_mtime
        except OSError:
            replaced_at = now
        if now - replaced_at < grace_seconds:
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    return removed


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
            if not file.is_file() or _sha256_file(file) != expected:
                raise IndexError_(f"index file {file} is missing or corrupted: "
                                  f"run `rag build --force --index {index_dir}`")
    from rag import ann

    dense = manifest.get("dense") or {}
    dim = int((manifest.get("model") or {}).get("dim") or 0)
    try:
        documents = {row["doc_id"]: _document_from_row(row) for row in _read_jsonl(path / "documents.jsonl")}
        sentences = []
        for row in _read_jsonl(path / "sentences.jsonl"):
            text = documents[row["doc_id"]].text
            start, end = row["start"], row["end"]
            sentences.append(Sentence(row["doc_id"], start, end, text[start:end], row["kind"]))
        chunks = []
        for row in _read_jsonl(path / "chunks.jsonl"):
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
        if expected is None or _sha256_file(path / "documents.jsonl") != expected:
            raise IndexError_(f"generation {name} is corrupted: its documents fail their checksum")
        return {row["doc_id"]: _document_from_row(row) for row in _read_jsonl(path / "documents.jsonl")}
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise IndexError_(f"generation {name} cannot be read ({type(exc).__name__})") from exc
