"""The service's runtime state: background loading, readiness, the current retriever, worker threads."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from rag.api.errors import ApiError
from rag.api.metrics import Gauge, HttpMetrics
from rag.config import Settings
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.documents import Document
    from rag.embedding import Embedder
    from rag.retrieval import Retriever
    from rag.service import Engine

log = logging.getLogger("rag.api")
T = TypeVar("T")

SEARCH_THREADS = 8  # concurrent searches (RAG_SEARCH_THREADS): their embeddings batch; 4 and 16 measured slower
WARM_UP_QUERY = "warm up the model"
MAX_PENDING_WRITES = 16
GC_EVERY_SECONDS = 60.0


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
        self.search_threads = settings.search_threads  # RAG_SEARCH_THREADS
        self._workers, self._writer = self._new_pools()
        self._pending = 0  # queries submitted and not finished (including abandoned ones)
        self._pending_writes = 0
        self._count_lock = threading.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._failed_at: str | None = None  # the CURRENT pointer when loading last failed
        self._last_gc = time.monotonic()
        self.old_documents: dict[str, dict[str, Document]] = {}  # documents of recent generations, by name

    # -- loading -------------------------------------------------------------------------------
    def start_loading(self) -> None:
        """Start loading (once); /healthz answers meanwhile and /readyz says 503."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.load, name="rag-index-loader", daemon=True)
            self._thread.start()

    def start(self) -> None:
        """Load in the background and watch for new generations (call from the running event loop)."""
        self.start_loading()
        if self.settings.reload_interval > 0 and self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="rag-reload-watcher")

    async def stop(self) -> None:
        """Stop the watcher and the worker threads (running work finishes, queued work is dropped)."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        workers, writer = self._workers, self._writer
        self._workers, self._writer = self._new_pools()  # fresh ones, should the app be started again
        workers.shutdown(wait=False, cancel_futures=True)
        writer.shutdown(wait=False, cancel_futures=True)

    def _new_pools(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        return (ThreadPoolExecutor(self.search_threads, thread_name_prefix="rag-query"),
                ThreadPoolExecutor(1, thread_name_prefix="rag-write"))

    def load(self) -> None:
        """Load and verify the index, warm the model up, then switch to ready (or failed, with a reason)."""
        from rag.service import Engine

        t0 = time.perf_counter()
        try:
            engine = Engine(self.settings, self._embedder)
            retriever = engine.load()  # verifies checksums and that the index matches the model
            retriever.search(WARM_UP_QUERY, k=1)  # loads the model and touches every index once
        except RagError as exc:
            self._failed_at = self._current_name()
            self._fail(exc.code, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - reported through /readyz, traced in the log
            log.exception("loading the index failed")
            self._failed_at = self._current_name()
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
        """Run CPU-bound work on a worker thread so the event loop keeps answering.

        At most ``max_pending`` queries wait or run at once (503 beyond); one that has not
        finished within ``request_timeout`` gives 503 if it never started, else 504.
        """
        with self._count_lock:
            if self._pending >= self.settings.max_pending + self.search_threads:
                raise ApiError(503, "overloaded", "the server is busy: retry in a moment",
                               {"pending": self._pending}, {"Retry-After": "1"})
            self._pending += 1
        future = self._workers.submit(functools.partial(func, *args, **kwargs))
        future.add_done_callback(self._query_done)
        try:  # asyncio.timeout rather than wait_for: no extra task per request
            async with asyncio.timeout(self.settings.request_timeout):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            timeout = self.settings.request_timeout
            if future.cancel():
                raise ApiError(503, "overloaded", f"the request waited {timeout:g}s for a worker: retry in a moment",
                               {"timeout_s": timeout}, {"Retry-After": "1"}) from None
            raise ApiError(504, "timeout", f"the request took longer than {timeout:g}s: simplify it or retry",
                           {"timeout_s": timeout}) from None

    def _query_done(self, _future: Future[Any]) -> None:
        with self._count_lock:
            self._pending -= 1

    async def write(self, func: Callable[..., T], *args: Any) -> T:
        """Run a document write on the single writer thread (one at a time, in arrival order)."""
        with self._count_lock:
            if self._pending_writes >= MAX_PENDING_WRITES:
                raise ApiError(503, "overloaded", "too many document writes are waiting: retry later",
                               {"pending": self._pending_writes}, {"Retry-After": "5"})
            self._pending_writes += 1
        future = self._writer.submit(functools.partial(func, *args))
        future.add_done_callback(self._write_done)
        try:  # shield: a client that goes away does not undo a write that has started
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.settings.write_timeout)
        except TimeoutError:
            if future.cancel():
                raise ApiError(503, "overloaded", "the write waited too long behind others: retry later",
                               None, {"Retry-After": "5"}) from None
            raise ApiError(504, "timeout", "the write is still running and will be published when done: check "
                           "GET /v1/documents in a while") from None

    def _write_done(self, _future: Future[Any]) -> None:
        with self._count_lock:
            self._pending_writes -= 1

    # -- hot reload ----------------------------------------------------------------------------
    def _current_name(self) -> str | None:
        from rag.stores import open_store

        try:
            return open_store(self.settings).current_name()
        except RagError:
            return "corrupted"

    def check(self) -> None:
        """One watcher tick (worker thread): switch to a new generation, retry a failed load, collect garbage."""
        engine = self.engine
        if engine is not None:
            if engine.refresh():
                log.info("switched to index generation %s", engine.index.version)
            if time.monotonic() - self._last_gc >= GC_EVERY_SECONDS:
                self._last_gc = time.monotonic()
                self._collect_garbage()
        elif self.status == "failed" and self._current_name() != self._failed_at:
            log.info("the index changed: loading it again")
            with self._lock:
                self.status, self.error_code, self.error_message = "loading", "not_ready", "loading index"
            self.load()

    def _collect_garbage(self) -> None:
        from rag.stores import open_store

        store = open_store(self.settings)
        try:
            with store.write_lock(timeout=0):  # skip while someone writes
                removed = store.collect_garbage(self.settings.keep_generations, self.settings.gc_grace_seconds)
        except RagError:
            return
        if removed:
            log.info("removed old index generations: %s", ", ".join(removed))

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.settings.reload_interval)
            if self.status == "loading":
                continue
            try:
                await loop.run_in_executor(None, self.check)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the watcher must survive anything; the log has the trace
                log.exception("checking for a new index generation failed")

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
            *self._batch_gauges(),
        ]

    def _batch_gauges(self) -> list[Gauge]:
        from rag.embedding import query_batch_stats

        stats = query_batch_stats(getattr(self.engine, "embedder", None))
        if stats is None:
            return []
        return [Gauge("rag_query_batches", "Query-embedding batches run (concurrent queries are micro-batched).",
                      [((), stats.batches)]),
                Gauge("rag_query_batch_items", "Queries embedded in those batches (items / batches = mean size).",
                      [((), stats.items)]),
                Gauge("rag_query_batch_largest", "The largest query-embedding batch so far.", [((), stats.largest)])]
