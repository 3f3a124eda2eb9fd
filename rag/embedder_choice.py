"""Choosing the embedder: AutoEmbedder (ONNX Runtime or torch, by measurement), get_embedder (one per setting)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from rag.embedder_base import MODEL_DIM, MODEL_ID, QUERY_BATCH, QUERY_SLOTS, Embedder, FakeEmbedder
from rag.errors import ConfigError
from rag.sbert_embedder import SentenceTransformerEmbedder

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import numpy as np

log = logging.getLogger("rag.embedding")


class AutoEmbedder:
    """Picks the backend on first use: ONNX Runtime when its cached export checks out and wins, else torch.

    The choice is per task: queries go to whichever backend answered a single query faster, batches
    to whichever embedded chunks faster (both measured when the export was made, on this machine).
    Nothing is loaded until something is embedded, so an up-to-date ``rag build`` loads no model.
    """

    model_id = MODEL_ID
    dim = MODEL_DIM

    def __init__(self, batch_size: int = 32, cache_dir: Path | None = None, query_batch: int = QUERY_BATCH,
                 query_slots: int = QUERY_SLOTS) -> None:
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.query_batch = query_batch
        self.query_slots = query_slots
        self._lock = threading.Lock()
        self._query: Embedder | None = None
        self._documents: Embedder | None = None
        self.report: dict[str, object] = {}
        self.reason = ""
        self.calls = 0

    @property
    def backend(self) -> str:
        """Which backends serve queries and batches, e.g. ``onnxruntime`` or ``onnxruntime/torch``."""
        if self._query is None or self._documents is None:
            return "unresolved"
        names = [getattr(e, "backend", "torch") for e in (self._query, self._documents)]
        return names[0] if names[0] == names[1] else "/".join(names)

    def _resolve(self) -> tuple[Embedder, Embedder]:
        if self._query is not None and self._documents is not None:
            return self._query, self._documents
        with self._lock:
            if self._query is None or self._documents is None:
                self._query, self._documents = self._choose()
        return self._query, self._documents

    def _choose(self) -> tuple[Embedder, Embedder]:
        torch_embedder = SentenceTransformerEmbedder(batch_size=self.batch_size)
        try:
            import onnxruntime  # noqa: F401 - fail here, not on the first query, when it is missing

            from rag import onnx_export
            from rag.embedding import OnnxEmbedder  # defined there, and rag.embedding imports this module

            folder = onnx_export.model_dir()
            path, report = onnx_export.ensure(self.cache_dir or onnx_export.default_cache_dir(), torch_embedder)
        except Exception as exc:  # noqa: BLE001 - any ONNX problem falls back to torch, with the reason logged
            self.reason = f"ONNX Runtime unavailable ({type(exc).__name__}: {exc}); using torch"
            log.warning("%s", self.reason)
            return torch_embedder, torch_embedder
        self.report = dict(report)
        onnx = OnnxEmbedder(path, folder, batch_size=self.batch_size, max_query_batch=self.query_batch,
                            query_slots=self.query_slots)
        query_wins = float(report["onnx_query_ms"]) <= float(report["torch_query_ms"])
        batch_wins = float(report["onnx_batch_per_s"]) >= float(report["torch_batch_per_s"])
        self.reason = (f"queries on {'onnxruntime' if query_wins else 'torch'} ({report['onnx_query_ms']} vs "
                       f"{report['torch_query_ms']} ms), batches on {'onnxruntime' if batch_wins else 'torch'} "
                       f"({report['onnx_batch_per_s']} vs {report['torch_batch_per_s']} texts/s)")
        log.info("embedding: %s", self.reason)
        return (onnx if query_wins else torch_embedder), (onnx if batch_wins else torch_embedder)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return self._resolve()[1].embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._resolve()[0].embed_query(text)

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The query backend's token vectors (rag.soft_match)."""
        return self._resolve()[0].token_vectors(texts)  # type: ignore[attr-defined, no-any-return]


EMBEDDERS = ("auto", "onnx", "sentence-transformers", "fake")
_SHARED: dict[tuple[str, int, str, int, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def get_embedder(name: str = "auto", batch_size: int = 32, cache_dir: Path | None = None,
                 query_batch: int = QUERY_BATCH, query_slots: int = QUERY_SLOTS) -> Embedder:
    """One embedder per process and configuration: the model is loaded at most once.

    ``auto`` picks ONNX Runtime or torch by measurement; ``onnx`` insists on ONNX Runtime (exported
    on first use into ``cache_dir``) and fails when it cannot be had; ``sentence-transformers`` is torch.
    ``query_batch`` and ``query_slots`` configure the ONNX query micro-batching (rag.service.embedder_for
    passes Settings.query_batch and Settings.query_slots).
    """
    onnx = name in ("auto", "onnx")  # the others have no export cache and no query batcher: one of each
    key = (name, batch_size, str(cache_dir or "") if onnx else "", *((query_batch, query_slots) if onnx else (0, 0)))
    with _SHARED_LOCK:
        if key not in _SHARED:
            if name == "auto":
                _SHARED[key] = AutoEmbedder(batch_size=batch_size, cache_dir=cache_dir, query_batch=query_batch,
                                            query_slots=query_slots)
            elif name == "onnx":
                from rag import onnx_export
                from rag.embedding import OnnxEmbedder

                path, _ = onnx_export.ensure(cache_dir or onnx_export.default_cache_dir())
                _SHARED[key] = OnnxEmbedder(path, onnx_export.model_dir(), batch_size=batch_size,
                                            max_query_batch=query_batch, query_slots=query_slots)
            elif name == "sentence-transformers":
                _SHARED[key] = SentenceTransformerEmbedder(batch_size=batch_size)
            elif name == "fake":
                _SHARED[key] = FakeEmbedder()
            else:
                raise ConfigError(f"unknown embedder {name!r}: use one of {', '.join(EMBEDDERS)}")
        return _SHARED[key]
