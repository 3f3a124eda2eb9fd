"""Embedders: the bundled all-MiniLM-L6-v2 on torch or ONNX Runtime (loaded lazily, once), and a fake for tests.

``auto`` (the default) uses ONNX Runtime when the cached export (rag.onnx_export) passed its
parity check against torch and measured faster, and torch otherwise or when ONNX is unavailable.

This module holds the ONNX Runtime embedder; the protocol, the model's constants and the fake are
in rag.embedder_base, torch in rag.sbert_embedder, AutoEmbedder and get_embedder in
rag.embedder_choice (all re-exported here).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import numpy as np

from rag.embedder_base import MAX_TOKENS, MODEL_DIM, MODEL_ID, QUERY_BATCH, QUERY_SLOTS, Embedder, FakeEmbedder
from rag.embedder_choice import EMBEDDERS, AutoEmbedder, get_embedder
from rag.sbert_embedder import SentenceTransformerEmbedder

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from rag.batching import BatchStats

__all__ = [
    "DOCUMENT_WINDOW", "EMBEDDERS", "MAX_TOKENS", "MODEL_DIM", "MODEL_ID", "QUERY_BATCH", "QUERY_SLOTS",
    "AutoEmbedder", "Embedder", "FakeEmbedder", "OnnxEmbedder", "SentenceTransformerEmbedder", "get_embedder",
    "query_batch_stats",
]

log = logging.getLogger("rag.embedding")

DOCUMENT_WINDOW = 2048  # texts tokenized (and sorted by token length) at a time by embed_documents


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

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's word pieces (without [CLS]/[SEP]): character offsets and unit-length contextual vectors."""
        if not texts:
            return []
        encodings = self._tokenizer_().encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session(self.query_threads).run(None, feeds)[0]
        out = []
        for row, e in enumerate(encodings):
            keep = [j for j, (special, m) in enumerate(zip(e.special_tokens_mask, e.attention_mask, strict=True))
                    if m and not special]
            vectors = hidden[row, keep].astype(np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            offsets = np.array([e.offsets[j] for j in keep], dtype=np.int64).reshape(len(keep), 2)
            out.append((offsets, vectors))
        return out




def query_batch_stats(embedder: object) -> BatchStats | None:
    """The micro-batching counters of the embedder that serves queries (None when it does not batch)."""
    embedder = getattr(embedder, "_query", None) or embedder  # AutoEmbedder: its resolved query backend
    batcher = getattr(embedder, "queries", None)
    return getattr(batcher, "stats", None)


