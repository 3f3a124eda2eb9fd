"""Wiring shared by the CLI and the API: settings → corpus → index generation → retriever."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.chunking import ChunkerConfig
from rag.config import Settings
from rag.documents import Document
from rag.embedding import Embedder, get_embedder
from rag.errors import CorpusError, RagError
from rag.loading import SUPPORTED_SUFFIXES, load_corpus
from rag.retrieval import Retriever
from rag.store import Index, build_config, fingerprint, prepare_generation
from rag.stores import Store, open_store
from rag.stores.local import write_lock as write_lock  # re-exported: the CLI and API lock the corpus folder


def chunker_config(settings: Settings) -> ChunkerConfig:
    return ChunkerConfig(target_chars=settings.chunk_chars, overlap=settings.chunk_overlap)


def embedder_for(settings: Settings) -> Embedder:
    return get_embedder(settings.embedder, settings.batch_size, settings.model_cache_dir,
                        query_batch=settings.query_batch, query_slots=settings.query_slots)


@dataclass(frozen=True)
class BuildReport:
    name: str | None  # the generation published, or the current one when it was up to date
    built: bool
    problems: list[str]
    documents: int
    path: Path | None = None  # the generation's folder (local store)

    def describe(self) -> str:
        return str(self.path or self.name)


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
    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": index_dir, "store": "local"})  # that folder
    store = open_store(settings)
    embedder = embedder or embedder_for(settings)
    with store.write_lock():
        documents, problems = load_corpus(corpus_dir)
        say = progress or (lambda _m: None)
        for problem in problems:
            say(f"skipped: {problem}")
        if not documents:
            raise CorpusError(f"no readable documents in {corpus_dir} ({', '.join(SUPPORTED_SUFFIXES)} files, "
                              "UTF-8, not empty)")
        return publish(settings, store, documents, embedder, force=force, progress=say, previous=previous,
                       problems=problems)


def publish(settings: Settings, store: Store, documents: Sequence[Document], embedder: Embedder, *,
            force: bool = False, progress: Callable[[str], None] | None = None, previous: Index | None = None,
            problems: list[str] | None = None) -> BuildReport:
    """Publish ``documents`` as a new generation of ``store`` unless it already holds exactly them.

    The caller holds the store's write lock. ``previous`` (a loaded generation) saves loading the
    current one to find the vectors that can be reused.
    """
    say = progress or (lambda _m: None)
    chunker = chunker_config(settings)
    fp = fingerprint(documents, build_config(embedder, chunker))
    manifest = store.read_manifest()
    if manifest and manifest.get("fingerprint") == fp and not force:
        say(f"index {manifest['generation']} is up to date")
        return BuildReport(manifest["generation"], False, problems or [], len(documents))
    if (previous is None or previous.version != (manifest or {}).get("generation")) and manifest is not None:
        try:
            previous = store.load(embedder, verify=False)
        except Exception:  # noqa: BLE001 - an unusable old index is simply not reused
            previous = None
    generation = prepare_generation(documents, embedder, chunker, previous=previous, progress=say)
    name = store.publish(generation, progress=say, keep=settings.keep_generations,
                         grace_seconds=settings.gc_grace_seconds)
    path = getattr(store, "index_dir", None)
    return BuildReport(name, True, problems or [], len(documents),
                       path / "generations" / name if isinstance(path, Path) else None)


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

    @property
    def store(self) -> Store:
        return open_store(self.settings)

    def load(self) -> Retriever:
        """Load the current generation (or, if it is unusable, the newest usable older one)."""
        index = self.store.load(self.embedder, fallback=True)
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
        name = self.store.current_name()
        loaded = self._retriever
        if name is None or (loaded is not None and loaded.index.version == name) or name == self._refused:
            return False
        try:
            index = self.store.load(self.embedder)
        except RagError as exc:
            self._refused = name
            self.last_error = f"generation {name} was refused: {exc}"
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


def change_documents(settings: Settings, *, add: Sequence[Document] = (), remove: Sequence[str] = (),
                     embedder: Embedder | None = None, previous: Index | None = None,
                     lock_timeout: float | None = None, progress: Callable[[str], None] | None = None,
                     check: Callable[[dict[str, Document]], None] | None = None) -> BuildReport:
    """Add/replace and remove documents of the store's current generation (PostgreSQL stores).

    In a database the current generation, not a local folder, is the corpus of record, so every API
    replica and `rag add` on any machine change the same document set; the write lock is the
    database's. ``check`` sees the current documents first and may refuse the change by raising.
    """
    from rag.errors import NotFoundError

    store = open_store(settings)
    embedder = embedder or embedder_for(settings)
    with store.write_lock(lock_timeout):
        name = store.current_name()
        documents = dict(store.load_documents(name)) if name else {}
        if check is not None:
            check(documents)
        unknown = sorted(set(remove) - set(documents))
        if unknown:
            raise NotFoundError(f"no document with id {', '.join(map(repr, unknown))} in {store.describe()}; "
                                "see `rag list`")
        for doc_id in remove:
            del documents[doc_id]
        for doc in add:
            documents[doc.doc_id] = doc
        if not documents:
            raise CorpusError("an index needs at least one document: add another document first")
        return publish(settings, store, list(documents.values()), embedder, progress=progress, previous=previous)
