"""What a search passes around: a Query prepared once (vector, tokens, per-query cache) and a SearchResult."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.documents import Passage


@dataclass(frozen=True)
class Query:
    """A query prepared once: its text, vector and BM25 tokens (lexical scores are cached on it)."""

    text: str
    vector: np.ndarray  # the embedder's query vector (answer and claim models use it as it is)
    tokens: tuple[str, ...]
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    dense: np.ndarray | None = field(default=None, compare=False, repr=False)  # adapted, for the dense evidence

    @property
    def search_vector(self) -> np.ndarray:
        """The vector the retriever's dense evidence uses (``rag.adapter``)."""
        return self.vector if self.dense is None else self.dense


@dataclass(frozen=True)
class SearchResult:
    passages: list[Passage]
    took_ms: float
