"""The files of an index generation: format version, JSON Lines records, dense index files, checksums."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.documents import Document, Section

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

FORMAT_VERSION = 1
DENSE_FILES = {"chunks": "dense.faiss", "sentences": "sentences.faiss"}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            fh.write("\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def document_row(doc: Document) -> dict[str, Any]:
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


def document_from_row(row: dict[str, Any]) -> Document:
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


def write_dense(folder: Path, chunk_vecs: np.ndarray, sent_vecs: np.ndarray,
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
