"""The retrieval weights: feature names, Tuning (a weight per feature, per search mode) and the fitted TUNING."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SENTENCE_FEATURES = ("dense", "lexical", "coverage", "context_dense", "context_lexical", "answer_type", "bigrams",
                     "year", "name", "assertive", "length", "reference")
PASSAGE_FEATURES = ("chunk_dense", "chunk_lexical", "chunk_coverage", "best_sentence")
_LEXICAL = {"lexical", "coverage", "context_lexical", "bigrams", "chunk_lexical", "chunk_coverage"}
_DENSE = {"dense", "context_dense", "chunk_dense"}


@dataclass(frozen=True)
class Tuning:
    """Weights of ``SENTENCE_FEATURES`` (highlights) and ``PASSAGE_FEATURES`` (ranking)."""

    sentence: tuple[float, ...] = (0.6, 0.0, 0.2, 0.035, 0.02, 0.05, 0.1, 0.05, 0.02, 0.0, 0.02, 0.0)
    passage: tuple[float, ...] = (0.035, 0.0, 0.1, 0.5)

    def replace(self, **changes: Any) -> Tuning:
        return dataclasses.replace(self, **changes)

    def for_mode(self, mode: str) -> Tuning:
        """Dense mode drops the lexical features; lexical mode drops the dense ones."""
        if mode == "hybrid":
            return self
        drop = _LEXICAL if mode == "dense" else _DENSE
        return Tuning(tuple(0.0 if n in drop else w for n, w in zip(SENTENCE_FEATURES, self.sentence, strict=True)),
                      tuple(0.0 if n in drop else w for n, w in zip(PASSAGE_FEATURES, self.passage, strict=True)))


TUNING = Tuning()
