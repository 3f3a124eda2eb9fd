"""The default store: generations as folders of FAISS, BM25 and JSON Lines files (rag.store)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag import store as files
from rag.errors import IndexUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rag.documents import Document
    from rag.embedding import Embedder
    from rag.store import Generation, Index

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


class LocalStore:
    """Generations under ``index_dir/generations``, the current one named by ``index_dir/CURRENT``."""

    kind = "local"

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    def describe(self) -> str:
        return str(self.index_dir)

    def current_name(self) -> str | None:
        path = files.current_generation(self.index_dir)
        return path.name if path is not None else None

    def read_manifest(self) -> dict[str, Any] | None:
        return files.read_manifest(self.index_dir)

    def load(self, embedder: Embedder | None = None, *, verify: bool = True, fallback: bool = False) -> Index:
        return files.load_index(self.index_dir, embedder, verify=verify, fallback=fallback)

    def publish(self, generation: Generation, *, progress: Callable[[str], None] | None = None,
                keep: int = 3, grace_seconds: float = 0.0) -> str:
        return files.write_generation(generation, self.index_dir, progress=progress, keep_generations=keep,
                                      gc_grace_seconds=grace_seconds).name

    def has_generation(self, name: str) -> bool:
        return (name[:1].isdigit() and "/" not in name
                and (self.index_dir / "generations" / name / "manifest.json").is_file())

    def load_documents(self, name: str) -> dict[str, Document]:
        return files.load_documents(self.index_dir, name)

    def collect_garbage(self, keep: int = 3, grace_seconds: float = 0.0) -> list[str]:
        return files.collect_garbage(self.index_dir, keep=keep, grace_seconds=grace_seconds)

    def write_lock(self, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
        return write_lock(self.index_dir, timeout)
