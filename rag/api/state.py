"""The service's runtime state: background loading, readiness, the current retriever, worker threads."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from rag.api.errors import ApiError
from rag.api.metrics import Gauge, HttpMetrics
from rag.config import Settings
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.embedding import Embedder
    from rag.retrieval import Retriever
    from rag.service import Engine

log = logging.getLogger("rag.api")
T = TypeVar("T")

SEARCH_THREADS = 4  # concurrent CPU-bound searches; more only oversubscribes the cores
WARM_UP_QUERY = "warm up the model"


class ServiceState:
    """Loads the index in a background thread and hands out the loaded ``Retriever``."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.metrics = HttpMetrics()
        self._embedder = embedder
        self._lock = threading.Lock()
        self.engine: Engine | None = None  # set once loaded; its retriever may be swapped by a reload
        self.status = "loading"  # loading → ready | failed
        self.error_code = "not_ready"
        self.error_message = "loading index"
        self.load_seconds: float | None = None
        self.started_at = time.time()
        self._thread: threading.Thread | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    # -- loading -------------------------------------------------------------------------------
    def start_loading(self) -> None:
        """Start loading (once); /healthz answers meanwhile and /readyz says 503."""
        self._limiter = anyio.CapacityLimiter(SEARCH_THREADS)
        if self._thread is None:
            self._thread = threading.Thread(target=self.load, name="rag-index-loader", daemon=True)
            self._thread.start()

    def load(self) -> None:
        """Load and verify the index, warm the model up, then switch to ready (or failed, with a reason)."""
        from rag.service import Engine

        t0 = time.perf_counter()
        try:
            engine = Engine(self.settings, self._embedder)
            retriever = engine.load()  # verifies checksums and that the index matches the model
            retriever.search(WARM_UP_QUERY, k=1)  # loads the model and touches every index once
        except RagError as exc:
            self._fail(exc.code, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - reported through /readyz, traced in the log
            log.exception("loading the index failed")
            self._fail("load_failed", f"the index could not be loaded ({type(exc).__name__}): see the server log")
            return
        with self._lock:
            self.engine = engine
            self.load_seconds = time.perf_counter() - t0
            self.status = "ready"
        index = retriever.index
        log.info("ready: index %s (%s), %d documents, %d chunks, loaded in %.2fs", index.version,
                 index.model_id, len(index.documents), len(index.chunks), self.load_seconds)

    def _fail(self, code: str, message: str) -> None:
        with self._lock:
            self.status, self.error_code, self.error_message = "failed", code, message
        log.error("not ready: %s", message)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading has finished (either way); True when ready."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status == "ready"

    # -- serving -------------------------------------------------------------------------------
    def not_ready(self) -> ApiError:
        retry = {"Retry-After": "1"} if self.status == "loading" else None
        return ApiError(503, self.error_code, self.error_message, {"status": self.status}, retry)

    def retriever(self) -> Retriever:
        """The retriever to use for a whole request (captured once, so a reload cannot mix generations)."""
        engine = self.engine
        if engine is None:
            raise self.not_ready()
        return engine.retriever

    @property
    def warning(self) -> str | None:
        """Why the engine serves something other than the newest generation, if it does."""
        return getattr(self.engine, "last_error", None)

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run CPU-bound work on a worker thread so the event loop keeps answering."""
        call = functools.partial(func, *args, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    # -- metrics -------------------------------------------------------------------------------
    def gauges(self) -> list[Gauge]:
        gauges = [Gauge("rag_ready", "1 once the index and model are loaded and verified.",
                        [((), 1.0 if self.status == "ready" else 0.0)])]
        if self.engine is None:
            return gauges
        index = self.engine.retriever.index
        return [
            *gauges,
            Gauge("rag_index_documents", "Documents in the loaded index.", [((), len(index.documents))]),
            Gauge("rag_index_chunks", "Chunks (passages) in the loaded index.", [((), len(index.chunks))]),
            Gauge("rag_index_sentences", "Sentences in the loaded index.", [((), len(index.sentences))]),
            Gauge("rag_index_info", "The loaded index generation and its embedding model.",
                  [((("generation", index.version), ("model", index.model_id),
                     ("built_at", str(index.manifest.get("built_at", "")))), 1.0)]),
            Gauge("rag_index_load_seconds", "Time spent loading and warming up the index.",
                  [((), round(self.load_seconds or 0.0, 6))]),
        ]
