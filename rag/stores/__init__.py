"""Where generations live: local folders (FAISS + BM25 files, the default) or PostgreSQL + pgvector.

Both back ends implement ``Store``; the application computes a generation (chunks, sentences,
vectors, BM25) once and a store publishes it atomically, loads the current one and answers the
dense nearest-neighbour search inside it. Fusion, highlights, answers and citations stay in the
application (rag.retrieval), so ranking is the same whichever store holds the data.
Chosen by ``RAG_STORE``: ``local`` (default) or a ``postgresql://`` URL (see docs/scaling.md).
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from rag.config import Settings
    from rag.documents import Document
    from rag.embedding import Embedder
    from rag.store import Generation, Index


class Store(Protocol):
    """The storage contract (tests/test_store_contract.py runs the same suite over every back end)."""

    kind: str

    def describe(self) -> str:
        """Where the store is, for messages (never a password)."""

    def current_name(self) -> str | None:
        """Name of the current generation, None when nothing was published."""

    def read_manifest(self) -> dict[str, Any] | None:
        """The current generation's manifest, None when there is none."""

    def load(self, embedder: Embedder | None = None, *, verify: bool = True, fallback: bool = False) -> Index:
        """Load the current generation (with ``fallback``: the newest usable one)."""

    def publish(self, generation: Generation, *, progress: Callable[[str], None] | None = None,
                keep: int = 3, grace_seconds: float = 0.0) -> str:
        """Store ``generation`` and make it current in one atomic step; return its name."""

    def has_generation(self, name: str) -> bool: ...

    def load_documents(self, name: str) -> dict[str, Document]:
        """The documents of generation ``name`` (to resolve an older citation)."""

    def collect_garbage(self, keep: int = 3, grace_seconds: float = 0.0) -> list[str]: ...

    def write_lock(self, timeout: float | None = None) -> AbstractContextManager[None]:
        """One writer at a time across threads, processes and (PostgreSQL) machines."""


_stores: dict[tuple[Any, ...], Store] = {}
_stores_lock = threading.Lock()


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_store(settings: Settings) -> Store:
    """The store the settings name; one per process and location (PostgreSQL pools are shared)."""
    if is_postgres(settings.store):
        key: tuple[Any, ...] = ("pg", settings.store, tuple(settings.store_replicas), settings.store_pool_size)
    else:
        key = ("local", str(settings.index_dir.resolve()))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            if key[0] == "pg":
                from rag.stores.postgres import PostgresStore

                store = PostgresStore(settings.store, settings.store_replicas, pool_size=settings.store_pool_size)
            else:
                from rag.stores.local import LocalStore

                store = LocalStore(settings.index_dir)
            _stores[key] = store
        return store


def close_stores() -> None:
    """Close every open store (PostgreSQL pools); the next ``open_store`` opens afresh."""
    with _stores_lock:
        for store in _stores.values():
            close = getattr(store, "close", None)
            if close is not None:
                close()
        _stores.clear()
