"""Shared pieces of the evaluation scripts: an on-disk embedding cache and the SQuAD fit/validation split.

Not part of the package: the experiment scripts import it (run them from the repository root).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.evaluation import EvalSet, Question
from rag.retrieval import Retriever


class CachedEmbedder:
    """Wraps an embedder; vectors are cached by sha256 of (model id, kind, text) under ``folder``."""

    def __init__(self, inner, folder: Path) -> None:  # noqa: ANN001
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._memo: dict[str, np.ndarray] = {}
        for shard in sorted(folder.glob("shard-*.npz")):
            data = np.load(shard, allow_pickle=False)
            for key, vec in zip(data["keys"], data["vectors"], strict=True):
                self._memo[str(key)] = vec
        self._shards = len(list(folder.glob("shard-*.npz")))
        self.misses = 0

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\x00{kind}\x00{text}".encode()).hexdigest()

    def _fill(self, kind: str, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(kind, t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._memo))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            todo = [by_key[k] for k in missing]
            # Queries are embedded in batches too: the same model call, so the same vectors up to float noise.
            vecs = self.inner.embed_documents(todo) if kind == "doc" or len(todo) > 1 else \
                self.inner.embed_query(todo[0])[None, :]
            self.misses += len(todo)
            for k, v in zip(missing, vecs, strict=True):
                self._memo[k] = v
            np.savez(self.folder / f"shard-{self._shards:05d}.npz", keys=np.array(missing), vectors=vecs)
            self._shards += 1
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[k] for k in keys]).astype(np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._fill("doc", texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._fill("query", [text])[0]

    def prefetch_queries(self, texts: Sequence[str]) -> None:
        self._fill("query", texts)

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Not cached: the answer's confidence reads them (rag.soft_match)."""
        return self.inner.token_vectors(texts)  # type: ignore[attr-defined, no-any-return]


def is_fit_article(doc_id: str) -> bool:
    """The fixed split of SQuAD articles: half for fitting, half for validation (by a hash of the id)."""
    return hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0


def split_squad(evalset: EvalSet) -> tuple[EvalSet, EvalSet]:
    fit = [q for q in evalset.questions if is_fit_article(q.doc_id)]
    val = [q for q in evalset.questions if not is_fit_article(q.doc_id)]
    return EvalSet("squad-fit", fit, evalset.documents), EvalSet("squad-val", val, evalset.documents)


def add_dev_arguments(p: argparse.ArgumentParser) -> None:
    """--squad and --lyushkov (both required), --corpus (for the Lyushkov file) and --cache (embeddings)."""
    p.add_argument("--squad", type=Path, required=True)
    p.add_argument("--lyushkov", type=Path, required=True)
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rag-eval-cache")


def dev_retrievers(args: argparse.Namespace, folder: Path) -> tuple[dict[str, tuple[Retriever, list[Question]]],
                                                                    CachedEmbedder]:
    """Retrievers of the default method, indexed under ``folder``, with each set's questions (unanswerable
    ones too): ``squad-fit`` and ``squad-val`` share the SQuAD index, ``lyushkov`` has the corpus's."""
    from rag.config import Settings
    from rag.embedding import get_embedder
    from rag.evaluation import build_retriever, load_lyushkov, load_squad
    from rag.loading import load_corpus

    embedder = CachedEmbedder(get_embedder("sentence-transformers"), args.cache)
    squad = load_squad(args.squad)
    fit, val = split_squad(squad)
    retriever, _ = build_retriever(squad, Settings(), folder / "squad", embedder)
    ly = load_lyushkov(args.lyushkov)
    ly.documents = load_corpus(args.corpus)[0]
    r2, _ = build_retriever(EvalSet("ly", ly.questions, ly.documents), Settings(), folder / "ly", embedder)
    return {"squad-fit": (retriever, fit.questions), "squad-val": (retriever, val.questions),
            "lyushkov": (r2, ly.questions)}, embedder
