"""Development data for the calibration scripts: SQuAD "worlds" with known answerable and unanswerable questions.

The 24 SQuAD articles are split by article into two folds (A: fit, B: validation). Each fold's
world is an index holding the fold's articles with about a quarter of their paragraphs removed
(plus the project's own corpus as a distractor). Against that index, a question is

* ``answerable`` when its paragraph was kept (gold answer offsets are mapped into the index);
* ``silent`` when its paragraph was removed and none of its gold answers occurs anywhere in the
  kept text of the article: on topic, but the corpus does not say (like "How tall was X?");
* ``offtopic`` when it belongs to an article of the other fold.

Embeddings are cached by text in ``--cache`` so re-runs do not re-embed anything.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.chunking import ChunkerConfig
from rag.documents import Document
from rag.embedding import SentenceTransformerEmbedder
from rag.loading import load_corpus, make_document
from rag.retrieval import Retriever
from rag.store import build_index, load_index


class CachingEmbedder:
    """The real model, with every vector cached by its text in an ``.npz`` file."""

    def __init__(self, path: Path) -> None:
        self.inner = SentenceTransformerEmbedder()
        self.model_id, self.dim = self.inner.model_id, self.inner.dim
        self.path = path
        self.cache: dict[str, np.ndarray] = {}
        if path.is_file():
            data = np.load(path, allow_pickle=False)
            self.cache = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        self.dirty = False

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if todo:
            for t, v in zip(todo, self.inner.embed_documents(todo), strict=True):
                self.cache[t] = v
            self.dirty = True
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        key = "\x00query\x00" + text
        if key not in self.cache:
            self.cache[key] = self.inner.embed_query(text)
            self.dirty = True
        return self.cache[key]

    def token_vectors(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        return self.inner.token_vectors(texts)

    def save(self) -> None:
        if self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            texts = list(self.cache)
            np.savez(self.path, texts=np.array(texts), vectors=np.stack([self.cache[t] for t in texts]))
            self.dirty = False


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    kind: str  # "answerable", "silent", "offtopic"
    doc_id: str | None = None
    answers: tuple[tuple[int, int, str], ...] = ()  # (start, end, text) in the indexed document


@dataclass
class World:
    name: str
    retriever: Retriever
    questions: list[Question]
    articles: list[str]


def slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", title).strip("_")[:100] or "doc"


def dropped(title: str, paragraph: int) -> bool:
    return hashlib.sha256(f"{title}\x00{paragraph}".encode()).digest()[0] < 64  # about 1 in 4


def load_squad(folder: Path) -> tuple[dict[str, list[str]], list[dict]]:
    with gzip.open(folder / "squad_dev_articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        articles = {a["title"]: a["paragraphs"] for a in map(json.loads, fh)}
    with gzip.open(folder / "squad_dev_questions.jsonl.gz", "rt", encoding="utf-8") as fh:
        questions = [json.loads(line) for line in fh]
    return articles, questions


def folds(titles: list[str]) -> tuple[list[str], list[str]]:
    ordered = sorted(titles)
    return ordered[0::2], ordered[1::2]


def build_world(name: str, titles: list[str], other: list[str], articles: dict[str, list[str]],
                questions: list[dict], corpus: Path, work: Path, embedder: CachingEmbedder,
                counts: tuple[int, int, int], seed: int = 0, drop: bool = True) -> World:
    docs: list[Document] = list(load_corpus(corpus)[0])
    offsets: dict[tuple[str, int], int] = {}
    kept_text: dict[str, str] = {}
    for title in titles:
        parts, pos = [], 0
        for p, para in enumerate(articles[title]):
            if drop and dropped(title, p):
                continue
            offsets[(title, p)] = pos
            parts.append(para)
            pos += len(para) + 2
        text = "\n\n".join(parts)
        kept_text[title] = text.casefold()
        docs.append(make_document(slug(title), text, title=title.replace("_", " ")))
    index_dir = work / name
    build_index(docs, index_dir, embedder, ChunkerConfig())
    embedder.save()
    retriever = Retriever(load_index(index_dir, embedder), embedder)
    rng = random.Random(seed)
    answerable, silent, offtopic = [], [], []
    for q in questions:
        if q["title"] in titles:
            key = (q["title"], q["paragraph_index"])
            if key in offsets:
                spans = tuple((offsets[key] + a["answer_start"], offsets[key] + a["answer_start"] + len(a["text"]),
                               a["text"]) for a in q["answers"] if a["paragraph_index"] == q["paragraph_index"])
                answerable.append(Question(q["id"], q["question"], "answerable", slug(q["title"]), spans))
            elif not any(a["text"].casefold() in kept_text[q["title"]] for a in q["answers"]):
                silent.append(Question(q["id"], q["question"], "silent", slug(q["title"])))
        elif q["title"] in other:
            offtopic.append(Question(q["id"], q["question"], "offtopic"))
    chosen = [x for group, n in zip((answerable, silent, offtopic), counts, strict=True)
              for x in rng.sample(group, min(n, len(group)))]
    return World(name, retriever, chosen, titles)
