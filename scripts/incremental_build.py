"""Full build of a corpus vs an incremental build after adding one document, with the real model.

    .venv/bin/python scripts/incremental_build.py corpus

Copies the corpus to a temporary folder, builds from scratch (timed), adds one document and
builds again (timed), and prints both times and how many texts each build embedded.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.embedding import Embedder
from rag.ingest import write_record
from rag.service import build, embedder_for

NEW_DOC = {"doc_id": "kites", "title": "Kites", "format": "text",
           "text": "= Kites =\n\nKites fly on strings. The first kites were made of silk and bamboo in China, "
                   "more than two thousand years ago.\n\n==Uses==\nKites were used to measure wind and to lift "
                   "antennas. Benjamin Franklin flew one in a thunderstorm.\n"}


class Counting:
    """Wraps an embedder and counts the texts embedded for documents."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.texts = inner, 0
        self.model_id, self.dim = inner.model_id, inner.dim

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        return self.inner.token_vectors(texts)  # type: ignore[attr-defined, no-any-return]


def main(corpus: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "corpus"
        shutil.copytree(corpus, work)
        settings = Settings(corpus_dir=work, index_dir=Path(tmp) / "index")
        embedder = Counting(embedder_for(settings))
        embedder.embed_query("warm up")  # load the model outside the timings
        t0 = time.perf_counter()
        build(settings, embedder=embedder)  # type: ignore[arg-type]
        full, full_texts = time.perf_counter() - t0, embedder.texts
        write_record(work, NEW_DOC)
        embedder.texts = 0
        t0 = time.perf_counter()
        build(settings, embedder=embedder)  # type: ignore[arg-type]
        incremental, inc_texts = time.perf_counter() - t0, embedder.texts
        print(f"model {embedder.model_id}")
        print(f"full build:        {full:.2f}s, {full_texts} texts embedded")
        print(f"+1 document build: {incremental:.2f}s, {inc_texts} texts embedded "
              f"({full / incremental:.1f}x faster)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus"))
