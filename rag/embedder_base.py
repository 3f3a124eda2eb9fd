"""The Embedder protocol, the bundled model's identity and query-batching defaults, and FakeEmbedder for tests."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are truncated
QUERY_BATCH = 16  # most concurrent queries embedded in one ONNX call (1 = no batching); served: Settings.query_batch
QUERY_SLOTS = 1  # ONNX query batches running at once, each on one thread; served: Settings.query_slots


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors (one row per text)."""

    model_id: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


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

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """One "word piece" per word: its offsets and its hashed vector (rag.soft_match)."""
        out = []
        for text in texts:
            words = list(_TOKEN.finditer(text))
            offsets = np.array([(m.start(), m.end()) for m in words], dtype=np.int64).reshape(len(words), 2)
            vectors = np.stack([self._vector(m.group()) for m in words]) if words else np.zeros((0, self.dim),
                                                                                              np.float32)
            out.append((offsets, vectors))
        return out
