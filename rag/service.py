"""Wiring shared by the CLI and the API: settings → corpus → index generation → retriever."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.chunking import ChunkerConfig
from rag.config import Settings
from rag.embedding import Embedder, get_embedder
from rag.errors import CorpusError, IndexUnavailableError, RagError
from rag.loading import load_corpus
from rag.retrieval import Retriever
from rag.store import (
    Index,
    build_config,
    build_index,
    current_generation,
    fingerprint,
    load_index,
    read_manifest,
)


def chunker_config(settings: Settings) -> ChunkerConfig:
    return ChunkerConfig(target_chars=settings.chunk_chars, overlap=settings.chunk_overlap)


def embedder_for(settings: Settings) -> Embedder:
    return get_embedder(settings.embedder, settings.batch_size, settings.model_cache_dir)


_held = threading.local()


@contextlib.contextmanager
def write_lock(index_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """One writer at a time across threads and processes: ``flock`` on ``index_dir/.write.lock``.

    Re-entrant within a thread, so a caller can hold it around a corpus change and the build that
    follows. With ``timeout`` (seconds), gives up with ``IndexUnavailableError`` instead of waiting on.
    """
    key = str(index_dir.resolve())
    held: set[str] = getattr(_held, "paths", set())
    _held.paths = held
    if key in held:
        yield
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise IndexUnavailableError(
                        f"another writer holds {index_dir / '.write.lock'}: try again when it has finished"
                    ) from None
                time.sleep(0.02)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class BuildReport:
    path: Path | None
    built: bool
    problems: list[str]
    documents: int


def build(
    settings: Settings,
    *,
    corpus_dir: Path | None = None,
    index_dir: Path | None = None,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    previous: Index | None = None,
) -> BuildReport:
    """Build the index for a corpus folder unless an identical one is already current.

    Holds the write lock (``write_lock``) throughout; ``previous`` (a loaded generation) saves
    loading the current one to find the vectors that can be reused.
    """
    corpus_dir = corpus_dir or settings.corpus_dir
    index_dir = index_dir or settings.index_dir
    embedder = embedder or embedder_for(settings)
    with write_lock(index_dir):
        return _build(settings, corpus_dir, index_dir, embedder, force, progress, previous)


def _build(settings: Settings, corpus_dir: Path, index_dir: Path, embedder: Embedder, force: bool,
           progress: Callable[[str], None] | None, previous: Index | None) -> BuildReport:
    documents, problems = load_corpus(corpus_dir)
    say = progress or (lambda _m: None)
    for problem in problems:
        say(f"skipped: {problem}")
    if not documents:
        raise CorpusError(f"no readable documents in {corpus_dir} (.txt or .md files, UTF-8, not empty)")
    chunker = chunker_config(settings)
    fp = fingerprint(documents, build_config(embedder, chunker))
    manifest = read_manifest(index_dir)
    if manifest and manifest.get("fingerprint") == fp and not force:
        say(f"index {manifest['generation']} is up to date")
        return BuildReport(None, False, problems, len(documents))
    if previous is None and manifest is not None:
        try:
            previous = load_index(index_dir, embedder)
        except Exception:  # noqa: BLE001 - an unusable old index is simply not reused
            previous = None
    path = build_index(documents, index_dir, embedder, chunker, previous=previous, progress=say,
                       keep_generations=settings.keep_generations, gc_grace_seconds=settings.gc_grace_seconds)
    return BuildReport(path, True, problems, len(documents))


def is_stale(settings: Settings, corpus_dir: Path, index_dir: Path, embedder: Embedder) -> bool:
    documents, _ = load_corpus(corpus_dir)
    manifest = read_manifest(index_dir)
    return manifest is None or manifest.get("fingerprint") != fingerprint(
        documents, build_config(embedder, chunker_config(settings))
    )


class Engine:
    """The loaded index and its retriever; ``reload`` swaps in a newer generation atomically."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or embedder_for(settings)
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._refused: str | None = None
        self._refreshing = threading.Lock()  # one refresh at a time: a slow one never overwrites a newer one
        self.last_error: str | None = None

    def load(self) -> Retriever:
        """Load the current generation (or, if it is unusable, the newest usable older one)."""
        index = load_index(self.settings.index_dir, self.embedder, fallback=True)
        retriever = Retriever(index, self.embedder, candidates=self.settings.candidates)
        with self._lock:
            self._retriever = retriever
        self.last_error = index.warnings[-1] if index.warnings else None
        return retriever

    def refresh(self) -> bool:
        """Switch to a newer generation when ``CURRENT`` moved; keep the old one if the new fails.

        Requests hold on to the retriever they started with, so a switch never mixes generations.
        """
        with self._refreshing:
            return self._refresh()

    def _refresh(self) -> bool:
        path = current_generation(self.settings.index_dir)
        loaded = self._retriever
        if path is None or (loaded is not None and loaded.index.path == path) or path.name == self._refused:
            return False
        try:
            index = load_index(self.settings.index_dir, self.embedder)
        except RagError as exc:
            self._refused = path.name
            self.last_error = f"generation {path.name} was refused: {exc}"
            return False
        retriever = Retriever(index, self.embedder, candidates=self.settings.candidates)
        with self._lock:
            self._retriever = retriever
        self.last_error = None
        return True

    @property
    def retriever(self) -> Retriever:
        retriever = self._retriever
        if retriever is None:
            return self.load()
        return retriever

    @property
    def index(self) -> Index:
        return self.retriever.index
