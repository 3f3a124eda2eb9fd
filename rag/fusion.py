"""Rank fusion and score normalisation (pure functions)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)


def rrf(rankings: Iterable[Sequence[K]], k: int = 60, weights: Sequence[float] | None = None) -> dict[K, float]:
    """Reciprocal-rank fusion: ``sum_i w_i / (k + rank_i)`` with ranks counted from 1."""
    fused: dict[K, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else float(weights[i])
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + w / (k + rank)
    return fused


def max_normalize(scores: np.ndarray) -> np.ndarray:
    """Scale non-negative scores into [0, 1] by the largest one (all zeros stay zeros)."""
    top = float(scores.max(initial=0.0))
    if top <= 0.0:
        return np.zeros_like(scores, dtype=np.float32)
    return (np.clip(scores, 0.0, None) / top).astype(np.float32)


def convex(features: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of feature columns: ``features @ weights``."""
    return features @ np.asarray(weights, dtype=np.float32)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties broken by lower index)."""
    if k <= 0 or scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k, scores.size)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]
