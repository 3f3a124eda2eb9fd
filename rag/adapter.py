"""A query-side diagonal adapter for the dense evidence: ``q' = normalize(q * w)``.

The weights ``w`` (one per dimension) were fitted on the SQuAD fit half so that a question's vector
points more at the sentence that answers it (a softmax over every sentence of the index), and
validated on the other half and on the Lyushkov questions (docs/evaluation.md). Only the
retriever's dense evidence uses the adapted vector; documents are embedded as they are, so an
index does not depend on it. It applies only to the model it was fitted for: any other embedder
(or a file that does not match its dimension) searches with the plain query vector.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

ADAPTER_FILE = Path(__file__).with_name("query_adapter.json")


@lru_cache(maxsize=8)
def query_adapter(model_id: str, dim: int, path: Path | None = None) -> np.ndarray | None:
    """The adapter's weights for ``model_id`` (float32, length ``dim``), or None when there is none."""
    try:
        data = json.loads((path or ADAPTER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    weights = np.asarray(data.get("weights", ()), dtype=np.float32)
    if data.get("model_id") != model_id or weights.shape != (dim,) or not np.isfinite(weights).all() \
            or not (weights > 0).all():
        return None
    return weights


def adapt(vector: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """``normalize(vector * weights)``; the vector itself when there are no weights (or it is zero)."""
    if weights is None:
        return vector
    out = vector * weights
    norm = float(np.linalg.norm(out))
    return (out / norm).astype(np.float32) if norm > 0 else vector
