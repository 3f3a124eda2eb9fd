"""``rag serve``: make sure the index is current, then run uvicorn with the app."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from rag.config import Settings
from rag.errors import ConfigError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    """Log ``rag.*`` (including the ``rag.access`` lines) to stderr, once."""
    logger = logging.getLogger("rag")
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.propagate = False


def ensure_index(settings: Settings, say: Callable[[str], None]) -> None:
    """Build the index when missing or stale (a no-op when its fingerprint is current)."""
    from rag.service import build
    from rag.stores import open_store

    store = open_store(settings)
    manifest = store.read_manifest()
    if manifest is not None and store.kind != "local":
        # a database's current generation is the corpus of record (writes from any replica land
        # there): seed it from the folder only when it is empty; `rag build` replaces it on purpose
        say(f"serving generation {manifest['generation']} of {store.describe()}")
        return
    if not settings.corpus_dir.is_dir() and manifest is not None:
        say(f"corpus folder {settings.corpus_dir} not found: serving the existing index {store.describe()}")
        return
    report = build(settings, progress=say)
    for problem in report.problems:
        say(f"warning: skipped {problem}")


def serve(settings: Settings, progress: Callable[[str], None] | None = None, workers: int = 1) -> int:
    """Serve the API on ``settings.host:settings.port`` until interrupted; returns the exit status.

    With ``workers`` > 1, that many processes (rag.workers) share the port and the index on disk;
    they read their settings from the environment, so those given here are exported to it first.
    """
    import uvicorn

    from rag.api.app import create_app

    say = progress or (lambda _m: None)
    configure_logging()
    ensure_index(settings, say)
    if workers > 1:
        import os

        os.environ.update({"RAG_CORPUS_DIR": str(settings.corpus_dir), "RAG_INDEX_DIR": str(settings.index_dir),
                           "RAG_EMBEDDER": settings.embedder, "RAG_STORE": settings.store})
        say(f"serving http://{settings.host}:{settings.port} with {workers} worker processes (API docs at /docs)")
        with _startup_failure(settings):
            uvicorn.run("rag.workers:app", factory=True, workers=workers, host=settings.host, port=settings.port,
                        access_log=False, log_level="info", server_header=False, timeout_graceful_shutdown=10)
        return 0
    app = create_app(settings)
    say(f"serving http://{settings.host}:{settings.port} (API docs at /docs); the index loads in the background")
    config = uvicorn.Config(app, host=settings.host, port=settings.port, access_log=False, lifespan="on",
                            log_level="info", server_header=False, timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: that is a clean exit.
    with _startup_failure(settings), _graceful_sigterm(), contextlib.suppress(KeyboardInterrupt, _StoppedError):
        server.run()
    return 0 if server.started else 1


@contextlib.contextmanager
def _startup_failure(settings: Settings) -> Iterator[None]:
    """uvicorn exits with status 3 when it cannot listen (having logged why): one error saying what to change."""
    from uvicorn.config import STARTUP_FAILURE

    try:
        yield
    except SystemExit as exc:
        if exc.code != STARTUP_FAILURE:
            raise
        raise ConfigError(f"cannot serve on {settings.host}:{settings.port} (the reason is logged above, e.g. the "
                          "address is already in use): pass another --port or --host (RAG_PORT, RAG_HOST)") from None


class _StoppedError(Exception):
    """SIGTERM re-raised by uvicorn after its graceful shutdown."""


@contextlib.contextmanager
def _graceful_sigterm() -> Iterator[None]:
    """Turn SIGTERM (e.g. from a container runtime) into a clean exit instead of death by signal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise _StoppedError

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
