"""Citation-first retrieval: passages, sentences and answers that point to exact source characters.

Importing this package is cheap: torch, sentence-transformers, FAISS and bm25s load only when used.
"""

from __future__ import annotations

__version__ = "0.1.0"

from rag.documents import (  # noqa: E402
    Answer,
    Chunk,
    Citation,
    Document,
    Highlight,
    Passage,
    Section,
    Sentence,
)
from rag.errors import RagError  # noqa: E402

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "Highlight",
    "Passage",
    "RagError",
    "Section",
    "Sentence",
    "__version__",
]
