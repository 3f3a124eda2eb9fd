"""Adding and removing documents in the corpus folder, the single source of truth for builds.

Every change is validated first and applied as a whole: a batch with one bad file changes
nothing. Files are written with an atomic rename, so a crash never leaves half a document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import CorpusError, DocumentError, NotFoundError
from rag.loading import DOC_ID_RE, SUPPORTED_SUFFIXES, corpus_files, load_corpus, load_path

if TYPE_CHECKING:
    from rag.documents import Document


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _expand(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(corpus_files(path))
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise DocumentError(f"{path}: unsupported file type (supported: {', '.join(SUPPORTED_SUFFIXES)})")
            files.append(path)
        else:
            raise DocumentError(f"{path}: no such file or folder")
    return files


def add_paths(corpus_dir: Path, paths: Sequence[Path]) -> list[str]:
    """Copy files (or folders of them) into the corpus; return the doc_ids added or replaced.

    A file whose name is already in the corpus replaces it (an update); a doc_id that another
    corpus file already provides is refused.
    """
    files = _expand(paths)
    if not files:
        raise DocumentError("nothing to add: no supported files (.txt, .md, .html, .jsonl) were given")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    existing = {d.doc_id: Path(d.source).name for d in load_corpus(corpus_dir)[0]}
    problems: list[str] = []
    names: dict[str, Path] = {}
    for file in files:
        if file.name in names:
            problems.append(f"{file}: another file named {file.name} is in the same batch ({names[file.name]})")
        else:
            names[file.name] = file
    incoming, read_problems = _read_batch(list(names.values()))
    problems += read_problems
    for doc in incoming.values():
        file = Path(doc.source)
        if doc.doc_id in existing and existing[doc.doc_id] != file.name:
            problems.append(f"{file}: doc_id {doc.doc_id!r} already exists in {existing[doc.doc_id]}; "
                            "remove it first (`rag remove`)")
    if problems:
        raise DocumentError("nothing was added: " + "; ".join(problems))
    for file in files:
        _atomic_write(corpus_dir / file.name, file.read_bytes())
    return sorted(incoming)


def _read_batch(files: Sequence[Path]) -> tuple[dict[str, Document], list[str]]:
    """The documents of some files by doc_id, and what is wrong: unreadable files, a doc_id twice."""
    docs: dict[str, Document] = {}
    problems = []
    for file in files:
        try:
            found = load_path(file)
        except DocumentError as exc:
            problems.append(str(exc))
            continue
        for doc in found:
            if doc.doc_id in docs:
                problems.append(f"{file}: doc_id {doc.doc_id!r} is also in {docs[doc.doc_id].source}")
            docs[doc.doc_id] = doc
    return docs, problems


def load_paths(paths: Sequence[Path]) -> list[Document]:
    """The documents in some files (or folders of them), refusing the batch if any cannot be read
    or two provide the same doc_id."""
    files = _expand(paths)
    if not files:
        raise DocumentError("nothing to add: no supported files (.txt, .md, .html, .jsonl) were given")
    docs, problems = _read_batch(files)
    if problems:
        raise DocumentError("nothing was added: " + "; ".join(problems))
    return [docs[k] for k in sorted(docs)]


def remove_documents(corpus_dir: Path, doc_ids: Sequence[str], *, keep_one: bool = False) -> list[str]:
    """Remove documents from the corpus (deleting their file, or their line of a .jsonl file).

    With ``keep_one``, removing every document is refused (an index needs one) and nothing is removed.
    """
    docs, _ = load_corpus(corpus_dir)
    by_id = {d.doc_id: Path(d.source) for d in docs}
    unknown = sorted(set(doc_ids) - set(by_id))
    if unknown:
        raise NotFoundError(f"no document with id {', '.join(map(repr, unknown))} in {corpus_dir}; see `rag list`")
    wanted = set(doc_ids)
    if keep_one and wanted >= set(by_id):
        raise CorpusError(f"that would remove every document of {corpus_dir}, and an index needs at least one: "
                          "add another document first (nothing was removed)")
    for source in sorted({by_id[d] for d in wanted}):
        if source.suffix.lower() != ".jsonl":
            source.unlink()
            continue
        kept = [line for line in source.read_text(encoding="utf-8").splitlines(keepends=True)
                if not line.strip() or json.loads(line).get("doc_id") not in wanted]
        if any(line.strip() for line in kept):
            _atomic_write(source, "".join(kept).encode("utf-8"))
        else:
            source.unlink()
    return sorted(wanted)


# -- one document at a time (the HTTP API) -----------------------------------------------------
API_FOLDER = "api"  # documents written through the API: <corpus>/api/<doc_id>.jsonl, one line each
Snapshot = dict[Path, bytes | None]


def record_path(corpus_dir: Path, doc_id: str) -> Path:
    """Where the API keeps a document: a one-line .jsonl file, so url and metadata survive rebuilds."""
    if not DOC_ID_RE.fullmatch(doc_id):  # never a path: no '/', no '..', no leading '.'
        raise DocumentError(f"invalid doc_id {doc_id!r}")
    return corpus_dir / API_FOLDER / f"{doc_id}.jsonl"


def write_record(corpus_dir: Path, record: dict[str, Any]) -> Path:
    """Write ``{"doc_id", "title", "text", "format", "url", "metadata"}`` atomically; return the file."""
    path = record_path(corpus_dir, record["doc_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=True, sort_keys=True) + "\n"  # ASCII: no U+2028 or NEL in the line
    _atomic_write(path, line.encode("utf-8"))
    return path


def snapshot(paths: Sequence[Path]) -> Snapshot:
    """The current bytes of some corpus files (None: absent), to put back with ``restore``."""
    return {p: (p.read_bytes() if p.is_file() else None) for p in paths}


def restore(saved: Snapshot) -> None:
    for path, data in saved.items():
        if data is None:
            path.unlink(missing_ok=True)
        else:
            _atomic_write(path, data)
